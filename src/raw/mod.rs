//! The unsafe runtime: Go 1.19's map algorithms on raw memory, under Go's names.
//!
//! A [`RawMap`] owns an [`Hmap`] header and the memory it points to. Every function here is one
//! step of Go's algorithm (`makemap`, `make_bucket_array`, `new_overflow`, `hash_grow`,
//! `grow_work`, `evacuate`, `advance_evacuation_mark`, `mapaccess`, `mapassign`, `mapdelete`,
//! `mapclear`, `mapiterinit`/`mapiternext`), written so that the header and the buckets hold
//! exactly the bytes Go's runtime would write.
//!
//! Go's garbage collector frees what a map drops: the old bucket array when a grow finishes,
//! overflow buckets that become unreachable, overflow lists. gomap frees the same memory at
//! the moment Go would make it unreachable, and keeps that bookkeeping outside the Go-visible
//! memory (it walks the overflow chains, which Go's memory already describes).
//!
//! # Invariants (the "map invariants" that SAFETY comments refer to)
//! 1. `h.buckets` is null only while `h.B == 0` and `h.count == 0`; otherwise it points to an
//!    allocation of `nbuckets(h.B) * bucketsize` bytes (one bucket for B = 0) from `alloc`,
//!    aligned to 8.
//! 2. `h.oldbuckets` is null, or (while growing) an allocation of `nbuckets(oldB)` buckets,
//!    where oldB = B - 1, or B for a same-size grow.
//! 3. Every overflow pointer is null or points to a bucket: one in the preallocated region of
//!    the array that owns the chain, or a heap bucket of `bucketsize` bytes from `alloc`.
//!    The last unused preallocated bucket's overflow word is the sentinel (`&buckets[0]`).
//! 4. A slot with tophash >= `MIN_TOP_HASH` in a bucket reachable from `h.buckets`, or from an
//!    old bucket that is not evacuated, holds an initialized key and elem (through a valid
//!    pointer to a separate allocation if indirect). Such a slot is owned by the map, and is
//!    owned exactly once: an entry is either in an unevacuated old bucket or in the new array.
//! 5. `h.count` is the number of such live slots.
//! 6. `h.extra` is null or a `MapExtra` allocation; its `overflow`/`oldoverflow` are null or
//!    `GoSlice` allocations whose `ptr` holds `cap` words.

mod access;
mod assign;
mod clear;
mod delete;
mod grow;
mod iter;
mod release;
mod reserve;
mod shape;

pub(crate) use assign::Slot;
pub(crate) use iter::RawIter;
pub(crate) use shape::{KeyOps, Shape, Typed};

use core::alloc::Layout;
use core::mem::size_of;
use core::ptr::{self, NonNull};

use allocator_api2::alloc::Allocator;

use crate::error::TryReserveError;
use crate::layout::*;
use crate::rand::RandSource;

const PTR: usize = size_of::<usize>();
const BUCKET_ALIGN: usize = 8;

/// SWAR helpers over the 8 tophash bytes of a bucket, read as one little-endian `u64`.
pub(crate) mod group {
    /// 0x01 in every byte.
    pub(crate) const LO: u64 = 0x0101_0101_0101_0101;
    const HI: u64 = 0x8080_8080_8080_8080;

    /// Bytes that are zero get their high bit set. The lowest set byte is exact; bytes above a
    /// zero byte may be false positives, so callers re-check candidate bytes.
    #[inline(always)]
    pub(crate) const fn zero_bytes(x: u64) -> u64 {
        x.wrapping_sub(LO) & !x & HI
    }
    /// Bytes equal to `b` get their high bit set, and no others: exact, so a candidate needs
    /// no re-check (five operations, against three for an inexact test plus a load and a
    /// compare per false candidate).
    #[inline(always)]
    pub(crate) const fn match_exact(tops: u64, b: u8) -> u64 {
        const LOW7: u64 = 0x7f7f_7f7f_7f7f_7f7f;
        let x = tops ^ (LO * b as u64);
        // A byte's high bit ends up set in `(x & 0x7f) + 0x7f | x` exactly when it is nonzero,
        // and the addition never carries into the next byte.
        !(((x & LOW7).wrapping_add(LOW7)) | x) & HI
    }
    /// Index of the first empty (`EMPTY_REST` or `EMPTY_ONE`) byte, or 8 if none. Exact.
    #[inline(always)]
    pub(crate) const fn first_empty(tops: u64) -> usize {
        let z = zero_bytes(tops & !LO);
        if z == 0 {
            8
        } else {
            (z.trailing_zeros() / 8) as usize
        }
    }
    /// A bit per byte (bit j for byte j) whose value is at least `MIN_TOP_HASH` (5): the
    /// slots of a bucket that hold a live entry. Exact.
    #[inline(always)]
    pub(crate) const fn live_bits(tops: u64) -> u8 {
        ge_bits(tops, crate::layout::MIN_TOP_HASH)
    }
    /// A bit per byte (bit j for byte j) whose value is at least `k` (1..=0x80). Exact.
    #[inline(always)]
    pub(crate) const fn ge_bits(tops: u64, k: u8) -> u8 {
        const LOW7: u64 = 0x7f7f_7f7f_7f7f_7f7f;
        // (b & 0x7f) + (0x80 - k) reaches 0x80 exactly when b & 0x7f >= k, and never carries
        // into the next byte (at most 0x7f + 0x7f); OR-ing b covers b >= 0x80.
        let add = LO * (0x80 - k as u64);
        let ge = ((tops & LOW7).wrapping_add(add) | tops) & HI;
        // Gather bit 7 of byte j to bit 56 + j: each partial product of the multiply lands on
        // its own bit, so nothing carries.
        (((ge >> 7).wrapping_mul(0x0102_0408_1020_4080)) >> 56) as u8
    }
    /// The byte-wise form of a bit mask: 0x01 in byte j for each bit j of `mask`.
    #[inline(always)]
    pub(crate) const fn spread(mask: u8) -> u64 {
        SPREAD[mask as usize]
    }
    const SPREAD: [u64; 256] = {
        let mut t = [0u64; 256];
        let mut m = 0;
        while m < 256 {
            let mut j = 0;
            while j < 8 {
                if m & (1 << j) != 0 {
                    t[m] |= 1 << (8 * j);
                }
                j += 1;
            }
            m += 1;
        }
        t
    };
    /// Index of the lowest candidate byte of a mask.
    #[inline(always)]
    pub(crate) const fn lowest(mask: u64) -> usize {
        (mask.trailing_zeros() / 8) as usize
    }
}

/// Hints the CPU to load a bucket's cache lines: all of them, or all but the first when the
/// caller is about to load that one anyway.
#[inline(always)]
pub(crate) fn prefetch_bucket(b: *mut u8, bucketsize: usize, first_line: bool) {
    // `wrapping_add`: the addresses lie in (or one line past) the bucket; only computed.
    if first_line {
        prefetch_line(b);
    }
    prefetch_line(b.wrapping_add(64));
    if bucketsize > 128 {
        prefetch_line(b.wrapping_add(128));
    }
}

/// Hints the CPU to load the cache line at `p` (for a bucket: its tophash bytes), x86-64
/// only; nothing elsewhere.
#[inline(always)]
#[allow(unused_variables)]
pub(crate) fn prefetch_line(p: *mut u8) {
    #[cfg(all(target_arch = "x86_64", not(miri)))]
    {
        use core::arch::x86_64::{_mm_prefetch, _MM_HINT_T0};
        // SAFETY: prefetching has no effect on memory and never faults, whatever the address.
        unsafe { _mm_prefetch::<_MM_HINT_T0>(p.cast::<i8>()) };
    }
}

/// The owner of a Go map's memory: the header plus everything it points to.
pub(crate) struct RawMap<S: Shape, A: Allocator, R: RandSource> {
    pub(crate) h: Hmap,
    /// The key and elem types (Go's `maptype`).
    pub(crate) shape: S,
    pub(crate) alloc: A,
    pub(crate) rand: R,
    /// Zeroed heap buckets set aside by a reservation, linked through their first word.
    /// Not Go-visible: a bucket leaves the list (re-zeroed) before Go's memory points to it.
    spare: *mut u8,
    nspare: usize,
    /// A bucket array set aside by a reservation for an imminent grow: (ptr, B).
    spare_array: Option<(NonNull<u8>, u8)>,
    /// A `MapExtra` set aside by a reservation.
    spare_extra: *mut MapExtra,
    /// `GoSlice`s (with backing capacity) set aside for overflow lists yet to be created.
    spare_slices: [*mut GoSlice; 2],
    /// Indirect key and elem boxes set aside for the next new slot (null when none).
    spare_boxes: (*mut u8, *mut u8),
    /// A buffer for planning the evacuation of a chain too long for the stack (see
    /// `grow::PLAN_INLINE`), with room for `plan_cap` buckets; kept while a grow lasts.
    plan_spill: *mut grow::BucketPlan,
    plan_cap: usize,
    /// While set (an iteration that deletes is running), a finished grow parks the old array
    /// in `zombie` instead of freeing it: the iteration may still be reading it, as Go's
    /// iterator keeps it alive for the GC.
    pub(crate) hold_old: bool,
    /// An old array (with its overflow chains) whose grow finished while `hold_old` was set.
    pub(crate) zombie: Option<release::Released>,
    /// A finished grow's old generation, freed a bounded piece per write (see `release`).
    graveyard: Option<release::Released>,
}

// SAFETY: a `RawMap` owns its keys and values (like `Box<[(K, V)]>`), its shape (the hasher),
// allocator and random source. Its raw pointers point only into memory it owns exclusively, so
// sending it to another thread is sound when every owned part may be sent. (`GoMap` adds the
// bounds on K and V: its shape `Typed<K, V, H>` is Send/Sync only if K, V and H are.)
unsafe impl<S: Shape + Send, A: Allocator + Send, R: RandSource + Send> Send for RawMap<S, A, R> {}
// SAFETY: through `&RawMap`, threads only read the map memory, except two things that are
// synchronized: `flags` is an `AtomicU8` updated with `fetch_or` (iteration), and the random
// source is shared as `&R`, which requires `R: Sync`. Keys and values are exposed as `&K`/`&V`,
// which requires `K: Sync`/`V: Sync`.
unsafe impl<S: Shape + Sync, A: Allocator + Sync, R: RandSource + Sync> Sync for RawMap<S, A, R> {}

/// Where a bucket pointer points, relative to an array.
#[inline(always)]
fn in_array(p: *mut u8, array: *mut u8, n: usize, bucketsize: usize) -> bool {
    let (p, a) = (p as usize, array as usize);
    p >= a && p < a + n * bucketsize
}

impl<S: Shape, A: Allocator, R: RandSource> RawMap<S, A, R> {
    /// The bucket layout (a constant for typed maps).
    #[inline(always)]
    pub(crate) fn l(&self) -> BucketLayout {
        self.shape.layout()
    }

    /// An empty map whose `hash0` is the first draw from `rand` (Go's `makemap_small`).
    pub(crate) fn new_empty(shape: S, alloc: A, rand: R) -> Self {
        let hash0 = rand.draw_hash0();
        Self::with_hash0(hash0, shape, alloc, rand)
    }

    /// An empty map with a given `hash0`, drawing nothing (so it can be made in a `const`).
    pub(crate) const fn with_hash0(hash0: u32, shape: S, alloc: A, rand: R) -> Self {
        RawMap {
            h: Hmap::empty(hash0),
            shape,
            alloc,
            rand,
            spare: ptr::null_mut(),
            nspare: 0,
            spare_array: None,
            spare_extra: ptr::null_mut(),
            spare_slices: [ptr::null_mut(); 2],
            spare_boxes: (ptr::null_mut(), ptr::null_mut()),
            plan_spill: ptr::null_mut(),
            plan_cap: 0,
            hold_old: false,
            zombie: None,
            graveyard: None,
        }
    }

    /// Go's `makemap(t, hint, h)`: draws `hash0`, picks B for the hint, and allocates the
    /// bucket array now if B > 0 (for B = 0 the single bucket is allocated by the first insert).
    pub(crate) fn makemap(
        hint: usize,
        shape: S,
        alloc: A,
        rand: R,
    ) -> Result<Self, TryReserveError> {
        let mut m = Self::new_empty(shape, alloc, rand);
        let hint = match hint.checked_mul(m.l().bucketsize) {
            Some(mem) if within_max_alloc(mem) => hint,
            _ => 0,
        };
        let b = b_for_hint(hint);
        if b != 0 {
            let (buckets, next) = m.make_bucket_array(b)?;
            if !next.is_null() {
                let extra = match m.new_extra() {
                    Ok(e) => e,
                    Err(e) => {
                        // SAFETY: `buckets` came from `make_bucket_array(b)` just above and is
                        // referenced by nothing else.
                        unsafe { m.free_array(buckets, b) };
                        return Err(e);
                    }
                };
                // SAFETY: `extra` is a fresh, initialized `MapExtra` allocation.
                unsafe { (*extra).nextOverflow = next };
                m.h.extra = extra;
            }
            m.h.B = b;
            m.h.buckets = buckets;
        }
        Ok(m)
    }

    // ----- bucket memory accessors -------------------------------------------------------

    /// Pointer to bucket `i` of `array`.
    ///
    /// # Safety
    /// `array` must point to an array of more than `i` buckets of this layout.
    #[inline(always)]
    pub(crate) unsafe fn bucket_at(&self, array: *mut u8, i: usize) -> *mut u8 {
        // SAFETY: the caller guarantees bucket `i` is inside the array allocation.
        unsafe { array.add(i * self.l().bucketsize) }
    }

    /// The 8 tophash bytes of bucket `b` as one little-endian word.
    ///
    /// # Safety
    /// `b` must point to a bucket (8-aligned, initialized tophash).
    #[inline(always)]
    pub(crate) unsafe fn tops(b: *mut u8) -> u64 {
        // SAFETY: a bucket starts with 8 initialized tophash bytes and is 8-aligned.
        u64::from_le(unsafe { b.cast::<u64>().read() })
    }

    /// Tophash byte `i` of bucket `b`.
    ///
    /// # Safety
    /// `b` must point to a bucket and `i < 8`.
    #[inline(always)]
    pub(crate) unsafe fn top(b: *mut u8, i: usize) -> u8 {
        debug_assert!(i < BUCKET_CNT);
        // SAFETY: tophash bytes 0..8 are the first bytes of the bucket.
        unsafe { *b.add(i) }
    }

    /// Sets tophash byte `i` of bucket `b`.
    ///
    /// # Safety
    /// `b` must point to a bucket the caller may write, and `i < 8`.
    #[inline(always)]
    pub(crate) unsafe fn set_top(b: *mut u8, i: usize, v: u8) {
        debug_assert!(i < BUCKET_CNT);
        // SAFETY: tophash bytes 0..8 are the first bytes of the bucket.
        unsafe { *b.add(i) = v }
    }

    /// The overflow pointer of bucket `b`.
    ///
    /// # Safety
    /// `b` must point to a bucket.
    #[inline(always)]
    pub(crate) unsafe fn overflow(&self, b: *mut u8) -> *mut u8 {
        // SAFETY: the overflow word is the last pointer-sized, pointer-aligned word of the bucket.
        unsafe { b.add(self.l().bucketsize - PTR).cast::<*mut u8>().read() }
    }

    /// Sets the overflow pointer of bucket `b`.
    ///
    /// # Safety
    /// `b` must point to a bucket the caller may write.
    #[inline(always)]
    pub(crate) unsafe fn set_overflow(&self, b: *mut u8, ovf: *mut u8) {
        // SAFETY: as in `overflow`.
        unsafe {
            b.add(self.l().bucketsize - PTR)
                .cast::<*mut u8>()
                .write(ovf)
        }
    }

    /// Address of key slot `i` (the key itself, or the pointer to it when indirect).
    ///
    /// # Safety
    /// `b` must point to a bucket and `i < 8`.
    #[inline(always)]
    pub(crate) unsafe fn key_slot(&self, b: *mut u8, i: usize) -> *mut u8 {
        // SAFETY: `key_offset(i)` for i < 8 lies inside the bucket.
        unsafe { b.add(self.l().key_offset(i)) }
    }

    /// Address of elem slot `i`.
    ///
    /// # Safety
    /// `b` must point to a bucket and `i < 8`.
    #[inline(always)]
    pub(crate) unsafe fn elem_slot(&self, b: *mut u8, i: usize) -> *mut u8 {
        // SAFETY: `elem_offset(i)` for i < 8 lies inside the bucket.
        unsafe { b.add(self.l().elem_offset(i)) }
    }

    /// Pointer to the key of slot `i`, following the indirection.
    ///
    /// # Safety
    /// `b` must point to a bucket, `i < 8`; if keys are indirect the slot must hold a valid
    /// pointer (a live or stale-but-unfreed slot).
    #[inline(always)]
    pub(crate) unsafe fn key_ptr(&self, b: *mut u8, i: usize) -> *mut S::K {
        // SAFETY: caller contract; the slot is aligned for K (or for a pointer if indirect).
        unsafe {
            let s = self.key_slot(b, i);
            let p = if self.l().indirect_key {
                s.cast::<*mut u8>().read()
            } else {
                s
            };
            self.shape.key_at(p)
        }
    }

    /// Pointer to the elem of slot `i`, following the indirection.
    ///
    /// # Safety
    /// As for [`Self::key_ptr`].
    #[inline(always)]
    pub(crate) unsafe fn elem_ptr(&self, b: *mut u8, i: usize) -> *mut S::V {
        // SAFETY: caller contract; the slot is aligned for V (or for a pointer if indirect).
        unsafe {
            let s = self.elem_slot(b, i);
            let p = if self.l().indirect_elem {
                s.cast::<*mut u8>().read()
            } else {
                s
            };
            self.shape.elem_at(p)
        }
    }

    // ----- allocation ---------------------------------------------------------------------

    fn alloc_zeroed(&self, layout: Layout) -> Result<*mut u8, TryReserveError> {
        match self.alloc.allocate_zeroed(layout) {
            Ok(p) => Ok(p.cast::<u8>().as_ptr()),
            Err(_) => Err(TryReserveError::alloc(layout)),
        }
    }

    fn alloc_uninit(&self, layout: Layout) -> Result<*mut u8, TryReserveError> {
        if layout.size() == 0 {
            // Zero-sized objects need no memory; a dangling, aligned pointer stands in.
            return Ok(layout.align() as *mut u8);
        }
        match self.alloc.allocate(layout) {
            Ok(p) => Ok(p.cast::<u8>().as_ptr()),
            Err(_) => Err(TryReserveError::alloc(layout)),
        }
    }

    /// # Safety
    /// `p` must have been returned by `alloc_zeroed`/`alloc_uninit` of this map with `layout`
    /// and not freed since.
    unsafe fn dealloc(&self, p: *mut u8, layout: Layout) {
        if layout.size() == 0 {
            return;
        }
        // SAFETY: caller contract; `p` is non-null because it came from the allocator.
        unsafe { self.alloc.deallocate(NonNull::new_unchecked(p), layout) }
    }

    fn bucket_layout(&self) -> Layout {
        // bucketsize is a multiple of 8 and at most a few KiB, so this cannot fail.
        match Layout::from_size_align(self.l().bucketsize, BUCKET_ALIGN) {
            Ok(l) => l,
            Err(_) => unreachable!(),
        }
    }

    fn array_layout(&self, b: u8) -> Result<Layout, TryReserveError> {
        let bytes = self
            .l()
            .array_bytes(b)
            .ok_or(TryReserveError::capacity_overflow())?;
        if bytes > isize::MAX as usize {
            return Err(TryReserveError::capacity_overflow());
        }
        Layout::from_size_align(bytes, BUCKET_ALIGN)
            .map_err(|_| TryReserveError::capacity_overflow())
    }

    /// Go's `newobject(t.bucket)`: one zeroed heap bucket, taken from the reserve if there is
    /// one.
    pub(crate) fn alloc_heap_bucket(&mut self) -> Result<*mut u8, TryReserveError> {
        if !self.spare.is_null() {
            let b = self.spare;
            // SAFETY: spare buckets are zeroed heap buckets linked through their first word.
            unsafe {
                self.spare = b.cast::<*mut u8>().read();
                b.cast::<*mut u8>().write(ptr::null_mut());
            }
            self.nspare -= 1;
            return Ok(b);
        }
        self.alloc_zeroed(self.bucket_layout())
    }

    /// Frees a heap bucket.
    ///
    /// # Safety
    /// `b` must be a heap bucket of this map that nothing references any more.
    pub(crate) unsafe fn free_heap_bucket(&self, b: *mut u8) {
        // SAFETY: caller contract; heap buckets are allocated with `bucket_layout()`.
        unsafe { self.dealloc(b, self.bucket_layout()) }
    }

    /// Go's `makeBucketArray(t, b, nil)`: a zeroed array of 2^b buckets, plus preallocated
    /// overflow buckets when b >= 4, whose last one carries the sentinel. Returns the array and
    /// the first preallocated bucket (null when there are none).
    pub(crate) fn make_bucket_array(
        &mut self,
        b: u8,
    ) -> Result<(*mut u8, *mut u8), TryReserveError> {
        let base = bucket_shift(b);
        let n = self
            .l()
            .nbuckets(b)
            .ok_or(TryReserveError::capacity_overflow())?;
        let buckets = match self.spare_array.take() {
            Some((p, sb)) if sb == b => p.as_ptr(),
            other => {
                self.spare_array = other;
                if b == 0 {
                    // One bucket: Go's `newobject(t.bucket)` is the same size.
                    self.alloc_heap_bucket()?
                } else {
                    self.alloc_zeroed(self.array_layout(b)?)?
                }
            }
        };
        // SAFETY: `buckets` holds `n` zeroed buckets.
        let next = unsafe { self.init_prealloc(buckets, base, n) };
        Ok((buckets, next))
    }

    /// Sets the sentinel of a (zeroed) array of `n` buckets of which `base` are regular, and
    /// returns the first preallocated bucket or null.
    ///
    /// # Safety
    /// `buckets` must point to `n` writable buckets, `base <= n`.
    unsafe fn init_prealloc(&self, buckets: *mut u8, base: usize, n: usize) -> *mut u8 {
        if base == n {
            return ptr::null_mut();
        }
        // SAFETY: base < n, so both buckets are inside the array.
        unsafe {
            let next = self.bucket_at(buckets, base);
            let last = self.bucket_at(buckets, n - 1);
            self.set_overflow(last, buckets);
            next
        }
    }

    /// Frees a bucket array allocated for `b` (not its heap overflow buckets).
    ///
    /// # Safety
    /// `array` must come from `make_bucket_array(b)` of this map and be referenced by nothing.
    pub(crate) unsafe fn free_array(&self, array: *mut u8, b: u8) {
        if b == 0 {
            // SAFETY: a B = 0 array is a single heap bucket.
            unsafe { self.free_heap_bucket(array) };
        } else if let Ok(layout) = self.array_layout(b) {
            // SAFETY: caller contract; the layout is the one it was allocated with.
            unsafe { self.dealloc(array, layout) };
        }
    }

    /// Calls `f` on every heap overflow bucket reachable from `array` (an array of `n`
    /// buckets), exactly once each: the run of heap buckets behind every bucket of the array,
    /// regular and preallocated alike, up to the next bucket of the array. A heap bucket has
    /// exactly one predecessor, so walking from every bucket of the array and stopping at the
    /// next one of the array reaches each once, including the heap buckets that only a
    /// preallocated bucket still reaches after `evacuate` cut its chain's head. `f` may free
    /// the bucket it is given.
    ///
    /// # Safety
    /// The chains must be intact (invariant 3).
    pub(crate) unsafe fn for_each_heap_overflow(
        &self,
        array: *mut u8,
        from: usize,
        to: usize,
        n: usize,
        mut f: impl FnMut(*mut u8),
    ) {
        let bs = self.l().bucketsize;
        for i in from..to {
            // SAFETY: i < to <= n, so bucket i is in the array; chains are intact.
            unsafe {
                let mut b = self.overflow(self.bucket_at(array, i));
                while !b.is_null() && !in_array(b, array, n, bs) {
                    let next = self.overflow(b);
                    f(b);
                    b = next;
                }
            }
        }
    }

    /// Frees every heap overflow bucket reachable from `array` (an array of `n` buckets); see
    /// [`Self::for_each_heap_overflow`]. Buckets inside the array are left alone.
    ///
    /// # Safety
    /// The chains must be intact (invariant 3) and nothing may use the freed buckets after.
    pub(crate) unsafe fn free_heap_overflow(&self, array: *mut u8, n: usize) {
        // SAFETY: caller contract; each heap bucket is visited once, after its successor was
        // read.
        unsafe { self.for_each_heap_overflow(array, 0, n, n, |b| self.free_heap_bucket(b)) }
    }

    /// Frees the run of heap buckets chained right behind bucket `head` of `array` (`n`
    /// buckets), up to the first bucket of the array or the end of the chain. Evacuation uses
    /// it when it cuts a head's overflow word: that run becomes unreachable, and the rest of
    /// the chain stays reachable through the preallocated bucket that starts it.
    ///
    /// # Safety
    /// The chain behind `head` must be intact, and nothing may use the freed buckets after.
    pub(crate) unsafe fn free_heap_run(&self, head: *mut u8, array: *mut u8, n: usize) {
        let bs = self.l().bucketsize;
        // SAFETY: caller contract: the chain behind `head` is intact.
        unsafe {
            let mut b = self.overflow(head);
            while !b.is_null() && !in_array(b, array, n, bs) {
                let next = self.overflow(b);
                self.free_heap_bucket(b);
                b = next;
            }
        }
    }

    /// A zeroed `MapExtra` (Go's `new(mapextra)`), from the reserve if there is one.
    pub(crate) fn new_extra(&mut self) -> Result<*mut MapExtra, TryReserveError> {
        if !self.spare_extra.is_null() {
            return Ok(core::mem::replace(&mut self.spare_extra, ptr::null_mut()));
        }
        Ok(self
            .alloc_zeroed(Layout::new::<MapExtra>())?
            .cast::<MapExtra>())
    }

    /// Frees a `GoSlice` header and its backing array.
    ///
    /// # Safety
    /// `s` must be a slice allocated by this map and referenced by nothing.
    pub(crate) unsafe fn free_slice(&self, s: *mut GoSlice) {
        if s.is_null() {
            return;
        }
        // SAFETY: caller contract; `ptr` holds `cap` words (invariant 6).
        unsafe {
            let cap = (*s).cap;
            if cap != 0 {
                self.dealloc(
                    (*s).ptr.cast::<u8>(),
                    Layout::array::<*mut u8>(cap).unwrap_unchecked(),
                );
            }
            self.dealloc(s.cast::<u8>(), Layout::new::<GoSlice>());
        }
    }

    /// A new, empty `GoSlice` header (Go's `new([]*bmap)`), from the reserve if there is one.
    fn new_slice(&mut self) -> Result<*mut GoSlice, TryReserveError> {
        for s in &mut self.spare_slices {
            if !s.is_null() {
                return Ok(core::mem::replace(s, ptr::null_mut()));
            }
        }
        Ok(self
            .alloc_zeroed(Layout::new::<GoSlice>())?
            .cast::<GoSlice>())
    }

    /// Makes room for `additional` more words in slice `s` (Go's `append` growth, doubling).
    ///
    /// # Safety
    /// `s` must be a slice header of this map.
    unsafe fn slice_reserve(
        &self,
        s: *mut GoSlice,
        additional: usize,
    ) -> Result<(), TryReserveError> {
        // SAFETY: caller contract (invariant 6).
        unsafe {
            let (len, cap) = ((*s).len, (*s).cap);
            let need = len
                .checked_add(additional)
                .ok_or(TryReserveError::capacity_overflow())?;
            if need <= cap {
                return Ok(());
            }
            let new_cap = need.max(cap.saturating_mul(2)).max(1);
            let layout = Layout::array::<*mut u8>(new_cap)
                .map_err(|_| TryReserveError::capacity_overflow())?;
            let p = self.alloc_uninit(layout)?.cast::<*mut u8>();
            if len != 0 {
                ptr::copy_nonoverlapping((*s).ptr, p, len);
            }
            if cap != 0 {
                self.dealloc(
                    (*s).ptr.cast::<u8>(),
                    Layout::array::<*mut u8>(cap).unwrap_unchecked(),
                );
            }
            (*s).ptr = p;
            (*s).cap = new_cap;
            Ok(())
        }
    }

    /// Appends `b` to slice `s`, which must have room.
    ///
    /// # Safety
    /// `s` must be a slice header of this map with `len < cap`.
    unsafe fn slice_push(s: *mut GoSlice, b: *mut u8) {
        // SAFETY: caller contract.
        unsafe {
            debug_assert!((*s).len < (*s).cap);
            (*s).ptr.add((*s).len).write(b);
            (*s).len += 1;
        }
    }

    /// Go's `incrnoverflow`: exact below B = 16, then counted with probability 2^-(B-15).
    pub(crate) fn incr_noverflow(&mut self) {
        if self.h.B < 16 {
            self.h.noverflow = self.h.noverflow.wrapping_add(1);
            return;
        }
        let mask = (1u32 << (self.h.B - 15)) - 1;
        if self.rand.fastrand() & mask == 0 {
            self.h.noverflow = self.h.noverflow.wrapping_add(1);
        }
    }

    /// Allocates the indirect boxes for a new slot (Go's `newobject(t.key)`/`newobject(t.elem)`),
    /// before anything is written. Returns (key box, elem box), null where the slot is inline.
    fn alloc_indirect(&mut self) -> Result<(*mut u8, *mut u8), TryReserveError> {
        if !self.l().indirect_key && !self.l().indirect_elem {
            return Ok((ptr::null_mut(), ptr::null_mut()));
        }
        let spare = core::mem::replace(&mut self.spare_boxes, (ptr::null_mut(), ptr::null_mut()));
        if !spare.0.is_null() || !spare.1.is_null() {
            return Ok(spare);
        }
        let kb = if self.l().indirect_key {
            self.alloc_uninit(self.shape.key_box())?
        } else {
            ptr::null_mut()
        };
        let vb = if self.l().indirect_elem {
            match self.alloc_uninit(self.shape.elem_box()) {
                Ok(p) => p,
                Err(e) => {
                    if !kb.is_null() {
                        // SAFETY: `kb` was allocated just above with this layout.
                        unsafe { self.dealloc(kb.cast(), self.shape.key_box()) };
                    }
                    return Err(e);
                }
            }
        } else {
            ptr::null_mut()
        };
        Ok((kb, vb))
    }

    /// Drops every live entry (setting each slot's tophash to `EMPTY_ONE` first, so a panic in
    /// a destructor never leads to a second drop) and frees indirect boxes.
    ///
    /// # Safety
    /// The map invariants must hold. Afterwards `count` is stale and the caller must reset or
    /// free the map.
    unsafe fn drop_entries(&mut self) {
        if !self.shape.needs_drop() && !self.l().indirect_key && !self.l().indirect_elem {
            return;
        }
        // A guard that keeps dropping if a destructor panics (a second panic aborts, as in std).
        struct Guard<'a, S: Shape, A: Allocator, R: RandSource>(&'a mut RawMap<S, A, R>);
        impl<S: Shape, A: Allocator, R: RandSource> Drop for Guard<'_, S, A, R> {
            fn drop(&mut self) {
                // SAFETY: slots already dropped were marked EMPTY_ONE; the rest are live.
                unsafe { self.0.drop_entries_inner() }
            }
        }
        let g = Guard(self);
        // SAFETY: the map invariants hold (caller contract).
        unsafe { g.0.drop_entries_inner() };
        core::mem::forget(g);
    }

    /// # Safety
    /// See [`Self::drop_entries`].
    unsafe fn drop_entries_inner(&mut self) {
        let h = &self.h;
        if h.buckets.is_null() {
            return;
        }
        let nnew = bucket_shift(h.B);
        let (old, nold) = if h.oldbuckets.is_null() {
            (ptr::null_mut(), 0)
        } else {
            (h.oldbuckets, h.noldbuckets())
        };
        let buckets = h.buckets;
        // SAFETY: the heads are inside their arrays; chains are intact (invariant 3); live slots
        // are initialized and owned once (invariant 4). Old buckets that were evacuated hold no
        // live slots (their states are 2..=4).
        unsafe {
            for (array, nheads) in [(buckets, nnew), (old, nold)] {
                for i in 0..nheads {
                    let mut b = self.bucket_at(array, i);
                    while !b.is_null() {
                        for s in 0..BUCKET_CNT {
                            if Self::top(b, s) >= MIN_TOP_HASH {
                                Self::set_top(b, s, EMPTY_ONE);
                                self.take_slot(b, s, |k, v| self.shape.drop_entry(k, v));
                            }
                        }
                        b = self.overflow(b);
                    }
                }
            }
        }
    }

    /// Hands the key and elem of slot `i` of `b` to `take` (which moves them out or drops
    /// them), then frees their boxes if indirect (also if `take` panics) and nulls the slot
    /// pointers. Does not touch the tophash or the count.
    ///
    /// # Safety
    /// The slot must be live, and `take` must consume both (afterwards the slot is empty).
    pub(crate) unsafe fn take_slot<T>(
        &self,
        b: *mut u8,
        i: usize,
        take: impl FnOnce(*mut S::K, *mut S::V) -> T,
    ) -> T {
        struct FreeBoxes<'a, S: Shape, A: Allocator, R: RandSource> {
            m: &'a RawMap<S, A, R>,
            kbox: *mut u8,
            ebox: *mut u8,
        }
        impl<S: Shape, A: Allocator, R: RandSource> Drop for FreeBoxes<'_, S, A, R> {
            fn drop(&mut self) {
                // SAFETY: the boxes were unlinked from their slot; their contents were moved
                // out or dropped by `take`.
                unsafe { self.m.free_indirect(self.kbox, self.ebox) }
            }
        }
        let l = self.l();
        // SAFETY: caller contract: the slot holds an initialized K and V (through valid boxes
        // if indirect); we unlink the boxes, give the entry to `take`, then free the boxes.
        unsafe {
            let ks = self.key_slot(b, i);
            let es = self.elem_slot(b, i);
            let mut g = FreeBoxes {
                m: self,
                kbox: ptr::null_mut(),
                ebox: ptr::null_mut(),
            };
            if l.indirect_key {
                g.kbox = ks.cast::<*mut u8>().read();
                ks.cast::<*mut u8>().write(ptr::null_mut());
            }
            if l.indirect_elem {
                g.ebox = es.cast::<*mut u8>().read();
                es.cast::<*mut u8>().write(ptr::null_mut());
            }
            let kp = self.shape.key_at(if l.indirect_key { g.kbox } else { ks });
            let vp = self
                .shape
                .elem_at(if l.indirect_elem { g.ebox } else { es });
            take(kp, vp)
        }
    }

    /// Frees all memory (entries must already be dropped or moved out): heap overflow buckets,
    /// arrays, overflow lists, extra, and the reserve. Leaves the header empty.
    ///
    /// # Safety
    /// No live entries may remain that still need dropping; nothing may use the memory after.
    pub(crate) unsafe fn free_all(&mut self) {
        // SAFETY: the header describes the arrays and chains (invariants 1-3, 6).
        unsafe {
            self.free_generations();
            if !self.h.extra.is_null() {
                let e = self.h.extra;
                self.free_slice((*e).overflow);
                self.free_slice((*e).oldoverflow);
                self.dealloc(e.cast(), Layout::new::<MapExtra>());
                self.h.extra = ptr::null_mut();
            }
            self.free_reserve();
        }
        if let Some(z) = self.zombie.take() {
            self.free_released(z);
        }
        self.empty_graveyard();
        self.h.buckets = ptr::null_mut();
        self.h.oldbuckets = ptr::null_mut();
    }

    /// Frees the current and old arrays with their heap overflow buckets (not `extra`).
    ///
    /// # Safety
    /// As for [`Self::free_all`].
    unsafe fn free_generations(&mut self) {
        let h = &self.h;
        // SAFETY: invariants 1-3.
        unsafe {
            if !h.oldbuckets.is_null() {
                let old_b = if h.same_size_grow() { h.B } else { h.B - 1 };
                let n = self.l().nbuckets(old_b).unwrap_unchecked();
                self.free_heap_overflow(h.oldbuckets, n);
                self.free_array(h.oldbuckets, old_b);
            }
            if !h.buckets.is_null() {
                let n = self.l().nbuckets(h.B).unwrap_unchecked();
                self.free_heap_overflow(h.buckets, n);
                self.free_array(h.buckets, h.B);
            }
        }
    }

    /// Hands a parked old array (see `hold_old`) to the graveyard, now that no iteration
    /// reads it.
    pub(crate) fn free_zombie(&mut self) {
        if let Some(z) = self.zombie.take() {
            self.bury(z);
        }
    }

    /// Frees everything a reservation set aside.
    pub(crate) fn free_reserve(&mut self) {
        while !self.spare.is_null() {
            let b = self.spare;
            // SAFETY: spare buckets are heap buckets linked through their first word, owned
            // only by the reserve.
            unsafe {
                self.spare = b.cast::<*mut u8>().read();
                self.free_heap_bucket(b);
            }
        }
        self.nspare = 0;
        self.free_spare_array();
        if !self.spare_extra.is_null() {
            // SAFETY: the spare extra is owned only by the reserve.
            unsafe { self.dealloc(self.spare_extra.cast(), Layout::new::<MapExtra>()) };
            self.spare_extra = ptr::null_mut();
        }
        self.free_reserve_extras();
        self.free_plan();
    }

    /// Makes sure an evacuation plan for chains of `nbuckets` buckets in all has room: on the
    /// stack, or in the map's plan buffer.
    pub(crate) fn reserve_plan(&mut self, nbuckets: usize) -> Result<(), TryReserveError> {
        if nbuckets <= 2 * grow::PLAN_INLINE || nbuckets <= self.plan_cap {
            return Ok(());
        }
        let layout = Layout::array::<grow::BucketPlan>(nbuckets)
            .map_err(|_| TryReserveError::capacity_overflow())?;
        let p = self.alloc_uninit(layout)?.cast::<grow::BucketPlan>();
        self.free_plan();
        self.plan_spill = p;
        self.plan_cap = nbuckets;
        Ok(())
    }

    /// The plan buffer that `reserve_plan` made room in.
    pub(crate) fn plan_spill_ptr(&self) -> *mut grow::BucketPlan {
        debug_assert!(!self.plan_spill.is_null());
        self.plan_spill
    }

    /// Frees the plan buffer, if any.
    pub(crate) fn free_plan(&mut self) {
        if !self.plan_spill.is_null() {
            // SAFETY: the buffer was allocated by `reserve_plan` with this layout and holds
            // only plain data.
            unsafe {
                self.dealloc(
                    self.plan_spill.cast(),
                    Layout::array::<grow::BucketPlan>(self.plan_cap).unwrap_unchecked(),
                );
            }
            self.plan_spill = ptr::null_mut();
            self.plan_cap = 0;
        }
    }

    /// Frees what a reservation set aside other than heap buckets: the array, extra, slices
    /// and boxes.
    pub(crate) fn free_reserve_extras(&mut self) {
        for i in 0..self.spare_slices.len() {
            let s = core::mem::replace(&mut self.spare_slices[i], ptr::null_mut());
            // SAFETY: a spare slice is owned only by the reserve.
            unsafe { self.free_slice(s) };
        }
        let (kb, vb) =
            core::mem::replace(&mut self.spare_boxes, (ptr::null_mut(), ptr::null_mut()));
        // SAFETY: spare boxes are owned only by the reserve.
        unsafe { self.free_indirect(kb, vb) };
    }

    /// Frees indirect boxes that were never linked into a slot (null ones are skipped).
    ///
    /// # Safety
    /// The boxes must come from `alloc_indirect` of this map and hold no value.
    pub(crate) unsafe fn free_indirect(&self, kb: *mut u8, vb: *mut u8) {
        // SAFETY: caller contract.
        unsafe {
            if !kb.is_null() {
                self.dealloc(kb, self.shape.key_box());
            }
            if !vb.is_null() {
                self.dealloc(vb, self.shape.elem_box());
            }
        }
    }

    pub(crate) fn free_spare_array(&mut self) {
        if let Some((p, b)) = self.spare_array.take() {
            // SAFETY: the spare array was allocated by `reserve` for `b` and is unused.
            unsafe { self.free_array(p.as_ptr(), b) };
        }
    }

    /// Sets `HASH_WRITING` (Go: `h.flags ^= hashWriting` after hashing) and returns a guard
    /// that clears it when dropped, also on unwind. First frees a bounded piece of the
    /// graveyard, if there is one.
    #[inline(always)]
    pub(crate) fn start_write(&mut self) -> WriteGuard<'_, S, A, R> {
        if self.graveyard.is_some() {
            // A bounded piece of a finished grow's old generation (see `release`).
            self.graveyard_step();
        }
        let f = self.h.flags.get_mut();
        debug_assert!(
            *f & Flags::HASH_WRITING.bits() == 0,
            "concurrent map writes"
        );
        *f ^= Flags::HASH_WRITING.bits();
        WriteGuard { m: self }
    }

    /// Bytes of memory this map holds: arrays, heap overflow buckets, indirect boxes, extra
    /// and overflow lists, and the buckets set aside in the reserve.
    pub(crate) fn allocated_bytes(&self) -> usize {
        let h = &self.h;
        let bs = self.l().bucketsize;
        let mut total = 0usize;
        let mut heap = 0usize;
        // SAFETY: read-only walk of arrays and intact chains (invariants 1-3, 6).
        unsafe {
            let gens = [
                (h.buckets, h.B),
                (
                    h.oldbuckets,
                    if h.same_size_grow() {
                        h.B
                    } else {
                        h.B.wrapping_sub(1)
                    },
                ),
            ];
            for (array, b) in gens {
                if array.is_null() {
                    continue;
                }
                let n = self.l().nbuckets(b).unwrap_unchecked();
                total += n * bs;
                self.for_each_heap_overflow(array, 0, n, n, |_| heap += 1);
            }
            total += heap * bs;
            // The reserve (not Go-visible): spare buckets, array, extra, lists and boxes, and
            // an old array parked while an iteration that deletes runs.
            total += self.nspare * bs;
            total += self.plan_cap * size_of::<grow::BucketPlan>();
            if let Some((_, b)) = self.spare_array {
                total += self.l().array_bytes(b).unwrap_unchecked();
            }
            if let Some(z) = self.zombie {
                total += self.l().array_bytes(z.b).unwrap_unchecked();
            }
            total += self.graveyard_bytes();
            if !self.spare_extra.is_null() {
                total += MapExtra::SIZE;
            }
            for s in self.spare_slices {
                if !s.is_null() {
                    total += GoSlice::SIZE + (*s).cap * PTR;
                }
            }
            if !self.spare_boxes.0.is_null() {
                total += self.shape.key_box().size();
            }
            if !self.spare_boxes.1.is_null() {
                total += self.shape.elem_box().size();
            }
            total += h.count
                * (if self.l().indirect_key {
                    self.l().key_size
                } else {
                    0
                });
            total += h.count
                * (if self.l().indirect_elem {
                    self.l().elem_size
                } else {
                    0
                });
            if !h.extra.is_null() {
                total += MapExtra::SIZE;
                for s in [(*h.extra).overflow, (*h.extra).oldoverflow] {
                    if !s.is_null() {
                        total += GoSlice::SIZE + (*s).cap * PTR;
                    }
                }
            }
        }
        total
    }
}

impl<S: KeyOps, A: Allocator, R: RandSource> RawMap<S, A, R> {
    /// Makes sure that `n` more buckets can be appended to the current overflow list without
    /// allocating: room in the list if it exists, else a spare `extra` and a spare list with
    /// that capacity (attached by `create_overflow` only when needed).
    pub(crate) fn reserve_list_room(&mut self, n: usize) -> Result<(), TryReserveError> {
        if self.h.extra.is_null() && self.spare_extra.is_null() {
            self.spare_extra = self
                .alloc_zeroed(Layout::new::<MapExtra>())?
                .cast::<MapExtra>();
        }
        let list = if self.h.extra.is_null() {
            ptr::null_mut()
        } else {
            // SAFETY: `extra` is a valid MapExtra (invariant 6).
            unsafe { (*self.h.extra).overflow }
        };
        if list.is_null() {
            if self.spare_slices[0].is_null() {
                let s = self
                    .alloc_zeroed(Layout::new::<GoSlice>())?
                    .cast::<GoSlice>();
                self.spare_slices[0] = s;
            }
            // SAFETY: the spare slice is a valid, unlinked slice header.
            unsafe { self.slice_reserve(self.spare_slices[0], n) }
        } else {
            // SAFETY: `list` is the map's valid overflow list.
            unsafe { self.slice_reserve(list, n) }
        }
    }

    /// Go's `createOverflow`: make sure `extra` and `extra.overflow` exist.
    fn create_overflow(&mut self) -> Result<(), TryReserveError> {
        if self.h.extra.is_null() {
            self.h.extra = self.new_extra()?;
        }
        // SAFETY: `extra` is a valid MapExtra (invariant 6).
        unsafe {
            if (*self.h.extra).overflow.is_null() {
                (*self.h.extra).overflow = self.new_slice()?;
            }
        }
        Ok(())
    }

    /// Go's `newoverflow(t, h, b)`: links a new overflow bucket behind `b`, taking the next
    /// preallocated bucket if any, else a zeroed heap bucket.
    ///
    /// # Safety
    /// `b` must be the last bucket of a chain of the current array.
    pub(crate) unsafe fn new_overflow(&mut self, b: *mut u8) -> Result<*mut u8, TryReserveError> {
        // Everything that can fail happens before Go-visible memory changes.
        let extra = self.h.extra;
        // SAFETY: `extra` is null or valid (invariant 6).
        let prealloc = !extra.is_null() && unsafe { !(*extra).nextOverflow.is_null() };
        let heap = if prealloc {
            ptr::null_mut()
        } else {
            self.alloc_heap_bucket()?
        };
        if self.shape.pointer_free() {
            let r = self.create_overflow().and_then(|()| {
                // SAFETY: create_overflow made `extra.overflow` a valid slice.
                unsafe { self.slice_reserve((*self.h.extra).overflow, 1) }
            });
            if let Err(e) = r {
                if !heap.is_null() {
                    // SAFETY: `heap` was just allocated and is referenced by nothing.
                    unsafe { self.free_heap_bucket(heap) };
                }
                return Err(e);
            }
        }
        // SAFETY: `nextOverflow` points into the preallocated region of the current array
        // (invariant 3); buckets there are zeroed except for the sentinel on the last one.
        let ovf = unsafe {
            if prealloc {
                let e = self.h.extra;
                let ovf = (*e).nextOverflow;
                if self.overflow(ovf).is_null() {
                    (*e).nextOverflow = ovf.add(self.l().bucketsize);
                } else {
                    // The last preallocated bucket: clear the sentinel.
                    self.set_overflow(ovf, ptr::null_mut());
                    (*e).nextOverflow = ptr::null_mut();
                }
                ovf
            } else {
                heap
            }
        };
        self.incr_noverflow();
        if self.shape.pointer_free() {
            // SAFETY: reserved above.
            unsafe { Self::slice_push((*self.h.extra).overflow, ovf) };
        }
        // SAFETY: caller contract: `b` is a bucket we may write.
        unsafe { self.set_overflow(b, ovf) };
        Ok(ovf)
    }
}

/// Clears `HASH_WRITING` on drop (Go: `h.flags &^= hashWriting`).
pub(crate) struct WriteGuard<'a, S: Shape, A: Allocator, R: RandSource> {
    pub(crate) m: &'a mut RawMap<S, A, R>,
}

impl<S: Shape, A: Allocator, R: RandSource> Drop for WriteGuard<'_, S, A, R> {
    #[inline(always)]
    fn drop(&mut self) {
        let f = self.m.h.flags.get_mut();
        debug_assert!(
            *f & Flags::HASH_WRITING.bits() != 0,
            "concurrent map writes"
        );
        *f &= !Flags::HASH_WRITING.bits();
    }
}

impl<S: Shape, A: Allocator, R: RandSource> core::ops::Deref for WriteGuard<'_, S, A, R> {
    type Target = RawMap<S, A, R>;
    fn deref(&self) -> &Self::Target {
        self.m
    }
}

impl<S: Shape, A: Allocator, R: RandSource> core::ops::DerefMut for WriteGuard<'_, S, A, R> {
    fn deref_mut(&mut self) -> &mut Self::Target {
        self.m
    }
}

impl<S: Shape, A: Allocator, R: RandSource> Drop for RawMap<S, A, R> {
    fn drop(&mut self) {
        // Free the memory even if a key or elem destructor panics.
        struct FreeOnDrop<'a, S: Shape, A: Allocator, R: RandSource>(&'a mut RawMap<S, A, R>);
        impl<S: Shape, A: Allocator, R: RandSource> Drop for FreeOnDrop<'_, S, A, R> {
            fn drop(&mut self) {
                // SAFETY: every entry has been dropped (or the drop loop finished under the
                // panic guard); nothing uses the memory after the map is dropped.
                unsafe { self.0.free_all() }
            }
        }
        let g = FreeOnDrop(self);
        // SAFETY: the map invariants hold; each live entry is dropped once.
        unsafe { g.0.drop_entries() };
    }
}

#[cfg(test)]
mod group_tests {
    use super::group;

    /// Every byte value at every position, among random other bytes: `match_exact` marks
    /// exactly the equal bytes, `live_bits` exactly those >= 5.
    #[test]
    fn match_exact_and_live_bits_are_exact() {
        let mut x = 0x9E37_79B9_7F4A_7C15u64;
        let rounds = if cfg!(miri) { 20 } else { 2000 };
        for _ in 0..rounds {
            x ^= x << 13;
            x ^= x >> 7;
            x ^= x << 17;
            for b in [0u8, 1, 2, 4, 5, 0x7f, 0x80, 0xfe, 0xff, x as u8] {
                for pos in 0..8 {
                    let tops = (x & !(0xff << (8 * pos))) | (b as u64) << (8 * pos);
                    let bytes = tops.to_le_bytes();
                    let m = group::match_exact(tops, b);
                    let live = group::live_bits(tops);
                    for (j, &v) in bytes.iter().enumerate() {
                        assert_eq!(m >> (8 * j + 7) & 1 == 1, v == b, "{tops:#x} {b:#x} {j}");
                        assert_eq!(live >> j & 1 == 1, v >= 5, "{tops:#x} {j}");
                    }
                    assert_eq!(m & !0x8080_8080_8080_8080, 0);
                }
            }
        }
    }
}
