//! std's own `HashMap` test suite, run on `gomap::GoHashMap` (`GoMap<K, V, HashAdapter<S>>`).
//!
//! The suite is `std_hashmap/tests.rs`, ported mechanically from the Rust repository (see its
//! header for the source, the version and the three changed places). It is a submodule of
//! this file, as it is of std's `hash::map`, so that its `super::` and `crate::` paths resolve:
//! this file provides the small local equivalents of what std's test build provides.
// The port keeps std's code as it is, including what clippy would phrase differently.
#![allow(clippy::all)]
// Not under Miri: the suite drives the same safe API that the crate's own tests run under
// Miri (api, api_parity, model, panic_safety), and would add minutes to it.
#![cfg(not(miri))]

// `crate::cell`, `crate::hash`, `crate::iter`, `crate::panic`, `crate::sync` in the suite are
// std's modules, as inside std.
use std::{cell, hash, iter, panic, sync};

// `super::Entry::{Occupied, Vacant}`: gomap's entry enum.
use gomap::Entry;

// `use rand::Rng;`: this crate, whose `Rng` is the one method of `rand::Rng` the suite uses.
extern crate self as rand;

/// The part of `rand::Rng` the suite uses.
pub trait Rng {
    /// A number in `range`.
    fn gen_range(&mut self, range: std::ops::Range<i32>) -> i32;
}

/// std's `test_helpers`: a deterministic random generator for a test.
mod test_helpers {
    /// xorshift64*, seeded with a constant (std seeds its generator from the test's name).
    pub(crate) struct TestRng(u64);

    pub(crate) fn test_rng() -> TestRng {
        TestRng(0x9e37_79b9_7f4a_7c15)
    }

    impl crate::Rng for TestRng {
        fn gen_range(&mut self, range: std::ops::Range<i32>) -> i32 {
            self.0 ^= self.0 >> 12;
            self.0 ^= self.0 << 25;
            self.0 ^= self.0 >> 27;
            let x = self.0.wrapping_mul(0x2545_f491_4f6c_dd1d);
            let span = (range.end - range.start) as u64;
            range.start + (x % span) as i32
        }
    }
}

// `realstd::collections::TryReserveErrorKind`: std's test build names the real std
// `realstd`; here it is this crate, whose `collections` holds gomap's error kind.
extern crate self as realstd;

/// Where the suite takes `TryReserveErrorKind` from (`realstd::collections`).
pub mod collections {
    pub use gomap::TryReserveErrorKind;
}

#[rustfmt::skip]
#[path = "std_hashmap/tests.rs"]
mod tests;

// After `mod tests`, so that the suite reaches it by its path, as in std.
/// std's unstable `assert_matches!`: the value must match the pattern.
#[macro_export]
macro_rules! assert_matches {
    ($e:expr, $p:pat $(,)?) => {
        match $e {
            $p => {}
            ref v => panic!("assertion failed: `{:?}` does not match `{}`", v, stringify!($p)),
        }
    };
    ($e:expr, $p:pat, $($msg:tt)+) => {
        match $e {
            $p => {}
            ref v => panic!(
                "assertion failed: `{:?}` does not match `{}`: {}",
                v,
                stringify!($p),
                format_args!($($msg)+)
            ),
        }
    };
}
