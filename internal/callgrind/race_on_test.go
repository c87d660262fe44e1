//go:build race

package callgrind

// The race runtime's shadow memory does not run under valgrind.
const raceEnabled = true
