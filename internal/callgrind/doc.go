// Package callgrind lets a Go program talk to valgrind's callgrind tool and
// reads what callgrind wrote, so that a benchmark can be measured in
// executed instructions with its setup excluded.
//
// The client requests (Running, Window) are valgrind's "magic sequence": a
// few rotate instructions that are no-ops on a real CPU and that valgrind's
// JIT recognises. They are emitted from a tiny assembly stub on amd64;
// elsewhere they are no-ops and Running reports false. Outside valgrind
// they cost a handful of instructions and do nothing.
//
// A Window turns instrumentation on (START_INSTRUMENTATION, with
// --instr-atstart=no nothing before it is counted), zeroes the counters and,
// when closed, dumps them (DUMP_STATS_AT) under a label that carries the
// number of operations the window ran, then turns instrumentation off
// again. ReadDumps parses those dump files back into per-label instruction
// counts. Go's stack switching makes callgrind's --toggle-collect by
// function name unreliable; explicit windows are exact run to run.
package callgrind
