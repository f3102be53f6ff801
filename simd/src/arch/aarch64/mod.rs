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
//! SDOT is reached through inline assembly because `vdotq_s32` is not stable in Rust.
//! The only other `unsafe` is loads from block fields whose length the types prove and
//! the calls from the safe table entries (see `arch`).

use core::arch::aarch64::*;

use crate::kernels::{set_vec_dot, TypeKernels, VecDotFn};
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

/// Declares the safe entries of kernel module `$m` in module `$entries` and the table
/// `$table` of them.
macro_rules! entries {
    ($table:ident, $entries:ident, $m:ident) => {
        mod $entries {
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
    };
}

entries!(PLAIN, plain_entries, plain);
entries!(DOTPROD, dotprod_entries, dotprod);

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

/// Installs the NEON kernels (the SDOT versions if `dotprod`). Caller: `arch::install`
/// on aarch64, with `dotprod` only if the OS reports it.
pub(super) fn install(table: &mut [TypeKernels], dotprod: bool) {
    for (ty, f) in FLOAT
        .into_iter()
        .chain(if dotprod { DOTPROD } else { PLAIN })
    {
        set_vec_dot(table, ty, f);
    }
}
