//! Where the slow inserts of a fill come from: times every insert of N random u64 keys into a
//! fresh `GoMap<u64, u64>` (default allocator), notes the map's state before it (growing or
//! not, how many writes since the last grow ended) and the minor page faults it took
//! (`getrusage` around each insert), and prints how many inserts above 1, 10 and 30 µs fell
//! in each state and took page faults. See BENCHMARKS.md, "The tail".
//!
//! ```sh
//! cargo run --release --example tail [N]          # default 4,194,304
//! ```

use std::time::Instant;

use gomap::GoMap;

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

#[derive(Copy, Clone, PartialEq, Eq, PartialOrd, Ord, Debug)]
enum State {
    /// The grow is evacuating old buckets.
    Growing,
    /// Within the writes after a grow ended that free its old generation (the graveyard).
    AfterGrow,
    /// Neither.
    Quiet,
}

fn main() {
    let n: usize = std::env::args()
        .nth(1)
        .and_then(|s| s.parse().ok())
        .unwrap_or(4_194_304);
    let mut x = 0x9e37_79b9_7f4a_7c15u64;
    let keys: Vec<u64> = (0..n)
        .map(|_| {
            x ^= x >> 12;
            x ^= x << 25;
            x ^= x >> 27;
            x.wrapping_mul(0x2545_f491_4f6c_dd1d)
        })
        .collect();
    let mut m: GoMap<u64, u64> = GoMap::new();
    let mut rows: Vec<(u64, State, i64)> = Vec::with_capacity(n);
    let mut was_growing = false;
    let mut since_end = usize::MAX;
    // Writes after a grow's end during which its old generation may still be freed: one per
    // 32 old buckets, plus one per 64 KiB of an old array of 4 MiB or more.
    let mut after_window = 0usize;
    let total = Instant::now();
    for &k in &keys {
        let h = m.header();
        let growing = h.growing();
        if was_growing && !growing {
            since_end = 0;
            let old_buckets = 1usize << h.B().saturating_sub(1);
            let bytes = old_buckets * m.layout().bucketsize;
            after_window = old_buckets / 32
                + 1
                + if bytes >= 4 << 20 {
                    bytes / (64 << 10)
                } else {
                    0
                };
        }
        was_growing = growing;
        let state = if growing {
            State::Growing
        } else if since_end < after_window {
            State::AfterGrow
        } else {
            State::Quiet
        };
        since_end = since_end.saturating_add(1);
        let f0 = minor_faults();
        let t = Instant::now();
        m.insert(k, k);
        let ns = t.elapsed().as_nanos() as u64;
        rows.push((ns, state, minor_faults() - f0));
    }
    let total = total.elapsed();
    println!(
        "{n} inserts in {:.2} s (each timed, with getrusage around it)",
        total.as_secs_f64()
    );
    let mut sorted: Vec<u64> = rows.iter().map(|r| r.0).collect();
    sorted.sort_unstable();
    let q = |f: f64| sorted[((sorted.len() as f64 * f) as usize).min(sorted.len() - 1)];
    println!(
        "p50 {} ns, p99 {} ns, p99.9 {} ns, p99.99 {} ns, max {} ns",
        q(0.5),
        q(0.99),
        q(0.999),
        q(0.9999),
        sorted[sorted.len() - 1]
    );
    println!(
        "{:<10} {:>9} {:>12} {:>12} {:>12} {:>14}",
        "state", "inserts", "> 1 µs", "> 10 µs", "> 30 µs", "> 10 µs, fault"
    );
    for s in [State::Growing, State::AfterGrow, State::Quiet] {
        let of: Vec<&(u64, State, i64)> = rows.iter().filter(|r| r.1 == s).collect();
        let over = |t: u64| of.iter().filter(|r| r.0 > t).count();
        let faulted = of.iter().filter(|r| r.0 > 10_000 && r.2 > 0).count();
        println!(
            "{:<10} {:>9} {:>12} {:>12} {:>12} {:>14}",
            format!("{s:?}"),
            of.len(),
            over(1_000),
            over(10_000),
            over(30_000),
            faulted
        );
    }
    let faults: i64 = rows.iter().map(|r| r.2).sum();
    let slow_faults = rows.iter().filter(|r| r.0 > 1_000 && r.2 > 0).count();
    println!("minor page faults: {faults}; inserts over 1 µs that took one or more: {slow_faults}");
}
