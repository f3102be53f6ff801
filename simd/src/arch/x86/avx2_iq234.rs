//! AVX2 dots of the 2-, 3- and 4-bit codebook quants against Q8_K: IQ2_XS, IQ2_S,
//! IQ3_XXS, IQ3_S, IQ4_XS.
//!
//! Scalar references: [`crate::blocks::iq2`], [`crate::blocks::iq3`],
//! [`crate::blocks::iq4`]. One 32-element sub-block per step: four 8-byte grid rows
//! (IQ3: two 4-byte rows joined per group) and four 8-byte sign masks are gathered from
//! the tables with scalar index arithmetic; the signs are moved onto the activations
//! (`(y ^ m) − m`), `maddubs` multiplies the unsigned magnitudes (≤ 62) and `madd`
//! applies the odd multipliers `2s+1` (one per 128-bit half for IQ2_XS / IQ2_S):
//! ```text
//! B = Σ_ib ls·Σ grid·(±y)      acc += dx·dy·B;  × 1/8 (IQ2), × 1/4 (IQ3_XXS), × 1 (IQ3_S)
//! IQ4_XS: I = Σ_ib (ls−32)·Σ KV[q]·y (KV by byte shuffle)   acc += (dx·dy)·I
//! ```
//! The IQ2/IQ3 kernels repeat the reference's per-block float expression and are
//! bit-identical; IQ4_XS combines the sub-blocks in integers (the reference does it in
//! floats), so it differs by rounding order only.

use core::arch::x86_64::*;

use super::avx2_legacy::{iq4_values, unpack_nibbles};
use super::f16c;
use super::{hsum_i32, load256_i8, mul_i8_pairs, scales2};
use crate::blocks::as_blocks;
use crate::blocks::iq2::{BlockIQ2S, BlockIQ2XS};
use crate::blocks::iq3::{BlockIQ3S, BlockIQ3XXS};
use crate::blocks::iq4::BlockIQ4XS;
use crate::blocks::q8::BlockQ8K;
use crate::tables::SIGN_BYTE_MASKS;

/// Four 8-byte rows as one vector (row 0 in the lowest bytes).
#[inline]
#[target_feature(enable = "avx2")]
fn rows4(r: [u64; 4]) -> __m256i {
    _mm256_set_epi64x(r[3] as i64, r[2] as i64, r[1] as i64, r[0] as i64)
}

/// i16 pair sums of `Σ q·(±y)` for unsigned magnitudes `q` and 0x00/0xFF masks `m`.
#[inline]
#[target_feature(enable = "avx2")]
fn signed_pairs(q: __m256i, m: __m256i, y: __m256i) -> __m256i {
    _mm256_maddubs_epi16(q, _mm256_sub_epi8(_mm256_xor_si256(y, m), m))
}

/// `B` of one super-block: `group(ib, g)` gives (row, 8-bit sign byte, s) as the scalar
/// accessors do; with `per_half_scale` groups 2, 3 use their own `s` (IQ2_XS, IQ2_S).
#[inline]
#[target_feature(enable = "avx2")]
fn block_sum(
    y: &BlockQ8K,
    group: impl Fn(usize, usize) -> (u64, u8, u32),
    per_half_scale: bool,
) -> i32 {
    let mut sumi = _mm256_setzero_si256();
    for ib in 0..8 {
        let g = [group(ib, 0), group(ib, 1), group(ib, 2), group(ib, 3)];
        let q = rows4([g[0].0, g[1].0, g[2].0, g[3].0]);
        let m = rows4([
            SIGN_BYTE_MASKS[g[0].1 as usize],
            SIGN_BYTE_MASKS[g[1].1 as usize],
            SIGN_BYTE_MASKS[g[2].1 as usize],
            SIGN_BYTE_MASKS[g[3].1 as usize],
        ]);
        let p = signed_pairs(q, m, load256_i8(&y.qs[32 * ib..]));
        let (s_lo, s_hi) = if per_half_scale {
            (g[0].2, g[2].2)
        } else {
            (g[0].2, g[0].2)
        };
        let sc = scales2(2 * s_lo as i32 + 1, 2 * s_hi as i32 + 1);
        sumi = _mm256_add_epi32(sumi, _mm256_madd_epi16(p, sc));
    }
    hsum_i32(sumi)
}

/// IQ2_XS × Q8_K (bit-identical to the scalar reference).
#[target_feature(enable = "avx2,fma,f16c")]
pub(super) fn vec_dot_iq2_xs(w: &[u8], a: &[u8]) -> f32 {
    let mut acc = 0.0f32;
    for (x, y) in as_blocks::<BlockIQ2XS>(w)
        .iter()
        .zip(as_blocks::<BlockQ8K>(a))
    {
        let b = block_sum(y, |ib, g| x.group(ib, g), true);
        acc += f16c(x.d) * y.d() * b as f32;
    }
    0.125 * acc
}

/// IQ2_S × Q8_K (bit-identical to the scalar reference).
#[target_feature(enable = "avx2,fma,f16c")]
pub(super) fn vec_dot_iq2_s(w: &[u8], a: &[u8]) -> f32 {
    let mut acc = 0.0f32;
    for (x, y) in as_blocks::<BlockIQ2S>(w)
        .iter()
        .zip(as_blocks::<BlockQ8K>(a))
    {
        let b = block_sum(y, |ib, g| x.group(ib, g), true);
        acc += f16c(x.d) * y.d() * b as f32;
    }
    0.125 * acc
}

/// IQ3_XXS × Q8_K (bit-identical to the scalar reference).
#[target_feature(enable = "avx2,fma,f16c")]
pub(super) fn vec_dot_iq3_xxs(w: &[u8], a: &[u8]) -> f32 {
    let mut acc = 0.0f32;
    for (x, y) in as_blocks::<BlockIQ3XXS>(w)
        .iter()
        .zip(as_blocks::<BlockQ8K>(a))
    {
        let b = block_sum(y, |ib, g| x.group(ib, g), false);
        acc += f16c(x.d) * y.d() * b as f32;
    }
    0.25 * acc
}

/// IQ3_S × Q8_K (bit-identical to the scalar reference).
#[target_feature(enable = "avx2,fma,f16c")]
pub(super) fn vec_dot_iq3_s(w: &[u8], a: &[u8]) -> f32 {
    let mut acc = 0.0f32;
    for (x, y) in as_blocks::<BlockIQ3S>(w)
        .iter()
        .zip(as_blocks::<BlockQ8K>(a))
    {
        let b = block_sum(y, |ib, g| x.group(ib, g), false);
        acc += f16c(x.d) * y.d() * b as f32;
    }
    acc
}

/// IQ4_XS × Q8_K.
#[target_feature(enable = "avx2,fma,f16c")]
pub(super) fn vec_dot_iq4_xs(w: &[u8], a: &[u8]) -> f32 {
    let mut acc = 0.0f32;
    for (x, y) in as_blocks::<BlockIQ4XS>(w)
        .iter()
        .zip(as_blocks::<BlockQ8K>(a))
    {
        let mut sumi = _mm256_setzero_si256();
        for ib in 0..8 {
            let mut qs = [0u8; 16];
            qs.copy_from_slice(&x.qs[16 * ib..16 * ib + 16]);
            let v = iq4_values(unpack_nibbles(&qs));
            let p = mul_i8_pairs(v, load256_i8(&y.qs[32 * ib..]));
            let ls = _mm256_set1_epi16((x.ls(ib) - 32) as i16);
            sumi = _mm256_add_epi32(sumi, _mm256_madd_epi16(p, ls));
        }
        acc += f16c(x.d) * y.d() * hsum_i32(sumi) as f32;
    }
    acc
}
