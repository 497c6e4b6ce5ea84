//! What the raw runtime needs to know about a map's key and elem types.
//!
//! Go's runtime is type-erased: a `maptype` descriptor gives sizes, the hasher, equality and
//! flags. gomap's runtime takes the same information from a [`Shape`]: statically for
//! [`Typed`] maps (`GoMap<K, V, H>`, where everything is a constant and inlines), or at run
//! time for [`crate::dynamic::DynMap`], whose key and elem types are Go types named at run
//! time.

use core::alloc::Layout;
use core::marker::PhantomData;

use crate::hash::MapHasher;
use crate::layout::BucketLayout;

/// Layout, access and drop of keys and elems.
///
/// # Safety
/// `layout()` must describe slots in which `key`/`elem` pointers are valid: a slot (or, when
/// indirect, a box of `key_box()`/`elem_box()`) holds exactly one `K`/`V`.
pub(crate) unsafe trait Shape {
    /// The key as the runtime sees it.
    type K: ?Sized;
    /// The elem as the runtime sees it.
    type V: ?Sized;
    /// The bucket layout.
    fn layout(&self) -> BucketLayout;
    /// The key stored at `p` (the slot, or the box an indirect slot points to).
    fn key_at(&self, p: *mut u8) -> *mut Self::K;
    /// The elem stored at `p`.
    fn elem_at(&self, p: *mut u8) -> *mut Self::V;
    /// Drops a key and an elem in place (both, even if the first drop panics).
    ///
    /// # Safety
    /// Both must be initialized and not used afterwards.
    unsafe fn drop_entry(&self, k: *mut Self::K, v: *mut Self::V);
    /// Whether `drop_entry` does anything.
    fn needs_drop(&self) -> bool;
    /// The allocation of one indirect key.
    fn key_box(&self) -> Layout;
    /// The allocation of one indirect elem.
    fn elem_box(&self) -> Layout;
}

/// Hashing, equality and Go's per-type flags (the parts of `maptype` that depend on the key).
pub(crate) trait KeyOps: Shape {
    /// The key's hash with `seed`.
    fn hash(&self, k: &Self::K, seed: u64) -> u64;
    /// Key equality.
    fn key_eq(&self, a: &Self::K, b: &Self::K) -> bool;
    /// `k == k` (false for NaN).
    fn self_equal(&self, k: &Self::K) -> bool {
        self.reflexive() || self.key_eq(k, k)
    }
    /// Go's `reflexivekey`: `k == k` for every key.
    fn reflexive(&self) -> bool;
    /// The key contains pointers (Go: `key.ptrdata != 0`).
    fn key_has_pointers(&self) -> bool;
    /// The key has Go's string layout and `faststr` delete rules.
    fn key_go_string(&self) -> bool;
    /// The elem contains pointers.
    fn elem_has_pointers(&self) -> bool;
    /// Go's bucket type has no pointers (`bucket.ptrdata == 0`): then Go keeps every overflow
    /// bucket in `extra.overflow` and leaves evacuated old buckets intact.
    fn pointer_free(&self) -> bool {
        let l = self.layout();
        !self.key_has_pointers() && !self.elem_has_pointers() && !l.indirect_key && !l.indirect_elem
    }
}

/// The shape of `GoMap<K, V, H>`: Rust types, hashed by `H`.
pub(crate) struct Typed<K, V, H> {
    pub(crate) hasher: H,
    marker: PhantomData<(K, V)>,
}

impl<K, V, H> Typed<K, V, H> {
    pub(crate) const L: BucketLayout = BucketLayout::of::<K, V>();

    pub(crate) const fn new(hasher: H) -> Self {
        Typed {
            hasher,
            marker: PhantomData,
        }
    }
}

// SAFETY: the layout is computed from K and V themselves, so a slot (or a `Layout::new` box)
// holds exactly one K or V.
unsafe impl<K, V, H> Shape for Typed<K, V, H> {
    type K = K;
    type V = V;
    #[inline(always)]
    fn layout(&self) -> BucketLayout {
        Self::L
    }
    #[inline(always)]
    fn key_at(&self, p: *mut u8) -> *mut K {
        p.cast()
    }
    #[inline(always)]
    fn elem_at(&self, p: *mut u8) -> *mut V {
        p.cast()
    }
    #[inline]
    unsafe fn drop_entry(&self, k: *mut K, v: *mut V) {
        // SAFETY: caller contract. Dropping a tuple drops the second field even if the first
        // one's destructor panics.
        unsafe { drop((core::ptr::read(k), core::ptr::read(v))) }
    }
    #[inline(always)]
    fn needs_drop(&self) -> bool {
        core::mem::needs_drop::<K>() || core::mem::needs_drop::<V>()
    }
    #[inline(always)]
    fn key_box(&self) -> Layout {
        Layout::new::<K>()
    }
    #[inline(always)]
    fn elem_box(&self) -> Layout {
        Layout::new::<V>()
    }
}

impl<K: PartialEq, V, H: MapHasher<K>> KeyOps for Typed<K, V, H> {
    #[inline(always)]
    fn hash(&self, k: &K, seed: u64) -> u64 {
        self.hasher.hash(k, seed)
    }
    #[inline(always)]
    fn key_eq(&self, a: &K, b: &K) -> bool {
        a == b
    }
    #[inline(always)]
    fn reflexive(&self) -> bool {
        H::REFLEXIVE
    }
    #[inline(always)]
    fn key_has_pointers(&self) -> bool {
        H::KEY_HAS_POINTERS
    }
    #[inline(always)]
    fn key_go_string(&self) -> bool {
        H::KEY_GO_STRING
    }
    #[inline(always)]
    fn elem_has_pointers(&self) -> bool {
        core::mem::needs_drop::<V>()
    }
}
