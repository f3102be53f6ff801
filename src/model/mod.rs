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
use crate::weights::experts::ExpertError;
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
    #[error("not supported yet: {0}")]
    Unsupported(String),
    #[error("token id {token} is outside the vocabulary ({vocab} entries)")]
    TokenOutOfRange { token: u32, vocab: usize },
}

/// A loaded model of any supported architecture.
#[derive(Debug)]
pub enum Model {
    Dense(DenseTransformer),
    Deepseek2(Deepseek2),
}

impl Model {
    pub fn load(w: &Weights, h: &Hparams) -> Result<Model, ModelError> {
        let cfg = match h.arch {
            Arch::Llama => archs::llama::config(h, w)?,
            Arch::Qwen2 => archs::qwen2::config(h)?,
            Arch::Deepseek2 => {
                let cfg = archs::deepseek2::config(h)?;
                return Ok(Model::Deepseek2(Deepseek2::bind(w, cfg)?));
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
