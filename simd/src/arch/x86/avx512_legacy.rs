//! AVX-512 dots of the 32-element formats against Q8_0 / Q8_1: Q8_0, Q4_0, Q4_1, for one
//! or several activation rows.
//!
//! Scalar references: [`crate::blocks::q8`], [`crate::blocks::legacy`]. Blocks are taken
//! four at a time, two per register (block 2h in the low half, 2h + 1 in the high half):
//! ```text
//! Q8_0: S = Σ x·y        |x| and (y negated where x < 0): dot4 → 16 × i32
//! Q4_0: S = Σ (q−8)·y    nibble pair [lo0 | hi0 | lo1 | hi1] per 128-bit lane, − 8, then
//!                        as Q8_0
//! Q4_1: S = Σ q·y        q unsigned: dot4(q, y) directly; + m·s_y per block
//! acc[h] (16 × f32) += (dx·dy)·S_lanes, the four dx·dy from one vcvtph2ps pair
//! result = Σ (acc[0] + acc[1]) (+ Σ m·s_y)
//! ```
//! A last group of fewer than four blocks is zero-padded (copied into zeroed buffers):
//! zero blocks have zero scales, so they add exactly +0 to every lane. The integer block
//! sums are exact; the float result differs from the reference by summation order only.
//!
//! `vec_dot_n_*` share the decoded weights (and, for Q8_0 / Q4_0, their signs) of each
//! group among `N` ≤ 4 activation rows; the single-row kernels are their `N = 1`
//! instances, so a batch is bit-identical to the same rows one at a time.

use core::arch::x86_64::*;

use super::avx512::concat;
use super::{load128, load256_i8};
use crate::blocks::{as_blocks, Block};

/// The largest block handled here (Q8_1: 36 bytes), for the padding buffers.
const MAX_BLOCK_BYTES: usize = 36;

/// Calls `quad(x, y)` for each group of 4 consecutive blocks of the weight row `w` (`x`)
/// and of every activation row (`y[v]`), over the blocks the rows have in common; the
/// last 1..=3 blocks are copied into zeroed 4-block buffers first. (One call site, so
/// that `quad` is inlined: with a second one for the tail, LLVM outlined it.)
#[inline(always)]
fn for_each_quad<W: Block, A: Block, const N: usize>(
    w: &[u8],
    a: &[&[u8]; N],
    mut quad: impl FnMut(&[W; 4], [&[A; 4]; N]),
) {
    const { assert!(W::BYTES <= MAX_BLOCK_BYTES && A::BYTES <= MAX_BLOCK_BYTES) };
    let nb = a
        .iter()
        .fold(w.len() / W::BYTES, |m, a| m.min(a.len() / A::BYTES));
    let (xq, _) = as_blocks::<W>(w)[..nb].as_chunks::<4>();
    let yq = a.map(|a| as_blocks::<A>(a)[..nb].as_chunks::<4>().0);
    let done = 4 * xq.len();
    let mut xb = [0u8; 4 * MAX_BLOCK_BYTES];
    let mut yb = [[0u8; 4 * MAX_BLOCK_BYTES]; N];
    if done < nb {
        let tail = |bytes: &[u8], bb: usize, buf: &mut [u8]| {
            buf[..(nb - done) * bb].copy_from_slice(&bytes[done * bb..nb * bb]);
        };
        tail(w, W::BYTES, &mut xb);
        for (a, b) in a.iter().zip(&mut yb) {
            tail(a, A::BYTES, b);
        }
    }
    for i in 0..nb.div_ceil(4) {
        let (x, y) = match xq.get(i) {
            Some(x) => (x, yq.map(|y| &y[i])),
            None => (first_four(&xb), yb.each_ref().map(|b| first_four(b))),
        };
        quad(x, y);
    }
}

/// The first 4 blocks of a padding buffer.
#[inline(always)]
fn first_four<B: Block>(buf: &[u8; 4 * MAX_BLOCK_BYTES]) -> &[B; 4] {
    &as_blocks::<B>(buf).as_chunks().0[0]
}

/// Two 32-byte quant arrays as one register (`a` low, `b` high).
#[inline]
#[target_feature(enable = "avx512f,avx2")]
fn pair_i8(a: &[i8; 32], b: &[i8; 32]) -> __m512i {
    concat(load256_i8(a), load256_i8(b))
}

/// The 64 nibbles of two 16-byte arrays in element order: per 128-bit lane
/// [lo(a) | hi(a) | lo(b) | hi(b)] (element j < 16 of a block is the low nibble of
/// `qs[j]`, element 16 + j the high one).
#[inline]
#[target_feature(enable = "avx512f,avx512bw,avx2")]
fn nibble_pair(a: &[u8; 16], b: &[u8; 16]) -> __m512i {
    let ab = _mm512_castsi256_si512(_mm256_set_m128i(load128(b), load128(a)));
    // 128-bit lanes [a, a, b, b]; i16 lanes 8..16 and 24..32 (lanes 1 and 3) shifted.
    let v = _mm512_shuffle_i64x2::<0b01_01_00_00>(ab, ab);
    let v = _mm512_mask_srli_epi16::<4>(v, 0xFF00_FF00, v);
    _mm512_and_si512(v, _mm512_set1_epi8(0x0F))
}

/// The f32 lanes `2h`, `2h + 1` of `d` (the `dx·dy` of blocks 2h, 2h + 1) in the low
/// and high half.
#[inline]
#[target_feature(enable = "avx512f")]
fn spread_pair(d: __m128, h: usize) -> __m512 {
    let lo = _mm512_set1_epi32(2 * h as i32);
    let idx = _mm512_mask_blend_epi32(0xFF00, lo, _mm512_set1_epi32(2 * h as i32 + 1));
    _mm512_permutexvar_ps(idx, _mm512_castps128_ps512(d))
}

macro_rules! legacy_kernels {
    ($feat:literal, $dot4:ident) => {
        use core::arch::x86_64::*;

        use super::super::avx512::{f16x4, negate_where, $dot4};
        use super::{for_each_quad, nibble_pair, pair_i8, spread_pair};
        use crate::blocks::legacy::{BlockQ4_0, BlockQ4_1};
        use crate::blocks::q8::{BlockQ8_0, BlockQ8_1};
        use crate::blocks::Block;

        /// Q8_0 / Q4_0 × `N` Q8_0 rows: `pair(x0, x1)` gives the signed values (−127..=127)
        /// of two weight blocks as one register, `d` a block's f16 scale.
        #[inline]
        #[target_feature(enable = $feat)]
        fn dot_n_signed<W: Block, const N: usize>(
            w: &[u8],
            a: &[&[u8]; N],
            out: &mut [f32; N],
            pair: impl Fn(&W, &W) -> __m512i,
            d: impl Fn(&W) -> [u8; 2],
        ) {
            let zero = _mm512_setzero_si512();
            let mut acc = [[_mm512_setzero_ps(); 2]; N];
            for_each_quad::<W, BlockQ8_0, N>(w, a, |x, y| {
                let xv = [pair(&x[0], &x[1]), pair(&x[2], &x[3])];
                let neg = [_mm512_movepi8_mask(xv[0]), _mm512_movepi8_mask(xv[1])];
                let ux = [_mm512_abs_epi8(xv[0]), _mm512_abs_epi8(xv[1])];
                let dx = f16x4([d(&x[0]), d(&x[1]), d(&x[2]), d(&x[3])]);
                for v in 0..N {
                    let yb = y[v];
                    let dd = _mm_mul_ps(dx, f16x4([yb[0].d, yb[1].d, yb[2].d, yb[3].d]));
                    for h in 0..2 {
                        let yv = pair_i8(&yb[2 * h].qs, &yb[2 * h + 1].qs);
                        let s = $dot4(zero, ux[h], negate_where(yv, neg[h]));
                        let dh = spread_pair(dd, h);
                        acc[v][h] = _mm512_fmadd_ps(dh, _mm512_cvtepi32_ps(s), acc[v][h]);
                    }
                }
            });
            for v in 0..N {
                out[v] = _mm512_reduce_add_ps(_mm512_add_ps(acc[v][0], acc[v][1]));
            }
        }

        /// Q8_0 × `N` Q8_0 rows.
        #[inline]
        #[target_feature(enable = $feat)]
        pub(in super::super) fn vec_dot_n_q8_0<const N: usize>(
            w: &[u8],
            a: &[&[u8]; N],
            out: &mut [f32; N],
        ) {
            let pair = |x0: &BlockQ8_0, x1: &BlockQ8_0| pair_i8(&x0.qs, &x1.qs);
            dot_n_signed::<BlockQ8_0, N>(w, a, out, pair, |x| x.d);
        }

        /// Q8_0 × Q8_0: the one-row instance of [`vec_dot_n_q8_0`].
        #[target_feature(enable = $feat)]
        pub(in super::super) fn vec_dot_q8_0(w: &[u8], a: &[u8]) -> f32 {
            let mut out = [0.0];
            vec_dot_n_q8_0::<1>(w, &[a], &mut out);
            out[0]
        }

        /// Q4_0 × `N` Q8_0 rows.
        #[inline]
        #[target_feature(enable = $feat)]
        pub(in super::super) fn vec_dot_n_q4_0<const N: usize>(
            w: &[u8],
            a: &[&[u8]; N],
            out: &mut [f32; N],
        ) {
            let eight = _mm512_set1_epi8(8);
            let pair = |x0: &BlockQ4_0, x1: &BlockQ4_0| {
                _mm512_sub_epi8(nibble_pair(&x0.qs, &x1.qs), eight)
            };
            dot_n_signed::<BlockQ4_0, N>(w, a, out, pair, |x| x.d);
        }

        /// Q4_0 × Q8_0: the one-row instance of [`vec_dot_n_q4_0`].
        #[target_feature(enable = $feat)]
        pub(in super::super) fn vec_dot_q4_0(w: &[u8], a: &[u8]) -> f32 {
            let mut out = [0.0];
            vec_dot_n_q4_0::<1>(w, &[a], &mut out);
            out[0]
        }

        /// Q4_1 × `N` Q8_1 rows. The f16 pairs (d, m) of a weight block and (d, s) of an
        /// activation block are adjacent, so one `vcvtph2ps` per side widens those of four
        /// blocks and one multiply gives every `dx·dy` (even lanes) and `mx·sy` (odd
        /// lanes); the latter are summed in 8 lanes per row and added at the end.
        #[inline]
        #[target_feature(enable = $feat)]
        pub(in super::super) fn vec_dot_n_q4_1<const N: usize>(
            w: &[u8],
            a: &[&[u8]; N],
            out: &mut [f32; N],
        ) {
            let zero = _mm512_setzero_si512();
            let halves = |h: [[u8; 2]; 8]| {
                let w = |k: usize| i32::from_le_bytes([h[k][0], h[k][1], h[k + 1][0], h[k + 1][1]]);
                _mm256_cvtph_ps(_mm_setr_epi32(w(0), w(2), w(4), w(6)))
            };
            let mut acc = [[_mm512_setzero_ps(); 2]; N];
            let mut mins = [_mm256_setzero_ps(); N];
            for_each_quad::<BlockQ4_1, BlockQ8_1, N>(w, a, |x, y| {
                let q = [
                    nibble_pair(&x[0].qs, &x[1].qs),
                    nibble_pair(&x[2].qs, &x[3].qs),
                ];
                let xdm = halves([
                    x[0].d, x[0].m, x[1].d, x[1].m, x[2].d, x[2].m, x[3].d, x[3].m,
                ]);
                for v in 0..N {
                    let yb = y[v];
                    let yds = halves([
                        yb[0].d, yb[0].s, yb[1].d, yb[1].s, yb[2].d, yb[2].s, yb[3].d, yb[3].s,
                    ]);
                    // [dx0·dy0, mx0·sy0, dx1·dy1, mx1·sy1, …]
                    let p = _mm256_mul_ps(xdm, yds);
                    mins[v] = _mm256_add_ps(mins[v], p);
                    let p = _mm512_castps256_ps512(p);
                    for h in 0..2 {
                        let s = $dot4(zero, q[h], pair_i8(&yb[2 * h].qs, &yb[2 * h + 1].qs));
                        // Lanes 4h and 4h + 2: dx·dy of blocks 2h and 2h + 1.
                        let lo = _mm512_set1_epi32(4 * h as i32);
                        let idx = _mm512_mask_blend_epi32(
                            0xFF00,
                            lo,
                            _mm512_set1_epi32(4 * h as i32 + 2),
                        );
                        let dh = _mm512_permutexvar_ps(idx, p);
                        acc[v][h] = _mm512_fmadd_ps(dh, _mm512_cvtepi32_ps(s), acc[v][h]);
                    }
                }
            });
            for v in 0..N {
                let m = _mm512_mask_reduce_add_ps(0xAA, _mm512_zextps256_ps512(mins[v]));
                out[v] = _mm512_reduce_add_ps(_mm512_add_ps(acc[v][0], acc[v][1])) + m;
            }
        }

        /// Q4_1 × Q8_1: the one-row instance of [`vec_dot_n_q4_1`].
        #[target_feature(enable = $feat)]
        pub(in super::super) fn vec_dot_q4_1(w: &[u8], a: &[u8]) -> f32 {
            let mut out = [0.0];
            vec_dot_n_q4_1::<1>(w, &[a], &mut out);
            out[0]
        }
    };
}

pub(super) mod plain {
    legacy_kernels!("avx512f,avx512bw,avx512vl,avx2,fma,f16c", dot4_plain);
}

pub(super) mod vnni {
    legacy_kernels!(
        "avx512f,avx512bw,avx512vl,avx2,fma,f16c,avx512vnni",
        dot4_vnni
    );
}
