//! A linear layer `y = W·x (+ b)` for a batch of vectors: the activations are quantized
//! once to the weight type's partner, the matmul runs on the pool, the bias is added in
//! f32 (as llama.cpp does).

use super::super::ops::{matmul, Activations};
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
    let m = ctx.weights.matrix(w);
    let acts = Activations::quantize(ctx.kernels, w.ty, x, w.k())?;
    let mut out = vec![0f32; acts.n() * w.rows()];
    matmul(ctx.kernels, ctx.pool, &m, &acts, &mut out)?;
    if let Some(b) = bias {
        for row in out.chunks_exact_mut(w.rows()) {
            for (o, &bv) in row.iter_mut().zip(b) {
                *o += bv;
            }
        }
    }
    Ok(out)
}
