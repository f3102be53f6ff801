//! AVX-512 dots of the ternary formats against Q8_K: TQ2_0, TQ1_0 (bit-identical to
//! the scalar references of [`crate::blocks::ternary`]).
//!
//! ```text
//! TQ2_0: the whole 64-byte qs in one register: plane l pairs y[32l..] with y[128+32l..]
//! TQ1_0: trits of (head, head), (head, tail|tail), (tail|tail, tail|qh) with per-half
//!        powers of 3, so each register meets 64 consecutive activations
//! S = Σ c·y − Σ y  (codes c ∈ 0..2, unsigned for dot4; weight c − 1);  acc += S·(dx·dy)
//! ```
//! Each block reduces to the reference's integer `S` and repeats its float expression,
//! so the results are bit-identical to it. `vec_dot_n_*` make the codes of a block once
//! for `N` ≤ 4 activation rows (prefill of the small ternary models); the single-row
//! kernels are their `N = 1` instances. Helpers: `avx512`.

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
        use crate::blocks::common_blocks;
        use crate::blocks::q8::BlockQ8K;
        use crate::blocks::ternary::{BlockTQ1_0, BlockTQ2_0};

        /// `−Σ y` of a Q8_K block (from its bsums) in lanes 0..8: the start of a block
        /// sum, which turns `Σ c·y` into `Σ (c − 1)·y`.
        #[inline]
        #[target_feature(enable = $feat)]
        fn minus_sum_y(y: &BlockQ8K) -> __m512i {
            let s = _mm256_madd_epi16(load256(&y.bsums), _mm256_set1_epi16(1));
            _mm512_zextsi256_si512(_mm256_sub_epi32(_mm256_setzero_si256(), s))
        }

        /// TQ2_0 × `N` Q8_K rows (each bit-identical to the scalar reference).
        #[inline]
        #[target_feature(enable = $feat)]
        pub(in super::super) fn vec_dot_n_tq2_0<const N: usize>(
            w: &[u8],
            a: &[&[u8]; N],
            out: &mut [f32; N],
        ) {
            let (xs, ys) = common_blocks::<BlockTQ2_0, BlockQ8K, N>(w, a);
            let mut acc = [0.0f32; N];
            let m3 = _mm512_set1_epi8(3);
            for (i, x) in xs.iter().enumerate() {
                let y = ys.map(|y| &y[i]);
                let q = load512(&x.qs);
                let planes = [
                    _mm512_and_si512(q, m3),
                    _mm512_and_si512(_mm512_srli_epi16::<2>(q), m3),
                    _mm512_and_si512(_mm512_srli_epi16::<4>(q), m3),
                    _mm512_and_si512(_mm512_srli_epi16::<6>(q), m3),
                ];
                let dx = f16c(x.d);
                for v in 0..N {
                    let mut s = minus_sum_y(y[v]);
                    for (l, &t) in planes.iter().enumerate() {
                        let yv = concat(
                            load256_i8(&y[v].qs[32 * l..]),
                            load256_i8(&y[v].qs[128 + 32 * l..]),
                        );
                        s = $dot4(s, t, yv);
                    }
                    let st = _mm512_reduce_add_epi32(s);
                    acc[v] += st as f32 * (dx * y[v].d());
                }
            }
            *out = acc;
        }

        /// TQ2_0 × Q8_K: the one-row instance of [`vec_dot_n_tq2_0`].
        #[target_feature(enable = $feat)]
        pub(in super::super) fn vec_dot_tq2_0(w: &[u8], a: &[u8]) -> f32 {
            let mut out = [0.0];
            vec_dot_n_tq2_0::<1>(w, &[a], &mut out);
            out[0]
        }

        /// TQ1_0 × `N` Q8_K rows (each bit-identical to the scalar reference).
        #[inline]
        #[target_feature(enable = $feat)]
        pub(in super::super) fn vec_dot_n_tq1_0<const N: usize>(
            w: &[u8],
            a: &[&[u8]; N],
            out: &mut [f32; N],
        ) {
            let (xs, ys) = common_blocks::<BlockTQ1_0, BlockQ8K, N>(w, a);
            let mut acc = [0.0f32; N];
            let set = |v: i8| _mm256_set1_epi8(v);
            let half = |lo: i8, hi: i8| _mm256_set_m128i(_mm_set1_epi8(hi), _mm_set1_epi8(lo));
            let qh_pows = _mm_setr_epi8(1, 1, 1, 1, 3, 3, 3, 3, 9, 9, 9, 9, 27, 27, 27, 27);
            let pows = [
                concat(set(1), set(3)),
                concat(set(9), set(27)),
                concat(set(81), half(1, 3)),
                concat(half(9, 27), _mm256_set_m128i(qh_pows, _mm_set1_epi8(81))),
            ];
            for (i, x) in xs.iter().enumerate() {
                let y = ys.map(|y| &y[i]);
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
                let trits = [0, 1, 2, 3].map(|k| trits512(regs[k], pows[k]));
                let dx = f16c(x.d);
                for v in 0..N {
                    let mut s = minus_sum_y(y[v]);
                    for (k, &t) in trits.iter().enumerate() {
                        s = $dot4(s, t, load512_i8(&y[v].qs[64 * k..]));
                    }
                    let st = _mm512_reduce_add_epi32(s);
                    acc[v] += st as f32 * (dx * y[v].d());
                }
            }
            *out = acc;
        }

        /// TQ1_0 × Q8_K: the one-row instance of [`vec_dot_n_tq1_0`].
        #[target_feature(enable = $feat)]
        pub(in super::super) fn vec_dot_tq1_0(w: &[u8], a: &[u8]) -> f32 {
            let mut out = [0.0];
            vec_dot_n_tq1_0::<1>(w, &[a], &mut out);
            out[0]
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
