package runner

import (
	"reflect"
	"testing"

	"github.com/authbench/authbench/impl"
	"github.com/authbench/authbench/internal/results"
	"github.com/authbench/authbench/internal/server"
)

// TestCountersMapEveryField checks that every impl.Stats counter reaches
// results.VerifierStats, in the total and per process: a counter added to
// impl but not mapped would read as zero in every report.
func TestCountersMapEveryField(t *testing.T) {
	// Distinct values per field, so a swapped mapping shows too.
	stats := func(base uint64) impl.Stats {
		var s impl.Stats
		v := reflect.ValueOf(&s).Elem()
		for i := range v.NumField() {
			v.Field(i).SetUint(base + uint64(i+1))
		}
		return s
	}
	want := func(s impl.Stats) results.VerifierStats {
		return results.VerifierStats{Fast: s.Fast, Slow: s.Slow, Fallback: s.Fallback, Resets: s.Resets,
			Stats: s.Stat, Rejected: s.Rejected, Negative: s.Negative, Shared: s.Shared}
	}
	if n, m := reflect.TypeFor[impl.Stats]().NumField(), reflect.TypeFor[results.VerifierStats]().NumField(); n != m {
		t.Fatalf("impl.Stats has %d counters, results.VerifierStats %d: map the new ones", n, m)
	}
	for _, tc := range []struct {
		name          string
		before, after []impl.Stats
		total         impl.Stats
		perProcess    bool
	}{
		{"one process", []impl.Stats{stats(0)}, []impl.Stats{stats(100)}, stats(100).Sub(stats(0)), false},
		{"two processes", []impl.Stats{stats(0), stats(10)}, []impl.Stats{stats(100), stats(1000)},
			stats(100).Sub(stats(0)).Add(stats(1000).Sub(stats(10))), true},
	} {
		t.Run(tc.name, func(t *testing.T) {
			var before, after []server.Stats
			for i := range tc.before {
				before = append(before, server.Stats{Verify: tc.before[i]})
				after = append(after, server.Stats{Verify: tc.after[i]})
			}
			w := &window{c: &cell{name: "fresh"}, before: before}
			var run results.Run
			w.counters(&run, after)
			if got := run.VerifierStats; got != want(tc.total) {
				t.Errorf("total %+v, want %+v", got, want(tc.total))
			}
			for i, f := range reflect.VisibleFields(reflect.TypeFor[results.VerifierStats]()) {
				if reflect.ValueOf(run.VerifierStats).Field(i).Uint() == 0 {
					t.Errorf("total %s is zero", f.Name)
				}
			}
			if !tc.perProcess {
				if run.PerProcess != nil {
					t.Errorf("per_process %+v for one process", run.PerProcess)
				}
				return
			}
			if len(run.PerProcess) != len(tc.after) {
				t.Fatalf("per_process has %d entries, want %d", len(run.PerProcess), len(tc.after))
			}
			for i := range tc.after {
				if got, w := run.PerProcess[i], want(tc.after[i].Sub(tc.before[i])); got != w {
					t.Errorf("process %d: %+v, want %+v", i, got, w)
				}
			}
		})
	}
}
