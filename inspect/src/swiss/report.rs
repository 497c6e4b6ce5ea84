//! The report of a Swiss-table map: everything `map-inspect dump` shows about it, as one data
//! structure. JSON output is this structure serialized (schema `gomap-swiss-dump/1`,
//! documented in `docs/swiss-dump-json.md` and `docs/swiss-dump.schema.json`); the text
//! output renders it ([`super::render`]).

use serde::{Deserialize, Serialize};

use crate::program::layout::{
    max_growth_left, SwissLayout, GROUP_SLOTS, MAX_AVG_GROUP_LOAD, MAX_TABLE_CAPACITY,
};
use crate::report::{slot_value, Addr, Field, HexBytes, LayoutInfo, SourceInfo, Types};
use crate::source::MemoryReader;

use super::decode::{Ctrl, Group, SwissDecoded, Table};
use super::GroupLayout;

/// The schema name of the JSON output.
pub const SCHEMA: &str = "gomap-swiss-dump/1";

/// The whole report.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct SwissReport {
    /// [`SCHEMA`].
    pub schema: String,
    /// Where the memory came from.
    pub source: SourceInfo,
    /// The Go version and map layout the memory was read with.
    pub layout: LayoutInfo,
    /// The map's types and group layout.
    pub map: SwissMapInfo,
    /// The `Map` header.
    pub header: SwissHeaderInfo,
    /// The directory (`null` for a small map).
    pub directory: Option<DirectoryInfo>,
    /// Every table, in directory order (the table filter leaves the others out).
    pub tables: Vec<TableInfo>,
    /// The groups shown, in order: the small map's group, or each shown table's groups.
    pub groups: Vec<GroupInfo>,
    /// Counts, load, what the next insert does, memory.
    pub summary: SwissSummary,
    /// What the options left out.
    pub shown: SwissShown,
    /// Things that look wrong but did not stop the dump.
    pub warnings: Vec<String>,
    /// What the map's state means, when it is unusual but not wrong (a write in progress).
    pub notes: Vec<String>,
}

/// Types and group layout.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct SwissMapInfo {
    /// Address of the `Map`.
    pub addr: Addr,
    /// The key type (Go's spelling).
    pub key_type: String,
    /// The elem type.
    pub elem_type: String,
    /// The group layout: where each slot's key and elem are.
    pub group: GroupLayout,
    /// The runtime map type descriptor the layout was checked against (`null`: not checked).
    pub runtime_type: Option<String>,
    /// No pointers in a group (`null` when unknown).
    pub pointer_free: Option<bool>,
}

/// The `Map` header.
#[allow(non_snake_case)]
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct SwissHeaderInfo {
    /// Address.
    pub addr: Addr,
    /// The raw bytes (48).
    pub raw: HexBytes,
    /// The table the text output prints: one row per field.
    pub fields: Vec<Field>,
    /// `used`.
    pub used: u64,
    /// `seed`.
    pub seed: Addr,
    /// `dirPtr`.
    pub dirPtr: Addr,
    /// `dirLen`.
    pub dirLen: i64,
    /// `globalDepth`.
    pub globalDepth: u8,
    /// `globalShift`.
    pub globalShift: u8,
    /// `writing`.
    pub writing: u8,
    /// `tombstonePossible` (`null` before Go 1.25).
    pub tombstonePossible: Option<bool>,
    /// `clearSeq`.
    pub clearSeq: u64,
    /// A small map (`dirLen == 0`): at most 8 entries in one group, no tables.
    pub small: bool,
}

/// The directory.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct DirectoryInfo {
    /// Its address (`dirPtr`).
    pub addr: Addr,
    /// Entries (`dirLen`).
    pub len: usize,
    /// Runs of entries that point to one table, in order.
    pub runs: Vec<DirectoryRun>,
}

/// Consecutive directory entries that point to one table.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct DirectoryRun {
    /// The first entry.
    pub first: usize,
    /// How many (`1 << (globalDepth - localDepth)`).
    pub count: usize,
    /// The table's number.
    pub table: usize,
    /// The table's address.
    pub addr: Addr,
}

/// What the next insert of a new key into a table does.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct NextInsert {
    /// `free-slot` (there is room), `grow-to-table` (a full small map moves into a table),
    /// `allocate-group` (a small map without a group), or, when the table is full:
    /// `double` (the table is replaced by one of twice the slots), `split` (by two tables of
    /// 1024 slots), `split-grow-directory` (and the directory doubles).
    pub action: String,
    /// When the table is full, a new key whose probe sequence meets a tombstone reuses it
    /// instead.
    pub reuses_tombstone: bool,
    /// When the table is full, Go first tries to prune tombstones (Go 1.25+, and at least
    /// 10% of the slots are tombstones); it succeeds when those no probe sequence needs are
    /// at least 10% of the slots, and then nothing grows.
    pub may_prune: bool,
    /// In plain words.
    pub text: String,
}

/// One table.
#[allow(non_snake_case)]
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct TableInfo {
    /// Its number (directory order, from 0).
    pub number: usize,
    /// Its address.
    pub addr: Addr,
    /// Its raw bytes (32).
    pub raw: HexBytes,
    /// The table the text output prints: one row per field.
    pub fields: Vec<Field>,
    /// `used`.
    pub used: u16,
    /// `capacity`.
    pub capacity: u16,
    /// `growthLeft`.
    pub growthLeft: u16,
    /// `localDepth`.
    pub localDepth: u8,
    /// `index`.
    pub index: i64,
    /// `groups.data`.
    pub groups_data: Addr,
    /// `groups.lengthMask`.
    pub lengthMask: u64,
    /// Its directory entries: the first, and how many.
    pub dir_first: usize,
    /// How many directory entries point to it.
    pub dir_count: usize,
    /// `capacity*7/8` (all slots but one for a table of one group): the most entries and
    /// tombstones it holds before it must grow.
    pub max_growth_left: u64,
    /// Tombstones by the table's fields: `max_growth_left - used - growthLeft` (Go's
    /// `tombstones()`).
    pub tombstones: i64,
    /// Slots by their control bytes.
    pub full_slots: usize,
    /// Deleted slots (tombstones) by their control bytes.
    pub deleted_slots: usize,
    /// Empty slots.
    pub empty_slots: usize,
    /// `used / capacity`.
    pub load: f64,
    /// What the next insert of a new key does.
    pub next_insert: NextInsert,
}

/// One slot.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct SwissSlot {
    /// 0..8.
    pub index: usize,
    /// The control byte.
    pub ctrl: u8,
    /// `empty`, `deleted` or `full`.
    pub state: String,
    /// For a full slot, the low 7 bits of its key's hash (H2).
    pub h2: Option<u8>,
    /// The key slot's bytes (a pointer for an indirect key).
    pub key_raw: HexBytes,
    /// The elem slot's bytes.
    pub elem_raw: HexBytes,
    /// The decoded key of a full slot.
    pub key: Option<serde_json::Value>,
    /// The key in Go syntax.
    pub key_text: Option<String>,
    /// The decoded elem.
    pub elem: Option<serde_json::Value>,
    /// The elem in Go syntax.
    pub elem_text: Option<String>,
}

/// One group.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct GroupInfo {
    /// `small` (a small map's group) or `t<table>.g<index>`.
    pub id: String,
    /// Its table (`null` for a small map).
    pub table: Option<usize>,
    /// Its index in the table's group array.
    pub index: usize,
    /// Its address.
    pub addr: Addr,
    /// The control word as 8 bytes (hex, slot 0 first).
    pub ctrl: HexBytes,
    /// The 8 slots.
    pub slots: Vec<SwissSlot>,
    /// The group's bytes (`null` with `--no-hex`).
    pub bytes: Option<HexBytes>,
}

/// Memory the map takes.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct SwissBytes {
    /// The `Map` (48).
    pub header: u64,
    /// The directory (`dirLen` pointers).
    pub directory: u64,
    /// The tables (32 bytes each).
    pub tables: u64,
    /// The groups (the small map's one, or every table's).
    pub groups: u64,
    /// Keys and elems stored through pointers (one object each per full slot).
    pub indirect: u64,
    /// The sum.
    pub total: u64,
}

/// The summary.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct SwissSummary {
    /// `used`.
    pub used: u64,
    /// Full slots found.
    pub live: usize,
    /// A small map.
    pub small: bool,
    /// Tables.
    pub tables: usize,
    /// Directory entries.
    pub directory_entries: usize,
    /// Groups.
    pub groups: usize,
    /// Slots (groups × 8).
    pub slots: usize,
    /// Tombstones (deleted slots) over all tables.
    pub tombstones: usize,
    /// The tables' `growthLeft` added up.
    pub growth_left: u64,
    /// What the next insert into a small map does (`null` for a map with tables: see each
    /// table's).
    pub next_insert: Option<NextInsert>,
    /// Memory.
    pub bytes: SwissBytes,
}

/// What the options left out.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct SwissShown {
    /// `all`, `table 2`, `table 2, group 5`, `group 0`.
    pub filter: String,
    /// Groups shown.
    pub groups: usize,
    /// Groups the filter selected before `--max-buckets`.
    pub selected: usize,
    /// Groups in the map.
    pub total: usize,
    /// Group bytes are included.
    pub hex: bool,
}

/// What the options select.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct SwissFilter {
    /// Only this table.
    pub table: Option<usize>,
    /// Only this group (of that table, or of a small map).
    pub group: Option<usize>,
    /// At most this many groups.
    pub max_groups: Option<usize>,
    /// Include the bytes.
    pub hex: bool,
}

fn ptr_text(a: u64) -> String {
    if a == 0 {
        "nil".into()
    } else {
        format!("{a:#x}")
    }
}

fn plural(n: u64, one: &str, many: &str) -> String {
    if n == 1 {
        format!("{n} {one}")
    } else {
        format!("{n} {many}")
    }
}

fn header_fields(d: &SwissDecoded) -> Vec<Field> {
    let h = &d.header;
    let o = &d.layout.map;
    let raw = |off: usize, n: usize| HexBytes(h.raw[off..off + n].to_vec());
    let mut v = vec![
        Field {
            name: "used".into(),
            offset: o.used,
            size: 8,
            raw: raw(o.used, 8),
            value: h.used.to_string(),
            meaning: "live entries: len(m)".into(),
        },
        Field {
            name: "seed".into(),
            offset: o.seed,
            size: 8,
            raw: raw(o.seed, 8),
            value: format!("{:#018x}", h.seed),
            meaning: "this map's hash seed (new at make, at clear, and when a delete empties \
                      the map)"
                .into(),
        },
        Field {
            name: "dirPtr".into(),
            offset: o.dir_ptr,
            size: 8,
            raw: raw(o.dir_ptr, 8),
            value: ptr_text(h.dir_ptr),
            meaning: if h.small() && h.dir_ptr == 0 {
                "nil: no group yet (the first insert allocates one)".into()
            } else if h.small() {
                "the small map's one group".into()
            } else {
                format!(
                    "the directory: {}",
                    plural(h.dir_len as u64, "table pointer", "table pointers")
                )
            },
        },
        Field {
            name: "dirLen".into(),
            offset: o.dir_len,
            size: 8,
            raw: raw(o.dir_len, 8),
            value: h.dir_len.to_string(),
            meaning: if h.small() {
                "0: a small map (at most 8 entries in one group, no tables)".into()
            } else {
                format!(
                    "directory entries, for {}",
                    plural(d.tables.len() as u64, "table", "distinct tables")
                )
            },
        },
        Field {
            name: "globalDepth".into(),
            offset: o.global_depth,
            size: 1,
            raw: raw(o.global_depth, 1),
            value: h.global_depth.to_string(),
            meaning: if h.small() {
                "unused by a small map".into()
            } else {
                format!(
                    "the top {} bits of a hash pick a directory entry",
                    h.global_depth
                )
            },
        },
        Field {
            name: "globalShift".into(),
            offset: o.global_shift,
            size: 1,
            raw: raw(o.global_shift, 1),
            value: h.global_shift.to_string(),
            meaning: if h.small() {
                "unused by a small map".into()
            } else if h.global_depth == 0 {
                "64 - globalDepth (a directory of one entry needs no hash bits)".into()
            } else {
                format!("64 - globalDepth: entry = hash >> {}", h.global_shift)
            },
        },
        Field {
            name: "writing".into(),
            offset: o.writing,
            size: 1,
            raw: raw(o.writing, 1),
            value: h.writing.to_string(),
            meaning: if h.writing == 0 {
                "no write in progress".into()
            } else {
                "a write is in progress (each write toggles it; concurrent use is detected with \
                 it)"
                .into()
            },
        },
        Field {
            name: "clearSeq".into(),
            offset: o.clear_seq,
            size: 8,
            raw: raw(o.clear_seq, 8),
            value: h.clear_seq.to_string(),
            meaning: format!(
                "how many times the map was cleared ({}); iterators started before a clear \
                 stop at it",
                if h.clear_seq == 0 {
                    "never"
                } else {
                    "clear(m)"
                }
            ),
        },
    ];
    if let (Some(off), Some(t)) = (o.tombstone_possible, h.tombstone_possible) {
        v.push(Field {
            name: "tombstonePossible".into(),
            offset: off,
            size: 1,
            raw: raw(off, 1),
            value: (t != 0).to_string(),
            meaning: if t != 0 {
                "a table may hold tombstones (set by a delete that left one)".into()
            } else {
                "no table holds a tombstone".into()
            },
        });
    }
    v.sort_by_key(|f| f.offset);
    v
}

fn table_fields(d: &SwissDecoded, t: &Table) -> Vec<Field> {
    let o = &d.layout.table;
    let raw = |off: usize, n: usize| HexBytes(t.raw[off..off + n].to_vec());
    let ng = t.length_mask + 1;
    vec![
        Field {
            name: "used".into(),
            offset: o.used,
            size: 2,
            raw: raw(o.used, 2),
            value: t.used.to_string(),
            meaning: "live entries in this table".into(),
        },
        Field {
            name: "capacity".into(),
            offset: o.capacity,
            size: 2,
            raw: raw(o.capacity, 2),
            value: t.capacity.to_string(),
            meaning: format!("slots: {ng} groups of 8"),
        },
        Field {
            name: "growthLeft".into(),
            offset: o.growth_left,
            size: 2,
            raw: raw(o.growth_left, 2),
            value: t.growth_left.to_string(),
            meaning: "inserts into empty slots left before the table must grow".into(),
        },
        Field {
            name: "localDepth".into(),
            offset: o.local_depth,
            size: 1,
            raw: raw(o.local_depth, 1),
            value: t.local_depth.to_string(),
            meaning: format!(
                "its keys share their top {} hash bits: it fills 1 << (globalDepth - \
                 localDepth) = {}",
                t.local_depth,
                plural(t.dir_count as u64, "directory entry", "directory entries")
            ),
        },
        Field {
            name: "index".into(),
            offset: o.index,
            size: 8,
            raw: raw(o.index, 8),
            value: t.index.to_string(),
            meaning: "its first directory entry".into(),
        },
        Field {
            name: "groups.data".into(),
            offset: o.groups_data,
            size: 8,
            raw: raw(o.groups_data, 8),
            value: ptr_text(t.groups_data),
            meaning: format!("its array of {ng} groups"),
        },
        Field {
            name: "groups.lengthMask".into(),
            offset: o.length_mask,
            size: 8,
            raw: raw(o.length_mask, 8),
            value: format!("{:#x}", t.length_mask),
            meaning: format!("groups - 1: probing wraps at {ng}"),
        },
    ]
}

/// What the next insert of a new key into table `t` does, by Go's rules.
pub fn next_insert_table(t: &Table, layout: &SwissLayout, global_depth: u8) -> NextInsert {
    let cap = t.capacity as u64;
    if t.growth_left > 0 {
        return NextInsert {
            action: "free-slot".into(),
            reuses_tombstone: false,
            may_prune: false,
            text: format!(
                "a new key takes an empty slot (or a tombstone its probe sequence meets): {} \
                 before the table is full",
                plural(t.growth_left as u64, "more insert", "more inserts")
            ),
        };
    }
    let tombs = t.tombstones_by_fields().max(0) as u64;
    let (action, grow) = if cap * 2 <= MAX_TABLE_CAPACITY {
        (
            "double",
            format!(
                "replaces the table with one of {} slots, rehashing its {} entries (grow)",
                cap * 2,
                t.used
            ),
        )
    } else if t.local_depth < global_depth {
        (
            "split",
            format!(
                "splits the table into two of {MAX_TABLE_CAPACITY} slots with localDepth {}, \
                 each taking half of its {} directory entries",
                t.local_depth + 1,
                t.dir_count
            ),
        )
    } else {
        (
            "split-grow-directory",
            format!(
                "splits the table into two of {MAX_TABLE_CAPACITY} slots with localDepth {}, \
                 and doubles the directory to {} entries (globalDepth {}), since localDepth = \
                 globalDepth",
                t.local_depth + 1,
                2u64 << global_depth,
                global_depth + 1
            ),
        )
    };
    let may_prune = layout.prunes_tombstones && tombs * 10 >= cap;
    let mut text = String::from("the table is full (growthLeft 0): ");
    if tombs > 0 {
        text.push_str("a new key whose probe sequence meets a tombstone reuses it; any other ");
    } else {
        text.push_str("a new key ");
    }
    if may_prune {
        text.push_str(&format!(
            "first prunes the tombstones no probe sequence needs ({tombs} of {cap} slots are \
             tombstones), which is enough if they are at least 10% of the slots; otherwise it \
             {grow}"
        ));
    } else {
        text.push_str(&grow);
        if layout.prunes_tombstones && tombs > 0 {
            text.push_str(&format!(
                " (its {tombs} tombstones are under 10% of the slots: not worth pruning)"
            ));
        }
    }
    NextInsert {
        action: action.into(),
        reuses_tombstone: tombs > 0,
        may_prune,
        text,
    }
}

/// What the next insert into a small map does.
pub fn next_insert_small(d: &SwissDecoded) -> NextInsert {
    let used = d.header.used;
    if d.header.dir_ptr == 0 {
        return NextInsert {
            action: "allocate-group".into(),
            reuses_tombstone: false,
            may_prune: false,
            text: "the first insert allocates the map's group (growToSmall)".into(),
        };
    }
    if used < GROUP_SLOTS as u64 {
        return NextInsert {
            action: "free-slot".into(),
            reuses_tombstone: false,
            may_prune: false,
            text: format!(
                "a new key takes one of the group's {} free slots",
                GROUP_SLOTS as u64 - used
            ),
        };
    }
    NextInsert {
        action: "grow-to-table".into(),
        reuses_tombstone: false,
        may_prune: false,
        text: format!(
            "the group is full: a new key moves the {GROUP_SLOTS} entries into a table of 16 \
             slots (2 groups) and the map gets a directory of one entry (growToTable; before \
             Go 1.27 an assignment to a key already present does this too)"
        ),
    }
}

fn group_info<R: MemoryReader + ?Sized>(
    r: &R,
    d: &SwissDecoded,
    types: &Types,
    table: Option<&Table>,
    g: &Group,
    hex: bool,
    value_warnings: &mut Vec<String>,
) -> GroupInfo {
    let gl = &d.group;
    let id = match table {
        None => "small".to_string(),
        Some(t) => format!("t{}.g{}", t.number, g.index),
    };
    let mut slots = Vec::with_capacity(GROUP_SLOTS);
    for i in 0..GROUP_SLOTS {
        let st = g.state(i);
        let full = matches!(st, Ctrl::Full(_));
        let (key, key_text, elem, elem_text) = if full {
            let k = slot_value(
                r,
                &types.key,
                g.key_slot(gl, i),
                gl.indirect_key,
                gl.key_size,
            );
            if let Some(w) = &k.warning {
                value_warnings.push(format!("{id} slot {i} key: {w}"));
            }
            let e = slot_value(
                r,
                &types.elem,
                g.elem_slot(gl, i),
                gl.indirect_elem,
                gl.elem_size,
            );
            if let Some(w) = &e.warning {
                value_warnings.push(format!("{id} slot {i} elem: {w}"));
            }
            (Some(k.json), Some(k.text), Some(e.json), Some(e.text))
        } else {
            (None, None, None, None)
        };
        slots.push(SwissSlot {
            index: i,
            ctrl: g.ctrl(i),
            state: st.name().to_string(),
            h2: match st {
                Ctrl::Full(h) => Some(h),
                _ => None,
            },
            key_raw: HexBytes(g.key_slot(gl, i).to_vec()),
            elem_raw: HexBytes(g.elem_slot(gl, i).to_vec()),
            key,
            key_text,
            elem,
            elem_text,
        });
    }
    GroupInfo {
        id,
        table: table.map(|t| t.number),
        index: g.index,
        addr: Addr(g.addr),
        ctrl: HexBytes(g.bytes[..8].to_vec()),
        slots,
        bytes: hex.then(|| HexBytes(g.bytes.clone())),
    }
}

/// Builds the report of a decoded Swiss map.
pub fn build<R: MemoryReader + ?Sized>(
    r: &R,
    d: &SwissDecoded,
    types: &Types,
    source: SourceInfo,
    layout: LayoutInfo,
    runtime_type: Option<String>,
    filter: &SwissFilter,
) -> Result<SwissReport, String> {
    let h = &d.header;
    // The filter first: a wrong table or group number is an error that says what exists.
    if let Some(t) = filter.table {
        if h.small() {
            return Err(format!(
                "--table {t}: a small map has no tables (its one group is --group 0)"
            ));
        }
        if t >= d.tables.len() {
            return Err(format!(
                "--table {t}: the map has tables 0..{}",
                d.tables.len() - 1
            ));
        }
    }
    if let Some(g) = filter.group {
        match (filter.table, h.small()) {
            (None, false) => {
                return Err(format!(
                    "--group {g} needs --table N: the map has {} tables",
                    d.tables.len()
                ))
            }
            (None, true) if g != 0 || d.small.is_none() => {
                return Err(format!(
                    "--group {g}: a small map has {}",
                    if d.small.is_some() {
                        "one group, group 0"
                    } else {
                        "no group yet"
                    }
                ))
            }
            (Some(t), _) => {
                let n = d.tables[t].groups.len();
                if g >= n {
                    return Err(format!("--group {g}: table {t} has groups 0..{}", n - 1));
                }
            }
            _ => {}
        }
    }
    let total = d.ngroups();
    let selected: Vec<(Option<&Table>, &Group)> = d
        .groups()
        .filter(|(t, g)| {
            filter
                .table
                .map_or(true, |n| t.is_some_and(|t| t.number == n))
                && filter.group.map_or(true, |n| g.index == n)
        })
        .collect();
    let nselected = selected.len();
    let shown: Vec<(Option<&Table>, &Group)> = match filter.max_groups {
        Some(m) => selected.into_iter().take(m).collect(),
        None => selected,
    };
    let mut value_warnings = Vec::new();
    let groups: Vec<GroupInfo> = shown
        .iter()
        .map(|(t, g)| group_info(r, d, types, *t, g, filter.hex, &mut value_warnings))
        .collect();
    let mut warnings = d.warnings.clone();
    const MAX_VALUE_WARNINGS: usize = 20;
    let nvw = value_warnings.len();
    warnings.extend(value_warnings.into_iter().take(MAX_VALUE_WARNINGS));
    if nvw > MAX_VALUE_WARNINGS {
        warnings.push(format!(
            "... and {} more value warnings",
            nvw - MAX_VALUE_WARNINGS
        ));
    }

    let tables: Vec<TableInfo> = d
        .tables
        .iter()
        .filter(|t| filter.table.map_or(true, |n| t.number == n))
        .map(|t| {
            let (full, deleted, empty) = t.counts();
            TableInfo {
                number: t.number,
                addr: Addr(t.addr),
                raw: HexBytes(t.raw.clone()),
                fields: table_fields(d, t),
                used: t.used,
                capacity: t.capacity,
                growthLeft: t.growth_left,
                localDepth: t.local_depth,
                index: t.index,
                groups_data: Addr(t.groups_data),
                lengthMask: t.length_mask,
                dir_first: t.dir_first,
                dir_count: t.dir_count,
                max_growth_left: t.max_growth_left(),
                tombstones: t.tombstones_by_fields(),
                full_slots: full,
                deleted_slots: deleted,
                empty_slots: empty,
                load: t.used as f64 / (t.capacity.max(1)) as f64,
                next_insert: next_insert_table(t, &d.layout, h.global_depth),
            }
        })
        .collect();
    let directory = (!h.small()).then(|| DirectoryInfo {
        addr: Addr(h.dir_ptr),
        len: d.directory.len(),
        runs: d
            .tables
            .iter()
            .map(|t| DirectoryRun {
                first: t.dir_first,
                count: t.dir_count,
                table: t.number,
                addr: Addr(t.addr),
            })
            .collect(),
    });
    let live = d.live();
    let bytes = SwissBytes {
        header: h.raw.len() as u64,
        directory: d.directory.len() as u64 * 8,
        tables: d.tables.len() as u64 * d.layout.table.size as u64,
        groups: d.ngroups() as u64 * d.group.group_size as u64,
        indirect: d.indirect_bytes(),
        total: d.total_bytes(),
    };
    let summary = SwissSummary {
        used: h.used,
        live,
        small: h.small(),
        tables: d.tables.len(),
        directory_entries: d.directory.len(),
        groups: total,
        slots: total * GROUP_SLOTS,
        tombstones: d.tables.iter().map(|t| t.counts().1).sum(),
        growth_left: d.tables.iter().map(|t| t.growth_left as u64).sum(),
        next_insert: h.small().then(|| next_insert_small(d)),
        bytes,
    };
    let filter_text = match (filter.table, filter.group) {
        (None, None) => "all".to_string(),
        (Some(t), None) => format!("table {t}"),
        (Some(t), Some(g)) => format!("table {t}, group {g}"),
        (None, Some(g)) => format!("group {g}"),
    };
    let pointer_free = match (types.key.has_pointers(), types.elem.has_pointers()) {
        _ if d.group.indirect_key || d.group.indirect_elem => Some(false),
        (Some(true), _) | (_, Some(true)) => Some(false),
        (Some(false), Some(false)) => Some(true),
        _ => None,
    };
    Ok(SwissReport {
        schema: SCHEMA.into(),
        source,
        layout,
        map: SwissMapInfo {
            addr: Addr(d.map),
            key_type: types.key.name(),
            elem_type: types.elem.name(),
            group: d.group.clone(),
            runtime_type,
            pointer_free,
        },
        header: SwissHeaderInfo {
            addr: Addr(d.map),
            raw: HexBytes(h.raw.clone()),
            fields: header_fields(d),
            used: h.used,
            seed: Addr(h.seed),
            dirPtr: Addr(h.dir_ptr),
            dirLen: h.dir_len,
            globalDepth: h.global_depth,
            globalShift: h.global_shift,
            writing: h.writing,
            tombstonePossible: h.tombstone_possible.map(|t| t != 0),
            clearSeq: h.clear_seq,
            small: h.small(),
        },
        directory,
        tables,
        groups,
        summary,
        shown: SwissShown {
            filter: filter_text,
            groups: shown.len(),
            selected: nselected,
            total,
            hex: filter.hex,
        },
        warnings,
        notes: d.notes.clone(),
    })
}

impl SwissReport {
    /// The map's entries as the report decodes them: every full slot of the groups shown,
    /// as (key, elem) JSON values. Complete only when no group was filtered out.
    pub fn entries(&self) -> Vec<(serde_json::Value, serde_json::Value)> {
        self.groups
            .iter()
            .flat_map(|g| g.slots.iter())
            .filter(|s| s.state == "full")
            .map(|s| {
                (
                    s.key.clone().unwrap_or(serde_json::Value::Null),
                    s.elem.clone().unwrap_or(serde_json::Value::Null),
                )
            })
            .collect()
    }
}

/// The load limit as text: `7/8 (87.5%)`, or `all slots but one` for a one-group table.
pub fn load_limit_text(capacity: u64) -> String {
    if capacity <= GROUP_SLOTS as u64 {
        format!("{} of {capacity} slots", max_growth_left(capacity))
    } else {
        format!(
            "{MAX_AVG_GROUP_LOAD}/8 = {} of {capacity} slots",
            max_growth_left(capacity)
        )
    }
}
