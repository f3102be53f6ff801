//! K-quant weight quantizers: Q2_K, Q3_K, Q4_K, Q5_K, Q6_K (256-element super-blocks).
//!
//! Each follows llama.cpp's `quantize_row_qN_K_impl` — the importance path — with and
//! without an importance vector (llama.cpp itself falls back to the simpler
//! `quantize_row_qN_K_ref` when it has none), then [`super::refine`]s the quantized
//! scales. Per-element weights, σ² = mean x² of the super-block; without importance
//! the same formula with q ≡ 1 (llama.cpp's impl path would use x² for Q3_K / Q6_K
//! and √(2σ²) + |x| for Q4_K / Q5_K; those lose to its reference quantizer on plain
//! RMSE, q ≡ 1 beats it):
//!
//! | type | search | weights |
//! |---|---|---|
//! | Q2_K | `make_qkx3` per 16 (0..3), `make_qp` scales/mins 0..15 | q·√(σ² + x²) |
//! | Q3_K | `make_qx` per 16 (−4..3), `make_qx` scales −32..31 | q·√(2σ² + x²) |
//! | Q4_K | `make_qkx3` per 32 (0..15), `make_qp` scales/mins 0..63 | q·√(2σ² + x²) |
//! | Q5_K | as Q4_K with 0..31 | q·√(2σ² + x²) |
//! | Q6_K | `make_qx` per 16 (−32..31), int8 scales d = max/−128 | q |
//!
//! For Q4_K / Q5_K without importance llama.cpp's reference quantizer (weights
//! `√(mean x² of the sub-block) + |x|`, scales by their maximum) is a second
//! candidate; the lower weighted error wins.

use super::refine::{Affine, Symmetric};
use super::search::{make_qkx3_quants, make_qp_quants, make_qx_quants, GROUP_MAX_EPS};
use super::{f16_round, mean_sq, nearest_int};
use crate::blocks::kquants::{BlockQ2K, BlockQ3K, BlockQ4K, BlockQ5K, BlockQ6K};
use crate::blocks::{as_blocks_mut, f32_to_f16};

const QK_K: usize = 256;
/// Refinement rounds (each: neighbouring scale codes, then a least-squares refit).
const ROUNDS: usize = 3;

/// Per-element weights of one super-block: `q·√(s2 + x²)`, or `none(x)` without q.
fn weights(x: &[f32], q: Option<&[f32]>, s2: f32, none: impl Fn(f32) -> f32) -> [f32; QK_K] {
    core::array::from_fn(|i| match q {
        Some(q) => q[i] * (s2 + x[i] * x[i]).sqrt(),
        None => none(x[i]),
    })
}

/// Packs 2-bit codes: `qs[32h + l]` holds elements 128h + l + 32s at bits 2s.
fn pack_2bit(l: &[u8; QK_K]) -> [u8; 64] {
    core::array::from_fn(|i| {
        let (h, p) = (i / 32, i % 32);
        (0..4).fold(0u8, |b, s| b | (l[128 * h + 32 * s + p] & 3) << (2 * s))
    })
}

/// Packs eight 6-bit scales and mins the Q4_K / Q5_K way (`get_scale_min_k4` inverse).
fn pack_scales_k4(sc: &[i32], m: &[i32]) -> [u8; 12] {
    let mut q = [0u8; 12];
    for j in 0..8 {
        let (ls, lm) = (sc[j] as u8, m[j] as u8);
        if j < 4 {
            q[j] = ls;
            q[j + 4] = lm;
        } else {
            q[j + 4] = (ls & 0xF) | ((lm & 0xF) << 4);
            q[j - 4] |= (ls >> 4) << 6;
            q[j] |= (lm >> 4) << 6;
        }
    }
    q
}

/// Result of an affine super-block (Q2_K, Q4_K, Q5_K): f16-representable `d`, `dmin`,
/// scale and min codes per sub-block, element codes.
struct AffineBlock {
    d: f32,
    dmin: f32,
    sc: Vec<i32>,
    m: Vec<i32>,
    codes: [u8; QK_K],
    err: f32,
}

/// llama.cpp's importance path for an affine super-block: `make_qkx3_quants` per
/// sub-block, `make_qp_quants` onto `0..=smax` for scales and mins, then refinement.
fn affine_impl(x: &[f32], w: &[f32; QK_K], sub: usize, qmax: i32, smax: i32) -> AffineBlock {
    let nsub = QK_K / sub;
    let mut codes = [0u8; QK_K];
    let mut scales = vec![0.0f32; nsub];
    let mut mins = vec![0.0f32; nsub];
    let mut sw = vec![0.0f32; nsub];
    for j in 0..nsub {
        let r = j * sub..(j + 1) * sub;
        sw[j] = w[r.clone()].iter().sum();
        let (s, m) = make_qkx3_quants(
            &x[r.clone()],
            &w[r.clone()],
            qmax,
            -0.9,
            0.05,
            36,
            &mut codes[r],
        );
        scales[j] = s;
        mins[j] = m;
    }
    let mut ls = vec![0u8; nsub];
    let mut lm = vec![0u8; nsub];
    let d = f16_round(make_qp_quants(&scales, &sw, smax, &mut ls));
    let dmin = f16_round(make_qp_quants(&mins, &sw, smax, &mut lm));
    finish_affine(x, w, sub, qmax, smax, d, dmin, ls, lm)
}

/// llama.cpp's reference Q4_K / Q5_K super-block (no importance): weights
/// `√(mean x² of the sub-block) + |x|`, 21 scales per sub-block, scales and mins
/// quantized by their maximum.
fn affine_ref(x: &[f32], w: &[f32; QK_K], qmax: i32) -> AffineBlock {
    let mut codes = [0u8; QK_K];
    let (mut scales, mut mins) = ([0.0f32; 8], [0.0f32; 8]);
    for j in 0..8 {
        let r = 32 * j..32 * j + 32;
        let av = mean_sq(&x[r.clone()]).sqrt();
        let wr: [f32; 32] = core::array::from_fn(|l| av + x[32 * j + l].abs());
        let (s, m) = make_qkx3_quants(&x[r.clone()], &wr, qmax, -1.0, 0.1, 20, &mut codes[r]);
        scales[j] = s;
        mins[j] = m;
    }
    let max_scale = scales.iter().fold(0.0f32, |a, &b| a.max(b));
    let max_min = mins.iter().fold(0.0f32, |a, &b| a.max(b));
    let inv_s = if max_scale > 0.0 {
        63.0 / max_scale
    } else {
        0.0
    };
    let inv_m = if max_min > 0.0 { 63.0 / max_min } else { 0.0 };
    let ls = scales
        .iter()
        .map(|&s| nearest_int(inv_s * s).clamp(0, 63) as u8)
        .collect();
    let lm = mins
        .iter()
        .map(|&m| nearest_int(inv_m * m).clamp(0, 63) as u8)
        .collect();
    let d = f16_round(max_scale / 63.0);
    let dmin = f16_round(max_min / 63.0);
    finish_affine(x, w, 32, qmax, 63, d, dmin, ls, lm)
}

#[allow(clippy::too_many_arguments)]
fn finish_affine(
    x: &[f32],
    w: &[f32; QK_K],
    sub: usize,
    qmax: i32,
    smax: i32,
    mut d: f32,
    mut dmin: f32,
    ls: Vec<u8>,
    lm: Vec<u8>,
) -> AffineBlock {
    let mut sc: Vec<i32> = ls.iter().map(|&v| (v as i32).min(smax)).collect();
    let mut m: Vec<i32> = lm.iter().map(|&v| (v as i32).min(smax)).collect();
    let mut codes = [0u8; QK_K];
    let problem = Affine {
        x,
        w,
        sub,
        qmax,
        smax,
    };
    let err = problem.refine(&mut d, &mut dmin, &mut sc, &mut m, &mut codes, ROUNDS);
    AffineBlock {
        d,
        dmin,
        sc,
        m,
        codes,
        err,
    }
}

/// One Q4_K / Q5_K super-block, best of the importance path and (without importance)
/// the reference path.
fn k4_like_block(x: &[f32], q: Option<&[f32]>, qmax: i32) -> AffineBlock {
    let sigma2 = 2.0 * mean_sq(x);
    let w = weights(x, q, sigma2, |v| (sigma2 + v * v).sqrt());
    let best = affine_impl(x, &w, 32, qmax, 63);
    if q.is_some() {
        return best;
    }
    let cand = affine_ref(x, &w, qmax);
    if cand.err < best.err {
        cand
    } else {
        best
    }
}

/// f32 row → Q4_K.
pub(crate) fn quantize_row_q4_k(x: &[f32], importance: Option<&[f32]>, out: &mut [u8]) {
    for (i, b) in as_blocks_mut::<BlockQ4K>(out).iter_mut().enumerate() {
        let r = i * QK_K..(i + 1) * QK_K;
        let blk = k4_like_block(&x[r.clone()], importance.map(|q| &q[r]), 15);
        b.d = f32_to_f16(blk.d);
        b.dmin = f32_to_f16(blk.dmin);
        b.scales = pack_scales_k4(&blk.sc, &blk.m);
        b.qs = core::array::from_fn(|i| {
            let (c, l) = (i / 32, i % 32);
            blk.codes[64 * c + l] | (blk.codes[64 * c + 32 + l] << 4)
        });
    }
}

/// f32 row → Q5_K.
pub(crate) fn quantize_row_q5_k(x: &[f32], importance: Option<&[f32]>, out: &mut [u8]) {
    for (i, b) in as_blocks_mut::<BlockQ5K>(out).iter_mut().enumerate() {
        let r = i * QK_K..(i + 1) * QK_K;
        let blk = k4_like_block(&x[r.clone()], importance.map(|q| &q[r]), 31);
        let l = &blk.codes;
        b.d = f32_to_f16(blk.d);
        b.dmin = f32_to_f16(blk.dmin);
        b.scales = pack_scales_k4(&blk.sc, &blk.m);
        b.qs = core::array::from_fn(|i| {
            let (c, p) = (i / 32, i % 32);
            (l[64 * c + p] & 0xF) | ((l[64 * c + 32 + p] & 0xF) << 4)
        });
        b.qh =
            core::array::from_fn(|p| (0..8).fold(0u8, |h, k| h | ((l[32 * k + p] >> 4) & 1) << k));
    }
}

/// f32 row → Q2_K.
pub(crate) fn quantize_row_q2_k(x: &[f32], importance: Option<&[f32]>, out: &mut [u8]) {
    for (i, b) in as_blocks_mut::<BlockQ2K>(out).iter_mut().enumerate() {
        let r = i * QK_K..(i + 1) * QK_K;
        let xb = &x[r.clone()];
        let sigma2 = mean_sq(xb);
        let w = weights(xb, importance.map(|q| &q[r]), sigma2, |v| {
            (sigma2 + v * v).sqrt()
        });
        let blk = affine_impl(xb, &w, 16, 3, 15);
        b.d = f32_to_f16(blk.d);
        b.dmin = f32_to_f16(blk.dmin);
        b.scales = core::array::from_fn(|j| (blk.sc[j] as u8) | ((blk.m[j] as u8) << 4));
        b.qs = pack_2bit(&blk.codes);
    }
}

/// One symmetric super-block (Q3_K, Q6_K): per-16 `make_qx_quants`, then the scales
/// onto `d·sc` with `sc` in `sc_range`, then refinement. Returns (d, sc, codes 0..2·nmax).
fn symmetric_block(
    x: &[f32],
    w: &[f32; QK_K],
    nmax: i32,
    quant_scales: impl Fn(&[f32], &[f32]) -> (f32, Vec<i32>),
    sc_range: (i32, i32),
) -> (f32, Vec<i32>, [u8; QK_K]) {
    let mut codes = [0u8; QK_K];
    let mut scales = [0.0f32; 16];
    let mut sw = [0.0f32; 16];
    for j in 0..16 {
        let r = 16 * j..16 * j + 16;
        sw[j] = w[r.clone()].iter().sum();
        scales[j] = make_qx_quants(
            &x[r.clone()],
            &w[r.clone()],
            nmax,
            -nmax,
            nmax - 1,
            &mut codes[r],
        );
    }
    let (d, mut sc) = quant_scales(&scales, &sw);
    let mut d = f16_round(d);
    let nearest = |v: f32| (nearest_int(v).clamp(-nmax, nmax - 1) + nmax) as u8;
    let value = |c: u8| (c as i32 - nmax) as f32;
    let problem = Symmetric {
        x,
        w,
        sub: 16,
        sc_range,
        nearest,
        value,
    };
    problem.refine(&mut d, &mut sc, &mut codes, ROUNDS);
    (d, sc, codes)
}

/// f32 row → Q3_K.
pub(crate) fn quantize_row_q3_k(x: &[f32], importance: Option<&[f32]>, out: &mut [u8]) {
    for (i, b) in as_blocks_mut::<BlockQ3K>(out).iter_mut().enumerate() {
        let r = i * QK_K..(i + 1) * QK_K;
        let xb = &x[r.clone()];
        let sigma2 = 2.0 * mean_sq(xb);
        let w = weights(xb, importance.map(|q| &q[r]), sigma2, |v| {
            (sigma2 + v * v).sqrt()
        });
        let (d, sc, mut codes) = symmetric_block(
            xb,
            &w,
            4,
            |scales, sw| {
                let mut ls = [0u8; 16];
                let d = make_qx_quants(scales, sw, 32, -32, 31, &mut ls);
                (d, ls.iter().map(|&l| l as i32 - 32).collect())
            },
            (-32, 31),
        );
        let mut scales = [0u8; 12];
        for (j, &s) in sc.iter().enumerate() {
            let l = (s + 32) as u8;
            if j < 8 {
                scales[j] = l & 0xF;
            } else {
                scales[j - 8] |= (l & 0xF) << 4;
            }
            scales[8 + j % 4] |= (l >> 4) << (2 * (j / 4));
        }
        let mut hmask = [0u8; 32];
        for (j, c) in codes.iter_mut().enumerate() {
            if *c > 3 {
                hmask[j % 32] |= 1 << (j / 32);
                *c -= 4;
            }
        }
        b.hmask = hmask;
        b.qs = pack_2bit(&codes);
        b.scales = scales;
        b.d = f32_to_f16(d);
    }
}

/// f32 row → Q6_K.
pub(crate) fn quantize_row_q6_k(x: &[f32], importance: Option<&[f32]>, out: &mut [u8]) {
    for (i, b) in as_blocks_mut::<BlockQ6K>(out).iter_mut().enumerate() {
        let r = i * QK_K..(i + 1) * QK_K;
        let xb = &x[r.clone()];
        // Q6_K's importance path uses the raw importance as weights.
        let w: [f32; QK_K] = match importance {
            Some(q) => core::array::from_fn(|l| q[r.start + l]),
            None => [1.0; QK_K],
        };
        let (d, sc, codes) = symmetric_block(
            xb,
            &w,
            32,
            |scales, _| {
                let (mut max, mut amax) = (0.0f32, 0.0f32);
                for &s in scales {
                    if s.abs() > amax {
                        amax = s.abs();
                        max = s;
                    }
                }
                if amax < GROUP_MAX_EPS {
                    return (0.0, vec![0; 16]);
                }
                let iscale = -128.0 / max;
                let sc = scales
                    .iter()
                    .map(|&s| nearest_int(iscale * s).clamp(-128, 127))
                    .collect();
                (1.0 / iscale, sc)
            },
            (-128, 127),
        );
        let l = &codes;
        b.ql = core::array::from_fn(|i| {
            let (h, k, p) = (i / 64, (i / 32) % 2, i % 32);
            let base = 128 * h + 32 * k + p;
            (l[base] & 0xF) | ((l[base + 64] & 0xF) << 4)
        });
        b.qh = core::array::from_fn(|i| {
            let (h, p) = (i / 32, i % 32);
            (0..4).fold(0u8, |q, k| q | ((l[128 * h + 32 * k + p] >> 4) << (2 * k)))
        });
        b.scales = core::array::from_fn(|j| sc[j] as i8);
        b.d = f32_to_f16(d);
    }
}
