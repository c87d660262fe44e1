// Package report renders a run's results.json as report.md (for GitHub) and
// index.html (self-contained: inline CSS, images embedded as data: URIs).
//
// The report answers the question a reader brings first: one headline row
// per verifier (hit-path cost, server CPU per request and throughput as
// ratios to the no-auth control and to uncached with their intervals, the
// measured staleness per event class next to the declared bound, the
// invalid-flood crypt share) and the trade-off chart. Interruptions, failed
// revocation checks and missed or inconclusive targets are listed above it
// with their reasons; passes are collapsed. Each scenario follows in a
// collapsible section headed by its question. Every file the report links
// is one results.json names; nothing is rebuilt from names. The numbers
// come from internal/analysis.
package report
