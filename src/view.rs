//! A read-only view of a map's raw memory, for tests, snapshots and the inspector.

use core::marker::PhantomData;

use crate::layout::*;

/// Types whose values contain no uninitialized (padding) bytes, so that a bucket holding them
/// can be read as plain bytes ([`BucketView::bytes`]).
///
/// # Safety
/// Every byte of every value of the type must be initialized: no padding, no `MaybeUninit`.
pub unsafe trait NoUninit {}

macro_rules! no_uninit {
    ($($t:ty),*) => {$(
        // SAFETY: primitive types have no padding bytes.
        unsafe impl NoUninit for $t {}
    )*};
}
no_uninit!(
    u8,
    u16,
    u32,
    u64,
    u128,
    usize,
    i8,
    i16,
    i32,
    i64,
    i128,
    isize,
    f32,
    f64,
    bool,
    char,
    ()
);
// SAFETY: a byte slice's bytes are initialized (dynamic maps write whole values, pointers and
// zeroes only).
unsafe impl NoUninit for [u8] {}
// SAFETY: an array of padding-free elements has no padding (size = N * element size).
unsafe impl<T: NoUninit, const N: usize> NoUninit for [T; N] {}
// SAFETY: references and raw pointers are addresses (plus a length or vtable for unsized
// pointees), all initialized.
unsafe impl<T: ?Sized> NoUninit for &T {}
// SAFETY: as above.
unsafe impl<T: ?Sized> NoUninit for &mut T {}
// SAFETY: as above.
unsafe impl<T: ?Sized> NoUninit for *const T {}
// SAFETY: as above.
unsafe impl<T: ?Sized> NoUninit for *mut T {}
#[cfg(feature = "alloc")]
// SAFETY: a Box with the global allocator is a (possibly fat) pointer.
unsafe impl<T: ?Sized> NoUninit for alloc_crate::boxed::Box<T> {}
#[cfg(feature = "alloc")]
// SAFETY: a String is a pointer, a capacity and a length: three initialized words.
unsafe impl NoUninit for alloc_crate::string::String {}
#[cfg(feature = "alloc")]
// SAFETY: a Vec (global allocator) is a pointer, a capacity and a length.
unsafe impl<T> NoUninit for alloc_crate::vec::Vec<T> {}

/// Which array a bucket belongs to.
#[derive(Copy, Clone, Debug, PartialEq, Eq, Hash)]
pub enum BucketKind {
    /// Bucket `i` of the current array (`i >= 2^B`: a preallocated overflow bucket).
    Main(usize),
    /// Bucket `i` of the old array (`i >= noldbuckets`: preallocated there).
    Old(usize),
    /// An overflow bucket allocated on its own (Go's `newobject`).
    Heap,
}

/// A read-only view of a map's memory ([`GoMap::raw`](crate::GoMap::raw),
/// [`DynMap::raw`](crate::dynamic::DynMap::raw), where `K` and `V` are `[u8]`).
pub struct RawView<'a, K: ?Sized, V: ?Sized> {
    h: &'a Hmap,
    layout: BucketLayout,
    marker: PhantomData<(&'a K, &'a V)>,
}

impl<K: ?Sized, V: ?Sized> Clone for RawView<'_, K, V> {
    fn clone(&self) -> Self {
        *self
    }
}
impl<K: ?Sized, V: ?Sized> Copy for RawView<'_, K, V> {}

impl<'a, K: ?Sized, V: ?Sized> RawView<'a, K, V> {
    /// A view of the map whose header is `h`; `layout` must be the map's layout (for a typed
    /// view, `BucketLayout::of::<K, V>()`).
    pub(crate) fn new(h: &'a Hmap, layout: BucketLayout) -> Self {
        RawView {
            h,
            layout,
            marker: PhantomData,
        }
    }

    /// The header.
    pub fn header(&self) -> &'a Hmap {
        self.h
    }

    /// The bucket layout.
    pub fn layout(&self) -> BucketLayout {
        self.layout
    }

    /// B of the old array (meaningful while growing).
    #[allow(non_snake_case)]
    pub fn old_B(&self) -> u8 {
        if self.h.same_size_grow() {
            self.h.B
        } else {
            self.h.B.wrapping_sub(1)
        }
    }

    /// Number of buckets allocated in the current array (2^B plus preallocated; 0 if none).
    pub fn array_len(&self) -> usize {
        if self.h.buckets.is_null() {
            0
        } else {
            self.layout().nbuckets(self.h.B).unwrap_or(0)
        }
    }

    /// Number of buckets allocated in the old array (0 unless growing).
    pub fn old_array_len(&self) -> usize {
        if self.h.oldbuckets.is_null() {
            0
        } else {
            self.layout().nbuckets(self.old_B()).unwrap_or(0)
        }
    }

    fn view(&self, ptr: *mut u8, kind: BucketKind) -> BucketView<'a, K, V> {
        BucketView {
            ptr,
            kind,
            view: *self,
        }
    }

    /// Bucket `i` of the current array, preallocated ones included (`i < array_len()`).
    pub fn bucket(&self, i: usize) -> Option<BucketView<'a, K, V>> {
        if i >= self.array_len() {
            return None;
        }
        // SAFETY: i < array_len, so the bucket is inside the current array.
        Some(self.view(
            unsafe { self.h.buckets.add(i * self.layout().bucketsize) },
            BucketKind::Main(i),
        ))
    }

    /// Bucket `i` of the old array (`i < old_array_len()`).
    pub fn old_bucket(&self, i: usize) -> Option<BucketView<'a, K, V>> {
        if i >= self.old_array_len() {
            return None;
        }
        // SAFETY: i < old_array_len, so the bucket is inside the old array.
        Some(self.view(
            unsafe { self.h.oldbuckets.add(i * self.layout().bucketsize) },
            BucketKind::Old(i),
        ))
    }

    /// The 2^B head buckets of the current array.
    pub fn buckets(&self) -> impl Iterator<Item = BucketView<'a, K, V>> + 'a {
        let v = *self;
        let n = if self.h.buckets.is_null() {
            0
        } else {
            bucket_shift(self.h.B)
        };
        (0..n).filter_map(move |i| v.bucket(i))
    }

    /// The head buckets of the old array (none unless growing).
    pub fn old_buckets(&self) -> impl Iterator<Item = BucketView<'a, K, V>> + 'a {
        let v = *self;
        let n = if self.h.oldbuckets.is_null() {
            0
        } else {
            self.h.noldbuckets()
        };
        (0..n).filter_map(move |i| v.old_bucket(i))
    }

    /// The preallocated overflow buckets of the current array, used or not.
    pub fn preallocated(&self) -> impl Iterator<Item = BucketView<'a, K, V>> + 'a {
        let v = *self;
        let lo = if self.h.buckets.is_null() {
            0
        } else {
            bucket_shift(self.h.B)
        };
        (lo..self.array_len()).filter_map(move |i| v.bucket(i))
    }

    /// What a bucket address is: in the current array, the old array, or a heap bucket.
    pub fn classify(&self, addr: usize) -> BucketKind {
        let bs = self.layout().bucketsize;
        let (b, o) = (self.h.buckets as usize, self.h.oldbuckets as usize);
        if b != 0 && addr >= b && addr < b + self.array_len() * bs {
            BucketKind::Main((addr - b) / bs)
        } else if o != 0 && addr >= o && addr < o + self.old_array_len() * bs {
            BucketKind::Old((addr - o) / bs)
        } else {
            BucketKind::Heap
        }
    }

    /// The chain starting at `head` (the head first), following overflow pointers.
    /// Do not start it at an unused preallocated bucket: its overflow word is the sentinel.
    pub fn chain(
        &self,
        head: BucketView<'a, K, V>,
    ) -> impl Iterator<Item = BucketView<'a, K, V>> + 'a {
        core::iter::successors(Some(head), |b| b.overflow_bucket())
    }

    /// The `extra` record, if any.
    pub fn extra(&self) -> Option<&'a MapExtra> {
        // SAFETY: `extra` is null or a valid MapExtra (invariant 6), alive as long as the map.
        unsafe { self.h.extra.as_ref() }
    }

    /// Addresses in `extra.overflow` (Go keeps it only for pointer-free buckets), in order.
    pub fn overflow_list(&self) -> &'a [*mut u8] {
        match self.extra() {
            // SAFETY: the list is null or a valid slice of the map (invariant 6).
            Some(e) => unsafe { slice_of(e.overflow) },
            None => &[],
        }
    }

    /// Addresses in `extra.oldoverflow`, in order.
    pub fn old_overflow_list(&self) -> &'a [*mut u8] {
        match self.extra() {
            // SAFETY: as above.
            Some(e) => unsafe { slice_of(e.oldoverflow) },
            None => &[],
        }
    }

    /// Address of `extra.nextOverflow` (0 when none).
    pub fn next_overflow(&self) -> usize {
        self.extra().map_or(0, |e| e.nextOverflow as usize)
    }
}

/// # Safety
/// `s` must be null or a valid `GoSlice` that outlives `'a`.
unsafe fn slice_of<'a>(s: *const GoSlice) -> &'a [*mut u8] {
    if s.is_null() {
        return &[];
    }
    // SAFETY: caller contract; `ptr` holds `len` initialized words.
    unsafe {
        if (*s).len == 0 {
            &[]
        } else {
            core::slice::from_raw_parts((*s).ptr, (*s).len)
        }
    }
}

/// One bucket of a map, read-only.
pub struct BucketView<'a, K: ?Sized, V: ?Sized> {
    ptr: *mut u8,
    kind: BucketKind,
    view: RawView<'a, K, V>,
}

impl<K: ?Sized, V: ?Sized> Clone for BucketView<'_, K, V> {
    fn clone(&self) -> Self {
        *self
    }
}
impl<K: ?Sized, V: ?Sized> Copy for BucketView<'_, K, V> {}

impl<'a, K: ?Sized, V: ?Sized> BucketView<'a, K, V> {
    /// The bucket's address.
    pub fn addr(&self) -> usize {
        self.ptr as usize
    }
    /// Which array it belongs to.
    pub fn kind(&self) -> BucketKind {
        self.kind
    }
    /// The 8 tophash bytes.
    pub fn tophash(&self) -> [u8; BUCKET_CNT] {
        // SAFETY: a bucket starts with 8 initialized tophash bytes.
        unsafe { self.ptr.cast::<[u8; BUCKET_CNT]>().read() }
    }
    /// The state of slot `i`.
    pub fn state(&self, i: usize) -> TophashState {
        TophashState::of(self.tophash()[i])
    }
    /// Whether this (old) bucket has been evacuated (Go's `evacuated(b)`).
    pub fn evacuated(&self) -> bool {
        evacuated(self.tophash()[0])
    }
    /// The overflow pointer as an address (0 when none).
    pub fn overflow(&self) -> usize {
        let l = self.view.layout();
        // SAFETY: the overflow word is the bucket's last initialized word.
        unsafe { self.ptr.add(l.overflow_offset()).cast::<usize>().read() }
    }
    /// The next bucket in the chain.
    pub fn overflow_bucket(&self) -> Option<BucketView<'a, K, V>> {
        let l = self.view.layout();
        // SAFETY: as in `overflow`, read as a pointer to keep its provenance.
        let p = unsafe { self.ptr.add(l.overflow_offset()).cast::<*mut u8>().read() };
        if p.is_null() {
            None
        } else {
            Some(BucketView {
                ptr: p,
                kind: self.view.classify(p as usize),
                view: self.view,
            })
        }
    }
    /// The key of slot `i` if the slot is live.
    pub fn key(&self, i: usize) -> Option<&'a K>
    where
        K: Sized,
    {
        if !self.state(i).is_live() {
            return None;
        }
        let l = self.view.layout();
        // SAFETY: a live slot in a reachable bucket holds an initialized key (invariant 4).
        unsafe {
            let s = self.ptr.add(l.key_offset(i));
            Some(if l.indirect_key {
                &**s.cast::<*const K>()
            } else {
                &*s.cast::<K>()
            })
        }
    }
    /// The elem of slot `i` if the slot is live.
    pub fn elem(&self, i: usize) -> Option<&'a V>
    where
        V: Sized,
    {
        if !self.state(i).is_live() {
            return None;
        }
        let l = self.view.layout();
        // SAFETY: as in `key`.
        unsafe {
            let s = self.ptr.add(l.elem_offset(i));
            Some(if l.indirect_elem {
                &**s.cast::<*const V>()
            } else {
                &*s.cast::<V>()
            })
        }
    }
}

impl<'a, K: NoUninit + ?Sized, V: NoUninit + ?Sized> BucketView<'a, K, V> {
    /// The bucket's memory, `bucketsize` bytes.
    pub fn bytes(&self) -> &'a [u8] {
        // SAFETY: buckets are allocated zeroed and only ever written with whole K and V values
        // (no padding, by `NoUninit`), tophash bytes and pointers, so every byte is initialized.
        unsafe { core::slice::from_raw_parts(self.ptr, self.view.layout().bucketsize) }
    }
}
