#include "textflag.h"

// func clientRequest(args *[6]uintptr, def uintptr) uintptr
//
// Valgrind's amd64 client-request preamble: RDI is rotated by 3+13+61+51 =
// 128 bits (unchanged), then xchg %rbx,%rbx. Under valgrind the request
// block is read from RAX and the result returned in RDX; on a real CPU RDX
// keeps the default.
TEXT ·clientRequest(SB), NOSPLIT, $0-24
	MOVQ args+0(FP), AX
	MOVQ def+8(FP), DX
	ROLQ $3, DI
	ROLQ $13, DI
	ROLQ $61, DI
	ROLQ $51, DI
	XCHGQ BX, BX
	MOVQ DX, ret+16(FP)
	RET
