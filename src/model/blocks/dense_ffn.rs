//! The SiLU-gated feed-forward block: `x += W_down · (silu(W_gate · h) ⊙ (W_up · h))`
//! with `h = rmsnorm(x, ffn_norm)`. [`swiglu_mlp`] is the bare product, shared with
//! DeepSeek's shared and routed experts.

use super::linear::linear_matrix;
use super::Ctx;
use crate::model::ops::{rms_norm, swiglu, QMatrix};
use crate::model::ModelError;
use crate::schema::TensorKind;
use crate::weights::{WeightRef, Weights, WeightsError};

/// `W_down · (silu(W_gate · h) ⊙ (W_up · h))` for `h`: `[n][k]` → `[n][down.rows()]`.
pub fn swiglu_mlp(
    ctx: &Ctx<'_>,
    gate: &QMatrix<'_>,
    up: &QMatrix<'_>,
    down: &QMatrix<'_>,
    h: &[f32],
) -> Result<Vec<f32>, ModelError> {
    let mut g = linear_matrix(ctx, gate, h)?;
    let u = linear_matrix(ctx, up, h)?;
    swiglu(&mut g, &u);
    linear_matrix(ctx, down, &g)
}

/// The three matrices of one SwiGLU MLP as bound tensors.
#[derive(Debug)]
pub struct SwigluWeights {
    pub gate: WeightRef, // [d, n_ff]
    pub up: WeightRef,   // [d, n_ff]
    pub down: WeightRef, // [n_ff, d]
}

impl SwigluWeights {
    /// Binds `kinds` = (gate, up, down) of `layer`.
    pub fn bind(
        w: &Weights,
        layer: usize,
        kinds: [TensorKind; 3],
        d: usize,
        n_ff: usize,
    ) -> Result<SwigluWeights, WeightsError> {
        Ok(SwigluWeights {
            gate: w.bind(kinds[0], layer, &[d, n_ff])?,
            up: w.bind(kinds[1], layer, &[d, n_ff])?,
            down: w.bind(kinds[2], layer, &[n_ff, d])?,
        })
    }

    pub fn forward(&self, ctx: &Ctx<'_>, h: &[f32]) -> Result<Vec<f32>, ModelError> {
        let m = |r| ctx.weights.matrix(r);
        swiglu_mlp(ctx, &m(&self.gate), &m(&self.up), &m(&self.down), h)
    }
}

/// `rmsnorm` of every `d`-row of `x`.
pub fn rms_norm_rows(x: &[f32], weight: &[f32], eps: f32) -> Vec<f32> {
    let d = weight.len();
    let mut h = vec![0f32; x.len()];
    for (xi, hi) in x.chunks_exact(d).zip(h.chunks_exact_mut(d)) {
        rms_norm(xi, weight, eps, hi);
    }
    h
}

#[derive(Debug)]
pub struct DenseFfn {
    norm: Vec<f32>, // [d]
    mlp: SwigluWeights,
    eps: f32,
}

impl DenseFfn {
    pub fn bind(
        w: &Weights,
        layer: usize,
        d: usize,
        n_ff: usize,
        eps: f32,
    ) -> Result<DenseFfn, WeightsError> {
        use TensorKind::*;
        Ok(DenseFfn {
            norm: w.f32_vector(FfnNorm, layer, d)?,
            mlp: SwigluWeights::bind(w, layer, [FfnGate, FfnUp, FfnDown], d, n_ff)?,
            eps,
        })
    }

    /// `x`: `[n][d]`, updated in place (residual added).
    pub fn forward(&self, ctx: &Ctx<'_>, x: &mut [f32]) -> Result<(), ModelError> {
        let h = rms_norm_rows(x, &self.norm, self.eps);
        let y = self.mlp.forward(ctx, &h)?;
        for (a, b) in x.iter_mut().zip(&y) {
            *a += b;
        }
        Ok(())
    }
}
