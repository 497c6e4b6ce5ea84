// Command gobench runs the throughput workloads of gomap's benches on Go 1.19's own map, with
// the same keys (the same xorshift64* sequences), and prints one JSON object per line:
//
//	{"impl":"go-aes","workload":"lookup-hit","keys":"u64-random","n":1000000,"ns_per_op":23.1}
//
// Run it twice, as benches/go/compare.sh does: once as is (Go's AES hash) and once with
// GODEBUG=cpu.aes=off (the portable hash gomap implements). Each figure is the best of
// -runs runs (default 5), in nanoseconds per operation.
//
// With -latency N it instead times each of N random u64 inserts into a fresh map on its own,
// with the keys of benches/latency.rs, and prints one row of that harness's table.
package main

import (
	"encoding/json"
	"flag"
	"fmt"
	"os"
	"runtime"
	"sort"
	"strings"
	"time"
)

type rng uint64

func (r *rng) next() uint64 {
	x := uint64(*r)
	x ^= x >> 12
	x ^= x << 25
	x ^= x >> 27
	*r = rng(x)
	return x * 0x2545f4914f6cdd1d
}

type result struct {
	Impl     string  `json:"impl"`
	Workload string  `json:"workload"`
	Keys     string  `json:"keys"`
	N        int     `json:"n"`
	NsPerOp  float64 `json:"ns_per_op"`
}

var sink uint64

func best(runs int, n int, f func()) float64 {
	b := time.Duration(1<<63 - 1)
	for i := 0; i < runs; i++ {
		runtime.GC()
		t := time.Now()
		f()
		if d := time.Since(t); d < b {
			b = d
		}
	}
	return float64(b.Nanoseconds()) / float64(n)
}

// bench runs the seven workloads for one key type.
func bench[K comparable](impl, keys string, present, absent []K, runs int, emit func(result)) {
	n := len(present)
	full := func() map[K]uint64 {
		m := make(map[K]uint64)
		for i, k := range present {
			m[k] = uint64(i)
		}
		return m
	}
	out := func(w string, ns float64) { emit(result{impl, w, keys, n, ns}) }
	out("insert", best(runs, n, func() {
		m := make(map[K]uint64)
		for i, k := range present {
			m[k] = uint64(i)
		}
		sink += uint64(len(m))
	}))
	out("insert-hint", best(runs, n, func() {
		m := make(map[K]uint64, n)
		for i, k := range present {
			m[k] = uint64(i)
		}
		sink += uint64(len(m))
	}))
	m := full()
	out("lookup-hit", best(runs, n, func() {
		var s uint64
		for _, k := range present {
			s += m[k]
		}
		sink += s
	}))
	out("lookup-miss", best(runs, n, func() {
		var s uint64
		for _, k := range absent {
			if _, ok := m[k]; ok {
				s++
			}
		}
		sink += s
	}))
	out("iterate", best(runs, n, func() {
		var s uint64
		for _, v := range m {
			s += v
		}
		sink += s
	}))
	// remove and mixed consume a fresh full map each run (built outside the timed part).
	timedOnFull := func(f func(map[K]uint64)) float64 {
		b := time.Duration(1<<63 - 1)
		for i := 0; i < runs; i++ {
			mm := full()
			runtime.GC()
			t := time.Now()
			f(mm)
			if d := time.Since(t); d < b {
				b = d
			}
		}
		return float64(b.Nanoseconds()) / float64(n)
	}
	out("remove", timedOnFull(func(mm map[K]uint64) {
		for _, k := range present {
			delete(mm, k)
		}
	}))
	out("mixed-80-10-10", timedOnFull(func(mm map[K]uint64) {
		r := rng(7)
		var s uint64
		for i := 0; i < n; i++ {
			x := r.next()
			j := int((x >> 8) % uint64(n))
			switch x % 10 {
			case 0:
				mm[absent[i]] = x
			case 1:
				s += mm[present[j]]
				delete(mm, present[j])
			default:
				s += mm[present[j]]
			}
		}
		sink += s
	}))
}

func u64Random(n int) ([]uint64, []uint64) {
	r := rng(0x9e3779b97f4a7c15)
	all := make([]uint64, 2*n)
	for i := range all {
		all[i] = r.next()
	}
	return all[:n], all[n:]
}

func u64Seq(n int) ([]uint64, []uint64) {
	a, b := make([]uint64, n), make([]uint64, n)
	for i := 0; i < n; i++ {
		a[i], b[i] = uint64(i), uint64(n+i)
	}
	return a, b
}

func str16(n int) ([]string, []string) {
	r := rng(0x123456789abcdef1)
	a, b := make([]string, n), make([]string, n)
	for i := range a {
		a[i] = fmt.Sprintf("%016x", r.next())
	}
	for i := range b {
		b[i] = fmt.Sprintf("%016x", r.next())
	}
	return a, b
}

// latency times each of n random-key inserts into a fresh map on its own, with the keys of
// benches/latency.rs, and prints one row in that harness's format (without peak bytes).
func latency(impl string, n int) {
	keys, _ := u64Random(n)
	lat := make([]int64, n)
	m := make(map[uint64]uint64)
	runtime.GC()
	t0 := time.Now()
	for i, k := range keys {
		t := time.Now()
		m[k] = k
		lat[i] = int64(time.Since(t))
	}
	total := time.Since(t0)
	if len(m) != n {
		panic("lost keys")
	}
	var max int64
	for _, l := range lat {
		if l > max {
			max = l
		}
	}
	sort.Slice(lat, func(i, j int) bool { return lat[i] < lat[j] })
	q := func(f float64) int64 {
		i := int(float64(n) * f)
		if i >= n {
			i = n - 1
		}
		return lat[i]
	}
	fmt.Printf("%-15s %10.1f %8d %8d %9d %10d %12d %12s\n", impl,
		float64(total.Nanoseconds())/float64(n), q(0.5), q(0.99), q(0.999), q(0.9999), max, "-")
}

func main() {
	runs := flag.Int("runs", 5, "runs per figure (the best is reported)")
	sizes := flag.String("sizes", "1000,100000,1000000", "map sizes")
	lat := flag.Int("latency", 0, "instead: time each of N random u64 inserts (as benches/latency.rs)")
	flag.Parse()
	impl := "go-aes"
	if strings.Contains(os.Getenv("GODEBUG"), "cpu.aes=off") {
		impl = "go-noaes"
	}
	if *lat > 0 {
		latency(impl, *lat)
		return
	}
	enc := json.NewEncoder(os.Stdout)
	emit := func(r result) {
		if err := enc.Encode(r); err != nil {
			panic(err)
		}
	}
	for _, s := range strings.Split(*sizes, ",") {
		var n int
		fmt.Sscan(s, &n)
		a, b := u64Random(n)
		bench(impl, "u64-random", a, b, *runs, emit)
		a, b = u64Seq(n)
		bench(impl, "u64-sequential", a, b, *runs, emit)
		if n <= 100000 {
			sa, sb := str16(n)
			bench(impl, "str16", sa, sb, *runs, emit)
		}
	}
	if sink == 42 {
		fmt.Fprintln(os.Stderr, sink)
	}
}
