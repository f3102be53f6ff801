//! Grouped-query attention over the f16 KV cache (llama, qwen2).
//!
//! For each token t of the batch at absolute position p = pos0 + t:
//! `h = rmsnorm(x_t)`, `q = Wq·h (+bq)`, `k = Wk·h (+bk)`, `v = Wv·h (+bv)`; RoPE on q and
//! k; k, v stored at p; query head `i` attends to KV head `i / (H / Hkv)` over positions
//! `0..=p` (causal) with scores `f16(q)·k · kq_scale`, softmax in f32, output
//! `Σ a_t · v_t`; then `x += Wo · concat(heads)`. Heads are computed in parallel.

use half::f16;
use half::slice::HalfFloatSliceExt;
use rayon::prelude::*;

use super::linear::linear;
use super::Ctx;
use crate::kv_cache::KvCache;
use crate::model::ops::{dot, rms_norm, softmax, Rope};
use crate::model::ModelError;
use crate::schema::TensorKind;
use crate::weights::{WeightRef, Weights, WeightsError};

/// Shapes of one attention block.
#[derive(Debug, Clone, Copy)]
pub struct GqaShape {
    pub d: usize,
    pub n_head: usize,
    pub n_head_kv: usize,
    pub head_dim: usize,
    pub eps: f32,
    pub kq_scale: f32,
}

#[derive(Debug)]
pub struct GqaAttention {
    shape: GqaShape,
    norm: Vec<f32>, // [d]
    wq: WeightRef,  // [d, H·hd]
    wk: WeightRef,  // [d, Hkv·hd]
    wv: WeightRef,  // [d, Hkv·hd]
    bq: Option<Vec<f32>>,
    bk: Option<Vec<f32>>,
    bv: Option<Vec<f32>>,
    wo: WeightRef, // [H·hd, d]
}

impl GqaAttention {
    /// Binds layer `layer`; `biases`: qwen2's q/k/v biases (required when true).
    pub fn bind(
        w: &Weights,
        layer: usize,
        s: GqaShape,
        biases: bool,
    ) -> Result<GqaAttention, WeightsError> {
        let (q_dim, kv_dim) = (s.n_head * s.head_dim, s.n_head_kv * s.head_dim);
        let bias = |kind, len| -> Result<Option<Vec<f32>>, WeightsError> {
            if biases {
                w.f32_vector(kind, layer, len).map(Some)
            } else {
                w.f32_vector_optional(kind, layer, len)
            }
        };
        Ok(GqaAttention {
            shape: s,
            norm: w.f32_vector(TensorKind::AttnNorm, layer, s.d)?,
            wq: w.bind(TensorKind::AttnQ, layer, &[s.d, q_dim])?,
            wk: w.bind(TensorKind::AttnK, layer, &[s.d, kv_dim])?,
            wv: w.bind(TensorKind::AttnV, layer, &[s.d, kv_dim])?,
            bq: bias(TensorKind::AttnQBias, q_dim)?,
            bk: bias(TensorKind::AttnKBias, kv_dim)?,
            bv: bias(TensorKind::AttnVBias, kv_dim)?,
            wo: w.bind(TensorKind::AttnOutput, layer, &[q_dim, s.d])?,
        })
    }

    /// `x`: `[n][d]` at positions `pos0..pos0+n`, updated in place.
    pub fn forward(
        &self,
        ctx: &Ctx<'_>,
        rope: &Rope,
        layer: usize,
        x: &mut [f32],
        pos0: usize,
        cache: &mut KvCache,
    ) -> Result<(), ModelError> {
        let s = self.shape;
        let (hd, q_dim, kv_dim) = (s.head_dim, s.n_head * s.head_dim, s.n_head_kv * s.head_dim);
        let n = x.len() / s.d;
        let mut h = vec![0f32; x.len()];
        for (xi, hi) in x.chunks_exact(s.d).zip(h.chunks_exact_mut(s.d)) {
            rms_norm(xi, &self.norm, s.eps, hi);
        }
        let mut q = linear(ctx, &self.wq, &h, self.bq.as_deref())?;
        let mut k = linear(ctx, &self.wk, &h, self.bk.as_deref())?;
        let v = linear(ctx, &self.wv, &h, self.bv.as_deref())?;
        let (mut cos, mut sin) = (vec![0f32; rope.n_rot / 2], vec![0f32; rope.n_rot / 2]);
        for t in 0..n {
            rope.angles(pos0 + t, &mut cos, &mut sin);
            rope.apply(&mut q[t * q_dim..(t + 1) * q_dim], hd, &cos, &sin);
            rope.apply(&mut k[t * kv_dim..(t + 1) * kv_dim], hd, &cos, &sin);
            cache.store(
                layer,
                pos0 + t,
                &k[t * kv_dim..(t + 1) * kv_dim],
                &v[t * kv_dim..(t + 1) * kv_dim],
            )?;
        }
        let len = pos0 + n;
        let keys = cache.keys(layer, len);
        let values = cache.values(layer, len);
        let group = s.n_head / s.n_head_kv;
        let mut attn = vec![0f32; n * q_dim];
        ctx.pool.install(|| {
            attn.par_chunks_mut(hd).enumerate().for_each(|(i, out)| {
                let (t, head) = (i / s.n_head, i % s.n_head);
                let g = head / group;
                let qh: Vec<f32> = q[t * q_dim + head * hd..t * q_dim + (head + 1) * hd]
                    .iter()
                    .map(|&v| f16::from_f32(v).to_f32())
                    .collect();
                let visible = pos0 + t + 1;
                // f16 rows are widened a head at a time (F16C where present).
                let mut row = vec![0f32; hd];
                let mut scores: Vec<f32> = (0..visible)
                    .map(|p| {
                        keys[p * kv_dim + g * hd..p * kv_dim + (g + 1) * hd]
                            .convert_to_f32_slice(&mut row);
                        dot(&qh, &row) * s.kq_scale
                    })
                    .collect();
                softmax(&mut scores);
                out.fill(0.0);
                for (p, &a) in scores.iter().enumerate() {
                    values[p * kv_dim + g * hd..p * kv_dim + (g + 1) * hd]
                        .convert_to_f32_slice(&mut row);
                    for (o, vv) in out.iter_mut().zip(&row) {
                        *o += a * vv;
                    }
                }
            })
        });
        let y = linear(ctx, &self.wo, &attn, None)?;
        for (a, b) in x.iter_mut().zip(&y) {
            *a += b;
        }
        Ok(())
    }
}
