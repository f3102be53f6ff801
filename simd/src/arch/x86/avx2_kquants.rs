//! AVX2 dots of the K-quants against Q8_K: Q2_K, Q3_K, Q4_K, Q5_K, Q6_K.
//!
//! Scalar references: [`crate::blocks::kquants`]. Each super-block is walked in runs of
//! 32 elements that share one 32-byte load of the quants; codes are unpacked to
//! unsigned bytes, multiplied with `maddubs` (unsigned × signed → i16 pairs), scaled and
//! widened with `madd` by the sub-block scale (one scale per 128-bit half for the
//! 16-element scales), and summed in 8 × i32:
//! ```text
//! Q2_K: I = Σ sc·Σ q·y                      acc += (dy·d)·I − (dy·dmin)·Σ m·bsums
//! Q3_K: q = u − 4 with u = low2 | hbit<<2 ∈ 0..7:  I = Σ sc·Σ u·y − 4·Σ sc·bsums
//! Q4_K: I = Σ sc·Σ q·y   (q nibble)          acc += (d·dy)·I, acc −= (dmin·dy)·Σ m·bsums
//! Q5_K: as Q4_K with q = nibble | 16·bit
//! Q6_K: Σ (q−32)·y = maddubs(q, y) − maddubs(32, y), int8 scales per 16
//! ```
//! Q2_K reduces each block to (I, M) and repeats the reference float expression, so it
//! is bit-identical; the others accumulate per-block floats in 8 lanes.

use core::arch::x86_64::*;

use super::f16c;
use super::{hsum_f32, hsum_i32, load128_i8, load256, load256_i8, scales2};
use crate::blocks::kquants::{
    q2k_min_sum, q3k_scales, BlockQ2K, BlockQ3K, BlockQ4K, BlockQ5K, BlockQ6K,
};
use crate::blocks::q8::BlockQ8K;
use crate::blocks::{as_blocks, common_blocks};

/// Bytes of `v` shifted right by `n` bits (0..8) and masked with `mask`.
#[inline]
#[target_feature(enable = "avx2")]
fn shr_mask(v: __m256i, n: u32, mask: i8) -> __m256i {
    let s = _mm256_srl_epi16(v, _mm_cvtsi32_si128(n as i32));
    _mm256_and_si256(s, _mm256_set1_epi8(mask))
}

/// `value` in every byte whose bit `bit` (0..8) is set in `v`, else 0.
#[inline]
#[target_feature(enable = "avx2")]
fn bit_to(v: __m256i, bit: u32, value: i8) -> __m256i {
    let m = _mm256_set1_epi8((1u8 << bit) as i8);
    let set = _mm256_cmpeq_epi8(_mm256_and_si256(v, m), m);
    _mm256_and_si256(set, _mm256_set1_epi8(value))
}

/// Q2_K × Q8_K (bit-identical to the scalar reference).
#[target_feature(enable = "avx2,fma,f16c")]
pub(super) fn vec_dot_q2_k(w: &[u8], a: &[u8]) -> f32 {
    let mut acc = 0.0f32;
    for (x, y) in as_blocks::<BlockQ2K>(w)
        .iter()
        .zip(as_blocks::<BlockQ8K>(a))
    {
        let mut sumi = _mm256_setzero_si256();
        for h in 0..2 {
            let q = load256(&x.qs[32 * h..]);
            for s in 0..4 {
                let codes = shr_mask(q, 2 * s as u32, 3);
                let p = _mm256_maddubs_epi16(codes, load256_i8(&y.qs[128 * h + 32 * s..]));
                let j = 8 * h + 2 * s;
                let sc = scales2((x.scales[j] & 0xF) as i32, (x.scales[j + 1] & 0xF) as i32);
                sumi = _mm256_add_epi32(sumi, _mm256_madd_epi16(p, sc));
            }
        }
        let i = hsum_i32(sumi);
        let m = q2k_min_sum(x, y);
        let dall = y.d() * f16c(x.d);
        let dmin = y.d() * f16c(x.dmin);
        acc += dall * i as f32 - dmin * m as f32;
    }
    acc
}

/// Q3_K × Q8_K.
#[target_feature(enable = "avx2,fma,f16c")]
pub(super) fn vec_dot_q3_k(w: &[u8], a: &[u8]) -> f32 {
    let mut acc = _mm256_setzero_ps();
    for (x, y) in as_blocks::<BlockQ3K>(w)
        .iter()
        .zip(as_blocks::<BlockQ8K>(a))
    {
        let sc = q3k_scales(&x.scales);
        let hm = load256(&x.hmask);
        let mut sumi = _mm256_setzero_si256();
        for h in 0..2 {
            let q = load256(&x.qs[32 * h..]);
            for s in 0..4 {
                let u = _mm256_or_si256(
                    shr_mask(q, 2 * s as u32, 3),
                    bit_to(hm, (4 * h + s) as u32, 4),
                );
                let p = _mm256_maddubs_epi16(u, load256_i8(&y.qs[128 * h + 32 * s..]));
                let j = 8 * h + 2 * s;
                sumi = _mm256_add_epi32(
                    sumi,
                    _mm256_madd_epi16(p, scales2(sc[j] as i32, sc[j + 1] as i32)),
                );
            }
        }
        let mut corr = 0i32;
        for (j, &s) in sc.iter().enumerate() {
            corr += s as i32 * y.bsum(j);
        }
        // Fold −4·Σ sc·bsums into lane 0 so the block stays one exact integer vector.
        let sumi = _mm256_sub_epi32(sumi, _mm256_setr_epi32(4 * corr, 0, 0, 0, 0, 0, 0, 0));
        let d = _mm256_set1_ps(f16c(x.d) * y.d());
        acc = _mm256_fmadd_ps(d, _mm256_cvtepi32_ps(sumi), acc);
    }
    hsum_f32(acc)
}

/// Q4_K × Q8_K: the one-row instance of [`vec_dot_n_q4_k`].
#[target_feature(enable = "avx2,fma,f16c")]
pub(super) fn vec_dot_q4_k(w: &[u8], a: &[u8]) -> f32 {
    let mut out = [0.0];
    vec_dot_n_q4_k::<1>(w, &[a], &mut out);
    out[0]
}

/// Q5_K × Q8_K: the one-row instance of [`vec_dot_n_q5_k`].
#[target_feature(enable = "avx2,fma,f16c")]
pub(super) fn vec_dot_q5_k(w: &[u8], a: &[u8]) -> f32 {
    let mut out = [0.0];
    vec_dot_n_q5_k::<1>(w, &[a], &mut out);
    out[0]
}

/// Q6_K × Q8_K: the one-row instance of [`vec_dot_n_q6_k`].
#[target_feature(enable = "avx2,fma,f16c")]
pub(super) fn vec_dot_q6_k(w: &[u8], a: &[u8]) -> f32 {
    let mut out = [0.0];
    vec_dot_n_q6_k::<1>(w, &[a], &mut out);
    out[0]
}

// ---- Q4_K, Q5_K, Q6_K for one or several activation rows ----------------------------
//
// The `vec_dot_n_*` kernels decode each super-block once (codes, scales, mins) and
// multiply it with `N` ≤ 4 activation rows while it is in registers (GEMM); per row and
// run of 32 elements that leaves one load, `maddubs`, `madd` and add. Their `N = 1`
// instances are the single-row kernels, so a batch is bit-identical to the same tokens
// one at a time (a near-tie in MoE routing cannot flip between the two). One thread, in
// cache, k = 7168: 4 rows fused are 1.5-1.9× the throughput of 4 calls of these
// single-row kernels, which are themselves 1.3-1.4× the previous ones (SIMD scale
// unpacking and scale broadcasts by shuffle instead of scalar code).

/// Q4_K / Q5_K scales and mins without scalar unpacking (`get_scale_min_k4` on whole
/// words, as llama.cpp does): `(scales, mins)` with i16 lane j (0..8) of both 128-bit
/// halves of `scales` = `sc_j`, and i16 lane k (0..16) of `mins` = `m_{k/2}`, the
/// multiplier of `bsums[k]` (so `madd(bsums, mins)` summed is `k4_min_sum`, exactly).
#[inline]
#[target_feature(enable = "avx2")]
pub(super) fn k4_scales_mins(s: &[u8; 12]) -> (__m256i, __m256i) {
    let word = |i: usize| u32::from_le_bytes([s[4 * i], s[4 * i + 1], s[4 * i + 2], s[4 * i + 3]]);
    let (u0, u1, u2) = (word(0), word(1), word(2));
    let sc_lo = u0 & 0x3F3F_3F3F;
    let sc_hi = (u2 & 0x0F0F_0F0F) | (((u0 >> 6) & 0x0303_0303) << 4);
    let m_lo = u1 & 0x3F3F_3F3F;
    let m_hi = ((u2 >> 4) & 0x0F0F_0F0F) | (((u1 >> 6) & 0x0303_0303) << 4);
    let sc = _mm_cvtepu8_epi16(_mm_set_epi32(0, 0, sc_hi as i32, sc_lo as i32));
    let m = _mm_set_epi32(0, 0, m_hi as i32, m_lo as i32);
    let m2 = _mm_shuffle_epi8(
        m,
        _mm_setr_epi8(0, 0, 1, 1, 2, 2, 3, 3, 4, 4, 5, 5, 6, 6, 7, 7),
    );
    (_mm256_broadcastsi128_si256(sc), _mm256_cvtepu8_epi16(m2))
}

/// i16 lane `LO` of the low 128-bit half of `v` in every i16 lane of that half, lane
/// `HI` of the high half in every lane of that one (`LO`, `HI` < 8).
#[inline]
#[target_feature(enable = "avx2")]
fn splat_i16<const LO: i32, const HI: i32>(v: __m256i) -> __m256i {
    let (l0, l1) = ((2 * LO) as i8, (2 * LO + 1) as i8);
    let (h0, h1) = ((2 * HI) as i8, (2 * HI + 1) as i8);
    _mm256_shuffle_epi8(
        v,
        _mm256_setr_epi8(
            l0, l1, l0, l1, l0, l1, l0, l1, l0, l1, l0, l1, l0, l1, l0, l1, //
            h0, h1, h0, h1, h0, h1, h0, h1, h0, h1, h0, h1, h0, h1, h0, h1,
        ),
    )
}

/// The scales of chunk `c` (0..4) of a Q4_K / Q5_K block: (sub-block 2c, 2c + 1), each
/// in every i16 lane.
#[inline]
#[target_feature(enable = "avx2")]
fn k4_chunk_scales(scales: __m256i, c: usize) -> (__m256i, __m256i) {
    match c {
        0 => (splat_i16::<0, 0>(scales), splat_i16::<1, 1>(scales)),
        1 => (splat_i16::<2, 2>(scales), splat_i16::<3, 3>(scales)),
        2 => (splat_i16::<4, 4>(scales), splat_i16::<5, 5>(scales)),
        _ => (splat_i16::<6, 6>(scales), splat_i16::<7, 7>(scales)),
    }
}

/// Shared Q4_K / Q5_K body for `N` rows: `high(c)` gives the 5th-bit bytes (value 16 or
/// 0) of the low and high nibble runs of chunk c, or zeros for Q4_K. Adds the block's
/// `(d·dy)·I` to the 8 lanes of `acc[v]` and its `(dmin·dy)·M` to the scalar `mins[v]`.
#[inline]
#[target_feature(enable = "avx2,fma,f16c")]
#[allow(clippy::too_many_arguments)] // the block's fields and the two accumulators
fn dot_n_k4_like<const N: usize>(
    d: [u8; 2],
    dmin: [u8; 2],
    qs: &[u8; 128],
    scales: &[u8; 12],
    y: [&BlockQ8K; N],
    acc: &mut [__m256; N],
    mins: &mut [f32; N],
    high: impl Fn(usize) -> (__m256i, __m256i),
) {
    let (sc, m16) = k4_scales_mins(scales);
    let m4 = _mm256_set1_epi8(0x0F);
    let mut sumi = [_mm256_setzero_si256(); N];
    for c in 0..4 {
        let q = load256(&qs[32 * c..]);
        let (hl, hh) = high(c);
        let lo = _mm256_or_si256(_mm256_and_si256(q, m4), hl);
        let hi = _mm256_or_si256(_mm256_and_si256(_mm256_srli_epi16::<4>(q), m4), hh);
        let (slo, shi) = k4_chunk_scales(sc, c);
        for v in 0..N {
            let plo = _mm256_maddubs_epi16(lo, load256_i8(&y[v].qs[64 * c..]));
            let phi = _mm256_maddubs_epi16(hi, load256_i8(&y[v].qs[64 * c + 32..]));
            let s = _mm256_add_epi32(_mm256_madd_epi16(plo, slo), _mm256_madd_epi16(phi, shi));
            sumi[v] = _mm256_add_epi32(sumi[v], s);
        }
    }
    let (dx, mx) = (f16c(d), f16c(dmin));
    for v in 0..N {
        let dy = y[v].d();
        acc[v] = _mm256_fmadd_ps(_mm256_set1_ps(dx * dy), _mm256_cvtepi32_ps(sumi[v]), acc[v]);
        let m = hsum_i32(_mm256_madd_epi16(load256(&y[v].bsums), m16));
        mins[v] += mx * dy * m as f32;
    }
}

/// Q4_K × `N` Q8_K rows (each equal to `vec_dot_q4_k` up to float summation order).
#[inline]
#[target_feature(enable = "avx2,fma,f16c")]
pub(super) fn vec_dot_n_q4_k<const N: usize>(w: &[u8], a: &[&[u8]; N], out: &mut [f32; N]) {
    let (xs, ys) = common_blocks::<BlockQ4K, BlockQ8K, N>(w, a);
    let mut acc = [_mm256_setzero_ps(); N];
    let mut mins = [0.0f32; N];
    let zero = _mm256_setzero_si256();
    for (i, x) in xs.iter().enumerate() {
        let y = ys.map(|y| &y[i]);
        let (acc, mins) = (&mut acc, &mut mins);
        dot_n_k4_like(x.d, x.dmin, &x.qs, &x.scales, y, acc, mins, |_| {
            (zero, zero)
        });
    }
    for v in 0..N {
        out[v] = hsum_f32(acc[v]) - mins[v];
    }
}

/// Q5_K × `N` Q8_K rows (each equal to `vec_dot_q5_k` up to float summation order).
#[inline]
#[target_feature(enable = "avx2,fma,f16c")]
pub(super) fn vec_dot_n_q5_k<const N: usize>(w: &[u8], a: &[&[u8]; N], out: &mut [f32; N]) {
    let (xs, ys) = common_blocks::<BlockQ5K, BlockQ8K, N>(w, a);
    let mut acc = [_mm256_setzero_ps(); N];
    let mut mins = [0.0f32; N];
    for (i, x) in xs.iter().enumerate() {
        let y = ys.map(|y| &y[i]);
        let qh = load256(&x.qh);
        dot_n_k4_like(x.d, x.dmin, &x.qs, &x.scales, y, &mut acc, &mut mins, |c| {
            (
                bit_to(qh, 2 * c as u32, 16),
                bit_to(qh, 2 * c as u32 + 1, 16),
            )
        });
    }
    for v in 0..N {
        out[v] = hsum_f32(acc[v]) - mins[v];
    }
}

/// The scales of run `k` (0..4) of a Q6_K half whose 8 scales are the i16 lanes of both
/// 128-bit halves of `sc`: sub-block 2k in the low half, 2k + 1 in the high half (the
/// layout of [`scales2`]).
#[inline]
#[target_feature(enable = "avx2")]
fn q6k_run_scales(sc: __m256i, k: usize) -> __m256i {
    match k {
        0 => splat_i16::<0, 1>(sc),
        1 => splat_i16::<2, 3>(sc),
        2 => splat_i16::<4, 5>(sc),
        _ => splat_i16::<6, 7>(sc),
    }
}

/// Q6_K × `N` Q8_K rows; `vec_dot_q6_k` is its `N = 1` instance. The −32 offset stays a
/// second `maddubs` per run and row, `maddubs(q, y) − maddubs(32, y)`, as before this
/// kernel took several rows: folding it into `−32·Σ sc·bsums` per block is 1.3× faster
/// for 4 rows but moves the correction between float lanes, and that summation-order
/// change flipped a near-tie in the MoE routing of the r1-tiny llama.cpp golden test.
#[inline]
#[target_feature(enable = "avx2,fma,f16c")]
pub(super) fn vec_dot_n_q6_k<const N: usize>(w: &[u8], a: &[&[u8]; N], out: &mut [f32; N]) {
    let (xs, ys) = common_blocks::<BlockQ6K, BlockQ8K, N>(w, a);
    let m4 = _mm256_set1_epi8(0x0F);
    let k32 = _mm256_set1_epi8(32);
    let mut acc = [_mm256_setzero_ps(); N];
    for (i, x) in xs.iter().enumerate() {
        let y = ys.map(|y| &y[i]);
        let sc16 = _mm256_cvtepi8_epi16(load128_i8(&x.scales));
        let mut sumi = [_mm256_setzero_si256(); N];
        for h in 0..2 {
            // The 8 scales of half h in both 128-bit halves.
            let sc = if h == 0 {
                _mm256_permute2x128_si256::<0x00>(sc16, sc16)
            } else {
                _mm256_permute2x128_si256::<0x11>(sc16, sc16)
            };
            let ql0 = load256(&x.ql[64 * h..]);
            let ql1 = load256(&x.ql[64 * h + 32..]);
            let qh = load256(&x.qh[32 * h..]);
            let q = [
                _mm256_or_si256(
                    _mm256_and_si256(ql0, m4),
                    _mm256_slli_epi16::<4>(_mm256_and_si256(qh, _mm256_set1_epi8(0x03))),
                ),
                _mm256_or_si256(
                    _mm256_and_si256(ql1, m4),
                    _mm256_slli_epi16::<2>(_mm256_and_si256(qh, _mm256_set1_epi8(0x0C))),
                ),
                _mm256_or_si256(
                    shr_mask(ql0, 4, 0x0F),
                    _mm256_and_si256(qh, _mm256_set1_epi8(0x30)),
                ),
                _mm256_or_si256(shr_mask(ql1, 4, 0x0F), shr_mask(qh, 2, 0x30)),
            ];
            for (k, &qk) in q.iter().enumerate() {
                let s = q6k_run_scales(sc, k);
                for v in 0..N {
                    let yv = load256_i8(&y[v].qs[128 * h + 32 * k..]);
                    let p = _mm256_sub_epi16(
                        _mm256_maddubs_epi16(qk, yv),
                        _mm256_maddubs_epi16(k32, yv),
                    );
                    sumi[v] = _mm256_add_epi32(sumi[v], _mm256_madd_epi16(p, s));
                }
            }
        }
        let dx = f16c(x.d);
        for v in 0..N {
            let d = _mm256_set1_ps(dx * y[v].d());
            acc[v] = _mm256_fmadd_ps(d, _mm256_cvtepi32_ps(sumi[v]), acc[v]);
        }
    }
    for v in 0..N {
        out[v] = hsum_f32(acc[v]);
    }
}
