//! [`PageAlloc`]: large blocks as fresh pages from the operating system, so that a zeroed bucket
//! array costs no memset.

use core::alloc::Layout;
use core::ptr::NonNull;
use core::sync::atomic::{AtomicUsize, Ordering};

use allocator_api2::alloc::{AllocError, Allocator, Global};

/// Large blocks straight from the operating system (`mmap`, `munmap`), everything else from a
/// parent allocator (by default [`Global`]).
///
/// Why: Go allocates a large object (a big bucket array) as whole pages, and pages fresh from
/// the OS are already zero, so `make_bucket_array` costs no clearing. A C `calloc` gives the
/// same only while it serves the block with a fresh `mmap`. glibc stops doing so once blocks of
/// that size have been freed: its mmap threshold rises (up to 32 MiB), later blocks come from
/// its heap, and `calloc` clears them with a memset, in the one insert that starts a grow. In
/// a 4,194,304-insert fill that made one insert take 3.3 ms (see BENCHMARKS.md).
/// `PageAlloc` keeps the grow's cost spread over the writes that touch the pages.
///
/// * A block of at least [`PageAlloc::THRESHOLD`] bytes (4 MiB) whose alignment is at most the
///   page size is a private anonymous mapping, rounded up to whole pages, and is unmapped when
///   freed. Zeroed or not, the pages are the kernel's zero pages until first written.
/// * Anything smaller, or more aligned, goes to the parent.
///
/// The split depends only on the layout, so `deallocate` sends every block back where it came
/// from. Under Miri, and where there is no `mmap` (non-Unix targets), every block goes to the
/// parent. This is the default allocator of [`GoMap`](crate::GoMap) with the `std` feature.
///
/// ```
/// use gomap::alloc::{Allocator, PageAlloc};
/// use core::alloc::Layout;
///
/// let a = PageAlloc::new();
/// let big = Layout::from_size_align(PageAlloc::<gomap::alloc::Global>::THRESHOLD, 8).unwrap();
/// let p = a.allocate_zeroed(big).unwrap(); // on Linux: fresh pages, not one of them written
/// // SAFETY (of the example): `p` is at least 4 MiB of zeroed memory from `a`, freed once.
/// unsafe {
///     let bytes = p.as_ref();
///     assert_eq!((bytes[0], bytes[big.size() - 1]), (0, 0));
///     a.deallocate(p.cast(), big);
/// }
/// ```
#[derive(Copy, Clone, Debug, Default, PartialEq, Eq)]
pub struct PageAlloc<A = Global> {
    parent: A,
}

impl PageAlloc<Global> {
    /// Large blocks from the OS, the rest from [`Global`].
    pub const fn new() -> Self {
        PageAlloc { parent: Global }
    }
}

impl<A> PageAlloc<A> {
    /// Blocks of this many bytes or more come from the OS (4 MiB).
    ///
    /// Below it, the parent serves the block, and may clear it with a memset: a few hundred
    /// microseconds at most, less than the page faults fresh pages would cost the writes that
    /// touch them (1 to 3 µs per 4 KiB page on the virtual machines of BENCHMARKS.md).
    /// Above it, fresh pages keep the clearing out of the insert that starts a grow.
    pub const THRESHOLD: usize = 4 << 20;

    /// Large blocks from the OS, the rest from `parent`.
    pub const fn with_parent(parent: A) -> Self {
        PageAlloc { parent }
    }

    /// The allocator that serves the small blocks.
    pub fn parent(&self) -> &A {
        &self.parent
    }

    /// Whether a block of this layout is (or would be) a mapping of its own: the length in
    /// whole pages, or `None` for the parent's blocks.
    #[inline]
    fn mapped_len(layout: Layout) -> Option<usize> {
        if cfg!(any(miri, not(unix))) || layout.size() < Self::THRESHOLD {
            return None;
        }
        let page = page_size();
        if layout.align() > page {
            return None;
        }
        // A size near usize::MAX does not round: leave it to the parent, which refuses it.
        layout.size().checked_add(page - 1).map(|s| s & !(page - 1))
    }
}

/// The OS page size, asked once.
fn page_size() -> usize {
    static PAGE: AtomicUsize = AtomicUsize::new(0);
    let mut page = PAGE.load(Ordering::Relaxed);
    if page == 0 {
        page = os::page_size();
        PAGE.store(page, Ordering::Relaxed);
    }
    page
}

#[cfg(all(unix, not(miri)))]
mod os {
    use core::ptr::NonNull;

    pub(super) fn page_size() -> usize {
        // SAFETY: sysconf has no preconditions.
        let p = unsafe { libc::sysconf(libc::_SC_PAGESIZE) };
        if p > 0 && (p as usize).is_power_of_two() {
            p as usize
        } else {
            4096
        }
    }

    /// A private anonymous read-write mapping of `len` bytes (a multiple of the page size).
    pub(super) fn map(len: usize) -> Option<NonNull<u8>> {
        // SAFETY: a new anonymous mapping at an address of the kernel's choosing touches no
        // existing memory; the result is checked against MAP_FAILED.
        let p = unsafe {
            libc::mmap(
                core::ptr::null_mut(),
                len,
                libc::PROT_READ | libc::PROT_WRITE,
                libc::MAP_PRIVATE | libc::MAP_ANONYMOUS,
                -1,
                0,
            )
        };
        if p == libc::MAP_FAILED {
            None
        } else {
            NonNull::new(p.cast())
        }
    }

    /// Removes a mapping made by [`map`].
    ///
    /// # Safety
    /// `(p, len)` must be a mapping returned by `map(len)` and not yet unmapped.
    pub(super) unsafe fn unmap(p: NonNull<u8>, len: usize) {
        // SAFETY: caller contract. munmap of a whole mapping of ours cannot fail but for
        // invalid arguments, which the contract rules out.
        unsafe {
            libc::munmap(p.as_ptr().cast(), len);
        }
    }
}

#[cfg(not(all(unix, not(miri))))]
mod os {
    use core::ptr::NonNull;

    pub(super) fn page_size() -> usize {
        4096
    }
    pub(super) fn map(_: usize) -> Option<NonNull<u8>> {
        // Never called: `mapped_len` is always `None` here.
        None
    }
    /// # Safety
    /// Never called (see `map`).
    pub(super) unsafe fn unmap(_: NonNull<u8>, _: usize) {}
}

// SAFETY: a block is a mapping of its own exactly when `mapped_len(layout)` is `Some`, which
// depends only on the layout, so `deallocate` (given the layout the block was allocated with,
// or one with the same size and alignment, as the trait requires) unmaps exactly the mappings
// and hands every other block back to the parent that made it. A mapping is page-aligned (so
// aligned for any layout it serves, whose alignment is at most a page), at least as long as
// requested, zero-filled by the kernel, and valid until unmapped. Cloning copies the parent,
// which shares its blocks by the parent's own contract; mappings belong to no instance.
unsafe impl<A: Allocator> Allocator for PageAlloc<A> {
    #[inline]
    fn allocate(&self, layout: Layout) -> Result<NonNull<[u8]>, AllocError> {
        match Self::mapped_len(layout) {
            Some(len) => os::map(len)
                .map(|p| NonNull::slice_from_raw_parts(p, len))
                .ok_or(AllocError),
            None => self.parent.allocate(layout),
        }
    }

    #[inline]
    fn allocate_zeroed(&self, layout: Layout) -> Result<NonNull<[u8]>, AllocError> {
        match Self::mapped_len(layout) {
            // Fresh anonymous pages read as zero: no memset.
            Some(_) => self.allocate(layout),
            None => self.parent.allocate_zeroed(layout),
        }
    }

    #[inline]
    unsafe fn deallocate(&self, ptr: NonNull<u8>, layout: Layout) {
        match Self::mapped_len(layout) {
            // SAFETY: by the trait's contract `ptr` was allocated here with this layout, so
            // it is a mapping of `len` bytes made by `allocate`.
            Some(len) => unsafe { os::unmap(ptr, len) },
            // SAFETY: as above, the block came from the parent with this layout.
            None => unsafe { self.parent.deallocate(ptr, layout) },
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn small_and_large_blocks() {
        let a = PageAlloc::new();
        let t = PageAlloc::<Global>::THRESHOLD;
        // Under Miri every block goes to the parent: small sizes are enough there.
        let sizes: &[usize] = if cfg!(miri) {
            &[1, 100, 4096]
        } else {
            &[1, 100, 1 << 20, t - 1, t, t + 3, 2 * t]
        };
        for &size in sizes {
            for zero in [false, true] {
                let l = Layout::from_size_align(size, 8).unwrap();
                let p = if zero {
                    a.allocate_zeroed(l)
                } else {
                    a.allocate(l)
                }
                .unwrap();
                assert!(p.len() >= size);
                assert_eq!(p.cast::<u8>().as_ptr() as usize % 8, 0);
                // SAFETY: `p` holds at least `size` bytes from `a`, written, read and freed once.
                unsafe {
                    let s = core::slice::from_raw_parts_mut(p.cast::<u8>().as_ptr(), size);
                    if zero {
                        assert!(s.iter().all(|&b| b == 0), "size {size}");
                    }
                    s.fill(0xab);
                    assert_eq!(s[size - 1], 0xab);
                    a.deallocate(p.cast(), l);
                }
            }
        }
    }

    #[test]
    fn over_aligned_large_blocks_go_to_the_parent() {
        let a = PageAlloc::new();
        let l = Layout::from_size_align(1 << 20, 1 << 16).unwrap();
        let p = a.allocate_zeroed(l).unwrap();
        assert_eq!(p.cast::<u8>().as_ptr() as usize % (1 << 16), 0);
        // SAFETY: `p` came from `a` with layout `l`.
        unsafe { a.deallocate(p.cast(), l) };
    }

    #[test]
    #[cfg_attr(miri, ignore)] // the mmap path; Miri would stop at the parent's huge request
    fn absurd_sizes_fail_cleanly() {
        let a = PageAlloc::new();
        let l = Layout::from_size_align(isize::MAX as usize - 4095, 8).unwrap();
        assert!(a.allocate(l).is_err());
        assert!(a.allocate_zeroed(l).is_err());
    }
}
