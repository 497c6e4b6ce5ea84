//! Fills fresh maps with random u64 keys, for instruction counts of the write path under
//! `valgrind --tool=callgrind` and profiles under `perf record` (see BENCHMARKS.md). Arguments:
//! the map (`go`, `go-extend`: the same through the pipelined `extend`, `foldhash`, or
//! `hashbrown` for comparison), the number of keys, and how
//! many fresh maps to fill one after the other.
//!
//! ```sh
//! cargo build --release --example fill
//! valgrind --tool=callgrind target/release/examples/fill go 1000000
//! valgrind --tool=callgrind target/release/examples/fill foldhash 1000000
//! perf record target/release/examples/fill go 1000 20000   # 20,000 fresh maps of 1e3 keys
//! ```

use gomap::{GoMap, HashAdapter};

fn keys(n: usize) -> Vec<u64> {
    // splitmix64: the same keys in every run.
    let mut x = 0x9E37_79B9_7F4A_7C15u64;
    (0..n)
        .map(|_| {
            x = x.wrapping_add(0x9E37_79B9_7F4A_7C15);
            let mut z = x;
            z = (z ^ (z >> 30)).wrapping_mul(0xBF58_476D_1CE4_E5B9);
            z = (z ^ (z >> 27)).wrapping_mul(0x94D0_49BB_1331_11EB);
            z ^ (z >> 31)
        })
        .collect()
}

fn main() {
    let mut args = std::env::args().skip(1);
    let hasher = args.next().unwrap_or_else(|| "go".into());
    let n: usize = args
        .next()
        .and_then(|s| s.parse().ok())
        .unwrap_or(1_000_000);
    let reps: usize = args.next().and_then(|s| s.parse().ok()).unwrap_or(1);
    let ks = keys(n);
    let mut sum = 0;
    for _ in 0..reps {
        sum += match hasher.as_str() {
            "go" => {
                let mut m: GoMap<u64, u64> = GoMap::new();
                for &k in &ks {
                    m.insert(k, k);
                }
                m.len()
            }
            "go-extend" => {
                let mut m: GoMap<u64, u64> = GoMap::new();
                m.extend(ks.iter().map(|&k| (k, k)));
                m.len()
            }
            "foldhash" => {
                let mut m: GoMap<u64, u64, HashAdapter<foldhash::fast::FixedState>> =
                    GoMap::with_hasher(foldhash::fast::FixedState::with_seed(1));
                for &k in &ks {
                    m.insert(k, k);
                }
                m.len()
            }
            "hashbrown" => {
                let mut m: hashbrown::HashMap<u64, u64, foldhash::fast::FixedState> =
                    hashbrown::HashMap::with_hasher(foldhash::fast::FixedState::with_seed(1));
                for &k in &ks {
                    m.insert(k, k);
                }
                m.len()
            }
            other => panic!("unknown map {other} (go | go-extend | foldhash | hashbrown)"),
        };
    }
    println!("{hasher}: {sum} entries");
}
