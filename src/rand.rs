//! The map's one source of randomness.
//!
//! Go draws from `fastrand` for four things in a map: `hash0` at `make`, a fresh `hash0` when
//! the map becomes empty and on `clear`, the start bucket and slot offset of every iteration,
//! and (for B >= 16) whether an overflow bucket is counted in `noverflow`. gomap draws all four
//! from the map's [`RandSource`], so a replay can feed the values a real Go run recorded and
//! reproduce its memory exactly.

use crate::sync64::AtomicU64;
use core::cell::Cell;
use core::sync::atomic::Ordering;

/// A source of random numbers for a map (Go's `fastrand`/`fastrand64`).
///
/// Methods take `&self` because iteration draws through a shared reference; implementations
/// use interior mutability.
pub trait RandSource {
    /// A random `u32` (Go's `fastrand()`): iteration starts, and `noverflow` increments for
    /// B >= 16.
    fn fastrand(&self) -> u32;
    /// A new `hash0`: at `make`, when the map becomes empty, and on `clear`. Go draws it with
    /// `fastrand()` too (the default); a replay can answer these draws from a recording.
    fn draw_hash0(&self) -> u32 {
        self.fastrand()
    }
    /// A random `u64` (Go's `fastrand64()`, used to start iterations when B > 28).
    fn fastrand64(&self) -> u64 {
        ((self.fastrand() as u64) << 32) | self.fastrand() as u64
    }
}

impl<R: RandSource + ?Sized> RandSource for &R {
    fn fastrand(&self) -> u32 {
        (**self).fastrand()
    }
    fn draw_hash0(&self) -> u32 {
        (**self).draw_hash0()
    }
    fn fastrand64(&self) -> u64 {
        (**self).fastrand64()
    }
}

/// The default source: the process-wide generator ([`crate::hash::fastrand`]), Go 1.19's
/// 64-bit `fastrand` algorithm (wyrand), seeded once per process. Zero-sized.
#[derive(Copy, Clone, Debug, Default, PartialEq, Eq)]
pub struct FastRand;

impl RandSource for FastRand {
    #[inline]
    fn fastrand(&self) -> u32 {
        crate::hash::fastrand()
    }
    #[inline]
    fn fastrand64(&self) -> u64 {
        crate::hash::fastrand64()
    }
}

/// A deterministic per-map generator (wyrand from a given seed): the same seed gives the same
/// `hash0`, iteration order and `noverflow` increments every run.
#[derive(Debug, Default)]
pub struct SeededRand {
    state: AtomicU64,
}

impl SeededRand {
    /// A generator starting from `seed`.
    pub const fn new(seed: u64) -> Self {
        SeededRand {
            state: AtomicU64::new(seed),
        }
    }
    fn next(&self) -> u64 {
        let prev = self.state.fetch_add(0xa0761d6478bd642f, Ordering::Relaxed);
        crate::hash::wyrand_step(prev).1
    }
}

impl Clone for SeededRand {
    fn clone(&self) -> Self {
        SeededRand::new(self.state.load(Ordering::Relaxed))
    }
}

impl RandSource for SeededRand {
    fn fastrand(&self) -> u32 {
        self.next() as u32
    }
    fn fastrand64(&self) -> u64 {
        self.next()
    }
}

/// Plays back recorded `hash0` values (the ones a Go run drew at `make`, at a reseed when the
/// map became empty, and at `clear`), in order. Other draws (iteration starts, `noverflow`
/// increments) come from a [`SeededRand`], as do `hash0` draws after the recording runs out.
///
/// [`ScriptedRand::used`] and [`ScriptedRand::overran`] tell how much of the recording was
/// consumed, so a replay can check that it drew exactly what Go drew.
#[derive(Debug)]
pub struct ScriptedRand<'a> {
    script: &'a [u32],
    pos: Cell<usize>,
    overran: Cell<usize>,
    other: SeededRand,
}

impl<'a> ScriptedRand<'a> {
    /// Plays `script` back as the `hash0` draws.
    pub const fn new(script: &'a [u32]) -> Self {
        ScriptedRand {
            script,
            pos: Cell::new(0),
            overran: Cell::new(0),
            other: SeededRand::new(0x5eed),
        }
    }
    /// How many recorded values were drawn.
    pub fn used(&self) -> usize {
        self.pos.get()
    }
    /// How many `hash0` draws came after the recording ran out.
    pub fn overran(&self) -> usize {
        self.overran.get()
    }
}

impl RandSource for ScriptedRand<'_> {
    fn fastrand(&self) -> u32 {
        self.other.fastrand()
    }
    fn fastrand64(&self) -> u64 {
        self.other.fastrand64()
    }
    fn draw_hash0(&self) -> u32 {
        let i = self.pos.get();
        if let Some(&v) = self.script.get(i) {
            self.pos.set(i + 1);
            v
        } else {
            self.overran.set(self.overran.get() + 1);
            self.other.fastrand()
        }
    }
}
