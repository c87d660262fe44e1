package plotting

import (
	"image/color"
	"os"
	"path/filepath"
	"reflect"
	"testing"

	"gonum.org/v1/plot/vg/draw"

	"github.com/authbench/authbench/impl/ticket"
	"github.com/authbench/authbench/internal/results"
)

// TestClusterTimelines draws one plot per (event, attr_timeout) with a
// timeline and none for skipped cells.
func TestClusterTimelines(t *testing.T) {
	tl := []results.ClusterPoint{{TMs: -250, Total: 10}, {TMs: 0, RejectedValid: 6, Total: 10}, {TMs: 250, RejectedValid: 3, Total: 10}}
	f := &results.File{Clusters: []results.ClusterRun{
		{Scenario: "cluster", Event: "key-touch-yesterday", Verifier: "ticket/mtime", AttrTimeoutMs: 1000, Trials: 2, DoubleRotationTrials: 1, Total: 20, Timeline: tl},
		{Scenario: "cluster", Event: "key-touch-yesterday", Verifier: "ticket/mtime-reopen", AttrTimeoutMs: 1000, Trials: 2, Total: 20, Timeline: tl[:1]},
		{Scenario: "cluster", Event: "key-touch-yesterday", Verifier: "ticket/mtime", AttrTimeoutMs: 0, Skipped: "no /dev/fuse"},
		{Scenario: "other", Event: "key-touch-yesterday", Verifier: "ticket/mtime", AttrTimeoutMs: 0, Skipped: "no /dev/fuse"},
	}}
	dir := t.TempDir()
	got, err := ClusterPlots(dir, f)
	if err != nil {
		t.Fatal(err)
	}
	want := map[string][]string{"cluster": {ClusterPlotName("cluster", "key-touch-yesterday", 1000)}}
	if !reflect.DeepEqual(got, want) {
		t.Fatalf("plots %v, want %v", got, want)
	}
	for _, ext := range []string{".png", ".svg"} {
		if st, err := os.Stat(filepath.Join(dir, want["cluster"][0]+ext)); err != nil || st.Size() == 0 {
			t.Errorf("%s: %v", ext, err)
		}
	}
	if n := ClusterPlotName("a/b", "x", 5000); n != "cluster-a_b-x-attr5000ms" {
		t.Errorf("name %q", n)
	}
}

// TestAllIncludesClusters checks All merges the cluster timelines into its
// answer (cluster scenarios have no runs of their own).
func TestAllIncludesClusters(t *testing.T) {
	f := &results.File{Clusters: []results.ClusterRun{
		{Scenario: "cluster", Event: "key-touch-yesterday", Verifier: "ticket/mtime", AttrTimeoutMs: 1000, Trials: 1, Total: 10,
			Timeline: []results.ClusterPoint{{TMs: 0, RejectedValid: 1, Total: 10}}},
	}}
	got, err := All(t.TempDir(), f)
	if err != nil {
		t.Fatal(err)
	}
	want := map[string][]string{"cluster": {ClusterPlotName("cluster", "key-touch-yesterday", 1000)}}
	if !reflect.DeepEqual(got, want) {
		t.Errorf("All = %v, want %v", got, want)
	}
}

// TestStyleOfTickets: ticket strategies take their colour from their place
// in ticket.Strategies() (each its own, ticket/uncached the baseline red)
// and their marker from whether the strategy is ours.
func TestStyleOfTickets(t *testing.T) {
	t.Parallel()
	seen := map[color.RGBA]string{}
	for i, s := range ticket.Strategies() {
		v := results.TicketVerifier(s.Name)
		st := StyleOf(v)
		if st.Color != palette[i%len(palette)] {
			t.Errorf("%s: colour %v, want palette[%d]", v, st.Color, i)
		}
		if other, dup := seen[st.Color]; dup {
			t.Errorf("%s and %s share a colour", v, other)
		}
		seen[st.Color] = v
		if want := (s.Ours); (st.Shape == draw.BoxGlyph{}) != want {
			t.Errorf("%s: shape %T, ours %v", v, st.Shape, s.Ours)
		}
	}
	if StyleOf(results.TicketBaselineVerifier).Color != StyleOf(results.BaselineVerifier).Color {
		t.Error("the ticket baseline is not drawn like the token baseline")
	}
	if (StyleOf("ticket/unknown").Shape != draw.CrossGlyph{}) {
		t.Error("an unknown ticket strategy is not drawn as an unknown name")
	}
}
