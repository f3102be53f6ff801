//! The metadata keys the container itself interprets: alignment and the split-file
//! keys written by `llama-gguf-split`. Model keys (architecture, hyper-parameters,
//! tokenizer) and tensor names live in `schema/`, which builds on this module.

pub const GENERAL_ALIGNMENT: &str = "general.alignment";
/// 0-based index of this part (u16).
pub const SPLIT_NO: &str = "split.no";
/// Number of parts (u16).
pub const SPLIT_COUNT: &str = "split.count";
/// Tensors across all parts (i32).
pub const SPLIT_TENSORS_COUNT: &str = "split.tensors.count";
