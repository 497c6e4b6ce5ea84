//! Go's AES map hash on amd64, bit for bit: `aeshashbody` (behind `runtime.memhash` and
//! `runtime.strhash`) and the 32- and 64-bit entry points `runtime.memhash32` /
//! `runtime.memhash64` of `runtime/asm_amd64.s` (Go 1.19–1.26; Go 1.27 moved the same code to
//! `internal/runtime/maps/memhash_amd64.s` as `memHashAES`, `memHash32AES`, `memHash64AES`).
//!
//! The algorithm is unchanged from Go 1.19 to Go 1.27. Each hash starts from the seed (the
//! map's `hash0`) and the process's random key schedule `runtime.aeskeysched` (128 bytes),
//! and scrambles the input with AES rounds (`AESENC`: one round of AES encryption, whose
//! state is the destination register and whose round key is the source). The result is the
//! low 64 bits of the final state.
//!
//! * length 0: the scrambled seed, scrambled once more;
//! * 1–16 bytes: the input (zero-padded to 16 bytes) xor the scrambled seed, 3 rounds;
//! * 17–32, 33–64, 65–128 bytes: 2, 4 or 8 lanes (the first and last 16, 32 or 64 bytes,
//!   which overlap for lengths that are not a power of two), each with its own seed
//!   (`seed xor aeskeysched[16·i..]`, scrambled), 3 rounds, then xor-folded;
//! * 129 bytes and more: 8 lanes started from the last 128 bytes, then every full 128-byte
//!   block from the start mixed in as round keys, 3 final rounds, xor-folded.
//!
//! The seed register holds the 64-bit seed in its low half and the length's low 16 bits
//! four times in its high half (`PINSRW $4` then `PSHUFHW $0`).
//!
//! The intrinsics need the CPU's AES instructions: [`available`] checks at run time, and
//! [`AesHash::new`] refuses without them.

/// The size of `runtime.aeskeysched` on 64-bit targets (`hashRandomBytes`).
pub const KEYSCHED_LEN: usize = 128;

/// Whether this CPU can run the AES hash (AES-NI and SSE2).
pub fn available() -> bool {
    #[cfg(target_arch = "x86_64")]
    {
        std::arch::is_x86_feature_detected!("aes") && std::arch::is_x86_feature_detected!("sse2")
    }
    #[cfg(not(target_arch = "x86_64"))]
    {
        false
    }
}

/// The message for a machine without AES instructions.
pub fn unavailable_message() -> String {
    format!(
        "the target process hashes its maps with Go's AES hash (runtime.useAeshash is true), \
         and this machine's CPU {} the AES instructions map-inspect needs to compute it; run \
         map-inspect on an x86-64 machine with AES-NI (any x86-64 CPU since about 2010), for \
         example the machine the program ran on",
        if cfg!(target_arch = "x86_64") {
            "lacks"
        } else {
            "is not x86-64, so it lacks"
        }
    )
}

/// Go's AES hash with one process's key schedule.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct AesHash {
    keysched: [u8; KEYSCHED_LEN],
}

impl AesHash {
    /// The hash with `keysched` (the bytes of `runtime.aeskeysched`), or an error when this
    /// CPU lacks AES instructions.
    pub fn new(keysched: [u8; KEYSCHED_LEN]) -> Result<AesHash, String> {
        Self::with_cpu(keysched, available())
    }

    /// As [`AesHash::new`], with the CPU check's answer given (`cpu_has_aes`).
    pub fn with_cpu(keysched: [u8; KEYSCHED_LEN], cpu_has_aes: bool) -> Result<AesHash, String> {
        if !cpu_has_aes {
            return Err(unavailable_message());
        }
        Ok(AesHash { keysched })
    }

    /// The key schedule.
    pub fn keysched(&self) -> &[u8; KEYSCHED_LEN] {
        &self.keysched
    }

    /// `runtime.memhash(p, seed, len(p))` (and `runtime.strhash` of a string's bytes).
    pub fn memhash(&self, p: &[u8], seed: u64) -> u64 {
        #[cfg(target_arch = "x86_64")]
        {
            // SAFETY: an AesHash exists only when `available()` said this CPU has AES-NI and
            // SSE2 (`with_cpu` is called with `available()` by `new`; the only other caller
            // passes `false` in a test), which is all `imp::memhash` requires.
            unsafe { imp::memhash(p, seed, &self.keysched) }
        }
        #[cfg(not(target_arch = "x86_64"))]
        {
            let _ = (p, seed);
            unreachable!("AesHash is never built without AES instructions")
        }
    }

    /// `runtime.memhash32(&x, seed)`.
    pub fn memhash32(&self, x: u32, seed: u64) -> u64 {
        self.fixed(seed, x as u64)
    }

    /// `runtime.memhash64(&x, seed)`.
    pub fn memhash64(&self, x: u64, seed: u64) -> u64 {
        self.fixed(seed, x)
    }

    /// The 32/64-bit entry points: the state is `seed` in the low half and the value in the
    /// high half (`PINSRD $2` zero-extends a 32-bit value there), then three rounds with
    /// the first three round keys of the schedule.
    fn fixed(&self, seed: u64, x: u64) -> u64 {
        #[cfg(target_arch = "x86_64")]
        {
            // SAFETY: as in `memhash`: an AesHash exists only on a CPU with AES-NI and SSE2.
            unsafe { imp::fixed(seed, x, &self.keysched) }
        }
        #[cfg(not(target_arch = "x86_64"))]
        {
            let _ = (seed, x);
            unreachable!("AesHash is never built without AES instructions")
        }
    }
}

#[cfg(target_arch = "x86_64")]
mod imp {
    // The intrinsics are `unsafe fn`s before Rust 1.87 and safe inside functions that enable
    // their target features from then on: each helper wraps one in an `unsafe` block that the
    // newer compilers find unneeded, hence the `allow(unused_unsafe)`s.
    use std::arch::x86_64::{
        __m128i, _mm_aesenc_si128, _mm_cvtsi128_si64, _mm_loadu_si128, _mm_set_epi64x,
        _mm_xor_si128,
    };

    use super::KEYSCHED_LEN;

    /// 16 bytes of `b` from `at` as a register (an unaligned load).
    ///
    /// # Safety
    /// The CPU must support SSE2.
    #[inline]
    #[allow(unused_unsafe)]
    #[target_feature(enable = "sse2")]
    unsafe fn load(b: &[u8], at: usize) -> __m128i {
        let s: &[u8; 16] = b[at..at + 16].try_into().expect("16 bytes");
        // SAFETY: `s` is 16 readable bytes; `_mm_loadu_si128` has no alignment requirement;
        // SSE2 is enabled here and the caller guarantees the CPU has it.
        unsafe { _mm_loadu_si128(s.as_ptr().cast()) }
    }

    /// A register holding `lo` in its low half and `hi` in its high half.
    ///
    /// # Safety
    /// The CPU must support SSE2.
    #[inline]
    #[allow(unused_unsafe)]
    #[target_feature(enable = "sse2")]
    unsafe fn pair(hi: u64, lo: u64) -> __m128i {
        // SAFETY: SSE2 is enabled here and the caller guarantees the CPU has it.
        unsafe { _mm_set_epi64x(hi as i64, lo as i64) }
    }

    /// `PXOR`.
    ///
    /// # Safety
    /// The CPU must support SSE2.
    #[inline]
    #[allow(unused_unsafe)]
    #[target_feature(enable = "sse2")]
    unsafe fn xor(a: __m128i, b: __m128i) -> __m128i {
        // SAFETY: SSE2 is enabled here and the caller guarantees the CPU has it.
        unsafe { _mm_xor_si128(a, b) }
    }

    /// One AES round: `AESENC key, state`.
    ///
    /// # Safety
    /// The CPU must support AES-NI and SSE2.
    #[inline]
    #[allow(unused_unsafe)]
    #[target_feature(enable = "aes,sse2")]
    unsafe fn enc(state: __m128i, key: __m128i) -> __m128i {
        // SAFETY: AES-NI is enabled here and the caller guarantees the CPU has it.
        unsafe { _mm_aesenc_si128(state, key) }
    }

    /// `AESENC X, X`: the scramble every lane gets.
    ///
    /// # Safety
    /// The CPU must support AES-NI and SSE2.
    #[inline]
    #[target_feature(enable = "aes,sse2")]
    unsafe fn scramble(x: __m128i) -> __m128i {
        // SAFETY: the caller's guarantee is `enc`'s.
        unsafe { enc(x, x) }
    }

    /// Three scrambles, the finish of every lane.
    ///
    /// # Safety
    /// The CPU must support AES-NI and SSE2.
    #[inline]
    #[target_feature(enable = "aes,sse2")]
    unsafe fn rounds3(x: __m128i) -> __m128i {
        // SAFETY: the caller's guarantee is `scramble`'s.
        unsafe { scramble(scramble(scramble(x))) }
    }

    /// The low 64 bits (`MOVQ X, AX`).
    ///
    /// # Safety
    /// The CPU must support SSE2.
    #[inline]
    #[allow(unused_unsafe)]
    #[target_feature(enable = "sse2")]
    unsafe fn low(x: __m128i) -> u64 {
        // SAFETY: SSE2 is enabled here and the caller guarantees the CPU has it.
        unsafe { _mm_cvtsi128_si64(x) as u64 }
    }

    /// `runtime.memhash32`/`memhash64`: seed low, value high, three rounds keyed with
    /// `aeskeysched[0..48]`.
    ///
    /// # Safety
    /// The CPU must support AES-NI and SSE2.
    #[target_feature(enable = "aes,sse2")]
    pub(super) unsafe fn fixed(seed: u64, x: u64, ks: &[u8; KEYSCHED_LEN]) -> u64 {
        // SAFETY: every helper needs AES-NI and SSE2, which the caller guarantees.
        unsafe {
            let mut s = pair(x, seed);
            s = enc(s, load(ks, 0));
            s = enc(s, load(ks, 16));
            s = enc(s, load(ks, 32));
            low(s)
        }
    }

    /// The seed of lane `i` > 0: the unscrambled seed xor round key `i`, scrambled.
    ///
    /// # Safety
    /// The CPU must support AES-NI and SSE2.
    #[inline]
    #[target_feature(enable = "aes,sse2")]
    unsafe fn lane_seed(unscrambled: __m128i, ks: &[u8; KEYSCHED_LEN], i: usize) -> __m128i {
        // SAFETY: the helpers need AES-NI and SSE2, which the caller guarantees.
        unsafe { scramble(xor(unscrambled, load(ks, 16 * i))) }
    }

    /// Folds 8 lanes: `d0^d4`, `d1^d5`, `d2^d6`, `d3^d7`, then those four together.
    ///
    /// # Safety
    /// The CPU must support SSE2.
    #[inline]
    #[target_feature(enable = "sse2")]
    unsafe fn fold8(d: &[__m128i; 8]) -> u64 {
        // SAFETY: the helpers need SSE2, which the caller guarantees.
        unsafe {
            let a = xor(d[0], d[4]);
            let b = xor(d[1], d[5]);
            let c = xor(d[2], d[6]);
            let e = xor(d[3], d[7]);
            low(xor(xor(a, c), xor(b, e)))
        }
    }

    /// `aeshashbody`: the hash of `p` with `seed`.
    ///
    /// # Safety
    /// The CPU must support AES-NI and SSE2.
    #[target_feature(enable = "aes,sse2")]
    pub(super) unsafe fn memhash(p: &[u8], seed: u64, ks: &[u8; KEYSCHED_LEN]) -> u64 {
        // SAFETY: every helper needs AES-NI and SSE2, which the caller guarantees. Every
        // `load(p, at)` reads p[at..at + 16], which the length tests of each branch keep in
        // bounds (and `load` checks).
        unsafe {
            let n = p.len();
            // The length's low 16 bits, four times, in the high half (PINSRW, PSHUFHW).
            let len16 = (n as u64) & 0xffff;
            let lens = len16 | len16 << 16 | len16 << 32 | len16 << 48;
            let unscrambled = pair(lens, seed);
            let x0 = scramble(xor(unscrambled, load(ks, 0)));
            if n == 0 {
                return low(scramble(x0));
            }
            if n <= 16 {
                // Up to 16 bytes, zero-padded (Go masks a 16-byte load, or shuffles one that
                // ends at the last byte when the data sits at the end of a page: the same
                // register either way).
                let mut buf = [0u8; 16];
                buf[..n].copy_from_slice(p);
                return low(rounds3(xor(load(&buf, 0), x0)));
            }
            if n <= 32 {
                let x1 = lane_seed(unscrambled, ks, 1);
                let a = rounds3(xor(load(p, 0), x0));
                let b = rounds3(xor(load(p, n - 16), x1));
                return low(xor(a, b));
            }
            if n <= 64 {
                let s = [
                    x0,
                    lane_seed(unscrambled, ks, 1),
                    lane_seed(unscrambled, ks, 2),
                    lane_seed(unscrambled, ks, 3),
                ];
                let at = [0, 16, n - 32, n - 16];
                let mut d = [x0; 4];
                for i in 0..4 {
                    d[i] = rounds3(xor(load(p, at[i]), s[i]));
                }
                return low(xor(xor(d[0], d[2]), xor(d[1], d[3])));
            }
            let mut s = [x0; 8];
            for (i, lane) in s.iter_mut().enumerate().skip(1) {
                *lane = lane_seed(unscrambled, ks, i);
            }
            let mut d = [x0; 8];
            if n <= 128 {
                for i in 0..8 {
                    let at = if i < 4 { 16 * i } else { n - 64 + 16 * (i - 4) };
                    d[i] = rounds3(xor(load(p, at), s[i]));
                }
                return fold8(&d);
            }
            // 129 bytes and more: start from the last (possibly overlapping) 128 bytes, then
            // mix in each full 128-byte block from the start as round keys.
            for i in 0..8 {
                d[i] = xor(load(p, n - 128 + 16 * i), s[i]);
            }
            let blocks = (n - 1) >> 7;
            for b in 0..blocks {
                for (i, lane) in d.iter_mut().enumerate() {
                    *lane = enc(scramble(*lane), load(p, 128 * b + 16 * i));
                }
            }
            for lane in d.iter_mut() {
                *lane = rounds3(*lane);
            }
            fold8(&d)
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn refuses_without_aes() {
        let e = AesHash::with_cpu([0; KEYSCHED_LEN], false).unwrap_err();
        assert!(
            e.contains("AES-NI") && e.contains("runtime.useAeshash"),
            "{e}"
        );
    }

    #[test]
    #[cfg_attr(miri, ignore)]
    fn every_length_reads_only_its_bytes() {
        if !available() {
            return;
        }
        let h = AesHash::new(std::array::from_fn(|i| i as u8 ^ 0x5a)).unwrap();
        let data: Vec<u8> = (0..600u32).map(|i| (i * 7 + 3) as u8).collect();
        for n in 0..=data.len() {
            // The same bytes at another place give the same hash; a change of the last byte
            // changes it.
            let a = h.memhash(&data[..n], 42);
            let copy = data[..n].to_vec();
            assert_eq!(a, h.memhash(&copy, 42), "length {n}");
            if n > 0 {
                let mut m = copy.clone();
                m[n - 1] ^= 1;
                assert_ne!(a, h.memhash(&m, 42), "length {n}");
            }
        }
    }
}
