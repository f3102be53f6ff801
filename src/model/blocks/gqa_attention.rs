//! Grouped-query attention over the f16 KV cache (llama, qwen2).
//!
//! For each token t of the batch at absolute position p = pos0 + t:
//! `h = rmsnorm(x_t)`, `q = Wq·h (+bq)`, `k = Wk·h (+bk)`, `v = Wv·h (+bv)`; RoPE on q and
//! k; k, v stored at p; query head `i` attends to KV head `i / (H / Hkv)` over positions
//! `0..=p` (causal) with scores `f16(q)·k · kq_scale`, softmax in f32, output
//! `Σ a_t · v_t`; then `x += Wo · concat(heads)`. Tasks of (KV head, query tile, heads)
//! run in parallel; each widens the f16 rows it reads once (see [`AttentionTiles`]).

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
        let mut attn = vec![0f32; n * q_dim];
        let tiles = AttentionTiles::new(s, n, ctx.pool.current_num_threads());
        let keys = cache.keys(layer, len);
        let values = cache.values(layer, len);
        let outputs: Vec<(Task, Vec<f32>)> = ctx.pool.install(|| {
            tiles
                .tasks()
                .into_par_iter()
                .map(|task| (task, attend(s, &task, &q, keys, values, pos0)))
                .collect()
        });
        for (task, out) in &outputs {
            for (i, (t, head)) in task.queries(s).enumerate() {
                attn[t * q_dim + head * hd..t * q_dim + (head + 1) * hd]
                    .copy_from_slice(&out[i * hd..(i + 1) * hd]);
            }
        }
        let y = linear(ctx, &self.wo, &attn, None)?;
        for (a, b) in x.iter_mut().zip(&y) {
            *a += b;
        }
        Ok(())
    }
}

/// How the batch's attention is split into tasks: KV head × tile of query tokens ×
/// subset of that KV head's query heads. Each task widens every f16 key and value row
/// it reads once, in blocks of [`KEY_BLOCK`] positions, and reuses it for all its
/// queries; a task per (token, head) would widen the whole cache once per query, which
/// made the conversion cost as much as the dot products in prefill.
#[derive(Debug, Clone, Copy)]
struct AttentionTiles {
    n: usize,
    tile: usize,
    heads_per_task: usize,
    n_head_kv: usize,
    group: usize,
}

/// One task: KV head `g`, query tokens `t0..t1`, query heads `g·group + j0..j1`.
#[derive(Debug, Clone, Copy)]
struct Task {
    g: usize,
    t0: usize,
    t1: usize,
    j0: usize,
    j1: usize,
}

/// Query tokens per task (when there are enough tokens to keep the threads busy).
const QUERY_TILE: usize = 16;
/// Key / value positions widened to f32 at a time (`KEY_BLOCK × head_dim` floats).
const KEY_BLOCK: usize = 128;

impl AttentionTiles {
    fn new(s: GqaShape, n: usize, threads: usize) -> AttentionTiles {
        let group = s.n_head / s.n_head_kv;
        // Small batches (decode) have few tiles: split the query heads of a KV head over
        // tasks too, so every thread gets work (at the price of widening rows per head).
        let tile = QUERY_TILE.min(n.div_ceil(threads.max(1))).max(1);
        let coarse = s.n_head_kv * n.div_ceil(tile);
        let heads_per_task = if coarse >= 2 * threads { group } else { 1 };
        AttentionTiles {
            n,
            tile,
            heads_per_task,
            n_head_kv: s.n_head_kv,
            group,
        }
    }

    fn tasks(&self) -> Vec<Task> {
        let mut out = Vec::new();
        for g in 0..self.n_head_kv {
            for t0 in (0..self.n).step_by(self.tile) {
                for j0 in (0..self.group).step_by(self.heads_per_task) {
                    out.push(Task {
                        g,
                        t0,
                        t1: (t0 + self.tile).min(self.n),
                        j0,
                        j1: (j0 + self.heads_per_task).min(self.group),
                    });
                }
            }
        }
        out
    }
}

impl Task {
    /// The task's queries as (token, query head), in the order of its output rows.
    fn queries(&self, s: GqaShape) -> impl Iterator<Item = (usize, usize)> + '_ {
        let group = s.n_head / s.n_head_kv;
        (self.t0..self.t1)
            .flat_map(move |t| (self.j0..self.j1).map(move |j| (t, self.g * group + j)))
    }
}

/// Causal attention of one task's queries: `[queries][head_dim]`, in [`Task::queries`]
/// order. `q`: `[n][H·hd]` after RoPE; `keys`, `values`: f16 `[pos0 + n][Hkv·hd]`.
fn attend(
    s: GqaShape,
    task: &Task,
    q: &[f32],
    keys: &[f16],
    values: &[f16],
    pos0: usize,
) -> Vec<f32> {
    let (hd, q_dim, kv_dim) = (s.head_dim, s.n_head * s.head_dim, s.n_head_kv * s.head_dim);
    let queries: Vec<(usize, usize)> = task.queries(s).collect();
    // Scores use the query rounded to f16, as llama.cpp's f16 K·Q does.
    let qh: Vec<f32> = queries
        .iter()
        .flat_map(|&(t, head)| &q[t * q_dim + head * hd..t * q_dim + (head + 1) * hd])
        .map(|&v| f16::from_f32(v).to_f32())
        .collect();
    let visible = |t: usize| pos0 + t + 1;
    let span = visible(task.t1 - 1);
    let kv_row = |p: usize| p * kv_dim + task.g * hd..p * kv_dim + (task.g + 1) * hd;
    let mut block = vec![0f32; KEY_BLOCK * hd];
    let mut scores = vec![0f32; queries.len() * span];
    for p0 in (0..span).step_by(KEY_BLOCK) {
        let p1 = (p0 + KEY_BLOCK).min(span);
        for p in p0..p1 {
            keys[kv_row(p)].convert_to_f32_slice(&mut block[(p - p0) * hd..(p - p0 + 1) * hd]);
        }
        for (i, &(t, _)) in queries.iter().enumerate() {
            let qi = &qh[i * hd..(i + 1) * hd];
            for p in p0..p1.min(visible(t)) {
                let k = &block[(p - p0) * hd..(p - p0 + 1) * hd];
                scores[i * span + p] = dot(qi, k) * s.kq_scale;
            }
        }
    }
    for (i, &(t, _)) in queries.iter().enumerate() {
        softmax(&mut scores[i * span..i * span + visible(t)]);
    }
    let mut out = vec![0f32; queries.len() * hd];
    for p0 in (0..span).step_by(KEY_BLOCK) {
        let p1 = (p0 + KEY_BLOCK).min(span);
        for p in p0..p1 {
            values[kv_row(p)].convert_to_f32_slice(&mut block[(p - p0) * hd..(p - p0 + 1) * hd]);
        }
        for (i, &(t, _)) in queries.iter().enumerate() {
            let o = &mut out[i * hd..(i + 1) * hd];
            for p in p0..p1.min(visible(t)) {
                let a = scores[i * span + p];
                for (o, v) in o.iter_mut().zip(&block[(p - p0) * hd..(p - p0 + 1) * hd]) {
                    *o += a * v;
                }
            }
        }
    }
    out
}
