//! TQ1_0 and TQ2_0 weight quantizers: `x ≈ d·t`, t ∈ {−1, 0, +1}, one f16 `d` per 256.
//!
//! llama.cpp rounds `x/amax` (`d = amax`), which sends most of a Gaussian block to 0.
//! The weighted least-squares optimum is found exactly instead: for a fixed `d` the best
//! `t_i` is `round(x_i/d)`, so the non-zero set is the k largest |x_i| for some k, and for
//! that set the best scale is `d_k = Σ w|x| / Σ w` with error reduction `(Σ w|x|)² / Σ w`.
//! Sorting by |x| and scanning k = 1..256 finds the optimum; `d` is then rounded to f16
//! and every element re-rounded to it. llama.cpp's `d = amax` (k = elements above
//! amax/2) is one of the scanned sets, so the error is never larger than its.
//!
//! Weights: the importance `q` itself (llama.cpp ignores it for these types), 1 without.

use super::{f16_round, nearest_int};
use crate::blocks::ternary::{BlockTQ1_0, BlockTQ2_0};
use crate::blocks::{as_blocks_mut, f32_to_f16};

const QK_K: usize = 256;

/// Optimal ternary block: (f16-representable d, trits 0..=2 meaning −1..=1).
fn ternary_block(x: &[f32], q: Option<&[f32]>) -> (f32, [u8; QK_K]) {
    let w = |i: usize| q.map_or(1.0, |q| q[i]);
    let mut order: [u16; QK_K] = core::array::from_fn(|i| i as u16);
    order.sort_unstable_by(|&a, &b| x[b as usize].abs().total_cmp(&x[a as usize].abs()));
    let (mut sxw, mut sw) = (0.0f64, 0.0f64);
    let (mut best, mut d) = (0.0f64, 0.0f64);
    for &i in &order {
        let i = i as usize;
        sxw += w(i) as f64 * x[i].abs() as f64;
        sw += w(i) as f64;
        if sw > 0.0 && sxw * sxw / sw > best {
            best = sxw * sxw / sw;
            d = sxw / sw;
        }
    }
    let d = f16_round(d as f32);
    let id = if d != 0.0 { 1.0 / d } else { 0.0 };
    let trits = core::array::from_fn(|i| (nearest_int(x[i] * id).clamp(-1, 1) + 1) as u8);
    (d, trits)
}

/// Base-3 digits (most significant first) → the byte whose fixed-point fraction they are.
fn pack_trits(digits: impl Iterator<Item = u8>) -> u8 {
    let v = digits.fold(0u16, |v, t| v * 3 + t as u16);
    (v * 256).div_ceil(243) as u8
}

/// f32 row → TQ1_0.
pub(crate) fn quantize_row_tq1_0(x: &[f32], importance: Option<&[f32]>, out: &mut [u8]) {
    for (i, b) in as_blocks_mut::<BlockTQ1_0>(out).iter_mut().enumerate() {
        let r = i * QK_K..(i + 1) * QK_K;
        let (d, t) = ternary_block(&x[r.clone()], importance.map(|q| &q[r]));
        b.qs = core::array::from_fn(|m| {
            if m < 32 {
                pack_trits((0..5).map(|n| t[32 * n + m]))
            } else {
                pack_trits((0..5).map(|n| t[160 + 16 * n + (m - 32)]))
            }
        });
        // Four trits, then a 0 as the fifth (least significant) digit.
        b.qh = core::array::from_fn(|j| pack_trits((0..4).map(|n| t[240 + 4 * n + j]).chain([0])));
        b.d = f32_to_f16(d);
    }
}

/// f32 row → TQ2_0.
pub(crate) fn quantize_row_tq2_0(x: &[f32], importance: Option<&[f32]>, out: &mut [u8]) {
    for (i, b) in as_blocks_mut::<BlockTQ2_0>(out).iter_mut().enumerate() {
        let r = i * QK_K..(i + 1) * QK_K;
        let (d, t) = ternary_block(&x[r.clone()], importance.map(|q| &q[r]));
        b.qs = core::array::from_fn(|k| {
            let (c, m) = (k / 32, k % 32);
            (0..4).fold(0u8, |q, l| q | t[128 * c + 32 * l + m] << (2 * l))
        });
        b.d = f32_to_f16(d);
    }
}
