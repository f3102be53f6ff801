//! AVX2 dots of the K-quants against Q8_K: Q2_K, Q3_K, Q4_K, Q5_K, Q6_K.
//!
//! Scalar references: [`crate::blocks::kquants`]. Each super-block is walked in runs of
//! 32 elements that share one 32-byte load of the quants; codes are unpacked to
//! unsigned bytes, multiplied with `maddubs` (unsigned × signed → i16 pairs), scaled and
//! widened with `madd` by the sub-block scale (one scale per 128-bit half for the
//! 16-element scales), and summed in 8 × i32:
//! ```text
//! Q2_K: I = Σ sc·Σ q·y                      acc += (dy·d)·I − (dy·dmin)·Σ m·bsums
//! Q3_K: q = u − 4 with u = low2 | hbit<<2 ∈ 0..7:  I = Σ sc·Σ u·y − 4·Σ sc·bsums
//! Q4_K: I = Σ sc·Σ q·y   (q nibble)          acc += (d·dy)·I, acc −= (dmin·dy)·Σ m·bsums
//! Q5_K: as Q4_K with q = nibble | 16·bit
//! Q6_K: Σ (q−32)·y = maddubs(q, y) − maddubs(32, y), int8 scales per 16
//! ```
//! Q2_K reduces each block to (I, M) and repeats the reference float expression, so it
//! is bit-identical; the others accumulate per-block floats in 8 lanes.

use core::arch::x86_64::*;

use super::f16c;
use super::{hsum_f32, hsum_i32, load256, load256_i8, scales2};
use crate::blocks::as_blocks;
use crate::blocks::kquants::{
    k4_min_sum, q2k_min_sum, q3k_scales, scales_mins_k4, BlockQ2K, BlockQ3K, BlockQ4K, BlockQ5K,
    BlockQ6K,
};
use crate::blocks::q8::BlockQ8K;

/// Bytes of `v` shifted right by `n` bits (0..8) and masked with `mask`.
#[inline]
#[target_feature(enable = "avx2")]
fn shr_mask(v: __m256i, n: u32, mask: i8) -> __m256i {
    let s = _mm256_srl_epi16(v, _mm_cvtsi32_si128(n as i32));
    _mm256_and_si256(s, _mm256_set1_epi8(mask))
}

/// `value` in every byte whose bit `bit` (0..8) is set in `v`, else 0.
#[inline]
#[target_feature(enable = "avx2")]
fn bit_to(v: __m256i, bit: u32, value: i8) -> __m256i {
    let m = _mm256_set1_epi8((1u8 << bit) as i8);
    let set = _mm256_cmpeq_epi8(_mm256_and_si256(v, m), m);
    _mm256_and_si256(set, _mm256_set1_epi8(value))
}

/// Q2_K × Q8_K (bit-identical to the scalar reference).
#[target_feature(enable = "avx2,fma,f16c")]
pub(super) fn vec_dot_q2_k(w: &[u8], a: &[u8]) -> f32 {
    let mut acc = 0.0f32;
    for (x, y) in as_blocks::<BlockQ2K>(w)
        .iter()
        .zip(as_blocks::<BlockQ8K>(a))
    {
        let mut sumi = _mm256_setzero_si256();
        for h in 0..2 {
            let q = load256(&x.qs[32 * h..]);
            for s in 0..4 {
                let codes = shr_mask(q, 2 * s as u32, 3);
                let p = _mm256_maddubs_epi16(codes, load256_i8(&y.qs[128 * h + 32 * s..]));
                let j = 8 * h + 2 * s;
                let sc = scales2((x.scales[j] & 0xF) as i32, (x.scales[j + 1] & 0xF) as i32);
                sumi = _mm256_add_epi32(sumi, _mm256_madd_epi16(p, sc));
            }
        }
        let i = hsum_i32(sumi);
        let m = q2k_min_sum(x, y);
        let dall = y.d() * f16c(x.d);
        let dmin = y.d() * f16c(x.dmin);
        acc += dall * i as f32 - dmin * m as f32;
    }
    acc
}

/// Q3_K × Q8_K.
#[target_feature(enable = "avx2,fma,f16c")]
pub(super) fn vec_dot_q3_k(w: &[u8], a: &[u8]) -> f32 {
    let mut acc = _mm256_setzero_ps();
    for (x, y) in as_blocks::<BlockQ3K>(w)
        .iter()
        .zip(as_blocks::<BlockQ8K>(a))
    {
        let sc = q3k_scales(&x.scales);
        let hm = load256(&x.hmask);
        let mut sumi = _mm256_setzero_si256();
        for h in 0..2 {
            let q = load256(&x.qs[32 * h..]);
            for s in 0..4 {
                let u = _mm256_or_si256(
                    shr_mask(q, 2 * s as u32, 3),
                    bit_to(hm, (4 * h + s) as u32, 4),
                );
                let p = _mm256_maddubs_epi16(u, load256_i8(&y.qs[128 * h + 32 * s..]));
                let j = 8 * h + 2 * s;
                sumi = _mm256_add_epi32(
                    sumi,
                    _mm256_madd_epi16(p, scales2(sc[j] as i32, sc[j + 1] as i32)),
                );
            }
        }
        let mut corr = 0i32;
        for (j, &s) in sc.iter().enumerate() {
            corr += s as i32 * y.bsum(j);
        }
        // Fold −4·Σ sc·bsums into lane 0 so the block stays one exact integer vector.
        let sumi = _mm256_sub_epi32(sumi, _mm256_setr_epi32(4 * corr, 0, 0, 0, 0, 0, 0, 0));
        let d = _mm256_set1_ps(f16c(x.d) * y.d());
        acc = _mm256_fmadd_ps(d, _mm256_cvtepi32_ps(sumi), acc);
    }
    hsum_f32(acc)
}

/// Shared Q4_K / Q5_K body: `high(c)` gives the 5th-bit bytes (value 16 or 0) of the
/// low and high nibble runs of chunk c, or zeros for Q4_K.
#[inline]
#[target_feature(enable = "avx2,fma,f16c")]
fn dot_k4_like(
    qs: &[u8; 128],
    scales: &[u8; 12],
    y: &BlockQ8K,
    high: impl Fn(usize) -> (__m256i, __m256i),
) -> (__m256i, i32) {
    let sm = scales_mins_k4(scales);
    let m4 = _mm256_set1_epi8(0x0F);
    let mut sumi = _mm256_setzero_si256();
    for c in 0..4 {
        let q = load256(&qs[32 * c..]);
        let (hl, hh) = high(c);
        let lo = _mm256_or_si256(_mm256_and_si256(q, m4), hl);
        let hi = _mm256_or_si256(_mm256_and_si256(_mm256_srli_epi16::<4>(q), m4), hh);
        let plo = _mm256_maddubs_epi16(lo, load256_i8(&y.qs[64 * c..]));
        let phi = _mm256_maddubs_epi16(hi, load256_i8(&y.qs[64 * c + 32..]));
        let slo = _mm256_set1_epi16(sm[2 * c].0 as i16);
        let shi = _mm256_set1_epi16(sm[2 * c + 1].0 as i16);
        sumi = _mm256_add_epi32(sumi, _mm256_madd_epi16(plo, slo));
        sumi = _mm256_add_epi32(sumi, _mm256_madd_epi16(phi, shi));
    }
    (sumi, k4_min_sum(&sm, y))
}

/// Q4_K × Q8_K.
#[target_feature(enable = "avx2,fma,f16c")]
pub(super) fn vec_dot_q4_k(w: &[u8], a: &[u8]) -> f32 {
    let mut acc = _mm256_setzero_ps();
    let mut mins = 0.0f32;
    for (x, y) in as_blocks::<BlockQ4K>(w)
        .iter()
        .zip(as_blocks::<BlockQ8K>(a))
    {
        let zero = _mm256_setzero_si256();
        let (sumi, m) = dot_k4_like(&x.qs, &x.scales, y, |_| (zero, zero));
        let d = _mm256_set1_ps(f16c(x.d) * y.d());
        acc = _mm256_fmadd_ps(d, _mm256_cvtepi32_ps(sumi), acc);
        mins += f16c(x.dmin) * y.d() * m as f32;
    }
    hsum_f32(acc) - mins
}

/// Q5_K × Q8_K.
#[target_feature(enable = "avx2,fma,f16c")]
pub(super) fn vec_dot_q5_k(w: &[u8], a: &[u8]) -> f32 {
    let mut acc = _mm256_setzero_ps();
    let mut mins = 0.0f32;
    for (x, y) in as_blocks::<BlockQ5K>(w)
        .iter()
        .zip(as_blocks::<BlockQ8K>(a))
    {
        let qh = load256(&x.qh);
        let (sumi, m) = dot_k4_like(&x.qs, &x.scales, y, |c| {
            (
                bit_to(qh, 2 * c as u32, 16),
                bit_to(qh, 2 * c as u32 + 1, 16),
            )
        });
        let d = _mm256_set1_ps(f16c(x.d) * y.d());
        acc = _mm256_fmadd_ps(d, _mm256_cvtepi32_ps(sumi), acc);
        mins += f16c(x.dmin) * y.d() * m as f32;
    }
    hsum_f32(acc) - mins
}

/// Q6_K × Q8_K.
#[target_feature(enable = "avx2,fma,f16c")]
pub(super) fn vec_dot_q6_k(w: &[u8], a: &[u8]) -> f32 {
    let mut acc = _mm256_setzero_ps();
    let m4 = _mm256_set1_epi8(0x0F);
    let k32 = _mm256_set1_epi8(32);
    for (x, y) in as_blocks::<BlockQ6K>(w)
        .iter()
        .zip(as_blocks::<BlockQ8K>(a))
    {
        let mut sumi = _mm256_setzero_si256();
        for h in 0..2 {
            let ql0 = load256(&x.ql[64 * h..]);
            let ql1 = load256(&x.ql[64 * h + 32..]);
            let qh = load256(&x.qh[32 * h..]);
            let q = [
                _mm256_or_si256(
                    _mm256_and_si256(ql0, m4),
                    _mm256_slli_epi16::<4>(_mm256_and_si256(qh, _mm256_set1_epi8(0x03))),
                ),
                _mm256_or_si256(
                    _mm256_and_si256(ql1, m4),
                    _mm256_slli_epi16::<2>(_mm256_and_si256(qh, _mm256_set1_epi8(0x0C))),
                ),
                _mm256_or_si256(
                    shr_mask(ql0, 4, 0x0F),
                    _mm256_and_si256(qh, _mm256_set1_epi8(0x30)),
                ),
                _mm256_or_si256(shr_mask(ql1, 4, 0x0F), shr_mask(qh, 2, 0x30)),
            ];
            for (k, &qk) in q.iter().enumerate() {
                let yv = load256_i8(&y.qs[128 * h + 32 * k..]);
                let p =
                    _mm256_sub_epi16(_mm256_maddubs_epi16(qk, yv), _mm256_maddubs_epi16(k32, yv));
                let j = 8 * h + 2 * k;
                let sc = scales2(x.scales[j] as i32, x.scales[j + 1] as i32);
                sumi = _mm256_add_epi32(sumi, _mm256_madd_epi16(p, sc));
            }
        }
        let d = _mm256_set1_ps(f16c(x.d) * y.d());
        acc = _mm256_fmadd_ps(d, _mm256_cvtepi32_ps(sumi), acc);
    }
    hsum_f32(acc)
}
