//go:build !(goexperiment.swissmap || go1.26)

package main

import (
	"sync/atomic"
	"unsafe"
)

// The classic map header (runtime.hmap, Go 1.19–1.25): B at 9, oldbuckets at 24.

// shapeOf describes the map variable at m as the program sees its own memory.
func shapeOf(m unsafe.Pointer) shape {
	h := *(*unsafe.Pointer)(m)
	if h == nil {
		return shape{}
	}
	return shape{B: *(*uint8)(unsafe.Add(h, 9)), Growing: *(*unsafe.Pointer)(unsafe.Add(h, 24)) != nil}
}

// writing reports whether a write to the map with header h is in progress (hashWriting in
// hmap.flags, at 8).
func writing(h unsafe.Pointer) bool {
	return atomic.LoadUint32((*uint32)(unsafe.Add(h, 8)))&4 != 0
}
