//! `map-inspect dump --pid`: reads maps out of real, running child processes with
//! `process_vm_readv`, and must decode exactly the entries the processes printed.
//!
//! * `hold_gomap` (inspect/examples): a Rust program holding gomap maps, one caught mid-grow.
//! * `tests/go-live`: a Go 1.19 program built here with Go 1.19, holding real Go maps, two
//!   caught mid-grow. Go is found through `$GOMAP_GO_CACHE` (`scripts/go-toolchains`); without
//!   it the Go test fails when `CI=true` and is skipped with a loud warning otherwise.
//!
//! The children are this test's own child processes, and they allow any reader under Yama's
//! `ptrace_scope = 1` (`prctl(PR_SET_PTRACER, PR_SET_PTRACER_ANY)`), since `map-inspect` is
//! their sibling, not their parent.

#[allow(dead_code)]
mod support;

use std::process::Command;

use map_inspect::report::Report;
use map_inspect::source::{MemoryReader, ProcessReader};
use serde_json::Value;

use support::{run_ok, sorted, Target};

fn dump(target: &Target, extra: &[&str], map: &Value) -> Report {
    let pid = target.pid().to_string();
    let hmap = map["hmap"].as_str().expect("hmap");
    let mut args = vec!["dump", "--format", "json", "--pid", &pid, "--addr", hmap];
    args.extend_from_slice(extra);
    serde_json::from_str(&run_ok(&args)).expect("dump JSON")
}

fn expected(map: &Value) -> Vec<(String, String)> {
    sorted(
        map["entries"]
            .as_array()
            .expect("entries")
            .iter()
            .map(|e| (e[0].clone(), e[1].clone()))
            .collect(),
    )
}

#[test]
#[cfg_attr(miri, ignore)]
fn rust_process_holding_gomap_maps() {
    let t = Target::start(Command::new(support::hold_gomap()));
    for name in ["u64", "boxstr", "u128"] {
        let m = t.map(name);
        let types = m["types"].as_str().unwrap();
        let r = dump(&t, &["--types", types], m);
        assert_eq!(r.source.kind, "process");
        assert_eq!(sorted(r.entries()), expected(m), "map {name} ({types})");
        assert_eq!(
            r.summary.count as usize,
            m["entries"].as_array().unwrap().len()
        );
        assert_eq!(r.summary.live as u64, r.summary.count, "map {name}");
        assert_eq!(
            r.summary.growing,
            m["growing"].as_bool().unwrap(),
            "map {name}"
        );
        assert!(r.warnings.is_empty(), "map {name}: {:?}", r.warnings);
    }
    // The u64 map is mid-grow: old buckets, some evacuated; the iteration that printed its
    // entries set the iterator flags.
    let r = dump(&t, &["--types", "u64:u64"], t.map("u64"));
    assert!(r.summary.growing && r.summary.evacuated > 0);
    assert!(r
        .buckets
        .iter()
        .any(|b| b.array == "oldbuckets" && b.current));
    assert!(r.header.flag_names.contains(&"ITERATOR".to_string()));
    // The u128 keys are 16-byte aligned: gomap stores them through pointers.
    let r = dump(&t, &["--types", "u128:char"], t.map("u128"));
    assert!(r.map.indirect_key && !r.map.indirect_elem);

    // Sizes only: every slot as hex, the same entries.
    let m = t.map("u64");
    let r = dump(&t, &["--key-size", "8", "--elem-size", "8"], m);
    let hex = |v: &Value| {
        v.as_u64()
            .unwrap()
            .to_le_bytes()
            .iter()
            .map(|b| format!("{b:02x}"))
            .collect::<String>()
    };
    let want: Vec<(Value, Value)> = m["entries"]
        .as_array()
        .unwrap()
        .iter()
        .map(|e| (hex(&e[0]).into(), hex(&e[1]).into()))
        .collect();
    assert_eq!(sorted(r.entries()), sorted(want));
    assert_eq!(r.map.key_type, "[8]byte?");

    // The text output of a live map.
    let pid = t.pid().to_string();
    let text = run_ok(&[
        "dump",
        "--pid",
        &pid,
        "--addr",
        m["hmap"].as_str().unwrap(),
        "--types",
        "u64:u64",
        "--color",
        "never",
        "--no-hex",
    ]);
    assert!(text.contains(&format!("gomap map in pid {pid}")));
    assert!(text.contains("oldbuckets (old array)"));
}

#[test]
#[cfg_attr(miri, ignore)]
fn the_library_reads_a_child_process() {
    let t = Target::start(Command::new(support::hold_gomap()));
    let m = t.map("u64");
    let addr =
        u64::from_str_radix(m["hmap"].as_str().unwrap().trim_start_matches("0x"), 16).unwrap();
    let r = ProcessReader::new(t.pid() as i32).expect("reader");
    let count = r.read_u64(addr).expect("read count");
    assert_eq!(count as usize, m["entries"].as_array().unwrap().len());
    // A read that crosses into an unmapped page, and a huge one, fail with the address.
    let e = r.read_vec(0x10, 8).unwrap_err();
    assert_eq!(e.addr, 0x10);
    let e = r.read_vec(addr, 1 << 40).unwrap_err();
    assert_eq!(e.addr, addr, "{e}");
}

#[test]
#[cfg_attr(miri, ignore)]
fn go_1_19_process() {
    let Some(bin) = support::go_live() else {
        return;
    };
    let t = Target::start(Command::new(bin));
    let mut grown = 0;
    for name in ["strs", "nums", "byName", "arrs"] {
        let m = t.map(name);
        let types = m["types"].as_str().unwrap();
        let r = dump(&t, &["--go", "--types", types], m);
        assert_eq!(sorted(r.entries()), expected(m), "Go map {name} ({types})");
        assert_eq!(r.summary.live as u64, r.summary.count, "Go map {name}");
        assert_eq!(r.header.B as u64, m["B"].as_u64().unwrap());
        assert_eq!(
            r.summary.growing,
            m["growing"].as_bool().unwrap(),
            "Go map {name}"
        );
        assert!(r.warnings.is_empty(), "Go map {name}: {:?}", r.warnings);
        if r.summary.growing {
            grown += 1;
            // Caught mid-grow: some old buckets still hold entries.
            assert!(r.summary.evacuated < r.summary.noldbuckets, "Go map {name}");
            assert!(r
                .buckets
                .iter()
                .any(|b| b.array == "oldbuckets" && b.current));
            // Evacuated old buckets keep their marks; with pointers, Go cleared the data.
            let marks = r
                .buckets
                .iter()
                .filter(|b| b.array == "oldbuckets" && !b.current && b.kind == "head")
                .flat_map(|b| &b.slots)
                .filter(|s| s.state.starts_with("EVACUATED"))
                .count();
            assert!(marks > 0, "Go map {name}: no evacuation marks");
        }
        // Sizes only, with --go.
        let sizes = m["sizes"].as_array().unwrap();
        let (k, e) = (sizes[0].to_string(), sizes[1].to_string());
        let r2 = dump(&t, &["--go", "--key-size", &k, "--elem-size", &e], m);
        assert_eq!(r2.summary.live, r.summary.live, "Go map {name}, sizes only");
        assert_eq!(r2.header, r.header, "Go map {name}, sizes only");
    }
    assert_eq!(grown, 2, "the Go program holds two maps caught mid-grow");
    // Go's pointer-free map keeps its overflow buckets in extra.overflow/oldoverflow.
    let r = dump(&t, &["--go", "--types", "uint64:uint64"], t.map("nums"));
    assert_eq!(r.map.pointer_free, Some(true));
    assert!(r.extra.as_ref().is_some_and(|e| e.overflow.is_some()));
    // And with pointers (string elems), evacuation cleared the data of the evacuated heads
    // (Go clears only the head, from dataOffset on: keys, elems and the overflow pointer).
    let r = dump(&t, &["--go", "--types", "uint64:string"], t.map("strs"));
    let heads: Vec<_> = r
        .buckets
        .iter()
        .filter(|b| b.array == "oldbuckets" && b.kind == "head" && !b.current)
        .collect();
    assert!(!heads.is_empty());
    assert!(heads.iter().all(|b| b.overflow.0 == 0));
    let cleared = heads
        .iter()
        .flat_map(|b| &b.slots)
        .filter(|s| s.state == "EVACUATED_X" || s.state == "EVACUATED_Y")
        .all(|s| s.key.is_none() && s.key_raw.0.iter().all(|&x| x == 0));
    assert!(cleared);
}
