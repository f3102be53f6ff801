//! A linear layer `y = W·x (+ b)` for a batch of vectors: the activations are quantized
//! once to the weight type's partner, the matmul runs on the pool, the bias is added in
//! f32 (as llama.cpp does).

use super::super::ops::{matmul, Activations, QMatrix};
use super::Ctx;
use crate::model::ModelError;
use crate::weights::WeightRef;

/// `x`: `[n][w.k()]` → `[n][w.rows()]`.
pub fn linear(
    ctx: &Ctx<'_>,
    w: &WeightRef,
    x: &[f32],
    bias: Option<&[f32]>,
) -> Result<Vec<f32>, ModelError> {
    let mut out = linear_matrix(ctx, &ctx.weights.matrix(w), x)?;
    if let Some(b) = bias {
        for row in out.chunks_exact_mut(w.rows()) {
            for (o, &bv) in row.iter_mut().zip(b) {
                *o += bv;
            }
        }
    }
    Ok(out)
}

/// `x`: `[n][m.k()]` → `[n][m.rows()]` for a matrix from anywhere (mapped file, expert
/// cache, owned memory).
pub fn linear_matrix(ctx: &Ctx<'_>, m: &QMatrix<'_>, x: &[f32]) -> Result<Vec<f32>, ModelError> {
    if let Some(o) = ctx.observer {
        o.observe(m.data(), x, m.k());
    }
    let acts = Activations::quantize(ctx.kernels, m.ty(), x, m.k())?;
    let mut out = vec![0f32; acts.n() * m.rows()];
    matmul(ctx.kernels, ctx.pool, m, &acts, &mut out)?;
    Ok(out)
}
