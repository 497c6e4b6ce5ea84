//! A `no_std` library that keeps Go maps in fixed arenas: no global allocator, no `alloc`
//! crate. It builds for the host and for `thumbv7em-none-eabi`:
//!
//! ```sh
//! cargo build --manifest-path examples/nostd-arena/Cargo.toml
//! cargo build --manifest-path examples/nostd-arena/Cargo.toml --target thumbv7em-none-eabi
//! cargo test  --manifest-path examples/nostd-arena/Cargo.toml   # runs it on the host
//! ```
#![cfg_attr(not(test), no_std)]

use gomap::alloc::{Arena, StaticArena};
use gomap::{GoHasher, GoMap, SeededRand};

/// Bytes of the program's map heap.
pub const HEAP_BYTES: usize = 16 * 1024;

/// The program's map heap: a `static` buffer, managed by the arena.
pub static HEAP: StaticArena<HEAP_BYTES> = StaticArena::new();

/// Go's hashkey for this program. There is no OS entropy here, so it is fixed (a device would
/// mix in a hardware random number).
const HASHKEY: u64 = 0x6a09_e667_f3bc_c909;

/// Sensor id → last reading, in the static heap.
pub type Readings = GoMap<u16, u32, GoHasher, &'static StaticArena<HEAP_BYTES>, SeededRand>;

/// An empty readings map in [`HEAP`].
pub fn readings(seed: u64) -> Readings {
    GoMap::from_parts(
        0,
        GoHasher::with_hashkey(HASHKEY),
        &HEAP,
        SeededRand::new(seed),
    )
}

/// Stores each `(sensor, value)`; stops at the first one the heap has no room for and returns
/// its sensor id. The map is unchanged by the failed insert and still readable.
pub fn record(m: &mut Readings, batch: impl IntoIterator<Item = (u16, u32)>) -> Result<(), u16> {
    for (sensor, value) in batch {
        if let Err(e) = m.insert_fallible(sensor, value) {
            return Err(e.key);
        }
    }
    Ok(())
}

/// Counts the distinct bytes of `data`, using a map in the caller's `scratch` buffer. Returns
/// `None` if `scratch` is too small.
pub fn distinct_bytes(data: &[u8], scratch: &mut [u8]) -> Option<usize> {
    let arena = Arena::new(scratch);
    let mut seen: GoMap<u8, (), GoHasher, &Arena<'_>, SeededRand> = GoMap::try_from_parts(
        0,
        GoHasher::with_hashkey(HASHKEY),
        &arena,
        SeededRand::new(1),
    )
    .ok()?;
    for &b in data {
        seen.insert_fallible(b, ()).ok()?;
    }
    Some(seen.len())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn readings_fill_the_static_heap_and_stay_readable() {
        let mut m = readings(9);
        record(&mut m, (0..100).map(|i| (i, u32::from(i) * 3))).unwrap();
        assert_eq!(m.get(&42), Some(&126));
        // Far more sensors than 16 KiB can hold: the heap runs out, and says so.
        let stopped = record(&mut m, (100..10_000).map(|i| (i, 1))).unwrap_err();
        assert!(stopped > 100);
        assert_eq!(m.len(), usize::from(stopped));
        for i in 0..stopped {
            assert!(m.contains_key(&i));
        }
        drop(m);
        assert_eq!(HEAP.used_bytes(), 0);
    }

    #[test]
    fn distinct_bytes_in_a_scratch_buffer() {
        let mut scratch = [0u8; 4096];
        let data: [u8; 300] = core::array::from_fn(|i| (i % 37) as u8);
        assert_eq!(distinct_bytes(&data, &mut scratch), Some(37));
        assert_eq!(distinct_bytes(&data, &mut scratch[..64]), None);
    }
}
