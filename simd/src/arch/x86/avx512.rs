//! AVX-512 (F + BW + VL, optionally VNNI): the shared 512-bit helpers and the
//! installation of the AVX-512 kernels, which live by format family in
//! `avx512_legacy` (Q8_0, Q4_0, Q4_1), `avx512_kquants` (Q2_K … Q6_K), `avx512_iq`
//! (IQ1_S, IQ1_M, IQ2_XXS) and `avx512_ternary` (TQ1_0, TQ2_0). Every other type keeps
//! its AVX2 kernel at this level.
//!
//! Same algorithms as the AVX2 kernels (and so the same scalar references), on 512-bit
//! registers that hold two 256-bit halves, each usually one run of 32 activations, so
//! that a register meets 64 consecutive activations and each activation row costs one
//! plain 64-byte load per register. Each family file writes its kernels once in a macro
//! and instantiates it twice, in a `plain` module (F, BW, VL) and a `vnni` module (+
//! VNNI), passing the two integer dot helpers below:
//! ```text
//! dot4(acc, u, s)  acc + Σ of 4 adjacent u8·i8 products per i32 lane:
//!                  vpdpbusd with VNNI, maddubs + madd(1) + add without
//! dot2(acc, p, c)  acc + Σ of 2 adjacent i16·i16 products per i32 lane (the sub-block
//!                  scales applied to maddubs pair sums): vpdpwssd with VNNI,
//!                  madd + add without
//! ```
//! Both give the same integers with and without VNNI (no operand used here brings a
//! `maddubs` pair sum near 2^15 or a `madd` near 2^31), so the two instantiations of a
//! kernel return identical results.
//!
//! The kernels of every type are generic over the number of activation rows `N` ≤ 4
//! (`vec_dot_n_*`), with the single-row `vec_dot` as the `N = 1` instance:
//! a weight block is decoded once per `N` rows, and a batch is bit-identical to the same
//! rows one at a time (the `VecDotManyFn` contract). Installing an AVX-512 `vec_dot`
//! drops the AVX2 fused kernel of that type (`set_vec_dot`), so these fused kernels
//! replace them.
//!
//! Written on an AVX2-only machine; verified there under emulation (Bochs, an AVX-512 +
//! VNNI CPU model, `tools/avx512_bochs.sh`), where the `isa` tests run these kernels as
//! on any host whose `Isa::all_supported()` lists an AVX-512 level. Not yet run (nor
//! timed) on AVX-512 hardware.

use core::arch::x86_64::*;

use super::load256;
use crate::kernels::{set_vec_dot, set_vec_dot_many, TypeKernels};

/// Unaligned 64-byte load from the start of `s`.
#[inline]
#[target_feature(enable = "avx512f")]
pub(super) fn load512(s: &[u8]) -> __m512i {
    assert!(s.len() >= 64);
    // SAFETY: `s` has at least 64 readable bytes (asserted); loadu has no alignment
    // requirement.
    unsafe { _mm512_loadu_si512(s.as_ptr().cast()) }
}

/// Unaligned 64-byte load of int8 quants from the start of `s`.
#[inline]
#[target_feature(enable = "avx512f")]
pub(super) fn load512_i8(s: &[i8]) -> __m512i {
    assert!(s.len() >= 64);
    // SAFETY: as in `load512`.
    unsafe { _mm512_loadu_si512(s.as_ptr().cast()) }
}

/// The 32 bytes at the start of `s` in both 256-bit halves (one `vbroadcasti64x4`).
#[inline]
#[target_feature(enable = "avx512f,avx2")]
pub(super) fn broadcast256(s: &[u8]) -> __m512i {
    _mm512_broadcast_i64x4(load256(s))
}

/// `lo` in bits 0..256, `hi` in bits 256..512.
#[inline]
#[target_feature(enable = "avx512f")]
pub(super) fn concat(lo: __m256i, hi: __m256i) -> __m512i {
    _mm512_inserti64x4::<1>(_mm512_castsi256_si512(lo), hi)
}

/// `y` negated in the bytes whose bit is set in `neg` (`y` in −127..=127, so exact).
#[inline]
#[target_feature(enable = "avx512f,avx512bw")]
pub(super) fn negate_where(y: __m512i, neg: __mmask64) -> __m512i {
    _mm512_mask_sub_epi8(y, neg, _mm512_setzero_si512(), y)
}

/// i16 lane `i` (0..32) of the result = i16 lane `base + i / 8` of `v`: one value per
/// 16-byte quarter, the layout of the per-16 scales of Q2_K, Q3_K and Q6_K (`base` +
/// 3 < 32).
#[inline]
#[target_feature(enable = "avx512f,avx512bw")]
pub(super) fn quarter_scales(v: __m512i, base: usize) -> __m512i {
    let quarters = _mm512_set_epi64(
        0x0003_0003_0003_0003,
        0x0003_0003_0003_0003,
        0x0002_0002_0002_0002,
        0x0002_0002_0002_0002,
        0x0001_0001_0001_0001,
        0x0001_0001_0001_0001,
        0,
        0,
    );
    let idx = _mm512_add_epi16(_mm512_set1_epi16(base as i16), quarters);
    _mm512_permutexvar_epi16(idx, v)
}

/// i16 lane `lo` of `v` in the 16 i16 lanes of the low half, lane `hi` in those of the
/// high half (the per-32 scales of Q4_K / Q5_K; `lo`, `hi` < 32).
#[inline]
#[target_feature(enable = "avx512f,avx512bw")]
pub(super) fn half_scales(v: __m512i, lo: usize, hi: usize) -> __m512i {
    let idx = _mm512_mask_blend_epi16(
        0xFFFF_0000,
        _mm512_set1_epi16(lo as i16),
        _mm512_set1_epi16(hi as i16),
    );
    _mm512_permutexvar_epi16(idx, v)
}

/// i32 (or packed 2 × i16) value `lo` in the 8 lanes of the low half, `hi` in the high.
#[inline]
#[target_feature(enable = "avx512f")]
pub(super) fn halves_i32(lo: u32, hi: u32) -> __m512i {
    _mm512_mask_blend_epi32(
        0xFF00,
        _mm512_set1_epi32(lo as i32),
        _mm512_set1_epi32(hi as i32),
    )
}

/// Four little-endian IEEE halves widened with F16C (exact): lane k = `h[k]`.
#[inline]
#[target_feature(enable = "avx2,f16c")]
pub(super) fn f16x4(h: [[u8; 2]; 4]) -> __m128 {
    let bits = h.map(u16::from_le_bytes).map(u64::from);
    let word = bits[0] | bits[1] << 16 | bits[2] << 32 | bits[3] << 48;
    _mm_cvtph_ps(_mm_cvtsi64_si128(word as i64))
}

/// `acc + Σ_4 u·s` without VNNI.
#[inline]
#[target_feature(enable = "avx512f,avx512bw,avx512vl,avx2,fma,f16c")]
pub(super) fn dot4_plain(acc: __m512i, u: __m512i, s: __m512i) -> __m512i {
    let p = _mm512_madd_epi16(_mm512_maddubs_epi16(u, s), _mm512_set1_epi16(1));
    _mm512_add_epi32(acc, p)
}

/// `acc + Σ_4 u·s` with VNNI (`vpdpbusd`, no intermediate saturation).
#[inline]
#[target_feature(enable = "avx512f,avx512bw,avx512vl,avx2,fma,f16c,avx512vnni")]
pub(super) fn dot4_vnni(acc: __m512i, u: __m512i, s: __m512i) -> __m512i {
    _mm512_dpbusd_epi32(acc, u, s)
}

/// `acc + Σ_2 p·c` (i16 pairs) without VNNI.
#[inline]
#[target_feature(enable = "avx512f,avx512bw,avx512vl,avx2,fma,f16c")]
pub(super) fn dot2_plain(acc: __m512i, p: __m512i, c: __m512i) -> __m512i {
    _mm512_add_epi32(acc, _mm512_madd_epi16(p, c))
}

/// `acc + Σ_2 p·c` (i16 pairs) with VNNI (`vpdpwssd`).
#[inline]
#[target_feature(enable = "avx512f,avx512bw,avx512vl,avx2,fma,f16c,avx512vnni")]
pub(super) fn dot2_vnni(acc: __m512i, p: __m512i, c: __m512i) -> __m512i {
    _mm512_dpwssd_epi32(acc, p, c)
}

/// The safe table entries of one instantiation (`plain` or `vnni`) of every family
/// module: `DOTS` (single-row) and `MANY` (fused, each after its `vec_dot`).
macro_rules! level_tables {
    ($level:ident) => {
        mod $level {
            use super::super::avx512_iq::$level as iq;
            use super::super::avx512_kquants::$level as kq;
            use super::super::avx512_legacy::$level as legacy;
            use super::super::avx512_ternary::$level as ternary;
            use super::super::{entry, many};
            use crate::kernels::{VecDotFn, VecDotManyFn, DOT_N_WIDTH};
            use crate::types::GgmlType;

            entry!(q8_0, legacy::vec_dot_q8_0);
            entry!(q4_0, legacy::vec_dot_q4_0);
            entry!(q4_1, legacy::vec_dot_q4_1);
            entry!(q2_k, kq::vec_dot_q2_k);
            entry!(q3_k, kq::vec_dot_q3_k);
            entry!(q4_k, kq::vec_dot_q4_k);
            entry!(q5_k, kq::vec_dot_q5_k);
            entry!(q6_k, kq::vec_dot_q6_k);
            entry!(iq1_s, iq::vec_dot_iq1_s);
            entry!(iq1_m, iq::vec_dot_iq1_m);
            entry!(iq2_xxs, iq::vec_dot_iq2_xxs);
            entry!(tq2_0, ternary::vec_dot_tq2_0);
            entry!(tq1_0, ternary::vec_dot_tq1_0);

            pub(super) const DOTS: [(GgmlType, VecDotFn); 13] = [
                (GgmlType::Q8_0, q8_0),
                (GgmlType::Q4_0, q4_0),
                (GgmlType::Q4_1, q4_1),
                (GgmlType::Q2_K, q2_k),
                (GgmlType::Q3_K, q3_k),
                (GgmlType::Q4_K, q4_k),
                (GgmlType::Q5_K, q5_k),
                (GgmlType::Q6_K, q6_k),
                (GgmlType::IQ1_S, iq1_s),
                (GgmlType::IQ1_M, iq1_m),
                (GgmlType::IQ2_XXS, iq2_xxs),
                (GgmlType::TQ2_0, tq2_0),
                (GgmlType::TQ1_0, tq1_0),
            ];

            many!(q8_0_many, legacy::vec_dot_n_q8_0);
            many!(q4_0_many, legacy::vec_dot_n_q4_0);
            many!(q4_1_many, legacy::vec_dot_n_q4_1);
            many!(q2_k_many, kq::vec_dot_n_q2_k);
            many!(q3_k_many, kq::vec_dot_n_q3_k);
            many!(q4_k_many, kq::vec_dot_n_q4_k);
            many!(q5_k_many, kq::vec_dot_n_q5_k);
            many!(q6_k_many, kq::vec_dot_n_q6_k);
            many!(iq1_s_many, iq::vec_dot_n_iq1_s);
            many!(iq1_m_many, iq::vec_dot_n_iq1_m);
            many!(iq2_xxs_many, iq::vec_dot_n_iq2_xxs);
            many!(tq2_0_many, ternary::vec_dot_n_tq2_0);
            many!(tq1_0_many, ternary::vec_dot_n_tq1_0);

            pub(super) const MANY: [(GgmlType, VecDotManyFn); 13] = [
                (GgmlType::Q8_0, q8_0_many),
                (GgmlType::Q4_0, q4_0_many),
                (GgmlType::Q4_1, q4_1_many),
                (GgmlType::Q2_K, q2_k_many),
                (GgmlType::Q3_K, q3_k_many),
                (GgmlType::Q4_K, q4_k_many),
                (GgmlType::Q5_K, q5_k_many),
                (GgmlType::Q6_K, q6_k_many),
                (GgmlType::IQ1_S, iq1_s_many),
                (GgmlType::IQ1_M, iq1_m_many),
                (GgmlType::IQ2_XXS, iq2_xxs_many),
                (GgmlType::TQ2_0, tq2_0_many),
                (GgmlType::TQ1_0, tq1_0_many),
            ];
        }
    };
}

level_tables!(plain);
level_tables!(vnni);

/// Installs the AVX-512 kernels over the AVX2 ones (VNNI versions if `vnni`): each
/// `vec_dot`, then the fused kernel of its type.
pub(super) fn install(table: &mut [TypeKernels], vnni: bool) {
    let (dots, many) = if vnni {
        (vnni::DOTS, vnni::MANY)
    } else {
        (plain::DOTS, plain::MANY)
    };
    for (ty, f) in dots {
        set_vec_dot(table, ty, f);
    }
    for (ty, f) in many {
        set_vec_dot_many(table, ty, f);
    }
}

#[cfg(test)]
mod tests {
    use crate::blocks::f16_to_f32;

    /// `f16x4` runs on AVX2 + F16C alone, so an AVX2 host checks it.
    #[test]
    fn f16x4_widens_each_half_in_place() {
        if !(std::is_x86_feature_detected!("avx2") && std::is_x86_feature_detected!("f16c")) {
            return;
        }
        for base in (0..=u16::MAX).step_by(4) {
            let h: [[u8; 2]; 4] = core::array::from_fn(|k| (base + k as u16).to_le_bytes());
            // SAFETY: AVX2 and F16C were detected above.
            let v = unsafe { super::f16x4(h) };
            // SAFETY: __m128 and [f32; 4] have the same size; every bit pattern is valid.
            let got: [f32; 4] = unsafe { core::mem::transmute(v) };
            for k in 0..4 {
                let want = f16_to_f32(h[k]);
                assert!(
                    got[k].to_bits() == want.to_bits() || (got[k].is_nan() && want.is_nan()),
                    "{:#x}",
                    base + k as u16
                );
            }
        }
    }
}
