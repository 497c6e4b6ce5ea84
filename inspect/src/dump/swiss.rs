//! `dump` and `maps` for Swiss-table maps (Go 1.24+): the group layout from DWARF (checked
//! against the runtime's map type descriptor) or from `--types`, the decode, the report, and
//! Swiss snapshots (saving one with `--save-snapshot`, reading one back).

use std::path::Path;
use std::rc::Rc;

use gomap::snapshot::{Region, RegionKind, SwissLayoutInfo, SwissSnapshot};

use crate::decode::{DecodeError, Limits};
use crate::program::dwarf::{GoDwarf, Kind, Type};
use crate::program::layout::{
    GoVersion, MapImpl, MapLayout, SwissLayout, SwissMapOffsets, TableOffsets,
};
use crate::program::Program;
use crate::report::{Arrays, LayoutInfo, SourceInfo, Types};
use crate::source::{MemoryReader, SnapshotFile, SnapshotKind, NOT_MAPPED};
use crate::swiss::decode::{decode_swiss, Ctrl, SwissDecoded};
use crate::swiss::report::{self, SwissFilter};
use crate::swiss::GroupLayout;
use crate::values::{TypedValue, ValueType, MAX_STRING_READ};

use super::{
    assumed, check_types_agree, find_var, limits, DumpOptions, Dumped, Failure, MapRow, Origin,
    RefReader, Target, Target2, MAX_TYPE_SIZE,
};

/// The classic-only options are errors for a Swiss map.
fn swiss_filter_only(o: &DumpOptions) -> Result<(), Failure> {
    if o.filter.bucket.is_some() || o.filter.arrays != Arrays::Both {
        return Err(
            "--bucket, --old and --new select a classic map's buckets; this is a \
                    Swiss-table map (Go 1.24+), which has tables of groups: use --table N and \
                    --group G"
                .into(),
        );
    }
    Ok(())
}

fn swiss_filter(o: &DumpOptions) -> SwissFilter {
    SwissFilter {
        table: o.filter.table,
        group: o.filter.group,
        max_groups: o.filter.max_buckets,
        hex: o.filter.hex,
    }
}

/// The group layout of a map type from DWARF: `map<K,V>.dirPtr` is `**table<K,V>`, whose
/// `groups.data` points to the group type. The layout is checked against the build's
/// `GOEXPERIMENT` and, when DWARF describes it, against the runtime's map type descriptor
/// (whose description is returned).
#[allow(clippy::too_many_arguments)]
pub(crate) fn group_layout<R: MemoryReader + ?Sized>(
    prog: &Program,
    d: &GoDwarf,
    r: &R,
    sw: &SwissLayout,
    header: Option<u64>,
    k: &Type,
    v: &Type,
    runtime_type: Option<u64>,
) -> Result<(GroupLayout, Option<String>), String> {
    let h = header.ok_or("DWARF's map type points to no header type (map<K,V>)")?;
    let ht = d.type_at(h)?;
    let Kind::Struct { fields } = &ht.kind else {
        return Err(format!("DWARF's map header {} is not a struct", ht.name));
    };
    let dir = fields
        .iter()
        .find(|f| f.name == "dirPtr")
        .ok_or_else(|| format!("DWARF's map header {} has no dirPtr", ht.name))?;
    let table = match &dir.ty.kind {
        Kind::Pointer { target: Some(p) } => match d.type_at(*p)?.kind {
            Kind::Pointer { target: Some(t) } => d.type_at(t)?,
            _ => return Err(format!("{}.dirPtr is not a **table", ht.name)),
        },
        _ => return Err(format!("{}.dirPtr is not a **table", ht.name)),
    };
    let group = prog.check_swiss_table(d, &table, sw)?;
    let gl = GroupLayout::from_dwarf(&group, k, v)?;
    if gl.split != sw.split_groups {
        return Err(format!(
            "DWARF's group type {} is {}, but the build says {} ({})",
            group.name,
            if gl.split {
                "split {ctrl; keys[8]; elems[8]}"
            } else {
                "{ctrl; slots[8]{key, elem}}"
            },
            if sw.split_groups {
                "GOEXPERIMENT=mapsplitgroup"
            } else {
                "no mapsplitgroup experiment"
            },
            prog.layout.found_in
        ));
    }
    let rt = match runtime_type {
        Some(off) => match prog.runtime_map_type(r, off)? {
            Some(m) => {
                m.check(&gl)?;
                Some(m.what)
            }
            None => None,
        },
        None => None,
    };
    Ok((gl, rt))
}

/// Types and group layout from `--types` (a map found by address, or by a symbol without
/// DWARF): Go's group layout rules for those types.
pub(crate) fn types_from_args(
    o: &DumpOptions,
    sw: &SwissLayout,
) -> Result<(Types, GroupLayout), String> {
    if o.key_size.is_some() || o.elem_size.is_some() {
        return Err(
            "--key-size/--elem-size cannot place a Swiss group's slots (where each key and elem \
             sits depends on the types' alignment): give --types KEY:ELEM"
                .into(),
        );
    }
    let t = o.types.as_deref().ok_or(
        "--pid/--core with --addr needs the map's types: --types KEY:ELEM (e.g. --types \
         uint64:string)",
    )?;
    let (key, elem) = ValueType::parse_pair(t, true)?;
    for t in [&key, &elem] {
        if t.size() > MAX_TYPE_SIZE {
            return Err(format!(
                "{} is {} bytes; sizes up to {MAX_TYPE_SIZE} are supported",
                t.name(),
                t.size()
            ));
        }
    }
    let gl = GroupLayout::from_types(
        key.size(),
        key.align(),
        elem.size(),
        elem.align(),
        sw.split_groups,
    );
    let pf = match (key.has_pointers(), elem.has_pointers()) {
        _ if gl.indirect_key || gl.indirect_elem => Some(false),
        (Some(a), Some(b)) => Some(!a && !b),
        _ => None,
    };
    Ok((
        Types {
            key,
            elem,
            pointer_free: pf,
        },
        gl,
    ))
}

/// Whether the memory at `addr` decodes as a Swiss map without warnings.
fn looks_like_map<R: MemoryReader + ?Sized>(
    r: &R,
    addr: u64,
    sw: &SwissLayout,
    gl: &GroupLayout,
    lim: Limits,
) -> bool {
    addr != 0
        && addr % 8 == 0
        && decode_swiss(r, addr, sw, gl, lim).is_ok_and(|d| d.warnings.is_empty())
}

/// `dump` of a Swiss map in a process or a core file.
pub(super) fn target_report<R: MemoryReader + ?Sized>(
    o: &DumpOptions,
    r: &R,
    origin: &Origin,
    t: &Target2,
    sw: &SwissLayout,
) -> Result<Dumped, Failure> {
    let res = (|| -> Result<Dumped, Failure> {
        swiss_filter_only(o)?;
        let lim = limits(o);
        let who = origin.name();
        let (addr, what, types, gl, runtime) = match &o.target {
            None => {
                let k = origin.kind().replace("process", "pid");
                return Err(format!(
                    "which map? Name a variable (`map-inspect maps --{k} ...` lists them), e.g. \
                     `map-inspect dump --{k} ... main.cache`, or give --addr"
                )
                .into());
            }
            Some(Target::Var(text)) => {
                let prog = t.prog.as_ref().ok_or_else(|| {
                    format!(
                        "finding {text} by name needs the program's executable: give it with \
                         --exe BIN"
                    )
                })?;
                let found = match find_var(prog, r, text, &t.layout)? {
                    Ok(f) => f,
                    Err((name, ty, addr)) => {
                        let text = format!(
                            "{}\n{name} ({ty}) at {addr:#x} in {who}: nil map (the variable \
                             holds no map: make was never called; reads see an empty map, \
                             writes panic)\n",
                            t.layout.describe()
                        );
                        let json = serde_json::json!({
                            "schema": report::SCHEMA,
                            "nil": true,
                            "variable": name,
                            "type": ty,
                            "address": format!("{addr:#x}"),
                            "layout": LayoutInfo::of(&t.layout),
                        });
                        return Ok(Dumped::Nil { text, json });
                    }
                };
                match &found.dwarf_types {
                    Some((k, v)) => {
                        if o.key_size.is_some() || o.elem_size.is_some() {
                            return Err("--key-size/--elem-size are for --addr without types; \
                                        DWARF gives this map's types"
                                .into());
                        }
                        if let Some(g) = &o.types {
                            check_types_agree(g, k, v, &found.what)?;
                        }
                        let d = prog.require_dwarf("decoding the map")?;
                        let (gl, rt) =
                            group_layout(prog, d, r, sw, found.header, k, v, found.runtime_type)?;
                        let tv = |ty: &Rc<Type>| {
                            ValueType::Typed(TypedValue {
                                ty: ty.clone(),
                                prog: prog.clone(),
                            })
                        };
                        let pf = !(gl.indirect_key
                            || gl.indirect_elem
                            || k.has_pointers()
                            || v.has_pointers());
                        let types = Types {
                            key: tv(k),
                            elem: tv(v),
                            pointer_free: Some(pf),
                        };
                        (found.hmap, found.what, types, gl, rt)
                    }
                    None => {
                        if o.types.is_none() {
                            return Err(prog
                                .require_dwarf(&format!("decoding {}", found.what))
                                .err()
                                .unwrap_or_default()
                                .into());
                        }
                        let (types, gl) = types_from_args(o, sw)?;
                        (found.hmap, found.what, types, gl, None)
                    }
                }
            }
            Some(Target::Addr(a)) => {
                let (types, gl) = types_from_args(o, sw)?;
                (*a, format!("--addr {a:#x}"), types, gl, None)
            }
        };
        let decoded = decode_swiss(r, addr, sw, &gl, lim).map_err(|e| {
            let mut msg = match &e {
                DecodeError::Read(re) if re.addr == addr && re.reason == NOT_MAPPED => format!(
                    "{who}, {what}: {re} (is {what} the map? In Go, print the map value with \
                     fmt.Printf(\"%p\\n\", m): it points to the map's header)"
                ),
                DecodeError::Limit(_) => format!(
                    "{who}, {what}: {e}; check the address and the types, or raise the limit \
                     with --limit-mib"
                ),
                DecodeError::Corrupt(_) => format!(
                    "{who}, {what}: the memory at {addr:#x} does not look like a Go Swiss-table \
                     map: {e}"
                ),
                DecodeError::Read(_) => format!("{who}, {what}: {e}"),
            };
            if let Some(Target::Addr(a)) = &o.target {
                if !matches!(e, DecodeError::Limit(_)) {
                    if let Ok(p) = r.read_u64(*a) {
                        if p != *a && looks_like_map(r, p, sw, &gl, lim) {
                            msg.push_str(&format!(
                                ". This looks like the variable's address; the map is at {p:#x} \
                                 (--addr {p:#x})"
                            ));
                        }
                    }
                }
            }
            msg.push_str(&format!(" {}", assumed(&t.layout)));
            Failure::from(msg)
        })?;
        if let Some(path) = &o.save_snapshot {
            save_snapshot(path, r, &decoded, &types, &t.layout)?;
        }
        let rep = report::build(
            &RefReader(r),
            &decoded,
            &types,
            SourceInfo {
                kind: origin.kind().into(),
                description: match origin {
                    Origin::Process(pid) => format!(
                        "Go map in pid {pid} at {addr:#x} ({what}), read with process_vm_readv \
                         (a live map can change while it is read)"
                    ),
                    Origin::Core(c) => {
                        format!("Go map in core file {} at {addr:#x} ({what})", c.display())
                    }
                },
            },
            LayoutInfo::of(&t.layout),
            runtime,
            &swiss_filter(o),
        )?;
        Ok(Dumped::Swiss(Box::new(rep)))
    })();
    res.map_err(|mut f| {
        if !f.message.contains("(assumed") {
            f.message.push_str(&format!(" {}", assumed(&t.layout)));
        }
        f
    })
}

/// The bytes of a Go string value (`ptr`, `len` in 16 bytes), up to [`MAX_STRING_READ`].
fn string_region<R: MemoryReader + ?Sized>(r: &R, v: &[u8]) -> Option<Region> {
    let p = u64::from_le_bytes(v.get(..8)?.try_into().ok()?);
    let n = u64::from_le_bytes(v.get(8..16)?.try_into().ok()?);
    if p == 0 || n == 0 {
        return None;
    }
    let n = n.min(MAX_STRING_READ as u64) as usize;
    let bytes = r.read_vec(p, n).ok()?;
    Some(Region {
        kind: RegionKind::StringData,
        addr: p,
        bytes,
    })
}

fn is_string(t: &ValueType) -> bool {
    match t {
        ValueType::Go(g) => *g == gomap::dynamic::GoType::String,
        ValueType::Typed(t) => matches!(t.ty.kind, Kind::String),
        _ => false,
    }
}

/// Writes a Swiss snapshot (format version 2) of a decoded map: its header, directory,
/// tables and groups, and for each full slot its indirect key and elem and the bytes of a
/// string key or elem.
fn save_snapshot<R: MemoryReader + ?Sized>(
    path: &Path,
    r: &R,
    d: &SwissDecoded,
    types: &Types,
    layout: &MapLayout,
) -> Result<(), String> {
    let g = &d.group;
    let mut regions = vec![Region {
        kind: RegionKind::SwissMap,
        addr: d.map,
        bytes: d.header.raw.clone(),
    }];
    if !d.directory.is_empty() {
        regions.push(Region {
            kind: RegionKind::Directory,
            addr: d.header.dir_ptr,
            bytes: d.directory.iter().flat_map(|p| p.to_le_bytes()).collect(),
        });
    }
    if let Some(s) = &d.small {
        regions.push(Region {
            kind: RegionKind::Groups,
            addr: s.addr,
            bytes: s.bytes.clone(),
        });
    }
    for t in &d.tables {
        regions.push(Region {
            kind: RegionKind::Table,
            addr: t.addr,
            bytes: t.raw.clone(),
        });
        regions.push(Region {
            kind: RegionKind::Groups,
            addr: t.groups_data,
            bytes: t
                .groups
                .iter()
                .flat_map(|g| g.bytes.iter().copied())
                .collect(),
        });
    }
    let (sk, se) = (is_string(&types.key), is_string(&types.elem));
    let mut seen = std::collections::HashSet::new();
    for (_, grp) in d.groups() {
        for i in 0..crate::program::layout::GROUP_SLOTS {
            if !matches!(grp.state(i), Ctrl::Full(_)) {
                continue;
            }
            for (slot, indirect, size, string, kind) in [
                (
                    grp.key_slot(g, i),
                    g.indirect_key,
                    g.key_size,
                    sk,
                    RegionKind::IndirectKey,
                ),
                (
                    grp.elem_slot(g, i),
                    g.indirect_elem,
                    g.elem_size,
                    se,
                    RegionKind::IndirectElem,
                ),
            ] {
                let value = if indirect {
                    let p = u64::from_le_bytes(slot[..8].try_into().expect("8"));
                    if p == 0 || size == 0 {
                        continue;
                    }
                    let bytes = r
                        .read_vec(p, size)
                        .map_err(|e| format!("saving the snapshot: {e}"))?;
                    if seen.insert((p, size)) {
                        regions.push(Region {
                            kind,
                            addr: p,
                            bytes: bytes.clone(),
                        });
                    }
                    bytes
                } else {
                    slot.to_vec()
                };
                if string {
                    if let Some(reg) = string_region(r, &value) {
                        if seen.insert((reg.addr, reg.bytes.len())) {
                            regions.push(reg);
                        }
                    }
                }
            }
        }
    }
    let snap = SwissSnapshot {
        key_size: g.key_size as u64,
        elem_size: g.elem_size as u64,
        indirect_key: g.indirect_key,
        indirect_elem: g.indirect_elem,
        pointer_free: types.pointer_free == Some(true),
        key_type: types.key.name(),
        elem_type: types.elem.name(),
        layout: SwissLayoutInfo {
            go_version: layout.go.map(|v| v.to_string()).unwrap_or_default(),
            tombstone_possible: d.layout.map.tombstone_possible.is_some(),
            split: g.split,
            group_size: g.group_size as u64,
            keys_off: g.keys_off as u64,
            key_stride: g.key_stride as u64,
            elems_off: g.elems_off as u64,
            elem_stride: g.elem_stride as u64,
        },
        map: d.map,
        regions,
    };
    std::fs::write(path, snap.to_bytes())
        .map_err(|e| format!("cannot write the snapshot to {}: {e}", path.display()))
}

/// `dump FILE` of a Swiss snapshot (format version 2).
pub(super) fn snapshot_report(
    o: &DumpOptions,
    snap: &SnapshotFile,
    name: &str,
) -> Result<Dumped, Failure> {
    swiss_filter_only(o)?;
    let SnapshotKind::Swiss {
        key_size,
        elem_size,
        indirect_key,
        indirect_elem,
        pointer_free,
        layout,
    } = &snap.kind
    else {
        return Err(format!("{name} is not a Swiss-table snapshot").into());
    };
    let v = GoVersion::parse(&layout.go_version).ok_or_else(|| {
        format!(
            "{name}: the snapshot names Go version {:?}, which map-inspect cannot place (the \
             file is damaged: take a new snapshot)",
            layout.go_version
        )
    })?;
    let sw = SwissLayout {
        map: if layout.tombstone_possible {
            SwissMapOffsets::GO125
        } else {
            SwissMapOffsets::GO124
        },
        table: TableOffsets::GO124,
        split_groups: layout.split,
        prunes_tombstones: v.at_least(1, 25),
    };
    let ml = MapLayout {
        go: Some(v),
        experiments: if layout.split {
            vec!["mapsplitgroup".into()]
        } else {
            Vec::new()
        },
        imp: MapImpl::Swiss(sw.clone()),
        found_in: format!("snapshot {name}"),
    };
    let gl = GroupLayout {
        key_size: *key_size as usize,
        elem_size: *elem_size as usize,
        indirect_key: *indirect_key,
        indirect_elem: *indirect_elem,
        split: layout.split,
        keys_off: layout.keys_off as usize,
        key_stride: layout.key_stride as usize,
        elems_off: layout.elems_off as usize,
        elem_stride: layout.elem_stride as usize,
        group_size: layout.group_size as usize,
        source: "the snapshot".into(),
    };
    let types = match &o.types {
        None => Types {
            key: ValueType::from_snapshot_name(&snap.key_type, gl.key_size),
            elem: ValueType::from_snapshot_name(&snap.elem_type, gl.elem_size),
            pointer_free: Some(*pointer_free),
        },
        Some(t) => {
            let (key, elem) = ValueType::parse_pair(t, true)?;
            for (what, ty, size) in [("key", &key, gl.key_size), ("elem", &elem, gl.elem_size)] {
                if ty.size() != size {
                    return Err(format!(
                        "--types: the snapshot's {what} is {size} bytes, but {} is {}",
                        ty.name(),
                        ty.size()
                    )
                    .into());
                }
            }
            Types {
                key,
                elem,
                pointer_free: Some(*pointer_free),
            }
        }
    };
    // With types whose alignment is known, the recorded layout must be Go's for them.
    if let (Some(ka), Some(ea)) = (types.key.known_align(), types.elem.known_align()) {
        let want = GroupLayout::from_types(gl.key_size, ka, gl.elem_size, ea, gl.split);
        if !want.same_as(&gl) {
            return Err(format!(
                "{name}: the snapshot's group layout ({}) is not the one Go gives map[{}]{} \
                 ({}); the file is damaged: take a new snapshot {}",
                gl.describe(),
                types.key.name(),
                types.elem.name(),
                want.describe(),
                assumed(&ml)
            )
            .into());
        }
    }
    let decoded = decode_swiss(snap, snap.hmap, &sw, &gl, limits(o)).map_err(|e| match e {
        DecodeError::Read(re) if re.addr == snap.hmap => format!(
            "{name}: the snapshot does not hold the Map header at the map's address {:#x} \
             ({}): the file is damaged, take a new snapshot {}",
            snap.hmap,
            re.reason,
            assumed(&ml)
        ),
        DecodeError::Limit(_) => format!(
            "{name}: {e}; if the snapshot is right, raise it with --limit-mib (else take a new \
             one) {}",
            assumed(&ml)
        ),
        _ => format!(
            "{name}: {e} (the snapshot does not hold a valid map: take a new one) {}",
            assumed(&ml)
        ),
    })?;
    let rep = report::build(
        snap,
        &decoded,
        &types,
        SourceInfo {
            kind: "snapshot".into(),
            description: format!(
                "snapshot {name}: {} regions, {} bytes",
                snap.nregions, snap.file_size
            ),
        },
        LayoutInfo::of(&ml),
        None,
        &swiss_filter(o),
    )?;
    Ok(Dumped::Swiss(Box::new(rep)))
}

/// Fills a `maps` row for a Swiss map variable at `var_addr`.
#[allow(clippy::too_many_arguments)]
pub(super) fn map_row<R: MemoryReader + ?Sized>(
    prog: &Program,
    dw: &GoDwarf,
    r: &R,
    sw: &SwissLayout,
    var_addr: u64,
    key: u64,
    elem: u64,
    header: Option<u64>,
    runtime_type: Option<u64>,
    lim: Limits,
    row: &mut MapRow,
) -> Result<(), String> {
    if let Some(h) = header {
        prog.check_header_type(&*dw.type_at(h)?)?;
    }
    let p = r.read_u64(var_addr).map_err(|e| e.to_string())?;
    if p == 0 {
        return Ok(());
    }
    row.hmap = Some(format!("{p:#x}"));
    let (k, v) = (dw.type_at(key)?, dw.type_at(elem)?);
    let (gl, _) = group_layout(prog, dw, r, sw, header, &k, &v, runtime_type)?;
    let d = decode_swiss(r, p, sw, &gl, lim).map_err(|e| e.to_string())?;
    row.count = Some(d.header.used);
    row.tables = Some(d.tables.len());
    row.groups = Some(d.ngroups());
    row.bytes = Some(d.total_bytes());
    if !d.warnings.is_empty() {
        return Err(d.warnings.join("; "));
    }
    Ok(())
}
