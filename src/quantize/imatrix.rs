//! Importance matrices in llama.cpp's formats, so files move between the two tools:
//! the GGUF format `llama-imatrix` writes by default (`general.type = "imatrix"`;
//! per weight `NAME.in_sum2`, f32 [n_cols, n_mat], the sum of squared activations of
//! each input column, and `NAME.counts`, f32 [1, n_mat], the tokens summed; one matrix
//! per expert for 3-D expert tensors) and the legacy `.dat` format (read only).
//! The quantizer's importance of column j is `in_sum2 / count` (1 where no token was
//! seen), as llama-quantize computes it.

use std::collections::HashMap;
use std::path::{Path, PathBuf};

use crate::gguf::{GgufFile, GgufWriter, MetaArray, MetaValue, Metadata, TensorDecl};
use crate::quant::QuantType;

/// Sums collected for one weight.
#[derive(Debug, Clone, PartialEq)]
pub struct ImatrixEntry {
    /// Per matrix (expert), per input column: Σ x².
    pub sums: Vec<f32>,
    /// Per matrix: tokens seen.
    pub counts: Vec<f32>,
}

impl ImatrixEntry {
    pub fn n_mat(&self) -> usize {
        self.counts.len()
    }

    pub fn n_cols(&self) -> usize {
        self.sums.len() / self.counts.len().max(1)
    }

    /// The importance vector of matrix `m` (`in_sum2 / count`; all ones when the
    /// matrix saw no token).
    pub fn importance(&self, m: usize) -> Vec<f32> {
        let n = self.n_cols();
        let c = self.counts[m];
        let sums = &self.sums[m * n..(m + 1) * n];
        if c > 0.0 {
            sums.iter().map(|s| s / c).collect()
        } else {
            vec![1.0; n]
        }
    }
}

#[derive(Debug, Clone, Default, PartialEq)]
pub struct Imatrix {
    pub entries: HashMap<String, ImatrixEntry>,
    pub datasets: Vec<String>,
    pub chunk_count: u32,
    pub chunk_size: u32,
}

#[derive(Debug, thiserror::Error)]
#[error("importance matrix {path}: {problem}")]
pub struct ImatrixError {
    pub path: PathBuf,
    pub problem: String,
}

impl Imatrix {
    pub fn load(path: &Path) -> Result<Imatrix, ImatrixError> {
        let err = |problem: String| ImatrixError {
            path: path.to_path_buf(),
            problem,
        };
        let head = std::fs::read(path).map_err(|e| err(format!("cannot read: {e}")))?;
        if head.starts_with(b"GGUF") {
            drop(head);
            Imatrix::load_gguf(path).map_err(err)
        } else {
            Imatrix::parse_legacy(&head).map_err(err)
        }
    }

    fn load_gguf(path: &Path) -> Result<Imatrix, String> {
        let file = GgufFile::open(path).map_err(|e| e.to_string())?;
        let md = file.metadata();
        let kind = md.get_str("general.type").ok().flatten();
        if kind != Some("imatrix") {
            return Err(format!(
                "general.type is {kind:?}, not \"imatrix\" (is this a model?)"
            ));
        }
        let datasets = match md.get_array("imatrix.datasets").ok().flatten() {
            Some(MetaArray::String(v)) => v.clone(),
            _ => Vec::new(),
        };
        let mut entries = HashMap::new();
        for t in file.tensors() {
            let Some(name) = t.name.strip_suffix(".in_sum2") else {
                continue;
            };
            let counts_name = format!("{name}.counts");
            let counts = file
                .tensor(&counts_name)
                .ok_or_else(|| format!("{} has no {counts_name}", t.name))?;
            let read = |t: &crate::gguf::TensorInfo| -> Result<Vec<f32>, String> {
                if t.ty != QuantType::F32 {
                    return Err(format!("{} is {}, not f32", t.name, t.ty.name()));
                }
                let bytes = file
                    .tensor_data(t)
                    .ok_or_else(|| format!("{}: no data", t.name))?;
                Ok(bytes
                    .chunks_exact(4)
                    .map(|b| f32::from_le_bytes([b[0], b[1], b[2], b[3]]))
                    .collect())
            };
            let sums = read(t)?;
            let counts = read(counts)?;
            if counts.is_empty() || sums.len() % counts.len() != 0 {
                return Err(format!(
                    "{name}: {} sums do not split into {} matrices",
                    sums.len(),
                    counts.len()
                ));
            }
            entries.insert(name.to_string(), ImatrixEntry { sums, counts });
        }
        let u32_key = |k| md.get_u32(k).ok().flatten().unwrap_or(0);
        Ok(Imatrix {
            entries,
            datasets,
            chunk_count: u32_key("imatrix.chunk_count"),
            chunk_size: u32_key("imatrix.chunk_size"),
        })
    }

    /// The legacy `.dat`: i32 entries; per entry i32 name length, name, i32 ncall, i32
    /// nval, nval f32 (already `Σx²/count · ncall`); then optionally i32 chunks and a
    /// dataset name.
    fn parse_legacy(b: &[u8]) -> Result<Imatrix, String> {
        let mut at = 0usize;
        let mut take = |n: usize| -> Result<&[u8], String> {
            let s = b
                .get(at..at + n)
                .ok_or_else(|| format!("truncated at byte {at} (wanted {n} more)"))?;
            at += n;
            Ok(s)
        };
        let i32_at = |s: &[u8]| i32::from_le_bytes([s[0], s[1], s[2], s[3]]);
        let n = i32_at(take(4)?);
        if !(0..=1_000_000).contains(&n) {
            return Err(format!("{n} entries: not an imatrix file"));
        }
        let mut entries = HashMap::new();
        for _ in 0..n {
            let len = i32_at(take(4)?);
            if !(1..=4096).contains(&len) {
                return Err(format!("a name of {len} bytes"));
            }
            let name = String::from_utf8(take(len as usize)?.to_vec())
                .map_err(|_| "a name that is not UTF-8".to_string())?;
            let ncall = i32_at(take(4)?);
            let nval = i32_at(take(4)?);
            if !(1..=1 << 28).contains(&nval) {
                return Err(format!("{name}: {nval} values"));
            }
            let sums: Vec<f32> = take(nval as usize * 4)?
                .chunks_exact(4)
                .map(|c| f32::from_le_bytes([c[0], c[1], c[2], c[3]]))
                .collect();
            // Legacy values are means × ncall: dividing by ncall (as llama-quantize
            // does) is the same as a count of ncall.
            let count = ncall.max(0) as f32;
            let entry = if count > 0.0 {
                ImatrixEntry {
                    sums,
                    counts: vec![count],
                }
            } else {
                ImatrixEntry {
                    sums,
                    counts: vec![1.0],
                }
            };
            entries.insert(name, entry);
        }
        Ok(Imatrix {
            entries,
            datasets: Vec::new(),
            chunk_count: 0,
            chunk_size: 0,
        })
    }

    /// The importance vector for rows of `tensor` that belong to matrix `m` (expert m of
    /// a 3-D tensor, 0 otherwise), checked to have `n_cols` entries.
    pub fn importance(
        &self,
        tensor: &str,
        n_cols: usize,
        m: usize,
    ) -> Result<Option<Vec<f32>>, String> {
        let Some(e) = self.entries.get(tensor) else {
            return Ok(None);
        };
        if e.n_cols() != n_cols {
            return Err(format!(
                "{tensor}: the imatrix has {} columns, the tensor {n_cols}",
                e.n_cols()
            ));
        }
        let m = if e.n_mat() == 1 { 0 } else { m };
        if m >= e.n_mat() {
            return Err(format!(
                "{tensor}: the imatrix has {} matrices, wanted #{m}",
                e.n_mat()
            ));
        }
        Ok(Some(e.importance(m)))
    }

    /// Writes llama.cpp's GGUF imatrix format.
    pub fn save(&self, path: &Path) -> Result<(), crate::gguf::GgufError> {
        let mut md = Metadata::new();
        md.set("general.type", MetaValue::String("imatrix".into()));
        md.set(
            "imatrix.datasets",
            MetaValue::Array(MetaArray::String(self.datasets.clone())),
        );
        md.set("imatrix.chunk_count", MetaValue::U32(self.chunk_count));
        md.set("imatrix.chunk_size", MetaValue::U32(self.chunk_size));
        let mut names: Vec<&String> = self.entries.keys().collect();
        names.sort();
        let mut decls = Vec::new();
        for name in &names {
            let e = &self.entries[*name];
            decls.push(TensorDecl {
                name: format!("{name}.in_sum2"),
                dims: vec![e.n_cols() as u64, e.n_mat() as u64],
                ty: QuantType::F32,
            });
            decls.push(TensorDecl {
                name: format!("{name}.counts"),
                dims: vec![1, e.n_mat() as u64],
                ty: QuantType::F32,
            });
        }
        let mut w = GgufWriter::create(path, &md, &decls)?;
        let bytes = |v: &[f32]| v.iter().flat_map(|x| x.to_le_bytes()).collect::<Vec<u8>>();
        for name in &names {
            let e = &self.entries[*name];
            w.write_data(&bytes(&e.sums))?;
            w.write_data(&bytes(&e.counts))?;
        }
        w.finish()?;
        Ok(())
    }
}

#[cfg(test)]
mod unit {
    use super::*;
    use crate::schema::TensorKind;

    #[test]
    fn gguf_round_trip_and_importance() {
        let dir = tempfile::tempdir().unwrap();
        let mut m = Imatrix {
            datasets: vec!["wiki.txt".into()],
            chunk_count: 3,
            chunk_size: 512,
            ..Imatrix::default()
        };
        m.entries.insert(
            TensorKind::FfnDownExps.name(0),
            ImatrixEntry {
                sums: vec![2.0, 4.0, 9.0, 3.0],
                counts: vec![2.0, 0.0],
            },
        );
        let p = dir.path().join("m.gguf");
        m.save(&p).unwrap();
        let back = Imatrix::load(&p).unwrap();
        assert_eq!(back, m);
        let t = &TensorKind::FfnDownExps.name(0);
        assert_eq!(back.importance(t, 2, 0).unwrap(), Some(vec![1.0, 2.0]));
        assert_eq!(back.importance(t, 2, 1).unwrap(), Some(vec![1.0, 1.0]));
        assert!(back.importance(t, 3, 0).is_err());
        let output = TensorKind::Output.name(0);
        assert_eq!(back.importance(&output, 2, 0).unwrap(), None);
    }

    #[test]
    fn legacy_dat_and_garbage() {
        let mut b = Vec::new();
        b.extend(1i32.to_le_bytes());
        b.extend(5i32.to_le_bytes());
        b.extend(b"w.abc");
        b.extend(4i32.to_le_bytes()); // ncall
        b.extend(2i32.to_le_bytes());
        for v in [8.0f32, 4.0] {
            b.extend(v.to_le_bytes());
        }
        let m = Imatrix::parse_legacy(&b).unwrap();
        assert_eq!(m.importance("w.abc", 2, 0).unwrap(), Some(vec![2.0, 1.0]));
        assert!(Imatrix::parse_legacy(&b[..b.len() - 2])
            .unwrap_err()
            .contains("truncated"));
        assert!(Imatrix::parse_legacy(&[0xff; 8]).is_err());
    }
}
