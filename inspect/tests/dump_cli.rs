//! `map-inspect dump` on the demo and on snapshot files: the decoded entries equal what the
//! map's own API returns, the decoded memory equals the map's raw view, the options select
//! what they say, and the JSON output follows the documented schema.

#[allow(dead_code)]
mod support;

use std::collections::BTreeMap;
use std::path::Path;
use std::time::Duration;

use gomap::dynamic::{DynMap, GoType, GoValue};
use gomap::GoMap;
use map_inspect::decode::{decode, Limits};
use map_inspect::demo::{self, DemoOptions};
use map_inspect::report::{self, Filter, Report, SourceInfo, Types};
use map_inspect::source::SnapshotReader;
use map_inspect::values::ValueType;
use serde_json::Value;

use support::{run, run_ok, sorted};

/// A Go value as the dump's JSON writes it.
fn json_of(v: &GoValue) -> Value {
    match v {
        GoValue::Bool(b) => Value::Bool(*b),
        GoValue::Int(i) => (*i).into(),
        GoValue::Uint(u) => (*u).into(),
        GoValue::Float(f) => serde_json::Number::from_f64(*f)
            .map(Value::Number)
            .unwrap_or_else(|| f.to_string().into()),
        GoValue::String(s) => s.clone().into(),
        GoValue::Bytes(b) => b
            .iter()
            .map(|x| format!("{x:02x}"))
            .collect::<String>()
            .into(),
    }
}

/// The JSON value back as a Go value of type `t`.
fn go_of(t: GoType, v: &Value) -> GoValue {
    match t {
        GoType::Bool => GoValue::Bool(v.as_bool().expect("bool")),
        GoType::Int8 | GoType::Int16 | GoType::Int32 | GoType::Int64 => {
            GoValue::Int(v.as_i64().expect("int"))
        }
        GoType::Uint8 | GoType::Uint16 | GoType::Uint32 | GoType::Uint64 => {
            GoValue::Uint(v.as_u64().expect("uint"))
        }
        GoType::Float32 | GoType::Float64 => GoValue::Float(v.as_f64().expect("float")),
        GoType::String => GoValue::String(v.as_str().expect("string").to_string()),
        GoType::Bytes(_) => {
            let s = v.as_str().expect("hex");
            GoValue::Bytes(
                (0..s.len())
                    .step_by(2)
                    .map(|i| u8::from_str_radix(&s[i..i + 2], 16).expect("hex"))
                    .collect(),
            )
        }
    }
}

fn parse_report(json: &str) -> Report {
    serde_json::from_str(json).unwrap_or_else(|e| panic!("dump JSON does not parse: {e}"))
}

/// Checks a report's entries against a DynMap: the same set as `entries()`, and `get` of
/// every key returns the decoded elem.
fn check_against_api<A: gomap::alloc::Allocator, R: gomap::RandSource>(
    r: &Report,
    m: &DynMap<A, R>,
) {
    let got = r.entries();
    let want: Vec<(Value, Value)> = m
        .entries()
        .iter()
        .map(|(k, v)| (json_of(k), json_of(v)))
        .collect();
    assert_eq!(got.len(), m.len(), "number of entries");
    assert_eq!(sorted(got.clone()), sorted(want), "entries");
    for (k, e) in &got {
        let key = go_of(m.key_type(), k);
        let elem = m
            .get(&key)
            .expect("typed get")
            .expect("the key is in the map");
        assert_eq!(json_of(&elem), *e, "m[{k}]");
    }
    assert_eq!(r.summary.count, m.len() as u64);
    assert_eq!(r.summary.live, m.len());
}

/// What the demo must show (the acceptance list).
fn assert_shows_everything(r: &Report) {
    let has_state = |s: &str| {
        r.buckets
            .iter()
            .any(|b| b.slots.iter().any(|x| x.state == s))
    };
    for s in [
        "EVACUATED_X",
        "EVACUATED_Y",
        "EVACUATED_EMPTY",
        "EMPTY_ONE",
        "EMPTY_REST",
        "live",
    ] {
        assert!(has_state(s), "the demo shows no {s} slot");
    }
    assert!(r.summary.growing, "the demo must stop mid-grow");
    assert!(
        r.summary.evacuated > 0 && r.summary.evacuated < r.summary.noldbuckets,
        "some old buckets evacuated, some not: {}/{}",
        r.summary.evacuated,
        r.summary.noldbuckets
    );
    assert!(r
        .buckets
        .iter()
        .any(|b| b.array == "oldbuckets" && b.current));
    assert!(r.summary.preallocated > 0, "no preallocated buckets");
    assert!(r.buckets.iter().any(|b| b.kind == "preallocated"));
    assert!(
        r.buckets.iter().any(|b| b.kind == "heap"),
        "no heap overflow bucket"
    );
    assert!(
        r.chains.iter().any(|c| c.head.starts_with("old")),
        "no overflow chain in the old array"
    );
    assert!(
        r.chains.iter().any(|c| c.head.starts_with("main")),
        "no overflow chain in the current array"
    );
    let ex = r.extra.as_ref().expect("extra");
    assert!(ex.overflow.is_some() && ex.oldoverflow.is_some());
}

#[test]
fn library_demo_matches_the_map_api_and_shows_everything() {
    let d = demo::build(&DemoOptions::default()).expect("demo");
    let snap = d.map.snapshot();
    let reader = SnapshotReader::new(&snap, "demo");
    let decoded = decode(&reader, snap.hmap, snap.layout, Limits::default()).expect("decode");
    let types = Types {
        key: ValueType::Go(GoType::Uint64),
        elem: ValueType::Go(GoType::Uint64),
        pointer_free: Some(snap.pointer_free),
    };
    let src = SourceInfo {
        kind: "demo".into(),
        description: d.describe(),
    };
    let r = report::build(&reader, &decoded, &types, src, &Filter::default()).expect("report");
    check_against_api(&r, &d.map);
    assert_shows_everything(&r);
    assert_eq!(d.ops.len(), d.total_ops);
}

/// The README's command: `map-inspect dump` with no argument dumps the demo. Its JSON
/// (same options) decodes exactly the entries of the demo map built here.
#[test]
fn cli_demo_matches_the_map_api() {
    let r = parse_report(&run_ok(&["dump", "--format", "json"]));
    assert_eq!(r.source.kind, "demo");
    let d = demo::build(&DemoOptions::default()).expect("demo");
    check_against_api(&r, &d.map);
    assert_shows_everything(&r);
    assert_eq!(
        r.header.hash0,
        d.map.header().hash0(),
        "same seed, same hash0"
    );
    assert_eq!(r.header.B, d.map.header().B());
    assert_eq!(r.header.nevacuate, d.map.header().nevacuate() as u64);
}

#[test]
fn cli_demo_text_shows_header_flags_buckets_chains_and_summary() {
    let t = run_ok(&["dump", "--color", "never"]);
    for want in [
        "map[uint64]uint64 at 0x",
        "hmap (48 bytes at 0x",
        "field       off  raw bytes",
        "nevacuate",
        "flags = 0x00",
        "[ ] SAME_SIZE_GROW",
        "extra (mapextra, 24 bytes at",
        "nextOverflow",
        "buckets (current array) at 0x",
        "oldbuckets (old array) at 0x",
        "EVACUATED_X",
        "EVACUATED_Y",
        "EVACUATED_EMPTY",
        "EMPTY_ONE",
        "preallocated overflow bucket of the current array, in use",
        "free: extra.nextOverflow points here",
        "the sentinel",
        "heap overflow bucket",
        "not evacuated yet",
        "overflow chains",
        "summary",
        "load factor",
        "grow          doubling grow in progress",
        "memory",
    ] {
        assert!(t.contains(want), "the demo text lacks {want:?}");
    }
    // A labelled hex dump line: address, 16 bytes in two groups, ASCII gutter, regions.
    let hex_line = t
        .lines()
        .find(|l| l.trim_start().starts_with("0x") && l.contains("|  tophash, key 0"))
        .expect("a hex dump line of a bucket's first 16 bytes");
    let cols: Vec<&str> = hex_line.split_whitespace().collect();
    assert_eq!(cols[0].len(), 18, "address column: {hex_line}");
    assert!(cols[1..17]
        .iter()
        .all(|b| b.len() == 2 && u8::from_str_radix(b, 16).is_ok()));
    assert!(!t.contains('\x1b'), "--color never must not colour");
}

/// The overview glyph of a slot state (README: `map-inspect dump`).
fn glyph(state: &str) -> char {
    match state {
        "live" => '■',
        "EMPTY_ONE" => '×',
        "EMPTY_REST" => '□',
        "EVACUATED_X" => 'X',
        "EVACUATED_Y" => 'Y',
        "EVACUATED_EMPTY" => '·',
        other => panic!("unknown state {other}"),
    }
}

/// The overview lines the report's buckets call for: one per chain, `id glyphs` for each
/// bucket of the chain, joined by ` → `.
fn overview_lines(r: &Report) -> Vec<String> {
    let mut lines: Vec<(Option<String>, String)> = Vec::new();
    for b in &r.buckets {
        let cells: String = b.slots.iter().map(|s| glyph(&s.state)).collect();
        let continues = b.position.is_some_and(|p| p > 0)
            && lines
                .last()
                .is_some_and(|(head, _)| head.is_some() && *head == b.chain);
        if continues {
            let last = lines.last_mut().unwrap();
            last.1 = format!("{} → {} {cells}", last.1, b.id);
        } else {
            lines.push((b.chain.clone(), format!("{} {cells}", b.id)));
        }
    }
    lines.into_iter().map(|(_, l)| l).collect()
}

/// The text dump's first screen: within the first 40 lines of the demo's text, the header, the
/// grow state and one line per bucket chain, its slot states as glyphs; the options that
/// select buckets select these lines too.
#[test]
fn the_first_screen_shows_header_grow_state_and_every_bucket() {
    let t = run_ok(&["dump", "--color", "never", "--seed", "5"]);
    let r = parse_report(&run_ok(&["dump", "--format", "json", "--seed", "5"]));
    let first: Vec<&str> = t.lines().take(40).collect();
    let h = &r.header;
    let s = &r.summary;
    let want_header = format!(
        "hmap  count {}  flags {:#04x} (none)  B {} ({} buckets + {} preallocated)  noverflow {}  hash0 {:#010x}",
        h.count, h.flags, h.B, s.nbuckets, s.preallocated, h.noverflow, h.hash0
    );
    assert!(
        first.contains(&want_header.as_str()),
        "no {want_header:?} in\n{}",
        first.join("\n")
    );
    let want_grow = format!(
        "grow  doubling grow from {} to {} buckets: {} of {} old buckets evacuated, nevacuate = {}",
        s.noldbuckets, s.nbuckets, s.evacuated, s.noldbuckets, s.nevacuate
    );
    assert!(
        first.iter().any(|l| l.starts_with(&want_grow)),
        "no {want_grow:?} in\n{}",
        first.join("\n")
    );
    let squeeze = |l: &str| l.split_whitespace().collect::<Vec<_>>().join(" ");
    let want = overview_lines(&r);
    assert_eq!(
        want.len(),
        16 + 1 + 8,
        "16 heads, 1 free preallocated, 8 old heads"
    );
    for w in &want {
        assert!(
            first.iter().any(|l| squeeze(l).starts_with(w.as_str())),
            "the first screen has no line {w:?}:\n{}",
            first.join("\n")
        );
    }
    // The chain of main[7] continues on its head's line; the preallocated bucket at the end
    // is marked with the sentinel; evacuated old buckets name their X and Y targets.
    assert!(want.iter().any(|l| l.contains(" → ")), "{want:?}");
    assert!(first.iter().any(|l| l.contains("the sentinel")));
    assert!(first
        .iter()
        .any(|l| l.contains("evacuated to main[0] (X) and main[8] (Y)")));
    // The detail follows.
    assert!(t.contains("hmap (48 bytes at"));
    // --bucket N --new: only that chain's line.
    let one = run_ok(&[
        "dump", "--color", "never", "--seed", "5", "--new", "--bucket", "7",
    ]);
    let r1 = parse_report(&run_ok(&[
        "dump", "--format", "json", "--seed", "5", "--new", "--bucket", "7",
    ]));
    let lines = overview_lines(&r1);
    assert_eq!(lines.len(), 1);
    assert_eq!(
        one.lines()
            .filter(|l| l.starts_with("  main[") && l.contains('■'))
            .map(squeeze)
            .collect::<Vec<_>>(),
        lines
    );
}

#[test]
fn demo_types_and_sizes_follow_the_options() {
    let cases: [(&str, GoType, GoType, &[&str]); 5] = [
        (
            "string:int64",
            GoType::String,
            GoType::Int64,
            &["--keys", "100", "--deletes", "9"],
        ),
        (
            "[20]uint8:string",
            GoType::Bytes(20),
            GoType::String,
            &["--keys", "40"],
        ),
        (
            "int8:bool",
            GoType::Int8,
            GoType::Bool,
            &["--keys", "60", "--hint", "20"],
        ),
        (
            "float64:uint16",
            GoType::Float64,
            GoType::Uint16,
            &["--grow-writes", "3"],
        ),
        (
            "uint32:[200]uint8",
            GoType::Uint32,
            GoType::Bytes(200),
            &["--keys", "30", "--deletes", "0"],
        ),
    ];
    for (types, k, e, extra) in cases {
        let mut args = vec!["dump", "--format", "json", "--types", types];
        args.extend_from_slice(extra);
        let r = parse_report(&run_ok(&args));
        let mut o = DemoOptions {
            key: k,
            elem: e,
            ..Default::default()
        };
        for w in extra.chunks(2) {
            let n: usize = w[1].parse().unwrap();
            match w[0] {
                "--keys" => o.keys = n,
                "--deletes" => o.deletes = n,
                "--hint" => o.hint = n,
                "--grow-writes" => o.grow_writes = n,
                f => panic!("{f}"),
            }
        }
        let d = demo::build(&o).expect("demo");
        check_against_api(&r, &d.map);
        assert_eq!(r.map.key_type, k.go_name().to_string());
        assert_eq!(r.map.bucketsize, d.map.layout().bucketsize, "{types}");
        assert_eq!(r.map.indirect_elem, e.size() > 128, "{types}");
    }
}

#[test]
fn at_op_stops_the_demo_early() {
    let r = parse_report(&run_ok(&["dump", "--format", "json", "--at-op", "10"]));
    assert_eq!(r.header.count, 10);
    assert!(
        r.source.description.contains("stopped after op 10 of"),
        "{}",
        r.source.description
    );
    let r0 = parse_report(&run_ok(&["dump", "--format", "json", "--at-op", "0"]));
    assert_eq!(r0.header.count, 0);
    assert!(r0.buckets.is_empty(), "make(map) allocates no bucket yet");
    let out = run(&["dump", "--at-op", "100000"], Duration::from_secs(30));
    assert!(!out.status.success());
    assert!(out.stderr.contains("this demo has only"), "{}", out.stderr);
    let out = run(&["dump", "--types", "bool:bool"], Duration::from_secs(30));
    assert!(!out.status.success());
    assert!(
        out.stderr.contains("only 2 distinct values"),
        "{}",
        out.stderr
    );
}

/// A `GoMap<u64, u64>` caught mid-grow, with deletes and overflow buckets.
fn grown_map() -> GoMap<u64, u64> {
    let mut m = GoMap::new();
    for k in 0..100u64 {
        m.insert(k * 31, k);
    }
    for k in (0..100u64).step_by(5) {
        m.remove(&(k * 31));
    }
    let mut k = 10_000;
    while !m.header().growing() {
        m.insert(k, k);
        k += 1;
    }
    m
}

fn write_snapshot(name: &str, bytes: &[u8]) -> String {
    let path = support::tmp_dir("snapshots").join(name);
    std::fs::write(&path, bytes).expect("write the snapshot");
    path.to_str().expect("utf-8 path").to_string()
}

#[test]
fn snapshot_round_trip_matches_the_map_and_its_raw_view() {
    let m = grown_map();
    assert!(m.header().growing());
    let snap = m.snapshot();
    let file = write_snapshot("grown.snap", &snap.to_bytes());
    let r = parse_report(&run_ok(&["dump", &file, "--format", "json"]));
    assert_eq!(r.source.kind, "snapshot");

    // The header, field by field (before iterating: iteration sets the ITERATOR flags).
    let h = m.header();
    assert_eq!(r.map.hmap.0, h as *const gomap::Hmap as u64);
    assert_eq!(r.header.count, h.count() as u64);
    assert_eq!(r.header.flags, h.flags().bits());
    assert_eq!(r.header.B, h.B());
    assert_eq!(r.header.noverflow, h.noverflow());
    assert_eq!(r.header.hash0, h.hash0());
    assert_eq!(r.header.buckets.0, h.buckets() as u64);
    assert_eq!(r.header.oldbuckets.0, h.oldbuckets() as u64);
    assert_eq!(r.header.nevacuate, h.nevacuate() as u64);
    assert_eq!(r.header.extra.0, h.extra() as u64);

    // Entries: the map's own.
    let want: Vec<(Value, Value)> = m.iter().map(|(k, v)| ((*k).into(), (*v).into())).collect();
    assert_eq!(sorted(r.entries()), sorted(want));

    // Every bucket: address and bytes as the raw view sees them.
    let view = m.raw();
    let mut raw: BTreeMap<u64, Vec<u8>> = BTreeMap::new();
    for i in 0..view.array_len() {
        let b = view.bucket(i).unwrap();
        raw.insert(b.addr() as u64, b.bytes().to_vec());
    }
    for i in 0..view.old_array_len() {
        let b = view.old_bucket(i).unwrap();
        raw.insert(b.addr() as u64, b.bytes().to_vec());
    }
    for head in view.buckets().chain(view.old_buckets()) {
        for b in view.chain(head) {
            raw.insert(b.addr() as u64, b.bytes().to_vec());
        }
    }
    assert_eq!(
        r.buckets.len(),
        raw.len(),
        "every bucket of the map is shown once"
    );
    for b in &r.buckets {
        let bytes = &b.bytes.as_ref().expect("bytes").0;
        assert_eq!(
            Some(bytes),
            raw.get(&b.addr.0),
            "bucket {} at {}",
            b.id,
            b.addr
        );
        for s in &b.slots {
            assert_eq!(s.tophash, bytes[s.index]);
        }
        match (b.array.as_str(), b.index) {
            ("buckets", Some(i)) => assert_eq!(view.bucket(i).unwrap().addr() as u64, b.addr.0),
            ("oldbuckets", Some(i)) => {
                assert_eq!(view.old_bucket(i).unwrap().addr() as u64, b.addr.0)
            }
            ("heap", None) => assert_eq!(
                view.classify(b.addr.0 as usize),
                gomap::view::BucketKind::Heap
            ),
            other => panic!("bucket {} has {other:?}", b.id),
        }
    }
    // The overflow lists of extra, in order.
    let ex = r.extra.as_ref().expect("extra");
    let listed =
        |l: &Option<map_inspect::report::OverflowList>| l.as_ref().map_or(0, |l| l.buckets.len());
    assert_eq!(listed(&ex.overflow), view.overflow_list().len());
    assert_eq!(listed(&ex.oldoverflow), view.old_overflow_list().len());
    assert_eq!(ex.next_overflow.0, view.next_overflow() as u64);
}

#[test]
fn snapshot_of_string_keys_reads_the_string_bytes() {
    let mut m = DynMap::new(GoType::String, GoType::Bytes(3), 0);
    for i in 0..70u32 {
        let k = GoValue::String(format!("gopher-{i}-{}", "x".repeat(i as usize % 7)));
        m.insert(&k, &GoValue::Bytes(vec![i as u8, 1, 2])).unwrap();
    }
    let file = write_snapshot("strings.snap", &m.snapshot().to_bytes());
    let r = parse_report(&run_ok(&["dump", &file, "--format", "json"]));
    check_against_api(&r, &m);
    assert_eq!(r.map.key_type, "string");
    assert!(r.warnings.is_empty(), "{:?}", r.warnings);
    let t = run_ok(&["dump", &file, "--no-hex"]);
    assert!(t.contains("\"gopher-1-x\""), "strings are shown Go-quoted");
}

#[test]
fn save_snapshot_then_dump_it() {
    let path = support::tmp_dir("snapshots").join("demo.snap");
    let p = path.to_str().unwrap();
    let live = parse_report(&run_ok(&["dump", "--format", "json", "--save-snapshot", p]));
    let saved = parse_report(&run_ok(&["dump", p, "--format", "json"]));
    assert_eq!(saved.header, live.header);
    assert_eq!(saved.buckets, live.buckets);
    assert_eq!(saved.summary, live.summary);
}

#[test]
fn bucket_old_new_max_buckets_and_no_hex_select_what_they_say() {
    let all = parse_report(&run_ok(&["dump", "--format", "json"]));
    // --bucket N: the chain of head N in each array.
    let chain = all
        .chains
        .iter()
        .find(|c| c.head.starts_with("main"))
        .expect("a current chain");
    let n: usize = chain.head["main[".len()..chain.head.len() - 1]
        .parse()
        .unwrap();
    let r = parse_report(&run_ok(&[
        "dump",
        "--format",
        "json",
        "--new",
        "--bucket",
        &n.to_string(),
    ]));
    let ids: Vec<&str> = r.buckets.iter().map(|b| b.id.as_str()).collect();
    assert_eq!(
        ids,
        chain.buckets.iter().map(String::as_str).collect::<Vec<_>>()
    );
    assert_eq!(r.shown.filter, format!("current array, bucket {n}"));
    let both = parse_report(&run_ok(&["dump", "--format", "json", "--bucket", "1"]));
    assert!(both.buckets.iter().any(|b| b.id == "main[1]"));
    assert!(both.buckets.iter().any(|b| b.id == "old[1]"));
    assert!(both.buckets.iter().all(|b| b
        .chain
        .as_deref()
        .is_some_and(|c| c == "main[1]" || c == "old[1]")));
    // A preallocated index picks that bucket.
    let pre = all
        .buckets
        .iter()
        .find(|b| b.kind == "preallocated")
        .unwrap();
    let i = pre.index.unwrap().to_string();
    let r = parse_report(&run_ok(&[
        "dump", "--format", "json", "--new", "--bucket", &i,
    ]));
    assert_eq!(r.buckets.iter().filter(|b| b.id == pre.id).count(), 1);
    // --old / --new.
    let old = parse_report(&run_ok(&["dump", "--format", "json", "--old"]));
    assert!(!old.buckets.is_empty());
    assert!(old.buckets.iter().all(
        |b| b.array == "oldbuckets" || b.chain.as_deref().is_some_and(|c| c.starts_with("old"))
    ));
    let new = parse_report(&run_ok(&["dump", "--format", "json", "--new"]));
    assert_eq!(old.buckets.len() + new.buckets.len(), all.buckets.len());
    assert!(new.buckets.iter().all(|b| b.array != "oldbuckets"));
    // --max-buckets.
    let few = parse_report(&run_ok(&["dump", "--format", "json", "--max-buckets", "3"]));
    assert_eq!(few.buckets.len(), 3);
    assert_eq!(few.shown.selected, all.buckets.len());
    // (Each run builds the demo afresh: same contents, other addresses.)
    let ids = |r: &Report, n: usize| {
        r.buckets[..n]
            .iter()
            .map(|b| (b.id.clone(), b.slots.clone()))
            .collect::<Vec<_>>()
    };
    assert_eq!(ids(&few, 3), ids(&all, 3));
    let t = run_ok(&["dump", "--max-buckets", "3", "--color", "never"]);
    assert!(
        t.contains("--max-buckets left out"),
        "the text says what was left out"
    );
    // --no-hex.
    let nohex = parse_report(&run_ok(&["dump", "--format", "json", "--no-hex"]));
    assert!(nohex.buckets.iter().all(|b| b.bytes.is_none()));
    let t = run_ok(&["dump", "--no-hex", "--color", "never"]);
    assert!(!t
        .lines()
        .any(|l| l.trim_start().starts_with("0x0000") && l.contains('|')));
    let with_hex = run_ok(&["dump", "--color", "never"]);
    assert!(with_hex
        .lines()
        .any(|l| l.trim_start().starts_with("0x0000") && l.contains('|')));
    // A bucket that does not exist.
    let out = run(&["dump", "--bucket", "9999"], Duration::from_secs(30));
    assert!(!out.status.success());
    assert!(out.stderr.contains("no bucket 9999"), "{}", out.stderr);
}

#[test]
fn colour_only_when_asked_or_on_a_terminal() {
    // A snapshot file: two dumps of it show the same addresses.
    let file = write_snapshot("colour.snap", &grown_map().snapshot().to_bytes());
    let always = run_ok(&["dump", &file, "--color", "always"]);
    assert!(always.contains("\x1b["), "--color always colours");
    let never = run_ok(&["dump", &file, "--color", "never"]);
    assert!(!never.contains('\x1b'));
    // auto: standard output is a pipe here, so no colour.
    let auto = run_ok(&["dump", &file]);
    assert_eq!(auto, never);
    // Colour changes nothing but the escapes.
    assert_eq!(strip_ansi(&always), never);
}

fn strip_ansi(s: &str) -> String {
    let mut out = String::new();
    let mut it = s.chars().peekable();
    while let Some(c) = it.next() {
        if c == '\x1b' && it.peek() == Some(&'[') {
            for d in it.by_ref() {
                if d == 'm' {
                    break;
                }
            }
        } else {
            out.push(c);
        }
    }
    out
}

#[test]
fn help_explains_every_option_with_an_example() {
    let top = run_ok(&["--help"]);
    assert!(top.contains("dump") && top.contains("replay") && top.contains("Examples:"));
    let h = run_ok(&["dump", "--help"]);
    for opt in [
        "--pid",
        "--addr",
        "--go",
        "--types",
        "--key-size",
        "--elem-size",
        "--keys",
        "--hint",
        "--deletes",
        "--grow-writes",
        "--at-op",
        "--seed",
        "--save-snapshot",
        "--format",
        "--color",
        "--bucket",
        "--old",
        "--new",
        "--no-hex",
        "--max-buckets",
        "--limit-mib",
    ] {
        let lines: Vec<&str> = h.lines().collect();
        let at = lines
            .iter()
            .position(|l| {
                let t = l.trim_start();
                t == opt || t.starts_with(&format!("{opt} ")) || t.starts_with(&format!("{opt}="))
            })
            .unwrap_or_else(|| panic!("dump --help does not list {opt}:\n{h}"));
        // The option's help (up to the next option or heading) has an example.
        let para: Vec<&str> = lines[at..]
            .iter()
            .enumerate()
            .take_while(|(i, l)| {
                *i == 0
                    || !(l.trim_start().starts_with('-') || (!l.starts_with(' ') && !l.is_empty()))
            })
            .map(|(_, l)| *l)
            .collect();
        assert!(
            para.iter().any(|l| l.contains("Example")),
            "dump --help: {opt} has no example:\n{}",
            para.join("\n")
        );
    }
}

fn schema() -> Value {
    let p = Path::new(env!("CARGO_MANIFEST_DIR")).join("../docs/dump.schema.json");
    serde_json::from_str(&std::fs::read_to_string(p).expect("docs/dump.schema.json"))
        .expect("the schema is JSON")
}

#[test]
fn json_output_follows_the_documented_schema() {
    let s = schema();
    let m = grown_map();
    let file = write_snapshot("schema.snap", &m.snapshot().to_bytes());
    let runs: [&[&str]; 6] = [
        &["dump", "--format", "json"],
        &["dump", "--format", "json", "--no-hex", "--old"],
        &[
            "dump",
            "--format",
            "json",
            "--types",
            "string:[130]uint8",
            "--keys",
            "20",
        ],
        &[
            "dump",
            "--format",
            "json",
            "--types",
            "float32:bool",
            "--at-op",
            "0",
        ],
        &["dump", "--format", "json", "--bucket", "2"],
        &["dump", &file, "--format", "json"],
    ];
    for args in runs {
        let v: Value = serde_json::from_str(&run_ok(args)).expect("JSON");
        if let Err(e) = support::schema::validate(&s, &v) {
            panic!("map-inspect {}: {e}", args.join(" "));
        }
    }
    // The schema is strict: output with a field missing, an extra field or a wrong type
    // fails.
    let good: Value = serde_json::from_str(&run_ok(&["dump", "--format", "json"])).unwrap();
    let mut missing = good.clone();
    missing["summary"].as_object_mut().unwrap().remove("live");
    let mut extra = good.clone();
    extra["buckets"][0]["surprise"] = 1.into();
    let mut wrong = good.clone();
    wrong["buckets"][0]["slots"][0]["state"] = "FULL".into();
    let mut bad_addr = good.clone();
    bad_addr["header"]["buckets"] = "12345".into();
    for (what, doc) in [
        ("missing", missing),
        ("extra", extra),
        ("wrong", wrong),
        ("addr", bad_addr),
    ] {
        assert!(
            support::schema::validate(&s, &doc).is_err(),
            "{what}: invalid output passed"
        );
    }
}

#[test]
fn the_schema_doc_describes_every_field() {
    let doc =
        std::fs::read_to_string(Path::new(env!("CARGO_MANIFEST_DIR")).join("../docs/dump-json.md"))
            .expect("docs/dump-json.md");
    fn names(v: &Value, out: &mut Vec<String>) {
        match v {
            Value::Object(o) => {
                if let Some(Value::Object(p)) = o.get("properties") {
                    out.extend(p.keys().cloned());
                }
                o.values().for_each(|x| names(x, out));
            }
            Value::Array(a) => a.iter().for_each(|x| names(x, out)),
            _ => {}
        }
    }
    let mut all = Vec::new();
    names(&schema(), &mut all);
    for n in all {
        assert!(
            doc.contains(&format!("`{n}`")),
            "docs/dump-json.md does not describe `{n}`"
        );
    }
}

/// `-o FILE` writes exactly what standard output gets (JSON is serialized as it is written,
/// text and HTML are written from their rendering), each with one final newline, and says
/// how many bytes it wrote; a FILE that cannot be created is a clean error. The map is a
/// snapshot, so that both runs read the same memory at the same addresses.
#[test]
#[cfg_attr(miri, ignore)]
fn output_file_holds_what_stdout_prints() {
    let dir = support::tmp_dir("dump-output-file");
    let snap = dir.join("demo.snap");
    let snap = snap.to_str().unwrap();
    run_ok(&["dump", "--save-snapshot", snap]);
    for format in ["json", "text", "html"] {
        let path = dir.join(format!("demo.{format}"));
        let file = path.to_str().unwrap();
        let printed = run_ok(&["dump", snap, "--format", format, "--color", "never"]);
        let out = run(
            &[
                "dump", snap, "--format", format, "--color", "never", "-o", file,
            ],
            Duration::from_secs(60),
        );
        assert!(out.status.success(), "{format}: {}", out.stderr);
        assert_eq!(out.stdout, "", "{format}: -o prints nothing to stdout");
        let written = std::fs::read_to_string(&path).unwrap();
        // Each page has its own script nonce; the rest must be the same.
        let same_nonce = |doc: &str| match doc.split_once("'nonce-") {
            Some((_, rest)) => {
                let nonce: String = rest.chars().take_while(char::is_ascii_hexdigit).collect();
                assert!(nonce.len() >= 16, "{format}: a nonce of {nonce:?}");
                doc.replace(&nonce, "NONCE")
            }
            None => doc.to_string(),
        };
        assert!(
            same_nonce(&written) == same_nonce(&printed),
            "{format}: the file ({} bytes) differs from stdout ({} bytes)",
            written.len(),
            printed.len()
        );
        assert!(
            written.ends_with('\n') && !written.ends_with("\n\n"),
            "{format}"
        );
        assert!(
            out.stderr
                .contains(&format!("wrote {file} ({} bytes)", written.len())),
            "{format}: {}",
            out.stderr
        );
        if format == "json" {
            let json: Value = serde_json::from_str(&written).unwrap();
            assert_eq!(json["schema"], "gomap-dump/1");
        }
    }
    let out = run(
        &[
            "dump",
            snap,
            "--format",
            "json",
            "-o",
            "/nonexistent-dir/x.json",
        ],
        Duration::from_secs(60),
    );
    assert_eq!(out.status.code(), Some(1), "{}", out.stderr);
    assert!(
        out.stderr
            .starts_with("map-inspect: error: cannot write /nonexistent-dir/x.json: "),
        "{}",
        out.stderr
    );
}
