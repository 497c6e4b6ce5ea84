//! Every pointer in Go-visible memory points to live memory.
//!
//! In a map whose buckets hold pointers, Go's `evacuate` clears only the *head* old bucket's
//! keys, elems and overflow word. A chain head → preallocated bucket P → heap bucket H keeps
//! H reachable through P's overflow word (P is part of the old array) until the old array is
//! dropped, so H stays alive for Go's GC. gomap must free H only when Go would make it
//! unreachable: when the old generation is released, never during evacuation.
//!
//! A tracking allocator knows every live block; after every write of a grow, each overflow
//! word of every bucket of both arrays (regular and preallocated) and of every heap bucket
//! they reach must be null, point into an array, or point to a live heap bucket.

use std::alloc::Layout;
use std::collections::BTreeMap;
use std::hash::{BuildHasher, Hasher};
use std::ptr::NonNull;
use std::sync::{Arc, Mutex};

use gomap::alloc::{AllocError, Allocator, Global};
use gomap::view::RawView;
use gomap::{GoMap, HashAdapter, SeededRand};

/// Knows every block it handed out and not yet took back.
#[derive(Clone, Default)]
struct Tracking(Arc<Mutex<BTreeMap<usize, usize>>>);

impl Tracking {
    fn live(&self, addr: usize, size: usize) -> bool {
        self.0.lock().unwrap().get(&addr) == Some(&size)
    }
    fn blocks(&self) -> usize {
        self.0.lock().unwrap().len()
    }
}

// SAFETY: every block comes from `Global` and goes back to it with the same layout; the map of
// live blocks is bookkeeping only.
unsafe impl Allocator for Tracking {
    fn allocate(&self, layout: Layout) -> Result<NonNull<[u8]>, AllocError> {
        let p = Global.allocate(layout)?;
        self.0
            .lock()
            .unwrap()
            .insert(p.cast::<u8>().as_ptr() as usize, layout.size());
        Ok(p)
    }
    fn allocate_zeroed(&self, layout: Layout) -> Result<NonNull<[u8]>, AllocError> {
        let p = Global.allocate_zeroed(layout)?;
        self.0
            .lock()
            .unwrap()
            .insert(p.cast::<u8>().as_ptr() as usize, layout.size());
        Ok(p)
    }
    unsafe fn deallocate(&self, ptr: NonNull<u8>, layout: Layout) {
        let was = self.0.lock().unwrap().remove(&(ptr.as_ptr() as usize));
        assert_eq!(was, Some(layout.size()), "freeing a block that is not live");
        // SAFETY: the caller's contract: `ptr` came from this allocator with `layout`.
        unsafe { Global.deallocate(ptr, layout) }
    }
}

/// Puts keys below `COLLIDE` into bucket 0 (of any B), the rest anywhere.
#[derive(Clone, Default)]
struct Placed;
struct PlacedHasher(u64);
const COLLIDE: u64 = 24;
impl BuildHasher for Placed {
    type Hasher = PlacedHasher;
    fn build_hasher(&self) -> PlacedHasher {
        PlacedHasher(0)
    }
}
impl Hasher for PlacedHasher {
    fn write(&mut self, _: &[u8]) {
        unreachable!("keys hash as one u64")
    }
    fn write_u64(&mut self, x: u64) {
        // The seed comes first, then the key: keep the last.
        self.0 = x;
    }
    fn finish(&self) -> u64 {
        let id = self.0;
        let mixed = id
            .wrapping_add(1)
            .wrapping_mul(0x9E37_79B9_7F4A_7C15)
            .rotate_left(29);
        if id < COLLIDE {
            mixed & !0x3f
        } else {
            mixed
        }
    }
}

type Map = GoMap<u64, String, HashAdapter<Placed>, Tracking, SeededRand>;

/// Checks every overflow word reachable from the arrays; returns the heap buckets reached
/// only through a preallocated bucket of the old array.
fn check_overflow_words(m: &Map, alloc: &Tracking) -> usize {
    let v: RawView<'_, u64, String> = m.raw();
    let bs = m.layout().bucketsize;
    let arrays = [
        (v.header().buckets(), v.array_len()),
        (v.header().oldbuckets(), v.old_array_len()),
    ];
    let in_array = |p: usize| {
        arrays
            .iter()
            .any(|&(a, n)| a != 0 && p >= a && p < a + n * bs)
    };
    let mut behind_prealloc = 0;
    let old_heads = if v.header().oldbuckets() == 0 {
        0
    } else {
        v.header().noldbuckets()
    };
    let starts = (0..v.array_len())
        .map(|i| (v.bucket(i).unwrap(), false))
        .chain((0..v.old_array_len()).map(|i| (v.old_bucket(i).unwrap(), i >= old_heads)));
    for (b, prealloc_old) in starts {
        let mut p = b.overflow();
        let mut steps = 0;
        while p != 0 && !in_array(p) {
            assert!(
                alloc.live(p, bs),
                "{:?} at {:#x} leads to {p:#x}, which is not a live bucket",
                b.kind(),
                b.addr()
            );
            if prealloc_old {
                behind_prealloc += 1;
            }
            // SAFETY: `p` is a live heap bucket of this map (just checked); its overflow word
            // is its last word.
            p = unsafe { ((p + bs - 8) as *const usize).read() };
            steps += 1;
            assert!(steps < 1 << 20, "cycle");
        }
    }
    behind_prealloc
}

#[test]
fn heap_buckets_behind_preallocated_old_buckets_stay_alive_until_the_grow_ends() {
    let alloc = Tracking::default();
    // B = 4: 16 buckets and 1 preallocated overflow bucket.
    let mut m: Map = GoMap::from_parts(100, HashAdapter(Placed), alloc.clone(), SeededRand::new(7));
    assert_eq!(m.header().B(), 4);
    assert_eq!(m.raw().array_len(), 17);
    // Bucket 0: head (8 keys), then the preallocated bucket (8), then a heap bucket (8).
    for id in 0..COLLIDE {
        m.insert(id, id.to_string());
    }
    {
        let v = m.raw();
        let kinds: Vec<_> = v.chain(v.bucket(0).unwrap()).map(|b| b.kind()).collect();
        assert_eq!(
            format!("{kinds:?}"),
            "[Main(0), Main(16), Heap]",
            "the chain head → preallocated → heap"
        );
    }
    check_overflow_words(&m, &alloc);
    // Grow, and check after every write until the grow is over.
    let mut id = COLLIDE;
    while !m.header().growing() {
        m.insert(id, id.to_string());
        id += 1;
    }
    let mut seen_detached = 0;
    let mut before = 0;
    while m.header().growing() {
        seen_detached = seen_detached.max(check_overflow_words(&m, &alloc));
        before = alloc.blocks();
        m.insert(id, id.to_string());
        id += 1;
        // The bucket Go still reaches only through the preallocated bucket keeps its entries'
        // memory: the old slots' strings were moved, not freed, so nothing else to check.
    }
    assert!(
        seen_detached > 0,
        "the scenario never had a heap bucket reachable only through a preallocated one"
    );
    check_overflow_words(&m, &alloc);
    for k in 0..id {
        assert_eq!(m.get(&k).map(String::as_str), Some(k.to_string().as_str()));
    }
    // The old generation's memory is freed: a small array (this one) and its heap buckets by
    // the write that ends the grow, a large one a piece per write after it. Then only the
    // map's memory is live.
    for _ in 0..64 {
        m.remove(&u64::MAX);
    }
    assert!(alloc.blocks() < before, "the old generation was freed");
    drop(m);
    assert_eq!(alloc.blocks(), 0, "everything freed, nothing twice");
}
