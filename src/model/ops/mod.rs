//! Numeric operations of the forward pass, all matmuls through `bitmoe_simd::Kernels`.

pub mod matmul;

pub use matmul::{matmul, Activations, MatmulError, QMatrix};
