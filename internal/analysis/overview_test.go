package analysis

import (
	"strings"
	"testing"

	"github.com/authbench/authbench/internal/results"
)

func TestClassOf(t *testing.T) {
	t.Parallel()
	tests := []struct {
		event string
		want  EventClass
		ok    bool
	}{
		{"api-rotate:self:bench@pbs!t0", ClassAPISelf, true},
		{"api-revoke:other:bench@pbs!t1", ClassAPIOther, true},
		{"api-revoke:bench@pbs!t1", ClassAPISelf, true},
		{"manual-edit:bench@pbs!t0", ClassManualEdit, true},
		{"coarse-mtime:bench@pbs!t0", ClassManualEdit, true},
		{"stale-stat:bench@pbs!t0", ClassManualEdit, true},
		{"manual-restore:bench@pbs!t0", ClassRestore, true},
		{"api-add:self:new@pbs!x", "", false},
		{"something-else", "", false},
	}
	for _, tc := range tests {
		if got, ok := ClassOf(tc.event); got != tc.want || ok != tc.ok {
			t.Errorf("ClassOf(%q) = %q, %v; want %q, %v", tc.event, got, ok, tc.want, tc.ok)
		}
	}
}

func TestStalenessOf(t *testing.T) {
	t.Parallel()
	f := &results.File{Revocations: []results.Revocation{
		{Verifier: "ttl", Event: "manual-edit:a", TimeToRejectMS: ptr(1200), BoundMS: ptr(2000), Pass: true},
		{Verifier: "ttl", Event: "coarse-mtime:a", TimeToRejectMS: ptr(1800), BoundMS: ptr(2000), Pass: true},
		{Verifier: "ttl", Event: "manual-restore:a", Pass: true},
		{Verifier: "mtime", Event: "api-rotate:other:a", TimeToRejectMS: ptr(3), BoundMS: ptr(0), Pass: false},
	}}
	s := StalenessOf(f)
	if e := s["ttl"][ClassManualEdit]; e.N != 2 || e.WorstMS != 1800 || e.BoundMS != 2000 || e.Never || e.Unbounded {
		t.Errorf("ttl manual edits %+v", e)
	}
	if r := s["ttl"][ClassRestore]; !r.Never || !r.Unbounded {
		t.Errorf("ttl restore %+v: want never rejected, unbounded", r)
	}
	if o := s["mtime"][ClassAPIOther]; o.Failed != 1 || o.WorstMS != 3 {
		t.Errorf("mtime other-process %+v", o)
	}
	if ms, never, ok := WorstFileEdit(s["ttl"]); !ok || !never || ms != 1800 {
		t.Errorf("WorstFileEdit(ttl) = %v, %v, %v", ms, never, ok)
	}
	if _, _, ok := WorstFileEdit(s["mtime"]); ok {
		t.Error("mtime has no file edits measured")
	}
}

func TestHitPath(t *testing.T) {
	t.Parallel()
	in := `goos: linux
pkg: github.com/authbench/authbench/impl
BenchmarkVerify/ttl/hit-2         	  200	       612.0 ns/op	       598.0 cpu-ns/op
BenchmarkVerify/ttl/hit-2         	  200	       640.0 ns/op	       601.0 cpu-ns/op
BenchmarkVerify/ttl/hit-2         	  200	       600.0 ns/op	       590.0 cpu-ns/op
BenchmarkVerify/ttl/wrong-secret-2	  200	   3300000 ns/op
BenchmarkVerify/uncached/hit-2    	  200	   3400000 ns/op
BenchmarkUncachedShadowSize/tokens=10-2 200 100 ns/op
`
	got, err := HitPath(strings.NewReader(in), "bench-go.txt")
	if err != nil {
		t.Fatal(err)
	}
	// Three runs: benchstat's median, but too few for a 95 % interval.
	if s := got["ttl"]; s.N != 3 || s.Median != 612 || s.HasInterval() || s.Warning == "" {
		t.Errorf("ttl hit %+v", s)
	}
	if s := got["uncached"]; s.N != 1 || s.Median != 3.4e6 {
		t.Errorf("uncached hit %+v", s)
	}
	if len(got) != 2 {
		t.Errorf("verifiers %v, want ttl and uncached only", got)
	}
}

// TestBenchOf pins the microbenchmark summary to benchstat's: the median
// with the order-statistic interval of at least 95 % at n = 10.
func TestBenchOf(t *testing.T) {
	t.Parallel()
	xs := []float64{31, 32, 32, 33, 32, 31, 63, 32, 33, 32}
	b := BenchOf(xs)
	if b.N != 10 || b.Median != 32 || !b.HasInterval() || b.Lo != 31 || b.Hi != 33 || b.Warning != "" {
		t.Errorf("BenchOf = %+v, want median 32 [31, 33] at ≥ 95 %% (the 63 ns outlier outside)", b)
	}
	if b := BenchOf([]float64{10, 11}); b.N != 2 || b.HasInterval() || b.Lo != 10 || b.Hi != 11 {
		t.Errorf("two runs: %+v, want no interval, min and max", b)
	}
}

func TestBuildOverview(t *testing.T) {
	t.Parallel()
	f := roundsFile("steady/tokens=100")
	for i := range f.Runs {
		f.Runs[i].Target = true
	}
	other := roundsFile("steady/tokens=1")
	for _, r := range other.Runs {
		if r.Round == 1 { // one round only: fewer intervals, not the headline
			f.Runs = append(f.Runs, r)
		}
	}
	f.Revocations = []results.Revocation{{Scenario: "edit", Verifier: "ttl-ctime", Event: "manual-edit:a", TimeToRejectMS: ptr(5), Pass: true}}
	ov := BuildOverview(f, Summarize(f, Options{}), map[string]Bench{"ttl": {Median: 600, Lo: 590, Hi: 640, N: 3}})
	if ov.Scenario != "steady/tokens=100" {
		t.Errorf("headline scenario %q, want the target one", ov.Scenario)
	}
	var names []string
	for _, r := range ov.Rows {
		names = append(names, r.Verifier)
	}
	if got, want := strings.Join(names, " "), "noauth noauth-aa uncached generation mtime ttl ttl-ctime"; got != want {
		t.Errorf("rows %q, want %q (registry order, staleness-only verifiers included)", got, want)
	}
	for _, r := range ov.Rows {
		switch r.Verifier {
		case "uncached":
			if r.CPUDiff.Kind != Higher || !r.CPUVsControl.HasRange() {
				t.Errorf("uncached CPU vs control %+v %v", r.CPUVsControl, r.CPUDiff)
			}
		case "ttl":
			if r.HitNS.Median != 600 || r.Family != "pbs" {
				t.Errorf("ttl row %+v", r)
			}
		case "ttl-ctime":
			if r.Staleness[ClassManualEdit].WorstMS != 5 || r.Family != "ours" {
				t.Errorf("ttl-ctime row %+v", r)
			}
		}
	}
}

// TestGroups: a namespaced verifier ("ticket/mtime") is compared against
// its own group's baseline and gets its own headline table.
func TestGroups(t *testing.T) {
	t.Parallel()
	for v, want := range map[string]string{"ttl": "uncached", "ticket/mtime": "ticket/uncached", "ticket/uncached": "ticket/uncached"} {
		if got := BaselineOf(v); got != want {
			t.Errorf("BaselineOf(%q) = %q, want %q", v, got, want)
		}
	}
	if IsCached("ticket/uncached") || !IsCached("ticket/mtime") {
		t.Error("IsCached of ticket strategies")
	}
	vs := []string{"ticket/mtime", "ttl", "ticket/uncached", "noauth", "uncached"}
	SortVerifiers(vs)
	if got, want := strings.Join(vs, " "), "noauth uncached ttl ticket/uncached ticket/mtime"; got != want {
		t.Errorf("order %q, want %q", got, want)
	}

	f := roundsFile("steady")
	for _, r := range roundsFile("tickets").Runs {
		switch r.Verifier {
		case "uncached", "generation":
			r.Verifier = "ticket/" + map[string]string{"uncached": "uncached", "generation": "mtime"}[r.Verifier]
			f.Runs = append(f.Runs, r)
		case results.ControlVerifier:
			f.Runs = append(f.Runs, r)
		}
	}
	ovs := Overviews(f, Summarize(f, Options{}), nil)
	if len(ovs) != 2 || ovs[0].Group != "" || ovs[1].Group != "ticket" || ovs[1].Scenario != "tickets" {
		t.Fatalf("overviews %+v", ovs)
	}
	var names []string
	for _, r := range ovs[1].Rows {
		names = append(names, r.Verifier)
	}
	if got := strings.Join(names, " "); got != "ticket/uncached ticket/mtime" {
		t.Errorf("ticket rows %q", got)
	}
	if iv := ovs[1].Rows[1].CPUVsBaseline; !iv.Valid() || iv.Est > 0.1 {
		t.Errorf("ticket/mtime CPU vs ticket/uncached %+v", iv)
	}
	for _, r := range ovs[0].Rows {
		if Group(r.Verifier) != "" {
			t.Errorf("token headline has %s", r.Verifier)
		}
	}
}
