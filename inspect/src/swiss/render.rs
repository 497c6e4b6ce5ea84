//! Text output of `map-inspect dump` for a Swiss-table map: renders a [`SwissReport`] as the
//! header table, the directory, each table with its fields and groups (control states,
//! slots, labelled hex), and a summary whose per-table rows add up to the header's and the
//! tables' own fields.

use std::fmt::Write as _;

use crate::program::layout::GROUP_SLOTS;
use crate::render::{cut, hex_dump_by, key_width, pad, sgr, write_tail, Region, Style};
use crate::report::Field;

use super::report::{load_limit_text, GroupInfo, SwissReport, TableInfo};
use super::GroupLayout;

/// The region of byte `off` of a group.
pub(crate) fn region_at(g: &GroupLayout, off: usize) -> Region {
    if off < 8 {
        return Region::Ctrl;
    }
    let (ks, es) = (g.key_slot_size(), g.elem_slot_size());
    for i in 0..GROUP_SLOTS {
        let k = g.key_offset(i);
        if off >= k && off < k + ks {
            return Region::Key(i);
        }
        let e = g.elem_offset(i);
        if off >= e && off < e + es {
            return Region::Elem(i);
        }
    }
    Region::Padding
}

fn fields_table(out: &mut String, st: Style, fields: &[Field], indent: &str) {
    let _ = writeln!(
        out,
        "{indent}{}",
        st.dim(&format!(
            "{}  {}  {}  {}  meaning",
            pad("field", 17),
            "off",
            pad("raw bytes", 23),
            pad("value", 18)
        ))
    );
    for f in fields {
        let raw: Vec<String> = f.raw.0.iter().map(|b| format!("{b:02x}")).collect();
        let _ = writeln!(
            out,
            "{indent}{}  {:>3}  {}  {}  {}",
            st.paint(sgr::CYAN, &pad(&f.name, 17)),
            f.offset,
            pad(&raw.join(" "), 23),
            pad(&f.value, 18),
            f.meaning
        );
    }
}

fn state_color(state: &str) -> &'static str {
    match state {
        "full" => sgr::GREEN,
        "deleted" => sgr::YELLOW,
        "empty" => sgr::DIM,
        _ => sgr::RED,
    }
}

fn render_group(out: &mut String, st: Style, r: &SwissReport, g: &GroupInfo) {
    let title = match g.table {
        None => "the small map's group".to_string(),
        Some(t) => format!("group {} of table {t}", g.index),
    };
    let ctrl: Vec<String> = g.ctrl.0.iter().map(|b| format!("{b:02x}")).collect();
    let _ = writeln!(
        out,
        "  {} {}  {title}; ctrl {}",
        st.paint(&format!("{};{}", sgr::BOLD, sgr::BLUE), &g.id),
        st.dim(&g.addr.to_string()),
        ctrl.join(" ")
    );
    if g.slots.iter().all(|s| s.state == "empty") {
        let _ = writeln!(
            out,
            "    {}",
            st.dim(
                "all 8 slots empty (ctrl 0x80): a probe sequence that reaches this group ends here"
            )
        );
    } else {
        let kw = key_width(g.slots.iter().filter_map(|s| s.key_text.as_deref()));
        let _ = writeln!(
            out,
            "    {}",
            st.dim(&format!(
                "slot ctrl  {}  h2    {}  elem",
                pad("state", 8),
                pad("key", kw)
            ))
        );
        let mut i = 0;
        while i < g.slots.len() {
            let s = &g.slots[i];
            if s.state == "empty" {
                // A run of empty slots: one line.
                let mut j = i;
                while j + 1 < g.slots.len() && g.slots[j + 1].state == "empty" {
                    j += 1;
                }
                let range = if i == j {
                    format!("{i}")
                } else {
                    format!("{i}-{j}")
                };
                let _ = writeln!(
                    out,
                    "    {:>4} {}  {}",
                    range,
                    st.dim("0x80"),
                    st.dim("empty")
                );
                i = j + 1;
                continue;
            }
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
            let h2 = s.h2.map(|h| format!("{h:#04x}")).unwrap_or_default();
            let note = if s.state == "deleted" {
                st.dim("tombstone: deleted from a group that was full, so probe sequences go on past it")
            } else {
                String::new()
            };
            let _ = writeln!(
                out,
                "    {:>4} {}  {}  {}  {}  {}{}",
                i,
                st.paint(state_color(&s.state), &format!("0x{:02x}", s.ctrl)),
                st.paint(state_color(&s.state), &pad(&s.state, 8)),
                pad(&h2, 4),
                pad(&key, kw),
                elem,
                note
            );
            i += 1;
        }
    }
    if let Some(bytes) = &g.bytes {
        let gl = &r.map.group;
        hex_dump_by(
            out,
            st,
            &|off| region_at(gl, off),
            g.addr.0,
            &bytes.0,
            "    ",
        );
    }
}

fn render_table(out: &mut String, st: Style, t: &TableInfo) {
    let _ = writeln!(
        out,
        "\n{} at {}  directory entr{} (localDepth {})",
        st.bold(&format!("table {}", t.number)),
        t.addr,
        if t.dir_count == 1 {
            format!("y {}", t.dir_first)
        } else {
            format!("ies {}-{}", t.dir_first, t.dir_first + t.dir_count - 1)
        },
        t.localDepth
    );
    fields_table(out, st, &t.fields, "  ");
    let _ = writeln!(
        out,
        "  {}  {} of {} slots full ({:.1}%); the limit is {} for entries and tombstones",
        st.paint(sgr::CYAN, &pad("load", 10)),
        t.used,
        t.capacity,
        t.load * 100.0,
        load_limit_text(t.capacity as u64)
    );
    let _ = writeln!(
        out,
        "  {}  {} = capacity*7/8 - used - growthLeft = {} - {} - {}; {} deleted ctrl byte{}",
        st.paint(sgr::CYAN, &pad("tombstones", 10)),
        t.tombstones,
        t.max_growth_left,
        t.used,
        t.growthLeft,
        t.deleted_slots,
        if t.deleted_slots == 1 { "" } else { "s" }
    );
    let _ = writeln!(
        out,
        "  {}  {}",
        st.paint(sgr::CYAN, &pad("next insert", 10)),
        t.next_insert.text
    );
}

/// The glyph of a Swiss slot state in the overview: `■` full, `×` deleted (a tombstone),
/// `□` empty, `?` a control byte that is no state.
pub fn slot_glyph(state: &str) -> char {
    match state {
        "full" => '■',
        "deleted" => '×',
        "empty" => '□',
        _ => '?',
    }
}

/// The legend of [`slot_glyph`].
pub const SLOT_LEGEND: &str = "■ full  × deleted (a tombstone)  □ empty";

fn glyphs(st: Style, g: &GroupInfo) -> String {
    let mut out = String::new();
    let mut run = String::new();
    let mut code = "";
    for s in &g.slots {
        let c = state_color(&s.state);
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

/// Groups per overview line.
const GROUPS_PER_LINE: usize = 8;

/// The first screen: the header in a few lines, the directory, and the groups shown as
/// compact maps of slot states, eight groups to a line.
fn overview(out: &mut String, st: Style, r: &SwissReport) {
    let h = &r.header;
    let s = &r.summary;
    let ptr = |a: crate::report::Addr| {
        if a.0 == 0 {
            "nil".to_string()
        } else {
            a.to_string()
        }
    };
    let _ = writeln!(
        out,
        "\n{}  used {}  seed {:#018x}  dirPtr {}  dirLen {}  globalDepth {}  globalShift {}  \
         writing {}{}  clearSeq {}",
        st.bold("Map"),
        h.used,
        h.seed.0,
        ptr(h.dirPtr),
        h.dirLen,
        h.globalDepth,
        h.globalShift,
        h.writing,
        h.tombstonePossible
            .map(|t| format!("  tombstonePossible {t}"))
            .unwrap_or_default(),
        h.clearSeq
    );
    if h.small {
        let _ = writeln!(
            out,
            "{}  a small map: {} of {} slots full in its one group{}",
            st.bold("size"),
            s.used,
            GROUP_SLOTS,
            s.next_insert
                .as_ref()
                .map(|n| format!("; next insert: {}", n.action))
                .unwrap_or_default()
        );
    } else {
        let _ = writeln!(
            out,
            "{}  {} table{} in a directory of {} entr{}, {} groups ({} slots), {} tombstone{}, \
             growthLeft {} in all",
            st.bold("size"),
            s.tables,
            if s.tables == 1 { "" } else { "s" },
            s.directory_entries,
            if s.directory_entries == 1 { "y" } else { "ies" },
            s.groups,
            s.slots,
            s.tombstones,
            if s.tombstones == 1 { "" } else { "s" },
            s.growth_left
        );
    }
    if s.live as u64 != s.used || !r.warnings.is_empty() {
        let _ = writeln!(
            out,
            "{}",
            st.paint(
                sgr::RED,
                &format!(
                    "{} warning{} (listed at the end){}",
                    r.warnings.len(),
                    if r.warnings.len() == 1 { "" } else { "s" },
                    if s.live as u64 != s.used {
                        format!("; used {} but {} full slots found", s.used, s.live)
                    } else {
                        String::new()
                    }
                )
            )
        );
    }
    if let Some(d) = &r.directory {
        let mut line = st.bold("directory");
        let mut len = "directory".len();
        for run in &d.runs {
            let item = if run.count == 1 {
                format!("[{}] → table {}", run.first, run.table)
            } else {
                format!(
                    "[{}..{}] → table {}",
                    run.first,
                    run.first + run.count - 1,
                    run.table
                )
            };
            if len + 2 + item.chars().count() > 100 {
                let _ = writeln!(out, "{line}");
                line = " ".repeat("directory".len());
                len = line.len();
            }
            line.push_str("  ");
            line.push_str(&item);
            len += 2 + item.chars().count();
        }
        let _ = writeln!(out, "{line}");
    }
    if r.groups.is_empty() {
        return;
    }
    let _ = writeln!(out, "\n{}  {}", st.bold("groups"), st.dim(SLOT_LEGEND));
    if h.small {
        for g in &r.groups {
            let _ = writeln!(out, "  {}  {}", st.paint(sgr::BLUE, "small"), glyphs(st, g));
        }
        return;
    }
    for t in &r.tables {
        let groups: Vec<&GroupInfo> = r
            .groups
            .iter()
            .filter(|g| g.table == Some(t.number))
            .collect();
        if groups.is_empty() {
            continue;
        }
        let _ = writeln!(
            out,
            "  {}  used {} of {} slots, growthLeft {}, {} tombstone{}, localDepth {}; next insert: {}",
            st.paint(sgr::BLUE, &format!("table {}", t.number)),
            t.used,
            t.capacity,
            t.growthLeft,
            t.tombstones,
            if t.tombstones == 1 { "" } else { "s" },
            t.localDepth,
            t.next_insert.action
        );
        let width = groups
            .chunks(GROUPS_PER_LINE)
            .map(|c| group_range(c).len())
            .max()
            .unwrap_or(0);
        for chunk in groups.chunks(GROUPS_PER_LINE) {
            let cells: Vec<String> = chunk.iter().map(|g| glyphs(st, g)).collect();
            let _ = writeln!(
                out,
                "    {}  {}",
                pad(&group_range(chunk), width),
                cells.join(" ")
            );
        }
    }
}

/// `g8-15`: the group indexes of an overview line.
fn group_range(chunk: &[&GroupInfo]) -> String {
    match chunk {
        [] => String::new(),
        [g] => format!("g{}", g.index),
        [a, .., b] => format!("g{}-{}", a.index, b.index),
    }
}

/// Renders the report as text.
pub fn render(r: &SwissReport, st: Style) -> String {
    let mut out = String::new();
    let m = &r.map;
    let h = &r.header;
    let _ = writeln!(
        out,
        "{}",
        st.dim(&format!(
            "{}; from {}",
            r.layout.description, r.layout.found_in
        ))
    );
    let _ = writeln!(
        out,
        "{}",
        st.bold(&format!("map[{}]{} at {}", m.key_type, m.elem_type, m.addr))
    );
    let _ = writeln!(out, "{}", st.dim(&r.source.description));
    let _ = writeln!(
        out,
        "{}; {}{}",
        m.group.describe(),
        match m.pointer_free {
            Some(true) => "no pointers",
            Some(false) => "has pointers",
            None => "pointers unknown",
        },
        st.dim(&format!(
            "; from {}{}",
            m.group.source,
            m.runtime_type
                .as_ref()
                .map(|t| format!(", checked against the runtime map type ({t})"))
                .unwrap_or_default()
        ))
    );

    overview(&mut out, st, r);

    let _ = writeln!(
        out,
        "\n{} ({} bytes at {})",
        st.bold("Map"),
        h.raw.0.len(),
        h.addr
    );
    fields_table(&mut out, st, &h.fields, "  ");

    if let Some(d) = &r.directory {
        let _ = writeln!(
            out,
            "\n{} at {}: {} entr{} (1 << globalDepth {}), {} table{}{}",
            st.bold("directory"),
            d.addr,
            d.len,
            if d.len == 1 { "y" } else { "ies" },
            h.globalDepth,
            d.runs.len(),
            if d.runs.len() == 1 { "" } else { "s" },
            if d.runs.len() < d.len {
                ": a table of localDepth < globalDepth fills 1 << (globalDepth - localDepth) \
                 entries"
            } else {
                ""
            }
        );
        for run in &d.runs {
            let entries = if run.count == 1 {
                format!("[{}]", run.first)
            } else {
                format!("[{}..{}]", run.first, run.first + run.count - 1)
            };
            let _ = writeln!(
                out,
                "  {}  → table {} at {}{}",
                pad(&entries, 11),
                run.table,
                run.addr,
                if run.count > 1 {
                    format!(" ({} entries)", run.count)
                } else {
                    String::new()
                }
            );
        }
    }

    if h.small {
        let _ = writeln!(
            out,
            "\n{}: {}",
            st.bold("small map"),
            if r.groups.is_empty() && r.shown.total == 0 {
                "no group yet (dirPtr is nil)"
            } else {
                "dirLen = 0: one group of 8 slots holds every entry, and a lookup compares H2 \
                 with each control byte; no tombstones (a delete empties the slot)"
            }
        );
        for g in &r.groups {
            render_group(&mut out, st, r, g);
        }
    } else {
        for t in &r.tables {
            render_table(&mut out, st, t);
            for g in r.groups.iter().filter(|g| g.table == Some(t.number)) {
                render_group(&mut out, st, r, g);
            }
        }
    }

    // Summary.
    let s = &r.summary;
    let _ = writeln!(out, "\n{}", st.bold("summary"));
    let row = |out: &mut String, k: &str, v: String| {
        let _ = writeln!(out, "  {}  {v}", st.paint(sgr::CYAN, &pad(k, 12)));
    };
    row(
        &mut out,
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
    );
    if s.small {
        row(
            &mut out,
            "small map",
            format!("{} of {} slots full", s.used, GROUP_SLOTS),
        );
        if let Some(n) = &s.next_insert {
            row(&mut out, "next insert", n.text.clone());
        }
    } else {
        row(
            &mut out,
            "tables",
            format!(
                "{} in a directory of {} entr{} (globalDepth {})",
                s.tables,
                s.directory_entries,
                if s.directory_entries == 1 { "y" } else { "ies" },
                h.globalDepth
            ),
        );
        row(
            &mut out,
            "groups",
            format!("{} ({} slots)", s.groups, s.slots),
        );
        let _ = writeln!(
            out,
            "  {}",
            st.dim(&format!(
                "{}  {:>6}  {:>10}  {:>10}  {:>8}  {:>6}  {:>12}  next insert",
                pad("table", 6),
                "used",
                "tombstones",
                "growthLeft",
                "capacity",
                "load",
                "of the limit"
            ))
        );
        for t in &r.tables {
            let limit = (t.used as f64 + t.tombstones.max(0) as f64)
                / t.max_growth_left.max(1) as f64
                * 100.0;
            let _ = writeln!(
                out,
                "  {}  {:>6}  {:>10}  {:>10}  {:>8}  {:>6}  {:>12}  {}",
                pad(&t.number.to_string(), 6),
                t.used,
                t.tombstones,
                t.growthLeft,
                t.capacity,
                format!("{:.1}%", t.load * 100.0),
                format!("{limit:.1}%"),
                t.next_insert.action
            );
        }
        if r.tables.len() == s.tables {
            let used: u64 = r.tables.iter().map(|t| t.used as u64).sum();
            let tombs: i64 = r.tables.iter().map(|t| t.tombstones).sum();
            let gl: u64 = r.tables.iter().map(|t| t.growthLeft as u64).sum();
            let cap: u64 = r.tables.iter().map(|t| t.capacity as u64).sum();
            let _ = writeln!(
                out,
                "  {}  {:>6}  {:>10}  {:>10}  {:>8}",
                pad("total", 6),
                used,
                tombs,
                gl,
                cap
            );
            let _ = writeln!(
                out,
                "  {}",
                st.dim(&format!(
                    "used adds up to the header's used ({}){}; each table's tombstones are \
                     capacity*7/8 - used - growthLeft; \"of the limit\" is (used + \
                     tombstones) / (capacity*7/8): at 100% the next new key grows the table",
                    h.used,
                    if used == h.used { "" } else { ": MISMATCH" }
                ))
            );
        }
    }
    let by = &s.bytes;
    row(
        &mut out,
        "memory",
        format!(
            "{} bytes: Map {}, directory {}, tables {}, groups {}, indirect keys and elems {}",
            by.total, by.header, by.directory, by.tables, by.groups, by.indirect
        ),
    );
    let shown = &r.shown;
    let counts = (shown.groups, shown.selected, shown.total);
    write_tail(
        &mut out,
        st,
        "groups",
        counts,
        &shown.filter,
        &r.notes,
        &r.warnings,
    );
    out
}
