//! `bitmoe perplexity`: llama-perplexity's method. The text is tokenized once (BOS
//! first when the vocabulary adds one), cut into chunks of `n_ctx` tokens, each chunk is
//! evaluated from an empty context, and the second half of each chunk is scored:
//! PPL = exp(mean NLL of those tokens).

use anyhow::{bail, Context};

use super::PerplexityArgs;
use crate::engine::Session;

pub fn run(args: &PerplexityArgs) -> anyhow::Result<()> {
    let text = std::fs::read_to_string(&args.file)
        .with_context(|| format!("reading {}", args.file.display()))?;
    let mut opts = args.load.options();
    let n_ctx = if opts.ctx_size == 0 {
        512
    } else {
        opts.ctx_size
    };
    opts.ctx_size = n_ctx;
    let mut session = Session::load(&opts)?;
    let tokens = session.tokenizer().encode(&text, true, false);
    let n_chunks = tokens.len() / n_ctx;
    if n_chunks == 0 {
        bail!(
            "the text has {} tokens, fewer than one chunk of {n_ctx} (lower -c)",
            tokens.len()
        );
    }
    let n_chunks = args.chunks.map_or(n_chunks, |c| c.min(n_chunks));
    let (mut nll, mut count) = (0f64, 0usize);
    let t0 = std::time::Instant::now();
    for c in 0..n_chunks {
        let chunk = &tokens[c * n_ctx..(c + 1) * n_ctx];
        session.reset();
        let logits = session.eval_all_logits(chunk)?;
        let (n, k) = second_half_nll(&logits, chunk);
        nll += n;
        count += k;
        eprint!("[{}]{:.4},", c + 1, (nll / count as f64).exp());
    }
    eprintln!();
    let ppl = (nll / count as f64).exp();
    println!(
        "Final estimate: PPL = {ppl:.4} over {count} tokens in {n_chunks} chunks of {n_ctx} ({:.1} s)",
        t0.elapsed().as_secs_f64()
    );
    Ok(())
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
