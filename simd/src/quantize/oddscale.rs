//! The super-block scale of the codebook quantizers (IQ1_S, IQ1_M, IQ2_XXS) for fixed
//! codes: `x ≈ d·m_l·q` with one f16 `d` per super-block and, per scale block, one
//! multiplier `m_l` from a small table (odd numbers, possibly over a power of two).
//!
//! With the codes fixed, each block's error is a quadratic in its decoded scale:
//! `E(s) = Σwx² − 2s·Σwxq + s²·Σwq²`, so for a candidate `d` the best multiplier per
//! block is found by trying each (8 or 16), and the total error is exact. Candidates:
//! the caller's (llama.cpp's choice), 81 f16 values from 0.7 to 1.5 times a base, then
//! least-squares refits of `d` for the chosen multipliers while the error drops.

use super::f16_round;

/// `Σ w·x·q`, `Σ w·q²`, `Σ w·x²` of a scale block for its fixed codes `q`.
#[derive(Clone, Copy, Default)]
pub(crate) struct Sums {
    pub s: f64,
    pub t: f64,
    pub x: f64,
}

impl Sums {
    /// Weighted error at the decoded scale `dl`.
    #[inline]
    pub fn err(&self, dl: f64) -> f64 {
        self.x - 2.0 * dl * self.s + dl * dl * self.t
    }
}

/// For super-block scale `d`: the best multiplier index per block, and the total error.
/// The error is convex in the multiplier and `mults` is an arithmetic sequence, so only
/// the two entries around the continuous optimum `S/(d·T)` need trying.
fn assign(sums: &[Sums], d: f32, mults: &[f32]) -> (Vec<u8>, f64) {
    let (m0, step) = (mults[0] as f64, (mults[1] - mults[0]) as f64);
    let last = mults.len() as i64 - 1;
    let d = d as f64;
    let mut total = 0.0;
    let ls = sums
        .iter()
        .map(|s| {
            let opt = if s.t > 0.0 { s.s / (d * s.t) } else { 0.0 };
            let lo = (((opt - m0) / step).floor() as i64).clamp(0, last);
            let hi = (lo + 1).min(last);
            let (elo, ehi) = (
                s.err(d * mults[lo as usize] as f64),
                s.err(d * mults[hi as usize] as f64),
            );
            let (l, e) = if ehi < elo { (hi, ehi) } else { (lo, elo) };
            total += e;
            l as u8
        })
        .collect();
    (ls, total)
}

/// The best f16 super-block scale among `cands` and a scan around `base`, refined by
/// least squares: (d, multiplier index per block, total error).
pub(crate) fn choose_scale(
    sums: &[Sums],
    base: f32,
    cands: &[f32],
    mults: &[f32],
) -> (f32, Vec<u8>, f64) {
    let scan = (0..=40).map(|k| f16_round(base * (0.7 + 0.02 * k as f32)));
    let mut best = (0.0f32, vec![0u8; sums.len()], f64::MAX);
    for d in cands.iter().copied().chain(scan) {
        if d.is_finite() && d > 0.0 {
            let (ls, e) = assign(sums, d, mults);
            if e < best.2 {
                best = (d, ls, e);
            }
        }
    }
    for _ in 0..3 {
        let (mut num, mut den) = (0.0f64, 0.0f64);
        for (s, &l) in sums.iter().zip(&best.1) {
            let m = mults[l as usize] as f64;
            num += m * s.s;
            den += m * m * s.t;
        }
        if den <= 0.0 {
            break;
        }
        let d = f16_round((num / den) as f32);
        if !(d.is_finite() && d > 0.0) {
            break;
        }
        let (ls, e) = assign(sums, d, mults);
        if e < best.2 {
            best = (d, ls, e);
        } else {
            break;
        }
    }
    best
}
