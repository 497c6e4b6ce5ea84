// Command go-oracle runs a map operation script against a real Go 1.19 map and prints the
// map's memory at every `dump` as JSON (schema gomap-replay/1, documented in
// inspect/src/trace.rs and the README). `map-inspect replay` prints the same JSON for gomap;
// the differential test compares the two.
//
// Run it with GODEBUG=cpu.aes=off: Go then hashes with its portable algorithm (the one gomap
// implements) and a random hashkey, which this program reads with go:linkname and reports,
// together with every hash0 the runtime drew (at make, at a reseed when the map became empty,
// at clear).
//
//	GODEBUG=cpu.aes=off go run . SCRIPT
//
// The script language is the one of `map-inspect replay` (see inspect/src/script.rs).
// Maps are made with reflect (so any key and elem type works, including [N]uint8 for any N);
// reflect's map operations call the same runtime functions as compiled code: mapassign and
// mapdelete (mapassign_faststr/mapdelete_faststr for string keys with elems of at most 128
// bytes, as the compiler picks). clear calls runtime.mapclear, which Go 1.19 uses for
// `for k := range m { delete(m, k) }`. The garbage collector is off, so no memory the map
// drops is reused during a run.
package main

import (
	"bufio"
	"encoding/json"
	"fmt"
	"math"
	"os"
	"reflect"
	"runtime"
	"runtime/debug"
	"strconv"
	"strings"
	"unsafe"
)

//go:linkname hashkey runtime.hashkey
var hashkey [4]uintptr

//go:linkname useAeshash runtime.useAeshash
var useAeshash bool

//go:linkname mapclear runtime.mapclear
func mapclear(t unsafe.Pointer, h unsafe.Pointer)

//go:linkname roundupsize runtime.roundupsize
func roundupsize(size uintptr) uintptr

// Offsets in Go 1.19's runtime structures (amd64); checked against the runtime's own sizes
// where possible.
const (
	hmapSize       = 48
	offFlags       = 8
	offB           = 9
	offNoverflow   = 10
	offHash0       = 12
	offBuckets     = 16
	offOldbuckets  = 24
	offNevacuate   = 32
	offExtra       = 40
	sameSizeGrow   = 8
	minTopHash     = 5
	mtKeysize      = 80 // maptype.keysize (uint8)
	mtElemsize     = 81 // maptype.elemsize (uint8)
	mtBucketsize   = 82 // maptype.bucketsize (uint16)
	mtFlags        = 84 // maptype.flags (uint32)
	mtBucket       = 64 // maptype.bucket (*_type)
	typePtrdata    = 8  // _type.ptrdata
	mtIndirectKey  = 1
	mtIndirectElem = 2
)

type kind int

const (
	kBool kind = iota
	kInt
	kUint
	kFloat
	kString
	kBytes
)

type goType struct {
	name string
	kind kind
	size int
	rt   reflect.Type
}

func parseType(s string) (goType, error) {
	byteT := reflect.TypeOf(uint8(0))
	switch s {
	case "bool":
		return goType{"bool", kBool, 1, reflect.TypeOf(false)}, nil
	case "int8", "i8":
		return goType{"int8", kInt, 1, reflect.TypeOf(int8(0))}, nil
	case "int16", "i16":
		return goType{"int16", kInt, 2, reflect.TypeOf(int16(0))}, nil
	case "int32", "i32", "rune":
		return goType{"int32", kInt, 4, reflect.TypeOf(int32(0))}, nil
	case "int64", "i64", "int":
		return goType{"int64", kInt, 8, reflect.TypeOf(int64(0))}, nil
	case "uint8", "u8", "byte":
		return goType{"uint8", kUint, 1, byteT}, nil
	case "uint16", "u16":
		return goType{"uint16", kUint, 2, reflect.TypeOf(uint16(0))}, nil
	case "uint32", "u32":
		return goType{"uint32", kUint, 4, reflect.TypeOf(uint32(0))}, nil
	case "uint64", "u64", "uint", "uintptr":
		return goType{"uint64", kUint, 8, reflect.TypeOf(uint64(0))}, nil
	case "float32", "f32":
		return goType{"float32", kFloat, 4, reflect.TypeOf(float32(0))}, nil
	case "float64", "f64":
		return goType{"float64", kFloat, 8, reflect.TypeOf(float64(0))}, nil
	case "string":
		return goType{"string", kString, 16, reflect.TypeOf("")}, nil
	}
	if strings.HasPrefix(s, "[") {
		i := strings.Index(s, "]")
		if i > 0 {
			elem := s[i+1:]
			n, err := strconv.Atoi(s[1:i])
			if err == nil && n >= 0 && n <= 1024 && (elem == "byte" || elem == "uint8" || elem == "u8") {
				return goType{fmt.Sprintf("[%d]uint8", n), kBytes, n, reflect.ArrayOf(n, byteT)}, nil
			}
		}
	}
	return goType{}, fmt.Errorf("unknown type %q", s)
}

func parseInt(s string) (*bigInt, error) {
	neg := false
	body := s
	if strings.HasPrefix(body, "-") {
		neg, body = true, body[1:]
	} else if strings.HasPrefix(body, "+") {
		body = body[1:]
	}
	var u uint64
	var err error
	if strings.HasPrefix(body, "0x") || strings.HasPrefix(body, "0X") {
		u, err = strconv.ParseUint(body[2:], 16, 64)
	} else {
		u, err = strconv.ParseUint(body, 10, 64)
	}
	if err != nil {
		return nil, fmt.Errorf("not an integer: %s", s)
	}
	return &bigInt{neg, u}, nil
}

// bigInt is a sign and a magnitude, enough for every integer type.
type bigInt struct {
	neg bool
	mag uint64
}

func unquote(s string) ([]byte, error) {
	if len(s) < 2 || s[0] != '"' || s[len(s)-1] != '"' {
		return nil, fmt.Errorf("not a quoted string")
	}
	in := s[1 : len(s)-1]
	var out []byte
	for i := 0; i < len(in); i++ {
		c := in[i]
		if c != '\\' {
			out = append(out, c)
			continue
		}
		i++
		if i >= len(in) {
			return nil, fmt.Errorf("string ends with a backslash")
		}
		switch in[i] {
		case 'n':
			out = append(out, '\n')
		case 't':
			out = append(out, '\t')
		case 'r':
			out = append(out, '\r')
		case '0':
			out = append(out, 0)
		case '\\':
			out = append(out, '\\')
		case '"':
			out = append(out, '"')
		case 'x':
			if i+3 > len(in) {
				return nil, fmt.Errorf("bad escape \\x at the end of a string")
			}
			v, err := strconv.ParseUint(in[i+1:i+3], 16, 8)
			if err != nil {
				return nil, fmt.Errorf("bad escape \\x%s", in[i+1:i+3])
			}
			out = append(out, byte(v))
			i += 2
		default:
			return nil, fmt.Errorf("unknown escape \\%c", in[i])
		}
	}
	return out, nil
}

func parseValue(t goType, s string) (reflect.Value, error) {
	v := reflect.New(t.rt).Elem()
	switch t.kind {
	case kBool:
		switch s {
		case "true":
			v.SetBool(true)
		case "false":
		default:
			return v, fmt.Errorf("not a bool: %s", s)
		}
	case kInt:
		n, err := parseInt(s)
		if err != nil {
			return v, err
		}
		bits := uint(t.size * 8)
		max := uint64(1)<<(bits-1) - 1
		if (!n.neg && n.mag > max) || (n.neg && n.mag > max+1) {
			return v, fmt.Errorf("%s is out of range for %s", s, t.name)
		}
		x := int64(n.mag)
		if n.neg {
			x = -x
		}
		v.SetInt(x)
	case kUint:
		n, err := parseInt(s)
		if err != nil {
			return v, err
		}
		bits := uint(t.size * 8)
		if n.neg && n.mag != 0 || (bits < 64 && n.mag >= uint64(1)<<bits) {
			return v, fmt.Errorf("%s is out of range for %s", s, t.name)
		}
		v.SetUint(n.mag)
	case kFloat:
		var f float64
		switch s {
		case "+Inf", "Inf", "inf", "+inf":
			f = math.Inf(1)
		case "-Inf", "-inf":
			f = math.Inf(-1)
		case "NaN", "nan":
			f = math.NaN()
		default:
			var err error
			f, err = strconv.ParseFloat(s, 64)
			if err != nil {
				return v, fmt.Errorf("not a float: %s", s)
			}
		}
		v.SetFloat(f)
	case kString:
		if strings.HasPrefix(s, "\"") {
			b, err := unquote(s)
			if err != nil {
				return v, err
			}
			v.SetString(string(b))
		} else {
			v.SetString(s)
		}
	case kBytes:
		n := t.size
		var b []byte
		if strings.HasPrefix(s, "0x") {
			h := s[2:]
			if len(h) != 2*n {
				return v, fmt.Errorf("%s: a [%d]uint8 in hex needs exactly %d hex digits", s, n, 2*n)
			}
			for i := 0; i < n; i++ {
				x, err := strconv.ParseUint(h[2*i:2*i+2], 16, 8)
				if err != nil {
					return v, fmt.Errorf("not hex: %s", s)
				}
				b = append(b, byte(x))
			}
		} else if strings.HasPrefix(s, "\"") {
			var err error
			b, err = unquote(s)
			if err != nil {
				return v, err
			}
		} else {
			x, err := parseInt(s)
			if err != nil {
				return v, err
			}
			if x.neg || (n < 8 && x.mag >= uint64(1)<<(8*uint(n))) {
				return v, fmt.Errorf("%s does not fit in [%d]uint8", s, n)
			}
			for i := 0; i < n && i < 8; i++ {
				b = append(b, byte(x.mag>>(8*uint(i))))
			}
		}
		if len(b) > n {
			return v, fmt.Errorf("%s: longer than %d bytes", s, n)
		}
		for i, c := range b {
			v.Index(i).SetUint(uint64(c))
		}
	}
	return v, nil
}

func rangeValue(t goType, i uint64) reflect.Value {
	v := reflect.New(t.rt).Elem()
	switch t.kind {
	case kBool:
		v.SetBool(i%2 == 1)
	case kInt:
		bits := uint(t.size * 8)
		v.SetInt(int64(i<<(64-bits)) >> (64 - bits))
	case kUint:
		bits := uint(t.size * 8)
		if bits < 64 {
			i &= uint64(1)<<bits - 1
		}
		v.SetUint(i)
	case kFloat:
		v.SetFloat(float64(i))
	case kString:
		v.SetString(strconv.FormatUint(i, 10))
	case kBytes:
		for j := 0; j < t.size && j < 8; j++ {
			v.Index(j).SetUint((i >> (8 * uint(j))) & 0xff)
		}
	}
	return v
}

// words splits a line like the Rust parser: quoted strings stay one word; # starts a comment.
func words(line string) ([]string, error) {
	var out []string
	cur := []byte{}
	inWord := false
	for i := 0; i < len(line); i++ {
		c := line[i]
		switch {
		case c == '#' && (!inWord || len(cur) == 0):
			i = len(line)
		case c == '"' && len(cur) == 0:
			cur = append(cur, '"')
			closed := false
			for i++; i < len(line); i++ {
				d := line[i]
				cur = append(cur, d)
				if d == '\\' {
					i++
					if i >= len(line) {
						return nil, fmt.Errorf("unterminated escape in a string")
					}
					cur = append(cur, line[i])
				} else if d == '"' {
					closed = true
					break
				}
			}
			if !closed {
				return nil, fmt.Errorf("unterminated string (missing \")")
			}
			inWord = true
		case c == ' ' || c == '\t' || c == '\r':
			if inWord || len(cur) > 0 {
				out = append(out, string(cur))
				cur = cur[:0]
			}
			inWord = false
		default:
			cur = append(cur, c)
			inWord = true
		}
	}
	if len(cur) > 0 {
		out = append(out, string(cur))
	}
	return out, nil
}

// ---- the JSON trace (must match inspect/src/trace.rs) ----

type trace struct {
	Schema       string   `json:"schema"`
	Key          string   `json:"key"`
	Elem         string   `json:"elem"`
	Keysize      int      `json:"keysize"`
	Elemsize     int      `json:"elemsize"`
	Bucketsize   int      `json:"bucketsize"`
	IndirectKey  bool     `json:"indirectkey"`
	IndirectElem bool     `json:"indirectelem"`
	PointerFree  bool     `json:"pointerfree"`
	Hashkey      string   `json:"hashkey"`
	Hash0        []string `json:"hash0"`
	Dumps        []dump   `json:"dumps"`
}

type dump struct {
	Label      string     `json:"label"`
	Line       int        `json:"line"`
	Header     header     `json:"header"`
	Extra      *extra     `json:"extra"`
	Buckets    []bucketJ  `json:"buckets"`
	Oldbuckets *[]bucketJ `json:"oldbuckets"`
	Heap       []bucketJ  `json:"heap"`
}

type header struct {
	Count      uint64 `json:"count"`
	Flags      uint8  `json:"flags"`
	B          uint8  `json:"B"`
	Noverflow  uint16 `json:"noverflow"`
	Hash0      string `json:"hash0"`
	Buckets    string `json:"buckets"`
	Oldbuckets string `json:"oldbuckets"`
	Nevacuate  uint64 `json:"nevacuate"`
	Extra      string `json:"extra"`
}

type extra struct {
	Overflow     *[]string `json:"overflow"`
	Oldoverflow  *[]string `json:"oldoverflow"`
	NextOverflow string    `json:"nextOverflow"`
}

type bucketJ struct {
	ID       string   `json:"id"`
	Tophash  [8]uint8 `json:"tophash"`
	Keys     []string `json:"keys"`
	Elems    []string `json:"elems"`
	Overflow string   `json:"overflow"`
}

// ---- reading the map's memory ----

type mapMem struct {
	t            unsafe.Pointer // *maptype
	keysize      uintptr        // slot sizes
	elemsize     uintptr
	keyTypeSize  uintptr
	elemTypeSize uintptr
	bucketsize   uintptr
	indirectKey  bool
	indirectElem bool
	keyString    bool
	elemString   bool
	heapNames    map[uintptr]int
	nextHeap     int
}

func ptrAt(p unsafe.Pointer, off uintptr) uintptr {
	return *(*uintptr)(unsafe.Add(p, off))
}

// pAt reads a pointer field, keeping it a pointer (so the reads below are vet-clean).
func pAt(p unsafe.Pointer, off uintptr) unsafe.Pointer {
	return *(*unsafe.Pointer)(unsafe.Add(p, off))
}

func (m *mapMem) nbuckets(b uint8) uintptr {
	base := uintptr(1) << b
	n := base
	if b >= 4 {
		n += uintptr(1) << (b - 4)
		sz := m.bucketsize * n
		up := roundupsize(sz)
		if up != sz {
			n = up / m.bucketsize
		}
	}
	return n
}

func oldB(h unsafe.Pointer) uint8 {
	b := *(*uint8)(unsafe.Add(h, offB))
	if *(*uint8)(unsafe.Add(h, offFlags))&sameSizeGrow == 0 {
		b--
	}
	return b
}

// chains calls f for every bucket reachable from the arrays, in the order that names heap
// buckets: the chains of the current then the old array's heads, each from head to tail; then
// the chains of the preallocated buckets, current then old array, in index order, each from the
// bucket up to the next bucket of an array (a pointerful map's evacuate cuts only the head old
// bucket's overflow word, so what follows a preallocated bucket of the old array stays
// reachable through it until the grow ends).
func (m *mapMem) chains(h unsafe.Pointer, f func(b unsafe.Pointer)) {
	type array struct {
		base          unsafe.Pointer
		heads, nalloc uintptr
	}
	var arrays []array
	if buckets := pAt(h, offBuckets); buckets != nil {
		b := *(*uint8)(unsafe.Add(h, offB))
		arrays = append(arrays, array{buckets, uintptr(1) << b, m.nbuckets(b)})
	}
	if old := pAt(h, offOldbuckets); old != nil {
		arrays = append(arrays, array{old, uintptr(1) << oldB(h), m.nbuckets(oldB(h))})
	}
	inAnyArray := func(p uintptr) bool {
		for _, a := range arrays {
			if m.inArray(p, uintptr(a.base), a.nalloc) {
				return true
			}
		}
		return false
	}
	for _, a := range arrays {
		for i := uintptr(0); i < a.heads; i++ {
			for b := unsafe.Add(a.base, i*m.bucketsize); b != nil; b = pAt(b, m.bucketsize-8) {
				f(b)
			}
		}
	}
	for _, a := range arrays {
		for i := a.heads; i < a.nalloc; i++ {
			b := pAt(unsafe.Add(a.base, i*m.bucketsize), m.bucketsize-8)
			for b != nil && !inAnyArray(uintptr(b)) {
				f(b)
				b = pAt(b, m.bucketsize-8)
			}
		}
	}
}

func (m *mapMem) inArray(p, base uintptr, n uintptr) bool {
	return base != 0 && p >= base && p < base+n*m.bucketsize
}

// nameHeap numbers the heap overflow buckets in walk order (see chains), afresh at each dump.
func (m *mapMem) nameHeap(h unsafe.Pointer) {
	buckets, old := ptrAt(h, offBuckets), ptrAt(h, offOldbuckets)
	nb := m.nbuckets(*(*uint8)(unsafe.Add(h, offB)))
	var nold uintptr
	if old != 0 {
		nold = m.nbuckets(oldB(h))
	}
	m.heapNames = map[uintptr]int{}
	m.nextHeap = 0
	m.chains(h, func(bp unsafe.Pointer) {
		b := uintptr(bp)
		if m.inArray(b, buckets, nb) || m.inArray(b, old, nold) {
			return
		}
		if _, ok := m.heapNames[b]; !ok {
			m.heapNames[b] = m.nextHeap
			m.nextHeap++
		}
	})
}

func (m *mapMem) sym(h unsafe.Pointer, p uintptr) string {
	if p == 0 {
		return "nil"
	}
	buckets, old := ptrAt(h, offBuckets), ptrAt(h, offOldbuckets)
	nb := m.nbuckets(*(*uint8)(unsafe.Add(h, offB)))
	if m.inArray(p, buckets, nb) && (p-buckets)%m.bucketsize == 0 {
		return fmt.Sprintf("main[%d]", (p-buckets)/m.bucketsize)
	}
	if old != 0 {
		nold := m.nbuckets(oldB(h))
		if m.inArray(p, old, nold) && (p-old)%m.bucketsize == 0 {
			return fmt.Sprintf("old[%d]", (p-old)/m.bucketsize)
		}
	}
	if id, ok := m.heapNames[p]; ok {
		return fmt.Sprintf("heap#%d", id)
	}
	return fmt.Sprintf("%#x", p)
}

func hexOf(p unsafe.Pointer, n uintptr) string {
	if n == 0 {
		return ""
	}
	return fmt.Sprintf("%x", unsafe.Slice((*byte)(p), n))
}

func (m *mapMem) slot(p unsafe.Pointer, size uintptr, indirect, isString, live bool) string {
	value := func(q unsafe.Pointer) string {
		if !isString {
			return hexOf(q, size)
		}
		data, n := pAt(q, 0), ptrAt(q, 8)
		ptr := "ptr"
		if n == 0 {
			ptr = "-"
		} else if data == nil {
			ptr = "nil"
		}
		s := fmt.Sprintf("s%d:%s", n, ptr)
		if live && n != 0 && data != nil {
			s += ":" + hexOf(data, n)
		}
		return s
	}
	if !indirect {
		return value(p)
	}
	q := pAt(p, 0)
	if q == nil {
		return "*nil"
	}
	if !live {
		return "*ptr"
	}
	return "*ptr:" + value(q)
}

func (m *mapMem) bucket(h unsafe.Pointer, bp unsafe.Pointer) bucketJ {
	j := bucketJ{ID: m.sym(h, uintptr(bp)), Overflow: m.sym(h, ptrAt(bp, m.bucketsize-8))}
	for i := uintptr(0); i < 8; i++ {
		t := *(*uint8)(unsafe.Add(bp, i))
		j.Tophash[i] = t
		live := t >= minTopHash
		j.Keys = append(j.Keys, m.slot(unsafe.Add(bp, 8+i*m.keysize), m.keyTypeSize, m.indirectKey, m.keyString, live))
		j.Elems = append(j.Elems, m.slot(unsafe.Add(bp, 8+8*m.keysize+i*m.elemsize), m.elemTypeSize, m.indirectElem, m.elemString, live))
	}
	return j
}

func (m *mapMem) list(h unsafe.Pointer, s unsafe.Pointer) *[]string {
	if s == nil {
		return nil
	}
	data, n := pAt(s, 0), ptrAt(s, 8)
	out := []string{}
	for i := uintptr(0); i < n; i++ {
		out = append(out, m.sym(h, ptrAt(data, i*8)))
	}
	return &out
}

func (m *mapMem) dump(h unsafe.Pointer, label string, line int) dump {
	d := dump{Label: label, Line: line}
	d.Header = header{
		Count:      uint64(ptrAt(h, 0)),
		Flags:      *(*uint8)(unsafe.Add(h, offFlags)),
		B:          *(*uint8)(unsafe.Add(h, offB)),
		Noverflow:  *(*uint16)(unsafe.Add(h, offNoverflow)),
		Hash0:      fmt.Sprintf("0x%08x", *(*uint32)(unsafe.Add(h, offHash0))),
		Buckets:    "nil",
		Oldbuckets: "nil",
		Nevacuate:  uint64(ptrAt(h, offNevacuate)),
		Extra:      "nil",
	}
	buckets, old, e := pAt(h, offBuckets), pAt(h, offOldbuckets), pAt(h, offExtra)
	if buckets != nil {
		d.Header.Buckets = "main"
	}
	if old != nil {
		d.Header.Oldbuckets = "old"
	}
	if e != nil {
		d.Header.Extra = "extra"
		d.Extra = &extra{
			Overflow:     m.list(h, pAt(e, 0)),
			Oldoverflow:  m.list(h, pAt(e, 8)),
			NextOverflow: m.sym(h, ptrAt(e, 16)),
		}
	}
	d.Buckets = []bucketJ{}
	if buckets != nil {
		n := m.nbuckets(d.Header.B)
		for i := uintptr(0); i < n; i++ {
			d.Buckets = append(d.Buckets, m.bucket(h, unsafe.Add(buckets, i*m.bucketsize)))
		}
	}
	if old != nil {
		ob := []bucketJ{}
		n := m.nbuckets(oldB(h))
		for i := uintptr(0); i < n; i++ {
			ob = append(ob, m.bucket(h, unsafe.Add(old, i*m.bucketsize)))
		}
		d.Oldbuckets = &ob
	}
	heap := make([]bucketJ, m.nextHeap)
	seen := make([]bool, m.nextHeap)
	m.chains(h, func(b unsafe.Pointer) {
		if id, ok := m.heapNames[uintptr(b)]; ok && !seen[id] {
			seen[id] = true
			heap[id] = m.bucket(h, b)
		}
	})
	d.Heap = []bucketJ{}
	for id := range heap {
		if seen[id] {
			d.Heap = append(d.Heap, heap[id])
		}
	}
	return d
}

func fail(format string, args ...interface{}) {
	fmt.Fprintf(os.Stderr, "go-oracle: "+format+"\n", args...)
	os.Exit(1)
}

func main() {
	if len(os.Args) != 2 {
		fail("usage: GODEBUG=cpu.aes=off go-oracle SCRIPT")
	}
	if !strings.HasPrefix(runtime.Version(), "go1.19") {
		fail("built with %s; the oracle must be built with Go 1.19", runtime.Version())
	}
	if useAeshash {
		fail("the runtime uses AES hashing; run with GODEBUG=cpu.aes=off")
	}
	if unsafe.Sizeof(uintptr(0)) != 8 {
		fail("64-bit targets only")
	}
	debug.SetGCPercent(-1)
	f, err := os.Open(os.Args[1])
	if err != nil {
		fail("%v", err)
	}
	defer f.Close()

	var m reflect.Value
	var mm *mapMem
	var kt, vt goType
	var tr trace
	var h unsafe.Pointer
	count := func() uintptr { return ptrAt(h, 0) }
	recordHash0 := func() { tr.Hash0 = append(tr.Hash0, fmt.Sprintf("0x%08x", *(*uint32)(unsafe.Add(h, offHash0)))) }

	sc := bufio.NewScanner(f)
	sc.Buffer(make([]byte, 1<<20), 1<<26)
	line := 0
	for sc.Scan() {
		line++
		w, err := words(sc.Text())
		if err != nil {
			fail("line %d: %v", line, err)
		}
		if len(w) == 0 {
			continue
		}
		cmd, args := w[0], w[1:]
		errf := func(format string, a ...interface{}) { fail("line %d: "+format, append([]interface{}{line}, a...)...) }
		if cmd == "hashkey" || cmd == "hash0" {
			continue // directives for the replay; the oracle reports what Go drew
		}
		if cmd == "map" {
			if len(args) < 2 || len(args) > 3 {
				errf("usage: map <K> <V> [hint]")
			}
			if h != nil {
				errf("only one map per script")
			}
			if kt, err = parseType(args[0]); err != nil {
				errf("%v", err)
			}
			if vt, err = parseType(args[1]); err != nil {
				errf("%v", err)
			}
			hint := 0
			if len(args) == 3 {
				n, err := parseInt(args[2])
				if err != nil {
					errf("%v", err)
				}
				if !n.neg {
					hint = int(n.mag)
				}
			}
			mt := reflect.MapOf(kt.rt, vt.rt)
			m = reflect.MakeMapWithSize(mt, hint)
			h = unsafe.Pointer(m.Pointer())
			tp := (*[2]unsafe.Pointer)(unsafe.Pointer(&mt))[1]
			mm = &mapMem{
				t:            tp,
				keysize:      uintptr(*(*uint8)(unsafe.Add(tp, mtKeysize))),
				elemsize:     uintptr(*(*uint8)(unsafe.Add(tp, mtElemsize))),
				bucketsize:   uintptr(*(*uint16)(unsafe.Add(tp, mtBucketsize))),
				keyTypeSize:  kt.rt.Size(),
				elemTypeSize: vt.rt.Size(),
				keyString:    kt.kind == kString,
				elemString:   vt.kind == kString,
				heapNames:    map[uintptr]int{},
			}
			flags := *(*uint32)(unsafe.Add(tp, mtFlags))
			mm.indirectKey = flags&mtIndirectKey != 0
			mm.indirectElem = flags&mtIndirectElem != 0
			bucketType := *(*unsafe.Pointer)(unsafe.Add(tp, mtBucket))
			ptrdata := *(*uintptr)(unsafe.Add(bucketType, typePtrdata))
			tr = trace{
				Schema: "gomap-replay/1", Key: kt.name, Elem: vt.name,
				Keysize: int(kt.rt.Size()), Elemsize: int(vt.rt.Size()), Bucketsize: int(mm.bucketsize),
				IndirectKey: mm.indirectKey, IndirectElem: mm.indirectElem, PointerFree: ptrdata == 0,
				Hashkey: fmt.Sprintf("0x%016x", hashkey[0]), Hash0: []string{}, Dumps: []dump{},
			}
			recordHash0()
			continue
		}
		if h == nil {
			errf("%s: the script must start with `map <K> <V> [hint]`", cmd)
		}
		switch cmd {
		case "insert":
			if len(args) != 2 {
				errf("usage: insert <key> <value>")
			}
			k, err := parseValue(kt, args[0])
			if err != nil {
				errf("%v", err)
			}
			v, err := parseValue(vt, args[1])
			if err != nil {
				errf("%v", err)
			}
			m.SetMapIndex(k, v)
		case "delete":
			if len(args) != 1 {
				errf("usage: delete <key>")
			}
			k, err := parseValue(kt, args[0])
			if err != nil {
				errf("%v", err)
			}
			before := count()
			m.SetMapIndex(k, reflect.Value{})
			if before > 0 && count() == 0 {
				recordHash0()
			}
		case "clear":
			before := count()
			mapclear(mm.t, h)
			if before > 0 {
				recordHash0()
			}
		case "dump", "dumpgrowing":
			if cmd == "dumpgrowing" && ptrAt(h, offOldbuckets) == 0 {
				break
			}
			mm.nameHeap(h)
			tr.Dumps = append(tr.Dumps, mm.dump(h, strings.Join(args, " "), line))
		case "range":
			if len(args) < 3 || len(args) > 4 {
				errf("usage: range insert|delete <from> <to> [step]")
			}
			from, e1 := parseInt(args[1])
			to, e2 := parseInt(args[2])
			step := &bigInt{false, 1}
			var e3 error
			if len(args) == 4 {
				step, e3 = parseInt(args[3])
			}
			if e1 != nil || e2 != nil || e3 != nil || from.neg || to.neg || step.neg || step.mag == 0 || to.mag < from.mag {
				errf("range needs 0 <= from <= to and step >= 1")
			}
			insert := args[0] == "insert"
			if !insert && args[0] != "delete" {
				errf("range %s: use `range insert` or `range delete`", args[0])
			}
			for i := from.mag; i < to.mag; i += step.mag {
				if insert {
					m.SetMapIndex(rangeValue(kt, i), rangeValue(vt, i))
				} else {
					before := count()
					m.SetMapIndex(rangeValue(kt, i), reflect.Value{})
					if before > 0 && count() == 0 {
						recordHash0()
					}
				}
			}
		default:
			errf("unknown operation %q (insert, delete, range, clear, dump, dumpgrowing)", cmd)
		}
	}
	if err := sc.Err(); err != nil {
		fail("%v", err)
	}
	if h == nil {
		fail("line %d: no `map <K> <V> [hint]` line", line)
	}
	runtime.KeepAlive(m)
	out, err := json.Marshal(&tr)
	if err != nil {
		fail("%v", err)
	}
	os.Stdout.Write(append(out, '\n'))
}
