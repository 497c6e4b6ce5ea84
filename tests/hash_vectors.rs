//! gomap's hash functions against the real Go 1.19 runtime's portable (non-AES) hash.
//!
//! `tests/data/go1.19-hash-vectors.txt` was printed by the Go program in `tests/go/hashvec`
//! run under `GODEBUG=cpu.aes=off` (its header documents the command and the line format).
//! It holds the runtime's `hashkey[0]` and thousands of vectors from `runtime.memhash`,
//! `memhash32`, `memhash64`, `strhash`, `f32hash`, `f64hash` and from the hashers that the
//! Go compiler picked for real map types (`maptype.hasher` of `map[uint8]int`,
//! `map[string]int`, `map[[20]byte]int`, ...). Every vector is checked here with gomap's
//! functions and with `GoHasher` through the `MapHasher`/`GoKey` impls of the matching Rust
//! key types.
//!
//! `fresh_go_run_matches` rebuilds and reruns the Go program, which draws a new random
//! hashkey, and checks that run too. It needs Go 1.19 (`apt-get install -y golang-1.19-go`):
//! without it the test fails when `CI=true` and is skipped with a warning otherwise.
//! Go 1.19 is found through `$GOMAP_GO_CACHE` (see `scripts/go-toolchains`).

use std::collections::{BTreeMap, BTreeSet};
use std::fmt::Write as _;
use std::path::Path;
use std::process::Command;

use gomap::hash::{self, GoHasher, MapHasher, C0, C1};

#[path = "common/go.rs"]
mod go_toolchain;

/// The committed vectors.
const COMMITTED: &str = include_str!("data/go1.19-hash-vectors.txt");

/// The map key types the Go program covers; a vectors file must have all of them.
const MAP_TYPES: &[&str] = &[
    "uint8",
    "int8",
    "bool",
    "uint16",
    "int16",
    "uint32",
    "int32",
    "uint64",
    "int64",
    "uint",
    "int",
    "uintptr",
    "float32",
    "float64",
    "string",
    "struct{}",
    "[2]uint64",
    "[0]uint8",
    "[1]uint8",
    "[2]uint8",
    "[3]uint8",
    "[4]uint8",
    "[5]uint8",
    "[7]uint8",
    "[8]uint8",
    "[9]uint8",
    "[12]uint8",
    "[16]uint8",
    "[17]uint8",
    "[20]uint8",
    "[32]uint8",
    "[48]uint8",
    "[49]uint8",
    "[64]uint8",
    "[100]uint8",
    "[128]uint8",
];

/// The vector records a complete file has.
const VECTOR_KINDS: &[&str] = &[
    "memhash",
    "memhash32",
    "memhash64",
    "strhash",
    "f32hash",
    "f64hash",
    "f32nan",
    "f64nan",
    "map",
    "mapnan",
];

/// What checking one vectors file found.
#[derive(Debug, Default)]
struct Report {
    version: Option<String>,
    /// A `useaeshash false` line was seen.
    portable: bool,
    hashkey: Option<u64>,
    input_seed: Option<u64>,
    /// Vector lines checked, by record name.
    kinds: BTreeMap<String, usize>,
    memhash_lens: BTreeSet<usize>,
    strhash_lens: BTreeSet<usize>,
    map_types: BTreeSet<String>,
    /// The `end N` trailer, and whether anything but blank lines followed it.
    end: Option<usize>,
    failures: Vec<String>,
}

impl Report {
    fn checked(&self) -> usize {
        self.kinds.values().sum()
    }

    /// What is wrong: failed vectors, and missing parts of a complete file. Empty if all is
    /// well.
    fn problems(&self) -> String {
        let mut problems = String::new();
        for f in self.failures.iter().take(40) {
            let _ = writeln!(problems, "  {f}");
        }
        if self.failures.len() > 40 {
            let _ = writeln!(problems, "  ... and {} more", self.failures.len() - 40);
        }
        match self.version.as_deref() {
            Some(v) if v.starts_with("go1.19") => {}
            v => {
                let _ = writeln!(problems, "  version is {v:?}, want go1.19.x");
            }
        }
        if self.hashkey.is_none() {
            let _ = writeln!(problems, "  no hashkey line");
        }
        if !self.portable {
            let _ = writeln!(problems, "  no `useaeshash false` line");
        }
        if self.end != Some(self.checked()) {
            let _ = writeln!(
                problems,
                "  end line says {:?} vectors, {} were read: truncated or malformed file",
                self.end,
                self.checked()
            );
        }
        for kind in VECTOR_KINDS {
            if self.kinds.get(*kind).copied().unwrap_or(0) == 0 {
                let _ = writeln!(problems, "  no {kind} vectors");
            }
        }
        let missing: Vec<usize> = (0..=200)
            .filter(|n| !self.memhash_lens.contains(n))
            .collect();
        if !missing.is_empty() {
            let _ = writeln!(problems, "  memhash lengths missing: {missing:?}");
        }
        let missing: Vec<usize> = (0..=64)
            .filter(|n| !self.strhash_lens.contains(n))
            .collect();
        if !missing.is_empty() {
            let _ = writeln!(problems, "  strhash lengths missing: {missing:?}");
        }
        let missing: Vec<&str> = MAP_TYPES
            .iter()
            .copied()
            .filter(|t| !self.map_types.contains(*t))
            .collect();
        if !missing.is_empty() {
            let _ = writeln!(problems, "  map types missing: {missing:?}");
        }
        problems
    }

    /// Panics, listing what is wrong, unless every vector matched and the file is complete.
    fn assert_all_pass(&self, what: &str) {
        let problems = self.problems();
        assert!(
            problems.is_empty(),
            "{what}: {} of {} vectors failed (hashkey {:x?}):\n{problems}",
            self.failures.len(),
            self.checked(),
            self.hashkey,
        );
        eprintln!(
            "{what}: all {} vectors match Go ({}, hashkey {:016x}): {:?}",
            self.checked(),
            self.version.as_deref().unwrap_or("?"),
            self.hashkey.unwrap_or(0),
            self.kinds
        );
    }
}

fn hex_u64(s: &str) -> Result<u64, String> {
    u64::from_str_radix(s, 16).map_err(|e| format!("bad hex number {s:?}: {e}"))
}

fn hex_u32(s: &str) -> Result<u32, String> {
    u32::from_str_radix(s, 16).map_err(|e| format!("bad hex number {s:?}: {e}"))
}

fn hex_bytes(s: &str) -> Result<Vec<u8>, String> {
    if s == "-" {
        return Ok(Vec::new());
    }
    if s.len() % 2 != 0 {
        return Err(format!("odd-length hex bytes ({} digits)", s.len()));
    }
    (0..s.len())
        .step_by(2)
        .map(|i| {
            s.get(i..i + 2)
                .and_then(|d| u8::from_str_radix(d, 16).ok())
                .ok_or_else(|| format!("bad hex bytes at digit {i}"))
        })
        .collect()
}

fn arr<const N: usize>(b: &[u8]) -> Result<[u8; N], String> {
    b.try_into()
        .map_err(|_| format!("key has {} bytes, the type has {N}", b.len()))
}

/// `GoHasher`'s hash of `key` as a `K`, through `MapHasher<K>`.
fn mh<K: ?Sized>(h: &GoHasher, key: &K, seed: u64) -> u64
where
    GoHasher: MapHasher<K>,
{
    <GoHasher as MapHasher<K>>::hash(h, key, seed)
}

/// The inverse of `C1` modulo 2^64 (C1 is odd), by Newton's iteration.
fn c1_inverse() -> u64 {
    let mut x = C1; // correct to 3 bits for odd C1
    for _ in 0..6 {
        x = x.wrapping_mul(2u64.wrapping_sub(C1.wrapping_mul(x)));
    }
    assert_eq!(C1.wrapping_mul(x), 1);
    x
}

/// Whether `h` is a NaN hash for `seed`: Go's `c1 * (c0 ^ seed ^ r)` for some `r: u32`.
fn is_nan_hash(h: u64, seed: u64) -> bool {
    (h.wrapping_mul(c1_inverse()) ^ C0 ^ seed) <= u64::from(u32::MAX)
}

/// Compares Go's `want` with every `(rust form, gomap value)` in `got`.
fn compare(want: u64, got: &[(&str, u64)]) -> Result<(), String> {
    let wrong: Vec<String> = got
        .iter()
        .filter(|(_, v)| *v != want)
        .map(|(form, v)| format!("{form} gives {v:016x}"))
        .collect();
    if wrong.is_empty() {
        Ok(())
    } else {
        Err(format!(
            "Go gives {want:016x}, gomap's {}",
            wrong.join(", ")
        ))
    }
}

/// Checks Go's two NaN hashes `h1`, `h2` of the same NaN with `seed`, and gomap's
/// (`gomap_nan` hashes that NaN).
fn check_nan(seed: u64, h1: u64, h2: u64, gomap_nan: impl Fn() -> u64) -> Result<(), String> {
    if h1 == h2 {
        return Err(format!("Go's two NaN hashes are equal ({h1:016x})"));
    }
    for h in [h1, h2] {
        if !is_nan_hash(h, seed) {
            return Err(format!("Go's NaN hash {h:016x} is not c1*(c0^seed^r)"));
        }
    }
    let (g1, g2) = (gomap_nan(), gomap_nan());
    if g1 == g2 {
        return Err(format!("gomap's two NaN hashes are equal ({g1:016x})"));
    }
    for g in [g1, g2] {
        if !is_nan_hash(g, seed) {
            return Err(format!("gomap's NaN hash {g:016x} is not c1*(c0^seed^r)"));
        }
    }
    Ok(())
}

/// Checks a `map TYPE SEED BYTES HASH` record with the Rust key types that stand for TYPE.
fn check_map(ty: &str, seed: u64, key: &[u8], want: u64, h: &GoHasher) -> Result<(), String> {
    macro_rules! ints {
        ($($t:ty),*) => {
            vec![$((stringify!($t), mh(h, &<$t>::from_le_bytes(arr(key)?), seed))),*]
        };
    }
    macro_rules! byte_arrays {
        ($($n:literal)*) => {
            match ty.strip_prefix('[').and_then(|t| t.strip_suffix("]uint8")) {
                $(Some(stringify!($n)) => {
                    let mut got = vec![("[u8; N]", mh(h, &arr::<$n>(key)?, seed))];
                    // For N > 0 Go's [N]byte hash is memhash of the bytes; so is [u8]'s.
                    if $n > 0 {
                        got.push(("[u8]", mh::<[u8]>(h, key, seed)));
                        got.push(("Vec<u8>", mh(h, &key.to_vec(), seed)));
                    }
                    got
                })*
                _ => return Err(format!("unknown map key type {ty:?}")),
            }
        };
    }
    let got: Vec<(&str, u64)> = match ty {
        "uint8" => ints!(u8),
        "int8" => ints!(i8),
        "bool" => {
            let b = match key {
                [0] => false,
                [1] => true,
                _ => return Err(format!("bad bool key {key:?}")),
            };
            vec![("bool", mh(h, &b, seed))]
        }
        "uint16" => ints!(u16),
        "int16" => ints!(i16),
        "uint32" => ints!(u32),
        "int32" => {
            let mut got = ints!(i32);
            // Go's rune is int32; every valid Rust char hashes the same way.
            if let Some(c) = char::from_u32(u32::from_le_bytes(arr(key)?)) {
                got.push(("char", mh(h, &c, seed)));
            }
            got
        }
        "uint64" | "uint" | "uintptr" => {
            #[cfg(target_pointer_width = "64")]
            let got = ints!(u64, usize);
            #[cfg(not(target_pointer_width = "64"))]
            let got = ints!(u64);
            got
        }
        "int64" | "int" => {
            #[cfg(target_pointer_width = "64")]
            let got = ints!(i64, isize);
            #[cfg(not(target_pointer_width = "64"))]
            let got = ints!(i64);
            got
        }
        "float32" => {
            let f = f32::from_le_bytes(arr(key)?);
            vec![("f32", mh(h, &f, seed))]
        }
        "float64" => {
            let f = f64::from_le_bytes(arr(key)?);
            vec![("f64", mh(h, &f, seed))]
        }
        "string" => {
            let s = std::str::from_utf8(key).map_err(|e| format!("string key: {e}"))?;
            let boxed: Box<str> = s.into();
            vec![
                ("str", mh::<str>(h, s, seed)),
                ("&str", mh(h, &s, seed)),
                ("String", mh(h, &s.to_string(), seed)),
                ("Box<str>", mh(h, &boxed, seed)),
            ]
        }
        "struct{}" => {
            if !key.is_empty() {
                return Err("struct{} key with bytes".into());
            }
            vec![("()", mh(h, &(), seed))]
        }
        "[2]uint64" => ints!(u128, i128),
        _ => byte_arrays!(0 1 2 3 4 5 7 8 9 12 16 17 20 32 48 49 64 100 128),
    };
    compare(want, &got)
}

/// Checks one vector line (already split into fields) with hashkey `k`.
fn check_vector(f: &[&str], k: u64, report: &mut Report) -> Result<(), String> {
    let h = GoHasher::with_hashkey(k);
    let n = |i: usize| {
        f.get(i)
            .copied()
            .ok_or_else(|| format!("{} fields, want more", f.len()))
    };
    let want_fields = match f[0] {
        "memhash" | "memhash32" | "memhash64" | "strhash" | "f32hash" | "f64hash" => 4,
        "f32nan" | "f64nan" | "map" => 5,
        "mapnan" => 6,
        other => return Err(format!("unknown record {other:?}")),
    };
    if f.len() != want_fields {
        return Err(format!("{} fields, want {want_fields}", f.len()));
    }
    match f[0] {
        "memhash" => {
            let (seed, b, want) = (hex_u64(n(1)?)?, hex_bytes(n(2)?)?, hex_u64(n(3)?)?);
            report.memhash_lens.insert(b.len());
            compare(
                want,
                &[
                    ("hash::memhash", hash::memhash(&b, seed, k)),
                    ("GoHasher [u8]", mh::<[u8]>(&h, &b, seed)),
                    ("GoHasher Vec<u8>", mh(&h, &b, seed)),
                ],
            )
            .map_err(|e| format!("len {}: {e}", b.len()))
        }
        "memhash32" => {
            let (seed, x, want) = (hex_u64(n(1)?)?, hex_u32(n(2)?)?, hex_u64(n(3)?)?);
            compare(
                want,
                &[
                    ("hash::memhash32", hash::memhash32(x, seed, k)),
                    ("hash::memhash", hash::memhash(&x.to_le_bytes(), seed, k)),
                    ("GoHasher u32", mh(&h, &x, seed)),
                ],
            )
        }
        "memhash64" => {
            let (seed, x, want) = (hex_u64(n(1)?)?, hex_u64(n(2)?)?, hex_u64(n(3)?)?);
            compare(
                want,
                &[
                    ("hash::memhash64", hash::memhash64(x, seed, k)),
                    ("hash::memhash", hash::memhash(&x.to_le_bytes(), seed, k)),
                    ("GoHasher u64", mh(&h, &x, seed)),
                ],
            )
        }
        "strhash" => {
            let (seed, b, want) = (hex_u64(n(1)?)?, hex_bytes(n(2)?)?, hex_u64(n(3)?)?);
            let s = String::from_utf8(b).map_err(|e| format!("strhash input: {e}"))?;
            report.strhash_lens.insert(s.len());
            compare(
                want,
                &[
                    ("hash::strhash", hash::strhash(&s, seed, k)),
                    ("GoHasher str", mh::<str>(&h, &s, seed)),
                    ("GoHasher String", mh(&h, &s, seed)),
                ],
            )
            .map_err(|e| format!("len {}: {e}", s.len()))
        }
        "f32hash" => {
            let (seed, bits, want) = (hex_u64(n(1)?)?, hex_u32(n(2)?)?, hex_u64(n(3)?)?);
            let x = f32::from_bits(bits);
            compare(
                want,
                &[
                    ("hash::f32hash", hash::f32hash(x, seed, k)),
                    ("GoHasher f32", mh(&h, &x, seed)),
                ],
            )
        }
        "f64hash" => {
            let (seed, bits, want) = (hex_u64(n(1)?)?, hex_u64(n(2)?)?, hex_u64(n(3)?)?);
            let x = f64::from_bits(bits);
            compare(
                want,
                &[
                    ("hash::f64hash", hash::f64hash(x, seed, k)),
                    ("GoHasher f64", mh(&h, &x, seed)),
                ],
            )
        }
        "f32nan" => {
            let (seed, bits) = (hex_u64(n(1)?)?, hex_u32(n(2)?)?);
            let x = f32::from_bits(bits);
            if !x.is_nan() {
                return Err("not a NaN".into());
            }
            check_nan(seed, hex_u64(n(3)?)?, hex_u64(n(4)?)?, || {
                hash::f32hash(x, seed, k)
            })
        }
        "f64nan" => {
            let (seed, bits) = (hex_u64(n(1)?)?, hex_u64(n(2)?)?);
            let x = f64::from_bits(bits);
            if !x.is_nan() {
                return Err("not a NaN".into());
            }
            check_nan(seed, hex_u64(n(3)?)?, hex_u64(n(4)?)?, || {
                hash::f64hash(x, seed, k)
            })
        }
        "map" => {
            let ty = n(1)?;
            let (seed, key, want) = (hex_u64(n(2)?)?, hex_bytes(n(3)?)?, hex_u64(n(4)?)?);
            report.map_types.insert(ty.to_string());
            check_map(ty, seed, &key, want, &h)
        }
        "mapnan" => {
            let (ty, seed) = (n(1)?, hex_u64(n(2)?)?);
            let (h1, h2) = (hex_u64(n(4)?)?, hex_u64(n(5)?)?);
            match ty {
                "float32" => {
                    let x = f32::from_bits(hex_u32(n(3)?)?);
                    if !x.is_nan() {
                        return Err("not a NaN".into());
                    }
                    check_nan(seed, h1, h2, || mh(&h, &x, seed))
                }
                "float64" => {
                    let x = f64::from_bits(hex_u64(n(3)?)?);
                    if !x.is_nan() {
                        return Err("not a NaN".into());
                    }
                    check_nan(seed, h1, h2, || mh(&h, &x, seed))
                }
                _ => Err(format!("mapnan for non-float type {ty:?}")),
            }
        }
        _ => unreachable!("record names were checked above"),
    }
}

/// Parses a vectors file and checks every vector in it. Never panics on bad input: every
/// problem becomes a failure in the report.
fn check_vectors(text: &str) -> Report {
    let mut report = Report::default();
    for (i, line) in text.lines().enumerate() {
        let lineno = i + 1;
        let line = line.trim_end();
        if line.is_empty() || line.starts_with('#') {
            continue;
        }
        let f: Vec<&str> = line.split(' ').collect();
        let mut fail = |msg: String| {
            let shown: String = line.chars().take(120).collect();
            report
                .failures
                .push(format!("line {lineno}: {msg}\n      {shown}"));
        };
        if report.end.is_some() {
            fail("line after the end line".into());
            continue;
        }
        match (f[0], f.get(1), f.len()) {
            ("version", Some(v), 2) => report.version = Some(v.to_string()),
            ("goarch", Some(_), 2) => {}
            ("useaeshash", Some(&"false"), 2) => report.portable = true,
            ("useaeshash", _, _) => fail("the Go runtime used the AES hash".into()),
            ("inputseed", Some(s), 2) => match hex_u64(s) {
                Ok(s) => report.input_seed = Some(s),
                Err(e) => fail(e),
            },
            ("hashkey", Some(s), 2) => match hex_u64(s) {
                Ok(k) if report.hashkey.is_none() && k & 1 == 1 => report.hashkey = Some(k),
                Ok(k) => fail(format!("second or even hashkey {k:016x}")),
                Err(e) => fail(e),
            },
            ("end", Some(s), 2) => match s.parse() {
                Ok(n) => report.end = Some(n),
                Err(e) => fail(format!("bad end count: {e}")),
            },
            _ => {
                let Some(k) = report.hashkey else {
                    fail("vector before the hashkey line".into());
                    continue;
                };
                *report.kinds.entry(f[0].to_string()).or_default() += 1;
                if let Err(msg) = check_vector(&f, k, &mut report) {
                    let shown: String = line.chars().take(120).collect();
                    report
                        .failures
                        .push(format!("line {lineno}: {msg}\n      {shown}"));
                }
            }
        }
    }
    report
}

#[test]
// The hash functions are safe arithmetic (nothing for Miri to check that the unit tests under
// Miri do not already cover), and parsing 1 MB of vectors takes far too long interpreted.
#[cfg_attr(miri, ignore)]
fn committed_vectors_match_go_1_19() {
    let report = check_vectors(COMMITTED);
    report.assert_all_pass("tests/data/go1.19-hash-vectors.txt");
    assert!(
        report.checked() > 7000,
        "too few vectors: {}",
        report.checked()
    );
}

/// The checker must be able to fail: corrupt the committed file in several ways and make
/// sure each corruption is caught.
#[test]
#[cfg_attr(miri, ignore)]
fn checker_catches_corrupted_vectors() {
    let clean = check_vectors(COMMITTED);
    assert!(clean.failures.is_empty());
    let k = clean.hashkey.unwrap();
    let total = clean.checked();

    // Another (odd) hashkey: every vector that depends on the hashkey must fail. Only the
    // hashes of +-0 floats and of zero-size keys (which return the seed) do not.
    let other_key = COMMITTED.replace(
        &format!("hashkey {k:016x}"),
        &format!("hashkey {:016x}", k ^ 2),
    );
    let r = check_vectors(&other_key);
    assert_eq!(r.checked(), total);
    let independent = COMMITTED
        .lines()
        .filter(|l| {
            let f: Vec<&str> = l.split(' ').collect();
            match f.as_slice() {
                // +0 or -0: all bits but the sign bit are zero.
                ["f64hash", _, bits, _] => hex_u64(bits).unwrap() << 1 == 0,
                ["f32hash", _, bits, _] => hex_u32(bits).unwrap() << 1 == 0,
                ["map", "float32" | "float64", _, key, _] => {
                    key.chars().all(|c| c == '0')
                        || *key == "00000080"
                        || *key == "0000000000000080"
                }
                ["map", "struct{}" | "[0]uint8", ..] => true,
                [kind, ..] => kind.ends_with("nan"),
                [] => false,
            }
        })
        .count();
    assert!(independent > 0 && independent < total / 10);
    assert_eq!(
        r.failures.len(),
        total - independent,
        "{:#?}",
        r.failures.iter().take(3).collect::<Vec<_>>()
    );

    // One hash digit changed in each kind of record: exactly that vector fails.
    for kind in [
        "memhash ",
        "memhash32 ",
        "strhash ",
        "f64hash ",
        "map string ",
        "map [20]uint8 ",
    ] {
        let line = COMMITTED.lines().find(|l| l.starts_with(kind)).unwrap();
        let (head, last) = line.rsplit_once(' ').unwrap();
        let flipped = format!("{head} {:016x}", hex_u64(last).unwrap() ^ 0x100);
        let r = check_vectors(&COMMITTED.replacen(line, &flipped, 1));
        assert_eq!(r.failures.len(), 1, "{kind}: {:?}", r.failures);
        assert_eq!(r.checked(), total);
    }

    // A truncated file fails the completeness checks.
    let cut = &COMMITTED[..COMMITTED.len() / 2];
    let cut = &cut[..cut.rfind('\n').unwrap()];
    let r = check_vectors(cut);
    assert!(r.failures.is_empty());
    assert!(r.problems().contains("truncated"), "{}", r.problems());

    // Equal NaN hashes, or a NaN hash without Go's form, fail.
    let nan = COMMITTED
        .lines()
        .find(|l| l.starts_with("f64nan "))
        .unwrap();
    let f: Vec<&str> = nan.split(' ').collect();
    let same = format!("{} {} {} {} {}", f[0], f[1], f[2], f[3], f[3]);
    assert_eq!(
        check_vectors(&COMMITTED.replacen(nan, &same, 1))
            .failures
            .len(),
        1
    );
    let odd = format!(
        "{} {} {} {} {:016x}",
        f[0],
        f[1],
        f[2],
        f[3],
        hex_u64(f[4]).unwrap() ^ 1
    );
    assert_eq!(
        check_vectors(&COMMITTED.replacen(nan, &odd, 1))
            .failures
            .len(),
        1
    );
}

/// Whether `go env NAME` names a directory that exists or can be made, and can be written.
fn go_dir_writable(go: &Path, name: &str) -> bool {
    let Ok(out) = Command::new(go).args(["env", name]).output() else {
        return false;
    };
    let dir = String::from_utf8_lossy(&out.stdout).trim().to_string();
    if !out.status.success() || dir.is_empty() || dir == "off" {
        return false;
    }
    let probe = Path::new(&dir).join(format!(".gomap-probe-{}", std::process::id()));
    let ok = std::fs::create_dir_all(&dir).is_ok() && std::fs::write(&probe, b"").is_ok();
    let _ = std::fs::remove_file(&probe);
    ok
}

#[test]
#[cfg_attr(miri, ignore)]
fn fresh_go_run_matches() {
    let go = match go_toolchain::find_go() {
        Ok(go) => go,
        Err(why) => {
            let msg = format!(
                "Go 1.19 not found ({why}). It is needed to regenerate the hash test vectors: \
                 install it with `scripts/go-toolchains 1.19`."
            );
            if std::env::var("CI").as_deref() == Ok("true") {
                panic!("\n\n!!!!! {msg}\n");
            }
            eprintln!("\n!!!!! WARNING: SKIPPING fresh_go_run_matches: {msg}\n");
            return;
        }
    };

    let tmp = Path::new(env!("CARGO_TARGET_TMPDIR"));
    let nanos = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map_or(0, |d| d.as_nanos());
    let work = tmp.join(format!("hashvec-{}-{nanos}", std::process::id()));
    std::fs::create_dir_all(&work).unwrap();
    let bin = work.join("hashvec");
    let src = Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/go/hashvec");

    let mut build = Command::new(&go);
    build
        .args(["build", "-o"])
        .arg(&bin)
        .arg(".")
        .current_dir(&src)
        .env("GOFLAGS", "-mod=mod")
        .env("GOTOOLCHAIN", "local")
        .env("CGO_ENABLED", "0")
        .env_remove("GOOS")
        .env_remove("GOARCH");
    // Go's caches live under $HOME by default; use the target dir where that does not work.
    if !go_dir_writable(&go, "GOCACHE") {
        build.env("GOCACHE", tmp.join("go-cache"));
    }
    if !go_dir_writable(&go, "GOPATH") {
        build.env("GOPATH", tmp.join("go-path"));
    }
    let out = build.output().expect("running go build");
    assert!(
        out.status.success(),
        "go build of {} failed:\n{}",
        src.display(),
        String::from_utf8_lossy(&out.stderr)
    );

    // New inputs as well as a new hashkey.
    let input_seed = (nanos as u64) ^ u64::from(std::process::id()).rotate_left(32);
    let out = Command::new(&bin)
        .arg("-seed")
        .arg(input_seed.to_string())
        .env("GODEBUG", "cpu.aes=off")
        .output()
        .expect("running the hashvec program");
    assert!(
        out.status.success(),
        "hashvec failed:\n{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let text = String::from_utf8(out.stdout).expect("hashvec output is UTF-8");
    let report = check_vectors(&text);
    eprintln!("fresh run: input seed {input_seed:016x}");
    report.assert_all_pass("fresh Go 1.19 run");
    assert_eq!(report.input_seed, Some(input_seed));
    let committed = check_vectors(COMMITTED).hashkey;
    assert_ne!(
        report.hashkey, committed,
        "the fresh run has the committed hashkey"
    );
    let _ = std::fs::remove_dir_all(&work);
}
