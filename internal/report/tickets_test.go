package report

import (
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/authbench/authbench/internal/results"
)

// ticketsFixture has one ticket load scenario (control and two
// strategies over two rounds) and a cluster scenario with a double
// rotation, a clean cell and a skipped one.
func ticketsFixture() *results.File {
	var runs []results.Run
	add := func(v string, round int, cpu, knee float64, share *results.TicketCPUShare) {
		runs = append(runs,
			results.Run{Scenario: "steady-ticket", Verifier: v, Phase: results.PhaseConstant, Round: round, Repeat: round, CPUSecondsPer1kReq: cpu * (1 + 0.05*float64(round)), TicketCPUShare: share},
			results.Run{Scenario: "steady-ticket", Verifier: v, Phase: results.PhaseKnee, Round: round, Repeat: round, KneeRPS: knee, KneeCapped: v == results.ControlVerifier})
	}
	for round := 1; round <= 2; round++ {
		add(results.ControlVerifier, round, 0.1, 9000, nil)
		add("ticket/uncached", round, 0.3, 3000, &results.TicketCPUShare{Verify: 0.4, PEM: 0.2, Stat: 0.01, Other: 0.39})
		add("ticket/mtime", round, 0.2, 6000, &results.TicketCPUShare{Verify: 0.6, Stat: 0.05, Other: 0.35})
	}
	tl := []results.ClusterPoint{{TMs: 0, RejectedValid: 6, Total: 10}, {TMs: 250, RejectedValid: 3, Total: 10}}
	return &results.File{Runs: runs, Clusters: []results.ClusterRun{
		{Scenario: "cluster", Event: "key-touch-yesterday", Verifier: "ticket/mtime", AttrTimeoutMs: 1000, Nodes: 3, Trials: 2,
			RotationsPerTrial: []int{3, 1}, DoubleRotationTrials: 1, DisagreeTrials: 1, RejectedValid: 9, Total: 40, RejectedValidRatio: 0.225, PeakRejectedValidRatio: 0.6, Timeline: tl, CPUSecondsPer1kReq: 0.9},
		{Scenario: "cluster", Event: "key-touch-yesterday", Verifier: "ticket/mtime-reopen", AttrTimeoutMs: 1000, Nodes: 3, Trials: 2,
			RotationsPerTrial: []int{1, 1}, Total: 40, Timeline: tl[:1], FailedTrials: 1,
			BeforeCheck: &results.ClusterWindow{RejectedValid: 12, RejectedAge: 12, Total: 20}},
		{Scenario: "cluster", Event: "key-touch-yesterday", Verifier: "ticket/mtime", AttrTimeoutMs: 0, Nodes: 3, Skipped: "/dev/fuse missing"},
	}}
}

// TestTicketSections renders the ticket and cluster tables (golden file,
// -update rewrites it).
func TestTicketSections(t *testing.T) {
	f := ticketsFixture()
	s, ok := ticketSections(f, "plots", map[string][]string{"cluster": clusterPlotNames(f, "cluster")})
	if !ok {
		t.Fatal("no ticket section")
	}
	// The timeline plots exist: an image is linked only when its file does.
	dir := t.TempDir()
	for _, name := range clusterPlotNames(f, "cluster") {
		for _, ext := range []string{".png", ".svg"} {
			p := filepath.Join(dir, "plots", name+ext)
			if err := os.MkdirAll(filepath.Dir(p), 0o755); err != nil {
				t.Fatal(err)
			}
			if err := os.WriteFile(p, []byte("x"), 0o644); err != nil {
				t.Fatal(err)
			}
		}
	}
	d := &document{Title: s.Title, Blocks: s.Blocks}
	md := string(d.markdown(dir, ""))
	golden := filepath.Join("testdata", "tickets.md.golden")
	if *update {
		if err := os.WriteFile(golden, []byte(md), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	if want := read(t, golden); md != want {
		t.Errorf("ticket sections differ from %s (run go test ./internal/report -run TestTicketSections -update and review the diff):\n%s", golden, md)
	}
	for _, want := range []string{`1 of 2 \[`, "skipped: /dev/fuse missing", "cluster-cluster-key-touch-yesterday-attr1000ms.png", "failed trials: 1"} {
		if !strings.Contains(md, want) {
			t.Errorf("missing %q", want)
		}
	}
	// Nothing to say without ticket runs or clusters.
	if s, ok := ticketSections(&results.File{}, "plots", nil); ok {
		t.Errorf("sections for a token-only run: %+v", s)
	}
}

// TestWriteTickets runs the whole Write path on a results file with ticket
// runs and clusters[]: both sections appear after the token scenarios, and
// the cluster timeline plots they name were drawn.
func TestWriteTickets(t *testing.T) {
	t.Parallel()
	f := ticketsFixture()
	dir := t.TempDir()
	if err := Write(dir, f, Options{}); err != nil {
		t.Fatal(err)
	}
	md := allMarkdown(t, dir)
	for _, want := range []string{"# Ticket key caches (PVEAuthCookie)", "### Ticket strategies — steady-ticket", "cluster-cluster-key-touch-yesterday-attr1000ms.png"} {
		if !strings.Contains(md, want) {
			t.Errorf("report.md: no %q", want)
		}
	}
	if s, tk := strings.Index(md, "## Scenarios"), strings.Index(md, "# Ticket key caches"); s < 0 || tk < s {
		t.Errorf("ticket sections (%d) are not after the scenarios (%d)", tk, s)
	}
	if dead, err := CheckLinks(dir); err != nil || len(dead) > 0 {
		t.Errorf("dead links (%v): %v", err, dead)
	}
	for _, name := range clusterPlotNames(f, "cluster") {
		if st, err := os.Stat(filepath.Join(dir, results.DirPlots, name+".png")); err != nil || st.Size() == 0 {
			t.Errorf("cluster plot %s not drawn: %v", name, err)
		}
	}
	html := read(t, filepath.Join(dir, HTMLFile))
	if !strings.Contains(html, "Ticket key caches") || !strings.Contains(html, "data:image/") {
		t.Error("index.html lacks the ticket section or its embedded plots")
	}
}
