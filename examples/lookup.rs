//! Lookups of u64 keys through non-inlined functions, one per map, so that their machine code
//! can be read (`objdump -d`) and the instructions one lookup executes counted under
//! `valgrind --tool=callgrind` (inclusive count of the function ÷ its calls). See
//! BENCHMARKS.md, "Lookups in cache".
//!
//! ```sh
//! cargo build --release --example lookup
//! valgrind --tool=callgrind --callgrind-out-file=cg.out target/release/examples/lookup hit 1000
//! callgrind_annotate --inclusive=yes cg.out | grep lookup::
//! objdump -d --no-show-raw-insn target/release/examples/lookup | less   # find `gomap_get`
//! ```
//!
//! Arguments: `hit` or `miss`, and the number of keys (the same keys are then looked up 100
//! times over).

use std::hint::black_box;

use gomap::{GoMap, HashAdapter};

type Fold = foldhash::fast::FixedState;

fn keys(n: usize, seed: u64) -> Vec<u64> {
    // splitmix64.
    let mut x = seed;
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

/// gomap with Go's hasher.
#[inline(never)]
pub fn gomap_get(m: &GoMap<u64, u64>, k: &u64) -> Option<u64> {
    m.get(k).copied()
}

/// gomap with Go's hasher, many keys through `get_batch` (compare with a loop of
/// `gomap_get`).
#[inline(never)]
pub fn gomap_get_batch(m: &GoMap<u64, u64>, ks: &[u64]) -> u64 {
    m.get_batch(ks)
        .fold(0u64, |s, v| s.wrapping_add(v.copied().unwrap_or(1)))
}

/// gomap with Go's hasher, many keys in a plain loop of `get`.
#[inline(never)]
pub fn gomap_get_loop(m: &GoMap<u64, u64>, ks: &[u64]) -> u64 {
    ks.iter()
        .fold(0u64, |s, k| s.wrapping_add(m.get(k).copied().unwrap_or(1)))
}

/// gomap with foldhash.
#[inline(never)]
pub fn gomap_foldhash_get(m: &GoMap<u64, u64, HashAdapter<Fold>>, k: &u64) -> Option<u64> {
    m.get(k).copied()
}

/// hashbrown with foldhash.
#[inline(never)]
pub fn hashbrown_get(m: &hashbrown::HashMap<u64, u64, Fold>, k: &u64) -> Option<u64> {
    m.get(k).copied()
}

/// griddle with foldhash.
#[inline(never)]
pub fn griddle_get(m: &griddle::HashMap<u64, u64, Fold>, k: &u64) -> Option<u64> {
    m.get(k).copied()
}

fn main() {
    let mut args = std::env::args().skip(1);
    let what = args.next().unwrap_or_else(|| "hit".into());
    let n: usize = args.next().and_then(|s| s.parse().ok()).unwrap_or(1000);
    let present = keys(n, 1);
    let probe = match what.as_str() {
        "hit" => present.clone(),
        "miss" => keys(n, 2),
        other => panic!("unknown {other} (hit | miss)"),
    };
    let mut g: GoMap<u64, u64> = GoMap::new();
    let mut gf: GoMap<u64, u64, HashAdapter<Fold>> = GoMap::with_hasher(Fold::with_seed(1));
    let mut hb = hashbrown::HashMap::with_hasher(Fold::with_seed(1));
    let mut gr = griddle::HashMap::with_hasher(Fold::with_seed(1));
    for &k in &present {
        g.insert(k, k);
        gf.insert(k, k);
        hb.insert(k, k);
        gr.insert(k, k);
    }
    let mut sums = [0u64; 4];
    for _ in 0..100 {
        for k in &probe {
            sums[0] += gomap_get(black_box(&g), k).unwrap_or(1);
            sums[1] += gomap_foldhash_get(black_box(&gf), k).unwrap_or(1);
            sums[2] += hashbrown_get(black_box(&hb), k).unwrap_or(1);
            sums[3] += griddle_get(black_box(&gr), k).unwrap_or(1);
        }
    }
    let (mut a, mut b) = (0u64, 0u64);
    for _ in 0..100 {
        a = a.wrapping_add(gomap_get_batch(black_box(&g), &probe));
        b = b.wrapping_add(gomap_get_loop(black_box(&g), &probe));
    }
    assert_eq!(a, b);
    println!("{what} {n}: {sums:?}");
}
