//! Walks a Go map's memory from its header: bucket arrays, overflow chains, old buckets,
//! `extra` and its overflow lists. Every read goes through a [`MemoryReader`]; sizes are
//! checked before anything is allocated, chains are followed with cycle detection and a
//! budget, so a corrupt header or a wild pointer gives an error, never a hang or an OOM.

use std::collections::HashMap;
use std::fmt;

use gomap::layout::{
    bucket_shift, evacuated, BucketLayout, Flags, GoSlice, Hmap, MapExtra, TophashState, BUCKET_CNT,
};

use crate::program::layout::{ClassicLayout, HmapOffsets, LoadFactor};
use crate::source::{MemoryReader, ReadError};

/// Bounds on what a decode may read.
#[derive(Copy, Clone, Debug)]
pub struct Limits {
    /// The largest B accepted (2^B buckets).
    pub max_b: u8,
    /// The most bytes read in all.
    pub max_bytes: u64,
    /// The most heap overflow buckets followed in all.
    pub max_heap_buckets: usize,
}

impl Default for Limits {
    fn default() -> Self {
        Limits {
            max_b: 30,
            max_bytes: 4 << 30,
            max_heap_buckets: 1 << 24,
        }
    }
}

/// Why a map could not be decoded.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum DecodeError {
    /// A read failed.
    Read(ReadError),
    /// The memory does not describe a valid map.
    Corrupt(String),
    /// A limit was reached.
    Limit(String),
}

impl fmt::Display for DecodeError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            DecodeError::Read(e) => write!(f, "{e}"),
            DecodeError::Corrupt(s) => write!(f, "not a valid Go map: {s}"),
            DecodeError::Limit(s) => write!(f, "refusing to decode: {s}"),
        }
    }
}

impl std::error::Error for DecodeError {}

impl From<ReadError> for DecodeError {
    fn from(e: ReadError) -> Self {
        DecodeError::Read(e)
    }
}

/// The header fields.
#[allow(non_snake_case)]
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Header {
    /// The raw bytes (48, or 56 for Go 1.24–1.25's classic map).
    pub raw: Vec<u8>,
    /// `count`
    pub count: u64,
    /// `flags`
    pub flags: u8,
    /// `B`
    pub B: u8,
    /// `noverflow`
    pub noverflow: u16,
    /// `hash0`
    pub hash0: u32,
    /// `buckets`
    pub buckets: u64,
    /// `oldbuckets`
    pub oldbuckets: u64,
    /// `nevacuate`
    pub nevacuate: u64,
    /// `clearSeq` (Go 1.24–1.25 noswissmap: how many times the map was cleared)
    pub clear_seq: Option<u64>,
    /// `extra`
    pub extra: u64,
}

impl Header {
    /// Decodes the 48 header bytes of Go 1.19's (and gomap's) `hmap`.
    pub fn parse(raw: [u8; Hmap::SIZE]) -> Header {
        Header::parse_with(&raw, &HmapOffsets::GO119)
    }

    /// Decodes a header laid out as `o` says (`raw` holds at least `o.size` bytes).
    pub fn parse_with(raw: &[u8], o: &HmapOffsets) -> Header {
        let u64_at = |o: usize| u64::from_le_bytes(raw[o..o + 8].try_into().expect("8 bytes"));
        Header {
            raw: raw[..o.size].to_vec(),
            count: u64_at(o.count),
            flags: raw[o.flags],
            B: raw[o.B],
            noverflow: u16::from_le_bytes([raw[o.noverflow], raw[o.noverflow + 1]]),
            hash0: u32::from_le_bytes(raw[o.hash0..o.hash0 + 4].try_into().expect("4 bytes")),
            buckets: u64_at(o.buckets),
            oldbuckets: u64_at(o.oldbuckets),
            nevacuate: u64_at(o.nevacuate),
            clear_seq: o.clear_seq.map(u64_at),
            extra: u64_at(o.extra),
        }
    }
    /// The flags.
    pub fn flags(&self) -> Flags {
        Flags::from_bits_retain(self.flags)
    }
    /// Whether a grow is in progress.
    pub fn growing(&self) -> bool {
        self.oldbuckets != 0
    }
    /// B of the old array.
    #[allow(non_snake_case)]
    pub fn old_B(&self) -> u8 {
        if self.flags().contains(Flags::SAME_SIZE_GROW) {
            self.B
        } else {
            self.B.wrapping_sub(1)
        }
    }
}

/// `mapextra` and the lists it points to.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Extra {
    /// Address of the `mapextra`.
    pub addr: u64,
    /// The 24 raw bytes.
    pub raw: [u8; MapExtra::SIZE],
    /// `overflow` (address of a slice header, 0 if nil).
    pub overflow: u64,
    /// `oldoverflow`.
    pub oldoverflow: u64,
    /// `nextOverflow`.
    pub next_overflow: u64,
    /// The overflow list's bucket addresses.
    pub overflow_list: Option<Vec<u64>>,
    /// The old overflow list's bucket addresses.
    pub oldoverflow_list: Option<Vec<u64>>,
}

/// Where a bucket is.
#[derive(Copy, Clone, Debug, PartialEq, Eq, Hash)]
pub enum Loc {
    /// Index in the current array (>= 2^B: preallocated).
    Main(usize),
    /// Index in the old array.
    Old(usize),
    /// The n-th heap overflow bucket found (in walk order).
    Heap(usize),
}

impl fmt::Display for Loc {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Loc::Main(i) => write!(f, "main[{i}]"),
            Loc::Old(i) => write!(f, "old[{i}]"),
            Loc::Heap(n) => write!(f, "heap#{n}"),
        }
    }
}

/// One bucket's memory.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Bucket {
    /// Its address.
    pub addr: u64,
    /// Where it is.
    pub loc: Loc,
    /// Its bytes (`bucketsize`).
    pub bytes: Vec<u8>,
}

impl Bucket {
    /// The 8 tophash bytes.
    pub fn tophash(&self) -> [u8; BUCKET_CNT] {
        self.bytes[..BUCKET_CNT].try_into().expect("8 bytes")
    }
    /// The state of slot `i`.
    pub fn state(&self, i: usize) -> TophashState {
        TophashState::of(self.bytes[i])
    }
    /// The overflow pointer.
    pub fn overflow(&self) -> u64 {
        let n = self.bytes.len();
        u64::from_le_bytes(self.bytes[n - 8..].try_into().expect("8 bytes"))
    }
    /// Whether this (old) bucket is evacuated.
    pub fn evacuated(&self) -> bool {
        evacuated(self.bytes[0])
    }
    /// The bytes of key slot `i`.
    pub fn key_slot(&self, l: &BucketLayout, i: usize) -> &[u8] {
        &self.bytes[l.key_offset(i)..l.key_offset(i) + l.keysize]
    }
    /// The bytes of elem slot `i`.
    pub fn elem_slot(&self, l: &BucketLayout, i: usize) -> &[u8] {
        &self.bytes[l.elem_offset(i)..l.elem_offset(i) + l.elemsize]
    }
}

/// A decoded map.
#[derive(Clone, Debug)]
pub struct Decoded {
    /// Address of the `hmap`.
    pub hmap: u64,
    /// The bucket layout used.
    pub layout: BucketLayout,
    /// The header.
    pub header: Header,
    /// `extra`, if any.
    pub extra: Option<Extra>,
    /// The current array: 2^B buckets, then the preallocated ones.
    pub buckets: Vec<Bucket>,
    /// The old array (empty unless growing).
    pub oldbuckets: Vec<Bucket>,
    /// Heap overflow buckets, in the order the walk found them.
    pub heap: Vec<Bucket>,
    /// For each head (current array, then old array), the chain's locations in order, head
    /// first.
    pub chains: Vec<Vec<Loc>>,
    /// Chains that start at a preallocated bucket no head chain reaches, and whose overflow
    /// word leads on (a heap bucket left reachable through the array: Go's `evacuate` clears
    /// only the head's overflow word). Current array first, then the old one, in index order;
    /// each starts with the preallocated bucket.
    pub prealloc_chains: Vec<Vec<Loc>>,
    /// Things that look wrong but do not stop the decode.
    pub warnings: Vec<String>,
    /// Things worth knowing about the map's state that are not errors (a write in progress).
    pub notes: Vec<String>,
    /// The header layout and growth rule used.
    pub classic: ClassicLayout,
    /// Heap bucket address → index in `heap`.
    heap_index: HashMap<u64, usize>,
}

impl Decoded {
    /// The bucket at a location.
    pub fn bucket(&self, loc: Loc) -> &Bucket {
        match loc {
            Loc::Main(i) => &self.buckets[i],
            Loc::Old(i) => &self.oldbuckets[i],
            Loc::Heap(n) => &self.heap[n],
        }
    }
    /// Number of head buckets in the current array (2^B, 0 if there is none).
    pub fn nheads(&self) -> usize {
        if self.header.buckets == 0 {
            0
        } else {
            bucket_shift(self.header.B)
        }
    }
    /// Number of head buckets in the old array.
    pub fn noldheads(&self) -> usize {
        if self.header.oldbuckets == 0 {
            0
        } else {
            bucket_shift(self.header.old_B())
        }
    }
    /// The chain of the current array's head `i`.
    pub fn chain(&self, i: usize) -> &[Loc] {
        &self.chains[i]
    }
    /// The chain of the old array's head `i`.
    pub fn old_chain(&self, i: usize) -> &[Loc] {
        &self.chains[self.nheads() + i]
    }
    /// The location of a bucket address, if it is a known bucket.
    pub fn locate(&self, addr: u64) -> Option<Loc> {
        let bs = self.layout.bucketsize as u64;
        let inside = |base: u64, n: usize| {
            addr >= base && addr < base + n as u64 * bs && (addr - base) % bs == 0
        };
        if self.header.buckets != 0 && inside(self.header.buckets, self.buckets.len()) {
            return Some(Loc::Main(((addr - self.header.buckets) / bs) as usize));
        }
        if self.header.oldbuckets != 0 && inside(self.header.oldbuckets, self.oldbuckets.len()) {
            return Some(Loc::Old(((addr - self.header.oldbuckets) / bs) as usize));
        }
        self.heap_index.get(&addr).copied().map(Loc::Heap)
    }
    /// A pointer's symbolic name: `nil`, `main[i]`, `old[i]`, `heap#n`, or the hex address.
    pub fn symbol(&self, addr: u64) -> String {
        if addr == 0 {
            return "nil".into();
        }
        match self.locate(addr) {
            Some(l) => l.to_string(),
            None => format!("{addr:#x}"),
        }
    }
    /// Bytes of bucket memory in use: arrays and heap overflow buckets.
    pub fn bucket_bytes(&self) -> u64 {
        ((self.buckets.len() + self.oldbuckets.len() + self.heap.len()) * self.layout.bucketsize)
            as u64
    }
    /// Number of live slots found (current chains, and unevacuated old chains).
    pub fn live(&self) -> usize {
        let mut n = 0;
        for (h, chain) in self.chains.iter().enumerate() {
            if h >= self.nheads() && self.bucket(chain[0]).evacuated() {
                continue;
            }
            for &loc in chain {
                n += (0..BUCKET_CNT)
                    .filter(|&i| self.bucket(loc).state(i).is_live())
                    .count();
            }
        }
        n
    }
}

struct Walker<'r, R: ?Sized> {
    r: &'r R,
    limits: Limits,
    read_bytes: u64,
    layout: BucketLayout,
}

impl<R: MemoryReader + ?Sized> Walker<'_, R> {
    fn budget(&mut self, n: u64, what: &str) -> Result<(), DecodeError> {
        self.read_bytes = self.read_bytes.saturating_add(n);
        if self.read_bytes > self.limits.max_bytes {
            return Err(DecodeError::Limit(format!(
                "{what} would take the read past {} bytes (raise the limit if the map really is that large)",
                self.limits.max_bytes
            )));
        }
        Ok(())
    }
    fn read(&mut self, addr: u64, len: usize, what: &str) -> Result<Vec<u8>, DecodeError> {
        self.budget(len as u64, what)?;
        Ok(self.r.read_vec(addr, len)?)
    }
    fn array(
        &mut self,
        base: u64,
        b: u8,
        loc: fn(usize) -> Loc,
        what: &str,
    ) -> Result<Vec<Bucket>, DecodeError> {
        if b > self.limits.max_b {
            return Err(DecodeError::Corrupt(format!(
                "B = {b} (2^{b} buckets) for the {what}; the largest accepted is {}",
                self.limits.max_b
            )));
        }
        let bs = self.layout.bucketsize;
        let n = self
            .layout
            .nbuckets(b)
            .ok_or_else(|| DecodeError::Corrupt(format!("B = {b}: the {what} size overflows")))?;
        let bytes = (n as u64).saturating_mul(bs as u64);
        self.budget(bytes, &format!("the {what} ({n} buckets of {bs} bytes)"))?;
        let all = self.r.read_vec(base, bytes as usize)?;
        Ok(all
            .chunks_exact(bs)
            .enumerate()
            .map(|(i, c)| Bucket {
                addr: base + (i * bs) as u64,
                loc: loc(i),
                bytes: c.to_vec(),
            })
            .collect())
    }
    fn slice(&mut self, addr: u64, what: &str) -> Result<Vec<u64>, DecodeError> {
        let h = self.read(addr, GoSlice::SIZE, what)?;
        let ptr = u64::from_le_bytes(h[0..8].try_into().expect("8"));
        let len = u64::from_le_bytes(h[8..16].try_into().expect("8"));
        let cap = u64::from_le_bytes(h[16..24].try_into().expect("8"));
        if len > cap {
            return Err(DecodeError::Corrupt(format!(
                "{what} at {addr:#x}: len {len} > cap {cap}"
            )));
        }
        if len > self.limits.max_heap_buckets as u64 * 2 {
            return Err(DecodeError::Limit(format!(
                "{what} at {addr:#x} has {len} entries"
            )));
        }
        if len == 0 {
            return Ok(Vec::new());
        }
        let data = self.read(ptr, len as usize * 8, what)?;
        Ok(data
            .chunks_exact(8)
            .map(|c| u64::from_le_bytes(c.try_into().expect("8")))
            .collect())
    }
}

/// Decodes the map whose `hmap` is at `hmap` with bucket layout `layout`, as gomap (and Go
/// 1.19) lay it out.
pub fn decode<R: MemoryReader + ?Sized>(
    r: &R,
    hmap: u64,
    layout: BucketLayout,
    limits: Limits,
) -> Result<Decoded, DecodeError> {
    let classic = ClassicLayout {
        hmap: HmapOffsets::GO119,
        load: LoadFactor::DEFAULT,
    };
    decode_classic(r, hmap, layout, &classic, limits)
}

/// Checks that a header looks like a classic `hmap` before anything it points to is read:
/// not all zero, no undefined flag bit, B at most `max_b`, aligned pointers, no old array
/// without a current one, a grow that can exist, `nevacuate` within the old array.
pub fn check_header(h: &Header, max_b: u8) -> Result<(), String> {
    if h.raw.iter().all(|&b| b == 0) {
        return Err(format!(
            "the {} header bytes are all zero (a made map has a random hash0 and, once it \
             holds entries, a bucket array)",
            h.raw.len()
        ));
    }
    if h.flags & 0xf0 != 0 {
        return Err(format!(
            "flags = {:#04x} has undefined bits {:#04x} (Go uses only 0x01-0x08)",
            h.flags,
            h.flags & 0xf0
        ));
    }
    if h.B > max_b {
        return Err(format!(
            "B = {} (2^{} buckets); the largest accepted is {max_b}",
            h.B, h.B
        ));
    }
    for (name, p) in [
        ("buckets", h.buckets),
        ("oldbuckets", h.oldbuckets),
        ("extra", h.extra),
    ] {
        if p % 8 != 0 {
            return Err(format!("{name} = {p:#x} is not an 8-aligned pointer"));
        }
        if p != 0 && p < 4096 {
            return Err(format!("{name} = {p:#x} points into the first page"));
        }
    }
    if h.count >= 1 << 62 {
        return Err(format!("count = {} is impossible", h.count));
    }
    if h.buckets == 0 && (h.B != 0 || h.count != 0 || h.oldbuckets != 0) {
        return Err(format!(
            "buckets is nil but B = {}, count = {}, oldbuckets = {:#x}",
            h.B, h.count, h.oldbuckets
        ));
    }
    if h.oldbuckets != 0 {
        if h.B == 0 && !h.flags().contains(Flags::SAME_SIZE_GROW) {
            return Err("growing with B = 0, but not a same-size grow".into());
        }
        let nold = bucket_shift(h.old_B()) as u64;
        if h.nevacuate > nold {
            return Err(format!(
                "nevacuate {} is beyond the {nold} old buckets",
                h.nevacuate
            ));
        }
    } else if h.nevacuate > bucket_shift(h.B) as u64 {
        return Err(format!(
            "nevacuate {} is beyond the {} buckets (and the map is not growing)",
            h.nevacuate,
            bucket_shift(h.B)
        ));
    }
    if let Some(c) = h.clear_seq {
        if c >= 1 << 48 {
            return Err(format!("clearSeq = {c:#x} is not a count of clears"));
        }
    }
    Ok(())
}

/// Decodes a classic map laid out as `classic` says (Go 1.19–1.23: 48-byte `hmap`; Go
/// 1.24–1.25 noswissmap: 56 bytes with `clearSeq`).
pub fn decode_classic<R: MemoryReader + ?Sized>(
    r: &R,
    hmap: u64,
    layout: BucketLayout,
    classic: &ClassicLayout,
    limits: Limits,
) -> Result<Decoded, DecodeError> {
    if hmap == 0 {
        return Err(DecodeError::Corrupt("the map pointer is nil".into()));
    }
    let mut w = Walker {
        r,
        limits,
        read_bytes: 0,
        layout,
    };
    let raw = w.read(hmap, classic.hmap.size, "the header")?;
    let header = Header::parse_with(&raw, &classic.hmap);
    check_header(&header, limits.max_b).map_err(DecodeError::Corrupt)?;
    let warnings = Vec::new();
    let mut notes = Vec::new();
    if header.flags().contains(Flags::HASH_WRITING) {
        notes.push(
            "HASH_WRITING is set: a goroutine was in the middle of writing this map (an insert, \
             a delete or a clear) when the memory was read. Go sets this flag for the length of \
             every write and throws \"fatal error: concurrent map writes\" when a second writer \
             finds it set (\"concurrent map read and map write\" for a reader). If the process \
             died of that error, two goroutines wrote this map without a lock: the bucket being \
             written may hold a half-finished entry"
                .to_string(),
        );
    }
    let buckets = if header.buckets == 0 {
        Vec::new()
    } else {
        w.array(header.buckets, header.B, Loc::Main, "bucket array")?
    };
    let oldbuckets = if header.oldbuckets == 0 {
        Vec::new()
    } else {
        w.array(
            header.oldbuckets,
            header.old_B(),
            Loc::Old,
            "old bucket array",
        )?
    };
    let extra = if header.extra == 0 {
        None
    } else {
        let raw: [u8; MapExtra::SIZE] = w
            .read(header.extra, MapExtra::SIZE, "mapextra")?
            .try_into()
            .expect("24");
        let word = |o: usize| u64::from_le_bytes(raw[o..o + 8].try_into().expect("8"));
        let (ov, oldov, next) = (
            word(MapExtra::OVERFLOW_OFFSET),
            word(MapExtra::OLDOVERFLOW_OFFSET),
            word(MapExtra::NEXT_OVERFLOW_OFFSET),
        );
        Some(Extra {
            addr: header.extra,
            raw,
            overflow: ov,
            oldoverflow: oldov,
            next_overflow: next,
            overflow_list: if ov == 0 {
                None
            } else {
                Some(w.slice(ov, "extra.overflow")?)
            },
            oldoverflow_list: if oldov == 0 {
                None
            } else {
                Some(w.slice(oldov, "extra.oldoverflow")?)
            },
        })
    };
    let mut d = Decoded {
        hmap,
        layout,
        header,
        extra,
        buckets,
        oldbuckets,
        heap: Vec::new(),
        chains: Vec::new(),
        prealloc_chains: Vec::new(),
        warnings,
        notes,
        classic: classic.clone(),
        heap_index: HashMap::new(),
    };
    // Follow the chains: current heads first, then old heads.
    let heads: Vec<Loc> = (0..d.nheads())
        .map(Loc::Main)
        .chain((0..d.noldheads()).map(Loc::Old))
        .collect();
    for head in heads {
        let chain = follow(&mut d, &mut w, head, false)?;
        d.chains.push(chain);
    }
    // Then the preallocated buckets no chain reached whose overflow word leads on (not the
    // sentinel: the last preallocated bucket points back to its array's bucket 0).
    let reached: std::collections::HashSet<Loc> = d.chains.iter().flatten().copied().collect();
    let pre: Vec<Loc> = (d.nheads()..d.buckets.len())
        .map(Loc::Main)
        .chain((d.noldheads()..d.oldbuckets.len()).map(Loc::Old))
        .filter(|l| !reached.contains(l))
        .collect();
    for p in pre {
        let next = d.bucket(p).overflow();
        let base = match p {
            Loc::Old(_) => d.header.oldbuckets,
            _ => d.header.buckets,
        };
        if next == 0 || next == base {
            continue;
        }
        let chain = follow(&mut d, &mut w, p, true)?;
        if chain.len() > 1 {
            d.prealloc_chains.push(chain);
        }
    }
    let live = d.live() as u64;
    if live != d.header.count {
        let msg = format!(
            "count is {} but {live} live slots were found",
            d.header.count
        );
        if d.header.flags().contains(Flags::HASH_WRITING) {
            d.notes.push(format!(
                "{msg}: expected while HASH_WRITING is set (a write was in progress and had \
                 not updated count yet)"
            ));
        } else {
            d.warnings.push(msg);
        }
    }
    Ok(d)
}

/// Follows the overflow chain from `head`, reading heap overflow buckets into `d.heap`.
/// From a preallocated bucket (`from_prealloc`), the walk stops at a bucket a chain already
/// holds (it joined that chain) instead of calling it a loop.
fn follow<R: MemoryReader + ?Sized>(
    d: &mut Decoded,
    w: &mut Walker<'_, R>,
    head: Loc,
    from_prealloc: bool,
) -> Result<Vec<Loc>, DecodeError> {
    let layout = d.layout;
    let limits = w.limits;
    let mut chain = vec![head];
    let mut next = d.bucket(head).overflow();
    let mut seen = std::collections::HashSet::new();
    seen.insert(d.bucket(head).addr);
    while next != 0 {
        if !seen.insert(next) {
            return Err(DecodeError::Corrupt(format!(
                "the overflow chain of {head} loops back to {next:#x} after {} bucket{}",
                chain.len(),
                if chain.len() == 1 { "" } else { "s" }
            )));
        }
        let loc = match d.locate(next) {
            Some(l @ (Loc::Main(_) | Loc::Old(_))) => {
                let is_head = match l {
                    Loc::Main(i) => i < d.nheads(),
                    Loc::Old(i) => i < d.noldheads(),
                    Loc::Heap(_) => false,
                };
                if is_head {
                    return Err(DecodeError::Corrupt(format!(
                        "the overflow chain of {head} points to head bucket {l} at {next:#x}"
                    )));
                }
                l
            }
            Some(l) if from_prealloc => {
                // A heap bucket a chain already walked.
                let _ = l;
                break;
            }
            Some(l) => l,
            None => {
                if d.heap.len() >= limits.max_heap_buckets {
                    return Err(DecodeError::Limit(format!(
                        "more than {} heap overflow buckets",
                        limits.max_heap_buckets
                    )));
                }
                if next % 8 != 0 {
                    return Err(DecodeError::Corrupt(format!(
                        "overflow pointer {next:#x} in the chain of {head} is not 8-aligned"
                    )));
                }
                let bytes = w.read(next, layout.bucketsize, "a heap overflow bucket")?;
                let n = d.heap.len();
                d.heap_index.insert(next, n);
                d.heap.push(Bucket {
                    addr: next,
                    loc: Loc::Heap(n),
                    bytes,
                });
                Loc::Heap(n)
            }
        };
        chain.push(loc);
        next = d.bucket(loc).overflow();
    }
    Ok(chain)
}
