//! Iteration: Go's `mapiterinit` / `mapiternext`.
//!
//! An iteration starts at a random bucket and a random slot offset (the same offset in every
//! bucket). It walks the bucket array as it was when the iteration started; while a grow is in
//! progress, a bucket whose old bucket is not yet evacuated is read from the old bucket,
//! keeping only the entries that belong to the new bucket being visited.

use core::sync::atomic::Ordering;

use allocator_api2::alloc::Allocator;

use super::{group, KeyOps, RawMap, Shape};
use crate::layout::*;
use crate::rand::RandSource;

/// The iteration state (Go's `hiter`, without the fields Rust's borrow keeps for us).
#[allow(non_snake_case)]
#[derive(Clone, Debug)]
pub(crate) struct RawIter {
    /// The bucket array when the iteration started.
    buckets: *mut u8,
    /// The bucket being walked (null: pick the next one).
    bptr: *mut u8,
    /// The head of the chain being walked (in the old array while reading an unevacuated
    /// old bucket).
    head: *mut u8,
    start_bucket: usize,
    offset: u8,
    wrapped: bool,
    B: u8,
    /// Slots of the current bucket still to look at, as a bit per position in the iteration's
    /// rotated order (position i is slot (i + offset) & 7); Go keeps a counter `i` instead.
    todo: u8,
    bucket: usize,
    check_bucket: usize,
    done: bool,
}

// SAFETY: a RawIter is position state only. Its pointers are dereferenced solely by
// `RawMap::iter_next`, which takes the map by reference, so the map's own Send/Sync bounds
// govern every access.
unsafe impl Send for RawIter {}
// SAFETY: as above; `&RawIter` allows no access at all.
unsafe impl Sync for RawIter {}

impl RawIter {
    /// The slots of bucket `b` to look at, in rotated order. In the current array (no check
    /// bucket), the slots that are empty now stay empty (nothing is inserted during an
    /// iteration), so they are left out at once; Go's loop would skip them one by one. Every
    /// slot that is kept is checked again when its turn comes (a delete may empty it).
    ///
    /// # Safety
    /// `b` must point to a bucket.
    #[inline]
    unsafe fn slots_to_visit(&self, b: *mut u8) -> u8 {
        if self.check_bucket != NO_CHECK {
            return 0xff;
        }
        // SAFETY: caller contract.
        let tops = unsafe { b.cast::<[u8; BUCKET_CNT]>().read() };
        let mut live = 0u8;
        for (j, &t) in tops.iter().enumerate() {
            live |= ((!is_empty(t) && t != EVACUATED_EMPTY) as u8) << j;
        }
        live.rotate_right(self.offset as u32)
    }

    /// The head of the chain the last returned slot was read from (before any lookup of a
    /// moved entry).
    pub(crate) fn head(&self) -> *mut u8 {
        self.head
    }

    /// An iteration that yields nothing.
    pub(crate) const fn empty() -> Self {
        RawIter {
            buckets: core::ptr::null_mut(),
            bptr: core::ptr::null_mut(),
            head: core::ptr::null_mut(),
            start_bucket: 0,
            offset: 0,
            wrapped: false,
            B: 0,
            todo: 0,
            bucket: 0,
            check_bucket: NO_CHECK,
            done: true,
        }
    }

    /// Go's `mapiterinit`: draw the start bucket and offset, and set the iterator flags.
    pub(crate) fn init<S: Shape, A: Allocator, R: RandSource>(m: &RawMap<S, A, R>) -> Self {
        let h = &m.h;
        if h.count == 0 {
            return Self::empty();
        }
        let b = h.B;
        let r = if b as u32 > 31 - BUCKET_CNT_BITS {
            m.rand.fastrand64() as usize
        } else {
            m.rand.fastrand() as usize
        };
        let start = r & bucket_mask(b);
        let offset = ((r >> b) & (BUCKET_CNT - 1)) as u8;
        let both = Flags::ITERATOR.bits() | Flags::OLD_ITERATOR.bits();
        if h.flags.load(Ordering::Relaxed) & both != both {
            // Go: atomic.Or8(&h.flags, iterator|oldIterator), the map's only atomic operation.
            h.flags.fetch_or(both, Ordering::Relaxed);
        }
        RawIter {
            buckets: h.buckets,
            bptr: core::ptr::null_mut(),
            head: core::ptr::null_mut(),
            start_bucket: start,
            offset,
            wrapped: false,
            B: b,
            todo: 0,
            bucket: start,
            check_bucket: NO_CHECK,
            done: false,
        }
    }
}

impl<S: KeyOps, A: Allocator, R: RandSource> RawMap<S, A, R> {
    /// Go's `mapiternext`: the (bucket, slot) of the next entry, or `None` at the end.
    ///
    /// # Safety
    /// `m` must be the map this iteration was started on. Between calls the map may only be
    /// changed by deletes (as Go allows during `range`); slots this iteration already returned
    /// may have been moved out only if their tophash was set to an empty state.
    #[inline]
    pub(crate) unsafe fn iter_next(&self, it: &mut RawIter) -> Option<(*mut u8, usize)> {
        // The common case, inline: no grow in progress, so every bucket is read from the
        // array the iteration started with, and only states 0, 1 and >= 5 occur there.
        if it.check_bucket == NO_CHECK && !it.done && self.h.oldbuckets.is_null() {
            // SAFETY: `bptr` is null or a bucket of this iteration's array or its chains, and
            // `bucket` < 2^B indexes that array (caller contract: the map is only changed by
            // deletes, which neither move buckets nor start a grow).
            unsafe {
                loop {
                    while it.todo != 0 {
                        let i = it.todo.trailing_zeros() as usize;
                        it.todo &= it.todo - 1;
                        let offi = (i + it.offset as usize) & (BUCKET_CNT - 1);
                        if Self::top(it.bptr, offi) >= MIN_TOP_HASH {
                            return Some((it.bptr, offi));
                        }
                    }
                    if !it.bptr.is_null() {
                        let o = self.overflow(it.bptr);
                        if !o.is_null() {
                            it.bptr = o;
                            it.todo = it.slots_to_visit(o);
                            continue;
                        }
                    }
                    let b = self.iter_next_bucket(it)?;
                    it.todo = it.slots_to_visit(b);
                }
            }
        }
        // SAFETY: caller contract.
        unsafe { self.iter_next_slow(it) }
    }

    /// Moves the iteration on to the next bucket of its array (wrapping round once) and returns
    /// it, or marks the iteration done when it is back at its start bucket.
    ///
    /// # Safety
    /// `it` must be an iteration started on this map, whose array (`it.buckets`, 2^`it.B`
    /// buckets) is still allocated.
    #[inline(always)]
    unsafe fn iter_next_bucket(&self, it: &mut RawIter) -> Option<*mut u8> {
        if it.bucket == it.start_bucket && it.wrapped {
            it.done = true;
            return None;
        }
        // SAFETY: `bucket` < 2^B indexes the iteration's array (caller contract).
        let b = unsafe { self.bucket_at(it.buckets, it.bucket) };
        it.bucket += 1;
        if it.bucket == bucket_shift(it.B) {
            it.bucket = 0;
            it.wrapped = true;
        }
        it.bptr = b;
        it.head = b;
        Some(b)
    }

    /// Calls `f` on every entry the iteration has still to return, in the order
    /// [`Self::iter_next`] would return them, and leaves the iteration finished. Without a grow
    /// in progress it walks the array and its chains in one loop and takes each bucket's live
    /// slots from one read of its tophash word; mid-grow it calls [`Self::iter_next`].
    ///
    /// # Safety
    /// As for [`Self::iter_next`], and the map is not changed at all until this returns.
    #[inline]
    pub(crate) unsafe fn iter_fold<B>(
        &self,
        it: &mut RawIter,
        init: B,
        mut f: impl FnMut(B, *mut u8, usize) -> B,
    ) -> B {
        let mut acc = init;
        if it.check_bucket == NO_CHECK && !it.done && self.h.oldbuckets.is_null() {
            let offset = it.offset as usize;
            // SAFETY: as in `iter_next`'s fast path: `bptr` is null or a bucket of the array
            // the iteration started with or of its chains, `bucket` < 2^B indexes that array,
            // and nothing changes the map meanwhile, so a slot whose tophash is live when its
            // bucket's first 8 bytes (the tophash array) are read stays live until `f` gets it.
            unsafe {
                // The bucket `iter_next` may have left half-walked: its slots to visit were
                // taken before any delete, so each is checked again.
                let b = it.bptr;
                if !b.is_null() {
                    let mut todo = it.todo;
                    while todo != 0 {
                        let i = todo.trailing_zeros() as usize;
                        todo &= todo - 1;
                        let slot = (i + offset) & (BUCKET_CNT - 1);
                        if Self::top(b, slot) >= MIN_TOP_HASH {
                            acc = f(acc, b, slot);
                        }
                    }
                    it.bptr = self.overflow(b);
                }
                it.todo = 0;
                loop {
                    // Every other bucket: read its tophash word once. Without a grow, the
                    // array holds only the states EMPTY_REST, EMPTY_ONE and live hashes.
                    let mut b = it.bptr;
                    while !b.is_null() {
                        let tops = b.cast::<u64>().read_unaligned().to_le();
                        let mut todo = group::live_bits(tops).rotate_right(offset as u32);
                        while todo != 0 {
                            let i = todo.trailing_zeros() as usize;
                            todo &= todo - 1;
                            acc = f(acc, b, (i + offset) & (BUCKET_CNT - 1));
                        }
                        b = self.overflow(b);
                    }
                    it.bptr = core::ptr::null_mut();
                    if self.iter_next_bucket(it).is_none() {
                        return acc;
                    }
                }
            }
        }
        // SAFETY: caller contract.
        while let Some((b, i)) = unsafe { self.iter_next(it) } {
            acc = f(acc, b, i);
        }
        acc
    }

    /// The general case of [`Self::iter_next`]: picking the next bucket, reading old buckets
    /// mid-grow, entries that moved.
    ///
    /// # Safety
    /// As for [`Self::iter_next`].
    #[inline(never)]
    unsafe fn iter_next_slow(&self, it: &mut RawIter) -> Option<(*mut u8, usize)> {
        let m = self;
        let this = it;
        if this.done {
            return None;
        }
        let h = &m.h;
        let seed = h.hash0 as u64;
        // SAFETY: `buckets` is the array at iteration start, which deletes never replace; while
        // growing with the same B, `bucket & oldbucketmask` indexes the old array. Slots with a
        // live tophash hold initialized keys (invariant 4), and evacuated X/Y slots keep their
        // key bytes readable (an iteration sets OLD_ITERATOR, so evacuation does not clear
        // them).
        unsafe {
            loop {
                if this.bptr.is_null() {
                    if this.bucket == this.start_bucket && this.wrapped {
                        this.done = true;
                        return None;
                    }
                    let mut nb;
                    if h.growing() && this.B == h.B {
                        // Iterating mid-grow: look at the old bucket if it is not evacuated.
                        let oldbucket = this.bucket & h.oldbucketmask();
                        nb = self.bucket_at(h.oldbuckets, oldbucket);
                        if !evacuated(Self::top(nb, 0)) {
                            this.check_bucket = this.bucket;
                        } else {
                            nb = self.bucket_at(this.buckets, this.bucket);
                            this.check_bucket = NO_CHECK;
                        }
                    } else {
                        nb = self.bucket_at(this.buckets, this.bucket);
                        this.check_bucket = NO_CHECK;
                    }
                    this.bucket += 1;
                    if this.bucket == bucket_shift(this.B) {
                        this.bucket = 0;
                        this.wrapped = true;
                    }
                    this.bptr = nb;
                    this.head = nb;
                    this.todo = this.slots_to_visit(nb);
                }
                let b = this.bptr;
                while this.todo != 0 {
                    let i = this.todo.trailing_zeros() as usize;
                    this.todo &= this.todo - 1;
                    let offi = (i + this.offset as usize) & (BUCKET_CNT - 1);
                    let t = Self::top(b, offi);
                    if is_empty(t) || t == EVACUATED_EMPTY {
                        continue;
                    }
                    let k = &*self.key_ptr(b, offi);
                    if this.check_bucket != NO_CHECK && !h.same_size_grow() {
                        // An unevacuated old bucket holds entries of two new buckets: keep the
                        // ones that belong to the bucket being visited.
                        if self.shape.reflexive() || self.shape.self_equal(k) {
                            let hash = m.shape.hash(k, seed);
                            if hash as usize & bucket_mask(this.B) != this.check_bucket {
                                continue;
                            }
                        } else if this.check_bucket >> (this.B - 1) != (t & 1) as usize {
                            // A NaN key goes where its old tophash's low bit says.
                            continue;
                        }
                    }
                    if (t != EVACUATED_X && t != EVACUATED_Y)
                        || !(self.shape.reflexive() || self.shape.self_equal(k))
                    {
                        return Some((b, offi));
                    }
                    // The entry moved since this bucket was picked: read its current location
                    // (it may have been deleted).
                    match m.find(m.shape.hash(k, seed), |x| m.shape.key_eq(x, k)) {
                        Some(found) => return Some(found),
                        None => continue,
                    }
                }
                this.bptr = self.overflow(b);
                if !this.bptr.is_null() {
                    this.todo = this.slots_to_visit(this.bptr);
                }
            }
        }
    }

    /// Removes, by position, the entry an iteration just returned at (b, i): for keys a
    /// lookup cannot find (a NaN's hash is random; Go cannot delete such a key at all).
    ///
    /// If the slot's old bucket was evacuated since the iteration picked it (the slot is
    /// marked `EVACUATED_X`/`EVACUATED_Y`), the entry now lives in the new array: evacuation
    /// moves a chain's entries, in order, into the empty chains of X (same index) and Y
    /// (index + newbit), so the j-th entry marked X is at slot j of X's chain. Deletes do
    /// not move entries and nothing is inserted during the iteration, so that still holds.
    ///
    /// # Safety
    /// `it` must be the iteration (on this map, with `hold_old` set while it runs) that just
    /// returned (b, i).
    pub(crate) unsafe fn delete_unfindable<T>(
        &mut self,
        it: &RawIter,
        b: *mut u8,
        i: usize,
        take: impl FnOnce(*mut S::K, *mut S::V) -> T,
    ) -> Option<T> {
        // SAFETY: caller contract: (b, i) is in the chain of `it.head()`, still allocated (a
        // finished grow's old array is parked while `hold_old` is set).
        unsafe {
            let (head, b, i) = self.locate(it.head(), b, i)?;
            Some(self.delete_at(head, b, i, take))
        }
    }

    /// Where the entry that was at (b, i), in the chain that starts at `head`, is now: the same
    /// slot while it is live; if its old bucket was evacuated since (the slot is marked
    /// `EVACUATED_X`/`EVACUATED_Y`), its slot in the new array: evacuation moves a chain's
    /// entries, in order, into the empty chains of X (same index) and Y (index + newbit), so
    /// the j-th entry marked X is at slot j of X's chain. `None` if the entry is gone.
    ///
    /// # Safety
    /// (b, i) must be a slot of the chain of `head`, in the current array or in an old array
    /// that is still allocated (the current grow's, or one parked in `zombie`), and since
    /// the entry was there the map may only have evacuated that chain and deleted entries.
    pub(crate) unsafe fn locate(
        &self,
        head: *mut u8,
        b: *mut u8,
        i: usize,
    ) -> Option<(*mut u8, *mut u8, usize)> {
        // SAFETY: caller contract.
        unsafe {
            let t = Self::top(b, i);
            if t >= MIN_TOP_HASH {
                return Some((head, b, i));
            }
            if t != EVACUATED_X && t != EVACUATED_Y {
                return None;
            }
            // Which old array and which index `head` is.
            let bs = self.l().bucketsize;
            let (base, old_b) = match self.zombie {
                Some(z) if !self.h.growing() => (z.array.as_ptr(), z.b),
                _ => {
                    let ob = if self.h.same_size_grow() {
                        self.h.B
                    } else {
                        self.h.B - 1
                    };
                    (self.h.oldbuckets, ob)
                }
            };
            let ob = (head as usize - base as usize) / bs;
            let newbit = bucket_shift(old_b);
            let dest = if t == EVACUATED_Y { ob + newbit } else { ob };
            // Count the entries sent to the same half before (b, i).
            let mut j = 0usize;
            let mut cb = head;
            'count: while !cb.is_null() {
                for s in 0..BUCKET_CNT {
                    if cb == b && s == i {
                        break 'count;
                    }
                    if Self::top(cb, s) == t {
                        j += 1;
                    }
                }
                cb = self.overflow(cb);
            }
            let nhead = self.bucket_at(self.h.buckets, dest);
            let mut nb = nhead;
            for _ in 0..j / BUCKET_CNT {
                nb = self.overflow(nb);
                if nb.is_null() {
                    return None;
                }
            }
            if Self::top(nb, j % BUCKET_CNT) < MIN_TOP_HASH {
                return None; // already deleted
            }
            Some((nhead, nb, j % BUCKET_CNT))
        }
    }
}
