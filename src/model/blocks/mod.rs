//! Blocks shared by the architectures: GQA and MLA attention, the dense SiLU-gated FFN,
//! the MoE FFN, and the batched linear layer under all of them.

pub mod dense_ffn;
pub mod gqa_attention;
pub mod linear;
pub mod mla_attention;
pub mod moe_ffn;

use bitmoe_simd::Kernels;

use crate::weights::Weights;

/// What every block needs to run: kernels, the thread pool, the weights, and where to
/// record expert choices when asked.
#[derive(Clone, Copy)]
pub struct Ctx<'a> {
    pub kernels: &'a Kernels,
    pub pool: &'a rayon::ThreadPool,
    pub weights: &'a Weights,
    pub routing_trace: Option<&'a RoutingTrace>,
}

/// One MoE layer's expert choice for one token.
#[derive(Debug, Clone, PartialEq, serde::Serialize)]
pub struct RouteRecord {
    pub layer: usize,
    pub pos: usize,
    /// Chosen experts, best selection score first.
    pub experts: Vec<usize>,
    /// Closest call of the choice ([`crate::model::ops::Router::route_with_margin`]).
    pub margin: f32,
}

/// Expert choices of every MoE layer, appended as the forward pass runs.
pub type RoutingTrace = std::sync::Mutex<Vec<RouteRecord>>;
