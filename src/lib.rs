//! # gomap: Go 1.19's classic map, byte for byte
//!
//! `gomap` reproduces the map of Go's runtime before Swiss tables (`runtime/map.go`, Go 1.19)
//! in memory: the same 48-byte `hmap` header, the same 8-slot buckets (`tophash[8]`, 8 keys,
//! 8 elems, an overflow pointer), the same preallocated overflow buckets, the same growth
//! (load factor 6.5, same-size grows, incremental evacuation of at most two old buckets per
//! write), the same deletes (`emptyOne`/`emptyRest`), randomized iteration, and Go's own hash.
//! For the same hashkey and `hash0` draws, a [`GoMap`] holds exactly the bytes a Go map would
//! (pointers aside), which is checked against the real Go runtime in the test suite.
//!
//! ```text
//!  hmap (48 B)                    bucket for K=u64, V=u64 (144 B)
//! +--------------------+          +----+----+----+----+----+----+----+----+
//! | count      8 B     |          | t0 | t1 | t2 | t3 | t4 | t5 | t6 | t7 |  tophash [8]u8
//! | flags B noverflow  |          +----+----+----+----+----+----+----+----+
//! | hash0      4 B     |          | key0 | key1 | ...              | key7 |  keys  [8]K
//! | buckets  ----------+--> [b0][b1]...[b(2^B-1)][pre0][pre1]..    elems [8]V
//! | oldbuckets         |          | elem0| elem1| ...              | elem7|
//! | nevacuate          |          +---------------------------------------+
//! | extra ---> mapextra|          | overflow *bmap -> next bucket in chain |
//! +--------------------+          +---------------------------------------+
//! ```
//!
//! ## Layers
//! * [`layout`]: the one model of the memory (offsets, sizes, tophash states, flag bits).
//! * [`hash`]: Go's hash functions and the traits that connect keys to them.
//! * `raw` (private): the unsafe runtime, Go's functions under Go's names.
//! * [`GoMap`]: the safe API, with std's and hashbrown's `HashMap` API; [`GoHashMap`] is it
//!   with std's hasher. [`GoSet`] is Go's `map[T]struct{}` with std's `HashSet` API. The
//!   `serde` feature serializes both, and snapshots.
//! * [`batch`]: many keys at once with their memory waits overlapped:
//!   [`GoMap::get_batch`], [`GoMap::contains_batch`], and the pipelined `extend`.
//! * [`view`]: a read-only view of the raw memory.
//! * [`alloc`]: every byte goes through an [`allocator_api2`] allocator; Go's malloc size
//!   classes, and allocators that make that useful: Go's heap sizes ([`alloc::SizeClassAlloc`]),
//!   Go's `MemStats` numbers ([`alloc::CountingAlloc`]), fixed arenas for no-heap `no_std`
//!   ([`alloc::Arena`], [`alloc::StaticArena`]), and the C library (`LibcAlloc`, feature `libc`).
//! * [`dynamic`]: [`dynamic::DynMap`], a Go map whose key and elem types are named at run time
//!   (the same runtime code, driven by a run-time shape).
//! * [`snapshot`]: a map's memory with its addresses, in a versioned file format.
//! * [`rand`]: the map's one source of randomness, replaceable to replay a Go run.
//!
//! ## Go types and Rust types
//! Integer keys, `bool`, `char`, `f32`/`f64`, `[u8; N]` have Go's layout and hash. Go's
//! `string` is a `(ptr, len)` header: `&str` and `Box<str>` keys have that layout; `String`
//! keys work and hash like Go strings but have Rust's 24-byte layout. Any `K: Hash` works
//! through [`hash::HashAdapter`].
//!
//! Go's bucket "has pointers" when the key or elem type contains pointers; then Go clears
//! evacuated old buckets and deleted pointer keys, and otherwise keeps every overflow bucket in
//! `extra.overflow`. gomap takes a key's pointerness from its hasher ([`hash::GoKey`] says
//! which Go types have pointers; with [`hash::HashAdapter`] a key has pointers when it needs
//! drop); a value has pointers when it needs drop, or is stored indirectly.
//!
//! ## `no_std`
//! The crate is `#![no_std]`. The `alloc` feature (on by default, through `std`) provides the
//! global allocator as the default; without it, construct maps with your own allocator
//! (`GoMap::with_hasher_in`). The `std` feature adds OS entropy for the process hashkey.
#![no_std]
#![cfg_attr(docsrs, feature(doc_cfg))]
#![debugger_visualizer(gdb_script_file = "gdb/gomap.py")]

#[cfg(feature = "alloc")]
extern crate alloc as alloc_crate;
#[cfg(feature = "std")]
extern crate std;

pub mod alloc;
pub mod batch;
#[cfg(feature = "alloc")]
pub mod dynamic;
mod entry;
pub mod error;
pub mod hash;
mod iter;
pub mod layout;
mod map;
pub mod rand;
mod raw;
#[cfg(feature = "serde")]
mod serde;
pub mod set;
#[cfg(all(feature = "alloc", target_pointer_width = "64"))]
pub mod snapshot;
#[cfg(feature = "std")]
pub mod sync;
mod sync64;
pub mod view;

pub use entry::{Entry, EntryRef, OccupiedEntry, OccupiedError, VacantEntry, VacantEntryRef};
/// The lookup trait of [`HashAdapter`] maps (re-exported from the [`equivalent`] crate, which
/// hashbrown and indexmap share): any `Q: Hash + Equivalent<K>` finds a key `K`; see
/// [`MapLookup`].
pub use equivalent::Equivalent;
pub use error::{TryInsertError, TryReserveError, TryReserveErrorKind};
pub use hash::{DefaultMapHasher, GoHasher, GoKey, HashAdapter, MapHasher, MapLookup};
pub use iter::{
    Drain, ExtractIf, IntoIter, IntoKeys, IntoValues, Iter, IterMut, Keys, Values, ValuesMut,
};
pub use layout::{BucketLayout, Flags, Hmap, MapExtra, TophashState};
pub use map::GoMap;

/// `GoMap` with std's hasher: a drop-in for `std::collections::HashMap<K, V, S>` (Go's map
/// structure, std's `Hash`/`Eq` keys and `BuildHasher`). std's constructors work on it:
/// `GoHashMap::new()`, `with_capacity`, `with_hasher(S)` (a `const fn`),
/// `with_capacity_and_hasher`, `From<[(K, V); N]>`, `default()`, `collect()`.
///
/// ```
/// use gomap::GoHashMap;
///
/// #[derive(Hash, PartialEq, Eq, Debug)]
/// struct Point(u32, u32);
///
/// let mut m = GoHashMap::new();
/// m.insert(Point(1, 2), "a");
/// assert_eq!(m[&Point(1, 2)], "a");
/// // The memory is still Go's: 8-slot buckets, hmap header.
/// assert_eq!(m.header().count(), 1);
/// ```
#[cfg(feature = "std")]
pub type GoHashMap<K, V, S = std::hash::RandomState> = GoMap<K, V, HashAdapter<S>>;
pub use rand::{FastRand, RandSource, ScriptedRand, SeededRand};
#[cfg(feature = "std")]
pub use set::GoHashSet;
pub use set::GoSet;

/// The README's examples, compiled and run as doctests.
#[cfg(doctest)]
#[doc = include_str!("../README.md")]
mod readme {}
