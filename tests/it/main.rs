//! bitmoe's integration tests: one binary, one module per concern.

mod cli_bench;
mod cli_dump;
mod cli_info;
mod cli_run;
mod deepseek2;
mod dense_models;
mod expert_cache;
mod gguf_malformed;
mod gguf_roundtrip;
mod gguf_split;
mod golden_llama_cpp;
mod quantize;
mod real_model;
mod support;
mod synth_deepseek2;
mod tokenizer;
