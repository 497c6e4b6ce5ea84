//! Worst-case insert latency: 4,194,304 random u64 inserts into a fresh map, each insert
//! timed on its own, per peer (std, hashbrown + foldhash, griddle, gomap, gomap + foldhash).
//! Prints p50, p99, p99.9, p99.99 and the maximum, and the peak live heap bytes during the
//! fill (counted by this binary's global allocator, and for gomap, whose default allocator
//! maps large bucket arrays straight from the OS, by a `CountingAlloc` around that
//! allocator). A second table shows, per peer, how many inserts took longer than 1 µs, 10 µs,
//! 100 µs and 1 ms, and the minor page faults the fill
//! took (Linux `getrusage`), which is where a spread-out grow pays for fresh memory.
//!
//! ```sh
//! cargo bench --bench latency                       # all peers, 4,194,304 inserts
//! cargo bench --bench latency -- --n 1000000        # fewer
//! cargo bench --bench latency -- --csv lat.csv      # also every latency, for a plot
//! cargo bench --bench latency -- --rounds 3         # repeat, report each round
//! ```

use std::alloc::{GlobalAlloc, Layout, System};
use std::collections::HashMap as StdMap;
use std::io::Write;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::time::Instant;

use gomap::alloc::{CountingAlloc, PageAlloc};
use gomap::{GoHasher, GoMap, HashAdapter};

type Fold = foldhash::fast::RandomState;

/// Counts live heap bytes and their peak.
struct Counting;
static LIVE: AtomicUsize = AtomicUsize::new(0);
static PEAK: AtomicUsize = AtomicUsize::new(0);

fn note(delta: isize) {
    if delta >= 0 {
        let now = LIVE.fetch_add(delta as usize, Ordering::Relaxed) + delta as usize;
        PEAK.fetch_max(now, Ordering::Relaxed);
    } else {
        LIVE.fetch_sub((-delta) as usize, Ordering::Relaxed);
    }
}

// SAFETY: every call forwards to `System` with the caller's arguments; the counters are only
// bookkeeping.
unsafe impl GlobalAlloc for Counting {
    unsafe fn alloc(&self, l: Layout) -> *mut u8 {
        // SAFETY: forwarded unchanged.
        let p = unsafe { System.alloc(l) };
        if !p.is_null() {
            note(l.size() as isize);
        }
        p
    }
    unsafe fn alloc_zeroed(&self, l: Layout) -> *mut u8 {
        // SAFETY: forwarded unchanged.
        let p = unsafe { System.alloc_zeroed(l) };
        if !p.is_null() {
            note(l.size() as isize);
        }
        p
    }
    unsafe fn dealloc(&self, p: *mut u8, l: Layout) {
        note(-(l.size() as isize));
        // SAFETY: forwarded unchanged.
        unsafe { System.dealloc(p, l) }
    }
    unsafe fn realloc(&self, p: *mut u8, l: Layout, new: usize) -> *mut u8 {
        // SAFETY: forwarded unchanged.
        let q = unsafe { System.realloc(p, l, new) };
        if !q.is_null() {
            note(new as isize - l.size() as isize);
        }
        q
    }
}

#[global_allocator]
static GLOBAL: Counting = Counting;

trait Insert {
    const NAME: &'static str;
    fn new() -> Self;
    fn insert(&mut self, k: u64, v: u64);
    fn len(&self) -> usize;
    /// The peak of the live bytes the map asked its own allocator for, when its memory does
    /// not all come through the global allocator (gomap's default allocator maps large bucket
    /// arrays straight from the OS).
    fn own_peak(&self) -> Option<usize> {
        None
    }
}

macro_rules! peer {
    ($name:literal, $ty:ty, $new:expr) => {
        impl Insert for $ty {
            const NAME: &'static str = $name;
            fn new() -> Self {
                $new
            }
            #[inline]
            fn insert(&mut self, k: u64, v: u64) {
                Self::insert(self, k, v);
            }
            fn len(&self) -> usize {
                Self::len(self)
            }
        }
    };
}

peer!("std", StdMap<u64, u64>, StdMap::new());
peer!("hashbrown", hashbrown::HashMap<u64, u64, Fold>, hashbrown::HashMap::default());
peer!("griddle", griddle::HashMap<u64, u64>, griddle::HashMap::new());
/// gomap with its default allocator (`PageAlloc`), counted.
type Counted = CountingAlloc<PageAlloc>;

macro_rules! gomap_peer {
    ($name:literal, $h:ty, $new:expr) => {
        impl Insert for GoMap<u64, u64, $h, Counted> {
            const NAME: &'static str = $name;
            fn new() -> Self {
                GoMap::with_map_hasher_in($new, CountingAlloc::new(PageAlloc::new()))
            }
            #[inline]
            fn insert(&mut self, k: u64, v: u64) {
                GoMap::insert(self, k, v);
            }
            fn len(&self) -> usize {
                GoMap::len(self)
            }
            fn own_peak(&self) -> Option<usize> {
                Some(self.allocator().peak_bytes() as usize)
            }
        }
    };
}

gomap_peer!("gomap", GoHasher, GoHasher::new());
gomap_peer!(
    "gomap-foldhash",
    HashAdapter<Fold>,
    HashAdapter(Fold::default())
);

struct Result {
    name: &'static str,
    total_ns: u128,
    p: [u64; 4],
    max: u64,
    peak: usize,
    /// Inserts slower than 1 µs, 10 µs, 100 µs and 1 ms.
    over: [usize; 4],
    minflt: i64,
}

/// Minor page faults of this process so far.
fn minor_faults() -> i64 {
    // SAFETY: `getrusage` writes one `rusage`, which all-zero bytes initialize validly.
    unsafe {
        let mut u: libc::rusage = std::mem::zeroed();
        if libc::getrusage(libc::RUSAGE_SELF, &mut u) != 0 {
            return -1;
        }
        u.ru_minflt as i64
    }
}

fn run<M: Insert>(keys: &[u64], csv: &mut Option<std::fs::File>) -> Result {
    let mut lat = vec![0u64; keys.len()];
    let base = LIVE.load(Ordering::Relaxed);
    PEAK.store(base, Ordering::Relaxed);
    let mut m = M::new();
    let f0 = minor_faults();
    let t0 = Instant::now();
    for (i, &k) in keys.iter().enumerate() {
        let t = Instant::now();
        m.insert(k, k);
        lat[i] = t.elapsed().as_nanos() as u64;
    }
    let total_ns = t0.elapsed().as_nanos();
    let minflt = minor_faults() - f0;
    assert_eq!(m.len(), keys.len());
    let peak = m
        .own_peak()
        .unwrap_or_else(|| PEAK.load(Ordering::Relaxed) - base);
    drop(m);
    if let Some(f) = csv {
        for (i, l) in lat.iter().enumerate() {
            writeln!(f, "{},{i},{l}", M::NAME).expect("write csv");
        }
    }
    let max = *lat.iter().max().unwrap_or(&0);
    let over = [1_000, 10_000, 100_000, 1_000_000].map(|t| lat.iter().filter(|&&l| l > t).count());
    lat.sort_unstable();
    let q = |f: f64| lat[((lat.len() as f64 * f) as usize).min(lat.len() - 1)];
    Result {
        name: M::NAME,
        total_ns,
        p: [q(0.5), q(0.99), q(0.999), q(0.9999)],
        max,
        peak,
        over,
        minflt,
    }
}

fn main() {
    let mut n = 4_194_304usize;
    let mut csv = None;
    let mut rounds = 1;
    let mut args = std::env::args().skip(1);
    while let Some(a) = args.next() {
        match a.as_str() {
            "--n" => n = args.next().and_then(|s| s.parse().ok()).expect("--n N"),
            "--csv" => {
                csv = Some(
                    std::fs::File::create(args.next().expect("--csv FILE")).expect("create csv"),
                )
            }
            "--rounds" => {
                rounds = args
                    .next()
                    .and_then(|s| s.parse().ok())
                    .expect("--rounds N")
            }
            "--bench" => {}
            other => {
                eprintln!("latency: unknown argument {other} (use --n N, --csv FILE, --rounds N)");
                std::process::exit(2);
            }
        }
    }
    if let Some(f) = &mut csv {
        writeln!(f, "peer,insert,ns").expect("write csv");
    }
    let mut x = 0x9e37_79b9_7f4a_7c15u64;
    let keys: Vec<u64> = (0..n)
        .map(|_| {
            x ^= x >> 12;
            x ^= x << 25;
            x ^= x >> 27;
            x.wrapping_mul(0x2545_f491_4f6c_dd1d)
        })
        .collect();
    for round in 1..=rounds {
        println!("round {round}: {n} random u64 inserts into a fresh map, each timed");
        println!(
            "{:<15} {:>10} {:>8} {:>8} {:>9} {:>10} {:>12} {:>12}",
            "peer",
            "ns/insert",
            "p50 ns",
            "p99 ns",
            "p99.9 ns",
            "p99.99 ns",
            "max ns",
            "peak bytes"
        );
        let results = [
            run::<StdMap<u64, u64>>(&keys, &mut csv),
            run::<hashbrown::HashMap<u64, u64, Fold>>(&keys, &mut csv),
            run::<griddle::HashMap<u64, u64>>(&keys, &mut csv),
            run::<GoMap<u64, u64, GoHasher, Counted>>(&keys, &mut csv),
            run::<GoMap<u64, u64, HashAdapter<Fold>, Counted>>(&keys, &mut csv),
        ];
        for r in &results {
            println!(
                "{:<15} {:>10.1} {:>8} {:>8} {:>9} {:>10} {:>12} {:>12}",
                r.name,
                r.total_ns as f64 / n as f64,
                r.p[0],
                r.p[1],
                r.p[2],
                r.p[3],
                r.max,
                r.peak
            );
        }
        println!(
            "{:<15} {:>9} {:>9} {:>9} {:>9} {:>13}",
            "peer", ">1 µs", ">10 µs", ">100 µs", ">1 ms", "minor faults"
        );
        for r in &results {
            println!(
                "{:<15} {:>9} {:>9} {:>9} {:>9} {:>13}",
                r.name, r.over[0], r.over[1], r.over[2], r.over[3], r.minflt
            );
        }
        let hb = &results[1];
        for r in &results[3..] {
            println!(
                "{}: worst insert = 1/{:.0} of hashbrown's; p99.99 = {:.2}x hashbrown's; peak bytes = {:.2}x hashbrown's",
                r.name,
                hb.max as f64 / r.max as f64,
                r.p[3] as f64 / hb.p[3] as f64,
                r.peak as f64 / hb.peak as f64
            );
        }
    }
}
