//! AVX-512 dots of the ternary formats against Q8_K: TQ2_0, TQ1_0 (bit-identical to
//! the scalar references of [`crate::blocks::ternary`]).
//!
//! ```text
//! TQ2_0: the whole 64-byte qs in one register: plane l pairs y[32l..] with y[128+32l..]
//! TQ1_0: trits of (head, head), (head, tail|tail), (tail|tail, tail|qh) with per-half
//!        powers of 3, so each register meets 64 consecutive activations
//! S = Σ c·y − Σ y  (codes c ∈ 0..2, unsigned for dot4; weight c − 1);  acc += S·(dx·dy)
//! ```
//! Single-row kernels only (no fused `vec_dot_n`: the ternary models are small and
//! decode-bound). Helpers: `avx512`.

use core::arch::x86_64::*;

/// Per byte: the top base-3 digit of `q·pow mod 256`, i.e. `((q·pow mod 256)·3) >> 8`.
#[inline]
#[target_feature(enable = "avx512f,avx512bw")]
pub(super) fn trits512(q: __m512i, pow: __m512i) -> __m512i {
    let lo = _mm512_set1_epi16(0x00FF);
    let three = _mm512_set1_epi16(3);
    let digit = |q16: __m512i, p16: __m512i| {
        let x = _mm512_and_si512(_mm512_mullo_epi16(q16, p16), lo);
        _mm512_srli_epi16::<8>(_mm512_mullo_epi16(x, three))
    };
    let even = digit(_mm512_and_si512(q, lo), _mm512_and_si512(pow, lo));
    let odd = digit(_mm512_srli_epi16::<8>(q), _mm512_srli_epi16::<8>(pow));
    _mm512_or_si512(even, _mm512_slli_epi16::<8>(odd))
}

macro_rules! ternary_kernels {
    ($feat:literal, $dot4:ident) => {
        use core::arch::x86_64::*;

        use super::super::avx512::{concat, load512, load512_i8, $dot4};
        use super::super::{f16c, load128, load256, load256_i8};
        use super::trits512;
        use crate::blocks::as_blocks;
        use crate::blocks::q8::BlockQ8K;
        use crate::blocks::ternary::{BlockTQ1_0, BlockTQ2_0};

        /// Σ bsums of a Q8_K block (Σ of its 256 quants).
        #[inline]
        fn sum_y(y: &BlockQ8K) -> i32 {
            (0..16).map(|k| y.bsum(k)).sum()
        }

        /// TQ2_0 × Q8_K (bit-identical to the scalar reference).
        #[target_feature(enable = $feat)]
        pub(in super::super) fn vec_dot_tq2_0(w: &[u8], a: &[u8]) -> f32 {
            let mut acc = 0.0f32;
            let m3 = _mm512_set1_epi8(3);
            for (x, y) in as_blocks::<BlockTQ2_0>(w)
                .iter()
                .zip(as_blocks::<BlockQ8K>(a))
            {
                let q = load512(&x.qs);
                let planes = [
                    _mm512_and_si512(q, m3),
                    _mm512_and_si512(_mm512_srli_epi16::<2>(q), m3),
                    _mm512_and_si512(_mm512_srli_epi16::<4>(q), m3),
                    _mm512_and_si512(_mm512_srli_epi16::<6>(q), m3),
                ];
                let mut s = _mm512_setzero_si512();
                for (l, t) in planes.into_iter().enumerate() {
                    let yv = concat(
                        load256_i8(&y.qs[32 * l..]),
                        load256_i8(&y.qs[128 + 32 * l..]),
                    );
                    s = $dot4(s, t, yv);
                }
                let st = _mm512_reduce_add_epi32(s) - sum_y(y);
                acc += st as f32 * (f16c(x.d) * y.d());
            }
            acc
        }

        /// TQ1_0 × Q8_K (bit-identical to the scalar reference).
        #[target_feature(enable = $feat)]
        pub(in super::super) fn vec_dot_tq1_0(w: &[u8], a: &[u8]) -> f32 {
            let mut acc = 0.0f32;
            let set = |v: i8| _mm256_set1_epi8(v);
            let half = |lo: i8, hi: i8| _mm256_set_m128i(_mm_set1_epi8(hi), _mm_set1_epi8(lo));
            let qh_pows = _mm_setr_epi8(1, 1, 1, 1, 3, 3, 3, 3, 9, 9, 9, 9, 27, 27, 27, 27);
            let pows = [
                concat(set(1), set(3)),
                concat(set(9), set(27)),
                concat(set(81), half(1, 3)),
                concat(half(9, 27), _mm256_set_m128i(qh_pows, _mm_set1_epi8(81))),
            ];
            for (x, y) in as_blocks::<BlockTQ1_0>(w)
                .iter()
                .zip(as_blocks::<BlockQ8K>(a))
            {
                let head = load256(&x.qs);
                let tail = load128(&x.qs[32..]);
                let tail2 = _mm256_set_m128i(tail, tail);
                let last = _mm256_set_m128i(_mm_set1_epi32(i32::from_le_bytes(x.qh)), tail);
                let regs = [
                    concat(head, head),
                    concat(head, head),
                    concat(head, tail2),
                    concat(tail2, last),
                ];
                let mut s = _mm512_setzero_si512();
                for (k, (v, p)) in regs.into_iter().zip(pows).enumerate() {
                    s = $dot4(s, trits512(v, p), load512_i8(&y.qs[64 * k..]));
                }
                let st = _mm512_reduce_add_epi32(s) - sum_y(y);
                acc += st as f32 * (f16c(x.d) * y.d());
            }
            acc
        }
    };
}

pub(super) mod plain {
    ternary_kernels!("avx512f,avx512bw,avx512vl,avx2,fma,f16c", dot4_plain);
}

pub(super) mod vnni {
    ternary_kernels!(
        "avx512f,avx512bw,avx512vl,avx2,fma,f16c,avx512vnni",
        dot4_vnni
    );
}
