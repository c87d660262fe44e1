package gaterun

import (
	"cmp"
	"errors"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"slices"
	"strings"

	"github.com/authbench/authbench/internal/analysis"
	"github.com/authbench/authbench/internal/gate"
	"github.com/authbench/authbench/internal/results"
)

// SavedRun is one point of a history: a saved run's commit, date and
// benchmark metrics (bench.txt and the microbenchmarks, if saved).
type SavedRun struct {
	Dir, Commit, Date string
	Samples           gate.Samples
}

// ReadRuns reads saved run directories (results.json + bench.txt, see
// internal/results) and orders them by the date in results.json.
func ReadRuns(dirs []string) ([]SavedRun, error) {
	if len(dirs) == 0 {
		return nil, errors.New("no run directories")
	}
	var out []SavedRun
	for _, d := range dirs {
		f, err := results.Read(d)
		if err != nil {
			return nil, fmt.Errorf("%s: %w", d, err)
		}
		if f.Env.Commit == "" || f.Env.Date == "" {
			return nil, fmt.Errorf("%s: results.json has no commit or date: cannot place it in a history", d)
		}
		paths := []string{filepath.Join(d, results.BenchFile)}
		if f.Microbench != "" {
			paths = append(paths, filepath.Join(d, f.Microbench))
		}
		var have []string
		for _, p := range paths {
			if _, err := os.Stat(p); err == nil {
				have = append(have, p)
			}
		}
		s, err := gate.ReadBenchFiles(have...)
		if err != nil {
			return nil, fmt.Errorf("%s: %w", d, err)
		}
		out = append(out, SavedRun{Dir: d, Commit: f.Env.Commit, Date: f.Env.Date, Samples: s})
	}
	// RFC 3339 UTC dates sort as strings.
	slices.SortStableFunc(out, func(a, b SavedRun) int { return cmp.Compare(a.Date, b.Date) })
	return out, nil
}

// Step is a change point found in a history.
type Step struct {
	Key gate.Key
	Run SavedRun // the first run of the new level
	gate.Change
}

// History finds the change points of every metric present in all runs
// (the median of each run's samples is its value) and prints, for each,
// the commit where the step begins.
func History(runs []SavedRun, opts gate.ChangeOptions, w io.Writer) ([]Step, error) {
	common := map[gate.Key]bool{}
	for k := range runs[0].Samples {
		common[k] = true
	}
	all := map[gate.Key]bool{}
	for _, r := range runs {
		for k := range r.Samples {
			all[k] = true
		}
		for k := range common {
			if _, ok := r.Samples[k]; !ok {
				delete(common, k)
			}
		}
	}
	keys := make([]gate.Key, 0, len(common))
	for k := range common {
		keys = append(keys, k)
	}
	slices.SortFunc(keys, func(a, b gate.Key) int { return cmp.Or(cmp.Compare(a.Name, b.Name), cmp.Compare(a.Unit, b.Unit)) })
	series := make([][]float64, len(keys))
	for i, k := range keys {
		for _, r := range runs {
			series[i] = append(series[i], analysis.Median(r.Samples[k]))
		}
	}
	o := opts
	if o.MinSegment <= 0 {
		o.MinSegment = 3
	}
	fmt.Fprintf(w, "history: %d runs (%s … %s), %d metrics in every run (%d others skipped); min segment %d, spike filter median of 3, min effect %g %%, false-discovery rate %g\n",
		len(runs), runs[0].Date, runs[len(runs)-1].Date, len(keys), len(all)-len(keys), o.MinSegment, 100*cmp.Or(o.MinEffect, 0.05), cmp.Or(o.Alpha, 0.05))
	if len(runs) < 2*o.MinSegment {
		fmt.Fprintf(w, "undecidable: %d runs, a step needs %d on each side\n", len(runs), o.MinSegment)
		return nil, nil
	}
	var steps []Step
	for i, cs := range gate.ChangePoints(series, opts) {
		for _, c := range cs {
			steps = append(steps, Step{Key: keys[i], Run: runs[c.Index], Change: c})
		}
	}
	slices.SortStableFunc(steps, func(a, b Step) int { return a.Index - b.Index })
	var b strings.Builder
	for _, s := range steps {
		fmt.Fprintf(&b, "step at %s (%s, %s): %s ×%.3f [%.3f, %.3f] (%d runs before, %d after)\n",
			s.Run.Commit, s.Run.Date, s.Run.Dir, s.Key, s.Ratio, s.Lo, s.Hi, s.NBefore, s.NAfter)
	}
	fmt.Fprintf(&b, "%d step(s) in %d metrics\n", len(steps), len(keys))
	_, err := io.WriteString(w, b.String())
	return steps, err
}
