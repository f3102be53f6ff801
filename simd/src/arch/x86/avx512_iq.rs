//! AVX-512 dots of the codebook formats against Q8_K: IQ1_S, IQ1_M, IQ2_XXS, for one or
//! several activation rows. These are the routed-expert formats of the DeepSeek-R1
//! "1.58-bit" and "2-bit" releases, so their speed is decode speed.
//!
//! Scalar references: [`crate::blocks::iq1`], [`crate::blocks::iq2`]. The algorithms and
//! the lookup plans (prepared two blocks ahead in a four-slot ring, see `avx2_iq1` and
//! `avx2_iq2xxs` for why) are those of the AVX2 kernels; a 512-bit register takes two
//! sub-blocks (ib = 2p in the low half, 2p + 1 in the high half: 8 grid rows joined by
//! `movsd` / `movhps` and one 256-bit insert) and meets 64 consecutive activations:
//! ```text
//! IQ1_S:   T = Σ_ib 8·ls·Σ (grid+1)·y + Σ_ib ls·(σ−8)·Y_ib     (IQ1S_GRID_U rows)
//! IQ1_M:   T = Σ_ib Σ_h ls_h·Σ (8·grid+σ_g+9)·y − 9·Σ_ib Σ_h ls_h·Y_h  (IQ1M_W8U rows)
//! IQ2_XXS: B = Σ_ib ls·Σ_g Σ_j grid·(±y): the 64 sign bits of a sub-block pair are one
//!          opmask (the plan's sign bytes), y negated under it with one masked subtract
//! acc (16 × f32) += (dx·dy)·T;   result = Σ acc / 8
//! ```
//! The per-sub-block scales multiply `maddubs` pair sums with `dot2` (`madd` + add, or
//! `vpdpwssd` with VNNI); the shift terms of IQ1_S / IQ1_M start the block sum (one
//! `madd` of the bsums, lanes 0..8). `T` and `B` are exact integers in every lane; the
//! float result differs from the reference by summation order only, like the AVX2
//! kernels (a per-block horizontal sum, as the bit-identical scalar order needs, cost
//! the AVX2 kernels 15%).
//!
//! `vec_dot_n_*` make each block's plan, rows, signs and scales once and apply them to
//! `N` ≤ 4 activation rows (per row and sub-block pair: one load, `maddubs`, `dot2`, and
//! for IQ2_XXS the masked negation); the single-row kernels are their `N = 1` instances,
//! so a batch is bit-identical to the same rows one at a time.

macro_rules! iq_kernels {
    ($feat:literal, $dot2:ident) => {
        use core::arch::x86_64::*;

        use super::super::avx2_iq1::{
            iq1m_d_bits, iq1m_shift_scales, iq1s_shift_scales, Iq1mPlan, Iq1sPlan, AHEAD, SLOTS,
        };
        use super::super::avx2_iq2xxs::{join_rows, Iq2xxsPlan};
        use super::super::avx512::{concat, halves_i32, load512_i8, negate_where, $dot2};
        use super::super::{f16c, load256};
        use crate::blocks::common_blocks;
        use crate::blocks::iq1::{BlockIQ1M, BlockIQ1S};
        use crate::blocks::iq2::BlockIQ2XXS;
        use crate::blocks::q8::BlockQ8K;
        use crate::tables::IQ2XXS_GRID;

        // The ring logic below reuses the AVX2 constants for both plan types.
        const _: () = assert!(AHEAD < SLOTS && SLOTS.is_power_of_two());
        const _: () = assert!(
            super::super::avx2_iq2xxs::AHEAD == AHEAD && super::super::avx2_iq2xxs::SLOTS == SLOTS
        );

        /// IQ1_S × `N` Q8_K rows.
        #[inline]
        #[target_feature(enable = $feat)]
        pub(in super::super) fn vec_dot_n_iq1_s<const N: usize>(
            w: &[u8],
            a: &[&[u8]; N],
            out: &mut [f32; N],
        ) {
            let (xs, ys) = common_blocks::<BlockIQ1S, BlockQ8K, N>(w, a);
            let mut ring = [Iq1sPlan::ZERO; SLOTS];
            for (slot, x) in ring.iter_mut().zip(xs).take(AHEAD) {
                *slot = Iq1sPlan::new(x);
            }
            let mut acc = [_mm512_setzero_ps(); N];
            for (i, x) in xs.iter().enumerate() {
                if let Some(ahead) = xs.get(i + AHEAD) {
                    ring[(i + AHEAD) % SLOTS] = Iq1sPlan::new(ahead);
                }
                let plan = &ring[i % SLOTS];
                let y = ys.map(|y| &y[i]);
                let shift = iq1s_shift_scales(x);
                let mut sumi = [_mm512_setzero_si512(); N];
                for v in 0..N {
                    sumi[v] =
                        _mm512_zextsi256_si512(_mm256_madd_epi16(load256(&y[v].bsums), shift));
                }
                for p in 0..4 {
                    let q = concat(plan.rows(2 * p), plan.rows(2 * p + 1));
                    let sc = halves_i32(plan.scales[2 * p], plan.scales[2 * p + 1]);
                    for v in 0..N {
                        let yv = load512_i8(&y[v].qs[64 * p..]);
                        sumi[v] = $dot2(sumi[v], _mm512_maddubs_epi16(q, yv), sc);
                    }
                }
                let dx = f16c(x.d);
                for v in 0..N {
                    let d = _mm512_set1_ps(dx * y[v].d());
                    acc[v] = _mm512_fmadd_ps(d, _mm512_cvtepi32_ps(sumi[v]), acc[v]);
                }
            }
            for v in 0..N {
                out[v] = 0.125 * _mm512_reduce_add_ps(acc[v]);
            }
        }

        /// IQ1_S × Q8_K: the one-row instance of [`vec_dot_n_iq1_s`].
        #[target_feature(enable = $feat)]
        pub(in super::super) fn vec_dot_iq1_s(w: &[u8], a: &[u8]) -> f32 {
            let mut out = [0.0];
            vec_dot_n_iq1_s::<1>(w, &[a], &mut out);
            out[0]
        }

        /// IQ1_M × `N` Q8_K rows.
        #[inline]
        #[target_feature(enable = $feat)]
        pub(in super::super) fn vec_dot_n_iq1_m<const N: usize>(
            w: &[u8],
            a: &[&[u8]; N],
            out: &mut [f32; N],
        ) {
            let (xs, ys) = common_blocks::<BlockIQ1M, BlockQ8K, N>(w, a);
            let mut ring = [Iq1mPlan::ZERO; SLOTS];
            for (slot, x) in ring.iter_mut().zip(xs).take(AHEAD) {
                *slot = Iq1mPlan::new(x);
            }
            let mut acc = [_mm512_setzero_ps(); N];
            for (i, x) in xs.iter().enumerate() {
                if let Some(ahead) = xs.get(i + AHEAD) {
                    ring[(i + AHEAD) % SLOTS] = Iq1mPlan::new(ahead);
                }
                let plan = &ring[i % SLOTS];
                let y = ys.map(|y| &y[i]);
                let shift = iq1m_shift_scales(x);
                let mut sumi = [_mm512_setzero_si512(); N];
                for v in 0..N {
                    sumi[v] =
                        _mm512_zextsi256_si512(_mm256_madd_epi16(load256(&y[v].bsums), shift));
                }
                for p in 0..4 {
                    let q = concat(plan.rows(2 * p), plan.rows(2 * p + 1));
                    let sc = concat(plan.scales(2 * p), plan.scales(2 * p + 1));
                    for v in 0..N {
                        let yv = load512_i8(&y[v].qs[64 * p..]);
                        sumi[v] = $dot2(sumi[v], _mm512_maddubs_epi16(q, yv), sc);
                    }
                }
                let dx = f16c(iq1m_d_bits(x));
                for v in 0..N {
                    let d = _mm512_set1_ps(dx * y[v].d());
                    acc[v] = _mm512_fmadd_ps(d, _mm512_cvtepi32_ps(sumi[v]), acc[v]);
                }
            }
            for v in 0..N {
                out[v] = 0.125 * _mm512_reduce_add_ps(acc[v]);
            }
        }

        /// IQ1_M × Q8_K: the one-row instance of [`vec_dot_n_iq1_m`].
        #[target_feature(enable = $feat)]
        pub(in super::super) fn vec_dot_iq1_m(w: &[u8], a: &[u8]) -> f32 {
            let mut out = [0.0];
            vec_dot_n_iq1_m::<1>(w, &[a], &mut out);
            out[0]
        }

        /// IQ2_XXS × `N` Q8_K rows. Plan entry `2ib + 1` holds sub-block ib's sign bytes
        /// (byte g, bit j: element 8g + j negative) and `ls` in both i16 halves.
        #[inline]
        #[target_feature(enable = $feat)]
        pub(in super::super) fn vec_dot_n_iq2_xxs<const N: usize>(
            w: &[u8],
            a: &[&[u8]; N],
            out: &mut [f32; N],
        ) {
            let (xs, ys) = common_blocks::<BlockIQ2XXS, BlockQ8K, N>(w, a);
            let mut ring = [Iq2xxsPlan::ZERO; SLOTS];
            for (slot, x) in ring.iter_mut().zip(xs).take(AHEAD) {
                *slot = Iq2xxsPlan::new(x);
            }
            let mut acc = [_mm512_setzero_ps(); N];
            for (i, x) in xs.iter().enumerate() {
                if let Some(ahead) = xs.get(i + AHEAD) {
                    ring[(i + AHEAD) % SLOTS] = Iq2xxsPlan::new(ahead);
                }
                let plan = &ring[i % SLOTS];
                let y = ys.map(|y| &y[i]);
                let mut sumi = [_mm512_setzero_si512(); N];
                for p in 0..4 {
                    let rows = |ib: usize| {
                        let grid = |g: usize| &IQ2XXS_GRID[usize::from(x.qs[8 * ib + g])];
                        join_rows([grid(0), grid(1), grid(2), grid(3)])
                    };
                    let q = concat(rows(2 * p), rows(2 * p + 1));
                    let (lo, hi) = (4 * p + 1, 4 * p + 3);
                    let neg =
                        _cvtu64_mask64(u64::from(plan.signs[lo]) | u64::from(plan.signs[hi]) << 32);
                    let sc = halves_i32(plan.scales[lo], plan.scales[hi]);
                    for v in 0..N {
                        let yv = negate_where(load512_i8(&y[v].qs[64 * p..]), neg);
                        sumi[v] = $dot2(sumi[v], _mm512_maddubs_epi16(q, yv), sc);
                    }
                }
                let dx = f16c(x.d);
                for v in 0..N {
                    let d = _mm512_set1_ps(dx * y[v].d());
                    acc[v] = _mm512_fmadd_ps(d, _mm512_cvtepi32_ps(sumi[v]), acc[v]);
                }
            }
            for v in 0..N {
                out[v] = 0.125 * _mm512_reduce_add_ps(acc[v]);
            }
        }

        /// IQ2_XXS × Q8_K: the one-row instance of [`vec_dot_n_iq2_xxs`].
        #[target_feature(enable = $feat)]
        pub(in super::super) fn vec_dot_iq2_xxs(w: &[u8], a: &[u8]) -> f32 {
            let mut out = [0.0];
            vec_dot_n_iq2_xxs::<1>(w, &[a], &mut out);
            out[0]
        }
    };
}

pub(super) mod plain {
    iq_kernels!("avx512f,avx512bw,avx512vl,avx2,fma,f16c", dot2_plain);
}

pub(super) mod vnni {
    iq_kernels!(
        "avx512f,avx512bw,avx512vl,avx2,fma,f16c,avx512vnni",
        dot2_vnni
    );
}
