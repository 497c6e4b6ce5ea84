// Empty on purpose: it lets the Go files declare runtime functions without bodies
// (go:linkname), which the Go compiler only accepts in a package with a .s file.
