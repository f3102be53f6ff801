//! IQ2_XXS weight quantizer: groups of 8 magnitudes from the 256-point codebook
//! ({8, 25, 43} per element), explicit signs with even parity, a 4-bit odd multiplier
//! per 32 and one f16 scale per 256.
//!
//! ```text
//! x ≈ D·(2l+1)/8 · g_j · sign_j     per 32: l ∈ 0..16; per 8: g ∈ grid, 7 sign bits
//! ```
//!
//! First pass, llama.cpp's `quantize_row_iq2_xxs_impl` per 32: take |x| with its signs;
//! if a group has an odd number of negatives (the 8th sign is implied by parity), flip
//! the element with the smallest `w·x²`; find a starting scale with `make_qp_quants`,
//! then try 13 scales, rounding each element to the levels 1, 3, 5 (`2l+1`) and
//! replacing off-codebook groups by their best neighbour ([`super::grid`]), keeping the
//! best `(Σ w x q)² / Σ w q²`.
//!
//! Then, unlike llama.cpp (`D = max/31`, each multiplier rounded from the block scale on
//! the idealised levels 1, 3, 5 although the codebook holds 8, 25, 43): the scale `D`
//! and the multipliers are chosen for the weighted error of the decoded values
//! ([`super::oddscale`], llama.cpp's `D` among the candidates), and a second pass
//! re-picks every group's codebook point for its final scale, kept if the error drops.
//!
//! Weights, σ² = mean x² of the super-block: `q·√(σ² + x²)`, q ≡ 1 without importance
//! (llama.cpp requires an imatrix for this type).

use super::grid::{iq2xxs, Grid};
use super::oddscale::{choose_scale, Sums};
use super::search::{make_qp_quants, GROUP_MAX_EPS};
use super::{f16_round, mean_sq, nearest_int};
use crate::blocks::iq2::BlockIQ2XXS;
use crate::blocks::{as_blocks_mut, f32_to_f16};

const QK_K: usize = 256;
/// Codebook magnitudes by level.
const MAGS: [f32; 3] = [8.0, 25.0, 43.0];
/// Block multipliers (2l+1)/8, l = 0..16.
const MULTS: [f32; 16] = [
    0.125, 0.375, 0.625, 0.875, 1.125, 1.375, 1.625, 1.875, 2.125, 2.375, 2.625, 2.875, 3.125,
    3.375, 3.625, 3.875,
];

/// One 32-weight block: |x| with the parity flip applied (`xval`), its 4 sign bytes
/// (7 stored bits each), codebook points and the first-pass scale (on levels 1, 3, 5).
#[derive(Clone, Copy)]
struct Sub {
    xval: [f32; 32],
    signs: [u8; 4],
    index: [u16; 4],
    scale: f32,
}

/// The best neighbour for `xval` at `scale` on the idealised levels, weighted by `wn`.
fn best_neighbour(nb: &[u16], xval: &[f32], wn: &[f32], scale: f32, grid: &Grid) -> u16 {
    let mut best = (nb[0], f32::MAX);
    for &i in nb {
        let gl = &grid.levels[i as usize];
        let d2: f32 = (0..8)
            .map(|j| {
                let d = scale * (2 * gl[j] + 1) as f32 - xval[j];
                wn[j] * d * d
            })
            .sum();
        if d2 < best.1 {
            best = (i, d2);
        }
    }
    best.0
}

/// Levels of 32 values at inverse scale `id` on the idealised grid, as codebook points.
fn round_to_grid(xval: &[f32; 32], waux: &[f32], id: f32, grid: &Grid) -> [u16; 4] {
    core::array::from_fn(|k| {
        let xg = &xval[8 * k..8 * k + 8];
        let lv: [u8; 8] =
            core::array::from_fn(|j| nearest_int(0.5 * (id * xg[j] - 1.0)).clamp(0, 2) as u8);
        match grid.lookup(&lv) {
            Ok(i) => i,
            Err(nb) => best_neighbour(nb, xg, &waux[8 * k..8 * k + 8], 1.0 / id, grid),
        }
    })
}

/// `(Σ w·x·q, Σ w·q²)` on the idealised levels q = 2l+1.
fn ideal_sums(xval: &[f32; 32], w: &[f32], index: &[u16; 4], grid: &Grid) -> (f32, f32) {
    let (mut sqx, mut sq2) = (0.0f32, 0.0f32);
    for (k, &i) in index.iter().enumerate() {
        for (j, &l) in grid.levels[i as usize].iter().enumerate() {
            let q = (2 * l + 1) as f32;
            sqx += w[8 * k + j] * xval[8 * k + j] * q;
            sq2 += w[8 * k + j] * q * q;
        }
    }
    (sqx, sq2)
}

/// llama.cpp's first pass over one 32-weight block.
fn first_pass(x: &[f32], w: &[f32], grid: &Grid) -> Sub {
    let waux: [f32; 32] = core::array::from_fn(|i| w[i].sqrt());
    let mut xval = [0.0f32; 32];
    let mut signs = [0u8; 4];
    for k in 0..4 {
        let mut s = 0u8;
        for i in 0..8 {
            let v = x[8 * k + i];
            xval[8 * k + i] = v.abs();
            if v < 0.0 {
                s |= 1 << i;
            }
        }
        if s.count_ones() % 2 == 1 {
            let mut imin = 0;
            for i in 1..8 {
                let e = |i: usize| w[8 * k + i] * x[8 * k + i] * x[8 * k + i];
                if e(i) < e(imin) {
                    imin = i;
                }
            }
            xval[8 * k + imin] = -xval[8 * k + imin];
            s ^= 1 << imin;
        }
        signs[k] = s;
    }
    let zero = |xval, signs| Sub {
        xval,
        signs,
        index: [grid.lookup(&[0; 8]).unwrap_or(0); 4],
        scale: 0.0,
    };
    if xval.iter().fold(0.0f32, |m, &v| m.max(v)) < GROUP_MAX_EPS {
        return zero(xval, signs);
    }
    let mut codes = [0u8; 32];
    let mut scale = make_qp_quants(&xval, w, 4, &mut codes);
    let eff_max = scale * 3.0;
    if eff_max <= 0.0 {
        return zero(xval, signs);
    }
    let mut best = 0.0f32;
    let mut index = [0u16; 4];
    for is in -6..=6 {
        let id = (5.0 + 0.1 * is as f32) / eff_max;
        let cand = round_to_grid(&xval, &waux, id, grid);
        let (sqx, sq2) = ideal_sums(&xval, w, &cand, grid);
        if sq2 > 0.0 && sqx * sqx > best * sq2 {
            scale = sqx / sq2;
            best = scale * sqx;
            index = cand;
        }
    }
    if scale > 0.0 {
        index = round_to_grid(&xval, &waux, 1.0 / scale, grid);
        let (sqx, sq2) = ideal_sums(&xval, w, &index, grid);
        if sq2 > 0.0 {
            scale = sqx / sq2;
        }
    }
    Sub {
        xval,
        signs,
        index,
        scale: scale.max(0.0),
    }
}

/// Sums on the real codebook magnitudes.
fn real_sums(sub: &Sub, w: &[f32], grid: &Grid) -> Sums {
    let mut s = Sums::default();
    for (k, &i) in sub.index.iter().enumerate() {
        for (j, &l) in grid.levels[i as usize].iter().enumerate() {
            let (x, w, q) = (
                sub.xval[8 * k + j] as f64,
                w[8 * k + j] as f64,
                MAGS[l as usize] as f64,
            );
            s.s += w * x * q;
            s.t += w * q * q;
            s.x += w * x * x;
        }
    }
    s
}

/// The codebook point with the least weighted error for 8 magnitudes at `unit`.
fn best_group(xval: &[f32], w: &[f32], unit: f32, grid: &Grid) -> u16 {
    let lv: [u8; 8] = core::array::from_fn(|j| {
        let v = xval[j] / unit;
        if v < 16.5 {
            0
        } else if v < 34.0 {
            1
        } else {
            2
        }
    });
    match grid.lookup(&lv) {
        Ok(i) => i,
        Err(nb) => {
            // Error of each element at each level: a candidate's error is 8 lookups.
            let e: [[f32; 3]; 8] = core::array::from_fn(|j| {
                core::array::from_fn(|l| {
                    let d = xval[j] - unit * MAGS[l];
                    w[j] * d * d
                })
            });
            let mut best = (nb[0], f32::MAX);
            for &i in nb {
                let gl = &grid.levels[i as usize];
                let err: f32 = (0..8).map(|j| e[j][gl[j] as usize]).sum();
                if err < best.1 {
                    best = (i, err);
                }
            }
            best.0
        }
    }
}

/// f32 row → IQ2_XXS.
pub(crate) fn quantize_row_iq2_xxs(x: &[f32], importance: Option<&[f32]>, out: &mut [u8]) {
    let grid = iq2xxs();
    for (i, b) in as_blocks_mut::<BlockIQ2XXS>(out).iter_mut().enumerate() {
        let r = i * QK_K..(i + 1) * QK_K;
        let xb = &x[r.clone()];
        let sigma2 = mean_sq(xb);
        let w: [f32; QK_K] = core::array::from_fn(|l| {
            importance.map_or(1.0, |q| q[r.start + l]) * (sigma2 + xb[l] * xb[l]).sqrt()
        });
        let mut subs: Vec<Sub> = (0..8)
            .map(|ib| first_pass(&xb[32 * ib..32 * ib + 32], &w[32 * ib..32 * ib + 32], grid))
            .collect();
        let max_scale = subs.iter().fold(0.0f32, |m, s| m.max(s.scale));
        let (mut d, mut ls) = (0.0f32, vec![0u8; 8]);
        if max_scale > 0.0 {
            let sums: Vec<Sums> = subs
                .iter()
                .enumerate()
                .map(|(ib, s)| real_sums(s, &w[32 * ib..], grid))
                .collect();
            let base = max_scale / 31.0;
            let err;
            (d, ls, err) = choose_scale(&sums, base, &[f16_round(base)], &MULTS);
            let mut err = err;
            for _ in 0..2 {
                let next: Vec<Sub> = subs
                    .iter()
                    .enumerate()
                    .map(|(ib, s)| {
                        let unit = d * MULTS[ls[ib] as usize];
                        let wb = &w[32 * ib..32 * ib + 32];
                        Sub {
                            index: core::array::from_fn(|k| {
                                best_group(
                                    &s.xval[8 * k..8 * k + 8],
                                    &wb[8 * k..8 * k + 8],
                                    unit,
                                    grid,
                                )
                            }),
                            ..*s
                        }
                    })
                    .collect();
                let sums: Vec<Sums> = next
                    .iter()
                    .enumerate()
                    .map(|(ib, s)| real_sums(s, &w[32 * ib..], grid))
                    .collect();
                let (nd, nls, nerr) = choose_scale(&sums, d, &[d], &MULTS);
                if nerr < err {
                    (d, ls, err, subs) = (nd, nls, nerr, next);
                } else {
                    break;
                }
            }
        }
        b.d = f32_to_f16(d);
        for (ib, s) in subs.iter().enumerate() {
            let a0 = s
                .index
                .iter()
                .enumerate()
                .fold(0u32, |a, (k, &i)| a | ((i as u32) << (8 * k)));
            let a1 = s
                .signs
                .iter()
                .enumerate()
                .fold((ls[ib] as u32) << 28, |a, (k, &sg)| {
                    a | (((sg & 127) as u32) << (7 * k))
                });
            b.qs[8 * ib..8 * ib + 4].copy_from_slice(&a0.to_le_bytes());
            b.qs[8 * ib + 4..8 * ib + 8].copy_from_slice(&a1.to_le_bytes());
        }
    }
}
