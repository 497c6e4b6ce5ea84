//go:build goexperiment.swissmap || go1.26

package main

import (
	"sync/atomic"
	"unsafe"
)

// The Swiss-table map header (internal/runtime/maps.Map, Go 1.24+): used at 0, dirPtr at 16,
// dirLen at 24, clearSeq at 40; a table: used, capacity, growthLeft (uint16s at 0, 2, 4).

// shapeOf describes the map variable at m as the program sees its own memory.
func shapeOf(m unsafe.Pointer) shape {
	h := *(*unsafe.Pointer)(m)
	s := shape{Swiss: true}
	if h == nil {
		return s
	}
	s.Used = *(*uint64)(h)
	dirPtr := *(*unsafe.Pointer)(unsafe.Add(h, 16))
	s.DirLen = *(*int)(unsafe.Add(h, 24))
	s.ClearSeq = *(*uint64)(unsafe.Add(h, 40))
	var last unsafe.Pointer
	for i := 0; i < s.DirLen; i++ {
		t := *(*unsafe.Pointer)(unsafe.Add(dirPtr, 8*i))
		if t == last {
			continue
		}
		last = t
		s.Tables++
		used := uint64(*(*uint16)(t))
		capacity := uint64(*(*uint16)(unsafe.Add(t, 2)))
		growthLeft := uint64(*(*uint16)(unsafe.Add(t, 4)))
		maxGrowth := capacity * 7 / 8
		if capacity <= 8 {
			maxGrowth = capacity - 1
		}
		s.Tombstones += int(maxGrowth - used - growthLeft)
	}
	return s
}

// writing reports whether a write to the map with header h is in progress (Map.writing, at
// 34: the third byte of the word at 32, read atomically so that a loop sees it change).
func writing(h unsafe.Pointer) bool {
	return atomic.LoadUint32((*uint32)(unsafe.Add(h, 32)))>>16&0xff != 0
}
