//! One file per architecture: read hyper-parameters, bind tensors, run the forward pass
//! on the shared blocks.

pub mod deepseek2;
pub mod dense;
pub mod llama;
pub mod qwen2;

use super::blocks::gqa_attention::GqaShape;
use super::blocks::linear::linear;
use super::blocks::Ctx;
use super::ops::rms_norm;
use super::ops::{yarn_corr_dims, Rope, RopeMode};
use super::ModelError;
use crate::gguf::PerLayer;
use crate::kv_cache::{KvCache, KvError};
use crate::schema::{Hparams, RopeScalingType};
use crate::weights::WeightRef;
use dense::DenseConfig;

pub(crate) fn uniform(name: &str, v: &PerLayer) -> Result<usize, ModelError> {
    match v {
        PerLayer::Uniform(x) => Ok(*x as usize),
        PerLayer::Layers(_) => Err(ModelError::Unsupported(format!("per-layer {name} values"))),
    }
}

/// The residual stream for `tokens` at positions `pos0..`: their embedding rows, after
/// checking that they fit the cache and the vocabulary.
pub(crate) fn embed(
    ctx: &Ctx<'_>,
    token_embd: &WeightRef,
    tokens: &[u32],
    pos0: usize,
    cache: &KvCache,
) -> Result<Vec<f32>, ModelError> {
    let (d, vocab) = (token_embd.k(), token_embd.rows());
    if pos0 + tokens.len() > cache.n_ctx() {
        return Err(KvError::Full {
            pos: pos0 + tokens.len(),
            n_ctx: cache.n_ctx(),
        }
        .into());
    }
    let mut x = vec![0f32; tokens.len() * d];
    for (&t, row) in tokens.iter().zip(x.chunks_exact_mut(d)) {
        if t as usize >= vocab {
            return Err(ModelError::TokenOutOfRange { token: t, vocab });
        }
        ctx.weights
            .dequantize_row(ctx.kernels, token_embd, t as usize, row);
    }
    Ok(x)
}

/// Final norm and output head over the last row of `x` (or every row when
/// `all_logits`): `[rows][vocab]`.
pub(crate) fn output_logits(
    ctx: &Ctx<'_>,
    x: &[f32],
    norm: &[f32],
    eps: f32,
    output: &WeightRef,
    bias: Option<&[f32]>,
    all_logits: bool,
) -> Result<Vec<f32>, ModelError> {
    let d = norm.len();
    let rows: Vec<&[f32]> = if all_logits {
        x.chunks_exact(d).collect()
    } else {
        x.chunks_exact(d).last().into_iter().collect()
    };
    let mut h = vec![0f32; rows.len() * d];
    for (xi, hi) in rows.iter().zip(h.chunks_exact_mut(d)) {
        rms_norm(xi, norm, eps, hi);
    }
    linear(ctx, output, &h, bias)
}

/// RoPE settings shared by the dense architectures.
pub(crate) fn rope_from(h: &Hparams, mode: RopeMode) -> Result<Rope, ModelError> {
    let c = &h.common;
    let s = &c.rope_scaling;
    let n_rot = c.n_rot as usize;
    let plain = |freq_scale: f32| Rope {
        mode,
        n_rot,
        base: c.rope_freq_base,
        freq_scale,
        freq_factors: None,
        ext_factor: 0.0,
        attn_factor: 1.0,
        corr_dims: [0.0, 0.0],
    };
    match s.kind {
        RopeScalingType::None => Ok(plain(1.0)),
        RopeScalingType::Linear => Ok(plain(1.0 / s.factor)),
        RopeScalingType::Yarn => Ok(Rope {
            ext_factor: s.yarn_ext_factor,
            attn_factor: s.attn_factor,
            corr_dims: yarn_corr_dims(
                n_rot,
                s.original_context_length,
                c.rope_freq_base,
                s.yarn_beta_fast,
                s.yarn_beta_slow,
            ),
            ..plain(1.0 / s.factor)
        }),
        RopeScalingType::Longrope => Err(ModelError::Unsupported(format!(
            "longrope RoPE scaling for {} models",
            h.arch
        ))),
    }
}

pub(crate) fn dense_config(
    h: &Hparams,
    mode: RopeMode,
    qkv_bias: bool,
) -> Result<DenseConfig, ModelError> {
    let c = &h.common;
    let n_head = uniform("head_count", &c.n_head)?;
    let n_head_kv = uniform("head_count_kv", &c.n_head_kv)?;
    let head_dim = c.key_length as usize;
    if n_head == 0 || n_head_kv == 0 || n_head % n_head_kv != 0 {
        return Err(ModelError::Unsupported(format!(
            "{n_head} heads with {n_head_kv} KV heads"
        )));
    }
    if c.value_length != c.key_length || c.n_rot as usize > head_dim || !c.n_rot.is_multiple_of(2) {
        return Err(ModelError::Unsupported(format!(
            "head dims k {} / v {} with {} rotated dims",
            c.key_length, c.value_length, c.n_rot
        )));
    }
    Ok(DenseConfig {
        n_layer: c.n_layer as usize,
        n_ff: uniform("feed_forward_length", &c.n_ff)?,
        vocab: c.vocab_size as usize,
        attn: GqaShape {
            d: c.n_embd as usize,
            n_head,
            n_head_kv,
            head_dim,
            eps: c.rms_eps,
            kq_scale: c.attention_scale.unwrap_or(1.0 / (head_dim as f32).sqrt()),
        },
        rope: rope_from(h, mode)?,
        qkv_bias,
    })
}
