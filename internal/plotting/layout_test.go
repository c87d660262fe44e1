package plotting

import (
	"bytes"
	"flag"
	"fmt"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"

	"gonum.org/v1/plot"
	"gonum.org/v1/plot/vg/draw"
	"gonum.org/v1/plot/vg/vgsvg"

	"github.com/authbench/authbench/internal/analysis"
	"github.com/authbench/authbench/internal/results"
)

var update = flag.Bool("update", false, "rewrite the golden SVGs in testdata/")

// syntheticOverview is a fixed headline for the trade-off chart: the PBS
// stages, two of ours, three repeats each, several points close together
// (their labels must not overlap) and two that never see an edit.
func syntheticOverview() analysis.Overview {
	row := func(v string, ms float64, never bool, cpu analysis.Spread) analysis.OverviewRow {
		return analysis.OverviewRow{Verifier: v, CPU: cpu, Staleness: map[analysis.EventClass]analysis.Staleness{
			analysis.ClassManualEdit: {N: 2, WorstMS: ms, Never: never},
			analysis.ClassRestore:    {N: 1, WorstMS: ms / 2},
		}}
	}
	return analysis.Overview{Scenario: "steady/tokens=100", Rows: []analysis.OverviewRow{
		row(results.ControlVerifier, 0, false, analysis.Spread{Median: 0.07, Min: 0.06, Max: 0.08, N: 3}),
		row(results.BaselineVerifier, 19, false, analysis.Spread{Median: 1.5, Min: 1.4, Max: 1.6, N: 3}),
		row("generation", 0, true, analysis.Spread{Median: 0.076, Min: 0.068, Max: 0.087, N: 3}),
		row("mtime", 1.2, true, analysis.Spread{Median: 0.116, Min: 0.108, Max: 0.117, N: 3}),
		row("ttl", 1222, true, analysis.Spread{Median: 0.08, Min: 0.075, Max: 0.082, N: 3}),
		row("ttl-ctime", 1221, false, analysis.Spread{Median: 0.077, Min: 0.074, Max: 0.096, N: 3}),
		row("snapshot", 1222, false, analysis.Spread{Median: 0.085, Min: 0.078, Max: 0.088, N: 3}),
		row("notify", 0, false, analysis.Spread{Median: 0.09, Min: 0.079, Max: 0.09, N: 3}),
		row("fresh", 1.7, false, analysis.Spread{Median: 0.087, Min: 0.079, Max: 0.098, N: 3}),
	}}
}

// syntheticCluster is a fixed cluster scenario with a long name, so the
// timeline's title has to wrap.
func syntheticCluster() *results.File {
	tl := func(shift int) []results.ClusterPoint {
		var out []results.ClusterPoint
		for i := -8; i <= 4; i++ {
			rej := 0
			if i >= -3+shift && i < 0 {
				rej = 7 + shift
			}
			out = append(out, results.ClusterPoint{TMs: int64(i * 250), RejectedValid: rej, Total: 10})
		}
		return out
	}
	sc := "cluster/nodes=3,fuse=on,attr-timeout-sweep"
	return &results.File{Clusters: []results.ClusterRun{
		{Scenario: sc, Event: "key-touch-yesterday", Verifier: "ticket/mtime", AttrTimeoutMs: 1000, Trials: 3, DoubleRotationTrials: 1, Total: 30, Timeline: tl(0), EventMsPerTrial: []int64{-400, -380, -420}},
		{Scenario: sc, Event: "key-touch-yesterday", Verifier: "ticket/mtime-reopen", AttrTimeoutMs: 1000, Trials: 3, Total: 30, Timeline: tl(1)},
		{Scenario: sc, Event: "key-touch-yesterday", Verifier: "ticket/content-ttl", AttrTimeoutMs: 1000, Trials: 3, Total: 30, Timeline: tl(2)},
	}}
}

// crowded is a results file with many verifiers and long names in one
// scenario, run at one rate: bar names must turn, titles wrap, latency
// become bars.
func crowded() *results.File {
	f := &results.File{}
	sc := "a-scenario-with-a-long-name/tokens=10000,gomaxprocs=2"
	vs := []string{results.ControlVerifier, results.ControlCopyVerifier, results.BaselineVerifier,
		"generation", "mtime", "ttl", "ttl-ctime", "snapshot", "notify", "fresh", "some-long-peer-name"}
	for i, v := range vs {
		cost := 0.08 + 0.001*float64(i)
		if v == results.BaselineVerifier {
			cost = 3.2
		}
		for rep := range 3 {
			f.Runs = append(f.Runs, results.Run{Scenario: sc, Verifier: v, Phase: results.PhaseConstant, Repeat: rep,
				OfferedRPS: 100, AchievedRPS: 100, SuccessRatio: 1, Tokens: 10000,
				Latency:            results.Latency{P50: 300 + 10*float64(i), P90: 600, P99: 1900, P999: 4000},
				CPUShare:           results.CPUShare{Crypt: 0.5, ShadowRead: 0.1, Stat: 0.1, Other: 0.3, Samples: 50},
				CPUSecondsPer1kReq: cost * (1 + 0.02*float64(rep)),
			})
		}
	}
	return f
}

// everyFigure builds every figure of the synthetic inputs.
func everyFigure(t *testing.T) []figure {
	t.Helper()
	var out []figure
	for _, f := range []*results.File{synthetic(), crowded(), syntheticCluster()} {
		m, err := allFigures(f)
		if err != nil {
			t.Fatal(err)
		}
		for _, s := range slices.Sorted(mapsKeys(m)) {
			out = append(out, m[s]...)
		}
	}
	tr, ok, err := tradeoffFig(syntheticOverview())
	if err != nil || !ok {
		t.Fatalf("trade-off: ok %v, %v", ok, err)
	}
	return append(out, tr)
}

func mapsKeys[V any](m map[string]V) func(func(string) bool) {
	return func(yield func(string) bool) {
		for k := range m {
			if !yield(k) {
				return
			}
		}
	}
}

// TestTextFits: in every plot, no text leaves the canvas (titles, labels
// and legends not cut) and no two texts overlap (bar names, trade-off
// labels, legend entries).
func TestTextFits(t *testing.T) {
	t.Parallel()
	for _, fig := range everyFigure(t) {
		t.Run(fig.name, func(t *testing.T) {
			texts := recordTexts(fig)
			if len(texts) == 0 {
				t.Fatal("no text drawn")
			}
			for _, b := range texts {
				if b.outside(fig.w, fig.h) {
					t.Errorf("%q leaves the %v × %v canvas: %v", b.text, fig.w, fig.h, b.corners)
				}
			}
			for i := range texts {
				for j := i + 1; j < len(texts); j++ {
					if overlap(texts[i], texts[j], 1) {
						t.Errorf("%q overlaps %q", texts[i].text, texts[j].text)
					}
				}
			}
		})
	}
}

// TestTradeOffChart: at least 600 px wide at the PNG's resolution, one
// interval bar per point with spread, labels for every verifier.
func TestTradeOffChart(t *testing.T) {
	t.Parallel()
	fig, ok, err := tradeoffFig(syntheticOverview())
	if err != nil || !ok {
		t.Fatalf("ok %v, %v", ok, err)
	}
	if px := fig.w.Dots(pngDPI); px < 600 {
		t.Errorf("trade-off chart %v px wide, want ≥ 600", px)
	}
	var text []string
	for _, b := range recordTexts(fig) {
		text = append(text, b.text)
	}
	all := strings.Join(text, "\n")
	for _, v := range []string{results.BaselineVerifier, "generation", "mtime", "ttl", "ttl-ctime", "snapshot", "notify", "fresh", "never", "n = 3 repeats"} {
		if !strings.Contains(all, v) {
			t.Errorf("chart lacks %q", v)
		}
	}
	for _, p := range TradePoints(syntheticOverview()) {
		if p.CostN != 3 || !(p.CostLoUS <= p.CostUS && p.CostUS <= p.CostHiUS) {
			t.Errorf("%s: cost interval %v ≤ %v ≤ %v, n %d", p.Verifier, p.CostLoUS, p.CostUS, p.CostHiUS, p.CostN)
		}
	}
}

// TestAxes: log axes where the plotted values span decades, linear
// otherwise; bars for a one-rate scenario; legends beside the data.
func TestAxes(t *testing.T) {
	t.Parallel()
	sc := "a-scenario-with-a-long-name/tokens=10000,gomaxprocs=2"
	isLog := func(a plot.Axis) bool { _, ok := a.Scale.(plot.LogScale); return ok }
	cost, err := cpuCostFigs(crowded(), sc)
	if err != nil || len(cost) != 1 {
		t.Fatalf("cpu cost: %v, %v", cost, err)
	}
	if !isLog(cost[0].plot.Y) {
		t.Error("cpu cost: uncached at 40× the caches, want a log axis")
	}
	knee, err := kneeFigs(synthetic(), "steady")
	if err != nil || len(knee) != 1 {
		t.Fatalf("knee: %v, %v", knee, err)
	}
	if isLog(knee[0].plot.Y) {
		t.Error("knee: values within 1.5 decades, want a linear axis")
	}
	if knee[0].w <= plotW {
		t.Error("knee: no legend strip beside the data")
	}
	lat, err := latencyFigs(crowded(), sc)
	if err != nil || len(lat) != 1 {
		t.Fatalf("latency: %v, %v", lat, err)
	}
	if lat[0].plot == nil {
		t.Fatal("one-rate latency drawn as panels of lines, want bars")
	}
	var ticks []string
	for _, tk := range lat[0].plot.X.Tick.Marker.Ticks(0, 3) {
		ticks = append(ticks, tk.Label)
	}
	if want := []string{"p50", "p90", "p99", "p99.9"}; !slices.Equal(ticks, want) {
		t.Errorf("one-rate latency bars at %v, want %v", ticks, want)
	}
	if multi, _ := latencyFigs(synthetic(), "steady"); len(multi) != 1 || multi[0].plot != nil {
		t.Error("a three-rate scenario's latency is not drawn as panels of lines")
	}
}

// TestGolden compares the SVG of the trade-off chart and of one cluster
// timeline, drawn from fixed inputs, with testdata (gonum's SVG output is
// deterministic); -update rewrites them.
func TestGolden(t *testing.T) {
	t.Parallel()
	tr, _, err := tradeoffFig(syntheticOverview())
	if err != nil {
		t.Fatal(err)
	}
	cl, err := clusterFigs(syntheticCluster(), syntheticCluster().Clusters[0].Scenario)
	if err != nil || len(cl) != 1 {
		t.Fatalf("cluster: %v, %v", cl, err)
	}
	for _, tc := range []struct {
		golden string
		fig    figure
	}{{"tradeoff.svg", tr}, {"cluster-timeline.svg", cl[0]}} {
		t.Run(tc.golden, func(t *testing.T) {
			var buf bytes.Buffer
			c := vgsvg.New(tc.fig.w, tc.fig.h)
			tc.fig.draw(draw.New(c))
			if _, err := c.WriteTo(&buf); err != nil {
				t.Fatal(err)
			}
			path := filepath.Join("testdata", tc.golden)
			if *update {
				if err := os.WriteFile(path, buf.Bytes(), 0o644); err != nil {
					t.Fatal(err)
				}
				return
			}
			want, err := os.ReadFile(path)
			if err != nil {
				t.Fatalf("%v (run go test -update to create it)", err)
			}
			if !bytes.Equal(buf.Bytes(), want) {
				t.Errorf("%s differs from the golden (%s); look at both, then go test ./internal/plotting -run TestGolden -update", tc.fig.name, firstDiff(buf.Bytes(), want))
			}
		})
	}
}

// firstDiff describes the first differing line of got and want.
func firstDiff(got, want []byte) string {
	g, w := strings.Split(string(got), "\n"), strings.Split(string(want), "\n")
	for i := range min(len(g), len(w)) {
		if g[i] != w[i] {
			return fmt.Sprintf("line %d: got %.120q, want %.120q", i+1, g[i], w[i])
		}
	}
	return fmt.Sprintf("got %d lines, want %d", len(g), len(w))
}
