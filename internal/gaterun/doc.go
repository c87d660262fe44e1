// Package gaterun runs `bench gate`'s measurements: it builds the two sides
// once, measures them in interleaved rounds (min of k short samples per
// round for wall and CPU time, exact instruction counts under valgrind's
// callgrind), compares them with internal/gate, and runs the calibration
// trials (A/A false alarms and detection of an injected slowdown, quiet or
// beside a noisy neighbour) and writes their tables as JSON and Markdown.
//
// It also runs the semantic gate (Semantic) and the file comparison
// (Files), so that cmd/bench keeps only the flags, the exit codes and the
// wiring; the statistics live in internal/gate. Everything that touches the outside world (git,
// the Go toolchain, test binaries, valgrind, the neighbour process) goes
// through an Env, so tests run the whole flow without building anything.
package gaterun
