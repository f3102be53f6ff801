//! Q8_0, Q4_0, Q4_1, Q5_0, Q5_1 weight quantizers (32-element blocks).
//!
//! Weights `w = q·sqrt(σ² + x²)`, σ² = mean x² of the row (`quantize_row_q4_0_impl`),
//! q ≡ 1 without importance. Candidates per block, the lower weighted error wins:
//! * llama.cpp's reference rounding: Q8_0 `d = amax/127`; Q4_0 `d = max/−8` (the
//!   element of largest |x| maps to −8), Q5_0 `d = max/−16`; Q4_1 `d = (max−min)/15`,
//!   Q5_1 `d = (max−min)/31`, `m = min`;
//! * the weighted search: `make_qx_quants` (Q8_0 over −127..127, Q4_0 over −8..7, Q5_0
//!   over −16..15) or `make_qkx3_quants` (Q4_1, Q5_1), what llama.cpp does with an
//!   imatrix (except for Q8_0, where it ignores the imatrix);
//! * Q5_0 only: `d = max/15` (the element of largest |x| on the short side of the grid).
//!
//! Every candidate is re-rounded against its f16-stored scale (nearest code per
//! element, optimal for a fixed scale) before its error is measured; the winner of the
//! symmetric types then gets least-squares refits of its scale, the winner of Q5_1
//! least-squares refits of `(d, m)` (Q4_1 keeps its winner as is). Without importance
//! Q8_0 is the reference alone, bit-exact with the activation quantizer
//! [`crate::blocks::q8::quantize_q8_0`] (round half away from zero with `1/d`).

use super::search::{make_qkx3_quants, make_qx_quants};
use super::{f16_round, importance_weights, mean_sq, nearest_int};
use crate::blocks::legacy::{BlockQ4_0, BlockQ4_1, BlockQ5_0, BlockQ5_1};
use crate::blocks::q8::BlockQ8_0;
use crate::blocks::{as_blocks_mut, f32_to_f16};

const QK: usize = 32;

/// Per-element weights of one row: `q·sqrt(σ² + x²)`, q ≡ 1 without importance.
fn row_weights(x: &[f32], importance: Option<&[f32]>) -> Vec<f32> {
    let mut w = vec![1.0; x.len()];
    let sigma2 = mean_sq(x);
    match importance {
        Some(q) => importance_weights(x, q, sigma2, &mut w),
        None => w
            .iter_mut()
            .zip(x)
            .for_each(|(w, &x)| *w = (sigma2 + x * x).sqrt()),
    }
    w
}

/// A symmetric block candidate `x ≈ d·(c − off)`: the f16-rounded d, its codes re-rounded
/// to it, and the weighted error.
fn symmetric_candidate(x: &[f32], w: &[f32], d: f32, off: i32, cmax: i32) -> (f32, [u8; QK], f32) {
    let d = f16_round(d);
    let id = if d != 0.0 { 1.0 / d } else { 0.0 };
    let mut codes = [0u8; QK];
    let mut err = 0.0f32;
    for ((c, &v), &w) in codes.iter_mut().zip(x).zip(w) {
        let l = (nearest_int(v * id) + off).clamp(0, cmax);
        *c = l as u8;
        let e = v - d * (l - off) as f32;
        err += w * e * e;
    }
    (d, codes, err)
}

/// Least-squares refits of a symmetric candidate's scale for its codes, kept while the
/// error drops.
fn refit_symmetric(
    x: &[f32],
    w: &[f32],
    mut best: (f32, [u8; QK], f32),
    off: i32,
    cmax: i32,
) -> (f32, [u8; QK], f32) {
    for _ in 0..3 {
        let (mut sxl, mut sll) = (0.0f32, 0.0f32);
        for ((&c, &v), &w) in best.1.iter().zip(x).zip(w) {
            let l = (c as i32 - off) as f32;
            sxl += w * v * l;
            sll += w * l * l;
        }
        if sll <= 0.0 {
            break;
        }
        let cand = symmetric_candidate(x, w, sxl / sll, off, cmax);
        if cand.2 < best.2 {
            best = cand;
        } else {
            break;
        }
    }
    best
}

/// An affine candidate `x ≈ d·c + m`, `c ∈ 0..=cmax`, with both scales f16-rounded,
/// codes re-rounded.
fn affine_candidate(x: &[f32], w: &[f32], d: f32, m: f32, cmax: i32) -> (f32, f32, [u8; QK], f32) {
    let (d, m) = (f16_round(d), f16_round(m));
    let id = if d != 0.0 { 1.0 / d } else { 0.0 };
    let mut codes = [0u8; QK];
    let mut err = 0.0f32;
    for ((c, &v), &w) in codes.iter_mut().zip(x).zip(w) {
        let l = nearest_int((v - m) * id).clamp(0, cmax);
        *c = l as u8;
        let e = v - (d * l as f32 + m);
        err += w * e * e;
    }
    (d, m, codes, err)
}

/// Weighted least-squares refits of an affine candidate's `(d, m)` for its codes, kept
/// while the error drops.
fn refit_affine(
    x: &[f32],
    w: &[f32],
    mut best: (f32, f32, [u8; QK], f32),
    cmax: i32,
) -> (f32, f32, [u8; QK], f32) {
    for _ in 0..3 {
        let (mut sw, mut sl, mut sll, mut sx, mut sxl) = (0.0f64, 0.0, 0.0, 0.0, 0.0);
        for ((&c, &v), &w) in best.2.iter().zip(x).zip(w) {
            let (l, v, w) = (c as f64, v as f64, w as f64);
            sw += w;
            sl += w * l;
            sll += w * l * l;
            sx += w * v;
            sxl += w * v * l;
        }
        let det = sw * sll - sl * sl;
        if det <= 1e-12 * sw * sll {
            break;
        }
        let d = (sw * sxl - sl * sx) / det;
        let m = (sll * sx - sl * sxl) / det;
        let cand = affine_candidate(x, w, d as f32, m as f32, cmax);
        if cand.3 < best.3 {
            best = cand;
        } else {
            break;
        }
    }
    best
}

fn pack_nibbles(codes: &[u8; QK]) -> [u8; 16] {
    core::array::from_fn(|j| codes[j] | (codes[j + 16] << 4))
}

/// 5-bit codes → low nibbles and the `qh` word of the fifth bits.
fn pack_five(codes: &[u8; QK]) -> ([u8; 16], [u8; 4]) {
    let qs = core::array::from_fn(|j| (codes[j] & 0xF) | ((codes[j + 16] & 0xF) << 4));
    let qh = codes
        .iter()
        .enumerate()
        .fold(0u32, |h, (i, &c)| h | (((c >> 4) & 1) as u32) << i);
    (qs, qh.to_le_bytes())
}

/// Signed value of largest magnitude (the first one on ties), 0 for an empty slice.
fn signed_amax(x: &[f32]) -> f32 {
    let (mut max, mut amax) = (0.0f32, 0.0f32);
    for &v in x {
        if v.abs() > amax {
            amax = v.abs();
            max = v;
        }
    }
    max
}

/// f32 row → Q8_0.
pub(crate) fn quantize_row_q8_0(x: &[f32], importance: Option<&[f32]>, out: &mut [u8]) {
    let Some(q) = importance else {
        crate::blocks::q8::quantize_q8_0(x, out);
        return;
    };
    let w = row_weights(x, Some(q));
    for ((xb, wb), b) in x
        .chunks_exact(QK)
        .zip(w.chunks_exact(QK))
        .zip(as_blocks_mut::<BlockQ8_0>(out))
    {
        let amax = xb.iter().fold(0.0f32, |m, v| m.max(v.abs()));
        let mut codes = [0u8; QK];
        let searched = make_qx_quants(xb, wb, 127, -127, 127, &mut codes);
        let mut best = symmetric_candidate(xb, wb, amax / 127.0, 127, 254);
        let cand = symmetric_candidate(xb, wb, searched, 127, 254);
        if cand.2 < best.2 {
            best = cand;
        }
        let best = refit_symmetric(xb, wb, best, 127, 254);
        b.d = f32_to_f16(best.0);
        b.qs = core::array::from_fn(|j| (best.1[j] as i32 - 127) as i8);
    }
}

/// f32 row → Q4_0.
pub(crate) fn quantize_row_q4_0(x: &[f32], importance: Option<&[f32]>, out: &mut [u8]) {
    let w = row_weights(x, importance);
    for ((xb, wb), b) in x
        .chunks_exact(QK)
        .zip(w.chunks_exact(QK))
        .zip(as_blocks_mut::<BlockQ4_0>(out))
    {
        // Reference: the element of largest |x| maps to −8.
        let (mut max, mut amax) = (0.0f32, 0.0f32);
        for &v in xb {
            if v.abs() > amax {
                amax = v.abs();
                max = v;
            }
        }
        let mut best = symmetric_candidate(xb, wb, max / -8.0, 8, 15);
        let mut codes = [0u8; QK];
        let searched = make_qx_quants(xb, wb, 8, -8, 7, &mut codes);
        let cand = symmetric_candidate(xb, wb, searched, 8, 15);
        if cand.2 < best.2 {
            best = cand;
        }
        let best = refit_symmetric(xb, wb, best, 8, 15);
        b.d = f32_to_f16(best.0);
        b.qs = pack_nibbles(&best.1);
    }
}

/// f32 row → Q4_1.
pub(crate) fn quantize_row_q4_1(x: &[f32], importance: Option<&[f32]>, out: &mut [u8]) {
    let w = row_weights(x, importance);
    for ((xb, wb), b) in x
        .chunks_exact(QK)
        .zip(w.chunks_exact(QK))
        .zip(as_blocks_mut::<BlockQ4_1>(out))
    {
        let min = xb.iter().fold(f32::MAX, |m, &v| m.min(v));
        let max = xb.iter().fold(f32::MIN, |m, &v| m.max(v));
        let mut best = affine_candidate(xb, wb, (max - min) / 15.0, min, 15);
        let mut codes = [0u8; QK];
        let (s, m) = make_qkx3_quants(xb, wb, 15, -0.9, 0.05, 36, &mut codes);
        let cand = affine_candidate(xb, wb, s, -m, 15);
        if cand.3 < best.3 {
            best = cand;
        }
        b.d = f32_to_f16(best.0);
        b.m = f32_to_f16(best.1);
        b.qs = pack_nibbles(&best.2);
    }
}

/// f32 row → Q5_0.
pub(crate) fn quantize_row_q5_0(x: &[f32], importance: Option<&[f32]>, out: &mut [u8]) {
    let w = row_weights(x, importance);
    for ((xb, wb), b) in x
        .chunks_exact(QK)
        .zip(w.chunks_exact(QK))
        .zip(as_blocks_mut::<BlockQ5_0>(out))
    {
        // Reference: the element of largest |x| maps to −16.
        let max = signed_amax(xb);
        let mut best = symmetric_candidate(xb, wb, max / -16.0, 16, 31);
        let mut codes = [0u8; QK];
        let searched = make_qx_quants(xb, wb, 16, -16, 15, &mut codes);
        for d in [searched, max / 15.0] {
            let cand = symmetric_candidate(xb, wb, d, 16, 31);
            if cand.2 < best.2 {
                best = cand;
            }
        }
        let best = refit_symmetric(xb, wb, best, 16, 31);
        b.d = f32_to_f16(best.0);
        (b.qs, b.qh) = pack_five(&best.1);
    }
}

/// f32 row → Q5_1.
pub(crate) fn quantize_row_q5_1(x: &[f32], importance: Option<&[f32]>, out: &mut [u8]) {
    let w = row_weights(x, importance);
    for ((xb, wb), b) in x
        .chunks_exact(QK)
        .zip(w.chunks_exact(QK))
        .zip(as_blocks_mut::<BlockQ5_1>(out))
    {
        let min = xb.iter().fold(f32::MAX, |m, &v| m.min(v));
        let max = xb.iter().fold(f32::MIN, |m, &v| m.max(v));
        let mut best = affine_candidate(xb, wb, (max - min) / 31.0, min, 31);
        let mut codes = [0u8; QK];
        let (s, m) = make_qkx3_quants(xb, wb, 31, -0.9, 0.05, 36, &mut codes);
        let cand = affine_candidate(xb, wb, s, -m, 31);
        if cand.3 < best.3 {
            best = cand;
        }
        let best = refit_affine(xb, wb, best, 31);
        b.d = f32_to_f16(best.0);
        b.m = f32_to_f16(best.1);
        (b.qs, b.qh) = pack_five(&best.2);
    }
}
