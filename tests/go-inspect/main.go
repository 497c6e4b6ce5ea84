// Command go-inspect holds real Go maps in package-level variables, for the tests of
// `map-inspect maps` and `map-inspect dump VAR` on live processes, core files and gdb. The
// tests build it with every Go version they cover (1.19, 1.21–1.23, and 1.24/1.25 with
// GOEXPERIMENT=noswissmap, for classic maps; 1.24–1.27 for Swiss-table maps, 1.27 also with
// GOEXPERIMENT=mapsplitgroup). shape_classic.go and shape_swiss.go read each map's header as
// the program's own build lays it out.
//
//	go-inspect          fill the maps, print one JSON line (pid, Go version, and every map:
//	                    its expression, type, count, B, growing, entries), then wait until
//	                    standard input closes, keeping the maps alive and unchanged
//	go-inspect big N    one map of N entries (main.huge), for benches/inspect-core.sh
//	go-inspect check    the maps of the check and get tests, intact and damaged (check.go)
//	go-inspect crash    two goroutines write one map at once until Go throws
//	                    "fatal error: concurrent map writes" (run it with GOTRACEBACK=crash
//	                    for a core file); one holds the map's HASH_WRITING flag for a long
//	                    time, comparing two equal 128 MiB keys, and the other writes then
//
// Entries are written in map-inspect's JSON shapes (docs/dump-json.md): structs as objects of
// their fields, arrays as arrays, pointers as "0x..." addresses, slices as
// {"len","cap","elems"}, interfaces as {"type","value"} (null when nil).
package main

import (
	"bufio"
	"encoding/json"
	"errors"
	"fmt"
	"os"
	"reflect"
	"runtime"
	"strings"
	"syscall"
	"time"
	"unsafe"

	"gomap.test/inspect/store"
)

// Item is the elem type of a map with struct elems.
type Item struct {
	ID    int64
	Name  string
	Dims  [3]int16
	Ok    bool
	Ratio float64
}

// Service holds a map in a field; reached as main.svc.byID (through a pointer).
type Service struct {
	Name string
	byID map[int]string
}

// The maps under test. Package-level, so that they live on the heap and DWARF names them.
var (
	grow    map[uint64]string    // caught mid-grow
	deletes map[string]int       // entries deleted
	items   map[int32]Item       // struct elems
	anys    map[string]any       // interface elems (empty interface)
	errs    map[int]error        // interface elems (an interface with methods)
	big     map[[130]byte]int    // keys over 128 bytes: stored through pointers
	cleared map[uint64]uint64    // cleared, then refilled a little
	nilMap  map[string]int       // never made
	shards  [2]map[int]int       // maps in an array: main.shards[1]
	svc     *Service             // main.svc.byID
	hot     map[string]int       // the crash mode's map
	notAMap = [4]int{1, 2, 3, 4} // a variable that is not a map
	sample  = Item{ID: 1}        // kept alive for *Item values in anys
	zeros   [256]byte            // zeroed memory, for the tests of a wrong --addr
	huge    map[uint64]string    // the benchmark's map (go-inspect big N)
	small   map[string]int       // at most 8 entries: a Swiss map's one group
	wide    map[uint64]string    // over 1024 entries: Swiss tables split, the directory grows
	tombs   map[string]int       // deletes from full groups: Swiss tombstones
	fat     map[uint16][200]byte // elems over 128 bytes: stored through pointers
	fresh   map[int]int          // made, never written
)

// shape is what the program sees of a map's header: B and grow state for a classic map;
// used, directory entries, distinct tables, tombstones (by each table's fields) and clearSeq
// for a Swiss map.
type shape struct {
	B          uint8
	Growing    bool
	Swiss      bool
	Used       uint64
	DirLen     int
	Tables     int
	Tombstones int
	ClearSeq   uint64
}

// growing reports whether a classic map is growing (a Swiss map never is).
func growing(m unsafe.Pointer) bool {
	return shapeOf(m).Growing
}

// enc writes a value in map-inspect's JSON shapes.
func enc(v reflect.Value) any {
	switch v.Kind() {
	case reflect.Interface:
		if v.IsNil() {
			return nil
		}
		return map[string]any{"type": v.Elem().Type().String(), "value": enc(v.Elem())}
	case reflect.Pointer, reflect.Map, reflect.Chan, reflect.Func, reflect.UnsafePointer:
		if v.IsNil() {
			return nil
		}
		return fmt.Sprintf("%#x", v.Pointer())
	case reflect.Struct:
		o := map[string]any{}
		for i := 0; i < v.NumField(); i++ {
			o[v.Type().Field(i).Name] = enc(v.Field(i))
		}
		return o
	case reflect.Array:
		a := []any{}
		for i := 0; i < v.Len(); i++ {
			a = append(a, enc(v.Index(i)))
		}
		return a
	case reflect.Slice:
		if v.IsNil() {
			return nil
		}
		a := []any{}
		for i := 0; i < v.Len() && i < 16; i++ {
			a = append(a, enc(v.Index(i)))
		}
		return map[string]any{"len": v.Len(), "cap": v.Cap(), "elems": a}
	case reflect.Complex64, reflect.Complex128:
		c := v.Complex()
		return map[string]any{"real": real(c), "imag": imag(c)}
	case reflect.Int, reflect.Int8, reflect.Int16, reflect.Int32, reflect.Int64:
		return v.Int()
	case reflect.Uint, reflect.Uint8, reflect.Uint16, reflect.Uint32, reflect.Uint64, reflect.Uintptr:
		return v.Uint()
	case reflect.Float32:
		return float32(v.Float())
	case reflect.Float64:
		return v.Float()
	case reflect.Bool:
		return v.Bool()
	case reflect.String:
		return v.String()
	}
	panic("enc: unexpected kind " + v.Kind().String())
}

type mapInfo struct {
	Expr       string  `json:"expr"`
	Type       string  `json:"type"`
	Count      int     `json:"count"`
	B          uint8   `json:"B"`
	Growing    bool    `json:"growing"`
	Nil        bool    `json:"nil"`
	Swiss      bool    `json:"swiss"`
	DirLen     int     `json:"dirLen"`
	Tables     int     `json:"tables"`
	Tombstones int     `json:"tombstones"`
	ClearSeq   uint64  `json:"clearSeq"`
	Entries    [][]any `json:"entries"`
}

// info describes the map variable at p (a pointer to a map variable).
func info(expr string, p any) mapInfo {
	v := reflect.ValueOf(p).Elem()
	sh := shapeOf(unsafe.Pointer(v.UnsafeAddr()))
	mi := mapInfo{Expr: expr, Type: v.Type().String(), Count: v.Len(), B: sh.B,
		Growing: sh.Growing, Nil: v.IsNil(), Swiss: sh.Swiss, DirLen: sh.DirLen,
		Tables: sh.Tables, Tombstones: sh.Tombstones, ClearSeq: sh.ClearSeq, Entries: [][]any{}}
	it := v.MapRange()
	for it.Next() {
		mi.Entries = append(mi.Entries, []any{enc(it.Key()), enc(it.Value())})
	}
	return mi
}

func fill() {
	// map[uint64]string: pointers in the bucket, so evacuation clears old buckets. Stopped as
	// soon as a grow starts (at most 5000 inserts, for Swiss-table builds that never "grow").
	grow = make(map[uint64]string)
	for k := uint64(0); k < 60; k++ {
		grow[k] = fmt.Sprintf("value-%d", k)
	}
	for k := uint64(0); k < 60; k += 7 {
		delete(grow, k)
	}
	for k := uint64(1000); !growing(unsafe.Pointer(&grow)) && k < 6000; k++ {
		grow[k] = fmt.Sprintf("later-%d", k)
	}

	deletes = make(map[string]int)
	for i := 0; i < 100; i++ {
		deletes[fmt.Sprintf("key-%03d", i)] = i * i
	}
	for i := 0; i < 100; i += 3 {
		delete(deletes, fmt.Sprintf("key-%03d", i))
	}

	items = make(map[int32]Item)
	for i := int32(0); i < 20; i++ {
		items[i*7-30] = Item{ID: int64(i) << 40, Name: fmt.Sprintf("item %d", i),
			Dims: [3]int16{int16(i), -int16(i), 300 * int16(i)}, Ok: i%2 == 0,
			Ratio: float64(i) / 4}
	}

	anys = map[string]any{
		"int":     42,
		"int8":    int8(-8),
		"uint16":  uint16(65535),
		"str":     "hello, gopher",
		"float":   3.25,
		"bool":    true,
		"item":    Item{ID: 7, Name: "seven", Dims: [3]int16{7, 7, 7}, Ratio: 0.5},
		"ptr":     &sample,
		"slice":   []int{1, 2, 3},
		"array":   [2]string{"a", "b"},
		"nil":     nil,
		"complex": complex(1.5, -2),
	}

	errs = map[int]error{1: errors.New("boom"), 2: nil, 3: os.ErrNotExist}

	big = make(map[[130]byte]int)
	for i := 0; i < 12; i++ {
		var k [130]byte
		for j := range k {
			k[j] = byte(i + j)
		}
		big[k] = i
	}

	cleared = make(map[uint64]uint64)
	for k := uint64(0); k < 100; k++ {
		cleared[k] = k * 2
	}
	clearMap(cleared)
	for k := uint64(500); k < 503; k++ {
		cleared[k] = k
	}

	shards[0] = map[int]int{1: 1}
	shards[1] = map[int]int{10: 100, 20: 200, 30: 300}
	svc = &Service{Name: "users", byID: map[int]string{}}
	for i := 0; i < 30; i++ {
		svc.byID[i*1000] = fmt.Sprintf("user-%d", i)
	}
	store.Fill(50)

	small = map[string]int{"one": 1, "two": 2, "three": 3, "four": 4, "five": 5}

	// Swiss: inserts until a table has split more often than another, so that the directory
	// has more entries than tables (and the map well over 1024 entries).
	wide = make(map[uint64]string)
	for k := uint64(0); k < 1500 || (shapeOf(unsafe.Pointer(&wide)).Swiss &&
		shapeOf(unsafe.Pointer(&wide)).DirLen <= shapeOf(unsafe.Pointer(&wide)).Tables) && k < 100000; k++ {
		wide[k*0x9e3779b97f4a7c15] = fmt.Sprintf("w%d", k)
	}

	// Swiss: 112 keys fill a table of 128 slots to 7/8; deleting from groups that are full
	// leaves tombstones. The seed is random: try again until some are left.
	for try := 0; try < 50; try++ {
		tombs = make(map[string]int)
		for i := 0; i < 112; i++ {
			tombs[fmt.Sprintf("t-%03d", i)] = i
		}
		for i := 0; i < 112; i += 3 {
			delete(tombs, fmt.Sprintf("t-%03d", i))
		}
		if s := shapeOf(unsafe.Pointer(&tombs)); !s.Swiss || s.Tombstones > 0 {
			break
		}
	}

	fat = make(map[uint16][200]byte)
	for i := 0; i < 10; i++ {
		var v [200]byte
		for j := range v {
			v[j] = byte(i * j)
		}
		fat[uint16(i*1000)] = v
	}
	fresh = make(map[int]int)
}

func crash() {
	hot = make(map[string]int)
	// Two equal 128 MiB keys at different addresses: a write of one compares all its bytes
	// with the other, stored in the map, with HASH_WRITING set (Go sets it after hashing).
	k1 := strings.Repeat("k", 128<<20)
	k2 := strings.Repeat("k", 128<<20)
	hot[k1] = 1
	for i := 0; i < 100; i++ {
		hot[fmt.Sprint(i)] = i
	}
	b, _ := json.Marshal(map[string]any{"pid": os.Getpid(), "go": runtime.Version()})
	os.Stdout.Write(append(b, '\n'))
	go func() {
		for i := 0; ; i++ {
			hot[k2] = i
		}
	}()
	// Wait until the other goroutine is inside a write (a classic map's HASH_WRITING flag,
	// a Swiss map's writing byte), then write too: Go finds the flag set and throws, while
	// the other write is still comparing its key.
	h := *(*unsafe.Pointer)(unsafe.Pointer(&hot))
	for !writing(h) {
	}
	hot["x"] = 1
	time.Sleep(time.Second)
}

func main() {
	// Let any process of this user read our memory under Yama's ptrace_scope = 1
	// (PR_SET_PTRACER, PR_SET_PTRACER_ANY); harmless without Yama.
	syscall.RawSyscall6(syscall.SYS_PRCTL, 0x59616d61, ^uintptr(0), 0, 0, 0, 0)
	if len(os.Args) > 1 && os.Args[1] == "check" {
		checkMode() // check.go
		return
	}
	if len(os.Args) > 1 && os.Args[1] == "crash" {
		crash()
		return
	}
	if len(os.Args) > 2 && os.Args[1] == "big" {
		// go-inspect big N: main.huge with N entries, for benches/inspect-core.sh.
		var n int
		fmt.Sscan(os.Args[2], &n)
		huge = make(map[uint64]string)
		for i := 0; i < n; i++ {
			huge[uint64(i)*2654435761] = fmt.Sprintf("v%d", i)
		}
		fmt.Printf("{\"pid\":%d}\n", os.Getpid())
		bufio.NewReader(os.Stdin).ReadString('\n')
		runtime.KeepAlive(huge)
		return
	}
	fill()
	maps := []mapInfo{
		info("main.grow", &grow),
		info("main.deletes", &deletes),
		info("main.items", &items),
		info("main.anys", &anys),
		info("main.errs", &errs),
		info("main.big", &big),
		info("main.cleared", &cleared),
		info("main.nilMap", &nilMap),
		info("main.shards[1]", &shards[1]),
		info("main.svc.byID", &svc.byID),
		info("gomap.test/inspect/store.ByName", &store.ByName),
		info("main.small", &small),
		info("main.wide", &wide),
		info("main.tombs", &tombs),
		info("main.fat", &fat),
		info("main.fresh", &fresh),
	}
	b, err := json.Marshal(map[string]any{"pid": os.Getpid(), "go": runtime.Version(),
		"maps": maps, "notAMap": notAMap[0], "zeros": fmt.Sprintf("%#x", uintptr(unsafe.Pointer(&zeros))), "sample": fmt.Sprintf("%#x", uintptr(unsafe.Pointer(&sample)))})
	if err != nil {
		panic(err)
	}
	os.Stdout.Write(append(b, '\n'))
	bufio.NewReader(os.Stdin).ReadString('\n')
	runtime.KeepAlive(grow)
}
