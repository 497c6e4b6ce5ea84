//! Go versions and the map layout each one uses.
//!
//! | Go | map | `hmap` | growth |
//! |---|---|---|---|
//! | 1.19, 1.20 | classic | 48 bytes | 6.5 entries per bucket |
//! | 1.21.x | classic | 48 bytes | 6.0 (`loadFactorNum` truncated to 12, golang/go#63438) |
//! | 1.22, 1.23 | classic | 48 bytes | 6.5 |
//! | 1.24, 1.25 with `GOEXPERIMENT=noswissmap` | classic | 56 bytes: `clearSeq` at 40, `extra` at 48 | 6.5 |
//! | 1.24+ (default) | Swiss tables | (not decoded yet) | |
//!
//! A layout is chosen once, from the version (and, when the program has DWARF, checked
//! against the field offsets of its `hash<K,V>` type), and handed to the decoder.

use std::fmt;

/// A Go release: `go1.21.13` is 1.21.13.
#[derive(Copy, Clone, Debug, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct GoVersion {
    /// 1.
    pub major: u32,
    /// 21.
    pub minor: u32,
    /// 13 (0 when absent, as in `go1.21`).
    pub patch: u32,
}

impl GoVersion {
    /// Parses `go1.21.13`, `1.21.13`, `1.21`, `go1.24.11 X:noswissmap` (the experiment part is
    /// ignored), `go1.21rc2` (a release candidate counts as its release).
    pub fn parse(s: &str) -> Option<GoVersion> {
        let s = s.trim();
        let s = s.split_whitespace().next()?;
        let s = s.strip_prefix("go").unwrap_or(s);
        let mut parts = s.split('.');
        let num = |p: Option<&str>| -> Option<u32> {
            let p = p?;
            let digits: String = p.chars().take_while(|c| c.is_ascii_digit()).collect();
            digits.parse().ok()
        };
        let major = num(parts.next())?;
        let minor = num(parts.next())?;
        let patch = match parts.next() {
            Some(p) => num(Some(p))?,
            None => 0,
        };
        Some(GoVersion {
            major,
            minor,
            patch,
        })
    }

    /// Whether this is at least `major.minor`.
    pub fn at_least(&self, major: u32, minor: u32) -> bool {
        (self.major, self.minor) >= (major, minor)
    }
}

impl fmt::Display for GoVersion {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}.{}.{}", self.major, self.minor, self.patch)
    }
}

/// Offsets of the classic `hmap`'s fields (64-bit).
#[allow(non_snake_case)]
#[derive(Copy, Clone, Debug, PartialEq, Eq)]
pub struct HmapOffsets {
    /// `count int`
    pub count: usize,
    /// `flags uint8`
    pub flags: usize,
    /// `B uint8`
    pub B: usize,
    /// `noverflow uint16`
    pub noverflow: usize,
    /// `hash0 uint32`
    pub hash0: usize,
    /// `buckets unsafe.Pointer`
    pub buckets: usize,
    /// `oldbuckets unsafe.Pointer`
    pub oldbuckets: usize,
    /// `nevacuate uintptr`
    pub nevacuate: usize,
    /// `clearSeq uint64` (Go 1.24–1.25 noswissmap only)
    pub clear_seq: Option<usize>,
    /// `extra *mapextra`
    pub extra: usize,
    /// The header's size.
    pub size: usize,
}

impl HmapOffsets {
    /// Go 1.19–1.23 (and gomap): 48 bytes.
    pub const GO119: HmapOffsets = HmapOffsets {
        count: 0,
        flags: 8,
        B: 9,
        noverflow: 10,
        hash0: 12,
        buckets: 16,
        oldbuckets: 24,
        nevacuate: 32,
        clear_seq: None,
        extra: 40,
        size: 48,
    };
    /// Go 1.24–1.25 with `noswissmap`: 56 bytes, `clearSeq` at 40.
    pub const GO124: HmapOffsets = HmapOffsets {
        clear_seq: Some(40),
        extra: 48,
        size: 56,
        ..HmapOffsets::GO119
    };

    /// The fields as (Go name, offset, size), in offset order.
    pub fn fields(&self) -> Vec<(&'static str, usize, usize)> {
        let mut v = vec![
            ("count", self.count, 8),
            ("flags", self.flags, 1),
            ("B", self.B, 1),
            ("noverflow", self.noverflow, 2),
            ("hash0", self.hash0, 4),
            ("buckets", self.buckets, 8),
            ("oldbuckets", self.oldbuckets, 8),
            ("nevacuate", self.nevacuate, 8),
            ("extra", self.extra, 8),
        ];
        if let Some(c) = self.clear_seq {
            v.push(("clearSeq", c, 8));
        }
        v.sort_by_key(|f| f.1);
        v
    }
}

/// Go's growth rule: a doubling grow starts when an insert would take `count` past
/// `num/den` entries per bucket (`overLoadFactor`).
#[derive(Copy, Clone, Debug, PartialEq, Eq)]
pub struct LoadFactor {
    /// `loadFactorNum`
    pub num: u64,
    /// `loadFactorDen`
    pub den: u64,
}

impl LoadFactor {
    /// 6.5 entries per bucket (`13/2`).
    pub const DEFAULT: LoadFactor = LoadFactor { num: 13, den: 2 };
    /// Go 1.21.x: 6.0 (`loadFactorDen*bucketCnt*13/16` truncated to 12, golang/go#63438).
    pub const GO121: LoadFactor = LoadFactor { num: 12, den: 2 };

    /// The count above which an insert starts a doubling grow, for `2^B` buckets (Go's
    /// `overLoadFactor(count+1, B)`: `count > bucketCnt && count > num*(2^B/den)`).
    pub fn grow_at(&self, nbuckets: u64) -> u64 {
        self.num.saturating_mul(nbuckets / self.den).max(8)
    }

    /// "6.5" or "6.0".
    pub fn per_bucket(&self) -> String {
        format!("{:.1}", self.num as f64 / self.den as f64)
    }
}

/// The classic map's layout for one Go version.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct ClassicLayout {
    /// The header's field offsets.
    pub hmap: HmapOffsets,
    /// The growth rule.
    pub load: LoadFactor,
}

/// Which map implementation a program uses.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum MapImpl {
    /// Go's classic map (buckets of 8, incremental evacuation).
    Classic(ClassicLayout),
    /// Go 1.24+'s Swiss tables (`internal/runtime/maps`): not decoded yet.
    Swiss,
}

/// The layout used to read a program's maps, with where it was learnt.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct MapLayout {
    /// The Go version (`None` for gomap's own maps).
    pub go: Option<GoVersion>,
    /// The `GOEXPERIMENT` settings the program was built with.
    pub experiments: Vec<String>,
    /// The implementation and its layout.
    pub imp: MapImpl,
    /// Where the version came from: `.go.buildinfo of BIN`, `--go-version`, ...
    pub found_in: String,
}

/// The error text for maps this build cannot decode yet.
pub const SWISS_UNSUPPORTED: &str = "Swiss-table map (Go 1.24+), not yet supported";

impl MapLayout {
    /// gomap's own maps: Go 1.19's classic map.
    pub fn gomap() -> MapLayout {
        MapLayout {
            go: None,
            experiments: Vec::new(),
            imp: MapImpl::Classic(ClassicLayout {
                hmap: HmapOffsets::GO119,
                load: LoadFactor::DEFAULT,
            }),
            found_in: "gomap (Go 1.19's classic map)".into(),
        }
    }

    /// The layout Go `v` uses, built with `experiments` (`GOEXPERIMENT`, comma-separated
    /// entries already split).
    pub fn for_go(
        v: GoVersion,
        experiments: &[String],
        found_in: &str,
    ) -> Result<MapLayout, String> {
        if v.major != 1 || !v.at_least(1, 18) {
            return Err(format!(
                "Go {v} is not supported: map-inspect reads maps of Go 1.18 and later"
            ));
        }
        let has = |e: &str| experiments.iter().any(|x| x == e);
        let imp = if v.at_least(1, 24) {
            // Swiss tables are the default from 1.24; `noswissmap` keeps the classic map,
            // which Go 1.26 removed.
            if has("noswissmap") && !v.at_least(1, 26) {
                MapImpl::Classic(ClassicLayout {
                    hmap: HmapOffsets::GO124,
                    load: LoadFactor::DEFAULT,
                })
            } else {
                MapImpl::Swiss
            }
        } else if v.minor == 23 && has("swissmap") {
            MapImpl::Swiss
        } else {
            MapImpl::Classic(ClassicLayout {
                hmap: HmapOffsets::GO119,
                load: if v.minor == 21 {
                    LoadFactor::GO121
                } else {
                    LoadFactor::DEFAULT
                },
            })
        };
        Ok(MapLayout {
            go: Some(v),
            experiments: experiments.to_vec(),
            imp,
            found_in: found_in.to_string(),
        })
    }

    /// The classic layout, or the "not yet supported" error.
    pub fn classic(&self) -> Result<&ClassicLayout, String> {
        match &self.imp {
            MapImpl::Classic(c) => Ok(c),
            MapImpl::Swiss => Err(format!("{SWISS_UNSUPPORTED} ({})", self.describe())),
        }
    }

    /// `Go 1.24.11 (GOEXPERIMENT=noswissmap), classic map with a 56-byte hmap (clearSeq at
    /// 40, extra at 48)`.
    pub fn describe(&self) -> String {
        let go = match self.go {
            Some(v) => {
                let mut s = format!("Go {v}");
                if !self.experiments.is_empty() {
                    s.push_str(&format!(" (GOEXPERIMENT={})", self.experiments.join(",")));
                }
                s
            }
            None => "gomap".to_string(),
        };
        let imp = match &self.imp {
            MapImpl::Classic(c) => {
                let mut s = format!("classic map with a {}-byte hmap", c.hmap.size);
                if let Some(cs) = c.hmap.clear_seq {
                    s.push_str(&format!(" (clearSeq at {cs}, extra at {})", c.hmap.extra));
                }
                s.push_str(&format!(
                    ", grows at {} entries per bucket",
                    c.load.per_bucket()
                ));
                s
            }
            MapImpl::Swiss => "Swiss-table map".to_string(),
        };
        format!("{go}, {imp}")
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn versions_and_layouts() {
        let v = GoVersion::parse("go1.24.11 X:noswissmap").unwrap();
        assert_eq!((v.major, v.minor, v.patch), (1, 24, 11));
        assert_eq!(GoVersion::parse("go1.21rc2").unwrap().minor, 21);
        assert!(GoVersion::parse("devel +abc").is_none());
        let l = MapLayout::for_go(v, &["noswissmap".into()], "t").unwrap();
        assert_eq!(l.classic().unwrap().hmap.size, 56);
        let l = MapLayout::for_go(v, &[], "t").unwrap();
        assert!(l.classic().unwrap_err().contains(SWISS_UNSUPPORTED));
        let l121 = MapLayout::for_go(GoVersion::parse("1.21.13").unwrap(), &[], "t").unwrap();
        // B = 7: 128 buckets; Go 1.21 grows past 768, the others past 832.
        assert_eq!(l121.classic().unwrap().load.grow_at(128), 768);
        assert_eq!(LoadFactor::DEFAULT.grow_at(128), 832);
        assert_eq!(LoadFactor::DEFAULT.grow_at(1), 8);
    }
}
