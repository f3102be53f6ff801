//! IQ1_S and IQ1_M: ternary 8-vector codebook quants (spec §4.6, §4.7) — the
//! DeepSeek-R1 "1.58-bit" expert formats.
//!
//! ```text
//! IQ1_S (50 B)  d:f16 @0 | qs[32] @2 | qh:u16[8] @34
//!   sub-block ib (32 elements = 4 groups of 8), w = qh[ib]:
//!     bits 0-11: 3 high index bits per group | 12-14: scale s | 15: delta sign
//!   idx(g) = qs[4ib+g] | ((w >> 3g) & 7) << 8          (11 bits → IQ1S_GRID)
//!   x = d·(2s+1) · (grid[idx][j] + δ),  δ = −1/8 if bit 15 else +1/8
//!
//! IQ1_M (56 B)  qs[32] @0 | qh[16] @32 | sc:u16[4] @48
//!   d (f16 bits) = top nibbles of sc0..sc3 (nibble k = bits 12-15 of sc_k)
//!   W = sc[ib/2] >> 6(ib%2): s1 = W & 7 for groups 0,1; s2 = (W>>3) & 7 for groups 2,3
//!   N(g) = (qh[2ib + g/2] >> 4(g%2)) & 15: idx = qs[4ib+g] | (N & 7) << 8,
//!   δ(g) = −1/8 if N & 8 else +1/8;   x = d·(2s+1)·(grid[idx][j] + δ(g))
//! ```
//!
//! Dots against Q8_K (spec §7), with `ls = 2s+1`:
//! `A = Σ ls·Σ grid·y`, `D = Σ ls·σ·Σ y` (σ = ±1, Σy from `bsums` for IQ1_S, per group of
//! 8 for IQ1_M), `acc += (dx·dy)·(A + 0.125·D)`.

use super::q8::BlockQ8K;
use super::{block_pairs, dequantize_each, f16_to_f32, impl_block};
use crate::tables::{grid_i8, IQ1S_GRID, IQ1_DELTA};

/// IQ1_S super-block.
#[repr(C)]
#[derive(Clone, Copy, Debug)]
pub struct BlockIQ1S {
    pub d: [u8; 2],
    pub qs: [u8; 32],
    /// 8 × u16 little-endian.
    pub qh: [u8; 16],
}
impl_block!(BlockIQ1S, 256, 50);

/// IQ1_M super-block (no separate scale field).
#[repr(C)]
#[derive(Clone, Copy, Debug)]
pub struct BlockIQ1M {
    pub qs: [u8; 32],
    pub qh: [u8; 16],
    /// 4 × u16 little-endian: 3-bit sub-block scales, top nibbles = f16 `d`.
    pub scales: [u8; 8],
}
impl_block!(BlockIQ1M, 256, 56);

impl BlockIQ1S {
    /// Word `ib` of `qh`.
    #[inline(always)]
    pub fn qh(&self, ib: usize) -> u16 {
        u16::from_le_bytes([self.qh[2 * ib], self.qh[2 * ib + 1]])
    }
    /// 11-bit grid index of group `g` (0..4) of sub-block `ib`.
    #[inline(always)]
    pub fn index(&self, ib: usize, g: usize) -> usize {
        self.qs[4 * ib + g] as usize | ((((self.qh(ib) >> (3 * g)) & 7) as usize) << 8)
    }
    /// Odd multiplier `2s+1` of sub-block `ib`.
    #[inline(always)]
    pub fn ls(&self, ib: usize) -> i32 {
        2 * ((self.qh(ib) >> 12) & 7) as i32 + 1
    }
    /// Delta sign σ (±1) of sub-block `ib`.
    #[inline(always)]
    pub fn sigma(&self, ib: usize) -> i32 {
        if self.qh(ib) & 0x8000 != 0 {
            -1
        } else {
            1
        }
    }
}

impl BlockIQ1M {
    /// Scale word `k` (0..4).
    #[inline(always)]
    pub fn sc(&self, k: usize) -> u16 {
        u16::from_le_bytes([self.scales[2 * k], self.scales[2 * k + 1]])
    }
    /// The super-block scale assembled from the top nibbles of the scale words.
    #[inline(always)]
    pub fn d(&self) -> f32 {
        let bits = (self.sc(0) >> 12)
            | ((self.sc(1) >> 8) & 0x00F0)
            | ((self.sc(2) >> 4) & 0x0F00)
            | (self.sc(3) & 0xF000);
        f16_to_f32(bits.to_le_bytes())
    }
    /// Odd multipliers `(2·s1+1, 2·s2+1)` of sub-block `ib` (groups 0-1 and 2-3).
    #[inline(always)]
    pub fn ls(&self, ib: usize) -> (i32, i32) {
        let w = self.sc(ib / 2) >> (6 * (ib % 2));
        (2 * (w & 7) as i32 + 1, 2 * ((w >> 3) & 7) as i32 + 1)
    }
    /// 12-bit index of group `g` of sub-block `ib`: the 11-bit grid index with the
    /// delta-sign bit as bit 11 (the layout of `tables::IQ1M_W8U`).
    #[inline(always)]
    pub fn index12(&self, ib: usize, g: usize) -> usize {
        let n = (self.qh[2 * ib + g / 2] >> (4 * (g % 2))) & 0xF;
        self.qs[4 * ib + g] as usize | ((n as usize) << 8)
    }

    /// Grid index and delta sign σ (±1) of group `g` (0..4) of sub-block `ib`.
    #[inline(always)]
    pub fn group(&self, ib: usize, g: usize) -> (usize, i32) {
        let n = (self.qh[2 * ib + g / 2] >> (4 * (g % 2))) & 0xF;
        let idx = self.qs[4 * ib + g] as usize | (((n & 7) as usize) << 8);
        (idx, if n & 8 != 0 { -1 } else { 1 })
    }
}

/// Dequantizes IQ1_S blocks.
pub fn dequantize_iq1_s(blocks: &[u8], out: &mut [f32]) {
    dequantize_each::<BlockIQ1S>(blocks, out, |b, o| {
        let d = f16_to_f32(b.d);
        for (ib, o) in o.chunks_exact_mut(32).enumerate() {
            let dl = d * b.ls(ib) as f32;
            let delta = IQ1_DELTA * b.sigma(ib) as f32;
            for (g, o) in o.chunks_exact_mut(8).enumerate() {
                let row = IQ1S_GRID[b.index(ib, g)];
                for (j, o) in o.iter_mut().enumerate() {
                    *o = dl * (grid_i8(row, j) as f32 + delta);
                }
            }
        }
    });
}

/// Dequantizes IQ1_M blocks.
pub fn dequantize_iq1_m(blocks: &[u8], out: &mut [f32]) {
    dequantize_each::<BlockIQ1M>(blocks, out, |b, o| {
        let d = b.d();
        for (ib, o) in o.chunks_exact_mut(32).enumerate() {
            let (ls1, ls2) = b.ls(ib);
            for (g, o) in o.chunks_exact_mut(8).enumerate() {
                let dl = d * if g < 2 { ls1 } else { ls2 } as f32;
                let (idx, sigma) = b.group(ib, g);
                let delta = IQ1_DELTA * sigma as f32;
                let row = IQ1S_GRID[idx];
                for (j, o) in o.iter_mut().enumerate() {
                    *o = dl * (grid_i8(row, j) as f32 + delta);
                }
            }
        }
    });
}

/// Σ grid·y over one group of 8.
#[inline(always)]
fn group_dot(row: u64, y: &[i8]) -> i32 {
    (0..8).map(|j| grid_i8(row, j) as i32 * y[j] as i32).sum()
}

/// Integer parts (A, D) of one IQ1_S × Q8_K block.
#[inline(always)]
pub fn block_sums_iq1_s(x: &BlockIQ1S, y: &BlockQ8K) -> (i32, i32) {
    let (mut a, mut d) = (0i32, 0i32);
    for ib in 0..8 {
        let lsum: i32 = (0..4)
            .map(|g| group_dot(IQ1S_GRID[x.index(ib, g)], &y.qs[32 * ib + 8 * g..]))
            .sum();
        a += x.ls(ib) * lsum;
        d += x.ls(ib) * x.sigma(ib) * (y.bsum(2 * ib) + y.bsum(2 * ib + 1));
    }
    (a, d)
}

/// Integer parts (A, D) of one IQ1_M × Q8_K block.
#[inline(always)]
pub fn block_sums_iq1_m(x: &BlockIQ1M, y: &BlockQ8K) -> (i32, i32) {
    let (mut a, mut d) = (0i32, 0i32);
    for ib in 0..8 {
        let (ls1, ls2) = x.ls(ib);
        for g in 0..4 {
            let ls = if g < 2 { ls1 } else { ls2 };
            let ys = &y.qs[32 * ib + 8 * g..32 * ib + 8 * g + 8];
            let (idx, sigma) = x.group(ib, g);
            a += ls * group_dot(IQ1S_GRID[idx], ys);
            d += ls * sigma * ys.iter().map(|&v| v as i32).sum::<i32>();
        }
    }
    (a, d)
}

/// Scalar reference IQ1_S × Q8_K.
pub fn vec_dot_iq1_s(w: &[u8], a: &[u8]) -> f32 {
    let mut acc = 0.0f32;
    for (x, y) in block_pairs::<BlockIQ1S, BlockQ8K>(w, a) {
        let (sa, sd) = block_sums_iq1_s(x, y);
        acc += f16_to_f32(x.d) * y.d() * (sa as f32 + IQ1_DELTA * sd as f32);
    }
    acc
}

/// Scalar reference IQ1_M × Q8_K.
pub fn vec_dot_iq1_m(w: &[u8], a: &[u8]) -> f32 {
    let mut acc = 0.0f32;
    for (x, y) in block_pairs::<BlockIQ1M, BlockQ8K>(w, a) {
        let (sa, sd) = block_sums_iq1_m(x, y);
        acc += x.d() * y.d() * (sa as f32 + IQ1_DELTA * sd as f32);
    }
    acc
}
