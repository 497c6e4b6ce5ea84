//! A process that holds gomap maps for `map-inspect dump --pid` to read.
//!
//! It builds three maps, prints one JSON line with its pid and, for each map, the address of
//! its header, the `--types` to decode it with, and its entries; then it waits until standard
//! input closes (or a line is read), keeping the maps alive and unchanged.
//!
//! ```text
//! cargo run -p map-inspect --example hold_gomap
//! {"pid":4242,"maps":[{"name":"u64","types":"u64:u64","hmap":"0x7ffd...","growing":true,...
//! map-inspect dump --pid 4242 --addr 0x7ffd... --types u64:u64      (in another terminal)
//! ```
//!
//! The maps: `GoMap<u64, u64>` caught in the middle of a grow (with deleted slots), a
//! `GoMap<Box<str>, [u8; 4]>` (Go's string layout, bytes read through the string pointers),
//! and a `GoMap<u128, char>` (a 16-byte-aligned key, stored indirectly).

use std::io::BufRead as _;

use gomap::{GoMap, Hmap};
use serde_json::{json, Value};

fn hex(b: &[u8]) -> String {
    b.iter().map(|x| format!("{x:02x}")).collect()
}

fn addr(h: &Hmap) -> String {
    format!("{:#x}", h as *const Hmap as usize)
}

/// Lets any process of this user read this one's memory under Yama's `ptrace_scope = 1`
/// (where only a parent may otherwise read its child). Harmless where Yama is absent.
fn allow_readers() {
    // SAFETY: prctl with PR_SET_PTRACER takes plain integer arguments and touches no memory.
    unsafe {
        libc::prctl(libc::PR_SET_PTRACER, libc::PR_SET_PTRACER_ANY, 0, 0, 0);
    }
}

fn main() {
    allow_readers();

    // 1. u64 → u64, stopped right after a grow starts, with some deleted slots.
    let mut a: GoMap<u64, u64> = GoMap::new();
    for k in 0..40u64 {
        a.insert(k, k * 7);
    }
    for k in (0..40u64).step_by(9) {
        a.remove(&k);
    }
    let mut k = 1000u64;
    while !a.header().growing() {
        a.insert(k, k * 7);
        k += 1;
    }
    // One more write: it evacuates up to two more old buckets; the grow goes on.
    a.insert(k, k * 7);

    // 2. Box<str> → [u8; 4]: string keys in Go's (ptr, len) layout.
    let mut b: GoMap<Box<str>, [u8; 4]> = GoMap::new();
    for i in 0..30u32 {
        b.insert(format!("key-{i}").into(), (i * 3).to_le_bytes());
    }

    // 3. u128 → char: a key aligned to 16, which gomap stores through a pointer.
    let mut c: GoMap<u128, char> = GoMap::new();
    for i in 0..12u32 {
        c.insert(
            (i as u128) << 70 | i as u128,
            char::from_u32(0x3b1 + i).unwrap_or('?'),
        );
    }

    let maps = vec![
        json!({
            "name": "u64",
            "types": "u64:u64",
            "sizes": [8, 8],
            "hmap": addr(a.header()),
            "growing": a.header().growing(),
            "entries": a.iter().map(|(k, v)| json!([k, v])).collect::<Vec<Value>>(),
        }),
        json!({
            "name": "boxstr",
            "types": "Box<str>:[u8; 4]",
            "sizes": [16, 4],
            "hmap": addr(b.header()),
            "growing": b.header().growing(),
            "entries": b.iter().map(|(k, v)| json!([&**k, hex(v)])).collect::<Vec<Value>>(),
        }),
        json!({
            "name": "u128",
            "types": "u128:char",
            "sizes": [16, 4],
            "hmap": addr(c.header()),
            "growing": c.header().growing(),
            "entries": c.iter().map(|(k, v)| json!([k.to_string(), v.to_string()])).collect::<Vec<Value>>(),
        }),
    ];
    println!("{}", json!({ "pid": std::process::id(), "maps": maps }));

    // Wait: the maps stay alive, and unchanged, until the reader is done.
    let mut line = String::new();
    let _ = std::io::stdin().lock().read_line(&mut line);
    drop((a, b, c));
}
