//go:build !race

package callgrind

const raceEnabled = false
