//! One file per architecture: read hyper-parameters, bind tensors, run the forward pass
//! on the shared blocks.

pub mod deepseek2;
pub mod dense;
pub mod llama;
pub mod qwen2;

use super::blocks::gqa_attention::GqaShape;
use super::ops::{yarn_corr_dims, Rope, RopeMode};
use super::ModelError;
use crate::gguf::PerLayer;
use crate::schema::{Hparams, RopeScalingType};
use dense::DenseConfig;

pub(crate) fn uniform(name: &str, v: &PerLayer) -> Result<usize, ModelError> {
    match v {
        PerLayer::Uniform(x) => Ok(*x as usize),
        PerLayer::Layers(_) => Err(ModelError::Unsupported(format!("per-layer {name} values"))),
    }
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
