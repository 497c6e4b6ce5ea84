//! Go 1.19's portable map hash (`runtime/hash64.go`, `alg.go`), bit-exact, and the traits
//! that connect key types to it.
//!
//! Go picks a hash function per key type: `memhash32`/`memhash64` for 4- and 8-byte memory,
//! `strhash` for strings, `f64hash` for floats (which maps ±0 together and gives NaN a random
//! hash), `memhash` of the raw bytes for other plain memory. Each takes a seed (the map's
//! `hash0`) and mixes in a per-process random `hashkey`. gomap implements the portable
//! fallback algorithm that Go uses when AES hashing is off (`GODEBUG=cpu.aes=off`), so for the
//! same hashkey and seed it returns the same 64-bit values as the real runtime; test vectors
//! from Go 1.19 check that.
//!
//! * [`GoKey`]: "hash this key the way Go would", implemented for integers, `bool`, `char`,
//!   floats, `str`/`String`/`Box<str>`/`&str`, `[u8]` and `[u8; N]`.
//! * [`MapHasher`]: what a map's hasher `H` provides: `hash(key, seed)` plus the key
//!   properties Go keeps in its `maptype` flags.
//! * [`GoHasher`]: the Go-exact hasher over [`GoKey`] types, with a given or process hashkey.
//! * [`HashAdapter`]: any `K: Hash` with any [`BuildHasher`], so every key type works.

use crate::sync64::AtomicU64;
use core::hash::{BuildHasher, Hash, Hasher};
use core::sync::atomic::Ordering;

/// Go's `m1`..`m5` hash constants (Go 1.17–1.22).
pub const M1: u64 = 0xa0761d6478bd642f;
/// See [`M1`].
pub const M2: u64 = 0xe7037ed1a0b428db;
/// See [`M1`].
pub const M3: u64 = 0x8ebc6af09c88c6e3;
/// See [`M1`].
pub const M4: u64 = 0x589965cc75374cc3;
/// See [`M1`].
pub const M5: u64 = 0x1d8e4e27c47d124f;
/// Go's `c0` (64-bit), used by the float hashes.
pub const C0: u64 = 33054211828000289;
/// Go's `c1` (64-bit), used by the float hashes.
pub const C1: u64 = 23344194077549503;

/// Go's `mix(a, b)`: the 128-bit product, high half XOR low half.
#[inline(always)]
pub const fn mix(a: u64, b: u64) -> u64 {
    let r = (a as u128) * (b as u128);
    ((r >> 64) as u64) ^ (r as u64)
}

#[inline(always)]
fn r4(p: &[u8], at: usize) -> u64 {
    u32::from_le_bytes([p[at], p[at + 1], p[at + 2], p[at + 3]]) as u64
}

#[inline(always)]
fn r8(p: &[u8], at: usize) -> u64 {
    let mut b = [0u8; 8];
    b.copy_from_slice(&p[at..at + 8]);
    u64::from_le_bytes(b)
}

/// Go's `memhashFallback(p, seed, len(p))` with `hashkey[0] = hashkey` (Go 1.19–1.22).
#[inline]
pub fn memhash(p: &[u8], seed: u64, hashkey: u64) -> u64 {
    memhash_keys(p, seed, &[hashkey ^ M1, M2, M3, M4])
}

/// Go 1.23+'s `memhashFallback(p, seed, len(p))`, keyed by the whole `runtime.hashkey` array.
///
/// Go 1.23 (commits ef2f3391 and 35c61939) replaced the constants m1–m4 of the older fallback
/// with `hashkey[0..4]`: the older hash is this one with `[hashkey[0] ^ M1, M2, M3, M4]`, which
/// is how [`memhash`] computes it.
#[inline]
pub fn memhash_keys(p: &[u8], seed: u64, k: &[u64; 4]) -> u64 {
    let s = p.len();
    let mut seed = seed ^ k[0];
    let (a, b);
    if s == 0 {
        return seed;
    } else if s < 4 {
        a = p[0] as u64 | (p[s >> 1] as u64) << 8 | (p[s - 1] as u64) << 16;
        b = 0;
    } else if s == 4 {
        a = r4(p, 0);
        b = a;
    } else if s < 8 {
        a = r4(p, 0);
        b = r4(p, s - 4);
    } else if s == 8 {
        a = r8(p, 0);
        b = a;
    } else if s <= 16 {
        a = r8(p, 0);
        b = r8(p, s - 8);
    } else {
        let mut l = s;
        let mut o = 0;
        if l > 48 {
            let mut seed1 = seed;
            let mut seed2 = seed;
            while l > 48 {
                seed = mix(r8(p, o) ^ k[1], r8(p, o + 8) ^ seed);
                seed1 = mix(r8(p, o + 16) ^ k[2], r8(p, o + 24) ^ seed1);
                seed2 = mix(r8(p, o + 32) ^ k[3], r8(p, o + 40) ^ seed2);
                o += 48;
                l -= 48;
            }
            seed ^= seed1 ^ seed2;
        }
        while l > 16 {
            seed = mix(r8(p, o) ^ k[1], r8(p, o + 8) ^ seed);
            o += 16;
            l -= 16;
        }
        a = r8(p, o + l - 16);
        b = r8(p, o + l - 8);
    }
    mix(M5 ^ s as u64, mix(a ^ k[1], b ^ seed))
}

/// Go's `memhash32Fallback`: the hash of a 4-byte key (equal to `memhash` of its 4 bytes).
#[inline(always)]
pub const fn memhash32(x: u32, seed: u64, hashkey: u64) -> u64 {
    memhash32_keys(x, seed, &[hashkey ^ M1, M2, M3, M4])
}

/// Go 1.23+'s `memhash32Fallback`, keyed by the whole `runtime.hashkey` array.
#[inline(always)]
pub const fn memhash32_keys(x: u32, seed: u64, k: &[u64; 4]) -> u64 {
    let a = x as u64;
    mix(M5 ^ 4, mix(a ^ k[1], a ^ seed ^ k[0]))
}

/// Go's `memhash64Fallback`: the hash of an 8-byte key (equal to `memhash` of its 8 bytes).
#[inline(always)]
pub const fn memhash64(x: u64, seed: u64, hashkey: u64) -> u64 {
    memhash64_keys(x, seed, &[hashkey ^ M1, M2, M3, M4])
}

/// Go 1.23+'s `memhash64Fallback`, keyed by the whole `runtime.hashkey` array.
#[inline(always)]
pub const fn memhash64_keys(x: u64, seed: u64, k: &[u64; 4]) -> u64 {
    mix(M5 ^ 8, mix(x ^ k[1], x ^ seed ^ k[0]))
}

/// Go's `strhashFallback`: `memhash` of the string's bytes.
#[inline]
pub fn strhash(s: &str, seed: u64, hashkey: u64) -> u64 {
    memhash(s.as_bytes(), seed, hashkey)
}

/// Go's `f32hash`: ±0 hash alike, every NaN gets a fresh random hash, anything else is
/// `memhash` of the 4 bytes.
#[inline]
pub fn f32hash(f: f32, seed: u64, hashkey: u64) -> u64 {
    if f == 0.0 {
        C1.wrapping_mul(C0 ^ seed)
    } else if f.is_nan() {
        C1.wrapping_mul(C0 ^ seed ^ fastrand() as u64)
    } else {
        memhash32(f.to_bits(), seed, hashkey)
    }
}

/// Go's `f64hash`: ±0 hash alike, every NaN gets a fresh random hash, anything else is
/// `memhash` of the 8 bytes.
#[inline]
pub fn f64hash(f: f64, seed: u64, hashkey: u64) -> u64 {
    if f == 0.0 {
        C1.wrapping_mul(C0 ^ seed)
    } else if f.is_nan() {
        C1.wrapping_mul(C0 ^ seed ^ fastrand() as u64)
    } else {
        memhash64(f.to_bits(), seed, hashkey)
    }
}

// ---------------------------------------------------------------------------------------------
// Process-wide randomness: the hashkey and Go's fastrand.

static HASHKEY: AtomicU64 = AtomicU64::new(0);
static FASTRAND: AtomicU64 = AtomicU64::new(0);

/// A 64-bit value that differs from process to process.
///
/// With `std`, it comes from the OS through `RandomState`. Without `std` there is no entropy
/// source; the value then mixes addresses (which vary under ASLR) and a counter, so call
/// [`set_process_hashkey`] with real entropy on such targets.
fn entropy() -> u64 {
    #[cfg(feature = "std")]
    {
        use std::collections::hash_map::RandomState;
        let mut h = RandomState::new().build_hasher();
        h.write_u64(0x676f_6d61_7000_0001);
        h.finish()
    }
    #[cfg(not(feature = "std"))]
    {
        static COUNTER: AtomicU64 = AtomicU64::new(0);
        let local = 0u8;
        let a = &local as *const u8 as usize as u64;
        let b = entropy as fn() -> u64 as usize as u64;
        let c = COUNTER.fetch_add(1, Ordering::Relaxed);
        mix(a ^ M2, b ^ M3 ^ c.wrapping_mul(M4))
    }
}

/// The process's hashkey (Go's `hashkey[0]`): random, odd, and fixed for the process's
/// lifetime once read. [`GoHasher::new`] uses it.
pub fn process_hashkey() -> u64 {
    let k = HASHKEY.load(Ordering::Relaxed);
    if k != 0 {
        return k;
    }
    let fresh = entropy() | 1;
    match HASHKEY.compare_exchange(0, fresh, Ordering::Relaxed, Ordering::Relaxed) {
        Ok(_) => fresh,
        Err(existing) => existing,
    }
}

/// Sets the process hashkey before anything has read it (for targets without an OS entropy
/// source, or to reproduce a recorded Go process). The key is made odd, as Go's is. Returns
/// `false`, and changes nothing, if the hashkey was already fixed.
pub fn set_process_hashkey(key: u64) -> bool {
    HASHKEY
        .compare_exchange(0, key | 1, Ordering::Relaxed, Ordering::Relaxed)
        .is_ok()
}

/// One step of Go 1.19's 64-bit `fastrand` (wyrand) on `state`.
#[inline]
pub(crate) const fn wyrand_step(state: u64) -> (u64, u64) {
    let s = state.wrapping_add(0xa0761d6478bd642f);
    (s, mix(s, s ^ 0xe7037ed1a0b428db))
}

fn fastrand_next() -> u64 {
    if FASTRAND.load(Ordering::Relaxed) == 0 {
        // First use: seed the shared state. A lost race just keeps the other seed.
        let _ = FASTRAND.compare_exchange(0, entropy() | 1, Ordering::Relaxed, Ordering::Relaxed);
    }
    // Advance the shared state by one wyrand increment; concurrent callers each get a
    // distinct step.
    let prev = FASTRAND.fetch_add(0xa0761d6478bd642f, Ordering::Relaxed);
    wyrand_step(prev).1
}

/// A process-wide random `u32`, like Go's `fastrand()` (wyrand). Used for NaN hashes and by
/// [`FastRand`](crate::rand::FastRand).
pub fn fastrand() -> u32 {
    fastrand_next() as u32
}

/// A process-wide random `u64`, like Go's `fastrand64()`.
pub fn fastrand64() -> u64 {
    fastrand_next()
}

// ---------------------------------------------------------------------------------------------
// Key types.

/// A key type that Go can hash: `go_hash` returns exactly what Go 1.19's hasher for the
/// corresponding Go type returns (portable algorithm).
///
/// The associated constants describe how the stored key behaves in Go's memory model; they
/// mirror the bits Go keeps in `maptype.flags` and `ptrdata`.
///
/// Other key types (your own `#[derive(Hash, PartialEq, Eq)]` structs, tuples, ...) go through
/// [`HashAdapter`]: `GoMap<K, V, HashAdapter<RandomState>>`, or its short name
/// [`GoHashMap<K, V>`](crate::GoHashMap). Inserting one into a Go-hashed map does not
/// compile, and the error says so (`GoKey` is not implemented, with a note naming
/// `HashAdapter`):
///
/// ```compile_fail
/// use gomap::GoMap;
///
/// #[derive(Hash, PartialEq, Eq)]
/// struct K(u32, u32);
///
/// let mut m: GoMap<K, u8> = GoMap::new();
/// m.insert(K(1, 2), 3); // error: `K` is not a key type Go's hash knows (`GoKey`)
/// ```
#[diagnostic::on_unimplemented(
    message = "`{Self}` is not a key type Go's hash knows (`GoKey`)",
    label = "Go's own hasher (`GoHasher`, the default of `GoMap<K, V>`) cannot hash `{Self}`",
    note = "any `K: Hash + Eq` works through `HashAdapter`: `let m: gomap::GoMap<K, V, gomap::HashAdapter<std::hash::RandomState>> = gomap::GoMap::new();` (short: `gomap::GoHashMap<K, V>`)"
)]
pub trait GoKey {
    /// Go's hash of `self` with `seed` (a map's `hash0`) and the process `hashkey`.
    fn go_hash(&self, seed: u64, hashkey: u64) -> u64;

    /// The stored key contains pointers (Go: `key.ptrdata != 0`). A deleted pointer key is
    /// zeroed; a pointer-free one keeps its bytes.
    const HAS_POINTERS: bool = false;
    /// The stored key has Go's string header layout `(ptr, len)`, and Go's `faststr` rules
    /// apply: delete clears only the data pointer and keeps the length.
    const GO_STRING: bool = false;
    /// Overwriting an existing key stores the new key (Go's `needkeyupdate`: floats, because
    /// +0 and -0 are equal; strings).
    const NEEDS_KEY_UPDATE: bool = false;
    /// `k == k` for every key (Go's `reflexivekey`; false for floats, because of NaN).
    const REFLEXIVE: bool = true;
}

macro_rules! go_key_mem {
    ($($t:ty => |$x:ident, $seed:ident, $k:ident| $body:expr;)*) => {$(
        impl GoKey for $t {
            #[inline(always)]
            fn go_hash(&self, $seed: u64, $k: u64) -> u64 {
                let $x = *self;
                $body
            }
        }
    )*};
}

go_key_mem! {
    u8 => |x, seed, k| memhash(&[x], seed, k);
    i8 => |x, seed, k| memhash(&[x as u8], seed, k);
    bool => |x, seed, k| memhash(&[x as u8], seed, k);
    u16 => |x, seed, k| memhash(&x.to_le_bytes(), seed, k);
    i16 => |x, seed, k| memhash(&x.to_le_bytes(), seed, k);
    u32 => |x, seed, k| memhash32(x, seed, k);
    i32 => |x, seed, k| memhash32(x as u32, seed, k);
    char => |x, seed, k| memhash32(x as u32, seed, k);
    u64 => |x, seed, k| memhash64(x, seed, k);
    i64 => |x, seed, k| memhash64(x as u64, seed, k);
    u128 => |x, seed, k| memhash(&x.to_le_bytes(), seed, k);
    i128 => |x, seed, k| memhash(&x.to_le_bytes(), seed, k);
    usize => |x, seed, k| memhash(&x.to_le_bytes(), seed, k);
    isize => |x, seed, k| memhash(&x.to_le_bytes(), seed, k);
}

impl GoKey for () {
    /// Go's `memhash0`: a zero-size key hashes to its seed.
    #[inline(always)]
    fn go_hash(&self, seed: u64, _hashkey: u64) -> u64 {
        seed
    }
}

impl GoKey for f32 {
    #[inline]
    fn go_hash(&self, seed: u64, k: u64) -> u64 {
        f32hash(*self, seed, k)
    }
    const NEEDS_KEY_UPDATE: bool = true;
    const REFLEXIVE: bool = false;
}

impl GoKey for f64 {
    #[inline]
    fn go_hash(&self, seed: u64, k: u64) -> u64 {
        f64hash(*self, seed, k)
    }
    const NEEDS_KEY_UPDATE: bool = true;
    const REFLEXIVE: bool = false;
}

impl GoKey for str {
    #[inline]
    fn go_hash(&self, seed: u64, k: u64) -> u64 {
        strhash(self, seed, k)
    }
    const HAS_POINTERS: bool = true;
    const NEEDS_KEY_UPDATE: bool = true;
}

/// `&str` is Go's `string`: a `(ptr, len)` header, 16 bytes.
impl GoKey for &str {
    #[inline]
    fn go_hash(&self, seed: u64, k: u64) -> u64 {
        strhash(self, seed, k)
    }
    const HAS_POINTERS: bool = true;
    const GO_STRING: bool = true;
    const NEEDS_KEY_UPDATE: bool = true;
}

#[cfg(feature = "alloc")]
/// `Box<str>` has Go's string layout: a `(ptr, len)` header, 16 bytes.
impl GoKey for alloc_crate::boxed::Box<str> {
    #[inline]
    fn go_hash(&self, seed: u64, k: u64) -> u64 {
        strhash(self, seed, k)
    }
    const HAS_POINTERS: bool = true;
    const GO_STRING: bool = true;
    const NEEDS_KEY_UPDATE: bool = true;
}

#[cfg(feature = "alloc")]
/// `String` hashes like Go's `string`, but its layout is Rust's 24-byte `(ptr, cap, len)`,
/// so buckets of `String` keys are not Go's bytes. Use `&str` or `Box<str>` for Go's layout.
impl GoKey for alloc_crate::string::String {
    #[inline]
    fn go_hash(&self, seed: u64, k: u64) -> u64 {
        strhash(self, seed, k)
    }
    const HAS_POINTERS: bool = true;
    const NEEDS_KEY_UPDATE: bool = true;
}

impl GoKey for [u8] {
    #[inline]
    fn go_hash(&self, seed: u64, k: u64) -> u64 {
        memhash(self, seed, k)
    }
    const HAS_POINTERS: bool = true;
}

impl GoKey for &[u8] {
    #[inline]
    fn go_hash(&self, seed: u64, k: u64) -> u64 {
        memhash(self, seed, k)
    }
    const HAS_POINTERS: bool = true;
}

#[cfg(feature = "alloc")]
impl GoKey for alloc_crate::boxed::Box<[u8]> {
    #[inline]
    fn go_hash(&self, seed: u64, k: u64) -> u64 {
        memhash(self, seed, k)
    }
    const HAS_POINTERS: bool = true;
}

#[cfg(feature = "alloc")]
impl GoKey for alloc_crate::vec::Vec<u8> {
    #[inline]
    fn go_hash(&self, seed: u64, k: u64) -> u64 {
        memhash(self, seed, k)
    }
    const HAS_POINTERS: bool = true;
}

/// Go's `[N]byte`: `memhash` of the N bytes (`memhash0` for N = 0, which returns the seed).
impl<const N: usize> GoKey for [u8; N] {
    #[inline]
    fn go_hash(&self, seed: u64, k: u64) -> u64 {
        if N == 0 {
            seed
        } else {
            memhash(self, seed, k)
        }
    }
}

// ---------------------------------------------------------------------------------------------
// Map hashers.

/// What a map's hasher provides: the hash of a key with a seed, and the properties of the
/// stored key type `K` that Go keeps in its `maptype`.
///
/// A map `GoMap<K, V, H>` needs `H: MapHasher<K>` to insert, and `H: MapLookup<K, Q>` (which
/// includes `H: MapHasher<Q>`) to look up by another type `Q`. The two must agree: a `q` that
/// [`MapLookup::equivalent`] says equals a key `k` hashes like `k`.
#[diagnostic::on_unimplemented(
    message = "the map hasher `{Self}` cannot hash keys of type `{K}`",
    label = "`{Self}` does not implement `MapHasher<{K}>`",
    note = "`GoHasher` (the default) hashes Go's key types (`GoKey`: integers, floats, strings, byte arrays); any `K: Hash + Eq` works through `HashAdapter`: `GoMap<K, V, gomap::HashAdapter<std::hash::RandomState>>`, short `gomap::GoHashMap<K, V>`"
)]
pub trait MapHasher<K: ?Sized> {
    /// The hash of `key` with `seed` (the map's `hash0`, zero-extended).
    fn hash(&self, key: &K, seed: u64) -> u64;

    /// See [`GoKey::HAS_POINTERS`]. Defaults to "needs drop".
    const KEY_HAS_POINTERS: bool = core::mem::needs_drop::<K>();
    /// See [`GoKey::GO_STRING`].
    const KEY_GO_STRING: bool = false;
    /// See [`GoKey::NEEDS_KEY_UPDATE`].
    const NEEDS_KEY_UPDATE: bool = false;
    /// See [`GoKey::REFLEXIVE`].
    const REFLEXIVE: bool = true;
}

/// How a map whose hasher is `Self` finds a stored key `K` by a lookup key `Q`: `Q`'s hash
/// (the supertrait) and the equality of `Q` with `K`.
///
/// The two hashers implement it as their key types need:
/// * [`GoHasher`]: `Q` is `K` or a form `K` borrows as (`K: Borrow<Q>`, `String` → `str`),
///   compared with `PartialEq`, as Go compares keys: a `f64` NaN equals nothing, so it is never
///   found, and `-0.0` finds `+0.0`.
/// * [`HashAdapter`]: any `Q: Hash + Equivalent<K>`, with the [`equivalent`] crate's trait,
///   which hashbrown and indexmap use too. It covers every `K: Borrow<Q>` with `Q: Eq`, and
///   your own lookup types: a key `(String, String)` is found by a borrowed pair type that
///   implements `Equivalent<(String, String)>` and hashes as the tuple does (below). A bare
///   `(&str, &str)` cannot be one: the `equivalent` crate's blanket impl for `Borrow` rules
///   out an impl for a foreign tuple, in any crate (as for hashbrown and indexmap).
///
/// A hasher of your own implements it for the key types it looks up by.
///
/// ```
/// use gomap::{Equivalent, GoHashMap};
///
/// /// `(&str, &str)`, hashed as `(String, String)` is: each `str`, in order.
/// #[derive(Hash)]
/// struct Pair<'a>(&'a str, &'a str);
///
/// impl Equivalent<(String, String)> for Pair<'_> {
///     fn equivalent(&self, key: &(String, String)) -> bool {
///         self.0 == key.0 && self.1 == key.1
///     }
/// }
///
/// let mut m: GoHashMap<(String, String), u32> = GoHashMap::new();
/// m.insert(("go".to_string(), "map".to_string()), 19);
/// assert_eq!(m.get(&Pair("go", "map")), Some(&19)); // no String built for the lookup
/// assert_eq!(m.get(&("go".to_string(), "map".to_string())), Some(&19)); // Borrow still works
/// ```
pub trait MapLookup<K: ?Sized, Q: ?Sized>: MapHasher<Q> {
    /// Whether the lookup key `q` equals the stored key `k`.
    fn equivalent(q: &Q, k: &K) -> bool;
}

/// The hashers that `GoMap::new()`, `with_capacity`, `new_in`, `with_capacity_in` and
/// `From<[(K, V); N]>` make by themselves: [`GoHasher`] (Go's hash with the process hashkey:
/// `GoMap<K, V>`) and `HashAdapter<RandomState>` (std's hasher, per map random keys:
/// [`GoHashMap<K, V>`](crate::GoHashMap)).
///
/// The map's type picks one, so `let m: GoMap<u64, u64> = GoMap::new();` is a Go map and
/// `GoHashMap::new()` a std-hashed one. `HashAdapter` implements it only for `RandomState`, as
/// std's `HashMap::new` exists only for `RandomState`: that is what lets `GoHashMap::new()`
/// infer its hasher. For another `S: BuildHasher + Default`, use `GoMap::default()` or
/// `GoMap::with_hasher(S::default())`. A map whose type says nothing about its hasher (no
/// annotation, no later use that fixes it) does not compile: name its type.
pub trait DefaultMapHasher: Sized {
    /// A new hasher of this type, as `GoMap::new()` makes it.
    fn default_map_hasher() -> Self;
}

impl DefaultMapHasher for GoHasher {
    fn default_map_hasher() -> Self {
        GoHasher::new()
    }
}

#[cfg(feature = "std")]
impl DefaultMapHasher for HashAdapter<std::hash::RandomState> {
    fn default_map_hasher() -> Self {
        HashAdapter(std::hash::RandomState::new())
    }
}

impl<K: ?Sized + core::borrow::Borrow<Q>, Q: ?Sized + GoKey + PartialEq> MapLookup<K, Q>
    for GoHasher
{
    #[inline(always)]
    fn equivalent(q: &Q, k: &K) -> bool {
        q == k.borrow()
    }
}

impl<K: ?Sized, Q: ?Sized + Hash + equivalent::Equivalent<K>, S: BuildHasher> MapLookup<K, Q>
    for HashAdapter<S>
{
    #[inline(always)]
    fn equivalent(q: &Q, k: &K) -> bool {
        equivalent::Equivalent::equivalent(q, k)
    }
}

/// Go's own hasher: the portable Go 1.19 hash of a [`GoKey`] with a given `hashkey`.
#[derive(Copy, Clone, Debug, PartialEq, Eq, Hash)]
pub struct GoHasher {
    hashkey: u64,
}

impl GoHasher {
    /// A hasher with the process hashkey ([`process_hashkey`]), as every Go map in a process
    /// shares one.
    pub fn new() -> Self {
        GoHasher {
            hashkey: process_hashkey(),
        }
    }
    /// A hasher with a given hashkey, for reproducing a Go process (read its
    /// `runtime.hashkey[0]`). Go's hashkeys are odd; this one is taken as given.
    pub const fn with_hashkey(hashkey: u64) -> Self {
        GoHasher { hashkey }
    }
    /// The hashkey in use.
    pub const fn hashkey(&self) -> u64 {
        self.hashkey
    }
}

impl Default for GoHasher {
    fn default() -> Self {
        Self::new()
    }
}

impl<K: GoKey + ?Sized> MapHasher<K> for GoHasher {
    #[inline(always)]
    fn hash(&self, key: &K, seed: u64) -> u64 {
        key.go_hash(seed, self.hashkey)
    }
    const KEY_HAS_POINTERS: bool = K::HAS_POINTERS;
    const KEY_GO_STRING: bool = K::GO_STRING;
    const NEEDS_KEY_UPDATE: bool = K::NEEDS_KEY_UPDATE;
    const REFLEXIVE: bool = K::REFLEXIVE;
}

/// Hashes any `K: Hash` with a [`BuildHasher`] `S`, seeded with the map's `hash0`.
///
/// The seed is written into the hasher before the key, so reseeding a map (Go does so when it
/// becomes empty, and on `clear`) changes every hash, as in Go. Keys are assumed to satisfy
/// `k == k` (Rust's `Eq`); a key "has pointers" when it needs drop.
#[derive(Copy, Clone, Debug, Default)]
pub struct HashAdapter<S>(pub S);

impl<K: Hash + ?Sized, S: BuildHasher> MapHasher<K> for HashAdapter<S> {
    #[inline]
    fn hash(&self, key: &K, seed: u64) -> u64 {
        let mut h = self.0.build_hasher();
        h.write_u64(seed);
        key.hash(&mut h);
        h.finish()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn fixed_size_hashes_equal_memhash() {
        let k = 0x1234_5678_9abc_def1;
        for seed in [0u64, 1, 0xdead_beef, u32::MAX as u64] {
            for x in [0u64, 1, 42, u64::MAX, 0x0123_4567_89ab_cdef] {
                assert_eq!(memhash64(x, seed, k), memhash(&x.to_le_bytes(), seed, k));
                let y = x as u32;
                assert_eq!(memhash32(y, seed, k), memhash(&y.to_le_bytes(), seed, k));
                let a = [x as u8, (x >> 8) as u8, (x >> 16) as u8, (x >> 24) as u8];
                assert_eq!(a.go_hash(seed, k), memhash(&a, seed, k));
            }
        }
    }

    #[test]
    fn floats_follow_go_rules() {
        let k = 0x9e37_79b9_7f4a_7c15;
        assert_eq!(0.0f64.go_hash(7, k), (-0.0f64).go_hash(7, k));
        assert_eq!(1.5f64.go_hash(7, k), memhash64(1.5f64.to_bits(), 7, k));
        // NaN hashes are random: two in a row differ (with overwhelming probability).
        assert_ne!(f64::NAN.go_hash(7, k), f64::NAN.go_hash(7, k));
        assert_eq!(0.0f32.go_hash(3, k), (-0.0f32).go_hash(3, k));
    }

    #[test]
    fn borrowed_forms_agree() {
        let h = GoHasher::with_hashkey(0x55);
        let s = "hello, gomap";
        let v: u64 = MapHasher::<str>::hash(&h, s, 9);
        assert_eq!(MapHasher::<&str>::hash(&h, &s, 9), v);
        #[cfg(feature = "alloc")]
        {
            let b: alloc_crate::boxed::Box<str> = s.into();
            assert_eq!(
                MapHasher::<alloc_crate::boxed::Box<str>>::hash(&h, &b, 9),
                v
            );
            let st: alloc_crate::string::String = s.into();
            assert_eq!(
                MapHasher::<alloc_crate::string::String>::hash(&h, &st, 9),
                v
            );
        }
        let arr = *b"0123456789abcdef0123";
        assert_eq!(
            MapHasher::<[u8; 20]>::hash(&h, &arr, 3),
            MapHasher::<[u8]>::hash(&h, &arr[..], 3)
        );
    }

    #[test]
    fn hashkey_is_odd_and_stable() {
        let a = process_hashkey();
        assert_eq!(a & 1, 1);
        assert_eq!(process_hashkey(), a);
        assert!(!set_process_hashkey(2));
    }
}
