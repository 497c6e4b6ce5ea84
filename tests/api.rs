//! The safe API: std-HashMap parity, borrowed lookups, traits, and the all-or-nothing
//! guarantee of the `try_*` methods under allocation failure.

mod common;

use std::collections::HashMap;
use std::sync::atomic::Ordering;

use common::{check_invariants, Counting};
use gomap::view::NoUninit;
use gomap::{GoHasher, GoMap, HashAdapter, MapHasher, RandSource, SeededRand, TryReserveErrorKind};

#[test]
fn borrowed_lookups() {
    let mut m: GoMap<Box<str>, u32> = GoMap::new();
    m.insert("a".into(), 1);
    assert_eq!(m.get("a"), Some(&1));
    assert!(m.contains_key("a"));
    assert_eq!(m["a"], 1);
    let mut s: GoMap<String, u32> = GoMap::new();
    s.insert("b".to_string(), 2);
    assert_eq!(s.get("b"), Some(&2));
    assert_eq!(s.remove("b"), Some(2));
    let mut v: GoMap<Vec<u8>, u32> = GoMap::new();
    v.insert(vec![1, 2, 3], 3);
    assert_eq!(v.get(&[1u8, 2, 3][..]), Some(&3));
    let mut st: GoMap<&str, u32> = GoMap::new();
    st.insert("c", 4);
    assert_eq!(st.get(&"c"), Some(&4));
}

#[test]
fn std_like_api() {
    let mut m: GoMap<u64, String> = GoMap::new();
    assert!(m.is_empty());
    assert_eq!(m.insert(1, "a".into()), None);
    assert_eq!(m.insert(1, "b".into()), Some("a".into()));
    assert_eq!(m.get_key_value(&1), Some((&1, &"b".to_string())));
    m.get_mut(&1).unwrap().push('!');
    assert_eq!(m[&1], "b!");
    assert_eq!(m.remove_entry(&1), Some((1, "b!".into())));
    assert_eq!(m.remove(&1), None);

    // Entry API.
    *m.entry(5).or_insert_with(|| "x".into()) += "y";
    m.entry(5).and_modify(|v| v.push('z')).or_default();
    assert_eq!(m[&5], "xyz");
    assert_eq!(m.entry(6).key(), &6);
    m.entry(6).or_default();
    assert_eq!(m[&6], "");
    match m.entry(6) {
        gomap::Entry::Occupied(mut o) => {
            assert_eq!(o.insert("six".into()), "");
            assert_eq!(o.get(), "six");
            assert_eq!(o.remove_entry(), (6, "six".into()));
        }
        gomap::Entry::Vacant(_) => unreachable!(),
    }
    match m.entry(7) {
        gomap::Entry::Vacant(v) => {
            assert_eq!(v.key(), &7);
            *v.insert("7".into()) += "!";
        }
        gomap::Entry::Occupied(_) => unreachable!(),
    }
    assert_eq!(m[&7], "7!");
    m.entry(8).or_insert_with_key(|k| k.to_string());
    assert_eq!(m[&8], "8");

    // Bulk operations.
    m.extend((100..200).map(|i| (i, i.to_string())));
    assert_eq!(m.len(), 103);
    m.retain(|k, _| k % 2 == 0);
    assert_eq!(m.len(), 51);
    assert!(m.keys().all(|k| k % 2 == 0));
    for v in m.values_mut() {
        v.push('.');
    }
    assert!(m.values().all(|v| v.ends_with('.')));
    for (_, v) in m.iter_mut() {
        v.pop();
    }
    let c = m.clone();
    assert_eq!(c, m);
    let dbg = format!("{:?}", c);
    assert!(dbg.starts_with('{') && dbg.contains("100: \"100\""));
    let mut keys: Vec<u64> = c.clone().into_keys().collect();
    keys.sort();
    assert_eq!(keys.len(), 51);
    let vals: Vec<String> = c.into_values().collect();
    assert_eq!(vals.len(), 51);
    let drained: HashMap<u64, String> = m.drain().collect();
    assert_eq!(drained.len(), 51);
    assert!(m.is_empty());

    // Conversions.
    let f = GoMap::from([(1u8, 'a'), (2, 'b')]);
    assert_eq!(f.len(), 2);
    let g: GoMap<u8, char> = [(1u8, 'a'), (2, 'b')].into_iter().collect();
    assert_eq!(f, g);
    let d: GoMap<u8, char> = Default::default();
    assert!(d.is_empty());
    let mut e: GoMap<u8, u8> = GoMap::new();
    e.extend([(&1u8, &2u8)]);
    assert_eq!(e[&1], 2);
    assert_eq!(e.iter().len(), 1);
}

#[test]
fn iteration_order_is_randomized() {
    let m: GoMap<u64, u64> = (0..64u64).map(|i| (i, i)).collect();
    let first: Vec<u64> = m.keys().copied().collect();
    let differs = (0..20).any(|_| m.keys().copied().collect::<Vec<_>>() != first);
    assert!(differs, "20 iterations all started at the same place");
    // Deterministic with a seeded source.
    let mk = || {
        let mut m = GoMap::from_parts(
            0,
            GoHasher::with_hashkey(1),
            gomap::alloc::Global,
            SeededRand::new(9),
        );
        for i in 0..64u64 {
            m.insert(i, i);
        }
        m.keys().copied().collect::<Vec<_>>()
    };
    assert_eq!(mk(), mk());
}

#[test]
fn float_keys_follow_go() {
    let mut m: GoMap<f64, u32> = GoMap::new();
    m.insert(0.0, 1);
    m.insert(-0.0, 2); // equal to +0: overwrites, and stores the new key (-0)
    assert_eq!(m.len(), 1);
    assert!(m.keys().next().unwrap().is_sign_negative());
    m.insert(f64::NAN, 3);
    m.insert(f64::NAN, 4);
    assert_eq!(m.len(), 3, "every NaN is a new key");
    assert_eq!(m.get(&f64::NAN), None);
    let mut nans = 0;
    m.retain(|k, _| {
        nans += k.is_nan() as u32;
        !k.is_nan()
    });
    assert_eq!(nans, 2);
    assert_eq!(m.len(), 1, "retain removes NaN entries");
}

#[test]
fn send_and_sync_follow_their_parts() {
    fn send_sync<T: Send + Sync>() {}
    send_sync::<GoMap<u64, String>>();
    send_sync::<GoMap<Box<str>, Vec<u8>, GoHasher, gomap::alloc::Global, SeededRand>>();
    send_sync::<gomap::Iter<'static, u64, u64, GoHasher, gomap::alloc::Global, gomap::FastRand>>();
    fn not_sync<T: Send>() {}
    not_sync::<GoMap<u64, std::cell::Cell<u8>>>();
}

#[test]
fn reserve_and_shrink() {
    let n = if cfg!(miri) { 120 } else { 1000 };
    let mut m: GoMap<u64, u64> = GoMap::new();
    m.reserve(n as usize);
    let b = m.header().B();
    assert_eq!(b, gomap::layout::b_for_hint(n as usize));
    let arr = m.header().buckets();
    for i in 0..n {
        m.insert(i, i);
    }
    assert_eq!(
        m.header().buckets(),
        arr,
        "no load-factor grow after reserve"
    );
    check_invariants(&m);
    for i in 0..n - 10 {
        m.remove(&i);
    }
    m.shrink_to_fit();
    assert_eq!(m.header().B(), gomap::layout::b_for_hint(10));
    assert!((n - 10..n).all(|i| m.get(&i) == Some(&i)));
    check_invariants(&m);
    let e = m.try_reserve(usize::MAX).unwrap_err();
    assert_eq!(e.kind(), TryReserveErrorKind::CapacityOverflow);
    assert!(e.to_string().contains("capacity overflow"));
    // Shrinking finishes a grow in progress.
    let mut g: GoMap<u64, u64> = GoMap::new();
    let mut i = 0;
    while !g.header().growing() {
        g.insert(i, i);
        i += 1;
    }
    g.shrink_to_fit();
    assert!(!g.header().growing());
    check_invariants(&g);
    let mut empty: GoMap<u64, u64> = GoMap::with_capacity(if cfg!(miri) { 500 } else { 5000 });
    empty.shrink_to_fit();
    assert_eq!((empty.header().B(), empty.header().buckets()), (0, 0));
}

/// Everything Go-visible about a map: header fields, every bucket's bytes (arrays with their
/// preallocated buckets, heap chains), the overflow lists and nextOverflow.
fn snapshot<K: NoUninit, V: NoUninit, H, A: gomap::alloc::Allocator, R: RandSource>(
    m: &GoMap<K, V, H, A, R>,
) -> Vec<u64> {
    let v = m.raw();
    let h = v.header();
    let mut out = vec![
        h.count() as u64,
        h.flags().bits() as u64,
        h.B() as u64,
        h.noverflow() as u64,
        h.hash0() as u64,
        h.buckets() as u64,
        h.oldbuckets() as u64,
        h.nevacuate() as u64,
        h.extra() as u64,
        v.next_overflow() as u64,
    ];
    out.extend(v.overflow_list().iter().map(|p| *p as u64));
    out.push(u64::MAX);
    out.extend(v.old_overflow_list().iter().map(|p| *p as u64));
    let mut push_bucket = |b: gomap::view::BucketView<'_, K, V>| {
        out.push(b.addr() as u64);
        out.extend(b.bytes().iter().map(|&x| x as u64));
    };
    for i in 0..v.array_len() {
        push_bucket(v.bucket(i).unwrap());
    }
    for i in 0..v.old_array_len() {
        push_bucket(v.old_bucket(i).unwrap());
    }
    for head in v.buckets().chain(v.old_buckets()) {
        for b in v.chain(head).skip(1) {
            push_bucket(b);
        }
    }
    out
}

fn insert_fallible_all_or_nothing<K, V, H>(keys: impl Iterator<Item = (K, V)>, hasher: H)
where
    K: NoUninit + PartialEq + Clone + std::fmt::Debug + Eq + std::hash::Hash,
    V: NoUninit + Clone + PartialEq + std::fmt::Debug,
    H: MapHasher<K> + gomap::MapLookup<K, K>,
{
    let alloc = Counting::default();
    {
        let mut m: GoMap<K, V, H, Counting, SeededRand> =
            GoMap::from_parts(0, hasher, alloc.clone(), SeededRand::new(1));
        let mut model = HashMap::new();
        let mut failures = 0;
        for (i, (k, v)) in keys.enumerate() {
            // First with an allocator that refuses everything.
            alloc.0.fail_after.store(1, Ordering::SeqCst);
            let before = snapshot(&m);
            match m.insert_fallible(k.clone(), v.clone()) {
                Err(e) => {
                    failures += 1;
                    assert!(matches!(
                        e.error.kind(),
                        TryReserveErrorKind::AllocError { .. }
                    ));
                    assert!(e.key == k && e.value == v, "the key and value come back");
                    assert_eq!(
                        snapshot(&m),
                        before,
                        "step {i}: a failed insert_fallible changed the map"
                    );
                    alloc.0.fail_after.store(0, Ordering::SeqCst);
                    assert_eq!(
                        m.insert_fallible(k.clone(), v.clone()).unwrap(),
                        model.insert(k, v)
                    );
                }
                Ok(old) => {
                    alloc.0.fail_after.store(0, Ordering::SeqCst);
                    assert_eq!(old, model.insert(k, v));
                }
            }
            check_invariants(&m);
        }
        assert!(
            // Every grow needs a new array, so at least the grows fail first (7 of them
            // natively, 3 under Miri's smaller sizes).
            failures >= if cfg!(miri) { 3 } else { 7 },
            "the test exercised too few failures ({failures})"
        );
        assert_eq!(m.len(), model.len());
        for (k, v) in &model {
            assert_eq!(m.get(k), Some(v));
        }
    }
    alloc.assert_no_leak();
}

fn n() -> u64 {
    if cfg!(miri) {
        40
    } else {
        3000
    }
}

#[test]
fn insert_fallible_is_all_or_nothing_pointer_free() {
    // u64→u64: pointer-free buckets, so the overflow lists must be reserved too.
    insert_fallible_all_or_nothing((0..n()).map(|i| (i * 7 % 1000, i)), GoHasher::new());
}

#[test]
fn insert_fallible_is_all_or_nothing_pointerful() {
    let owned: Vec<String> = (0..n()).map(|i| format!("k{}", i % 700)).collect();
    insert_fallible_all_or_nothing(
        owned.iter().map(|k| (k.as_str(), [1u8; 3])),
        GoHasher::new(),
    );
}

#[test]
fn insert_fallible_is_all_or_nothing_indirect() {
    insert_fallible_all_or_nothing(
        (0..n() / 2).map(|i| ([i as u8; 129], [i as u16; 70])),
        HashAdapter(std::collections::hash_map::RandomState::new()),
    );
}

#[test]
fn try_reserve_failure_leaves_the_map_unchanged() {
    let alloc = Counting::default();
    let mut m: GoMap<u64, u64, GoHasher, Counting> = GoMap::with_capacity_in(0, alloc.clone());
    let mut i = 0;
    while !m.header().growing() {
        m.insert(i, i);
        i += 1;
    }
    let before = snapshot(&m);
    alloc.0.fail_after.store(1, Ordering::SeqCst);
    let more = if cfg!(miri) { 1000 } else { 100_000 };
    assert!(m.try_reserve(more).is_err());
    assert_eq!(snapshot(&m), before);
    alloc.0.fail_after.store(0, Ordering::SeqCst);
    m.try_reserve(more).unwrap();
    check_invariants(&m);
    drop(m);
    alloc.assert_no_leak();
}

#[test]
fn allocated_bytes_counts_what_the_allocator_holds() {
    let alloc = Counting::default();
    let mut m: GoMap<u64, [u8; 200], GoHasher, Counting> =
        GoMap::with_capacity_in(0, alloc.clone());
    for i in 0..if cfg!(miri) { 60 } else { 500u64 } {
        m.insert(i, [i as u8; 200]);
        assert_eq!(
            m.allocated_bytes() as isize,
            alloc.live(),
            "after {i} inserts"
        );
    }
}

#[test]
fn retain_removes_nan_keys_mid_grow() {
    // NaN keys cannot be found by hash; retain removes them by position, also when its own
    // deletes evacuate the old bucket it is walking.
    for seed in 0..if cfg!(miri) { 2 } else { 64 } {
        let mut m: GoMap<f64, u64, GoHasher, gomap::alloc::Global, SeededRand> = GoMap::from_parts(
            0,
            GoHasher::with_hashkey(seed * 2 + 1),
            gomap::alloc::Global,
            SeededRand::new(seed),
        );
        let mut i = 0u64;
        let mut nans = 0;
        while !(m.header().growing() && m.len() > 200) {
            if i % 5 == 0 {
                m.insert(f64::NAN, i);
                nans += 1;
            } else {
                m.insert(i as f64, i);
            }
            i += 1;
        }
        let total = m.len();
        let mut seen_nan = 0;
        m.retain(|k, v| {
            if k.is_nan() {
                seen_nan += 1;
                false
            } else {
                *v % 3 != 0
            }
        });
        assert_eq!(seen_nan, nans, "seed {seed}");
        let kept = (0..i).filter(|v| v % 5 != 0 && v % 3 != 0).count();
        assert_eq!(m.len(), kept, "seed {seed} (from {total})");
        assert_eq!(m.iter().count(), kept);
        assert!(m.keys().all(|k| !k.is_nan()));
        assert!(!m.header().flags().contains(gomap::Flags::HASH_WRITING));
    }
}

/// A hasher that sends every key to one of three hashes, so that buckets grow long overflow
/// chains.
#[derive(Clone, Default)]
struct ThreeWay(u64);
impl std::hash::Hasher for ThreeWay {
    fn finish(&self) -> u64 {
        (self.0 % 3).wrapping_mul(0x9e37_79b9_7f4a_7c15)
    }
    fn write(&mut self, bytes: &[u8]) {
        for &b in bytes {
            self.0 = self.0.wrapping_mul(31).wrapping_add(b as u64);
        }
    }
}

fn fold_matches_next<K: PartialEq + Copy + std::fmt::Debug, H: MapHasher<K>>(
    m: &GoMap<K, u64, H, gomap::alloc::Global, SeededRand>,
    what: &str,
) {
    let it = m.iter();
    let by_next: Vec<(K, u64)> = it.clone().map(|(k, v)| (*k, *v)).collect::<Vec<_>>();
    let mut by_next_loop = Vec::new();
    // A `for` loop calls `next` for each entry.
    for (k, v) in it.clone() {
        by_next_loop.push((*k, *v));
    }
    assert_eq!(by_next_loop.len(), m.len(), "{what}");
    let by_fold = it.clone().fold(Vec::new(), |mut acc, (k, v)| {
        acc.push((*k, *v));
        acc
    });
    assert_eq!(
        by_fold, by_next_loop,
        "{what}: fold order differs from next order"
    );
    assert_eq!(by_next, by_next_loop, "{what}");
    // Part by `next`, the rest by `fold` (through the Keys adapter).
    for skip in [1, 7, m.len() / 2, m.len().saturating_sub(1)] {
        let mut part = it.clone();
        let mut got: Vec<K> = part.by_ref().take(skip).map(|(k, _)| *k).collect();
        got = part.fold(got, |mut acc, (k, _)| {
            acc.push(*k);
            acc
        });
        let want: Vec<K> = by_next_loop.iter().map(|(k, _)| *k).collect();
        assert_eq!(got, want, "{what}: {skip} by next, the rest by fold");
    }
    let sum = m.values().fold(0u64, |a, v| a.wrapping_add(*v));
    let want = by_next_loop
        .iter()
        .fold(0u64, |a, (_, v)| a.wrapping_add(*v));
    assert_eq!(sum, want, "{what}");
}

#[test]
fn fold_visits_entries_in_next_order() {
    for seed in 0..if cfg!(miri) { 1 } else { 8 } {
        let mut m: GoMap<u64, u64, GoHasher, gomap::alloc::Global, SeededRand> = GoMap::from_parts(
            0,
            GoHasher::with_hashkey(seed + 1),
            gomap::alloc::Global,
            SeededRand::new(seed),
        );
        fold_matches_next(&m, "empty");
        let mut i = 0u64;
        let mut saw_grow = false;
        while i < if cfg!(miri) { 120 } else { 2000 } {
            m.insert(i, i * 3);
            if i % 4 == 0 {
                m.remove(&(i / 2));
            }
            i += 1;
            saw_grow |= m.header().growing();
            if i % 13 == 0 || m.header().growing() {
                fold_matches_next(
                    &m,
                    &format!("seed {seed}, {i} inserts, growing {}", m.header().growing()),
                );
            }
        }
        assert!(saw_grow);
        // Overflow chains: every key hashes to one of three values.
        let mut c: GoMap<
            u64,
            u64,
            HashAdapter<std::hash::BuildHasherDefault<ThreeWay>>,
            gomap::alloc::Global,
            SeededRand,
        > = GoMap::from_parts(
            0,
            HashAdapter(Default::default()),
            gomap::alloc::Global,
            SeededRand::new(seed),
        );
        for k in 0..if cfg!(miri) { 40 } else { 200 } {
            c.insert(k, k);
            if k % 5 == 0 {
                fold_matches_next(&c, &format!("seed {seed}, chains, {k}"));
            }
        }
    }
}
