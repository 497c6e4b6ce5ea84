//! `SyncMap`: Go's `sync.Map` algorithm step by step, every operation against a `HashMap`
//! model, and concurrent random operations against a `Mutex<HashMap>` model, with invariants
//! that only hold if every operation is atomic (conservation of swapped tokens, exact
//! compare-and-swap counters, a single winner per `load_or_store`).
//!
//! The protocol is checked with Miri plus stress tests, not loom: loom can only explore code
//! whose every atomic is one of loom's types, and both arc-swap's atomics and `GoMap`'s (its
//! flag byte, its random source) are core atomics. Miri runs the real code, arc-swap
//! included, and reports data races, use-after-free and leaks on the small concurrent runs
//! below; the full-size runs stress the same code on real threads.

use std::collections::{BTreeMap, HashMap, HashSet};
use std::sync::{Barrier, Mutex};
use std::thread;

use gomap::sync::{SyncMap, SyncMapState};
use proptest::prelude::*;

fn state(m: &SyncMap<u64, u64>) -> SyncMapState {
    m.state()
}

fn st(
    read_len: usize,
    read_deleted: usize,
    read_expunged: usize,
    amended: bool,
    dirty_len: Option<usize>,
    misses: usize,
) -> SyncMapState {
    SyncMapState {
        read_len,
        read_deleted,
        read_expunged,
        amended,
        dirty_len,
        misses,
    }
}

/// Go's algorithm, step by step (Go 1.19 `sync/map.go`; the expected states follow from its
/// rules, quoted at each step).
#[test]
fn go_algorithm_step_by_step() {
    let m: SyncMap<u64, u64> = SyncMap::new();
    assert_eq!(state(&m), st(0, 0, 0, false, None, 0));

    // Store of a new key: dirtyLocked copies read (empty) into a new dirty map, read is
    // republished with amended = true, the entry goes to dirty only.
    m.store(1, 10);
    assert_eq!(state(&m), st(0, 0, 0, true, Some(1), 0));
    m.store(2, 20);
    assert_eq!(state(&m), st(0, 0, 0, true, Some(2), 0));

    // A load that misses read while amended locks, finds the key in dirty, counts a miss;
    // promotion waits until misses >= len(dirty).
    assert_eq!(m.load(&1).map(|v| *v), Some(10));
    assert_eq!(state(&m), st(0, 0, 0, true, Some(2), 1));
    // A load of an absent key counts a miss too: 2 >= 2, dirty is promoted.
    assert_eq!(m.load(&99).map(|v| *v), None);
    assert_eq!(state(&m), st(2, 0, 0, false, None, 0));

    // Now loads hit read without the lock (no miss counted) and stores to present keys
    // swap the entry's pointer in place: nothing else changes.
    assert_eq!(m.load(&2).map(|v| *v), Some(20));
    m.store(2, 21);
    assert_eq!(m.load(&2).map(|v| *v), Some(21));
    // A load of an absent key with amended = false answers without the lock.
    assert_eq!(m.load(&99).map(|v| *v), None);
    assert_eq!(state(&m), st(2, 0, 0, false, None, 0));

    // Delete sets the entry to nil; it stays in read.
    m.delete(&1);
    assert_eq!(state(&m), st(2, 1, 0, false, None, 0));
    assert_eq!(m.load(&1).map(|v| *v), None);

    // A new key: dirtyLocked copies read, expunging the nil entry (not copied).
    m.store(3, 30);
    assert_eq!(state(&m), st(2, 0, 1, true, Some(2), 0));

    // Storing to the expunged key: tryStore fails on expunged, so under the lock the entry
    // is unexpunged and added to dirty.
    m.store(1, 11);
    assert_eq!(state(&m), st(2, 0, 0, true, Some(3), 0));
    assert_eq!(m.load(&1).map(|v| *v), Some(11));

    // LoadAndDelete of a key only in dirty removes it from dirty and counts a miss.
    assert_eq!(m.load_and_delete(&3).map(|v| *v), Some(30));
    assert_eq!(state(&m), st(2, 0, 0, true, Some(2), 1));
    assert_eq!(m.load(&3).map(|v| *v), None);
    assert_eq!(state(&m), st(2, 0, 0, false, None, 0));

    // CompareAndDelete of a key only in dirty does not remove it from dirty (the comparison
    // may fail); it counts a miss.
    m.store(4, 40);
    assert_eq!(state(&m), st(2, 0, 0, true, Some(3), 0));
    assert!(!m.compare_and_delete(&4, &41));
    assert!(m.compare_and_delete(&4, &40));
    assert_eq!(state(&m), st(2, 0, 0, true, Some(3), 2));
    assert_eq!(m.load(&4).map(|v| *v), None);
    // Third miss: 3 >= 3, promoted; key 4 is in read as a nil entry.
    assert_eq!(state(&m), st(3, 1, 0, false, None, 0));

    // Range promotes an amended dirty map first.
    m.store(5, 50);
    assert_eq!(state(&m), st(3, 0, 1, true, Some(3), 0));
    let mut seen = BTreeMap::new();
    m.range(|k, v| {
        seen.insert(*k, *v);
        true
    });
    assert_eq!(seen, BTreeMap::from([(1, 11), (2, 21), (5, 50)]));
    assert_eq!(state(&m), st(3, 0, 0, false, None, 0));

    // LoadOrStore and Swap on a key in dirty: LoadOrStore counts a miss, Swap does not
    // (Go 1.20).
    m.store(6, 60);
    let (v, loaded) = m.load_or_store(6, 61);
    assert_eq!((*v, loaded), (60, true));
    assert_eq!(state(&m).misses, 1);
    assert_eq!(m.swap(6, 62).map(|v| *v), Some(60));
    assert_eq!(state(&m).misses, 1);
    // CompareAndSwap on a key in dirty counts a miss.
    assert!(m.compare_and_swap(&6, &62, 63));
    assert_eq!(state(&m), st(3, 0, 0, true, Some(4), 2));
    assert_eq!(m.load(&6).map(|v| *v), Some(63));
}

#[derive(Clone, Debug)]
enum Op {
    Load(u8),
    Store(u8, u16),
    LoadOrStore(u8, u16),
    LoadAndDelete(u8),
    Delete(u8),
    Swap(u8, u16),
    CompareAndSwap(u8, u16, u16),
    CompareAndDelete(u8, u16),
    Range(usize),
}

fn op() -> impl Strategy<Value = Op> {
    let k = 0u8..12;
    let v = 0u16..4;
    prop_oneof![
        4 => k.clone().prop_map(Op::Load),
        3 => (k.clone(), v.clone()).prop_map(|(k, v)| Op::Store(k, v)),
        2 => (k.clone(), v.clone()).prop_map(|(k, v)| Op::LoadOrStore(k, v)),
        2 => k.clone().prop_map(Op::LoadAndDelete),
        1 => k.clone().prop_map(Op::Delete),
        2 => (k.clone(), v.clone()).prop_map(|(k, v)| Op::Swap(k, v)),
        2 => (k.clone(), v.clone(), v.clone()).prop_map(|(k, a, b)| Op::CompareAndSwap(k, a, b)),
        2 => (k.clone(), v).prop_map(|(k, a)| Op::CompareAndDelete(k, a)),
        1 => (1usize..6).prop_map(Op::Range),
    ]
}

/// Go's invariants on the parts, given the live keys.
fn check_parts(s: &SyncMapState, live: usize) {
    // Expunged entries exist only while there is a dirty map (which lacks them).
    if s.read_expunged > 0 {
        assert!(s.dirty_len.is_some(), "{s:?}");
    }
    // amended means dirty holds keys read lacks.
    if s.amended {
        assert!(s.dirty_len.is_some(), "{s:?}");
    }
    match s.dirty_len {
        // Dirty holds every live key (and perhaps deleted, not yet expunged ones).
        Some(d) => assert!(d >= live, "{s:?} live {live}"),
        // Without dirty, read holds every key.
        None => assert_eq!(s.read_len - s.read_deleted, live, "{s:?}"),
    }
}

proptest! {
    #![proptest_config(ProptestConfig {
        cases: if cfg!(miri) { 4 } else { 256 },
        failure_persistence: None,
        ..ProptestConfig::default()
    })]

    /// Every operation returns what a HashMap model says, and the parts keep Go's invariants.
    #[test]
    fn behaves_like_a_hashmap(ops in proptest::collection::vec(op(), 1..if cfg!(miri) { 40 } else { 400 })) {
        let m: SyncMap<u8, u16> = SyncMap::new();
        let mut model: HashMap<u8, u16> = HashMap::new();
        for op in ops {
            match op {
                Op::Load(k) => prop_assert_eq!(m.load(&k).map(|v| *v), model.get(&k).copied()),
                Op::Store(k, v) => {
                    m.store(k, v);
                    model.insert(k, v);
                }
                Op::LoadOrStore(k, v) => {
                    let (got, loaded) = m.load_or_store(k, v);
                    match model.get(&k) {
                        Some(old) => prop_assert_eq!((*got, loaded), (*old, true)),
                        None => {
                            prop_assert_eq!((*got, loaded), (v, false));
                            model.insert(k, v);
                        }
                    }
                }
                Op::LoadAndDelete(k) => prop_assert_eq!(m.load_and_delete(&k).map(|v| *v), model.remove(&k)),
                Op::Delete(k) => {
                    m.delete(&k);
                    model.remove(&k);
                }
                Op::Swap(k, v) => prop_assert_eq!(m.swap(k, v).map(|v| *v), model.insert(k, v)),
                Op::CompareAndSwap(k, old, new) => {
                    let want = model.get(&k) == Some(&old);
                    prop_assert_eq!(m.compare_and_swap(&k, &old, new), want);
                    if want {
                        model.insert(k, new);
                    }
                }
                Op::CompareAndDelete(k, old) => {
                    let want = model.get(&k) == Some(&old);
                    prop_assert_eq!(m.compare_and_delete(&k, &old), want);
                    if want {
                        model.remove(&k);
                    }
                }
                Op::Range(stop) => {
                    let mut seen = Vec::new();
                    m.range(|k, v| {
                        seen.push((*k, *v));
                        seen.len() < stop
                    });
                    prop_assert_eq!(seen.len(), model.len().min(stop));
                    let distinct: HashSet<u8> = seen.iter().map(|e| e.0).collect();
                    prop_assert_eq!(distinct.len(), seen.len());
                    for (k, v) in seen {
                        prop_assert_eq!(model.get(&k), Some(&v));
                    }
                }
            }
            check_parts(&m.state(), model.len());
        }
        let mut all = BTreeMap::new();
        m.range(|k, v| {
            all.insert(*k, *v);
            true
        });
        prop_assert_eq!(all, model.into_iter().collect::<BTreeMap<_, _>>());
    }
}

/// xorshift64*: a small deterministic generator per thread.
struct Rng(u64);

impl Rng {
    fn next(&mut self) -> u64 {
        self.0 ^= self.0 >> 12;
        self.0 ^= self.0 << 25;
        self.0 ^= self.0 >> 27;
        self.0.wrapping_mul(0x2545_f491_4f6c_dd1d)
    }
}

fn threads() -> usize {
    if cfg!(miri) {
        3
    } else {
        4
    }
}

/// Concurrent random operations of every kind. Each thread owns a set of keys that only it
/// writes, so for those keys the shared `Mutex<HashMap>` model is exact and every result is
/// checked, including what `range` shows of them; the other threads' operations meanwhile
/// churn the map's parts (new keys, misses, promotions, expunges).
#[test]
fn concurrent_operations_match_the_model() {
    let threads = threads();
    let per = if cfg!(miri) { 60 } else { 40_000 };
    let keys_per_thread = if cfg!(miri) { 6 } else { 64 };
    let m: SyncMap<u64, u64> = SyncMap::new();
    let model: Mutex<HashMap<u64, u64>> = Mutex::new(HashMap::new());
    let start = Barrier::new(threads);
    thread::scope(|s| {
        for t in 0..threads {
            let (m, model, start) = (&m, &model, &start);
            s.spawn(move || {
                let mut rng = Rng(0x1234_5678_9abc_def1 ^ ((t as u64 + 1) << 7));
                let key = |r: u64| (r % keys_per_thread) * threads as u64 + t as u64;
                let mine = |k: &u64| *k % threads as u64 == t as u64;
                start.wait();
                for _ in 0..per {
                    let r = rng.next();
                    let k = key(r);
                    let v = (r >> 32) % 4;
                    let want = model.lock().unwrap().get(&k).copied();
                    match (r >> 40) % 10 {
                        0 | 1 => assert_eq!(m.load(&k).map(|x| *x), want),
                        2 => m.store(k, v),
                        3 => {
                            let (got, loaded) = m.load_or_store(k, v);
                            assert_eq!((*got, loaded), want.map_or((v, false), |w| (w, true)));
                        }
                        4 => assert_eq!(m.load_and_delete(&k).map(|x| *x), want),
                        5 => m.delete(&k),
                        6 => assert_eq!(m.swap(k, v).map(|x| *x), want),
                        7 => assert_eq!(m.compare_and_swap(&k, &(v ^ 1), v), want == Some(v ^ 1)),
                        8 => assert_eq!(m.compare_and_delete(&k, &v), want == Some(v)),
                        _ => {
                            let model_now: HashMap<u64, u64> = model
                                .lock()
                                .unwrap()
                                .iter()
                                .filter(|(k, _)| mine(k))
                                .map(|(k, v)| (*k, *v))
                                .collect();
                            let mut seen = HashMap::new();
                            m.range(|k, v| {
                                if mine(k) {
                                    assert!(seen.insert(*k, *v).is_none(), "visited twice");
                                }
                                true
                            });
                            assert_eq!(seen, model_now);
                        }
                    }
                    // Apply the operation to the model (only this thread writes key k).
                    let mut model = model.lock().unwrap();
                    match (r >> 40) % 10 {
                        2 | 6 => {
                            model.insert(k, v);
                        }
                        3 => {
                            model.entry(k).or_insert(v);
                        }
                        4 | 5 => {
                            model.remove(&k);
                        }
                        7 if want == Some(v ^ 1) => {
                            model.insert(k, v);
                        }
                        8 if want == Some(v) => {
                            model.remove(&k);
                        }
                        _ => {}
                    }
                }
            });
        }
    });
    let mut all = HashMap::new();
    m.range(|k, v| {
        all.insert(*k, *v);
        true
    });
    assert_eq!(all, model.into_inner().unwrap());
}

/// Shared keys, contended: every swap, successful compare-and-swap, load-or-store and
/// load-and-delete moves unique tokens in and out of the map. If every operation is atomic,
/// each token that went in comes out exactly once (or is still there at the end).
#[test]
fn tokens_are_conserved_under_contention() {
    let threads = threads();
    let per = if cfg!(miri) { 50 } else { 50_000 };
    let keys = if cfg!(miri) { 3 } else { 8 };
    let m: SyncMap<u64, u64> = SyncMap::new();
    let start = Barrier::new(threads);
    let results: Vec<(Vec<u64>, Vec<u64>)> = thread::scope(|s| {
        let hs: Vec<_> = (0..threads)
            .map(|t| {
                let (m, start) = (&m, &start);
                s.spawn(move || {
                    let mut rng = Rng(0xdead_beef ^ ((t as u64 + 1) << 9));
                    let (mut put, mut taken) = (Vec::new(), Vec::new());
                    start.wait();
                    for i in 0..per {
                        let r = rng.next();
                        let k = r % keys;
                        // A token is unique: thread, sequence number.
                        let token = ((t as u64) << 40) | i as u64;
                        match (r >> 32) % 5 {
                            0 | 1 => {
                                put.push(token);
                                taken.extend(m.swap(k, token).map(|v| *v));
                            }
                            2 => {
                                let (v, loaded) = m.load_or_store(k, token);
                                if !loaded {
                                    assert_eq!(*v, token);
                                    put.push(token);
                                }
                            }
                            3 => {
                                if let Some(cur) = m.load(&k) {
                                    if m.compare_and_swap(&k, &cur, token) {
                                        put.push(token);
                                        taken.push(*cur);
                                    }
                                }
                            }
                            _ => taken.extend(m.load_and_delete(&k).map(|v| *v)),
                        }
                    }
                    (put, taken)
                })
            })
            .collect();
        hs.into_iter().map(|h| h.join().unwrap()).collect()
    });
    let mut put: Vec<u64> = results.iter().flat_map(|r| r.0.iter().copied()).collect();
    let mut out: Vec<u64> = results.iter().flat_map(|r| r.1.iter().copied()).collect();
    m.range(|_, v| {
        out.push(*v);
        true
    });
    put.sort();
    out.sort();
    assert_eq!(put.len(), out.len(), "tokens lost or duplicated");
    assert_eq!(put, out);
}

/// Counters on shared keys, incremented with load + compare_and_swap retries: the totals are
/// exact. And `load_or_store` races on fresh keys have exactly one winner, whose value
/// everybody sees.
#[test]
fn compare_and_swap_counters_and_load_or_store_winners() {
    let threads = threads();
    let per = if cfg!(miri) { 40 } else { 40_000 };
    let keys = if cfg!(miri) { 2 } else { 4 };
    let m: SyncMap<u64, u64> = SyncMap::new();
    for k in 0..keys {
        m.store(k, 0);
    }
    let fresh = if cfg!(miri) { 4 } else { 2000 };
    let start = Barrier::new(threads);
    // Per thread: increments per key, and (key, value seen, loaded) per load_or_store.
    type Claims = Vec<(u64, u64, bool)>;
    let results: Vec<(Vec<u64>, Claims)> = thread::scope(|s| {
        let hs: Vec<_> = (0..threads)
            .map(|t| {
                let (m, start) = (&m, &start);
                s.spawn(move || {
                    let mut rng = Rng(0xfeed ^ ((t as u64 + 1) << 3));
                    let mut incs = vec![0u64; keys as usize];
                    let mut claims = Vec::new();
                    start.wait();
                    for i in 0..per {
                        let k = rng.next() % keys;
                        loop {
                            let cur = *m.load(&k).unwrap();
                            if m.compare_and_swap(&k, &cur, cur + 1) {
                                break;
                            }
                        }
                        incs[k as usize] += 1;
                        if i % (per / fresh).max(1) == 0 {
                            // Every thread races for the same sequence of fresh keys.
                            let key = 1_000 + (i / (per / fresh).max(1)) as u64;
                            let (v, loaded) = m.load_or_store(key, t as u64);
                            claims.push((key, *v, loaded));
                        }
                    }
                    (incs, claims)
                })
            })
            .collect();
        hs.into_iter().map(|h| h.join().unwrap()).collect()
    });
    for k in 0..keys {
        let total: u64 = results.iter().map(|r| r.0[k as usize]).sum();
        assert_eq!(m.load(&k).map(|v| *v), Some(total));
    }
    let mut winners: HashMap<u64, Vec<u64>> = HashMap::new();
    for (t, (_, claims)) in results.iter().enumerate() {
        for &(key, v, loaded) in claims {
            let stored = *m.load(&key).unwrap();
            assert_eq!(v, stored, "everybody sees the winner's value");
            if !loaded {
                assert_eq!(v, t as u64);
                winners.entry(key).or_default().push(t as u64);
            }
        }
    }
    for (key, w) in &winners {
        assert_eq!(w.len(), 1, "key {key}: winners {w:?}");
    }
    assert_eq!(winners.len(), fresh.min(per) as usize);
}
