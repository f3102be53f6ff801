//! The engine: a [`Session`] owns a loaded model, its tokenizer, the kernels, the thread
//! pool and the KV cache, and runs prefill (in batches) and decoding with streaming
//! output, stop rules and timings. The CLI uses it; the server and speculative decoding
//! will share it.
//!
//! The only module that wires the data path together (DESIGN.md).

mod defaults;
mod generate;
mod stop;

use std::path::PathBuf;
use std::time::Instant;

use bitmoe_simd::Kernels;

pub use defaults::{routed_expert_bpw, SamplingDefaults};
pub use generate::{GenerateParams, Generation, StopReason};

use crate::gguf::{GgufError, GgufFile};
use crate::kv_cache::KvCache;
use crate::model::blocks::{ActivationObserver, Ctx, RouteRecord, RoutingTrace};
use crate::model::{ExpertPlacement, Model, ModelError};
use crate::schema::{Hparams, SchemaError};
use crate::tokenizer::{Tokenizer, TokenizerError};
use crate::weights::experts::policy::Request;
use crate::weights::experts::{CacheStats, ExpertError, ExpertProfile, ProfileError};
use crate::weights::placement::MemoryPlan;
use crate::weights::Weights;

/// Why a session cannot load or run.
#[derive(Debug, thiserror::Error)]
pub enum EngineError {
    #[error(transparent)]
    Gguf(#[from] GgufError),
    #[error(transparent)]
    Schema(#[from] SchemaError),
    #[error(transparent)]
    Model(#[from] ModelError),
    #[error(transparent)]
    Tokenizer(#[from] TokenizerError),
    #[error(transparent)]
    Chat(#[from] crate::tokenizer::ChatError),
    #[error("the prompt and generation need {need} positions but the context holds {n_ctx} (raise -c/--ctx-size)")]
    ContextOverflow { need: usize, n_ctx: usize },
    #[error("thread pool: {0}")]
    ThreadPool(String),
    #[error("invalid option: {0}")]
    Option(String),
    #[error(transparent)]
    Profile(#[from] ProfileError),
    #[error("pinning experts: {0}")]
    Pin(#[from] ExpertError),
}

/// How to load a model.
#[derive(Debug, Clone)]
pub struct LoadOptions {
    pub model: PathBuf,
    /// Worker threads; `None` = physical cores.
    pub threads: Option<usize>,
    /// Context positions; 0 = min(training context, 4096).
    pub ctx_size: usize,
    /// Prompt tokens per forward pass.
    pub batch_size: usize,
    /// Pin worker threads to cores.
    pub pin_threads: bool,
    /// Where routed experts come from.
    pub experts: ExpertsMode,
    /// RAM the model may use (weights, KV cache, scratch, expert cache); `None`: the
    /// memory available at load.
    pub ram_budget: Option<u64>,
    /// Let the expert cache read the next layer's guessed experts ahead.
    pub expert_prefetch: bool,
    /// A saved expert-usage profile whose most used experts the cache pins at load.
    pub pin_experts: Option<PathBuf>,
    /// Share of the cache's slots pins may take (at most; one layer's experts always
    /// stay free).
    pub pin_fraction: f64,
}

impl Default for LoadOptions {
    fn default() -> Self {
        LoadOptions {
            model: PathBuf::new(),
            threads: None,
            ctx_size: 0,
            batch_size: 512,
            pin_threads: false,
            experts: ExpertsMode::Auto,
            ram_budget: None,
            expert_prefetch: false,
            pin_experts: None,
            pin_fraction: DEFAULT_PIN_FRACTION,
        }
    }
}

/// How routed experts are read.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ExpertsMode {
    /// The expert cache when the whole model does not fit in the RAM budget, else mmap.
    Auto,
    /// Through the expert cache, always.
    Cache,
    /// Plain OS paging of the mapped file (llama.cpp's way; the baseline).
    Mmap,
}

/// Reader threads of the expert cache: NVMe wants many requests in flight.
const EXPERT_READERS: usize = 8;

/// Pins take at most half the expert cache by default: the other half follows what the
/// current text routes to.
pub const DEFAULT_PIN_FRACTION: f64 = 0.5;

/// Wall-clock accounting in llama.cpp's terms.
#[derive(Debug, Clone, Copy, Default, serde::Serialize)]
pub struct Timings {
    pub load_ms: f64,
    pub prompt_tokens: usize,
    pub prompt_ms: f64,
    pub gen_tokens: usize,
    pub gen_ms: f64,
}

impl Timings {
    /// llama.cpp-style lines for stderr.
    pub fn report(&self) -> String {
        let per = |ms: f64, n: usize| {
            if n == 0 {
                (0.0, 0.0)
            } else {
                (ms / n as f64, 1000.0 * n as f64 / ms)
            }
        };
        let (pp_per, pp_tps) = per(self.prompt_ms, self.prompt_tokens);
        let (tg_per, tg_tps) = per(self.gen_ms, self.gen_tokens);
        format!(
            "bitmoe_perf:        load time = {:10.2} ms\n\
             bitmoe_perf: prompt eval time = {:10.2} ms / {:5} tokens ({:8.2} ms per token, {:8.2} tokens per second)\n\
             bitmoe_perf:        eval time = {:10.2} ms / {:5} runs   ({:8.2} ms per token, {:8.2} tokens per second)\n\
             bitmoe_perf:       total time = {:10.2} ms / {:5} tokens\n",
            self.load_ms,
            self.prompt_ms,
            self.prompt_tokens,
            pp_per,
            pp_tps,
            self.gen_ms,
            self.gen_tokens,
            tg_per,
            tg_tps,
            self.load_ms + self.prompt_ms + self.gen_ms,
            self.prompt_tokens + self.gen_tokens
        )
    }
}

/// A loaded model ready to run.
pub struct Session {
    weights: Weights,
    hparams: Hparams,
    model: Model,
    tokenizer: Tokenizer,
    kernels: Kernels,
    pool: rayon::ThreadPool,
    cache: KvCache,
    /// Positions filled in the cache.
    pos: usize,
    batch_size: usize,
    timings: Timings,
    routing_trace: Option<RoutingTrace>,
    observer: Option<std::sync::Arc<dyn ActivationObserver>>,
}

/// Memory the OS could give now without swapping.
pub fn available_memory() -> u64 {
    let mut sys = sysinfo::System::new();
    sys.refresh_memory();
    sys.available_memory()
}

/// Decides where routed experts come from: the plan for the budget says whether the
/// model fits whole; the cache gets what is left after resident weights, KV and scratch.
fn expert_placement(
    opts: &LoadOptions,
    file: &GgufFile,
    h: &Hparams,
    n_ctx: usize,
) -> Result<ExpertPlacement, EngineError> {
    let has_experts = h
        .deepseek2
        .as_ref()
        .is_some_and(|p| p.expert_count > 0 && p.leading_dense_blocks < h.common.n_layer);
    if !has_experts || opts.experts == ExpertsMode::Mmap {
        return Ok(ExpertPlacement::Mmap);
    }
    let budget = opts.ram_budget.unwrap_or_else(available_memory);
    let plan = MemoryPlan::of(file, h, budget, n_ctx as u64, opts.batch_size as u64);
    if opts.experts == ExpertsMode::Auto && plan.fits_entirely {
        return Ok(ExpertPlacement::Mmap);
    }
    if !plan.fits {
        return Err(EngineError::Option(format!(
            "the RAM budget of {:.2} GiB is below what must stay resident ({:.2} GiB of \
             weights, KV cache and scratch for {} positions); raise --ram-budget or lower -c",
            budget as f64 / (1u64 << 30) as f64,
            plan.resident_total() as f64 / (1u64 << 30) as f64,
            n_ctx
        )));
    }
    Ok(ExpertPlacement::Cache {
        budget: budget - plan.resident_total(),
        readers: EXPERT_READERS,
        prefetch: opts.expert_prefetch,
    })
}

/// MoE layers and (experts per layer, experts used per token) of a model.
fn moe_shape(h: &Hparams) -> (Vec<usize>, usize, usize) {
    match &h.deepseek2 {
        Some(p) if p.expert_count > 0 => (
            (p.leading_dense_blocks as usize..h.common.n_layer as usize).collect(),
            p.expert_count as usize,
            p.expert_used_count as usize,
        ),
        _ => (Vec::new(), 0, 0),
    }
}

/// Pins the profile's most used experts into the expert cache, up to
/// `opts.pin_fraction` of its slots. The profile is read and checked against the model
/// even when experts are not cached (everything fits, `--experts auto`), where pins
/// would change nothing; asking for pins with `--experts mmap` is an error.
fn pin_from_profile(
    model: &Model,
    h: &Hparams,
    path: &std::path::Path,
    opts: &LoadOptions,
) -> Result<(), EngineError> {
    let profile = ExpertProfile::load(path)?;
    let (layers, n_expert, _) = moe_shape(h);
    profile.check_model(path, &layers, n_expert)?;
    if !(0.0..=1.0).contains(&opts.pin_fraction) {
        return Err(EngineError::Option(format!(
            "the pinned share of the expert cache must be in [0, 1], got {}",
            opts.pin_fraction
        )));
    }
    let source = model.expert_source();
    match source.and_then(|s| s.cache_stats()) {
        Some(stats) => {
            let n = (stats.capacity as f64 * opts.pin_fraction) as usize;
            if let Some(s) = source {
                s.pin(&profile.most_used(n))?;
            }
        }
        None if opts.experts == ExpertsMode::Mmap => {
            return Err(EngineError::Option(
                "pinning experts needs the expert cache (--experts cache or auto)".into(),
            ))
        }
        None => {}
    }
    Ok(())
}

/// Physical cores (sysinfo), or the logical count where unknown.
pub fn default_threads() -> usize {
    sysinfo::System::physical_core_count()
        .or_else(|| std::thread::available_parallelism().ok().map(|n| n.get()))
        .unwrap_or(1)
        .max(1)
}

impl Session {
    pub fn load(opts: &LoadOptions) -> Result<Session, EngineError> {
        let t0 = Instant::now();
        if opts.batch_size == 0 {
            return Err(EngineError::Option("batch size must be at least 1".into()));
        }
        let file = GgufFile::open(&opts.model)?;
        let hparams = Hparams::from_metadata(file.metadata())?;
        let tokenizer = Tokenizer::from_metadata(file.metadata())?;
        let train_ctx = hparams.common.context_length as usize;
        let n_ctx = match opts.ctx_size {
            0 => train_ctx.clamp(1, 4096),
            n => n,
        };
        let placement = expert_placement(opts, &file, &hparams, n_ctx)?;
        let weights = Weights::new(file);
        let model = Model::load_with(&weights, &hparams, placement)?;
        if let Some(path) = &opts.pin_experts {
            pin_from_profile(&model, &hparams, path, opts)?;
        }
        let threads = opts.threads.unwrap_or_else(default_threads).max(1);
        let mut builder = rayon::ThreadPoolBuilder::new().num_threads(threads);
        if opts.pin_threads {
            let cores = core_affinity::get_core_ids().unwrap_or_default();
            if !cores.is_empty() {
                builder = builder.start_handler(move |i| {
                    core_affinity::set_for_current(cores[i % cores.len()]);
                });
            }
        }
        let pool = builder
            .build()
            .map_err(|e| EngineError::ThreadPool(e.to_string()))?;
        let cache = model.new_cache(n_ctx);
        let timings = Timings {
            load_ms: t0.elapsed().as_secs_f64() * 1000.0,
            ..Timings::default()
        };
        Ok(Session {
            weights,
            hparams,
            model,
            tokenizer,
            kernels: Kernels::detect(),
            pool,
            cache,
            pos: 0,
            batch_size: opts.batch_size,
            timings,
            routing_trace: None,
            observer: None,
        })
    }

    /// Starts (or stops) recording every MoE layer's expert choice per token.
    pub fn trace_routing(&mut self, on: bool) {
        self.routing_trace = on.then(RoutingTrace::default);
    }

    /// The expert choices recorded since the last call (empty when not tracing).
    pub fn take_routing_trace(&mut self) -> Vec<RouteRecord> {
        self.routing_trace
            .as_mut()
            .map(|t| std::mem::take(t.get_mut().unwrap_or_else(|e| e.into_inner())))
            .unwrap_or_default()
    }

    /// The expert-usage profile of the choices recorded since tracing started (see
    /// [`Session::trace_routing`]), which it takes; `model`: the file's name, stored
    /// for the reader.
    pub fn take_expert_profile(&mut self, model: &str) -> ExpertProfile {
        let (layers, n_expert, n_used) = moe_shape(&self.hparams);
        let trace = self
            .take_routing_trace()
            .into_iter()
            .map(|r| Request {
                layer: r.layer,
                pos: r.pos,
                experts: r.experts,
            })
            .collect();
        ExpertProfile::from_trace(model, &layers, n_expert, n_used, trace)
    }

    /// The expert cache's counters, when experts go through one.
    pub fn expert_cache_stats(&self) -> Option<CacheStats> {
        self.model.expert_cache_stats()
    }

    /// Shows every linear layer's input to `observer` (or stops, with `None`).
    pub fn set_observer(&mut self, observer: Option<std::sync::Arc<dyn ActivationObserver>>) {
        self.observer = observer;
    }

    /// Empties the expert cache, so the next tokens read their experts from disk.
    pub fn clear_expert_cache(&self) {
        self.model.drop_cached_experts();
    }

    /// KV-cache bytes one token takes over all layers.
    pub fn kv_bytes_per_token(&self) -> usize {
        self.cache.bytes_per_token()
    }

    /// Sampling values for flags the user left out (see [`SamplingDefaults`]).
    pub fn sampling_defaults(&self) -> SamplingDefaults {
        SamplingDefaults::for_model(self.hparams.arch, self.weights.file())
    }

    pub fn tokenizer(&self) -> &Tokenizer {
        &self.tokenizer
    }

    pub fn hparams(&self) -> &Hparams {
        &self.hparams
    }

    pub fn weights(&self) -> &Weights {
        &self.weights
    }

    pub fn kernels(&self) -> &Kernels {
        &self.kernels
    }

    pub fn threads(&self) -> usize {
        self.pool.current_num_threads()
    }

    pub fn n_ctx(&self) -> usize {
        self.cache.n_ctx()
    }

    /// Positions already in the cache.
    pub fn position(&self) -> usize {
        self.pos
    }

    pub fn timings(&self) -> Timings {
        self.timings
    }

    /// Forgets the context (the cache is overwritten from position 0).
    pub fn reset(&mut self) {
        self.pos = 0;
    }

    /// Keeps only the first `pos` positions of the context (a shared prefix of the next
    /// prompt); later positions are overwritten as the next tokens are evaluated.
    pub fn truncate(&mut self, pos: usize) {
        self.pos = self.pos.min(pos);
    }

    /// An error unless `n` more tokens fit in the context.
    fn check_room(&self, n: usize) -> Result<(), EngineError> {
        if self.pos + n > self.cache.n_ctx() {
            return Err(EngineError::ContextOverflow {
                need: self.pos + n,
                n_ctx: self.cache.n_ctx(),
            });
        }
        Ok(())
    }

    /// Runs `tokens` after what is in the cache, in batches; returns the logits after
    /// the last one.
    pub fn eval(&mut self, tokens: &[u32]) -> Result<Vec<f32>, EngineError> {
        self.check_room(tokens.len())?;
        let mut logits = Vec::new();
        for batch in tokens.chunks(self.batch_size) {
            let ctx = Ctx {
                kernels: &self.kernels,
                pool: &self.pool,
                weights: &self.weights,
                routing_trace: self.routing_trace.as_ref(),
                observer: self.observer.as_deref(),
            };
            let (model, cache, pos) = (&self.model, &mut self.cache, self.pos);
            // Inside the pool, so every matmul's fork-join stays among its workers.
            logits = self
                .pool
                .install(|| model.forward(&ctx, batch, pos, cache, false))?;
            self.pos += batch.len();
        }
        Ok(logits)
    }

    /// Every position's logits for `tokens` (for perplexity and parity checks).
    pub fn eval_all_logits(&mut self, tokens: &[u32]) -> Result<Vec<f32>, EngineError> {
        self.check_room(tokens.len())?;
        let ctx = Ctx {
            kernels: &self.kernels,
            pool: &self.pool,
            weights: &self.weights,
            routing_trace: self.routing_trace.as_ref(),
            observer: self.observer.as_deref(),
        };
        let (model, cache, pos) = (&self.model, &mut self.cache, self.pos);
        let logits = self
            .pool
            .install(|| model.forward(&ctx, tokens, pos, cache, true))?;
        self.pos += tokens.len();
        Ok(logits)
    }
}
