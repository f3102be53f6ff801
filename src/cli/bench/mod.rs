//! `bitmoe bench`: llama-bench-style throughput. For each thread count, prompt
//! processing tests (`-p`, pp N: N random tokens in one batch from an empty context)
//! and generation tests (`-n`, tg N: N single-token decode steps), each repeated `-r`
//! times after a warm-up run; mean ± standard deviation in tokens/s. Tokenization and
//! sampling are excluded, as in llama-bench.
//!
//! Without `-m` it builds a synthetic llama-shaped model (SmolLM2-135M's layer shapes,
//! random Q8_0 weights, byte-level vocabulary) in the user's cache directory, so the
//! command works on a fresh machine with nothing downloaded. Its numbers are speed only.
//! (The R1-shaped synthetic model and the expert-cache columns come with the MoE work.)

use std::path::PathBuf;
use std::time::Instant;

use anyhow::Context;
use serde::Serialize;

use super::BenchArgs;
use crate::engine::{LoadOptions, Session};
use crate::schema::Arch;
use crate::synth::{write_dense, DenseSpec};
use crate::weights::experts::CacheStats;

#[derive(Debug, Serialize)]
struct Row {
    model: String,
    size_bytes: u64,
    params: u64,
    isa: &'static str,
    threads: usize,
    test: String,
    n_tokens: usize,
    avg_ts: f64,
    stddev_ts: f64,
    samples_ts: Vec<f64>,
    /// Expert cache over the measured repetitions (not the warm-up), when one is used.
    #[serde(skip_serializing_if = "Option::is_none")]
    experts: Option<ExpertColumns>,
    bitmoe_version: &'static str,
}

/// Expert-cache figures per test, per token.
#[derive(Debug, Serialize)]
struct ExpertColumns {
    hit_rate: f64,
    read_bytes_per_token: f64,
    read_gbps: f64,
    stall_ms_per_token: f64,
}

impl ExpertColumns {
    fn between(a: &CacheStats, b: &CacheStats, tokens: usize, wall_s: f64) -> ExpertColumns {
        let d = CacheStats {
            hits: b.hits - a.hits,
            misses: b.misses - a.misses,
            ..*b
        };
        let bytes = (b.bytes_read - a.bytes_read) as f64;
        ExpertColumns {
            hit_rate: d.hit_rate(),
            read_bytes_per_token: bytes / tokens.max(1) as f64,
            read_gbps: bytes / wall_s.max(1e-9) / 1e9,
            stall_ms_per_token: (b.stall_s - a.stall_s) * 1000.0 / tokens.max(1) as f64,
        }
    }
}

fn parse_list(s: &str, flag: &str) -> anyhow::Result<Vec<usize>> {
    s.split(',')
        .map(|x| {
            x.trim()
                .parse::<usize>()
                .with_context(|| format!("{flag}: {x:?} is not a number"))
        })
        .collect()
}

/// The default model: synthetic, SmolLM2-135M-shaped, cached.
fn default_model() -> anyhow::Result<PathBuf> {
    let dir = std::env::var_os("XDG_CACHE_HOME")
        .map(PathBuf::from)
        .or_else(|| std::env::var_os("HOME").map(|h| PathBuf::from(h).join(".cache")))
        .unwrap_or_else(std::env::temp_dir)
        .join("bitmoe");
    std::fs::create_dir_all(&dir).with_context(|| format!("creating {}", dir.display()))?;
    let path = dir.join("synth-llama-smollm2-shape-q8_0-seed42.gguf");
    if !path.exists() {
        let spec = DenseSpec {
            n_embd: 576,
            n_layer: 30,
            n_head: 9,
            n_head_kv: 3,
            n_ff: 1536,
            ..DenseSpec::tiny(Arch::Llama)
        };
        let tmp = path.with_extension("part");
        write_dense(&tmp, &spec)?;
        std::fs::rename(&tmp, &path)?;
    }
    eprintln!(
        "bench: no -m given; using the synthetic model {} (speed only, no text quality)",
        path.display()
    );
    Ok(path)
}

fn mean_sd(v: &[f64]) -> (f64, f64) {
    let n = v.len() as f64;
    let mean = v.iter().sum::<f64>() / n;
    let var = if v.len() > 1 {
        v.iter().map(|x| (x - mean).powi(2)).sum::<f64>() / (n - 1.0)
    } else {
        0.0
    };
    (mean, var.sqrt())
}

pub fn run(args: &BenchArgs) -> anyhow::Result<()> {
    let model = match &args.model {
        Some(m) => m.clone(),
        None => default_model()?,
    };
    let prompts = parse_list(&args.n_prompt, "-p")?;
    let gens = parse_list(&args.n_gen, "-n")?;
    let threads = match &args.threads {
        Some(t) => parse_list(t, "-t")?,
        None => vec![crate::engine::default_threads()],
    };
    anyhow::ensure!(args.repetitions >= 1, "-r must be at least 1");
    let mut rows = Vec::new();
    for &t in &threads {
        let n_ctx = prompts.iter().chain(&gens).copied().max().unwrap_or(1) + 1;
        let mut s = Session::load(&LoadOptions {
            model: model.clone(),
            threads: Some(t),
            ctx_size: n_ctx,
            batch_size: args.batch_size,
            pin_threads: false,
            ..args.load_options(&model)
        })?;
        let file = s.weights().file();
        let size_bytes = file.total_tensor_bytes();
        let params = file.tensors().iter().map(|x| x.n_elements()).sum();
        let name = file
            .metadata()
            .get_str(crate::schema::GeneralKey::Name.name())
            .ok()
            .flatten()
            .unwrap_or("model")
            .to_string();
        let vocab = s.tokenizer().vocab_size().min(256) as u32;
        let tokens: Vec<u32> = (0..n_ctx as u32).map(|i| (i * 7919 + 13) % vocab).collect();
        let tests = prompts
            .iter()
            .filter(|&&p| p > 0)
            .map(|&p| (format!("pp{p}"), p, true))
            .chain(
                gens.iter()
                    .filter(|&&g| g > 0)
                    .map(|&g| (format!("tg{g}"), g, false)),
            );
        for (test, n, is_prompt) in tests {
            let mut samples = Vec::new();
            let (mut before, mut measured_s) = (None, 0.0);
            for rep in 0..=args.repetitions {
                if rep == 1 {
                    before = s.expert_cache_stats();
                }
                s.reset();
                let t0 = Instant::now();
                if is_prompt {
                    s.eval(&tokens[..n])?;
                } else {
                    for &tok in &tokens[..n] {
                        s.eval(&[tok])?;
                    }
                }
                let secs = t0.elapsed().as_secs_f64();
                if rep > 0 {
                    samples.push(n as f64 / secs); // rep 0 is the warm-up
                    measured_s += secs;
                }
            }
            let experts = before
                .zip(s.expert_cache_stats())
                .map(|(a, b)| ExpertColumns::between(&a, &b, n * args.repetitions, measured_s));
            let (avg, sd) = mean_sd(&samples);
            if args.output == "md" {
                eprintln!("  {test} t={t}: {avg:.2} ± {sd:.2} t/s");
            }
            rows.push(Row {
                model: name.clone(),
                size_bytes,
                params,
                isa: s.kernels().isa().name(),
                threads: t,
                test,
                n_tokens: n,
                avg_ts: avg,
                stddev_ts: sd,
                samples_ts: samples,
                experts,
                bitmoe_version: env!("CARGO_PKG_VERSION"),
            });
        }
    }
    match args.output.as_str() {
        "json" => println!("{}", serde_json::to_string_pretty(&rows)?),
        "jsonl" => {
            for r in &rows {
                println!("{}", serde_json::to_string(r)?);
            }
        }
        _ => {
            let cached = rows.iter().any(|r| r.experts.is_some());
            let (head, rule) = if cached {
                (
                    " expert hits | read/token | read rate | stall/token |",
                    " ---: | ---: | ---: | ---: |",
                )
            } else {
                ("", "")
            };
            println!("| model | size | params | backend | threads | test | t/s |{head}");
            println!("| --- | ---: | ---: | --- | ---: | ---: | ---: |{rule}");
            for r in &rows {
                let e = r.experts.as_ref().map_or(String::new(), |e| {
                    format!(
                        " {:.1}% | {:.1} MB | {:.2} GB/s | {:.1} ms |",
                        100.0 * e.hit_rate,
                        e.read_bytes_per_token / 1e6,
                        e.read_gbps,
                        e.stall_ms_per_token
                    )
                });
                println!(
                    "| {} | {:.2} MiB | {:.2} M | CPU {} | {} | {} | {:.2} ± {:.2} |{e}",
                    r.model,
                    r.size_bytes as f64 / (1 << 20) as f64,
                    r.params as f64 / 1e6,
                    r.isa,
                    r.threads,
                    r.test,
                    r.avg_ts,
                    r.stddev_ts
                );
            }
        }
    }
    Ok(())
}
