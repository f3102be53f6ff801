//! `bitmoe synth`: write a synthetic model.

use anyhow::bail;

use super::SynthArgs;
use crate::schema::Arch;
use crate::synth::{write_dense, DenseSpec};

pub fn run(args: &SynthArgs) -> anyhow::Result<()> {
    let arch = match Arch::from_name(&args.arch) {
        Some(a @ (Arch::Llama | Arch::Qwen2)) => a,
        Some(Arch::Deepseek2) => bail!("synthetic deepseek2 models are not implemented yet"),
        None => bail!("unknown architecture {:?} (llama, qwen2)", args.arch),
    };
    let spec = DenseSpec {
        seed: args.seed,
        ..DenseSpec::tiny(arch)
    };
    write_dense(&args.output, &spec)?;
    eprintln!(
        "wrote {} ({} tiny, seed {})",
        args.output.display(),
        arch,
        args.seed
    );
    Ok(())
}
