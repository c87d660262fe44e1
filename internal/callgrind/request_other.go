//go:build !amd64

package callgrind

// clientRequest is a no-op where no request stub exists: it returns the
// default, which is what a real CPU does with the magic sequence.
func clientRequest(_ *[6]uintptr, def uintptr) uintptr { return def }

const supported = false
