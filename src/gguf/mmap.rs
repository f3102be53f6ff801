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

/// Page-cache residency, for benchmarks that start from a cold disk (`bench --cold`).
impl MappedFile {
    /// Drops this process's mappings of the file's pages and asks the kernel to evict
    /// them from the page cache. Pages another process maps, or dirty pages, stay;
    /// [`MappedFile::cached_bytes`] says how much did.
    #[cfg(target_os = "linux")]
    pub fn evict_from_page_cache(&self) -> io::Result<()> {
        use std::os::fd::AsRawFd;
        if self.map.is_empty() {
            return Ok(());
        }
        // SAFETY: MADV_DONTNEED on a read-only, file-backed shared mapping only drops
        // the page-table entries; the next read faults the same bytes back in from the
        // file (no zero-fill, which is what makes DontNeed unsafe for private or
        // anonymous maps). No reference into the map is invalidated.
        unsafe {
            self.map
                .unchecked_advise(memmap2::UncheckedAdvice::DontNeed)?
        };
        let file = File::open(&self.path)?;
        // SAFETY: posix_fadvise takes a valid open descriptor and only advises the
        // kernel; it touches no memory of ours.
        let rc = unsafe { libc::posix_fadvise(file.as_raw_fd(), 0, 0, libc::POSIX_FADV_DONTNEED) };
        if rc != 0 {
            return Err(io::Error::from_raw_os_error(rc));
        }
        Ok(())
    }

    #[cfg(not(target_os = "linux"))]
    pub fn evict_from_page_cache(&self) -> io::Result<()> {
        Err(io::Error::new(
            io::ErrorKind::Unsupported,
            "evicting a file from the page cache needs posix_fadvise (Linux)",
        ))
    }

    /// Bytes of the file now in the page cache (mincore over the map).
    #[cfg(target_os = "linux")]
    pub fn cached_bytes(&self) -> io::Result<u64> {
        if self.map.is_empty() {
            return Ok(0);
        }
        // SAFETY: sysconf has no preconditions.
        let page = unsafe { libc::sysconf(libc::_SC_PAGESIZE) }.max(4096) as usize;
        let pages = self.map.len().div_ceil(page);
        let mut vec = vec![0u8; pages];
        // SAFETY: the range is exactly our live mapping (page-aligned start, length
        // rounded up inside the last page) and `vec` has one byte per page of it.
        let rc = unsafe {
            libc::mincore(
                self.map.as_ptr() as *mut libc::c_void,
                self.map.len(),
                vec.as_mut_ptr(),
            )
        };
        if rc != 0 {
            return Err(io::Error::last_os_error());
        }
        let resident = vec.iter().filter(|&&b| b & 1 != 0).count();
        Ok((resident * page).min(self.map.len()) as u64)
    }

    #[cfg(not(target_os = "linux"))]
    pub fn cached_bytes(&self) -> io::Result<u64> {
        Err(io::Error::new(
            io::ErrorKind::Unsupported,
            "page-cache residency needs mincore (Linux)",
        ))
    }
}
