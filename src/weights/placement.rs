//! The memory plan: for a model file, a RAM budget and a context size, what must stay
//! resident, what the KV cache and scratch take, and how much room is left for routed
//! experts. Computed from the header alone (no tensor data is read), so `bitmoe info
//! --plan` answers "will this run here?" in milliseconds for a 131 GB model.
//!
//! Resident: every tensor but the routed experts (touched every token), plus memory
//! bitmoe derives at load (deepseek2 legacy files: `k_b` as Q8_0). KV: the latent
//! cache for MLA (`kv_lora + rope` f16 values per token per layer), K and V for GQA.
//! Scratch: activations of one batch and the widened keys of one layer (an estimate).

use serde::Serialize;

use crate::gguf::GgufFile;
use crate::schema::{role_of, Arch, Hparams, TensorRole};

/// DeepSeek-R1's cache row: 61 layers × (512 latent + 64 rope) f16 values.
pub const R1_KV_BYTES_PER_TOKEN: u64 = 61 * (512 + 64) * 2;

#[derive(Debug, Clone, Serialize)]
pub struct MemoryPlan {
    pub ram_budget: u64,
    pub n_ctx: u64,
    pub n_batch: u64,
    /// Weights touched every token (everything but routed experts).
    pub resident_weight_bytes: u64,
    /// Memory derived at load (MLA `k_b` from a legacy `attn_kv_b`).
    pub derived_bytes: u64,
    pub kv_bytes_per_token: u64,
    pub kv_bytes: u64,
    pub scratch_bytes: u64,
    pub routed_expert_bytes: u64,
    /// Experts over all MoE layers, and the bytes of one (gate + up + down).
    pub experts: u64,
    pub expert_bytes: u64,
    /// Experts the budget leaves room for (0 without routed experts).
    pub cacheable_experts: u64,
    /// The resident part, KV and scratch fit in the budget.
    pub fits: bool,
    /// Everything, experts included, fits: no paging at all.
    pub fits_entirely: bool,
}

impl MemoryPlan {
    pub fn resident_total(&self) -> u64 {
        self.resident_weight_bytes + self.derived_bytes + self.kv_bytes + self.scratch_bytes
    }

    pub fn of(file: &GgufFile, h: &Hparams, ram_budget: u64, n_ctx: u64, n_batch: u64) -> Self {
        let mut resident = 0u64;
        let mut routed = 0u64;
        for t in file.tensors() {
            if role_of(&t.name) == TensorRole::RoutedExperts {
                routed += t.n_bytes;
            } else {
                resident += t.n_bytes;
            }
        }
        let c = &h.common;
        let (n_layer, d) = (u64::from(c.n_layer), u64::from(c.n_embd));
        let n_head = u64::from(c.n_head.max());
        let mut derived = 0;
        let mut experts = 0;
        let (kv_per_token, widest);
        match (&h.arch, &h.deepseek2) {
            (Arch::Deepseek2, Some(p)) => {
                let (lora, rope) = (u64::from(p.kv_lora_rank), u64::from(c.n_rot));
                kv_per_token = n_layer * (lora + rope) * 2;
                let qk = u64::from(p.key_length_mla.unwrap_or(c.key_length));
                if !p.has_mla_split_kv_b() {
                    // k_b as Q8_0: n_head × kv_lora rows of nope values, 34 B per 32.
                    derived = n_layer * n_head * lora * (qk - rope.min(qk)).div_ceil(32) * 34;
                }
                let moe_layers = n_layer.saturating_sub(u64::from(p.leading_dense_blocks));
                experts = moe_layers * u64::from(p.expert_count);
                widest = (n_head * (qk + 2 * lora)).max(u64::from(c.n_ff.max()));
            }
            _ => {
                let kv_dim = u64::from(c.n_head_kv.max()) * u64::from(c.key_length);
                kv_per_token = n_layer * 2 * kv_dim * 2;
                widest = (n_head * u64::from(c.key_length)).max(u64::from(c.n_ff.max()));
            }
        }
        let kv = kv_per_token * n_ctx;
        // One batch (never more tokens than the context holds): residual, normed copy,
        // the widest intermediate three times, logits of one token; plus one layer's
        // keys widened to f32.
        let n_batch = n_batch.min(n_ctx.max(1));
        let scratch = 4 * (n_batch * (2 * d + 3 * widest) + u64::from(c.vocab_size))
            + 2 * kv_per_token / n_layer.max(1) * n_ctx;
        let expert_bytes = routed.checked_div(experts).unwrap_or(0);
        let fixed = resident + derived + kv + scratch;
        let room = ram_budget.saturating_sub(fixed);
        MemoryPlan {
            ram_budget,
            n_ctx,
            n_batch,
            resident_weight_bytes: resident,
            derived_bytes: derived,
            kv_bytes_per_token: kv_per_token,
            kv_bytes: kv,
            scratch_bytes: scratch,
            routed_expert_bytes: routed,
            experts,
            expert_bytes,
            cacheable_experts: room.checked_div(expert_bytes).unwrap_or(0).min(experts),
            fits: fixed <= ram_budget,
            fits_entirely: fixed + routed <= ram_budget,
        }
    }
}
