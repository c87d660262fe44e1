// Package report renders a run's results.json as report.md (for GitHub,
// with per-scenario detail in scenarios/<slug>.md) and index.html
// (self-contained: inline CSS, images embedded as data: URIs, the same
// detail in collapsed sections). Both render from one document model.
//
// The report opens on a verdict block: one sentence per question the
// suite answers (which verifier for which staleness budget, whether HTTP
// cost separates them, what the peer costs, whether the double rotation
// reproduces, and the regression gate's answer when one is passed in),
// each computed from the run with its number, interval and n, or saying
// what data is missing. Then interruptions, failed revocation checks and
// the decidable targets that were missed or inconclusive; then the
// headline (seven short columns: hit path, CPU × uncached, req/s × no-auth
// and staleness per kind of change) and the trade-off chart.
//
// Targets come from gate/thresholds.yaml through internal/analysis and
// internal/targets, the file the gate reads; each line states the
// resolution it needs and the one reached. Undecidable and unresolved
// targets and the harness's sanity checks are listed apart and never
// counted. Every file the report links is one results.json names and that
// exists; CheckLinks verifies a written report dir. The numbers come from
// internal/analysis.
package report
