//! `map-inspect replay --format text`: each dump is rendered by `dump`'s own text renderer,
//! so the replay's text of a dump equals `map-inspect dump` of the same memory (the snapshot
//! the replay saved), but for the line that names the source; `replay --help` carries the
//! script grammar the README documents.

#[allow(dead_code)]
mod support;

use std::path::Path;

use support::{run_ok, tmp_dir};

const HASHKEY: &str = "0x2545f4914f6cdd1d";
const HASH0: &str = "0xcb3daafa";

fn grow_script() -> String {
    Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("../examples/grow.script")
        .to_string_lossy()
        .into_owned()
}

/// The replay's text, cut into its dumps: (the `== dump ... ==` line, the script lines shown
/// before the dump, the dump's rendering).
fn sections(text: &str) -> Vec<(String, Vec<String>, String)> {
    let lines: Vec<&str> = text.lines().collect();
    let starts: Vec<usize> = lines
        .iter()
        .enumerate()
        .filter(|(_, l)| l.starts_with("== dump "))
        .map(|(i, _)| i)
        .collect();
    let mut out = Vec::new();
    for (n, &s) in starts.iter().enumerate() {
        let end = starts.get(n + 1).copied().unwrap_or(lines.len());
        let body = &lines[s + 1..end];
        let blank = body
            .iter()
            .position(|l| l.is_empty())
            .expect("an empty line ends the script lines");
        let mut render: Vec<&str> = body[blank + 1..].to_vec();
        while render.last() == Some(&"") {
            render.pop();
        }
        out.push((
            lines[s].to_string(),
            body[..blank].iter().map(|l| l.to_string()).collect(),
            render.join("\n"),
        ));
    }
    out
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
fn replay_text_is_dumps_rendering_of_the_same_memory() {
    let dir = tmp_dir(&format!("replay-text-{}", std::process::id()));
    let _ = std::fs::remove_dir_all(&dir);
    let snaps = dir.join("steps");
    let script = grow_script();
    let text = run_ok(&[
        "replay",
        &script,
        "--hashkey",
        HASHKEY,
        "--hash0",
        HASH0,
        "--format",
        "text",
        "--color",
        "never",
        "--save-snapshots",
        &snaps.to_string_lossy(),
    ]);
    let json: serde_json::Value = serde_json::from_str(&run_ok(&[
        "replay",
        &script,
        "--hashkey",
        HASHKEY,
        "--hash0",
        HASH0,
    ]))
    .unwrap();
    let dumps = json["dumps"].as_array().unwrap();
    let secs = sections(&text);
    assert_eq!(secs.len(), dumps.len(), "one section per dump:\n{text}");
    assert!(secs.len() >= 6, "the grow script dumps at least 6 times");
    let source_text = std::fs::read_to_string(&script).unwrap();
    let source: Vec<&str> = source_text.lines().collect();
    let mut prev_line = 0;
    for (i, ((head, script_lines, render), d)) in secs.iter().zip(dumps).enumerate() {
        let line = d["line"].as_u64().unwrap() as usize;
        assert!(
            head.starts_with(&format!(
                "== dump {} of {}, line {line}",
                i + 1,
                dumps.len()
            )),
            "{head}"
        );
        // The script lines since the previous dump, numbered.
        let want: Vec<String> = (prev_line + 1..=line)
            .map(|n| format!("{n:>5}  {}", source[n - 1]))
            .collect();
        assert_eq!(script_lines, &want, "dump {}", i + 1);
        prev_line = line;
        // `dump` of the snapshot the replay saved renders the same text, but for the line
        // that names the source (the third).
        let snap = snaps.join(format!("dump-{:03}.snap", i + 1));
        let dumped = run_ok(&["dump", &snap.to_string_lossy(), "--color", "never"]);
        let a: Vec<&str> = render.lines().collect();
        let b: Vec<&str> = dumped.trim_end().lines().collect();
        assert_eq!(a.len(), b.len(), "dump {}: line counts", i + 1);
        for (n, (x, y)) in a.iter().zip(&b).enumerate() {
            if n == 2 {
                assert!(x.starts_with("replay of ") && x.contains(&format!("at line {line}")));
                assert!(y.starts_with("snapshot "), "{y}");
            } else {
                assert_eq!(x, y, "dump {}, line {}", i + 1, n + 1);
            }
        }
        // And the count is the JSON's.
        let count = d["header"]["count"].as_u64().unwrap();
        assert!(
            render.contains(&format!("hmap  count {count}  ")),
            "dump {}",
            i + 1
        );
    }
    // Colour: only on request, and then only the escapes differ.
    let coloured = run_ok(&[
        "replay",
        &script,
        "--hashkey",
        HASHKEY,
        "--hash0",
        HASH0,
        "--format",
        "text",
        "--color",
        "always",
    ]);
    assert!(coloured.contains("\x1b["));
    // (Another run: other addresses, the same lines.)
    let stripped = strip_ansi(&coloured);
    assert_eq!(stripped.lines().count(), text.lines().count());
    let heads = |t: &str| {
        t.lines()
            .filter(|l| {
                l.starts_with("== dump ")
                    || ((l.starts_with("  main[") || l.starts_with("  old[")) && !l.contains("0x"))
            })
            .map(str::to_string)
            .collect::<Vec<_>>()
    };
    assert_eq!(heads(&stripped), heads(&text));
    let _ = std::fs::remove_dir_all(&dir);
}

/// The README's "Script language" table, each operation, and the types are in `replay
/// --help`.
#[test]
fn replay_help_carries_the_script_grammar() {
    let help = run_ok(&["replay", "--help"]);
    let readme =
        std::fs::read_to_string(Path::new(env!("CARGO_MANIFEST_DIR")).join("../README.md"))
            .unwrap();
    let table = readme
        .split("### Script language")
        .nth(1)
        .expect("the README's Script language section");
    let mut ops = 0;
    for row in table.lines().take_while(|l| !l.starts_with("### ")) {
        let Some(cell) = row.strip_prefix("| `") else {
            continue;
        };
        let op = cell.split('`').next().unwrap();
        // The words before the first argument: `range insert <from> ...` → "range insert".
        let name: Vec<&str> = op
            .split_whitespace()
            .take_while(|w| !w.starts_with('<') && !w.starts_with('[') && !w.starts_with("0x"))
            .collect();
        let name = name.join(" ");
        assert!(
            help.lines()
                .any(|l| l.trim_start().starts_with(&format!("{name} ")) || l.trim() == name),
            "replay --help has no line for {name:?}:\n{help}"
        );
        ops += 1;
    }
    assert_eq!(ops, 10, "the README lists 10 operations");
    for w in [
        "float64",
        "[N]uint8",
        "uintptr",
        "Go-quoted",
        "little-endian",
        "--format",
        "--save-snapshots",
    ] {
        assert!(help.contains(w), "replay --help does not mention {w}");
    }
}
