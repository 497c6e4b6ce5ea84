//! The executable as a memory source: its loadable segments at their link addresses (Go
//! executables are not position-independent by default, so these are the addresses the
//! process uses). Initialized data, read-only data (string literals, type descriptors,
//! `.go.buildinfo`) read as the file holds them; `.bss` reads as zeros.

use std::path::Path;
use std::sync::Arc;

use super::core::load_segments;
use super::{Backing, FileData, MemoryReader, ReadError, Segment, SegmentMap};

/// Reads an executable's loadable segments.
pub struct ExeReader {
    map: SegmentMap,
    name: String,
}

impl ExeReader {
    /// Opens the executable at `path`.
    pub fn open(path: &Path) -> Result<ExeReader, String> {
        Self::from_file(Arc::new(FileData::open(path)?))
    }

    /// Reads the executable `f`.
    pub fn from_file(f: Arc<FileData>) -> Result<ExeReader, String> {
        let segs = load_segments(&f)?
            .into_iter()
            .map(|(vaddr, offset, filesz, memsz)| Segment {
                addr: vaddr,
                len: memsz,
                backing: Backing::File {
                    file: f.clone(),
                    offset,
                    filesz: filesz.min(memsz),
                },
            })
            .collect();
        Ok(ExeReader {
            map: SegmentMap::new(segs),
            name: format!("executable {}", f.path().display()),
        })
    }
}

impl MemoryReader for ExeReader {
    fn read(&self, addr: u64, buf: &mut [u8]) -> Result<(), ReadError> {
        self.map.read(addr, buf).map_err(|reason| ReadError {
            addr,
            len: buf.len(),
            reason: format!("{reason} ({})", self.name),
        })
    }
    fn read_vec(&self, addr: u64, len: usize) -> Result<Vec<u8>, ReadError> {
        if !self.map.holds(addr, len as u64) {
            return Err(ReadError {
                addr,
                len,
                reason: format!("no segment of {} holds it", self.name),
            });
        }
        let mut v = vec![0u8; len];
        self.read(addr, &mut v)?;
        Ok(v)
    }
    fn describe(&self) -> String {
        self.name.clone()
    }
}
