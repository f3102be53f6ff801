//! Sampling the next token from logits, with llama.cpp's semantics and defaults
//! (spec `tokenizer-and-chat.md` §9.2): chain order penalties → top-k → top-p → min-p
//! → temperature → seeded draw; temperature ≤ 0 is greedy (argmax after penalties).
//!
//! The RNG is a seeded xoshiro256** (a few lines; seeding through splitmix64), so runs
//! with the same `--seed` repeat exactly; it does not reproduce llama.cpp's mt19937
//! draws (parity tests use greedy decoding).

use std::collections::VecDeque;

/// Sampler settings; defaults are llama.cpp's.
#[derive(Debug, Clone, PartialEq)]
pub struct SamplerConfig {
    pub temperature: f32,
    /// ≤ 0 disables.
    pub top_k: i32,
    /// ≥ 1 disables.
    pub top_p: f32,
    /// ≤ 0 disables.
    pub min_p: f32,
    /// 1.0 disables.
    pub repeat_penalty: f32,
    pub presence_penalty: f32,
    pub frequency_penalty: f32,
    /// Tokens of history the penalties look at.
    pub penalty_last_n: usize,
    pub seed: u64,
}

impl Default for SamplerConfig {
    fn default() -> Self {
        SamplerConfig {
            temperature: 0.8,
            top_k: 40,
            top_p: 0.95,
            min_p: 0.05,
            repeat_penalty: 1.0,
            presence_penalty: 0.0,
            frequency_penalty: 0.0,
            penalty_last_n: 64,
            seed: 0x5eed,
        }
    }
}

/// xoshiro256** seeded by splitmix64.
#[derive(Debug, Clone)]
struct Rng([u64; 4]);

impl Rng {
    fn new(seed: u64) -> Rng {
        let mut s = seed;
        let mut next = || {
            s = s.wrapping_add(0x9e37_79b9_7f4a_7c15);
            let mut z = s;
            z = (z ^ (z >> 30)).wrapping_mul(0xbf58_476d_1ce4_e5b9);
            z = (z ^ (z >> 27)).wrapping_mul(0x94d0_49bb_1331_11eb);
            z ^ (z >> 31)
        };
        Rng([next(), next(), next(), next()])
    }

    fn next_u64(&mut self) -> u64 {
        let s = &mut self.0;
        let out = s[1].wrapping_mul(5).rotate_left(7).wrapping_mul(9);
        let t = s[1] << 17;
        s[2] ^= s[0];
        s[3] ^= s[1];
        s[1] ^= s[2];
        s[0] ^= s[3];
        s[2] ^= t;
        s[3] = s[3].rotate_left(45);
        out
    }

    /// Uniform in [0, 1).
    fn next_f64(&mut self) -> f64 {
        (self.next_u64() >> 11) as f64 / (1u64 << 53) as f64
    }
}

/// Turns logits into tokens; keeps the penalty history.
#[derive(Debug, Clone)]
pub struct Sampler {
    cfg: SamplerConfig,
    rng: Rng,
    history: VecDeque<u32>,
}

impl Sampler {
    pub fn new(cfg: SamplerConfig) -> Sampler {
        Sampler {
            rng: Rng::new(cfg.seed),
            history: VecDeque::new(),
            cfg,
        }
    }

    pub fn config(&self) -> &SamplerConfig {
        &self.cfg
    }

    /// Records a token (prompt or generated) for the penalties.
    pub fn accept(&mut self, token: u32) {
        if self.cfg.penalty_last_n == 0 {
            return;
        }
        if self.history.len() == self.cfg.penalty_last_n {
            self.history.pop_front();
        }
        self.history.push_back(token);
    }

    pub fn reset(&mut self) {
        self.history.clear();
    }

    fn apply_penalties(&self, logits: &mut [f32]) {
        let c = &self.cfg;
        if c.repeat_penalty == 1.0 && c.presence_penalty == 0.0 && c.frequency_penalty == 0.0 {
            return;
        }
        let mut counts: std::collections::HashMap<u32, u32> = std::collections::HashMap::new();
        for &t in &self.history {
            *counts.entry(t).or_default() += 1;
        }
        for (&t, &n) in &counts {
            let Some(l) = logits.get_mut(t as usize) else {
                continue;
            };
            *l = if *l > 0.0 {
                *l / c.repeat_penalty
            } else {
                *l * c.repeat_penalty
            };
            *l -= n as f32 * c.frequency_penalty + c.presence_penalty;
        }
    }

    /// Picks the next token from `logits` (modified in place by the penalties).
    pub fn sample(&mut self, logits: &mut [f32]) -> u32 {
        self.apply_penalties(logits);
        let c = self.cfg.clone();
        if c.temperature <= 0.0 {
            return argmax(logits);
        }
        // Candidates sorted by logit, descending.
        let mut cand: Vec<(u32, f32)> = logits
            .iter()
            .enumerate()
            .map(|(i, &l)| (i as u32, l))
            .collect();
        let k = if c.top_k > 0 {
            (c.top_k as usize).min(cand.len())
        } else {
            cand.len()
        };
        if k < cand.len() {
            cand.select_nth_unstable_by(k - 1, |a, b| b.1.total_cmp(&a.1));
            cand.truncate(k);
        }
        cand.sort_by(|a, b| b.1.total_cmp(&a.1));
        if c.top_p < 1.0 {
            let probs = softmax_of(&cand);
            let mut cum = 0.0;
            let mut keep = cand.len();
            for (i, p) in probs.iter().enumerate() {
                cum += p;
                if cum >= f64::from(c.top_p) {
                    keep = i + 1;
                    break;
                }
            }
            cand.truncate(keep.max(1));
        }
        if c.min_p > 0.0 {
            let threshold = cand[0].1 + c.min_p.ln();
            let keep = cand.iter().take_while(|x| x.1 >= threshold).count();
            cand.truncate(keep.max(1));
        }
        for x in cand.iter_mut() {
            x.1 /= c.temperature;
        }
        let probs = softmax_of(&cand);
        let r = self.rng.next_f64();
        let mut cum = 0.0;
        for (i, p) in probs.iter().enumerate() {
            cum += p;
            if r < cum {
                return cand[i].0;
            }
        }
        cand[cand.len() - 1].0
    }
}

/// Index of the largest logit (the first on ties).
pub fn argmax(logits: &[f32]) -> u32 {
    let mut best = 0;
    for (i, &l) in logits.iter().enumerate() {
        if l > logits[best] {
            best = i;
        }
    }
    best as u32
}

fn softmax_of(cand: &[(u32, f32)]) -> Vec<f64> {
    let max = cand.iter().map(|x| x.1).fold(f32::NEG_INFINITY, f32::max);
    let e: Vec<f64> = cand.iter().map(|x| f64::from(x.1 - max).exp()).collect();
    let sum: f64 = e.iter().sum();
    e.into_iter().map(|v| v / sum).collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    fn cfg(f: impl FnOnce(&mut SamplerConfig)) -> SamplerConfig {
        let mut c = SamplerConfig::default();
        f(&mut c);
        c
    }

    #[test]
    fn greedy_takes_the_argmax() {
        let mut s = Sampler::new(cfg(|c| c.temperature = 0.0));
        assert_eq!(s.sample(&mut [0.1, 3.0, 2.9, -1.0]), 1);
    }

    #[test]
    fn same_seed_same_tokens_and_distribution_is_respected() {
        let logits = [1.0f32, 2.0, 3.0, 0.5];
        let draw = |seed| {
            let mut s = Sampler::new(cfg(|c| {
                c.seed = seed;
                c.top_k = 0;
                c.top_p = 1.0;
                c.min_p = 0.0;
                c.temperature = 1.0;
            }));
            (0..4000)
                .map(|_| s.sample(&mut logits.clone()))
                .collect::<Vec<_>>()
        };
        let a = draw(7);
        assert_eq!(a, draw(7));
        assert_ne!(a, draw(8));
        // p(2) = e^3 / Σ ≈ 0.638
        let frac = a.iter().filter(|&&t| t == 2).count() as f64 / a.len() as f64;
        assert!((frac - 0.638).abs() < 0.03, "{frac}");
    }

    #[test]
    fn truncation_samplers() {
        let logits = [5.0f32, 4.9, 0.0, -3.0];
        // top-k 1 is greedy whatever the temperature.
        let mut s = Sampler::new(cfg(|c| c.top_k = 1));
        assert!((0..50).all(|_| s.sample(&mut logits.clone()) == 0));
        // min-p 0.5 keeps the two top tokens only.
        let mut s = Sampler::new(cfg(|c| {
            c.min_p = 0.5;
            c.top_p = 1.0;
        }));
        assert!((0..200).all(|_| s.sample(&mut logits.clone()) <= 1));
        // top-p 0.5: the first token alone reaches 0.5.
        let mut s = Sampler::new(cfg(|c| {
            c.top_p = 0.5;
            c.min_p = 0.0;
        }));
        assert!((0..200).all(|_| s.sample(&mut logits.clone()) == 0));
    }

    #[test]
    fn repeat_penalty_pushes_seen_tokens_down() {
        let mut s = Sampler::new(cfg(|c| {
            c.temperature = 0.0;
            c.repeat_penalty = 2.0;
        }));
        s.accept(0);
        // 3.0 / 2 = 1.5 < 2.0
        assert_eq!(s.sample(&mut [3.0, 2.0, -1.0]), 1);
        let mut s = Sampler::new(cfg(|c| {
            c.temperature = 0.0;
            c.presence_penalty = 1.5;
        }));
        s.accept(0);
        assert_eq!(s.sample(&mut [3.0, 2.0]), 1);
    }
}
