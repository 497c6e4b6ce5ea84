//! A JSON Schema validator for the keywords `docs/dump.schema.json` uses: `type`, `const`,
//! `enum`, `properties`, `required`, `additionalProperties: false`, `items`, `minItems`,
//! `maxItems`, `minimum`, `maximum`, `pattern`, `oneOf` and `$ref` to `#/$defs/...`.
//! Annotations (`$schema`, `$id`, `title`, `description`) are ignored; any other keyword is
//! an error, so the schema cannot use a keyword this validator would silently skip.
//!
//! `pattern` is matched by a small regex engine for the syntax the schema uses: literals,
//! `\` escapes, `.`, classes `[a-z0-9]`, groups with `|`, `*`, `+`, `?`, `{n}`, `{n,m}`,
//! `{n,}`, and the anchors `^` and `$` (a pattern matches anywhere, as in JSON Schema).

use std::collections::BTreeSet;

use serde_json::Value;

const ANNOTATIONS: [&str; 4] = ["$schema", "$id", "title", "description"];

/// Validates `v` against `schema` (whose `$defs` resolve `$ref`s). The error names the
/// JSON path of the first violation.
pub(crate) fn validate(schema: &Value, v: &Value) -> Result<(), String> {
    check(schema, schema, v, "$")
}

fn type_matches(t: &str, v: &Value) -> Result<bool, String> {
    Ok(match t {
        "null" => v.is_null(),
        "boolean" => v.is_boolean(),
        "object" => v.is_object(),
        "array" => v.is_array(),
        "string" => v.is_string(),
        "number" => v.is_number(),
        "integer" => v.is_u64() || v.is_i64(),
        other => return Err(format!("unknown type {other:?} in the schema")),
    })
}

fn check(root: &Value, s: &Value, v: &Value, path: &str) -> Result<(), String> {
    let obj = s
        .as_object()
        .ok_or_else(|| format!("schema at {path} is not an object"))?;
    for (k, kv) in obj {
        match k.as_str() {
            a if ANNOTATIONS.contains(&a) => {}
            "$defs" => {}
            "$ref" => {
                let r = kv.as_str().ok_or("$ref is not a string")?;
                let name = r
                    .strip_prefix("#/$defs/")
                    .ok_or_else(|| format!("unsupported $ref {r}"))?;
                let target = &root["$defs"][name];
                if target.is_null() {
                    return Err(format!("$ref {r} does not exist"));
                }
                check(root, target, v, path)?;
            }
            "type" => {
                let ok = match kv {
                    Value::String(t) => type_matches(t, v)?,
                    Value::Array(ts) => {
                        let mut any = false;
                        for t in ts {
                            any |= type_matches(t.as_str().ok_or("type entry")?, v)?;
                        }
                        any
                    }
                    _ => return Err("bad type keyword".into()),
                };
                if !ok {
                    return Err(format!("{path}: {v} is not of type {kv}"));
                }
            }
            "const" => {
                if kv != v {
                    return Err(format!("{path}: {v} is not {kv}"));
                }
            }
            "enum" => {
                if !kv.as_array().ok_or("enum")?.contains(v) {
                    return Err(format!("{path}: {v} is not one of {kv}"));
                }
            }
            "properties" => {
                if let Some(o) = v.as_object() {
                    for (name, ps) in kv.as_object().ok_or("properties")? {
                        if let Some(x) = o.get(name) {
                            check(root, ps, x, &format!("{path}.{name}"))?;
                        }
                    }
                }
            }
            "required" => {
                if let Some(o) = v.as_object() {
                    for r in kv.as_array().ok_or("required")? {
                        let r = r.as_str().ok_or("required entry")?;
                        if !o.contains_key(r) {
                            return Err(format!("{path}: required field {r:?} is missing"));
                        }
                    }
                }
            }
            "additionalProperties" => {
                if kv != &Value::Bool(false) {
                    return Err("only additionalProperties: false is supported".into());
                }
                if let Some(o) = v.as_object() {
                    let props = obj
                        .get("properties")
                        .and_then(Value::as_object)
                        .ok_or("additionalProperties without properties")?;
                    for name in o.keys() {
                        if !props.contains_key(name) {
                            return Err(format!("{path}: field {name:?} is not in the schema"));
                        }
                    }
                }
            }
            "items" => {
                if let Some(a) = v.as_array() {
                    for (i, x) in a.iter().enumerate() {
                        check(root, kv, x, &format!("{path}[{i}]"))?;
                    }
                }
            }
            "minItems" | "maxItems" => {
                if let Some(a) = v.as_array() {
                    let n = kv.as_u64().ok_or("minItems/maxItems")? as usize;
                    let bad = if k == "minItems" {
                        a.len() < n
                    } else {
                        a.len() > n
                    };
                    if bad {
                        return Err(format!("{path}: {} items violates {k} {n}", a.len()));
                    }
                }
            }
            "minimum" | "maximum" => {
                if let (Some(x), Some(lim)) = (v.as_f64(), kv.as_f64()) {
                    let bad = if k == "minimum" { x < lim } else { x > lim };
                    if bad {
                        return Err(format!("{path}: {v} violates {k} {kv}"));
                    }
                }
            }
            "pattern" => {
                if let Some(st) = v.as_str() {
                    let re = Regex::new(kv.as_str().ok_or("pattern")?)?;
                    if !re.is_match(st) {
                        return Err(format!("{path}: {v} does not match {kv}"));
                    }
                }
            }
            "oneOf" => {
                let alts = kv.as_array().ok_or("oneOf")?;
                let mut errors = Vec::new();
                let mut ok = 0;
                for a in alts {
                    match check(root, a, v, path) {
                        Ok(()) => ok += 1,
                        Err(e) => errors.push(e),
                    }
                }
                if ok != 1 {
                    return Err(format!(
                        "{path}: {ok} of the oneOf alternatives match (want 1): {}",
                        errors.join("; ")
                    ));
                }
            }
            other => return Err(format!("the validator does not support keyword {other:?}")),
        }
    }
    Ok(())
}

#[derive(Clone, Debug)]
enum Node {
    Char(char),
    Any,
    Class(Vec<(char, char)>, bool),
    Start,
    End,
    Alt(Vec<Vec<(Node, usize, Option<usize>)>>),
}

/// A compiled pattern.
pub(crate) struct Regex(Node);

struct Parser<'a> {
    c: &'a [char],
    i: usize,
}

impl Parser<'_> {
    fn alt(&mut self) -> Result<Node, String> {
        let mut branches = vec![self.seq()?];
        while self.c.get(self.i) == Some(&'|') {
            self.i += 1;
            branches.push(self.seq()?);
        }
        Ok(Node::Alt(branches))
    }
    fn seq(&mut self) -> Result<Vec<(Node, usize, Option<usize>)>, String> {
        let mut items = Vec::new();
        while let Some(&c) = self.c.get(self.i) {
            if c == '|' || c == ')' {
                break;
            }
            let atom = self.atom()?;
            let (min, max) = self.quantifier()?;
            items.push((atom, min, max));
        }
        Ok(items)
    }
    fn atom(&mut self) -> Result<Node, String> {
        let c = self.c[self.i];
        self.i += 1;
        Ok(match c {
            '(' => {
                let n = self.alt()?;
                if self.c.get(self.i) != Some(&')') {
                    return Err("unclosed group".into());
                }
                self.i += 1;
                n
            }
            '[' => {
                let neg = self.c.get(self.i) == Some(&'^');
                if neg {
                    self.i += 1;
                }
                let mut ranges = Vec::new();
                loop {
                    let a = *self.c.get(self.i).ok_or("unclosed class")?;
                    self.i += 1;
                    if a == ']' {
                        break;
                    }
                    let a = if a == '\\' {
                        let e = *self.c.get(self.i).ok_or("bad escape")?;
                        self.i += 1;
                        e
                    } else {
                        a
                    };
                    if self.c.get(self.i) == Some(&'-') && self.c.get(self.i + 1) != Some(&']') {
                        let b = *self.c.get(self.i + 1).ok_or("bad range")?;
                        self.i += 2;
                        ranges.push((a, b));
                    } else {
                        ranges.push((a, a));
                    }
                }
                Node::Class(ranges, neg)
            }
            '\\' => {
                let e = *self.c.get(self.i).ok_or("bad escape")?;
                self.i += 1;
                if e.is_ascii_alphanumeric() {
                    return Err(format!("unsupported escape \\{e}"));
                }
                Node::Char(e)
            }
            '.' => Node::Any,
            '^' => Node::Start,
            '$' => Node::End,
            c => Node::Char(c),
        })
    }
    fn number(&mut self) -> Result<usize, String> {
        let start = self.i;
        while self.c.get(self.i).is_some_and(|c| c.is_ascii_digit()) {
            self.i += 1;
        }
        self.c[start..self.i]
            .iter()
            .collect::<String>()
            .parse()
            .map_err(|_| "bad repetition count".to_string())
    }
    fn quantifier(&mut self) -> Result<(usize, Option<usize>), String> {
        let q = match self.c.get(self.i) {
            Some('*') => (0, None),
            Some('+') => (1, None),
            Some('?') => (0, Some(1)),
            Some('{') => {
                self.i += 1;
                let n = self.number()?;
                let q = if self.c.get(self.i) == Some(&',') {
                    self.i += 1;
                    if self.c.get(self.i) == Some(&'}') {
                        (n, None)
                    } else {
                        (n, Some(self.number()?))
                    }
                } else {
                    (n, Some(n))
                };
                if self.c.get(self.i) != Some(&'}') {
                    return Err("unclosed {".into());
                }
                q
            }
            _ => return Ok((1, Some(1))),
        };
        self.i += 1;
        Ok(q)
    }
}

impl Regex {
    /// Compiles `p`.
    pub(crate) fn new(p: &str) -> Result<Regex, String> {
        let c: Vec<char> = p.chars().collect();
        let mut ps = Parser { c: &c, i: 0 };
        let n = ps.alt()?;
        if ps.i != c.len() {
            return Err(format!("pattern {p:?}: unexpected {:?}", c[ps.i]));
        }
        Ok(Regex(n))
    }
    /// Whether the pattern matches somewhere in `s`.
    pub(crate) fn is_match(&self, s: &str) -> bool {
        let c: Vec<char> = s.chars().collect();
        (0..=c.len()).any(|start| !ends(&self.0, &c, start).is_empty())
    }
}

/// Every position where `n` can end when it starts at `pos`.
fn ends(n: &Node, s: &[char], pos: usize) -> BTreeSet<usize> {
    let one = |ok: bool| {
        if ok {
            BTreeSet::from([pos + 1])
        } else {
            BTreeSet::new()
        }
    };
    match n {
        Node::Char(c) => one(s.get(pos) == Some(c)),
        Node::Any => one(pos < s.len()),
        Node::Class(ranges, neg) => one(s
            .get(pos)
            .is_some_and(|&c| ranges.iter().any(|&(a, b)| a <= c && c <= b) != *neg)),
        Node::Start => {
            if pos == 0 {
                BTreeSet::from([pos])
            } else {
                BTreeSet::new()
            }
        }
        Node::End => {
            if pos == s.len() {
                BTreeSet::from([pos])
            } else {
                BTreeSet::new()
            }
        }
        Node::Alt(branches) => {
            let mut out = BTreeSet::new();
            for items in branches {
                let mut at = BTreeSet::from([pos]);
                for (node, min, max) in items {
                    at = repeat(node, s, &at, *min, *max);
                    if at.is_empty() {
                        break;
                    }
                }
                out.extend(at);
            }
            out
        }
    }
}

fn repeat(
    n: &Node,
    s: &[char],
    from: &BTreeSet<usize>,
    min: usize,
    max: Option<usize>,
) -> BTreeSet<usize> {
    let mut result = if min == 0 {
        from.clone()
    } else {
        BTreeSet::new()
    };
    let mut seen = from.clone();
    let mut current = from.clone();
    let mut count = 0;
    while max.map_or(true, |m| count < m) {
        let next: BTreeSet<usize> = current.iter().flat_map(|&p| ends(n, s, p)).collect();
        count += 1;
        if next.is_empty() {
            break;
        }
        if count >= min {
            result.extend(next.iter().copied());
        }
        // With no upper bound, stop once no new position appears (past the minimum).
        if max.is_none() && count >= min && next.is_subset(&seen) {
            break;
        }
        seen.extend(next.iter().copied());
        current = next;
    }
    result
}

#[test]
fn regex_subset() {
    let m = |p: &str, s: &str| Regex::new(p).unwrap().is_match(s);
    assert!(m("^0x[0-9a-f]+$", "0x7ffd0"));
    assert!(!m("^0x[0-9a-f]+$", "0x"));
    assert!(!m("^0x[0-9a-f]+$", "0x7G"));
    assert!(m("^([0-9a-f][0-9a-f])*$", ""));
    assert!(m("^([0-9a-f][0-9a-f])*$", "00ff"));
    assert!(!m("^([0-9a-f][0-9a-f])*$", "00f"));
    assert!(m("^[0-9a-f]{4}$", "beef"));
    assert!(!m("^[0-9a-f]{4}$", "beefs"));
    assert!(m("^(main\\[[0-9]+\\]|heap#[0-9]+)$", "main[12]"));
    assert!(m("^(main\\[[0-9]+\\]|heap#[0-9]+)$", "heap#0"));
    assert!(!m("^(main\\[[0-9]+\\]|heap#[0-9]+)$", "main[]"));
    assert!(m("b", "abc"), "unanchored patterns match anywhere");
}

#[test]
fn validator_rejects_what_it_should() {
    let schema = serde_json::json!({
        "type": "object",
        "required": ["a", "b"],
        "additionalProperties": false,
        "properties": {
            "a": { "$ref": "#/$defs/n" },
            "b": { "oneOf": [{ "type": "null" }, { "type": "array", "items": { "enum": [1, 2] }, "maxItems": 2 }] }
        },
        "$defs": { "n": { "type": "integer", "minimum": 0, "maximum": 9 } }
    });
    let ok = serde_json::json!({ "a": 3, "b": [1, 2] });
    assert_eq!(validate(&schema, &ok), Ok(()));
    assert_eq!(
        validate(&schema, &serde_json::json!({ "a": 3, "b": null })),
        Ok(())
    );
    for bad in [
        serde_json::json!({ "a": 3 }),
        serde_json::json!({ "a": 10, "b": null }),
        serde_json::json!({ "a": 1.5, "b": null }),
        serde_json::json!({ "a": 3, "b": [3] }),
        serde_json::json!({ "a": 3, "b": [1, 1, 1] }),
        serde_json::json!({ "a": 3, "b": null, "c": 0 }),
    ] {
        assert!(validate(&schema, &bad).is_err(), "{bad} passed");
    }
    let unknown = serde_json::json!({ "format": "uri" });
    assert!(validate(&unknown, &serde_json::json!("x")).is_err());
}
