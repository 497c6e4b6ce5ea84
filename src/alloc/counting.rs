//! [`CountingAlloc`]: counts what an allocator does, with the numbers Go's
//! `runtime.ReadMemStats` reports.

use core::alloc::Layout;
use core::ptr::NonNull;
use core::sync::atomic::Ordering;

use allocator_api2::alloc::{AllocError, Allocator};

use crate::sync64::AtomicU64;

/// A snapshot of a [`CountingAlloc`]'s counters, under the names of Go's `runtime.MemStats`
/// fields (plus one Go does not have, `PeakHeapAlloc`).
///
/// Bytes are counted as requested (`layout.size()`); wrap a
/// [`SizeClassAlloc`](super::SizeClassAlloc) and read its
/// [`stats`](super::SizeClassAlloc::stats) for the size-class-rounded figure Go's heap would
/// report.
#[allow(non_snake_case)]
#[derive(Copy, Clone, Debug, Default, PartialEq, Eq)]
pub struct MemStats {
    /// Bytes of allocated, not yet freed blocks (Go: `Alloc`, the same as `HeapAlloc`).
    pub Alloc: u64,
    /// Bytes allocated over the allocator's lifetime; never decreases (Go: `TotalAlloc`).
    pub TotalAlloc: u64,
    /// Successful allocations (Go: `Mallocs`).
    pub Mallocs: u64,
    /// Deallocations (Go: `Frees`).
    pub Frees: u64,
    /// Bytes of allocated, not yet freed blocks (Go: `HeapAlloc`).
    pub HeapAlloc: u64,
    /// Blocks allocated and not yet freed: `Mallocs - Frees` (Go: `HeapObjects`).
    pub HeapObjects: u64,
    /// The largest `HeapAlloc` seen since the allocator was created or
    /// [`reset_peak`](CountingAlloc::reset_peak) was last called. Not a Go field.
    pub PeakHeapAlloc: u64,
}

/// An allocator that forwards to another and counts allocations, frees, live bytes, peak live
/// bytes and total bytes, with atomics: it can be shared between threads (`&CountingAlloc` is
/// an allocator too) and read at any time with
/// [`read_mem_stats`](Self::read_mem_stats).
///
/// * Failed allocations are not counted.
/// * `grow`/`shrink` count as a free of the old block and an allocation of the new one (Go has
///   no realloc; `append` allocates a new array).
/// * Bytes are the requested sizes. A caller that frees a block with a larger (fitting) size
///   than it requested, as allocator-api2 allows, skews the live bytes; [`GoMap`] always frees
///   with the layout it requested.
/// * On targets without 64-bit atomics (thumbv7em) each counter is a `u64` behind a short spin
///   lock; do not use the allocator from an interrupt handler that can preempt another user of
///   it there.
/// * Each counter is read atomically, the snapshot as a whole is not: while other threads
///   allocate, its fields may come from slightly different moments.
///
/// ```
/// use gomap::alloc::{CountingAlloc, Global};
/// use gomap::GoMap;
///
/// let counting = CountingAlloc::new(Global);
/// {
///     let mut m: GoMap<u64, u64, gomap::GoHasher, _> = GoMap::new_in(&counting);
///     for i in 0..100 {
///         m.insert(i, i);
///     }
///     let s = counting.read_mem_stats();
///     assert!(s.Mallocs > 0);
///     // The bucket array of 16 buckets (B = 4) is live, 144 bytes each.
///     assert!(s.HeapAlloc >= 16 * 144);
/// }
/// // Everything the map allocated has been freed.
/// let s = counting.read_mem_stats();
/// assert_eq!((s.HeapAlloc, s.HeapObjects), (0, 0));
/// assert_eq!(s.Mallocs, s.Frees);
/// ```
///
/// [`GoMap`]: crate::GoMap
#[derive(Debug)]
pub struct CountingAlloc<A> {
    inner: A,
    mallocs: AtomicU64,
    frees: AtomicU64,
    live: AtomicU64,
    peak: AtomicU64,
    total: AtomicU64,
}

impl<A> CountingAlloc<A> {
    /// Counts the allocations made through `inner`.
    pub const fn new(inner: A) -> Self {
        CountingAlloc {
            inner,
            mallocs: AtomicU64::new(0),
            frees: AtomicU64::new(0),
            live: AtomicU64::new(0),
            peak: AtomicU64::new(0),
            total: AtomicU64::new(0),
        }
    }

    /// The wrapped allocator.
    pub fn inner(&self) -> &A {
        &self.inner
    }

    /// The wrapped allocator, unwrapped.
    pub fn into_inner(self) -> A {
        self.inner
    }

    /// The counters now (Go's `runtime.ReadMemStats`).
    pub fn read_mem_stats(&self) -> MemStats {
        let mallocs = self.mallocs.load(Ordering::Relaxed);
        let frees = self.frees.load(Ordering::Relaxed);
        let live = self.live.load(Ordering::Relaxed);
        MemStats {
            Alloc: live,
            TotalAlloc: self.total.load(Ordering::Relaxed),
            Mallocs: mallocs,
            Frees: frees,
            HeapAlloc: live,
            HeapObjects: mallocs.wrapping_sub(frees),
            PeakHeapAlloc: self.peak.load(Ordering::Relaxed),
        }
    }

    /// Bytes allocated and not yet freed (`HeapAlloc`).
    pub fn live_bytes(&self) -> u64 {
        self.live.load(Ordering::Relaxed)
    }

    /// The peak of [`live_bytes`](Self::live_bytes) (`PeakHeapAlloc`).
    pub fn peak_bytes(&self) -> u64 {
        self.peak.load(Ordering::Relaxed)
    }

    /// Starts a new peak measurement from the current live bytes.
    pub fn reset_peak(&self) {
        let mut peak = self.peak.load(Ordering::Relaxed);
        loop {
            let live = self.live.load(Ordering::Relaxed);
            match self
                .peak
                .compare_exchange(peak, live, Ordering::Relaxed, Ordering::Relaxed)
            {
                Ok(_) => return,
                Err(p) => peak = p,
            }
        }
    }

    fn count_alloc(&self, bytes: usize) {
        let bytes = bytes as u64;
        self.mallocs.fetch_add(1, Ordering::Relaxed);
        self.total.fetch_add(bytes, Ordering::Relaxed);
        let live = self
            .live
            .fetch_add(bytes, Ordering::Relaxed)
            .wrapping_add(bytes);
        // Raise the peak to `live` unless another thread already raised it further.
        let mut peak = self.peak.load(Ordering::Relaxed);
        while live > peak {
            match self
                .peak
                .compare_exchange(peak, live, Ordering::Relaxed, Ordering::Relaxed)
            {
                Ok(_) => break,
                Err(p) => peak = p,
            }
        }
    }

    fn count_free(&self, bytes: usize) {
        self.frees.fetch_add(1, Ordering::Relaxed);
        self.live
            .fetch_add((bytes as u64).wrapping_neg(), Ordering::Relaxed);
    }
}

impl<A: Default> Default for CountingAlloc<A> {
    fn default() -> Self {
        Self::new(A::default())
    }
}

// SAFETY: every method forwards to `inner` with the caller's arguments unchanged and returns
// its result unchanged; the counters are bookkeeping only. So each block is `inner`'s, with
// `inner`'s guarantees, and the caller's obligations pass straight through to `inner`.
unsafe impl<A: Allocator> Allocator for CountingAlloc<A> {
    #[inline]
    fn allocate(&self, layout: Layout) -> Result<NonNull<[u8]>, AllocError> {
        let p = self.inner.allocate(layout)?;
        self.count_alloc(layout.size());
        Ok(p)
    }

    #[inline]
    fn allocate_zeroed(&self, layout: Layout) -> Result<NonNull<[u8]>, AllocError> {
        let p = self.inner.allocate_zeroed(layout)?;
        self.count_alloc(layout.size());
        Ok(p)
    }

    #[inline]
    unsafe fn deallocate(&self, ptr: NonNull<u8>, layout: Layout) {
        // SAFETY: caller contract, passed through unchanged.
        unsafe { self.inner.deallocate(ptr, layout) };
        self.count_free(layout.size());
    }

    unsafe fn grow(
        &self,
        ptr: NonNull<u8>,
        old_layout: Layout,
        new_layout: Layout,
    ) -> Result<NonNull<[u8]>, AllocError> {
        // SAFETY: caller contract, passed through unchanged.
        let p = unsafe { self.inner.grow(ptr, old_layout, new_layout)? };
        self.count_free(old_layout.size());
        self.count_alloc(new_layout.size());
        Ok(p)
    }

    unsafe fn grow_zeroed(
        &self,
        ptr: NonNull<u8>,
        old_layout: Layout,
        new_layout: Layout,
    ) -> Result<NonNull<[u8]>, AllocError> {
        // SAFETY: caller contract, passed through unchanged.
        let p = unsafe { self.inner.grow_zeroed(ptr, old_layout, new_layout)? };
        self.count_free(old_layout.size());
        self.count_alloc(new_layout.size());
        Ok(p)
    }

    unsafe fn shrink(
        &self,
        ptr: NonNull<u8>,
        old_layout: Layout,
        new_layout: Layout,
    ) -> Result<NonNull<[u8]>, AllocError> {
        // SAFETY: caller contract, passed through unchanged.
        let p = unsafe { self.inner.shrink(ptr, old_layout, new_layout)? };
        self.count_free(old_layout.size());
        self.count_alloc(new_layout.size());
        Ok(p)
    }
}
