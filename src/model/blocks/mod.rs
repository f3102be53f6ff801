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
/// record expert choices and activations when asked.
#[derive(Clone, Copy)]
pub struct Ctx<'a> {
    pub kernels: &'a Kernels,
    pub pool: &'a rayon::ThreadPool,
    pub weights: &'a Weights,
    pub routing_trace: Option<&'a RoutingTrace>,
    pub observer: Option<&'a dyn ActivationObserver>,
}

/// Sees the input of every linear layer (`bitmoe imatrix` collects per-column Σx²).
pub trait ActivationObserver: Send + Sync {
    /// `weights`: the matrix's bytes (where they live says which tensor and, for a
    /// 3-D expert tensor, which expert); `x`: its input rows of `k` values.
    fn observe(&self, weights: &[u8], x: &[f32], k: usize);
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
