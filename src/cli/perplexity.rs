//! `bitmoe perplexity`: llama-perplexity's method. The text is tokenized once (BOS
//! first when the vocabulary adds one), cut into chunks of `n_ctx` tokens, each chunk is
//! evaluated from an empty context, and the second half of each chunk is scored:
//! PPL = exp(mean NLL of those tokens).

use anyhow::{bail, Context};

use std::path::Path;

use super::PerplexityArgs;
use crate::engine::{LoadOptions, Session};

pub fn run(args: &PerplexityArgs) -> anyhow::Result<()> {
    let mut text = ChunkedText::load(args.load.options(), &args.file, args.chunks)?;
    let t0 = std::time::Instant::now();
    let (nll, count) = text.score()?;
    let ppl = (nll / count as f64).exp();
    println!(
        "Final estimate: PPL = {ppl:.4} over {count} tokens in {} chunks of {} ({:.1} s)",
        text.n_chunks,
        text.n_ctx,
        t0.elapsed().as_secs_f64()
    );
    Ok(())
}

/// A model and a text cut into chunks of `n_ctx` tokens (`-c`, default 512), as
/// llama-perplexity and llama-imatrix read their input.
pub(super) struct ChunkedText {
    pub session: Session,
    pub tokens: Vec<u32>,
    pub n_ctx: usize,
    pub n_chunks: usize,
}

impl ChunkedText {
    /// Loads the model with `opts`, tokenizes `file` (BOS first when the vocabulary adds
    /// one), and uses at most `chunks` whole chunks.
    pub fn load(
        mut opts: LoadOptions,
        file: &Path,
        chunks: Option<usize>,
    ) -> anyhow::Result<ChunkedText> {
        let text =
            std::fs::read_to_string(file).with_context(|| format!("reading {}", file.display()))?;
        let n_ctx = if opts.ctx_size == 0 {
            512
        } else {
            opts.ctx_size
        };
        opts.ctx_size = n_ctx;
        let session = Session::load(&opts)?;
        let tokens = session.tokenizer().encode(&text, true, false);
        let available = tokens.len() / n_ctx;
        if available == 0 {
            bail!(
                "the text has {} tokens, fewer than one chunk of {n_ctx} (lower -c)",
                tokens.len()
            );
        }
        Ok(ChunkedText {
            session,
            tokens,
            n_ctx,
            n_chunks: chunks.map_or(available, |c| c.min(available)),
        })
    }

    /// Evaluates each chunk from an empty context and scores its second half; prints the
    /// running perplexity per chunk as llama-perplexity does. Returns (Σ NLL, tokens).
    pub fn score(&mut self) -> anyhow::Result<(f64, usize)> {
        let (mut nll, mut count) = (0f64, 0usize);
        for c in 0..self.n_chunks {
            let chunk = &self.tokens[c * self.n_ctx..(c + 1) * self.n_ctx];
            self.session.reset();
            let logits = self.session.eval_all_logits(chunk)?;
            let (n, k) = second_half_nll(&logits, chunk);
            nll += n;
            count += k;
            eprint!("[{}]{:.4},", c + 1, (nll / count as f64).exp());
        }
        eprintln!();
        Ok((nll, count))
    }
}

/// llama-perplexity's scoring of one chunk: the summed negative log-likelihood of each
/// token in the chunk's second half given the tokens before it, and how many were
/// scored. `logits`: every position's logits for `chunk`.
pub(super) fn second_half_nll(logits: &[f32], chunk: &[u32]) -> (f64, usize) {
    let n_ctx = chunk.len();
    let vocab = logits.len() / n_ctx.max(1);
    let (mut nll, mut count) = (0f64, 0usize);
    for i in n_ctx / 2..n_ctx.saturating_sub(1) {
        let row = &logits[i * vocab..(i + 1) * vocab];
        let max = row.iter().copied().fold(f32::NEG_INFINITY, f32::max);
        let log_sum: f64 = row
            .iter()
            .map(|&l| f64::from(l - max).exp())
            .sum::<f64>()
            .ln()
            + f64::from(max);
        nll += log_sum - f64::from(row[chunk[i + 1] as usize]);
        count += 1;
    }
    (nll, count)
}
