// Command go-swiss-gdb holds two Swiss-table maps, a small one and one with a table, and
// stops in main.stop, for the gdb tests of printer precedence: with gomap.py and Go's
// runtime-gdb.py loaded in either order, gomap.py prints the maps whose layout it knows,
// and Go's printer prints the ones it does not (the tests also build this program against
// a runtime whose map header has a field gomap.py has never seen).
package main

import (
	"os"
	"strconv"
)

var (
	small map[string]int
	table map[int]string
)

//go:noinline
func stop() {}

func main() {
	small = map[string]int{"a": 1, "bb": 2, "ccc": 3}
	table = make(map[int]string)
	for i := 0; i < 20; i++ {
		table[i*7] = "v" + strconv.Itoa(i)
	}
	stop()
	os.Stdout.WriteString(strconv.Itoa(len(small)+len(table)) + "\n")
}
