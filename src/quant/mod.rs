//! The table of GGML tensor types: id, name, block size, bytes per block, and the
//! activation type llama.cpp pairs each weight type with on the CPU.
//!
//! Owns: the mapping GGML type id ↔ [`QuantType`] and the size arithmetic every other
//! module uses (`row_bytes`, `tensor_bytes`). It knows nothing about files; the GGUF
//! reader turns an unknown id into an error naming the tensor.
//!
//! Facts from `shared/spec/quant-formats.md` §1. Ids 4, 5 (Q4_2/Q4_3), 31-33
//! (Q4_0_4_4 …) and 36-38 (IQ4_NL_4_4 …) were removed from ggml and are rejected.

use std::fmt;

/// One GGML tensor type. The discriminant is the GGML type id stored in GGUF files.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
#[repr(u32)]
pub enum QuantType {
    F32 = 0,
    F16 = 1,
    Q4_0 = 2,
    Q4_1 = 3,
    Q5_0 = 6,
    Q5_1 = 7,
    Q8_0 = 8,
    Q8_1 = 9,
    Q2K = 10,
    Q3K = 11,
    Q4K = 12,
    Q5K = 13,
    Q6K = 14,
    Q8K = 15,
    Iq2Xxs = 16,
    Iq2Xs = 17,
    Iq3Xxs = 18,
    Iq1S = 19,
    Iq4Nl = 20,
    Iq3S = 21,
    Iq2S = 22,
    Iq4Xs = 23,
    I8 = 24,
    I16 = 25,
    I32 = 26,
    I64 = 27,
    F64 = 28,
    Iq1M = 29,
    Bf16 = 30,
    Tq1_0 = 34,
    Tq2_0 = 35,
    Mxfp4 = 39,
    Nvfp4 = 40,
    Q1_0 = 41,
    Q2_0 = 42,
}

/// Static facts about one type.
#[derive(Debug, Clone, Copy)]
pub struct TypeInfo {
    /// ggml's name, as llama.cpp prints it (`q4_K`, `iq1_s`, …).
    pub name: &'static str,
    /// Elements per block (1 for plain float / int types).
    pub block_size: u32,
    /// Bytes per block.
    pub type_size: u32,
    /// The activation type llama.cpp's CPU backend quantizes the input to before the dot
    /// product (`vec_dot_type`); `None` for types that never appear as weights.
    pub vec_dot_type: Option<QuantType>,
    /// Whether model files store weights of this type (Q8_1 / Q8_K are activation-only).
    pub in_files: bool,
}

/// Every type, in id order. The single source for iteration and lookups.
pub const ALL: [QuantType; 35] = {
    use QuantType::*;
    [
        F32, F16, Q4_0, Q4_1, Q5_0, Q5_1, Q8_0, Q8_1, Q2K, Q3K, Q4K, Q5K, Q6K, Q8K, Iq2Xxs, Iq2Xs,
        Iq3Xxs, Iq1S, Iq4Nl, Iq3S, Iq2S, Iq4Xs, I8, I16, I32, I64, F64, Iq1M, Bf16, Tq1_0, Tq2_0,
        Mxfp4, Nvfp4, Q1_0, Q2_0,
    ]
};

/// Why a type id does not name a usable type.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum TypeIdProblem {
    /// The id was assigned once and removed from ggml (4, 5, 31-33, 36-38).
    Removed,
    /// The id was never assigned (≥ 43 in the Aug-2026 ggml).
    Unknown,
}

impl QuantType {
    /// The type with GGML id `id`, or why there is none.
    pub fn from_id(id: u32) -> Result<Self, TypeIdProblem> {
        match id {
            4 | 5 | 31..=33 | 36..=38 => Err(TypeIdProblem::Removed),
            _ => ALL
                .iter()
                .copied()
                .find(|t| t.id() == id)
                .ok_or(TypeIdProblem::Unknown),
        }
    }

    /// The GGML type id.
    pub fn id(self) -> u32 {
        self as u32
    }

    /// The type whose ggml name is `name` (case-insensitive: `Q4_K`, `q4_k`, `iq1_s`).
    pub fn from_name(name: &str) -> Option<Self> {
        ALL.iter()
            .copied()
            .find(|t| t.info().name.eq_ignore_ascii_case(name))
    }

    pub fn info(self) -> TypeInfo {
        use QuantType::*;
        let (name, block_size, type_size, vec_dot_type, in_files) = match self {
            F32 => ("f32", 1, 4, Some(F32), true),
            F16 => ("f16", 1, 2, Some(F16), true),
            Q4_0 => ("q4_0", 32, 18, Some(Q8_0), true),
            Q4_1 => ("q4_1", 32, 20, Some(Q8_1), true),
            Q5_0 => ("q5_0", 32, 22, Some(Q8_0), true),
            Q5_1 => ("q5_1", 32, 24, Some(Q8_1), true),
            Q8_0 => ("q8_0", 32, 34, Some(Q8_0), true),
            Q8_1 => ("q8_1", 32, 36, None, false),
            Q2K => ("q2_K", 256, 84, Some(Q8K), true),
            Q3K => ("q3_K", 256, 110, Some(Q8K), true),
            Q4K => ("q4_K", 256, 144, Some(Q8K), true),
            Q5K => ("q5_K", 256, 176, Some(Q8K), true),
            Q6K => ("q6_K", 256, 210, Some(Q8K), true),
            Q8K => ("q8_K", 256, 292, None, false),
            Iq2Xxs => ("iq2_xxs", 256, 66, Some(Q8K), true),
            Iq2Xs => ("iq2_xs", 256, 74, Some(Q8K), true),
            Iq3Xxs => ("iq3_xxs", 256, 98, Some(Q8K), true),
            Iq1S => ("iq1_s", 256, 50, Some(Q8K), true),
            Iq4Nl => ("iq4_nl", 32, 18, Some(Q8_0), true),
            Iq3S => ("iq3_s", 256, 110, Some(Q8K), true),
            Iq2S => ("iq2_s", 256, 82, Some(Q8K), true),
            Iq4Xs => ("iq4_xs", 256, 136, Some(Q8K), true),
            I8 => ("i8", 1, 1, None, true),
            I16 => ("i16", 1, 2, None, true),
            I32 => ("i32", 1, 4, None, true),
            I64 => ("i64", 1, 8, None, true),
            F64 => ("f64", 1, 8, None, true),
            Iq1M => ("iq1_m", 256, 56, Some(Q8K), true),
            Bf16 => ("bf16", 1, 2, Some(Bf16), true),
            Tq1_0 => ("tq1_0", 256, 54, Some(Q8K), true),
            Tq2_0 => ("tq2_0", 256, 66, Some(Q8K), true),
            Mxfp4 => ("mxfp4", 32, 17, Some(Q8_0), true),
            Nvfp4 => ("nvfp4", 64, 36, Some(Q8_0), true),
            Q1_0 => ("q1_0", 128, 18, Some(Q8_0), true),
            Q2_0 => ("q2_0", 64, 18, Some(Q8_0), true),
        };
        TypeInfo {
            name,
            block_size,
            type_size,
            vec_dot_type,
            in_files,
        }
    }

    pub fn name(self) -> &'static str {
        self.info().name
    }

    pub fn block_size(self) -> u64 {
        u64::from(self.info().block_size)
    }

    pub fn type_size(self) -> u64 {
        u64::from(self.info().type_size)
    }

    /// Bits per weight (bytes per block × 8 / elements per block).
    pub fn bits_per_weight(self) -> f64 {
        let info = self.info();
        f64::from(info.type_size) * 8.0 / f64::from(info.block_size)
    }

    /// Bytes of one row of `n` elements, or `None` when `n` is not a whole number of
    /// blocks or the size overflows.
    pub fn row_bytes(self, n: u64) -> Option<u64> {
        if !n.is_multiple_of(self.block_size()) {
            return None;
        }
        (n / self.block_size()).checked_mul(self.type_size())
    }

    /// Bytes of a tensor with GGUF dimensions `dims` (fastest-varying first), or why not.
    pub fn tensor_bytes(self, dims: &[u64]) -> Result<u64, ShapeProblem> {
        let (&ne0, rest) = dims.split_first().ok_or(ShapeProblem::NoDims)?;
        if ne0 % self.block_size() != 0 {
            return Err(ShapeProblem::NotWholeBlocks {
                ne0,
                block_size: self.block_size(),
            });
        }
        let mut elements = ne0;
        for &d in rest {
            elements = elements.checked_mul(d).ok_or(ShapeProblem::Overflow)?;
        }
        // ggml keeps element counts in i64.
        if elements > i64::MAX as u64 {
            return Err(ShapeProblem::Overflow);
        }
        let rows = rest
            .iter()
            .try_fold(1u64, |acc, &d| acc.checked_mul(d))
            .ok_or(ShapeProblem::Overflow)?;
        self.row_bytes(ne0)
            .and_then(|r| r.checked_mul(rows))
            .ok_or(ShapeProblem::Overflow)
    }
}

/// Why a shape has no byte size for a type.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ShapeProblem {
    NoDims,
    NotWholeBlocks { ne0: u64, block_size: u64 },
    Overflow,
}

impl fmt::Display for ShapeProblem {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            ShapeProblem::NoDims => write!(f, "tensor has no dimensions"),
            ShapeProblem::NotWholeBlocks { ne0, block_size } => write!(
                f,
                "first dimension {ne0} is not a multiple of the block size {block_size}"
            ),
            ShapeProblem::Overflow => write!(f, "element or byte count overflows"),
        }
    }
}

impl fmt::Display for QuantType {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.name())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn ids_round_trip_and_are_unique() {
        for t in ALL {
            assert_eq!(QuantType::from_id(t.id()), Ok(t));
            assert_eq!(QuantType::from_name(t.name()), Some(t));
        }
        let mut ids: Vec<u32> = ALL.iter().map(|t| t.id()).collect();
        ids.sort_unstable();
        ids.dedup();
        assert_eq!(ids.len(), ALL.len());
    }

    #[test]
    fn removed_and_unknown_ids_are_rejected() {
        for id in [4, 5, 31, 32, 33, 36, 37, 38] {
            assert_eq!(QuantType::from_id(id), Err(TypeIdProblem::Removed));
        }
        for id in [43, 100, u32::MAX] {
            assert_eq!(QuantType::from_id(id), Err(TypeIdProblem::Unknown));
        }
    }

    #[test]
    fn sizes_match_the_spec_bits_per_weight() {
        use QuantType::*;
        let expect = [
            (Q4_0, 4.5),
            (Q4_1, 5.0),
            (Q8_0, 8.5),
            (Q2K, 2.625),
            (Q3K, 3.4375),
            (Q4K, 4.5),
            (Q6K, 6.5625),
            (Iq1S, 1.5625),
            (Iq1M, 1.75),
            (Iq2Xxs, 2.0625),
            (Tq1_0, 1.6875),
            (Tq2_0, 2.0625),
        ];
        for (t, bpw) in expect {
            assert_eq!(t.bits_per_weight(), bpw, "{t}");
        }
    }

    #[test]
    fn tensor_bytes_checks_blocks_and_overflow() {
        assert_eq!(
            QuantType::Q4K.tensor_bytes(&[7168, 2048, 256]),
            Ok(7168 / 256 * 144 * 2048 * 256)
        );
        assert_eq!(
            QuantType::Q4K.tensor_bytes(&[100, 2]),
            Err(ShapeProblem::NotWholeBlocks {
                ne0: 100,
                block_size: 256
            })
        );
        assert_eq!(
            QuantType::F32.tensor_bytes(&[u64::MAX, 2]),
            Err(ShapeProblem::Overflow)
        );
        assert_eq!(
            QuantType::F32.tensor_bytes(&[1 << 62, 1]),
            Err(ShapeProblem::Overflow)
        );
        assert_eq!(QuantType::F32.tensor_bytes(&[]), Err(ShapeProblem::NoDims));
    }
}
