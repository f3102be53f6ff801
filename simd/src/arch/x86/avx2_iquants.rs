//! AVX2 dots of the codebook quants against Q8_K: IQ1_S, IQ1_M, IQ2_XXS.
//!
//! Scalar references: [`crate::blocks::iq1`], [`crate::blocks::iq2`]. One 32-element
//! sub-block per step: its four 8-byte grid rows are gathered from the tables with
//! scalar index arithmetic into one 256-bit register, multiplied with the 32 activation
//! bytes, and the i16 pair sums are scaled by the odd multipliers `2s+1` with `madd`:
//! ```text
//! IQ1_S:   A += ls·Σ (grid+1)·y − ls·Σy  (unsigned grid: maddubs as is);  D = Σ ls·σ·Σy
//! IQ1_M:   8A + D = Σ ls·Σ (8·grid + σ_g)·y in one pass (rows from IQ1M_W8), ls1 | ls2
//!          per 128-bit half
//! IQ2_XXS: B += ls·Σ grid·(±y)  (signs applied to y: (y ^ m) − m with KSIGNS64 masks)
//! ```
//! Each block is reduced to its exact integers and combined with the reference's float
//! expression, so results are bit-identical to the scalar references.

use core::arch::x86_64::*;

use super::f16c;
use super::{hsum_i32, load128, load256, load256_i8, mul_i8_pairs};
use crate::blocks::as_blocks;
use crate::blocks::iq1::{BlockIQ1M, BlockIQ1S};
use crate::blocks::iq2::BlockIQ2XXS;
use crate::blocks::q8::BlockQ8K;
use crate::tables::{IQ1M_W8, IQ1S_GRID_U, IQ1_DELTA, IQ2XXS_GRID, KSIGNS64};

/// Four 8-byte table rows as one vector (row 0 in the lowest bytes).
#[inline]
#[target_feature(enable = "avx2")]
fn rows4(r: [u64; 4]) -> __m256i {
    _mm256_set_epi64x(r[3] as i64, r[2] as i64, r[1] as i64, r[0] as i64)
}

/// IQ1_S × Q8_K (bit-identical to the scalar reference).
///
/// Uses the unsigned grid `g + 1` (`IQ1S_GRID_U`) so `maddubs` needs no sign moves:
/// `A = Σ ls·Σ (g+1)·y − Σ ls·Y_ib` with `Y_ib = bsums[2ib] + bsums[2ib+1]`; the
/// per-sub-block terms `Σ ls·Y` and `D = Σ ls·σ·Y` are computed for all 8 sub-blocks
/// at once from the `qh` words. (Fetching the grid rows with AVX2 gathers instead of
/// scalar loads was measured no faster on Zen 3.)
#[target_feature(enable = "avx2,fma,f16c")]
pub(super) fn vec_dot_iq1_s(w: &[u8], a: &[u8]) -> f32 {
    let mut acc = 0.0f32;
    for (x, y) in as_blocks::<BlockIQ1S>(w)
        .iter()
        .zip(as_blocks::<BlockQ8K>(a))
    {
        let mut sumi = _mm256_setzero_si256();
        for ib in 0..8 {
            let r = |g: usize| IQ1S_GRID_U[x.index(ib, g)];
            let g = rows4([r(0), r(1), r(2), r(3)]);
            let p = _mm256_maddubs_epi16(g, load256_i8(&y.qs[32 * ib..]));
            let ls = _mm256_set1_epi16(x.ls(ib) as i16);
            sumi = _mm256_add_epi32(sumi, _mm256_madd_epi16(p, ls));
        }
        // 8 lanes, one per sub-block: Y_ib, ls_ib and ls_ib·σ_ib.
        let qh = _mm256_cvtepu16_epi32(load128(&x.qh));
        let ys = _mm256_madd_epi16(load256(&y.bsums), _mm256_set1_epi16(1));
        let s = _mm256_and_si256(_mm256_srli_epi32::<12>(qh), _mm256_set1_epi32(7));
        let ls = _mm256_add_epi32(_mm256_slli_epi32::<1>(s), _mm256_set1_epi32(1));
        let neg = _mm256_sub_epi32(_mm256_setzero_si256(), _mm256_srli_epi32::<15>(qh));
        let ls_sigma = _mm256_sub_epi32(_mm256_xor_si256(ls, neg), neg);
        let sa = hsum_i32(sumi) - hsum_i32(_mm256_mullo_epi32(ls, ys));
        let sd = hsum_i32(_mm256_mullo_epi32(ls_sigma, ys));
        acc += f16c(x.d) * y.d() * (sa as f32 + IQ1_DELTA * sd as f32);
    }
    acc
}

/// IQ1_M × Q8_K (bit-identical to the scalar reference).
#[target_feature(enable = "avx2,fma,f16c")]
pub(super) fn vec_dot_iq1_m(w: &[u8], a: &[u8]) -> f32 {
    let mut acc = 0.0f32;
    for (x, y) in as_blocks::<BlockIQ1M>(w)
        .iter()
        .zip(as_blocks::<BlockQ8K>(a))
    {
        let mut s8 = _mm256_setzero_si256();
        for j in 0..4 {
            // Sub-blocks 2j and 2j+1 share scale word j: 6 bits each (s1 | s2 << 3).
            let word = x.sc(j);
            for (ib, bits) in [(2 * j, word & 63), (2 * j + 1, (word >> 6) & 63)] {
                // Rows of 8·g + σ_g ∈ {−9, −7, −1, 1, 7, 9}, one load per group.
                let r = |g: usize| IQ1M_W8[x.index12(ib, g)];
                let w8 = rows4([r(0), r(1), r(2), r(3)]);
                let p = mul_i8_pairs(w8, load256_i8(&y.qs[32 * ib..]));
                let sc = load256(&IQ1M_SCALES[bits as usize]);
                s8 = _mm256_add_epi32(s8, _mm256_madd_epi16(p, sc));
            }
        }
        // s8 = 8·A + D exactly, and fl(s8)·1/8 = fl(A + D/8) = the reference's
        // fl(fl(A) + 0.125·fl(D)) (A and D are exact in f32; scaling by 2^−3 commutes
        // with rounding).
        acc += x.d() * y.d() * (hsum_i32(s8) as f32 * IQ1_DELTA);
    }
    acc
}

/// For the 6 scale bits `b` of an IQ1_M sub-block: 8 × i16 `2·(b & 7) + 1` for groups
/// 0 and 1, then 8 × i16 `2·(b >> 3) + 1` for groups 2 and 3, as little-endian bytes.
/// A formula, evaluated at compile time.
static IQ1M_SCALES: [[u8; 32]; 64] = iq1m_scales();

const fn iq1m_scales() -> [[u8; 32]; 64] {
    let mut out = [[0u8; 32]; 64];
    let mut b = 0;
    while b < 64 {
        let mut k = 0;
        while k < 16 {
            let s = if k < 8 { b & 7 } else { b >> 3 };
            out[b][2 * k] = (2 * s + 1) as u8;
            k += 1;
        }
        b += 1;
    }
    out
}

/// IQ2_XXS × Q8_K (bit-identical to the scalar reference).
#[target_feature(enable = "avx2,fma,f16c")]
pub(super) fn vec_dot_iq2_xxs(w: &[u8], a: &[u8]) -> f32 {
    let mut acc = 0.0f32;
    for (x, y) in as_blocks::<BlockIQ2XXS>(w)
        .iter()
        .zip(as_blocks::<BlockQ8K>(a))
    {
        let mut sumi = _mm256_setzero_si256();
        for ib in 0..8 {
            let (a0, a1) = x.words(ib);
            let grid = |g: usize| IQ2XXS_GRID[((a0 >> (8 * g)) & 0xFF) as usize];
            let mask = |g: usize| KSIGNS64[((a1 >> (7 * g)) & 127) as usize];
            let q = rows4([grid(0), grid(1), grid(2), grid(3)]);
            let m = rows4([mask(0), mask(1), mask(2), mask(3)]);
            let yv = load256_i8(&y.qs[32 * ib..]);
            let ys = _mm256_sub_epi8(_mm256_xor_si256(yv, m), m);
            let p = _mm256_maddubs_epi16(q, ys);
            let ls = 2 * (a1 >> 28) as i16 + 1;
            sumi = _mm256_add_epi32(sumi, _mm256_madd_epi16(p, _mm256_set1_epi16(ls)));
        }
        acc += f16c(x.d) * y.d() * hsum_i32(sumi) as f32;
    }
    0.125 * acc
}
