//! Go's classic map (Go 1.19–1.25, and gomap) checked against the runtime's rules
//! (`runtime/map.go`), and looked up as `mapaccess2` does.
//!
//! The rules:
//! * a key's hash selects bucket `hash & (2^B - 1)`; while a grow is in progress, a lookup
//!   reads the old bucket `hash & (2^oldB - 1)` instead as long as that old bucket is not
//!   evacuated (`evacuated(b)`: its first tophash is `EVACUATED_X`, `_Y` or `_EMPTY`), so a
//!   live entry must be in the chain its hash selects, and nowhere else;
//! * its tophash byte is `tophash(hash)`: the top byte, moved up to 5..9 if below 5;
//! * a lookup stops at `EMPTY_REST`, so no live slot comes after one in a chain;
//! * no key is live twice; `count` is the number of live slots;
//! * old buckets below `nevacuate` are evacuated, every slot of an evacuated bucket carries an
//!   evacuation mark, and the current array carries none; a slot marked `EVACUATED_X` moved
//!   to the same index of the new array, `EVACUATED_Y` to index + 2^oldB, as
//!   `hash & 2^oldB` says (a same-size grow only moves to X); checked where the old key is
//!   still there (Go clears an evacuated head bucket's keys when the bucket holds pointers);
//! * overflow chains end (no cycle), stay in readable memory, and do not lead into a head
//!   bucket or another chain.

use std::collections::{HashMap, HashSet};

use gomap::layout::{
    bucket_mask, bucket_shift, evacuated, tophash, BucketLayout, Flags, BUCKET_CNT, EMPTY_ONE,
    EMPTY_REST, EVACUATED_EMPTY, EVACUATED_X, EVACUATED_Y, MIN_TOP_HASH,
};

use super::{Checked, Lookup, MapRules, MapUnderTest, SlotStep, Violation, Visit};
use crate::decode::{check_header, Header};
use crate::dump::Failure;
use crate::program::keys::KeyValue;
use crate::program::layout::ClassicLayout;

/// The classic map's rules, for one header layout and bucket layout.
pub struct Classic {
    /// The header layout and growth rule.
    pub layout: ClassicLayout,
    /// The bucket layout.
    pub bucket: BucketLayout,
}

/// Which array a chain hangs off.
#[derive(Copy, Clone, Debug, PartialEq, Eq, Hash)]
enum Array {
    Main,
    Old,
}

/// One bucket's memory.
struct Mem {
    addr: u64,
    name: String,
    bytes: Vec<u8>,
}

impl Mem {
    fn top(&self, i: usize) -> u8 {
        self.bytes[i]
    }
    fn overflow(&self) -> u64 {
        let n = self.bytes.len();
        u64::from_le_bytes(self.bytes[n - 8..].try_into().expect("8 bytes"))
    }
}

/// A head bucket and its overflow chain, as far as it could be followed.
struct Chain {
    array: Array,
    index: usize,
    buckets: Vec<Mem>,
    /// Why the walk stopped early.
    broken: Option<Violation>,
}

/// The map's memory, walked without trusting it.
struct Walk<'m, 'r> {
    m: &'m MapUnderTest<'r>,
    h: Header,
    bl: BucketLayout,
    read: u64,
    heap: HashMap<u64, usize>,
    /// Bucket address → the chain that holds it.
    owner: HashMap<u64, usize>,
    overflow_buckets: usize,
}

fn cannot(m: &MapUnderTest<'_>, msg: String) -> Failure {
    m.cannot(msg)
}

impl<'m, 'r> Walk<'m, 'r> {
    fn budget(&mut self, n: u64, what: &str) -> Result<(), Failure> {
        self.read = self.read.saturating_add(n);
        if self.read > self.m.limits.max_bytes {
            return Err(cannot(
                self.m,
                format!(
                    "{what} would take the read past {} bytes; raise the limit with --limit-mib \
                     if the map really is that large",
                    self.m.limits.max_bytes
                ),
            ));
        }
        Ok(())
    }

    /// The name of a bucket address: `main[i]`, `old[i]` (preallocated ones past 2^B), or
    /// `heap#n` in the order the walk met them.
    fn name(&mut self, addr: u64) -> String {
        let bs = self.bl.bucketsize as u64;
        for (base, b, what) in [
            (self.h.buckets, self.h.B, "main"),
            (self.h.oldbuckets, self.h.old_B(), "old"),
        ] {
            if base == 0 || (what == "old" && !self.h.growing()) {
                continue;
            }
            let n = self.bl.nbuckets(b).unwrap_or(0) as u64;
            if addr >= base && addr < base + n * bs && (addr - base) % bs == 0 {
                return format!("{what}[{}]", (addr - base) / bs);
            }
        }
        let next = self.heap.len();
        let n = *self.heap.entry(addr).or_insert(next);
        format!("heap#{n}")
    }

    fn head_index(&self, addr: u64) -> Option<String> {
        let bs = self.bl.bucketsize as u64;
        for (base, b, what) in [
            (self.h.buckets, self.h.B, "main"),
            (self.h.oldbuckets, self.h.old_B(), "old"),
        ] {
            if base == 0 || (what == "old" && !self.h.growing()) {
                continue;
            }
            let n = bucket_shift(b) as u64;
            if addr >= base && addr < base + n * bs && (addr - base) % bs == 0 {
                return Some(format!("{what}[{}]", (addr - base) / bs));
            }
        }
        None
    }

    fn array(&mut self, base: u64, b: u8, what: &str) -> Result<Vec<Mem>, Failure> {
        let bs = self.bl.bucketsize;
        let n = bucket_shift(b);
        let bytes = (n as u64).saturating_mul(bs as u64);
        self.budget(
            bytes,
            &format!("the {what} array ({n} buckets of {bs} bytes)"),
        )?;
        let all = self.m.reader.read_vec(base, bytes as usize).map_err(|e| {
            cannot(
                self.m,
                format!(
                    "cannot read the {what} bucket array of {}: {e}",
                    self.m.what
                ),
            )
        })?;
        Ok(all
            .chunks_exact(bs)
            .enumerate()
            .map(|(i, c)| Mem {
                addr: base + (i * bs) as u64,
                name: format!("{what}[{i}]"),
                bytes: c.to_vec(),
            })
            .collect())
    }

    /// Reads a stored key (its strings' bytes counted against the read budget).
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
        self.budget(n as u64, "the keys' strings")?;
        Ok(Ok(k))
    }

    /// Follows the chain of `head` (chain number `idx`).
    fn chain(
        &mut self,
        array: Array,
        index: usize,
        head: Mem,
        idx: usize,
    ) -> Result<Chain, Failure> {
        let mut c = Chain {
            array,
            index,
            buckets: Vec::new(),
            broken: None,
        };
        let head_name = head.name.clone();
        let mut in_chain = HashSet::new();
        in_chain.insert(head.addr);
        self.owner.insert(head.addr, idx);
        let mut next = head.overflow();
        c.buckets.push(head);
        let violation = |bucket: &str, message: String| Violation {
            kind: "chain".into(),
            bucket: Some(bucket.to_string()),
            slot: None,
            key: None,
            message,
        };
        while next != 0 {
            let last = c.buckets.last().expect("the head").name.clone();
            let from = format!("the overflow pointer of {last} (in the chain of {head_name})");
            if next % 8 != 0 {
                c.broken = Some(violation(
                    &last,
                    format!("{from} is {next:#x}, not an 8-aligned bucket address: the chain is cut there"),
                ));
                break;
            }
            if in_chain.contains(&next) {
                let to = self.name(next);
                c.broken = Some(violation(
                    &last,
                    format!(
                        "the overflow chain of {head_name} is cyclic: {from} points back to \
                         {to} at {next:#x}, already in the chain (a lookup of a missing key \
                         would never end)"
                    ),
                ));
                break;
            }
            if let Some(h) = self.head_index(next) {
                c.broken = Some(violation(
                    &last,
                    format!(
                        "{from} points to the head bucket {h} at {next:#x}: overflow buckets \
                         are never head buckets"
                    ),
                ));
                break;
            }
            if let Some(&other) = self.owner.get(&next) {
                let to = self.name(next);
                c.broken = Some(violation(
                    &last,
                    format!(
                        "{from} points to {to} at {next:#x}, which is in the chain of another \
                         head bucket (chain {other}): each overflow bucket belongs to one chain"
                    ),
                ));
                break;
            }
            self.overflow_buckets += 1;
            if self.overflow_buckets > self.m.limits.max_heap_buckets {
                return Err(cannot(
                    self.m,
                    format!(
                        "more than {} overflow buckets: refusing to follow more",
                        self.m.limits.max_heap_buckets
                    ),
                ));
            }
            let bs = self.bl.bucketsize;
            self.budget(bs as u64, "an overflow bucket")?;
            let bytes = match self.m.reader.read_vec(next, bs) {
                Ok(b) => b,
                Err(e) => {
                    c.broken = Some(violation(
                        &last,
                        format!(
                            "{from} is {next:#x}, which cannot be read ({e}): the chain leaves \
                             readable memory"
                        ),
                    ));
                    break;
                }
            };
            let name = self.name(next);
            in_chain.insert(next);
            self.owner.insert(next, idx);
            let m = Mem {
                addr: next,
                name,
                bytes,
            };
            next = m.overflow();
            c.buckets.push(m);
        }
        Ok(c)
    }
}

/// A live slot.
struct Entry {
    /// Its chain, and the bucket's position in it.
    chain: u32,
    pos: u32,
    slot: u8,
    top: u8,
    /// The key's hash (`None`: unreadable, or a NaN).
    hash: Option<u64>,
    /// The key was read.
    readable: bool,
    /// What two equal keys share (`None`: unreadable, or a NaN, which equals nothing).
    canon: Option<Box<[u8]>>,
}

impl Entry {
    fn bucket<'c>(&self, chains: &'c [Chain]) -> &'c Mem {
        &chains[self.chain as usize].buckets[self.pos as usize]
    }
}

impl Classic {
    fn header(&self, m: &MapUnderTest<'_>) -> Result<Header, Failure> {
        let raw = m
            .reader
            .read_vec(m.hmap, self.layout.hmap.size)
            .map_err(|e| m.cannot(format!("cannot read the header of {}: {e}", m.what)))?;
        let h = Header::parse_with(&raw, &self.layout.hmap);
        check_header(&h, m.limits.max_b).map_err(|e| {
            m.cannot(format!(
                "the memory at {:#x} ({}) does not look like a Go map's header, so it cannot be \
                 checked: {e}",
                m.hmap, m.what
            ))
        })?;
        Ok(h)
    }

    /// The key memory of slot `i` of bucket `b` (through the pointer when indirect).
    fn key_bytes(&self, m: &MapUnderTest<'_>, b: &Mem, i: usize) -> Result<Vec<u8>, String> {
        let l = &self.bucket;
        let slot = &b.bytes[l.key_offset(i)..l.key_offset(i) + l.keysize];
        if l.indirect_key {
            let p = u64::from_le_bytes(slot.try_into().expect("8 bytes"));
            m.reader
                .read_vec(p, l.key_size)
                .map_err(|e| format!("the indirect key at {p:#x}: {e}"))
        } else {
            Ok(slot.to_vec())
        }
    }

    /// The key of slot `i` of bucket `b` in Go syntax (decoded only for the slots a
    /// violation names).
    fn key_text(&self, m: &MapUnderTest<'_>, b: &Mem, i: usize) -> String {
        match self.key_bytes(m, b, i) {
            Ok(kb) => m.show_key(&kb),
            Err(_) => "<unreadable>".into(),
        }
    }

    /// The elem of slot `i` of bucket `b`, decoded.
    fn elem(&self, m: &MapUnderTest<'_>, b: &Mem, i: usize) -> (String, serde_json::Value) {
        let l = &self.bucket;
        let slot = &b.bytes[l.elem_offset(i)..l.elem_offset(i) + l.elemsize];
        let bytes = if l.indirect_elem {
            let p = u64::from_le_bytes(slot.try_into().expect("8 bytes"));
            match m.reader.read_vec(p, l.elem_size) {
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
        let v = m.types.elem.decode(&bytes, m.reader);
        (v.text, v.json)
    }

    fn hash_note(m: &MapUnderTest<'_>, h: &Header) -> Option<String> {
        h.flags().contains(Flags::HASH_WRITING).then(|| {
            format!(
                "HASH_WRITING is set: a write to {} was in progress when the memory was read, so \
                 the map may be caught half-way through it (and a Go reader would throw \
                 \"concurrent map read and map write\")",
                m.what
            )
        })
    }
}

fn v(
    kind: &str,
    bucket: &str,
    slot: Option<usize>,
    key: Option<&str>,
    message: String,
) -> Violation {
    Violation {
        kind: kind.into(),
        bucket: Some(bucket.to_string()),
        slot,
        key: key.map(String::from),
        message,
    }
}

impl MapRules for Classic {
    fn check(&self, m: &MapUnderTest<'_>) -> Result<Checked, Failure> {
        let h = self.header(m)?;
        let mut out = Checked {
            seed: format!("hash0 = {:#010x}", h.hash0),
            ..Checked::default()
        };
        if let Some(n) = Self::hash_note(m, &h) {
            out.notes.push(n);
        }
        let seed = h.hash0 as u64;
        let mut w = Walk {
            m,
            h: h.clone(),
            bl: self.bucket,
            read: self.layout.hmap.size as u64,
            heap: HashMap::new(),
            owner: HashMap::new(),
            overflow_buckets: 0,
        };
        let mut chains: Vec<Chain> = Vec::new();
        if h.buckets != 0 {
            let heads = w.array(h.buckets, h.B, "main")?;
            for (i, head) in heads.into_iter().enumerate() {
                let idx = chains.len();
                chains.push(w.chain(Array::Main, i, head, idx)?);
            }
        }
        let nold = if h.growing() {
            bucket_shift(h.old_B())
        } else {
            0
        };
        if h.growing() {
            let heads = w.array(h.oldbuckets, h.old_B(), "old")?;
            for (i, head) in heads.into_iter().enumerate() {
                let idx = chains.len();
                chains.push(w.chain(Array::Old, i, head, idx)?);
            }
        }
        let same_size = h.flags().contains(Flags::SAME_SIZE_GROW);
        let pointerful = m.types.pointer_free != Some(true);
        let main_chain = |i: usize| i;
        let old_chain = |i: usize| bucket_shift(h.B) + i;
        let old_evacuated: Vec<bool> = (0..nold)
            .map(|i| evacuated(chains[old_chain(i)].buckets[0].top(0)))
            .collect();

        // Grow progress.
        if h.growing() {
            if h.nevacuate as usize == nold {
                out.violations.push(Violation {
                    kind: "evacuation".into(),
                    bucket: None,
                    slot: None,
                    key: None,
                    message: format!(
                        "nevacuate = {} = the number of old buckets, but oldbuckets is still set: \
                         Go ends the grow (oldbuckets = nil) when nevacuate reaches it",
                        h.nevacuate
                    ),
                });
            }
            for (i, &e) in old_evacuated.iter().enumerate() {
                if (i as u64) < h.nevacuate && !e {
                    let top = chains[old_chain(i)].buckets[0].top(0);
                    out.violations.push(v(
                        "evacuation",
                        &format!("old[{i}]"),
                        Some(0),
                        None,
                        format!(
                            "old[{i}] is below nevacuate ({}), so Go has evacuated it, but its \
                             first tophash is {top:#04x}, not an evacuation mark (2, 3 or 4)",
                            h.nevacuate
                        ),
                    ));
                }
            }
        }

        // Every slot of every chain.
        let mut entries: Vec<Entry> = Vec::new();
        for (ci, c) in chains.iter().enumerate() {
            let is_old = c.array == Array::Old;
            let evac = is_old && old_evacuated[c.index];
            let mut rest_at: Option<(String, usize)> = None;
            for (bi, b) in c.buckets.iter().enumerate() {
                for i in 0..BUCKET_CNT {
                    let top = b.top(i);
                    if evac {
                        if !(EVACUATED_X..=EVACUATED_EMPTY).contains(&top) {
                            out.violations.push(v(
                                "evacuation",
                                &b.name,
                                Some(i),
                                None,
                                format!(
                                    "old[{}] is evacuated (its first tophash is an evacuation \
                                     mark) but this slot's tophash is {top:#04x}: evacuation \
                                     marks every slot of the chain",
                                    c.index
                                ),
                            ));
                            continue;
                        }
                        if top == EVACUATED_EMPTY {
                            continue;
                        }
                        // X/Y against the hash, where the key is still there.
                        let kb = match self.key_bytes(m, b, i) {
                            Ok(kb) => kb,
                            Err(_) => continue,
                        };
                        let cleared = bi == 0 && pointerful && kb.iter().all(|&x| x == 0);
                        if cleared {
                            continue;
                        }
                        let Ok(key) = w.key(&kb)? else {
                            continue;
                        };
                        let Some(hash) = m.plan.hash(&key, &m.hash, seed) else {
                            continue;
                        };
                        let text = || m.show_key(&kb);
                        let mark = if top == EVACUATED_X { "X" } else { "Y" };
                        if same_size {
                            if top == EVACUATED_Y {
                                out.violations.push(v(
                                    "evacuation",
                                    &b.name,
                                    Some(i),
                                    Some(&text()),
                                    format!(
                                        "marked EVACUATED_Y, but a same-size grow moves every \
                                         entry to the same index (EVACUATED_X, main[{}])",
                                        c.index
                                    ),
                                ));
                            }
                        } else {
                            let y = hash & nold as u64 != 0;
                            if y != (top == EVACUATED_Y) {
                                let (want, to) = if y {
                                    ("Y", c.index + nold)
                                } else {
                                    ("X", c.index)
                                };
                                out.violations.push(v(
                                    "evacuation",
                                    &b.name,
                                    Some(i),
                                    Some(&text()),
                                    format!(
                                        "marked EVACUATED_{mark}, but the key's hash {hash:#018x} \
                                         has hash & {nold} (the old bucket count) {} 0, so \
                                         evacuation moved it to {want} (main[{to}])",
                                        if y { "!=" } else { "==" }
                                    ),
                                ));
                            }
                        }
                        continue;
                    }
                    if (EVACUATED_X..=EVACUATED_EMPTY).contains(&top) {
                        let msg = if is_old {
                            format!(
                                "tophash {top:#04x} is an evacuation mark, but old[{}] is not \
                                 evacuated (its first slot is not marked): Go marks every \
                                 slot of an old bucket's chain at once",
                                c.index
                            )
                        } else {
                            format!(
                                "tophash {top:#04x} is an evacuation mark in the current bucket \
                                 array, where Go never writes one"
                            )
                        };
                        out.violations
                            .push(v("evacuation", &b.name, Some(i), None, msg));
                        continue;
                    }
                    if top == EMPTY_REST && rest_at.is_none() {
                        rest_at = Some((b.name.clone(), i));
                    }
                    if top < MIN_TOP_HASH {
                        continue;
                    }
                    // A live slot.
                    let (key, problem) = match self.key_bytes(m, b, i) {
                        Ok(kb) => match w.key(&kb)? {
                            Ok(k) => (Some(k), None),
                            Err(e) => (None, Some(e)),
                        },
                        Err(e) => (None, Some(e)),
                    };
                    if let Some(e) = problem {
                        out.violations.push(v(
                            "key",
                            &b.name,
                            Some(i),
                            Some(&self.key_text(m, b, i)),
                            format!("the key cannot be read: {e}"),
                        ));
                    }
                    if let Some((rb, rs)) = &rest_at {
                        out.violations.push(v(
                            "empty-rest",
                            &b.name,
                            Some(i),
                            Some(&self.key_text(m, b, i)),
                            format!(
                                "a live slot after the EMPTY_REST of {rb} slot {rs}: lookups stop \
                                 at EMPTY_REST (nothing live follows it in the chain), so this \
                                 entry cannot be found"
                            ),
                        ));
                    }
                    let hash = key.as_ref().and_then(|k| m.plan.hash(k, &m.hash, seed));
                    let canon = key
                        .as_ref()
                        .and_then(|k| m.plan.canonical(k))
                        .map(Vec::into_boxed_slice);
                    entries.push(Entry {
                        chain: ci as u32,
                        pos: bi as u32,
                        slot: i as u8,
                        top,
                        hash,
                        readable: key.is_some(),
                        canon,
                    });
                }
            }
        }
        for c in &chains {
            if let Some(b) = &c.broken {
                out.violations.push(b.clone());
            }
        }

        // Each entry on its key's path.
        let mask = bucket_mask(h.B) as u64;
        let oldmask = if same_size { mask } else { mask >> 1 };
        let mut nan = 0;
        for e in &entries {
            if !e.readable {
                continue;
            }
            let Some(hash) = e.hash else {
                nan += 1;
                continue;
            };
            let b = e.bucket(&chains);
            let slot = e.slot as usize;
            let want_top = tophash(hash);
            if e.top != want_top {
                out.violations.push(v(
                    "tophash",
                    &b.name,
                    Some(slot),
                    Some(&self.key_text(m, b, slot)),
                    format!(
                        "tophash {:#04x}, but the key's hash is {hash:#018x}, whose tophash (top \
                         byte, moved up to 5..9 if below 5) is {want_top:#04x}: lookups compare \
                         tophash first and would pass this slot by",
                        e.top
                    ),
                ));
            }
            let j = (hash & mask) as usize;
            let (want_chain, why) = if h.growing() {
                let oi = (hash & oldmask) as usize;
                if !old_evacuated[oi] {
                    (
                        old_chain(oi),
                        format!(
                            "hash {hash:#018x} & {oldmask} = {oi} selects old[{oi}] (the map is \
                             growing and old[{oi}] is not evacuated yet, so lookups read it)"
                        ),
                    )
                } else {
                    (
                        main_chain(j),
                        format!(
                            "hash {hash:#018x} & {mask} = {j} selects main[{j}] (its old bucket \
                             old[{oi}] is evacuated)"
                        ),
                    )
                }
            } else {
                (
                    main_chain(j),
                    format!("hash {hash:#018x} & {mask} = {j} selects main[{j}]"),
                )
            };
            if e.chain as usize != want_chain {
                let c = &chains[e.chain as usize];
                let here = match c.array {
                    Array::Main => format!("main[{}]", c.index),
                    Array::Old => format!("old[{}]", c.index),
                };
                out.violations.push(v(
                    "bucket",
                    &b.name,
                    Some(slot),
                    Some(&self.key_text(m, b, slot)),
                    format!(
                        "the key is in the chain of {here}, but {why}: a lookup of this key \
                         never reaches it"
                    ),
                ));
            }
        }

        // No key live twice.
        let mut seen: HashMap<&[u8], usize> = HashMap::new();
        for (n, e) in entries.iter().enumerate() {
            let Some(c) = &e.canon else { continue };
            if let Some(&first) = seen.get(&c[..]) {
                let f = &entries[first];
                let b = e.bucket(&chains);
                out.violations.push(v(
                    "duplicate",
                    &b.name,
                    Some(e.slot as usize),
                    Some(&self.key_text(m, b, e.slot as usize)),
                    format!(
                        "the key is live twice: also in {} slot {} (a map holds each key once; \
                         an assignment replaces the elem of the existing slot)",
                        f.bucket(&chains).name,
                        f.slot
                    ),
                ));
            } else {
                seen.insert(c, n);
            }
        }

        // count.
        let live = entries.len() as u64;
        if h.count != live {
            out.violations.push(Violation {
                kind: "count".into(),
                bucket: None,
                slot: None,
                key: None,
                message: format!(
                    "count is {}, but {live} live slot{} {} found in the chains lookups read \
                     (the current array, and the old buckets not evacuated yet){}",
                    h.count,
                    if live == 1 { "" } else { "s" },
                    if live == 1 { "was" } else { "were" },
                    if h.flags().contains(Flags::HASH_WRITING) {
                        "; HASH_WRITING is set, so a write may not have updated count yet"
                    } else {
                        ""
                    }
                ),
            });
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
        let misplaced = out
            .violations
            .iter()
            .filter(|v| v.kind == "tophash" || v.kind == "bucket")
            .count() as u64;
        if live >= 4 && misplaced * 2 >= live {
            out.notes.push(format!(
                "{misplaced} of {live} entries are not where their hashes put them: rather than \
                 that much damage, the hash used may not be the map's ({}){}",
                m.hash.describe(),
                if m.hash.gomap {
                    "; a gomap map made with GoHasher::with_hashkey(k) needs --hashkey k"
                } else {
                    ""
                }
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
        let seed = h.hash0 as u64;
        let mut notes = Vec::new();
        if let Some(n) = Self::hash_note(m, &h) {
            notes.push(n);
        }
        let mut w = Walk {
            m,
            h: h.clone(),
            bl: self.bucket,
            read: self.layout.hmap.size as u64,
            heap: HashMap::new(),
            owner: HashMap::new(),
            overflow_buckets: 0,
        };
        let bs = self.bucket.bucketsize;
        let mut out = Vec::new();
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
            let hash = m.plan.hash(key, &m.hash, seed);
            if let Some(x) = hash {
                l.hash = Some(format!("{x:#018x}"));
                l.steps.push(format!(
                    "hash = {} with seed hash0 {:#010x}",
                    m.plan.describe(),
                    h.hash0
                ));
            }
            if h.count == 0 {
                l.steps.push(
                    "count is 0: Go returns the zero value without reading any bucket".into(),
                );
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
            let mut mask = bucket_mask(h.B) as u64;
            let j = (hash & mask) as usize;
            let mut addr = h.buckets + (j * bs) as u64;
            let mut first = format!("main[{j}]");
            l.steps.push(format!(
                "B = {}: bucket = hash & {mask} = {j} → main[{j}]",
                h.B
            ));
            if h.growing() {
                let same = h.flags().contains(Flags::SAME_SIZE_GROW);
                if !same {
                    mask >>= 1;
                }
                let oi = (hash & mask) as usize;
                let oaddr = h.oldbuckets + (oi * bs) as u64;
                let t0 = m
                    .reader
                    .read_vec(oaddr, 1)
                    .map_err(|e| m.cannot(format!("reading old[{oi}]: {e}")))?[0];
                if evacuated(t0) {
                    l.steps.push(format!(
                        "growing ({}): old bucket = hash & {mask} = {oi}; old[{oi}] is evacuated \
                         (tophash[0] = {t0:#04x}), so the lookup reads main[{j}]",
                        if same { "same-size" } else { "doubling" }
                    ));
                } else {
                    l.steps.push(format!(
                        "growing ({}): old bucket = hash & {mask} = {oi}; old[{oi}] is not \
                         evacuated yet (tophash[0] = {t0:#04x}), so the lookup reads old[{oi}]",
                        if same { "same-size" } else { "doubling" }
                    ));
                    addr = oaddr;
                    first = format!("old[{oi}]");
                }
            }
            let top = tophash(hash);
            l.bucket = Some(first.clone());
            l.tophash = Some(format!("{top:#04x}"));
            l.steps.push(format!(
                "tophash = {top:#04x} (hash >> 56{})",
                if ((hash >> 56) as u8) < MIN_TOP_HASH {
                    ", moved up by 5"
                } else {
                    ""
                }
            ));
            let mut seen = HashSet::new();
            let mut name = first;
            'chain: while addr != 0 {
                if !seen.insert(addr) {
                    l.steps.push(format!(
                        "the chain comes back to {name} at {addr:#x}: it is cyclic, and Go's \
                         lookup would loop forever here"
                    ));
                    break;
                }
                if w.overflow_buckets > m.limits.max_heap_buckets {
                    return Err(m.cannot("the chain is too long to follow"));
                }
                w.overflow_buckets += 1;
                w.budget(bs as u64, "a bucket")?;
                let bytes = m
                    .reader
                    .read_vec(addr, bs)
                    .map_err(|e| m.cannot(format!("reading {name} at {addr:#x}: {e}")))?;
                let b = Mem {
                    addr,
                    name: name.clone(),
                    bytes,
                };
                let mut visit = Visit {
                    bucket: b.name.clone(),
                    addr: format!("{addr:#x}"),
                    slots: Vec::new(),
                };
                for i in 0..BUCKET_CNT {
                    let t = b.top(i);
                    let mut step = SlotStep {
                        slot: i,
                        tophash: format!("{t:#04x}"),
                        outcome: String::new(),
                    };
                    if t != top {
                        if t == EMPTY_ONE {
                            step.outcome = "EMPTY_ONE (a deleted slot): passed by".into();
                            visit.slots.push(step);
                            continue;
                        }
                        if t == EMPTY_REST {
                            step.outcome = "EMPTY_REST: nothing follows, the search stops".into();
                            visit.slots.push(step);
                            l.visited.push(visit);
                            break 'chain;
                        }
                        step.outcome = "tophash differs".into();
                        visit.slots.push(step);
                        continue;
                    }
                    let kb = self
                        .key_bytes(m, &b, i)
                        .map_err(|e| m.cannot(format!("{} slot {i}: {e}", b.name)))?;
                    let shown = m.show_key(&kb);
                    let stored = w
                        .key(&kb)?
                        .map_err(|e| m.cannot(format!("{} slot {i}: the key: {e}", b.name)))?;
                    if m.plan.equal(key, &stored) {
                        step.outcome = format!("key {shown} matches");
                        visit.slots.push(step);
                        l.visited.push(visit);
                        let (et, ej) = self.elem(m, &b, i);
                        l.found = true;
                        l.at = Some(format!("{} slot {i}", b.name));
                        l.elem = Some(et);
                        l.elem_json = Some(ej);
                        break 'chain;
                    }
                    step.outcome = format!("key {shown} differs");
                    visit.slots.push(step);
                }
                l.visited.push(visit);
                addr = b.overflow();
                if addr != 0 {
                    name = w.name(addr);
                }
            }
            out.push(l);
        }
        Ok((out, notes, format!("hash0 = {:#010x}", h.hash0)))
    }
}
