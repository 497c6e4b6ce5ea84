//! The proof: gomap lays out buckets exactly like the real Go 1.19 runtime.
//!
//! Each scenario script runs twice: on a real Go map (the oracle in `tests/go-oracle`, built
//! here with Go 1.19 and run with `GODEBUG=cpu.aes=off`), and on gomap (`map-inspect replay`)
//! with the hashkey and hash0 draws the Go run recorded. Every dump must be equal: every
//! header field, every bucket byte (pointers written symbolically), the same arrays, overflow
//! chains, heap overflow buckets and `extra` lists. A mismatch names the first difference.
//!
//! Go 1.19 comes from Debian's `golang-1.19-go` (found through `$GOMAP_GO_CACHE`, see `scripts/go-toolchains`).
//! Without it the test fails when `CI=true`, and is skipped with a loud warning otherwise.

use std::fmt::Write as _;
use std::path::{Path, PathBuf};
use std::process::Command;
use std::sync::OnceLock;

use map_inspect::replay::{self, Options};
use map_inspect::script;
use map_inspect::trace::{first_difference, Trace};

#[path = "../../tests/common/go.rs"]
mod go_toolchain;
use go_toolchain::find_go;

/// Builds the oracle once; `None` means "skip" (Go missing outside CI).
fn oracle() -> Option<&'static Path> {
    static ORACLE: OnceLock<Option<PathBuf>> = OnceLock::new();
    ORACLE
        .get_or_init(|| {
            let go = match find_go() {
                Ok(g) => g,
                Err(e) => {
                    if std::env::var("CI").as_deref() == Ok("true") {
                        panic!("CI: {e}");
                    }
                    eprintln!("\n!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!\n\
                               WARNING: {e}.\nThe differential test against the real Go runtime is SKIPPED.\n\
                               !!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!\n");
                    return None;
                }
            };
            let src = Path::new(env!("CARGO_MANIFEST_DIR")).join("../tests/go-oracle");
            let out_dir = Path::new(env!("CARGO_TARGET_TMPDIR")).join(format!("go-oracle-{}", std::process::id()));
            std::fs::create_dir_all(&out_dir).expect("temp dir");
            let bin = out_dir.join("go-oracle");
            let mut cmd = Command::new(&go);
            cmd.current_dir(&src).args(["build", "-o"]).arg(&bin).arg(".");
            cmd.env("GOFLAGS", "-mod=mod");
            if std::env::var_os("HOME").is_none() {
                cmd.env("GOCACHE", out_dir.join("cache")).env("GOPATH", out_dir.join("gopath"));
            }
            let st = cmd.output().expect("run go build");
            assert!(
                st.status.success(),
                "go build of the oracle failed:\n{}",
                String::from_utf8_lossy(&st.stderr)
            );
            Some(bin)
        })
        .as_deref()
}

fn run_oracle(bin: &Path, name: &str, text: &str) -> Trace {
    let dir =
        Path::new(env!("CARGO_TARGET_TMPDIR")).join(format!("scenarios-{}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    let path = dir.join(format!("{name}.script"));
    std::fs::write(&path, text).unwrap();
    let out = Command::new(bin)
        .arg(&path)
        .env("GODEBUG", "cpu.aes=off")
        .output()
        .expect("run the oracle");
    assert!(
        out.status.success(),
        "oracle failed on {name}: {}",
        String::from_utf8_lossy(&out.stderr)
    );
    serde_json::from_slice(&out.stdout).unwrap_or_else(|e| panic!("oracle JSON for {name}: {e}"))
}

fn replay_with(text: &str, go: &Trace) -> Trace {
    let s = script::parse(text).expect("scenario parses");
    let hashkey = u64::from_str_radix(go.hashkey.trim_start_matches("0x"), 16).unwrap();
    let hash0 = go
        .hash0
        .iter()
        .map(|h| u32::from_str_radix(h.trim_start_matches("0x"), 16).unwrap())
        .collect();
    let opts = Options {
        hashkey: Some(hashkey),
        hash0: Some(hash0),
        ..Default::default()
    };
    replay::run(&s, &opts).expect("replay").trace
}

/// Bytes of map memory a trace holds: the header and every bucket of every dump.
fn bytes_compared(t: &Trace) -> usize {
    t.dumps
        .iter()
        .map(|d| {
            48 + t.bucketsize
                * (d.buckets.len() + d.oldbuckets.as_ref().map_or(0, |o| o.len()) + d.heap.len())
        })
        .sum()
}

// ----- scenarios -----------------------------------------------------------------------------

/// The counts at which a map without a hint starts doubling: the 9th, 14th, 27th, ... key.
fn grow_points(up_to: usize) -> Vec<usize> {
    let mut v = vec![9];
    let mut b = 1;
    loop {
        let next = 13 * (1usize << (b - 1)) + 1;
        if next > up_to {
            break;
        }
        v.push(next);
        b += 1;
    }
    v
}

fn grow_u64() -> String {
    let mut s = String::from("# u64→u64 from empty to 10,000 keys, no hint\nmap uint64 uint64\n");
    let mut at = 0;
    for g in grow_points(10_000) {
        writeln!(
            s,
            "range insert {at} {}\ndump before the grow at {g}",
            g - 1
        )
        .unwrap();
        writeln!(s, "insert {} {}\ndump mid-grow after key {g}", g - 1, g - 1).unwrap();
        writeln!(s, "range insert {g} {}\ndump a few writes later", g + 3).unwrap();
        at = g + 3;
    }
    writeln!(s, "range insert {at} 10000\ndump 10000 keys").unwrap();
    writeln!(s, "range delete 0 10000 7\ndump every 7th deleted").unwrap();
    s
}

/// make(map[uint64]uint64, hint) for the largest hint of each B = 0..10.
fn hint_b(b: u32) -> String {
    let hint = if b == 0 { 8 } else { 13usize << (b - 1) };
    let mut s = format!("# hint {hint}: B = {b}, preallocated overflow buckets and the sentinel\nmap uint64 uint64 {hint}\n");
    writeln!(s, "dump empty").unwrap();
    writeln!(s, "range insert 0 {}\ndump half full", hint / 2).unwrap();
    writeln!(s, "range insert {} {hint}\ndump full", hint / 2).unwrap();
    writeln!(s, "insert {hint} 1\ndump one more: a grow starts").unwrap();
    writeln!(
        s,
        "range insert {} {}\ndumpgrowing still growing",
        hint + 1,
        hint + 4
    )
    .unwrap();
    writeln!(s, "range insert {} {}\ndump later", hint + 4, hint * 2 + 10).unwrap();
    s
}

fn holes() -> String {
    let mut s = String::from("# deletes leave emptyOne holes, inserts reuse them, emptyRest runs back over chains\nmap uint64 uint64 100\n");
    s.push_str("range insert 0 100\ndump full\n");
    s.push_str("range delete 0 100 3\ndump every 3rd deleted: holes\n");
    s.push_str("range insert 1000 1030\ndump new keys reuse the holes\n");
    s.push_str("range delete 40 100\ndump a tail deleted: emptyRest propagation\n");
    s.push_str("range delete 0 40\nrange delete 1000 1030\ndump all but a few deleted\n");
    s
}

fn reseed() -> String {
    let mut s = String::from("# deleting down to 0 reseeds hash0\nmap uint64 uint64\n");
    s.push_str("range insert 0 50\ndump\nrange delete 0 50\ndump empty again: new hash0\n");
    s.push_str(
        "range insert 0 20\ndump refilled\nrange delete 0 20\nrange insert 100 130\ndump again\n",
    );
    s
}

/// A sliding window: constant count, fresh keys. Chains fill up in new places, overflow
/// buckets pile up, and same-size grows follow.
fn churn(key: &str, window: usize, steps: usize) -> String {
    let mut s =
        format!("# churn: same-size grows at a constant count\nmap {key} uint64 {window}\n");
    writeln!(s, "range insert 0 {window}\ndump start").unwrap();
    for i in window..window + steps {
        writeln!(s, "insert {i} {i}\ndelete {}\ndumpgrowing", i - window).unwrap();
    }
    s.push_str("dump end\n");
    s
}

fn key_type(ty: &str, n: u64) -> String {
    let mut s = format!("# {ty} keys\nmap {ty} uint64\n");
    writeln!(
        s,
        "range insert 0 {n}\ndump filled\nrange delete 0 {n} 4\ndump some deleted"
    )
    .unwrap();
    writeln!(s, "range insert 0 {}\ndump refilled", n / 2).unwrap();
    s
}

fn float_keys() -> String {
    let mut s = String::from("# float64 keys: +0 and -0 are one key (the stored key is updated), infinities\nmap float64 uint64\n");
    s.push_str("insert 0 1\ndump +0\ninsert -0 2\ndump -0 overwrote +0 and its key bytes\n");
    s.push_str("insert +Inf 3\ninsert -Inf 4\ninsert 1.5 5\ninsert -2.25e300 6\ninsert 5e-324 7\n");
    s.push_str("range insert 1 300\ndump many\ndelete 0\ndelete 1.5\ndump deletes\n");
    s
}

fn strings() -> String {
    let mut s =
        String::from("# string keys of lengths 0..64, with string values\nmap string string\n");
    for n in 0..=64 {
        let k: String = (0..n)
            .map(|i| (b'a' + ((i * 7 + n) % 26) as u8) as char)
            .collect();
        writeln!(s, "insert \"{k}\" \"v{n}\"").unwrap();
    }
    s.push_str("dump all lengths\n");
    s.push_str("range insert 0 400\ndump more\n");
    for n in (0..=64).step_by(3) {
        let k: String = (0..n)
            .map(|i| (b'a' + ((i * 7 + n) % 26) as u8) as char)
            .collect();
        writeln!(s, "delete \"{k}\"").unwrap();
    }
    s.push_str(
        "range delete 0 400 2\ndump deletes: faststr keeps the length, clears the pointer\n",
    );
    s.push_str("insert \"\" \"again\"\ninsert \"a\\x00b\" \"nul\"\ndump empty and NUL keys\n");
    s
}

fn big(kt: &str, vt: &str, n: u64) -> String {
    let mut s = format!("# {kt} → {vt}: inline up to 128 bytes, indirect above\nmap {kt} {vt}\n");
    writeln!(s, "range insert 0 {n}\ndump filled").unwrap();
    writeln!(s, "range delete 0 {n} 3\ndump deleted").unwrap();
    writeln!(
        s,
        "range insert {n} {}\ndumpgrowing growing\ndump more",
        n + n / 2
    )
    .unwrap();
    s
}

fn clear_mid_grow() -> String {
    let mut s = String::from("# clear during a grow keeps B and the array, drops old buckets, reseeds\nmap uint64 uint64\n");
    s.push_str("range insert 0 209\ndump mid-grow to B=5\nclear\ndump cleared\n");
    s.push_str("range insert 0 100\ndump refilled\nrange insert 0 1000\ndump grown\nclear\nclear\ndump cleared twice (the second is a no-op)\n");
    s
}

fn b16() -> String {
    // 212,993 distinct keys start the grow from B = 15 to B = 16.
    "# a map with B >= 16 (noverflow not compared there: Go counts overflow buckets randomly)\n\
     map uint64 uint64\nrange insert 0 212993\ndump mid-grow to B=16\nrange insert 212993 213100\ndump later\n"
        .to_string()
}

/// `make(map[uint64]string, 100000)` (B = 14, 1,024 preallocated overflow buckets) filled
/// past its load factor. The densest chains take their first overflow bucket from the
/// preallocated ones (they run out about three quarters into the fill) and later a heap one:
/// head → preallocated → heap. Once the grow evacuates such a head, Go clears the head's
/// overflow word (the buckets hold pointers), but the preallocated bucket keeps its own, so
/// the heap bucket behind it stays reachable until the grow ends: both sides must name it.
fn detached_chains() -> String {
    let mut s = String::from(
        "# head → preallocated → heap chains, cut at the head by evacuation\nmap uint64 string 100000\n",
    );
    // 6.5 * 2^14 = 106,496 keys fill it; the next one starts the grow. Half of the 16,384 old
    // buckets are evacuated 4,000 writes later (two per write).
    s.push_str("range insert 0 106497\nrange insert 106497 110497\ndumpgrowing half evacuated\n");
    s.push_str("range insert 110497 120000\ndump the grow is over\n");
    s
}

/// Every bucket pointer of a trace is symbolic: `nil`, `main[i]`, `old[i]` or `heap#n`.
fn all_bucket_pointers_named(t: &Trace) -> Result<(), String> {
    let named = |p: &str| {
        p == "nil" || p.starts_with("main[") || p.starts_with("old[") || p.starts_with("heap#")
    };
    for d in &t.dumps {
        let buckets = d
            .buckets
            .iter()
            .chain(d.oldbuckets.iter().flatten())
            .chain(&d.heap);
        for b in buckets {
            if !named(&b.overflow) {
                return Err(format!("{}: {} overflow {}", d.label, b.id, b.overflow));
            }
        }
        if let Some(e) = &d.extra {
            let lists = e
                .overflow
                .iter()
                .flatten()
                .chain(e.oldoverflow.iter().flatten());
            for p in lists.chain([&e.nextOverflow]) {
                if !named(p) {
                    return Err(format!("{}: extra points to {p}", d.label));
                }
            }
        }
    }
    Ok(())
}

/// Whether a dump holds a heap bucket that only a preallocated bucket of the old array
/// reaches (its head chain no longer does).
fn has_detached_heap_bucket(t: &Trace) -> bool {
    t.dumps.iter().any(|d| {
        let Some(old) = &d.oldbuckets else {
            return false;
        };
        let nheads = 1usize << (d.header.B - 1);
        old.iter()
            .skip(nheads)
            .any(|b| b.overflow.starts_with("heap#"))
    })
}

fn scenarios() -> Vec<(String, String)> {
    let mut v = vec![("grow-u64".to_string(), grow_u64())];
    for b in 0..=10 {
        v.push((format!("hint-b{b}"), hint_b(b)));
    }
    v.push(("holes".into(), holes()));
    v.push(("reseed".into(), reseed()));
    v.push(("churn-u64".into(), churn("uint64", 100, 6000)));
    v.push(("churn-string".into(), churn("string", 60, 3000)));
    v.push(("keys-u8".into(), key_type("uint8", 256)));
    v.push(("keys-u16".into(), key_type("uint16", 3000)));
    v.push(("keys-u32".into(), key_type("uint32", 3000)));
    v.push(("keys-i64".into(), key_type("int64", 3000)));
    v.push(("keys-f64".into(), float_keys()));
    v.push(("keys-string".into(), strings()));
    v.push(("elem-128".into(), big("uint64", "[128]uint8", 200)));
    v.push(("elem-129".into(), big("uint64", "[129]uint8", 200)));
    v.push(("key-129".into(), big("[129]uint8", "uint64", 200)));
    v.push(("key-20-elem-string".into(), big("[20]uint8", "string", 300)));
    v.push(("clear-mid-grow".into(), clear_mid_grow()));
    v
}

#[test]
#[cfg_attr(miri, ignore)]
fn gomap_matches_go_1_19_byte_for_byte() {
    let Some(bin) = oracle() else { return };
    let mut all = scenarios();
    if std::env::var_os("GOMAP_SKIP_B16").is_none() {
        all.push(("b16".into(), b16()));
    }
    let (mut dumps, mut bytes) = (0, 0);
    let mut failures = Vec::new();
    for (name, text) in &all {
        let go = run_oracle(bin, name, text);
        assert!(!go.dumps.is_empty(), "{name}: no dumps");
        let ours = replay_with(text, &go);
        match first_difference(&go, &ours, true) {
            None => {
                dumps += go.dumps.len();
                bytes += bytes_compared(&go);
            }
            Some(d) => failures.push(format!("{name}: {d}")),
        }
    }
    assert!(
        failures.is_empty(),
        "gomap differs from Go 1.19:\n{}",
        failures.join("\n")
    );
    eprintln!(
        "go differential: {} scenarios, {dumps} dumps, {bytes} bytes of map memory compared, all equal",
        all.len()
    );
}

#[test]
#[cfg_attr(miri, ignore)]
fn detached_overflow_chains_match_go_and_are_named() {
    let Some(bin) = oracle() else { return };
    let text = detached_chains();
    // Go draws a new hashkey per run: the densest chain is a random event, nearly certain at
    // this size (7 chains of 17 or more entries are expected). A run that has none is retried.
    for attempt in 1..=3 {
        let go = run_oracle(bin, "detached-chains", &text);
        let ours = replay_with(&text, &go);
        assert_eq!(first_difference(&go, &ours, true), None, "detached chains");
        for t in [&go, &ours] {
            if let Err(e) = all_bucket_pointers_named(t) {
                panic!("a bucket Go reaches is printed as a raw address: {e}");
            }
        }
        if has_detached_heap_bucket(&go) {
            let last = go.dumps.last().unwrap();
            assert!(last.oldbuckets.is_none(), "the last dump is after the grow");
            eprintln!(
                "detached chains: {} dumps equal (attempt {attempt}), heap buckets named behind preallocated old buckets",
                go.dumps.len()
            );
            return;
        }
        eprintln!("detached chains: attempt {attempt} had no head → preallocated → heap chain");
    }
    panic!("three runs without a head → preallocated → heap chain");
}

#[test]
#[cfg_attr(miri, ignore)]
fn a_wrong_hashkey_or_a_changed_op_is_reported() {
    let Some(bin) = oracle() else { return };
    let text = grow_u64();
    let go = run_oracle(bin, "negative", &text);
    // The right inputs match.
    assert_eq!(first_difference(&go, &replay_with(&text, &go), false), None);
    // A wrong hashkey.
    let mut wrong = go.clone();
    let k = u64::from_str_radix(go.hashkey.trim_start_matches("0x"), 16).unwrap() ^ 2;
    wrong.hashkey = format!("{k:#018x}");
    let ours = replay_with(&text, &wrong);
    let d = first_difference(&go, &ours, false).expect("a wrong hashkey must be reported");
    assert!(d.contains("hashkey"), "{d}");
    let mut ours2 = ours.clone();
    ours2.hashkey = go.hashkey.clone();
    let d = first_difference(&go, &ours2, false).expect("a wrong hashkey changes the buckets");
    assert!(
        d.contains("tophash")
            || d.contains("key")
            || d.contains("overflow")
            || d.contains("header"),
        "{d}"
    );
    // One changed operation.
    let changed = text.replacen("insert 8 8", "insert 8 9", 1);
    assert_ne!(changed, text);
    let d = first_difference(&go, &replay_with(&changed, &go), false)
        .expect("a changed op must be reported");
    assert!(
        d.contains("elem"),
        "the changed value shows as an elem difference: {d}"
    );
    eprintln!("negative control reports: {d}");
}

#[test]
#[cfg_attr(miri, ignore)]
fn the_examples_match_go() {
    let Some(bin) = oracle() else { return };
    let dir = Path::new(env!("CARGO_MANIFEST_DIR")).join("../examples");
    let mut n = 0;
    for e in std::fs::read_dir(&dir).unwrap() {
        let p = e.unwrap().path();
        if p.extension().is_some_and(|x| x == "script") {
            let text = std::fs::read_to_string(&p).unwrap();
            let name = p.file_stem().unwrap().to_string_lossy().to_string();
            let go = run_oracle(bin, &name, &text);
            assert_eq!(
                first_difference(&go, &replay_with(&text, &go), true),
                None,
                "{}",
                p.display()
            );
            n += 1;
        }
    }
    assert!(n > 0, "no example scripts");
}
