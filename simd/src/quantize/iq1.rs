//! IQ1_S and IQ1_M weight quantizers: groups of 8 weights from the 2048-point ternary
//! codebook, shifted by ±1/8, times an odd multiple of a super-block scale.
//!
//! ```text
//! IQ1_S: x ≈ D·(2l+1)·(g + σ/8)   per 32: l ∈ 0..8, σ = ±1; per 8: g ∈ grid
//! IQ1_M: x ≈ D·(2l+1)·(g + σ/8)   per 16: l ∈ 0..8; per 8: σ = ±1, g ∈ grid
//! ```
//!
//! First pass, llama.cpp's `quantize_row_iq1_{s,m}_impl`, per scale block (32 / 16):
//! sort the weights; every pair of split points (i1 ≤ i2) assigns levels −1, 0, +1 to
//! the sorted runs, and with prefix sums of `w·x` and `w` the best scale and score of
//! each split and each shift sign (per block for IQ1_S, per half for IQ1_M) are O(1):
//! an exhaustive search. Groups whose levels are not a codebook point take the best of
//! its neighbours ([`super::grid`]), and the scale is refitted.
//!
//! Then, unlike llama.cpp (which sets `D = 1.125·max/15` or a least-squares `D·1.1125`
//! and rounds each block's multiplier independently — "fudge factors"): the
//! super-block scale is chosen from a scan of f16 values around `max/15` (llama.cpp's
//! own `D` among them), each with the best multiplier per block for the weighted error
//! of the decoded values, then refined by least squares. A second pass re-picks every
//! group's codebook point and shift for the final per-block scale and keeps the result
//! if the error dropped. Never worse than llama.cpp's `D` for the same first pass.
//!
//! Weights, σ² = 2·mean x² of the super-block: `q·√(σ² + x²)`, q ≡ 1 without
//! importance (llama.cpp requires an imatrix for IQ1_S and uses x² for IQ1_M).

use super::grid::{iq1s, Grid};
use super::oddscale::{choose_scale, Sums};
use super::{f16_round, mean_sq, nearest_int};
use crate::blocks::iq1::{BlockIQ1M, BlockIQ1S};
use crate::blocks::{as_blocks_mut, f32_to_f16};
use crate::tables::IQ1_DELTA;

const QK_K: usize = 256;
/// Block multipliers 2l+1, l = 0..8.
const MULTS: &[f32] = &[1.0, 3.0, 5.0, 7.0, 9.0, 11.0, 13.0, 15.0];
/// ggml's `GROUP_MAX_EPS_IQ1_S` / `_IQ1_M`.
const EPS_S: f32 = 1e-12;
const EPS_M: f32 = 1e-7;
/// Grid values −1, 0, +1 shifted by +δ and by −δ, indexed by level.
const X_P: [f32; 3] = [-1.0 + IQ1_DELTA, IQ1_DELTA, 1.0 + IQ1_DELTA];
const X_M: [f32; 3] = [-1.0 - IQ1_DELTA, -IQ1_DELTA, 1.0 - IQ1_DELTA];

fn shifted(neg: bool) -> &'static [f32; 3] {
    if neg {
        &X_M
    } else {
        &X_P
    }
}

/// Weights `q·√(σ² + x²)` of a super-block, q ≡ 1 without importance.
fn weights(x: &[f32], q: Option<&[f32]>) -> [f32; QK_K] {
    let sigma2 = 2.0 * mean_sq(x);
    core::array::from_fn(|i| q.map_or(1.0, |q| q[i]) * (sigma2 + x[i] * x[i]).sqrt())
}

/// Codebook points and shift signs of one scale block (groups of 8), and its scale.
struct Codes {
    index: Vec<u16>,
    neg: Vec<bool>,
    scale: f32,
}

/// First pass over one scale block of `x.len()` weights whose shift sign is shared by
/// `x.len() / parts` consecutive weights (IQ1_S: 1 part of 32, IQ1_M: 2 parts of 8).
fn split_search(x: &[f32], w: &[f32], parts: usize, eps: f32, grid: &Grid) -> Codes {
    let n = x.len();
    let groups = n / 8;
    let amax = x.iter().fold(0.0f32, |m, v| m.max(v.abs()));
    let zero = || {
        let index = match grid.lookup(&[1; 8]) {
            Ok(i) => i,
            Err(nb) => nb[0],
        };
        Codes {
            index: vec![index; groups],
            neg: vec![false; groups],
            scale: 0.0,
        }
    };
    if amax < eps {
        return zero();
    }
    // n ≤ 32 and parts ≤ 2 (callers): fixed arrays keep the O(n²) loop free of
    // allocation and bounds checks.
    let mut order = [0usize; 32];
    order.iter_mut().enumerate().for_each(|(j, o)| *o = j);
    let order = &mut order[..n];
    order.sort_by(|&a, &b| x[a].total_cmp(&x[b]));
    // Prefix sums of w·x and w over the sorted order, per part.
    let part = n / parts;
    let mut px = [[0.0f32; 33]; 2];
    let mut pw = [[0.0f32; 33]; 2];
    for (j, &i) in order.iter().enumerate() {
        for p in 0..parts {
            let own = i / part == p;
            px[p][j + 1] = px[p][j] + if own { w[i] * x[i] } else { 0.0 };
            pw[p][j + 1] = pw[p][j] + if own { w[i] } else { 0.0 };
        }
    }
    let sq = |v: &[f32; 3]| [v[0] * v[0], v[1] * v[1], v[2] * v[2]];
    let shifts = [(X_P, sq(&X_P)), (X_M, sq(&X_M))];
    let combos = 1usize << parts;
    let (mut best, mut scale) = (f32::MIN, 0.0f32);
    let mut found: Option<(usize, usize, usize)> = None;
    for i1 in 0..=n {
        for i2 in i1..=n {
            let mut qx = [[0.0f32; 2]; 2];
            let mut q2 = [[0.0f32; 2]; 2];
            for p in 0..parts {
                let (a, b, c) = (px[p][i1], px[p][i2] - px[p][i1], px[p][n] - px[p][i2]);
                let (aw, bw, cw) = (pw[p][i1], pw[p][i2] - pw[p][i1], pw[p][n] - pw[p][i2]);
                for (s, (xx, x2)) in shifts.iter().enumerate() {
                    qx[p][s] = a * xx[0] + b * xx[1] + c * xx[2];
                    q2[p][s] = aw * x2[0] + bw * x2[1] + cw * x2[2];
                }
            }
            for k in 0..combos {
                // Part 0 is the most significant bit, as llama.cpp orders IQ1_M's combos.
                let (mut sumqx, mut sumq2) = (0.0f32, 0.0f32);
                for p in 0..parts {
                    let s = (k >> (parts - 1 - p)) & 1;
                    sumqx += qx[p][s];
                    sumq2 += q2[p][s];
                }
                if sumq2 > 0.0 && sumqx * sumqx > best * sumq2 {
                    scale = sumqx / sumq2;
                    best = scale * sumqx;
                    found = Some((i1, i2, k));
                }
            }
        }
    }
    let Some((i1, i2, k)) = found else {
        return zero();
    };
    let mut levels = vec![0u8; n];
    for (j, &i) in order.iter().enumerate() {
        levels[i] = if j < i1 {
            0
        } else if j < i2 {
            1
        } else {
            2
        };
    }
    let mut neg: Vec<bool> = (0..groups)
        .map(|g| (k >> (parts - 1 - (8 * g) / part)) & 1 == 1)
        .collect();
    if scale < 0.0 {
        levels.iter_mut().for_each(|l| *l = 2 - *l);
        neg.iter_mut().for_each(|s| *s = !*s);
        scale = -scale;
    }
    let mut index = vec![0u16; groups];
    let mut on_grid = true;
    for g in 0..groups {
        let r = 8 * g..8 * g + 8;
        let lv: [u8; 8] = core::array::from_fn(|j| levels[8 * g + j]);
        index[g] = match grid.lookup(&lv) {
            Ok(i) => i,
            Err(nb) => {
                on_grid = false;
                let xx = shifted(neg[g]);
                let err = |i: u16| -> f32 {
                    let gl = &grid.levels[i as usize];
                    (0..8)
                        .map(|j| {
                            let d = scale * xx[gl[j] as usize] - x[r.start + j];
                            w[r.start + j] * d * d
                        })
                        .sum()
                };
                // First strictly better wins, as in llama.cpp.
                let mut best = (nb[0], err(nb[0]));
                for &i in &nb[1..] {
                    let e = err(i);
                    if e < best.1 {
                        best = (i, e);
                    }
                }
                best.0
            }
        };
    }
    if !on_grid {
        let s = group_sums(x, w, &index, &neg, grid);
        if s.s > 0.0 && s.t > 0.0 {
            scale = (s.s / s.t) as f32;
        }
    }
    Codes { index, neg, scale }
}

fn group_sums(x: &[f32], w: &[f32], index: &[u16], neg: &[bool], grid: &Grid) -> Sums {
    let mut s = Sums::default();
    for (g, (&i, &n)) in index.iter().zip(neg).enumerate() {
        let xx = shifted(n);
        for (j, &l) in grid.levels[i as usize].iter().enumerate() {
            let (x, w, q) = (
                x[8 * g + j] as f64,
                w[8 * g + j] as f64,
                xx[l as usize] as f64,
            );
            s.s += w * x * q;
            s.t += w * q * q;
            s.x += w * x * x;
        }
    }
    s
}

/// The codebook point with the least weighted error for 8 weights at scale `dl` and
/// shift sign `neg`: the element-wise rounding if it is a point, else the best
/// neighbour.
fn best_group(x: &[f32], w: &[f32], dl: f32, neg: bool, grid: &Grid) -> (u16, f64) {
    let xx = shifted(neg);
    let delta = xx[1];
    // Error of each element at each level: a candidate's error is 8 lookups.
    let e: [[f32; 3]; 8] = core::array::from_fn(|j| {
        core::array::from_fn(|l| {
            let d = x[j] - dl * xx[l];
            w[j] * d * d
        })
    });
    let err = |i: u16| -> f32 {
        let gl = &grid.levels[i as usize];
        (0..8).map(|j| e[j][gl[j] as usize]).sum()
    };
    let lv: [u8; 8] =
        core::array::from_fn(|j| (nearest_int(x[j] / dl - delta).clamp(-1, 1) + 1) as u8);
    let (i, e) = match grid.lookup(&lv) {
        Ok(i) => (i, err(i)),
        Err(nb) => nb
            .iter()
            .map(|&i| (i, err(i)))
            .fold((nb[0], f32::MAX), |a, b| if b.1 < a.1 { b } else { a }),
    };
    (i, e as f64)
}

/// A quantized IQ1 super-block: per scale block codes and multiplier, and `d`.
struct Block {
    codes: Vec<Codes>,
    ls: Vec<u8>,
    d: f32,
}

/// Both passes for one super-block. `sub`: weights per scale block (32 or 16), `parts`:
/// shift signs per scale block in the first pass, `per_group_shift`: whether the second
/// pass may choose the shift per group of 8 (IQ1_M) or per block (IQ1_S).
/// `llama_d` gives llama.cpp's scale from the first-pass codes, as a candidate.
fn quantize_block(
    x: &[f32],
    w: &[f32; QK_K],
    sub: usize,
    parts: usize,
    eps: f32,
    llama_d: impl Fn(&[Codes], &[Sums], f32) -> f32,
) -> Block {
    let grid = iq1s();
    let nsub = QK_K / sub;
    let mut codes: Vec<Codes> = (0..nsub)
        .map(|b| {
            split_search(
                &x[sub * b..sub * (b + 1)],
                &w[sub * b..sub * (b + 1)],
                parts,
                eps,
                grid,
            )
        })
        .collect();
    let max_scale = codes.iter().fold(0.0f32, |m, c| m.max(c.scale));
    if max_scale <= 0.0 {
        return Block {
            codes,
            ls: vec![0; nsub],
            d: 0.0,
        };
    }
    let sums_of = |codes: &[Codes]| -> Vec<Sums> {
        codes
            .iter()
            .enumerate()
            .map(|(b, c)| group_sums(&x[sub * b..], &w[sub * b..], &c.index, &c.neg, grid))
            .collect()
    };
    let sums = sums_of(&codes);
    let base = max_scale / 15.0;
    let (mut d, mut ls, mut err) =
        choose_scale(&sums, base, &[llama_d(&codes, &sums, max_scale)], MULTS);
    for _ in 0..2 {
        let next: Vec<Codes> = codes
            .iter()
            .enumerate()
            .map(|(b, c)| {
                let dl = d * (2 * ls[b] + 1) as f32;
                let xb = &x[sub * b..sub * (b + 1)];
                let wb = &w[sub * b..sub * (b + 1)];
                let pick =
                    |g: usize, neg: bool| best_group(&xb[8 * g..], &wb[8 * g..], dl, neg, grid);
                let groups = c.index.len();
                if parts == 1 {
                    // One shift for the whole block: try both.
                    let mut best: Option<(f64, Vec<u16>, bool)> = None;
                    for neg in [false, true] {
                        let (idx, e): (Vec<u16>, Vec<f64>) =
                            (0..groups).map(|g| pick(g, neg)).unzip();
                        let e: f64 = e.iter().sum();
                        if best.as_ref().is_none_or(|b| e < b.0) {
                            best = Some((e, idx, neg));
                        }
                    }
                    let (_, index, neg) = best.unwrap_or((0.0, c.index.clone(), false));
                    Codes {
                        index,
                        neg: vec![neg; groups],
                        scale: c.scale,
                    }
                } else {
                    let (index, neg) = (0..groups)
                        .map(|g| {
                            let (a, b) = (pick(g, false), pick(g, true));
                            if b.1 < a.1 {
                                (b.0, true)
                            } else {
                                (a.0, false)
                            }
                        })
                        .unzip();
                    Codes {
                        index,
                        neg,
                        scale: c.scale,
                    }
                }
            })
            .collect();
        let sums = sums_of(&next);
        let (nd, nls, nerr) = choose_scale(&sums, d, &[d], MULTS);
        if nerr < err {
            (d, ls, err, codes) = (nd, nls, nerr, next);
        } else {
            break;
        }
    }
    Block { codes, ls, d }
}

/// f32 row → IQ1_S.
pub(crate) fn quantize_row_iq1_s(x: &[f32], importance: Option<&[f32]>, out: &mut [u8]) {
    for (i, b) in as_blocks_mut::<BlockIQ1S>(out).iter_mut().enumerate() {
        let r = i * QK_K..(i + 1) * QK_K;
        let xb = &x[r.clone()];
        let w = weights(xb, importance.map(|q| &q[r]));
        // llama.cpp: D = 1.125·max/15.
        let blk = quantize_block(xb, &w, 32, 1, EPS_S, |_, _, max| {
            f16_round(1.125 * max / 15.0)
        });
        b.d = f32_to_f16(blk.d);
        for (ib, c) in blk.codes.iter().enumerate() {
            let mut h = ((blk.ls[ib] as u16) << 12) | if c.neg[0] { 0x8000 } else { 0 };
            for (g, &idx) in c.index.iter().enumerate() {
                b.qs[4 * ib + g] = idx as u8;
                h |= (idx >> 8) << (3 * g);
            }
            b.qh[2 * ib..2 * ib + 2].copy_from_slice(&h.to_le_bytes());
        }
    }
}

/// f32 row → IQ1_M.
pub(crate) fn quantize_row_iq1_m(x: &[f32], importance: Option<&[f32]>, out: &mut [u8]) {
    for (i, b) in as_blocks_mut::<BlockIQ1M>(out).iter_mut().enumerate() {
        let r = i * QK_K..(i + 1) * QK_K;
        let xb = &x[r.clone()];
        let w = weights(xb, importance.map(|q| &q[r]));
        // llama.cpp: multipliers rounded from max/15, then D = 1.1125·(least squares).
        let llama_d = |codes: &[Codes], sums: &[Sums], max: f32| {
            let id = 15.0 / max;
            let (mut num, mut den) = (0.0f64, 0.0f64);
            for (c, s) in codes.iter().zip(sums) {
                let l = nearest_int(0.5 * (id * c.scale - 1.0)).clamp(0, 7);
                let m = (2 * l + 1) as f64;
                num += m * s.s;
                den += m * m * s.t;
            }
            let d = if den > 0.0 {
                (num / den) as f32
            } else {
                max / 15.0
            };
            f16_round(1.1125 * d)
        };
        let blk = quantize_block(xb, &w, 16, 2, EPS_M, llama_d);
        let mut sc = [0u16; 4];
        for (ib, c) in blk.codes.iter().enumerate() {
            let mut qh = 0u8;
            for (k, (&idx, &neg)) in c.index.iter().zip(&c.neg).enumerate() {
                b.qs[2 * ib + k] = idx as u8;
                qh |= (((idx >> 8) as u8) | if neg { 8 } else { 0 }) << (4 * k);
            }
            b.qh[ib] = qh;
            sc[ib / 4] |= (blk.ls[ib] as u16) << (3 * (ib % 4));
        }
        let dbits = half::f16::from_f32(blk.d).to_bits();
        for (k, s) in sc.iter_mut().enumerate() {
            *s |= ((dbits >> (4 * k)) & 0xF) << 12;
        }
        for (k, s) in sc.iter().enumerate() {
            b.scales[2 * k..2 * k + 2].copy_from_slice(&s.to_le_bytes());
        }
    }
}
