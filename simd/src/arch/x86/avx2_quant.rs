//! AVX2 activation quantizer f32 → Q8_K, byte-identical to the scalar reference
//! [`crate::blocks::q8::quantize_q8_k`] for finite inputs.
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

use crate::blocks::as_blocks_mut;
use crate::blocks::q8::{self, BlockQ8K};

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
