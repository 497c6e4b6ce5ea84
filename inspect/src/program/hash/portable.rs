//! Go's portable map hash (`runtime/hash64.go`; from Go 1.27
//! `internal/runtime/maps/runtime_hash64.go`), which a process uses when its CPU lacks AES
//! or when it runs with `GODEBUG=cpu.aes=off`. It exists in two versions:
//!
//! * Go 1.17–1.22: the constants `m1`..`m5` and the per-process `hashkey[0]`
//!   ([`gomap::hash`] implements this one, for gomap's own maps);
//! * Go 1.23 and later (Go commits ef2f3391 and 35c61939): the random `hashkey[0..3]` take
//!   the place of `m1`..`m4` (`m1` disappears, `hashkey[0]` being xored in already; `m2`,
//!   `m3`, `m4` become `hashkey[1]`, `hashkey[2]`, `hashkey[3]`); `m5` stays.

/// Which version of the portable hash.
#[derive(Copy, Clone, Debug, PartialEq, Eq)]
pub enum Flavor {
    /// Go 1.17–1.22: `m1`..`m5` and `hashkey[0]`.
    Go119,
    /// Go 1.23+: `hashkey[0..3]` and `m5`.
    Go123,
}

impl Flavor {
    /// The flavor Go `minor` (of 1.minor) uses.
    pub fn for_minor(minor: u32) -> Flavor {
        if minor >= 23 {
            Flavor::Go123
        } else {
            Flavor::Go119
        }
    }
}

/// The portable hash of one process: its flavor and `runtime.hashkey`.
#[derive(Copy, Clone, Debug, PartialEq, Eq)]
pub struct Portable {
    /// The version of the algorithm.
    pub flavor: Flavor,
    /// `runtime.hashkey` (Go 1.19–1.22 use only `hashkey[0]`).
    pub hashkey: [u64; 4],
}

impl Portable {
    /// `runtime.memhash(p, seed, len(p))` (`memhashFallback`).
    pub fn memhash(&self, p: &[u8], seed: u64) -> u64 {
        match self.flavor {
            Flavor::Go119 => gomap::hash::memhash(p, seed, self.hashkey[0]),
            Flavor::Go123 => gomap::hash::memhash_keys(p, seed, &self.hashkey),
        }
    }

    /// `runtime.memhash32(&x, seed)` (`memhash32Fallback`).
    pub fn memhash32(&self, x: u32, seed: u64) -> u64 {
        match self.flavor {
            Flavor::Go119 => gomap::hash::memhash32(x, seed, self.hashkey[0]),
            Flavor::Go123 => gomap::hash::memhash32_keys(x, seed, &self.hashkey),
        }
    }

    /// `runtime.memhash64(&x, seed)` (`memhash64Fallback`).
    pub fn memhash64(&self, x: u64, seed: u64) -> u64 {
        match self.flavor {
            Flavor::Go119 => gomap::hash::memhash64(x, seed, self.hashkey[0]),
            Flavor::Go123 => gomap::hash::memhash64_keys(x, seed, &self.hashkey),
        }
    }
}
