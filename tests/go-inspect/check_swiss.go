//go:build goexperiment.swissmap || go1.26

// The check mode's Swiss-table part (Go 1.24+, internal/runtime/maps): for each key, Go's
// hash (the map type's Hasher with the map's seed), the group Go's lookup probes first (the
// table directory entry hash >> globalShift points to, group H1 & lengthMask) and where the
// key is in memory; and the damage a Swiss map can suffer.
//
// The Map header: used at 0, seed at 8, dirPtr at 16, dirLen at 24, globalShift at 33. A
// table: used, capacity, growthLeft (uint16s at 0, 2, 4), groups.data at 16,
// groups.lengthMask at 24. A group: 8 control bytes, then its slots (slotsOf).

package main

import (
	"fmt"
	"reflect"
	"unsafe"
)

var (
	dmgDup       map[uint64]uint64
	dmgMoved     map[uint64]uint64
	dmgTable     map[uint64]uint64
	dmgH2        map[uint64]uint64
	dmgUsed      map[uint64]uint64
	dmgTableUsed map[uint64]uint64
	dmgGrowth    map[uint64]uint64
	dmgIndex     map[uint64]uint64
	dmgCtrl      map[uint64]uint64
)

const (
	typeHasher    = 72 // abi.SwissMapType / abi.MapType .Hasher
	typeGroupSize = 80 // .GroupSize
	ctrlEmpty     = 0x80
)

// swissMap is a map's header, seen through its type.
type swissMap struct {
	h      unsafe.Pointer
	hasher func(unsafe.Pointer, uintptr) uintptr
	gsize  uintptr
	slots  slotLayout
}

func swissOf(p any) swissMap {
	v := reflect.ValueOf(p).Elem()
	x := v.Interface()
	mt := (*[2]unsafe.Pointer)(unsafe.Pointer(&x))[0]
	return swissMap{
		h:      hmapOf(unsafe.Pointer(v.UnsafeAddr())),
		hasher: *(*func(unsafe.Pointer, uintptr) uintptr)(unsafe.Add(mt, typeHasher)),
		gsize:  *(*uintptr)(unsafe.Add(mt, typeGroupSize)),
		slots:  slotsOf(mt),
	}
}

func (s swissMap) used() *uint64 { return (*uint64)(s.h) }
func (s swissMap) seed() uintptr { return *(*uintptr)(unsafe.Add(s.h, 8)) }
func (s swissMap) dirLen() int   { return *(*int)(unsafe.Add(s.h, 24)) }
func (s swissMap) dirPtr() unsafe.Pointer {
	return *(*unsafe.Pointer)(unsafe.Add(s.h, 16))
}
func (s swissMap) globalShift() uint8 { return *(*uint8)(unsafe.Add(s.h, 33)) }

func (s swissMap) dirAt(i int) unsafe.Pointer {
	return *(*unsafe.Pointer)(unsafe.Add(s.dirPtr(), 8*i))
}

// tables lists the distinct tables in directory order (map-inspect's table numbers).
func (s swissMap) tables() []unsafe.Pointer {
	var out []unsafe.Pointer
	for i := 0; i < s.dirLen(); i++ {
		if t := s.dirAt(i); len(out) == 0 || out[len(out)-1] != t {
			out = append(out, t)
		}
	}
	return out
}

func tUsed(t unsafe.Pointer) *uint16       { return (*uint16)(t) }
func tGrowthLeft(t unsafe.Pointer) *uint16 { return (*uint16)(unsafe.Add(t, 4)) }
func tMask(t unsafe.Pointer) uint64        { return *(*uint64)(unsafe.Add(t, 24)) }

func (s swissMap) group(t unsafe.Pointer, i uint64) unsafe.Pointer {
	return unsafe.Add(*(*unsafe.Pointer)(unsafe.Add(t, 16)), uintptr(i)*s.gsize)
}

func ctrlAt(g unsafe.Pointer, i int) *uint8 { return (*uint8)(unsafe.Add(g, i)) }

func (s swissMap) keyAt(g unsafe.Pointer, i int) unsafe.Pointer {
	return unsafe.Add(g, s.slots.keysOff+uintptr(i)*s.slots.keyStride)
}

func (s swissMap) elemAt(g unsafe.Pointer, i int) unsafe.Pointer {
	return unsafe.Add(g, s.slots.elemsOff+uintptr(i)*s.slots.elemStride)
}

// hash is Go's hash of the key k points to.
func (s swissMap) hash(k unsafe.Pointer) uintptr { return s.hasher(k, s.seed()) }

// firstGroup is the group Go's lookup probes first: "small" for a small map, else
// "tT.gG" with the table directory entry hash >> globalShift points to (entry 0 in a
// directory of one) and G = H1 & lengthMask.
func (s swissMap) firstGroup(hash uintptr) string {
	if s.dirLen() == 0 {
		return "small"
	}
	idx := 0
	if s.dirLen() > 1 {
		idx = int(hash >> (s.globalShift() & 63))
	}
	n := 0
	for i := 1; i <= idx; i++ {
		if s.dirAt(i) != s.dirAt(i-1) {
			n++
		}
	}
	return fmt.Sprintf("t%d.g%d", n, uint64(hash>>7)&tMask(s.dirAt(idx)))
}

// slotRef is a slot: its group, table number (-1 for a small map) and group index.
type slotRef struct {
	g     unsafe.Pointer
	table int
	group uint64
	i     int
}

func (r slotRef) name() string {
	if r.table < 0 {
		return "small"
	}
	return fmt.Sprintf("t%d.g%d", r.table, r.group)
}

// fullSlots lists every full slot of the map, in map-inspect's order.
func (s swissMap) fullSlots() []slotRef {
	var out []slotRef
	add := func(g unsafe.Pointer, t int, gi uint64) {
		for i := 0; i < 8; i++ {
			if *ctrlAt(g, i)&0x80 == 0 {
				out = append(out, slotRef{g, t, gi, i})
			}
		}
	}
	if s.dirLen() == 0 {
		if s.dirPtr() != nil {
			add(s.dirPtr(), -1, 0)
		}
		return out
	}
	for n, t := range s.tables() {
		for gi := uint64(0); gi <= tMask(t); gi++ {
			add(s.group(t, gi), n, gi)
		}
	}
	return out
}

// lookupInfo describes every key of the map variable at p, with Go's own hash, the group
// its lookup probes first, and where the key is.
func lookupInfo(expr string, p any, absent ...any) checkMap {
	v := reflect.ValueOf(p).Elem()
	s := swissOf(p)
	kt := v.Type().Key()
	cm := checkMap{Expr: expr, Count: v.Len(), Keys: []keyInfo{}, Absent: []string{}}
	full := s.fullSlots()
	it := v.MapRange()
	for it.Next() {
		k := it.Key()
		ki := keyInfo{Key: fmt.Sprintf("%#v", k.Interface()), Elem: enc(it.Value())}
		if k.Interface() == k.Interface() { // not a NaN
			kp := reflect.New(kt)
			kp.Elem().Set(k)
			hash := s.hash(kp.UnsafePointer())
			ki.Hash = fmt.Sprintf("0x%016x", uint64(hash))
			ki.Bucket = s.firstGroup(hash)
			if s.dirLen() > 1 {
				ki.Groups = tMask(s.dirAt(int(hash>>(s.globalShift()&63)))) + 1
			} else if s.dirLen() == 1 {
				ki.Groups = tMask(s.dirAt(0)) + 1
			}
			for _, r := range full {
				sk := s.keyAt(r.g, r.i)
				if kt.Size() > 128 { // stored through a pointer
					sk = *(*unsafe.Pointer)(sk)
				}
				if reflect.NewAt(kt, sk).Elem().Interface() == k.Interface() {
					ki.At = fmt.Sprintf("%s slot %d", r.name(), r.i)
				}
			}
			if ki.At == "" {
				panic(fmt.Sprintf("%s: key %s not found in memory", expr, ki.Key))
			}
		}
		cm.Keys = append(cm.Keys, ki)
	}
	for _, a := range absent {
		if v.MapIndex(reflect.ValueOf(a)).IsValid() {
			panic(fmt.Sprintf("%s: %#v is present", expr, a))
		}
		cm.Absent = append(cm.Absent, fmt.Sprintf("%#v", a))
	}
	return cm
}

// fillImpl: the default mode's maps are the Swiss ones the check mode needs.
func fillImpl() {}

// implMaps describes the Swiss maps of the default mode.
func implMaps() []checkMap {
	return []checkMap{
		lookupInfo("main.small", &small, "six"),
		lookupInfo("main.wide", &wide, uint64(1), uint64(2)),
		lookupInfo("main.tombs", &tombs, "t-000", "t-003"),
		lookupInfo("main.fat", &fat, uint16(1)),
		lookupInfo("main.fresh", &fresh, 1),
	}
}

func implInfo() map[string]any { return nil }

func fillSwissU64(n int) map[uint64]uint64 {
	m := make(map[uint64]uint64)
	for k := uint64(0); k < uint64(n); k++ {
		m[k*7919+1] = k
	}
	return m
}

// emptiesIn lists the empty slots of a group.
func emptiesIn(g unsafe.Pointer) []int {
	var e []int
	for i := 0; i < 8; i++ {
		if *ctrlAt(g, i) == ctrlEmpty {
			e = append(e, i)
		}
	}
	return e
}

// withEmpty finds a full slot of table t whose group has an empty slot.
func (s swissMap) withEmpty(t unsafe.Pointer, table int) (slotRef, int) {
	for gi := uint64(0); gi <= tMask(t); gi++ {
		g := s.group(t, gi)
		e := emptiesIn(g)
		for i := 0; i < 8 && len(e) > 0; i++ {
			if *ctrlAt(g, i)&0x80 == 0 {
				return slotRef{g, table, gi, i}, e[0]
			}
		}
	}
	panic("no group with a full and an empty slot")
}

// probePrefix lists the groups of table t that the probe sequence of hash visits up to and
// including group last (Go's probeSeq: H1 & mask, then triangular steps).
func probePrefix(t unsafe.Pointer, hash uintptr, last uint64) map[uint64]bool {
	mask := tMask(t)
	seen := map[uint64]bool{}
	off := uint64(hash>>7) & mask
	for i := uint64(1); ; i++ {
		seen[off] = true
		if off == last {
			return seen
		}
		off = (off + i) & mask
	}
}

// move copies slot from's key, elem and control byte to slot i of group g, and empties from.
func (s swissMap) move(from slotRef, g unsafe.Pointer, i int) {
	*(*uint64)(s.keyAt(g, i)) = *(*uint64)(s.keyAt(from.g, from.i))
	*(*uint64)(s.elemAt(g, i)) = *(*uint64)(s.elemAt(from.g, from.i))
	*ctrlAt(g, i) = *ctrlAt(from.g, from.i)
	*(*uint64)(s.keyAt(from.g, from.i)) = 0
	*(*uint64)(s.elemAt(from.g, from.i)) = 0
	*ctrlAt(from.g, from.i) = ctrlEmpty
}

func damageAll() []damage {
	var out []damage
	key := func(s swissMap, r slotRef) string { return fmt.Sprint(*(*uint64)(s.keyAt(r.g, r.i))) }

	// A key copied into an empty slot of its own group; used (map and table) and growthLeft
	// changed as an insert changes them.
	dmgDup = fillSwissU64(200)
	s := swissOf(&dmgDup)
	t := s.tables()[0]
	r, f := s.withEmpty(t, 0)
	*(*uint64)(s.keyAt(r.g, f)) = *(*uint64)(s.keyAt(r.g, r.i))
	*(*uint64)(s.elemAt(r.g, f)) = *(*uint64)(s.elemAt(r.g, r.i))
	*ctrlAt(r.g, f) = *ctrlAt(r.g, r.i)
	*s.used()++
	*tUsed(t)++
	*tGrowthLeft(t)--
	out = append(out, damage{"main.dmgDup", "duplicate", r.name(), f, key(s, r), r.i})

	// A key moved off its probe sequence: from a group with an empty slot (where its
	// sequence may end) to a group with two empty slots its sequence reaches only later.
	dmgMoved = fillSwissU64(200)
	s = swissOf(&dmgMoved)
	t = s.tables()[0]
	r, _ = s.withEmpty(t, 0)
	k := *(*uint64)(s.keyAt(r.g, r.i))
	before := probePrefix(t, s.hash(unsafe.Pointer(&k)), r.group)
	moved := false
	for gi := uint64(0); gi <= tMask(t) && !moved; gi++ {
		g := s.group(t, gi)
		if e := emptiesIn(g); !before[gi] && len(e) >= 2 {
			s.move(r, g, e[0])
			out = append(out, damage{"main.dmgMoved", "probe", fmt.Sprintf("t0.g%d", gi), e[0], fmt.Sprint(k), -1})
			moved = true
		}
	}
	if !moved {
		panic("dmgMoved: no group to move a key to")
	}

	// A key moved to another table (to a group with two empty slots), with both tables'
	// used and growthLeft changed as a delete and an insert change them.
	dmgTable = fillSwissU64(3000)
	s = swissOf(&dmgTable)
	ts := s.tables()
	if len(ts) < 2 {
		panic("dmgTable: one table")
	}
	r, _ = s.withEmpty(ts[0], 0)
	to := 1 // the other table with the most room (growthLeft > 0: an insert could go there)
	for n := 2; n < len(ts); n++ {
		if *tGrowthLeft(ts[n]) > *tGrowthLeft(ts[to]) {
			to = n
		}
	}
	if *tGrowthLeft(ts[to]) == 0 {
		panic("dmgTable: no table with room")
	}
	moved = false
	for gi := uint64(0); gi <= tMask(ts[to]) && !moved; gi++ {
		g := s.group(ts[to], gi)
		if e := emptiesIn(g); len(e) >= 2 {
			k := key(s, r)
			s.move(r, g, e[0])
			*tUsed(ts[0])--
			*tGrowthLeft(ts[0])++
			*tUsed(ts[to])++
			*tGrowthLeft(ts[to])--
			out = append(out, damage{"main.dmgTable", "table", fmt.Sprintf("t%d.g%d", to, gi), e[0], k, -1})
			moved = true
		}
	}
	if !moved {
		panic("dmgTable: no group to move a key to")
	}

	// A control byte changed to another H2.
	dmgH2 = fillSwissU64(200)
	s = swissOf(&dmgH2)
	r, _ = s.withEmpty(s.tables()[0], 0)
	*ctrlAt(r.g, r.i) = (*ctrlAt(r.g, r.i) + 1) & 0x7f
	out = append(out, damage{"main.dmgH2", "h2", r.name(), r.i, key(s, r), -1})

	// The map's used off by one.
	dmgUsed = fillSwissU64(200)
	s = swissOf(&dmgUsed)
	*s.used()++
	out = append(out, damage{"main.dmgUsed", "used", "", -1, "", -1})

	// A table's used off by one.
	dmgTableUsed = fillSwissU64(200)
	s = swissOf(&dmgTableUsed)
	*tUsed(s.tables()[0])++
	out = append(out, damage{"main.dmgTableUsed", "used", "t0", -1, "", -1})

	// A table's growthLeft one short: by its fields, a tombstone no control byte shows.
	dmgGrowth = fillSwissU64(200)
	s = swissOf(&dmgGrowth)
	*tGrowthLeft(s.tables()[0])--
	out = append(out, damage{"main.dmgGrowth", "growth-left", "t0", -1, "", -1})

	// A table's index (its first directory entry) off by one.
	dmgIndex = fillSwissU64(3000)
	s = swissOf(&dmgIndex)
	*(*int)(unsafe.Add(s.tables()[1], 8))++
	out = append(out, damage{"main.dmgIndex", "directory", "t1", -1, "", -1})

	// An empty slot's control byte made a byte Go never writes (0x9c: neither empty,
	// deleted, nor an H2).
	dmgCtrl = fillSwissU64(200)
	s = swissOf(&dmgCtrl)
	r, f = s.withEmpty(s.tables()[0], 0)
	*ctrlAt(r.g, f) = 0x9c
	out = append(out, damage{"main.dmgCtrl", "ctrl", r.name(), f, "", -1})
	return out
}
