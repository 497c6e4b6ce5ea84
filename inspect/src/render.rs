//! Text output of `map-inspect dump`: renders a [`Report`] as tables, bucket slot lists and
//! labelled hex dumps, with ANSI colours when asked to.

use std::fmt::Write as _;

use gomap::layout::{BUCKET_CNT, DATA_OFFSET};

use crate::report::{BucketInfo, MapInfo, Report, FLAG_MEANINGS};

/// ANSI colouring, or none.
#[derive(Copy, Clone, Debug, PartialEq, Eq)]
pub struct Style {
    /// Emit ANSI escape codes.
    pub color: bool,
}

/// SGR codes used.
pub(crate) mod sgr {
    pub(crate) const BOLD: &str = "1";
    pub(crate) const DIM: &str = "2";
    pub(crate) const RED: &str = "31";
    pub(crate) const GREEN: &str = "32";
    pub(crate) const YELLOW: &str = "33";
    pub(crate) const BLUE: &str = "34";
    pub(crate) const MAGENTA: &str = "35";
    pub(crate) const CYAN: &str = "36";
}

impl Style {
    /// `s` in the SGR style `code` (e.g. `"1;33"`), or plain.
    pub fn paint(&self, code: &str, s: &str) -> String {
        if self.color && !code.is_empty() && !s.is_empty() {
            format!("\x1b[{code}m{s}\x1b[0m")
        } else {
            s.to_string()
        }
    }
    pub(crate) fn bold(&self, s: &str) -> String {
        self.paint(sgr::BOLD, s)
    }
    pub(crate) fn dim(&self, s: &str) -> String {
        self.paint(sgr::DIM, s)
    }
}

/// A region of a bucket or group, for the labels and colours of a hex dump.
#[derive(Copy, Clone, Debug, PartialEq, Eq)]
pub(crate) enum Region {
    /// A classic bucket's tophash bytes.
    Tophash,
    /// A Swiss group's control word.
    Ctrl,
    /// Key slot `i`.
    Key(usize),
    /// Elem slot `i`.
    Elem(usize),
    /// A classic bucket's overflow pointer.
    Overflow,
    /// Bytes no field uses (alignment).
    Padding,
}

impl Region {
    fn color(self) -> &'static str {
        match self {
            Region::Tophash | Region::Ctrl => sgr::YELLOW,
            Region::Key(_) => sgr::CYAN,
            Region::Elem(_) => sgr::GREEN,
            Region::Overflow => sgr::MAGENTA,
            Region::Padding => sgr::DIM,
        }
    }
}

/// The region of byte `off` of a bucket.
pub(crate) fn region_at(m: &MapInfo, off: usize) -> Region {
    let keys_end = DATA_OFFSET + BUCKET_CNT * m.keysize;
    let elems_end = keys_end + BUCKET_CNT * m.elemsize;
    if off < DATA_OFFSET {
        Region::Tophash
    } else if off < keys_end {
        Region::Key((off - DATA_OFFSET) / m.keysize.max(1))
    } else if off < elems_end {
        Region::Elem((off - keys_end) / m.elemsize.max(1))
    } else {
        Region::Overflow
    }
}

/// Labels of the regions in `[start, end)`: `tophash`, `key 0`, `keys 0-7`, `elem 3`,
/// `overflow`.
#[cfg(test)]
fn labels(m: &MapInfo, start: usize, end: usize) -> String {
    labels_by(&|off| region_at(m, off), start, end)
}

/// Labels of the regions `region_at` gives in `[start, end)`.
pub(crate) fn labels_by(region_at: &dyn Fn(usize) -> Region, start: usize, end: usize) -> String {
    let mut regions: Vec<Region> = Vec::new();
    for off in start..end {
        let r = region_at(off);
        if regions.last() != Some(&r) {
            regions.push(r);
        }
    }
    let mut out: Vec<String> = Vec::new();
    let mut i = 0;
    while i < regions.len() {
        let r = regions[i];
        let mut j = i;
        let same_kind = |a: Region, b: Region| {
            matches!(
                (a, b),
                (Region::Key(_), Region::Key(_)) | (Region::Elem(_), Region::Elem(_))
            )
        };
        while j + 1 < regions.len() && same_kind(regions[j + 1], r) {
            j += 1;
        }
        let text = match (r, regions[j]) {
            (Region::Tophash, _) => "tophash".to_string(),
            (Region::Ctrl, _) => "ctrl".to_string(),
            (Region::Padding, _) => "padding".to_string(),
            (Region::Overflow, _) => "overflow".to_string(),
            (Region::Key(a), Region::Key(b)) if a != b => format!("keys {a}-{b}"),
            (Region::Key(a), _) => format!("key {a}"),
            (Region::Elem(a), Region::Elem(b)) if a != b => format!("elems {a}-{b}"),
            (Region::Elem(a), _) => format!("elem {a}"),
        };
        out.push(text);
        i = j + 1;
    }
    out.join(", ")
}

/// A labelled hex dump of a bucket: address, 16 bytes, ASCII gutter, regions. Runs of
/// identical lines are squeezed into one `*` line, as `hexdump -C` does.
pub fn hex_dump(out: &mut String, st: Style, m: &MapInfo, base: u64, bytes: &[u8], indent: &str) {
    hex_dump_by(out, st, &|off| region_at(m, off), base, bytes, indent)
}

/// A labelled hex dump whose regions `region_at` gives (see [`hex_dump`]).
pub(crate) fn hex_dump_by(
    out: &mut String,
    st: Style,
    region_at: &dyn Fn(usize) -> Region,
    base: u64,
    bytes: &[u8],
    indent: &str,
) {
    let mut prev: Option<&[u8]> = None;
    let mut squeezed: Option<(usize, usize)> = None; // (first offset, end offset)
    let flush = |out: &mut String, sq: &mut Option<(usize, usize)>| {
        if let Some((a, b)) = sq.take() {
            let n = (b - a).div_ceil(16);
            let _ = writeln!(
                out,
                "{indent}{:>18}  {}",
                "*",
                st.dim(&format!(
                    "{n} more line{} like the one above: {}",
                    if n == 1 { "" } else { "s" },
                    labels_by(region_at, a, b)
                ))
            );
        }
    };
    for (li, chunk) in bytes.chunks(16).enumerate() {
        let off = li * 16;
        if prev == Some(chunk) && chunk.len() == 16 {
            squeezed = Some(match squeezed {
                Some((a, _)) => (a, off + chunk.len()),
                None => (off, off + chunk.len()),
            });
            continue;
        }
        flush(out, &mut squeezed);
        prev = Some(chunk);
        let mut hexs = String::new();
        let mut ascii = String::new();
        for k in 0..16 {
            if k == 8 {
                hexs.push(' ');
            }
            match chunk.get(k) {
                Some(&b) => {
                    let r = region_at(off + k);
                    let code = if b == 0 {
                        format!("{};{}", sgr::DIM, r.color())
                    } else {
                        r.color().to_string()
                    };
                    hexs.push_str(&st.paint(&code, &format!("{b:02x}")));
                    hexs.push(' ');
                    let c = if b.is_ascii_graphic() || b == b' ' {
                        b as char
                    } else {
                        '.'
                    };
                    ascii.push_str(&st.paint(&code, &c.to_string()));
                }
                None => {
                    hexs.push_str("   ");
                    ascii.push(' ');
                }
            }
        }
        let _ = writeln!(
            out,
            "{indent}{:#018x}  {hexs} |{ascii}|  {}",
            base + off as u64,
            st.dim(&labels_by(region_at, off, off + chunk.len()))
        );
    }
    flush(out, &mut squeezed);
}

fn state_color(state: &str) -> &'static str {
    match state {
        "live" => sgr::GREEN,
        "EMPTY_ONE" => sgr::YELLOW,
        "EMPTY_REST" => sgr::DIM,
        _ => sgr::MAGENTA,
    }
}

/// The width of a slot table's key column: its longest key text (cut at 40 characters),
/// and at least the width of the word "key".
pub(crate) fn key_width<'a>(keys: impl Iterator<Item = &'a str>) -> usize {
    keys.map(|t| t.chars().count().min(40))
        .max()
        .unwrap_or(0)
        .max(3)
}

pub(crate) fn cut(s: &str, max: usize) -> String {
    if s.chars().count() <= max {
        s.to_string()
    } else {
        let mut t: String = s.chars().take(max.saturating_sub(1)).collect();
        t.push('…');
        t
    }
}

pub(crate) fn pad(s: &str, width: usize) -> String {
    let n = s.chars().count();
    if n >= width {
        s.to_string()
    } else {
        format!("{s}{}", " ".repeat(width - n))
    }
}

/// The last preallocated bucket of an array points back to the array's bucket 0: a sentinel
/// that marks the end of the preallocated buckets, not a chain link.
pub(crate) fn is_sentinel(b: &BucketInfo) -> bool {
    b.kind == "preallocated" && b.chain.is_none() && (b.next == "main[0]" || b.next == "old[0]")
}

/// A bucket's title line.
pub(crate) fn bucket_title(r: &Report, b: &BucketInfo) -> String {
    let nold = r.summary.noldbuckets;
    let chain_of = |b: &BucketInfo| {
        b.chain
            .as_ref()
            .zip(b.position)
            .map(|(h, p)| format!("overflow bucket {p} in the chain of {h}"))
    };
    let what = match (b.array.as_str(), b.kind.as_str()) {
        ("buckets", "head") => format!("bucket {} of the current array", b.index.unwrap_or(0)),
        ("oldbuckets", "head") => {
            let i = b.index.unwrap_or(0);
            match &b.evacuation {
                Some(e) if e.evacuated => format!(
                    "bucket {i} of the old array: evacuated to {}{}",
                    e.x,
                    e.y.as_ref().map(|y| format!(" (X) and {y} (Y)")).unwrap_or_default()
                ),
                Some(e) => format!(
                    "bucket {i} of the old array: not evacuated yet, its entries are still here (will go to {}{})",
                    e.x,
                    e.y.as_ref().map(|y| format!(" / {y}")).unwrap_or_default()
                ),
                None => format!("bucket {i} of the old array ({nold} buckets)"),
            }
        }
        (arr, "preallocated") if b.chain.as_deref() == Some(b.id.as_str()) => {
            let which = if arr == "buckets" { "current" } else { "old" };
            format!(
                "preallocated overflow bucket of the {which} array, in no head's chain; its \
                 overflow word still leads to the buckets that follow (Go's evacuate clears \
                 only the head's overflow word)"
            )
        }
        (arr, "preallocated") => {
            let which = if arr == "buckets" { "current" } else { "old" };
            let state = match chain_of(b) {
                Some(c) => format!("in use: {c}"),
                None => {
                    let next = r.extra.as_ref().map(|e| e.next_overflow_bucket.as_str());
                    let mut s = if next == Some(b.id.as_str()) && arr == "buckets" {
                        "free: extra.nextOverflow points here".to_string()
                    } else if arr == "buckets" {
                        "free".to_string()
                    } else if b.slots.iter().any(|s| s.state.starts_with("EVACUATED")) {
                        "in no chain: its chain was evacuated, and Go cleared the head's \
                         overflow pointer"
                            .to_string()
                    } else {
                        "in no chain".to_string()
                    };
                    if is_sentinel(b) {
                        s.push_str("; the last one: its overflow word is the sentinel");
                    }
                    s
                }
            };
            format!("preallocated overflow bucket of the {which} array, {state}")
        }
        _ => format!(
            "heap overflow bucket, {}",
            chain_of(b).unwrap_or_else(|| "in no chain".into())
        ),
    };
    what
}

fn render_bucket(out: &mut String, st: Style, r: &Report, b: &BucketInfo) {
    let m = &r.map;
    let _ = writeln!(
        out,
        "  {} {}  {}",
        st.paint(&format!("{};{}", sgr::BOLD, sgr::BLUE), &b.id),
        st.dim(&b.addr.to_string()),
        bucket_title(r, b)
    );
    let all_zero = b
        .slots
        .iter()
        .all(|s| s.tophash == 0 && s.key_raw.0.iter().chain(&s.elem_raw.0).all(|&x| x == 0))
        && b.overflow.0 == 0;
    if all_zero {
        let _ = writeln!(
            out,
            "    {}",
            st.dim(&format!(
                "empty: all {} bytes are zero (every slot EMPTY_REST)",
                m.bucketsize
            ))
        );
        return;
    }
    // Slot table.
    let kw = key_width(b.slots.iter().filter_map(|s| s.key_text.as_deref()));
    let _ = writeln!(
        out,
        "    {}",
        st.dim(&format!(
            "slot tophash  {}  {}  elem",
            pad("state", 15),
            pad("key", kw)
        ))
    );
    let mut i = 0;
    while i < b.slots.len() {
        let s = &b.slots[i];
        // A run of EMPTY_REST to the end of the bucket: one line.
        if s.state == "EMPTY_REST" && b.slots[i..].iter().all(|t| t.state == "EMPTY_REST") {
            let range = if i == BUCKET_CNT - 1 {
                format!("{i}")
            } else {
                format!("{i}-{}", BUCKET_CNT - 1)
            };
            let _ = writeln!(
                out,
                "    {:>4}    {}  {}",
                range,
                st.dim("0x00"),
                st.dim("EMPTY_REST (this and every later slot of the chain is empty)")
            );
            break;
        }
        let moved = s.key_text.is_some() && s.state != "live";
        let key = s
            .key_text
            .as_deref()
            .map(|t| cut(t, 40))
            .unwrap_or_default();
        let elem = s
            .elem_text
            .as_deref()
            .map(|t| cut(t, 40))
            .unwrap_or_default();
        let note = match s.state.as_str() {
            "EVACUATED_EMPTY" => st.dim("(was empty when evacuated)"),
            "EMPTY_ONE" => st.dim("(deleted; later slots may be live)"),
            "EVACUATED_X" | "EVACUATED_Y" if moved => st.dim(" (moved)"),
            "EVACUATED_X" | "EVACUATED_Y" => st.dim("(moved; data cleared)"),
            _ => String::new(),
        };
        let _ = writeln!(
            out,
            "    {:>4}    {}  {}  {}  {}{}",
            i,
            st.paint(state_color(&s.state), &format!("0x{:02x}", s.tophash)),
            st.paint(state_color(&s.state), &pad(&s.state, 15)),
            if moved {
                st.dim(&pad(&key, kw))
            } else {
                pad(&key, kw)
            },
            if moved { st.dim(&elem) } else { elem },
            note
        );
        i += 1;
    }
    let moved = b
        .slots
        .iter()
        .filter(|s| s.state == "EVACUATED_X" || s.state == "EVACUATED_Y")
        .count();
    if moved > 0 {
        let kept = b
            .slots
            .iter()
            .any(|s| s.key_text.is_some() && s.state != "live");
        let _ = writeln!(
            out,
            "    {}",
            st.dim(if kept {
                "moved entries: the bucket has no pointers, so Go leaves their old copy here"
            } else {
                "moved entries: the bucket has pointers, so Go cleared their keys and elems"
            })
        );
    }
    let _ = writeln!(
        out,
        "    {}  {}",
        st.dim("overflow"),
        if b.overflow.0 == 0 {
            "nil".to_string()
        } else if is_sentinel(b) {
            format!(
                "{} → {} {}",
                b.overflow,
                b.next,
                st.dim("(the sentinel that marks the last preallocated bucket, not a link)")
            )
        } else {
            format!("{} → {}", b.overflow, b.next)
        }
    );
    if let Some(bytes) = &b.bytes {
        hex_dump(out, st, m, b.addr.0, &bytes.0, "    ");
    }
}

/// The glyph of a slot state in the overview: `■` live, `×` EMPTY_ONE (deleted), `□`
/// EMPTY_REST, `X`/`Y` evacuated to the X/Y half, `·` EVACUATED_EMPTY, `?` anything else.
pub fn slot_glyph(state: &str) -> char {
    match state {
        "live" => '■',
        "EMPTY_ONE" => '×',
        "EMPTY_REST" => '□',
        "EVACUATED_X" => 'X',
        "EVACUATED_Y" => 'Y',
        "EVACUATED_EMPTY" => '·',
        _ => '?',
    }
}

/// The legend of [`slot_glyph`].
pub const SLOT_LEGEND: &str =
    "■ live  × EMPTY_ONE  □ EMPTY_REST  X EVACUATED_X  Y EVACUATED_Y  · EVACUATED_EMPTY";

/// The 8 glyphs of a bucket, coloured by state (one escape per run of a colour).
fn glyphs(st: Style, b: &BucketInfo) -> String {
    let mut out = String::new();
    let mut run = String::new();
    let mut code = "";
    for s in &b.slots {
        // A live tophash in a bucket that holds no entries of the map (an evacuated chain's
        // stale copy) is dimmed.
        let c = if s.state == "live" && !b.current {
            sgr::DIM
        } else {
            state_color(&s.state)
        };
        if c != code && !run.is_empty() {
            out.push_str(&st.paint(code, &run));
            run.clear();
        }
        code = c;
        run.push(slot_glyph(&s.state));
    }
    out.push_str(&st.paint(code, &run));
    out
}

/// What the overview says after a bucket's line: evacuation, preallocation, the sentinel.
fn overview_note(r: &Report, b: &BucketInfo) -> String {
    match (b.array.as_str(), b.kind.as_str()) {
        ("oldbuckets", "head") => match &b.evacuation {
            Some(e) if e.evacuated => format!(
                "evacuated to {} (X){}",
                e.x,
                e.y.as_ref()
                    .map(|y| format!(" and {y} (Y)"))
                    .unwrap_or_default()
            ),
            Some(e) => format!(
                "not evacuated: will go to {}{}",
                e.x,
                e.y.as_ref().map(|y| format!(" / {y}")).unwrap_or_default()
            ),
            None => String::new(),
        },
        (_, "preallocated") if b.chain.is_none() => {
            let mut s = "preallocated, ".to_string();
            let next = r.extra.as_ref().map(|e| e.next_overflow_bucket.as_str());
            s.push_str(if b.array == "buckets" {
                "free"
            } else {
                "in no chain"
            });
            if next == Some(b.id.as_str()) && b.array == "buckets" {
                s.push_str(" (extra.nextOverflow)");
            }
            if is_sentinel(b) {
                s.push_str(&format!("; the sentinel: its overflow word → {}", b.next));
            }
            s
        }
        (_, "preallocated") if b.chain.as_deref() == Some(b.id.as_str()) => {
            "preallocated, in no head's chain (its overflow word still leads on)".into()
        }
        ("heap", _) if b.chain.is_none() => "heap overflow bucket, in no chain".into(),
        _ => String::new(),
    }
}

/// The first screen: the header in a few lines, the grow state, and one line per chain of
/// the buckets shown, a compact map of slot states (`main[7]  ■■■■■■■■ → main[16] ■□□□□□□□`).
fn overview(out: &mut String, st: Style, r: &Report) {
    let h = &r.header;
    let s = &r.summary;
    let ptr = |a: crate::report::Addr| {
        if a.0 == 0 {
            "nil".to_string()
        } else {
            a.to_string()
        }
    };
    let flags = if h.flag_names.is_empty() {
        "none".to_string()
    } else {
        h.flag_names.join("|")
    };
    let _ = writeln!(
        out,
        "\n{}  count {}  flags {:#04x} ({flags})  B {} ({} bucket{}{})  noverflow {}  hash0 {:#010x}",
        st.bold("hmap"),
        h.count,
        h.flags,
        h.B,
        s.nbuckets,
        if s.nbuckets == 1 { "" } else { "s" },
        if s.preallocated > 0 {
            format!(" + {} preallocated", s.preallocated)
        } else {
            String::new()
        },
        h.noverflow,
        h.hash0
    );
    let _ = writeln!(
        out,
        "      buckets {}  oldbuckets {}  nevacuate {}  extra {}{}",
        ptr(h.buckets),
        ptr(h.oldbuckets),
        h.nevacuate,
        ptr(h.extra),
        match &r.extra {
            Some(e) if e.next_overflow.0 != 0 => {
                format!(" (nextOverflow → {})", e.next_overflow_bucket)
            }
            _ => String::new(),
        }
    );
    let _ = writeln!(
        out,
        "{}  {:.2} entries per bucket ({} / {}); an insert past {} entries starts a doubling grow",
        st.bold("load"),
        s.load_factor,
        s.count,
        s.nbuckets,
        s.grow_at
    );
    let grow = if s.growing {
        let to = if s.same_size_grow {
            format!("same-size grow of {} buckets", s.nbuckets)
        } else {
            format!(
                "doubling grow from {} to {} buckets",
                s.noldbuckets, s.nbuckets
            )
        };
        format!(
            "{to}: {} of {} old buckets evacuated, nevacuate = {}; each write evacuates at most 2 more",
            s.evacuated, s.noldbuckets, s.nevacuate
        )
    } else {
        "not growing".to_string()
    };
    let _ = writeln!(
        out,
        "{}  {}",
        st.bold("grow"),
        if s.growing {
            st.paint(sgr::YELLOW, &grow)
        } else {
            grow
        }
    );
    if s.live as u64 != s.count || !r.warnings.is_empty() {
        let _ = writeln!(
            out,
            "{}",
            st.paint(
                sgr::RED,
                &format!(
                    "{} warning{} (listed at the end){}",
                    r.warnings.len(),
                    if r.warnings.len() == 1 { "" } else { "s" },
                    if s.live as u64 != s.count {
                        format!("; count {} but {} live slots found", s.count, s.live)
                    } else {
                        String::new()
                    }
                )
            )
        );
    }
    if r.buckets.is_empty() {
        return;
    }
    // One line per chain: a bucket continues the line of its chain's head.
    struct Line<'a> {
        old: bool,
        head: Option<&'a str>,
        buckets: Vec<&'a BucketInfo>,
    }
    let mut lines: Vec<Line> = Vec::new();
    for b in &r.buckets {
        let old = b.array == "oldbuckets"
            || (b.array == "heap" && b.chain.as_deref().is_some_and(|c| c.starts_with("old")));
        let continues = b.position.is_some_and(|p| p > 0)
            && lines
                .last()
                .is_some_and(|l| l.head.is_some() && l.head == b.chain.as_deref());
        if continues {
            if let Some(l) = lines.last_mut() {
                l.buckets.push(b);
            }
        } else {
            lines.push(Line {
                old,
                head: b.chain.as_deref(),
                buckets: vec![b],
            });
        }
    }
    let width = lines
        .iter()
        .map(|l| l.buckets[0].id.chars().count())
        .max()
        .unwrap_or(0);
    let mut section = None;
    let mut legend = true;
    for l in &lines {
        if section != Some(l.old) {
            section = Some(l.old);
            let name = st.bold(if l.old { "oldbuckets" } else { "buckets" });
            if legend {
                let _ = writeln!(out, "\n{name}  {}", st.dim(SLOT_LEGEND));
                legend = false;
            } else {
                let _ = writeln!(out, "\n{name}");
            }
        }
        let mut line = format!(
            "  {}  {}",
            {
                let id = &l.buckets[0].id;
                let gap = " ".repeat(width.saturating_sub(id.chars().count()));
                format!("{}{gap}", st.paint(sgr::BLUE, id))
            },
            glyphs(st, l.buckets[0])
        );
        for b in &l.buckets[1..] {
            let _ = write!(line, " → {} {}", st.paint(sgr::BLUE, &b.id), glyphs(st, b));
        }
        let note = overview_note(r, l.buckets[0]);
        if !note.is_empty() {
            let _ = write!(line, "  {}", st.dim(&note));
        }
        let _ = writeln!(out, "{line}");
    }
}

/// The end of a text dump, the same for both map kinds: what part of the map is shown (when
/// not all of it: `counts` is shown, selected by the filter, in the map, of `unit`), then the
/// notes and the warnings.
pub(crate) fn write_tail(
    out: &mut String,
    st: Style,
    unit: &str,
    (shown, selected, total): (usize, usize, usize),
    filter: &str,
    notes: &[String],
    warnings: &[String],
) {
    if shown < total {
        let left_out = if shown < selected {
            format!("; --max-buckets left out {}", selected - shown)
        } else {
            String::new()
        };
        let _ = writeln!(
            out,
            "\n{}",
            st.dim(&format!(
                "showing {shown} of {total} {unit} ({filter}{left_out})"
            ))
        );
    }
    for (title, color, lines) in [
        ("notes", sgr::YELLOW, notes),
        ("warnings", sgr::RED, warnings),
    ] {
        if lines.is_empty() {
            continue;
        }
        let _ = writeln!(
            out,
            "\n{}",
            st.paint(&format!("{};{}", sgr::BOLD, color), title)
        );
        for l in lines {
            let _ = writeln!(out, "  {}", st.paint(color, l));
        }
    }
}

/// Renders the report as text.
pub fn render(r: &Report, st: Style) -> String {
    let mut out = String::new();
    let m = &r.map;
    let h = &r.header;
    if let Some(l) = &r.layout {
        let _ = writeln!(
            out,
            "{}",
            st.dim(&format!("{}; from {}", l.description, l.found_in))
        );
    }
    let title = format!("map[{}]{} at {}", m.key_type, m.elem_type, m.hmap);
    let _ = writeln!(out, "{}", st.bold(&title));
    let _ = writeln!(out, "{}", st.dim(&r.source.description));
    let slots = |indirect: bool, n: usize, what: &str| {
        if indirect {
            format!("8×8 {what} (pointers to {n}-byte values)")
        } else {
            format!("8×{n} {what}")
        }
    };
    let _ = writeln!(
        out,
        "bucket: {} bytes = 8 tophash + {} + {} + 8 overflow; {}",
        m.bucketsize,
        slots(m.indirect_key, m.key_size, "keys"),
        slots(m.indirect_elem, m.elem_size, "elems"),
        match m.pointer_free {
            Some(true) => "no pointers (Go keeps its overflow buckets alive in extra.overflow)",
            Some(false) => "has pointers (evacuation clears old buckets' data)",
            None => "pointers unknown (give --types to know)",
        }
    );

    overview(&mut out, st, r);

    // Header.
    let _ = writeln!(
        out,
        "\n{} ({} bytes at {})",
        st.bold("hmap"),
        h.raw.0.len(),
        h.addr
    );
    let _ = writeln!(
        out,
        "  {}",
        st.dim(&format!(
            "{}  {}  {}  {}  meaning",
            pad("field", 10),
            "off",
            pad("raw bytes", 23),
            pad("value", 18)
        ))
    );
    for f in &h.fields {
        let raw: Vec<String> = f.raw.0.iter().map(|b| format!("{b:02x}")).collect();
        let _ = writeln!(
            out,
            "  {}  {:>3}  {}  {}  {}",
            st.paint(sgr::CYAN, &pad(&f.name, 10)),
            f.offset,
            pad(&raw.join(" "), 23),
            pad(&f.value, 18),
            f.meaning
        );
    }
    // Flags.
    let _ = writeln!(out, "\n{} = {:#04x}", st.bold("flags"), h.flags);
    for (flag, name, meaning) in FLAG_MEANINGS {
        let set = h.flags & flag.bits() != 0;
        let mark = if set { "[x]" } else { "[ ]" };
        let line = format!("{mark} {} {}  {meaning}", pad(name, 15), flag.bits());
        let _ = writeln!(
            out,
            "  {}",
            if set {
                st.paint(sgr::YELLOW, &line)
            } else {
                st.dim(&line)
            }
        );
    }
    if h.flags & 0xf0 != 0 {
        let _ = writeln!(
            out,
            "  {}",
            st.paint(
                sgr::RED,
                &format!("unknown bits {:#04x} are set", h.flags & 0xf0)
            )
        );
    }
    // Extra.
    match &r.extra {
        None => {
            let _ = writeln!(
                out,
                "\n{}: nil (no overflow lists, no preallocated overflow bucket to hand out)",
                st.bold("extra")
            );
        }
        Some(e) => {
            let _ = writeln!(
                out,
                "\n{} (mapextra, 24 bytes at {})",
                st.bold("extra"),
                e.addr
            );
            let list =
                |name: &str, off: usize, l: &Option<crate::report::OverflowList>, what: &str| {
                    let raw: Vec<String> = e.raw.0[off..off + 8]
                        .iter()
                        .map(|b| format!("{b:02x}"))
                        .collect();
                    let value = match l {
                        None => "nil".to_string(),
                        Some(l) => format!(
                            "{} → []*bmap len {}{}{}",
                            l.addr,
                            l.buckets.len(),
                            if l.buckets.is_empty() { "" } else { ": " },
                            cut(&l.buckets.join(" "), 120)
                        ),
                    };
                    format!(
                        "  {}  {:>3}  {}  {}   {}",
                        st.paint(sgr::CYAN, &pad(name, 12)),
                        off,
                        raw.join(" "),
                        value,
                        st.dim(what)
                    )
                };
            let _ = writeln!(
                out,
                "{}",
                list(
                    "overflow",
                    0,
                    &e.overflow,
                    "overflow buckets of buckets, kept for the GC"
                )
            );
            let _ = writeln!(
                out,
                "{}",
                list(
                    "oldoverflow",
                    8,
                    &e.oldoverflow,
                    "overflow buckets of oldbuckets"
                )
            );
            let raw: Vec<String> = e.raw.0[16..24].iter().map(|b| format!("{b:02x}")).collect();
            let _ = writeln!(
                out,
                "  {}  {:>3}  {}  {}   {}",
                st.paint(sgr::CYAN, &pad("nextOverflow", 12)),
                16,
                raw.join(" "),
                if e.next_overflow.0 == 0 {
                    "nil".to_string()
                } else {
                    format!("{} → {}", e.next_overflow, e.next_overflow_bucket)
                },
                st.dim("the next free preallocated overflow bucket")
            );
        }
    }

    // Buckets.
    let s = &r.summary;
    let mut section = "";
    for b in &r.buckets {
        let this = match (b.array.as_str(), b.chain.as_deref()) {
            ("oldbuckets", _) => "old",
            ("heap", Some(c)) if c.starts_with("old") => "old",
            _ => "new",
        };
        if this != section {
            section = this;
            if this == "new" {
                let pre = s.preallocated;
                let _ = writeln!(
                    out,
                    "\n{} at {}: {} bucket{}{}",
                    st.bold("buckets (current array)"),
                    h.buckets,
                    s.nbuckets,
                    if s.nbuckets == 1 { "" } else { "s" },
                    if pre > 0 {
                        format!(
                            " + {pre} preallocated overflow ({} in use)",
                            s.preallocated_used
                        )
                    } else {
                        String::new()
                    }
                );
            } else {
                let _ = writeln!(
                    out,
                    "\n{} at {}: {} buckets, {} grow in progress: {} evacuated, nevacuate = {}",
                    st.bold("oldbuckets (old array)"),
                    h.oldbuckets,
                    s.noldbuckets,
                    if s.same_size_grow {
                        "same-size"
                    } else {
                        "doubling"
                    },
                    s.evacuated,
                    s.nevacuate
                );
            }
        }
        render_bucket(&mut out, st, r, b);
    }
    if r.buckets.is_empty() {
        let _ = writeln!(
            out,
            "\n{}",
            if r.shown.total == 0 {
                "no buckets: the map has no bucket array yet"
            } else {
                "no bucket matches the options"
            }
        );
    }

    // Chains.
    if !r.chains.is_empty() {
        let _ = writeln!(out, "\n{}", st.bold("overflow chains"));
        for c in &r.chains {
            let _ = writeln!(out, "  {}", c.buckets.join(" → "));
        }
    }

    // Summary.
    let _ = writeln!(out, "\n{}", st.bold("summary"));
    let row = |out: &mut String, k: &str, v: String| {
        let _ = writeln!(out, "  {}  {v}", st.paint(sgr::CYAN, &pad(k, 12)));
    };
    row(
        &mut out,
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
    );
    row(
        &mut out,
        "load factor",
        format!(
            "{:.2} = {} / {} bucket{} (an insert past {} entries starts a doubling grow: {} per bucket{})",
            s.load_factor,
            s.count,
            s.nbuckets,
            if s.nbuckets == 1 { "" } else { "s" },
            s.grow_at,
            if s.grow_per_bucket.is_empty() { "6.5" } else { &s.grow_per_bucket },
            if s.grow_per_bucket == "6.0" {
                ", Go 1.21's rule: loadFactorNum is truncated to 12, golang/go#63438"
            } else {
                ""
            }
        ),
    );
    row(
        &mut out,
        "overflow",
        format!(
            "{} overflow bucket{} in the current chains ({} of them preallocated), {} in the old \
             chains, {} allocated on the heap; noverflow = {} (Go's estimate for the current array)",
            s.overflow_buckets,
            if s.overflow_buckets == 1 { "" } else { "s" },
            s.preallocated_used,
            s.old_overflow_buckets,
            s.heap_buckets,
            s.noverflow
        ),
    );
    row(
        &mut out,
        "preallocated",
        format!(
            "{} ({} used, {} free)",
            s.preallocated,
            s.preallocated_used,
            s.preallocated - s.preallocated_used
        ),
    );
    row(
        &mut out,
        "grow",
        if s.growing {
            format!(
                "{} grow in progress: {} of {} old buckets evacuated (nevacuate = {}); each write evacuates at most 2",
                if s.same_size_grow { "same-size" } else { "doubling" },
                s.evacuated,
                s.noldbuckets,
                s.nevacuate
            )
        } else {
            "not growing".to_string()
        },
    );
    let by = &s.bytes;
    row(
        &mut out,
        "memory",
        format!(
            "{} bytes: hmap {}, extra {}, overflow lists {}, buckets {}, oldbuckets {}, heap overflow buckets {}",
            by.total, by.header, by.extra, by.overflow_lists, by.buckets, by.oldbuckets, by.heap
        ),
    );
    let shown = &r.shown;
    let counts = (shown.buckets, shown.selected, shown.total);
    write_tail(
        &mut out,
        st,
        "buckets",
        counts,
        &shown.filter,
        &r.notes,
        &r.warnings,
    );
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    fn map_u64() -> MapInfo {
        MapInfo {
            hmap: crate::report::Addr(0x1000),
            key_type: "uint64".into(),
            elem_type: "uint64".into(),
            key_size: 8,
            elem_size: 8,
            indirect_key: false,
            indirect_elem: false,
            keysize: 8,
            elemsize: 8,
            bucketsize: 144,
            pointer_free: Some(true),
        }
    }

    #[test]
    fn labels_name_the_regions_of_each_line() {
        let m = map_u64();
        assert_eq!(labels(&m, 0, 16), "tophash, key 0");
        assert_eq!(labels(&m, 64, 80), "key 7, elem 0");
        assert_eq!(labels(&m, 128, 144), "elem 7, overflow");
        let mut small = map_u64();
        small.keysize = 1;
        small.elemsize = 1;
        small.bucketsize = 32;
        assert_eq!(labels(&small, 0, 16), "tophash, keys 0-7");
        assert_eq!(labels(&small, 16, 32), "elems 0-7, overflow");
    }

    #[test]
    fn hex_dump_lines_and_squeeze() {
        let m = map_u64();
        let mut bytes = vec![0u8; 144];
        bytes[0] = 0x9c;
        bytes[8] = b'A';
        let mut out = String::new();
        hex_dump(&mut out, Style { color: false }, &m, 0x1000, &bytes, "");
        let lines: Vec<&str> = out.lines().collect();
        assert_eq!(
            lines[0],
            "0x0000000000001000  9c 00 00 00 00 00 00 00  41 00 00 00 00 00 00 00  |........A.......|  tophash, key 0"
        );
        assert!(
            lines[1].starts_with("0x0000000000001010  00 00"),
            "{}",
            lines[1]
        );
        assert!(
            lines[2].contains('*') && lines[2].contains("7 more lines"),
            "{}",
            lines[2]
        );
        assert_eq!(lines.len(), 3);
    }

    #[test]
    fn colour_only_when_asked() {
        assert_eq!(Style { color: false }.paint("1", "x"), "x");
        assert_eq!(Style { color: true }.paint("1", "x"), "\x1b[1mx\x1b[0m");
    }
}
