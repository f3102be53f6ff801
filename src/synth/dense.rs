//! Synthetic dense models (llama, qwen2): a few layers of random Q8_0 weights with
//! llama.cpp's tensor names and metadata, so the same file runs in bitmoe and llama.cpp.
//!
//! Every tensor is drawn, in file order, from one sequential stream of the seed: the
//! files (and the golden data recorded from them in `tests/data/golden/`) depend on
//! that order and on the normal-distributed quants of [`q8_0`], so neither changes.
//! The output head gets a larger scale so the logits are peaked and greedy tokens do
//! not flip on rounding differences. Depends on `gguf`, `schema`, `quant` and the
//! synth helpers [`super::rng`] and [`super::vocab`].

use std::path::Path;

use super::rng::Rng;
use super::vocab;
use crate::gguf::keys::GENERAL_ALIGNMENT;
use crate::gguf::{GgufError, GgufWriter, MetaValue, Metadata, TensorDecl};
use crate::quant::QuantType;
use crate::schema::{Arch, ArchKey, GeneralKey, TensorKind};

/// Shape of a synthetic dense model.
#[derive(Debug, Clone)]
pub struct DenseSpec {
    pub arch: Arch,
    pub n_embd: usize,
    pub n_layer: usize,
    pub n_head: usize,
    pub n_head_kv: usize,
    pub n_ff: usize,
    /// Untied models get an `output.weight`.
    pub tied: bool,
    pub seed: u64,
    /// Std of the output head's weights (larger = more peaked logits).
    pub output_std: f32,
}

impl DenseSpec {
    /// A model that builds and runs in milliseconds.
    pub fn tiny(arch: Arch) -> DenseSpec {
        DenseSpec {
            arch,
            n_embd: 128,
            n_layer: 2,
            n_head: 4,
            n_head_kv: 2,
            n_ff: 256,
            tied: arch == Arch::Llama,
            seed: 42,
            output_std: 0.4,
        }
    }
}

/// Random Q8_0 blocks for `n` values of standard deviation `std`: normal quants
/// (the draw order fixes this generator's files, and the golden data made from them).
fn q8_0(rng: &mut Rng, n: usize, std: f32) -> Vec<u8> {
    const Q_STD: f32 = 40.0;
    let d = half::f16::from_f32(std / Q_STD).to_le_bytes();
    let mut out = Vec::with_capacity(n / 32 * 34);
    for _ in 0..n / 32 {
        out.extend_from_slice(&d);
        for _ in 0..32 {
            out.push((rng.normal() * Q_STD).round().clamp(-127.0, 127.0) as i8 as u8);
        }
    }
    out
}

fn f32s(values: impl Iterator<Item = f32>) -> Vec<u8> {
    values.flat_map(f32::to_le_bytes).collect()
}

/// Writes a synthetic llama or qwen2 model to `path`.
pub fn write_dense(path: &Path, spec: &DenseSpec) -> Result<(), GgufError> {
    let arch = spec.arch;
    let head_dim = spec.n_embd / spec.n_head;
    let mut md = Metadata::new();
    let s = |v: &str| MetaValue::String(v.to_string());
    md.set(GeneralKey::Architecture.name(), s(arch.name()));
    md.set(
        GeneralKey::Name.name(),
        s(&format!(
            "bitmoe synthetic {} (seed {})",
            arch.name(),
            spec.seed
        )),
    );
    md.set(GENERAL_ALIGNMENT, MetaValue::U32(32));
    let u = |v: usize| MetaValue::U32(v as u32);
    md.set(ArchKey::ContextLength.name(arch), u(2048));
    md.set(ArchKey::EmbeddingLength.name(arch), u(spec.n_embd));
    md.set(ArchKey::BlockCount.name(arch), u(spec.n_layer));
    md.set(ArchKey::FeedForwardLength.name(arch), u(spec.n_ff));
    md.set(ArchKey::HeadCount.name(arch), u(spec.n_head));
    md.set(ArchKey::HeadCountKv.name(arch), u(spec.n_head_kv));
    md.set(ArchKey::RopeDimensionCount.name(arch), u(head_dim));
    md.set(ArchKey::RopeFreqBase.name(arch), MetaValue::F32(10_000.0));
    md.set(
        ArchKey::LayerNormRmsEpsilon.name(arch),
        MetaValue::F32(1e-5),
    );
    md.set(GeneralKey::FileType.name(), MetaValue::U32(7)); // MOSTLY_Q8_0
    md.set(GeneralKey::QuantizationVersion.name(), MetaValue::U32(2));
    let n_vocab = vocab::set_synthetic(
        &mut md,
        if arch == Arch::Qwen2 {
            "qwen2"
        } else {
            "smollm"
        },
    );

    let (d, q_dim, kv_dim, ff) = (
        spec.n_embd,
        spec.n_head * head_dim,
        spec.n_head_kv * head_dim,
        spec.n_ff,
    );
    let mut rng = Rng::from_seed(spec.seed);
    // (decl, data) in llama.cpp's order: globals first, then block by block.
    let mut tensors: Vec<(TensorDecl, Vec<u8>)> = Vec::new();
    let mut push =
        |kind: TensorKind, layer: usize, dims: &[usize], ty: QuantType, data: Vec<u8>| {
            tensors.push((
                TensorDecl {
                    name: kind.name(layer),
                    dims: dims.iter().map(|&x| x as u64).collect(),
                    ty,
                },
                data,
            ));
        };
    let w_std = |k: usize| 1.0 / (k as f32).sqrt();
    push(
        TensorKind::TokenEmbd,
        0,
        &[d, n_vocab],
        QuantType::Q8_0,
        q8_0(&mut rng, d * n_vocab, 1.0),
    );
    push(
        TensorKind::OutputNorm,
        0,
        &[d],
        QuantType::F32,
        f32s((0..d).map(|_| 1.0 + 0.1 * rng.normal())),
    );
    if !spec.tied {
        push(
            TensorKind::Output,
            0,
            &[d, n_vocab],
            QuantType::Q8_0,
            q8_0(&mut rng, d * n_vocab, spec.output_std),
        );
    }
    for l in 0..spec.n_layer {
        let norm = |rng: &mut Rng| f32s((0..d).map(|_| 1.0 + 0.1 * rng.normal()));
        push(
            TensorKind::AttnNorm,
            l,
            &[d],
            QuantType::F32,
            norm(&mut rng),
        );
        push(
            TensorKind::AttnQ,
            l,
            &[d, q_dim],
            QuantType::Q8_0,
            q8_0(&mut rng, d * q_dim, w_std(d)),
        );
        push(
            TensorKind::AttnK,
            l,
            &[d, kv_dim],
            QuantType::Q8_0,
            q8_0(&mut rng, d * kv_dim, w_std(d)),
        );
        push(
            TensorKind::AttnV,
            l,
            &[d, kv_dim],
            QuantType::Q8_0,
            q8_0(&mut rng, d * kv_dim, w_std(d)),
        );
        if arch == Arch::Qwen2 {
            push(
                TensorKind::AttnQBias,
                l,
                &[q_dim],
                QuantType::F32,
                f32s((0..q_dim).map(|_| 0.1 * rng.normal())),
            );
            push(
                TensorKind::AttnKBias,
                l,
                &[kv_dim],
                QuantType::F32,
                f32s((0..kv_dim).map(|_| 0.1 * rng.normal())),
            );
            push(
                TensorKind::AttnVBias,
                l,
                &[kv_dim],
                QuantType::F32,
                f32s((0..kv_dim).map(|_| 0.1 * rng.normal())),
            );
        }
        push(
            TensorKind::AttnOutput,
            l,
            &[q_dim, d],
            QuantType::Q8_0,
            q8_0(&mut rng, q_dim * d, w_std(q_dim)),
        );
        push(TensorKind::FfnNorm, l, &[d], QuantType::F32, norm(&mut rng));
        push(
            TensorKind::FfnGate,
            l,
            &[d, ff],
            QuantType::Q8_0,
            q8_0(&mut rng, d * ff, w_std(d)),
        );
        push(
            TensorKind::FfnUp,
            l,
            &[d, ff],
            QuantType::Q8_0,
            q8_0(&mut rng, d * ff, w_std(d)),
        );
        push(
            TensorKind::FfnDown,
            l,
            &[ff, d],
            QuantType::Q8_0,
            q8_0(&mut rng, ff * d, w_std(ff)),
        );
    }
    let decls: Vec<TensorDecl> = tensors.iter().map(|(t, _)| t.clone()).collect();
    let mut w = GgufWriter::create(path, &md, &decls)?;
    for (_, data) in &tensors {
        w.write_data(data)?;
    }
    w.finish()?;
    Ok(())
}
