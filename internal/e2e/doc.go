// Package e2e holds end-to-end tests that run whole benchmark suites the
// way `bench run` does (runner, profile stage, report) and check
// properties of everything they write. Its only code is tests: the
// secret-hygiene audit runs a tiny scenario (through the bench binary with
// child server processes; with -short, in this process), writes the full
// report, and scans every file the run wrote wherever it landed — decompressing
// gzip streams such as pprof profiles first — for every token secret the
// run created, raw, percent-encoded and base64-encoded at every byte
// alignment; a ticket scenario gets the same audit for every ticket it
// sent and a line of each private auth key. Further tests check that the diff flame graphs of matrix
// variants exist where results.json says, that an interrupted run
// keeps its finished runs and leaves no server process behind, and that an
// interrupted cluster scenario leaves no FUSE mount and no node behind.
package e2e
