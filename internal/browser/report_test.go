package browser_test

import (
	"flag"
	"os"
	"path/filepath"
	"testing"

	"github.com/authbench/authbench/internal/browser"
	"github.com/authbench/authbench/internal/flame"
	"github.com/authbench/authbench/internal/report"
	"github.com/authbench/authbench/internal/results"
)

// headline selects the element of index.html that must be in the first
// screen. Today's report opens with its first table; the report's owner
// tightens this as the layout settles (also settable: -headline SEL).
var headline = flag.String("headline", "table", "CSS selector of the report headline that must lie in the first screen")

// syntheticRun is a small suite result: the control and two verifiers in
// one scenario, with a real flame graph for the report to show.
func syntheticRun(t *testing.T, dir string) *results.File {
	t.Helper()
	l := results.Layout{}
	f := &results.File{
		SchemaVersion: 1,
		RunID:         "browser-test",
		Env:           results.Env{GoVersion: "go1.26", GOOS: "linux", GOARCH: "amd64", NumCPU: 2, GOMAXPROCS: 2, Commit: "abc123", HashScheme: "sha512-crypt", HashCost: 5000},
	}
	for _, v := range []string{results.ControlVerifier, results.BaselineVerifier, "ttl"} {
		for rep := range 2 {
			r := results.Run{Scenario: "steady", Verifier: v, Phase: results.PhaseConstant, Repeat: rep, Tokens: 16,
				OfferedRPS: 200, AchievedRPS: 199.5, Requests: 1000, SuccessRatio: 1, ExpectedRatio: 1, DurationS: 5,
				Latency:  results.Latency{P50: 150, P90: 300, P99: 900, P999: 1500, Max: 2000},
				CPUShare: results.CPUShare{Crypt: 0.5, ShadowRead: 0.1, Stat: 0.05, Other: 0.35, Samples: 400},
				Target:   true,
			}
			if rep == 0 {
				r.Flamegraph = l.Flamegraph(r.Scenario, v, rep)
				writeFlame(t, filepath.Join(dir, filepath.FromSlash(r.Flamegraph)), v)
			}
			f.Runs = append(f.Runs, r)
		}
	}
	return f
}

func writeFlame(t *testing.T, path, title string) {
	t.Helper()
	if err := os.MkdirAll(filepath.Dir(path), 0o755); err != nil {
		t.Fatal(err)
	}
	out, err := os.Create(path)
	if err != nil {
		t.Fatal(err)
	}
	if err := flame.RenderSVG(out, stacks(t, baseFolded), flame.Options{Title: title, Unit: "nanoseconds"}); err != nil {
		t.Fatal(err)
	}
	if err := out.Close(); err != nil {
		t.Fatal(err)
	}
}

// TestReportInBrowser writes a report from a synthetic results file and
// opens its index.html from disk: no console errors, every image decoded,
// every local link resolving, nothing loaded from the network, the
// headline in the first screen at 1366×768, and a screenshot beside it.
func TestReportInBrowser(t *testing.T) {
	b := browser.ForTest(t)
	dir := t.TempDir()
	f := syntheticRun(t, dir)
	if err := report.Write(dir, f, report.Options{}); err != nil {
		t.Fatal(err)
	}
	index := filepath.Join(dir, report.HTMLFile)
	got, err := b.Check(index, browser.Checks{Headline: *headline})
	if err != nil {
		t.Fatal(err)
	}
	if err := got.Err(); err != nil {
		t.Errorf("%s:\n%v", index, err)
	}
	if got.Images == 0 {
		t.Error("the report shows no images; the check proved nothing about them")
	}
	checkPNG(t, filepath.Join(dir, "index.screenshot.png"))
}
