//! The dispatch table: one function pointer per type and operation, chosen once.
//!
//! Owns: [`Kernels`] and the function-pointer types. [`Kernels::new`] starts from the
//! scalar references of [`crate::blocks`] and lets the ISA module of the chosen level
//! replace the entries it has faster versions of; model code then calls through the
//! table and never mentions a target feature. A `Kernels` value can only hold SIMD
//! entries for a level this machine supports (`new` caps the level to
//! [`Isa::hardware`]), which is what makes the safe entry points of `arch` sound.
//!
//! Preconditions of the byte-slice functions are those of [`crate::blocks`]: whole
//! blocks, matching lengths; violating them never panics or reads out of bounds, it
//! only drops the trailing partial blocks.
//!
//! Multi-vector dots ([`VecDotN`], from [`Kernels::vec_dot_n`]): one weight row against
//! several activation rows, for the GEMM of prefill and of experts hit by several
//! tokens. A fused kernel ([`VecDotManyFn`]) decodes each weight block once and
//! multiplies it with up to [`DOT_N_WIDTH`] activation rows while the decoded block
//! is in registers; longer lists are taken in groups of that width. Types without one
//! at the table's level fall back to calling their `vec_dot` once per row, so every
//! type with a `vec_dot` has a `vec_dot_n`. Fused kernels are bit-identical to the
//! `vec_dot` of their level (same integer lanes, same float operations in the same
//! order). Dispatch rule: an ISA level that replaces a type's `vec_dot` also drops the
//! fused kernel a lower level installed for it, so `vec_dot_n` always equals `vec_dot`
//! of the same table (AVX-512 installs a fused kernel of its own for each type it
//! replaces).
//!
//! Depends on: [`crate::blocks`], [`crate::isa`], [`crate::types`], `arch`.

use crate::blocks::{float, iq1, iq2, iq3, iq4, kquants, legacy, q8, ternary};
use crate::isa::Isa;
use crate::types::GgmlType;

/// `blocks` (whole blocks of one type) → `out` (their elements as f32).
pub type DequantizeFn = fn(blocks: &[u8], out: &mut [f32]);
/// `x` (f32, whole blocks) → `out` (blocks of an activation type).
pub type QuantizeFn = fn(x: &[f32], out: &mut [u8]);
/// Dot product of a weight row `w` and an activation row `a` of its `vec_dot_type`,
/// both holding the same number of elements.
pub type VecDotFn = fn(w: &[u8], a: &[u8]) -> f32;
/// Dots of one weight row `w` with each activation row of `acts`: `out[v] = dot(w,
/// acts[v])` for `v < min(acts.len(), out.len())`, every `acts[v]` as for [`VecDotFn`],
/// bit-identical to the type's [`VecDotFn`] of the same level. Fused kernels take
/// `acts` in groups of [`DOT_N_WIDTH`].
pub type VecDotManyFn = fn(w: &[u8], acts: &[&[u8]], out: &mut [f32]);

/// How many activation rows a fused [`VecDotManyFn`] multiplies per pass over the
/// weight row: its per-row accumulators (two 256-bit registers each on AVX2) and the
/// decoded weight block must fit the 16 vector registers (NEON has 32 of 128 bits and
/// uses the same width).
pub const DOT_N_WIDTH: usize = 4;

/// The multi-vector dot of one type: its fused kernel where the table's level has one,
/// else its `vec_dot` once per activation row.
#[derive(Clone, Copy, Debug)]
pub struct VecDotN {
    one: VecDotFn,
    fused: Option<VecDotManyFn>,
}

impl VecDotN {
    /// `out[v] = dot(w, acts[v])` for `v < min(acts.len(), out.len())`.
    #[inline]
    pub fn dot(&self, w: &[u8], acts: &[&[u8]], out: &mut [f32]) {
        match self.fused {
            Some(f) => f(w, acts, out),
            None => {
                for (o, a) in out.iter_mut().zip(acts) {
                    *o = (self.one)(w, a);
                }
            }
        }
    }

    /// Whether a fused kernel decodes each weight block once for [`DOT_N_WIDTH`] rows
    /// (false: the per-row fallback).
    pub fn is_fused(&self) -> bool {
        self.fused.is_some()
    }
}

/// The operations available for one type.
#[derive(Clone, Copy, Debug)]
pub struct TypeKernels {
    pub ty: GgmlType,
    /// Every type can be dequantized.
    pub dequantize: DequantizeFn,
    /// f32 → this type; present for the activation types (F32, F16, BF16, Q8_0, Q8_1,
    /// Q8_K).
    pub quantize: Option<QuantizeFn>,
    /// This type (as weights) · its `vec_dot_type` (as activations); absent for the
    /// activation-only types Q8_1 and Q8_K.
    pub vec_dot: Option<VecDotFn>,
    /// The fused multi-vector dot, where this level has one (see [`VecDotN`]); only
    /// present together with `vec_dot`.
    pub vec_dot_many: Option<VecDotManyFn>,
}

/// Function pointers for every [`GgmlType`], for one [`Isa`].
#[derive(Clone, Debug)]
pub struct Kernels {
    isa: Isa,
    table: [TypeKernels; GgmlType::ALL.len()],
}

/// The scalar reference entry of a type.
fn scalar_entry(ty: GgmlType) -> TypeKernels {
    use GgmlType::*;
    let (dequantize, quantize, vec_dot): (DequantizeFn, Option<QuantizeFn>, Option<VecDotFn>) =
        match ty {
            F32 => (
                float::dequantize_f32,
                Some(float::quantize_f32),
                Some(float::vec_dot_f32),
            ),
            F16 => (
                float::dequantize_f16,
                Some(float::quantize_f16),
                Some(float::vec_dot_f16),
            ),
            BF16 => (
                float::dequantize_bf16,
                Some(float::quantize_bf16),
                Some(float::vec_dot_bf16),
            ),
            Q4_0 => (legacy::dequantize_q4_0, None, Some(legacy::vec_dot_q4_0)),
            Q4_1 => (legacy::dequantize_q4_1, None, Some(legacy::vec_dot_q4_1)),
            Q5_0 => (legacy::dequantize_q5_0, None, Some(legacy::vec_dot_q5_0)),
            Q5_1 => (legacy::dequantize_q5_1, None, Some(legacy::vec_dot_q5_1)),
            Q8_0 => (
                q8::dequantize_q8_0,
                Some(q8::quantize_q8_0),
                Some(q8::vec_dot_q8_0),
            ),
            Q8_1 => (q8::dequantize_q8_1, Some(q8::quantize_q8_1), None),
            Q8_K => (q8::dequantize_q8_k, Some(q8::quantize_q8_k), None),
            Q2_K => (kquants::dequantize_q2_k, None, Some(kquants::vec_dot_q2_k)),
            Q3_K => (kquants::dequantize_q3_k, None, Some(kquants::vec_dot_q3_k)),
            Q4_K => (kquants::dequantize_q4_k, None, Some(kquants::vec_dot_q4_k)),
            Q5_K => (kquants::dequantize_q5_k, None, Some(kquants::vec_dot_q5_k)),
            Q6_K => (kquants::dequantize_q6_k, None, Some(kquants::vec_dot_q6_k)),
            IQ1_S => (iq1::dequantize_iq1_s, None, Some(iq1::vec_dot_iq1_s)),
            IQ1_M => (iq1::dequantize_iq1_m, None, Some(iq1::vec_dot_iq1_m)),
            IQ2_XXS => (iq2::dequantize_iq2_xxs, None, Some(iq2::vec_dot_iq2_xxs)),
            IQ2_XS => (iq2::dequantize_iq2_xs, None, Some(iq2::vec_dot_iq2_xs)),
            IQ2_S => (iq2::dequantize_iq2_s, None, Some(iq2::vec_dot_iq2_s)),
            IQ3_XXS => (iq3::dequantize_iq3_xxs, None, Some(iq3::vec_dot_iq3_xxs)),
            IQ3_S => (iq3::dequantize_iq3_s, None, Some(iq3::vec_dot_iq3_s)),
            IQ4_NL => (iq4::dequantize_iq4_nl, None, Some(iq4::vec_dot_iq4_nl)),
            IQ4_XS => (iq4::dequantize_iq4_xs, None, Some(iq4::vec_dot_iq4_xs)),
            TQ1_0 => (
                ternary::dequantize_tq1_0,
                None,
                Some(ternary::vec_dot_tq1_0),
            ),
            TQ2_0 => (
                ternary::dequantize_tq2_0,
                None,
                Some(ternary::vec_dot_tq2_0),
            ),
        };
    TypeKernels {
        ty,
        dequantize,
        quantize,
        vec_dot,
        vec_dot_many: None,
    }
}

impl Kernels {
    /// The table for `isa`, capped to what this machine supports.
    pub fn new(isa: Isa) -> Kernels {
        let isa = isa.capped(Isa::hardware());
        let mut table = GgmlType::ALL.map(scalar_entry);
        crate::arch::install(isa, &mut table);
        Kernels { isa, table }
    }

    /// The table for [`Isa::detect`].
    pub fn detect() -> Kernels {
        Kernels::new(Isa::detect())
    }

    /// The level this table was built for.
    pub fn isa(&self) -> Isa {
        self.isa
    }

    /// All operations of `ty`.
    pub fn get(&self, ty: GgmlType) -> &TypeKernels {
        &self.table[ty.slot()]
    }

    /// Dequantizer of `ty`.
    pub fn dequantize(&self, ty: GgmlType) -> DequantizeFn {
        self.get(ty).dequantize
    }

    /// f32 → `ty` converter, for activation types.
    pub fn quantize(&self, ty: GgmlType) -> Option<QuantizeFn> {
        self.get(ty).quantize
    }

    /// Dot of a `ty` weight row with an activation row of `ty.vec_dot_type()`.
    pub fn vec_dot(&self, ty: GgmlType) -> Option<VecDotFn> {
        self.get(ty).vec_dot
    }

    /// Dot of a `ty` weight row with several activation rows (see [`VecDotN`]); `None`
    /// exactly where [`Kernels::vec_dot`] is.
    pub fn vec_dot_n(&self, ty: GgmlType) -> Option<VecDotN> {
        let e = self.get(ty);
        Some(VecDotN {
            one: e.vec_dot?,
            fused: e.vec_dot_many,
        })
    }
}

/// Replaces the `vec_dot` of `ty` in a table (used by the `arch` modules), dropping the
/// fused multi-vector kernel of a lower level, which the new `vec_dot` supersedes.
#[allow(dead_code)] // used by the arch modules on x86-64 / aarch64
pub(crate) fn set_vec_dot(table: &mut [TypeKernels], ty: GgmlType, f: VecDotFn) {
    table[ty.slot()].vec_dot = Some(f);
    table[ty.slot()].vec_dot_many = None;
}

/// Replaces the activation quantizer of `ty` (used by the x86-64 arch module); the
/// replacement must produce the reference's bytes.
#[allow(dead_code)] // used by the x86-64 arch module
pub(crate) fn set_quantize(table: &mut [TypeKernels], ty: GgmlType, f: QuantizeFn) {
    debug_assert!(table[ty.slot()].quantize.is_some());
    table[ty.slot()].quantize = Some(f);
}

/// Installs the fused multi-vector dot of `ty` (after its `vec_dot` of the same level).
#[allow(dead_code)] // used by the arch modules on x86-64 / aarch64
pub(crate) fn set_vec_dot_many(table: &mut [TypeKernels], ty: GgmlType, f: VecDotManyFn) {
    debug_assert!(table[ty.slot()].vec_dot.is_some());
    table[ty.slot()].vec_dot_many = Some(f);
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn table_is_complete_and_consistent() {
        let k = Kernels::new(Isa::Scalar);
        assert_eq!(k.isa(), Isa::Scalar);
        for t in GgmlType::ALL {
            let e = k.get(t);
            assert_eq!(e.ty, t);
            assert_eq!(e.vec_dot.is_some(), t.vec_dot_type().is_some(), "{t:?}");
            assert_eq!(k.vec_dot_n(t).is_some(), e.vec_dot.is_some(), "{t:?}");
            assert!(
                e.vec_dot_many.is_none(),
                "{t:?}: the scalar level has no fused dots"
            );
            if let Some(a) = t.vec_dot_type() {
                assert!(k.quantize(a).is_some(), "{t:?} pairs with {a:?}");
            }
        }
    }

    #[test]
    fn new_caps_to_the_hardware() {
        let k = Kernels::new(Isa::Avx512 { vnni: true });
        assert!(k.isa().is_supported());
        let k = Kernels::new(Isa::Neon { dotprod: true });
        assert!(k.isa().is_supported());
    }
}
