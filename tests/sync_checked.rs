//! `CheckedMap` in correct use: the API against a model, reads that may overlap, guards
//! released on unwind, and sharing across threads. (Misuse: `sync_fatal.rs`; 10^6 operations
//! of correct concurrent use: `sync_stress.rs`.) Miri-clean.

use std::collections::HashMap;
use std::panic::{catch_unwind, AssertUnwindSafe};
use std::sync::Barrier;
use std::thread;

use gomap::sync::CheckedMap;
use gomap::GoMap;
use proptest::prelude::*;

#[derive(Clone, Debug)]
enum Op {
    Insert(u8, u32),
    Remove(u8),
    RemoveEntry(u8),
    Get(u8),
    GetKeyValue(u8),
    Contains(u8),
    Retain(u8),
    Clear,
    Iter,
    Range(usize),
    Len,
    Write(u8, u32),
    Read(u8),
}

fn op() -> impl Strategy<Value = Op> {
    let k = 0u8..24;
    prop_oneof![
        8 => (k.clone(), any::<u32>()).prop_map(|(k, v)| Op::Insert(k, v)),
        3 => k.clone().prop_map(Op::Remove),
        1 => k.clone().prop_map(Op::RemoveEntry),
        3 => k.clone().prop_map(Op::Get),
        1 => k.clone().prop_map(Op::GetKeyValue),
        1 => k.clone().prop_map(Op::Contains),
        1 => (1u8..5).prop_map(Op::Retain),
        1 => Just(Op::Clear),
        1 => Just(Op::Iter),
        1 => (0usize..8).prop_map(Op::Range),
        1 => Just(Op::Len),
        1 => (k.clone(), any::<u32>()).prop_map(|(k, v)| Op::Write(k, v)),
        1 => k.prop_map(Op::Read),
    ]
}

fn sorted<T: Ord>(mut v: Vec<T>) -> Vec<T> {
    v.sort();
    v
}

proptest! {
    #![proptest_config(ProptestConfig {
        cases: if cfg!(miri) { 4 } else { 256 },
        failure_persistence: None,
        ..ProptestConfig::default()
    })]

    /// Every operation returns what a HashMap returns, through `&self`.
    #[test]
    fn behaves_like_a_hashmap(ops in proptest::collection::vec(op(), 1..if cfg!(miri) { 40 } else { 300 })) {
        let m: CheckedMap<u8, u32> = CheckedMap::new();
        let mut model: HashMap<u8, u32> = HashMap::new();
        for op in ops {
            match op {
                Op::Insert(k, v) => prop_assert_eq!(m.insert(k, v), model.insert(k, v)),
                Op::Remove(k) => prop_assert_eq!(m.remove(&k), model.remove(&k)),
                Op::RemoveEntry(k) => prop_assert_eq!(m.remove_entry(&k), model.remove_entry(&k)),
                Op::Get(k) => prop_assert_eq!(m.get(&k), model.get(&k).copied()),
                Op::GetKeyValue(k) => {
                    prop_assert_eq!(m.get_key_value(&k), model.get_key_value(&k).map(|(k, v)| (*k, *v)))
                }
                Op::Contains(k) => prop_assert_eq!(m.contains_key(&k), model.contains_key(&k)),
                Op::Retain(d) => {
                    m.retain(|k, v| {
                        *v = v.wrapping_add(1);
                        k % d != 0
                    });
                    model.retain(|k, v| {
                        *v = v.wrapping_add(1);
                        k % d != 0
                    });
                }
                Op::Clear => {
                    m.clear();
                    model.clear();
                }
                Op::Iter => {
                    let it = m.iter();
                    prop_assert_eq!(it.len(), model.len());
                    prop_assert_eq!(sorted(it.collect()), sorted(model.clone().into_iter().collect()));
                }
                Op::Range(stop) => {
                    let mut seen = Vec::new();
                    m.range(|k, v| {
                        seen.push((*k, *v));
                        seen.len() < stop
                    });
                    let want = model.len().min(stop.max(1));
                    prop_assert_eq!(seen.len(), want);
                    for (k, v) in seen {
                        prop_assert_eq!(model.get(&k), Some(&v));
                    }
                }
                Op::Len => {
                    prop_assert_eq!(m.len(), model.len());
                    prop_assert_eq!(m.is_empty(), model.is_empty());
                }
                Op::Write(k, v) => {
                    let old = m.write(|g| {
                        let old = g.get(&k).copied();
                        *g.entry(k).or_insert(0) = v;
                        old
                    });
                    prop_assert_eq!(old, model.insert(k, v));
                }
                Op::Read(k) => prop_assert_eq!(m.read(|g| g.get(&k).copied()), model.get(&k).copied()),
            }
        }
        prop_assert_eq!(sorted(m.into_inner().into_iter().collect()), sorted(model.into_iter().collect()));
    }
}

/// Reads may overlap reads: nested on one thread (an iteration alive while gets and a range
/// run, a read section inside a range), and a leaked iteration is forgiven by `map_mut`.
#[test]
fn reads_overlap_reads() {
    let mut m: CheckedMap<u32, u32> = CheckedMap::new();
    for i in 0..100 {
        m.insert(i, i * 2);
    }
    let it = m.iter();
    let mut n = 0;
    m.range(|k, v| {
        assert_eq!(m.get(k), Some(*v));
        assert_eq!(m.read(|g| g.len()), 100);
        n += 1;
        true
    });
    assert_eq!(n, 100);
    assert_eq!(it.count(), 100);
    assert_eq!(
        format!(
            "{:?}",
            CheckedMap::from(GoMap::<u8, u8>::from([(1u8, 2u8)]))
        ),
        "{1: 2}"
    );

    // A leaked iteration still counts as a reader; `map_mut` proves there is none.
    std::mem::forget(m.iter());
    m.map_mut().insert(1000, 1);
    m.insert(1001, 2);
    assert_eq!(m.len(), 102);
}

/// A panic inside an operation (a user closure, or a key's `Hash`) releases it: the map is
/// usable afterwards, by reads and writes.
#[test]
fn a_panic_inside_releases_the_map() {
    let m: CheckedMap<u32, String> = CheckedMap::new();
    m.insert(1, "one".into());
    let r = catch_unwind(AssertUnwindSafe(|| {
        m.write(|g| {
            g.insert(2, "two".into());
            panic!("inside a write");
        })
    }));
    assert!(r.is_err());
    assert!(catch_unwind(AssertUnwindSafe(|| m.range(|_, _| panic!("inside a range")))).is_err());
    let r = catch_unwind(AssertUnwindSafe(|| {
        m.retain(|k, _| {
            assert!(*k < 2, "inside a retain");
            true
        })
    }));
    assert!(r.is_err());
    // Both the write and the reads left: writes and reads work.
    assert_eq!(m.insert(3, "three".into()), None);
    assert_eq!(m.get(&2).as_deref(), Some("two"));
    assert_eq!(m.len(), 3);
}

fn assert_send_sync<T: Send + Sync>() {}

/// `Sync` whenever the map is `Send + Sync`, like `RwLock<GoMap>`.
#[test]
fn is_sync() {
    assert_send_sync::<CheckedMap<u64, String>>();
    assert_send_sync::<CheckedMap<&'static str, Vec<u8>>>();
}

/// Threads share the map through `&self`: concurrent reads, and writes ordered by barriers
/// (each phase's writes happen-before the next phase's reads).
#[test]
fn threads_take_turns() {
    let threads = if cfg!(miri) { 3 } else { 8 };
    let per = if cfg!(miri) { 8 } else { 1000 };
    let m: CheckedMap<u64, u64> = CheckedMap::new();
    let turn = Barrier::new(threads);
    thread::scope(|s| {
        for t in 0..threads {
            let (m, turn) = (&m, &turn);
            s.spawn(move || {
                for w in 0..threads {
                    // Phase w: thread w writes its keys alone...
                    if w == t {
                        for i in 0..per {
                            m.insert((t * per + i) as u64, t as u64);
                        }
                    }
                    turn.wait();
                    // ...then everybody reads at once.
                    for i in 0..per {
                        assert_eq!(m.get(&((w * per + i) as u64)), Some(w as u64));
                    }
                    assert_eq!(m.len(), (w + 1) * per);
                    turn.wait();
                }
            });
        }
    });
    assert_eq!(m.len(), threads * per);
}
