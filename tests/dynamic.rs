//! `DynMap` runs the same runtime as `GoMap`: for the same types, hashkey and random draws,
//! the two produce the same memory. Also a model test against std's `HashMap`.

mod common;

use std::collections::HashMap;

use gomap::dynamic::{DynMap, GoType, GoValue};
use gomap::{GoHasher, GoMap, SeededRand};
use proptest::prelude::*;

use gomap::alloc::Global;

/// Tophash bytes and the overflow structure (as chain lengths) of every bucket, plus the
/// header fields that hold no addresses.
fn shape_of<K: ?Sized, V: ?Sized>(v: gomap::view::RawView<'_, K, V>) -> Vec<u64> {
    let h = v.header();
    let mut out = vec![
        h.count() as u64,
        h.flags().bits() as u64,
        h.B() as u64,
        h.noverflow() as u64,
        h.hash0() as u64,
        h.nevacuate() as u64,
        (h.oldbuckets() != 0) as u64,
        v.overflow_list().len() as u64,
    ];
    for head in v.buckets().chain(v.old_buckets()) {
        let chain: Vec<_> = v.chain(head).collect();
        out.push(chain.len() as u64);
        for b in chain {
            out.extend(b.tophash().iter().map(|&t| t as u64));
        }
    }
    out
}

fn ops_len() -> usize {
    if cfg!(miri) {
        150
    } else {
        20_000
    }
}

#[test]
fn dyn_u64_matches_gomap_u64_byte_for_byte() {
    let hashkey = 0x8f3c_2d41_9b7e_6a05 | 1;
    let mut g: GoMap<u64, u64, GoHasher, Global, SeededRand> = GoMap::from_parts(
        0,
        GoHasher::with_hashkey(hashkey),
        Global,
        SeededRand::new(77),
    );
    let mut d = DynMap::from_parts(
        GoType::Uint64,
        GoType::Uint64,
        0,
        hashkey,
        Global,
        SeededRand::new(77),
    )
    .unwrap();
    let mut x = 12345u64;
    for step in 0..ops_len() {
        x = x
            .wrapping_mul(6364136223846793005)
            .wrapping_add(1442695040888963407);
        let k = (x >> 33) % 5000;
        if x % 7 == 0 {
            assert_eq!(g.remove(&k).is_some(), d.remove(&GoValue::Uint(k)).unwrap());
        } else {
            assert_eq!(
                g.insert(k, step as u64).is_none(),
                d.insert(&GoValue::Uint(k), &GoValue::Uint(step as u64))
                    .unwrap()
            );
        }
        if step % 97 == 0 || g.header().growing() && step % 5 == 0 {
            assert_eq!(shape_of(g.raw()), shape_of(d.raw()), "step {step}");
            // Pointer-free buckets: every byte but the overflow pointers is the same.
            let (gv, dv) = (g.raw(), d.raw());
            for (gh, dh) in gv.buckets().zip(dv.buckets()) {
                for (gb, db) in gv.chain(gh).zip(dv.chain(dh)) {
                    let n = gv.layout().overflow_offset();
                    assert_eq!(gb.bytes()[..n], db.bytes()[..n], "step {step}");
                }
            }
        }
    }
    assert_eq!(g.len(), d.len());
    g.clear();
    d.clear();
    assert_eq!(shape_of(g.raw()), shape_of(d.raw()));
}

#[test]
fn dyn_string_and_indirect_match_gomap() {
    let hashkey = 0x1d2c_3b4a_5968_7787;
    let mut g: GoMap<Box<str>, [u8; 129], GoHasher, Global, SeededRand> = GoMap::from_parts(
        0,
        GoHasher::with_hashkey(hashkey),
        Global,
        SeededRand::new(5),
    );
    let mut d = DynMap::from_parts(
        GoType::String,
        GoType::Bytes(129),
        0,
        hashkey,
        Global,
        SeededRand::new(5),
    )
    .unwrap();
    assert_eq!(g.layout(), d.layout());
    let n = if cfg!(miri) { 60 } else { 3000 };
    for i in 0..n {
        let k = format!("key{}", i % 1700);
        if i % 5 == 3 {
            g.remove(k.as_str());
            d.remove(&GoValue::from(k.as_str())).unwrap();
        } else {
            g.insert(k.clone().into(), [i as u8; 129]);
            d.insert(&GoValue::String(k), &GoValue::Bytes(vec![i as u8; 129]))
                .unwrap();
        }
        assert_eq!(shape_of(g.raw()), shape_of(d.raw()), "step {i}");
    }
    for i in 0..1700 {
        let k = format!("key{i}");
        let want = g.get(k.as_str()).map(|v| GoValue::Bytes(v.to_vec()));
        assert_eq!(d.get(&GoValue::from(k.as_str())).unwrap(), want);
    }
}

#[test]
fn type_errors_are_reported_and_change_nothing() {
    let mut d = DynMap::new(GoType::Uint8, GoType::Bytes(3), 0);
    assert!(d
        .insert(&GoValue::Uint(300), &GoValue::Bytes(vec![1, 2, 3]))
        .is_err());
    let e = d
        .insert(&GoValue::Uint(3), &GoValue::Bytes(vec![1, 2]))
        .unwrap_err();
    assert_eq!(e.to_string(), "not a [3]uint8: 2 bytes, want 3");
    assert!(d
        .insert(&GoValue::from("x"), &GoValue::Bytes(vec![1, 2, 3]))
        .is_err());
    assert!(d.is_empty());
    assert_eq!(d.header().buckets(), 0);
    assert_eq!(GoType::parse("[20]byte"), Some(GoType::Bytes(20)));
    assert_eq!(GoType::parse("u64"), Some(GoType::Uint64));
    assert_eq!(GoType::parse("[x]u8"), None);
    assert_eq!(GoType::Bytes(7).go_name().to_string(), "[7]uint8");
}

#[test]
fn float_keys_follow_go() {
    let mut d = DynMap::new(GoType::Float64, GoType::Int64, 0);
    d.insert(&GoValue::Float(0.0), &GoValue::Int(1)).unwrap();
    assert!(!d.insert(&GoValue::Float(-0.0), &GoValue::Int(2)).unwrap());
    d.insert(&GoValue::Float(f64::NAN), &GoValue::Int(3))
        .unwrap();
    d.insert(&GoValue::Float(f64::NAN), &GoValue::Int(4))
        .unwrap();
    assert_eq!(d.len(), 3);
    assert_eq!(d.get(&GoValue::Float(f64::NAN)).unwrap(), None);
    let e = d.entries();
    assert!(e.iter().any(
        |(k, v)| matches!(k, GoValue::Float(f) if f.is_sign_negative() && *f == 0.0)
            && *v == GoValue::Int(2)
    ));
}

#[derive(Clone, Debug)]
enum Op {
    Insert(u16, u16),
    Remove(u16),
    Clear,
}

fn config() -> ProptestConfig {
    if cfg!(miri) {
        // No failure persistence under Miri: it needs the file system.
        ProptestConfig {
            cases: 2,
            failure_persistence: None,
            ..ProptestConfig::default()
        }
    } else {
        ProptestConfig::with_cases(64)
    }
}

proptest! {
    #![proptest_config(config())]
    #[test]
    fn dyn_string_map_models_hashmap(ops in proptest::collection::vec(prop_oneof![
        8 => (0u16..600, any::<u16>()).prop_map(|(k, v)| Op::Insert(k, v)),
        4 => (0u16..600).prop_map(Op::Remove),
        1 => Just(Op::Clear),
    ], 1..if cfg!(miri) { 40 } else { 1500 })) {
        let mut d = DynMap::new(GoType::String, GoType::String, 0);
        let mut m: HashMap<String, String> = HashMap::new();
        for op in ops {
            match op {
                Op::Insert(k, v) => {
                    let (k, v) = (format!("k{k}"), format!("v{v}"));
                    prop_assert_eq!(d.insert(&GoValue::String(k.clone()), &GoValue::String(v.clone())).unwrap(), m.insert(k, v).is_none());
                }
                Op::Remove(k) => {
                    let k = format!("k{k}");
                    prop_assert_eq!(d.remove(&GoValue::String(k.clone())).unwrap(), m.remove(&k).is_some());
                }
                Op::Clear => { d.clear(); m.clear(); }
            }
            prop_assert_eq!(d.len(), m.len());
        }
        let got: HashMap<String, String> = d.entries().into_iter().map(|(k, v)| match (k, v) {
            (GoValue::String(k), GoValue::String(v)) => (k, v),
            _ => unreachable!(),
        }).collect();
        prop_assert_eq!(got, m);
    }
}
