//! NEON dots of the plain float types: F32 × F32, F16 × F16, BF16 × BF16.
//!
//! Scalar reference: [`crate::blocks::float`] (products in f32, accumulation in f64).
//! The kernels widen 4 values at a time, multiply in f32 and accumulate the products
//! in two f64x2 registers; the tail (< 8 elements) runs the reference. F16 is widened
//! with the same exact bit trick as [`crate::blocks::f16_to_f32`] (Rust has no stable
//! NEON half-precision types): magnitude bits << 13, times 2^112, Inf/NaN exponent
//! restored, sign or-ed in. BF16 is a 16-bit shift.

use core::arch::aarch64::*;

use super::ld_u8;
use crate::blocks::float::{
    vec_dot_bf16 as bf16_ref, vec_dot_f16 as f16_ref, vec_dot_f32 as f32_ref,
};

/// Four halves (as u32 lanes) → f32, exactly.
#[inline]
#[target_feature(enable = "neon")]
fn half4(h: uint32x4_t) -> float32x4_t {
    let magic = vdupq_n_f32(f32::from_bits((254 - 15) << 23));
    let inf_nan = vdupq_n_f32(f32::from_bits((127 + 16) << 23));
    let mag = vshlq_n_u32::<13>(vandq_u32(h, vdupq_n_u32(0x7FFF)));
    let f = vmulq_f32(vreinterpretq_f32_u32(mag), magic);
    let exp = vandq_u32(vcgeq_f32(f, inf_nan), vdupq_n_u32(255 << 23));
    let sign = vshlq_n_u32::<16>(vandq_u32(h, vdupq_n_u32(0x8000)));
    vreinterpretq_f32_u32(vorrq_u32(vorrq_u32(vreinterpretq_u32_f32(f), exp), sign))
}

/// Shared loop over 16-byte chunks of both operands; `widen` gives 2 × 4 f32 each
/// (F32 chunks hold only 4 values: the second half is then zero).
#[inline]
#[target_feature(enable = "neon")]
fn dot(
    w: &[u8],
    a: &[u8],
    chunk: usize,
    widen: impl Fn(&[u8]) -> (float32x4_t, float32x4_t),
    tail: fn(&[u8], &[u8]) -> f32,
) -> f32 {
    let n = w.len().min(a.len()) / chunk;
    let mut acc = [vdupq_n_f64(0.0); 2];
    for (cw, ca) in w.chunks_exact(chunk).zip(a.chunks_exact(chunk)) {
        let (w0, w1) = widen(cw);
        let (a0, a1) = widen(ca);
        for p in [vmulq_f32(w0, a0), vmulq_f32(w1, a1)] {
            acc[0] = vaddq_f64(acc[0], vcvt_f64_f32(vget_low_f32(p)));
            acc[1] = vaddq_f64(acc[1], vcvt_high_f64_f32(p));
        }
    }
    let done = n * chunk;
    let rest = tail(&w[done..], &a[done..]) as f64;
    (vaddvq_f64(vaddq_f64(acc[0], acc[1])) + rest) as f32
}

/// F32 × F32.
#[target_feature(enable = "neon")]
pub(super) fn vec_dot_f32(w: &[u8], a: &[u8]) -> f32 {
    let widen = |c: &[u8]| {
        let lo = vreinterpretq_f32_u8(ld_u8(c));
        let hi = vreinterpretq_f32_u8(ld_u8(&c[16..]));
        (lo, hi)
    };
    dot(w, a, 32, widen, f32_ref)
}

/// F16 × F16.
#[target_feature(enable = "neon")]
pub(super) fn vec_dot_f16(w: &[u8], a: &[u8]) -> f32 {
    let widen = |c: &[u8]| {
        let h = vreinterpretq_u16_u8(ld_u8(c));
        (half4(vmovl_u16(vget_low_u16(h))), half4(vmovl_high_u16(h)))
    };
    dot(w, a, 16, widen, f16_ref)
}

/// BF16 × BF16.
#[target_feature(enable = "neon")]
pub(super) fn vec_dot_bf16(w: &[u8], a: &[u8]) -> f32 {
    let widen = |c: &[u8]| {
        let h = vreinterpretq_u16_u8(ld_u8(c));
        let lo = vreinterpretq_f32_u32(vshll_n_u16::<16>(vget_low_u16(h)));
        let hi = vreinterpretq_f32_u32(vshll_high_n_u16::<16>(h));
        (lo, hi)
    };
    dot(w, a, 16, widen, bf16_ref)
}
