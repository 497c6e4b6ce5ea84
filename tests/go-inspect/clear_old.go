//go:build !go1.21

package main

// clearMap empties m with the idiom the compiler turns into runtime.mapclear (before Go 1.21).
func clearMap(m map[uint64]uint64) {
	for k := range m {
		delete(m, k)
	}
}
