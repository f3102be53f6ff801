//! The model: ops (matmul over `simd::Kernels`, norms, RoPE, softmax), blocks (GQA
//! and MLA attention, dense and MoE FFN) and architectures (llama, qwen2, deepseek2).
//!
//! [`Model`] is the one interface the engine uses: load from weights + hyper-parameters,
//! make a cache, run a batch of tokens and get logits.

pub mod archs;
pub mod blocks;
pub mod ops;

use crate::kv_cache::{KvCache, KvError};
use crate::schema::{Arch, Hparams};
use crate::weights::experts::{CacheError, CacheStats, ExpertError, ExpertSource};
use crate::weights::{Weights, WeightsError};
use archs::deepseek2::Deepseek2;
use archs::dense::DenseTransformer;
use blocks::Ctx;
use ops::MatmulError;

/// Why a model cannot load or run.
#[derive(Debug, thiserror::Error)]
pub enum ModelError {
    #[error(transparent)]
    Weights(#[from] WeightsError),
    #[error(transparent)]
    Kv(#[from] KvError),
    #[error(transparent)]
    Matmul(#[from] MatmulError),
    #[error(transparent)]
    Experts(#[from] ExpertError),
    #[error(transparent)]
    Cache(#[from] CacheError),
    #[error("not supported yet: {0}")]
    Unsupported(String),
    #[error("token id {token} is outside the vocabulary ({vocab} entries)")]
    TokenOutOfRange { token: u32, vocab: usize },
}

/// Where routed experts are read from.
#[derive(Debug, Clone, Copy, PartialEq)]
pub enum ExpertPlacement {
    /// Straight from the mapped file (the OS pages them).
    Mmap,
    /// Through the expert cache: at most `budget` bytes of slabs, `readers` I/O threads,
    /// optionally reading the next layer's guessed experts ahead.
    Cache {
        budget: u64,
        readers: usize,
        prefetch: bool,
    },
}

/// A loaded model of any supported architecture.
#[derive(Debug)]
pub enum Model {
    Dense(DenseTransformer),
    Deepseek2(Deepseek2),
}

impl Model {
    /// Loads with routed experts (if any) read through the mapped file.
    pub fn load(w: &Weights, h: &Hparams) -> Result<Model, ModelError> {
        Self::load_with(w, h, ExpertPlacement::Mmap)
    }

    pub fn load_with(
        w: &Weights,
        h: &Hparams,
        experts: ExpertPlacement,
    ) -> Result<Model, ModelError> {
        let cfg = match h.arch {
            Arch::Llama => archs::llama::config(h, w)?,
            Arch::Qwen2 => archs::qwen2::config(h)?,
            Arch::Deepseek2 => {
                let cfg = archs::deepseek2::config(h)?;
                return Ok(Model::Deepseek2(Deepseek2::bind(w, cfg, experts)?));
            }
        };
        Ok(Model::Dense(DenseTransformer::bind(w, cfg)?))
    }

    pub fn vocab(&self) -> usize {
        match self {
            Model::Dense(m) => m.config().vocab,
            Model::Deepseek2(m) => m.config().vocab,
        }
    }

    /// Where routed experts come from (`None`: the model has none).
    pub fn expert_source(&self) -> Option<&dyn ExpertSource> {
        match self {
            Model::Dense(_) => None,
            Model::Deepseek2(m) => Some(m.expert_source()),
        }
    }

    /// The expert cache's counters, when experts go through one.
    pub fn expert_cache_stats(&self) -> Option<CacheStats> {
        match self {
            Model::Dense(_) => None,
            Model::Deepseek2(m) => m.expert_cache_stats(),
        }
    }

    /// Empties the expert cache (for cold-start measurements).
    pub fn drop_cached_experts(&self) {
        if let Model::Deepseek2(m) = self {
            m.drop_cached_experts();
        }
    }

    pub fn new_cache(&self, n_ctx: usize) -> KvCache {
        match self {
            Model::Dense(m) => m.new_cache(n_ctx),
            Model::Deepseek2(m) => m.new_cache(n_ctx),
        }
    }

    /// Runs `tokens` at positions `pos0..`; logits of the last token (or all).
    pub fn forward(
        &self,
        ctx: &Ctx<'_>,
        tokens: &[u32],
        pos0: usize,
        cache: &mut KvCache,
        all_logits: bool,
    ) -> Result<Vec<f32>, ModelError> {
        match self {
            Model::Dense(m) => m.forward(ctx, tokens, pos0, cache, all_logits),
            Model::Deepseek2(m) => m.forward(ctx, tokens, pos0, cache, all_logits),
        }
    }
}
