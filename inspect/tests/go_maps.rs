//! `map-inspect maps` and `map-inspect dump VAR` on real Go programs, live and from core
//! files, for every Go version with the classic map (1.19, 1.21, 1.22, 1.23, and 1.24/1.25
//! built with GOEXPERIMENT=noswissmap); gdb on the same core files; the errors a user meets
//! (stripped binaries, wrong names, non-map variables, wrong addresses, zeroed memory,
//! contradicting --types); and a real crash: `fatal error: concurrent map writes`. Swiss-table
//! maps (Go 1.24–1.27) are tested in `go_swiss.rs`.
//!
//! The program (`tests/go-inspect`) prints its maps' entries in map-inspect's JSON shapes; the
//! decoded entries must be exactly those. Each version is built once (`support::goprog`) and
//! reused by every test here.

#[allow(dead_code)]
mod support;

use std::collections::BTreeSet;
use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};
use std::time::Duration;

use map_inspect::report::Report;
use serde_json::Value;

use support::goprog::{build, build_all, entry_set, gcore, Spec, CLASSIC};
use support::{fails, in_groups, run, run_ok_within, tmp_dir, Target};

const LIMIT: Duration = Duration::from_secs(120);

fn ok(args: &[&str]) -> String {
    run_ok_within(args, LIMIT)
}

/// Every check of one source (`--pid P` or `--core C`) against what the program printed.
fn check_source(src: &[&str], info: &Value, label: &str, version: &str, exp: Option<&str>) {
    let mut a = vec!["maps", "--format", "json"];
    a.extend_from_slice(src);
    let maps: Value = serde_json::from_str(&ok(&a)).expect("maps JSON");
    assert_eq!(maps["schema"], "gomap-maps/1");
    let layout = &maps["layout"];
    assert!(
        layout["go_version"].as_str().unwrap().starts_with(version),
        "{label}: {layout}"
    );
    let want_size = if exp.is_some() { 56 } else { 48 };
    assert_eq!(layout["hmap_size"], want_size, "{label}");
    let listed: BTreeSet<String> = maps["maps"]
        .as_array()
        .unwrap()
        .iter()
        .map(|m| m["name"].as_str().unwrap().to_string())
        .collect();
    for m in info["maps"].as_array().unwrap() {
        let expr = m["expr"].as_str().unwrap();
        let is_var = !expr.contains('[') && !expr.starts_with("main.svc");
        if is_var {
            assert!(listed.contains(expr), "{label}: maps does not list {expr}");
            let row = maps["maps"]
                .as_array()
                .unwrap()
                .iter()
                .find(|r| r["name"] == expr)
                .unwrap();
            assert_eq!(row["type"], m["type"], "{label} {expr}");
            assert!(row["error"].is_null(), "{label} {expr}: {row}");
            if m["nil"].as_bool().unwrap() {
                assert!(row["hmap"].is_null(), "{label} {expr}");
            } else {
                assert_eq!(row["count"], m["count"], "{label} {expr}");
                assert_eq!(row["B"], m["B"], "{label} {expr}");
                assert_eq!(row["growing"], m["growing"], "{label} {expr}");
            }
        }
        let mut a = vec!["dump", "--format", "json"];
        a.extend_from_slice(src);
        a.push(expr);
        let text = ok(&a);
        if m["nil"].as_bool().unwrap() {
            let v: Value = serde_json::from_str(&text).unwrap();
            assert_eq!(v["nil"], true, "{label} {expr}");
            continue;
        }
        let r: Report = serde_json::from_str(&text)
            .unwrap_or_else(|e| panic!("{label} {expr}: not a report ({e})"));
        let want: Vec<(Value, Value)> = m["entries"]
            .as_array()
            .unwrap()
            .iter()
            .map(|e| (e[0].clone(), e[1].clone()))
            .collect();
        assert_eq!(
            entry_set(&r.entries()),
            entry_set(&want),
            "{label}: the entries of {expr}"
        );
        assert_eq!(
            r.summary.count,
            m["count"].as_u64().unwrap(),
            "{label} {expr}"
        );
        assert_eq!(
            r.summary.growing,
            m["growing"].as_bool().unwrap(),
            "{label} {expr}"
        );
        assert!(r.warnings.is_empty(), "{label} {expr}: {:?}", r.warnings);
        let l = r.layout.as_ref().expect("layout");
        assert_eq!(l.hmap_size, want_size, "{label} {expr}");
        assert_eq!(r.header.raw.0.len(), want_size, "{label} {expr}");
        // Go 1.21 grows at 6.0 entries per bucket (golang/go#63438), the others at 6.5.
        let per = if version == "1.21" { "6.0" } else { "6.5" };
        assert_eq!(r.summary.grow_per_bucket, per, "{label} {expr}");
        let nb = 1u64 << r.header.B;
        let num = if version == "1.21" { 12 } else { 13 };
        assert_eq!(r.summary.grow_at, (num * (nb / 2)).max(8), "{label} {expr}");
        if expr == "main.cleared" && exp.is_some() {
            let f = r.header.fields.iter().find(|f| f.name == "clearSeq");
            assert_eq!(
                f.map(|f| (f.offset, f.value.as_str())),
                Some((40, "1")),
                "{label}: clearSeq of the cleared map"
            );
        }
    }
    // The first line of the text dump names the version, the layout and where it was found.
    let mut a = vec!["dump", "--color", "never", "--no-hex"];
    a.extend_from_slice(src);
    a.push("main.grow");
    let text = ok(&a);
    let first = text.lines().next().unwrap();
    assert!(
        first.starts_with(&format!("Go {version}")) && first.contains("-byte hmap"),
        "{label}: {first}"
    );
    assert!(first.contains(".go.buildinfo of"), "{label}: {first}");
    check_consistent(src, info, label);
}

/// `map-inspect check` finds every map the program built consistent with Go's rules and
/// hash, every entry checked.
fn check_consistent(src: &[&str], info: &Value, label: &str) {
    use map_inspect::check::{check_report, CheckOptions};
    use map_inspect::dump::{DumpOptions, Source, Target};
    let source = match src {
        ["--pid", p] => Source::Process {
            pid: p.parse().unwrap(),
            go: true,
        },
        ["--core", c] => Source::Core(PathBuf::from(c)),
        _ => unreachable!("{src:?}"),
    };
    for m in info["maps"].as_array().unwrap() {
        if m["nil"].as_bool().unwrap() {
            continue;
        }
        let expr = m["expr"].as_str().unwrap();
        let o = CheckOptions {
            map: DumpOptions {
                source: source.clone(),
                target: Some(Target::Var(expr.to_string())),
                ..DumpOptions::default()
            },
            hashkey: None,
            keys: Vec::new(),
        };
        let r = check_report(&o).unwrap_or_else(|e| panic!("{label}: check {expr}: {}", e.message));
        assert!(r.consistent, "{label}: check {expr}: {:#?}", r.violations);
        assert_eq!(
            r.entries,
            m["count"].as_u64().unwrap(),
            "{label}: check {expr}"
        );
    }
}

/// The entries gdb's `print` lists for a map of integers and strings: `[k] = v` pairs.
fn gdb_pairs(text: &str) -> Vec<(String, String)> {
    let body = match text.find("= {") {
        Some(i) => &text[i + 3..],
        None => return Vec::new(),
    };
    let mut out = Vec::new();
    let mut rest = body;
    while let Some(i) = rest.find('[') {
        rest = &rest[i + 1..];
        let (k, r) = token(rest);
        rest = r.trim_start_matches(']').trim_start();
        rest = rest.strip_prefix('=').unwrap_or(rest).trim_start();
        let (v, r) = token(rest);
        rest = r;
        out.push((k, v));
    }
    out.sort();
    out
}

fn token(s: &str) -> (String, &str) {
    if let Some(q) = s.strip_prefix('"') {
        let mut end = 0;
        let b = q.as_bytes();
        while end < b.len() && b[end] != b'"' {
            if b[end] == b'\\' {
                end += 1;
            }
            end += 1;
        }
        (q[..end].to_string(), &q[(end + 1).min(q.len())..])
    } else {
        let end = s.find([']', ',', '}']).unwrap_or(s.len());
        (s[..end].trim().to_string(), &s[end..])
    }
}

fn as_text(v: &Value) -> String {
    match v {
        Value::String(s) => s.clone(),
        other => other.to_string(),
    }
}

/// gdb with gomap.py on the core file: `print` of three maps (mid-grow, after deletes,
/// cleared) lists exactly the program's entries.
fn check_gdb(bin: &Path, core: &Path, info: &Value, label: &str) {
    let script = Path::new(env!("CARGO_MANIFEST_DIR")).join("gdb/gomap.py");
    let names = ["main.grow", "main.deletes", "main.cleared"];
    let mut cmd = Command::new("gdb");
    cmd.args(["-nx", "-batch", "-ex", "set print elements unlimited"])
        .arg("-ex")
        .arg(format!("source {}", script.display()))
        .arg(bin)
        .arg(core);
    for n in names {
        cmd.arg("-ex").arg(format!("print '{n}'"));
    }
    let child = cmd
        .stdin(Stdio::null())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .expect("run gdb");
    let out = support::wait_with_limit(child, LIMIT, "gdb");
    let prints: Vec<&str> = out.stdout.lines().filter(|l| l.starts_with('$')).collect();
    assert_eq!(
        prints.len(),
        names.len(),
        "{label}: gdb printed {}",
        out.stdout
    );
    for (n, line) in names.iter().zip(prints) {
        assert!(!line.contains("gomap: error"), "{label} {n}: {line}");
        let m = info["maps"]
            .as_array()
            .unwrap()
            .iter()
            .find(|m| m["expr"] == *n)
            .unwrap();
        let mut want: Vec<(String, String)> = m["entries"]
            .as_array()
            .unwrap()
            .iter()
            .map(|e| (as_text(&e[0]), as_text(&e[1])))
            .collect();
        want.sort();
        assert_eq!(gdb_pairs(line), want, "{label}: gdb's print of {n}");
        assert!(
            line.contains(&format!("len={}", m["count"])),
            "{label} {n}: {line}"
        );
    }
}

fn check_version(version: &'static str, exp: Option<&'static str>, bin: &Path) {
    let label = format!("Go {version}");
    let t = Target::start(Command::new(bin));
    let info = t.info.clone();
    let pid = t.pid().to_string();
    check_source(&["--pid", &pid], &info, &label, version, exp);
    let dir = tmp_dir("go-maps-cores");
    let core = gcore(t.pid(), &dir, &format!("core-{version}"));
    drop(t);
    let label_core = format!("{label} core");
    check_source(&["--core", &core.arg()], &info, &label_core, version, exp);
    check_gdb(bin, &core.0, &info, &format!("{label} gdb"));
}

#[test]
#[cfg_attr(miri, ignore)]
fn every_classic_version_live_core_and_gdb() {
    let specs: Vec<Spec> = CLASSIC.iter().map(|(v, x)| Spec::classic(v, *x)).collect();
    let bins = build_all(&specs);
    // Two versions at a time (a core file of a Go process is over 1 GB for a moment).
    let versions: Vec<_> = CLASSIC.iter().zip(&bins).collect();
    in_groups(&versions, 2, |((v, x), bin)| check_version(v, *x, bin));
}

#[test]
#[cfg_attr(miri, ignore)]
fn errors_are_clear_and_never_exit_0() {
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
    let t = Target::start(Command::new(&bins[0]));
    let pid = t.pid().to_string();
    let p = pid.as_str();
    let grow = t.info["maps"]
        .as_array()
        .unwrap()
        .iter()
        .find(|m| m["expr"] == "main.grow")
        .unwrap()
        .clone();
    let go = "Go 1.22";
    fails(
        &run(&["dump", "--pid", p, "main.nope"], LIMIT),
        1,
        &["no package-level variable main.nope", go],
        "a wrong name",
    );
    fails(
        &run(&["dump", "--pid", p, "main.notAMap"], LIMIT),
        1,
        &["main.notAMap is not a map", "[4]int", go],
        "a variable that is not a map",
    );
    fails(
        &run(
            &["dump", "--pid", p, "main.grow", "--types", "int64:string"],
            LIMIT,
        ),
        1,
        &["--types says the key is int64", "DWARF", go],
        "--types that contradict DWARF",
    );
    // The variable's address instead of the map's: the message names the map's address.
    let maps: Value =
        serde_json::from_str(&ok(&["maps", "--pid", p, "--format", "json", "main.grow"])).unwrap();
    let var_addr = maps["maps"][0]["address"].as_str().unwrap().to_string();
    let hmap = maps["maps"][0]["hmap"].as_str().unwrap().to_string();
    let out = run(
        &[
            "dump",
            "--pid",
            p,
            "--addr",
            &var_addr,
            "--types",
            "uint64:string",
        ],
        LIMIT,
    );
    fails(
        &out,
        1,
        &[
            "does not look like a Go map's header",
            &format!("the map is at {hmap}"),
            go,
        ],
        "the variable's address",
    );
    // The suggestion is right: that address dumps the program's entries.
    let r: Report = serde_json::from_str(&ok(&[
        "dump",
        "--pid",
        p,
        "--addr",
        &hmap,
        "--types",
        "uint64:string",
        "--format",
        "json",
    ]))
    .unwrap();
    assert_eq!(r.summary.count, grow["count"].as_u64().unwrap());
    // A zeroed page.
    let zeros = t.info["zeros"].as_str().unwrap().to_string();
    fails(
        &run(
            &[
                "dump",
                "--pid",
                p,
                "--addr",
                &zeros,
                "--types",
                "uint64:string",
            ],
            LIMIT,
        ),
        1,
        &["all zero", go],
        "zeroed memory",
    );
    // An address nothing is mapped at.
    fails(
        &run(
            &[
                "dump",
                "--pid",
                p,
                "--addr",
                "0x10000",
                "--types",
                "uint64:string",
            ],
            LIMIT,
        ),
        1,
        &["0x10000", go],
        "an unmapped address",
    );
    drop(t);

    // -ldflags=-w: no DWARF; the symbol table gives the address, --types the types.
    let t = Target::start(Command::new(&bins[2]));
    let pid = t.pid().to_string();
    fails(
        &run(&["dump", "--pid", &pid, "main.grow"], LIMIT),
        1,
        &["no DWARF", "-ldflags=-w", "--types", go],
        "no DWARF",
    );
    fails(
        &run(&["maps", "--pid", &pid], LIMIT),
        1,
        &["no DWARF"],
        "maps without DWARF",
    );
    let r: Report = serde_json::from_str(&ok(&[
        "dump",
        "--pid",
        &pid,
        "main.grow",
        "--types",
        "uint64:string",
        "--format",
        "json",
    ]))
    .unwrap();
    let m = t.info["maps"]
        .as_array()
        .unwrap()
        .iter()
        .find(|m| m["expr"] == "main.grow")
        .unwrap();
    let want: Vec<(Value, Value)> = m["entries"]
        .as_array()
        .unwrap()
        .iter()
        .map(|e| (e[0].clone(), e[1].clone()))
        .collect();
    assert_eq!(entry_set(&r.entries()), entry_set(&want));
    drop(t);

    // -s -w: no symbols either.
    let t = Target::start(Command::new(&bins[1]));
    let pid = t.pid().to_string();
    fails(
        &run(&["dump", "--pid", &pid, "main.grow"], LIMIT),
        1,
        &["stripped", "no symbol table and no DWARF", "--addr", go],
        "a stripped binary",
    );
    drop(t);

    // Go 1.24's default Swiss tables are read too (inspect/tests/go_swiss.rs has the rest).
    let t = Target::start(Command::new(&bins[3]));
    let pid = t.pid().to_string();
    let maps: Value =
        serde_json::from_str(&ok(&["maps", "--pid", &pid, "--format", "json"])).expect("maps JSON");
    assert_eq!(maps["layout"]["implementation"], "swiss", "{maps}");
}

/// Whether the kernel writes a core file into the crashing process's directory.
fn kernel_core_pattern() -> Option<String> {
    let p = std::fs::read_to_string("/proc/sys/kernel/core_pattern").ok()?;
    let p = p.trim().to_string();
    (!p.starts_with('|') && !p.contains('/')).then_some(p)
}

/// Runs the crash mode and returns the kernel's core of it, if the kernel wrote one.
fn kernel_core_of_crash(bin: &Path, dir: &Path) -> Option<PathBuf> {
    let _ = std::fs::remove_dir_all(dir);
    std::fs::create_dir_all(dir).unwrap();
    let mut cmd = Command::new(bin);
    cmd.arg("crash")
        .current_dir(dir)
        .env("GOTRACEBACK", "crash")
        .stdin(Stdio::null())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped());
    // SAFETY: setrlimit is async-signal-safe and touches only the child's own limits.
    unsafe {
        std::os::unix::process::CommandExt::pre_exec(&mut cmd, || {
            let lim = libc::rlimit {
                rlim_cur: libc::RLIM_INFINITY,
                rlim_max: libc::RLIM_INFINITY,
            };
            if libc::setrlimit(libc::RLIMIT_CORE, &lim) != 0 {
                return Err(std::io::Error::last_os_error());
            }
            Ok(())
        });
    }
    let child = cmd.spawn().ok()?;
    let out = support::wait_with_limit(child, LIMIT, "the crashing program");
    assert!(
        out.stderr.contains("fatal error: concurrent map writes"),
        "{}",
        out.stderr
    );
    std::fs::read_dir(dir)
        .unwrap()
        .flatten()
        .map(|e| e.path())
        .find(|p| {
            p.file_name()
                .is_some_and(|n| n.to_string_lossy().starts_with("core"))
        })
}

/// Whether `map-inspect` finds `HASH_WRITING` set in the core's `main.hot`.
fn core_has_hash_writing(core: &Path, bin: &Path) -> bool {
    let out = run(
        &[
            "dump",
            "--core",
            &core.to_string_lossy(),
            "--exe",
            &bin.to_string_lossy(),
            "main.hot",
            "--format",
            "json",
            "--no-hex",
        ],
        LIMIT,
    );
    assert!(out.status.success(), "{}", out.stderr);
    let r: Report = serde_json::from_str(&out.stdout).unwrap();
    r.header.flag_names.contains(&"HASH_WRITING".to_string())
}

#[test]
#[cfg_attr(miri, ignore)]
fn concurrent_map_writes_crash_core() {
    let bin = build(&Spec::classic("1.22", None));
    let dir = tmp_dir(&format!("crash-{}", std::process::id()));
    let mut core = None;
    let mut how = "";
    // The kernel's core, when the machine writes one. Go prints its traceback before it
    // aborts; the other writer keeps running meanwhile, and may have finished its write (and
    // cleared the flag) by the time the kernel takes the core. That is Go's timing, not what
    // this test is about: up to three crashes, then gdb.
    if kernel_core_pattern().is_some() {
        for attempt in 1..=3 {
            match kernel_core_of_crash(&bin, &dir) {
                Some(c) if core_has_hash_writing(&c, &bin) => {
                    core = Some(c);
                    how = "the kernel's core dump";
                    break;
                }
                Some(_) => eprintln!(
                    "crash {attempt}: the other write had already ended when the kernel took \
                     the core"
                ),
                None => break,
            }
        }
    }
    if core.is_none() {
        let _ = std::fs::remove_dir_all(&dir);
        std::fs::create_dir_all(&dir).unwrap();
        // The kernel does not write cores here: stop the program in gdb where Go throws, and
        // gcore it there.
        let path = dir.join("core.gdb");
        let child = Command::new("gdb")
            .args(["-nx", "-batch", "-ex", "handle SIGURG nostop noprint pass"])
            .args([
                "-ex",
                "set pagination off",
                "-ex",
                "break runtime.fatalthrow",
            ])
            .args(["-ex", "run"])
            .arg("-ex")
            .arg(format!("gcore {}", path.display()))
            .args(["-ex", "kill", "--args"])
            .arg(&bin)
            .arg("crash")
            .env("GOTRACEBACK", "crash")
            .stdin(Stdio::null())
            .stdout(Stdio::piped())
            .stderr(Stdio::piped())
            .spawn()
            .expect("run gdb");
        support::wait_with_limit(child, LIMIT, "gdb on the crashing program");
        assert!(path.exists(), "gdb wrote no core at runtime.fatalthrow");
        core = Some(path);
        how = "gcore at runtime.fatalthrow";
    }
    let core = core.unwrap();
    let c = core.to_string_lossy().to_string();
    let b = bin.to_string_lossy().to_string();
    let json = run(
        &[
            "dump", "--core", &c, "--exe", &b, "main.hot", "--format", "json", "--no-hex",
        ],
        LIMIT,
    );
    let text = run(
        &[
            "dump", "--core", &c, "--exe", &b, "main.hot", "--no-hex", "--color", "never",
        ],
        LIMIT,
    );
    let _ = std::fs::remove_dir_all(&dir);
    assert!(json.status.success(), "{how}: {}", json.stderr);
    let r: Report = serde_json::from_str(&json.stdout).unwrap();
    assert!(
        r.header.flag_names.contains(&"HASH_WRITING".to_string()),
        "{how}: flags {:?}",
        r.header.flag_names
    );
    assert!(r.notes.iter().any(|n| n.contains("concurrent map writes")));
    assert!(text.status.success(), "{}", text.stderr);
    assert!(text.stdout.contains("[x] HASH_WRITING"), "{}", text.stdout);
    assert!(text
        .stdout
        .contains("HASH_WRITING is set: a goroutine was in the middle of writing"));
}
