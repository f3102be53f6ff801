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

macro_rules! legacy_kquants {
    ($feat:literal, $dot:ident) => {
        use crate::blocks::iq4::{BlockIQ4NL, BlockIQ4XS};
        use crate::blocks::kquants::{k4_min_sum, q2k_min_sum, q3k_scales, scales_mins_k4};
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

        /// Q8_0 × Q8_0.
        #[target_feature(enable = $feat)]
        pub(super) fn vec_dot_q8_0(w: &[u8], a: &[u8]) -> f32 {
            let mut acc = vdupq_n_f32(0.0);
            for (x, y) in as_blocks::<BlockQ8_0>(w)
                .iter()
                .zip(as_blocks::<BlockQ8_0>(a))
            {
                let s = $dot(vdupq_n_s32(0), ld_i8(&x.qs), ld_i8(&y.qs));
                let s = $dot(s, ld_i8(&x.qs[16..]), ld_i8(&y.qs[16..]));
                acc = vfmaq_n_f32(acc, vcvtq_f32_s32(s), x.d() * y.d());
            }
            vaddvq_f32(acc)
        }

        /// Q4_0 × Q8_0.
        #[target_feature(enable = $feat)]
        pub(super) fn vec_dot_q4_0(w: &[u8], a: &[u8]) -> f32 {
            let mut acc = vdupq_n_f32(0.0);
            let eight = vdupq_n_s8(8);
            for (x, y) in as_blocks::<BlockQ4_0>(w)
                .iter()
                .zip(as_blocks::<BlockQ8_0>(a))
            {
                let (lo, hi) = nibbles(ld_u8(&x.qs));
                let s = $dot(vdupq_n_s32(0), vsubq_s8(s8(lo), eight), ld_i8(&y.qs));
                let s = $dot(s, vsubq_s8(s8(hi), eight), ld_i8(&y.qs[16..]));
                acc = vfmaq_n_f32(acc, vcvtq_f32_s32(s), f16_to_f32(x.d) * y.d());
            }
            vaddvq_f32(acc)
        }

        /// Q4_1 × Q8_1.
        #[target_feature(enable = $feat)]
        pub(super) fn vec_dot_q4_1(w: &[u8], a: &[u8]) -> f32 {
            let mut acc = vdupq_n_f32(0.0);
            let mut mins = 0.0f32;
            for (x, y) in as_blocks::<BlockQ4_1>(w)
                .iter()
                .zip(as_blocks::<BlockQ8_1>(a))
            {
                let (lo, hi) = nibbles(ld_u8(&x.qs));
                let s = $dot(vdupq_n_s32(0), s8(lo), ld_i8(&y.qs));
                let s = $dot(s, s8(hi), ld_i8(&y.qs[16..]));
                acc = vfmaq_n_f32(acc, vcvtq_f32_s32(s), f16_to_f32(x.d) * y.d());
                mins += f16_to_f32(x.m) * y.s();
            }
            vaddvq_f32(acc) + mins
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

        /// Shared Q4_K / Q5_K body: `high(c, t)` gives the 5th-bit bytes (16 or 0) of the
        /// (low, high) nibble registers of chunk c, half t.
        #[inline]
        #[target_feature(enable = $feat)]
        fn dot_k4_like(
            qs: &[u8; 128],
            scales: &[u8; 12],
            y: &BlockQ8K,
            high: impl Fn(usize, usize) -> (uint8x16_t, uint8x16_t),
        ) -> (int32x4_t, i32) {
            let sm = scales_mins_k4(scales);
            let mut sumi = vdupq_n_s32(0);
            for c in 0..4 {
                for t in 0..2 {
                    let (lo, hi) = nibbles(ld_u8(&qs[32 * c + 16 * t..]));
                    let (hl, hh) = high(c, t);
                    let e = 64 * c + 16 * t;
                    let lo = s8(vorrq_u8(lo, hl));
                    let hi = s8(vorrq_u8(hi, hh));
                    sumi = scaled(sumi, lo, ld_i8(&y.qs[e..]), sm[2 * c].0 as i32);
                    sumi = scaled(sumi, hi, ld_i8(&y.qs[e + 32..]), sm[2 * c + 1].0 as i32);
                }
            }
            let m = k4_min_sum(&sm, y);
            (sumi, m)
        }

        /// Q4_K × Q8_K.
        #[target_feature(enable = $feat)]
        pub(super) fn vec_dot_q4_k(w: &[u8], a: &[u8]) -> f32 {
            let mut acc = vdupq_n_f32(0.0);
            let mut mins = 0.0f32;
            for (x, y) in as_blocks::<BlockQ4K>(w)
                .iter()
                .zip(as_blocks::<BlockQ8K>(a))
            {
                let zero = vdupq_n_u8(0);
                let (sumi, m) = dot_k4_like(&x.qs, &x.scales, y, |_, _| (zero, zero));
                acc = vfmaq_n_f32(acc, vcvtq_f32_s32(sumi), f16_to_f32(x.d) * y.d());
                mins += f16_to_f32(x.dmin) * y.d() * m as f32;
            }
            vaddvq_f32(acc) - mins
        }

        /// Q5_K × Q8_K.
        #[target_feature(enable = $feat)]
        pub(super) fn vec_dot_q5_k(w: &[u8], a: &[u8]) -> f32 {
            let mut acc = vdupq_n_f32(0.0);
            let mut mins = 0.0f32;
            for (x, y) in as_blocks::<BlockQ5K>(w)
                .iter()
                .zip(as_blocks::<BlockQ8K>(a))
            {
                let qh = [ld_u8(&x.qh), ld_u8(&x.qh[16..])];
                let (sumi, m) = dot_k4_like(&x.qs, &x.scales, y, |c, t| {
                    (
                        bit_to(qh[t], 2 * c as u32, 16),
                        bit_to(qh[t], 2 * c as u32 + 1, 16),
                    )
                });
                acc = vfmaq_n_f32(acc, vcvtq_f32_s32(sumi), f16_to_f32(x.d) * y.d());
                mins += f16_to_f32(x.dmin) * y.d() * m as f32;
            }
            vaddvq_f32(acc) - mins
        }

        /// Q6_K × Q8_K.
        #[target_feature(enable = $feat)]
        pub(super) fn vec_dot_q6_k(w: &[u8], a: &[u8]) -> f32 {
            let mut acc = vdupq_n_f32(0.0);
            let m4 = vdupq_n_u8(0x0F);
            for (x, y) in as_blocks::<BlockQ6K>(w)
                .iter()
                .zip(as_blocks::<BlockQ8K>(a))
            {
                let mut sumi = vdupq_n_s32(0);
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
                            let v = vsubq_s8(s8(qk), vdupq_n_s8(32));
                            let e = 128 * h + 32 * k + 16 * t;
                            sumi = scaled(sumi, v, ld_i8(&y.qs[e..]), x.scales[e / 16] as i32);
                        }
                    }
                }
                acc = vfmaq_n_f32(acc, vcvtq_f32_s32(sumi), f16_to_f32(x.d) * y.d());
            }
            vaddvq_f32(acc)
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
