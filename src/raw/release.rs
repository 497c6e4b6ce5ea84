//! Releasing a finished grow's old generation a little at a time.
//!
//! When the last old bucket is evacuated, Go drops `oldbuckets` and its garbage collector
//! frees the old array and its overflow buckets later, in the background. gomap has no
//! collector, and freeing it all inside the write that finished the grow would make that one
//! write slow: the overflow buckets are thousands of small frees, and returning a large array
//! to the operating system costs time in proportion to its touched pages (about 15 ms for a
//! 75 MB array here). So the old generation goes to a *graveyard* that is no longer
//! Go-visible (the header no longer points to it), and every later write frees a bounded piece
//! of it: the heap overflow buckets behind up to [`CHAINS_PER_STEP`] buckets of the old array
//! (regular and preallocated: see `RawMap::for_each_heap_overflow`), then (with `std`
//! on Unix, for an array of at least [`MADVISE_MIN`] bytes, which the default allocator maps
//! from the OS) up to [`BYTES_PER_STEP`] of the array's pages are handed back with
//! `madvise(MADV_DONTNEED)`, and finally the array itself is freed, which is then cheap. A
//! small array ([`SMALL_ARRAY`] bytes at most) skips the graveyard: the write that finishes
//! its grow frees it.
//!
//! A doubling grow takes about 2^B writes to come round again, far more than the
//! `nbuckets(oldB) / CHAINS_PER_STEP + array / BYTES_PER_STEP` writes a graveyard needs. If a grow
//! finishes while the previous graveyard is still there (a same-size grow soon after another),
//! the previous one is freed at once. `Drop`, `clear`'s old generation and `shrink_to_fit`
//! free everything at once.

use core::ptr::NonNull;

use allocator_api2::alloc::Allocator;

use super::{RawMap, Shape};
use crate::rand::RandSource;

/// Buckets of a released array behind which one write frees the heap overflow buckets.
pub(crate) const CHAINS_PER_STEP: usize = 32;
/// Bytes of a released array one write hands back to the operating system.
pub(crate) const BYTES_PER_STEP: usize = 64 << 10;
/// A released array of at most this many bytes is freed at once, by the write that finishes
/// the grow: freeing it costs less than a graveyard's bookkeeping on the next writes.
pub(crate) const SMALL_ARRAY: usize = 64 << 10;
/// Only arrays of at least this many bytes are handed back to the operating system page by
/// page before they are freed: the size from which the default allocator
/// ([`PageAlloc`](crate::alloc::PageAlloc)) maps an array of its own, whose `munmap` would
/// otherwise cost time in proportion to its touched pages inside one write. A smaller array
/// lives in the allocator's heap, which reuses its pages at once: handing them back would
/// only make the next allocation fault them in again (and clear them).
pub(crate) const MADVISE_MIN: usize = 4 << 20;

/// An old generation that is no longer Go-visible: its array (with its B) and how far its
/// release has come.
#[derive(Copy, Clone, Debug)]
pub(crate) struct Released {
    pub(crate) array: NonNull<u8>,
    pub(crate) b: u8,
    /// Buckets of the array behind which the heap buckets are freed.
    chains_done: usize,
    /// Bytes of the array already handed back.
    advised: usize,
}

impl Released {
    pub(crate) const fn new(array: NonNull<u8>, b: u8) -> Self {
        Released {
            array,
            b,
            chains_done: 0,
            advised: 0,
        }
    }
}

impl<S: Shape, A: Allocator, R: RandSource> RawMap<S, A, R> {
    /// Puts a released old generation in the graveyard (freeing a previous one at once), or
    /// frees it now when it is small: an array of at most [`SMALL_ARRAY`] bytes, whose chains
    /// one write walks in about the time a graveyard step takes. A map that stays small then
    /// never keeps a graveyard, and its writes never step one.
    pub(crate) fn bury(&mut self, g: Released) {
        if let Some(prev) = self.graveyard.take() {
            self.free_released(prev);
        }
        // SAFETY: the generation's array was this map's, allocated for `g.b`.
        let bytes = unsafe { self.l().array_bytes(g.b).unwrap_unchecked() };
        if bytes <= SMALL_ARRAY {
            self.free_released(g);
        } else {
            self.graveyard = Some(g);
        }
    }

    /// One bounded step of freeing the graveyard; called by every write.
    #[cold]
    #[inline(never)]
    pub(crate) fn graveyard_step(&mut self) {
        let Some(mut g) = self.graveyard.take() else {
            return;
        };
        if self.release_some(&mut g, CHAINS_PER_STEP, BYTES_PER_STEP) {
            // SAFETY: every heap bucket of the generation is freed and nothing refers to the
            // array any more.
            unsafe { self.free_array(g.array.as_ptr(), g.b) };
        } else {
            self.graveyard = Some(g);
        }
    }

    /// Frees a released generation completely, now.
    pub(crate) fn free_released(&mut self, mut g: Released) {
        self.release_some(&mut g, usize::MAX, 0);
        // SAFETY: as in `graveyard_step`.
        unsafe { self.free_array(g.array.as_ptr(), g.b) };
    }

    /// Frees the graveyard completely, now.
    pub(crate) fn empty_graveyard(&mut self) {
        if let Some(g) = self.graveyard.take() {
            self.free_released(g);
        }
    }

    /// Frees the heap buckets behind up to `chains` more buckets of the array, then hands back
    /// up to `bytes` more of the array. Returns whether only the array itself is left to free.
    fn release_some(&mut self, g: &mut Released, chains: usize, bytes: usize) -> bool {
        // SAFETY: the generation's array holds `nbuckets(b)` buckets (it was this map's old
        // array) and its chains are intact: evacuation either left them alone or cut a head
        // after freeing the heap buckets only that head reached. Nothing else refers to it.
        let n = unsafe { self.l().nbuckets(g.b).unwrap_unchecked() };
        if g.chains_done < n {
            let end = g.chains_done.saturating_add(chains).min(n);
            // SAFETY: as above; each heap bucket is freed once (see `for_each_heap_overflow`).
            unsafe {
                self.for_each_heap_overflow(g.array.as_ptr(), g.chains_done, end, n, |b| {
                    self.free_heap_bucket(b)
                });
            }
            g.chains_done = end;
            if g.chains_done < n || bytes == 0 {
                return g.chains_done == n;
            }
        }
        let total = n * self.l().bucketsize;
        if total < MADVISE_MIN {
            return true;
        }
        if g.advised < total && bytes > 0 {
            let len = bytes.min(total - g.advised);
            // SAFETY: [array + advised, +len) lies inside the array, which only we own and
            // nobody reads any more.
            unsafe { release_pages(g.array.as_ptr().add(g.advised), len) };
            g.advised += len;
        }
        g.advised >= total || bytes == 0
    }

    /// Bytes the graveyard still holds (array and remaining heap buckets).
    pub(crate) fn graveyard_bytes(&self) -> usize {
        let Some(g) = &self.graveyard else { return 0 };
        let l = self.l();
        // SAFETY: as in `release_some`; this only reads the chains.
        unsafe {
            let n = l.nbuckets(g.b).unwrap_unchecked();
            let mut heap = 0;
            self.for_each_heap_overflow(g.array.as_ptr(), g.chains_done, n, n, |_| heap += 1);
            n * l.bucketsize + heap * l.bucketsize
        }
    }
}

/// Hands the whole pages inside `[p, p + len)` back to the operating system
/// (`madvise(MADV_DONTNEED)`), so that freeing the block later is cheap. Pages that the range
/// only partly covers are left alone (an allocator may keep its bookkeeping right before or
/// after a block). Does nothing where there is no `madvise`.
///
/// # Safety
/// The range must lie inside one allocation that the caller owns, whose contents nobody will
/// read again.
#[allow(unused_variables)]
unsafe fn release_pages(p: *mut u8, len: usize) {
    #[cfg(all(feature = "std", unix, not(miri)))]
    {
        static PAGE: core::sync::atomic::AtomicUsize = core::sync::atomic::AtomicUsize::new(0);
        let mut page = PAGE.load(core::sync::atomic::Ordering::Relaxed);
        if page == 0 {
            // SAFETY: sysconf has no preconditions.
            let s = unsafe { libc::sysconf(libc::_SC_PAGESIZE) };
            page = if s > 0 { s as usize } else { 4096 };
            PAGE.store(page, core::sync::atomic::Ordering::Relaxed);
        }
        let start = (p as usize).div_ceil(page) * page;
        let end = (p as usize + len) / page * page;
        if end > start {
            // SAFETY: [start, end) are whole pages inside the caller's allocation (caller
            // contract); MADV_DONTNEED only drops their contents, which nobody reads again. An
            // error (say, locked pages) just leaves them resident.
            unsafe {
                libc::madvise(start as *mut libc::c_void, end - start, libc::MADV_DONTNEED);
            }
        }
    }
}
