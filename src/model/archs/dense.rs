//! The dense decoder-only transformer shared by `llama` and `qwen2` (spec
//! `dense-models.md` §3): embedding row → L × (GQA attention, SiLU FFN) → final norm →
//! output head (`output.weight`, or `token_embd.weight` when tied).
//!
//! The architecture files (`llama.rs`, `qwen2.rs`) only read hyper-parameters into a
//! [`DenseConfig`]; binding and the forward pass live here.

use crate::kv_cache::KvCache;
use crate::model::blocks::dense_ffn::DenseFfn;
use crate::model::blocks::gqa_attention::{GqaAttention, GqaShape};
use crate::model::blocks::Ctx;
use crate::model::ops::Rope;
use crate::model::ModelError;
use crate::schema::TensorKind;
use crate::weights::{WeightRef, Weights};

/// Everything the dense transformer needs to know, per architecture.
#[derive(Debug, Clone)]
pub struct DenseConfig {
    pub n_layer: usize,
    pub n_ff: usize,
    pub vocab: usize,
    pub attn: GqaShape,
    pub rope: Rope,
    /// q/k/v biases required (qwen2).
    pub qkv_bias: bool,
}

#[derive(Debug)]
struct Layer {
    attn: GqaAttention,
    ffn: DenseFfn,
}

#[derive(Debug)]
pub struct DenseTransformer {
    cfg: DenseConfig,
    token_embd: WeightRef,         // [d, vocab]
    output_norm: Vec<f32>,         // [d]
    output: WeightRef,             // [d, vocab]; token_embd when tied
    output_bias: Option<Vec<f32>>, // [vocab]
    layers: Vec<Layer>,
}

impl DenseTransformer {
    pub fn bind(w: &Weights, cfg: DenseConfig) -> Result<DenseTransformer, ModelError> {
        let d = cfg.attn.d;
        let token_embd = w.bind(TensorKind::TokenEmbd, 0, &[d, cfg.vocab])?;
        let output = w
            .bind_optional(TensorKind::Output, 0, &[d, cfg.vocab])?
            .unwrap_or_else(|| token_embd.clone());
        let layers = (0..cfg.n_layer)
            .map(|i| {
                Ok(Layer {
                    attn: GqaAttention::bind(w, i, cfg.attn, cfg.qkv_bias)?,
                    ffn: DenseFfn::bind(w, i, d, cfg.n_ff, cfg.attn.eps)?,
                })
            })
            .collect::<Result<Vec<_>, ModelError>>()?;
        Ok(DenseTransformer {
            output_norm: w.f32_vector(TensorKind::OutputNorm, 0, d)?,
            output_bias: w.f32_vector_optional(TensorKind::OutputBias, 0, cfg.vocab)?,
            token_embd,
            output,
            layers,
            cfg,
        })
    }

    pub fn config(&self) -> &DenseConfig {
        &self.cfg
    }

    /// A KV cache for `n_ctx` positions.
    pub fn new_cache(&self, n_ctx: usize) -> KvCache {
        let a = &self.cfg.attn;
        KvCache::new(self.cfg.n_layer, n_ctx, a.n_head_kv * a.head_dim)
    }

    /// Runs `tokens` at positions `pos0..`, filling the cache; returns the logits of the
    /// last token, or of every token when `all_logits` (`[n][vocab]`).
    pub fn forward(
        &self,
        ctx: &Ctx<'_>,
        tokens: &[u32],
        pos0: usize,
        cache: &mut KvCache,
        all_logits: bool,
    ) -> Result<Vec<f32>, ModelError> {
        let mut x = super::embed(ctx, &self.token_embd, tokens, pos0, cache)?;
        for (i, layer) in self.layers.iter().enumerate() {
            layer
                .attn
                .forward(ctx, &self.cfg.rope, i, &mut x, pos0, cache)?;
            layer.ffn.forward(ctx, &mut x)?;
        }
        super::output_logits(
            ctx,
            &x,
            &self.output_norm,
            self.cfg.attn.eps,
            &self.output,
            self.output_bias.as_deref(),
            all_logits,
        )
    }
}
