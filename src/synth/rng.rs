//! The synthetic models' random numbers: xorshift64* (fast, tiny state, identical on
//! every machine) with Box-Muller normals.
//!
//! Owns: [`Rng`] and how a stream is seeded. The dense generator draws every tensor
//! from one sequential stream (its files, and the golden data made from them, depend on
//! that order); the deepseek2 generator gives each tensor its own stream derived from
//! the seed and the tensor's name ([`Rng::for_stream`]), so a tensor's bytes do not
//! depend on which other tensors the file holds — the two MLA layouts share every
//! non-attention byte, and a file with more layers starts with the same layers.
//! Depends on nothing.

/// xorshift64* generator.
#[derive(Debug, Clone)]
pub struct Rng(u64);

impl Rng {
    /// The sequential stream of seed `seed` (the dense generator's).
    pub fn from_seed(seed: u64) -> Rng {
        Rng(seed.wrapping_mul(0x9e37_79b9_7f4a_7c15) | 1)
    }

    /// An independent stream for `(seed, label)`: FNV-1a of the label, mixed with the
    /// seed by splitmix64 so nearby seeds and labels give unrelated streams.
    pub fn for_stream(seed: u64, label: &str) -> Rng {
        let mut h: u64 = 0xcbf2_9ce4_8422_2325;
        for b in label.bytes() {
            h = (h ^ u64::from(b)).wrapping_mul(0x0100_0000_01b3);
        }
        let mut z = h ^ seed.wrapping_mul(0x9e37_79b9_7f4a_7c15);
        z = (z ^ (z >> 30)).wrapping_mul(0xbf58_476d_1ce4_e5b9);
        z = (z ^ (z >> 27)).wrapping_mul(0x94d0_49bb_1331_11eb);
        z ^= z >> 31;
        Rng(z | 1)
    }

    pub fn next_u64(&mut self) -> u64 {
        self.0 ^= self.0 >> 12;
        self.0 ^= self.0 << 25;
        self.0 ^= self.0 >> 27;
        self.0.wrapping_mul(0x2545_f491_4f6c_dd1d)
    }

    /// Uniform in (0, 1), never 0 (so `ln` is finite).
    pub fn uniform(&mut self) -> f32 {
        ((self.next_u64() >> 40) as f32 + 0.5) / (1u64 << 24) as f32
    }

    /// Standard normal (one Box-Muller draw; the sine half is discarded).
    pub fn normal(&mut self) -> f32 {
        let (u, v) = (self.uniform(), self.uniform());
        (-2.0 * u.ln()).sqrt() * (std::f32::consts::TAU * v).cos()
    }

    /// Fills `out` with random bytes, eight at a time.
    pub fn fill_bytes(&mut self, out: &mut [u8]) {
        let mut chunks = out.chunks_exact_mut(8);
        for c in &mut chunks {
            c.copy_from_slice(&self.next_u64().to_le_bytes());
        }
        let rest = chunks.into_remainder();
        if !rest.is_empty() {
            let w = self.next_u64().to_le_bytes();
            rest.copy_from_slice(&w[..rest.len()]);
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn streams_differ_by_seed_and_label_and_repeat() {
        let first = |seed, label| Rng::for_stream(seed, label).next_u64();
        assert_eq!(first(1, "a"), first(1, "a"));
        assert_ne!(first(1, "a"), first(2, "a"));
        assert_ne!(first(1, "a"), first(1, "b"));
    }

    #[test]
    fn normals_have_unit_variance() {
        let mut r = Rng::from_seed(3);
        let n = 100_000;
        let xs: Vec<f32> = (0..n).map(|_| r.normal()).collect();
        let mean = xs.iter().sum::<f32>() / n as f32;
        let var = xs.iter().map(|x| (x - mean) * (x - mean)).sum::<f32>() / n as f32;
        assert!(
            mean.abs() < 0.02 && (var - 1.0).abs() < 0.03,
            "{mean} {var}"
        );
    }

    #[test]
    fn fill_bytes_handles_ragged_lengths() {
        let mut a = [0u8; 13];
        Rng::from_seed(1).fill_bytes(&mut a);
        let mut b = [0u8; 16];
        Rng::from_seed(1).fill_bytes(&mut b);
        assert_eq!(a, b[..13]);
    }
}
