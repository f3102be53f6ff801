//! `bitmoe synth`: write a synthetic model (dense llama / qwen2, or deepseek2 presets).

use std::time::Instant;

use anyhow::bail;

use super::SynthArgs;
use crate::quant::QuantType;
use crate::schema::Arch;
use crate::synth::{write_deepseek2, write_dense, DenseSpec, MlaLayout, MoeSpec, MoeTypes};

pub fn run(args: &SynthArgs) -> anyhow::Result<()> {
    let arch = match Arch::from_name(&args.arch) {
        Some(a) => a,
        None => bail!(
            "unknown architecture {:?} (llama, qwen2, deepseek2)",
            args.arch
        ),
    };
    if arch == Arch::Deepseek2 {
        return deepseek2(args);
    }
    let spec = DenseSpec {
        seed: args.seed,
        ..DenseSpec::tiny(arch)
    };
    write_dense(&args.output, &spec)?;
    eprintln!(
        "wrote {} ({} tiny, seed {})",
        args.output.display(),
        arch,
        args.seed
    );
    Ok(())
}

fn deepseek2(args: &SynthArgs) -> anyhow::Result<()> {
    let n_moe = args.moe_layers.unwrap_or(2);
    let mut spec = match args.preset.as_str() {
        "r1-tiny" => MoeSpec {
            n_layer: 1 + n_moe,
            ..MoeSpec::r1_tiny()
        },
        "r1-small" => MoeSpec::r1_small(args.moe_layers.unwrap_or(6)),
        "r1-wide" => MoeSpec::r1_wide(n_moe),
        other => bail!("unknown deepseek2 preset {other:?} (r1-tiny, r1-small, r1-wide)"),
    };
    spec.layout = match args.layout.as_str() {
        "legacy" => MlaLayout::Legacy,
        "split" => MlaLayout::Split,
        other => bail!("unknown MLA layout {other:?} (legacy, split)"),
    };
    if args.groups && spec.groups.is_none() {
        spec.groups = Some(spec.r1_groups());
    }
    spec.seed = args.seed;
    spec.vocab_from = args.vocab_from.clone();
    if let Some(w) = &args.weights {
        let ty = match QuantType::from_name(w) {
            Some(t @ (QuantType::F32 | QuantType::F16)) => t,
            _ => bail!("--weights {w:?}: f32 or f16 (the default is the UD-IQ1_S mix)"),
        };
        spec.types = MoeTypes::uniform(ty);
    }
    let start = Instant::now();
    write_deepseek2(&args.output, &spec)?;
    let secs = start.elapsed().as_secs_f64();
    let bytes = std::fs::metadata(&args.output).map_or(0, |m| m.len());
    eprintln!(
        "wrote {} (deepseek2 {}, {} layout, {} blocks, seed {}): {:.1} MB in {secs:.1} s, {:.0} MB/s",
        args.output.display(),
        args.preset,
        args.layout,
        spec.n_layer,
        args.seed,
        bytes as f64 / 1e6,
        bytes as f64 / 1e6 / secs.max(1e-9),
    );
    Ok(())
}
