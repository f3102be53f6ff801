//! bitmoe-simd: block layouts of every GGML quant type bitmoe reads, a scalar reference
//! for each kernel, hand-written AVX2 / AVX-512 / NEON versions and runtime dispatch.
//!
//! This crate knows nothing about files, tensors or models: it takes byte slices of
//! blocks and activation vectors and returns numbers. The engine uses it in three steps:
//!
//! 1. once at start-up, [`Isa::detect`] finds what the CPU and OS enable (capped by the
//!    `BITMOE_ISA` environment variable) and [`Kernels::new`] picks a function pointer per
//!    type and operation;
//! 2. per matmul, the activation row is converted with
//!    `kernels.quantize(w_type.vec_dot_type())` (f32 → Q8_K / Q8_0 / Q8_1 / F16 / BF16,
//!    exactly as llama.cpp's CPU backend does);
//! 3. per output, `kernels.vec_dot(w_type)` of a weight row and the converted row; for
//!    several activation rows, `kernels.vec_dot_n(w_type)`, which decodes each weight
//!    block once for up to [`DOT_N_WIDTH`] of them.
//!
//! Modules, in dependency order: [`types`] (GGML ids and geometry) → [`tables`]
//! (codebooks as embedded data) → [`blocks`] (layouts and scalar references, the
//! oracle) → `arch` (ISA kernels, private, each tested against `blocks`) → [`isa`]
//! (detection) → [`kernels`] (dispatch table).
//!
//! Bit-exactness contract (see `shared/spec/quant-formats.md` §6–§8): activation
//! quantizers reproduce llama.cpp's reference bytes; per-block integer sums of every
//! kernel are exact; float combinations may differ from the scalar reference only by
//! summation order.

mod arch;
pub mod blocks;
pub mod isa;
pub mod kernels;
pub mod prefetch;
pub mod quantize;
pub mod tables;
pub mod types;

pub use isa::Isa;
pub use kernels::{
    DequantizeFn, Kernels, QuantizeFn, TypeKernels, VecDotFn, VecDotManyFn, VecDotN, DOT_N_WIDTH,
};
pub use types::GgmlType;
