//! Go's portable map hash (`runtime/hash64.go`; from Go 1.27
//! `internal/runtime/maps/runtime_hash64.go`), which a process uses when its CPU lacks AES
//! or when it runs with `GODEBUG=cpu.aes=off`. It exists in two versions:
//!
//! * Go 1.17–1.22: the constants `m1`..`m5` and the per-process `hashkey[0]`
//!   ([`gomap::hash`] implements this one, for gomap's own maps);
//! * Go 1.23 and later (Go commits ef2f3391 and 35c61939): the random `hashkey[0..3]` take
//!   the place of `m1`..`m4` (`m1` disappears, `hashkey[0]` being xored in already; `m2`,
//!   `m3`, `m4` become `hashkey[1]`, `hashkey[2]`, `hashkey[3]`); `m5` stays.

use gomap::hash::{mix, M5};

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

fn r4(p: &[u8], at: usize) -> u64 {
    u32::from_le_bytes(p[at..at + 4].try_into().expect("4 bytes")) as u64
}

fn r8(p: &[u8], at: usize) -> u64 {
    u64::from_le_bytes(p[at..at + 8].try_into().expect("8 bytes"))
}

impl Portable {
    /// `runtime.memhash(p, seed, len(p))` (`memhashFallback`).
    pub fn memhash(&self, p: &[u8], seed: u64) -> u64 {
        match self.flavor {
            Flavor::Go119 => gomap::hash::memhash(p, seed, self.hashkey[0]),
            Flavor::Go123 => memhash123(p, seed, &self.hashkey),
        }
    }

    /// `runtime.memhash32(&x, seed)` (`memhash32Fallback`).
    pub fn memhash32(&self, x: u32, seed: u64) -> u64 {
        match self.flavor {
            Flavor::Go119 => gomap::hash::memhash32(x, seed, self.hashkey[0]),
            Flavor::Go123 => {
                let a = x as u64;
                let k = &self.hashkey;
                mix(M5 ^ 4, mix(a ^ k[1], a ^ seed ^ k[0]))
            }
        }
    }

    /// `runtime.memhash64(&x, seed)` (`memhash64Fallback`).
    pub fn memhash64(&self, x: u64, seed: u64) -> u64 {
        match self.flavor {
            Flavor::Go119 => gomap::hash::memhash64(x, seed, self.hashkey[0]),
            Flavor::Go123 => {
                let k = &self.hashkey;
                mix(M5 ^ 8, mix(x ^ k[1], x ^ seed ^ k[0]))
            }
        }
    }
}

/// Go 1.23's `memhashFallback`.
fn memhash123(p: &[u8], seed: u64, k: &[u64; 4]) -> u64 {
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

#[cfg(test)]
mod tests {
    use super::*;
    use gomap::hash::{M1, M2, M3, M4};

    /// With `hashkey = [k0 ^ m1, m2, m3, m4]`, Go 1.23's hash is Go 1.19's with `k0`: the
    /// commits only replaced the constants.
    #[test]
    fn go123_with_the_old_constants_is_go119() {
        let k0 = 0x2545_f491_4f6c_dd1d;
        let old = Portable {
            flavor: Flavor::Go119,
            hashkey: [k0, 0, 0, 0],
        };
        let new = Portable {
            flavor: Flavor::Go123,
            hashkey: [k0 ^ M1, M2, M3, M4],
        };
        let data: Vec<u8> = (0..300u32).map(|i| (i * 31 + 7) as u8).collect();
        for n in 0..data.len() {
            assert_eq!(
                old.memhash(&data[..n], 0xcb3d_aafa),
                new.memhash(&data[..n], 0xcb3d_aafa),
                "length {n}"
            );
        }
        assert_eq!(old.memhash32(7, 9), new.memhash32(7, 9));
        assert_eq!(old.memhash64(7, 9), new.memhash64(7, 9));
    }
}
