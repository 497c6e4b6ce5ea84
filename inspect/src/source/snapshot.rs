//! gomap snapshots as memory sources: a snapshot in memory (the demo's), or a snapshot file
//! indexed in place (format version 1 for classic maps, 2 for Swiss-table maps, documented
//! in gomap's `snapshot` module).

use std::path::Path;
use std::sync::Arc;

use gomap::layout::BucketLayout;
use gomap::snapshot::{
    swiss_header, RegionKind, Snapshot, SnapshotError, SwissLayoutInfo, MAGIC, VERSION,
    VERSION_SWISS,
};

use super::{Backing, FileData, MemoryReader, ReadError, Segment, SegmentMap};

/// Reads from the regions of a [`Snapshot`] in memory.
pub struct SnapshotReader {
    map: SegmentMap,
    name: String,
}

impl SnapshotReader {
    /// A reader over `snap`, described as `name`. The regions are indexed once, so that each
    /// read is a binary search.
    pub fn new(snap: &Snapshot, name: impl Into<String>) -> Self {
        let total: usize = snap.regions.iter().map(|r| r.bytes.len()).sum();
        let mut all = Vec::with_capacity(total);
        let mut starts = Vec::with_capacity(snap.regions.len());
        for r in &snap.regions {
            starts.push(all.len());
            all.extend_from_slice(&r.bytes);
        }
        let all: Arc<[u8]> = Arc::from(all);
        let segs = snap
            .regions
            .iter()
            .zip(starts)
            .map(|(r, start)| Segment {
                addr: r.addr,
                len: r.bytes.len() as u64,
                backing: Backing::Bytes(all.clone(), start),
            })
            .collect();
        SnapshotReader {
            map: SegmentMap::new(segs),
            name: name.into(),
        }
    }
}

fn snapshot_read(map: &SegmentMap, name: &str, addr: u64, buf: &mut [u8]) -> Result<(), ReadError> {
    map.read(addr, buf).map_err(|reason| ReadError {
        addr,
        len: buf.len(),
        reason: if reason == "no region holds it" {
            format!("not in {name} (no region holds it)")
        } else {
            format!("{reason} ({name})")
        },
    })
}

impl MemoryReader for SnapshotReader {
    fn read(&self, addr: u64, buf: &mut [u8]) -> Result<(), ReadError> {
        snapshot_read(&self.map, &self.name, addr, buf)
    }
    /// Checks that the regions hold the bytes before allocating: a corrupt snapshot cannot
    /// make the reader allocate more than the snapshot holds.
    fn read_vec(&self, addr: u64, len: usize) -> Result<Vec<u8>, ReadError> {
        if !self.map.holds(addr, len as u64) {
            return Err(ReadError {
                addr,
                len,
                reason: format!("not in {} (no region holds it)", self.name),
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

/// The most regions a snapshot file may have: the index takes about 48 bytes per region.
pub const MAX_REGIONS: u64 = 8 << 20;

/// What map a snapshot file holds.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum SnapshotKind {
    /// A classic map (version 1).
    Classic {
        /// The bucket layout.
        layout: BucketLayout,
        /// Go's bucket type has no pointers.
        pointer_free: bool,
    },
    /// A Swiss-table map (version 2).
    Swiss {
        /// The key type's size.
        key_size: u64,
        /// The elem type's size.
        elem_size: u64,
        /// Keys are stored through pointers.
        indirect_key: bool,
        /// Elems are stored through pointers.
        indirect_elem: bool,
        /// The group type has no pointers.
        pointer_free: bool,
        /// The header and group layout.
        layout: SwissLayoutInfo,
    },
}

/// A snapshot file, indexed where it lies: the header is parsed, each region's address and
/// file offset recorded, and the bytes read only when the decoder asks for them.
pub struct SnapshotFile {
    /// The map kind and its layout.
    pub kind: SnapshotKind,
    /// The key type name.
    pub key_type: String,
    /// The elem type name.
    pub elem_type: String,
    /// Address of the map's header (`hmap`, or a Swiss `Map`).
    pub hmap: u64,
    /// Number of regions.
    pub nregions: u64,
    /// The file size.
    pub file_size: u64,
    map: SegmentMap,
    name: String,
}

/// Reads a file front to back through a window, so that parsing millions of small region
/// headers costs few system calls when the file is not mapped.
struct Seq<'a> {
    f: &'a FileData,
    off: u64,
    win: Vec<u8>,
    win_off: u64,
}

impl Seq<'_> {
    const WINDOW: usize = 1 << 16;

    fn take(&mut self, n: usize) -> Result<Vec<u8>, SnapshotError> {
        let trunc = SnapshotError::Truncated {
            offset: self.off as usize,
            need: n,
        };
        let end = self.off.checked_add(n as u64).ok_or(trunc.clone())?;
        if end > self.f.len() {
            return Err(trunc);
        }
        if let Some(m) = self.f.mapped() {
            let v = m[self.off as usize..end as usize].to_vec();
            self.off = end;
            return Ok(v);
        }
        let win_end = self.win_off + self.win.len() as u64;
        if self.off < self.win_off || end > win_end {
            let len = (self.f.len() - self.off).min(Self::WINDOW.max(n) as u64) as usize;
            self.win = self.f.read_vec(self.off, len).map_err(|e| {
                SnapshotError::Invalid(format!("reading at offset {}: {e}", self.off))
            })?;
            self.win_off = self.off;
        }
        let s = (self.off - self.win_off) as usize;
        let v = self.win[s..s + n].to_vec();
        self.off = end;
        Ok(v)
    }
    fn u8(&mut self) -> Result<u8, SnapshotError> {
        Ok(self.take(1)?[0])
    }
    fn u16(&mut self) -> Result<u16, SnapshotError> {
        let b = self.take(2)?;
        Ok(u16::from_le_bytes([b[0], b[1]]))
    }
    fn u32(&mut self) -> Result<u32, SnapshotError> {
        Ok(u32::from_le_bytes(self.take(4)?.try_into().expect("4")))
    }
    fn u64(&mut self) -> Result<u64, SnapshotError> {
        Ok(u64::from_le_bytes(self.take(8)?.try_into().expect("8")))
    }
    fn string(&mut self) -> Result<String, SnapshotError> {
        let n = self.u16()? as usize;
        String::from_utf8(self.take(n)?)
            .map_err(|_| SnapshotError::Invalid("type name is not UTF-8".into()))
    }
}

impl SnapshotFile {
    /// Opens and indexes a snapshot file. Errors are [`SnapshotError`]s (or a message when
    /// the file cannot be opened).
    pub fn open(path: &Path) -> Result<SnapshotFile, Result<SnapshotError, String>> {
        let f = Arc::new(FileData::open(path).map_err(Err)?);
        let name = format!("snapshot {}", path.display());
        Self::index(f, name).map_err(Ok)
    }

    fn index(f: Arc<FileData>, name: String) -> Result<SnapshotFile, SnapshotError> {
        let mut c = Seq {
            f: &f,
            off: 0,
            win: Vec::new(),
            win_off: 0,
        };
        if c.take(8).map_err(|_| SnapshotError::NotASnapshot)? != MAGIC {
            return Err(SnapshotError::NotASnapshot);
        }
        let version = c.u32()?;
        if version == VERSION_SWISS {
            let head: [u8; 4] = c.take(4)?.try_into().expect("4");
            let sizes = [c.u64()?, c.u64()?];
            let key_type = c.string()?;
            let elem_type = c.string()?;
            let go_version = c.string()?;
            let mut words = [0u64; 6];
            for w in &mut words {
                *w = c.u64()?;
            }
            let (flags, layout) = swiss_header(head, sizes, go_version, words)?;
            let kind = SnapshotKind::Swiss {
                key_size: sizes[0],
                elem_size: sizes[1],
                indirect_key: flags & 1 != 0,
                indirect_elem: flags & 2 != 0,
                pointer_free: flags & 4 != 0,
                layout,
            };
            return Self::regions(f.clone(), c, kind, key_type, elem_type, words[5], name);
        }
        if version != VERSION {
            return Err(SnapshotError::Version(version));
        }
        let ptr_size = c.u8()?;
        if ptr_size != 8 {
            return Err(SnapshotError::Invalid(format!(
                "pointer size {ptr_size}; only 64-bit snapshots are supported"
            )));
        }
        let flags = c.u8()?;
        if flags & !7 != 0 {
            return Err(SnapshotError::Invalid(format!("unknown flags {flags:#x}")));
        }
        c.u16()?;
        let key_size = c.u64()?;
        let elem_size = c.u64()?;
        if key_size > 1 << 16 || elem_size > 1 << 16 {
            return Err(SnapshotError::Invalid(format!(
                "key size {key_size} or elem size {elem_size} above 65536"
            )));
        }
        let (ik, ie) = (flags & 1 != 0, flags & 2 != 0);
        if (key_size > 128 && !ik) || (elem_size > 128 && !ie) {
            return Err(SnapshotError::Invalid(
                "a key or elem above 128 bytes must be indirect".into(),
            ));
        }
        let layout = BucketLayout::with_indirection(key_size as usize, elem_size as usize, ik, ie);
        let key_type = c.string()?;
        let elem_type = c.string()?;
        let hmap = c.u64()?;
        let kind = SnapshotKind::Classic {
            layout,
            pointer_free: flags & 4 != 0,
        };
        Self::regions(f.clone(), c, kind, key_type, elem_type, hmap, name)
    }

    /// Indexes the regions that follow the header.
    fn regions(
        f: Arc<FileData>,
        mut c: Seq<'_>,
        kind: SnapshotKind,
        key_type: String,
        elem_type: String,
        hmap: u64,
        name: String,
    ) -> Result<SnapshotFile, SnapshotError> {
        let n = c.u32()? as u64;
        // Each region needs at least 17 bytes: reject counts the file cannot hold.
        if n > (f.len() - c.off) / 17 {
            return Err(SnapshotError::Truncated {
                offset: c.off as usize,
                need: (n as usize).saturating_mul(17),
            });
        }
        if n > MAX_REGIONS {
            return Err(SnapshotError::Invalid(format!(
                "{n} regions; at most {MAX_REGIONS} are indexed"
            )));
        }
        let mut segs = Vec::with_capacity(n as usize);
        for _ in 0..n {
            let kb = c.u8()?;
            RegionKind::from_u8(kb)
                .ok_or_else(|| SnapshotError::Invalid(format!("unknown region kind {kb}")))?;
            let addr = c.u64()?;
            let len = c.u64()?;
            if addr.checked_add(len).is_none() {
                return Err(SnapshotError::Invalid(format!(
                    "region at {addr:#x} wraps the address space"
                )));
            }
            let at = c.off;
            if at.checked_add(len).map_or(true, |e| e > f.len()) {
                return Err(SnapshotError::Truncated {
                    offset: at as usize,
                    need: usize::try_from(len).unwrap_or(usize::MAX),
                });
            }
            segs.push(Segment {
                addr,
                len,
                backing: Backing::File {
                    file: f.clone(),
                    offset: at,
                    filesz: len,
                },
            });
            c.off = at + len;
        }
        if c.off != f.len() {
            return Err(SnapshotError::Invalid(format!(
                "{} bytes of garbage after the last region",
                f.len() - c.off
            )));
        }
        Ok(SnapshotFile {
            kind,
            key_type,
            elem_type,
            hmap,
            nregions: n,
            file_size: f.len(),
            map: SegmentMap::new(segs),
            name,
        })
    }
}

impl MemoryReader for SnapshotFile {
    fn read(&self, addr: u64, buf: &mut [u8]) -> Result<(), ReadError> {
        snapshot_read(&self.map, &self.name, addr, buf)
    }
    fn read_vec(&self, addr: u64, len: usize) -> Result<Vec<u8>, ReadError> {
        if !self.map.holds(addr, len as u64) {
            return Err(ReadError {
                addr,
                len,
                reason: format!("not in {} (no region holds it)", self.name),
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
