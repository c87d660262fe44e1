// Package profiles is the stage after measurement: it reads the raw CPU
// profiles a run saved (results.json's `profile` paths) and writes folded
// stacks, their speedscope form, SVG flame graphs (values in the profile's
// unit) and, per variant, differential flame graphs of every other
// measured verifier against the baseline (uncached; ticket/uncached for
// ticket strategies) in both directions. It fills each run's cpu_share buckets, the profile-derived
// CPU cost where the server's own CPU time is missing (cpu_source
// "profile"), and records every path it wrote in the results, built with
// results.Layout so that readers never rebuild them.
package profiles

import (
	"fmt"
	"io"
	"path/filepath"

	"github.com/google/pprof/profile"

	"github.com/authbench/authbench/internal/flame"
	"github.com/authbench/authbench/internal/outfile"
	"github.com/authbench/authbench/internal/results"
)

// CPUSourceProfile marks a cpu_s_per_1k_req derived from profile samples.
const CPUSourceProfile = "profile"

// Process post-processes every run of res that has a profile, in place,
// with paths relative to dir (the run directory). A run whose profile
// cannot be read is an error naming it: a missing artefact must not pass
// as an empty graph.
func Process(dir string, res *results.File) error {
	type first struct {
		run    int // index into res.Runs
		stacks []flame.Stack
		unit   string
	}
	// Per variant, each verifier's earliest profiled run: the diff graphs
	// compare like with like (first round, first window).
	firsts := map[string]map[string]first{}
	var variants []string
	for i := range res.Runs {
		run := &res.Runs[i]
		if run.KneeProfile != "" {
			if err := kneeShare(dir, run); err != nil {
				return fmt.Errorf("%s/%s knee round %d: %w", run.Scenario, run.Verifier, run.Round, err)
			}
		}
		if run.Profile == "" {
			continue
		}
		stacks, unit, err := process(dir, run)
		if err != nil {
			return fmt.Errorf("%s/%s repeat %d: %w", run.Scenario, run.Verifier, run.Repeat, err)
		}
		byV, ok := firsts[run.Scenario]
		if !ok {
			byV = map[string]first{}
			firsts[run.Scenario] = byV
			variants = append(variants, run.Scenario)
		}
		if f, ok := byV[run.Verifier]; !ok || earlier(run, &res.Runs[f.run]) {
			byV[run.Verifier] = first{i, stacks, unit}
		}
	}
	for _, variant := range variants {
		byV := firsts[variant]
		for v, f := range byV {
			if v == results.BaselineVerifier || v == results.TicketBaselineVerifier || v == results.ControlVerifier || v == results.ControlCopyVerifier {
				continue
			}
			baseline := results.BaselineVerifier
			if _, ok := results.TicketStrategy(v); ok {
				baseline = results.TicketBaselineVerifier
			}
			basis, ok := byV[baseline]
			if !ok {
				continue
			}
			d, err := diffs(dir, variant, v, baseline, basis.stacks, f.stacks, f.unit)
			if err != nil {
				return err
			}
			res.Runs[f.run].DiffFlamegraphs = d
		}
	}
	return nil
}

// earlier orders runs by round, then repeat.
func earlier(a, b *results.Run) bool {
	if a.Round != b.Round {
		return a.Round < b.Round
	}
	return a.Repeat < b.Repeat
}

// process writes one run's folded stacks, their speedscope form and the
// flame graph, fills its shares (and CPU cost, if the runner had no CPU
// time for it) and returns the stacks with their unit.
func process(dir string, run *results.Run) ([]flame.Stack, string, error) {
	p, err := flame.LoadProfile(filepath.Join(dir, filepath.FromSlash(run.Profile)))
	if err != nil {
		return nil, "", err
	}
	unit := flame.SampleUnit(p, -1)
	if br, err := flame.Shares(p, flame.DefaultClassifier()); err == nil {
		run.CPUShare = share(p, br, run.ServerCPUSeconds)
		if run.CPUSource == "" && br.Unit == "nanoseconds" && run.Requests > 0 {
			run.CPUSecondsPer1kReq = float64(br.Total) / 1e9 / float64(run.Requests) * 1000
			run.CPUSource = CPUSourceProfile
		}
	}
	if _, ok := results.TicketStrategy(run.Verifier); ok {
		run.TicketCPUShare = ticketShare(p)
	}
	stacks := flame.Folded(p, -1)
	l := results.Layout{}
	run.Folded = l.Folded(run.Scenario, run.Verifier, run.Repeat)
	if err := write(dir, run.Folded, func(w io.Writer) error { return flame.WriteFolded(w, stacks) }); err != nil {
		return nil, "", err
	}
	title := fmt.Sprintf("%s — %s (round %d, window %d)", run.Scenario, run.Verifier, run.Round, run.Repeat)
	run.Speedscope = l.Speedscope(run.Scenario, run.Verifier, run.Repeat)
	if err := write(dir, run.Speedscope, func(w io.Writer) error { return flame.WriteSpeedscope(w, stacks, title, unit) }); err != nil {
		return nil, "", err
	}
	run.Flamegraph = l.Flamegraph(run.Scenario, run.Verifier, run.Repeat)
	if err := write(dir, run.Flamegraph, func(w io.Writer) error {
		return flame.RenderSVG(w, stacks, flame.Options{Title: title, Unit: unit})
	}); err != nil {
		return nil, "", err
	}
	return stacks, unit, nil
}

// ticketShare splits p's samples by impl/ticket's pprof label phase
// (verify, pem, stat); nil without samples.
func ticketShare(p *profile.Profile) *results.TicketCPUShare {
	idx := flame.DefaultSampleIndex(p)
	if idx < 0 {
		return nil
	}
	var total, verify, pem, stat int64
	for _, s := range p.Sample {
		v := s.Value[idx]
		total += v
		switch ph := s.Label["phase"]; {
		case len(ph) == 0:
		case ph[0] == "verify":
			verify += v
		case ph[0] == "pem":
			pem += v
		case ph[0] == "stat":
			stat += v
		}
	}
	if total <= 0 {
		return nil
	}
	f := func(v int64) float64 { return float64(v) / float64(total) }
	return &results.TicketCPUShare{Verify: f(verify), PEM: f(pem), Stat: f(stat), Other: f(total - verify - pem - stat)}
}

// diffs renders verifier against baseline, both ways.
func diffs(dir, variant, verifier, baseline string, basis, stacks []flame.Stack, unit string) (*results.DiffFlamegraphs, error) {
	out := &results.DiffFlamegraphs{}
	for _, d := range []flame.Direction{flame.Grown, flame.Shrunk} {
		rel := results.Layout{}.DiffFlamegraphVs(variant, verifier, baseline, d.String())
		title := fmt.Sprintf("%s: %s vs %s (%s)", variant, verifier, baseline, d)
		if err := write(dir, rel, func(w io.Writer) error {
			return flame.RenderDiffSVG(w, basis, stacks, flame.Options{Title: title, Direction: d, Unit: unit})
		}); err != nil {
			return nil, err
		}
		if d == flame.Grown {
			out.Grown = rel
		} else {
			out.Shrunk = rel
		}
	}
	return out, nil
}

func write(dir, rel string, fn func(io.Writer) error) error {
	return outfile.Write(filepath.Join(dir, filepath.FromSlash(rel)), fn)
}

// share is a profile's buckets with the number of samples they rest on:
// the sum of the profile's sample counts (a pprof CPU profile merges
// identical stacks into one sample with a count, so len(p.Sample) would
// undercount), and the rate the profile really recorded: samples per
// second of the server's own CPU time when the runner measured it
// (cpuSeconds > 0), else the rate the profile states (1 s / period).
func share(p *profile.Profile, br flame.Breakdown, cpuSeconds float64) results.CPUShare {
	n := flame.SampleCount(p)
	cs := results.CPUShare{Crypt: br.Fraction("crypt"), ShadowRead: br.Fraction("shadow_read"), Stat: br.Fraction("stat"), Other: br.Fraction(flame.OtherBucket), Samples: n}
	switch {
	case cpuSeconds > 0 && n > 0:
		cs.ProfileHz = float64(n) / cpuSeconds
	case p.Period > 0 && p.PeriodType != nil && p.PeriodType.Unit == "nanoseconds":
		cs.ProfileHz = 1e9 / float64(p.Period)
	}
	return cs
}

// kneeShare fills a knee search's pooled share from its sustained steps'
// merged profile (no flame graphs: the window's graphs show the stacks).
func kneeShare(dir string, run *results.Run) error {
	p, err := flame.LoadProfile(filepath.Join(dir, filepath.FromSlash(run.KneeProfile)))
	if err != nil {
		return err
	}
	br, err := flame.Shares(p, flame.DefaultClassifier())
	if err != nil {
		return err
	}
	cs := share(p, br, 0)
	run.KneeCPUShare = &cs
	return nil
}
