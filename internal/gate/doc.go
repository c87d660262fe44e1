// Package gate is the statistical core of authbench's CI performance
// regression gate.
//
// It reads Go benchmark output (ReadBench, ReadBenchFiles), compares a base
// and a candidate build metric by metric (Compare), and checks semantic
// invariants of a results.json against a versioned thresholds file
// (CheckSemantic). Calibration helpers (Calibrate, DetectionRate,
// RecommendN, MinDetectableEffect) simulate the gate on lognormal noise so
// the number of interleaved A/B rounds can be chosen from a measured noise
// level instead of guessed.
//
// # Method
//
// For each (benchmark, unit) the effect is the Hodges–Lehmann estimate of
// the shift of log values: the median of all n·m pairwise differences
// log(cand_j) − log(base_i), reported as the ratio cand/base. Its confidence
// interval is the distribution-free one obtained by inverting the
// Mann–Whitney test: the k-th smallest and k-th largest pairwise
// differences, with k from the exact null distribution of U (normal
// approximation with continuity correction once n·m > 2500). This is the
// default, and the only method, because it is deterministic (a gate that
// flips with a bootstrap seed is hard to trust), has exact coverage for a
// pure shift under any continuous noise distribution, and unlike a
// percentile bootstrap it does not under-cover at the n = 10..20 a CI job
// can afford. Working on logs makes the effect a ratio, which is what
// benchmark noise and slowdowns multiply by.
//
// A metric is a Regression only when the whole interval lies beyond
// ±log(1+MinEffect) in the unit's worse direction, an Improvement when it
// lies wholly beyond in the better direction, NoChange when it lies wholly
// inside, and Inconclusive otherwise. Tied values (integer counts such as
// allocs/op) make the interval conservative, never anti-conservative;
// metrics whose values are all one constant on both sides are NoChange.
//
// # Multiple comparisons
//
// Each metric's decision is the two-sided test "|shift| ≤ log(1+MinEffect)"
// whose p-value is read off the same U distribution, so that p ≤ a exactly
// when the 1−a interval lies beyond the minimum effect. Holm–Bonferroni is
// applied to those p-values across all metrics of one comparison, and each
// metric's interval is printed at the level Holm used for it: a/(M−r) for
// the metric of rank r, or the level at which the step-down stopped for all
// later ranks. Verdict and printed interval therefore always agree.
package gate
