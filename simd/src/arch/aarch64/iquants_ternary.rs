//! NEON bodies of the IQ1_S, IQ1_M, IQ2_XXS, IQ2_XS, IQ2_S, IQ3_XXS, IQ3_S, TQ1_0 and
//! TQ2_0 dots, as a macro
//! instantiated once per int8 dot primitive (`$dot`) and target-feature set.
//!
//! Scalar references: [`crate::blocks::iq1`], [`crate::blocks::iq2`],
//! [`crate::blocks::ternary`]. Grid rows (8 bytes) are paired into 16-byte registers
//! with `vcombine`; signs are applied to the weights as `(q ^ m) − m` with KSIGNS64
//! masks; ternary trits are unpacked to t − 1 ∈ {−1, 0, 1}:
//! ```text
//! IQ1_S:   A = Σ ls·Σ grid·y,  D = Σ ls·σ·bsums            acc += dx·dy·(A + D/8)
//! IQ1_M:   A as IQ1_S with ls1 (groups 0,1) | ls2 (2,3);  D = Σ ls·Σ σ_g·y
//!          T = 8·A + D = Σ ls·Σ (8·grid + σ_g)·y           acc += dx·dy·(T/8)
//! IQ2_XXS: B = Σ ls·Σ (±grid)·y                           acc += dx·dy·B; × 1/8
//! IQ2_XS, IQ2_S (ls per 16 elements), IQ3_XXS (× 1/4), IQ3_S (× 1): as IQ2_XXS
//! TQ2_0:   t = (qs >> 2l) & 3;   TQ1_0: x = q·3^n (mod 256), t = (x + x>>1)/2 >> 6
//!          S = Σ (t−1)·y                                  acc += S·(dx·dy)
//! ```
//! The TQ1_0 digit uses `vhadd(x, x >> 1) >> 6` = ⌊(x + ⌊x/2⌋)/128⌋ = ⌊3x/256⌋.
//! Each block is reduced to the reference's integers and combined with its float
//! expression (IQ1_M: T/8, exactly the reference's A + D/8 since |T| < 2^24): results
//! are bit-identical to the scalar references.
//!
//! IQ1_S, IQ1_M and IQ2_XXS have fused kernels for `N` ≤ 4 activation rows
//! (`vec_dot_n_*`, see the parent module): the grid lookups, sign masks and scales of a
//! sub-block, the bulk of the work, are made once and applied to every row, which keeps
//! its own block sums and float accumulator; per row and sub-block there remain two
//! loads, two `$dot`s and a multiply-add (IQ1_M: per half), and per block IQ1_S's
//! delta term from the bsums ([`bsum_pairs_dot`]). The single-row kernels are their
//! `N = 1` instances.

macro_rules! iquants_ternary {
    ($feat:literal, $dot:ident) => {
        use crate::blocks::iq1::{BlockIQ1M, BlockIQ1S};
        use crate::blocks::iq2::{BlockIQ2S, BlockIQ2XS, BlockIQ2XXS};
        use crate::blocks::iq3::{BlockIQ3S, BlockIQ3XXS};
        use crate::blocks::ternary::{BlockTQ1_0, BlockTQ2_0};
        use crate::tables::{IQ1S_GRID, IQ1_DELTA, IQ2XXS_GRID, KSIGNS64, SIGN_BYTE_MASKS};

        one_row!($feat, /// IQ1_S × Q8_K: the one-row instance of `vec_dot_n_iq1_s`.
            vec_dot_iq1_s = vec_dot_n_iq1_s);

        /// IQ1_S × `N` Q8_K rows (grid rows, scales and delta signs looked up once).
        #[inline]
        #[target_feature(enable = $feat)]
        pub(super) fn vec_dot_n_iq1_s<const N: usize>(
            w: &[u8],
            a: &[&[u8]; N],
            out: &mut [f32; N],
        ) {
            let (xs, ys) = common_blocks::<BlockIQ1S, BlockQ8K, N>(w, a);
            let mut acc = [0.0f32; N];
            for i in 0..xs.len() {
                let x = &xs[i];
                let y = ys.map(|y| &y[i]);
                let mut sumi = [vdupq_n_s32(0); N];
                for ib in 0..8 {
                    let g = |k: usize| IQ1S_GRID[x.index(ib, k)];
                    let (q0, q1) = (rows2(g(0), g(1)), rows2(g(2), g(3)));
                    let ls = x.ls(ib);
                    for v in 0..N {
                        let p = $dot(vdupq_n_s32(0), q0, ld_i8(&y[v].qs[32 * ib..]));
                        let p = $dot(p, q1, ld_i8(&y[v].qs[32 * ib + 16..]));
                        sumi[v] = vmlaq_n_s32(sumi[v], p, ls);
                    }
                }
                // ls·σ of each sub-block (−15..=15), the weights of its two bsums.
                let lss = widen8(core::array::from_fn(|ib| (x.ls(ib) * x.sigma(ib)) as i8));
                let dx = f16_to_f32(x.d);
                for v in 0..N {
                    let sa = vaddvq_s32(sumi[v]);
                    let sd = bsum_pairs_dot(&y[v].bsums, lss);
                    acc[v] += dx * y[v].d() * (sa as f32 + IQ1_DELTA * sd as f32);
                }
            }
            *out = acc;
        }

        // The IQ1_M kernel folds the delta into the grid weights, which relies on it.
        const _: () = assert!(IQ1_DELTA == 0.125);

        one_row!($feat, /// IQ1_M × Q8_K: the one-row instance of `vec_dot_n_iq1_m`.
            vec_dot_iq1_m = vec_dot_n_iq1_m);

        /// IQ1_M × `N` Q8_K rows (grid rows, delta-sign rows and scales made once).
        #[inline]
        #[target_feature(enable = $feat)]
        pub(super) fn vec_dot_n_iq1_m<const N: usize>(
            w: &[u8],
            a: &[&[u8]; N],
            out: &mut [f32; N],
        ) {
            let (xs, ys) = common_blocks::<BlockIQ1M, BlockQ8K, N>(w, a);
            let mut acc = [0.0f32; N];
            let sign_row = |s: i32| {
                if s < 0 {
                    u64::MAX
                } else {
                    0x0101_0101_0101_0101
                }
            };
            for i in 0..xs.len() {
                let x = &xs[i];
                let y = ys.map(|y| &y[i]);
                // T = 8·A + D in one dot per half: weights 8·grid + σ ∈ −9..=9.
                let mut t = [vdupq_n_s32(0); N];
                for ib in 0..8 {
                    let gr = [
                        x.group(ib, 0),
                        x.group(ib, 1),
                        x.group(ib, 2),
                        x.group(ib, 3),
                    ];
                    let (ls1, ls2) = x.ls(ib);
                    for (half, ls) in [(0, ls1), (1, ls2)] {
                        let (g0, g1) = (gr[2 * half], gr[2 * half + 1]);
                        let grid = rows2(IQ1S_GRID[g0.0], IQ1S_GRID[g1.0]);
                        let sigma = rows2(sign_row(g0.1), sign_row(g1.1));
                        let w8 = vaddq_s8(vshlq_n_s8::<3>(grid), sigma);
                        for v in 0..N {
                            let yv = ld_i8(&y[v].qs[32 * ib + 16 * half..]);
                            t[v] = scaled(t[v], w8, yv, ls);
                        }
                    }
                }
                let dx = x.d();
                for v in 0..N {
                    // |T| ≤ 9·15·128·256 < 2^24: `T as f32 · 1/8` is exact and equals
                    // the reference's `A as f32 + IQ1_DELTA · D as f32` (exact as well).
                    let t = vaddvq_s32(t[v]) as f32 * IQ1_DELTA;
                    acc[v] += dx * y[v].d() * t;
                }
            }
            *out = acc;
        }

        one_row!($feat, /// IQ2_XXS × Q8_K: the one-row instance of `vec_dot_n_iq2_xxs`.
            vec_dot_iq2_xxs = vec_dot_n_iq2_xxs);

        /// IQ2_XXS × `N` Q8_K rows (signed grid rows and scales made once).
        #[inline]
        #[target_feature(enable = $feat)]
        pub(super) fn vec_dot_n_iq2_xxs<const N: usize>(
            w: &[u8],
            a: &[&[u8]; N],
            out: &mut [f32; N],
        ) {
            let (xs, ys) = common_blocks::<BlockIQ2XXS, BlockQ8K, N>(w, a);
            let mut acc = [0.0f32; N];
            for i in 0..xs.len() {
                let x = &xs[i];
                let y = ys.map(|y| &y[i]);
                let mut sumi = [vdupq_n_s32(0); N];
                for ib in 0..8 {
                    let (a0, a1) = x.words(ib);
                    let grid = |g: usize| IQ2XXS_GRID[((a0 >> (8 * g)) & 0xFF) as usize];
                    let mask = |g: usize| KSIGNS64[((a1 >> (7 * g)) & 127) as usize];
                    // A loop, not `map` with a closure: the closure was not inlined into
                    // the `dotprod` instances (it is compiled without their features).
                    let mut qs = [vdupq_n_s8(0); 2];
                    for (half, qs) in qs.iter_mut().enumerate() {
                        let q = rows2(grid(2 * half), grid(2 * half + 1));
                        let m = rows2(mask(2 * half), mask(2 * half + 1));
                        *qs = vsubq_s8(veorq_s8(q, m), m);
                    }
                    let ls = 2 * (a1 >> 28) as i32 + 1;
                    for v in 0..N {
                        let p = $dot(vdupq_n_s32(0), qs[0], ld_i8(&y[v].qs[32 * ib..]));
                        let p = $dot(p, qs[1], ld_i8(&y[v].qs[32 * ib + 16..]));
                        sumi[v] = vmlaq_n_s32(sumi[v], p, ls);
                    }
                }
                let dx = f16_to_f32(x.d);
                for v in 0..N {
                    acc[v] += dx * y[v].d() * vaddvq_s32(sumi[v]) as f32;
                }
            }
            for v in 0..N {
                out[v] = 0.125 * acc[v];
            }
        }

        /// TQ2_0 × Q8_K.
        #[target_feature(enable = $feat)]
        pub(super) fn vec_dot_tq2_0(w: &[u8], a: &[u8]) -> f32 {
            let mut acc = 0.0f32;
            let one = vdupq_n_s8(1);
            for (x, y) in as_blocks::<BlockTQ2_0>(w)
                .iter()
                .zip(as_blocks::<BlockQ8K>(a))
            {
                let mut s = vdupq_n_s32(0);
                for c in 0..2 {
                    for t in 0..2 {
                        let q = ld_u8(&x.qs[32 * c + 16 * t..]);
                        for l in 0..4 {
                            let v = vsubq_s8(s8(shr_mask(q, 2 * l as u32, 3)), one);
                            s = $dot(s, v, ld_i8(&y.qs[128 * c + 32 * l + 16 * t..]));
                        }
                    }
                }
                acc += vaddvq_s32(s) as f32 * (f16_to_f32(x.d) * y.d());
            }
            acc
        }

        /// Per byte: t − 1 where t = ⌊3·(q·pow mod 256)/256⌋.
        #[inline]
        #[target_feature(enable = $feat)]
        fn trits_m1(q: uint8x16_t, pow: uint8x16_t) -> int8x16_t {
            let x = vmulq_u8(q, pow);
            let t = vshrq_n_u8::<6>(vhaddq_u8(x, vshrq_n_u8::<1>(x)));
            vsubq_s8(s8(t), vdupq_n_s8(1))
        }

        /// TQ1_0 × Q8_K.
        #[target_feature(enable = $feat)]
        pub(super) fn vec_dot_tq1_0(w: &[u8], a: &[u8]) -> f32 {
            let mut acc = 0.0f32;
            let qh_pow = [1u8, 1, 1, 1, 3, 3, 3, 3, 9, 9, 9, 9, 27, 27, 27, 27];
            let qh_pow = ld_u8(&qh_pow);
            for (x, y) in as_blocks::<BlockTQ1_0>(w)
                .iter()
                .zip(as_blocks::<BlockQ8K>(a))
            {
                let mut s = vdupq_n_s32(0);
                let head = [ld_u8(&x.qs), ld_u8(&x.qs[16..])];
                let tail = ld_u8(&x.qs[32..]);
                for (n, p) in [1u8, 3, 9, 27, 81].into_iter().enumerate() {
                    let p = vdupq_n_u8(p);
                    s = $dot(s, trits_m1(head[0], p), ld_i8(&y.qs[32 * n..]));
                    s = $dot(s, trits_m1(head[1], p), ld_i8(&y.qs[32 * n + 16..]));
                    s = $dot(s, trits_m1(tail, p), ld_i8(&y.qs[160 + 16 * n..]));
                }
                let qh = vreinterpretq_u8_u32(vdupq_n_u32(u32::from_le_bytes(x.qh)));
                s = $dot(s, trits_m1(qh, qh_pow), ld_i8(&y.qs[240..]));
                acc += vaddvq_s32(s) as f32 * (f16_to_f32(x.d) * y.d());
            }
            acc
        }
        /// `B = Σ_ib ls·Σ grid·sign·y` of one super-block; `group(ib, g)` gives (row,
        /// 8-bit sign byte, s) as the scalar accessors do; with `per_half` groups 2, 3
        /// use their own `s` (IQ2_XS, IQ2_S).
        #[inline]
        #[target_feature(enable = $feat)]
        fn block_sum_signed(
            y: &BlockQ8K,
            group: impl Fn(usize, usize) -> (u64, u8, u32),
            per_half: bool,
        ) -> i32 {
            let mut sumi = vdupq_n_s32(0);
            for ib in 0..8 {
                let g = [group(ib, 0), group(ib, 1), group(ib, 2), group(ib, 3)];
                for half in 0..2 {
                    let (g0, g1) = (g[2 * half], g[2 * half + 1]);
                    let q = rows2(g0.0, g1.0);
                    let m = rows2(
                        SIGN_BYTE_MASKS[g0.1 as usize],
                        SIGN_BYTE_MASKS[g1.1 as usize],
                    );
                    let qs = vsubq_s8(veorq_s8(q, m), m);
                    let s = if per_half { g0.2 } else { g[0].2 };
                    sumi = scaled(
                        sumi,
                        qs,
                        ld_i8(&y.qs[32 * ib + 16 * half..]),
                        2 * s as i32 + 1,
                    );
                }
            }
            vaddvq_s32(sumi)
        }

        /// IQ2_XS × Q8_K.
        #[target_feature(enable = $feat)]
        pub(super) fn vec_dot_iq2_xs(w: &[u8], a: &[u8]) -> f32 {
            let mut acc = 0.0f32;
            for (x, y) in as_blocks::<BlockIQ2XS>(w)
                .iter()
                .zip(as_blocks::<BlockQ8K>(a))
            {
                let b = block_sum_signed(y, |ib, g| x.group(ib, g), true);
                acc += f16_to_f32(x.d) * y.d() * b as f32;
            }
            0.125 * acc
        }

        /// IQ2_S × Q8_K.
        #[target_feature(enable = $feat)]
        pub(super) fn vec_dot_iq2_s(w: &[u8], a: &[u8]) -> f32 {
            let mut acc = 0.0f32;
            for (x, y) in as_blocks::<BlockIQ2S>(w)
                .iter()
                .zip(as_blocks::<BlockQ8K>(a))
            {
                let b = block_sum_signed(y, |ib, g| x.group(ib, g), true);
                acc += f16_to_f32(x.d) * y.d() * b as f32;
            }
            0.125 * acc
        }

        /// IQ3_XXS × Q8_K.
        #[target_feature(enable = $feat)]
        pub(super) fn vec_dot_iq3_xxs(w: &[u8], a: &[u8]) -> f32 {
            let mut acc = 0.0f32;
            for (x, y) in as_blocks::<BlockIQ3XXS>(w)
                .iter()
                .zip(as_blocks::<BlockQ8K>(a))
            {
                let b = block_sum_signed(y, |ib, g| x.group(ib, g), false);
                acc += f16_to_f32(x.d) * y.d() * b as f32;
            }
            0.25 * acc
        }

        /// IQ3_S × Q8_K.
        #[target_feature(enable = $feat)]
        pub(super) fn vec_dot_iq3_s(w: &[u8], a: &[u8]) -> f32 {
            let mut acc = 0.0f32;
            for (x, y) in as_blocks::<BlockIQ3S>(w)
                .iter()
                .zip(as_blocks::<BlockQ8K>(a))
            {
                let b = block_sum_signed(y, |ib, g| x.group(ib, g), false);
                acc += f16_to_f32(x.d) * y.d() * b as f32;
            }
            acc
        }
    };
}
