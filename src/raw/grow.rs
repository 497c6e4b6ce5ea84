//! Growth: Go's `hashGrow`, `growWork`, `evacuate` and `advanceEvacuationMark`.
//!
//! `hash_grow` only allocates the new array and moves the old one to `oldbuckets`; nothing is
//! copied. Every later write evacuates at most two old buckets (`grow_work`): the one its key
//! hashes to, and the one at `nevacuate`. When `nevacuate` reaches the number of old buckets,
//! the old array is released.

use core::mem::MaybeUninit;
use core::ptr;

use allocator_api2::alloc::Allocator;

use super::{group, prefetch_bucket, KeyOps, RawMap, PTR};
use crate::error::TryReserveError;
use crate::layout::*;
use crate::rand::RandSource;

/// An evacuation destination (Go's `evacDst`): the current bucket and the next free slot.
#[derive(Copy, Clone)]
struct EvacDst {
    b: *mut u8,
    i: usize,
}

/// Where the entries of one old bucket go, worked out by `plan_chain` before anything moves:
/// bit i of `live` is set when slot i holds an entry, and bit i of `y` when it goes to Y. A live slot keeps its tophash, except where bit i
/// of `over` is set (a NaN key moved while an iteration runs): then it takes `tops[i]`, which
/// is only written for those slots.
#[derive(Copy, Clone)]
pub(crate) struct BucketPlan {
    live: u8,
    y: u8,
    over: u8,
    tops: [MaybeUninit<u8>; BUCKET_CNT],
}

/// The slot of `mask` (a half's live slots in one old bucket) whose entry finds its
/// destination bucket full, given that the bucket already holds `filled` entries; `None` if
/// they all fit.
#[inline(always)]
fn overflow_slot(mask: u8, filled: usize) -> Option<u32> {
    if filled == 0 {
        return None; // an empty bucket takes all 8 slots of an old one
    }
    let room = (BUCKET_CNT - filled) as u32;
    if mask.count_ones() <= room {
        return None;
    }
    // The (room)-th set bit, counting from 0: drop the `room` lowest ones.
    let mut m = mask;
    for _ in 0..room {
        m &= m - 1;
    }
    Some(m.trailing_zeros())
}

/// Overflow buckets that `n` entries evacuated into an empty head bucket take.
pub(crate) const fn overflow_for(n: usize) -> usize {
    n.div_ceil(BUCKET_CNT).saturating_sub(1)
}

/// Chains of up to twice this many buckets in all (the two that one `grow_work` evacuates) are
/// planned on the stack; longer ones (only a very poor hash makes them) in a buffer the map
/// keeps while the grow lasts.
pub(crate) const PLAN_INLINE: usize = 16;

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
    /// `nevacuate`) to make progress; each is Go's `evacuate(t, h, oldbucket)`, which moves every
    /// entry of an old bucket's chain to the new array (X: same index, Y: index + newbit), marks
    /// the old slots, then advances `nevacuate`.
    ///
    /// The work runs in two phases, so that it is all-or-nothing by construction:
    /// 1. *Plan* (no Go-visible change): every live key of both chains is hashed once, and its
    ///    destination half (and its new tophash) is written into a plan (on the stack, or for
    ///    very long chains in a buffer allocated first). All user code (`Hash`, and `Eq` for
    ///    keys that may not equal themselves) runs here. Then exactly what the move needs is
    ///    set aside: the overflow buckets its X and Y halves fill beyond the unused
    ///    preallocated ones, and list room. A panic or an error leaves the map untouched,
    ///    `nevacuate` included.
    /// 2. *Move* (no user code, cannot fail): each entry is copied to its destination, then its
    ///    old slot is marked `EVACUATED_X`/`EVACUATED_Y`.
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
        let second = self.next_after_evacuating(first);
        // SAFETY: a grow is in progress; `first` and `second` index the old array.
        if unsafe { self.grow_work_lone(first, second) } {
            return Ok(());
        }
        // SAFETY: both index the old array (invariant 2).
        let (c1, c2) = unsafe {
            (
                self.unevacuated_len(first),
                second.map_or(0, |s| self.unevacuated_len(s)),
            )
        };
        self.reserve_plan(c1 + c2)?;
        let mut inline = [const { MaybeUninit::<BucketPlan>::uninit() }; 2 * PLAN_INLINE];
        let plan = if c1 + c2 <= inline.len() {
            inline.as_mut_ptr().cast::<BucketPlan>()
        } else {
            // `reserve_plan` made room for c1 + c2 buckets.
            self.plan_spill_ptr()
        };
        let newbit = self.h.noldbuckets();
        let same_size = self.h.same_size_grow();
        // SAFETY: the chains planned are unevacuated old chains (their live slots hold
        // initialized keys), and the plan has room for c1 + c2 buckets.
        let ovf = unsafe {
            let mut ovf = 0;
            if c1 > 0 {
                ovf += self.plan_chain(first, newbit, same_size, plan);
            }
            if let (Some(s), true) = (second, c2 > 0) {
                ovf += self.plan_chain(s, newbit, same_size, plan.add(c1));
            }
            ovf
        };
        self.reserve_evacuation(ovf)?;
        // SAFETY: destinations are inside the new array (oldbucket + newbit < 2^B for a
        // doubling grow) and are empty, because every write evacuates an old bucket before
        // touching its destinations; the plans still describe their chains, because moving one
        // chain does not change another.
        unsafe {
            if c1 > 0 {
                self.move_chain(first, newbit, same_size, plan);
            }
            if first == self.h.nevacuate {
                // Go's advanceEvacuationMark: `second` is where it stops.
                self.set_evacuation_mark(second.unwrap_or(newbit), newbit);
            }
            if let Some(s) = second {
                debug_assert_eq!(s, self.h.nevacuate);
                if c2 > 0 {
                    self.move_chain(s, newbit, same_size, plan.add(c1));
                }
                self.advance_evacuation_mark(newbit);
            }
        }
        if self.h.growing() {
            // The next write evacuates `nevacuate`: start loading it now.
            // SAFETY: while growing, nevacuate < noldbuckets indexes the old array.
            let next = unsafe { self.bucket_at(self.h.oldbuckets, self.h.nevacuate) };
            prefetch_bucket(next, self.l().bucketsize, true);
        }
        Ok(())
    }

    /// The common case of `grow_work`, without a plan buffer or reservations: each of the (at
    /// most two) old buckets to evacuate is either evacuated already or a lone bucket without
    /// overflow, and no NaN key needs a new tophash. Then each half of an old bucket fits the
    /// empty head bucket it goes to, nothing is allocated, and the plan is one Y mask per old
    /// bucket. Both masks are computed (all the user code: `Hash`) before anything moves, as
    /// in the general path. Returns false, having changed nothing, when the general path is
    /// needed.
    ///
    /// # Safety
    /// A grow must be in progress; `first` and `second` must index the old array, `second` be
    /// what `next_after_evacuating(first)` returned.
    #[inline(always)]
    unsafe fn grow_work_lone(&mut self, first: usize, second: Option<usize>) -> bool {
        let flags = Flags::from_bits_retain(*self.h.flags.get_mut());
        if !self.shape.reflexive() && flags.contains(Flags::ITERATOR) {
            return false; // a NaN key may need the old tophash's bit and a new tophash
        }
        let old = self.h.oldbuckets;
        // SAFETY: caller contract: both index the old array; an unevacuated head's overflow
        // word is intact.
        let ((b1, t1), (b2, t2)) = unsafe {
            let b1 = self.bucket_at(old, first);
            let t1 = Self::tops(b1);
            if !evacuated(t1 as u8) && !self.overflow(b1).is_null() {
                return false;
            }
            let b2 = match second {
                Some(s) => self.bucket_at(old, s),
                None => core::ptr::null_mut(),
            };
            // An absent second bucket reads as evacuated (`EVACUATED_EMPTY` in byte 0).
            let t2 = if b2.is_null() {
                EVACUATED_EMPTY as u64
            } else {
                Self::tops(b2)
            };
            if !evacuated(t2 as u8) && !self.overflow(b2).is_null() {
                return false;
            }
            ((b1, t1), (b2, t2))
        };
        let newbit = self.h.noldbuckets();
        let same_size = self.h.same_size_grow();
        // The plan: every live key hashed once, before anything moves.
        // SAFETY: an unevacuated bucket's live slots hold initialized keys.
        let (y1, y2) = unsafe {
            (
                self.y_mask(b1, t1, newbit, same_size),
                self.y_mask(b2, t2, newbit, same_size),
            )
        };
        // The move: no user code, nothing to allocate.
        // SAFETY: destinations of an unevacuated old bucket are empty buckets of the new array
        // (oldbucket + newbit < 2^B for a doubling grow).
        unsafe {
            if !evacuated(t1 as u8) {
                self.move_lone(b1, first, t1, y1, newbit, same_size);
            }
            if first == self.h.nevacuate {
                self.set_evacuation_mark(second.unwrap_or(newbit), newbit);
            }
            if let Some(s) = second {
                debug_assert_eq!(s, self.h.nevacuate);
                if !evacuated(t2 as u8) {
                    self.move_lone(b2, s, t2, y2, newbit, same_size);
                }
                self.advance_evacuation_mark(newbit);
            }
        }
        if self.h.growing() {
            // The next write evacuates `nevacuate`: start loading it now.
            // SAFETY: while growing, nevacuate < noldbuckets indexes the old array.
            let next = unsafe { self.bucket_at(self.h.oldbuckets, self.h.nevacuate) };
            prefetch_bucket(next, self.l().bucketsize, true);
        }
        true
    }

    /// The Y half of a lone old bucket (tophash word `tops`) as a bit per slot: the bit of
    /// each live key's hash that the doubled array adds. 0 for an evacuated bucket and for a
    /// same-size grow (everything stays at X, and Go hashes nothing).
    ///
    /// # Safety
    /// Unless `tops` says it is evacuated, `b` must be an old bucket whose live slots hold
    /// initialized keys.
    #[inline(always)]
    unsafe fn y_mask(&self, b: *mut u8, tops: u64, newbit: usize, same_size: bool) -> u8 {
        if same_size || evacuated(tops as u8) {
            return 0;
        }
        let live = group::live_bits(tops);
        debug_assert!(
            group::ge_bits(tops, EVACUATED_X) & !live == 0,
            "bad map state: an unevacuated bucket holds only live and empty slots"
        );
        let seed = self.h.hash0 as u64;
        let ybit = newbit.trailing_zeros();
        let mut y = 0u8;
        let mut m = live;
        while m != 0 {
            let i = m.trailing_zeros() as usize;
            m &= m - 1;
            // SAFETY: slot i is live, so it holds an initialized key.
            let hash = self.shape.hash(unsafe { &*self.key_ptr(b, i) }, seed);
            y |= (((hash >> ybit) & 1) as u8) << i;
        }
        y
    }

    /// Evacuates a lone old bucket (no overflow; tophash word `tops`, Y half `y`) into its
    /// empty X and Y head buckets, marks its slots, and clears it as Go does when it holds
    /// pointers.
    ///
    /// # Safety
    /// A grow must be in progress, `b` the unevacuated old bucket `oldbucket` with no overflow
    /// bucket, `y` a subset of its live slots, and its destinations empty.
    #[inline(always)]
    unsafe fn move_lone(
        &mut self,
        b: *mut u8,
        oldbucket: usize,
        tops: u64,
        y: u8,
        newbit: usize,
        same_size: bool,
    ) {
        let live = group::live_bits(tops);
        // SAFETY: caller contract; the new array holds 2^B buckets, 2^B = 2 * newbit for a
        // doubling grow; each half holds at most 8 entries, which fit an empty bucket.
        unsafe {
            let xb = self.bucket_at(self.h.buckets, oldbucket);
            let yb = if same_size {
                xb
            } else {
                self.bucket_at(self.h.buckets, oldbucket + newbit)
            };
            self.copy_into_empty(b, live & !y, xb);
            self.copy_into_empty(b, y, yb);
            let marks =
                group::LO * EVACUATED_EMPTY as u64 - 2 * group::spread(live) + group::spread(y);
            b.cast::<u64>().write(marks.to_le());
            let flags = Flags::from_bits_retain(*self.h.flags.get_mut());
            if !flags.contains(Flags::OLD_ITERATOR) && !self.shape.pointer_free() {
                // As in `move_chain`: Go clears the keys, elems and overflow word (here null).
                let l = self.l();
                ptr::write_bytes(b.add(DATA_OFFSET), 0, l.bucketsize - DATA_OFFSET);
            }
        }
    }

    /// Copies the live slots `mask` of bucket `b`, in slot order and with their tophashes, to
    /// slots 0, 1, ... of the empty bucket `d`. A mask that is a run from slot 0 (a bucket
    /// that never lost an entry, wholly in one half) is copied slot for slot without looking
    /// for the next live one, and a whole bucket's data at once.
    ///
    /// # Safety
    /// The slots of `mask` must be live slots of `b`; `d` must be an empty bucket of another
    /// array.
    #[inline(always)]
    unsafe fn copy_into_empty(&self, b: *mut u8, mut mask: u8, d: *mut u8) {
        let l = self.l();
        // SAFETY: caller contract; every offset is that of a slot (< 8) of a bucket.
        unsafe {
            if mask == 0xff {
                // Tophashes, keys and elems: everything but the overflow word.
                ptr::copy_nonoverlapping(b, d, l.bucketsize - PTR);
                return;
            }
            if mask & mask.wrapping_add(1) == 0 {
                let n = mask.count_ones() as usize;
                for j in 0..n {
                    Self::set_top(d, j, Self::top(b, j));
                    ptr::copy_nonoverlapping(self.key_slot(b, j), self.key_slot(d, j), l.keysize);
                    ptr::copy_nonoverlapping(
                        self.elem_slot(b, j),
                        self.elem_slot(d, j),
                        l.elemsize,
                    );
                }
                return;
            }
            let mut j = 0;
            while mask != 0 {
                let i = mask.trailing_zeros() as usize;
                mask &= mask - 1;
                Self::set_top(d, j, Self::top(b, i));
                ptr::copy_nonoverlapping(self.key_slot(b, i), self.key_slot(d, j), l.keysize);
                ptr::copy_nonoverlapping(self.elem_slot(b, i), self.elem_slot(d, j), l.elemsize);
                j += 1;
            }
        }
    }

    /// The old bucket that `grow_work` evacuates second, once `first` is evacuated: the
    /// `nevacuate` that `advance_evacuation_mark` would leave, or `None` if the grow would end.
    pub(crate) fn next_after_evacuating(&self, first: usize) -> Option<usize> {
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

    /// The number of buckets in old bucket `oldbucket`'s chain, or 0 if it is evacuated.
    ///
    /// # Safety
    /// A grow must be in progress and `oldbucket` must index the old array.
    pub(crate) unsafe fn unevacuated_len(&self, oldbucket: usize) -> usize {
        // SAFETY: caller contract; an unevacuated chain is intact.
        unsafe {
            let b0 = self.bucket_at(self.h.oldbuckets, oldbucket);
            if evacuated(Self::top(b0, 0)) {
                0
            } else {
                self.chain_len(b0)
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

    /// Sets aside what moving planned evacuations that take `ovf` overflow buckets needs: the
    /// heap buckets beyond the preallocated ones still unused and, for pointer-free buckets,
    /// room for all of them in the overflow list. Nothing Go-visible changes: a missing
    /// `extra` or list is allocated into the reserve, and only attached when an overflow
    /// bucket is really taken.
    pub(crate) fn reserve_evacuation(&mut self, ovf: usize) -> Result<(), TryReserveError> {
        if ovf == 0 {
            return Ok(());
        }
        self.reserve_buckets(ovf.saturating_sub(self.prealloc_left()))?;
        if self.shape.pointer_free() {
            self.reserve_list_room(ovf)?;
        }
        Ok(())
    }

    /// The plan phase of Go's `evacuate` for old bucket `oldbucket`: for each bucket j of its
    /// chain, `plan[j]` gets each live slot's new tophash and whether it goes to Y. Hashes
    /// every live key exactly once (none for a same-size grow, where everything goes to X).
    /// Reads only. Returns the number of overflow buckets the move will take: n entries
    /// evacuated into an empty head bucket fill ceil(n/8) buckets.
    ///
    /// # Safety
    /// A grow must be in progress, `oldbucket` must be an unevacuated old bucket (live slots
    /// hold initialized keys), and `plan` must have room for as many entries as its chain has
    /// buckets.
    #[inline(always)]
    unsafe fn plan_chain(
        &self,
        oldbucket: usize,
        newbit: usize,
        same_size: bool,
        plan: *mut BucketPlan,
    ) -> usize {
        // SAFETY: caller contract.
        let b0 = unsafe { self.bucket_at(self.h.oldbuckets, oldbucket) };
        let seed = self.h.hash0 as u64;
        let nan_rule = !self.shape.reflexive()
            && Flags::from_bits_retain(self.h.flags.load(core::sync::atomic::Ordering::Relaxed))
                .contains(Flags::ITERATOR);
        let (mut nx, mut ny) = (0, 0);
        // newbit is the old bucket count, a power of two: its bit of the hash picks Y.
        let ybit = newbit.trailing_zeros();
        let mut b = b0;
        let mut j = 0;
        while !b.is_null() {
            // SAFETY: `b` is a bucket of the chain.
            let tops = unsafe { Self::tops(b) };
            let live = group::live_bits(tops);
            debug_assert!(
                group::ge_bits(tops, EVACUATED_X) & !live == 0,
                "bad map state: an unevacuated bucket holds only live and empty slots"
            );
            let mut p = BucketPlan {
                live,
                y: 0,
                over: 0,
                tops: [MaybeUninit::uninit(); BUCKET_CNT],
            };
            if !same_size {
                let mut m = live;
                while m != 0 {
                    let i = m.trailing_zeros() as usize;
                    m &= m - 1;
                    // SAFETY: slot i is live, so it holds an initialized key.
                    let k = unsafe { &*self.key_ptr(b, i) };
                    let hash = self.shape.hash(k, seed);
                    if nan_rule && !self.shape.self_equal(k) {
                        // A NaN key: its hash cannot be reproduced, so the old tophash's low
                        // bit picks the half and the fresh hash gives the new tophash.
                        p.y |= ((tops >> (8 * i)) as u8 & 1) << i;
                        p.over |= 1 << i;
                        p.tops[i] = MaybeUninit::new(tophash(hash));
                    } else {
                        p.y |= (((hash >> ybit) & 1) as u8) << i;
                    }
                }
            }
            // SAFETY: j < the chain's length, for which the plan has room.
            unsafe { plan.add(j).write(p) };
            j += 1;
            // SAFETY: intact chain.
            b = unsafe { self.overflow(b) };
            if j > 1 || !b.is_null() {
                // A lone bucket's entries always fit X and Y's heads: count only for chains.
                ny += p.y.count_ones() as usize;
                nx += (live & !p.y).count_ones() as usize;
            }
        }
        overflow_for(nx) + overflow_for(ny)
    }

    /// The move phase of Go's `evacuate` for old bucket `oldbucket`: copies every live slot
    /// to the destination its plan names, then marks the old slot; cannot fail (overflow
    /// buckets were reserved) and runs no user code.
    ///
    /// # Safety
    /// A grow must be in progress, `oldbucket` an unevacuated old bucket whose destinations are
    /// empty, and `plan` `plan_chain`'s result for its chain.
    #[inline(always)]
    unsafe fn move_chain(
        &mut self,
        oldbucket: usize,
        newbit: usize,
        same_size: bool,
        plan: *const BucketPlan,
    ) {
        let l = self.l();
        // SAFETY: caller contract.
        let b0 = unsafe { self.bucket_at(self.h.oldbuckets, oldbucket) };
        // SAFETY: the new array holds 2^B buckets; for a doubling grow 2^B = 2 * newbit.
        let xy = unsafe {
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
        let [mut x, mut y] = xy;
        let mut b = b0;
        let mut j = 0;
        while !b.is_null() {
            // SAFETY: the plan holds an entry per bucket of the chain.
            let p = unsafe { plan.add(j).read() };
            j += 1;
            // SAFETY: `b` is a bucket of the old chain, unchanged since it was planned.
            let tops = unsafe { Self::tops(b) };
            let live = p.live;
            let (xm, ym) = (live & !p.y, p.y);
            // Each half takes at most one overflow bucket per old bucket (8 entries at most).
            // Go takes them in slot order as it meets the entry that finds its half full, so
            // both are linked first, in that order; then each half is copied in one pass.
            let sx = overflow_slot(xm, x.i);
            let sy = overflow_slot(ym, y.i);
            let (mut nx, mut ny) = (ptr::null_mut(), ptr::null_mut());
            // SAFETY: `x.b`/`y.b` are the last buckets of their destination chains; the
            // overflow buckets were set aside after planning, so taking them cannot fail.
            unsafe {
                let mut take = |d: &EvacDst| match self.new_overflow(d.b) {
                    Ok(nb) => nb,
                    Err(_) => unreachable!("overflow buckets are reserved before evacuating"),
                };
                match (sx, sy) {
                    (Some(a), Some(c)) if c < a => {
                        ny = take(&y);
                        nx = take(&x);
                    }
                    _ => {
                        if sx.is_some() {
                            nx = take(&x);
                        }
                        if sy.is_some() {
                            ny = take(&y);
                        }
                    }
                }
            }
            // SAFETY: the masks hold live slots of `b`; the destinations are empty slots of
            // the new array, and `nx`/`ny` take over exactly when their half is full.
            unsafe {
                self.place(b, xm, tops, &p, &mut x, nx);
                self.place(b, ym, tops, &p, &mut y, ny);
            }
            // Then every old slot is marked at once: a live one EVACUATED_X or EVACUATED_Y, an
            // empty one EVACUATED_EMPTY.
            let marks =
                group::LO * EVACUATED_EMPTY as u64 - 2 * group::spread(live) + group::spread(ym);
            // SAFETY: a bucket starts with its 8 tophash bytes and is 8-aligned.
            unsafe { b.cast::<u64>().write(marks.to_le()) };
            // SAFETY: intact chain.
            b = unsafe { self.overflow(b) };
        }
        let flags = Flags::from_bits_retain(*self.h.flags.get_mut());
        if !flags.contains(Flags::OLD_ITERATOR) && !self.shape.pointer_free() {
            // Go clears the head old bucket's keys, elems and overflow pointer (not the tophash)
            // so the GC can reclaim what they pointed to. The heap buckets that only the head
            // reached become unreachable now, so they are freed now; a preallocated bucket of
            // the old array in the chain keeps its own overflow word, and with it the rest of
            // the chain, until the old array is released.
            let old_b = if same_size { self.h.B } else { self.h.B - 1 };
            // SAFETY: the old array has `nbuckets(old_b)` buckets; the chain is intact until
            // the memset below cuts it.
            unsafe {
                let n = self.l().nbuckets(old_b).unwrap_unchecked();
                self.free_heap_run(b0, self.h.oldbuckets, n);
                ptr::write_bytes(b0.add(DATA_OFFSET), 0, l.bucketsize - DATA_OFFSET);
            }
        }
    }

    /// Copies the live slots `mask` of old bucket `b` (tophash word `tops`), in slot order, to
    /// the destination `d`, continuing in `next` once `d`'s bucket is full.
    ///
    /// # Safety
    /// The slots of `mask` must be live; `d` must name the next empty slot of its chain, and
    /// `next` must be the empty bucket linked behind it when the entries do not all fit.
    #[inline(always)]
    unsafe fn place(
        &self,
        b: *mut u8,
        mut mask: u8,
        tops: u64,
        p: &BucketPlan,
        d: &mut EvacDst,
        next: *mut u8,
    ) {
        let l = self.l();
        // The common case first: the half fits its bucket and keeps its tophashes.
        let simple = next.is_null() && p.over == 0;
        while mask != 0 {
            let i = mask.trailing_zeros() as usize;
            mask &= mask - 1;
            let top = if simple {
                (tops >> (8 * i)) as u8
            } else {
                if d.i == BUCKET_CNT {
                    d.b = next;
                    d.i = 0;
                }
                if p.over & (1 << i) != 0 {
                    // SAFETY: the plan wrote tops[i] for every bit of `over`.
                    unsafe { p.tops[i].assume_init() }
                } else {
                    (tops >> (8 * i)) as u8
                }
            };
            // SAFETY: caller contract. The slots are copied as they are: the key and elem
            // bits, or their pointers.
            unsafe {
                Self::set_top(d.b, d.i, top);
                ptr::copy_nonoverlapping(self.key_slot(b, i), self.key_slot(d.b, d.i), l.keysize);
                ptr::copy_nonoverlapping(
                    self.elem_slot(b, i),
                    self.elem_slot(d.b, d.i),
                    l.elemsize,
                );
            }
            d.i += 1;
        }
    }

    /// Sets `nevacuate` to `n`, as Go's `advanceEvacuationMark` computes it, and finishes the
    /// grow when it reaches the end (`newbit`, the number of old buckets).
    fn set_evacuation_mark(&mut self, n: usize, newbit: usize) {
        self.h.nevacuate = n;
        if n == newbit {
            self.release_old();
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
        self.set_evacuation_mark(self.h.nevacuate, newbit);
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
                // One iteration finishes at most one grow (its deletes start none), so a
                // parked array here belongs to an iteration that was leaked (a forgotten
                // `ExtractIf`): nothing reads it any more.
                if let Some(z) = self.zombie.take() {
                    self.bury(z);
                }
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
        self.free_plan();
    }
}
