//! Throughput: gomap against std's HashMap (SipHash), hashbrown (foldhash) and griddle, for
//! the same keys, in the same criterion groups.
//!
//! Workloads: insert into a fresh map without a hint, insert with a hint, lookup hit, lookup
//! miss, remove, iterate, and a mix of 80% lookups, 10% inserts and 10% removes. gomap's
//! batched operations join the insert and lookup groups as two more peers: `gomap-batch` and
//! `gomap-foldhash-batch` (`extend` from the pairs, `get_batch` over the keys), to be read
//! against the other maps' plain loops. Keys: random
//! u64, sequential u64, 16-byte strings as `Box<str>` (Go's string layout for gomap) and as
//! `String`. Sizes: 1e3, 1e5, 1e6 (strings: 1e3 and 1e5).
//!
//! ```sh
//! cargo bench --bench maps                       # everything (about 15 minutes)
//! cargo bench --bench maps -- 'u64-random'       # a filter
//! GOMAP_BENCH_QUICK=1 cargo bench --bench maps   # shorter measurement, for a first look
//! ```
//!
//! Every measured iteration handles all n keys; criterion reports the time per iteration,
//! and `Throughput::Elements(n)` turns it into time per operation.

use std::collections::HashMap as StdMap;
use std::hash::Hash;
use std::hint::black_box;
use std::time::Duration;

use criterion::{criterion_main, BatchSize, BenchmarkId, Criterion, Throughput};
use gomap::{GoHasher, GoKey, GoMap, HashAdapter, MapHasher, MapLookup};

type Fold = foldhash::fast::RandomState;

/// The operations every peer offers.
trait Peer<K> {
    const NAME: &'static str;
    fn new() -> Self;
    fn with_capacity(n: usize) -> Self;
    fn insert(&mut self, k: K, v: u64);
    fn get(&self, k: &K) -> Option<&u64>;
    fn remove(&mut self, k: &K) -> Option<u64>;
    fn sum(&self) -> u64;
}

macro_rules! std_like_peer {
    ($name:literal, $ty:ty, $new:expr, $cap:expr) => {
        impl<K: Hash + Eq> Peer<K> for $ty {
            const NAME: &'static str = $name;
            fn new() -> Self {
                $new
            }
            fn with_capacity(n: usize) -> Self {
                $cap(n)
            }
            #[inline]
            fn insert(&mut self, k: K, v: u64) {
                Self::insert(self, k, v);
            }
            #[inline]
            fn get(&self, k: &K) -> Option<&u64> {
                Self::get(self, k)
            }
            #[inline]
            fn remove(&mut self, k: &K) -> Option<u64> {
                Self::remove(self, k)
            }
            fn sum(&self) -> u64 {
                self.values().fold(0, |a, v| a.wrapping_add(*v))
            }
        }
    };
}

std_like_peer!("std", StdMap<K, u64>, StdMap::new(), StdMap::with_capacity);
std_like_peer!(
    "hashbrown",
    hashbrown::HashMap<K, u64, Fold>,
    hashbrown::HashMap::default(),
    |n| hashbrown::HashMap::with_capacity_and_hasher(n, Fold::default())
);
std_like_peer!("griddle", griddle::HashMap<K, u64>, griddle::HashMap::new(), griddle::HashMap::with_capacity);

/// gomap with Go's own hasher.
struct GoPeer<K>(GoMap<K, u64>);
/// gomap with foldhash through the `Hash` adapter.
struct GoFold<K>(GoMap<K, u64, HashAdapter<Fold>>);

impl<K: GoKey + PartialEq> Peer<K> for GoPeer<K>
where
    GoHasher: MapHasher<K> + MapLookup<K, K>,
{
    const NAME: &'static str = "gomap";
    fn new() -> Self {
        GoPeer(GoMap::new())
    }
    fn with_capacity(n: usize) -> Self {
        GoPeer(GoMap::with_capacity(n))
    }
    #[inline]
    fn insert(&mut self, k: K, v: u64) {
        self.0.insert(k, v);
    }
    #[inline]
    fn get(&self, k: &K) -> Option<&u64> {
        self.0.get(k)
    }
    #[inline]
    fn remove(&mut self, k: &K) -> Option<u64> {
        self.0.remove(k)
    }
    fn sum(&self) -> u64 {
        self.0.values().fold(0, |a, v| a.wrapping_add(*v))
    }
}

impl<K: Hash + Eq> Peer<K> for GoFold<K> {
    const NAME: &'static str = "gomap-foldhash";
    fn new() -> Self {
        GoFold(GoMap::with_hasher(Fold::default()))
    }
    fn with_capacity(n: usize) -> Self {
        GoFold(GoMap::with_capacity_and_hasher(n, Fold::default()))
    }
    #[inline]
    fn insert(&mut self, k: K, v: u64) {
        self.0.insert(k, v);
    }
    #[inline]
    fn get(&self, k: &K) -> Option<&u64> {
        self.0.get(k)
    }
    #[inline]
    fn remove(&mut self, k: &K) -> Option<u64> {
        self.0.remove(k)
    }
    fn sum(&self) -> u64 {
        self.0.values().fold(0, |a, v| a.wrapping_add(*v))
    }
}

/// gomap's batched operations: `get_batch` for the lookups, `extend` for the inserts. They are
/// extra peers in the lookup and insert groups (`gomap-batch`, `gomap-foldhash-batch`), to be
/// read against every map's plain loop in the same group.
trait BatchPeer<K>: Peer<K> {
    const BATCH_NAME: &'static str;
    fn batch_sum(&self, keys: &[K]) -> u64;
    fn extend_pairs(&mut self, pairs: Vec<(K, u64)>);
}

impl<K: GoKey + PartialEq> BatchPeer<K> for GoPeer<K>
where
    GoHasher: MapHasher<K> + MapLookup<K, K>,
{
    const BATCH_NAME: &'static str = "gomap-batch";
    #[inline]
    fn batch_sum(&self, keys: &[K]) -> u64 {
        self.0
            .get_batch(keys)
            .fold(0u64, |s, v| s.wrapping_add(*v.unwrap_or(&1)))
    }
    #[inline]
    fn extend_pairs(&mut self, pairs: Vec<(K, u64)>) {
        self.0.extend(pairs);
    }
}

impl<K: Hash + Eq> BatchPeer<K> for GoFold<K> {
    const BATCH_NAME: &'static str = "gomap-foldhash-batch";
    #[inline]
    fn batch_sum(&self, keys: &[K]) -> u64 {
        self.0
            .get_batch(keys)
            .fold(0u64, |s, v| s.wrapping_add(*v.unwrap_or(&1)))
    }
    #[inline]
    fn extend_pairs(&mut self, pairs: Vec<(K, u64)>) {
        self.0.extend(pairs);
    }
}

/// Measures a batched workload (insert, insert-hint, lookup-hit, lookup-miss) for a gomap
/// peer: the same keys and values as `workload`'s plain loops.
fn batch_workload<K: Keys, P: BatchPeer<K>>(
    b: &mut criterion::Bencher<'_>,
    w: &str,
    keys: &(Vec<K>, Vec<K>),
) {
    let (present, absent) = keys;
    let n = present.len();
    match w {
        "insert" | "insert-hint" => {
            let hint = w == "insert-hint";
            b.iter_batched(
                || {
                    present
                        .iter()
                        .enumerate()
                        .map(|(i, k)| (k.clone(), i as u64))
                        .collect::<Vec<_>>()
                },
                |pairs| {
                    let mut m = if hint { P::with_capacity(n) } else { P::new() };
                    m.extend_pairs(pairs);
                    m
                },
                BatchSize::PerIteration,
            )
        }
        "lookup-hit" | "lookup-miss" => {
            let m: P = full(present);
            let probe = if w == "lookup-hit" { present } else { absent };
            b.iter(|| black_box(m.batch_sum(probe)))
        }
        _ => unreachable!("no batched form of {w}"),
    }
}

/// xorshift64*: the same pseudo-random sequence for every peer.
struct Rng(u64);
impl Rng {
    fn next(&mut self) -> u64 {
        self.0 ^= self.0 >> 12;
        self.0 ^= self.0 << 25;
        self.0 ^= self.0 >> 27;
        self.0.wrapping_mul(0x2545_f491_4f6c_dd1d)
    }
}

/// A key family: n present keys and n absent ones.
trait Keys: Clone + Hash + Eq + PartialEq + 'static {
    const NAME: &'static str;
    fn make(n: usize) -> (Vec<Self>, Vec<Self>);
}

impl Keys for u64 {
    const NAME: &'static str = "u64-random";
    fn make(n: usize) -> (Vec<u64>, Vec<u64>) {
        let mut r = Rng(0x9e37_79b9_7f4a_7c15);
        let all: Vec<u64> = (0..2 * n).map(|_| r.next()).collect();
        (all[..n].to_vec(), all[n..].to_vec())
    }
}

/// Sequential u64 keys.
#[derive(Clone, Copy, Hash, PartialEq, Eq)]
struct Seq(u64);
impl GoKey for Seq {
    fn go_hash(&self, seed: u64, hashkey: u64) -> u64 {
        self.0.go_hash(seed, hashkey)
    }
}
impl Keys for Seq {
    const NAME: &'static str = "u64-sequential";
    fn make(n: usize) -> (Vec<Seq>, Vec<Seq>) {
        (
            (0..n as u64).map(Seq).collect(),
            (n as u64..2 * n as u64).map(Seq).collect(),
        )
    }
}

fn strings(n: usize) -> (Vec<String>, Vec<String>) {
    let mut r = Rng(0x1234_5678_9abc_def1);
    let mut s = |_| format!("{:016x}", r.next());
    ((0..n).map(&mut s).collect(), (0..n).map(&mut s).collect())
}

impl Keys for Box<str> {
    const NAME: &'static str = "str16-boxed";
    fn make(n: usize) -> (Vec<Box<str>>, Vec<Box<str>>) {
        let (a, b) = strings(n);
        (
            a.into_iter().map(Into::into).collect(),
            b.into_iter().map(Into::into).collect(),
        )
    }
}

impl Keys for String {
    const NAME: &'static str = "str16-string";
    fn make(n: usize) -> (Vec<String>, Vec<String>) {
        strings(n)
    }
}

/// The workloads, each a function of a peer type.
const WORKLOADS: [&str; 7] = [
    "insert",
    "insert-hint",
    "lookup-hit",
    "lookup-miss",
    "remove",
    "iterate",
    "mixed-80-10-10",
];

fn full<K: Keys, P: Peer<K>>(present: &[K]) -> P {
    let mut m = P::with_capacity(0);
    for (i, k) in present.iter().enumerate() {
        m.insert(k.clone(), i as u64);
    }
    m
}

/// Measures one workload for one peer.
fn workload<K: Keys, P: Peer<K>>(b: &mut criterion::Bencher<'_>, w: &str, keys: &(Vec<K>, Vec<K>)) {
    let (present, absent) = keys;
    let n = present.len();
    match w {
        "insert" | "insert-hint" => {
            let hint = w == "insert-hint";
            b.iter_batched(
                || present.clone(),
                |ks| {
                    let mut m = if hint { P::with_capacity(n) } else { P::new() };
                    for (i, k) in ks.into_iter().enumerate() {
                        m.insert(k, i as u64);
                    }
                    m
                },
                BatchSize::PerIteration,
            )
        }
        "lookup-hit" | "lookup-miss" | "iterate" => {
            let m: P = full(present);
            let probe = if w == "lookup-hit" { present } else { absent };
            if w == "iterate" {
                b.iter(|| black_box(m.sum()))
            } else {
                b.iter(|| {
                    let mut s = 0u64;
                    for k in probe {
                        s = s.wrapping_add(*m.get(k).unwrap_or(&1));
                    }
                    black_box(s)
                })
            }
        }
        "remove" => b.iter_batched(
            || full::<K, P>(present),
            |mut m| {
                for k in present {
                    black_box(m.remove(k));
                }
                m
            },
            BatchSize::PerIteration,
        ),
        "mixed-80-10-10" => b.iter_batched(
            || full::<K, P>(present),
            |mut m| {
                let mut r = Rng(7);
                let mut s = 0u64;
                for a in absent {
                    let x = r.next();
                    let j = (x >> 8) as usize % n;
                    match x % 10 {
                        0 => m.insert(a.clone(), x),
                        1 => s = s.wrapping_add(m.remove(&present[j]).unwrap_or(0)),
                        _ => s = s.wrapping_add(*m.get(&present[j]).unwrap_or(&0)),
                    }
                }
                black_box(s);
                m
            },
            BatchSize::PerIteration,
        ),
        _ => unreachable!("unknown workload {w}"),
    }
}

fn family<K: Keys + GoKey>(c: &mut Criterion, sizes: &[usize])
where
    GoHasher: MapHasher<K> + MapLookup<K, K>,
{
    let quick = std::env::var_os("GOMAP_BENCH_QUICK").is_some();
    for &n in sizes {
        let keys = K::make(n);
        for w in WORKLOADS {
            let mut g = c.benchmark_group(format!("{w}/{}/{n}", K::NAME));
            g.throughput(Throughput::Elements(n as u64));
            g.sample_size(10);
            g.warm_up_time(Duration::from_millis(if quick { 200 } else { 500 }));
            g.measurement_time(Duration::from_millis(if quick { 500 } else { 1500 }));
            macro_rules! peer {
                ($p:ty) => {
                    g.bench_function(BenchmarkId::from_parameter(<$p as Peer<K>>::NAME), |b| {
                        workload::<K, $p>(b, w, &keys)
                    });
                };
            }
            peer!(StdMap<K, u64>);
            peer!(hashbrown::HashMap<K, u64, Fold>);
            peer!(griddle::HashMap<K, u64>);
            peer!(GoPeer<K>);
            peer!(GoFold<K>);
            if matches!(w, "insert" | "insert-hint" | "lookup-hit" | "lookup-miss") {
                macro_rules! batch_peer {
                    ($p:ty) => {
                        g.bench_function(
                            BenchmarkId::from_parameter(<$p as BatchPeer<K>>::BATCH_NAME),
                            |b| batch_workload::<K, $p>(b, w, &keys),
                        );
                    };
                }
                batch_peer!(GoPeer<K>);
                batch_peer!(GoFold<K>);
            }
            g.finish();
        }
    }
}

fn benches(c: &mut Criterion) {
    family::<u64>(c, &[1_000, 100_000, 1_000_000]);
    family::<Seq>(c, &[1_000, 100_000, 1_000_000]);
    family::<Box<str>>(c, &[1_000, 100_000]);
    family::<String>(c, &[1_000, 100_000]);
}

// (criterion's generated group function has no doc comment.)
#[allow(missing_docs)]
mod group {
    criterion::criterion_group!(maps, super::benches);
}
criterion_main!(group::maps);
