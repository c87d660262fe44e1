// Package analysis turns a results.File into the numbers the report, the
// plots, `bench compare` and the gate state: which runs are comparable
// (configs, load points, reference rates), knees, ratios with intervals,
// the A/A noise floor and three-valued target verdicts. It reads saved
// results only and draws nothing.
//
// # Intervals
//
// Every ratio (verifier to the no-auth control, to uncached; CPU per
// request, knee, p99) is a Hodges–Lehmann estimate on the log scale with a
// distribution-free interval:
//
//   - Paired, when both sides were measured in the same interleaved rounds
//     (Run.Round): the per-round log ratios, their Walsh averages and the
//     exact Wilcoxon signed-rank interval.
//   - Unpaired, for older files without rounds: all pairwise log
//     differences of the repeats and the exact Mann–Whitney interval.
//
// The interval is the narrowest order-statistic interval with coverage of
// at least 95 %; with too few rounds for that (fewer than 6 paired) it is
// the widest one, the range of the Walsh averages, and its actual coverage
// is reported (75 % at 3 rounds, 87.5 % at 4, 93.75 % at 5). With a single
// round or repeat there is no interval and the report says "n/a (1 round)".
// Knees are the median of the repeated searches with their min–max.
//
// # Noise floor and verdicts
//
// The control is measured twice per round (results.ControlVerifier and
// results.ControlCopyVerifier); the copy-to-control interval of each metric
// is the run's noise floor (±x %, the larger distance of its ends from 1).
// A ratio is indistinguishable from the control (≈) only when its whole
// interval lies inside the floor, different when it lies wholly beyond,
// and unclear otherwise: the same whole-interval rule as the targets, so
// a mark never contradicts a verdict.
//
// Targets are the entries of gate/thresholds.yaml checked by the report
// (internal/targets; the gate reads the same file). A target is met when
// the whole interval is on the right side of the threshold, missed when
// it is wholly on the wrong side, inconclusive when it straddles, and
// unresolved when the measurement is coarser than the entry's resolution
// (too few profile samples per window, an A/A floor or knee bracket wider
// than the margin, one round) or undecidable when the reference is itself
// a bound (a capped knee search). Only the first three are results; sanity
// entries (harness checks) are returned apart (Summary.Sanity).
//
// # Microbenchmarks and staleness
//
// Hit-path microbenchmarks are summarised as benchstat does (Bench: the
// median with benchmath's distribution-free 95 % interval, and n).
// Staleness per event is what a user needs: old-secret requests accepted
// after the change, the time to the lasting rejection and the probe
// spacing that bounds it (EventOf, revocation.Probes).
package analysis
