//! `bitmoe quantize`: requantizing a GGUF per tensor by a recipe.
//!
//! Owns: recipes as data (`recipe`: ordered rules → type, built-ins for the R1
//! dynamic quants), the plan (`plan`: type per tensor after llama-quantize's shape
//! fallback, sizes, bytes per token), importance matrices in llama.cpp's formats
//! (`imatrix`) and collecting them from a run (`collect`), and writing the output (`execute`: streaming, threaded, split parts).
//! The block quantizers themselves are `bitmoe_simd::quantize`.

pub mod collect;
pub mod execute;
pub mod imatrix;
pub mod plan;
pub mod recipe;

pub use collect::ImatrixCollector;
pub use execute::{execute, llama_ftype, Inputs, QuantizeError};
pub use imatrix::{Imatrix, ImatrixEntry, ImatrixError};
pub use plan::{Action, Plan, PlanEntry, PlanError};
pub use recipe::{Recipe, RecipeError};
