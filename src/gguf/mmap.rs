//! Read-only memory maps of model files: the one place bitmoe creates an mmap.

use std::fs::File;
use std::io;
use std::path::{Path, PathBuf};

use memmap2::Mmap;

/// A whole file mapped read-only.
///
/// The contract of mapping a file, stated once: the bytes behind the map are only sound
/// to read while no process truncates or rewrites the file. bitmoe never writes to a file
/// it has mapped, and model files are not modified while a model runs; if another
/// process does truncate one anyway, reading the lost pages raises SIGBUS (the process
/// stops) rather than returning torn data. Everything else in bitmoe reaches the bytes
/// through `bytes()`, a plain `&[u8]` whose length is the file size at open time, and
/// through bounds-checked sub-slices of it.
#[derive(Debug)]
pub struct MappedFile {
    path: PathBuf,
    map: Mmap,
}

impl MappedFile {
    pub fn open(path: &Path) -> io::Result<Self> {
        let file = File::open(path)?;
        // SAFETY: read-only map; see the contract on `MappedFile`: the file is not
        // truncated or modified while mapped, so every byte of the slice stays readable.
        let map = unsafe { Mmap::map(&file)? };
        Ok(MappedFile {
            path: path.to_path_buf(),
            map,
        })
    }

    pub fn path(&self) -> &Path {
        &self.path
    }

    pub fn bytes(&self) -> &[u8] {
        &self.map
    }

    pub fn len(&self) -> u64 {
        self.map.len() as u64
    }

    pub fn is_empty(&self) -> bool {
        self.map.is_empty()
    }
}
