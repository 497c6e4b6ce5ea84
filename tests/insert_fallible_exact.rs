//! `insert_fallible` fails only when the write really needs memory it cannot get.
//!
//! A write sets aside what it will allocate before it changes anything (so a failure leaves
//! the map untouched). That estimate must be exact: a new key that goes into a free slot, with
//! no grow work that needs a bucket, allocates nothing and must not fail however little memory
//! is left.
//!
//! The sweep runs one deterministic sequence of `insert_fallible`s in fixed arenas of many sizes.
//! At each size, the first `insert_fallible` that fails must be one whose successful run allocates:
//! the same sequence replayed with an unbounded counting allocator, the same `insert` there
//! must allocate.

mod common;

use std::collections::hash_map::DefaultHasher;
use std::hash::BuildHasherDefault;

use common::Counting;
use gomap::alloc::Arena;
use gomap::{GoMap, HashAdapter, SeededRand};

type Hb = HashAdapter<BuildHasherDefault<DefaultHasher>>;

/// A key and value type, and how to make the i-th of each.
trait Kind {
    type K: std::hash::Hash + Eq + std::fmt::Debug;
    type V;
    fn key(i: u64) -> Self::K;
    fn val(i: u64) -> Self::V;
}

/// Pointerful slots: Go clears evacuated old buckets, keeps no overflow lists.
struct Strings;
impl Kind for Strings {
    type K = String;
    type V = Vec<u8>;
    fn key(i: u64) -> String {
        format!("k{i}")
    }
    fn val(i: u64) -> Vec<u8> {
        vec![i as u8; (i % 3) as usize]
    }
}

/// Pointer-free slots: every overflow bucket also goes into `extra.overflow`.
struct Words;
impl Kind for Words {
    type K = u64;
    type V = u64;
    fn key(i: u64) -> u64 {
        i.wrapping_mul(0x9E37_79B9_7F4A_7C15)
    }
    fn val(i: u64) -> u64 {
        i
    }
}

/// Keys past 128 bytes: each new entry allocates a box for its key.
struct BigKeys;
impl Kind for BigKeys {
    type K = [u8; 200];
    type V = u32;
    fn key(i: u64) -> [u8; 200] {
        let mut k = [0u8; 200];
        k[..8].copy_from_slice(&i.to_le_bytes());
        k
    }
    fn val(i: u64) -> u32 {
        i as u32
    }
}

/// The sequence: keys 0..n, with every 5th key inserted twice (the second time it exists)
/// and every 7th removed again, so grows, evacuations, holes and overflow buckets all occur.
fn steps(n: u64) -> Vec<(bool, u64)> {
    let mut v = Vec::new();
    for i in 0..n {
        v.push((true, i));
        if i % 5 == 0 {
            v.push((true, i));
        }
        if i % 7 == 3 {
            v.push((false, i - 2));
        }
    }
    v
}

/// Mallocs of `insert(key(i), val(i))` after the operations `done` ran (inserts as
/// `insert_fallible`s) with an unbounded allocator.
fn mallocs_of_insert<T: Kind>(hint: usize, done: &[(bool, u64)], i: u64) -> usize {
    let alloc = Counting::default();
    let mut m: GoMap<T::K, T::V, Hb, Counting, SeededRand> = GoMap::from_parts(
        hint,
        HashAdapter::default(),
        alloc.clone(),
        SeededRand::new(3),
    );
    for &(ins, j) in done {
        if ins {
            assert!(m.insert_fallible(T::key(j), T::val(j)).is_ok());
        } else {
            m.remove(&T::key(j));
        }
    }
    let before = alloc.0.mallocs.load(std::sync::atomic::Ordering::SeqCst);
    m.insert(T::key(i), T::val(i));
    alloc.0.mallocs.load(std::sync::atomic::Ordering::SeqCst) - before
}

/// Runs the sequence in an arena of `size` bytes, going on after failures (each of which must
/// leave the map as it was). Returns every failing `insert_fallible` with the operations that had
/// run before it. Removes are skipped while a grow is in progress: a remove then evacuates,
/// which may need memory, and the infallible policy would abort.
#[allow(clippy::type_complexity)]
fn failures_in_arena<T: Kind>(
    hint: usize,
    seq: &[(bool, u64)],
    size: usize,
) -> Vec<(Vec<(bool, u64)>, u64)> {
    let mut buf = vec![0u8; size];
    let arena = Arena::new(&mut buf);
    let Ok(mut m) = GoMap::<T::K, T::V, Hb, &Arena, SeededRand>::try_from_parts(
        hint,
        HashAdapter::default(),
        &arena,
        SeededRand::new(3),
    ) else {
        return Vec::new();
    };
    let mut done = Vec::new();
    let mut failed = Vec::new();
    for &(ins, i) in seq {
        if ins {
            let before = (m.len(), m.header().B(), m.header().nevacuate());
            match m.insert_fallible(T::key(i), T::val(i)) {
                Ok(_) => done.push((true, i)),
                Err(e) => {
                    assert_eq!(e.key, T::key(i));
                    let after = (m.len(), m.header().B(), m.header().nevacuate());
                    assert_eq!(after, before, "a failed insert_fallible changed the map");
                    failed.push((done.clone(), i));
                }
            }
        } else if !m.header().growing() {
            m.remove(&T::key(i));
            done.push((false, i));
        }
    }
    failed
}

fn sweep<T: Kind>(what: &str) {
    let seq = steps(300);
    let mut failures = 0;
    let mut checked = std::collections::BTreeSet::new();
    for hint in [0usize, 9, 100] {
        for size in (256..30_000).step_by(40) {
            for (done, i) in failures_in_arena::<T>(hint, &seq, size) {
                failures += 1;
                if !checked.insert((hint, done.clone(), i)) {
                    continue;
                }
                let n = mallocs_of_insert::<T>(hint, &done, i);
                assert!(
                    n > 0,
                    "{what}, hint {hint}, arena of {size} bytes: insert_fallible of key {i} after {} \
                     operations failed, but the same insert allocates nothing",
                    done.len()
                );
            }
        }
    }
    println!(
        "{what}: {failures} failing insert_fallibles over the arena sizes, {} distinct, each one a write that allocates",
        checked.len()
    );
    assert!(
        checked.len() > 200,
        "{what}: too few failing insert_fallibles to mean anything"
    );
}

#[test]
#[cfg_attr(miri, ignore)]
fn a_failing_insert_fallible_is_one_that_allocates() {
    sweep::<Strings>("String → Vec<u8>");
    sweep::<Words>("u64 → u64 (pointer-free)");
    sweep::<BigKeys>("[u8; 200] → u32 (indirect keys)");
}

#[test]
fn regression_insert_fallible_into_a_free_slot_of_a_full_arena() {
    // A `String → Vec<u8>` map with hint 9 in a 1 KiB arena: its two buckets take 800 bytes.
    // The first insert_fallible into the empty map used to fail (it always set aside an overflow
    // bucket for a new key), with 16 free slots.
    let mut buf = vec![0u8; 1024];
    let arena = Arena::new(&mut buf);
    let mut m: GoMap<String, Vec<u8>, Hb, &Arena, SeededRand> =
        GoMap::from_parts(9, HashAdapter::default(), &arena, SeededRand::new(1));
    assert_eq!(m.header().B(), 1);
    assert_eq!(arena.used_bytes(), 800);
    // Every key that lands in a bucket with a free slot goes in; the arena has no room for an
    // overflow bucket (400 bytes), so the first that needs one fails, and nothing before.
    let mut n = 0;
    while m.insert_fallible(Strings::key(n), Vec::new()).is_ok() {
        n += 1;
        assert!(n <= 16, "more entries than slots");
    }
    assert!(n >= 9, "only {n} insert_fallibles went into free slots");
    let full = m
        .raw()
        .buckets()
        .any(|b| (0..8).all(|i| b.state(i).is_live()));
    assert!(full, "the failing insert_fallible's bucket is full");
    assert_eq!(m.len() as u64, n);
}
