//! Tests of the raw state: the header and bucket memory after specific operations, with the
//! expected values taken from Go 1.19's algorithm (spec §4), not from gomap's code.

mod common;

use common::check_invariants;
use gomap::layout::*;
use gomap::view::BucketKind;
use gomap::{BucketLayout, GoHasher, GoMap, MapHasher, ScriptedRand, SeededRand};

type Alloc = gomap::alloc::Global;

const HASHKEY: u64 = 0x2545_f491_4f6c_dd1d;

/// A u64→u64 map with a fixed hashkey and hash0 draws.
fn det_map(hint: usize, seed: u64) -> GoMap<u64, u64, GoHasher, Alloc, SeededRand> {
    GoMap::from_parts(
        hint,
        GoHasher::with_hashkey(HASHKEY),
        Alloc::default(),
        SeededRand::new(seed),
    )
}

fn hash_of(m: &GoMap<u64, u64, GoHasher, Alloc, SeededRand>, k: u64) -> u64 {
    m.hasher().hash(&k, m.header().hash0() as u64)
}

#[test]
fn nine_inserts_into_hint_8_grow_to_b1_and_finish() {
    let mut m = GoMap::<String, i64>::with_capacity(8);
    assert_eq!(m.header().B(), 0);
    assert_eq!(
        m.header().buckets(),
        0,
        "B = 0: the bucket is allocated lazily"
    );
    for i in 0..8 {
        m.insert(format!("key{i}"), i);
        assert_eq!(m.header().B(), 0);
    }
    assert_eq!(m.header().oldbuckets(), 0);
    m.insert("key8".to_string(), 8);
    assert_eq!(m.header().B(), 1);
    assert_eq!(
        m.header().oldbuckets(),
        0,
        "with one old bucket the grow finishes in the same insert"
    );
    assert_eq!(m.len(), 9);
    check_invariants(&m);
    // Overwriting never grows.
    let b = m.header().buckets();
    m.insert("key8".to_string(), 80);
    assert_eq!(m.header().buckets(), b);
}

#[test]
fn bucket_sizes() {
    assert_eq!(BucketLayout::of::<u8, u8>().bucketsize, 32);
    assert_eq!(BucketLayout::of::<u64, u64>().bucketsize, 144);
    assert_eq!(BucketLayout::of::<&str, i64>().bucketsize, 208);
    assert_eq!(BucketLayout::of::<Box<str>, i64>().bucketsize, 208);
    let l = BucketLayout::of::<[u8; 129], u64>();
    assert!(l.indirect_key);
    assert_eq!(l.keysize, 8);
    assert_eq!(l.bucketsize, 8 + 64 + 64 + 8);
    let l = BucketLayout::of::<[u8; 128], [u8; 128]>();
    assert!(!l.indirect_key && !l.indirect_elem);
    assert_eq!(l.bucketsize, 8 + 1024 + 1024 + 8);
    let l = BucketLayout::of::<u64, [u8; 129]>();
    assert!(l.indirect_elem);
    // String keys work but have Rust's 24-byte layout.
    assert_eq!(
        BucketLayout::of::<String, i64>().bucketsize,
        8 + 8 * 24 + 64 + 8
    );
}

#[test]
fn preallocated_overflow_buckets_and_sentinel() {
    // For u64→u64, B = 4..10 preallocate 2, 5, 7, 14, 28, 56, 113 buckets (spec §4.2).
    let expected = [2usize, 5, 7, 14, 28, 56, 113];
    for (j, b) in (4u8..=10).enumerate() {
        // The largest hint for B: 13 * 2^(B-1).
        let hint = 13usize << (b - 1);
        let m = det_map(hint, b as u64);
        let v = m.raw();
        assert_eq!(m.header().B(), b, "hint {hint}");
        let pre: Vec<_> = v.preallocated().collect();
        assert_eq!(pre.len(), expected[j], "B = {b}");
        let buckets = m.header().buckets();
        // The sentinel: the last preallocated bucket points at bucket 0; the others are nil.
        for (i, p) in pre.iter().enumerate() {
            let want = if i + 1 == pre.len() { buckets } else { 0 };
            assert_eq!(p.overflow(), want, "B = {b}, preallocated #{i}");
            assert!(matches!(p.kind(), BucketKind::Main(x) if x == (1 << b) + i));
        }
        assert_eq!(v.next_overflow(), pre[0].addr());
        assert_ne!(m.header().extra(), 0);
    }
    // No preallocation below B = 4.
    let m = det_map(104 / 2, 1);
    assert_eq!(m.header().B(), 3);
    assert_eq!(m.raw().preallocated().count(), 0);
    assert_eq!(m.header().extra(), 0);
}

#[test]
fn preallocated_buckets_are_used_first_then_the_heap() {
    // B = 4 with 2 preallocated buckets: overflow buckets come from them, the last one's
    // sentinel is cleared when it is taken, then heap buckets follow.
    let mut m = det_map(100, 7);
    assert_eq!(m.header().B(), 4);
    let pre: Vec<usize> = m.raw().preallocated().map(|b| b.addr()).collect();
    // Fill bucket 3 with 8 + 2*8 + 1 keys to take two preallocated and one heap bucket. Keep
    // the count under the load factor (104 for B = 4).
    let keys: Vec<u64> = (0..)
        .filter(|&k| hash_of(&m, k) as usize & 15 == 3)
        .take(25)
        .collect();
    for &k in &keys {
        m.insert(k, k);
    }
    assert_eq!(m.header().B(), 4);
    assert_eq!(m.header().oldbuckets(), 0);
    let v = m.raw();
    let chain: Vec<_> = v.chain(v.bucket(3).unwrap()).collect();
    assert_eq!(chain.len(), 4);
    assert_eq!(chain[1].addr(), pre[0]);
    assert_eq!(chain[2].addr(), pre[1]);
    assert_eq!(
        chain[2].overflow(),
        chain[3].addr(),
        "sentinel replaced by the next link"
    );
    assert_eq!(chain[3].kind(), BucketKind::Heap);
    assert_eq!(v.next_overflow(), 0, "preallocated buckets exhausted");
    assert_eq!(m.header().noverflow(), 3);
    // u64→u64 is pointer-free: Go lists every overflow bucket in extra.overflow, in order.
    let list: Vec<usize> = v.overflow_list().iter().map(|p| *p as usize).collect();
    assert_eq!(
        list,
        vec![chain[1].addr(), chain[2].addr(), chain[3].addr()]
    );
    check_invariants(&m);
}

/// An independent model of which old buckets Go's growWork evacuates (spec §4.7).
struct GrowModel {
    evacuated: Vec<bool>,
    nevacuate: usize,
}

impl GrowModel {
    fn evacuate(&mut self, ob: usize) {
        self.evacuated[ob] = true;
        if ob == self.nevacuate {
            self.nevacuate += 1;
            let stop = (self.nevacuate + 1024).min(self.evacuated.len());
            while self.nevacuate != stop && self.evacuated[self.nevacuate] {
                self.nevacuate += 1;
            }
        }
    }
    fn grow_work(&mut self, bucket: usize) {
        let oldmask = self.evacuated.len() - 1;
        self.evacuate(bucket & oldmask);
        if self.nevacuate < self.evacuated.len() {
            self.evacuate(self.nevacuate);
        }
    }
    fn done(&self) -> bool {
        self.nevacuate == self.evacuated.len()
    }
}

#[test]
fn grow_evacuates_exactly_gos_buckets_and_nevacuate_advances() {
    for seed in 0..if cfg!(miri) { 1 } else { 8u64 } {
        let mut m = det_map(0, seed);
        let mut k = 0u64;
        // Fill to the load factor of B = 6 (13 * 32 = 416 entries), without starting a grow.
        while m.len() < 416 {
            m.insert(k, k);
            k += 1;
            assert!(m.header().oldbuckets() == 0 || m.len() < 416);
        }
        while m.header().oldbuckets() != 0 {
            m.insert(k, k);
            k += 1;
        }
        assert_eq!(m.header().B(), 6);
        // The next new key starts the grow to B = 7.
        let trigger = k;
        m.insert(trigger, trigger);
        k += 1;
        assert_eq!(m.header().B(), 7);
        assert!(m.header().growing());
        assert!(!m.header().same_size_grow());
        let mut model = GrowModel {
            evacuated: vec![false; 64],
            nevacuate: 0,
        };
        // hashGrow, then growWork for the trigger's bucket (recomputed with the new B).
        model.grow_work(hash_of(&m, trigger) as usize & 127);
        loop {
            let v = m.raw();
            let got: Vec<bool> = v.old_buckets().map(|b| b.evacuated()).collect();
            if model.done() {
                assert_eq!(
                    m.header().oldbuckets(),
                    0,
                    "seed {seed}: grow should be finished"
                );
                break;
            }
            assert_eq!(got, model.evacuated, "seed {seed}");
            assert_eq!(m.header().nevacuate(), model.nevacuate, "seed {seed}");
            // The full invariant walk is slow under Miri: there, every 8th step.
            if !cfg!(miri) || k % 8 == 0 {
                check_invariants(&m);
            }
            // Alternate inserts, deletes of absent keys and lookups (which never evacuate).
            let key = k;
            k += 1;
            if key % 3 == 0 {
                m.remove(&(key + 1_000_000));
            } else {
                m.insert(key, key);
            }
            let _ = m.get(&3);
            model.grow_work(
                hash_of(&m, key + if key % 3 == 0 { 1_000_000 } else { 0 }) as usize & 127,
            );
        }
        check_invariants(&m);
    }
}

#[test]
fn same_size_grow_from_too_many_overflow_buckets() {
    // B = 1 (hint 13): fill bucket 0's chain, empty it, then fill bucket 1's chain. Deleted
    // slots are reused, but each chain keeps its overflow bucket: noverflow reaches 2 = 2^B,
    // and the next new key starts a same-size grow.
    let mut m = det_map(13, 3);
    assert_eq!(m.header().B(), 1);
    let b0: Vec<u64> = (0..)
        .filter(|&k| hash_of(&m, k) & 1 == 0)
        .take(10)
        .collect();
    for &k in &b0 {
        m.insert(k, k);
    }
    assert_eq!(m.header().noverflow(), 1);
    for &k in &b0 {
        m.remove(&k);
    }
    // The map is empty now: hash0 was reseeded.
    let b1: Vec<u64> = (0..)
        .filter(|&k| hash_of(&m, k) & 1 == 1)
        .take(10)
        .collect();
    for &k in &b1[..9] {
        m.insert(k, k);
    }
    // Bucket 1's chain needed its own overflow bucket; bucket 0's is still allocated.
    assert_eq!(m.header().noverflow(), 2);
    assert!(!m.header().growing());
    let old_array = m.header().buckets();
    // Overwriting an existing key never grows.
    m.insert(b1[0], 0);
    assert_eq!(m.header().buckets(), old_array);
    // The next new key finds noverflow >= 2^B: a same-size grow.
    m.insert(b1[9], 0);
    assert_eq!(m.header().B(), 1, "same-size grow keeps B");
    assert_ne!(m.header().buckets(), old_array, "a new array");
    // With 2 old buckets, the insert's growWork evacuates both: the grow is done at once.
    assert_eq!(m.header().oldbuckets(), 0);
    assert!(!m.header().same_size_grow());
    assert_eq!(
        m.header().noverflow(),
        1,
        "bucket 1's 10 entries need one overflow bucket"
    );
    check_invariants(&m);
}

#[test]
// Thousands of churn operations: too slow under Miri (the same code runs there through the
// smaller same-size-grow test above and the model tests).
#[cfg_attr(miri, ignore)]
fn same_size_grow_in_progress_is_visible() {
    // A larger same-size grow (B = 5), caught mid-way.
    let mut m = det_map(13 << 4, 11);
    assert_eq!(m.header().B(), 5);
    let mut saw = false;
    'outer: for r in 0..200u64 {
        // Churn: insert 100 keys into a few buckets, delete them again.
        // Each round fills 4 different buckets, leaving their overflow buckets behind.
        let lo = (r as usize * 4) % 32;
        let keys: Vec<u64> = (r * 1_000_000..)
            .filter(|&k| (lo..lo + 4).contains(&(hash_of(&m, k) as usize & 31)))
            .take(100)
            .collect();
        for &k in &keys {
            m.insert(k, k);
            if m.header().same_size_grow() {
                saw = true;
                assert_eq!(m.header().B(), 5);
                assert!(m.header().growing());
                check_invariants(&m);
                break 'outer;
            }
        }
        for &k in &keys {
            m.remove(&k);
        }
    }
    assert!(saw, "churn never produced a same-size grow");
    // Finish it with more writes.
    let mut k = 1 << 40;
    while m.header().growing() {
        m.insert(k, k);
        k += 1;
    }
    assert!(!m.header().same_size_grow());
    check_invariants(&m);
}

#[test]
fn delete_back_propagates_empty_rest_across_the_chain() {
    let mut m = det_map(13, 5);
    assert_eq!(m.header().B(), 1);
    let keys: Vec<u64> = (0..)
        .filter(|&k| hash_of(&m, k) & 1 == 0)
        .take(12)
        .collect();
    for &k in &keys {
        m.insert(k, k);
    }
    // keys[0..8] fill bucket 0, keys[8..12] go to its overflow bucket, slots 0..4.
    let tops = |m: &GoMap<u64, u64, GoHasher, Alloc, SeededRand>| -> (Vec<u8>, Vec<u8>) {
        let v = m.raw();
        let head = v.bucket(0).unwrap();
        let ovf = head.overflow_bucket().unwrap();
        (head.tophash().to_vec(), ovf.tophash().to_vec())
    };
    let live = |t: u8| t >= MIN_TOP_HASH;
    let (h0, o0) = tops(&m);
    assert!(h0.iter().all(|&t| live(t)));
    assert!(o0[..4].iter().all(|&t| live(t)) && o0[4..] == [EMPTY_REST; 4]);

    // Deleting overflow slot 1: slot 2 is live, so it stays EMPTY_ONE.
    m.remove(&keys[9]);
    assert_eq!(tops(&m).1[1], EMPTY_ONE);
    // Deleting slot 3: slot 4 is EMPTY_REST, so 3 becomes EMPTY_REST; slot 2 is live: stop.
    m.remove(&keys[11]);
    let (_, o) = tops(&m);
    assert_eq!(&o[1..4], &[EMPTY_ONE, o[2], EMPTY_REST]);
    assert!(live(o[2]));
    // Deleting slot 2: it and slot 1 (EMPTY_ONE) become EMPTY_REST; slot 0 is live: stop.
    m.remove(&keys[10]);
    let (_, o) = tops(&m);
    assert_eq!(&o[1..], &[EMPTY_REST; 7]);
    assert!(live(o[0]));
    // Delete head slot 6 (EMPTY_ONE: slot 7 is live), then overflow slot 0: the run continues
    // into the head bucket's slot 7 (live: stop there).
    m.remove(&keys[6]);
    assert_eq!(tops(&m).0[6], EMPTY_ONE);
    m.remove(&keys[8]);
    let (h, o) = tops(&m);
    assert_eq!(o, vec![EMPTY_REST; 8]);
    assert!(live(h[7]));
    assert_eq!(h[6], EMPTY_ONE);
    // Delete head slot 7: the overflow bucket starts with EMPTY_REST, so 7 becomes EMPTY_REST,
    // and the EMPTY_ONE at 6 turns into EMPTY_REST too; slot 5 is live.
    m.remove(&keys[7]);
    let (h, _) = tops(&m);
    assert_eq!(&h[6..], &[EMPTY_REST, EMPTY_REST]);
    assert!(live(h[5]));
    // Deleted keys of a pointer-free map keep their bytes; elems are zeroed.
    let v = m.raw();
    let head = v.bucket(0).unwrap();
    let bytes = head.bytes();
    let l = m.layout();
    let key7 = u64::from_le_bytes(
        bytes[l.key_offset(7)..l.key_offset(7) + 8]
            .try_into()
            .unwrap(),
    );
    let elem7 = u64::from_le_bytes(
        bytes[l.elem_offset(7)..l.elem_offset(7) + 8]
            .try_into()
            .unwrap(),
    );
    assert_eq!(key7, keys[7]);
    assert_eq!(elem7, 0);
    check_invariants(&m);
    // Reuse: the next key for bucket 0 goes into the first empty slot (head slot 6).
    let next = (1000..).find(|&k| hash_of(&m, k) & 1 == 0).unwrap();
    m.insert(next, 1);
    assert!(live(tops(&m).0[6]));
}

#[test]
fn deleting_down_to_zero_reseeds_hash0() {
    let script = [0x1111_1111u32, 0x2222_2222, 0x3333_3333];
    let rand = ScriptedRand::new(&script);
    let mut m: GoMap<u64, u64, GoHasher, Alloc, _> =
        GoMap::from_parts(0, GoHasher::with_hashkey(HASHKEY), Alloc::default(), &rand);
    assert_eq!(m.header().hash0(), 0x1111_1111);
    m.insert(1, 1);
    m.insert(2, 2);
    m.remove(&1);
    assert_eq!(m.header().hash0(), 0x1111_1111);
    m.remove(&1); // absent: nothing happens
    m.remove(&2);
    assert_eq!(m.header().hash0(), 0x2222_2222, "count reached 0: reseed");
    m.remove(&2); // empty: no draw
    m.insert(3, 3);
    m.clear();
    assert_eq!(m.header().hash0(), 0x3333_3333, "clear reseeds");
    m.clear(); // already empty: no draw
    assert_eq!(rand.used(), 3);
    assert_eq!(rand.overran(), 0);
}

#[test]
fn clear_keeps_b_and_the_array_and_restores_preallocation() {
    let mut m = det_map(0, 9);
    for k in 0..if cfg!(miri) { 120 } else { 2000u64 } {
        m.insert(k, k);
    }
    while !m.header().growing() {
        let k = m.len() as u64;
        m.insert(k, k);
    }
    let b = m.header().B();
    let buckets = m.header().buckets();
    let hash0 = m.header().hash0();
    m.clear();
    let h = m.header();
    assert_eq!(h.B(), b);
    assert_eq!(h.buckets(), buckets);
    assert_eq!(h.oldbuckets(), 0);
    assert_eq!(h.count(), 0);
    assert_eq!(h.noverflow(), 0);
    assert_eq!(h.nevacuate(), 0);
    assert!(!h.same_size_grow());
    assert_ne!(h.hash0(), hash0);
    let v = m.raw();
    for bk in v.buckets() {
        assert!(bk.bytes().iter().all(|&x| x == 0));
    }
    let pre: Vec<_> = v.preallocated().collect();
    assert!(!pre.is_empty());
    assert_eq!(pre.last().unwrap().overflow(), buckets);
    assert_eq!(v.next_overflow(), pre[0].addr());
    assert!(v.overflow_list().is_empty());
    m.insert(5, 5);
    assert_eq!(m.get(&5), Some(&5));
    check_invariants(&m);
}

#[test]
fn lookups_never_write() {
    let mut m = det_map(0, 13);
    let mut k = 0;
    while !(m.header().growing() && m.header().nevacuate() > 2) {
        m.insert(k, k);
        k += 1;
    }
    let snapshot = |m: &GoMap<u64, u64, GoHasher, Alloc, SeededRand>| {
        let v = m.raw();
        let mut all = Vec::new();
        for head in v.buckets().chain(v.old_buckets()) {
            for b in v.chain(head) {
                all.extend_from_slice(b.bytes());
            }
        }
        let h = m.header();
        (
            all,
            h.count(),
            h.flags(),
            h.nevacuate(),
            h.noverflow(),
            h.hash0(),
        )
    };
    let before = snapshot(&m);
    for q in (0..(2 * k)).step_by(if cfg!(miri) { 7 } else { 1 }) {
        let _ = m.get(&q);
        let _ = m.contains_key(&q);
    }
    assert_eq!(snapshot(&m), before);
}

#[test]
fn iteration_sets_the_iterator_flags() {
    let mut m = det_map(0, 1);
    for k in 0..100 {
        m.insert(k, k);
    }
    assert!(!m.header().flags().contains(Flags::ITERATOR));
    assert_eq!(m.iter().count(), 100);
    assert!(m
        .header()
        .flags()
        .contains(Flags::ITERATOR | Flags::OLD_ITERATOR));
    // hashGrow turns ITERATOR into OLD_ITERATOR.
    let mut k = 100;
    while !m.header().growing() {
        m.insert(k, k);
        k += 1;
    }
    let f = m.header().flags();
    assert!(f.contains(Flags::OLD_ITERATOR) && !f.contains(Flags::ITERATOR));
}

#[test]
fn empty_map_iteration_draws_nothing() {
    let script = [7u32];
    let rand = ScriptedRand::new(&script);
    let m: GoMap<u64, u64, GoHasher, Alloc, _> =
        GoMap::from_parts(0, GoHasher::new(), Alloc::default(), &rand);
    assert_eq!(m.iter().count(), 0);
    assert_eq!(rand.used(), 1);
    assert_eq!(rand.overran(), 0);
    assert!(m.header().flags().is_empty());
}
