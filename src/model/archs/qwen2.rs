//! `qwen2` (R1-Distill-Qwen, Qwen2.5): hyper-parameters → [`DenseConfig`]. NEOX RoPE
//! (weights are not permuted), q/k/v biases required, optional output bias.

use super::dense::DenseConfig;
use crate::model::ops::RopeMode;
use crate::model::ModelError;
use crate::schema::Hparams;

pub fn config(h: &Hparams) -> Result<DenseConfig, ModelError> {
    super::dense_config(h, RopeMode::Neox, true)
}
