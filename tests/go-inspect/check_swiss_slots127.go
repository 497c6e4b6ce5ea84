//go:build go1.27

package main

import "unsafe"

// slotLayout is where a group's keys and elems are: key i at keysOff + i*keyStride.
type slotLayout struct {
	keysOff, keyStride, elemsOff, elemStride uintptr
}

// slotsOf reads it from the map type (Go 1.27: KeysOff, KeyStride, ElemsOff and ElemStride at
// 88, 96, 104 and 112, for both group layouts).
func slotsOf(mt unsafe.Pointer) slotLayout {
	at := func(off uintptr) uintptr { return *(*uintptr)(unsafe.Add(mt, off)) }
	return slotLayout{at(88), at(96), at(104), at(112)}
}
