// Empty: lets this package declare go:linkname functions without bodies.
