//! IQ4_XS and IQ4_NL weight quantizers: `x ≈ d·(ls−32)·KV[c]` (IQ4_XS) or `x ≈ d·KV[c]`
//! (IQ4_NL, one f16 `d` per 32 values) with the 16 non-linear IQ4_NL values.
//!
//! IQ4_XS:
//! llama.cpp's `quantize_row_iq4_nl_impl(256, 32, …, ntry = 7)`: per 32-element
//! sub-block start from the scale that maps the largest |x| to `KV[0]` = −127, try 15
//! scales `(k − 127)/max`, rounding each value to the nearest table entry and keeping
//! the best `(Σ w q x)² / Σ w q²`; then `d = −max_scale/32`, `ls = round(scale/d)`.
//! Then [`super::refine`] (neighbouring `ls`, least-squares `d`).
//!
//! Weights, σ² = 2·mean x² of the super-block: `q·√(σ² + x²)`, with q ≡ 1 without
//! importance (llama.cpp uses x² there, which is worse on plain RMSE).
//!
//! IQ4_NL: llama.cpp's `quantize_row_iq4_nl_impl(32, 32, …, ntry = 7)`, the same block
//! search with σ² = 2·mean x² of the 32-element block and `d` the block's scale. The
//! candidates, each f16-rounded and re-rounded before its error is measured: that
//! search with our weights; without importance also with llama.cpp's (x²), so its
//! choice is among them; and the mirrored search that maps the largest |x| to
//! `KV[15]` = 113 instead of −127 (the table is not symmetric). The winner gets
//! [`super::refine`]'s least-squares refits of `d`.

use super::refine::Symmetric;
use super::search::GROUP_MAX_EPS;
use super::{f16_round, mean_sq, nearest_int};
use crate::blocks::iq4::{BlockIQ4NL, BlockIQ4XS};
use crate::blocks::{as_blocks_mut, f32_to_f16};
use crate::tables::KVALUES_IQ4NL;

const QK_K: usize = 256;

/// Index of the table value nearest to `x` (ggml's `best_index_int8`, ties to the lower).
pub(crate) fn best_index(values: &[i8; 16], x: f32) -> u8 {
    if x <= values[0] as f32 {
        return 0;
    }
    if x >= values[15] as f32 {
        return 15;
    }
    let (mut lo, mut hi) = (0usize, 15usize);
    while hi - lo > 1 {
        let mid = (lo + hi) / 2;
        if x < values[mid] as f32 {
            hi = mid;
        } else {
            lo = mid;
        }
    }
    if x - (values[hi - 1] as f32) < values[hi] as f32 - x {
        (hi - 1) as u8
    } else {
        hi as u8
    }
}

/// Best scale of one sub-block (llama.cpp's per-block search), 0 for an all-zero block.
fn sub_block_scale(x: &[f32], w: &[f32]) -> f32 {
    anchored_scale(x, w, false)
}

/// llama.cpp's per-block search (`mirrored == false`): with `max` the element of largest
/// |x|, start from `id = 127/max`, try `id = (KV[0] + k)/max`, `k ∈ −7..=7`, rounding
/// `id·x` to the nearest table value, and keep the best `(Σ w q x)² / Σ w q²`.
/// Mirrored: start from `KV[15]/max` and try `(KV[15] + k)/max`.
fn anchored_scale(x: &[f32], w: &[f32], mirrored: bool) -> f32 {
    let kv = &KVALUES_IQ4NL;
    let (mut max, mut amax) = (0.0f32, 0.0f32);
    for &v in x {
        if v.abs() > amax {
            amax = v.abs();
            max = v;
        }
    }
    if amax < GROUP_MAX_EPS {
        return 0.0;
    }
    let fit = |id: f32| {
        let (mut sqx, mut sq2) = (0.0f32, 0.0f32);
        for (&v, &w) in x.iter().zip(w) {
            let q = kv[best_index(kv, id * v) as usize] as f32;
            sqx += w * q * v;
            sq2 += w * q * q;
        }
        (sqx, sq2)
    };
    let anchor = if mirrored { kv[15] } else { kv[0] } as f32;
    let (sqx, sq2) = if mirrored {
        fit(anchor / max)
    } else {
        fit(1.0 / (-max / anchor))
    };
    let mut d = if sq2 > 0.0 { sqx / sq2 } else { 0.0 };
    let mut best = d * sqx;
    for itry in -7..=7 {
        let (sqx, sq2) = fit((itry as f32 + anchor) / max);
        if sq2 > 0.0 && sqx * sqx > best * sq2 {
            d = sqx / sq2;
            best = d * sqx;
        }
    }
    d
}

/// f32 row → IQ4_XS.
pub(crate) fn quantize_row_iq4_xs(x: &[f32], importance: Option<&[f32]>, out: &mut [u8]) {
    let kv = &KVALUES_IQ4NL;
    for (i, b) in as_blocks_mut::<BlockIQ4XS>(out).iter_mut().enumerate() {
        let r = i * QK_K..(i + 1) * QK_K;
        let xb = &x[r.clone()];
        let sigma2 = 2.0 * mean_sq(xb);
        let w: [f32; QK_K] = match importance {
            Some(q) => core::array::from_fn(|l| q[r.start + l] * (sigma2 + xb[l] * xb[l]).sqrt()),
            None => core::array::from_fn(|l| (sigma2 + xb[l] * xb[l]).sqrt()),
        };
        let scales: [f32; 8] = core::array::from_fn(|j| {
            sub_block_scale(&xb[32 * j..32 * j + 32], &w[32 * j..32 * j + 32])
        });
        let (mut max_scale, mut amax) = (0.0f32, 0.0f32);
        for &s in &scales {
            if s.abs() > amax {
                amax = s.abs();
                max_scale = s;
            }
        }
        let d = -max_scale / 32.0;
        let id = if d != 0.0 { 1.0 / d } else { 0.0 };
        let mut sc: Vec<i32> = scales
            .iter()
            .map(|&s| nearest_int(id * s).clamp(-32, 31))
            .collect();
        let mut d = f16_round(d);
        let nearest = |v: f32| best_index(kv, v);
        let value = |c: u8| kv[c as usize] as f32;
        let mut codes = [0u8; QK_K];
        Symmetric {
            x: xb,
            w: &w,
            sub: 32,
            sc_range: (-32, 31),
            nearest,
            value,
        }
        .refine(&mut d, &mut sc, &mut codes, 3);
        b.d = f32_to_f16(d);
        let mut scales_h = 0u16;
        let mut scales_l = [0u8; 4];
        for (j, &s) in sc.iter().enumerate() {
            let l = (s + 32) as u8;
            scales_l[j / 2] |= (l & 0xF) << (4 * (j % 2));
            scales_h |= ((l >> 4) as u16) << (2 * j);
        }
        b.scales_h = scales_h.to_le_bytes();
        b.scales_l = scales_l;
        b.qs = core::array::from_fn(|k| {
            let (ib, j) = (k / 16, k % 16);
            codes[32 * ib + j] | (codes[32 * ib + 16 + j] << 4)
        });
    }
}

/// f32 row → IQ4_NL.
pub(crate) fn quantize_row_iq4_nl(x: &[f32], importance: Option<&[f32]>, out: &mut [u8]) {
    const QK: usize = 32;
    let kv = &KVALUES_IQ4NL;
    for (i, b) in as_blocks_mut::<BlockIQ4NL>(out).iter_mut().enumerate() {
        let r = i * QK..(i + 1) * QK;
        let xb = &x[r.clone()];
        let sigma2 = 2.0 * mean_sq(xb);
        let w: [f32; QK] = match importance {
            Some(q) => core::array::from_fn(|l| q[r.start + l] * (sigma2 + xb[l] * xb[l]).sqrt()),
            None => core::array::from_fn(|l| (sigma2 + xb[l] * xb[l]).sqrt()),
        };
        let sym = Symmetric {
            x: xb,
            w: &w,
            sub: QK,
            sc_range: (1, 1),
            nearest: |v: f32| best_index(kv, v),
            value: |c: u8| kv[c as usize] as f32,
        };
        // llama.cpp's own choice without importance: its x² weights.
        let llama = importance.is_none().then(|| {
            let w2: [f32; QK] = core::array::from_fn(|l| xb[l] * xb[l]);
            anchored_scale(xb, &w2, false)
        });
        let cands = [anchored_scale(xb, &w, false), anchored_scale(xb, &w, true)];
        let (mut d, mut best) = (0.0f32, f32::INFINITY);
        let mut codes = [0u8; QK];
        for c in cands.into_iter().chain(llama) {
            let c = f16_round(c);
            let e = sym.requant_all(c, &[1], &mut codes);
            if e < best {
                (d, best) = (c, e);
            }
        }
        let mut sc = [1];
        sym.refine(&mut d, &mut sc, &mut codes, 3);
        b.d = f32_to_f16(d);
        b.qs = core::array::from_fn(|j| codes[j] | (codes[j + 16] << 4));
    }
}
