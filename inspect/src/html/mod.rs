//! `--format html`: one self-contained HTML page that draws a map from its report (never
//! from memory): the header, flags and summary as tables; the bucket arrays (classic) or the
//! directory, tables and groups (Swiss) as grids of slots coloured by state; overflow chains
//! beside their head; mid-grow, the old array beside the new one with `nevacuate` marked and
//! each old bucket linked to its X and Y targets; a legend; a bucket's or group's slots and
//! labelled hex on a click. [`replay_page`] puts every dump of a replay on one page with a
//! stepper, the slots each step changed highlighted.
//!
//! The page holds everything: inline CSS (`page.css`), one inline script (`page.js`), inline
//! SVG. A Content-Security-Policy forbids every resource and every script but that one (by
//! a per-page random nonce), so the page makes no request, and markup that a map's keys
//! might smuggle in cannot run. Everything that comes from memory (keys, elems, type names,
//! labels) is escaped: in the markup by [`escape`], in the data block by
//! [`json_for_script`], and by the script when it draws the grid.
//!
//! The picture's data (the grid's buckets or groups, and their bytes for the hex) is one
//! JSON block that the script reads. A bucket that looks the same in two steps of a replay is
//! stored once. Above [`GZIP_ABOVE`] bytes the block is gzip-compressed and base64-encoded
//! (the browser's `DecompressionStream` inflates it), so that a map of 1e5 entries stays a
//! file of a few megabytes.

use std::collections::HashMap;
use std::fmt::Write as _;
use std::io::Write as _;

use serde::Serialize;

use crate::render::{self, Region};
use crate::replay;
use crate::report::{BucketInfo, Field, MapInfo, Report, FLAG_MEANINGS};
use crate::swiss::report::{GroupInfo, SwissReport};

const CSS: &str = include_str!("page.css");
const SCRIPT: &str = include_str!("page.js");

/// The data block is compressed when its JSON is larger than this.
pub const GZIP_ABOVE: usize = 256 * 1024;

/// Escapes text for HTML content and attribute values.
pub fn escape(s: &str) -> String {
    let mut out = String::with_capacity(s.len());
    for c in s.chars() {
        match c {
            '&' => out.push_str("&amp;"),
            '<' => out.push_str("&lt;"),
            '>' => out.push_str("&gt;"),
            '"' => out.push_str("&quot;"),
            '\'' => out.push_str("&#39;"),
            c => out.push(c),
        }
    }
    out
}

/// JSON that can sit inside a `<script type="application/json">` element: `<`, `>` and `&`
/// (which occur only inside JSON strings) become `\u003c`, `\u003e`, `\u0026`, so no text
/// from memory can close the element (`</script>`) or open a comment.
pub fn json_for_script<T: Serialize>(v: &T) -> String {
    let json = serde_json::to_string(v).expect("the page data serializes");
    let mut out = String::with_capacity(json.len());
    for c in json.chars() {
        match c {
            '<' => out.push_str("\\u003c"),
            '>' => out.push_str("\\u003e"),
            '&' => out.push_str("\\u0026"),
            c => out.push(c),
        }
    }
    out
}

/// A bucket or a group, as the script draws it.
#[derive(Clone, Debug, PartialEq, Eq, Hash, Serialize)]
struct Cell {
    /// `main[3]`, `old[0]`, `heap#1`; `t0.g5`, `small`.
    id: String,
    /// Its address, hex without `0x`.
    a: String,
    /// The 8 slot states, one letter each: `L` live (an entry), `S` a live tophash that is no
    /// entry (an evacuated chain's stale copy), `O` EMPTY_ONE, `R` EMPTY_REST, `X`/`Y`
    /// EVACUATED_X/Y, `E` EVACUATED_EMPTY; Swiss: `F` full, `D` deleted, `M` empty, `Q` a
    /// control byte that is no state.
    s: String,
    /// The 8 tophash (classic) or control (Swiss) bytes, hex; absent when the page holds
    /// the bytes (they begin with them).
    #[serde(skip_serializing_if = "Option::is_none")]
    t: Option<String>,
    /// The keys in Go syntax (`null` where the slot holds none).
    k: Vec<Option<String>>,
    /// The elems.
    e: Vec<Option<String>>,
    /// Classic: the overflow pointer (hex) and what it points to.
    #[serde(skip_serializing_if = "String::is_empty")]
    o: String,
    #[serde(skip_serializing_if = "String::is_empty")]
    n: String,
    /// What it is, in words.
    d: String,
}

/// One line of the grid: a bucket and its overflow chain, or a Swiss table's groups.
#[derive(Clone, Debug, Default, Serialize)]
struct Row {
    /// Pool indexes: the head, then each bucket of its chain (Swiss: the table's groups).
    b: Vec<usize>,
    /// `h` a head of the current array, `o` a head of the old array, `p` a preallocated
    /// bucket in no head's chain, `z` a heap bucket in no chain.
    k: &'static str,
    /// A note after the row.
    #[serde(skip_serializing_if = "String::is_empty")]
    t: String,
    /// Old heads: evacuated (1) or not (0), and the X and Y targets.
    #[serde(skip_serializing_if = "Option::is_none")]
    v: Option<u8>,
    #[serde(skip_serializing_if = "String::is_empty")]
    x: String,
    #[serde(skip_serializing_if = "String::is_empty")]
    y: String,
    /// The slots this step changed, a bit per slot, one mask per bucket of the row (absent:
    /// none).
    #[serde(skip_serializing_if = "Vec::is_empty")]
    m: Vec<u8>,
    /// Swiss: the table's number and its header line.
    #[serde(skip_serializing_if = "Option::is_none")]
    n: Option<usize>,
    #[serde(skip_serializing_if = "String::is_empty")]
    h: String,
    /// Swiss: each group's index in its table.
    #[serde(skip_serializing_if = "Vec::is_empty")]
    i: Vec<usize>,
}

/// One picture: one dump.
#[derive(Clone, Debug, Default, Serialize)]
struct Step {
    /// Classic: the current array's rows, then the old array's.
    #[serde(skip_serializing_if = "Vec::is_empty")]
    rows: Vec<Row>,
    /// Classic: the old array's rows.
    #[serde(skip_serializing_if = "Vec::is_empty")]
    old: Vec<Row>,
    /// Classic: `[bucket id, the head whose chain uses it]` for each preallocated bucket in
    /// a chain.
    #[serde(skip_serializing_if = "Vec::is_empty")]
    used: Vec<(String, String)>,
    /// Classic: 2^B, the old bucket count, nevacuate, a same-size grow.
    nb: usize,
    nold: usize,
    nev: u64,
    same: bool,
    /// Swiss: the tables (a small map: one row of its group).
    #[serde(skip_serializing_if = "Vec::is_empty")]
    tables: Vec<Row>,
}

/// The page data: what the script draws.
#[derive(Clone, Debug, Serialize)]
struct Data {
    /// `classic` or `swiss`.
    kind: &'static str,
    /// A bucket's or group's size.
    size: usize,
    /// The bytes block holds every cell's bytes (else the page has none: `--no-hex`).
    hex: bool,
    /// The region of each byte of a bucket or group: `t` tophash or ctrl, `k` a key, `e` an
    /// elem, `o` the overflow pointer, `p` padding.
    regions: String,
    /// The labels of each 16-byte line of its hex dump (`tophash, key 0`).
    lines: Vec<String>,
    /// Every distinct bucket or group.
    pool: Vec<Cell>,
    /// The pictures.
    steps: Vec<Step>,
}

/// Interns cells: equal cells (with equal bytes) are stored once. With `--no-hex` no cell
/// has bytes; otherwise each has, and they go into one block of records of `size` bytes, in
/// the cells' order.
struct Pool {
    size: usize,
    cells: Vec<Cell>,
    index: HashMap<(Cell, Option<Vec<u8>>), usize>,
    bytes: Vec<u8>,
}

impl Pool {
    fn new(size: usize) -> Pool {
        Pool {
            size,
            cells: Vec::new(),
            index: HashMap::new(),
            bytes: Vec::new(),
        }
    }

    /// Adds a cell and its bytes (`size` of them), and returns its index.
    fn add(&mut self, c: Cell, bytes: Option<&[u8]>) -> usize {
        let key = (c, bytes.map(<[u8]>::to_vec));
        if let Some(&i) = self.index.get(&key) {
            return i;
        }
        if let Some(b) = bytes {
            debug_assert_eq!(b.len(), self.size, "a bucket's or group's bytes");
            self.bytes.extend_from_slice(b);
        }
        let i = self.cells.len();
        self.cells.push(key.0.clone());
        self.index.insert(key, i);
        i
    }

    /// Every cell has its bytes in the block.
    fn has_bytes(&self) -> bool {
        !self.cells.is_empty() && self.bytes.len() == self.cells.len() * self.size
    }
}

fn hexs(b: &[u8]) -> String {
    b.iter().map(|x| format!("{x:02x}")).collect()
}

fn region_char(r: Region) -> char {
    match r {
        Region::Tophash | Region::Ctrl => 't',
        Region::Key(_) => 'k',
        Region::Elem(_) => 'e',
        Region::Overflow => 'o',
        Region::Padding => 'p',
    }
}

/// The regions and line labels of a bucket or group of `size` bytes.
fn regions(size: usize, at: &dyn Fn(usize) -> Region) -> (String, Vec<String>) {
    let chars = (0..size).map(|o| region_char(at(o))).collect();
    let lines = (0..size.div_ceil(16))
        .map(|l| render::labels_by(at, l * 16, (l * 16 + 16).min(size)))
        .collect();
    (chars, lines)
}

fn classic_state(state: &str, current: bool) -> char {
    match state {
        "live" if current => 'L',
        "live" => 'S',
        "EMPTY_ONE" => 'O',
        "EMPTY_REST" => 'R',
        "EVACUATED_X" => 'X',
        "EVACUATED_Y" => 'Y',
        "EVACUATED_EMPTY" => 'E',
        _ => 'Q',
    }
}

fn swiss_state(state: &str) -> char {
    match state {
        "full" => 'F',
        "deleted" => 'D',
        "empty" => 'M',
        _ => 'Q',
    }
}

fn bucket_cell(r: &Report, b: &BucketInfo) -> Cell {
    Cell {
        id: b.id.clone(),
        a: format!("{:x}", b.addr.0),
        s: b.slots
            .iter()
            .map(|s| classic_state(&s.state, b.current))
            .collect(),
        t: b.bytes.is_none().then(|| {
            b.slots
                .iter()
                .map(|s| format!("{:02x}", s.tophash))
                .collect()
        }),
        k: b.slots.iter().map(|s| s.key_text.clone()).collect(),
        e: b.slots.iter().map(|s| s.elem_text.clone()).collect(),
        o: format!("{:x}", b.overflow.0),
        n: b.next.clone(),
        d: render::bucket_title(r, b),
    }
}

fn group_cell(g: &GroupInfo) -> Cell {
    Cell {
        id: g.id.clone(),
        a: format!("{:x}", g.addr.0),
        s: g.slots.iter().map(|s| swiss_state(&s.state)).collect(),
        t: g.bytes.is_none().then(|| hexs(&g.ctrl.0)),
        k: g.slots.iter().map(|s| s.key_text.clone()).collect(),
        e: g.slots.iter().map(|s| s.elem_text.clone()).collect(),
        o: String::new(),
        n: String::new(),
        d: match g.table {
            None => "the small map's one group".into(),
            Some(t) => format!("group {} of table {t}", g.index),
        },
    }
}

/// A bucket's slot values, to tell which slots a step changed: (tophash, key, elem).
type SlotValue = (u8, Option<String>, Option<String>);

/// What the previous step held at each bucket address.
type Memory = HashMap<u64, Vec<SlotValue>>;

/// The classic picture of a report: rows as the text overview groups them (a bucket
/// continues the row of its chain's head), each chain's buckets in order.
fn classic_step(r: &Report, pool: &mut Pool, prev: Option<&Memory>) -> Step {
    let mut step = Step {
        nb: r.summary.nbuckets,
        nold: r.summary.noldbuckets,
        nev: r.summary.nevacuate,
        same: r.summary.same_size_grow,
        ..Step::default()
    };
    let next_overflow = r.extra.as_ref().map(|e| e.next_overflow_bucket.clone());
    // (old section, head id) of the row being built.
    let mut cur: Option<(bool, Option<String>)> = None;
    for b in &r.buckets {
        let old = b.array == "oldbuckets"
            || (b.array == "heap" && b.chain.as_deref().is_some_and(|c| c.starts_with("old")));
        let idx = pool.add(bucket_cell(r, b), b.bytes.as_ref().map(|x| x.0.as_slice()));
        let mask = match prev {
            None => 0,
            Some(m) => changed(m, b),
        };
        let continues = b.position.is_some_and(|p| p > 0)
            && cur
                .as_ref()
                .is_some_and(|(o, h)| *o == old && h.is_some() && *h == b.chain);
        let rows = if old { &mut step.old } else { &mut step.rows };
        if continues {
            if let Some(row) = rows.last_mut() {
                row.b.push(idx);
                row.m.push(mask);
            }
            if b.kind == "preallocated" {
                if let Some(h) = &b.chain {
                    step.used.push((b.id.clone(), h.clone()));
                }
            }
            continue;
        }
        cur = Some((old, b.chain.clone()));
        let mut row = Row {
            b: vec![idx],
            m: vec![mask],
            ..Row::default()
        };
        match (b.kind.as_str(), &b.evacuation) {
            ("head", Some(e)) => {
                row.k = "o";
                row.v = Some(u8::from(e.evacuated));
                row.x = e.x.clone();
                row.y = e.y.clone().unwrap_or_default();
                row.t = if e.evacuated {
                    "evacuated".into()
                } else {
                    "not evacuated yet".into()
                };
            }
            ("head", None) => row.k = "h",
            ("preallocated", _) => {
                row.k = "p";
                let mut t = Vec::new();
                if b.chain.as_deref() == Some(b.id.as_str()) {
                    t.push("in no head's chain; its overflow word still leads on".to_string());
                } else if let Some(h) = &b.chain {
                    t.push(format!("in the chain of {h}"));
                } else if b.array == "buckets" {
                    t.push("free".to_string());
                } else {
                    t.push("in no chain".to_string());
                }
                if next_overflow.as_deref() == Some(b.id.as_str()) && b.array == "buckets" {
                    t.push("← extra.nextOverflow".into());
                }
                if render::is_sentinel(b) {
                    t.push(format!("the sentinel: overflow → {}", b.next));
                }
                row.t = t.join("; ");
            }
            _ => {
                row.k = "z";
                row.t = match &b.chain {
                    Some(h) => format!("heap overflow bucket in the chain of {h}"),
                    None => "heap overflow bucket in no chain".into(),
                };
            }
        }
        rows.push(row);
    }
    for rows in [&mut step.rows, &mut step.old] {
        for row in rows.iter_mut() {
            if row.m.iter().all(|&m| m == 0) {
                row.m.clear();
            }
        }
    }
    step
}

/// The slots of `b` whose tophash, key or elem differ from what the previous step held at
/// its address (a bucket new at an address is compared with zeroed memory).
fn changed(prev: &Memory, b: &BucketInfo) -> u8 {
    let mut mask = 0u8;
    for (i, s) in b.slots.iter().enumerate() {
        let now: SlotValue = (s.tophash, s.key_text.clone(), s.elem_text.clone());
        let before = prev
            .get(&b.addr.0)
            .and_then(|v| v.get(i).cloned())
            .unwrap_or((0, None, None));
        if now != before {
            mask |= 1 << i;
        }
    }
    mask
}

fn memory_of(r: &Report) -> Memory {
    r.buckets
        .iter()
        .map(|b| {
            (
                b.addr.0,
                b.slots
                    .iter()
                    .map(|s| (s.tophash, s.key_text.clone(), s.elem_text.clone()))
                    .collect(),
            )
        })
        .collect()
}

fn swiss_step(r: &SwissReport, pool: &mut Pool) -> Step {
    let mut step = Step::default();
    if r.header.small {
        for g in &r.groups {
            step.tables.push(Row {
                b: vec![pool.add(group_cell(g), g.bytes.as_ref().map(|x| x.0.as_slice()))],
                i: vec![g.index],
                h: "small map: dirLen = 0, one group of 8 slots".into(),
                ..Row::default()
            });
        }
        return step;
    }
    for t in &r.tables {
        let groups: Vec<&GroupInfo> = r
            .groups
            .iter()
            .filter(|g| g.table == Some(t.number))
            .collect();
        step.tables.push(Row {
            b: groups
                .iter()
                .map(|g| pool.add(group_cell(g), g.bytes.as_ref().map(|x| x.0.as_slice())))
                .collect(),
            i: groups.iter().map(|g| g.index).collect(),
            n: Some(t.number),
            h: format!(
                "table {}: {} of {} slots used, growthLeft {}, {} tombstone{}, localDepth {}, \
                 directory entr{}; next insert: {}",
                t.number,
                t.used,
                t.capacity,
                t.growthLeft,
                t.tombstones,
                if t.tombstones == 1 { "" } else { "s" },
                t.localDepth,
                if t.dir_count == 1 {
                    format!("y {}", t.dir_first)
                } else {
                    format!("ies {}-{}", t.dir_first, t.dir_first + t.dir_count - 1)
                },
                t.next_insert.action
            ),
            ..Row::default()
        });
    }
    step
}

fn fields_table(out: &mut String, caption: &str, fields: &[Field]) {
    let _ = write!(
        out,
        "<table class=fields><caption>{}</caption><tr><th>field<th>off<th>raw bytes<th>value<th>meaning</tr>",
        escape(caption)
    );
    for f in fields {
        let raw: Vec<String> = f.raw.0.iter().map(|b| format!("{b:02x}")).collect();
        let _ = write!(
            out,
            "<tr><td class=f>{}<td class=n>{}<td class=raw>{}<td class=v>{}<td>{}</tr>",
            escape(&f.name),
            f.offset,
            raw.join(" "),
            escape(&f.value),
            escape(&f.meaning)
        );
    }
    out.push_str("</table>");
}

fn list(out: &mut String, class: &str, title: &str, items: &[String]) {
    if items.is_empty() {
        return;
    }
    let _ = write!(out, "<div class={class}><b>{}</b><ul>", escape(title));
    for i in items {
        let _ = write!(out, "<li>{}", escape(i));
    }
    out.push_str("</ul></div>");
}

/// `name value` pairs as one line of chips.
fn chips(out: &mut String, items: &[(&str, String)]) {
    out.push_str("<div class=chips>");
    for (k, v) in items {
        let _ = write!(out, "<span><b>{k}</b> {}</span>", escape(v));
    }
    out.push_str("</div>");
}

/// The classic header and grow state in two lines, above the picture.
fn classic_brief(r: &Report) -> String {
    let h = &r.header;
    let s = &r.summary;
    let mut out = String::from("<div class=brief>");
    chips(
        &mut out,
        &[
            ("count", h.count.to_string()),
            (
                "B",
                format!(
                    "{} ({} bucket{}{})",
                    h.B,
                    s.nbuckets,
                    if s.nbuckets == 1 { "" } else { "s" },
                    if s.preallocated > 0 {
                        format!(" + {} preallocated", s.preallocated)
                    } else {
                        String::new()
                    }
                ),
            ),
            (
                "flags",
                format!(
                    "{:#04x} ({})",
                    h.flags,
                    if h.flag_names.is_empty() {
                        "none".to_string()
                    } else {
                        h.flag_names.join("|")
                    }
                ),
            ),
            ("noverflow", h.noverflow.to_string()),
            ("hash0", format!("{:#010x}", h.hash0)),
            ("nevacuate", h.nevacuate.to_string()),
            (
                "load",
                format!(
                    "{:.2} per bucket; a grow starts past {} entries",
                    s.load_factor, s.grow_at
                ),
            ),
        ],
    );
    let grow = if s.growing {
        format!(
            "{}: {} of {} old buckets evacuated, nevacuate = {}; each write evacuates at most 2 more",
            if s.same_size_grow {
                format!("same-size grow of {} buckets", s.nbuckets)
            } else {
                format!("doubling grow from {} to {} buckets", s.noldbuckets, s.nbuckets)
            },
            s.evacuated,
            s.noldbuckets,
            s.nevacuate
        )
    } else {
        "not growing".to_string()
    };
    let _ = write!(
        out,
        "<p class=\"grow-state{}\">{}</p>",
        if s.growing { " on" } else { "" },
        escape(&grow)
    );
    let mismatch = (s.live as u64 != s.count)
        .then(|| format!("count {} but {} live slots found", s.count, s.live));
    warnings_line(&mut out, r.warnings.len(), mismatch);
    out.push_str("</div>");
    out
}

/// The line under a header that says the read was not clean: how many warnings, and the
/// count that disagrees with the slots found (either map kind), if one does.
fn warnings_line(out: &mut String, warnings: usize, mismatch: Option<String>) {
    if warnings == 0 && mismatch.is_none() {
        return;
    }
    let _ = write!(
        out,
        "<p class=bad>{warnings} warning{} (listed below){}</p>",
        if warnings == 1 { "" } else { "s" },
        mismatch.map(|m| format!("; {m}")).unwrap_or_default()
    );
}

/// The Swiss header and sizes in two lines, above the picture.
fn swiss_brief(r: &SwissReport) -> String {
    let h = &r.header;
    let s = &r.summary;
    let mut out = String::from("<div class=brief>");
    let mut items = vec![
        ("used", h.used.to_string()),
        ("seed", format!("{:#018x}", h.seed.0)),
        ("dirLen", h.dirLen.to_string()),
        ("globalDepth", h.globalDepth.to_string()),
        ("writing", h.writing.to_string()),
    ];
    if let Some(t) = h.tombstonePossible {
        items.push(("tombstonePossible", t.to_string()));
    }
    items.push(("clearSeq", h.clearSeq.to_string()));
    chips(&mut out, &items);
    let line = if h.small {
        format!(
            "a small map: {} of 8 slots full in its one group{}",
            s.used,
            s.next_insert
                .as_ref()
                .map(|n| format!("; next insert: {}", n.action))
                .unwrap_or_default()
        )
    } else {
        format!(
            "{} table{} in a directory of {} entr{}, {} groups ({} slots), {} tombstone{}, growthLeft {} in all",
            s.tables,
            if s.tables == 1 { "" } else { "s" },
            s.directory_entries,
            if s.directory_entries == 1 { "y" } else { "ies" },
            s.groups,
            s.slots,
            s.tombstones,
            if s.tombstones == 1 { "" } else { "s" },
            s.growth_left
        )
    };
    let _ = write!(out, "<p class=grow-state>{}</p>", escape(&line));
    if let Some(d) = &r.directory {
        let _ = write!(
            out,
            "<div class=dir><b>directory</b> at {}: {} entr{} (globalDepth {}), {} table{}<div class=strip>",
            d.addr,
            d.len,
            if d.len == 1 { "y" } else { "ies" },
            h.globalDepth,
            d.runs.len(),
            if d.runs.len() == 1 { "" } else { "s" }
        );
        for run in &d.runs {
            let entries = if run.count == 1 {
                format!("[{}]", run.first)
            } else {
                format!("[{}..{}]", run.first, run.first + run.count - 1)
            };
            let _ = write!(
                out,
                "<a class=run href=\"#t-{t}\" style=\"--n:{n};--h:{hue}\" title=\"directory entries {e} → table {t} at {a}\"><span>{e}</span><span>→ t{t}</span></a>",
                t = run.table,
                n = run.count,
                hue = table_hue(run.table),
                e = entries,
                a = run.addr
            );
        }
        out.push_str("</div></div>");
    }

    let mismatch = (s.live as u64 != s.used)
        .then(|| format!("used {} but {} full slots found", s.used, s.live));
    warnings_line(&mut out, r.warnings.len(), mismatch);
    out.push_str("</div>");
    out
}

/// The header, flags, extra and summary of a classic map.
fn classic_facts(r: &Report) -> String {
    let mut out = String::new();
    let h = &r.header;
    let s = &r.summary;
    out.push_str("<div class=facts>");
    fields_table(
        &mut out,
        &format!("hmap: {} bytes at {}", h.raw.0.len(), h.addr),
        &h.fields,
    );
    out.push_str("<div class=side>");
    let _ = write!(
        out,
        "<table class=flags><caption>flags = {:#04x}</caption>",
        h.flags
    );
    for (flag, name, meaning) in FLAG_MEANINGS {
        let set = h.flags & flag.bits() != 0;
        let _ = write!(
            out,
            "<tr class={}><td>{}<td>{name}<td>{}<td>{}</tr>",
            if set { "on" } else { "off" },
            if set { "☑" } else { "☐" },
            flag.bits(),
            escape(meaning)
        );
    }
    if h.flags & 0xf0 != 0 {
        let _ = write!(
            out,
            "<tr class=bad><td>!<td colspan=3>unknown bits {:#04x} are set</tr>",
            h.flags & 0xf0
        );
    }
    out.push_str("</table>");
    match &r.extra {
        None => out.push_str(
            "<p class=extra><b>extra</b>: nil (no overflow lists, no preallocated overflow bucket to hand out)</p>",
        ),
        Some(e) => {
            let list = |l: &Option<crate::report::OverflowList>| match l {
                None => "nil".to_string(),
                Some(l) => format!(
                    "{} → []*bmap len {}{}{}",
                    l.addr,
                    l.buckets.len(),
                    if l.buckets.is_empty() { "" } else { ": " },
                    l.buckets.join(" ")
                ),
            };
            let _ = write!(
                out,
                "<table class=extra><caption>extra (mapextra, 24 bytes at {})</caption>\
                 <tr><td class=f>overflow<td>{}<td>overflow buckets of buckets, kept for the GC</tr>\
                 <tr><td class=f>oldoverflow<td>{}<td>overflow buckets of oldbuckets</tr>\
                 <tr><td class=f>nextOverflow<td>{}<td>the next free preallocated overflow bucket</tr></table>",
                e.addr,
                escape(&list(&e.overflow)),
                escape(&list(&e.oldoverflow)),
                if e.next_overflow.0 == 0 {
                    "nil".to_string()
                } else {
                    escape(&format!("{} → {}", e.next_overflow, e.next_overflow_bucket))
                }
            );
        }
    }
    let grow = if s.growing {
        format!(
            "{} grow in progress: {} of {} old buckets evacuated (nevacuate = {}); each write evacuates at most 2",
            if s.same_size_grow { "same-size" } else { "doubling" },
            s.evacuated,
            s.noldbuckets,
            s.nevacuate
        )
    } else {
        "not growing".to_string()
    };
    let by = &s.bytes;
    let rows = [
        (
            "count",
            format!(
                "{} ({} live entries found in the chains{})",
                s.count,
                s.live,
                if s.live as u64 == s.count {
                    ""
                } else {
                    ": MISMATCH"
                }
            ),
        ),
        (
            "load factor",
            format!(
                "{:.2} = {} / {} buckets; an insert past {} entries starts a doubling grow ({} per bucket)",
                s.load_factor,
                s.count,
                s.nbuckets,
                s.grow_at,
                if s.grow_per_bucket.is_empty() {
                    "6.5"
                } else {
                    &s.grow_per_bucket
                }
            ),
        ),
        (
            "overflow",
            format!(
                "{} in the current chains ({} preallocated), {} in the old chains, {} on the heap; noverflow = {}",
                s.overflow_buckets,
                s.preallocated_used,
                s.old_overflow_buckets,
                s.heap_buckets,
                s.noverflow
            ),
        ),
        (
            "preallocated",
            format!(
                "{} ({} used, {} free)",
                s.preallocated,
                s.preallocated_used,
                s.preallocated - s.preallocated_used
            ),
        ),
        ("grow", grow),
        (
            "memory",
            format!(
                "{} bytes: hmap {}, extra {}, overflow lists {}, buckets {}, oldbuckets {}, heap {}",
                by.total,
                by.header,
                by.extra,
                by.overflow_lists,
                by.buckets,
                by.oldbuckets,
                by.heap
            ),
        ),
    ];
    out.push_str("<table class=summary><caption>summary</caption>");
    for (k, v) in rows {
        let _ = write!(out, "<tr><td class=f>{k}<td>{}</tr>", escape(&v));
    }
    out.push_str("</table>");
    if r.shown.buckets < r.shown.total {
        let _ = write!(
            out,
            "<p class=shown>showing {} of {} buckets ({})</p>",
            r.shown.buckets,
            r.shown.total,
            escape(&r.shown.filter)
        );
    }
    list(&mut out, "notes", "notes", &r.notes);
    list(&mut out, "warnings", "warnings", &r.warnings);
    out.push_str("</div></div>");
    out
}

/// The header, directory and summary of a Swiss map.
fn swiss_facts(r: &SwissReport) -> String {
    let mut out = String::new();
    let h = &r.header;
    let s = &r.summary;
    out.push_str("<div class=facts>");
    fields_table(
        &mut out,
        &format!("Map: {} bytes at {}", h.raw.0.len(), h.addr),
        &h.fields,
    );
    out.push_str("<div class=side>");
    let mut rows = vec![(
        "entries",
        format!(
            "{} (used; {} full slots found{})",
            s.used,
            s.live,
            if s.live as u64 == s.used {
                ""
            } else {
                ": MISMATCH"
            }
        ),
    )];
    if s.small {
        rows.push(("small map", format!("{} of 8 slots full", s.used)));
        if let Some(n) = &s.next_insert {
            rows.push(("next insert", n.text.clone()));
        }
    } else {
        rows.push((
            "tables",
            format!(
                "{} in a directory of {} entries (globalDepth {})",
                s.tables, s.directory_entries, h.globalDepth
            ),
        ));
        rows.push((
            "groups",
            format!(
                "{} ({} slots), {} tombstones, growthLeft {} in all",
                s.groups, s.slots, s.tombstones, s.growth_left
            ),
        ));
    }
    let by = &s.bytes;
    rows.push((
        "memory",
        format!(
            "{} bytes: Map {}, directory {}, tables {}, groups {}, indirect keys and elems {}",
            by.total, by.header, by.directory, by.tables, by.groups, by.indirect
        ),
    ));
    out.push_str("<table class=summary><caption>summary</caption>");
    for (k, v) in rows {
        let _ = write!(out, "<tr><td class=f>{k}<td>{}</tr>", escape(&v));
    }
    out.push_str("</table>");
    if !r.tables.is_empty() {
        out.push_str(
            "<table class=tables><caption>tables</caption><tr><th>table<th>used<th>tombstones\
             <th>growthLeft<th>capacity<th>load<th>localDepth<th>next insert</tr>",
        );
        for t in &r.tables {
            let _ = write!(
                out,
                "<tr><td><a href=\"#t-{n}\">{n}</a><td class=n>{}<td class=n>{}<td class=n>{}<td class=n>{}<td class=n>{:.1}%<td class=n>{}<td>{}</tr>",
                t.used,
                t.tombstones,
                t.growthLeft,
                t.capacity,
                t.load * 100.0,
                t.localDepth,
                escape(&t.next_insert.text),
                n = t.number
            );
        }
        out.push_str("</table>");
    }
    if r.shown.groups < r.shown.total {
        let _ = write!(
            out,
            "<p class=shown>showing {} of {} groups ({})</p>",
            r.shown.groups,
            r.shown.total,
            escape(&r.shown.filter)
        );
    }
    list(&mut out, "notes", "notes", &r.notes);
    list(&mut out, "warnings", "warnings", &r.warnings);
    out.push_str("</div></div>");
    out
}

/// A table's hue on the page (its directory run and its block share it).
fn table_hue(n: usize) -> usize {
    (n * 137 + 200) % 360
}

/// The legend: a swatch per state, as inline SVG.
fn legend(kind: &str, steps: bool) -> String {
    let items: &[(&str, &str)] = if kind == "swiss" {
        &[
            ("F", "full: an entry (ctrl 0hhhhhhh, H2 of its hash)"),
            ("D", "deleted: a tombstone (ctrl 0xFE)"),
            ("M", "empty (ctrl 0x80)"),
            ("Q", "not a valid control byte"),
        ]
    } else {
        &[
            ("L", "live: an entry of the map"),
            ("O", "EMPTY_ONE: deleted, later slots may be live"),
            ("R", "EMPTY_REST: empty, and so is every later slot"),
            ("X", "EVACUATED_X: moved to the X half (same index)"),
            ("Y", "EVACUATED_Y: moved to the Y half (index + old count)"),
            ("E", "EVACUATED_EMPTY: was empty when evacuated"),
            (
                "S",
                "live tophash that is no entry (an evacuated chain's copy)",
            ),
        ]
    };
    let mut out = String::from("<div class=legend>");
    for (c, text) in items {
        let _ = write!(
            out,
            "<span><svg width=14 height=14 aria-hidden=true><rect class=\"sw {c}\" x=1 y=1 width=12 height=12 rx=2 /></svg>{}</span>",
            escape(text)
        );
    }
    if steps {
        out.push_str(
            "<span><svg width=14 height=14 aria-hidden=true><rect class=\"sw L g\" x=1 y=1 width=12 height=12 rx=2 /></svg>changed since the previous dump</span>",
        );
    }
    if kind != "swiss" {
        out.push_str(
            "<span><svg width=34 height=10 aria-hidden=true><path class=lx d=\"M1 5H33\" /></svg>X target</span>\
             <span><svg width=34 height=10 aria-hidden=true><path class=ly d=\"M1 5H33\" /></svg>Y target</span>\
             <span><svg width=34 height=10 aria-hidden=true><path class=\"lx pend\" d=\"M1 5H33\" /></svg>not evacuated yet</span>",
        );
    }
    out.push_str("<span>click a bucket or group: its slots and bytes</span></div>");
    out
}

/// A page nonce: 128 random bits from the standard library's per-process random hash keys.
fn nonce() -> String {
    use std::hash::{BuildHasher, Hasher};
    let mut n = String::new();
    for i in 0..2u64 {
        let mut h = std::collections::hash_map::RandomState::new().build_hasher();
        h.write_u64(i);
        h.write_u128(
            std::time::SystemTime::now()
                .duration_since(std::time::UNIX_EPOCH)
                .map_or(0, |d| d.as_nanos()),
        );
        let _ = write!(n, "{:016x}", h.finish());
    }
    n
}

/// gzip, then base64.
fn gzip64(bytes: &[u8]) -> String {
    use base64::Engine as _;
    let mut gz = flate2::write::GzEncoder::new(Vec::new(), flate2::Compression::default());
    gz.write_all(bytes)
        .expect("compressing into memory cannot fail");
    let z = gz.finish().expect("compressing into memory cannot fail");
    base64::engine::general_purpose::STANDARD.encode(z)
}

/// The data blocks: the picture's JSON (plain, or gzip + base64 above [`GZIP_ABOVE`]), and
/// the buckets' or groups' bytes (gzip + base64, inflated on the first click).
fn data_blocks(d: &Data, bytes: &[u8]) -> String {
    let json = json_for_script(d);
    let mut out = if json.len() <= GZIP_ABOVE {
        format!("<script type=\"application/json\" id=gm-data>{json}</script>")
    } else {
        format!(
            "<script type=\"application/octet-stream\" id=gm-data data-gz>{}</script>",
            gzip64(json.as_bytes())
        )
    };
    let _ = write!(
        out,
        "<script type=\"application/octet-stream\" id=gm-bytes data-gz>{}</script>",
        gzip64(bytes)
    );
    out
}

/// One step as the page shows it: the facts, and the script lines before it.
struct StepPage {
    label: String,
    lines: Vec<(usize, String)>,
    /// A few lines above the picture: the header's fields, the grow state.
    brief: String,
    /// The tables below it.
    facts: String,
}

/// Assembles the page.
fn page(
    title: &str,
    top: &str,
    kind: &'static str,
    steps: Vec<StepPage>,
    data: &Data,
    bytes: &[u8],
) -> String {
    let nonce = nonce();
    let mut out = String::with_capacity(64 * 1024);
    let _ = write!(
        out,
        "<!doctype html>\n<html lang=en><head><meta charset=utf-8>\
         <meta http-equiv=\"Content-Security-Policy\" content=\"default-src 'none'; style-src 'unsafe-inline'; script-src 'nonce-{nonce}'; img-src 'none'; form-action 'none'; base-uri 'none'\">\
         <meta name=viewport content=\"width=device-width, initial-scale=1\">\
         <meta name=generator content=\"map-inspect {}\">\
         <title>{}</title><style>{CSS}</style></head>\n<body class={kind}>",
        env!("CARGO_PKG_VERSION"),
        escape(title)
    );
    out.push_str(top);
    let n = steps.len();
    if n > 1 {
        out.push_str(
            "<nav id=stepper><button id=prev title=\"previous dump (←)\">◀</button>\
             <button id=next title=\"next dump (→)\">▶</button>\
             <span id=where></span><span class=hint>← → keys, Home, End</span></nav>",
        );
    }
    // Each step: the script lines before it and its one-line state; the grid; then its
    // header, flag and summary tables.
    for (i, s) in steps.iter().enumerate() {
        let _ = write!(
            out,
            "<section class=\"step top\" data-i={i} data-label=\"{}\"{}>",
            escape(&s.label),
            if i == 0 { "" } else { " hidden" }
        );
        if !s.lines.is_empty() {
            out.push_str("<pre class=script>");
            for (ln, l) in &s.lines {
                let _ = writeln!(out, "<span class=ln>{ln:>4}</span>  {}", escape(l));
            }
            out.push_str("</pre>");
        }
        out.push_str(&s.brief);
        out.push_str("</section>");
    }
    out.push_str(&legend(kind, n > 1));
    out.push_str("<div id=grid aria-live=polite></div><div id=tip hidden></div>");
    for (i, s) in steps.iter().enumerate() {
        let _ = write!(
            out,
            "<section class=\"step more\" data-i={i}{}>{}</section>",
            if i == 0 { "" } else { " hidden" },
            s.facts
        );
    }
    out.push_str(
        "<aside id=detail hidden><button id=close title=\"close (Esc)\">×</button><div id=dbody></div></aside>",
    );
    out.push_str(&data_blocks(data, bytes));
    let _ = writeln!(out, "<script nonce={nonce}>{SCRIPT}</script></body></html>");
    out
}

fn classic_top(title: &str, r: &Report, lines: &[String]) -> String {
    let m = &r.map;
    let mut out = format!("<header><h1>{}</h1>", escape(title));
    for l in lines {
        let _ = write!(out, "<p>{}</p>", escape(l));
    }
    let slots = |indirect: bool, n: usize, what: &str| {
        if indirect {
            format!("8×8 {what} (pointers to {n}-byte values)")
        } else {
            format!("8×{n} {what}")
        }
    };
    let _ = write!(
        out,
        "<p>bucket: {} bytes = 8 tophash + {} + {} + 8 overflow; {}</p></header>",
        m.bucketsize,
        slots(m.indirect_key, m.key_size, "keys"),
        slots(m.indirect_elem, m.elem_size, "elems"),
        match m.pointer_free {
            Some(true) => "no pointers (Go keeps its overflow buckets alive in extra.overflow)",
            Some(false) => "has pointers (evacuation clears old buckets' data)",
            None => "pointers unknown",
        }
    );
    out
}

fn classic_regions(m: &MapInfo) -> (String, Vec<String>) {
    regions(m.bucketsize, &|o| render::region_at(m, o))
}

/// The page of a classic map's dump.
pub fn dump_page(r: &Report) -> String {
    let mut pool = Pool::new(r.map.bucketsize);
    let step = classic_step(r, &mut pool, None);
    let (regions, lines) = classic_regions(&r.map);
    let data = Data {
        kind: "classic",
        size: r.map.bucketsize,
        regions,
        lines,
        hex: pool.has_bytes(),
        pool: pool.cells,
        steps: vec![step],
    };
    let title = format!(
        "map[{}]{} at {}",
        r.map.key_type, r.map.elem_type, r.map.hmap
    );
    let mut head = Vec::new();
    if let Some(l) = &r.layout {
        head.push(format!("{}; from {}", l.description, l.found_in));
    }
    head.push(r.source.description.clone());
    let top = classic_top(&title, r, &head);
    page(
        &title,
        &top,
        "classic",
        vec![StepPage {
            label: String::new(),
            lines: Vec::new(),
            brief: classic_brief(r),
            facts: classic_facts(r),
        }],
        &data,
        &pool.bytes,
    )
}

/// The page of a Swiss-table map's dump.
pub fn swiss_page(r: &SwissReport) -> String {
    let mut pool = Pool::new(r.map.group.group_size);
    let step = swiss_step(r, &mut pool);
    let g = &r.map.group;
    let (regions, lines) = regions(g.group_size, &|o| crate::swiss::render::region_at(g, o));
    let data = Data {
        kind: "swiss",
        size: g.group_size,
        regions,
        lines,
        hex: pool.has_bytes(),
        pool: pool.cells,
        steps: vec![step],
    };
    let title = format!(
        "map[{}]{} at {}",
        r.map.key_type, r.map.elem_type, r.map.addr
    );
    let mut top = format!("<header><h1>{}</h1>", escape(&title));
    for l in [
        format!("{}; from {}", r.layout.description, r.layout.found_in),
        r.source.description.clone(),
        format!(
            "{}; {}",
            g.describe(),
            match r.map.pointer_free {
                Some(true) => "no pointers",
                Some(false) => "has pointers",
                None => "pointers unknown",
            }
        ),
    ] {
        let _ = write!(top, "<p>{}</p>", escape(&l));
    }
    top.push_str("</header>");
    page(
        &title,
        &top,
        "swiss",
        vec![StepPage {
            label: String::new(),
            lines: Vec::new(),
            brief: swiss_brief(r),
            facts: swiss_facts(r),
        }],
        &data,
        &pool.bytes,
    )
}

/// The page of a nil map variable (or anything else that has no picture): its text.
pub fn text_page(title: &str, text: &str) -> String {
    format!(
        "<!doctype html>\n<html lang=en><head><meta charset=utf-8>\
         <meta http-equiv=\"Content-Security-Policy\" content=\"default-src 'none'; style-src 'unsafe-inline'\">\
         <title>{t}</title><style>{CSS}</style></head><body><header><h1>{t}</h1></header><pre>{}</pre></body></html>\n",
        escape(text),
        t = escape(title)
    )
}

/// The page of a replay: every dump's picture, a stepper, and the script lines that ran
/// before each dump; the slots each step changed are highlighted.
///
/// # Panics
///
/// When the replay was run without [`replay::Options::reports`].
pub fn replay_page(out: &replay::Outcome, text: &str, name: &str) -> String {
    assert_eq!(
        out.reports.len(),
        out.trace.dumps.len(),
        "replay_page needs the replay's reports (replay::Options::reports)"
    );
    let mut pool = Pool::new(out.trace.bucketsize);
    let mut steps = Vec::new();
    let mut pages = Vec::new();
    let mut prev: Option<Memory> = None;
    let lines = replay::lines_between(text, &out.trace.dumps);
    for (i, r) in out.reports.iter().enumerate() {
        let mem = memory_of(r);
        let step = classic_step(r, &mut pool, Some(prev.as_ref().unwrap_or(&Memory::new())));
        prev = Some(mem);
        steps.push(step);
        let d = &out.trace.dumps[i];
        pages.push(StepPage {
            label: format!(
                "dump {} of {}, line {}{}",
                i + 1,
                out.reports.len(),
                d.line,
                if d.label.is_empty() {
                    String::new()
                } else {
                    format!(": {}", d.label)
                }
            ),
            lines: lines.get(i).cloned().unwrap_or_default(),
            brief: classic_brief(r),
            facts: classic_facts(r),
        });
    }
    let t = &out.trace;
    let title = format!("replay of {name}: map[{}]{}", t.key, t.elem);
    let (regions, lines) = match out.reports.first() {
        Some(r) => classic_regions(&r.map),
        None => (String::new(), Vec::new()),
    };
    let data = Data {
        kind: "classic",
        size: t.bucketsize,
        regions,
        lines,
        hex: pool.has_bytes(),
        pool: pool.cells,
        steps,
    };
    let head = vec![
        format!(
            "{} dump{}; hashkey {}, hash0 {}",
            out.reports.len(),
            if out.reports.len() == 1 { "" } else { "s" },
            t.hashkey,
            if t.hash0.is_empty() {
                "none drawn".to_string()
            } else {
                t.hash0.join(" ")
            }
        ),
        "gomap's replay of Go 1.19's classic map: the memory Go's runtime holds after these operations".to_string(),
    ];
    let top = match out.reports.first() {
        Some(r) => classic_top(&title, r, &head),
        None => format!(
            "<header><h1>{}</h1><p>the script has no dump</p></header>",
            escape(&title)
        ),
    };
    page(&title, &top, "classic", pages, &data, &pool.bytes)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn escape_covers_markup_and_attributes() {
        assert_eq!(
            escape("</script><a href=\"x\" title='y'>&"),
            "&lt;/script&gt;&lt;a href=&quot;x&quot; title=&#39;y&#39;&gt;&amp;"
        );
    }

    #[test]
    fn json_for_script_cannot_close_the_element() {
        let v = serde_json::json!({"k": "</script><!-- & -->"});
        let s = json_for_script(&v);
        assert!(
            !s.contains('<') && !s.contains('>') && !s.contains('&'),
            "{s}"
        );
        let back: serde_json::Value = serde_json::from_str(&s).unwrap();
        assert_eq!(back, v);
    }

    #[test]
    fn equal_cells_are_stored_once() {
        let c = Cell {
            id: "main[0]".into(),
            a: "1000".into(),
            s: "RRRRRRRR".into(),
            t: None,
            k: vec![None; 8],
            e: vec![None; 8],
            o: "0".into(),
            n: "nil".into(),
            d: String::new(),
        };
        let mut p = Pool::new(4);
        let a = p.add(c.clone(), Some(&[1, 2, 3, 4]));
        let mut other = c.clone();
        other.a = "2000".into();
        let b = p.add(other, Some(&[1, 2, 3, 4]));
        assert_eq!(p.add(c.clone(), Some(&[1, 2, 3, 4])), a);
        // The same cell with other bytes is another cell.
        let d = p.add(c, Some(&[9, 9, 9, 9]));
        assert_ne!(a, b);
        assert_ne!(a, d);
        assert_eq!(p.cells.len(), 3);
        assert_eq!(p.bytes, [1, 2, 3, 4, 1, 2, 3, 4, 9, 9, 9, 9]);
        assert!(p.has_bytes());
    }
}
