//! The SiLU-gated feed-forward block: `x += W_down · (silu(W_gate · h) ⊙ (W_up · h))`
//! with `h = rmsnorm(x, ffn_norm)`.

use super::linear::linear;
use super::Ctx;
use crate::model::ops::{rms_norm, swiglu};
use crate::model::ModelError;
use crate::schema::TensorKind;
use crate::weights::{WeightRef, Weights, WeightsError};

#[derive(Debug)]
pub struct DenseFfn {
    norm: Vec<f32>,  // [d]
    gate: WeightRef, // [d, n_ff]
    up: WeightRef,   // [d, n_ff]
    down: WeightRef, // [n_ff, d]
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
        Ok(DenseFfn {
            norm: w.f32_vector(TensorKind::FfnNorm, layer, d)?,
            gate: w.bind(TensorKind::FfnGate, layer, &[d, n_ff])?,
            up: w.bind(TensorKind::FfnUp, layer, &[d, n_ff])?,
            down: w.bind(TensorKind::FfnDown, layer, &[n_ff, d])?,
            eps,
        })
    }

    /// `x`: `[n][d]`, updated in place (residual added).
    pub fn forward(&self, ctx: &Ctx<'_>, x: &mut [f32]) -> Result<(), ModelError> {
        let d = self.norm.len();
        let mut h = vec![0f32; x.len()];
        for (xi, hi) in x.chunks_exact(d).zip(h.chunks_exact_mut(d)) {
            rms_norm(xi, &self.norm, self.eps, hi);
        }
        let mut g = linear(ctx, &self.gate, &h, None)?;
        let u = linear(ctx, &self.up, &h, None)?;
        swiglu(&mut g, &u);
        let y = linear(ctx, &self.down, &g, None)?;
        for (a, b) in x.iter_mut().zip(&y) {
            *a += b;
        }
        Ok(())
    }
}
