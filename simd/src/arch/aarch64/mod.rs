//! aarch64 NEON kernels, with and without the dot-product extension.
//!
//! Owns: the NEON helpers, the two instantiations of every kernel (`plain`: NEON only,
//! `dotprod`: NEON + SDOT) and their installation into a dispatch table. The kernel
//! bodies are written once, as macros ([`legacy_kquants`], [`iquants_ternary`]) over the
//! int8 dot primitive `$dot(acc, a, b)` that adds Σ a·b over each group of 4 bytes
//! (SDOT) or of a lane-pair layout (SMULL + SADALP) into 4 × i32: only the sum of the
//! lanes is ever used, so the two layouts give the same integers. NEON has a signed ×
//! signed int8 multiply, so unlike x86 the weights are unpacked to signed values
//! (q − 8, q − 32, grid·sign, t − 1) and no bsums corrections are needed.
//!
//! Fused multi-row kernels (`vec_dot_n_*`: IQ1_S, IQ1_M, IQ2_XXS, Q4_K, Q5_K, Q6_K,
//! Q8_0, Q4_0, Q4_1) are generic over the number of activation rows `N` ≤ 4: each weight
//! block is decoded once (nibbles, grid lookups, signs, scales) and multiplied with the
//! `N` rows while it is in registers, each row with its own accumulators. The
//! single-row `vec_dot` of these types is the `N = 1` instance, so a batch (GEMM) is
//! bit-identical to the same rows one at a time (GEMV) at each instantiation; `many!`
//! makes them safe and splits longer lists into groups of 4.
//!
//! SDOT is reached through inline assembly because `vdotq_s32` is not stable in Rust,
//! and so is FCVT (half → single, [`f16_fcvt`]) because the f16 vector types are not.
//! The only other `unsafe` is loads from block fields whose length the types prove and
//! the calls from the safe table entries (see `arch`).

use core::arch::aarch64::*;

use crate::blocks::{common_blocks, Block};
use crate::kernels::{
    set_vec_dot, set_vec_dot_many, TypeKernels, VecDotFn, VecDotManyFn, DOT_N_WIDTH,
};
use crate::types::GgmlType;

mod float;
#[macro_use]
mod legacy_kquants;
#[macro_use]
mod iquants_ternary;

/// Unaligned 16-byte load from the start of `s`.
#[inline]
#[target_feature(enable = "neon")]
fn ld_u8(s: &[u8]) -> uint8x16_t {
    assert!(s.len() >= 16);
    // SAFETY: `s` has at least 16 readable bytes (asserted); vld1q has no alignment
    // requirement beyond the element (1 byte).
    unsafe { vld1q_u8(s.as_ptr()) }
}

/// Unaligned 16-byte load of int8 quants from the start of `s`.
#[inline]
#[target_feature(enable = "neon")]
fn ld_i8(s: &[i8]) -> int8x16_t {
    assert!(s.len() >= 16);
    // SAFETY: as in `ld_u8`.
    unsafe { vld1q_s8(s.as_ptr()) }
}

/// Bytes of `v` as signed.
#[inline]
#[target_feature(enable = "neon")]
fn s8(v: uint8x16_t) -> int8x16_t {
    vreinterpretq_s8_u8(v)
}

/// Two 8-byte table rows as one vector (row 0 in the low half).
#[inline]
#[target_feature(enable = "neon")]
fn rows2(r0: u64, r1: u64) -> int8x16_t {
    vcombine_s8(vcreate_s8(r0), vcreate_s8(r1))
}

/// `Σ_j w_j·(b_2j + b_2j+1)` over the 16 i16 group sums `bsums` of a Q8_K block and 8
/// weights `w` (as i32, j < 4 in `w.0`): the min terms of Q4_K / Q5_K and the delta
/// terms of IQ1_S, exact (pair sums widened to i32 before the products), in two loads
/// and five instructions per activation row instead of 16 scalar multiply-adds.
#[inline]
#[target_feature(enable = "neon")]
fn bsum_pairs_dot(bsums: &[u8; 32], w: (int32x4_t, int32x4_t)) -> i32 {
    let lo = vpaddlq_s16(vreinterpretq_s16_u8(ld_u8(bsums)));
    let hi = vpaddlq_s16(vreinterpretq_s16_u8(ld_u8(&bsums[16..])));
    vaddvq_s32(vmlaq_s32(vmulq_s32(lo, w.0), hi, w.1))
}

/// 8 signed bytes widened to i32, as the `w` of [`bsum_pairs_dot`].
#[inline]
#[target_feature(enable = "neon")]
fn widen8(w: [i8; 8]) -> (int32x4_t, int32x4_t) {
    let w = vmovl_s8(vcreate_s8(u64::from_le_bytes(w.map(|b| b as u8))));
    (vmovl_s16(vget_low_s16(w)), vmovl_high_s16(w))
}

/// A little-endian IEEE half widened by FCVT: 3 instructions (load, move, convert)
/// where the branch-free software widening [`crate::blocks::f16_to_f32`] takes about
/// 11, which for the 32-element formats (Q8_0, Q4_0, Q4_1) was half of the work per
/// block and activation row. Exact, and equal to the software result for every half
/// but a signaling NaN (which comes back quieted): conversions ignore FPCR.FZ16, a
/// half is never subnormal as an f32 (so FZ cannot flush it), and FPCR.AHP (the
/// non-IEEE half format) is 0 as Linux starts every thread.
#[inline]
#[target_feature(enable = "neon")]
fn f16_fcvt(bits: [u8; 2]) -> f32 {
    let h = i16::from_le_bytes(bits);
    let f: f32;
    // SAFETY: FCVT reads one FP register and writes another (no memory, no stack, no
    // flags); the FP unit is architectural on aarch64.
    unsafe {
        core::arch::asm!(
            "fcvt {f:s}, {h:h}",
            f = lateout(vreg) f,
            h = in(vreg) h,
            options(pure, nomem, nostack, preserves_flags)
        );
    }
    f
}

/// `acc + Σ a·b` without the dot-product extension (widening multiply, pairwise add).
#[inline]
#[target_feature(enable = "neon")]
fn dot_mull(acc: int32x4_t, a: int8x16_t, b: int8x16_t) -> int32x4_t {
    let lo = vmull_s8(vget_low_s8(a), vget_low_s8(b));
    let hi = vmull_high_s8(a, b);
    vpadalq_s16(vpadalq_s16(acc, lo), hi)
}

/// `acc + Σ a·b` with SDOT (4-byte groups into each i32 lane).
#[inline]
#[target_feature(enable = "neon,dotprod")]
fn dot_sdot(acc: int32x4_t, a: int8x16_t, b: int8x16_t) -> int32x4_t {
    let mut acc = acc;
    // SAFETY: SDOT reads the two source registers and updates `acc` only (no memory, no
    // flags, no stack); this function is only compiled and run with `dotprod` enabled.
    unsafe {
        core::arch::asm!(
            "sdot {0:v}.4s, {1:v}.16b, {2:v}.16b",
            inout(vreg) acc,
            in(vreg) a,
            in(vreg) b,
            options(pure, nomem, nostack, preserves_flags)
        );
    }
    acc
}

/// A single-row kernel `$name` as the one-row instance of the fused kernel `$many`
/// (inside a kernel macro, with its target features `$feat`).
macro_rules! one_row {
    ($feat:literal, $(#[$doc:meta])* $name:ident = $many:ident) => {
        $(#[$doc])*
        #[target_feature(enable = $feat)]
        pub(super) fn $name(w: &[u8], a: &[u8]) -> f32 {
            let mut out = [0.0];
            $many::<1>(w, &[a], &mut out);
            out[0]
        }
    };
}

mod plain {
    use super::*;
    legacy_kquants!("neon", dot_mull);
    iquants_ternary!("neon", dot_mull);
}

mod dotprod {
    use super::*;
    legacy_kquants!("neon,dotprod", dot_sdot);
    iquants_ternary!("neon,dotprod", dot_sdot);
}

/// A safe `VecDotFn` calling kernel `$name` of module `$m`.
macro_rules! entry {
    ($m:ident, $name:ident) => {
        pub(super) fn $name(w: &[u8], a: &[u8]) -> f32 {
            // SAFETY: this function is only stored in a `Kernels` table whose ISA level
            // was capped to `Isa::hardware()`: NEON is architectural on aarch64, and the
            // `dotprod` entries are only installed when the OS reports the extension
            // (see `arch::install`).
            unsafe { super::$m::$name(w, a) }
        }
    };
}

/// A safe `VecDotManyFn` calling kernel `$name` of module `$m`, generic over the number
/// of activation rows `N` (1..=`DOT_N_WIDTH`): `acts` is taken in groups of
/// `DOT_N_WIDTH`, the last group by the instance of its size.
macro_rules! many {
    ($m:ident, $name:ident) => {
        pub(super) fn $name(w: &[u8], acts: &[&[u8]], out: &mut [f32]) {
            const _: () = assert!(super::DOT_N_WIDTH == 4);
            let n = acts.len().min(out.len());
            for (a, o) in acts[..n]
                .chunks(super::DOT_N_WIDTH)
                .zip(out.chunks_mut(super::DOT_N_WIDTH))
            {
                // `chunks` of equal lengths 1..=DOT_N_WIDTH: the conversions cannot fail.
                // SAFETY: as in `entry!`: only stored in a table whose level this CPU and
                // OS support.
                unsafe {
                    match a.len() {
                        4 => super::$m::$name::<4>(w, a.try_into().unwrap(), o.try_into().unwrap()),
                        3 => super::$m::$name::<3>(w, a.try_into().unwrap(), o.try_into().unwrap()),
                        2 => super::$m::$name::<2>(w, a.try_into().unwrap(), o.try_into().unwrap()),
                        _ => super::$m::$name::<1>(w, a.try_into().unwrap(), o.try_into().unwrap()),
                    }
                }
            }
        }
    };
}

/// Declares the safe entries of kernel module `$m` in module `$entries`, the table
/// `$table` of its single-row kernels and the table `$many` of its fused ones.
macro_rules! entries {
    ($table:ident, $many:ident, $entries:ident, $m:ident) => {
        mod $entries {
            many!($m, vec_dot_n_q8_0);
            many!($m, vec_dot_n_q4_0);
            many!($m, vec_dot_n_q4_1);
            many!($m, vec_dot_n_q4_k);
            many!($m, vec_dot_n_q5_k);
            many!($m, vec_dot_n_q6_k);
            many!($m, vec_dot_n_iq1_s);
            many!($m, vec_dot_n_iq1_m);
            many!($m, vec_dot_n_iq2_xxs);
            entry!($m, vec_dot_q8_0);
            entry!($m, vec_dot_q4_0);
            entry!($m, vec_dot_q4_1);
            entry!($m, vec_dot_q2_k);
            entry!($m, vec_dot_q3_k);
            entry!($m, vec_dot_q4_k);
            entry!($m, vec_dot_q5_k);
            entry!($m, vec_dot_q6_k);
            entry!($m, vec_dot_iq1_s);
            entry!($m, vec_dot_iq1_m);
            entry!($m, vec_dot_iq2_xxs);
            entry!($m, vec_dot_tq1_0);
            entry!($m, vec_dot_tq2_0);
            entry!($m, vec_dot_iq3_s);
            entry!($m, vec_dot_iq3_xxs);
            entry!($m, vec_dot_iq2_s);
            entry!($m, vec_dot_iq2_xs);
            entry!($m, vec_dot_iq4_xs);
            entry!($m, vec_dot_iq4_nl);
            entry!($m, vec_dot_q5_1);
            entry!($m, vec_dot_q5_0);
        }
        const $table: [(GgmlType, VecDotFn); 21] = [
            (GgmlType::Q8_0, $entries::vec_dot_q8_0),
            (GgmlType::Q4_0, $entries::vec_dot_q4_0),
            (GgmlType::Q4_1, $entries::vec_dot_q4_1),
            (GgmlType::Q2_K, $entries::vec_dot_q2_k),
            (GgmlType::Q3_K, $entries::vec_dot_q3_k),
            (GgmlType::Q4_K, $entries::vec_dot_q4_k),
            (GgmlType::Q5_K, $entries::vec_dot_q5_k),
            (GgmlType::Q6_K, $entries::vec_dot_q6_k),
            (GgmlType::IQ1_S, $entries::vec_dot_iq1_s),
            (GgmlType::IQ1_M, $entries::vec_dot_iq1_m),
            (GgmlType::IQ2_XXS, $entries::vec_dot_iq2_xxs),
            (GgmlType::TQ1_0, $entries::vec_dot_tq1_0),
            (GgmlType::TQ2_0, $entries::vec_dot_tq2_0),
            (GgmlType::Q5_0, $entries::vec_dot_q5_0),
            (GgmlType::Q5_1, $entries::vec_dot_q5_1),
            (GgmlType::IQ4_NL, $entries::vec_dot_iq4_nl),
            (GgmlType::IQ4_XS, $entries::vec_dot_iq4_xs),
            (GgmlType::IQ2_XS, $entries::vec_dot_iq2_xs),
            (GgmlType::IQ2_S, $entries::vec_dot_iq2_s),
            (GgmlType::IQ3_XXS, $entries::vec_dot_iq3_xxs),
            (GgmlType::IQ3_S, $entries::vec_dot_iq3_s),
        ];
        /// The fused kernels (each after its single-row kernel in the other table).
        const $many: [(GgmlType, VecDotManyFn); 9] = [
            (GgmlType::Q8_0, $entries::vec_dot_n_q8_0),
            (GgmlType::Q4_0, $entries::vec_dot_n_q4_0),
            (GgmlType::Q4_1, $entries::vec_dot_n_q4_1),
            (GgmlType::Q4_K, $entries::vec_dot_n_q4_k),
            (GgmlType::Q5_K, $entries::vec_dot_n_q5_k),
            (GgmlType::Q6_K, $entries::vec_dot_n_q6_k),
            (GgmlType::IQ1_S, $entries::vec_dot_n_iq1_s),
            (GgmlType::IQ1_M, $entries::vec_dot_n_iq1_m),
            (GgmlType::IQ2_XXS, $entries::vec_dot_n_iq2_xxs),
        ];
    };
}

entries!(PLAIN, PLAIN_MANY, plain_entries, plain);
entries!(DOTPROD, DOTPROD_MANY, dotprod_entries, dotprod);

mod float_entries {
    entry!(float, vec_dot_f32);
    entry!(float, vec_dot_f16);
    entry!(float, vec_dot_bf16);
}

/// The float kernels (no SDOT variant).
const FLOAT: [(GgmlType, VecDotFn); 3] = [
    (GgmlType::F32, float_entries::vec_dot_f32),
    (GgmlType::F16, float_entries::vec_dot_f16),
    (GgmlType::BF16, float_entries::vec_dot_bf16),
];

/// Installs the NEON kernels (the SDOT versions if `dotprod`), the fused ones after the
/// single-row ones they must equal. Caller: `arch::install` on aarch64, with `dotprod`
/// only if the OS reports it.
pub(super) fn install(table: &mut [TypeKernels], dotprod: bool) {
    for (ty, f) in FLOAT
        .into_iter()
        .chain(if dotprod { DOTPROD } else { PLAIN })
    {
        set_vec_dot(table, ty, f);
    }
    for (ty, f) in if dotprod { DOTPROD_MANY } else { PLAIN_MANY } {
        set_vec_dot_many(table, ty, f);
    }
}
