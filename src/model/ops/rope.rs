//! Rotary position embedding as ggml computes it (spec `dense-models.md` §4).
//!
//! Pair `i` of the first `n_rot` dims of a head is rotated by
//! `theta = p · base^(−2i/n_rot) / ff_i · freq_scale`, where `base^(−2i/n_rot)` is a
//! running product of `powf(base, −2/n_rot)` in f32 (as ggml does, for identical
//! angles), `ff_i` the optional `rope_freqs` factors and `freq_scale = 1/s` for linear
//! scaling. Pairing: NORM (llama, deepseek2) rotates adjacent dims (2i, 2i+1); NEOX
//! (qwen2) rotates (i, i + n_rot/2).
//!
//! YaRN (DeepSeek-R1, spec `deepseek2.md` §5), as ggml's `rope_yarn`: with
//! `ext_factor ≠ 0` the angle blends the interpolated `freq_scale · θ` and the original
//! `θ` by a ramp over the pair index between the correction dims, and cos / sin are
//! scaled by `attn_factor · (1 + 0.1 · ln(1 / freq_scale))`.

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
    /// YaRN extrapolation mix (0 = plain RoPE).
    pub ext_factor: f32,
    /// Magnitude factor on cos / sin (1 for plain RoPE).
    pub attn_factor: f32,
    /// YaRN ramp bounds in pair indices (`ggml_rope_yarn_corr_dims`).
    pub corr_dims: [f32; 2],
}

/// ggml's `ggml_rope_yarn_corr_dims`: the pair indices between which YaRN blends.
pub fn yarn_corr_dims(
    n_rot: usize,
    n_ctx_orig: u32,
    base: f32,
    beta_fast: f32,
    beta_slow: f32,
) -> [f32; 2] {
    let corr = |n: f32| {
        n_rot as f32 * (n_ctx_orig as f32 / (n * 2.0 * std::f32::consts::PI)).ln()
            / (2.0 * base.ln())
    };
    [
        corr(beta_fast).floor().max(0.0),
        corr(beta_slow).ceil().min(n_rot as f32 - 1.0),
    ]
}

impl Rope {
    /// cos and sin of every pair at position `p` (`n_rot / 2` each).
    pub fn angles(&self, p: usize, cos: &mut [f32], sin: &mut [f32]) {
        let theta_scale = self.base.powf(-2.0 / self.n_rot as f32);
        let mut mscale = self.attn_factor;
        if self.ext_factor != 0.0 {
            mscale *= 1.0 + 0.1 * (1.0 / self.freq_scale).ln();
        }
        let mut theta = p as f32;
        for i in 0..self.n_rot / 2 {
            let ff = self.freq_factors.as_ref().map_or(1.0, |f| f[i]);
            let extrap = theta / ff;
            let interp = self.freq_scale * extrap;
            let t = if self.ext_factor != 0.0 {
                let [low, high] = self.corr_dims;
                let y = (i as f32 - low) / (high - low).max(0.001);
                let ramp = (1.0 - y.clamp(0.0, 1.0)) * self.ext_factor;
                interp * (1.0 - ramp) + extrap * ramp
            } else {
                interp
            };
            cos[i] = t.cos() * mscale;
            sin[i] = t.sin() * mscale;
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

    fn plain() -> Rope {
        Rope {
            mode: RopeMode::Norm,
            n_rot: 64,
            base: 10_000.0,
            freq_scale: 1.0,
            freq_factors: None,
            ext_factor: 0.0,
            attn_factor: 1.0,
            corr_dims: [0.0, 0.0],
        }
    }

    #[test]
    fn r1_yarn_keeps_high_frequencies_and_interpolates_low_ones() {
        // DeepSeek-R1: 64 rope dims, base 1e4, factor 40, original context 4096.
        let corr = yarn_corr_dims(64, 4096, 10_000.0, 32.0, 1.0);
        assert_eq!(corr, [10.0, 23.0]);
        let yarn = Rope {
            freq_scale: 1.0 / 40.0,
            ext_factor: 1.0,
            // llama.cpp's attn_factor for R1 cancels the YaRN magnitude: 1 / (1 + 0.1 ln 40).
            attn_factor: 1.0 / (1.0 + 0.1 * 40f32.ln()),
            corr_dims: corr,
            ..plain()
        };
        let (mut c, mut s) = (vec![0f32; 32], vec![0f32; 32]);
        let (mut c0, mut s0) = (vec![0f32; 32], vec![0f32; 32]);
        let p = 1000;
        yarn.angles(p, &mut c, &mut s);
        plain().angles(p, &mut c0, &mut s0);
        for i in 0..32 {
            assert!(
                (c[i].hypot(s[i]) - 1.0).abs() < 1e-5,
                "unit magnitude at pair {i}"
            );
        }
        // Pairs up to 10 keep the original angle; from 23 on the angle is divided by 40.
        for i in 0..=10 {
            assert!(
                (c[i] - c0[i]).abs() < 1e-4 && (s[i] - s0[i]).abs() < 1e-4,
                "pair {i}"
            );
        }
        let theta = |i: usize| p as f32 * 10_000f32.powf(-2.0 * i as f32 / 64.0);
        for (i, ci) in c.iter().enumerate().skip(23) {
            assert!((ci - (theta(i) / 40.0).cos()).abs() < 1e-3, "pair {i}");
        }
    }

    #[test]
    fn position_zero_is_identity_and_norms_are_kept() {
        for mode in [RopeMode::Norm, RopeMode::Neox] {
            let rope = Rope {
                mode,
                n_rot: 8,
                ..plain()
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
            ..plain()
        }
        .apply(&mut x, 4, &c, &s);
        assert_eq!(x, [0.0, 1.0, 0.0, 0.0]);
        let mut x = vec![1.0, 0.0, 0.0, 0.0];
        Rope {
            mode: RopeMode::Neox,
            n_rot: 4,
            ..plain()
        }
        .apply(&mut x, 4, &c, &s);
        assert_eq!(x, [0.0, 0.0, 1.0, 0.0]);
    }
}
