// Package loadgen drives token-authenticated HTTP load with the vegeta
// library: it reads and writes the tokens file, builds the Authorization
// header forms of PBS, PDM and PVE, generates a deterministic mix of valid,
// wrong-secret, unknown and malformed requests, runs constant-rate attacks
// with a discarded warm-up, searches the saturation knee and merges vegeta
// result files.
//
// The knee search (FindKnee) ramps geometrically, then bisects at the
// geometric midpoint of the last sustained and first failed rate until
// their ratio is at most 1.05, and records that bracket; it can start
// above a rate already shown sustained or verify an earlier bracket.
// GeneratorCeiling and CappedByGenerator define when a knee says more
// about the generator than about the server.
//
// Vegeta is an open model: requests are issued at the offered rate whether
// or not earlier ones have been answered. When workers are capped
// (Options.MaxWorkers) it silently sends fewer requests than offered, so
// every Result carries both the offered and the achieved rate and flags
// ShortOfTarget.
//
// Secrets only ever leave this package in the Authorization header of a
// request and in the tokens file written by WriteTokens; errors, result
// files and request kinds never contain them.
package loadgen
