//! The replay trace: a map's memory at each `dump` of a script, with pointers written
//! symbolically so that two runs (gomap's replay and the Go oracle) can be compared.
//!
//! # JSON schema `gomap-replay/1`
//!
//! ```text
//! {
//!   "schema": "gomap-replay/1",
//!   "key": "uint64", "elem": "string",           Go type names
//!   "keysize": 8, "elemsize": 16,                sizes of the types
//!   "bucketsize": 208, "indirectkey": false, "indirectelem": false,
//!   "pointerfree": false,                        Go's bucket type has no pointers
//!   "hashkey": "0x2545f4914f6cdd1d",             runtime.hashkey[0]
//!   "hash0": ["0xcb3daafa", ...],                every hash0 drawn, in order (make, reseed, clear)
//!   "dumps": [{
//!     "label": "after grow", "line": 12,         the dump's label and script line
//!     "header": {"count": 9, "flags": 0, "B": 1, "noverflow": 0, "hash0": "0xcb3daafa",
//!                "buckets": "main", "oldbuckets": "nil", "nevacuate": 1, "extra": "nil"},
//!     "extra": null | {"overflow": null | ["main[17]", "heap#0"], "oldoverflow": null | [...],
//!                      "nextOverflow": "main[18]" | "nil"},
//!     "buckets":    [bucket, ...],   the whole current array, preallocated buckets included
//!     "oldbuckets": null | [bucket, ...],
//!     "heap":       [bucket, ...]    heap overflow buckets reachable from the arrays, by id
//!   }]
//! }
//! bucket = {"id": "main[3]" | "old[0]" | "heap#4", "tophash": [8 numbers],
//!           "keys": [8 slots], "elems": [8 slots], "overflow": pointer symbol}
//! ```
//!
//! Pointer symbols: `nil`; `main[i]` / `old[i]` for bucket i of the current / old array
//! (i >= 2^B is a preallocated overflow bucket); `heap#n` for the n-th heap overflow bucket in
//! walk order (the chains of the current array's heads 0.., then of the old heads, each from
//! head to tail; then the chains that start at preallocated buckets, current array then old,
//! in index order: heap buckets that only a preallocated bucket still reaches after a
//! pointerful map's evacuation cut the head), counted afresh at each dump; any other address
//! as hex (a bug). Names are per dump because freed
//! memory is reused differently by Go's GC and by a Rust allocator; the order in which
//! buckets were allocated still shows, in the `extra.overflow` lists. The header's `buckets` is `main`
//! (or `nil`), `oldbuckets` is `old` (or `nil`), `extra` is `extra` (or `nil`).
//!
//! Slots: a plain key or elem is the hex of its slot's bytes. A Go string is
//! `s<len>:<ptr>` with ptr `nil`, `ptr`, or `-` when len is 0, followed by `:<hex of the
//! bytes>` for a live slot (tophash >= 5). An indirect slot is `*nil`, or `*ptr` followed by
//! `:<hex of the pointed-to bytes>` for a live slot. Bytes of non-live slots behind pointers
//! are not compared: Go's garbage collector and gomap's allocator treat them differently.

use std::collections::HashMap;

use serde::{Deserialize, Serialize};

use gomap::layout::{BucketLayout, MIN_TOP_HASH};

use crate::decode::{Bucket, Decoded, Loc};
use crate::source::{MemoryReader, ReadError};

/// The schema name.
pub const SCHEMA: &str = "gomap-replay/1";

/// A whole run.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct Trace {
    /// [`SCHEMA`].
    pub schema: String,
    /// Key type (Go name).
    pub key: String,
    /// Elem type (Go name).
    pub elem: String,
    /// Key size.
    pub keysize: usize,
    /// Elem size.
    pub elemsize: usize,
    /// Bucket size.
    pub bucketsize: usize,
    /// Keys are indirect.
    pub indirectkey: bool,
    /// Elems are indirect.
    pub indirectelem: bool,
    /// The bucket type has no pointers.
    pub pointerfree: bool,
    /// The hashkey, hex.
    pub hashkey: String,
    /// Every hash0 drawn, hex.
    pub hash0: Vec<String>,
    /// The dumps.
    pub dumps: Vec<Dump>,
}

/// The memory at one `dump`.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct Dump {
    /// The dump's label.
    pub label: String,
    /// Its script line.
    pub line: usize,
    /// The header.
    pub header: HeaderJ,
    /// `extra`.
    pub extra: Option<ExtraJ>,
    /// The current array.
    pub buckets: Vec<BucketJ>,
    /// The old array.
    pub oldbuckets: Option<Vec<BucketJ>>,
    /// Heap overflow buckets, by id.
    pub heap: Vec<BucketJ>,
}

/// The header, symbolically.
#[allow(non_snake_case)]
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct HeaderJ {
    /// `count`
    pub count: u64,
    /// `flags`
    pub flags: u8,
    /// `B`
    pub B: u8,
    /// `noverflow`
    pub noverflow: u16,
    /// `hash0`, hex
    pub hash0: String,
    /// `main` or `nil`
    pub buckets: String,
    /// `old` or `nil`
    pub oldbuckets: String,
    /// `nevacuate`
    pub nevacuate: u64,
    /// `extra` or `nil`
    pub extra: String,
}

/// `mapextra`, symbolically.
#[allow(non_snake_case)]
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct ExtraJ {
    /// `overflow` list.
    pub overflow: Option<Vec<String>>,
    /// `oldoverflow` list.
    pub oldoverflow: Option<Vec<String>>,
    /// `nextOverflow`.
    pub nextOverflow: String,
}

/// A bucket, symbolically.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct BucketJ {
    /// `main[i]`, `old[i]`, `heap#n`.
    pub id: String,
    /// The tophash bytes.
    pub tophash: [u8; 8],
    /// The key slots.
    pub keys: Vec<String>,
    /// The elem slots.
    pub elems: Vec<String>,
    /// The overflow pointer's symbol.
    pub overflow: String,
}

/// Numbers the heap overflow buckets of one dump in walk order.
#[derive(Default, Debug)]
pub struct HeapNames {
    ids: HashMap<u64, usize>,
}

impl HeapNames {
    /// Names the heap buckets of a decoded map (its `heap` list is in walk order).
    pub fn of(d: &Decoded) -> Self {
        HeapNames {
            ids: d
                .heap
                .iter()
                .enumerate()
                .map(|(i, b)| (b.addr, i))
                .collect(),
        }
    }
    /// The number of a heap bucket.
    pub fn get(&self, addr: u64) -> Option<usize> {
        self.ids.get(&addr).copied()
    }
}

fn hex(b: &[u8]) -> String {
    let mut s = String::with_capacity(b.len() * 2);
    for x in b {
        s.push_str(&format!("{x:02x}"));
    }
    s
}

/// How slots of a type are written.
#[derive(Copy, Clone, Debug, PartialEq, Eq)]
pub enum SlotKind {
    /// Plain bytes.
    Plain,
    /// A Go string header.
    GoString,
}

impl SlotKind {
    /// The kind for a Go type name.
    pub fn of(type_name: &str) -> SlotKind {
        if type_name == "string" {
            SlotKind::GoString
        } else {
            SlotKind::Plain
        }
    }
}

fn word(b: &[u8], at: usize) -> u64 {
    u64::from_le_bytes(b[at..at + 8].try_into().expect("8 bytes"))
}

fn slot<R: MemoryReader + ?Sized>(
    r: &R,
    bytes: &[u8],
    size: usize,
    indirect: bool,
    kind: SlotKind,
    live: bool,
) -> Result<String, ReadError> {
    let value = |b: &[u8]| -> Result<String, ReadError> {
        match kind {
            SlotKind::Plain => Ok(hex(b)),
            SlotKind::GoString => {
                let (p, n) = (word(b, 0), word(b, 8));
                let ptr = if n == 0 {
                    "-"
                } else if p == 0 {
                    "nil"
                } else {
                    "ptr"
                };
                let mut s = format!("s{n}:{ptr}");
                if live && n != 0 && p != 0 {
                    if n > 1 << 30 {
                        return Err(ReadError {
                            addr: p,
                            len: n as usize,
                            reason: "string longer than 1 GiB".into(),
                        });
                    }
                    s.push(':');
                    s.push_str(&hex(&r.read_vec(p, n as usize)?));
                }
                Ok(s)
            }
        }
    };
    if !indirect {
        return value(bytes);
    }
    let p = word(bytes, 0);
    if p == 0 {
        return Ok("*nil".into());
    }
    if !live {
        return Ok("*ptr".into());
    }
    let content = r.read_vec(p, size)?;
    Ok(format!("*ptr:{}", value(&content)?))
}

/// A symbol for a pointer.
fn sym(d: &Decoded, names: &HeapNames, addr: u64) -> String {
    if addr == 0 {
        return "nil".into();
    }
    match d.locate(addr) {
        Some(Loc::Main(i)) => format!("main[{i}]"),
        Some(Loc::Old(i)) => format!("old[{i}]"),
        Some(Loc::Heap(_)) | None => match names.get(addr) {
            Some(n) => format!("heap#{n}"),
            None => format!("{addr:#x}"),
        },
    }
}

/// Writes one bucket symbolically.
fn bucket_j<R: MemoryReader + ?Sized>(
    r: &R,
    d: &Decoded,
    names: &HeapNames,
    b: &Bucket,
    kinds: (SlotKind, SlotKind),
) -> Result<BucketJ, ReadError> {
    let l: &BucketLayout = &d.layout;
    let mut keys = Vec::with_capacity(8);
    let mut elems = Vec::with_capacity(8);
    for i in 0..8 {
        let live = b.bytes[i] >= MIN_TOP_HASH;
        keys.push(slot(
            r,
            b.key_slot(l, i),
            l.key_size,
            l.indirect_key,
            kinds.0,
            live,
        )?);
        elems.push(slot(
            r,
            b.elem_slot(l, i),
            l.elem_size,
            l.indirect_elem,
            kinds.1,
            live,
        )?);
    }
    Ok(BucketJ {
        id: sym(d, names, b.addr),
        tophash: b.tophash(),
        keys,
        elems,
        overflow: sym(d, names, b.overflow()),
    })
}

/// One dump of a decoded map.
pub fn dump<R: MemoryReader + ?Sized>(
    r: &R,
    d: &Decoded,
    kinds: (SlotKind, SlotKind),
    label: &str,
    line: usize,
) -> Result<Dump, ReadError> {
    let names = &HeapNames::of(d);
    let h = &d.header;
    let header = HeaderJ {
        count: h.count,
        flags: h.flags,
        B: h.B,
        noverflow: h.noverflow,
        hash0: format!("{:#010x}", h.hash0),
        buckets: if h.buckets == 0 {
            "nil".into()
        } else {
            "main".into()
        },
        oldbuckets: if h.oldbuckets == 0 {
            "nil".into()
        } else {
            "old".into()
        },
        nevacuate: h.nevacuate,
        extra: if h.extra == 0 {
            "nil".into()
        } else {
            "extra".into()
        },
    };
    let extra = d.extra.as_ref().map(|e| ExtraJ {
        overflow: e
            .overflow_list
            .as_ref()
            .map(|v| v.iter().map(|&a| sym(d, names, a)).collect()),
        oldoverflow: e
            .oldoverflow_list
            .as_ref()
            .map(|v| v.iter().map(|&a| sym(d, names, a)).collect()),
        nextOverflow: sym(d, names, e.next_overflow),
    });
    let buckets = d
        .buckets
        .iter()
        .map(|b| bucket_j(r, d, names, b, kinds))
        .collect::<Result<Vec<_>, _>>()?;
    let oldbuckets = if h.oldbuckets == 0 {
        None
    } else {
        Some(
            d.oldbuckets
                .iter()
                .map(|b| bucket_j(r, d, names, b, kinds))
                .collect::<Result<Vec<_>, _>>()?,
        )
    };
    let mut heap: Vec<(usize, BucketJ)> = Vec::with_capacity(d.heap.len());
    for b in &d.heap {
        let n = names.get(b.addr).unwrap_or(usize::MAX);
        heap.push((n, bucket_j(r, d, names, b, kinds)?));
    }
    heap.sort_by_key(|(n, _)| *n);
    Ok(Dump {
        label: label.into(),
        line,
        header,
        extra,
        buckets,
        oldbuckets,
        heap: heap.into_iter().map(|(_, b)| b).collect(),
    })
}

/// The first difference between two traces, with its context, or `None` if they are equal.
pub fn first_difference(
    want: &Trace,
    got: &Trace,
    ignore_noverflow_from_b16: bool,
) -> Option<String> {
    macro_rules! cmp {
        ($ctx:expr, $a:expr, $b:expr) => {
            if $a != $b {
                return Some(format!("{}: Go has {:?}, gomap has {:?}", $ctx, $a, $b));
            }
        };
    }
    cmp!("key type", want.key, got.key);
    cmp!("elem type", want.elem, got.elem);
    cmp!("keysize", want.keysize, got.keysize);
    cmp!("elemsize", want.elemsize, got.elemsize);
    cmp!("bucketsize", want.bucketsize, got.bucketsize);
    cmp!("indirectkey", want.indirectkey, got.indirectkey);
    cmp!("indirectelem", want.indirectelem, got.indirectelem);
    cmp!("pointerfree", want.pointerfree, got.pointerfree);
    cmp!("hashkey", want.hashkey, got.hashkey);
    cmp!("hash0 draws", want.hash0, got.hash0);
    cmp!("number of dumps", want.dumps.len(), got.dumps.len());
    for (a, b) in want.dumps.iter().zip(&got.dumps) {
        let at = format!("dump {:?} (line {})", a.label, a.line);
        let (ha, hb) = (&a.header, &b.header);
        let skip_nov = ignore_noverflow_from_b16 && ha.B >= 16;
        cmp!(format!("{at}, header.count"), ha.count, hb.count);
        cmp!(format!("{at}, header.flags"), ha.flags, hb.flags);
        cmp!(format!("{at}, header.B"), ha.B, hb.B);
        if !skip_nov {
            cmp!(
                format!("{at}, header.noverflow"),
                ha.noverflow,
                hb.noverflow
            );
        }
        cmp!(format!("{at}, header.hash0"), ha.hash0, hb.hash0);
        cmp!(format!("{at}, header.buckets"), ha.buckets, hb.buckets);
        cmp!(
            format!("{at}, header.oldbuckets"),
            ha.oldbuckets,
            hb.oldbuckets
        );
        cmp!(
            format!("{at}, header.nevacuate"),
            ha.nevacuate,
            hb.nevacuate
        );
        cmp!(format!("{at}, header.extra"), ha.extra, hb.extra);
        match (&a.extra, &b.extra) {
            (Some(ea), Some(eb)) => {
                cmp!(
                    format!("{at}, extra.nextOverflow"),
                    ea.nextOverflow,
                    eb.nextOverflow
                );
                cmp!(format!("{at}, extra.overflow"), ea.overflow, eb.overflow);
                cmp!(
                    format!("{at}, extra.oldoverflow"),
                    ea.oldoverflow,
                    eb.oldoverflow
                );
            }
            (x, y) => cmp!(format!("{at}, extra"), x.is_some(), y.is_some()),
        }
        let arrays = [
            ("buckets", Some(&a.buckets), Some(&b.buckets)),
            ("oldbuckets", a.oldbuckets.as_ref(), b.oldbuckets.as_ref()),
            ("heap", Some(&a.heap), Some(&b.heap)),
        ];
        for (name, xa, xb) in arrays {
            let (xa, xb) = match (xa, xb) {
                (Some(x), Some(y)) => (x, y),
                (x, y) => {
                    cmp!(format!("{at}, {name} present"), x.is_some(), y.is_some());
                    continue;
                }
            };
            cmp!(format!("{at}, number of {name}"), xa.len(), xb.len());
            for (ba, bb) in xa.iter().zip(xb) {
                let bat = format!("{at}, bucket {}", ba.id);
                cmp!(format!("{bat}: id"), ba.id, bb.id);
                for i in 0..8 {
                    cmp!(
                        format!("{bat}, slot {i}: tophash"),
                        ba.tophash[i],
                        bb.tophash[i]
                    );
                    cmp!(format!("{bat}, slot {i}: key"), ba.keys[i], bb.keys[i]);
                    cmp!(format!("{bat}, slot {i}: elem"), ba.elems[i], bb.elems[i]);
                }
                cmp!(format!("{bat}: overflow"), ba.overflow, bb.overflow);
            }
        }
    }
    None
}
