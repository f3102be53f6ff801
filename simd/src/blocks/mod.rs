//! Block layouts and scalar references, one module per format family.
//!
//! Owns: a `#[repr(C)]` struct per GGML block type (with a compile-time size assert),
//! the scalar dequantizer of every type, the scalar activation quantizers
//! (f32 → Q8_0 / Q8_1 / Q8_K / F16 / BF16) and the scalar `vec_dot` of every weight type
//! against its activation type. These scalar functions are the references the SIMD
//! kernels in `crate::arch` are tested against; they follow the generic formulas of
//! `shared/spec/quant-formats.md` §2–§7 (integer inner sums, then the float combination
//! in the documented order, blocks accumulated left to right).
//!
//! Every block struct contains only `u8` / `i8` arrays: alignment 1 and every bit
//! pattern valid, so a block slice can be viewed at any byte offset of an mmapped file
//! ([`Block`], [`as_blocks`]). Multi-byte fields are little-endian and read through
//! accessors.
//!
//! Byte-slice API and its preconditions (checked by the caller, at load time):
//! * `dequantize_*(blocks, out)`: `blocks.len()` a multiple of the block bytes and
//!   `out.len()` = elements of those blocks. If not, the functions never panic and never
//!   read or write out of bounds: they process the whole blocks that fit in both.
//! * `vec_dot_*(w, a)`: `w` and `a` hold the same number of elements, as whole blocks
//!   of the weight and activation types. Otherwise the common number of whole blocks
//!   is used.
//! * `quantize_*(x, out)`: `x.len()` a multiple of the block size and `out` exactly the
//!   bytes of those blocks; otherwise the common number of whole blocks is written.
//!
//! Depends on: [`crate::tables`], the `half` crate.

pub mod float;
pub mod iq1;
pub mod iq2;
pub mod iq3;
pub mod iq4;
pub mod kquants;
pub mod legacy;
pub mod q8;
pub mod ternary;

/// A block type whose bytes can be reinterpreted from any byte slice.
///
/// # Safety
/// Implementors must be `#[repr(C)]`, contain only `u8` / `i8` arrays (so alignment is 1,
/// there is no padding and every bit pattern is a valid value), and `BYTES` must equal
/// `size_of::<Self>()`.
pub unsafe trait Block: Sized {
    /// Elements per block.
    const QK: usize;
    /// Bytes per block (`size_of::<Self>()`).
    const BYTES: usize;
}

/// Declares `unsafe impl Block` and the compile-time layout asserts for a block type.
macro_rules! impl_block {
    ($t:ty, $qk:expr, $bytes:expr) => {
        const _: () = assert!(::core::mem::size_of::<$t>() == $bytes);
        const _: () = assert!(::core::mem::align_of::<$t>() == 1);
        // SAFETY: the struct is #[repr(C)] and made of u8/i8 arrays only (checked by the
        // align-1 assert above: any wider field would raise the alignment), and its size
        // is asserted equal to BYTES.
        unsafe impl $crate::blocks::Block for $t {
            const QK: usize = $qk;
            const BYTES: usize = $bytes;
        }
    };
}
pub(crate) use impl_block;

/// Views the whole blocks at the start of `bytes` as `&[B]` (a trailing partial block
/// is ignored). Works at any alignment.
#[inline]
pub fn as_blocks<B: Block>(bytes: &[u8]) -> &[B] {
    let n = bytes.len() / B::BYTES;
    // SAFETY: B has alignment 1, no padding and no invalid bit patterns (Block contract),
    // and n * size_of::<B>() <= bytes.len(), so the view stays inside `bytes` and lives
    // as long as it.
    unsafe { core::slice::from_raw_parts(bytes.as_ptr().cast::<B>(), n) }
}

/// The whole blocks of a weight row `w` and of each activation row of `a`, all cut to
/// the shortest: the operands of a multi-row dot.
#[inline]
pub(crate) fn common_blocks<'a, X: Block, Y: Block, const N: usize>(
    w: &'a [u8],
    a: &[&'a [u8]; N],
) -> (&'a [X], [&'a [Y]; N]) {
    let xs = as_blocks::<X>(w);
    let ys = a.map(as_blocks::<Y>);
    let nb = ys.iter().fold(xs.len(), |m, y| m.min(y.len()));
    (&xs[..nb], ys.map(|y| &y[..nb]))
}

/// Mutable version of [`as_blocks`].
#[inline]
pub fn as_blocks_mut<B: Block>(bytes: &mut [u8]) -> &mut [B] {
    let n = bytes.len() / B::BYTES;
    // SAFETY: as in `as_blocks`; the exclusive borrow of `bytes` is moved into the result,
    // and every bit pattern written through B is a valid u8.
    unsafe { core::slice::from_raw_parts_mut(bytes.as_mut_ptr().cast::<B>(), n) }
}

/// Reads a little-endian IEEE half and widens it (exact).
///
/// Branch-light and inlinable (the `half` crate dispatches at run time per call, which
/// costs more than a block's arithmetic): the 15 magnitude bits are moved into f32
/// position and multiplied by 2^(127−15), which rebiases the exponent and normalizes
/// subnormals exactly; results at or above 2^16 were Inf/NaN and get the full exponent.
#[inline(always)]
pub fn f16_to_f32(bits: [u8; 2]) -> f32 {
    let h = u16::from_le_bytes(bits) as u32;
    let magic = f32::from_bits((254 - 15) << 23);
    let was_inf_nan = f32::from_bits((127 + 16) << 23);
    let f = f32::from_bits((h & 0x7FFF) << 13) * magic;
    let mut o = f.to_bits();
    if f >= was_inf_nan {
        o |= 255 << 23;
    }
    f32::from_bits(o | ((h & 0x8000) << 16))
}

/// Rounds to the nearest half, ties to even, as little-endian bytes.
#[inline(always)]
pub fn f32_to_f16(x: f32) -> [u8; 2] {
    half::f16::from_f32(x).to_bits().to_le_bytes()
}

/// Applies `f` to each whole block of `bytes` and its `B::QK` outputs.
#[inline(always)]
pub(crate) fn dequantize_each<B: Block>(bytes: &[u8], out: &mut [f32], f: impl Fn(&B, &mut [f32])) {
    for (b, o) in as_blocks::<B>(bytes)
        .iter()
        .zip(out.chunks_exact_mut(B::QK))
    {
        f(b, o);
    }
}

/// Pairs of (weight block, activation block) over the common whole blocks.
#[inline(always)]
pub(crate) fn block_pairs<'a, W: Block + 'a, A: Block + 'a>(
    w: &'a [u8],
    a: &'a [u8],
) -> impl Iterator<Item = (&'a W, &'a A)> {
    as_blocks::<W>(w).iter().zip(as_blocks::<A>(a))
}

#[cfg(test)]
mod tests {
    #[test]
    fn f16_widening_is_exact_for_every_half() {
        for h in 0..=u16::MAX {
            let want = half::f16::from_bits(h).to_f32();
            let got = super::f16_to_f32(h.to_le_bytes());
            if want.is_nan() {
                assert!(
                    got.is_nan() && got.to_bits() >> 31 == want.to_bits() >> 31,
                    "{h:#x}"
                );
            } else {
                assert_eq!(got.to_bits(), want.to_bits(), "{h:#x}");
            }
        }
    }
}
