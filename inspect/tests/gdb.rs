//! The gdb script (`inspect/gdb/gomap.py`) under real gdb, in batch mode, against real
//! programs.
//!
//! * A Rust program that links gomap (`tests/gdb/rust-target/main.rs`, built here in the debug
//!   profile as its own package) stops in nine states. The script reaches gdb embedded in the
//!   binary by gomap's `#![debugger_visualizer]`, as it reaches users. At each stop `print m`
//!   must list exactly the entries the program listed itself through gomap's API, and
//!   `gomap info`, `gomap buckets` and `gomap hexdump` must agree with the header and with each
//!   other. At the last stop the test corrupts the map through gdb (wild pointers, impossible
//!   B, negative count, a cyclic chain, a walk limit) and checks for clean errors.
//! * A Go 1.19 program (`tests/gdb/go-target`, built here with `-gcflags=all=-N -l`) stops mid
//!   grow, after deletes, mid same-size grow, with indirect keys and elems, and after a range
//!   loop, with Go's own `runtime-gdb.py` auto-loaded; our printer must take precedence whether
//!   it is sourced after the binary or before it, and `print *m` (hash<K,V>) and
//!   `print *m.buckets` (bucket<K,V>) must agree. A third session runs Go's printer alone and
//!   records what it prints (`target/tmp/gdb/go-runtime-gdb-printer.txt`).
//! * The constants of the script and of `gomap::layout` must agree.
//!
//! gdb is required: without it these tests fail, they never skip. Go 1.19 comes from Debian's
//! `golang-1.19-go` (found through `$GOMAP_GO_CACHE`); as in `go_differential.rs`, the Go session fails when Go
//! is missing and `CI=true`, and is skipped with a loud warning otherwise.

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};
use std::sync::OnceLock;
use std::time::{Duration, Instant};

use gomap::alloc::{CLASS_TO_SIZE, MAX_SMALL_SIZE, PAGE_SIZE};
use gomap::layout::{
    BucketLayout, Flags, Hmap, MapExtra, TophashState, BUCKET_CNT, BUCKET_CNT_BITS, DATA_OFFSET,
    EMPTY_ONE, EMPTY_REST, EVACUATED_EMPTY, EVACUATED_X, EVACUATED_Y, LOAD_FACTOR_DEN,
    LOAD_FACTOR_NUM, MAX_ELEM_SIZE, MAX_INLINE_ALIGN, MAX_KEY_SIZE, MIN_TOP_HASH,
};
use serde_json::{json, Value};

#[path = "../../tests/common/go.rs"]
mod go_toolchain;
use go_toolchain::find_go;

/// Every gdb run gets this long before it is killed and the test fails.
const GDB_TIMEOUT: Duration = Duration::from_secs(300);

fn root() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR"))
        .parent()
        .expect("inspect/ has a parent")
        .to_path_buf()
}

/// Shared by every run: the build of the Rust target, the record of Go's printer.
fn shared_tmp() -> PathBuf {
    let d = Path::new(env!("CARGO_TARGET_TMPDIR")).join("gdb");
    std::fs::create_dir_all(&d).expect("create the temp dir");
    d
}

/// This test process's own files (records, results, binaries): several `cargo test` runs of
/// the workspace may run these tests at the same time. Directories of runs that are over are
/// removed.
fn tmp() -> PathBuf {
    static DIR: OnceLock<PathBuf> = OnceLock::new();
    DIR.get_or_init(|| {
        let shared = shared_tmp();
        if let Ok(entries) = std::fs::read_dir(&shared) {
            for e in entries.flatten() {
                let name = e.file_name().to_string_lossy().into_owned();
                if let Some(pid) = name.strip_prefix("run-") {
                    if !Path::new("/proc").join(pid).exists() {
                        let _ = std::fs::remove_dir_all(e.path());
                    }
                }
            }
        }
        let d = shared.join(format!("run-{}", std::process::id()));
        std::fs::create_dir_all(&d).expect("create the temp dir");
        d
    })
    .clone()
}

/// Writes a file through a rename, so that a concurrent reader sees the old or the new text.
fn write_atomic(path: &Path, text: &str) {
    let tmp_path = path.with_extension(format!("tmp{}", std::process::id()));
    std::fs::write(&tmp_path, text).unwrap();
    std::fs::rename(&tmp_path, path).unwrap();
}

fn script() -> PathBuf {
    root().join("inspect/gdb/gomap.py")
}

/// Checks once that gdb exists and has Python; panics (never skips) when it does not.
fn require_gdb() {
    static OK: OnceLock<()> = OnceLock::new();
    OK.get_or_init(|| {
        let out = Command::new("gdb")
            .args(["-nx", "-batch", "-ex", "python print('gdb-python-ok')"])
            .output();
        match out {
            Ok(o) if String::from_utf8_lossy(&o.stdout).contains("gdb-python-ok") => {}
            Ok(o) => panic!(
                "gdb runs but has no working Python; the gdb tests need gdb with Python \
                 (Debian: apt-get install gdb).\nstdout: {}\nstderr: {}",
                String::from_utf8_lossy(&o.stdout),
                String::from_utf8_lossy(&o.stderr)
            ),
            Err(e) => panic!(
                "gdb is not installed ({e}). The gdb tests need it and never skip: \
                 apt-get install gdb"
            ),
        }
    });
}

/// Runs a command with a timeout; returns (success, stdout, stderr).
fn run_with_timeout(mut cmd: Command, what: &str) -> (bool, String, String) {
    let out_path = tmp().join(format!("{what}.stdout"));
    let err_path = tmp().join(format!("{what}.stderr"));
    let out_f = std::fs::File::create(&out_path).unwrap();
    let err_f = std::fs::File::create(&err_path).unwrap();
    let mut child = cmd
        .stdin(Stdio::null())
        .stdout(out_f)
        .stderr(err_f)
        .spawn()
        .unwrap_or_else(|e| panic!("cannot start {what}: {e}"));
    let start = Instant::now();
    let status = loop {
        if let Some(st) = child.try_wait().unwrap() {
            break st;
        }
        if start.elapsed() > GDB_TIMEOUT {
            let _ = child.kill();
            let _ = child.wait();
            panic!("{what} did not finish within {GDB_TIMEOUT:?}");
        }
        std::thread::sleep(Duration::from_millis(50));
    };
    let stdout = std::fs::read_to_string(&out_path).unwrap_or_default();
    let stderr = std::fs::read_to_string(&err_path).unwrap_or_default();
    (status.success(), stdout, stderr)
}

// ---------------------------------------------------------------------------------------------
// Building the targets.

/// Builds `tests/gdb/rust-target/main.rs` once, as a standalone debug-profile package that
/// depends on gomap by path.
fn rust_target() -> &'static Path {
    static BIN: OnceLock<PathBuf> = OnceLock::new();
    BIN.get_or_init(|| {
        let dir = shared_tmp().join("rust-target");
        std::fs::create_dir_all(&dir).unwrap();
        let main = root().join("tests/gdb/rust-target/main.rs");
        let manifest = format!(
            "[package]\nname = \"gdb_target\"\nversion = \"0.0.0\"\nedition = \"2021\"\n\
             publish = false\n\n[[bin]]\nname = \"gdb_target\"\npath = {main:?}\n\n\
             [dependencies]\ngomap = {{ path = {root:?} }}\n\n\
             [profile.dev]\nopt-level = 0\ndebug = true\n\n[workspace]\n",
            main = main.display().to_string(),
            root = root().display().to_string(),
        );
        write_atomic(&dir.join("Cargo.toml"), &manifest);
        // The workspace's lock file: the same dependency versions, already downloaded.
        let lock = std::fs::read_to_string(root().join("Cargo.lock")).unwrap();
        write_atomic(&dir.join("Cargo.lock"), &lock);
        let cargo = std::env::var("CARGO").unwrap_or_else(|_| "cargo".into());
        let mut cmd = Command::new(cargo);
        cmd.args(["build", "--quiet", "--offline", "--manifest-path"])
            .arg(dir.join("Cargo.toml"))
            .arg("--target-dir")
            .arg(dir.join("target"))
            .env_remove("CARGO_TARGET_DIR")
            .env_remove("CARGO_BUILD_TARGET");
        let (ok, _, stderr) = run_with_timeout(cmd, "cargo-build-rust-target");
        assert!(ok, "building the gdb target program failed:\n{stderr}");
        // This run's own name for the binary (a later build replaces target/debug/gdb_target
        // by a new file; the link keeps this one).
        let bin = tmp().join("gdb_target");
        let built = dir.join("target/debug/gdb_target");
        let _ = std::fs::remove_file(&bin);
        if std::fs::hard_link(&built, &bin).is_err() {
            std::fs::copy(&built, &bin).unwrap();
        }
        bin
    })
}

/// The Go target binary and GOROOT, or `None` (Go missing outside CI: skipped loudly).
fn go_target() -> Option<&'static (PathBuf, PathBuf)> {
    static BIN: OnceLock<Option<(PathBuf, PathBuf)>> = OnceLock::new();
    BIN.get_or_init(|| {
        let go = match find_go() {
            Ok(g) => g,
            Err(e) => {
                if std::env::var("CI").as_deref() == Ok("true") {
                    panic!("CI: {e}");
                }
                eprintln!(
                    "\n!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!\n\
                     WARNING: {e}.\nThe gdb test against a real Go 1.19 program is SKIPPED.\n\
                     !!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!\n"
                );
                return None;
            }
        };
        let out_dir = tmp().join("go-target");
        std::fs::create_dir_all(&out_dir).unwrap();
        let bin = out_dir.join("go-target");
        let mut cmd = Command::new(&go);
        cmd.current_dir(root().join("tests/gdb/go-target"))
            .args(["build", "-gcflags=all=-N -l", "-o"])
            .arg(&bin)
            .arg(".")
            .env("GOFLAGS", "-mod=mod");
        if std::env::var_os("HOME").is_none() {
            cmd.env("GOCACHE", out_dir.join("cache"))
                .env("GOPATH", out_dir.join("gopath"));
        }
        let (ok, _, stderr) = run_with_timeout(cmd, "go-build-go-target");
        assert!(ok, "go build of the gdb Go target failed:\n{stderr}");
        let goroot = Command::new(&go).args(["env", "GOROOT"]).output().unwrap();
        let goroot = PathBuf::from(String::from_utf8_lossy(&goroot.stdout).trim());
        Some((bin, goroot))
    })
    .as_ref()
}

// ---------------------------------------------------------------------------------------------
// Sessions.

struct Session {
    /// The driver's results: `stops` (state, results: [{cmd, out, error}]), `exit_codes`.
    results: Value,
    /// Everything gdb itself wrote.
    output: String,
}

impl Session {
    fn stops(&self) -> &[Value] {
        self.results["stops"].as_array().expect("stops")
    }
    fn stop(&self, state: &str) -> &Value {
        self.stops()
            .iter()
            .find(|s| s["state"] == state)
            .unwrap_or_else(|| panic!("gdb never stopped at {state}; output:\n{}", self.output))
    }
}

/// The output of the command `cmd` at a stop, panicking when it failed.
fn out<'a>(stop: &'a Value, cmd: &str) -> &'a str {
    let r = result(stop, cmd);
    assert!(
        r["error"].is_null(),
        "{}: `{cmd}` failed: {}",
        stop["state"],
        r["error"]
    );
    r["out"].as_str().unwrap()
}

fn result<'a>(stop: &'a Value, cmd: &str) -> &'a Value {
    stop["results"]
        .as_array()
        .unwrap()
        .iter()
        .find(|r| r["cmd"] == cmd)
        .unwrap_or_else(|| panic!("{}: `{cmd}` was not run", stop["state"]))
}

/// Runs gdb in batch mode with the session driver. `pre` goes before the program (gdb
/// arguments such as -iex), `post` after it (-ex, run after the program is loaded).
fn run_session(name: &str, program: &Path, pre: &[String], post: &[String], cfg: Value) -> Session {
    run_session_with(name, program, pre, post, cfg, true)
}

/// `run_session`; `ours_only`: gomap.py is the only Python printer that may run, so no
/// traceback may appear at all (false for the session that runs Go's printer alone).
fn run_session_with(
    name: &str,
    program: &Path,
    pre: &[String],
    post: &[String],
    mut cfg: Value,
    ours_only: bool,
) -> Session {
    require_gdb();
    let dir = tmp();
    let out_path = dir.join(format!("{name}.results.json"));
    let _ = std::fs::remove_file(&out_path);
    cfg["out"] = json!(out_path.display().to_string());
    let cfg_path = dir.join(format!("{name}.session.json"));
    std::fs::write(&cfg_path, serde_json::to_string_pretty(&cfg).unwrap()).unwrap();
    let mut cmd = Command::new("gdb");
    cmd.args(["-nx", "-batch"])
        .args(pre)
        .args(post)
        .arg("-x")
        .arg(root().join("tests/gdb/session.py"))
        .arg(program)
        .env("GOMAP_GDB_SESSION", &cfg_path)
        .env("GODEBUG", "asyncpreemptoff=1");
    let (_, stdout, stderr) = run_with_timeout(cmd, &format!("gdb-{name}"));
    let output = format!("{stdout}\n{stderr}");
    let text = std::fs::read_to_string(&out_path).unwrap_or_else(|e| {
        panic!("gdb session {name} wrote no results ({e}); gdb said:\n{output}")
    });
    let results: Value = serde_json::from_str(&text).unwrap();
    assert!(
        results["driver_error"].is_null(),
        "session {name}: the driver failed:\n{}\ngdb said:\n{output}",
        results["driver_error"].as_str().unwrap_or("")
    );
    // No Python traceback may reach the user, in any command's output or in gdb's own.
    let all = format!("{output}\n{text}");
    for bad in ["Traceback", "Python Exception", "Error occurred in Python"] {
        if !ours_only {
            break;
        }
        assert!(
            !all.contains(bad),
            "session {name}: {bad:?} reached the user:\n{all}"
        );
    }
    Session { results, output }
}

// ---------------------------------------------------------------------------------------------
// The programs' own records.

#[derive(Debug, Default)]
struct Record {
    header: BTreeMap<String, String>,
    noldbuckets: Option<usize>,
    entries: Vec<String>,
}

impl Record {
    fn h(&self, k: &str) -> &str {
        self.header
            .get(k)
            .unwrap_or_else(|| panic!("no {k} in {:?}", self.header))
    }
    fn count(&self) -> usize {
        self.h("count").parse().unwrap()
    }
    fn growing(&self) -> bool {
        self.h("growing") == "1"
    }
}

fn read_records(path: &Path) -> BTreeMap<String, Record> {
    let text = std::fs::read_to_string(path)
        .unwrap_or_else(|e| panic!("the program wrote no record {}: {e}", path.display()));
    let mut out = BTreeMap::new();
    let mut cur: Option<(String, Record)> = None;
    for line in text.lines() {
        if let Some(s) = line.strip_prefix("STATE ") {
            cur = Some((s.to_string(), Record::default()));
        } else if let Some(h) = line.strip_prefix("HEADER ") {
            let r = &mut cur.as_mut().unwrap().1;
            for kv in h.split(' ') {
                let (k, v) = kv.split_once('=').unwrap();
                r.header.insert(k.to_string(), v.to_string());
            }
        } else if let Some(o) = line.strip_prefix("OLD noldbuckets=") {
            cur.as_mut().unwrap().1.noldbuckets = Some(o.parse().unwrap());
        } else if let Some(e) = line.strip_prefix("ENTRY ") {
            cur.as_mut().unwrap().1.entries.push(e.to_string());
        } else if line == "END" {
            let (name, mut r) = cur.take().unwrap();
            r.entries.sort();
            out.insert(name, r);
        }
    }
    out
}

// ---------------------------------------------------------------------------------------------
// Parsing gdb's output.

/// `print m` with `set print pretty on`: (summary, sorted entries `[k] = v`).
fn parse_print(text: &str) -> (String, Vec<String>) {
    let text = text.trim_end();
    let first = text.lines().next().unwrap_or("");
    let rest = first
        .split_once(" = ")
        .map(|(_, r)| r)
        .unwrap_or_else(|| panic!("not a print result: {text}"));
    let (summary, has_children) = match rest.strip_suffix(" = {") {
        Some(s) => (s.to_string(), true),
        None => (rest.to_string(), false),
    };
    let mut entries = Vec::new();
    if has_children {
        let lines: Vec<&str> = text.lines().skip(1).collect();
        assert_eq!(lines.last().copied(), Some("}"), "unterminated map: {text}");
        for l in &lines[..lines.len() - 1] {
            let l = l.trim();
            entries.push(l.strip_suffix(',').unwrap_or(l).to_string());
        }
    }
    entries.sort();
    (summary, entries)
}

/// `gomap info`: field name -> the rest of its line.
fn parse_info(text: &str) -> BTreeMap<String, String> {
    text.lines()
        .skip(1)
        .filter_map(|l| {
            let l = l.trim();
            let (k, v) = l.split_once(' ')?;
            Some((k.to_string(), v.trim().to_string()))
        })
        .collect()
}

/// One bucket of `gomap buckets` output.
#[derive(Debug)]
struct ListedBucket {
    /// The chain head's index, and whether this is a chain head.
    chain: usize,
    head: bool,
    addr: u64,
    /// For old buckets: whether the chain's head is evacuated.
    evacuated: bool,
    tophash: Vec<u8>,
    /// Live rows: (key text, elem text).
    live: Vec<(String, String)>,
}

fn parse_buckets(text: &str) -> Vec<ListedBucket> {
    let mut out: Vec<ListedBucket> = Vec::new();
    let mut evacuated = false;
    for line in text.lines() {
        // Titles, as map-inspect dump writes them: "  main[3] 0x...  bucket 3 of the current
        // array", "  old[3] 0x...  bucket 3 of the old array: evacuated to main[3] (X) and
        // main[11] (Y)", "  heap#0 0x...  heap overflow bucket, overflow bucket 1 in the chain
        // of old[4]".
        if let Some(title) = ["  main[", "  old[", "  heap#"]
            .iter()
            .find(|p| line.starts_with(**p))
            .map(|_| line.trim_start())
        {
            let mut words = title.split_whitespace();
            let id = words.next().unwrap();
            let addr_text = words.next().unwrap();
            let addr = u64::from_str_radix(addr_text.trim_start_matches("0x"), 16).unwrap();
            // A preallocated bucket cut off from its chain's head starts a chain of its own
            // (all of it evacuated), but is no head.
            let detached = title.contains("cut off from its chain's head");
            let (head, chain_id) = match title.split_once("in the chain of ") {
                Some((_, c)) => (false, c),
                None => (!detached, id),
            };
            let chain: usize = chain_id
                .split_once('[')
                .and_then(|(_, r)| r.strip_suffix(']'))
                .unwrap_or_else(|| panic!("no chain index in {title:?}"))
                .parse()
                .unwrap();
            let in_old = chain_id.starts_with("old[");
            if head && in_old {
                evacuated = title.contains(": evacuated to ");
            }
            if detached {
                evacuated = true;
            }
            out.push(ListedBucket {
                chain,
                head,
                addr,
                evacuated: in_old && evacuated,
                tophash: Vec::new(),
                live: Vec::new(),
            });
            continue;
        }
        let Some(b) = out.last_mut() else { continue };
        let t = line.trim_start();
        if t.starts_with("empty: all ") {
            b.tophash = vec![EMPTY_REST; BUCKET_CNT];
            continue;
        }
        let mut it = t.split_whitespace();
        let (Some(slot), Some(th)) = (it.next(), it.next()) else {
            continue;
        };
        if !slot.starts_with(|c: char| c.is_ascii_digit()) {
            continue;
        }
        let Some(th) = th.strip_prefix("0x") else {
            continue;
        };
        let th = u8::from_str_radix(th, 16).unwrap();
        if let Some((a, z)) = slot.split_once('-') {
            let (a, z): (usize, usize) = (a.parse().unwrap(), z.parse().unwrap());
            b.tophash.extend(std::iter::repeat(th).take(z - a + 1));
        } else {
            b.tophash.push(th);
        }
        if it.next() == Some("live") {
            let rest: Vec<&str> = it.collect();
            // u64 keys have no spaces: the first word is the key, the rest the elem.
            b.live
                .push((rest[0].to_string(), rest[1..].join(" ").trim().to_string()));
        }
    }
    out
}

/// The first 8 bytes of the first hex line after the title of bucket `b{i}`.
fn hexdump_tophash(text: &str, title_prefix: &str) -> (u64, Vec<u8>) {
    let mut lines = text.lines().skip_while(|l| !l.starts_with(title_prefix));
    let title = lines
        .next()
        .unwrap_or_else(|| panic!("no {title_prefix:?} in hexdump:\n{text}"));
    let addr_text = title.split_whitespace().nth(1).unwrap();
    let addr = u64::from_str_radix(addr_text.trim_start_matches("0x"), 16).unwrap();
    let first = lines.next().unwrap().trim();
    assert!(first.contains("|  tophash"), "{first}");
    let mut words = first.split_whitespace();
    let line_addr = words.next().unwrap();
    assert_eq!(
        u64::from_str_radix(line_addr.trim_start_matches("0x"), 16).unwrap(),
        addr,
        "the hex line starts at the bucket"
    );
    let bytes: Vec<u8> = words
        .take(8)
        .map(|w| u8::from_str_radix(w, 16).unwrap())
        .collect();
    (addr, bytes)
}

// ---------------------------------------------------------------------------------------------
// Checks shared by the Rust and Go sessions.

const COMMON: [&str; 5] = [
    "print m",
    "gomap info m",
    "gomap buckets m",
    "gomap buckets m --old",
    "gomap hexdump m 0",
];

fn setup_commands() -> Vec<&'static str> {
    vec![
        "set pagination off",
        "set width 0",
        "set print pretty on",
        "set print elements unlimited",
        "set print repeats unlimited",
        "set python print-stack full",
    ]
}

/// `print m`, `gomap info`, `gomap buckets` (current and old) and `gomap hexdump` at one stop
/// against the program's own record. `u64_entries`: keys and elems print as plain numbers.
fn check_stop(what: &str, stop: &Value, rec: &Record, u64_entries: bool) {
    // print m: exactly the live entries, no duplicates, no phantoms.
    let (summary, entries) = parse_print(out(stop, "print m"));
    assert_eq!(
        entries, rec.entries,
        "{what}: `print m` lists other entries than the program holds.\nsummary: {summary}"
    );
    for part in [
        format!("len={}", rec.count()),
        format!("B={}", rec.h("B")),
        format!("flags={}", rec.h("flags")),
    ] {
        assert!(
            summary.contains(&part),
            "{what}: {part} missing in {summary}"
        );
    }
    if rec.growing() {
        let kind = if rec.h("same_size") == "1" {
            "same-size"
        } else {
            "doubling"
        };
        let grow = format!(
            "{kind} grow: nevacuate {} of {} old buckets",
            rec.h("nevacuate"),
            rec.noldbuckets.unwrap()
        );
        assert!(
            summary.contains(&grow),
            "{what}: {grow:?} missing in {summary}"
        );
    } else {
        assert!(!summary.contains("grow"), "{what}: {summary}");
    }

    // gomap info: header fields, flag names, grow progress.
    let info = parse_info(out(stop, "gomap info m"));
    let field = |k: &str| {
        info.get(k)
            .unwrap_or_else(|| panic!("{what}: no {k} in gomap info: {info:?}"))
            .clone()
    };
    assert_eq!(field("count"), rec.h("count"), "{what}: count");
    assert_eq!(
        field("B").split_whitespace().next().unwrap(),
        rec.h("B"),
        "{what}: B"
    );
    assert_eq!(
        field("flags").split_whitespace().nth(1).unwrap(),
        rec.h("flags"),
        "{what}: flag names"
    );
    assert_eq!(field("nevacuate"), rec.h("nevacuate"), "{what}: nevacuate");
    assert_eq!(field("noverflow"), rec.h("noverflow"), "{what}: noverflow");
    let slots = if rec.count() == 1 { "slot" } else { "slots" };
    assert_eq!(
        field("entries"),
        format!("{} live {slots}", rec.count()),
        "{what}: entries"
    );
    assert_eq!(
        field("grow").starts_with("not growing"),
        !rec.growing(),
        "{what}: grow {}",
        field("grow")
    );

    // gomap buckets: the live rows of the current array plus those of unevacuated old
    // chains are the entries.
    let cur = parse_buckets(out(stop, "gomap buckets m"));
    let old_text = out(stop, "gomap buckets m --old");
    let old = parse_buckets(old_text);
    if rec.growing() {
        assert_eq!(
            old.iter().filter(|b| b.head).count(),
            rec.noldbuckets.unwrap(),
            "{what}: old heads"
        );
        assert!(
            old.iter().any(|b| b.head && b.evacuated),
            "{what}: mid-grow, some old bucket must be evacuated"
        );
        assert!(
            old.iter().any(|b| b.head && !b.evacuated),
            "{what}: mid-grow, some old bucket must still wait"
        );
    } else {
        assert!(old_text.contains("not growing"), "{what}: {old_text}");
    }
    let mut listed: Vec<(String, String)> = cur
        .iter()
        .flat_map(|b| b.live.iter().cloned())
        .chain(
            old.iter()
                .filter(|b| !b.evacuated)
                .flat_map(|b| b.live.iter().cloned()),
        )
        .collect();
    assert_eq!(
        listed.len(),
        rec.count(),
        "{what}: live rows in gomap buckets"
    );
    for b in cur.iter().chain(&old) {
        assert_eq!(b.tophash.len(), BUCKET_CNT, "{what}: tophash of {b:?}");
        let live = b.tophash.iter().filter(|&&t| t >= MIN_TOP_HASH).count();
        assert_eq!(live, b.live.len(), "{what}: {b:?}");
    }
    if u64_entries {
        let mut from_rows: Vec<String> = listed
            .drain(..)
            .map(|(k, v)| format!("[{k}] = {v}"))
            .collect();
        from_rows.sort();
        assert_eq!(
            from_rows, rec.entries,
            "{what}: the live rows of gomap buckets"
        );
    }
    if rec.count() > 0 {
        let heads = cur.iter().filter(|b| b.head).count();
        assert_eq!(heads, 1 << rec.h("B").parse::<u32>().unwrap(), "{what}");
    }

    // gomap hexdump m 0: bucket 0's bytes as gomap buckets decoded them.
    let hex = out(stop, "gomap hexdump m 0");
    match cur.iter().find(|b| b.head && b.chain == 0) {
        Some(b0) => {
            let (addr, tophash) = hexdump_tophash(hex, "  main[0] ");
            assert_eq!(addr, b0.addr, "{what}: bucket 0 address");
            assert_eq!(tophash, b0.tophash, "{what}: bucket 0 tophash");
        }
        None => assert!(hex.contains("(buckets is nil)"), "{what}: {hex}"),
    }
}

/// A bucket printer's output (`BucketView` or Go's `bucket<K,V>`, bucket 0 of the current
/// array) against `gomap buckets m` at the same stop: same address, tophash states, live slots.
fn check_bucket_printer(what: &str, stop: &Value, text: &str) {
    let cur = parse_buckets(out(stop, "gomap buckets m"));
    let b0 = cur
        .iter()
        .find(|b| b.head && b.chain == 0)
        .unwrap_or_else(|| panic!("{what}: no bucket 0"));
    let first = text.lines().next().unwrap();
    assert!(
        first.contains(&format!(" @ {:#x} ", b0.addr)),
        "{what}: {first} is not at {:#x}",
        b0.addr
    );
    let th = first
        .split_once("tophash: [")
        .and_then(|(_, r)| r.split_once(']'))
        .unwrap_or_else(|| panic!("{what}: no tophash in {first}"))
        .0;
    let names: BTreeMap<&str, u8> = (0..MIN_TOP_HASH)
        .map(|t| (TophashState::of(t).name(), t))
        .collect();
    let tophash: Vec<u8> = th
        .split_whitespace()
        .map(|w| {
            names
                .get(w)
                .copied()
                .unwrap_or_else(|| u8::from_str_radix(w, 16).unwrap())
        })
        .collect();
    assert_eq!(tophash, b0.tophash, "{what}: bucket printer tophash");
    // Children: key[i] and elem[i] for each live slot i.
    let keys: Vec<usize> = text
        .lines()
        .filter_map(|l| l.trim().strip_prefix("key["))
        .map(|l| l.split_once(']').unwrap().0.parse().unwrap())
        .collect();
    let live: Vec<usize> = (0..BUCKET_CNT)
        .filter(|&i| b0.tophash[i] >= MIN_TOP_HASH)
        .collect();
    assert_eq!(keys, live, "{what}: bucket printer slots\n{text}");
    let elems = text
        .lines()
        .filter(|l| l.trim().starts_with("elem["))
        .count();
    assert_eq!(elems, live.len(), "{what}");
}

// ---------------------------------------------------------------------------------------------
// The Rust program.

const RUST_STATES: [&str; 10] = [
    "empty",
    "one",
    "hundred",
    "deletes",
    "grow",
    "same_size_grow",
    "str_keys",
    "indirect_elems",
    "detached",
    "corrupt",
];

/// A corruption of the `corrupt` map: gdb commands to break it, what the error must say.
struct Corruption {
    name: &'static str,
    pokes: Vec<String>,
    expect: &'static str,
}

fn poke(base: &str, off: usize, fmt: &str, value: &str) -> String {
    format!("python gomap_test_poke({base:?}, {off}, {fmt:?}, {value})")
}

fn corruptions() -> Vec<Corruption> {
    let lay = BucketLayout::of::<u64, u64>();
    vec![
        Corruption {
            name: "wild buckets pointer",
            pokes: vec![poke("header", Hmap::BUCKETS_OFFSET, "<Q", "0x10")],
            expect: "cannot read",
        },
        Corruption {
            name: "misaligned buckets pointer",
            pokes: vec![poke("header", Hmap::BUCKETS_OFFSET, "<Q", "0x7")],
            expect: "is not a valid pointer",
        },
        Corruption {
            name: "impossible B",
            pokes: vec![poke("header", Hmap::B_OFFSET, "<B", "200")],
            expect: "cannot exist",
        },
        Corruption {
            name: "negative count",
            pokes: vec![poke("header", Hmap::COUNT_OFFSET, "<Q", "(1 << 63) + 5")],
            expect: "is negative",
        },
        Corruption {
            name: "nevacuate beyond the old array",
            pokes: vec![
                poke("header", Hmap::OLDBUCKETS_OFFSET, "<Q", "\"bucket0\""),
                poke("header", Hmap::NEVACUATE_OFFSET, "<Q", "1000"),
            ],
            expect: "beyond the",
        },
        Corruption {
            name: "cyclic chain",
            pokes: vec![poke("bucket0", lay.overflow_offset(), "<Q", "\"bucket0\"")],
            expect: "reached twice",
        },
        Corruption {
            name: "wild overflow pointer",
            pokes: vec![poke("bucket0", lay.overflow_offset(), "<Q", "0x1000")],
            expect: "cannot read",
        },
    ]
}

const CORRUPT_CHECKS: [&str; 4] = [
    "print m",
    "gomap info m",
    "gomap buckets m",
    "gomap hexdump m",
];

/// A command that only marks a place in a stop's results.
fn marker(name: &str) -> String {
    format!("echo @@{name}\\n")
}

/// The result of the first `cmd` after `marker(name)` at a stop.
fn result_after<'a>(stop: &'a Value, name: &str, cmd: &str) -> &'a Value {
    let rs = stop["results"].as_array().unwrap();
    let m = marker(name);
    let start = rs
        .iter()
        .position(|r| r["cmd"] == m.as_str())
        .unwrap_or_else(|| panic!("no marker {name}"));
    rs[start..]
        .iter()
        .find(|r| r["cmd"] == cmd)
        .unwrap_or_else(|| panic!("no `{cmd}` after marker {name}"))
}

fn corrupt_commands() -> Vec<String> {
    let mut cmds = Vec::new();
    for c in corruptions() {
        cmds.push(marker(c.name));
        cmds.extend(c.pokes.iter().cloned());
        cmds.extend(CORRUPT_CHECKS.iter().map(|c| c.to_string()));
        cmds.push("python gomap_test_restore()".into());
    }
    // The walk limit: a clean note, not an error, and the entries found so far.
    cmds.push(marker("limit"));
    cmds.push("set gomap-max-buckets 3".into());
    cmds.push("print m".into());
    cmds.push("gomap buckets m".into());
    cmds.push("set gomap-max-buckets 65536".into());
    cmds.push(marker("restored"));
    cmds.push("print m".into());
    cmds
}

fn rust_session() -> &'static (Session, BTreeMap<String, Record>) {
    static S: OnceLock<(Session, BTreeMap<String, Record>)> = OnceLock::new();
    S.get_or_init(|| {
        let bin = rust_target();
        let rec_path = tmp().join("rust-target.record");
        let _ = std::fs::remove_file(&rec_path);
        let bin_dir = bin.parent().unwrap().display().to_string();
        // The one line a user needs (README): allow the binary's embedded script.
        let pre = vec![
            "-iex".to_string(),
            format!("add-auto-load-safe-path {bin_dir}"),
        ];
        let cfg = json!({
            "stop": "gomap_gdb_stop",
            "args": [rec_path.display().to_string()],
            "setup": setup_commands(),
            "commands": COMMON,
            "extra": {
                "empty": ["info auto-load python-scripts"],
                "hundred": ["print view", "print b0"],
                "grow": ["print m.raw.h", "gomap hexdump m --old"],
                "corrupt": corrupt_commands(),
            },
            "kill_at": "corrupt",
        });
        let s = run_session("rust", bin, &pre, &[], cfg);
        let records = read_records(&rec_path);
        (s, records)
    })
}

#[test]
#[cfg_attr(miri, ignore)]
fn rust_script_is_embedded_and_auto_loaded() {
    let (s, _) = rust_session();
    // Every state was reached, in order, and nothing else stopped the program.
    let states: Vec<&str> = s
        .stops()
        .iter()
        .map(|st| st["state"].as_str().unwrap())
        .collect();
    assert_eq!(states, RUST_STATES, "gdb output:\n{}", s.output);
    // The session sourced nothing: the script came from the binary's .debug_gdb_scripts
    // (gomap's #![debugger_visualizer]), allowed by the README's safe-path line.
    let listed = out(s.stop("empty"), "info auto-load python-scripts");
    assert!(
        listed
            .lines()
            .any(|l| l.starts_with("Yes") && l.contains("pretty-printer-gdb_target-")),
        "{listed}"
    );
    // Without that line gdb declines the embedded script: the line is needed.
    let mut cmd = Command::new("gdb");
    cmd.args(["-nx", "-batch", "-ex", "info auto-load python-scripts"])
        .arg(rust_target());
    let (_, stdout, stderr) = run_with_timeout(cmd, "gdb-no-safe-path");
    assert!(
        stdout
            .lines()
            .any(|l| l.starts_with("No") && l.contains("pretty-printer-gdb_target-")),
        "{stdout}\n{stderr}"
    );
}

#[test]
#[cfg_attr(miri, ignore)]
fn rust_print_lists_exactly_the_live_entries() {
    let (s, records) = rust_session();
    // `detached` holds String values, which plain gdb prints as structs over several lines:
    // its own test checks it.
    for state in RUST_STATES.iter().filter(|s| **s != "detached") {
        let rec = records
            .get(*state)
            .unwrap_or_else(|| panic!("the program recorded no {state}"));
        let u64_entries = !matches!(*state, "str_keys" | "indirect_elems");
        check_stop(&format!("rust {state}"), s.stop(state), rec, u64_entries);
    }
    // The states are what they claim to be.
    let r = |st: &str| records.get(st).unwrap();
    assert_eq!(r("empty").count(), 0);
    assert_eq!(r("one").count(), 1);
    assert_eq!(r("hundred").count(), 100);
    assert!(r("grow").growing() && r("grow").h("same_size") == "0");
    assert!(r("same_size_grow").growing() && r("same_size_grow").h("same_size") == "1");
    assert!(r("grow").h("nevacuate") != "0");
    assert!(r("same_size_grow").h("flags").contains("SAME_SIZE_GROW"));
    // &str keys print as strings, [u8; 129] elems (indirect) print as their 129 bytes.
    assert!(r("str_keys").entries[0].starts_with("[\"key-"));
    let e = &r("indirect_elems").entries[0];
    assert_eq!(e.matches(", ").count(), 128, "{e}");
}

/// A chain cut at its head by evacuation: `gomap buckets --old` shows the preallocated bucket
/// that still reaches the heap bucket behind it, and names that bucket as `map-inspect dump`
/// does (heap buckets of head chains first, then those behind preallocated buckets).
#[test]
#[cfg_attr(miri, ignore)]
fn rust_detached_chain_is_walked_and_named() {
    let (s, records) = rust_session();
    let stop = s.stop("detached");
    let rec = &records["detached"];
    assert!(rec.growing());
    let (summary, _) = parse_print(out(stop, "print m"));
    assert!(
        summary.contains(&format!("len={}", rec.count())),
        "{summary}"
    );
    let old = out(stop, "gomap buckets m --old");
    let cur = out(stop, "gomap buckets m");
    let lines: Vec<&str> = old.lines().collect();
    let at = lines
        .iter()
        .position(|l| l.starts_with("  old[16] ") && l.contains("cut off from its chain's head"))
        .unwrap_or_else(|| panic!("no cut-off preallocated bucket in:\n{old}"));
    let behind = lines[at + 1..]
        .iter()
        .find(|l| l.starts_with("  heap#"))
        .unwrap_or_else(|| panic!("nothing behind old[16] in:\n{old}"));
    assert!(behind.contains("in the chain of old[16]"), "{behind}");
    let id = |l: &str| -> usize {
        l.trim_start()
            .strip_prefix("heap#")
            .and_then(|r| r.split_whitespace().next())
            .unwrap()
            .parse()
            .unwrap()
    };
    let detached_id = id(behind);
    // Every heap bucket of a head chain (either array) is numbered before it.
    let head_chain_ids: Vec<usize> = cur
        .lines()
        .chain(lines[..at].iter().copied())
        .filter(|l| l.starts_with("  heap#"))
        .map(id)
        .collect();
    assert!(
        head_chain_ids.iter().all(|&n| n < detached_id),
        "{head_chain_ids:?} vs heap#{detached_id}"
    );
    // And old[0], whose chain it was, no longer reaches it.
    let head0 = lines
        .iter()
        .position(|l| l.starts_with("  old[0] "))
        .unwrap();
    let next_title = lines[head0 + 1..]
        .iter()
        .find(|l| l.starts_with("  old[") || l.starts_with("  heap#"))
        .unwrap();
    assert!(next_title.starts_with("  old[1] "), "{next_title}");
}

#[test]
#[cfg_attr(miri, ignore)]
fn rust_header_and_bucket_printers() {
    let (s, records) = rust_session();
    // RawView prints as the map; BucketView as bucket 0.
    let hundred = s.stop("hundred");
    let (summary, entries) = parse_print(out(hundred, "print view"));
    assert!(
        summary.starts_with("RawView<u64, u64>(len=100"),
        "{summary}"
    );
    assert_eq!(entries, records["hundred"].entries);
    check_bucket_printer("rust hundred", hundred, out(hundred, "print b0"));
    let grow = s.stop("grow");
    let rec = records.get("grow").unwrap();
    // print m.raw.h: the header printer, flags by name.
    let h = out(grow, "print m.raw.h");
    for part in [
        format!("count: {}", rec.h("count")),
        format!("flags: {}", rec.h("flags")),
        format!("B: {}", rec.h("B")),
        format!("nevacuate: {}", rec.h("nevacuate")),
    ] {
        assert!(h.contains(&part), "{part} missing in {h}");
    }
    // gomap hexdump m --old: the header, then the old array, labelled.
    let hex = out(grow, "gomap hexdump m --old");
    assert!(hex.starts_with("hmap (48 bytes at 0x"), "{hex}");
    assert!(hex.contains("count, flags, B, noverflow, hash0"), "{hex}");
    let old_heads = hex
        .lines()
        .filter(|l| l.starts_with("  old[") && l.contains("of the old array:"))
        .count();
    assert_eq!(old_heads, rec.noldbuckets.unwrap(), "{hex}");
    // u64 keys and elems: two slots per line.
    assert!(hex.contains("|  tophash, key 0\n"), "{hex}");
    assert!(hex.contains("|  keys 1-2\n"), "{hex}");
    assert!(hex.contains("elem 7, overflow"), "{hex}");
}

#[test]
#[cfg_attr(miri, ignore)]
fn rust_corrupt_maps_give_clean_errors() {
    let (s, _) = rust_session();
    let stop = s.stop("corrupt");
    for c in corruptions() {
        let p = result_after(stop, c.name, "print m");
        let text = p["out"].as_str().unwrap();
        assert!(
            text.contains("<gomap: error: ") && text.contains(c.expect),
            "{}: print m said {text:?}",
            c.name
        );
        assert!(
            !text.contains(" = {"),
            "{}: entries after an error: {text}",
            c.name
        );
        for cmd in ["gomap info m", "gomap buckets m", "gomap hexdump m"] {
            let r = result_after(stop, c.name, cmd);
            let err = r["error"]
                .as_str()
                .unwrap_or_else(|| panic!("{}: `{cmd}` did not fail: {}", c.name, r["out"]));
            assert!(
                err.starts_with("gomap: error: ") && err.contains(c.expect),
                "{}: `{cmd}` said {err:?}",
                c.name
            );
        }
    }
    let limited = result_after(stop, "limit", "print m")["out"]
        .as_str()
        .unwrap();
    assert!(
        limited.contains("walk stopped after 3 buckets"),
        "{limited}"
    );
    let (_, entries) = parse_print(limited);
    assert!(entries.len() <= 3 * BUCKET_CNT, "{limited}");
    let listed = result_after(stop, "limit", "gomap buckets m")["out"]
        .as_str()
        .unwrap();
    assert!(listed.contains("walk stopped after 3 buckets"), "{listed}");
    let restored = result_after(stop, "restored", "print m");
    assert!(restored["error"].is_null(), "{restored}");
    let (summary, entries) = parse_print(restored["out"].as_str().unwrap());
    assert!(summary.contains("len=40"), "{summary}");
    assert_eq!(entries.len(), 40);
}

// ---------------------------------------------------------------------------------------------
// The Go program.

const GO_STATES: [&str; 5] = ["grow", "deletes", "same_size_grow", "indirect", "iterated"];

fn go_pre(goroot: &Path) -> Vec<String> {
    // Let gdb auto-load Go's runtime-gdb.py (from the GOROOT the binary names, and its
    // canonical path: Debian's /usr/lib/go-1.19 is a symlink farm into /usr/share/go-1.19).
    let mut v = Vec::new();
    let canon = std::fs::canonicalize(goroot.join("src/runtime/runtime-gdb.py"))
        .map(|p| p.display().to_string())
        .unwrap_or_default();
    for p in [goroot.display().to_string(), canon] {
        if !p.is_empty() {
            v.push("-iex".to_string());
            v.push(format!("add-auto-load-safe-path {p}"));
        }
    }
    v.push("-iex".into());
    v.push("handle SIGURG nostop noprint pass".into());
    v
}

/// What `print m` must agree with: `print *m` (hash<K,V>) and `print *m.buckets`
/// (bucket<K,V>).
const GO_EXTRA: [&str; 2] = ["print *m", "print *m.buckets"];

fn go_cfg(rec: &Path, commands: &[&str]) -> Value {
    json!({
        "stop": "main.stop",
        "args": [rec.display().to_string()],
        "setup": setup_commands(),
        "commands": commands,
    })
}

fn check_go_session(name: &str, s: &Session, records: &BTreeMap<String, Record>) {
    assert!(
        s.output.contains("Loading Go Runtime support."),
        "{name}: Go's runtime-gdb.py was not loaded, so precedence was not tested:\n{}",
        s.output
    );
    let states: Vec<&str> = s
        .stops()
        .iter()
        .map(|st| st["state"].as_str().unwrap())
        .collect();
    assert_eq!(states, GO_STATES, "{name}:\n{}", s.output);
    assert_eq!(
        s.results["exit_codes"],
        json!([0]),
        "{name}: the program's exit"
    );
    for state in GO_STATES {
        let rec = records.get(state).unwrap();
        let what = format!("go/{name} {state}");
        let stop = s.stop(state);
        let u64_entries = !matches!(state, "deletes" | "indirect");
        check_stop(&what, stop, rec, u64_entries);
        // The hash<K,V> struct prints as the same map.
        let (summary, entries) = parse_print(out(stop, "print *m"));
        assert_eq!(entries, rec.entries, "{what}: print *m");
        assert!(summary.starts_with("hash<"), "{what}: {summary}");
        check_bucket_printer(&what, stop, out(stop, "print *m.buckets"));
    }
}

#[test]
#[cfg_attr(miri, ignore)]
fn go_maps_print_exactly_the_live_entries_over_runtime_gdb_py() {
    let Some((bin, goroot)) = go_target() else {
        return;
    };
    let script = script().display().to_string();
    // 1. gomap.py sourced after the program (and runtime-gdb.py) is loaded.
    let rec = tmp().join("go-after.record");
    let after = run_session(
        "go-after",
        bin,
        &go_pre(goroot),
        &["-ex".into(), format!("source {script}")],
        go_cfg(&rec, &[&COMMON[..], &GO_EXTRA[..]].concat()),
    );
    let records = read_records(&rec);
    for state in GO_STATES {
        assert!(records.contains_key(state), "no record for {state}");
    }
    assert!(records["grow"].growing() && records["grow"].h("same_size") == "0");
    assert!(records["same_size_grow"].h("same_size") == "1");
    assert!(records["iterated"].h("flags").contains("ITERATOR"));
    check_go_session("go-after", &after, &records);

    // 2. gomap.py sourced before the program: runtime-gdb.py loads later and resets the
    //    objfile's printer list; ours must come back in front.
    let rec = tmp().join("go-before.record");
    let mut pre = vec!["-iex".to_string(), format!("source {script}")];
    pre.extend(go_pre(goroot));
    let before = run_session(
        "go-before",
        bin,
        &pre,
        &[],
        go_cfg(&rec, &[&COMMON[..], &GO_EXTRA[..]].concat()),
    );
    check_go_session("go-before", &before, &read_records(&rec));
}

#[test]
#[cfg_attr(miri, ignore)]
fn go_runtime_printer_is_recorded_for_comparison() {
    let Some((bin, goroot)) = go_target() else {
        return;
    };
    let rec = tmp().join("go-only.record");
    let s = run_session_with(
        "go-only",
        bin,
        &go_pre(goroot),
        &[],
        go_cfg(&rec, &["print m"]),
        false,
    );
    assert!(
        s.output.contains("Loading Go Runtime support."),
        "{}",
        s.output
    );
    let records = read_records(&rec);
    let mut report = String::from(
        "What Go 1.19's own runtime-gdb.py prints for the maps of tests/gdb/go-target\n\
         (inspect/tests/gdb.rs, go_runtime_printer_is_recorded_for_comparison).\n\
         gomap.py lists exactly the program's entries in each state.\n\n",
    );
    let mut grow_missing = None;
    for state in GO_STATES {
        let rec = &records[state];
        let text = out(s.stop(state), "print m");
        if text.contains("Traceback") {
            // With ITERATOR set, Go's printer takes the flag for "indirect keys" and fails.
            report.push_str(&format!(
                "== {state}: count {}; Go's printer fails: {}\n\n",
                rec.count(),
                text.trim_end()
            ));
            continue;
        }
        let (_, pairs) = parse_print(text);
        let missing = rec.entries.iter().filter(|e| !pairs.contains(e)).count();
        let mut remaining = rec.entries.clone();
        let mut phantoms = Vec::new();
        for p in &pairs {
            match remaining.iter().position(|e| e == p) {
                Some(i) => {
                    remaining.remove(i);
                }
                None => phantoms.push(p.clone()),
            }
        }
        if state == "grow" {
            grow_missing = Some(missing);
        }
        report.push_str(&format!(
            "== {state}: count {} ({}); Go's printer shows {} pairs: {} live entries missing, \
             {} pairs that are not entries (deleted, evacuated or duplicated slots): {:?}\n{}\n\n",
            rec.count(),
            rec.header
                .iter()
                .map(|(k, v)| format!("{k}={v}"))
                .collect::<Vec<_>>()
                .join(" "),
            pairs.len(),
            missing,
            phantoms.len(),
            phantoms.iter().take(8).collect::<Vec<_>>(),
            text.trim_end()
        ));
    }
    let path = shared_tmp().join("go-runtime-gdb-printer.txt");
    write_atomic(&path, &report);
    eprintln!("Go's own printer, recorded in {}:", path.display());
    for l in report.lines().filter(|l| l.starts_with("== ")) {
        eprintln!("  {l}");
    }
    // Mid-grow, Go's printer reads only the old array (its evacuation test looks at the low
    // bit of the overflow pointer), so it misses at least the key whose insert started the
    // grow: that key was written to the new array.
    assert!(
        grow_missing >= Some(1),
        "Go's printer found every entry mid-grow; see {}",
        path.display()
    );
}

// ---------------------------------------------------------------------------------------------
// Constants.

fn gdb_script_json(args: &[&str]) -> Vec<Value> {
    require_gdb();
    let mut cmd = Command::new("gdb");
    cmd.args(["-nx", "-batch", "-ex"])
        .arg(format!("source {}", script().display()));
    for a in args {
        cmd.arg("-ex").arg(a);
    }
    let (ok, stdout, stderr) = run_with_timeout(cmd, "gdb-constants");
    assert!(ok, "gdb failed: {stdout}\n{stderr}");
    assert!(
        !stderr.contains("Python") && !stderr.contains("rror"),
        "{stderr}"
    );
    stdout
        .lines()
        .map(|l| {
            serde_json::from_str(l).unwrap_or_else(|e| panic!("not JSON ({e}): {l}\n{stderr}"))
        })
        .collect()
}

#[test]
#[cfg_attr(miri, ignore)]
fn script_and_rust_layout_agree() {
    // Cases for the bucket layout: plain, Go's sizes from spec §1.3, indirect (129), an
    // over-aligned Rust type, zero-sized types; B across the preallocation rule.
    let mut cases: Vec<[usize; 5]> = Vec::new();
    for (ks, ka, es, ea) in [
        (8, 8, 8, 8),
        (1, 1, 1, 1),
        (4, 4, 1, 1),
        (3, 1, 2, 2),
        (0, 1, 0, 1),
        (16, 8, 8, 8),
        (128, 8, 8, 8),
        (129, 1, 8, 8),
        (8, 8, 129, 1),
        (129, 1, 200, 8),
        (128, 8, 128, 8),
        (16, 16, 8, 8),
        (8, 8, 32, 32),
        (24, 8, 24, 8),
        (40, 8, 0, 1),
    ] {
        for b in [0usize, 1, 3, 4, 5, 6, 7, 8, 9, 10, 12, 15, 16, 20] {
            cases.push([ks, ka, es, ea, b]);
        }
    }
    let cases_json = serde_json::to_string(&cases).unwrap();
    let got = gdb_script_json(&["gomap constants", &format!("gomap constants {cases_json}")]);
    assert_eq!(got.len(), 2, "{got:?}");
    let c = &got[0];

    // Header and mapextra offsets and sizes (sizes from consecutive offsets).
    let hmap = [
        ("count", Hmap::COUNT_OFFSET, Hmap::FLAGS_OFFSET),
        ("flags", Hmap::FLAGS_OFFSET, Hmap::B_OFFSET),
        ("B", Hmap::B_OFFSET, Hmap::NOVERFLOW_OFFSET),
        ("noverflow", Hmap::NOVERFLOW_OFFSET, Hmap::HASH0_OFFSET),
        ("hash0", Hmap::HASH0_OFFSET, Hmap::BUCKETS_OFFSET),
        ("buckets", Hmap::BUCKETS_OFFSET, Hmap::OLDBUCKETS_OFFSET),
        (
            "oldbuckets",
            Hmap::OLDBUCKETS_OFFSET,
            Hmap::NEVACUATE_OFFSET,
        ),
        ("nevacuate", Hmap::NEVACUATE_OFFSET, Hmap::EXTRA_OFFSET),
        ("extra", Hmap::EXTRA_OFFSET, Hmap::SIZE),
    ];
    assert_eq!(c["hmap"].as_object().unwrap().len(), hmap.len());
    for (name, off, next) in hmap {
        assert_eq!(c["hmap"][name], json!([off, next - off]), "hmap.{name}");
    }
    assert_eq!(c["HMAP_SIZE"], json!(Hmap::SIZE));
    let extra = [
        (
            "overflow",
            MapExtra::OVERFLOW_OFFSET,
            MapExtra::OLDOVERFLOW_OFFSET,
        ),
        (
            "oldoverflow",
            MapExtra::OLDOVERFLOW_OFFSET,
            MapExtra::NEXT_OVERFLOW_OFFSET,
        ),
        (
            "nextOverflow",
            MapExtra::NEXT_OVERFLOW_OFFSET,
            MapExtra::SIZE,
        ),
    ];
    assert_eq!(c["mapextra"].as_object().unwrap().len(), extra.len());
    for (name, off, next) in extra {
        assert_eq!(
            c["mapextra"][name],
            json!([off, next - off]),
            "mapextra.{name}"
        );
    }
    assert_eq!(c["MAPEXTRA_SIZE"], json!(MapExtra::SIZE));
    assert_eq!(c["PTR_SIZE"], json!(core::mem::size_of::<usize>()));

    // Scalars.
    let scalars: [(&str, usize); 15] = [
        ("BUCKET_CNT_BITS", BUCKET_CNT_BITS as usize),
        ("BUCKET_CNT", BUCKET_CNT),
        ("LOAD_FACTOR_NUM", LOAD_FACTOR_NUM),
        ("LOAD_FACTOR_DEN", LOAD_FACTOR_DEN),
        ("MAX_KEY_SIZE", MAX_KEY_SIZE),
        ("MAX_ELEM_SIZE", MAX_ELEM_SIZE),
        ("DATA_OFFSET", DATA_OFFSET),
        ("MAX_INLINE_ALIGN", MAX_INLINE_ALIGN),
        ("EMPTY_REST", EMPTY_REST as usize),
        ("EMPTY_ONE", EMPTY_ONE as usize),
        ("EVACUATED_X", EVACUATED_X as usize),
        ("EVACUATED_Y", EVACUATED_Y as usize),
        ("EVACUATED_EMPTY", EVACUATED_EMPTY as usize),
        ("MIN_TOP_HASH", MIN_TOP_HASH as usize),
        ("MAX_SMALL_SIZE", MAX_SMALL_SIZE),
    ];
    for (name, v) in scalars {
        assert_eq!(c[name], json!(v), "{name}");
    }
    assert_eq!(c["PAGE_SIZE"], json!(PAGE_SIZE));
    assert_eq!(c["CLASS_TO_SIZE"], json!(CLASS_TO_SIZE.to_vec()));

    // Flag bits by name, and tophash state names.
    let flags: BTreeMap<String, u8> = Flags::all()
        .iter_names()
        .map(|(n, f)| (n.to_string(), f.bits()))
        .collect();
    assert_eq!(c["flags"], json!(flags));
    let names: BTreeMap<String, String> = (0..MIN_TOP_HASH)
        .map(|t| (t.to_string(), TophashState::of(t).name().to_string()))
        .collect();
    assert_eq!(c["tophash_names"], json!(names));
    assert_eq!(TophashState::of(MIN_TOP_HASH).name(), "live");

    // Bucket layouts and array sizes (Go's size classes) for every case.
    let table = got[1].as_array().unwrap();
    assert_eq!(table.len(), cases.len());
    for ([ks, ka, es, ea, b], t) in cases.iter().zip(table) {
        let l = BucketLayout::new(*ks, *ka, *es, *ea);
        let want = json!({
            "indirect_key": l.indirect_key,
            "indirect_elem": l.indirect_elem,
            "keysize": l.keysize,
            "elemsize": l.elemsize,
            "bucketsize": l.bucketsize,
            "key_offsets": (0..BUCKET_CNT).map(|i| l.key_offset(i)).collect::<Vec<_>>(),
            "elem_offsets": (0..BUCKET_CNT).map(|i| l.elem_offset(i)).collect::<Vec<_>>(),
            "overflow_offset": l.overflow_offset(),
            "nbuckets": l.nbuckets(*b as u8).unwrap(),
        });
        assert_eq!(t, &want, "layout ({ks}, {ka}, {es}, {ea}) at B={b}");
    }

    // Swiss-table maps: the constants and rules the script restates, against map-inspect's
    // (the field offsets the script reads from DWARF; their names must be the layout's).
    use map_inspect::program::layout as sw;
    use map_inspect::swiss::decode::{Ctrl, MAX_GLOBAL_DEPTH};
    let s = &c["swiss"];
    assert_eq!(s["GROUP_SLOTS"], json!(sw::GROUP_SLOTS));
    assert_eq!(s["CTRL_EMPTY"], json!(sw::CTRL_EMPTY));
    assert_eq!(s["CTRL_DELETED"], json!(sw::CTRL_DELETED));
    assert_eq!(s["MAX_TABLE_CAPACITY"], json!(sw::MAX_TABLE_CAPACITY));
    assert_eq!(s["MAX_AVG_GROUP_LOAD"], json!(sw::MAX_AVG_GROUP_LOAD));
    assert_eq!(s["MAX_INLINE"], json!(sw::SWISS_MAX_INLINE));
    assert_eq!(s["MAX_GLOBAL_DEPTH"], json!(MAX_GLOBAL_DEPTH));
    let mut map_fields: Vec<&str> = sw::SwissMapOffsets::GO125
        .fields()
        .iter()
        .map(|f| f.0)
        .collect();
    map_fields.sort();
    assert_eq!(s["map_fields"], json!(map_fields));
    let mut table_fields: Vec<String> = sw::TableOffsets::GO124
        .fields()
        .iter()
        .map(|f| f.0.split('.').next().unwrap().to_string())
        .collect();
    table_fields.sort();
    table_fields.dedup();
    assert_eq!(s["table_fields"], json!(table_fields));
    for b in 3..=10 {
        let cap = 1u64 << b;
        assert_eq!(
            s["max_growth_left"][cap.to_string()],
            json!(sw::max_growth_left(cap)),
            "maxGrowthLeft({cap})"
        );
    }
    for c in 0..=255u8 {
        assert_eq!(
            s["ctrl_names"][c.to_string()],
            json!(Ctrl::of(c).name()),
            "ctrl byte {c:#04x}"
        );
    }
}
