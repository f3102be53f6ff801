//! Reading expert bytes from the model files without a second copy in the page cache:
//! O_DIRECT on Linux (F_NOCACHE on macOS), falling back to buffered reads followed by
//! `POSIX_FADV_DONTNEED` where the filesystem refuses direct I/O (tmpfs, some overlay
//! filesystems).
//!
//! Direct I/O needs the buffer address, file offset and length aligned to the device's
//! logical block size; [`ALIGN`] (4096) covers every common device. Callers read the
//! aligned span around the bytes they want ([`aligned_span`]) into page-aligned slabs.

use std::fs::File;
use std::io;
use std::os::unix::fs::FileExt;
use std::path::Path;

/// Alignment of direct reads: offsets, lengths and buffer addresses.
pub const ALIGN: u64 = 4096;

/// The `ALIGN`-aligned byte span `[start, end)` covering `offset..offset + len`, and
/// where the wanted bytes begin inside it.
pub fn aligned_span(offset: u64, len: u64) -> (u64, u64, usize) {
    let start = offset / ALIGN * ALIGN;
    let end = (offset + len).div_ceil(ALIGN) * ALIGN;
    (start, end, (offset - start) as usize)
}

/// One model file opened for expert reads.
#[derive(Debug)]
pub struct ExpertFile {
    file: File,
    /// Reads bypass the page cache.
    pub direct: bool,
}

impl ExpertFile {
    /// Opens `path` for direct reads, or buffered when direct I/O is refused.
    pub fn open(path: &Path) -> io::Result<ExpertFile> {
        if let Some(file) = open_direct(path) {
            return Ok(ExpertFile { file, direct: true });
        }
        Ok(ExpertFile {
            file: File::open(path)?,
            direct: false,
        })
    }

    /// Fills `buf` from `offset` (both `ALIGN`-aligned for direct files); bytes past the
    /// end of the file are left as they are. Buffered reads are dropped from the page
    /// cache afterwards.
    pub fn read_at(&self, buf: &mut [u8], offset: u64) -> io::Result<()> {
        let mut done = 0;
        while done < buf.len() {
            match self.file.read_at(&mut buf[done..], offset + done as u64) {
                Ok(0) => break, // end of file
                Ok(n) => done += n,
                Err(e) if e.kind() == io::ErrorKind::Interrupted => {}
                Err(e) => return Err(e),
            }
        }
        if !self.direct {
            drop_cached(&self.file, offset, buf.len() as u64);
        }
        Ok(())
    }
}

#[cfg(target_os = "linux")]
fn open_direct(path: &Path) -> Option<File> {
    use std::os::unix::fs::OpenOptionsExt;
    let file = std::fs::OpenOptions::new()
        .read(true)
        .custom_flags(libc::O_DIRECT)
        .open(path)
        .ok()?;
    // Some filesystems accept O_DIRECT at open and fail the first read: probe one block.
    let mut probe = AlignedBuf::new(ALIGN as usize).ok()?;
    file.read_at(probe.as_mut_slice(), 0).ok()?;
    Some(file)
}

#[cfg(target_os = "macos")]
fn open_direct(path: &Path) -> Option<File> {
    use std::os::fd::AsRawFd;
    let file = File::open(path).ok()?;
    // SAFETY: fcntl on a descriptor we own, with an integer argument; no memory is
    // passed.
    let r = unsafe { libc::fcntl(file.as_raw_fd(), libc::F_NOCACHE, 1) };
    (r != -1).then_some(file)
}

#[cfg(not(any(target_os = "linux", target_os = "macos")))]
fn open_direct(_path: &Path) -> Option<File> {
    None
}

#[cfg(target_os = "linux")]
fn drop_cached(file: &File, offset: u64, len: u64) {
    use std::os::fd::AsRawFd;
    // SAFETY: posix_fadvise on a descriptor we own with plain integer arguments; it only
    // advises the kernel and touches no memory of ours.
    unsafe {
        libc::posix_fadvise(
            file.as_raw_fd(),
            offset as libc::off_t,
            len as libc::off_t,
            libc::POSIX_FADV_DONTNEED,
        );
    }
}

#[cfg(not(target_os = "linux"))]
fn drop_cached(_file: &File, _offset: u64, _len: u64) {}

/// A zeroed, page-aligned buffer (anonymous mapping), as direct I/O requires.
#[derive(Debug)]
pub struct AlignedBuf(memmap2::MmapMut);

impl AlignedBuf {
    pub fn new(len: usize) -> io::Result<AlignedBuf> {
        Ok(AlignedBuf(
            memmap2::MmapOptions::new().len(len.max(1)).map_anon()?,
        ))
    }

    pub fn as_slice(&self) -> &[u8] {
        &self.0
    }

    pub fn as_mut_slice(&mut self) -> &mut [u8] {
        &mut self.0
    }

    pub fn len(&self) -> usize {
        self.0.len()
    }

    pub fn is_empty(&self) -> bool {
        self.0.is_empty()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn spans_cover_the_wanted_bytes() {
        assert_eq!(aligned_span(0, 1), (0, 4096, 0));
        assert_eq!(aligned_span(4095, 2), (0, 8192, 4095));
        assert_eq!(aligned_span(8192, 4096), (8192, 12288, 0));
    }

    #[test]
    fn reads_the_same_bytes_direct_or_not() {
        let dir = tempfile::tempdir().unwrap();
        let p = dir.path().join("f.bin");
        let data: Vec<u8> = (0..20_000u32).map(|i| (i * 7 % 251) as u8).collect();
        std::fs::write(&p, &data).unwrap();
        let f = ExpertFile::open(&p).unwrap();
        let (start, end, inner) = aligned_span(5000, 9000);
        let mut buf = AlignedBuf::new((end - start) as usize).unwrap();
        f.read_at(buf.as_mut_slice(), start).unwrap();
        assert_eq!(&buf.as_slice()[inner..inner + 9000], &data[5000..14000]);
        // The tail past the end of the file reads as far as the file goes.
        let (start, end, inner) = aligned_span(18_000, 2000);
        let mut buf = AlignedBuf::new((end - start) as usize).unwrap();
        f.read_at(buf.as_mut_slice(), start).unwrap();
        assert_eq!(&buf.as_slice()[inner..inner + 2000], &data[18_000..]);
    }
}
