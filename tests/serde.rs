//! The `serde` feature: round trips of `GoMap`, `GoSet` and `Snapshot` through JSON.
#![cfg(feature = "serde")]

use std::collections::{BTreeMap, BTreeSet, HashMap};

use gomap::snapshot::Snapshot;
use gomap::{GoHashMap, GoHashSet, GoMap, GoSet};

#[test]
fn go_map_round_trips() {
    let mut m: GoMap<u64, String> = GoMap::new();
    for k in 0..500u64 {
        m.insert(k * 7, format!("v{k}"));
    }
    let json = serde_json::to_string(&m).unwrap();
    // A JSON object, each entry once.
    let as_std: HashMap<u64, String> = serde_json::from_str(&json).unwrap();
    assert_eq!(as_std.len(), 500);
    let back: GoMap<u64, String> = serde_json::from_str(&json).unwrap();
    assert_eq!(back, m);
    assert_eq!(back.len(), 500);
    // String keys, std's hasher.
    let h: GoHashMap<String, Vec<u8>> = (0..50)
        .map(|i| (format!("k{i}"), vec![i as u8; i]))
        .collect();
    let back: GoHashMap<String, Vec<u8>> =
        serde_json::from_str(&serde_json::to_string(&h).unwrap()).unwrap();
    assert_eq!(back, h);
    // Empty.
    let e: GoMap<u8, u8> = GoMap::new();
    assert_eq!(serde_json::to_string(&e).unwrap(), "{}");
    let e2: GoMap<u8, u8> = serde_json::from_str("{}").unwrap();
    assert!(e2.is_empty());
}

#[test]
fn go_set_round_trips() {
    let s: GoSet<u64> = (0..300).map(|x| x * 3).collect();
    let json = serde_json::to_string(&s).unwrap();
    let v: Vec<u64> = serde_json::from_str(&json).unwrap();
    assert_eq!(
        v.iter().copied().collect::<BTreeSet<_>>(),
        (0..300).map(|x| x * 3).collect()
    );
    let back: GoSet<u64> = serde_json::from_str(&json).unwrap();
    assert_eq!(back, s);
    let t: GoHashSet<(u8, String)> = [(1, "a".to_string()), (2, "b".to_string())]
        .into_iter()
        .collect();
    let back: GoHashSet<(u8, String)> =
        serde_json::from_str(&serde_json::to_string(&t).unwrap()).unwrap();
    assert_eq!(back, t);
    // Duplicates in the input collapse, as inserts do.
    let d: GoSet<u64> = serde_json::from_str("[1, 2, 2, 1]").unwrap();
    assert_eq!(d.len(), 2);
}

#[test]
fn wrong_shapes_are_errors() {
    assert!(serde_json::from_str::<GoMap<u64, u64>>("[1, 2]").is_err());
    assert!(serde_json::from_str::<GoSet<u64>>("{\"1\": 2}").is_err());
    assert!(serde_json::from_str::<GoMap<u64, u64>>("{\"x\": 2}").is_err());
}

#[test]
fn snapshot_round_trips_as_its_file_format() {
    let mut m: GoMap<u64, u64> = GoMap::new();
    let mut k = 0;
    while !m.header().growing() || m.len() < 100 {
        m.insert(k, k * 2);
        k += 1;
    }
    let snap = m.snapshot();
    let json = serde_json::to_string(&snap).unwrap();
    let back: Snapshot = serde_json::from_str(&json).unwrap();
    assert_eq!(back, snap);
    assert_eq!(back.to_bytes(), snap.to_bytes());
    // The serialized form is the file's bytes.
    let bytes: Vec<u8> = serde_json::from_str(&json).unwrap();
    assert_eq!(bytes, snap.to_bytes());
    assert_eq!(&bytes[..8], b"GOMAPSNP");
    // A damaged file is an error that names what is wrong, not a panic.
    let mut bad = bytes.clone();
    bad.truncate(bad.len() - 3);
    let err = serde_json::from_str::<Snapshot>(&serde_json::to_string(&bad).unwrap()).unwrap_err();
    assert!(
        err.to_string().contains("truncated") || err.to_string().contains("need"),
        "{err}"
    );
    let err = serde_json::from_str::<Snapshot>("[1, 2, 3]").unwrap_err();
    assert!(err.to_string().contains("GOMAPSNP"), "{err}");
    // What a snapshot holds survives too: the header region and every bucket.
    let regions: BTreeMap<u64, usize> = back
        .regions
        .iter()
        .map(|r| (r.addr, r.bytes.len()))
        .collect();
    assert_eq!(regions.len(), snap.regions.len());
}
