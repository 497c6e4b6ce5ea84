//! `map-inspect check` and `map-inspect get`: a map checked against its runtime's rules, and a
//! key looked up the way the runtime looks it up, with the runtime's own hash.
//!
//! The map is found as `dump` finds it (a variable of a live process or core file by name, an
//! address with types, a snapshot, the demo). The hash comes from the target: for a Go
//! program, [`crate::program::hash`] reads which algorithm the runtime chose and its keys;
//! for a gomap map it is gomap's `GoHasher` with the map's hashkey. How a key of the map's
//! type is hashed and compared is [`crate::program::keys::KeyPlan`].
//!
//! Each map implementation brings its rules as a [`MapRules`]: [`classic`] for Go's classic
//! map (Go 1.19–1.25) and gomap; [`swiss`] for Go 1.24–1.27's Swiss tables.
//!
//! Exit status: `check` 0 when the map is consistent, 1 when it is not, 2 when the check
//! cannot run (an unsupported key type, missing hash keys, memory that is not a map); `get`
//! 0 for a clean lookup (found or absent), 2 when it cannot run.

pub mod classic;
pub mod swiss;

use std::path::PathBuf;
use std::rc::Rc;

use serde::{Deserialize, Serialize};

use gomap::layout::BucketLayout;

use crate::decode::Limits;
use crate::demo;
use crate::dump::swiss::{
    group_layout as swiss_group_layout, types_from_args as swiss_types_from_args,
};
use crate::dump::{
    assumed, check_go_size, check_types_agree, find_program, find_var, go_bucket_layout, limits,
    process_types, unsupported_failure, DumpOptions, Failure, Format, Origin, Outcome, Source,
    Target,
};
use crate::program::dwarf::Type;
use crate::program::hash::{self, RuntimeHash};
use crate::program::keys::{self, KeyPlan, KeyType, KeyValue, Rules};
use crate::program::layout::{MapImpl, MapLayout, SwissLayout};
use crate::report::{LayoutInfo, SourceInfo, Types};
use crate::source::{
    CoreReader, MemoryReader, ProcessReader, SnapshotFile, SnapshotKind, SnapshotReader,
};
use crate::swiss::GroupLayout;
use crate::values::{TypedValue, ValueType};

/// The `check` document's schema.
pub const CHECK_SCHEMA: &str = "gomap-check/1";
/// The `get` document's schema.
pub const GET_SCHEMA: &str = "gomap-get/1";

/// What `check` and `get` need.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct CheckOptions {
    /// Where the map is, as `dump` takes it: the source, the variable or `--addr`, `--exe`,
    /// `--go-version`, `--types`, `--limit-mib`, `--format`.
    pub map: DumpOptions,
    /// The hashkey of a gomap map (`GoHasher::hashkey()`): needed for snapshots; for a Rust
    /// process it defaults to the process's `gomap::hash::HASHKEY`.
    pub hashkey: Option<u64>,
    /// `get`: the keys, in Go syntax.
    pub keys: Vec<String>,
}

/// One broken rule.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct Violation {
    /// Classic maps: `bucket`, `tophash`, `duplicate`, `count`, `chain`, `evacuation`,
    /// `empty-rest`, `key`. Swiss tables: `h2`, `table`, `probe`, `duplicate`, `used`,
    /// `growth-left`, `empty`, `directory`, `ctrl`, `tombstone-possible`, `key`.
    pub kind: String,
    /// The bucket (`main[3]`, `old[1]`, `heap#0`), or for a Swiss map the group (`t0.g5`, as
    /// `dump` names it; `small` for a small map's group) or the table (`t0`), when the
    /// violation has a place.
    pub bucket: Option<String>,
    /// The slot in it.
    pub slot: Option<usize>,
    /// The key there, in Go syntax.
    pub key: Option<String>,
    /// What is wrong, and what the runtime's rules expect there.
    pub message: String,
}

impl Violation {
    /// `main[3] slot 2, key 17: ...`.
    pub fn line(&self) -> String {
        let mut place = String::new();
        if let Some(b) = &self.bucket {
            place.push_str(b);
        }
        if let Some(s) = self.slot {
            place.push_str(&format!(" slot {s}"));
        }
        if let Some(k) = &self.key {
            if !place.is_empty() {
                place.push_str(", ");
            }
            place.push_str(&format!("key {k}"));
        }
        if place.is_empty() {
            format!("[{}] {}", self.kind, self.message)
        } else {
            format!("{place}: [{}] {}", self.kind, self.message)
        }
    }
}

/// What a map implementation's check found.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct Checked {
    /// Live entries checked.
    pub entries: u64,
    /// Every broken rule.
    pub violations: Vec<Violation>,
    /// Facts worth knowing that break no rule.
    pub notes: Vec<String>,
    /// The seed the map's hashes use (`hash0 = 0x...`).
    pub seed: String,
}

/// The `check` document (`gomap-check/1`).
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct CheckReport {
    /// `gomap-check/1`.
    pub schema: String,
    /// The Go version and layout (`null` for the demo and snapshots: gomap's layout).
    pub layout: Option<LayoutInfo>,
    /// Where the memory came from.
    pub source: SourceInfo,
    /// The map: the variable and its type, or the address given.
    pub map: String,
    /// The header's address.
    pub hmap: String,
    /// The hash functions used, with where their keys came from.
    pub hash: String,
    /// The seed.
    pub seed: String,
    /// How a key of this type is hashed (`memhash64(+0)`, `strhash(+0), memhash(+16, 8)`).
    pub key_hasher: String,
    /// No violation.
    pub consistent: bool,
    /// Live entries checked.
    pub entries: u64,
    /// Every violation found.
    pub violations: Vec<Violation>,
    /// Notes.
    pub notes: Vec<String>,
}

/// One slot compared during a lookup.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct SlotStep {
    /// The slot.
    pub slot: usize,
    /// Its tophash byte (`0x9c`), or a Swiss map's control byte.
    pub tophash: String,
    /// What the lookup did: `tophash differs`, `EMPTY_REST: the search stops`, `key 17
    /// differs`, `key matches`.
    pub outcome: String,
}

/// One bucket (or group) visited during a lookup.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct Visit {
    /// Its name (`main[5]`, `old[2]`, `heap#0`; a Swiss map's group: `t0.g5`, `small`).
    pub bucket: String,
    /// Its address.
    pub addr: String,
    /// The slots compared, in order.
    pub slots: Vec<SlotStep>,
}

/// One key's lookup.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct Lookup {
    /// The key as given.
    pub key: String,
    /// Its hash (`null` for a key holding a NaN, which Go hashes randomly).
    pub hash: Option<String>,
    /// The first bucket the lookup reads (`main[5]`, or `old[2]` while that old bucket is
    /// not evacuated); for a Swiss map the first group of the probe sequence (`t0.g5`, or
    /// `small`).
    pub bucket: Option<String>,
    /// The tophash searched for; for a Swiss map, H2 (`hash & 0x7f`).
    pub tophash: Option<String>,
    /// How the bucket was chosen, step by step.
    pub steps: Vec<String>,
    /// The buckets visited.
    pub visited: Vec<Visit>,
    /// Whether the key is in the map.
    pub found: bool,
    /// Where it was found (`main[5] slot 3`).
    pub at: Option<String>,
    /// The elem (text, Go syntax).
    pub elem: Option<String>,
    /// The elem (JSON).
    pub elem_json: Option<serde_json::Value>,
}

/// The `get` document (`gomap-get/1`).
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct GetReport {
    /// `gomap-get/1`.
    pub schema: String,
    /// The Go version and layout.
    pub layout: Option<LayoutInfo>,
    /// Where the memory came from.
    pub source: SourceInfo,
    /// The map.
    pub map: String,
    /// The header's address.
    pub hmap: String,
    /// The hash functions used.
    pub hash: String,
    /// The seed.
    pub seed: String,
    /// How a key of this type is hashed.
    pub key_hasher: String,
    /// Notes about the map's state (a write in progress).
    pub notes: Vec<String>,
    /// One lookup per key.
    pub lookups: Vec<Lookup>,
}

/// A map to check, found and understood: its memory, types, layout and hash.
pub struct MapUnderTest<'a> {
    /// The memory.
    pub reader: &'a dyn MemoryReader,
    /// The header's address.
    pub hmap: u64,
    /// The map, for messages: `main.grow (map[uint64]string)` or `--addr 0x...`.
    pub what: String,
    /// Key and elem types (to show keys and elems).
    pub types: Types,
    /// The bucket layout (classic maps).
    pub bucket: Option<BucketLayout>,
    /// The group layout (Swiss-table maps).
    pub group: Option<GroupLayout>,
    /// The Go version and map layout (gomap's for gomap maps).
    pub layout: MapLayout,
    /// How keys are hashed and compared.
    pub plan: KeyPlan,
    /// The hash functions.
    pub hash: RuntimeHash,
    /// Where the memory is.
    pub source: SourceInfo,
    /// Read limits.
    pub limits: Limits,
    /// A Go program (else gomap).
    pub go: bool,
}

impl MapUnderTest<'_> {
    /// A failure that cannot let the command run (exit status 2), naming the layout assumed.
    pub fn cannot(&self, msg: impl Into<String>) -> Failure {
        let mut message = msg.into();
        if self.go && !message.contains("(assumed") {
            message.push_str(&format!(" {}", assumed(&self.layout)));
        }
        Failure { message, code: 2 }
    }

    /// The key `k` (the memory of a stored key) in Go syntax.
    pub fn show_key(&self, bytes: &[u8]) -> String {
        self.types.key.decode(bytes, self.reader).text
    }
}

/// The rules of one map implementation.
pub trait MapRules {
    /// Checks the map against the implementation's invariants.
    fn check(&self, m: &MapUnderTest<'_>) -> Result<Checked, Failure>;
    /// Looks up each key the way the runtime would.
    fn lookup(
        &self,
        m: &MapUnderTest<'_>,
        keys: &[(String, KeyValue)],
    ) -> Result<(Vec<Lookup>, Vec<String>, String), Failure>;
}

/// The rules for a layout.
fn rules_for(m: &MapUnderTest<'_>) -> Result<Box<dyn MapRules>, Failure> {
    match &m.layout.imp {
        MapImpl::Classic(c) => {
            let bucket = m.bucket.ok_or_else(|| {
                m.cannot("a classic map needs its bucket layout, which was not found")
            })?;
            Ok(Box::new(classic::Classic {
                layout: c.clone(),
                bucket,
            }))
        }
        MapImpl::Swiss(sw) => {
            let group = m.group.clone().ok_or_else(|| {
                m.cannot("a Swiss-table map needs its group layout, which was not found")
            })?;
            Ok(Box::new(swiss::Swiss {
                layout: sw.clone(),
                group,
            }))
        }
        MapImpl::Unsupported(_) => Err(unsupported_failure(&m.layout)),
    }
}

/// A map variable that holds no map.
#[derive(Clone, Debug)]
pub struct NilMap {
    /// `main.nilMap (map[string]int) at 0x... in pid 4242`.
    pub what: String,
    /// The Go version and layout.
    pub layout: MapLayout,
    /// Where the memory is.
    pub source: SourceInfo,
}

/// Every failure of `check` and `get` means that they could not run: exit status 2 (1 is
/// `check`'s "not consistent").
fn cannot_run(mut f: Failure) -> Failure {
    f.code = 2;
    f
}

/// Runs `check`.
pub fn check(o: &CheckOptions) -> Result<Outcome, Failure> {
    let report = check_report(o)?;
    let text = match o.map.format {
        Format::Json => serde_json::to_string_pretty(&report)
            .map_err(|e| cannot_run(Failure::from(e.to_string())))?,
        Format::Text => render_check(&report),
        Format::Html => {
            return Err(cannot_run(
                "check has no HTML output (dump and replay have one)".into(),
            ))
        }
    };
    let n = report.violations.len();
    Ok(Outcome {
        text,
        unclean: (n > 0).then(|| {
            format!(
                "the map is not consistent: {n} violation{} of Go's rules (listed above)",
                if n == 1 { "" } else { "s" }
            )
        }),
    })
}

/// Builds the `check` document (the library form of `check`).
pub fn check_report(o: &CheckOptions) -> Result<CheckReport, Failure> {
    let nil = |n: NilMap| {
        Ok(CheckReport {
            schema: CHECK_SCHEMA.into(),
            layout: Some(LayoutInfo::of(&n.layout)),
            source: n.source,
            map: n.what,
            hmap: "nil".into(),
            hash: "-".into(),
            seed: "-".into(),
            key_hasher: "-".into(),
            consistent: true,
            entries: 0,
            violations: Vec::new(),
            notes: vec![
                "a nil map (make was never called): it holds no entries, lookups find nothing \
                 and writes panic"
                    .into(),
            ],
        })
    };
    with_map(o, nil, |m| {
        let c = rules_for(m)?.check(m)?;
        Ok(CheckReport {
            schema: CHECK_SCHEMA.into(),
            layout: m.go.then(|| LayoutInfo::of(&m.layout)),
            source: m.source.clone(),
            map: m.what.clone(),
            hmap: format!("{:#x}", m.hmap),
            hash: m.hash.describe(),
            seed: c.seed,
            key_hasher: m.plan.describe(),
            consistent: c.violations.is_empty(),
            entries: c.entries,
            violations: c.violations,
            notes: c.notes,
        })
    })
    .map_err(cannot_run)
}

/// Runs `get`.
pub fn get(o: &CheckOptions) -> Result<Outcome, Failure> {
    get_inner(o).map_err(cannot_run)
}

fn get_inner(o: &CheckOptions) -> Result<Outcome, Failure> {
    if o.keys.is_empty() {
        return Err(
            "get needs a key: map-inspect get ... VAR KEY (in Go syntax: 42, \"abc\", \
                    [3]byte{1,2,3}, {A:1 B:\"x\"})"
                .into(),
        );
    }
    let r = get_report_inner(o)?;
    let text = match o.map.format {
        Format::Json => serde_json::to_string_pretty(&r).map_err(|e| e.to_string())?,
        Format::Text => render_get(&r),
        Format::Html => return Err(cannot_run("get has no HTML output".into())),
    };
    Ok(Outcome {
        text,
        unclean: None,
    })
}

/// Builds the `get` document.
pub fn get_report(o: &CheckOptions) -> Result<GetReport, Failure> {
    get_report_inner(o).map_err(cannot_run)
}

fn get_report_inner(o: &CheckOptions) -> Result<GetReport, Failure> {
    let nil = |n: NilMap| {
        Ok(GetReport {
            schema: GET_SCHEMA.into(),
            layout: Some(LayoutInfo::of(&n.layout)),
            source: n.source,
            map: n.what,
            hmap: "nil".into(),
            hash: "-".into(),
            seed: "-".into(),
            key_hasher: "-".into(),
            notes: vec!["a nil map (make was never called)".into()],
            lookups: o
                .keys
                .iter()
                .map(|k| Lookup {
                    key: k.clone(),
                    hash: None,
                    bucket: None,
                    tophash: None,
                    steps: vec![
                        "the map is nil: Go returns the zero value without hashing the key".into(),
                    ],
                    visited: Vec::new(),
                    found: false,
                    at: None,
                    elem: None,
                    elem_json: None,
                })
                .collect(),
        })
    };
    with_map(o, nil, |m| {
        let rules = rules_for(m)?;
        let mut keys = Vec::new();
        for text in &o.keys {
            let k = keys::parse(text, &m.plan.ty).map_err(|e| {
                Failure::from(format!("{e}; the key type is {}", m.types.key.name()))
            })?;
            keys.push((text.clone(), k));
        }
        let (lookups, notes, seed) = rules.lookup(m, &keys)?;
        Ok(GetReport {
            schema: GET_SCHEMA.into(),
            layout: m.go.then(|| LayoutInfo::of(&m.layout)),
            source: m.source.clone(),
            map: m.what.clone(),
            hmap: format!("{:#x}", m.hmap),
            hash: m.hash.describe(),
            seed,
            key_hasher: m.plan.describe(),
            notes,
            lookups,
        })
    })
}

fn render_check(r: &CheckReport) -> String {
    let mut out = String::new();
    if let Some(l) = &r.layout {
        out.push_str(&format!("{}; from {}\n", l.description, l.found_in));
    }
    if r.hmap == "nil" {
        out.push_str(&format!("{}: a nil map\n", r.map));
        out.push_str(&format!("{}\n", r.source.description));
    } else {
        out.push_str(&format!("{} at {}\n", r.map, r.hmap));
        out.push_str(&format!("{}\n", r.source.description));
        out.push_str(&format!(
            "hash: {}; seed {}; keys hashed with {}\n",
            r.hash, r.seed, r.key_hasher
        ));
    }
    for n in &r.notes {
        out.push_str(&format!("note: {n}\n"));
    }
    if r.consistent {
        out.push_str(&format!(
            "map is consistent ({} entr{} checked)\n",
            r.entries,
            if r.entries == 1 { "y" } else { "ies" }
        ));
    } else {
        let n = r.violations.len();
        out.push_str(&format!(
            "map is NOT consistent: {n} violation{} ({} entr{} checked)\n",
            if n == 1 { "" } else { "s" },
            r.entries,
            if r.entries == 1 { "y" } else { "ies" }
        ));
        for v in &r.violations {
            out.push_str(&format!("  {}\n", v.line()));
        }
    }
    out
}

fn render_get(r: &GetReport) -> String {
    let mut out = String::new();
    if let Some(l) = &r.layout {
        out.push_str(&format!("{}; from {}\n", l.description, l.found_in));
    }
    if r.hmap == "nil" {
        out.push_str(&format!("{}: a nil map\n", r.map));
        out.push_str(&format!("{}\n", r.source.description));
    } else {
        out.push_str(&format!("{} at {}\n", r.map, r.hmap));
        out.push_str(&format!("{}\n", r.source.description));
        out.push_str(&format!(
            "hash: {}; seed {}; keys hashed with {}\n",
            r.hash, r.seed, r.key_hasher
        ));
    }
    for n in &r.notes {
        out.push_str(&format!("note: {n}\n"));
    }
    for l in &r.lookups {
        out.push('\n');
        match &l.hash {
            Some(h) => out.push_str(&format!("key {}: hash {h}\n", l.key)),
            None => out.push_str(&format!("key {}\n", l.key)),
        }
        for s in &l.steps {
            out.push_str(&format!("  {s}\n"));
        }
        for v in &l.visited {
            out.push_str(&format!("  {} at {}\n", v.bucket, v.addr));
            for s in &v.slots {
                out.push_str(&format!(
                    "    slot {}  {}  {}\n",
                    s.slot, s.tophash, s.outcome
                ));
            }
        }
        if l.found {
            out.push_str(&format!(
                "  found at {}: {}\n",
                l.at.as_deref().unwrap_or("?"),
                l.elem.as_deref().unwrap_or("?")
            ));
        } else {
            out.push_str("  absent\n");
        }
    }
    out
}

/// Finds the map `o` names and calls `f` with it (`nil` for a nil map variable).
fn with_map<T>(
    o: &CheckOptions,
    nil: impl FnOnce(NilMap) -> Result<T, Failure>,
    f: impl FnOnce(&MapUnderTest<'_>) -> Result<T, Failure>,
) -> Result<T, Failure> {
    let d = &o.map;
    let lim = limits(d);
    match &d.source {
        Source::Demo(opts) => {
            if o.hashkey.is_some() {
                return Err(
                    "--hashkey goes with a snapshot or a Rust process; the demo's \
                            hashkey comes from --seed"
                        .into(),
                );
            }
            let mut opts = opts.clone();
            if let Some(t) = &d.types {
                let (k, v) = ValueType::parse_pair(t, false)?;
                let go = |t: ValueType| match t {
                    ValueType::Go(g) => check_go_size(g),
                    other => Err(format!(
                        "the demo builds a Go map: {} is not a Go type",
                        other.name()
                    )),
                };
                opts.key = go(k)?;
                opts.elem = go(v)?;
            }
            let demo = demo::build(&opts)?;
            let snap = demo.map.snapshot();
            let reader = SnapshotReader::new(&snap, "the demo map");
            let types = Types {
                key: ValueType::Go(opts.key),
                elem: ValueType::Go(opts.elem),
                pointer_free: Some(snap.pointer_free),
            };
            let m = gomap_map(
                &reader,
                snap.hmap,
                "the demo map".into(),
                types,
                snap.layout,
                RuntimeHash::gomap(demo.hashkey, "the demo's --seed"),
                SourceInfo {
                    kind: "demo".into(),
                    description: demo.describe(),
                },
                lim,
            )?;
            f(&m)
        }
        Source::Snapshot(path) => {
            if d.target.is_some() {
                return Err(
                    "--addr and a variable name go with --pid or --core, not with a snapshot"
                        .into(),
                );
            }
            let name = path.display().to_string();
            let snap = SnapshotFile::open(path).map_err(|e| match e {
                Err(msg) => msg,
                Ok(e) => format!("{name}: {e}"),
            })?;
            let (layout, pointer_free) = match snap.kind {
                SnapshotKind::Classic {
                    layout,
                    pointer_free,
                } => (layout, pointer_free),
                SnapshotKind::Swiss { .. } => {
                    return Err(Failure {
                        message: format!(
                            "{name}: this snapshot holds a Swiss-table map of a Go program, and a \
                             snapshot does not record the process's hash keys \
                             (runtime.aeskeysched, runtime.hashkey) that check and get need: run \
                             them on the process (--pid) or on a core file (--core)"
                        ),
                        code: 2,
                    })
                }
            };
            let hashkey = o.hashkey.ok_or_else(|| Failure {
                message: format!(
                    "{name}: a snapshot does not record its map's hashkey, which the check \
                     needs to hash the keys: give it with --hashkey (GoHasher::hashkey() of the \
                     map's hasher; gomap::hash::process_hashkey() for GoHasher::new())"
                ),
                code: 2,
            })?;
            let types = Types {
                key: ValueType::from_snapshot_name(&snap.key_type, layout.key_size),
                elem: ValueType::from_snapshot_name(&snap.elem_type, layout.elem_size),
                pointer_free: Some(pointer_free),
            };
            let m = gomap_map(
                &snap,
                snap.hmap,
                format!("the map of snapshot {name}"),
                types,
                layout,
                RuntimeHash::gomap(hashkey, "--hashkey"),
                SourceInfo {
                    kind: "snapshot".into(),
                    description: format!(
                        "snapshot {name}: {} regions, {} bytes",
                        snap.nregions, snap.file_size
                    ),
                },
                lim,
            )?;
            f(&m)
        }
        Source::Process { pid, go } => {
            let reader = ProcessReader::new(*pid)?;
            let exe = PathBuf::from(format!("/proc/{pid}/exe"));
            program_map(o, &reader, Origin::Process(*pid), Some(exe), *go, nil, f)
        }
        Source::Core(path) => {
            let reader = CoreReader::open(path, d.exe.as_deref())?;
            let exe = reader.info.exe.clone();
            program_map(o, &reader, Origin::Core(path.clone()), exe, true, nil, f)
        }
    }
}

/// A gomap map (demo, snapshot, Rust process): gomap's layout and hasher.
#[allow(clippy::too_many_arguments)]
fn gomap_map<'a>(
    reader: &'a dyn MemoryReader,
    hmap: u64,
    what: String,
    types: Types,
    bucket: BucketLayout,
    hash: RuntimeHash,
    source: SourceInfo,
    limits: Limits,
) -> Result<MapUnderTest<'a>, Failure> {
    let kt = KeyType::from_value_type(&types.key);
    let plan = KeyPlan::new(&kt, Rules::Genhash).map_err(|e| Failure {
        message: format!("cannot hash keys of type {}: {e}", types.key.name()),
        code: 2,
    })?;
    Ok(MapUnderTest {
        reader,
        hmap,
        what,
        types,
        bucket: Some(bucket),
        group: None,
        layout: MapLayout::gomap(),
        plan,
        hash,
        source,
        limits,
        go: false,
    })
}

/// A map in a process or core file: found by name or address, hashed as its runtime does.
fn program_map<R: MemoryReader, T>(
    o: &CheckOptions,
    r: &R,
    origin: Origin,
    exe_hint: Option<PathBuf>,
    go_hint: bool,
    nil: impl FnOnce(NilMap) -> Result<T, Failure>,
    f: impl FnOnce(&MapUnderTest<'_>) -> Result<T, Failure>,
) -> Result<T, Failure> {
    let d = &o.map;
    if let Some(Target::Addr(_)) = &d.target {
        process_types(d, go_hint)?;
    }
    let t = find_program(d, &origin, exe_hint, go_hint)?;
    let swiss_layout = match &t.layout.imp {
        MapImpl::Unsupported(_) => return Err(unsupported_failure(&t.layout)),
        MapImpl::Swiss(sw) => Some(sw.clone()),
        MapImpl::Classic(_) => {
            t.layout.classic().map_err(Failure::from)?;
            None
        }
    };
    let who = origin.name();
    let with_layout = |mut e: Failure| {
        if t.go && !e.message.contains("(assumed") {
            e.message.push_str(&format!(" {}", assumed(&t.layout)));
        }
        e
    };
    // The layout of the map's memory: a classic map's buckets, or a Swiss map's groups.
    let (hmap, what, types, bl, gl) = match &d.target {
        None => {
            return Err(format!(
            "which map? Name a variable (`map-inspect maps --{} ...` lists them), or give --addr",
            origin.kind().replace("process", "pid")
        )
            .into())
        }
        Some(Target::Var(text)) => {
            let prog = t.prog.as_ref().ok_or_else(|| {
                format!(
                    "finding {text} by name needs the program's executable: give it with --exe BIN"
                )
            })?;
            let found = match find_var(prog, r, text, &t.layout).map_err(with_layout)? {
                Ok(f) => f,
                Err((name, ty, addr)) => {
                    return nil(NilMap {
                        what: format!("{name} ({ty}) at {addr:#x}"),
                        layout: t.layout.clone(),
                        source: source_info(&origin),
                    })
                }
            };
            match (&found.dwarf_types, &d.types) {
                (Some((k, v)), given) => {
                    if let Some(g) = given {
                        check_types_agree(g, k, v, &found.what)
                            .map_err(|e| with_layout(e.into()))?;
                    }
                    let (bl, gl) = match &swiss_layout {
                        None => (Some(go_bucket_layout(k, v)), None),
                        Some(sw) => {
                            let dw = prog
                                .require_dwarf(&format!("checking {}", found.what))
                                .map_err(|e| with_layout(e.into()))?;
                            let (gl, _) = swiss_group_layout(
                                prog,
                                dw,
                                r,
                                sw,
                                found.header,
                                k,
                                v,
                                found.runtime_type,
                            )
                            .map_err(|e| with_layout(e.into()))?;
                            (None, Some(gl))
                        }
                    };
                    let tv = |ty: &Rc<Type>| {
                        ValueType::Typed(TypedValue {
                            ty: ty.clone(),
                            prog: prog.clone(),
                        })
                    };
                    let indirect = match (&bl, &gl) {
                        (Some(b), _) => b.indirect_key || b.indirect_elem,
                        (_, Some(g)) => g.indirect_key || g.indirect_elem,
                        _ => false,
                    };
                    let pf = !(indirect || k.has_pointers() || v.has_pointers());
                    (
                        found.hmap,
                        found.what,
                        Types {
                            key: tv(k),
                            elem: tv(v),
                            pointer_free: Some(pf),
                        },
                        bl,
                        gl,
                    )
                }
                (None, _) => {
                    if d.types.is_none() {
                        return Err(with_layout(
                            prog.require_dwarf(&format!("checking {}", found.what))
                                .err()
                                .unwrap_or_default()
                                .into(),
                        ));
                    }
                    let (types, bl, gl) =
                        types_of_args(d, true, &swiss_layout).map_err(|e| with_layout(e.into()))?;
                    (found.hmap, found.what, types, bl, gl)
                }
            }
        }
        Some(Target::Addr(a)) => {
            let (types, bl, gl) =
                types_of_args(d, t.go, &swiss_layout).map_err(|e| with_layout(e.into()))?;
            (*a, format!("--addr {a:#x}"), types, bl, gl)
        }
    };
    let kt = KeyType::from_value_type(&types.key);
    let hash = if t.go {
        let prog = t.prog.as_ref().ok_or_else(|| {
            with_layout(Failure {
                message: "hashing keys needs the program's executable, for the runtime's hash \
                          keys (runtime.aeskeysched, runtime.hashkey) and its Go version: give \
                          it with --exe BIN"
                    .into(),
                code: 2,
            })
        })?;
        if o.hashkey.is_some() {
            return Err(
                "--hashkey is for gomap maps; a Go program's hash keys are read from it".into(),
            );
        }
        hash::for_program(prog, r, &who).map_err(|e| {
            with_layout(Failure {
                message: format!("cannot compute Go's hash for {what}: {e}"),
                code: 2,
            })
        })?
    } else {
        match o.hashkey {
            Some(k) => RuntimeHash::gomap(k, "--hashkey"),
            None => {
                let Origin::Process(pid) = &origin else {
                    return Err(Failure {
                        message: "a gomap map's hashkey is needed: give --hashkey".into(),
                        code: 2,
                    });
                };
                let addr = hash::gomap_hashkey_address(*pid).map_err(|e| Failure {
                    message: e,
                    code: 2,
                })?;
                let k = r.read_u64(addr).map_err(|e| Failure {
                    message: format!("reading gomap::hash::HASHKEY of {who}: {e}"),
                    code: 2,
                })?;
                if k == 0 {
                    return Err(Failure {
                        message: format!(
                            "gomap::hash::HASHKEY of {who} is 0: the process never used its \
                             process hashkey, so this map was made with another one; give it \
                             with --hashkey (GoHasher::hashkey())"
                        ),
                        code: 2,
                    });
                }
                RuntimeHash::gomap(k, &format!("gomap::hash::HASHKEY of {who}"))
            }
        }
    };
    let rules = match t.layout.go {
        Some(v) => Rules::for_minor(v.minor),
        None => Rules::Genhash,
    };
    let plan = KeyPlan::new(&kt, rules).map_err(|e| {
        with_layout(Failure {
            message: format!(
                "cannot hash the keys of {what}: its key type is {}: {e}",
                types.key.name()
            ),
            code: 2,
        })
    })?;
    let source = source_info(&origin);
    let m = MapUnderTest {
        reader: r,
        hmap,
        what,
        types,
        bucket: bl,
        group: gl,
        layout: t.layout.clone(),
        plan,
        hash,
        source,
        limits: limits(d),
        go: t.go,
    };
    f(&m).map_err(with_layout)
}

/// The types `--types` gives, and the layout of the map's memory for them: a classic map's
/// buckets, or a Swiss map's groups (Go's group layout rules for those types).
#[allow(clippy::type_complexity)]
fn types_of_args(
    d: &DumpOptions,
    go: bool,
    swiss: &Option<SwissLayout>,
) -> Result<(Types, Option<BucketLayout>, Option<GroupLayout>), String> {
    match swiss {
        None => {
            let (types, bl) = process_types(d, go)?;
            Ok((types, Some(bl), None))
        }
        Some(sw) => {
            let (types, gl) = swiss_types_from_args(d, sw)?;
            Ok((types, None, Some(gl)))
        }
    }
}

fn source_info(origin: &Origin) -> SourceInfo {
    SourceInfo {
        kind: origin.kind().into(),
        description: match origin {
            Origin::Process(pid) => format!(
                "pid {pid}, read with process_vm_readv (a live map can change while it is read)"
            ),
            Origin::Core(c) => format!("core file {}", c.display()),
        },
    }
}
