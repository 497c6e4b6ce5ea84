//! Panic safety, swept over where the panic happens.
//!
//! Keys whose `Hash`, `Eq` or `Clone` panic on the N-th call from a point on (counted across
//! all keys, not a property of one key), and values whose `Drop` or `Clone` does, are run
//! through every public operation of `GoMap`, on maps that are empty, small, mid-grow,
//! mid-same-size-grow, with indirect keys and with zero-sized values. For every N until the
//! operation runs through without a panic, after the caught panic:
//! - every entry that was in the map and that the operation did not remove is still found by
//!   `get` and visited exactly once by iteration;
//! - `len()` equals the number of entries iteration visits;
//! - every key and value is dropped exactly once (each object has a serial number that its
//!   `Drop` checks off), and the allocator has nothing left when the map is gone;
//! - the map is usable: `HASH_WRITING` is clear, Go's invariants hold (the model tests'
//!   checker), and inserts (through a grow) and removes work.
//!
//! The three reproducers of the bug reports are kept as named regression tests.

mod common;

use std::cell::{Cell, RefCell};
use std::collections::hash_map::DefaultHasher;
use std::collections::{BTreeSet, HashSet};
use std::fmt::Debug;
use std::hash::{BuildHasherDefault, Hash, Hasher};
use std::panic::{catch_unwind, AssertUnwindSafe};

use common::{check_invariants, Counting};
use gomap::{Flags, GoMap, HashAdapter, SeededRand};

type Hb = HashAdapter<BuildHasherDefault<DefaultHasher>>;

// ----- faults and object tracking ---------------------------------------------------------

/// Where user code panics: the N-th call from now (0: never).
#[derive(Copy, Clone, Debug, PartialEq, Eq)]
enum Fault {
    Hash,
    Eq,
    Clone,
    Drop,
}

thread_local! {
    static COUNTDOWN: [Cell<u64>; 4] = const { [Cell::new(0), Cell::new(0), Cell::new(0), Cell::new(0)] };
    static LIVE: RefCell<HashSet<u64>> = RefCell::new(HashSet::new());
    static NEXT_SERIAL: Cell<u64> = const { Cell::new(1) };
    static BAD_DROPS: Cell<u64> = const { Cell::new(0) };
}

fn arm(f: Fault, n: u64) {
    COUNTDOWN.with(|c| c[f as usize].set(n));
}

fn disarm() {
    COUNTDOWN.with(|c| c.iter().for_each(|x| x.set(0)));
}

/// Counts a call of user code of kind `f`, and panics if it is the armed one.
fn tick(f: Fault) {
    let fire = COUNTDOWN.with(|c| {
        let n = c[f as usize].get();
        if n == 0 {
            return false;
        }
        c[f as usize].set(n - 1);
        n == 1
    });
    if fire {
        panic!("injected {f:?} panic");
    }
}

/// A tracked object: created once, dropped once.
#[derive(Debug)]
struct Tracked(u64);

impl Tracked {
    fn new() -> Self {
        let s = NEXT_SERIAL.with(|n| {
            let s = n.get();
            n.set(s + 1);
            s
        });
        LIVE.with(|l| l.borrow_mut().insert(s));
        Tracked(s)
    }
}

impl Drop for Tracked {
    fn drop(&mut self) {
        if !LIVE.with(|l| l.borrow_mut().remove(&self.0)) {
            BAD_DROPS.with(|b| b.set(b.get() + 1));
        }
    }
}

fn live_objects() -> usize {
    LIVE.with(|l| l.borrow().len())
}

fn assert_all_dropped_once() {
    assert_eq!(
        BAD_DROPS.with(|b| b.get()),
        0,
        "an object was dropped twice"
    );
    assert_eq!(live_objects(), 0, "objects leaked (never dropped)");
}

/// A key of `PAD` extra bytes (past 128 in all, Go stores it indirectly).
struct Key<const PAD: usize> {
    id: u64,
    pad: [u8; PAD],
    _t: Tracked,
}

impl<const PAD: usize> Key<PAD> {
    fn new(id: u64) -> Self {
        Key {
            id,
            pad: [id as u8; PAD],
            _t: Tracked::new(),
        }
    }
}

impl<const PAD: usize> Debug for Key<PAD> {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "Key({})", self.id)
    }
}

impl<const PAD: usize> Hash for Key<PAD> {
    fn hash<S: Hasher>(&self, state: &mut S) {
        tick(Fault::Hash);
        self.id.hash(state);
    }
}

impl<const PAD: usize> PartialEq for Key<PAD> {
    fn eq(&self, o: &Self) -> bool {
        tick(Fault::Eq);
        self.id == o.id && self.pad == o.pad
    }
}
impl<const PAD: usize> Eq for Key<PAD> {}

impl<const PAD: usize> Clone for Key<PAD> {
    fn clone(&self) -> Self {
        tick(Fault::Clone);
        Key {
            id: self.id,
            pad: self.pad,
            _t: Tracked::new(),
        }
    }
}

/// `entry_ref` turns the lookup key into a stored one by cloning it.
impl<const PAD: usize> From<&Key<PAD>> for Key<PAD> {
    fn from(k: &Key<PAD>) -> Self {
        k.clone()
    }
}

/// A value that knows its key's id.
trait Val: Sized {
    fn new(id: u64) -> Self;
    fn id(&self) -> Option<u64>;
}

/// A value with a tracked drop that may panic.
#[derive(Debug)]
struct V {
    id: u64,
    _t: Tracked,
}

impl Val for V {
    fn new(id: u64) -> Self {
        V {
            id,
            _t: Tracked::new(),
        }
    }
    fn id(&self) -> Option<u64> {
        Some(self.id)
    }
}

impl Clone for V {
    fn clone(&self) -> Self {
        tick(Fault::Clone);
        V::new(self.id)
    }
}

impl Drop for V {
    fn drop(&mut self) {
        if !std::thread::panicking() {
            tick(Fault::Drop);
        }
    }
}

thread_local! {
    static ZST_LIVE: Cell<i64> = const { Cell::new(0) };
    static ZST_NEGATIVE: Cell<bool> = const { Cell::new(false) };
}

/// A zero-sized value: counted, not numbered.
#[derive(Debug)]
struct Z;

impl Val for Z {
    fn new(_: u64) -> Self {
        ZST_LIVE.with(|z| z.set(z.get() + 1));
        Z
    }
    fn id(&self) -> Option<u64> {
        None
    }
}

impl Clone for Z {
    fn clone(&self) -> Self {
        tick(Fault::Clone);
        Z::new(0)
    }
}

impl Drop for Z {
    fn drop(&mut self) {
        ZST_LIVE.with(|z| {
            z.set(z.get() - 1);
            if z.get() < 0 {
                ZST_NEGATIVE.with(|n| n.set(true));
            }
        });
        if !std::thread::panicking() {
            tick(Fault::Drop);
        }
    }
}

fn assert_zsts_dropped_once() {
    assert!(
        !ZST_NEGATIVE.with(|n| n.get()),
        "a zero-sized value was dropped twice"
    );
    assert_eq!(ZST_LIVE.with(|z| z.get()), 0, "zero-sized values leaked");
}

/// A cheap hasher for the sweeps (SipHash costs most of a run under Miri): the seed and the
/// key's u64 are mixed by multiplication.
#[derive(Clone, Default)]
struct Mix;
struct MixHasher(u64);
impl std::hash::BuildHasher for Mix {
    type Hasher = MixHasher;
    fn build_hasher(&self) -> MixHasher {
        MixHasher(0)
    }
}
impl Hasher for MixHasher {
    fn write(&mut self, bytes: &[u8]) {
        for &b in bytes {
            self.write_u64(b as u64);
        }
    }
    fn write_u64(&mut self, x: u64) {
        self.0 = (self.0 ^ x)
            .wrapping_mul(0x9E37_79B9_7F4A_7C15)
            .rotate_left(29);
    }
    fn finish(&self) -> u64 {
        self.0.wrapping_mul(0xD6E8_FEB8_6659_FD93) ^ (self.0 >> 31)
    }
}

type Map<const PAD: usize, W> = GoMap<Key<PAD>, W, HashAdapter<Mix>, Counting, SeededRand>;

fn new_map<const PAD: usize, W: Val>(alloc: &Counting) -> Map<PAD, W> {
    GoMap::from_parts(0, HashAdapter::default(), alloc.clone(), SeededRand::new(1))
}

// ----- map states ---------------------------------------------------------------------------

#[derive(Copy, Clone, Debug)]
enum State {
    Empty,
    Small,
    MidGrow,
    MidSameSizeGrow,
}

/// Entries a mid-grow map holds at least (so that it grows from B = 3, or B = 1 under Miri).
fn mid_grow_len() -> usize {
    if cfg!(miri) {
        9
    } else {
        27
    }
}

/// Builds a map in `state`; returns it with its key ids.
fn build<const PAD: usize, W: Val>(state: State, alloc: &Counting) -> (Map<PAD, W>, BTreeSet<u64>) {
    let mut m = new_map::<PAD, W>(alloc);
    let mut ids = BTreeSet::new();
    match state {
        State::Empty => {}
        State::Small => {
            for id in 0..5 {
                m.insert(Key::new(id), W::new(id));
                ids.insert(id);
            }
        }
        State::MidGrow => {
            let mut id = 0;
            while !(m.header().growing() && m.header().nevacuate() > 0 && m.len() >= mid_grow_len())
            {
                m.insert(Key::new(id), W::new(id));
                ids.insert(id);
                id += 1;
            }
        }
        State::MidSameSizeGrow => {
            // A sliding window of keys at a high load: holes and overflow buckets accumulate
            // until Go's "too many overflow buckets" rule starts a same-size grow.
            let window = if cfg!(miri) { 12 } else { 51 };
            let mut id = 0u64;
            while !(m.header().growing() && m.header().same_size_grow()) {
                assert!(id < 100_000, "no same-size grow");
                m.insert(Key::new(id), W::new(id));
                ids.insert(id);
                if id >= window {
                    let old = id - window;
                    m.remove(&Key::<PAD>::new(old));
                    ids.remove(&old);
                }
                id += 1;
            }
        }
    }
    (m, ids)
}

// ----- operations ---------------------------------------------------------------------------

/// What an operation may leave in the map: at least `must`, at most `may` (by id).
struct Bounds {
    must: BTreeSet<u64>,
    may: BTreeSet<u64>,
}

/// A fresh id for new keys.
const NEW: u64 = 1_000_000;

/// The operations under test. Each runs on `m` (or consumes it) and returns the bounds of what
/// the map may hold afterwards, whether or not it panicked. `None`: the map is gone.
type OpFn<const PAD: usize, W> =
    fn(&mut Option<Map<PAD, W>>, &BTreeSet<u64>, &RefCell<BTreeSet<u64>>) -> ();

struct Op<const PAD: usize, W: 'static> {
    name: &'static str,
    run: OpFn<PAD, W>,
    /// (must, may) from the ids before, and the ids the operation said it removed.
    bounds: fn(&BTreeSet<u64>, &BTreeSet<u64>, bool) -> Option<Bounds>,
}

fn same(before: &BTreeSet<u64>, _: &BTreeSet<u64>, _: bool) -> Option<Bounds> {
    Some(Bounds {
        must: before.clone(),
        may: before.clone(),
    })
}

fn plus_new(before: &BTreeSet<u64>, _: &BTreeSet<u64>, panicked: bool) -> Option<Bounds> {
    let mut with = before.clone();
    with.insert(NEW);
    // A write that panics changes nothing: the key is in only if the write completed.
    Some(if panicked {
        Bounds {
            must: before.clone(),
            may: before.clone(),
        }
    } else {
        Bounds {
            must: with.clone(),
            may: with,
        }
    })
}

fn minus_removed(
    before: &BTreeSet<u64>,
    removed: &BTreeSet<u64>,
    panicked: bool,
) -> Option<Bounds> {
    let rest: BTreeSet<u64> = before.difference(removed).copied().collect();
    Some(if panicked {
        // The last entry asked for may or may not be gone.
        Bounds {
            must: rest,
            may: before.clone(),
        }
    } else {
        Bounds {
            must: rest.clone(),
            may: rest,
        }
    })
}

/// The keys `extend` adds in the sweep (besides re-inserting existing ones).
const EXTEND_NEW: std::ops::Range<u64> = NEW + 10..NEW + 22;

fn plus_extended(before: &BTreeSet<u64>, _: &BTreeSet<u64>, panicked: bool) -> Option<Bounds> {
    let mut with = before.clone();
    with.extend(EXTEND_NEW);
    // The pairs before the panic are in, the rest are not (and were dropped).
    Some(Bounds {
        must: if panicked {
            before.clone()
        } else {
            with.clone()
        },
        may: with,
    })
}

fn emptied(_: &BTreeSet<u64>, _: &BTreeSet<u64>, _: bool) -> Option<Bounds> {
    Some(Bounds {
        must: BTreeSet::new(),
        may: BTreeSet::new(),
    })
}

fn gone(_: &BTreeSet<u64>, _: &BTreeSet<u64>, _: bool) -> Option<Bounds> {
    None
}

fn ops<const PAD: usize, W: Val + Clone + 'static>() -> Vec<Op<PAD, W>> {
    fn m<const PAD: usize, W>(o: &mut Option<Map<PAD, W>>) -> &mut Map<PAD, W> {
        o.as_mut().unwrap()
    }
    vec![
        Op {
            name: "insert new",
            run: |o, _, _| {
                m(o).insert(Key::new(NEW), W::new(NEW));
            },
            bounds: plus_new,
        },
        Op {
            name: "insert existing",
            run: |o, ids, _| {
                if let Some(&id) = ids.iter().next() {
                    m(o).insert(Key::new(id), W::new(id));
                }
            },
            bounds: same,
        },
        Op {
            name: "insert_fallible new",
            run: |o, _, _| {
                let _ = m(o).insert_fallible(Key::new(NEW), W::new(NEW));
            },
            bounds: plus_new,
        },
        Op {
            name: "entry or_insert_with",
            run: |o, _, _| {
                m(o).entry(Key::new(NEW)).or_insert_with(|| W::new(NEW));
            },
            bounds: plus_new,
        },
        Op {
            name: "get and contains_key",
            run: |o, ids, _| {
                let mm = m(o);
                for id in ids.iter().take(4) {
                    assert!(mm.get(&Key::new(*id)).is_some());
                }
                assert!(!mm.contains_key(&Key::new(NEW)));
            },
            bounds: same,
        },
        Op {
            name: "remove",
            run: |o, ids, removed| {
                for id in ids.iter().take(3) {
                    removed.borrow_mut().insert(*id);
                    m(o).remove(&Key::new(*id));
                }
            },
            bounds: minus_removed,
        },
        Op {
            name: "retain",
            run: |o, _, removed| {
                m(o).retain(|k, _| {
                    if k.id % 3 == 0 {
                        removed.borrow_mut().insert(k.id);
                        false
                    } else {
                        true
                    }
                });
            },
            bounds: minus_removed,
        },
        Op {
            name: "reserve",
            run: |o, _, _| m(o).reserve(300),
            bounds: same,
        },
        Op {
            name: "try_reserve",
            run: |o, _, _| {
                let _ = m(o).try_reserve(300);
            },
            bounds: same,
        },
        Op {
            name: "shrink_to_fit",
            run: |o, _, _| m(o).shrink_to_fit(),
            bounds: same,
        },
        Op {
            name: "clone",
            run: |o, ids, _| {
                let c = m(o).clone();
                assert_eq!(c.len(), ids.len());
            },
            bounds: same,
        },
        Op {
            name: "iter",
            run: |o, ids, _| {
                assert_eq!(m(o).iter().count(), ids.len());
                assert_eq!(m(o).keys().fold(0, |n, _| n + 1), ids.len());
            },
            bounds: same,
        },
        Op {
            name: "iter_mut",
            run: |o, _, _| m(o).values_mut().for_each(|_| ()),
            bounds: same,
        },
        Op {
            name: "drain",
            run: |o, _, _| {
                let mut d = m(o).drain();
                // Take some, drop the rest with the Drain.
                let _ = d.next();
                let _ = d.next();
            },
            bounds: emptied,
        },
        Op {
            name: "clear",
            run: |o, _, _| m(o).clear(),
            bounds: emptied,
        },
        Op {
            name: "into_iter",
            run: |o, _, _| {
                let mut it = o.take().unwrap().into_iter();
                let _ = it.next();
            },
            bounds: gone,
        },
        Op {
            name: "drop",
            run: |o, _, _| drop(o.take()),
            bounds: gone,
        },
    ]
}

/// The operations of the std/hashbrown API that gomap added for parity with them.
fn api_ops<const PAD: usize, W: Val + Clone + 'static>() -> Vec<Op<PAD, W>> {
    fn m<const PAD: usize, W>(o: &mut Option<Map<PAD, W>>) -> &mut Map<PAD, W> {
        o.as_mut().unwrap()
    }
    vec![
        Op {
            name: "std try_insert new",
            run: |o, _, _| {
                let _ = m(o).try_insert(Key::new(NEW), W::new(NEW));
            },
            bounds: plus_new,
        },
        Op {
            name: "insert_unique_unchecked",
            run: |o, _, _| {
                // SAFETY: NEW is not in the map.
                unsafe { m(o).insert_unique_unchecked(Key::new(NEW), W::new(NEW)) };
            },
            bounds: plus_new,
        },
        Op {
            name: "entry insert_entry",
            run: |o, _, _| {
                m(o).entry(Key::new(NEW)).insert_entry(W::new(NEW));
            },
            bounds: plus_new,
        },
        Op {
            name: "entry_ref or_insert_with",
            run: |o, _, _| {
                m(o).entry_ref(&Key::new(NEW))
                    .or_insert_with(|| W::new(NEW));
            },
            bounds: plus_new,
        },
        Op {
            name: "entry remove",
            run: |o, ids, removed| {
                for id in ids.iter().take(3) {
                    removed.borrow_mut().insert(*id);
                    if let gomap::Entry::Occupied(e) = m(o).entry(Key::new(*id)) {
                        e.remove();
                    }
                }
            },
            bounds: minus_removed,
        },
        Op {
            name: "entry_ref remove",
            run: |o, ids, removed| {
                for id in ids.iter().take(3) {
                    removed.borrow_mut().insert(*id);
                    if let gomap::EntryRef::Occupied(e) = m(o).entry_ref(&Key::new(*id)) {
                        e.remove_entry();
                    }
                }
            },
            bounds: minus_removed,
        },
        Op {
            name: "and_replace_entry_with",
            run: |o, ids, removed| {
                for (n, id) in ids.iter().take(4).enumerate() {
                    // Keep every other entry (a new value), remove the rest. A panic in the
                    // closure (the old value's drop) removes the entry too.
                    removed.borrow_mut().insert(*id);
                    m(o).entry(Key::new(*id)).and_replace_entry_with(|k, v| {
                        drop(v);
                        (n % 2 == 0).then(|| W::new(k.id))
                    });
                    if n % 2 == 0 {
                        removed.borrow_mut().remove(id);
                    }
                }
            },
            bounds: minus_removed,
        },
        Op {
            name: "extract_if",
            run: |o, _, removed| {
                m(o).extract_if(|k, _| {
                    let take = k.id % 3 == 0;
                    if take {
                        removed.borrow_mut().insert(k.id);
                    }
                    take
                })
                .for_each(drop);
            },
            bounds: minus_removed,
        },
        Op {
            name: "extract_if dropped early",
            run: |o, _, removed| {
                let mut it = m(o).extract_if(|k, _| {
                    removed.borrow_mut().insert(k.id);
                    true
                });
                let _ = it.next();
                let _ = it.next();
            },
            // Only what the predicate saw can be gone; its last pick may not be yet.
            bounds: |before, removed, _| minus_removed(before, removed, true),
        },
        Op {
            name: "shrink_to",
            run: |o, _, _| m(o).shrink_to(10),
            bounds: same,
        },
        Op {
            name: "extend (pipelined)",
            run: |o, ids, _| {
                // New keys with two existing ones among them: more pairs than the batch
                // hashes ahead, so a panic can leave pairs hashed but not inserted.
                let old: Vec<u64> = ids.iter().take(2).copied().collect();
                let pairs = EXTEND_NEW
                    .clone()
                    .take(5)
                    .chain(old)
                    .chain(EXTEND_NEW.clone().skip(5))
                    .map(|id| (Key::new(id), W::new(id)));
                m(o).extend(pairs);
            },
            bounds: plus_extended,
        },
        Op {
            name: "get_batch and contains_batch",
            run: |o, ids, _| {
                let mm = m(o);
                let keys: Vec<Key<PAD>> = ids
                    .iter()
                    .take(12)
                    .copied()
                    .chain([NEW, NEW + 1])
                    .map(Key::new)
                    .collect();
                let found = mm.get_batch(&keys).filter(|v| v.is_some()).count();
                assert_eq!(found, ids.len().min(12));
                let found = mm.contains_batch(&keys).filter(|&b| b).count();
                assert_eq!(found, ids.len().min(12));
            },
            bounds: same,
        },
        Op {
            name: "get_disjoint_mut",
            run: |o, ids, _| {
                let first = ids.iter().next().copied().unwrap_or(NEW);
                let [a, b] = m(o).get_disjoint_mut([&Key::new(first), &Key::new(NEW + 1)]);
                assert!(b.is_none());
                if let Some(a) = a {
                    *a = W::new(first);
                }
            },
            bounds: same,
        },
    ]
}

// ----- the checks ---------------------------------------------------------------------------

/// The four points, on a map that survived an operation.
fn check_after<const PAD: usize, W: Val>(m: &mut Map<PAD, W>, b: &Bounds, what: &str) {
    assert!(
        !m.header().flags().contains(Flags::HASH_WRITING),
        "{what}: HASH_WRITING left set"
    );
    check_invariants(m);
    let mut seen = BTreeSet::new();
    let mut visits = 0;
    for (k, v) in m.iter() {
        visits += 1;
        assert!(seen.insert(k.id), "{what}: key {} visited twice", k.id);
        if let Some(vid) = v.id() {
            assert_eq!(vid, k.id, "{what}: key {} holds the value of {vid}", k.id);
        }
    }
    assert_eq!(
        m.len(),
        visits,
        "{what}: len() is not what iteration visits"
    );
    assert!(
        b.must.is_subset(&seen),
        "{what}: entries lost: {:?}",
        b.must.difference(&seen).collect::<Vec<_>>()
    );
    assert!(
        seen.is_subset(&b.may),
        "{what}: entries appeared: {:?}",
        seen.difference(&b.may).collect::<Vec<_>>()
    );
    for id in &seen {
        let v = m.get(&Key::new(*id));
        assert!(v.is_some(), "{what}: key {id} is visited but not found");
    }
    // Usable: a grow's worth of inserts, then removes, keep Go's invariants.
    let n = m.len() as u64;
    let extra = if cfg!(miri) { 3 } else { 2 * n + 20 };
    for id in 0..extra {
        m.insert(Key::new(2_000_000 + id), W::new(2_000_000 + id));
    }
    for id in 0..extra / 2 {
        assert!(m.remove(&Key::new(2_000_000 + id)).is_some());
    }
    if !cfg!(miri) {
        check_invariants(m);
    }
    assert_eq!(
        m.len() as u64,
        n + extra - extra / 2,
        "{what}: len after reuse"
    );
}

/// Runs one operation on a fresh map in `state`, with `fault` armed for call `n`. Returns
/// whether the operation panicked.
fn run_once<const PAD: usize, W: Val + Clone + 'static>(
    state: State,
    op: &Op<PAD, W>,
    fault: Fault,
    n: u64,
) -> bool {
    let alloc = Counting::default();
    let (m, ids) = build::<PAD, W>(state, &alloc);
    let mut slot = Some(m);
    let removed = RefCell::new(BTreeSet::new());
    arm(fault, n);
    let r = catch_unwind(AssertUnwindSafe(|| (op.run)(&mut slot, &ids, &removed)));
    disarm();
    let panicked = r.is_err();
    let what = format!("{state:?} {} {fault:?} panic at call {n}", op.name);
    if let Some(b) = (op.bounds)(&ids, &removed.borrow(), panicked) {
        let m = slot.as_mut().expect("the map is still there");
        check_after(m, &b, &what);
    }
    drop(slot);
    assert_eq!(
        BAD_DROPS.with(|b| b.get()),
        0,
        "{what}: an object was dropped twice"
    );
    assert_eq!(live_objects(), 0, "{what}: objects leaked");
    assert_zsts_dropped_once();
    alloc.assert_no_leak();
    panicked
}

/// Sweeps the panic over every call of `fault` that `op` makes on a map in `state`, until
/// the operation completes without one. Returns the number of panics caught.
fn sweep<const PAD: usize, W: Val + Clone + 'static>(
    state: State,
    fault: Fault,
    miri_ops: &[&str],
) -> usize {
    let mut caught = 0;
    let mut all = ops::<PAD, W>();
    all.extend(api_ops::<PAD, W>());
    for op in all {
        if cfg!(miri) && !miri_ops.contains(&op.name) {
            continue;
        }
        let mut n = 1;
        loop {
            if !run_once::<PAD, W>(state, &op, fault, n) {
                break;
            }
            caught += 1;
            // Every call point; under Miri (about a second a run) the first two.
            if cfg!(miri) && n == 2 {
                break;
            }
            n += 1;
            assert!(n < 100_000, "{} never completed", op.name);
        }
    }
    caught
}

/// The operations swept under Miri (where a run takes about two seconds): the ones whose
/// unwinding paths differ most; fewer for the key and value variants.
/// Of the std/hashbrown API operations: an entry's own delete (it follows the entry through
/// its grow work), the replace guard, extract_if's iteration, and entry_ref's insert.
const MIRI_OPS: &[&str] = &[
    "insert new",
    "insert_fallible new",
    "retain",
    "reserve",
    "drain",
    "entry remove",
    "and_replace_entry_with",
    "extract_if",
    "entry_ref or_insert_with",
    "extend (pipelined)",
];
const MIRI_OPS_VARIANT: &[&str] = &["insert new", "drain", "extend (pipelined)"];

fn sweep_all<const PAD: usize, W: Val + Clone + 'static>(states: &[State], miri_ops: &[&str]) {
    for &state in states {
        let mut caught = [0; 4];
        for fault in [Fault::Hash, Fault::Eq, Fault::Clone, Fault::Drop] {
            caught[fault as usize] = sweep::<PAD, W>(state, fault, miri_ops);
        }
        println!("{state:?}: panics caught (hash, eq, clone, drop): {caught:?}");
        if !matches!(state, State::Empty) && !cfg!(miri) {
            assert!(
                caught.iter().all(|&c| c > 0),
                "{state:?}: a fault never fired"
            );
        }
    }
}

#[test]
fn sweep_small_keys() {
    if cfg!(miri) {
        sweep_all::<0, V>(&[State::MidGrow], MIRI_OPS);
    } else {
        sweep_all::<0, V>(
            &[
                State::Empty,
                State::Small,
                State::MidGrow,
                State::MidSameSizeGrow,
            ],
            MIRI_OPS,
        );
    }
}

#[test]
fn sweep_indirect_keys() {
    // 8 + 136 bytes: past Go's 128-byte limit, so stored through a pointer.
    assert!(
        new_map::<136, V>(&Counting::default())
            .layout()
            .indirect_key
    );
    if cfg!(miri) {
        sweep_all::<136, V>(&[State::MidGrow], MIRI_OPS_VARIANT);
    } else {
        sweep_all::<136, V>(&[State::Small, State::MidGrow], MIRI_OPS_VARIANT);
    }
}

#[test]
fn sweep_zero_sized_values() {
    if cfg!(miri) {
        sweep_all::<0, Z>(&[State::MidGrow], MIRI_OPS_VARIANT);
    } else {
        sweep_all::<0, Z>(
            &[State::Small, State::MidGrow, State::MidSameSizeGrow],
            MIRI_OPS_VARIANT,
        );
    }
}

// ----- the reproducers ----------------------------------------------------------------------

/// A plain key whose hash panics on the armed call (the reports' key).
#[derive(Debug, Clone, PartialEq, Eq)]
struct Plain(u64);

impl Hash for Plain {
    fn hash<S: Hasher>(&self, state: &mut S) {
        tick(Fault::Hash);
        self.0.hash(state);
    }
}

#[test]
#[cfg_attr(miri, ignore)] // 209 entries per run; the sweeps cover the same paths at Miri's sizes
fn regression_insert_during_grow_keeps_every_entry() {
    // Fill until the map is growing with more than 200 entries (209), then insert a new key
    // with the panic on the 24th hash of that insert. The old bucket being evacuated then had
    // its first slots marked evacuated before they were copied, and a second hashing pass
    // panicked: 11 of the 209 entries were lost, and leaked. Each key is now hashed once per
    // move, so that insert hashes fewer keys: the panic is put on every hash it makes.
    let mut n = 1;
    loop {
        let alloc = Counting::default();
        let mut m: GoMap<Plain, Tracked, Hb, Counting, SeededRand> =
            GoMap::from_parts(0, HashAdapter::default(), alloc.clone(), SeededRand::new(1));
        let mut id = 0;
        while !(m.header().growing() && m.len() > 200) {
            m.insert(Plain(id), Tracked::new());
            id += 1;
        }
        assert_eq!(m.len(), 209);
        let nevacuate = m.header().nevacuate();
        arm(Fault::Hash, n);
        let r = catch_unwind(AssertUnwindSafe(|| {
            m.insert(Plain(1 << 40), Tracked::new())
        }));
        disarm();
        if r.is_ok() {
            assert!(n > 2, "the insert's grow work hashed no key");
            break;
        }
        assert_eq!(m.len(), 209, "hash {n}");
        assert_eq!(
            m.header().nevacuate(),
            nevacuate,
            "hash {n}: the write changed nothing"
        );
        for k in 0..id {
            assert!(m.contains_key(&Plain(k)), "hash {n}: key {k} lost");
        }
        assert_eq!(m.iter().count(), 209);
        check_invariants(&m);
        drop(m);
        assert_all_dropped_once();
        alloc.assert_no_leak();
        n += 1;
    }
}

#[test]
#[cfg_attr(miri, ignore)] // a rebuild to B = 8 per run; the sweeps cover it at Miri's sizes
fn regression_reserve_panic_keeps_every_entry() {
    // 8 entries, a panic on the 3rd hash of the move phase of reserve(1000) (the 11th hash in
    // all, after a pre-pass that hashed every key and threw the hashes away): len() stayed 8
    // while 2 keys could be found, and after removing every key len() was 6. The panic is put
    // on every hash that reserve, try_reserve and shrink_to_fit make.
    for op in ["reserve", "try_reserve", "shrink_to_fit"] {
        let mut n = 1;
        loop {
            let alloc = Counting::default();
            let mut m: GoMap<Plain, Tracked, Hb, Counting, SeededRand> =
                GoMap::from_parts(0, HashAdapter::default(), alloc.clone(), SeededRand::new(1));
            for k in 0..8 {
                m.insert(Plain(k), Tracked::new());
            }
            if op == "shrink_to_fit" {
                // shrink_to_fit rebuilds only a map larger than it needs (or growing).
                m.reserve(1000);
            }
            arm(Fault::Hash, n);
            let r = catch_unwind(AssertUnwindSafe(|| match op {
                "reserve" => m.reserve(1000),
                "try_reserve" => m.try_reserve(1000).unwrap(),
                _ => m.shrink_to_fit(),
            }));
            disarm();
            assert_eq!(m.len(), 8, "{op}, hash {n}");
            for k in 0..8 {
                assert!(m.contains_key(&Plain(k)), "{op}, hash {n}: key {k} lost");
            }
            check_invariants(&m);
            for k in 0..8 {
                assert!(m.remove(&Plain(k)).is_some(), "{op}, hash {n}: key {k}");
            }
            assert_eq!(m.len(), 0);
            assert_eq!(m.iter().count(), 0);
            m.reserve(1000);
            drop(m);
            assert_all_dropped_once();
            alloc.assert_no_leak();
            if r.is_ok() {
                assert!(n > 8, "{op} hashed fewer keys than the map holds");
                break;
            }
            n += 1;
        }
    }
}

#[test]
fn regression_drain_of_growing_map_with_panicking_hash() {
    // 53 entries mid-grow, a Hash that always panics: the panic in `Drain::next` skipped
    // putting the header back, so 53 values were never dropped and 2,104 bytes leaked.
    let alloc = Counting::default();
    let mut m: GoMap<Plain, Tracked, Hb, Counting, SeededRand> =
        GoMap::from_parts(0, HashAdapter::default(), alloc.clone(), SeededRand::new(1));
    let mut id = 0;
    while !(m.header().growing() && m.len() >= 53) {
        m.insert(Plain(id), Tracked::new());
        id += 1;
    }
    let r = catch_unwind(AssertUnwindSafe(|| {
        COUNTDOWN.with(|c| c[Fault::Hash as usize].set(1));
        let mut d = m.drain();
        // Every hash panics: walking an unevacuated old bucket hashes its keys.
        while d.next().is_some() {
            COUNTDOWN.with(|c| c[Fault::Hash as usize].set(1));
        }
    }));
    disarm();
    assert!(r.is_err(), "draining a growing map hashes keys");
    assert_eq!(m.len(), 0, "the dropped Drain clears the map");
    assert_eq!(live_objects(), 0, "the values not yielded were dropped");
    m.insert(Plain(1), Tracked::new());
    assert_eq!(m.len(), 1);
    drop(m);
    assert_all_dropped_once();
    alloc.assert_no_leak();
}

// ----- GoSet ----------------------------------------------------------------------------------

type Set = gomap::GoSet<Key<0>, HashAdapter<Mix>, Counting, SeededRand>;

/// A set in `state` (Small: 5 values; MidGrow: growing, with at least `mid_grow_len()`
/// values), with its ids.
fn build_set(state: State, alloc: &Counting) -> (Set, BTreeSet<u64>) {
    let mut s: Set =
        gomap::GoSet::from_parts(0, HashAdapter::default(), alloc.clone(), SeededRand::new(2));
    let mut id = 0;
    loop {
        let done = match state {
            State::Small => s.len() == 5,
            _ => s.header().growing() && s.header().nevacuate() > 0 && s.len() >= mid_grow_len(),
        };
        if done {
            break;
        }
        s.insert(Key::new(id));
        id += 1;
    }
    let ids = s.iter().map(|k| k.id).collect();
    (s, ids)
}

type SetOpFn = fn(&mut Option<Set>, &BTreeSet<u64>, &RefCell<BTreeSet<u64>>);

type BoundsFn = fn(&BTreeSet<u64>, &BTreeSet<u64>, bool) -> Option<Bounds>;

fn set_ops() -> Vec<(&'static str, SetOpFn, BoundsFn)> {
    fn s(o: &mut Option<Set>) -> &mut Set {
        o.as_mut().unwrap()
    }
    vec![
        (
            "insert new",
            |o, _, _| {
                s(o).insert(Key::new(NEW));
            },
            plus_new,
        ),
        (
            "extend (pipelined)",
            |o, ids, _| {
                let old: Vec<u64> = ids.iter().take(2).copied().collect();
                let vals = EXTEND_NEW
                    .clone()
                    .take(5)
                    .chain(old)
                    .chain(EXTEND_NEW.clone().skip(5))
                    .map(Key::new);
                s(o).extend(vals);
            },
            plus_extended,
        ),
        (
            "insert existing",
            |o, ids, _| {
                if let Some(&id) = ids.iter().next() {
                    s(o).insert(Key::new(id));
                }
            },
            same,
        ),
        (
            "replace existing",
            |o, ids, _| {
                if let Some(&id) = ids.iter().next() {
                    drop(s(o).replace(Key::new(id)));
                }
            },
            same,
        ),
        (
            "remove and take",
            |o, ids, removed| {
                for (n, id) in ids.iter().take(4).enumerate() {
                    removed.borrow_mut().insert(*id);
                    if n % 2 == 0 {
                        s(o).remove(&Key::new(*id));
                    } else {
                        drop(s(o).take(&Key::new(*id)));
                    }
                }
            },
            minus_removed,
        ),
        (
            "retain",
            |o, _, removed| {
                s(o).retain(|k| {
                    let keep = k.id % 3 != 0;
                    if !keep {
                        removed.borrow_mut().insert(k.id);
                    }
                    keep
                });
            },
            minus_removed,
        ),
        (
            "extract_if",
            |o, _, removed| {
                s(o).extract_if(|k| {
                    let take = k.id % 2 == 0;
                    if take {
                        removed.borrow_mut().insert(k.id);
                    }
                    take
                })
                .for_each(drop);
            },
            minus_removed,
        ),
        (
            "contains and get",
            |o, ids, _| {
                for id in ids.iter().take(3) {
                    assert!(s(o).contains(&Key::new(*id)) && s(o).get(&Key::new(*id)).is_some());
                }
            },
            same,
        ),
        (
            "set operations",
            |o, _, _| {
                let set = s(o);
                let other: Set = {
                    let mut t: Set = gomap::GoSet::from_parts(
                        0,
                        HashAdapter::default(),
                        set.allocator().clone(),
                        SeededRand::new(3),
                    );
                    for id in 0..6 {
                        t.insert(Key::new(id * 2));
                    }
                    t
                };
                let n = set.union(&other).count()
                    + set.intersection(&other).count()
                    + set.difference(&other).count()
                    + set.symmetric_difference(&other).count();
                assert!(n >= set.len());
                let u: Set = set.union(&other).cloned().collect();
                assert!(u.len() >= set.len());
                let _ = set.is_subset(&other) || set.is_disjoint(&other);
            },
            same,
        ),
        (
            "reserve and shrink_to",
            |o, _, _| {
                s(o).reserve(200);
                s(o).shrink_to(5);
            },
            same,
        ),
        (
            "clone",
            |o, ids, _| assert_eq!(s(o).clone().len(), ids.len()),
            same,
        ),
        (
            "drain",
            |o, _, _| {
                let mut d = s(o).drain();
                let _ = d.next();
            },
            emptied,
        ),
        ("clear", |o, _, _| s(o).clear(), emptied),
        (
            "into_iter",
            |o, _, _| {
                let mut it = o.take().unwrap().into_iter();
                let _ = it.next();
            },
            gone,
        ),
    ]
}

/// The four points, on a set that survived an operation.
fn check_set_after(set: &mut Set, b: &Bounds, what: &str) {
    assert!(
        !set.header().flags().contains(Flags::HASH_WRITING),
        "{what}: HASH_WRITING left set"
    );
    check_invariants(set.as_map());
    let mut seen = BTreeSet::new();
    for k in set.iter() {
        assert!(seen.insert(k.id), "{what}: {} visited twice", k.id);
    }
    assert_eq!(
        set.len(),
        seen.len(),
        "{what}: len() is not what iteration visits"
    );
    assert!(
        b.must.is_subset(&seen),
        "{what}: values lost: {:?}",
        b.must.difference(&seen).collect::<Vec<_>>()
    );
    assert!(
        seen.is_subset(&b.may),
        "{what}: values appeared: {:?}",
        seen.difference(&b.may).collect::<Vec<_>>()
    );
    for id in &seen {
        assert!(
            set.contains(&Key::new(*id)),
            "{what}: {id} visited but not found"
        );
    }
    let n = set.len();
    let extra = if cfg!(miri) { 10 } else { 2 * n as u64 + 20 };
    for id in 0..extra {
        set.insert(Key::new(2_000_000 + id));
    }
    for id in 0..extra / 2 {
        assert!(set.remove(&Key::new(2_000_000 + id)));
    }
    check_invariants(set.as_map());
    assert_eq!(
        set.len() as u64,
        n as u64 + extra - extra / 2,
        "{what}: len after reuse"
    );
}

/// The set operations swept under Miri: the ones whose paths differ from the map's.
const SET_MIRI_OPS: &[&str] = &["replace existing", "extract_if", "set operations"];

#[test]
fn sweep_go_set() {
    // Under Miri only the small set: the set's operations are the map's, whose mid-grow
    // sweeps run under Miri above.
    let states: &[State] = if cfg!(miri) {
        &[State::Small]
    } else {
        &[State::Small, State::MidGrow]
    };
    for &state in states {
        let mut caught = [0; 4];
        for fault in [Fault::Hash, Fault::Eq, Fault::Clone, Fault::Drop] {
            for (name, run, bounds) in set_ops() {
                if cfg!(miri) && !SET_MIRI_OPS.contains(&name) {
                    continue;
                }
                let mut n = 1;
                loop {
                    let alloc = Counting::default();
                    let (set, ids) = build_set(state, &alloc);
                    let mut slot = Some(set);
                    let removed = RefCell::new(BTreeSet::new());
                    arm(fault, n);
                    let r = catch_unwind(AssertUnwindSafe(|| run(&mut slot, &ids, &removed)));
                    disarm();
                    let what = format!("set {state:?} {name} {fault:?} panic at call {n}");
                    if let Some(b) = bounds(&ids, &removed.borrow(), r.is_err()) {
                        check_set_after(slot.as_mut().expect("the set is still there"), &b, &what);
                    }
                    drop(slot);
                    assert_eq!(
                        BAD_DROPS.with(|b| b.get()),
                        0,
                        "{what}: an object was dropped twice"
                    );
                    assert_eq!(live_objects(), 0, "{what}: objects leaked");
                    alloc.assert_no_leak();
                    if r.is_ok() {
                        break;
                    }
                    caught[fault as usize] += 1;
                    // Every call point; under Miri the first two, as for the maps.
                    if cfg!(miri) && n == 2 {
                        break;
                    }
                    n += 1;
                    assert!(n < 100_000, "{name} never completed");
                }
            }
        }
        println!("set {state:?}: panics caught (hash, eq, clone, drop): {caught:?}");
        assert!(
            caught[Fault::Hash as usize] > 0
                && caught[Fault::Eq as usize] > 0
                && caught[Fault::Clone as usize] > 0
        );
    }
}
