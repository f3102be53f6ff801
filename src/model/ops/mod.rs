//! Numeric operations of the forward pass, all matmuls through `bitmoe_simd::Kernels`.

pub mod activation;
pub mod matmul;
pub mod norm;
pub mod rope;

pub use activation::{softmax, swiglu};
pub use matmul::{matmul, Activations, MatmulError, QMatrix};
pub use norm::rms_norm;
pub use rope::{Rope, RopeMode};
