//! Software prefetch of weight rows. A GEMV streams each weight row once; hardware
//! prefetchers follow one sequential stream well, but the kernels' first loads of each
//! block still stall on DRAM latency. Touching the row a few rows ahead hides most of it.

/// Hints the CPU to bring the cache lines of `bytes` into cache. Never faults: prefetch
/// instructions ignore invalid addresses, and the slice is valid anyway.
#[inline]
pub fn prefetch_read(bytes: &[u8]) {
    #[cfg(target_arch = "x86_64")]
    {
        use core::arch::x86_64::{_mm_prefetch, _MM_HINT_T0};
        for off in (0..bytes.len()).step_by(64) {
            // SAFETY: SSE is part of the x86-64 baseline; prefetch only hints the cache
            // and reads nothing architecturally; the address is inside `bytes`.
            unsafe { _mm_prefetch::<_MM_HINT_T0>(bytes.as_ptr().add(off).cast()) };
        }
    }
    #[cfg(not(target_arch = "x86_64"))]
    {
        let _ = bytes;
    }
}
