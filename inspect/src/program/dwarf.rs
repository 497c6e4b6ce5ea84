//! Go's DWARF, read with gimli: package-level variables (name, address, type) and Go types.
//!
//! Read lazily: the unit headers are parsed when the program is opened; the variables are
//! indexed on the first lookup (only each unit's top-level entries are visited, never a
//! function's locals); a type is built when something asks for it, and cached.
//!
//! Go marks its types with its own attributes: `0x2900` the reflect kind, `0x2901`/`0x2902`
//! a map's key and elem types (`0x2902` also a slice's elem), `0x2904` the runtime type
//! descriptor's offset from `runtime.types`.

use std::cell::{OnceCell, RefCell};
use std::collections::{BTreeMap, HashMap};
use std::rc::Rc;

use gimli::{
    AttributeValue, DebugInfoOffset, DwAt, EndianRcSlice, LittleEndian, Reader as _, Unit,
    UnitOffset,
};

/// The reader type.
type R = EndianRcSlice<LittleEndian>;

const AT_GO_KIND: DwAt = DwAt(0x2900);
const AT_GO_KEY: DwAt = DwAt(0x2901);
const AT_GO_ELEM: DwAt = DwAt(0x2902);
const AT_GO_RUNTIME_TYPE: DwAt = DwAt(0x2904);

/// Go's reflect kinds, as the `0x2900` attribute holds them.
mod kind {
    pub(super) const BOOL: u64 = 1;
    pub(super) const INT: u64 = 2;
    pub(super) const INT64: u64 = 6;
    pub(super) const UINT: u64 = 7;
    pub(super) const UINTPTR: u64 = 12;
    pub(super) const FLOAT32: u64 = 13;
    pub(super) const FLOAT64: u64 = 14;
    pub(super) const COMPLEX64: u64 = 15;
    pub(super) const COMPLEX128: u64 = 16;
    pub(super) const CHAN: u64 = 18;
    pub(super) const FUNC: u64 = 19;
    pub(super) const INTERFACE: u64 = 20;
    pub(super) const MAP: u64 = 21;
    pub(super) const SLICE: u64 = 23;
    pub(super) const STRING: u64 = 24;
    pub(super) const UNSAFE_POINTER: u64 = 26;
}

/// A Go type, as DWARF describes it.
#[derive(Debug, PartialEq)]
pub struct Type {
    /// Its name (`uint64`, `main.Item`, `map[string]int`, `*main.Service`).
    pub name: String,
    /// Its size in bytes.
    pub size: u64,
    /// What it is.
    pub kind: Kind,
    /// The DIE's offset in `.debug_info` (an identity for caches and messages).
    pub die: u64,
}

/// A struct field.
#[derive(Debug, PartialEq)]
pub struct Field {
    /// The field's name.
    pub name: String,
    /// Its offset in the struct.
    pub offset: u64,
    /// Its type.
    pub ty: Rc<Type>,
}

/// What a type is. Pointer, slice, map and chan targets are DIE offsets resolved on demand
/// (types may refer to themselves through them).
#[derive(Debug, PartialEq)]
pub enum Kind {
    /// `bool`
    Bool,
    /// A signed integer (`int`, `int8`..`int64`), of the type's size.
    Int,
    /// An unsigned integer (`uint`, `uint8`..`uint64`, `uintptr`).
    Uint,
    /// `float32`, `float64`.
    Float,
    /// `complex64`, `complex128`.
    Complex,
    /// `string`
    String,
    /// `[len]elem`
    Array {
        /// The elem type.
        elem: Rc<Type>,
        /// The length.
        len: u64,
    },
    /// A struct.
    Struct {
        /// The fields, in order.
        fields: Vec<Field>,
    },
    /// `*T`
    Pointer {
        /// `T`'s DIE (none for `unsafe.Pointer`).
        target: Option<u64>,
    },
    /// `[]T`
    Slice {
        /// `T`'s DIE.
        elem: Option<u64>,
    },
    /// An interface.
    Interface {
        /// `interface{}` (`runtime.eface`: type word first), else an interface with methods
        /// (`runtime.iface`: itab word first).
        empty: bool,
    },
    /// `map[K]V`: a pointer to the runtime's header.
    Map {
        /// `K`'s DIE.
        key: u64,
        /// `V`'s DIE.
        elem: u64,
        /// The header struct's DIE (`hash<K,V>` for classic maps, `map<K,V>` for Swiss
        /// tables).
        header: Option<u64>,
        /// The offset of the map's runtime type descriptor from `runtime.types` (attribute
        /// `0x2904`), when DWARF records it.
        runtime_type: Option<u64>,
    },
    /// A channel (a pointer).
    Chan,
    /// A func value (a pointer).
    Func,
    /// Something else, shown as bytes.
    Other,
}

impl Type {
    /// Whether values of this type hold pointers (Go's `ptrdata != 0`).
    pub fn has_pointers(&self) -> bool {
        match &self.kind {
            Kind::Bool | Kind::Int | Kind::Uint | Kind::Float | Kind::Complex => false,
            Kind::Array { elem, len } => *len > 0 && elem.has_pointers(),
            Kind::Struct { fields } => fields.iter().any(|f| f.ty.has_pointers()),
            Kind::Other => self.size >= 8,
            _ => true,
        }
    }
}

/// A package-level variable.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Variable {
    /// Its name, with the full import path (`gomap.test/inspect/store.ByName`).
    pub name: String,
    /// Its address.
    pub addr: u64,
    /// Its type's DIE.
    pub ty: u64,
}

/// The DWARF of a Go program.
pub struct GoDwarf {
    dwarf: gimli::Dwarf<R>,
    units: Vec<(u64, Unit<R>)>,
    vars: OnceCell<Result<BTreeMap<String, Variable>, String>>,
    rtypes: OnceCell<HashMap<u64, u64>>,
    named: RefCell<HashMap<String, Option<u64>>>,
    types: RefCell<HashMap<u64, Rc<Type>>>,
}

fn gerr(e: gimli::Error) -> String {
    format!("reading DWARF: {e}")
}

impl GoDwarf {
    /// Loads the DWARF from its sections (`load(".debug_info")` gives the uncompressed bytes
    /// of a section, empty when absent). `None` when there is no `.debug_info`.
    pub fn load(
        mut load: impl FnMut(&str) -> Result<Option<Rc<[u8]>>, String>,
    ) -> Result<Option<GoDwarf>, String> {
        let Some(info) = load(".debug_info")? else {
            return Ok(None);
        };
        if info.is_empty() {
            return Ok(None);
        }
        let mut err = None;
        let dwarf = gimli::Dwarf::load(|id: gimli::SectionId| -> Result<R, gimli::Error> {
            let data = if id == gimli::SectionId::DebugInfo {
                Some(info.clone())
            } else {
                match load(id.name()) {
                    Ok(d) => d,
                    Err(e) => {
                        err = Some(e);
                        None
                    }
                }
            };
            Ok(EndianRcSlice::new(
                data.unwrap_or_else(|| Rc::from(&[][..])),
                LittleEndian,
            ))
        })
        .map_err(gerr)?;
        if let Some(e) = err {
            return Err(e);
        }
        let mut units = Vec::new();
        let mut it = dwarf.units();
        while let Some(h) = it.next().map_err(gerr)? {
            let off = h
                .offset()
                .as_debug_info_offset()
                .map(|o| o.0 as u64)
                .unwrap_or(0);
            units.push((off, dwarf.unit(h).map_err(gerr)?));
        }
        Ok(Some(GoDwarf {
            dwarf,
            units,
            vars: OnceCell::new(),
            rtypes: OnceCell::new(),
            named: RefCell::new(HashMap::new()),
            types: RefCell::new(HashMap::new()),
        }))
    }

    fn unit_of(&self, die: u64) -> Option<&(u64, Unit<R>)> {
        let i = self.units.partition_point(|(o, _)| *o <= die);
        (i > 0).then(|| &self.units[i - 1])
    }

    fn attr_str(&self, unit: &Unit<R>, v: AttributeValue<R>) -> Option<String> {
        self.dwarf.attr_string(unit, v).ok().map(|s| {
            s.to_string_lossy()
                .map(|c| c.into_owned())
                .unwrap_or_default()
        })
    }

    /// A reference attribute as a global DIE offset.
    fn reference(unit_off: u64, v: &AttributeValue<R>) -> Option<u64> {
        match v {
            AttributeValue::UnitRef(o) => Some(unit_off + o.0 as u64),
            AttributeValue::DebugInfoRef(DebugInfoOffset(o)) => Some(*o as u64),
            _ => None,
        }
    }

    /// Every package-level variable, by name.
    pub fn variables(&self) -> Result<&BTreeMap<String, Variable>, String> {
        self.vars
            .get_or_init(|| {
                let mut out = BTreeMap::new();
                for (uoff, unit) in &self.units {
                    let mut tree = unit.entries_tree(None).map_err(gerr)?;
                    let root = tree.root().map_err(gerr)?;
                    let mut children = root.children();
                    while let Some(child) = children.next().map_err(gerr)? {
                        let e = child.entry();
                        if e.tag() != gimli::DW_TAG_variable {
                            continue;
                        }
                        let Some(name) = e
                            .attr_value(gimli::DW_AT_name)
                            .ok()
                            .flatten()
                            .and_then(|v| self.attr_str(unit, v))
                        else {
                            continue;
                        };
                        let Some(ty) = e
                            .attr_value(gimli::DW_AT_type)
                            .ok()
                            .flatten()
                            .and_then(|v| Self::reference(*uoff, &v))
                        else {
                            continue;
                        };
                        let addr = match e.attr_value(gimli::DW_AT_location).ok().flatten() {
                            Some(AttributeValue::Exprloc(expr)) => {
                                let b = expr.0.to_slice().map_err(gerr)?;
                                // DW_OP_addr <8 bytes>
                                if b.len() == 9 && b[0] == 0x03 {
                                    u64::from_le_bytes(b[1..9].try_into().expect("8"))
                                } else {
                                    continue;
                                }
                            }
                            _ => continue,
                        };
                        out.insert(name.clone(), Variable { name, addr, ty });
                    }
                }
                Ok(out)
            })
            .as_ref()
            .map_err(|e| e.clone())
    }

    /// The type at a DIE offset, built once.
    pub fn type_at(&self, die: u64) -> Result<Rc<Type>, String> {
        self.type_at_depth(die, 0)
    }

    fn type_at_depth(&self, die: u64, depth: u32) -> Result<Rc<Type>, String> {
        if let Some(t) = self.types.borrow().get(&die) {
            return Ok(t.clone());
        }
        if depth > 64 {
            return Err(format!(
                "type at DIE {die:#x} nests more than 64 levels deep"
            ));
        }
        let t = Rc::new(self.build_type(die, depth)?);
        self.types.borrow_mut().insert(die, t.clone());
        Ok(t)
    }

    fn build_type(&self, die: u64, depth: u32) -> Result<Type, String> {
        let (uoff, unit) = self
            .unit_of(die)
            .ok_or_else(|| format!("no DWARF unit holds DIE {die:#x}"))?;
        let uo = UnitOffset((die - uoff) as usize);
        let e = unit.entry(uo).map_err(gerr)?;
        let attr = |a: DwAt| e.attr_value(a).ok().flatten();
        let name = attr(gimli::DW_AT_name)
            .and_then(|v| self.attr_str(unit, v))
            .unwrap_or_default();
        let size = attr(gimli::DW_AT_byte_size)
            .and_then(|v| v.udata_value())
            .unwrap_or(0);
        let go_kind = attr(AT_GO_KIND).and_then(|v| v.udata_value()).unwrap_or(0);
        let target = attr(gimli::DW_AT_type).and_then(|v| Self::reference(*uoff, &v));
        let go_ref = |a: DwAt| attr(a).and_then(|v| Self::reference(*uoff, &v));
        let mk = |kind: Kind, size: u64| Type {
            name: name.clone(),
            size,
            kind,
            die,
        };
        let tag = e.tag();
        Ok(match tag {
            gimli::DW_TAG_base_type => {
                let enc = attr(gimli::DW_AT_encoding).and_then(|v| match v {
                    AttributeValue::Encoding(e) => Some(e.0),
                    _ => None,
                });
                let k = match go_kind {
                    kind::BOOL => Kind::Bool,
                    kind::INT..=kind::INT64 => Kind::Int,
                    kind::UINT..=kind::UINTPTR => Kind::Uint,
                    kind::FLOAT32 | kind::FLOAT64 => Kind::Float,
                    kind::COMPLEX64 | kind::COMPLEX128 => Kind::Complex,
                    kind::UNSAFE_POINTER => Kind::Pointer { target: None },
                    _ => match enc {
                        Some(0x02) => Kind::Bool,
                        Some(0x04) => Kind::Float,
                        Some(0x03) => Kind::Complex,
                        Some(0x05) | Some(0x06) => Kind::Int,
                        Some(0x07) | Some(0x08) => Kind::Uint,
                        _ => Kind::Other,
                    },
                };
                mk(k, size)
            }
            gimli::DW_TAG_pointer_type => {
                let k = if go_kind == kind::UNSAFE_POINTER {
                    Kind::Pointer { target: None }
                } else {
                    Kind::Pointer { target }
                };
                mk(k, 8)
            }
            gimli::DW_TAG_subroutine_type => mk(Kind::Func, 8),
            gimli::DW_TAG_array_type => {
                let elem = target.ok_or_else(|| format!("array type {name} has no elem type"))?;
                let elem = self.type_at_depth(elem, depth + 1)?;
                let mut len = None;
                let mut tree = unit.entries_tree(Some(uo)).map_err(gerr)?;
                let root = tree.root().map_err(gerr)?;
                let mut ch = root.children();
                while let Some(c) = ch.next().map_err(gerr)? {
                    let ce = c.entry();
                    if ce.tag() == gimli::DW_TAG_subrange_type {
                        len = ce
                            .attr_value(gimli::DW_AT_count)
                            .ok()
                            .flatten()
                            .and_then(|v| v.udata_value())
                            .or_else(|| {
                                ce.attr_value(gimli::DW_AT_upper_bound)
                                    .ok()
                                    .flatten()
                                    .and_then(|v| v.udata_value())
                                    .map(|u| u + 1)
                            });
                    }
                }
                let len = len.unwrap_or(size.checked_div(elem.size).unwrap_or(0));
                let size = if size == 0 { len * elem.size } else { size };
                mk(Kind::Array { elem, len }, size)
            }
            gimli::DW_TAG_structure_type => {
                if go_kind == kind::STRING || (go_kind == 0 && name == "string") {
                    return Ok(mk(Kind::String, 16));
                }
                if go_kind == kind::SLICE {
                    return Ok(mk(
                        Kind::Slice {
                            elem: go_ref(AT_GO_ELEM),
                        },
                        24,
                    ));
                }
                let mut fields = Vec::new();
                let mut tree = unit.entries_tree(Some(uo)).map_err(gerr)?;
                let root = tree.root().map_err(gerr)?;
                let mut ch = root.children();
                while let Some(c) = ch.next().map_err(gerr)? {
                    let ce = c.entry();
                    if ce.tag() != gimli::DW_TAG_member {
                        continue;
                    }
                    let fname = ce
                        .attr_value(gimli::DW_AT_name)
                        .ok()
                        .flatten()
                        .and_then(|v| self.attr_str(unit, v))
                        .unwrap_or_default();
                    let offset = ce
                        .attr_value(gimli::DW_AT_data_member_location)
                        .ok()
                        .flatten()
                        .and_then(|v| v.udata_value())
                        .unwrap_or(0);
                    let fty = ce
                        .attr_value(gimli::DW_AT_type)
                        .ok()
                        .flatten()
                        .and_then(|v| Self::reference(*uoff, &v))
                        .ok_or_else(|| format!("field {name}.{fname} has no type"))?;
                    fields.push(Field {
                        name: fname,
                        offset,
                        ty: self.type_at_depth(fty, depth + 1)?,
                    });
                }
                mk(Kind::Struct { fields }, size)
            }
            gimli::DW_TAG_typedef => match go_kind {
                kind::MAP => {
                    let header = match target {
                        Some(p) => match self.type_at_depth(p, depth + 1)?.kind {
                            Kind::Pointer { target } => target,
                            _ => None,
                        },
                        None => None,
                    };
                    let runtime_type = attr(AT_GO_RUNTIME_TYPE)
                        .and_then(|v| match v {
                            AttributeValue::Addr(a) => Some(a),
                            other => other.udata_value(),
                        })
                        .filter(|&v| v != 0);
                    mk(
                        Kind::Map {
                            key: go_ref(AT_GO_KEY)
                                .ok_or_else(|| format!("map type {name} has no key type"))?,
                            elem: go_ref(AT_GO_ELEM)
                                .ok_or_else(|| format!("map type {name} has no elem type"))?,
                            header,
                            runtime_type,
                        },
                        8,
                    )
                }
                kind::CHAN => mk(Kind::Chan, 8),
                kind::FUNC => mk(Kind::Func, 8),
                kind::INTERFACE => {
                    // runtime.eface {_type, data} or runtime.iface {tab, data}.
                    let empty = match target {
                        Some(t) => match &self.type_at_depth(t, depth + 1)?.kind {
                            Kind::Struct { fields } => {
                                fields.first().map_or(true, |f| f.name != "tab")
                            }
                            _ => true,
                        },
                        None => true,
                    };
                    mk(Kind::Interface { empty }, 16)
                }
                _ => {
                    // A name for another type: the underlying type under this name.
                    let t = target.ok_or_else(|| format!("typedef {name} has no type"))?;
                    let u = self.type_at_depth(t, depth + 1)?;
                    if matches!(u.kind, Kind::Interface { .. }) || name.is_empty() {
                        // `runtime.eface`/`runtime.iface` typedefs: keep the struct view.
                        return Ok(Type {
                            name: if name.is_empty() {
                                u.name.clone()
                            } else {
                                name
                            },
                            size: u.size,
                            kind: rebuild(&u.kind),
                            die,
                        });
                    }
                    Type {
                        name,
                        size: u.size,
                        kind: rebuild(&u.kind),
                        die,
                    }
                }
            },
            _ => mk(Kind::Other, size),
        })
    }

    /// The DIE of the struct type named `name` (`internal/abi.MapType`), if a unit declares
    /// one at its top level. The first lookup of a name scans the units' top-level entries.
    pub fn struct_named(&self, name: &str) -> Option<u64> {
        if let Some(v) = self.named.borrow().get(name) {
            return *v;
        }
        let mut found = None;
        'units: for (uoff, unit) in &self.units {
            let Ok(mut tree) = unit.entries_tree(None) else {
                continue;
            };
            let Ok(root) = tree.root() else { continue };
            let mut ch = root.children();
            while let Ok(Some(c)) = ch.next() {
                let e = c.entry();
                if e.tag() != gimli::DW_TAG_structure_type {
                    continue;
                }
                let n = e
                    .attr_value(gimli::DW_AT_name)
                    .ok()
                    .flatten()
                    .and_then(|v| self.attr_str(unit, v));
                if n.as_deref() == Some(name) {
                    found = Some(uoff + e.offset().0 as u64);
                    break 'units;
                }
            }
        }
        self.named.borrow_mut().insert(name.to_string(), found);
        found
    }

    /// The DIE of the type whose runtime descriptor is at offset `off` from `runtime.types`
    /// (attribute `0x2904`).
    pub fn type_by_runtime_offset(&self, off: u64) -> Option<u64> {
        self.rtypes
            .get_or_init(|| {
                let mut m = HashMap::new();
                for (uoff, unit) in &self.units {
                    let Ok(mut tree) = unit.entries_tree(None) else {
                        continue;
                    };
                    let Ok(root) = tree.root() else { continue };
                    let mut ch = root.children();
                    while let Ok(Some(c)) = ch.next() {
                        let e = c.entry();
                        if let Some(v) =
                            e.attr_value(AT_GO_RUNTIME_TYPE)
                                .ok()
                                .flatten()
                                .and_then(|v| match v {
                                    AttributeValue::Addr(a) => Some(a),
                                    other => other.udata_value(),
                                })
                        {
                            if v != 0 {
                                m.entry(v).or_insert(uoff + e.offset().0 as u64);
                            }
                        }
                    }
                }
                m
            })
            .get(&off)
            .copied()
    }
}

/// A copy of a kind (types are shared through `Rc`; a typedef takes its target's kind).
fn rebuild(k: &Kind) -> Kind {
    match k {
        Kind::Bool => Kind::Bool,
        Kind::Int => Kind::Int,
        Kind::Uint => Kind::Uint,
        Kind::Float => Kind::Float,
        Kind::Complex => Kind::Complex,
        Kind::String => Kind::String,
        Kind::Array { elem, len } => Kind::Array {
            elem: elem.clone(),
            len: *len,
        },
        Kind::Struct { fields } => Kind::Struct {
            fields: fields
                .iter()
                .map(|f| Field {
                    name: f.name.clone(),
                    offset: f.offset,
                    ty: f.ty.clone(),
                })
                .collect(),
        },
        Kind::Pointer { target } => Kind::Pointer { target: *target },
        Kind::Slice { elem } => Kind::Slice { elem: *elem },
        Kind::Interface { empty } => Kind::Interface { empty: *empty },
        Kind::Map {
            key,
            elem,
            header,
            runtime_type,
        } => Kind::Map {
            key: *key,
            elem: *elem,
            header: *header,
            runtime_type: *runtime_type,
        },
        Kind::Chan => Kind::Chan,
        Kind::Func => Kind::Func,
        Kind::Other => Kind::Other,
    }
}
