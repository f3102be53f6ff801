//! Numeric operations of the forward pass, all matmuls through `bitmoe_simd::Kernels`.

pub mod activation;
pub mod dot;
pub mod matmul;
pub mod norm;
pub mod rope;
pub mod routing;

pub use activation::{softmax, swiglu};
pub use dot::dot;
pub use matmul::{matmul, matmul_local, Activations, MatmulError, QMatrix};
pub use norm::rms_norm;
pub use rope::{yarn_corr_dims, Rope, RopeMode};
pub use routing::{ExpertGroups, Router, Selected};
