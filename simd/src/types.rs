//! GGML type ids of the formats this crate implements.
//!
//! Owns: [`GgmlType`], the numeric ids exactly as ggml assigns them
//! (`shared/spec/quant-formats.md` §1), each type's block geometry and the activation
//! type llama.cpp pairs it with on the CPU (`vec_dot_type`). The main crate maps its
//! own `QuantType` onto this enum; ids that ggml removed or that this crate has no
//! kernel for (I8…I64, F64, MXFP4, NVFP4, Q1_0, Q2_0) are not representable here.
//! Depends on nothing.

/// A GGML tensor type id (the `u32` stored in GGUF tensor infos).
#[allow(non_camel_case_types)]
#[repr(u32)]
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum GgmlType {
    F32 = 0,
    F16 = 1,
    Q4_0 = 2,
    Q4_1 = 3,
    Q5_0 = 6,
    Q5_1 = 7,
    Q8_0 = 8,
    Q8_1 = 9,
    Q2_K = 10,
    Q3_K = 11,
    Q4_K = 12,
    Q5_K = 13,
    Q6_K = 14,
    Q8_K = 15,
    IQ2_XXS = 16,
    IQ2_XS = 17,
    IQ3_XXS = 18,
    IQ1_S = 19,
    IQ4_NL = 20,
    IQ3_S = 21,
    IQ2_S = 22,
    IQ4_XS = 23,
    IQ1_M = 29,
    BF16 = 30,
    TQ1_0 = 34,
    TQ2_0 = 35,
}

impl GgmlType {
    /// Every type, in id order; `ALL[t.slot()] == t`.
    pub const ALL: [GgmlType; 26] = [
        GgmlType::F32,
        GgmlType::F16,
        GgmlType::Q4_0,
        GgmlType::Q4_1,
        GgmlType::Q5_0,
        GgmlType::Q5_1,
        GgmlType::Q8_0,
        GgmlType::Q8_1,
        GgmlType::Q2_K,
        GgmlType::Q3_K,
        GgmlType::Q4_K,
        GgmlType::Q5_K,
        GgmlType::Q6_K,
        GgmlType::Q8_K,
        GgmlType::IQ2_XXS,
        GgmlType::IQ2_XS,
        GgmlType::IQ3_XXS,
        GgmlType::IQ1_S,
        GgmlType::IQ4_NL,
        GgmlType::IQ3_S,
        GgmlType::IQ2_S,
        GgmlType::IQ4_XS,
        GgmlType::IQ1_M,
        GgmlType::BF16,
        GgmlType::TQ1_0,
        GgmlType::TQ2_0,
    ];

    /// The type with GGML id `id`, if this crate implements it.
    pub fn from_id(id: u32) -> Option<GgmlType> {
        GgmlType::ALL.iter().copied().find(|t| *t as u32 == id)
    }

    /// Dense index 0..`ALL.len()` (position in [`GgmlType::ALL`]).
    pub fn slot(self) -> usize {
        // ALL is sorted by id and short; a linear scan keeps one source of truth.
        GgmlType::ALL.iter().position(|t| *t == self).unwrap_or(0)
    }

    /// ggml's name of the type (`"q4_K"`, `"iq1_s"`, …).
    pub fn name(self) -> &'static str {
        use GgmlType::*;
        match self {
            F32 => "f32",
            F16 => "f16",
            Q4_0 => "q4_0",
            Q4_1 => "q4_1",
            Q5_0 => "q5_0",
            Q5_1 => "q5_1",
            Q8_0 => "q8_0",
            Q8_1 => "q8_1",
            Q2_K => "q2_K",
            Q3_K => "q3_K",
            Q4_K => "q4_K",
            Q5_K => "q5_K",
            Q6_K => "q6_K",
            Q8_K => "q8_K",
            IQ2_XXS => "iq2_xxs",
            IQ2_XS => "iq2_xs",
            IQ3_XXS => "iq3_xxs",
            IQ1_S => "iq1_s",
            IQ4_NL => "iq4_nl",
            IQ3_S => "iq3_s",
            IQ2_S => "iq2_s",
            IQ4_XS => "iq4_xs",
            IQ1_M => "iq1_m",
            BF16 => "bf16",
            TQ1_0 => "tq1_0",
            TQ2_0 => "tq2_0",
        }
    }

    /// Elements per block.
    pub fn block_size(self) -> usize {
        use GgmlType::*;
        match self {
            F32 | F16 | BF16 => 1,
            Q4_0 | Q4_1 | Q5_0 | Q5_1 | Q8_0 | Q8_1 | IQ4_NL => 32,
            _ => 256,
        }
    }

    /// Bytes per block.
    pub fn block_bytes(self) -> usize {
        use GgmlType::*;
        match self {
            F32 => 4,
            F16 | BF16 => 2,
            Q4_0 => 18,
            Q4_1 => 20,
            Q5_0 => 22,
            Q5_1 => 24,
            Q8_0 => 34,
            Q8_1 => 36,
            Q2_K => 84,
            Q3_K => 110,
            Q4_K => 144,
            Q5_K => 176,
            Q6_K => 210,
            Q8_K => 292,
            IQ2_XXS => 66,
            IQ2_XS => 74,
            IQ3_XXS => 98,
            IQ1_S => 50,
            IQ4_NL => 18,
            IQ3_S => 110,
            IQ2_S => 82,
            IQ4_XS => 136,
            IQ1_M => 56,
            TQ1_0 => 54,
            TQ2_0 => 66,
        }
    }

    /// Bytes of a row of `n` elements, `None` unless `n` is a whole number of blocks.
    pub fn row_bytes(self, n: usize) -> Option<usize> {
        if !n.is_multiple_of(self.block_size()) {
            return None;
        }
        (n / self.block_size()).checked_mul(self.block_bytes())
    }

    /// The activation type llama.cpp's CPU backend converts the right-hand operand to
    /// before `vec_dot` with a weight of this type; `None` for activation-only types
    /// (Q8_1, Q8_K), which are never weights.
    pub fn vec_dot_type(self) -> Option<GgmlType> {
        use GgmlType::*;
        Some(match self {
            F32 => F32,
            F16 => F16,
            BF16 => BF16,
            Q4_0 | Q5_0 | Q8_0 | IQ4_NL => Q8_0,
            Q4_1 | Q5_1 => Q8_1,
            Q8_1 | Q8_K => return None,
            _ => Q8_K,
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn ids_round_trip_and_slots_are_dense() {
        for (i, t) in GgmlType::ALL.iter().enumerate() {
            assert_eq!(GgmlType::from_id(*t as u32), Some(*t));
            assert_eq!(t.slot(), i);
        }
        for removed in [4, 5, 24, 28, 31, 39, 43] {
            assert_eq!(GgmlType::from_id(removed), None);
        }
    }

    #[test]
    fn bits_per_weight_match_the_spec_table() {
        let bpw = |t: GgmlType| t.block_bytes() as f64 * 8.0 / t.block_size() as f64;
        assert_eq!(bpw(GgmlType::IQ1_S), 1.5625);
        assert_eq!(bpw(GgmlType::IQ1_M), 1.75);
        assert_eq!(bpw(GgmlType::TQ1_0), 1.6875);
        assert_eq!(bpw(GgmlType::Q3_K), 3.4375);
        assert_eq!(GgmlType::Q4_K.row_bytes(7168), Some(28 * 144));
        assert_eq!(GgmlType::Q4_K.row_bytes(100), None);
    }
}
