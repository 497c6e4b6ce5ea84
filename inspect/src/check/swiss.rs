//! Go's Swiss-table maps (Go 1.24–1.27, `internal/runtime/maps`) checked against the
//! runtime's rules, and looked up as `Map.getWithKey` does.
//!
//! The rules, the same in Go 1.24, 1.25, 1.26 and 1.27 and for both group layouts:
//! * a key's hash is the map type's hasher with the map's 64-bit `seed`; H1 is `hash >> 7`,
//!   H2 is `hash & 0x7f`, and a full slot's control byte is its key's H2;
//! * a small map (`dirLen == 0`) is one group at `dirPtr`: a lookup compares H2 with every
//!   slot's control byte, and the keys where they match; a delete empties the slot, so a
//!   small map holds no tombstones;
//! * otherwise directory entry `hash >> globalShift` (entry 0 when the directory has one
//!   entry) selects the table, and in it the probe sequence starts at group `H1 & lengthMask`
//!   and goes on triangularly (`index += 1; offset = (offset + index) & lengthMask`, which
//!   visits every group once): in each group the slots whose control byte is H2 are compared,
//!   and a group with an empty slot ends the search. So a full slot lies in the table its
//!   hash selects, and no group before its own on its probe sequence has an empty slot;
//! * no key is full twice; `used`, the map's and each table's, counts the full slots;
//! * a table fills at most `capacity*7/8` slots with entries and tombstones (`capacity - 1`
//!   for a table of one group: `maxGrowthLeft`), and `growthLeft` is what is left of that
//!   limit, so Go's `tombstones()`, `capacity*7/8 - used - growthLeft`, is the number of
//!   deleted control bytes; a table keeps an empty slot (probing ends at one);
//! * the directory has `1 << globalDepth` entries; a table of `localDepth` fills
//!   `1 << (globalDepth - localDepth)` consecutive entries starting at a multiple of that
//!   count, and its `index` is the first of them;
//! * from Go 1.25, `tombstonePossible` is set once a delete leaves a tombstone.

use std::collections::HashMap;

use super::{Checked, Lookup, MapRules, MapUnderTest, SlotStep, Violation, Visit};
use crate::dump::Failure;
use crate::program::keys::KeyValue;
use crate::program::layout::{max_growth_left, SwissLayout, GROUP_SLOTS, MAX_TABLE_CAPACITY};
use crate::swiss::decode::{check_header, Ctrl, Group, SwissHeader, Table};
use crate::swiss::GroupLayout;

/// The Swiss-table map's rules, for one header and table layout and one group layout.
pub struct Swiss {
    /// The `Map` header's and the tables' layout.
    pub layout: SwissLayout,
    /// Where a group's keys and elems are.
    pub group: GroupLayout,
}

/// The name of group `g` of table `t` (`t0.g5`, as `dump` names it), or of a small map's
/// group (`small`).
fn gname(table: Option<usize>, g: usize) -> String {
    match table {
        None => "small".into(),
        Some(t) => format!("t{t}.g{g}"),
    }
}

fn v(
    kind: &str,
    place: Option<String>,
    slot: Option<usize>,
    key: Option<String>,
    message: String,
) -> Violation {
    Violation {
        kind: kind.into(),
        bucket: place,
        slot,
        key,
        message,
    }
}

/// The memory read so far, against the limit.
struct Budget<'m, 'r> {
    m: &'m MapUnderTest<'r>,
    read: u64,
}

impl Budget<'_, '_> {
    fn take(&mut self, n: u64, what: &str) -> Result<(), Failure> {
        self.read = self.read.saturating_add(n);
        if self.read > self.m.limits.max_bytes {
            return Err(self.m.cannot(format!(
                "{what} would take the read past {} bytes; raise the limit with --limit-mib if \
                 the map really is that large",
                self.m.limits.max_bytes
            )));
        }
        Ok(())
    }

    /// Reads a stored key (its strings' bytes counted against the budget).
    fn key(&mut self, kb: &[u8]) -> Result<Result<KeyValue, String>, Failure> {
        let k = match self
            .m
            .plan
            .read_key(kb, self.m.reader, self.m.limits.max_bytes)
        {
            Ok(k) => k,
            Err(e) => return Ok(Err(e)),
        };
        let n: usize = k.strings.values().map(|s| s.len()).sum();
        self.take(n as u64, "the keys' strings")?;
        Ok(Ok(k))
    }
}

/// A table as the check found it.
struct TableMem {
    t: Table,
    /// Its runs of directory entries: (first, count). More than one breaks the directory.
    runs: Vec<(usize, usize)>,
    /// Its groups were read.
    readable: bool,
    /// Each group has an empty slot.
    has_empty: Vec<bool>,
}

/// A full slot.
struct Entry {
    /// Its table (`None`: a small map's group).
    table: Option<usize>,
    group: usize,
    slot: usize,
    ctrl: u8,
    /// The key's hash (`None`: unreadable, or a NaN).
    hash: Option<u64>,
    /// The key was read.
    readable: bool,
    /// What two equal keys share (`None`: unreadable, or a NaN, which equals nothing).
    canon: Option<Box<[u8]>>,
}

/// `5 → 6 → 8`, with the middle left out of a long sequence.
fn path_text(path: &[usize]) -> String {
    let s: Vec<String> = path.iter().map(|g| g.to_string()).collect();
    if s.len() <= 12 {
        s.join(" → ")
    } else {
        format!(
            "{} → … → {}",
            s[..6].join(" → "),
            s[s.len() - 3..].join(" → ")
        )
    }
}

/// Go's probe sequence over a table's groups (`probeSeq`): from `H1 & lengthMask`, then
/// `offset = (offset + index) & lengthMask` with `index` counting up from 1, which visits
/// each of the `lengthMask + 1` groups once.
#[derive(Copy, Clone, Debug)]
struct ProbeSeq {
    mask: u64,
    offset: u64,
    index: u64,
}

impl ProbeSeq {
    fn new(h1: u64, mask: u64) -> ProbeSeq {
        ProbeSeq {
            mask,
            offset: h1 & mask,
            index: 0,
        }
    }
    fn next(self) -> ProbeSeq {
        let index = self.index + 1;
        ProbeSeq {
            mask: self.mask,
            offset: (self.offset + index) & self.mask,
            index,
        }
    }
}

/// The directory index a hash selects (`Map.directoryIndex`).
fn dir_index(h: &SwissHeader, hash: u64) -> u64 {
    if h.dir_len == 1 {
        0
    } else {
        hash >> (h.global_shift & 63)
    }
}

/// A table's own fields that say where its groups are, checked before they are read.
fn table_shape(t: &Table) -> Result<(), String> {
    let cap = t.capacity as u64;
    if !cap.is_power_of_two() || !(GROUP_SLOTS as u64..=MAX_TABLE_CAPACITY).contains(&cap) {
        return Err(format!(
            "capacity = {cap} is not a power of two from {GROUP_SLOTS} to {MAX_TABLE_CAPACITY} \
             (maxTableCapacity)"
        ));
    }
    let groups = cap / GROUP_SLOTS as u64;
    if t.length_mask != groups - 1 {
        return Err(format!(
            "groups.lengthMask = {:#x}, but a table of {cap} slots has {groups} groups, so \
             lengthMask is {:#x}",
            t.length_mask,
            groups - 1
        ));
    }
    if t.groups_data == 0 || t.groups_data % 8 != 0 || t.groups_data < 4096 {
        return Err(format!(
            "groups.data = {:#x} is not a pointer to groups",
            t.groups_data
        ));
    }
    Ok(())
}

impl Swiss {
    fn header(&self, m: &MapUnderTest<'_>) -> Result<SwissHeader, Failure> {
        let raw = m
            .reader
            .read_vec(m.hmap, self.layout.map.size)
            .map_err(|e| m.cannot(format!("cannot read the header of {}: {e}", m.what)))?;
        let h = SwissHeader::parse(&raw, &self.layout.map);
        check_header(&h).map_err(|e| {
            m.cannot(format!(
                "the memory at {:#x} ({}) does not look like a Go Swiss-table map's header, so \
                 it cannot be checked: {e}",
                m.hmap, m.what
            ))
        })?;
        Ok(h)
    }

    fn seed(h: &SwissHeader) -> String {
        format!("Map.seed = {:#018x}", h.seed)
    }

    fn writing_note(m: &MapUnderTest<'_>, h: &SwissHeader) -> Option<String> {
        (h.writing != 0).then(|| {
            format!(
                "writing is set: a write to {} was in progress when the memory was read, so the \
                 map may be caught half-way through it (and a Go reader would throw \
                 \"concurrent map read and map write\")",
                m.what
            )
        })
    }

    /// Parses a table's 32 bytes.
    fn parse_table(
        &self,
        number: usize,
        addr: u64,
        raw: Vec<u8>,
        first: usize,
        count: usize,
    ) -> Table {
        let o = &self.layout.table;
        let u16_at = |k: usize| u16::from_le_bytes([raw[k], raw[k + 1]]);
        let u64_at = |k: usize| u64::from_le_bytes(raw[k..k + 8].try_into().expect("8 bytes"));
        Table {
            number,
            addr,
            used: u16_at(o.used),
            capacity: u16_at(o.capacity),
            growth_left: u16_at(o.growth_left),
            local_depth: raw[o.local_depth],
            index: u64_at(o.index) as i64,
            groups_data: u64_at(o.groups_data),
            length_mask: u64_at(o.length_mask),
            dir_first: first,
            dir_count: count,
            groups: Vec::new(),
            raw,
        }
    }

    /// The memory of key slot `i` of group `g` (through the pointer when indirect).
    fn key_bytes(&self, m: &MapUnderTest<'_>, g: &Group, i: usize) -> Result<Vec<u8>, String> {
        let slot = g.key_slot(&self.group, i);
        if self.group.indirect_key {
            let p = u64::from_le_bytes(slot.try_into().expect("8 bytes"));
            m.reader
                .read_vec(p, self.group.key_size)
                .map_err(|e| format!("the indirect key at {p:#x}: {e}"))
        } else {
            Ok(slot.to_vec())
        }
    }

    fn key_text(&self, m: &MapUnderTest<'_>, g: &Group, i: usize) -> String {
        match self.key_bytes(m, g, i) {
            Ok(kb) => m.show_key(&kb),
            Err(_) => "<unreadable>".into(),
        }
    }

    /// The elem of slot `i` of group `g`, decoded.
    fn elem(&self, m: &MapUnderTest<'_>, g: &Group, i: usize) -> (String, serde_json::Value) {
        let slot = g.elem_slot(&self.group, i);
        let bytes = if self.group.indirect_elem {
            let p = u64::from_le_bytes(slot.try_into().expect("8 bytes"));
            match m.reader.read_vec(p, self.group.elem_size) {
                Ok(b) => b,
                Err(e) => {
                    return (
                        format!("<the indirect elem at {p:#x}: {e}>"),
                        serde_json::Value::Null,
                    )
                }
            }
        } else {
            slot.to_vec()
        };
        let val = m.types.elem.decode(&bytes, m.reader);
        (val.text, val.json)
    }

    /// Reads the directory and its tables (their groups too), reporting what breaks Go's
    /// directory rules. Returns the tables and, for each directory entry, its table.
    fn directory(
        &self,
        m: &MapUnderTest<'_>,
        h: &SwissHeader,
        b: &mut Budget<'_, '_>,
        out: &mut Checked,
    ) -> Result<(Vec<TableMem>, Vec<Option<usize>>), Failure> {
        let n = h.dir_len as usize;
        b.take(n as u64 * 8, "the directory")?;
        let raw = m.reader.read_vec(h.dir_ptr, n * 8).map_err(|e| {
            m.cannot(format!(
                "dirPtr = {:#x}: the directory ({n} table pointers) cannot be read: {e}",
                h.dir_ptr
            ))
        })?;
        let ptrs: Vec<u64> = raw
            .chunks_exact(8)
            .map(|c| u64::from_le_bytes(c.try_into().expect("8 bytes")))
            .collect();
        let mut tables: Vec<TableMem> = Vec::new();
        let mut dir: Vec<Option<usize>> = Vec::with_capacity(n);
        let mut by_addr: HashMap<u64, usize> = HashMap::new();
        let mut i = 0;
        while i < n {
            let p = ptrs[i];
            let mut j = i + 1;
            while j < n && ptrs[j] == p {
                j += 1;
            }
            let entries = if j - i == 1 {
                format!("directory entry {i}")
            } else {
                format!("directory entries {i}..{}", j - 1)
            };
            if p == 0 || p % 8 != 0 || p < 4096 {
                out.violations.push(v(
                    "directory",
                    None,
                    None,
                    None,
                    format!(
                        "{entries} {} {p:#x}, not a table pointer: a lookup of a key whose hash \
                         selects {} would fault",
                        if j - i == 1 { "is" } else { "are" },
                        if j - i == 1 { "it" } else { "them" }
                    ),
                ));
                dir.extend(std::iter::repeat_n(None, j - i));
                i = j;
                continue;
            }
            if let Some(&t) = by_addr.get(&p) {
                let (f, c) = tables[t].runs[0];
                out.violations.push(v(
                    "directory",
                    Some(format!("t{t}")),
                    None,
                    None,
                    format!(
                        "{entries} point to table {t} at {p:#x}, and so do entries {f}..{}, but \
                         entry {} between them does not: a table's directory entries are \
                         contiguous (a split replaces a run by two halves)",
                        f + c - 1,
                        i - 1
                    ),
                ));
                tables[t].runs.push((i, j - i));
                dir.extend(std::iter::repeat_n(Some(t), j - i));
                i = j;
                continue;
            }
            b.take(self.layout.table.size as u64, "a table")?;
            match m.reader.read_vec(p, self.layout.table.size) {
                Err(e) => {
                    out.violations.push(v(
                        "directory",
                        None,
                        None,
                        None,
                        format!("{entries} point to {p:#x}, which cannot be read: {e}"),
                    ));
                    dir.extend(std::iter::repeat_n(None, j - i));
                }
                Ok(raw) => {
                    let number = tables.len();
                    by_addr.insert(p, number);
                    tables.push(TableMem {
                        t: self.parse_table(number, p, raw, i, j - i),
                        runs: vec![(i, j - i)],
                        readable: false,
                        has_empty: Vec::new(),
                    });
                    dir.extend(std::iter::repeat_n(Some(number), j - i));
                }
            }
            i = j;
        }
        let gd = h.global_depth;
        for tm in &mut tables {
            let t = &tm.t;
            let place = Some(format!("t{}", t.number));
            let (first, count) = tm.runs[0];
            let mut dv = |message: String| {
                out.violations
                    .push(v("directory", place.clone(), None, None, message))
            };
            if t.local_depth > gd {
                dv(format!(
                    "localDepth = {} is beyond the map's globalDepth = {gd}",
                    t.local_depth
                ));
            } else {
                let run = 1usize << (gd - t.local_depth);
                if count != run {
                    dv(format!(
                        "{count} directory entr{} point to it ({first}..{}), but localDepth {} at \
                         globalDepth {gd} gives 1 << {} = {run}",
                        if count == 1 { "y" } else { "ies" },
                        first + count - 1,
                        t.local_depth,
                        gd - t.local_depth
                    ));
                }
                if first % run != 0 {
                    dv(format!(
                        "its directory entries start at entry {first}, not at a multiple of \
                         {run} (1 << (globalDepth - localDepth)): the entries a table fills \
                         are the ones whose top localDepth hash bits it owns"
                    ));
                }
            }
            if t.index == -1 {
                dv(format!(
                    "index = -1 marks a table a grow or split replaced, yet directory entry \
                     {first} points to it"
                ));
            } else if t.index != first as i64 {
                dv(format!(
                    "index = {}, but its directory entries start at {first}: when the table \
                     grows or splits, Go rewrites the directory from its index, over entries \
                     of other tables",
                    t.index
                ));
            }
            if let Err(e) = table_shape(t) {
                out.violations.push(v(
                    "table",
                    place.clone(),
                    None,
                    None,
                    format!("{e}: its groups cannot be read, nor its entries checked"),
                ));
                continue;
            }
            let ng = (t.length_mask + 1) as usize;
            let gs = self.group.group_size;
            b.take((ng * gs) as u64, "a table's groups")?;
            match m.reader.read_vec(t.groups_data, ng * gs) {
                Err(e) => out.violations.push(v(
                    "table",
                    place.clone(),
                    None,
                    None,
                    format!(
                        "groups.data = {:#x}: its {ng} groups cannot be read ({e}), nor its \
                         entries checked",
                        t.groups_data
                    ),
                )),
                Ok(bytes) => {
                    let base = t.groups_data;
                    tm.t.groups = bytes
                        .chunks_exact(gs)
                        .enumerate()
                        .map(|(k, c)| Group {
                            addr: base + (k * gs) as u64,
                            index: k,
                            bytes: c.to_vec(),
                        })
                        .collect();
                    tm.has_empty =
                        tm.t.groups
                            .iter()
                            .map(|g| (0..GROUP_SLOTS).any(|s| g.state(s) == Ctrl::Empty))
                            .collect();
                    tm.readable = true;
                }
            }
        }
        Ok((tables, dir))
    }
}

impl MapRules for Swiss {
    fn check(&self, m: &MapUnderTest<'_>) -> Result<Checked, Failure> {
        let h = self.header(m)?;
        let mut out = Checked {
            seed: Self::seed(&h),
            ..Checked::default()
        };
        if let Some(n) = Self::writing_note(m, &h) {
            out.notes.push(n);
        }
        let mut b = Budget {
            m,
            read: self.layout.map.size as u64,
        };
        let gs = self.group.group_size;
        let mut small: Option<Group> = None;
        let (tables, dir) = if h.small() {
            if h.dir_ptr != 0 {
                b.take(gs as u64, "the small map's group")?;
                let bytes = m.reader.read_vec(h.dir_ptr, gs).map_err(|e| {
                    m.cannot(format!(
                        "dirPtr = {:#x}: the small map's group cannot be read: {e}",
                        h.dir_ptr
                    ))
                })?;
                small = Some(Group {
                    addr: h.dir_ptr,
                    index: 0,
                    bytes,
                });
            }
            (Vec::new(), Vec::new())
        } else {
            self.directory(m, &h, &mut b, &mut out)?
        };

        // Every slot: its control byte, and the full ones' keys.
        let groups: Vec<(Option<usize>, &Group)> = small
            .iter()
            .map(|g| (None, g))
            .chain(
                tables
                    .iter()
                    .flat_map(|tm| tm.t.groups.iter().map(move |g| (Some(tm.t.number), g))),
            )
            .collect();
        let seed = h.seed;
        let mut entries: Vec<Entry> = Vec::new();
        // Per table: (full, deleted, empty); and the small map's.
        let mut counts: Vec<(usize, usize, usize)> = vec![(0, 0, 0); tables.len()];
        let mut small_full = 0usize;
        for &(table, g) in &groups {
            for i in 0..GROUP_SLOTS {
                let c = g.ctrl(i);
                let st = g.state(i);
                if let Some(t) = table {
                    match st {
                        Ctrl::Full(_) => counts[t].0 += 1,
                        Ctrl::Deleted => counts[t].1 += 1,
                        Ctrl::Empty => counts[t].2 += 1,
                        Ctrl::Invalid(_) => {}
                    }
                }
                match st {
                    Ctrl::Invalid(_) => {
                        out.violations.push(v(
                            "ctrl",
                            Some(gname(table, g.index)),
                            Some(i),
                            None,
                            format!(
                                "ctrl byte {c:#04x} is no state Go writes (empty 0x80, deleted \
                                 0xfe, or full 0x00-0x7f: the key's H2)"
                            ),
                        ));
                        continue;
                    }
                    Ctrl::Deleted if table.is_none() => {
                        out.violations.push(v(
                            "ctrl",
                            Some(gname(table, g.index)),
                            Some(i),
                            None,
                            "ctrl byte 0xfe (deleted) in a small map, whose deletes empty the \
                             slot: a small map holds no tombstones"
                                .into(),
                        ));
                        continue;
                    }
                    Ctrl::Full(_) => {}
                    _ => continue,
                }
                if table.is_none() {
                    small_full += 1;
                }
                let (key, problem) = match self.key_bytes(m, g, i) {
                    Ok(kb) => match b.key(&kb)? {
                        Ok(k) => (Some(k), None),
                        Err(e) => (None, Some(e)),
                    },
                    Err(e) => (None, Some(e)),
                };
                if let Some(e) = problem {
                    out.violations.push(v(
                        "key",
                        Some(gname(table, g.index)),
                        Some(i),
                        Some(self.key_text(m, g, i)),
                        format!("the key cannot be read: {e}"),
                    ));
                }
                let hash = key.as_ref().and_then(|k| m.plan.hash(k, &m.hash, seed));
                let canon = key
                    .as_ref()
                    .and_then(|k| m.plan.canonical(k))
                    .map(Vec::into_boxed_slice);
                entries.push(Entry {
                    table,
                    group: g.index,
                    slot: i,
                    ctrl: c,
                    hash,
                    readable: key.is_some(),
                    canon,
                });
            }
        }
        let group_of = |e: &Entry| -> &Group {
            match e.table {
                None => small.as_ref().expect("the small map's group"),
                Some(t) => &tables[t].t.groups[e.group],
            }
        };
        let key_of = |e: &Entry| self.key_text(m, group_of(e), e.slot);

        // Each entry where its hash puts it.
        let mut nan = 0;
        for e in &entries {
            if !e.readable {
                continue;
            }
            let Some(hash) = e.hash else {
                nan += 1;
                continue;
            };
            let place = gname(e.table, e.group);
            let h2 = (hash & 0x7f) as u8;
            if e.ctrl != h2 {
                out.violations.push(v(
                    "h2",
                    Some(place.clone()),
                    Some(e.slot),
                    Some(key_of(e)),
                    format!(
                        "ctrl {:#04x}, but the key's hash is {hash:#018x}, whose H2 (hash & \
                         0x7f) is {h2:#04x}: lookups compare H2 first and would pass this slot by",
                        e.ctrl
                    ),
                ));
            }
            let Some(t) = e.table else { continue };
            let idx = dir_index(&h, hash);
            let how = if h.dir_len == 1 {
                "the directory has one entry, so every hash selects entry 0".to_string()
            } else {
                format!(
                    "hash {hash:#018x} >> globalShift {} = {idx} selects directory entry {idx}",
                    h.global_shift
                )
            };
            match dir.get(idx as usize).copied().flatten() {
                Some(want) if want == t => {}
                Some(want) => {
                    out.violations.push(v(
                        "table",
                        Some(place.clone()),
                        Some(e.slot),
                        Some(key_of(e)),
                        format!(
                            "the key is in table {t}, but {how}, which points to table {want} \
                             at {:#x}: a lookup of this key never reaches it",
                            tables[want].t.addr
                        ),
                    ));
                    continue;
                }
                // A broken directory entry, reported above.
                None => continue,
            }
            let tm = &tables[t];
            let mask = tm.t.length_mask;
            let h1 = hash >> 7;
            let mut seq = ProbeSeq::new(h1, mask);
            let mut path = Vec::new();
            for _ in 0..=mask {
                let off = seq.offset;
                path.push(off as usize);
                if off as usize == e.group {
                    break;
                }
                if tm.has_empty[off as usize] {
                    out.violations.push(v(
                        "probe",
                        Some(place.clone()),
                        Some(e.slot),
                        Some(key_of(e)),
                        format!(
                            "the key is in group {}, off its probe sequence: the sequence \
                             starts at group H1 & lengthMask = {h1:#x} & {mask:#x} = {}{}, and \
                             group {off} has an empty slot, so lookups stop there before they \
                             reach group {}",
                            e.group,
                            path[0],
                            if path.len() > 1 {
                                format!(" and goes {}", path_text(&path))
                            } else {
                                String::new()
                            },
                            e.group
                        ),
                    ));
                    break;
                }
                seq = seq.next();
            }
        }

        // No key full twice.
        let mut seen: HashMap<&[u8], usize> = HashMap::new();
        for (n, e) in entries.iter().enumerate() {
            let Some(c) = &e.canon else { continue };
            if let Some(&first) = seen.get(&c[..]) {
                let f = &entries[first];
                out.violations.push(v(
                    "duplicate",
                    Some(gname(e.table, e.group)),
                    Some(e.slot),
                    Some(key_of(e)),
                    format!(
                        "the key is full twice: also in {} slot {} (a map holds each key once; \
                         an assignment finds the existing slot and replaces its elem)",
                        gname(f.table, f.group),
                        f.slot
                    ),
                ));
            } else {
                seen.insert(c, n);
            }
        }

        // The counts each table keeps, against its control bytes.
        let writing = if h.writing != 0 {
            "; writing is set, so the write in progress may not have updated it yet"
        } else {
            ""
        };
        for (tm, &(full, deleted, empty)) in tables.iter().zip(&counts) {
            if !tm.readable {
                continue;
            }
            let t = &tm.t;
            let place = Some(format!("t{}", t.number));
            if t.used as usize != full {
                out.violations.push(v(
                    "used",
                    place.clone(),
                    None,
                    None,
                    format!(
                        "table {}: used = {}, but {full} of its slots are full{writing}",
                        t.number, t.used
                    ),
                ));
            }
            let mgl = max_growth_left(t.capacity as u64) as i64;
            let limit = if t.capacity as usize <= GROUP_SLOTS {
                format!("capacity - 1 = {mgl} for a table of one group")
            } else {
                format!("capacity*7/8 = {mgl}")
            };
            let want = mgl - full as i64 - deleted as i64;
            if want < 0 {
                out.violations.push(v(
                    "growth-left",
                    place.clone(),
                    None,
                    None,
                    format!(
                        "table {}: {full} full and {deleted} deleted slots are more than the \
                         {limit} a table fills before it grows (growthLeft = {})",
                        t.number, t.growth_left
                    ),
                ));
            } else if t.growth_left as i64 != want {
                out.violations.push(v(
                    "growth-left",
                    place.clone(),
                    None,
                    None,
                    format!(
                        "table {}: growthLeft = {}, but {limit} less its {full} full and \
                         {deleted} deleted slots leaves {want}: by its fields (Go's \
                         tombstones(), capacity*7/8 - used - growthLeft) the table has {} \
                         tombstone{}, but {deleted} ctrl byte{} deleted (0xfe){writing}",
                        t.number,
                        t.growth_left,
                        mgl - t.used as i64 - t.growth_left as i64,
                        if mgl - t.used as i64 - t.growth_left as i64 == 1 {
                            ""
                        } else {
                            "s"
                        },
                        if deleted == 1 { " is" } else { "s are" }
                    ),
                ));
            }
            if empty == 0 {
                out.violations.push(v(
                    "empty",
                    place,
                    None,
                    None,
                    format!(
                        "table {}: none of its {} slots is empty, so a lookup of a missing key \
                         would probe forever (Go keeps an empty slot in every table)",
                        t.number, t.capacity
                    ),
                ));
            }
        }

        // The map's used.
        let all_read = tables.iter().all(|t| t.readable) && !dir.iter().any(Option::is_none);
        let full: usize = small_full + counts.iter().map(|c| c.0).sum::<usize>();
        if all_read {
            if h.used != full as u64 {
                out.violations.push(v(
                    "used",
                    None,
                    None,
                    None,
                    format!(
                        "used is {}, but {full} slot{} {} full{writing}",
                        h.used,
                        if full == 1 { "" } else { "s" },
                        if full == 1 { "is" } else { "are" },
                    ),
                ));
            }
        } else {
            out.notes.push(
                "some tables could not be read (listed above): the map's used was not checked \
                 against its full slots"
                    .into(),
            );
        }
        let deleted: usize = counts.iter().map(|c| c.1).sum();
        if h.tombstone_possible == Some(0) && deleted > 0 {
            out.violations.push(v(
                "tombstone-possible",
                None,
                None,
                None,
                format!(
                    "tombstonePossible is false, but {deleted} slot{} deleted: Go sets it when a \
                     delete leaves a tombstone (clear skips a map with used == 0 and no possible \
                     tombstone)",
                    if deleted == 1 { " is" } else { "s are" }
                ),
            ));
        }
        if nan > 0 {
            out.notes.push(format!(
                "{nan} key{} hold{} a NaN, which Go hashes with a fresh random number each time: \
                 {} place cannot be checked (and no lookup finds {})",
                if nan == 1 { "" } else { "s" },
                if nan == 1 { "s" } else { "" },
                if nan == 1 { "its" } else { "their" },
                if nan == 1 { "it" } else { "them" },
            ));
        }
        let live = entries.len() as u64;
        let misplaced = out
            .violations
            .iter()
            .filter(|v| matches!(v.kind.as_str(), "h2" | "table" | "probe"))
            .count() as u64;
        if live >= 4 && misplaced * 2 >= live {
            out.notes.push(format!(
                "{misplaced} of {live} entries are not where their hashes put them: rather than \
                 that much damage, the hash used may not be the map's ({})",
                m.hash.describe()
            ));
        }
        out.entries = live;
        Ok(out)
    }

    fn lookup(
        &self,
        m: &MapUnderTest<'_>,
        keys: &[(String, KeyValue)],
    ) -> Result<(Vec<Lookup>, Vec<String>, String), Failure> {
        let h = self.header(m)?;
        let mut notes = Vec::new();
        if let Some(n) = Self::writing_note(m, &h) {
            notes.push(n);
        }
        let mut b = Budget {
            m,
            read: self.layout.map.size as u64,
        };
        let gs = self.group.group_size;
        if h.small() && h.dir_ptr != 0 && matches!(m.plan.size(), 4 | 8) {
            notes.push(
                "in a small map, Go's lookups specialised for 4- and 8-byte keys \
                 (mapaccess*_fast32/fast64) compare the key of every full slot without looking \
                 at H2; shown here is the generic lookup, which compares H2 first, as inserts \
                 and deletes do"
                    .into(),
            );
        }
        // The directory, read once, for the tables' numbers (as dump numbers them).
        let mut dir: Vec<u64> = Vec::new();
        if !h.small() {
            let n = h.dir_len as usize;
            b.take(n as u64 * 8, "the directory")?;
            let raw = m.reader.read_vec(h.dir_ptr, n * 8).map_err(|e| {
                m.cannot(format!(
                    "dirPtr = {:#x}: the directory ({n} table pointers) cannot be read: {e}",
                    h.dir_ptr
                ))
            })?;
            dir = raw
                .chunks_exact(8)
                .map(|c| u64::from_le_bytes(c.try_into().expect("8 bytes")))
                .collect();
        }
        let mut out = Vec::new();
        // Tables read so far, by address.
        let mut tables: HashMap<u64, Table> = HashMap::new();
        for (text, key) in keys {
            let mut l = Lookup {
                key: text.clone(),
                hash: None,
                bucket: None,
                tophash: None,
                steps: Vec::new(),
                visited: Vec::new(),
                found: false,
                at: None,
                elem: None,
                elem_json: None,
            };
            let hash = m.plan.hash(key, &m.hash, h.seed);
            if let Some(x) = hash {
                let h2 = (x & 0x7f) as u8;
                l.hash = Some(format!("{x:#018x}"));
                l.tophash = Some(format!("{h2:#04x}"));
                l.steps.push(format!(
                    "hash = {} with seed {:#018x}",
                    m.plan.describe(),
                    h.seed
                ));
                l.steps.push(format!(
                    "H1 = hash >> 7 = {:#x}; H2 = hash & 0x7f = {h2:#04x}",
                    x >> 7
                ));
            }
            if h.used == 0 {
                l.steps
                    .push("used is 0: Go returns the zero value without reading any group".into());
                out.push(l);
                continue;
            }
            let Some(hash) = hash else {
                l.steps.push(
                    "the key holds a NaN: Go hashes it randomly and NaN != NaN, so no lookup \
                     finds it"
                        .into(),
                );
                out.push(l);
                continue;
            };
            let h2 = (hash & 0x7f) as u8;
            if h.small() {
                l.steps.push(format!(
                    "dirLen = 0: a small map, whose one group at dirPtr {:#x} holds every entry: \
                     the slots whose ctrl byte is H2 are compared, and there is no probing",
                    h.dir_ptr
                ));
                l.bucket = Some("small".into());
                b.take(gs as u64, "the small map's group")?;
                let bytes = m.reader.read_vec(h.dir_ptr, gs).map_err(|e| {
                    m.cannot(format!(
                        "dirPtr = {:#x}: the small map's group cannot be read: {e}",
                        h.dir_ptr
                    ))
                })?;
                let g = Group {
                    addr: h.dir_ptr,
                    index: 0,
                    bytes,
                };
                self.visit(m, &mut b, &mut l, key, &g, "small", h2, false)?;
                out.push(l);
                continue;
            }
            let idx = dir_index(&h, hash) as usize;
            if h.dir_len == 1 {
                l.steps.push(
                    "dirLen = 1 (globalDepth 0): every hash selects directory entry 0".into(),
                );
            } else {
                l.steps.push(format!(
                    "globalDepth = {}: directory index = hash >> globalShift {} = {idx}",
                    h.global_depth, h.global_shift
                ));
            }
            let p = dir[idx];
            // Tables are numbered in directory order, as dump numbers them.
            let mut number = 0;
            for w in 1..=idx {
                if dir[w] != dir[w - 1] {
                    number += 1;
                }
            }
            if p == 0 || p % 8 != 0 || p < 4096 {
                return Err(m.cannot(format!(
                    "directory entry {idx} is {p:#x}, not a table pointer (a Go lookup of this \
                     key would fault)"
                )));
            }
            if let std::collections::hash_map::Entry::Vacant(slot) = tables.entry(p) {
                b.take(self.layout.table.size as u64, "a table")?;
                let raw = m.reader.read_vec(p, self.layout.table.size).map_err(|e| {
                    m.cannot(format!(
                        "directory entry {idx}: the table at {p:#x} cannot be read: {e}"
                    ))
                })?;
                let t = self.parse_table(number, p, raw, idx, 0);
                table_shape(&t).map_err(|e| {
                    m.cannot(format!(
                        "directory entry {idx}: table {number} at {p:#x}: {e}"
                    ))
                })?;
                slot.insert(t);
            }
            let t = &tables[&p];
            let mask = t.length_mask;
            let ng = mask + 1;
            l.steps.push(format!(
                "→ table {number} at {p:#x}: capacity {}, {ng} group{}, used {}",
                t.capacity,
                if ng == 1 { "" } else { "s" },
                t.used
            ));
            let mut seq = ProbeSeq::new(hash >> 7, mask);
            let start = seq.offset;
            l.steps.push(format!(
                "probe sequence: H1 & lengthMask {mask:#x} = group {start}, then +1, +2, +3, … \
                 (mod {ng}); in each group the slots whose ctrl byte is H2 are compared, and a \
                 group with an empty slot ends the search"
            ));
            l.bucket = Some(gname(Some(number), start as usize));
            let mut path = Vec::new();
            let mut ended = false;
            for _ in 0..ng {
                let off = seq.offset;
                path.push(off as usize);
                let addr = t.groups_data + off * gs as u64;
                b.take(gs as u64, "a group")?;
                let bytes = m.reader.read_vec(addr, gs).map_err(|e| {
                    m.cannot(format!(
                        "table {number} group {off} at {addr:#x} cannot be read: {e}"
                    ))
                })?;
                let g = Group {
                    addr,
                    index: off as usize,
                    bytes,
                };
                let name = gname(Some(number), off as usize);
                if self.visit(m, &mut b, &mut l, key, &g, &name, h2, true)? {
                    ended = true;
                    break;
                }
                seq = seq.next();
            }
            l.steps
                .push(format!("groups visited: {}", path_text(&path)));
            if !ended {
                l.steps.push(format!(
                    "all {ng} groups visited and none has an empty slot: Go's lookup of a \
                     missing key would never end in this table"
                ));
            }
            out.push(l);
        }
        Ok((out, notes, Self::seed(&h)))
    }
}

impl Swiss {
    /// Compares the slots of one group, as the lookup does; returns whether the lookup ends
    /// there (the key found, or, when probing, an empty slot in the group).
    #[allow(clippy::too_many_arguments)]
    fn visit(
        &self,
        m: &MapUnderTest<'_>,
        b: &mut Budget<'_, '_>,
        l: &mut Lookup,
        key: &KeyValue,
        g: &Group,
        name: &str,
        h2: u8,
        probing: bool,
    ) -> Result<bool, Failure> {
        let mut visit = Visit {
            bucket: name.to_string(),
            addr: format!("{:#x}", g.addr),
            slots: Vec::new(),
        };
        let mut has_empty = false;
        for i in 0..GROUP_SLOTS {
            let c = g.ctrl(i);
            let outcome = match g.state(i) {
                Ctrl::Empty => {
                    let first = !has_empty;
                    has_empty = true;
                    if probing && first {
                        "empty: the probe sequence ends with this group".to_string()
                    } else {
                        "empty".to_string()
                    }
                }
                Ctrl::Deleted => "deleted (a tombstone): passed by".into(),
                Ctrl::Invalid(_) => "no valid ctrl state: passed by".into(),
                Ctrl::Full(x) if x != h2 => "H2 differs".into(),
                Ctrl::Full(_) => {
                    let kb = self
                        .key_bytes(m, g, i)
                        .map_err(|e| m.cannot(format!("{name} slot {i}: {e}")))?;
                    let shown = m.show_key(&kb);
                    let stored = b
                        .key(&kb)?
                        .map_err(|e| m.cannot(format!("{name} slot {i}: the key: {e}")))?;
                    if m.plan.equal(key, &stored) {
                        visit.slots.push(SlotStep {
                            slot: i,
                            tophash: format!("{c:#04x}"),
                            outcome: format!("H2 matches; key {shown} matches"),
                        });
                        l.visited.push(visit);
                        let (et, ej) = self.elem(m, g, i);
                        l.found = true;
                        l.at = Some(format!("{name} slot {i}"));
                        l.elem = Some(et);
                        l.elem_json = Some(ej);
                        return Ok(true);
                    }
                    format!("H2 matches; key {shown} differs")
                }
            };
            visit.slots.push(SlotStep {
                slot: i,
                tophash: format!("{c:#04x}"),
                outcome,
            });
        }
        l.visited.push(visit);
        Ok(probing && has_empty)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_probe_sequence_visits_every_group_once() {
        // Go's triangular probing over a power of two visits each group exactly once: the
        // checks above rely on it to end.
        for ng in [1u64, 2, 4, 8, 16, 128] {
            for h1 in [0, 1, 5, 0x1234_5678_9abc, u64::MAX >> 7] {
                let mut seen = vec![false; ng as usize];
                let mut seq = ProbeSeq::new(h1, ng - 1);
                assert_eq!(seq.offset, h1 % ng);
                for _ in 0..ng {
                    assert!(!seen[seq.offset as usize], "{ng} groups from {h1:#x}");
                    seen[seq.offset as usize] = true;
                    seq = seq.next();
                }
                assert!(seen.iter().all(|&s| s));
            }
        }
        // Triangular steps: 5, 6, 8, 11, 15, 20 & 15 = 4.
        let mut seq = ProbeSeq::new(5, 15);
        let mut offs = Vec::new();
        for _ in 0..6 {
            offs.push(seq.offset);
            seq = seq.next();
        }
        assert_eq!(offs, [5, 6, 8, 11, 15, 4]);
    }

    #[test]
    fn paths_are_shortened() {
        assert_eq!(path_text(&[5, 6, 8]), "5 → 6 → 8");
        let long: Vec<usize> = (0..20).collect();
        assert_eq!(path_text(&long), "0 → 1 → 2 → 3 → 4 → 5 → … → 17 → 18 → 19");
    }
}
