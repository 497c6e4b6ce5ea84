//! [`GoMap`]: the safe, std-`HashMap`-like API over the raw runtime.

use core::fmt;
use core::ptr;

use allocator_api2::alloc::Allocator;

use crate::alloc::DefaultAllocator;
use crate::batch::{ContainsBatch, GetBatch};
use crate::entry::{Entry, EntryRef, OccupiedEntry, OccupiedError, VacantEntry, VacantEntryRef};
use crate::error::{handle_error, TryInsertError, TryReserveError};
use crate::hash::{DefaultMapHasher, GoHasher, HashAdapter, MapHasher, MapLookup};
use crate::iter::{
    Drain, ExtractIf, IntoIter, IntoKeys, IntoValues, Iter, IterMut, Keys, Values, ValuesMut,
};
use crate::layout::{b_for_entries, load_factor_capacity, BucketLayout, Hmap};
use crate::rand::{FastRand, RandSource};
use crate::raw::{RawIter, RawMap, Slot, Typed};
use crate::view::RawView;

/// Moves a typed key and elem out of their slot: the `take` of the raw delete, which calls it
/// exactly once, with the live key and elem of the slot being emptied.
#[inline(always)]
pub(crate) fn take_kv<K, V>(k: *mut K, v: *mut V) -> (K, V) {
    // SAFETY: only the raw runtime calls this (as `take`), with an initialized key and elem
    // that it treats as moved out afterwards.
    unsafe { (ptr::read(k), ptr::read(v)) }
}

/// Go 1.19's map, byte for byte: a 48-byte `hmap` header and arrays of 8-slot buckets, grown
/// incrementally (at most two old buckets are evacuated per write).
///
/// * `K`, `V`: key and value types. Keys and values larger than 128 bytes (or aligned to more
///   than 8) are stored indirectly, through a pointer in the slot, as Go does.
/// * `H`: the hasher ([`MapHasher`]). [`GoHasher`] is Go's own hash for [`GoKey`] types;
///   [`HashAdapter`] takes any `K: Hash`.
/// * `A`: the allocator (allocator-api2). Every byte the map uses comes from it.
/// * `R`: the source of Go's `fastrand` draws ([`RandSource`]).
///
/// ```
/// use gomap::GoMap;
///
/// let mut m: GoMap<u64, &str> = GoMap::new(); // the type picks Go's hasher
/// m.insert(1u64, "one");
/// m.insert(2u64, "two");
/// assert_eq!(m.get(&1), Some(&"one"));
/// assert_eq!(m.len(), 2);
/// // The header is Go's.
/// assert_eq!(m.header().count(), 2);
/// assert_eq!(m.header().B(), 0);
/// ```
///
/// # Differences from `std::collections::HashMap`
/// * `insert` on an existing key replaces the stored key when Go would (`NEEDS_KEY_UPDATE`:
///   floats, so `-0.0` replaces `+0.0`, and strings); otherwise the given key is dropped.
/// * Keys need only `PartialEq`: `f64` keys work with Go's semantics (NaN never equals itself,
///   so every NaN insert adds an entry, and NaN entries cannot be looked up).
/// * Iteration order is randomized per iteration, as in Go.
/// * [`reserve`](Self::reserve) and [`shrink_to_fit`](Self::shrink_to_fit) are not Go
///   operations; see their docs.
/// * Writes through `get_mut`, `iter_mut`, `values_mut` or an entry change the value in place,
///   like a write through a pointer to a Go map element: they are not map writes (no
///   `grow_work`).
///
/// [`GoKey`]: crate::hash::GoKey
/// [`HashAdapter`]: crate::hash::HashAdapter
pub struct GoMap<K, V, H = GoHasher, A: Allocator = DefaultAllocator, R: RandSource = FastRand> {
    pub(crate) raw: RawMap<Typed<K, V, H>, A, R>,
}

#[cfg(feature = "alloc")]
impl<K, V, H: DefaultMapHasher> GoMap<K, V, H> {
    /// An empty map, like Go's `make(map[K]V)`: `hash0` is drawn now, and the first bucket is
    /// allocated by the first insert.
    ///
    /// The hasher comes from the map's type ([`DefaultMapHasher`]): `GoMap<K, V>` has Go's
    /// (`GoHasher`), [`GoHashMap<K, V>`](crate::GoHashMap) std's (`RandomState`). Name the
    /// type when nothing else does: `let m: GoMap<u64, u64> = GoMap::new();`.
    pub fn new() -> Self {
        Self::from_parts(
            0,
            H::default_map_hasher(),
            DefaultAllocator::default(),
            FastRand,
        )
    }

    /// A map sized for `hint` entries, like Go's `make(map[K]V, hint)`: B is the smallest with
    /// `hint <= 6.5 * 2^B` (and B = 0 up to 8 entries), and for B > 0 the bucket array is
    /// allocated now.
    pub fn with_capacity(hint: usize) -> Self {
        Self::from_parts(
            hint,
            H::default_map_hasher(),
            DefaultAllocator::default(),
            FastRand,
        )
    }
}

impl<K, V, H: DefaultMapHasher, A: Allocator> GoMap<K, V, H, A> {
    /// An empty map in the given allocator (the hasher as for [`GoMap::new`]).
    pub fn new_in(alloc: A) -> Self {
        Self::from_parts(0, H::default_map_hasher(), alloc, FastRand)
    }

    /// A map sized for `hint` entries in the given allocator.
    pub fn with_capacity_in(hint: usize, alloc: A) -> Self {
        Self::from_parts(hint, H::default_map_hasher(), alloc, FastRand)
    }
}

#[cfg(feature = "alloc")]
impl<K, V, S> GoMap<K, V, HashAdapter<S>> {
    /// An empty map whose keys are hashed by the [`BuildHasher`](core::hash::BuildHasher)
    /// `hash_builder` (through [`HashAdapter`]), as std's `HashMap::with_hasher`.
    ///
    /// It is a `const fn`, so it cannot draw Go's `hash0` as `makemap` does: the map starts
    /// with `hash0 = 0` and draws one when it is reseeded (emptied by deletes, or cleared).
    /// The randomness of the hashes is the `BuildHasher`'s, as in std.
    pub const fn with_hasher(hash_builder: S) -> Self {
        GoMap {
            raw: RawMap::with_hash0(
                0,
                Typed::new(HashAdapter(hash_builder)),
                crate::alloc::default_allocator(),
                FastRand,
            ),
        }
    }

    /// A map sized for `hint` entries (see [`GoMap::with_capacity`]) whose keys are hashed by
    /// `hash_builder`, as std's `HashMap::with_capacity_and_hasher`.
    pub fn with_capacity_and_hasher(hint: usize, hash_builder: S) -> Self {
        Self::from_parts(
            hint,
            HashAdapter(hash_builder),
            DefaultAllocator::default(),
            FastRand,
        )
    }
}

impl<K, V, S, A: Allocator> GoMap<K, V, HashAdapter<S>, A> {
    /// An empty map in `alloc` whose keys are hashed by `hash_builder` (hashbrown's
    /// `with_hasher_in`; `hash0 = 0` until a reseed, as for [`with_hasher`](Self::with_hasher)).
    pub const fn with_hasher_in(hash_builder: S, alloc: A) -> Self {
        GoMap {
            raw: RawMap::with_hash0(0, Typed::new(HashAdapter(hash_builder)), alloc, FastRand),
        }
    }

    /// A map sized for `hint` entries in `alloc` whose keys are hashed by `hash_builder`.
    pub fn with_capacity_and_hasher_in(hint: usize, hash_builder: S, alloc: A) -> Self {
        Self::from_parts(hint, HashAdapter(hash_builder), alloc, FastRand)
    }
}

#[cfg(feature = "alloc")]
impl<K, V, H> GoMap<K, V, H> {
    /// An empty map with the given map hasher, any [`MapHasher`] (`GoHasher::with_hashkey(k)`
    /// to reproduce a Go process, your own). For a std `BuildHasher`, see
    /// [`with_hasher`](GoMap::with_hasher).
    pub fn with_map_hasher(hasher: H) -> Self {
        Self::from_parts(0, hasher, DefaultAllocator::default(), FastRand)
    }

    /// A map sized for `hint` entries (see [`GoMap::with_capacity`]) with the given map hasher.
    pub fn with_capacity_and_map_hasher(hint: usize, hasher: H) -> Self {
        Self::from_parts(hint, hasher, DefaultAllocator::default(), FastRand)
    }
}

impl<K, V, H, A: Allocator> GoMap<K, V, H, A> {
    /// An empty map with the given map hasher and allocator.
    pub fn with_map_hasher_in(hasher: H, alloc: A) -> Self {
        Self::from_parts(0, hasher, alloc, FastRand)
    }

    /// A map sized for `hint` entries with the given map hasher and allocator.
    pub fn with_capacity_and_map_hasher_in(hint: usize, hasher: H, alloc: A) -> Self {
        Self::from_parts(hint, hasher, alloc, FastRand)
    }
}

impl<K, V, H, A: Allocator, R: RandSource> GoMap<K, V, H, A, R> {
    /// A map from all its parts: Go's `makemap(hint)` with this hasher, allocator and random
    /// source. `hash0` is the source's first draw, so a [`ScriptedRand`] whose first value is
    /// `h` gives a map with `hash0 == h`.
    ///
    /// Panics (through `handle_alloc_error`) if the bucket array cannot be allocated; see
    /// [`try_from_parts`](Self::try_from_parts).
    ///
    /// [`ScriptedRand`]: crate::rand::ScriptedRand
    pub fn from_parts(hint: usize, hasher: H, alloc: A, rand: R) -> Self {
        match Self::try_from_parts(hint, hasher, alloc, rand) {
            Ok(m) => m,
            Err(e) => handle_error(e),
        }
    }

    /// Like [`from_parts`](Self::from_parts), but reports an allocation failure.
    pub fn try_from_parts(
        hint: usize,
        hasher: H,
        alloc: A,
        rand: R,
    ) -> Result<Self, TryReserveError> {
        Ok(GoMap {
            raw: RawMap::makemap(hint, Typed::new(hasher), alloc, rand)?,
        })
    }

    /// Number of entries (Go's `len(m)`, the header's `count`).
    #[inline]
    pub fn len(&self) -> usize {
        self.raw.h.count
    }

    /// Whether the map has no entries.
    #[inline]
    pub fn is_empty(&self) -> bool {
        self.raw.h.count == 0
    }

    /// The map's hasher.
    pub fn hasher(&self) -> &H {
        &self.raw.shape.hasher
    }

    /// The map's allocator.
    pub fn allocator(&self) -> &A {
        &self.raw.alloc
    }

    /// The map's random source.
    pub fn rand_source(&self) -> &R {
        &self.raw.rand
    }

    /// The Go header (`hmap`), read-only. Its address is what a Go `map` value holds.
    pub fn header(&self) -> &Hmap {
        &self.raw.h
    }

    /// The bucket layout of this map's key and value types.
    pub const fn layout(&self) -> BucketLayout {
        Typed::<K, V, H>::L
    }

    /// A read-only view of the map's raw memory: header, buckets, overflow chains, old buckets.
    pub fn raw(&self) -> RawView<'_, K, V> {
        RawView::new(&self.raw.h, Typed::<K, V, H>::L)
    }

    /// Bytes of memory the map holds: bucket arrays (preallocated overflow buckets included),
    /// heap overflow buckets, indirect keys and values, `extra` and overflow lists, and spare
    /// buckets set aside so that an evacuation never fails half-way (not Go-visible).
    pub fn allocated_bytes(&self) -> usize {
        self.raw.allocated_bytes()
    }

    /// How many entries the map holds before its next load-factor grow: 6.5 entries per
    /// bucket of the current array (`6.5 · 2^B`, and 8 for B = 0), or 0 while it has no
    /// bucket at all (a new map allocates its first bucket at the first insert). While a
    /// grow is in progress it is the new array's.
    ///
    /// What it does not promise, unlike std's: inserting up to `capacity()` entries can
    /// still allocate, because a full bucket chains an overflow bucket, and Go's "too many
    /// overflow buckets" rule can start a same-size grow (a new array of the same size).
    /// It never changes without a grow, a [`reserve`](Self::reserve) or a shrink.
    pub fn capacity(&self) -> usize {
        if self.raw.h.buckets.is_null() {
            0
        } else {
            load_factor_capacity(self.raw.h.B)
        }
    }

    /// Total bytes the map has allocated, as hashbrown's `allocation_size` reports it (the
    /// same as [`allocated_bytes`](Self::allocated_bytes)).
    pub fn allocation_size(&self) -> usize {
        self.raw.allocated_bytes()
    }

    /// Removes every entry, like Go 1.19's `runtime.mapclear`: B and the bucket array are kept
    /// (zeroed, with the preallocated overflow buckets restored), overflow buckets and old
    /// buckets are freed, and `hash0` is reseeded. A map that is already empty is left as it is.
    ///
    /// Go 1.19 has no `clear` builtin. Its compiler turns `for k := range m { delete(m, k) }`
    /// into one `mapclear` call only when all of these hold (`isMapClear` in
    /// `cmd/compile/internal/walk/range.go`): the loop declares `k` itself (`:=`); the body is
    /// exactly that one `delete` of the same map and key; the key type is reflexive (`k == k`
    /// for every key: no floats or complex numbers, nor interfaces, arrays or structs that may
    /// hold them); the build optimizes (not `-gcflags=-N`, not `-race` or `-msan`); and the loop
    /// is not in a function inlined into its caller (the inlined copy is compiled as the loop).
    /// Otherwise Go runs the loop as written: an iteration with a `mapdelete` per key, each
    /// with its grow work, which reseeds only when the last entry goes and can never delete a
    /// NaN key. Here that loop is [`retain`](Self::retain)`(|_, _| false)` (which also removes
    /// NaN keys, by position), not `clear`. (Go 1.21's `clear(m)` builtin always calls
    /// `mapclear`, whose algorithm changed in that release.)
    pub fn clear(&mut self) {
        self.raw.clear();
    }

    /// Looks up `k` and returns the value.
    #[inline]
    pub fn get<Q>(&self, k: &Q) -> Option<&V>
    where
        Q: ?Sized,
        H: MapLookup<K, Q>,
    {
        let (b, i) = self.find(k)?;
        // SAFETY: `find` returns a live slot, which lies in an allocation (so not at address
        // 0: telling the compiler spares the `Option` a null test); the shared borrow of
        // `self` keeps it alive.
        unsafe {
            let p = self.raw.elem_ptr(b, i);
            core::hint::assert_unchecked(!p.is_null());
            Some(&*p)
        }
    }

    /// Looks up `k` and returns the stored key and the value.
    #[inline]
    pub fn get_key_value<Q>(&self, k: &Q) -> Option<(&K, &V)>
    where
        Q: ?Sized,
        H: MapLookup<K, Q>,
    {
        let (b, i) = self.find(k)?;
        // SAFETY: as in `get`.
        unsafe { Some((&*self.raw.key_ptr(b, i), &*self.raw.elem_ptr(b, i))) }
    }

    /// Looks up `k` and returns the value mutably (an in-place write, not a map write).
    #[inline]
    pub fn get_mut<Q>(&mut self, k: &Q) -> Option<&mut V>
    where
        Q: ?Sized,
        H: MapLookup<K, Q>,
    {
        let (b, i) = self.find(k)?;
        // SAFETY: a live slot; the exclusive borrow of `self` makes the reference unique.
        unsafe { Some(&mut *self.raw.elem_ptr(b, i)) }
    }

    /// Looks up `k` and returns the stored key and the value, mutably (hashbrown's
    /// `get_key_value_mut`).
    #[inline]
    pub fn get_key_value_mut<Q>(&mut self, k: &Q) -> Option<(&K, &mut V)>
    where
        Q: ?Sized,
        H: MapLookup<K, Q>,
    {
        let (b, i) = self.find(k)?;
        // SAFETY: a live slot; the exclusive borrow of `self` makes the value reference
        // unique, and the key is only shared.
        unsafe { Some((&*self.raw.key_ptr(b, i), &mut *self.raw.elem_ptr(b, i))) }
    }

    /// The values of `N` keys at once, mutably (std's `get_disjoint_mut`): `None` for a key
    /// that is absent.
    ///
    /// Panics if two of the keys find the same entry.
    pub fn get_disjoint_mut<Q, const N: usize>(&mut self, ks: [&Q; N]) -> [Option<&mut V>; N]
    where
        Q: ?Sized,
        H: MapLookup<K, Q>,
    {
        let slots = ks.map(|k| self.find(k));
        for (j, s) in slots.iter().enumerate() {
            if s.is_some() && slots[..j].contains(s) {
                panic!("gomap: get_disjoint_mut: duplicate keys found");
            }
        }
        // SAFETY: every slot is live and they are pairwise distinct (checked above), so the
        // references do not alias; the exclusive borrow of `self` keeps them unique.
        slots.map(|s| s.map(|(b, i)| unsafe { &mut *self.raw.elem_ptr(b, i) }))
    }

    /// The stored keys and the values of `N` keys at once, the values mutably (hashbrown's
    /// `get_disjoint_key_value_mut`): `None` for a key that is absent.
    ///
    /// Panics if two of the keys find the same entry.
    pub fn get_disjoint_key_value_mut<Q, const N: usize>(
        &mut self,
        ks: [&Q; N],
    ) -> [Option<(&K, &mut V)>; N]
    where
        Q: ?Sized,
        H: MapLookup<K, Q>,
    {
        let slots = ks.map(|k| self.find(k));
        for (j, s) in slots.iter().enumerate() {
            if s.is_some() && slots[..j].contains(s) {
                panic!("gomap: get_disjoint_key_value_mut: duplicate keys found");
            }
        }
        slots.map(|s| {
            s.map(|(b, i)| {
                // SAFETY: every slot is live and they are pairwise distinct (checked above),
                // so the value references do not alias; the keys are only shared.
                unsafe { (&*self.raw.key_ptr(b, i), &mut *self.raw.elem_ptr(b, i)) }
            })
        })
    }

    /// [`get_disjoint_mut`](Self::get_disjoint_mut) without the check that the keys find
    /// distinct entries (std's `get_disjoint_unchecked_mut`).
    ///
    /// # Safety
    /// No two of the keys may find the same entry; otherwise two `&mut V` alias, which is
    /// undefined behavior.
    pub unsafe fn get_disjoint_unchecked_mut<Q, const N: usize>(
        &mut self,
        ks: [&Q; N],
    ) -> [Option<&mut V>; N]
    where
        Q: ?Sized,
        H: MapLookup<K, Q>,
    {
        let slots = ks.map(|k| self.find(k));
        // SAFETY: every slot is live; the caller guarantees they are distinct.
        slots.map(|s| s.map(|(b, i)| unsafe { &mut *self.raw.elem_ptr(b, i) }))
    }

    /// Whether the map holds `k`.
    #[inline]
    pub fn contains_key<Q>(&self, k: &Q) -> bool
    where
        Q: ?Sized,
        H: MapLookup<K, Q>,
    {
        self.find(k).is_some()
    }

    /// The values of many keys, in the keys' order: `get` for each, with the buckets of the
    /// next [`BATCH`](crate::batch::BATCH) keys hashed and prefetched while the current one is
    /// looked up. In a map larger than the CPU's caches, the memory waits of the keys then
    /// overlap instead of adding up.
    ///
    /// `keys` is anything that yields `&Q`: a slice, a `Vec` by reference, an iterator.
    ///
    /// ```
    /// use gomap::GoMap;
    ///
    /// let m: GoMap<u64, u64> = (0..100).map(|k| (k, k * 10)).collect();
    /// let keys = [3, 500, 7];
    /// let found: Vec<Option<&u64>> = m.get_batch(&keys).collect();
    /// assert_eq!(found, [Some(&30), None, Some(&70)]);
    /// ```
    #[inline]
    pub fn get_batch<'q, Q, I>(&self, keys: I) -> GetBatch<'_, 'q, Q, I::IntoIter, K, V, H, A, R>
    where
        Q: ?Sized + 'q,
        I: IntoIterator<Item = &'q Q>,
        H: MapLookup<K, Q>,
    {
        GetBatch::new(self, keys.into_iter())
    }

    /// Whether the map holds each of many keys, in the keys' order: `contains_key` for each,
    /// pipelined as [`get_batch`](Self::get_batch) is.
    ///
    /// ```
    /// use gomap::GoMap;
    ///
    /// let m: GoMap<&str, u8> = [("a", 1), ("b", 2)].into();
    /// let hits = m.contains_batch(["a", "x", "b"].iter()).filter(|&b| b).count();
    /// assert_eq!(hits, 2);
    /// ```
    #[inline]
    pub fn contains_batch<'q, Q, I>(
        &self,
        keys: I,
    ) -> ContainsBatch<'_, 'q, Q, I::IntoIter, K, V, H, A, R>
    where
        Q: ?Sized + 'q,
        I: IntoIterator<Item = &'q Q>,
        H: MapLookup<K, Q>,
    {
        ContainsBatch {
            inner: self.get_batch(keys),
        }
    }

    /// The hash of a lookup key with this map's seed.
    #[inline(always)]
    pub(crate) fn hash_lookup<Q>(&self, k: &Q) -> u64
    where
        Q: ?Sized,
        H: MapLookup<K, Q>,
    {
        MapHasher::<Q>::hash(&self.raw.shape.hasher, k, self.raw.h.hash0 as u64)
    }

    /// `get`, for a key whose hash (`hash_lookup`) is known.
    #[inline(always)]
    pub(crate) fn get_hashed<Q>(&self, hash: u64, k: &Q) -> Option<&V>
    where
        Q: ?Sized,
        H: MapLookup<K, Q>,
    {
        let (b, i) = self.raw.find(hash, |x| H::equivalent(k, x))?;
        // SAFETY: as in `get`.
        unsafe {
            let p = self.raw.elem_ptr(b, i);
            core::hint::assert_unchecked(!p.is_null());
            Some(&*p)
        }
    }

    #[inline]
    fn find<Q>(&self, k: &Q) -> Option<(*mut u8, usize)>
    where
        Q: ?Sized,
        H: MapLookup<K, Q>,
    {
        if self.raw.h.count == 0 {
            return None;
        }
        let hash = self.hash_lookup(k);
        self.raw.find(hash, |x| H::equivalent(k, x))
    }
}

impl<K: PartialEq, V, H: MapHasher<K>, A: Allocator, R: RandSource> GoMap<K, V, H, A, R> {
    #[inline]
    pub(crate) fn hash_key(&self, k: &K) -> u64 {
        self.raw.shape.hasher.hash(k, self.raw.h.hash0 as u64)
    }

    /// `insert`, for a key whose hash (`hash_key`) is known.
    #[inline(always)]
    pub(crate) fn insert_hashed(&mut self, hash: u64, k: K, v: V) -> Option<V> {
        match self.raw.assign(hash, |x| *x == k) {
            // SAFETY: `assign` just returned this slot.
            Ok(slot) => unsafe { self.fill(slot, k, v) },
            Err(e) => handle_error(e),
        }
    }

    /// Inserts `k → v` (Go's `m[k] = v`) and returns the previous value.
    ///
    /// Panics (through `handle_alloc_error`) when memory runs out; see
    /// [`insert_fallible`](Self::insert_fallible).
    #[inline]
    pub fn insert(&mut self, k: K, v: V) -> Option<V> {
        let hash = self.hash_key(&k);
        self.insert_hashed(hash, k, v)
    }

    /// Writes the key and value into a slot `assign` returned.
    ///
    /// # Safety
    /// `slot` must come from `self.raw.assign` with nothing in between.
    #[inline]
    unsafe fn fill(&mut self, slot: Slot, k: K, v: V) -> Option<V> {
        // SAFETY: caller contract: a Found slot is live; a New slot has uninitialized key and
        // elem memory (inline or in fresh boxes) that we initialize now.
        unsafe {
            match slot {
                Slot::Found(b, i) => {
                    let old = ptr::replace(self.raw.elem_ptr(b, i), v);
                    if <H as MapHasher<K>>::NEEDS_KEY_UPDATE {
                        drop(ptr::replace(self.raw.key_ptr(b, i), k));
                    } else {
                        drop(k);
                    }
                    Some(old)
                }
                Slot::New(b, i) => {
                    ptr::write(self.raw.key_ptr(b, i), k);
                    ptr::write(self.raw.elem_ptr(b, i), v);
                    None
                }
            }
        }
    }

    /// Go's assign of `k → v` that always stores the given key: if an equal key is in the map,
    /// it is replaced (and returned) and `v` is dropped; otherwise `k → v` is inserted. For
    /// `GoSet::replace`.
    pub(crate) fn replace_key(&mut self, k: K, v: V) -> Option<K> {
        let hash = self.hash_key(&k);
        let slot = match self.raw.assign(hash, |x| *x == k) {
            Ok(s) => s,
            Err(e) => handle_error(e),
        };
        match slot {
            // SAFETY: a found slot is live; the new key equals the stored one, so it hashes
            // alike and the slot stays where a lookup finds it.
            Slot::Found(b, i) => Some(unsafe { ptr::replace(self.raw.key_ptr(b, i), k) }),
            Slot::New(..) => {
                self.fill_slot(slot, k, v);
                None
            }
        }
    }

    /// Inserts like [`insert`](Self::insert), but when memory runs out returns the error with
    /// the key and value, and leaves the map unchanged (not even the grow work a write would
    /// do has happened).
    ///
    /// Why this name: Rust's `try_` means two things on maps. `try_reserve` reports a memory
    /// failure; std's (unstable) and hashbrown's `try_insert` fail on an occupied key. gomap's
    /// [`try_insert`](Self::try_insert) has that second meaning, so that code moved over from
    /// std or hashbrown means what it meant; the insert that reports memory failures is
    /// *fallible* in the sense of Rust's "fallible allocation", and returns
    /// [`TryReserveError`] inside its [`TryInsertError`].
    pub fn insert_fallible(&mut self, k: K, v: V) -> Result<Option<V>, TryInsertError<K, V>> {
        let hash = self.hash_key(&k);
        let exists = self.raw.find(hash, |x| *x == k).is_some();
        if let Err(error) = self.raw.reserve_assign(hash, !exists) {
            return Err(TryInsertError {
                error,
                key: k,
                value: v,
            });
        }
        let slot = match self.raw.assign(hash, |x| *x == k) {
            Ok(slot) => slot,
            Err(_) => unreachable!("everything the insert needs was reserved"),
        };
        self.raw.free_reserve_extras();
        self.raw.free_spare_array();
        // SAFETY: `assign` just returned this slot.
        Ok(unsafe { self.fill(slot, k, v) })
    }

    /// Inserts `key → value` if the key is absent and returns the value; if it is present,
    /// returns an error holding its entry and the value not inserted, and changes nothing
    /// (std's unstable `HashMap::try_insert`, hashbrown's `try_insert`). For an insert that
    /// reports memory failures, see [`insert_fallible`](Self::insert_fallible).
    pub fn try_insert(
        &mut self,
        key: K,
        value: V,
    ) -> Result<&mut V, OccupiedError<'_, K, V, H, A, R>> {
        match self.entry(key) {
            Entry::Occupied(entry) => Err(OccupiedError { entry, value }),
            Entry::Vacant(entry) => Ok(entry.insert(value)),
        }
    }

    /// Inserts a key the caller knows is absent, without looking for it (hashbrown's
    /// `insert_unique_unchecked`): Go's assign with a key comparison that never matches.
    ///
    /// # Safety
    /// The key must not be in the map. If it is, the map holds it twice: nothing unsound
    /// happens in gomap (both entries are owned, counted and dropped), but lookups find one of
    /// them and the map no longer behaves as a map. The contract is hashbrown's, so that code
    /// can move between the two.
    pub unsafe fn insert_unique_unchecked(&mut self, k: K, v: V) -> (&K, &mut V) {
        let hash = self.hash_key(&k);
        let (b, i) = self.insert_slot(hash, k, v, |_| false);
        // SAFETY: the slot was just filled; the exclusive borrow makes the references unique.
        unsafe { (&*self.raw.key_ptr(b, i), &mut *self.raw.elem_ptr(b, i)) }
    }

    /// Removes `k` (Go's `delete(m, k)`) and returns its value.
    ///
    /// During a grow, a remove first evacuates up to two old buckets, as Go's `mapdelete`
    /// does, which can allocate overflow buckets; if that memory is not available it follows
    /// the infallible policy (`handle_alloc_error`).
    #[inline]
    pub fn remove<Q>(&mut self, k: &Q) -> Option<V>
    where
        Q: ?Sized,
        H: MapLookup<K, Q>,
    {
        self.remove_entry(k).map(|(_, v)| v)
    }

    /// Removes `k` and returns the stored key and the value.
    pub fn remove_entry<Q>(&mut self, k: &Q) -> Option<(K, V)>
    where
        Q: ?Sized,
        H: MapLookup<K, Q>,
    {
        if self.raw.h.count == 0 {
            return None;
        }
        let hash = MapHasher::<Q>::hash(&self.raw.shape.hasher, k, self.raw.h.hash0 as u64);
        match self.raw.delete(hash, |x| H::equivalent(k, x), take_kv) {
            Ok(r) => r,
            Err(e) => handle_error(e),
        }
    }

    /// The entry for `key`, for in-place manipulation.
    pub fn entry(&mut self, key: K) -> Entry<'_, K, V, H, A, R> {
        let hash = self.hash_key(&key);
        match self.raw.find(hash, |x| *x == key) {
            Some((b, i)) => Entry::Occupied(OccupiedEntry::new(self, hash, b, i)),
            None => Entry::Vacant(VacantEntry::new(self, hash, key)),
        }
    }

    /// Inserts a key known to be absent, with its hash; returns its slot. (Go's assign, which
    /// compares the key with every stored key of the same tophash on the way.)
    pub(crate) fn insert_new_hashed(&mut self, hash: u64, k: K, v: V) -> (*mut u8, usize) {
        let slot = match self.raw.assign(hash, |x| *x == k) {
            Ok(s) => s,
            Err(e) => handle_error(e),
        };
        self.fill_slot(slot, k, v)
    }

    /// Go's assign of `k → v` with `eq` as the key comparison; returns the slot it filled.
    fn insert_slot(
        &mut self,
        hash: u64,
        k: K,
        v: V,
        eq: impl FnMut(&K) -> bool,
    ) -> (*mut u8, usize) {
        let slot = match self.raw.assign(hash, eq) {
            Ok(s) => s,
            Err(e) => handle_error(e),
        };
        self.fill_slot(slot, k, v)
    }

    /// Fills a slot `assign` just returned; returns where it is.
    fn fill_slot(&mut self, slot: Slot, k: K, v: V) -> (*mut u8, usize) {
        let (b, i) = match slot {
            Slot::Found(b, i) | Slot::New(b, i) => (b, i),
        };
        // SAFETY: the slot was just returned by `assign`, with nothing in between.
        unsafe { self.fill(slot, k, v) };
        (b, i)
    }

    /// An iterator over `(&K, &V)` in Go's randomized order.
    pub fn iter(&self) -> Iter<'_, K, V, H, A, R> {
        Iter::new(&self.raw)
    }

    /// An iterator over `(&K, &mut V)`.
    pub fn iter_mut(&mut self) -> IterMut<'_, K, V, H, A, R> {
        IterMut::new(&mut self.raw)
    }

    /// An iterator over the keys.
    pub fn keys(&self) -> Keys<'_, K, V, H, A, R> {
        Keys { inner: self.iter() }
    }

    /// An iterator over the values.
    pub fn values(&self) -> Values<'_, K, V, H, A, R> {
        Values { inner: self.iter() }
    }

    /// An iterator over the values, mutably.
    pub fn values_mut(&mut self) -> ValuesMut<'_, K, V, H, A, R> {
        ValuesMut {
            inner: self.iter_mut(),
        }
    }

    /// Consumes the map into its keys.
    pub fn into_keys(self) -> IntoKeys<K, V, H, A, R> {
        IntoKeys {
            inner: self.into_iter(),
        }
    }

    /// Consumes the map into its values.
    pub fn into_values(self) -> IntoValues<K, V, H, A, R> {
        IntoValues {
            inner: self.into_iter(),
        }
    }

    /// Removes and yields every entry. When the `Drain` is dropped, the map is cleared as by
    /// [`clear`](Self::clear) (Go's `mapclear`; the entries yielded were only marked empty on
    /// the way). If the `Drain` is leaked, the map is left empty and its memory leaks.
    pub fn drain(&mut self) -> Drain<'_, K, V, H, A, R> {
        Drain::new(self)
    }

    /// Keeps only the entries for which `f` returns true, like Go's
    /// `for k, v := range m { if !f(k, v) { delete(m, k) } }`: the removals are Go deletes
    /// (with their grow work), made during a Go iteration.
    pub fn retain<F: FnMut(&K, &mut V) -> bool>(&mut self, mut f: F) {
        // While the iteration runs, a grow that finishes parks the old array (the iteration
        // may be reading it); the guard frees it at the end, also on unwind.
        struct Hold<'a, K, V, H, A: Allocator, R: RandSource>(&'a mut GoMap<K, V, H, A, R>);
        impl<K, V, H, A: Allocator, R: RandSource> Drop for Hold<'_, K, V, H, A, R> {
            fn drop(&mut self) {
                self.0.raw.hold_old = false;
                self.0.raw.free_zombie();
            }
        }
        self.raw.hold_old = true;
        let g = Hold(self);
        g.0.retain_inner(&mut f);
    }

    fn retain_inner<F: FnMut(&K, &mut V) -> bool>(&mut self, f: &mut F) {
        let mut it = RawIter::init(&self.raw);
        // SAFETY: the iteration only sees deletes between steps, as Go's range allows; the
        // iterator flags it set keep evacuated old buckets readable. A returned slot is live
        // until we delete it.
        unsafe {
            while let Some((b, i)) = self.raw.iter_next(&mut it) {
                let kp = self.raw.key_ptr(b, i);
                let vp = self.raw.elem_ptr(b, i);
                if f(&*kp, &mut *vp) {
                    continue;
                }
                drop(self.remove_iterated(&it, b, i));
            }
        }
    }

    /// Removes the entry an iteration (that deletes, with `hold_old` set) just returned at
    /// (b, i): Go's `delete(m, k)` inside `range`, with its grow work; a key that cannot be
    /// found by hash (a NaN) is removed by position instead. `None` only if the key's `Eq`
    /// does not find the key itself (a broken `PartialEq`): then it stays.
    ///
    /// # Safety
    /// `it` must be that iteration on this map, and (b, i) the live slot it just returned.
    pub(crate) unsafe fn remove_iterated(
        &mut self,
        it: &RawIter,
        b: *mut u8,
        i: usize,
    ) -> Option<(K, V)> {
        // SAFETY: caller contract.
        unsafe {
            let kp = self.raw.key_ptr(b, i);
            if crate::raw::KeyOps::self_equal(&self.raw.shape, &*kp) {
                // Go's delete(m, k), grow work included. The closure holds only the raw
                // pointer: the delete may clear the very slot it points to.
                let hash = self.hash_key(&*kp);
                match self
                    .raw
                    .delete(hash, |x| ptr::eq(x, kp) || *x == *kp, take_kv)
                {
                    Ok(kv) => kv,
                    Err(e) => handle_error(e),
                }
            } else {
                // A key like NaN cannot be found by hash (Go cannot delete it); remove it
                // by position instead.
                self.raw.delete_unfindable(it, b, i, take_kv)
            }
        }
    }

    /// An iterator that removes and yields the entries for which `pred` returns true, in Go's
    /// iteration order, and keeps the others (std's `extract_if`): Go's
    /// `for k, v := range m { if pred(k, v) { delete(m, k) } }`, one step per `next`. Dropping
    /// it early keeps the entries not yet visited. If `pred` panics, the entry it was looking
    /// at stays in the map.
    pub fn extract_if<F: FnMut(&K, &mut V) -> bool>(
        &mut self,
        pred: F,
    ) -> ExtractIf<'_, K, V, F, H, A, R> {
        ExtractIf::new(self, pred)
    }

    /// Makes room for `additional` more entries without a load-factor grow: if `len +
    /// additional` would overload the current array, rebuilds the map into the array Go's
    /// `make(map, len + additional)` would allocate, moving every entry at once (O(len)),
    /// which also finishes any grow in progress. Not a Go operation. Overflow-triggered
    /// same-size grows can still happen later.
    pub fn reserve(&mut self, additional: usize) {
        if let Err(e) = self.try_reserve(additional) {
            handle_error(e);
        }
    }

    /// Like [`reserve`](Self::reserve), but reports a failure and then leaves the map unchanged.
    ///
    /// The array it asks for is the one `make(map, len + additional)` would allocate (its
    /// buckets and the preallocated overflow buckets): when that size in bytes overflows
    /// `isize` (Rust's limit for one allocation) the error is
    /// [`CapacityOverflow`](crate::TryReserveErrorKind::CapacityOverflow); otherwise the
    /// allocator is asked, and its refusal is
    /// [`AllocError`](crate::TryReserveErrorKind::AllocError) with that request's layout.
    pub fn try_reserve(&mut self, additional: usize) -> Result<(), TryReserveError> {
        let target = self
            .len()
            .checked_add(additional)
            .ok_or(TryReserveError::capacity_overflow())?;
        if target == 0 || (target <= self.capacity()) {
            return Ok(());
        }
        let b = b_for_entries(target).ok_or(TryReserveError::capacity_overflow())?;
        if b == 0 && self.raw.h.buckets.is_null() {
            // An empty map without its first bucket: allocate it (what the first insert does,
            // Go's `newobject(t.bucket)`).
            let first = self.raw.alloc_heap_bucket()?;
            self.raw.h.buckets = first;
            return Ok(());
        }
        let r = self.raw.rebuild(b);
        self.raw.free_reserve();
        r
    }

    /// Releases memory Go would keep. Go never shrinks a map; gomap does so only here: if
    /// `make(map, len)` would pick a smaller B, or a grow is in progress, the map is rebuilt
    /// into that array (all entries move at once), and the memory set aside for `try_*`
    /// operations is freed. The old generation of a finished grow, which later writes free a
    /// piece at a time, is freed at once. An empty map gives back its buckets too
    /// (capacity 0).
    pub fn shrink_to_fit(&mut self) {
        self.shrink_to(0);
    }

    /// Shrinks as [`shrink_to_fit`](Self::shrink_to_fit) does, but keeps room for at least
    /// `min_capacity` entries (std's `shrink_to`): the array is the one
    /// `make(map, max(len, min_capacity))` would allocate, if that is smaller than the current
    /// one. It never grows the map.
    pub fn shrink_to(&mut self, min_capacity: usize) {
        self.raw.empty_graveyard();
        let h = &self.raw.h;
        let want = self.len().max(min_capacity);
        let b = b_for_entries(want).unwrap_or(h.B).min(h.B);
        let release_all = want == 0 && !h.buckets.is_null();
        if b < h.B || h.growing() || release_all {
            if let Err(e) = self.raw.rebuild(b) {
                handle_error(e);
            }
            if want > 0 && self.raw.h.buckets.is_null() {
                // An empty map rebuilt to B = 0 has no bucket; the lower bound wants one.
                match self.raw.alloc_heap_bucket() {
                    Ok(first) => self.raw.h.buckets = first,
                    Err(e) => handle_error(e),
                }
            }
        }
        self.raw.free_reserve();
    }

    /// The entry for a borrowed `key` (hashbrown's `entry_ref`): the key is converted into
    /// an owned `K` (with `K: From<&Q>`) only if a vacant entry is filled.
    pub fn entry_ref<'b, Q: ?Sized>(&mut self, key: &'b Q) -> EntryRef<'_, 'b, K, Q, V, H, A, R>
    where
        H: MapLookup<K, Q>,
    {
        let hash = MapHasher::<Q>::hash(&self.raw.shape.hasher, key, self.raw.h.hash0 as u64);
        match self.raw.find(hash, |x| H::equivalent(key, x)) {
            Some((b, i)) => EntryRef::Occupied(OccupiedEntry::new(self, hash, b, i)),
            None => EntryRef::Vacant(VacantEntryRef::new(self, hash, key)),
        }
    }
}

impl<K: PartialEq, V, H: MapHasher<K>, A: Allocator, R: RandSource> IntoIterator
    for GoMap<K, V, H, A, R>
{
    type Item = (K, V);
    type IntoIter = IntoIter<K, V, H, A, R>;
    fn into_iter(self) -> Self::IntoIter {
        IntoIter::new(self.raw)
    }
}

impl<'a, K: PartialEq, V, H: MapHasher<K>, A: Allocator, R: RandSource> IntoIterator
    for &'a GoMap<K, V, H, A, R>
{
    type Item = (&'a K, &'a V);
    type IntoIter = Iter<'a, K, V, H, A, R>;
    fn into_iter(self) -> Self::IntoIter {
        self.iter()
    }
}

impl<'a, K: PartialEq, V, H: MapHasher<K>, A: Allocator, R: RandSource> IntoIterator
    for &'a mut GoMap<K, V, H, A, R>
{
    type Item = (&'a K, &'a mut V);
    type IntoIter = IterMut<'a, K, V, H, A, R>;
    fn into_iter(self) -> Self::IntoIter {
        self.iter_mut()
    }
}

impl<K: PartialEq, V, H: MapHasher<K>, A: Allocator, R: RandSource> Extend<(K, V)>
    for GoMap<K, V, H, A, R>
{
    /// Inserts every pair, in order, as `insert` does; the pairs ahead of the one being
    /// inserted are hashed and their buckets prefetched (see [`crate::batch`]).
    fn extend<T: IntoIterator<Item = (K, V)>>(&mut self, iter: T) {
        self.extend_pipelined(iter.into_iter());
    }
}

impl<'a, K: PartialEq + Copy, V: Copy, H: MapHasher<K>, A: Allocator, R: RandSource>
    Extend<(&'a K, &'a V)> for GoMap<K, V, H, A, R>
{
    fn extend<T: IntoIterator<Item = (&'a K, &'a V)>>(&mut self, iter: T) {
        self.extend_pipelined(iter.into_iter().map(|(k, v)| (*k, *v)));
    }
}

impl<
        K: PartialEq,
        V,
        H: MapHasher<K> + Default,
        A: Allocator + Default,
        R: RandSource + Default,
    > FromIterator<(K, V)> for GoMap<K, V, H, A, R>
{
    fn from_iter<T: IntoIterator<Item = (K, V)>>(iter: T) -> Self {
        let mut m = GoMap::from_parts(0, H::default(), A::default(), R::default());
        m.extend(iter);
        m
    }
}

impl<'a, K: PartialEq + Copy, V: Copy, H: MapHasher<K>, A: Allocator, R: RandSource>
    Extend<&'a (K, V)> for GoMap<K, V, H, A, R>
{
    fn extend<T: IntoIterator<Item = &'a (K, V)>>(&mut self, iter: T) {
        self.extend_pipelined(iter.into_iter().copied());
    }
}

#[cfg(feature = "alloc")]
impl<K: PartialEq, V, H: MapHasher<K> + DefaultMapHasher, const N: usize> From<[(K, V); N]>
    for GoMap<K, V, H>
{
    /// Like a Go map literal: a map with room for N entries, filled in order. The hasher is
    /// picked by the map's type, as for [`GoMap::new`].
    fn from(arr: [(K, V); N]) -> Self {
        let mut m = GoMap::with_capacity(N);
        m.extend(arr);
        m
    }
}

impl<K, V, H: Default, A: Allocator + Default, R: RandSource + Default> Default
    for GoMap<K, V, H, A, R>
{
    fn default() -> Self {
        GoMap::from_parts(0, H::default(), A::default(), R::default())
    }
}

impl<K, Q, V, H, A: Allocator, R: RandSource> core::ops::Index<&Q> for GoMap<K, V, H, A, R>
where
    Q: ?Sized,
    H: MapLookup<K, Q>,
{
    type Output = V;
    /// The value for `key`. Panics if it is absent.
    fn index(&self, key: &Q) -> &V {
        self.get(key).expect("gomap: key not found")
    }
}

impl<K: PartialEq + fmt::Debug, V: fmt::Debug, H: MapHasher<K>, A: Allocator, R: RandSource>
    fmt::Debug for GoMap<K, V, H, A, R>
{
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_map().entries(self.iter()).finish()
    }
}

impl<K, V, H, A, R> Clone for GoMap<K, V, H, A, R>
where
    K: PartialEq + Clone,
    V: Clone,
    H: MapHasher<K> + Clone,
    A: Allocator + Clone,
    R: RandSource + Clone,
{
    /// A new map, made like Go code copies a map before `maps.Clone` existed:
    /// `make(map, len(m))`, then every entry inserted in iteration order. The copy has its own
    /// `hash0` (drawn from a clone of the random source), so its layout generally differs.
    fn clone(&self) -> Self {
        let mut m = GoMap::from_parts(
            self.len(),
            self.raw.shape.hasher.clone(),
            self.raw.alloc.clone(),
            self.raw.rand.clone(),
        );
        for (k, v) in self.iter() {
            m.insert(k.clone(), v.clone());
        }
        m
    }
}

impl<K: PartialEq, V: PartialEq, H: MapLookup<K, K>, A: Allocator, R: RandSource> PartialEq
    for GoMap<K, V, H, A, R>
{
    /// Equal when both hold the same keys with equal values (layouts may differ).
    fn eq(&self, other: &Self) -> bool {
        self.len() == other.len()
            && self
                .iter()
                .all(|(k, v)| other.get(k).is_some_and(|w| v == w))
    }
}

impl<K: Eq, V: Eq, H: MapLookup<K, K>, A: Allocator, R: RandSource> Eq for GoMap<K, V, H, A, R> {}
