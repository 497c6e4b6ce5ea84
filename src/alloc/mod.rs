//! Allocation: Go's malloc size classes, allocator-api2 glue, and allocators for maps.
//!
//! Every byte a [`GoMap`](crate::GoMap) uses comes from its `A: Allocator`
//! ([`allocator_api2::alloc::Allocator`]). Go's heap rounds small allocations up to one of its
//! size classes; `make_bucket_array` uses that rounding ([`roundupsize`]) to decide how many
//! overflow buckets to preallocate, so the table is part of the layout model.
//!
//! The allocators here make that useful:
//!
//! | allocator | what it is for |
//! |---|---|
//! | [`SizeClassAlloc`] | Go's heap sizes: small objects from Go's size classes, carved from spans of whole pages taken from a parent allocator (Go's `mcache`/`mspan`) |
//! | [`CountingAlloc`] | making memory visible: Go's `MemStats` numbers (`Mallocs`, `Frees`, `HeapAlloc`, ...) and the peak, with atomics |
//! | [`Arena`], [`StaticArena`] | no heap at all: a fixed buffer (borrowed, or a `static`), with freed blocks reused |
//! | `PageAlloc` (feature `std`; the default) | large blocks as fresh pages from the OS (`mmap`), so a big zeroed bucket array costs no memset; the rest from a parent |
//! | `LibcAlloc` (feature `libc`, Unix) | `malloc`/`calloc`/`posix_memalign`/`free`, for `no_std` programs on hosted targets |
//!
//! They compose: `CountingAlloc<SizeClassAlloc<Global>>` counts what a map asks for, while
//! `SizeClassAlloc::stats` tells what Go's heap would have given it. Every one is usable by
//! reference (`&A` is an allocator too), so one allocator can serve several maps.
//!
//! When an allocator runs out, `insert_fallible`/`try_reserve` return an error and leave the map
//! unchanged; the infallible methods call `handle_alloc_error`, which aborts (without the
//! `alloc` feature, they panic).

#[cfg(feature = "alloc")]
pub use allocator_api2::alloc::Global;
pub use allocator_api2::alloc::{AllocError, Allocator};

mod arena;
mod counting;
#[cfg(all(feature = "libc", unix))]
mod libc_alloc;
#[cfg(feature = "std")]
mod pages;
mod size_class;
mod size_class_alloc;
mod spin;

pub use arena::{Arena, StaticArena};
pub use counting::{CountingAlloc, MemStats};
#[cfg(all(feature = "libc", unix))]
pub use libc_alloc::LibcAlloc;
#[cfg(feature = "std")]
pub use pages::PageAlloc;
pub use size_class::{
    class_align, roundupsize, size_class, CLASS_TO_ALLOCNPAGES, CLASS_TO_SIZE, MAX_SMALL_SIZE,
    PAGE_SIZE,
};
pub use size_class_alloc::{SizeClassAlloc, SizeClassStats};

/// The block for a zero-sized request (Go's `zerobase`): no memory, a dangling pointer aligned
/// to `align`, length 0. The allocators ignore its deallocation.
#[inline]
fn dangling(align: usize) -> core::ptr::NonNull<[u8]> {
    // A pointer without provenance, at a non-zero multiple of `align`.
    let p = core::ptr::null_mut::<u8>().wrapping_add(align);
    // SAFETY: an alignment is never zero, so `p` is not null.
    let p = unsafe { core::ptr::NonNull::new_unchecked(p) };
    core::ptr::NonNull::slice_from_raw_parts(p, 0)
}

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

/// The allocator a map uses when none is named: with the `std` feature, [`PageAlloc`] (large
/// bucket arrays as fresh zero pages from the OS, everything else from [`Global`]).
#[cfg(feature = "std")]
pub type DefaultAllocator = PageAlloc<Global>;
/// The allocator a map uses when none is named: [`Global`] with the `alloc` feature (and
/// without `std`).
#[cfg(all(feature = "alloc", not(feature = "std")))]
pub type DefaultAllocator = Global;
/// The allocator a map uses when none is named: [`NoGlobal`] without the `alloc` feature.
#[cfg(not(feature = "alloc"))]
pub type DefaultAllocator = NoGlobal;

/// The default allocator, made in a `const` context (for `GoMap::with_hasher`).
#[cfg(feature = "std")]
pub(crate) const fn default_allocator() -> DefaultAllocator {
    PageAlloc::new()
}
/// The default allocator, made in a `const` context (for `GoMap::with_hasher`).
#[cfg(all(feature = "alloc", not(feature = "std")))]
pub(crate) const fn default_allocator() -> DefaultAllocator {
    Global
}
