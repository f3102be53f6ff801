//! Blocks shared by the architectures: GQA attention, the dense SiLU-gated FFN, and the
//! batched linear layer under both.

pub mod dense_ffn;
pub mod gqa_attention;
pub mod linear;

use bitmoe_simd::Kernels;

use crate::weights::Weights;

/// What every block needs to run: kernels, the thread pool, the weights.
#[derive(Clone, Copy)]
pub struct Ctx<'a> {
    pub kernels: &'a Kernels,
    pub pool: &'a rayon::ThreadPool,
    pub weights: &'a Weights,
}
