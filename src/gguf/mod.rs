//! GGUF: the container every model arrives in (spec `shared/spec/gguf.md`).
//!
//! Owns: parsing and validating headers, metadata and tensor infos (`parse`), mapping
//! files (`mmap`, the only mmap in bitmoe), finding and merging split parts (`split`),
//! bounds-checked views of tensor data, and writing files (`writer`). Depends only on
//! `quant` (type sizes). Knows nothing about architectures: `schema/` interprets keys
//! and tensor names.
//!
//! Opening a model maps its files and parses the header region; tensor data pages are
//! not touched until a caller asks for a tensor's bytes.

pub mod error;
pub mod keys;
pub mod metadata;
pub mod mmap;
pub mod parse;
pub mod split;
pub mod tensor;
pub mod value;
pub mod writer;

use std::collections::HashMap;
use std::path::{Path, PathBuf};

pub use error::{ErrorKind, GgufError};
pub use metadata::{KeyTypeError, Metadata, PerLayer};
pub use mmap::MappedFile;
pub use parse::{parse, Header};
pub use tensor::TensorInfo;
pub use value::{MetaArray, MetaValue, ValueType};
pub use writer::{GgufWriter, TensorDecl};

/// One file of a (possibly split) model.
#[derive(Debug)]
pub struct Part {
    pub map: MappedFile,
    pub version: u32,
    pub alignment: u64,
    pub data_start: u64,
    /// Tensors stored in this part.
    pub n_tensors: usize,
    /// Sum of this part's tensor sizes (without padding).
    pub tensor_bytes: u64,
}

impl Part {
    pub fn path(&self) -> &Path {
        self.map.path()
    }

    pub fn file_size(&self) -> u64 {
        self.map.len()
    }

    /// Bytes from the data section's start to the end of the file.
    pub fn data_section_bytes(&self) -> u64 {
        self.file_size().saturating_sub(self.data_start)
    }
}

/// An opened model: all parts mapped, one metadata set (from the first part), one
/// tensor table over all parts.
#[derive(Debug)]
pub struct GgufFile {
    parts: Vec<Part>,
    metadata: Metadata,
    tensors: Vec<TensorInfo>,
    by_name: HashMap<String, usize>,
}

impl GgufFile {
    /// Opens a model. For the first part of a split model the other parts are found by
    /// name, validated and mapped; opening a later part is an error naming the first.
    pub fn open(path: impl AsRef<Path>) -> Result<Self, GgufError> {
        let path = path.as_ref();
        let (first, header) = open_part(path)?;
        let split_count = split_key(path, &header.metadata, keys::SPLIT_COUNT)?.unwrap_or(1);
        let split_no = split_key(path, &header.metadata, keys::SPLIT_NO)?.unwrap_or(0);
        if split_no != 0 {
            let first_path = split::parse_part_path(path)
                .map(|(prefix, _, count)| split::part_path(&prefix, 1, count))
                .unwrap_or_else(|| PathBuf::from("part 1 (split.no = 0)"));
            return Err(GgufError::new(
                path,
                ErrorKind::SplitLaterPart {
                    no: split_no as u32 + 1,
                    count: split_count as u32,
                    first: first_path,
                },
            ));
        }
        let expected_total = split_key(path, &header.metadata, keys::SPLIT_TENSORS_COUNT)?;

        let mut file = GgufFile {
            parts: Vec::new(),
            metadata: Metadata::new(),
            tensors: Vec::new(),
            by_name: HashMap::new(),
        };
        let Header { metadata, .. } = file.add_part(first, header)?;
        file.metadata = metadata;

        if split_count > 1 {
            let count = split_count as u32;
            let Some((prefix, _, name_count)) = split::parse_part_path(path) else {
                return Err(GgufError::new(path, ErrorKind::SplitUnnamed { count }));
            };
            if name_count != count {
                return Err(GgufError::new(
                    path,
                    ErrorKind::SplitMismatch {
                        key: "part count in the file name vs split.count",
                        expected: u64::from(count),
                        found: u64::from(name_count),
                    },
                ));
            }
            for no in 1..count {
                let part_path = split::part_path(&prefix, no + 1, count);
                if !part_path.exists() {
                    return Err(GgufError::new(
                        path,
                        ErrorKind::SplitMissingPart {
                            no: no + 1,
                            count,
                            missing: part_path,
                        },
                    ));
                }
                let (map, header) = open_part(&part_path)?;
                for (key, expected) in [
                    (keys::SPLIT_NO, u64::from(no)),
                    (keys::SPLIT_COUNT, u64::from(count)),
                ] {
                    let found = split_key(&part_path, &header.metadata, key)?;
                    if found != Some(expected) {
                        return Err(GgufError::new(
                            &part_path,
                            ErrorKind::SplitMismatch {
                                key,
                                expected,
                                found: found.unwrap_or(u64::MAX),
                            },
                        ));
                    }
                }
                file.add_part(map, header)?;
            }
        }
        if let Some(expected) = expected_total {
            let found = file.tensors.len() as u64;
            if found != expected {
                return Err(GgufError::new(
                    path,
                    ErrorKind::SplitTensorCount { expected, found },
                ));
            }
        }
        Ok(file)
    }

    /// Adds a part's tensors; returns the header with its metadata for the caller.
    fn add_part(&mut self, map: MappedFile, mut header: Header) -> Result<Header, GgufError> {
        let part = self.parts.len();
        let mut tensor_bytes = 0u64;
        for mut t in std::mem::take(&mut header.tensors) {
            t.part = part;
            tensor_bytes += t.n_bytes;
            if let Some(&other) = self.by_name.get(&t.name) {
                let other = self.parts[self.tensors[other].part].path().to_path_buf();
                return Err(GgufError::new(
                    map.path(),
                    ErrorKind::DuplicateTensor {
                        tensor: t.name,
                        other,
                    },
                ));
            }
            self.by_name.insert(t.name.clone(), self.tensors.len());
            self.tensors.push(t);
        }
        self.parts.push(Part {
            version: header.version,
            alignment: header.alignment,
            data_start: header.data_start,
            n_tensors: self.tensors.iter().filter(|t| t.part == part).count(),
            tensor_bytes,
            map,
        });
        Ok(header)
    }

    pub fn parts(&self) -> &[Part] {
        &self.parts
    }

    pub fn metadata(&self) -> &Metadata {
        &self.metadata
    }

    /// All tensors, in file order, part by part.
    pub fn tensors(&self) -> &[TensorInfo] {
        &self.tensors
    }

    pub fn tensor(&self, name: &str) -> Option<&TensorInfo> {
        self.by_name.get(name).map(|&i| &self.tensors[i])
    }

    /// The bytes of a tensor of this file. `None` for a `TensorInfo` that does not belong
    /// to this file (ranges of this file's tensors were validated at open).
    pub fn tensor_data(&self, t: &TensorInfo) -> Option<&[u8]> {
        let part = self.parts.get(t.part)?;
        let start = usize::try_from(part.data_start.checked_add(t.offset)?).ok()?;
        let end = start.checked_add(usize::try_from(t.n_bytes).ok()?)?;
        part.map.bytes().get(start..end)
    }

    /// Total bytes of all tensors (without padding).
    pub fn total_tensor_bytes(&self) -> u64 {
        self.parts.iter().map(|p| p.tensor_bytes).sum()
    }
}

fn open_part(path: &Path) -> Result<(MappedFile, Header), GgufError> {
    let map = MappedFile::open(path).map_err(|e| GgufError::new(path, ErrorKind::Io(e)))?;
    let header = parse(map.bytes(), path)?;
    Ok((map, header))
}

/// A split key as an unsigned integer (any integer width is accepted).
fn split_key(path: &Path, md: &Metadata, key: &'static str) -> Result<Option<u64>, GgufError> {
    md.get_u64(key).map_err(|e| {
        GgufError::new(
            path,
            ErrorKind::KeyType {
                key: e.key,
                expected: "a non-negative integer",
                found: e.found,
            },
        )
    })
}
