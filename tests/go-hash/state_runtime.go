//go:build !go1.27

package main

import _ "unsafe" // go:linkname

// Go 1.19–1.26 keep the map hash state in package runtime.

//go:linkname useAeshash runtime.useAeshash
var useAeshash bool

//go:linkname aeskeysched runtime.aeskeysched
var aeskeysched [128]byte

//go:linkname hashkey runtime.hashkey
var hashkey [4]uintptr

const stateSymbols = "runtime.useAeshash runtime.aeskeysched runtime.hashkey"
