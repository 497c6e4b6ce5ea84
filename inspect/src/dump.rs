//! `map-inspect dump`: chooses the source of memory (the demo, a snapshot file, a live
//! process), decodes the map, builds the [`Report`] and renders it as text or JSON.
//!
//! Every failure is a one-line message that says what to do; nothing here panics on bad
//! input.

use std::io::Read as _;
use std::path::PathBuf;

use gomap::dynamic::GoType;
use gomap::layout::BucketLayout;
use gomap::snapshot::{Snapshot, SnapshotError};

use crate::decode::{decode, DecodeError, Limits};
use crate::demo::{self, DemoOptions};
use crate::render::{self, Style};
use crate::report::{self, Filter, Report, SourceInfo, Types};
use crate::source::{ProcessReader, SnapshotReader, NOT_MAPPED};
use crate::values::{layout_of, pointer_free, ValueType};

/// The largest snapshot file read (1 GiB).
pub const MAX_SNAPSHOT_FILE: u64 = 1 << 30;
/// The largest key or elem size accepted (as the snapshot format).
pub const MAX_TYPE_SIZE: usize = 1 << 16;

/// Where the memory comes from.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Source {
    /// The built-in demo.
    Demo(DemoOptions),
    /// A snapshot file.
    Snapshot(PathBuf),
    /// A live process.
    Process {
        /// Its pid.
        pid: i32,
        /// Address of the `hmap` (Go: the map value, a `*hmap`).
        addr: u64,
        /// It is a Go program (types must be Go types).
        go: bool,
    },
}

/// Output format.
#[derive(Copy, Clone, Debug, Default, PartialEq, Eq)]
pub enum Format {
    /// Tables and hex dumps.
    #[default]
    Text,
    /// The `gomap-dump/1` JSON document.
    Json,
}

/// Everything `dump` needs.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct DumpOptions {
    /// The source.
    pub source: Source,
    /// `--types KEY:ELEM`.
    pub types: Option<String>,
    /// `--key-size`.
    pub key_size: Option<usize>,
    /// `--elem-size`.
    pub elem_size: Option<usize>,
    /// Write the demo's snapshot to this file too.
    pub save_snapshot: Option<PathBuf>,
    /// Output format.
    pub format: Format,
    /// Colour the text output.
    pub color: bool,
    /// What to show.
    pub filter: Filter,
    /// The most bytes of map memory read, in MiB.
    pub limit_mib: u64,
}

impl Default for DumpOptions {
    fn default() -> Self {
        DumpOptions {
            source: Source::Demo(DemoOptions::default()),
            types: None,
            key_size: None,
            elem_size: None,
            save_snapshot: None,
            format: Format::Text,
            color: false,
            filter: Filter::default(),
            limit_mib: 1024,
        }
    }
}

/// Whether to colour: `auto` colours only a terminal, and respects `NO_COLOR` and
/// `TERM=dumb`.
pub fn color_for(choice: &str, stdout_is_tty: bool) -> bool {
    match choice {
        "always" => true,
        "never" => false,
        _ => {
            stdout_is_tty
                && std::env::var_os("NO_COLOR").map_or(true, |v| v.is_empty())
                && std::env::var("TERM").map_or(true, |t| t != "dumb")
        }
    }
}

fn limits(o: &DumpOptions) -> Limits {
    Limits {
        max_b: 30,
        max_bytes: o.limit_mib.saturating_mul(1 << 20),
        max_heap_buckets: 1 << 22,
    }
}

/// Runs `dump` and returns the output.
pub fn run(o: &DumpOptions) -> Result<String, String> {
    let r = report(o)?;
    Ok(match o.format {
        Format::Json => serde_json::to_string_pretty(&r).map_err(|e| e.to_string())?,
        Format::Text => render::render(&r, Style { color: o.color }),
    })
}

/// Builds the report `dump` prints.
pub fn report(o: &DumpOptions) -> Result<Report, String> {
    match &o.source {
        Source::Demo(d) => demo_report(o, d),
        Source::Snapshot(path) => snapshot_report(o, path),
        Source::Process { pid, addr, go } => process_report(o, *pid, *addr, *go),
    }
}

fn demo_report(o: &DumpOptions, d: &DemoOptions) -> Result<Report, String> {
    if o.key_size.is_some() || o.elem_size.is_some() {
        return Err(
            "--key-size/--elem-size describe a live process's map; the demo takes --types".into(),
        );
    }
    let mut d = d.clone();
    if let Some(t) = &o.types {
        let (k, v) = ValueType::parse_pair(t, false)?;
        let go = |t: ValueType| {
            match t {
            ValueType::Go(g) => check_go_size(g),
            other => Err(format!(
                "the demo builds a Go map: {} is not a Go type (use uint64, int32, string, [N]uint8, ...)",
                other.name()
            )),
        }
        };
        d.key = go(k)?;
        d.elem = go(v)?;
    }
    let demo = demo::build(&d)?;
    let snap = demo.map.snapshot();
    if let Some(path) = &o.save_snapshot {
        std::fs::write(path, snap.to_bytes())
            .map_err(|e| format!("cannot write the snapshot to {}: {e}", path.display()))?;
    }
    let reader = SnapshotReader::new(&snap, "the demo map");
    let types = Types {
        key: ValueType::Go(d.key),
        elem: ValueType::Go(d.elem),
        pointer_free: Some(snap.pointer_free),
    };
    let decoded = decode(&reader, snap.hmap, snap.layout, limits(o))
        .map_err(|e| format!("decoding the demo map failed (a bug): {e}"))?;
    report::build(
        &reader,
        &decoded,
        &types,
        SourceInfo {
            kind: "demo".into(),
            description: demo.describe(),
        },
        &o.filter,
    )
}

fn check_go_size(g: GoType) -> Result<GoType, String> {
    if g.size() > MAX_TYPE_SIZE {
        return Err(format!(
            "{} is {} bytes; sizes up to {MAX_TYPE_SIZE} are supported",
            g.go_name(),
            g.size()
        ));
    }
    Ok(g)
}

/// Reads a file of at most [`MAX_SNAPSHOT_FILE`] bytes.
fn read_file(path: &PathBuf) -> Result<Vec<u8>, String> {
    let f =
        std::fs::File::open(path).map_err(|e| format!("cannot open {}: {e}", path.display()))?;
    let meta = f
        .metadata()
        .map_err(|e| format!("cannot read {}: {e}", path.display()))?;
    if meta.is_dir() {
        return Err(format!(
            "{} is a directory; give a snapshot file",
            path.display()
        ));
    }
    let mut bytes = Vec::new();
    f.take(MAX_SNAPSHOT_FILE + 1)
        .read_to_end(&mut bytes)
        .map_err(|e| format!("cannot read {}: {e}", path.display()))?;
    if bytes.len() as u64 > MAX_SNAPSHOT_FILE {
        return Err(format!(
            "{} is larger than {} MiB; that is not a map snapshot",
            path.display(),
            MAX_SNAPSHOT_FILE >> 20
        ));
    }
    Ok(bytes)
}

fn snapshot_report(o: &DumpOptions, path: &PathBuf) -> Result<Report, String> {
    if o.key_size.is_some() || o.elem_size.is_some() {
        return Err(
            "--key-size/--elem-size describe a live process's map; a snapshot records its sizes"
                .into(),
        );
    }
    let name = path.display().to_string();
    let bytes = read_file(path)?;
    let snap = Snapshot::from_bytes(&bytes).map_err(|e| {
        let what_to_do = match e {
            SnapshotError::NotASnapshot => {
                "give a file written by gomap's Snapshot::to_bytes or `map-inspect dump --save-snapshot`"
            }
            SnapshotError::Version(_) => "use the map-inspect that matches the gomap that wrote it",
            SnapshotError::Truncated { .. } => {
                "the file is incomplete: copy it again or take a new snapshot"
            }
            SnapshotError::Invalid(_) => "the file is damaged: take a new snapshot",
        };
        format!("{name}: {e} ({what_to_do})")
    })?;
    let types = match &o.types {
        None => {
            let key = ValueType::from_snapshot_name(&snap.key_type, snap.layout.key_size);
            let elem = ValueType::from_snapshot_name(&snap.elem_type, snap.layout.elem_size);
            Types {
                key,
                elem,
                pointer_free: Some(snap.pointer_free),
            }
        }
        Some(t) => {
            let (key, elem) = ValueType::parse_pair(t, false)?;
            for (what, ty, size) in [
                ("key", &key, snap.layout.key_size),
                ("elem", &elem, snap.layout.elem_size),
            ] {
                if ty.size() != size {
                    return Err(format!(
                        "--types: the snapshot's {what} is {size} bytes, but {} is {}",
                        ty.name(),
                        ty.size()
                    ));
                }
            }
            Types {
                key,
                elem,
                pointer_free: Some(snap.pointer_free),
            }
        }
    };
    let reader = SnapshotReader::new(&snap, format!("snapshot {name}"));
    let decoded = decode(&reader, snap.hmap, snap.layout, limits(o)).map_err(|e| match e {
        DecodeError::Limit(_) => format!(
            "{name}: {e}; if the snapshot is right, raise it with --limit-mib (else take a new one)"
        ),
        _ => format!("{name}: {e} (the snapshot does not hold a valid map: take a new one)"),
    })?;
    report::build(
        &reader,
        &decoded,
        &types,
        SourceInfo {
            kind: "snapshot".into(),
            description: format!(
                "snapshot {name}: {} regions, {} bytes",
                snap.regions.len(),
                bytes.len()
            ),
        },
        &o.filter,
    )
}

/// The types (and layout) for a live map, from `--types` or `--key-size/--elem-size`.
fn process_types(o: &DumpOptions, go: bool) -> Result<(Types, BucketLayout), String> {
    match (&o.types, o.key_size, o.elem_size) {
        (Some(_), Some(_), _) | (Some(_), _, Some(_)) => {
            Err("give either --types or --key-size/--elem-size, not both".into())
        }
        (Some(t), None, None) => {
            let (key, elem) = ValueType::parse_pair(t, go)?;
            for t in [&key, &elem] {
                if t.size() > MAX_TYPE_SIZE {
                    return Err(format!(
                        "{} is {} bytes; sizes up to {MAX_TYPE_SIZE} are supported",
                        t.name(),
                        t.size()
                    ));
                }
            }
            let layout = layout_of(&key, &elem);
            let pf = pointer_free(&key, &elem, &layout);
            Ok((
                Types {
                    key,
                    elem,
                    pointer_free: pf,
                },
                layout,
            ))
        }
        (None, Some(k), Some(e)) => {
            if k > MAX_TYPE_SIZE || e > MAX_TYPE_SIZE {
                return Err(format!(
                    "--key-size {k} --elem-size {e}: sizes up to {MAX_TYPE_SIZE} are supported"
                ));
            }
            let key = ValueType::Opaque {
                name: String::new(),
                size: k,
            };
            let elem = ValueType::Opaque {
                name: String::new(),
                size: e,
            };
            let layout = BucketLayout::from_sizes(k, e);
            let pf = if layout.indirect_key || layout.indirect_elem {
                Some(false)
            } else {
                None
            };
            Ok((
                Types {
                    key,
                    elem,
                    pointer_free: pf,
                },
                layout,
            ))
        }
        (None, Some(_), None) | (None, None, Some(_)) => {
            Err("give both --key-size and --elem-size".into())
        }
        (None, None, None) => Err(
            "--pid needs the map's types: --types KEY:ELEM (e.g. --types uint64:string) or \
             --key-size N --elem-size N"
                .into(),
        ),
    }
}

fn process_report(o: &DumpOptions, pid: i32, addr: u64, go: bool) -> Result<Report, String> {
    let (types, layout) = process_types(o, go)?;
    if o.save_snapshot.is_some() {
        return Err("--save-snapshot works with the demo only".into());
    }
    let reader = ProcessReader::new(pid)?;
    let decoded = decode(&reader, addr, layout, limits(o)).map_err(|e| match e {
        DecodeError::Read(r) if r.addr == addr && r.reason == NOT_MAPPED => format!(
            "{r} (is --addr {addr:#x} the map's *hmap? In Go, print it with \
             *(*unsafe.Pointer)(unsafe.Pointer(&m)); for gomap, m.header() as *const _)"
        ),
        DecodeError::Limit(_) => format!(
            "pid {pid}, --addr {addr:#x}: {e}; check --addr and the types, or raise the limit \
             with --limit-mib"
        ),
        DecodeError::Corrupt(_) => format!(
            "pid {pid}, --addr {addr:#x}: {e} (check that --addr points at the map header and \
             that the types match the map)"
        ),
        DecodeError::Read(r) if r.addr == addr => r.to_string(),
        other => format!("pid {pid}: {other}"),
    })?;
    let lang = if go { "Go 1.19 map" } else { "gomap map" };
    report::build(
        &reader,
        &decoded,
        &types,
        SourceInfo {
            kind: "process".into(),
            description: format!(
                "{lang} in pid {pid} at {addr:#x}, read with process_vm_readv (a live map can \
                 change while it is read)"
            ),
        },
        &o.filter,
    )
}
