//! AVX2 dots of the plain float types: F32 × F32, F16 × F16, BF16 × BF16.
//!
//! Scalar reference: [`crate::blocks::float`]: each product is formed in f32 from the
//! widened operands and accumulated in f64. The kernels do the same 8 lanes at a time
//! (F16 widened with F16C `vcvtph2ps`, BF16 by a 16-bit shift), widening the products to
//! f64 for the accumulation, so they differ from the reference only in the order of
//! the f64 additions (far below the final f32 rounding). The tail (< 8 elements) runs
//! the scalar reference.

use core::arch::x86_64::*;

use super::{load128, load256};
use crate::blocks::float::{
    vec_dot_bf16 as bf16_ref, vec_dot_f16 as f16_ref, vec_dot_f32 as f32_ref,
};

/// `acc + widen(p)` for the 8 f32 products `p`, in two f64 accumulators.
#[inline]
#[target_feature(enable = "avx2,fma,f16c")]
fn add_f64(acc: (__m256d, __m256d), p: __m256) -> (__m256d, __m256d) {
    let lo = _mm256_cvtps_pd(_mm256_castps256_ps128(p));
    let hi = _mm256_cvtps_pd(_mm256_extractf128_ps::<1>(p));
    (_mm256_add_pd(acc.0, lo), _mm256_add_pd(acc.1, hi))
}

/// Sum of the 8 f64 lanes.
#[inline]
#[target_feature(enable = "avx2,fma,f16c")]
fn hsum_f64(acc: (__m256d, __m256d)) -> f64 {
    let s = _mm256_add_pd(acc.0, acc.1);
    let s = _mm_add_pd(_mm256_castpd256_pd128(s), _mm256_extractf128_pd::<1>(s));
    _mm_cvtsd_f64(_mm_add_sd(s, _mm_unpackhi_pd(s, s)))
}

/// Shared loop: `widen(bytes)` turns one chunk of `CHUNK` bytes into 8 f32.
#[inline]
#[target_feature(enable = "avx2,fma,f16c")]
fn dot8(
    w: &[u8],
    a: &[u8],
    chunk: usize,
    widen: impl Fn(&[u8]) -> __m256,
    tail: fn(&[u8], &[u8]) -> f32,
) -> f32 {
    let n = w.len().min(a.len()) / chunk;
    let mut acc = (_mm256_setzero_pd(), _mm256_setzero_pd());
    for (cw, ca) in w.chunks_exact(chunk).zip(a.chunks_exact(chunk)) {
        acc = add_f64(acc, _mm256_mul_ps(widen(cw), widen(ca)));
    }
    let done = n * chunk;
    let rest = tail(&w[done..], &a[done..]) as f64;
    (hsum_f64(acc) + rest) as f32
}

/// F32 × F32.
#[target_feature(enable = "avx2,fma,f16c")]
pub(super) fn vec_dot_f32(w: &[u8], a: &[u8]) -> f32 {
    dot8(w, a, 32, |c| _mm256_castsi256_ps(load256(c)), f32_ref)
}

/// F16 × F16.
#[target_feature(enable = "avx2,fma,f16c")]
pub(super) fn vec_dot_f16(w: &[u8], a: &[u8]) -> f32 {
    dot8(w, a, 16, |c| _mm256_cvtph_ps(load128(c)), f16_ref)
}

/// BF16 × BF16.
#[target_feature(enable = "avx2,fma,f16c")]
pub(super) fn vec_dot_bf16(w: &[u8], a: &[u8]) -> f32 {
    let widen = |c: &[u8]| {
        let v = _mm256_cvtepu16_epi32(load128(c));
        _mm256_castsi256_ps(_mm256_slli_epi32::<16>(v))
    };
    dot8(w, a, 16, widen, bf16_ref)
}
