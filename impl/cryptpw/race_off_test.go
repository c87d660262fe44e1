//go:build !race

package cryptpw

const raceEnabled = false
