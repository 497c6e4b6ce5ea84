//! Go values decoded from their DWARF types.
//!
//! JSON: integers, floats and bools as JSON values, strings as strings, complex numbers as
//! `{"real": .., "imag": ..}`, arrays as arrays, structs as objects of their fields in order,
//! pointers (and maps, channels, funcs) as `"0x..."` address strings (`null` when nil), slices
//! as `{"len": .., "cap": .., "elems": [the first ones]}`, interfaces as `{"type": "main.Item",
//! "value": ..}` (`null` when nil). Text: Go syntax in the style of `%+v`, strings quoted.

use std::fmt::Write as _;

use serde_json::{json, Map, Value as Json};

use super::dwarf::{Kind, Type};
use super::Program;
use crate::source::MemoryReader;
use crate::values::{float, go_string, hex, signed, Value};

/// The most slice elements shown.
pub const SLICE_LIMIT: usize = 16;
/// The most array elements decoded.
pub const ARRAY_LIMIT: usize = 1024;
/// The deepest nesting decoded (through interfaces and slices).
pub const MAX_DEPTH: u32 = 8;

/// Decodes values of DWARF types, reading what they point to through a reader.
pub struct Decoder<'a, R: MemoryReader + ?Sized> {
    /// The program (types, runtime type names).
    pub prog: &'a Program,
    /// The memory.
    pub r: &'a R,
}

fn u(b: &[u8], n: usize) -> u64 {
    let mut w = [0u8; 8];
    w[..n.min(8)].copy_from_slice(&b[..n.min(8)]);
    u64::from_le_bytes(w)
}

fn addr_value(name: &str, a: u64) -> Value {
    if a == 0 {
        Value {
            text: "nil".into(),
            json: Json::Null,
            warning: None,
        }
    } else {
        Value {
            text: format!("({name})({a:#x})"),
            json: format!("{a:#x}").into(),
            warning: None,
        }
    }
}

impl<R: MemoryReader + ?Sized> Decoder<'_, R> {
    /// Decodes a value of type `ty` from its bytes.
    pub fn decode(&self, ty: &Type, b: &[u8]) -> Value {
        let mut warnings = Vec::new();
        let (text, json) = self.value(ty, b, 0, &mut warnings);
        Value {
            text,
            json,
            warning: (!warnings.is_empty()).then(|| warnings.join("; ")),
        }
    }

    fn value(&self, ty: &Type, b: &[u8], depth: u32, w: &mut Vec<String>) -> (String, Json) {
        if (b.len() as u64) < ty.size {
            w.push(format!(
                "a {} value needs {} bytes, {} given",
                ty.name,
                ty.size,
                b.len()
            ));
            return (format!("<{} bytes>", b.len()), Json::Null);
        }
        let sz = ty.size as usize;
        match &ty.kind {
            Kind::Bool => {
                if b[0] > 1 {
                    w.push(format!("bool byte {:#04x} is neither 0 nor 1", b[0]));
                }
                ((b[0] != 0).to_string(), (b[0] != 0).into())
            }
            Kind::Int => {
                let v = match sz {
                    1 => u(b, 1) as u8 as i8 as i64,
                    2 => u(b, 2) as u16 as i16 as i64,
                    4 => u(b, 4) as u32 as i32 as i64,
                    _ => u(b, 8) as i64,
                };
                let s = signed(v);
                (s.text, s.json)
            }
            Kind::Uint => {
                let v = u(b, sz);
                (v.to_string(), v.into())
            }
            Kind::Float => {
                let f = if sz == 4 {
                    float(f32::from_bits(u(b, 4) as u32) as f64, true)
                } else {
                    float(f64::from_bits(u(b, 8)), false)
                };
                (f.text, f.json)
            }
            Kind::Complex => {
                let (re, im) = if sz == 8 {
                    (
                        f32::from_bits(u(b, 4) as u32) as f64,
                        f32::from_bits(u(&b[4..], 4) as u32) as f64,
                    )
                } else {
                    (f64::from_bits(u(b, 8)), f64::from_bits(u(&b[8..], 8)))
                };
                let (fr, fi) = (float(re, sz == 8), float(im, sz == 8));
                let sign = if im.is_sign_negative() || im.is_nan() {
                    ""
                } else {
                    "+"
                };
                (
                    format!("({}{sign}{}i)", fr.text, fi.text),
                    json!({"real": fr.json, "imag": fi.json}),
                )
            }
            Kind::String => {
                let s = go_string(&b[..16], self.r);
                if let Some(x) = s.warning {
                    w.push(x);
                }
                (s.text, s.json)
            }
            Kind::Array { elem, len } => {
                let n = (*len as usize).min(ARRAY_LIMIT);
                let es = elem.size as usize;
                let mut texts = Vec::new();
                let mut arr = Vec::new();
                for i in 0..n {
                    let at = i * es;
                    if at + es > b.len() {
                        break;
                    }
                    let (t, j) = self.value(elem, &b[at..at + es], depth, w);
                    texts.push(t);
                    arr.push(j);
                }
                if (*len as usize) > n {
                    w.push(format!(
                        "{}: only the first {n} elements are decoded",
                        ty.name
                    ));
                    texts.push("…".into());
                }
                (format!("[{}]", texts.join(" ")), Json::Array(arr))
            }
            Kind::Struct { fields } => {
                let mut texts = Vec::new();
                let mut obj = Map::new();
                for f in fields {
                    let at = f.offset as usize;
                    let end = at + f.ty.size as usize;
                    if end > b.len() {
                        w.push(format!("field {} lies outside {}", f.name, ty.name));
                        continue;
                    }
                    let (t, j) = self.value(&f.ty, &b[at..end], depth, w);
                    texts.push(format!("{}:{t}", f.name));
                    obj.insert(f.name.clone(), j);
                }
                (format!("{{{}}}", texts.join(" ")), Json::Object(obj))
            }
            Kind::Pointer { .. } | Kind::Map { .. } | Kind::Chan | Kind::Func => {
                let v = addr_value(&ty.name, u(b, 8));
                (v.text, v.json)
            }
            Kind::Slice { elem } => {
                let (ptr, len, cap) = (u(b, 8), u(&b[8..], 8), u(&b[16..], 8));
                if ptr == 0 && len == 0 {
                    return ("[]".into(), Json::Null);
                }
                if len > cap {
                    w.push(format!("{}: len {len} > cap {cap}", ty.name));
                }
                let elem = elem.and_then(|e| self.prog.dwarf().ok().flatten()?.type_at(e).ok());
                let mut texts = Vec::new();
                let mut arr = Vec::new();
                if let Some(et) = elem.filter(|_| depth < MAX_DEPTH) {
                    let n = (len as usize).min(SLICE_LIMIT);
                    let es = et.size as usize;
                    match self.r.read_vec(ptr, n * es) {
                        Ok(data) => {
                            for i in 0..n {
                                let (t, j) =
                                    self.value(&et, &data[i * es..(i + 1) * es], depth + 1, w);
                                texts.push(t);
                                arr.push(j);
                            }
                        }
                        Err(e) => w.push(format!("{} elements: {e}", ty.name)),
                    }
                }
                let mut text = format!("[{}", texts.join(" "));
                if (len as usize) > texts.len() {
                    let _ = write!(text, "{}…", if texts.is_empty() { "" } else { " " });
                }
                let _ = write!(text, "] (len {len}, cap {cap})");
                (text, json!({"len": len, "cap": cap, "elems": arr}))
            }
            Kind::Interface { empty } => self.interface(b, *empty, depth, w),
            Kind::Other => (format!("0x{}", hex(&b[..sz])), hex(&b[..sz]).into()),
        }
    }

    fn interface(&self, b: &[u8], empty: bool, depth: u32, w: &mut Vec<String>) -> (String, Json) {
        let (word0, data) = (u(b, 8), u(&b[8..], 8));
        if word0 == 0 {
            return ("<nil>".into(), Json::Null);
        }
        let rtype = if empty {
            word0
        } else {
            // itab: inter *interfacetype at 0, _type *_type at 8.
            match self.r.read_u64(word0 + 8) {
                Ok(t) => t,
                Err(e) => {
                    w.push(format!("interface itab: {e}"));
                    return (format!("<itab {word0:#x}: unreadable>"), Json::Null);
                }
            }
        };
        let name = match self.prog.runtime_type_name(self.r, rtype) {
            Ok(n) => n,
            Err(e) => {
                w.push(format!("the dynamic type at {rtype:#x}: {e}"));
                format!("<type {rtype:#x}>")
            }
        };
        // Whether the data word is the value itself: kindDirectIface (32) in the
        // descriptor's kind byte (offset 23) up to Go 1.25; from Go 1.26 TFlagDirectIface
        // (32) in its tflag byte (offset 20), internal/abi/type.go.
        let flag_at = if self.prog.layout.go.is_some_and(|v| v.at_least(1, 26)) {
            20
        } else {
            23
        };
        let flag_byte = self
            .r
            .read_vec(rtype + flag_at, 1)
            .map(|v| v[0])
            .unwrap_or(0);
        let direct = flag_byte & 32 != 0;
        let dyn_ty = self.prog.runtime_type(rtype);
        let (vt, vj) = match dyn_ty {
            Some(t) if depth < MAX_DEPTH => {
                if direct {
                    self.value(&t, &data.to_le_bytes(), depth + 1, w)
                } else if t.size == 0 {
                    self.value(&t, &[], depth + 1, w)
                } else {
                    match self.r.read_vec(data, t.size as usize) {
                        Ok(bytes) => self.value(&t, &bytes, depth + 1, w),
                        Err(e) => {
                            w.push(format!("interface value of type {name}: {e}"));
                            (format!("<unreadable at {data:#x}>"), Json::Null)
                        }
                    }
                }
            }
            _ => {
                // DWARF does not describe the type (unused types are pruned): show where the
                // value is.
                let v = addr_value(&name, data);
                (v.text, v.json)
            }
        };
        (format!("{name}({vt})"), json!({"type": name, "value": vj}))
    }
}
