package browser_test

import (
	"flag"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/authbench/authbench/internal/flame"
	"github.com/authbench/authbench/internal/report"
	"github.com/authbench/authbench/internal/results"
)

// reportDir, when set, checks an existing report directory (a real full
// run's) instead of the synthetic one, and leaves the screenshot there:
//
//	go test ./internal/browser -run TestReportInBrowser -report reports/<run-id>
var reportDir = flag.String("report", "", "check this report directory's index.html instead of a synthetic report (the screenshot stays beside it)")

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
				// A cost and (below) file-edit staleness put each verifier
				// on the trade-off chart.
				CPUSecondsPer1kReq: map[string]float64{results.ControlVerifier: 0.05, results.BaselineVerifier: 2, "ttl": 0.08}[v],
			}
			if rep == 0 {
				r.Flamegraph = l.Flamegraph(r.Scenario, v, rep)
				writeFlame(t, filepath.Join(dir, filepath.FromSlash(r.Flamegraph)), v)
			}
			f.Runs = append(f.Runs, r)
		}
		if v != results.ControlVerifier {
			f.Revocations = append(f.Revocations, results.Revocation{Scenario: "steady", Verifier: v, Event: "manual-edit",
				TimeToRejectMS: ptr(map[string]float64{results.BaselineVerifier: 1, "ttl": 60000}[v]), BoundMS: ptr(60000), Converged: true, Pass: true,
				Timeline: []results.ProbePoint{{TMS: -10, Accepted: true}, {TMS: 5, Accepted: v == "ttl"}}})
		}
	}
	return f
}

func ptr(x float64) *float64 { return &x }

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

// TestReportInBrowser writes a report from a synthetic results file (or
// takes -report DIR) and opens its index.html from disk: no console
// errors, every image decoded, every local link resolving, nothing loaded
// from the network, the headline table and the trade-off chart in the
// first screen at 1366×768, a screenshot beside it, and a flame graph the
// report links zooms on a click and highlights on a search.
func TestReportInBrowser(t *testing.T) {
	b := testBrowser(t)
	dir := *reportDir
	if dir == "" {
		dir = t.TempDir()
		f := syntheticRun(t, dir)
		if err := report.Write(dir, f, report.Options{}); err != nil {
			t.Fatal(err)
		}
	}
	got, err := b.CheckReport(dir)
	if err != nil {
		t.Fatal(err)
	}
	if err := got.Err(); err != nil {
		t.Errorf("%s:\n%v", dir, err)
	}
	if got.Page.Images == 0 {
		t.Error("the report shows no images; the check proved nothing about them")
	}
	if got.Page.Headline == nil {
		t.Error("the headline was not checked")
	}
	checkPNG(t, filepath.Join(dir, "index.screenshot.png"))
	t.Logf("screenshot: %s; flame graph checked: %s", got.Page.Screenshot, got.Flame)
}

// TestReportCheckFails: the checker reports a report whose headline
// scrolls sideways at 1366 px, whose first screen lacks the trade-off
// chart and whose flame graph does not zoom, rather than passing it.
func TestReportCheckFails(t *testing.T) {
	b := testBrowser(t)
	dir := t.TempDir()
	page := `<!DOCTYPE html><html><body><table id="headline" style="display:block;overflow-x:auto"><tr><td><div style="width:1500px">x</div></td></tr></table>` +
		`<a href="flamegraphs/s/static.svg">flame graph</a></body></html>`
	if err := os.WriteFile(filepath.Join(dir, report.HTMLFile), []byte(page), 0o644); err != nil {
		t.Fatal(err)
	}
	svg := filepath.Join(dir, "flamegraphs", "s", "static.svg")
	if err := os.MkdirAll(filepath.Dir(svg), 0o755); err != nil {
		t.Fatal(err)
	}
	out, err := os.Create(svg)
	if err != nil {
		t.Fatal(err)
	}
	if err := flame.RenderSVG(out, stacks(t, baseFolded), flame.Options{Static: true}); err != nil {
		t.Fatal(err)
	}
	if err := out.Close(); err != nil {
		t.Fatal(err)
	}
	got, err := b.CheckReport(dir)
	if err != nil {
		t.Fatal(err)
	}
	probs := strings.Join(got.Problems(), "\n")
	for _, want := range []string{"not inside the first screen: img.tradeoff: no such element", "flame graph static.svg:",
		"headline scrolls sideways: table#headline content is"} {
		if !strings.Contains(probs, want) {
			t.Errorf("problems lack %q:\n%s", want, probs)
		}
	}
}
