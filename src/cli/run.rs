//! `bitmoe run`: generate from a prompt, streaming text to stdout and llama.cpp-style
//! timings (and the expert cache's counters) to stderr; `--json` prints one object
//! instead. `--save-expert-profile FILE` records the run's expert choices.

use std::io::Write;

use anyhow::Context;

use super::{RunArgs, SamplingArgs};
use crate::engine::{GenerateParams, SamplingDefaults, Session};
use crate::sampler::{Sampler, SamplerConfig};

impl SamplingArgs {
    /// The sampler settings: the user's flags, `defaults` for the ones left out. Says
    /// on stderr when model-specific defaults were used.
    pub fn config(&self, defaults: &SamplingDefaults) -> anyhow::Result<SamplerConfig> {
        let temp = self.temp.unwrap_or(defaults.temp);
        let top_p = self.top_p.unwrap_or(defaults.top_p);
        let min_p = self.min_p.unwrap_or(defaults.min_p);
        anyhow::ensure!(
            top_p > 0.0 && top_p <= 1.0,
            "--top-p must be in (0, 1], got {top_p}"
        );
        anyhow::ensure!(
            (0.0..=1.0).contains(&min_p),
            "--min-p must be in [0, 1], got {min_p}"
        );
        if let Some(why) = &defaults.reason {
            if self.temp.is_none() || self.top_p.is_none() || self.min_p.is_none() {
                eprintln!(
                    "sampling: {why}: temperature {temp}, top-p {top_p}, min-p {min_p} \
                     (override with --temp, --top-p, --min-p)"
                );
            }
        }
        anyhow::ensure!(
            self.repeat_penalty > 0.0,
            "--repeat-penalty must be positive, got {}",
            self.repeat_penalty
        );
        Ok(SamplerConfig {
            temperature: temp,
            top_k: self.top_k,
            top_p,
            min_p,
            repeat_penalty: self.repeat_penalty,
            presence_penalty: self.presence_penalty,
            frequency_penalty: self.frequency_penalty,
            penalty_last_n: self.repeat_last_n,
            seed: self.seed.unwrap_or_else(|| {
                std::time::SystemTime::now()
                    .duration_since(std::time::UNIX_EPOCH)
                    .map_or(0, |d| d.as_nanos() as u64)
            }),
        })
    }
}

pub fn run(args: &RunArgs) -> anyhow::Result<()> {
    let prompt = match (&args.prompt, &args.file) {
        (Some(p), None) => p.clone(),
        (None, Some(f)) => std::fs::read_to_string(f)
            .with_context(|| format!("reading the prompt file {}", f.display()))?,
        (Some(_), Some(_)) => anyhow::bail!("give the prompt with -p or -f, not both"),
        (None, None) => anyhow::bail!("no prompt: use -p PROMPT or -f FILE"),
    };
    let mut session = Session::load(&args.load.options())?;
    if args.load.save_expert_profile.is_some() {
        session.trace_routing(true);
    }
    let sampler_cfg = args.sampling.config(&session.sampling_defaults())?;
    let tokens = session.tokenizer().encode(&prompt, true, true);
    let params = GenerateParams {
        n_predict: usize::try_from(args.n_predict).ok(),
        stop: args.stop.clone(),
        ignore_eos: args.ignore_eos,
        render_special: args.special,
    };
    let mut sampler = Sampler::new(sampler_cfg);
    let mut stdout = std::io::stdout().lock();
    if !args.json && !args.no_display_prompt {
        let _ = write!(stdout, "{prompt}");
        let _ = stdout.flush();
    }
    let json = args.json;
    let generation = session.generate(&tokens, &params, &mut sampler, &mut |text| {
        if !json {
            let _ = write!(stdout, "{text}");
            let _ = stdout.flush();
        }
    })?;
    let timings = session.timings();
    if let Some(path) = &args.load.save_expert_profile {
        let model = args.load.model.file_name().map_or_else(
            || args.load.model.display().to_string(),
            |n| n.to_string_lossy().into_owned(),
        );
        let profile = session.take_expert_profile(&model);
        profile.save(path)?;
        eprintln!(
            "saved the expert profile of {} routing records to {} (top 10% of experts: {:.1}% \
             of uses)",
            profile.trace.len(),
            path.display(),
            100.0 * profile.top_share(0.1)
        );
    }
    if json {
        let v = serde_json::json!({
            "prompt_tokens": tokens,
            "tokens": generation.tokens,
            "text": generation.text,
            "stop_reason": generation.stop_reason,
            "timings": timings,
            "threads": session.threads(),
            "isa": session.kernels().isa().name(),
            "expert_cache": session.expert_cache_stats(),
        });
        writeln!(stdout, "{v}")?;
    } else {
        let _ = writeln!(stdout);
        eprint!("\n{}", timings.report());
        if let Some(stats) = session.expert_cache_stats() {
            let tokens = timings.prompt_tokens + timings.gen_tokens;
            let run_s = (timings.prompt_ms + timings.gen_ms) / 1e3;
            eprintln!("{}", stats.report(tokens, run_s));
        }
    }
    Ok(())
}
