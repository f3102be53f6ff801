//! AVX2 dots of the 32-element formats against Q8_0 / Q8_1: Q8_0, Q4_0, Q4_1, Q5_0,
//! Q5_1, IQ4_NL.
//!
//! Per block (scalar reference: [`crate::blocks::q8`], [`crate::blocks::legacy`]):
//! ```text
//! Q8_0: S = Σ x·y            (|x|·sign(y,x) maddubs → i16, madd 1 → 8 × i32)
//! Q4_0: S = Σ (q−8)·y        nibbles unpacked: low 16 bytes ↔ elements 0..16, high ↔ 16..32
//! Q4_1: S = Σ q·y            q unsigned: maddubs(q, y) directly; + m·s_y in scalar
//! Q5_0 / Q5_1: as Q4_0 / Q4_1 with the 5th bits of qh spread to bytes (shuffle, test)
//! IQ4_NL: S = Σ KV[q]·y      KV looked up with a byte shuffle, then as Q8_0
//! acc (8 × f32) += (dx·dy) · S_lanes, one horizontal sum at the end
//! ```

use core::arch::x86_64::*;

use super::f16c;
use super::{hsum_f32, load128, load128_i8, load256_i8, mul_sum_i8_quads};
use crate::blocks::iq4::BlockIQ4NL;
use crate::blocks::legacy::{BlockQ4_0, BlockQ4_1, BlockQ5_0, BlockQ5_1};
use crate::blocks::q8::{BlockQ8_0, BlockQ8_1};
use crate::blocks::{as_blocks, common_blocks};
use crate::tables::KVALUES_IQ4NL;

/// The 32 nibbles of a 16-byte array as bytes 0..15, in element order.
#[inline]
#[target_feature(enable = "avx2")]
pub(super) fn unpack_nibbles(qs: &[u8; 16]) -> __m256i {
    let v = load128(qs);
    let m = _mm_set1_epi8(0x0F);
    let lo = _mm_and_si128(v, m);
    let hi = _mm_and_si128(_mm_srli_epi16::<4>(v), m);
    _mm256_set_m128i(hi, lo)
}

/// Q8_0 × Q8_0: the one-row instance of [`vec_dot_n_q8_0`].
#[target_feature(enable = "avx2,fma,f16c")]
pub(super) fn vec_dot_q8_0(w: &[u8], a: &[u8]) -> f32 {
    let mut out = [0.0];
    vec_dot_n_q8_0::<1>(w, &[a], &mut out);
    out[0]
}

/// Q4_0 × Q8_0: the one-row instance of [`vec_dot_n_q4_0`].
#[target_feature(enable = "avx2,fma,f16c")]
pub(super) fn vec_dot_q4_0(w: &[u8], a: &[u8]) -> f32 {
    let mut out = [0.0];
    vec_dot_n_q4_0::<1>(w, &[a], &mut out);
    out[0]
}

/// Q4_1 × Q8_1: the one-row instance of [`vec_dot_n_q4_1`].
#[target_feature(enable = "avx2,fma,f16c")]
pub(super) fn vec_dot_q4_1(w: &[u8], a: &[u8]) -> f32 {
    let mut out = [0.0];
    vec_dot_n_q4_1::<1>(w, &[a], &mut out);
    out[0]
}

// ---- Q8_0, Q4_0, Q4_1 for one or several activation rows ----------------------------
//
// Each weight block is decoded once (nibbles unpacked, scale widened) and multiplied
// with `N` ≤ 4 activation rows while it is in registers. Blocks alternate between two
// accumulators per row, so even one row has two independent FMA chains (decode streams
// rows of only 576-1536 elements in small models). The `N = 1` instances are the
// single-row kernels: a batch is bit-identical to its tokens one at a time.

/// Calls `step(i, acc)` for every block index `i < nb`, alternating between two
/// accumulator sets (even blocks, odd blocks) so that one row has two FMA chains too.
#[inline(always)]
fn alternate<A>(nb: usize, acc: &mut [A; 2], mut step: impl FnMut(usize, &mut A)) {
    let [acc0, acc1] = acc;
    let mut i = 0;
    while i + 2 <= nb {
        step(i, acc0);
        step(i + 1, acc1);
        i += 2;
    }
    if i < nb {
        step(i, acc0);
    }
}

/// `Σ_blocks dx·dy·S(x, y)` for `N` rows, where `codes(x)` gives the weight block's 32
/// signed codes and `S` is their int8 dot with the activation block (`|x|·sign(y, x)`
/// idiom, so codes and quants must be in −127..=127).
#[inline]
#[target_feature(enable = "avx2,fma,f16c")]
fn dot_n_symmetric<X, const N: usize>(
    xs: &[X],
    ys: [&[BlockQ8_0]; N],
    scale: impl Fn(&X) -> [u8; 2],
    codes: impl Fn(&X) -> __m256i,
) -> [f32; N] {
    let mut acc = [[_mm256_setzero_ps(); N]; 2];
    alternate(xs.len(), &mut acc, |i, acc| {
        let x = &xs[i];
        let q = codes(x);
        let dx = f16c(scale(x));
        for v in 0..N {
            let y = &ys[v][i];
            let s = mul_sum_i8_quads(q, load256_i8(&y.qs));
            let d = _mm256_set1_ps(dx * f16c(y.d));
            acc[v] = _mm256_fmadd_ps(d, _mm256_cvtepi32_ps(s), acc[v]);
        }
    });
    core::array::from_fn(|v| hsum_f32(_mm256_add_ps(acc[0][v], acc[1][v])))
}

/// Q8_0 × `N` Q8_0 rows.
#[inline]
#[target_feature(enable = "avx2,fma,f16c")]
pub(super) fn vec_dot_n_q8_0<const N: usize>(w: &[u8], a: &[&[u8]; N], out: &mut [f32; N]) {
    let (xs, ys) = common_blocks::<BlockQ8_0, BlockQ8_0, N>(w, a);
    *out = dot_n_symmetric(xs, ys, |x| x.d, |x| load256_i8(&x.qs));
}

/// Q4_0 × `N` Q8_0 rows.
#[inline]
#[target_feature(enable = "avx2,fma,f16c")]
pub(super) fn vec_dot_n_q4_0<const N: usize>(w: &[u8], a: &[&[u8]; N], out: &mut [f32; N]) {
    let (xs, ys) = common_blocks::<BlockQ4_0, BlockQ8_0, N>(w, a);
    *out = dot_n_symmetric(
        xs,
        ys,
        |x| x.d,
        |x| _mm256_sub_epi8(unpack_nibbles(&x.qs), _mm256_set1_epi8(8)),
    );
}

/// Q4_1 × `N` Q8_1 rows.
///
/// The f16 pairs (d, m) of the weight block and (d, s) of the activation block sit next
/// to each other, so one `vcvtph2ps` widens each pair and one multiply gives both
/// `dx·dy` (lane 0) and `mx·sy` (lane 1): no scalar conversions on the critical path.
/// The codes are unsigned, so `maddubs(q, y)` needs no sign trick.
#[inline]
#[target_feature(enable = "avx2,fma,f16c")]
pub(super) fn vec_dot_n_q4_1<const N: usize>(w: &[u8], a: &[&[u8]; N], out: &mut [f32; N]) {
    let (xs, ys) = common_blocks::<BlockQ4_1, BlockQ8_1, N>(w, a);
    let mut acc = [[_mm256_setzero_ps(); N]; 2];
    let mut mins = [_mm_setzero_ps(); N];
    alternate(xs.len(), &mut acc, |i, acc| {
        let x = &xs[i];
        let q = unpack_nibbles(&x.qs);
        let xdm = _mm_cvtph_ps(_mm_cvtsi32_si128(i32::from_le_bytes([
            x.d[0], x.d[1], x.m[0], x.m[1],
        ])));
        for v in 0..N {
            let y = &ys[v][i];
            let yds = _mm_cvtph_ps(_mm_cvtsi32_si128(i32::from_le_bytes([
                y.d[0], y.d[1], y.s[0], y.s[1],
            ])));
            let prod = _mm_mul_ps(xdm, yds); // [dx·dy, mx·sy, 0, 0]
            mins[v] = _mm_add_ps(mins[v], prod);
            let p = _mm256_maddubs_epi16(q, load256_i8(&y.qs));
            let s = _mm256_madd_epi16(p, _mm256_set1_epi16(1));
            acc[v] = _mm256_fmadd_ps(_mm256_broadcastss_ps(prod), _mm256_cvtepi32_ps(s), acc[v]);
        }
    });
    for v in 0..N {
        let m = _mm_cvtss_f32(_mm_movehdup_ps(mins[v]));
        out[v] = hsum_f32(_mm256_add_ps(acc[0][v], acc[1][v])) + m;
    }
}

/// 0xFF in byte i (0..32) iff bit i of `bits` is set.
#[inline]
#[target_feature(enable = "avx2")]
fn bytes_from_bits(bits: [u8; 4]) -> __m256i {
    let v = _mm256_set1_epi32(i32::from_le_bytes(bits));
    // Byte i takes source byte i / 8, then tests bit i % 8.
    let spread = _mm256_setr_epi8(
        0, 0, 0, 0, 0, 0, 0, 0, 1, 1, 1, 1, 1, 1, 1, 1, //
        2, 2, 2, 2, 2, 2, 2, 2, 3, 3, 3, 3, 3, 3, 3, 3,
    );
    let bit = _mm256_set1_epi64x(0x8040_2010_0804_0201u64 as i64);
    let v = _mm256_and_si256(_mm256_shuffle_epi8(v, spread), bit);
    _mm256_cmpeq_epi8(v, bit)
}

/// The 32 five-bit codes (0..31) of nibbles + `qh`, in element order.
#[inline]
#[target_feature(enable = "avx2")]
fn five_bit_codes(qs: &[u8; 16], qh: [u8; 4]) -> __m256i {
    let high = _mm256_and_si256(bytes_from_bits(qh), _mm256_set1_epi8(0x10));
    _mm256_or_si256(unpack_nibbles(qs), high)
}

/// Q5_0 × Q8_0.
#[target_feature(enable = "avx2,fma,f16c")]
pub(super) fn vec_dot_q5_0(w: &[u8], a: &[u8]) -> f32 {
    let mut acc = _mm256_setzero_ps();
    for (x, y) in as_blocks::<BlockQ5_0>(w)
        .iter()
        .zip(as_blocks::<BlockQ8_0>(a))
    {
        let q = _mm256_sub_epi8(five_bit_codes(&x.qs, x.qh), _mm256_set1_epi8(16));
        let s = mul_sum_i8_quads(q, load256_i8(&y.qs));
        let d = _mm256_set1_ps(f16c(x.d) * f16c(y.d));
        acc = _mm256_fmadd_ps(d, _mm256_cvtepi32_ps(s), acc);
    }
    hsum_f32(acc)
}

/// Q5_1 × Q8_1.
#[target_feature(enable = "avx2,fma,f16c")]
pub(super) fn vec_dot_q5_1(w: &[u8], a: &[u8]) -> f32 {
    let mut acc = _mm256_setzero_ps();
    let mut mins = 0.0f32;
    for (x, y) in as_blocks::<BlockQ5_1>(w)
        .iter()
        .zip(as_blocks::<BlockQ8_1>(a))
    {
        let p = _mm256_maddubs_epi16(five_bit_codes(&x.qs, x.qh), load256_i8(&y.qs));
        let s = _mm256_madd_epi16(p, _mm256_set1_epi16(1));
        let d = _mm256_set1_ps(f16c(x.d) * f16c(y.d));
        acc = _mm256_fmadd_ps(d, _mm256_cvtepi32_ps(s), acc);
        mins += f16c(x.m) * f16c(y.s);
    }
    hsum_f32(acc) + mins
}

/// The IQ4_NL values of 32 codes (0..15) via a byte shuffle.
#[inline]
#[target_feature(enable = "avx2")]
pub(super) fn iq4_values(codes: __m256i) -> __m256i {
    let t = load128_i8(&KVALUES_IQ4NL);
    _mm256_shuffle_epi8(_mm256_set_m128i(t, t), codes)
}

/// IQ4_NL × Q8_0.
#[target_feature(enable = "avx2,fma,f16c")]
pub(super) fn vec_dot_iq4_nl(w: &[u8], a: &[u8]) -> f32 {
    let mut acc = _mm256_setzero_ps();
    for (x, y) in as_blocks::<BlockIQ4NL>(w)
        .iter()
        .zip(as_blocks::<BlockQ8_0>(a))
    {
        let v = iq4_values(unpack_nibbles(&x.qs));
        let s = mul_sum_i8_quads(v, load256_i8(&y.qs));
        let d = _mm256_set1_ps(f16c(y.d) * f16c(x.d));
        acc = _mm256_fmadd_ps(d, _mm256_cvtepi32_ps(s), acc);
    }
    hsum_f32(acc)
}
