//! DeepSeek's MoE feed-forward block (spec `deepseek2.md` §4.6, §6):
//! `h = rmsnorm(x, ffn_norm)`; an F32 router scores every expert, [`Router`] picks
//! `n_used` of them per token with their weights; each picked expert runs the SwiGLU
//! MLP on `h` and its output, scaled by its weight, is summed; the shared expert (a
//! plain SwiGLU MLP) is added; `x += y`.
//!
//! Execution is expert-major: the batch's routing is computed first, every expert the
//! batch needs is announced to the [`ExpertSource`] at once (so a cache can issue all
//! its reads), then each expert runs once over all the tokens that picked it — its
//! weights cross the memory bus (or the disk) once per batch, not once per token.

use std::collections::BTreeMap;

use super::dense_ffn::{rms_norm_rows, swiglu_mlp, SwigluWeights};
use super::linear::linear;
use super::{Ctx, RouteRecord};
use crate::model::ops::{Router, Selected};
use crate::model::ModelError;
use crate::schema::TensorKind;
use crate::weights::experts::ExpertSource;
use crate::weights::{WeightRef, Weights, WeightsError};

/// Batches of at most this many tokens compute cached experts first (their outputs
/// are kept until all are done: at most tokens × experts used × width floats).
const REORDER_MAX_TOKENS: usize = 64;

#[derive(Debug)]
pub struct MoeFfn {
    layer: usize,
    norm: Vec<f32>,         // [d]
    router: WeightRef,      // F32 [d, n_expert]
    bias: Option<Vec<f32>>, // [n_expert], selection only
    shared: Option<SwigluWeights>,
    route: Router,
    eps: f32,
}

/// Shapes of one MoE block.
#[derive(Debug, Clone, Copy)]
pub struct MoeShape {
    pub d: usize,
    pub n_expert: usize,
    pub n_ff_exp: usize,
    /// Shared experts, fused into one MLP of `n_shared · n_ff_exp` (0: none).
    pub n_shared: usize,
    pub eps: f32,
}

impl MoeFfn {
    pub fn bind(
        w: &Weights,
        layer: usize,
        s: MoeShape,
        route: Router,
    ) -> Result<MoeFfn, WeightsError> {
        use TensorKind::*;
        let shared = (s.n_shared > 0)
            .then(|| {
                SwigluWeights::bind(
                    w,
                    layer,
                    [FfnGateShexp, FfnUpShexp, FfnDownShexp],
                    s.d,
                    s.n_shared * s.n_ff_exp,
                )
            })
            .transpose()?;
        Ok(MoeFfn {
            layer,
            norm: w.f32_vector(FfnNorm, layer, s.d)?,
            router: w.bind(FfnGateInp, layer, &[s.d, s.n_expert])?,
            bias: w.f32_vector_optional(ExpProbsB, layer, s.n_expert)?,
            shared,
            route,
            eps: s.eps,
        })
    }

    /// Routing of every token of `h` (`[n][d]`, positions `pos0..`), recorded in the
    /// context's trace when there is one.
    pub fn routes(
        &self,
        ctx: &Ctx<'_>,
        h: &[f32],
        pos0: usize,
    ) -> Result<Vec<Vec<Selected>>, ModelError> {
        let logits = linear(ctx, &self.router, h, None)?;
        let routes: Vec<(Vec<Selected>, f32)> = logits
            .chunks_exact(self.router.rows())
            .map(|l| self.route.route_with_margin(l, self.bias.as_deref()))
            .collect();
        if let Some(trace) = ctx.routing_trace {
            let mut trace = trace.lock().unwrap_or_else(|e| e.into_inner());
            for (t, (sel, margin)) in routes.iter().enumerate() {
                trace.push(RouteRecord {
                    layer: self.layer,
                    pos: pos0 + t,
                    experts: sel.iter().map(|s| s.expert).collect(),
                    margin: *margin,
                });
            }
        }
        Ok(routes.into_iter().map(|(sel, _)| sel).collect())
    }

    /// The experts this layer would pick for the residual stream `x` as it is now: a
    /// guess, made one layer early, of what to prefetch (the stream changes little from
    /// one block to the next).
    fn guess(&self, ctx: &Ctx<'_>, x: &[f32]) -> Result<Vec<usize>, ModelError> {
        let h = rms_norm_rows(x, &self.norm, self.eps);
        let logits = linear(ctx, &self.router, &h, None)?;
        let mut experts: Vec<usize> = logits
            .chunks_exact(self.router.rows())
            .flat_map(|l| self.route.route(l, self.bias.as_deref()))
            .map(|s| s.expert)
            .collect();
        experts.sort_unstable();
        experts.dedup();
        Ok(experts)
    }

    /// `x`: `[n][d]` at positions `pos0..`, updated in place (residual added). `next`:
    /// the following MoE block, whose experts are guessed and prefetched once this
    /// block's reads are issued.
    pub fn forward(
        &self,
        ctx: &Ctx<'_>,
        experts: &dyn ExpertSource,
        x: &mut [f32],
        pos0: usize,
        next: Option<&MoeFfn>,
    ) -> Result<(), ModelError> {
        let d = self.norm.len();
        let h = rms_norm_rows(x, &self.norm, self.eps);
        // expert → [(token, weight)], in expert order.
        let mut users: BTreeMap<usize, Vec<(usize, f32)>> = BTreeMap::new();
        for (t, sel) in self.routes(ctx, &h, pos0)?.into_iter().enumerate() {
            for s in sel {
                users.entry(s.expert).or_default().push((t, s.weight));
            }
        }
        let wanted: Vec<usize> = users.keys().copied().collect();
        experts.request(self.layer, &wanted);
        if let Some(next) = next.filter(|_| experts.prefetches()) {
            experts.prefetch(next.layer, &next.guess(ctx, x)?);
        }
        // The shared expert needs no reads: it runs while the misses arrive.
        let shared_out = match &self.shared {
            Some(shared) => Some(shared.forward(ctx, &h)?),
            None => None,
        };
        let users: Vec<(usize, Vec<(usize, f32)>)> = users.into_iter().collect();
        let run = |e: usize, toks: &[(usize, f32)]| -> Result<Vec<f32>, ModelError> {
            let hs: Vec<f32> = toks
                .iter()
                .flat_map(|&(t, _)| h[t * d..(t + 1) * d].iter().copied())
                .collect();
            let mut out = None;
            experts.with_expert(ctx.weights, self.layer, e, &mut |m| {
                out = Some(swiglu_mlp(ctx, &m.gate, &m.up, &m.down, &hs));
            })?;
            out.expect("with_expert calls back exactly once")
        };
        let mut y = vec![0f32; x.len()];
        let mut add = |toks: &[(usize, f32)], out: &[f32]| {
            for (&(t, weight), row) in toks.iter().zip(out.chunks_exact(d)) {
                for (acc, v) in y[t * d..(t + 1) * d].iter_mut().zip(row) {
                    *acc += weight * v;
                }
            }
        };
        if x.len() / d <= REORDER_MAX_TOKENS {
            // Cached experts first (they compute while the rest are read); outputs are
            // kept and summed in expert order, so the result does not depend on what
            // was cached.
            let mut outs: Vec<Option<Vec<f32>>> = vec![None; users.len()];
            for i in experts.compute_order(self.layer, &wanted) {
                let (e, toks) = &users[i];
                outs[i] = Some(run(*e, toks)?);
            }
            for ((_, toks), out) in users.iter().zip(&outs) {
                add(
                    toks,
                    out.as_deref().expect("compute_order covers every expert"),
                );
            }
        } else {
            // Long batches: summing as we go keeps scratch at one expert's output.
            for (e, toks) in &users {
                add(toks, &run(*e, toks)?);
            }
        }
        if let Some(out) = shared_out {
            for (acc, v) in y.iter_mut().zip(out) {
                *acc += v;
            }
        }
        for (a, b) in x.iter_mut().zip(&y) {
            *a += b;
        }
        Ok(())
    }
}
