package report

import (
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/authbench/authbench/internal/analysis"
	"github.com/authbench/authbench/internal/results"
)

// verdictFixture is the report fixture with a peer (k8s, a copy of ttl's
// runs and events at another cost), ten-run microbenchmarks and the
// tickets fixture's cluster cells.
func verdictFixture(t *testing.T) (*results.File, map[string]analysis.Bench) {
	t.Helper()
	f := fixture(t)
	for _, r := range f.Runs {
		if r.Verifier == "ttl" {
			r.Verifier = "k8s"
			r.CPUSecondsPer1kReq *= 1.1
			f.Runs = append(f.Runs, r)
		}
	}
	for _, rv := range f.Revocations {
		if rv.Verifier == "ttl" {
			rv.Verifier = "k8s"
			rv.Pass = true
			f.Revocations = append(f.Revocations, rv)
		}
	}
	f.Clusters = ticketsFixture().Clusters
	hit := map[string]analysis.Bench{}
	for i, v := range []string{"uncached", "generation", "mtime", "ttl", "ttl-ctime", "k8s"} {
		var xs []float64
		for j := range 10 {
			xs = append(xs, float64(30*(i+1)+j%3))
		}
		hit[v] = analysis.BenchOf(xs)
	}
	return f, hit
}

func renderVerdict(f *results.File, hit map[string]analysis.Bench, gate *GateVerdict) string {
	sum := analysis.Summarize(f, analysis.Options{})
	d := &document{Title: "verdict"}
	verdictBlock(d, f, analysis.Overviews(f, sum, hit)[0], gate, "plots", nil)
	return string(d.markdown("", ""))
}

// TestVerdictBlock golden-tests the verdict block of a full run (every
// question answered, the gate's sentence included) and of a quick run
// without events, peer or clusters (each question says what is missing).
func TestVerdictBlock(t *testing.T) {
	t.Parallel()
	f, hit := verdictFixture(t)
	full := renderVerdict(f, hit, &GateVerdict{Pass: true, Text: "no regression (5 rounds; false alarm rate 2 % [0.5–6 %], n = 100)"})
	quick := &results.File{RunID: "quick"}
	for _, r := range fixture(t).Runs {
		if r.Scenario == "steady/tokens=100" {
			quick.Runs = append(quick.Runs, r)
		}
	}
	empty := renderVerdict(quick, nil, nil)
	got := full + "\n---\n\n" + empty
	golden := filepath.Join("testdata", "verdict.md.golden")
	if *update {
		if err := os.WriteFile(golden, []byte(got), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	if want := read(t, golden); got != want {
		t.Errorf("verdict block differs from %s (-update to rewrite):\n%s", golden, got)
	}
	for _, want := range []string{"`k8s` (Kubernetes' token cache)", "reproduces with ticket/mtime in 1 of 2 trials", "Regression gate:", "(n=10)"} {
		if !strings.Contains(full, want) {
			t.Errorf("full verdict: no %q", want)
		}
	}
	for _, want := range []string{"no revocation events", "no peer verifier", "did not run in this suite"} {
		if !strings.Contains(empty, want) {
			t.Errorf("quick verdict: no %q", want)
		}
	}
	if strings.Contains(empty, "Regression gate") {
		t.Error("a gate sentence without a gate verdict")
	}
}

// TestCommittedSamples checks every local link of the committed sample
// reports. A sample written before the link-checked layout (no verdict
// block) is reported and skipped: the lead regenerates it.
func TestCommittedSamples(t *testing.T) {
	t.Parallel()
	dirs, err := filepath.Glob(filepath.Join("..", "..", "reports", "samples", "*", MarkdownFile))
	if err != nil {
		t.Fatal(err)
	}
	for _, md := range dirs {
		dir := filepath.Dir(md)
		t.Run(filepath.Base(dir), func(t *testing.T) {
			if !strings.Contains(read(t, md), "## Verdict") {
				t.Skipf("%s predates the verdict block and the link-checked layout: regenerate it", dir)
			}
			dead, err := CheckLinks(dir)
			if err != nil {
				t.Fatal(err)
			}
			for _, l := range dead {
				t.Error(l)
			}
			if n := strings.Count(read(t, md), "\n"); n > MaxTopLines {
				t.Errorf("report.md's top level has %d lines, budget %d", n, MaxTopLines)
			}
		})
	}
}

// TestCheckLinks finds dead, escaping and directory links and ignores
// anchors, data: URIs and the web.
func TestCheckLinks(t *testing.T) {
	t.Parallel()
	dir := t.TempDir()
	for rel, content := range map[string]string{
		"plots/a b.png":   "x",
		"scenarios/s.md":  "[ok](../plots/a%20b.png) [dead](../plots/gone.svg) [up](../../etc/passwd)",
		MarkdownFile:      "[s](scenarios/s.md) [web](https://example.com/x) [anchor](#top) [frag](plots/a%20b.png#s=cryptpw)",
		HTMLFile:          `<a href="plots/a b.png">x</a> <img src="data:image/png;base64,AA"> <a href="plots">d</a> <a href="missing.html">m</a>`,
		"scenarios/x.txt": "",
	} {
		p := filepath.Join(dir, filepath.FromSlash(rel))
		if err := os.MkdirAll(filepath.Dir(p), 0o755); err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(p, []byte(content), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	dead, err := CheckLinks(dir)
	if err != nil {
		t.Fatal(err)
	}
	got := fmt.Sprint(dead)
	for _, want := range []string{"scenarios/s.md: ../plots/gone.svg: no such file", "scenarios/s.md: ../../etc/passwd: outside the report dir",
		"index.html: plots: a directory", "index.html: missing.html: no such file"} {
		if !strings.Contains(got, want) {
			t.Errorf("dead links %v: no %q", dead, want)
		}
	}
	if len(dead) != 4 {
		t.Errorf("%d dead links, want 4: %v", len(dead), dead)
	}
	if _, err := CheckLinks(t.TempDir()); err == nil {
		t.Error("a dir without a report: want an error")
	}
}
