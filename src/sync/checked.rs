//! [`CheckedMap`]: a Go map shared by `&self` across threads, whose misuse is always detected.

use core::cell::UnsafeCell;
use core::fmt;
use core::panic::Location;

use allocator_api2::alloc::Allocator;

use super::fatal::{Detector, Op, ReadTicket};
use crate::alloc::DefaultAllocator;
use crate::hash::{GoHasher, MapHasher, MapLookup};
use crate::map::GoMap;
use crate::rand::{FastRand, RandSource};

/// A [`GoMap`] that any thread may read and write through `&self`, without a lock, with Go's
/// rule: operations must not overlap. Unlike Go's best-effort check, every overlap is
/// detected; the process then prints Go's message and a diagnostic, and aborts.
///
/// ```
/// use gomap::sync::CheckedMap;
///
/// let m: CheckedMap<u64, &str> = CheckedMap::new();
/// m.insert(1, "one");                       // &self: no `mut`, no lock
/// assert_eq!(m.get(&1), Some("one"));       // reads copy the value out, as Go's `m[k]`
/// std::thread::scope(|s| {
///     // Handing the map to another thread is fine, as long as the operations do not
///     // overlap: here the scope's join orders them.
///     s.spawn(|| m.insert(2, "two"));
/// });
/// assert_eq!(m.len(), 2);
/// let mut all: Vec<(u64, &str)> = m.iter().collect();
/// all.sort();
/// assert_eq!(all, [(1, "one"), (2, "two")]);
/// ```
///
/// # What is detected
/// Two operations *overlap* when one begins before the other has returned (for an iteration:
/// while the [`Iter`] is alive; for [`range`](Self::range), [`read`](Self::read),
/// [`write`](Self::write) and [`retain`](Self::retain): while the closure runs). Reads may
/// overlap reads. Any other overlap — write/write, read/write, iteration/write, on the same
/// thread or on two — ends the process with one of Go's messages:
///
/// | overlap | message |
/// |---|---|
/// | a write begins while a write is inside | `fatal error: concurrent map writes` |
/// | a read begins while a write is inside, or a write while reads are inside | `fatal error: concurrent map read and map write` |
/// | an iteration begins while a write is inside, or a write while an iteration is alive | `fatal error: concurrent map iteration and map write` |
///
/// After Go's line comes what Go cannot tell: both parties (the operation, the thread's name
/// and `ThreadId`, and the caller's source location, through `#[track_caller]`), and the last
/// three transitions of the write flag (which thread set or cleared it, in which operation,
/// and where):
///
/// ```text
/// fatal error: concurrent map writes
///
/// gomap::sync::CheckedMap: two operations overlapped on one map.
///   this operation:  insert on thread 'writer-2' (ThreadId(3)) at src/main.rs:21:17
///   already inside:  insert on thread 'writer-1' (ThreadId(2)) at src/main.rs:15:17  (the write that set the flag in transition #4)
/// last 3 write-flag transitions, oldest first:
///   #2 set     by remove on thread 'main' (ThreadId(1)) at src/main.rs:9:5
///   #3 cleared by remove on thread 'main' (ThreadId(1)) at src/main.rs:9:5
///   #4 set     by insert on thread 'writer-1' (ThreadId(2)) at src/main.rs:15:17
/// ```
///
/// Up to four readers inside at once are named; more are counted.
///
/// # Exit behavior: abort (SIGABRT)
/// Go prints `fatal error: …` and exits with status 2; `recover` cannot catch it. gomap
/// prints the report to stderr and calls [`std::process::abort`]: on Unix the process dies of
/// `SIGABRT` (a shell shows status 134), with no unwinding, no destructors, no panic hook and
/// no `atexit` handlers, so nothing runs on the corrupted assumptions and the other threads
/// stop where they are. A core dump, where enabled, shows every thread's stack, the other
/// party's included. Not `exit(2)`: an exit would run process-wide cleanup while the other
/// threads keep running.
///
/// # Why this is sound
/// The map lives in an [`UnsafeCell`]. Next to it, one atomic word holds a writing bit and a
/// reader count. A write enters with `compare_exchange(0, WRITING)`, which succeeds only if
/// nobody is inside; a read enters with `fetch_add`, and the value returned says whether a
/// write was inside. Both happen *before* the map is touched, and an operation that fails to
/// enter never touches it: it reports and aborts. Every change to the word is a
/// read-modify-write of one atomic, so all of them are totally ordered, and entries acquire
/// and exits release as a lock's do. The accesses that do happen thus follow the
/// reader-writer discipline — one `&mut GoMap` alone, or any number of `&GoMap` — which is
/// exactly what `GoMap`'s `Send` and `Sync` promise to be safe: a data race is impossible,
/// whatever the program does. (Go's flag is a plain byte read and toggled without atomics,
/// so two writes can both see it clear and race.) So the map is `Sync` exactly when a
/// `RwLock<GoMap>` would be: not, for instance, with `Rc` values.
///
/// ```compile_fail
/// use gomap::sync::CheckedMap;
/// use std::rc::Rc;
///
/// let m: CheckedMap<u64, Rc<u64>> = CheckedMap::new();
/// std::thread::scope(|s| {
///     s.spawn(|| m.len()); // error: `Rc<u64>` cannot be shared between threads safely
/// });
/// ```
///
/// That is why values never leave the map by reference: a reference that outlived the
/// operation could be read while a later write moves or drops the value. Reads return clones
/// ([`get`](Self::get)), or lend references to a closure ([`read`](Self::read),
/// [`range`](Self::range)); an iteration yields clones and counts as a reader for as long as
/// the [`Iter`] lives.
///
/// # What it costs, against `&mut GoMap`
/// `&mut` costs nothing at run time: exclusivity is proven at compile time. A `CheckedMap`
/// pays, on every operation: two atomic read-modify-writes of the shared word (a read also
/// claims a slot with a compare-and-swap and three plain stores to record itself; a write
/// makes eight plain stores to the transition log), a thread-local lookup, and a cache line
/// that bounces between cores when several threads use the map, even for reads only. Reads copy values
/// out (`V: Clone`). Measured in `BENCHMARKS.md`, section "Concurrency". And a `CheckedMap`
/// does not make sharing correct: it turns an unsynchronized overlap into a clean, explained
/// abort. Correct concurrent code still synchronizes (a lock, a channel, `join`); the
/// detector never reports an overlap that did not happen.
///
/// # Differences from Go
/// * A goroutine may write to a map while it ranges over it (Go's iterator tolerates it). Here
///   a write while an [`Iter`] is alive, or inside the closure of [`range`](Self::range), is
///   an overlap, even on the same thread: the iteration walks bucket memory that the write
///   may move or free.
/// * Go's check is best-effort and only the party that notices reports; here the first
///   operation that fails to enter reports, always.
/// * A leaked [`Iter`] (`mem::forget`) counts as a reader forever: every later write aborts
///   (reporting the iteration). [`map_mut`](Self::map_mut) and
///   [`into_inner`](Self::into_inner) reset the detector.
pub struct CheckedMap<K, V, H = GoHasher, A: Allocator = DefaultAllocator, R: RandSource = FastRand>
{
    detector: Detector,
    map: UnsafeCell<GoMap<K, V, H, A, R>>,
}

// SAFETY: every access to `map` through `&CheckedMap` happens inside a guard of `detector`,
// which admits either one writer (handed `&mut GoMap`) or any number of readers (handed
// `&GoMap`), never both, and orders successive entries as a lock does (see the type's docs
// and `fatal.rs`). Shared `&GoMap` across threads requires `GoMap: Sync`; `&mut GoMap` handed
// to one thread after another (moving keys and values in and out of it) requires
// `GoMap: Send`, as for `Mutex<GoMap>` and `RwLock<GoMap>`. The detector's own state is
// atomics.
unsafe impl<K, V, H, A: Allocator, R: RandSource> Sync for CheckedMap<K, V, H, A, R> where
    GoMap<K, V, H, A, R>: Send + Sync
{
}

/// A write inside the map: holds `WRITING` until dropped (also on unwind).
struct WriteGuard<'a> {
    detector: &'a Detector,
    who: usize,
    loc: &'static Location<'static>,
}

impl<'a> WriteGuard<'a> {
    #[inline]
    fn enter(detector: &'a Detector, op: Op, loc: &'static Location<'static>) -> Self {
        WriteGuard {
            who: detector.begin_write(op, loc),
            detector,
            loc,
        }
    }
}

impl Drop for WriteGuard<'_> {
    #[inline]
    fn drop(&mut self) {
        self.detector.end_write(self.who, self.loc);
    }
}

/// A reader inside the map: counted (and recorded) until dropped (also on unwind).
struct ReadGuard<'a> {
    detector: &'a Detector,
    ticket: ReadTicket,
}

impl<'a> ReadGuard<'a> {
    #[inline]
    fn enter(detector: &'a Detector, op: Op, loc: &'static Location<'static>) -> Self {
        ReadGuard {
            ticket: detector.begin_read(op, loc),
            detector,
        }
    }
}

impl Drop for ReadGuard<'_> {
    #[inline]
    fn drop(&mut self) {
        self.detector.end_read(&self.ticket);
    }
}

#[cfg(feature = "alloc")]
impl<K, V> CheckedMap<K, V> {
    /// An empty map (Go's `make(map[K]V)`).
    pub fn new() -> Self {
        Self::from_map(GoMap::new())
    }

    /// A map sized for `hint` entries (Go's `make(map[K]V, hint)`).
    pub fn with_capacity(hint: usize) -> Self {
        Self::from_map(GoMap::with_capacity(hint))
    }
}

impl<K, V, H, A: Allocator, R: RandSource> CheckedMap<K, V, H, A, R> {
    /// Wraps a map.
    pub const fn from_map(map: GoMap<K, V, H, A, R>) -> Self {
        CheckedMap {
            detector: Detector::new(),
            map: UnsafeCell::new(map),
        }
    }

    /// Unwraps the map. Taking `self` proves that nothing is inside.
    pub fn into_inner(self) -> GoMap<K, V, H, A, R> {
        self.map.into_inner()
    }

    /// The map itself, for any use of [`GoMap`]'s API (entries, `iter_mut`, `raw`, …).
    /// `&mut self` proves that nothing is inside, so there is no check; the detector is
    /// reset (a leaked [`Iter`] no longer counts).
    pub fn map_mut(&mut self) -> &mut GoMap<K, V, H, A, R> {
        self.detector = Detector::new();
        self.map.get_mut()
    }

    /// A write section: runs `f` with the map exclusively, as one write operation. Any other
    /// operation on this map while `f` runs is an overlap (see the type's docs).
    #[track_caller]
    pub fn write<T>(&self, f: impl FnOnce(&mut GoMap<K, V, H, A, R>) -> T) -> T {
        self.write_as(Op::Write, Location::caller(), f)
    }

    /// A read section: runs `f` with shared access to the map, as one read operation. Other
    /// reads may run at the same time; a write while `f` runs is an overlap.
    #[track_caller]
    pub fn read<T>(&self, f: impl FnOnce(&GoMap<K, V, H, A, R>) -> T) -> T {
        self.read_as(Op::Read, Location::caller(), f)
    }

    /// The number of entries (a read).
    #[track_caller]
    pub fn len(&self) -> usize {
        self.read_as(Op::Len, Location::caller(), |m| m.len())
    }

    /// Whether the map is empty (a read).
    #[track_caller]
    pub fn is_empty(&self) -> bool {
        self.read_as(Op::IsEmpty, Location::caller(), |m| m.is_empty())
    }

    /// Removes every entry, as Go 1.19's `mapclear` (a write).
    #[track_caller]
    pub fn clear(&self) {
        self.write_as(Op::Clear, Location::caller(), |m| m.clear())
    }

    /// Looks up `k` and returns a clone of the value (a read), as Go's `v, ok := m[k]` copies.
    #[track_caller]
    pub fn get<Q>(&self, k: &Q) -> Option<V>
    where
        V: Clone,
        Q: ?Sized,
        H: MapLookup<K, Q>,
    {
        self.read_as(Op::Get, Location::caller(), |m| m.get(k).cloned())
    }

    /// Looks up `k` and returns clones of the stored key and the value (a read).
    #[track_caller]
    pub fn get_key_value<Q>(&self, k: &Q) -> Option<(K, V)>
    where
        K: Clone,
        V: Clone,
        Q: ?Sized,
        H: MapLookup<K, Q>,
    {
        self.read_as(Op::GetKeyValue, Location::caller(), |m| {
            m.get_key_value(k).map(|(k, v)| (k.clone(), v.clone()))
        })
    }

    /// Whether the map holds `k` (a read).
    #[track_caller]
    pub fn contains_key<Q>(&self, k: &Q) -> bool
    where
        Q: ?Sized,
        H: MapLookup<K, Q>,
    {
        self.read_as(Op::ContainsKey, Location::caller(), |m| m.contains_key(k))
    }

    #[inline]
    fn write_as<T>(
        &self,
        op: Op,
        loc: &'static Location<'static>,
        f: impl FnOnce(&mut GoMap<K, V, H, A, R>) -> T,
    ) -> T {
        let _inside = WriteGuard::enter(&self.detector, op, loc);
        // SAFETY: `_inside` holds WRITING until the end of this function: no other operation
        // is inside the map meanwhile (an overlapping one aborts before touching it), so this
        // is the only reference to the map. `f` cannot keep it: `T` does not borrow from it.
        let map = unsafe { &mut *self.map.get() };
        f(map)
    }

    #[inline]
    fn read_as<T>(
        &self,
        op: Op,
        loc: &'static Location<'static>,
        f: impl FnOnce(&GoMap<K, V, H, A, R>) -> T,
    ) -> T {
        let _inside = ReadGuard::enter(&self.detector, op, loc);
        // SAFETY: `_inside` counts this reader until the end of this function: no write is
        // inside the map meanwhile (a write that begins aborts before touching it), so shared
        // references are all there are. `f` cannot keep one: `T` does not borrow from it.
        let map = unsafe { &*self.map.get() };
        f(map)
    }
}

impl<K: PartialEq, V, H: MapHasher<K>, A: Allocator, R: RandSource> CheckedMap<K, V, H, A, R> {
    /// Inserts `k → v` (Go's `m[k] = v`, a write) and returns the previous value.
    #[track_caller]
    pub fn insert(&self, k: K, v: V) -> Option<V> {
        self.write_as(Op::Insert, Location::caller(), |m| m.insert(k, v))
    }

    /// Removes `k` (Go's `delete(m, k)`, a write) and returns its value.
    #[track_caller]
    pub fn remove<Q>(&self, k: &Q) -> Option<V>
    where
        Q: ?Sized,
        H: MapLookup<K, Q>,
    {
        self.write_as(Op::Remove, Location::caller(), |m| m.remove(k))
    }

    /// Removes `k` (a write) and returns the stored key and the value.
    #[track_caller]
    pub fn remove_entry<Q>(&self, k: &Q) -> Option<(K, V)>
    where
        Q: ?Sized,
        H: MapLookup<K, Q>,
    {
        self.write_as(Op::RemoveEntry, Location::caller(), |m| m.remove_entry(k))
    }

    /// Keeps the entries for which `f` returns true (one write, for the whole walk).
    #[track_caller]
    pub fn retain(&self, f: impl FnMut(&K, &mut V) -> bool) {
        self.write_as(Op::Retain, Location::caller(), |m| m.retain(f))
    }

    /// Go's `for k, v := range m { if !f(k, v) { break } }`: calls `f` on each entry, in Go's
    /// randomized order, until it returns false. One iteration: a write from inside `f`, or
    /// from another thread while `f` runs, is an overlap.
    #[track_caller]
    pub fn range(&self, mut f: impl FnMut(&K, &V) -> bool) {
        self.read_as(Op::Range, Location::caller(), |m| {
            for (k, v) in m.iter() {
                if !f(k, v) {
                    break;
                }
            }
        })
    }

    /// An iteration yielding clones of the entries, in Go's randomized order. It counts as a
    /// reader until it is dropped: a write meanwhile is an overlap.
    #[track_caller]
    pub fn iter(&self) -> Iter<'_, K, V, H, A, R> {
        let inside = ReadGuard::enter(&self.detector, Op::Iter, Location::caller());
        // SAFETY: `inside` moves into the `Iter` and is dropped after `inner` (field order):
        // while any reference derived here exists, this reader is counted, so no write is
        // inside the map. The iterator's items are clones: no reference leaves it.
        let map = unsafe { &*self.map.get() };
        Iter {
            inner: map.iter(),
            _inside: inside,
        }
    }
}

/// An iteration of a [`CheckedMap`] ([`CheckedMap::iter`]): yields clones of the entries and
/// counts as a reader of the map until dropped.
pub struct Iter<'a, K, V, H, A: Allocator, R: RandSource> {
    // Dropped before `_inside`: no reference into the map outlives the reader's count.
    inner: crate::Iter<'a, K, V, H, A, R>,
    _inside: ReadGuard<'a>,
}

impl<K, V, H, A, R> Iterator for Iter<'_, K, V, H, A, R>
where
    K: PartialEq + Clone,
    V: Clone,
    H: MapHasher<K>,
    A: Allocator,
    R: RandSource,
{
    type Item = (K, V);

    #[inline]
    fn next(&mut self) -> Option<(K, V)> {
        self.inner.next().map(|(k, v)| (k.clone(), v.clone()))
    }

    fn size_hint(&self) -> (usize, Option<usize>) {
        self.inner.size_hint()
    }
}

impl<K, V, H, A, R> ExactSizeIterator for Iter<'_, K, V, H, A, R>
where
    K: PartialEq + Clone,
    V: Clone,
    H: MapHasher<K>,
    A: Allocator,
    R: RandSource,
{
}

impl<K, V, H, A: Allocator, R: RandSource> fmt::Debug for Iter<'_, K, V, H, A, R> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Iter").finish_non_exhaustive()
    }
}

impl<K, V, H, A: Allocator, R: RandSource> From<GoMap<K, V, H, A, R>>
    for CheckedMap<K, V, H, A, R>
{
    fn from(map: GoMap<K, V, H, A, R>) -> Self {
        Self::from_map(map)
    }
}

impl<K, V, H, A: Allocator, R: RandSource> Default for CheckedMap<K, V, H, A, R>
where
    GoMap<K, V, H, A, R>: Default,
{
    fn default() -> Self {
        Self::from_map(GoMap::default())
    }
}

/// Prints the entries (a read, recorded as `fmt::Debug`).
impl<K, V, H, A, R> fmt::Debug for CheckedMap<K, V, H, A, R>
where
    K: PartialEq + fmt::Debug,
    V: fmt::Debug,
    H: MapHasher<K>,
    A: Allocator,
    R: RandSource,
{
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        self.read_as(Op::Debug, Location::caller(), |m| {
            f.debug_map().entries(m.iter()).finish()
        })
    }
}
