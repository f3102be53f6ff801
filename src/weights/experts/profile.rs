//! Expert-usage profiles: what one run asked of its routed experts, saved as JSON
//! (`bitmoe run --save-expert-profile FILE`) so that a later run can pin the most used
//! experts (`--pin-experts FILE`) and eviction policies can be replayed offline
//! ([`super::policy::simulate`], `examples/expert_replay.rs`).
//!
//! The file holds, per MoE layer, every expert's use count, and the ordered trace of
//! each token's choice per layer (prompt tokens as the batch recorded them, then one per
//! decoded token). A file is checked when read: a missing, garbled or foreign file, or
//! one recorded on a model with other experts, is an error naming it.

use std::path::Path;

use serde::{Deserialize, Serialize};

use super::policy::Request;

/// The `format` field every profile carries.
pub const PROFILE_FORMAT: &str = "bitmoe-expert-profile-v1";

/// Caps on what a profile file may claim (untrusted input).
const MAX_LAYERS: usize = 4096;
const MAX_EXPERTS: usize = 1 << 16;

/// Why a profile cannot be read, written or used.
#[derive(Debug, thiserror::Error)]
pub enum ProfileError {
    #[error("expert profile {path}: {source}")]
    Io {
        path: String,
        source: std::io::Error,
    },
    #[error("expert profile {path} is not valid JSON of a profile: {source}")]
    Json {
        path: String,
        source: serde_json::Error,
    },
    #[error("expert profile {path}: {why}")]
    Invalid { path: String, why: String },
}

/// Use counts of one MoE layer's experts.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct LayerUses {
    pub layer: usize,
    /// `uses[e]`: tokens that picked expert `e`.
    pub uses: Vec<u64>,
}

/// A run's expert usage.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct ExpertProfile {
    pub format: String,
    /// The model file it was recorded on (informative).
    pub model: String,
    pub n_expert: usize,
    /// Experts each token uses per layer.
    pub n_used: usize,
    /// One entry per MoE layer, in layer order.
    pub layers: Vec<LayerUses>,
    /// Every token's choice per layer, in the order the forward pass made them.
    pub trace: Vec<Request>,
}

impl ExpertProfile {
    /// A profile of `trace` for a model whose MoE layers are `moe_layers`, each with
    /// `n_expert` experts of which `n_used` run per token. Records of other layers or
    /// out-of-range experts are dropped.
    pub fn from_trace(
        model: &str,
        moe_layers: &[usize],
        n_expert: usize,
        n_used: usize,
        trace: Vec<Request>,
    ) -> ExpertProfile {
        let mut layers: Vec<LayerUses> = moe_layers
            .iter()
            .map(|&layer| LayerUses {
                layer,
                uses: vec![0; n_expert],
            })
            .collect();
        let trace: Vec<Request> = trace
            .into_iter()
            .filter_map(|mut r| {
                let l = layers.iter_mut().find(|l| l.layer == r.layer)?;
                r.experts.retain(|&e| e < n_expert);
                for &e in &r.experts {
                    l.uses[e] += 1;
                }
                Some(r)
            })
            .collect();
        ExpertProfile {
            format: PROFILE_FORMAT.into(),
            model: model.into(),
            n_expert,
            n_used,
            layers,
            trace,
        }
    }

    pub fn save(&self, path: &Path) -> Result<(), ProfileError> {
        let json = serde_json::to_vec(self).map_err(|source| ProfileError::Json {
            path: path.display().to_string(),
            source,
        })?;
        std::fs::write(path, json).map_err(|source| ProfileError::Io {
            path: path.display().to_string(),
            source,
        })
    }

    /// Reads and checks a profile.
    pub fn load(path: &Path) -> Result<ExpertProfile, ProfileError> {
        let name = path.display().to_string();
        let bytes = std::fs::read(path).map_err(|source| ProfileError::Io {
            path: name.clone(),
            source,
        })?;
        let p: ExpertProfile =
            serde_json::from_slice(&bytes).map_err(|source| ProfileError::Json {
                path: name.clone(),
                source,
            })?;
        p.check()
            .map_err(|why| ProfileError::Invalid { path: name, why })?;
        Ok(p)
    }

    /// Internal consistency: the format, sizes under the caps, counts of the stated
    /// width, trace records of listed layers and in-range experts.
    fn check(&self) -> Result<(), String> {
        if self.format != PROFILE_FORMAT {
            return Err(format!(
                "format is {:?}, expected {PROFILE_FORMAT:?}",
                self.format
            ));
        }
        if self.n_expert == 0 || self.n_expert > MAX_EXPERTS || self.layers.len() > MAX_LAYERS {
            return Err(format!(
                "{} experts in {} layers is out of range",
                self.n_expert,
                self.layers.len()
            ));
        }
        for l in &self.layers {
            if l.uses.len() != self.n_expert {
                return Err(format!(
                    "layer {} has {} counts for {} experts",
                    l.layer,
                    l.uses.len(),
                    self.n_expert
                ));
            }
        }
        for (i, r) in self.trace.iter().enumerate() {
            if !self.layers.iter().any(|l| l.layer == r.layer) {
                return Err(format!("trace record {i} is of unlisted layer {}", r.layer));
            }
            if let Some(e) = r.experts.iter().find(|&&e| e >= self.n_expert) {
                return Err(format!(
                    "trace record {i} names expert {e} of {}",
                    self.n_expert
                ));
            }
        }
        Ok(())
    }

    /// An error unless the profile was recorded on a model whose MoE layers are
    /// `moe_layers` with `n_expert` experts each.
    pub fn check_model(
        &self,
        path: &Path,
        moe_layers: &[usize],
        n_expert: usize,
    ) -> Result<(), ProfileError> {
        let layers: Vec<usize> = self.layers.iter().map(|l| l.layer).collect();
        if layers != moe_layers || self.n_expert != n_expert {
            return Err(ProfileError::Invalid {
                path: path.display().to_string(),
                why: format!(
                    "recorded on {} (MoE layers {layers:?}, {} experts each), not on this \
                     model (MoE layers {moe_layers:?}, {n_expert} experts each)",
                    self.model, self.n_expert
                ),
            });
        }
        Ok(())
    }

    /// The `n` most used (layer, expert) pairs, most used first (ties: lower layer,
    /// then lower expert); never-used experts are left out.
    pub fn most_used(&self, n: usize) -> Vec<(usize, usize)> {
        let mut all: Vec<(u64, usize, usize)> = self
            .layers
            .iter()
            .flat_map(|l| {
                l.uses
                    .iter()
                    .enumerate()
                    .filter(|(_, &u)| u > 0)
                    .map(|(e, &u)| (u, l.layer, e))
            })
            .collect();
        all.sort_unstable_by(|a, b| b.0.cmp(&a.0).then((a.1, a.2).cmp(&(b.1, b.2))));
        all.into_iter().take(n).map(|(_, l, e)| (l, e)).collect()
    }

    /// Share of all uses that went to the most used `fraction` of experts (0.1: the top
    /// 10%): 0.1 for perfectly uniform routing, near 1 for very skewed.
    pub fn top_share(&self, fraction: f64) -> f64 {
        let mut uses: Vec<u64> = self
            .layers
            .iter()
            .flat_map(|l| l.uses.iter().copied())
            .collect();
        let total: u64 = uses.iter().sum();
        if total == 0 {
            return 0.0;
        }
        uses.sort_unstable_by_key(|&n| std::cmp::Reverse(n));
        let n = ((uses.len() as f64 * fraction).round() as usize).max(1);
        uses[..n.min(uses.len())].iter().sum::<u64>() as f64 / total as f64
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn sample() -> ExpertProfile {
        let r = |layer, experts: &[usize]| Request {
            layer,
            pos: 0,
            experts: experts.to_vec(),
        };
        ExpertProfile::from_trace(
            "m.gguf",
            &[1, 2],
            4,
            2,
            vec![
                r(1, &[0, 3]),
                r(2, &[1, 3]),
                r(1, &[3, 2]),
                r(0, &[1]),
                r(2, &[9, 1]),
            ],
        )
    }

    #[test]
    fn counts_and_ranks_uses() {
        let p = sample();
        assert_eq!(p.layers[0].uses, [1, 0, 1, 2]);
        assert_eq!(p.layers[1].uses, [0, 2, 0, 1]);
        assert_eq!(p.trace.len(), 4, "the dense layer's record is dropped");
        assert_eq!(p.most_used(3), [(1, 3), (2, 1), (1, 0)]);
        assert_eq!(p.most_used(100).len(), 5);
        assert!((p.top_share(0.25) - 4.0 / 7.0).abs() < 1e-9);
    }

    #[test]
    fn round_trips_and_rejects_bad_files() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("p.json");
        let p = sample();
        p.save(&path).unwrap();
        assert_eq!(ExpertProfile::load(&path).unwrap(), p);
        assert!(p.check_model(&path, &[1, 2], 4).is_ok());
        let e = p.check_model(&path, &[1, 2, 3], 4).unwrap_err().to_string();
        assert!(
            e.contains("p.json") && e.contains("not on this model"),
            "{e}"
        );

        let missing = dir.path().join("none.json");
        let e = ExpertProfile::load(&missing).unwrap_err().to_string();
        assert!(e.contains("none.json"), "{e}");
        std::fs::write(&path, b"{\"format\": 3").unwrap();
        let e = ExpertProfile::load(&path).unwrap_err().to_string();
        assert!(e.contains("p.json") && e.contains("not valid JSON"), "{e}");
        let mut bad = p.clone();
        bad.trace[0].experts.push(7);
        bad.save(&path).unwrap();
        let e = ExpertProfile::load(&path).unwrap_err().to_string();
        assert!(e.contains("names expert 7"), "{e}");
    }
}
