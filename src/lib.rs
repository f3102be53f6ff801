//! bitmoe runs GGUF language models on machines whose RAM is a fraction of the model:
//! DeepSeek-R1 671B (1.58-bit dynamic quant, 131 GB) on ~20 GB of RAM plus NVMe, the
//! dense R1 distills on laptops.
//!
//! The data path, file → token; each module depends only on those above it:
//!
//! - [`quant`]: the GGML type table (ids, block sizes, bytes per block).
//! - [`gguf`]: parse and validate GGUF files (split parts included), mmap them, hand out
//!   bounds-checked tensor views; write GGUF files.
//! - [`schema`]: every key and tensor name as enums; typed hyper-parameters per
//!   architecture; the role of each tensor.
//! - [`weights`]: shape-checked tensor views bound at load (placement and the expert
//!   cache will sit here).
//! - [`kv_cache`]: the f16 K/V cache.
//! - [`model`]: ops (matmul over `bitmoe_simd::Kernels`, norm, RoPE, softmax), blocks
//!   (GQA attention, dense FFN), architectures (llama, qwen2).
//! - [`sampler`], [`tokenizer`]: logits → token → text; chat templates.
//! - [`engine`]: the `Session` that wires the above (prefill, decode, stop, timings).
//! - [`cli`]: flags → commands. [`inspect`] (what a file holds), [`synth`] (synthetic
//!   models) and [`bandwidth`] (the read-bandwidth probe) serve the commands and tests.
//! - [`quantize`]: file → file: recipes, plans, importance matrices, requantization.
//!
//! Kernels (and the block quantizers) live in the `bitmoe-simd` crate. GPU offload
//! arrives with a later issue.

pub mod bandwidth;
pub mod cli;
pub mod engine;
pub mod gguf;
pub mod inspect;
pub mod kv_cache;
pub mod model;
pub mod quant;
pub mod quantize;
pub mod sampler;
pub mod schema;
pub mod synth;
pub mod tokenizer;
pub mod weights;
