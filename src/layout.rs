//! The one model of the memory layout: Go 1.19's `hmap`, `mapextra` and bucket (`bmap`).
//!
//! Everything here is plain data and `const fn`, so that the map itself, `map-inspect`, the
//! tests and the GDB script (which restates these numbers; a test keeps the two in agreement)
//! share one definition. Names follow Go's `runtime/map.go`.
//!
//! ```text
//! hmap (48 bytes)                               bucket (bucketsize = 8 + 8*keysize + 8*elemsize + 8)
//! +0  count      int                            +0                tophash [8]u8
//! +8  flags      u8                             +8                keys    [8]K'   (K' = K or *K)
//! +9  B          u8  (2^B buckets)              +8+8*keysize      elems   [8]V'   (V' = V or *V)
//! +10 noverflow  u16                            +bucketsize-8     overflow *bmap
//! +12 hash0      u32
//! +16 buckets    *bmap      (2^B + preallocated overflow buckets)
//! +24 oldbuckets *bmap      (non-nil only while growing)
//! +32 nevacuate  uintptr    (old buckets below it are evacuated)
//! +40 extra      *mapextra  (overflow, oldoverflow, nextOverflow)
//! ```

use core::mem::{align_of, offset_of, size_of};
use core::sync::atomic::{AtomicU8, Ordering};

/// log2 of [`BUCKET_CNT`] (Go's `bucketCntBits`).
pub const BUCKET_CNT_BITS: u32 = 3;
/// Slots per bucket (Go's `bucketCnt`).
pub const BUCKET_CNT: usize = 1 << BUCKET_CNT_BITS;
/// Numerator of the load factor 13/2 = 6.5 (Go's `loadFactorNum`).
pub const LOAD_FACTOR_NUM: usize = 13;
/// Denominator of the load factor (Go's `loadFactorDen`).
pub const LOAD_FACTOR_DEN: usize = 2;
/// Keys larger than this many bytes are stored indirectly (Go's `maxKeySize`).
pub const MAX_KEY_SIZE: usize = 128;
/// Elems larger than this many bytes are stored indirectly (Go's `maxElemSize`).
pub const MAX_ELEM_SIZE: usize = 128;
/// Offset of the first key in a bucket (Go's `dataOffset`).
pub const DATA_OFFSET: usize = 8;
/// Largest alignment a key or elem may have and still be stored inline. Go never needs more than
/// 8; a Rust type with a larger alignment is stored indirectly, like an oversized one.
pub const MAX_INLINE_ALIGN: usize = 8;

/// Tophash: this slot is empty, and so is every later slot of this bucket and of its overflow
/// chain (Go's `emptyRest`).
pub const EMPTY_REST: u8 = 0;
/// Tophash: this slot is empty (Go's `emptyOne`).
pub const EMPTY_ONE: u8 = 1;
/// Tophash of an old slot whose entry moved to the lower half of the new array (`evacuatedX`).
pub const EVACUATED_X: u8 = 2;
/// Tophash of an old slot whose entry moved to the upper half of the new array (`evacuatedY`).
pub const EVACUATED_Y: u8 = 3;
/// Tophash of an old slot that was empty when its bucket was evacuated (`evacuatedEmpty`).
pub const EVACUATED_EMPTY: u8 = 4;
/// Smallest tophash of a live entry (Go's `minTopHash`).
pub const MIN_TOP_HASH: u8 = 5;

/// `hiter.checkBucket` value meaning "no check" (Go's `noCheck`).
pub const NO_CHECK: usize = usize::MAX;
/// Largest allocation Go allows (`maxAlloc`): 1 << 48 on 64-bit targets (heapAddrBits = 48),
/// 2^32 - 1 on 32-bit ones. `makemap` treats a hint whose buckets would exceed it as hint 0.
#[cfg(target_pointer_width = "64")]
pub const MAX_ALLOC: usize = 1 << 48;
/// Largest allocation Go allows (`maxAlloc`): 2^32 - 1 on 32-bit targets.
#[cfg(not(target_pointer_width = "64"))]
pub const MAX_ALLOC: usize = usize::MAX;

/// Whether an allocation of `bytes` is within Go's [`MAX_ALLOC`] (always true on 32-bit
/// targets, where `MAX_ALLOC` is `usize::MAX`).
#[allow(clippy::absurd_extreme_comparisons)]
#[inline]
pub const fn within_max_alloc(bytes: usize) -> bool {
    bytes <= MAX_ALLOC
}

bitflags::bitflags! {
    /// The `hmap.flags` byte.
    #[derive(Copy, Clone, Debug, PartialEq, Eq, Hash)]
    pub struct Flags: u8 {
        /// There may be an iterator using `buckets` (Go's `iterator`).
        const ITERATOR = 1;
        /// There may be an iterator using `oldbuckets` (Go's `oldIterator`).
        const OLD_ITERATOR = 2;
        /// A write is in progress (Go's `hashWriting`, the concurrent-misuse detector).
        const HASH_WRITING = 4;
        /// The current grow keeps the same number of buckets (Go's `sameSizeGrow`).
        const SAME_SIZE_GROW = 8;
    }
}

impl Flags {
    /// The flag names that are set, in bit order, joined by `|` (`"0"` when none is set).
    /// Unknown bits are shown as hex.
    #[inline]
    pub fn names(self) -> FlagNames {
        FlagNames(self.bits())
    }
}

/// Display helper returned by [`Flags::names`].
#[derive(Copy, Clone, Debug)]
pub struct FlagNames(u8);

impl core::fmt::Display for FlagNames {
    fn fmt(&self, f: &mut core::fmt::Formatter<'_>) -> core::fmt::Result {
        const NAMES: [(u8, &str); 4] = [
            (1, "ITERATOR"),
            (2, "OLD_ITERATOR"),
            (4, "HASH_WRITING"),
            (8, "SAME_SIZE_GROW"),
        ];
        if self.0 == 0 {
            return f.write_str("0");
        }
        let mut first = true;
        let mut sep = |f: &mut core::fmt::Formatter<'_>| {
            if !core::mem::take(&mut first) {
                f.write_str("|")
            } else {
                Ok(())
            }
        };
        for (bit, name) in NAMES {
            if self.0 & bit != 0 {
                sep(f)?;
                f.write_str(name)?;
            }
        }
        let unknown = self.0 & 0xf0;
        if unknown != 0 {
            sep(f)?;
            write!(f, "{unknown:#04x}")?;
        }
        Ok(())
    }
}

/// Go's `hmap`: the 48-byte map header, field for field at Go's offsets.
///
/// The fields are private so that safe code can never break the map's invariants; read them
/// through the accessors. `flags` is an [`AtomicU8`] (same layout as Go's `uint8`) because
/// iteration sets the iterator bits through a shared reference, as Go's `mapiterinit` does
/// with `atomic.Or8`.
#[repr(C)]
#[allow(non_snake_case)]
pub struct Hmap {
    pub(crate) count: usize,
    pub(crate) flags: AtomicU8,
    pub(crate) B: u8,
    pub(crate) noverflow: u16,
    pub(crate) hash0: u32,
    pub(crate) buckets: *mut u8,
    pub(crate) oldbuckets: *mut u8,
    pub(crate) nevacuate: usize,
    pub(crate) extra: *mut MapExtra,
}

#[allow(non_snake_case)]
impl Hmap {
    /// Offset of `count` (0).
    pub const COUNT_OFFSET: usize = offset_of!(Hmap, count);
    /// Offset of `flags` (8).
    pub const FLAGS_OFFSET: usize = offset_of!(Hmap, flags);
    /// Offset of `B` (9).
    pub const B_OFFSET: usize = offset_of!(Hmap, B);
    /// Offset of `noverflow` (10).
    pub const NOVERFLOW_OFFSET: usize = offset_of!(Hmap, noverflow);
    /// Offset of `hash0` (12).
    pub const HASH0_OFFSET: usize = offset_of!(Hmap, hash0);
    /// Offset of `buckets` (16).
    pub const BUCKETS_OFFSET: usize = offset_of!(Hmap, buckets);
    /// Offset of `oldbuckets` (24).
    pub const OLDBUCKETS_OFFSET: usize = offset_of!(Hmap, oldbuckets);
    /// Offset of `nevacuate` (32).
    pub const NEVACUATE_OFFSET: usize = offset_of!(Hmap, nevacuate);
    /// Offset of `extra` (40).
    pub const EXTRA_OFFSET: usize = offset_of!(Hmap, extra);
    /// Size of the header (48).
    pub const SIZE: usize = size_of::<Hmap>();

    #[inline]
    pub(crate) const fn empty(hash0: u32) -> Hmap {
        Hmap {
            count: 0,
            flags: AtomicU8::new(0),
            B: 0,
            noverflow: 0,
            hash0,
            buckets: core::ptr::null_mut(),
            oldbuckets: core::ptr::null_mut(),
            nevacuate: 0,
            extra: core::ptr::null_mut(),
        }
    }

    /// Number of live entries (`count`).
    #[inline]
    pub fn count(&self) -> usize {
        self.count
    }
    /// The flag byte (`flags`).
    #[inline]
    pub fn flags(&self) -> Flags {
        Flags::from_bits_retain(self.flags.load(Ordering::Relaxed))
    }
    /// log2 of the number of buckets (`B`).
    #[inline]
    pub fn B(&self) -> u8 {
        self.B
    }
    /// Approximate number of overflow buckets (`noverflow`).
    #[inline]
    pub fn noverflow(&self) -> u16 {
        self.noverflow
    }
    /// The per-map hash seed (`hash0`).
    #[inline]
    pub fn hash0(&self) -> u32 {
        self.hash0
    }
    /// Address of the bucket array (`buckets`), 0 when none is allocated yet.
    #[inline]
    pub fn buckets(&self) -> usize {
        self.buckets as usize
    }
    /// Address of the old bucket array (`oldbuckets`), 0 unless a grow is in progress.
    #[inline]
    pub fn oldbuckets(&self) -> usize {
        self.oldbuckets as usize
    }
    /// Evacuation progress (`nevacuate`): every old bucket below it has been evacuated.
    #[inline]
    pub fn nevacuate(&self) -> usize {
        self.nevacuate
    }
    /// Address of the [`MapExtra`] (`extra`), 0 when there is none.
    #[inline]
    pub fn extra(&self) -> usize {
        self.extra as usize
    }
    /// Whether a grow is in progress (Go's `growing()`).
    #[inline]
    pub fn growing(&self) -> bool {
        !self.oldbuckets.is_null()
    }
    /// Whether the grow in progress is a same-size grow.
    #[inline]
    pub fn same_size_grow(&self) -> bool {
        self.flags().contains(Flags::SAME_SIZE_GROW)
    }
    /// Number of buckets in the old array (Go's `noldbuckets()`), meaningful while growing.
    #[inline]
    pub fn noldbuckets(&self) -> usize {
        let mut old_b = self.B;
        if !self.same_size_grow() {
            old_b = old_b.wrapping_sub(1);
        }
        bucket_shift(old_b)
    }
    /// `noldbuckets() - 1` (Go's `oldbucketmask()`).
    #[inline]
    pub fn oldbucketmask(&self) -> usize {
        self.noldbuckets() - 1
    }
}

/// Go's `mapextra` (24 bytes).
#[repr(C)]
#[allow(non_snake_case)]
pub struct MapExtra {
    /// `*[]*bmap`: every overflow bucket of `buckets`, kept only for pointer-free buckets.
    pub(crate) overflow: *mut GoSlice,
    /// `*[]*bmap`: the same list for `oldbuckets`.
    pub(crate) oldoverflow: *mut GoSlice,
    /// Next free preallocated overflow bucket, or null.
    pub(crate) nextOverflow: *mut u8,
}

#[allow(non_snake_case)]
impl MapExtra {
    /// Offset of `overflow` (0).
    pub const OVERFLOW_OFFSET: usize = offset_of!(MapExtra, overflow);
    /// Offset of `oldoverflow` (8).
    pub const OLDOVERFLOW_OFFSET: usize = offset_of!(MapExtra, oldoverflow);
    /// Offset of `nextOverflow` (16).
    pub const NEXT_OVERFLOW_OFFSET: usize = offset_of!(MapExtra, nextOverflow);
    /// Size of `mapextra` (24).
    pub const SIZE: usize = size_of::<MapExtra>();

    /// Address of the overflow list's slice header, 0 when none.
    #[inline]
    pub fn overflow(&self) -> usize {
        self.overflow as usize
    }
    /// Address of the old overflow list's slice header, 0 when none.
    #[inline]
    pub fn oldoverflow(&self) -> usize {
        self.oldoverflow as usize
    }
    /// Address of the next free preallocated overflow bucket, 0 when none.
    #[inline]
    pub fn nextOverflow(&self) -> usize {
        self.nextOverflow as usize
    }
}

/// A Go slice header `[]*bmap`: data pointer, length, capacity (24 bytes).
#[repr(C)]
pub struct GoSlice {
    pub(crate) ptr: *mut *mut u8,
    pub(crate) len: usize,
    pub(crate) cap: usize,
}

impl GoSlice {
    /// Size of a slice header (24).
    pub const SIZE: usize = size_of::<GoSlice>();
    /// Offset of the data pointer (0).
    pub const PTR_OFFSET: usize = offset_of!(GoSlice, ptr);
    /// Offset of the length (8).
    pub const LEN_OFFSET: usize = offset_of!(GoSlice, len);
    /// Offset of the capacity (16).
    pub const CAP_OFFSET: usize = offset_of!(GoSlice, cap);
}

// Go's offsets on 64-bit targets, checked at compile time.
#[cfg(target_pointer_width = "64")]
const _: () = {
    assert!(offset_of!(Hmap, count) == 0);
    assert!(offset_of!(Hmap, flags) == 8);
    assert!(offset_of!(Hmap, B) == 9);
    assert!(offset_of!(Hmap, noverflow) == 10);
    assert!(offset_of!(Hmap, hash0) == 12);
    assert!(offset_of!(Hmap, buckets) == 16);
    assert!(offset_of!(Hmap, oldbuckets) == 24);
    assert!(offset_of!(Hmap, nevacuate) == 32);
    assert!(offset_of!(Hmap, extra) == 40);
    assert!(size_of::<Hmap>() == 48);
    assert!(align_of::<Hmap>() == 8);
    assert!(offset_of!(MapExtra, overflow) == 0);
    assert!(offset_of!(MapExtra, oldoverflow) == 8);
    assert!(offset_of!(MapExtra, nextOverflow) == 16);
    assert!(size_of::<MapExtra>() == 24);
    assert!(size_of::<GoSlice>() == 24);
    assert!(size_of::<AtomicU8>() == 1);
};

// Go's offsets on 32-bit targets (for no_std builds such as thumbv7em): count is 4 bytes, and
// every later field moves down with it, exactly as in Go's 32-bit `hmap` (28 bytes).
#[cfg(target_pointer_width = "32")]
const _: () = {
    assert!(offset_of!(Hmap, flags) == 4);
    assert!(offset_of!(Hmap, hash0) == 8);
    assert!(offset_of!(Hmap, buckets) == 12);
    assert!(offset_of!(Hmap, extra) == 24);
    assert!(size_of::<Hmap>() == 28);
    assert!(size_of::<MapExtra>() == 12);
};

/// How keys and elems of given sizes and alignments are laid out in a bucket.
///
/// Computable from sizes and alignments alone (`const fn`), so a reader that knows only the
/// key and elem sizes can walk a map's memory.
#[derive(Copy, Clone, Debug, PartialEq, Eq, Hash)]
pub struct BucketLayout {
    /// Size of the key type itself.
    pub key_size: usize,
    /// Size of the elem (value) type itself.
    pub elem_size: usize,
    /// Whether keys are stored indirectly (the slot holds a pointer).
    pub indirect_key: bool,
    /// Whether elems are stored indirectly (the slot holds a pointer).
    pub indirect_elem: bool,
    /// Size of one key slot (Go's `maptype.keysize`): the key size, or a pointer.
    pub keysize: usize,
    /// Size of one elem slot (Go's `maptype.elemsize`): the elem size, or a pointer.
    pub elemsize: usize,
    /// Size of one bucket (Go's `maptype.bucketsize`).
    pub bucketsize: usize,
}

impl BucketLayout {
    /// The layout for keys and elems of the given sizes and alignments.
    ///
    /// A type is stored indirectly when it is larger than 128 bytes (Go's rule) or, a case Go
    /// never meets, when its alignment exceeds 8.
    #[inline]
    pub const fn new(
        key_size: usize,
        key_align: usize,
        elem_size: usize,
        elem_align: usize,
    ) -> Self {
        let indirect_key = key_size > MAX_KEY_SIZE || key_align > MAX_INLINE_ALIGN;
        let indirect_elem = elem_size > MAX_ELEM_SIZE || elem_align > MAX_INLINE_ALIGN;
        let ptr = size_of::<usize>();
        let keysize = if indirect_key { ptr } else { key_size };
        let elemsize = if indirect_elem { ptr } else { elem_size };
        let bucketsize = DATA_OFFSET + BUCKET_CNT * keysize + BUCKET_CNT * elemsize + ptr;
        BucketLayout {
            key_size,
            elem_size,
            indirect_key,
            indirect_elem,
            keysize,
            elemsize,
            bucketsize,
        }
    }

    /// The layout for given sizes and given indirection (for a reader that was told which
    /// slots hold pointers).
    #[inline]
    pub const fn with_indirection(
        key_size: usize,
        elem_size: usize,
        indirect_key: bool,
        indirect_elem: bool,
    ) -> Self {
        let ptr = size_of::<usize>();
        let keysize = if indirect_key { ptr } else { key_size };
        let elemsize = if indirect_elem { ptr } else { elem_size };
        BucketLayout {
            key_size,
            elem_size,
            indirect_key,
            indirect_elem,
            keysize,
            elemsize,
            bucketsize: DATA_OFFSET + BUCKET_CNT * keysize + BUCKET_CNT * elemsize + ptr,
        }
    }

    /// The layout for Go's sizes: keys and elems with Go's alignment rule (at most 8). Use this
    /// when only sizes are known (for a Go map: `--key-size`/`--elem-size`).
    #[inline]
    pub const fn from_sizes(key_size: usize, elem_size: usize) -> Self {
        Self::new(key_size, 1, elem_size, 1)
    }

    /// The layout of a `GoMap<K, V>`.
    #[inline]
    pub const fn of<K, V>() -> Self {
        Self::new(
            size_of::<K>(),
            align_of::<K>(),
            size_of::<V>(),
            align_of::<V>(),
        )
    }

    /// Offset of the tophash array (0).
    #[inline]
    pub const fn tophash_offset(&self) -> usize {
        0
    }
    /// Offset of key slot `i`.
    #[inline]
    pub const fn key_offset(&self, i: usize) -> usize {
        DATA_OFFSET + i * self.keysize
    }
    /// Offset of elem slot `i`.
    #[inline]
    pub const fn elem_offset(&self, i: usize) -> usize {
        DATA_OFFSET + BUCKET_CNT * self.keysize + i * self.elemsize
    }
    /// Offset of the overflow pointer (the last word).
    #[inline]
    pub const fn overflow_offset(&self) -> usize {
        self.bucketsize - size_of::<usize>()
    }
    /// Number of buckets `make_bucket_array` allocates for `b`: 2^b, plus the preallocated
    /// overflow buckets when b >= 4 (about 1/16 more, rounded up to fill Go's malloc size
    /// class). `None` if the size overflows.
    #[inline]
    pub const fn nbuckets(&self, b: u8) -> Option<usize> {
        if b as u32 >= usize::BITS {
            return None;
        }
        let base = 1usize << b;
        let mut n = base;
        if b >= 4 {
            n += 1usize << (b - 4);
            let sz = match self.bucketsize.checked_mul(n) {
                Some(sz) => sz,
                None => return None,
            };
            let up = match crate::alloc::roundupsize(sz) {
                Some(up) => up,
                None => return None,
            };
            if up != sz {
                n = up / self.bucketsize;
            }
        }
        Some(n)
    }
    /// Number of preallocated overflow buckets for `b` (0 when b < 4).
    #[inline]
    pub const fn npreallocated(&self, b: u8) -> Option<usize> {
        match self.nbuckets(b) {
            Some(n) => Some(n - (1usize << b)),
            None => None,
        }
    }
    /// Size in bytes of the bucket array for `b`, preallocated buckets included.
    #[inline]
    pub const fn array_bytes(&self, b: u8) -> Option<usize> {
        match self.nbuckets(b) {
            Some(n) => self.bucketsize.checked_mul(n),
            None => None,
        }
    }
}

/// Go's `bucketShift(b)`: 2^b (the shift amount is masked to the word size, as in Go).
#[inline]
pub const fn bucket_shift(b: u8) -> usize {
    1usize << (b as u32 & (usize::BITS - 1))
}

/// Go's `bucketMask(b)`: 2^b - 1.
#[inline]
pub const fn bucket_mask(b: u8) -> usize {
    bucket_shift(b).wrapping_sub(1)
}

/// Go's `tophash(hash)`: the top byte of the hash, moved above the reserved states.
#[inline]
pub const fn tophash(hash: u64) -> u8 {
    let top = (hash >> 56) as u8;
    if top < MIN_TOP_HASH {
        top + MIN_TOP_HASH
    } else {
        top
    }
}

/// Go's `isEmpty(x)`: the slot holds no entry (`EMPTY_REST` or `EMPTY_ONE`).
#[inline]
pub const fn is_empty(x: u8) -> bool {
    x <= EMPTY_ONE
}

/// Go's `evacuated(b)`, applied to a bucket's first tophash byte.
#[inline]
pub const fn evacuated(tophash0: u8) -> bool {
    tophash0 > EMPTY_ONE && tophash0 < MIN_TOP_HASH
}

/// Go's `overLoadFactor(count, B)`: more than 8 entries and more than 6.5 per bucket.
#[allow(non_snake_case)]
#[inline]
pub const fn over_load_factor(count: usize, B: u8) -> bool {
    count > BUCKET_CNT && count > LOAD_FACTOR_NUM * (bucket_shift(B) / LOAD_FACTOR_DEN)
}

/// The most entries an array of 2^B buckets holds before Go's next load-factor grow: the
/// largest `count` with `!over_load_factor(count, B)`, i.e. 8 for B = 0 and 6.5 · 2^B above
/// (saturating at `usize::MAX`).
#[allow(non_snake_case)]
#[inline]
pub const fn load_factor_capacity(B: u8) -> usize {
    if B == 0 {
        BUCKET_CNT
    } else if B as u32 > usize::BITS {
        usize::MAX
    } else {
        LOAD_FACTOR_NUM.saturating_mul(1usize << (B - 1))
    }
}

/// The smallest B whose array holds `n` entries without a load-factor grow (what
/// [`b_for_hint`] computes, without overflow), or `None` if no B below the word size does.
#[inline]
pub const fn b_for_entries(n: usize) -> Option<u8> {
    let mut b = 0u8;
    while (b as u32) < usize::BITS {
        if n <= load_factor_capacity(b) {
            return Some(b);
        }
        b += 1;
    }
    None
}

/// Go's `tooManyOverflowBuckets(noverflow, B)`: about as many overflow buckets as buckets.
#[allow(non_snake_case)]
#[inline]
pub const fn too_many_overflow_buckets(noverflow: u16, B: u8) -> bool {
    let b = if B > 15 { 15 } else { B };
    noverflow >= (1u16 << (b & 15))
}

/// The B that Go's `makemap` picks for a size hint: the smallest B that does not overload.
#[allow(non_snake_case)]
#[inline]
pub const fn b_for_hint(hint: usize) -> u8 {
    let mut b = 0u8;
    while over_load_factor(hint, b) {
        b += 1;
    }
    b
}

/// What a tophash byte says about its slot.
#[derive(Copy, Clone, Debug, PartialEq, Eq, Hash)]
pub enum TophashState {
    /// `EMPTY_REST` (0).
    EmptyRest,
    /// `EMPTY_ONE` (1).
    EmptyOne,
    /// `EVACUATED_X` (2).
    EvacuatedX,
    /// `EVACUATED_Y` (3).
    EvacuatedY,
    /// `EVACUATED_EMPTY` (4).
    EvacuatedEmpty,
    /// A live entry with this tophash (>= 5).
    Live(u8),
}

impl TophashState {
    /// Decodes a tophash byte.
    #[inline]
    pub const fn of(b: u8) -> Self {
        match b {
            EMPTY_REST => TophashState::EmptyRest,
            EMPTY_ONE => TophashState::EmptyOne,
            EVACUATED_X => TophashState::EvacuatedX,
            EVACUATED_Y => TophashState::EvacuatedY,
            EVACUATED_EMPTY => TophashState::EvacuatedEmpty,
            t => TophashState::Live(t),
        }
    }
    /// Go's name for the state (`"live"` for an entry).
    #[inline]
    pub const fn name(self) -> &'static str {
        match self {
            TophashState::EmptyRest => "EMPTY_REST",
            TophashState::EmptyOne => "EMPTY_ONE",
            TophashState::EvacuatedX => "EVACUATED_X",
            TophashState::EvacuatedY => "EVACUATED_Y",
            TophashState::EvacuatedEmpty => "EVACUATED_EMPTY",
            TophashState::Live(_) => "live",
        }
    }
    /// Whether the slot holds a live entry.
    #[inline]
    pub const fn is_live(self) -> bool {
        matches!(self, TophashState::Live(_))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn hint_to_b_matches_go_table() {
        // Spec §4.1: 0–8→0, 9–13→1, 14–26→2, 27–52→3, 53–104→4, 105–208→5, 209–416→6.
        let table = [
            (0, 8, 0u8),
            (9, 13, 1),
            (14, 26, 2),
            (27, 52, 3),
            (53, 104, 4),
            (105, 208, 5),
            (209, 416, 6),
        ];
        for (lo, hi, b) in table {
            for hint in lo..=hi {
                assert_eq!(b_for_hint(hint), b, "hint {hint}");
            }
        }
    }

    #[test]
    fn tophash_moves_reserved_values() {
        assert_eq!(tophash(0), 5);
        assert_eq!(tophash(4 << 56), 9);
        assert_eq!(tophash(5 << 56), 5);
        assert_eq!(tophash(0xff << 56), 0xff);
    }

    #[test]
    fn go_bucket_sizes() {
        // Checked against the live runtime (spec §1.3).
        assert_eq!(BucketLayout::from_sizes(1, 1).bucketsize, 32);
        assert_eq!(BucketLayout::from_sizes(4, 1).bucketsize, 56);
        assert_eq!(BucketLayout::from_sizes(3, 2).bucketsize, 56);
        assert_eq!(BucketLayout::from_sizes(0, 0).bucketsize, 16);
        assert_eq!(BucketLayout::from_sizes(16, 8).bucketsize, 208);
        assert_eq!(BucketLayout::from_sizes(8, 8).bucketsize, 144);
        assert_eq!(BucketLayout::from_sizes(128, 8).bucketsize, 1104);
        assert_eq!(BucketLayout::from_sizes(8, 1).bucketsize, 88);
        assert_eq!(BucketLayout::from_sizes(16, 16).bucketsize, 272);
        let l = BucketLayout::from_sizes(129, 8);
        assert!(l.indirect_key && !l.indirect_elem);
        assert_eq!(l.keysize, 8);
        let l = BucketLayout::from_sizes(128, 128);
        assert!(!l.indirect_key && !l.indirect_elem);
    }

    #[test]
    fn preallocated_counts_u64_and_string() {
        let u = BucketLayout::from_sizes(8, 8);
        let got: [usize; 7] = core::array::from_fn(|i| u.npreallocated(4 + i as u8).unwrap());
        assert_eq!(got, [2, 5, 7, 14, 28, 56, 113]);
        let s = BucketLayout::from_sizes(16, 8);
        let got: [usize; 5] = core::array::from_fn(|i| s.npreallocated(4 + i as u8).unwrap());
        assert_eq!(got, [3, 7, 4, 9, 19]);
        assert_eq!(u.npreallocated(3), Some(0));
    }

    #[test]
    fn flag_names() {
        use core::fmt::Write;
        let mut s = FixedBuf::default();
        write!(s, "{}", (Flags::ITERATOR | Flags::SAME_SIZE_GROW).names()).unwrap();
        assert_eq!(s.as_str(), "ITERATOR|SAME_SIZE_GROW");
        let mut s = FixedBuf::default();
        write!(s, "{}", Flags::empty().names()).unwrap();
        assert_eq!(s.as_str(), "0");
        let mut s = FixedBuf::default();
        write!(s, "{}", Flags::from_bits_retain(0x24).names()).unwrap();
        assert_eq!(s.as_str(), "HASH_WRITING|0x20");
    }

    struct FixedBuf {
        buf: [u8; 64],
        len: usize,
    }
    impl Default for FixedBuf {
        fn default() -> Self {
            FixedBuf {
                buf: [0; 64],
                len: 0,
            }
        }
    }
    impl FixedBuf {
        fn as_str(&self) -> &str {
            core::str::from_utf8(&self.buf[..self.len]).unwrap()
        }
    }
    impl core::fmt::Write for FixedBuf {
        fn write_str(&mut self, s: &str) -> core::fmt::Result {
            self.buf[self.len..self.len + s.len()].copy_from_slice(s.as_bytes());
            self.len += s.len();
            Ok(())
        }
    }
}
