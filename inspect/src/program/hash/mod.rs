//! The hash functions of a target Go process, bit for bit: which algorithm its runtime chose
//! (AES, or one of the two portable versions), with the random keys it drew, read from the
//! process or core file through the executable's symbols.
//!
//! | Go | AES (amd64) | portable | variables |
//! |---|---|---|---|
//! | 1.19–1.22 | [`aes`] | [`portable::Flavor::Go119`]: `m1`..`m5`, `hashkey[0]` | `runtime.useAeshash`, `runtime.aeskeysched`, `runtime.hashkey` |
//! | 1.23–1.26 | [`aes`] | [`portable::Flavor::Go123`]: `hashkey[0..3]`, `m5` | the same |
//! | 1.27+ | [`aes`] (moved to `internal/runtime/maps`) | [`portable::Flavor::Go123`] | `internal/runtime/maps.UseAeshash`, `.aeskeysched`, `.hashkey` |
//!
//! A process uses AES when its CPU has AES, SSSE3 and SSE4.1 and `GODEBUG=cpu.aes=off` is not
//! set; `useAeshash` records the choice. Go fills `aeskeysched` only when it uses AES, and
//! `hashkey` only when it does not (Go 1.27 always fills `hashkey`).
//!
//! On top of these sit the per-type hashers in [`crate::program::keys`]: a map's key type
//! decides which of these functions its hasher calls, in what order, on which bytes.

pub mod aes;
pub mod portable;

use object::{Object, ObjectSegment, ObjectSymbol};

use crate::program::layout::GoVersion;
use crate::program::Program;
use crate::source::MemoryReader;
use aes::{AesHash, KEYSCHED_LEN};
use portable::{Flavor, Portable};

/// Go's `c0` (64-bit), used by the float hashes.
pub const C0: u64 = gomap::hash::C0;
/// Go's `c1` (64-bit), used by the float hashes.
pub const C1: u64 = gomap::hash::C1;

/// Which algorithm, with its keys.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Algorithm {
    /// The AES hash, with `aeskeysched`.
    Aes(AesHash),
    /// The portable hash, with `hashkey`.
    Portable(Portable),
}

/// The hash functions of one process (or of gomap's hasher).
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct RuntimeHash {
    /// The algorithm and its keys.
    pub alg: Algorithm,
    /// Where the keys came from (for messages): `runtime.aeskeysched of pid 4242`.
    pub source: String,
    /// gomap's `GoHasher` (else a Go runtime's hash).
    pub gomap: bool,
}

/// The hash of a float key: Go hashes a NaN with a fresh random number each time.
#[derive(Copy, Clone, Debug, PartialEq, Eq)]
pub enum FloatHash {
    /// The hash.
    Hash(u64),
    /// A NaN: `c1 * (c0 ^ seed ^ rand())`, a random value.
    Random,
}

impl RuntimeHash {
    /// gomap's `GoHasher` with `hashkey` (Go 1.19's portable hash).
    pub fn gomap(hashkey: u64, source: &str) -> RuntimeHash {
        RuntimeHash {
            alg: Algorithm::Portable(Portable {
                flavor: Flavor::Go119,
                hashkey: [hashkey, 0, 0, 0],
            }),
            source: source.to_string(),
            gomap: true,
        }
    }

    /// `runtime.memhash(p, seed, len(p))`.
    pub fn memhash(&self, p: &[u8], seed: u64) -> u64 {
        match &self.alg {
            Algorithm::Aes(a) => a.memhash(p, seed),
            Algorithm::Portable(q) => q.memhash(p, seed),
        }
    }

    /// `runtime.memhash32(&x, seed)`.
    pub fn memhash32(&self, x: u32, seed: u64) -> u64 {
        match &self.alg {
            Algorithm::Aes(a) => a.memhash32(x, seed),
            Algorithm::Portable(q) => q.memhash32(x, seed),
        }
    }

    /// `runtime.memhash64(&x, seed)`.
    pub fn memhash64(&self, x: u64, seed: u64) -> u64 {
        match &self.alg {
            Algorithm::Aes(a) => a.memhash64(x, seed),
            Algorithm::Portable(q) => q.memhash64(x, seed),
        }
    }

    /// `runtime.strhash(&s, seed)`: `memhash` of the string's bytes.
    pub fn strhash(&self, s: &[u8], seed: u64) -> u64 {
        self.memhash(s, seed)
    }

    /// `runtime.f32hash(&f, seed)` for a float32 with bits `bits`: ±0 hash alike, a NaN
    /// hashes randomly, anything else is `memhash` of its 4 bytes (not `memhash32`: the two
    /// differ under AES).
    pub fn f32hash(&self, bits: u32, seed: u64) -> FloatHash {
        let f = f32::from_bits(bits);
        if f == 0.0 {
            FloatHash::Hash(C1.wrapping_mul(C0 ^ seed))
        } else if f.is_nan() {
            FloatHash::Random
        } else {
            FloatHash::Hash(self.memhash(&bits.to_le_bytes(), seed))
        }
    }

    /// `runtime.f64hash(&f, seed)`, as [`RuntimeHash::f32hash`] with 8 bytes.
    pub fn f64hash(&self, bits: u64, seed: u64) -> FloatHash {
        let f = f64::from_bits(bits);
        if f == 0.0 {
            FloatHash::Hash(C1.wrapping_mul(C0 ^ seed))
        } else if f.is_nan() {
            FloatHash::Random
        } else {
            FloatHash::Hash(self.memhash(&bits.to_le_bytes(), seed))
        }
    }

    /// `AES hash (keys: runtime.aeskeysched of pid 4242)`.
    pub fn describe(&self) -> String {
        if self.gomap {
            return format!(
                "gomap's GoHasher: Go 1.19's portable hash (hashkey: {})",
                self.source
            );
        }
        match &self.alg {
            Algorithm::Aes(_) => format!("Go's AES hash (key schedule: {})", self.source),
            Algorithm::Portable(p) => format!(
                "Go's portable hash, {} version (keys: {})",
                match p.flavor {
                    Flavor::Go119 => "Go 1.17–1.22",
                    Flavor::Go123 => "Go 1.23+",
                },
                self.source
            ),
        }
    }

    /// A short name: `aes`, `portable-1.19`, `portable-1.23`.
    pub fn short_name(&self) -> &'static str {
        match &self.alg {
            Algorithm::Aes(_) => "aes",
            Algorithm::Portable(p) => match p.flavor {
                Flavor::Go119 => "portable-1.19",
                Flavor::Go123 => "portable-1.23",
            },
        }
    }
}

/// The hash state a Go runtime keeps, as read from a process.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct HashState {
    /// `useAeshash`.
    pub use_aes: bool,
    /// `aeskeysched` (all zero when the process does not use AES).
    pub aeskeysched: [u8; KEYSCHED_LEN],
    /// `hashkey`.
    pub hashkey: [u64; 4],
    /// The symbols read (`runtime.useAeshash`, ...), for messages.
    pub symbols: [String; 3],
}

/// The names of `useAeshash`, `aeskeysched` and `hashkey` in Go `v`.
pub fn symbol_names(v: GoVersion) -> [&'static str; 3] {
    if v.at_least(1, 27) {
        [
            "internal/runtime/maps.UseAeshash",
            "internal/runtime/maps.aeskeysched",
            "internal/runtime/maps.hashkey",
        ]
    } else {
        [
            "runtime.useAeshash",
            "runtime.aeskeysched",
            "runtime.hashkey",
        ]
    }
}

/// Reads the hash state of the Go program `prog` whose memory `r` is (a process or a core
/// file), through the executable's symbol table.
pub fn read_state<R: MemoryReader + ?Sized>(prog: &Program, r: &R) -> Result<HashState, String> {
    let v = prog
        .build
        .version
        .ok_or("the program's Go version is unknown, so the hash algorithm is unknown")?;
    check_amd64(prog)?;
    if !prog.has_symbols() {
        return Err(format!(
            "{} has no symbol table (built with -ldflags=-s): the runtime's hash keys \
             (runtime.aeskeysched, runtime.hashkey) are found through it, so Go's hash cannot \
             be computed",
            prog.path.display()
        ));
    }
    let names = symbol_names(v);
    let sym = |name: &str, size: u64| -> Result<u64, String> {
        let (addr, sz) = prog.symbol(name).ok_or_else(|| {
            format!(
                "{} has no symbol {name}, where Go {v} keeps its map hash state",
                prog.path.display()
            )
        })?;
        if sz != 0 && sz != size {
            return Err(format!(
                "the symbol {name} is {sz} bytes, but Go {v}'s is {size} bytes"
            ));
        }
        Ok(addr)
    };
    let (a_use, a_ks, a_key) = (
        sym(names[0], 1)?,
        sym(names[1], KEYSCHED_LEN as u64)?,
        sym(names[2], 32)?,
    );
    let read = |addr: u64, n: usize, name: &str| {
        r.read_vec(addr, n)
            .map_err(|e| format!("reading {name}: {e}"))
    };
    let u = read(a_use, 1, names[0])?[0];
    if u > 1 {
        return Err(format!(
            "{} holds {u:#04x}, not a bool: this memory does not hold Go {v}'s runtime",
            names[0]
        ));
    }
    let ks: [u8; KEYSCHED_LEN] = read(a_ks, KEYSCHED_LEN, names[1])?
        .try_into()
        .expect("128 bytes");
    let kb = read(a_key, 32, names[2])?;
    let hashkey: [u64; 4] =
        std::array::from_fn(|i| u64::from_le_bytes(kb[8 * i..8 * i + 8].try_into().expect("8")));
    Ok(HashState {
        use_aes: u == 1,
        aeskeysched: ks,
        hashkey,
        symbols: names.map(String::from),
    })
}

/// Refuses programs built for other architectures: their AES hash is different code.
fn check_amd64(prog: &Program) -> Result<(), String> {
    let data = prog
        .file()
        .mapped()
        .ok_or("the executable cannot be mapped")?;
    let obj = object::File::parse(data).map_err(|e| e.to_string())?;
    if obj.architecture() != object::Architecture::X86_64 {
        return Err(format!(
            "{} is built for {:?}: map-inspect computes Go's map hash of amd64 programs only",
            prog.path.display(),
            obj.architecture()
        ));
    }
    Ok(())
}

/// The hash functions of the Go program `prog` in memory `r`, described as from `who`
/// (`pid 4242`).
pub fn for_program<R: MemoryReader + ?Sized>(
    prog: &Program,
    r: &R,
    who: &str,
) -> Result<RuntimeHash, String> {
    let st = read_state(prog, r)?;
    let v = prog.build.version.expect("read_state checked the version");
    from_state(&st, v, who)
}

/// The hash functions a runtime in state `st` uses, for Go `v`.
pub fn from_state(st: &HashState, v: GoVersion, who: &str) -> Result<RuntimeHash, String> {
    if st.use_aes {
        if st.aeskeysched.iter().all(|&b| b == 0) {
            return Err(format!(
                "{} is set but {} is all zero: Go fills the key schedule before any map is \
                 made, so this is not a running Go {v} runtime's state (a core taken before \
                 the runtime started?)",
                st.symbols[0], st.symbols[1]
            ));
        }
        Ok(RuntimeHash {
            alg: Algorithm::Aes(AesHash::new(st.aeskeysched)?),
            source: format!("{} of {who}", st.symbols[1]),
            gomap: false,
        })
    } else {
        let flavor = Flavor::for_minor(v.minor);
        let used = match flavor {
            Flavor::Go119 => &st.hashkey[..1],
            Flavor::Go123 => &st.hashkey[..],
        };
        if used.iter().all(|&k| k == 0) {
            return Err(format!(
                "{} is false (the portable hash) but {} is zero: Go draws it before any map \
                 is made, so this is not a running Go {v} runtime's state",
                st.symbols[0], st.symbols[2]
            ));
        }
        Ok(RuntimeHash {
            alg: Algorithm::Portable(Portable {
                flavor,
                hashkey: st.hashkey,
            }),
            source: format!("{} of {who}", st.symbols[2]),
            gomap: false,
        })
    }
}

/// The address of gomap's process hashkey (`gomap::hash::HASHKEY`) in the Rust process `pid`,
/// from its executable's symbol table (moved by the load address of a position-independent
/// executable, read from `/proc/PID/maps`).
pub fn gomap_hashkey_address(pid: i32) -> Result<u64, String> {
    let exe = std::path::PathBuf::from(format!("/proc/{pid}/exe"));
    let file = crate::source::FileData::open(&exe)?;
    let data = file.mapped().ok_or_else(|| {
        format!(
            "cannot map {} into memory (an address-space limit?)",
            exe.display()
        )
    })?;
    let obj = object::File::parse(data).map_err(|e| {
        format!(
            "{}: not an executable map-inspect can read: {e}",
            exe.display()
        )
    })?;
    // Legacy Rust mangling: _ZN5gomap4hash7HASHKEY17h<hash>E; v0: _RNvNtCs..._5gomap4hash7HASHKEY.
    let addr = obj
        .symbols()
        .find(|s| {
            s.name()
                .is_ok_and(|n| n.contains("5gomap4hash7HASHKEY") && s.address() != 0)
        })
        .map(|s| s.address())
        .ok_or_else(|| {
            format!(
                "{} has no symbol gomap::hash::HASHKEY (stripped, or it does not use gomap's \
                 process hashkey): give the map's hashkey with --hashkey (GoHasher::hashkey())",
                exe.display()
            )
        })?;
    if obj.kind() != object::ObjectKind::Dynamic {
        return Ok(addr);
    }
    // A position-independent executable: its first segment is mapped at the load address.
    let first = obj.segments().map(|s| s.address()).min().unwrap_or(0) & !0xfff;
    let target = std::fs::read_link(&exe).map_err(|e| format!("{}: {e}", exe.display()))?;
    let maps = std::fs::read_to_string(format!("/proc/{pid}/maps"))
        .map_err(|e| format!("cannot read /proc/{pid}/maps: {e}"))?;
    for line in maps.lines() {
        let f: Vec<&str> = line.split_whitespace().collect();
        if f.len() >= 6 && f[2] == "00000000" && std::path::Path::new(f[5]) == target {
            let start = f[0]
                .split('-')
                .next()
                .and_then(|a| u64::from_str_radix(a, 16).ok())
                .ok_or_else(|| format!("/proc/{pid}/maps: a line I cannot read: {line}"))?;
            return Ok(addr.wrapping_add(start.wrapping_sub(first)));
        }
    }
    Err(format!(
        "cannot find where {} is loaded in pid {pid} (/proc/{pid}/maps names no mapping of it)",
        target.display()
    ))
}
