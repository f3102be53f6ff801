//! IQ4_NL and IQ4_XS: 4-bit codes through a non-linear 16-value table (spec §2, §4.8).
//!
//! ```text
//! IQ4_NL  (18 B, 32 elements)  d:f16 @0 | qs[16] @2
//!   nibbles as Q4_0 (low → j, high → j+16);            x = d · KV[q]
//! IQ4_XS (136 B, 256 elements) d:f16 @0 | scales_h:u16 @2 | scales_l[4] @4 | qs[128] @8
//!   sub-block ib: ls = ((scales_l[ib/2] >> 4(ib%2)) & 15) | ((scales_h >> 2ib) & 3) << 4
//!   qs[16ib..16ib+16]: low nibbles → elements 0..16, high → 16..32
//!   x = d·(ls − 32) · KV[q]
//! KV = KVALUES_IQ4NL = {−127, −104, …, 89, 113}
//! ```
//!
//! Dots (spec §7): IQ4_NL × Q8_0: `acc += (dy·dx)·Σ KV[q]·y`;
//! IQ4_XS × Q8_K: per sub-block `acc += (dx·dy·(ls−32))·Σ KV[q]·y`.

use super::legacy::nibbles;
use super::q8::{BlockQ8K, BlockQ8_0};
use super::{block_pairs, dequantize_each, f16_to_f32, impl_block};
use crate::tables::KVALUES_IQ4NL;

/// IQ4_NL block.
#[repr(C)]
#[derive(Clone, Copy, Debug)]
pub struct BlockIQ4NL {
    pub d: [u8; 2],
    pub qs: [u8; 16],
}
impl_block!(BlockIQ4NL, 32, 18);

/// IQ4_XS super-block.
#[repr(C)]
#[derive(Clone, Copy, Debug)]
pub struct BlockIQ4XS {
    pub d: [u8; 2],
    /// u16 little-endian: high 2 bits of the 8 sub-block scales.
    pub scales_h: [u8; 2],
    pub scales_l: [u8; 4],
    pub qs: [u8; 128],
}
impl_block!(BlockIQ4XS, 256, 136);

impl BlockIQ4XS {
    /// 6-bit scale `ls` (0..63) of sub-block `ib`; the multiplier is `ls − 32`.
    #[inline(always)]
    pub fn ls(&self, ib: usize) -> i32 {
        let h = u16::from_le_bytes(self.scales_h);
        let low = (self.scales_l[ib / 2] >> (4 * (ib % 2))) & 0xF;
        (low as i32) | ((((h >> (2 * ib)) & 3) as i32) << 4)
    }
    /// The 32 codes of sub-block `ib`.
    #[inline(always)]
    pub fn codes(&self, ib: usize) -> [u8; 32] {
        let mut q = [0u8; 16];
        q.copy_from_slice(&self.qs[16 * ib..16 * ib + 16]);
        nibbles(&q)
    }
}

/// Dequantizes IQ4_NL blocks.
pub fn dequantize_iq4_nl(blocks: &[u8], out: &mut [f32]) {
    dequantize_each::<BlockIQ4NL>(blocks, out, |b, o| {
        let d = f16_to_f32(b.d);
        for (o, q) in o.iter_mut().zip(nibbles(&b.qs)) {
            *o = d * KVALUES_IQ4NL[q as usize] as f32;
        }
    });
}

/// Dequantizes IQ4_XS blocks.
pub fn dequantize_iq4_xs(blocks: &[u8], out: &mut [f32]) {
    dequantize_each::<BlockIQ4XS>(blocks, out, |b, o| {
        let d = f16_to_f32(b.d);
        for (ib, o) in o.chunks_exact_mut(32).enumerate() {
            let dl = d * (b.ls(ib) - 32) as f32;
            for (o, q) in o.iter_mut().zip(b.codes(ib)) {
                *o = dl * KVALUES_IQ4NL[q as usize] as f32;
            }
        }
    });
}

#[inline(always)]
fn kv_dot(codes: [u8; 32], y: &[i8]) -> i32 {
    codes
        .iter()
        .zip(y)
        .map(|(&q, &y)| KVALUES_IQ4NL[q as usize] as i32 * y as i32)
        .sum()
}

/// Scalar reference IQ4_NL × Q8_0.
pub fn vec_dot_iq4_nl(w: &[u8], a: &[u8]) -> f32 {
    let mut acc = 0.0f32;
    for (x, y) in block_pairs::<BlockIQ4NL, BlockQ8_0>(w, a) {
        acc += (y.d() * f16_to_f32(x.d)) * kv_dot(nibbles(&x.qs), &y.qs) as f32;
    }
    acc
}

/// Scalar reference IQ4_XS × Q8_K.
pub fn vec_dot_iq4_xs(w: &[u8], a: &[u8]) -> f32 {
    let mut acc = 0.0f32;
    for (x, y) in block_pairs::<BlockIQ4XS, BlockQ8K>(w, a) {
        let d4d8 = f16_to_f32(x.d) * y.d();
        for ib in 0..8 {
            let s = kv_dot(x.codes(ib), &y.qs[32 * ib..32 * ib + 32]);
            acc += (d4d8 * (x.ls(ib) - 32) as f32) * s as f32;
        }
    }
    acc
}
