//! Executing a plan: the output file(s) written tensor by tensor, a bounded chunk of
//! rows at a time (dequantize to f32 → quantize on the thread pool → write), so memory
//! stays at a few chunks whatever the model's size. 3-D expert tensors are quantized
//! one expert at a time with that expert's importance vector. With a split size the
//! output is written as `OUT-0000i-of-0000n.gguf` parts, as llama-gguf-split does.

use std::path::{Path, PathBuf};

use bitmoe_simd::{GgmlType, Kernels};
use rayon::prelude::*;

use super::imatrix::Imatrix;
use super::plan::{Action, Plan, PlanEntry};
use crate::gguf::{keys, split, GgufFile, GgufWriter, MetaValue, Metadata, TensorDecl};
use crate::quant::QuantType;

/// f32 values dequantized per chunk (64 MiB): bounds memory, keeps every thread busy.
const CHUNK_VALUES: usize = 16 << 20;

#[derive(Debug, thiserror::Error)]
pub enum QuantizeError {
    #[error(transparent)]
    Gguf(#[from] crate::gguf::GgufError),
    #[error("tensor {tensor}: {problem}")]
    Tensor { tensor: String, problem: String },
    #[error("--split-max-size {max} bytes is smaller than tensor {tensor} ({bytes} bytes)")]
    SplitTooSmall {
        max: u64,
        tensor: String,
        bytes: u64,
    },
}

/// What the caller supplies besides the plan.
pub struct Inputs<'a> {
    pub file: &'a GgufFile,
    pub imatrix: Option<(&'a Imatrix, &'a Path)>,
    pub split_max_bytes: Option<u64>,
    /// Called after each tensor with (tensors done, bytes of input done).
    pub progress: &'a (dyn Fn(usize, u64) + Sync),
}

/// llama.cpp's `llama_ftype` for a recipe's base type (`general.file_type`).
pub fn llama_ftype(ty: QuantType) -> Option<u32> {
    use QuantType::*;
    Some(match ty {
        F32 => 0,
        F16 => 1,
        Q4_0 => 2,
        Q4_1 => 3,
        Q8_0 => 7,
        Q5_0 => 8,
        Q5_1 => 9,
        Q2K => 10,
        Q3K => 12,
        Q4K => 15,
        Q5K => 17,
        Q6K => 18,
        Iq2Xxs => 19,
        Iq2Xs => 20,
        Iq3Xxs => 23,
        Iq1S => 24,
        Iq4Nl => 25,
        Iq3S => 26,
        Iq2S => 28,
        Iq4Xs => 30,
        Iq1M => 31,
        Bf16 => 32,
        Tq1_0 => 36,
        Tq2_0 => 37,
        _ => return None,
    })
}

/// The output metadata: the input's, minus split keys, with the file type, the
/// quantization version and (with an imatrix) where the importance came from.
fn output_metadata(plan_default: QuantType, inputs: &Inputs) -> Metadata {
    let mut md = Metadata::new();
    for (k, v) in inputs.file.metadata().iter() {
        if !k.starts_with("split.") {
            md.set(k, v.clone());
        }
    }
    if let Some(ft) = llama_ftype(plan_default) {
        md.set("general.file_type", MetaValue::U32(ft));
    }
    md.set("general.quantization_version", MetaValue::U32(2));
    if let Some((m, path)) = inputs.imatrix {
        md.set(
            "quantize.imatrix.file",
            MetaValue::String(path.display().to_string()),
        );
        if let Some(d) = m.datasets.first() {
            md.set("quantize.imatrix.dataset", MetaValue::String(d.clone()));
        }
        md.set(
            "quantize.imatrix.entries_count",
            MetaValue::I32(m.entries.len() as i32),
        );
        md.set(
            "quantize.imatrix.chunks_count",
            MetaValue::I32(m.chunk_count as i32),
        );
    }
    md
}

/// Tensor index ranges of the output parts.
fn split_parts(
    plan: &Plan,
    max: Option<u64>,
    alignment: u64,
) -> Result<Vec<std::ops::Range<usize>>, QuantizeError> {
    let Some(max) = max else {
        return Ok(std::iter::once(0..plan.entries.len()).collect());
    };
    let mut parts = Vec::new();
    let (mut start, mut size) = (0, 0u64);
    for (i, e) in plan.entries.iter().enumerate() {
        let padded = e.bytes.div_ceil(alignment) * alignment;
        if padded > max {
            return Err(QuantizeError::SplitTooSmall {
                max,
                tensor: e.name.clone(),
                bytes: e.bytes,
            });
        }
        if size + padded > max && i > start {
            parts.push(start..i);
            start = i;
            size = 0;
        }
        size += padded;
    }
    parts.push(start..plan.entries.len());
    Ok(parts)
}

/// Output paths: `out` itself, or `PREFIX-0000i-of-0000n.gguf` parts.
pub fn part_paths(out: &Path, parts: usize) -> Vec<PathBuf> {
    if parts == 1 {
        return vec![out.to_path_buf()];
    }
    let prefix = out.with_extension("");
    (1..=parts as u32)
        .map(|no| split::part_path(&prefix, no, parts as u32))
        .collect()
}

/// Writes the plan's output; returns the paths written.
pub fn execute(
    plan: &Plan,
    default: QuantType,
    out: &Path,
    inputs: &Inputs,
) -> Result<Vec<PathBuf>, QuantizeError> {
    let md = output_metadata(default, inputs);
    let alignment = match md.get(keys::GENERAL_ALIGNMENT) {
        Some(MetaValue::U32(a)) if *a > 0 => u64::from(*a),
        _ => 32,
    };
    let parts = split_parts(plan, inputs.split_max_bytes, alignment)?;
    let paths = part_paths(out, parts.len());
    let kernels = Kernels::detect();
    let (mut done, mut bytes_done) = (0, 0u64);
    for (no, (range, path)) in parts.iter().zip(&paths).enumerate() {
        let mut part_md = if no == 0 { md.clone() } else { Metadata::new() };
        if parts.len() > 1 {
            part_md.set(keys::SPLIT_NO, MetaValue::U16(no as u16));
            part_md.set(keys::SPLIT_COUNT, MetaValue::U16(parts.len() as u16));
            part_md.set(
                keys::SPLIT_TENSORS_COUNT,
                MetaValue::I32(plan.entries.len() as i32),
            );
            if no > 0 {
                if let Some(a) = md.get(keys::GENERAL_ALIGNMENT) {
                    part_md.set(keys::GENERAL_ALIGNMENT, a.clone());
                }
            }
        }
        let entries = &plan.entries[range.clone()];
        let decls: Vec<TensorDecl> = entries
            .iter()
            .map(|e| TensorDecl {
                name: e.name.clone(),
                dims: e.dims.clone(),
                ty: e.to_ty,
            })
            .collect();
        let mut w = GgufWriter::create(path, &part_md, &decls)?;
        for e in entries {
            let t = inputs
                .file
                .tensor(&e.name)
                .expect("the plan was made from this file");
            let src = inputs
                .file
                .tensor_data(t)
                .expect("tensor ranges are checked at open");
            match e.action {
                Action::Copy => {
                    for chunk in src.chunks(8 << 20) {
                        w.write_data(chunk)?;
                    }
                }
                Action::Quantize => {
                    quantize_tensor(&kernels, e, src, inputs.imatrix.map(|(m, _)| m), &mut |b| {
                        w.write_data(b).map_err(QuantizeError::from)
                    })?
                }
            }
            done += 1;
            bytes_done += t.n_bytes;
            (inputs.progress)(done, bytes_done);
        }
        w.finish()?;
    }
    Ok(paths)
}

fn ggml(ty: QuantType) -> GgmlType {
    GgmlType::from_id(ty.id()).expect("every GGUF type has a kernel-crate twin")
}

/// Dequantizes and requantizes one tensor, chunk by chunk, handing each chunk of output
/// bytes to `sink`.
fn quantize_tensor(
    kernels: &Kernels,
    e: &PlanEntry,
    src: &[u8],
    imatrix: Option<&Imatrix>,
    sink: &mut dyn FnMut(&[u8]) -> Result<(), QuantizeError>,
) -> Result<(), QuantizeError> {
    let err = |problem: String| QuantizeError::Tensor {
        tensor: e.name.clone(),
        problem,
    };
    let ne0 = e.dims[0] as usize;
    let rows_per_mat = e.dims.get(1).copied().unwrap_or(1) as usize;
    let n_mat: usize = e.dims.iter().skip(2).product::<u64>() as usize;
    let (from, to) = (ggml(e.from_ty), ggml(e.to_ty));
    let in_row = from
        .row_bytes(ne0)
        .ok_or_else(|| err(format!("rows of {ne0} are not whole {} blocks", e.from)))?;
    let out_row = to
        .row_bytes(ne0)
        .ok_or_else(|| err(format!("rows of {ne0} are not whole {} blocks", e.to)))?;
    let dequantize = kernels.dequantize(from);
    let float_writer = match e.to_ty {
        QuantType::F32 | QuantType::F16 | QuantType::Bf16 => kernels.quantize(to),
        _ => None,
    };
    let rows_per_chunk = (CHUNK_VALUES / ne0).clamp(1, rows_per_mat);
    let mut values = vec![0f32; rows_per_chunk * ne0];
    let mut out = vec![0u8; rows_per_chunk * out_row];
    for m in 0..n_mat {
        let importance = match imatrix {
            Some(im) => im.importance(&e.name, ne0, m).map_err(err)?,
            None => None,
        };
        let mut row = 0;
        while row < rows_per_mat {
            let rows = rows_per_chunk.min(rows_per_mat - row);
            let first = m * rows_per_mat + row;
            let input = &src[first * in_row..(first + rows) * in_row];
            let vals = &mut values[..rows * ne0];
            vals.par_chunks_mut(ne0)
                .zip(input.par_chunks(in_row))
                .for_each(|(v, b)| dequantize(b, v));
            if let Some(i) = vals.iter().position(|v| !v.is_finite()) {
                return Err(err(format!(
                    "value {} of row {} is {} in the input",
                    i % ne0,
                    first + i / ne0,
                    vals[i]
                )));
            }
            let dst = &mut out[..rows * out_row];
            // Several rows per task: enough work to amortise scheduling.
            let per_task = (4096 / ne0).max(1);
            if let Some(write) = float_writer {
                dst.par_chunks_mut(out_row * per_task)
                    .zip(vals.par_chunks(ne0 * per_task))
                    .for_each(|(d, v)| write(v, d));
            } else {
                dst.par_chunks_mut(out_row * per_task)
                    .zip(vals.par_chunks(ne0 * per_task))
                    .try_for_each(|(d, v)| {
                        bitmoe_simd::quantize::quantize_rows(to, v, ne0, importance.as_deref(), d)
                    })
                    .map_err(|q| err(q.to_string()))?;
            }
            sink(dst)?;
            row += rows;
        }
    }
    Ok(())
}

#[cfg(test)]
mod unit {
    use super::*;

    #[test]
    fn split_part_names_follow_gguf_split() {
        let p = part_paths(Path::new("/x/model.gguf"), 3);
        assert_eq!(p[0], Path::new("/x/model-00001-of-00003.gguf"));
        assert_eq!(p[2], Path::new("/x/model-00003-of-00003.gguf"));
        assert_eq!(
            part_paths(Path::new("/x/m.gguf"), 1)[0],
            Path::new("/x/m.gguf")
        );
    }
}
