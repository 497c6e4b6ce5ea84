//! The allocators of `gomap::alloc`: Go's size classes (sizes, alignment, zeroing, spans), the
//! counting allocator (Go's MemStats numbers, across threads, and the blog post's observation
//! of live bytes during a grow), the fixed arenas (reuse, merging, alignment, exhaustion in the
//! middle of a grow) and, with the `libc` feature, the C library's allocator.
//!
//! Run `cargo test --test allocators -- --nocapture` to see the grow's numbers.

mod common;
#[path = "common/go.rs"]
mod go_toolchain;

use std::alloc::Layout;
use std::cell::RefCell;
use std::collections::HashMap;
use std::ptr::NonNull;

use common::check_invariants;
use gomap::alloc::{
    class_align, roundupsize, size_class, AllocError, Allocator, Arena, CountingAlloc, Global,
    SizeClassAlloc, StaticArena, CLASS_TO_ALLOCNPAGES, CLASS_TO_SIZE, PAGE_SIZE,
};
use gomap::{GoHasher, GoMap, SeededRand, TryReserveErrorKind};

fn layout(size: usize, align: usize) -> Layout {
    Layout::from_size_align(size, align).unwrap()
}

/// Fills a block with `byte` over its whole reported length (under Miri this proves the
/// length is really usable), and returns its address.
fn fill(block: NonNull<[u8]>, byte: u8) -> usize {
    let p = block.cast::<u8>().as_ptr();
    // SAFETY: an allocator's block is valid for writes over its reported length.
    unsafe { p.write_bytes(byte, block.len()) };
    p as usize
}

/// Checks that a block still holds `byte` everywhere (no other block overlapped it).
fn holds(block: NonNull<[u8]>, byte: u8) -> bool {
    // SAFETY: the block is allocated, initialized by `fill`, and `len` bytes long.
    let s = unsafe { std::slice::from_raw_parts(block.cast::<u8>().as_ptr(), block.len()) };
    // (A slice comparison is one memcmp, which keeps this fast under Miri.)
    s == vec![byte; s.len()].as_slice()
}

/// A small deterministic generator for the randomized tests (xorshift64*).
struct Rng(u64);
impl Rng {
    fn next(&mut self) -> u64 {
        self.0 ^= self.0 >> 12;
        self.0 ^= self.0 << 25;
        self.0 ^= self.0 >> 27;
        self.0.wrapping_mul(0x2545_f491_4f6c_dd1d)
    }
    fn below(&mut self, n: u64) -> u64 {
        self.next() % n
    }
}

// =============================================================================================
// Go's size classes.

/// Sizes to try: every size natively; under Miri, the edges of every class.
fn sizes() -> Vec<usize> {
    if cfg!(miri) {
        let mut v: Vec<usize> = CLASS_TO_SIZE[1..]
            .iter()
            .flat_map(|&s| [s as usize - 1, s as usize, s as usize + 1])
            .filter(|&s| s <= 32768)
            .collect();
        v.insert(0, 1);
        v
    } else {
        (1..=32768).collect()
    }
}

#[test]
fn size_classes_give_go_sizes_and_alignment() {
    let classes = SizeClassAlloc::new(Global);
    for size in sizes() {
        let l = layout(size, 8);
        let block = classes.allocate(l).unwrap();
        // Go's heap would give this request roundupsize(size) bytes.
        let go_size = roundupsize(size).unwrap();
        assert_eq!(
            block.len(),
            go_size,
            "usable size for a {size}-byte request"
        );
        let class = size_class(size).unwrap_or(CLASS_TO_SIZE.len() - 1);
        let addr = fill(block, 0xa5);
        assert_eq!(
            addr % class_align(class),
            0,
            "a {size}-byte object is aligned like Go's"
        );
        // Freeing with the whole usable size (a fitting layout) returns it to its class: the
        // next request of the same size gets the same object back.
        // SAFETY: `block` was allocated with `l`; `block.len()` fits it.
        unsafe { classes.deallocate(block.cast(), layout(block.len(), 8)) };
        let again = classes.allocate(l).unwrap();
        assert_eq!(again.cast::<u8>(), block.cast::<u8>(), "size {size}");
        // SAFETY: as above.
        unsafe { classes.deallocate(again.cast(), l) };
    }
    let s = classes.stats();
    assert_eq!((s.small_objects, s.small_bytes), (0, 0));
}

#[test]
fn size_classes_honour_larger_alignments() {
    let classes = SizeClassAlloc::new(CountingAlloc::new(Global));
    for align in (0..=14).map(|s| 1usize << s) {
        for size in [1, 8, 100, 144, 4000, 20000] {
            let l = layout(size, align);
            let large_before = classes.stats().large_objects;
            let block = classes.allocate(l).unwrap();
            let addr = fill(block, 1);
            assert_eq!(addr % align, 0, "size {size} align {align}");
            assert!(block.len() >= size);
            if align > PAGE_SIZE {
                // No class is aligned to more than a page: the parent serves it.
                assert_eq!(classes.stats().large_objects, large_before + 1);
            } else {
                assert_eq!(classes.stats().large_objects, large_before);
                assert!(CLASS_TO_SIZE.contains(&(block.len() as u16)));
            }
            // SAFETY: allocated just above with `l`.
            unsafe { classes.deallocate(block.cast(), l) };
        }
    }
    let parent = classes.into_parent();
    assert_eq!(parent.live_bytes(), 0);
}

#[test]
fn size_classes_zero_recycled_objects() {
    let classes = SizeClassAlloc::new(Global);
    let l = layout(144, 8);
    // A fresh object, dirtied and freed...
    let a = classes.allocate(l).unwrap();
    fill(a, 0xee);
    // SAFETY: allocated just above.
    unsafe { classes.deallocate(a.cast(), l) };
    // ...comes back zeroed from allocate_zeroed, over its whole length.
    let b = classes.allocate_zeroed(l).unwrap();
    assert_eq!(b.cast::<u8>(), a.cast::<u8>(), "the object was recycled");
    assert!(holds(b, 0), "a recycled object must be zeroed");
    // Never-used objects of a span are zero without a memset; dirty their neighbours and
    // check the next fresh one anyway.
    let c = classes.allocate(l).unwrap();
    fill(c, 0x77);
    let d = classes.allocate_zeroed(l).unwrap();
    assert!(holds(d, 0));
    for x in [b, c, d] {
        // SAFETY: each was allocated above with `l` and is freed once.
        unsafe { classes.deallocate(x.cast(), l) };
    }
}

#[test]
fn size_classes_carve_spans_from_the_parent() {
    let parent = CountingAlloc::new(Global);
    let classes = SizeClassAlloc::new(&parent);
    let class = size_class(144).unwrap();
    let span = CLASS_TO_ALLOCNPAGES[class] as usize * PAGE_SIZE;
    let per_span = span / 144;
    assert_eq!(per_span, 56, "Go's class 11 holds 56 objects per span");
    let l = layout(144, 8);
    let mut blocks = Vec::new();
    for _ in 0..per_span {
        blocks.push(classes.allocate_zeroed(l).unwrap());
    }
    // One span from the parent: its pages and a two-word record.
    let record = 2 * std::mem::size_of::<usize>();
    let s = parent.read_mem_stats();
    assert_eq!((s.Mallocs, s.HeapAlloc), (1, (span + record) as u64));
    assert_eq!(classes.stats().spans, 1);
    // Object 57 needs a second span.
    blocks.push(classes.allocate_zeroed(l).unwrap());
    assert_eq!(parent.read_mem_stats().Mallocs, 2);
    assert_eq!(classes.stats().spans, 2);
    assert_eq!(classes.stats().small_bytes, 57 * 144);
    // Objects of a span are consecutive, `size` apart, like an mspan's.
    let a0 = blocks[0].cast::<u8>().as_ptr() as usize;
    let a1 = blocks[1].cast::<u8>().as_ptr() as usize;
    assert_eq!(a1 - a0, 144);
    // A large request goes to the parent as it is.
    let big = classes.allocate(layout(40_000, 8)).unwrap();
    assert_eq!(parent.read_mem_stats().Mallocs, 3);
    assert_eq!(classes.stats().large_bytes, 40_000);
    // SAFETY: allocated above with these layouts.
    unsafe {
        classes.deallocate(big.cast(), layout(40_000, 8));
        for b in blocks {
            classes.deallocate(b.cast(), l);
        }
    }
    // Spans stay until the allocator goes (Go keeps them for reuse)...
    assert_eq!(
        parent.read_mem_stats().HeapAlloc,
        2 * (span + record) as u64
    );
    drop(classes);
    // ...then every byte is back.
    let s = parent.read_mem_stats();
    assert_eq!((s.HeapAlloc, s.Mallocs, s.Frees), (0, 3, 3));
}

/// Records the size of every live request, to compare with what the size classes charge.
struct Recorder<'a, A: Allocator> {
    inner: &'a A,
    live: RefCell<HashMap<usize, usize>>,
}

// SAFETY: forwards every call unchanged to `inner`; the map of sizes is bookkeeping.
unsafe impl<A: Allocator> Allocator for Recorder<'_, A> {
    fn allocate(&self, l: Layout) -> Result<NonNull<[u8]>, AllocError> {
        let p = self.inner.allocate(l)?;
        self.live
            .borrow_mut()
            .insert(p.cast::<u8>().as_ptr() as usize, l.size());
        Ok(p)
    }
    fn allocate_zeroed(&self, l: Layout) -> Result<NonNull<[u8]>, AllocError> {
        let p = self.inner.allocate_zeroed(l)?;
        self.live
            .borrow_mut()
            .insert(p.cast::<u8>().as_ptr() as usize, l.size());
        Ok(p)
    }
    unsafe fn deallocate(&self, p: NonNull<u8>, l: Layout) {
        self.live.borrow_mut().remove(&(p.as_ptr() as usize));
        // SAFETY: caller contract, passed through.
        unsafe { self.inner.deallocate(p, l) }
    }
}

/// With the size classes, a map's memory takes the sizes Go's heap gives it: every live
/// request is charged `roundupsize(request)`, heap overflow buckets of a 104-byte bucket type
/// occupy 112-byte objects, and a bucket array with preallocated overflow buckets fills its
/// size class to within one bucket.
#[test]
fn map_memory_takes_go_heap_sizes() {
    let classes = SizeClassAlloc::new(Global);
    let rec = Recorder {
        inner: &classes,
        live: RefCell::default(),
    };
    // map[uint64][3]uint8: bucketsize 8 + 64 + 24 + 8 = 104, Go's class 112.
    let mut m: GoMap<u64, [u8; 3], GoHasher, &Recorder<'_, _>, SeededRand> =
        GoMap::from_parts(0, GoHasher::with_hashkey(0x51), &rec, SeededRand::new(5));
    let bucketsize = m.layout().bucketsize;
    assert_eq!(bucketsize, 104);
    let n = if cfg!(miri) { 300 } else { 20_000 };
    let mut saw_heap_overflow = false;
    for i in 0..n {
        m.insert(i * 0x9e37_79b9, [1, 2, 3]);
        if i % 97 != 0 {
            continue;
        }
        let live = rec.live.borrow();
        let small: usize = live
            .values()
            .filter(|&&s| s <= 32768)
            .map(|&s| roundupsize(s).unwrap())
            .sum();
        let large: usize = live.values().filter(|&&s| s > 32768).sum();
        let st = classes.stats();
        assert_eq!(st.small_bytes, small, "after {i} inserts");
        assert_eq!(st.large_bytes, large, "after {i} inserts");
        let arrays = m.layout().array_bytes(m.header().B()).unwrap();
        for &s in live.values() {
            if s == bucketsize {
                saw_heap_overflow = true;
            }
            if s == arrays && s <= 32768 && m.header().B() >= 4 {
                // Preallocated overflow buckets fill the size class.
                assert!(roundupsize(s).unwrap() - s < bucketsize);
            }
        }
    }
    assert!(saw_heap_overflow, "no heap overflow bucket was allocated");
    assert_eq!(roundupsize(bucketsize), Some(112));
    drop(m);
    assert!(rec.live.borrow().is_empty());
    assert_eq!(classes.stats().small_objects, 0);
}

/// Go's own size class tables, read from Go 1.19's source, agree with ours.
#[test]
#[cfg_attr(miri, ignore)]
fn size_class_tables_match_go_source() {
    let go = go_toolchain::find_go().unwrap_or_else(|e| panic!("{e}"));
    // .../go/bin/go -> GOROOT .../go
    let goroot = go.parent().and_then(|p| p.parent()).unwrap().to_path_buf();
    let path = goroot.join("src/runtime/sizeclasses.go");
    let src = std::fs::read_to_string(&path).unwrap_or_else(|e| {
        panic!(
            "cannot read {} ({e}); install Go 1.19 (./scripts/test-all does)",
            path.display()
        )
    });
    let table = |name: &str| -> Vec<u64> {
        let line = src
            .lines()
            .find(|l| l.starts_with(&format!("var {name} = ")))
            .unwrap_or_else(|| panic!("{name} not found in {}", path.display()));
        let body = &line[line.find('{').unwrap() + 1..line.rfind('}').unwrap()];
        body.split(',').map(|x| x.trim().parse().unwrap()).collect()
    };
    let sizes: Vec<u64> = CLASS_TO_SIZE.iter().map(|&x| x as u64).collect();
    let pages: Vec<u64> = CLASS_TO_ALLOCNPAGES.iter().map(|&x| x as u64).collect();
    assert_eq!(table("class_to_size"), sizes);
    assert_eq!(table("class_to_allocnpages"), pages);
}

// =============================================================================================
// The counting allocator.

#[test]
fn counting_reports_memstats() {
    let c = CountingAlloc::new(Global);
    let a = c.allocate(layout(100, 8)).unwrap();
    let b = c.allocate_zeroed(layout(300, 16)).unwrap();
    let s = c.read_mem_stats();
    assert_eq!((s.Mallocs, s.Frees, s.HeapObjects), (2, 0, 2));
    assert_eq!(
        (s.HeapAlloc, s.Alloc, s.TotalAlloc, s.PeakHeapAlloc),
        (400, 400, 400, 400)
    );
    // SAFETY: allocated above with these layouts.
    unsafe { c.deallocate(b.cast(), layout(300, 16)) };
    let s = c.read_mem_stats();
    assert_eq!((s.Mallocs, s.Frees, s.HeapObjects), (2, 1, 1));
    assert_eq!(
        (s.HeapAlloc, s.TotalAlloc, s.PeakHeapAlloc),
        (100, 400, 400)
    );
    c.reset_peak();
    assert_eq!(c.peak_bytes(), 100);
    // grow counts as a free of the old block and an allocation of the new one.
    // SAFETY: `a` was allocated with layout(100, 8); 200 >= 100.
    let a = unsafe { c.grow(a.cast(), layout(100, 8), layout(200, 8)) }.unwrap();
    let s = c.read_mem_stats();
    assert_eq!(
        (s.Mallocs, s.Frees, s.HeapAlloc, s.TotalAlloc),
        (3, 2, 200, 600)
    );
    assert_eq!(s.PeakHeapAlloc, 200);
    // SAFETY: `a` now has layout(200, 8).
    let a = unsafe { c.shrink(a.cast(), layout(200, 8), layout(50, 8)) }.unwrap();
    // SAFETY: `a` now has layout(50, 8).
    unsafe { c.deallocate(a.cast(), layout(50, 8)) };
    let s = c.read_mem_stats();
    assert_eq!(
        (s.Mallocs, s.Frees, s.HeapAlloc, s.HeapObjects),
        (4, 4, 0, 0)
    );
    assert_eq!(s.TotalAlloc, 650);

    // A failed allocation is not counted.
    let mut buf = [0u8; 64];
    let arena = Arena::new(&mut buf);
    let c = CountingAlloc::new(&arena);
    assert!(c.allocate(layout(4096, 8)).is_err());
    assert_eq!(c.read_mem_stats(), Default::default());
}

#[test]
fn counting_across_threads() {
    let c = CountingAlloc::new(Global);
    let (threads, per) = if cfg!(miri) { (3, 20) } else { (8, 5000) };
    std::thread::scope(|s| {
        for t in 0..threads {
            let c = &c;
            s.spawn(move || {
                let mut held = Vec::new();
                for i in 0..per {
                    let l = layout(8 + (i + t) % 200, 8);
                    held.push((c.allocate(l).unwrap(), l));
                    if held.len() > 8 {
                        let (p, l) = held.remove(0);
                        // SAFETY: allocated above with `l`.
                        unsafe { c.deallocate(p.cast(), l) };
                    }
                }
                for (p, l) in held {
                    // SAFETY: allocated above with `l`.
                    unsafe { c.deallocate(p.cast(), l) };
                }
            });
        }
    });
    let total: usize = (0..threads)
        .flat_map(|t| (0..per).map(move |i| 8 + (i + t) % 200))
        .sum();
    let s = c.read_mem_stats();
    assert_eq!(s.Mallocs, (threads * per) as u64);
    assert_eq!(s.Frees, s.Mallocs);
    assert_eq!((s.HeapAlloc, s.HeapObjects), (0, 0));
    assert_eq!(s.TotalAlloc, total as u64);
    // Each thread holds at most 9 blocks of at most 207 bytes.
    assert!(s.PeakHeapAlloc >= 207 && s.PeakHeapAlloc <= (threads * 9 * 207) as u64);
}

/// The blog post's observation, with this process's numbers: while a map grows, the old and
/// the new bucket arrays are both live, so live bytes (`HeapAlloc`) are higher than before the
/// grow and after it; they drop once the last old bucket is evacuated. (As in Go, where the
/// collector frees the old generation after the grow, gomap frees it over the next few writes,
/// a bounded piece per write, so no single write pays for it all.)
#[test]
fn live_bytes_peak_during_a_grow() {
    let counting = CountingAlloc::new(Global);
    let mut m: GoMap<u64, u64, GoHasher, &CountingAlloc<Global>, SeededRand> = GoMap::from_parts(
        0,
        GoHasher::with_hashkey(0xb10c),
        &counting,
        SeededRand::new(2),
    );
    // Fill to just below the load factor of the target B, so the next insert starts a grow.
    let old_b: u8 = if cfg!(miri) { 4 } else { 10 };
    let full = 13 * (1usize << old_b) / 2;
    let mut k = 0u64;
    while m.len() < full {
        m.insert(k, k);
        k += 1;
    }
    assert_eq!(m.header().B(), old_b);
    assert!(!m.header().growing());
    let before = counting.read_mem_stats();
    let layout = m.layout();
    let old_bytes = layout.array_bytes(old_b).unwrap() as u64;
    let new_bytes = layout.array_bytes(old_b + 1).unwrap() as u64;
    println!(
        "map[uint64]uint64, B = {old_b} -> {}: old array {old_bytes} B, new array {new_bytes} B",
        old_b + 1
    );
    println!(
        "before the grow:   HeapAlloc {:>8}  Mallocs {:>5}",
        before.HeapAlloc, before.Mallocs
    );

    // Insert until the grow has finished, recording HeapAlloc after every insert.
    let mut during = Vec::new();
    loop {
        m.insert(k, k);
        k += 1;
        let s = counting.read_mem_stats();
        if !m.header().growing() {
            let last = *during.last().expect("the grow took more than one insert");
            let peak = *during.iter().max().unwrap();
            println!(
                "during the grow:   HeapAlloc up to {peak} over {} inserts",
                during.len()
            );
            // Writes that allocate nothing (deletes of absent keys) free the old generation,
            // a bounded piece each (the heap buckets behind 32 of its buckets, preallocated
            // ones included, or 64 KiB of its pages), until live bytes are down by the old
            // array and more.
            let bound = layout.nbuckets(old_b).unwrap() / 32 + old_bytes as usize / (64 << 10) + 2;
            let mut after = s.HeapAlloc;
            let mut writes = 0;
            while after + old_bytes > last {
                assert!(
                    writes < bound,
                    "the old generation was not freed within {bound} writes"
                );
                m.remove(&u64::MAX);
                writes += 1;
                let now = counting.read_mem_stats().HeapAlloc;
                assert!(
                    now <= after,
                    "live bytes rose while the old generation was freed"
                );
                after = now;
            }
            println!(
                "after the grow:    HeapAlloc {after:>8}  Mallocs {:>5}  (dropped by {} over {writes} writes after the last evacuation)",
                counting.read_mem_stats().Mallocs,
                last - after
            );
            assert!(peak > before.HeapAlloc, "live bytes rose during the grow");
            assert!(peak > after, "live bytes fell after the grow");
            // Before the grow only the old array, after it only the new one.
            assert!(after > before.HeapAlloc);
            break;
        }
        if during.is_empty() {
            println!(
                "grow started:      HeapAlloc {:>8}  Mallocs {:>5}  (+{} for the new array)",
                s.HeapAlloc,
                s.Mallocs,
                s.HeapAlloc - before.HeapAlloc
            );
            assert!(s.HeapAlloc >= before.HeapAlloc + new_bytes);
        }
        if let Some(&prev) = during.last() {
            // A pointer-free map keeps its old overflow buckets until the grow ends.
            assert!(s.HeapAlloc >= prev, "live bytes fell before the grow ended");
        }
        during.push(s.HeapAlloc);
    }
    drop(m);
    let s = counting.read_mem_stats();
    assert_eq!((s.HeapAlloc, s.HeapObjects), (0, 0));
    println!("peak over the whole run: PeakHeapAlloc {}", s.PeakHeapAlloc);
}

// =============================================================================================
// Arenas.

#[test]
fn arena_reuses_and_merges_freed_blocks() {
    let mut buf = vec![0u8; 4096 + 15];
    let arena = Arena::new(&mut buf);
    let cap = arena.capacity();
    assert!(cap >= 4096);
    let l = layout(64, 8);
    let a = arena.allocate(l).unwrap();
    let b = arena.allocate(l).unwrap();
    let c = arena.allocate(l).unwrap();
    // SAFETY: allocated above with `l`.
    unsafe { arena.deallocate(a.cast(), l) };
    // The freed block is reused first.
    let a2 = arena.allocate(l).unwrap();
    assert_eq!(a2.cast::<u8>(), a.cast::<u8>());
    // Free in an order that needs merging on both sides.
    // SAFETY: each block is freed once.
    unsafe {
        arena.deallocate(a2.cast(), l);
        arena.deallocate(c.cast(), l);
        arena.deallocate(b.cast(), l);
    }
    assert_eq!(arena.used_bytes(), 0);
    assert!(arena.is_pristine());
    // The whole buffer is one block again.
    let all = arena.allocate(layout(cap, 16)).unwrap();
    assert_eq!(all.len(), cap);
    assert!(arena.allocate(layout(1, 1)).is_err());
    // SAFETY: allocated just above.
    unsafe { arena.deallocate(all.cast(), layout(cap, 16)) };
    assert_eq!(arena.peak_bytes(), cap);
}

#[test]
fn arena_rounds_and_aligns() {
    let mut buf = vec![0u8; 64 * 1024];
    let arena = Arena::new(&mut buf);
    let mut live = Vec::new();
    for align in (0..=9).map(|s| 1usize << s) {
        for size in [1, 7, 16, 17, 100, 500] {
            let l = layout(size, align);
            let b = arena.allocate(l).unwrap();
            assert_eq!(
                b.len(),
                size.div_ceil(16) * 16,
                "length is the size rounded to 16"
            );
            let addr = fill(b, live.len() as u8);
            assert_eq!(addr % align.max(16), 0);
            live.push((b, l));
        }
    }
    for (i, (b, _)) in live.iter().enumerate() {
        assert!(holds(*b, i as u8), "block {i} was overwritten");
    }
    for (b, l) in live {
        // Free with the reported length: a fitting layout.
        // SAFETY: allocated above with `l`; `b.len()` fits it.
        unsafe { arena.deallocate(b.cast(), layout(b.len(), l.align())) };
    }
    assert!(arena.is_pristine());
    // Zero-sized requests cost nothing.
    let z = arena.allocate(layout(0, 64)).unwrap();
    assert_eq!((z.len(), z.cast::<u8>().as_ptr() as usize % 64), (0, 0));
    assert_eq!(arena.used_bytes(), 0);
}

/// Random allocations and frees: blocks never overlap, the bookkeeping matches, and freeing
/// everything merges the buffer back into one piece.
#[test]
fn arena_random_churn() {
    let mut buf = vec![0u8; 32 * 1024];
    let arena = Arena::new(&mut buf);
    let mut rng = Rng(0x1234_5678);
    let steps = if cfg!(miri) { 300 } else { 20_000 };
    let mut live: Vec<(NonNull<[u8]>, Layout, u8)> = Vec::new();
    for step in 0..steps {
        if live.is_empty() || rng.below(3) != 0 {
            let size = 1 + rng.below(700) as usize;
            let align = 1usize << rng.below(8);
            let l = layout(size, align);
            match arena.allocate(l) {
                Ok(b) => {
                    assert_eq!(b.cast::<u8>().as_ptr() as usize % align, 0);
                    let tag = step as u8;
                    fill(b, tag);
                    live.push((b, l, tag));
                }
                Err(AllocError) => {
                    // Full: free a few.
                    for _ in 0..4.min(live.len()) {
                        let (b, l, tag) = live.swap_remove(rng.below(live.len() as u64) as usize);
                        assert!(holds(b, tag));
                        // SAFETY: allocated with `l`, freed once.
                        unsafe { arena.deallocate(b.cast(), l) };
                    }
                }
            }
        } else {
            let (b, l, tag) = live.swap_remove(rng.below(live.len() as u64) as usize);
            assert!(holds(b, tag), "a block was overwritten by another");
            // SAFETY: allocated with `l`, freed once.
            unsafe { arena.deallocate(b.cast(), l) };
        }
        let used: usize = live.iter().map(|(b, _, _)| b.len()).sum();
        assert_eq!(arena.used_bytes(), used);
    }
    for (b, l, tag) in live {
        assert!(holds(b, tag));
        // SAFETY: allocated with `l`, freed once.
        unsafe { arena.deallocate(b.cast(), l) };
    }
    assert!(arena.is_pristine());
    assert!(arena.allocate(layout(arena.capacity(), 16)).is_ok());
}

#[test]
fn static_arena_is_shared_between_threads() {
    static HEAP: StaticArena<{ 64 * 1024 }> = StaticArena::new();
    let (threads, rounds) = if cfg!(miri) { (3, 30) } else { (8, 4000) };
    std::thread::scope(|s| {
        for t in 0..threads {
            s.spawn(move || {
                let heap = &HEAP;
                let mut rng = Rng(t as u64 + 1);
                let mut held: Vec<(NonNull<[u8]>, Layout, u8)> = Vec::new();
                for r in 0..rounds {
                    let l = layout(1 + rng.below(300) as usize, 8);
                    if let Ok(b) = heap.allocate(l) {
                        let tag = (t * 31 + r) as u8;
                        fill(b, tag);
                        held.push((b, l, tag));
                    }
                    if held.len() > 10 || (rng.below(2) == 0 && !held.is_empty()) {
                        let (b, l, tag) = held.swap_remove(0);
                        assert!(holds(b, tag), "another thread overwrote a block");
                        // SAFETY: allocated above with `l`, freed once.
                        unsafe { heap.deallocate(b.cast(), l) };
                    }
                }
                for (b, l, tag) in held {
                    assert!(holds(b, tag));
                    // SAFETY: as above.
                    unsafe { heap.deallocate(b.cast(), l) };
                }
            });
        }
    });
    assert_eq!(HEAP.used_bytes(), 0);
    assert!(HEAP.is_pristine());
}

/// Everything a map's memory says about it: the header and the bytes of every bucket reachable
/// from it (current and old arrays, with their overflow chains).
fn fingerprint<A: Allocator>(m: &GoMap<u64, u64, GoHasher, A, SeededRand>) -> Vec<u8> {
    let v = m.raw();
    let h = v.header();
    let mut out = Vec::new();
    for x in [
        h.count(),
        h.flags().bits() as usize,
        h.B() as usize,
        h.noverflow() as usize,
        h.hash0() as usize,
        h.buckets(),
        h.oldbuckets(),
        h.nevacuate(),
        h.extra(),
    ] {
        out.extend_from_slice(&x.to_le_bytes());
    }
    for head in v.buckets().chain(v.old_buckets()) {
        for b in v.chain(head) {
            out.extend_from_slice(&b.addr().to_le_bytes());
            out.extend_from_slice(b.bytes());
        }
    }
    if let Some(e) = v.extra() {
        out.extend_from_slice(&e.nextOverflow().to_le_bytes());
        for p in v.overflow_list().iter().chain(v.old_overflow_list()) {
            out.extend_from_slice(&(*p as usize).to_le_bytes());
        }
    }
    out
}

/// Takes every free byte of an arena, in blocks of decreasing size, so that nothing more can
/// be allocated. Returns the blocks, to give back later.
fn exhaust(arena: &Arena<'_>) -> Vec<(NonNull<[u8]>, Layout)> {
    let mut held = Vec::new();
    let mut size = arena.capacity().next_power_of_two();
    while size >= 16 {
        let l = layout(size, 16);
        while let Ok(b) = arena.allocate(l) {
            held.push((b, l));
        }
        size /= 2;
    }
    assert!(arena.allocate(layout(1, 1)).is_err());
    held
}

type ArenaMap<'a> = GoMap<u64, u64, GoHasher, &'a Arena<'a>, SeededRand>;

/// Builds a map in `arena` that is in the middle of a grow (some old buckets evacuated, some
/// not), the model of its contents, and the next unused key.
fn map_mid_grow<'a>(arena: &'a Arena<'a>) -> (ArenaMap<'a>, HashMap<u64, u64>, u64) {
    let mut m = GoMap::from_parts(
        0,
        GoHasher::with_hashkey(0xa7e4a),
        arena,
        SeededRand::new(8),
    );
    let mut model = HashMap::new();
    let mut k = 0u64;
    loop {
        m.insert(k, !k);
        model.insert(k, !k);
        k += 1;
        let h = m.header();
        if h.growing() && h.nevacuate() > 0 && h.B() >= 4 {
            break;
        }
    }
    (m, model, k)
}

/// The arena runs out in the middle of a grow: `insert_fallible` reports the error, hands the key
/// and value back, and leaves every byte of the map as it was; the map stays consistent and
/// readable, and finishes its grow once memory is back.
#[test]
fn arena_exhaustion_mid_grow() {
    let mut buf = vec![0u8; 256 * 1024];
    let arena = Arena::new(&mut buf);
    let (mut m, mut model, mut k) = map_mid_grow(&arena);
    let noldbuckets = m.header().noldbuckets();
    println!(
        "mid-grow: B = {}, nevacuate = {} of {} old buckets, {} entries",
        m.header().B(),
        m.header().nevacuate(),
        noldbuckets,
        m.len()
    );
    let held = exhaust(&arena);

    // Writes that need memory now fail; each failure changes nothing.
    let mut failures = 0;
    for _ in 0..64 {
        let before = fingerprint(&m);
        let was_growing = m.header().growing();
        match m.insert_fallible(k, 1) {
            Ok(_) => {
                model.insert(k, 1);
            }
            Err(e) => {
                failures += 1;
                assert_eq!((e.key, e.value), (k, 1), "the key and value come back");
                assert!(matches!(
                    e.error.kind(),
                    TryReserveErrorKind::AllocError { .. }
                ));
                assert!(e.to_string().contains("memory allocation of"), "{e}");
                assert_eq!(
                    fingerprint(&m),
                    before,
                    "a failed insert_fallible changed the map"
                );
                assert_eq!(m.header().growing(), was_growing, "the grow state changed");
            }
        }
        check_invariants(&m);
        for (key, v) in &model {
            assert_eq!(m.get(key), Some(v));
        }
        k += 1;
    }
    assert!(failures > 0, "no write needed memory");
    println!("{failures} of 64 insert_fallible calls failed, the map unchanged by each");
    let before = fingerprint(&m);
    let err = m.try_reserve(10_000).unwrap_err();
    assert!(matches!(err.kind(), TryReserveErrorKind::AllocError { .. }));
    assert_eq!(
        fingerprint(&m),
        before,
        "a failed try_reserve changed the map"
    );
    // Reads need no memory. (Removes may: like Go's mapdelete, a remove during a grow
    // evacuates old buckets, which can need overflow buckets.)
    for (key, v) in &model {
        assert_eq!(m.get(key), Some(v));
    }
    assert_eq!(m.iter().count(), model.len());

    // Memory comes back: the grow finishes.
    for (b, l) in held {
        // SAFETY: each block was allocated by `exhaust` with `l`.
        unsafe { arena.deallocate(b.cast(), l) };
    }
    let victim = *model.keys().next().unwrap();
    assert_eq!(m.remove(&victim), model.remove(&victim));
    while m.header().growing() {
        m.insert_fallible(k, 2).unwrap();
        model.insert(k, 2);
        k += 1;
    }
    check_invariants(&m);
    assert_eq!(m.len(), model.len());
    for (key, v) in &model {
        assert_eq!(m.get(key), Some(v));
    }
    drop(m);
    assert!(arena.is_pristine());
}

/// The infallible methods' policy when the arena is exhausted: `handle_alloc_error`, which
/// aborts the process with "memory allocation of N bytes failed". Checked in a child process.
#[test]
#[cfg_attr(miri, ignore)]
fn infallible_insert_aborts_when_the_arena_is_exhausted() {
    const CHILD: &str = "GOMAP_ARENA_ABORT_CHILD";
    if std::env::var_os(CHILD).is_some() {
        let mut buf = vec![0u8; 256 * 1024];
        let arena = Arena::new(&mut buf);
        let (mut m, _, k) = map_mid_grow(&arena);
        let _held = exhaust(&arena);
        eprintln!("child: exhausted mid-grow");
        for i in 0..64 {
            m.insert(k + i, 0);
        }
        eprintln!("child: every insert succeeded");
        std::process::exit(0);
    }
    let out = std::process::Command::new(std::env::current_exe().unwrap())
        .args([
            "--exact",
            "infallible_insert_aborts_when_the_arena_is_exhausted",
            "--nocapture",
            "--test-threads=1",
        ])
        .env(CHILD, "1")
        .output()
        .unwrap();
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(stderr.contains("child: exhausted mid-grow"), "{stderr}");
    assert!(
        !out.status.success(),
        "the child should have aborted: {stderr}"
    );
    assert!(
        stderr.contains("memory allocation of") && stderr.contains("failed"),
        "{stderr}"
    );
    #[cfg(unix)]
    {
        use std::os::unix::process::ExitStatusExt;
        assert_eq!(out.status.signal(), Some(6), "SIGABRT: {stderr}");
    }
}

// =============================================================================================
// The C library's allocator.

#[cfg(feature = "libc")]
mod libc_alloc {
    use super::*;
    use gomap::alloc::LibcAlloc;

    #[test]
    fn libc_sizes_alignment_and_zeroing() {
        let a = LibcAlloc;
        for align in (0..=12).map(|s| 1usize << s) {
            for size in [1, 3, 8, 24, 100, 4096, 70_000] {
                let l = layout(size, align);
                let b = a.allocate(l).unwrap();
                assert_eq!(b.len(), size);
                assert_eq!(fill(b, 0xcc) % align, 0, "size {size} align {align}");
                // SAFETY: allocated above with `l`.
                unsafe { a.deallocate(b.cast(), l) };
                let z = a.allocate_zeroed(l).unwrap();
                assert!(holds(z, 0), "allocate_zeroed, size {size} align {align}");
                // SAFETY: allocated above with `l`.
                unsafe { a.deallocate(z.cast(), l) };
            }
        }
        let z = a.allocate(layout(0, 32)).unwrap();
        assert_eq!(z.len(), 0);
        // SAFETY: a zero-sized block, freed with its layout.
        unsafe { a.deallocate(z.cast(), layout(0, 32)) };
    }

    #[test]
    fn libc_map_frees_everything() {
        let c = CountingAlloc::new(LibcAlloc);
        {
            let mut m: GoMap<u64, [u64; 20], GoHasher, &CountingAlloc<LibcAlloc>> =
                GoMap::with_map_hasher_in(GoHasher::with_hashkey(3), &c);
            for i in 0..if cfg!(miri) { 60 } else { 5000 } {
                m.insert(i, [i; 20]);
            }
            for i in (0..60).step_by(3) {
                assert_eq!(m.remove(&i), Some([i; 20]));
            }
            check_invariants(&m);
        }
        let s = c.read_mem_stats();
        assert_eq!((s.HeapAlloc, s.HeapObjects), (0, 0));
        assert_eq!(s.Mallocs, s.Frees);
    }
}

/// How many of the pages of `block` are resident in memory (Linux `mincore`).
#[cfg(target_os = "linux")]
fn resident_pages(block: NonNull<[u8]>) -> (usize, usize) {
    // SAFETY: sysconf has no preconditions.
    let page = unsafe { libc::sysconf(libc::_SC_PAGESIZE) } as usize;
    let start = block.cast::<u8>().as_ptr() as usize;
    let (lo, hi) = (
        start.div_ceil(page) * page,
        (start + block.len()) / page * page,
    );
    let n = (hi - lo) / page;
    let mut v = vec![0u8; n];
    // SAFETY: [lo, hi) is whole pages inside the block, which is mapped; `v` has one byte per
    // page.
    let r = unsafe { libc::mincore(lo as *mut libc::c_void, hi - lo, v.as_mut_ptr()) };
    assert_eq!(r, 0, "mincore failed");
    (v.iter().filter(|&&b| b & 1 != 0).count(), n)
}

/// The default allocator hands out a big zeroed block without writing to it: its pages are
/// not even resident, also right after a block of the same size was freed (glibc would then
/// serve `calloc` from its heap and clear the block with a memset).
#[test]
#[cfg(target_os = "linux")]
#[cfg_attr(miri, ignore)] // mmap and mincore are FFI
fn page_alloc_zeroed_blocks_are_untouched_fresh_pages() {
    use gomap::alloc::{DefaultAllocator, PageAlloc};
    let a: DefaultAllocator = PageAlloc::new();
    let size = 16 << 20;
    let l = layout(size, 8);
    for round in 0..3 {
        // A dirty block of the same size, freed: raises glibc's mmap threshold.
        let dirty = Global.allocate(l).unwrap();
        fill(dirty, 0x5a);
        // SAFETY: `dirty` came from Global with layout `l`.
        unsafe { Global.deallocate(dirty.cast(), l) };

        let p = a.allocate_zeroed(l).unwrap();
        let (resident, pages) = resident_pages(p);
        assert!(
            resident * 100 < pages,
            "round {round}: {resident} of the {pages} pages of a fresh zeroed block are resident \
             (written by a memset?)"
        );
        assert!(holds(p, 0));
        // SAFETY: `p` came from `a` with layout `l`.
        unsafe { a.deallocate(p.cast(), l) };
    }
}

/// A map big enough that its bucket arrays come from `PageAlloc`'s own mappings: through grows
/// (the old array handed back a piece at a time, then unmapped), deletes, `clear`, a
/// `shrink_to_fit` and drop, every entry stays right and nothing leaks.
#[test]
#[cfg_attr(miri, ignore)] // hundreds of thousands of inserts; PageAlloc maps nothing under Miri
fn page_alloc_serves_big_maps_through_grows() {
    use gomap::alloc::PageAlloc;
    let counting = CountingAlloc::new(PageAlloc::new());
    let mut m: GoMap<u64, u64, GoHasher, &CountingAlloc<PageAlloc>, SeededRand> = GoMap::from_parts(
        0,
        GoHasher::with_hashkey(0xfa9e),
        &counting,
        SeededRand::new(5),
    );
    let threshold = PageAlloc::<Global>::THRESHOLD;
    // B = 16: a 9.4 MB array, past the threshold; the grows to B = 15 and 16 use mappings.
    let n = 13 * (1u64 << 15) / 2 + 1000;
    for k in 0..n {
        m.insert(k, k ^ 0x55);
        if k % 4 == 3 {
            assert_eq!(m.remove(&(k / 2)), Some((k / 2) ^ 0x55), "remove {}", k / 2);
        }
    }
    assert!(m.layout().array_bytes(m.header().B()).unwrap() >= threshold);
    // Step k removed k / 2 when k % 4 == 3: the odd keys j with 2j + 1 < n.
    for k in 0..n {
        let removed = k % 2 == 1 && 2 * k + 1 < n;
        assert_eq!(
            m.get(&k).copied(),
            (!removed).then_some(k ^ 0x55),
            "key {k}"
        );
    }
    check_invariants(&m);
    assert_eq!(counting.live_bytes(), m.allocated_bytes() as u64);
    m.clear();
    assert!(m.is_empty());
    m.shrink_to_fit();
    check_invariants(&m);
    drop(m);
    let s = counting.read_mem_stats();
    assert_eq!(s.HeapAlloc, 0, "leak: {s:?}");
    assert_eq!(s.Mallocs, s.Frees, "{s:?}");
}
