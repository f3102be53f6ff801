//! The model schema: every GGUF metadata key and tensor-name string bitmoe reads lives
//! in this module and nowhere else (container keys such as `general.alignment` and the
//! split keys belong to `gguf::keys`). Other modules name keys and tensors by enum.
//!
//! Owns: [`Arch`], the key enums (`keys`), tensor kinds and roles (`tensors`), typed
//! hyper-parameters per architecture (`hparams`). Depends on `gguf` (metadata access).

pub mod hparams;
pub mod keys;
pub mod tensors;

use serde::Serialize;

pub use hparams::{
    CommonParams, Deepseek2Params, GatingFunc, Hparams, RopeScaling, RopeScalingType, SchemaError,
};
pub use keys::{ArchKey, GeneralKey, TokenizerKey};
pub use tensors::{
    block_label, block_of, role_of, strip_block_prefix, TensorKind, TensorName, TensorRole,
};

/// A supported model architecture (`general.architecture`).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize)]
#[serde(rename_all = "lowercase")]
pub enum Arch {
    Llama,
    Qwen2,
    Deepseek2,
}

impl Arch {
    pub const ALL: [Arch; 3] = [Arch::Llama, Arch::Qwen2, Arch::Deepseek2];

    pub fn name(self) -> &'static str {
        match self {
            Arch::Llama => "llama",
            Arch::Qwen2 => "qwen2",
            Arch::Deepseek2 => "deepseek2",
        }
    }

    pub fn from_name(name: &str) -> Option<Arch> {
        Arch::ALL.into_iter().find(|a| a.name() == name)
    }
}

impl std::fmt::Display for Arch {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(self.name())
    }
}
