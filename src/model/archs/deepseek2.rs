//! `deepseek2` (DeepSeek-V2/V3, R1; spec `deepseek2.md`): embedding row → L × (MLA
//! attention, then a dense SwiGLU FFN for the first `leading_dense_block_count` blocks
//! or the MoE block after) → final norm → output head.
//!
//! YaRN as llama.cpp applies it to this architecture (§5): the rotation's magnitude
//! correction is cancelled (`attn_factor = 1 / (1 + 0.1 ln s)`), and the softmax scale
//! carries it instead: `kq_scale = mscale² / √(nope + rope)` with
//! `mscale = 1 + yarn_log_multiplier · ln s` (R1: 0.1 · ln 40 → 0.13523).
//!
//! Routed experts come from an [`ExpertSource`] (by default the mapped file).

use super::{rope_from, uniform};
use crate::kv_cache::KvCache;
use crate::model::blocks::dense_ffn::DenseFfn;
use crate::model::blocks::mla_attention::{MlaAttention, MlaShape};
use crate::model::blocks::moe_ffn::{MoeFfn, MoeShape};
use crate::model::blocks::Ctx;
use crate::model::ops::{ExpertGroups, Rope, RopeMode, Router};
use crate::model::{ExpertPlacement, ModelError};
use crate::schema::{Deepseek2Params, Hparams, RopeScalingType, TensorKind};
use crate::weights::experts::{CacheStats, ExpertCache, ExpertSource, ExpertTensors, MmapExperts};
use crate::weights::{WeightRef, Weights};

/// Everything the deepseek2 forward pass needs to know.
#[derive(Debug, Clone)]
pub struct Deepseek2Config {
    pub n_layer: usize,
    pub n_dense_lead: usize,
    pub vocab: usize,
    /// Dense FFN width of the leading blocks.
    pub n_ff: usize,
    pub attn: MlaShape,
    pub moe: MoeShape,
    pub router: Router,
    pub rope: Rope,
}

pub fn config(h: &Hparams) -> Result<Deepseek2Config, ModelError> {
    let c = &h.common;
    let p: &Deepseek2Params = h
        .deepseek2
        .as_ref()
        .ok_or_else(|| ModelError::Unsupported("deepseek2 without its MLA/MoE keys".into()))?;
    let n_rot = c.n_rot as usize;
    // New files: key_length_mla / value_length_mla are the per-head widths and
    // key_length / value_length the absorbed ones; legacy files only the former.
    let qk = p.key_length_mla.unwrap_or(c.key_length) as usize;
    let v = p.value_length_mla.unwrap_or(c.value_length) as usize;
    let kv_lora = p.kv_lora_rank as usize;
    if n_rot == 0 || !n_rot.is_multiple_of(2) || qk <= n_rot || v == 0 || kv_lora == 0 {
        return Err(ModelError::Unsupported(format!(
            "MLA head dims qk {qk}, v {v}, rope {n_rot}, kv_lora {kv_lora}"
        )));
    }
    let n_layer = c.n_layer as usize;
    let n_dense_lead = (p.leading_dense_blocks as usize).min(n_layer);
    let mut rope = rope_from(h, RopeMode::Norm)?;
    let s = &c.rope_scaling;
    let mut mscale = 1.0f32;
    if s.kind == RopeScalingType::Yarn && s.factor > 0.0 {
        let ln_s = (1.0 / rope.freq_scale).ln();
        rope.attn_factor = 1.0 / (1.0 + 0.1 * ln_s);
        mscale = s.attn_factor * (1.0 + s.yarn_log_multiplier.unwrap_or(0.0) * ln_s);
    }
    let n_expert = p.expert_count as usize;
    let n_used = p.expert_used_count as usize;
    if n_layer > n_dense_lead && (n_expert == 0 || n_used == 0 || n_used > n_expert) {
        return Err(ModelError::Unsupported(format!(
            "{n_used} of {n_expert} experts per token"
        )));
    }
    let groups = match (p.expert_group_count, p.expert_group_used_count) {
        (Some(g), Some(u)) if g > 1 => {
            if !n_expert.is_multiple_of(g as usize) || u == 0 || u > g {
                return Err(ModelError::Unsupported(format!(
                    "{n_expert} experts in {g} groups, {u} used"
                )));
            }
            Some(ExpertGroups {
                n_group: g as usize,
                topk_group: u as usize,
            })
        }
        _ => None,
    };
    let d = c.n_embd as usize;
    Ok(Deepseek2Config {
        n_layer,
        n_dense_lead,
        vocab: c.vocab_size as usize,
        n_ff: uniform("feed_forward_length", &c.n_ff)?,
        attn: MlaShape {
            d,
            n_head: uniform("head_count", &c.n_head)?,
            q_lora: p.q_lora_rank.map(|r| r as usize),
            kv_lora,
            nope: qk - n_rot,
            rope: n_rot,
            v,
            eps: c.rms_eps,
            kq_scale: mscale * mscale / (qk as f32).sqrt(),
        },
        moe: MoeShape {
            d,
            n_expert,
            n_ff_exp: p.expert_ff as usize,
            n_shared: p.expert_shared_count as usize,
            eps: c.rms_eps,
        },
        router: Router {
            gating: p.gating,
            n_used,
            groups,
            norm: p.expert_weights_norm,
            scale: p.expert_weights_scale,
        },
        rope,
    })
}

#[derive(Debug)]
enum Ffn {
    Dense(DenseFfn),
    Moe(MoeFfn),
}

#[derive(Debug)]
struct Layer {
    attn: MlaAttention,
    ffn: Ffn,
}

#[derive(Debug)]
pub struct Deepseek2 {
    cfg: Deepseek2Config,
    token_embd: WeightRef,
    output_norm: Vec<f32>,
    output: WeightRef,
    layers: Vec<Layer>,
    experts: Box<dyn ExpertSource>,
}

impl Deepseek2 {
    /// Binds every tensor; routed experts are read as `placement` says.
    pub fn bind(
        w: &Weights,
        cfg: Deepseek2Config,
        placement: ExpertPlacement,
    ) -> Result<Deepseek2, ModelError> {
        let m = cfg.moe;
        let expert_tensors = (0..cfg.n_layer)
            .map(|i| {
                (i >= cfg.n_dense_lead)
                    .then(|| ExpertTensors::bind(w, i, m.d, m.n_ff_exp, m.n_expert))
                    .transpose()
            })
            .collect::<Result<Vec<_>, _>>()?;
        let source: Box<dyn ExpertSource> = match placement {
            ExpertPlacement::Mmap => Box::new(MmapExperts::new(expert_tensors)),
            ExpertPlacement::Cache {
                budget,
                readers,
                prefetch,
            } => {
                let paths: Vec<&std::path::Path> =
                    w.file().parts().iter().map(|p| p.path()).collect();
                Box::new(ExpertCache::new(
                    &paths,
                    expert_tensors,
                    budget,
                    cfg.router.n_used,
                    readers,
                    prefetch,
                )?)
            }
        };
        Self::bind_with(w, cfg, source)
    }

    pub fn expert_source(&self) -> &dyn ExpertSource {
        self.experts.as_ref()
    }

    pub fn expert_cache_stats(&self) -> Option<CacheStats> {
        self.experts.cache_stats()
    }

    pub fn drop_cached_experts(&self) {
        self.experts.drop_cached();
    }

    /// Binds every tensor but the routed experts, which `experts` provides.
    pub fn bind_with(
        w: &Weights,
        cfg: Deepseek2Config,
        experts: Box<dyn ExpertSource>,
    ) -> Result<Deepseek2, ModelError> {
        let d = cfg.attn.d;
        let token_embd = w.bind(TensorKind::TokenEmbd, 0, &[d, cfg.vocab])?;
        let output = w
            .bind_optional(TensorKind::Output, 0, &[d, cfg.vocab])?
            .unwrap_or_else(|| token_embd.clone());
        let layers = (0..cfg.n_layer)
            .map(|i| {
                let ffn = if i < cfg.n_dense_lead {
                    Ffn::Dense(DenseFfn::bind(w, i, d, cfg.n_ff, cfg.attn.eps)?)
                } else {
                    Ffn::Moe(MoeFfn::bind(w, i, cfg.moe, cfg.router.clone())?)
                };
                Ok(Layer {
                    attn: MlaAttention::bind(w, i, cfg.attn)?,
                    ffn,
                })
            })
            .collect::<Result<Vec<_>, ModelError>>()?;
        Ok(Deepseek2 {
            output_norm: w.f32_vector(TensorKind::OutputNorm, 0, d)?,
            token_embd,
            output,
            layers,
            experts,
            cfg,
        })
    }

    pub fn config(&self) -> &Deepseek2Config {
        &self.cfg
    }

    /// The latent cache: `kv_lora + rope` values per token per layer.
    pub fn new_cache(&self, n_ctx: usize) -> KvCache {
        KvCache::latent(self.cfg.n_layer, n_ctx, self.cfg.attn.cache_dim())
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
            match &layer.ffn {
                Ffn::Dense(f) => f.forward(ctx, &mut x)?,
                Ffn::Moe(f) => {
                    let next = match self.layers.get(i + 1).map(|l| &l.ffn) {
                        Some(Ffn::Moe(n)) => Some(n),
                        _ => None,
                    };
                    f.forward(ctx, self.experts.as_ref(), &mut x, pos0, next)?
                }
            }
        }
        super::output_logits(
            ctx,
            &x,
            &self.output_norm,
            self.cfg.attn.eps,
            &self.output,
            None,
            all_logits,
        )
    }
}
