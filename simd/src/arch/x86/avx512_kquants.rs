//! AVX-512 dots of the K-quants against Q8_K: Q2_K, Q3_K, Q4_K, Q5_K, Q6_K, for one or
//! several activation rows.
//!
//! Scalar references: [`crate::blocks::kquants`]. Each register holds the unsigned codes
//! of 64 consecutive elements (two runs of 32), so an activation row contributes one
//! plain 64-byte load per register; codes meet activations with `maddubs` and the
//! sub-block scales with `dot2` (`madd` + add, or `vpdpwssd` with VNNI). The scales of a
//! register come from one `vpermw` of the block's 16-bit scales: per 32 elements
//! (Q4_K / Q5_K: one per half) or per 16 (the others: one per 128-bit quarter).
//! ```text
//! Q2_K: codes of run s = (qs[32h..] >> 2s) & 3; halves of one register are runs 2j,
//!       2j + 1 of the same qs bytes (qs half broadcast, vpsrlvw by 4j | 4j + 2)
//!       I = Σ sc·Σ q·y, M = Σ m·bsums;  acc += (dy·d)·I − (dy·dmin)·M  (the reference's
//!       per-block float expression: bit-identical)
//! Q3_K: u = low2 + 4·hbit ∈ 0..7 (hbit by vptestmb of the broadcast hmask):
//!       I = Σ sc·Σ u·y − 4·Σ sc·bsums
//! Q4_K: chunk c: 32 qs bytes broadcast, high half shifted by 4: [low nibbles → sub-block
//!       2c | high nibbles → 2c + 1];  I = Σ sc·Σ q·y,  M = Σ m·bsums
//! Q5_K: as Q4_K, + 16 where bit 2c (low half) / 2c + 1 (high half) of qh is set
//! Q6_K: q = low4 | high2 << 4 ∈ 0..63: I = Σ sc·Σ q·y − 32·Σ sc·bsums
//! Q3_K … Q6_K: acc (16 × f32) += (d·dy)·I_lanes; Q4_K/Q5_K: mins (8 × f32) += (dmin·dy)·M_lanes
//! ```
//! The integer lanes are exact; except for Q2_K the float result differs from the
//! reference by summation order. Q6_K folds its −32 offset into `−32·Σ sc·bsums` (the
//! AVX2 kernel keeps a second `maddubs` instead, to keep its float lanes unchanged).
//!
//! `vec_dot_n_*` decode each super-block (codes, scales, mins) once and apply it to `N`
//! ≤ 4 activation rows; the single-row kernels are their `N = 1` instances, so a batch is
//! bit-identical to the same rows one at a time.

use core::arch::x86_64::*;

use super::load128;

/// The bytes of `v` whose bit `lo` (low half) or bit `hi` (high half) is set, as a mask
/// (`lo`, `hi` < 8).
#[inline]
#[target_feature(enable = "avx512f,avx512bw,avx2")]
fn bit_mask(v: __m512i, lo: usize, hi: usize) -> __mmask64 {
    let bits = _mm512_mask_blend_epi8(
        0xFFFF_FFFF_0000_0000,
        _mm512_set1_epi8((1u8 << lo) as i8),
        _mm512_set1_epi8((1u8 << hi) as i8),
    );
    _mm512_test_epi8_mask(v, bits)
}

/// The 2-bit codes of runs `2j` (low half) and `2j + 1` (high half) of a Q2_K / Q3_K
/// half-block whose 32 `qs` bytes are in both halves of `q2`.
#[inline]
#[target_feature(enable = "avx512f,avx512bw")]
fn low2_codes(q2: __m512i, j: usize) -> __m512i {
    let counts = _mm512_mask_blend_epi16(
        0xFFFF_0000,
        _mm512_set1_epi16(4 * j as i16),
        _mm512_set1_epi16(4 * j as i16 + 2),
    );
    _mm512_and_si512(_mm512_srlv_epi16(q2, counts), _mm512_set1_epi8(3))
}

/// The 16 signed scales (−32..31) of a Q3_K block as i16 (`q3k_scales` without scalar
/// unpacking): low nibbles of bytes 0..8 then their high nibbles, each | 2 bits of bytes
/// 8..12 (byte 8 + j % 4 shifted by 2·(j / 4)) << 4, − 32.
#[inline]
#[target_feature(enable = "avx2")]
fn q3k_scales16(s: &[u8; 12]) -> __m256i {
    let lo8 = u64::from_le_bytes([s[0], s[1], s[2], s[3], s[4], s[5], s[6], s[7]]);
    let hi4 = u32::from_le_bytes([s[8], s[9], s[10], s[11]]);
    let a = _mm_cvtsi64_si128(lo8 as i64);
    let m4 = _mm_set1_epi8(0x0F);
    let low = _mm_unpacklo_epi64(
        _mm_and_si128(a, m4),
        _mm_and_si128(_mm_srli_epi16::<4>(a), m4),
    );
    // u32 lane k = bytes 8..12 >> 2k: byte j of the vector (lane j / 4, byte j % 4).
    let h = _mm_srlv_epi32(_mm_set1_epi32(hi4 as i32), _mm_setr_epi32(0, 2, 4, 6));
    let high = _mm_slli_epi16::<4>(_mm_and_si128(h, _mm_set1_epi8(3)));
    let sc = _mm_sub_epi8(_mm_or_si128(low, high), _mm_set1_epi8(32));
    _mm256_cvtepi8_epi16(sc)
}

/// The Q2_K scales (low nibbles) and mins (high nibbles) as 16 × i16 each.
#[inline]
#[target_feature(enable = "avx2")]
fn q2k_scales_mins(s: &[u8; 16]) -> (__m256i, __m256i) {
    let v = load128(s);
    let m4 = _mm_set1_epi8(0x0F);
    (
        _mm256_cvtepu8_epi16(_mm_and_si128(v, m4)),
        _mm256_cvtepu8_epi16(_mm_and_si128(_mm_srli_epi16::<4>(v), m4)),
    )
}

macro_rules! kquants_kernels {
    ($feat:literal, $dot2:ident) => {
        use core::arch::x86_64::*;

        use super::super::avx2_kquants::k4_scales_mins;
        use super::super::avx512::{
            broadcast256, half_scales, load512, load512_i8, quarter_scales, $dot2,
        };
        use super::super::{f16c, hsum_f32, hsum_i32, load128_i8, load256};
        use super::{bit_mask, low2_codes, q2k_scales_mins, q3k_scales16};
        use crate::blocks::common_blocks;
        use crate::blocks::kquants::{BlockQ2K, BlockQ3K, BlockQ4K, BlockQ5K, BlockQ6K};
        use crate::blocks::q8::BlockQ8K;

        /// Q2_K × `N` Q8_K rows (each bit-identical to the scalar reference).
        #[inline]
        #[target_feature(enable = $feat)]
        pub(in super::super) fn vec_dot_n_q2_k<const N: usize>(
            w: &[u8],
            a: &[&[u8]; N],
            out: &mut [f32; N],
        ) {
            let (xs, ys) = common_blocks::<BlockQ2K, BlockQ8K, N>(w, a);
            let mut acc = [0.0f32; N];
            for (i, x) in xs.iter().enumerate() {
                let y = ys.map(|y| &y[i]);
                let (sc, mins) = q2k_scales_mins(&x.scales);
                let sc = _mm512_zextsi256_si512(sc);
                let mut sumi = [_mm512_setzero_si512(); N];
                for h in 0..2 {
                    let q2 = broadcast256(&x.qs[32 * h..]);
                    for j in 0..2 {
                        let codes = low2_codes(q2, j);
                        let s = quarter_scales(sc, 8 * h + 4 * j);
                        for v in 0..N {
                            let yv = load512_i8(&y[v].qs[128 * h + 64 * j..]);
                            sumi[v] = $dot2(sumi[v], _mm512_maddubs_epi16(codes, yv), s);
                        }
                    }
                }
                for v in 0..N {
                    let i = _mm512_reduce_add_epi32(sumi[v]);
                    let m = hsum_i32(_mm256_madd_epi16(load256(&y[v].bsums), mins));
                    let dall = y[v].d() * f16c(x.d);
                    let dmin = y[v].d() * f16c(x.dmin);
                    acc[v] += dall * i as f32 - dmin * m as f32;
                }
            }
            *out = acc;
        }

        /// Q2_K × Q8_K: the one-row instance of [`vec_dot_n_q2_k`].
        #[target_feature(enable = $feat)]
        pub(in super::super) fn vec_dot_q2_k(w: &[u8], a: &[u8]) -> f32 {
            let mut out = [0.0];
            vec_dot_n_q2_k::<1>(w, &[a], &mut out);
            out[0]
        }

        /// Q3_K × `N` Q8_K rows.
        #[inline]
        #[target_feature(enable = $feat)]
        pub(in super::super) fn vec_dot_n_q3_k<const N: usize>(
            w: &[u8],
            a: &[&[u8]; N],
            out: &mut [f32; N],
        ) {
            let (xs, ys) = common_blocks::<BlockQ3K, BlockQ8K, N>(w, a);
            let four = _mm512_set1_epi8(4);
            let mut acc = [_mm512_setzero_ps(); N];
            for (i, x) in xs.iter().enumerate() {
                let y = ys.map(|y| &y[i]);
                let sc16 = q3k_scales16(&x.scales);
                let sc = _mm512_zextsi256_si512(sc16);
                let hm = broadcast256(&x.hmask);
                // Start from −4·Σ sc·bsums (lanes 0..8).
                let mut sumi = [_mm512_setzero_si512(); N];
                for v in 0..N {
                    let c = _mm256_madd_epi16(load256(&y[v].bsums), sc16);
                    sumi[v] = _mm512_zextsi256_si512(_mm256_sub_epi32(
                        _mm256_setzero_si256(),
                        _mm256_slli_epi32::<2>(c),
                    ));
                }
                for h in 0..2 {
                    let q2 = broadcast256(&x.qs[32 * h..]);
                    for j in 0..2 {
                        let low = low2_codes(q2, j);
                        // Runs 4h + 2j, 4h + 2j + 1 take their high bit from that bit of hmask.
                        let hb = bit_mask(hm, 4 * h + 2 * j, 4 * h + 2 * j + 1);
                        let u = _mm512_mask_add_epi8(low, hb, low, four);
                        let s = quarter_scales(sc, 8 * h + 4 * j);
                        for v in 0..N {
                            let yv = load512_i8(&y[v].qs[128 * h + 64 * j..]);
                            sumi[v] = $dot2(sumi[v], _mm512_maddubs_epi16(u, yv), s);
                        }
                    }
                }
                let dx = f16c(x.d);
                for v in 0..N {
                    let d = _mm512_set1_ps(dx * y[v].d());
                    acc[v] = _mm512_fmadd_ps(d, _mm512_cvtepi32_ps(sumi[v]), acc[v]);
                }
            }
            for v in 0..N {
                out[v] = _mm512_reduce_add_ps(acc[v]);
            }
        }

        /// Q3_K × Q8_K: the one-row instance of [`vec_dot_n_q3_k`].
        #[target_feature(enable = $feat)]
        pub(in super::super) fn vec_dot_q3_k(w: &[u8], a: &[u8]) -> f32 {
            let mut out = [0.0];
            vec_dot_n_q3_k::<1>(w, &[a], &mut out);
            out[0]
        }

        /// Shared Q4_K / Q5_K body for `N` rows: `high(c)` masks the bytes of chunk c's
        /// register that get + 16 (the 5th bits of Q5_K; none for Q4_K). Adds the block's
        /// `(d·dy)·I` to the 16 lanes of `acc[v]` and its `(dmin·dy)·M` to the 8 of `mins[v]`.
        #[inline]
        #[target_feature(enable = $feat)]
        #[allow(clippy::too_many_arguments)] // the block's fields and the two accumulators
        fn dot_n_k4_like<const N: usize>(
            d: [u8; 2],
            dmin: [u8; 2],
            qs: &[u8; 128],
            scales: &[u8; 12],
            y: [&BlockQ8K; N],
            acc: &mut [__m512; N],
            mins: &mut [__m256; N],
            high: impl Fn(usize) -> __mmask64,
        ) {
            let (sc, m16) = k4_scales_mins(scales);
            let sc = _mm512_zextsi256_si512(sc);
            let m4 = _mm512_set1_epi8(0x0F);
            let sixteen = _mm512_set1_epi8(16);
            let mut sumi = [_mm512_setzero_si512(); N];
            for c in 0..4 {
                let q = broadcast256(&qs[32 * c..]);
                let q = _mm512_and_si512(_mm512_mask_srli_epi16::<4>(q, 0xFFFF_0000, q), m4);
                let q = _mm512_mask_add_epi8(q, high(c), q, sixteen);
                let s = half_scales(sc, 2 * c, 2 * c + 1);
                for v in 0..N {
                    let yv = load512_i8(&y[v].qs[64 * c..]);
                    sumi[v] = $dot2(sumi[v], _mm512_maddubs_epi16(q, yv), s);
                }
            }
            let (dx, mx) = (f16c(d), f16c(dmin));
            for v in 0..N {
                let dy = y[v].d();
                let dd = _mm512_set1_ps(dx * dy);
                acc[v] = _mm512_fmadd_ps(dd, _mm512_cvtepi32_ps(sumi[v]), acc[v]);
                let m = _mm256_cvtepi32_ps(_mm256_madd_epi16(load256(&y[v].bsums), m16));
                mins[v] = _mm256_fmadd_ps(_mm256_set1_ps(mx * dy), m, mins[v]);
            }
        }

        /// Q4_K × `N` Q8_K rows.
        #[inline]
        #[target_feature(enable = $feat)]
        pub(in super::super) fn vec_dot_n_q4_k<const N: usize>(
            w: &[u8],
            a: &[&[u8]; N],
            out: &mut [f32; N],
        ) {
            let (xs, ys) = common_blocks::<BlockQ4K, BlockQ8K, N>(w, a);
            let mut acc = [_mm512_setzero_ps(); N];
            let mut mins = [_mm256_setzero_ps(); N];
            for (i, x) in xs.iter().enumerate() {
                let y = ys.map(|y| &y[i]);
                let (acc, mins) = (&mut acc, &mut mins);
                dot_n_k4_like(x.d, x.dmin, &x.qs, &x.scales, y, acc, mins, |_| 0);
            }
            for v in 0..N {
                out[v] = _mm512_reduce_add_ps(acc[v]) - hsum_f32(mins[v]);
            }
        }

        /// Q4_K × Q8_K: the one-row instance of [`vec_dot_n_q4_k`].
        #[target_feature(enable = $feat)]
        pub(in super::super) fn vec_dot_q4_k(w: &[u8], a: &[u8]) -> f32 {
            let mut out = [0.0];
            vec_dot_n_q4_k::<1>(w, &[a], &mut out);
            out[0]
        }

        /// Q5_K × `N` Q8_K rows.
        #[inline]
        #[target_feature(enable = $feat)]
        pub(in super::super) fn vec_dot_n_q5_k<const N: usize>(
            w: &[u8],
            a: &[&[u8]; N],
            out: &mut [f32; N],
        ) {
            let (xs, ys) = common_blocks::<BlockQ5K, BlockQ8K, N>(w, a);
            let mut acc = [_mm512_setzero_ps(); N];
            let mut mins = [_mm256_setzero_ps(); N];
            for (i, x) in xs.iter().enumerate() {
                let y = ys.map(|y| &y[i]);
                let qh = broadcast256(&x.qh);
                dot_n_k4_like(x.d, x.dmin, &x.qs, &x.scales, y, &mut acc, &mut mins, |c| {
                    bit_mask(qh, 2 * c, 2 * c + 1)
                });
            }
            for v in 0..N {
                out[v] = _mm512_reduce_add_ps(acc[v]) - hsum_f32(mins[v]);
            }
        }

        /// Q5_K × Q8_K: the one-row instance of [`vec_dot_n_q5_k`].
        #[target_feature(enable = $feat)]
        pub(in super::super) fn vec_dot_q5_k(w: &[u8], a: &[u8]) -> f32 {
            let mut out = [0.0];
            vec_dot_n_q5_k::<1>(w, &[a], &mut out);
            out[0]
        }

        /// Q6_K × `N` Q8_K rows. Register (h, j) holds runs 2j, 2j + 1 of half h: the low
        /// (j = 0) or high (j = 1) nibbles of `ql[64h..64h+64]`, and bits 4j.. / 4j+2.. of
        /// `qh[32h..32h+32]` (broadcast) moved to bits 4-5.
        #[inline]
        #[target_feature(enable = $feat)]
        pub(in super::super) fn vec_dot_n_q6_k<const N: usize>(
            w: &[u8],
            a: &[&[u8]; N],
            out: &mut [f32; N],
        ) {
            let (xs, ys) = common_blocks::<BlockQ6K, BlockQ8K, N>(w, a);
            let m4 = _mm512_set1_epi8(0x0F);
            let m30 = _mm512_set1_epi8(0x30);
            let counts = |lo: i16, hi: i16| {
                _mm512_mask_blend_epi16(0xFFFF_0000, _mm512_set1_epi16(lo), _mm512_set1_epi16(hi))
            };
            // Runs 0, 1: qh << 4 | qh << 2;  runs 2, 3: qh | qh >> 2  (then & 0x30).
            let (left, right) = (counts(4, 2), counts(0, 2));
            let mut acc = [_mm512_setzero_ps(); N];
            for (i, x) in xs.iter().enumerate() {
                let y = ys.map(|y| &y[i]);
                let sc16 = _mm256_cvtepi8_epi16(load128_i8(&x.scales));
                let sc = _mm512_zextsi256_si512(sc16);
                // Start from −32·Σ sc·bsums (lanes 0..8).
                let mut sumi = [_mm512_setzero_si512(); N];
                for v in 0..N {
                    let c = _mm256_madd_epi16(load256(&y[v].bsums), sc16);
                    sumi[v] = _mm512_zextsi256_si512(_mm256_sub_epi32(
                        _mm256_setzero_si256(),
                        _mm256_slli_epi32::<5>(c),
                    ));
                }
                for h in 0..2 {
                    let ql = load512(&x.ql[64 * h..]);
                    let qh = broadcast256(&x.qh[32 * h..]);
                    for j in 0..2 {
                        let (low, high) = if j == 0 {
                            (_mm512_and_si512(ql, m4), _mm512_sllv_epi16(qh, left))
                        } else {
                            let low = _mm512_and_si512(_mm512_srli_epi16::<4>(ql), m4);
                            (low, _mm512_srlv_epi16(qh, right))
                        };
                        let q = _mm512_or_si512(low, _mm512_and_si512(high, m30));
                        let s = quarter_scales(sc, 8 * h + 4 * j);
                        for v in 0..N {
                            let yv = load512_i8(&y[v].qs[128 * h + 64 * j..]);
                            sumi[v] = $dot2(sumi[v], _mm512_maddubs_epi16(q, yv), s);
                        }
                    }
                }
                let dx = f16c(x.d);
                for v in 0..N {
                    let d = _mm512_set1_ps(dx * y[v].d());
                    acc[v] = _mm512_fmadd_ps(d, _mm512_cvtepi32_ps(sumi[v]), acc[v]);
                }
            }
            for v in 0..N {
                out[v] = _mm512_reduce_add_ps(acc[v]);
            }
        }

        /// Q6_K × Q8_K: the one-row instance of [`vec_dot_n_q6_k`].
        #[target_feature(enable = $feat)]
        pub(in super::super) fn vec_dot_q6_k(w: &[u8], a: &[u8]) -> f32 {
            let mut out = [0.0];
            vec_dot_n_q6_k::<1>(w, &[a], &mut out);
            out[0]
        }
    };
}

pub(super) mod plain {
    kquants_kernels!("avx512f,avx512bw,avx512vl,avx2,fma,f16c", dot2_plain);
}

pub(super) mod vnni {
    kquants_kernels!(
        "avx512f,avx512bw,avx512vl,avx2,fma,f16c,avx512vnni",
        dot2_vnni
    );
}

#[cfg(test)]
mod tests {
    use core::arch::x86_64::*;

    use crate::blocks::kquants::q3k_scales;

    fn lanes_i16(v: __m256i) -> [i16; 16] {
        // SAFETY: __m256i and [i16; 16] have the same size and every bit pattern is valid
        // in both.
        unsafe { core::mem::transmute(v) }
    }

    /// The scale unpacking helpers run on AVX2 alone, so an AVX2 host checks them.
    #[test]
    fn scale_unpacking_matches_the_scalar_helpers() {
        if !std::is_x86_feature_detected!("avx2") {
            return;
        }
        let mut state = 0x2545_F491_4F6C_DD1Du64;
        for _ in 0..2000 {
            let mut s = [0u8; 16];
            for b in &mut s {
                state ^= state << 13;
                state ^= state >> 7;
                state ^= state << 17;
                *b = state as u8;
            }
            let s12: &[u8; 12] = s[..12].try_into().unwrap();
            // SAFETY: AVX2 was detected above.
            let (q3, (q2s, q2m)) =
                unsafe { (super::q3k_scales16(s12), super::q2k_scales_mins(&s)) };
            let want = q3k_scales(s12).map(i16::from);
            assert_eq!(lanes_i16(q3), want, "{s:?}");
            assert_eq!(lanes_i16(q2s), s.map(|b| i16::from(b & 0xF)), "{s:?}");
            assert_eq!(lanes_i16(q2m), s.map(|b| i16::from(b >> 4)), "{s:?}");
        }
    }
}
