//! Every GGUF tensor name bitmoe knows, as enums → names (spec `dense-models.md` §2,
//! `deepseek2.md` §3), and the role each tensor plays in a token's computation — the
//! unit of placement (resident / expert cache / GPU) and of `bitmoe info`'s byte
//! accounting. Names are formatted here and nowhere else.

use std::fmt;

/// What a tensor is, independent of its layer.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum TensorKind {
    // Global.
    TokenEmbd,
    OutputNorm,
    Output,
    OutputBias,
    RopeFreqs,
    // Per block: attention (GQA).
    AttnNorm,
    AttnQ,
    AttnK,
    AttnV,
    AttnQBias,
    AttnKBias,
    AttnVBias,
    AttnQkv,
    AttnQkvBias,
    AttnOutput,
    AttnOutputBias,
    // Per block: attention (MLA).
    AttnQA,
    AttnQANorm,
    AttnQB,
    AttnKvAMqa,
    AttnKvANorm,
    AttnKvB,
    AttnKB,
    AttnVB,
    // Per block: FFN.
    FfnNorm,
    FfnGate,
    FfnUp,
    FfnDown,
    // Per block: MoE.
    FfnGateInp,
    ExpProbsB,
    FfnGateExps,
    FfnUpExps,
    FfnDownExps,
    FfnGateUpExps,
    FfnGateShexp,
    FfnUpShexp,
    FfnDownShexp,
}

/// The part of the computation a tensor belongs to.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, serde::Serialize)]
#[serde(rename_all = "snake_case")]
pub enum TensorRole {
    Embeddings,
    Attention,
    DenseFfn,
    Router,
    SharedExperts,
    RoutedExperts,
    Norms,
    Output,
    Other,
}

impl TensorRole {
    pub const ALL: [TensorRole; 9] = [
        TensorRole::Embeddings,
        TensorRole::Attention,
        TensorRole::DenseFfn,
        TensorRole::Router,
        TensorRole::SharedExperts,
        TensorRole::RoutedExperts,
        TensorRole::Norms,
        TensorRole::Output,
        TensorRole::Other,
    ];

    pub fn name(self) -> &'static str {
        match self {
            TensorRole::Embeddings => "embeddings",
            TensorRole::Attention => "attention",
            TensorRole::DenseFfn => "dense FFN",
            TensorRole::Router => "router",
            TensorRole::SharedExperts => "shared experts",
            TensorRole::RoutedExperts => "routed experts",
            TensorRole::Norms => "norms",
            TensorRole::Output => "output",
            TensorRole::Other => "other",
        }
    }
}

impl fmt::Display for TensorRole {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.name())
    }
}

use TensorKind::*;

/// (kind, name without the `blk.N.` prefix, per block?)
const TABLE: &[(TensorKind, &str, bool)] = &[
    (TokenEmbd, "token_embd.weight", false),
    (OutputNorm, "output_norm.weight", false),
    (Output, "output.weight", false),
    (OutputBias, "output.bias", false),
    (RopeFreqs, "rope_freqs.weight", false),
    (AttnNorm, "attn_norm.weight", true),
    (AttnQ, "attn_q.weight", true),
    (AttnK, "attn_k.weight", true),
    (AttnV, "attn_v.weight", true),
    (AttnQBias, "attn_q.bias", true),
    (AttnKBias, "attn_k.bias", true),
    (AttnVBias, "attn_v.bias", true),
    (AttnQkv, "attn_qkv.weight", true),
    (AttnQkvBias, "attn_qkv.bias", true),
    (AttnOutput, "attn_output.weight", true),
    (AttnOutputBias, "attn_output.bias", true),
    (AttnQA, "attn_q_a.weight", true),
    (AttnQANorm, "attn_q_a_norm.weight", true),
    (AttnQB, "attn_q_b.weight", true),
    (AttnKvAMqa, "attn_kv_a_mqa.weight", true),
    (AttnKvANorm, "attn_kv_a_norm.weight", true),
    (AttnKvB, "attn_kv_b.weight", true),
    (AttnKB, "attn_k_b.weight", true),
    (AttnVB, "attn_v_b.weight", true),
    (FfnNorm, "ffn_norm.weight", true),
    (FfnGate, "ffn_gate.weight", true),
    (FfnUp, "ffn_up.weight", true),
    (FfnDown, "ffn_down.weight", true),
    (FfnGateInp, "ffn_gate_inp.weight", true),
    (ExpProbsB, "exp_probs_b.bias", true),
    (FfnGateExps, "ffn_gate_exps.weight", true),
    (FfnUpExps, "ffn_up_exps.weight", true),
    (FfnDownExps, "ffn_down_exps.weight", true),
    (FfnGateUpExps, "ffn_gate_up_exps.weight", true),
    (FfnGateShexp, "ffn_gate_shexp.weight", true),
    (FfnUpShexp, "ffn_up_shexp.weight", true),
    (FfnDownShexp, "ffn_down_shexp.weight", true),
];

const BLOCK_PREFIX: &str = "blk.";

impl TensorKind {
    fn entry(self) -> &'static (TensorKind, &'static str, bool) {
        TABLE
            .iter()
            .find(|e| e.0 == self)
            .expect("every TensorKind has a TABLE entry (checked by a test)")
    }

    /// Whether the tensor exists once per block (`blk.N.…`).
    pub fn per_block(self) -> bool {
        self.entry().2
    }

    /// The GGUF name: `token_embd.weight`, or `blk.{layer}.attn_q.weight` for per-block
    /// kinds (`layer` is ignored for global ones).
    pub fn name(self, layer: usize) -> String {
        let (_, suffix, per_block) = *self.entry();
        if per_block {
            format!("{BLOCK_PREFIX}{layer}.{suffix}")
        } else {
            suffix.to_string()
        }
    }

    pub fn role(self) -> TensorRole {
        match self {
            TokenEmbd => TensorRole::Embeddings,
            Output | OutputBias => TensorRole::Output,
            OutputNorm | AttnNorm | FfnNorm | AttnQANorm | AttnKvANorm => TensorRole::Norms,
            RopeFreqs => TensorRole::Other,
            AttnQ | AttnK | AttnV | AttnQBias | AttnKBias | AttnVBias | AttnQkv | AttnQkvBias
            | AttnOutput | AttnOutputBias | AttnQA | AttnQB | AttnKvAMqa | AttnKvB | AttnKB
            | AttnVB => TensorRole::Attention,
            FfnGate | FfnUp | FfnDown => TensorRole::DenseFfn,
            FfnGateInp | ExpProbsB => TensorRole::Router,
            FfnGateExps | FfnUpExps | FfnDownExps | FfnGateUpExps => TensorRole::RoutedExperts,
            FfnGateShexp | FfnUpShexp | FfnDownShexp => TensorRole::SharedExperts,
        }
    }
}

/// A parsed tensor name: its kind and, for per-block tensors, its layer.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct TensorName {
    pub kind: TensorKind,
    pub layer: Option<usize>,
}

impl TensorName {
    /// Recognizes a GGUF tensor name; `None` for names bitmoe does not know.
    pub fn parse(name: &str) -> Option<TensorName> {
        if let Some(rest) = name.strip_prefix(BLOCK_PREFIX) {
            let (layer, suffix) = rest.split_once('.')?;
            if layer.is_empty() || !layer.bytes().all(|b| b.is_ascii_digit()) {
                return None;
            }
            let layer: usize = layer.parse().ok()?;
            let kind = TABLE.iter().find(|e| e.2 && e.1 == suffix)?.0;
            return Some(TensorName {
                kind,
                layer: Some(layer),
            });
        }
        let kind = TABLE.iter().find(|e| !e.2 && e.1 == name)?.0;
        Some(TensorName { kind, layer: None })
    }
}

/// The layer of a `blk.N.` tensor name even if the rest is unknown to bitmoe.
pub fn block_of(name: &str) -> Option<usize> {
    let rest = name.strip_prefix(BLOCK_PREFIX)?;
    rest.split_once('.')?.0.parse().ok()
}

/// The `blk.N` label of a layer, as tensor names spell it.
pub fn block_label(layer: usize) -> String {
    format!("{BLOCK_PREFIX}{layer}")
}

/// `name` without a leading `blk.` (for fuzzy matching of user-typed names).
pub fn strip_block_prefix(name: &str) -> &str {
    name.strip_prefix(BLOCK_PREFIX).unwrap_or(name)
}

/// The role of any tensor name (unknown names are `Other`).
pub fn role_of(name: &str) -> TensorRole {
    TensorName::parse(name).map_or(TensorRole::Other, |n| n.kind.role())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_kind_round_trips_through_its_name() {
        for &(kind, _, per_block) in TABLE {
            let name = kind.name(17);
            let parsed = TensorName::parse(&name).unwrap();
            assert_eq!(parsed.kind, kind);
            assert_eq!(parsed.layer, per_block.then_some(17));
        }
    }

    #[test]
    fn roles_of_r1_tensors() {
        assert_eq!(
            role_of("blk.3.ffn_up_exps.weight"),
            TensorRole::RoutedExperts
        );
        assert_eq!(
            role_of("blk.3.ffn_up_shexp.weight"),
            TensorRole::SharedExperts
        );
        assert_eq!(role_of("blk.3.exp_probs_b.bias"), TensorRole::Router);
        assert_eq!(role_of("blk.0.ffn_up.weight"), TensorRole::DenseFfn);
        assert_eq!(role_of("blk.0.attn_kv_a_norm.weight"), TensorRole::Norms);
        assert_eq!(role_of("token_embd.weight"), TensorRole::Embeddings);
        assert_eq!(role_of("blk.x.attn_q.weight"), TensorRole::Other);
        assert_eq!(role_of("blk.1.mystery.weight"), TensorRole::Other);
        assert_eq!(block_of("blk.1.mystery.weight"), Some(1));
    }
}
