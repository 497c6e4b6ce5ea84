//! [`SizeClassAlloc`]: small objects from Go's malloc size classes, in the spirit of Go's
//! `mcache` and `mspan`.

use core::alloc::Layout;
use core::cell::Cell;
use core::mem::{align_of, size_of, ManuallyDrop};
use core::ptr::{self, NonNull};

use allocator_api2::alloc::{AllocError, Allocator};

use super::size_class::{class_align, CLASS_TO_ALLOCNPAGES, CLASS_TO_SIZE, PAGE_SIZE};

/// Number of size classes, class 0 (unused) included (Go's `_NumSizeClasses`).
const NUM_CLASSES: usize = CLASS_TO_SIZE.len();
/// The largest object served from a size class (Go's `maxSmallSize`). Go 1.19 serves a
/// request of exactly this size from class 67.
const MAX_SMALL: usize = 32768;
/// Requests up to this size are looked up in [`SIZE_TO_CLASS8`], above in [`SIZE_TO_CLASS128`]
/// (Go's `smallSizeMax`).
const SMALL_SIZE_MAX: usize = 1024;

/// The smallest class whose size is at least `size` (for `1 <= size <= MAX_SMALL`).
const fn class_by_search(size: usize) -> u8 {
    let mut c = 1;
    while (CLASS_TO_SIZE[c] as usize) < size {
        c += 1;
    }
    c as u8
}

/// Class of a size up to 1024 bytes, indexed by `ceil(size / 8)` (Go's `size_to_class8`).
const SIZE_TO_CLASS8: [u8; SMALL_SIZE_MAX / 8 + 1] = {
    let mut t = [0u8; SMALL_SIZE_MAX / 8 + 1];
    let mut i = 1;
    while i < t.len() {
        t[i] = class_by_search(i * 8);
        i += 1;
    }
    t
};

/// Class of a size above 1024 bytes, indexed by `ceil((size - 1024) / 128)` (Go's
/// `size_to_class128`).
const SIZE_TO_CLASS128: [u8; (MAX_SMALL - SMALL_SIZE_MAX) / 128 + 1] = {
    let mut t = [0u8; (MAX_SMALL - SMALL_SIZE_MAX) / 128 + 1];
    let mut i = 0;
    while i < t.len() {
        t[i] = class_by_search(SMALL_SIZE_MAX + i * 128);
        i += 1;
    }
    t
};

/// Each class's object alignment ([`class_align`]), as a table.
const CLASS_ALIGN: [usize; NUM_CLASSES] = {
    let mut t = [0usize; NUM_CLASSES];
    let mut c = 1;
    while c < NUM_CLASSES {
        t[c] = class_align(c);
        c += 1;
    }
    t
};

/// The size class that serves `layout`: the smallest one whose objects are large enough and
/// aligned enough. `None` for a zero-sized request, and for a request Go would serve as a large
/// object (more than 32768 bytes), or that no class is aligned enough for.
///
/// A block returned for `layout` may be freed with any layout of the same alignment whose size
/// lies between `layout.size()` and the class size; every such layout maps to the same class.
#[inline]
fn class_for(layout: Layout) -> Option<usize> {
    let size = layout.size();
    if size == 0 || size > MAX_SMALL {
        return None;
    }
    let mut c = if size <= SMALL_SIZE_MAX {
        SIZE_TO_CLASS8[size.div_ceil(8)]
    } else {
        SIZE_TO_CLASS128[(size - SMALL_SIZE_MAX).div_ceil(128)]
    } as usize;
    while CLASS_ALIGN[c] < layout.align() {
        c += 1;
        if c == NUM_CLASSES {
            return None;
        }
    }
    Some(c)
}

/// The bookkeeping record at the end of every span: the spans form a list through it.
#[repr(C)]
struct SpanTail {
    /// The next span's record, or null.
    next: *mut SpanTail,
    /// This span's size class.
    class: usize,
}

/// Bytes of objects in a span of class `c` (`class_to_allocnpages[c]` pages).
#[inline]
const fn span_bytes(c: usize) -> usize {
    CLASS_TO_ALLOCNPAGES[c] as usize * PAGE_SIZE
}

/// The layout a span of class `c` is requested with: its pages plus the [`SpanTail`], aligned
/// to the class's object alignment so that every object has Go's alignment.
#[inline]
fn span_layout(c: usize) -> Layout {
    let align = if CLASS_ALIGN[c] > align_of::<SpanTail>() {
        CLASS_ALIGN[c]
    } else {
        align_of::<SpanTail>()
    };
    // At most 10 pages plus 16 bytes, aligned to at most a page: always a valid layout.
    match Layout::from_size_align(span_bytes(c) + size_of::<SpanTail>(), align) {
        Ok(l) => l,
        Err(_) => unreachable!(),
    }
}

/// One size class's cache (Go's `mcache.alloc[spc]` plus the free objects of its spans).
struct ClassCache {
    /// Freed objects, linked through their first word (LIFO).
    free: Cell<*mut u8>,
    /// The never-used objects of the newest span run from `next` to `end`; they are still
    /// zero, because spans come from the parent's `allocate_zeroed`.
    next: Cell<*mut u8>,
    end: Cell<*mut u8>,
}

/// Counters of a [`SizeClassAlloc`], read with [`SizeClassAlloc::stats`].
#[derive(Copy, Clone, Debug, Default, PartialEq, Eq)]
pub struct SizeClassStats {
    /// Spans (chunks of whole pages) obtained from the parent and held.
    pub spans: usize,
    /// Bytes those spans hold: pages plus a small bookkeeping record each (like Go's
    /// `HeapInuse`, for small objects).
    pub span_bytes: usize,
    /// Live small objects (allocated and not freed).
    pub small_objects: usize,
    /// Bytes of the live small objects, each counted at its class size, as Go's `HeapAlloc`
    /// counts them.
    pub small_bytes: usize,
    /// Live large objects (requests served directly by the parent).
    pub large_objects: usize,
    /// Bytes of the live large objects, as requested.
    pub large_bytes: usize,
}

/// An allocator that serves small requests from Go's malloc size classes.
///
/// A request of up to 32768 bytes is rounded up to the smallest of Go's 67 size classes
/// ([`CLASS_TO_SIZE`]) that fits it and is aligned enough, the rounding Go's `roundupsize`
/// describes. Each class keeps a free list of objects; when it is empty, the class takes its
/// next object from a *span*: a chunk of `class_to_allocnpages` pages (8192 bytes each)
/// requested from the parent allocator and cut into objects of the class size, as Go's
/// `mcache` takes objects from an `mspan`. Larger requests go straight to the parent.
///
/// * **Honest sizes.** The block returned for a small request is the whole object: its length
///   is the class size (`allocate(Layout 100)` returns 112 bytes). Freeing it with any size
///   from the requested one up to the class size is allowed.
/// * **Go's sizes for the map.** With this allocator a map's memory takes the sizes Go's heap
///   gives it: a heap overflow bucket of a `map[u64][3]u8` (104 bytes) occupies a 112-byte
///   object, and a bucket array with preallocated overflow buckets fills its size class.
/// * **Alignment.** Spans are aligned like Go's page-aligned spans (to the class's alignment),
///   so an object of class `c` is aligned to the largest power of two dividing its size, up to
///   8192 ([`class_align`]). A request aligned to more than its class offers moves to a larger
///   class; one that no class satisfies goes to the parent.
/// * **Zeroing.** Spans come from the parent's `allocate_zeroed`, so a never-used object is
///   zero and `allocate_zeroed` hands it out without a memset (Go's `needzero` bookkeeping); a
///   recycled object is zeroed.
/// * **Memory.** Spans are returned to the parent only when the allocator is dropped (or
///   [`into_parent`](Self::into_parent) is called), as Go keeps spans for reuse.
/// * **Threads.** Like an `mcache`, which belongs to one P and takes no locks, it is not
///   shared between threads: it is `Send` (if the parent is) but not `Sync`. A map that owns
///   it can move to another thread, but cannot be shared by reference across threads.
///
/// ```
/// use gomap::alloc::{Allocator, Global, SizeClassAlloc};
/// use gomap::GoMap;
/// use core::alloc::Layout;
///
/// let classes = SizeClassAlloc::new(Global);
/// // A 104-byte request gets a whole 112-byte object, as from Go's heap.
/// let block = classes.allocate(Layout::from_size_align(104, 8).unwrap()).unwrap();
/// assert_eq!(block.len(), 112);
/// // SAFETY: `block` was allocated above with this layout.
/// unsafe { classes.deallocate(block.cast(), Layout::from_size_align(104, 8).unwrap()) };
///
/// let mut m: GoMap<u64, [u8; 3], gomap::GoHasher, _> = GoMap::new_in(&classes);
/// for i in 0..1000 {
///     m.insert(i, [1, 2, 3]);
/// }
/// assert_eq!(m.len(), 1000);
/// assert!(classes.stats().spans > 0);
/// ```
///
/// [`CLASS_TO_SIZE`]: super::CLASS_TO_SIZE
/// [`class_align`]: super::class_align
pub struct SizeClassAlloc<A: Allocator> {
    parent: A,
    classes: [ClassCache; NUM_CLASSES],
    /// The newest span's record; the others are linked behind it.
    spans: Cell<*mut SpanTail>,
    stats: Cell<SizeClassStats>,
}

// SAFETY: the allocator exclusively owns its spans (their memory is reachable only through it
// and through blocks it handed out), so moving it to another thread moves that ownership; the
// parent moves along and must be `Send`. `Cell` fields keep it `!Sync`.
unsafe impl<A: Allocator + Send> Send for SizeClassAlloc<A> {}

impl<A: Allocator> SizeClassAlloc<A> {
    /// A size-class allocator that takes its spans (and large objects) from `parent`.
    pub const fn new(parent: A) -> Self {
        SizeClassAlloc {
            parent,
            classes: [const {
                ClassCache {
                    free: Cell::new(ptr::null_mut()),
                    next: Cell::new(ptr::null_mut()),
                    end: Cell::new(ptr::null_mut()),
                }
            }; NUM_CLASSES],
            spans: Cell::new(ptr::null_mut()),
            stats: Cell::new(SizeClassStats {
                spans: 0,
                span_bytes: 0,
                small_objects: 0,
                small_bytes: 0,
                large_objects: 0,
                large_bytes: 0,
            }),
        }
    }

    /// The parent allocator.
    pub fn parent(&self) -> &A {
        &self.parent
    }

    /// Current counters.
    pub fn stats(&self) -> SizeClassStats {
        self.stats.get()
    }

    /// Returns every span to the parent and hands the parent back. (Blocks still allocated
    /// become invalid, as when the allocator is dropped.)
    pub fn into_parent(self) -> A {
        let mut me = ManuallyDrop::new(self);
        me.release_spans();
        // SAFETY: `me` is never used or dropped again, so the parent is moved out exactly
        // once; the other fields hold no resources after `release_spans`.
        unsafe { ptr::read(&me.parent) }
    }

    /// Returns every span to the parent.
    fn release_spans(&mut self) {
        let mut t = self.spans.replace(ptr::null_mut());
        while !t.is_null() {
            // SAFETY: every record in the list was written by `refill` at offset
            // `span_bytes(class)` of a span allocated from the parent with `span_layout(class)`
            // and not freed since (spans are freed only here, once: the list is emptied
            // first).
            unsafe {
                let SpanTail { next, class } = t.read();
                let span = t.cast::<u8>().sub(span_bytes(class));
                self.parent
                    .deallocate(NonNull::new_unchecked(span), span_layout(class));
                t = next;
            }
        }
        for c in &self.classes {
            c.free.set(ptr::null_mut());
            c.next.set(ptr::null_mut());
            c.end.set(ptr::null_mut());
        }
        let s = self.stats.get_mut();
        s.spans = 0;
        s.span_bytes = 0;
        s.small_objects = 0;
        s.small_bytes = 0;
    }

    /// Takes a new span for class `c` from the parent and makes it the class's source of
    /// never-used objects (Go's `mcache.refill`).
    #[cold]
    fn refill(&self, c: usize) -> Result<(), AllocError> {
        let layout = span_layout(c);
        let span = self.parent.allocate_zeroed(layout)?.cast::<u8>().as_ptr();
        let bytes = span_bytes(c);
        let size = CLASS_TO_SIZE[c] as usize;
        // SAFETY: the span holds `bytes + size_of::<SpanTail>()` bytes; the record goes at
        // offset `bytes`, a multiple of the page size, hence aligned for `SpanTail` (the span
        // is aligned to at least `align_of::<SpanTail>()`). The objects `0..bytes / size` lie
        // before it.
        unsafe {
            let tail = span.add(bytes).cast::<SpanTail>();
            tail.write(SpanTail {
                next: self.spans.get(),
                class: c,
            });
            self.spans.set(tail);
            let cache = &self.classes[c];
            cache.next.set(span);
            cache.end.set(span.add(bytes / size * size));
        }
        let mut s = self.stats.get();
        s.spans += 1;
        s.span_bytes += layout.size();
        self.stats.set(s);
        Ok(())
    }

    /// An object of class `c`, zeroed if `zero`.
    #[inline]
    fn alloc_small(&self, c: usize, zero: bool) -> Result<NonNull<[u8]>, AllocError> {
        let size = CLASS_TO_SIZE[c] as usize;
        let cache = &self.classes[c];
        let free = cache.free.get();
        let p = if !free.is_null() {
            // SAFETY: a free object is a whole, unused object of this class whose first word
            // (objects are at least 8 bytes and aligned for a pointer) links the list.
            unsafe {
                cache.free.set(free.cast::<*mut u8>().read());
                if zero {
                    free.write_bytes(0, size);
                }
            }
            free
        } else {
            if cache.next.get() == cache.end.get() {
                self.refill(c)?;
            }
            let p = cache.next.get();
            // SAFETY: `next < end` after a refill, and `end` is the end of the span's last
            // whole object; never-used objects are zero.
            cache.next.set(unsafe { p.add(size) });
            p
        };
        let mut s = self.stats.get();
        s.small_objects += 1;
        s.small_bytes += size;
        self.stats.set(s);
        // SAFETY: `p` points into a span, so it is not null.
        let p = unsafe { NonNull::new_unchecked(p) };
        Ok(NonNull::slice_from_raw_parts(p, size))
    }

    fn alloc(&self, layout: Layout, zero: bool) -> Result<NonNull<[u8]>, AllocError> {
        if let Some(c) = class_for(layout) {
            return self.alloc_small(c, zero);
        }
        if layout.size() == 0 {
            // Go returns `&zerobase` for every zero-sized object; a dangling, aligned pointer
            // plays that role.
            return Ok(super::dangling(layout.align()));
        }
        let block = if zero {
            self.parent.allocate_zeroed(layout)?
        } else {
            self.parent.allocate(layout)?
        };
        let mut s = self.stats.get();
        s.large_objects += 1;
        s.large_bytes += layout.size();
        self.stats.set(s);
        Ok(block)
    }
}

// SAFETY: (1) a small block is a whole object of a span this allocator holds until it is
// dropped or `into_parent` consumes it, so it stays valid while allocated and the allocator
// lives (moving the allocator does not move spans); objects are handed out at most once until
// freed (a free object is either on the free list or past `next`, never both). (2) `deallocate`
// maps a fitting layout to the class the block came from (see `class_for`), so the object
// returns to its own class's list. (3) Large blocks are the parent's, returned to it with the
// caller's layout, which fits them. (4) Zero-sized blocks are dangling and never freed.
unsafe impl<A: Allocator> Allocator for SizeClassAlloc<A> {
    #[inline]
    fn allocate(&self, layout: Layout) -> Result<NonNull<[u8]>, AllocError> {
        self.alloc(layout, false)
    }

    #[inline]
    fn allocate_zeroed(&self, layout: Layout) -> Result<NonNull<[u8]>, AllocError> {
        self.alloc(layout, true)
    }

    #[inline]
    unsafe fn deallocate(&self, ptr: NonNull<u8>, layout: Layout) {
        if let Some(c) = class_for(layout) {
            let p = ptr.as_ptr();
            let cache = &self.classes[c];
            // SAFETY: the caller returns a block of class `c` that it no longer uses; its
            // first word (an object is at least 8 bytes, pointer-aligned) now links the list.
            unsafe { p.cast::<*mut u8>().write(cache.free.get()) };
            cache.free.set(p);
            let mut s = self.stats.get();
            s.small_objects -= 1;
            s.small_bytes -= CLASS_TO_SIZE[c] as usize;
            self.stats.set(s);
        } else if layout.size() != 0 {
            // SAFETY: a large block came from the parent (caller contract: `layout` fits it).
            unsafe { self.parent.deallocate(ptr, layout) };
            let mut s = self.stats.get();
            s.large_objects -= 1;
            s.large_bytes -= layout.size();
            self.stats.set(s);
        }
    }
}

impl<A: Allocator> Drop for SizeClassAlloc<A> {
    fn drop(&mut self) {
        self.release_spans();
    }
}

impl<A: Allocator + core::fmt::Debug> core::fmt::Debug for SizeClassAlloc<A> {
    fn fmt(&self, f: &mut core::fmt::Formatter<'_>) -> core::fmt::Result {
        f.debug_struct("SizeClassAlloc")
            .field("parent", &self.parent)
            .field("stats", &self.stats.get())
            .finish_non_exhaustive()
    }
}

impl<A: Allocator + Default> Default for SizeClassAlloc<A> {
    fn default() -> Self {
        Self::new(A::default())
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::alloc::{roundupsize, size_class};

    #[test]
    fn class_tables_agree_with_the_search() {
        // Natively every size; under Miri, the sizes on both sides of every table step.
        let sizes = (1..=MAX_SMALL).filter(|&s| {
            !cfg!(miri) || (s <= SMALL_SIZE_MAX && s % 8 <= 1) || s % 128 <= 1 || s == MAX_SMALL
        });
        for size in sizes {
            let l = Layout::from_size_align(size, 1).unwrap();
            let c = class_for(l).unwrap();
            assert_eq!(c as u8, class_by_search(size), "size {size}");
            if size < MAX_SMALL {
                assert_eq!(Some(c), size_class(size));
                assert_eq!(Some(CLASS_TO_SIZE[c] as usize), roundupsize(size));
            } else {
                assert_eq!(c, NUM_CLASSES - 1);
            }
        }
        assert_eq!(class_for(Layout::from_size_align(0, 1).unwrap()), None);
        assert_eq!(
            class_for(Layout::from_size_align(MAX_SMALL + 1, 1).unwrap()),
            None
        );
    }

    #[test]
    fn alignment_moves_to_an_aligned_class() {
        // 144 is aligned to 16 only; 32 bytes of alignment need class 160 (aligned to 32).
        let l = Layout::from_size_align(144, 32).unwrap();
        assert_eq!(CLASS_TO_SIZE[class_for(l).unwrap()], 160);
        // No class is aligned to 16384.
        assert_eq!(class_for(Layout::from_size_align(8, 16384).unwrap()), None);
        // 8192-aligned: the first class that is a multiple of 8192.
        let l = Layout::from_size_align(8, 8192).unwrap();
        assert_eq!(CLASS_TO_SIZE[class_for(l).unwrap()], 8192);
    }
}
