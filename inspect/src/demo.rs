//! The built-in demo: a gomap map built in this process and stopped in the middle of a grow,
//! so that a dump shows old buckets, evacuation marks, overflow chains and preallocated
//! buckets.
//!
//! The demo runs three phases of operations on a [`DynMap`] (the same runtime code as
//! `GoMap`, with Go types chosen at run time):
//! 1. insert keys `0..keys`;
//! 2. delete `deletes` of them, evenly spread (they leave `EMPTY_ONE` holes);
//! 3. insert new keys until a grow starts, then `grow_writes` more (each write evacuates at
//!    most two old buckets, so the grow stays unfinished).
//!
//! Key `i` and elem `i` become values of the chosen types (see [`key_value`], [`elem_value`]).
//! The hashkey and the `hash0` draw come from `seed`, so the same options build the same map
//! every time (addresses aside).

use gomap::alloc::Global;
use gomap::dynamic::{DynMap, GoType, GoValue};
use gomap::rand::SeededRand;

/// The map type the demo builds.
pub type DemoMap = DynMap<Global, SeededRand>;

/// The most operations a demo runs.
pub const MAX_OPS: usize = 1 << 21;

/// The demo's parameters.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct DemoOptions {
    /// Key type.
    pub key: GoType,
    /// Elem type.
    pub elem: GoType,
    /// Phase 1: keys inserted.
    pub keys: usize,
    /// The `make` hint.
    pub hint: usize,
    /// Phase 2: keys deleted.
    pub deletes: usize,
    /// Phase 3: writes after the one that started a grow.
    pub grow_writes: usize,
    /// Stop after this many operations (`None`: run all).
    pub at_op: Option<usize>,
    /// Seed of the hashkey and of the map's random draws.
    pub seed: u64,
}

impl Default for DemoOptions {
    fn default() -> Self {
        DemoOptions {
            key: GoType::Uint64,
            elem: GoType::Uint64,
            keys: 52,
            hint: 0,
            deletes: 4,
            grow_writes: 1,
            at_op: None,
            seed: DEFAULT_SEED,
        }
    }
}

/// The default seed: with the default options it gives a map whose dump shows every feature
/// (the demo tests check that it does).
pub const DEFAULT_SEED: u64 = 5;

/// One demo operation.
#[derive(Copy, Clone, Debug, PartialEq, Eq)]
pub enum DemoOp {
    /// `m[key(i)] = elem(i)`.
    Insert(u64),
    /// `delete(m, key(i))`.
    Delete(u64),
}

/// A built demo.
pub struct Demo {
    /// The map, as the operations left it.
    pub map: DemoMap,
    /// The operations that ran, in order.
    pub ops: Vec<DemoOp>,
    /// How many operations the full demo has.
    pub total_ops: usize,
    /// The hashkey used.
    pub hashkey: u64,
    /// The options.
    pub options: DemoOptions,
}

/// The hashkey for a seed (splitmix64, made odd as Go makes its `hashkey`).
pub fn hashkey_for(seed: u64) -> u64 {
    let mut z = seed.wrapping_add(0x9e37_79b9_7f4a_7c15);
    z = (z ^ (z >> 30)).wrapping_mul(0xbf58_476d_1ce4_e5b9);
    z = (z ^ (z >> 27)).wrapping_mul(0x94d0_49bb_1331_11eb);
    (z ^ (z >> 31)) | 1
}

/// How many distinct keys a type has, capped at 2^62.
fn domain(t: GoType) -> u64 {
    let cap = 1u64 << 62;
    match t {
        GoType::Bool => 2,
        GoType::Int8 => 1 << 7,
        GoType::Int16 => 1 << 15,
        GoType::Int32 => 1 << 31,
        GoType::Uint8 => 1 << 8,
        GoType::Uint16 => 1 << 16,
        GoType::Uint32 => 1 << 32,
        GoType::Float32 => 1 << 24,
        GoType::Float64 => 1 << 53,
        GoType::Bytes(n) if n < 8 => 1u64 << (8 * n),
        _ => cap,
    }
}

fn le_bytes(n: usize, v: u64) -> Vec<u8> {
    let mut b = vec![0u8; n];
    let src = v.to_le_bytes();
    let k = n.min(8);
    b[..k].copy_from_slice(&src[..k]);
    b
}

/// Key `i` of the demo: the integer `i`, the float `i`, `"key<i>"`, or `i`'s little-endian
/// bytes; `None` when the type has no `i`-th value.
pub fn key_value(t: GoType, i: u64) -> Option<GoValue> {
    if i >= domain(t) {
        return None;
    }
    Some(match t {
        GoType::Bool => GoValue::Bool(i == 1),
        GoType::Int8 | GoType::Int16 | GoType::Int32 | GoType::Int64 => GoValue::Int(i as i64),
        GoType::Uint8 | GoType::Uint16 | GoType::Uint32 | GoType::Uint64 => GoValue::Uint(i),
        GoType::Float32 | GoType::Float64 => GoValue::Float(i as f64),
        GoType::String => GoValue::String(format!("key{i}")),
        GoType::Bytes(n) => GoValue::Bytes(le_bytes(n, i)),
    })
}

/// Elem `i` of the demo: `10 * i` (wrapped into the type's range), `i * 1.5`, `"v<i>"`, or
/// the little-endian bytes of `10 * i`.
pub fn elem_value(t: GoType, i: u64) -> GoValue {
    let v = i.wrapping_mul(10);
    match t {
        GoType::Bool => GoValue::Bool(i % 2 == 1),
        GoType::Int8 | GoType::Int16 | GoType::Int32 | GoType::Int64 => {
            let bits = 8 * t.size() as u32 - 1;
            GoValue::Int((v % (1u64 << bits)) as i64)
        }
        GoType::Uint8 | GoType::Uint16 | GoType::Uint32 => {
            GoValue::Uint(v % (1u64 << (8 * t.size() as u32)))
        }
        GoType::Uint64 => GoValue::Uint(v),
        GoType::Float32 | GoType::Float64 => GoValue::Float(i as f64 * 1.5),
        GoType::String => GoValue::String(format!("v{i}")),
        GoType::Bytes(n) => GoValue::Bytes(le_bytes(n, v)),
    }
}

/// The keys phase 2 deletes: `deletes` of `0..keys`, evenly spread.
pub fn deleted_keys(keys: usize, deletes: usize) -> Vec<u64> {
    (0..deletes)
        .map(|j| (j as u128 * keys as u128 / deletes as u128) as u64)
        .collect()
}

fn new_map(o: &DemoOptions) -> Result<DemoMap, String> {
    DynMap::from_parts(
        o.key,
        o.elem,
        o.hint,
        hashkey_for(o.seed),
        Global,
        SeededRand::new(o.seed),
    )
    .map_err(|e| format!("make(map, {}): {e}", o.hint))
}

fn apply(m: &mut DemoMap, o: &DemoOptions, op: DemoOp) -> Result<(), String> {
    let key = |i| key_value(o.key, i).ok_or_else(|| format!("{} has no key #{i}", o.key.go_name()));
    match op {
        DemoOp::Insert(i) => m
            .insert(&key(i)?, &elem_value(o.elem, i))
            .map(|_| ())
            .map_err(|e| e.to_string()),
        DemoOp::Delete(i) => m.remove(&key(i)?).map(|_| ()).map_err(|e| e.to_string()),
    }
}

/// Builds the demo: runs the operations (up to `at_op`) on a fresh map.
pub fn build(o: &DemoOptions) -> Result<Demo, String> {
    let dom = domain(o.key);
    if o.keys as u64 > dom {
        return Err(format!(
            "--keys {}: {} has only {dom} distinct values",
            o.keys,
            o.key.go_name()
        ));
    }
    if o.deletes > o.keys {
        return Err(format!(
            "--deletes {} is more than the {} keys inserted",
            o.deletes, o.keys
        ));
    }
    if o.keys > MAX_OPS || o.hint > MAX_OPS {
        return Err(format!(
            "--keys and --hint are limited to {MAX_OPS} in the demo"
        ));
    }
    // Plan all operations on a first map (phase 3 depends on when the map starts growing).
    let mut m = new_map(o)?;
    let mut plan = Vec::new();
    for i in 0..o.keys as u64 {
        plan.push(DemoOp::Insert(i));
    }
    for k in deleted_keys(o.keys, o.deletes) {
        plan.push(DemoOp::Delete(k));
    }
    for &op in &plan {
        apply(&mut m, o, op)?;
    }
    // Phase 3: new keys until a grow starts (or one is already running), then
    // `grow_writes` more, stopping early if the grow finishes.
    let mut next = o.keys as u64;
    let mut started = m.header().growing();
    let mut after = 0;
    loop {
        if started && (after >= o.grow_writes || !m.header().growing()) {
            break;
        }
        if plan.len() >= MAX_OPS || next >= dom {
            break;
        }
        let b_before = m.header().B();
        let op = DemoOp::Insert(next);
        apply(&mut m, o, op)?;
        plan.push(op);
        next += 1;
        if started {
            after += 1;
        } else if m.header().growing() || m.header().B() != b_before {
            // A grow from one old bucket finishes inside the insert that starts it.
            started = true;
        }
    }
    let total_ops = plan.len();
    let run = match o.at_op {
        Some(n) if n > total_ops => {
            return Err(format!(
                "--at-op {n}: this demo has only {total_ops} operations"
            ))
        }
        Some(n) => n,
        None => total_ops,
    };
    if run < total_ops {
        m = new_map(o)?;
        for &op in &plan[..run] {
            apply(&mut m, o, op)?;
        }
    }
    plan.truncate(run);
    Ok(Demo {
        map: m,
        ops: plan,
        total_ops,
        hashkey: hashkey_for(o.seed),
        options: o.clone(),
    })
}

impl Demo {
    /// A one-line description of what ran.
    pub fn describe(&self) -> String {
        let o = &self.options;
        let ty = format!("map[{}]{}", o.key.go_name(), o.elem.go_name());
        let mut parts = vec![if o.hint == 0 {
            format!("make({ty})")
        } else {
            format!("make({ty}, {})", o.hint)
        }];
        let inserts1 = self
            .ops
            .iter()
            .take(o.keys)
            .filter(|op| matches!(op, DemoOp::Insert(_)))
            .count();
        if inserts1 > 0 {
            parts.push(format!("insert keys 0..={}", inserts1 - 1));
        }
        let deletes = self
            .ops
            .iter()
            .filter(|op| matches!(op, DemoOp::Delete(_)))
            .count();
        if deletes > 0 {
            parts.push(format!("delete {deletes} of them"));
        }
        let phase3 = self.ops.len().saturating_sub(o.keys + o.deletes);
        if phase3 > 0 {
            parts.push(format!(
                "insert keys {}..={} (the grow starts, then {} more write{})",
                o.keys,
                o.keys + phase3 - 1,
                o.grow_writes,
                if o.grow_writes == 1 { "" } else { "s" }
            ));
        }
        format!(
            "demo: {}; stopped after op {} of {} (seed {})",
            parts.join("; "),
            self.ops.len(),
            self.total_ops,
            o.seed
        )
    }
}
