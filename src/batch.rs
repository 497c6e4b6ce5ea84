//! Batched operations: many keys at once, with the memory of the keys ahead loaded while the
//! current one is worked on.
//!
//! Go's layout keeps each bucket's tophash bytes inside the bucket, so the first probe of a key
//! in a map larger than the cache waits for memory, and no single-key lookup can avoid that.
//! A batch can: it hashes [`BATCH`] keys ahead of the one it works on and asks the CPU for
//! their buckets (a prefetch), so the waits overlap instead of following one another. Results
//! are exactly those of the single-key operations, in the order of the keys.
//!
//! * [`GoMap::get_batch`]: the values of many keys, as an iterator of `Option<&V>`.
//! * [`GoMap::contains_batch`]: whether the map holds each key, as an iterator of `bool`.
//! * `extend` (the [`Extend`] impls of [`GoMap`] and [`GoSet`](crate::GoSet)) inserts the same
//!   way: it hashes the pairs ahead of the one it inserts and prefetches their buckets.

use core::iter::FusedIterator;
use core::marker::PhantomData;
use core::mem::{needs_drop, size_of, MaybeUninit};

use allocator_api2::alloc::Allocator;

use crate::hash::{MapHasher, MapLookup};
use crate::map::GoMap;
use crate::rand::RandSource;

/// How many keys a batched operation hashes and prefetches ahead of the one it works on.
///
/// Enough to cover a DRAM miss (about 100 ns) with the few nanoseconds each key takes, and
/// within the dozen or so cache misses a core keeps in flight (each key asks for up to three
/// cache lines of its bucket).
pub const BATCH: usize = 8;

/// The iterator of [`GoMap::get_batch`]: the value of each key (or `None`), in the keys'
/// order.
pub struct GetBatch<'a, 'q, Q: ?Sized, I, K, V, H, A: Allocator, R: RandSource> {
    map: &'a GoMap<K, V, H, A, R>,
    keys: I,
    /// The keys hashed (and their buckets prefetched) but not yet looked up, a ring.
    ahead: [Option<(&'q Q, u64)>; BATCH],
    head: usize,
    len: usize,
    /// Whether the map is large enough for prefetching to pay (fixed: the map is borrowed).
    pipelined: bool,
    _v: PhantomData<&'a V>,
}

impl<'a, 'q, Q, I, K, V, H, A, R> GetBatch<'a, 'q, Q, I, K, V, H, A, R>
where
    Q: ?Sized + 'q,
    I: Iterator<Item = &'q Q>,
    H: MapLookup<K, Q>,
    A: Allocator,
    R: RandSource,
{
    pub(crate) fn new(map: &'a GoMap<K, V, H, A, R>, keys: I) -> Self {
        GetBatch {
            map,
            keys,
            ahead: [None; BATCH],
            head: 0,
            len: 0,
            pipelined: map.raw.beyond_cache(),
            _v: PhantomData,
        }
    }
}

impl<'a, 'q, Q, I, K, V, H, A, R> Iterator for GetBatch<'a, 'q, Q, I, K, V, H, A, R>
where
    Q: ?Sized + 'q,
    I: Iterator<Item = &'q Q>,
    H: MapLookup<K, Q>,
    A: Allocator,
    R: RandSource,
{
    type Item = Option<&'a V>;

    #[inline]
    fn next(&mut self) -> Option<Option<&'a V>> {
        if !self.pipelined {
            // A map this small stays in the CPU's caches: nothing to overlap.
            return self.keys.next().map(|k| self.map.get(k));
        }
        let empty = self.map.is_empty();
        while self.len < BATCH {
            let Some(k) = self.keys.next() else { break };
            // An empty map finds nothing: no need to hash.
            let hash = if empty {
                0
            } else {
                let hash = self.map.hash_lookup(k);
                self.map.raw.prefetch_hash(hash);
                hash
            };
            self.ahead[(self.head + self.len) % BATCH] = Some((k, hash));
            self.len += 1;
        }
        if self.len == 0 {
            return None;
        }
        let (k, hash) = self.ahead[self.head].take()?;
        self.head = (self.head + 1) % BATCH;
        self.len -= 1;
        Some(if empty {
            None
        } else {
            self.map.get_hashed(hash, k)
        })
    }

    fn size_hint(&self) -> (usize, Option<usize>) {
        let (lo, hi) = self.keys.size_hint();
        (
            lo.saturating_add(self.len),
            hi.and_then(|h| h.checked_add(self.len)),
        )
    }

    #[inline]
    fn fold<B, F: FnMut(B, Self::Item) -> B>(self, init: B, mut f: F) -> B {
        if !self.pipelined {
            // As a plain loop of `get`s.
            let map = self.map;
            return self.keys.fold(init, |acc, k| f(acc, map.get(k)));
        }
        let mut acc = init;
        for v in self {
            acc = f(acc, v);
        }
        acc
    }
}

impl<'q, Q, I, K, V, H, A, R> FusedIterator for GetBatch<'_, 'q, Q, I, K, V, H, A, R>
where
    Q: ?Sized + 'q,
    I: FusedIterator<Item = &'q Q>,
    H: MapLookup<K, Q>,
    A: Allocator,
    R: RandSource,
{
}

impl<'q, Q, I, K, V, H, A, R> ExactSizeIterator for GetBatch<'_, 'q, Q, I, K, V, H, A, R>
where
    Q: ?Sized + 'q,
    I: ExactSizeIterator<Item = &'q Q>,
    H: MapLookup<K, Q>,
    A: Allocator,
    R: RandSource,
{
}

/// The iterator of [`GoMap::contains_batch`]: whether the map holds each key, in the keys'
/// order.
pub struct ContainsBatch<'a, 'q, Q: ?Sized, I, K, V, H, A: Allocator, R: RandSource> {
    pub(crate) inner: GetBatch<'a, 'q, Q, I, K, V, H, A, R>,
}

impl<'q, Q, I, K, V, H, A, R> Iterator for ContainsBatch<'_, 'q, Q, I, K, V, H, A, R>
where
    Q: ?Sized + 'q,
    I: Iterator<Item = &'q Q>,
    H: MapLookup<K, Q>,
    A: Allocator,
    R: RandSource,
{
    type Item = bool;

    #[inline]
    fn next(&mut self) -> Option<bool> {
        self.inner.next().map(|v| v.is_some())
    }

    fn size_hint(&self) -> (usize, Option<usize>) {
        self.inner.size_hint()
    }
}

impl<'q, Q, I, K, V, H, A, R> FusedIterator for ContainsBatch<'_, 'q, Q, I, K, V, H, A, R>
where
    Q: ?Sized + 'q,
    I: FusedIterator<Item = &'q Q>,
    H: MapLookup<K, Q>,
    A: Allocator,
    R: RandSource,
{
}

impl<'q, Q, I, K, V, H, A, R> ExactSizeIterator for ContainsBatch<'_, 'q, Q, I, K, V, H, A, R>
where
    Q: ?Sized + 'q,
    I: ExactSizeIterator<Item = &'q Q>,
    H: MapLookup<K, Q>,
    A: Allocator,
    R: RandSource,
{
}

/// Pairs to insert, hashed ahead: a ring of at most [`BATCH`] `(hash, K, V)` that drops what
/// it still holds if an insert or a `Hash` panics.
struct Ring<K, V> {
    slots: [MaybeUninit<(u64, K, V)>; BATCH],
    head: usize,
    len: usize,
}

impl<K, V> Ring<K, V> {
    fn new() -> Self {
        Ring {
            slots: [const { MaybeUninit::uninit() }; BATCH],
            head: 0,
            len: 0,
        }
    }

    #[inline(always)]
    fn push(&mut self, e: (u64, K, V)) {
        debug_assert!(self.len < BATCH);
        self.slots[(self.head + self.len) % BATCH].write(e);
        self.len += 1;
    }

    #[inline(always)]
    fn pop(&mut self) -> Option<(u64, K, V)> {
        if self.len == 0 {
            return None;
        }
        // SAFETY: the `len` slots from `head` on (cyclically) are initialized; this one leaves
        // the ring before it is read, so it is read once.
        let e = unsafe { self.slots[self.head].assume_init_read() };
        self.head = (self.head + 1) % BATCH;
        self.len -= 1;
        Some(e)
    }
}

impl<K, V> Drop for Ring<K, V> {
    fn drop(&mut self) {
        if needs_drop::<(u64, K, V)>() {
            while let Some(e) = self.pop() {
                drop(e);
            }
        }
    }
}

/// Pairs larger than this are inserted one by one: the ring of [`BATCH`] of them lives on the
/// stack.
const MAX_PIPELINED_PAIR: usize = 256;

impl<K: PartialEq, V, H: MapHasher<K>, A: Allocator, R: RandSource> GoMap<K, V, H, A, R> {
    /// Inserts every pair, hashing [`BATCH`] pairs ahead and prefetching their buckets once the
    /// bucket array outgrows the caches (the `Extend` impls). Each pair is inserted as by `insert`, in order; if a `Hash` or an
    /// insert panics, the pairs taken from `iter` but not inserted are dropped.
    pub(crate) fn extend_pipelined(&mut self, iter: impl Iterator<Item = (K, V)>) {
        if size_of::<(u64, K, V)>() > MAX_PIPELINED_PAIR {
            for (k, v) in iter {
                self.insert(k, v);
            }
            return;
        }
        let mut iter = iter;
        let mut ring = Ring::new();
        loop {
            let (hash, k, v) = if ring.len == 0 && !self.raw.beyond_cache() {
                // A map this small stays in the CPU's caches: prefetching gains nothing, so
                // pairs go straight in until it grows past that.
                let Some((k, v)) = iter.next() else { break };
                (self.hash_key(&k), k, v)
            } else {
                while ring.len < BATCH {
                    let Some((k, v)) = iter.next() else { break };
                    // Inserts never change `hash0` (only emptying the map by deletes or
                    // `clear` draws a new one), so a hash taken now is the one the insert
                    // needs.
                    let hash = self.hash_key(&k);
                    self.raw.prefetch_hash(hash);
                    ring.push((hash, k, v));
                }
                let Some(e) = ring.pop() else { break };
                e
            };
            // One call site, so that the insert inlines as in a plain loop.
            self.insert_hashed(hash, k, v);
        }
    }
}
