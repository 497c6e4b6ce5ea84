// The check mode of go-inspect (`go-inspect check`), for the tests of `map-inspect check` and
// `map-inspect get`. It fills the maps of the default mode, adds maps with keys of every
// kind Go hashes differently, and damages copies of a map with unsafe, one kind of damage
// each. It prints one JSON line, then waits until standard input closes:
//
//   - "maps": every intact map, and for each of its keys: the key in Go syntax (%#v), the
//     hash Go's own hasher gives it (maptype.hasher with the map's hash0), the bucket Go's
//     lookup reads first (hash & mask, or the old bucket while it is not evacuated), and the
//     elem in map-inspect's JSON shapes; and keys that are absent;
//   - "damaged": each damaged map, the kind of damage and its place (bucket, slot, key);
//   - "unsupported": a map with interface keys, which check cannot hash.
//
// The damage is done to maps whose buckets hold no pointers (map[uint64]uint64), so that the
// garbage collector never reads what was written; nothing reads a damaged map afterwards.
package main

import (
	"bufio"
	"encoding/json"
	"fmt"
	"math"
	"os"
	"reflect"
	"runtime"
	"unsafe"
)

// Key types of the check mode.
type (
	SKey struct {
		A int32
		B string
		C float64
		D [3]byte
	}
	PadKey struct {
		A uint8
		B uint64
	}
	BlankKey struct {
		A uint32
		_ uint32
		B uint64
	}
)

var (
	ckU64     map[uint64]uint64 // mid-grow, pointer-free: evacuated old buckets keep their keys
	ckSame    map[uint64]uint64 // in a same-size grow
	ckKey     map[SKey]int
	ckPad     map[PadKey]string
	ckBlank   map[BlankKey]int
	ckF64     map[float64]int
	ckF32     map[float32]int
	ckC128    map[complex128]int
	ckStrs    map[[2]string]int
	ckBytes4  map[[4]byte]int
	ckBytes16 map[[16]byte]bool
	ckI8      map[int8]int
	ckI16     map[int16]int
	ckU32     map[uint32]int
	ckBool    map[bool]int
	ckEmpty   map[struct{}]int
	ckAny     map[any]int

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

func hmapOf(m unsafe.Pointer) unsafe.Pointer { return *(*unsafe.Pointer)(m) }

type keyInfo struct {
	Key    string `json:"key"`    // %#v
	Hash   string `json:"hash"`   // "" for a NaN
	Bucket string `json:"bucket"` // the bucket Go's lookup reads first
	Elem   any    `json:"elem"`   // map-inspect's JSON shape
}

type checkMap struct {
	Expr   string    `json:"expr"`
	Count  int       `json:"count"`
	Keys   []keyInfo `json:"keys"`
	Absent []string  `json:"absent"`
}

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

type damage struct {
	Expr   string `json:"expr"`
	Kind   string `json:"kind"`
	Bucket string `json:"bucket"`
	Slot   int    `json:"slot"`
	Key    string `json:"key"`
	Other  int    `json:"other"` // the original's slot, for a duplicate (-1 otherwise)
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

func fillCheck() {
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

	ckKey = map[SKey]int{}
	for i := 0; i < 50; i++ {
		ckKey[SKey{A: int32(i - 25), B: fmt.Sprintf("s%d", i%7), C: float64(i) / 3, D: [3]byte{byte(i), 1, 2}}] = i
	}
	ckKey[SKey{C: math.Copysign(0, -1)}] = -1
	ckPad = map[PadKey]string{}
	for i := 0; i < 30; i++ {
		ckPad[PadKey{A: uint8(i), B: uint64(i) << 40}] = fmt.Sprint(i)
	}
	ckBlank = map[BlankKey]int{}
	for i := 0; i < 30; i++ {
		ckBlank[BlankKey{A: uint32(i), B: uint64(i * i)}] = i
	}
	ckF64 = map[float64]int{0: 1, math.Inf(1): 2, math.Inf(-1): 3, 1.5: 4, -2.25: 5, 1e300: 6,
		math.SmallestNonzeroFloat64: 7, math.NaN(): 8}
	for i := 0; i < 20; i++ {
		ckF64[float64(i)*0.1] = 100 + i
	}
	ckF32 = map[float32]int{}
	for i := 0; i < 20; i++ {
		ckF32[float32(i)*0.1-1] = i
	}
	ckC128 = map[complex128]int{}
	for i := 0; i < 20; i++ {
		ckC128[complex(float64(i), -float64(i)/2)] = i
	}
	ckStrs = map[[2]string]int{}
	for i := 0; i < 30; i++ {
		ckStrs[[2]string{fmt.Sprint(i), fmt.Sprint(i * i)}] = i
	}
	ckBytes4 = map[[4]byte]int{}
	ckBytes16 = map[[16]byte]bool{}
	for i := 0; i < 30; i++ {
		ckBytes4[[4]byte{byte(i), 0, byte(i * 3), 9}] = i
		var b [16]byte
		b[i%16] = byte(i)
		b[15-i%16] ^= 0x80
		ckBytes16[b] = i%2 == 0
	}
	ckI8, ckI16, ckU32 = map[int8]int{}, map[int16]int{}, map[uint32]int{}
	for i := 0; i < 30; i++ {
		ckI8[int8(i*9-128)] = i
		ckI16[int16(i*1000-15000)] = i
		ckU32[uint32(i)*0x9e3779b9] = i
	}
	ckBool = map[bool]int{true: 1, false: 0}
	ckEmpty = map[struct{}]int{{}: 7}
	ckAny = map[any]int{1: 1, "two": 2}
}

func checkMode() {
	fill()
	fillCheck()
	maps := []checkMap{
		lookupInfo("main.grow", &grow, uint64(999999)),
		lookupInfo("main.deletes", &deletes, "key-000", "nope"),
		lookupInfo("main.items", &items, int32(1)),
		lookupInfo("main.anys", &anys, "absent"),
		lookupInfo("main.errs", &errs, 4),
		lookupInfo("main.big", &big, [130]byte{1}),
		lookupInfo("main.cleared", &cleared, uint64(1)),
		lookupInfo("main.shards[1]", &shards[1], 40),
		lookupInfo("main.svc.byID", &svc.byID, 1),
		lookupInfo("main.ckU64", &ckU64, uint64(0), uint64(1)),
		lookupInfo("main.ckSame", &ckSame, uint64(0)),
		lookupInfo("main.ckKey", &ckKey, SKey{A: 1}),
		lookupInfo("main.ckPad", &ckPad, PadKey{A: 1}),
		lookupInfo("main.ckBlank", &ckBlank, BlankKey{A: 1}),
		lookupInfo("main.ckF64", &ckF64, 0.25, math.NaN()),
		lookupInfo("main.ckF32", &ckF32, float32(7)),
		lookupInfo("main.ckC128", &ckC128, complex(1, 1)),
		lookupInfo("main.ckStrs", &ckStrs, [2]string{"1", "2"}),
		lookupInfo("main.ckBytes4", &ckBytes4, [4]byte{1, 2, 3, 4}),
		lookupInfo("main.ckBytes16", &ckBytes16, [16]byte{}),
		lookupInfo("main.ckI8", &ckI8, int8(0)),
		lookupInfo("main.ckI16", &ckI16, int16(1)),
		lookupInfo("main.ckU32", &ckU32, uint32(1)),
		lookupInfo("main.ckBool", &ckBool),
		lookupInfo("main.ckEmpty", &ckEmpty),
	}
	damaged := damageAll()
	same := hmapOf(unsafe.Pointer(&ckSame))
	b, err := json.Marshal(map[string]any{"pid": os.Getpid(), "go": runtime.Version(),
		"maps": maps, "damaged": damaged, "unsupported": "main.ckAny",
		"sameSizeGrow": *(*uint8)(unsafe.Add(same, hmapFlags))&8 != 0})
	if err != nil {
		panic(err)
	}
	os.Stdout.Write(append(b, '\n'))
	bufio.NewReader(os.Stdin).ReadString('\n')
	runtime.KeepAlive(ckAny)
}
