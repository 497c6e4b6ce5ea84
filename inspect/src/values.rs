//! Key and elem types, and decoding a slot's bytes into a value.
//!
//! A [`ValueType`] is what `map-inspect dump` knows about a key or elem type: a Go type
//! ([`GoType`]: integers, floats, `bool`, `string`, `[N]uint8`), a few Rust-only types that
//! gomap maps may hold (`char`, `u128`, `i128`, `()`), or only a size (shown as hex).
//!
//! Decoding never fails as a whole: a Go string whose bytes cannot be read decodes to a
//! value that says so, with a warning.

use std::fmt::Write as _;

use gomap::dynamic::GoType;
use gomap::layout::BucketLayout;

use std::rc::Rc;

use crate::program::dwarf::Type;
use crate::program::value::Decoder;
use crate::program::Program;
use crate::source::MemoryReader;

/// The longest string prefix read from memory; longer strings are shown truncated.
pub const MAX_STRING_READ: usize = 4096;
/// The longest string shown in text output, in characters.
pub const MAX_STRING_SHOWN: usize = 48;

/// A key or elem type as far as the inspector knows it.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum ValueType {
    /// A Go type.
    Go(GoType),
    /// Rust's `char` (4 bytes, a Unicode scalar value).
    Char,
    /// Rust's `u128` (16 bytes, aligned to 16: gomap stores it indirectly).
    U128,
    /// Rust's `i128`.
    I128,
    /// Rust's `()` (or Go's `struct{}`): 0 bytes.
    Unit,
    /// A type from the program's DWARF (any Go type: structs, interfaces, slices, ...).
    Typed(TypedValue),
    /// A type known only by its size (and a name, if one was given); shown as hex.
    Opaque {
        /// The type's name, or `""`.
        name: String,
        /// Its size in bytes.
        size: usize,
    },
}

/// A Go type from a program's DWARF, with the program (to name interfaces' dynamic types and
/// follow slices).
#[derive(Clone)]
pub struct TypedValue {
    /// The type.
    pub ty: Rc<Type>,
    /// The program.
    pub prog: Rc<Program>,
}

impl PartialEq for TypedValue {
    fn eq(&self, o: &Self) -> bool {
        Rc::ptr_eq(&self.ty, &o.ty) || (self.ty.die == o.ty.die && self.ty.name == o.ty.name)
    }
}

impl Eq for TypedValue {}

impl std::fmt::Debug for TypedValue {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "TypedValue({})", self.ty.name)
    }
}

impl ValueType {
    /// Parses a type name given on the command line: Go names (`uint64`, `string`,
    /// `[20]uint8`, `int`, ...), their short forms (`u64`, `i32`, `f64`, `[4]u8`), and Rust
    /// names (`usize`, `isize`, `char`, `u128`, `i128`, `()`, `&str`, `Box<str>`,
    /// `[u8; 20]`). With `go`, only types a Go program can have are accepted.
    pub fn parse(s: &str, go: bool) -> Result<ValueType, String> {
        let s = s.trim();
        if let Some(t) = GoType::parse(s) {
            return Ok(ValueType::Go(t));
        }
        let compact: String = s.chars().filter(|c| !c.is_whitespace()).collect();
        let rust_only = match compact.as_str() {
            "usize" => Some(ValueType::Go(GoType::Uint64)),
            "isize" => Some(ValueType::Go(GoType::Int64)),
            "&str" | "&'staticstr" | "Box<str>" => Some(ValueType::Go(GoType::String)),
            "char" => Some(ValueType::Char),
            "u128" => Some(ValueType::U128),
            "i128" => Some(ValueType::I128),
            "()" | "struct{}" => Some(ValueType::Unit),
            _ => compact
                .strip_prefix("[u8;")
                .and_then(|r| r.strip_suffix(']'))
                .and_then(|n| n.parse().ok())
                .map(|n| ValueType::Go(GoType::Bytes(n))),
        };
        match rust_only {
            Some(t) if go && !t.is_go() => Err(format!(
                "{s} is not a Go type (with --go, use Go's names: uint64, int32, string, [20]uint8, ...)"
            )),
            Some(t) => Ok(t),
            None => Err(format!(
                "unknown type {s:?}: use bool, int8..int64, uint8..uint64 (or u8..u64, i8..i64), \
                 int, uint, uintptr, float32, float64, string, [N]uint8{}",
                if go { "" } else { ", char, u128, i128, ()" }
            )),
        }
    }

    /// Parses `KEY:ELEM` (as given to `--types`).
    pub fn parse_pair(s: &str, go: bool) -> Result<(ValueType, ValueType), String> {
        // Split at the colon that is not inside brackets (`[u8; 4]:u64` has none inside, but
        // keep it simple and robust: the last colon outside `[...]`).
        let mut depth = 0i32;
        let mut at = None;
        for (i, c) in s.char_indices() {
            match c {
                '[' | '<' | '(' => depth += 1,
                ']' | '>' | ')' => depth -= 1,
                ':' if depth == 0 => at = Some(i),
                _ => {}
            }
        }
        let Some(i) = at else {
            return Err(format!(
                "--types {s:?}: expected KEY:ELEM, for example uint64:string"
            ));
        };
        Ok((Self::parse(&s[..i], go)?, Self::parse(&s[i + 1..], go)?))
    }

    /// The type a snapshot names (`uint64`, `string`, `[20]uint8`, `rust:char`, ...) with the
    /// size the snapshot's layout gives. A name whose size does not match becomes opaque.
    pub fn from_snapshot_name(name: &str, size: usize) -> ValueType {
        let t = if let Some(rust) = name.strip_prefix("rust:") {
            match rust {
                "char" => ValueType::Char,
                "u128" => ValueType::U128,
                "i128" => ValueType::I128,
                "()" => ValueType::Unit,
                "usize" => ValueType::Go(GoType::Uint64),
                "isize" => ValueType::Go(GoType::Int64),
                _ => ValueType::Opaque {
                    name: name.to_string(),
                    size,
                },
            }
        } else {
            match GoType::parse(name) {
                Some(t) => ValueType::Go(t),
                None => ValueType::Opaque {
                    name: name.to_string(),
                    size,
                },
            }
        };
        if t.size() != size {
            return ValueType::Opaque {
                name: name.to_string(),
                size,
            };
        }
        t
    }

    /// Whether a Go program can have this type.
    pub fn is_go(&self) -> bool {
        matches!(
            self,
            ValueType::Go(_) | ValueType::Unit | ValueType::Typed(_)
        )
    }

    /// Size in bytes.
    pub fn size(&self) -> usize {
        match self {
            ValueType::Go(t) => t.size(),
            ValueType::Char => 4,
            ValueType::U128 | ValueType::I128 => 16,
            ValueType::Unit => 0,
            ValueType::Typed(t) => t.ty.size as usize,
            ValueType::Opaque { size, .. } => *size,
        }
    }

    /// Alignment in bytes (1 for an opaque type: Go's rule then decides indirection by size).
    pub fn align(&self) -> usize {
        match self {
            ValueType::Go(t) => t.align(),
            ValueType::Char => 4,
            ValueType::U128 | ValueType::I128 => 16,
            ValueType::Unit | ValueType::Opaque { .. } | ValueType::Typed(_) => 1,
        }
    }

    /// The alignment, when it is known (Go's basic types, `[N]uint8`, `struct{}`); `None` for
    /// a type known only by name or size.
    pub fn known_align(&self) -> Option<usize> {
        match self {
            ValueType::Go(t) => Some(t.align()),
            ValueType::Unit => Some(1),
            _ => None,
        }
    }

    /// Whether values of this type contain pointers (Go's `ptrdata != 0`); `None` when
    /// unknown.
    pub fn has_pointers(&self) -> Option<bool> {
        match self {
            ValueType::Go(GoType::String) => Some(true),
            ValueType::Typed(t) => Some(t.ty.has_pointers()),
            ValueType::Opaque { .. } => None,
            _ => Some(false),
        }
    }

    /// The name shown: Go's spelling for Go types.
    pub fn name(&self) -> String {
        match self {
            ValueType::Go(t) => t.go_name().to_string(),
            ValueType::Char => "char".into(),
            ValueType::U128 => "u128".into(),
            ValueType::I128 => "i128".into(),
            ValueType::Unit => "struct{}".into(),
            ValueType::Typed(t) => t.ty.name.clone(),
            ValueType::Opaque { name, size } if name.is_empty() => format!("[{size}]byte?"),
            ValueType::Opaque { name, .. } => name.clone(),
        }
    }

    /// Decodes a value of this type from its bytes (exactly `size()` of them), reading the
    /// bytes of a Go string through `r`.
    pub fn decode<R: MemoryReader + ?Sized>(&self, b: &[u8], r: &R) -> Value {
        let u = |n: usize| {
            let mut w = [0u8; 8];
            w[..n].copy_from_slice(&b[..n]);
            u64::from_le_bytes(w)
        };
        let num = |text: String, json: serde_json::Value| Value {
            text,
            json,
            warning: None,
        };
        if b.len() != self.size() {
            return Value {
                text: format!("<{} bytes, expected {}>", b.len(), self.size()),
                json: serde_json::Value::String(hex(b)),
                warning: Some(format!(
                    "a {} value has {} bytes, not {}",
                    self.name(),
                    b.len(),
                    self.size()
                )),
            };
        }
        match self {
            ValueType::Go(t) => match t {
                GoType::Bool => {
                    let v = b[0] != 0;
                    let mut val = num(v.to_string(), v.into());
                    if b[0] > 1 {
                        val.text = format!("true (byte {:#04x})", b[0]);
                        val.warning = Some(format!("bool byte {:#04x} is neither 0 nor 1", b[0]));
                    }
                    val
                }
                GoType::Int8 => signed(u(1) as u8 as i8 as i64),
                GoType::Int16 => signed(u(2) as u16 as i16 as i64),
                GoType::Int32 => signed(u(4) as u32 as i32 as i64),
                GoType::Int64 => signed(u(8) as i64),
                GoType::Uint8 | GoType::Uint16 | GoType::Uint32 | GoType::Uint64 => {
                    let v = u(t.size());
                    num(v.to_string(), v.into())
                }
                GoType::Float32 => float(f32::from_bits(u(4) as u32) as f64, true),
                GoType::Float64 => float(f64::from_bits(u(8)), false),
                GoType::String => go_string(b, r),
                GoType::Bytes(0) => num("[0]uint8{}".into(), "".into()),
                GoType::Bytes(_) => num(format!("0x{}", hex(b)), hex(b).into()),
            },
            ValueType::Char => {
                let v = u(4) as u32;
                match char::from_u32(v) {
                    Some(c) => num(format!("{c:?}"), c.to_string().into()),
                    None => Value {
                        text: format!("<invalid char {v:#x}>"),
                        json: hex(b).into(),
                        warning: Some(format!("{v:#x} is not a Unicode scalar value")),
                    },
                }
            }
            ValueType::U128 => {
                let v = u128::from_le_bytes(b.try_into().expect("16 bytes"));
                num(v.to_string(), v.to_string().into())
            }
            ValueType::I128 => {
                let v = i128::from_le_bytes(b.try_into().expect("16 bytes"));
                num(v.to_string(), v.to_string().into())
            }
            ValueType::Unit => num("{}".into(), serde_json::Value::Null),
            ValueType::Typed(t) => Decoder { prog: &t.prog, r }.decode(&t.ty, b),
            ValueType::Opaque { .. } => num(format!("0x{}", hex(b)), hex(b).into()),
        }
    }
}

pub(crate) fn signed(v: i64) -> Value {
    Value {
        text: v.to_string(),
        json: v.into(),
        warning: None,
    }
}

pub(crate) fn float(v: f64, single: bool) -> Value {
    let text = if v.is_nan() {
        "NaN".to_string()
    } else if v.is_infinite() {
        if v > 0.0 { "+Inf" } else { "-Inf" }.to_string()
    } else if single {
        format!("{}", v as f32)
    } else {
        format!("{v}")
    };
    let json = serde_json::Number::from_f64(v)
        .map(serde_json::Value::Number)
        .unwrap_or_else(|| text.clone().into());
    Value {
        text,
        json,
        warning: None,
    }
}

pub(crate) fn go_string<R: MemoryReader + ?Sized>(b: &[u8], r: &R) -> Value {
    let p = u64::from_le_bytes(b[0..8].try_into().expect("8 bytes"));
    let n = u64::from_le_bytes(b[8..16].try_into().expect("8 bytes"));
    if n == 0 {
        return Value {
            text: "\"\"".into(),
            json: "".into(),
            warning: None,
        };
    }
    if p == 0 {
        return Value {
            text: format!("<string of {n} bytes at nil>"),
            json: serde_json::Value::Null,
            warning: Some(format!("a string header says {n} bytes at address 0")),
        };
    }
    let want = n.min(MAX_STRING_READ as u64) as usize;
    match r.read_vec(p, want) {
        Ok(bytes) => {
            let s = String::from_utf8_lossy(&bytes).into_owned();
            let mut text = go_quote(&s, MAX_STRING_SHOWN);
            if (want as u64) < n {
                let _ = write!(text, "… ({n} bytes)");
            }
            Value {
                text,
                json: s.into(),
                warning: None,
            }
        }
        Err(e) => Value {
            text: format!("<string of {n} bytes at {p:#x}: unreadable>"),
            json: serde_json::Value::Null,
            warning: Some(format!("string data: {e}")),
        },
    }
}

/// Go-style double-quoted string, cut after `max` characters (with `…`).
pub fn go_quote(s: &str, max: usize) -> String {
    let mut out = String::from("\"");
    for (i, c) in s.chars().enumerate() {
        if i == max {
            out.push_str("\"…");
            return out;
        }
        match c {
            '"' => out.push_str("\\\""),
            '\\' => out.push_str("\\\\"),
            '\n' => out.push_str("\\n"),
            '\t' => out.push_str("\\t"),
            '\r' => out.push_str("\\r"),
            c if c.is_control() => {
                let _ = write!(out, "\\x{:02x}", c as u32);
            }
            c => out.push(c),
        }
    }
    out.push('"');
    out
}

/// A decoded value.
#[derive(Clone, Debug, PartialEq)]
pub struct Value {
    /// How text output shows it (Go syntax).
    pub text: String,
    /// How JSON output shows it.
    pub json: serde_json::Value,
    /// What looked wrong while decoding, if anything.
    pub warning: Option<String>,
}

/// Lower-case hex of some bytes.
pub fn hex(b: &[u8]) -> String {
    let mut s = String::with_capacity(b.len() * 2);
    for x in b {
        let _ = write!(s, "{x:02x}");
    }
    s
}

/// The bucket layout Go (and gomap) use for a key and an elem type: a type larger than 128
/// bytes, or aligned to more than 8, is stored indirectly.
pub fn layout_of(key: &ValueType, elem: &ValueType) -> BucketLayout {
    BucketLayout::new(key.size(), key.align(), elem.size(), elem.align())
}

/// Whether Go's bucket type for these types has no pointers (`None` when unknown).
pub fn pointer_free(key: &ValueType, elem: &ValueType, layout: &BucketLayout) -> Option<bool> {
    if layout.indirect_key || layout.indirect_elem {
        return Some(false);
    }
    match (key.has_pointers(), elem.has_pointers()) {
        (Some(true), _) | (_, Some(true)) => Some(false),
        (Some(false), Some(false)) => Some(true),
        _ => None,
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::source::ReadError;

    struct NoMemory;
    impl MemoryReader for NoMemory {
        fn read(&self, addr: u64, buf: &mut [u8]) -> Result<(), ReadError> {
            Err(ReadError {
                addr,
                len: buf.len(),
                reason: "no memory".into(),
            })
        }
        fn describe(&self) -> String {
            "nothing".into()
        }
    }

    #[test]
    fn parses_go_and_rust_names() {
        assert_eq!(
            ValueType::parse("uint64", true).unwrap(),
            ValueType::Go(GoType::Uint64)
        );
        assert_eq!(
            ValueType::parse("u64", false).unwrap(),
            ValueType::Go(GoType::Uint64)
        );
        assert_eq!(
            ValueType::parse("[u8; 20]", false).unwrap(),
            ValueType::Go(GoType::Bytes(20))
        );
        assert_eq!(
            ValueType::parse("&str", false).unwrap(),
            ValueType::Go(GoType::String)
        );
        assert!(ValueType::parse("char", true).is_err());
        assert_eq!(ValueType::parse("char", false).unwrap(), ValueType::Char);
        assert!(ValueType::parse("complex128", false).is_err());
        let (k, v) = ValueType::parse_pair("[u8; 4]:string", false).unwrap();
        assert_eq!(k, ValueType::Go(GoType::Bytes(4)));
        assert_eq!(v, ValueType::Go(GoType::String));
        assert!(ValueType::parse_pair("uint64", true).is_err());
    }

    #[test]
    fn decodes_numbers_and_floats() {
        let t = ValueType::Go(GoType::Int16);
        let v = t.decode(&(-300i16).to_le_bytes(), &NoMemory);
        assert_eq!((v.text.as_str(), v.json.clone()), ("-300", (-300).into()));
        let v = ValueType::Go(GoType::Float64).decode(&f64::NAN.to_le_bytes(), &NoMemory);
        assert_eq!(v.text, "NaN");
        assert_eq!(v.json, serde_json::Value::String("NaN".into()));
        let v = ValueType::Char.decode(&('é' as u32).to_le_bytes(), &NoMemory);
        assert_eq!(v.text, "'é'");
    }

    #[test]
    fn unreadable_string_is_a_warning_not_an_error() {
        let mut b = [0u8; 16];
        b[..8].copy_from_slice(&0x1000u64.to_le_bytes());
        b[8..].copy_from_slice(&5u64.to_le_bytes());
        let v = ValueType::Go(GoType::String).decode(&b, &NoMemory);
        assert!(v.text.contains("unreadable"), "{}", v.text);
        assert!(v.warning.unwrap().contains("0x1000"));
    }

    #[test]
    fn snapshot_names() {
        assert_eq!(
            ValueType::from_snapshot_name("rust:char", 4),
            ValueType::Char
        );
        assert_eq!(
            ValueType::from_snapshot_name("[3]uint8", 3),
            ValueType::Go(GoType::Bytes(3))
        );
        // A name whose size does not match is shown as bytes.
        assert!(matches!(
            ValueType::from_snapshot_name("uint64", 4),
            ValueType::Opaque { size: 4, .. }
        ));
    }

    #[test]
    fn quoting() {
        assert_eq!(go_quote("a\"b\n", 10), "\"a\\\"b\\n\"");
        assert_eq!(go_quote("abcdef", 3), "\"abc\"…");
    }
}
