//! Writing GGUF v3 files, streaming: the header (metadata and tensor infos with their
//! aligned offsets) goes out first, then tensor data is appended in declaration order,
//! in as many chunks as the caller likes, each tensor padded with zeros to the
//! alignment. Nothing but the current chunk is held in memory, so multi-GB models are
//! written in a constant few MB.
//!
//! Layout is the canonical one ggml and gguf-py write (offsets are the running sum of
//! padded sizes), so reading a canonical file and writing it back is byte-identical.

use std::fs::File;
use std::io::{BufWriter, Write};
use std::path::{Path, PathBuf};

use super::error::{ErrorKind, GgufError};
use super::keys::GENERAL_ALIGNMENT;
use super::metadata::Metadata;
use super::parse::{DEFAULT_ALIGNMENT, MAGIC};
use super::value::{MetaArray, MetaValue};
use crate::quant::QuantType;

/// A tensor to be written: name, GGUF dimensions (fastest first) and type.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct TensorDecl {
    pub name: String,
    pub dims: Vec<u64>,
    pub ty: QuantType,
}

impl From<&super::TensorInfo> for TensorDecl {
    /// The declaration that rewrites an existing tensor as it is.
    fn from(t: &super::TensorInfo) -> TensorDecl {
        TensorDecl {
            name: t.name.clone(),
            dims: t.dims.clone(),
            ty: t.ty,
        }
    }
}

/// A GGUF file being written. Create it with the full metadata and tensor list, then
/// feed tensor data in order with [`GgufWriter::write_data`], then [`GgufWriter::finish`].
pub struct GgufWriter<W: Write> {
    out: W,
    path: PathBuf,
    /// Byte size of each declared tensor, in order.
    sizes: Vec<(String, u64)>,
    alignment: u64,
    /// Index of the tensor receiving data, and bytes of it written so far.
    current: usize,
    written: u64,
}

impl GgufWriter<BufWriter<File>> {
    /// Creates `path` and writes the header.
    pub fn create(
        path: &Path,
        metadata: &Metadata,
        tensors: &[TensorDecl],
    ) -> Result<Self, GgufError> {
        let file = File::create(path).map_err(|e| GgufError::new(path, ErrorKind::Io(e)))?;
        Self::new(
            BufWriter::with_capacity(1 << 20, file),
            path,
            metadata,
            tensors,
        )
    }
}

impl<W: Write> GgufWriter<W> {
    /// Writes the header to `out`. `label` names the destination in errors.
    pub fn new(
        out: W,
        label: &Path,
        metadata: &Metadata,
        tensors: &[TensorDecl],
    ) -> Result<Self, GgufError> {
        let err = |kind| GgufError::new(label, kind);
        let alignment = match metadata.get(GENERAL_ALIGNMENT) {
            None => DEFAULT_ALIGNMENT,
            Some(MetaValue::U32(a)) if *a != 0 && a.is_power_of_two() => u64::from(*a),
            Some(v) => {
                return Err(err(ErrorKind::BadAlignment {
                    found: v.summary(20),
                }))
            }
        };
        let mut sizes = Vec::with_capacity(tensors.len());
        for t in tensors {
            let n = t.ty.tensor_bytes(&t.dims).map_err(|problem| {
                err(ErrorKind::BadShape {
                    tensor: t.name.clone(),
                    ty: t.ty,
                    dims: t.dims.clone(),
                    problem,
                })
            })?;
            sizes.push((t.name.clone(), n));
        }
        let mut w = GgufWriter {
            out,
            path: label.to_path_buf(),
            sizes,
            alignment,
            current: 0,
            written: 0,
        };
        w.write_header(metadata, tensors)
            .map_err(|e| err(ErrorKind::Io(e)))?;
        w.skip_empty_tensors().map_err(|e| err(ErrorKind::Io(e)))?;
        Ok(w)
    }

    fn write_header(&mut self, metadata: &Metadata, tensors: &[TensorDecl]) -> std::io::Result<()> {
        let mut h = Vec::with_capacity(1 << 16);
        h.extend_from_slice(&MAGIC);
        h.extend_from_slice(&3u32.to_le_bytes());
        h.extend_from_slice(&(tensors.len() as u64).to_le_bytes());
        h.extend_from_slice(&(metadata.len() as u64).to_le_bytes());
        for (key, value) in metadata.iter() {
            put_str(&mut h, key);
            h.extend_from_slice(&(value.value_type() as u32).to_le_bytes());
            put_value(&mut h, value);
        }
        let mut offset = 0u64;
        for (t, &(_, size)) in tensors.iter().zip(&self.sizes) {
            put_str(&mut h, &t.name);
            h.extend_from_slice(&(t.dims.len() as u32).to_le_bytes());
            for d in &t.dims {
                h.extend_from_slice(&d.to_le_bytes());
            }
            h.extend_from_slice(&t.ty.id().to_le_bytes());
            h.extend_from_slice(&offset.to_le_bytes());
            offset += size.div_ceil(self.alignment) * self.alignment;
        }
        let pad = padding(h.len() as u64, self.alignment);
        h.resize(h.len() + pad as usize, 0);
        self.out.write_all(&h)
    }

    /// Appends `bytes` to the current tensor's data. A chunk may not run past the end of
    /// the tensor it belongs to; when a tensor is complete its padding is written and the
    /// next tensor becomes current.
    pub fn write_data(&mut self, bytes: &[u8]) -> Result<(), GgufError> {
        let Some((name, size)) = self.sizes.get(self.current) else {
            return Err(self.error(format!("{} data bytes after the last tensor", bytes.len())));
        };
        let left = size - self.written;
        if bytes.len() as u64 > left {
            return Err(self.error(format!(
                "tensor {name:?}: chunk of {} bytes, only {left} of its {size} bytes left",
                bytes.len()
            )));
        }
        self.out
            .write_all(bytes)
            .map_err(|e| GgufError::new(&self.path, ErrorKind::Io(e)))?;
        self.written += bytes.len() as u64;
        if self.written == *size {
            let pad = padding(*size, self.alignment) as usize;
            self.out
                .write_all(&vec![0u8; pad])
                .map_err(|e| GgufError::new(&self.path, ErrorKind::Io(e)))?;
            self.current += 1;
            self.written = 0;
            self.skip_empty_tensors()
                .map_err(|e| GgufError::new(&self.path, ErrorKind::Io(e)))?;
        }
        Ok(())
    }

    /// Zero-byte tensors need no data call.
    fn skip_empty_tensors(&mut self) -> std::io::Result<()> {
        while self.sizes.get(self.current).is_some_and(|&(_, s)| s == 0) {
            self.current += 1;
        }
        Ok(())
    }

    /// The tensor expecting data next, if any.
    pub fn current_tensor(&self) -> Option<&str> {
        self.sizes.get(self.current).map(|(n, _)| n.as_str())
    }

    /// Checks every tensor received all its bytes, flushes, and returns the sink.
    pub fn finish(mut self) -> Result<W, GgufError> {
        if let Some((name, size)) = self.sizes.get(self.current) {
            return Err(self.error(format!(
                "finished with tensor {name:?} at {} of {size} bytes ({} tensors not written)",
                self.written,
                self.sizes.len() - self.current
            )));
        }
        self.out
            .flush()
            .map_err(|e| GgufError::new(&self.path, ErrorKind::Io(e)))?;
        Ok(self.out)
    }

    fn error(&self, msg: String) -> GgufError {
        GgufError::new(&self.path, ErrorKind::Write(msg))
    }
}

fn padding(n: u64, alignment: u64) -> u64 {
    n.div_ceil(alignment) * alignment - n
}

fn put_str(h: &mut Vec<u8>, s: &str) {
    h.extend_from_slice(&(s.len() as u64).to_le_bytes());
    h.extend_from_slice(s.as_bytes());
}

fn put_value(h: &mut Vec<u8>, v: &MetaValue) {
    use MetaValue as V;
    match v {
        V::U8(x) => h.extend_from_slice(&x.to_le_bytes()),
        V::I8(x) => h.extend_from_slice(&x.to_le_bytes()),
        V::U16(x) => h.extend_from_slice(&x.to_le_bytes()),
        V::I16(x) => h.extend_from_slice(&x.to_le_bytes()),
        V::U32(x) => h.extend_from_slice(&x.to_le_bytes()),
        V::I32(x) => h.extend_from_slice(&x.to_le_bytes()),
        V::F32(x) => h.extend_from_slice(&x.to_le_bytes()),
        V::U64(x) => h.extend_from_slice(&x.to_le_bytes()),
        V::I64(x) => h.extend_from_slice(&x.to_le_bytes()),
        V::F64(x) => h.extend_from_slice(&x.to_le_bytes()),
        V::Bool(x) => h.push(u8::from(*x)),
        V::String(s) => put_str(h, s),
        V::Array(a) => put_array(h, a),
    }
}

fn put_array(h: &mut Vec<u8>, a: &MetaArray) {
    h.extend_from_slice(&(a.elem_type() as u32).to_le_bytes());
    h.extend_from_slice(&(a.len() as u64).to_le_bytes());
    fn all<T, const N: usize>(h: &mut Vec<u8>, v: &[T], f: impl Fn(&T) -> [u8; N]) {
        for x in v {
            h.extend_from_slice(&f(x));
        }
    }
    use MetaArray as A;
    match a {
        A::U8(v) => h.extend_from_slice(v),
        A::I8(v) => all(h, v, |x| x.to_le_bytes()),
        A::U16(v) => all(h, v, |x| x.to_le_bytes()),
        A::I16(v) => all(h, v, |x| x.to_le_bytes()),
        A::U32(v) => all(h, v, |x| x.to_le_bytes()),
        A::I32(v) => all(h, v, |x| x.to_le_bytes()),
        A::F32(v) => all(h, v, |x| x.to_le_bytes()),
        A::U64(v) => all(h, v, |x| x.to_le_bytes()),
        A::I64(v) => all(h, v, |x| x.to_le_bytes()),
        A::F64(v) => all(h, v, |x| x.to_le_bytes()),
        A::Bool(v) => all(h, v, |&x| [u8::from(x)]),
        A::String(v) => v.iter().for_each(|s| put_str(h, s)),
        A::Array(v) => v.iter().for_each(|inner| put_array(h, inner)),
    }
}
