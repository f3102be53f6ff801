//! `bitmoe copy`: rewrite a model through bitmoe's streaming writer. A split model
//! becomes one file (the `split.*` keys are dropped, as llama-quantize does); a single
//! canonical file comes out byte-identical, which is how the writer is checked against
//! other tools.

use anyhow::Context;

use super::CopyArgs;
use crate::gguf::{keys, GgufFile, GgufWriter, TensorDecl};

/// Bytes handed to the writer per call: large enough for sequential disk speed, small
/// enough that copying a 100 GB model stays within a few MB of RAM.
const CHUNK: usize = 8 << 20;

pub fn run(args: &CopyArgs) -> anyhow::Result<()> {
    let file = GgufFile::open(&args.model)?;
    let mut metadata = file.metadata().clone();
    if file.parts().len() > 1 {
        for key in [keys::SPLIT_NO, keys::SPLIT_COUNT, keys::SPLIT_TENSORS_COUNT] {
            metadata.remove(key);
        }
    }
    let decls: Vec<TensorDecl> = file.tensors().iter().map(TensorDecl::from).collect();
    let mut w = GgufWriter::create(&args.output, &metadata, &decls)?;
    for t in file.tensors() {
        let data = file
            .tensor_data(t)
            .with_context(|| format!("tensor {} has no data view", t.name))?;
        for chunk in data.chunks(CHUNK) {
            w.write_data(chunk)?;
        }
    }
    w.finish()?;
    eprintln!(
        "wrote {} ({} tensors, {} bytes of tensor data)",
        args.output.display(),
        decls.len(),
        file.total_tensor_bytes()
    );
    Ok(())
}
