// Package store holds a map under a full import path (gomap.test/inspect/store.ByName), for
// `map-inspect dump gomap.test/inspect/store.ByName`.
package store

// ByName is filled by Fill.
var ByName map[string]uint16

// Fill makes ByName with n entries.
func Fill(n int) {
	ByName = make(map[string]uint16)
	for i := 0; i < n; i++ {
		ByName["k"+string(rune('a'+i%26))+string(rune('a'+i/26))] = uint16(i * 3)
	}
}
