//! Go's map hashes bit for bit, and `map-inspect check` / `map-inspect get` on real maps.
//!
//! * `hash_vectors_match_the_runtime`: `tests/go-hash`, built with Go 1.19, 1.22, 1.23, 1.24
//!   and 1.27 and run with AES (the default) and with `GODEBUG=cpu.aes=off`, prints the
//!   runtime's own `memhash` (every length 0..300), `strhash`, `memhash32`, `memhash64`,
//!   `f32hash`, `f64hash` and the compiler's hashers of struct, array, float and string key
//!   types, with the state it used (`useAeshash`, `aeskeysched`, `hashkey`). map-inspect reads
//!   that state out of the live process through the executable's symbols, and must compute
//!   every value.
//! * The check and get tests run `tests/go-inspect check`, which holds intact maps of many
//!   key types and copies damaged with `unsafe` in one way each, for every classic Go version
//!   and every Swiss-table one (Go 1.24–1.27, and 1.27 with `GOEXPERIMENT=mapsplitgroup`).

#[allow(dead_code)]
mod support;

use std::path::Path;
use std::process::Command;

use map_inspect::program::hash::{self, FloatHash};
use map_inspect::program::keys::{self, KeyPlan, KeyType, Rules};
use map_inspect::program::Program;
use map_inspect::source::ProcessReader;
use serde_json::Value;

use support::goprog::{build_all_of, Spec};
use support::Target;

fn hex(v: &Value) -> u64 {
    u64::from_str_radix(v.as_str().expect("a hex string"), 16).expect("hex")
}

fn bytes(v: &Value) -> Vec<u8> {
    let s = v.as_str().expect("a hex string");
    (0..s.len())
        .step_by(2)
        .map(|i| u8::from_str_radix(&s[i..i + 2], 16).expect("hex"))
        .collect()
}

/// The versions whose runtime hashes are checked: both portable versions, and the AES code
/// before and after Go 1.27 moved it.
const HASH_VERSIONS: [&str; 5] = ["1.19", "1.22", "1.23", "1.24", "1.27"];

fn hash_spec(v: &'static str) -> Spec {
    let minor: u32 = v[2..].parse().unwrap();
    Spec {
        version: v,
        experiment: None,
        // Go 1.23+ refuse go:linkname to runtime variables unless told not to check.
        ldflags: if minor >= 23 { "-checklinkname=0" } else { "" },
        tag: format!("go{v}"),
    }
}

/// Runs one build, with AES or without, and checks every vector it printed; returns how many.
fn check_vectors(v: &str, bin: &Path, aes: bool) -> usize {
    let label = format!("Go {v} {}", if aes { "AES" } else { "cpu.aes=off" });
    let mut cmd = Command::new(bin);
    if aes {
        cmd.env_remove("GODEBUG");
    } else {
        cmd.env("GODEBUG", "cpu.aes=off");
    }
    let t = Target::start(cmd);
    let info = &t.info;
    assert!(
        info["go"].as_str().unwrap().starts_with(&format!("go{v}")),
        "{label}: {}",
        info["go"]
    );
    // The state, read by map-inspect out of the live process, is the one Go printed.
    let prog = Program::open(bin).expect("open the Go program");
    let r = ProcessReader::new(t.pid() as i32).expect("read the process");
    let st = hash::read_state(&prog, &r).unwrap_or_else(|e| panic!("{label}: {e}"));
    assert_eq!(st.use_aes, info["useAeshash"].as_bool().unwrap(), "{label}");
    assert_eq!(
        st.aeskeysched.to_vec(),
        bytes(&info["aeskeysched"]),
        "{label}: aeskeysched"
    );
    let printed: Vec<u64> = info["hashkey"]
        .as_array()
        .unwrap()
        .iter()
        .map(hex)
        .collect();
    assert_eq!(st.hashkey.to_vec(), printed, "{label}: hashkey");
    assert_eq!(
        st.symbols.join(" "),
        info["symbols"].as_str().unwrap(),
        "{label}: the symbols read"
    );
    if aes {
        assert!(
            st.use_aes || !hash::aes::available(),
            "{label}: this CPU has AES but Go did not use it"
        );
    } else {
        assert!(
            !st.use_aes,
            "{label}: GODEBUG=cpu.aes=off did not switch AES off"
        );
    }
    let version = prog.build.version.unwrap();
    let h = hash::from_state(&st, version, "the test").unwrap_or_else(|e| panic!("{label}: {e}"));
    assert_eq!(
        h.short_name(),
        match (st.use_aes, version.minor >= 23) {
            (true, _) => "aes",
            (false, false) => "portable-1.19",
            (false, true) => "portable-1.23",
        },
        "{label}"
    );
    let mut n = 0;
    let rows = |k: &str| info[k].as_array().unwrap_or_else(|| panic!("{k}")).clone();
    for row in rows("mem") {
        let (seed, input, want) = (hex(&row[0]), bytes(&row[1]), hex(&row[2]));
        assert_eq!(
            h.memhash(&input, seed),
            want,
            "{label}: memhash of {} bytes {}, seed {seed:#x}",
            input.len(),
            row[1]
        );
        n += 1;
    }
    for row in rows("str") {
        let (seed, input, want) = (hex(&row[0]), bytes(&row[1]), hex(&row[2]));
        assert_eq!(
            h.strhash(&input, seed),
            want,
            "{label}: strhash of {} bytes",
            input.len()
        );
        n += 1;
    }
    for row in rows("mem32") {
        let (seed, x, want) = (hex(&row[0]), hex(&row[1]), hex(&row[2]));
        assert_eq!(
            h.memhash32(x as u32, seed),
            want,
            "{label}: memhash32({x:#x})"
        );
        n += 1;
    }
    for row in rows("mem64") {
        let (seed, x, want) = (hex(&row[0]), hex(&row[1]), hex(&row[2]));
        assert_eq!(h.memhash64(x, seed), want, "{label}: memhash64({x:#x})");
        n += 1;
    }
    for row in rows("f32") {
        let (seed, bits, want) = (hex(&row[0]), hex(&row[1]), hex(&row[2]));
        assert_eq!(
            h.f32hash(bits as u32, seed),
            FloatHash::Hash(want),
            "{label}: f32hash({bits:#x})"
        );
        n += 1;
    }
    for row in rows("f64") {
        let (seed, bits, want) = (hex(&row[0]), hex(&row[1]), hex(&row[2]));
        assert_eq!(
            h.f64hash(bits, seed),
            FloatHash::Hash(want),
            "{label}: f64hash({bits:#x})"
        );
        n += 1;
    }
    let nan = rows("nan");
    assert_ne!(nan[0], nan[1], "{label}: Go hashes NaN randomly");
    assert_eq!(h.f64hash(f64::NAN.to_bits(), 7), FloatHash::Random);
    // The compiler's hashers of key types, with the types from the binary's DWARF.
    let dw = prog.dwarf().unwrap().expect("DWARF");
    let vars = dw.variables().unwrap();
    let rules = Rules::for_minor(version.minor);
    for tv in rows("types") {
        let name = tv["var"].as_str().unwrap();
        let var = vars
            .get(name)
            .unwrap_or_else(|| panic!("{label}: no variable {name}"));
        let ty = KeyType::from_dwarf(&dw.type_at(var.ty).unwrap());
        let plan = KeyPlan::new(&ty, rules).unwrap_or_else(|e| panic!("{label} {name}: {e}"));
        for k in tv["keys"].as_array().unwrap() {
            let lit = k[0].as_str().unwrap();
            let (seed, want) = (hex(&k[1]), hex(&k[2]));
            let key = keys::parse(lit, &ty).unwrap_or_else(|e| panic!("{label} {name}: {e}"));
            assert_eq!(
                plan.hash(&key, &h, seed),
                Some(want),
                "{label}: the hasher of {name}'s type ({}) on {lit}, seed {seed:#x}",
                plan.describe()
            );
            n += 1;
        }
    }
    n
}

#[test]
#[cfg_attr(miri, ignore)]
fn hash_vectors_match_the_runtime() {
    let specs: Vec<Spec> = HASH_VERSIONS.iter().map(|v| hash_spec(v)).collect();
    let bins = build_all_of("go-hash", &specs);
    let mut total = 0;
    for (v, bin) in HASH_VERSIONS.iter().zip(&bins) {
        for aes in [true, false] {
            total += check_vectors(v, bin, aes);
        }
    }
    eprintln!("{total} hash vectors of the real runtime checked");
    assert!(total > 40_000, "{total}");
}

// ---------------------------------------------------------------------------------------------
// check and get on real Go maps.

use map_inspect::check::{self as ck, CheckOptions};
use map_inspect::dump::{DumpOptions, Format, Source, Target as MapTarget};
use support::goprog::{build_all, CLASSIC, SWISS};
use support::run;

const LIMIT: std::time::Duration = std::time::Duration::from_secs(120);

fn opts(pid: u32, expr: &str, keys: Vec<String>) -> CheckOptions {
    CheckOptions {
        map: DumpOptions {
            source: Source::Process {
                pid: pid as i32,
                go: true,
            },
            target: Some(MapTarget::Var(expr.to_string())),
            format: Format::Json,
            ..DumpOptions::default()
        },
        hashkey: None,
        keys,
    }
}

/// The group a Swiss lookup visits `i` steps into its probe sequence: `t0.g5` for step 0
/// at group 5 of table 0, then Go's triangular steps (`probeSeq.next`) over `groups`.
fn probe_step(first: &str, i: u64, groups: u64) -> String {
    let (table, g) = first.split_once(".g").expect("a group name tN.gG");
    let g0: u64 = g.parse().unwrap();
    format!("{table}.g{}", (g0 + i * (i + 1) / 2) & (groups - 1))
}

/// Every check and lookup of one version's `go-inspect check`.
fn check_version(version: &str, bin: &Path, swiss: bool) {
    let label = format!("Go {version}{}", if swiss { " Swiss" } else { "" });
    let mut cmd = Command::new(bin);
    cmd.arg("check");
    let t = Target::start(cmd);
    let pid = t.pid();
    let p = pid.to_string();
    let info = &t.info;
    if !swiss {
        assert!(
            info["sameSizeGrow"].as_bool().unwrap(),
            "{label}: main.ckSame"
        );
    }
    let mut lookups = 0;
    for m in info["maps"].as_array().unwrap() {
        let expr = m["expr"].as_str().unwrap();
        // check: consistent, every entry checked.
        let r = ck::check_report(&opts(pid, expr, Vec::new()))
            .unwrap_or_else(|e| panic!("{label} check {expr}: {}", e.message));
        assert!(r.consistent, "{label}: check {expr}: {:#?}", r.violations);
        assert_eq!(r.entries, m["count"].as_u64().unwrap(), "{label} {expr}");
        if expr == "main.ckF64" {
            assert!(
                r.notes.iter().any(|n| n.contains("NaN")),
                "{label}: {:?}",
                r.notes
            );
        }
        // get: every key, with Go's hash and first bucket; the absent keys absent.
        let keys: Vec<&Value> = m["keys"].as_array().unwrap().iter().collect();
        let absent: Vec<String> = m["absent"]
            .as_array()
            .unwrap()
            .iter()
            .map(|a| a.as_str().unwrap().to_string())
            .collect();
        let mut texts: Vec<String> = keys
            .iter()
            .map(|k| k["key"].as_str().unwrap().to_string())
            .collect();
        texts.extend(absent.iter().cloned());
        let g = ck::get_report(&opts(pid, expr, texts))
            .unwrap_or_else(|e| panic!("{label} get {expr}: {}", e.message));
        assert_eq!(g.lookups.len(), keys.len() + absent.len());
        for (k, l) in keys.iter().zip(&g.lookups) {
            let what = format!("{label}: get {expr} {}", l.key);
            if k["hash"] == "" {
                // A NaN: Go hashes it randomly, and never finds it.
                assert!(l.hash.is_none() && !l.found, "{what}: {l:?}");
                continue;
            }
            assert_eq!(l.hash.as_deref(), k["hash"].as_str(), "{what}: the hash");
            assert_eq!(
                l.bucket.as_deref(),
                k["bucket"].as_str(),
                "{what}: the bucket Go reads"
            );
            assert!(l.found, "{what}: not found: {l:#?}");
            if swiss {
                // Where the key is in memory, reached along Go's probe sequence: the groups
                // visited are the sequence's, from the first group to the key's.
                let at = k["at"].as_str().unwrap();
                assert_eq!(l.at.as_deref(), Some(at), "{what}: where the key is");
                let hash = u64::from_str_radix(&k["hash"].as_str().unwrap()[2..], 16).unwrap();
                assert_eq!(
                    l.tophash.as_deref(),
                    Some(format!("{:#04x}", hash & 0x7f).as_str()),
                    "{what}: H2"
                );
                let groups = k["groups"].as_u64().unwrap();
                let first = k["bucket"].as_str().unwrap();
                for (i, visit) in l.visited.iter().enumerate() {
                    let want = if groups == 0 {
                        "small".to_string()
                    } else {
                        probe_step(first, i as u64, groups)
                    };
                    assert_eq!(visit.bucket, want, "{what}: step {i} of the probe sequence");
                }
                let last = &l.visited.last().unwrap().bucket;
                assert!(at.starts_with(&format!("{last} slot ")), "{what}: {l:#?}");
            }
            assert_eq!(
                support::goprog::normalize(l.elem_json.as_ref().unwrap()),
                support::goprog::normalize(&k["elem"]),
                "{what}: the elem"
            );
            lookups += 1;
        }
        for l in &g.lookups[keys.len()..] {
            assert!(!l.found, "{label}: get {expr} {}: found {:?}", l.key, l.at);
            lookups += 1;
        }
    }

    // The damaged maps: exit status 1, exactly the damage done, at its place.
    for d in info["damaged"].as_array().unwrap() {
        let expr = d["expr"].as_str().unwrap();
        let out = run(&["check", "--pid", &p, "--format", "json", expr], LIMIT);
        assert_eq!(out.status.code(), Some(1), "{label} {expr}: {}", out.stderr);
        assert!(
            out.stderr
                .contains("the map is not consistent: 1 violation"),
            "{label} {expr}: {}",
            out.stderr
        );
        let r: ck::CheckReport = serde_json::from_str(&out.stdout).unwrap();
        assert!(!r.consistent);
        assert_eq!(r.violations.len(), 1, "{label} {expr}: {:#?}", r.violations);
        let v = &r.violations[0];
        let kind = d["kind"].as_str().unwrap();
        assert_eq!(v.kind, kind, "{label} {expr}: {v:#?}");
        let (bucket, slot, key) = (
            d["bucket"].as_str().unwrap(),
            d["slot"].as_i64().unwrap(),
            d["key"].as_str().unwrap(),
        );
        let some = |s: &str| (!s.is_empty()).then(|| s.to_string());
        match kind {
            // Swiss: the map's used, a table's used, its growthLeft, its index.
            "used" | "growth-left" | "directory" => {
                assert_eq!(v.bucket, some(bucket), "{label} {expr}: {v:#?}");
                assert!(
                    v.slot.is_none() && v.key.is_none(),
                    "{label} {expr}: {v:#?}"
                );
                let want = match (kind, bucket) {
                    ("used", "") => format!(
                        "used is {}, but {} slots are full",
                        r.entries + 1,
                        r.entries
                    ),
                    ("used", t) => format!("table {}: used = ", &t[1..]),
                    ("directory", _) => "index = ".to_string(),
                    (_, t) => format!("table {}: growthLeft = ", &t[1..]),
                };
                assert!(v.message.starts_with(&want), "{label} {expr}: {v:#?}");
            }
            "count" => assert!(
                v.message
                    .starts_with(&format!("count is {}", r.entries + 1)),
                "{label} {expr}: {v:#?}"
            ),
            "chain" => assert!(
                v.message
                    .contains(&format!("the overflow chain of {bucket} is cyclic")),
                "{label} {expr}: {v:#?}"
            ),
            "duplicate" => {
                let other = d["other"].as_i64().unwrap();
                let (a, b) = (slot.min(other), slot.max(other));
                assert_eq!(v.bucket.as_deref(), Some(bucket), "{label} {expr}");
                assert_eq!(v.slot, Some(b as usize), "{label} {expr}: {v:#?}");
                assert!(
                    v.message.contains(&format!("also in {bucket} slot {a}")),
                    "{label} {expr}: {v:#?}"
                );
                assert_eq!(v.key.as_deref(), Some(key), "{label} {expr}");
            }
            _ => {
                assert_eq!(v.bucket, some(bucket), "{label} {expr}: {v:#?}");
                assert_eq!(v.slot, usize::try_from(slot).ok(), "{label} {expr}: {v:#?}");
                assert_eq!(v.key, some(key), "{label} {expr}: {v:#?}");
            }
        }
        // The text names the same place.
        let out = run(&["check", "--pid", &p, expr], LIMIT);
        assert!(
            out.stdout.contains("map is NOT consistent: 1 violation")
                && out.stdout.contains(&v.line()),
            "{label} {expr}: {}",
            out.stdout
        );
        // A key its hash does not lead to is one Go's lookup cannot find.
        if matches!(kind, "h2" | "probe" | "table" | "bucket" | "tophash") {
            let g = ck::get_report(&opts(pid, expr, vec![key.to_string()]))
                .unwrap_or_else(|e| panic!("{label} get {expr}: {}", e.message));
            assert!(
                !g.lookups[0].found,
                "{label} get {expr} {key}: {:#?}",
                g.lookups[0]
            );
        }
    }

    // Interface keys: the check cannot run.
    let expr = info["unsupported"].as_str().unwrap();
    let out = run(&["check", "--pid", &p, expr], LIMIT);
    assert_eq!(out.status.code(), Some(2), "{label}: {}", out.stderr);
    assert!(
        out.stderr.contains("interface keys are not supported")
            && out
                .stderr
                .contains(&format!("Go {}", version.split(' ').next().unwrap())),
        "{label}: {}",
        out.stderr
    );
    // The text of a consistent map and of a lookup.
    let out = run(&["check", "--pid", &p, "main.ckKey"], LIMIT);
    assert!(out.status.success(), "{label}: {}", out.stderr);
    assert!(
        out.stdout
            .contains("map is consistent (51 entries checked)"),
        "{label}: {}",
        out.stdout
    );
    let out = run(
        &[
            "get",
            "--pid",
            &p,
            "main.deletes",
            "\"key-004\"",
            "\"key-003\"",
        ],
        LIMIT,
    );
    assert!(out.status.success(), "{label}: {}", out.stderr);
    assert!(
        out.stdout.contains("matches")
            && out.stdout.contains("found at ")
            && out.stdout.contains("absent"),
        "{label}: {}",
        out.stdout
    );
    eprintln!("{label}: {lookups} lookups");
}

/// `check_version` of every build, three at a time.
fn check_versions(all: &[(&str, &Path)], swiss: bool) {
    support::in_groups(all, 3, |&(v, bin)| check_version(v, bin, swiss));
}

#[test]
#[cfg_attr(miri, ignore)]
fn check_and_get_on_every_classic_version() {
    let specs: Vec<Spec> = CLASSIC.iter().map(|(v, x)| Spec::classic(v, *x)).collect();
    let bins = build_all(&specs);
    let all: Vec<(&str, &Path)> = CLASSIC
        .iter()
        .zip(&bins)
        .map(|((v, _), b)| (*v, b.as_path()))
        .collect();
    check_versions(&all, false);
}

/// The Swiss-table builds (the ones `go_swiss.rs` makes): every intact map consistent, every
/// key found along Go's probe sequence with Go's hash, H2 and first group, and each damaged
/// map reported with exactly its one violation, at its place.
#[test]
#[cfg_attr(miri, ignore)]
fn check_and_get_on_every_swiss_version() {
    let specs: Vec<Spec> = SWISS.iter().map(|(v, x)| Spec::swiss(v, *x)).collect();
    let bins = build_all(&specs);
    let labels: Vec<String> = SWISS
        .iter()
        .map(|(v, x)| match x {
            Some(x) => format!("{v} {x}"),
            None => v.to_string(),
        })
        .collect();
    let all: Vec<(&str, &Path)> = labels
        .iter()
        .zip(&bins)
        .map(|(l, b)| (l.as_str(), b.as_path()))
        .collect();
    check_versions(&all, true);
}

// ---------------------------------------------------------------------------------------------
// gomap's own maps: the demo, a snapshot, a Rust process.

#[test]
#[cfg_attr(miri, ignore)]
fn gomap_maps_demo_snapshot_and_rust_process() {
    // The demo, with two key types.
    for types in [None, Some("string:int64")] {
        let mut a = vec!["check"];
        if let Some(t) = types {
            a.extend(["--types", t]);
        }
        let out = run(&a, LIMIT);
        assert!(out.status.success(), "{types:?}: {}", out.stderr);
        assert!(out.stdout.contains("map is consistent ("), "{}", out.stdout);
        assert!(out.stdout.contains("gomap's GoHasher"), "{}", out.stdout);
    }
    // A snapshot: the hashkey is not in it.
    let dir = support::tmp_dir("check-snapshot");
    let snap = dir.join("demo.snap");
    let s = snap.to_string_lossy().to_string();
    let out = run(&["dump", "--seed", "7", "--save-snapshot", &s], LIMIT);
    assert!(out.status.success(), "{}", out.stderr);
    let out = run(&["check", &s], LIMIT);
    assert_eq!(out.status.code(), Some(2), "{}", out.stderr);
    assert!(out.stderr.contains("--hashkey"), "{}", out.stderr);
    let key = format!("{:#x}", map_inspect::demo::hashkey_for(7));
    let out = run(&["check", &s, "--hashkey", &key, "--format", "json"], LIMIT);
    assert!(out.status.success(), "{}", out.stderr);
    let r: ck::CheckReport = serde_json::from_str(&out.stdout).unwrap();
    assert!(r.consistent && r.entries > 40, "{r:?}");
    // With a wrong hashkey the keys are not where their hashes say: the check can fail.
    let out = run(
        &["check", &s, "--hashkey", "0x12345", "--format", "json"],
        LIMIT,
    );
    assert_eq!(out.status.code(), Some(1), "{}", out.stderr);
    let r: ck::CheckReport = serde_json::from_str(&out.stdout).unwrap();
    assert!(
        r.violations.iter().any(|v| v.kind == "bucket")
            && r.violations.iter().any(|v| v.kind == "tophash"),
        "{:?}",
        r.violations
    );
    assert!(
        r.notes
            .iter()
            .any(|n| n.contains("the hash used may not be the map's")),
        "{:?}",
        r.notes
    );
    let out = run(&["get", &s, "5", "1000000", "--hashkey", &key], LIMIT);
    assert!(out.status.success(), "{}", out.stderr);
    assert!(
        out.stdout.contains("key 5: hash")
            && out.stdout.contains("found at")
            && out.stdout.contains("absent"),
        "{}",
        out.stdout
    );
    let _ = std::fs::remove_dir_all(&dir);

    // A Rust process: the hashkey comes from its gomap::hash::HASHKEY.
    let t = Target::start(Command::new(support::hold_gomap()));
    let pid = t.pid().to_string();
    for name in ["u64", "boxstr", "u128"] {
        let m = t.map(name);
        let types = m["types"].as_str().unwrap();
        let hmap = m["hmap"].as_str().unwrap();
        let out = run(
            &[
                "check", "--pid", &pid, "--addr", hmap, "--types", types, "--format", "json",
            ],
            LIMIT,
        );
        assert!(out.status.success(), "{name}: {}", out.stderr);
        let r: ck::CheckReport = serde_json::from_str(&out.stdout).unwrap();
        assert!(r.consistent, "{name}: {:?}", r.violations);
        assert_eq!(
            r.entries as usize,
            m["entries"].as_array().unwrap().len(),
            "{name}"
        );
        assert!(r.hash.contains("gomap::hash::HASHKEY of pid"), "{}", r.hash);
    }
    // Every key of the mid-grow u64 map, found with its elem.
    let m = t.map("u64");
    let keys: Vec<String> = m["entries"]
        .as_array()
        .unwrap()
        .iter()
        .map(|e| e[0].to_string())
        .collect();
    let mut a = vec![
        "get",
        "--pid",
        &pid,
        "--addr",
        m["hmap"].as_str().unwrap(),
        "--types",
        "u64:u64",
        "--format",
        "json",
    ];
    a.extend(keys.iter().map(|k| k.as_str()));
    let out = run(&a, LIMIT);
    assert!(out.status.success(), "{}", out.stderr);
    let g: ck::GetReport = serde_json::from_str(&out.stdout).unwrap();
    for (l, e) in g.lookups.iter().zip(m["entries"].as_array().unwrap()) {
        assert!(l.found, "{}: {l:?}", l.key);
        assert_eq!(l.elem_json.as_ref(), Some(&e[1]), "{}", l.key);
    }
}

// ---------------------------------------------------------------------------------------------
// What a user meets when the check cannot run, and nil maps.

fn fails2(out: &support::Out, wants: &[&str], what: &str) {
    assert_eq!(out.status.code(), Some(2), "{what}: {}", out.stderr);
    assert!(!out.stderr.contains("panicked"), "{what}: {}", out.stderr);
    for w in wants {
        assert!(
            out.stderr.contains(w),
            "{what}: {:?} does not say {w:?}",
            out.stderr
        );
    }
}

#[test]
#[cfg_attr(miri, ignore)]
fn check_and_get_errors_and_nil_maps() {
    let specs = [
        Spec::classic("1.22", None),
        Spec {
            version: "1.22",
            experiment: None,
            ldflags: "-s -w",
            tag: "go1.22-stripped".into(),
        },
        Spec {
            version: "1.22",
            experiment: None,
            ldflags: "-w",
            tag: "go1.22-nodwarf".into(),
        },
        Spec {
            version: "1.24",
            experiment: None,
            ldflags: "",
            tag: "go1.24-swiss".into(),
        },
    ];
    let bins = build_all(&specs);
    let go = "Go 1.22";
    let t = Target::start(Command::new(&bins[0]));
    let p = t.pid().to_string();
    // A nil map is consistent and holds nothing.
    let out = run(&["check", "--pid", &p, "main.nilMap"], LIMIT);
    assert!(out.status.success(), "{}", out.stderr);
    assert!(
        out.stdout.contains("a nil map")
            && out.stdout.contains("map is consistent (0 entries checked)"),
        "{}",
        out.stdout
    );
    let out = run(&["get", "--pid", &p, "main.nilMap", "\"a\""], LIMIT);
    assert!(
        out.status.success() && out.stdout.contains("absent"),
        "{}",
        out.stdout
    );
    // A wrong name, a non-map, a key that does not parse: exit 2, never 1 (which says "not
    // consistent").
    fails2(
        &run(&["check", "--pid", &p, "main.nope"], LIMIT),
        &["main.nope", go],
        "a wrong name",
    );
    fails2(
        &run(&["check", "--pid", &p, "main.notAMap"], LIMIT),
        &["is not a map"],
        "not a map",
    );
    fails2(
        &run(&["get", "--pid", &p, "main.grow", "\"x\""], LIMIT),
        &["is not an integer", "uint64"],
        "a key of the wrong type",
    );
    fails2(
        &run(
            &["get", "--pid", &p, "main.items", "1", "99999999999"],
            LIMIT,
        ),
        &["does not fit in int32"],
        "a key out of range",
    );
    // Zeroed memory where a map was expected.
    let zeros = t.info["zeros"].as_str().unwrap().to_string();
    fails2(
        &run(
            &[
                "check",
                "--pid",
                &p,
                "--addr",
                &zeros,
                "--types",
                "uint64:string",
            ],
            LIMIT,
        ),
        &["does not look like a Go map's header", "all zero", go],
        "zeroed memory",
    );
    drop(t);

    // No DWARF: --types gives the types, the symbols still give the hash keys.
    let t = Target::start(Command::new(&bins[2]));
    let p = t.pid().to_string();
    let out = run(
        &[
            "check",
            "--pid",
            &p,
            "main.grow",
            "--types",
            "uint64:string",
        ],
        LIMIT,
    );
    assert!(out.status.success(), "{}", out.stderr);
    assert!(
        out.stdout
            .contains("map is consistent (105 entries checked)"),
        "{}",
        out.stdout
    );
    drop(t);

    // No symbols: the runtime's hash keys cannot be found.
    let t = Target::start(Command::new(&bins[1]));
    let p = t.pid().to_string();
    let out = run(&["check", "--pid", &p, "main.grow"], LIMIT);
    fails2(&out, &["stripped", "--addr"], "a stripped binary");
    let zeros = t.info["zeros"].as_str().unwrap().to_string();
    let out = run(
        &[
            "check",
            "--pid",
            &p,
            "--addr",
            &zeros,
            "--types",
            "uint64:string",
        ],
        LIMIT,
    );
    fails2(
        &out,
        &["no symbol table", "runtime.aeskeysched", go],
        "a stripped binary, by address",
    );
    drop(t);

    // A Swiss-table map by address, with --types (Go's group layout for the types), and
    // a Swiss snapshot, which does not hold the process's hash keys.
    let t = Target::start(Command::new(&bins[3]));
    let p = t.pid().to_string();
    let maps: Value = serde_json::from_str(
        &run(
            &["maps", "--pid", &p, "--format", "json", "main.wide"],
            LIMIT,
        )
        .stdout,
    )
    .unwrap();
    let hmap = maps["maps"][0]["hmap"].as_str().unwrap().to_string();
    let out = run(
        &[
            "check",
            "--pid",
            &p,
            "--addr",
            &hmap,
            "--types",
            "uint64:string",
        ],
        LIMIT,
    );
    assert!(out.status.success(), "{}", out.stderr);
    assert!(
        out.stdout.contains(&format!(
            "map is consistent ({} entries checked)",
            maps["maps"][0]["count"]
        )),
        "{}",
        out.stdout
    );
    // main.wide holds k * 0x9e3779b97f4a7c15 for k from 0: key 0 is "w0".
    let out = run(
        &[
            "get",
            "--pid",
            &p,
            "--addr",
            &hmap,
            "--types",
            "uint64:string",
            "0",
        ],
        LIMIT,
    );
    assert!(
        out.status.success()
            && out.stdout.contains("found at t")
            && out.stdout.contains(": \"w0\""),
        "{}{}",
        out.stdout,
        out.stderr
    );
    let dir = support::tmp_dir("check-swiss-snapshot");
    let snap = dir.join("small.snap");
    let s = snap.to_string_lossy().to_string();
    let out = run(
        &["dump", "--pid", &p, "main.small", "--save-snapshot", &s],
        LIMIT,
    );
    assert!(out.status.success(), "{}", out.stderr);
    fails2(
        &run(&["check", &s], LIMIT),
        &["Swiss-table map of a Go program", "hash keys", "--core"],
        "a Swiss snapshot",
    );
    let _ = std::fs::remove_dir_all(&dir);
}
