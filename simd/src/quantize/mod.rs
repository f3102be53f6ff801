//! Weight quantizers: f32 rows → GGML blocks, searching for the scales that minimise the
//! importance-weighted squared error, as llama.cpp's `ggml-quants.c` does.
//!
//! Owns: [`quantize_rows`] (the one entry point), [`supports`] and [`QuantizeError`].
//! Does not own the block layouts or dequantizers (those are [`crate::blocks`], and every
//! quantizer here is tested by decoding its output with them), nor the activation
//! quantizers (`blocks::q8`), nor threading: rows are independent and every function is
//! pure and scalar, so callers parallelise over rows.
//!
//! The objective. For a row `x` with optional per-column importance `q` (llama.cpp's
//! imatrix: mean squared activation of each input column), every type minimises
//! `Σ w_i·(x_i − x̂_i)²` with per-element weights `w` as llama.cpp's importance path
//! chooses them, usually `w_i = q_i·sqrt(σ² + x_i²)` (σ² = mean x² of the super-block,
//! sometimes doubled); each type's module says which. Without importance the same
//! formula with `q ≡ 1` ("every column equally important"), except Q8_0, which is
//! llama.cpp's reference rounding bit for bit. llama.cpp refuses IQ1_S and IQ2_XXS
//! without an imatrix and uses other stand-ins (x², |x|-based) for the rest; q ≡ 1 is
//! what it computes when handed an all-ones imatrix, and measured lower plain RMSE
//! than its stand-ins on every type where they differ.
//!
//! Where we differ from llama.cpp it is always by adding candidates to a search and
//! keeping the one with the lower weighted error measured on the values the dequantizer
//! will actually produce (f16-rounded scales, real codebook values): never worse on the
//! objective than llama.cpp's choice, which is always among the candidates.
//!
//! Modules (private): `legacy` Q8_0 Q4_0 Q4_1 Q5_0 Q5_1; `kquants` Q2_K…Q6_K; `ternary`
//! TQ1_0 TQ2_0; `iq4` IQ4_XS IQ4_NL; `iq1` IQ1_S IQ1_M; `iq2` IQ2_XXS. Shared pieces: `search`
//! (llama.cpp's scale searches `make_qx_quants`, `make_qkx3_quants`, `make_qp_quants`),
//! `refine` (neighbouring scale codes and a least-squares super-block scale after
//! them), `oddscale` (the super-block scale of the codebook types for fixed codes) and
//! `grid` (codebook maps and nearest-neighbour lists, built once).
//!
//! Depends on: [`crate::types`], [`crate::blocks`] (layouts, f16 conversion),
//! [`crate::tables`] (codebooks).

use std::fmt;

use crate::types::GgmlType;

mod grid;
mod iq1;
mod iq2;
mod iq4;
mod kquants;
mod legacy;
mod oddscale;
mod refine;
mod search;
mod ternary;

/// Why [`quantize_rows`] refused its input. Nothing is written to `dst` on error.
#[derive(Clone, Debug, PartialEq)]
pub enum QuantizeError {
    /// The type has no weight quantizer here.
    Unsupported(GgmlType),
    /// `n_per_row` is zero or not a whole number of the type's blocks.
    RowLength {
        ty: GgmlType,
        n_per_row: usize,
        block_size: usize,
    },
    /// `src.len()` is not a multiple of `n_per_row`.
    SrcLength { len: usize, n_per_row: usize },
    /// `dst.len()` is not rows × row bytes.
    DstLength { expected: usize, got: usize },
    /// The importance vector is not `n_per_row` long.
    ImportanceLength { expected: usize, got: usize },
    /// `src[index]` is NaN or infinite.
    NonFinite { index: usize, value: f32 },
    /// `importance[index]` is negative, NaN or infinite.
    BadImportance { index: usize, value: f32 },
}

impl fmt::Display for QuantizeError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            QuantizeError::Unsupported(t) => {
                write!(f, "no weight quantizer for type {}", t.name())
            }
            QuantizeError::RowLength {
                ty,
                n_per_row,
                block_size,
            } => write!(
                f,
                "row length {n_per_row} is not a positive multiple of the {} block size {block_size}",
                ty.name()
            ),
            QuantizeError::SrcLength { len, n_per_row } => write!(
                f,
                "source length {len} is not a multiple of the row length {n_per_row}"
            ),
            QuantizeError::DstLength { expected, got } => write!(
                f,
                "destination is {got} bytes, the quantized rows need {expected}"
            ),
            QuantizeError::ImportanceLength { expected, got } => write!(
                f,
                "importance vector has {got} values, the row length is {expected}"
            ),
            QuantizeError::NonFinite { index, value } => {
                write!(f, "source value {value} at index {index} is not finite")
            }
            QuantizeError::BadImportance { index, value } => write!(
                f,
                "importance {value} at column {index} is not a finite non-negative number"
            ),
        }
    }
}

impl std::error::Error for QuantizeError {}

/// One row: `x` (a whole number of blocks), optional importance of the same length,
/// `out` exactly the row's bytes.
type RowFn = fn(x: &[f32], importance: Option<&[f32]>, out: &mut [u8]);

fn row_fn(ty: GgmlType) -> Option<RowFn> {
    use GgmlType::*;
    Some(match ty {
        Q8_0 => legacy::quantize_row_q8_0,
        Q4_0 => legacy::quantize_row_q4_0,
        Q4_1 => legacy::quantize_row_q4_1,
        Q5_0 => legacy::quantize_row_q5_0,
        Q5_1 => legacy::quantize_row_q5_1,
        Q2_K => kquants::quantize_row_q2_k,
        Q3_K => kquants::quantize_row_q3_k,
        Q4_K => kquants::quantize_row_q4_k,
        Q5_K => kquants::quantize_row_q5_k,
        Q6_K => kquants::quantize_row_q6_k,
        TQ1_0 => ternary::quantize_row_tq1_0,
        TQ2_0 => ternary::quantize_row_tq2_0,
        IQ4_XS => iq4::quantize_row_iq4_xs,
        IQ4_NL => iq4::quantize_row_iq4_nl,
        IQ1_S => iq1::quantize_row_iq1_s,
        IQ1_M => iq1::quantize_row_iq1_m,
        IQ2_XXS => iq2::quantize_row_iq2_xxs,
        _ => return None,
    })
}

/// Whether [`quantize_rows`] supports `ty` as a weight target.
pub fn supports(ty: GgmlType) -> bool {
    row_fn(ty).is_some()
}

/// Quantize `src` (rows of `n_per_row` f32) into `dst` (exactly rows ×
/// `ty.row_bytes(n_per_row)` bytes).
///
/// `importance`: optional per-column weights (length `n_per_row`), llama.cpp's imatrix
/// semantics (larger = that input column matters more). No type requires it.
///
/// Errors, never panics, on: unsupported type, `n_per_row` zero or not a multiple of the
/// block size, `src.len()` not a multiple of `n_per_row`, `dst` of the wrong length, an
/// importance vector of the wrong length or with negative / non-finite values, and
/// non-finite input. On error `dst` is untouched.
pub fn quantize_rows(
    ty: GgmlType,
    src: &[f32],
    n_per_row: usize,
    importance: Option<&[f32]>,
    dst: &mut [u8],
) -> Result<(), QuantizeError> {
    let f = row_fn(ty).ok_or(QuantizeError::Unsupported(ty))?;
    let row_bytes = match ty.row_bytes(n_per_row) {
        Some(b) if n_per_row > 0 => b,
        _ => {
            return Err(QuantizeError::RowLength {
                ty,
                n_per_row,
                block_size: ty.block_size(),
            })
        }
    };
    if !src.len().is_multiple_of(n_per_row) {
        return Err(QuantizeError::SrcLength {
            len: src.len(),
            n_per_row,
        });
    }
    let rows = src.len() / n_per_row;
    let expected = rows.saturating_mul(row_bytes);
    if dst.len() != expected {
        return Err(QuantizeError::DstLength {
            expected,
            got: dst.len(),
        });
    }
    if let Some(q) = importance {
        if q.len() != n_per_row {
            return Err(QuantizeError::ImportanceLength {
                expected: n_per_row,
                got: q.len(),
            });
        }
        if let Some((index, &value)) = q
            .iter()
            .enumerate()
            .find(|(_, v)| !(v.is_finite() && **v >= 0.0))
        {
            return Err(QuantizeError::BadImportance { index, value });
        }
    }
    if let Some((index, &value)) = src.iter().enumerate().find(|(_, v)| !v.is_finite()) {
        return Err(QuantizeError::NonFinite { index, value });
    }
    for (x, out) in src
        .chunks_exact(n_per_row)
        .zip(dst.chunks_exact_mut(row_bytes))
    {
        f(x, importance, out);
    }
    Ok(())
}

/// `nearest_int` of ggml: round half to even. Like ggml, adds 1.5·2²³ and reads the
/// mantissa bits (`round_ties_even` is a libm call without SSE4.1); outside ±2²² — where
/// ggml asserts — it falls back to `round_ties_even`, saturating. NaN gives 0.
#[inline(always)]
pub(crate) fn nearest_int(x: f32) -> i32 {
    if x.abs() <= 4_194_303.0 {
        ((x + 12_582_912.0).to_bits() & 0x007F_FFFF) as i32 - 0x0040_0000
    } else {
        x.round_ties_even() as i32
    }
}

/// Mean of x² over a slice (0 for an empty one).
#[inline]
pub(crate) fn mean_sq(x: &[f32]) -> f32 {
    if x.is_empty() {
        return 0.0;
    }
    x.iter().map(|v| v * v).sum::<f32>() / x.len() as f32
}

/// `w_i = q_i·sqrt(sigma2 + x_i²)`: llama.cpp's weights when an importance vector is
/// given.
#[inline]
pub(crate) fn importance_weights(x: &[f32], q: &[f32], sigma2: f32, w: &mut [f32]) {
    for ((w, &x), &q) in w.iter_mut().zip(x).zip(q) {
        *w = q * (sigma2 + x * x).sqrt();
    }
}

/// f32 → f16 → f32: the value a stored half scale decodes to. Saturates at ±65504
/// instead of overflowing to infinity, so rows with values beyond the f16 range of a
/// type's scale decode clipped but finite.
#[inline(always)]
pub(crate) fn f16_round(x: f32) -> f32 {
    half::f16::from_f32(x.clamp(-65504.0, 65504.0)).to_f32()
}
