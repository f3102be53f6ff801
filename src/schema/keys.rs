//! Every GGUF metadata key bitmoe reads, as enums → names. `{arch}.` keys are formed
//! from the architecture's name here and nowhere else.

use super::Arch;

/// Keys under `general.`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum GeneralKey {
    Architecture,
    Name,
    FileType,
    QuantizationVersion,
}

impl GeneralKey {
    pub fn name(self) -> &'static str {
        match self {
            GeneralKey::Architecture => "general.architecture",
            GeneralKey::Name => "general.name",
            GeneralKey::FileType => "general.file_type",
            GeneralKey::QuantizationVersion => "general.quantization_version",
        }
    }
}

/// Keys under `{arch}.` (spec `gguf.md` §9).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ArchKey {
    ContextLength,
    EmbeddingLength,
    BlockCount,
    FeedForwardLength,
    VocabSize,
    HeadCount,
    HeadCountKv,
    KeyLength,
    ValueLength,
    LayerNormRmsEpsilon,
    AttentionScale,
    RopeDimensionCount,
    RopeFreqBase,
    RopeScalingType,
    RopeScalingFactor,
    RopeScaleLinear,
    RopeScalingOrigCtx,
    RopeScalingAttnFactor,
    RopeScalingYarnLogMultiplier,
    RopeScalingYarnExtFactor,
    RopeScalingYarnAttnFactor,
    RopeScalingYarnBetaFast,
    RopeScalingYarnBetaSlow,
    LeadingDenseBlockCount,
    QLoraRank,
    KvLoraRank,
    KeyLengthMla,
    ValueLengthMla,
    ExpertCount,
    ExpertUsedCount,
    ExpertSharedCount,
    ExpertFeedForwardLength,
    ExpertWeightsScale,
    ExpertWeightsNorm,
    ExpertGatingFunc,
    ExpertGroupCount,
    ExpertGroupUsedCount,
}

impl ArchKey {
    /// The part after `{arch}.`.
    pub fn suffix(self) -> &'static str {
        use ArchKey::*;
        match self {
            ContextLength => "context_length",
            EmbeddingLength => "embedding_length",
            BlockCount => "block_count",
            FeedForwardLength => "feed_forward_length",
            VocabSize => "vocab_size",
            HeadCount => "attention.head_count",
            HeadCountKv => "attention.head_count_kv",
            KeyLength => "attention.key_length",
            ValueLength => "attention.value_length",
            LayerNormRmsEpsilon => "attention.layer_norm_rms_epsilon",
            AttentionScale => "attention.scale",
            RopeDimensionCount => "rope.dimension_count",
            RopeFreqBase => "rope.freq_base",
            RopeScalingType => "rope.scaling.type",
            RopeScalingFactor => "rope.scaling.factor",
            RopeScaleLinear => "rope.scale_linear",
            RopeScalingOrigCtx => "rope.scaling.original_context_length",
            RopeScalingAttnFactor => "rope.scaling.attn_factor",
            RopeScalingYarnLogMultiplier => "rope.scaling.yarn_log_multiplier",
            RopeScalingYarnExtFactor => "rope.scaling.yarn_ext_factor",
            RopeScalingYarnAttnFactor => "rope.scaling.yarn_attn_factor",
            RopeScalingYarnBetaFast => "rope.scaling.yarn_beta_fast",
            RopeScalingYarnBetaSlow => "rope.scaling.yarn_beta_slow",
            LeadingDenseBlockCount => "leading_dense_block_count",
            QLoraRank => "attention.q_lora_rank",
            KvLoraRank => "attention.kv_lora_rank",
            KeyLengthMla => "attention.key_length_mla",
            ValueLengthMla => "attention.value_length_mla",
            ExpertCount => "expert_count",
            ExpertUsedCount => "expert_used_count",
            ExpertSharedCount => "expert_shared_count",
            ExpertFeedForwardLength => "expert_feed_forward_length",
            ExpertWeightsScale => "expert_weights_scale",
            ExpertWeightsNorm => "expert_weights_norm",
            ExpertGatingFunc => "expert_gating_func",
            ExpertGroupCount => "expert_group_count",
            ExpertGroupUsedCount => "expert_group_used_count",
        }
    }

    /// The full key for `arch`, e.g. `deepseek2.expert_count`.
    pub fn name(self, arch: Arch) -> String {
        format!("{}.{}", arch.name(), self.suffix())
    }
}

/// Keys under `tokenizer.` (spec `gguf.md` §10).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum TokenizerKey {
    Model,
    Pre,
    Tokens,
    TokenType,
    Merges,
    Scores,
    BosId,
    EosId,
    PaddingId,
    UnknownId,
    EotId,
    EomId,
    AddBos,
    AddEos,
    ChatTemplate,
}

impl TokenizerKey {
    /// Every tokenizer key starts with this (used to copy a vocabulary between files).
    pub const PREFIX: &'static str = "tokenizer.";

    pub fn name(self) -> &'static str {
        use TokenizerKey::*;
        match self {
            Model => "tokenizer.ggml.model",
            Pre => "tokenizer.ggml.pre",
            Tokens => "tokenizer.ggml.tokens",
            TokenType => "tokenizer.ggml.token_type",
            Merges => "tokenizer.ggml.merges",
            Scores => "tokenizer.ggml.scores",
            BosId => "tokenizer.ggml.bos_token_id",
            EosId => "tokenizer.ggml.eos_token_id",
            PaddingId => "tokenizer.ggml.padding_token_id",
            UnknownId => "tokenizer.ggml.unknown_token_id",
            EotId => "tokenizer.ggml.eot_token_id",
            EomId => "tokenizer.ggml.eom_token_id",
            AddBos => "tokenizer.ggml.add_bos_token",
            AddEos => "tokenizer.ggml.add_eos_token",
            ChatTemplate => "tokenizer.chat_template",
        }
    }
}
