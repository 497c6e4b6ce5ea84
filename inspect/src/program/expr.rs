//! A small Go expression language to name a map: `pkg.Var` (with the full import path:
//! `example.com/svc/cache.byID`), `.Field` (through pointers, as Go does), `[i]` on arrays
//! and slices, `*p`, and parentheses.
//!
//! ```text
//! main.cache              a package-level variable
//! main.svc.byID           a field of a struct that main.svc points to
//! main.shards[1]          an element of an array or a slice
//! *main.cachePtr          what a pointer points to
//! (*main.p).m             parentheses
//! ```

use std::rc::Rc;

use super::dwarf::{GoDwarf, Kind, Type};
use crate::source::MemoryReader;

/// One step after the variable.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Step {
    /// `.name`
    Field(String),
    /// `[i]`
    Index(u64),
    /// `*` (applied in order with the other steps)
    Deref,
}

/// A parsed expression: a root name (a variable, possibly followed by field names that are
/// told apart from the package path once the variables are known) and steps.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Expr {
    /// The text.
    pub text: String,
    /// The dotted name at the root (`main.svc.byID`).
    pub root: String,
    /// The steps after the root.
    pub steps: Vec<Step>,
}

fn is_name_char(c: char) -> bool {
    c.is_alphanumeric() || matches!(c, '_' | '.' | '/' | '-' | '~')
}

struct P<'a> {
    s: &'a str,
    i: usize,
}

impl P<'_> {
    fn peek(&self) -> Option<char> {
        self.s[self.i..].chars().next()
    }
    fn bump(&mut self) {
        if let Some(c) = self.peek() {
            self.i += c.len_utf8();
        }
    }
    fn skip_ws(&mut self) {
        while self.peek().is_some_and(char::is_whitespace) {
            self.bump();
        }
    }
    fn err(&self, what: &str) -> String {
        format!(
            "expression {:?}: {what} at column {} (the syntax: pkg.Var, .Field, [i], *p, \
             parentheses; e.g. main.svc.byID, \"example.com/x/cache.byID\", main.shards[1])",
            self.s,
            self.i + 1
        )
    }
    /// unary := '*' unary | postfix
    fn unary(&mut self) -> Result<(Option<String>, Vec<Step>), String> {
        self.skip_ws();
        if self.peek() == Some('*') {
            self.bump();
            let (root, mut steps) = self.unary()?;
            steps.push(Step::Deref);
            return Ok((root, steps));
        }
        self.postfix()
    }
    /// postfix := primary ( '.' name | '[' n ']' )*
    fn postfix(&mut self) -> Result<(Option<String>, Vec<Step>), String> {
        self.skip_ws();
        let (root, mut steps) = if self.peek() == Some('(') {
            self.bump();
            let inner = self.unary()?;
            self.skip_ws();
            if self.peek() != Some(')') {
                return Err(self.err("expected ')'"));
            }
            self.bump();
            inner
        } else {
            let start = self.i;
            while self.peek().is_some_and(is_name_char) {
                self.bump();
            }
            if self.i == start {
                return Err(self.err("expected a name"));
            }
            (Some(self.s[start..self.i].to_string()), Vec::new())
        };
        loop {
            self.skip_ws();
            match self.peek() {
                Some('.') => {
                    self.bump();
                    let start = self.i;
                    while self.peek().is_some_and(|c| c.is_alphanumeric() || c == '_') {
                        self.bump();
                    }
                    if self.i == start {
                        return Err(self.err("expected a field name after '.'"));
                    }
                    steps.push(Step::Field(self.s[start..self.i].to_string()));
                }
                Some('[') => {
                    self.bump();
                    self.skip_ws();
                    let start = self.i;
                    while self.peek().is_some_and(|c| c.is_ascii_alphanumeric()) {
                        self.bump();
                    }
                    let t = &self.s[start..self.i];
                    let n = match t.strip_prefix("0x") {
                        Some(h) => u64::from_str_radix(h, 16).ok(),
                        None => t.parse().ok(),
                    }
                    .ok_or_else(|| self.err("expected an index (a number)"))?;
                    self.skip_ws();
                    if self.peek() != Some(']') {
                        return Err(self.err("expected ']'"));
                    }
                    self.bump();
                    steps.push(Step::Index(n));
                }
                _ => return Ok((root, steps)),
            }
        }
    }
}

impl Expr {
    /// Parses an expression.
    pub fn parse(s: &str) -> Result<Expr, String> {
        let mut p = P { s, i: 0 };
        let (root, steps) = p.unary()?;
        p.skip_ws();
        if p.i != s.len() {
            return Err(p.err("unexpected text"));
        }
        let root = root.ok_or_else(|| p.err("expected a variable"))?;
        if root.ends_with('.') || root.contains("..") {
            return Err(p.err("a name cannot end with '.' or hold '..'"));
        }
        Ok(Expr {
            text: s.trim().to_string(),
            root,
            steps,
        })
    }

    /// The ways to split the root into a variable name and field names: the longest variable
    /// name first. Dots before the last `/` belong to the import path.
    pub fn splits(&self) -> Vec<(String, Vec<String>)> {
        let slash = self.root.rfind('/').map_or(0, |i| i + 1);
        let tail = &self.root[slash..];
        let dots: Vec<usize> = tail.match_indices('.').map(|(i, _)| slash + i).collect();
        let mut out = vec![(self.root.clone(), Vec::new())];
        for &d in dots.iter().skip(1).rev() {
            let var = self.root[..d].to_string();
            let fields = self.root[d + 1..].split('.').map(String::from).collect();
            out.push((var, fields));
        }
        out
    }

    /// The root when the expression is a bare variable name (no field, index or `*`).
    pub fn bare_name(&self) -> Option<&str> {
        self.steps.is_empty().then_some(self.root.as_str())
    }
}

/// A place in memory and its type.
#[derive(Clone, Debug)]
pub struct Place {
    /// Its address.
    pub addr: u64,
    /// Its type.
    pub ty: Rc<Type>,
    /// The expression that named it (for messages).
    pub text: String,
}

/// Evaluates `e` to a place, reading pointers and slice headers through `r`.
pub fn eval(e: &Expr, d: &GoDwarf, r: &dyn MemoryReader) -> Result<Place, String> {
    let vars = d.variables()?;
    let (var, fields) = e
        .splits()
        .into_iter()
        .find(|(v, _)| vars.contains_key(v))
        .ok_or_else(|| no_such_variable(&e.root, vars.keys()))?;
    let v = &vars[&var];
    let mut place = Place {
        addr: v.addr,
        ty: d.type_at(v.ty)?,
        text: var.clone(),
    };
    let steps: Vec<Step> = fields
        .into_iter()
        .map(Step::Field)
        .chain(e.steps.iter().cloned())
        .collect();
    for s in steps {
        place = step(place, &s, d, r)?;
    }
    Ok(place)
}

fn deref(p: Place, d: &GoDwarf, r: &dyn MemoryReader) -> Result<Place, String> {
    let Kind::Pointer { target } = p.ty.kind else {
        return Err(format!("{} (type {}) is not a pointer", p.text, p.ty.name));
    };
    let target = target.ok_or_else(|| {
        format!(
            "{} is an unsafe.Pointer: its target type is unknown",
            p.text
        )
    })?;
    let a = r
        .read_u64(p.addr)
        .map_err(|e| format!("reading {}: {e}", p.text))?;
    if a == 0 {
        return Err(format!("{} is a nil pointer", p.text));
    }
    Ok(Place {
        addr: a,
        ty: d.type_at(target)?,
        text: format!("(*{})", p.text),
    })
}

fn step(p: Place, s: &Step, d: &GoDwarf, r: &dyn MemoryReader) -> Result<Place, String> {
    match s {
        Step::Deref => deref(p, d, r),
        Step::Field(name) => {
            let p = if matches!(p.ty.kind, Kind::Pointer { .. }) {
                deref(p, d, r)?
            } else {
                p
            };
            let Kind::Struct { fields } = &p.ty.kind else {
                return Err(format!(
                    "{} (type {}) is not a struct: it has no field {name}",
                    p.text, p.ty.name
                ));
            };
            let f = fields.iter().find(|f| &f.name == name).ok_or_else(|| {
                format!(
                    "{} (type {}) has no field {name}; its fields: {}",
                    p.text,
                    p.ty.name,
                    fields
                        .iter()
                        .map(|f| f.name.as_str())
                        .collect::<Vec<_>>()
                        .join(", ")
                )
            })?;
            Ok(Place {
                addr: p.addr + f.offset,
                ty: f.ty.clone(),
                text: format!("{}.{name}", p.text),
            })
        }
        Step::Index(i) => {
            let p = match &p.ty.kind {
                Kind::Pointer { .. } => deref(p, d, r)?,
                _ => p,
            };
            match &p.ty.kind {
                Kind::Array { elem, len } => {
                    if i >= len {
                        return Err(format!(
                            "{}[{i}]: index out of range (the array has {len} elements)",
                            p.text
                        ));
                    }
                    Ok(Place {
                        addr: p.addr + i * elem.size,
                        ty: elem.clone(),
                        text: format!("{}[{i}]", p.text),
                    })
                }
                Kind::Slice { elem } => {
                    let h = r
                        .read_vec(p.addr, 24)
                        .map_err(|e| format!("reading {}: {e}", p.text))?;
                    let ptr = u64::from_le_bytes(h[0..8].try_into().expect("8"));
                    let len = u64::from_le_bytes(h[8..16].try_into().expect("8"));
                    if *i >= len {
                        return Err(format!(
                            "{}[{i}]: index out of range (the slice has length {len})",
                            p.text
                        ));
                    }
                    let et = d.type_at(elem.ok_or("the slice's elem type is unknown")?)?;
                    Ok(Place {
                        addr: ptr + i * et.size,
                        ty: et,
                        text: format!("{}[{i}]", p.text),
                    })
                }
                _ => Err(format!(
                    "{} (type {}) cannot be indexed: only arrays and slices can",
                    p.text, p.ty.name
                )),
            }
        }
    }
}

/// "no variable X", with the names that come closest.
pub fn no_such_variable<'a>(name: &str, all: impl Iterator<Item = &'a String>) -> String {
    let pkg = name.rsplit_once('.').map(|(p, _)| p).unwrap_or("");
    let last = name.rsplit('.').next().unwrap_or(name).to_lowercase();
    let mut near: Vec<&String> = all
        .filter(|v| {
            let vl = v.to_lowercase();
            (!pkg.is_empty() && v.starts_with(&format!("{pkg}.")) && vl.contains(&last))
                || vl.ends_with(&format!(".{last}"))
        })
        .take(8)
        .collect();
    near.sort();
    let hint = if near.is_empty() {
        "`map-inspect maps` lists the map variables; names are package-qualified with the full \
         import path (main.cache, example.com/svc/cache.byID)"
            .to_string()
    } else {
        format!(
            "did you mean {}?",
            near.iter()
                .map(|s| s.as_str())
                .collect::<Vec<_>>()
                .join(", ")
        )
    };
    format!("no package-level variable {name} in the program's DWARF; {hint}")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn parses() {
        let e = Expr::parse("main.svc.byID").unwrap();
        assert_eq!(e.root, "main.svc.byID");
        assert_eq!(
            e.splits(),
            vec![
                ("main.svc.byID".to_string(), vec![]),
                ("main.svc".to_string(), vec!["byID".to_string()]),
            ]
        );
        let e = Expr::parse("example.com/svc/cache.byID").unwrap();
        assert_eq!(e.splits().len(), 1);
        let e = Expr::parse("*main.p").unwrap();
        assert_eq!(e.steps, vec![Step::Deref]);
        let e = Expr::parse("(*main.p).m[3]").unwrap();
        assert_eq!(
            e.steps,
            vec![Step::Deref, Step::Field("m".into()), Step::Index(3)]
        );
        assert!(Expr::parse("main.x[").is_err());
        assert!(Expr::parse("").is_err());
        assert!(Expr::parse("main.x)").is_err());
    }
}
