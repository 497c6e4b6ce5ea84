//! Sharing a Go map between threads: Go's misuse detector made reliable ([`CheckedMap`]), and
//! Go's `sync.Map` ([`SyncMap`]).
//!
//! In Go every map write sets the `hashWriting` flag in the header and every access checks it;
//! an overlap of two writes, or of a write with a read or an iteration, ends the program with
//! `fatal error: concurrent map writes` (or `... read and map write`, `... iteration and map
//! write`), exit status 2. Go's check is best-effort: the flag is read and toggled with plain
//! loads and stores, so a race can go unnoticed (and corrupt the map), and the message never
//! says who the other party was.
//!
//! In safe Rust a [`GoMap`](crate::GoMap) needs none of this: `&mut self` on every write rules
//! races out at compile time, at no cost. This module is for code that wants Go's sharing
//! model — a port of a Go program, a language runtime hosting Go-like maps, a test harness —
//! or Go's own defenses:
//!
//! * [`CheckedMap`]: a `Sync` map whose `insert`, `remove`, `get` and iteration take `&self`
//!   from any thread, without a lock. An atomic flag word (a writing bit and a reader count)
//!   is checked and set *before* the map is touched, so every overlap is detected, always,
//!   and the process aborts before a data race can happen. The report names both parties
//!   (thread, operation, source location) and the last three transitions of the write flag.
//! * [`SyncMap`]: Go's `sync.Map` (Go 1.19's algorithm, plus Go 1.20's `Swap`,
//!   `CompareAndSwap` and `CompareAndDelete`): a read-only map read without locks through an
//!   atomic pointer, a dirty map under a mutex, a misses counter that promotes the dirty map,
//!   and expunged entries.
//! * The blog's third defense, a map behind a lock, needs nothing new:
//!   `std::sync::RwLock<GoMap<K, V>>` or `std::sync::Mutex<GoMap<K, V>>`.
//!
//! Which to use (figures: `BENCHMARKS.md`, section "Concurrency"): `&mut GoMap` when the
//! borrow checker can prove exclusivity; a `Mutex`/`RwLock` when threads really share a map
//! that they write; `SyncMap` for Go's two sweet spots (keys written once and read many times,
//! or threads working on disjoint keys); `CheckedMap` when ownership moves between threads in
//! a way the borrow checker cannot see and a bug must be caught, not waited out.

mod checked;
mod fatal;
mod sync_map;

pub use checked::{CheckedMap, Iter};
pub use sync_map::{SyncMap, SyncMapIter, SyncMapState, Value};
