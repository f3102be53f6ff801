//! The quantization plan: for every tensor of the input, whether it is quantized or
//! copied, to which type and why (the recipe rule, or the shape fallback), and what the
//! result weighs: total size, bits per weight, bytes every decoded token reads.
//! `quantize --dry-run` prints it; `quantize` executes it.

use std::collections::BTreeMap;

use serde::Serialize;

use super::recipe::{ModelShape, Recipe};
use crate::gguf::TensorDecl;
use crate::inspect::{Footprint, Tally};
use crate::quant::QuantType;
use crate::schema::{role_of, Hparams, TensorRole};

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum Action {
    /// Written as it is (norms, router, biases, 1-D tensors, or already the target type).
    Copy,
    /// Dequantized to f32 and quantized to the target type.
    Quantize,
}

#[derive(Debug, Clone, Serialize)]
pub struct PlanEntry {
    pub name: String,
    pub dims: Vec<u64>,
    pub from: &'static str,
    pub to: &'static str,
    #[serde(skip)]
    pub from_ty: QuantType,
    #[serde(skip)]
    pub to_ty: QuantType,
    pub action: Action,
    /// The rule that chose the type, "default", or why the tensor is copied.
    pub why: String,
    /// The recipe's type when the row length forced another (`spec` §4.4).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub fallback_from: Option<&'static str>,
    pub bytes: u64,
}

#[derive(Debug, Clone, Serialize)]
pub struct Plan {
    pub recipe: String,
    pub entries: Vec<PlanEntry>,
    pub input_bytes: u64,
    pub output_bytes: u64,
    pub n_elements: u64,
    /// Tensors and bytes per output type.
    pub by_type: BTreeMap<&'static str, Tally>,
    pub footprint: Footprint,
}

/// Why a plan cannot be made.
#[derive(Debug, thiserror::Error)]
pub enum PlanError {
    #[error("tensor {tensor} is already quantized ({ty}); quantizing it again loses quality: pass --allow-requantize to do it anyway")]
    Requantize { tensor: String, ty: &'static str },
    #[error("tensor {tensor}: no quantizer for {ty} (planned by {why})")]
    NoQuantizer {
        tensor: String,
        ty: &'static str,
        why: String,
    },
}

/// Whether llama-quantize would quantize this tensor at all (`spec` §4.1): 2-D or more,
/// a `.weight`, and not a norm, the MoE router or a position embedding.
pub fn is_quantizable(t: &TensorDecl) -> bool {
    t.dims.len() >= 2
        && t.name.ends_with("weight")
        && !t.name.ends_with("_norm.weight")
        && !t.name.contains("ffn_gate_inp")
        && !t.name.contains("position_embd")
        && !t.name.contains("token_types")
}

/// The type llama-quantize substitutes when a row of `ne0` values is not a whole number
/// of `ty`'s blocks (`spec` §4.4).
pub fn shape_fallback(ty: QuantType, ne0: u64) -> QuantType {
    use QuantType::*;
    if ne0.is_multiple_of(ty.block_size()) {
        return ty;
    }
    let next = match ty {
        Iq1S | Iq1M | Iq2Xxs | Iq2Xs | Iq2S | Iq3Xxs | Iq3S | Iq4Xs => Iq4Nl,
        Q2K | Q3K | Tq1_0 | Tq2_0 => Q4_0,
        Q4K => Q5_0,
        Q5K => Q5_1,
        Q6K => Q8_0,
        _ => F16,
    };
    if ne0.is_multiple_of(next.block_size()) {
        next
    } else {
        F16
    }
}

/// Types `quantize` can write: the float types and whatever the kernel crate quantizes.
pub fn can_write(ty: QuantType) -> bool {
    matches!(ty, QuantType::F32 | QuantType::F16 | QuantType::Bf16)
        || bitmoe_simd::GgmlType::from_id(ty.id()).is_some_and(bitmoe_simd::quantize::supports)
}

/// Source types quantized without `--allow-requantize`: floats and Q8_0.
fn is_source_type(ty: QuantType) -> bool {
    matches!(
        ty,
        QuantType::F32 | QuantType::F16 | QuantType::Bf16 | QuantType::Q8_0
    )
}

impl Plan {
    /// The plan for a file's `tensors` (in file order).
    pub fn make(
        tensors: &[TensorDecl],
        hparams: Option<&Hparams>,
        recipe: &Recipe,
        allow_requantize: bool,
    ) -> Result<Plan, PlanError> {
        let shape = ModelShape {
            n_layer: hparams.map_or(0, |h| h.common.n_layer as usize),
            n_dense_lead: hparams
                .and_then(|h| h.deepseek2.as_ref())
                .map_or(0, |d| d.leading_dense_blocks as usize),
            is_moe: hparams
                .and_then(|h| h.deepseek2.as_ref())
                .is_some_and(|d| d.expert_count > 0),
        };
        let mut entries = Vec::with_capacity(tensors.len());
        for t in tensors {
            let (to, why, fallback_from, action) = if !is_quantizable(t) {
                (
                    t.ty,
                    "kept (norm, router, bias or 1-D)".to_string(),
                    None,
                    Action::Copy,
                )
            } else {
                let (wanted, why) = recipe.choose(&t.name, &shape);
                let to = shape_fallback(wanted, t.dims[0]);
                let fallback = (to != wanted).then(|| wanted.name());
                if to == t.ty {
                    (
                        to,
                        format!("{why} (already {})", to.name()),
                        fallback,
                        Action::Copy,
                    )
                } else {
                    if !is_source_type(t.ty) && !allow_requantize {
                        return Err(PlanError::Requantize {
                            tensor: t.name.clone(),
                            ty: t.ty.name(),
                        });
                    }
                    if !can_write(to) {
                        return Err(PlanError::NoQuantizer {
                            tensor: t.name.clone(),
                            ty: to.name(),
                            why: why.to_string(),
                        });
                    }
                    (to, why.to_string(), fallback, Action::Quantize)
                }
            };
            let bytes = to
                .tensor_bytes(&t.dims)
                .expect("a fallback type always divides the row");
            entries.push(PlanEntry {
                name: t.name.clone(),
                dims: t.dims.clone(),
                from: t.ty.name(),
                to: to.name(),
                from_ty: t.ty,
                to_ty: to,
                action,
                why,
                fallback_from,
                bytes,
            });
        }
        let mut by_type: BTreeMap<&'static str, Tally> = BTreeMap::new();
        let mut by_role: BTreeMap<TensorRole, Tally> = BTreeMap::new();
        let mut n_elements = 0;
        for e in &entries {
            let elements: u64 = e.dims.iter().product();
            n_elements += elements;
            for tally in [
                by_type.entry(e.to).or_default(),
                by_role.entry(role_of(&e.name)).or_default(),
            ] {
                tally.tensors += 1;
                tally.bytes += e.bytes;
                tally.elements += elements;
            }
        }
        let output_bytes = entries.iter().map(|e| e.bytes).sum();
        Ok(Plan {
            recipe: recipe.name.clone(),
            input_bytes: tensors
                .iter()
                .map(|t| t.ty.tensor_bytes(&t.dims).unwrap_or(0))
                .sum(),
            output_bytes,
            n_elements,
            by_type,
            footprint: Footprint::of(&by_role, output_bytes, hparams),
            entries,
        })
    }

    pub fn bits_per_weight(&self) -> f64 {
        self.output_bytes as f64 * 8.0 / self.n_elements.max(1) as f64
    }

    /// The plan as text: one line per tensor, then totals by type and the footprint.
    pub fn render(&self) -> String {
        let mut out = format!("plan (recipe {}):\n", self.recipe);
        let width = self.entries.iter().map(|e| e.name.len()).max().unwrap_or(0);
        for e in &self.entries {
            let dims: Vec<String> = e.dims.iter().map(u64::to_string).collect();
            let fallback = e.fallback_from.map_or(String::new(), |f| {
                format!(" (row {} not whole {f} blocks)", e.dims[0])
            });
            out.push_str(&format!(
                "  {:width$}  {:>18}  {:>7} -> {:<7} {:>10.2} MiB  {}{fallback}\n",
                e.name,
                dims.join("x"),
                e.from,
                e.to,
                e.bytes as f64 / (1u64 << 20) as f64,
                e.why,
            ));
        }
        out.push_str("by type:\n");
        for (ty, t) in &self.by_type {
            out.push_str(&format!(
                "  {ty:>8}: {:4} tensors  {:>10.2} MiB  ({:.1} % of bytes)\n",
                t.tensors,
                t.bytes as f64 / (1u64 << 20) as f64,
                100.0 * t.bytes as f64 / self.output_bytes.max(1) as f64
            ));
        }
        let gib = |b: u64| b as f64 / (1u64 << 30) as f64;
        out.push_str(&format!(
            "size: {:.2} GiB -> {:.3} GiB ({:.2} bits per weight)\n\
             resident (all but routed experts): {:.3} GiB, routed experts: {:.3} GiB\n\
             weight bytes read per decoded token: {:.1} MiB\n",
            gib(self.input_bytes),
            gib(self.output_bytes),
            self.bits_per_weight(),
            gib(self.footprint.resident_bytes),
            gib(self.footprint.routed_expert_bytes),
            self.footprint.touched_per_token_bytes as f64 / (1u64 << 20) as f64,
        ));
        out
    }
}

#[cfg(test)]
mod unit {
    use super::*;

    #[test]
    fn shape_fallback_follows_llama_quantize() {
        use QuantType::*;
        assert_eq!(shape_fallback(Iq1S, 7168), Iq1S);
        assert_eq!(shape_fallback(Iq1S, 576), Iq4Nl);
        assert_eq!(shape_fallback(Q4K, 576), Q5_0);
        assert_eq!(shape_fallback(Q5K, 576), Q5_1);
        assert_eq!(shape_fallback(Q6K, 128), Q8_0);
        assert_eq!(shape_fallback(Tq1_0, 576), Q4_0);
        assert_eq!(shape_fallback(Q4K, 100), F16);
        assert_eq!(shape_fallback(Q8_0, 48), F16);
    }
}
