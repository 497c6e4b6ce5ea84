//! `map-inspect maps`, `map-inspect dump VAR` and gdb on Swiss-table maps of real Go programs
//! built with Go 1.24, 1.25, 1.26 and 1.27 (and 1.27 with `GOEXPERIMENT=mapsplitgroup`), live
//! and from gcore core files: the decoded entries are exactly the ones the program printed,
//! the header's and tables' fields are the ones the program reads from its own memory, the
//! text summary's per-table rows add up to those fields, the JSON follows
//! `docs/swiss-dump.schema.json`, and gdb's `print` (gomap.py, with Go's runtime-gdb.py loaded
//! too) lists exactly the program's entries, and `map-inspect check` finds every map
//! consistent with Go's rules and hash. Then the errors a user meets on a Swiss map.
//!
//! The program is `tests/go-inspect`, built once per version (`support::goprog`).

#[allow(dead_code)]
mod support;

use std::collections::HashMap;
use std::path::Path;
use std::process::{Command, Stdio};
use std::time::Duration;

use map_inspect::swiss::report::SwissReport;
use serde_json::Value;

use support::gdbvalue::{parse_print_line, same, G};
use support::goprog::{build_all, entry_set, gcore, goroot, Spec, SWISS};
use support::{fails, in_groups, run, run_ok_within, tmp_dir, Out, Sleeper, Target};

const LIMIT: Duration = Duration::from_secs(120);

fn ok(args: &[&str]) -> String {
    run_ok_within(args, LIMIT)
}

fn schema() -> Value {
    let p = Path::new(env!("CARGO_MANIFEST_DIR")).join("../docs/swiss-dump.schema.json");
    serde_json::from_str(&std::fs::read_to_string(p).expect("docs/swiss-dump.schema.json"))
        .expect("the schema is JSON")
}

fn map_info<'a>(info: &'a Value, expr: &str) -> &'a Value {
    info["maps"]
        .as_array()
        .unwrap()
        .iter()
        .find(|m| m["expr"] == expr)
        .unwrap_or_else(|| panic!("the program lists no {expr}"))
}

fn entries_of(m: &Value) -> Vec<(Value, Value)> {
    m["entries"]
        .as_array()
        .unwrap()
        .iter()
        .map(|e| (e[0].clone(), e[1].clone()))
        .collect()
}

/// The summary's per-table rows (table, used, tombstones, growthLeft, capacity) and the total
/// row, from a text dump.
fn summary_rows(text: &str) -> (Vec<[i64; 5]>, Option<[i64; 4]>) {
    let mut rows = Vec::new();
    let mut total = None;
    let mut inside = false;
    for l in text.lines() {
        let t = l.trim();
        if t.starts_with("table") && t.contains("tombstones") && t.contains("growthLeft") {
            inside = true;
            continue;
        }
        if !inside {
            continue;
        }
        let w: Vec<&str> = t.split_whitespace().collect();
        if w.first() == Some(&"total") {
            let n: Vec<i64> = w[1..5].iter().map(|x| x.parse().unwrap()).collect();
            total = Some([n[0], n[1], n[2], n[3]]);
            break;
        }
        match w.first().and_then(|x| x.parse::<i64>().ok()) {
            Some(num) => {
                let n: Vec<i64> = w[1..5].iter().map(|x| x.parse().unwrap()).collect();
                rows.push([num, n[0], n[1], n[2], n[3]]);
            }
            None => break,
        }
    }
    (rows, total)
}

/// The text summary of a map with tables: every table's row is its fields, the tombstones
/// are capacity*7/8 - used - growthLeft and the deleted control bytes, and the totals add
/// up to the rows and to the header's used.
fn check_text_totals(text: &str, r: &SwissReport, label: &str) {
    let (rows, total) = summary_rows(text);
    assert_eq!(rows.len(), r.tables.len(), "{label}: summary rows\n{text}");
    for ([n, used, tombs, gl, cap], t) in rows.iter().zip(&r.tables) {
        assert_eq!(*n as usize, t.number, "{label}");
        assert_eq!(
            (*used, *gl, *cap),
            (t.used as i64, t.growthLeft as i64, t.capacity as i64),
            "{label}: table {n}'s row against its fields"
        );
        let limit = if *cap <= 8 { cap - 1 } else { cap * 7 / 8 };
        assert_eq!(*tombs, limit - used - gl, "{label}: table {n}'s tombstones");
        assert_eq!(
            *tombs, t.deleted_slots as i64,
            "{label}: table {n}'s tombstones against its deleted control bytes"
        );
        assert_eq!(
            *used, t.full_slots as i64,
            "{label}: table {n}'s full slots"
        );
    }
    let total = total.unwrap_or_else(|| panic!("{label}: no total row\n{text}"));
    let sum = |k: usize| rows.iter().map(|r| r[k]).sum::<i64>();
    assert_eq!(total, [sum(1), sum(2), sum(3), sum(4)], "{label}: totals");
    assert_eq!(total[0] as u64, r.header.used, "{label}: used total");
    assert_eq!(
        total[2] as u64,
        r.tables.iter().map(|t| t.growthLeft as u64).sum::<u64>(),
        "{label}: growthLeft total"
    );
    assert_eq!(total[1] as usize, r.summary.tombstones, "{label}");
}

/// Every check of one source (`--pid P` or `--core C`) against what the program printed.
fn check_source(src: &[&str], info: &Value, label: &str, version: &str, exp: Option<&str>) {
    let schema = schema();
    let mut a = vec!["maps", "--format", "json"];
    a.extend_from_slice(src);
    let maps: Value = serde_json::from_str(&ok(&a)).expect("maps JSON");
    assert_eq!(maps["schema"], "gomap-maps/1");
    let layout = &maps["layout"];
    assert_eq!(layout["implementation"], "swiss", "{label}: {layout}");
    assert!(
        layout["go_version"].as_str().unwrap().starts_with(version),
        "{label}: {layout}"
    );
    assert_eq!(layout["hmap_size"], 48, "{label}");
    if let Some(x) = exp {
        assert!(
            layout["experiments"]
                .as_array()
                .unwrap()
                .iter()
                .any(|e| e == x),
            "{label}: {layout}"
        );
    }
    let rows = maps["maps"].as_array().unwrap();
    for m in info["maps"].as_array().unwrap() {
        let expr = m["expr"].as_str().unwrap();
        assert_eq!(
            m["swiss"], true,
            "{label}: the program's build is not Swiss"
        );
        let is_var = !expr.contains('[') && !expr.starts_with("main.svc");
        if is_var {
            let row = rows
                .iter()
                .find(|r| r["name"] == expr)
                .unwrap_or_else(|| panic!("{label}: maps does not list {expr}"));
            assert_eq!(row["type"], m["type"], "{label} {expr}");
            assert!(row["error"].is_null(), "{label} {expr}: {row}");
            if m["nil"].as_bool().unwrap() {
                assert!(row["hmap"].is_null(), "{label} {expr}");
            } else {
                assert_eq!(row["count"], m["count"], "{label} {expr}");
                assert_eq!(row["tables"], m["tables"], "{label} {expr}");
                assert!(row["B"].is_null() && row["growing"].is_null(), "{label}");
            }
        }
        let mut a = vec!["dump", "--format", "json"];
        a.extend_from_slice(src);
        a.push(expr);
        let text = ok(&a);
        let v: Value = serde_json::from_str(&text).unwrap();
        assert_eq!(v["schema"], "gomap-swiss-dump/1", "{label} {expr}");
        if m["nil"].as_bool().unwrap() {
            assert_eq!(v["nil"], true, "{label} {expr}");
            continue;
        }
        if let Err(e) = support::schema::validate(&schema, &v) {
            panic!("{label} {expr}: the JSON does not follow the schema: {e}");
        }
        let r: SwissReport = serde_json::from_value(v)
            .unwrap_or_else(|e| panic!("{label} {expr}: not a report ({e})"));
        assert_eq!(
            entry_set(&r.entries()),
            entry_set(&entries_of(m)),
            "{label}: the entries of {expr}"
        );
        let what = format!("{label} {expr}");
        assert!(r.warnings.is_empty(), "{what}: {:?}", r.warnings);
        assert!(r.notes.is_empty(), "{what}: {:?}", r.notes);
        assert_eq!(r.summary.used, m["count"].as_u64().unwrap(), "{what}");
        assert_eq!(r.summary.live as u64, r.summary.used, "{what}");
        assert_eq!(r.layout.implementation, "swiss", "{what}");
        assert_eq!(r.header.raw.0.len(), 48, "{what}");
        // The fields the program reads from its own header and tables.
        assert_eq!(
            r.header.dirLen,
            m["dirLen"].as_i64().unwrap(),
            "{what}: dirLen"
        );
        assert_eq!(
            r.summary.tables,
            m["tables"].as_u64().unwrap() as usize,
            "{what}"
        );
        let tombs: i64 = r.tables.iter().map(|t| t.tombstones).sum();
        assert_eq!(
            tombs,
            m["tombstones"].as_i64().unwrap(),
            "{what}: tombstones"
        );
        for t in &r.tables {
            assert_eq!(
                t.deleted_slots as i64, t.tombstones,
                "{what}: table {}",
                t.number
            );
            assert_eq!(t.full_slots, t.used as usize, "{what}: table {}", t.number);
        }
        assert_eq!(r.header.clearSeq, m["clearSeq"].as_u64().unwrap(), "{what}");
        // tombstonePossible exists from Go 1.25.
        assert_eq!(
            r.header.tombstonePossible.is_some(),
            version != "1.24",
            "{what}: tombstonePossible"
        );
        // The group layout from DWARF, checked against the runtime's map type.
        assert_eq!(r.map.group.split, exp.is_some(), "{what}: split groups");
        assert!(r.map.runtime_type.is_some(), "{what}: not checked");
        match expr {
            "main.small" => {
                assert!(r.header.small && r.header.dirLen == 0, "{what}");
                assert_eq!(r.groups.len(), 1, "{what}");
                let n = r.summary.next_insert.as_ref().unwrap();
                assert_eq!(n.action, "free-slot", "{what}");
            }
            "main.fresh" => {
                assert!(r.header.small && r.groups.is_empty(), "{what}");
                assert_eq!(r.header.dirPtr.0, 0, "{what}");
                let n = r.summary.next_insert.as_ref().unwrap();
                assert_eq!(n.action, "allocate-group", "{what}");
            }
            "main.wide" => {
                assert!(r.header.used > 1024, "{what}");
                let d = r.directory.as_ref().unwrap();
                assert!(
                    d.len > d.runs.len(),
                    "{what}: directory {} tables {}",
                    d.len,
                    d.runs.len()
                );
                assert!(r.tables.iter().any(|t| t.dir_count > 1), "{what}");
            }
            "main.tombs" => {
                assert!(r.summary.tombstones > 0, "{what}");
                if version != "1.24" {
                    assert_eq!(r.header.tombstonePossible, Some(true), "{what}");
                }
            }
            "main.cleared" => assert_eq!(r.header.clearSeq, 1, "{what}"),
            "main.big" => assert!(r.map.group.indirect_key, "{what}"),
            "main.fat" => assert!(r.map.group.indirect_elem, "{what}"),
            _ => {}
        }
        if matches!(expr, "main.wide" | "main.tombs" | "main.grow") {
            let mut a = vec!["dump", "--no-hex", "--color", "never", "--max-buckets", "0"];
            a.extend_from_slice(src);
            a.push(expr);
            let text = ok(&a);
            check_text_totals(&text, &r, &what);
            let first = text.lines().next().unwrap();
            assert!(
                first.starts_with(&format!("Go {version}"))
                    && first.contains("Swiss-table map")
                    && first.contains(".go.buildinfo of"),
                "{what}: {first}"
            );
        }
    }
    // One table, one group.
    let mut a = vec![
        "dump", "--format", "json", "--table", "1", "--group", "2", "--no-hex",
    ];
    a.extend_from_slice(src);
    a.push("main.wide");
    let r: SwissReport = serde_json::from_str(&ok(&a)).unwrap();
    assert_eq!(r.groups.len(), 1, "{label}");
    assert_eq!(r.groups[0].id, "t1.g2", "{label}");
    assert_eq!(r.tables.len(), 1, "{label}");
    assert_eq!(r.tables[0].number, 1, "{label}");
    assert_eq!(r.shown.filter, "table 1, group 2", "{label}");
    check_consistent(src, info, label);
}

/// `map-inspect check` finds every map the program built consistent with Go's rules and
/// hash (the runtime's, read from the process or core file), every entry checked.
fn check_consistent(src: &[&str], info: &Value, label: &str) {
    use map_inspect::check::{check_report, CheckOptions};
    use map_inspect::dump::{DumpOptions, Source, Target};
    let source = match src {
        ["--pid", p] => Source::Process {
            pid: p.parse().unwrap(),
            go: true,
        },
        ["--core", c] => Source::Core(std::path::PathBuf::from(c)),
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
        assert!(
            r.seed.starts_with("Map.seed = 0x"),
            "{label}: check {expr}: {}",
            r.seed
        );
        // get: every key of the maps of integer and string keys (a small map, one with a
        // directory of several tables, one with tombstones), with its elem; a missing key is
        // absent.
        if !matches!(expr, "main.small" | "main.wide" | "main.tombs") {
            continue;
        }
        let entries = entries_of(m);
        let mut keys: Vec<String> = entries
            .iter()
            .map(|(k, _)| match k {
                Value::String(s) => format!("{s:?}"),
                other => other.to_string(),
            })
            .collect();
        keys.push(
            if expr == "main.wide" {
                "3"
            } else {
                "\"absent\""
            }
            .to_string(),
        );
        let o = CheckOptions {
            map: DumpOptions {
                source: source.clone(),
                target: Some(Target::Var(expr.to_string())),
                ..DumpOptions::default()
            },
            hashkey: None,
            keys,
        };
        let g = map_inspect::check::get_report(&o)
            .unwrap_or_else(|e| panic!("{label}: get {expr}: {}", e.message));
        assert_eq!(g.lookups.len(), entries.len() + 1, "{label}: get {expr}");
        for (l, (_, elem)) in g.lookups.iter().zip(&entries) {
            assert!(l.found, "{label}: get {expr} {}: {l:#?}", l.key);
            assert_eq!(
                l.elem_json.as_ref(),
                Some(elem),
                "{label}: get {expr} {}",
                l.key
            );
        }
        let last = g.lookups.last().unwrap();
        assert!(!last.found, "{label}: get {expr} {}: {last:#?}", last.key);
    }
}

/// A key that finds a gdb entry's candidates quickly (numbers and strings).
fn fast_key_g(g: &G) -> Option<String> {
    match g {
        G::Num(_, t) => Some(t.clone()),
        G::Str(b) => Some(format!("s:{}", String::from_utf8_lossy(b))),
        _ => None,
    }
}

fn fast_key_v(v: &Value) -> Option<String> {
    match v {
        Value::Number(n) => Some(n.to_string()),
        Value::String(s) => Some(format!("s:{s}")),
        _ => None,
    }
}

/// gdb with Go's runtime-gdb.py (auto-loaded) and gomap.py on the core file: `print` of
/// every map variable lists exactly the program's entries.
fn check_gdb(bin: &Path, core: &Path, info: &Value, label: &str, version: &str) {
    let script = Path::new(env!("CARGO_MANIFEST_DIR")).join("gdb/gomap.py");
    let root = goroot(version);
    let names: Vec<String> = info["maps"]
        .as_array()
        .unwrap()
        .iter()
        .map(|m| m["expr"].as_str().unwrap().to_string())
        .collect();
    // The program's expressions in gdb's syntax: the variable quoted (its name holds dots
    // and slashes), then the rest (`[1]`, `.byID` through a pointer).
    let gdb_expr = |e: &str| -> String {
        match e.find('[') {
            Some(i) => format!("'{}'{}", &e[..i], &e[i..]),
            None if e == "main.svc.byID" => "'main.svc'.byID".to_string(),
            None => format!("'{e}'"),
        }
    };
    let mut cmd = Command::new("gdb");
    cmd.args(["-nx", "-batch"])
        .arg("-iex")
        .arg(format!("add-auto-load-safe-path {}", root.display()))
        .args(["-ex", "set print elements unlimited"])
        .args(["-ex", "set print repeats unlimited"])
        .args(["-ex", "set width unlimited"])
        .arg(bin)
        .arg(core)
        .arg("-ex")
        .arg(format!("source {}", script.display()));
    for n in &names {
        cmd.arg("-ex").arg(format!("print {}", gdb_expr(n)));
    }
    // The commands, each output after a marker line.
    let commands = [
        "gomap info 'main.wide'",
        "gomap buckets 'main.tombs' 0",
        "gomap hexdump 'main.small'",
        "gomap hexdump 'main.wide' 1 2",
    ];
    for (i, c) in commands.iter().enumerate() {
        cmd.arg("-ex")
            .arg(format!("echo @@command {i}\\n"))
            .arg("-ex")
            .arg(c);
    }
    let child = cmd
        .stdin(Stdio::null())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .expect("run gdb");
    let out = support::wait_with_limit(child, LIMIT, "gdb");
    assert!(
        out.stdout.contains("Loading Go Runtime support.")
            || out.stderr.contains("Loading Go Runtime support."),
        "{label}: Go's runtime-gdb.py was not loaded, so precedence was not tested:\n{}",
        out.stderr
    );
    let section = |i: usize| -> String {
        let start = format!("@@command {i}\n");
        let from = out
            .stdout
            .find(&start)
            .unwrap_or_else(|| panic!("{label}: no output of {}: {}", commands[i], out.stderr));
        let rest = &out.stdout[from + start.len()..];
        rest[..rest.find("@@command").unwrap_or(rest.len())].to_string()
    };
    // gomap info: the directory and one line per table, whose used add up to len(m).
    let wide = map_info(info, "main.wide");
    let text = section(0);
    assert!(
        text.contains(&format!("directory         {} entries", wide["dirLen"]))
            && text.contains(&format!("{} tables", wide["tables"])),
        "{label}: gomap info:\n{text}"
    );
    let used: Vec<u64> = text
        .lines()
        .filter(|l| l.trim_start().starts_with("table "))
        .map(|l| {
            let w = l.split("used ").nth(1).unwrap();
            w[..w.find(',').unwrap()].parse().unwrap()
        })
        .collect();
    assert_eq!(
        used.len() as u64,
        wide["tables"].as_u64().unwrap(),
        "{label}: {text}"
    );
    assert_eq!(
        used.iter().sum::<u64>(),
        wide["count"].as_u64().unwrap(),
        "{label}"
    );
    // gomap buckets of a table: its full and deleted slots are the entries and tombstones.
    let tombs = map_info(info, "main.tombs");
    let text = section(1);
    let state = |s: &str| {
        text.lines()
            .filter(|l| l.contains(&format!(" {s} ")))
            .count()
    };
    assert_eq!(
        state("full") as u64,
        tombs["count"].as_u64().unwrap(),
        "{label}: {text}"
    );
    assert_eq!(
        state("deleted") as u64,
        tombs["tombstones"].as_u64().unwrap(),
        "{label}: {text}"
    );
    // gomap hexdump: the header and the small map's group, labelled; one group of a table.
    let text = section(2);
    assert!(
        text.contains("Map (48 bytes at")
            && text.contains("  small 0x")
            && text.contains("ctrl, key 0"),
        "{label}: {text}"
    );
    let text = section(3);
    let heads: Vec<&str> = text.lines().filter(|l| l.starts_with("  t")).collect();
    assert!(
        heads.len() == 1 && heads[0].starts_with("  t1.g2 0x"),
        "{label}: {text}"
    );
    assert!(!text.contains("Map ("), "{label}: {text}");

    let prints: Vec<&str> = out.stdout.lines().filter(|l| l.starts_with('$')).collect();
    assert_eq!(
        prints.len(),
        names.len(),
        "{label}: gdb printed {}\n{}",
        out.stdout,
        out.stderr
    );
    for (n, line) in names.iter().zip(prints) {
        let what = format!("{label} gdb {n}");
        assert!(!line.contains("gomap: error"), "{what}: {line}");
        let m = map_info(info, n);
        let (summary, entries) = parse_print_line(line).unwrap_or_else(|e| panic!("{what}: {e}"));
        if m["nil"].as_bool().unwrap() {
            assert!(summary.ends_with(" nil"), "{what}: {summary}");
            continue;
        }
        // gomap.py's printer, not Go's: the summary line says len=.
        assert!(
            summary.contains(&format!("(len={}", m["count"])),
            "{what}: {summary}"
        );
        let want = entries_of(m);
        let got = entries.unwrap_or_default();
        assert_eq!(got.len(), want.len(), "{what}: {summary}");
        // Interface values print as gdb's eface/iface structs: compare their keys.
        let keys_only = m["type"].as_str().unwrap().contains("interface")
            || m["type"].as_str().unwrap().ends_with("]error");
        let mut index: HashMap<String, Vec<usize>> = HashMap::new();
        for (i, (k, _)) in want.iter().enumerate() {
            if let Some(f) = fast_key_v(k) {
                index.entry(f).or_default().push(i);
            }
        }
        let mut used = vec![false; want.len()];
        for (k, v) in &got {
            let cands: Vec<usize> = match fast_key_g(k).and_then(|f| index.get(&f)) {
                Some(c) => c.clone(),
                None => (0..want.len()).collect(),
            };
            let hit = cands
                .into_iter()
                .find(|&i| !used[i] && same(&want[i].0, k) && (keys_only || same(&want[i].1, v)));
            match hit {
                Some(i) => used[i] = true,
                None => {
                    panic!("{what}: gdb printed an entry the program does not have: {k:?} = {v:?}")
                }
            }
        }
    }
}

fn check_version(version: &'static str, exp: Option<&'static str>, bin: &Path) {
    let label = format!(
        "Go {version}{}",
        exp.map(|x| format!(" {x}")).unwrap_or_default()
    );
    let t = Target::start(Command::new(bin));
    let info = t.info.clone();
    let pid = t.pid().to_string();
    check_source(&["--pid", &pid], &info, &label, version, exp);
    let dir = tmp_dir("go-swiss-cores");
    let core = gcore(
        t.pid(),
        &dir,
        &format!("core-{version}{}", exp.unwrap_or_default()),
    );
    drop(t);
    let label_core = format!("{label} core");
    check_source(&["--core", &core.arg()], &info, &label_core, version, exp);
    check_gdb(bin, &core.0, &info, &label, version);
}

#[test]
#[cfg_attr(miri, ignore)]
fn every_swiss_version_live_core_and_gdb() {
    let specs: Vec<Spec> = SWISS.iter().map(|(v, x)| Spec::swiss(v, *x)).collect();
    let bins = build_all(&specs);
    // Two versions at a time (a core file of a Go process is over 1 GB for a moment).
    let versions: Vec<_> = SWISS.iter().zip(&bins).collect();
    in_groups(&versions, 2, |((v, x), bin)| check_version(v, *x, bin));
}

#[test]
#[cfg_attr(miri, ignore)]
fn swiss_errors_are_clear_and_never_exit_0() {
    let bin = support::goprog::build(&Spec::swiss("1.26", None));
    let t = Target::start(Command::new(&bin));
    let pid = t.pid().to_string();
    let p = pid.as_str();
    let go = "Go 1.26";
    let layout = "Swiss-table map";
    let maps: Value =
        serde_json::from_str(&ok(&["maps", "--pid", p, "--format", "json", "main.wide"])).unwrap();
    let var_addr = maps["maps"][0]["address"].as_str().unwrap().to_string();
    let map_addr = maps["maps"][0]["hmap"].as_str().unwrap().to_string();
    // The variable's address instead of the map's: the message names the map's address.
    fails(
        &run(
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
        ),
        1,
        &[
            "does not look like a Go Swiss-table map",
            &format!("the map is at {map_addr}"),
            go,
            layout,
        ],
        "the variable's address",
    );
    // The suggestion is right: by address, with --types, the map decodes to the program's
    // entries (the group layout computed from the types).
    let r: SwissReport = serde_json::from_str(&ok(&[
        "dump",
        "--pid",
        p,
        "--addr",
        &map_addr,
        "--types",
        "uint64:string",
        "--format",
        "json",
        "--no-hex",
    ]))
    .unwrap();
    assert_eq!(
        entry_set(&r.entries()),
        entry_set(&entries_of(map_info(&t.info, "main.wide")))
    );
    assert!(r
        .map
        .group
        .source
        .contains("computed from the key and elem types"));
    fails(
        &run(
            &[
                "dump",
                "--pid",
                p,
                "--addr",
                &map_addr,
                "--key-size",
                "8",
                "--elem-size",
                "16",
            ],
            LIMIT,
        ),
        1,
        &[
            "--key-size/--elem-size cannot place a Swiss group's slots",
            "--types",
            go,
        ],
        "--key-size on a Swiss map",
    );
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
        &["all zero", go, layout],
        "zeroed memory",
    );
    fails(
        &run(&["dump", "--pid", p, "main.wide", "--bucket", "3"], LIMIT),
        1,
        &["select a classic map's buckets", "--table N", go],
        "--bucket on a Swiss map",
    );
    fails(
        &run(&["dump", "--pid", p, "main.wide", "--table", "99"], LIMIT),
        1,
        &["--table 99: the map has tables 0.."],
        "a table that does not exist",
    );
    fails(
        &run(&["dump", "--pid", p, "main.wide", "--group", "0"], LIMIT),
        1,
        &["--group 0 needs --table N"],
        "--group without --table",
    );
    fails(
        &run(&["dump", "--pid", p, "main.small", "--table", "0"], LIMIT),
        1,
        &["a small map has no tables", "--group 0"],
        "--table on a small map",
    );
    fails(
        &run(
            &["dump", "--pid", p, "main.wide", "--types", "int64:string"],
            LIMIT,
        ),
        1,
        &["--types says the key is int64", "DWARF", go],
        "--types that contradict DWARF",
    );
    drop(t);
    // A map layout this build does not read exits with status 2: Go 1.23's experimental
    // Swiss tables, named with --go-version for a process that is not a Go program.
    let s = Sleeper::start();
    let pid = s.0.id().to_string();
    fails(
        &run(
            &[
                "dump",
                "--go",
                "--pid",
                &pid,
                "--go-version",
                "1.23.9",
                "--goexperiment",
                "swissmap",
                "--addr",
                "0x1000",
                "--types",
                "uint64:uint64",
            ],
            LIMIT,
        ),
        2,
        &["Go 1.23's experimental Swiss-table map", "Go 1.24–1.27"],
        "Go 1.23 swissmap",
    );
}

/// Saves a Swiss map of a live process as a snapshot file.
fn save(pid: &str, var: &str, path: &Path) -> SwissReport {
    let p = path.to_string_lossy().to_string();
    serde_json::from_str(&ok(&[
        "dump",
        "--pid",
        pid,
        var,
        "--save-snapshot",
        &p,
        "--format",
        "json",
        "--no-hex",
    ]))
    .unwrap()
}

fn dump_file(path: &Path, extra: &[&str]) -> Out {
    let p = path.to_string_lossy().to_string();
    let mut a = vec!["dump", p.as_str()];
    a.extend_from_slice(extra);
    run(&a, Duration::from_secs(20))
}

/// The three kinds of Swiss map as snapshot files (taken from a Go 1.25 process): a small
/// map, a table with tombstones, and a map with more directory entries than tables. With
/// each, the entries the live dump decoded.
fn base_snapshots(dir: &str) -> Vec<(std::path::PathBuf, Vec<(String, String)>)> {
    let bin = support::goprog::build(&Spec::swiss("1.25", None));
    let t = Target::start(Command::new(&bin));
    let pid = t.pid().to_string();
    // Per test process: two runs of the suite at once must not share snapshot files.
    let dir = tmp_dir(&format!("{dir}-{}", std::process::id()));
    let mut out = Vec::new();
    for var in ["main.small", "main.tombs", "main.wide"] {
        let path = dir.join(format!("{}.snap", var.trim_start_matches("main.")));
        let live = save(&pid, var, &path);
        assert_eq!(
            entry_set(&live.entries()),
            entry_set(&entries_of(map_info(&t.info, var)))
        );
        out.push((path, entry_set(&live.entries())));
    }
    out
}

#[test]
#[cfg_attr(miri, ignore)]
fn swiss_snapshots_read_back_and_corruptions_name_the_field() {
    use gomap::snapshot::{RegionKind, SwissSnapshot};
    let bases = base_snapshots("swiss-snapshots");
    // Read back: the same entries, the layout recorded, the text dump too.
    for (path, want) in &bases {
        let out = dump_file(path, &["--format", "json"]);
        assert!(out.status.success(), "{}: {}", path.display(), out.stderr);
        let r: SwissReport = serde_json::from_str(&out.stdout).unwrap();
        assert_eq!(&entry_set(&r.entries()), want, "{}", path.display());
        assert_eq!(r.source.kind, "snapshot");
        assert!(
            r.layout.found_in.starts_with("snapshot "),
            "{}",
            r.layout.found_in
        );
        assert!(r.header.tombstonePossible.is_some());
        if let Err(e) = support::schema::validate(&schema(), &serde_json::to_value(&r).unwrap()) {
            panic!("{}: {e}", path.display());
        }
        let text = dump_file(path, &["--color", "never"]);
        assert!(text.status.success(), "{}", text.stderr);
        assert!(text.stdout.starts_with("Go 1.25"), "{}", text.stdout);
    }
    let wide = SwissSnapshot::from_bytes(&std::fs::read(&bases[2].0).unwrap()).unwrap();
    let dir = bases[2].0.parent().unwrap().to_path_buf();
    let region = |s: &mut SwissSnapshot, k: RegionKind, n: usize| -> usize {
        s.regions
            .iter()
            .enumerate()
            .filter(|(_, r)| r.kind == k)
            .nth(n)
            .map(|(i, _)| i)
            .unwrap_or_else(|| panic!("no {k:?} region {n}"))
    };
    type Mutation = Box<dyn Fn(&mut SwissSnapshot)>;
    let cases: Vec<(&str, Mutation, Vec<&str>)> = vec![
        (
            "corrupt header",
            Box::new(move |s| {
                let i = region(s, RegionKind::SwissMap, 0);
                s.regions[i].bytes[34] = 7; // writing
            }),
            vec!["writing = 0x07", "Go toggles it between 0 and 1"],
        ),
        (
            "directory outside memory",
            Box::new(move |s| {
                let i = region(s, RegionKind::SwissMap, 0);
                s.regions[i].bytes[16..24].copy_from_slice(&0xdead_0000u64.to_le_bytes());
            }),
            vec![
                "dirPtr = 0xdead0000 points outside the memory read",
                "directory",
            ],
        ),
        (
            "inconsistent directory (a table's entries not contiguous)",
            Box::new(move |s| {
                let i = region(s, RegionKind::Directory, 0);
                let d = &mut s.regions[i].bytes;
                let (a, b) = (d[0..8].to_vec(), d[16..24].to_vec());
                d[0..8].copy_from_slice(&b);
                d[16..24].copy_from_slice(&a);
            }),
            vec!["directory", "inconsistent"],
        ),
        (
            "inconsistent directory (localDepth beyond globalDepth)",
            Box::new(move |s| {
                let i = region(s, RegionKind::Table, 0);
                s.regions[i].bytes[6] = 9;
            }),
            vec!["localDepth = 9 is beyond the map's globalDepth"],
        ),
        (
            "absurd lengthMask",
            Box::new(move |s| {
                let i = region(s, RegionKind::Table, 1);
                s.regions[i].bytes[24..32].copy_from_slice(&0xffff_ffffu64.to_le_bytes());
            }),
            vec!["table 1", "groups.lengthMask = 0xffffffff is absurd"],
        ),
        (
            "invalid ctrl byte",
            Box::new(move |s| {
                let i = region(s, RegionKind::Groups, 0);
                s.regions[i].bytes[3] = 0x9c;
            }),
            vec!["table 0 group 0 slot 3: ctrl byte 0x9c is no valid state"],
        ),
    ];
    for (what, mutate, wants) in cases {
        let mut s = wide.clone();
        mutate(&mut s);
        let path = dir.join("corrupt.snap");
        std::fs::write(&path, s.to_bytes()).unwrap();
        let out = dump_file(&path, &[]);
        fails(&out, 1, &wants, what);
        assert!(
            out.stderr.contains("Go 1.25") && out.stderr.contains("Swiss-table map"),
            "{what}: the error names the version and layout assumed: {}",
            out.stderr
        );
    }
    let _ = std::fs::remove_dir_all(&dir);
}

/// A deterministic pseudo-random sequence (xorshift64*).
struct Rng(u64);

impl Rng {
    fn next(&mut self) -> u64 {
        self.0 ^= self.0 >> 12;
        self.0 ^= self.0 << 25;
        self.0 ^= self.0 >> 27;
        self.0.wrapping_mul(0x2545_f491_4f6c_dd1d)
    }
    fn below(&mut self, n: usize) -> usize {
        (self.next() % n.max(1) as u64) as usize
    }
}

/// Mutants of real Swiss snapshots, 200 of each of the three kinds of map: bytes of the
/// header, the directory, the tables and the control words set to random or chosen values,
/// regions dropped, cut short or moved, and the layout the file records changed. The bytes of
/// full slots are not mutated: they are the entries' own data (a changed key is a different
/// key, and only its hash, which needs the process's hash key, could tell). For every mutant:
/// no panic, no signal, an end within the time limit, and an exit status of 0 only with
/// entries that are all entries of the map.
#[test]
#[cfg_attr(miri, ignore)]
fn swiss_snapshot_mutants() {
    use gomap::snapshot::{RegionKind, SwissSnapshot};
    let bases = base_snapshots("swiss-mutants");
    let dir = bases[0].0.parent().unwrap().to_path_buf();
    let mut rng = Rng(0x005e_ed0f_5715_5001);
    let mut outcomes = [0usize; 3];
    let mut total = 0;
    for (path, want) in &bases {
        let base = SwissSnapshot::from_bytes(&std::fs::read(path).unwrap()).unwrap();
        let structural: Vec<usize> = base
            .regions
            .iter()
            .enumerate()
            .filter(|(_, r)| {
                matches!(
                    r.kind,
                    RegionKind::SwissMap
                        | RegionKind::Directory
                        | RegionKind::Table
                        | RegionKind::Groups
                )
            })
            .map(|(i, _)| i)
            .collect();
        let gs = base.layout.group_size as usize;
        for n in 0..200 {
            let mut s = base.clone();
            let how = rng.below(9);
            let desc = match how {
                // A random byte of a structure (for groups: of a control word).
                0..=2 => {
                    let i = structural[rng.below(structural.len())];
                    let r = &mut s.regions[i];
                    let off = if r.kind == RegionKind::Groups {
                        let g = rng.below(r.bytes.len() / gs);
                        g * gs + rng.below(8)
                    } else {
                        rng.below(r.bytes.len())
                    };
                    let v = match rng.below(4) {
                        0 => 0x80,
                        1 => 0xfe,
                        2 => rng.below(0x80) as u8,
                        _ => rng.next() as u8,
                    };
                    r.bytes[off] = v;
                    format!("{:?} byte {off} = {v:#04x}", r.kind)
                }
                // A random 8-byte word of the header, the directory or a table.
                3 => {
                    let i = structural[rng.below(structural.len())];
                    let r = &mut s.regions[i];
                    if r.kind == RegionKind::Groups || r.bytes.len() < 8 {
                        r.bytes[0] ^= 0x7f;
                        format!("{:?} ctrl 0 ^= 0x7f", r.kind)
                    } else {
                        let off = rng.below(r.bytes.len() / 8) * 8;
                        let v = match rng.below(3) {
                            0 => 0u64,
                            1 => rng.next(),
                            _ => u64::from_le_bytes(r.bytes[off..off + 8].try_into().unwrap())
                                .wrapping_add(8 * (1 + rng.below(4) as u64)),
                        };
                        r.bytes[off..off + 8].copy_from_slice(&v.to_le_bytes());
                        format!("{:?} word {off} = {v:#x}", r.kind)
                    }
                }
                // A region dropped.
                4 => {
                    let i = rng.below(s.regions.len());
                    let k = s.regions.remove(i).kind;
                    format!("region {i} ({k:?}) dropped")
                }
                // A region cut short.
                5 => {
                    let i = rng.below(s.regions.len());
                    let r = &mut s.regions[i];
                    let keep = rng.below(r.bytes.len());
                    r.bytes.truncate(keep);
                    format!("region {i} ({:?}) cut to {keep} bytes", r.kind)
                }
                // A structure moved.
                6 => {
                    let i = structural[rng.below(structural.len())];
                    let r = &mut s.regions[i];
                    let d = [8u64, 16, gs as u64, 4096][rng.below(4)];
                    if rng.below(2) == 0 {
                        r.addr = r.addr.wrapping_add(d);
                    } else {
                        r.addr = r.addr.wrapping_sub(d);
                    }
                    format!("region {i} ({:?}) moved by {d}", r.kind)
                }
                // The layout the file records.
                7 => {
                    let l = &mut s.layout;
                    match rng.below(5) {
                        0 => l.key_stride = l.key_stride.wrapping_add(8),
                        1 => l.elems_off = l.elems_off.wrapping_sub(8),
                        2 => l.group_size = l.group_size.wrapping_add(8),
                        3 => l.tombstone_possible = !l.tombstone_possible,
                        _ => l.split = !l.split,
                    }
                    "layout changed".to_string()
                }
                // The map's address.
                _ => {
                    s.map = s.map.wrapping_add([8u64, 16, 48][rng.below(3)]);
                    "map address moved".to_string()
                }
            };
            let file = dir.join(format!("m{total}.snap"));
            std::fs::write(&file, s.to_bytes()).unwrap();
            let out = dump_file(&file, &["--format", "json", "--no-hex"]);
            let what = format!("{} mutant {n}: {desc}", path.display());
            let code = out
                .status
                .code()
                .unwrap_or_else(|| panic!("{what}: killed by a signal ({})", out.status));
            assert!(
                !out.stderr.contains("panicked") && (0..=2).contains(&code),
                "{what}: status {code}: {}",
                out.stderr
            );
            if code == 0 {
                let r: SwissReport = serde_json::from_str(&out.stdout)
                    .unwrap_or_else(|e| panic!("{what}: exit 0 without a report ({e})"));
                for e in entry_set(&r.entries()) {
                    assert!(
                        want.contains(&e),
                        "{what}: exit 0 with an entry that is not in the map: {e:?}"
                    );
                }
                assert_eq!(r.entries().len() as u64, r.header.used, "{what}");
            } else {
                let line = out.stderr.trim();
                assert!(
                    line.starts_with("map-inspect: error: ") && line.lines().count() == 1,
                    "{what}: {line}"
                );
            }
            outcomes[code as usize] += 1;
            total += 1;
            let _ = std::fs::remove_file(&file);
        }
    }
    let _ = std::fs::remove_dir_all(&dir);
    assert!(total >= 500, "{total} mutants");
    // The corpus reaches both ends: mutants that still read cleanly, and errors.
    assert!(outcomes[0] > 0 && outcomes[1] > 0, "{outcomes:?}");
    eprintln!(
        "{total} mutants: {} clean reads, {} errors",
        outcomes[0], outcomes[1]
    );
}

/// Runs `tests/go-swiss-gdb` under gdb to its `main.stop`, with Go's runtime-gdb.py
/// auto-loaded and gomap.py sourced before the program (`first`) or after it stopped, and
/// returns what gdb printed.
fn gdb_at_stop(bin: &Path, goroot: &Path, first: bool, commands: &[&str]) -> String {
    let script = Path::new(env!("CARGO_MANIFEST_DIR")).join("gdb/gomap.py");
    let source = format!("source {}", script.display());
    let mut cmd = Command::new("gdb");
    cmd.args(["-nx", "-batch"]);
    if first {
        cmd.arg("-iex").arg(&source);
    }
    cmd.arg("-iex")
        .arg(format!("add-auto-load-safe-path {}", goroot.display()))
        .args(["-iex", "handle SIGURG nostop noprint pass"])
        .args(["-ex", "set print elements unlimited"])
        .args(["-ex", "break main.stop", "-ex", "run"]);
    if !first {
        cmd.arg("-ex").arg(&source);
    }
    for c in commands {
        cmd.arg("-ex").arg(c);
    }
    cmd.args(["-ex", "kill"]).arg(bin);
    let child = cmd
        .stdin(Stdio::null())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .expect("run gdb");
    let out = support::wait_with_limit(child, LIMIT, "gdb");
    assert!(
        out.stdout.contains("Loading Go Runtime support.")
            || out.stderr.contains("Loading Go Runtime support."),
        "Go's runtime-gdb.py was not loaded:\n{}\n{}",
        out.stdout,
        out.stderr
    );
    format!("{}\n{}", out.stdout, out.stderr)
}

/// The overlay of a Go runtime whose Swiss map header has a field gomap.py has never seen:
/// the toolchain's own `internal/runtime/maps/{map,table}.go` with `clearSeq` renamed
/// `clearGen` (made here from the toolchain's files, for `go build -overlay`).
fn unknown_layout_overlay(goroot: &Path) -> (std::path::PathBuf, Vec<std::path::PathBuf>) {
    let dir = tmp_dir("go-swiss-gdb-overlay");
    let mut replace = serde_json::Map::new();
    let mut files = Vec::new();
    for f in ["map.go", "table.go"] {
        let orig = goroot.join("src/internal/runtime/maps").join(f);
        let text = std::fs::read_to_string(&orig).expect("the toolchain's runtime source");
        assert!(
            text.contains("clearSeq"),
            "{} has no clearSeq",
            orig.display()
        );
        let new = dir.join(f);
        std::fs::write(&new, text.replace("clearSeq", "clearGen")).unwrap();
        replace.insert(
            orig.display().to_string(),
            Value::String(new.display().to_string()),
        );
        files.push(new);
    }
    let overlay = dir.join("overlay.json");
    std::fs::write(
        &overlay,
        serde_json::json!({ "Replace": replace }).to_string(),
    )
    .unwrap();
    (overlay, files)
}

#[test]
#[cfg_attr(miri, ignore)]
fn gdb_printers_in_either_order_and_unknown_layouts_fall_through() {
    let src = Path::new(env!("CARGO_MANIFEST_DIR")).join("../tests/go-swiss-gdb");
    let root = goroot("1.26");
    let known = support::goprog::build_from(&Spec::swiss("1.26", None), &src, None);
    let (overlay, files) = unknown_layout_overlay(&root);
    let unknown_spec = Spec {
        tag: "go1.26-unknown-layout".into(),
        ..Spec::swiss("1.26", None)
    };
    let unknown = support::goprog::build_from(&unknown_spec, &src, Some((&overlay, &files)));
    let want_small: Vec<(Value, Value)> = [("a", 1), ("bb", 2), ("ccc", 3)]
        .iter()
        .map(|(k, v)| (Value::from(*k), Value::from(*v)))
        .collect();
    let want_table: Vec<(Value, Value)> = (0..20)
        .map(|i| (Value::from(i * 7), Value::from(format!("v{i}"))))
        .collect();
    let prints = ["print 'main.small'", "print 'main.table'"];
    for first in [true, false] {
        let order = if first {
            "gomap.py sourced first"
        } else {
            "gomap.py sourced after runtime-gdb.py"
        };
        for (bin, gomap_knows) in [(&known, true), (&unknown, false)] {
            let mut cmds = prints.to_vec();
            cmds.push("gomap info 'main.small'");
            let out = gdb_at_stop(bin, &root, first, &cmds);
            let lines: Vec<&str> = out.lines().filter(|l| l.starts_with('$')).collect();
            assert_eq!(lines.len(), 2, "{order}: {out}");
            for (line, want) in lines.iter().zip([&want_small, &want_table]) {
                let what = format!("{order}, {}: {line}", bin.display());
                assert!(!line.contains("gomap: error"), "{what}");
                let (summary, entries) = parse_print_line(line).unwrap();
                if gomap_knows {
                    assert!(summary.contains("(len="), "{what}: gomap.py's printer");
                } else {
                    // Go's printer: the type's name, then the entries.
                    assert!(
                        summary.starts_with("map[") && !summary.contains("(len="),
                        "{what}"
                    );
                }
                let got = entries.unwrap_or_default();
                assert_eq!(got.len(), want.len(), "{what}");
                for (k, v) in &got {
                    assert!(
                        want.iter().any(|(wk, wv)| same(wk, k) && same(wv, v)),
                        "{what}: {k:?} = {v:?}"
                    );
                }
            }
            if gomap_knows {
                assert!(out.contains("Swiss map header @"), "{order}: {out}");
            } else {
                assert!(
                    out.contains("gomap: error:")
                        && out.contains("clearGen")
                        && out.contains("Go's printer"),
                    "{order}: gomap info should say it does not know the layout: {out}"
                );
            }
        }
    }
}
