//! `--format html` in a real headless Chromium (Debian's `chromium`, driven over the
//! DevTools protocol through a pipe: `support::browser`). For the demo (mid-grow), Swiss maps
//! of a real Go 1.27 program, a replay of `examples/grow.script`, keys that hold markup, and
//! maps of 2^10 and 2^12 buckets: after the page's script ran, the DOM holds exactly `count`
//! live cells with the report's keys and elems; the old array's links, `nevacuate`, the
//! preallocated region and the sentinel are where the report says; a click shows a bucket's
//! or group's labelled hex, byte for byte the report's; the stepper moves through every dump;
//! the page makes no network request and logs no error. Each test saves screenshots in
//! `target/tmp/html-screens/`.

#[allow(dead_code)]
mod support;

use std::collections::HashMap;
use std::path::{Path, PathBuf};
use std::process::Command;

use map_inspect::report::{Filter, Report};
use map_inspect::swiss::report::SwissReport;
use map_inspect::{replay, script};
use serde_json::Value;

use support::browser::Browser;
use support::goprog::{entry_set, Spec};
use support::{run_ok, tmp_dir, Target};

fn dir(name: &str) -> PathBuf {
    let d = tmp_dir(&format!("html-{name}-{}", std::process::id()));
    let _ = std::fs::remove_dir_all(&d);
    std::fs::create_dir_all(&d).unwrap();
    d
}

fn screens() -> PathBuf {
    tmp_dir("html-screens")
}

fn s(p: &Path) -> String {
    p.to_string_lossy().into_owned()
}

/// What a page must never do: request anything, log an error.
fn assert_quiet(b: &mut Browser, what: &str) {
    let req = b.requests();
    assert!(req.is_empty(), "{what}: the page made requests: {req:?}");
    let res = b.eval("performance.getEntriesByType('resource').map(e => e.name)");
    assert_eq!(res, serde_json::json!([]), "{what}: resources loaded");
    let errors = b.errors();
    assert!(errors.is_empty(), "{what}: errors: {errors:#?}");
}

/// A page file is self-contained: no external resource, no URL but the links inside it.
fn assert_self_contained(html: &str, what: &str) {
    for bad in ["<link", "src=", "http://", "https://", "@import", "url("] {
        assert!(!html.contains(bad), "{what}: the page holds {bad:?}");
    }
    assert!(
        html.contains("Content-Security-Policy") && html.contains("default-src 'none'"),
        "{what}: no CSP"
    );
}

/// The titles of the cells of class `class` (`L`: live, `F`: full), sorted.
fn cell_titles(b: &mut Browser, class: &str) -> Vec<String> {
    let v = b.eval(&format!(
        "[...document.querySelectorAll('#grid .c.{class}')].map(c => c.title)"
    ));
    let mut t: Vec<String> = serde_json::from_value(v).unwrap();
    t.sort();
    t
}

/// A report's entries as the page titles them: `key → elem`, sorted.
fn want_titles(slots: impl Iterator<Item = (Option<String>, Option<String>)>) -> Vec<String> {
    let mut t: Vec<String> = slots
        .map(|(k, e)| format!("{} → {}", k.unwrap(), e.unwrap()))
        .collect();
    t.sort();
    t
}

fn classic_titles(r: &Report) -> Vec<String> {
    want_titles(
        r.buckets
            .iter()
            .filter(|b| b.current)
            .flat_map(|b| &b.slots)
            .filter(|s| s.state == "live")
            .map(|s| (s.key_text.clone(), s.elem_text.clone())),
    )
}

/// The bytes of the labelled hex the detail panel shows, and its first address.
fn shown_hex(b: &mut Browser) -> (u64, Vec<u8>, String) {
    let text = b.wait_for(
        "(() => { const d = document.querySelector('#detail:not([hidden]) pre.hex'); \
         return d ? d.innerText : ''; })()",
    );
    let text = text.as_str().unwrap().to_string();
    let mut first = None;
    let mut bytes = Vec::new();
    for line in text.lines() {
        let mut w = line.split_whitespace();
        let addr = u64::from_str_radix(w.next().unwrap(), 16).unwrap();
        first.get_or_insert(addr);
        for t in w {
            if t.starts_with('|') {
                break;
            }
            bytes.push(u8::from_str_radix(t, 16).unwrap());
        }
    }
    (first.unwrap(), bytes, text)
}

#[test]
#[cfg_attr(miri, ignore)]
fn demo_page_draws_every_entry_and_the_grow() {
    let d = dir("demo");
    let (page, snap) = (d.join("demo.html"), d.join("demo.snap"));
    run_ok(&[
        "dump",
        "--format",
        "html",
        "-o",
        &s(&page),
        "--save-snapshot",
        &s(&snap),
    ]);
    // The report of the same memory (the snapshot keeps its addresses).
    let r: Report =
        serde_json::from_str(&run_ok(&["dump", &s(&snap), "--format", "json"])).unwrap();
    assert!(
        r.summary.growing && r.summary.evacuated > 0 && r.summary.evacuated < r.summary.noldbuckets
    );
    let html = std::fs::read_to_string(&page).unwrap();
    assert_self_contained(&html, "demo");
    assert!(
        html.contains(&format!("map[uint64]uint64 at {}", r.map.hmap)),
        "the page is the demo's"
    );

    let mut b = Browser::launch("demo", 1400, 1000);
    b.open(&page);
    // Exactly `count` live cells, with the report's keys and elems.
    let titles = cell_titles(&mut b, "L");
    assert_eq!(titles.len() as u64, r.header.count);
    assert_eq!(titles, classic_titles(&r));
    // Every slot of every bucket once, in the state the report says.
    let states: HashMap<String, String> = serde_json::from_value(b.eval(
        "Object.fromEntries([...document.querySelectorAll('#grid .b')].map(b => \
         [b.closest('.row').querySelector('.id').textContent + '/' + \
          [...b.closest('.row').querySelectorAll('.b')].indexOf(b), \
          [...b.querySelectorAll('.c')].map(c => c.classList[1]).join('')]))",
    ))
    .unwrap();
    assert_eq!(states.len(), r.buckets.len(), "one element per bucket");
    let code = |st: &str, current: bool| match st {
        "live" if current => 'L',
        "live" => 'S',
        "EMPTY_ONE" => 'O',
        "EMPTY_REST" => 'R',
        "EVACUATED_X" => 'X',
        "EVACUATED_Y" => 'Y',
        "EVACUATED_EMPTY" => 'E',
        other => panic!("{other}"),
    };
    for bk in &r.buckets {
        let head = match &bk.chain {
            Some(h) if bk.position.is_some_and(|p| p > 0) => h.clone(),
            _ => bk.id.clone(),
        };
        let pos = bk.position.unwrap_or(0);
        let key = format!("{head}/{pos}");
        let want: String = bk
            .slots
            .iter()
            .map(|x| code(&x.state, bk.current))
            .collect();
        assert_eq!(states.get(&key), Some(&want), "{key}");
    }
    // The old array beside the new one: each old head names its X and Y targets, and a link
    // goes to each (solid once evacuated, dashed before).
    let olds: Vec<(String, String, String, String)> = serde_json::from_value(b.eval(
        "[...document.querySelectorAll('.arr.old .row.o')].map(r => \
         [r.querySelector('.id').textContent, r.dataset.x, r.dataset.y, r.dataset.v])",
    ))
    .unwrap();
    let heads: Vec<_> = r
        .buckets
        .iter()
        .filter(|x| x.array == "oldbuckets" && x.kind == "head")
        .collect();
    assert_eq!(olds.len(), heads.len());
    for ((id, x, y, v), h) in olds.iter().zip(&heads) {
        let e = h.evacuation.as_ref().unwrap();
        assert_eq!(id, &h.id);
        assert_eq!(x, &e.x);
        assert_eq!(Some(y), e.y.as_ref());
        assert_eq!(v == "1", e.evacuated, "{id}");
    }
    let links: Vec<String> = serde_json::from_value(b.eval(
        "[...document.querySelectorAll('svg.links path')].map(p => p.getAttribute('class'))",
    ))
    .unwrap();
    let solid = links.iter().filter(|c| !c.contains("pend")).count();
    assert_eq!(
        links.len(),
        2 * heads.len(),
        "an X and a Y link per old bucket"
    );
    assert_eq!(solid, 2 * r.summary.evacuated, "solid links: the evacuated");
    // nevacuate: the mark sits right before old[nevacuate].
    let next = b.eval("document.querySelector('.arr.old .nev').nextElementSibling.querySelector('.id').textContent");
    assert_eq!(next, Value::from(format!("old[{}]", r.header.nevacuate)));
    // Chains beside their head.
    for c in r.chains.iter().filter(|c| c.head.starts_with("main")) {
        let ids = b.eval(&format!(
            "[...document.getElementById('r-' + {}.replace(/[^A-Za-z0-9]/g, '-')).querySelectorAll('.cid')].map(e => e.textContent)",
            serde_json::to_string(&c.head).unwrap()
        ));
        assert_eq!(ids, serde_json::json!(c.buckets[1..]));
    }
    // The preallocated region: the bucket in use, the free one with the sentinel.
    let pre = b.eval("document.querySelector('.arr.new').innerText");
    let pre = pre.as_str().unwrap();
    assert!(pre.contains("preallocated overflow buckets"), "{pre}");
    assert!(pre.contains("the sentinel: overflow → main[0]"), "{pre}");
    assert!(pre.contains("← extra.nextOverflow"), "{pre}");
    let used = r
        .buckets
        .iter()
        .find(|x| x.kind == "preallocated" && x.position.is_some_and(|p| p > 0))
        .expect("the demo chains a preallocated bucket");
    assert!(pre.contains(&format!(
        "{} in the chain of {}",
        used.id,
        used.chain.as_ref().unwrap()
    )));
    b.screenshot(&screens().join("demo.png"));

    // A click on an old bucket's chain head: its slots and labelled hex, byte for byte; its
    // X and Y targets marked.
    let h = heads
        .iter()
        .find(|h| h.evacuation.as_ref().is_some_and(|e| e.evacuated))
        .unwrap();
    let sel = format!(
        "#r-{} .b",
        h.id.replace(|c: char| !c.is_ascii_alphanumeric(), "-")
    );
    b.click_on(&sel, None);
    let (addr, bytes, text) = shown_hex(&mut b);
    assert_eq!(addr, h.addr.0);
    assert_eq!(bytes, h.bytes.as_ref().unwrap().0, "{text}");
    assert!(
        text.contains("tophash, key 0") && text.contains("overflow"),
        "{text}"
    );
    let targets = b.eval("[...document.querySelectorAll('.b.tgt')].map(b => b.closest('.row').querySelector('.id').textContent)");
    let e = h.evacuation.as_ref().unwrap();
    assert_eq!(targets, serde_json::json!([e.x, e.y.clone().unwrap()]));
    b.screenshot(&screens().join("demo-click.png"));
    b.key("Escape");
    assert_eq!(
        b.eval("document.getElementById('detail').hidden"),
        Value::Bool(true)
    );
    assert_quiet(&mut b, "demo");

    // The options that select buckets select what the page draws; a map with no bucket
    // array yet draws without error.
    let old_buckets = r
        .buckets
        .iter()
        .filter(|x| {
            x.array == "oldbuckets" || x.chain.as_deref().is_some_and(|c| c.starts_with("old"))
        })
        .count();
    for (args, cells) in [
        (vec!["--at-op", "0"], 0),
        (vec!["--old"], 8 * old_buckets),
        (vec!["--max-buckets", "3"], 24),
        (vec!["--no-hex"], 8 * r.buckets.len()),
    ] {
        let p = s(&d.join("variant.html"));
        let mut a = vec!["dump", "--format", "html", "-o", p.as_str()];
        a.extend(&args);
        run_ok(&a);
        b.open(Path::new(&p));
        let n = b.eval("document.querySelectorAll('#grid .c').length");
        assert_eq!(n, Value::from(cells), "{args:?}");
        if args == ["--at-op", "0"] {
            let t = b.eval("document.getElementById('grid').innerText");
            assert!(t.as_str().unwrap().contains("no bucket array yet"), "{t}");
        }
        if args == ["--no-hex"] {
            b.click_on("#grid .b", None);
            let t = b.wait_for("document.querySelector('#detail:not([hidden])')?.innerText");
            assert!(t
                .as_str()
                .unwrap()
                .contains("the bytes were left out (--no-hex)"));
        }
        assert_quiet(&mut b, &format!("{args:?}"));
    }
}

/// The Go program's maps, live: the page of each Swiss map holds exactly its used entries
/// (the ones the program printed), its tombstones, its directory and tables.
#[test]
#[cfg_attr(miri, ignore)]
fn swiss_pages_of_a_go_1_27_program() {
    let bin = support::goprog::build(&Spec::swiss("1.27", None));
    let t = Target::start(Command::new(&bin));
    let pid = t.pid().to_string();
    let d = dir("swiss");
    let mut b = Browser::launch("swiss", 1400, 1000);
    for var in ["main.wide", "main.tombs", "main.small"] {
        let page = d.join(format!("{var}.html"));
        run_ok(&[
            "dump",
            "--pid",
            &pid,
            var,
            "--format",
            "html",
            "-o",
            &s(&page),
        ]);
        let r: SwissReport =
            serde_json::from_str(&run_ok(&["dump", "--pid", &pid, var, "--format", "json"]))
                .unwrap();
        let printed = t.info["maps"]
            .as_array()
            .unwrap()
            .iter()
            .find(|m| m["expr"] == var)
            .unwrap()["entries"]
            .as_array()
            .unwrap()
            .iter()
            .map(|e| (e[0].clone(), e[1].clone()))
            .collect::<Vec<_>>();
        assert_eq!(entry_set(&r.entries()), entry_set(&printed), "{var}");
        assert_self_contained(&std::fs::read_to_string(&page).unwrap(), var);
        b.open(&page);
        let titles = cell_titles(&mut b, "F");
        assert_eq!(titles.len() as u64, r.header.used, "{var}");
        assert_eq!(
            titles,
            want_titles(
                r.groups
                    .iter()
                    .flat_map(|g| &g.slots)
                    .filter(|s| s.state == "full")
                    .map(|s| (s.key_text.clone(), s.elem_text.clone()))
            ),
            "{var}"
        );
        let deleted = b.eval("document.querySelectorAll('#grid .c.D').length");
        assert_eq!(
            deleted,
            Value::from(r.summary.tombstones),
            "{var}: tombstones"
        );
        let groups = b.eval("document.querySelectorAll('#grid .b').length");
        assert_eq!(groups, Value::from(r.groups.len()), "{var}: groups");
        let runs = b.eval("document.querySelectorAll('.dir .run').length");
        assert_eq!(
            runs,
            Value::from(r.directory.as_ref().map_or(0, |d| d.runs.len())),
            "{var}: directory runs"
        );
        let tables = b.eval("document.querySelectorAll('#grid .tbl').length");
        assert_eq!(
            tables,
            Value::from(if r.header.small { 1 } else { r.tables.len() }),
            "{var}"
        );
        if var == "main.wide" {
            assert!(r.tables.len() > 1 && r.directory.as_ref().unwrap().len > r.tables.len());
            b.screenshot(&screens().join("swiss.png"));
        }
        // A click on the last group: its labelled hex.
        let g = r.groups.last().unwrap();
        let n = r.groups.len();
        b.eval(&format!(
            "document.querySelectorAll('#grid .b')[{}].id = 'last-group'",
            n - 1
        ));
        b.click_on("#last-group", None);
        let (addr, bytes, text) = shown_hex(&mut b);
        let shown = b.eval("document.querySelector('#detail h3').textContent");
        assert!(shown.as_str().unwrap().starts_with(&g.id), "{var}: {shown}");
        assert_eq!(addr, g.addr.0, "{var}");
        assert_eq!(bytes, g.bytes.as_ref().unwrap().0, "{var}: {text}");
        assert!(text.contains("ctrl"), "{text}");
        if var == "main.tombs" {
            b.screenshot(&screens().join("swiss-tombs-click.png"));
        }
        assert_quiet(&mut b, var);

        // The text's first screen: a glyph per slot of every group.
        let text = run_ok(&["dump", "--pid", &pid, var, "--color", "never", "--no-hex"]);
        let overview: Vec<&str> = text
            .lines()
            .skip_while(|l| !l.starts_with("groups  "))
            .skip(1)
            .take_while(|l| l.starts_with("  "))
            .collect();
        let count = |c: char| overview.iter().map(|l| l.matches(c).count()).sum::<usize>();
        assert_eq!(
            count('■') as u64,
            r.header.used,
            "{var}:\n{}",
            overview.join("\n")
        );
        assert_eq!(count('×'), r.summary.tombstones, "{var}");
        assert_eq!(
            count('■') + count('×') + count('□'),
            8 * r.groups.len(),
            "{var}"
        );
    }
}

/// Runs the grow script with a fixed hashkey and hash0 through the library, for each dump's
/// report (the page's run has other addresses, the same contents).
fn grow_reports(hashkey: u64, hash0: u32) -> (Vec<Report>, Vec<usize>) {
    let path = Path::new(env!("CARGO_MANIFEST_DIR")).join("../examples/grow.script");
    let text = std::fs::read_to_string(&path).unwrap();
    let sc = script::parse(&text).unwrap();
    let out = replay::run(
        &sc,
        &replay::Options {
            hashkey: Some(hashkey),
            hash0: Some(vec![hash0]),
            reports: Some(replay::ReportOptions {
                name: "grow.script".into(),
                filter: Filter::default(),
            }),
            ..Default::default()
        },
    )
    .unwrap();
    let lines = out.trace.dumps.iter().map(|d| d.line).collect();
    (out.reports, lines)
}

/// The slots whose (tophash, key, elem) differ from the previous dump's at the same address.
fn changed_slots(prev: Option<&Report>, r: &Report) -> usize {
    type Slot = (u8, Option<String>, Option<String>);
    let mut before: HashMap<(u64, usize), Slot> = HashMap::new();
    if let Some(p) = prev {
        for b in &p.buckets {
            for (i, x) in b.slots.iter().enumerate() {
                before.insert(
                    (b.addr.0, i),
                    (x.tophash, x.key_text.clone(), x.elem_text.clone()),
                );
            }
        }
    }
    let mut n = 0;
    for b in &r.buckets {
        for (i, x) in b.slots.iter().enumerate() {
            let now = (x.tophash, x.key_text.clone(), x.elem_text.clone());
            if before
                .get(&(b.addr.0, i))
                .cloned()
                .unwrap_or((0, None, None))
                != now
            {
                n += 1;
            }
        }
    }
    n
}

#[test]
#[cfg_attr(miri, ignore)]
fn replay_page_steps_through_every_dump_of_the_grow() {
    let (hashkey, hash0) = (0x2545_f491_4f6c_dd1d_u64, 0xcb3d_aafa_u32);
    let d = dir("replay");
    let page = d.join("grow.html");
    // Run from the repository, with the script's path as a user types it.
    let root = Path::new(env!("CARGO_MANIFEST_DIR")).join("..");
    let script = root.join("examples/grow.script");
    let out = Command::new(support::bin())
        .current_dir(&root)
        .args(["replay", "examples/grow.script", "--hashkey"])
        .arg(format!("{hashkey:#x}"))
        .arg("--hash0")
        .arg(format!("{hash0:#x}"))
        .args(["--format", "html", "-o"])
        .arg(&page)
        .output()
        .unwrap();
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    assert_self_contained(&std::fs::read_to_string(&page).unwrap(), "replay");
    let (reports, lines) = grow_reports(hashkey, hash0);
    let n = reports.len();
    // The script watches a grow start, proceed at most two old buckets a write, and finish.
    let first = reports
        .iter()
        .position(|r| r.summary.growing)
        .expect("a grow");
    let last = reports.iter().rposition(|r| r.summary.growing).unwrap();
    assert!(!reports[first - 1].summary.growing && !reports[last + 1].summary.growing);
    assert!(last > first, "the grow is seen over several dumps");
    for w in reports[first..=last].windows(2) {
        let (a, b) = (w[0].summary.evacuated, w[1].summary.evacuated);
        assert!(
            b > a && b - a <= 2,
            "one write evacuates one or two old buckets: {a} → {b}"
        );
    }

    let mut b = Browser::launch("replay", 1400, 1000);
    b.open(&page);
    let source = std::fs::read_to_string(&script).unwrap();
    let source: Vec<&str> = source.lines().collect();
    for (i, r) in reports.iter().enumerate() {
        if i > 0 {
            b.key("ArrowRight");
        }
        assert_eq!(
            b.eval("document.body.dataset.step"),
            Value::from(i.to_string())
        );
        let w = b.eval("document.getElementById('where').textContent");
        assert!(
            w.as_str()
                .unwrap()
                .starts_with(&format!("dump {} of {n}, line {}", i + 1, lines[i])),
            "{w}"
        );
        let titles = cell_titles(&mut b, "L");
        assert_eq!(titles.len() as u64, r.header.count, "dump {}", i + 1);
        assert_eq!(titles, classic_titles(r), "dump {}", i + 1);
        let grows = b.eval("document.querySelectorAll('#grid .grow').length");
        assert_eq!(
            grows,
            Value::from(u8::from(r.summary.growing)),
            "dump {}",
            i + 1
        );
        let changed = b.eval("document.querySelectorAll('#grid .c.g').length");
        assert_eq!(
            changed,
            Value::from(changed_slots(i.checked_sub(1).map(|p| &reports[p]), r)),
            "dump {}: changed slots",
            i + 1
        );
        // The script lines that ran before this dump, and only those.
        let shown =
            b.eval("document.querySelector('section.top:not([hidden]) pre.script').innerText");
        let from = if i == 0 { 1 } else { lines[i - 1] + 1 };
        let want: Vec<String> = (from..=lines[i])
            .map(|ln| format!("{ln:>4}  {}", source[ln - 1]))
            .collect();
        let got: Vec<&str> = shown.as_str().unwrap().trim_end().lines().collect();
        assert_eq!(got, want, "dump {}: the script lines before it", i + 1);
        if i == first || i == first + 1 {
            b.screenshot(&screens().join(format!("replay-step{}.png", i + 1)));
        }
    }
    // Past the last dump the stepper stays; ← goes back; the buttons; Home and End.
    b.key("ArrowRight");
    assert_eq!(
        b.eval("document.body.dataset.step"),
        Value::from((n - 1).to_string())
    );
    b.key("ArrowLeft");
    assert_eq!(
        b.eval("document.body.dataset.step"),
        Value::from((n - 2).to_string())
    );
    b.click_on("#prev", None);
    assert_eq!(
        b.eval("document.body.dataset.step"),
        Value::from((n - 3).to_string())
    );
    b.click_on("#next", None);
    assert_eq!(
        b.eval("document.body.dataset.step"),
        Value::from((n - 2).to_string())
    );
    b.key("Home");
    assert_eq!(b.eval("document.body.dataset.step"), Value::from("0"));
    b.key("End");
    assert_eq!(
        b.eval("document.body.dataset.step"),
        Value::from((n - 1).to_string())
    );
    assert_quiet(&mut b, "replay");
}

/// Keys, elems and labels that hold markup are text on the page: nothing they hold runs,
/// loads or closes the data block.
#[test]
#[cfg_attr(miri, ignore)]
fn markup_in_keys_and_labels_stays_text() {
    let evil_key = "</script><img src=x onerror=\"document.title='pwned'\"><!--";
    let evil_elem = "<b>bold</b>&amp;'\"";
    let d = dir("escape");
    // A replay: a key, an elem and a dump label with markup.
    let sc = d.join("evil.script");
    std::fs::write(
        &sc,
        format!(
            "map string string\ninsert {k} {e}\ninsert plain x\ndump </script><script>document.title='pwned'</script>\n",
            k = go_quote(evil_key),
            e = go_quote(evil_elem)
        ),
    )
    .unwrap();
    let rpage = d.join("replay.html");
    run_ok(&["replay", &s(&sc), "--format", "html", "-o", &s(&rpage)]);
    // A dump of a gomap map's snapshot with such keys.
    let mut m = gomap::dynamic::DynMap::new(
        gomap::dynamic::GoType::String,
        gomap::dynamic::GoType::String,
        0,
    );
    for (k, v) in [
        (evil_key, evil_elem),
        ("</style><style>*{display:none}", "x"),
    ] {
        m.insert(
            &gomap::dynamic::GoValue::String(k.into()),
            &gomap::dynamic::GoValue::String(v.into()),
        )
        .unwrap();
    }
    let snap = d.join("evil.snap");
    std::fs::write(&snap, m.snapshot().to_bytes()).unwrap();
    let dpage = d.join("dump.html");
    run_ok(&["dump", &s(&snap), "--format", "html", "-o", &s(&dpage)]);
    let r: Report =
        serde_json::from_str(&run_ok(&["dump", &s(&snap), "--format", "json"])).unwrap();

    // The replay's reports, from the library: the same contents as the page's run. (A key
    // longer than the dump shows is cut, with "…", on the page as in the text.)
    let text = std::fs::read_to_string(&sc).unwrap();
    let out = replay::run(
        &script::parse(&text).unwrap(),
        &replay::Options {
            reports: Some(replay::ReportOptions {
                name: "evil.script".into(),
                filter: Filter::default(),
            }),
            ..Default::default()
        },
    )
    .unwrap();
    let rt = classic_titles(&out.reports[0]);
    assert!(
        rt.iter().any(|t| t.starts_with("\"</script><img src=x")),
        "{rt:?}"
    );
    let mut b = Browser::launch("escape", 1200, 800);
    for (page, want) in [(&rpage, rt), (&dpage, classic_titles(&r))] {
        let html = std::fs::read_to_string(page).unwrap();
        assert!(
            !html.contains("</script><img"),
            "raw markup in {}",
            page.display()
        );
        assert!(!html.contains("<script>document.title"), "raw markup");
        assert_eq!(
            html.matches("<script").count(),
            3,
            "the data blocks and the one script"
        );
        b.open(page);
        let mut want = want.clone();
        want.sort();
        assert_eq!(cell_titles(&mut b, "L"), want, "{}", page.display());
        let scripts = b.eval("document.scripts.length");
        assert_eq!(scripts, Value::from(3), "no script element was injected");
        for q in [
            "img",
            "iframe",
            "[onerror]",
            "#grid b",
            "#grid script",
            "style ~ style",
        ] {
            let n = b.eval(&format!(
                "document.querySelectorAll({}).length",
                serde_json::to_string(q).unwrap()
            ));
            assert_eq!(n, Value::from(0), "{q} in {}", page.display());
        }
        assert_ne!(b.eval("document.title"), Value::from("pwned"));
        assert_quiet(&mut b, &page.display().to_string());
    }
    // The label is shown as text.
    b.open(&rpage);
    let label = b.eval("document.querySelector('section.top').dataset.label");
    assert!(
        label.as_str().unwrap().contains("</script><script>"),
        "{label}"
    );
    // A script without a dump: a page that says so.
    let none = d.join("none.script");
    std::fs::write(&none, "map uint8 uint8\ninsert 1 1\n").unwrap();
    let npage = d.join("none.html");
    run_ok(&["replay", &s(&none), "--format", "html", "-o", &s(&npage)]);
    b.open(&npage);
    let t = b.eval("document.getElementById('grid').textContent");
    assert!(t.as_str().unwrap().contains("no dump"), "{t}");
    assert_quiet(&mut b, "no dump");
}

/// Go's quoting of a string, as the dump prints keys (enough for the test's strings).
fn go_quote(s: &str) -> String {
    let mut out = String::from("\"");
    for c in s.chars() {
        match c {
            '"' => out.push_str("\\\""),
            '\\' => out.push_str("\\\\"),
            c => out.push(c),
        }
    }
    out.push('"');
    out
}

/// Maps of 2^10 buckets (cells shrink; the data block is compressed) and 2^12 (drawn on
/// canvases): still every entry, and a click still shows a bucket.
#[test]
#[cfg_attr(miri, ignore)]
fn large_maps_shrink_and_still_show_every_bucket() {
    let d = dir("large");
    let mut b = Browser::launch("large", 1400, 1000);
    for (keys, mode, bits) in [("3000", "big", 10), ("10000", "huge", 12)] {
        let (page, snap) = (
            d.join(format!("{keys}.html")),
            d.join(format!("{keys}.snap")),
        );
        run_ok(&[
            "dump",
            "--keys",
            keys,
            "--format",
            "html",
            "-o",
            &s(&page),
            "--save-snapshot",
            &s(&snap),
        ]);
        let r: Report =
            serde_json::from_str(&run_ok(&["dump", &s(&snap), "--format", "json"])).unwrap();
        let html = std::fs::read_to_string(&page).unwrap();
        assert!(
            html.contains("id=gm-data data-gz"),
            "{keys}: a compressed data block"
        );
        let ms = b.open(&page);
        eprintln!(
            "{keys} keys: B = {}, {} buckets, page {} bytes, ready after {ms} ms",
            r.header.B,
            r.buckets.len(),
            html.len()
        );
        assert_eq!(
            b.eval("document.getElementById('grid').className"),
            Value::from(mode)
        );
        let main0 = r.buckets.iter().find(|x| x.id == "main[0]").unwrap();
        assert_eq!(r.header.B, bits, "{keys}");
        if mode == "big" {
            let titles = cell_titles(&mut b, "L");
            assert_eq!(titles.len() as u64, r.header.count);
            assert_eq!(titles, classic_titles(&r));
            b.click_on("#r-main-0- .b", None);
        } else {
            assert!(r.buckets.len() > 4096);
            assert_eq!(
                b.eval("document.querySelectorAll('#grid .c').length"),
                Value::from(0)
            );
            // main[0] is the first bucket drawn on the current array's canvas.
            b.click_on(".arr.new canvas.cv", Some((1.0, 1.0)));
            b.screenshot(&screens().join("large-canvas.png"));
        }
        let (addr, bytes, _) = shown_hex(&mut b);
        assert_eq!(addr, main0.addr.0, "{keys}");
        assert_eq!(bytes, main0.bytes.as_ref().unwrap().0, "{keys}");
        let h = b.eval("document.querySelector('#detail h3').textContent");
        assert!(h.as_str().unwrap().starts_with("main[0] "), "{h}");
        assert_quiet(&mut b, keys);
    }
}
