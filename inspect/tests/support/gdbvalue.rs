//! Reads the values gdb prints (`$1 = SUMMARY = {[k] = v, ...}`) and compares them with the
//! JSON a Go program printed for the same values: integers and floats, strings, `[N]byte`
//! arrays (gdb prints them as C strings, without a trailing NUL), structs (`{Name = v}`),
//! arrays (`{a, b}`), pointers (`0x... <symbol>`) and booleans.

use serde_json::Value;

/// A value as gdb prints it.
#[derive(Clone, Debug, PartialEq)]
pub(crate) enum G {
    /// A number (the text, for messages).
    Num(f64, String),
    /// A C string's bytes.
    Str(Vec<u8>),
    /// `true`, `false`.
    Bool(bool),
    /// A pointer.
    Ptr(u64),
    /// `{Name = v, ...}`.
    Obj(Vec<(String, G)>),
    /// `{v, ...}`.
    Arr(Vec<G>),
    /// `{[k] = v, ...}`.
    Map(Vec<(G, G)>),
    /// Anything else, as text.
    Other(String),
}

struct P<'a> {
    s: &'a [u8],
    i: usize,
}

impl P<'_> {
    fn ws(&mut self) {
        while self.i < self.s.len() && self.s[self.i] == b' ' {
            self.i += 1;
        }
    }
    fn peek(&self) -> Option<u8> {
        self.s.get(self.i).copied()
    }
    fn eat(&mut self, t: &str) -> bool {
        if self.s[self.i..].starts_with(t.as_bytes()) {
            self.i += t.len();
            true
        } else {
            false
        }
    }
    fn value(&mut self) -> Result<G, String> {
        self.ws();
        match self.peek() {
            Some(b'{') => self.braces(),
            Some(b'"') => self.string(),
            Some(b'0') if self.s[self.i..].starts_with(b"0x") => {
                self.i += 2;
                let st = self.i;
                while self.peek().is_some_and(|c| c.is_ascii_hexdigit()) {
                    self.i += 1;
                }
                let v = u64::from_str_radix(std::str::from_utf8(&self.s[st..self.i]).unwrap(), 16)
                    .map_err(|e| e.to_string())?;
                self.ws();
                if self.peek() == Some(b'<') {
                    while self.peek().is_some_and(|c| c != b'>') {
                        self.i += 1;
                    }
                    self.i += 1;
                }
                Ok(G::Ptr(v))
            }
            Some(c) if c == b'-' || c.is_ascii_digit() => {
                let st = self.i;
                self.i += 1;
                while let Some(cur) = self.peek() {
                    let sign_ok = (cur != b'+' && cur != b'-')
                        || matches!(self.s.get(self.i - 1), Some(b'e') | Some(b'E'));
                    if !(cur.is_ascii_alphanumeric() || b".+-()".contains(&cur)) || !sign_ok {
                        break;
                    }
                    self.i += 1;
                }
                let t = std::str::from_utf8(&self.s[st..self.i])
                    .unwrap()
                    .to_string();
                let f = match t.as_str() {
                    "-inf" => f64::NEG_INFINITY,
                    _ if t.contains("nan") => f64::NAN,
                    _ => t.parse().map_err(|e| format!("number {t:?}: {e}"))?,
                };
                Ok(G::Num(f, t))
            }
            _ => {
                let st = self.i;
                while self.peek().is_some_and(|c| !b",}]".contains(&c)) {
                    self.i += 1;
                }
                let t = std::str::from_utf8(&self.s[st..self.i])
                    .unwrap()
                    .trim()
                    .to_string();
                Ok(match t.as_str() {
                    "true" => G::Bool(true),
                    "false" => G::Bool(false),
                    "inf" => G::Num(f64::INFINITY, t),
                    _ => G::Other(t),
                })
            }
        }
    }
    fn string(&mut self) -> Result<G, String> {
        self.i += 1;
        let mut out = Vec::new();
        loop {
            let c = self.peek().ok_or("unterminated string")?;
            self.i += 1;
            match c {
                b'"' => break,
                b'\\' => {
                    let e = self.peek().ok_or("dangling escape")?;
                    self.i += 1;
                    match e {
                        b'0'..=b'7' => {
                            let mut v = (e - b'0') as u32;
                            for _ in 0..2 {
                                match self.peek() {
                                    Some(d @ b'0'..=b'7') => {
                                        v = v * 8 + (d - b'0') as u32;
                                        self.i += 1;
                                    }
                                    _ => break,
                                }
                            }
                            out.push(v as u8);
                        }
                        b'a' => out.push(7),
                        b'b' => out.push(8),
                        b't' => out.push(9),
                        b'n' => out.push(10),
                        b'v' => out.push(11),
                        b'f' => out.push(12),
                        b'r' => out.push(13),
                        b'e' => out.push(27),
                        other => out.push(other),
                    }
                }
                other => out.push(other),
            }
        }
        // A truncated string ends with `...`.
        self.eat("...");
        // Trailing bytes that do not form a whole UTF-8 character follow the string as
        // `, <incomplete sequence \343>`.
        let save = self.i;
        if self.eat(", <incomplete sequence ") {
            while self.eat("\\") {
                let mut v = 0u32;
                while let Some(d @ b'0'..=b'7') = self.peek() {
                    v = v * 8 + (d - b'0') as u32;
                    self.i += 1;
                }
                out.push(v as u8);
            }
            if !self.eat(">") {
                self.i = save;
            }
        }
        Ok(G::Str(out))
    }
    fn braces(&mut self) -> Result<G, String> {
        self.i += 1;
        self.ws();
        if self.eat("}") {
            return Ok(G::Arr(Vec::new()));
        }
        if self.peek() == Some(b'[') {
            let mut m = Vec::new();
            loop {
                self.ws();
                if !self.eat("[") {
                    return Err(format!("expected [ at {}", self.i));
                }
                let k = self.value()?;
                self.ws();
                if !self.eat("] = ") {
                    return Err(format!("expected ] = at {}", self.i));
                }
                let v = self.value()?;
                m.push((k, v));
                self.ws();
                if self.eat(",") {
                    continue;
                }
                if self.eat("}") {
                    return Ok(G::Map(m));
                }
                return Err(format!("expected , or }} at {}", self.i));
            }
        }
        // A struct when the first item is `name = `.
        let rest = &self.s[self.i..];
        let ident_len = rest
            .iter()
            .take_while(|c| c.is_ascii_alphanumeric() || **c == b'_')
            .count();
        let is_struct = ident_len > 0 && rest[ident_len..].starts_with(b" = ");
        let mut fields = Vec::new();
        let mut items = Vec::new();
        loop {
            self.ws();
            if is_struct {
                let st = self.i;
                while self.peek().is_some_and(|c| c != b' ') {
                    self.i += 1;
                }
                let name = std::str::from_utf8(&self.s[st..self.i])
                    .unwrap()
                    .to_string();
                if !self.eat(" = ") {
                    return Err(format!("expected = after {name}"));
                }
                fields.push((name, self.value()?));
            } else {
                items.push(self.value()?);
            }
            self.ws();
            if self.eat(",") {
                continue;
            }
            if self.eat("}") {
                break;
            }
            return Err(format!("expected , or }} at {}", self.i));
        }
        Ok(if is_struct {
            G::Obj(fields)
        } else {
            G::Arr(items)
        })
    }
}

/// A map's entries as gdb prints them.
pub(crate) type Entries = Vec<(G, G)>;

/// Splits a `print` line of a map: (`$1 = ` dropped) the summary, and the entries (`None` for
/// a line without `= {`, such as a nil map or an empty one).
pub(crate) fn parse_print_line(line: &str) -> Result<(String, Option<Entries>), String> {
    let body = line
        .split_once(" = ")
        .map(|x| x.1)
        .ok_or_else(|| format!("not a print line: {line}"))?;
    match body.find(" = {") {
        None => Ok((body.to_string(), None)),
        Some(i) => {
            let mut p = P {
                s: &body.as_bytes()[i + 3..],
                i: 0,
            };
            match p.value()? {
                G::Map(m) => Ok((body[..i].to_string(), Some(m))),
                G::Arr(a) if a.is_empty() => Ok((body[..i].to_string(), Some(Vec::new()))),
                other => Err(format!("not a map: {other:?}")),
            }
        }
    }
}

/// Whether gdb's value `g` is the JSON value `want` a Go program printed for it.
pub(crate) fn same(want: &Value, g: &G) -> bool {
    match (want, g) {
        (Value::Number(n), G::Num(f, _)) => {
            let w = n.as_f64().unwrap_or(f64::NAN);
            if let (Some(a), Ok(b)) = (n.as_i64(), g_int(g)) {
                return a == b;
            }
            if let (Some(a), Ok(b)) = (n.as_u64(), g_uint(g)) {
                return a == b;
            }
            w == *f || (w - f).abs() <= 1e-12 * w.abs().max(1.0)
        }
        (Value::String(s), G::Str(b)) => s.as_bytes() == b.as_slice(),
        (Value::String(s), G::Ptr(p)) => {
            u64::from_str_radix(s.trim_start_matches("0x"), 16).ok() == Some(*p)
        }
        (Value::Array(a), G::Str(b)) => {
            // A [N]byte array: gdb leaves out trailing NULs.
            if b.len() > a.len() {
                return false;
            }
            a.iter()
                .enumerate()
                .all(|(i, v)| v.as_u64() == Some(b.get(i).copied().unwrap_or(0) as u64))
        }
        (Value::Array(a), G::Arr(b)) => {
            a.len() == b.len() && a.iter().zip(b).all(|(x, y)| same(x, y))
        }
        (Value::Object(o), G::Obj(f)) => {
            o.len() == f.len()
                && f.iter()
                    .all(|(name, v)| o.get(name).is_some_and(|w| same(w, v)))
        }
        (Value::Bool(a), G::Bool(b)) => a == b,
        (Value::Null, G::Ptr(0)) => true,
        _ => false,
    }
}

fn g_int(g: &G) -> Result<i64, ()> {
    match g {
        G::Num(_, t) => t.parse().map_err(|_| ()),
        _ => Err(()),
    }
}

fn g_uint(g: &G) -> Result<u64, ()> {
    match g {
        G::Num(_, t) => t.parse().map_err(|_| ()),
        _ => Err(()),
    }
}

#[test]
fn reads_what_gdb_prints() {
    let (sum, m) = parse_print_line(
        r#"$3 = map[int32]main.Item(len=2, x) = {[-23] = {ID = 1099511627776, Name = "item 1", Dims = {1, -1, 300}, Ok = false, Ratio = 0.25}, [5] = {ID = 0, Name = "a\"b\n", Dims = {0, 0, 0}, Ok = true, Ratio = 1.5e+20}}"#,
    )
    .unwrap();
    assert_eq!(sum, "map[int32]main.Item(len=2, x)");
    let m = m.unwrap();
    assert_eq!(m.len(), 2);
    let want: Value = serde_json::from_str(
        r#"{"ID": 1099511627776, "Name": "item 1", "Dims": [1, -1, 300], "Ok": false, "Ratio": 0.25}"#,
    )
    .unwrap();
    assert!(same(&serde_json::json!(-23), &m[0].0));
    assert!(same(&want, &m[0].1));
    assert!(!same(&serde_json::json!(-24), &m[0].0));
    let (_, m) =
        parse_print_line(r#"$1 = x = {["\000\001\a"] = 0x4d2f80 <main.sample>, ["b"] = 7}"#)
            .unwrap();
    let m = m.unwrap();
    assert!(same(&serde_json::json!([0, 1, 7, 0, 0]), &m[0].0));
    assert!(!same(&serde_json::json!([0, 1]), &m[0].0));
    assert!(same(&serde_json::json!("0x4d2f80"), &m[0].1));
    let (_, m) =
        parse_print_line(r#"$1 = x = {[1] = "a\336", <incomplete sequence \343\201>, [2] = "b"}"#)
            .unwrap();
    let m = m.unwrap();
    assert_eq!(m[0].1, G::Str(vec![b'a', 0o336, 0o343, 0o201]));
    assert_eq!(m[1].1, G::Str(vec![b'b']));
    let (s, m) = parse_print_line("$2 = map[string]int nil").unwrap();
    assert_eq!((s.as_str(), m), ("map[string]int nil", None));
}
