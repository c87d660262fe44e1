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
// A verifier differs from the control only when its whole interval lies
// beyond that floor. Targets are met when the whole interval is on the
// right side of the threshold, missed when it is wholly on the wrong side,
// and inconclusive otherwise.
package analysis
