//! Sources of memory: everything the decoder reads goes through [`MemoryReader`], which
//! bounds-checks each read against what the source holds and names the address on failure.
//!
//! Five sources implement it:
//! * [`ProcessReader`]: a live process, with `process_vm_readv`;
//! * [`CoreReader`]: an ELF core file (its `PT_LOAD` segments, and the file-backed mappings the
//!   core leaves out, found through its `NT_FILE` note and read from those files, as gdb does);
//! * [`SnapshotFile`] / [`SnapshotReader`]: a gomap snapshot, from a file or in memory;
//! * the demo (a [`SnapshotReader`] over the demo map's snapshot);
//! * [`ExeReader`]: the executable itself (its loadable segments: initialized data, and
//!   read-only data such as string literals and runtime type descriptors).
//!
//! Files are memory-mapped, or read in pieces with `pread` when they cannot be mapped (an
//! address-space limit): never read whole. Each source keeps its regions in a [`SegmentMap`],
//! sorted and disjoint, so finding the region of an address is a binary search.

mod core;
mod exe;
mod file;
mod process;
mod snapshot;

use std::fmt;
use std::sync::Arc;

pub use self::core::{is_elf, CoreInfo, CoreReader, FileMapping};
pub use exe::ExeReader;
pub use file::FileData;
pub use process::{permission_diagnosis, ProcessReader, NOT_MAPPED, PROCESS_CHUNK};
pub use snapshot::{SnapshotFile, SnapshotKind, SnapshotReader, MAX_REGIONS};

/// Why a read failed. Always names the address.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct ReadError {
    /// The address of the failed read.
    pub addr: u64,
    /// How many bytes were asked for.
    pub len: usize,
    /// Why it failed.
    pub reason: String,
}

impl fmt::Display for ReadError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(
            f,
            "cannot read {} bytes at {:#x}: {}",
            self.len, self.addr, self.reason
        )
    }
}

impl std::error::Error for ReadError {}

/// A source of memory: a snapshot, a live process, a core file, an executable.
pub trait MemoryReader {
    /// Reads `buf.len()` bytes at `addr`, all or nothing.
    fn read(&self, addr: u64, buf: &mut [u8]) -> Result<(), ReadError>;

    /// What the source is, for messages (`snapshot FILE`, `pid 1234`).
    fn describe(&self) -> String;

    /// Reads `len` bytes into a new vector. Sources that know their extent check it before
    /// allocating, so a wild length fails without allocating it.
    fn read_vec(&self, addr: u64, len: usize) -> Result<Vec<u8>, ReadError> {
        let mut v = vec![0u8; len];
        self.read(addr, &mut v)?;
        Ok(v)
    }

    /// Reads a little-endian u64.
    fn read_u64(&self, addr: u64) -> Result<u64, ReadError> {
        let mut b = [0u8; 8];
        self.read(addr, &mut b)?;
        Ok(u64::from_le_bytes(b))
    }
}

impl<R: MemoryReader + ?Sized> MemoryReader for &R {
    fn read(&self, addr: u64, buf: &mut [u8]) -> Result<(), ReadError> {
        (**self).read(addr, buf)
    }
    fn describe(&self) -> String {
        (**self).describe()
    }
    fn read_vec(&self, addr: u64, len: usize) -> Result<Vec<u8>, ReadError> {
        (**self).read_vec(addr, len)
    }
}

impl<R: MemoryReader + ?Sized> MemoryReader for Box<R> {
    fn read(&self, addr: u64, buf: &mut [u8]) -> Result<(), ReadError> {
        (**self).read(addr, buf)
    }
    fn describe(&self) -> String {
        (**self).describe()
    }
    fn read_vec(&self, addr: u64, len: usize) -> Result<Vec<u8>, ReadError> {
        (**self).read_vec(addr, len)
    }
}

/// Where a segment's bytes are.
#[derive(Clone, Debug)]
pub enum Backing {
    /// In a file, from `offset`; past `filesz` bytes the segment reads as zeros (an ELF
    /// segment's `p_memsz > p_filesz`: `.bss`).
    File {
        /// The file.
        file: Arc<FileData>,
        /// Offset of the segment's first byte.
        offset: u64,
        /// How many of the segment's bytes the file holds.
        filesz: u64,
    },
    /// In memory.
    Bytes(Arc<[u8]>, usize),
}

/// One region of memory: `len` bytes at `addr`.
#[derive(Clone, Debug)]
pub struct Segment {
    /// First address.
    pub addr: u64,
    /// Length in bytes.
    pub len: u64,
    /// Where the bytes are.
    pub backing: Backing,
}

impl Segment {
    fn end(&self) -> u64 {
        self.addr + self.len
    }

    /// Copies `buf.len()` bytes from offset `off` of the segment.
    fn copy(&self, off: u64, buf: &mut [u8]) -> Result<(), String> {
        match &self.backing {
            Backing::Bytes(b, start) => {
                let s = start + off as usize;
                buf.copy_from_slice(&b[s..s + buf.len()]);
                Ok(())
            }
            Backing::File {
                file,
                offset,
                filesz,
            } => {
                let n = buf.len() as u64;
                let in_file = filesz.saturating_sub(off).min(n) as usize;
                if in_file > 0 {
                    file.read_at(offset + off, &mut buf[..in_file])
                        .map_err(|e| format!("reading {}: {e}", file.path().display()))?;
                }
                buf[in_file..].fill(0);
                Ok(())
            }
        }
    }
}

/// Segments sorted by address and disjoint: reads find their segment by binary search and
/// may span adjacent segments.
#[derive(Clone, Debug, Default)]
pub struct SegmentMap {
    segs: Vec<Segment>,
}

impl SegmentMap {
    /// Builds the map from segments in any order. Where segments overlap, the bytes of the
    /// one that comes first in `segs` win (for a snapshot, two regions at one address hold
    /// the same memory).
    pub fn new(mut segs: Vec<Segment>) -> SegmentMap {
        segs.retain(|s| s.len > 0);
        // A stable sort keeps the input order among equal addresses.
        segs.sort_by_key(|s| s.addr);
        let mut out: Vec<Segment> = Vec::with_capacity(segs.len());
        for mut s in segs {
            if let Some(last) = out.last() {
                let end = last.end();
                if s.end() <= end {
                    continue;
                }
                if s.addr < end {
                    let cut = end - s.addr;
                    s.backing = match s.backing {
                        Backing::File {
                            file,
                            offset,
                            filesz,
                        } => Backing::File {
                            file,
                            offset: offset + cut,
                            filesz: filesz.saturating_sub(cut),
                        },
                        Backing::Bytes(b, start) => Backing::Bytes(b, start + cut as usize),
                    };
                    s.addr = end;
                    s.len -= cut;
                }
            }
            out.push(s);
        }
        SegmentMap { segs: out }
    }

    /// The segments, sorted.
    pub fn segments(&self) -> &[Segment] {
        &self.segs
    }

    /// Whether some segment holds `addr`.
    pub fn contains(&self, addr: u64) -> bool {
        self.find(addr).is_some()
    }

    fn find(&self, addr: u64) -> Option<usize> {
        let i = self.segs.partition_point(|s| s.addr <= addr);
        (i > 0 && addr < self.segs[i - 1].end()).then(|| i - 1)
    }

    /// Reads `buf.len()` bytes at `addr`. On failure, the reason (the caller adds the
    /// address).
    pub fn read(&self, addr: u64, buf: &mut [u8]) -> Result<(), String> {
        if buf.is_empty() {
            return Ok(());
        }
        if addr.checked_add(buf.len() as u64).is_none() {
            return Err("the range wraps around the address space".into());
        }
        let Some(mut i) = self.find(addr) else {
            return Err("no region holds it".into());
        };
        let mut at = addr;
        let mut done = 0usize;
        while done < buf.len() {
            let s = &self.segs[i];
            if at < s.addr || at >= s.end() {
                return Err(format!(
                    "only {done} bytes are held: the range runs past the end of a region at {at:#x}"
                ));
            }
            let n = ((s.end() - at) as usize).min(buf.len() - done);
            s.copy(at - s.addr, &mut buf[done..done + n])?;
            done += n;
            at += n as u64;
            i += 1;
            if done < buf.len() && i >= self.segs.len() {
                return Err(format!(
                    "only {done} bytes are held: the range runs past the last region"
                ));
            }
        }
        Ok(())
    }

    /// Whether `[addr, addr + len)` is entirely held (without reading it).
    pub fn holds(&self, addr: u64, len: u64) -> bool {
        let Some(mut i) = self.find(addr) else {
            return len == 0;
        };
        let Some(end) = addr.checked_add(len) else {
            return false;
        };
        let mut at = addr;
        loop {
            let s = &self.segs[i];
            if at < s.addr {
                return false;
            }
            if end <= s.end() {
                return true;
            }
            at = s.end();
            i += 1;
            if i >= self.segs.len() {
                return false;
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn bytes(addr: u64, b: &[u8]) -> Segment {
        Segment {
            addr,
            len: b.len() as u64,
            backing: Backing::Bytes(Arc::from(b), 0),
        }
    }

    #[test]
    fn reads_span_adjacent_segments_and_overlaps_keep_the_first() {
        let m = SegmentMap::new(vec![
            bytes(0x1010, &[9; 16]),
            bytes(0x1000, &[1; 16]),
            bytes(0x1008, &[7; 4]), // inside the first one: dropped
            bytes(0x1018, &[3; 16]),
        ]);
        assert_eq!(m.segments().len(), 3);
        let mut b = [0u8; 40];
        m.read(0x1000, &mut b).unwrap();
        assert_eq!(&b[..16], &[1; 16]);
        assert_eq!(&b[16..32], &[9; 16]);
        assert_eq!(&b[32..], &[3; 8]);
        assert!(m.read(0x1000, &mut [0u8; 41]).is_err());
        assert!(m.read(0xfff, &mut [0u8; 1]).is_err());
        assert!(m.holds(0x1004, 36) && !m.holds(0x1004, 37));
    }
}
