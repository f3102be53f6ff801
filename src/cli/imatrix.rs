//! `bitmoe imatrix -m MODEL -f TEXT -o FILE`: llama-imatrix's importance matrix. The
//! text is tokenized once and cut into chunks of `-c` tokens, each evaluated from an
//! empty context; every linear layer's input adds its per-column Σx² (per expert for
//! routed experts) to the file, written in llama.cpp's GGUF imatrix format. Also prints
//! the perplexity of the chunks' second halves, as llama-imatrix does.

use std::sync::Arc;

use super::perplexity::ChunkedText;
use super::ImatrixArgs;
use crate::engine::ExpertsMode;
use crate::quantize::ImatrixCollector;
use crate::schema::TensorKind;

pub fn run(args: &ImatrixArgs) -> anyhow::Result<()> {
    let mut opts = args.load.options();
    // Expert matrices are recognised by their place in the mapped file.
    opts.experts = ExpertsMode::Mmap;
    let mut text = ChunkedText::load(opts, &args.file, args.chunks)?;
    let process_output = args.process_output;
    let (embd, output) = (TensorKind::TokenEmbd.name(0), TensorKind::Output.name(0));
    let collector = Arc::new(ImatrixCollector::new(
        text.session.weights().file(),
        &|name| name == embd || (!process_output && name == output),
    ));
    text.session.set_observer(Some(collector.clone()));
    let t0 = std::time::Instant::now();
    let (nll, count) = text.score()?;
    text.session.set_observer(None);
    let collector = Arc::try_unwrap(collector)
        .map_err(|_| anyhow::anyhow!("the activation observer is still in use"))?;
    let (n_chunks, n_ctx) = (text.n_chunks, text.n_ctx);
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
