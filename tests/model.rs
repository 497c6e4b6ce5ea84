//! Model-based property tests: random operation sequences that cross many grows run against
//! gomap and std's `HashMap`. After every step the contents must agree, and Go's invariants
//! must hold on the raw memory (see `common::check_invariants`). Every case also checks, with a
//! counting allocator, that the map frees everything it allocated.
//!
//! The same model runs over each allocator of `gomap::alloc` (see `AllocCase`): Go's size
//! classes, the counting allocator, a fixed arena and (with the `libc` feature) the C library.
//! There the counting allocator also checks, after every step, that the live bytes equal what
//! the map says it holds (`allocated_bytes`), and each allocator checks its own leaks at the
//! end. A second model (`PanicOp`) makes `Hash` and `Eq` panic during inserts and removes, and
//! checks that nothing leaks either.

// The tests need a newer Rust than the library's MSRV (std's extract_if and get_disjoint_mut
// are the model here).
#![allow(clippy::incompatible_msrv)]

mod common;

use std::collections::HashMap;
use std::fmt::Debug;
use std::hash::Hash;
use std::panic::{catch_unwind, AssertUnwindSafe};

use common::{check_invariants, Counting};
use gomap::alloc::{Allocator, Arena, CountingAlloc, Global, MemStats, SizeClassAlloc};
use gomap::{GoHasher, GoMap, HashAdapter, MapHasher, MapLookup, SeededRand};
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
    ShrinkTo(u16),
    ExtractIf(u32),
    GetDisjointMut(u32, u32, u32),
    /// `get_batch` and `contains_batch` over keys k, k + 1, ... (present and absent ones).
    GetBatch(u32, u16),
    /// `extend` (pipelined) with n pairs over about n/2 keys from k, each key twice with
    /// different values: the later pair wins, as in std.
    Extend(u32, u16, u32),
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
        1 => (0u16..range * 5).prop_map(Op::ShrinkTo),
        2 => (2u32..7).prop_map(Op::ExtractIf),
        4 => (0..keys, 0..keys, 0..keys).prop_map(|(a, b, c)| Op::GetDisjointMut(a, b, c)),
        4 => (0..keys, 1u16..range).prop_map(|(k, n)| Op::GetBatch(k, n)),
        4 => (0..keys, 1u16..range, any::<u32>()).prop_map(|(k, n, v)| Op::Extend(k, n, v)),
    ]
}

/// How a test key and value are made from numbers.
trait Kind {
    type K: PartialEq + Eq + Hash + Clone + Debug;
    type V: PartialEq + Clone + Debug;
    type H: MapHasher<Self::K> + MapLookup<Self::K, Self::K> + Clone;
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
    TestCounting::with(Model::<T>::new(ops, seed, hint));
}

/// Runs the model in `alloc`. `live` returns the allocator's live bytes, if it counts them;
/// they must equal the map's `allocated_bytes()` after every step.
fn run_in<T: Kind, A: Allocator>(
    ops: &[Op],
    seed: u64,
    hint: usize,
    alloc: A,
    live: &dyn Fn() -> Option<u64>,
) {
    {
        let mut m: GoMap<T::K, T::V, T::H, A, SeededRand> =
            GoMap::from_parts(hint, T::hasher(), alloc, SeededRand::new(seed));
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
                    let r = m.insert_fallible(T::key(k), T::val(v)).expect("memory");
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
                    assert!(m.capacity() >= m.len() + n as usize, "reserve makes room");
                }
                Op::Shrink => {
                    m.shrink_to_fit();
                    assert!(m.capacity() >= m.len());
                }
                Op::ShrinkTo(n) => {
                    let before = m.capacity();
                    m.shrink_to(n as usize);
                    model.shrink_to(n as usize);
                    let cap = m.capacity();
                    assert!(cap >= m.len() && cap >= before.min(n as usize) && cap <= before);
                }
                Op::ExtractIf(p) => {
                    let pick = |k: &T::K| format!("{k:?}").len() as u32 % p == 0;
                    let got: HashMap<T::K, T::V> = m.extract_if(|k, _| pick(k)).collect();
                    let want: HashMap<T::K, T::V> = model.extract_if(|k, _| pick(k)).collect();
                    assert_eq!(got, want, "extract_if takes what std's takes");
                }
                Op::GetBatch(k, n) => {
                    let keys: Vec<T::K> = (k..k + n as u32).map(T::key).collect();
                    let got: Vec<Option<&T::V>> = m.get_batch(&keys).collect();
                    let want: Vec<Option<&T::V>> = keys.iter().map(|k| model.get(k)).collect();
                    assert_eq!(got, want, "get_batch answers as get does, in order");
                    let got: Vec<bool> = m.contains_batch(keys.iter()).collect();
                    let want: Vec<bool> = keys.iter().map(|k| model.contains_key(k)).collect();
                    assert_eq!(got, want, "contains_batch answers as contains_key does");
                    assert_eq!(m.get_batch(&keys).len(), keys.len());
                }
                Op::Extend(k, n, v) => {
                    let half = n as u32 / 2 + 1;
                    let pairs: Vec<(T::K, T::V)> = (0..n as u32)
                        .map(|i| (T::key(k + i % half), T::val(v ^ i)))
                        .collect();
                    m.extend(pairs.clone());
                    model.extend(pairs);
                    for (k, v) in &model {
                        assert_eq!(m.get(k), Some(v), "extend: the last pair of a key wins");
                    }
                }
                Op::GetDisjointMut(a, b, c) => {
                    let (a, b, c) = (T::key(a), T::key(b), T::key(c));
                    let got = catch_unwind(AssertUnwindSafe(|| {
                        m.get_disjoint_mut([&a, &b, &c]).map(|v| v.cloned())
                    }));
                    let want = catch_unwind(AssertUnwindSafe(|| {
                        model.get_disjoint_mut([&a, &b, &c]).map(|v| v.cloned())
                    }));
                    match (got, want) {
                        (Ok(g), Ok(w)) => assert_eq!(g, w),
                        (Err(_), Err(_)) => {} // both panic on keys that find one entry
                        (g, w) => {
                            panic!("get_disjoint_mut: {:?} against std's {:?}", g.ok(), w.ok())
                        }
                    }
                }
            }
            check_invariants(&m);
            assert_eq!(m.len(), model.len());
            if let Some(live) = live() {
                assert_eq!(
                    live,
                    m.allocated_bytes() as u64,
                    "allocated_bytes() against the allocator's live bytes after {op:?}"
                );
            }
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
}

fn config() -> ProptestConfig {
    if cfg!(miri) {
        ProptestConfig {
            cases: 1,
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

/// As [`ops`], with shorter runs under Miri, for the kinds whose every operation is expensive
/// there (130-byte keys hashed with SipHash, boxed keys and values).
fn short_ops(keys: u32) -> impl Strategy<Value = Vec<Op>> {
    let len = if cfg!(miri) { 1..25 } else { 1..400 };
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
    fn model_indirect(ops in short_ops(600), seed in any::<u64>(), hint in 0usize..60) {
        run::<Indirect>(&ops, seed, hint);
    }

    #[test]
    fn model_u8(ops in ops(256), seed in any::<u64>(), hint in 0usize..20) {
        run::<Byte>(&ops, seed, hint);
    }
}

// ---------------------------------------------------------------------------------------------
// The allocators.

/// Something to run with a map in a given allocator.
trait Body {
    /// Runs with `alloc`; `live` returns the allocator's live bytes (if it counts them), which
    /// must equal the map's `allocated_bytes()` between operations.
    fn run<A: Allocator>(self, alloc: A, live: &dyn Fn() -> Option<u64>);
}

/// The model above, for key/value kind `T`.
struct Model<'a, T> {
    ops: &'a [Op],
    seed: u64,
    hint: usize,
    kind: std::marker::PhantomData<T>,
}

impl<'a, T: Kind> Model<'a, T> {
    fn new(ops: &'a [Op], seed: u64, hint: usize) -> Self {
        Model {
            ops,
            seed,
            hint,
            kind: std::marker::PhantomData,
        }
    }
}

impl<T: Kind> Body for Model<'_, T> {
    fn run<A: Allocator>(self, alloc: A, live: &dyn Fn() -> Option<u64>) {
        run_in::<T, A>(self.ops, self.seed, self.hint, alloc, live);
    }
}

/// An allocator under test: sets it up, runs a body with a map in it, then checks that the
/// map freed everything (and, for allocators that hold memory of their own, that they did).
trait AllocCase {
    fn with<B: Body>(body: B);
}

fn assert_no_leak(s: MemStats, what: &str) {
    assert_eq!(
        s.HeapAlloc, 0,
        "{what}: live bytes after the map was dropped ({s:?})"
    );
    assert_eq!(s.Mallocs, s.Frees, "{what}: mallocs != frees ({s:?})");
    assert_eq!(s.HeapObjects, 0, "{what}: live objects ({s:?})");
}

/// The tests' own counting allocator over the global heap (with failure injection, unused
/// here).
struct TestCounting;
impl AllocCase for TestCounting {
    fn with<B: Body>(body: B) {
        let alloc = Counting::default();
        body.run(alloc.clone(), &|| Some(alloc.live() as u64));
        alloc.assert_no_leak();
    }
}

/// `gomap::alloc::CountingAlloc` over the global heap.
struct CountingGlobal;
impl AllocCase for CountingGlobal {
    fn with<B: Body>(body: B) {
        let counting = CountingAlloc::new(Global);
        body.run(&counting, &|| Some(counting.live_bytes()));
        assert_no_leak(counting.read_mem_stats(), "CountingAlloc<Global>");
    }
}

/// Go's size classes over the global heap. The spans the size classes take from the heap are
/// counted too, and must all be returned.
struct SizeClasses;
impl AllocCase for SizeClasses {
    fn with<B: Body>(body: B) {
        let counting = CountingAlloc::new(SizeClassAlloc::new(CountingAlloc::new(Global)));
        body.run(&counting, &|| Some(counting.live_bytes()));
        assert_no_leak(counting.read_mem_stats(), "the map, in SizeClassAlloc");
        let classes = counting.into_inner();
        let s = classes.stats();
        assert_eq!(
            (
                s.small_objects,
                s.small_bytes,
                s.large_objects,
                s.large_bytes
            ),
            (0, 0, 0, 0),
            "SizeClassAlloc still counts live objects: {s:?}"
        );
        let parent = classes.into_parent();
        assert_no_leak(parent.read_mem_stats(), "SizeClassAlloc's spans");
    }
}

/// A fixed arena over a buffer (large enough for every model run).
struct FixedArena;
impl AllocCase for FixedArena {
    fn with<B: Body>(body: B) {
        let bytes = if cfg!(miri) { 1 << 20 } else { 4 << 20 };
        let mut buf = vec![0u8; bytes];
        let arena = Arena::new(&mut buf);
        let counting = CountingAlloc::new(&arena);
        body.run(&counting, &|| Some(counting.live_bytes()));
        assert_no_leak(counting.read_mem_stats(), "the map, in an Arena");
        assert_eq!(arena.used_bytes(), 0, "arena bytes still in use");
        assert!(
            arena.is_pristine(),
            "the arena's free blocks did not merge back"
        );
    }
}

/// The C library's allocator.
#[cfg(feature = "libc")]
struct Libc;
#[cfg(feature = "libc")]
impl AllocCase for Libc {
    fn with<B: Body>(body: B) {
        let counting = CountingAlloc::new(gomap::alloc::LibcAlloc);
        body.run(&counting, &|| Some(counting.live_bytes()));
        assert_no_leak(counting.read_mem_stats(), "CountingAlloc<LibcAlloc>");
    }
}

// ---------------------------------------------------------------------------------------------
// Panics in Hash and Eq during inserts and removes.

thread_local! {
    /// Hashing a `PanicKey` whose id is below this panics.
    static HASH_PANICS_BELOW: std::cell::Cell<u32> = const { std::cell::Cell::new(0) };
    /// Comparing a stored `PanicKey` with this id panics.
    static EQ_PANICS_ON: std::cell::Cell<Option<u32>> = const { std::cell::Cell::new(None) };
}

/// A key whose `Hash` and `Eq` panic on demand. Each is still a function of the key (a given
/// key either always panics or never does while a trigger is set), as the map requires.
#[derive(Clone, Debug, Eq)]
struct PanicKey(u32);

impl Hash for PanicKey {
    fn hash<S: std::hash::Hasher>(&self, state: &mut S) {
        if self.0 < HASH_PANICS_BELOW.with(|c| c.get()) {
            panic!("hash of key {}", self.0);
        }
        self.0.hash(state);
    }
}

impl PartialEq for PanicKey {
    fn eq(&self, other: &Self) -> bool {
        if EQ_PANICS_ON.with(|c| c.get()) == Some(self.0) {
            panic!("eq of key {}", self.0);
        }
        self.0 == other.0
    }
}

#[derive(Clone, Debug)]
enum PanicOp {
    Insert(u32, u32),
    Remove(u32),
    /// Insert while hashing any key below the bound panics (the new key's own hash, or an old
    /// key's during the evacuation the insert does).
    InsertHashPanic(u32, u32, u32),
    /// Remove while hashing any key below the bound panics.
    RemoveHashPanic(u32, u32),
    /// Insert while comparing the stored key with this id panics.
    InsertEqPanic(u32, u32, u32),
}

fn panic_ops() -> impl Strategy<Value = Vec<PanicOp>> {
    let keys = if cfg!(miri) { 120u32 } else { 600 };
    let op = prop_oneof![
        40 => (0..keys, any::<u32>()).prop_map(|(k, v)| PanicOp::Insert(k, v)),
        10 => (0..keys).prop_map(PanicOp::Remove),
        8 => (0..keys, any::<u32>(), 0..keys).prop_map(|(k, v, b)| PanicOp::InsertHashPanic(k, v, b)),
        4 => (0..keys, 0..keys).prop_map(|(k, b)| PanicOp::RemoveHashPanic(k, b)),
        4 => (0..keys, any::<u32>(), 0..keys).prop_map(|(k, v, e)| PanicOp::InsertEqPanic(k, v, e)),
    ];
    let len = if cfg!(miri) { 1..80 } else { 1..600 };
    proptest::collection::vec(op, len)
}

/// Runs `f` with a panic trigger set, and clears the trigger afterwards (also on unwind).
fn triggered<T>(below: u32, eq_on: Option<u32>, f: impl FnOnce() -> T) -> std::thread::Result<T> {
    struct Clear;
    impl Drop for Clear {
        fn drop(&mut self) {
            HASH_PANICS_BELOW.with(|c| c.set(0));
            EQ_PANICS_ON.with(|c| c.set(None));
        }
    }
    let _clear = Clear;
    HASH_PANICS_BELOW.with(|c| c.set(below));
    EQ_PANICS_ON.with(|c| c.set(eq_on));
    catch_unwind(AssertUnwindSafe(f))
}

/// A model run in which some inserts and removes panic: a panicking operation must leave the
/// map as it was, every other one must agree with std's `HashMap`, and (checked by the
/// `AllocCase`) dropping the map afterwards must free everything.
struct PanicModel<'a> {
    ops: &'a [PanicOp],
    seed: u64,
}

impl Body for PanicModel<'_> {
    fn run<A: Allocator>(self, alloc: A, live: &dyn Fn() -> Option<u64>) {
        type Std = HashAdapter<std::collections::hash_map::RandomState>;
        let mut m: GoMap<PanicKey, String, Std, A, SeededRand> = GoMap::from_parts(
            0,
            HashAdapter(Default::default()),
            alloc,
            SeededRand::new(self.seed),
        );
        let mut model: HashMap<u32, String> = HashMap::new();
        for op in self.ops {
            match *op {
                PanicOp::Insert(k, v) => {
                    assert_eq!(
                        m.insert(PanicKey(k), v.to_string()),
                        model.insert(k, v.to_string())
                    );
                }
                PanicOp::Remove(k) => {
                    assert_eq!(m.remove(&PanicKey(k)), model.remove(&k));
                }
                PanicOp::InsertHashPanic(k, v, below) => {
                    // On a panic the map must be unchanged: checked below.
                    let r = triggered(below, None, || m.insert(PanicKey(k), v.to_string()));
                    if let Ok(old) = r {
                        assert!(k >= below, "hashing key {k} did not panic");
                        assert_eq!(old, model.insert(k, v.to_string()));
                    }
                }
                PanicOp::RemoveHashPanic(k, below) => {
                    // (A remove from an empty map need not hash the key.)
                    if let Ok(old) = triggered(below, None, || m.remove(&PanicKey(k))) {
                        assert_eq!(old, model.remove(&k));
                    }
                }
                PanicOp::InsertEqPanic(k, v, on) => {
                    if let Ok(old) = triggered(0, Some(on), || m.insert(PanicKey(k), v.to_string()))
                    {
                        assert_eq!(old, model.insert(k, v.to_string()));
                    }
                }
            }
            check_invariants(&m);
            assert_eq!(m.len(), model.len(), "after {op:?}");
            for (k, v) in &model {
                assert_eq!(m.get(&PanicKey(*k)), Some(v), "key {k} after {op:?}");
            }
            if let Some(live) = live() {
                assert_eq!(live, m.allocated_bytes() as u64, "after {op:?}");
            }
        }
    }
}

fn alloc_config() -> ProptestConfig {
    if cfg!(miri) {
        ProptestConfig {
            cases: 1,
            failure_persistence: None,
            ..ProptestConfig::default()
        }
    } else {
        ProptestConfig::with_cases(24)
    }
}

proptest! {
    #![proptest_config(alloc_config())]

    #[test]
    fn model_panics(ops in panic_ops(), seed in any::<u64>()) {
        TestCounting::with(PanicModel { ops: &ops, seed });
    }
}

/// The model tests (every key kind, and the panic model) over one allocator.
macro_rules! alloc_models {
    ($($(#[$attr:meta])* $case:ident => $name:ident;)*) => {$(
        $(#[$attr])*
        mod $name {
            use super::*;

            proptest! {
                #![proptest_config(alloc_config())]

                #[test]
                fn u64(ops in ops(3000), seed in any::<u64>(), hint in 0usize..300) {
                    $case::with(Model::<U64>::new(&ops, seed, hint));
                }

                // Under Miri only the u64 and panic models run: they cover every kind of
                // request a map makes (zeroed buckets and arrays, uninitialized lists, frees),
                // and the other kinds already run under Miri over the tests' allocator.
                #[test]
                #[cfg_attr(miri, ignore)]
                fn box_str(ops in ops(2000), seed in any::<u64>(), hint in 0usize..100) {
                    $case::with(Model::<BoxStr>::new(&ops, seed, hint));
                }

                #[test]
                #[cfg_attr(miri, ignore)]
                fn indirect(ops in ops(600), seed in any::<u64>(), hint in 0usize..60) {
                    $case::with(Model::<Indirect>::new(&ops, seed, hint));
                }

                #[test]
                #[cfg_attr(miri, ignore)]
                fn u8(ops in ops(256), seed in any::<u64>(), hint in 0usize..20) {
                    $case::with(Model::<Byte>::new(&ops, seed, hint));
                }

                #[test]
                fn panics(ops in panic_ops(), seed in any::<u64>()) {
                    $case::with(PanicModel { ops: &ops, seed });
                }
            }
        }
    )*};
}

alloc_models! {
    CountingGlobal => counting_alloc;
    SizeClasses => size_class_alloc;
    FixedArena => arena;
    #[cfg(feature = "libc")]
    Libc => libc_alloc;
}

// ---------------------------------------------------------------------------------------------
// GoSet against std's HashSet.

#[derive(Clone, Debug)]
enum SetOp {
    Insert(u32),
    InsertRange(u32, u16),
    Remove(u32),
    Take(u32),
    Replace(u32),
    Contains(u32),
    Retain(u32),
    ExtractIf(u32),
    /// Builds a second set of `n` values from `k` on (step 3) and compares every set
    /// operation with it.
    Ops(u32, u16),
    ShrinkTo(u16),
    Clear,
    Drain,
}

fn set_ops() -> impl Strategy<Value = Vec<SetOp>> {
    let keys = if cfg!(miri) { 200u32 } else { 2000 };
    let range = if cfg!(miri) { 30u16 } else { 300 };
    let op = prop_oneof![
        30 => (0..keys).prop_map(SetOp::Insert),
        6 => (0..keys, 1u16..range).prop_map(|(k, n)| SetOp::InsertRange(k, n)),
        12 => (0..keys).prop_map(SetOp::Remove),
        4 => (0..keys).prop_map(SetOp::Take),
        4 => (0..keys).prop_map(SetOp::Replace),
        10 => (0..keys).prop_map(SetOp::Contains),
        2 => (2u32..7).prop_map(SetOp::Retain),
        2 => (2u32..7).prop_map(SetOp::ExtractIf),
        4 => (0..keys, 0u16..range).prop_map(|(k, n)| SetOp::Ops(k, n)),
        1 => (0u16..range * 4).prop_map(SetOp::ShrinkTo),
        1 => Just(SetOp::Clear),
        1 => Just(SetOp::Drain),
    ];
    let len = if cfg!(miri) { 1..40 } else { 1..300 };
    proptest::collection::vec(op, len)
}

type Set = gomap::GoSet<u64, GoHasher, Global, SeededRand>;

fn new_set(seed: u64) -> Set {
    gomap::GoSet::from_parts(
        0,
        GoHasher::with_hashkey(seed | 1),
        Global,
        SeededRand::new(seed),
    )
}

fn sorted_vec<'a>(it: impl Iterator<Item = &'a u64>) -> Vec<u64> {
    let mut v: Vec<u64> = it.copied().collect();
    v.sort_unstable();
    v
}

fn run_set(ops: &[SetOp], seed: u64) {
    use std::collections::HashSet;
    let key = |k: u32| k as u64 * 0x9e37_79b9;
    let mut s = new_set(seed);
    let mut model: HashSet<u64> = HashSet::new();
    for op in ops {
        match *op {
            SetOp::Insert(k) => assert_eq!(s.insert(key(k)), model.insert(key(k))),
            SetOp::InsertRange(k, n) => {
                for k in k..k + n as u32 {
                    assert_eq!(s.insert(key(k)), model.insert(key(k)));
                }
            }
            SetOp::Remove(k) => assert_eq!(s.remove(&key(k)), model.remove(&key(k))),
            SetOp::Take(k) => assert_eq!(s.take(&key(k)), model.take(&key(k))),
            SetOp::Replace(k) => assert_eq!(s.replace(key(k)), model.replace(key(k))),
            SetOp::Contains(k) => {
                assert_eq!(s.contains(&key(k)), model.contains(&key(k)));
                assert_eq!(s.get(&key(k)), model.get(&key(k)));
            }
            SetOp::Retain(p) => {
                s.retain(|v| v % p as u64 != 0);
                model.retain(|v| v % p as u64 != 0);
            }
            SetOp::ExtractIf(p) => {
                let got: HashSet<u64> = s.extract_if(|v| v % p as u64 == 1).collect();
                let want: HashSet<u64> = model.extract_if(|v| v % p as u64 == 1).collect();
                assert_eq!(got, want);
            }
            SetOp::Ops(k, n) => {
                let mut o = new_set(seed ^ 0x55);
                let mut om: HashSet<u64> = HashSet::new();
                for i in 0..n as u32 {
                    o.insert(key(k + 3 * i));
                    om.insert(key(k + 3 * i));
                }
                assert_eq!(sorted_vec(s.union(&o)), sorted_vec(model.union(&om)));
                assert_eq!(
                    sorted_vec(s.intersection(&o)),
                    sorted_vec(model.intersection(&om))
                );
                assert_eq!(
                    sorted_vec(s.difference(&o)),
                    sorted_vec(model.difference(&om))
                );
                assert_eq!(
                    sorted_vec(o.difference(&s)),
                    sorted_vec(om.difference(&model))
                );
                assert_eq!(
                    sorted_vec(s.symmetric_difference(&o)),
                    sorted_vec(model.symmetric_difference(&om))
                );
                assert_eq!(s.is_disjoint(&o), model.is_disjoint(&om));
                assert_eq!(s.is_subset(&o), model.is_subset(&om));
                assert_eq!(s.is_superset(&o), model.is_superset(&om));
                assert_eq!(
                    sorted_vec((&s | &o).iter()),
                    sorted_vec((&model | &om).iter())
                );
                assert_eq!(
                    sorted_vec((&s & &o).iter()),
                    sorted_vec((&model & &om).iter())
                );
                assert_eq!(
                    sorted_vec((&s - &o).iter()),
                    sorted_vec((&model - &om).iter())
                );
                assert_eq!(
                    sorted_vec((&s ^ &o).iter()),
                    sorted_vec((&model ^ &om).iter())
                );
                check_invariants(o.as_map());
            }
            SetOp::ShrinkTo(n) => {
                let before = s.capacity();
                s.shrink_to(n as usize);
                model.shrink_to(n as usize);
                let cap = s.capacity();
                assert!(cap >= s.len() && cap >= before.min(n as usize) && cap <= before);
            }
            SetOp::Clear => {
                s.clear();
                model.clear();
            }
            SetOp::Drain => {
                let got: HashSet<u64> = s.drain().collect();
                assert_eq!(got, std::mem::take(&mut model));
            }
        }
        check_invariants(s.as_map());
        assert_eq!(s.len(), model.len());
        assert_eq!(
            sorted_vec(s.iter()),
            sorted_vec(model.iter()),
            "after {op:?}"
        );
    }
    let rest: HashSet<u64> = s.into_iter().collect();
    assert_eq!(rest, model);
}

proptest! {
    #![proptest_config(config())]

    #[test]
    fn model_go_set(ops in set_ops(), seed in any::<u64>()) {
        run_set(&ops, seed);
    }
}
