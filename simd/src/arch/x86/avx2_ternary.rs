//! AVX2 dots of the ternary formats against Q8_K: TQ1_0, TQ2_0.
//!
//! Scalar reference: [`crate::blocks::ternary`]. Trits t ∈ {0,1,2} are unpacked to
//! bytes and multiplied with `maddubs`; the −1 offset is removed once per block with
//! Q8_K's `bsums`: `Σ (t−1)·y = Σ t·y − Σ bsums`. The i16 accumulator holds at most
//! 8 pair sums of 2·2·127, far from saturation.
//! ```text
//! TQ2_0: t = (qs >> 2l) & 3 per 32-byte plane
//! TQ1_0: digit n of byte q: x = q·3^n mod 256 (16-bit mullo on even/odd bytes),
//!        t = (3·x) >> 8; the 16 tail bytes are paired as digits (0,1), (2,3) per
//!        128-bit half, and digit 4 shares a register with the 4 qh bytes ×(1,3,9,27)
//! ```
//! Per block `acc += S·(dx·dy)` as in the reference: bit-identical results.

use core::arch::x86_64::*;

use super::f16c;
use super::{hsum_i32, load128, load256, load256_i8};
use crate::blocks::as_blocks;
use crate::blocks::q8::BlockQ8K;
use crate::blocks::ternary::{BlockTQ1_0, BlockTQ2_0};

/// `Σ t·y` pair sums (i16) → exact block integer `Σ (t−1)·y`.
#[inline]
#[target_feature(enable = "avx2")]
fn finish(s16: __m256i, y: &BlockQ8K) -> i32 {
    let ones = _mm256_set1_epi16(1);
    let st = _mm256_madd_epi16(s16, ones);
    let sy = _mm256_madd_epi16(load256(&y.bsums), ones);
    hsum_i32(_mm256_sub_epi32(st, sy))
}

/// TQ2_0 × Q8_K.
#[target_feature(enable = "avx2,fma,f16c")]
pub(super) fn vec_dot_tq2_0(w: &[u8], a: &[u8]) -> f32 {
    let mut acc = 0.0f32;
    let m3 = _mm256_set1_epi8(3);
    for (x, y) in as_blocks::<BlockTQ2_0>(w)
        .iter()
        .zip(as_blocks::<BlockQ8K>(a))
    {
        let mut s16 = _mm256_setzero_si256();
        for c in 0..2 {
            let q = load256(&x.qs[32 * c..]);
            let planes = [
                _mm256_and_si256(q, m3),
                _mm256_and_si256(_mm256_srli_epi16::<2>(q), m3),
                _mm256_and_si256(_mm256_srli_epi16::<4>(q), m3),
                _mm256_and_si256(_mm256_srli_epi16::<6>(q), m3),
            ];
            for (l, t) in planes.into_iter().enumerate() {
                let p = _mm256_maddubs_epi16(t, load256_i8(&y.qs[128 * c + 32 * l..]));
                s16 = _mm256_add_epi16(s16, p);
            }
        }
        acc += finish(s16, y) as f32 * (f16c(x.d) * y.d());
    }
    acc
}

/// Per byte: the top base-3 digit of `q·pow mod 256`, i.e. `((q·pow mod 256)·3) >> 8`.
#[inline]
#[target_feature(enable = "avx2")]
fn trits(q: __m256i, pow: __m256i) -> __m256i {
    let lo = _mm256_set1_epi16(0x00FF);
    let three = _mm256_set1_epi16(3);
    let digit = |q16: __m256i, p16: __m256i| {
        let x = _mm256_and_si256(_mm256_mullo_epi16(q16, p16), lo);
        _mm256_srli_epi16::<8>(_mm256_mullo_epi16(x, three))
    };
    let even = digit(_mm256_and_si256(q, lo), _mm256_and_si256(pow, lo));
    let odd = digit(_mm256_srli_epi16::<8>(q), _mm256_srli_epi16::<8>(pow));
    _mm256_or_si256(even, _mm256_slli_epi16::<8>(odd))
}

/// TQ1_0 × Q8_K.
#[target_feature(enable = "avx2,fma,f16c")]
pub(super) fn vec_dot_tq1_0(w: &[u8], a: &[u8]) -> f32 {
    let mut acc = 0.0f32;
    let pow = |lo: i8, hi: i8| _mm256_set_m128i(_mm_set1_epi8(hi), _mm_set1_epi8(lo));
    let qh_pows = _mm_setr_epi8(1, 1, 1, 1, 3, 3, 3, 3, 9, 9, 9, 9, 27, 27, 27, 27);
    let p01 = pow(1, 3);
    let p23 = pow(9, 27);
    let p4h = _mm256_set_m128i(qh_pows, _mm_set1_epi8(81));
    for (x, y) in as_blocks::<BlockTQ1_0>(w)
        .iter()
        .zip(as_blocks::<BlockQ8K>(a))
    {
        let mut s16 = _mm256_setzero_si256();
        let head = load256(&x.qs);
        for (n, p) in [1i8, 3, 9, 27, 81].into_iter().enumerate() {
            let t = trits(head, _mm256_set1_epi8(p));
            s16 = _mm256_add_epi16(s16, _mm256_maddubs_epi16(t, load256_i8(&y.qs[32 * n..])));
        }
        let tail = load128(&x.qs[32..]);
        let tail2 = _mm256_set_m128i(tail, tail);
        let qh = _mm_set1_epi32(i32::from_le_bytes(x.qh));
        let last = _mm256_set_m128i(qh, tail);
        for (v, p, off) in [(tail2, p01, 160), (tail2, p23, 192), (last, p4h, 224)] {
            let t = trits(v, p);
            s16 = _mm256_add_epi16(s16, _mm256_maddubs_epi16(t, load256_i8(&y.qs[off..])));
        }
        acc += finish(s16, y) as f32 * (f16c(x.d) * y.d());
    }
    acc
}
