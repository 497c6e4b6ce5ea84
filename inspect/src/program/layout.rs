//! Go versions and the map layout each one uses.
//!
//! | Go | map | `hmap` | growth |
//! |---|---|---|---|
//! | 1.19, 1.20 | classic | 48 bytes | 6.5 entries per bucket |
//! | 1.21.x | classic | 48 bytes | 6.0 (`loadFactorNum` truncated to 12, golang/go#63438) |
//! | 1.22, 1.23 | classic | 48 bytes | 6.5 |
//! | 1.24, 1.25 with `GOEXPERIMENT=noswissmap` | classic | 56 bytes: `clearSeq` at 40, `extra` at 48 | 6.5 |
//! | 1.24 (default) | Swiss tables | 48-byte `Map`, 32-byte `table` | tables of at most 1024 slots, 7/8 full |
//! | 1.25–1.27 | Swiss tables | 48-byte `Map` with `tombstonePossible` at 35 | the same, and tombstones are pruned (when that frees 10% of a table) before it grows |
//! | 1.27 with `GOEXPERIMENT=mapsplitgroup` | Swiss tables | as 1.25, groups `{ctrl; keys[8]; elems[8]}` | as 1.25 |
//!
//! A layout is chosen once, from the version (and, when the program has DWARF, checked
//! against the field names and offsets of its `hash<K,V>`, or `map<K,V>` and `table<K,V>`,
//! types), and handed to the decoder. Every offset here is the one each toolchain's
//! `GOROOT/src/runtime/map.go` or `internal/runtime/maps/{map,table,group}.go` gives on
//! 64-bit targets.

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

/// Offsets of the Swiss-table map header's fields (`internal/runtime/maps.Map`, 64-bit).
#[derive(Copy, Clone, Debug, PartialEq, Eq)]
pub struct SwissMapOffsets {
    /// `used uint64`: live entries (`len(m)`).
    pub used: usize,
    /// `seed uintptr`: the hash seed.
    pub seed: usize,
    /// `dirPtr unsafe.Pointer`: the directory (`*[dirLen]*table`), or the one group of a
    /// small map.
    pub dir_ptr: usize,
    /// `dirLen int`: directory entries (0: a small map).
    pub dir_len: usize,
    /// `globalDepth uint8`: hash bits that pick a directory entry.
    pub global_depth: usize,
    /// `globalShift uint8`: `64 - globalDepth`.
    pub global_shift: usize,
    /// `writing uint8`: toggled (XOR 1) by every write.
    pub writing: usize,
    /// `tombstonePossible bool` (Go 1.25+: in the padding after `writing`).
    pub tombstone_possible: Option<usize>,
    /// `clearSeq uint64`: how many times the map was cleared.
    pub clear_seq: usize,
    /// The header's size.
    pub size: usize,
}

impl SwissMapOffsets {
    /// Go 1.24: no `tombstonePossible`.
    pub const GO124: SwissMapOffsets = SwissMapOffsets {
        used: 0,
        seed: 8,
        dir_ptr: 16,
        dir_len: 24,
        global_depth: 32,
        global_shift: 33,
        writing: 34,
        tombstone_possible: None,
        clear_seq: 40,
        size: 48,
    };
    /// Go 1.25 and later: `tombstonePossible` at 35.
    pub const GO125: SwissMapOffsets = SwissMapOffsets {
        tombstone_possible: Some(35),
        ..SwissMapOffsets::GO124
    };

    /// The fields as (Go name, offset, size), in offset order.
    pub fn fields(&self) -> Vec<(&'static str, usize, usize)> {
        let mut v = vec![
            ("used", self.used, 8),
            ("seed", self.seed, 8),
            ("dirPtr", self.dir_ptr, 8),
            ("dirLen", self.dir_len, 8),
            ("globalDepth", self.global_depth, 1),
            ("globalShift", self.global_shift, 1),
            ("writing", self.writing, 1),
            ("clearSeq", self.clear_seq, 8),
        ];
        if let Some(t) = self.tombstone_possible {
            v.push(("tombstonePossible", t, 1));
        }
        v.sort_by_key(|f| f.1);
        v
    }
}

/// Offsets of a Swiss table's fields (`internal/runtime/maps.table`, 64-bit; the same in Go
/// 1.24–1.27).
#[derive(Copy, Clone, Debug, PartialEq, Eq)]
pub struct TableOffsets {
    /// `used uint16`: live entries in the table.
    pub used: usize,
    /// `capacity uint16`: slots (a power of two, at most 1024).
    pub capacity: usize,
    /// `growthLeft uint16`: inserts into empty slots left before the table must grow.
    pub growth_left: usize,
    /// `localDepth uint8`: hash bits this table's directory entries share.
    pub local_depth: usize,
    /// `index int`: the table's first directory entry (-1 once replaced).
    pub index: usize,
    /// `groups.data unsafe.Pointer`: the group array.
    pub groups_data: usize,
    /// `groups.lengthMask uint64`: groups - 1.
    pub length_mask: usize,
    /// The table's size.
    pub size: usize,
}

impl TableOffsets {
    /// Go 1.24–1.27.
    pub const GO124: TableOffsets = TableOffsets {
        used: 0,
        capacity: 2,
        growth_left: 4,
        local_depth: 6,
        index: 8,
        groups_data: 16,
        length_mask: 24,
        size: 32,
    };

    /// The fields as (Go name, offset, size), in offset order (`groups` split into its two
    /// words, as `groups.data` and `groups.lengthMask`).
    pub fn fields(&self) -> Vec<(&'static str, usize, usize)> {
        vec![
            ("used", self.used, 2),
            ("capacity", self.capacity, 2),
            ("growthLeft", self.growth_left, 2),
            ("localDepth", self.local_depth, 1),
            ("index", self.index, 8),
            ("groups.data", self.groups_data, 8),
            ("groups.lengthMask", self.length_mask, 8),
        ]
    }
}

/// Slots per group (`abi.SwissMapGroupSlots`).
pub const GROUP_SLOTS: usize = 8;
/// The most slots a table has before it splits (`maxTableCapacity`).
pub const MAX_TABLE_CAPACITY: u64 = 1024;
/// Of every 8 slots of a table, at most 7 hold entries or tombstones (`maxAvgGroupLoad`).
pub const MAX_AVG_GROUP_LOAD: u64 = 7;
/// The control byte of an empty slot (`ctrlEmpty`).
pub const CTRL_EMPTY: u8 = 0x80;
/// The control byte of a deleted slot, a tombstone (`ctrlDeleted`).
pub const CTRL_DELETED: u8 = 0xFE;
/// The largest key or elem stored in its slot; larger ones are stored through a pointer
/// (`abi.SwissMapMaxKeyBytes`, `abi.SwissMapMaxElemBytes`).
pub const SWISS_MAX_INLINE: u64 = 128;

/// Inserts a table of `capacity` slots takes before it must grow, from empty (Go's
/// `maxGrowthLeft`: all slots but one for a table of one group, else 7/8 of them).
pub fn max_growth_left(capacity: u64) -> u64 {
    if capacity <= GROUP_SLOTS as u64 {
        capacity.saturating_sub(1)
    } else {
        capacity * MAX_AVG_GROUP_LOAD / GROUP_SLOTS as u64
    }
}

/// The Swiss-table map's layout for one Go version.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct SwissLayout {
    /// The `Map` header's field offsets.
    pub map: SwissMapOffsets,
    /// The `table`'s field offsets.
    pub table: TableOffsets,
    /// Groups are `{ctrl; keys[8]; elems[8]}` (Go 1.27 `GOEXPERIMENT=mapsplitgroup`) rather
    /// than `{ctrl; slots[8]{key, elem}}`. DWARF's group type tells, when there is DWARF.
    pub split_groups: bool,
    /// An insert into a full table first prunes tombstones no probe sequence needs, when
    /// that frees at least 10% of its capacity (Go 1.25+: `pruneTombstones`).
    pub prunes_tombstones: bool,
}

impl SwissLayout {
    /// Go 1.24.
    pub const GO124: SwissLayout = SwissLayout {
        map: SwissMapOffsets::GO124,
        table: TableOffsets::GO124,
        split_groups: false,
        prunes_tombstones: false,
    };
    /// Go 1.25–1.27.
    pub const GO125: SwissLayout = SwissLayout {
        map: SwissMapOffsets::GO125,
        table: TableOffsets::GO124,
        split_groups: false,
        prunes_tombstones: true,
    };
}

/// Which map implementation a program uses.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum MapImpl {
    /// Go's classic map (buckets of 8, incremental evacuation).
    Classic(ClassicLayout),
    /// Go 1.24+'s Swiss tables (`internal/runtime/maps`).
    Swiss(SwissLayout),
    /// A map implementation map-inspect does not read (why).
    Unsupported(String),
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

/// The error text for Go 1.23's experimental Swiss tables (`GOEXPERIMENT=swissmap`), whose
/// layout is not the one Go 1.24 released.
pub const SWISS_123_UNSUPPORTED: &str =
    "Go 1.23's experimental Swiss-table map (GOEXPERIMENT=swissmap) is not supported";

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
                let mut l = if v.at_least(1, 25) {
                    SwissLayout::GO125
                } else {
                    SwissLayout::GO124
                };
                l.split_groups = v.at_least(1, 27) && has("mapsplitgroup");
                MapImpl::Swiss(l)
            }
        } else if v.minor == 23 && has("swissmap") {
            MapImpl::Unsupported(SWISS_123_UNSUPPORTED.into())
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

    /// The classic layout, or an error naming the layout this is.
    pub fn classic(&self) -> Result<&ClassicLayout, String> {
        match &self.imp {
            MapImpl::Classic(c) => Ok(c),
            MapImpl::Swiss(_) => Err(format!(
                "{} has Swiss-table maps, not classic ones",
                self.describe()
            )),
            MapImpl::Unsupported(why) => Err(format!("{why} ({})", self.describe())),
        }
    }

    /// The Swiss-table layout, if the program's maps are Swiss tables.
    pub fn swiss(&self) -> Option<&SwissLayout> {
        match &self.imp {
            MapImpl::Swiss(s) => Some(s),
            _ => None,
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
            MapImpl::Swiss(l) => format!(
                "Swiss-table map with a {}-byte Map{} and {}-byte tables (at most {} slots, \
                 filled to 7/8{}), groups {}",
                l.map.size,
                match l.map.tombstone_possible {
                    Some(o) => format!(" (tombstonePossible at {o})"),
                    None => String::new(),
                },
                l.table.size,
                MAX_TABLE_CAPACITY,
                if l.prunes_tombstones {
                    "; tombstones pruned before a grow"
                } else {
                    ""
                },
                if l.split_groups {
                    "{ctrl; keys[8]; elems[8]}"
                } else {
                    "{ctrl; slots[8]{key, elem}}"
                }
            ),
            MapImpl::Unsupported(why) => format!("unsupported map ({why})"),
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
        assert!(l.classic().unwrap_err().contains("Swiss-table"));
        assert_eq!(l.swiss(), Some(&SwissLayout::GO124));
        let v125 = GoVersion::parse("go1.25.5").unwrap();
        let l = MapLayout::for_go(v125, &[], "t").unwrap();
        assert_eq!(l.swiss().unwrap().map.tombstone_possible, Some(35));
        let v127 = GoVersion::parse("go1.27.3").unwrap();
        let l = MapLayout::for_go(v127, &["mapsplitgroup".into()], "t").unwrap();
        assert!(l.swiss().unwrap().split_groups);
        let v123 = GoVersion::parse("go1.23.9").unwrap();
        let l = MapLayout::for_go(v123, &["swissmap".into()], "t").unwrap();
        assert!(matches!(l.imp, MapImpl::Unsupported(_)));
        // Go's maxGrowthLeft.
        assert_eq!(max_growth_left(8), 7);
        assert_eq!(max_growth_left(16), 14);
        assert_eq!(max_growth_left(1024), 896);
        let l121 = MapLayout::for_go(GoVersion::parse("1.21.13").unwrap(), &[], "t").unwrap();
        // B = 7: 128 buckets; Go 1.21 grows past 768, the others past 832.
        assert_eq!(l121.classic().unwrap().load.grow_at(128), 768);
        assert_eq!(LoadFactor::DEFAULT.grow_at(128), 832);
        assert_eq!(LoadFactor::DEFAULT.grow_at(1), 8);
    }
}
