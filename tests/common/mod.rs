//! Shared test support: Go's invariants checked on a map's raw memory, and a counting
//! allocator.
#![allow(dead_code)]

use std::alloc::Layout;
use std::collections::HashSet;
use std::fmt::Debug;
use std::hash::Hash;
use std::ptr::NonNull;
use std::sync::atomic::{AtomicIsize, AtomicUsize, Ordering};
use std::sync::Arc;

use gomap::alloc::{AllocError, Allocator, Global};
use gomap::layout::{bucket_mask, tophash, EVACUATED_EMPTY, MIN_TOP_HASH};
use gomap::view::BucketKind;
use gomap::{GoMap, MapHasher, RandSource};

/// Checks Go's invariants on `m` and returns the live (key address, elem address) count:
/// * count = the number of live slots;
/// * every live tophash is >= 5 and equals tophash(hash(key));
/// * a live key in the new array sits in bucket hash & mask(B); in an unevacuated old bucket,
///   in hash & oldmask;
/// * no key is live in both the old and the new buckets;
/// * old buckets below nevacuate are evacuated, and an evacuated old bucket has no live slot;
/// * chains are acyclic and the current array's chains contain no evacuated states.
pub(crate) fn check_invariants<K, V, H, A, R>(m: &GoMap<K, V, H, A, R>)
where
    K: PartialEq + Eq + Hash + Clone + Debug,
    H: MapHasher<K>,
    A: Allocator,
    R: RandSource,
{
    let view = m.raw();
    let h = view.header();
    let seed = h.hash0() as u64;
    let mut live = 0usize;
    let mut new_keys: HashSet<K> = HashSet::new();
    let mut seen_buckets = HashSet::new();
    for head in view.buckets() {
        let idx = match head.kind() {
            BucketKind::Main(i) => i,
            k => panic!("head bucket of wrong kind {k:?}"),
        };
        for b in view.chain(head) {
            assert!(
                seen_buckets.insert(b.addr()),
                "bucket {:#x} reached twice (cycle or shared chain)",
                b.addr()
            );
            for i in 0..8 {
                let t = b.tophash()[i];
                assert!(
                    t <= 1 || t >= MIN_TOP_HASH,
                    "state {t} in the current array (bucket {idx})"
                );
                if t >= MIN_TOP_HASH {
                    live += 1;
                    let k = b.key(i).unwrap();
                    let hash = m.hasher().hash(k, seed);
                    assert_eq!(t, tophash(hash), "tophash of {k:?}");
                    assert_eq!(
                        hash as usize & bucket_mask(h.B()),
                        idx,
                        "{k:?} in the wrong bucket"
                    );
                    assert!(
                        new_keys.insert(k.clone()),
                        "{k:?} live twice in the new array"
                    );
                }
            }
        }
    }
    if h.growing() {
        let oldmask = h.oldbucketmask();
        for head in view.old_buckets() {
            let idx = match head.kind() {
                BucketKind::Old(i) => i,
                k => panic!("old head bucket of wrong kind {k:?}"),
            };
            if idx < h.nevacuate() {
                assert!(
                    head.evacuated(),
                    "old bucket {idx} < nevacuate {} not evacuated",
                    h.nevacuate()
                );
            }
            if head.evacuated() {
                for b in view.chain(head) {
                    for i in 0..8 {
                        let t = b.tophash()[i];
                        assert!(
                            (2..=EVACUATED_EMPTY).contains(&t),
                            "old bucket {idx} evacuated but slot {i} has state {t}"
                        );
                    }
                }
                continue;
            }
            for b in view.chain(head) {
                assert!(
                    seen_buckets.insert(b.addr()),
                    "bucket {:#x} reached twice",
                    b.addr()
                );
                for i in 0..8 {
                    let t = b.tophash()[i];
                    assert!(
                        t <= 1 || t >= MIN_TOP_HASH,
                        "state {t} in unevacuated old bucket {idx}"
                    );
                    if t >= MIN_TOP_HASH {
                        live += 1;
                        let k = b.key(i).unwrap();
                        let hash = m.hasher().hash(k, seed);
                        assert_eq!(t, tophash(hash));
                        assert_eq!(
                            hash as usize & oldmask,
                            idx,
                            "{k:?} in the wrong old bucket"
                        );
                        assert!(
                            !new_keys.contains(k),
                            "{k:?} live in both old and new buckets"
                        );
                    }
                }
            }
        }
    } else {
        // (Go leaves nevacuate at the old bucket count when a grow finishes.)
        assert!(!h.same_size_grow(), "SAME_SIZE_GROW set while not growing");
    }
    assert_eq!(live, h.count(), "count != live slots");
    assert_eq!(m.len(), h.count());
    assert!(
        !h.flags().contains(gomap::Flags::HASH_WRITING),
        "HASH_WRITING left set"
    );
}

/// Allocation statistics of a [`Counting`] allocator.
#[derive(Default, Debug)]
pub(crate) struct Stats {
    pub(crate) mallocs: AtomicUsize,
    pub(crate) frees: AtomicUsize,
    pub(crate) live_bytes: AtomicIsize,
    /// When non-zero, the allocation number at which to start failing.
    pub(crate) fail_after: AtomicUsize,
}

/// A counting allocator over the global heap, for leak checks in tests.
#[derive(Clone, Default, Debug)]
pub(crate) struct Counting(pub(crate) Arc<Stats>);

impl Counting {
    pub(crate) fn live(&self) -> isize {
        self.0.live_bytes.load(Ordering::SeqCst)
    }
    pub(crate) fn assert_no_leak(&self) {
        assert_eq!(self.live(), 0, "live bytes after drop");
        assert_eq!(
            self.0.mallocs.load(Ordering::SeqCst),
            self.0.frees.load(Ordering::SeqCst),
            "mallocs != frees"
        );
    }
}

// SAFETY: every block comes from `Global` and goes back to it with the same layout; the
// counters are only bookkeeping.
unsafe impl Allocator for Counting {
    fn allocate(&self, layout: Layout) -> Result<NonNull<[u8]>, AllocError> {
        let n = self.0.mallocs.load(Ordering::SeqCst);
        let fa = self.0.fail_after.load(Ordering::SeqCst);
        if fa != 0 && n >= fa {
            return Err(AllocError);
        }
        let p = Global.allocate(layout)?;
        self.0.mallocs.fetch_add(1, Ordering::SeqCst);
        self.0
            .live_bytes
            .fetch_add(layout.size() as isize, Ordering::SeqCst);
        Ok(p)
    }
    fn allocate_zeroed(&self, layout: Layout) -> Result<NonNull<[u8]>, AllocError> {
        let n = self.0.mallocs.load(Ordering::SeqCst);
        let fa = self.0.fail_after.load(Ordering::SeqCst);
        if fa != 0 && n >= fa {
            return Err(AllocError);
        }
        let p = Global.allocate_zeroed(layout)?;
        self.0.mallocs.fetch_add(1, Ordering::SeqCst);
        self.0
            .live_bytes
            .fetch_add(layout.size() as isize, Ordering::SeqCst);
        Ok(p)
    }
    unsafe fn deallocate(&self, ptr: NonNull<u8>, layout: Layout) {
        self.0.frees.fetch_add(1, Ordering::SeqCst);
        self.0
            .live_bytes
            .fetch_sub(layout.size() as isize, Ordering::SeqCst);
        // SAFETY: the caller passes a block this allocator (that is, `Global`) returned.
        unsafe { Global.deallocate(ptr, layout) }
    }
}
