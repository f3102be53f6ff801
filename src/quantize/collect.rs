//! Collecting an importance matrix while the model runs: per linear layer, per input
//! column, Σx² over the tokens that went through it, and the token count — per expert
//! for 3-D expert tensors, counting only the tokens routed to that expert, as
//! `llama-imatrix` does.
//!
//! The forward pass shows each linear layer's input with the matrix's bytes
//! ([`ActivationObserver`]); where those bytes lie in the mapped model file says which
//! tensor (and which expert) it was. Matrices that are not file bytes (experts in the
//! expert cache's slabs, `attn_k_b` derived at load from a legacy `attn_kv_b`) are not
//! seen: run with mapped experts.

use std::sync::Mutex;

use super::imatrix::{Imatrix, ImatrixEntry};
use crate::gguf::GgufFile;
use crate::model::blocks::ActivationObserver;

/// One 2-D or 3-D weight: where its bytes are and how they split into matrices.
struct Target {
    start: usize,
    len: usize,
    /// Bytes of one matrix (one expert of a 3-D tensor; all of a 2-D one).
    per_matrix: usize,
    n_cols: usize,
    name: String,
}

pub struct ImatrixCollector {
    /// Sorted by start address.
    targets: Vec<Target>,
    sums: Mutex<Vec<ImatrixEntry>>,
}

impl ImatrixCollector {
    /// Watches every matrix of `file` (as mapped now) except those `skip` names.
    pub fn new(file: &GgufFile, skip: &dyn Fn(&str) -> bool) -> ImatrixCollector {
        let mut targets: Vec<Target> = file
            .tensors()
            .iter()
            .filter(|t| t.dims.len() >= 2 && !skip(&t.name))
            .filter_map(|t| {
                let data = file.tensor_data(t)?;
                let n_mat = t.dims.iter().skip(2).product::<u64>().max(1) as usize;
                Some(Target {
                    start: data.as_ptr() as usize,
                    len: data.len(),
                    per_matrix: data.len() / n_mat,
                    n_cols: t.dims[0] as usize,
                    name: t.name.clone(),
                })
            })
            .filter(|t| t.len > 0)
            .collect();
        targets.sort_by_key(|t| t.start);
        let sums = targets
            .iter()
            .map(|t| ImatrixEntry {
                sums: vec![0.0; t.n_cols * (t.len / t.per_matrix)],
                counts: vec![0.0; t.len / t.per_matrix],
            })
            .collect();
        ImatrixCollector {
            targets,
            sums: Mutex::new(sums),
        }
    }

    /// The collected matrix (entries that saw no token are left out, as llama-imatrix
    /// does).
    pub fn finish(self, datasets: Vec<String>, chunk_count: u32, chunk_size: u32) -> Imatrix {
        let sums = self.sums.into_inner().unwrap_or_else(|p| p.into_inner());
        let entries = self
            .targets
            .into_iter()
            .zip(sums)
            .filter(|(_, e)| e.counts.iter().any(|&c| c > 0.0))
            .map(|(t, e)| (t.name, e))
            .collect();
        Imatrix {
            entries,
            datasets,
            chunk_count,
            chunk_size,
        }
    }
}

impl ActivationObserver for ImatrixCollector {
    fn observe(&self, weights: &[u8], x: &[f32], k: usize) {
        let at = weights.as_ptr() as usize;
        let i = self.targets.partition_point(|t| t.start <= at);
        let Some(t) = i.checked_sub(1).map(|i| (i, &self.targets[i])) else {
            return;
        };
        let (idx, t) = t;
        if at >= t.start + t.len || k != t.n_cols || weights.len() > t.per_matrix {
            return; // not file bytes of a watched matrix
        }
        let m = (at - t.start) / t.per_matrix;
        let mut sums = self.sums.lock().unwrap_or_else(|p| p.into_inner());
        let e = &mut sums[idx];
        let row = &mut e.sums[m * k..(m + 1) * k];
        for xs in x.chunks_exact(k) {
            for (s, &v) in row.iter_mut().zip(xs) {
                *s += v * v;
            }
        }
        e.counts[m] += (x.len() / k) as f32;
    }
}
