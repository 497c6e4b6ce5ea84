//! [`SyncMap`]: Go's `sync.Map`.

use core::fmt;
use core::ops::Deref;
use core::ptr;
use std::sync::{Arc, Mutex, MutexGuard, PoisonError};

use arc_swap::{ArcSwap, ArcSwapOption, Guard};

use crate::hash::{GoHasher, MapHasher, MapLookup};
use crate::map::GoMap;

/// Go's `sync.Map` (the algorithm of Go 1.19's `sync/map.go`, with Go 1.20's `Swap`,
/// `CompareAndSwap` and `CompareAndDelete`), on [`GoMap`]s.
///
/// ```
/// use gomap::sync::SyncMap;
///
/// let m: SyncMap<u64, String> = SyncMap::new();
/// std::thread::scope(|s| {
///     for t in 0..4u64 {
///         let m = &m;
///         s.spawn(move || m.store(t, format!("worker {t}")));
///     }
/// });
/// assert_eq!(m.load(&2).as_deref().map(String::as_str), Some("worker 2"));
/// let (v, loaded) = m.load_or_store(2, "other".to_string());
/// assert!(loaded);
/// assert_eq!(*v, "worker 2");
/// assert!(m.compare_and_swap(&2, &"worker 2".to_string(), "swapped".to_string()));
/// assert_eq!(m.load_and_delete(&2).as_deref().map(String::as_str), Some("swapped"));
/// let mut n = 0;
/// m.range(|_, _| {
///     n += 1;
///     true
/// });
/// assert_eq!(n, 3);
/// ```
///
/// # Design (Go's)
/// * **read**: an immutable map from keys to entries, behind an atomic pointer, with an
///   `amended` flag (the dirty map holds keys that read lacks). Loads, and stores to keys
///   already present, go through it without a lock.
/// * **dirty**: a map under a mutex holding every live key (those of read that are not
///   expunged, and the new ones), or nothing after a promotion.
/// * **entry**: shared by both maps; an atomic pointer to the value, or *nil* (deleted), or
///   *expunged* (deleted, and absent from dirty). A store to an expunged entry must take the
///   lock and add the key back to dirty.
/// * **misses**: each lookup that had to take the lock and search dirty counts a miss; when
///   misses reach the size of dirty, dirty is **promoted**: it becomes the new read map
///   (`amended = false`), and dirty is dropped. The next store of a new key rebuilds dirty by
///   copying read, expunging its deleted entries.
/// * [`range`](Self::range) promotes dirty first, then walks read without the lock.
///
/// [`state`](Self::state) shows these parts (sizes, `amended`, `misses`, deleted and expunged
/// entries).
///
/// # Memory reclamation: arc-swap
/// Go's garbage collector keeps a read map alive while a goroutine still reads it, and a
/// value while some goroutine holds the pointer it loaded. Here the read map (`ArcSwap`) and
/// each entry's value pointer (`ArcSwapOption`) are [`arc_swap`] cells, which answer exactly
/// that question for `Arc`s: a load protects the pointer it read (with a per-thread "debt"
/// slot, no shared reference-count increment on the fast path), and a swap waits until no
/// load of the old pointer is pending before releasing its reference. (A [`Value`] handed
/// out is an `Arc` of its own: one reference-count increment per value returned.) arc-swap is widely used
/// and tested (including under Miri by its authors), and is the minimal fit: a
/// reference-counted atomic pointer with compare-and-swap, which is what Go's
/// `atomic.Pointer` plus the garbage collector provide. An epoch scheme (crossbeam-epoch)
/// would need a pin around every access and a deferred destructor for every replaced value,
/// which is more machinery for the same guarantee; a hand-written scheme would be a new
/// unsafe algorithm to prove. With arc-swap this module contains no `unsafe` code. (gomap
/// requires arc-swap 1.9.5 or later: 1.9.5 fixed a `load` that could return a value stored
/// into a different cell once a freed address was reused, a pattern that thousands of entry
/// cells make likely.)
///
/// # Values
/// A value is stored once, in an `Arc`, and handed out as a [`Value`] (a cheap clone of that
/// `Arc`, which dereferences to `V`), as Go hands out the interface value. Keys are cloned
/// when dirty is rebuilt from read (`K: Clone`), as Go copies them.
///
/// # When to use it
/// As Go's documentation says: when an entry is written once and read many times (caches that
/// only grow), or when goroutines read, write and overwrite disjoint sets of keys. Otherwise a
/// `RwLock<GoMap>` or `Mutex<GoMap>` is simpler and often faster; see `BENCHMARKS.md`,
/// section "Concurrency".
///
/// # Panics in `Hash`/`PartialEq`
/// If a key's hash or equality panics, the panic propagates (the dirty map's mutex is not
/// poisoned for later callers). The map stays memory-safe, but may have lost entries, as a
/// `std::collections::HashMap` whose `Hash` misbehaves. Go's hash functions never panic.
pub struct SyncMap<K, V, H = GoHasher> {
    /// Go's `read atomic.Value // readOnly`.
    read: ArcSwap<ReadOnly<K, V, H>>,
    /// Go's `mu` with what it guards: `dirty` and `misses`.
    mu: Mutex<Dirty<K, V, H>>,
    /// The map's expunged marker: every expunged entry points to it.
    expunged: Arc<Slot<V>>,
    /// The hasher of every map this `SyncMap` builds (each draws its own `hash0`).
    hasher: H,
}

/// The entries of one map: key → shared entry.
type Entries<K, V, H> = GoMap<K, Arc<Entry<V>>, H>;

/// Go's `readOnly`: an immutable map and whether dirty holds keys it lacks.
struct ReadOnly<K, V, H> {
    m: Arc<Entries<K, V, H>>,
    amended: bool,
}

/// What the mutex guards.
struct Dirty<K, V, H> {
    /// Go's `dirty` (None is Go's nil map).
    m: Option<Entries<K, V, H>>,
    misses: usize,
}

/// What an entry points to: a value, or the map's expunged marker. (Nil is a null pointer.)
enum Slot<V> {
    Value(V),
    Expunged,
}

/// Go's `entry`: `p` is a value, nil (`None`: deleted), or the expunged marker.
struct Entry<V> {
    p: ArcSwapOption<Slot<V>>,
}

/// A loaded value: a shared handle to a value stored in a [`SyncMap`]. Dereferences to `V`;
/// cloning it is cheap. It stays valid after the key is overwritten or deleted (it is then
/// the old value).
pub struct Value<V>(Arc<Slot<V>>);

impl<V> Deref for Value<V> {
    type Target = V;
    fn deref(&self) -> &V {
        match &*self.0 {
            Slot::Value(v) => v,
            // `Value` is built only from `Slot::Value` (see `Value::of`).
            Slot::Expunged => unreachable!("a Value never holds the expunged marker"),
        }
    }
}

impl<V> Value<V> {
    /// The value behind a pointer loaded from an entry, if it is one (not nil or expunged).
    fn of(p: &Option<Arc<Slot<V>>>) -> Option<Value<V>> {
        match p {
            Some(s) if matches!(**s, Slot::Value(_)) => Some(Value(Arc::clone(s))),
            _ => None,
        }
    }
}

impl<V> Clone for Value<V> {
    fn clone(&self) -> Self {
        Value(Arc::clone(&self.0))
    }
}

impl<V: fmt::Debug> fmt::Debug for Value<V> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        (**self).fmt(f)
    }
}

impl<V: PartialEq> PartialEq for Value<V> {
    fn eq(&self, other: &Self) -> bool {
        **self == **other
    }
}

impl<V: PartialEq> PartialEq<V> for Value<V> {
    fn eq(&self, other: &V) -> bool {
        **self == *other
    }
}

impl<V: Eq> Eq for Value<V> {}

/// The address a loaded pointer holds (null for nil), for compare-and-swap results.
fn addr<V>(p: &Option<Arc<Slot<V>>>) -> *const Slot<V> {
    p.as_ref().map_or(ptr::null(), Arc::as_ptr)
}

fn is_expunged<V>(p: &Option<Arc<Slot<V>>>) -> bool {
    matches!(p.as_deref(), Some(Slot::Expunged))
}

impl<V> Entry<V> {
    fn new(v: Arc<Slot<V>>) -> Arc<Self> {
        Arc::new(Entry {
            p: ArcSwapOption::new(Some(v)),
        })
    }

    /// Go's `load`.
    fn load(&self) -> Option<Value<V>> {
        Value::of(&self.p.load())
    }

    /// Replaces `cur` by `new` if `p` still holds `cur`.
    fn cas(&self, cur: &Guard<Option<Arc<Slot<V>>>>, new: Option<Arc<Slot<V>>>) -> bool {
        let prev = self.p.compare_and_swap(cur, new);
        addr(&prev) == addr(cur)
    }

    /// Go's `tryStore`: stores unless the entry is expunged.
    fn try_store(&self, v: &Arc<Slot<V>>) -> bool {
        loop {
            let cur = self.p.load();
            if is_expunged(&cur) {
                return false;
            }
            if self.cas(&cur, Some(Arc::clone(v))) {
                return true;
            }
        }
    }

    /// Go's `unexpungeLocked`: expunged → nil; true if it was expunged (the caller, holding
    /// the lock, must then add the entry to dirty).
    fn unexpunge_locked(&self, expunged: &Arc<Slot<V>>) -> bool {
        let prev = self.p.compare_and_swap(Arc::as_ptr(expunged), None);
        addr(&prev) == Arc::as_ptr(expunged)
    }

    /// Go's `tryExpungeLocked`: nil → expunged; true if the entry is (now) expunged.
    fn try_expunge_locked(&self, expunged: &Arc<Slot<V>>) -> bool {
        let mut cur = self.p.load();
        while cur.is_none() {
            if self.cas(&cur, Some(Arc::clone(expunged))) {
                return true;
            }
            cur = self.p.load();
        }
        is_expunged(&cur)
    }

    /// Go's `swapLocked`: stores unconditionally (the entry is known not to be expunged)
    /// and returns the previous value.
    fn swap_locked(&self, v: Arc<Slot<V>>) -> Option<Value<V>> {
        Value::of(&self.p.swap(Some(v)))
    }

    /// Go 1.20's `trySwap`: swaps unless expunged; `Err` if expunged.
    fn try_swap(&self, v: &Arc<Slot<V>>) -> Result<Option<Value<V>>, ()> {
        loop {
            let cur = self.p.load();
            if is_expunged(&cur) {
                return Err(());
            }
            if self.cas(&cur, Some(Arc::clone(v))) {
                return Ok(Value::of(&cur));
            }
        }
    }

    /// Go's `tryLoadOrStore`: the current value (loaded = true), or stores `v` if the entry
    /// is nil (loaded = false); `None` if expunged.
    fn try_load_or_store(&self, v: &Arc<Slot<V>>) -> Option<(Value<V>, bool)> {
        loop {
            let cur = self.p.load();
            if is_expunged(&cur) {
                return None;
            }
            if let Some(value) = Value::of(&cur) {
                return Some((value, true));
            }
            if self.cas(&cur, Some(Arc::clone(v))) {
                return Some((Value(Arc::clone(v)), false));
            }
        }
    }

    /// Go's `delete`: value → nil; returns the value.
    fn delete(&self) -> Option<Value<V>> {
        loop {
            let cur = self.p.load();
            let value = Value::of(&cur)?;
            if self.cas(&cur, None) {
                return Some(value);
            }
        }
    }

    /// Go 1.20's `tryCompareAndSwap`: stores `new` if the value equals `old`.
    fn try_compare_and_swap(&self, old: &V, new: &Arc<Slot<V>>) -> bool
    where
        V: PartialEq,
    {
        loop {
            let cur = self.p.load();
            match Value::of(&cur) {
                Some(v) if *v == *old => {}
                _ => return false,
            }
            if self.cas(&cur, Some(Arc::clone(new))) {
                return true;
            }
        }
    }

    /// Go 1.20's `CompareAndDelete` loop: value → nil if it equals `old`.
    fn compare_and_delete(&self, old: &V) -> bool
    where
        V: PartialEq,
    {
        loop {
            let cur = self.p.load();
            match Value::of(&cur) {
                Some(v) if *v == *old => {}
                _ => return false,
            }
            if self.cas(&cur, None) {
                return true;
            }
        }
    }
}

/// A snapshot of a [`SyncMap`]'s parts ([`SyncMap::state`]), to watch Go's algorithm work.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct SyncMapState {
    /// Keys in the read map (live, deleted and expunged entries alike).
    pub read_len: usize,
    /// Entries of the read map that are deleted (nil).
    pub read_deleted: usize,
    /// Entries of the read map that are expunged.
    pub read_expunged: usize,
    /// Whether the dirty map holds keys that the read map lacks.
    pub amended: bool,
    /// Keys in the dirty map, or `None` when there is none (after a promotion).
    pub dirty_len: Option<usize>,
    /// Lookups that had to search the dirty map since the last promotion.
    pub misses: usize,
}

#[cfg(feature = "alloc")]
impl<K, V> SyncMap<K, V> {
    /// An empty map, with Go's hash.
    pub fn new() -> Self {
        Self::with_hasher(GoHasher::new())
    }
}

#[cfg(feature = "alloc")]
impl<K, V> Default for SyncMap<K, V> {
    fn default() -> Self {
        Self::new()
    }
}

#[cfg(feature = "alloc")]
impl<K: PartialEq, V> SyncMap<K, V>
where
    GoHasher: MapHasher<K>,
{
    /// An empty map with room for `capacity` keys in its dirty map, where new keys go (and
    /// so in the read map after the dirty map is promoted). Go's `sync.Map` has no such
    /// constructor; dashmap's `with_capacity` is the model.
    pub fn with_capacity(capacity: usize) -> Self {
        Self::with_capacity_and_hasher(capacity, GoHasher::new())
    }
}

impl<K: PartialEq, V, H: MapHasher<K> + Clone> SyncMap<K, V, H> {
    /// An empty map whose maps use `hasher`, with room for `capacity` keys in its dirty map.
    pub fn with_capacity_and_hasher(capacity: usize, hasher: H) -> Self {
        let m = Self::with_hasher(hasher);
        if capacity > 0 {
            let dirty = GoMap::with_capacity_and_map_hasher(capacity, m.hasher.clone());
            m.lock_raw().m = Some(dirty);
        }
        m
    }
}

impl<K, V, H> SyncMap<K, V, H> {
    fn lock_raw(&self) -> MutexGuard<'_, Dirty<K, V, H>> {
        self.mu.lock().unwrap_or_else(PoisonError::into_inner)
    }
}

impl<K, V, H: Clone> SyncMap<K, V, H> {
    /// An empty map whose maps use `hasher`.
    pub fn with_hasher(hasher: H) -> Self {
        SyncMap {
            read: ArcSwap::from_pointee(ReadOnly {
                m: Arc::new(GoMap::with_map_hasher(hasher.clone())),
                amended: false,
            }),
            mu: Mutex::new(Dirty { m: None, misses: 0 }),
            expunged: Arc::new(Slot::Expunged),
            hasher,
        }
    }
}

impl<K, V, H> SyncMap<K, V, H>
where
    K: PartialEq + Clone,
    H: MapHasher<K> + MapLookup<K, K> + Clone,
{
    fn lock(&self) -> MutexGuard<'_, Dirty<K, V, H>> {
        // A panic in a key's Hash/PartialEq while the lock was held leaves the maps
        // memory-safe (see the type's docs); carry on.
        self.mu.lock().unwrap_or_else(PoisonError::into_inner)
    }

    /// Go's `missLocked`: counts a miss, and promotes dirty once misses reach its size.
    fn miss_locked(&self, d: &mut Dirty<K, V, H>) {
        d.misses += 1;
        if d.misses < d.m.as_ref().map_or(0, GoMap::len) {
            return;
        }
        if let Some(m) = d.m.take() {
            self.read.store(Arc::new(ReadOnly {
                m: Arc::new(m),
                amended: false,
            }));
        }
        d.misses = 0;
    }

    /// Go's `dirtyLocked`: if there is no dirty map, builds one from read, expunging the
    /// deleted entries (which stay only in read).
    fn dirty_locked(&self, d: &mut Dirty<K, V, H>) {
        if d.m.is_some() {
            return;
        }
        let read = self.read.load();
        let mut m = GoMap::with_capacity_and_map_hasher(read.m.len(), self.hasher.clone());
        for (k, e) in read.m.iter() {
            if !e.try_expunge_locked(&self.expunged) {
                m.insert(k.clone(), Arc::clone(e));
            }
        }
        d.m = Some(m);
    }

    /// Publishes `read` with `amended = true` (after dirty gained a key read lacks).
    fn amend(&self, read: &ReadOnly<K, V, H>) {
        self.read.store(Arc::new(ReadOnly {
            m: Arc::clone(&read.m),
            amended: true,
        }));
    }

    /// Adds `k → e` to dirty, which exists whenever read has expunged entries or is amended.
    fn dirty_insert(&self, d: &mut Dirty<K, V, H>, k: K, e: Arc<Entry<V>>) {
        self.dirty_locked(d);
        if let Some(m) = d.m.as_mut() {
            m.insert(k, e);
        }
    }

    /// Go's `Load`: the value stored for `k`.
    pub fn load<Q>(&self, k: &Q) -> Option<Value<V>>
    where
        Q: ?Sized,
        H: MapLookup<K, Q>,
    {
        let read = self.read.load();
        if let Some(e) = read.m.get(k) {
            return e.load();
        }
        if !read.amended {
            return None;
        }
        drop(read);
        let e = {
            let mut d = self.lock();
            // Re-check: dirty may have been promoted while we waited for the lock.
            let read = self.read.load();
            match read.m.get(k) {
                Some(e) => Some(Arc::clone(e)),
                None if read.amended => {
                    let e = d.m.as_ref().and_then(|m| m.get(k)).cloned();
                    // Found or not, this lookup needed the lock.
                    self.miss_locked(&mut d);
                    e
                }
                None => None,
            }
        };
        e?.load()
    }

    /// Go's `Store`: sets the value for `k`.
    pub fn store(&self, k: K, v: V) {
        let v = Arc::new(Slot::Value(v));
        let read = self.read.load();
        if let Some(e) = read.m.get(&k) {
            if e.try_store(&v) {
                return;
            }
        }
        drop(read);
        let mut d = self.lock();
        let read = self.read.load_full();
        if let Some(e) = read.m.get(&k) {
            if e.unexpunge_locked(&self.expunged) {
                // The entry was expunged: dirty exists and lacks it.
                self.dirty_insert(&mut d, k, Arc::clone(e));
            }
            e.swap_locked(v);
        } else if let Some(e) = d.m.as_ref().and_then(|m| m.get(&k)) {
            e.swap_locked(v);
        } else {
            if !read.amended {
                // The first new key since the last promotion.
                self.dirty_locked(&mut d);
                self.amend(&read);
            }
            self.dirty_insert(&mut d, k, Entry::new(v));
        }
    }

    /// Go's `LoadOrStore`: the existing value for `k` (and `true`), or stores `v` and returns
    /// it (and `false`).
    pub fn load_or_store(&self, k: K, v: V) -> (Value<V>, bool) {
        let v = Arc::new(Slot::Value(v));
        let read = self.read.load();
        if let Some(e) = read.m.get(&k) {
            if let Some(r) = e.try_load_or_store(&v) {
                return r;
            }
        }
        drop(read);
        let mut d = self.lock();
        let read = self.read.load_full();
        if let Some(e) = read.m.get(&k) {
            if e.unexpunge_locked(&self.expunged) {
                self.dirty_insert(&mut d, k, Arc::clone(e));
            }
            // Not expunged any more, and we hold the lock: cannot fail.
            e.try_load_or_store(&v)
                .unwrap_or_else(|| (Value(Arc::clone(&v)), false))
        } else if let Some(e) = d.m.as_ref().and_then(|m| m.get(&k)).cloned() {
            let r = e
                .try_load_or_store(&v)
                .unwrap_or_else(|| (Value(Arc::clone(&v)), false));
            self.miss_locked(&mut d);
            r
        } else {
            if !read.amended {
                self.dirty_locked(&mut d);
                self.amend(&read);
            }
            self.dirty_insert(&mut d, k, Entry::new(Arc::clone(&v)));
            (Value(v), false)
        }
    }

    /// Go's `LoadAndDelete`: deletes `k` and returns its value.
    pub fn load_and_delete<Q>(&self, k: &Q) -> Option<Value<V>>
    where
        Q: ?Sized,
        H: MapLookup<K, Q>,
    {
        let read = self.read.load();
        let e = match read.m.get(k) {
            Some(e) => Arc::clone(e),
            None if read.amended => {
                drop(read);
                let mut d = self.lock();
                let read = self.read.load();
                match read.m.get(k) {
                    Some(e) => Arc::clone(e),
                    None if read.amended => {
                        let e = d.m.as_mut().and_then(|m| m.remove(k));
                        self.miss_locked(&mut d);
                        e?
                    }
                    None => return None,
                }
            }
            None => return None,
        };
        e.delete()
    }

    /// Go's `Delete`.
    pub fn delete<Q>(&self, k: &Q)
    where
        Q: ?Sized,
        H: MapLookup<K, Q>,
    {
        self.load_and_delete(k);
    }

    /// Go 1.20's `Swap`: stores `v` and returns the previous value, if any.
    pub fn swap(&self, k: K, v: V) -> Option<Value<V>> {
        let v = Arc::new(Slot::Value(v));
        let read = self.read.load();
        if let Some(e) = read.m.get(&k) {
            if let Ok(prev) = e.try_swap(&v) {
                return prev;
            }
        }
        drop(read);
        let mut d = self.lock();
        let read = self.read.load_full();
        if let Some(e) = read.m.get(&k) {
            if e.unexpunge_locked(&self.expunged) {
                self.dirty_insert(&mut d, k, Arc::clone(e));
            }
            e.swap_locked(v)
        } else if let Some(e) = d.m.as_ref().and_then(|m| m.get(&k)) {
            e.swap_locked(v)
        } else {
            if !read.amended {
                self.dirty_locked(&mut d);
                self.amend(&read);
            }
            self.dirty_insert(&mut d, k, Entry::new(v));
            None
        }
    }

    /// Go 1.20's `CompareAndSwap`: stores `new` if the value for `k` equals `old`.
    pub fn compare_and_swap<Q>(&self, k: &Q, old: &V, new: V) -> bool
    where
        Q: ?Sized,
        H: MapLookup<K, Q>,
        V: PartialEq,
    {
        let new = Arc::new(Slot::Value(new));
        let read = self.read.load();
        if let Some(e) = read.m.get(k) {
            return e.try_compare_and_swap(old, &new);
        }
        if !read.amended {
            // No value for k.
            return false;
        }
        drop(read);
        let mut d = self.lock();
        let read = self.read.load();
        if let Some(e) = read.m.get(k) {
            e.try_compare_and_swap(old, &new)
        } else if let Some(e) = d.m.as_ref().and_then(|m| m.get(k)).cloned() {
            let swapped = e.try_compare_and_swap(old, &new);
            // The set of keys did not change: count a miss, toward promotion.
            self.miss_locked(&mut d);
            swapped
        } else {
            false
        }
    }

    /// Go 1.20's `CompareAndDelete`: deletes `k` if its value equals `old`.
    pub fn compare_and_delete<Q>(&self, k: &Q, old: &V) -> bool
    where
        Q: ?Sized,
        H: MapLookup<K, Q>,
        V: PartialEq,
    {
        let read = self.read.load();
        let e = match read.m.get(k) {
            Some(e) => Arc::clone(e),
            None if read.amended => {
                drop(read);
                let mut d = self.lock();
                let read = self.read.load();
                let e = match read.m.get(k) {
                    Some(e) => Some(Arc::clone(e)),
                    None if read.amended => {
                        // Not removed from dirty: the comparison may fail. The entry is
                        // expunged at the next rebuild of dirty if it ends up deleted.
                        let e = d.m.as_ref().and_then(|m| m.get(k)).cloned();
                        self.miss_locked(&mut d);
                        e
                    }
                    None => None,
                };
                match e {
                    Some(e) => e,
                    None => return false,
                }
            }
            None => return false,
        };
        e.compare_and_delete(old)
    }

    /// Go's `Range`: calls `f` on each key and value until it returns false. Promotes dirty
    /// first (so that the walk needs no lock), then walks the read map as it is: keys stored
    /// meanwhile may or may not be visited; a key is never visited twice; `f` may call any
    /// method of the map.
    pub fn range(&self, mut f: impl FnMut(&K, &V) -> bool) {
        self.range_values(|k, v| f(k, &v));
    }

    /// `range`, handing over each value's handle.
    fn range_values(&self, mut f: impl FnMut(&K, Value<V>) -> bool) {
        let mut read = self.read.load_full();
        if read.amended {
            let mut d = self.lock();
            read = self.read.load_full();
            if read.amended {
                if let Some(m) = d.m.take() {
                    read = Arc::new(ReadOnly {
                        m: Arc::new(m),
                        amended: false,
                    });
                    self.read.store(Arc::clone(&read));
                }
                d.misses = 0;
            }
        }
        for (k, e) in read.m.iter() {
            if let Some(v) = e.load() {
                if !f(k, v) {
                    break;
                }
            }
        }
    }

    /// Go 1.23's `Clear`: deletes every entry. Stores that race with it may or may not
    /// survive, as in Go. The dirty map, if there is one, is emptied in place (Go's
    /// `clear(m.dirty)`), and `misses` restarts from 0.
    pub fn clear(&self) {
        let read = self.read.load();
        if read.m.is_empty() && !read.amended {
            // Already clear: no new read map (Go avoids the allocation too).
            return;
        }
        drop(read);
        let mut d = self.lock();
        let read = self.read.load();
        if !read.m.is_empty() || read.amended {
            self.read.store(Arc::new(ReadOnly {
                m: Arc::new(GoMap::with_map_hasher(self.hasher.clone())),
                amended: false,
            }));
        }
        if let Some(m) = d.m.as_mut() {
            m.clear();
        }
        d.misses = 0;
    }

    /// The number of keys with a value, as [`range`](Self::range) would count them now
    /// (dashmap's `len`; Go's `sync.Map` has none). O(n): it walks the read map, or, when the
    /// dirty map holds keys the read map lacks, the dirty map under the lock. It changes
    /// nothing (no promotion, no miss).
    pub fn len(&self) -> usize {
        fn live<K, V, H>(m: &Entries<K, V, H>) -> usize
        where
            K: PartialEq,
            H: MapHasher<K>,
        {
            m.values()
                .filter(|e| {
                    let p = e.p.load();
                    p.is_some() && !is_expunged(&p)
                })
                .count()
        }
        let read = self.read.load();
        if !read.amended {
            return live(&read.m);
        }
        drop(read);
        let d = self.lock();
        let read = self.read.load();
        if !read.amended {
            return live(&read.m);
        }
        // Amended: dirty holds every key that is not expunged.
        d.m.as_ref().map_or(0, |m| live(m))
    }

    /// Whether no key has a value (see [`len`](Self::len)).
    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }

    /// The entries with a value, as [`range`](Self::range) visits them (it promotes the dirty
    /// map first, as `range` does): each key cloned, each value a [`Value`] handle. The
    /// entries are taken when `iter` is called, so the iterator holds no lock and sees no
    /// later store (dashmap's `iter` locks shards as it goes instead).
    pub fn iter(&self) -> SyncMapIter<K, V> {
        let mut out = alloc_crate::vec::Vec::new();
        self.range_values(|k, v| {
            out.push((k.clone(), v));
            true
        });
        SyncMapIter {
            inner: out.into_iter(),
        }
    }

    /// A snapshot of the map's parts (takes the lock; entries are counted as they are seen).
    pub fn state(&self) -> SyncMapState {
        let d = self.lock();
        let read = self.read.load();
        let (mut deleted, mut expunged) = (0, 0);
        for (_, e) in read.m.iter() {
            let p = e.p.load();
            if p.is_none() {
                deleted += 1;
            } else if is_expunged(&p) {
                expunged += 1;
            }
        }
        SyncMapState {
            read_len: read.m.len(),
            read_deleted: deleted,
            read_expunged: expunged,
            amended: read.amended,
            dirty_len: d.m.as_ref().map(GoMap::len),
            misses: d.misses,
        }
    }
}

/// The iterator of [`SyncMap::iter`]: the entries that had a value when it was made.
pub struct SyncMapIter<K, V> {
    inner: alloc_crate::vec::IntoIter<(K, Value<V>)>,
}

impl<K, V> Iterator for SyncMapIter<K, V> {
    type Item = (K, Value<V>);
    fn next(&mut self) -> Option<(K, Value<V>)> {
        self.inner.next()
    }
    fn size_hint(&self) -> (usize, Option<usize>) {
        self.inner.size_hint()
    }
}

impl<K, V> ExactSizeIterator for SyncMapIter<K, V> {}
impl<K, V> core::iter::FusedIterator for SyncMapIter<K, V> {}

impl<K: fmt::Debug, V: fmt::Debug> fmt::Debug for SyncMapIter<K, V> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_list().entries(self.inner.as_slice()).finish()
    }
}

impl<K, V, H> fmt::Debug for SyncMap<K, V, H>
where
    K: PartialEq + Clone + fmt::Debug,
    V: fmt::Debug,
    H: MapHasher<K> + MapLookup<K, K> + Clone,
{
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let mut m = f.debug_map();
        self.range(|k, v| {
            m.entry(k, v);
            true
        });
        m.finish()
    }
}
