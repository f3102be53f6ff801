//! Mixture-of-Experts routing with llama.cpp's semantics for deepseek2 (spec
//! `deepseek2.md` §6): router logits → per-expert probabilities (sigmoid, or softmax for
//! DeepSeek-V2-style files) → selection scores (probabilities plus the correction bias
//! `exp_probs_b`, used for choosing only) → optional group-limited selection (keep the
//! `topk_group` groups whose two best scores sum highest) → the `n_used` best experts →
//! weights = their unbiased probabilities, optionally renormalized (sum clamped to the
//! smallest normal f16, as llama.cpp does), times `expert_weights_scale`.
//!
//! The MoE block calls this per token and then asks for expert weights by (layer,
//! expert) — the seam the expert cache sits behind.

use crate::schema::GatingFunc;

/// Group-limited routing: experts split into `n_group` groups of consecutive ids.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct ExpertGroups {
    pub n_group: usize,
    pub topk_group: usize,
}

/// How one MoE layer picks and weighs its experts.
#[derive(Debug, Clone, PartialEq)]
pub struct Router {
    pub gating: GatingFunc,
    /// Experts per token (R1: 8).
    pub n_used: usize,
    /// `None` for the Jan-2025 R1 files, which carry no group keys (llama.cpp then
    /// routes over all experts).
    pub groups: Option<ExpertGroups>,
    /// Renormalize the selected weights to sum to 1.
    pub norm: bool,
    /// `expert_weights_scale` (R1: 2.5).
    pub scale: f32,
}

/// One selected expert and its weight.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Selected {
    pub expert: usize,
    pub weight: f32,
}

/// The smallest normal f16: llama.cpp's lower clamp on the weight sum.
const MIN_WEIGHT_SUM: f32 = 6.103_515_6e-5;

impl Router {
    /// Routes one token. `logits`: the router's output over all experts; `bias`: the
    /// selection bias (`exp_probs_b`), if the layer has one. Returns the selected
    /// experts, best selection score first.
    pub fn route(&self, logits: &[f32], bias: Option<&[f32]>) -> Vec<Selected> {
        self.route_with_margin(logits, bias).0
    }

    /// [`Router::route`], plus how close the choice was: the smallest gap between a
    /// selection score that made the cut and one that did not (the last chosen expert vs
    /// the best unchosen one, and with groups also the last kept group vs the best
    /// dropped one). A gap near rounding error means another implementation may pick a
    /// different expert (spec `moe-fidelity.md`). Infinite when nothing was left out.
    pub fn route_with_margin(&self, logits: &[f32], bias: Option<&[f32]>) -> (Vec<Selected>, f32) {
        let mut margin = f32::INFINITY;
        let n = logits.len();
        let probs: Vec<f32> = match self.gating {
            GatingFunc::Sigmoid => logits.iter().map(|&l| 1.0 / (1.0 + (-l).exp())).collect(),
            GatingFunc::Softmax => {
                let mut p = logits.to_vec();
                super::softmax(&mut p);
                p
            }
        };
        let mut sel: Vec<f32> = match bias {
            Some(b) => probs.iter().zip(b).map(|(p, b)| p + b).collect(),
            None => probs.clone(),
        };
        if let Some(g) = self
            .groups
            .filter(|g| g.n_group > 1 && n.is_multiple_of(g.n_group))
        {
            let size = n / g.n_group;
            // Score of a group: the sum of its two best selection scores.
            let mut group_scores: Vec<(usize, f32)> = sel
                .chunks_exact(size)
                .enumerate()
                .map(|(i, c)| {
                    let (mut a, mut b) = (f32::NEG_INFINITY, f32::NEG_INFINITY);
                    for &v in c {
                        if v > a {
                            b = a;
                            a = v;
                        } else if v > b {
                            b = v;
                        }
                    }
                    (i, if size > 1 { a + b } else { a })
                })
                .collect();
            group_scores.sort_by(|x, y| y.1.total_cmp(&x.1).then(x.0.cmp(&y.0)));
            let kept = g.topk_group.min(g.n_group);
            if kept > 0 && kept < g.n_group {
                margin = margin.min(group_scores[kept - 1].1 - group_scores[kept].1);
            }
            for &(gi, _) in &group_scores[g.topk_group.min(g.n_group)..] {
                sel[gi * size..(gi + 1) * size].fill(f32::NEG_INFINITY);
            }
        }
        let mut order: Vec<usize> = (0..n).collect();
        order.sort_by(|&a, &b| sel[b].total_cmp(&sel[a]).then(a.cmp(&b)));
        let k = self.n_used.min(n);
        if k > 0 && k < n && sel[order[k]].is_finite() {
            margin = margin.min(sel[order[k - 1]] - sel[order[k]]);
        }
        order.truncate(k);
        let mut out: Vec<Selected> = order
            .into_iter()
            .map(|e| Selected {
                expert: e,
                weight: probs[e],
            })
            .collect();
        if self.norm {
            let sum: f32 = out
                .iter()
                .map(|s| s.weight)
                .sum::<f32>()
                .max(MIN_WEIGHT_SUM);
            for s in &mut out {
                s.weight /= sum;
            }
        }
        for s in &mut out {
            s.weight *= self.scale;
        }
        (out, margin)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn r1(groups: Option<ExpertGroups>) -> Router {
        Router {
            gating: GatingFunc::Sigmoid,
            n_used: 2,
            groups,
            norm: true,
            scale: 2.5,
        }
    }

    #[test]
    fn bias_chooses_but_does_not_weigh() {
        let logits = [2.0, 1.0, 0.0, -1.0];
        // Without bias: experts 0 and 1.
        let s = r1(None).route(&logits, None);
        assert_eq!(s.iter().map(|x| x.expert).collect::<Vec<_>>(), [0, 1]);
        // A large bias on expert 3 selects it; its weight is still its own sigmoid.
        let s = r1(None).route(&logits, Some(&[0.0, 0.0, 0.0, 5.0]));
        assert_eq!(s.iter().map(|x| x.expert).collect::<Vec<_>>(), [3, 0]);
        let sig = |x: f32| 1.0 / (1.0 + (-x).exp());
        let (w3, w0) = (sig(-1.0), sig(2.0));
        assert!((s[0].weight - 2.5 * w3 / (w3 + w0)).abs() < 1e-6);
        assert!((s[1].weight - 2.5 * w0 / (w3 + w0)).abs() < 1e-6);
        assert!((s.iter().map(|x| x.weight).sum::<f32>() - 2.5).abs() < 1e-6);
    }

    #[test]
    fn group_limited_selection_drops_weak_groups() {
        // 4 groups of 2; the best single expert (id 0) sits in a group whose pair sums
        // low, so with 2-of-4 groups it is excluded.
        let logits = [3.0, -6.0, 1.0, 1.0, 0.9, 0.9, -1.0, -1.0];
        let plain = r1(None).route(&logits, None);
        assert_eq!(plain[0].expert, 0);
        let grouped = r1(Some(ExpertGroups {
            n_group: 4,
            topk_group: 2,
        }))
        .route(&logits, None);
        let mut chosen: Vec<usize> = grouped.iter().map(|x| x.expert).collect();
        chosen.sort_unstable();
        assert_eq!(chosen, [2, 3]);
    }

    #[test]
    fn margins_measure_the_closest_call() {
        let logits = [2.0, 1.0, 0.9, -1.0];
        let (_, m) = r1(None).route_with_margin(&logits, None);
        let sig = |x: f32| 1.0 / (1.0 + (-x).exp());
        assert!((m - (sig(1.0) - sig(0.9))).abs() < 1e-6);
        let two = Router {
            n_used: 4,
            ..r1(None)
        };
        assert_eq!(two.route_with_margin(&logits, None).1, f32::INFINITY);
        // With groups (4 of 2 experts, keep 2) the closer of the two calls counts: here
        // the last kept group (0.9, 0.9) against the dropped one (3, -6).
        let groups = r1(Some(ExpertGroups {
            n_group: 4,
            topk_group: 2,
        }));
        let logits = [3.0, -6.0, 1.0, 1.0, 0.9, 0.9, -1.0, -1.0];
        let (sel, m) = groups.route_with_margin(&logits, None);
        assert_eq!(sel.len(), 2);
        let group_gap = 2.0 * sig(0.9) - (sig(3.0) + sig(-6.0));
        let expert_gap = sig(1.0) - sig(0.9);
        assert!((m - expert_gap.min(group_gap)).abs() < 1e-6);
        let logits = [3.0, -6.0, 1.0, 1.0, 1.0, 1.0, -1.0, -1.0];
        let (_, m) =
            groups.route_with_margin(&logits, Some(&[0.0, 0.0, 0.0, 0.0, 0.0, 0.0, 0.0, 0.0]));
        // Experts 2..5 tie: a zero margin.
        assert_eq!(m, 0.0);
    }

    #[test]
    fn softmax_gating_without_renormalization() {
        let router = Router {
            gating: GatingFunc::Softmax,
            n_used: 1,
            groups: None,
            norm: false,
            scale: 1.0,
        };
        let s = router.route(&[0.0, (3.0f32).ln()], None);
        assert_eq!(s[0].expert, 1);
        assert!((s[0].weight - 0.75).abs() < 1e-6);
    }
}
