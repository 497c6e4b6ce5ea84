//go:build !(goexperiment.swissmap || go1.26)

package main

import "unsafe"

// The classic map header (runtime.hmap, Go 1.19–1.25): B at 9, oldbuckets at 24.

// shapeOf describes the map variable at m as the program sees its own memory.
func shapeOf(m unsafe.Pointer) shape {
	h := *(*unsafe.Pointer)(m)
	if h == nil {
		return shape{}
	}
	return shape{B: *(*uint8)(unsafe.Add(h, 9)), Growing: *(*unsafe.Pointer)(unsafe.Add(h, 24)) != nil}
}
