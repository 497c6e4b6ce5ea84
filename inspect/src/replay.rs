//! `map-inspect replay`: runs an operation script on gomap (a [`DynMap`] with the script's
//! types) and records the map's memory at every `dump`, in the same JSON the Go oracle
//! (`tests/go-oracle`) writes for a real Go map; and, for the text and HTML output, the
//! report `dump` builds of the same memory ([`Report`]), rendered by `dump`'s own renderers.

use std::cell::{Cell, RefCell};
use std::fmt;
use std::fmt::Write as _;
use std::path::PathBuf;

use gomap::alloc::Global;
use gomap::dynamic::DynMap;
use gomap::hash::process_hashkey;
use gomap::rand::{FastRand, RandSource};

use crate::decode::{decode, DecodeError, Limits};
use crate::program::layout::MapLayout;
use crate::render::{self, Style};
use crate::report::{self, Filter, LayoutInfo, Report, SourceInfo, Types};
use crate::script::{Op, Script};
use crate::source::SnapshotReader;
use crate::trace::{self, SlotKind, Trace, SCHEMA};
use crate::values::ValueType;

/// Where the replay's randomness comes from.
#[derive(Clone, Debug, Default)]
pub struct Options {
    /// The hashkey (else the script's `hashkey`, else random).
    pub hashkey: Option<u64>,
    /// The hash0 draws (else the script's `hash0`, else random).
    pub hash0: Option<Vec<u32>>,
    /// Limits of the decoder.
    pub limits: Limits,
    /// Also build each dump's [`Report`] (for the text and HTML output).
    pub reports: Option<ReportOptions>,
    /// Write each dump's snapshot into this directory (`dump-001.snap`, ...), for `dump`,
    /// `check` and `get`.
    pub save_snapshots: Option<PathBuf>,
}

/// How to build the reports of a replay's dumps.
#[derive(Clone, Debug)]
pub struct ReportOptions {
    /// The script's name, for each report's source line.
    pub name: String,
    /// What each report shows (`--no-hex`).
    pub filter: Filter,
}

/// Why a replay failed.
#[derive(Debug)]
pub enum ReplayError {
    /// An operation was rejected (line, message).
    Op(usize, String),
    /// Decoding the map's own memory failed (a bug).
    Decode(usize, DecodeError),
    /// A snapshot could not be written (line, message).
    Io(usize, String),
}

impl fmt::Display for ReplayError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            ReplayError::Op(line, m) => write!(f, "line {line}: {m}"),
            ReplayError::Decode(line, e) => write!(f, "line {line}: dump failed: {e}"),
            ReplayError::Io(line, m) => write!(f, "line {line}: {m}"),
        }
    }
}

impl std::error::Error for ReplayError {}

/// A random source that answers `hash0` draws from a recording (then randomly) and records
/// every `hash0` it hands out.
struct Recorder {
    script: Vec<u32>,
    pos: Cell<usize>,
    drawn: RefCell<Vec<u32>>,
}

impl RandSource for Recorder {
    fn fastrand(&self) -> u32 {
        FastRand.fastrand()
    }
    fn draw_hash0(&self) -> u32 {
        let i = self.pos.get();
        let v = match self.script.get(i) {
            Some(&v) => {
                self.pos.set(i + 1);
                v
            }
            None => FastRand.fastrand(),
        };
        self.drawn.borrow_mut().push(v);
        v
    }
}

/// The result of a replay.
#[derive(Debug)]
pub struct Outcome {
    /// The trace (the JSON document).
    pub trace: Trace,
    /// How many recorded hash0 values were used.
    pub hash0_used: usize,
    /// How many were given.
    pub hash0_given: usize,
    /// Each dump's report, when [`Options::reports`] asked for them.
    pub reports: Vec<Report>,
    /// The snapshot files written ([`Options::save_snapshots`]).
    pub snapshots: Vec<PathBuf>,
}

/// Runs `script`.
pub fn run(script: &Script, opts: &Options) -> Result<Outcome, ReplayError> {
    let hashkey = opts
        .hashkey
        .or(script.hashkey)
        .unwrap_or_else(process_hashkey);
    let recorded = opts.hash0.clone().unwrap_or_else(|| script.hash0.clone());
    let rec = Recorder {
        script: recorded.clone(),
        pos: Cell::new(0),
        drawn: RefCell::new(Vec::new()),
    };
    let mut m = DynMap::from_parts(script.key, script.elem, script.hint, hashkey, Global, &rec)
        .map_err(|e| ReplayError::Op(1, e.to_string()))?;
    let kinds = (
        SlotKind::of(&script.key.go_name().to_string()),
        SlotKind::of(&script.elem.go_name().to_string()),
    );
    let mut dumps = Vec::new();
    let mut reports = Vec::new();
    let mut snapshots = Vec::new();
    if let Some(dir) = &opts.save_snapshots {
        std::fs::create_dir_all(dir)
            .map_err(|e| ReplayError::Io(0, format!("cannot create {}: {e}", dir.display())))?;
    }
    for (line, op) in &script.ops {
        let line = *line;
        match op {
            Op::Insert(k, v) => {
                m.insert(k, v)
                    .map_err(|e| ReplayError::Op(line, e.to_string()))?;
            }
            Op::Delete(k) => {
                m.remove(k)
                    .map_err(|e| ReplayError::Op(line, e.to_string()))?;
            }
            Op::Clear => m.clear(),
            Op::DumpIfGrowing(_) if !m.header().growing() => {}
            Op::Dump(label) | Op::DumpIfGrowing(label) => {
                let snap = m.snapshot();
                let r = SnapshotReader::new(&snap, "the replayed map");
                let d = decode(&r, snap.hmap, snap.layout, opts.limits)
                    .map_err(|e| ReplayError::Decode(line, e))?;
                let dump = trace::dump(&r, &d, kinds, label, line)
                    .map_err(|e| ReplayError::Decode(line, DecodeError::Read(e)))?;
                dumps.push(dump);
                let n = dumps.len();
                if let Some(ro) = &opts.reports {
                    let types = Types {
                        key: ValueType::Go(script.key),
                        elem: ValueType::Go(script.elem),
                        pointer_free: Some(snap.pointer_free),
                    };
                    let source = SourceInfo {
                        kind: "replay".into(),
                        description: format!(
                            "replay of {}: dump {n} at line {line}{}",
                            ro.name,
                            if label.is_empty() {
                                String::new()
                            } else {
                                format!(" ({label})")
                            }
                        ),
                    };
                    let mut rep = report::build(&r, &d, &types, source, &ro.filter)
                        .map_err(|e| ReplayError::Op(line, e))?;
                    rep.layout = Some(LayoutInfo::of(&MapLayout::gomap()));
                    reports.push(rep);
                }
                if let Some(dir) = &opts.save_snapshots {
                    let path = dir.join(format!("dump-{n:03}.snap"));
                    std::fs::write(&path, snap.to_bytes()).map_err(|e| {
                        ReplayError::Io(line, format!("cannot write {}: {e}", path.display()))
                    })?;
                    snapshots.push(path);
                }
            }
        }
    }
    let l = m.layout();
    let pointerfree = m.pointer_free();
    let drawn = rec.drawn.borrow().clone();
    let hash0_used = rec.pos.get();
    drop(m);
    Ok(Outcome {
        trace: Trace {
            schema: SCHEMA.into(),
            key: script.key.go_name().to_string(),
            elem: script.elem.go_name().to_string(),
            keysize: l.key_size,
            elemsize: l.elem_size,
            bucketsize: l.bucketsize,
            indirectkey: l.indirect_key,
            indirectelem: l.indirect_elem,
            pointerfree,
            hashkey: format!("{hashkey:#018x}"),
            hash0: drawn.iter().map(|h| format!("{h:#010x}")).collect(),
            dumps,
        },
        hash0_used,
        hash0_given: recorded.len(),
        reports,
        snapshots,
    })
}

/// The script lines each dump ran since the previous one (from the line after the previous
/// dump to the dump's own line), as (line number, text).
pub fn lines_between(text: &str, dumps: &[trace::Dump]) -> Vec<Vec<(usize, String)>> {
    let all: Vec<&str> = text.lines().collect();
    let mut from = 1;
    dumps
        .iter()
        .map(|d| {
            let to = d.line.min(all.len());
            let v = (from..=to)
                .filter_map(|n| all.get(n - 1).map(|l| (n, l.to_string())))
                .collect();
            from = d.line + 1;
            v
        })
        .collect()
}

/// The text output of a replay: for each dump, the script lines that ran since the previous
/// one, then the dump rendered by `dump`'s text renderer ([`render::render`]).
pub fn render_text(out: &Outcome, text: &str, name: &str, st: Style) -> String {
    let mut s = String::new();
    let n = out.reports.len();
    let _ = writeln!(
        s,
        "{}",
        st.bold(&format!(
            "replay of {name}: {n} dump{}; hashkey {}, hash0 {}",
            if n == 1 { "" } else { "s" },
            out.trace.hashkey,
            if out.trace.hash0.is_empty() {
                "none drawn".to_string()
            } else {
                out.trace.hash0.join(" ")
            }
        ))
    );
    let lines = lines_between(text, &out.trace.dumps);
    for (i, (r, d)) in out.reports.iter().zip(&out.trace.dumps).enumerate() {
        let _ = writeln!(
            s,
            "\n{}",
            st.bold(&format!(
                "== dump {} of {n}, line {}{} ==",
                i + 1,
                d.line,
                if d.label.is_empty() {
                    String::new()
                } else {
                    format!(": {}", d.label)
                }
            ))
        );
        for (ln, l) in lines.get(i).into_iter().flatten() {
            let _ = writeln!(s, "{}", st.dim(&format!("{ln:>5}  {l}")));
        }
        let _ = writeln!(s);
        s.push_str(&render::render(r, st));
    }
    s
}
