//! Legacy 32-element formats Q4_0, Q4_1, Q5_0, Q5_1 (spec §2).
//!
//! ```text
//! Q4_0 (18 B)  d:f16 @0 |           qs[16] @2
//! Q4_1 (20 B)  d:f16 @0 | m:f16 @2 | qs[16] @4
//! Q5_0 (22 B)  d:f16 @0 |           qh:u32 @2 | qs[16] @6
//! Q5_1 (24 B)  d:f16 @0 | m:f16 @2 | qh:u32 @4 | qs[16] @8
//!
//! qs[j], j < 16:  low nibble → element j, high nibble → element j+16
//! qh bit i       → 5th bit (value 16) of element i
//! Q4_0: x = d·(q−8)   Q4_1: x = d·q + m   Q5_0: x = d·(q−16)   Q5_1: x = d·q + m
//! ```
//!
//! Dots (spec §7), `S` an exact i32 over the block:
//! * Q4_0 × Q8_0: `S = Σ (q−8)·y`, `acc += (S·dx)·dy`
//! * Q5_0 × Q8_0: `S = Σ (q−16)·y`, `acc += (dx·dy)·S`
//! * Q4_1 / Q5_1 × Q8_1: `S = Σ q·y`, `acc += (dx·dy)·S + m·s_y` (the stored f16 `s` of
//!   Q8_1 must be used, not an exact Σx).

use super::q8::{BlockQ8_0, BlockQ8_1};
use super::{block_pairs, dequantize_each, f16_to_f32, impl_block};

/// Q4_0: 32 4-bit quants, offset 8, one f16 scale.
#[repr(C)]
#[derive(Clone, Copy, Debug)]
pub struct BlockQ4_0 {
    pub d: [u8; 2],
    pub qs: [u8; 16],
}
impl_block!(BlockQ4_0, 32, 18);

/// Q4_1: 32 4-bit quants with f16 scale and f16 min.
#[repr(C)]
#[derive(Clone, Copy, Debug)]
pub struct BlockQ4_1 {
    pub d: [u8; 2],
    pub m: [u8; 2],
    pub qs: [u8; 16],
}
impl_block!(BlockQ4_1, 32, 20);

/// Q5_0: 32 5-bit quants, offset 16, one f16 scale.
#[repr(C)]
#[derive(Clone, Copy, Debug)]
pub struct BlockQ5_0 {
    pub d: [u8; 2],
    pub qh: [u8; 4],
    pub qs: [u8; 16],
}
impl_block!(BlockQ5_0, 32, 22);

/// Q5_1: 32 5-bit quants with f16 scale and f16 min.
#[repr(C)]
#[derive(Clone, Copy, Debug)]
pub struct BlockQ5_1 {
    pub d: [u8; 2],
    pub m: [u8; 2],
    pub qh: [u8; 4],
    pub qs: [u8; 16],
}
impl_block!(BlockQ5_1, 32, 24);

/// The 32 4-bit codes of a nibble array, in element order.
#[inline(always)]
pub fn nibbles(qs: &[u8; 16]) -> [u8; 32] {
    core::array::from_fn(|i| if i < 16 { qs[i] & 0xF } else { qs[i - 16] >> 4 })
}

/// The 32 5-bit codes of nibbles + high-bit word, in element order.
#[inline(always)]
pub fn five_bit(qs: &[u8; 16], qh: [u8; 4]) -> [u8; 32] {
    let qh = u32::from_le_bytes(qh);
    let lo = nibbles(qs);
    core::array::from_fn(|i| lo[i] | ((((qh >> i) & 1) as u8) << 4))
}

/// Dequantizes Q4_0 blocks.
pub fn dequantize_q4_0(blocks: &[u8], out: &mut [f32]) {
    dequantize_each::<BlockQ4_0>(blocks, out, |b, o| {
        let d = f16_to_f32(b.d);
        for (o, q) in o.iter_mut().zip(nibbles(&b.qs)) {
            *o = d * (q as i32 - 8) as f32;
        }
    });
}

/// Dequantizes Q4_1 blocks.
pub fn dequantize_q4_1(blocks: &[u8], out: &mut [f32]) {
    dequantize_each::<BlockQ4_1>(blocks, out, |b, o| {
        let (d, m) = (f16_to_f32(b.d), f16_to_f32(b.m));
        for (o, q) in o.iter_mut().zip(nibbles(&b.qs)) {
            *o = d * q as f32 + m;
        }
    });
}

/// Dequantizes Q5_0 blocks.
pub fn dequantize_q5_0(blocks: &[u8], out: &mut [f32]) {
    dequantize_each::<BlockQ5_0>(blocks, out, |b, o| {
        let d = f16_to_f32(b.d);
        for (o, q) in o.iter_mut().zip(five_bit(&b.qs, b.qh)) {
            *o = d * (q as i32 - 16) as f32;
        }
    });
}

/// Dequantizes Q5_1 blocks.
pub fn dequantize_q5_1(blocks: &[u8], out: &mut [f32]) {
    dequantize_each::<BlockQ5_1>(blocks, out, |b, o| {
        let (d, m) = (f16_to_f32(b.d), f16_to_f32(b.m));
        for (o, q) in o.iter_mut().zip(five_bit(&b.qs, b.qh)) {
            *o = d * q as f32 + m;
        }
    });
}

#[inline(always)]
fn dot_codes(codes: [u8; 32], offset: i32, y: &[i8; 32]) -> i32 {
    codes
        .iter()
        .zip(y)
        .map(|(&q, &y)| (q as i32 - offset) * y as i32)
        .sum()
}

/// Integer part of one Q4_0 × Q8_0 block: Σ (q−8)·y.
#[inline(always)]
pub fn block_sum_q4_0(x: &BlockQ4_0, y: &BlockQ8_0) -> i32 {
    dot_codes(nibbles(&x.qs), 8, &y.qs)
}

/// Integer part of one Q4_1 × Q8_1 block: Σ q·y.
#[inline(always)]
pub fn block_sum_q4_1(x: &BlockQ4_1, y: &BlockQ8_1) -> i32 {
    dot_codes(nibbles(&x.qs), 0, &y.qs)
}

/// Scalar reference Q4_0 × Q8_0.
pub fn vec_dot_q4_0(w: &[u8], a: &[u8]) -> f32 {
    let mut acc = 0.0f32;
    for (x, y) in block_pairs::<BlockQ4_0, BlockQ8_0>(w, a) {
        acc += (block_sum_q4_0(x, y) as f32 * f16_to_f32(x.d)) * y.d();
    }
    acc
}

/// Scalar reference Q4_1 × Q8_1.
pub fn vec_dot_q4_1(w: &[u8], a: &[u8]) -> f32 {
    let mut acc = 0.0f32;
    for (x, y) in block_pairs::<BlockQ4_1, BlockQ8_1>(w, a) {
        let s = block_sum_q4_1(x, y);
        acc += (f16_to_f32(x.d) * y.d()) * s as f32 + f16_to_f32(x.m) * y.s();
    }
    acc
}

/// Scalar reference Q5_0 × Q8_0.
pub fn vec_dot_q5_0(w: &[u8], a: &[u8]) -> f32 {
    let mut acc = 0.0f32;
    for (x, y) in block_pairs::<BlockQ5_0, BlockQ8_0>(w, a) {
        let s = dot_codes(five_bit(&x.qs, x.qh), 16, &y.qs);
        acc += (f16_to_f32(x.d) * y.d()) * s as f32;
    }
    acc
}

/// Scalar reference Q5_1 × Q8_1.
pub fn vec_dot_q5_1(w: &[u8], a: &[u8]) -> f32 {
    let mut acc = 0.0f32;
    for (x, y) in block_pairs::<BlockQ5_1, BlockQ8_1>(w, a) {
        let s = dot_codes(five_bit(&x.qs, x.qh), 0, &y.qs);
        acc += (f16_to_f32(x.d) * y.d()) * s as f32 + f16_to_f32(x.m) * y.s();
    }
    acc
}
