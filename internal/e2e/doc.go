// Package e2e holds end-to-end tests that run whole benchmark suites and
// check properties of everything they write. Its only code is tests: the
// secret-hygiene audit runs a tiny scenario (in this process and through
// the bench binary with child server processes), writes the full report,
// and scans every output file — decompressing gzip streams such as pprof
// profiles first — for every token secret the run created, raw,
// percent-encoded and base64-encoded at every byte alignment.
package e2e
