//! `bitmoe imatrix -m MODEL -f TEXT -o FILE`: llama-imatrix's importance matrix. The
//! text is tokenized once and cut into chunks of `-c` tokens, each evaluated from an
//! empty context; every linear layer's input adds its per-column Σx² (per expert for
//! routed experts) to the file, written in llama.cpp's GGUF imatrix format. Also prints
//! the perplexity of the chunks' second halves, as llama-imatrix does.

use std::sync::Arc;

use anyhow::{bail, Context};

use super::ImatrixArgs;
use crate::engine::{ExpertsMode, Session};
use crate::quantize::ImatrixCollector;

pub fn run(args: &ImatrixArgs) -> anyhow::Result<()> {
    let text = std::fs::read_to_string(&args.file)
        .with_context(|| format!("reading {}", args.file.display()))?;
    let mut opts = args.load.options();
    let n_ctx = if opts.ctx_size == 0 {
        512
    } else {
        opts.ctx_size
    };
    opts.ctx_size = n_ctx;
    // Expert matrices are recognised by their place in the mapped file.
    opts.experts = ExpertsMode::Mmap;
    let mut session = Session::load(&opts)?;
    let tokens = session.tokenizer().encode(&text, true, false);
    let available = tokens.len() / n_ctx;
    if available == 0 {
        bail!(
            "the text has {} tokens, fewer than one chunk of {n_ctx} (lower -c)",
            tokens.len()
        );
    }
    let n_chunks = args.chunks.map_or(available, |c| c.min(available));
    let process_output = args.process_output;
    let collector = Arc::new(ImatrixCollector::new(session.weights().file(), &|name| {
        name == "token_embd.weight" || (!process_output && name == "output.weight")
    }));
    session.set_observer(Some(collector.clone()));
    let (mut nll, mut count) = (0f64, 0usize);
    let t0 = std::time::Instant::now();
    for c in 0..n_chunks {
        let chunk = &tokens[c * n_ctx..(c + 1) * n_ctx];
        session.reset();
        let logits = session.eval_all_logits(chunk)?;
        let (n, k) = super::perplexity::second_half_nll(&logits, chunk);
        nll += n;
        count += k;
        eprint!("[{}]{:.4},", c + 1, (nll / count as f64).exp());
    }
    eprintln!();
    session.set_observer(None);
    let collector = Arc::try_unwrap(collector)
        .map_err(|_| anyhow::anyhow!("the activation observer is still in use"))?;
    let imatrix = collector.finish(
        vec![args.file.display().to_string()],
        n_chunks as u32,
        n_ctx as u32,
    );
    imatrix.save(&args.output)?;
    eprintln!(
        "wrote {}: {} tensors from {n_chunks} chunks of {n_ctx} tokens ({:.1} s); PPL of the \
         chunks' second halves {:.4}",
        args.output.display(),
        imatrix.entries.len(),
        t0.elapsed().as_secs_f64(),
        (nll / count as f64).exp()
    );
    Ok(())
}
