//! Allocator benchmarks: overflow-bucket allocation and a map fill, with Go's size-class
//! allocator against the system allocator. Results: BENCHMARKS.md, section "Allocators".

use core::alloc::Layout;
use std::hint::black_box;

use criterion::{criterion_main, BatchSize, Criterion, Throughput};
use gomap::alloc::{Allocator, Global, SizeClassAlloc};
use gomap::{GoHasher, GoMap, SeededRand};

/// Go's bucket for map[uint64]uint64: 8 + 8*8 + 8*8 + 8 bytes.
const BUCKET: usize = 144;
/// Overflow buckets allocated (then freed) per iteration.
const BATCH: usize = 1024;

/// Allocates `BATCH` zeroed buckets the way `new_overflow` does, then frees them all.
fn overflow_batch<A: Allocator>(a: &A, ptrs: &mut Vec<core::ptr::NonNull<u8>>) {
    let layout = Layout::from_size_align(BUCKET, 8).unwrap();
    for _ in 0..BATCH {
        let p = a.allocate_zeroed(layout).unwrap();
        ptrs.push(p.cast());
    }
    for p in ptrs.drain(..) {
        // SAFETY: each block was allocated just above with `layout`.
        unsafe { a.deallocate(black_box(p), layout) };
    }
}

fn overflow_buckets(c: &mut Criterion) {
    let mut g = c.benchmark_group("overflow_bucket_alloc");
    g.throughput(Throughput::Elements(BATCH as u64));
    let mut ptrs = Vec::with_capacity(BATCH);
    g.bench_function("system", |b| b.iter(|| overflow_batch(&Global, &mut ptrs)));
    let classes = SizeClassAlloc::new(Global);
    g.bench_function("size_class", |b| {
        b.iter(|| overflow_batch(&classes, &mut ptrs))
    });
    g.finish();
}

fn fill<A: Allocator>(a: A, n: u64) -> usize {
    let mut m: GoMap<u64, u64, GoHasher, A, SeededRand> =
        GoMap::from_parts(0, GoHasher::with_hashkey(0x9e37), a, SeededRand::new(1));
    for i in 0..n {
        m.insert(i, i);
    }
    m.len()
}

fn map_fill(c: &mut Criterion) {
    for n in [100u64, 10_000] {
        let mut g = c.benchmark_group(format!("map_fill_{n}"));
        g.throughput(Throughput::Elements(n));
        g.bench_function("system", |b| b.iter(|| black_box(fill(Global, n))));
        // Spans kept across iterations, as Go keeps them for reuse.
        let classes = SizeClassAlloc::new(Global);
        g.bench_function("size_class", |b| b.iter(|| black_box(fill(&classes, n))));
        // A fresh allocator per map: every span comes from the parent.
        g.bench_function("size_class_cold", |b| {
            b.iter_batched(
                || SizeClassAlloc::new(Global),
                |a| black_box(fill(a, n)),
                BatchSize::SmallInput,
            )
        });
        g.finish();
    }
}

// (criterion's generated group function has no doc comment.)
#[allow(missing_docs)]
mod group {
    criterion::criterion_group!(benches, super::overflow_buckets, super::map_fill);
}
criterion_main!(group::benches);
