//! Model-based property tests: random operation sequences that cross many grows run against
//! gomap and std's `HashMap`. After every step the contents must agree, and Go's invariants
//! must hold on the raw memory (see `common::check_invariants`). Every case also checks, with a
//! counting allocator, that the map frees everything it allocated.

mod common;

use std::collections::HashMap;
use std::fmt::Debug;
use std::hash::Hash;

use common::{check_invariants, Counting};
use gomap::{GoHasher, GoMap, HashAdapter, MapHasher, SeededRand};
use proptest::prelude::*;

#[derive(Clone, Debug)]
enum Op {
    Insert(u32, u32),
    InsertRange(u32, u16),
    Remove(u32),
    RemoveRange(u32, u16),
    Get(u32),
    Clear,
    Iterate,
    Retain(u32),
    Entry(u32, u32),
    TryInsert(u32, u32),
    Drain,
    Reserve(u16),
    Shrink,
}

fn op(keys: u32) -> impl Strategy<Value = Op> {
    // Under Miri, short ranges keep a case to seconds; natively they cross many grows.
    let range = if cfg!(miri) { 40u16 } else { 400 };
    let keys = if cfg!(miri) { keys.min(300) } else { keys };
    prop_oneof![
        30 => (0..keys, any::<u32>()).prop_map(|(k, v)| Op::Insert(k, v)),
        6 => (0..keys, 1u16..range).prop_map(|(k, n)| Op::InsertRange(k, n)),
        15 => (0..keys).prop_map(Op::Remove),
        3 => (0..keys, 1u16..range).prop_map(|(k, n)| Op::RemoveRange(k, n)),
        15 => (0..keys).prop_map(Op::Get),
        1 => Just(Op::Clear),
        3 => Just(Op::Iterate),
        2 => (2u32..7).prop_map(Op::Retain),
        5 => (0..keys, any::<u32>()).prop_map(|(k, v)| Op::Entry(k, v)),
        5 => (0..keys, any::<u32>()).prop_map(|(k, v)| Op::TryInsert(k, v)),
        1 => Just(Op::Drain),
        1 => (0u16..range * 5).prop_map(Op::Reserve),
        1 => Just(Op::Shrink),
    ]
}

/// How a test key and value are made from numbers.
trait Kind {
    type K: PartialEq + Eq + Hash + Clone + Debug;
    type V: PartialEq + Clone + Debug;
    type H: MapHasher<Self::K> + Clone;
    fn key(k: u32) -> Self::K;
    fn val(v: u32) -> Self::V;
    fn hasher() -> Self::H;
}

struct U64;
impl Kind for U64 {
    type K = u64;
    type V = u64;
    type H = GoHasher;
    fn key(k: u32) -> u64 {
        k as u64 * 0x9e37_79b9
    }
    fn val(v: u32) -> u64 {
        v as u64
    }
    fn hasher() -> GoHasher {
        GoHasher::with_hashkey(0x1234_5678_9abc_def1)
    }
}

/// Go string keys (pointerful, faststr delete rules) with heap values.
struct BoxStr;
impl Kind for BoxStr {
    type K = Box<str>;
    type V = String;
    type H = GoHasher;
    fn key(k: u32) -> Box<str> {
        format!("key-{k}").into()
    }
    fn val(v: u32) -> String {
        format!("v{v}")
    }
    fn hasher() -> GoHasher {
        GoHasher::new()
    }
}

/// Indirect keys and elems (> 128 bytes), with a std hasher through the adapter.
#[derive(Clone, Debug, PartialEq, Eq, Hash)]
struct Big([u8; 130], String);
struct Indirect;
impl Kind for Indirect {
    type K = Big;
    type V = [u64; 20];
    type H = HashAdapter<std::collections::hash_map::RandomState>;
    fn key(k: u32) -> Big {
        let mut b = [0u8; 130];
        b[..4].copy_from_slice(&k.to_le_bytes());
        Big(b, k.to_string())
    }
    fn val(v: u32) -> [u64; 20] {
        [v as u64; 20]
    }
    fn hasher() -> Self::H {
        HashAdapter(Default::default())
    }
}

/// u8 keys: a tiny key space, so tophash collisions and full buckets are the norm.
struct Byte;
impl Kind for Byte {
    type K = u8;
    type V = Vec<u8>;
    type H = GoHasher;
    fn key(k: u32) -> u8 {
        k as u8
    }
    fn val(v: u32) -> Vec<u8> {
        vec![v as u8; (v % 5) as usize]
    }
    fn hasher() -> GoHasher {
        GoHasher::new()
    }
}

fn run<T: Kind>(ops: &[Op], seed: u64, hint: usize) {
    let alloc = Counting::default();
    {
        let mut m: GoMap<T::K, T::V, T::H, Counting, SeededRand> =
            GoMap::from_parts(hint, T::hasher(), alloc.clone(), SeededRand::new(seed));
        let mut model: HashMap<T::K, T::V> = HashMap::new();
        for op in ops {
            match *op {
                Op::Insert(k, v) => {
                    assert_eq!(
                        m.insert(T::key(k), T::val(v)),
                        model.insert(T::key(k), T::val(v))
                    );
                }
                Op::InsertRange(k, n) => {
                    for k in k..k + n as u32 {
                        assert_eq!(
                            m.insert(T::key(k), T::val(k)),
                            model.insert(T::key(k), T::val(k))
                        );
                    }
                }
                Op::Remove(k) => {
                    assert_eq!(m.remove(&T::key(k)), model.remove(&T::key(k)));
                }
                Op::RemoveRange(k, n) => {
                    for k in k..k + n as u32 {
                        assert_eq!(m.remove_entry(&T::key(k)), model.remove_entry(&T::key(k)));
                    }
                }
                Op::Get(k) => {
                    assert_eq!(m.get(&T::key(k)), model.get(&T::key(k)));
                    assert_eq!(m.contains_key(&T::key(k)), model.contains_key(&T::key(k)));
                }
                Op::Clear => {
                    m.clear();
                    model.clear();
                }
                Op::Iterate => {}
                Op::Retain(p) => {
                    let mut seen = 0;
                    m.retain(|k, v| {
                        seen += 1;
                        assert_eq!(model.get(k), Some(&*v));
                        format!("{k:?}").len() as u32 % p != 0
                    });
                    assert_eq!(seen, model.len(), "retain visits every entry once");
                    model.retain(|k, _| format!("{k:?}").len() as u32 % p != 0);
                }
                Op::Entry(k, v) => {
                    let e = m.entry(T::key(k)).or_insert_with(|| T::val(v)).clone();
                    let f = model.entry(T::key(k)).or_insert_with(|| T::val(v)).clone();
                    assert_eq!(e, f);
                }
                Op::TryInsert(k, v) => {
                    let r = m.try_insert(T::key(k), T::val(v)).expect("memory");
                    assert_eq!(r, model.insert(T::key(k), T::val(v)));
                }
                Op::Drain => {
                    let mut got: Vec<(T::K, T::V)> = m.drain().collect();
                    assert_eq!(got.len(), model.len());
                    got.retain(|(k, v)| model.get(k) != Some(v));
                    assert!(got.is_empty());
                    model.clear();
                    assert!(m.is_empty());
                }
                Op::Reserve(n) => {
                    m.reserve(n as usize);
                }
                Op::Shrink => {
                    m.shrink_to_fit();
                }
            }
            check_invariants(&m);
            assert_eq!(m.len(), model.len());
            if matches!(op, Op::Iterate | Op::Reserve(_) | Op::Shrink | Op::Clear) {
                let mut n = 0;
                for (k, v) in m.iter() {
                    assert_eq!(model.get(k), Some(v), "{k:?}");
                    n += 1;
                }
                assert_eq!(n, model.len(), "iteration yields every entry exactly once");
            }
        }
        // Into-iteration yields each entry once, then the map is freed.
        let mut rest: HashMap<T::K, T::V> = HashMap::new();
        for (k, v) in m {
            assert!(rest.insert(k, v).is_none());
        }
        assert_eq!(rest, model);
    }
    alloc.assert_no_leak();
}

fn config() -> ProptestConfig {
    if cfg!(miri) {
        ProptestConfig {
            cases: 2,
            failure_persistence: None,
            ..ProptestConfig::default()
        }
    } else {
        ProptestConfig::with_cases(48)
    }
}

fn ops(keys: u32) -> impl Strategy<Value = Vec<Op>> {
    let len = if cfg!(miri) { 1..60 } else { 1..400 };
    proptest::collection::vec(op(keys), len)
}

proptest! {
    #![proptest_config(config())]

    #[test]
    fn model_u64(ops in ops(3000), seed in any::<u64>(), hint in 0usize..300) {
        run::<U64>(&ops, seed, hint);
    }

    #[test]
    fn model_box_str(ops in ops(2000), seed in any::<u64>(), hint in 0usize..100) {
        run::<BoxStr>(&ops, seed, hint);
    }

    #[test]
    fn model_indirect(ops in ops(600), seed in any::<u64>(), hint in 0usize..60) {
        run::<Indirect>(&ops, seed, hint);
    }

    #[test]
    fn model_u8(ops in ops(256), seed in any::<u64>(), hint in 0usize..20) {
        run::<Byte>(&ops, seed, hint);
    }
}
