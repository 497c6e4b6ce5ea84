//! Delete: Go's `mapdelete`, with `emptyOne` → `emptyRest` back-propagation.

use core::ptr;

use allocator_api2::alloc::Allocator;

use super::{group, KeyOps, RawMap, PTR};
use crate::error::TryReserveError;
use crate::layout::*;
use crate::rand::RandSource;

impl<S: KeyOps, A: Allocator, R: RandSource> RawMap<S, A, R> {
    /// Go's `mapdelete`: with `HASH_WRITING` set, do `grow_work` while growing, find the key,
    /// move the entry out, clear its bytes the way Go does, mark the slot `EMPTY_ONE`, turn a
    /// trailing run of `EMPTY_ONE` into `EMPTY_REST`, and reseed `hash0` when the map becomes
    /// empty.
    ///
    /// `take` receives the key and elem and must move them out or drop them.
    pub(crate) fn delete<T>(
        &mut self,
        hash: u64,
        mut eq: impl FnMut(&S::K) -> bool,
        take: impl FnOnce(*mut S::K, *mut S::V) -> T,
    ) -> Result<Option<T>, TryReserveError> {
        if self.h.count == 0 {
            return Ok(None);
        }
        let mut g = self.start_write();
        let bucket = hash as usize & bucket_mask(g.h.B);
        if g.h.growing() {
            g.grow_work(bucket)?;
        }
        let top = tophash(hash);
        // SAFETY: count > 0 so the current array exists (invariant 1); chains are intact; a slot
        // with tophash == top is live (invariant 4).
        unsafe {
            let borig = g.bucket_at(g.h.buckets, bucket);
            let mut b = borig;
            loop {
                let tops = Self::tops(b);
                // Exactly the slots whose tophash is `top`; none lies past an EMPTY_REST
                // (every slot from there on is EMPTY_REST), so Go's loop, which stops
                // there, sees the same ones.
                let mut cand = group::match_exact(tops, top);
                while cand != 0 {
                    let i = group::lowest(cand);
                    if eq(&*g.key_ptr(b, i)) {
                        let kv = g.take_slot(b, i, take);
                        g.clear_slot(b, i);
                        g.mark_deleted(borig, b, i);
                        g.h.count -= 1;
                        if g.h.count == 0 {
                            // Reseed, so an attacker cannot keep growing one bucket (issue 25237).
                            g.h.hash0 = g.rand.draw_hash0();
                        }
                        return Ok(Some(kv));
                    }
                    cand &= cand - 1;
                }
                if group::zero_bytes(tops) != 0 {
                    return Ok(None); // an EMPTY_REST: nothing further in the chain
                }
                b = g.overflow(b);
                if b.is_null() {
                    return Ok(None);
                }
            }
        }
    }

    /// The head of the chain a lookup of `hash` searches (`find`'s choice): the old bucket
    /// while it is not evacuated, else the current one. Null when the map has no buckets.
    pub(crate) fn chain_head(&self, hash: u64) -> *mut u8 {
        let h = &self.h;
        if h.buckets.is_null() {
            return ptr::null_mut();
        }
        // SAFETY: `hash & mask` indexes the current array (invariant 1), and while growing
        // `hash & oldmask` indexes the old one (invariant 2).
        unsafe {
            let mut m = bucket_mask(h.B);
            let b = self.bucket_at(h.buckets, hash as usize & m);
            if !h.oldbuckets.is_null() {
                if !h.same_size_grow() {
                    m >>= 1;
                }
                let oldb = self.bucket_at(h.oldbuckets, hash as usize & m);
                if !evacuated(Self::top(oldb, 0)) {
                    return oldb;
                }
            }
            b
        }
    }

    /// Go's `mapdelete` of an entry already found, at (b, i) of the chain that starts at
    /// `head`, for a key with `hash`: the grow work first (which may move the entry into the
    /// new array: it is followed there, see [`Self::locate`]), then the slot is emptied as
    /// `delete` empties it. The same bytes as `delete` with that key, without comparing keys.
    ///
    /// On error (the grow work's memory) the map is unchanged.
    ///
    /// # Safety
    /// (b, i) must be a live slot in the chain of `head` (as `chain_head(hash)` and `find`
    /// give them), the map unchanged since, and `hash` its key's hash.
    pub(crate) unsafe fn delete_found<T>(
        &mut self,
        hash: u64,
        head: *mut u8,
        b: *mut u8,
        i: usize,
        take: impl FnOnce(*mut S::K, *mut S::V) -> T,
    ) -> Result<T, TryReserveError> {
        /// Parks a grow's old array (if this write finishes the grow) until the entry is
        /// located, then hands it on; also on unwind.
        struct Hold<'a, S: KeyOps, A: Allocator, R: RandSource> {
            m: &'a mut RawMap<S, A, R>,
            was: bool,
        }
        impl<S: KeyOps, A: Allocator, R: RandSource> Drop for Hold<'_, S, A, R> {
            fn drop(&mut self) {
                self.m.hold_old = self.was;
                if !self.was {
                    self.m.free_zombie();
                }
            }
        }
        let was = self.hold_old;
        self.hold_old = true;
        let hold = Hold { m: self, was };
        let mut g = hold.m.start_write();
        let (mut head, mut b, mut i) = (head, b, i);
        if g.h.growing() {
            let bucket = hash as usize & bucket_mask(g.h.B);
            g.grow_work(bucket)?;
            // SAFETY: caller contract; the grow work only evacuated chains (the old array is
            // parked if the grow finished).
            match unsafe { g.locate(head, b, i) } {
                Some(p) => (head, b, i) = p,
                None => unreachable!("grow work moves entries, it does not drop them"),
            }
        }
        // SAFETY: (b, i) is the entry's live slot in the chain of `head`.
        unsafe {
            let kv = g.take_slot(b, i, take);
            g.clear_slot(b, i);
            g.mark_deleted(head, b, i);
            g.h.count -= 1;
            if g.h.count == 0 {
                g.h.hash0 = g.rand.draw_hash0();
            }
            Ok(kv)
        }
    }

    /// Deletes the entry at a known slot: for keys a lookup cannot find (a NaN's hash is
    /// random, so Go cannot delete it at all). No grow work, since the key's bucket is unknown.
    ///
    /// # Safety
    /// (b, i) must be a live slot in the chain that starts at `head`, in the current array or
    /// in an unevacuated old bucket.
    pub(crate) unsafe fn delete_at<T>(
        &mut self,
        head: *mut u8,
        b: *mut u8,
        i: usize,
        take: impl FnOnce(*mut S::K, *mut S::V) -> T,
    ) -> T {
        let mut g = self.start_write();
        // SAFETY: caller contract.
        unsafe {
            let kv = g.take_slot(b, i, take);
            g.clear_slot(b, i);
            g.mark_deleted(head, b, i);
            g.h.count -= 1;
            if g.h.count == 0 {
                g.h.hash0 = g.rand.draw_hash0();
            }
            kv
        }
    }

    /// Clears the bytes of a slot whose entry was moved out, as Go's `mapdelete` does: the
    /// elem is always zeroed (or its pointer nulled); a key is zeroed only if it holds
    /// pointers, and a Go string key (`faststr`, elem <= 128 bytes) loses only its data pointer.
    ///
    /// # Safety
    /// The slot's entry must have been moved out (`take_slot`).
    pub(crate) unsafe fn clear_slot(&self, b: *mut u8, i: usize) {
        let l = self.l();
        // SAFETY: slot i of bucket b; indirect slot pointers were already nulled by take_slot.
        unsafe {
            if !l.indirect_key {
                if self.shape.key_go_string() && l.elem_size <= MAX_ELEM_SIZE {
                    ptr::write_bytes(self.key_slot(b, i), 0, PTR);
                } else if self.shape.key_has_pointers() {
                    ptr::write_bytes(self.key_slot(b, i), 0, l.keysize);
                }
            }
            if !l.indirect_elem {
                ptr::write_bytes(self.elem_slot(b, i), 0, l.elemsize);
            }
        }
    }

    /// Marks slot `i` of `b` (in the chain that starts at `borig`) deleted: `EMPTY_ONE`, then,
    /// if nothing live follows it, `EMPTY_REST` back over the run of `EMPTY_ONE` before it.
    ///
    /// # Safety
    /// `b` must be in the chain of `borig` (current array, or an unevacuated old bucket).
    pub(crate) unsafe fn mark_deleted(&mut self, borig: *mut u8, b: *mut u8, i: usize) {
        // SAFETY: caller contract; chain pointers are intact.
        unsafe {
            Self::set_top(b, i, EMPTY_ONE);
            if i == BUCKET_CNT - 1 {
                let o = self.overflow(b);
                if !o.is_null() && Self::top(o, 0) != EMPTY_REST {
                    return;
                }
            } else if Self::top(b, i + 1) != EMPTY_REST {
                return;
            }
            let (mut b, mut i) = (b, i);
            loop {
                Self::set_top(b, i, EMPTY_REST);
                if i == 0 {
                    if b == borig {
                        break; // beginning of the initial bucket: done
                    }
                    // Find the previous bucket and continue at its last slot.
                    let c = b;
                    b = borig;
                    while self.overflow(b) != c {
                        b = self.overflow(b);
                    }
                    i = BUCKET_CNT - 1;
                } else {
                    i -= 1;
                }
                if Self::top(b, i) != EMPTY_ONE {
                    break;
                }
            }
        }
    }
}
