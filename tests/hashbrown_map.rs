//! hashbrown's `HashMap` tests that use only its public API, run on
//! `GoMap<K, V, HashAdapter<S>, A>`.
//!
//! The tests are `hashbrown_map/tests.rs`, ported mechanically from hashbrown's `mod test_map`
//! (see its header for the source, the version, the changed import and what was left out and
//! why). It is a submodule of this file, as it is of hashbrown's `map`, so that its `super::`
//! and `crate::` paths resolve: this file provides the small local equivalents.
// The port keeps hashbrown's code as it is, including what clippy would phrase differently.
#![allow(clippy::all)]
// Not under Miri: the suite drives the same safe API that the crate's own tests run under
// Miri (api, api_parity, model, panic_safety), and would add minutes to it.
#![cfg(not(miri))]
// hashbrown's unsafe blocks (insert_unique_unchecked, its test allocator) are kept as written,
// without the `// SAFETY:` comments this project writes for its own code.
#![allow(clippy::undocumented_unsafe_blocks)]
// Constants used only by the tests left out, and `#![expect(deprecated)] //rand` for rand
// methods that the local `Rng` does not deprecate.
#![allow(dead_code, unfulfilled_lint_expectations)]

// `super::DefaultHashBuilder`: std's `RandomState`, the hasher `GoMap::new()` makes for
// `HashAdapter` maps (hashbrown's default, foldhash, has no such constructor here).
type DefaultHashBuilder = std::hash::RandomState;

// `super::Entry::{Occupied, Vacant}` and `super::EntryRef`: gomap's.
use gomap::{Entry, EntryRef};

// `stdalloc::string::String`, `stdalloc::sync::Arc`: the `alloc` crate, as in hashbrown.
extern crate alloc as stdalloc;

/// `crate::alloc`: the allocator API gomap uses (allocator-api2's), as hashbrown's tests
/// take it from hashbrown's `alloc` module.
pub mod alloc {
    pub use gomap::alloc::{AllocError, Allocator, DefaultAllocator, Global};
}

// `use rand::{Rng, SeedableRng, rngs::SmallRng};`: this crate, whose `Rng`, `SeedableRng`
// and `rngs::SmallRng` are the part of `rand` the tests use.
extern crate self as rand;

/// The part of `rand::Rng` the tests use: `gen_range` over an `i32` range or a `char` range.
pub trait Rng {
    /// A value in `range`.
    fn gen_range<R: SampleRange>(&mut self, range: R) -> R::Item;
    /// The next 64 random bits.
    fn next_u64(&mut self) -> u64;
}

/// A range `gen_range` samples.
pub trait SampleRange {
    /// What the range holds.
    type Item;
    /// The value at `offset` modulo the range's length.
    fn pick(self, random: u64) -> Self::Item;
}

impl SampleRange for std::ops::Range<i32> {
    type Item = i32;
    fn pick(self, random: u64) -> i32 {
        self.start + (random % (self.end - self.start) as u64) as i32
    }
}

impl SampleRange for std::ops::RangeInclusive<char> {
    type Item = char;
    fn pick(self, random: u64) -> char {
        let (a, b) = (*self.start() as u32, *self.end() as u32);
        char::from_u32(a + (random % (b - a + 1) as u64) as u32).expect("an ASCII range")
    }
}

/// The part of `rand::SeedableRng` the tests use.
pub trait SeedableRng {
    /// A generator seeded with `seed`.
    fn seed_from_u64(seed: u64) -> Self;
}

/// `rand::rngs`.
pub mod rngs {
    /// xorshift64*: a small deterministic generator, in the place of rand's `SmallRng`.
    pub struct SmallRng(pub(crate) u64);
}

impl SeedableRng for rngs::SmallRng {
    fn seed_from_u64(seed: u64) -> Self {
        rngs::SmallRng(seed | 1)
    }
}

impl Rng for rngs::SmallRng {
    fn gen_range<R: SampleRange>(&mut self, range: R) -> R::Item {
        let x = self.next_u64();
        range.pick(x)
    }
    fn next_u64(&mut self) -> u64 {
        self.0 ^= self.0 >> 12;
        self.0 ^= self.0 << 25;
        self.0 ^= self.0 >> 27;
        self.0.wrapping_mul(0x2545_f491_4f6c_dd1d)
    }
}

#[rustfmt::skip]
#[path = "hashbrown_map/tests.rs"]
mod tests;
