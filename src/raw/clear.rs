//! Clear: Go 1.19's `mapclear`. It keeps B and the bucket array, zeroes it, restores the
//! preallocated overflow buckets, and reseeds `hash0`.

use core::ptr;

use allocator_api2::alloc::Allocator;

use super::{RawMap, Shape};
use crate::layout::*;
use crate::rand::RandSource;

impl<S: Shape, A: Allocator, R: RandSource> RawMap<S, A, R> {
    /// Go's `mapclear`. Drops every entry; a panicking destructor does not stop the others
    /// from being dropped, nor the map from being reset.
    pub(crate) fn clear(&mut self) {
        if self.h.count == 0 {
            return;
        }
        let mut g = self.start_write();
        struct Reset<'a, S: Shape, A: Allocator, R: RandSource>(&'a mut RawMap<S, A, R>);
        impl<S: Shape, A: Allocator, R: RandSource> Drop for Reset<'_, S, A, R> {
            fn drop(&mut self) {
                // SAFETY: every entry has been dropped (or its slot marked empty and dropped
                // under the panic guard).
                unsafe { self.0.reset_cleared() }
            }
        }
        let r = Reset(&mut g);
        // SAFETY: the map invariants hold.
        unsafe { r.0.drop_entries() };
        drop(r);
    }

    /// The memory part of `mapclear`, after the entries are gone.
    ///
    /// # Safety
    /// No live entry may remain that needs dropping; the chains must be intact.
    unsafe fn reset_cleared(&mut self) {
        // SAFETY: invariants 1-3 and 6 describe what we free and zero.
        unsafe {
            let h = &self.h;
            // What Go's GC would collect: overflow buckets of both generations, the old array,
            // the overflow lists.
            if !h.oldbuckets.is_null() {
                let old_b = if h.same_size_grow() { h.B } else { h.B - 1 };
                let n = self.l().nbuckets(old_b).unwrap_unchecked();
                self.free_heap_overflow(h.oldbuckets, n);
                self.free_array(h.oldbuckets, old_b);
            }
            let n = self.l().nbuckets(h.B).unwrap_unchecked();
            self.free_heap_overflow(h.buckets, n);
            if !h.extra.is_null() {
                self.free_slice((*h.extra).overflow);
                self.free_slice((*h.extra).oldoverflow);
            }
            let bs = self.l().bucketsize;
            let hash0 = self.rand.draw_hash0();
            let h = &mut self.h;
            *h.flags.get_mut() &= !Flags::SAME_SIZE_GROW.bits();
            h.oldbuckets = ptr::null_mut();
            h.nevacuate = 0;
            h.noverflow = 0;
            h.count = 0;
            h.hash0 = hash0;
            if !h.extra.is_null() {
                // Go: *h.extra = mapextra{} (the allocation is kept).
                ptr::write_bytes(h.extra, 0, 1);
            }
            // Go: makeBucketArray(t, h.B, h.buckets) zeroes and reuses the array.
            ptr::write_bytes(h.buckets, 0, n * bs);
            let (buckets, b, extra) = (h.buckets, h.B, h.extra);
            let next = self.init_prealloc(buckets, bucket_shift(b), n);
            if !next.is_null() {
                debug_assert!(!extra.is_null());
                (*extra).nextOverflow = next;
            }
        }
    }
}
