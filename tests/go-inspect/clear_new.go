//go:build go1.21

package main

// clearMap empties m with the clear builtin (Go 1.21+).
func clearMap(m map[uint64]uint64) {
	clear(m)
}
