//go:build race

package cryptpw

// raceEnabled: the race detector slows yescrypt about tenfold, so tests
// skip the memory-hungry yescrypt cases under -race (they run without it).
const raceEnabled = true
