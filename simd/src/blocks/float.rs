//! Plain float storage: F32, F16, BF16 (one element per "block").
//!
//! ```text
//! F32  4 B  IEEE single, little-endian
//! F16  2 B  IEEE half, little-endian            → f32 exact
//! BF16 2 B  upper 16 bits of an IEEE single     → f32: bits << 16
//! ```
//!
//! Activation partners (spec §1, §6): F32 × F32, F16 × F16 (activations rounded to f16,
//! RNE), BF16 × BF16 (rounded to bf16: NaN keeps its upper half with the quiet bit
//! forced, otherwise `(u + 0x7FFF + ((u >> 16) & 1)) >> 16`).
//!
//! Dots: each product `w·x` is formed in f32 from the widened operands and accumulated
//! in f64, as ggml's generic code does (`ggml_float`); the result is rounded to f32.
//! Native llama.cpp builds on AVX512-FP16 CPUs accumulate F16 dots in fp16 instead
//! (spec §8); we deliberately do not imitate that.

use super::{block_pairs, dequantize_each, impl_block};

/// One f32 value.
#[repr(C)]
#[derive(Clone, Copy, Debug)]
pub struct BlockF32(pub [u8; 4]);
impl_block!(BlockF32, 1, 4);

/// One IEEE half.
#[repr(C)]
#[derive(Clone, Copy, Debug)]
pub struct BlockF16(pub [u8; 2]);
impl_block!(BlockF16, 1, 2);

/// One bfloat16.
#[repr(C)]
#[derive(Clone, Copy, Debug)]
pub struct BlockBF16(pub [u8; 2]);
impl_block!(BlockBF16, 1, 2);

impl BlockF32 {
    #[inline(always)]
    pub fn get(self) -> f32 {
        f32::from_le_bytes(self.0)
    }
}

impl BlockF16 {
    #[inline(always)]
    pub fn get(self) -> f32 {
        super::f16_to_f32(self.0)
    }
}

impl BlockBF16 {
    #[inline(always)]
    pub fn get(self) -> f32 {
        f32::from_bits((u16::from_le_bytes(self.0) as u32) << 16)
    }
}

/// f32 → bf16 bits, round to nearest even, NaN kept quiet (spec §1).
#[inline(always)]
pub fn f32_to_bf16(x: f32) -> u16 {
    let u = x.to_bits();
    if (u & 0x7fff_ffff) > 0x7f80_0000 {
        return ((u >> 16) | 0x40) as u16;
    }
    ((u + (0x7fff + ((u >> 16) & 1))) >> 16) as u16
}

/// Copies little-endian f32 values.
pub fn dequantize_f32(blocks: &[u8], out: &mut [f32]) {
    dequantize_each::<BlockF32>(blocks, out, |b, o| o[0] = b.get());
}

/// Widens f16 values.
pub fn dequantize_f16(blocks: &[u8], out: &mut [f32]) {
    dequantize_each::<BlockF16>(blocks, out, |b, o| o[0] = b.get());
}

/// Widens bf16 values.
pub fn dequantize_bf16(blocks: &[u8], out: &mut [f32]) {
    dequantize_each::<BlockBF16>(blocks, out, |b, o| o[0] = b.get());
}

/// f32 → F32 bytes (the activation "conversion" of F32 weights).
pub fn quantize_f32(x: &[f32], out: &mut [u8]) {
    for (v, o) in x.iter().zip(out.chunks_exact_mut(4)) {
        o.copy_from_slice(&v.to_le_bytes());
    }
}

/// f32 → F16 bytes (RNE).
pub fn quantize_f16(x: &[f32], out: &mut [u8]) {
    for (v, o) in x.iter().zip(out.chunks_exact_mut(2)) {
        o.copy_from_slice(&super::f32_to_f16(*v));
    }
}

/// f32 → BF16 bytes (RNE).
pub fn quantize_bf16(x: &[f32], out: &mut [u8]) {
    for (v, o) in x.iter().zip(out.chunks_exact_mut(2)) {
        o.copy_from_slice(&f32_to_bf16(*v).to_le_bytes());
    }
}

#[inline(always)]
fn dot<'a, B: super::Block + Copy + 'a>(
    pairs: impl Iterator<Item = (&'a B, &'a B)>,
    get: impl Fn(B) -> f32,
) -> f32 {
    pairs.map(|(x, y)| (get(*x) * get(*y)) as f64).sum::<f64>() as f32
}

/// Scalar reference F32 × F32.
pub fn vec_dot_f32(w: &[u8], a: &[u8]) -> f32 {
    dot(block_pairs::<BlockF32, BlockF32>(w, a), BlockF32::get)
}

/// Scalar reference F16 × F16.
pub fn vec_dot_f16(w: &[u8], a: &[u8]) -> f32 {
    dot(block_pairs::<BlockF16, BlockF16>(w, a), BlockF16::get)
}

/// Scalar reference BF16 × BF16.
pub fn vec_dot_bf16(w: &[u8], a: &[u8]) -> f32 {
    dot(block_pairs::<BlockBF16, BlockBF16>(w, a), BlockBF16::get)
}
