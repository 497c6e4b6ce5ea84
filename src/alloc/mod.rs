//! Allocation: Go's malloc size classes, and allocator-api2 glue.
//!
//! Every byte a [`GoMap`](crate::GoMap) uses comes from its `A: Allocator`
//! ([`allocator_api2::alloc::Allocator`]). Go's heap rounds small allocations up to one of its
//! size classes; `make_bucket_array` uses that rounding ([`roundupsize`]) to decide how many
//! overflow buckets to preallocate, so the table is part of the layout model.

#[cfg(feature = "alloc")]
pub use allocator_api2::alloc::Global;
pub use allocator_api2::alloc::{AllocError, Allocator};

mod size_class;
pub use size_class::{roundupsize, size_class, CLASS_TO_SIZE, MAX_SMALL_SIZE, PAGE_SIZE};

/// The default allocator type parameter when the `alloc` feature is off: there is no global
/// heap, so every allocation fails. Construct maps with an allocator of your own
/// (`GoMap::with_hasher_in`, ...) instead.
#[cfg(not(feature = "alloc"))]
#[derive(Copy, Clone, Debug, Default)]
pub struct NoGlobal;

#[cfg(not(feature = "alloc"))]
// SAFETY: `allocate` never returns memory, so there is nothing for `deallocate` to accept; the
// trait's requirements on returned blocks hold vacuously.
unsafe impl Allocator for NoGlobal {
    fn allocate(&self, _: core::alloc::Layout) -> Result<core::ptr::NonNull<[u8]>, AllocError> {
        Err(AllocError)
    }
    unsafe fn deallocate(&self, _: core::ptr::NonNull<u8>, _: core::alloc::Layout) {}
}

/// The allocator a map uses when none is named: [`Global`] with the `alloc` feature.
#[cfg(feature = "alloc")]
pub type DefaultAllocator = Global;
/// The allocator a map uses when none is named: [`NoGlobal`] without the `alloc` feature.
#[cfg(not(feature = "alloc"))]
pub type DefaultAllocator = NoGlobal;
