// The check mode of go-inspect (`go-inspect check`), for the tests of `map-inspect check` and
// `map-inspect get`. It fills the maps of the default mode, adds maps with keys of every
// kind Go hashes differently, and damages copies of a map with unsafe, one kind of damage
// each. It prints one JSON line, then waits until standard input closes:
//
//   - "maps": every intact map, and for each of its keys: the key in Go syntax (%#v), the
//     hash Go's own hasher gives it (the map type's hasher with the map's hash0, or a Swiss
//     map's seed), the bucket Go's lookup reads first (hash & mask, or the old bucket while
//     it is not evacuated; for a Swiss map the table the directory gives and the group H1 &
//     lengthMask, named as map-inspect names it), for a Swiss map where the key really is,
//     and the elem in map-inspect's JSON shapes; and keys that are absent;
//   - "damaged": each damaged map, the kind of damage and its place (bucket or group, slot,
//     key);
//   - "unsupported": a map with interface keys, which check cannot hash.
//
// What differs between the map implementations is in check_classic.go and check_swiss.go:
// the lookup facts, the implementation's own maps and the damage. The damage is done to maps
// whose memory holds no pointers (map[uint64]uint64), so that the garbage collector never
// reads what was written; nothing reads a damaged map afterwards.
package main

import (
	"bufio"
	"encoding/json"
	"fmt"
	"math"
	"os"
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
)

// hmapOf is the map header a map variable at m points to.
func hmapOf(m unsafe.Pointer) unsafe.Pointer { return *(*unsafe.Pointer)(m) }

type keyInfo struct {
	Key    string `json:"key"`    // %#v
	Hash   string `json:"hash"`   // "" for a NaN
	Bucket string `json:"bucket"` // the bucket (Swiss: the group) Go's lookup reads first
	Elem   any    `json:"elem"`   // map-inspect's JSON shape
	At     string `json:"at"`     // Swiss: where the key is ("t0.g5 slot 3"), found in memory
	Groups uint64 `json:"groups"` // Swiss: the groups of the key's table (0 for a small map)
}

type checkMap struct {
	Expr   string    `json:"expr"`
	Count  int       `json:"count"`
	Keys   []keyInfo `json:"keys"`
	Absent []string  `json:"absent"`
}

type damage struct {
	Expr   string `json:"expr"`
	Kind   string `json:"kind"`
	Bucket string `json:"bucket"` // the bucket, group or table ("" for the map)
	Slot   int    `json:"slot"`   // -1 when the damage has no slot
	Key    string `json:"key"`    // "" when it has no key
	Other  int    `json:"other"`  // the original's slot, for a duplicate (-1 otherwise)
}

// fillKeyMaps fills the maps of every key kind.
func fillKeyMaps() {
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
	fillKeyMaps()
	fillImpl()
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
	maps = append(maps, implMaps()...)
	damaged := damageAll()
	out := map[string]any{"pid": os.Getpid(), "go": runtime.Version(), "maps": maps,
		"damaged": damaged, "unsupported": "main.ckAny"}
	for k, v := range implInfo() {
		out[k] = v
	}
	b, err := json.Marshal(out)
	if err != nil {
		panic(err)
	}
	os.Stdout.Write(append(b, '\n'))
	bufio.NewReader(os.Stdin).ReadString('\n')
	runtime.KeepAlive(ckAny)
}
