//! `bitmoe dump`: one tensor, dequantized to f32, as a NumPy `.npy` file — for
//! debugging and for comparing with other tools. Streams row by row, so even a
//! 3.7 GB f32 embedding table is written in constant memory.

use std::fs::File;
use std::io::{BufWriter, Write};

use anyhow::{bail, Context};
use bitmoe_simd::{GgmlType, Kernels};

use super::{npy, DumpArgs};
use crate::gguf::GgufFile;

/// Rows dequantized per write.
const ROWS_PER_CHUNK: usize = 64;

pub fn run(args: &DumpArgs) -> anyhow::Result<()> {
    let file = GgufFile::open(&args.model)?;
    let Some(t) = file.tensor(&args.tensor) else {
        let mut close: Vec<&str> = file
            .tensors()
            .iter()
            .map(|t| t.name.as_str())
            .filter(|n| n.contains(crate::schema::strip_block_prefix(&args.tensor)))
            .take(5)
            .collect();
        close.sort_unstable();
        bail!(
            "{}: no tensor named {:?}{}",
            args.model.display(),
            args.tensor,
            if close.is_empty() {
                String::new()
            } else {
                format!(" (similar: {})", close.join(", "))
            }
        );
    };
    let Some(ty) = GgmlType::from_id(t.ty.id()) else {
        bail!(
            "tensor {} has type {}, which bitmoe cannot dequantize yet",
            t.name,
            t.ty
        );
    };
    let kernels = Kernels::detect();
    let dequantize = kernels.dequantize(ty);
    let data = file
        .tensor_data(t)
        .context("tensor data outside the file")?;
    let k = t.dims[0] as usize;
    let row_bytes = t.row_bytes() as usize;
    let mut out = BufWriter::with_capacity(
        4 << 20,
        File::create(&args.output)
            .with_context(|| format!("creating {}", args.output.display()))?,
    );
    let shape: Vec<u64> = t.dims.iter().rev().copied().collect();
    npy::write_f32_header(&mut out, &shape)?;
    let mut values = vec![0f32; k * ROWS_PER_CHUNK];
    let mut bytes = Vec::with_capacity(values.len() * 4);
    for rows in data.chunks(row_bytes * ROWS_PER_CHUNK) {
        let n = rows.len() / row_bytes * k;
        dequantize(rows, &mut values[..n]);
        bytes.clear();
        bytes.extend(values[..n].iter().flat_map(|v| v.to_le_bytes()));
        out.write_all(&bytes)?;
    }
    out.flush()?;
    eprintln!(
        "wrote {}: {} {} {} → f32 {:?}",
        args.output.display(),
        t.name,
        t.ty,
        t.shape_string(),
        shape
    );
    Ok(())
}
