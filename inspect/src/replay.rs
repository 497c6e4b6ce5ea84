//! `map-inspect replay`: runs an operation script on gomap (a [`DynMap`] with the script's
//! types) and records the map's memory at every `dump`, in the same JSON the Go oracle
//! (`tests/go-oracle`) writes for a real Go map.

use std::cell::{Cell, RefCell};
use std::fmt;

use gomap::alloc::Global;
use gomap::dynamic::DynMap;
use gomap::hash::process_hashkey;
use gomap::rand::{FastRand, RandSource};

use crate::decode::{decode, DecodeError, Limits};
use crate::script::{Op, Script};
use crate::source::SnapshotReader;
use crate::trace::{self, SlotKind, Trace, SCHEMA};

/// Where the replay's randomness comes from.
#[derive(Clone, Debug, Default)]
pub struct Options {
    /// The hashkey (else the script's `hashkey`, else random).
    pub hashkey: Option<u64>,
    /// The hash0 draws (else the script's `hash0`, else random).
    pub hash0: Option<Vec<u32>>,
    /// Limits of the decoder.
    pub limits: Limits,
}

/// Why a replay failed.
#[derive(Debug)]
pub enum ReplayError {
    /// An operation was rejected (line, message).
    Op(usize, String),
    /// Decoding the map's own memory failed (a bug).
    Decode(usize, DecodeError),
}

impl fmt::Display for ReplayError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            ReplayError::Op(line, m) => write!(f, "line {line}: {m}"),
            ReplayError::Decode(line, e) => write!(f, "line {line}: dump failed: {e}"),
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
    })
}
