//! ISA-specific kernels: thin instances of the scalar algorithms of [`crate::blocks`].
//!
//! Owns: the `#[target_feature]` functions per ISA and their installation into a
//! [`crate::kernels::Kernels`] table. Nothing here is public: the only way to reach a
//! kernel is through a table whose level was checked against the hardware, which is
//! the proof every safe entry point below relies on.
//!
//! Every kernel computes the same exact integer block sums as its scalar reference;
//! where the reference combines blocks as `acc += f(block integers)` in scalar floats,
//! the kernels reduce each block to those integers and repeat the reference's float
//! expression, so their result is bit-identical; where the reference uses 8 float lanes
//! (Q3_K…Q6_K) or per-32 blocks (Q4_0, Q4_1, Q8_0), and in the x86 IQ1_S, IQ1_M and
//! IQ2_XXS kernels (where a per-block horizontal sum cost 15%), they accumulate in
//! vector floats and differ only by summation order.
//!
//! The fused multi-row kernels (`vec_dot_n_*`; the `x86` and `aarch64` module docs list
//! their types) compute, per activation row, the same integers in the same lanes and
//! the same float operations in the same order as the single-row kernel of their level
//! (which is their one-row instance): their results are bit-identical to it, so a batch
//! (GEMM) equals the same tokens one at a time (GEMV).
//!
//! Depends on: [`crate::blocks`], [`crate::tables`], [`crate::kernels`].

use crate::isa::Isa;
use crate::kernels::TypeKernels;

#[cfg(target_arch = "aarch64")]
mod aarch64;
#[cfg(target_arch = "x86_64")]
mod x86;

/// Replaces the entries of `table` that level `isa` has kernels for. `isa` must be
/// supported by this machine (guaranteed by `Kernels::new`, which caps it to
/// `Isa::hardware()`).
pub(crate) fn install(isa: Isa, table: &mut [TypeKernels]) {
    debug_assert!(isa.is_supported());
    match isa {
        Isa::Scalar => {}
        #[cfg(target_arch = "x86_64")]
        Isa::Avx2 => x86::install_avx2(table),
        #[cfg(target_arch = "x86_64")]
        Isa::Avx512 { vnni } => {
            x86::install_avx2(table);
            x86::install_avx512(table, vnni);
        }
        #[cfg(target_arch = "aarch64")]
        Isa::Neon { dotprod } => aarch64::install(table, dotprod),
        #[allow(unreachable_patterns)]
        _ => {}
    }
}
