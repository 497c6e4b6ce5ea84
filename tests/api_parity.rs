//! The API a std or hashbrown user expects, item by item (std's HashMap and HashSet,
//! hashbrown's extras): every item is used here, so this file is the compile probe, and each
//! use checks what the item does.

mod common;

use std::collections::{BTreeMap, BTreeSet, HashMap, HashSet};
use std::hash::{BuildHasherDefault, DefaultHasher, Hash, RandomState};

use common::check_invariants;
use gomap::sync::SyncMap;
use gomap::{
    Entry, EntryRef, Equivalent, GoHashMap, GoHashSet, GoHasher, GoMap, GoSet, HashAdapter,
    OccupiedError, SeededRand, TryReserveErrorKind,
};

fn sorted<T: Ord>(it: impl IntoIterator<Item = T>) -> Vec<T> {
    let mut v: Vec<T> = it.into_iter().collect();
    v.sort();
    v
}

/// A map mid-grow: 9..=13 entries past a doubling, so old buckets are still unevacuated.
fn growing_map() -> GoMap<u64, u64> {
    let mut m: GoMap<u64, u64> = GoMap::new();
    let mut k = 0;
    while !(m.header().growing() && m.len() > 60) {
        m.insert(k, k * 10);
        k += 1;
    }
    m
}

#[test]
fn capacity_is_the_load_factor_limit_of_the_current_array() {
    let mut m: GoMap<u64, u64> = GoMap::new();
    assert_eq!(m.capacity(), 0, "no bucket yet");
    m.insert(1, 1);
    assert_eq!((m.header().B(), m.capacity()), (0, 8));
    // capacity() entries fit without a load-factor grow; one more starts one.
    for k in 0..200u64 {
        let (b, cap) = (m.header().B(), m.capacity());
        let growing = m.header().growing();
        m.insert(1000 + k, k);
        if m.header().B() != b {
            assert_eq!(m.len(), cap + 1, "the grow came at capacity + 1");
        } else if !growing && !m.header().growing() {
            assert_eq!(m.capacity(), cap);
        }
        assert!(m.capacity() >= m.len());
    }
    assert_eq!(
        m.capacity(),
        gomap::layout::load_factor_capacity(m.header().B())
    );
    assert_eq!(
        (1..=6)
            .map(gomap::layout::load_factor_capacity)
            .collect::<Vec<_>>(),
        [13, 26, 52, 104, 208, 416]
    );
}

#[test]
fn shrink_to_keeps_a_lower_bound_and_never_grows() {
    let mut m: GoMap<u64, u64> = GoMap::with_capacity(1000);
    let b0 = m.header().B();
    for k in 0..20 {
        m.insert(k, k);
    }
    m.shrink_to(500);
    assert!(m.capacity() >= 500 && m.header().B() < b0);
    let b1 = m.header().B();
    m.shrink_to(100_000);
    assert_eq!(m.header().B(), b1, "shrink_to never grows");
    m.shrink_to(0);
    assert!(m.capacity() >= 20 && m.capacity() < 500);
    for k in 0..20 {
        assert_eq!(m.get(&k), Some(&k));
    }
    check_invariants(&m);
    m.clear();
    m.shrink_to_fit();
    assert_eq!(m.capacity(), 0, "an empty map gives its buckets back");
    m.insert(5, 5);
    assert_eq!(m[&5], 5);
}

#[test]
fn reserve_makes_capacity_and_try_reserve_reports_real_sizes() {
    let mut m: GoMap<u8, u8> = GoMap::new();
    m.reserve(0);
    assert_eq!(m.capacity(), 0);
    m.reserve(3);
    assert!(
        m.capacity() >= 3,
        "a reservation allocates the first bucket"
    );
    m.reserve(100);
    assert!(m.capacity() >= 100);
    // usize::MAX entries: the count itself overflows.
    let e = m.try_reserve(usize::MAX).unwrap_err();
    assert_eq!(e.kind(), TryReserveErrorKind::CapacityOverflow);
    // usize::MAX / 16 entries of u8 → u8 need B = 58: 2^58 buckets of 32 bytes plus 2^54
    // preallocated ones, 2^63 + 2^59 bytes, more than isize::MAX: an overflow, by std's rule.
    let l = m.layout();
    assert_eq!(l.bucketsize, 32);
    assert_eq!(gomap::layout::b_for_entries(usize::MAX / 16), Some(58));
    assert!(l.array_bytes(58).is_none_or(|b| b > isize::MAX as usize));
    let e = m.try_reserve(usize::MAX / 16).unwrap_err();
    assert_eq!(e.kind(), TryReserveErrorKind::CapacityOverflow);
    // usize::MAX / 64: B = 56, 2^61 + 2^57 bytes: a size Rust allows, so the allocator is
    // asked, and refuses; the error names the array's real layout.
    #[cfg(not(miri))]
    {
        let b = gomap::layout::b_for_entries(usize::MAX / 64).unwrap();
        assert_eq!(b, 56);
        match m.try_reserve(usize::MAX / 64).unwrap_err().kind() {
            TryReserveErrorKind::AllocError { layout } => {
                assert_eq!(layout.size(), l.array_bytes(b).unwrap());
            }
            k => panic!("expected AllocError, got {k:?}"),
        }
    }
    assert!(m.capacity() >= 100, "a failed reservation changes nothing");
}

#[test]
fn extract_if_takes_what_the_predicate_picks_and_keeps_the_rest() {
    let mut m = growing_map();
    let before: BTreeMap<u64, u64> = m.iter().map(|(k, v)| (*k, *v)).collect();
    let taken: BTreeMap<u64, u64> = m
        .extract_if(|k, v| {
            *v += 1;
            k % 3 == 0
        })
        .collect();
    for (k, v) in &before {
        if k % 3 == 0 {
            assert_eq!(taken[k], v + 1);
            assert!(!m.contains_key(k));
        } else {
            assert_eq!(m[k], v + 1);
        }
    }
    assert_eq!(taken.len() + m.len(), before.len());
    check_invariants(&m);
    // Dropped early: the rest stays.
    let n = m.len();
    let mut it = m.extract_if(|_, _| true);
    assert!(it.next().is_some());
    assert!(it.size_hint().1.is_some());
    drop(it);
    assert_eq!(m.len(), n - 1);
    check_invariants(&m);
}

#[test]
fn get_disjoint_mut_and_get_key_value_mut() {
    let mut m: GoMap<u64, u64> = (0..50).map(|k| (k, k)).collect();
    let [a, b, c] = m.get_disjoint_mut([&3, &7, &100]);
    assert_eq!(
        (a.as_deref().copied(), b.as_deref().copied(), c),
        (Some(3), Some(7), None)
    );
    *a.unwrap() = 30;
    *b.unwrap() = 70;
    assert_eq!((m[&3], m[&7]), (30, 70));
    // SAFETY: the keys are distinct.
    let [x, y] = unsafe { m.get_disjoint_unchecked_mut([&1, &2]) };
    std::mem::swap(x.unwrap(), y.unwrap());
    assert_eq!((m[&1], m[&2]), (2, 1));
    let (k, v) = m.get_key_value_mut(&9).unwrap();
    *v = *k * 100;
    assert_eq!(m[&9], 900);
    assert!(m.get_key_value_mut(&999).is_none());
    let dup = std::panic::catch_unwind(std::panic::AssertUnwindSafe(|| {
        let _ = m.get_disjoint_mut([&4, &4]);
    }));
    assert!(dup.is_err(), "two keys of one entry panic");
}

#[test]
fn entry_insert_entry_and_debug() {
    let mut m: GoMap<u64, &str> = GoMap::new();
    let e = m.entry(1).insert_entry("one");
    assert_eq!((e.key(), e.get()), (&1, &"one"));
    assert_eq!(
        format!("{e:?}"),
        r#"OccupiedEntry { key: 1, value: "one", .. }"#
    );
    match m.entry(2) {
        Entry::Vacant(v) => {
            assert_eq!(format!("{v:?}"), "VacantEntry(2)");
            let o = v.insert_entry("two");
            assert_eq!(*o.get(), "two");
        }
        Entry::Occupied(_) => unreachable!(),
    }
    let e = m.entry(1).insert_entry("uno");
    assert_eq!(e.remove_entry(), (1, "uno"));
    assert_eq!(m.len(), 1);
}

type Det = GoMap<u64, u64, GoHasher, gomap::alloc::Global, SeededRand>;

/// A deterministic map caught mid-grow (fixed hashkey and random draws).
fn det_growing_map() -> Det {
    let mut m = GoMap::from_parts(
        0,
        GoHasher::with_hashkey(0x9e37_79b9_7f4a_7c15),
        gomap::alloc::Global,
        SeededRand::new(42),
    );
    let mut k = 0;
    while !(m.header().growing() && m.len() > 60) {
        m.insert(k, k * 10);
        k += 1;
    }
    m
}

#[test]
fn occupied_entry_remove_mid_grow_is_a_go_delete() {
    // The entry's removal does the grow work first, then deletes where the entry went: the
    // same memory as `remove` of the key.
    let n = det_growing_map().len() as u64;
    // Every key natively; under Miri, every 9th (each case builds two maps of 60 entries).
    for k in (0..n).step_by(if cfg!(miri) { 9 } else { 1 }) {
        let mut a = det_growing_map();
        let mut b = det_growing_map();
        assert_eq!(dump(&a), dump(&b));
        let va = match a.entry(k) {
            Entry::Occupied(e) => e.remove(),
            Entry::Vacant(_) => unreachable!(),
        };
        let vb = b.remove(&k).unwrap();
        assert_eq!(va, vb);
        assert_eq!(dump(&a), dump(&b), "removing key {k}");
        assert_eq!(a.header().nevacuate(), b.header().nevacuate());
        check_invariants(&a);
    }
}

type Dump = Vec<(String, [u8; 8], Vec<(u64, u64)>)>;

/// Every bucket's tophash bytes and live slots, in chain order.
fn dump(m: &Det) -> Dump {
    let v = m.raw();
    let mut out = Vec::new();
    for gen in [v.buckets().collect::<Vec<_>>(), v.old_buckets().collect()] {
        for head in gen {
            for b in v.chain(head) {
                let live = (0..8)
                    .filter(|&i| b.tophash()[i] >= 5)
                    .map(|i| (*b.key(i).unwrap(), *b.elem(i).unwrap()))
                    .collect();
                out.push((format!("{:?}", b.kind()), b.tophash(), live));
            }
        }
    }
    out
}

#[test]
fn replace_entry_with_and_and_replace_entry_with() {
    let mut m: GoMap<u64, String> = (0..30).map(|k| (k, k.to_string())).collect();
    match m.entry(4) {
        Entry::Occupied(e) => match e.replace_entry_with(|k, v| Some(format!("{k}:{v}!"))) {
            Entry::Occupied(e) => assert_eq!(e.get(), "4:4!"),
            Entry::Vacant(_) => unreachable!(),
        },
        Entry::Vacant(_) => unreachable!(),
    }
    match m.entry(5).and_replace_entry_with(|_, _| None) {
        Entry::Vacant(e) => assert_eq!(*e.key(), 5),
        Entry::Occupied(_) => unreachable!(),
    }
    assert!(!m.contains_key(&5));
    assert!(matches!(
        m.entry(5).and_replace_entry_with(|_, _| unreachable!()),
        Entry::Vacant(_)
    ));
    assert_eq!(m.len(), 29);
    // A panic in the closure removes the entry (its value was moved into the closure).
    let r = std::panic::catch_unwind(std::panic::AssertUnwindSafe(|| {
        if let Entry::Occupied(e) = m.entry(6) {
            e.replace_entry_with(|_, _| panic!("closure"));
        }
    }));
    assert!(r.is_err());
    assert!(!m.contains_key(&6));
    assert_eq!(m.len(), 28);
    assert_eq!(m.iter().count(), 28);
}

#[test]
fn entry_ref_converts_the_key_only_when_it_inserts() {
    let mut m: GoMap<String, u32> = GoMap::new();
    *m.entry_ref("a").or_insert(0) += 1;
    *m.entry_ref("a").or_insert(0) += 1;
    *m.entry_ref("b").or_default() += 5;
    *m.entry_ref("c").or_insert_with(|| 7) += 0;
    *m.entry_ref("d").or_insert_with_key(|k| k.len() as u32) += 0;
    assert_eq!(
        sorted(m.iter().map(|(k, v)| (k.as_str(), *v))),
        [("a", 2), ("b", 5), ("c", 7), ("d", 1)]
    );
    match m.entry_ref("a") {
        EntryRef::Occupied(e) => assert_eq!(e.remove_entry(), ("a".to_string(), 2)),
        EntryRef::Vacant(_) => unreachable!(),
    }
    match m.entry_ref("zz") {
        EntryRef::Vacant(v) => {
            assert_eq!(v.key(), "zz");
            assert_eq!(format!("{v:?}"), r#"VacantEntryRef("zz")"#);
            *v.insert_with_key("zz".to_string(), 3) += 1;
        }
        EntryRef::Occupied(_) => unreachable!(),
    }
    assert_eq!(m["zz"], 4);
    let e = m.entry_ref("b").and_modify(|v| *v *= 2);
    assert_eq!(e.key(), "b");
    assert_eq!(*e.insert(11).get(), 11);
    assert_eq!(m["b"], 11);
    let o = m.entry_ref("new").insert(1);
    assert_eq!(o.key(), "new");
}

#[test]
fn try_insert_has_std_meaning_and_insert_fallible_reports_memory() {
    let mut m: GoMap<u64, &str> = GoMap::new();
    assert_eq!(*m.try_insert(1, "a").unwrap(), "a");
    let err: OccupiedError<'_, _, _, _, _, _> = m.try_insert(1, "b").unwrap_err();
    assert_eq!(
        (*err.entry.key(), *err.entry.get(), err.value),
        (1, "a", "b")
    );
    assert_eq!(
        err.to_string(),
        r#"failed to insert "b", key 1 already exists with value "a""#
    );
    assert_eq!(m[&1], "a");
    assert_eq!(m.insert_fallible(1, "c").unwrap(), Some("a"));
    assert_eq!(m.insert_fallible(2, "d").unwrap(), None);
}

#[test]
fn insert_unique_unchecked_and_allocation_size() {
    let mut m: GoMap<u64, u64> = GoMap::new();
    for k in 0..100 {
        // SAFETY: every key is new.
        let (kk, v) = unsafe { m.insert_unique_unchecked(k, k) };
        assert_eq!(*kk, k);
        *v += 1;
    }
    assert_eq!(m[&50], 51);
    check_invariants(&m);
    assert_eq!(m.allocation_size(), m.allocated_bytes());
    assert!(m.allocation_size() >= m.layout().bucketsize * 16);
}

#[test]
fn iterators_default_and_clone() {
    type M = GoMap<u64, u64>;
    type H = GoHasher;
    type A = gomap::alloc::DefaultAllocator;
    type R = gomap::FastRand;
    assert_eq!(gomap::Iter::<u64, u64, H, A, R>::default().next(), None);
    assert_eq!(gomap::Iter::<u64, u64, H, A, R>::default().len(), 0);
    assert_eq!(gomap::IterMut::<u64, u64, H, A, R>::default().next(), None);
    assert_eq!(
        gomap::IterMut::<u64, u64, H, A, R>::default().fold(0, |n, _| n + 1),
        0
    );
    assert_eq!(gomap::IntoIter::<u64, u64, H, A, R>::default().next(), None);
    assert_eq!(gomap::Keys::<u64, u64, H, A, R>::default().next(), None);
    assert_eq!(gomap::Values::<u64, u64, H, A, R>::default().next(), None);
    assert_eq!(
        gomap::ValuesMut::<u64, u64, H, A, R>::default().next(),
        None
    );
    assert_eq!(gomap::IntoKeys::<u64, u64, H, A, R>::default().next(), None);
    assert_eq!(
        gomap::IntoValues::<u64, u64, H, A, R>::default().next(),
        None
    );
    assert_eq!(gomap::set::Iter::<u64, H, A, R>::default().next(), None);
    assert_eq!(gomap::set::IntoIter::<u64, H, A, R>::default().next(), None);
    let m: M = (0..20).map(|k| (k, k * 2)).collect();
    let keys = m.keys();
    let keys2 = keys.clone();
    assert_eq!(sorted(keys.copied()), sorted(keys2.copied()));
    let mut values = m.values();
    values.next();
    let rest: Vec<u64> = values.clone().copied().collect();
    assert_eq!(rest, values.copied().collect::<Vec<_>>());
}

#[test]
fn extend_from_references() {
    let mut m: GoMap<u64, char> = GoMap::new();
    let pairs = [(1, 'a'), (2, 'b')];
    m.extend(&pairs); // Extend<&(K, V)>
    m.extend([(&3, &'c')]); // Extend<(&K, &V)>
    assert_eq!(sorted(m.into_iter()), [(1, 'a'), (2, 'b'), (3, 'c')]);
}

/// `(&str, &str)`, hashed as `(String, String)` is.
#[derive(Hash)]
struct Pair<'a>(&'a str, &'a str);

impl Equivalent<(String, String)> for Pair<'_> {
    fn equivalent(&self, key: &(String, String)) -> bool {
        self.0 == key.0 && self.1 == key.1
    }
}

#[test]
fn equivalent_lookups_and_borrow_lookups() {
    let mut m: GoHashMap<(String, String), u32> = GoHashMap::new();
    m.insert(("go".into(), "map".into()), 1);
    m.insert(("rust".into(), "gomap".into()), 2);
    assert_eq!(m.get(&Pair("go", "map")), Some(&1));
    assert!(m.contains_key(&Pair("rust", "gomap")));
    assert_eq!(m.get(&Pair("rust", "map")), None);
    *m.get_mut(&Pair("go", "map")).unwrap() += 10;
    assert_eq!(m[&Pair("go", "map")], 11);
    assert_eq!(m.remove(&Pair("rust", "gomap")), Some(2));
    match m.entry_ref(&Pair("x", "y")) {
        EntryRef::Vacant(v) => *v.insert_with_key(("x".into(), "y".into()), 0) += 1,
        EntryRef::Occupied(_) => unreachable!(),
    }
    assert_eq!(m[&Pair("x", "y")], 1);
    // Borrow still works, for both hashers.
    let mut s: GoHashMap<String, u8> = GoHashMap::new();
    s.insert("k".into(), 1);
    assert_eq!(s.get("k"), Some(&1));
    let mut g: GoMap<String, u8> = GoMap::new();
    g.insert("k".into(), 1);
    assert_eq!((g.get("k"), g.get(&"k".to_string())), (Some(&1), Some(&1)));
    // Go's keys keep Go's `==`: NaN finds nothing, -0 finds +0.
    let mut f: GoMap<f64, u8> = GoMap::new();
    f.insert(0.0, 1);
    f.insert(f64::NAN, 2);
    assert_eq!((f.get(&-0.0), f.get(&f64::NAN)), (Some(&1), None));
}

#[test]
fn go_hash_map_is_std_constructible() {
    let mut a = GoHashMap::new();
    a.insert(1, "x");
    let b: GoHashMap<i32, &str> = GoHashMap::with_capacity(10);
    assert!(b.capacity() >= 10);
    let c = GoHashMap::<i32, &str, _>::with_hasher(RandomState::new());
    let d = GoHashMap::<i32, &str, _>::with_capacity_and_hasher(3, RandomState::new());
    let e: GoHashMap<i32, i32> = GoHashMap::new_in(gomap::alloc::DefaultAllocator::default());
    let f: GoHashMap<i32, i32> =
        GoHashMap::with_capacity_in(5, gomap::alloc::DefaultAllocator::default());
    let g = GoHashMap::from([(1, "x")]);
    #[allow(clippy::declare_interior_mutable_const)] // as std's test: each use is a new map
    const H: GoHashMap<u8, u8, BuildHasherDefault<DefaultHasher>> =
        GoHashMap::with_hasher(BuildHasherDefault::new());
    let mut h = H;
    h.insert(1, 2);
    assert_eq!(
        (a, c.len(), d.len(), e.len(), f.len(), h.len()),
        (g, 0, 0, 0, 0, 1)
    );
    // The Go hasher's maps still build from their type alone.
    let go: GoMap<u64, u64> = GoMap::from([(1, 2)]);
    let go2: GoMap<u64, u64> = GoMap::new_in(gomap::alloc::DefaultAllocator::default());
    let go3 = GoMap::<u64, u64>::with_map_hasher(GoHasher::with_hashkey(7));
    assert_eq!((go[&1], go2.len(), go3.hasher().hashkey()), (2, 0, 7));
    let s: GoMap<u32, u32, HashAdapter<RandomState>, gomap::alloc::Global> =
        GoMap::with_hasher_in(RandomState::new(), gomap::alloc::Global);
    assert!(s.is_empty());
}

#[test]
fn go_set_has_the_hash_set_api() {
    let mut a: GoSet<u64> = GoSet::new();
    assert!(a.insert(1) && a.insert(2) && a.insert(3) && !a.insert(3));
    let b: GoSet<u64> = [3, 4, 5].into();
    assert_eq!(sorted(a.union(&b).copied()), [1, 2, 3, 4, 5]);
    assert_eq!(sorted(a.intersection(&b).copied()), [3]);
    assert_eq!(sorted(a.difference(&b).copied()), [1, 2]);
    assert_eq!(sorted(a.symmetric_difference(&b).copied()), [1, 2, 4, 5]);
    assert_eq!(sorted(&(&a | &b)), [&1, &2, &3, &4, &5]);
    assert_eq!(sorted(&(&a & &b)), [&3]);
    assert_eq!(sorted(&(&a - &b)), [&1, &2]);
    assert_eq!(sorted(&(&a ^ &b)), [&1, &2, &4, &5]);
    assert!(!a.is_disjoint(&b));
    let sub: GoSet<u64> = [1, 2].into();
    assert!(sub.is_subset(&a) && a.is_superset(&sub) && !a.is_subset(&sub));
    assert!(a.contains(&1) && a.get(&2) == Some(&2));
    assert_eq!(a.replace(2), Some(2));
    assert_eq!(a.take(&2), Some(2));
    assert!(a.remove(&1) && !a.remove(&1));
    a.extend([10, 11, 12]);
    a.extend(&[13]);
    a.retain(|v| *v != 10);
    assert_eq!(sorted(a.extract_if(|v| *v > 11)), [12, 13]);
    assert_eq!(sorted(a.iter().copied()), [3, 11]);
    assert_eq!(sorted(a.clone()), [3, 11]);
    assert_eq!(a, [11, 3].into());
    assert!(format!("{a:?}").starts_with('{'));
    a.reserve(100);
    assert!(a.capacity() >= 102);
    a.try_reserve(10).unwrap();
    a.shrink_to(20);
    a.shrink_to_fit();
    assert_eq!(sorted(a.drain()), [3, 11]);
    assert!(a.is_empty());
    assert_eq!(a.len(), 0);
    a.clear();
    assert!(a.allocation_size() < 1000);
    assert_eq!(a.header().count(), 0);
    assert_eq!(a.as_map().len(), 0);
    let _: &GoHasher = a.hasher();
    let _ = a.allocator();
    let _ = a.layout();
    let c: GoSet<u64> = (0..5).collect();
    assert_eq!(c.into_map().len(), 5);
    let d: GoSet<u64> = GoSet::with_capacity(100);
    assert!(d.capacity() >= 100);
    let e: GoSet<u64> = GoSet::new_in(gomap::alloc::DefaultAllocator::default());
    let f: GoSet<u64> = GoSet::with_capacity_in(3, gomap::alloc::DefaultAllocator::default());
    let g = GoSet::<u64>::with_map_hasher(GoHasher::with_hashkey(3));
    let h = GoSet::<u64>::with_capacity_and_map_hasher(3, GoHasher::with_hashkey(3));
    let i: GoSet<u64, GoHasher, gomap::alloc::Global, SeededRand> =
        GoSet::from_parts(0, GoHasher::new(), gomap::alloc::Global, SeededRand::new(1));
    assert!(e.is_empty() && f.is_empty() && g.is_empty() && h.is_empty() && i.is_empty());
    // The std-hashed set: any Hash + Eq value.
    let mut s: GoHashSet<(u8, char)> = GoHashSet::new();
    s.insert((1, 'a'));
    let t = GoHashSet::<u8, _>::with_hasher(RandomState::new());
    let u = GoHashSet::<u8, _>::with_capacity_and_hasher(4, RandomState::new());
    let v: GoHashSet<u8> = GoHashSet::default();
    assert!(s.contains(&(1, 'a')) && t.is_empty() && u.is_empty() && v.is_empty());
    // Against std's HashSet on the same values.
    let std_a: HashSet<u64> = (0..100).filter(|x| x % 3 == 0).collect();
    let std_b: HashSet<u64> = (0..100).filter(|x| x % 5 == 0).collect();
    let go_a: GoSet<u64> = std_a.iter().copied().collect();
    let go_b: GoSet<u64> = std_b.iter().copied().collect();
    assert_eq!(
        sorted(go_a.union(&go_b).copied()),
        sorted(std_a.union(&std_b).copied())
    );
    assert_eq!(
        sorted(go_a.symmetric_difference(&go_b).copied()),
        sorted(std_a.symmetric_difference(&std_b).copied())
    );
}

#[test]
fn go_set_insert_is_go_assignment() {
    // Go's `m[k] = struct{}{}` stores the new key for floats: -0 replaces +0.
    let mut s: GoSet<f64> = GoSet::new();
    s.insert(0.0);
    assert!(!s.insert(-0.0));
    assert!(s.iter().next().unwrap().is_sign_negative());
    // With std's hasher the stored value stays, as in std; `replace` swaps it.
    #[derive(Debug)]
    struct Tagged(u8, u8);
    impl PartialEq for Tagged {
        fn eq(&self, o: &Self) -> bool {
            self.0 == o.0
        }
    }
    impl Eq for Tagged {}
    impl Hash for Tagged {
        fn hash<S: std::hash::Hasher>(&self, h: &mut S) {
            self.0.hash(h);
        }
    }
    let mut t: GoHashSet<Tagged> = GoHashSet::new();
    t.insert(Tagged(1, 0));
    assert!(!t.insert(Tagged(1, 9)));
    assert_eq!(t.get(&Tagged(1, 5)).unwrap().1, 0);
    assert_eq!(t.replace(Tagged(1, 9)).unwrap().1, 0);
    assert_eq!(t.get(&Tagged(1, 5)).unwrap().1, 9);
    assert_eq!(t.len(), 1);
}

#[test]
fn sync_map_clear_len_iter_with_capacity() {
    let m: SyncMap<u64, String> = SyncMap::with_capacity(100);
    assert!(m.is_empty());
    assert_eq!(m.state().dirty_len, Some(0), "the room is in the dirty map");
    for k in 0..10 {
        m.store(k, k.to_string());
    }
    m.delete(&3);
    assert_eq!(m.len(), 9);
    let got: BTreeSet<(u64, String)> = m.iter().map(|(k, v)| (k, (*v).clone())).collect();
    assert_eq!(got.len(), 9);
    assert!(!got.iter().any(|(k, _)| *k == 3));
    // iter promoted dirty, as range does; len does not change anything.
    let s = m.state();
    assert!(!s.amended && s.dirty_len.is_none());
    m.store(20, "x".into());
    let before = m.state();
    assert_eq!(m.len(), 10);
    assert_eq!(m.state(), before, "len changes nothing");
    m.clear();
    assert!(m.is_empty());
    assert_eq!(m.len(), 0);
    assert_eq!(m.iter().count(), 0);
    let s = m.state();
    assert_eq!((s.read_len, s.amended, s.misses), (0, false, 0));
    assert_eq!(m.load(&1), None);
    m.store(1, "again".into());
    assert_eq!(m.load(&1).as_deref().map(String::as_str), Some("again"));
    m.clear();
    m.clear(); // already clear
    assert!(m.is_empty());
    let std_like: HashMap<u64, String> = m.iter().map(|(k, v)| (k, (*v).clone())).collect();
    assert!(std_like.is_empty());
}

/// `hash` for a type whose lookups go through `HashAdapter`, so `Hash` is used.
#[test]
fn hash_adapter_lookup_types_hash_alike() {
    use std::hash::BuildHasher;
    let s = RandomState::new();
    assert_eq!(
        s.hash_one(Pair("a", "b")),
        s.hash_one(("a".to_string(), "b".to_string()))
    );
}
