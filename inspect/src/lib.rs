//! `map-inspect`: look inside Go maps: Go's classic map (Go 1.19–1.25, and gomap's) and Go
//! 1.24–1.27's Swiss tables.
//!
//! The library does the work; the `map-inspect` binary is a thin shell over it.
//! * [`source`]: where memory comes from (a snapshot, a live process), behind one reader
//!   interface that bounds-checks every read.
//! * [`decode`]: walks a classic map's memory from its header (arrays, chains, old buckets,
//!   extra); [`swiss`]: decodes, reports and renders Go 1.24+'s Swiss-table maps.
//! * [`script`], [`replay`], [`trace`]: the replay script language, running it on gomap, and
//!   the symbolic JSON trace that is compared with the Go oracle's.
//! * [`dump`]: the `dump` command: picks a source ([`demo`], a snapshot file, a live
//!   process), decodes the map, builds a [`report`] (the `gomap-dump/1` JSON document) and
//!   [`render`]s it as text; [`values`] decodes keys and elems of known types.
//! * [`check`]: the `check` and `get` commands: a map checked against its runtime's rules,
//!   and a key looked up as the runtime would, with the hash of [`program::hash`] and the
//!   key types of [`program::keys`].

pub mod check;
pub mod decode;
pub mod demo;
pub mod dump;
pub mod html;
pub mod program;
pub mod render;
pub mod replay;
pub mod report;
pub mod script;
pub mod source;
pub mod swiss;
pub mod trace;
pub mod values;
