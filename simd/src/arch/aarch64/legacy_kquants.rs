//! NEON bodies of the Q8_0, Q4_0, Q4_1, Q5_0, Q5_1, IQ4_NL, IQ4_XS and K-quant dots, as
//! a macro instantiated once
//! per int8 dot primitive (`$dot`, see the parent module) and target-feature set.
//!
//! Scalar references: [`crate::blocks::q8`], [`crate::blocks::legacy`],
//! [`crate::blocks::kquants`]. Weights are unpacked to signed bytes, 16 per register,
//! so every register carries one sub-block scale (K-quant scales cover 16 or 32
//! elements):
//! ```text
//! Q8_0 / Q4_0 (q−8) / Q4_1 (q):  S = Σ x·y;          acc4 += (dx·dy)·S_lanes (+ m·s_y)
//! Q5_0 / Q5_1: as Q4 with qh bits spread to bytes (table lookup + bit test)
//! IQ4_NL / IQ4_XS: KV[q] by `tbl`; IQ4_XS: I = Σ (ls−32)·S_ib, acc += dx·dy·I
//! Q2_K: I = Σ sc·Σ q·y, M = Σ m·bsums;               acc += (dy·d)·I − (dy·dmin)·M
//! Q3_K: q = low2 − 4·(1−hbit);  Q6_K: q = (ql | qh<<4) − 32;   I = Σ sc·Σ q·y
//! Q4_K / Q5_K: I = Σ sc·Σ q·y;  acc4 += (d·dy)·I_lanes, acc −= (dmin·dy)·Σ m·bsums
//! ```
//! Q2_K repeats the reference float expression per block (bit-identical); the others
//! accumulate in 4 float lanes (summation order differs).
//!
//! Q8_0, Q4_0, Q4_1, Q4_K, Q5_K and Q6_K have fused kernels for `N` ≤ 4 activation rows
//! (`vec_dot_n_*`, see the parent module): the unpacked signed codes, scales and mins of
//! a block are made once, and per row and 16 elements there remain one load and one
//! `$dot` (and for the K-quants a multiply-add by the scale of each 16 or 32 elements);
//! each row keeps its own i32 block sum, 4 float lanes and min sum. The single-row kernels are their `N = 1`
//! instances. Their f16 scales are widened by FCVT ([`f16_fcvt`]): per 32 elements
//! and row the software widening was as many instructions as the dot itself.

macro_rules! legacy_kquants {
    ($feat:literal, $dot:ident) => {
        use crate::blocks::iq4::{BlockIQ4NL, BlockIQ4XS};
        use crate::blocks::kquants::{q2k_min_sum, q3k_scales, scales_mins_k4};
        use crate::blocks::kquants::{BlockQ2K, BlockQ3K, BlockQ4K, BlockQ5K, BlockQ6K};
        use crate::blocks::legacy::{BlockQ4_0, BlockQ4_1, BlockQ5_0, BlockQ5_1};
        use crate::blocks::q8::{BlockQ8K, BlockQ8_0, BlockQ8_1};
        use crate::blocks::{as_blocks, f16_to_f32};
        use crate::tables::KVALUES_IQ4NL;

        /// Low and high nibbles of 16 bytes (elements 0..16 and 16..32).
        #[inline]
        #[target_feature(enable = $feat)]
        fn nibbles(q: uint8x16_t) -> (uint8x16_t, uint8x16_t) {
            (vandq_u8(q, vdupq_n_u8(0x0F)), vshrq_n_u8::<4>(q))
        }

        /// `(v >> n) & mask` per byte, `n` in 0..8.
        #[inline]
        #[target_feature(enable = $feat)]
        fn shr_mask(v: uint8x16_t, n: u32, mask: u8) -> uint8x16_t {
            vandq_u8(vshlq_u8(v, vdupq_n_s8(-(n as i8))), vdupq_n_u8(mask))
        }

        /// `value` in every byte whose bit `bit` is set in `v`, else 0.
        #[inline]
        #[target_feature(enable = $feat)]
        fn bit_to(v: uint8x16_t, bit: u32, value: u8) -> uint8x16_t {
            vandq_u8(vtstq_u8(v, vdupq_n_u8(1u8 << bit)), vdupq_n_u8(value))
        }

        /// `acc + scale · Σ a·b`.
        #[inline]
        #[target_feature(enable = $feat)]
        fn scaled(acc: int32x4_t, a: int8x16_t, b: int8x16_t, scale: i32) -> int32x4_t {
            vmlaq_n_s32(acc, $dot(vdupq_n_s32(0), a, b), scale)
        }

        /// Adds `(dx·dy)·Σ q·y` of one 32-element block with signed codes `(q0, q1)` to
        /// the 4 float lanes `acc[v]` of each row `v`, where `dy = d(y[v])` and the row's
        /// quants are `qs(y[v])`.
        #[inline]
        #[target_feature(enable = $feat)]
        fn block32_n<Y: Block, const N: usize>(
            (q0, q1): (int8x16_t, int8x16_t),
            dx: f32,
            y: [&Y; N],
            qs: impl Fn(&Y) -> &[i8; 32],
            d: impl Fn(&Y) -> f32,
            acc: &mut [float32x4_t; N],
        ) {
            for v in 0..N {
                let yq = qs(y[v]);
                let s = $dot(vdupq_n_s32(0), q0, ld_i8(yq));
                let s = $dot(s, q1, ld_i8(&yq[16..]));
                acc[v] = vfmaq_n_f32(acc[v], vcvtq_f32_s32(s), dx * d(y[v]));
            }
        }

        one_row!($feat, /// Q8_0 × Q8_0: the one-row instance of `vec_dot_n_q8_0`.
            vec_dot_q8_0 = vec_dot_n_q8_0);

        /// Q8_0 × `N` Q8_0 rows (the weight quants loaded once).
        #[inline]
        #[target_feature(enable = $feat)]
        pub(super) fn vec_dot_n_q8_0<const N: usize>(
            w: &[u8],
            a: &[&[u8]; N],
            out: &mut [f32; N],
        ) {
            let (xs, ys) = common_blocks::<BlockQ8_0, BlockQ8_0, N>(w, a);
            let mut acc = [vdupq_n_f32(0.0); N];
            for i in 0..xs.len() {
                let x = &xs[i];
                let q = (ld_i8(&x.qs), ld_i8(&x.qs[16..]));
                let y = ys.map(|y| &y[i]);
                block32_n(q, f16_fcvt(x.d), y, |y| &y.qs, |y| f16_fcvt(y.d), &mut acc);
            }
            for v in 0..N {
                out[v] = vaddvq_f32(acc[v]);
            }
        }

        one_row!($feat, /// Q4_0 × Q8_0: the one-row instance of `vec_dot_n_q4_0`.
            vec_dot_q4_0 = vec_dot_n_q4_0);

        /// Q4_0 × `N` Q8_0 rows (nibbles unpacked to q − 8 once).
        #[inline]
        #[target_feature(enable = $feat)]
        pub(super) fn vec_dot_n_q4_0<const N: usize>(
            w: &[u8],
            a: &[&[u8]; N],
            out: &mut [f32; N],
        ) {
            let (xs, ys) = common_blocks::<BlockQ4_0, BlockQ8_0, N>(w, a);
            let mut acc = [vdupq_n_f32(0.0); N];
            let eight = vdupq_n_s8(8);
            for i in 0..xs.len() {
                let x = &xs[i];
                let (lo, hi) = nibbles(ld_u8(&x.qs));
                let q = (vsubq_s8(s8(lo), eight), vsubq_s8(s8(hi), eight));
                let y = ys.map(|y| &y[i]);
                block32_n(q, f16_fcvt(x.d), y, |y| &y.qs, |y| f16_fcvt(y.d), &mut acc);
            }
            for v in 0..N {
                out[v] = vaddvq_f32(acc[v]);
            }
        }

        one_row!($feat, /// Q4_1 × Q8_1: the one-row instance of `vec_dot_n_q4_1`.
            vec_dot_q4_1 = vec_dot_n_q4_1);

        /// Q4_1 × `N` Q8_1 rows (nibbles unpacked once).
        #[inline]
        #[target_feature(enable = $feat)]
        pub(super) fn vec_dot_n_q4_1<const N: usize>(
            w: &[u8],
            a: &[&[u8]; N],
            out: &mut [f32; N],
        ) {
            let (xs, ys) = common_blocks::<BlockQ4_1, BlockQ8_1, N>(w, a);
            let mut acc = [vdupq_n_f32(0.0); N];
            let mut mins = [0.0f32; N];
            for i in 0..xs.len() {
                let x = &xs[i];
                let (lo, hi) = nibbles(ld_u8(&x.qs));
                let y = ys.map(|y| &y[i]);
                let q = (s8(lo), s8(hi));
                block32_n(q, f16_fcvt(x.d), y, |y| &y.qs, |y| f16_fcvt(y.d), &mut acc);
                let m = f16_fcvt(x.m);
                for v in 0..N {
                    mins[v] += m * f16_fcvt(y[v].s);
                }
            }
            for v in 0..N {
                out[v] = vaddvq_f32(acc[v]) + mins[v];
            }
        }

        /// Q2_K × Q8_K (bit-identical to the scalar reference).
        #[target_feature(enable = $feat)]
        pub(super) fn vec_dot_q2_k(w: &[u8], a: &[u8]) -> f32 {
            let mut acc = 0.0f32;
            for (x, y) in as_blocks::<BlockQ2K>(w)
                .iter()
                .zip(as_blocks::<BlockQ8K>(a))
            {
                let mut sumi = vdupq_n_s32(0);
                for h in 0..2 {
                    let q = [ld_u8(&x.qs[32 * h..]), ld_u8(&x.qs[32 * h + 16..])];
                    for s in 0..4 {
                        for (t, &qt) in q.iter().enumerate() {
                            let c = s8(shr_mask(qt, 2 * s as u32, 3));
                            let e = 128 * h + 32 * s + 16 * t;
                            let sc = (x.scales[e / 16] & 0xF) as i32;
                            sumi = scaled(sumi, c, ld_i8(&y.qs[e..]), sc);
                        }
                    }
                }
                let i = vaddvq_s32(sumi);
                let m = q2k_min_sum(x, y);
                let dall = y.d() * f16_to_f32(x.d);
                let dmin = y.d() * f16_to_f32(x.dmin);
                acc += dall * i as f32 - dmin * m as f32;
            }
            acc
        }

        /// Q3_K × Q8_K.
        #[target_feature(enable = $feat)]
        pub(super) fn vec_dot_q3_k(w: &[u8], a: &[u8]) -> f32 {
            let mut acc = vdupq_n_f32(0.0);
            for (x, y) in as_blocks::<BlockQ3K>(w)
                .iter()
                .zip(as_blocks::<BlockQ8K>(a))
            {
                let sc = q3k_scales(&x.scales);
                let hm = [ld_u8(&x.hmask), ld_u8(&x.hmask[16..])];
                let mut sumi = vdupq_n_s32(0);
                for h in 0..2 {
                    let q = [ld_u8(&x.qs[32 * h..]), ld_u8(&x.qs[32 * h + 16..])];
                    for s in 0..4 {
                        for t in 0..2 {
                            // u = low2 | hbit << 2 ∈ 0..7, value u − 4.
                            let u = vorrq_u8(
                                shr_mask(q[t], 2 * s as u32, 3),
                                bit_to(hm[t], (4 * h + s) as u32, 4),
                            );
                            let v = vsubq_s8(s8(u), vdupq_n_s8(4));
                            let e = 128 * h + 32 * s + 16 * t;
                            sumi = scaled(sumi, v, ld_i8(&y.qs[e..]), sc[e / 16] as i32);
                        }
                    }
                }
                acc = vfmaq_n_f32(acc, vcvtq_f32_s32(sumi), f16_to_f32(x.d) * y.d());
            }
            vaddvq_f32(acc)
        }

        /// Shared Q4_K / Q5_K body for `N` rows: `high(c, t)` gives the 5th-bit bytes (16
        /// or 0) of the (low, high) nibble registers of chunk c, half t. Adds the block's
        /// `(d·dy)·I` to the 4 lanes of `acc[v]` and its `(dmin·dy)·M` to `mins[v]`.
        /// Both 16-byte halves of a 32-element sub-block go into one `$dot` sum before
        /// its scale multiplies it, and `M` comes from [`bsum_pairs_dot`]: the same
        /// integers in the same lanes as scaling each half and summing `k4_min_sum`.
        #[inline]
        #[target_feature(enable = $feat)]
        #[allow(clippy::too_many_arguments)] // the block's fields and the two accumulators
        fn dot_n_k4_like<const N: usize>(
            (d, dmin): ([u8; 2], [u8; 2]),
            qs: &[u8; 128],
            scales: &[u8; 12],
            y: [&BlockQ8K; N],
            acc: &mut [float32x4_t; N],
            mins: &mut [f32; N],
            high: impl Fn(usize, usize) -> (uint8x16_t, uint8x16_t),
        ) {
            let sm = scales_mins_k4(scales);
            // The mins are 0..63: as i8 they keep their value.
            let m = widen8(core::array::from_fn(|j| sm[j].1 as i8));
            let mut sumi = [vdupq_n_s32(0); N];
            for c in 0..4 {
                let (slo, shi) = (sm[2 * c].0 as i32, sm[2 * c + 1].0 as i32);
                // [low nibbles, high nibbles] of halves t = 0, 1 (elements 64c + 16t..,
                // 64c + 32 + 16t..).
                let q: [[int8x16_t; 2]; 2] = core::array::from_fn(|t| {
                    let (lo, hi) = nibbles(ld_u8(&qs[32 * c + 16 * t..]));
                    let (hl, hh) = high(c, t);
                    [s8(vorrq_u8(lo, hl)), s8(vorrq_u8(hi, hh))]
                });
                let e = 64 * c;
                for v in 0..N {
                    let yq = &y[v].qs;
                    let pl = $dot(vdupq_n_s32(0), q[0][0], ld_i8(&yq[e..]));
                    let pl = $dot(pl, q[1][0], ld_i8(&yq[e + 16..]));
                    let ph = $dot(vdupq_n_s32(0), q[0][1], ld_i8(&yq[e + 32..]));
                    let ph = $dot(ph, q[1][1], ld_i8(&yq[e + 48..]));
                    sumi[v] = vmlaq_n_s32(vmlaq_n_s32(sumi[v], pl, slo), ph, shi);
                }
            }
            let (dx, mx) = (f16_to_f32(d), f16_to_f32(dmin));
            for v in 0..N {
                let dy = y[v].d();
                acc[v] = vfmaq_n_f32(acc[v], vcvtq_f32_s32(sumi[v]), dx * dy);
                mins[v] += mx * dy * bsum_pairs_dot(&y[v].bsums, m) as f32;
            }
        }

        one_row!($feat, /// Q4_K × Q8_K: the one-row instance of `vec_dot_n_q4_k`.
            vec_dot_q4_k = vec_dot_n_q4_k);

        /// Q4_K × `N` Q8_K rows.
        #[inline]
        #[target_feature(enable = $feat)]
        pub(super) fn vec_dot_n_q4_k<const N: usize>(
            w: &[u8],
            a: &[&[u8]; N],
            out: &mut [f32; N],
        ) {
            let (xs, ys) = common_blocks::<BlockQ4K, BlockQ8K, N>(w, a);
            let mut acc = [vdupq_n_f32(0.0); N];
            let mut mins = [0.0f32; N];
            let zero = vdupq_n_u8(0);
            for i in 0..xs.len() {
                let x = &xs[i];
                let y = ys.map(|y| &y[i]);
                let (acc, mins) = (&mut acc, &mut mins);
                dot_n_k4_like((x.d, x.dmin), &x.qs, &x.scales, y, acc, mins, |_, _| {
                    (zero, zero)
                });
            }
            for v in 0..N {
                out[v] = vaddvq_f32(acc[v]) - mins[v];
            }
        }

        one_row!($feat, /// Q5_K × Q8_K: the one-row instance of `vec_dot_n_q5_k`.
            vec_dot_q5_k = vec_dot_n_q5_k);

        /// Q5_K × `N` Q8_K rows.
        #[inline]
        #[target_feature(enable = $feat)]
        pub(super) fn vec_dot_n_q5_k<const N: usize>(
            w: &[u8],
            a: &[&[u8]; N],
            out: &mut [f32; N],
        ) {
            let (xs, ys) = common_blocks::<BlockQ5K, BlockQ8K, N>(w, a);
            let mut acc = [vdupq_n_f32(0.0); N];
            let mut mins = [0.0f32; N];
            for i in 0..xs.len() {
                let x = &xs[i];
                let y = ys.map(|y| &y[i]);
                let qh = [ld_u8(&x.qh), ld_u8(&x.qh[16..])];
                let (acc, mins) = (&mut acc, &mut mins);
                dot_n_k4_like((x.d, x.dmin), &x.qs, &x.scales, y, acc, mins, |c, t| {
                    (
                        bit_to(qh[t], 2 * c as u32, 16),
                        bit_to(qh[t], 2 * c as u32 + 1, 16),
                    )
                });
            }
            for v in 0..N {
                out[v] = vaddvq_f32(acc[v]) - mins[v];
            }
        }

        one_row!($feat, /// Q6_K × Q8_K: the one-row instance of `vec_dot_n_q6_k`.
            vec_dot_q6_k = vec_dot_n_q6_k);

        /// Q6_K × `N` Q8_K rows (codes unpacked to q − 32 once per block).
        #[inline]
        #[target_feature(enable = $feat)]
        pub(super) fn vec_dot_n_q6_k<const N: usize>(
            w: &[u8],
            a: &[&[u8]; N],
            out: &mut [f32; N],
        ) {
            let (xs, ys) = common_blocks::<BlockQ6K, BlockQ8K, N>(w, a);
            let mut acc = [vdupq_n_f32(0.0); N];
            let m4 = vdupq_n_u8(0x0F);
            for i in 0..xs.len() {
                let x = &xs[i];
                let y = ys.map(|y| &y[i]);
                let mut sumi = [vdupq_n_s32(0); N];
                for h in 0..2 {
                    for t in 0..2 {
                        let ql0 = ld_u8(&x.ql[64 * h + 16 * t..]);
                        let ql1 = ld_u8(&x.ql[64 * h + 32 + 16 * t..]);
                        let qh = ld_u8(&x.qh[32 * h + 16 * t..]);
                        let q = [
                            vorrq_u8(
                                vandq_u8(ql0, m4),
                                vshlq_n_u8::<4>(vandq_u8(qh, vdupq_n_u8(0x03))),
                            ),
                            vorrq_u8(
                                vandq_u8(ql1, m4),
                                vshlq_n_u8::<2>(vandq_u8(qh, vdupq_n_u8(0x0C))),
                            ),
                            vorrq_u8(vshrq_n_u8::<4>(ql0), vandq_u8(qh, vdupq_n_u8(0x30))),
                            vorrq_u8(vshrq_n_u8::<4>(ql1), shr_mask(qh, 2, 0x30)),
                        ];
                        for (k, &qk) in q.iter().enumerate() {
                            let q = vsubq_s8(s8(qk), vdupq_n_s8(32));
                            let e = 128 * h + 32 * k + 16 * t;
                            let sc = x.scales[e / 16] as i32;
                            for v in 0..N {
                                sumi[v] = scaled(sumi[v], q, ld_i8(&y[v].qs[e..]), sc);
                            }
                        }
                    }
                }
                let dx = f16_to_f32(x.d);
                for v in 0..N {
                    acc[v] = vfmaq_n_f32(acc[v], vcvtq_f32_s32(sumi[v]), dx * y[v].d());
                }
            }
            for v in 0..N {
                out[v] = vaddvq_f32(acc[v]);
            }
        }
        /// 16 bytes holding `value` where bit `first + i` of `qh` is set (i = 0..16).
        #[inline]
        #[target_feature(enable = $feat)]
        fn qh_bytes(qh: [u8; 4], first: usize, value: u8) -> uint8x16_t {
            let v = vreinterpretq_u8_u32(vdupq_n_u32(u32::from_le_bytes(qh)));
            let b = (first / 8) as u8;
            let idx = [
                b,
                b,
                b,
                b,
                b,
                b,
                b,
                b,
                b + 1,
                b + 1,
                b + 1,
                b + 1,
                b + 1,
                b + 1,
                b + 1,
                b + 1,
            ];
            let bits = [1u8, 2, 4, 8, 16, 32, 64, 128, 1, 2, 4, 8, 16, 32, 64, 128];
            let spread = vqtbl1q_u8(v, ld_u8(&idx));
            vandq_u8(vtstq_u8(spread, ld_u8(&bits)), vdupq_n_u8(value))
        }

        /// The 32 five-bit codes of a Q5 block as two registers (elements 0..16, 16..32).
        #[inline]
        #[target_feature(enable = $feat)]
        fn five_bit(qs: &[u8; 16], qh: [u8; 4]) -> (int8x16_t, int8x16_t) {
            let (lo, hi) = nibbles(ld_u8(qs));
            (
                s8(vorrq_u8(lo, qh_bytes(qh, 0, 16))),
                s8(vorrq_u8(hi, qh_bytes(qh, 16, 16))),
            )
        }

        /// Q5_0 × Q8_0.
        #[target_feature(enable = $feat)]
        pub(super) fn vec_dot_q5_0(w: &[u8], a: &[u8]) -> f32 {
            let mut acc = vdupq_n_f32(0.0);
            let sixteen = vdupq_n_s8(16);
            for (x, y) in as_blocks::<BlockQ5_0>(w)
                .iter()
                .zip(as_blocks::<BlockQ8_0>(a))
            {
                let (lo, hi) = five_bit(&x.qs, x.qh);
                let s = $dot(vdupq_n_s32(0), vsubq_s8(lo, sixteen), ld_i8(&y.qs));
                let s = $dot(s, vsubq_s8(hi, sixteen), ld_i8(&y.qs[16..]));
                acc = vfmaq_n_f32(acc, vcvtq_f32_s32(s), f16_to_f32(x.d) * y.d());
            }
            vaddvq_f32(acc)
        }

        /// Q5_1 × Q8_1.
        #[target_feature(enable = $feat)]
        pub(super) fn vec_dot_q5_1(w: &[u8], a: &[u8]) -> f32 {
            let mut acc = vdupq_n_f32(0.0);
            let mut mins = 0.0f32;
            for (x, y) in as_blocks::<BlockQ5_1>(w)
                .iter()
                .zip(as_blocks::<BlockQ8_1>(a))
            {
                let (lo, hi) = five_bit(&x.qs, x.qh);
                let s = $dot(vdupq_n_s32(0), lo, ld_i8(&y.qs));
                let s = $dot(s, hi, ld_i8(&y.qs[16..]));
                acc = vfmaq_n_f32(acc, vcvtq_f32_s32(s), f16_to_f32(x.d) * y.d());
                mins += f16_to_f32(x.m) * y.s();
            }
            vaddvq_f32(acc) + mins
        }

        /// IQ4_NL values of 16 codes.
        #[inline]
        #[target_feature(enable = $feat)]
        fn kv(codes: uint8x16_t) -> int8x16_t {
            vqtbl1q_s8(ld_i8(&KVALUES_IQ4NL), codes)
        }

        /// IQ4_NL × Q8_0.
        #[target_feature(enable = $feat)]
        pub(super) fn vec_dot_iq4_nl(w: &[u8], a: &[u8]) -> f32 {
            let mut acc = vdupq_n_f32(0.0);
            for (x, y) in as_blocks::<BlockIQ4NL>(w)
                .iter()
                .zip(as_blocks::<BlockQ8_0>(a))
            {
                let (lo, hi) = nibbles(ld_u8(&x.qs));
                let s = $dot(vdupq_n_s32(0), kv(lo), ld_i8(&y.qs));
                let s = $dot(s, kv(hi), ld_i8(&y.qs[16..]));
                acc = vfmaq_n_f32(acc, vcvtq_f32_s32(s), y.d() * f16_to_f32(x.d));
            }
            vaddvq_f32(acc)
        }

        /// IQ4_XS × Q8_K.
        #[target_feature(enable = $feat)]
        pub(super) fn vec_dot_iq4_xs(w: &[u8], a: &[u8]) -> f32 {
            let mut acc = 0.0f32;
            for (x, y) in as_blocks::<BlockIQ4XS>(w)
                .iter()
                .zip(as_blocks::<BlockQ8K>(a))
            {
                let mut sumi = vdupq_n_s32(0);
                for ib in 0..8 {
                    let (lo, hi) = nibbles(ld_u8(&x.qs[16 * ib..]));
                    let p = $dot(vdupq_n_s32(0), kv(lo), ld_i8(&y.qs[32 * ib..]));
                    let p = $dot(p, kv(hi), ld_i8(&y.qs[32 * ib + 16..]));
                    sumi = vmlaq_n_s32(sumi, p, x.ls(ib) - 32);
                }
                acc += f16_to_f32(x.d) * y.d() * vaddvq_s32(sumi) as f32;
            }
            acc
        }
    };
}
