//! `llama` (SmolLM2, R1-Distill-Llama, Llama 3.x): hyper-parameters → [`DenseConfig`].
//! NORM RoPE (the converter pre-permutes Q/K), optional Llama-3.1 `rope_freqs`, no
//! biases, tied embeddings when `output.weight` is absent.

use super::dense::DenseConfig;
use crate::model::ops::RopeMode;
use crate::model::ModelError;
use crate::schema::{Hparams, TensorKind};
use crate::weights::Weights;

pub fn config(h: &Hparams, w: &Weights) -> Result<DenseConfig, ModelError> {
    let mut cfg = super::dense_config(h, RopeMode::Norm, false)?;
    cfg.rope.freq_factors = w.f32_vector_optional(TensorKind::RopeFreqs, 0, cfg.rope.n_rot / 2)?;
    Ok(cfg)
}
