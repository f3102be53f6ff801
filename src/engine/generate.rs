//! The decode loop: prefill the prompt, then sample, stream and stop — on an
//! end-of-generation token, a stop string, the token budget or a full context.

use std::time::Instant;

use super::stop::{StopEvent, StopMatcher};
use super::{EngineError, Session};
use crate::sampler::Sampler;

/// What to generate.
#[derive(Debug, Clone, Default)]
pub struct GenerateParams {
    /// Tokens to generate at most; `None` = until EOG or the context is full.
    pub n_predict: Option<usize>,
    pub stop: Vec<String>,
    /// Keep going past end-of-generation tokens.
    pub ignore_eos: bool,
    /// Print control tokens' text.
    pub render_special: bool,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, serde::Serialize)]
#[serde(rename_all = "snake_case")]
pub enum StopReason {
    Eog,
    StopString,
    Length,
    ContextFull,
}

#[derive(Debug, Clone, serde::Serialize)]
pub struct Generation {
    pub tokens: Vec<u32>,
    pub text: String,
    pub stop_reason: StopReason,
}

impl Session {
    /// Evaluates `prompt` after the cache's contents, then generates, calling `on_text`
    /// with each complete piece of text as it becomes safe to show.
    pub fn generate(
        &mut self,
        prompt: &[u32],
        params: &GenerateParams,
        sampler: &mut Sampler,
        on_text: &mut dyn FnMut(&str),
    ) -> Result<Generation, EngineError> {
        if prompt.is_empty() {
            return Err(EngineError::Option("the prompt is empty".into()));
        }
        let t = Instant::now();
        let mut logits = self.eval(prompt)?;
        self.timings.prompt_ms += t.elapsed().as_secs_f64() * 1000.0;
        self.timings.prompt_tokens += prompt.len();
        for &tok in prompt {
            sampler.accept(tok);
        }

        let mut decoder = self.tokenizer.stream_decoder(params.render_special);
        let mut stops = StopMatcher::new(&params.stop);
        let mut out = Generation {
            tokens: Vec::new(),
            text: String::new(),
            stop_reason: StopReason::Length,
        };
        let t = Instant::now();
        let mut emit = |s: &str, out: &mut Generation| {
            if !s.is_empty() {
                out.text.push_str(s);
                on_text(s);
            }
        };
        loop {
            if params.n_predict.is_some_and(|n| out.tokens.len() >= n) {
                out.stop_reason = StopReason::Length;
                break;
            }
            let tok = sampler.sample(&mut logits);
            sampler.accept(tok);
            out.tokens.push(tok);
            if !params.ignore_eos && self.tokenizer.is_eog(tok) {
                out.stop_reason = StopReason::Eog;
                break;
            }
            let piece = decoder.push(&self.tokenizer, tok);
            match stops.push(&piece) {
                StopEvent::Continue(s) => emit(&s, &mut out),
                StopEvent::Stop(s) => {
                    emit(&s, &mut out);
                    out.stop_reason = StopReason::StopString;
                    break;
                }
            }
            if self.pos >= self.n_ctx() {
                out.stop_reason = StopReason::ContextFull;
                break;
            }
            logits = self.eval(&[tok])?;
        }
        if out.stop_reason != StopReason::StopString {
            let rest = decoder.finish();
            let held = match stops.push(&rest) {
                StopEvent::Continue(s) | StopEvent::Stop(s) => s,
            };
            emit(&(held + &stops.flush()), &mut out);
        }
        self.timings.gen_ms += t.elapsed().as_secs_f64() * 1000.0;
        // The first token comes from the prompt's logits: llama.cpp counts decode runs.
        self.timings.gen_tokens += out.tokens.len().saturating_sub(1);
        Ok(out)
    }
}
