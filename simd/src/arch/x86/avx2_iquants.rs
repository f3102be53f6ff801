//! AVX2 dot of IQ2_XXS against Q8_K (IQ1_S and IQ1_M: `avx2_iq1`).
//!
//! Scalar reference: [`crate::blocks::iq2`]. One 32-element
//! sub-block per step: its four 8-byte grid rows are gathered from the tables with
//! scalar index arithmetic into one 256-bit register, multiplied with the 32 activation
//! bytes, and the i16 pair sums are scaled by the odd multipliers `2s+1` with `madd`:
//! ```text
//! IQ2_XXS: B += ls·Σ grid·(±y)  (signs applied to y: (y ^ m) − m with KSIGNS64 masks)
//! ```
//! Each block is reduced to its exact integers and combined with the reference's float
//! expression, so the result is bit-identical to the scalar reference.

use core::arch::x86_64::*;

use super::f16c;
use super::{hsum_i32, load256_i8};
use crate::blocks::as_blocks;
use crate::blocks::iq2::BlockIQ2XXS;
use crate::blocks::q8::BlockQ8K;
use crate::tables::{IQ2XXS_GRID, KSIGNS64};

/// Four 8-byte table rows as one vector (row 0 in the lowest bytes).
#[inline]
#[target_feature(enable = "avx2")]
fn rows4(r: [u64; 4]) -> __m256i {
    _mm256_set_epi64x(r[3] as i64, r[2] as i64, r[1] as i64, r[0] as i64)
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
