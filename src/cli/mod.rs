//! Command line: clap flags → validated arguments → one function per command. Flag
//! names follow llama.cpp's where one exists (`-m/--model`). The only module that uses
//! `anyhow`.

mod bench;
mod chat;
mod copy;
mod dump;
mod imatrix;
mod info;
mod npy;
mod perplexity;
mod quantize;
mod run;
mod synth;

use std::path::PathBuf;

use clap::{Args, Parser, Subcommand};

#[derive(Debug, Parser)]
#[command(
    name = "bitmoe",
    version,
    about = "Run huge Mixture-of-Experts GGUF models on small machines"
)]
pub struct Cli {
    #[command(subcommand)]
    pub command: Command,
}

#[derive(Debug, Subcommand)]
pub enum Command {
    /// Show what a GGUF model holds: architecture, hyper-parameters, bytes by type,
    /// role and layer, tokenizer, tensors. Reads only the header.
    Info(InfoArgs),
    /// Rewrite a model through bitmoe's GGUF writer: merges a split model into one file;
    /// a canonical single file comes out byte-identical.
    Copy(CopyArgs),
    /// Write one tensor, dequantized to f32, as a NumPy .npy file (shape in NumPy
    /// order, slowest dimension first).
    Dump(DumpArgs),
    /// Generate text from a prompt (greedy with --temp 0).
    Run(RunArgs),
    /// Chat interactively through the model's chat template (/reset, /exit).
    Chat(ChatArgs),
    /// Perplexity of a text file, llama-perplexity's method.
    Perplexity(PerplexityArgs),
    /// Throughput, llama-bench style (pp = prompt processing, tg = generation). Without
    /// -m: a built-in synthetic model, no download needed.
    Bench(BenchArgs),
    /// Importance matrix of a model over a text (llama-imatrix's GGUF format), for
    /// `quantize --imatrix`.
    Imatrix(ImatrixArgs),
    /// Requantize a GGUF tensor by tensor by a recipe (built-in ud-iq1_s, ud-iq1_m,
    /// ud-iq2_xxs, ud-q2_k_xl, or a TOML file), optionally with an importance matrix.
    Quantize(QuantizeArgs),
    /// Write a small synthetic model (random weights, fixed seed) that runs here and in
    /// llama.cpp: for tests and trying bitmoe without a download.
    Synth(SynthArgs),
}

#[derive(Debug, Args)]
pub struct InfoArgs {
    /// Model file (for a split model, its first part: NAME-00001-of-0000N.gguf).
    #[arg(short = 'm', long = "model")]
    pub model: PathBuf,
    /// List every tensor: name, type, shape, bytes, role, file.
    #[arg(long)]
    pub tensors: bool,
    /// Show every metadata key (long values shortened).
    #[arg(long)]
    pub metadata: bool,
    /// Print one JSON object instead of text.
    #[arg(long)]
    pub json: bool,
    /// Show the memory plan: resident weights, KV cache, scratch and room for routed
    /// experts under the RAM budget, for the context size.
    #[arg(long)]
    pub plan: bool,
    /// RAM budget for the plan, e.g. 20G or 512M (default: available memory now).
    #[arg(long = "ram-budget", value_parser = parse_size)]
    pub ram_budget: Option<u64>,
    /// Context size for the plan in tokens.
    #[arg(short = 'c', long = "ctx-size", default_value_t = 4096)]
    pub ctx_size: u64,
}

/// A byte size: a number with an optional K, M, G or T suffix (powers of 1024; a
/// trailing `B` or `iB` is accepted).
pub fn parse_size(s: &str) -> Result<u64, String> {
    let t = s.trim();
    let t = t
        .strip_suffix("iB")
        .or_else(|| t.strip_suffix('B'))
        .unwrap_or(t);
    let (num, shift) = match t.char_indices().last() {
        Some((i, c)) if c.is_ascii_alphabetic() => {
            let shift = match c.to_ascii_uppercase() {
                'K' => 10,
                'M' => 20,
                'G' => 30,
                'T' => 40,
                _ => return Err(format!("unknown size suffix {c:?} in {s:?} (K, M, G, T)")),
            };
            (&t[..i], shift)
        }
        _ => (t, 0),
    };
    let v: f64 = num
        .trim()
        .parse()
        .map_err(|_| format!("{s:?} is not a size (e.g. 20G, 512M, 1073741824)"))?;
    let bytes = v * (1u64 << shift) as f64;
    if !(0.0..1.8e19).contains(&bytes) {
        return Err(format!("{s:?} is not a usable size"));
    }
    Ok(bytes as u64)
}

#[cfg(test)]
mod tests {
    use super::parse_size;

    #[test]
    fn sizes() {
        assert_eq!(parse_size("20G"), Ok(20 << 30));
        assert_eq!(parse_size("512MiB"), Ok(512 << 20));
        assert_eq!(parse_size("1.5k"), Ok(1536));
        assert_eq!(parse_size("4096"), Ok(4096));
        assert!(parse_size("20X").is_err());
        assert!(parse_size("-1G").is_err());
        assert!(parse_size("1e30T").is_err());
        assert!(parse_size("G").is_err());
    }
}

#[derive(Debug, Args)]
pub struct CopyArgs {
    /// Input model (first part of a split model).
    #[arg(short = 'm', long = "model")]
    pub model: PathBuf,
    /// Output file.
    #[arg(short = 'o', long = "output")]
    pub output: PathBuf,
}

#[derive(Debug, Args)]
pub struct DumpArgs {
    /// Model file (first part of a split model).
    #[arg(short = 'm', long = "model")]
    pub model: PathBuf,
    /// Tensor name, e.g. blk.0.attn_q.weight.
    pub tensor: String,
    /// Output .npy file.
    #[arg(short = 'o', long = "output")]
    pub output: PathBuf,
}

/// How to load a model (shared by run, chat, bench).
#[derive(Debug, Args)]
pub struct LoadArgs {
    /// Model file (first part of a split model).
    #[arg(short = 'm', long = "model")]
    pub model: PathBuf,
    /// Threads (default: physical cores).
    #[arg(short = 't', long = "threads")]
    pub threads: Option<usize>,
    /// Context size in tokens (0 = the model's training context, at most 4096).
    #[arg(short = 'c', long = "ctx-size", default_value_t = 0)]
    pub ctx_size: usize,
    /// Prompt tokens per forward pass.
    #[arg(short = 'b', long = "batch-size", default_value_t = 512)]
    pub batch_size: usize,
    /// Pin worker threads to cores.
    #[arg(long = "pin-threads")]
    pub pin_threads: bool,
    /// Routed experts: through the budgeted expert cache (direct reads), or plain OS
    /// paging of the mapped file (mmap, llama.cpp's way); auto = the cache when the
    /// model does not fit in the RAM budget.
    #[arg(long = "experts", value_enum, default_value_t = ExpertsArg::Auto)]
    pub experts: ExpertsArg,
    /// RAM for weights, KV cache, scratch and the expert cache, e.g. 20G (default: the
    /// memory available at start).
    #[arg(long = "ram-budget", value_parser = parse_size)]
    pub ram_budget: Option<u64>,
    /// Read the next layer's guessed experts ahead (expert cache only; off by default:
    /// on synthetic R1 files 61% of guesses were used and the extra reads cost more
    /// than the stalls they saved — tools/cgroup_experts.sh).
    #[arg(long = "expert-prefetch")]
    pub expert_prefetch: bool,
    /// Pin the most used experts of a saved profile (--save-expert-profile) into the
    /// expert cache at load: read up front, never evicted, at most half its slots.
    #[arg(long = "pin-experts", value_name = "FILE")]
    pub pin_experts: Option<PathBuf>,
    /// `run`: save this run's expert usage (per-expert counts and every token's choice
    /// per layer) as JSON, for --pin-experts and policy replays.
    #[arg(long = "save-expert-profile", value_name = "FILE")]
    pub save_expert_profile: Option<PathBuf>,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, clap::ValueEnum)]
pub enum ExpertsArg {
    Auto,
    Cache,
    Mmap,
}

impl ExpertsArg {
    fn mode(self) -> crate::engine::ExpertsMode {
        use crate::engine::ExpertsMode;
        match self {
            ExpertsArg::Auto => ExpertsMode::Auto,
            ExpertsArg::Cache => ExpertsMode::Cache,
            ExpertsArg::Mmap => ExpertsMode::Mmap,
        }
    }
}

impl LoadArgs {
    pub fn options(&self) -> crate::engine::LoadOptions {
        crate::engine::LoadOptions {
            model: self.model.clone(),
            threads: self.threads,
            ctx_size: self.ctx_size,
            batch_size: self.batch_size,
            pin_threads: self.pin_threads,
            experts: self.experts.mode(),
            ram_budget: self.ram_budget,
            expert_prefetch: self.expert_prefetch,
            pin_experts: self.pin_experts.clone(),
            ..crate::engine::LoadOptions::default()
        }
    }
}

/// Sampling flags, with llama.cpp's names and defaults.
#[derive(Debug, Args)]
pub struct SamplingArgs {
    /// Temperature; 0 = greedy [default: 0.8; deepseek2: 0.6].
    #[arg(long = "temp")]
    pub temp: Option<f32>,
    /// Top-k (0 = off).
    #[arg(long = "top-k", default_value_t = 40)]
    pub top_k: i32,
    /// Top-p (1.0 = off) [default: 0.95].
    #[arg(long = "top-p")]
    pub top_p: Option<f32>,
    /// Min-p (0 = off) [default: 0.05; deepseek2 with ~1.58-bit experts: 0.1].
    #[arg(long = "min-p")]
    pub min_p: Option<f32>,
    /// Repetition penalty (1.0 = off).
    #[arg(long = "repeat-penalty", default_value_t = 1.0)]
    pub repeat_penalty: f32,
    /// Tokens of history the penalties consider.
    #[arg(long = "repeat-last-n", default_value_t = 64)]
    pub repeat_last_n: usize,
    #[arg(long = "presence-penalty", default_value_t = 0.0)]
    pub presence_penalty: f32,
    #[arg(long = "frequency-penalty", default_value_t = 0.0)]
    pub frequency_penalty: f32,
    /// RNG seed (default: random).
    #[arg(short = 's', long = "seed")]
    pub seed: Option<u64>,
}

#[derive(Debug, Args)]
pub struct RunArgs {
    #[command(flatten)]
    pub load: LoadArgs,
    /// Prompt text.
    #[arg(short = 'p', long = "prompt")]
    pub prompt: Option<String>,
    /// Read the prompt from a file.
    #[arg(short = 'f', long = "file")]
    pub file: Option<PathBuf>,
    /// Tokens to generate (-1 = until end of generation or a full context).
    #[arg(short = 'n', long = "n-predict", default_value_t = -1, allow_hyphen_values = true)]
    pub n_predict: i64,
    /// Stop when this text is generated (repeatable).
    #[arg(long = "stop")]
    pub stop: Vec<String>,
    /// Keep generating past end-of-generation tokens.
    #[arg(long = "ignore-eos")]
    pub ignore_eos: bool,
    /// Print special (control) tokens.
    #[arg(long = "special")]
    pub special: bool,
    /// Do not echo the prompt.
    #[arg(long = "no-display-prompt")]
    pub no_display_prompt: bool,
    /// Print one JSON object (prompt and generated token ids, text, timings).
    #[arg(long)]
    pub json: bool,
    #[command(flatten)]
    pub sampling: SamplingArgs,
}

#[derive(Debug, Args)]
pub struct ChatArgs {
    #[command(flatten)]
    pub load: LoadArgs,
    /// System message.
    #[arg(long)]
    pub system: Option<String>,
    /// Tokens per reply at most (-1 = until end of generation).
    #[arg(short = 'n', long = "n-predict", default_value_t = -1, allow_hyphen_values = true)]
    pub n_predict: i64,
    #[command(flatten)]
    pub sampling: SamplingArgs,
}

#[derive(Debug, Args)]
pub struct PerplexityArgs {
    #[command(flatten)]
    pub load: LoadArgs,
    /// Text file to score.
    #[arg(short = 'f', long = "file")]
    pub file: PathBuf,
    /// Score at most this many chunks.
    #[arg(long)]
    pub chunks: Option<usize>,
}

#[derive(Debug, Args)]
pub struct BenchArgs {
    /// Model file (default: a built-in synthetic model).
    #[arg(short = 'm', long = "model")]
    pub model: Option<PathBuf>,
    /// Prompt lengths, comma-separated (0 skips).
    #[arg(short = 'p', long = "n-prompt", default_value = "512")]
    pub n_prompt: String,
    /// Generation lengths, comma-separated (0 skips).
    #[arg(short = 'n', long = "n-gen", default_value = "128")]
    pub n_gen: String,
    /// Thread counts, comma-separated (default: physical cores).
    #[arg(short = 't', long = "threads")]
    pub threads: Option<String>,
    /// Repetitions after one warm-up run.
    #[arg(short = 'r', long = "repetitions", default_value_t = 5)]
    pub repetitions: usize,
    /// Prompt tokens per forward pass.
    #[arg(short = 'b', long = "batch-size", default_value_t = 512)]
    pub batch_size: usize,
    /// Prompt then generation, timed together (`-pg 512,128`: test pp512+tg128);
    /// repeatable.
    #[arg(long = "pg", value_name = "PROMPT,GEN")]
    pub prompt_gen: Vec<String>,
    /// Context depths, comma-separated: tokens evaluated (untimed) before each test.
    #[arg(short = 'd', long = "n-depth", default_value = "0")]
    pub n_depth: String,
    /// Output format (progress and notes go to stderr; none with json, jsonl, csv).
    #[arg(short = 'o', long = "output", default_value = "md", value_parser = ["md", "json", "jsonl", "csv"])]
    pub output: String,
    /// Routed experts: cache, mmap or auto (as for run).
    #[arg(long = "experts", value_enum, default_value_t = ExpertsArg::Auto)]
    pub experts: ExpertsArg,
    /// RAM budget (as for run), e.g. 4G.
    #[arg(long = "ram-budget", value_parser = parse_size)]
    pub ram_budget: Option<u64>,
    /// Read the next layer's guessed experts ahead (as for run).
    #[arg(long = "expert-prefetch")]
    pub expert_prefetch: bool,
    /// Evict the model files from the page cache and empty the expert cache before
    /// each repetition (Linux: posix_fadvise; says so when it cannot).
    #[arg(long)]
    pub cold: bool,
    /// Also draw tokens/s per test as an SVG bar chart.
    #[arg(long, value_name = "FILE.svg")]
    pub plot: Option<PathBuf>,
}

impl BenchArgs {
    /// Load options from the expert flags (the caller fills in the rest).
    pub fn load_options(&self, model: &std::path::Path) -> crate::engine::LoadOptions {
        crate::engine::LoadOptions {
            model: model.to_path_buf(),
            experts: self.experts.mode(),
            ram_budget: self.ram_budget,
            expert_prefetch: self.expert_prefetch,
            ..crate::engine::LoadOptions::default()
        }
    }
}

#[derive(Debug, Args)]
pub struct ImatrixArgs {
    #[command(flatten)]
    pub load: LoadArgs,
    /// Calibration text.
    #[arg(short = 'f', long = "file")]
    pub file: PathBuf,
    /// Output file.
    #[arg(short = 'o', long = "output", default_value = "imatrix.gguf")]
    pub output: PathBuf,
    /// Use at most this many chunks of -c tokens.
    #[arg(long)]
    pub chunks: Option<usize>,
    /// Also collect output.weight's input (llama-imatrix's --process-output).
    #[arg(long = "process-output")]
    pub process_output: bool,
}

#[derive(Debug, Args)]
pub struct QuantizeArgs {
    /// Input model (F32, F16, BF16 or Q8_0 tensors; others need --allow-requantize).
    pub input: PathBuf,
    /// Output file (with --split-max-size: the prefix of its parts).
    pub output: Option<PathBuf>,
    /// Built-in recipe name or a recipe TOML file.
    #[arg(long)]
    pub recipe: String,
    /// Importance matrix (llama.cpp's GGUF or legacy .dat format).
    #[arg(long)]
    pub imatrix: Option<PathBuf>,
    /// Print the plan (type per tensor, sizes, bytes per token) and write nothing.
    #[arg(long = "dry-run")]
    pub dry_run: bool,
    /// Quantize tensors that are already quantized (other than Q8_0).
    #[arg(long = "allow-requantize")]
    pub allow_requantize: bool,
    /// Write parts of at most this size, e.g. 50G (llama-gguf-split's naming).
    #[arg(long = "split-max-size", value_parser = parse_size)]
    pub split_max_size: Option<u64>,
    /// Threads (default: physical cores).
    #[arg(short = 't', long = "threads")]
    pub threads: Option<usize>,
}

#[derive(Debug, Args)]
pub struct SynthArgs {
    /// Architecture: llama, qwen2 or deepseek2.
    #[arg(long, default_value = "llama")]
    pub arch: String,
    /// deepseek2 shape: r1-tiny (width 256, runs in milliseconds), r1-small (width
    /// 2048, 64 experts, ~80 MB per MoE block; bench's default model) or r1-wide
    /// (DeepSeek-R1's widths, ~2.4 GB per MoE block).
    #[arg(long, default_value = "r1-tiny")]
    pub preset: String,
    /// deepseek2: MoE blocks after the one dense block (default: 2; r1-small: 6).
    #[arg(long)]
    pub moe_layers: Option<usize>,
    /// deepseek2 MLA layout: legacy (attn_kv_b, like the January-2025 R1 files) or
    /// split (attn_k_b + attn_v_b derived from the same weights).
    #[arg(long, default_value = "legacy")]
    pub layout: String,
    /// deepseek2: write expert-group keys (8 groups / top 4; r1-tiny always has 4 / 2).
    #[arg(long)]
    pub groups: bool,
    /// deepseek2: every weight matrix at this type (f32 or f16: a source for
    /// `bitmoe quantize`) instead of the UD-IQ1_S mix.
    #[arg(long)]
    pub weights: Option<String>,
    /// deepseek2: copy the tokenizer (every tokenizer.* key) from this GGUF file.
    #[arg(long)]
    pub vocab_from: Option<PathBuf>,
    /// Output file.
    #[arg(short = 'o', long = "output")]
    pub output: PathBuf,
    /// RNG seed.
    #[arg(long, default_value_t = 42)]
    pub seed: u64,
}

/// Parses the command line and runs the command.
pub fn main() -> anyhow::Result<()> {
    let cli = Cli::parse_from(llama_bench_aliases(std::env::args_os()));
    match cli.command {
        Command::Info(args) => info::run(&args),
        Command::Copy(args) => copy::run(&args),
        Command::Dump(args) => dump::run(&args),
        Command::Run(args) => run::run(&args),
        Command::Chat(args) => chat::run(&args),
        Command::Perplexity(args) => perplexity::run(&args),
        Command::Bench(args) => bench::run(&args),
        Command::Imatrix(args) => imatrix::run(&args),
        Command::Quantize(args) => quantize::run(&args),
        Command::Synth(args) => synth::run(&args),
    }
}

/// llama-bench spells its prompt+generation flag `-pg`; clap's short flags are one
/// letter, so `bench -pg` is read as `--pg`.
fn llama_bench_aliases(args: impl Iterator<Item = std::ffi::OsString>) -> Vec<std::ffi::OsString> {
    let args: Vec<_> = args.collect();
    let is_bench = args.get(1).is_some_and(|a| a == "bench");
    args.into_iter()
        .map(|a| {
            if is_bench && a == "-pg" {
                "--pg".into()
            } else {
                a
            }
        })
        .collect()
}
