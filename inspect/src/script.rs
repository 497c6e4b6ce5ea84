//! The replay script language: one operation per line, `#` starts a comment.
//!
//! ```text
//! hashkey 0x2545f4914f6cdd1d     # optional: Go's runtime.hashkey[0] (default: random)
//! hash0 0xcb3daafa 0x1234abcd    # optional: the hash0 draws, in order (default: random)
//! map uint64 string 100          # map <K> <V> [hint]: make(map[K]V, hint); must come first
//! insert 7 "seven"               # m[7] = "seven"
//! delete 7                       # delete(m, 7)
//! range insert 0 1000            # for i := 0; i < 1000; i++ { m[K(i)] = V(i) }
//! range delete 0 1000 3          # for i := 0; i < 1000; i += 3 { delete(m, K(i)) }
//! clear                          # Go 1.19's runtime.mapclear (see GoMap::clear for the Go code)
//! dump after-grow                # record the map's memory, with an optional label
//! dumpgrowing churn              # the same, but only while a grow is in progress
//! ```
//!
//! Types: `bool`, `int8`..`int64`, `uint8`..`uint64` (also `i8`.., `u8`.., `int`, `uint`,
//! `uintptr`), `float32`/`float64` (`f32`, `f64`), `string`, `[N]uint8` (`[N]byte`, `[N]u8`)
//! for N up to 1024.
//!
//! Values: integers in decimal or `0x` hex; floats as Go writes them (`1.5`, `-0`, `1e9`,
//! `+Inf`, `-Inf`; `NaN` too, though Go gives every NaN a random hash); strings as a bare word
//! or Go-quoted (`"a b\n"`, with `\\ \" \n \t \r \0 \xNN` escapes); `[N]uint8` as `0x` and
//! exactly 2N hex digits, a quoted string (zero-padded to N), or an integer (little-endian,
//! zero-padded). In `range`, key and value `i` become: the integer; the float; its decimal
//! digits for a string; its little-endian bytes for `[N]uint8`.

use std::fmt;

use gomap::dynamic::{GoType, GoValue};

/// One operation.
#[derive(Clone, Debug, PartialEq)]
pub enum Op {
    /// `m[k] = v`
    Insert(GoValue, GoValue),
    /// `delete(m, k)`
    Delete(GoValue),
    /// `clear`
    Clear,
    /// `dump [label]`
    Dump(String),
    /// `dumpgrowing [label]`: a dump only while a grow is in progress.
    DumpIfGrowing(String),
}

/// A parsed script.
#[derive(Clone, Debug, PartialEq)]
pub struct Script {
    /// `hashkey` directive.
    pub hashkey: Option<u64>,
    /// `hash0` directives, concatenated.
    pub hash0: Vec<u32>,
    /// Key type.
    pub key: GoType,
    /// Elem type.
    pub elem: GoType,
    /// `make` hint.
    pub hint: usize,
    /// The operations with their 1-based line numbers (`range` expands to many).
    pub ops: Vec<(usize, Op)>,
}

/// A script error: the line number and what is wrong.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct ScriptError {
    /// 1-based line number.
    pub line: usize,
    /// The problem.
    pub msg: String,
}

impl fmt::Display for ScriptError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "line {}: {}", self.line, self.msg)
    }
}

impl std::error::Error for ScriptError {}

/// The most operations a script may expand to (a `range` counts each step).
pub const MAX_OPS: usize = 50_000_000;

/// Splits a line into words, keeping quoted strings (with their quotes) as one word and
/// dropping a `#` comment outside quotes.
fn words(line: &str) -> Result<Vec<String>, String> {
    let mut out = Vec::new();
    let mut cur = String::new();
    let mut chars = line.chars().peekable();
    let mut in_word = false;
    while let Some(c) = chars.next() {
        match c {
            '#' if !in_word || cur.is_empty() => break,
            '"' if cur.is_empty() => {
                cur.push('"');
                let mut closed = false;
                while let Some(d) = chars.next() {
                    cur.push(d);
                    if d == '\\' {
                        match chars.next() {
                            Some(e) => cur.push(e),
                            None => return Err("unterminated escape in a string".into()),
                        }
                    } else if d == '"' {
                        closed = true;
                        break;
                    }
                }
                if !closed {
                    return Err("unterminated string (missing \")".into());
                }
                in_word = true;
            }
            c if c.is_whitespace() => {
                if in_word || !cur.is_empty() {
                    out.push(std::mem::take(&mut cur));
                }
                in_word = false;
            }
            c => {
                cur.push(c);
                in_word = true;
            }
        }
    }
    if !cur.is_empty() {
        out.push(cur);
    }
    Ok(out)
}

/// Decodes a Go-quoted string.
fn unquote(s: &str) -> Result<Vec<u8>, String> {
    let inner = s
        .strip_prefix('"')
        .and_then(|r| r.strip_suffix('"'))
        .ok_or("not a quoted string")?;
    let mut out = Vec::new();
    let mut it = inner.chars();
    while let Some(c) = it.next() {
        if c != '\\' {
            let mut b = [0u8; 4];
            out.extend_from_slice(c.encode_utf8(&mut b).as_bytes());
            continue;
        }
        match it.next() {
            Some('n') => out.push(b'\n'),
            Some('t') => out.push(b'\t'),
            Some('r') => out.push(b'\r'),
            Some('0') => out.push(0),
            Some('\\') => out.push(b'\\'),
            Some('"') => out.push(b'"'),
            Some('x') => {
                let h: String = it.by_ref().take(2).collect();
                let v = u8::from_str_radix(&h, 16).map_err(|_| format!("bad escape \\x{h}"))?;
                out.push(v);
            }
            Some(e) => return Err(format!("unknown escape \\{e}")),
            None => return Err("string ends with a backslash".into()),
        }
    }
    Ok(out)
}

fn parse_int(s: &str) -> Result<i128, String> {
    let (neg, body) = match s.strip_prefix('-') {
        Some(r) => (true, r),
        None => (false, s.strip_prefix('+').unwrap_or(s)),
    };
    let v = if let Some(h) = body.strip_prefix("0x").or_else(|| body.strip_prefix("0X")) {
        i128::from_str_radix(h, 16)
    } else {
        body.parse::<i128>()
    }
    .map_err(|_| format!("not an integer: {s}"))?;
    Ok(if neg { -v } else { v })
}

fn parse_float(s: &str) -> Result<f64, String> {
    match s {
        "+Inf" | "Inf" | "inf" | "+inf" => Ok(f64::INFINITY),
        "-Inf" | "-inf" => Ok(f64::NEG_INFINITY),
        "NaN" | "nan" => Ok(f64::NAN),
        _ => s.parse::<f64>().map_err(|_| format!("not a float: {s}")),
    }
}

/// Parses a value of type `ty`.
pub fn parse_value(ty: GoType, s: &str) -> Result<GoValue, String> {
    Ok(match ty {
        GoType::Bool => match s {
            "true" => GoValue::Bool(true),
            "false" => GoValue::Bool(false),
            _ => return Err(format!("not a bool: {s}")),
        },
        GoType::Int8 | GoType::Int16 | GoType::Int32 | GoType::Int64 => {
            let v = parse_int(s)?;
            let bits = ty.size() as u32 * 8;
            let (lo, hi) = (-(1i128 << (bits - 1)), (1i128 << (bits - 1)) - 1);
            if v < lo || v > hi {
                return Err(format!("{s} is out of range for {}", ty.go_name()));
            }
            GoValue::Int(v as i64)
        }
        GoType::Uint8 | GoType::Uint16 | GoType::Uint32 | GoType::Uint64 => {
            let v = parse_int(s)?;
            let bits = ty.size() as u32 * 8;
            if v < 0 || v > (1i128 << bits) - 1 {
                return Err(format!("{s} is out of range for {}", ty.go_name()));
            }
            GoValue::Uint(v as u64)
        }
        GoType::Float32 | GoType::Float64 => GoValue::Float(parse_float(s)?),
        GoType::String => {
            if s.starts_with('"') {
                let b = unquote(s)?;
                GoValue::String(
                    String::from_utf8(b).map_err(|_| "a string must be valid UTF-8".to_string())?,
                )
            } else {
                GoValue::String(s.to_string())
            }
        }
        GoType::Bytes(n) => {
            let mut b = if let Some(h) = s.strip_prefix("0x") {
                if h.len() != 2 * n {
                    return Err(format!(
                        "{s}: a [{n}]uint8 in hex needs exactly {} hex digits",
                        2 * n
                    ));
                }
                (0..n)
                    .map(|i| u8::from_str_radix(&h[2 * i..2 * i + 2], 16))
                    .collect::<Result<Vec<u8>, _>>()
                    .map_err(|_| format!("not hex: {s}"))?
            } else if s.starts_with('"') {
                unquote(s)?
            } else {
                let v = parse_int(s)?;
                if v < 0 || (n < 16 && v >= 1i128 << (8 * n)) {
                    return Err(format!("{s} does not fit in [{n}]uint8"));
                }
                let mut b = (v as u128).to_le_bytes().to_vec();
                b.truncate(n.min(16));
                b
            };
            if b.len() > n {
                return Err(format!("{s}: longer than {n} bytes"));
            }
            b.resize(n, 0);
            GoValue::Bytes(b)
        }
    })
}

/// The value a `range` step `i` gives for type `ty`.
pub fn range_value(ty: GoType, i: u64) -> GoValue {
    match ty {
        GoType::Bool => GoValue::Bool(i % 2 == 1),
        GoType::Int8 | GoType::Int16 | GoType::Int32 | GoType::Int64 => {
            let bits = ty.size() * 8;
            let v = if bits == 64 {
                i as i64
            } else {
                ((i << (64 - bits)) as i64) >> (64 - bits)
            };
            GoValue::Int(v)
        }
        GoType::Uint8 | GoType::Uint16 | GoType::Uint32 | GoType::Uint64 => {
            let bits = ty.size() * 8;
            GoValue::Uint(if bits == 64 { i } else { i & ((1 << bits) - 1) })
        }
        GoType::Float32 | GoType::Float64 => GoValue::Float(i as f64),
        GoType::String => GoValue::String(i.to_string()),
        GoType::Bytes(n) => {
            let mut b = i.to_le_bytes().to_vec();
            b.resize(n, 0);
            GoValue::Bytes(b)
        }
    }
}

/// Parses a type name (see the module docs).
pub fn parse_type(s: &str) -> Result<GoType, String> {
    match GoType::parse(s) {
        Some(GoType::Bytes(n)) if n > 1024 => Err(format!("{s}: arrays up to [1024]uint8 are supported")),
        Some(t) => Ok(t),
        None => Err(format!(
            "unknown type {s:?} (use bool, int8..int64, uint8..uint64, float32, float64, string, [N]uint8)"
        )),
    }
}

/// Parses a whole script.
pub fn parse(text: &str) -> Result<Script, ScriptError> {
    let mut hashkey = None;
    let mut hash0 = Vec::new();
    let mut types: Option<(GoType, GoType, usize)> = None;
    let mut ops = Vec::new();
    for (idx, raw) in text.lines().enumerate() {
        let line = idx + 1;
        let err = |msg: String| ScriptError { line, msg };
        let w = words(raw).map_err(err)?;
        let Some(cmd) = w.first() else { continue };
        let args = &w[1..];
        let want = |n: std::ops::RangeInclusive<usize>, usage: &str| -> Result<(), ScriptError> {
            if n.contains(&args.len()) {
                Ok(())
            } else {
                Err(ScriptError {
                    line,
                    msg: format!("usage: {usage}"),
                })
            }
        };
        match cmd.as_str() {
            "hashkey" => {
                want(1..=1, "hashkey <0x...>")?;
                if types.is_some() {
                    return Err(err("hashkey must come before map".into()));
                }
                let v = parse_int(&args[0]).map_err(err)?;
                hashkey = Some(
                    u64::try_from(v)
                        .map_err(|_| err(format!("hashkey {} is not a uint64", args[0])))?,
                );
            }
            "hash0" => {
                if args.is_empty() {
                    return Err(err("usage: hash0 <0x...> [<0x...> ...]".into()));
                }
                if types.is_some() {
                    return Err(err("hash0 must come before map".into()));
                }
                for a in args {
                    let v = parse_int(a).map_err(err)?;
                    hash0.push(
                        u32::try_from(v).map_err(|_| err(format!("hash0 {a} is not a uint32")))?,
                    );
                }
            }
            "map" => {
                want(2..=3, "map <K> <V> [hint]")?;
                if types.is_some() {
                    return Err(err("only one map per script".into()));
                }
                let k = parse_type(&args[0]).map_err(err)?;
                let v = parse_type(&args[1]).map_err(err)?;
                let hint = match args.get(2) {
                    Some(h) => {
                        let n = parse_int(h).map_err(err)?;
                        // Go treats a negative hint like 0 (and panics only for constants).
                        usize::try_from(n.max(0))
                            .map_err(|_| err(format!("hint {h} is too large")))?
                    }
                    None => 0,
                };
                types = Some((k, v, hint));
            }
            other => {
                let Some((kt, vt, _)) = types else {
                    return Err(err(format!(
                        "{other}: the script must start with `map <K> <V> [hint]`"
                    )));
                };
                match other {
                    "insert" => {
                        want(2..=2, "insert <key> <value>")?;
                        let k = parse_value(kt, &args[0]).map_err(err)?;
                        let v = parse_value(vt, &args[1]).map_err(err)?;
                        ops.push((line, Op::Insert(k, v)));
                    }
                    "delete" => {
                        want(1..=1, "delete <key>")?;
                        ops.push((line, Op::Delete(parse_value(kt, &args[0]).map_err(err)?)));
                    }
                    "clear" => {
                        want(0..=0, "clear")?;
                        ops.push((line, Op::Clear));
                    }
                    "dump" => ops.push((line, Op::Dump(args.join(" ")))),
                    "dumpgrowing" => ops.push((line, Op::DumpIfGrowing(args.join(" ")))),
                    "range" => {
                        want(3..=4, "range insert|delete <from> <to> [step]")?;
                        let from = parse_int(&args[1]).map_err(err)?;
                        let to = parse_int(&args[2]).map_err(err)?;
                        let step = match args.get(3) {
                            Some(s) => parse_int(s).map_err(err)?,
                            None => 1,
                        };
                        if from < 0 || to < from || step < 1 || to > u64::MAX as i128 {
                            return Err(err(format!("range needs 0 <= from <= to and step >= 1 (got {from} {to} {step})")));
                        }
                        let n = ((to - from + step - 1) / step) as usize;
                        if ops.len() + n > MAX_OPS {
                            return Err(err(format!("the script expands to more than {MAX_OPS} operations")));
                        }
                        let insert = match args[0].as_str() {
                            "insert" => true,
                            "delete" => false,
                            a => return Err(err(format!("range {a}: use `range insert` or `range delete`"))),
                        };
                        let mut i = from;
                        while i < to {
                            let k = range_value(kt, i as u64);
                            ops.push((
                                line,
                                if insert {
                                    Op::Insert(k, range_value(vt, i as u64))
                                } else {
                                    Op::Delete(k)
                                },
                            ));
                            i += step;
                        }
                    }
                    _ => {
                        return Err(err(format!(
                            "unknown operation {other:?} (insert, delete, range, clear, dump, dumpgrowing)"
                        )))
                    }
                }
            }
        }
    }
    let Some((key, elem, hint)) = types else {
        return Err(ScriptError {
            line: text.lines().count().max(1),
            msg: "no `map <K> <V> [hint]` line".into(),
        });
    };
    Ok(Script {
        hashkey,
        hash0,
        key,
        elem,
        hint,
        ops,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn parses_the_documented_example() {
        let s = parse(
            "hashkey 0x2545f4914f6cdd1d\nhash0 0xcb3daafa 0x1234abcd\nmap uint64 string 100\n\
             insert 7 \"seven\"\ndelete 7 # gone\nrange insert 0 10\nrange delete 0 10 3\nclear\ndump after grow\n",
        )
        .unwrap();
        assert_eq!(s.hashkey, Some(0x2545f4914f6cdd1d));
        assert_eq!(s.hash0, vec![0xcb3daafa, 0x1234abcd]);
        assert_eq!(
            (s.key, s.elem, s.hint),
            (GoType::Uint64, GoType::String, 100)
        );
        assert_eq!(
            s.ops[0],
            (
                4,
                Op::Insert(GoValue::Uint(7), GoValue::String("seven".into()))
            )
        );
        assert_eq!(s.ops.len(), 2 + 10 + 4 + 2);
        assert_eq!(s.ops.last().unwrap(), &(9, Op::Dump("after grow".into())));
    }

    #[test]
    fn errors_name_the_line() {
        let e = parse("map uint8 uint8\ninsert 300 1\n").unwrap_err();
        assert_eq!(e.line, 2);
        assert!(e.msg.contains("out of range"), "{e}");
        assert_eq!(parse("insert 1 2\n").unwrap_err().line, 1);
        assert_eq!(parse("map u8 u8\nfrobnicate\n").unwrap_err().line, 2);
        assert_eq!(parse("map u8 u8\ninsert \"x 1\n").unwrap_err().line, 2);
        assert_eq!(
            parse("map [3]u8 u8\ninsert 0x0102 1\n").unwrap_err().line,
            2
        );
        assert_eq!(
            parse("# nothing\n").unwrap_err().msg,
            "no `map <K> <V> [hint]` line"
        );
        assert!(parse("map u8 u8\nrange insert 5 1\n").is_err());
    }

    #[test]
    fn values() {
        assert_eq!(
            parse_value(GoType::Bytes(3), "0x010203").unwrap(),
            GoValue::Bytes(vec![1, 2, 3])
        );
        assert_eq!(
            parse_value(GoType::Bytes(3), "\"a\"").unwrap(),
            GoValue::Bytes(vec![b'a', 0, 0])
        );
        assert_eq!(
            parse_value(GoType::Bytes(3), "258").unwrap(),
            GoValue::Bytes(vec![2, 1, 0])
        );
        assert_eq!(
            parse_value(GoType::String, "\"a\\x41\\n\"").unwrap(),
            GoValue::String("aA\n".into())
        );
        assert_eq!(
            parse_value(GoType::Int8, "-128").unwrap(),
            GoValue::Int(-128)
        );
        assert!(parse_value(GoType::Int8, "128").is_err());
        assert_eq!(
            parse_value(GoType::Float64, "-0").unwrap(),
            GoValue::Float(-0.0)
        );
        assert_eq!(range_value(GoType::Int8, 200), GoValue::Int(-56));
        assert_eq!(
            range_value(GoType::String, 42),
            GoValue::String("42".into())
        );
    }
}
