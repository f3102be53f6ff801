//! Hyper-parameters, parsed once from metadata into typed structs per architecture.
//! Defaults are llama.cpp's (spec `gguf.md` §9); every missing required key and every
//! key of the wrong type is collected, so one error lists them all.

use serde::Serialize;

use super::keys::{ArchKey, GeneralKey, TokenizerKey};
use super::Arch;
use crate::gguf::{Metadata, PerLayer};

/// Why hyper-parameters could not be read.
#[derive(Debug, Clone, PartialEq, thiserror::Error)]
pub enum SchemaError {
    #[error("metadata has no general.architecture: not a model file?")]
    NoArchitecture,
    #[error("architecture {0:?} is not supported (supported: llama, qwen2, deepseek2)")]
    UnsupportedArch(String),
    #[error(
        "{arch} model metadata is incomplete:{}{}",
        list("missing", missing),
        list("invalid", invalid)
    )]
    Problems {
        arch: &'static str,
        missing: Vec<String>,
        invalid: Vec<String>,
    },
}

fn list(label: &str, items: &[String]) -> String {
    if items.is_empty() {
        String::new()
    } else {
        format!(" {label}: {}.", items.join(", "))
    }
}

/// RoPE frequency scaling (spec `gguf.md` §9.1).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "lowercase")]
pub enum RopeScalingType {
    None,
    Linear,
    Yarn,
    Longrope,
}

#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct RopeScaling {
    pub kind: RopeScalingType,
    /// s; `freq_scale = 1 / s`. 1.0 when absent.
    pub factor: f32,
    /// YaRN's original training context.
    pub original_context_length: u32,
    pub attn_factor: f32,
    /// DeepSeek: 0.1 × mscale_all_dim as stored.
    pub yarn_log_multiplier: Option<f32>,
    pub yarn_ext_factor: f32,
    pub yarn_beta_fast: f32,
    pub yarn_beta_slow: f32,
}

/// Keys every supported architecture has.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct CommonParams {
    pub context_length: u32,
    pub n_embd: u32,
    pub n_layer: u32,
    /// Dense FFN width (for deepseek2: of the leading dense blocks).
    pub n_ff: PerLayer,
    pub n_head: PerLayer,
    pub n_head_kv: PerLayer,
    /// Per-head K / V widths as stored (deepseek2 new files: the absorbed MQA widths).
    pub key_length: u32,
    pub value_length: u32,
    pub rms_eps: f32,
    /// Rotated dims per head.
    pub n_rot: u32,
    pub rope_freq_base: f32,
    pub rope_scaling: RopeScaling,
    /// Replaces 1/√head_dim when present (Granite-style; absent in our models).
    pub attention_scale: Option<f32>,
    pub vocab_size: u32,
}

/// How deepseek2 turns router logits into weights (`expert_gating_func`).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "lowercase")]
pub enum GatingFunc {
    Softmax,
    Sigmoid,
}

/// deepseek2: MLA + MoE keys (spec `gguf.md` §9.3).
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Deepseek2Params {
    pub leading_dense_blocks: u32,
    /// Absent for "lite" models, which use a plain `attn_q`.
    pub q_lora_rank: Option<u32>,
    pub kv_lora_rank: u32,
    /// Present (non-zero) only in new files with `attn_k_b` / `attn_v_b`.
    pub key_length_mla: Option<u32>,
    pub value_length_mla: Option<u32>,
    pub expert_count: u32,
    pub expert_used_count: u32,
    pub expert_shared_count: u32,
    pub expert_ff: u32,
    pub expert_weights_scale: f32,
    pub expert_weights_norm: bool,
    pub gating: GatingFunc,
    /// Absent in Jan-2025 R1 files: llama.cpp then does no group-limited routing.
    pub expert_group_count: Option<u32>,
    pub expert_group_used_count: Option<u32>,
}

impl Deepseek2Params {
    /// MLA-absorbed layout (`attn_k_b` / `attn_v_b`) iff both `_mla` keys are non-zero.
    pub fn has_mla_split_kv_b(&self) -> bool {
        self.key_length_mla.is_some_and(|k| k > 0) && self.value_length_mla.is_some_and(|v| v > 0)
    }
}

/// A model's hyper-parameters.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Hparams {
    pub arch: Arch,
    #[serde(flatten)]
    pub common: CommonParams,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub deepseek2: Option<Deepseek2Params>,
}

impl Hparams {
    pub fn from_metadata(md: &Metadata) -> Result<Self, SchemaError> {
        let arch_name = match md.get_str(GeneralKey::Architecture.name()) {
            Ok(Some(a)) => a,
            _ => return Err(SchemaError::NoArchitecture),
        };
        let arch = Arch::from_name(arch_name)
            .ok_or_else(|| SchemaError::UnsupportedArch(arch_name.to_string()))?;
        let mut r = KeyReader {
            md,
            arch,
            missing: Vec::new(),
            invalid: Vec::new(),
        };
        let common = r.common();
        let deepseek2 = (arch == Arch::Deepseek2).then(|| r.deepseek2());
        if !r.missing.is_empty() || !r.invalid.is_empty() {
            return Err(SchemaError::Problems {
                arch: arch.name(),
                missing: r.missing,
                invalid: r.invalid,
            });
        }
        Ok(Hparams {
            arch,
            common,
            deepseek2,
        })
    }
}

/// Reads keys, recording problems instead of stopping at the first.
struct KeyReader<'a> {
    md: &'a Metadata,
    arch: Arch,
    missing: Vec<String>,
    invalid: Vec<String>,
}

impl KeyReader<'_> {
    fn opt<T>(
        &mut self,
        key: &str,
        get: impl FnOnce(&Metadata, &str) -> Result<Option<T>, crate::gguf::KeyTypeError>,
    ) -> Option<T> {
        match get(self.md, key) {
            Ok(v) => v,
            Err(e) => {
                self.invalid
                    .push(format!("{key} ({} instead of {})", e.found, e.expected));
                None
            }
        }
    }

    fn u32(&mut self, key: ArchKey) -> Option<u32> {
        self.opt(&key.name(self.arch), Metadata::get_u32)
    }

    fn f32(&mut self, key: ArchKey) -> Option<f32> {
        self.opt(&key.name(self.arch), Metadata::get_f32)
    }

    fn required<T: Default>(&mut self, key: ArchKey, v: Option<T>) -> T {
        if v.is_none()
            && !self
                .invalid
                .iter()
                .any(|i| i.starts_with(&key.name(self.arch)))
        {
            self.missing.push(key.name(self.arch));
        }
        v.unwrap_or_default()
    }

    fn req_u32(&mut self, key: ArchKey) -> u32 {
        let v = self.u32(key);
        self.required(key, v)
    }

    fn per_layer(&mut self, key: ArchKey, n_layer: u32) -> Option<PerLayer> {
        let name = key.name(self.arch);
        self.opt(&name, |md, k| md.get_u32_or_per_layer(k, n_layer as usize))
    }

    fn common(&mut self) -> CommonParams {
        use ArchKey::*;
        let context_length = self.req_u32(ContextLength);
        let n_embd = self.req_u32(EmbeddingLength);
        let n_layer = self.req_u32(BlockCount);
        let n_ff = self.per_layer(FeedForwardLength, n_layer);
        let n_ff = self
            .required(FeedForwardLength, n_ff.map(Some))
            .unwrap_or(PerLayer::Uniform(0));
        let n_head = self.per_layer(HeadCount, n_layer);
        let n_head = self
            .required(HeadCount, n_head.map(Some))
            .unwrap_or(PerLayer::Uniform(0));
        let n_head_kv = self
            .per_layer(HeadCountKv, n_layer)
            .unwrap_or_else(|| n_head.clone());
        let head_dim = n_embd.checked_div(n_head.max()).unwrap_or(0);
        let key_length = self.u32(KeyLength).unwrap_or(head_dim);
        let value_length = self.u32(ValueLength).unwrap_or(head_dim);
        let rms_eps = self.f32(LayerNormRmsEpsilon);
        let rms_eps = self.required(LayerNormRmsEpsilon, rms_eps);
        let n_rot = self.u32(RopeDimensionCount).unwrap_or(key_length);
        let rope_freq_base = self.f32(RopeFreqBase).unwrap_or(10_000.0);
        let rope_scaling = self.rope_scaling(context_length);
        let attention_scale = self.f32(AttentionScale).filter(|&s| s != 0.0);
        let vocab_size = self.vocab_size();
        CommonParams {
            context_length,
            n_embd,
            n_layer,
            n_ff,
            n_head,
            n_head_kv,
            key_length,
            value_length,
            rms_eps,
            n_rot,
            rope_freq_base,
            rope_scaling,
            attention_scale,
            vocab_size,
        }
    }

    fn rope_scaling(&mut self, context_length: u32) -> RopeScaling {
        use ArchKey::*;
        let type_key = RopeScalingType.name(self.arch);
        let kind = match self.opt(&type_key, |md, k| {
            md.get_str(k).map(|s| s.map(str::to_owned))
        }) {
            None => self::RopeScalingType::Linear,
            Some(s) => match s.as_str() {
                "none" => self::RopeScalingType::None,
                "linear" => self::RopeScalingType::Linear,
                "yarn" => self::RopeScalingType::Yarn,
                "longrope" => self::RopeScalingType::Longrope,
                other => {
                    self.invalid
                        .push(format!("{type_key} (unknown scaling {other:?})"));
                    self::RopeScalingType::None
                }
            },
        };
        let factor = self
            .f32(RopeScalingFactor)
            .or_else(|| self.f32(RopeScaleLinear))
            .filter(|&f| f != 0.0)
            .unwrap_or(1.0);
        let is_yarn = kind == self::RopeScalingType::Yarn;
        RopeScaling {
            kind,
            factor,
            original_context_length: self.u32(RopeScalingOrigCtx).unwrap_or(context_length),
            attn_factor: self.f32(RopeScalingAttnFactor).unwrap_or(1.0),
            yarn_log_multiplier: self.f32(RopeScalingYarnLogMultiplier),
            yarn_ext_factor: self.f32(RopeScalingYarnExtFactor).unwrap_or(if is_yarn {
                1.0
            } else {
                0.0
            }),
            yarn_beta_fast: self.f32(RopeScalingYarnBetaFast).unwrap_or(32.0),
            yarn_beta_slow: self.f32(RopeScalingYarnBetaSlow).unwrap_or(1.0),
        }
    }

    fn vocab_size(&mut self) -> u32 {
        if let Some(v) = self.u32(ArchKey::VocabSize) {
            return v;
        }
        let key = TokenizerKey::Tokens.name();
        match self.opt(key, |md, k| md.get_array(k).map(|a| a.map(|a| a.len()))) {
            Some(len) => len as u32,
            None => {
                if !self.invalid.iter().any(|i| i.starts_with(key)) {
                    self.missing
                        .push(format!("{} or {key}", ArchKey::VocabSize.name(self.arch)));
                }
                0
            }
        }
    }

    fn deepseek2(&mut self) -> Deepseek2Params {
        use ArchKey::*;
        let gating_key = ExpertGatingFunc.name(self.arch);
        let gating = match self.u32(ExpertGatingFunc) {
            None | Some(1) => GatingFunc::Softmax,
            Some(2) => GatingFunc::Sigmoid,
            Some(other) => {
                self.invalid
                    .push(format!("{gating_key} (unknown gating function {other})"));
                GatingFunc::Softmax
            }
        };
        let weights_norm_key = ExpertWeightsNorm.name(self.arch);
        Deepseek2Params {
            leading_dense_blocks: self.req_u32(LeadingDenseBlockCount),
            q_lora_rank: self.u32(QLoraRank).filter(|&r| r > 0),
            kv_lora_rank: self.req_u32(KvLoraRank),
            key_length_mla: self.u32(KeyLengthMla).filter(|&k| k > 0),
            value_length_mla: self.u32(ValueLengthMla).filter(|&v| v > 0),
            expert_count: self.req_u32(ExpertCount),
            expert_used_count: self.req_u32(ExpertUsedCount),
            expert_shared_count: self.u32(ExpertSharedCount).unwrap_or(0),
            expert_ff: self.req_u32(ExpertFeedForwardLength),
            expert_weights_scale: self.f32(ExpertWeightsScale).unwrap_or(1.0),
            expert_weights_norm: self
                .opt(&weights_norm_key, Metadata::get_bool)
                .unwrap_or(false),
            gating,
            expert_group_count: self.u32(ExpertGroupCount).filter(|&g| g > 0),
            expert_group_used_count: self.u32(ExpertGroupUsedCount).filter(|&g| g > 0),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::gguf::{MetaArray, MetaValue};

    fn r1_legacy() -> Metadata {
        let mut md = Metadata::new();
        let s = |v: &str| MetaValue::String(v.into());
        md.set("general.architecture", s("deepseek2"));
        for (k, v) in [
            ("context_length", 163_840),
            ("embedding_length", 7168),
            ("block_count", 61),
            ("feed_forward_length", 18_432),
            ("attention.head_count", 128),
            ("attention.head_count_kv", 128),
            ("attention.key_length", 192),
            ("attention.value_length", 128),
            ("rope.dimension_count", 64),
            ("leading_dense_block_count", 3),
            ("attention.q_lora_rank", 1536),
            ("attention.kv_lora_rank", 512),
            ("expert_count", 256),
            ("expert_used_count", 8),
            ("expert_shared_count", 1),
            ("expert_feed_forward_length", 2048),
            ("expert_gating_func", 2),
            ("vocab_size", 129_280),
            ("rope.scaling.original_context_length", 4096),
        ] {
            md.set(format!("deepseek2.{k}"), MetaValue::U32(v));
        }
        md.set(
            "deepseek2.attention.layer_norm_rms_epsilon",
            MetaValue::F32(1e-6),
        );
        md.set("deepseek2.expert_weights_scale", MetaValue::F32(2.5));
        md.set("deepseek2.expert_weights_norm", MetaValue::Bool(true));
        md.set("deepseek2.rope.scaling.type", s("yarn"));
        md.set("deepseek2.rope.scaling.factor", MetaValue::F32(40.0));
        md.set(
            "deepseek2.rope.scaling.yarn_log_multiplier",
            MetaValue::F32(0.1),
        );
        md
    }

    #[test]
    fn r1_legacy_metadata() {
        let h = Hparams::from_metadata(&r1_legacy()).unwrap();
        assert_eq!(h.arch, Arch::Deepseek2);
        assert_eq!(h.common.n_head, PerLayer::Uniform(128));
        assert_eq!(h.common.rope_freq_base, 10_000.0);
        assert_eq!(h.common.rope_scaling.kind, RopeScalingType::Yarn);
        assert_eq!(h.common.rope_scaling.yarn_ext_factor, 1.0);
        assert_eq!(h.common.rope_scaling.yarn_beta_fast, 32.0);
        let d = h.deepseek2.unwrap();
        assert_eq!(d.gating, GatingFunc::Sigmoid);
        assert_eq!(
            (d.expert_group_count, d.expert_group_used_count),
            (None, None)
        );
        assert!(!d.has_mla_split_kv_b());
        assert_eq!(d.q_lora_rank, Some(1536));
    }

    #[test]
    fn every_missing_and_invalid_key_is_listed_at_once() {
        let mut md = r1_legacy();
        md.remove("deepseek2.embedding_length");
        md.remove("deepseek2.expert_count");
        md.remove("deepseek2.attention.layer_norm_rms_epsilon");
        md.set("deepseek2.block_count", MetaValue::String("61".into()));
        let err = Hparams::from_metadata(&md).unwrap_err();
        let SchemaError::Problems {
            missing, invalid, ..
        } = &err
        else {
            panic!("{err}")
        };
        assert_eq!(
            missing,
            &[
                "deepseek2.embedding_length",
                "deepseek2.attention.layer_norm_rms_epsilon",
                "deepseek2.expert_count"
            ]
        );
        assert_eq!(invalid.len(), 1, "{invalid:?}");
        assert!(invalid[0].starts_with("deepseek2.block_count"));
        let text = err.to_string();
        assert!(
            text.contains("deepseek2.expert_count") && text.contains("block_count"),
            "{text}"
        );
    }

    #[test]
    fn per_layer_head_counts() {
        let mut md = r1_legacy();
        let mut heads = vec![128u32; 61];
        md.set(
            "deepseek2.attention.head_count",
            MetaValue::Array(MetaArray::U32(heads.clone())),
        );
        assert_eq!(
            Hparams::from_metadata(&md).unwrap().common.n_head,
            PerLayer::Uniform(128)
        );
        heads[5] = 64;
        md.set(
            "deepseek2.attention.head_count",
            MetaValue::Array(MetaArray::U32(heads)),
        );
        let h = Hparams::from_metadata(&md).unwrap();
        assert_eq!((h.common.n_head.at(5), h.common.n_head.at(6)), (64, 128));
        md.set(
            "deepseek2.attention.head_count",
            MetaValue::Array(MetaArray::U32(vec![1, 2])),
        );
        assert!(Hparams::from_metadata(&md).is_err());
    }

    #[test]
    fn unsupported_arch_is_named() {
        let mut md = Metadata::new();
        md.set("general.architecture", MetaValue::String("mamba".into()));
        assert_eq!(
            Hparams::from_metadata(&md).unwrap_err(),
            SchemaError::UnsupportedArch("mamba".into())
        );
    }
}
