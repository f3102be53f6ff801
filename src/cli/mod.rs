//! Command line: clap flags → validated arguments → one function per command. Flag
//! names follow llama.cpp's where one exists (`-m/--model`). The only module that uses
//! `anyhow`.

mod copy;
mod dump;
mod info;
mod npy;

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

/// Parses the command line and runs the command.
pub fn main() -> anyhow::Result<()> {
    let cli = Cli::parse();
    match cli.command {
        Command::Info(args) => info::run(&args),
        Command::Copy(args) => copy::run(&args),
        Command::Dump(args) => dump::run(&args),
    }
}
