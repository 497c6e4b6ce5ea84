//! Walks a Swiss-table map's memory from its `Map` header: the one group of a small map, or
//! the directory, its tables and their groups. Nothing read is trusted: the header, the
//! directory and each table are checked before anything they point to is read, every read
//! is budgeted before it allocates, and every error names the field that is wrong.

use crate::decode::{DecodeError, Limits};
use crate::program::layout::{
    max_growth_left, SwissLayout, SwissMapOffsets, CTRL_DELETED, CTRL_EMPTY, GROUP_SLOTS,
    MAX_TABLE_CAPACITY,
};
use crate::source::MemoryReader;

use super::GroupLayout;

/// The largest `globalDepth` accepted: a directory of 2^40 entries would be 8 TiB.
pub const MAX_GLOBAL_DEPTH: u8 = 40;

/// The `Map` header's fields.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct SwissHeader {
    /// The raw bytes (48).
    pub raw: Vec<u8>,
    /// `used`: live entries.
    pub used: u64,
    /// `seed`.
    pub seed: u64,
    /// `dirPtr`.
    pub dir_ptr: u64,
    /// `dirLen` (a Go `int`).
    pub dir_len: i64,
    /// `globalDepth`.
    pub global_depth: u8,
    /// `globalShift`.
    pub global_shift: u8,
    /// `writing`.
    pub writing: u8,
    /// `tombstonePossible` (Go 1.25+).
    pub tombstone_possible: Option<u8>,
    /// `clearSeq`.
    pub clear_seq: u64,
}

impl SwissHeader {
    /// Decodes a header laid out as `o` says (`raw` holds at least `o.size` bytes).
    pub fn parse(raw: &[u8], o: &SwissMapOffsets) -> SwissHeader {
        let u64_at = |o: usize| u64::from_le_bytes(raw[o..o + 8].try_into().expect("8 bytes"));
        SwissHeader {
            raw: raw[..o.size].to_vec(),
            used: u64_at(o.used),
            seed: u64_at(o.seed),
            dir_ptr: u64_at(o.dir_ptr),
            dir_len: u64_at(o.dir_len) as i64,
            global_depth: raw[o.global_depth],
            global_shift: raw[o.global_shift],
            writing: raw[o.writing],
            tombstone_possible: o.tombstone_possible.map(|t| raw[t]),
            clear_seq: u64_at(o.clear_seq),
        }
    }

    /// A small map: no directory; `dirPtr` is its one group (or nil before the first insert).
    pub fn small(&self) -> bool {
        self.dir_len == 0
    }
}

/// The state a control byte encodes.
#[derive(Copy, Clone, Debug, PartialEq, Eq)]
pub enum Ctrl {
    /// `0x80`: never used since the table was made or cleared; ends a probe sequence.
    Empty,
    /// `0xFE`: a tombstone, a deleted entry in a group that was full.
    Deleted,
    /// `0hhhhhhh`: holds an entry whose hash's low 7 bits (H2) are `h`.
    Full(u8),
    /// Any other byte: no state Go writes.
    Invalid(u8),
}

impl Ctrl {
    /// The state of a control byte.
    pub fn of(b: u8) -> Ctrl {
        match b {
            CTRL_EMPTY => Ctrl::Empty,
            CTRL_DELETED => Ctrl::Deleted,
            h if h & 0x80 == 0 => Ctrl::Full(h),
            other => Ctrl::Invalid(other),
        }
    }

    /// `empty`, `deleted`, `full` or `invalid`.
    pub fn name(self) -> &'static str {
        match self {
            Ctrl::Empty => "empty",
            Ctrl::Deleted => "deleted",
            Ctrl::Full(_) => "full",
            Ctrl::Invalid(_) => "invalid",
        }
    }
}

/// One group's memory.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Group {
    /// Its address.
    pub addr: u64,
    /// Its index in its table's group array (0 for a small map's group).
    pub index: usize,
    /// Its bytes (`GroupSize`).
    pub bytes: Vec<u8>,
}

impl Group {
    /// The control byte of slot `i`.
    pub fn ctrl(&self, i: usize) -> u8 {
        self.bytes[i]
    }
    /// The state of slot `i`.
    pub fn state(&self, i: usize) -> Ctrl {
        Ctrl::of(self.bytes[i])
    }
    /// How many slots are in each state: (full, deleted, empty).
    pub fn counts(&self) -> (usize, usize, usize) {
        let mut c = (0, 0, 0);
        for i in 0..GROUP_SLOTS {
            match self.state(i) {
                Ctrl::Full(_) => c.0 += 1,
                Ctrl::Deleted => c.1 += 1,
                Ctrl::Empty => c.2 += 1,
                Ctrl::Invalid(_) => {}
            }
        }
        c
    }
    /// The bytes of key slot `i` (a pointer for an indirect key).
    pub fn key_slot(&self, g: &GroupLayout, i: usize) -> &[u8] {
        &self.bytes[g.key_offset(i)..g.key_offset(i) + g.key_slot_size()]
    }
    /// The bytes of elem slot `i`.
    pub fn elem_slot(&self, g: &GroupLayout, i: usize) -> &[u8] {
        &self.bytes[g.elem_offset(i)..g.elem_offset(i) + g.elem_slot_size()]
    }
}

/// One table.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Table {
    /// Its number: tables are numbered in directory order, from 0.
    pub number: usize,
    /// Its address.
    pub addr: u64,
    /// Its raw bytes (32).
    pub raw: Vec<u8>,
    /// `used`.
    pub used: u16,
    /// `capacity`.
    pub capacity: u16,
    /// `growthLeft`.
    pub growth_left: u16,
    /// `localDepth`.
    pub local_depth: u8,
    /// `index`.
    pub index: i64,
    /// `groups.data`.
    pub groups_data: u64,
    /// `groups.lengthMask`.
    pub length_mask: u64,
    /// The first directory entry that points to it.
    pub dir_first: usize,
    /// How many consecutive entries do.
    pub dir_count: usize,
    /// Its groups.
    pub groups: Vec<Group>,
}

impl Table {
    /// Go's `maxGrowthLeft` for this table's capacity.
    pub fn max_growth_left(&self) -> u64 {
        max_growth_left(self.capacity as u64)
    }
    /// Tombstones by the table's own fields (Go's `tombstones()`: `capacity*7/8 - used -
    /// growthLeft`).
    pub fn tombstones_by_fields(&self) -> i64 {
        self.max_growth_left() as i64 - self.used as i64 - self.growth_left as i64
    }
    /// Slots in each state over all groups: (full, deleted, empty).
    pub fn counts(&self) -> (usize, usize, usize) {
        self.groups.iter().fold((0, 0, 0), |a, g| {
            let c = g.counts();
            (a.0 + c.0, a.1 + c.1, a.2 + c.2)
        })
    }
}

/// A decoded Swiss map.
#[derive(Clone, Debug)]
pub struct SwissDecoded {
    /// Address of the `Map`.
    pub map: u64,
    /// The header and table layout used.
    pub layout: SwissLayout,
    /// The group layout used.
    pub group: GroupLayout,
    /// The header.
    pub header: SwissHeader,
    /// A small map's group (`None` for a map with tables, or a small map before its first
    /// insert).
    pub small: Option<Group>,
    /// The directory's table pointers, in order.
    pub directory: Vec<u64>,
    /// The tables, in directory order.
    pub tables: Vec<Table>,
    /// Things that look wrong but do not stop the decode.
    pub warnings: Vec<String>,
    /// What an unusual but possible state means (a write in progress).
    pub notes: Vec<String>,
}

impl SwissDecoded {
    /// Every group: the small map's, then each table's in order.
    pub fn groups(&self) -> impl Iterator<Item = (Option<&Table>, &Group)> {
        self.small.iter().map(|g| (None, g)).chain(
            self.tables
                .iter()
                .flat_map(|t| t.groups.iter().map(move |g| (Some(t), g))),
        )
    }
    /// Number of groups.
    pub fn ngroups(&self) -> usize {
        self.small.iter().count() + self.tables.iter().map(|t| t.groups.len()).sum::<usize>()
    }
    /// Live entries found (full slots).
    pub fn live(&self) -> usize {
        self.groups().map(|(_, g)| g.counts().0).sum()
    }
    /// Bytes of the map's structures: the header, the directory, the tables and their
    /// groups (or the small map's group).
    pub fn structure_bytes(&self) -> u64 {
        self.header.raw.len() as u64
            + self.directory.len() as u64 * 8
            + self.tables.len() as u64 * self.layout.table.size as u64
            + self.ngroups() as u64 * self.group.group_size as u64
    }
    /// Bytes of the keys and elems stored through pointers: one object per full slot.
    pub fn indirect_bytes(&self) -> u64 {
        let per = (if self.group.indirect_key {
            self.group.key_size as u64
        } else {
            0
        }) + if self.group.indirect_elem {
            self.group.elem_size as u64
        } else {
            0
        };
        self.live() as u64 * per
    }
    /// All the bytes the map takes: [`Self::structure_bytes`] and
    /// [`Self::indirect_bytes`].
    pub fn total_bytes(&self) -> u64 {
        self.structure_bytes() + self.indirect_bytes()
    }
    /// Whether a write was in progress (`writing` set).
    pub fn writing(&self) -> bool {
        self.header.writing != 0
    }
}

struct Walker<'r, R: ?Sized> {
    r: &'r R,
    limits: Limits,
    read_bytes: u64,
}

impl<R: MemoryReader + ?Sized> Walker<'_, R> {
    fn budget(&mut self, n: u64, what: &str) -> Result<(), DecodeError> {
        self.read_bytes = self.read_bytes.saturating_add(n);
        if self.read_bytes > self.limits.max_bytes {
            return Err(DecodeError::Limit(format!(
                "{what} would take the read past {} bytes (raise the limit if the map really is \
                 that large)",
                self.limits.max_bytes
            )));
        }
        Ok(())
    }
    /// Reads `len` bytes of the structure `what` that `field` points to: a failed read is
    /// the pointer's fault, and the error says so.
    fn read_at(
        &mut self,
        addr: u64,
        len: usize,
        field: &str,
        what: &str,
    ) -> Result<Vec<u8>, DecodeError> {
        self.budget(len as u64, what)?;
        self.r.read_vec(addr, len).map_err(|e| {
            DecodeError::Corrupt(format!(
                "{field} = {addr:#x} points outside the memory read: {what} cannot be read ({})",
                e.reason
            ))
        })
    }
}

fn check_pointer(name: &str, p: u64) -> Result<(), String> {
    if p % 8 != 0 {
        return Err(format!("{name} = {p:#x} is not an 8-aligned pointer"));
    }
    if p != 0 && p < 4096 {
        return Err(format!("{name} = {p:#x} points into the first page"));
    }
    Ok(())
}

/// Checks that a header looks like a Swiss `Map` before anything it points to is read.
pub fn check_header(h: &SwissHeader) -> Result<(), String> {
    if h.raw.iter().all(|&b| b == 0) {
        return Err(format!(
            "the {} header bytes are all zero (a made map has a random seed)",
            h.raw.len()
        ));
    }
    if h.used >= 1 << 62 {
        return Err(format!("used = {} is impossible", h.used));
    }
    if h.writing > 1 {
        return Err(format!(
            "writing = {:#04x}: Go toggles it between 0 and 1",
            h.writing
        ));
    }
    if let Some(t) = h.tombstone_possible {
        if t > 1 {
            return Err(format!("tombstonePossible = {t:#04x} is not a bool"));
        }
    }
    if h.clear_seq >= 1 << 48 {
        return Err(format!(
            "clearSeq = {:#x} is not a count of clears",
            h.clear_seq
        ));
    }
    if h.dir_ptr % 8 != 0 {
        return Err(format!(
            "dirPtr = {:#x} is not an 8-aligned pointer",
            h.dir_ptr
        ));
    }
    if h.dir_ptr != 0 && h.dir_ptr < 4096 {
        return Err(format!(
            "dirPtr = {:#x} points into the first page",
            h.dir_ptr
        ));
    }
    if h.dir_len < 0 {
        return Err(format!("dirLen = {} is negative", h.dir_len));
    }
    if h.dir_len == 0 {
        // A small map: one group of at most 8 entries, no directory.
        if h.global_depth != 0 {
            return Err(format!(
                "globalDepth = {} but dirLen = 0: a small map has no directory",
                h.global_depth
            ));
        }
        if h.global_shift != 0 {
            return Err(format!(
                "globalShift = {} but dirLen = 0: a small map has never had a directory",
                h.global_shift
            ));
        }
        if h.used > GROUP_SLOTS as u64 {
            return Err(format!(
                "used = {} but dirLen = 0: a small map holds at most {GROUP_SLOTS} entries",
                h.used
            ));
        }
        if h.dir_ptr == 0 && h.used != 0 {
            return Err(format!(
                "used = {} but dirPtr is nil: the map has no group",
                h.used
            ));
        }
        return Ok(());
    }
    if h.global_depth > MAX_GLOBAL_DEPTH {
        return Err(format!(
            "globalDepth = {} (a directory of 2^{} tables); the largest accepted is \
             {MAX_GLOBAL_DEPTH}",
            h.global_depth, h.global_depth
        ));
    }
    if h.dir_len as u64 != 1u64 << h.global_depth {
        return Err(format!(
            "dirLen = {} but globalDepth = {}: the directory has 1 << globalDepth = {} entries",
            h.dir_len,
            h.global_depth,
            1u64 << h.global_depth
        ));
    }
    if h.global_shift as u32 != 64 - h.global_depth as u32 {
        return Err(format!(
            "globalShift = {} but globalDepth = {}: globalShift is 64 - globalDepth",
            h.global_shift, h.global_depth
        ));
    }
    if h.dir_ptr == 0 {
        return Err(format!("dirPtr is nil but dirLen = {}", h.dir_len));
    }
    Ok(())
}

/// Checks a table's own fields before its groups are read.
fn check_table(t: &Table, global_depth: u8) -> Result<(), String> {
    let name = format!("table {} at {:#x}", t.number, t.addr);
    let cap = t.capacity as u64;
    if !cap.is_power_of_two() || !(GROUP_SLOTS as u64..=MAX_TABLE_CAPACITY).contains(&cap) {
        return Err(format!(
            "{name}: capacity = {cap} is not a power of two from {GROUP_SLOTS} to \
             {MAX_TABLE_CAPACITY} (maxTableCapacity)"
        ));
    }
    let groups = cap / GROUP_SLOTS as u64;
    if t.length_mask != groups - 1 {
        return Err(format!(
            "{name}: groups.lengthMask = {:#x} is absurd: a table of {cap} slots has {groups} \
             groups, so lengthMask is {}",
            t.length_mask,
            groups - 1
        ));
    }
    if t.local_depth > global_depth {
        return Err(format!(
            "{name}: localDepth = {} is beyond the map's globalDepth = {global_depth}",
            t.local_depth
        ));
    }
    let run = 1usize << (global_depth - t.local_depth);
    if t.dir_count != run {
        return Err(format!(
            "{name}: {} directory entries point to it (from entry {}), but localDepth {} at \
             globalDepth {global_depth} gives 1 << {} = {run}: the directory is inconsistent",
            t.dir_count,
            t.dir_first,
            t.local_depth,
            global_depth - t.local_depth
        ));
    }
    if t.dir_first % run != 0 {
        return Err(format!(
            "{name}: its {run} directory entries start at entry {}, not at a multiple of {run}: \
             the directory is inconsistent",
            t.dir_first
        ));
    }
    if t.index == -1 {
        return Err(format!(
            "{name}: index = -1 marks a table a grow or split replaced, yet directory entry {} \
             points to it",
            t.dir_first
        ));
    }
    if t.index != t.dir_first as i64 {
        return Err(format!(
            "{name}: index = {} but its directory entries start at {}: the directory is \
             inconsistent",
            t.index, t.dir_first
        ));
    }
    let mgl = t.max_growth_left();
    if t.used as u64 > cap {
        return Err(format!(
            "{name}: used = {} exceeds capacity = {cap}",
            t.used
        ));
    }
    if t.growth_left as u64 + t.used as u64 > mgl {
        return Err(format!(
            "{name}: used = {} and growthLeft = {} add up to more than {mgl} (capacity*7/8): \
             the tombstone count would be negative",
            t.used, t.growth_left
        ));
    }
    check_pointer(&format!("{name}: groups.data"), t.groups_data)?;
    if t.groups_data == 0 {
        return Err(format!("{name}: groups.data is nil"));
    }
    Ok(())
}

/// The first invalid control byte of a group, as an error naming it.
fn check_ctrls(g: &Group, where_: &str, small: bool) -> Result<(), String> {
    for i in 0..GROUP_SLOTS {
        match g.state(i) {
            Ctrl::Invalid(b) => {
                return Err(format!(
                    "{where_} slot {i}: ctrl byte {b:#04x} is no valid state (empty 0x80, \
                     deleted 0xfe, or full 0x00-0x7f)"
                ))
            }
            Ctrl::Deleted if small => {
                return Err(format!(
                    "{where_} slot {i}: ctrl byte 0xfe (deleted) in a small map, which never \
                     holds tombstones"
                ))
            }
            _ => {}
        }
    }
    Ok(())
}

/// Decodes the Swiss map whose `Map` header is at `addr`.
pub fn decode_swiss<R: MemoryReader + ?Sized>(
    r: &R,
    addr: u64,
    layout: &SwissLayout,
    group: &GroupLayout,
    limits: Limits,
) -> Result<SwissDecoded, DecodeError> {
    if addr == 0 {
        return Err(DecodeError::Corrupt("the map pointer is nil".into()));
    }
    group
        .check()
        .map_err(|e| DecodeError::Corrupt(format!("the group layout is impossible: {e}")))?;
    let mut w = Walker {
        r,
        limits,
        read_bytes: 0,
    };
    w.budget(layout.map.size as u64, "the header")?;
    // A failed read here is the address's fault (or the source's): a Read error, which the
    // caller turns into advice about the address.
    let raw = r.read_vec(addr, layout.map.size)?;
    let header = SwissHeader::parse(&raw, &layout.map);
    check_header(&header).map_err(DecodeError::Corrupt)?;
    let mut d = SwissDecoded {
        map: addr,
        layout: layout.clone(),
        group: group.clone(),
        header,
        small: None,
        directory: Vec::new(),
        tables: Vec::new(),
        warnings: Vec::new(),
        notes: Vec::new(),
    };
    if d.writing() {
        d.notes.push(
            "writing is set: a goroutine was in the middle of writing this map (an insert, a \
             delete or a clear) when the memory was read. Go toggles it around every write and \
             throws \"fatal error: concurrent map writes\" when a second writer finds it set \
             (\"concurrent map read and map write\" for a reader). If the process died of \
             that error, two goroutines wrote this map without a lock: the group being written \
             may hold a half-finished entry"
                .to_string(),
        );
    }
    let gs = group.group_size;
    let h = d.header.clone();
    if h.small() {
        if h.dir_ptr != 0 {
            let bytes = w.read_at(h.dir_ptr, gs, "dirPtr", "the small map's group")?;
            let g = Group {
                addr: h.dir_ptr,
                index: 0,
                bytes,
            };
            check_ctrls(&g, "the small map's group", true).map_err(DecodeError::Corrupt)?;
            d.small = Some(g);
        }
    } else {
        let n = h.dir_len as usize;
        let bytes = w.read_at(
            h.dir_ptr,
            n * 8,
            "dirPtr",
            &format!("the directory ({n} table pointers)"),
        )?;
        d.directory = bytes
            .chunks_exact(8)
            .map(|c| u64::from_le_bytes(c.try_into().expect("8")))
            .collect();
        // Runs of equal pointers: one table each, contiguous.
        let mut seen = std::collections::HashMap::new();
        let mut i = 0;
        while i < n {
            let p = d.directory[i];
            if p == 0 {
                return Err(DecodeError::Corrupt(format!(
                    "directory entry {i} (at {:#x}) is nil",
                    h.dir_ptr + 8 * i as u64
                )));
            }
            check_pointer(&format!("directory entry {i}"), p).map_err(DecodeError::Corrupt)?;
            let mut j = i + 1;
            while j < n && d.directory[j] == p {
                j += 1;
            }
            if let Some(first) = seen.insert(p, i) {
                return Err(DecodeError::Corrupt(format!(
                    "directory entries {first} and {i} point to the same table {p:#x}, but \
                     entry {} between them does not: a table's entries must be contiguous \
                     (the directory is inconsistent)",
                    i - 1
                )));
            }
            let number = d.tables.len();
            let what = format!("table {number}");
            let raw = w.read_at(p, layout.table.size, &format!("directory entry {i}"), &what)?;
            let o = &layout.table;
            let u16_at = |k: usize| u16::from_le_bytes([raw[k], raw[k + 1]]);
            let u64_at = |k: usize| u64::from_le_bytes(raw[k..k + 8].try_into().expect("8"));
            let t = Table {
                number,
                addr: p,
                used: u16_at(o.used),
                capacity: u16_at(o.capacity),
                growth_left: u16_at(o.growth_left),
                local_depth: raw[o.local_depth],
                index: u64_at(o.index) as i64,
                groups_data: u64_at(o.groups_data),
                length_mask: u64_at(o.length_mask),
                raw,
                dir_first: i,
                dir_count: j - i,
                groups: Vec::new(),
            };
            check_table(&t, h.global_depth).map_err(DecodeError::Corrupt)?;
            d.tables.push(t);
            i = j;
        }
        for t in &mut d.tables {
            let ng = (t.length_mask + 1) as usize;
            let bytes = w.read_at(
                t.groups_data,
                ng * gs,
                &format!("table {} groups.data", t.number),
                &format!("its {ng} groups of {gs} bytes"),
            )?;
            t.groups = bytes
                .chunks_exact(gs)
                .enumerate()
                .map(|(k, c)| Group {
                    addr: t.groups_data + (k * gs) as u64,
                    index: k,
                    bytes: c.to_vec(),
                })
                .collect();
            for g in &t.groups {
                check_ctrls(g, &format!("table {} group {}", t.number, g.index), false)
                    .map_err(DecodeError::Corrupt)?;
            }
        }
    }
    consistency(&mut d);
    Ok(d)
}

/// The counts the header and the tables keep, against the control bytes: mismatches are
/// warnings (notes while a write is in progress, which may not have updated them yet).
fn consistency(d: &mut SwissDecoded) {
    let mut issues = Vec::new();
    for t in &d.tables {
        let (full, deleted, empty) = t.counts();
        let name = format!("table {}", t.number);
        if full != t.used as usize {
            issues.push(format!(
                "{name}: used = {} but {full} slots are full",
                t.used
            ));
        }
        let by_fields = t.tombstones_by_fields();
        if deleted as i64 != by_fields {
            issues.push(format!(
                "{name}: {deleted} slots are deleted but capacity*7/8 - used - growthLeft = \
                 {} - {} - {} = {by_fields}",
                t.max_growth_left(),
                t.used,
                t.growth_left
            ));
        }
        if empty == 0 {
            issues.push(format!(
                "{name}: no slot is empty, so a lookup of a missing key would never end (Go \
                 keeps at least one empty slot)"
            ));
        }
    }
    let live = d.live() as u64;
    if live != d.header.used {
        issues.push(format!(
            "used is {} but {live} slots are full",
            d.header.used
        ));
    }
    if !d.tables.is_empty() {
        let sum: u64 = d.tables.iter().map(|t| t.used as u64).sum();
        if sum != d.header.used {
            issues.push(format!(
                "used is {} but the tables' used fields add up to {sum}",
                d.header.used
            ));
        }
    }
    if d.header.tombstone_possible == Some(0) {
        let tombs: usize = d.tables.iter().map(|t| t.counts().1).sum();
        if tombs > 0 {
            issues.push(format!(
                "tombstonePossible is false but {tombs} slots are deleted"
            ));
        }
    }
    if d.writing() {
        for i in issues {
            d.notes.push(format!(
                "{i}: possible while writing is set (the write in progress had not updated it)"
            ));
        }
    } else {
        d.warnings.extend(issues);
    }
}
