//! Concurrency benchmarks: read-heavy mixes (99/1, 90/10, 50/50 reads/writes) on 1 and 2
//! threads, for `Mutex<GoMap>`, `RwLock<GoMap>`, `SyncMap`, `CheckedMap` (single-writer use:
//! one thread), dashmap, and `&mut GoMap` (no sharing at all) as the baseline. Results:
//! BENCHMARKS.md, section "Concurrency".
//!
//! Two workloads on `u64 → u64` maps over a universe of 4,096 keys. An operation draws a key
//! uniformly; a read is a lookup (`get`/`load`).
//! * `mix_R_W` (keys come and go): half the keys are present at the start; a write is, with
//!   equal chance, an insert (`insert`/`store`) or a removal (`remove`/`delete`), so the map
//!   stays about half full and keys keep appearing and disappearing.
//! * `stable_R_W` (`sync.Map`'s sweet spot): every key is present from the start and a write
//!   overwrites a value; the set of keys never changes.
//!
//! Each thread runs its own xorshift generator. Throughput counts the operations of all
//! threads.

use std::hint::black_box;
use std::sync::{Barrier, Mutex, RwLock};
use std::thread;
use std::time::{Duration, Instant};

use criterion::{criterion_main, BenchmarkId, Criterion, Throughput};
use dashmap::DashMap;
use gomap::sync::{CheckedMap, SyncMap};
use gomap::GoMap;

const KEYS: u64 = 4096;

/// A map that threads share through `&self`.
trait Shared: Sync {
    fn get(&self, k: u64) -> Option<u64>;
    fn insert(&self, k: u64, v: u64);
    fn remove(&self, k: u64);
}

impl Shared for Mutex<GoMap<u64, u64>> {
    fn get(&self, k: u64) -> Option<u64> {
        self.lock().unwrap().get(&k).copied()
    }
    fn insert(&self, k: u64, v: u64) {
        self.lock().unwrap().insert(k, v);
    }
    fn remove(&self, k: u64) {
        self.lock().unwrap().remove(&k);
    }
}

impl Shared for RwLock<GoMap<u64, u64>> {
    fn get(&self, k: u64) -> Option<u64> {
        self.read().unwrap().get(&k).copied()
    }
    fn insert(&self, k: u64, v: u64) {
        self.write().unwrap().insert(k, v);
    }
    fn remove(&self, k: u64) {
        self.write().unwrap().remove(&k);
    }
}

impl Shared for SyncMap<u64, u64> {
    fn get(&self, k: u64) -> Option<u64> {
        self.load(&k).map(|v| *v)
    }
    fn insert(&self, k: u64, v: u64) {
        self.store(k, v);
    }
    fn remove(&self, k: u64) {
        self.delete(&k);
    }
}

impl Shared for CheckedMap<u64, u64> {
    fn get(&self, k: u64) -> Option<u64> {
        CheckedMap::get(self, &k)
    }
    fn insert(&self, k: u64, v: u64) {
        CheckedMap::insert(self, k, v);
    }
    fn remove(&self, k: u64) {
        CheckedMap::remove(self, &k);
    }
}

impl Shared for DashMap<u64, u64> {
    fn get(&self, k: u64) -> Option<u64> {
        DashMap::get(self, &k).map(|r| *r)
    }
    fn insert(&self, k: u64, v: u64) {
        DashMap::insert(self, k, v);
    }
    fn remove(&self, k: u64) {
        DashMap::remove(self, &k);
    }
}

/// xorshift64*.
struct Rng(u64);

impl Rng {
    #[inline]
    fn next(&mut self) -> u64 {
        self.0 ^= self.0 >> 12;
        self.0 ^= self.0 << 25;
        self.0 ^= self.0 >> 27;
        self.0.wrapping_mul(0x2545_f491_4f6c_dd1d)
    }
}

/// The two workloads (see the top of the file).
#[derive(Clone, Copy)]
enum Keys {
    /// Half the keys present; writes insert or remove.
    Churn,
    /// All keys present; writes overwrite.
    Stable,
}

/// One operation of the mix: a read with probability `read_pct`%, else a write: an insert,
/// or (with `Keys::Churn`, half the time) a removal.
#[inline]
fn step(
    rng: &mut Rng,
    keys: Keys,
    read_pct: u64,
    get: impl FnOnce(u64),
    write: impl FnOnce(u64, bool),
) {
    let r = rng.next();
    let k = r % KEYS;
    if (r >> 32) % 100 < read_pct {
        get(k);
    } else {
        write(k, matches!(keys, Keys::Stable) || (r >> 48) & 1 == 0);
    }
}

/// `threads` threads run `iters` operations each, started together; the time until the last
/// one finishes.
fn run_shared<M: Shared>(m: &M, keys: Keys, threads: usize, read_pct: u64, iters: u64) -> Duration {
    let start = Barrier::new(threads + 1);
    thread::scope(|s| {
        let hs: Vec<_> = (0..threads)
            .map(|t| {
                let start = &start;
                s.spawn(move || {
                    let mut rng = Rng(0x9e37_79b9_7f4a_7c15 ^ ((t as u64 + 1) << 17));
                    start.wait();
                    for _ in 0..iters {
                        step(
                            &mut rng,
                            keys,
                            read_pct,
                            |k| {
                                black_box(m.get(k));
                            },
                            |k, ins| {
                                if ins {
                                    m.insert(k, iters);
                                } else {
                                    m.remove(k);
                                }
                            },
                        );
                    }
                })
            })
            .collect();
        start.wait();
        let t0 = Instant::now();
        for h in hs {
            h.join().unwrap();
        }
        t0.elapsed()
    })
}

/// The baseline: one thread, `&mut GoMap`, no synchronization at all.
fn run_exclusive(m: &mut GoMap<u64, u64>, keys: Keys, read_pct: u64, iters: u64) -> Duration {
    let mut rng = Rng(0x9e37_79b9_7f4a_7c15 ^ (1 << 17));
    let t0 = Instant::now();
    for _ in 0..iters {
        let r = rng.next();
        let k = r % KEYS;
        if (r >> 32) % 100 < read_pct {
            black_box(m.get(&k).copied());
        } else if matches!(keys, Keys::Stable) || (r >> 48) & 1 == 0 {
            m.insert(k, iters);
        } else {
            m.remove(&k);
        }
    }
    t0.elapsed()
}

/// The keys present at the start: every other key (churn) or all of them (stable).
fn initial(keys: Keys) -> impl Iterator<Item = u64> {
    let step = match keys {
        Keys::Churn => 2,
        Keys::Stable => 1,
    };
    (0..KEYS).step_by(step)
}

fn prefilled(keys: Keys) -> GoMap<u64, u64> {
    let mut m = GoMap::new();
    for k in initial(keys) {
        m.insert(k, k);
    }
    m
}

fn mixes(c: &mut Criterion) {
    for (keys, name) in [(Keys::Churn, "mix"), (Keys::Stable, "stable")] {
        for read_pct in [99u64, 90, 50] {
            let mut g = c.benchmark_group(format!("{name}_{read_pct}_{}", 100 - read_pct));
            g.sample_size(20)
                .warm_up_time(Duration::from_millis(500))
                .measurement_time(Duration::from_secs(2));
            for threads in [1usize, 2] {
                g.throughput(Throughput::Elements(threads as u64));
                let id = |name: &str| BenchmarkId::new(name, format!("{threads}t"));
                if threads == 1 {
                    let mut m = prefilled(keys);
                    g.bench_function(id("gomap_exclusive"), |b| {
                        b.iter_custom(|iters| run_exclusive(&mut m, keys, read_pct, iters))
                    });
                    // Single-writer use: one thread does everything, through `&self`.
                    let m = CheckedMap::from(prefilled(keys));
                    g.bench_function(id("checked_map"), |b| {
                        b.iter_custom(|iters| run_shared(&m, keys, 1, read_pct, iters))
                    });
                }
                let m = Mutex::new(prefilled(keys));
                g.bench_function(id("mutex_gomap"), |b| {
                    b.iter_custom(|iters| run_shared(&m, keys, threads, read_pct, iters))
                });
                let m = RwLock::new(prefilled(keys));
                g.bench_function(id("rwlock_gomap"), |b| {
                    b.iter_custom(|iters| run_shared(&m, keys, threads, read_pct, iters))
                });
                let m: SyncMap<u64, u64> = SyncMap::new();
                for k in initial(keys) {
                    m.store(k, k);
                }
                g.bench_function(id("sync_map"), |b| {
                    b.iter_custom(|iters| run_shared(&m, keys, threads, read_pct, iters))
                });
                let m: DashMap<u64, u64> = DashMap::new();
                for k in initial(keys) {
                    m.insert(k, k);
                }
                g.bench_function(id("dashmap"), |b| {
                    b.iter_custom(|iters| run_shared(&m, keys, threads, read_pct, iters))
                });
            }
            g.finish();
        }
    }
}

// (criterion's generated group function has no doc comment.)
#[allow(missing_docs)]
mod group {
    criterion::criterion_group!(benches, super::mixes);
}
criterion_main!(group::benches);
