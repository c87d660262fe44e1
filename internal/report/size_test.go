package report

import (
	"bytes"
	"fmt"
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"testing"

	"github.com/authbench/authbench/impl"
	"github.com/authbench/authbench/internal/analysis"
	"github.com/authbench/authbench/internal/flame"
	"github.com/authbench/authbench/internal/results"
)

// maxHTMLBytes is the size budget of a full run's index.html (issue 13).
const maxHTMLBytes = 3_000_000

// fullRun builds a results file the size of a full suite — 12 scenarios,
// every registered verifier plus both controls, 3 interleaved rounds at
// two rates, a knee search per round in the steady variants, revocations
// with probe timelines in the event scenarios — and lays out every file it
// names in dir: a realistically large flame graph (hard links of one
// rendered file, to keep the test cheap) for every run, diff graphs for
// every cached verifier, and small stand-ins for profiles, folded stacks,
// speedscope and vegeta files.
func fullRun(t *testing.T, dir string) *results.File {
	t.Helper()
	flameSrc := filepath.Join(dir, "flame-src.svg")
	writeBigFlame(t, flameSrc)
	small := filepath.Join(dir, "small-src")
	if err := os.WriteFile(small, []byte("x"), 0o644); err != nil {
		t.Fatal(err)
	}
	link := func(src, rel string) {
		p := filepath.Join(dir, filepath.FromSlash(rel))
		if err := os.MkdirAll(filepath.Dir(p), 0o755); err != nil {
			t.Fatal(err)
		}
		if err := os.Link(src, p); err != nil && !os.IsExist(err) {
			t.Fatal(err)
		}
	}
	verifiers := []string{results.ControlVerifier, results.ControlCopyVerifier}
	for _, s := range impl.Specs() {
		verifiers = append(verifiers, s.Name)
	}
	scenarios := []struct {
		name   string
		knee   bool
		events []string
	}{
		{"steady/tokens=100", true, nil}, {"steady/tokens=10000", true, nil},
		{"api-revoke", false, []string{"api-revoke", "api-revoke:other:p2"}},
		{"api-rotate", false, []string{"api-rotate", "api-rotate:other:p2"}},
		{"manual-edit", false, []string{"manual-edit"}}, {"manual-restore", false, []string{"manual-restore"}},
		{"coarse-mtime", false, []string{"coarse-mtime"}}, {"stale-stat", false, []string{"stale-stat"}},
		{"invalid-flood", false, nil}, {"concurrency/c=64", false, nil}, {"ttl-herd", false, nil}, {"tls", false, nil},
	}
	var l results.Layout
	f := &results.File{SchemaVersion: 1, RunID: "full-size", Env: results.Env{GoVersion: "go1.26", NumCPU: 2, GOMAXPROCS: 2}}
	for si, sc := range scenarios {
		for vi, v := range verifiers {
			cost := 0.05 + 0.01*float64(vi)
			if v == results.BaselineVerifier {
				cost = 2
			}
			for round := 1; round <= 3; round++ {
				for ri, rate := range []float64{200, 800} {
					r := results.Run{Scenario: sc.name, Verifier: v, Phase: results.PhaseConstant, Round: round, Repeat: round - 1,
						Tokens: 100, OfferedRPS: rate, AchievedRPS: rate * 0.998, Requests: uint64(rate * 5), SuccessRatio: 1, ExpectedRatio: 1, DurationS: 5,
						Latency:            results.Latency{P50: 150 + float64(vi), P90: 300, P99: 900 + float64(si), P999: 1500, Max: 4000},
						CPUShare:           results.CPUShare{Crypt: 0.01, ShadowRead: 0.02, Stat: 0.01, Other: 0.96, Samples: 2000},
						CPUSecondsPer1kReq: cost * (1 + 0.02*float64(round)), ServerCPUSeconds: cost * rate * 5 / 1000,
						VerifierStats: results.VerifierStats{Fast: 990, Slow: 10, Fallback: 2, Resets: 1, Stats: 5},
						Target:        si < 2,
					}
					if ri == 1 {
						r.Flamegraph = l.Flamegraph(sc.name, v, round-1)
						r.Folded = l.Folded(sc.name, v, round-1)
						r.Speedscope = l.Speedscope(sc.name, v, round-1)
						r.Profile = l.Profile(sc.name, v, round-1)
						r.ResultsFile = l.VegetaResults(sc.name, v, round-1, 1)
						link(flameSrc, r.Flamegraph)
						for _, p := range []string{r.Folded, r.Speedscope, r.Profile, r.ResultsFile} {
							link(small, p)
						}
						if spec, ok := impl.Lookup(v); ok && spec.Cached && round == 1 {
							r.DiffFlamegraphs = &results.DiffFlamegraphs{
								Grown: l.DiffFlamegraph(sc.name, v, "grown"), Shrunk: l.DiffFlamegraph(sc.name, v, "shrunk")}
							link(flameSrc, r.DiffFlamegraphs.Grown)
							link(flameSrc, r.DiffFlamegraphs.Shrunk)
						}
					}
					f.Runs = append(f.Runs, r)
				}
				if sc.knee {
					f.Runs = append(f.Runs, results.Run{Scenario: sc.name, Verifier: v, Phase: results.PhaseKnee, Round: round, Repeat: round - 1,
						Tokens: 100, OfferedRPS: 4000, AchievedRPS: 3900, SuccessRatio: 1, KneeRPS: 4000 / (1 + cost), Target: si < 2})
				}
			}
			if analysis.IsControl(v) {
				continue
			}
			for _, ev := range sc.events {
				var tl []results.ProbePoint
				for i := range 40 {
					tl = append(tl, results.ProbePoint{TMS: float64(i*25 - 100), Accepted: i < 4+vi})
				}
				f.Revocations = append(f.Revocations, results.Revocation{Scenario: sc.name, Verifier: v, Event: ev,
					TimeToRejectMS: ptr(float64(vi) * 25), BoundMS: ptr(60000), Converged: true, Pass: true, Timeline: tl})
			}
		}
	}
	return f
}

// writeBigFlame renders a flame graph of a few hundred distinct stacks, as
// large as a real server profile's.
func writeBigFlame(t *testing.T, path string) {
	t.Helper()
	var folded strings.Builder
	for i := range 400 {
		fmt.Fprintf(&folded, "runtime.goexit;net/http.(*conn).serve;main.handler%d;impl.(*Verifier%d).Verify;impl/cryptpw.Verify;crypto/sha512.block%d %d\n",
			i%40, i%9, i, 1000+i*37)
	}
	stacks, err := flame.ReadFolded(strings.NewReader(folded.String()))
	if err != nil {
		t.Fatal(err)
	}
	var b bytes.Buffer
	if err := flame.RenderSVG(&b, stacks, flame.Options{Title: "uncached", Unit: "nanoseconds", MinFraction: -1}); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(path, b.Bytes(), 0o644); err != nil {
		t.Fatal(err)
	}
}

// TestFullRunSize writes the report of a full-size run: index.html stays
// under the 3 MB budget and requests nothing from the network (images are
// data: URIs; only <a> links may point to the web, as to documentation).
func TestFullRunSize(t *testing.T) {
	if testing.Short() {
		t.Skip("draws every plot of a full run")
	}
	t.Parallel()
	dir := t.TempDir()
	f := fullRun(t, dir)
	if err := Write(dir, f, Options{}); err != nil {
		t.Fatal(err)
	}
	html, err := os.ReadFile(filepath.Join(dir, HTMLFile))
	if err != nil {
		t.Fatal(err)
	}
	if dead, err := CheckLinks(dir); err != nil || len(dead) > 0 {
		t.Errorf("%d dead links (%v), e.g. %v", len(dead), err, dead[:min(len(dead), 5)])
	}
	top, err := os.ReadFile(filepath.Join(dir, MarkdownFile))
	if err != nil {
		t.Fatal(err)
	}
	if n := bytes.Count(top, []byte("\n")); n > MaxTopLines {
		t.Errorf("report.md's top level has %d lines, budget %d", n, MaxTopLines)
	}
	t.Logf("report.md: %d lines at the top level", bytes.Count(top, []byte("\n")))
	if len(html) >= maxHTMLBytes {
		t.Errorf("index.html is %d bytes, budget %d", len(html), maxHTMLBytes)
	}
	t.Logf("index.html: %d bytes, %d runs, %d revocations", len(html), len(f.Runs), len(f.Revocations))
	ext := regexp.MustCompile(`(?i)<(\w+)\b[^>]*\s(?:src|href|data)\s*=\s*["']?\s*(?:https?:|//)`)
	for _, m := range ext.FindAllSubmatch(html, -1) {
		if !strings.EqualFold(string(m[1]), "a") {
			t.Errorf("external request from <%s>: %.100s", m[1], m[0])
		}
	}
	for _, m := range regexp.MustCompile(`(?i)<img[^>]*\ssrc="([^"]*)"`).FindAllSubmatch(html, -1) {
		if !bytes.HasPrefix(m[1], []byte("data:image/")) {
			t.Errorf("image not embedded: %.60s", m[1])
		}
	}
	if bytes.Contains(html, []byte("<script")) {
		t.Error("index.html holds a script")
	}
	// The budget is spent on what matters: every scenario's section is there.
	for _, sc := range analysis.Scenarios(f) {
		if !bytes.Contains(html, []byte("Scenario: "+sc)) {
			t.Errorf("no section for %s", sc)
		}
	}
}
