//! Sampling defaults per model, applied where the user gave no value.
//!
//! llama.cpp's general defaults (temperature 0.8, top-p 0.95, min-p 0.05), except for
//! DeepSeek-R1-style models (`deepseek2`): DeepSeek recommends temperature 0.6 and
//! top-p 0.95; with ~1.58-bit routed experts (the UD-IQ1_S release and its kin) min-p
//! 0.1 also cuts the stray wrong tokens such files emit now and then (Unsloth's advice).

use crate::gguf::GgufFile;
use crate::schema::{role_of, Arch, TensorRole};

/// Values to use for flags the user left out.
#[derive(Debug, Clone, PartialEq)]
pub struct SamplingDefaults {
    pub temp: f32,
    pub top_p: f32,
    pub min_p: f32,
    /// Why these differ from llama.cpp's general defaults (printed at start).
    pub reason: Option<String>,
}

impl Default for SamplingDefaults {
    fn default() -> Self {
        SamplingDefaults {
            temp: 0.8,
            top_p: 0.95,
            min_p: 0.05,
            reason: None,
        }
    }
}

/// Bits per weight of the routed experts, if the model has any.
pub fn routed_expert_bpw(file: &GgufFile) -> Option<f64> {
    let (mut bytes, mut elements) = (0u64, 0u64);
    for t in file.tensors() {
        if role_of(&t.name) == TensorRole::RoutedExperts {
            bytes += t.n_bytes;
            elements += t.n_elements();
        }
    }
    (elements > 0).then(|| bytes as f64 * 8.0 / elements as f64)
}

impl SamplingDefaults {
    pub fn for_model(arch: Arch, file: &GgufFile) -> SamplingDefaults {
        if arch != Arch::Deepseek2 {
            return SamplingDefaults::default();
        }
        match routed_expert_bpw(file) {
            Some(bpw) if bpw < 2.0 => SamplingDefaults {
                temp: 0.6,
                top_p: 0.95,
                min_p: 0.1,
                reason: Some(format!(
                    "DeepSeek-R1 defaults with {bpw:.2}-bit routed experts"
                )),
            },
            _ => SamplingDefaults {
                temp: 0.6,
                top_p: 0.95,
                reason: Some("DeepSeek-R1 defaults".into()),
                ..SamplingDefaults::default()
            },
        }
    }
}
