//! `bitmoe bench`: llama-bench-style throughput. For each thread count (`-t`), every
//! test from `-p` (prompt processing: N tokens in one batch), `-n` (generation: N
//! single-token steps), `-pg` (a prompt then generation, timed together) at every
//! context depth `-d`, repeated `-r` times after a warm-up; mean ± sd tokens/s.
//! Tokenization and sampling are excluded, as in llama-bench.
//!
//! Each row also says what the run read from storage per token, the expert cache's hit
//! rate, and the share of the machine's memory bandwidth a decode used (weight bytes
//! touched per token × tokens/s ÷ a read-bandwidth probe at the same thread count).
//! `--cold` evicts the model files from the page cache (and empties the expert cache)
//! before each repetition.
//!
//! Without `-m` it builds a synthetic DeepSeek-R1-shaped model in the user's cache
//! directory (`synthetic.rs`), so the command works on a fresh machine with nothing
//! downloaded. Its numbers are speed only.

mod plot;
mod report;
mod suite;
mod synthetic;
mod system;

use std::path::Path;
use std::time::{Duration, Instant, SystemTime};

use indicatif::{ProgressBar, ProgressDrawTarget, ProgressStyle};

use super::BenchArgs;
use crate::engine::{LoadOptions, Session};
use crate::inspect::ModelSummary;
use crate::weights::experts::CacheStats;
use report::{ExpertColumns, QuantShare, Row};
use suite::{expand, parse_list, parse_pair, BenchTest};

/// Progress on stderr: a bar on a terminal, plain lines otherwise, nothing with a
/// machine-readable `-o`.
struct Progress {
    bar: ProgressBar,
    quiet: bool,
    tty: bool,
}

impl Progress {
    fn new(quiet: bool) -> Progress {
        let bar = if quiet {
            ProgressBar::hidden()
        } else {
            let b = ProgressBar::with_draw_target(None, ProgressDrawTarget::stderr());
            b.enable_steady_tick(Duration::from_millis(120));
            b
        };
        let tty = !quiet && !bar.is_hidden();
        Progress { bar, quiet, tty }
    }

    /// What is happening now (building, loading, probing).
    fn stage(&self, msg: &str) {
        if self.tty {
            self.bar.set_message(msg.to_string());
        } else if !self.quiet {
            eprintln!("bench: {msg}");
        }
    }

    /// Switches to a bar over `runs` timed repetitions.
    fn start_runs(&self, runs: u64) {
        self.bar.set_style(
            ProgressStyle::with_template("{spinner} [{bar:30}] {pos}/{len} {msg}")
                .unwrap_or_else(|_| ProgressStyle::default_bar())
                .progress_chars("=> "),
        );
        self.bar.set_length(runs);
        self.bar.set_position(0);
    }

    fn inc(&self) {
        self.bar.inc(1);
    }

    /// A line that stays (a finished test's result, a warning).
    fn line(&self, msg: &str) {
        if self.tty {
            self.bar.suspend(|| eprintln!("{msg}"));
        } else if !self.quiet {
            eprintln!("{msg}");
        }
    }

    /// A warning shows even with `-o json`: it changes what the numbers mean.
    fn warn(&self, msg: &str) {
        if self.tty {
            self.bar.suspend(|| eprintln!("warning: {msg}"));
        } else {
            eprintln!("warning: {msg}");
        }
    }

    fn finish(&self) {
        self.bar.finish_and_clear();
    }
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

/// What every row of one model shares.
struct ModelFacts {
    filename: String,
    model_type: String,
    size: u64,
    params: u64,
    quant_mix: Vec<QuantShare>,
    touched_per_token: u64,
    synthetic: bool,
}

impl ModelFacts {
    fn of(s: &Session, path: &Path, synthetic: bool) -> ModelFacts {
        let summary = ModelSummary::of(s.weights().file(), false);
        let size = summary.total.bytes;
        let mut quant_mix: Vec<QuantShare> = summary
            .by_type
            .iter()
            .map(|(ty, t)| QuantShare {
                ty,
                bytes: t.bytes,
                fraction: t.bytes as f64 / size.max(1) as f64,
            })
            .collect();
        quant_mix.sort_by_key(|q| std::cmp::Reverse(q.bytes));
        let params = summary.total.elements;
        let compact = if params >= 1_000_000_000 {
            format!("{:.1}B", params as f64 / 1e9)
        } else {
            format!("{:.0}M", params as f64 / 1e6)
        };
        let arch = summary.architecture.as_deref().unwrap_or("model");
        let main_type = quant_mix
            .first()
            .map_or_else(|| "?".to_string(), |q| q.ty.to_uppercase());
        ModelFacts {
            filename: path.display().to_string(),
            model_type: format!("{arch} {compact} {main_type}"),
            size,
            params,
            quant_mix,
            touched_per_token: summary.footprint.touched_per_token_bytes,
            synthetic,
        }
    }
}

/// Evicts the model from memory before a cold repetition. Returns whether it could;
/// says why not (once) when it could not.
fn make_cold(s: &Session, progress: &Progress, warned: &mut bool) -> bool {
    let mut ok = true;
    for part in s.weights().file().parts() {
        let path = part.path().display();
        match part.map.evict_from_page_cache() {
            Err(e) => {
                ok = false;
                if !*warned {
                    progress.warn(&format!(
                        "--cold: cannot evict {path} from the page cache ({e}); runs are warm"
                    ));
                }
            }
            Ok(()) => {
                let left = part.map.cached_bytes().unwrap_or(0);
                if left > part.file_size() / 100 && !*warned {
                    progress.warn(&format!(
                        "--cold: {:.1} MB of {path} stayed in the page cache (mapped or \
                         locked by another process?)",
                        left as f64 / 1e6
                    ));
                }
            }
        }
    }
    s.clear_expert_cache();
    *warned = true;
    ok
}

/// Sums of the counters a test's timed parts moved.
#[derive(Default)]
struct Moved {
    storage: Option<u64>,
    hits: u64,
    misses: u64,
    expert_bytes: u64,
    stall_s: f64,
}

impl Moved {
    fn add(
        &mut self,
        io: (Option<u64>, Option<u64>),
        cache: (Option<CacheStats>, Option<CacheStats>),
    ) {
        if let (Some(a), Some(b)) = io {
            *self.storage.get_or_insert(0) += b.saturating_sub(a);
        }
        if let (Some(a), Some(b)) = cache {
            self.hits += b.hits - a.hits;
            self.misses += b.misses - a.misses;
            self.expert_bytes += b.bytes_read - a.bytes_read;
            self.stall_s += b.stall_s - a.stall_s;
        }
    }
}

struct TestRun<'a> {
    args: &'a BenchArgs,
    tokens: &'a [u32],
    progress: &'a Progress,
    cold_warned: bool,
}

impl TestRun<'_> {
    /// The timed part of one repetition: the prompt batch, then the generation steps.
    fn timed(&self, s: &mut Session, t: &BenchTest) -> anyhow::Result<()> {
        let start = t.depth;
        if t.n_prompt > 0 {
            s.eval(&self.tokens[start..start + t.n_prompt])?;
        }
        for &tok in &self.tokens[start + t.n_prompt..start + t.tokens()] {
            s.eval(&[tok])?;
        }
        Ok(())
    }

    /// Runs `t` `-r` times after a warm-up; returns the per-repetition seconds, what
    /// they moved, and whether every repetition started cold.
    fn run(&mut self, s: &mut Session, t: &BenchTest) -> anyhow::Result<(Vec<f64>, Moved, bool)> {
        // Warm-up as llama-bench: the whole prompt, or one generated token.
        s.reset();
        let warm = BenchTest {
            n_gen: if t.n_prompt > 0 { 0 } else { 1 },
            depth: 0,
            ..*t
        };
        self.timed(s, &warm)?;
        let mut secs = Vec::with_capacity(self.args.repetitions);
        let mut moved = Moved::default();
        let mut all_cold = self.args.cold;
        for _ in 0..self.args.repetitions {
            s.reset();
            if t.depth > 0 {
                s.eval(&self.tokens[..t.depth])?;
            }
            if self.args.cold {
                all_cold &= make_cold(s, self.progress, &mut self.cold_warned);
            }
            let (io0, c0) = (system::storage_read_bytes(), s.expert_cache_stats());
            let t0 = Instant::now();
            self.timed(s, t)?;
            secs.push(t0.elapsed().as_secs_f64());
            moved.add(
                (io0, system::storage_read_bytes()),
                (c0, s.expert_cache_stats()),
            );
            self.progress.inc();
        }
        Ok((secs, moved, all_cold))
    }
}

pub fn run(args: &BenchArgs) -> anyhow::Result<()> {
    let progress = Progress::new(args.output != "md");
    let (model, synthetic) = match &args.model {
        Some(m) => (m.clone(), false),
        None => (synthetic::default_model(&|m| progress.stage(m))?, true),
    };
    if synthetic {
        progress.line(&format!(
            "bench: no -m given; using the synthetic R1-shaped model {} (random weights: \
             speed only, no text quality)",
            model.display()
        ));
    }
    let prompts = parse_list(&args.n_prompt, "-p")?;
    let gens = parse_list(&args.n_gen, "-n")?;
    let pairs = args
        .prompt_gen
        .iter()
        .map(|s| parse_pair(s))
        .collect::<anyhow::Result<Vec<_>>>()?;
    let depths = parse_list(&args.n_depth, "-d")?;
    let threads = match &args.threads {
        Some(t) => parse_list(t, "-t")?,
        None => vec![crate::engine::default_threads()],
    };
    anyhow::ensure!(args.repetitions >= 1, "-r must be at least 1");
    anyhow::ensure!(
        threads.iter().all(|&t| t > 0),
        "-t: thread counts must be at least 1"
    );
    let tests = expand(&prompts, &gens, &pairs, &depths);
    anyhow::ensure!(
        !tests.is_empty(),
        "nothing to run: every -p and -n is 0 and no -pg was given"
    );
    let n_ctx = tests.iter().map(BenchTest::positions).max().unwrap_or(1) + 1;
    let cpu_info = system::cpu_model();
    progress.start_runs((threads.len() * tests.len() * args.repetitions) as u64);
    let mut rows = Vec::new();
    for &t in &threads {
        progress
            .bar
            .set_message(format!("memory bandwidth probe, {t} threads"));
        let pool = rayon::ThreadPoolBuilder::new().num_threads(t).build()?;
        let mem_bw = system::memory_bandwidth(&pool);
        drop(pool);
        progress
            .bar
            .set_message(format!("loading {} ({t} threads)", model.display()));
        let mut s = Session::load(&LoadOptions {
            threads: Some(t),
            ctx_size: n_ctx,
            batch_size: args.batch_size,
            ..args.load_options(&model)
        })?;
        let facts = ModelFacts::of(&s, &model, synthetic);
        let vocab = s.tokenizer().vocab_size().max(1) as u64;
        // Deterministic, spread over the vocabulary; never sampled.
        let tokens: Vec<u32> = (0..n_ctx as u64)
            .map(|i| ((i * 7919 + 13) % vocab) as u32)
            .collect();
        let experts = if s.expert_cache_stats().is_some() {
            "cache"
        } else if s
            .hparams()
            .deepseek2
            .as_ref()
            .is_some_and(|d| d.expert_count > 0)
        {
            "mmap"
        } else {
            "none"
        };
        let mut runner = TestRun {
            args,
            tokens: &tokens,
            progress: &progress,
            cold_warned: false,
        };
        for test in &tests {
            progress
                .bar
                .set_message(format!("{} · {t} threads", test.name()));
            let started = SystemTime::now()
                .duration_since(SystemTime::UNIX_EPOCH)
                .map_or(0, |d| d.as_secs());
            let (secs, moved, cold) = runner.run(&mut s, test)?;
            let n = test.tokens();
            let samples_ts: Vec<f64> = secs.iter().map(|&x| n as f64 / x.max(1e-12)).collect();
            let samples_ns: Vec<f64> = secs.iter().map(|&x| x * 1e9).collect();
            let (avg_ts, stddev_ts) = mean_sd(&samples_ts);
            let (avg_ns, stddev_ns) = mean_sd(&samples_ns);
            let timed_tokens = (n * secs.len()) as f64;
            let wall: f64 = secs.iter().sum();
            let expert_cache = (experts == "cache").then(|| ExpertColumns {
                hits: moved.hits,
                misses: moved.misses,
                hit_rate: moved.hits as f64 / (moved.hits + moved.misses).max(1) as f64,
                read_bytes_per_token: moved.expert_bytes as f64 / timed_tokens,
                stall_ms_per_token: moved.stall_s * 1000.0 / timed_tokens,
            });
            let row = Row {
                build_commit: system::build_commit(),
                bitmoe_version: env!("CARGO_PKG_VERSION"),
                cpu_info: cpu_info.clone(),
                backend: "CPU",
                isa: s.kernels().isa().name(),
                model_filename: facts.filename.clone(),
                model_type: facts.model_type.clone(),
                synthetic: facts.synthetic,
                model_size: facts.size,
                model_n_params: facts.params,
                quant_mix: facts.quant_mix.clone(),
                n_batch: args.batch_size,
                n_threads: t,
                experts,
                cold,
                n_prompt: test.n_prompt,
                n_gen: test.n_gen,
                n_depth: test.depth,
                test: test.name(),
                test_time: system::utc_timestamp(started),
                avg_ns: avg_ns.round() as u64,
                stddev_ns: stddev_ns.round() as u64,
                avg_ts,
                stddev_ts,
                samples_ns: samples_ns.iter().map(|&x| x.round() as u64).collect(),
                samples_ts,
                expert_cache,
                storage_read_bytes_per_token: moved.storage.map(|b| b as f64 / timed_tokens),
                storage_read_gbps: moved.storage.map(|b| b as f64 / wall.max(1e-12) / 1e9),
                touched_bytes_per_token: facts.touched_per_token,
                mem_bw_gbps: mem_bw / 1e9,
                mem_bw_fraction: test
                    .is_generation()
                    .then(|| facts.touched_per_token as f64 * avg_ts / mem_bw.max(1.0)),
            };
            progress.line(&format!(
                "  {}{} t={t}: {:.2} ± {:.2} t/s",
                row.test,
                if cold { " cold" } else { "" },
                avg_ts,
                stddev_ts
            ));
            rows.push(row);
        }
    }
    progress.finish();
    match args.output.as_str() {
        "json" => println!("{}", serde_json::to_string_pretty(&rows)?),
        "jsonl" => {
            for r in &rows {
                println!("{}", serde_json::to_string(r)?);
            }
        }
        "csv" => print!("{}", report::csv(&rows)),
        _ => print!("{}", report::markdown(&rows)),
    }
    if let Some(path) = &args.plot {
        plot::write_svg(path, &rows)?;
        progress.line(&format!("bench: wrote {}", path.display()));
    }
    Ok(())
}
