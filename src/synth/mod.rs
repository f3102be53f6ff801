//! Synthetic models: GGUF files of the supported architectures with random weights
//! (fixed seed), written with llama.cpp's tensor names, metadata and layouts so they
//! load in llama.cpp too. Tests, tools and `bitmoe synth` / `bitmoe bench` share them.
//!
//! * [`write_dense`] / [`DenseSpec`]: tiny llama and qwen2 models, Q8_0 weights.
//! * [`write_deepseek2`] / [`MoeSpec`]: DeepSeek-R1-shaped models (MLA, dense lead
//!   blocks, sigmoid-routed experts with a shared expert) in the UD-IQ1_S type mix, in
//!   the legacy (`attn_kv_b`) or split (`attn_k_b` / `attn_v_b`) MLA layout; presets
//!   [`MoeSpec::r1_tiny`] (runs in milliseconds) and [`MoeSpec::r1_wide`] (R1's true
//!   widths, ~2.4 GB per MoE block, streamed to disk).
//!
//! Weights are random *valid* blocks of the target type ([`blocks`]): random quants and
//! grid indices under scales chosen for a target standard deviation, so no quantizer
//! runs. The tokenizer is a small byte-level BPE vocabulary with ChatML specials, or
//! one copied from another GGUF file ([`copy_tokenizer`]).
//!
//! Files: `rng` (xorshift streams), `vocab` (tokenizer metadata), `blocks` (random
//! blocks), `dense`, `deepseek2`, `mla` (k_b / v_b from kv_b).

pub mod blocks;
mod deepseek2;
mod dense;
mod mla;
mod rng;
mod vocab;

pub use deepseek2::{deepseek2_layout, write_deepseek2, MlaLayout, MoeSpec, MoeTypes, Yarn};
pub use dense::{write_dense, DenseSpec};
pub use rng::Rng;
pub use vocab::copy_tokenizer;
