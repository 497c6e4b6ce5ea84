//! [`LibcAlloc`]: the C library's `malloc`, `calloc`, `posix_memalign` and `free`.

use core::alloc::Layout;
use core::ptr::NonNull;

use allocator_api2::alloc::{AllocError, Allocator};

/// The alignment every `malloc` result has: two words (16 bytes on 64-bit targets, 8 on
/// 32-bit ones), the guarantee of glibc, musl and the BSDs for `max_align_t`-sized requests.
const MIN_ALIGN: usize = 2 * core::mem::size_of::<usize>();

/// The C library's allocator, through the `libc` crate: for `no_std` programs on hosted
/// (Unix) targets, which have a C library but no Rust global allocator.
///
/// * `malloc`, or `calloc` for zeroed memory, when the alignment is at most what `malloc`
///   guarantees (two words) and at most the size (a small request may be placed with less
///   alignment than two words);
/// * `posix_memalign` (then a memset for zeroed memory) for larger alignments;
/// * `free` for both. Zero-sized requests get a dangling pointer and never reach the C
///   library. The reported length is the requested size.
///
/// Available with the `libc` feature, on Unix targets.
///
/// ```
/// use gomap::alloc::LibcAlloc;
/// use gomap::{GoHasher, GoMap};
///
/// let mut m: GoMap<u64, u64, _, _> = GoMap::with_map_hasher_in(GoHasher::with_hashkey(1), LibcAlloc);
/// m.insert(1, 2);
/// assert_eq!(m[&1], 2);
/// ```
#[derive(Copy, Clone, Debug, Default, PartialEq, Eq)]
pub struct LibcAlloc;

impl LibcAlloc {
    /// Whether `malloc`'s own alignment is enough for `layout`.
    #[inline]
    fn malloc_aligns(layout: Layout) -> bool {
        layout.align() <= MIN_ALIGN && layout.align() <= layout.size()
    }

    fn alloc(layout: Layout, zero: bool) -> Result<NonNull<[u8]>, AllocError> {
        let size = layout.size();
        if size == 0 {
            return Ok(super::dangling(layout.align()));
        }
        let p = if Self::malloc_aligns(layout) {
            // SAFETY: plain C calls with a non-zero size; the result is checked for null below.
            unsafe {
                if zero {
                    libc::calloc(1, size)
                } else {
                    libc::malloc(size)
                }
            }
        } else {
            let mut out: *mut libc::c_void = core::ptr::null_mut();
            // posix_memalign needs a power of two that is a multiple of the pointer size.
            let align = layout.align().max(core::mem::size_of::<usize>());
            // SAFETY: `out` is a valid place for the result; `align` is a power of two
            // multiple of `sizeof(void *)`, as posix_memalign requires.
            let rc = unsafe { libc::posix_memalign(&mut out, align, size) };
            if rc != 0 {
                return Err(AllocError);
            }
            if zero && !out.is_null() {
                // SAFETY: posix_memalign returned `size` writable bytes at `out`.
                unsafe { out.cast::<u8>().write_bytes(0, size) };
            }
            out
        };
        match NonNull::new(p.cast::<u8>()) {
            Some(p) => Ok(NonNull::slice_from_raw_parts(p, size)),
            None => Err(AllocError),
        }
    }
}

// SAFETY: non-zero-sized blocks come from malloc/calloc/posix_memalign with at least the
// requested size and alignment (see `malloc_aligns`), stay valid until `free`, and are freed
// only by `deallocate`; `free` accepts the results of all three. Zero-sized blocks are dangling
// and never passed to `free`: a fitting layout for them has size 0, as they were allocated.
unsafe impl Allocator for LibcAlloc {
    #[inline]
    fn allocate(&self, layout: Layout) -> Result<NonNull<[u8]>, AllocError> {
        Self::alloc(layout, false)
    }

    #[inline]
    fn allocate_zeroed(&self, layout: Layout) -> Result<NonNull<[u8]>, AllocError> {
        Self::alloc(layout, true)
    }

    #[inline]
    unsafe fn deallocate(&self, ptr: NonNull<u8>, layout: Layout) {
        if layout.size() != 0 {
            // SAFETY: caller contract: `ptr` came from `allocate` with a non-zero size, that
            // is from the C library, and is freed once.
            unsafe { libc::free(ptr.as_ptr().cast()) }
        }
    }
}
