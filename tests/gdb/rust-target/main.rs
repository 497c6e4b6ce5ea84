//! The program that `inspect/tests/gdb.rs` debugs with real gdb.
//!
//! It builds gomap maps in the states the gdb tests need (empty, 1 and 100 entries, after
//! deletes, mid doubling grow, mid same-size grow, `&str` keys, indirect `[u8; 129]` elems, a
//! chain cut at its head mid-grow, and
//! one map the test corrupts through gdb). For each state it writes what the map holds, as the
//! map's own API sees it (header fields and every entry, in gdb's notation), to the file named
//! by its first argument, then calls `gomap_gdb_stop(name)`. gdb stops there, goes up one frame
//! to the function that owns the local `m`, and prints it.
//!
//! The test builds this file as a standalone package (debug profile) that depends on gomap by
//! path, so the gdb script reaches gdb the way it reaches users: embedded in the binary by
//! gomap's `#![debugger_visualizer]`.

use std::fmt::Write as _;
use std::fs::File;
use std::io::Write as _;

use gomap::GoMap;

/// gdb's breakpoint. `name` is the state, NUL-terminated.
#[inline(never)]
#[no_mangle]
pub extern "C" fn gomap_gdb_stop(name: *const u8) {
    std::hint::black_box(name);
}

struct Recorder {
    out: File,
}

impl Recorder {
    /// Writes the map's header and its entries (sorted) as the map itself reports them.
    fn record<K, V, H, F>(&mut self, state: &str, m: &GoMap<K, V, H>, fmt: F)
    where
        F: Fn(&K, &V) -> String,
        K: PartialEq,
        H: gomap::MapHasher<K>,
    {
        let mut entries: Vec<String> = m.iter().map(|(k, v)| fmt(k, v)).collect();
        entries.sort();
        assert_eq!(
            entries.len(),
            m.len(),
            "{state}: iteration disagrees with len"
        );
        // Read after iterating: iteration sets ITERATOR|OLD_ITERATOR, as in Go.
        let h = m.header();
        let mut s = String::new();
        writeln!(s, "STATE {state}").unwrap();
        writeln!(
            s,
            "HEADER count={} B={} flags={} nevacuate={} noverflow={} growing={} same_size={}",
            h.count(),
            h.B(),
            h.flags().names(),
            h.nevacuate(),
            h.noverflow(),
            u8::from(h.growing()),
            u8::from(h.same_size_grow()),
        )
        .unwrap();
        if h.growing() {
            writeln!(s, "OLD noldbuckets={}", h.noldbuckets()).unwrap();
        }
        for e in entries {
            writeln!(s, "ENTRY {e}").unwrap();
        }
        writeln!(s, "END").unwrap();
        self.out.write_all(s.as_bytes()).unwrap();
        self.out.flush().unwrap();
    }
}

fn u64_u64(k: &u64, v: &u64) -> String {
    format!("[{k}] = {v}")
}

fn str_u64(k: &&str, v: &u64) -> String {
    format!("[\"{k}\"] = {v}")
}

fn u64_bytes(k: &u64, v: &[u8; 129]) -> String {
    let bytes: Vec<String> = v.iter().map(|b| b.to_string()).collect();
    format!("[{k}] = [{}]", bytes.join(", "))
}

/// Records the state of `$m` and stops in gdb, from the function that owns `$m`.
macro_rules! checkpoint {
    ($rec:expr, $name:literal, $m:ident, $fmt:expr) => {
        $rec.record($name, &$m, $fmt);
        gomap_gdb_stop(concat!($name, "\0").as_ptr());
        std::hint::black_box(&$m);
    };
}

fn empty(rec: &mut Recorder) {
    let m: GoMap<u64, u64> = GoMap::new();
    checkpoint!(rec, "empty", m, u64_u64);
}

fn one(rec: &mut Recorder) {
    let mut m: GoMap<u64, u64> = GoMap::new();
    m.insert(7, 70);
    checkpoint!(rec, "one", m, u64_u64);
}

fn hundred(rec: &mut Recorder) {
    let mut m: GoMap<u64, u64> = GoMap::new();
    for k in 0..100 {
        m.insert(k, k * 10);
    }
    // A read-only view of the map and of its bucket 0, for gdb's RawView/BucketView printers.
    let view = m.raw();
    let b0 = view.bucket(0).expect("bucket 0");
    checkpoint!(rec, "hundred", m, u64_u64);
    std::hint::black_box((&view, &b0));
}

fn deletes(rec: &mut Recorder) {
    let mut m: GoMap<u64, u64> = GoMap::new();
    for k in 0..100 {
        m.insert(k, k * 10);
    }
    // Every third key, and a block at the end: EMPTY_ONE holes and EMPTY_REST tails.
    for k in (0..100).filter(|k| k % 3 == 0 || *k >= 90) {
        assert!(m.remove(&k).is_some());
    }
    checkpoint!(rec, "deletes", m, u64_u64);
}

/// Mid doubling grow: oldbuckets set, some old buckets evacuated, some not, with EMPTY_ONE
/// slots from deletes in both arrays.
fn grow(rec: &mut Recorder) {
    let mut m: GoMap<u64, u64> = GoMap::new();
    let mut k = 0u64;
    loop {
        m.insert(k, k * 10);
        k += 1;
        if k == 80 {
            for d in (0..80).step_by(7) {
                m.remove(&d);
            }
        }
        let h = m.header();
        if h.B() == 5 && h.growing() && h.nevacuate() >= 1 {
            break;
        }
        assert!(k < 10_000, "never reached the middle of a grow to B=5");
    }
    let h = m.header();
    assert!(!h.same_size_grow() && h.nevacuate() < h.noldbuckets());
    checkpoint!(rec, "grow", m, u64_u64);
}

/// Mid same-size grow: churn (insert a new key, delete the oldest) at a constant size until
/// overflow buckets pile up and Go's rule starts a same-size grow.
fn same_size_grow(rec: &mut Recorder) {
    let mut m: GoMap<u64, u64> = GoMap::with_capacity(100);
    assert_eq!(m.header().B(), 4);
    let live = 90u64;
    let mut k = 0u64;
    loop {
        m.insert(k, k + 1);
        if k >= live {
            m.remove(&(k - live));
        }
        k += 1;
        let h = m.header();
        if h.growing() && h.same_size_grow() && h.nevacuate() >= 1 {
            break;
        }
        assert!(k < 10_000_000, "no same-size grow happened");
    }
    assert_eq!(m.header().B(), 4);
    checkpoint!(rec, "same_size_grow", m, u64_u64);
}

fn str_keys(rec: &mut Recorder) {
    let names: Vec<String> = (0..30).map(|i| format!("key-{i}")).collect();
    let mut m: GoMap<&str, u64> = GoMap::new();
    for (i, n) in names.iter().enumerate() {
        m.insert(n.as_str(), i as u64);
    }
    for n in names.iter().step_by(4) {
        m.remove(n.as_str());
    }
    checkpoint!(rec, "str_keys", m, str_u64);
}

fn indirect_elems(rec: &mut Recorder) {
    let mut m: GoMap<u64, [u8; 129]> = GoMap::new();
    for k in 0..20u64 {
        m.insert(k, core::array::from_fn(|j| (k as usize * 7 + j) as u8));
    }
    m.remove(&3);
    m.remove(&11);
    assert!(m.layout().indirect_elem);
    checkpoint!(rec, "indirect_elems", m, u64_bytes);
}

/// Puts keys below 24 into bucket 0 (of any B), the rest anywhere.
#[derive(Clone, Default)]
struct Placed;
struct PlacedHasher(u64);
impl std::hash::BuildHasher for Placed {
    type Hasher = PlacedHasher;
    fn build_hasher(&self) -> PlacedHasher {
        PlacedHasher(0)
    }
}
impl std::hash::Hasher for PlacedHasher {
    fn write(&mut self, _: &[u8]) {
        unreachable!("keys hash as one u64")
    }
    fn write_u64(&mut self, x: u64) {
        self.0 = x; // the seed, then the key: keep the key
    }
    fn finish(&self) -> u64 {
        let mixed = self
            .0
            .wrapping_add(1)
            .wrapping_mul(0x9E37_79B9_7F4A_7C15)
            .rotate_left(29);
        if self.0 < 24 {
            mixed & !0x3f
        } else {
            mixed
        }
    }
}

fn u64_string(k: &u64, v: &String) -> String {
    format!("[{k}] = \"{v}\"")
}

/// Mid-grow, a chain cut at its head by evacuation: bucket 0 of a B = 4 map was head →
/// preallocated bucket → heap bucket; evacuating it cleared the head's overflow word (the
/// buckets hold pointers), and the heap bucket is now reached only through the preallocated
/// one.
fn detached(rec: &mut Recorder) {
    let mut m: GoMap<u64, String, gomap::HashAdapter<Placed>> =
        GoMap::with_capacity_and_hasher(100, Placed);
    assert_eq!(m.header().B(), 4);
    let mut k = 0u64;
    loop {
        m.insert(k, format!("v{k}"));
        k += 1;
        let v = m.raw();
        let cut = v.header().growing()
            && v.old_bucket(0).is_some_and(|b| b.evacuated())
            && v.old_bucket(16).is_some_and(|p| {
                p.overflow_bucket()
                    .is_some_and(|o| o.kind() == gomap::view::BucketKind::Heap)
            });
        if cut {
            break;
        }
        assert!(k < 100_000, "never cut a chain at its head");
    }
    checkpoint!(rec, "detached", m, u64_string);
}

/// The test corrupts this map through gdb and kills the program at this stop.
fn corrupt(rec: &mut Recorder) {
    let mut m: GoMap<u64, u64> = GoMap::new();
    for k in 0..40 {
        m.insert(k, k);
    }
    checkpoint!(rec, "corrupt", m, u64_u64);
}

fn main() {
    let path = std::env::args().nth(1).expect("usage: gdb_target OUT-FILE");
    let mut rec = Recorder {
        out: File::create(&path).expect("create the record file"),
    };
    empty(&mut rec);
    one(&mut rec);
    hundred(&mut rec);
    deletes(&mut rec);
    grow(&mut rec);
    same_size_grow(&mut rec);
    str_keys(&mut rec);
    indirect_elems(&mut rec);
    detached(&mut rec);
    corrupt(&mut rec);
    writeln!(rec.out, "DONE").unwrap();
}
