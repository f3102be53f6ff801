//! AVX-512 kernels (F + BW + VL, optionally VNNI) for the formats that dominate
//! DeepSeek-R1 and ternary models: Q8_0, Q4_K, IQ1_S, TQ2_0, TQ1_0. Every other type
//! keeps its AVX2 kernel at this level.
//!
//! Same algorithms as the AVX2 kernels (and so the same scalar references), on 512-bit
//! registers that hold two 256-bit halves:
//! ```text
//! Q8_0:  two blocks per register; |x| and (y negated where x < 0), dot4 → 16 × i32,
//!        scales blended per half; an odd last block goes through the AVX2 kernel
//! Q4_K:  one 64-byte load = chunks 2p, 2p+1; halves scaled by sub-blocks 4p+{0,2} (low
//!        nibbles) and 4p+{1,3} (high nibbles) with madd
//! IQ1_S: two sub-blocks (8 grid rows) per register, scales (2s+1) per half
//! TQ2_0: the whole 64-byte qs in one register: plane l pairs y[32l..] with y[128+32l..]
//! TQ1_0: trits of (head, head), (head, tail|tail), (tail|tail, tail|qh) with per-half
//!        powers of 3, so each register meets 64 consecutive activations
//! ```
//! `dot4(acc, u, s)` adds Σ of 4 adjacent u8·i8 products into each i32 lane: one
//! `vpdpbusd` with VNNI, `maddubs` + `madd(1)` without (pair sums stay < 2^15 for every
//! operand used here). IQ1_S, TQ1_0 and TQ2_0 are bit-identical to the scalar reference;
//! Q8_0 and Q4_K differ by summation order.
//!
//! Not verified on the machine this was written on (it has no AVX-512); the `isa` tests
//! run these kernels wherever `Isa::all_supported()` lists an AVX-512 level.

use core::arch::x86_64::*;

use crate::kernels::{set_vec_dot, TypeKernels, VecDotFn};
use crate::types::GgmlType;

/// Unaligned 64-byte load from the start of `s`.
#[inline]
#[target_feature(enable = "avx512f")]
fn load512(s: &[u8]) -> __m512i {
    assert!(s.len() >= 64);
    // SAFETY: `s` has at least 64 readable bytes (asserted); loadu has no alignment
    // requirement.
    unsafe { _mm512_loadu_si512(s.as_ptr().cast()) }
}

/// Unaligned 64-byte load of int8 quants from the start of `s`.
#[inline]
#[target_feature(enable = "avx512f")]
fn load512_i8(s: &[i8]) -> __m512i {
    assert!(s.len() >= 64);
    // SAFETY: as in `load512`.
    unsafe { _mm512_loadu_si512(s.as_ptr().cast()) }
}

/// `lo` in bits 0..256, `hi` in bits 256..512.
#[inline]
#[target_feature(enable = "avx512f")]
fn concat(lo: __m256i, hi: __m256i) -> __m512i {
    _mm512_inserti64x4::<1>(_mm512_castsi256_si512(lo), hi)
}

/// i16 `lo` in the low half, `hi` in the high half.
#[inline]
#[target_feature(enable = "avx512f,avx512bw")]
fn scales2_512(lo: i32, hi: i32) -> __m512i {
    _mm512_mask_blend_epi16(
        0xFFFF_0000,
        _mm512_set1_epi16(lo as i16),
        _mm512_set1_epi16(hi as i16),
    )
}

/// `|x|` and `y` negated where `x < 0`: the unsigned × signed form of `x·y`.
#[inline]
#[target_feature(enable = "avx512f,avx512bw")]
fn abs_sign(x: __m512i, y: __m512i) -> (__m512i, __m512i) {
    let neg = _mm512_movepi8_mask(x);
    (
        _mm512_abs_epi8(x),
        _mm512_mask_sub_epi8(y, neg, _mm512_setzero_si512(), y),
    )
}

/// `acc + Σ_4 u·s` without VNNI.
#[inline]
#[target_feature(enable = "avx512f,avx512bw,avx512vl,avx2,fma,f16c")]
fn dot4_plain(acc: __m512i, u: __m512i, s: __m512i) -> __m512i {
    let p = _mm512_madd_epi16(_mm512_maddubs_epi16(u, s), _mm512_set1_epi16(1));
    _mm512_add_epi32(acc, p)
}

/// `acc + Σ_4 u·s` with VNNI (`vpdpbusd`, no intermediate saturation).
#[inline]
#[target_feature(enable = "avx512f,avx512bw,avx512vl,avx2,fma,f16c,avx512vnni")]
fn dot4_vnni(acc: __m512i, u: __m512i, s: __m512i) -> __m512i {
    _mm512_dpbusd_epi32(acc, u, s)
}

/// Per byte: the top base-3 digit of `q·pow mod 256`, i.e. `((q·pow mod 256)·3) >> 8`.
#[inline]
#[target_feature(enable = "avx512f,avx512bw")]
fn trits512(q: __m512i, pow: __m512i) -> __m512i {
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

macro_rules! avx512_kernels {
    ($feat:literal, $dot4:ident) => {
        use core::arch::x86_64::*;

        use super::super::f16c;
        use super::super::{avx2_legacy, load128, load256, load256_i8};
        use super::$dot4;
        use super::{abs_sign, concat, load512, load512_i8, scales2_512, trits512};
        use crate::blocks::as_blocks;
        use crate::blocks::iq1::BlockIQ1S;
        use crate::blocks::kquants::{k4_min_sum, scales_mins_k4, BlockQ4K};
        use crate::blocks::q8::{BlockQ8K, BlockQ8_0};
        use crate::blocks::ternary::{BlockTQ1_0, BlockTQ2_0};
        use crate::tables::{IQ1S_GRID, IQ1_DELTA};

        /// Q8_0 × Q8_0.
        #[target_feature(enable = $feat)]
        pub(in super::super) fn vec_dot_q8_0(w: &[u8], a: &[u8]) -> f32 {
            let (xs, ys) = (as_blocks::<BlockQ8_0>(w), as_blocks::<BlockQ8_0>(a));
            let n = xs.len().min(ys.len());
            let mut acc = _mm512_setzero_ps();
            for i in 0..n / 2 {
                let (x0, x1, y0, y1) = (&xs[2 * i], &xs[2 * i + 1], &ys[2 * i], &ys[2 * i + 1]);
                let x = concat(load256_i8(&x0.qs), load256_i8(&x1.qs));
                let y = concat(load256_i8(&y0.qs), load256_i8(&y1.qs));
                let (u, s) = abs_sign(x, y);
                let p = $dot4(_mm512_setzero_si512(), u, s);
                let d0 = _mm512_set1_ps(f16c(x0.d) * f16c(y0.d));
                let d = _mm512_mask_blend_ps(0xFF00, d0, _mm512_set1_ps(f16c(x1.d) * f16c(y1.d)));
                acc = _mm512_fmadd_ps(d, _mm512_cvtepi32_ps(p), acc);
            }
            let done = n / 2 * 2 * 34;
            let tail = avx2_legacy::vec_dot_q8_0(&w[done..n * 34], &a[done..n * 34]);
            _mm512_reduce_add_ps(acc) + tail
        }

        /// Q4_K × Q8_K.
        #[target_feature(enable = $feat)]
        pub(in super::super) fn vec_dot_q4_k(w: &[u8], a: &[u8]) -> f32 {
            let mut acc = 0.0f32;
            let mut mins = 0.0f32;
            let m4 = _mm512_set1_epi8(0x0F);
            for (x, y) in as_blocks::<BlockQ4K>(w)
                .iter()
                .zip(as_blocks::<BlockQ8K>(a))
            {
                let sm = scales_mins_k4(&x.scales);
                let mut sumi = _mm512_setzero_si512();
                for p in 0..2 {
                    let q = load512(&x.qs[64 * p..]);
                    let lo = _mm512_and_si512(q, m4);
                    let hi = _mm512_and_si512(_mm512_srli_epi16::<4>(q), m4);
                    let b = 128 * p;
                    let ylo = concat(load256_i8(&y.qs[b..]), load256_i8(&y.qs[b + 64..]));
                    let yhi = concat(load256_i8(&y.qs[b + 32..]), load256_i8(&y.qs[b + 96..]));
                    let slo = scales2_512(sm[4 * p].0 as i32, sm[4 * p + 2].0 as i32);
                    let shi = scales2_512(sm[4 * p + 1].0 as i32, sm[4 * p + 3].0 as i32);
                    let plo = _mm512_madd_epi16(_mm512_maddubs_epi16(lo, ylo), slo);
                    let phi = _mm512_madd_epi16(_mm512_maddubs_epi16(hi, yhi), shi);
                    sumi = _mm512_add_epi32(sumi, _mm512_add_epi32(plo, phi));
                }
                let m = k4_min_sum(&sm, y);
                acc += f16c(x.d) * y.d() * _mm512_reduce_add_epi32(sumi) as f32;
                mins += f16c(x.dmin) * y.d() * m as f32;
            }
            acc - mins
        }

        /// IQ1_S × Q8_K (bit-identical to the scalar reference).
        #[target_feature(enable = $feat)]
        pub(in super::super) fn vec_dot_iq1_s(w: &[u8], a: &[u8]) -> f32 {
            let mut acc = 0.0f32;
            for (x, y) in as_blocks::<BlockIQ1S>(w)
                .iter()
                .zip(as_blocks::<BlockQ8K>(a))
            {
                let mut sumi = _mm512_setzero_si512();
                let mut sd = 0i32;
                for j in 0..4 {
                    let r = |k: usize| IQ1S_GRID[x.index(2 * j + k / 4, k % 4)] as i64;
                    let g = _mm512_set_epi64(r(7), r(6), r(5), r(4), r(3), r(2), r(1), r(0));
                    let (u, s) = abs_sign(g, load512_i8(&y.qs[64 * j..]));
                    let sc = scales2_512(x.ls(2 * j), x.ls(2 * j + 1));
                    let p = _mm512_madd_epi16(_mm512_maddubs_epi16(u, s), sc);
                    sumi = _mm512_add_epi32(sumi, p);
                }
                for ib in 0..8 {
                    sd += x.ls(ib) * x.sigma(ib) * (y.bsum(2 * ib) + y.bsum(2 * ib + 1));
                }
                let sa = _mm512_reduce_add_epi32(sumi);
                acc += f16c(x.d) * y.d() * (sa as f32 + IQ1_DELTA * sd as f32);
            }
            acc
        }

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

mod plain {
    avx512_kernels!("avx512f,avx512bw,avx512vl,avx2,fma,f16c", dot4_plain);
}

mod vnni {
    avx512_kernels!(
        "avx512f,avx512bw,avx512vl,avx2,fma,f16c,avx512vnni",
        dot4_vnni
    );
}

/// Safe entries of module `$m`, and their table `$table`.
macro_rules! entries {
    ($table:ident, $m:ident) => {
        const $table: [(GgmlType, VecDotFn); 5] = {
            fn q8_0(w: &[u8], a: &[u8]) -> f32 {
                // SAFETY: only installed by `install` below, which `arch::install` calls
                // for an AVX-512 level that `Isa::hardware()` reported (F, BW, VL, and
                // VNNI for the `vnni` table), i.e. every feature the kernel enables.
                unsafe { $m::vec_dot_q8_0(w, a) }
            }
            fn q4_k(w: &[u8], a: &[u8]) -> f32 {
                // SAFETY: as for `q8_0`.
                unsafe { $m::vec_dot_q4_k(w, a) }
            }
            fn iq1_s(w: &[u8], a: &[u8]) -> f32 {
                // SAFETY: as for `q8_0`.
                unsafe { $m::vec_dot_iq1_s(w, a) }
            }
            fn tq2_0(w: &[u8], a: &[u8]) -> f32 {
                // SAFETY: as for `q8_0`.
                unsafe { $m::vec_dot_tq2_0(w, a) }
            }
            fn tq1_0(w: &[u8], a: &[u8]) -> f32 {
                // SAFETY: as for `q8_0`.
                unsafe { $m::vec_dot_tq1_0(w, a) }
            }
            [
                (GgmlType::Q8_0, q8_0),
                (GgmlType::Q4_K, q4_k),
                (GgmlType::IQ1_S, iq1_s),
                (GgmlType::TQ2_0, tq2_0),
                (GgmlType::TQ1_0, tq1_0),
            ]
        };
    };
}

entries!(PLAIN, plain);
entries!(VNNI, vnni);

/// Installs the AVX-512 kernels over the AVX2 ones (VNNI versions if `vnni`).
pub(super) fn install(table: &mut [TypeKernels], vnni: bool) {
    for (ty, f) in if vnni { VNNI } else { PLAIN } {
        set_vec_dot(table, ty, f);
    }
}
