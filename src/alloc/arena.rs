//! Fixed arenas: [`Arena`] over a caller's buffer, [`StaticArena`] owning one (for a
//! `static`). No global allocator is involved.

use core::alloc::Layout;
use core::cell::UnsafeCell;
use core::marker::PhantomData;
use core::ptr::NonNull;

use allocator_api2::alloc::{AllocError, Allocator};

use super::spin::SpinLock;

/// Every block starts and ends on this boundary (relative to the arena's 16-aligned start), so
/// that a free block always has room for its list node.
const GRANULE: usize = 16;
/// End of the free list.
const NIL: usize = usize::MAX;

/// The free-list node at the start of every free block: `[size, next]`, offsets and sizes in
/// bytes, relative to the arena's start.
type Node = [usize; 2];
const _: () = assert!(core::mem::size_of::<Node>() <= GRANULE);

/// Bookkeeping of an arena's memory, kept apart from the memory itself except for the nodes
/// of free blocks.
///
/// Offsets below `top` are either allocated or in the free list (address-ordered, coalesced:
/// no two free blocks touch, and none ends at `top`); offsets from `top` to the capacity have
/// never been used, or were given back and merged into that tail.
#[derive(Debug)]
struct FreeList {
    head: usize,
    top: usize,
    used: usize,
    peak: usize,
}

impl FreeList {
    const fn new() -> Self {
        FreeList {
            head: NIL,
            top: 0,
            used: 0,
            peak: 0,
        }
    }

    /// # Safety
    /// `off` must be the offset of a free block's node in the arena starting at `base`.
    unsafe fn node(base: *mut u8, off: usize) -> Node {
        // SAFETY: caller contract; nodes sit at multiples of GRANULE from a 16-aligned base.
        unsafe { base.add(off).cast::<Node>().read() }
    }

    /// # Safety
    /// `off..off + size` must be a free range of the arena starting at `base`, `size >= GRANULE`.
    unsafe fn set_node(base: *mut u8, off: usize, size: usize, next: usize) {
        // SAFETY: caller contract.
        unsafe { base.add(off).cast::<Node>().write([size, next]) }
    }

    /// Points `prev`'s link (the list head if `prev` is `NIL`) to `to`.
    ///
    /// # Safety
    /// `prev` must be `NIL` or a free block's node offset.
    unsafe fn link(&mut self, base: *mut u8, prev: usize, to: usize) {
        if prev == NIL {
            self.head = to;
        } else {
            // SAFETY: caller contract.
            unsafe {
                let [size, _] = Self::node(base, prev);
                Self::set_node(base, prev, size, to);
            }
        }
    }

    /// The offset of the first address at or after `base + off` aligned to `align`.
    fn align_up(base: *mut u8, off: usize, align: usize) -> Option<usize> {
        let addr = (base as usize).checked_add(off)?;
        let aligned = addr.checked_add(align - 1)? & !(align - 1);
        Some(aligned - base as usize)
    }

    /// Carves a block for `layout` out of the first free block that fits (first fit, in
    /// address order), else out of the untouched tail. Returns (offset, length).
    ///
    /// # Safety
    /// `base` must be the 16-aligned start of `cap` bytes that this list manages.
    unsafe fn alloc(
        &mut self,
        base: *mut u8,
        cap: usize,
        layout: Layout,
    ) -> Option<(usize, usize)> {
        let size = layout.size().checked_add(GRANULE - 1)? & !(GRANULE - 1);
        let align = layout.align();
        let (mut prev, mut cur) = (NIL, self.head);
        while cur != NIL {
            // SAFETY: `cur` comes from the list.
            let [csize, next] = unsafe { Self::node(base, cur) };
            // Both `cur` and `at` are multiples of GRANULE (align >= GRANULE is a multiple of
            // it, and a smaller one is met by `cur` itself), so the pieces left before and
            // after the block are multiples of GRANULE too.
            let at = Self::align_up(base, cur, align.max(GRANULE))?;
            if at - cur <= csize && csize - (at - cur) >= size {
                let front = at - cur;
                let back = csize - front - size;
                // SAFETY: the pieces `cur..at` and `at + size..cur + csize` are free parts of
                // the block `cur`, each either empty or at least GRANULE long.
                unsafe {
                    let after = if back > 0 {
                        Self::set_node(base, at + size, back, next);
                        at + size
                    } else {
                        next
                    };
                    if front > 0 {
                        Self::set_node(base, cur, front, after);
                    } else {
                        self.link(base, prev, after);
                    }
                }
                self.take(size);
                return Some((at, size));
            }
            prev = cur;
            cur = next;
        }
        let at = Self::align_up(base, self.top, align.max(GRANULE))?;
        let end = at.checked_add(size)?;
        if end > cap {
            return None;
        }
        let gap = (self.top, at - self.top);
        self.top = end;
        if gap.1 > 0 {
            // SAFETY: the alignment gap is untouched memory below the new `top`, a multiple
            // of GRANULE long.
            unsafe { self.insert(base, gap.0, gap.1) };
        }
        self.take(size);
        Some((at, size))
    }

    fn take(&mut self, size: usize) {
        self.used += size;
        if self.used > self.peak {
            self.peak = self.used;
        }
    }

    /// Gives back the block `off..off + size` (size rounded to GRANULE, as `alloc` returned it).
    ///
    /// # Safety
    /// The block must be allocated from this list and no longer used.
    unsafe fn free(&mut self, base: *mut u8, off: usize, size: usize) {
        self.used -= size;
        // SAFETY: caller contract.
        unsafe { self.insert(base, off, size) };
    }

    /// Adds `off..off + size` to the free list, merging it with the free blocks it touches,
    /// and gives the result back to the tail if it ends at `top`.
    ///
    /// # Safety
    /// The range must be below `top`, unused, in no free block, and a multiple of GRANULE.
    unsafe fn insert(&mut self, base: *mut u8, off: usize, size: usize) {
        // Find the free blocks just before and just after `off`, and the one before that.
        let (mut pprev, mut prev, mut cur) = (NIL, NIL, self.head);
        while cur != NIL && cur < off {
            pprev = prev;
            prev = cur;
            // SAFETY: `cur` comes from the list.
            cur = unsafe { Self::node(base, cur) }[1];
        }
        // SAFETY: every offset used below comes from the list or is `off`, whose range the
        // caller gives us; merged ranges are unions of touching free ranges.
        unsafe {
            let (mut size, next) = if cur != NIL && off + size == cur {
                let [csize, cnext] = Self::node(base, cur);
                (size + csize, cnext)
            } else {
                (size, cur)
            };
            let psize = if prev == NIL {
                0
            } else {
                Self::node(base, prev)[0]
            };
            let (start, before) = if prev != NIL && prev + psize == off {
                size += psize;
                (prev, pprev)
            } else {
                (off, prev)
            };
            if start + size == self.top {
                // The block touches the tail: the tail takes it back. (Then `next` is NIL: no
                // free block lies above `top`.)
                debug_assert_eq!(next, NIL);
                self.top = start;
                self.link(base, before, NIL);
            } else {
                Self::set_node(base, start, size, next);
                self.link(base, before, start);
            }
        }
    }
}

/// The state shared by both arenas: the list behind a lock.
struct Core {
    list: SpinLock<FreeList>,
}

impl Core {
    const fn new() -> Self {
        Core {
            list: SpinLock::new(FreeList::new()),
        }
    }

    /// # Safety
    /// `base` must be the 16-aligned start of `cap` bytes this core manages.
    #[inline]
    unsafe fn allocate(
        &self,
        base: *mut u8,
        cap: usize,
        layout: Layout,
    ) -> Result<NonNull<[u8]>, AllocError> {
        if layout.size() == 0 {
            return Ok(super::dangling(layout.align()));
        }
        // SAFETY: caller contract.
        let (off, len) = self
            .list
            .with(|l| unsafe { l.alloc(base, cap, layout) })
            .ok_or(AllocError)?;
        // SAFETY: `off + len <= cap`, inside the arena, so the pointer is in bounds and not
        // null.
        let p = unsafe { NonNull::new_unchecked(base.add(off)) };
        Ok(NonNull::slice_from_raw_parts(p, len))
    }

    /// # Safety
    /// As for `Allocator::deallocate`, with `base` as for `allocate`.
    #[inline]
    unsafe fn deallocate(&self, base: *mut u8, ptr: NonNull<u8>, layout: Layout) {
        if layout.size() == 0 {
            return;
        }
        let off = ptr.as_ptr() as usize - base as usize;
        // Any fitting size rounds to the length `allocate` returned.
        let size = (layout.size() + GRANULE - 1) & !(GRANULE - 1);
        // SAFETY: caller contract: the block came from this arena and is no longer used.
        self.list.with(|l| unsafe { l.free(base, off, size) });
    }

    fn used(&self) -> usize {
        self.list.with(|l| l.used)
    }

    fn peak(&self) -> usize {
        self.list.with(|l| l.peak)
    }
}

/// An allocator over a caller-provided buffer: no global allocator needed.
///
/// Blocks are carved first-fit from a free list (in address order, with freed neighbours
/// merged), falling back to the untouched end of the buffer, so freed memory is reused. Every
/// block starts on a 16-byte boundary (or its own alignment, if larger) and its length is the
/// request rounded up to 16, which is what `allocate` reports. When the buffer cannot serve a
/// request, `allocate` returns `AllocError`; then a map's `insert_fallible`/`try_reserve` return an
/// error and leave the map unchanged, and its infallible methods call `handle_alloc_error`
/// (which aborts) — or panic without the `alloc` feature.
///
/// It is `Send` and `Sync`: its bookkeeping sits behind a spin lock. Do not use one arena from
/// an interrupt handler that can preempt code using the same arena (the handler would spin
/// forever).
///
/// ```
/// use gomap::alloc::Arena;
/// use gomap::{GoHasher, GoMap, SeededRand};
///
/// let mut buf = [0u8; 16 * 1024];
/// let arena = Arena::new(&mut buf);
/// let mut m: GoMap<u32, u32, _, _, _> =
///     GoMap::from_parts(0, GoHasher::with_hashkey(7), &arena, SeededRand::new(1));
/// for i in 0..40 {
///     m.insert(i, i * i);
/// }
/// assert_eq!(m.get(&6), Some(&36));
/// // The arena is finite: a big enough insert burst runs it out, and `insert_fallible` says so.
/// let mut failed = false;
/// for i in 40..10_000 {
///     if m.insert_fallible(i, 0).is_err() {
///         failed = true;
///         break;
///     }
/// }
/// assert!(failed);
/// drop(m);
/// assert_eq!(arena.used_bytes(), 0);
/// ```
pub struct Arena<'a> {
    base: NonNull<u8>,
    cap: usize,
    core: Core,
    _buf: PhantomData<&'a mut [u8]>,
}

// SAFETY: an `Arena` holds the exclusive borrow of its buffer (like `&'a mut [u8]`, which is
// Send) and its bookkeeping (plain data); it may move to another thread.
unsafe impl Send for Arena<'_> {}
// SAFETY: through `&Arena`, the bookkeeping is only touched under its lock, and the blocks
// handed out are disjoint, each used by whoever allocated it.
unsafe impl Sync for Arena<'_> {}

impl<'a> Arena<'a> {
    /// An arena over `buf`. The first bytes up to a 16-byte boundary, and a last piece shorter
    /// than 16 bytes, are not used.
    pub fn new(buf: &'a mut [u8]) -> Self {
        let len = buf.len();
        let start = buf.as_mut_ptr();
        let skip = start.align_offset(GRANULE).min(len);
        // SAFETY: `skip <= len`, so the pointer stays inside (or one past) the buffer.
        let base = unsafe { start.add(skip) };
        Arena {
            // SAFETY: derived from a slice pointer, which is never null.
            base: unsafe { NonNull::new_unchecked(base) },
            cap: (len - skip) & !(GRANULE - 1),
            core: Core::new(),
            _buf: PhantomData,
        }
    }

    /// Usable bytes.
    pub fn capacity(&self) -> usize {
        self.cap
    }

    /// Bytes in allocated blocks (each counted at its rounded length).
    pub fn used_bytes(&self) -> usize {
        self.core.used()
    }

    /// The most bytes ever in allocated blocks at once.
    pub fn peak_bytes(&self) -> usize {
        self.core.peak()
    }

    /// Whether every block has been freed and the whole buffer is one free run again.
    pub fn is_pristine(&self) -> bool {
        self.core.list.with(|l| l.top == 0 && l.head == NIL)
    }

    /// Forgets every allocation, making the whole buffer free. Taking `&mut self` proves no
    /// map borrows the arena any more.
    pub fn reset(&mut self) {
        *self.core.list.get_mut() = FreeList::new();
    }
}

impl core::fmt::Debug for Arena<'_> {
    fn fmt(&self, f: &mut core::fmt::Formatter<'_>) -> core::fmt::Result {
        f.debug_struct("Arena")
            .field("capacity", &self.cap)
            .field("used", &self.used_bytes())
            .finish()
    }
}

// SAFETY: (1) blocks lie inside the borrowed buffer, which outlives `'a`, the arena's
// borrow-checker lifetime; moving the arena does not move the buffer. (2) The free list hands
// out each byte at most once until it is freed (allocated ranges are never in the list or
// above `top`). (3) `deallocate` rounds any fitting size to the length `allocate` returned, so
// exactly the block goes back. (4) Zero-sized blocks are dangling and never freed.
unsafe impl Allocator for Arena<'_> {
    #[inline]
    fn allocate(&self, layout: Layout) -> Result<NonNull<[u8]>, AllocError> {
        // SAFETY: `base` is the 16-aligned start of `cap` bytes of our buffer.
        unsafe { self.core.allocate(self.base.as_ptr(), self.cap, layout) }
    }

    #[inline]
    unsafe fn deallocate(&self, ptr: NonNull<u8>, layout: Layout) {
        // SAFETY: caller contract; `base` as above.
        unsafe { self.core.deallocate(self.base.as_ptr(), ptr, layout) }
    }
}

/// The buffer of a [`StaticArena`], aligned to the arena's granule.
#[repr(C, align(16))]
struct Buffer<const N: usize>([u8; N]);

/// An arena that owns an `N`-byte buffer, for a `static`: a heap for programs with no global
/// allocator at all.
///
/// It works like [`Arena`] (first-fit reuse, 16-byte granules, a spin lock, the same policy
/// when exhausted). The allocator is `&StaticArena`: a map borrows the arena, so the buffer
/// never moves while blocks are in use.
///
/// ```
/// use gomap::alloc::StaticArena;
/// use gomap::{GoHasher, GoMap, SeededRand};
///
/// static HEAP: StaticArena<{ 32 * 1024 }> = StaticArena::new();
///
/// let mut m: GoMap<u16, u64, _, _, _> =
///     GoMap::from_parts(0, GoHasher::with_hashkey(0x5eed), &HEAP, SeededRand::new(3));
/// for i in 0..200 {
///     m.insert(i, u64::from(i) << 8);
/// }
/// assert_eq!(m[&199], 199 << 8);
/// assert!(HEAP.used_bytes() > 0);
/// drop(m);
/// assert_eq!(HEAP.used_bytes(), 0);
/// ```
pub struct StaticArena<const N: usize> {
    buf: UnsafeCell<Buffer<N>>,
    core: Core,
}

// SAFETY: the buffer is only reached through blocks handed out under the lock (disjoint, each
// used by its allocator's caller); the bookkeeping is behind the lock.
unsafe impl<const N: usize> Sync for StaticArena<N> {}

impl<const N: usize> StaticArena<N> {
    /// An empty arena (usable in a `static`).
    pub const fn new() -> Self {
        StaticArena {
            buf: UnsafeCell::new(Buffer([0; N])),
            core: Core::new(),
        }
    }

    /// Usable bytes (`N` rounded down to 16).
    pub const fn capacity(&self) -> usize {
        N & !(GRANULE - 1)
    }

    /// Bytes in allocated blocks (each counted at its rounded length).
    pub fn used_bytes(&self) -> usize {
        self.core.used()
    }

    /// The most bytes ever in allocated blocks at once.
    pub fn peak_bytes(&self) -> usize {
        self.core.peak()
    }

    /// Whether every block has been freed and the whole buffer is one free run again.
    pub fn is_pristine(&self) -> bool {
        self.core.list.with(|l| l.top == 0 && l.head == NIL)
    }

    #[inline]
    fn base(&self) -> *mut u8 {
        self.buf.get().cast::<u8>()
    }
}

impl<const N: usize> Default for StaticArena<N> {
    fn default() -> Self {
        Self::new()
    }
}

impl<const N: usize> core::fmt::Debug for StaticArena<N> {
    fn fmt(&self, f: &mut core::fmt::Formatter<'_>) -> core::fmt::Result {
        f.debug_struct("StaticArena")
            .field("capacity", &self.capacity())
            .field("used", &self.used_bytes())
            .finish()
    }
}

// SAFETY: (1) blocks lie inside `buf`, which the `&'a StaticArena` borrow keeps in place and
// alive for the allocator's whole lifetime `'a`. (2)-(4) as for `Arena`: the same free list
// over the same kind of buffer (16-aligned, `capacity()` bytes).
unsafe impl<const N: usize> Allocator for &StaticArena<N> {
    #[inline]
    fn allocate(&self, layout: Layout) -> Result<NonNull<[u8]>, AllocError> {
        // SAFETY: `base()` is the 16-aligned start of `capacity()` bytes of our buffer.
        unsafe { self.core.allocate(self.base(), self.capacity(), layout) }
    }

    #[inline]
    unsafe fn deallocate(&self, ptr: NonNull<u8>, layout: Layout) {
        // SAFETY: caller contract; `base()` as above.
        unsafe { self.core.deallocate(self.base(), ptr, layout) }
    }
}
