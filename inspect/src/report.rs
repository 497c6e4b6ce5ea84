//! The dump report: everything `map-inspect dump` shows about a decoded map, as one data
//! structure. JSON output is this structure serialized (schema `gomap-dump/1`, documented in
//! `docs/dump-json.md` and `docs/dump.schema.json`); the text output renders it.

use std::collections::HashSet;
use std::fmt;

use serde::{Deserialize, Serialize};

use gomap::layout::{bucket_shift, Flags, MapExtra, TophashState, BUCKET_CNT};

use crate::decode::{Decoded, Loc};
use crate::source::MemoryReader;
use crate::values::{hex, ValueType};

/// The schema name of the JSON output.
pub const SCHEMA: &str = "gomap-dump/1";

/// Bytes shown as a lower-case hex string in JSON.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct HexBytes(pub Vec<u8>);

impl Serialize for HexBytes {
    fn serialize<S: serde::Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        s.serialize_str(&hex(&self.0))
    }
}

impl<'de> Deserialize<'de> for HexBytes {
    fn deserialize<D: serde::Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        let s = String::deserialize(d)?;
        if s.len() % 2 != 0 {
            return Err(serde::de::Error::custom("odd number of hex digits"));
        }
        (0..s.len())
            .step_by(2)
            .map(|i| u8::from_str_radix(&s[i..i + 2], 16))
            .collect::<Result<Vec<u8>, _>>()
            .map(HexBytes)
            .map_err(serde::de::Error::custom)
    }
}

/// An address written `0x...` in JSON.
#[derive(Copy, Clone, Debug, PartialEq, Eq, Hash)]
pub struct Addr(pub u64);

impl fmt::Display for Addr {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{:#x}", self.0)
    }
}

impl Serialize for Addr {
    fn serialize<S: serde::Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        s.serialize_str(&self.to_string())
    }
}

impl<'de> Deserialize<'de> for Addr {
    fn deserialize<D: serde::Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        let s = String::deserialize(d)?;
        let h = s
            .strip_prefix("0x")
            .ok_or_else(|| serde::de::Error::custom("an address starts with 0x"))?;
        u64::from_str_radix(h, 16)
            .map(Addr)
            .map_err(serde::de::Error::custom)
    }
}

/// The whole report.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct Report {
    /// [`SCHEMA`].
    pub schema: String,
    /// Where the memory came from.
    pub source: SourceInfo,
    /// The Go version and map layout the memory was read with, and where they were found.
    #[serde(default)]
    pub layout: Option<LayoutInfo>,
    /// The map's types and layout.
    pub map: MapInfo,
    /// The `hmap`.
    pub header: HeaderInfo,
    /// `mapextra`, if the header points to one.
    pub extra: Option<ExtraInfo>,
    /// The buckets shown, in display order: each current-array chain (head first), the
    /// current array's preallocated buckets that no chain uses, then the same for the old
    /// array.
    pub buckets: Vec<BucketInfo>,
    /// Every overflow chain (longer than one bucket) whose head is shown.
    pub chains: Vec<ChainInfo>,
    /// Counts, load, grow progress, memory.
    pub summary: Summary,
    /// What the options left out.
    pub shown: Shown,
    /// Things that look wrong but did not stop the dump.
    pub warnings: Vec<String>,
    /// What the map's state means, when it is unusual but not wrong (a write in progress).
    #[serde(default)]
    pub notes: Vec<String>,
}

/// The Go version and layout used.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct LayoutInfo {
    /// The Go version (`1.24.11`), `null` for gomap's own maps.
    pub go_version: Option<String>,
    /// `GOEXPERIMENT` settings.
    pub experiments: Vec<String>,
    /// `classic` or `swiss`.
    pub implementation: String,
    /// The header's size (48 or 56 for a classic `hmap`, 48 for a Swiss `Map`).
    pub hmap_size: usize,
    /// One line: version, layout, growth rule.
    pub description: String,
    /// Where the version was found (`.go.buildinfo of ./server`, `--go-version`).
    pub found_in: String,
}

impl LayoutInfo {
    /// Describes a layout.
    pub fn of(l: &crate::program::layout::MapLayout) -> LayoutInfo {
        use crate::program::layout::MapImpl;
        LayoutInfo {
            go_version: l.go.map(|v| v.to_string()),
            experiments: l.experiments.clone(),
            implementation: match l.imp {
                MapImpl::Classic(_) => "classic".into(),
                MapImpl::Swiss(_) => "swiss".into(),
                MapImpl::Unsupported(_) => "unsupported".into(),
            },
            hmap_size: match &l.imp {
                MapImpl::Classic(c) => c.hmap.size,
                MapImpl::Swiss(s) => s.map.size,
                MapImpl::Unsupported(_) => 0,
            },
            description: l.describe(),
            found_in: l.found_in.clone(),
        }
    }
}

/// Where the memory came from.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct SourceInfo {
    /// `demo`, `snapshot` or `process`.
    pub kind: String,
    /// A one-line description (the demo's operations, the file, the pid).
    pub description: String,
}

/// Types and layout.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct MapInfo {
    /// Address of the `hmap`.
    pub hmap: Addr,
    /// Key type name (`uint64`, `string`, `[20]uint8`, ..., or `[N]byte?` when only the size
    /// is known).
    pub key_type: String,
    /// Elem type name.
    pub elem_type: String,
    /// Size of the key type.
    pub key_size: usize,
    /// Size of the elem type.
    pub elem_size: usize,
    /// Keys are stored through pointers (key larger than 128 bytes).
    pub indirect_key: bool,
    /// Elems are stored through pointers.
    pub indirect_elem: bool,
    /// Size of a key slot (Go's `maptype.keysize`).
    pub keysize: usize,
    /// Size of an elem slot.
    pub elemsize: usize,
    /// Size of a bucket.
    pub bucketsize: usize,
    /// Go's bucket type has no pointers (`null` when the types are not known).
    pub pointer_free: Option<bool>,
}

/// One row of the header table.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct Field {
    /// Go's field name.
    pub name: String,
    /// Offset in the `hmap`.
    pub offset: usize,
    /// Size in bytes.
    pub size: usize,
    /// The raw bytes.
    pub raw: HexBytes,
    /// The value, as text.
    pub value: String,
    /// What it means here.
    pub meaning: String,
}

/// The `hmap`.
#[allow(non_snake_case)]
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct HeaderInfo {
    /// Address.
    pub addr: Addr,
    /// The 48 raw bytes.
    pub raw: HexBytes,
    /// The table: one row per field.
    pub fields: Vec<Field>,
    /// `count`.
    pub count: u64,
    /// `flags`.
    pub flags: u8,
    /// The names of the flags that are set.
    pub flag_names: Vec<String>,
    /// `B`.
    pub B: u8,
    /// `noverflow`.
    pub noverflow: u16,
    /// `hash0`.
    pub hash0: u32,
    /// `buckets`.
    pub buckets: Addr,
    /// `oldbuckets`.
    pub oldbuckets: Addr,
    /// `nevacuate`.
    pub nevacuate: u64,
    /// `extra`.
    pub extra: Addr,
}

/// An overflow list (`*[]*bmap`).
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct OverflowList {
    /// Address of the slice header.
    pub addr: Addr,
    /// The buckets listed, by id (`main[17]`, `heap#0`, or a hex address).
    pub buckets: Vec<String>,
}

/// `mapextra`.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct ExtraInfo {
    /// Address.
    pub addr: Addr,
    /// The 24 raw bytes.
    pub raw: HexBytes,
    /// `overflow`.
    pub overflow: Option<OverflowList>,
    /// `oldoverflow`.
    pub oldoverflow: Option<OverflowList>,
    /// `nextOverflow` as an address.
    pub next_overflow: Addr,
    /// `nextOverflow` as a bucket id (`nil` when 0).
    pub next_overflow_bucket: String,
}

/// The evacuation state of an old bucket.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct Evacuation {
    /// Go's `evacuated(b)`: its first tophash is an `EVACUATED_*` mark.
    pub evacuated: bool,
    /// Where its X half goes (the same index in the new array).
    pub x: String,
    /// Where its Y half goes (index + old bucket count), for a doubling grow.
    pub y: Option<String>,
}

/// One slot of a bucket.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct Slot {
    /// Slot index 0..8.
    pub index: usize,
    /// The tophash byte.
    pub tophash: u8,
    /// `EMPTY_REST`, `EMPTY_ONE`, `EVACUATED_X`, `EVACUATED_Y`, `EVACUATED_EMPTY` or `live`.
    pub state: String,
    /// The key slot's bytes (a pointer for an indirect key).
    pub key_raw: HexBytes,
    /// The elem slot's bytes.
    pub elem_raw: HexBytes,
    /// The decoded key, for live slots (and for moved slots of pointer-free maps, whose
    /// data Go leaves in place); `null` otherwise.
    pub key: Option<serde_json::Value>,
    /// The key in Go syntax.
    pub key_text: Option<String>,
    /// The decoded elem.
    pub elem: Option<serde_json::Value>,
    /// The elem in Go syntax.
    pub elem_text: Option<String>,
}

/// One bucket.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct BucketInfo {
    /// `main[i]`, `old[i]` or `heap#n`.
    pub id: String,
    /// Address.
    pub addr: Addr,
    /// `buckets`, `oldbuckets` or `heap`.
    pub array: String,
    /// Index in its array (`null` for a heap bucket).
    pub index: Option<usize>,
    /// `head` (one of the 2^B buckets), `preallocated` (an overflow bucket allocated with
    /// the array) or `heap` (an overflow bucket allocated on its own).
    pub kind: String,
    /// The head of the chain it is in (`null`: in no chain).
    pub chain: Option<String>,
    /// Its position in that chain (0: the head).
    pub position: Option<usize>,
    /// Its live slots are entries of the map (false in evacuated old chains and in buckets
    /// no chain reaches).
    pub current: bool,
    /// For the head of an old chain: its evacuation state.
    pub evacuation: Option<Evacuation>,
    /// The overflow pointer.
    pub overflow: Addr,
    /// The overflow pointer as a bucket id (`nil`, `main[i]`, ..., or hex).
    pub next: String,
    /// The 8 slots.
    pub slots: Vec<Slot>,
    /// The bucket's bytes (`null` with `--no-hex`).
    pub bytes: Option<HexBytes>,
}

/// An overflow chain.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct ChainInfo {
    /// The head's id.
    pub head: String,
    /// The bucket ids, head first.
    pub buckets: Vec<String>,
}

/// Memory the map's structures take.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct Bytes {
    /// The `hmap` (48).
    pub header: u64,
    /// `mapextra` (24 or 0).
    pub extra: u64,
    /// Overflow lists: slice headers and their arrays (len words).
    pub overflow_lists: u64,
    /// The current array, preallocated buckets included.
    pub buckets: u64,
    /// The old array.
    pub oldbuckets: u64,
    /// Heap overflow buckets.
    pub heap: u64,
    /// The sum.
    pub total: u64,
}

/// The summary.
#[allow(non_snake_case)]
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct Summary {
    /// `count`.
    pub count: u64,
    /// Live entries found in the chains (current chains and unevacuated old chains).
    pub live: usize,
    /// `B`.
    pub B: u8,
    /// 2^B.
    pub nbuckets: usize,
    /// `count / 2^B`.
    pub load_factor: f64,
    /// The count above which an insert starts a doubling grow (`13 * 2^B / 2`, and > 8; Go
    /// 1.21: `12 * 2^B / 2`).
    pub grow_at: u64,
    /// The growth rule's entries per bucket: `6.5` (`6.0` for Go 1.21).
    #[serde(default)]
    pub grow_per_bucket: String,
    /// `noverflow`, Go's approximate overflow bucket count.
    pub noverflow: u16,
    /// Overflow buckets in the current array's chains.
    pub overflow_buckets: usize,
    /// Overflow buckets in the old array's chains.
    pub old_overflow_buckets: usize,
    /// Preallocated overflow buckets in the current array.
    pub preallocated: usize,
    /// How many of them a chain uses.
    pub preallocated_used: usize,
    /// Heap overflow buckets.
    pub heap_buckets: usize,
    /// A grow is in progress.
    pub growing: bool,
    /// It is a same-size grow.
    pub same_size_grow: bool,
    /// `nevacuate`.
    pub nevacuate: u64,
    /// Old bucket count (0 unless growing).
    pub noldbuckets: usize,
    /// Old buckets whose first tophash is an evacuation mark.
    pub evacuated: usize,
    /// Memory.
    pub bytes: Bytes,
}

/// What the options left out.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct Shown {
    /// The filter, as text (`all`, `bucket 3`, `old array`, ...).
    pub filter: String,
    /// Buckets shown.
    pub buckets: usize,
    /// Buckets the filter selected before `--max-buckets`.
    pub selected: usize,
    /// Buckets in the map.
    pub total: usize,
    /// Bucket bytes are included.
    pub hex: bool,
}

/// Which arrays to show.
#[derive(Copy, Clone, Debug, Default, PartialEq, Eq)]
pub enum Arrays {
    /// The current and the old array.
    #[default]
    Both,
    /// Only the current array (`--new`).
    New,
    /// Only the old array (`--old`).
    Old,
}

/// What to show.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Filter {
    /// Only bucket N's chain (`--bucket N`).
    pub bucket: Option<usize>,
    /// Swiss maps: only table N (`--table N`).
    pub table: Option<usize>,
    /// Swiss maps: only group N (`--group N`: of the table `--table` names, or of a small
    /// map).
    pub group: Option<usize>,
    /// Which arrays.
    pub arrays: Arrays,
    /// At most this many buckets.
    pub max_buckets: Option<usize>,
    /// Include the bytes (hex dumps).
    pub hex: bool,
}

impl Default for Filter {
    fn default() -> Self {
        Filter {
            bucket: None,
            table: None,
            group: None,
            arrays: Arrays::Both,
            max_buckets: None,
            hex: true,
        }
    }
}

/// The key and elem types used to decode slots.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Types {
    /// The key type.
    pub key: ValueType,
    /// The elem type.
    pub elem: ValueType,
    /// Go's bucket has no pointers (`None`: unknown).
    pub pointer_free: Option<bool>,
}

/// The meaning of each flag bit.
pub const FLAG_MEANINGS: [(Flags, &str, &str); 4] = [
    (
        Flags::ITERATOR,
        "ITERATOR",
        "an iterator may be using buckets",
    ),
    (
        Flags::OLD_ITERATOR,
        "OLD_ITERATOR",
        "an iterator may be using oldbuckets",
    ),
    (
        Flags::HASH_WRITING,
        "HASH_WRITING",
        "a write is in progress (concurrent use is detected with it)",
    ),
    (
        Flags::SAME_SIZE_GROW,
        "SAME_SIZE_GROW",
        "the grow in progress keeps the bucket count (too many overflow buckets)",
    ),
];

fn flag_names(flags: u8) -> Vec<String> {
    let mut v: Vec<String> = FLAG_MEANINGS
        .iter()
        .filter(|(f, _, _)| flags & f.bits() != 0)
        .map(|(_, n, _)| n.to_string())
        .collect();
    if flags & 0xf0 != 0 {
        v.push(format!("{:#04x}", flags & 0xf0));
    }
    v
}

fn plural(n: usize, one: &str, many: &str) -> String {
    if n == 1 {
        format!("{n} {one}")
    } else {
        format!("{n} {many}")
    }
}

/// The header table.
fn header_fields(d: &Decoded) -> Vec<Field> {
    let h = &d.header;
    let raw = |o: usize, n: usize| HexBytes(h.raw[o..o + n].to_vec());
    let ptr = |a: u64| {
        if a == 0 {
            "nil".to_string()
        } else {
            format!("{a:#x}")
        }
    };
    let npre = d.buckets.len().saturating_sub(d.nheads());
    let flags = if h.flags == 0 {
        "no flag set".to_string()
    } else {
        flag_names(h.flags).join("|")
    };
    let nold = d.noldheads();
    let o = d.classic.hmap;
    let mut fields = vec![
        Field {
            name: "count".into(),
            offset: o.count,
            size: 8,
            raw: raw(o.count, 8),
            value: h.count.to_string(),
            meaning: "live entries: len(m)".into(),
        },
        Field {
            name: "flags".into(),
            offset: o.flags,
            size: 1,
            raw: raw(o.flags, 1),
            value: format!("{:#04x}", h.flags),
            meaning: flags,
        },
        Field {
            name: "B".into(),
            offset: o.B,
            size: 1,
            raw: raw(o.B, 1),
            value: h.B.to_string(),
            meaning: format!(
                "log2 of the bucket count: 2^{} = {}",
                h.B,
                plural(bucket_shift(h.B.min(63)), "bucket", "buckets")
            ),
        },
        Field {
            name: "noverflow".into(),
            offset: o.noverflow,
            size: 2,
            raw: raw(o.noverflow, 2),
            value: h.noverflow.to_string(),
            meaning: format!(
                "approximate overflow bucket count; a same-size grow starts at {}",
                1u32 << h.B.min(15)
            ),
        },
        Field {
            name: "hash0".into(),
            offset: o.hash0,
            size: 4,
            raw: raw(o.hash0, 4),
            value: format!("{:#010x}", h.hash0),
            meaning: "this map's hash seed".into(),
        },
        Field {
            name: "buckets".into(),
            offset: o.buckets,
            size: 8,
            raw: raw(o.buckets, 8),
            value: ptr(h.buckets),
            meaning: if h.buckets == 0 {
                "no bucket array yet (allocated by the first insert)".into()
            } else if npre > 0 {
                format!(
                    "array of {} + {} preallocated overflow",
                    plural(d.nheads(), "bucket", "buckets"),
                    npre
                )
            } else {
                format!("array of {}", plural(d.nheads(), "bucket", "buckets"))
            },
        },
        Field {
            name: "oldbuckets".into(),
            offset: o.oldbuckets,
            size: 8,
            raw: raw(o.oldbuckets, 8),
            value: ptr(h.oldbuckets),
            meaning: if h.oldbuckets == 0 {
                "not growing".into()
            } else {
                format!(
                    "growing: the previous array of {}",
                    plural(nold, "bucket", "buckets")
                )
            },
        },
        Field {
            name: "nevacuate".into(),
            offset: o.nevacuate,
            size: 8,
            raw: raw(o.nevacuate, 8),
            value: h.nevacuate.to_string(),
            meaning: if h.oldbuckets == 0 {
                "grow progress (unused when not growing)".into()
            } else {
                format!(
                    "old buckets below {} are evacuated ({} of {})",
                    h.nevacuate, h.nevacuate, nold
                )
            },
        },
        Field {
            name: "extra".into(),
            offset: o.extra,
            size: 8,
            raw: raw(o.extra, 8),
            value: ptr(h.extra),
            meaning: if h.extra == 0 {
                "no mapextra".into()
            } else {
                "mapextra: overflow lists and nextOverflow".into()
            },
        },
    ];
    if let (Some(off), Some(c)) = (o.clear_seq, h.clear_seq) {
        fields.push(Field {
            name: "clearSeq".into(),
            offset: off,
            size: 8,
            raw: raw(off, 8),
            value: c.to_string(),
            meaning: format!(
                "how many times the map was cleared ({}); iterators started before a clear stop at it",
                if c == 0 { "never" } else { "clear(m) or the range-delete idiom" }
            ),
        });
    }
    fields.sort_by_key(|f| f.offset);
    fields
}

/// A bucket in display order, before rendering.
struct Item {
    loc: Loc,
    chain: Option<(Loc, usize)>,
    section: Arrays,
    /// In a chain that starts at a preallocated bucket (no head reaches it).
    prealloc: bool,
}

fn loc_id(loc: Loc) -> String {
    loc.to_string()
}

fn display_order(d: &Decoded) -> Vec<Item> {
    let mut items = Vec::new();
    let mut seen = HashSet::new();
    let nheads = d.nheads();
    for (h, chain) in d.chains.iter().enumerate() {
        // Current heads come first in `chains`, then old heads.
        let section = if h < nheads { Arrays::New } else { Arrays::Old };
        if h == nheads {
            // The current array's preallocated buckets no chain uses.
            push_unchained(d, &mut items, &mut seen, Arrays::New);
        }
        for (pos, &loc) in chain.iter().enumerate() {
            if seen.insert(loc) {
                items.push(Item {
                    loc,
                    chain: Some((chain[0], pos)),
                    section,
                    prealloc: false,
                });
            }
        }
    }
    if d.chains.len() == nheads {
        push_unchained(d, &mut items, &mut seen, Arrays::New);
    }
    push_unchained(d, &mut items, &mut seen, Arrays::Old);
    items
}

fn push_unchained(d: &Decoded, items: &mut Vec<Item>, seen: &mut HashSet<Loc>, s: Arrays) {
    let (n, lo, mk): (usize, usize, fn(usize) -> Loc) = match s {
        Arrays::Old => (d.oldbuckets.len(), d.noldheads(), Loc::Old),
        _ => (d.buckets.len(), d.nheads(), Loc::Main),
    };
    for i in lo..n {
        let loc = mk(i);
        if seen.insert(loc) {
            let chain = d.prealloc_chains.iter().find(|c| c[0] == loc);
            items.push(Item {
                loc,
                chain: chain.map(|_| (loc, 0)),
                section: s,
                prealloc: chain.is_some(),
            });
            // The buckets this preallocated bucket's overflow word leads to.
            for (pos, &l) in chain.into_iter().flatten().enumerate().skip(1) {
                if seen.insert(l) {
                    items.push(Item {
                        loc: l,
                        chain: Some((loc, pos)),
                        section: s,
                        prealloc: true,
                    });
                }
            }
        }
    }
}

/// Builds the report of a decoded map.
pub fn build<R: MemoryReader + ?Sized>(
    r: &R,
    d: &Decoded,
    types: &Types,
    source: SourceInfo,
    filter: &Filter,
) -> Result<Report, String> {
    let l = &d.layout;
    let h = &d.header;
    let mut warnings = d.warnings.clone();
    let nheads = d.nheads();
    let nold = d.noldheads();
    let doubling = !h.flags().contains(Flags::SAME_SIZE_GROW);

    let items = display_order(d);
    let total = items.len();

    // Select.
    if let Some(n) = filter.bucket {
        let in_new = n < d.buckets.len() && filter.arrays != Arrays::Old;
        let in_old = n < d.oldbuckets.len() && filter.arrays != Arrays::New;
        if !in_new && !in_old {
            let mut what = Vec::new();
            if filter.arrays != Arrays::Old {
                what.push(if d.buckets.is_empty() {
                    "the map has no bucket array".to_string()
                } else {
                    format!(
                        "the current array has buckets 0..{} ({} + {} preallocated)",
                        d.buckets.len() - 1,
                        nheads,
                        d.buckets.len() - nheads
                    )
                });
            }
            if filter.arrays != Arrays::New {
                what.push(if d.oldbuckets.is_empty() {
                    "there is no old array (the map is not growing)".to_string()
                } else {
                    format!("the old array has buckets 0..{}", d.oldbuckets.len() - 1)
                });
            }
            return Err(format!("no bucket {n}: {}", what.join("; ")));
        }
    }
    let selected: Vec<&Item> = items
        .iter()
        .filter(|it| match filter.arrays {
            Arrays::Both => true,
            a => it.section == a,
        })
        .filter(|it| match filter.bucket {
            None => true,
            Some(n) => {
                let index_of = |loc: Loc| match loc {
                    Loc::Main(i) | Loc::Old(i) => Some(i),
                    Loc::Heap(_) => None,
                };
                match it.chain {
                    Some((head, _)) => index_of(head) == Some(n) || index_of(it.loc) == Some(n),
                    None => index_of(it.loc) == Some(n),
                }
            }
        })
        .collect();
    let nselected = selected.len();
    let shown_items: Vec<&Item> = match filter.max_buckets {
        Some(m) => selected.into_iter().take(m).collect(),
        None => selected,
    };

    // Which chains are current: every current chain; old chains whose head is not evacuated.
    let chain_current = |head: Loc| match head {
        Loc::Old(_) => !d.bucket(head).evacuated(),
        _ => true,
    };
    let pointer_free = types.pointer_free;
    let mut value_warnings = Vec::new();
    let mut buckets = Vec::with_capacity(shown_items.len());
    for it in &shown_items {
        let b = d.bucket(it.loc);
        let (array, index, kind) = match it.loc {
            Loc::Main(i) => (
                "buckets",
                Some(i),
                if i < nheads { "head" } else { "preallocated" },
            ),
            Loc::Old(i) => (
                "oldbuckets",
                Some(i),
                if i < nold { "head" } else { "preallocated" },
            ),
            Loc::Heap(_) => ("heap", None, "heap"),
        };
        let current = !it.prealloc && it.chain.is_some_and(|(head, _)| chain_current(head));
        let evacuation = match it.loc {
            Loc::Old(i) if i < nold => Some(Evacuation {
                evacuated: b.evacuated(),
                x: format!("main[{i}]"),
                y: doubling.then(|| format!("main[{}]", i + nold)),
            }),
            _ => None,
        };
        let in_old_chain = matches!(it.chain, Some((Loc::Old(_), _)));
        let mut slots = Vec::with_capacity(BUCKET_CNT);
        for i in 0..BUCKET_CNT {
            let state = b.state(i);
            // Go leaves the data of moved entries in place only when the bucket has no
            // pointers; otherwise evacuation clears it.
            let moved = matches!(state, TophashState::EvacuatedX | TophashState::EvacuatedY);
            let decode_it =
                state.is_live() || (moved && in_old_chain && pointer_free == Some(true));
            let (key, key_text) = if decode_it {
                let v = slot_value(r, &types.key, b.key_slot(l, i), l.indirect_key, l.key_size);
                if let Some(w) = &v.warning {
                    value_warnings.push(format!("{} slot {i} key: {w}", it.loc));
                }
                (Some(v.json), Some(v.text))
            } else {
                (None, None)
            };
            let (elem, elem_text) = if decode_it {
                let v = slot_value(
                    r,
                    &types.elem,
                    b.elem_slot(l, i),
                    l.indirect_elem,
                    l.elem_size,
                );
                if let Some(w) = &v.warning {
                    value_warnings.push(format!("{} slot {i} elem: {w}", it.loc));
                }
                (Some(v.json), Some(v.text))
            } else {
                (None, None)
            };
            slots.push(Slot {
                index: i,
                tophash: b.bytes[i],
                state: state.name().to_string(),
                key_raw: HexBytes(b.key_slot(l, i).to_vec()),
                elem_raw: HexBytes(b.elem_slot(l, i).to_vec()),
                key,
                key_text,
                elem,
                elem_text,
            });
        }
        buckets.push(BucketInfo {
            id: loc_id(it.loc),
            addr: Addr(b.addr),
            array: array.into(),
            index,
            kind: kind.into(),
            chain: it.chain.map(|(head, _)| loc_id(head)),
            position: it.chain.map(|(_, p)| p),
            current,
            evacuation,
            overflow: Addr(b.overflow()),
            next: d.symbol(b.overflow()),
            slots,
            bytes: filter.hex.then(|| HexBytes(b.bytes.clone())),
        });
    }
    const MAX_VALUE_WARNINGS: usize = 20;
    let nvw = value_warnings.len();
    warnings.extend(value_warnings.into_iter().take(MAX_VALUE_WARNINGS));
    if nvw > MAX_VALUE_WARNINGS {
        warnings.push(format!(
            "... and {} more value warnings",
            nvw - MAX_VALUE_WARNINGS
        ));
    }

    let shown_heads: HashSet<Loc> = shown_items
        .iter()
        .filter_map(|it| it.chain.map(|(head, _)| head))
        .collect();
    let chains = d
        .chains
        .iter()
        .chain(d.prealloc_chains.iter())
        .filter(|c| c.len() > 1 && shown_heads.contains(&c[0]))
        .map(|c| ChainInfo {
            head: loc_id(c[0]),
            buckets: c.iter().map(|&l| loc_id(l)).collect(),
        })
        .collect();

    let extra = d.extra.as_ref().map(|e| {
        let list = |addr: u64, v: &Option<Vec<u64>>| {
            v.as_ref().map(|v| OverflowList {
                addr: Addr(addr),
                buckets: v.iter().map(|&a| d.symbol(a)).collect(),
            })
        };
        ExtraInfo {
            addr: Addr(e.addr),
            raw: HexBytes(e.raw.to_vec()),
            overflow: list(e.overflow, &e.overflow_list),
            oldoverflow: list(e.oldoverflow, &e.oldoverflow_list),
            next_overflow: Addr(e.next_overflow),
            next_overflow_bucket: d.symbol(e.next_overflow),
        }
    });

    let summary = summarize(d);
    let filter_text = {
        let mut parts = Vec::new();
        match filter.arrays {
            Arrays::Both => {}
            Arrays::New => parts.push("current array".to_string()),
            Arrays::Old => parts.push("old array".to_string()),
        }
        if let Some(n) = filter.bucket {
            parts.push(format!("bucket {n}"));
        }
        if parts.is_empty() {
            "all".to_string()
        } else {
            parts.join(", ")
        }
    };
    Ok(Report {
        schema: SCHEMA.into(),
        source,
        layout: None,
        map: MapInfo {
            hmap: Addr(d.hmap),
            key_type: types.key.name(),
            elem_type: types.elem.name(),
            key_size: l.key_size,
            elem_size: l.elem_size,
            indirect_key: l.indirect_key,
            indirect_elem: l.indirect_elem,
            keysize: l.keysize,
            elemsize: l.elemsize,
            bucketsize: l.bucketsize,
            pointer_free,
        },
        header: HeaderInfo {
            addr: Addr(d.hmap),
            raw: HexBytes(h.raw.to_vec()),
            fields: header_fields(d),
            count: h.count,
            flags: h.flags,
            flag_names: flag_names(h.flags),
            B: h.B,
            noverflow: h.noverflow,
            hash0: h.hash0,
            buckets: Addr(h.buckets),
            oldbuckets: Addr(h.oldbuckets),
            nevacuate: h.nevacuate,
            extra: Addr(h.extra),
        },
        extra,
        buckets,
        chains,
        summary,
        shown: Shown {
            filter: filter_text,
            buckets: shown_items.len(),
            selected: nselected,
            total,
            hex: filter.hex,
        },
        warnings,
        notes: d.notes.clone(),
    })
}

/// Decodes one key or elem slot, following the pointer of an indirect one.
pub(crate) fn slot_value<R: MemoryReader + ?Sized>(
    r: &R,
    ty: &ValueType,
    slot: &[u8],
    indirect: bool,
    size: usize,
) -> crate::values::Value {
    if !indirect {
        return ty.decode(slot, r);
    }
    let p = u64::from_le_bytes(slot[..8].try_into().expect("8 bytes"));
    if p == 0 {
        return crate::values::Value {
            text: "<nil pointer>".into(),
            json: serde_json::Value::Null,
            warning: Some("a live indirect slot holds a nil pointer".into()),
        };
    }
    match r.read_vec(p, size) {
        Ok(bytes) => ty.decode(&bytes, r),
        Err(e) => crate::values::Value {
            text: format!("<unreadable at {p:#x}>"),
            json: serde_json::Value::Null,
            warning: Some(format!("indirect value: {e}")),
        },
    }
}

fn summarize(d: &Decoded) -> Summary {
    let h = &d.header;
    let nheads = d.nheads();
    let nold = d.noldheads();
    let used: HashSet<Loc> = d.chains.iter().flatten().copied().collect();
    let overflow_in = |old: bool| {
        d.chains
            .iter()
            .enumerate()
            .filter(|(i, _)| (*i >= nheads) == old)
            .map(|(_, c)| c.len() - 1)
            .sum::<usize>()
    };
    let preallocated = d.buckets.len().saturating_sub(nheads);
    let preallocated_used = (nheads..d.buckets.len())
        .filter(|&i| used.contains(&Loc::Main(i)))
        .count();
    let evacuated = d.oldbuckets[..nold.min(d.oldbuckets.len())]
        .iter()
        .filter(|b| b.evacuated())
        .count();
    let bs = d.layout.bucketsize as u64;
    let lists = d.extra.as_ref().map_or(0, |e| {
        let one = |a: u64, v: &Option<Vec<u64>>| {
            if a == 0 {
                0
            } else {
                MapExtra::SIZE as u64 + 8 * v.as_ref().map_or(0, |v| v.len() as u64)
            }
        };
        one(e.overflow, &e.overflow_list) + one(e.oldoverflow, &e.oldoverflow_list)
    });
    let bytes = Bytes {
        header: h.raw.len() as u64,
        extra: if h.extra == 0 {
            0
        } else {
            MapExtra::SIZE as u64
        },
        overflow_lists: lists,
        buckets: d.buckets.len() as u64 * bs,
        oldbuckets: d.oldbuckets.len() as u64 * bs,
        heap: d.heap.len() as u64 * bs,
        total: 0,
    };
    let total = bytes.header
        + bytes.extra
        + bytes.overflow_lists
        + bytes.buckets
        + bytes.oldbuckets
        + bytes.heap;
    let nbuckets = bucket_shift(h.B.min(63));
    Summary {
        count: h.count,
        live: d.live(),
        B: h.B,
        nbuckets,
        load_factor: h.count as f64 / nbuckets as f64,
        grow_at: d.classic.load.grow_at(nbuckets as u64),
        grow_per_bucket: d.classic.load.per_bucket(),
        noverflow: h.noverflow,
        overflow_buckets: overflow_in(false),
        old_overflow_buckets: overflow_in(true),
        preallocated,
        preallocated_used,
        heap_buckets: d.heap.len(),
        growing: h.growing(),
        same_size_grow: h.flags().contains(Flags::SAME_SIZE_GROW),
        nevacuate: h.nevacuate,
        noldbuckets: nold,
        evacuated,
        bytes: Bytes { total, ..bytes },
    }
}

impl Report {
    /// The map's entries as the report decodes them: the live slots of the current chains
    /// and of the unevacuated old chains, as (key, elem) JSON values. Complete only when no
    /// bucket was filtered out.
    pub fn entries(&self) -> Vec<(serde_json::Value, serde_json::Value)> {
        self.buckets
            .iter()
            .filter(|b| b.current)
            .flat_map(|b| b.slots.iter())
            .filter(|s| s.state == "live")
            .map(|s| {
                (
                    s.key.clone().unwrap_or(serde_json::Value::Null),
                    s.elem.clone().unwrap_or(serde_json::Value::Null),
                )
            })
            .collect()
    }
}
