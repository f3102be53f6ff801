//! Errors of the GGUF reader and writer. Every error names the file; the kind says what
//! was wrong and where (byte offset, key or tensor, expected vs found), so a user with a
//! broken 131 GB download learns which part and which byte to look at.

use std::io;
use std::path::{Path, PathBuf};

use crate::quant::ShapeProblem;

/// An error reading or writing one GGUF file.
#[derive(Debug, thiserror::Error)]
#[error("{}: {kind}", path.display())]
pub struct GgufError {
    pub path: PathBuf,
    pub kind: ErrorKind,
}

impl GgufError {
    pub fn new(path: &Path, kind: ErrorKind) -> Self {
        GgufError {
            path: path.to_path_buf(),
            kind,
        }
    }
}

/// What was wrong. Offsets are byte offsets from the start of the file.
#[derive(Debug, thiserror::Error)]
pub enum ErrorKind {
    #[error("cannot open or read: {0}")]
    Io(#[from] io::Error),
    #[error(
        "not a GGUF file: the first 4 bytes are {found:02x?}, expected \"GGUF\" (47 47 55 46)"
    )]
    BadMagic { found: Vec<u8> },
    #[error("unsupported GGUF version {found} (this reader supports 2 and 3)")]
    UnsupportedVersion { found: u32 },
    #[error(
        "truncated at offset {offset}: {what} needs {needed} bytes, the file has {available} left"
    )]
    Truncated {
        offset: u64,
        what: &'static str,
        needed: u64,
        available: u64,
    },
    #[error("offset {offset}: {what} is {found}, more than the limit {limit}")]
    TooLarge {
        offset: u64,
        what: &'static str,
        found: u64,
        limit: u64,
    },
    #[error("offset {offset}: {what} is not valid UTF-8")]
    InvalidUtf8 { offset: u64, what: &'static str },
    #[error("offset {offset}: empty metadata key")]
    EmptyKey { offset: u64 },
    #[error("offset {offset}: duplicate metadata key {key:?}")]
    DuplicateKey { offset: u64, key: String },
    #[error("offset {offset}: key {key:?} has unknown value type {found} (known: 0..=12)")]
    UnknownValueType {
        offset: u64,
        key: String,
        found: u32,
    },
    #[error("offset {offset}: key {key:?} has a bool byte {found}, expected 0 or 1")]
    InvalidBool { offset: u64, key: String, found: u8 },
    #[error("offset {offset}: key {key:?} nests arrays deeper than {limit}")]
    NestedTooDeep {
        offset: u64,
        key: String,
        limit: u32,
    },
    #[error("general.alignment must be a non-zero power of two stored as u32, found {found}")]
    BadAlignment { found: String },
    #[error("offset {offset}: tensor name {name:?} {problem}")]
    BadTensorName {
        offset: u64,
        name: String,
        problem: &'static str,
    },
    #[error("offset {offset}: tensor {tensor:?} has {found} dimensions, expected 1 to 4")]
    BadDimCount {
        offset: u64,
        tensor: String,
        found: u32,
    },
    #[error("tensor {tensor:?} has unknown GGML type id {id}")]
    UnknownTensorType { tensor: String, id: u32 },
    #[error("tensor {tensor:?} has GGML type id {id}, which ggml removed; requantize the file")]
    RemovedTensorType { tensor: String, id: u32 },
    #[error("tensor {tensor:?} of type {ty} with shape {dims:?}: {problem}")]
    BadShape {
        tensor: String,
        ty: crate::quant::QuantType,
        dims: Vec<u64>,
        problem: ShapeProblem,
    },
    #[error(
        "tensor {tensor:?}: data offset {offset} is not a multiple of the alignment {alignment}"
    )]
    MisalignedTensor {
        tensor: String,
        offset: u64,
        alignment: u64,
    },
    #[error(
        "tensor {tensor:?}: data bytes {start}..{end} lie outside the file ({file_size} bytes)"
    )]
    TensorOutOfFile {
        tensor: String,
        start: u64,
        end: u64,
        file_size: u64,
    },
    #[error("tensors {first:?} and {second:?} overlap in the data section")]
    OverlappingTensors { first: String, second: String },
    #[error("duplicate tensor name {tensor:?} (also in {})", other.display())]
    DuplicateTensor { tensor: String, other: PathBuf },
    #[error("this is part {no} of a {count}-part split model; open {} instead", first.display())]
    SplitLaterPart { no: u32, count: u32, first: PathBuf },
    #[error("part {no} of a {count}-part split model is missing: {}", missing.display())]
    SplitMissingPart {
        no: u32,
        count: u32,
        missing: PathBuf,
    },
    #[error("split model: the name does not follow <prefix>-00001-of-{count:05}.gguf, so the other parts cannot be found")]
    SplitUnnamed { count: u32 },
    #[error("split part: {key} is {found}, expected {expected}")]
    SplitMismatch {
        key: &'static str,
        expected: u64,
        found: u64,
    },
    #[error("split model: the parts hold {found} tensors, split.tensors.count says {expected}")]
    SplitTensorCount { expected: u64, found: u64 },
    #[error("metadata key {key:?} is {found}, expected {expected}")]
    KeyType {
        key: String,
        expected: &'static str,
        found: String,
    },
    #[error("metadata key {key:?} is missing")]
    MissingKey { key: String },
    #[error("writer: {0}")]
    Write(String),
}
