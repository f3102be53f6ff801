//! The model: ops (matmul over `simd::Kernels`, norms, RoPE, …), blocks and
//! architectures. Today it holds the matrix kernels the forward passes will call.

pub mod ops;
