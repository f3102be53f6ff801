//! Memory read-bandwidth probe: the floor every decode kernel is measured against.
//! A token's matmuls stream each weight byte once, so a kernel's GB/s divided by this
//! probe's GB/s (same thread count) says how close it runs to the memory limit.
//!
//! The probe sums a buffer far larger than the caches as u64 words, split over the
//! pool's threads; the sum is returned so the compiler cannot drop the reads.

use rayon::prelude::*;

/// A buffer of `bytes` (rounded down to whole u64 words), every page written so the
/// kernel has really backed it with memory.
pub fn probe_buffer(bytes: usize) -> Vec<u64> {
    let words = bytes / 8;
    let mut buf = vec![0u64; words];
    buf.par_chunks_mut(1 << 16).enumerate().for_each(|(i, c)| {
        for (j, w) in c.iter_mut().enumerate() {
            *w = (i as u64) << 32 | j as u64;
        }
    });
    buf
}

/// Reads all of `buf` once on `pool`; returns a checksum.
pub fn read_all(pool: &rayon::ThreadPool, buf: &[u64]) -> u64 {
    let chunk = buf
        .len()
        .div_ceil(pool.current_num_threads().max(1) * 16)
        .max(1 << 12);
    pool.install(|| {
        buf.par_chunks(chunk)
            .map(|c| {
                // Four independent accumulators keep the adds off the critical path.
                let mut acc = [0u64; 4];
                let mut it = c.chunks_exact(4);
                for w in &mut it {
                    for l in 0..4 {
                        acc[l] = acc[l].wrapping_add(w[l]);
                    }
                }
                let tail: u64 = it.remainder().iter().fold(0, |a, &b| a.wrapping_add(b));
                acc.iter().fold(tail, |a, &b| a.wrapping_add(b))
            })
            .reduce(|| 0, u64::wrapping_add)
    })
}

/// Best-of-`reps` read bandwidth in bytes per second over `buf`.
pub fn measure(pool: &rayon::ThreadPool, buf: &[u64], reps: usize) -> f64 {
    let bytes = std::mem::size_of_val(buf) as f64;
    let mut best = f64::INFINITY;
    let mut check = 0u64;
    for _ in 0..reps.max(1) {
        let t = std::time::Instant::now();
        check = check.wrapping_add(read_all(pool, buf));
        best = best.min(t.elapsed().as_secs_f64());
    }
    std::hint::black_box(check);
    bytes / best
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_checksum_covers_every_word() {
        let pool = rayon::ThreadPoolBuilder::new()
            .num_threads(2)
            .build()
            .unwrap();
        let buf = probe_buffer(3 << 20);
        let expected = buf.iter().fold(0u64, |a, &b| a.wrapping_add(b));
        assert_eq!(read_all(&pool, &buf), expected);
        assert_eq!(read_all(&pool, &buf[..13]), buf[..13].iter().sum::<u64>());
    }
}
