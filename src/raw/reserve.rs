//! Reservations for the fallible (`try_*`) operations, and rebuilding into a new array.
//!
//! A write may allocate at several points (the first bucket, overflow buckets while
//! evacuating, a new array when a grow starts, an overflow bucket for the new key, indirect
//! boxes, `extra` and overflow lists, a plan buffer for very long chains). To make
//! `insert_fallible` all-or-nothing, gomap first works out what the write will allocate, allocates
//! that into the map's reserve (memory that Go's memory does not point to), and only then runs
//! the write, which takes from the reserve and so cannot fail.
//!
//! The estimate is exact: it follows the write step by step. It hashes the keys of the chains
//! the write's grow work will evacuate, to know how they split between X and Y (so how many
//! overflow buckets the evacuation takes, and whether the new key's chain then has a free
//! slot); it counts the preallocated overflow buckets still unused, which cost no allocation;
//! and it reserves an overflow bucket for the key only when its chain will have no free slot.
//! Where the write itself is random (a NaN key's hash; Go's sampled `noverflow` count from
//! B = 16 on), it reserves for the outcome that needs the most.

use core::ptr;

use allocator_api2::alloc::Allocator;

use super::grow::overflow_for;
use super::{KeyOps, RawMap};
use crate::error::TryReserveError;
use crate::layout::*;
use crate::rand::RandSource;

/// How an old chain's live entries split between the X and Y halves of an evacuation:
/// `either` counts keys whose half is random (a NaN's hash is).
#[derive(Copy, Clone, Default, Debug)]
struct Split {
    x: usize,
    y: usize,
    either: usize,
}

impl Split {
    /// The fewest overflow buckets the evacuation takes.
    fn least_overflow(self) -> usize {
        overflow_for(self.x) + overflow_for(self.y)
    }
    /// The most overflow buckets the evacuation can take.
    fn most_overflow(self) -> usize {
        overflow_for(self.x + self.either) + overflow_for(self.y + self.either)
    }
    /// Whether the half (`y`) a new key goes to can end the evacuation with no free slot: its
    /// n entries fill whole buckets exactly (n a positive multiple of 8).
    fn may_fill(self, y: bool) -> bool {
        let base = if y { self.y } else { self.x };
        (base..=base + self.either).any(|n| n > 0 && n % BUCKET_CNT == 0)
    }
}

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
        let iterating =
            Flags::from_bits_retain(h.flags.load(core::sync::atomic::Ordering::Relaxed))
                .contains(Flags::ITERATOR);
        let mut heap = 0usize; // heap buckets that are not overflow buckets
        let mut cur_ovf = 0usize; // `new_overflow` calls on the current array
        let mut plan = 0usize; // buckets of the chains the write plans evacuations for
        let mut nov = (h.noverflow, h.noverflow); // least and most `noverflow` after grow work
        if h.buckets.is_null() {
            heap += 1; // Go's newobject(t.bucket): B stays 0
        }
        let bucket = hash as usize & bucket_mask(h.B);
        let mut growing_after = h.growing();
        // Whether the key's chain in the current array can be full when the key goes in.
        let mut key_chain_full = false;
        // Entries the grow work moves into current buckets: (bucket, most entries).
        let mut incoming = [(usize::MAX, 0usize); 4];
        if h.growing() {
            let (targets, finishes) = self.predict_grow_work(bucket);
            let newbit = (!h.same_size_grow()).then(|| h.noldbuckets());
            let mut key_split = None;
            let (mut least, mut most) = (0, 0);
            for (n, t) in targets.into_iter().enumerate() {
                let Some(t) = t else { continue };
                // SAFETY: t < noldbuckets is an unevacuated old bucket with an intact chain.
                let (sp, len) = unsafe {
                    let b0 = self.bucket_at(h.oldbuckets, t);
                    (self.split_chain(b0, newbit, iterating), self.chain_len(b0))
                };
                least += sp.least_overflow();
                most += sp.most_overflow();
                plan += len;
                incoming[2 * n] = (t, sp.x + sp.either);
                if let Some(nb) = newbit {
                    incoming[2 * n + 1] = (t + nb, sp.y + sp.either);
                }
                if n == 0 {
                    key_split = Some(sp);
                }
            }
            cur_ovf += most;
            nov = self.noverflow_after(nov, least, most);
            growing_after = !finishes;
            key_chain_full = match key_split {
                // The key's bucket gets its half of the chain evacuated first.
                Some(sp) => sp.may_fill(newbit.is_some_and(|nb| hash as usize & nb != 0)),
                // Evacuated before: the chain is as it is now.
                // SAFETY: `bucket` indexes the current array.
                None => unsafe { !self.chain_has_room(self.bucket_at(h.buckets, bucket)) },
            };
        } else if !h.buckets.is_null() {
            // SAFETY: `bucket` indexes the current array.
            key_chain_full = unsafe { !self.chain_has_room(self.bucket_at(h.buckets, bucket)) };
        }

        // A grow this write may start: its B, and the `new_overflow` calls on its array.
        let mut grow: Option<(u8, usize)> = None;
        if new_key {
            let overload = !growing_after && over_load_factor(h.count + 1, h.B);
            let may_grow = !growing_after && (overload || too_many_overflow_buckets(nov.1, h.B));
            let must_grow = !growing_after && (overload || too_many_overflow_buckets(nov.0, h.B));
            if may_grow {
                // hash_grow, then grow_work evacuates the current array's chain t1 = hash &
                // mask(B) and the next one from 0, into the new array; then the key goes into
                // its half of t1.
                let nb = h.B + overload as u8;
                let newbit = overload.then(|| bucket_shift(h.B));
                let t1 = bucket;
                let t2 = if t1 == 0 { 1 } else { 0 };
                let mut ovf = 0;
                let mut key_full = false;
                let mut chains = 0;
                // SAFETY: t1, t2 < 2^B index the current array, which exists (count + 1 > 8
                // or noverflow > 0). A grow clears ITERATOR, so NaN keys go by their hash.
                unsafe {
                    for t in [t1, t2] {
                        if t >= bucket_shift(h.B) {
                            continue;
                        }
                        let b0 = self.bucket_at(h.buckets, t);
                        let mut sp = self.split_chain(b0, newbit, false);
                        // Entries the finishing grow moves into this chain first: their half
                        // in a doubling grow is not known without hashing them again, so they
                        // count as either.
                        let moved_in: usize = incoming
                            .iter()
                            .filter(|&&(d, _)| d == t)
                            .map(|&(_, c)| c)
                            .sum();
                        if newbit.is_some() {
                            sp.either += moved_in;
                        } else {
                            sp.x += moved_in;
                        }
                        ovf += sp.most_overflow();
                        if t == t1 {
                            key_full =
                                sp.may_fill(newbit.is_some_and(|nb| hash as usize & nb != 0));
                        }
                        chains += self.chain_len(b0) + overflow_for(moved_in);
                    }
                }
                plan = plan.max(chains);
                grow = Some((nb, ovf + key_full as usize));
            }
            if !must_grow {
                // No grow (or not certainly one): the key goes into its current chain.
                cur_ovf += key_chain_full as usize;
            }
        }

        // Allocate into the reserve; none of this touches Go-visible memory.
        let pre_cur = self.prealloc_left();
        heap += cur_ovf.saturating_sub(pre_cur);
        let mut grow_ovf = 0;
        if let Some((nb, ovf)) = grow {
            grow_ovf = ovf;
            heap += ovf.saturating_sub(self.l().npreallocated(nb).unwrap_or(0));
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
        self.reserve_plan(plan)?;
        let prealloc = grow.is_some_and(|(nb, _)| self.l().npreallocated(nb).unwrap_or(0) > 0);
        let lists = self.shape.pointer_free() && cur_ovf + grow_ovf > 0;
        if self.h.extra.is_null() && (prealloc || lists) && self.spare_extra.is_null() {
            self.spare_extra = self
                .alloc_zeroed(core::alloc::Layout::new::<MapExtra>())?
                .cast();
        }
        if new_key && (self.l().indirect_key || self.l().indirect_elem) {
            self.reserve_boxes()?;
        }
        if self.shape.pointer_free() {
            let cap = cur_ovf.max(grow_ovf);
            let cur_list = if self.h.extra.is_null() {
                ptr::null_mut()
            } else {
                // SAFETY: `extra` is a valid MapExtra (invariant 6).
                unsafe { (*self.h.extra).overflow }
            };
            let wanted = (cur_ovf > 0 && cur_list.is_null()) as usize + (grow_ovf > 0) as usize;
            for i in 0..wanted {
                if self.spare_slices[i].is_null() {
                    let s = self.new_spare_slice(cap)?;
                    self.spare_slices[i] = s;
                } else {
                    // SAFETY: a spare slice is a valid, unlinked slice header.
                    unsafe { self.slice_reserve(self.spare_slices[i], cap)? };
                }
            }
            if cur_ovf > 0 && !cur_list.is_null() {
                // Last, because it is the only step that touches the map's own memory (the
                // list's backing array; its contents stay the same).
                // SAFETY: `cur_list` is the map's valid overflow list.
                unsafe { self.slice_reserve(cur_list, cur_ovf)? };
            }
        }
        Ok(())
    }

    /// `noverflow` after `least..=most` more `new_overflow` calls: exact below B = 16; from
    /// B = 16 on, Go counts each with probability 2^-(B-15), so any count up to the most.
    fn noverflow_after(&self, nov: (u16, u16), least: usize, most: usize) -> (u16, u16) {
        let add = |n: u16, k: usize| n.saturating_add(k.min(u16::MAX as usize) as u16);
        if self.h.B < 16 {
            (add(nov.0, least), add(nov.1, most))
        } else {
            (nov.0, add(nov.1, most))
        }
    }

    /// Whether the chain that starts at `b` has an empty slot for a new key.
    ///
    /// # Safety
    /// `b` must be a bucket of the current array with an intact chain.
    unsafe fn chain_has_room(&self, b: *mut u8) -> bool {
        let mut b = b;
        while !b.is_null() {
            // SAFETY: caller contract.
            unsafe {
                if super::group::first_empty(Self::tops(b)) < BUCKET_CNT {
                    return true;
                }
                b = self.overflow(b);
            }
        }
        false
    }

    /// How many preallocated overflow buckets of the current array are still unused.
    pub(crate) fn prealloc_left(&self) -> usize {
        let h = &self.h;
        if h.extra.is_null() || h.buckets.is_null() {
            return 0;
        }
        // SAFETY: `extra` is a valid MapExtra (invariant 6); `nextOverflow` is null or points
        // into the preallocated region of the current array (invariant 3).
        unsafe {
            let next = (*h.extra).nextOverflow;
            if next.is_null() {
                return 0;
            }
            let bs = self.l().bucketsize;
            let n = self.l().nbuckets(h.B).unwrap_unchecked();
            let end = h.buckets as usize + n * bs;
            (end - next as usize) / bs
        }
    }

    /// How the live entries of the chain at `b0` split between X and Y when a grow evacuates
    /// it (`newbit`: the doubling grow's new bit; `None` for a same-size grow, where all go to
    /// X). Hashes the keys, so it may run user code; reads only.
    ///
    /// # Safety
    /// `b0` must head an intact chain whose live slots hold initialized keys.
    unsafe fn split_chain(&self, b0: *mut u8, newbit: Option<usize>, iterating: bool) -> Split {
        let seed = self.h.hash0 as u64;
        let mut sp = Split::default();
        let mut b = b0;
        while !b.is_null() {
            for i in 0..BUCKET_CNT {
                // SAFETY: caller contract; a live slot holds a key.
                unsafe {
                    let top = Self::top(b, i);
                    if top < MIN_TOP_HASH {
                        continue;
                    }
                    let Some(newbit) = newbit else {
                        sp.x += 1;
                        continue;
                    };
                    let k = &*self.key_ptr(b, i);
                    if !self.shape.reflexive() && !self.shape.self_equal(k) {
                        // A NaN: with an iterator its old tophash picks the half (as in
                        // `plan_chain`); without, a fresh random hash does.
                        if iterating {
                            if top & 1 == 0 {
                                sp.x += 1;
                            } else {
                                sp.y += 1;
                            }
                        } else {
                            sp.either += 1;
                        }
                    } else if self.shape.hash(k, seed) as usize & newbit != 0 {
                        sp.y += 1;
                    } else {
                        sp.x += 1;
                    }
                }
            }
            // SAFETY: intact chain.
            b = unsafe { self.overflow(b) };
        }
        sp
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
    /// and `shrink_to_fit`). Finishes any grow in progress. On error, or when the hasher
    /// panics, the map is as it was.
    ///
    /// It copies before it switches. Everything fallible is allocated first. Then the header
    /// takes the new generation while the old one is kept aside intact, every live entry's key
    /// is hashed once and its slot bits are copied into the new array, and only when all are
    /// copied is the old generation freed (its entries moved, so nothing is dropped). If the
    /// hasher panics while copying, an unwind guard frees the new generation (its slots are
    /// copies, owned by nobody) and puts the old header and `extra` back.
    pub(crate) fn rebuild(&mut self, new_b: u8) -> Result<(), TryReserveError> {
        let count = self.h.count;
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

        // The header switches to the new generation; the old one is kept aside, intact but for
        // the contents of a shared `extra`, which are saved.
        let extra = if self.h.extra.is_null() {
            extra_new
        } else {
            self.h.extra
        };
        let saved_extra = if self.h.extra.is_null() {
            None
        } else {
            // SAFETY: a valid MapExtra (invariant 6); plain pointers, read as a copy.
            Some(unsafe { ptr::read(self.h.extra) })
        };
        let flags = *self.h.flags.get_mut() & !Flags::SAME_SIZE_GROW.bits();
        let new_h = Hmap {
            count,
            flags: core::sync::atomic::AtomicU8::new(flags),
            B: new_b,
            noverflow: 0,
            hash0: self.h.hash0,
            buckets: arr,
            oldbuckets: ptr::null_mut(),
            nevacuate: 0,
            extra,
        };
        if !extra.is_null() {
            // SAFETY: `extra` is a valid MapExtra, now the new generation's.
            unsafe {
                ptr::write(
                    extra,
                    MapExtra {
                        overflow: list,
                        oldoverflow: ptr::null_mut(),
                        nextOverflow: next,
                    },
                );
            }
        }
        let old_h = core::mem::replace(&mut self.h, new_h);
        let mut g = UndoRebuild {
            m: self,
            old_h,
            saved_extra,
            armed: true,
        };

        // The copy: no allocation can fail (reserved above); the hasher may panic.
        let seed = g.old_h.hash0 as u64;
        let l = g.m.l();
        let mut copied = 0usize;
        // SAFETY: `old_h` describes the old generations, which nothing changes while we read
        // them; each live slot's bits are copied into an empty slot of the new array (its
        // tophash is Go's for that key, as the seed is the same).
        unsafe {
            Self::walk_live(l, &g.old_h, |b, i| {
                let m = &mut *g.m;
                let hash = m.shape.hash(&*m.key_ptr(b, i), seed);
                let top = Self::top(b, i);
                let mut d = m.bucket_at(m.h.buckets, hash as usize & bucket_mask(new_b));
                let slot = loop {
                    let e = super::group::first_empty(Self::tops(d));
                    if e < BUCKET_CNT {
                        break e;
                    }
                    let o = m.overflow(d);
                    if o.is_null() {
                        d = match m.new_overflow(d) {
                            Ok(nb) => nb,
                            Err(_) => unreachable!("overflow buckets are reserved before copying"),
                        };
                        break 0;
                    }
                    d = o;
                };
                ptr::copy_nonoverlapping(m.key_slot(b, i), m.key_slot(d, slot), l.keysize);
                ptr::copy_nonoverlapping(m.elem_slot(b, i), m.elem_slot(d, slot), l.elemsize);
                Self::set_top(d, slot, top);
                copied += 1;
            });
        }
        debug_assert_eq!(copied, count);

        // Every entry has its copy: the old generation goes, without dropping anything.
        g.armed = false;
        let old = core::mem::replace(&mut g.old_h, Hmap::empty(0));
        let saved = g.saved_extra.take();
        drop(g);
        // SAFETY: `old` describes generations no header refers to any more, whose entries
        // now live in the new array; their chains are intact.
        unsafe {
            self.free_detached(&old);
            if let Some(e) = saved {
                self.free_slice(e.overflow);
                self.free_slice(e.oldoverflow);
            }
        }
        Ok(())
    }

    /// Frees the arrays and heap overflow buckets that header `h` describes (not `extra`),
    /// without dropping any entry.
    ///
    /// # Safety
    /// `h` must describe intact generations of this map that nothing else refers to, whose
    /// entries were moved out or are copies.
    unsafe fn free_detached(&self, h: &Hmap) {
        // SAFETY: caller contract (invariants 1-3 for `h`).
        unsafe {
            if !h.oldbuckets.is_null() {
                let ob = if h.same_size_grow() { h.B } else { h.B - 1 };
                let n = self.l().nbuckets(ob).unwrap_unchecked();
                self.free_heap_overflow(h.oldbuckets, n);
                self.free_array(h.oldbuckets, ob);
            }
            if !h.buckets.is_null() {
                let n = self.l().nbuckets(h.B).unwrap_unchecked();
                self.free_heap_overflow(h.buckets, n);
                self.free_array(h.buckets, h.B);
            }
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

/// Undoes a `rebuild` whose copy did not finish (the hasher panicked): frees the new
/// generation, whose slots are only copies, and restores the old header and `extra`.
struct UndoRebuild<'a, S: KeyOps, A: Allocator, R: RandSource> {
    m: &'a mut RawMap<S, A, R>,
    old_h: Hmap,
    saved_extra: Option<MapExtra>,
    armed: bool,
}

impl<S: KeyOps, A: Allocator, R: RandSource> Drop for UndoRebuild<'_, S, A, R> {
    fn drop(&mut self) {
        if !self.armed {
            return;
        }
        let m = &mut *self.m;
        // SAFETY: `m.h` describes the new generation built so far: its own array, heap
        // overflow buckets taken from the reserve, and its overflow list, all referenced only
        // by it; its slots are bit copies of entries the old generation still owns, so nothing
        // is dropped. `extra` is either the old generation's (whose saved contents go back) or
        // was allocated for the new one.
        unsafe {
            let h = core::mem::replace(&mut m.h, Hmap::empty(0));
            m.free_detached(&h);
            if !h.extra.is_null() {
                m.free_slice((*h.extra).overflow);
                match self.saved_extra.take() {
                    Some(e) => ptr::write(h.extra, e),
                    None => m.dealloc(h.extra.cast(), core::alloc::Layout::new::<MapExtra>()),
                }
            }
            m.h = core::mem::replace(&mut self.old_h, Hmap::empty(0));
        }
    }
}
