//! The Rust half of the Go side-by-side (benches/go/compare.sh): the same workloads, keys and
//! timing method as benches/go/main.go (best of N runs, nanoseconds per operation), for gomap
//! (Go's hash), gomap with foldhash, hashbrown with foldhash and griddle (its default hasher).
//! One JSON object per line.
//!
//! gomap's batched operations have rows of their own: `lookup-hit-batch` and
//! `lookup-miss-batch` (`get_batch` over all the keys), `insert-extend` (`extend` from the
//! keys, into a fresh map). The other maps have no such operation: their plain loop is the
//! row to compare with (`lookup-hit`, `lookup-miss`, `insert`).
//!
//! ```sh
//! cargo bench --bench compare -- --runs 5 --sizes 1000,100000,1000000
//! ```

use std::hash::Hash;
use std::hint::black_box;
use std::time::Instant;

use gomap::{GoHasher, GoMap, HashAdapter, MapHasher, MapLookup};

type Fold = foldhash::fast::RandomState;

struct Rng(u64);
impl Rng {
    fn next(&mut self) -> u64 {
        self.0 ^= self.0 >> 12;
        self.0 ^= self.0 << 25;
        self.0 ^= self.0 >> 27;
        self.0.wrapping_mul(0x2545_f491_4f6c_dd1d)
    }
}

trait Map<K> {
    /// gomap's batched operations (`get_batch`, `extend`); `None` for the other maps.
    const BATCHED: bool = false;
    fn batch_hits(&self, _keys: &[K]) -> u64 {
        unreachable!()
    }
    fn extend_from(&mut self, _pairs: Vec<(K, u64)>) {
        unreachable!()
    }
    fn new() -> Self;
    fn with_capacity(n: usize) -> Self;
    fn insert(&mut self, k: K, v: u64);
    fn get(&self, k: &K) -> Option<u64>;
    fn remove(&mut self, k: &K) -> Option<u64>;
    fn sum(&self) -> u64;
}

impl<K: PartialEq, H: MapHasher<K> + MapLookup<K, K> + Default> Map<K> for GoMap<K, u64, H> {
    const BATCHED: bool = true;
    #[inline]
    fn batch_hits(&self, keys: &[K]) -> u64 {
        self.get_batch(keys)
            .fold(0u64, |s, v| s.wrapping_add(v.copied().unwrap_or(1)))
    }
    #[inline]
    fn extend_from(&mut self, pairs: Vec<(K, u64)>) {
        self.extend(pairs);
    }
    fn new() -> Self {
        GoMap::with_map_hasher(H::default())
    }
    fn with_capacity(n: usize) -> Self {
        GoMap::with_capacity_and_map_hasher(n, H::default())
    }
    #[inline]
    fn insert(&mut self, k: K, v: u64) {
        GoMap::insert(self, k, v);
    }
    #[inline]
    fn get(&self, k: &K) -> Option<u64> {
        GoMap::get(self, k).copied()
    }
    #[inline]
    fn remove(&mut self, k: &K) -> Option<u64> {
        GoMap::remove(self, k)
    }
    fn sum(&self) -> u64 {
        self.values().fold(0, |a, v| a.wrapping_add(*v))
    }
}

impl<K: Hash + Eq> Map<K> for hashbrown::HashMap<K, u64, Fold> {
    fn new() -> Self {
        Self::default()
    }
    fn with_capacity(n: usize) -> Self {
        Self::with_capacity_and_hasher(n, Fold::default())
    }
    #[inline]
    fn insert(&mut self, k: K, v: u64) {
        hashbrown::HashMap::insert(self, k, v);
    }
    #[inline]
    fn get(&self, k: &K) -> Option<u64> {
        hashbrown::HashMap::get(self, k).copied()
    }
    #[inline]
    fn remove(&mut self, k: &K) -> Option<u64> {
        hashbrown::HashMap::remove(self, k)
    }
    fn sum(&self) -> u64 {
        self.values().fold(0, |a, v| a.wrapping_add(*v))
    }
}

impl<K: Hash + Eq> Map<K> for griddle::HashMap<K, u64> {
    fn new() -> Self {
        Self::default()
    }
    fn with_capacity(n: usize) -> Self {
        Self::with_capacity(n)
    }
    #[inline]
    fn insert(&mut self, k: K, v: u64) {
        griddle::HashMap::insert(self, k, v);
    }
    #[inline]
    fn get(&self, k: &K) -> Option<u64> {
        griddle::HashMap::get(self, k).copied()
    }
    #[inline]
    fn remove(&mut self, k: &K) -> Option<u64> {
        griddle::HashMap::remove(self, k)
    }
    fn sum(&self) -> u64 {
        self.values().fold(0, |a, v| a.wrapping_add(*v))
    }
}

fn best(runs: usize, n: usize, mut f: impl FnMut() -> f64) -> f64 {
    (0..runs).map(|_| f()).fold(f64::MAX, f64::min) / n as f64
}

fn time(f: impl FnOnce()) -> f64 {
    let t = Instant::now();
    f();
    t.elapsed().as_nanos() as f64
}

fn bench<K: Clone, M: Map<K>>(name: &str, keys: &str, present: &[K], absent: &[K], runs: usize) {
    let n = present.len();
    let out = |w: &str, ns: f64| {
        println!(
            r#"{{"impl":"{name}","workload":"{w}","keys":"{keys}","n":{n},"ns_per_op":{ns:.3}}}"#
        );
    };
    let full = || {
        let mut m = M::new();
        for (i, k) in present.iter().enumerate() {
            m.insert(k.clone(), i as u64);
        }
        m
    };
    out(
        "insert",
        best(runs, n, || {
            let ks = present.to_vec();
            let mut built = None;
            // The map is dropped after the clock stops, as Go frees it later, in the GC.
            let t = time(|| {
                let mut m = M::new();
                for (i, k) in ks.into_iter().enumerate() {
                    m.insert(k, i as u64);
                }
                built = Some(black_box(m));
            });
            drop(built);
            t
        }),
    );
    out(
        "insert-hint",
        best(runs, n, || {
            let ks = present.to_vec();
            let mut built = None;
            // The map is dropped after the clock stops, as Go frees it later, in the GC.
            let t = time(|| {
                let mut m = M::with_capacity(n);
                for (i, k) in ks.into_iter().enumerate() {
                    m.insert(k, i as u64);
                }
                built = Some(black_box(m));
            });
            drop(built);
            t
        }),
    );
    if M::BATCHED {
        out(
            "insert-extend",
            best(runs, n, || {
                let pairs: Vec<(K, u64)> = present
                    .iter()
                    .enumerate()
                    .map(|(i, k)| (k.clone(), i as u64))
                    .collect();
                let mut built = None;
                let t = time(|| {
                    let mut m = M::new();
                    m.extend_from(pairs);
                    built = Some(black_box(m));
                });
                drop(built);
                t
            }),
        );
    }
    let m = full();
    if M::BATCHED {
        out(
            "lookup-hit-batch",
            best(runs, n, || {
                time(|| {
                    black_box(m.batch_hits(present));
                })
            }),
        );
        out(
            "lookup-miss-batch",
            best(runs, n, || {
                time(|| {
                    black_box(m.batch_hits(absent));
                })
            }),
        );
    }
    out(
        "lookup-hit",
        best(runs, n, || {
            time(|| {
                let mut s = 0u64;
                for k in present {
                    s = s.wrapping_add(m.get(k).unwrap_or(1));
                }
                black_box(s);
            })
        }),
    );
    out(
        "lookup-miss",
        best(runs, n, || {
            time(|| {
                let mut s = 0u64;
                for k in absent {
                    s += m.get(k).is_some() as u64;
                }
                black_box(s);
            })
        }),
    );
    out(
        "iterate",
        best(runs, n, || {
            time(|| {
                black_box(m.sum());
            })
        }),
    );
    drop(m);
    out(
        "remove",
        best(runs, n, || {
            let mut m = full();
            let t = time(|| {
                for k in present {
                    black_box(m.remove(k));
                }
            });
            drop(m);
            t
        }),
    );
    out(
        "mixed-80-10-10",
        best(runs, n, || {
            let mut m = full();
            let t = time(|| {
                let mut r = Rng(7);
                let mut s = 0u64;
                for a in absent {
                    let x = r.next();
                    let j = (x >> 8) as usize % n;
                    match x % 10 {
                        0 => m.insert(a.clone(), x),
                        1 => s = s.wrapping_add(m.remove(&present[j]).unwrap_or(0)),
                        _ => s = s.wrapping_add(m.get(&present[j]).unwrap_or(0)),
                    }
                }
                black_box(s);
            });
            drop(m);
            t
        }),
    );
}

fn all<K: Clone + Hash + Eq + PartialEq>(keys: &str, present: &[K], absent: &[K], runs: usize)
where
    GoHasher: MapHasher<K> + MapLookup<K, K>,
{
    bench::<K, GoMap<K, u64>>("gomap", keys, present, absent, runs);
    bench::<K, GoMap<K, u64, HashAdapter<Fold>>>("gomap-foldhash", keys, present, absent, runs);
    bench::<K, hashbrown::HashMap<K, u64, Fold>>("hashbrown", keys, present, absent, runs);
    bench::<K, griddle::HashMap<K, u64>>("griddle", keys, present, absent, runs);
}

fn main() {
    let mut runs = 5;
    let mut sizes = vec![1_000usize, 100_000, 1_000_000];
    let mut args = std::env::args().skip(1);
    while let Some(a) = args.next() {
        match a.as_str() {
            "--runs" => runs = args.next().and_then(|s| s.parse().ok()).expect("--runs N"),
            "--sizes" => {
                sizes = args
                    .next()
                    .expect("--sizes A,B")
                    .split(',')
                    .map(|s| s.parse().expect("a size"))
                    .collect()
            }
            "--bench" => {}
            other => {
                eprintln!("compare: unknown argument {other} (use --runs N, --sizes A,B,C)");
                std::process::exit(2);
            }
        }
    }
    for n in sizes {
        let mut r = Rng(0x9e37_79b9_7f4a_7c15);
        let all_keys: Vec<u64> = (0..2 * n).map(|_| r.next()).collect();
        all("u64-random", &all_keys[..n], &all_keys[n..], runs);
        let seq: Vec<u64> = (0..2 * n as u64).collect();
        all("u64-sequential", &seq[..n], &seq[n..], runs);
        if n <= 100_000 {
            let mut r = Rng(0x1234_5678_9abc_def1);
            let s: Vec<Box<str>> = (0..2 * n)
                .map(|_| format!("{:016x}", r.next()).into())
                .collect();
            all("str16", &s[..n], &s[n..], runs);
        }
    }
}
