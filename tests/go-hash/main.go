// Command go-hash prints hash vectors computed by the real Go runtime, for
// inspect/tests/check_get.rs, which checks map-inspect's Go hashes against them.
//
// It prints one JSON line, then waits until standard input closes, so that map-inspect can
// read the hash state (aeskeysched, hashkey, useAeshash) out of the live process too. The
// line holds:
//
//   - the runtime's state, read through go:linkname: useAeshash, aeskeysched, hashkey;
//   - "mem": runtime.memhash of inputs of every length 0..300 (random, all zero, all 0xff;
//     the short ones also placed against the end of a page, where the AES code loads
//     differently), "str": runtime.strhash, "mem32"/"mem64": runtime.memhash32/64,
//     "f32"/"f64": runtime.f32hash/f64hash (±0, infinities, subnormals, random bits), and
//     "nan": two f64hash calls on the same NaN (Go hashes NaN randomly);
//   - "types": for key types of every kind the compiler hashes differently (padded structs,
//     blank fields, strings and floats inside structs and arrays, nested structs, byte
//     arrays of 3, 4, 16 and 130 bytes, complex numbers), the hasher the compiler generated
//     (maptype.hasher, read from the map type's descriptor), applied to keys printed with
//     %#v.
//
// Seeds, hashes and keys are hex strings: JSON numbers lose precision above 2^53.
//
// Run it with GODEBUG=cpu.aes=off for the portable hash. Build it with
// -ldflags=-checklinkname=0 on Go 1.23 and later, which refuse go:linkname to runtime
// variables otherwise.
package main

import (
	"bufio"
	"encoding/json"
	"fmt"
	"math"
	"os"
	"runtime"
	"syscall"
	"unsafe"
)

//go:linkname rtMemhash runtime.memhash
func rtMemhash(p unsafe.Pointer, h, s uintptr) uintptr

//go:linkname rtMemhash32 runtime.memhash32
func rtMemhash32(p unsafe.Pointer, h uintptr) uintptr

//go:linkname rtMemhash64 runtime.memhash64
func rtMemhash64(p unsafe.Pointer, h uintptr) uintptr

//go:linkname rtStrhash runtime.strhash
func rtStrhash(p unsafe.Pointer, h uintptr) uintptr

//go:linkname rtF32hash runtime.f32hash
func rtF32hash(p unsafe.Pointer, h uintptr) uintptr

//go:linkname rtF64hash runtime.f64hash
func rtF64hash(p unsafe.Pointer, h uintptr) uintptr

// splitmix64: deterministic inputs.
type rng struct{ s uint64 }

func (r *rng) u64() uint64 {
	r.s += 0x9e3779b97f4a7c15
	z := r.s
	z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9
	z = (z ^ (z >> 27)) * 0x94d049bb133111eb
	return z ^ (z >> 31)
}

func (r *rng) bytes(n int) []byte {
	b := make([]byte, n)
	for i := range b {
		b[i] = byte(r.u64() >> 56)
	}
	return b
}

func hx(v uint64) string { return fmt.Sprintf("%016x", v) }

func hb(b []byte) string { return fmt.Sprintf("%x", b) }

// The key types. Package-level variables of each, so that DWARF describes them by name.
type (
	K1 struct {
		A int32
		B string
		C float64
		D [3]byte
	}
	Pad struct {
		A uint8
		B uint64
	}
	Blank struct {
		A uint32
		_ uint32
		B uint64
	}
	Nest struct {
		X int32
		I struct {
			Y int32
			F float64
		}
		Z int32
	}
	Pair  struct{ A, B int32 }
	Mixed [3]struct {
		S string
		N int16
	}
	Empty struct{}
)

var (
	vK1       K1
	vPad      Pad
	vBlank    Blank
	vNest     Nest
	vPair     Pair
	vMixed    Mixed
	vEmpty    Empty
	vStrs     [2]string
	vF32s     [4]float32
	vBytes3   [3]byte
	vBytes4   [4]byte
	vBytes16  [16]byte
	vBytes130 [130]byte
	vC64      complex64
	vC128     complex128
	vF32      float32
	vF64      float64
	vI8       int8
	vI16      int16
	vU32      uint32
	vU64      uint64
	vBool     bool
	vStr      string
)

type hasherFunc = func(unsafe.Pointer, uintptr) uintptr

// hasherOf returns maptype.hasher of map[K]bool (offset 72 in every Go version from 1.19 to
// 1.27: after the 48-byte type header and three type pointers).
func hasherOf[K comparable]() hasherFunc {
	var m map[K]bool
	var x any = m
	mt := (*[2]unsafe.Pointer)(unsafe.Pointer(&x))[0]
	return *(*hasherFunc)(unsafe.Add(mt, 72))
}

type typeVecs struct {
	Var  string      `json:"var"`
	Keys [][3]string `json:"keys"` // %#v of the key, seed, hash
}

func vectors[K comparable](name string, seeds []uint64, keys []K) typeVecs {
	h := hasherOf[K]()
	tv := typeVecs{Var: name}
	for i, k := range keys {
		s := seeds[i%len(seeds)]
		tv.Keys = append(tv.Keys, [3]string{fmt.Sprintf("%#v", k), hx(s), hx(uint64(h(unsafe.Pointer(&k), uintptr(s))))})
	}
	return tv
}

func f64s(r *rng) []float64 {
	fs := []float64{0, math.Copysign(0, -1), 1, -1, 0.5, 1.5, math.Pi, 1e300, -1e-300,
		math.Inf(1), math.Inf(-1), math.SmallestNonzeroFloat64, math.MaxFloat64,
		math.Float64frombits(0x000fffffffffffff)}
	for len(fs) < 60 {
		if f := math.Float64frombits(r.u64()); f == f {
			fs = append(fs, f)
		}
	}
	return fs
}

func f32s(r *rng) []float32 {
	fs := []float32{0, float32(math.Copysign(0, -1)), 1, -1, 0.5, 1.5, math.Pi, 1e30,
		float32(math.Inf(1)), float32(math.Inf(-1)), math.SmallestNonzeroFloat32,
		math.MaxFloat32, math.Float32frombits(0x007fffff)}
	for len(fs) < 60 {
		if f := math.Float32frombits(uint32(r.u64())); f == f {
			fs = append(fs, f)
		}
	}
	return fs
}

func main() {
	// Let any process of this user read our memory under Yama's ptrace_scope = 1.
	syscall.RawSyscall6(syscall.SYS_PRCTL, 0x59616d61, ^uintptr(0), 0, 0, 0, 0)
	r := &rng{s: 0x2545f4914f6cdd1d}
	seeds := []uint64{0, 1, 0xcb3daafa, uint64(r.u64() >> 32), 0xffffffff, r.u64()}
	out := map[string]any{
		"pid":         os.Getpid(),
		"go":          runtime.Version(),
		"goarch":      runtime.GOARCH,
		"symbols":     stateSymbols,
		"useAeshash":  useAeshash,
		"aeskeysched": hb(aeskeysched[:]),
		"hashkey":     []string{hx(uint64(hashkey[0])), hx(uint64(hashkey[1])), hx(uint64(hashkey[2])), hx(uint64(hashkey[3]))},
	}

	// memhash: every length 0..300.
	var mem [][3]string
	page := make([]byte, 3*4096)
	// The offset in page of the first page boundary after its start, plus one page.
	pageEnd := int(4096-uintptr(unsafe.Pointer(&page[0]))%4096) + 4096
	for n := 0; n <= 300; n++ {
		inputs := [][]byte{r.bytes(n), r.bytes(n), r.bytes(n), r.bytes(n), make([]byte, n)}
		ff := make([]byte, n)
		for i := range ff {
			ff[i] = 0xff
		}
		inputs = append(inputs, ff)
		for i, in := range inputs {
			for j := 0; j < 2; j++ {
				s := seeds[(i*2+j+n)%len(seeds)]
				buf := append(append([]byte(nil), in...), 0) // &buf[0] valid for n == 0
				h := rtMemhash(unsafe.Pointer(&buf[0]), uintptr(s), uintptr(n))
				mem = append(mem, [3]string{hx(s), hb(in), hx(uint64(h))})
			}
		}
		if n > 0 && n < 16 {
			// Against the end of a page: Go's AES code loads the 16 bytes that end at the
			// last byte and shifts them down.
			in := r.bytes(n)
			copy(page[pageEnd-n:pageEnd], in)
			p := unsafe.Pointer(&page[pageEnd-n])
			s := seeds[n%len(seeds)]
			mem = append(mem, [3]string{hx(s), hb(in), hx(uint64(rtMemhash(p, uintptr(s), uintptr(n))))})
		}
	}
	out["mem"] = mem

	var str [][3]string
	for n := 0; n <= 300; n++ {
		b := r.bytes(n)
		s := string(b)
		seed := seeds[n%len(seeds)]
		str = append(str, [3]string{hx(seed), hb(b), hx(uint64(rtStrhash(unsafe.Pointer(&s), uintptr(seed))))})
	}
	out["str"] = str

	var m32, m64 [][3]string
	for i := 0; i < 300; i++ {
		x := r.u64()
		if i < 64 {
			x = 1 << i
		}
		x32 := uint32(x)
		s := seeds[i%len(seeds)]
		m32 = append(m32, [3]string{hx(s), hx(uint64(x32)), hx(uint64(rtMemhash32(unsafe.Pointer(&x32), uintptr(s))))})
		m64 = append(m64, [3]string{hx(s), hx(x), hx(uint64(rtMemhash64(unsafe.Pointer(&x), uintptr(s))))})
	}
	out["mem32"], out["mem64"] = m32, m64

	var v32, v64 [][3]string
	for i, f := range f32s(r) {
		s := seeds[i%len(seeds)]
		v32 = append(v32, [3]string{hx(s), hx(uint64(math.Float32bits(f))), hx(uint64(rtF32hash(unsafe.Pointer(&f), uintptr(s))))})
	}
	for i, f := range f64s(r) {
		s := seeds[i%len(seeds)]
		v64 = append(v64, [3]string{hx(s), hx(math.Float64bits(f)), hx(uint64(rtF64hash(unsafe.Pointer(&f), uintptr(s))))})
	}
	out["f32"], out["f64"] = v32, v64
	nan := math.NaN()
	out["nan"] = []string{hx(uint64(rtF64hash(unsafe.Pointer(&nan), 7))), hx(uint64(rtF64hash(unsafe.Pointer(&nan), 7)))}

	// Type hashers.
	str8 := func() string { return string(r.bytes(int(r.u64() % 12))) }
	f64 := func() float64 {
		switch r.u64() % 6 {
		case 0:
			return 0
		case 1:
			return math.Copysign(0, -1)
		case 2:
			return math.Inf(1)
		}
		return float64(int64(r.u64()%2000)-1000) / 8
	}
	const n = 40
	var types []typeVecs
	{
		var ks []K1
		for i := 0; i < n; i++ {
			ks = append(ks, K1{A: int32(r.u64()), B: str8(), C: f64(), D: [3]byte{byte(r.u64()), byte(i), 7}})
		}
		types = append(types, vectors("main.vK1", seeds, ks))
	}
	{
		var ks []Pad
		for i := 0; i < n; i++ {
			ks = append(ks, Pad{A: uint8(r.u64()), B: r.u64()})
		}
		types = append(types, vectors("main.vPad", seeds, ks))
	}
	{
		var ks []Blank
		for i := 0; i < n; i++ {
			ks = append(ks, Blank{A: uint32(r.u64()), B: r.u64()})
		}
		types = append(types, vectors("main.vBlank", seeds, ks))
	}
	{
		var ks []Nest
		for i := 0; i < n; i++ {
			k := Nest{X: int32(r.u64()), Z: int32(r.u64())}
			k.I.Y = int32(r.u64())
			k.I.F = f64()
			ks = append(ks, k)
		}
		types = append(types, vectors("main.vNest", seeds, ks))
	}
	{
		var ks []Pair
		for i := 0; i < n; i++ {
			ks = append(ks, Pair{A: int32(r.u64()), B: int32(r.u64())})
		}
		types = append(types, vectors("main.vPair", seeds, ks))
	}
	{
		var ks []Mixed
		for i := 0; i < n; i++ {
			var k Mixed
			for j := range k {
				k[j].S, k[j].N = str8(), int16(r.u64())
			}
			ks = append(ks, k)
		}
		types = append(types, vectors("main.vMixed", seeds, ks))
	}
	types = append(types, vectors("main.vEmpty", seeds, []Empty{{}, {}, {}}))
	{
		var ks [][2]string
		for i := 0; i < n; i++ {
			ks = append(ks, [2]string{str8(), str8()})
		}
		types = append(types, vectors("main.vStrs", seeds, ks))
	}
	{
		var ks [][4]float32
		for i := 0; i < n; i++ {
			ks = append(ks, [4]float32{float32(f64()), float32(f64()), 1, float32(i)})
		}
		types = append(types, vectors("main.vF32s", seeds, ks))
	}
	{
		var k3 [][3]byte
		var k4 [][4]byte
		var k16 [][16]byte
		var k130 [][130]byte
		for i := 0; i < n; i++ {
			var a [3]byte
			var b [4]byte
			var c [16]byte
			var d [130]byte
			copy(a[:], r.bytes(3))
			copy(b[:], r.bytes(4))
			copy(c[:], r.bytes(16))
			copy(d[:], r.bytes(130))
			k3, k4, k16, k130 = append(k3, a), append(k4, b), append(k16, c), append(k130, d)
		}
		types = append(types, vectors("main.vBytes3", seeds, k3), vectors("main.vBytes4", seeds, k4),
			vectors("main.vBytes16", seeds, k16), vectors("main.vBytes130", seeds, k130))
	}
	{
		var c64 []complex64
		var c128 []complex128
		var fl32 []float32
		var fl64 []float64
		var i8 []int8
		var i16 []int16
		var u32 []uint32
		var u64 []uint64
		var strs []string
		for i := 0; i < n; i++ {
			c64 = append(c64, complex(float32(f64()), float32(f64())))
			c128 = append(c128, complex(f64(), f64()))
			fl32 = append(fl32, float32(f64()))
			fl64 = append(fl64, f64())
			i8 = append(i8, int8(r.u64()))
			i16 = append(i16, int16(r.u64()))
			u32 = append(u32, uint32(r.u64()))
			u64 = append(u64, r.u64())
			strs = append(strs, str8())
		}
		types = append(types, vectors("main.vC64", seeds, c64), vectors("main.vC128", seeds, c128),
			vectors("main.vF32", seeds, fl32), vectors("main.vF64", seeds, fl64),
			vectors("main.vI8", seeds, i8), vectors("main.vI16", seeds, i16),
			vectors("main.vU32", seeds, u32), vectors("main.vU64", seeds, u64),
			vectors("main.vBool", seeds, []bool{true, false}), vectors("main.vStr", seeds, strs))
	}
	out["types"] = types
	// Keep the variables (and so their DWARF) in the binary.
	keep := []any{&vK1, &vPad, &vBlank, &vNest, &vPair, &vMixed, &vEmpty, &vStrs, &vF32s, &vBytes3,
		&vBytes4, &vBytes16, &vBytes130, &vC64, &vC128, &vF32, &vF64, &vI8, &vI16, &vU32, &vU64, &vBool, &vStr}
	out["vars"] = len(keep)

	b, err := json.Marshal(out)
	if err != nil {
		panic(err)
	}
	os.Stdout.Write(append(b, '\n'))
	bufio.NewReader(os.Stdin).ReadString('\n')
	runtime.KeepAlive(keep)
}
