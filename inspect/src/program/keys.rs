//! Map keys: how Go hashes and compares a key type, and keys written in Go syntax.
//!
//! The Go compiler gives every map key type a hasher (`maptype.hasher`). Which runtime hash
//! functions it calls, on which bytes and in what order, follows from the type alone:
//!
//! * **Go 1.19–1.26** (`cmd/compile/internal/reflectdata.genhash`): a type made only of plain
//!   memory (integers, bools, pointers, channels, and arrays and structs of them without
//!   padding or blank fields) is hashed in one call: `memhash0` (the seed itself) for 0 bytes,
//!   `memhash32`/`memhash64` for 4 and 8 bytes, `memhash` for any other size. `string`,
//!   `float32/64` and `complex64/128` have their own functions. Any other struct is hashed
//!   field by field: blank fields are skipped, each maximal run of plain-memory fields that
//!   padding does not interrupt is one `memhash(p+off, h, len)` (even of 4 or 8 bytes), and
//!   every other field gets its own type's hasher; an array of such elements hashes each
//!   element in turn. Each call's result is the next call's seed.
//! * **Go 1.27+** (`genhashSig`): the type is flattened into an equality signature, where
//!   adjacent plain memory merges across struct boundaries and padding and blank fields are
//!   skipped; each memory run of 4 or 8 bytes is hashed with `memhash32`/`memhash64`, others
//!   with `memhash`.
//!
//! Interface keys (whose hash depends on the dynamic type held) are not supported.
//!
//! [`KeyPlan`] is that sequence of calls for one type, with the runtime's equality on the same
//! bytes (floats compare as floats: ±0 equal, NaN never; strings by their contents; padding
//! ignored). [`KeyValue`] is a key's memory, with the contents of the strings it holds, read
//! from a map's slot or parsed from Go syntax by [`parse`].

use std::collections::BTreeMap;
use std::fmt;

use gomap::dynamic::GoType;

use super::dwarf::{Kind, Type};
use super::hash::{FloatHash, RuntimeHash};
use crate::source::MemoryReader;
use crate::values::ValueType;

/// A key type as far as hashing and parsing need it.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum KeyType {
    /// `bool`.
    Bool,
    /// A signed integer of `size` bytes.
    Int {
        /// 1, 2, 4, 8 (16 for Rust's `i128`).
        size: usize,
    },
    /// An unsigned integer of `size` bytes (`uintptr` too).
    Uint {
        /// 1, 2, 4, 8 (16 for Rust's `u128`).
        size: usize,
    },
    /// `float32` (4) or `float64` (8).
    Float {
        /// 4 or 8.
        size: usize,
    },
    /// `complex64` (8) or `complex128` (16).
    Complex {
        /// 8 or 16.
        size: usize,
    },
    /// `string`: a `(ptr, len)` header.
    String,
    /// A pointer, `unsafe.Pointer` or channel: an address, compared as memory.
    Pointer,
    /// Rust's `char` (gomap maps): 4 bytes of memory.
    Char,
    /// `[len]elem`.
    Array {
        /// The element type.
        elem: Box<KeyType>,
        /// The length.
        len: usize,
    },
    /// A struct.
    Struct {
        /// The fields in order.
        fields: Vec<KeyField>,
        /// The struct's size (with its tail padding).
        size: usize,
    },
    /// An interface (`empty`: `interface{}`/`any`).
    Interface {
        /// No methods.
        empty: bool,
    },
    /// A type Go cannot hash (slices, maps, funcs) or one this program cannot describe.
    Unhashable {
        /// What it is.
        what: String,
        /// Its size.
        size: usize,
    },
}

/// A struct field.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct KeyField {
    /// Its name (`_` for a blank field).
    pub name: String,
    /// Its offset.
    pub offset: usize,
    /// Its type.
    pub ty: KeyType,
}

impl KeyType {
    /// The size of a value.
    pub fn size(&self) -> usize {
        match self {
            KeyType::Bool => 1,
            KeyType::Int { size }
            | KeyType::Uint { size }
            | KeyType::Float { size }
            | KeyType::Complex { size } => *size,
            KeyType::String | KeyType::Interface { .. } => 16,
            KeyType::Pointer => 8,
            KeyType::Char => 4,
            KeyType::Array { elem, len } => elem.size().saturating_mul(*len),
            KeyType::Struct { size, .. } | KeyType::Unhashable { size, .. } => *size,
        }
    }

    /// The key type of a DWARF type.
    pub fn from_dwarf(t: &Type) -> KeyType {
        let size = t.size as usize;
        match &t.kind {
            Kind::Bool => KeyType::Bool,
            Kind::Int => KeyType::Int { size },
            Kind::Uint => KeyType::Uint { size },
            Kind::Float => KeyType::Float { size },
            Kind::Complex => KeyType::Complex { size },
            Kind::String => KeyType::String,
            Kind::Pointer { .. } | Kind::Chan => KeyType::Pointer,
            Kind::Array { elem, len } => KeyType::Array {
                elem: Box::new(KeyType::from_dwarf(elem)),
                len: *len as usize,
            },
            Kind::Struct { fields } => KeyType::Struct {
                fields: fields
                    .iter()
                    .map(|f| KeyField {
                        name: f.name.clone(),
                        offset: f.offset as usize,
                        ty: KeyType::from_dwarf(&f.ty),
                    })
                    .collect(),
                size,
            },
            Kind::Interface { empty } => KeyType::Interface { empty: *empty },
            Kind::Slice { .. } => KeyType::Unhashable {
                what: format!("{} (a slice)", t.name),
                size,
            },
            Kind::Map { .. } => KeyType::Unhashable {
                what: format!("{} (a map)", t.name),
                size,
            },
            Kind::Func => KeyType::Unhashable {
                what: format!("{} (a func)", t.name),
                size,
            },
            Kind::Other => KeyType::Unhashable {
                what: format!("{} (a type DWARF does not describe)", t.name),
                size,
            },
        }
    }

    /// The key type of a type given with `--types` or recorded in a snapshot.
    pub fn from_value_type(t: &ValueType) -> KeyType {
        match t {
            ValueType::Go(g) => match g {
                GoType::Bool => KeyType::Bool,
                GoType::Int8 | GoType::Int16 | GoType::Int32 | GoType::Int64 => {
                    KeyType::Int { size: g.size() }
                }
                GoType::Uint8 | GoType::Uint16 | GoType::Uint32 | GoType::Uint64 => {
                    KeyType::Uint { size: g.size() }
                }
                GoType::Float32 | GoType::Float64 => KeyType::Float { size: g.size() },
                GoType::String => KeyType::String,
                GoType::Bytes(n) => KeyType::Array {
                    elem: Box::new(KeyType::Uint { size: 1 }),
                    len: *n,
                },
            },
            ValueType::Char => KeyType::Char,
            ValueType::U128 => KeyType::Uint { size: 16 },
            ValueType::I128 => KeyType::Int { size: 16 },
            ValueType::Unit => KeyType::Struct {
                fields: Vec::new(),
                size: 0,
            },
            ValueType::Typed(tv) => KeyType::from_dwarf(&tv.ty),
            ValueType::Opaque { size, .. } => KeyType::Unhashable {
                what: "a type known only by its size (give --types)".into(),
                size: *size,
            },
        }
    }
}

/// The compiler's classification of a type for hashing and equality (`types.AlgKind`).
#[derive(Clone, Debug, PartialEq, Eq)]
enum Alg {
    /// Plain memory.
    Mem,
    F32,
    F64,
    C64,
    C128,
    Str,
    /// An interface (with methods, or empty).
    Inter,
    /// A struct or array that needs a generated function.
    Special,
    /// Not comparable.
    NoEq(String),
}

fn is_padded(fields: &[KeyField], size: usize, i: usize) -> bool {
    let end = fields[i].offset + fields[i].ty.size();
    let next = fields.get(i + 1).map_or(size, |f| f.offset);
    end != next
}

fn alg(t: &KeyType) -> Alg {
    match t {
        KeyType::Bool
        | KeyType::Int { .. }
        | KeyType::Uint { .. }
        | KeyType::Pointer
        | KeyType::Char => Alg::Mem,
        KeyType::Float { size: 4 } => Alg::F32,
        KeyType::Float { .. } => Alg::F64,
        KeyType::Complex { size: 8 } => Alg::C64,
        KeyType::Complex { .. } => Alg::C128,
        KeyType::String => Alg::Str,
        KeyType::Interface { .. } => Alg::Inter,
        KeyType::Unhashable { what, .. } => Alg::NoEq(what.clone()),
        KeyType::Array { elem, len } => match alg(elem) {
            Alg::Mem => Alg::Mem,
            e @ Alg::NoEq(_) => e,
            a => match len {
                0 => Alg::Mem,
                1 => a,
                _ => Alg::Special,
            },
        },
        KeyType::Struct { fields, size } => {
            if fields.len() == 1 && fields[0].name != "_" {
                return alg(&fields[0].ty);
            }
            let mut ret = Alg::Mem;
            for (i, f) in fields.iter().enumerate() {
                let a = alg(&f.ty);
                if let Alg::NoEq(_) = a {
                    return a;
                }
                if a != Alg::Mem || f.name == "_" || is_padded(fields, *size, i) {
                    ret = Alg::Special;
                }
            }
            ret
        }
    }
}

/// One call of a runtime hash function on part of a key, whose result seeds the next.
#[derive(Copy, Clone, Debug, PartialEq, Eq)]
pub enum Op {
    /// `memhash(p+off, h, len)`.
    Mem {
        /// Offset in the key.
        off: usize,
        /// Bytes.
        len: usize,
    },
    /// `memhash32(p+off, h)`.
    Mem32 {
        /// Offset in the key.
        off: usize,
    },
    /// `memhash64(p+off, h)`.
    Mem64 {
        /// Offset in the key.
        off: usize,
    },
    /// `f32hash(p+off, h)`.
    F32 {
        /// Offset in the key.
        off: usize,
    },
    /// `f64hash(p+off, h)`.
    F64 {
        /// Offset in the key.
        off: usize,
    },
    /// `strhash(p+off, h)`.
    Str {
        /// Offset in the key.
        off: usize,
    },
}

impl fmt::Display for Op {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Op::Mem { off, len } => write!(f, "memhash(+{off}, {len})"),
            Op::Mem32 { off } => write!(f, "memhash32(+{off})"),
            Op::Mem64 { off } => write!(f, "memhash64(+{off})"),
            Op::F32 { off } => write!(f, "f32hash(+{off})"),
            Op::F64 { off } => write!(f, "f64hash(+{off})"),
            Op::Str { off } => write!(f, "strhash(+{off})"),
        }
    }
}

/// Which compiler's rules make a type's hasher.
#[derive(Copy, Clone, Debug, PartialEq, Eq)]
pub enum Rules {
    /// Go 1.19–1.26: `genhash` by algorithm kind.
    Genhash,
    /// Go 1.27+: `genhashSig` over the flattened equality signature.
    Signature,
}

impl Rules {
    /// The rules of Go 1.`minor`.
    pub fn for_minor(minor: u32) -> Rules {
        if minor >= 27 {
            Rules::Signature
        } else {
            Rules::Genhash
        }
    }
}

/// How Go hashes and compares keys of one type.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct KeyPlan {
    /// The type.
    pub ty: KeyType,
    /// The hash calls, in order.
    pub ops: Vec<Op>,
}

/// Why a key type cannot be hashed.
pub fn unsupported_interface() -> String {
    "interface keys are not supported: Go hashes an interface key with the hasher of the \
     dynamic type it holds (interhash/nilinterhash), which check and get do not compute"
        .into()
}

impl KeyPlan {
    /// The plan for `ty` under `rules`, or why it cannot be made (interface keys,
    /// uncomparable types).
    pub fn new(ty: &KeyType, rules: Rules) -> Result<KeyPlan, String> {
        let mut ops = Vec::new();
        match rules {
            Rules::Genhash => genhash(ty, 0, &mut ops)?,
            Rules::Signature => {
                check_hashable(ty)?;
                let mut s = SigBuilder::default();
                s.build(ty, 0);
                s.flush();
                ops = s.ops;
            }
        }
        Ok(KeyPlan {
            ty: ty.clone(),
            ops,
        })
    }

    /// The key's size.
    pub fn size(&self) -> usize {
        self.ty.size()
    }

    /// The plan as text: `memhash64(+0)`, `strhash(+0), memhash(+16, 8)`.
    pub fn describe(&self) -> String {
        if self.ops.is_empty() {
            return "memhash0 (the seed itself)".into();
        }
        self.ops
            .iter()
            .map(|o| o.to_string())
            .collect::<Vec<_>>()
            .join(", ")
    }

    /// The offsets of the strings a key holds.
    pub fn string_offsets(&self) -> impl Iterator<Item = usize> + '_ {
        self.ops.iter().filter_map(|o| match o {
            Op::Str { off } => Some(*off),
            _ => None,
        })
    }

    /// Whether every key equals itself (no floats: Go's `reflexivekey`).
    pub fn reflexive(&self) -> bool {
        !self
            .ops
            .iter()
            .any(|o| matches!(o, Op::F32 { .. } | Op::F64 { .. }))
    }

    /// The hash of `k` with `seed` (`None`: `k` holds a NaN, which Go hashes randomly).
    pub fn hash(&self, k: &KeyValue, h: &RuntimeHash, seed: u64) -> Option<u64> {
        let mut s = seed;
        for op in &self.ops {
            s = match *op {
                Op::Mem { off, len } => h.memhash(&k.bytes[off..off + len], s),
                Op::Mem32 { off } => h.memhash32(k.u32_at(off), s),
                Op::Mem64 { off } => h.memhash64(k.u64_at(off), s),
                Op::F32 { off } => match h.f32hash(k.u32_at(off), s) {
                    FloatHash::Hash(x) => x,
                    FloatHash::Random => return None,
                },
                Op::F64 { off } => match h.f64hash(k.u64_at(off), s) {
                    FloatHash::Hash(x) => x,
                    FloatHash::Random => return None,
                },
                Op::Str { off } => h.strhash(k.string_at(off), s),
            };
        }
        Some(s)
    }

    /// Go's `==` on two keys of this type.
    pub fn equal(&self, a: &KeyValue, b: &KeyValue) -> bool {
        self.ops.iter().all(|op| match *op {
            Op::Mem { off, len } => a.bytes[off..off + len] == b.bytes[off..off + len],
            Op::Mem32 { off } => a.u32_at(off) == b.u32_at(off),
            Op::Mem64 { off } => a.u64_at(off) == b.u64_at(off),
            Op::F32 { off } => f32::from_bits(a.u32_at(off)) == f32::from_bits(b.u32_at(off)),
            Op::F64 { off } => f64::from_bits(a.u64_at(off)) == f64::from_bits(b.u64_at(off)),
            Op::Str { off } => a.string_at(off) == b.string_at(off),
        })
    }

    /// A byte string that two keys share exactly when they are `==` (`None` for a key that
    /// holds a NaN, which equals nothing).
    pub fn canonical(&self, k: &KeyValue) -> Option<Vec<u8>> {
        let mut out = Vec::new();
        for op in &self.ops {
            match *op {
                Op::Mem { off, len } => out.extend_from_slice(&k.bytes[off..off + len]),
                Op::Mem32 { off } => out.extend_from_slice(&k.bytes[off..off + 4]),
                Op::Mem64 { off } => out.extend_from_slice(&k.bytes[off..off + 8]),
                Op::F32 { off } => {
                    let f = f32::from_bits(k.u32_at(off));
                    if f.is_nan() {
                        return None;
                    }
                    out.extend_from_slice(&(f + 0.0).to_bits().to_le_bytes());
                }
                Op::F64 { off } => {
                    let f = f64::from_bits(k.u64_at(off));
                    if f.is_nan() {
                        return None;
                    }
                    out.extend_from_slice(&(f + 0.0).to_bits().to_le_bytes());
                }
                Op::Str { off } => {
                    let s = k.string_at(off);
                    out.extend_from_slice(&(s.len() as u64).to_le_bytes());
                    out.extend_from_slice(s);
                }
            }
        }
        Some(out)
    }

    /// Reads a stored key: its `bytes` (a slot, or what an indirect slot points to), and the
    /// contents of its strings through `r`, each at most `max_string` bytes.
    pub fn read_key<R: MemoryReader + ?Sized>(
        &self,
        bytes: &[u8],
        r: &R,
        max_string: u64,
    ) -> Result<KeyValue, String> {
        if bytes.len() != self.size() {
            return Err(format!(
                "a key of {} bytes, but the type has {}",
                bytes.len(),
                self.size()
            ));
        }
        let mut k = KeyValue {
            bytes: bytes.to_vec(),
            strings: BTreeMap::new(),
        };
        for off in self.string_offsets().collect::<Vec<_>>() {
            let p = k.u64_at(off);
            let n = k.u64_at(off + 8);
            if n == 0 {
                k.strings.insert(off, Vec::new());
                continue;
            }
            if n > max_string {
                return Err(format!(
                    "a string of {n} bytes at {p:#x} (more than the {max_string} allowed)"
                ));
            }
            if p == 0 {
                return Err(format!("a string of {n} bytes at nil"));
            }
            let s = r
                .read_vec(p, n as usize)
                .map_err(|e| format!("the string's bytes: {e}"))?;
            k.strings.insert(off, s);
        }
        Ok(k)
    }
}

/// Refuses interfaces and uncomparable types anywhere in a key type.
fn check_hashable(t: &KeyType) -> Result<(), String> {
    match t {
        KeyType::Interface { .. } => Err(unsupported_interface()),
        KeyType::Unhashable { what, .. } => Err(format!("{what} cannot be hashed")),
        KeyType::Array { elem, .. } => check_hashable(elem),
        KeyType::Struct { fields, .. } => fields.iter().try_for_each(|f| check_hashable(&f.ty)),
        _ => Ok(()),
    }
}

/// `genhash(t)` placed at `off`: the hasher of a whole value of type `t`.
fn genhash(t: &KeyType, off: usize, ops: &mut Vec<Op>) -> Result<(), String> {
    match alg(t) {
        Alg::Mem => match t.size() {
            0 => {}
            4 => ops.push(Op::Mem32 { off }),
            8 => ops.push(Op::Mem64 { off }),
            n => ops.push(Op::Mem { off, len: n }),
        },
        Alg::F32 => ops.push(Op::F32 { off }),
        Alg::F64 => ops.push(Op::F64 { off }),
        Alg::C64 => ops.extend([Op::F32 { off }, Op::F32 { off: off + 4 }]),
        Alg::C128 => ops.extend([Op::F64 { off }, Op::F64 { off: off + 8 }]),
        Alg::Str => ops.push(Op::Str { off }),
        Alg::Inter => return Err(unsupported_interface()),
        Alg::NoEq(what) => return Err(format!("{what} cannot be hashed")),
        Alg::Special => match t {
            KeyType::Array { elem, len } => {
                let es = elem.size();
                for i in 0..*len {
                    genhash(elem, off + i * es, ops)?;
                }
            }
            KeyType::Struct { fields, size } => {
                let mut i = 0;
                while i < fields.len() {
                    let f = &fields[i];
                    if f.name == "_" {
                        i += 1;
                        continue;
                    }
                    if alg(&f.ty) != Alg::Mem {
                        genhash(&f.ty, off + f.offset, ops)?;
                        i += 1;
                        continue;
                    }
                    // A maximal run of plain memory (compare.Memrun): it ends after a padded
                    // field and before a blank or non-memory field.
                    let start = i;
                    let mut next = i;
                    loop {
                        next += 1;
                        if next == fields.len() || is_padded(fields, *size, next - 1) {
                            break;
                        }
                        let g = &fields[next];
                        if g.name == "_" || alg(&g.ty) != Alg::Mem {
                            break;
                        }
                    }
                    let last = &fields[next - 1];
                    let len = last.offset + last.ty.size() - fields[start].offset;
                    ops.push(Op::Mem {
                        off: off + fields[start].offset,
                        len,
                    });
                    i = next;
                }
            }
            _ => unreachable!("only arrays and structs are special"),
        },
    }
    Ok(())
}

/// Go 1.27's equality signature (`eqSigBuilder`), turned straight into hash calls: queued
/// plain memory merges until something else comes; skipped bytes only move the offset.
#[derive(Default)]
struct SigBuilder {
    ops: Vec<Op>,
    /// Start and length of the queued run of plain memory.
    run: Option<(usize, usize)>,
}

impl SigBuilder {
    fn flush(&mut self) {
        if let Some((off, len)) = self.run.take() {
            if len > 0 {
                self.ops.push(match len {
                    4 => Op::Mem32 { off },
                    8 => Op::Mem64 { off },
                    _ => Op::Mem { off, len },
                });
            }
        }
    }
    fn regular(&mut self, off: usize, n: usize) {
        match &mut self.run {
            Some((start, len)) if *start + *len == off => *len += n,
            _ => {
                self.flush();
                self.run = Some((off, n));
            }
        }
    }
    fn special(&mut self, op: Op) {
        self.flush();
        self.ops.push(op);
    }
    fn build(&mut self, t: &KeyType, off: usize) {
        match t {
            KeyType::Bool
            | KeyType::Int { .. }
            | KeyType::Uint { .. }
            | KeyType::Pointer
            | KeyType::Char => self.regular(off, t.size()),
            KeyType::Float { size: 4 } => self.special(Op::F32 { off }),
            KeyType::Float { .. } => self.special(Op::F64 { off }),
            KeyType::Complex { size: 8 } => {
                self.special(Op::F32 { off });
                self.special(Op::F32 { off: off + 4 });
            }
            KeyType::Complex { .. } => {
                self.special(Op::F64 { off });
                self.special(Op::F64 { off: off + 8 });
            }
            KeyType::String => self.special(Op::Str { off }),
            KeyType::Struct { fields, .. } => {
                for f in fields.iter().filter(|f| f.name != "_") {
                    self.build(&f.ty, off + f.offset);
                }
            }
            KeyType::Array { elem, len } => {
                if alg(t) == Alg::Mem {
                    self.regular(off, t.size());
                    return;
                }
                let es = elem.size();
                if es == 0 {
                    return;
                }
                // The signature unrolls the element loop so that each iteration covers about
                // 32 bytes; the leftover elements come first, each iteration's merged runs stop
                // at the iteration's end (the loop body is its own function).
                let n = *len;
                let unroll = (32 / es).max(1);
                let lead = n % unroll;
                for i in 0..lead {
                    self.build(elem, off + i * es);
                }
                let rest = n - lead;
                if rest == 0 {
                    return;
                }
                if rest == unroll {
                    for i in lead..n {
                        self.build(elem, off + i * es);
                    }
                    return;
                }
                for it in 0..rest / unroll {
                    self.flush();
                    for j in 0..unroll {
                        self.build(elem, off + (lead + it * unroll + j) * es);
                    }
                    self.flush();
                }
            }
            KeyType::Interface { .. } | KeyType::Unhashable { .. } => {
                unreachable!("check_hashable refused it")
            }
        }
    }
}

/// A key's memory, with the contents of the strings it holds (by offset).
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct KeyValue {
    /// The key's bytes (a string's header bytes are whatever the slot holds; the contents
    /// are in `strings`).
    pub bytes: Vec<u8>,
    /// The contents of each string, by the offset of its header.
    pub strings: BTreeMap<usize, Vec<u8>>,
}

impl KeyValue {
    fn u32_at(&self, off: usize) -> u32 {
        u32::from_le_bytes(self.bytes[off..off + 4].try_into().expect("4 bytes"))
    }
    fn u64_at(&self, off: usize) -> u64 {
        u64::from_le_bytes(self.bytes[off..off + 8].try_into().expect("8 bytes"))
    }
    fn string_at(&self, off: usize) -> &[u8] {
        self.strings.get(&off).map_or(&[][..], |s| &s[..])
    }
}

// ---------------------------------------------------------------------------------------------
// Keys in Go syntax.

/// Parses a key written in Go syntax for type `ty`: `42`, `-7`, `0x2a`, `'a'`, `"abc"`,
/// `` `raw` ``, `1.5`, `-0`, `+Inf`, `NaN`, `true`, `(1+2i)`, `nil`, `0xc000012345`,
/// `[3]byte{1, 2, 3}` (or `{1 2 3}`, or `"abc"` for a byte array: zero-padded),
/// `{A:1 B:"x"}`, `main.Key{A:1, B:"x"}` (what `fmt.Printf("%#v")` prints). A composite
/// literal's type name is optional and not checked; struct fields are all given in order, or
/// by name (those left out are zero).
pub fn parse(text: &str, ty: &KeyType) -> Result<KeyValue, String> {
    let mut p = Parser {
        s: text,
        at: 0,
        out: KeyValue {
            bytes: vec![0; ty.size()],
            strings: BTreeMap::new(),
        },
    };
    p.value(ty, 0)?;
    p.ws();
    if p.at != text.len() {
        return Err(p.err(&format!(
            "unexpected {:?} after the key",
            p.rest().chars().take(20).collect::<String>()
        )));
    }
    Ok(p.out)
}

/// A short name of a key type for messages.
pub fn type_name(t: &KeyType) -> String {
    match t {
        KeyType::Bool => "bool".into(),
        KeyType::Int { size } => format!("int{}", size * 8),
        KeyType::Uint { size } => format!("uint{}", size * 8),
        KeyType::Float { size } => format!("float{}", size * 8),
        KeyType::Complex { size } => format!("complex{}", size * 8),
        KeyType::String => "string".into(),
        KeyType::Pointer => "pointer".into(),
        KeyType::Char => "char".into(),
        KeyType::Array { elem, len } => format!("[{len}]{}", type_name(elem)),
        KeyType::Struct { fields, .. } => format!(
            "struct{{{}}}",
            fields
                .iter()
                .map(|f| format!("{} {}", f.name, type_name(&f.ty)))
                .collect::<Vec<_>>()
                .join("; ")
        ),
        KeyType::Interface { .. } => "interface".into(),
        KeyType::Unhashable { what, .. } => what.clone(),
    }
}

struct Parser<'a> {
    s: &'a str,
    at: usize,
    out: KeyValue,
}

impl Parser<'_> {
    fn rest(&self) -> &str {
        &self.s[self.at..]
    }
    fn err(&self, msg: &str) -> String {
        format!("key {:?}, at byte {}: {msg}", self.s, self.at)
    }
    fn ws(&mut self) {
        let r = self.rest();
        self.at += r.len() - r.trim_start().len();
    }
    fn peek(&self) -> Option<char> {
        self.rest().chars().next()
    }
    fn eat(&mut self, c: char) -> bool {
        self.ws();
        if self.peek() == Some(c) {
            self.at += c.len_utf8();
            true
        } else {
            false
        }
    }
    /// A token of letters, digits, `_`, `.`, `+`, `-` (numbers, identifiers, `+Inf`).
    fn word(&mut self) -> &str {
        self.ws();
        let r = self.rest();
        let mut n = 0;
        for (i, c) in r.char_indices() {
            let sign_ok = (c == '+' || c == '-')
                && (i == 0 || matches!(r[..i].chars().last(), Some('e' | 'E' | 'p' | 'P')));
            if c.is_alphanumeric() || c == '_' || c == '.' || sign_ok {
                n = i + c.len_utf8();
            } else {
                break;
            }
        }
        let w = &self.s[self.at..self.at + n];
        self.at += n;
        w
    }

    fn put(&mut self, off: usize, bytes: &[u8]) {
        self.out.bytes[off..off + bytes.len()].copy_from_slice(bytes);
    }

    /// Skips a conversion around a scalar: `uint8(3)`, `(*int)(0xc0000)`, `main.ID(7)`;
    /// returns whether a closing parenthesis is due.
    fn conversion(&mut self) -> bool {
        self.ws();
        let r = self.rest();
        if r.starts_with('(') {
            // `(*T)(x)`: a parenthesized type followed by `(`.
            if let Some(i) = r.find(")(") {
                if !r[..i].contains(['"', '\'']) && (r.starts_with("(*") || r.starts_with("(func"))
                {
                    self.at += i + 2;
                    return true;
                }
            }
            return false;
        }
        let n = r
            .char_indices()
            .find(|(_, c)| !(c.is_alphanumeric() || *c == '_' || *c == '.' || *c == '*'))
            .map_or(r.len(), |(i, _)| i);
        if n > 0 && r[n..].starts_with('(') && r.chars().next().is_some_and(|c| c.is_alphabetic()) {
            self.at += n + 1;
            return true;
        }
        false
    }

    fn value(&mut self, ty: &KeyType, off: usize) -> Result<(), String> {
        self.ws();
        match ty {
            KeyType::Interface { .. } => Err(unsupported_interface()),
            KeyType::Unhashable { what, .. } => Err(format!("{what} is not a key type")),
            KeyType::Array { elem, len } => self.array(elem, *len, off),
            KeyType::Struct { fields, .. } => self.structure(fields, off),
            KeyType::String => {
                let s = self.string()?;
                self.out.strings.insert(off, s);
                Ok(())
            }
            _ => {
                let close = self.conversion();
                self.scalar(ty, off)?;
                if close && !self.eat(')') {
                    return Err(self.err("expected ')' closing the conversion"));
                }
                Ok(())
            }
        }
    }

    fn scalar(&mut self, ty: &KeyType, off: usize) -> Result<(), String> {
        match ty {
            KeyType::Bool => match self.word().to_string().as_str() {
                "true" => {
                    self.put(off, &[1]);
                    Ok(())
                }
                "false" => Ok(()),
                w => Err(self.err(&format!("expected true or false for a bool, not {w:?}"))),
            },
            KeyType::Int { size } => {
                let v = self.integer()?;
                let bits = *size as u32 * 8;
                let (min, max) = if bits >= 128 {
                    (i128::MIN, i128::MAX)
                } else {
                    (-(1i128 << (bits - 1)), (1i128 << (bits - 1)) - 1)
                };
                if v < min || v > max {
                    return Err(self.err(&format!("{v} does not fit in int{bits}")));
                }
                let b = v.to_le_bytes();
                self.put(off, &b[..*size]);
                Ok(())
            }
            KeyType::Uint { .. } | KeyType::Pointer | KeyType::Char => {
                let size = ty.size();
                if matches!(ty, KeyType::Pointer) {
                    self.ws();
                    if self.rest().starts_with("nil") {
                        self.at += 3;
                        return Ok(());
                    }
                }
                let v = self.integer()?;
                let bits = size as u32 * 8;
                let ok = v >= 0 && (bits >= 128 || v < (1i128 << bits));
                if !ok {
                    return Err(self.err(&format!(
                        "{v} does not fit in {}",
                        type_name(&KeyType::Uint { size })
                    )));
                }
                if matches!(ty, KeyType::Char) && char::from_u32(v as u32).is_none() {
                    return Err(self.err(&format!("{v:#x} is not a Unicode scalar value")));
                }
                let b = v.to_le_bytes();
                self.put(off, &b[..size]);
                Ok(())
            }
            KeyType::Float { size } => {
                let w = self.word().to_string();
                if *size == 4 {
                    let f =
                        parse_f32(&w).ok_or_else(|| self.err(&format!("{w:?} is not a float")))?;
                    self.put(off, &f.to_bits().to_le_bytes());
                } else {
                    let f =
                        parse_f64(&w).ok_or_else(|| self.err(&format!("{w:?} is not a float")))?;
                    self.put(off, &f.to_bits().to_le_bytes());
                }
                Ok(())
            }
            KeyType::Complex { size } => {
                let half = size / 2;
                let paren = self.eat('(');
                self.ws();
                let r = self.rest();
                let n = r
                    .char_indices()
                    .find(|(_, c)| !(c.is_alphanumeric() || matches!(c, '.' | '+' | '-' | '_')))
                    .map_or(r.len(), |(i, _)| i);
                let w = r[..n].to_string();
                self.at += n;
                // `1+2i`, `-0.5-1e3i`, `2i`, `3`: split before the imaginary part's sign.
                let (re, im) = split_complex(&w)
                    .ok_or_else(|| self.err(&format!("{w:?} is not a complex number")))?;
                if paren && !self.eat(')') {
                    return Err(self.err("expected ')' after the complex number"));
                }
                for (i, part) in [re, im].into_iter().enumerate() {
                    let at = off + i * half;
                    if half == 4 {
                        let f = parse_f32(part)
                            .ok_or_else(|| self.err(&format!("{part:?} is not a float")))?;
                        self.put(at, &f.to_bits().to_le_bytes());
                    } else {
                        let f = parse_f64(part)
                            .ok_or_else(|| self.err(&format!("{part:?} is not a float")))?;
                        self.put(at, &f.to_bits().to_le_bytes());
                    }
                }
                Ok(())
            }
            _ => unreachable!("composites are parsed elsewhere"),
        }
    }

    /// An integer literal (decimal, 0x, 0o, 0b, leading-0 octal, `_` separators, a sign) or a
    /// rune literal.
    fn integer(&mut self) -> Result<i128, String> {
        self.ws();
        if self.peek() == Some('\'') {
            let b = self.quoted('\'')?;
            let s = String::from_utf8(b.clone()).ok();
            let mut cs = s.as_deref().map(|s| s.chars());
            return match cs.as_mut().map(|c| (c.next(), c.next())) {
                Some((Some(c), None)) => Ok(c as i128),
                _ if b.len() == 1 => Ok(b[0] as i128),
                _ => Err(self.err("a rune literal holds one character")),
            };
        }
        let w = self.word().to_string();
        let (neg, body) = match w.strip_prefix('-') {
            Some(b) => (true, b),
            None => (false, w.strip_prefix('+').unwrap_or(&w)),
        };
        let body = body.replace('_', "");
        let lower = body.to_ascii_lowercase();
        let (radix, digits) = if let Some(d) = lower.strip_prefix("0x") {
            (16, d.to_string())
        } else if let Some(d) = lower.strip_prefix("0o") {
            (8, d.to_string())
        } else if let Some(d) = lower.strip_prefix("0b") {
            (2, d.to_string())
        } else if lower.len() > 1 && lower.starts_with('0') {
            (8, lower[1..].to_string())
        } else {
            (10, lower.clone())
        };
        let v = u128::from_str_radix(&digits, radix)
            .ok()
            .filter(|v| *v <= i128::MAX as u128)
            .ok_or_else(|| self.err(&format!("{w:?} is not an integer")))? as i128;
        Ok(if neg { -v } else { v })
    }

    /// A string literal: interpreted (`"..."`) or raw (`` `...` ``).
    fn string(&mut self) -> Result<Vec<u8>, String> {
        self.ws();
        match self.peek() {
            Some('"') => self.quoted('"'),
            Some('`') => {
                let r = &self.rest()[1..];
                let end = r
                    .find('`')
                    .ok_or_else(|| self.err("unterminated raw string"))?;
                let s = r[..end].replace('\r', "").into_bytes();
                self.at += end + 2;
                Ok(s)
            }
            _ => {
                // `string(x)` conversions are not keys users type; ask for a literal.
                Err(self.err("expected a string literal (\"...\" or `...`)"))
            }
        }
    }

    /// The bytes of a quoted literal, escapes resolved; `self` is at the opening quote.
    fn quoted(&mut self, q: char) -> Result<Vec<u8>, String> {
        self.at += 1;
        let mut out = Vec::new();
        loop {
            let Some(c) = self.peek() else {
                return Err(self.err("unterminated literal"));
            };
            self.at += c.len_utf8();
            if c == q {
                return Ok(out);
            }
            if c == '\n' {
                return Err(self.err("newline in a literal"));
            }
            if c != '\\' {
                let mut buf = [0u8; 4];
                out.extend_from_slice(c.encode_utf8(&mut buf).as_bytes());
                continue;
            }
            let Some(e) = self.peek() else {
                return Err(self.err("unterminated escape"));
            };
            self.at += e.len_utf8();
            let simple = match e {
                'a' => Some(7u8),
                'b' => Some(8),
                'f' => Some(12),
                'n' => Some(b'\n'),
                'r' => Some(b'\r'),
                't' => Some(b'\t'),
                'v' => Some(11),
                '\\' => Some(b'\\'),
                '\'' if q == '\'' => Some(b'\''),
                '"' if q == '"' => Some(b'"'),
                _ => None,
            };
            if let Some(b) = simple {
                out.push(b);
                continue;
            }
            let hex = |p: &mut Self, n: usize| -> Result<u32, String> {
                let r = p.rest();
                let d = r.get(..n).ok_or_else(|| p.err("short escape"))?;
                let v = u32::from_str_radix(d, 16).map_err(|_| p.err("bad hex escape"))?;
                p.at += n;
                Ok(v)
            };
            match e {
                'x' => out.push(hex(self, 2)? as u8),
                'u' | 'U' => {
                    let v = hex(self, if e == 'u' { 4 } else { 8 })?;
                    let c = char::from_u32(v).ok_or_else(|| self.err("bad Unicode escape"))?;
                    let mut buf = [0u8; 4];
                    out.extend_from_slice(c.encode_utf8(&mut buf).as_bytes());
                }
                '0'..='7' => {
                    let r = self.rest();
                    let d = r.get(..2).ok_or_else(|| self.err("short octal escape"))?;
                    let v = u32::from_str_radix(&format!("{e}{d}"), 8)
                        .ok()
                        .filter(|v| *v < 256)
                        .ok_or_else(|| self.err("bad octal escape"))?;
                    self.at += 2;
                    out.push(v as u8);
                }
                _ => return Err(self.err(&format!("unknown escape \\{e}"))),
            }
        }
    }

    /// Skips a composite literal's type (`[3]uint8`, `main.Key`, `struct { A int }`) up to
    /// its `{`.
    fn skip_type(&mut self) -> Result<(), String> {
        self.ws();
        let mut depth = 0i32;
        loop {
            let r = self.rest();
            if r.starts_with("struct") || r.starts_with("interface") {
                let kw = if r.starts_with("struct") { 6 } else { 9 };
                self.at += kw;
                self.ws();
                if self.peek() == Some('{') {
                    self.skip_braces()?;
                }
                continue;
            }
            match self.peek() {
                None => return Err(self.err("expected '{' of a composite literal")),
                Some('{') if depth == 0 => return Ok(()),
                Some(c) => {
                    match c {
                        '[' | '(' => depth += 1,
                        ']' | ')' => depth -= 1,
                        '"' | '\'' | '`' | '{' | '}' | ',' => {
                            return Err(self.err("expected '{' of a composite literal"))
                        }
                        _ => {}
                    }
                    self.at += c.len_utf8();
                }
            }
        }
    }

    fn skip_braces(&mut self) -> Result<(), String> {
        let mut depth = 0;
        while let Some(c) = self.peek() {
            self.at += c.len_utf8();
            match c {
                '{' => depth += 1,
                '}' => {
                    depth -= 1;
                    if depth == 0 {
                        return Ok(());
                    }
                }
                _ => {}
            }
        }
        Err(self.err("unbalanced braces in a type"))
    }

    /// After an element: a `,` or white space, or the closing `}`; true when it closed.
    fn separator(&mut self) -> Result<bool, String> {
        let before = self.at;
        self.ws();
        let spaced = self.at > before;
        if self.eat('}') {
            return Ok(true);
        }
        if self.eat(',') {
            return Ok(self.eat('}'));
        }
        if spaced {
            return Ok(false);
        }
        Err(self.err("expected ',' or '}'"))
    }

    fn array(&mut self, elem: &KeyType, len: usize, off: usize) -> Result<(), String> {
        self.ws();
        if matches!(elem, KeyType::Uint { size: 1 }) && matches!(self.peek(), Some('"' | '`')) {
            let s = self.string()?;
            if s.len() > len {
                return Err(self.err(&format!(
                    "a string of {} bytes for a [{len}]byte key",
                    s.len()
                )));
            }
            self.put(off, &s);
            return Ok(());
        }
        if self.peek() != Some('{') {
            self.skip_type()?;
        }
        if !self.eat('{') {
            return Err(self.err("expected '{'"));
        }
        if self.eat('}') {
            return Ok(());
        }
        let es = elem.size();
        let mut i = 0;
        loop {
            if i == len {
                return Err(self.err(&format!("more than {len} elements")));
            }
            self.value(elem, off + i * es)?;
            i += 1;
            if self.separator()? {
                return Ok(());
            }
        }
    }

    fn structure(&mut self, fields: &[KeyField], off: usize) -> Result<(), String> {
        self.ws();
        if self.peek() != Some('{') {
            self.skip_type()?;
        }
        if !self.eat('{') {
            return Err(self.err("expected '{'"));
        }
        if self.eat('}') {
            return Ok(());
        }
        // Keyed (`Name: value`) or positional: decided by the first element.
        let save = self.at;
        let keyed = {
            let w = self.word().to_string();
            let k = !w.is_empty() && self.eat(':');
            self.at = save;
            k
        };
        let mut i = 0;
        let mut seen = Vec::new();
        loop {
            let f = if keyed {
                let name = self.word().to_string();
                if !self.eat(':') {
                    return Err(self.err("mix of keyed and positional fields"));
                }
                let f = fields.iter().find(|f| f.name == name).ok_or_else(|| {
                    self.err(&format!(
                        "no field {name:?}; the fields are {}",
                        fields
                            .iter()
                            .map(|f| f.name.as_str())
                            .collect::<Vec<_>>()
                            .join(", ")
                    ))
                })?;
                if seen.contains(&name) {
                    return Err(self.err(&format!("field {name} given twice")));
                }
                seen.push(name);
                f
            } else {
                let f = fields
                    .get(i)
                    .ok_or_else(|| self.err(&format!("more than {} fields", fields.len())))?;
                i += 1;
                f
            };
            self.value(&f.ty, off + f.offset)?;
            if self.separator()? {
                break;
            }
        }
        if !keyed && i < fields.len() {
            return Err(self.err(&format!(
                "{} of {} fields given: give all in order, or name them (Name: value)",
                i,
                fields.len()
            )));
        }
        Ok(())
    }
}

fn parse_special(w: &str) -> Option<f64> {
    match w {
        "NaN" => Some(f64::NAN),
        "Inf" | "+Inf" => Some(f64::INFINITY),
        "-Inf" => Some(f64::NEG_INFINITY),
        _ => None,
    }
}

fn parse_f64(w: &str) -> Option<f64> {
    if let Some(f) = parse_special(w) {
        return Some(f);
    }
    let w = w.replace('_', "");
    if w.contains(['x', 'X']) {
        let (neg, b) = match w.strip_prefix('-') {
            Some(b) => (true, b),
            None => (false, w.as_str()),
        };
        let v = u64::from_str_radix(b.trim_start_matches("0x").trim_start_matches("0X"), 16).ok()?
            as f64;
        return Some(if neg { -v } else { v });
    }
    w.parse().ok()
}

fn parse_f32(w: &str) -> Option<f32> {
    if let Some(f) = parse_special(w) {
        return Some(f as f32);
    }
    let t = w.replace('_', "");
    if t.contains(['x', 'X']) {
        return parse_f64(&t).map(|f| f as f32);
    }
    t.parse().ok()
}

/// Splits `1.5-2i` into `("1.5", "-2")`, `2i` into `("0", "2")`, `3` into `("3", "0")`.
fn split_complex(w: &str) -> Option<(&str, &str)> {
    let Some(body) = w.strip_suffix('i') else {
        return Some((w, "0"));
    };
    let b = body.as_bytes();
    let mut cut = None;
    for i in (1..b.len()).rev() {
        if (b[i] == b'+' || b[i] == b'-') && !matches!(b[i - 1], b'e' | b'E') {
            cut = Some(i);
            break;
        }
    }
    match cut {
        Some(i) => Some((
            &body[..i],
            body[i..].strip_prefix('+').unwrap_or(&body[i..]),
        )),
        None => Some(("0", body)),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn st(fields: &[(&str, usize, KeyType)], size: usize) -> KeyType {
        KeyType::Struct {
            fields: fields
                .iter()
                .map(|(n, o, t)| KeyField {
                    name: n.to_string(),
                    offset: *o,
                    ty: t.clone(),
                })
                .collect(),
            size,
        }
    }

    const U8: KeyType = KeyType::Uint { size: 1 };
    const I32: KeyType = KeyType::Int { size: 4 };
    const U64: KeyType = KeyType::Uint { size: 8 };
    const F64: KeyType = KeyType::Float { size: 8 };

    #[test]
    fn genhash_plans() {
        let p = |t: &KeyType| KeyPlan::new(t, Rules::Genhash).unwrap().ops;
        assert_eq!(p(&U64), vec![Op::Mem64 { off: 0 }]);
        assert_eq!(p(&KeyType::String), vec![Op::Str { off: 0 }]);
        let bytes3 = KeyType::Array {
            elem: Box::new(U8),
            len: 3,
        };
        assert_eq!(p(&bytes3), vec![Op::Mem { off: 0, len: 3 }]);
        // Two int32s without padding: plain memory of 8 bytes → memhash64.
        let pair = st(&[("A", 0, I32), ("B", 4, I32)], 8);
        assert_eq!(p(&pair), vec![Op::Mem64 { off: 0 }]);
        // A padded struct: a run ends at the padding; 8-byte runs use memhash, not memhash64.
        let padded = st(&[("A", 0, U8), ("B", 8, U64)], 16);
        assert_eq!(
            p(&padded),
            vec![Op::Mem { off: 0, len: 1 }, Op::Mem { off: 8, len: 8 }]
        );
        // Strings and floats interrupt runs; blank fields are skipped.
        let mixed = st(
            &[
                ("A", 0, I32),
                ("B", 4, I32),
                ("S", 8, KeyType::String),
                ("_", 24, U64),
                ("F", 32, F64),
                ("C", 40, U64),
            ],
            48,
        );
        assert_eq!(
            p(&mixed),
            vec![
                Op::Mem { off: 0, len: 8 },
                Op::Str { off: 8 },
                Op::F64 { off: 32 },
                Op::Mem { off: 40, len: 8 },
            ]
        );
        // An array of strings: each element in turn.
        let strs = KeyType::Array {
            elem: Box::new(KeyType::String),
            len: 2,
        };
        assert_eq!(p(&strs), vec![Op::Str { off: 0 }, Op::Str { off: 16 }]);
        // A one-field struct is its field.
        assert_eq!(p(&st(&[("F", 0, F64)], 8)), vec![Op::F64 { off: 0 }]);
        let e = KeyPlan::new(&KeyType::Interface { empty: true }, Rules::Genhash).unwrap_err();
        assert!(e.contains("interface keys are not supported"), "{e}");
    }

    #[test]
    fn signature_plans() {
        let p = |t: &KeyType| KeyPlan::new(t, Rules::Signature).unwrap().ops;
        let padded = st(&[("A", 0, U8), ("B", 8, U64)], 16);
        assert_eq!(
            p(&padded),
            vec![Op::Mem { off: 0, len: 1 }, Op::Mem64 { off: 8 }]
        );
        // Memory merges across a nested struct's boundary.
        let inner = st(&[("X", 0, I32), ("F", 8, F64)], 16);
        let outer = st(&[("A", 0, I32), ("I", 8, inner), ("B", 24, I32)], 32);
        assert_eq!(
            p(&outer),
            vec![
                Op::Mem32 { off: 0 },
                Op::Mem32 { off: 8 },
                Op::F64 { off: 16 },
                Op::Mem32 { off: 24 },
            ]
        );
    }

    #[test]
    fn parses_go_syntax() {
        let k = parse("-7", &I32).unwrap();
        assert_eq!(k.bytes, (-7i32).to_le_bytes());
        assert_eq!(parse("0x2a", &U64).unwrap().bytes, 42u64.to_le_bytes());
        assert_eq!(parse("'a'", &U8).unwrap().bytes, [b'a']);
        assert!(parse("256", &U8).is_err());
        let s = parse(r#""a\x00\u00e9\n""#, &KeyType::String).unwrap();
        assert_eq!(s.strings[&0], b"a\x00\xc3\xa9\n");
        let bytes3 = KeyType::Array {
            elem: Box::new(U8),
            len: 3,
        };
        for t in ["[3]byte{1,2,3}", "{1 2 3}", "[3]uint8{0x1, 0x2, 0x3}"] {
            assert_eq!(parse(t, &bytes3).unwrap().bytes, [1, 2, 3], "{t}");
        }
        assert_eq!(parse("\"ab\"", &bytes3).unwrap().bytes, [b'a', b'b', 0]);
        let t = st(
            &[("A", 0, I32), ("B", 8, KeyType::String), ("F", 24, F64)],
            32,
        );
        let k = parse(r#"main.K{A:1, B:"x", F:-0}"#, &t).unwrap();
        assert_eq!(&k.bytes[..4], &1i32.to_le_bytes());
        assert_eq!(k.strings[&8], b"x");
        assert_eq!(&k.bytes[24..], &(-0.0f64).to_bits().to_le_bytes());
        let k2 = parse(r#"{1 "x" 0}"#, &t).unwrap();
        let plan = KeyPlan::new(&t, Rules::Genhash).unwrap();
        assert!(plan.equal(&k, &k2), "-0 == +0");
        assert!(parse(r#"{A:1 Z:2}"#, &t).unwrap_err().contains("no field"));
        assert!(parse(r#"{1 "x"}"#, &t)
            .unwrap_err()
            .contains("2 of 3 fields"));
        let c = KeyType::Complex { size: 16 };
        let k = parse("(1.5-2i)", &c).unwrap();
        assert_eq!(&k.bytes[..8], &1.5f64.to_bits().to_le_bytes());
        assert_eq!(&k.bytes[8..], &(-2.0f64).to_bits().to_le_bytes());
        assert!(f64::from_bits(u64::from_le_bytes(
            parse("NaN", &F64).unwrap().bytes.try_into().unwrap()
        ))
        .is_nan());
        assert_eq!(
            parse("+Inf", &KeyType::Float { size: 4 }).unwrap().bytes,
            f32::INFINITY.to_bits().to_le_bytes()
        );
        assert_eq!(
            parse("(*int)(0xc000012345)", &KeyType::Pointer)
                .unwrap()
                .bytes,
            0xc000012345u64.to_le_bytes()
        );
        assert!(parse("1 2", &U64).is_err());
    }
}
