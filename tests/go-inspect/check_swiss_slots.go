//go:build (goexperiment.swissmap || go1.26) && !go1.27

package main

import "unsafe"

// slotLayout is where a group's keys and elems are: key i at keysOff + i*keyStride.
type slotLayout struct {
	keysOff, keyStride, elemsOff, elemStride uintptr
}

// slotsOf reads it from the map type (Go 1.24–1.26: SlotSize at 88 and ElemOff at 96; the
// slots follow the 8 control bytes).
func slotsOf(mt unsafe.Pointer) slotLayout {
	slot := *(*uintptr)(unsafe.Add(mt, 88))
	return slotLayout{8, slot, 8 + *(*uintptr)(unsafe.Add(mt, 96)), slot}
}
