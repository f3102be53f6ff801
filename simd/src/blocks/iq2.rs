//! IQ2_XXS, IQ2_XS, IQ2_S: 2-bit codebook quants with explicit signs (spec §4.1–4.3).
//!
//! All three split a 256-element super-block into 8 sub-blocks of 32 = 4 groups of 8;
//! each group is a grid row of 8 magnitudes in {8, 25, 43} with 8 sign bits.
//!
//! ```text
//! IQ2_XXS (66 B)  d:f16 @0 | 8 × (a0:u32, a1:u32) @2
//!   group g: idx = byte g of a0 (IQ2XXS_GRID), signs = KSIGNS[(a1 >> 7g) & 127],
//!   s = a1 >> 28 (one scale per sub-block)
//! IQ2_XS  (74 B)  d:f16 @0 | qs:u16[32] @2 | scales[8] @66
//!   v = qs[4ib+g]: idx = v & 511 (IQ2XS_GRID), signs = KSIGNS[v >> 9],
//!   s = scales[ib] & 15 for g < 2, scales[ib] >> 4 for g ≥ 2
//! IQ2_S   (82 B)  d:f16 @0 | qs[32] @2 | signs[32] @34 | qh[8] @66 | scales[8] @74
//!   idx = qs[4ib+g] | ((qh[ib] >> 2g) & 3) << 8 (IQ2S_GRID), signs = signs[4ib+g],
//!   s as IQ2_XS
//! x = d·(0.5 + s)·0.25 · grid[idx][j] · (−1 if bit j of signs else +1)
//! ```
//!
//! Dots against Q8_K (spec §7): `B = Σ_ib (2s+1)·Σ grid·sign·y` (per half sub-block for
//! XS/S), `acc += (dx·dy)·B`, result × 0.125 — because d·(0.5+s)·0.25 = d·(2s+1)/8.

use super::q8::BlockQ8K;
use super::{block_pairs, dequantize_each, f16_to_f32, impl_block};
use crate::tables::{grid_u8, IQ2S_GRID, IQ2XS_GRID, IQ2XXS_GRID, KSIGNS_IQ2XS};

/// IQ2_XXS super-block.
#[repr(C)]
#[derive(Clone, Copy, Debug)]
pub struct BlockIQ2XXS {
    pub d: [u8; 2],
    /// 8 × (u32 grid bytes, u32 signs+scale), little-endian.
    pub qs: [u8; 64],
}
impl_block!(BlockIQ2XXS, 256, 66);

/// IQ2_XS super-block.
#[repr(C)]
#[derive(Clone, Copy, Debug)]
pub struct BlockIQ2XS {
    pub d: [u8; 2],
    /// 32 × u16 little-endian: 9-bit grid index | 7 sign bits.
    pub qs: [u8; 64],
    pub scales: [u8; 8],
}
impl_block!(BlockIQ2XS, 256, 74);

/// IQ2_S super-block.
#[repr(C)]
#[derive(Clone, Copy, Debug)]
pub struct BlockIQ2S {
    pub d: [u8; 2],
    pub qs: [u8; 32],
    pub signs: [u8; 32],
    pub qh: [u8; 8],
    pub scales: [u8; 8],
}
impl_block!(BlockIQ2S, 256, 82);

impl BlockIQ2XXS {
    /// The two words `(a0, a1)` of sub-block `ib`.
    #[inline(always)]
    pub fn words(&self, ib: usize) -> (u32, u32) {
        let q = &self.qs[8 * ib..8 * ib + 8];
        (
            u32::from_le_bytes([q[0], q[1], q[2], q[3]]),
            u32::from_le_bytes([q[4], q[5], q[6], q[7]]),
        )
    }
    /// (grid row, sign byte) of group `g` of sub-block `ib`, and the sub-block's `s`.
    #[inline(always)]
    pub fn group(&self, ib: usize, g: usize) -> (u64, u8, u32) {
        let (a0, a1) = self.words(ib);
        let row = IQ2XXS_GRID[((a0 >> (8 * g)) & 0xFF) as usize];
        (
            row,
            KSIGNS_IQ2XS[((a1 >> (7 * g)) & 127) as usize],
            a1 >> 28,
        )
    }
}

impl BlockIQ2XS {
    /// (grid row, sign byte, 4-bit scale) of group `g` of sub-block `ib`.
    #[inline(always)]
    pub fn group(&self, ib: usize, g: usize) -> (u64, u8, u32) {
        let k = 4 * ib + g;
        let v = u16::from_le_bytes([self.qs[2 * k], self.qs[2 * k + 1]]);
        let s = if g < 2 {
            self.scales[ib] & 0xF
        } else {
            self.scales[ib] >> 4
        };
        (
            IQ2XS_GRID[(v & 511) as usize],
            KSIGNS_IQ2XS[(v >> 9) as usize],
            s as u32,
        )
    }
}

impl BlockIQ2S {
    /// (grid row, sign byte, 4-bit scale) of group `g` of sub-block `ib`.
    #[inline(always)]
    pub fn group(&self, ib: usize, g: usize) -> (u64, u8, u32) {
        let k = 4 * ib + g;
        let idx = self.qs[k] as usize | ((((self.qh[ib] >> (2 * g)) & 3) as usize) << 8);
        let s = if g < 2 {
            self.scales[ib] & 0xF
        } else {
            self.scales[ib] >> 4
        };
        (IQ2S_GRID[idx], self.signs[k], s as u32)
    }
}

/// Writes the 8 values `db·grid[j]·sign_j` of a group.
#[inline(always)]
pub(crate) fn dequantize_group(db: f32, row: u64, signs: u8, o: &mut [f32]) {
    for (j, o) in o.iter_mut().enumerate() {
        let sign = if signs & (1 << j) != 0 { -1.0 } else { 1.0 };
        *o = db * grid_u8(row, j) as f32 * sign;
    }
}

/// Shared dequantization loop: `group(ib, g)` gives (row, signs, s).
#[inline(always)]
fn dequantize_iq2_like(d: f32, o: &mut [f32], group: impl Fn(usize, usize) -> (u64, u8, u32)) {
    for (k, o) in o.chunks_exact_mut(8).enumerate() {
        let (row, signs, s) = group(k / 4, k % 4);
        let db = d * (0.5 + s as f32) * 0.25;
        dequantize_group(db, row, signs, o);
    }
}

/// Dequantizes IQ2_XXS blocks.
pub fn dequantize_iq2_xxs(blocks: &[u8], out: &mut [f32]) {
    dequantize_each::<BlockIQ2XXS>(blocks, out, |b, o| {
        dequantize_iq2_like(f16_to_f32(b.d), o, |ib, g| b.group(ib, g))
    });
}

/// Dequantizes IQ2_XS blocks.
pub fn dequantize_iq2_xs(blocks: &[u8], out: &mut [f32]) {
    dequantize_each::<BlockIQ2XS>(blocks, out, |b, o| {
        dequantize_iq2_like(f16_to_f32(b.d), o, |ib, g| b.group(ib, g))
    });
}

/// Dequantizes IQ2_S blocks.
pub fn dequantize_iq2_s(blocks: &[u8], out: &mut [f32]) {
    dequantize_each::<BlockIQ2S>(blocks, out, |b, o| {
        dequantize_iq2_like(f16_to_f32(b.d), o, |ib, g| b.group(ib, g))
    });
}

/// Σ grid·sign·y over one group of 8.
#[inline(always)]
pub fn signed_group_dot(row: u64, signs: u8, y: &[i8]) -> i32 {
    (0..8)
        .map(|j| {
            let v = grid_u8(row, j) as i32 * y[j] as i32;
            if signs & (1 << j) != 0 {
                -v
            } else {
                v
            }
        })
        .sum()
}

/// Integer part `B = Σ (2s+1)·Σ grid·sign·y` of one super-block.
#[inline(always)]
pub fn block_sum_iq2_like(y: &BlockQ8K, group: impl Fn(usize, usize) -> (u64, u8, u32)) -> i32 {
    let mut b = 0;
    for k in 0..32 {
        let (row, signs, s) = group(k / 4, k % 4);
        b += (2 * s as i32 + 1) * signed_group_dot(row, signs, &y.qs[8 * k..8 * k + 8]);
    }
    b
}

#[inline(always)]
fn vec_dot_iq2_like<'a, W: 'a>(
    pairs: impl Iterator<Item = (&'a W, &'a BlockQ8K)>,
    d_and_sum: impl Fn(&W, &BlockQ8K) -> (f32, i32),
) -> f32 {
    let mut acc = 0.0f32;
    for (x, y) in pairs {
        let (dx, b) = d_and_sum(x, y);
        acc += dx * y.d() * b as f32;
    }
    0.125 * acc
}

/// Scalar reference IQ2_XXS × Q8_K.
pub fn vec_dot_iq2_xxs(w: &[u8], a: &[u8]) -> f32 {
    vec_dot_iq2_like(block_pairs::<BlockIQ2XXS, BlockQ8K>(w, a), |x, y| {
        (
            f16_to_f32(x.d),
            block_sum_iq2_like(y, |ib, g| x.group(ib, g)),
        )
    })
}

/// Scalar reference IQ2_XS × Q8_K.
pub fn vec_dot_iq2_xs(w: &[u8], a: &[u8]) -> f32 {
    vec_dot_iq2_like(block_pairs::<BlockIQ2XS, BlockQ8K>(w, a), |x, y| {
        (
            f16_to_f32(x.d),
            block_sum_iq2_like(y, |ib, g| x.group(ib, g)),
        )
    })
}

/// Scalar reference IQ2_S × Q8_K.
pub fn vec_dot_iq2_s(w: &[u8], a: &[u8]) -> f32 {
    vec_dot_iq2_like(block_pairs::<BlockIQ2S, BlockQ8K>(w, a), |x, y| {
        (
            f16_to_f32(x.d),
            block_sum_iq2_like(y, |ib, g| x.group(ib, g)),
        )
    })
}
