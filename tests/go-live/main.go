// Command go-live holds Go 1.19 maps in memory for `map-inspect dump --go --pid` to read.
//
// It builds a few maps, prints one JSON line with its pid and, for each map, the map value
// (the *hmap), the `--types` to decode it with, and its entries; then it waits until standard
// input closes, keeping the maps alive and unchanged. Two of the maps are caught in the middle
// of a grow: inserts stop as soon as the header's oldbuckets is set.
//
//	go build -o go-live . && ./go-live
//	map-inspect dump --go --pid PID --addr HMAP --types uint64:string
package main

import (
	"bufio"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"os"
	"runtime"
	"syscall"
	"unsafe"
)

// Offsets in Go 1.19's hmap (amd64 and arm64).
const (
	offOldbuckets = 24
	offNevacuate  = 32
	offB          = 9
)

// hmapOf returns the map's header: a map value is a *hmap.
func hmapOf(m unsafe.Pointer) unsafe.Pointer {
	return *(*unsafe.Pointer)(m)
}

func growing(h unsafe.Pointer) bool {
	return *(*unsafe.Pointer)(unsafe.Add(h, offOldbuckets)) != nil
}

type mapInfo struct {
	Name    string  `json:"name"`
	Types   string  `json:"types"`
	Sizes   [2]int  `json:"sizes"`
	Hmap    string  `json:"hmap"`
	Growing bool    `json:"growing"`
	B       uint8   `json:"B"`
	Entries [][]any `json:"entries"`
}

// Kept in package variables so that the maps live on the heap and stay reachable.
var (
	strs   map[uint64]string
	nums   map[uint64]uint64
	byName map[string]int32
	arrs   map[[20]byte]uint16
)

func info(name, types string, sizes [2]int, m unsafe.Pointer, entries [][]any) mapInfo {
	h := hmapOf(m)
	return mapInfo{
		Name:    name,
		Types:   types,
		Sizes:   sizes,
		Hmap:    fmt.Sprintf("%#x", uintptr(h)),
		Growing: growing(h),
		B:       *(*uint8)(unsafe.Add(h, offB)),
		Entries: entries,
	}
}

func main() {
	// Let any process of this user read our memory under Yama's ptrace_scope = 1
	// (PR_SET_PTRACER, PR_SET_PTRACER_ANY); harmless without Yama.
	syscall.RawSyscall6(syscall.SYS_PRCTL, 0x59616d61, ^uintptr(0), 0, 0, 0, 0)

	// map[uint64]string: pointers in the bucket, so evacuation clears old buckets.
	strs = make(map[uint64]string)
	for k := uint64(0); k < 60; k++ {
		strs[k] = fmt.Sprintf("value-%d", k)
	}
	for k := uint64(0); k < 60; k += 7 {
		delete(strs, k)
	}
	for k := uint64(1000); !growing(hmapOf(unsafe.Pointer(&strs))); k++ {
		strs[k] = fmt.Sprintf("later-%d", k)
	}

	// map[uint64]uint64: no pointers, overflow buckets listed in extra.overflow; caught
	// mid-grow from B = 4 (preallocated overflow buckets) to B = 5.
	nums = make(map[uint64]uint64)
	for k := uint64(0); !growing(hmapOf(unsafe.Pointer(&nums))) || len(nums) < 100; k++ {
		nums[k*k+3] = k
		if len(nums) > 5000 {
			break
		}
	}

	// map[string]int32, not growing.
	byName = make(map[string]int32, 40)
	for i := int32(0); i < 40; i++ {
		byName[fmt.Sprintf("name-%03d", i)] = i * 11
	}

	// map[[20]byte]uint16.
	arrs = make(map[[20]byte]uint16)
	for i := 0; i < 10; i++ {
		var k [20]byte
		for j := range k {
			k[j] = byte(i*20 + j)
		}
		arrs[k] = uint16(i * 1000)
	}

	var e1, e2, e3, e4 [][]any
	for k, v := range strs {
		e1 = append(e1, []any{k, v})
	}
	for k, v := range nums {
		e2 = append(e2, []any{k, v})
	}
	for k, v := range byName {
		e3 = append(e3, []any{k, v})
	}
	for k, v := range arrs {
		e4 = append(e4, []any{hex.EncodeToString(k[:]), v})
	}
	out := map[string]any{
		"pid": os.Getpid(),
		"maps": []mapInfo{
			info("strs", "uint64:string", [2]int{8, 16}, unsafe.Pointer(&strs), e1),
			info("nums", "uint64:uint64", [2]int{8, 8}, unsafe.Pointer(&nums), e2),
			info("byName", "string:int32", [2]int{16, 4}, unsafe.Pointer(&byName), e3),
			info("arrs", "[20]uint8:uint16", [2]int{20, 2}, unsafe.Pointer(&arrs), e4),
		},
	}
	b, err := json.Marshal(out)
	if err != nil {
		panic(err)
	}
	os.Stdout.Write(append(b, '\n'))

	// Wait until the reader is done; the maps stay alive and unchanged.
	bufio.NewReader(os.Stdin).ReadString('\n')
	runtime.KeepAlive(strs)
	runtime.KeepAlive(nums)
	runtime.KeepAlive(byName)
	runtime.KeepAlive(arrs)
}
