//! Reservations for the fallible (`try_*`) operations, and rebuilding into a new array.
//!
//! A write may allocate at several points (the first bucket, overflow buckets while
//! evacuating, a new array when a grow starts, an overflow bucket for the new key, indirect
//! boxes, `extra` and overflow lists). To make `try_insert` all-or-nothing, gomap first works
//! out an upper bound of what the write can need, allocates it into the map's reserve (memory
//! that Go's memory does not point to), and only then runs the write, which takes from the
//! reserve and so cannot fail.

use core::ptr;

use allocator_api2::alloc::Allocator;

use super::{KeyOps, RawMap};
use crate::error::TryReserveError;
use crate::layout::*;
use crate::rand::RandSource;

impl<S: KeyOps, A: Allocator, R: RandSource> RawMap<S, A, R> {
    /// Which old buckets `grow_work(bucket)` will evacuate, and whether the grow then finishes.
    /// Reads only.
    fn predict_grow_work(&self, bucket: usize) -> ([Option<usize>; 2], bool) {
        let h = &self.h;
        let newbit = h.noldbuckets();
        let mut marked = [usize::MAX; 2];
        let is_evac = |i: usize, marked: &[usize; 2]| {
            // SAFETY: callers pass i < newbit, a bucket of the old array (invariant 2).
            marked.contains(&i)
                || evacuated(unsafe { Self::top(self.bucket_at(h.oldbuckets, i), 0) })
        };
        let advance = |mut n: usize, marked: &[usize; 2]| {
            n += 1;
            let stop = (n + 1024).min(newbit);
            while n != stop && is_evac(n, marked) {
                n += 1;
            }
            n
        };
        let mut targets = [None, None];
        let mut nev = h.nevacuate;
        let t1 = bucket & h.oldbucketmask();
        if !is_evac(t1, &marked) {
            targets[0] = Some(t1);
        }
        marked[0] = t1;
        if t1 == nev {
            nev = advance(nev, &marked);
        }
        if nev == newbit {
            return (targets, true);
        }
        let t2 = nev;
        if !is_evac(t2, &marked) {
            targets[1] = Some(t2);
        }
        marked[1] = t2;
        nev = advance(nev, &marked);
        (targets, nev == newbit)
    }

    /// Sets aside everything one `assign` of a key with `hash` may allocate (`new_key`: the
    /// key is not in the map). On error nothing in the map has changed.
    pub(crate) fn reserve_assign(
        &mut self,
        hash: u64,
        new_key: bool,
    ) -> Result<(), TryReserveError> {
        let r = self.reserve_assign_inner(hash, new_key);
        if r.is_err() {
            self.free_reserve_extras();
            self.free_spare_array();
        }
        r
    }

    fn reserve_assign_inner(&mut self, hash: u64, new_key: bool) -> Result<(), TryReserveError> {
        let h = &self.h;
        let mut plain = 0usize; // heap buckets that are not overflow buckets
        let mut ovf_cur = 0usize; // overflow buckets added to the current array
        let mut ovf_new = 0usize; // overflow buckets added to an array a grow creates
        if h.buckets.is_null() {
            plain += 1;
        }
        let mut growing_after = h.growing();
        if h.growing() {
            let (targets, finishes) = self.predict_grow_work(hash as usize & bucket_mask(h.B));
            for t in targets.into_iter().flatten() {
                // SAFETY: t < noldbuckets, a bucket of the old array with an intact chain.
                ovf_cur += unsafe { self.chain_len(self.bucket_at(h.oldbuckets, t)) };
            }
            growing_after = !finishes;
        }
        let mut grow_b = None;
        if new_key && !growing_after {
            let nov_max = h
                .noverflow
                .saturating_add(ovf_cur.min(u16::MAX as usize) as u16);
            let overload = over_load_factor(h.count + 1, h.B);
            if overload || too_many_overflow_buckets(nov_max, h.B) {
                let nb = h.B + overload as u8;
                grow_b = Some(nb);
                // After hash_grow, grow_work evacuates (hash & mask(B)) and then 0 or 1 of the
                // array that is current now.
                let cur_b = h.B;
                let nold = bucket_shift(cur_b);
                let t1 = hash as usize & bucket_mask(cur_b);
                let t2 = if t1 == 0 { 1 } else { 0 };
                if !h.buckets.is_null() {
                    // SAFETY: t1, t2 < 2^B index the current array (when it exists).
                    unsafe {
                        ovf_new += self.chain_len(self.bucket_at(h.buckets, t1));
                        if t2 < nold {
                            ovf_new += self.chain_len(self.bucket_at(h.buckets, t2));
                        }
                    }
                }
            }
        }
        if new_key {
            if grow_b.is_some() {
                ovf_new += 1;
            } else {
                ovf_cur += 1;
            }
        }
        // Allocate into the reserve; none of this touches Go-visible memory.
        let mut heap = plain + ovf_cur + ovf_new;
        if let Some(nb) = grow_b {
            if nb == 0 {
                heap += 1; // a B = 0 "array" is one heap bucket
            } else if self.spare_array.map(|(_, b)| b) != Some(nb) {
                self.free_spare_array();
                let layout = self.array_layout(nb)?;
                let p = self.alloc_zeroed(layout)?;
                // SAFETY: `alloc_zeroed` never returns null.
                self.spare_array = Some((unsafe { core::ptr::NonNull::new_unchecked(p) }, nb));
            }
        }
        self.reserve_buckets(heap)?;
        let prealloc = grow_b.is_some_and(|nb| self.l().npreallocated(nb).unwrap_or(0) > 0);
        let lists = self.shape.pointer_free() && ovf_cur + ovf_new > 0;
        if self.h.extra.is_null() && (prealloc || lists) && self.spare_extra.is_null() {
            self.spare_extra = self
                .alloc_zeroed(core::alloc::Layout::new::<MapExtra>())?
                .cast();
        }
        if self.shape.pointer_free() {
            let cap = ovf_cur.max(ovf_new);
            let cur_list = if self.h.extra.is_null() {
                ptr::null_mut()
            } else {
                // SAFETY: `extra` is a valid MapExtra (invariant 6).
                unsafe { (*self.h.extra).overflow }
            };
            let mut wanted = 0;
            if ovf_cur > 0 && cur_list.is_null() {
                wanted += 1;
            }
            if ovf_new > 0 {
                wanted += 1;
            }
            for i in 0..wanted {
                if self.spare_slices[i].is_null() {
                    let s = self.new_spare_slice(cap)?;
                    self.spare_slices[i] = s;
                } else {
                    // SAFETY: a spare slice is a valid, unlinked slice header.
                    unsafe { self.slice_reserve(self.spare_slices[i], cap)? };
                }
            }
            if new_key && (self.l().indirect_key || self.l().indirect_elem) {
                self.reserve_boxes()?;
            }
            if ovf_cur > 0 && !cur_list.is_null() {
                // Last, because it is the only step that touches the map's own memory (the
                // list's backing array; its contents stay the same).
                // SAFETY: `cur_list` is the map's valid overflow list.
                unsafe { self.slice_reserve(cur_list, ovf_cur)? };
            }
        } else if new_key && (self.l().indirect_key || self.l().indirect_elem) {
            self.reserve_boxes()?;
        }
        Ok(())
    }

    fn reserve_boxes(&mut self) -> Result<(), TryReserveError> {
        if self.spare_boxes.0.is_null() && self.spare_boxes.1.is_null() {
            self.spare_boxes = self.alloc_indirect()?;
        }
        Ok(())
    }

    fn new_spare_slice(&mut self, cap: usize) -> Result<*mut GoSlice, TryReserveError> {
        let s = self
            .alloc_zeroed(core::alloc::Layout::new::<GoSlice>())?
            .cast::<GoSlice>();
        // SAFETY: `s` is a fresh zeroed (empty) slice header.
        if let Err(e) = unsafe { self.slice_reserve(s, cap) } {
            // SAFETY: `s` is unlinked and empty.
            unsafe { self.free_slice(s) };
            return Err(e);
        }
        Ok(s)
    }

    /// Makes sure the reserve holds at least `n` heap buckets.
    pub(crate) fn reserve_buckets(&mut self, n: usize) -> Result<(), TryReserveError> {
        while self.nspare < n {
            let b = self.alloc_zeroed(self.bucket_layout())?;
            // SAFETY: `b` is a fresh zeroed bucket; its first word links the reserve.
            unsafe { b.cast::<*mut u8>().write(self.spare) };
            self.spare = b;
            self.nspare += 1;
        }
        Ok(())
    }

    /// Moves every entry into a fresh array for `new_b` (not a Go operation: used by `reserve`
    /// and `shrink_to_fit`). Finishes any grow in progress. On error nothing has changed.
    pub(crate) fn rebuild(&mut self, new_b: u8) -> Result<(), TryReserveError> {
        let count = self.h.count;
        if self.shape.hash_may_panic() {
            // Hash everything once first, so a panicking hasher leaves the map as it was.
            let seed = self.h.hash0 as u64;
            // SAFETY: the closure only reads live keys.
            unsafe {
                self.for_each_live(|_, k, _| {
                    core::hint::black_box(self.shape.hash(k, seed));
                })
            };
        }
        // The fallible part: the array, an upper bound of overflow buckets (a chain of n
        // entries needs ceil(n/8) - 1 of them, so all chains need at most count/8), extra and
        // the overflow list.
        let (arr, next) = if count == 0 && new_b == 0 {
            (ptr::null_mut(), ptr::null_mut())
        } else {
            self.make_bucket_array(new_b)?
        };
        let bound = (count / BUCKET_CNT).saturating_sub(self.l().npreallocated(new_b).unwrap_or(0));
        let mut extra_new = ptr::null_mut();
        let mut list = ptr::null_mut();
        let r = (|| {
            self.reserve_buckets(bound)?;
            if self.h.extra.is_null()
                && (!next.is_null() || (self.shape.pointer_free() && count >= BUCKET_CNT))
            {
                extra_new = self
                    .alloc_zeroed(core::alloc::Layout::new::<MapExtra>())?
                    .cast::<MapExtra>();
            }
            if self.shape.pointer_free() && count >= BUCKET_CNT {
                list = self.new_spare_slice(count / BUCKET_CNT)?;
            }
            Ok(())
        })();
        if let Err(e) = r {
            // SAFETY: these were allocated above and are linked nowhere.
            unsafe {
                if !arr.is_null() {
                    self.free_array(arr, new_b);
                }
                if !extra_new.is_null() {
                    self.dealloc(extra_new.cast(), core::alloc::Layout::new::<MapExtra>());
                }
                self.free_slice(list);
            }
            return Err(e);
        }
        // The infallible part. Detach the old generations, install the new array, move.
        let old_h = Hmap {
            count,
            flags: core::sync::atomic::AtomicU8::new(*self.h.flags.get_mut()),
            B: self.h.B,
            noverflow: 0,
            hash0: self.h.hash0,
            buckets: self.h.buckets,
            oldbuckets: self.h.oldbuckets,
            nevacuate: self.h.nevacuate,
            extra: ptr::null_mut(),
        };
        let (old_list, old_oldlist) = if self.h.extra.is_null() {
            self.h.extra = extra_new;
            (ptr::null_mut(), ptr::null_mut())
        } else {
            // SAFETY: valid extra (invariant 6).
            unsafe {
                let e = self.h.extra;
                let lists = ((*e).overflow, (*e).oldoverflow);
                ptr::write_bytes(e, 0, 1);
                lists
            }
        };
        if !self.h.extra.is_null() {
            // SAFETY: valid extra.
            unsafe {
                (*self.h.extra).nextOverflow = next;
                (*self.h.extra).overflow = list;
            }
        }
        {
            let h = &mut self.h;
            h.B = new_b;
            h.buckets = arr;
            h.oldbuckets = ptr::null_mut();
            h.nevacuate = 0;
            h.noverflow = 0;
            *h.flags.get_mut() &= !Flags::SAME_SIZE_GROW.bits();
        }
        let seed = self.h.hash0 as u64;
        let mut moved = 0usize;
        // SAFETY: `old_h` describes the detached generations (still intact); each live slot is
        // moved exactly once into an empty slot of the new array, then the old memory is freed
        // without dropping anything.
        unsafe {
            Self::walk_live(self.l(), &old_h, |b, i| {
                let k = &*self.key_ptr(b, i);
                let hash = self.shape.hash(k, seed);
                let top = Self::top(b, i);
                let mut d = self.bucket_at(self.h.buckets, hash as usize & bucket_mask(new_b));
                let slot = loop {
                    let e = super::group::first_empty(Self::tops(d));
                    if e < BUCKET_CNT {
                        break e;
                    }
                    let o = self.overflow(d);
                    if o.is_null() {
                        d = match self.new_overflow(d) {
                            Ok(nb) => nb,
                            Err(_) => unreachable!("overflow buckets are reserved before moving"),
                        };
                        break 0;
                    }
                    d = o;
                };
                Self::set_top(d, slot, top);
                ptr::copy_nonoverlapping(
                    self.key_slot(b, i),
                    self.key_slot(d, slot),
                    self.l().keysize,
                );
                ptr::copy_nonoverlapping(
                    self.elem_slot(b, i),
                    self.elem_slot(d, slot),
                    self.l().elemsize,
                );
                moved += 1;
            });
            debug_assert_eq!(moved, count);
            // Free the detached generations.
            let old_b = old_h.B;
            if !old_h.oldbuckets.is_null() {
                let ob = if old_h.same_size_grow() {
                    old_b
                } else {
                    old_b - 1
                };
                let n = self.l().nbuckets(ob).unwrap_unchecked();
                self.free_heap_overflow(old_h.oldbuckets, bucket_shift(ob), n);
                self.free_array(old_h.oldbuckets, ob);
            }
            if !old_h.buckets.is_null() {
                let n = self.l().nbuckets(old_b).unwrap_unchecked();
                self.free_heap_overflow(old_h.buckets, bucket_shift(old_b), n);
                self.free_array(old_h.buckets, old_b);
            }
            self.free_slice(old_list);
            self.free_slice(old_oldlist);
        }
        Ok(())
    }

    /// Calls `f(bucket, slot, key, elem)`... for every live entry (current array, then the
    /// unevacuated old buckets).
    ///
    /// # Safety
    /// `f` must not change the map.
    unsafe fn for_each_live(&self, mut f: impl FnMut(*mut u8, &S::K, usize)) {
        // SAFETY: caller contract; `walk_live` visits live slots only.
        unsafe {
            Self::walk_live(self.l(), &self.h, |b, i| f(b, &*self.key_ptr(b, i), i));
        }
    }

    /// Visits every live slot described by header `h`.
    ///
    /// # Safety
    /// `h` must describe intact generations of this map's layout.
    unsafe fn walk_live(l: BucketLayout, h: &Hmap, mut f: impl FnMut(*mut u8, usize)) {
        // SAFETY: caller contract.
        unsafe {
            let gens = [
                (
                    h.buckets,
                    if h.buckets.is_null() {
                        0
                    } else {
                        bucket_shift(h.B)
                    },
                ),
                (
                    h.oldbuckets,
                    if h.oldbuckets.is_null() {
                        0
                    } else {
                        h.noldbuckets()
                    },
                ),
            ];
            for (array, nheads) in gens {
                for j in 0..nheads {
                    let mut b = array.add(j * l.bucketsize);
                    while !b.is_null() {
                        for i in 0..BUCKET_CNT {
                            if Self::top(b, i) >= MIN_TOP_HASH {
                                f(b, i);
                            }
                        }
                        b = b.add(l.overflow_offset()).cast::<*mut u8>().read();
                    }
                }
            }
        }
    }
}
