//! Growth: Go's `hashGrow`, `growWork`, `evacuate` and `advanceEvacuationMark`.
//!
//! `hash_grow` only allocates the new array and moves the old one to `oldbuckets`; nothing is
//! copied. Every later write evacuates at most two old buckets (`grow_work`): the one its key
//! hashes to, and the one at `nevacuate`. When `nevacuate` reaches the number of old buckets,
//! the old array is released.

use core::ptr;

use allocator_api2::alloc::Allocator;

use super::{prefetch_bucket, KeyOps, RawMap};
use crate::error::TryReserveError;
use crate::layout::*;
use crate::rand::RandSource;

/// An evacuation destination (Go's `evacDst`): the current bucket and the next free slot.
#[derive(Copy, Clone)]
struct EvacDst {
    b: *mut u8,
    i: usize,
}

impl<S: KeyOps, A: Allocator, R: RandSource> RawMap<S, A, R> {
    /// Go's `hashGrow`: start growing, to twice the buckets when the next insert would
    /// overload the map, else to the same number (too many overflow buckets).
    pub(crate) fn hash_grow(&mut self) -> Result<(), TryReserveError> {
        let h = &self.h;
        let bigger = over_load_factor(h.count + 1, h.B) as u8;
        let new_b = h.B + bigger;
        let (newbuckets, next) = self.make_bucket_array(new_b)?;
        if !next.is_null() && self.h.extra.is_null() {
            match self.new_extra() {
                Ok(e) => self.h.extra = e,
                Err(e) => {
                    // SAFETY: `newbuckets` was just allocated and nothing references it.
                    unsafe { self.free_array(newbuckets, new_b) };
                    return Err(e);
                }
            }
        }
        let h = &mut self.h;
        let mut flags = Flags::from_bits_retain(*h.flags.get_mut());
        if bigger == 0 {
            flags |= Flags::SAME_SIZE_GROW;
        }
        let iterating = flags.contains(Flags::ITERATOR);
        flags -= Flags::ITERATOR | Flags::OLD_ITERATOR;
        if iterating {
            flags |= Flags::OLD_ITERATOR;
        }
        *h.flags.get_mut() = flags.bits();
        h.B = new_b;
        h.oldbuckets = h.buckets;
        h.buckets = newbuckets;
        h.nevacuate = 0;
        h.noverflow = 0;
        if !h.extra.is_null() {
            // SAFETY: `extra` is a valid MapExtra (invariant 6).
            unsafe {
                let e = h.extra;
                if !(*e).overflow.is_null() {
                    // Go throws "oldoverflow is not nil" here; a grow never starts while one
                    // is in progress, so it cannot be.
                    debug_assert!((*e).oldoverflow.is_null(), "oldoverflow is not nil");
                    (*e).oldoverflow = (*e).overflow;
                    (*e).overflow = ptr::null_mut();
                }
                if !next.is_null() {
                    (*e).nextOverflow = next;
                }
            }
        }
        Ok(())
    }

    /// Go's `growWork`: evacuate the old bucket that `bucket` maps to, then one more (the one at
    /// `nevacuate`) to make progress.
    ///
    /// With a hasher that may panic, every key of both chains is hashed before anything
    /// moves, so a panic leaves the map exactly as it was (`nevacuate` included).
    pub(crate) fn grow_work(&mut self, bucket: usize) -> Result<(), TryReserveError> {
        let first = bucket & self.h.oldbucketmask();
        // Ask for every line of the old bucket evacuated first and of the key's bucket, which
        // the caller reads next, at once rather than one miss after the other.
        // SAFETY: `bucket` indexes the current array (invariant 1), `first` the old one
        // (invariant 2).
        let (old, new) = unsafe {
            (
                self.bucket_at(self.h.oldbuckets, first),
                self.bucket_at(self.h.buckets, bucket),
            )
        };
        prefetch_bucket(old, self.l().bucketsize, true);
        prefetch_bucket(new, self.l().bucketsize, true);
        let prehash = self.shape.hash_may_panic() && !self.h.same_size_grow();
        if prehash {
            // SAFETY: while growing, both indices are below the number of old buckets
            // (invariant 2); `hash_chain` only runs on chains that are not evacuated, whose
            // live slots hold initialized keys.
            unsafe {
                self.hash_chain_if_unevacuated(first);
                if let Some(second) = self.next_after_evacuating(first) {
                    if second != first {
                        self.hash_chain_if_unevacuated(second);
                    }
                }
            }
        }
        self.evacuate(first, !prehash)?;
        if self.h.growing() {
            self.evacuate(self.h.nevacuate, !prehash)?;
        }
        if self.h.growing() {
            // The next write evacuates `nevacuate`: start loading it now.
            // SAFETY: while growing, nevacuate < noldbuckets indexes the old array.
            let next = unsafe { self.bucket_at(self.h.oldbuckets, self.h.nevacuate) };
            prefetch_bucket(next, self.l().bucketsize, true);
        }
        Ok(())
    }

    /// The old bucket that `grow_work` evacuates second, once `first` is evacuated: the
    /// `nevacuate` that `advance_evacuation_mark` would leave, or `None` if the grow would end.
    fn next_after_evacuating(&self, first: usize) -> Option<usize> {
        let newbit = self.h.noldbuckets();
        let mut n = self.h.nevacuate;
        if first == n {
            n += 1;
            let stop = (n + 1024).min(newbit);
            while n != stop {
                // SAFETY: n < stop <= newbit indexes the old array (invariant 2).
                let top0 = unsafe { Self::top(self.bucket_at(self.h.oldbuckets, n), 0) };
                if !evacuated(top0) {
                    break;
                }
                n += 1;
            }
        }
        (n < newbit).then_some(n)
    }

    /// Runs `hash_chain` on old bucket `oldbucket` unless it is already evacuated.
    ///
    /// # Safety
    /// A grow must be in progress and `oldbucket` must index the old array.
    unsafe fn hash_chain_if_unevacuated(&self, oldbucket: usize) {
        // SAFETY: caller contract; an unevacuated old chain's live slots hold keys.
        unsafe {
            let b0 = self.bucket_at(self.h.oldbuckets, oldbucket);
            if !evacuated(Self::top(b0, 0)) {
                self.hash_chain(b0);
            }
        }
    }

    /// Number of buckets in the chain that starts at `b`.
    ///
    /// # Safety
    /// `b` must be a bucket with an intact chain.
    pub(crate) unsafe fn chain_len(&self, b: *mut u8) -> usize {
        let mut n = 0;
        let mut b = b;
        while !b.is_null() {
            n += 1;
            // SAFETY: caller contract.
            b = unsafe { self.overflow(b) };
        }
        n
    }

    /// Sets aside what evacuating a chain of `nbuckets` buckets may need: a heap bucket per
    /// old bucket (X and Y together never need more) and, for pointer-free buckets, room in
    /// the overflow list. Nothing Go-visible changes: a missing `extra` or list is allocated
    /// into the reserve, and only attached if an overflow bucket is really taken.
    pub(crate) fn reserve_overflow(&mut self, nbuckets: usize) -> Result<(), TryReserveError> {
        self.reserve_buckets(nbuckets)?;
        if self.shape.pointer_free() && nbuckets > 0 {
            self.reserve_list_room(nbuckets)?;
        }
        Ok(())
    }

    /// Go's `evacuate(t, h, oldbucket)`: move every entry of an old bucket's chain to the new
    /// array (X: same index, Y: index + newbit), mark the old slots, then advance `nevacuate`.
    /// `prehash` is false when the caller already hashed the chain's keys.
    fn evacuate(&mut self, oldbucket: usize, prehash: bool) -> Result<(), TryReserveError> {
        let newbit = self.h.noldbuckets();
        // SAFETY: while growing, `oldbucket < noldbuckets()` indexes the old array (invariant 2),
        // and its chain is intact.
        let b0 = unsafe { self.bucket_at(self.h.oldbuckets, oldbucket) };
        // SAFETY: `b0` is a bucket.
        if !evacuated(unsafe { Self::top(b0, 0) }) {
            // Everything fallible, and every call of user code that may panic, happens before
            // the first byte moves, so a failure leaves the bucket untouched. A chain of c
            // buckets holds at most 8c entries, which fill X and Y's empty chains with at most
            // c - 1 overflow buckets in all: a lone bucket needs none.
            // SAFETY: `b0` has an intact chain.
            let chain = unsafe { self.chain_len(b0) };
            if chain > 1 {
                self.reserve_overflow(chain - 1)?;
            }
            let same_size = self.h.same_size_grow();
            if prehash && self.shape.hash_may_panic() && !same_size {
                // SAFETY: live slots of an unevacuated old bucket hold initialized keys.
                unsafe { self.hash_chain(b0) };
            }
            // SAFETY: as above; destinations are inside the new array (oldbucket + newbit <
            // 2^B for a doubling grow) and are empty, because every write evacuates the old
            // bucket before touching its destinations.
            unsafe { self.evacuate_chain(b0, oldbucket, newbit, same_size) };
        }
        if oldbucket == self.h.nevacuate {
            self.advance_evacuation_mark(newbit);
        }
        Ok(())
    }

    /// Hashes every live key of a chain and discards the result (see `HASH_MAY_PANIC`).
    ///
    /// # Safety
    /// The chain's live slots must hold initialized keys.
    unsafe fn hash_chain(&self, b0: *mut u8) {
        let seed = self.h.hash0 as u64;
        let mut b = b0;
        while !b.is_null() {
            for i in 0..BUCKET_CNT {
                // SAFETY: caller contract.
                unsafe {
                    if Self::top(b, i) >= MIN_TOP_HASH {
                        core::hint::black_box(self.shape.hash(&*self.key_ptr(b, i), seed));
                    }
                }
            }
            // SAFETY: intact chain.
            b = unsafe { self.overflow(b) };
        }
    }

    /// The moving part of `evacuate`; cannot fail (overflow buckets were reserved).
    ///
    /// # Safety
    /// See `evacuate`.
    unsafe fn evacuate_chain(
        &mut self,
        b0: *mut u8,
        oldbucket: usize,
        newbit: usize,
        same_size: bool,
    ) {
        let l = self.l();
        let seed = self.h.hash0 as u64;
        // SAFETY: the new array holds 2^B buckets; for a doubling grow 2^B = 2 * newbit.
        let mut xy = unsafe {
            let x = EvacDst {
                b: self.bucket_at(self.h.buckets, oldbucket),
                i: 0,
            };
            let y = if same_size {
                x
            } else {
                EvacDst {
                    b: self.bucket_at(self.h.buckets, oldbucket + newbit),
                    i: 0,
                }
            };
            [x, y]
        };
        let mut b = b0;
        while !b.is_null() {
            for i in 0..BUCKET_CNT {
                // SAFETY: `b` is a bucket of the old chain; slot i < 8.
                unsafe {
                    let mut top = Self::top(b, i);
                    if is_empty(top) {
                        Self::set_top(b, i, EVACUATED_EMPTY);
                        continue;
                    }
                    if top < MIN_TOP_HASH {
                        panic!("bad map state");
                    }
                    let mut use_y = 0usize;
                    if !same_size {
                        let k = &*self.key_ptr(b, i);
                        let hash = self.shape.hash(k, seed);
                        let flags = Flags::from_bits_retain(*self.h.flags.get_mut());
                        if !self.shape.reflexive()
                            && flags.contains(Flags::ITERATOR)
                            && !self.shape.self_equal(k)
                        {
                            // A NaN key: its hash cannot be reproduced, so the old tophash's
                            // low bit picks the half and the fresh hash gives the new tophash.
                            use_y = (top & 1) as usize;
                            top = tophash(hash);
                        } else if hash as usize & newbit != 0 {
                            use_y = 1;
                        }
                    }
                    Self::set_top(b, i, EVACUATED_X + use_y as u8);
                    let dst = &mut xy[use_y];
                    if dst.i == BUCKET_CNT {
                        // Reserved above, so this cannot fail.
                        dst.b = match self.new_overflow(dst.b) {
                            Ok(nb) => nb,
                            Err(_) => {
                                unreachable!("overflow buckets are reserved before evacuating")
                            }
                        };
                        dst.i = 0;
                    }
                    Self::set_top(dst.b, dst.i, top);
                    // Copy the slots as they are: the key and elem bits, or their pointers.
                    ptr::copy_nonoverlapping(
                        self.key_slot(b, i),
                        self.key_slot(dst.b, dst.i),
                        l.keysize,
                    );
                    ptr::copy_nonoverlapping(
                        self.elem_slot(b, i),
                        self.elem_slot(dst.b, dst.i),
                        l.elemsize,
                    );
                    dst.i += 1;
                }
            }
            // SAFETY: intact chain.
            b = unsafe { self.overflow(b) };
        }
        let flags = Flags::from_bits_retain(*self.h.flags.get_mut());
        if !flags.contains(Flags::OLD_ITERATOR) && !self.shape.pointer_free() {
            // Go clears the head old bucket's keys, elems and overflow pointer (not the tophash)
            // so the GC can reclaim what they pointed to. The chain's heap buckets become
            // unreachable at this point, so free them now.
            let old_b = if same_size { self.h.B } else { self.h.B - 1 };
            // SAFETY: the old array has `nbuckets(old_b)` buckets; the chain is intact until
            // the memset below cuts it.
            unsafe {
                let n = self.l().nbuckets(old_b).unwrap_unchecked();
                self.free_chain_heap(b0, self.h.oldbuckets, n);
                ptr::write_bytes(b0.add(DATA_OFFSET), 0, l.bucketsize - DATA_OFFSET);
            }
        }
    }

    /// Go's `advanceEvacuationMark`: move `nevacuate` past evacuated buckets (checking at most
    /// 1024), and finish the grow when it reaches the end.
    pub(crate) fn advance_evacuation_mark(&mut self, newbit: usize) {
        self.h.nevacuate += 1;
        let stop = (self.h.nevacuate + 1024).min(newbit);
        while self.h.nevacuate != stop && {
            // SAFETY: nevacuate < stop <= newbit = number of old buckets (invariant 2).
            evacuated(unsafe { Self::top(self.bucket_at(self.h.oldbuckets, self.h.nevacuate), 0) })
        } {
            self.h.nevacuate += 1;
        }
        if self.h.nevacuate == newbit {
            self.release_old();
        }
    }

    /// The end of a grow: Go drops `oldbuckets` and `extra.oldoverflow` and clears
    /// `SAME_SIZE_GROW`; gomap frees what they held.
    fn release_old(&mut self) {
        let same_size = self.h.same_size_grow();
        let old_b = if same_size { self.h.B } else { self.h.B - 1 };
        let old = self.h.oldbuckets;
        // SAFETY: every old bucket is evacuated, so no live entry remains there; the old array
        // and its intact chains (heads zeroed by evacuate had their heap buckets freed then)
        // are referenced only by the header, which we clear now (or by an iteration that
        // deletes, which parks them until it ends).
        unsafe {
            let released =
                super::release::Released::new(core::ptr::NonNull::new_unchecked(old), old_b);
            if self.hold_old {
                debug_assert!(self.zombie.is_none());
                self.zombie = Some(released);
            } else {
                self.bury(released);
            }
            self.h.oldbuckets = ptr::null_mut();
            if !self.h.extra.is_null() {
                let e = self.h.extra;
                self.free_slice((*e).oldoverflow);
                (*e).oldoverflow = ptr::null_mut();
            }
        }
        *self.h.flags.get_mut() &= !Flags::SAME_SIZE_GROW.bits();
    }
}
