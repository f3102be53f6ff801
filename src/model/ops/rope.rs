//! Rotary position embedding as ggml computes it (spec `dense-models.md` §4).
//!
//! Pair `i` of the first `n_rot` dims of a head is rotated by
//! `theta = p · base^(−2i/n_rot) / ff_i · freq_scale`, where `base^(−2i/n_rot)` is a
//! running product of `powf(base, −2/n_rot)` in f32 (as ggml does, for identical
//! angles), `ff_i` the optional `rope_freqs` factors and `freq_scale = 1/s` for linear
//! scaling. Pairing: NORM (llama, deepseek2) rotates adjacent dims (2i, 2i+1); NEOX
//! (qwen2) rotates (i, i + n_rot/2).

/// Which dims form a rotated pair.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum RopeMode {
    Norm,
    Neox,
}

/// Everything that fixes the angles.
#[derive(Debug, Clone)]
pub struct Rope {
    pub mode: RopeMode,
    /// Rotated dims per head.
    pub n_rot: usize,
    pub base: f32,
    /// 1 / linear scaling factor.
    pub freq_scale: f32,
    /// Per-pair divisors (`rope_freqs.weight`), `n_rot / 2` of them.
    pub freq_factors: Option<Vec<f32>>,
}

impl Rope {
    /// cos and sin of every pair at position `p` (`n_rot / 2` each).
    pub fn angles(&self, p: usize, cos: &mut [f32], sin: &mut [f32]) {
        let theta_scale = self.base.powf(-2.0 / self.n_rot as f32);
        let mut theta = p as f32;
        for i in 0..self.n_rot / 2 {
            let ff = self.freq_factors.as_ref().map_or(1.0, |f| f[i]);
            let t = theta / ff * self.freq_scale;
            cos[i] = t.cos();
            sin[i] = t.sin();
            theta *= theta_scale;
        }
    }

    /// Rotates every head of `x` (`n_head` heads of `head_dim`) with precomputed angles.
    pub fn apply(&self, x: &mut [f32], head_dim: usize, cos: &[f32], sin: &[f32]) {
        let half = self.n_rot / 2;
        for head in x.chunks_exact_mut(head_dim) {
            for i in 0..half {
                let (a, b) = match self.mode {
                    RopeMode::Norm => (2 * i, 2 * i + 1),
                    RopeMode::Neox => (i, i + half),
                };
                let (x0, x1) = (head[a], head[b]);
                head[a] = x0 * cos[i] - x1 * sin[i];
                head[b] = x0 * sin[i] + x1 * cos[i];
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn position_zero_is_identity_and_norms_are_kept() {
        for mode in [RopeMode::Norm, RopeMode::Neox] {
            let rope = Rope {
                mode,
                n_rot: 8,
                base: 10_000.0,
                freq_scale: 1.0,
                freq_factors: None,
            };
            let (mut c, mut s) = (vec![0f32; 4], vec![0f32; 4]);
            let x0: Vec<f32> = (0..16).map(|i| i as f32 * 0.3 - 1.0).collect();
            rope.angles(0, &mut c, &mut s);
            let mut x = x0.clone();
            rope.apply(&mut x, 8, &c, &s);
            assert_eq!(x, x0);
            rope.angles(37, &mut c, &mut s);
            rope.apply(&mut x, 8, &c, &s);
            let n = |v: &[f32]| v.iter().map(|a| a * a).sum::<f32>();
            assert!((n(&x) - n(&x0)).abs() < 1e-3);
            assert_ne!(x, x0);
        }
    }

    #[test]
    fn norm_pairs_adjacent_neox_pairs_halves() {
        let mut x = vec![1.0, 0.0, 0.0, 0.0];
        let (c, s) = ([0.0, 1.0], [1.0, 0.0]); // pair 0 by 90°, pair 1 unchanged
        Rope {
            mode: RopeMode::Norm,
            n_rot: 4,
            base: 1.0,
            freq_scale: 1.0,
            freq_factors: None,
        }
        .apply(&mut x, 4, &c, &s);
        assert_eq!(x, [0.0, 1.0, 0.0, 0.0]);
        let mut x = vec![1.0, 0.0, 0.0, 0.0];
        Rope {
            mode: RopeMode::Neox,
            n_rot: 4,
            base: 1.0,
            freq_scale: 1.0,
            freq_factors: None,
        }
        .apply(&mut x, 4, &c, &s);
        assert_eq!(x, [0.0, 0.0, 1.0, 0.0]);
    }
}
