//go:build !(goexperiment.swissmap || go1.26)

// The check mode's classic-map part (Go 1.19–1.25): Go's bucket for each key, maps caught
// mid-grow and in a same-size grow, and the damage a classic map can suffer.

package main

import (
	"fmt"
	"reflect"
	"unsafe"
)

var (
	ckU64  map[uint64]uint64 // mid-grow, pointer-free: evacuated old buckets keep their keys
	ckSame map[uint64]uint64 // in a same-size grow

	dmgDup   map[uint64]uint64
	dmgMoved map[uint64]uint64
	dmgTop   map[uint64]uint64
	dmgCount map[uint64]uint64
	dmgCycle map[uint64]uint64
	dmgEvac  map[uint64]uint64
)

// Offsets shared by Go 1.19–1.25's classic hmap (48 or 56 bytes) and the map type.
const (
	hmapFlags      = 8
	hmapB          = 9
	hmapHash0      = 12
	hmapBuckets    = 16
	hmapOld        = 24
	hmapNevacuate  = 32
	typeHasher     = 72 // maptype.hasher
	typeBucketSize = 82 // maptype.bucketsize (uint16)
	u64Bucket      = 144
)

// lookupInfo describes every key of the map variable at p, with Go's own hash and bucket.
func lookupInfo(expr string, p any, absent ...any) checkMap {
	v := reflect.ValueOf(p).Elem()
	x := v.Interface()
	mt := (*[2]unsafe.Pointer)(unsafe.Pointer(&x))[0]
	hasher := *(*func(unsafe.Pointer, uintptr) uintptr)(unsafe.Add(mt, typeHasher))
	bsize := uintptr(*(*uint16)(unsafe.Add(mt, typeBucketSize)))
	h := hmapOf(unsafe.Pointer(v.UnsafeAddr()))
	hash0 := uintptr(*(*uint32)(unsafe.Add(h, hmapHash0)))
	B := *(*uint8)(unsafe.Add(h, hmapB))
	flags := *(*uint8)(unsafe.Add(h, hmapFlags))
	old := *(*unsafe.Pointer)(unsafe.Add(h, hmapOld))
	cm := checkMap{Expr: expr, Count: v.Len(), Keys: []keyInfo{}, Absent: []string{}}
	it := v.MapRange()
	for it.Next() {
		k := it.Key()
		ki := keyInfo{Key: fmt.Sprintf("%#v", k.Interface()), Elem: enc(it.Value())}
		if k.Interface() == k.Interface() { // not a NaN
			kp := reflect.New(k.Type())
			kp.Elem().Set(k)
			hash := hasher(kp.UnsafePointer(), hash0)
			mask := uintptr(1)<<B - 1
			ki.Hash = fmt.Sprintf("0x%016x", uint64(hash))
			ki.Bucket = fmt.Sprintf("main[%d]", hash&mask)
			if old != nil {
				if flags&8 == 0 {
					mask >>= 1
				}
				ob := hash & mask
				top0 := *(*uint8)(unsafe.Add(old, ob*bsize))
				if top0 <= 1 || top0 >= 5 { // not evacuated
					ki.Bucket = fmt.Sprintf("old[%d]", ob)
				}
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

// u64Slots lists the live slots of a map[uint64]uint64 (not growing): bucket, slot, key.
type slotRef struct {
	b   unsafe.Pointer // the bucket
	idx int            // its index in the array, or -1 for an overflow bucket
	i   int
}

func tophashAt(b unsafe.Pointer, i int) *uint8 { return (*uint8)(unsafe.Add(b, i)) }
func keyAt(b unsafe.Pointer, i int) *uint64    { return (*uint64)(unsafe.Add(b, 8+8*i)) }
func elemAt(b unsafe.Pointer, i int) *uint64   { return (*uint64)(unsafe.Add(b, 72+8*i)) }
func ovfAt(b unsafe.Pointer) *uintptr          { return (*uintptr)(unsafe.Add(b, 136)) }

func headAt(h unsafe.Pointer, j int) unsafe.Pointer {
	return unsafe.Add(*(*unsafe.Pointer)(unsafe.Add(h, hmapBuckets)), j*u64Bucket)
}

func nbuckets(h unsafe.Pointer) int { return 1 << *(*uint8)(unsafe.Add(h, hmapB)) }

// firstFree is the first empty slot (EMPTY_ONE or EMPTY_REST) of a head bucket, or -1.
func firstFree(b unsafe.Pointer) int {
	for i := 0; i < 8; i++ {
		if *tophashAt(b, i) <= 1 {
			return i
		}
	}
	return -1
}

func liveIn(b unsafe.Pointer) []int {
	var s []int
	for i := 0; i < 8; i++ {
		if *tophashAt(b, i) >= 5 {
			s = append(s, i)
		}
	}
	return s
}

// bigGrow reports whether the map variable at m is growing from at least 16 old buckets (a
// few writes later, some old buckets are evacuated and some are not).
func bigGrow(m unsafe.Pointer) bool {
	return growing(m) && *(*uint8)(unsafe.Add(hmapOf(m), hmapB)) >= 5
}

func fillU64(n int, hint int) map[uint64]uint64 {
	m := make(map[uint64]uint64, hint)
	for k := uint64(0); k < uint64(n); k++ {
		m[k*7919+1] = k
	}
	return m
}

// headWith finds a head bucket with a live slot and a free slot.
func headWith(h unsafe.Pointer) (int, int, int) {
	for j := 0; j < nbuckets(h); j++ {
		b := headAt(h, j)
		if l, f := liveIn(b), firstFree(b); len(l) > 0 && f >= 0 {
			return j, l[0], f
		}
	}
	panic("no head bucket with a live and a free slot")
}

func damageAll() []damage {
	var out []damage
	// A key duplicated into a free slot of its own bucket, count raised to match.
	dmgDup = fillU64(20, 20)
	h := hmapOf(unsafe.Pointer(&dmgDup))
	j, s, f := headWith(h)
	b := headAt(h, j)
	*keyAt(b, f), *elemAt(b, f), *tophashAt(b, f) = *keyAt(b, s), *elemAt(b, s), *tophashAt(b, s)
	*(*int)(h)++
	out = append(out, damage{"main.dmgDup", "duplicate", fmt.Sprintf("main[%d]", j), f, fmt.Sprint(*keyAt(b, f)), s})

	// A key moved to another bucket (its old slot made EMPTY_ONE).
	dmgMoved = fillU64(20, 20)
	h = hmapOf(unsafe.Pointer(&dmgMoved))
	j, s, _ = headWith(h)
	from := headAt(h, j)
	for t := 1; t < nbuckets(h); t++ {
		to := headAt(h, (j+t)%nbuckets(h))
		if f := firstFree(to); f >= 0 {
			*keyAt(to, f), *elemAt(to, f), *tophashAt(to, f) = *keyAt(from, s), *elemAt(from, s), *tophashAt(from, s)
			*tophashAt(from, s) = 1
			out = append(out, damage{"main.dmgMoved", "bucket", fmt.Sprintf("main[%d]", (j+t)%nbuckets(h)), f, fmt.Sprint(*keyAt(to, f)), -1})
			break
		}
	}

	// A tophash changed (still a live value).
	dmgTop = fillU64(20, 20)
	h = hmapOf(unsafe.Pointer(&dmgTop))
	j, s, _ = headWith(h)
	b = headAt(h, j)
	t := *tophashAt(b, s)
	*tophashAt(b, s) = uint8((int(t)-5+1)%251 + 5)
	out = append(out, damage{"main.dmgTop", "tophash", fmt.Sprintf("main[%d]", j), s, fmt.Sprint(*keyAt(b, s)), -1})

	// count off by one.
	dmgCount = fillU64(20, 20)
	h = hmapOf(unsafe.Pointer(&dmgCount))
	*(*int)(h)++
	out = append(out, damage{"main.dmgCount", "count", "", -1, "", -1})

	// An overflow chain made cyclic: B = 1, keys kept only where they land in bucket 0
	// until its chain has an overflow bucket, whose overflow word then points to itself.
	dmgCycle = make(map[uint64]uint64, 9)
	h = hmapOf(unsafe.Pointer(&dmgCycle))
	for k := uint64(1); ; k++ {
		dmgCycle[k] = k
		if *(*uint8)(unsafe.Add(h, hmapB)) != 1 || *(*unsafe.Pointer)(unsafe.Add(h, hmapOld)) != nil {
			panic("dmgCycle grew")
		}
		inZero := false
		for b := headAt(h, 0); b != nil; b = unsafe.Pointer(*ovfAt(b)) {
			for i := 0; i < 8; i++ {
				if *tophashAt(b, i) >= 5 && *keyAt(b, i) == k {
					inZero = true
				}
			}
		}
		if !inZero {
			delete(dmgCycle, k)
		}
		if ovf := *ovfAt(headAt(h, 0)); ovf != 0 && len(liveIn(unsafe.Pointer(ovf))) >= 2 {
			*ovfAt(unsafe.Pointer(ovf)) = ovf
			out = append(out, damage{"main.dmgCycle", "chain", "main[0]", -1, "", -1})
			break
		}
	}

	// A wrong evacuation mark: mid-grow, an evacuated old bucket's EVACUATED_X slot marked
	// EVACUATED_Y (or the reverse).
	dmgEvac = make(map[uint64]uint64)
	h = hmapOf(unsafe.Pointer(&dmgEvac))
	k := uint64(0)
	for ; !bigGrow(unsafe.Pointer(&dmgEvac)); k++ {
		dmgEvac[k*7919+1] = k
	}
	for i := 0; i < 3; i++ {
		dmgEvac[k*7919+1] = k
		k++
	}
	old := *(*unsafe.Pointer)(unsafe.Add(h, hmapOld))
	nev := *(*uintptr)(unsafe.Add(h, hmapNevacuate))
	done := false
	for o := 0; o < int(nev) && !done; o++ {
		b := unsafe.Add(old, o*u64Bucket)
		for i := 0; i < 8 && !done; i++ {
			if t := *tophashAt(b, i); t == 2 || t == 3 {
				*tophashAt(b, i) = 5 - t
				out = append(out, damage{"main.dmgEvac", "evacuation", fmt.Sprintf("old[%d]", o), i, fmt.Sprint(*keyAt(b, i)), -1})
				done = true
			}
		}
	}
	if !done {
		panic("dmgEvac: no evacuated slot to damage")
	}
	return out
}

// fillImpl fills the classic maps of the check mode.
func fillImpl() {
	ckU64 = make(map[uint64]uint64)
	k := uint64(0)
	for ; !bigGrow(unsafe.Pointer(&ckU64)); k++ {
		ckU64[k*2654435761] = k
	}
	for i := 0; i < 2; i++ {
		ckU64[k*2654435761] = k
		k++
	}
	delete(ckU64, 0)

	// A sliding window of keys: inserts and deletes leave overflow buckets behind until a
	// same-size grow starts.
	ckSame = make(map[uint64]uint64)
	for i := uint64(0); i < 1_000_000; i++ {
		ckSame[i] = i
		if i >= 40 {
			delete(ckSame, i-40)
		}
		h := hmapOf(unsafe.Pointer(&ckSame))
		if *(*uint8)(unsafe.Add(h, hmapFlags))&8 != 0 && *(*uintptr)(unsafe.Add(h, hmapNevacuate)) > 0 {
			break
		}
	}
}

// implMaps describes the classic maps of the check mode.
func implMaps() []checkMap {
	return []checkMap{
		lookupInfo("main.ckU64", &ckU64, uint64(0), uint64(1)),
		lookupInfo("main.ckSame", &ckSame, uint64(0)),
	}
}

// implInfo is what the classic check mode adds to its JSON line.
func implInfo() map[string]any {
	same := hmapOf(unsafe.Pointer(&ckSame))
	return map[string]any{"sameSizeGrow": *(*uint8)(unsafe.Add(same, hmapFlags))&8 != 0}
}
