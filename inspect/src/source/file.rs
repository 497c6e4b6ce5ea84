//! A file read as it is used: memory-mapped, or read in pieces with `pread` when it cannot be
//! mapped (an address-space limit, a file system without mmap).

use std::fs::File;
use std::path::{Path, PathBuf};

/// An open file, mapped when possible.
#[derive(Debug)]
pub struct FileData {
    path: PathBuf,
    file: File,
    map: Option<memmap2::Mmap>,
    len: u64,
}

impl FileData {
    /// Opens `path` (a regular file) and maps it; if mapping fails, reads go through `pread`.
    pub fn open(path: &Path) -> Result<FileData, String> {
        let file = File::open(path).map_err(|e| format!("cannot open {}: {e}", path.display()))?;
        let meta = file
            .metadata()
            .map_err(|e| format!("cannot read {}: {e}", path.display()))?;
        if meta.is_dir() {
            return Err(format!("{} is a directory, not a file", path.display()));
        }
        let len = meta.len();
        let map = if len == 0 {
            None
        } else {
            // SAFETY: the map is read-only and private to this process; another process may
            // change or truncate the file meanwhile, which at worst gives wrong bytes or a
            // SIGBUS in a debugging tool reading its input (the contract of every mmap reader
            // of core files, gdb included). The bytes are only ever copied out, never trusted
            // as Rust values.
            unsafe { memmap2::Mmap::map(&file) }.ok()
        };
        Ok(FileData {
            path: path.to_path_buf(),
            file,
            map,
            len,
        })
    }

    /// The file's path.
    pub fn path(&self) -> &Path {
        &self.path
    }

    /// Its size in bytes.
    pub fn len(&self) -> u64 {
        self.len
    }

    /// Whether it is empty.
    pub fn is_empty(&self) -> bool {
        self.len == 0
    }

    /// Whether the file is memory-mapped (else it is read with `pread`).
    pub fn is_mapped(&self) -> bool {
        self.map.is_some()
    }

    /// The whole file as bytes, when it is mapped.
    pub fn mapped(&self) -> Option<&[u8]> {
        self.map.as_deref()
    }

    /// Reads `buf.len()` bytes at offset `off`.
    pub fn read_at(&self, off: u64, buf: &mut [u8]) -> std::io::Result<()> {
        let end = off.checked_add(buf.len() as u64);
        if end.map_or(true, |e| e > self.len) {
            return Err(std::io::Error::new(
                std::io::ErrorKind::UnexpectedEof,
                format!(
                    "{} bytes at offset {off} are past the end of the file ({} bytes)",
                    buf.len(),
                    self.len
                ),
            ));
        }
        match &self.map {
            Some(m) => {
                buf.copy_from_slice(&m[off as usize..off as usize + buf.len()]);
                Ok(())
            }
            None => read_exact_at(&self.file, buf, off),
        }
    }

    /// Reads `len` bytes at `off` into a new vector (checked against the file size first).
    pub fn read_vec(&self, off: u64, len: usize) -> std::io::Result<Vec<u8>> {
        if off.checked_add(len as u64).map_or(true, |e| e > self.len) {
            return Err(std::io::Error::new(
                std::io::ErrorKind::UnexpectedEof,
                format!("{len} bytes at offset {off} are past the end of the file"),
            ));
        }
        let mut v = vec![0u8; len];
        self.read_at(off, &mut v)?;
        Ok(v)
    }
}

/// Reads exactly `buf.len()` bytes at offset `off` of `file`, without moving a shared cursor
/// (`pread` on Unix, `ReadFile` with an offset on Windows).
#[cfg(unix)]
fn read_exact_at(file: &File, buf: &mut [u8], off: u64) -> std::io::Result<()> {
    std::os::unix::fs::FileExt::read_exact_at(file, buf, off)
}

/// Reads exactly `buf.len()` bytes at offset `off` of `file`, without moving a shared cursor
/// (`pread` on Unix, `ReadFile` with an offset on Windows).
#[cfg(windows)]
fn read_exact_at(file: &File, mut buf: &mut [u8], mut off: u64) -> std::io::Result<()> {
    while !buf.is_empty() {
        match std::os::windows::fs::FileExt::seek_read(file, buf, off) {
            Ok(0) => {
                return Err(std::io::Error::new(
                    std::io::ErrorKind::UnexpectedEof,
                    "the file ended before the bytes asked for",
                ))
            }
            Ok(n) => {
                buf = &mut buf[n..];
                off += n as u64;
            }
            Err(e) if e.kind() == std::io::ErrorKind::Interrupted => {}
            Err(e) => return Err(e),
        }
    }
    Ok(())
}
