// The Go program that inspect/tests/gdb.rs debugs with real gdb (built at test time with
// -gcflags=all="-N -l"). It brings real Go 1.19 maps into the states the test needs (mid
// doubling grow, after deletes, mid same-size grow, indirect keys and elems, after a range
// loop), writes what each map holds (header fields and every entry, in gdb's notation, as Go's
// own runtime finds them) to the file named by its first argument, then calls stop(name). gdb
// stops there, goes up one frame to the function that owns the local m, and prints it.
package main

import (
	"fmt"
	"os"
	"sort"
	"strings"
	"unsafe"
)

// hmap mirrors runtime.hmap (Go 1.19) to read the header of a map value.
type hmap struct {
	count      int
	flags      uint8
	B          uint8
	noverflow  uint16
	hash0      uint32
	buckets    unsafe.Pointer
	oldbuckets unsafe.Pointer
	nevacuate  uintptr
	extra      unsafe.Pointer
}

func header[K comparable, V any](m map[K]V) *hmap {
	return *(**hmap)(unsafe.Pointer(&m))
}

var flagNames = []struct {
	bit  uint8
	name string
}{{1, "ITERATOR"}, {2, "OLD_ITERATOR"}, {4, "HASH_WRITING"}, {8, "SAME_SIZE_GROW"}}

func names(f uint8) string {
	if f == 0 {
		return "0"
	}
	var out []string
	for _, n := range flagNames {
		if f&n.bit != 0 {
			out = append(out, n.name)
		}
	}
	if f&0xf0 != 0 {
		out = append(out, fmt.Sprintf("%#02x", f&0xf0))
	}
	return strings.Join(out, "|")
}

var out *os.File

// record writes the map's entries as found by looking up every key the program ever stored
// (lookups leave the header alone, while a range loop sets ITERATOR|OLD_ITERATOR, and Go's own
// printer misreads those bits), checked against len(m) so that no entry is left out.
func record[K comparable, V any](state string, m map[K]V, keys []K, format func(K, V) string) {
	var entries []string
	for _, k := range keys {
		if v, ok := m[k]; ok {
			entries = append(entries, format(k, v))
		}
	}
	writeRecord(state, m, entries)
}

// recordRange writes the entries as a range loop finds them (and so sets the iterator flags).
func recordRange[K comparable, V any](state string, m map[K]V, format func(K, V) string) {
	var entries []string
	for k, v := range m {
		entries = append(entries, format(k, v))
	}
	writeRecord(state, m, entries)
}

func writeRecord[K comparable, V any](state string, m map[K]V, entries []string) {
	sort.Strings(entries)
	if len(entries) != len(m) {
		panic(fmt.Sprintf("%s: found %d entries, len is %d", state, len(entries), len(m)))
	}
	h := header(m)
	b2i := map[bool]int{false: 0, true: 1}
	var sb strings.Builder
	fmt.Fprintf(&sb, "STATE %s\n", state)
	fmt.Fprintf(&sb, "HEADER count=%d B=%d flags=%s nevacuate=%d noverflow=%d growing=%d same_size=%d\n",
		h.count, h.B, names(h.flags), h.nevacuate, h.noverflow, b2i[h.oldbuckets != nil], b2i[h.flags&8 != 0])
	if h.oldbuckets != nil {
		old := h.B
		if h.flags&8 == 0 {
			old--
		}
		fmt.Fprintf(&sb, "OLD noldbuckets=%d\n", 1<<old)
	}
	for _, e := range entries {
		fmt.Fprintf(&sb, "ENTRY %s\n", e)
	}
	sb.WriteString("END\n")
	if _, err := out.WriteString(sb.String()); err != nil {
		panic(err)
	}
}

var stopped string

//go:noinline
func stop(name string) {
	stopped = name
}

func intFmt(k, v int64) string { return fmt.Sprintf("[%d] = %d", k, v) }

func strFmt(k string, v int) string { return fmt.Sprintf("[%q] = %d", k, v) }

// Mid doubling grow, with deleted slots.
func grow() {
	m := make(map[int64]int64)
	var keys []int64
	for k := int64(0); ; k++ {
		m[k] = k * 10
		keys = append(keys, k)
		if k == 80 {
			for d := int64(0); d < 80; d += 7 {
				delete(m, d)
			}
		}
		h := header(m)
		if h.B == 5 && h.oldbuckets != nil && h.nevacuate >= 1 {
			break
		}
		if k > 10000 {
			panic("never reached the middle of a grow to B=5")
		}
	}
	record("grow", m, keys, intFmt)
	stop("grow")
	fmt.Fprint(os.Stderr, len(m), "\n")
}

// After deletes: EMPTY_ONE holes that Go's own printer shows as entries.
func deletes() {
	m := make(map[string]int)
	var keys []string
	for i := 0; i < 40; i++ {
		m[fmt.Sprintf("k%d", i)] = i
		keys = append(keys, fmt.Sprintf("k%d", i))
	}
	for i := 0; i < 40; i += 3 {
		delete(m, fmt.Sprintf("k%d", i))
	}
	record("deletes", m, keys, strFmt)
	stop("deletes")
	fmt.Fprint(os.Stderr, len(m), "\n")
}

// Mid same-size grow: churn at a constant size until overflow buckets pile up.
func sameSizeGrow() {
	m := make(map[int64]int64, 100)
	const live = 90
	var keys []int64
	for k := int64(0); ; k++ {
		m[k] = k + 1
		keys = append(keys, k)
		if k >= live {
			delete(m, k-live)
		}
		h := header(m)
		if h.oldbuckets != nil && h.flags&8 != 0 && h.nevacuate >= 1 {
			break
		}
		if k > 10000000 {
			panic("no same-size grow happened")
		}
	}
	record("same_size_grow", m, keys, intFmt)
	stop("same_size_grow")
	fmt.Fprint(os.Stderr, len(m), "\n")
}

// 130 bytes: stored indirectly. (uint16, not uint8: gdb prints byte arrays as strings.)
type big [65]uint16

func bigFmt(k big, v big) string {
	var ks, vs []string
	for i := range k {
		ks = append(ks, fmt.Sprint(k[i]))
		vs = append(vs, fmt.Sprint(v[i]))
	}
	return fmt.Sprintf("[{%s}] = {%s}", strings.Join(ks, ", "), strings.Join(vs, ", "))
}

// Keys and elems larger than 128 bytes: the slots hold pointers.
func indirect() {
	m := make(map[big]big)
	var keys []big
	for i := 0; i < 12; i++ {
		var k, v big
		for j := range k {
			k[j] = uint16(i + 1000*j)
			v[j] = uint16(3*i + 7*j)
		}
		m[k] = v
		keys = append(keys, k)
	}
	delete(m, keys[4])
	record("indirect", m, keys, bigFmt)
	stop("indirect")
	fmt.Fprint(os.Stderr, len(m), "\n")
}

// After a range loop: ITERATOR|OLD_ITERATOR are set.
func iterated() {
	m := make(map[int64]int64)
	for k := int64(0); k < 20; k++ {
		m[k] = -k
	}
	recordRange("iterated", m, intFmt)
	stop("iterated")
	fmt.Fprint(os.Stderr, len(m), "\n")
}

func main() {
	if len(os.Args) != 2 {
		fmt.Fprintln(os.Stderr, "usage: go-target OUT-FILE")
		os.Exit(2)
	}
	f, err := os.Create(os.Args[1])
	if err != nil {
		panic(err)
	}
	out = f
	grow()
	deletes()
	sameSizeGrow()
	indirect()
	iterated()
	out.WriteString("DONE\n")
	out.Close()
}
