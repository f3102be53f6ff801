//! x86-64 kernels: AVX2 (+FMA, F16C) and AVX-512 (F, BW, VL, optionally VNNI).
//!
//! Owns: the shared 256-bit helpers (loads, horizontal sums, the signed int8 product
//! idiom) and the installation of the AVX2 kernels into a dispatch table: the single-row
//! `vec_dot`s, the fused multi-row `vec_dot_n_*` kernels (IQ1_S, IQ1_M, IQ2_XXS, Q4_K,
//! Q5_K, Q6_K, Q8_0, Q4_0, Q4_1: generic over the number of activation rows `N` ≤ 4,
//! next to their single-row kernels, made safe and split into groups of 4 by `many!`)
//! and the Q8_K, Q8_0 and Q8_1 activation quantizers (`avx2_quant`). The AVX-512
//! kernels (`avx512_*`, 13 types, all fused) are installed over them by `avx512`, with
//! the same `entry!` and `many!` wrappers. The kernels are safe `#[target_feature]` functions; the only
//! `unsafe` in them are unaligned loads from block fields whose length the types prove,
//! and the calls from the safe table entries, whose soundness rests on `Kernels::new`
//! having checked the CPU (see `arch`).
//!
//! The int8 idiom: `_mm256_maddubs_epi16` multiplies unsigned by signed bytes and adds
//! adjacent pairs into i16. For signed × signed we move the sign of x onto y
//! (`|x| · sign(y, x)`). This requires the activation quants to be in −127..=127 (−128
//! has no negation), which every Q8 quantizer guarantees; the pair sums stay below
//! 2·128·127 < 2^15, so nothing saturates.

use core::arch::x86_64::*;

use crate::kernels::{
    set_quantize, set_vec_dot, set_vec_dot_many, TypeKernels, VecDotFn, VecDotManyFn, DOT_N_WIDTH,
};
use crate::types::GgmlType;

mod avx2_float;
mod avx2_iq1;
mod avx2_iq234;
mod avx2_iq2xxs;
mod avx2_kquants;
mod avx2_legacy;
mod avx2_quant;
mod avx2_ternary;
mod avx512;
mod avx512_iq;
mod avx512_kquants;
mod avx512_legacy;
mod avx512_ternary;

/// Makes a safe `VecDotFn` from a `#[target_feature]` kernel.
macro_rules! entry {
    ($name:ident, $kernel:path) => {
        fn $name(w: &[u8], a: &[u8]) -> f32 {
            // SAFETY: this function is only stored in a `Kernels` table whose ISA level
            // was capped to `Isa::hardware()`, i.e. the CPU and OS enable every target
            // feature the kernel is compiled for (see `arch::install`).
            unsafe { $kernel(w, a) }
        }
    };
}

/// Makes a safe `VecDotManyFn` from a `#[target_feature]` kernel generic over the number
/// of activation rows `N` (1..=`DOT_N_WIDTH`): `acts` is taken in groups of
/// `DOT_N_WIDTH`, the last group by the instance of its size.
macro_rules! many {
    ($name:ident, $m:ident::$kernel:ident) => {
        fn $name(w: &[u8], acts: &[&[u8]], out: &mut [f32]) {
            const _: () = assert!(DOT_N_WIDTH == 4);
            let n = acts.len().min(out.len());
            for (a, o) in acts[..n]
                .chunks(DOT_N_WIDTH)
                .zip(out.chunks_mut(DOT_N_WIDTH))
            {
                // `chunks` of equal lengths 1..=DOT_N_WIDTH: the conversions cannot fail.
                // SAFETY: as in `entry!`: only stored in a table whose level the CPU and
                // OS enable.
                unsafe {
                    match a.len() {
                        4 => $m::$kernel::<4>(w, a.try_into().unwrap(), o.try_into().unwrap()),
                        3 => $m::$kernel::<3>(w, a.try_into().unwrap(), o.try_into().unwrap()),
                        2 => $m::$kernel::<2>(w, a.try_into().unwrap(), o.try_into().unwrap()),
                        _ => $m::$kernel::<1>(w, a.try_into().unwrap(), o.try_into().unwrap()),
                    }
                }
            }
        }
    };
}

// By path, for the AVX-512 tables (`avx512`), whose module is declared above the macros.
use {entry, many};

entry!(f32_f32, avx2_float::vec_dot_f32);
entry!(f16_f16, avx2_float::vec_dot_f16);
entry!(bf16_bf16, avx2_float::vec_dot_bf16);
entry!(q8_0, avx2_legacy::vec_dot_q8_0);
entry!(q4_0, avx2_legacy::vec_dot_q4_0);
entry!(q4_1, avx2_legacy::vec_dot_q4_1);
entry!(q5_0, avx2_legacy::vec_dot_q5_0);
entry!(q5_1, avx2_legacy::vec_dot_q5_1);
entry!(iq4_nl, avx2_legacy::vec_dot_iq4_nl);
entry!(iq2_xs, avx2_iq234::vec_dot_iq2_xs);
entry!(iq2_s, avx2_iq234::vec_dot_iq2_s);
entry!(iq3_xxs, avx2_iq234::vec_dot_iq3_xxs);
entry!(iq3_s, avx2_iq234::vec_dot_iq3_s);
entry!(iq4_xs, avx2_iq234::vec_dot_iq4_xs);
entry!(q2_k, avx2_kquants::vec_dot_q2_k);
entry!(q3_k, avx2_kquants::vec_dot_q3_k);
entry!(q4_k, avx2_kquants::vec_dot_q4_k);
entry!(q5_k, avx2_kquants::vec_dot_q5_k);
entry!(q6_k, avx2_kquants::vec_dot_q6_k);
entry!(iq1_s, avx2_iq1::vec_dot_iq1_s);
entry!(iq1_m, avx2_iq1::vec_dot_iq1_m);
entry!(iq2_xxs, avx2_iq2xxs::vec_dot_iq2_xxs);
entry!(tq1_0, avx2_ternary::vec_dot_tq1_0);
entry!(tq2_0, avx2_ternary::vec_dot_tq2_0);

/// The AVX2 kernels, by type.
const AVX2: [(GgmlType, VecDotFn); 24] = [
    (GgmlType::F32, f32_f32),
    (GgmlType::F16, f16_f16),
    (GgmlType::BF16, bf16_bf16),
    (GgmlType::Q8_0, q8_0),
    (GgmlType::Q4_0, q4_0),
    (GgmlType::Q4_1, q4_1),
    (GgmlType::Q5_0, q5_0),
    (GgmlType::Q5_1, q5_1),
    (GgmlType::IQ4_NL, iq4_nl),
    (GgmlType::IQ2_XS, iq2_xs),
    (GgmlType::IQ2_S, iq2_s),
    (GgmlType::IQ3_XXS, iq3_xxs),
    (GgmlType::IQ3_S, iq3_s),
    (GgmlType::IQ4_XS, iq4_xs),
    (GgmlType::Q2_K, q2_k),
    (GgmlType::Q3_K, q3_k),
    (GgmlType::Q4_K, q4_k),
    (GgmlType::Q5_K, q5_k),
    (GgmlType::Q6_K, q6_k),
    (GgmlType::IQ1_S, iq1_s),
    (GgmlType::IQ1_M, iq1_m),
    (GgmlType::IQ2_XXS, iq2_xxs),
    (GgmlType::TQ1_0, tq1_0),
    (GgmlType::TQ2_0, tq2_0),
];

many!(iq1_s_many, avx2_iq1::vec_dot_n_iq1_s);
many!(iq1_m_many, avx2_iq1::vec_dot_n_iq1_m);
many!(iq2_xxs_many, avx2_iq2xxs::vec_dot_n_iq2_xxs);
many!(q4_k_many, avx2_kquants::vec_dot_n_q4_k);
many!(q5_k_many, avx2_kquants::vec_dot_n_q5_k);
many!(q6_k_many, avx2_kquants::vec_dot_n_q6_k);
many!(q8_0_many, avx2_legacy::vec_dot_n_q8_0);
many!(q4_0_many, avx2_legacy::vec_dot_n_q4_0);
many!(q4_1_many, avx2_legacy::vec_dot_n_q4_1);

/// The fused multi-vector AVX2 kernels, by type (each after its `vec_dot` in `AVX2`).
const AVX2_MANY: [(GgmlType, VecDotManyFn); 9] = [
    (GgmlType::IQ1_S, iq1_s_many),
    (GgmlType::IQ1_M, iq1_m_many),
    (GgmlType::IQ2_XXS, iq2_xxs_many),
    (GgmlType::Q4_K, q4_k_many),
    (GgmlType::Q5_K, q5_k_many),
    (GgmlType::Q6_K, q6_k_many),
    (GgmlType::Q8_0, q8_0_many),
    (GgmlType::Q4_0, q4_0_many),
    (GgmlType::Q4_1, q4_1_many),
];

fn quantize_q8_k(x: &[f32], out: &mut [u8]) {
    // SAFETY: as in `entry!`: only stored in a table whose level the CPU and OS enable.
    unsafe { avx2_quant::quantize_q8_k(x, out) }
}

fn quantize_q8_0(x: &[f32], out: &mut [u8]) {
    // SAFETY: as in `entry!`: only stored in a table whose level the CPU and OS enable.
    unsafe { avx2_quant::quantize_q8_0(x, out) }
}

fn quantize_q8_1(x: &[f32], out: &mut [u8]) {
    // SAFETY: as in `entry!`: only stored in a table whose level the CPU and OS enable.
    unsafe { avx2_quant::quantize_q8_1(x, out) }
}

/// Installs the AVX2 kernels. Caller: `arch::install` with AVX2 detected.
pub(super) fn install_avx2(table: &mut [TypeKernels]) {
    set_quantize(table, GgmlType::Q8_K, quantize_q8_k);
    set_quantize(table, GgmlType::Q8_0, quantize_q8_0);
    set_quantize(table, GgmlType::Q8_1, quantize_q8_1);
    for (ty, f) in AVX2 {
        set_vec_dot(table, ty, f);
    }
    for (ty, f) in AVX2_MANY {
        set_vec_dot_many(table, ty, f);
    }
}

/// Installs the AVX-512 kernels (over the AVX2 ones). Caller: `arch::install` with
/// AVX-512 F/BW/VL (and VNNI if `vnni`) detected.
pub(super) fn install_avx512(table: &mut [TypeKernels], vnni: bool) {
    avx512::install(table, vnni);
}

/// Unaligned 32-byte load from the start of `s`.
#[inline]
#[target_feature(enable = "avx2")]
pub(super) fn load256(s: &[u8]) -> __m256i {
    assert!(s.len() >= 32);
    // SAFETY: `s` has at least 32 readable bytes (asserted); loadu has no alignment
    // requirement.
    unsafe { _mm256_loadu_si256(s.as_ptr().cast()) }
}

/// Unaligned 32-byte load of int8 quants from the start of `s`.
#[inline]
#[target_feature(enable = "avx2")]
pub(super) fn load256_i8(s: &[i8]) -> __m256i {
    assert!(s.len() >= 32);
    // SAFETY: as in `load256`.
    unsafe { _mm256_loadu_si256(s.as_ptr().cast()) }
}

/// Unaligned 16-byte load from the start of `s`.
#[inline]
#[target_feature(enable = "avx2")]
pub(super) fn load128(s: &[u8]) -> __m128i {
    assert!(s.len() >= 16);
    // SAFETY: `s` has at least 16 readable bytes (asserted); loadu has no alignment
    // requirement.
    unsafe { _mm_loadu_si128(s.as_ptr().cast()) }
}

/// Unaligned 16-byte load of int8 values from the start of `s`.
#[inline]
#[target_feature(enable = "avx2")]
pub(super) fn load128_i8(s: &[i8]) -> __m128i {
    assert!(s.len() >= 16);
    // SAFETY: `s` has at least 16 readable bytes (asserted); loadu has no alignment
    // requirement.
    unsafe { _mm_loadu_si128(s.as_ptr().cast()) }
}

/// A little-endian IEEE half widened with F16C (exact, like `blocks::f16_to_f32`).
#[inline]
#[target_feature(enable = "avx2,f16c")]
pub(super) fn f16c(bits: [u8; 2]) -> f32 {
    let v = _mm_cvtsi32_si128(u16::from_le_bytes(bits) as i32);
    _mm_cvtss_f32(_mm_cvtph_ps(v))
}

/// Sum of the 8 i32 lanes (wrapping, but block sums never come close to overflow).
#[inline]
#[target_feature(enable = "avx2")]
pub(super) fn hsum_i32(v: __m256i) -> i32 {
    let s = _mm_add_epi32(_mm256_castsi256_si128(v), _mm256_extracti128_si256::<1>(v));
    let s = _mm_add_epi32(s, _mm_shuffle_epi32::<0b01_00_11_10>(s));
    let s = _mm_add_epi32(s, _mm_shuffle_epi32::<0b10_11_00_01>(s));
    _mm_cvtsi128_si32(s)
}

/// Sum of the 8 f32 lanes.
#[inline]
#[target_feature(enable = "avx2")]
pub(super) fn hsum_f32(v: __m256) -> f32 {
    let s = _mm_add_ps(_mm256_castps256_ps128(v), _mm256_extractf128_ps::<1>(v));
    let s = _mm_add_ps(s, _mm_movehl_ps(s, s));
    let s = _mm_add_ss(s, _mm_movehdup_ps(s));
    _mm_cvtss_f32(s)
}

/// Signed int8 × int8 → i16 pair sums (`y` in −127..=127).
#[inline]
#[target_feature(enable = "avx2")]
pub(super) fn mul_i8_pairs(x: __m256i, y: __m256i) -> __m256i {
    _mm256_maddubs_epi16(_mm256_sign_epi8(x, x), _mm256_sign_epi8(y, x))
}

/// Signed int8 × int8 → i32 sums of 4 adjacent products.
#[inline]
#[target_feature(enable = "avx2")]
pub(super) fn mul_sum_i8_quads(x: __m256i, y: __m256i) -> __m256i {
    _mm256_madd_epi16(mul_i8_pairs(x, y), _mm256_set1_epi16(1))
}

/// Two i16 scales: `lo` for the low 128 bits, `hi` for the high 128 bits.
#[inline]
#[target_feature(enable = "avx2")]
pub(super) fn scales2(lo: i32, hi: i32) -> __m256i {
    _mm256_set_m128i(_mm_set1_epi16(hi as i16), _mm_set1_epi16(lo as i16))
}
