//! Parsing the header, key/value section and tensor infos of one GGUF file from its
//! bytes, and validating every tensor's byte range against the file.
//!
//! The parser is a bounds-checked cursor over a byte slice (the mmap of the file, or any
//! buffer in tests and the fuzz target). Nothing read from the file is trusted: every
//! count is capped both by an absolute limit and by the bytes left in the file before
//! anything is allocated, so a hostile header cannot make us allocate more than a small
//! multiple of the file's own size. The tensor data section is never touched.

use std::collections::HashMap;
use std::path::Path;

use super::error::{ErrorKind, GgufError};
use super::keys::GENERAL_ALIGNMENT;
use super::metadata::Metadata;
use super::tensor::TensorInfo;
use super::value::{MetaArray, MetaValue, ValueType};
use crate::quant::{QuantType, TypeIdProblem};

/// "GGUF" as it appears in the file.
pub const MAGIC: [u8; 4] = *b"GGUF";
/// Alignment when `general.alignment` is absent.
pub const DEFAULT_ALIGNMENT: u64 = 32;

/// Limits on untrusted sizes. Real models stay far below them: R1 has 1025 tensors,
/// ~50 keys and a 129k-entry vocabulary.
pub mod limits {
    pub const MAX_KEY_LEN: u64 = 65_535;
    pub const MAX_STRING_LEN: u64 = 256 << 20;
    pub const MAX_ARRAY_LEN: u64 = 16 << 20;
    pub const MAX_ARRAY_DEPTH: u32 = 8;
    pub const MAX_KV: u64 = 1 << 20;
    pub const MAX_TENSORS: u64 = 1 << 20;
    /// ggml's GGML_MAX_NAME is 64 including the terminating NUL.
    pub const MAX_TENSOR_NAME: usize = 63;
    pub const MAX_DIMS: u32 = 4;
}

/// Everything before the data section of one file, validated.
#[derive(Debug, Clone)]
pub struct Header {
    pub version: u32,
    pub metadata: Metadata,
    /// Tensor infos in file order (`part` = 0; the split loader renumbers).
    pub tensors: Vec<TensorInfo>,
    pub alignment: u64,
    /// Absolute offset of the data section.
    pub data_start: u64,
    pub file_size: u64,
}

struct Cursor<'a> {
    bytes: &'a [u8],
    pos: usize,
}

type Kind = ErrorKind;

impl<'a> Cursor<'a> {
    fn offset(&self) -> u64 {
        self.pos as u64
    }

    fn remaining(&self) -> u64 {
        (self.bytes.len() - self.pos) as u64
    }

    fn take(&mut self, n: u64, what: &'static str) -> Result<&'a [u8], Kind> {
        if n > self.remaining() {
            return Err(Kind::Truncated {
                offset: self.offset(),
                what,
                needed: n,
                available: self.remaining(),
            });
        }
        let n = n as usize; // n <= remaining, which is a usize
        let s = &self.bytes[self.pos..self.pos + n];
        self.pos += n;
        Ok(s)
    }

    fn array<const N: usize>(&mut self, what: &'static str) -> Result<[u8; N], Kind> {
        let s = self.take(N as u64, what)?;
        let mut a = [0u8; N];
        a.copy_from_slice(s);
        Ok(a)
    }

    fn u32(&mut self, what: &'static str) -> Result<u32, Kind> {
        self.array(what).map(u32::from_le_bytes)
    }

    fn u64(&mut self, what: &'static str) -> Result<u64, Kind> {
        self.array(what).map(u64::from_le_bytes)
    }

    /// A count checked against an absolute limit and against the bytes left, given the
    /// smallest encoding of one item.
    fn count(&mut self, what: &'static str, limit: u64, min_item_size: u64) -> Result<u64, Kind> {
        let offset = self.offset();
        let n = self.u64(what)?;
        if n > limit {
            return Err(Kind::TooLarge {
                offset,
                what,
                found: n,
                limit,
            });
        }
        let needed = n.saturating_mul(min_item_size);
        if needed > self.remaining() {
            return Err(Kind::Truncated {
                offset: self.offset(),
                what,
                needed,
                available: self.remaining(),
            });
        }
        Ok(n)
    }

    fn string(&mut self, what: &'static str, limit: u64) -> Result<String, Kind> {
        let offset = self.offset();
        let len = self.u64(what)?;
        if len > limit {
            return Err(Kind::TooLarge {
                offset,
                what,
                found: len,
                limit,
            });
        }
        let bytes = self.take(len, what)?;
        String::from_utf8(bytes.to_vec()).map_err(|_| Kind::InvalidUtf8 { offset, what })
    }
}

/// Parses and validates one GGUF file held in `bytes`. `path` only labels errors.
pub fn parse(bytes: &[u8], path: &Path) -> Result<Header, GgufError> {
    parse_inner(bytes).map_err(|kind| GgufError::new(path, kind))
}

fn parse_inner(bytes: &[u8]) -> Result<Header, Kind> {
    let mut c = Cursor { bytes, pos: 0 };
    let magic = c.take(4, "magic").map_err(|_| Kind::BadMagic {
        found: bytes[..bytes.len().min(4)].to_vec(),
    })?;
    if magic != MAGIC {
        return Err(Kind::BadMagic {
            found: magic.to_vec(),
        });
    }
    let version = c.u32("version")?;
    if version != 2 && version != 3 {
        return Err(Kind::UnsupportedVersion { found: version });
    }
    // Smallest tensor info: name len (8) + n_dims (4) + one dim (8) + type (4) + offset (8).
    let n_tensors = c.u64("tensor count")?;
    let n_kv = c.u64("metadata count")?;
    for (what, n, limit) in [
        ("tensor count", n_tensors, limits::MAX_TENSORS),
        ("metadata count", n_kv, limits::MAX_KV),
    ] {
        if n > limit {
            return Err(Kind::TooLarge {
                offset: if what == "tensor count" { 8 } else { 16 },
                what,
                found: n,
                limit,
            });
        }
    }

    let mut metadata = Metadata::new();
    for _ in 0..n_kv {
        let offset = c.offset();
        let key = c.string("metadata key", limits::MAX_KEY_LEN)?;
        if key.is_empty() {
            return Err(Kind::EmptyKey { offset });
        }
        let type_offset = c.offset();
        let type_id = c.u32("value type")?;
        let ty = ValueType::from_id(type_id).ok_or_else(|| Kind::UnknownValueType {
            offset: type_offset,
            key: key.clone(),
            found: type_id,
        })?;
        let value = read_value(&mut c, ty, &key, 0)?;
        if !metadata.insert_new(key.clone(), value) {
            return Err(Kind::DuplicateKey { offset, key });
        }
    }

    let alignment = match metadata.get(GENERAL_ALIGNMENT) {
        None => DEFAULT_ALIGNMENT,
        Some(MetaValue::U32(a)) if *a != 0 && a.is_power_of_two() => u64::from(*a),
        Some(v) => {
            return Err(Kind::BadAlignment {
                found: format!("{} {}", v.value_type().name(), v.summary(20)),
            })
        }
    };

    let mut tensors = Vec::with_capacity(n_tensors.min(4096) as usize);
    for _ in 0..n_tensors {
        tensors.push(read_tensor_info(&mut c)?);
    }

    let end_of_infos = c.offset();
    let data_start = end_of_infos.div_ceil(alignment) * alignment;
    let file_size = bytes.len() as u64;
    validate_tensors(&tensors, alignment, data_start, file_size)?;
    Ok(Header {
        version,
        metadata,
        tensors,
        alignment,
        data_start,
        file_size,
    })
}

fn read_value(c: &mut Cursor<'_>, ty: ValueType, key: &str, depth: u32) -> Result<MetaValue, Kind> {
    const W: &str = "metadata value";
    Ok(match ty {
        ValueType::U8 => MetaValue::U8(u8::from_le_bytes(c.array(W)?)),
        ValueType::I8 => MetaValue::I8(i8::from_le_bytes(c.array(W)?)),
        ValueType::U16 => MetaValue::U16(u16::from_le_bytes(c.array(W)?)),
        ValueType::I16 => MetaValue::I16(i16::from_le_bytes(c.array(W)?)),
        ValueType::U32 => MetaValue::U32(u32::from_le_bytes(c.array(W)?)),
        ValueType::I32 => MetaValue::I32(i32::from_le_bytes(c.array(W)?)),
        ValueType::F32 => MetaValue::F32(f32::from_le_bytes(c.array(W)?)),
        ValueType::U64 => MetaValue::U64(u64::from_le_bytes(c.array(W)?)),
        ValueType::I64 => MetaValue::I64(i64::from_le_bytes(c.array(W)?)),
        ValueType::F64 => MetaValue::F64(f64::from_le_bytes(c.array(W)?)),
        ValueType::Bool => MetaValue::Bool(read_bool(c, key)?),
        ValueType::String => MetaValue::String(c.string("string value", limits::MAX_STRING_LEN)?),
        ValueType::Array => MetaValue::Array(read_array(c, key, depth)?),
    })
}

fn read_bool(c: &mut Cursor<'_>, key: &str) -> Result<bool, Kind> {
    let offset = c.offset();
    match c.array::<1>("bool value")?[0] {
        0 => Ok(false),
        1 => Ok(true),
        found => Err(Kind::InvalidBool {
            offset,
            key: key.to_string(),
            found,
        }),
    }
}

fn read_array(c: &mut Cursor<'_>, key: &str, depth: u32) -> Result<MetaArray, Kind> {
    let offset = c.offset();
    if depth >= limits::MAX_ARRAY_DEPTH {
        return Err(Kind::NestedTooDeep {
            offset,
            key: key.to_string(),
            limit: limits::MAX_ARRAY_DEPTH,
        });
    }
    let type_id = c.u32("array element type")?;
    let ty = ValueType::from_id(type_id).ok_or_else(|| Kind::UnknownValueType {
        offset,
        key: key.to_string(),
        found: type_id,
    })?;
    let n = c.count("array length", limits::MAX_ARRAY_LEN, ty.min_size())? as usize;
    // Variable-size elements grow the vector as they are parsed, so memory follows the
    // bytes actually consumed even for nested arrays whose counts all claim the rest of
    // the file.
    const PREALLOC: usize = 4096;

    // Fixed-size elements: one bounds check, then decode from the slice.
    fn fixed<const N: usize, T>(
        c: &mut Cursor<'_>,
        n: usize,
        f: impl Fn([u8; N]) -> T,
    ) -> Result<Vec<T>, Kind> {
        let bytes = c.take((n * N) as u64, "array elements")?;
        Ok(bytes
            .chunks_exact(N)
            .map(|ch| f(ch.try_into().expect("chunks_exact yields N bytes")))
            .collect())
    }
    Ok(match ty {
        ValueType::U8 => MetaArray::U8(fixed(c, n, u8::from_le_bytes)?),
        ValueType::I8 => MetaArray::I8(fixed(c, n, i8::from_le_bytes)?),
        ValueType::U16 => MetaArray::U16(fixed(c, n, u16::from_le_bytes)?),
        ValueType::I16 => MetaArray::I16(fixed(c, n, i16::from_le_bytes)?),
        ValueType::U32 => MetaArray::U32(fixed(c, n, u32::from_le_bytes)?),
        ValueType::I32 => MetaArray::I32(fixed(c, n, i32::from_le_bytes)?),
        ValueType::F32 => MetaArray::F32(fixed(c, n, f32::from_le_bytes)?),
        ValueType::U64 => MetaArray::U64(fixed(c, n, u64::from_le_bytes)?),
        ValueType::I64 => MetaArray::I64(fixed(c, n, i64::from_le_bytes)?),
        ValueType::F64 => MetaArray::F64(fixed(c, n, f64::from_le_bytes)?),
        ValueType::Bool => {
            let mut v = Vec::with_capacity(n.min(PREALLOC));
            for _ in 0..n {
                v.push(read_bool(c, key)?);
            }
            MetaArray::Bool(v)
        }
        ValueType::String => {
            let mut v = Vec::with_capacity(n.min(PREALLOC));
            for _ in 0..n {
                v.push(c.string("string array element", limits::MAX_STRING_LEN)?);
            }
            MetaArray::String(v)
        }
        ValueType::Array => {
            let mut v = Vec::with_capacity(n.min(PREALLOC));
            for _ in 0..n {
                v.push(read_array(c, key, depth + 1)?);
            }
            MetaArray::Array(v)
        }
    })
}

fn read_tensor_info(c: &mut Cursor<'_>) -> Result<TensorInfo, Kind> {
    let offset = c.offset();
    let name = c.string("tensor name", limits::MAX_KEY_LEN)?;
    if name.is_empty() || name.len() > limits::MAX_TENSOR_NAME {
        return Err(Kind::BadTensorName {
            offset,
            problem: if name.is_empty() {
                "is empty"
            } else {
                "is longer than 63 bytes"
            },
            name,
        });
    }
    let n_dims = c.u32("tensor dimension count")?;
    if n_dims == 0 || n_dims > limits::MAX_DIMS {
        return Err(Kind::BadDimCount {
            offset,
            tensor: name,
            found: n_dims,
        });
    }
    let mut dims = Vec::with_capacity(n_dims as usize);
    for _ in 0..n_dims {
        dims.push(c.u64("tensor dimension")?);
    }
    let type_id = c.u32("tensor type")?;
    let ty = QuantType::from_id(type_id).map_err(|problem| match problem {
        TypeIdProblem::Removed => Kind::RemovedTensorType {
            tensor: name.clone(),
            id: type_id,
        },
        TypeIdProblem::Unknown => Kind::UnknownTensorType {
            tensor: name.clone(),
            id: type_id,
        },
    })?;
    let data_offset = c.u64("tensor data offset")?;
    let n_bytes = ty.tensor_bytes(&dims).map_err(|problem| Kind::BadShape {
        tensor: name.clone(),
        ty,
        dims: dims.clone(),
        problem,
    })?;
    Ok(TensorInfo {
        name,
        dims,
        ty,
        offset: data_offset,
        n_bytes,
        part: 0,
    })
}

/// Every tensor aligned, inside the file, not overlapping another, uniquely named.
fn validate_tensors(
    tensors: &[TensorInfo],
    alignment: u64,
    data_start: u64,
    file_size: u64,
) -> Result<(), Kind> {
    let mut names: HashMap<&str, ()> = HashMap::with_capacity(tensors.len());
    for t in tensors {
        if names.insert(t.name.as_str(), ()).is_some() {
            return Err(Kind::DuplicateTensor {
                tensor: t.name.clone(),
                other: "the same file".into(),
            });
        }
        if t.offset % alignment != 0 {
            return Err(Kind::MisalignedTensor {
                tensor: t.name.clone(),
                offset: t.offset,
                alignment,
            });
        }
        let start = data_start.checked_add(t.offset);
        let end = start.and_then(|s| s.checked_add(t.n_bytes));
        match (start, end) {
            (Some(_), Some(end)) if end <= file_size => {}
            _ => {
                return Err(Kind::TensorOutOfFile {
                    tensor: t.name.clone(),
                    start: start.unwrap_or(u64::MAX),
                    end: end.unwrap_or(u64::MAX),
                    file_size,
                })
            }
        }
    }
    let mut order: Vec<&TensorInfo> = tensors.iter().filter(|t| t.n_bytes > 0).collect();
    order.sort_by_key(|t| t.offset);
    for pair in order.windows(2) {
        // Offsets and sizes were checked above not to overflow.
        if pair[0].offset + pair[0].n_bytes > pair[1].offset {
            return Err(Kind::OverlappingTensors {
                first: pair[0].name.clone(),
                second: pair[1].name.clone(),
            });
        }
    }
    Ok(())
}
