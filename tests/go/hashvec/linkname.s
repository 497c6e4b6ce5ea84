// Empty on purpose: it lets main.go declare runtime functions without bodies
// (go:linkname), which the Go compiler only accepts in a package with a .s file.
