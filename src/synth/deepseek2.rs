//! Synthetic DeepSeek-R1-shaped models (`deepseek2` architecture): MLA attention, a
//! few leading dense blocks, then MoE blocks with a sigmoid router, selection bias and
//! one shared expert, in the tensor types of Unsloth's UD-IQ1_S mix
//! (spec `dynamic-quant-recipe.md` §3.1), with the tensor names, GGUF shapes and
//! metadata llama.cpp's deepseek2 loader expects (spec `deepseek2.md` §1, §3).
//!
//! Two attention layouts (`MlaLayout`): `Legacy` stores `attn_kv_b` like the
//! January-2025 R1 files (`key_length = nope + rope`, `value_length = v`,
//! `head_count_kv = n_head`); `Split` stores `attn_k_b` / `attn_v_b` derived from the
//! same `attn_kv_b` (see [`super::mla`]) plus `key_length_mla` / `value_length_mla`,
//! with `key_length = kv_lora + rope`, `value_length = kv_lora`, `head_count_kv = 1`,
//! as newer converters write. Every tensor has its own random stream keyed by seed and
//! name, so both layouts of a seed share every other byte.
//!
//! Magnitudes (why the model is well-behaved rather than merely valid): weights have
//! std 1/√k for rows of length k, so activations keep unit scale; norms are
//! 1 + 0.1·N(0,1); the F32 router has std `router_std`/√n_embd, which gives router
//! logits of std ≈ `router_std` on the normalised input — sigmoid scores spread out,
//! so expert-selection near-ties (spec `moe-fidelity.md`) are rare; the output head is
//! scaled so the top token wins clearly.
//!
//! Files are written one tensor at a time in chunks of a few MB, so a 2.4 GB R1-wide
//! MoE layer never sits in memory. Note for llama.cpp: it treats deepseek2 files with
//! 26 or 27 blocks as "lite" models (no q LoRA), so such layer counts do not load there.
//!
//! Depends on `gguf`, `schema`, `quant` and the synth helpers.

use std::path::{Path, PathBuf};

use super::blocks::RandomBlocks;
use super::mla::{self, KvBShape, K_B_TYPE};
use super::rng::Rng;
use super::vocab;
use crate::gguf::keys::GENERAL_ALIGNMENT;
use crate::gguf::{ErrorKind, GgufError, GgufWriter, MetaValue, Metadata, TensorDecl};
use crate::quant::QuantType;
use crate::schema::{Arch, ArchKey, GatingFunc, GeneralKey, TensorKind};

/// How MLA's `kv_b` projection is stored.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum MlaLayout {
    /// `attn_kv_b` (all Unsloth R1 files of January 2025).
    Legacy,
    /// `attn_k_b` + `attn_v_b` (newer converters; llama.cpp runs absorbed MLA on it).
    Split,
}

/// Tensor types per role.
#[derive(Debug, Clone, PartialEq)]
pub struct MoeTypes {
    pub token_embd: QuantType,
    /// `attn_q_a` and `attn_q_b`.
    pub attn_q: QuantType,
    pub attn_output: QuantType,
    pub attn_kv_a_mqa: QuantType,
    /// `attn_kv_b`, and `attn_v_b` of the split layout (`attn_k_b` is always Q8_0).
    pub attn_kv_b: QuantType,
    /// Dense blocks' `ffn_gate` and `ffn_up`.
    pub dense_gate_up: QuantType,
    pub dense_down: QuantType,
    pub shexp_gate_up: QuantType,
    pub shexp_down: QuantType,
    pub exps_gate_up: QuantType,
    pub exps_down: QuantType,
    /// `ffn_down_exps` of the first `exps_down_lead_layers` MoE blocks (Unsloth gives
    /// the early down projections more bits).
    pub exps_down_lead: QuantType,
    pub exps_down_lead_layers: usize,
    pub output: QuantType,
}

impl MoeTypes {
    /// Every weight matrix at `ty` (e.g. F16: a source for `bitmoe quantize`).
    pub fn uniform(ty: QuantType) -> MoeTypes {
        MoeTypes {
            token_embd: ty,
            attn_q: ty,
            attn_output: ty,
            attn_kv_a_mqa: ty,
            attn_kv_b: ty,
            dense_gate_up: ty,
            dense_down: ty,
            shexp_gate_up: ty,
            shexp_down: ty,
            exps_gate_up: ty,
            exps_down: ty,
            exps_down_lead: ty,
            exps_down_lead_layers: 0,
            output: ty,
        }
    }

    /// The UD-IQ1_S mix, with the first `lead` MoE blocks' `ffn_down_exps` at IQ2_XXS
    /// (R1 has 6 of 58).
    pub fn ud_iq1_s(lead: usize) -> MoeTypes {
        use QuantType::*;
        MoeTypes {
            token_embd: Q4K,
            attn_q: Q4K,
            attn_output: Q4K,
            attn_kv_a_mqa: Q6K,
            attn_kv_b: Q6K,
            dense_gate_up: Q4K,
            dense_down: Q6K,
            shexp_gate_up: Q5K,
            shexp_down: Q6K,
            exps_gate_up: Iq1S,
            exps_down: Iq1S,
            exps_down_lead: Iq2Xxs,
            exps_down_lead_layers: lead,
            output: Q6K,
        }
    }
}

/// YaRN RoPE scaling as R1 stores it.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Yarn {
    pub factor: f32,
    pub original_context: u32,
    /// `rope.scaling.yarn_log_multiplier` as stored (0.1 × mscale_all_dim).
    pub log_multiplier: f32,
}

/// Shape, types and magnitudes of a synthetic deepseek2 model.
#[derive(Debug, Clone, PartialEq)]
pub struct MoeSpec {
    pub n_embd: usize,
    /// All blocks: `n_dense_lead` dense ones, then MoE ones.
    pub n_layer: usize,
    pub n_dense_lead: usize,
    pub n_head: usize,
    pub q_lora_rank: usize,
    pub kv_lora_rank: usize,
    pub qk_nope: usize,
    /// Rotated dims per head (`rope.dimension_count`).
    pub qk_rope: usize,
    pub v_head: usize,
    /// Dense blocks' FFN width.
    pub n_ff: usize,
    pub n_expert: usize,
    pub n_expert_used: usize,
    pub n_expert_shared: usize,
    pub n_ff_exp: usize,
    /// (n_group, topk_group): written as `expert_group_count` / `expert_group_used_count`
    /// only when present (the January-2025 R1 files have neither).
    pub groups: Option<(usize, usize)>,
    pub layout: MlaLayout,
    pub types: MoeTypes,
    pub rope_base: f32,
    pub yarn: Option<Yarn>,
    pub rms_eps: f32,
    pub expert_weights_scale: f32,
    pub expert_weights_norm: bool,
    pub gating: GatingFunc,
    pub seed: u64,
    /// Std of the token embeddings.
    pub embd_std: f32,
    /// Std of the output head's weights (larger = more peaked logits).
    pub output_std: f32,
    /// Router logits' std on a unit-RMS input (router weights: this / √n_embd).
    pub router_std: f32,
    /// Std of `exp_probs_b` (the selection bias added to the sigmoid scores).
    pub probs_bias_std: f32,
    /// Copy the tokenizer from this GGUF file; `None`: the synthetic vocabulary.
    pub vocab_from: Option<PathBuf>,
}

/// DeepSeek-R1's YaRN parameters.
const R1_YARN: Yarn = Yarn {
    factor: 40.0,
    original_context: 4096,
    log_multiplier: 0.1,
};

impl MoeSpec {
    /// 1 dense + 2 MoE blocks at width 256 with R1's structure and metadata (YaRN,
    /// sigmoid gating, scale 2.5, 4 groups / top 2): builds and runs in milliseconds.
    pub fn r1_tiny() -> MoeSpec {
        MoeSpec {
            n_embd: 256,
            n_layer: 3,
            n_dense_lead: 1,
            n_head: 4,
            q_lora_rank: 256,
            kv_lora_rank: 256,
            qk_nope: 64,
            qk_rope: 32,
            v_head: 64,
            n_ff: 512,
            n_expert: 16,
            n_expert_used: 4,
            n_expert_shared: 1,
            n_ff_exp: 256,
            groups: Some((4, 2)),
            layout: MlaLayout::Legacy,
            types: MoeTypes::ud_iq1_s(1),
            rope_base: 10_000.0,
            yarn: Some(R1_YARN),
            rms_eps: 1e-6,
            expert_weights_scale: 2.5,
            expert_weights_norm: true,
            gating: GatingFunc::Sigmoid,
            seed: 42,
            embd_std: 1.0,
            output_std: 0.4,
            router_std: 1.5,
            probs_bias_std: 0.05,
            vocab_from: None,
        }
    }

    /// DeepSeek-R1's true widths (hidden 7168, 128 heads, 256 experts × 2048, dense FFN
    /// 18432) with one dense block and `n_moe_layers` MoE blocks; no group keys, like
    /// the January-2025 files. About 2.4 GB per MoE block.
    pub fn r1_wide(n_moe_layers: usize) -> MoeSpec {
        MoeSpec {
            n_embd: 7168,
            n_layer: 1 + n_moe_layers,
            n_dense_lead: 1,
            n_head: 128,
            q_lora_rank: 1536,
            kv_lora_rank: 512,
            qk_nope: 128,
            qk_rope: 64,
            v_head: 128,
            n_ff: 18_432,
            n_expert: 256,
            n_expert_used: 8,
            n_expert_shared: 1,
            n_ff_exp: 2048,
            groups: None,
            // Logits std ≈ output_std·√7168 ≈ 8.5.
            output_std: 0.1,
            ..MoeSpec::r1_tiny()
        }
    }

    /// R1's structure at width 2048: 1 dense + `n_moe_layers` MoE blocks of 64 experts
    /// (8 used, groups 8 / top 4) × 1024, ~80 MB of experts per block. With 6 MoE blocks
    /// (~0.6 GB) it builds in seconds and decodes at tens of tokens/s on a laptop: the
    /// model `bitmoe bench` uses when no `-m` is given.
    pub fn r1_small(n_moe_layers: usize) -> MoeSpec {
        MoeSpec {
            n_embd: 2048,
            n_layer: 1 + n_moe_layers,
            n_dense_lead: 1,
            n_head: 16,
            q_lora_rank: 768,
            kv_lora_rank: 512,
            qk_nope: 128,
            qk_rope: 64,
            v_head: 128,
            n_ff: 5632,
            n_expert: 64,
            n_expert_used: 8,
            n_expert_shared: 1,
            n_ff_exp: 1024,
            groups: Some((8, 4)),
            // Logits std ≈ output_std·√2048 ≈ 9.
            output_std: 0.2,
            ..MoeSpec::r1_tiny()
        }
    }

    /// R1's expert groups for this expert count: 8 groups, top 4 (tiny: 4 / 2).
    pub fn r1_groups(&self) -> (usize, usize) {
        if self.n_expert >= 64 {
            (8, 4)
        } else {
            (4, 2)
        }
    }

    /// What is wrong with the spec, if anything (shapes the GGUF writer cannot check).
    fn problems(&self) -> Vec<String> {
        let mut p = Vec::new();
        let dims = [
            ("n_embd", self.n_embd),
            ("n_layer", self.n_layer),
            ("n_head", self.n_head),
            ("q_lora_rank", self.q_lora_rank),
            ("kv_lora_rank", self.kv_lora_rank),
            ("qk_nope", self.qk_nope),
            ("qk_rope", self.qk_rope),
            ("v_head", self.v_head),
            ("n_ff", self.n_ff),
            ("n_expert", self.n_expert),
            ("n_expert_used", self.n_expert_used),
            ("n_expert_shared", self.n_expert_shared),
            ("n_ff_exp", self.n_ff_exp),
        ];
        for (name, v) in dims {
            if v == 0 {
                p.push(format!("{name} is 0"));
            }
        }
        if self.n_dense_lead > self.n_layer {
            p.push(format!(
                "{} dense blocks but only {} blocks",
                self.n_dense_lead, self.n_layer
            ));
        }
        if self.n_expert_used > self.n_expert {
            p.push(format!(
                "{} experts used of {}",
                self.n_expert_used, self.n_expert
            ));
        }
        if let Some((g, top)) = self.groups {
            if g == 0 || !self.n_expert.is_multiple_of(g) {
                p.push(format!(
                    "{} experts do not split into {g} groups",
                    self.n_expert
                ));
            } else if top == 0 || top > g || top * (self.n_expert / g) < self.n_expert_used {
                p.push(format!(
                    "top {top} of {g} groups cannot hold {} experts",
                    self.n_expert_used
                ));
            }
        }
        if !self.qk_rope.is_multiple_of(2) {
            p.push(format!(
                "qk_rope {} is odd (RoPE rotates pairs)",
                self.qk_rope
            ));
        }
        let stds = [
            ("embd_std", self.embd_std),
            ("output_std", self.output_std),
            ("router_std", self.router_std),
            ("probs_bias_std", self.probs_bias_std),
        ];
        for (name, v) in stds {
            if !(v.is_finite() && v >= 0.0) {
                p.push(format!("{name} {v} is not a finite non-negative number"));
            }
        }
        p
    }
}

/// How one tensor's bytes are made.
enum Fill {
    /// Random blocks of the tensor's type.
    Weights(RandomBlocks),
    /// F32 values `mean + std·N(0,1)` (norms, router, selection bias).
    Normal {
        mean: f32,
        std: f32,
    },
    /// `attn_k_b` / `attn_v_b` from the `attn_kv_b` of the same block (its name gives
    /// the random stream).
    SplitK {
        kv_b: String,
        gen: RandomBlocks,
    },
    SplitV {
        kv_b: String,
        gen: RandomBlocks,
    },
}

struct Planned {
    decl: TensorDecl,
    fill: Fill,
}

/// Bytes generated and written per chunk.
const CHUNK_BYTES: usize = 8 << 20;

/// Writes a synthetic deepseek2 model to `path`.
pub fn write_deepseek2(path: &Path, spec: &MoeSpec) -> Result<(), GgufError> {
    let err = |msg: String| GgufError::new(path, ErrorKind::Write(msg));
    let problems = spec.problems();
    if !problems.is_empty() {
        return Err(err(format!(
            "bad synthetic deepseek2 spec: {}",
            problems.join("; ")
        )));
    }
    let (md, n_vocab) = metadata(spec)?;
    let plan = plan(spec, n_vocab).map_err(err)?;
    let decls: Vec<TensorDecl> = plan.iter().map(|p| p.decl.clone()).collect();
    let mut w = GgufWriter::create(path, &md, &decls)?;
    let kv_b_shape = KvBShape {
        kv_lora: spec.kv_lora_rank,
        n_head: spec.n_head,
        nope: spec.qk_nope,
        v: spec.v_head,
    };
    let mut buf = Vec::new();
    for p in &plan {
        let mut rng = Rng::for_stream(spec.seed, &p.decl.name);
        match &p.fill {
            Fill::Weights(gen) => {
                let total = p.decl.ty.tensor_bytes(&p.decl.dims).unwrap_or(0) as usize;
                let block = p.decl.ty.type_size() as usize;
                let chunk = (CHUNK_BYTES / block).max(1) * block;
                let mut left = total;
                while left > 0 {
                    let n = left.min(chunk);
                    buf.resize(n, 0);
                    gen.fill(&mut rng, &mut buf);
                    w.write_data(&buf)?;
                    left -= n;
                }
            }
            Fill::Normal { mean, std } => {
                let n: u64 = p.decl.dims.iter().product();
                let bytes: Vec<u8> = (0..n)
                    .flat_map(|_| (mean + std * rng.normal()).to_le_bytes())
                    .collect();
                w.write_data(&bytes)?;
            }
            Fill::SplitK { kv_b, gen } | Fill::SplitV { kv_b, gen } => {
                let mut rng = Rng::for_stream(spec.seed, kv_b);
                let rows = spec.n_head * (spec.qk_nope + spec.v_head);
                let src = gen.generate(&mut rng, rows * spec.kv_lora_rank);
                let bytes = match p.fill {
                    Fill::SplitK { .. } => mla::k_b(&src, gen.ty(), kv_b_shape),
                    _ => mla::v_b(&src, gen.ty(), kv_b_shape),
                }
                .map_err(err)?;
                w.write_data(&bytes)?;
            }
        }
    }
    w.finish()?;
    Ok(())
}

/// The metadata and tensor list `write_deepseek2` would write, without writing: for
/// planning against full-size models (e.g. all 61 blocks of R1) that do not fit a disk.
pub fn deepseek2_layout(spec: &MoeSpec) -> Result<(Metadata, Vec<TensorDecl>), String> {
    let problems = spec.problems();
    if !problems.is_empty() {
        return Err(format!(
            "bad synthetic deepseek2 spec: {}",
            problems.join("; ")
        ));
    }
    let (md, n_vocab) = metadata(spec).map_err(|e| e.to_string())?;
    let decls = plan(spec, n_vocab)?.into_iter().map(|p| p.decl).collect();
    Ok((md, decls))
}

/// The file's metadata and the vocabulary size.
fn metadata(spec: &MoeSpec) -> Result<(Metadata, usize), GgufError> {
    let arch = Arch::Deepseek2;
    let mut md = Metadata::new();
    let u = |v: usize| MetaValue::U32(v as u32);
    let f = MetaValue::F32;
    let layout = match spec.layout {
        MlaLayout::Legacy => "legacy",
        MlaLayout::Split => "split",
    };
    md.set(
        GeneralKey::Architecture.name(),
        MetaValue::String(arch.name().into()),
    );
    md.set(
        GeneralKey::Name.name(),
        MetaValue::String(format!(
            "bitmoe synthetic deepseek2 ({layout} MLA, seed {})",
            spec.seed
        )),
    );
    md.set(GENERAL_ALIGNMENT, MetaValue::U32(32));
    let k = |key: ArchKey| key.name(arch);
    let ctx = spec
        .yarn
        .map_or(4096, |y| (y.original_context as f32 * y.factor) as usize);
    md.set(k(ArchKey::ContextLength), u(ctx));
    md.set(k(ArchKey::EmbeddingLength), u(spec.n_embd));
    md.set(k(ArchKey::BlockCount), u(spec.n_layer));
    md.set(k(ArchKey::FeedForwardLength), u(spec.n_ff));
    md.set(k(ArchKey::HeadCount), u(spec.n_head));
    md.set(k(ArchKey::RopeFreqBase), f(spec.rope_base));
    md.set(k(ArchKey::LayerNormRmsEpsilon), f(spec.rms_eps));
    md.set(k(ArchKey::ExpertUsedCount), u(spec.n_expert_used));
    md.set(k(ArchKey::ExpertCount), u(spec.n_expert));
    md.set(k(ArchKey::LeadingDenseBlockCount), u(spec.n_dense_lead));
    md.set(k(ArchKey::QLoraRank), u(spec.q_lora_rank));
    md.set(k(ArchKey::KvLoraRank), u(spec.kv_lora_rank));
    let qk = spec.qk_nope + spec.qk_rope;
    match spec.layout {
        MlaLayout::Legacy => {
            md.set(k(ArchKey::HeadCountKv), u(spec.n_head));
            md.set(k(ArchKey::KeyLength), u(qk));
            md.set(k(ArchKey::ValueLength), u(spec.v_head));
        }
        MlaLayout::Split => {
            // Absorbed MLA is MQA over the latent: one KV head of kv_lora + rope.
            md.set(k(ArchKey::HeadCountKv), u(1));
            md.set(k(ArchKey::KeyLength), u(spec.kv_lora_rank + spec.qk_rope));
            md.set(k(ArchKey::ValueLength), u(spec.kv_lora_rank));
            md.set(k(ArchKey::KeyLengthMla), u(qk));
            md.set(k(ArchKey::ValueLengthMla), u(spec.v_head));
        }
    }
    md.set(k(ArchKey::ExpertFeedForwardLength), u(spec.n_ff_exp));
    md.set(k(ArchKey::ExpertSharedCount), u(spec.n_expert_shared));
    md.set(k(ArchKey::ExpertWeightsScale), f(spec.expert_weights_scale));
    md.set(
        k(ArchKey::ExpertWeightsNorm),
        MetaValue::Bool(spec.expert_weights_norm),
    );
    let gating = match spec.gating {
        GatingFunc::Softmax => 1,
        GatingFunc::Sigmoid => 2,
    };
    md.set(k(ArchKey::ExpertGatingFunc), u(gating));
    if let Some((g, top)) = spec.groups {
        md.set(k(ArchKey::ExpertGroupCount), u(g));
        md.set(k(ArchKey::ExpertGroupUsedCount), u(top));
    }
    md.set(k(ArchKey::RopeDimensionCount), u(spec.qk_rope));
    if let Some(y) = spec.yarn {
        md.set(
            k(ArchKey::RopeScalingType),
            MetaValue::String("yarn".into()),
        );
        md.set(k(ArchKey::RopeScalingFactor), f(y.factor));
        md.set(
            k(ArchKey::RopeScalingOrigCtx),
            u(y.original_context as usize),
        );
        md.set(
            k(ArchKey::RopeScalingYarnLogMultiplier),
            f(y.log_multiplier),
        );
    }
    if let Some(ft) = file_type(spec.types.exps_gate_up) {
        md.set(GeneralKey::FileType.name(), MetaValue::U32(ft));
    }
    md.set(GeneralKey::QuantizationVersion.name(), MetaValue::U32(2));
    let n_vocab = match &spec.vocab_from {
        Some(from) => vocab::copy_tokenizer(&mut md, from)?,
        None => vocab::set_synthetic(&mut md, "deepseek-v3"),
    };
    md.set(k(ArchKey::VocabSize), u(n_vocab));
    Ok((md, n_vocab))
}

/// `general.file_type` (llama_ftype) named after the routed experts' type, as
/// llama-quantize labels a mix.
fn file_type(experts: QuantType) -> Option<u32> {
    Some(match experts {
        QuantType::F32 => 0,
        QuantType::F16 => 1,
        QuantType::Q8_0 => 7,
        QuantType::Q4K => 15,
        QuantType::Q5K => 17,
        QuantType::Q6K => 18,
        QuantType::Iq2Xxs => 19,
        QuantType::Iq1S => 24,
        _ => return None,
    })
}

/// Every tensor in file order (globals, then block by block in data-path order) with
/// how to fill it.
fn plan(spec: &MoeSpec, n_vocab: usize) -> Result<Vec<Planned>, String> {
    let t = &spec.types;
    let d = spec.n_embd;
    let qk = spec.qk_nope + spec.qk_rope;
    let mut out = Vec::new();
    let mut push = |kind: TensorKind, layer: usize, dims: &[usize], ty: QuantType, fill: Fill| {
        out.push(Planned {
            decl: TensorDecl {
                name: kind.name(layer),
                dims: dims.iter().map(|&x| x as u64).collect(),
                ty,
            },
            fill,
        });
    };
    let weights = |ty: QuantType, std: f32| {
        RandomBlocks::new(ty, std)
            .map(Fill::Weights)
            .map_err(|e| e.to_string())
    };
    // Rows of length k: std 1/√k keeps activations at unit scale.
    let w = |ty: QuantType, k: usize| weights(ty, 1.0 / (k as f32).sqrt());
    let norm = || Fill::Normal {
        mean: 1.0,
        std: 0.1,
    };
    use TensorKind::*;
    let f32t = QuantType::F32;
    push(
        TokenEmbd,
        0,
        &[d, n_vocab],
        t.token_embd,
        weights(t.token_embd, spec.embd_std)?,
    );
    push(OutputNorm, 0, &[d], f32t, norm());
    push(
        Output,
        0,
        &[d, n_vocab],
        t.output,
        weights(t.output, spec.output_std)?,
    );
    for l in 0..spec.n_layer {
        let (q, kv_lora, h) = (spec.q_lora_rank, spec.kv_lora_rank, spec.n_head);
        push(AttnNorm, l, &[d], f32t, norm());
        push(AttnQA, l, &[d, q], t.attn_q, w(t.attn_q, d)?);
        push(AttnQANorm, l, &[q], f32t, norm());
        push(AttnQB, l, &[q, h * qk], t.attn_q, w(t.attn_q, q)?);
        let kv_a = kv_lora + spec.qk_rope;
        push(
            AttnKvAMqa,
            l,
            &[d, kv_a],
            t.attn_kv_a_mqa,
            w(t.attn_kv_a_mqa, d)?,
        );
        push(AttnKvANorm, l, &[kv_lora], f32t, norm());
        let kv_b_rows = h * (spec.qk_nope + spec.v_head);
        let kv_b_gen = RandomBlocks::new(t.attn_kv_b, 1.0 / (kv_lora as f32).sqrt())
            .map_err(|e| e.to_string())?;
        match spec.layout {
            MlaLayout::Legacy => push(
                AttnKvB,
                l,
                &[kv_lora, kv_b_rows],
                t.attn_kv_b,
                Fill::Weights(kv_b_gen),
            ),
            MlaLayout::Split => {
                let kv_b = AttnKvB.name(l);
                let split_k = Fill::SplitK {
                    kv_b: kv_b.clone(),
                    gen: kv_b_gen,
                };
                push(AttnKB, l, &[spec.qk_nope, kv_lora, h], K_B_TYPE, split_k);
                let split_v = Fill::SplitV {
                    kv_b,
                    gen: kv_b_gen,
                };
                push(AttnVB, l, &[kv_lora, spec.v_head, h], t.attn_kv_b, split_v);
            }
        }
        let o = h * spec.v_head;
        push(AttnOutput, l, &[o, d], t.attn_output, w(t.attn_output, o)?);
        push(FfnNorm, l, &[d], f32t, norm());
        if l < spec.n_dense_lead {
            let ff = spec.n_ff;
            push(
                FfnGate,
                l,
                &[d, ff],
                t.dense_gate_up,
                w(t.dense_gate_up, d)?,
            );
            push(FfnUp, l, &[d, ff], t.dense_gate_up, w(t.dense_gate_up, d)?);
            push(FfnDown, l, &[ff, d], t.dense_down, w(t.dense_down, ff)?);
            continue;
        }
        let (e, ff) = (spec.n_expert, spec.n_ff_exp);
        let router = Fill::Normal {
            mean: 0.0,
            std: spec.router_std / (d as f32).sqrt(),
        };
        push(FfnGateInp, l, &[d, e], f32t, router);
        let bias = Fill::Normal {
            mean: 0.0,
            std: spec.probs_bias_std,
        };
        push(ExpProbsB, l, &[e], f32t, bias);
        let down = if l - spec.n_dense_lead < t.exps_down_lead_layers {
            t.exps_down_lead
        } else {
            t.exps_down
        };
        push(
            FfnGateExps,
            l,
            &[d, ff, e],
            t.exps_gate_up,
            w(t.exps_gate_up, d)?,
        );
        push(
            FfnUpExps,
            l,
            &[d, ff, e],
            t.exps_gate_up,
            w(t.exps_gate_up, d)?,
        );
        push(FfnDownExps, l, &[ff, d, e], down, w(down, ff)?);
        let sh = ff * spec.n_expert_shared;
        push(
            FfnGateShexp,
            l,
            &[d, sh],
            t.shexp_gate_up,
            w(t.shexp_gate_up, d)?,
        );
        push(
            FfnUpShexp,
            l,
            &[d, sh],
            t.shexp_gate_up,
            w(t.shexp_gate_up, d)?,
        );
        push(
            FfnDownShexp,
            l,
            &[sh, d],
            t.shexp_down,
            w(t.shexp_down, sh)?,
        );
    }
    Ok(out)
}
