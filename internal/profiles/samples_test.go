package profiles

import (
	"path/filepath"
	"testing"

	"github.com/authbench/authbench/internal/outfile"
	"github.com/authbench/authbench/internal/results"
)

// TestProcessSampleCounts: a share records the ticks it rests on (the sum
// of the profile's counts, not its distinct stacks) and the rate the
// profile really recorded; a knee search's pooled profile gets its own
// share and count, without flame graphs.
func TestProcessSampleCounts(t *testing.T) {
	dir := t.TempDir()
	// 2 ms per sample: 300 + 100 samples on two stacks.
	stacks := map[string]int64{"github.com/authbench/authbench/impl/cryptpw.Verify;main": 600_000_000, "net/http.serve;main": 200_000_000}
	withCPU := saved(t, dir, results.Run{Scenario: "s", Verifier: "ttl", Repeat: 1, Round: 1, Requests: 1000, ServerCPUSeconds: 1.6, CPUSource: "rusage"}, stacks)
	noCPU := saved(t, dir, results.Run{Scenario: "s", Verifier: "mtime", Repeat: 1, Round: 1, Requests: 1000}, stacks)
	knee := results.Run{Scenario: "s", Verifier: "ttl", Phase: results.PhaseKnee, Round: 1, Repeat: 1}
	knee.KneeProfile = results.Layout{}.KneeProfile("s", "ttl", 1)
	if err := outfile.Write(filepath.Join(dir, filepath.FromSlash(knee.KneeProfile)), cpuProfile(t, stacks).Write); err != nil {
		t.Fatal(err)
	}
	res := &results.File{Runs: []results.Run{withCPU, noCPU, knee}}
	if err := Process(dir, res); err != nil {
		t.Fatal(err)
	}
	a, b, k := res.Runs[0].CPUShare, res.Runs[1].CPUShare, res.Runs[2]
	if a.Samples != 400 || b.Samples != 400 {
		t.Errorf("samples %d, %d; want 400 (the ticks, not the 2 stacks)", a.Samples, b.Samples)
	}
	// 400 samples over 1.6 s of server CPU: 250 Hz really recorded,
	// whatever the profile's period claims (500 Hz).
	if a.ProfileHz != 250 || b.ProfileHz != 500 {
		t.Errorf("profile rate %v (with server CPU), %v (from the period); want 250, 500", a.ProfileHz, b.ProfileHz)
	}
	if a.Crypt != 0.75 {
		t.Errorf("crypt share %v, want 0.75", a.Crypt)
	}
	if k.KneeCPUShare == nil || k.KneeCPUShare.Samples != 400 || k.KneeCPUShare.Crypt != 0.75 || k.Flamegraph != "" || k.Folded != "" {
		t.Errorf("knee share %+v, flame graph %q", k.KneeCPUShare, k.Flamegraph)
	}
}
