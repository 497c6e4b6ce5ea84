//! `map-inspect dump` and `map-inspect maps`: choose the source of memory (the demo, a
//! snapshot file, a live process, a core file), find the program and its map layout, find
//! the map (by name through DWARF, or by address), check that the memory looks like a map,
//! decode it, build the [`Report`] and render it as text or JSON.
//!
//! Every failure is a message that says what to do and, for a Go program, the Go version and
//! layout assumed; nothing here panics on bad input.

use std::fmt;
use std::path::{Path, PathBuf};
use std::rc::Rc;

use serde::{Deserialize, Serialize};

use gomap::dynamic::GoType;
use gomap::layout::BucketLayout;
use gomap::snapshot::SnapshotError;

use crate::decode::{decode, decode_classic, DecodeError, Limits};
use crate::demo::{self, DemoOptions};
use crate::program::dwarf::{Kind, Type};
use crate::program::expr::{self, Expr};
use crate::program::layout::{ClassicLayout, GoVersion, MapImpl, MapLayout};
use crate::program::Program;
use crate::render::{self, Style};
use crate::report::{self, Filter, LayoutInfo, Report, SourceInfo, Types};
use crate::source::{
    CoreReader, MemoryReader, ProcessReader, SnapshotFile, SnapshotKind, SnapshotReader, NOT_MAPPED,
};
use crate::swiss::report::SwissReport;

pub(crate) mod swiss;
use crate::values::{layout_of, pointer_free, TypedValue, ValueType};

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
        /// It is a Go program (`--go`), even if its executable cannot be read.
        go: bool,
    },
    /// An ELF core file.
    Core(PathBuf),
}

/// Which map.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Target {
    /// The `hmap`'s address (Go: the map value, a `*hmap`).
    Addr(u64),
    /// A Go expression naming the map variable (`main.cache`, `main.svc.byID`).
    Var(String),
}

/// Output format.
#[derive(Copy, Clone, Debug, Default, PartialEq, Eq)]
pub enum Format {
    /// Tables and hex dumps.
    #[default]
    Text,
    /// JSON (`gomap-dump/1`, `gomap-maps/1`).
    Json,
    /// One self-contained HTML page (`dump` only).
    Html,
}

/// Everything `dump` needs.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct DumpOptions {
    /// The source.
    pub source: Source,
    /// Which map (a process or a core file).
    pub target: Option<Target>,
    /// The executable (`--exe`); default: `/proc/PID/exe`, or the one the core names.
    pub exe: Option<PathBuf>,
    /// `--go-version`: the Go version, when there is no executable to read it from.
    pub go_version: Option<String>,
    /// `--goexperiment`: the `GOEXPERIMENT` settings that go with `--go-version`.
    pub goexperiment: Option<String>,
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
            target: None,
            exe: None,
            go_version: None,
            goexperiment: None,
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

/// Why a command failed: the message, and the exit status (1: an error; 2: a map this build
/// cannot decode yet).
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Failure {
    /// What went wrong and what to do.
    pub message: String,
    /// The exit status.
    pub code: u8,
}

impl From<String> for Failure {
    fn from(message: String) -> Self {
        Failure { message, code: 1 }
    }
}

impl From<&str> for Failure {
    fn from(message: &str) -> Self {
        Failure {
            message: message.to_string(),
            code: 1,
        }
    }
}

impl fmt::Display for Failure {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.message)
    }
}

/// What a command printed, and whether the read was clean.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Outcome {
    /// Standard output.
    pub text: String,
    /// Why the read was not clean (printed to standard error; the exit status is 1).
    pub unclean: Option<String>,
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

pub(crate) fn limits(o: &DumpOptions) -> Limits {
    Limits {
        max_b: 30,
        max_bytes: o.limit_mib.saturating_mul(1 << 20),
        max_heap_buckets: 1 << 22,
    }
}

/// What `dump` prints: a document rendered already (text, HTML), or a report that is
/// serialized as it is written (JSON), so that a large map's JSON never exists in memory as
/// one string besides its report.
#[derive(Debug)]
pub enum Document {
    /// Rendered text or HTML.
    Rendered(String),
    /// A classic map's report, as JSON.
    Classic(Box<Report>),
    /// A Swiss-table map's report, as JSON.
    Swiss(Box<SwissReport>),
    /// A nil map's JSON document.
    NilJson(serde_json::Value),
}

impl Document {
    /// Writes the document and one newline after it (trailing white space of a rendered
    /// document is left out, as when printed). Returns the bytes written.
    pub fn write_to(&self, w: &mut dyn std::io::Write) -> std::io::Result<u64> {
        use std::io::Write as _;
        let mut counted = Counted { inner: w, bytes: 0 };
        match self {
            Document::Rendered(t) => counted.write_all(t.trim_end().as_bytes())?,
            Document::Classic(r) => serde_json::to_writer_pretty(&mut counted, r)?,
            Document::Swiss(r) => serde_json::to_writer_pretty(&mut counted, r)?,
            Document::NilJson(v) => serde_json::to_writer_pretty(&mut counted, v)?,
        }
        counted.write_all(b"\n")?;
        counted.flush()?;
        Ok(counted.bytes)
    }

    /// The document as one string, without the final newline.
    pub fn to_text(&self) -> Result<String, String> {
        let mut v = Vec::new();
        // Writing to a Vec fails only if serialization does.
        self.write_to(&mut v).map_err(|e| e.to_string())?;
        v.pop();
        String::from_utf8(v).map_err(|e| e.to_string())
    }
}

/// A writer that counts what passes through it.
struct Counted<'a> {
    inner: &'a mut dyn std::io::Write,
    bytes: u64,
}

impl std::io::Write for Counted<'_> {
    fn write(&mut self, buf: &[u8]) -> std::io::Result<usize> {
        let n = self.inner.write(buf)?;
        self.bytes += n as u64;
        Ok(n)
    }

    fn flush(&mut self) -> std::io::Result<()> {
        self.inner.flush()
    }
}

/// What `dump` prints, not yet written, and whether the read was clean.
#[derive(Debug)]
pub struct Prepared {
    /// The document.
    pub doc: Document,
    /// Why the read was not clean (printed to standard error; the exit status is 1).
    pub unclean: Option<String>,
}

/// Runs `dump` and returns what it prints, as one string.
pub fn run(o: &DumpOptions) -> Result<Outcome, Failure> {
    let p = prepare(o)?;
    Ok(Outcome {
        text: p.doc.to_text()?,
        unclean: p.unclean,
    })
}

/// Runs `dump` up to what it prints: the caller writes the document
/// ([`Document::write_to`]), which for JSON serializes the report as it goes.
pub fn prepare(o: &DumpOptions) -> Result<Prepared, Failure> {
    let r = match report_or_nil(o)? {
        Dumped::Map(r) => r,
        Dumped::Swiss(r) => {
            let unclean = (!r.warnings.is_empty()).then(|| {
                format!(
                    "the map does not read cleanly: {} (listed under \"warnings\"); read as {}",
                    r.warnings.join("; "),
                    r.layout.description
                )
            });
            let doc = match o.format {
                Format::Json => Document::Swiss(r),
                Format::Text => {
                    Document::Rendered(crate::swiss::render::render(&r, Style { color: o.color }))
                }
                Format::Html => Document::Rendered(crate::html::swiss_page(&r)),
            };
            return Ok(Prepared { doc, unclean });
        }
        Dumped::Nil { text, json } => {
            let doc = match o.format {
                Format::Json => Document::NilJson(json),
                Format::Text => Document::Rendered(text),
                Format::Html => Document::Rendered(crate::html::text_page("a nil map", &text)),
            };
            return Ok(Prepared { doc, unclean: None });
        }
    };
    let unclean = (!r.warnings.is_empty()).then(|| {
        format!(
            "the map does not read cleanly: {} (listed under \"warnings\"){}",
            r.warnings.join("; "),
            r.layout
                .as_ref()
                .map(|l| format!("; read as {}", l.description))
                .unwrap_or_default()
        )
    });
    let doc = match o.format {
        Format::Json => Document::Classic(r),
        Format::Text => Document::Rendered(render::render(&r, Style { color: o.color })),
        Format::Html => Document::Rendered(crate::html::dump_page(&r)),
    };
    Ok(Prepared { doc, unclean })
}

/// Builds the report `dump` prints for a classic map (a nil map, or a Swiss map, is an error
/// here).
pub fn report(o: &DumpOptions) -> Result<Report, Failure> {
    match report_or_nil(o)? {
        Dumped::Map(r) => Ok(*r),
        Dumped::Swiss(r) => {
            Err(format!("{} is a Swiss-table map: use swiss_report", r.map.addr).into())
        }
        Dumped::Nil { text, .. } => Err(text.into()),
    }
}

/// Builds the report `dump` prints for a Swiss-table map (a nil map, or a classic map, is an
/// error here).
pub fn swiss_report(o: &DumpOptions) -> Result<SwissReport, Failure> {
    match report_or_nil(o)? {
        Dumped::Swiss(r) => Ok(*r),
        Dumped::Map(r) => Err(format!("{} is a classic map: use report", r.map.hmap).into()),
        Dumped::Nil { text, .. } => Err(text.into()),
    }
}

/// A dumped map, or a nil map variable.
enum Dumped {
    Map(Box<Report>),
    Swiss(Box<SwissReport>),
    Nil {
        text: String,
        json: serde_json::Value,
    },
}

fn report_or_nil(o: &DumpOptions) -> Result<Dumped, Failure> {
    let r = match &o.source {
        Source::Demo(d) => {
            classic_filter_only(o)?;
            demo_report(o, d)?
        }
        Source::Snapshot(path) => {
            if o.save_snapshot.is_some() {
                return Err(format!(
                    "--save-snapshot saves the demo's map or a Go program's Swiss-table map; {} \
                     is a snapshot already (copy the file)",
                    path.display()
                )
                .into());
            }
            return snapshot_report(o, path);
        }
        Source::Process { pid, go } => {
            let reader = ProcessReader::new(*pid)?;
            let exe = PathBuf::from(format!("/proc/{pid}/exe"));
            return target_report(o, &reader, Origin::Process(*pid), Some(exe), *go);
        }
        Source::Core(path) => {
            let reader = CoreReader::open(path, o.exe.as_deref())?;
            let exe = reader.info.exe.clone();
            return target_report(o, &reader, Origin::Core(path.clone()), exe, true);
        }
    };
    Ok(Dumped::Map(Box::new(r)))
}

/// The Swiss-only options are errors for a classic map.
fn classic_filter_only(o: &DumpOptions) -> Result<(), Failure> {
    if o.filter.table.is_some() || o.filter.group.is_some() {
        return Err(
            "--table and --group select a Swiss-table map's tables and groups; this is a classic \
             map: use --bucket N, --old or --new"
                .into(),
        );
    }
    Ok(())
}

fn demo_report(o: &DumpOptions, d: &DemoOptions) -> Result<Report, Failure> {
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
    let mut r = report::build(
        &reader,
        &decoded,
        &types,
        SourceInfo {
            kind: "demo".into(),
            description: demo.describe(),
        },
        &o.filter,
    )?;
    r.layout = Some(LayoutInfo::of(&MapLayout::gomap()));
    Ok(r)
}

pub(crate) fn check_go_size(g: GoType) -> Result<GoType, String> {
    if g.size() > MAX_TYPE_SIZE {
        return Err(format!(
            "{} is {} bytes; sizes up to {MAX_TYPE_SIZE} are supported",
            g.go_name(),
            g.size()
        ));
    }
    Ok(g)
}

fn snapshot_report(o: &DumpOptions, path: &Path) -> Result<Dumped, Failure> {
    if o.key_size.is_some() || o.elem_size.is_some() {
        return Err(
            "--key-size/--elem-size describe a live process's map; a snapshot records its sizes"
                .into(),
        );
    }
    if o.target.is_some() {
        return Err(
            "--addr and a variable name go with --pid or --core, not with a snapshot".into(),
        );
    }
    let name = path.display().to_string();
    let snap = SnapshotFile::open(path).map_err(|e| match e {
        Err(msg) => msg,
        Ok(e) => {
            let what_to_do = match e {
                SnapshotError::NotASnapshot => {
                    "give a file written by gomap's Snapshot::to_bytes or `map-inspect dump --save-snapshot`; for a core file use --core"
                }
                SnapshotError::Version(_) => {
                    "use the map-inspect that matches the gomap that wrote it"
                }
                SnapshotError::Truncated { .. } => {
                    "the file is incomplete: copy it again or take a new snapshot"
                }
                SnapshotError::Invalid(_) => "the file is damaged: take a new snapshot",
            };
            format!("{name}: {e} ({what_to_do})")
        }
    })?;
    let (layout, pointer_free) = match &snap.kind {
        SnapshotKind::Classic {
            layout,
            pointer_free,
        } => (*layout, *pointer_free),
        SnapshotKind::Swiss { .. } => return swiss::snapshot_report(o, &snap, &name),
    };
    classic_filter_only(o)?;
    let snap_layout = layout;
    let types = match &o.types {
        None => Types {
            key: ValueType::from_snapshot_name(&snap.key_type, snap_layout.key_size),
            elem: ValueType::from_snapshot_name(&snap.elem_type, snap_layout.elem_size),
            pointer_free: Some(pointer_free),
        },
        Some(t) => {
            let (key, elem) = ValueType::parse_pair(t, false)?;
            for (what, ty, size) in [
                ("key", &key, snap_layout.key_size),
                ("elem", &elem, snap_layout.elem_size),
            ] {
                if ty.size() != size {
                    return Err(format!(
                        "--types: the snapshot's {what} is {size} bytes, but {} is {}",
                        ty.name(),
                        ty.size()
                    )
                    .into());
                }
            }
            Types {
                key,
                elem,
                pointer_free: Some(pointer_free),
            }
        }
    };
    let decoded = decode(&snap, snap.hmap, snap_layout, limits(o)).map_err(|e| match e {
        DecodeError::Limit(_) => format!(
            "{name}: {e}; if the snapshot is right, raise it with --limit-mib (else take a new one)"
        ),
        _ => format!("{name}: {e} (the snapshot does not hold a valid map: take a new one)"),
    })?;
    let mut r = report::build(
        &snap,
        &decoded,
        &types,
        SourceInfo {
            kind: "snapshot".into(),
            description: format!(
                "snapshot {name}: {} regions, {} bytes",
                snap.nregions, snap.file_size
            ),
        },
        &o.filter,
    )?;
    r.layout = Some(LayoutInfo::of(&MapLayout::gomap()));
    Ok(Dumped::Map(Box::new(r)))
}

pub(crate) fn process_types(o: &DumpOptions, go: bool) -> Result<(Types, BucketLayout), String> {
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

/// Where a program's memory comes from.
#[derive(Clone, Debug)]
pub(crate) enum Origin {
    Process(i32),
    Core(PathBuf),
}

impl Origin {
    pub(crate) fn name(&self) -> String {
        match self {
            Origin::Process(p) => format!("pid {p}"),
            Origin::Core(c) => format!("core file {}", c.display()),
        }
    }
    pub(crate) fn kind(&self) -> &'static str {
        match self {
            Origin::Process(_) => "process",
            Origin::Core(_) => "core",
        }
    }
}

/// The program of a process or a core file, and the map layout to read it with.
pub(crate) struct Target2 {
    pub(crate) prog: Option<Rc<Program>>,
    pub(crate) layout: MapLayout,
    /// A Go program (else a Rust program using gomap).
    pub(crate) go: bool,
}

/// Finds the executable and the layout. `go_hint`: the user said `--go`, or the source is a
/// core file (only Go programs are read from core files).
pub(crate) fn find_program(
    o: &DumpOptions,
    origin: &Origin,
    exe_hint: Option<PathBuf>,
    go_hint: bool,
) -> Result<Target2, Failure> {
    let exe = o.exe.clone().or(exe_hint);
    let prog = match &exe {
        Some(path) => match Program::open(path) {
            Ok(p) => Some(Rc::new(p)),
            Err(e) if o.exe.is_some() => return Err(e.into()),
            Err(e) => {
                let not_go = e.contains("no .go.buildinfo") || e.contains("not an ELF");
                match origin {
                    Origin::Process(_) if !go_hint && (not_go || e.contains("cannot open")) => None,
                    _ if o.go_version.is_some() => None,
                    Origin::Core(_) => {
                        return Err(format!(
                            "the core file names the executable {}, which cannot be read ({e}); \
                             give it with --exe BIN (or give --go-version to read by --addr)",
                            path.display()
                        )
                        .into())
                    }
                    Origin::Process(pid) => {
                        return Err(format!(
                            "the executable of pid {pid} cannot be read ({e}); give it with --exe \
                             BIN, or the Go version with --go-version"
                        )
                        .into())
                    }
                }
            }
        },
        None => None,
    };
    let go = go_hint || prog.is_some() || o.go_version.is_some();
    let layout = if let Some(v) = &o.go_version {
        let ver = GoVersion::parse(v).ok_or_else(|| {
            format!("--go-version {v:?}: expected a Go version such as 1.22.10 or go1.24.11")
        })?;
        let exps: Vec<String> = o
            .goexperiment
            .as_deref()
            .unwrap_or("")
            .split(',')
            .filter(|s| !s.is_empty())
            .map(String::from)
            .collect();
        let l = MapLayout::for_go(ver, &exps, "--go-version")?;
        if let Some(p) = &prog {
            if p.layout.imp != l.imp {
                return Err(format!(
                    "--go-version says {}, but {} says {}; leave out --go-version, or give the \
                     right executable with --exe",
                    l.describe(),
                    p.layout.found_in,
                    p.layout.describe()
                )
                .into());
            }
        }
        l
    } else if let Some(p) = &prog {
        p.layout.clone()
    } else if go {
        return Err(format!(
            "cannot tell which Go version built the program in {}: give its executable with \
             --exe BIN, or the version with --go-version (e.g. --go-version 1.22.10; for Go 1.24 \
             or 1.25 built with GOEXPERIMENT=noswissmap add --goexperiment noswissmap)",
            origin.name()
        )
        .into());
    } else {
        MapLayout::gomap()
    };
    Ok(Target2 { prog, layout, go })
}

/// A map implementation this build does not read: exit status 2.
pub(crate) fn unsupported_failure(layout: &MapLayout) -> Failure {
    let why = match &layout.imp {
        MapImpl::Unsupported(why) => why.clone(),
        _ => "this map layout is not supported".into(),
    };
    Failure {
        message: format!(
            "{why} ({}; from {}). map-inspect reads Go's classic maps (Go 1.19–1.23, and \
             1.24–1.25 built with GOEXPERIMENT=noswissmap) and Swiss-table maps (Go 1.24–1.27)",
            layout.describe(),
            layout.found_in
        ),
        code: 2,
    }
}

/// `(assuming Go 1.22.10, classic map with a 48-byte hmap ...; from .go.buildinfo of BIN)`
pub(crate) fn assumed(layout: &MapLayout) -> String {
    format!("(assumed {}; from {})", layout.describe(), layout.found_in)
}

/// A map found by name: its header address and types.
pub(crate) struct Found {
    pub(crate) hmap: u64,
    /// The variable, with its type name (for messages and the nil-map text).
    pub(crate) what: String,
    /// Types from DWARF.
    pub(crate) dwarf_types: Option<(Rc<Type>, Rc<Type>)>,
    /// The header type's DIE (`hash<K,V>`, `map<K,V>`).
    pub(crate) header: Option<u64>,
    /// The map type's runtime descriptor, as an offset from `runtime.types`.
    pub(crate) runtime_type: Option<u64>,
}

/// Resolves a variable expression to the map it holds.
pub(crate) fn find_var<R: MemoryReader + ?Sized>(
    prog: &Program,
    r: &R,
    text: &str,
    full: &MapLayout,
) -> Result<Result<Found, (String, String, u64)>, Failure> {
    let e = Expr::parse(text)?;
    let d = match prog.dwarf()? {
        Some(d) => d,
        None => {
            if !prog.has_symbols() {
                return Err(prog.no_symbols().into());
            }
            let Some(name) = e.bare_name() else {
                return Err(prog
                    .require_dwarf(&format!("the expression {text}"))
                    .err()
                    .unwrap_or_default()
                    .into());
            };
            let (addr, _) = prog.symbol(name).ok_or_else(|| {
                format!(
                    "no symbol {name} in {} (no DWARF either: built with -ldflags=-w); names are \
                     package-qualified with the full import path (main.cache, \
                     example.com/svc/cache.byID)",
                    prog.path.display()
                )
            })?;
            let hmap = r
                .read_u64(addr)
                .map_err(|e| format!("reading {name} at {addr:#x}: {e}"))?;
            if hmap == 0 {
                return Ok(Err((name.to_string(), "map (type unknown)".into(), addr)));
            }
            return Ok(Ok(Found {
                hmap,
                what: name.to_string(),
                dwarf_types: None,
                header: None,
                runtime_type: None,
            }));
        }
    };
    let place = expr::eval(&e, d, &RefReader(r))?;
    let Kind::Map {
        key,
        elem,
        header,
        runtime_type,
    } = place.ty.kind
    else {
        return Err(format!(
            "{} is not a map: its type is {} ({} bytes at {:#x}). `map-inspect maps` lists the \
             map variables",
            e.text, place.ty.name, place.ty.size, place.addr
        )
        .into());
    };
    if let Some(h) = header {
        let ht = d.type_at(h)?;
        prog.check_header_type(&ht)?;
        if let MapImpl::Classic(_) = &full.imp {
            check_bucket_type(d, &ht, key, elem, full)?;
        }
    }
    let hmap = r
        .read_u64(place.addr)
        .map_err(|err| format!("reading {} at {:#x}: {err}", e.text, place.addr))?;
    if hmap == 0 {
        return Ok(Err((e.text.clone(), place.ty.name.clone(), place.addr)));
    }
    Ok(Ok(Found {
        hmap,
        what: format!("{} ({})", e.text, place.ty.name),
        dwarf_types: Some((d.type_at(key)?, d.type_at(elem)?)),
        header,
        runtime_type,
    }))
}

/// The bucket struct DWARF gives (`bucket<K,V>`) must have the size the layout rules give.
fn check_bucket_type(
    d: &crate::program::dwarf::GoDwarf,
    header: &Type,
    key: u64,
    elem: u64,
    full: &MapLayout,
) -> Result<(), String> {
    let Kind::Struct { fields } = &header.kind else {
        return Ok(());
    };
    let Some(b) = fields.iter().find(|f| f.name == "buckets") else {
        return Ok(());
    };
    let Kind::Pointer { target: Some(bt) } = b.ty.kind else {
        return Ok(());
    };
    let bt = d.type_at(bt)?;
    let (k, v) = (d.type_at(key)?, d.type_at(elem)?);
    let l = go_bucket_layout(&k, &v);
    if bt.size != l.bucketsize as u64 {
        return Err(format!(
            "DWARF's {} is {} bytes, but the layout rules give {} for keys of {} bytes and elems \
             of {} bytes {}",
            bt.name,
            bt.size,
            l.bucketsize,
            k.size,
            v.size,
            assumed(full)
        ));
    }
    Ok(())
}

/// Go's bucket layout for key and elem types: over 128 bytes, stored through a pointer.
pub(crate) fn go_bucket_layout(k: &Type, v: &Type) -> BucketLayout {
    BucketLayout::with_indirection(k.size as usize, v.size as usize, k.size > 128, v.size > 128)
}

/// A `&R` as a `dyn MemoryReader` (for code that takes trait objects).
pub(crate) struct RefReader<'a, R: ?Sized>(pub(crate) &'a R);

impl<R: MemoryReader + ?Sized> MemoryReader for RefReader<'_, R> {
    fn read(&self, addr: u64, buf: &mut [u8]) -> Result<(), crate::source::ReadError> {
        self.0.read(addr, buf)
    }
    fn describe(&self) -> String {
        self.0.describe()
    }
    fn read_vec(&self, addr: u64, len: usize) -> Result<Vec<u8>, crate::source::ReadError> {
        self.0.read_vec(addr, len)
    }
}

/// Whether the header at `addr` passes the checks and its arrays can be read.
fn looks_like_map<R: MemoryReader + ?Sized>(
    r: &R,
    addr: u64,
    bl: BucketLayout,
    classic: &ClassicLayout,
    lim: Limits,
) -> bool {
    if addr == 0 || addr % 8 != 0 {
        return false;
    }
    decode_classic(r, addr, bl, classic, lim).is_ok_and(|d| d.warnings.is_empty())
}

fn target_report<R: MemoryReader + ?Sized>(
    o: &DumpOptions,
    r: &R,
    origin: Origin,
    exe_hint: Option<PathBuf>,
    go_hint: bool,
) -> Result<Dumped, Failure> {
    if let Some(Target::Addr(_)) = &o.target {
        // The options' own errors first: they need no program.
        process_types(o, go_hint)?;
    }
    let t = find_program(o, &origin, exe_hint, go_hint)?;
    let classic = match &t.layout.imp {
        MapImpl::Classic(c) => c.clone(),
        MapImpl::Swiss(sw) => return swiss::target_report(o, r, &origin, &t, sw),
        MapImpl::Unsupported(_) => return Err(unsupported_failure(&t.layout)),
    };
    if o.save_snapshot.is_some() {
        return Err(
            "--save-snapshot works with the demo and with Swiss-table maps (Go 1.24+); a classic \
             map of a Go program is dumped, not saved"
                .into(),
        );
    }
    classic_filter_only(o)?;
    let lim = limits(o);
    let who = origin.name();
    let res = (|| -> Result<Dumped, Failure> {
        let (hmap, what, types, bl) = match &o.target {
            None => {
                return Err(format!(
                    "which map? Name a variable (`map-inspect maps --{} ...` lists them), e.g. \
                 `map-inspect dump --{} ... main.cache`, or give --addr",
                    origin.kind().replace("process", "pid"),
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
                let found = match find_var(prog, r, text, &t.layout)? {
                    Ok(f) => f,
                    Err((name, ty, addr)) => {
                        let text = format!(
                        "{}\n{name} ({ty}) at {addr:#x} in {who}: nil map (the variable holds no \
                         map: make was never called; reads see an empty map, writes panic)\n",
                        t.layout.describe()
                    );
                        let json = serde_json::json!({
                            "schema": report::SCHEMA,
                            "nil": true,
                            "variable": name,
                            "type": ty,
                            "address": format!("{addr:#x}"),
                            "layout": LayoutInfo::of(&t.layout),
                        });
                        return Ok(Dumped::Nil { text, json });
                    }
                };
                let (types, bl) = match (&found.dwarf_types, &o.types) {
                    (Some((k, v)), given) => {
                        let bl = go_bucket_layout(k, v);
                        if let Some(g) = given {
                            check_types_agree(g, k, v, &found.what)?;
                        }
                        if o.key_size.is_some() || o.elem_size.is_some() {
                            return Err("--key-size/--elem-size are for --addr without types; \
                                    DWARF gives this map's types"
                                .into());
                        }
                        let prog = prog.clone();
                        let tv = |ty: &Rc<Type>| {
                            ValueType::Typed(TypedValue {
                                ty: ty.clone(),
                                prog: prog.clone(),
                            })
                        };
                        let pf = !(bl.indirect_key
                            || bl.indirect_elem
                            || k.has_pointers()
                            || v.has_pointers());
                        (
                            Types {
                                key: tv(k),
                                elem: tv(v),
                                pointer_free: Some(pf),
                            },
                            bl,
                        )
                    }
                    (None, _) => {
                        if o.types.is_none() && o.key_size.is_none() {
                            return Err(prog
                                .require_dwarf(&format!("decoding {}", found.what))
                                .err()
                                .unwrap_or_default()
                                .into());
                        }
                        process_types(o, true)?
                    }
                };
                (found.hmap, found.what, types, bl)
            }
            Some(Target::Addr(a)) => {
                let (types, bl) = process_types(o, t.go)?;
                (*a, format!("--addr {a:#x}"), types, bl)
            }
        };
        let lang = if t.go { "Go map" } else { "gomap map" };
        let decoded = decode_classic(r, hmap, bl, &classic, lim).map_err(|e| {
            let base = match &e {
                DecodeError::Read(re) if re.addr == hmap && re.reason == NOT_MAPPED => format!(
                    "{who}, {what}: {re} (is {what} the map's *hmap? In Go, print it with \
                 fmt.Printf(\"%p\\n\", m); for gomap, m.header() as *const _)"
                ),
                DecodeError::Limit(_) => format!(
                    "{who}, {what}: {e}; check the address and the types, or raise the limit with \
                 --limit-mib"
                ),
                DecodeError::Corrupt(_) => format!(
                "{who}, {what}: the memory at {hmap:#x} does not look like a {lang}'s header: {e}"
            ),
                DecodeError::Read(_) => format!("{who}, {what}: {e}"),
            };
            let mut msg = base;
            if let Some(Target::Addr(a)) = &o.target {
                if !matches!(e, DecodeError::Limit(_)) {
                    if let Ok(p) = r.read_u64(*a) {
                        if p != *a && looks_like_map(r, p, bl, &classic, lim) {
                            msg.push_str(&format!(
                                ". This looks like the variable's address; the map is at {p:#x} \
                             (--addr {p:#x})"
                            ));
                        }
                    }
                }
            }
            if t.go {
                msg.push_str(&format!(" {}", assumed(&t.layout)));
            }
            Failure::from(msg)
        })?;
        let mut rep = report::build(
            &RefReader(r),
            &decoded,
            &types,
            SourceInfo {
                kind: origin.kind().into(),
                description: match &origin {
                    Origin::Process(pid) => format!(
                        "{lang} in pid {pid} at {hmap:#x} ({what}), read with process_vm_readv \
                         (a live map can change while it is read)"
                    ),
                    Origin::Core(c) => {
                        format!("{lang} in core file {} at {hmap:#x} ({what})", c.display())
                    }
                },
            },
            &o.filter,
        )?;
        rep.layout = Some(LayoutInfo::of(&t.layout));
        Ok(Dumped::Map(Box::new(rep)))
    })();
    res.map_err(|mut f| {
        if t.go && !f.message.contains("(assumed") {
            f.message.push_str(&format!(" {}", assumed(&t.layout)));
        }
        f
    })
}

/// `--types` given along with DWARF: they must agree.
pub(crate) fn check_types_agree(given: &str, k: &Type, v: &Type, what: &str) -> Result<(), String> {
    let (gk, gv) = ValueType::parse_pair(given, true)?;
    for (which, g, d) in [("key", &gk, k), ("elem", &gv, v)] {
        let same_name = g.name() == d.name
            || (matches!(g, ValueType::Go(GoType::Bytes(_)))
                && d.name.replace("uint8", "byte") == g.name().replace("uint8", "byte"));
        if g.size() as u64 != d.size || !same_name {
            return Err(format!(
                "--types says the {which} is {} ({} bytes), but DWARF says {what} has {which} \
                 type {} ({} bytes); leave out --types: DWARF gives the types",
                g.name(),
                g.size(),
                d.name,
                d.size
            ));
        }
    }
    Ok(())
}

/// One row of `map-inspect maps`.
#[allow(non_snake_case)]
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct MapRow {
    /// The variable (full import path).
    pub name: String,
    /// Its type (`map[string]int`).
    #[serde(rename = "type")]
    pub ty: String,
    /// The variable's address.
    pub address: String,
    /// The `hmap` it points to (`null`: a nil map).
    pub hmap: Option<String>,
    /// `len(m)`.
    pub count: Option<u64>,
    /// `B`.
    pub B: Option<u8>,
    /// A grow is in progress.
    pub growing: Option<bool>,
    /// Swiss maps: tables (0 for a small map).
    #[serde(default)]
    pub tables: Option<usize>,
    /// Swiss maps: groups.
    #[serde(default)]
    pub groups: Option<usize>,
    /// Bytes the map's structures take (classic: header, extra, overflow lists, arrays, heap
    /// overflow buckets; Swiss: header, directory, tables, groups, indirect keys and elems).
    pub bytes: Option<u64>,
    /// Why the map could not be read.
    pub error: Option<String>,
}

/// The `maps` document (`gomap-maps/1`).
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct MapsReport {
    /// `gomap-maps/1`.
    pub schema: String,
    /// Where the memory came from.
    pub source: SourceInfo,
    /// The Go version and layout.
    pub layout: LayoutInfo,
    /// Every map-typed package-level variable, by name.
    pub maps: Vec<MapRow>,
}

/// Options of `maps`.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct MapsOptions {
    /// A process or a core file.
    pub source: Option<Source>,
    /// `--exe`.
    pub exe: Option<PathBuf>,
    /// Only variables whose name contains this.
    pub filter: Option<String>,
    /// Output format.
    pub format: Format,
    /// The most MiB read per map.
    pub limit_mib: u64,
}

/// Runs `maps`: every map-typed package-level variable with its count, B, grow state and size.
pub fn maps(o: &MapsOptions) -> Result<Outcome, Failure> {
    let d = DumpOptions {
        exe: o.exe.clone(),
        limit_mib: o.limit_mib,
        ..DumpOptions::default()
    };
    match &o.source {
        Some(Source::Process { pid, go }) => {
            let r = ProcessReader::new(*pid)?;
            let exe = PathBuf::from(format!("/proc/{pid}/exe"));
            maps_of(o, &d, &r, Origin::Process(*pid), Some(exe), *go)
        }
        Some(Source::Core(path)) => {
            let r = CoreReader::open(path, o.exe.as_deref())?;
            let exe = r.info.exe.clone();
            maps_of(o, &d, &r, Origin::Core(path.clone()), exe, true)
        }
        _ => Err("maps reads a Go program: give --pid PID or --core CORE".into()),
    }
}

fn maps_of<R: MemoryReader + ?Sized>(
    o: &MapsOptions,
    d: &DumpOptions,
    r: &R,
    origin: Origin,
    exe_hint: Option<PathBuf>,
    go_hint: bool,
) -> Result<Outcome, Failure> {
    let t = find_program(d, &origin, exe_hint, go_hint)?;
    let prog = t.prog.clone().ok_or_else(|| {
        format!(
            "{} is not a Go program map-inspect can read (no .go.buildinfo); give the executable \
             with --exe",
            origin.name()
        )
    })?;
    let dw = prog.require_dwarf("listing the map variables")?;
    let lim = limits(d);
    let mut rows = Vec::new();
    let mut bad = 0;
    for v in dw.variables()?.values() {
        if let Some(f) = &o.filter {
            if !v.name.contains(f.as_str()) {
                continue;
            }
        }
        let Ok(ty) = dw.type_at(v.ty) else { continue };
        let Kind::Map {
            key,
            elem,
            header,
            runtime_type,
        } = ty.kind
        else {
            continue;
        };
        let mut row = MapRow {
            name: v.name.clone(),
            ty: ty.name.clone(),
            address: format!("{:#x}", v.addr),
            hmap: None,
            count: None,
            B: None,
            growing: None,
            tables: None,
            groups: None,
            bytes: None,
            error: None,
        };
        let classic = match &t.layout.imp {
            MapImpl::Classic(c) => c,
            MapImpl::Swiss(sw) => {
                let res = swiss::map_row(
                    &prog,
                    dw,
                    r,
                    sw,
                    v.addr,
                    key,
                    elem,
                    header,
                    runtime_type,
                    lim,
                    &mut row,
                );
                if let Err(e) = res {
                    bad += 1;
                    row.error = Some(e);
                }
                rows.push(row);
                continue;
            }
            MapImpl::Unsupported(_) => return Err(unsupported_failure(&t.layout)),
        };
        let res = (|| -> Result<(), String> {
            if let Some(h) = header {
                prog.check_header_type(&*dw.type_at(h)?)?;
            }
            let p = r.read_u64(v.addr).map_err(|e| e.to_string())?;
            if p == 0 {
                return Ok(());
            }
            row.hmap = Some(format!("{p:#x}"));
            let bl = go_bucket_layout(&*dw.type_at(key)?, &*dw.type_at(elem)?);
            let dec = decode_classic(r, p, bl, classic, lim).map_err(|e| e.to_string())?;
            row.count = Some(dec.header.count);
            row.B = Some(dec.header.B);
            row.growing = Some(dec.header.growing());
            row.bytes = Some(map_bytes(&dec));
            if !dec.warnings.is_empty() {
                return Err(dec.warnings.join("; "));
            }
            Ok(())
        })();
        if let Err(e) = res {
            bad += 1;
            row.error = Some(e);
        }
        rows.push(row);
    }
    let doc = MapsReport {
        schema: "gomap-maps/1".into(),
        source: SourceInfo {
            kind: origin.kind().into(),
            description: format!("{} ({})", origin.name(), prog.path.display()),
        },
        layout: LayoutInfo::of(&t.layout),
        maps: rows,
    };
    let text = match o.format {
        Format::Json => serde_json::to_string_pretty(&doc).map_err(|e| e.to_string())?,
        Format::Text => render_maps(&doc),
        Format::Html => return Err("maps has no HTML output (dump has one)".into()),
    };
    Ok(Outcome {
        text,
        unclean: (bad > 0).then(|| {
            format!(
                "{bad} map{} could not be read cleanly (see the error column) {}",
                if bad == 1 { "" } else { "s" },
                assumed(&t.layout)
            )
        }),
    })
}

/// The bytes a decoded map's structures take (the summary's total).
fn map_bytes(d: &crate::decode::Decoded) -> u64 {
    let bs = d.layout.bucketsize as u64;
    let lists = d.extra.as_ref().map_or(0, |e| {
        let one = |a: u64, v: &Option<Vec<u64>>| {
            if a == 0 {
                0
            } else {
                24 + 8 * v.as_ref().map_or(0, |v| v.len() as u64)
            }
        };
        one(e.overflow, &e.overflow_list) + one(e.oldoverflow, &e.oldoverflow_list)
    });
    d.header.raw.len() as u64
        + if d.header.extra == 0 { 0 } else { 24 }
        + lists
        + (d.buckets.len() + d.oldbuckets.len() + d.heap.len()) as u64 * bs
}

fn render_maps(doc: &MapsReport) -> String {
    use std::fmt::Write as _;
    let mut out = String::new();
    let _ = writeln!(
        out,
        "{}; from {}",
        doc.layout.description, doc.layout.found_in
    );
    let _ = writeln!(out, "{}", doc.source.description);
    let swiss = doc.layout.implementation == "swiss";
    let rows: Vec<[String; 7]> = doc
        .maps
        .iter()
        .map(|m| {
            let opt = |v: Option<String>| v.unwrap_or_else(|| "-".into());
            let (c5, c6) = if swiss {
                (
                    opt(m.tables.map(|t| t.to_string())),
                    opt(m.groups.map(|g| g.to_string())),
                )
            } else {
                (
                    opt(m.B.map(|b| b.to_string())),
                    opt(m
                        .growing
                        .map(|g| if g { "yes".into() } else { "no".into() })),
                )
            };
            [
                m.name.clone(),
                m.ty.clone(),
                m.hmap.clone().unwrap_or_else(|| "nil".into()),
                opt(m.count.map(|c| c.to_string())),
                c5,
                c6,
                match &m.error {
                    Some(e) => format!("error: {e}"),
                    None => opt(m.bytes.map(|b| b.to_string())),
                },
            ]
        })
        .collect();
    let head = if swiss {
        ["NAME", "TYPE", "MAP", "USED", "TABLES", "GROUPS", "BYTES"]
    } else {
        ["NAME", "TYPE", "HMAP", "COUNT", "B", "GROWING", "BYTES"]
    };
    let mut w = head.map(|h| h.len());
    for r in &rows {
        for (i, c) in r.iter().enumerate().take(6) {
            w[i] = w[i].max(c.chars().count().min(48));
        }
    }
    let line = |cells: [&str; 7]| {
        let mut l = String::new();
        for (i, c) in cells.iter().enumerate() {
            if i < 6 {
                let _ = write!(l, "{:<width$}  ", c, width = w[i]);
            } else {
                l.push_str(c);
            }
        }
        l.trim_end().to_string()
    };
    let _ = writeln!(out, "{}", line(head));
    for r in &rows {
        let _ = writeln!(out, "{}", line(r.each_ref().map(|s| s.as_str())));
    }
    let _ = writeln!(
        out,
        "{} map variable{}; dump one with `map-inspect dump --pid PID NAME` (or --core CORE NAME)",
        rows.len(),
        if rows.len() == 1 { "" } else { "s" }
    );
    out
}
