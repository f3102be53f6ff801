//! K-quants: Q2_K, Q3_K, Q4_K, Q5_K, Q6_K (256-element super-blocks, spec §3).
//!
//! ```text
//! Q2_K  (84 B)  scales[16] @0 | qs[64] @16 | d:f16 @80 | dmin:f16 @82
//! Q3_K (110 B)  hmask[32] @0 | qs[64] @32 | scales[12] @96 | d:f16 @108
//! Q4_K (144 B)  d:f16 @0 | dmin:f16 @2 | scales[12] @4 | qs[128] @16
//! Q5_K (176 B)  d:f16 @0 | dmin:f16 @2 | scales[12] @4 | qh[32] @16 | qs[128] @48
//! Q6_K (210 B)  ql[128] @0 | qh[64] @128 | scales:i8[16] @192 | d:f16 @208
//! ```
//!
//! Element e of a super-block, with `h = e/128`, `p = e%32` (position in a 32-run):
//! * Q2_K / Q3_K low 2 bits: `(qs[32h + p] >> 2·((e/32)%4)) & 3`; Q3_K high bit
//!   `(hmask[p] >> (e/32)) & 1`, q = low − (hbit ? 0 : 4); scales per 16 elements.
//! * Q4_K / Q5_K: chunk c = e/64 owns `qs[32c..32c+32]`; low nibble for e%64 < 32, high
//!   nibble otherwise; Q5_K 5th bit `(qh[p] >> (e/32)) & 1`; 6-bit scale and min per 32
//!   elements packed in 12 bytes ([`scale_min_k4`]).
//! * Q6_K: 4 bits from `ql`, 2 from `qh`, q−32, int8 scale per 16 elements.
//!
//! ```text
//! Q2_K: x = d·sc·q − dmin·m     Q3_K: x = d·(sc−32)·q        Q6_K: x = d·sc·(q−32)
//! Q4_K, Q5_K: x = d·sc·q − dmin·m
//! ```
//!
//! Dots against Q8_K (spec §7): integer sums are exact; Q3_K…Q6_K accumulate the scaled
//! integer sums in 8 interleaved lanes (lane = e mod 8), as ggml's generic code does,
//! `lane_acc[l] += (d·dy)·I[l]`, summed once at the end; the mins use Q8_K's `bsums`:
//! `acc −= (dmin·dy)·Σ_k bsums[k]·m[k/2]` (Q4_K/Q5_K) or `acc += (dy·d)·I − (dy·dmin)·M`
//! (Q2_K).

use super::q8::BlockQ8K;
use super::{block_pairs, dequantize_each, f16_to_f32, impl_block};

/// Q2_K super-block.
#[repr(C)]
#[derive(Clone, Copy, Debug)]
pub struct BlockQ2K {
    /// Low nibble: 4-bit scale, high nibble: 4-bit min, per 16 elements.
    pub scales: [u8; 16],
    pub qs: [u8; 64],
    pub d: [u8; 2],
    pub dmin: [u8; 2],
}
impl_block!(BlockQ2K, 256, 84);

/// Q3_K super-block.
#[repr(C)]
#[derive(Clone, Copy, Debug)]
pub struct BlockQ3K {
    pub hmask: [u8; 32],
    pub qs: [u8; 64],
    /// 16 six-bit scales, see [`q3k_scales`].
    pub scales: [u8; 12],
    pub d: [u8; 2],
}
impl_block!(BlockQ3K, 256, 110);

/// Q4_K super-block.
#[repr(C)]
#[derive(Clone, Copy, Debug)]
pub struct BlockQ4K {
    pub d: [u8; 2],
    pub dmin: [u8; 2],
    /// 8 six-bit scales and mins, see [`scale_min_k4`].
    pub scales: [u8; 12],
    pub qs: [u8; 128],
}
impl_block!(BlockQ4K, 256, 144);

/// Q5_K super-block.
#[repr(C)]
#[derive(Clone, Copy, Debug)]
pub struct BlockQ5K {
    pub d: [u8; 2],
    pub dmin: [u8; 2],
    pub scales: [u8; 12],
    pub qh: [u8; 32],
    pub qs: [u8; 128],
}
impl_block!(BlockQ5K, 256, 176);

/// Q6_K super-block.
#[repr(C)]
#[derive(Clone, Copy, Debug)]
pub struct BlockQ6K {
    pub ql: [u8; 128],
    pub qh: [u8; 64],
    pub scales: [i8; 16],
    pub d: [u8; 2],
}
impl_block!(BlockQ6K, 256, 210);

/// 6-bit scale and min of sub-block `j` (0..8) of Q4_K / Q5_K (`get_scale_min_k4`).
#[inline(always)]
pub fn scale_min_k4(j: usize, q: &[u8; 12]) -> (u8, u8) {
    if j < 4 {
        (q[j] & 63, q[j + 4] & 63)
    } else {
        (
            (q[j + 4] & 0xF) | ((q[j - 4] >> 6) << 4),
            (q[j + 4] >> 4) | ((q[j] >> 6) << 4),
        )
    }
}

/// All 8 (scale, min) pairs of a Q4_K / Q5_K super-block.
#[inline(always)]
pub fn scales_mins_k4(q: &[u8; 12]) -> [(u8, u8); 8] {
    core::array::from_fn(|j| scale_min_k4(j, q))
}

/// The 16 signed scales (−32..31) of a Q3_K super-block.
#[inline(always)]
pub fn q3k_scales(s: &[u8; 12]) -> [i8; 16] {
    core::array::from_fn(|j| {
        let low = if j < 8 { s[j] & 0xF } else { s[j - 8] >> 4 };
        let high = (s[8 + j % 4] >> (2 * (j / 4))) & 3;
        (low | (high << 4)) as i8 - 32
    })
}

/// Q2_K codes 0..3 in element order.
#[inline(always)]
pub fn q2k_codes(b: &BlockQ2K) -> [i8; 256] {
    core::array::from_fn(|e| ((b.qs[32 * (e / 128) + e % 32] >> (2 * ((e / 32) % 4))) & 3) as i8)
}

/// Q3_K values −4..3 in element order.
#[inline(always)]
pub fn q3k_values(b: &BlockQ3K) -> [i8; 256] {
    core::array::from_fn(|e| {
        let low = ((b.qs[32 * (e / 128) + e % 32] >> (2 * ((e / 32) % 4))) & 3) as i8;
        let hbit = (b.hmask[e % 32] >> (e / 32)) & 1;
        low - if hbit != 0 { 0 } else { 4 }
    })
}

/// Q4_K codes 0..15 in element order.
#[inline(always)]
pub fn q4k_codes(qs: &[u8; 128]) -> [i8; 256] {
    core::array::from_fn(|e| {
        let byte = qs[32 * (e / 64) + e % 32];
        (if e % 64 < 32 { byte & 0xF } else { byte >> 4 }) as i8
    })
}

/// Q5_K codes 0..31 in element order.
#[inline(always)]
pub fn q5k_codes(b: &BlockQ5K) -> [i8; 256] {
    let low = q4k_codes(&b.qs);
    core::array::from_fn(|e| low[e] | ((((b.qh[e % 32] >> (e / 32)) & 1) << 4) as i8))
}

/// Q6_K values −32..31 in element order.
#[inline(always)]
pub fn q6k_values(b: &BlockQ6K) -> [i8; 256] {
    core::array::from_fn(|e| {
        let (h, k, l) = (e / 128, (e / 32) % 4, e % 32);
        let byte = b.ql[64 * h + 32 * (k % 2) + l];
        let low = if k < 2 { byte & 0xF } else { byte >> 4 };
        let high = (b.qh[32 * h + l] >> (2 * k)) & 3;
        (low | (high << 4)) as i8 - 32
    })
}

/// Dequantizes Q2_K blocks.
pub fn dequantize_q2_k(blocks: &[u8], out: &mut [f32]) {
    dequantize_each::<BlockQ2K>(blocks, out, |b, o| {
        let (d, dmin) = (f16_to_f32(b.d), f16_to_f32(b.dmin));
        for (e, (o, q)) in o.iter_mut().zip(q2k_codes(b)).enumerate() {
            let sc = b.scales[e / 16];
            *o = d * (sc & 0xF) as f32 * q as f32 - dmin * (sc >> 4) as f32;
        }
    });
}

/// Dequantizes Q3_K blocks.
pub fn dequantize_q3_k(blocks: &[u8], out: &mut [f32]) {
    dequantize_each::<BlockQ3K>(blocks, out, |b, o| {
        let d = f16_to_f32(b.d);
        let sc = q3k_scales(&b.scales);
        for (e, (o, q)) in o.iter_mut().zip(q3k_values(b)).enumerate() {
            *o = d * sc[e / 16] as f32 * q as f32;
        }
    });
}

fn dequantize_k4_like(
    d: [u8; 2],
    dmin: [u8; 2],
    scales: &[u8; 12],
    codes: [i8; 256],
    o: &mut [f32],
) {
    let (d, dmin) = (f16_to_f32(d), f16_to_f32(dmin));
    for (e, (o, q)) in o.iter_mut().zip(codes).enumerate() {
        let (sc, m) = scale_min_k4(e / 32, scales);
        *o = d * sc as f32 * q as f32 - dmin * m as f32;
    }
}

/// Dequantizes Q4_K blocks.
pub fn dequantize_q4_k(blocks: &[u8], out: &mut [f32]) {
    dequantize_each::<BlockQ4K>(blocks, out, |b, o| {
        dequantize_k4_like(b.d, b.dmin, &b.scales, q4k_codes(&b.qs), o)
    });
}

/// Dequantizes Q5_K blocks.
pub fn dequantize_q5_k(blocks: &[u8], out: &mut [f32]) {
    dequantize_each::<BlockQ5K>(blocks, out, |b, o| {
        dequantize_k4_like(b.d, b.dmin, &b.scales, q5k_codes(b), o)
    });
}

/// Dequantizes Q6_K blocks.
pub fn dequantize_q6_k(blocks: &[u8], out: &mut [f32]) {
    dequantize_each::<BlockQ6K>(blocks, out, |b, o| {
        let d = f16_to_f32(b.d);
        for (e, (o, q)) in o.iter_mut().zip(q6k_values(b)).enumerate() {
            *o = d * b.scales[e / 16] as f32 * q as f32;
        }
    });
}

/// `I[l] = Σ_{e ≡ l (mod 8)} scale[e / run] · v[e] · y[e]`: the 8 interleaved integer
/// lanes of ggml's generic K-quant dots (`run` = elements per scale, 16 or 32).
#[inline(always)]
pub fn lane_sums(v: &[i8; 256], y: &[i8; 256], scales: &[i32], run: usize) -> [i32; 8] {
    let mut lanes = [0i32; 8];
    for (e, (&v, &y)) in v.iter().zip(y).enumerate() {
        lanes[e % 8] += scales[e / run] * v as i32 * y as i32;
    }
    lanes
}

/// `M = Σ_j m_j·bsums_j` of a Q2_K block (the min term).
#[inline(always)]
pub fn q2k_min_sum(x: &BlockQ2K, y: &BlockQ8K) -> i32 {
    (0..16).map(|j| (x.scales[j] >> 4) as i32 * y.bsum(j)).sum()
}

/// `M = Σ_{k<16} bsums_k·m_{k/2}` of a Q4_K / Q5_K block (the min term).
#[inline(always)]
pub fn k4_min_sum(sm: &[(u8, u8); 8], y: &BlockQ8K) -> i32 {
    (0..16).map(|k| y.bsum(k) * sm[k / 2].1 as i32).sum()
}

/// Integer parts of one Q2_K × Q8_K block: (I = Σ_j sc_j·Σ q·y, M = Σ_j m_j·bsums_j).
#[inline(always)]
pub fn block_sums_q2_k(x: &BlockQ2K, y: &BlockQ8K) -> (i32, i32) {
    let sc: [i32; 16] = core::array::from_fn(|j| (x.scales[j] & 0xF) as i32);
    let i = lane_sums(&q2k_codes(x), &y.qs, &sc, 16).iter().sum();
    (i, q2k_min_sum(x, y))
}

/// Scalar reference Q2_K × Q8_K.
pub fn vec_dot_q2_k(w: &[u8], a: &[u8]) -> f32 {
    let mut acc = 0.0f32;
    for (x, y) in block_pairs::<BlockQ2K, BlockQ8K>(w, a) {
        let (i, m) = block_sums_q2_k(x, y);
        let dall = y.d() * f16_to_f32(x.d);
        let dmin = y.d() * f16_to_f32(x.dmin);
        acc += dall * i as f32 - dmin * m as f32;
    }
    acc
}

/// Lane sums of one Q3_K × Q8_K block.
#[inline(always)]
pub fn block_lanes_q3_k(x: &BlockQ3K, y: &BlockQ8K) -> [i32; 8] {
    let sc = q3k_scales(&x.scales).map(|s| s as i32);
    lane_sums(&q3k_values(x), &y.qs, &sc, 16)
}

/// Accumulates `(d·dy)·I[l]` into 8 float lanes and sums them at the end.
#[inline(always)]
fn lane_dot<'a, W: 'a>(
    pairs: impl Iterator<Item = (&'a W, &'a BlockQ8K)>,
    per_block: impl Fn(&W, &BlockQ8K) -> (f32, [i32; 8], f32),
) -> f32 {
    let mut lanes = [0.0f32; 8];
    let mut acc = 0.0f32;
    for (x, y) in pairs {
        let (d, sums, min_term) = per_block(x, y);
        acc -= min_term;
        for (l, s) in lanes.iter_mut().zip(sums) {
            *l += d * s as f32;
        }
    }
    lanes.iter().fold(acc, |a, l| a + l)
}

/// Scalar reference Q3_K × Q8_K.
pub fn vec_dot_q3_k(w: &[u8], a: &[u8]) -> f32 {
    lane_dot(block_pairs::<BlockQ3K, BlockQ8K>(w, a), |x, y| {
        (f16_to_f32(x.d) * y.d(), block_lanes_q3_k(x, y), 0.0)
    })
}

/// Lane sums and min sum of one Q4_K/Q5_K-like block (codes 0..31, packed scales).
#[inline(always)]
pub fn block_sums_k4_like(codes: &[i8; 256], scales: &[u8; 12], y: &BlockQ8K) -> ([i32; 8], i32) {
    let sm = scales_mins_k4(scales);
    let sc = sm.map(|(s, _)| s as i32);
    (lane_sums(codes, &y.qs, &sc, 32), k4_min_sum(&sm, y))
}

/// Scalar reference Q4_K × Q8_K.
pub fn vec_dot_q4_k(w: &[u8], a: &[u8]) -> f32 {
    lane_dot(block_pairs::<BlockQ4K, BlockQ8K>(w, a), |x, y| {
        let (lanes, m) = block_sums_k4_like(&q4k_codes(&x.qs), &x.scales, y);
        (
            f16_to_f32(x.d) * y.d(),
            lanes,
            f16_to_f32(x.dmin) * y.d() * m as f32,
        )
    })
}

/// Scalar reference Q5_K × Q8_K.
pub fn vec_dot_q5_k(w: &[u8], a: &[u8]) -> f32 {
    lane_dot(block_pairs::<BlockQ5K, BlockQ8K>(w, a), |x, y| {
        let (lanes, m) = block_sums_k4_like(&q5k_codes(x), &x.scales, y);
        (
            f16_to_f32(x.d) * y.d(),
            lanes,
            f16_to_f32(x.dmin) * y.d() * m as f32,
        )
    })
}

/// Lane sums of one Q6_K × Q8_K block.
#[inline(always)]
pub fn block_lanes_q6_k(x: &BlockQ6K, y: &BlockQ8K) -> [i32; 8] {
    let sc = x.scales.map(|s| s as i32);
    lane_sums(&q6k_values(x), &y.qs, &sc, 16)
}

/// Scalar reference Q6_K × Q8_K.
pub fn vec_dot_q6_k(w: &[u8], a: &[u8]) -> f32 {
    lane_dot(block_pairs::<BlockQ6K, BlockQ8K>(w, a), |x, y| {
        (f16_to_f32(x.d) * y.d(), block_lanes_q6_k(x, y), 0.0)
    })
}
