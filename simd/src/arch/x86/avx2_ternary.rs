//! AVX2 dots of the ternary formats against Q8_K: TQ1_0, TQ2_0.
//!
//! Scalar reference: [`crate::blocks::ternary`]. Trits t ∈ {0,1,2} are unpacked to
//! bytes and multiplied with `maddubs`; the −1 offset is removed once per block with
//! Q8_K's `bsums`: `Σ (t−1)·y = Σ t·y − Σ bsums`. The i16 accumulator holds at most
//! 8 pair sums of 2·2·127, far from saturation.
//! ```text
//! TQ2_0: t = (qs >> 2l) & 3 per 32-byte plane
//! TQ1_0: digit n of byte q: x = q·3^n mod 256, t = (3·x) >> 8 = [x ≥ 86] + [x ≥ 171];
//!        x for digit n + 1 is 3·x mod 256 (two wrapping byte adds), so no multiplies;
//!        the 16 tail bytes are paired as digits (0,1), (2,3) per 128-bit half, and
//!        digit 4 shares a register with the 4 qh bytes ×(1,3,9,27)
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

/// Per byte `x`: `(3·x) >> 8`, the top base-3 digit of a byte that holds `q·3^n mod
/// 256`, computed without a multiply as `[x ≥ 86] + [x ≥ 171]` (3x ≥ 256 ⟺ x ≥ 86,
/// 3x ≥ 512 ⟺ x ≥ 171), with unsigned compares done as signed ones on `x ^ 0x80`.
#[inline]
#[target_feature(enable = "avx2")]
fn top_digit(x: __m256i) -> __m256i {
    let bias = _mm256_set1_epi8(-128);
    let xs = _mm256_xor_si256(x, bias);
    let ge86 = _mm256_cmpgt_epi8(xs, _mm256_set1_epi8((85u8 ^ 0x80) as i8));
    let ge171 = _mm256_cmpgt_epi8(xs, _mm256_set1_epi8((170u8 ^ 0x80) as i8));
    // Each compare is −1 where true: the digit is −(ge86 + ge171) ∈ {0, 1, 2}.
    _mm256_abs_epi8(_mm256_add_epi8(ge86, ge171))
}

/// `3·x mod 256` per byte: the next digit's `q·3^(n+1) mod 256` (wrapping byte adds).
#[inline]
#[target_feature(enable = "avx2")]
fn times3(x: __m256i) -> __m256i {
    _mm256_add_epi8(_mm256_add_epi8(x, x), x)
}

/// `3·x mod 256` per byte of a 128-bit vector.
#[inline]
#[target_feature(enable = "avx2")]
fn times3_128(x: __m128i) -> __m128i {
    _mm_add_epi8(_mm_add_epi8(x, x), x)
}

/// TQ1_0 × Q8_K.
#[target_feature(enable = "avx2,fma,f16c")]
pub(super) fn vec_dot_tq1_0(w: &[u8], a: &[u8]) -> f32 {
    let mut acc = 0.0f32;
    for (x, y) in as_blocks::<BlockTQ1_0>(w)
        .iter()
        .zip(as_blocks::<BlockQ8K>(a))
    {
        let mut s16 = _mm256_setzero_si256();
        let mut head = load256(&x.qs);
        for n in 0..5 {
            let t = top_digit(head);
            s16 = _mm256_add_epi16(s16, _mm256_maddubs_epi16(t, load256_i8(&y.qs[32 * n..])));
            head = times3(head);
        }
        // Tail bytes times 1, 3, 9, 27, 81; the qh bytes times 1, 3, 9, 27 (bytes
        // 4j..4j+3 hold qh·3^j: the four digits of every qh byte).
        let t1 = load128(&x.qs[32..]);
        let t3 = times3_128(t1);
        let t9 = times3_128(t3);
        let t27 = times3_128(t9);
        let t81 = times3_128(t27);
        let q1 = _mm_set1_epi32(i32::from_le_bytes(x.qh));
        let q3 = times3_128(q1);
        let q9 = times3_128(q3);
        let q27 = times3_128(q9);
        let qh = _mm_unpacklo_epi64(_mm_unpacklo_epi32(q1, q3), _mm_unpacklo_epi32(q9, q27));
        let groups = [
            (_mm256_set_m128i(t3, t1), 160),
            (_mm256_set_m128i(t27, t9), 192),
            (_mm256_set_m128i(qh, t81), 224),
        ];
        for (v, off) in groups {
            let t = top_digit(v);
            s16 = _mm256_add_epi16(s16, _mm256_maddubs_epi16(t, load256_i8(&y.qs[off..])));
        }
        acc += finish(s16, y) as f32 * (f16c(x.d) * y.d());
    }
    acc
}
