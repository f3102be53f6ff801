//! AVX2 activation quantizers f32 → Q8_K, Q8_0 and Q8_1, byte-identical to the scalar
//! references in [`crate::blocks::q8`] for finite inputs.
//!
//! Why: the reference's `round_ties_even` is a libm `rintf` call per element on a
//! baseline x86-64 build (no SSE4.1 `roundss`), which made Q8_K quantization ~8% of
//! prefill once the GEMM kernels were fused. Per 256-element block:
//! ```text
//! amax = max |x| (8 lanes, then across);  max = the first x with |x| = amax
//! iscale = −127 / max;  q = round_half_even(iscale · x)  (vroundps, no FMA: same f32
//! product as the reference), packed i32 → i16 → i8 with saturation (|q| ≤ 127, so it
//! never saturates; the reference's min(127) is a no-op for the same reason)
//! bsums[k] = Σ of quants 16k..16k+15 (maddubs with ones, madd, two hadds)
//! d = 1 / iscale
//! ```
//! An all-zero block gives d = 0, q = 0, bsums = 0, as in the reference. Blocks where
//! the reference's float-to-int casts would see NaN or ±∞ (a NaN or ∞ input, or
//! `iscale` overflowing for a block of tiny values) go to the reference itself: Rust's
//! saturating `as` and `cvtps2dq` disagree there, and such blocks are too rare to cost
//! anything.

use core::arch::x86_64::*;

use crate::blocks::q8::{self, BlockQ8K, BlockQ8_0, BlockQ8_1};
use crate::blocks::{as_blocks_mut, f32_to_f16, Block};

/// f32 → Q8_K (the reference's bytes).
#[target_feature(enable = "avx2")]
pub(super) fn quantize_q8_k(x: &[f32], out: &mut [u8]) {
    for (xb, ob) in x.chunks_exact(256).zip(out.chunks_exact_mut(292)) {
        let xb: &[f32; 256] = xb.try_into().expect("chunks of 256");
        if !quantize_block(xb, &mut as_blocks_mut::<BlockQ8K>(ob)[0]) {
            q8::quantize_q8_k(xb, ob);
        }
    }
}

/// One block; see the module notes. False (and `b` unspecified) where the block must go
/// to the reference.
#[inline]
#[target_feature(enable = "avx2")]
fn quantize_block(xb: &[f32; 256], b: &mut BlockQ8K) -> bool {
    let load = |i: usize| {
        let s = &xb[8 * i..8 * i + 8];
        // SAFETY: `s` is 8 f32 = 32 readable bytes; loadu has no alignment requirement.
        unsafe { _mm256_loadu_ps(s.as_ptr()) }
    };
    let abs_mask = _mm256_castsi256_ps(_mm256_set1_epi32(0x7FFF_FFFF));
    let mut m = _mm256_setzero_ps();
    let mut nan = _mm256_setzero_ps();
    for i in 0..32 {
        let v = load(i);
        // maxps returns its second operand when the first is NaN: NaNs are skipped, as
        // the reference's `>` comparison skips them.
        m = _mm256_max_ps(_mm256_and_ps(v, abs_mask), m);
        nan = _mm256_or_ps(nan, _mm256_cmp_ps::<_CMP_UNORD_Q>(v, v));
    }
    let m = _mm_max_ps(_mm256_castps256_ps128(m), _mm256_extractf128_ps::<1>(m));
    let m = _mm_max_ps(m, _mm_movehl_ps(m, m));
    let m = _mm_max_ss(m, _mm_movehdup_ps(m));
    let amax = _mm_cvtss_f32(m);
    if amax == 0.0 {
        *b = BlockQ8K {
            d: [0; 4],
            qs: [0; 256],
            bsums: [0; 32],
        };
        return true;
    }
    // The first element of largest magnitude gives the sign (the reference keeps the
    // first of equal maxima).
    let target = _mm256_set1_ps(amax);
    let mut max = amax;
    for i in 0..32 {
        let eq = _mm256_cmp_ps::<_CMP_EQ_OQ>(_mm256_and_ps(load(i), abs_mask), target);
        let bits = _mm256_movemask_ps(eq);
        if bits != 0 {
            max = xb[8 * i + bits.trailing_zeros() as usize];
            break;
        }
    }
    let iscale = -127.0 / max;
    if _mm256_movemask_ps(nan) != 0 || !amax.is_finite() || !iscale.is_finite() {
        return false;
    }
    let vs = _mm256_set1_ps(iscale);
    let quant = |i: usize| {
        let r = _mm256_round_ps::<{ _MM_FROUND_TO_NEAREST_INT | _MM_FROUND_NO_EXC }>(
            _mm256_mul_ps(vs, load(i)),
        );
        _mm256_cvtps_epi32(r)
    };
    // i32 → i8 for 32 elements: the packs interleave 128-bit lanes, the permute restores
    // element order.
    let order = _mm256_setr_epi32(0, 4, 1, 5, 2, 6, 3, 7);
    let ones8 = _mm256_set1_epi8(1);
    let ones16 = _mm256_set1_epi16(1);
    let mut quads = [_mm256_setzero_si256(); 8];
    for (c, quad) in quads.iter_mut().enumerate() {
        let a = _mm256_packs_epi32(quant(4 * c), quant(4 * c + 1));
        let d = _mm256_packs_epi32(quant(4 * c + 2), quant(4 * c + 3));
        let q = _mm256_permutevar8x32_epi32(_mm256_packs_epi16(a, d), order);
        // SAFETY: bytes 32c..32c+32 of the 256-byte `qs`; storeu has no alignment
        // requirement.
        unsafe { _mm256_storeu_si256(b.qs.as_mut_ptr().add(32 * c).cast(), q) };
        // i32 lanes 0..3: sums of 4 quants of group 2c; lanes 4..7: of group 2c + 1.
        *quad = _mm256_madd_epi16(_mm256_maddubs_epi16(ones8, q), ones16);
    }
    // Two hadds: [g0 g2 g4 g6 | g1 g3 g5 g7] per 8 groups; the permute orders them.
    let sums = |q: &[__m256i]| {
        let h0 = _mm256_hadd_epi32(q[0], q[1]);
        let h1 = _mm256_hadd_epi32(q[2], q[3]);
        _mm256_permutevar8x32_epi32(_mm256_hadd_epi32(h0, h1), order)
    };
    let packed = _mm256_packs_epi32(sums(&quads[..4]), sums(&quads[4..]));
    let bsums = _mm256_permute4x64_epi64::<0b11_01_10_00>(packed);
    // SAFETY: `bsums` is 32 bytes; storeu has no alignment requirement.
    unsafe { _mm256_storeu_si256(b.bsums.as_mut_ptr().cast(), bsums) };
    b.d = (1.0 / iscale).to_le_bytes();
    true
}

// ---- Q8_0 / Q8_1 --------------------------------------------------------------------
//
// The reference (`quantize_32`) rounds half away from zero with a libm `roundf` per
// element, which was 6 % of SmolLM2's prefill. Per 32-element block:
// ```text
// amax = max |x|; d = amax / 127; id = 1/d (0 if d = 0)   (scalar, as the reference)
// v = x·id (same f32 product); t = trunc(v); q = t + sign(v)·(|v − t| ≥ 0.5)
// ```
// `v − t` is exact (t is v with fraction bits cleared), so the comparison is exactly the
// reference's rounding decision. |v| ≤ 127 + a few ulps, so q fits i8 and the packs never
// saturate. Blocks holding NaN or ±∞ go to the reference (its saturating casts differ
// from `cvttps2dq` there).

/// The quants of one 32-element block in element order and its `d`, or `None` where
/// the block must go to the reference.
#[inline]
#[target_feature(enable = "avx2")]
fn quantize_32(xb: &[f32; 32]) -> Option<(f32, __m256i)> {
    // SAFETY: `xb` is 32 f32 = 128 readable bytes, loaded as four 32-byte halves at
    // offsets 0, 8, 16, 24 elements; loadu has no alignment requirement.
    let v: [__m256; 4] =
        core::array::from_fn(|i| unsafe { _mm256_loadu_ps(xb.as_ptr().add(8 * i)) });
    let abs_mask = _mm256_castsi256_ps(_mm256_set1_epi32(0x7FFF_FFFF));
    let mut m = _mm256_setzero_ps();
    let mut bad = _mm256_setzero_ps();
    let inf = _mm256_set1_ps(f32::INFINITY);
    for x in v {
        let a = _mm256_and_ps(x, abs_mask);
        m = _mm256_max_ps(a, m);
        // NaN (unordered) or ±∞ (|x| = ∞): not-less-than ∞.
        bad = _mm256_or_ps(bad, _mm256_cmp_ps::<_CMP_NLT_UQ>(a, inf));
    }
    if _mm256_movemask_ps(bad) != 0 {
        return None;
    }
    let m = _mm_max_ps(_mm256_castps256_ps128(m), _mm256_extractf128_ps::<1>(m));
    let m = _mm_max_ps(m, _mm_movehl_ps(m, m));
    let amax = _mm_cvtss_f32(_mm_max_ss(m, _mm_movehdup_ps(m)));
    let d = amax / 127.0;
    let id = if d != 0.0 { 1.0 / d } else { 0.0 };
    if !id.is_finite() {
        return None;
    }
    let vid = _mm256_set1_ps(id);
    let half = _mm256_set1_ps(0.5);
    let one = _mm256_set1_ps(1.0);
    let sign_mask = _mm256_set1_ps(-0.0);
    let q: [__m256i; 4] = core::array::from_fn(|i| {
        let x = _mm256_mul_ps(v[i], vid);
        let t = _mm256_round_ps::<{ _MM_FROUND_TO_ZERO | _MM_FROUND_NO_EXC }>(x);
        let frac = _mm256_and_ps(_mm256_sub_ps(x, t), abs_mask);
        let up = _mm256_cmp_ps::<_CMP_GE_OQ>(frac, half);
        let step = _mm256_or_ps(one, _mm256_and_ps(x, sign_mask)); // ±1 with x's sign
        _mm256_cvttps_epi32(_mm256_add_ps(t, _mm256_and_ps(up, step)))
    });
    let packed = _mm256_packs_epi16(
        _mm256_packs_epi32(q[0], q[1]),
        _mm256_packs_epi32(q[2], q[3]),
    );
    // The packs interleave 128-bit lanes; the permute restores element order.
    let order = _mm256_setr_epi32(0, 4, 1, 5, 2, 6, 3, 7);
    Some((d, _mm256_permutevar8x32_epi32(packed, order)))
}

/// Stores 32 quants into a block's `qs`.
#[inline]
#[target_feature(enable = "avx2")]
fn store_qs(qs: &mut [i8; 32], q: __m256i) {
    // SAFETY: `qs` is 32 writable bytes; storeu has no alignment requirement.
    unsafe { _mm256_storeu_si256(qs.as_mut_ptr().cast(), q) }
}

/// f32 → Q8_0 (the reference's bytes).
#[target_feature(enable = "avx2")]
pub(super) fn quantize_q8_0(x: &[f32], out: &mut [u8]) {
    for (xb, ob) in x
        .chunks_exact(32)
        .zip(out.chunks_exact_mut(BlockQ8_0::BYTES))
    {
        let xb: &[f32; 32] = xb.try_into().expect("chunks of 32");
        match quantize_32(xb) {
            Some((d, q)) => {
                let b = &mut as_blocks_mut::<BlockQ8_0>(ob)[0];
                b.d = f32_to_f16(d);
                store_qs(&mut b.qs, q);
            }
            None => q8::quantize_q8_0(xb, ob),
        }
    }
}

/// f32 → Q8_1 (the reference's bytes).
#[target_feature(enable = "avx2")]
pub(super) fn quantize_q8_1(x: &[f32], out: &mut [u8]) {
    for (xb, ob) in x
        .chunks_exact(32)
        .zip(out.chunks_exact_mut(BlockQ8_1::BYTES))
    {
        let xb: &[f32; 32] = xb.try_into().expect("chunks of 32");
        match quantize_32(xb) {
            Some((d, q)) => {
                let b = &mut as_blocks_mut::<BlockQ8_1>(ob)[0];
                let sums = _mm256_madd_epi16(
                    _mm256_maddubs_epi16(_mm256_set1_epi8(1), q),
                    _mm256_set1_epi16(1),
                );
                let sum = super::hsum_i32(sums);
                b.d = f32_to_f16(d);
                b.s = f32_to_f16(sum as f32 * d);
                store_qs(&mut b.qs, q);
            }
            None => q8::quantize_q8_1(xb, ob),
        }
    }
}
