package callgrind

// clientRequest issues a valgrind client request; see request_amd64.s.
//
//go:noescape
func clientRequest(args *[6]uintptr, def uintptr) uintptr

// supported says whether this architecture has the request stub.
const supported = true
