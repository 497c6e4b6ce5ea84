//! Snapshots: a map's memory, every region with its original address, in a documented file
//! format that `map-inspect dump FILE` reads.
//!
//! A snapshot holds the bucket layout, the types, the address of the `hmap`, and the regions
//! the map's memory consists of: the header, `extra`, the overflow lists, the bucket arrays,
//! the heap overflow buckets, and for live entries the indirect keys and elems and the bytes of
//! Go strings. Addresses are the ones the map had when the snapshot was taken, so a reader can
//! follow every pointer inside the snapshot exactly as in the live process.
//!
//! # File format, version 1
//! All integers are little-endian.
//!
//! ```text
//! magic        8 bytes   "GOMAPSNP"
//! version      u32       1
//! ptr_size     u8        8
//! flags        u8        bit 0: indirect key, bit 1: indirect elem, bit 2: pointer-free bucket
//! reserved     u16       0
//! key_size     u64       size of the key type
//! elem_size    u64       size of the elem type
//! key_type     u16 length, then UTF-8: a Go type name ("uint64", "string", "[20]uint8") or
//!                        "rust:" followed by a Rust type name
//! elem_type    u16 length, then UTF-8: as key_type
//! hmap         u64       address of the header
//! nregions     u32
//! regions      nregions times:
//!   kind       u8        see RegionKind
//!   addr       u64
//!   len        u64
//!   bytes      len bytes
//! ```
//!
//! Readers must check every length against the file size before allocating (see
//! [`Snapshot::from_bytes`], which does); version 1 files hold at most 2^32 regions and 2^40
//! bytes in total.
//!
//! # File format, version 2: Swiss-table maps
//! Go 1.24+'s Swiss-table maps ([`SwissSnapshot`]), as `map-inspect dump --save-snapshot`
//! takes them from a Go process or a core file. Classic maps are still written as version 1,
//! byte for byte as before, so every version 1 file stays readable and every reader of
//! version 1 still reads what this crate writes for a classic map.
//!
//! ```text
//! magic        8 bytes   "GOMAPSNP"
//! version      u32       2
//! ptr_size     u8        8
//! flags        u8        bit 0: indirect key, bit 1: indirect elem, bit 2: the group type has
//!                        no pointers, bit 3: the header has tombstonePossible (Go 1.25+),
//!                        bit 4: split groups {ctrl; keys[8]; elems[8]} (GOEXPERIMENT=mapsplitgroup)
//! kind         u8        2: a Swiss-table map
//! reserved     u8        0
//! key_size     u64       size of the key type
//! elem_size    u64       size of the elem type
//! key_type     u16 length, then UTF-8: the Go type name
//! elem_type    u16 length, then UTF-8
//! go_version   u16 length, then UTF-8: the Go release that built the program ("1.25.5")
//! group_size   u64       the group's size (GroupSize)
//! keys_off     u64       offset of key 0 in a group
//! key_stride   u64       bytes from one key to the next
//! elems_off    u64       offset of elem 0
//! elem_stride  u64       bytes from one elem to the next
//! map          u64       address of the Map header
//! nregions     u32
//! regions      as in version 1 (kinds SwissMap, Directory, Table, Groups, and for full slots
//!              IndirectKey, IndirectElem, StringData)
//! ```

use alloc_crate::string::String;
use alloc_crate::vec::Vec;
use core::fmt;

use allocator_api2::alloc::Allocator;

use crate::dynamic::{DynMap, GoType};
use crate::layout::{bucket_shift, BucketLayout, GoSlice, Hmap, MapExtra, MIN_TOP_HASH};
use crate::rand::RandSource;
use crate::view::{BucketKind, NoUninit, RawView};
use crate::GoMap;

/// The file's magic bytes.
pub const MAGIC: &[u8; 8] = b"GOMAPSNP";
/// The format version of classic-map snapshots ([`Snapshot`]).
pub const VERSION: u32 = 1;
/// The format version of Swiss-table snapshots ([`SwissSnapshot`]).
pub const VERSION_SWISS: u32 = 2;
/// The `kind` byte of a version 2 snapshot of a Swiss-table map.
pub const KIND_SWISS: u8 = 2;
/// The largest snapshot file [`Snapshot::from_bytes`] accepts (1 TiB).
pub const MAX_FILE: usize = 1 << 40;

/// What a region of memory is.
#[derive(Copy, Clone, Debug, PartialEq, Eq, Hash, PartialOrd, Ord)]
#[repr(u8)]
pub enum RegionKind {
    /// The 48-byte `hmap`.
    Hmap = 1,
    /// The 24-byte `mapextra`.
    Extra = 2,
    /// An overflow list's slice header (`[]*bmap`, 24 bytes).
    SliceHeader = 3,
    /// An overflow list's backing array.
    SliceData = 4,
    /// The current bucket array, preallocated overflow buckets included.
    Buckets = 5,
    /// The old bucket array.
    OldBuckets = 6,
    /// A heap overflow bucket.
    HeapBucket = 7,
    /// An indirect key.
    IndirectKey = 8,
    /// An indirect elem.
    IndirectElem = 9,
    /// The bytes of a Go string.
    StringData = 10,
    /// A Swiss-table map's 48-byte `Map` header.
    SwissMap = 11,
    /// A Swiss-table map's directory (`dirLen` table pointers).
    Directory = 12,
    /// A Swiss table (32 bytes).
    Table = 13,
    /// A table's group array, or a small map's one group.
    Groups = 14,
}

impl RegionKind {
    /// The kind for a byte in the file.
    pub fn from_u8(b: u8) -> Option<Self> {
        use RegionKind::*;
        Some(match b {
            1 => Hmap,
            2 => Extra,
            3 => SliceHeader,
            4 => SliceData,
            5 => Buckets,
            6 => OldBuckets,
            7 => HeapBucket,
            8 => IndirectKey,
            9 => IndirectElem,
            10 => StringData,
            11 => SwissMap,
            12 => Directory,
            13 => Table,
            14 => Groups,
            _ => return None,
        })
    }
    /// A short name.
    pub fn name(self) -> &'static str {
        use RegionKind::*;
        match self {
            Hmap => "hmap",
            Extra => "mapextra",
            SliceHeader => "overflow list header",
            SliceData => "overflow list data",
            Buckets => "buckets",
            OldBuckets => "oldbuckets",
            HeapBucket => "heap overflow bucket",
            IndirectKey => "indirect key",
            IndirectElem => "indirect elem",
            StringData => "string data",
            SwissMap => "Swiss map header",
            Directory => "directory",
            Table => "table",
            Groups => "groups",
        }
    }
}

/// One region of memory at its original address.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Region {
    /// What it is.
    pub kind: RegionKind,
    /// Its address in the process the snapshot was taken from.
    pub addr: u64,
    /// Its bytes.
    pub bytes: Vec<u8>,
}

/// A map's memory at one moment.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Snapshot {
    /// The bucket layout.
    pub layout: BucketLayout,
    /// Go's bucket type has no pointers.
    pub pointer_free: bool,
    /// The key type: a Go type name, or `rust:` and a Rust type name.
    pub key_type: String,
    /// The elem type, as `key_type`.
    pub elem_type: String,
    /// Address of the `hmap`.
    pub hmap: u64,
    /// The regions, in the order they were taken.
    pub regions: Vec<Region>,
}

/// Why a snapshot file could not be read.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum SnapshotError {
    /// The file does not start with `GOMAPSNP`.
    NotASnapshot,
    /// The file is a snapshot of another version.
    Version(u32),
    /// The file ends before a field that needs `need` bytes at `offset`.
    Truncated {
        /// Where the field starts.
        offset: usize,
        /// How many bytes it needs.
        need: usize,
    },
    /// A field holds an impossible value.
    Invalid(String),
}

impl fmt::Display for SnapshotError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            SnapshotError::NotASnapshot => f.write_str("not a gomap snapshot (no GOMAPSNP magic)"),
            SnapshotError::Version(v) => write!(
                f,
                "snapshot version {v}; this build reads versions {VERSION} (classic maps) and \
                 {VERSION_SWISS} (Swiss-table maps)"
            ),
            SnapshotError::Truncated { offset, need } => {
                write!(
                    f,
                    "snapshot truncated: {need} bytes needed at offset {offset}"
                )
            }
            SnapshotError::Invalid(s) => write!(f, "corrupt snapshot: {s}"),
        }
    }
}

impl core::error::Error for SnapshotError {}

struct Cursor<'a> {
    b: &'a [u8],
    off: usize,
}

impl<'a> Cursor<'a> {
    fn take(&mut self, n: usize) -> Result<&'a [u8], SnapshotError> {
        let end = self.off.checked_add(n).filter(|&e| e <= self.b.len());
        match end {
            Some(e) => {
                let s = &self.b[self.off..e];
                self.off = e;
                Ok(s)
            }
            None => Err(SnapshotError::Truncated {
                offset: self.off,
                need: n,
            }),
        }
    }
    fn u8(&mut self) -> Result<u8, SnapshotError> {
        Ok(self.take(1)?[0])
    }
    fn u16(&mut self) -> Result<u16, SnapshotError> {
        let b = self.take(2)?;
        Ok(u16::from_le_bytes([b[0], b[1]]))
    }
    fn u32(&mut self) -> Result<u32, SnapshotError> {
        let mut w = [0u8; 4];
        w.copy_from_slice(self.take(4)?);
        Ok(u32::from_le_bytes(w))
    }
    fn u64(&mut self) -> Result<u64, SnapshotError> {
        let mut w = [0u8; 8];
        w.copy_from_slice(self.take(8)?);
        Ok(u64::from_le_bytes(w))
    }
    fn string(&mut self) -> Result<String, SnapshotError> {
        let n = self.u16()? as usize;
        let b = self.take(n)?;
        core::str::from_utf8(b)
            .map(String::from)
            .map_err(|_| SnapshotError::Invalid("type name is not UTF-8".into()))
    }
}

impl Snapshot {
    /// The file bytes (format version 1).
    pub fn to_bytes(&self) -> Vec<u8> {
        let mut out = Vec::new();
        out.extend_from_slice(MAGIC);
        out.extend_from_slice(&VERSION.to_le_bytes());
        out.push(core::mem::size_of::<usize>() as u8);
        let l = &self.layout;
        out.push(
            l.indirect_key as u8 | (l.indirect_elem as u8) << 1 | (self.pointer_free as u8) << 2,
        );
        out.extend_from_slice(&0u16.to_le_bytes());
        out.extend_from_slice(&(l.key_size as u64).to_le_bytes());
        out.extend_from_slice(&(l.elem_size as u64).to_le_bytes());
        for s in [&self.key_type, &self.elem_type] {
            write_string(&mut out, s);
        }
        out.extend_from_slice(&self.hmap.to_le_bytes());
        write_regions(&mut out, &self.regions);
        out
    }

    /// Parses a snapshot file, checking every length against the input before allocating.
    pub fn from_bytes(b: &[u8]) -> Result<Snapshot, SnapshotError> {
        if b.len() > MAX_FILE {
            return Err(SnapshotError::Invalid("file larger than 1 TiB".into()));
        }
        let mut c = Cursor { b, off: 0 };
        if c.take(8).map_err(|_| SnapshotError::NotASnapshot)? != MAGIC {
            return Err(SnapshotError::NotASnapshot);
        }
        let version = c.u32()?;
        if version != VERSION {
            return Err(SnapshotError::Version(version));
        }
        let ptr_size = c.u8()?;
        if ptr_size != 8 {
            return Err(SnapshotError::Invalid(alloc_crate::format!(
                "pointer size {ptr_size}; only 64-bit snapshots are supported"
            )));
        }
        let flags = c.u8()?;
        if flags & !7 != 0 {
            return Err(SnapshotError::Invalid(alloc_crate::format!(
                "unknown flags {flags:#x}"
            )));
        }
        c.u16()?;
        let key_size = c.u64()?;
        let elem_size = c.u64()?;
        if key_size > 1 << 16 || elem_size > 1 << 16 {
            return Err(SnapshotError::Invalid(alloc_crate::format!(
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
        let regions = read_regions(&mut c)?;
        Ok(Snapshot {
            layout,
            pointer_free: flags & 4 != 0,
            key_type,
            elem_type,
            hmap,
            regions,
        })
    }

    /// The bytes at `[addr, addr + len)` if one region holds all of them.
    pub fn read(&self, addr: u64, len: usize) -> Option<&[u8]> {
        read_in(&self.regions, addr, len)
    }
}

fn read_in(regions: &[Region], addr: u64, len: usize) -> Option<&[u8]> {
    regions.iter().find_map(|r| {
        let off = addr.checked_sub(r.addr)? as usize;
        let end = off.checked_add(len)?;
        (end <= r.bytes.len()).then(|| &r.bytes[off..end])
    })
}

fn write_regions(out: &mut Vec<u8>, regions: &[Region]) {
    out.extend_from_slice(&(regions.len() as u32).to_le_bytes());
    for r in regions {
        out.push(r.kind as u8);
        out.extend_from_slice(&r.addr.to_le_bytes());
        out.extend_from_slice(&(r.bytes.len() as u64).to_le_bytes());
        out.extend_from_slice(&r.bytes);
    }
}

fn write_string(out: &mut Vec<u8>, s: &str) {
    let b = &s.as_bytes()[..s.len().min(u16::MAX as usize)];
    out.extend_from_slice(&(b.len() as u16).to_le_bytes());
    out.extend_from_slice(b);
}

/// Reads the region count and the regions, to the end of the input.
fn read_regions(c: &mut Cursor<'_>) -> Result<Vec<Region>, SnapshotError> {
    let n = c.u32()? as usize;
    // Each region needs at least 17 bytes: reject counts the file cannot hold.
    if n > (c.b.len() - c.off) / 17 {
        return Err(SnapshotError::Truncated {
            offset: c.off,
            need: n.saturating_mul(17),
        });
    }
    let mut regions = Vec::with_capacity(n);
    for _ in 0..n {
        let kb = c.u8()?;
        let kind = RegionKind::from_u8(kb).ok_or_else(|| {
            SnapshotError::Invalid(alloc_crate::format!("unknown region kind {kb}"))
        })?;
        let addr = c.u64()?;
        let len = c.u64()?;
        let len = usize::try_from(len).map_err(|_| SnapshotError::Truncated {
            offset: c.off,
            need: usize::MAX,
        })?;
        if addr.checked_add(len as u64).is_none() {
            return Err(SnapshotError::Invalid(alloc_crate::format!(
                "region at {addr:#x} wraps the address space"
            )));
        }
        let bytes = c.take(len)?.to_vec();
        regions.push(Region { kind, addr, bytes });
    }
    if c.off != c.b.len() {
        return Err(SnapshotError::Invalid(alloc_crate::format!(
            "{} bytes of garbage after the last region",
            c.b.len() - c.off
        )));
    }
    Ok(regions)
}

/// The largest group a Swiss snapshot may describe (a group of 8 slots of two indirect
/// or 128-byte values is at most 2056 bytes).
pub const MAX_SWISS_GROUP: u64 = 1 << 12;

/// A Swiss-table map's layout, as a version 2 snapshot records it.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct SwissLayoutInfo {
    /// The Go release that built the program (`1.25.5`).
    pub go_version: String,
    /// The `Map` header has `tombstonePossible` (Go 1.25+).
    pub tombstone_possible: bool,
    /// Groups are `{ctrl; keys[8]; elems[8]}` (Go 1.27 `GOEXPERIMENT=mapsplitgroup`).
    pub split: bool,
    /// The group's size (`GroupSize`).
    pub group_size: u64,
    /// Offset of key 0 in a group.
    pub keys_off: u64,
    /// Bytes from one key to the next.
    pub key_stride: u64,
    /// Offset of elem 0 in a group.
    pub elems_off: u64,
    /// Bytes from one elem to the next.
    pub elem_stride: u64,
}

/// A Swiss-table map's memory at one moment (file format version 2). The regions are the
/// `Map` header, the directory, the tables and their group arrays (or a small map's group),
/// and for full slots the indirect keys and elems and the bytes of Go strings.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct SwissSnapshot {
    /// The key type's size.
    pub key_size: u64,
    /// The elem type's size.
    pub elem_size: u64,
    /// Keys are stored through pointers (over 128 bytes).
    pub indirect_key: bool,
    /// Elems are stored through pointers.
    pub indirect_elem: bool,
    /// The group type has no pointers.
    pub pointer_free: bool,
    /// The key type: a Go type name.
    pub key_type: String,
    /// The elem type.
    pub elem_type: String,
    /// The header and group layout.
    pub layout: SwissLayoutInfo,
    /// Address of the `Map` header.
    pub map: u64,
    /// The regions, in the order they were taken.
    pub regions: Vec<Region>,
}

impl SwissSnapshot {
    /// The file bytes (format version 2).
    pub fn to_bytes(&self) -> Vec<u8> {
        let l = &self.layout;
        let mut out = Vec::new();
        out.extend_from_slice(MAGIC);
        out.extend_from_slice(&VERSION_SWISS.to_le_bytes());
        out.push(8);
        out.push(
            self.indirect_key as u8
                | (self.indirect_elem as u8) << 1
                | (self.pointer_free as u8) << 2
                | (l.tombstone_possible as u8) << 3
                | (l.split as u8) << 4,
        );
        out.push(KIND_SWISS);
        out.push(0);
        out.extend_from_slice(&self.key_size.to_le_bytes());
        out.extend_from_slice(&self.elem_size.to_le_bytes());
        write_string(&mut out, &self.key_type);
        write_string(&mut out, &self.elem_type);
        write_string(&mut out, &l.go_version);
        for v in [
            l.group_size,
            l.keys_off,
            l.key_stride,
            l.elems_off,
            l.elem_stride,
            self.map,
        ] {
            out.extend_from_slice(&v.to_le_bytes());
        }
        write_regions(&mut out, &self.regions);
        out
    }

    /// Parses a version 2 snapshot file, checking every length against the input before
    /// allocating and the group layout against the types.
    pub fn from_bytes(b: &[u8]) -> Result<SwissSnapshot, SnapshotError> {
        if b.len() > MAX_FILE {
            return Err(SnapshotError::Invalid("file larger than 1 TiB".into()));
        }
        let mut c = Cursor { b, off: 0 };
        if c.take(8).map_err(|_| SnapshotError::NotASnapshot)? != MAGIC {
            return Err(SnapshotError::NotASnapshot);
        }
        let version = c.u32()?;
        if version != VERSION_SWISS {
            return Err(SnapshotError::Version(version));
        }
        let mut head = [0u8; 4];
        head.copy_from_slice(c.take(4)?);
        let mut nums = [0u64; 2];
        for n in &mut nums {
            *n = c.u64()?;
        }
        let key_type = c.string()?;
        let elem_type = c.string()?;
        let go_version = c.string()?;
        let mut words = [0u64; 6];
        for w in &mut words {
            *w = c.u64()?;
        }
        let (flags, layout) = swiss_header(head, nums, go_version, words)?;
        let regions = read_regions(&mut c)?;
        Ok(SwissSnapshot {
            key_size: nums[0],
            elem_size: nums[1],
            indirect_key: flags & 1 != 0,
            indirect_elem: flags & 2 != 0,
            pointer_free: flags & 4 != 0,
            key_type,
            elem_type,
            layout,
            map: words[5],
            regions,
        })
    }

    /// The bytes at `[addr, addr + len)` if one region holds all of them.
    pub fn read(&self, addr: u64, len: usize) -> Option<&[u8]> {
        read_in(&self.regions, addr, len)
    }
}

/// Checks the fixed part of a version 2 header: `head` is (ptr_size, flags, kind,
/// reserved), `sizes` (key_size, elem_size), `words` (group_size, keys_off, key_stride,
/// elems_off, elem_stride, map). Returns the flags and the layout. Shared by every reader
/// of the format (map-inspect indexes files in place with it).
pub fn swiss_header(
    head: [u8; 4],
    sizes: [u64; 2],
    go_version: String,
    words: [u64; 6],
) -> Result<(u8, SwissLayoutInfo), SnapshotError> {
    let [ptr_size, flags, kind, _] = head;
    if ptr_size != 8 {
        return Err(SnapshotError::Invalid(alloc_crate::format!(
            "pointer size {ptr_size}; only 64-bit snapshots are supported"
        )));
    }
    if flags & !0x1f != 0 {
        return Err(SnapshotError::Invalid(alloc_crate::format!(
            "unknown flags {flags:#x}"
        )));
    }
    if kind != KIND_SWISS {
        return Err(SnapshotError::Invalid(alloc_crate::format!(
            "map kind {kind}; version 2 holds Swiss-table maps (kind {KIND_SWISS})"
        )));
    }
    let [key_size, elem_size] = sizes;
    if key_size > 1 << 16 || elem_size > 1 << 16 {
        return Err(SnapshotError::Invalid(alloc_crate::format!(
            "key size {key_size} or elem size {elem_size} above 65536"
        )));
    }
    let (ik, ie) = (flags & 1 != 0, flags & 2 != 0);
    if (key_size > 128) != ik || (elem_size > 128) != ie {
        return Err(SnapshotError::Invalid(
            "a key or elem is indirect exactly when it is above 128 bytes".into(),
        ));
    }
    let [group_size, keys_off, key_stride, elems_off, elem_stride, _map] = words;
    let ks = if ik { 8 } else { key_size };
    let es = if ie { 8 } else { elem_size };
    let fits = |off: u64, stride: u64, size: u64| {
        off >= 8
            && stride >= size
            && stride <= group_size
            && off
                .checked_add(7 * stride)
                .and_then(|e| e.checked_add(size))
                .is_some_and(|e| e <= group_size)
    };
    if group_size <= 8
        || group_size > MAX_SWISS_GROUP
        || !fits(keys_off, key_stride, ks)
        || !fits(elems_off, elem_stride, es)
    {
        return Err(SnapshotError::Invalid(alloc_crate::format!(
            "group layout (size {group_size}, keys at {keys_off} every {key_stride}, elems at \
             {elems_off} every {elem_stride}) does not fit keys of {ks} and elems of {es} bytes"
        )));
    }
    Ok((
        flags,
        SwissLayoutInfo {
            go_version,
            tombstone_possible: flags & 8 != 0,
            split: flags & 16 != 0,
            group_size,
            keys_off,
            key_stride,
            elems_off,
            elem_stride,
        },
    ))
}

/// Collects the regions of a map from its raw view. `key_data`/`elem_data` give, for a live
/// key or elem slot's bytes, the extra region it points to (string data), if any.
fn collect<K: NoUninit + ?Sized, V: NoUninit + ?Sized>(
    v: RawView<'_, K, V>,
    string_key: bool,
    string_elem: bool,
) -> Vec<Region> {
    let l = v.layout();
    let h = v.header();
    let mut regions = Vec::new();
    let hptr = h as *const Hmap as *const u8;
    // SAFETY: `h` is a live `Hmap`: 48 initialized bytes (no padding: the fields are
    // contiguous, count 8 + flags 1 + B 1 + noverflow 2 + hash0 4 + 4 pointer-sized words).
    let hbytes = unsafe { core::slice::from_raw_parts(hptr, Hmap::SIZE) };
    regions.push(Region {
        kind: RegionKind::Hmap,
        addr: hptr as u64,
        bytes: hbytes.to_vec(),
    });
    if let Some(e) = v.extra() {
        let eptr = e as *const MapExtra as *const u8;
        // SAFETY: a live `MapExtra`: three pointers, no padding.
        let eb = unsafe { core::slice::from_raw_parts(eptr, MapExtra::SIZE) };
        regions.push(Region {
            kind: RegionKind::Extra,
            addr: eptr as u64,
            bytes: eb.to_vec(),
        });
        for s in [e.overflow(), e.oldoverflow()] {
            if s == 0 {
                continue;
            }
            // SAFETY: a non-null list pointer points to a live `GoSlice` (three words) whose
            // data holds `cap` initialized-or-zeroed words; we copy `len` of them.
            unsafe {
                let sh = core::slice::from_raw_parts(s as *const u8, GoSlice::SIZE);
                regions.push(Region {
                    kind: RegionKind::SliceHeader,
                    addr: s as u64,
                    bytes: sh.to_vec(),
                });
                let gs = &*(s as *const GoSlice);
                if gs.len != 0 {
                    let d = core::slice::from_raw_parts(gs.ptr as *const u8, gs.len * 8);
                    regions.push(Region {
                        kind: RegionKind::SliceData,
                        addr: gs.ptr as u64,
                        bytes: d.to_vec(),
                    });
                }
            }
        }
    }
    for (kind, n, get) in [
        (RegionKind::Buckets, v.array_len(), 0),
        (RegionKind::OldBuckets, v.old_array_len(), 1),
    ] {
        if n == 0 {
            continue;
        }
        let first = if get == 0 {
            v.bucket(0)
        } else {
            v.old_bucket(0)
        };
        let Some(first) = first else { continue };
        let mut bytes = Vec::with_capacity(n * l.bucketsize);
        for i in 0..n {
            let b = if get == 0 {
                v.bucket(i)
            } else {
                v.old_bucket(i)
            };
            if let Some(b) = b {
                bytes.extend_from_slice(b.bytes());
            }
        }
        regions.push(Region {
            kind,
            addr: first.addr() as u64,
            bytes,
        });
    }
    // Heap overflow buckets, and what live slots point to.
    let mut seen = alloc_crate::collections::BTreeSet::new();
    let heads: Vec<_> = v.buckets().chain(v.old_buckets()).collect();
    for head in heads {
        let live_chain = !(matches!(head.kind(), BucketKind::Old(_)) && head.evacuated());
        for b in v.chain(head) {
            if b.kind() == BucketKind::Heap {
                if !seen.insert(b.addr()) {
                    break;
                }
                regions.push(Region {
                    kind: RegionKind::HeapBucket,
                    addr: b.addr() as u64,
                    bytes: b.bytes().to_vec(),
                });
            }
            if !live_chain {
                continue;
            }
            let bytes = b.bytes();
            for i in 0..8 {
                if bytes[i] < MIN_TOP_HASH {
                    continue;
                }
                for (is_key, off, size, indirect, string) in [
                    (
                        true,
                        l.key_offset(i),
                        l.key_size,
                        l.indirect_key,
                        string_key,
                    ),
                    (
                        false,
                        l.elem_offset(i),
                        l.elem_size,
                        l.indirect_elem,
                        string_elem,
                    ),
                ] {
                    let slot = &bytes[off..off + if indirect { 8 } else { size }];
                    let value: Vec<u8> = if indirect {
                        let p = u64::from_le_bytes(slot[..8].try_into().unwrap_or([0; 8]));
                        if p == 0 || size == 0 {
                            continue;
                        }
                        // SAFETY: a live slot's indirect pointer points to its K or V, whose
                        // bytes are initialized (NoUninit).
                        let d =
                            unsafe { core::slice::from_raw_parts(p as *const u8, size) }.to_vec();
                        regions.push(Region {
                            kind: if is_key {
                                RegionKind::IndirectKey
                            } else {
                                RegionKind::IndirectElem
                            },
                            addr: p,
                            bytes: d.clone(),
                        });
                        d
                    } else {
                        slot.to_vec()
                    };
                    if string && value.len() >= 16 {
                        let p = u64::from_le_bytes(value[..8].try_into().unwrap_or([0; 8]));
                        let n = u64::from_le_bytes(value[8..16].try_into().unwrap_or([0; 8]));
                        if p != 0 && n != 0 {
                            // SAFETY: a live Go string header points to `n` bytes of string data.
                            let d =
                                unsafe { core::slice::from_raw_parts(p as *const u8, n as usize) };
                            regions.push(Region {
                                kind: RegionKind::StringData,
                                addr: p,
                                bytes: d.to_vec(),
                            });
                        }
                    }
                }
            }
        }
    }
    // Heap buckets that only a preallocated bucket still reaches: in a pointerful map, Go's
    // evacuate cuts the head old bucket's overflow word, but a preallocated bucket of the old
    // array further down the chain keeps its own, and what follows it stays reachable (and
    // alive) until the grow ends. Their slots are all evacuated: nothing live to follow.
    let regular = bucket_shift(v.header().B());
    let old_regular = if v.header().oldbuckets() == 0 {
        0
    } else {
        v.header().noldbuckets()
    };
    let prealloc = (regular..v.array_len())
        .filter_map(|i| v.bucket(i))
        .chain((old_regular..v.old_array_len()).filter_map(|i| v.old_bucket(i)));
    for p in prealloc {
        let mut next = p.overflow_bucket();
        while let Some(b) = next {
            if b.kind() != BucketKind::Heap || !seen.insert(b.addr()) {
                break;
            }
            regions.push(Region {
                kind: RegionKind::HeapBucket,
                addr: b.addr() as u64,
                bytes: b.bytes().to_vec(),
            });
            next = b.overflow_bucket();
        }
    }
    regions
}

/// The snapshot type name of a Rust type: a Go name where the Rust type has Go's layout.
fn go_name_of<T: ?Sized>() -> String {
    let n = core::any::type_name::<T>();
    let go = match n {
        "u8" => "uint8",
        "u16" => "uint16",
        "u32" => "uint32",
        "u64" => "uint64",
        "usize" => "uintptr",
        "i8" => "int8",
        "i16" => "int16",
        "i32" => "int32",
        "i64" => "int64",
        "isize" => "int",
        "f32" => "float32",
        "f64" => "float64",
        "bool" => "bool",
        "&str" | "alloc::boxed::Box<str>" => "string",
        _ => {
            if let Some(rest) = n.strip_prefix("[u8; ").and_then(|r| r.strip_suffix(']')) {
                return alloc_crate::format!("[{rest}]uint8");
            }
            return alloc_crate::format!("rust:{n}");
        }
    };
    go.into()
}

impl<K: NoUninit, V: NoUninit, H, A: Allocator, R: RandSource> GoMap<K, V, H, A, R>
where
    H: crate::MapHasher<K>,
    K: PartialEq,
{
    /// A snapshot of this map's memory (see the [module docs](self) for the file format).
    /// Key and elem types with Go's layout are named as Go types (`uint64`, `string` for
    /// `&str`/`Box<str>`, `[N]uint8`); others as `rust:` and their Rust name.
    pub fn snapshot(&self) -> Snapshot {
        let key_type = go_name_of::<K>();
        let elem_type = go_name_of::<V>();
        let (sk, se) = (key_type == "string", elem_type == "string");
        Snapshot {
            layout: self.layout(),
            pointer_free: crate::raw::KeyOps::pointer_free(&self.raw.shape),
            regions: collect(self.raw(), sk, se),
            key_type,
            elem_type,
            hmap: self.header() as *const Hmap as u64,
        }
    }
}

impl<A: Allocator, R: RandSource> DynMap<A, R> {
    /// A snapshot of this map's memory, with the Go type names of its key and elem.
    pub fn snapshot(&self) -> Snapshot {
        let (kt, et) = (self.key_type(), self.elem_type());
        Snapshot {
            layout: self.layout(),
            pointer_free: self.pointer_free(),
            key_type: alloc_crate::format!("{}", kt.go_name()),
            elem_type: alloc_crate::format!("{}", et.go_name()),
            hmap: self.header() as *const Hmap as u64,
            regions: collect(self.raw(), kt == GoType::String, et == GoType::String),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use alloc_crate::vec;

    fn swiss() -> SwissSnapshot {
        SwissSnapshot {
            key_size: 8,
            elem_size: 16,
            indirect_key: false,
            indirect_elem: false,
            pointer_free: false,
            key_type: "uint64".into(),
            elem_type: "string".into(),
            layout: SwissLayoutInfo {
                go_version: "1.25.5".into(),
                tombstone_possible: true,
                split: false,
                group_size: 200,
                keys_off: 8,
                key_stride: 24,
                elems_off: 16,
                elem_stride: 24,
            },
            map: 0xc000010000,
            regions: vec![
                Region {
                    kind: RegionKind::SwissMap,
                    addr: 0xc000010000,
                    bytes: vec![1; 48],
                },
                Region {
                    kind: RegionKind::Groups,
                    addr: 0xc000020000,
                    bytes: vec![0x80; 200],
                },
            ],
        }
    }

    #[test]
    fn swiss_snapshots_round_trip_as_version_2() {
        let s = swiss();
        let b = s.to_bytes();
        assert_eq!(&b[8..12], &VERSION_SWISS.to_le_bytes());
        assert_eq!(SwissSnapshot::from_bytes(&b), Ok(s.clone()));
        assert_eq!(
            SwissSnapshot::from_bytes(&b[..b.len() - 1]).unwrap_err(),
            SnapshotError::Truncated {
                offset: b.len() - 200,
                need: 200
            }
        );
        // A version 1 reader says what the file is.
        assert_eq!(
            Snapshot::from_bytes(&b).unwrap_err(),
            SnapshotError::Version(VERSION_SWISS)
        );
    }

    #[test]
    fn swiss_layouts_that_do_not_fit_are_refused() {
        let mut s = swiss();
        s.layout.key_stride = 4; // smaller than a key
        assert!(matches!(
            SwissSnapshot::from_bytes(&s.to_bytes()),
            Err(SnapshotError::Invalid(_))
        ));
        let mut s = swiss();
        s.layout.elems_off = 190; // the last elem would end past the group
        assert!(matches!(
            SwissSnapshot::from_bytes(&s.to_bytes()),
            Err(SnapshotError::Invalid(_))
        ));
        let mut s = swiss();
        s.key_size = 130; // over 128 bytes but not indirect
        assert!(matches!(
            SwissSnapshot::from_bytes(&s.to_bytes()),
            Err(SnapshotError::Invalid(_))
        ));
        let mut b = swiss().to_bytes();
        b[14] = 1; // not the Swiss kind
        assert!(matches!(
            SwissSnapshot::from_bytes(&b),
            Err(SnapshotError::Invalid(_))
        ));
    }

    #[test]
    fn classic_snapshots_are_still_version_1() {
        let s = Snapshot {
            layout: BucketLayout::from_sizes(8, 8),
            pointer_free: true,
            key_type: "uint64".into(),
            elem_type: "uint64".into(),
            hmap: 0x1000,
            regions: vec![Region {
                kind: RegionKind::Hmap,
                addr: 0x1000,
                bytes: vec![0; 48],
            }],
        };
        let b = s.to_bytes();
        assert_eq!(&b[8..12], &1u32.to_le_bytes());
        assert_eq!(Snapshot::from_bytes(&b), Ok(s));
        assert_eq!(
            SwissSnapshot::from_bytes(&b).unwrap_err(),
            SnapshotError::Version(1)
        );
    }
}
