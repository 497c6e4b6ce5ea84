//! [`DynMap`]: a Go map whose key and elem types are Go types named at run time.
//!
//! `GoMap<K, V>` needs its types at compile time. A simulator of Go maps ("what would
//! `map[[20]byte]string` look like after these operations?") or a replay of a Go program's
//! map needs them at run time. `DynMap` runs the very same runtime code as `GoMap` (the raw
//! runtime is written once, over a shape that describes the key and elem types), with the
//! layout, hash and equality of the [`GoType`]s it is given:
//!
//! ```
//! use gomap::dynamic::{DynMap, GoType, GoValue};
//!
//! let mut m = DynMap::new(GoType::String, GoType::Bytes(129), 0);
//! m.insert(&GoValue::from("k"), &GoValue::Bytes(vec![7; 129])).unwrap();
//! assert!(m.layout().indirect_elem);        // a [129]byte elem is stored indirectly
//! assert_eq!(m.layout().bucketsize, 8 + 8 * 16 + 8 * 8 + 8);
//! assert_eq!(m.get(&GoValue::from("k")).unwrap(), Some(GoValue::Bytes(vec![7; 129])));
//! ```
//!
//! Strings are stored as Go's `(ptr, len)` headers; their bytes live in separate allocations
//! owned by the map (from the global heap).

use core::alloc::Layout;
use core::fmt;
use core::ptr;

use alloc_crate::boxed::Box;
use alloc_crate::string::String;
use alloc_crate::vec;
use alloc_crate::vec::Vec;
use allocator_api2::alloc::Allocator;

use crate::alloc::DefaultAllocator;
use crate::error::{handle_error, TryReserveError};
use crate::hash::{f32hash, f64hash, memhash, process_hashkey};
use crate::layout::{BucketLayout, Hmap};
use crate::rand::{FastRand, RandSource};
use crate::raw::{KeyOps, RawIter, RawMap, Shape, Slot};
use crate::view::RawView;

const PTR: usize = core::mem::size_of::<usize>();

/// A Go type that a [`DynMap`] can use as key or elem.
#[derive(Copy, Clone, Debug, PartialEq, Eq, Hash)]
pub enum GoType {
    /// `bool`
    Bool,
    /// `int8`
    Int8,
    /// `int16`
    Int16,
    /// `int32`
    Int32,
    /// `int64` (and `int` on 64-bit)
    Int64,
    /// `uint8`
    Uint8,
    /// `uint16`
    Uint16,
    /// `uint32`
    Uint32,
    /// `uint64` (and `uint`, `uintptr` on 64-bit)
    Uint64,
    /// `float32`
    Float32,
    /// `float64`
    Float64,
    /// `string`: a `(ptr, len)` header.
    String,
    /// `[N]byte`
    Bytes(usize),
}

impl GoType {
    /// Size in bytes (Go's `unsafe.Sizeof`).
    pub const fn size(self) -> usize {
        match self {
            GoType::Bool | GoType::Int8 | GoType::Uint8 => 1,
            GoType::Int16 | GoType::Uint16 => 2,
            GoType::Int32 | GoType::Uint32 | GoType::Float32 => 4,
            GoType::Int64 | GoType::Uint64 | GoType::Float64 => 8,
            GoType::String => 2 * PTR,
            GoType::Bytes(n) => n,
        }
    }

    /// Alignment in bytes (Go's `unsafe.Alignof`).
    pub const fn align(self) -> usize {
        match self {
            GoType::String => PTR,
            GoType::Bytes(_) => 1,
            t => t.size(),
        }
    }

    /// Go's spelling of the type (`uint64`, `string`, `[20]uint8`, ...).
    pub fn go_name(self) -> GoTypeName {
        GoTypeName(self)
    }

    /// Parses Go's spelling or a short form: `bool`, `int8`/`i8`, ..., `uint64`/`u64`, `int`,
    /// `uint`, `uintptr`, `float32`/`f32`, `float64`/`f64`, `string`, `[N]byte`/`[N]uint8`/`[N]u8`.
    pub fn parse(s: &str) -> Option<GoType> {
        Some(match s {
            "bool" => GoType::Bool,
            "int8" | "i8" => GoType::Int8,
            "int16" | "i16" => GoType::Int16,
            "int32" | "i32" | "rune" => GoType::Int32,
            "int64" | "i64" | "int" => GoType::Int64,
            "uint8" | "u8" | "byte" => GoType::Uint8,
            "uint16" | "u16" => GoType::Uint16,
            "uint32" | "u32" => GoType::Uint32,
            "uint64" | "u64" | "uint" | "uintptr" => GoType::Uint64,
            "float32" | "f32" => GoType::Float32,
            "float64" | "f64" => GoType::Float64,
            "string" => GoType::String,
            _ => {
                let rest = s.strip_prefix('[')?;
                let (n, elem) = rest.split_once(']')?;
                if !matches!(elem, "byte" | "uint8" | "u8") {
                    return None;
                }
                GoType::Bytes(n.parse().ok()?)
            }
        })
    }

    fn is_float(self) -> bool {
        matches!(self, GoType::Float32 | GoType::Float64)
    }
}

/// Display helper of [`GoType::go_name`].
#[derive(Copy, Clone, Debug)]
pub struct GoTypeName(GoType);

impl fmt::Display for GoTypeName {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let s = match self.0 {
            GoType::Bool => "bool",
            GoType::Int8 => "int8",
            GoType::Int16 => "int16",
            GoType::Int32 => "int32",
            GoType::Int64 => "int64",
            GoType::Uint8 => "uint8",
            GoType::Uint16 => "uint16",
            GoType::Uint32 => "uint32",
            GoType::Uint64 => "uint64",
            GoType::Float32 => "float32",
            GoType::Float64 => "float64",
            GoType::String => "string",
            GoType::Bytes(n) => return write!(f, "[{n}]uint8"),
        };
        f.write_str(s)
    }
}

/// A value of a [`GoType`].
#[derive(Clone, Debug, PartialEq)]
pub enum GoValue {
    /// A `bool`.
    Bool(bool),
    /// A signed integer (for `int8`..`int64`).
    Int(i64),
    /// An unsigned integer (for `uint8`..`uint64`).
    Uint(u64),
    /// A float (for `float32`, `float64`).
    Float(f64),
    /// A string.
    String(String),
    /// The bytes of a `[N]byte`.
    Bytes(Vec<u8>),
}

impl From<&str> for GoValue {
    fn from(s: &str) -> Self {
        GoValue::String(s.into())
    }
}

/// Why a value does not fit a [`GoType`].
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct TypeError {
    /// The type the value was meant for.
    pub ty: GoType,
    /// What is wrong.
    pub reason: String,
}

impl fmt::Display for TypeError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "not a {}: {}", self.ty.go_name(), self.reason)
    }
}

impl core::error::Error for TypeError {}

/// The shape of a [`DynMap`]: keys and elems are byte blobs of their Go types.
pub(crate) struct DynShape {
    key: GoType,
    elem: GoType,
    layout: BucketLayout,
    hashkey: u64,
}

impl DynShape {
    fn new(key: GoType, elem: GoType, hashkey: u64) -> Self {
        DynShape {
            key,
            elem,
            layout: BucketLayout::new(key.size(), key.align(), elem.size(), elem.align()),
            hashkey,
        }
    }
}

/// Go's `==` on two keys of type `ty` (strings by content, floats as floats).
fn key_eq(ty: GoType, a: &[u8], b: &[u8]) -> bool {
    match ty {
        // SAFETY: keys compared by the runtime are live keys or lookup keys made by DynMap,
        // whose string headers point to valid strings.
        GoType::String => unsafe { str_of(a) == str_of(b) },
        GoType::Float32 => {
            f32::from_le_bytes([a[0], a[1], a[2], a[3]])
                == f32::from_le_bytes([b[0], b[1], b[2], b[3]])
        }
        GoType::Float64 => {
            let (mut x, mut y) = ([0u8; 8], [0u8; 8]);
            x.copy_from_slice(a);
            y.copy_from_slice(b);
            f64::from_le_bytes(x) == f64::from_le_bytes(y)
        }
        _ => a == b,
    }
}

/// Frees what a live entry owns (the bytes of its strings).
///
/// # Safety
/// `k` and `v` must be a live key and elem of a `DynMap` with these types.
unsafe fn drop_entry(kt: GoType, et: GoType, k: *mut [u8], v: *mut [u8]) {
    // SAFETY: caller contract: their string headers were made by own_string.
    unsafe {
        if kt == GoType::String {
            free_string(&*k);
        }
        if et == GoType::String {
            free_string(&*v);
        }
    }
}

/// Reads the string a Go string header in `b` points to.
///
/// # Safety
/// `b` must hold a header whose data pointer is valid for `len` bytes of UTF-8 (or len 0).
unsafe fn str_of(b: &[u8]) -> &str {
    let (p, n) = string_header(b);
    if n == 0 {
        return "";
    }
    // SAFETY: caller contract.
    unsafe { core::str::from_utf8_unchecked(core::slice::from_raw_parts(p, n)) }
}

fn string_header(b: &[u8]) -> (*const u8, usize) {
    let mut w = [0u8; PTR];
    w.copy_from_slice(&b[..PTR]);
    let p = usize::from_ne_bytes(w) as *const u8;
    w.copy_from_slice(&b[PTR..2 * PTR]);
    (p, usize::from_ne_bytes(w))
}

/// Frees the string a header owned by a `DynMap` points to.
///
/// # Safety
/// The header must come from `own_string` and not be freed yet.
unsafe fn free_string(b: &[u8]) {
    let (p, n) = string_header(b);
    if n != 0 {
        // SAFETY: `own_string` leaked a `Box<str>` of exactly this pointer and length.
        unsafe {
            drop(Box::from_raw(
                ptr::slice_from_raw_parts_mut(p as *mut u8, n) as *mut str,
            ))
        }
    }
}

/// A Go string header for a fresh, owned copy of `s` (a null header for "").
fn own_string(s: &str) -> [u8; 2 * PTR] {
    let mut h = [0u8; 2 * PTR];
    if !s.is_empty() {
        let b: Box<str> = s.into();
        let n = b.len();
        let p = Box::into_raw(b) as *mut u8 as usize;
        h[..PTR].copy_from_slice(&p.to_ne_bytes());
        h[PTR..].copy_from_slice(&n.to_ne_bytes());
    }
    h
}

// SAFETY: slots (and indirect boxes, laid out with the Go type's size and alignment) hold
// exactly `size` bytes, which `key_at`/`elem_at` cover.
unsafe impl Shape for DynShape {
    type K = [u8];
    type V = [u8];
    fn layout(&self) -> BucketLayout {
        self.layout
    }
    fn key_at(&self, p: *mut u8) -> *mut [u8] {
        ptr::slice_from_raw_parts_mut(p, self.key.size())
    }
    fn elem_at(&self, p: *mut u8) -> *mut [u8] {
        ptr::slice_from_raw_parts_mut(p, self.elem.size())
    }
    unsafe fn drop_entry(&self, k: *mut [u8], v: *mut [u8]) {
        // SAFETY: caller contract: a live entry of this map.
        unsafe { drop_entry(self.key, self.elem, k, v) }
    }
    fn needs_drop(&self) -> bool {
        self.key == GoType::String || self.elem == GoType::String
    }
    fn key_box(&self) -> Layout {
        Layout::from_size_align(self.key.size(), self.key.align()).unwrap_or(Layout::new::<u8>())
    }
    fn elem_box(&self) -> Layout {
        Layout::from_size_align(self.elem.size(), self.elem.align()).unwrap_or(Layout::new::<u8>())
    }
}

impl KeyOps for DynShape {
    fn hash(&self, k: &[u8], seed: u64) -> u64 {
        let hashkey = self.hashkey;
        match self.key {
            // SAFETY: keys the runtime hashes are live keys or lookup keys made by DynMap, whose
            // string headers point to valid strings.
            GoType::String => memhash(unsafe { str_of(k) }.as_bytes(), seed, hashkey),
            GoType::Float32 => f32hash(f32::from_le_bytes([k[0], k[1], k[2], k[3]]), seed, hashkey),
            GoType::Float64 => {
                let mut b = [0u8; 8];
                b.copy_from_slice(k);
                f64hash(f64::from_le_bytes(b), seed, hashkey)
            }
            // Go's memhash0 for zero-size keys returns the seed.
            GoType::Bytes(0) => seed,
            _ => memhash(k, seed, hashkey),
        }
    }
    fn key_eq(&self, a: &[u8], b: &[u8]) -> bool {
        key_eq(self.key, a, b)
    }
    fn reflexive(&self) -> bool {
        !self.key.is_float()
    }
    fn key_has_pointers(&self) -> bool {
        self.key == GoType::String
    }
    fn key_go_string(&self) -> bool {
        self.key == GoType::String
    }
    fn elem_has_pointers(&self) -> bool {
        self.elem == GoType::String
    }
}

/// A Go map whose key and elem types are [`GoType`]s chosen at run time. It runs the same
/// runtime code as [`GoMap`](crate::GoMap), so its memory is Go's.
pub struct DynMap<A: Allocator = DefaultAllocator, R: RandSource = FastRand> {
    raw: RawMap<DynShape, A, R>,
}

impl DynMap {
    /// `make(map[key]elem, hint)` with the process hashkey and the global heap.
    pub fn new(key: GoType, elem: GoType, hint: usize) -> Self {
        match Self::from_parts(
            key,
            elem,
            hint,
            process_hashkey(),
            DefaultAllocator::default(),
            FastRand,
        ) {
            Ok(m) => m,
            Err(e) => handle_error(e),
        }
    }
}

impl<A: Allocator, R: RandSource> DynMap<A, R> {
    /// `make(map[key]elem, hint)` with a given hashkey (Go's `runtime.hashkey[0]`), allocator
    /// and random source; `hash0` is the source's first draw.
    pub fn from_parts(
        key: GoType,
        elem: GoType,
        hint: usize,
        hashkey: u64,
        alloc: A,
        rand: R,
    ) -> Result<Self, TryReserveError> {
        let shape = DynShape::new(key, elem, hashkey);
        Ok(DynMap {
            raw: RawMap::makemap(hint, shape, alloc, rand)?,
        })
    }

    /// The key type.
    pub fn key_type(&self) -> GoType {
        self.raw.shape.key
    }
    /// The elem type.
    pub fn elem_type(&self) -> GoType {
        self.raw.shape.elem
    }
    /// The hashkey in use.
    pub fn hashkey(&self) -> u64 {
        self.raw.shape.hashkey
    }
    /// The bucket layout.
    pub fn layout(&self) -> BucketLayout {
        self.raw.shape.layout
    }
    /// The Go header.
    pub fn header(&self) -> &Hmap {
        &self.raw.h
    }
    /// Number of entries.
    pub fn len(&self) -> usize {
        self.raw.h.count
    }
    /// Whether the map is empty.
    pub fn is_empty(&self) -> bool {
        self.raw.h.count == 0
    }
    /// The random source.
    pub fn rand_source(&self) -> &R {
        &self.raw.rand
    }
    /// Go's bucket type has no pointers (`bucket.ptrdata == 0`).
    pub fn pointer_free(&self) -> bool {
        self.raw.shape.pointer_free()
    }
    /// A read-only view of the memory; keys and elems are byte slices of their Go types.
    pub fn raw(&self) -> RawView<'_, [u8], [u8]> {
        RawView::new(&self.raw.h, self.layout())
    }

    /// The bytes of `v` as a value of type `ty` (little-endian); for a string, a header that
    /// borrows `v`'s bytes (for lookups), or owns a copy when `own` is set.
    fn encode(ty: GoType, v: &GoValue, own: bool) -> Result<Vec<u8>, TypeError> {
        let err = |reason: &str| TypeError {
            ty,
            reason: reason.into(),
        };
        let int = |x: i128, lo: i128, hi: i128, n: usize| -> Result<Vec<u8>, TypeError> {
            if x < lo || x > hi {
                return Err(err("out of range"));
            }
            Ok((x as u64).to_le_bytes()[..n].to_vec())
        };
        match (ty, v) {
            (GoType::Bool, GoValue::Bool(b)) => Ok(vec![*b as u8]),
            (GoType::Int8, GoValue::Int(x)) => int(*x as i128, i8::MIN as i128, i8::MAX as i128, 1),
            (GoType::Int16, GoValue::Int(x)) => {
                int(*x as i128, i16::MIN as i128, i16::MAX as i128, 2)
            }
            (GoType::Int32, GoValue::Int(x)) => {
                int(*x as i128, i32::MIN as i128, i32::MAX as i128, 4)
            }
            (GoType::Int64, GoValue::Int(x)) => {
                int(*x as i128, i64::MIN as i128, i64::MAX as i128, 8)
            }
            (GoType::Uint8, GoValue::Uint(x)) => int(*x as i128, 0, u8::MAX as i128, 1),
            (GoType::Uint16, GoValue::Uint(x)) => int(*x as i128, 0, u16::MAX as i128, 2),
            (GoType::Uint32, GoValue::Uint(x)) => int(*x as i128, 0, u32::MAX as i128, 4),
            (GoType::Uint64, GoValue::Uint(x)) => Ok(x.to_le_bytes().to_vec()),
            (GoType::Int8 | GoType::Int16 | GoType::Int32 | GoType::Int64, GoValue::Uint(x)) => {
                Self::encode(
                    ty,
                    &GoValue::Int(i64::try_from(*x).map_err(|_| err("out of range"))?),
                    own,
                )
            }
            (GoType::Uint8 | GoType::Uint16 | GoType::Uint32 | GoType::Uint64, GoValue::Int(x)) => {
                Self::encode(
                    ty,
                    &GoValue::Uint(u64::try_from(*x).map_err(|_| err("negative"))?),
                    own,
                )
            }
            (GoType::Float32, GoValue::Float(f)) => Ok((*f as f32).to_le_bytes().to_vec()),
            (GoType::Float64, GoValue::Float(f)) => Ok(f.to_le_bytes().to_vec()),
            (GoType::Float32 | GoType::Float64, GoValue::Int(x)) => {
                Self::encode(ty, &GoValue::Float(*x as f64), own)
            }
            (GoType::Float32 | GoType::Float64, GoValue::Uint(x)) => {
                Self::encode(ty, &GoValue::Float(*x as f64), own)
            }
            (GoType::String, GoValue::String(s)) => {
                if own {
                    Ok(own_string(s).to_vec())
                } else {
                    let mut h = vec![0u8; 2 * PTR];
                    if !s.is_empty() {
                        h[..PTR].copy_from_slice(&(s.as_ptr() as usize).to_ne_bytes());
                        h[PTR..].copy_from_slice(&s.len().to_ne_bytes());
                    }
                    Ok(h)
                }
            }
            (GoType::Bytes(n), GoValue::Bytes(b)) => {
                if b.len() != n {
                    return Err(err(&alloc_crate::format!("{} bytes, want {n}", b.len())));
                }
                Ok(b.clone())
            }
            _ => Err(err("wrong kind of value")),
        }
    }

    /// The value stored in `bytes` (a live key or elem of type `ty`).
    fn decode(ty: GoType, b: &[u8]) -> GoValue {
        let u = |n: usize| {
            let mut w = [0u8; 8];
            w[..n].copy_from_slice(&b[..n]);
            u64::from_le_bytes(w)
        };
        match ty {
            GoType::Bool => GoValue::Bool(b[0] != 0),
            GoType::Int8 => GoValue::Int(b[0] as i8 as i64),
            GoType::Int16 => GoValue::Int(u(2) as u16 as i16 as i64),
            GoType::Int32 => GoValue::Int(u(4) as u32 as i32 as i64),
            GoType::Int64 => GoValue::Int(u(8) as i64),
            GoType::Uint8 | GoType::Uint16 | GoType::Uint32 | GoType::Uint64 => {
                GoValue::Uint(u(ty.size()))
            }
            GoType::Float32 => GoValue::Float(f32::from_bits(u(4) as u32) as f64),
            GoType::Float64 => GoValue::Float(f64::from_bits(u(8))),
            // SAFETY: a live string header made by own_string.
            GoType::String => GoValue::String(unsafe { str_of(b) }.into()),
            GoType::Bytes(_) => GoValue::Bytes(b.to_vec()),
        }
    }

    /// Go's `m[key] = elem`. Returns whether the key was new.
    pub fn insert(&mut self, key: &GoValue, elem: &GoValue) -> Result<bool, TypeError> {
        let (kt, et) = (self.key_type(), self.elem_type());
        let probe = Self::encode(kt, key, false)?;
        // Check the elem before changing anything.
        Self::encode(et, elem, false)?;
        let hash = self.raw.shape.hash(&probe, self.raw.h.hash0 as u64);
        let slot = match self.raw.assign(hash, |x| key_eq(kt, x, &probe)) {
            Ok(s) => s,
            Err(e) => handle_error(e),
        };
        let (b, i, new) = match slot {
            Slot::Found(b, i) => (b, i, false),
            Slot::New(b, i) => (b, i, true),
        };
        // SAFETY: (b, i) is the slot assign returned: live (Found) or with uninitialized key
        // and elem bytes (New), which we initialize now.
        unsafe {
            let kp = self.raw.key_ptr(b, i);
            let vp = self.raw.elem_ptr(b, i);
            if new {
                let k = Self::encode(kt, key, true).unwrap_or_else(|_| unreachable!());
                ptr::copy_nonoverlapping(k.as_ptr(), kp.cast::<u8>(), k.len());
            } else {
                // Go's needkeyupdate: floats and strings store the new key.
                if kt == GoType::String {
                    free_string(&*kp);
                    let k = Self::encode(kt, key, true).unwrap_or_else(|_| unreachable!());
                    ptr::copy_nonoverlapping(k.as_ptr(), kp.cast::<u8>(), k.len());
                } else if kt.is_float() {
                    ptr::copy_nonoverlapping(probe.as_ptr(), kp.cast::<u8>(), probe.len());
                }
                if et == GoType::String {
                    free_string(&*vp);
                }
            }
            let v = Self::encode(et, elem, true).unwrap_or_else(|_| unreachable!());
            ptr::copy_nonoverlapping(v.as_ptr(), vp.cast::<u8>(), v.len());
        }
        Ok(new)
    }

    /// Go's `v, ok := m[key]`.
    pub fn get(&self, key: &GoValue) -> Result<Option<GoValue>, TypeError> {
        let probe = Self::encode(self.key_type(), key, false)?;
        if self.raw.h.count == 0 {
            return Ok(None);
        }
        let hash = self.raw.shape.hash(&probe, self.raw.h.hash0 as u64);
        Ok(self
            .raw
            .find(hash, |x| self.raw.shape.key_eq(x, &probe))
            .map(|(b, i)| {
                // SAFETY: a live slot.
                Self::decode(self.elem_type(), unsafe { &*self.raw.elem_ptr(b, i) })
            }))
    }

    /// Go's `delete(m, key)`. Returns whether the key was there.
    pub fn remove(&mut self, key: &GoValue) -> Result<bool, TypeError> {
        let probe = Self::encode(self.key_type(), key, false)?;
        if self.raw.h.count == 0 {
            return Ok(false);
        }
        let hash = self.raw.shape.hash(&probe, self.raw.h.hash0 as u64);
        let (kt, et) = (self.key_type(), self.elem_type());
        let r = self.raw.delete(
            hash,
            |x| key_eq(kt, x, &probe),
            // SAFETY: delete calls `take` once, with the live entry it removes.
            |k, v| unsafe { drop_entry(kt, et, k, v) },
        );
        match r {
            Ok(found) => Ok(found.is_some()),
            Err(e) => handle_error(e),
        }
    }

    /// Go 1.19's `mapclear`.
    pub fn clear(&mut self) {
        self.raw.clear();
    }

    /// The entries, in Go's iteration order (random start).
    pub fn entries(&self) -> Vec<(GoValue, GoValue)> {
        let mut it = RawIter::init(&self.raw);
        let mut out = Vec::with_capacity(self.len());
        // SAFETY: the shared borrow keeps the map unchanged; returned slots are live.
        unsafe {
            while let Some((b, i)) = self.raw.iter_next(&mut it) {
                out.push((
                    Self::decode(self.key_type(), &*self.raw.key_ptr(b, i)),
                    Self::decode(self.elem_type(), &*self.raw.elem_ptr(b, i)),
                ));
            }
        }
        out
    }
}

impl<A: Allocator, R: RandSource> fmt::Debug for DynMap<A, R> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("DynMap")
            .field("key", &self.key_type())
            .field("elem", &self.elem_type())
            .field("len", &self.len())
            .finish_non_exhaustive()
    }
}
