//! Routed experts behind one interface: the MoE block computes routing, then asks an
//! [`ExpertSource`] for the weights of (layer, expert): the mapped file
//! ([`MmapExperts`], plain OS paging) or the budgeted expert-paging cache
//! ([`ExpertCache`]: direct reads, an eviction [`policy`], pins from a saved usage
//! [`profile`]); the forward pass is the same for both.
//!
//! The unit is one expert of one layer: its gate, up and down slices, each a 2-D
//! slice of the 3-D `ffn_*_exps` tensors (`{k, rows, n_expert}`, experts outermost, so
//! one expert's rows are contiguous in the file). The three may have different types.

mod cache;
pub mod io;
mod mmap;
pub mod policy;
pub mod profile;
mod stats;

pub use cache::{CacheError, ExpertCache};
pub use mmap::MmapExperts;
pub use profile::{ExpertProfile, ProfileError};
pub use stats::CacheStats;

use crate::model::ops::QMatrix;
use crate::schema::TensorKind;
use crate::weights::{WeightRef, Weights, WeightsError};

/// Why an expert's weights cannot be provided.
#[derive(Debug, thiserror::Error)]
pub enum ExpertError {
    #[error("layer {layer} has no routed experts")]
    NotMoeLayer { layer: usize },
    #[error("expert {expert} of layer {layer} is out of range ({n_expert} experts)")]
    OutOfRange {
        layer: usize,
        expert: usize,
        n_expert: usize,
    },
    #[error("{0}")]
    Read(String),
}

/// One expert's three matrices: gate `[n_ff_exp × d]`, up `[n_ff_exp × d]`, down
/// `[d × n_ff_exp]` (rows × row length).
#[derive(Debug, Clone, Copy)]
pub struct ExpertMats<'a> {
    pub gate: QMatrix<'a>,
    pub up: QMatrix<'a>,
    pub down: QMatrix<'a>,
}

/// Where routed-expert weights come from.
pub trait ExpertSource: Send + Sync + std::fmt::Debug {
    /// Announces every expert `layer` will use for the current batch before the first
    /// is needed, so a cache can issue all its misses at once. Default: nothing to do.
    fn request(&self, _layer: usize, _experts: &[usize]) {}

    /// A guess at experts `layer` will want soon (read after every demand read, never
    /// evicting the current layer's experts). Default: nothing to do.
    fn prefetch(&self, _layer: usize, _experts: &[usize]) {}

    /// Whether [`ExpertSource::prefetch`] does anything (guesses cost a router pass).
    fn prefetches(&self) -> bool {
        false
    }

    /// Runs `f` with the weights of `expert` of `layer` (waiting for them if they are
    /// still being read). The matrices are valid only during the call.
    fn with_expert(
        &self,
        weights: &Weights,
        layer: usize,
        expert: usize,
        f: &mut dyn FnMut(ExpertMats<'_>),
    ) -> Result<(), ExpertError>;

    /// Cache counters, for sources that cache.
    fn cache_stats(&self) -> Option<CacheStats> {
        None
    }

    /// Reads `experts` ((layer, expert) pairs, most wanted first) now and keeps them
    /// for good, as many as leave room for one layer's experts; returns how many are
    /// pinned. An expert out of range or a failed read is an error. Default: nothing
    /// to pin into.
    fn pin(&self, _experts: &[(usize, usize)]) -> Result<usize, ExpertError> {
        Ok(0)
    }

    /// The order to compute `experts` of `layer` in (indices into `experts`): a cache
    /// puts the ones already in memory first, so they compute while the others are
    /// read. Default: as given.
    fn compute_order(&self, _layer: usize, experts: &[usize]) -> Vec<usize> {
        (0..experts.len()).collect()
    }

    /// Forgets every cached expert (not pinned ones), so the next uses read from disk:
    /// `bench --cold`. Default: nothing cached.
    fn drop_cached(&self) {}
}

/// `layers[layer]`, checked to be a MoE layer that has `expert` — the argument checks
/// every [`ExpertSource`] makes.
fn moe_layer<T>(
    layers: &[Option<T>],
    n_expert: impl Fn(&T) -> usize,
    layer: usize,
    expert: usize,
) -> Result<&T, ExpertError> {
    let t = layers
        .get(layer)
        .and_then(Option::as_ref)
        .ok_or(ExpertError::NotMoeLayer { layer })?;
    let n_expert = n_expert(t);
    if expert >= n_expert {
        return Err(ExpertError::OutOfRange {
            layer,
            expert,
            n_expert,
        });
    }
    Ok(t)
}

/// The three 3-D expert tensors of one MoE layer, bound and shape-checked.
#[derive(Debug, Clone)]
pub struct ExpertTensors {
    pub gate: WeightRef, // [d, n_ff_exp, n_expert]
    pub up: WeightRef,   // [d, n_ff_exp, n_expert]
    pub down: WeightRef, // [n_ff_exp, d, n_expert]
    pub n_expert: usize,
}

impl ExpertTensors {
    pub fn bind(
        w: &Weights,
        layer: usize,
        d: usize,
        n_ff_exp: usize,
        n_expert: usize,
    ) -> Result<ExpertTensors, WeightsError> {
        use TensorKind::*;
        Ok(ExpertTensors {
            gate: w.bind(FfnGateExps, layer, &[d, n_ff_exp, n_expert])?,
            up: w.bind(FfnUpExps, layer, &[d, n_ff_exp, n_expert])?,
            down: w.bind(FfnDownExps, layer, &[n_ff_exp, d, n_expert])?,
            n_expert,
        })
    }

    /// Bytes of one expert (gate + up + down).
    pub fn expert_bytes(&self) -> usize {
        [&self.gate, &self.up, &self.down]
            .iter()
            .map(|t| t.n_bytes() / self.n_expert)
            .sum()
    }

    /// Expert `e`'s slice of `t`, a 2-D matrix of `t.dims[1]` rows.
    fn slice<'w>(&self, weights: &'w Weights, t: &WeightRef, e: usize) -> QMatrix<'w> {
        let bytes = weights.bytes(t);
        let per = bytes.len() / self.n_expert;
        QMatrix::new(t.ty, t.dims[0], t.dims[1], &bytes[e * per..(e + 1) * per])
            .expect("shape and type checked at bind")
    }

    /// The matrices of expert `e` (< `n_expert`) straight from the mapped file.
    pub fn mapped<'w>(&self, weights: &'w Weights, e: usize) -> ExpertMats<'w> {
        ExpertMats {
            gate: self.slice(weights, &self.gate, e),
            up: self.slice(weights, &self.up, e),
            down: self.slice(weights, &self.down, e),
        }
    }
}
