//go:build go1.27

package main

import _ "unsafe" // go:linkname

// Go 1.27 moved the map hash state to internal/runtime/maps.

//go:linkname useAeshash internal/runtime/maps.UseAeshash
var useAeshash bool

//go:linkname aeskeysched internal/runtime/maps.aeskeysched
var aeskeysched [128]byte

//go:linkname hashkey internal/runtime/maps.hashkey
var hashkey [4]uintptr

const stateSymbols = "internal/runtime/maps.UseAeshash internal/runtime/maps.aeskeysched internal/runtime/maps.hashkey"
