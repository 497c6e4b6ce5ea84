//! Go's Swiss-table maps (Go 1.24+, `internal/runtime/maps`): the group layout of a map type,
//! the walk of a map's memory ([`decode`]), its report ([`report`], JSON schema
//! `gomap-swiss-dump/1`) and its text ([`render`]).
//!
//! A Swiss map is a 48-byte `Map` header. A small map (`dirLen == 0`) keeps at most 8
//! entries in one group that `dirPtr` points to. A larger map's `dirPtr` points to a
//! directory of `1 << globalDepth` table pointers: the top `globalDepth` bits of a hash pick
//! an entry, and a table of `localDepth < globalDepth` fills `1 << (globalDepth - localDepth)`
//! consecutive entries. A table (32 bytes) owns a power-of-two array of groups; a group is
//! an 8-byte control word, one byte per slot (`0x80` empty, `0xFE` deleted, `0hhhhhhh` full
//! with the hash's low 7 bits), then the 8 slots.

pub mod decode;
pub mod render;
pub mod report;

use serde::{Deserialize, Serialize};

use crate::program::dwarf::{Kind, Type};
use crate::program::layout::{GROUP_SLOTS, SWISS_MAX_INLINE};

/// Where a group's keys and elems are: key `i` at `keys_off + i * key_stride`, elem `i` at
/// `elems_off + i * elem_stride` (the formula of Go 1.27's `groupReference.key/elem`, which
/// fits both group layouts).
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct GroupLayout {
    /// The key type's size.
    pub key_size: usize,
    /// The elem type's size.
    pub elem_size: usize,
    /// Keys are stored through pointers (the key type is larger than 128 bytes).
    pub indirect_key: bool,
    /// Elems are stored through pointers.
    pub indirect_elem: bool,
    /// `{ctrl; keys[8]; elems[8]}` (Go 1.27 `GOEXPERIMENT=mapsplitgroup`) instead of
    /// `{ctrl; slots[8]{key, elem}}`.
    pub split: bool,
    /// Offset of key 0 in the group.
    pub keys_off: usize,
    /// Bytes from one key to the next (the slot size, or the key slot's size when split).
    pub key_stride: usize,
    /// Offset of elem 0 in the group.
    pub elems_off: usize,
    /// Bytes from one elem to the next.
    pub elem_stride: usize,
    /// The group's size (`GroupSize`).
    pub group_size: usize,
    /// Where this layout was learnt (DWARF's group type, the runtime map type, the types).
    pub source: String,
}

fn align_up(n: usize, a: usize) -> usize {
    let a = a.max(1);
    n.div_ceil(a) * a
}

impl GroupLayout {
    /// The bytes a key occupies in its slot (8 for an indirect key).
    pub fn key_slot_size(&self) -> usize {
        if self.indirect_key {
            8
        } else {
            self.key_size
        }
    }

    /// The bytes an elem occupies in its slot.
    pub fn elem_slot_size(&self) -> usize {
        if self.indirect_elem {
            8
        } else {
            self.elem_size
        }
    }

    /// Offset of key `i` in the group.
    pub fn key_offset(&self, i: usize) -> usize {
        self.keys_off + i * self.key_stride
    }

    /// Offset of elem `i` in the group.
    pub fn elem_offset(&self, i: usize) -> usize {
        self.elems_off + i * self.elem_stride
    }

    /// The group layout the compiler builds for key and elem types of these sizes and
    /// alignments (`reflectdata.MapGroupType`): types over 128 bytes are stored through a
    /// pointer; slots are `struct{key; elem}` laid out by Go's struct rules, or, split,
    /// `keys [8]K` then `elems [8]V`.
    pub fn from_types(
        key_size: usize,
        key_align: usize,
        elem_size: usize,
        elem_align: usize,
        split: bool,
    ) -> GroupLayout {
        let ik = key_size as u64 > SWISS_MAX_INLINE;
        let ie = elem_size as u64 > SWISS_MAX_INLINE;
        let (ks, ka) = if ik {
            (8, 8)
        } else {
            (key_size, key_align.max(1))
        };
        let (es, ea) = if ie {
            (8, 8)
        } else {
            (elem_size, elem_align.max(1))
        };
        // Go's struct layout (types.CalcStructSize): fields at their alignment, and a struct
        // that ends in a zero-sized field but is not itself zero-sized gets one more byte.
        let end = |size: usize, last: usize| size + usize::from(size > 0 && last == 0);
        let (keys_off, key_stride, elems_off, elem_stride, size) = if split {
            let keys_off = align_up(8, ka);
            let elems_off = align_up(keys_off + GROUP_SLOTS * ks, ea);
            let size = align_up(
                end(elems_off + GROUP_SLOTS * es, GROUP_SLOTS * es),
                ka.max(ea).max(8),
            );
            (keys_off, ks, elems_off, es, size)
        } else {
            let slot_align = ka.max(ea);
            let elem_off = align_up(ks, ea);
            let slot = align_up(end(elem_off + es, es), slot_align);
            let slots_off = align_up(8, slot_align);
            let size = align_up(
                end(slots_off + GROUP_SLOTS * slot, GROUP_SLOTS * slot),
                slot_align.max(8),
            );
            (slots_off, slot, slots_off + elem_off, slot, size)
        };
        GroupLayout {
            key_size,
            elem_size,
            indirect_key: ik,
            indirect_elem: ie,
            split,
            keys_off,
            key_stride,
            elems_off,
            elem_stride,
            group_size: size,
            source: "computed from the key and elem types (Go's group layout rules)".into(),
        }
    }

    /// The group layout DWARF's group type gives (`noalg.map.group[K]V`: `ctrl` and
    /// `slots [8]struct{key; elem}`, or `ctrl`, `keys [8]K` and `elems [8]V`), for the map's
    /// key and elem types. The two layouts are told apart by the field names.
    pub fn from_dwarf(group: &Type, key: &Type, elem: &Type) -> Result<GroupLayout, String> {
        let Kind::Struct { fields } = &group.kind else {
            return Err(format!("DWARF's group type {} is not a struct", group.name));
        };
        let field = |n: &str| fields.iter().find(|f| f.name == n);
        let names: Vec<&str> = fields.iter().map(|f| f.name.as_str()).collect();
        let bad = |why: String| {
            format!(
                "DWARF's group type {} (fields {}) is not a Swiss-table group map-inspect knows: \
                 {why}",
                group.name,
                names.join(", ")
            )
        };
        match field("ctrl") {
            Some(c) if c.offset == 0 && c.ty.size == 8 => {}
            _ => return Err(bad("no 8-byte ctrl word at offset 0".into())),
        }
        // How a slot holds a value of type `t`: inline (the field has t's size) or through
        // a pointer (t is over 128 bytes and the field is a pointer).
        let indirect = |what: &str, f: &Type, t: &Type| -> Result<bool, String> {
            let big = t.size > SWISS_MAX_INLINE;
            match (&f.kind, big) {
                (Kind::Pointer { .. }, true) if f.size == 8 => Ok(true),
                (_, false) if f.size == t.size => Ok(false),
                _ => Err(bad(format!(
                    "its {what} field is {} ({} bytes) for a {what} type {} of {} bytes",
                    f.name, f.size, t.name, t.size
                ))),
            }
        };
        let array_of = |n: &str| -> Result<(u64, std::rc::Rc<Type>), String> {
            let f = field(n).ok_or_else(|| bad(format!("no {n} field")))?;
            match &f.ty.kind {
                Kind::Array { elem, len } if *len == GROUP_SLOTS as u64 => {
                    Ok((f.offset, elem.clone()))
                }
                _ => Err(bad(format!("{n} is not an array of {GROUP_SLOTS}"))),
            }
        };
        let gl = if field("slots").is_some() {
            let (off, slot) = array_of("slots")?;
            let Kind::Struct { fields: sf } = &slot.kind else {
                return Err(bad("a slot is not a struct".into()));
            };
            let k = sf
                .iter()
                .find(|f| f.name == "key")
                .ok_or_else(|| bad("a slot has no key field".into()))?;
            let e = sf
                .iter()
                .find(|f| f.name == "elem")
                .ok_or_else(|| bad("a slot has no elem field".into()))?;
            let ik = indirect("key", &k.ty, key)?;
            let ie = indirect("elem", &e.ty, elem)?;
            GroupLayout {
                key_size: key.size as usize,
                elem_size: elem.size as usize,
                indirect_key: ik,
                indirect_elem: ie,
                split: false,
                keys_off: (off + k.offset) as usize,
                key_stride: slot.size as usize,
                elems_off: (off + e.offset) as usize,
                elem_stride: slot.size as usize,
                group_size: group.size as usize,
                source: format!("DWARF's group type {}", group.name),
            }
        } else if field("keys").is_some() && field("elems").is_some() {
            let (koff, kt) = array_of("keys")?;
            let (eoff, et) = array_of("elems")?;
            let ik = indirect("key", &kt, key)?;
            let ie = indirect("elem", &et, elem)?;
            GroupLayout {
                key_size: key.size as usize,
                elem_size: elem.size as usize,
                indirect_key: ik,
                indirect_elem: ie,
                split: true,
                keys_off: koff as usize,
                key_stride: kt.size as usize,
                elems_off: eoff as usize,
                elem_stride: et.size as usize,
                group_size: group.size as usize,
                source: format!("DWARF's group type {}", group.name),
            }
        } else {
            return Err(bad("neither slots nor keys and elems".into()));
        };
        gl.check()
            .map_err(|e| bad(format!("its offsets are inconsistent: {e}")))?;
        Ok(gl)
    }

    /// Checks that the layout is one Go's rules can give for some key and elem types of
    /// these sizes (whatever their alignment, at most 8): the slots start right after the
    /// ctrl word, lie inside the group, do not overlap, and the group is no larger than its
    /// slots and their padding.
    pub fn check(&self) -> Result<(), String> {
        let (ks, es) = (self.key_slot_size(), self.elem_slot_size());
        if self.key_offset(0) < 8 || self.elem_offset(0) < 8 {
            return Err("a slot overlaps the ctrl word".into());
        }
        if self.keys_off != 8 {
            return Err(format!(
                "key 0 is at {}, but a group's slots start right after its 8-byte ctrl word",
                self.keys_off
            ));
        }
        let end = |size: usize, last: usize| size + usize::from(size > 0 && last == 0);
        if self.split {
            if self.key_stride != ks || self.elem_stride != es {
                return Err(format!(
                    "split groups keep keys of {ks} and elems of {es} bytes back to back, but \
                     the strides are {} and {}",
                    self.key_stride, self.elem_stride
                ));
            }
            let keys_end = 8 + GROUP_SLOTS * ks;
            if self.elems_off < keys_end || self.elems_off > keys_end + 7 {
                return Err(format!(
                    "elem 0 is at {}, but the keys end at {keys_end}",
                    self.elems_off
                ));
            }
            let want = align_up(end(self.elems_off + GROUP_SLOTS * es, GROUP_SLOTS * es), 8);
            if self.group_size != want {
                return Err(format!(
                    "the group is {} bytes, but its keys and elems make {want}",
                    self.group_size
                ));
            }
        } else {
            let slot = self.key_stride;
            if self.elem_stride != slot {
                return Err(format!(
                    "slots {{key, elem}} have one stride, but keys are {} bytes apart and elems \
                     {}",
                    self.key_stride, self.elem_stride
                ));
            }
            let elem_in_slot = self.elems_off - self.keys_off;
            if elem_in_slot < ks
                || elem_in_slot > align_up(ks, 8)
                || elem_in_slot + es > slot
                || slot > align_up(end(elem_in_slot + es, es), 8)
            {
                return Err(format!(
                    "a slot of {slot} bytes with its elem at +{elem_in_slot} cannot hold a key of \
                     {ks} and an elem of {es} bytes by Go's struct rules"
                ));
            }
            let want = align_up(end(8 + GROUP_SLOTS * slot, GROUP_SLOTS * slot), 8);
            if self.group_size != want {
                return Err(format!(
                    "the group is {} bytes, but a ctrl word and 8 slots of {slot} make {want}",
                    self.group_size
                ));
            }
        }
        let kend = self.key_offset(GROUP_SLOTS - 1) + ks;
        let eend = self.elem_offset(GROUP_SLOTS - 1) + es;
        if kend > self.group_size || eend > self.group_size {
            return Err(format!(
                "the slots end at {} but the group is {} bytes",
                kend.max(eend),
                self.group_size
            ));
        }
        if (ks > 0 && self.key_stride < ks) || (es > 0 && self.elem_stride < es) {
            return Err("the stride is smaller than a slot".into());
        }
        for i in 0..GROUP_SLOTS {
            for j in 0..GROUP_SLOTS {
                let (a, b) = (self.key_offset(i), self.elem_offset(j));
                if ks > 0 && es > 0 && a < b + es && b < a + ks {
                    return Err(format!("key {i} overlaps elem {j}"));
                }
            }
        }
        Ok(())
    }

    /// The same layout as `other`, apart from where each was learnt.
    pub fn same_as(&self, other: &GroupLayout) -> bool {
        GroupLayout {
            source: String::new(),
            ..self.clone()
        } == GroupLayout {
            source: String::new(),
            ..other.clone()
        }
    }

    /// `slots {key, elem} of 24 bytes` or `keys[8] at 8 (8 bytes each), elems[8] at 72`.
    pub fn describe(&self) -> String {
        let how = |ind: bool, size: usize| {
            if ind {
                format!("a pointer to {size} bytes")
            } else {
                format!("{size} bytes")
            }
        };
        if self.split {
            format!(
                "group {} bytes = ctrl 8 + keys[8] at {} ({} each) + elems[8] at {} ({} each)",
                self.group_size,
                self.keys_off,
                how(self.indirect_key, self.key_size),
                self.elems_off,
                how(self.indirect_elem, self.elem_size)
            )
        } else {
            format!(
                "group {} bytes = ctrl 8 + 8 slots of {} bytes {{key: {} at +0, elem: {} at +{}}}",
                self.group_size,
                self.key_stride,
                how(self.indirect_key, self.key_size),
                how(self.indirect_elem, self.elem_size),
                self.elems_off - self.keys_off
            )
        }
    }
}

/// What the runtime's map type descriptor says about the group layout (`abi.SwissMapType`
/// in Go 1.24–1.25, `abi.MapType` in 1.26+: `GroupSize`, `SlotSize` and `ElemOff`, or in
/// 1.27 `KeysOff`, `KeyStride`, `ElemsOff`, `ElemStride`; and `Flags`).
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct RuntimeMapType {
    /// `GroupSize`.
    pub group_size: u64,
    /// Offset of key 0.
    pub keys_off: u64,
    /// Key stride.
    pub key_stride: u64,
    /// Offset of elem 0.
    pub elems_off: u64,
    /// Elem stride.
    pub elem_stride: u64,
    /// `Flags` (`IndirectKey` 4, `IndirectElem` 8).
    pub flags: u32,
    /// The descriptor's address, and the struct it was read as.
    pub what: String,
}

impl RuntimeMapType {
    /// Checks a group layout against the descriptor.
    pub fn check(&self, g: &GroupLayout) -> Result<(), String> {
        let mut bad = Vec::new();
        for (name, want, have) in [
            ("GroupSize", self.group_size, g.group_size as u64),
            ("keys offset", self.keys_off, g.keys_off as u64),
            ("key stride", self.key_stride, g.key_stride as u64),
            ("elems offset", self.elems_off, g.elems_off as u64),
            ("elem stride", self.elem_stride, g.elem_stride as u64),
        ] {
            if want != have {
                bad.push(format!("{name} {want} (the layout has {have})"));
            }
        }
        let (ik, ie) = (self.flags & 4 != 0, self.flags & 8 != 0);
        if ik != g.indirect_key || ie != g.indirect_elem {
            bad.push(format!(
                "Flags {:#x}: indirect key {ik}, indirect elem {ie}",
                self.flags
            ));
        }
        if bad.is_empty() {
            Ok(())
        } else {
            Err(format!(
                "the runtime map type ({}) disagrees with {}: {}",
                self.what,
                g.source,
                bad.join("; ")
            ))
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn computed_layouts_match_the_compilers() {
        // map[uint64]string: slot {uint64; string} = 24 bytes, group 8 + 192.
        let g = GroupLayout::from_types(8, 8, 16, 8, false);
        assert_eq!((g.key_stride, g.elems_off, g.group_size), (24, 16, 200));
        // map[int32]Item (Item 32 bytes, aligned to 8): slot 40, elem at +8; group 328.
        let g = GroupLayout::from_types(4, 4, 32, 8, false);
        assert_eq!((g.key_stride, g.elems_off, g.group_size), (40, 16, 328));
        // The split layout of the same: keys[8] int32 at 8, elems at 40; 296 bytes.
        let g = GroupLayout::from_types(4, 4, 32, 8, true);
        assert_eq!((g.keys_off, g.elems_off, g.group_size), (8, 40, 296));
        // [130]uint8 keys are stored through pointers: slot {*K; int} = 16, group 136.
        let g = GroupLayout::from_types(130, 1, 8, 8, false);
        assert!(g.indirect_key && !g.indirect_elem);
        assert_eq!((g.key_stride, g.group_size), (16, 136));
        // map[uint16][200]uint8, split: keys[8] uint16 at 8, elems[8] *[200]uint8 at 24: 88.
        let g = GroupLayout::from_types(2, 2, 200, 1, true);
        assert_eq!((g.elems_off, g.group_size), (24, 88));
        assert!(g.check().is_ok());
        // map[int]struct{}: a slot {int; struct{}} ends in a zero-sized field, so it gets a
        // byte of padding: 16 bytes; the group 8 + 128.
        let g = GroupLayout::from_types(8, 8, 0, 1, false);
        assert_eq!((g.key_stride, g.group_size), (16, 136));
        assert!(g.check().is_ok());
        // Split: keys[8]int then elems[8]struct{} (zero-sized, last): 8 + 64 + 1 → 80.
        let g = GroupLayout::from_types(8, 8, 0, 1, true);
        assert_eq!(g.group_size, 80);
        assert!(g.check().is_ok());
        // Every computed layout passes the checks; a wrong stride or group size does not.
        for (ks, ka, es, ea) in [(1, 1, 1, 1), (4, 4, 16, 8), (130, 1, 130, 1), (0, 1, 8, 8)] {
            for split in [false, true] {
                let g = GroupLayout::from_types(ks, ka, es, ea, split);
                assert!(g.check().is_ok(), "{g:?}");
                let mut bad = g.clone();
                bad.group_size += 8;
                assert!(bad.check().is_err(), "{bad:?}");
                let mut bad = g.clone();
                bad.key_stride += 8;
                assert!(bad.check().is_err(), "{bad:?}");
            }
        }
    }
}
