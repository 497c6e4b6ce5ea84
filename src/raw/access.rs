//! Lookup: Go's `mapaccess1`/`mapaccess2`/`mapaccessK`. Lookups never write.

use allocator_api2::alloc::Allocator;

use super::{group, prefetch_bucket, prefetch_line, RawMap, Shape};
use crate::layout::*;
use crate::rand::RandSource;

impl<S: Shape, A: Allocator, R: RandSource> RawMap<S, A, R> {
    /// Whether the bucket array is large enough (256 KiB or more) that its buckets are likely
    /// not in the CPU's caches, so that prefetching them ahead pays.
    #[inline(always)]
    pub(crate) fn beyond_cache(&self) -> bool {
        bucket_shift(self.h.B).saturating_mul(self.l().bucketsize) >= 256 << 10
    }

    /// Asks the CPU to load the bucket a key with this hash lives in (every cache line of it),
    /// and while growing the first line of its old bucket, which a lookup or a write reads
    /// first, and the other bucket a doubling grow evacuates that old bucket into (a write
    /// fills both): the batched operations call it for the keys ahead of the one they work on. A hint
    /// only: it reads nothing, and an address computed now may be stale by the time the key's
    /// turn comes (a write in between may grow the map), which costs a wasted load at most.
    #[inline(always)]
    pub(crate) fn prefetch_hash(&self, hash: u64) {
        let h = &self.h;
        let bs = self.l().bucketsize;
        let m = bucket_mask(h.B);
        // `wrapping_add`: only the address is computed; nothing is dereferenced.
        prefetch_bucket(h.buckets.wrapping_add((hash as usize & m) * bs), bs, true);
        if !h.oldbuckets.is_null() {
            if h.same_size_grow() {
                prefetch_line(h.oldbuckets.wrapping_add((hash as usize & m) * bs));
            } else {
                let old = hash as usize & (m >> 1);
                prefetch_line(h.oldbuckets.wrapping_add(old * bs));
                // A write evacuates that old bucket into both halves: the other half too.
                let other = (hash as usize & m) ^ (m ^ (m >> 1));
                prefetch_bucket(h.buckets.wrapping_add(other * bs), bs, true);
            }
        }
    }

    /// Finds the slot whose key satisfies `eq`, for a key with hash `hash`. Reads the old
    /// bucket instead of the new one while it is not yet evacuated. Returns (bucket, slot).
    ///
    /// Same result as Go's loop (compare tophash, stop at `EMPTY_REST`), with the 8 tophash
    /// bytes compared at once.
    #[inline]
    pub(crate) fn find(
        &self,
        hash: u64,
        mut eq: impl FnMut(&S::K) -> bool,
    ) -> Option<(*mut u8, usize)> {
        let h = &self.h;
        if h.count == 0 {
            return None;
        }
        let top = tophash(hash);
        // SAFETY: count > 0, so `buckets` is allocated (invariant 1); `hash & mask` indexes it,
        // and while growing `hash & oldmask` indexes the old array (invariant 2). Chains are
        // intact (invariant 3), and a slot whose tophash equals `top` (>= 5) in a bucket we
        // search is live (invariant 4), so its key may be read.
        unsafe {
            let mut m = bucket_mask(h.B);
            let mut b = self.bucket_at(h.buckets, hash as usize & m);
            // A bucket spans two or three cache lines (tophash, keys, elems, overflow): ask for
            // all of them at once rather than one after the other.
            prefetch_bucket(b, self.l().bucketsize, false);
            if !h.oldbuckets.is_null() {
                if !h.same_size_grow() {
                    m >>= 1;
                }
                let oldb = self.bucket_at(h.oldbuckets, hash as usize & m);
                if !evacuated(Self::top(oldb, 0)) {
                    b = oldb;
                }
            }
            loop {
                let tops = Self::tops(b);
                // Every slot at or after an EMPTY_REST is EMPTY_REST (0), and `top` is at least
                // 5, so the candidates below (exactly the slots whose tophash is `top`) are all
                // before the first EMPTY_REST: Go's loop, which stops there, sees the same ones.
                let mut cand = group::match_exact(tops, top);
                while cand != 0 {
                    let i = group::lowest(cand);
                    if eq(&*self.key_ptr(b, i)) {
                        return Some((b, i));
                    }
                    cand &= cand - 1;
                }
                if group::zero_bytes(tops) != 0 {
                    return None; // an EMPTY_REST: nothing further in the chain
                }
                b = self.overflow(b);
                if b.is_null() {
                    return None;
                }
            }
        }
    }
}
