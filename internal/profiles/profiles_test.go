package profiles

import (
	"io"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/google/pprof/profile"

	"github.com/authbench/authbench/internal/flame"
	"github.com/authbench/authbench/internal/outfile"
	"github.com/authbench/authbench/internal/results"
)

// cpuProfile builds a valid CPU profile whose samples are (leaf-first
// frames, nanoseconds).
func cpuProfile(t *testing.T, samples map[string]int64) *profile.Profile {
	t.Helper()
	p := &profile.Profile{
		PeriodType: &profile.ValueType{Type: "cpu", Unit: "nanoseconds"}, Period: 2_000_000,
		SampleType: []*profile.ValueType{{Type: "samples", Unit: "count"}, {Type: "cpu", Unit: "nanoseconds"}},
	}
	funcs := map[string]*profile.Function{}
	for stack, ns := range samples {
		s := &profile.Sample{Value: []int64{ns / 2_000_000, ns}}
		for _, name := range strings.Split(stack, ";") {
			f := funcs[name]
			if f == nil {
				f = &profile.Function{ID: uint64(len(p.Function) + 1), Name: name, SystemName: name}
				funcs[name] = f
				p.Function = append(p.Function, f)
			}
			loc := &profile.Location{ID: uint64(len(p.Location) + 1), Line: []profile.Line{{Function: f}}}
			p.Location = append(p.Location, loc)
			s.Location = append(s.Location, loc)
		}
		p.Sample = append(p.Sample, s)
	}
	if err := p.CheckValid(); err != nil {
		t.Fatal(err)
	}
	return p
}

// saved writes a run's raw profile where the runner would and returns the
// run pointing at it.
func saved(t *testing.T, dir string, run results.Run, samples map[string]int64) results.Run {
	t.Helper()
	run.Profile = results.Layout{}.Profile(run.Scenario, run.Verifier, run.Repeat)
	p := cpuProfile(t, samples)
	if err := outfile.Write(filepath.Join(dir, filepath.FromSlash(run.Profile)), p.Write); err != nil {
		t.Fatal(err)
	}
	return run
}

func TestProcess(t *testing.T) {
	dir := t.TempDir()
	const variant = "steady/tokens=100" // a matrix variant: paths are slugged
	hash := map[string]int64{"github.com/authbench/authbench/impl/cryptpw.Verify;main": 80_000_000, "net/http.(*conn).serve": 20_000_000}
	cached := map[string]int64{"impl.(*cache).lookup;main": 10_000_000, "net/http.(*conn).serve": 10_000_000}
	run := func(v string, round int) results.Run {
		return results.Run{Scenario: variant, Verifier: v, Round: round, Repeat: round, Phase: results.PhaseConstant, Requests: 1000}
	}
	rusage := run("ttl", 1)
	rusage.CPUSource, rusage.CPUSecondsPer1kReq, rusage.ServerCPUSeconds = "rusage", 0.5, 0.5
	res := &results.File{Runs: []results.Run{
		saved(t, dir, run(results.ControlVerifier, 1), cached),
		saved(t, dir, run(results.BaselineVerifier, 1), hash),
		saved(t, dir, rusage, cached),
		saved(t, dir, run("ttl", 2), cached),
		saved(t, dir, run(results.BaselineVerifier, 2), hash),
		{Scenario: variant, Verifier: "ttl", Phase: results.PhaseKnee, KneeRPS: 900}, // no profile
	}}
	if err := Process(dir, res); err != nil {
		t.Fatal(err)
	}
	exists := func(rel string) {
		t.Helper()
		if rel == "" {
			t.Error("empty path recorded")
			return
		}
		if strings.Contains(rel, "=") || strings.Contains(rel, "tokens/") {
			t.Errorf("%s: variant name not slugged", rel)
		}
		if st, err := os.Stat(filepath.Join(dir, filepath.FromSlash(rel))); err != nil || st.Size() == 0 {
			t.Errorf("%s: %v", rel, err)
		}
	}
	for i, r := range res.Runs {
		if r.Profile == "" {
			if r.Folded != "" || r.Flamegraph != "" || r.DiffFlamegraphs != nil {
				t.Errorf("run %d without profile got outputs %+v", i, r)
			}
			continue
		}
		exists(r.Folded)
		exists(r.Flamegraph)
		exists(r.Speedscope)
		if want := (results.Layout{}).Speedscope(variant, r.Verifier, r.Repeat); r.Speedscope != want {
			t.Errorf("speedscope %s, want %s", r.Speedscope, want)
		}
		if r.CPUShare.Samples == 0 {
			t.Errorf("run %d: no shares", i)
		}
		// Only the cached verifier's earliest run carries the diff graphs.
		wantDiff := i == 2
		if (r.DiffFlamegraphs != nil) != wantDiff {
			t.Errorf("run %d (%s round %d): diff graphs %+v, want %v", i, r.Verifier, r.Round, r.DiffFlamegraphs, wantDiff)
		}
	}
	d := res.Runs[2].DiffFlamegraphs
	if d != nil {
		exists(d.Grown)
		exists(d.Shrunk)
		if want := (results.Layout{}).DiffFlamegraph(variant, "ttl", "grown"); d.Grown != want {
			t.Errorf("grown %s, want %s", d.Grown, want)
		}
	}
	if got := res.Runs[1].CPUShare.Crypt; got < 0.79 || got > 0.81 {
		t.Errorf("uncached crypt share %v, want 0.8", got)
	}
	// Server CPU time wins over profile samples; without it the profile
	// is the fallback and says so.
	if r := res.Runs[2]; r.CPUSource != "rusage" || r.CPUSecondsPer1kReq != 0.5 {
		t.Errorf("rusage cost overwritten: %s %v", r.CPUSource, r.CPUSecondsPer1kReq)
	}
	if r := res.Runs[1]; r.CPUSource != CPUSourceProfile || r.CPUSecondsPer1kReq != 0.1 {
		t.Errorf("profile fallback: %s %v, want profile 0.1 (100 ms / 1000 requests x 1000)", r.CPUSource, r.CPUSecondsPer1kReq)
	}
}

// TestProcessUnits: CPU profiles are nanoseconds, so neither the flame
// graph nor its speedscope file may call the values samples.
func TestProcessUnits(t *testing.T) {
	dir := t.TempDir()
	run := saved(t, dir, results.Run{Scenario: "s", Verifier: "ttl", Repeat: 1, Requests: 10}, map[string]int64{"main": 5_000_000})
	if err := Process(dir, &results.File{Runs: []results.Run{run}}); err != nil {
		t.Fatal(err)
	}
	for _, tc := range []struct{ rel, want, bad string }{
		{results.Layout{}.Speedscope("s", "ttl", 1), `"unit":"nanoseconds"`, `"unit":"none"`},
		{results.Layout{}.Flamegraph("s", "ttl", 1), "ms", "5000000 samples"},
	} {
		data, err := os.ReadFile(filepath.Join(dir, filepath.FromSlash(tc.rel)))
		if err != nil {
			t.Fatal(err)
		}
		if !strings.Contains(string(data), tc.want) || strings.Contains(string(data), tc.bad) {
			t.Errorf("%s: want %q and not %q", tc.rel, tc.want, tc.bad)
		}
	}
}

// TestProcessTicketDiffs: ticket strategies are diffed against
// ticket/uncached, never against the token baseline, and their names
// (with a '/') stay one path element.
func TestProcessTicketDiffs(t *testing.T) {
	dir := t.TempDir()
	pem := map[string]int64{"impl/ticket.ParseKey;main": 90_000_000, "net/http.(*conn).serve": 10_000_000}
	cached := map[string]int64{"impl/ticket.VerifyWith;main": 50_000_000, "net/http.(*conn).serve": 10_000_000}
	run := func(v string) results.Run {
		return results.Run{Scenario: "steady-ticket", Verifier: v, Round: 1, Repeat: 1, Requests: 100}
	}
	res := &results.File{Runs: []results.Run{
		saved(t, dir, run(results.BaselineVerifier), pem), // a token run in the same variant is ignored
		saved(t, dir, run(results.TicketBaselineVerifier), pem),
		saved(t, dir, run(results.TicketVerifier("mtime")), cached),
	}}
	if err := Process(dir, res); err != nil {
		t.Fatal(err)
	}
	d := res.Runs[2].DiffFlamegraphs
	if d == nil {
		t.Fatal("no diff graphs for ticket/mtime")
	}
	want := results.Layout{}.DiffFlamegraphVs("steady-ticket", "ticket/mtime", results.TicketBaselineVerifier, "grown")
	if d.Grown != want || strings.Count(want, "/") != 2 {
		t.Errorf("grown %s, want %s (flamegraphs/<slug>/<file>)", d.Grown, want)
	}
	for _, r := range res.Runs {
		for _, rel := range []string{r.Folded, r.Flamegraph, r.Speedscope} {
			if strings.Count(rel, "/") != 2 {
				t.Errorf("%s: not flamegraphs/<slug>/<file>", rel)
			}
		}
	}
	if res.Runs[1].DiffFlamegraphs != nil {
		t.Error("the ticket baseline got diff graphs against itself")
	}
}

func TestProcessBadProfile(t *testing.T) {
	for _, tc := range []struct {
		name string
		data []byte // nil: file absent
	}{
		{"missing", nil},
		{"garbage", []byte("not a profile")},
	} {
		t.Run(tc.name, func(t *testing.T) {
			dir := t.TempDir()
			run := results.Run{Scenario: "s", Verifier: "ttl", Repeat: 1, Profile: results.Layout{}.Profile("s", "ttl", 1)}
			if tc.data != nil {
				if err := outfile.Write(filepath.Join(dir, filepath.FromSlash(run.Profile)), func(w io.Writer) error { _, err := w.Write(tc.data); return err }); err != nil {
					t.Fatal(err)
				}
			}
			err := Process(dir, &results.File{Runs: []results.Run{run}})
			if err == nil || !strings.Contains(err.Error(), "s/ttl") {
				t.Errorf("err = %v, want an error naming the run", err)
			}
		})
	}
}

// TestSpeedscopeExt: results spells the suffix it cannot import.
func TestSpeedscopeExt(t *testing.T) {
	if results.SpeedscopeExt != flame.SpeedscopeExt {
		t.Errorf("results.SpeedscopeExt %q != flame.SpeedscopeExt %q", results.SpeedscopeExt, flame.SpeedscopeExt)
	}
}

// TestTicketShare splits samples by impl/ticket's phase label.
func TestTicketShare(t *testing.T) {
	p := cpuProfile(t, map[string]int64{"a": 40_000_000, "b": 30_000_000, "c": 20_000_000, "d": 10_000_000})
	phase := map[string]string{"a": "verify", "b": "pem", "c": "stat"}
	for _, s := range p.Sample {
		if ph, ok := phase[s.Location[0].Line[0].Function.Name]; ok {
			s.Label = map[string][]string{"phase": {ph}}
		}
	}
	got := ticketShare(p)
	want := results.TicketCPUShare{Verify: 0.4, PEM: 0.3, Stat: 0.2, Other: 0.1}
	if got == nil {
		t.Fatal("no share")
	}
	for _, c := range []struct {
		name      string
		got, want float64
	}{{"verify", got.Verify, want.Verify}, {"pem", got.PEM, want.PEM}, {"stat", got.Stat, want.Stat}, {"other", got.Other, want.Other}} {
		if d := c.got - c.want; d > 1e-9 || d < -1e-9 {
			t.Errorf("%s = %v, want %v", c.name, c.got, c.want)
		}
	}
	if ticketShare(&profile.Profile{SampleType: p.SampleType}) != nil {
		t.Error("share of an empty profile")
	}
}
