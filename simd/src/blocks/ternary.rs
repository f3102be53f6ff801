//! Ternary formats TQ1_0 and TQ2_0 (spec §5): weights in {−1, 0, +1} × one f16 scale.
//!
//! ```text
//! TQ2_0 (66 B)  qs[64] @0 | d:f16 @64
//!   element 128c + 32l + m  (c 0..2, l 0..4, m 0..32) = (qs[32c + m] >> 2l) & 3
//!   — four planes of 32 consecutive elements per 32-byte group
//! TQ1_0 (54 B)  qs[48] @0 | qh[4] @48 | d:f16 @52
//!   byte q holds base-3 digits as a fixed-point fraction: digit n of q is
//!   t_n = (((q · 3^n) mod 256) · 3) >> 8
//!   qs[0..32]:  element 32n + m        = digit n (0..5) of qs[m]
//!   qs[32..48]: element 160 + 16n + m  = digit n (0..5) of qs[32 + m]
//!   qh[0..4]:   element 240 + 4n + j   = digit n (0..4) of qh[j]
//! x = d · (t − 1)
//! ```
//!
//! Dots against Q8_K (spec §7): `S = Σ (t−1)·y` (exact), `acc += S·(dx·dy)`.
//! SIMD kernels use `Σ (t−1)·y = Σ t·y − Σ y` with Σy from Q8_K's `bsums`.

use super::q8::BlockQ8K;
use super::{block_pairs, dequantize_each, f16_to_f32, impl_block};

/// TQ1_0 super-block.
#[repr(C)]
#[derive(Clone, Copy, Debug)]
pub struct BlockTQ1_0 {
    pub qs: [u8; 48],
    pub qh: [u8; 4],
    pub d: [u8; 2],
}
impl_block!(BlockTQ1_0, 256, 54);

/// TQ2_0 super-block.
#[repr(C)]
#[derive(Clone, Copy, Debug)]
pub struct BlockTQ2_0 {
    pub qs: [u8; 64],
    pub d: [u8; 2],
}
impl_block!(BlockTQ2_0, 256, 66);

/// Powers of three mod 256 used to shift the base-3 fraction by n digits.
pub const POW3: [u8; 5] = [1, 3, 9, 27, 81];

/// Base-3 digit `n` (0..5) of a TQ1_0 byte, 0..=2.
#[inline(always)]
pub fn trit(q: u8, n: usize) -> u8 {
    let x = q.wrapping_mul(POW3[n]);
    ((x as u16 * 3) >> 8) as u8
}

/// TQ1_0 trits (0..=2) in element order.
#[inline(always)]
pub fn tq1_trits(b: &BlockTQ1_0) -> [u8; 256] {
    core::array::from_fn(|e| match e {
        0..=159 => trit(b.qs[e % 32], e / 32),
        160..=239 => trit(b.qs[32 + (e - 160) % 16], (e - 160) / 16),
        _ => trit(b.qh[(e - 240) % 4], (e - 240) / 4),
    })
}

/// TQ2_0 codes (0..=3) in element order.
#[inline(always)]
pub fn tq2_codes(b: &BlockTQ2_0) -> [u8; 256] {
    core::array::from_fn(|e| (b.qs[32 * (e / 128) + e % 32] >> (2 * ((e / 32) % 4))) & 3)
}

/// Dequantizes TQ1_0 blocks.
pub fn dequantize_tq1_0(blocks: &[u8], out: &mut [f32]) {
    dequantize_each::<BlockTQ1_0>(blocks, out, |b, o| {
        let d = f16_to_f32(b.d);
        for (o, t) in o.iter_mut().zip(tq1_trits(b)) {
            *o = (t as i32 - 1) as f32 * d;
        }
    });
}

/// Dequantizes TQ2_0 blocks.
pub fn dequantize_tq2_0(blocks: &[u8], out: &mut [f32]) {
    dequantize_each::<BlockTQ2_0>(blocks, out, |b, o| {
        let d = f16_to_f32(b.d);
        for (o, q) in o.iter_mut().zip(tq2_codes(b)) {
            *o = (q as i32 - 1) as f32 * d;
        }
    });
}

#[inline(always)]
fn offset_dot(codes: [u8; 256], y: &[i8; 256]) -> i32 {
    codes
        .iter()
        .zip(y)
        .map(|(&t, &y)| (t as i32 - 1) * y as i32)
        .sum()
}

/// Integer part of one TQ1_0 × Q8_K block.
#[inline(always)]
pub fn block_sum_tq1_0(x: &BlockTQ1_0, y: &BlockQ8K) -> i32 {
    offset_dot(tq1_trits(x), &y.qs)
}

/// Integer part of one TQ2_0 × Q8_K block.
#[inline(always)]
pub fn block_sum_tq2_0(x: &BlockTQ2_0, y: &BlockQ8K) -> i32 {
    offset_dot(tq2_codes(x), &y.qs)
}

/// Scalar reference TQ1_0 × Q8_K.
pub fn vec_dot_tq1_0(w: &[u8], a: &[u8]) -> f32 {
    let mut acc = 0.0f32;
    for (x, y) in block_pairs::<BlockTQ1_0, BlockQ8K>(w, a) {
        acc += block_sum_tq1_0(x, y) as f32 * (f16_to_f32(x.d) * y.d());
    }
    acc
}

/// Scalar reference TQ2_0 × Q8_K.
pub fn vec_dot_tq2_0(w: &[u8], a: &[u8]) -> f32 {
    let mut acc = 0.0f32;
    for (x, y) in block_pairs::<BlockTQ2_0, BlockQ8K>(w, a) {
        acc += block_sum_tq2_0(x, y) as f32 * (f16_to_f32(x.d) * y.d());
    }
    acc
}
