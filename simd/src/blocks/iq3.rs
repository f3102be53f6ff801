//! IQ3_XXS and IQ3_S: 3-bit codebook quants, grid rows of 4 (spec §4.4, §4.5).
//!
//! A 256-element super-block = 8 sub-blocks of 32 = 4 groups of 8; each group is two
//! grid rows of 4 magnitudes plus 8 sign bits.
//!
//! ```text
//! IQ3_XXS (98 B)  d:f16 @0 | qs[64] @2 | a:u32[8] @66
//!   group g of sub-block ib: rows IQ3XXS_GRID[qs[8ib+2g]], IQ3XXS_GRID[qs[8ib+2g+1]],
//!   signs = KSIGNS[(a[ib] >> 7g) & 127], s = a[ib] >> 28
//!   x = d·(0.5 + s)·0.5 · grid · sign
//! IQ3_S  (110 B)  d:f16 @0 | qs[64] @2 | qh[8] @66 | signs[32] @74 | scales[4] @106
//!   idx1 = qs[8ib+2g]   | ((qh[ib] >> 2g) & 1) << 8
//!   idx2 = qs[8ib+2g+1] | ((qh[ib] >> (2g+1)) & 1) << 8      (IQ3S_GRID)
//!   signs = signs[4ib+g], s = (scales[ib/2] >> 4(ib%2)) & 15
//!   x = d·(1 + 2s) · grid · sign
//! ```
//!
//! Dots against Q8_K (spec §7): `B = Σ_ib (2s+1)·Σ grid·sign·y`, `acc += (dx·dy)·B`;
//! IQ3_XXS multiplies the result by 0.25 at the end.

use super::iq2::{dequantize_group, signed_group_dot};
use super::q8::BlockQ8K;
use super::{block_pairs, dequantize_each, f16_to_f32, impl_block};
use crate::tables::{IQ3S_GRID, IQ3XXS_GRID, KSIGNS_IQ2XS};

/// IQ3_XXS super-block.
#[repr(C)]
#[derive(Clone, Copy, Debug)]
pub struct BlockIQ3XXS {
    pub d: [u8; 2],
    /// 64 grid indices, then 8 × u32 little-endian signs + scale.
    pub qs: [u8; 96],
}
impl_block!(BlockIQ3XXS, 256, 98);

/// IQ3_S super-block.
#[repr(C)]
#[derive(Clone, Copy, Debug)]
pub struct BlockIQ3S {
    pub d: [u8; 2],
    pub qs: [u8; 64],
    pub qh: [u8; 8],
    pub signs: [u8; 32],
    pub scales: [u8; 4],
}
impl_block!(BlockIQ3S, 256, 110);

/// Two 4-value grid rows joined into one 8-value row (first in the low half).
#[inline(always)]
fn join(lo: u32, hi: u32) -> u64 {
    lo as u64 | ((hi as u64) << 32)
}

impl BlockIQ3XXS {
    /// (8-value row, sign byte, 4-bit scale) of group `g` of sub-block `ib`.
    #[inline(always)]
    pub fn group(&self, ib: usize, g: usize) -> (u64, u8, u32) {
        let o = 64 + 4 * ib;
        let a = u32::from_le_bytes([self.qs[o], self.qs[o + 1], self.qs[o + 2], self.qs[o + 3]]);
        let row = join(
            IQ3XXS_GRID[self.qs[8 * ib + 2 * g] as usize],
            IQ3XXS_GRID[self.qs[8 * ib + 2 * g + 1] as usize],
        );
        (row, KSIGNS_IQ2XS[((a >> (7 * g)) & 127) as usize], a >> 28)
    }
}

impl BlockIQ3S {
    /// (8-value row, sign byte, 4-bit scale) of group `g` of sub-block `ib`.
    #[inline(always)]
    pub fn group(&self, ib: usize, g: usize) -> (u64, u8, u32) {
        let qh = self.qh[ib] as usize;
        let i1 = self.qs[8 * ib + 2 * g] as usize | (((qh >> (2 * g)) & 1) << 8);
        let i2 = self.qs[8 * ib + 2 * g + 1] as usize | (((qh >> (2 * g + 1)) & 1) << 8);
        let s = (self.scales[ib / 2] >> (4 * (ib % 2))) & 0xF;
        (
            join(IQ3S_GRID[i1], IQ3S_GRID[i2]),
            self.signs[4 * ib + g],
            s as u32,
        )
    }
}

/// Dequantizes IQ3_XXS blocks.
pub fn dequantize_iq3_xxs(blocks: &[u8], out: &mut [f32]) {
    dequantize_each::<BlockIQ3XXS>(blocks, out, |b, o| {
        let d = f16_to_f32(b.d);
        for (k, o) in o.chunks_exact_mut(8).enumerate() {
            let (row, signs, s) = b.group(k / 4, k % 4);
            dequantize_group(d * (0.5 + s as f32) * 0.5, row, signs, o);
        }
    });
}

/// Dequantizes IQ3_S blocks.
pub fn dequantize_iq3_s(blocks: &[u8], out: &mut [f32]) {
    dequantize_each::<BlockIQ3S>(blocks, out, |b, o| {
        let d = f16_to_f32(b.d);
        for (k, o) in o.chunks_exact_mut(8).enumerate() {
            let (row, signs, s) = b.group(k / 4, k % 4);
            dequantize_group(d * (1 + 2 * s) as f32, row, signs, o);
        }
    });
}

/// Integer part `B` of one block, given its group accessor.
#[inline(always)]
fn block_sum(y: &BlockQ8K, group: impl Fn(usize, usize) -> (u64, u8, u32)) -> i32 {
    (0..32)
        .map(|k| {
            let (row, signs, s) = group(k / 4, k % 4);
            (2 * s as i32 + 1) * signed_group_dot(row, signs, &y.qs[8 * k..8 * k + 8])
        })
        .sum()
}

/// Scalar reference IQ3_XXS × Q8_K.
pub fn vec_dot_iq3_xxs(w: &[u8], a: &[u8]) -> f32 {
    let mut acc = 0.0f32;
    for (x, y) in block_pairs::<BlockIQ3XXS, BlockQ8K>(w, a) {
        acc += f16_to_f32(x.d) * y.d() * block_sum(y, |ib, g| x.group(ib, g)) as f32;
    }
    0.25 * acc
}

/// Scalar reference IQ3_S × Q8_K.
pub fn vec_dot_iq3_s(w: &[u8], a: &[u8]) -> f32 {
    let mut acc = 0.0f32;
    for (x, y) in block_pairs::<BlockIQ3S, BlockQ8K>(w, a) {
        acc += f16_to_f32(x.d) * y.d() * block_sum(y, |ib, g| x.group(ib, g)) as f32;
    }
    acc
}
