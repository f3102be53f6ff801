//! 8-bit blocks: Q8_0 (weights and activations), Q8_1 and Q8_K (activations only), and
//! the activation quantizers f32 → Q8_0 / Q8_1 / Q8_K.
//!
//! ```text
//! Q8_0  (34 B, 32 elements)   d:f16 @0 | qs:i8[32] @2
//! Q8_1  (36 B, 32 elements)   d:f16 @0 | s:f16 @2 | qs:i8[32] @4      s = f16(d·Σqs)
//! Q8_K (292 B, 256 elements)  d:f32 @0 | qs:i8[256] @4 | bsums:i16[16] @260
//! value = d · qs[j]
//! ```
//!
//! Activation quantization (spec §6), the reference ("generic") path of ggml:
//! * Q8_0: `amax = max|x|`, `d = amax/127`, `id = 1/d` (0 if d = 0),
//!   `q = round_half_away(x·id)`, `d` stored as f16 (RNE). Note: ggml's x86 SIMD path
//!   uses `id = 127/amax` with ties to even and can differ by one in rare ties; we follow
//!   the reference.
//! * Q8_1: as Q8_0, plus `s = f16(d · Σq)` (integer sum converted to f32 first).
//! * Q8_K: `max` = the element of largest |x| (first wins), `iscale = −127/max`,
//!   `q = min(127, round_half_even(iscale·x))`, `bsums[k] = Σ` of the 16 quants of group
//!   k, `d = 1/iscale` stored as f32. An all-zero block gives d = 0, q = 0, bsums = 0.
//!   This is identical on every llama.cpp CPU build.
//!
//! Q8_0 × Q8_0 dot (spec §7): `S = Σ x_j·y_j` (exact i32), `acc += S · (dx·dy)`.

use super::{block_pairs, dequantize_each, f16_to_f32, f32_to_f16, impl_block};

/// Q8_0: 32 int8 quants with one f16 scale.
#[repr(C)]
#[derive(Clone, Copy, Debug)]
pub struct BlockQ8_0 {
    /// f16 scale.
    pub d: [u8; 2],
    /// Quants.
    pub qs: [i8; 32],
}
impl_block!(BlockQ8_0, 32, 34);

/// Q8_1: Q8_0 plus the f16 of `d · Σ qs` (activation partner of Q4_1 / Q5_1).
#[repr(C)]
#[derive(Clone, Copy, Debug)]
pub struct BlockQ8_1 {
    /// f16 scale.
    pub d: [u8; 2],
    /// f16 of `d · Σ qs`.
    pub s: [u8; 2],
    /// Quants.
    pub qs: [i8; 32],
}
impl_block!(BlockQ8_1, 32, 36);

/// Q8_K: 256 int8 quants, f32 scale and the sums of each 16 quants.
#[repr(C)]
#[derive(Clone, Copy, Debug)]
pub struct BlockQ8K {
    /// f32 scale, little-endian.
    pub d: [u8; 4],
    /// Quants.
    pub qs: [i8; 256],
    /// 16 × i16 little-endian: sum of quants 16k..16k+15.
    pub bsums: [u8; 32],
}
impl_block!(BlockQ8K, 256, 292);

impl BlockQ8_0 {
    /// Scale as f32.
    #[inline(always)]
    pub fn d(&self) -> f32 {
        f16_to_f32(self.d)
    }
}

impl BlockQ8_1 {
    /// Scale as f32.
    #[inline(always)]
    pub fn d(&self) -> f32 {
        f16_to_f32(self.d)
    }
    /// `d · Σ qs` as stored (f16 → f32).
    #[inline(always)]
    pub fn s(&self) -> f32 {
        f16_to_f32(self.s)
    }
}

impl BlockQ8K {
    /// Scale.
    #[inline(always)]
    pub fn d(&self) -> f32 {
        f32::from_le_bytes(self.d)
    }
    /// Sum of quants `16k .. 16k+15`.
    #[inline(always)]
    pub fn bsum(&self, k: usize) -> i32 {
        i16::from_le_bytes([self.bsums[2 * k], self.bsums[2 * k + 1]]) as i32
    }
    /// All 16 group sums.
    #[inline(always)]
    pub fn bsums(&self) -> [i16; 16] {
        core::array::from_fn(|k| self.bsum(k) as i16)
    }
}

/// Dequantizes Q8_0 blocks.
pub fn dequantize_q8_0(blocks: &[u8], out: &mut [f32]) {
    dequantize_each::<BlockQ8_0>(blocks, out, |b, o| {
        let d = b.d();
        for (o, &q) in o.iter_mut().zip(&b.qs) {
            *o = d * q as f32;
        }
    });
}

/// Dequantizes Q8_1 blocks (the `s` field is redundant and ignored).
pub fn dequantize_q8_1(blocks: &[u8], out: &mut [f32]) {
    dequantize_each::<BlockQ8_1>(blocks, out, |b, o| {
        let d = b.d();
        for (o, &q) in o.iter_mut().zip(&b.qs) {
            *o = d * q as f32;
        }
    });
}

/// Dequantizes Q8_K blocks.
pub fn dequantize_q8_k(blocks: &[u8], out: &mut [f32]) {
    dequantize_each::<BlockQ8K>(blocks, out, |b, o| {
        let d = b.d();
        for (o, &q) in o.iter_mut().zip(&b.qs) {
            *o = d * q as f32;
        }
    });
}

/// Shared by Q8_0 and Q8_1: returns (d, quants) of one 32-element block.
#[inline(always)]
fn quantize_32(x: &[f32]) -> (f32, [i8; 32]) {
    let amax = x.iter().fold(0.0f32, |m, v| m.max(v.abs()));
    let d = amax / 127.0;
    let id = if d != 0.0 { 1.0 / d } else { 0.0 };
    // `round` is half away from zero, like C's roundf.
    let qs = core::array::from_fn(|j| (x[j] * id).round() as i8);
    (d, qs)
}

/// f32 → Q8_0 (reference rounding).
pub fn quantize_q8_0(x: &[f32], out: &mut [u8]) {
    for (xb, b) in x
        .chunks_exact(32)
        .zip(super::as_blocks_mut::<BlockQ8_0>(out))
    {
        let (d, qs) = quantize_32(xb);
        b.d = f32_to_f16(d);
        b.qs = qs;
    }
}

/// f32 → Q8_1 (reference rounding).
pub fn quantize_q8_1(x: &[f32], out: &mut [u8]) {
    for (xb, b) in x
        .chunks_exact(32)
        .zip(super::as_blocks_mut::<BlockQ8_1>(out))
    {
        let (d, qs) = quantize_32(xb);
        let sum: i32 = qs.iter().map(|&q| q as i32).sum();
        b.d = f32_to_f16(d);
        b.s = f32_to_f16(sum as f32 * d);
        b.qs = qs;
    }
}

/// f32 → Q8_K.
pub fn quantize_q8_k(x: &[f32], out: &mut [u8]) {
    for (xb, b) in x
        .chunks_exact(256)
        .zip(super::as_blocks_mut::<BlockQ8K>(out))
    {
        let mut max = 0.0f32;
        let mut amax = 0.0f32;
        for &v in xb {
            if v.abs() > amax {
                amax = v.abs();
                max = v;
            }
        }
        if amax == 0.0 {
            *b = BlockQ8K {
                d: [0; 4],
                qs: [0; 256],
                bsums: [0; 32],
            };
            continue;
        }
        let iscale = -127.0 / max;
        for (q, &v) in b.qs.iter_mut().zip(xb) {
            *q = ((iscale * v).round_ties_even() as i32).min(127) as i8;
        }
        for k in 0..16 {
            let s: i32 = b.qs[16 * k..16 * k + 16].iter().map(|&q| q as i32).sum();
            b.bsums[2 * k..2 * k + 2].copy_from_slice(&(s as i16).to_le_bytes());
        }
        b.d = (1.0 / iscale).to_le_bytes();
    }
}

/// Integer part of one Q8_0 × Q8_0 block: Σ x·y.
#[inline(always)]
pub fn block_sum_q8_0(x: &BlockQ8_0, y: &BlockQ8_0) -> i32 {
    x.qs.iter()
        .zip(&y.qs)
        .map(|(&a, &b)| a as i32 * b as i32)
        .sum()
}

/// Scalar reference Q8_0 × Q8_0.
pub fn vec_dot_q8_0(w: &[u8], a: &[u8]) -> f32 {
    let mut acc = 0.0f32;
    for (x, y) in block_pairs::<BlockQ8_0, BlockQ8_0>(w, a) {
        acc += block_sum_q8_0(x, y) as f32 * (x.d() * y.d());
    }
    acc
}
