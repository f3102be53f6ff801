//! `bitmoe quantize IN.gguf OUT.gguf --recipe NAME|FILE.toml`: the plan (printed with
//! `--dry-run`), then the output written tensor by tensor.

use std::time::Instant;

use anyhow::Context;
use indicatif::{ProgressBar, ProgressDrawTarget, ProgressStyle};

use super::QuantizeArgs;
use crate::gguf::{GgufFile, TensorDecl};
use crate::quantize::{execute, Imatrix, Inputs, Plan, Recipe};
use crate::schema::Hparams;

/// Types llama-quantize will not make without an importance matrix.
const NEEDS_IMATRIX: &[&str] = &["iq1_s", "iq1_m", "iq2_xxs", "iq2_xs", "iq2_s", "iq3_xxs"];

pub fn run(args: &QuantizeArgs) -> anyhow::Result<()> {
    let recipe = Recipe::load(&args.recipe)?;
    let file = GgufFile::open(&args.input)?;
    let hparams = Hparams::from_metadata(file.metadata()).ok();
    let decls: Vec<TensorDecl> = file.tensors().iter().map(TensorDecl::from).collect();
    let plan = Plan::make(&decls, hparams.as_ref(), &recipe, args.allow_requantize)?;
    if args.dry_run {
        print!("{}", plan.render());
        return Ok(());
    }
    let Some(output) = &args.output else {
        anyhow::bail!("give an output file (or --dry-run to print the plan only)");
    };
    anyhow::ensure!(
        output != &args.input,
        "the output {} is the input: quantize into a new file",
        output.display()
    );
    let imatrix = match &args.imatrix {
        Some(p) => Some(Imatrix::load(p)?),
        None => None,
    };
    let quantized_low: Vec<&str> = plan
        .entries
        .iter()
        .filter(|e| {
            NEEDS_IMATRIX.contains(&e.to) && !matches!(e.action, crate::quantize::Action::Copy)
        })
        .map(|e| e.name.as_str())
        .collect();
    if imatrix.is_none() && !quantized_low.is_empty() {
        eprintln!(
            "warning: {} tensors go to i-quant types below 2.1 bits without an importance \
             matrix (--imatrix); llama-quantize refuses this, quality will suffer",
            quantized_low.len()
        );
    }
    if let Some(m) = &imatrix {
        let missing = plan
            .entries
            .iter()
            .filter(|e| {
                e.action == crate::quantize::Action::Quantize && !m.entries.contains_key(&e.name)
            })
            .count();
        eprintln!(
            "imatrix: {} entries from {} chunks; {missing} quantized tensors have none (uniform importance)",
            m.entries.len(),
            m.chunk_count
        );
    }
    let threads = args.threads.unwrap_or_else(crate::engine::default_threads);
    let pool = rayon::ThreadPoolBuilder::new()
        .num_threads(threads)
        .build()?;
    let bar = ProgressBar::with_draw_target(Some(plan.input_bytes), ProgressDrawTarget::stderr());
    bar.set_style(
        ProgressStyle::with_template("{spinner} [{bar:30}] {bytes}/{total_bytes} {msg} ({eta})")
            .unwrap_or_else(|_| ProgressStyle::default_bar())
            .progress_chars("=> "),
    );
    let n = plan.entries.len();
    let progress = |done: usize, bytes: u64| {
        bar.set_position(bytes);
        bar.set_message(format!("{done}/{n} tensors"));
    };
    let t0 = Instant::now();
    let imatrix_ref = match (&imatrix, &args.imatrix) {
        (Some(m), Some(p)) => Some((m, p.as_path())),
        _ => None,
    };
    let paths = pool.install(|| {
        execute(
            &plan,
            recipe.default,
            output,
            &Inputs {
                file: &file,
                imatrix: imatrix_ref,
                split_max_bytes: args.split_max_size,
                progress: &progress,
            },
        )
    });
    bar.finish_and_clear();
    let paths = paths.with_context(|| format!("quantizing {}", args.input.display()))?;
    let secs = t0.elapsed().as_secs_f64();
    for (ty, t) in &plan.by_type {
        eprintln!(
            "  {ty:>8}: {:4} tensors {:>10.2} MiB",
            t.tensors,
            t.bytes as f64 / (1u64 << 20) as f64
        );
    }
    eprintln!(
        "wrote {} ({} file{}): {:.2} MiB -> {:.2} MiB, {:.2} bits per weight, recipe {}, {secs:.1} s",
        paths[0].display(),
        paths.len(),
        if paths.len() == 1 { "" } else { "s" },
        plan.input_bytes as f64 / (1u64 << 20) as f64,
        plan.output_bytes as f64 / (1u64 << 20) as f64,
        plan.bits_per_weight(),
        recipe.name,
    );
    Ok(())
}
