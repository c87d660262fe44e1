// Package plotting draws the benchmark plots of a results.File with gonum/plot.
//
// Every plot is written twice into a directory, as NAME.png and NAME.svg, and
// the plot functions return the NAMEs (without extension) they wrote. A plot
// whose data is absent is skipped: no file, no name, no error. Each verifier
// keeps one style across all plots, taken from the registry (see StyleOf);
// which runs a plot compares comes from internal/analysis.
package plotting

import (
	"bufio"
	"fmt"
	"image/color"
	"io"
	"math"
	"os"
	"path/filepath"
	"slices"
	"sort"
	"strconv"

	"gonum.org/v1/plot"
	"gonum.org/v1/plot/plotter"
	"gonum.org/v1/plot/vg"
	"gonum.org/v1/plot/vg/draw"
	"gonum.org/v1/plot/vg/vgimg"
	"gonum.org/v1/plot/vg/vgsvg"

	"github.com/authbench/authbench/internal/analysis"
	"github.com/authbench/authbench/internal/results"
)

// pngDPI trades PNG size (embedded in index.html) against sharpness.
const pngDPI = 96

var (
	plotW = 7 * vg.Inch
	plotH = 4.5 * vg.Inch
)

// All draws every plot for every scenario of f into dir (created if needed),
// the cluster timelines (ClusterPlots) included, and returns the plot names
// per scenario.
func All(dir string, f *results.File) (map[string][]string, error) {
	out := map[string][]string{}
	for _, s := range analysis.Scenarios(f) {
		var names []string
		for _, fn := range []func(string, *results.File, string) ([]string, error){
			Knee, Latency, CPUShare, CPUCost, Staleness, Tokens, Fallback, Resets,
		} {
			n, err := fn(dir, f, s)
			if err != nil {
				return nil, err
			}
			names = append(names, n...)
		}
		if len(names) > 0 {
			out[s] = names
		}
	}
	// Cluster scenarios have no runs, so the loop above never sees them.
	c, err := ClusterPlots(dir, f)
	if err != nil {
		return nil, err
	}
	for s, names := range c {
		out[s] = append(out[s], names...)
	}
	return out, nil
}

// Knee draws the sustained throughput per verifier of one scenario as bars
// (median over repeats, min–max error bars) with the no-auth control and
// the knee target (analysis.KneeTarget × control) as reference lines.
// Only knee searches are drawn: a fixed-rate scenario's best achieved rate
// is its offered rate, so its bars would show the scenario file, not the
// verifiers; such a scenario gets no knee plot.
func Knee(dir string, f *results.File, scenario string) ([]string, error) {
	knees := slices.DeleteFunc(analysis.Knees(analysis.ScenarioRuns(f, scenario)), func(k analysis.KneeStat) bool { return !k.FromSearch })
	if len(knees) == 0 {
		return nil, nil
	}
	p := newPlot("Sustained throughput — "+scenario, "", "requests/s")
	names := make([]string, len(knees))
	var ctrl float64
	for i, k := range knees {
		names[i] = k.Verifier
		if k.Verifier == results.ControlVerifier {
			ctrl = k.RPS.Median
		}
		b, err := plotter.NewBarChart(plotter.Values{k.RPS.Median}, vg.Points(40))
		if err != nil {
			return nil, fmt.Errorf("knee plot %s: %w", scenario, err)
		}
		b.XMin = float64(i)
		b.Color = VerifierColor(k.Verifier)
		b.LineStyle.Width = 0
		p.Add(b)
		if err := addErrorBars(p, float64(i), k.RPS); err != nil {
			return nil, fmt.Errorf("knee plot %s: %w", scenario, err)
		}
	}
	if ctrl > 0 {
		xs := [2]float64{-0.5, float64(len(knees)) - 0.5}
		for _, ref := range []struct {
			label string
			y     float64
			dash  []vg.Length
		}{
			{"no-auth control", ctrl, []vg.Length{vg.Points(6), vg.Points(3)}},
			{fmt.Sprintf("%.2f × control", analysis.KneeTarget), analysis.KneeTarget * ctrl, []vg.Length{vg.Points(2), vg.Points(2)}},
		} {
			l, err := plotter.NewLine(plotter.XYs{{X: xs[0], Y: ref.y}, {X: xs[1], Y: ref.y}})
			if err != nil {
				return nil, fmt.Errorf("knee plot %s: %w", scenario, err)
			}
			l.Color = color.Black
			l.Dashes = ref.dash
			p.Add(l)
			p.Legend.Add(ref.label, l)
		}
		p.Legend.Top = true
	}
	p.NominalX(names...)
	barAxes(p, len(names))
	return one(dir, "knee-"+results.Slug(scenario), p, plotW, plotH)
}

// latencyPercentiles are the panels of the latency plot.
var latencyPercentiles = []struct {
	label string
	get   func(results.Latency) float64
}{
	{"p50", func(l results.Latency) float64 { return l.P50 }},
	{"p90", func(l results.Latency) float64 { return l.P90 }},
	{"p99", func(l results.Latency) float64 { return l.P99 }},
	{"p99.9", func(l results.Latency) float64 { return l.P999 }},
}

// Latency draws p50/p90/p99/p99.9 against offered rate, one panel per
// percentile, one line per verifier, log-scale latency axis.
func Latency(dir string, f *results.File, scenario string) ([]string, error) {
	runs := analysis.ScenarioRuns(f, scenario)
	runs = analysis.WithConfig(runs, analysis.Primary(runs))
	vs := analysis.Verifiers(runs)
	var plots [][]*plot.Plot
	drawn := false
	for i, pc := range latencyPercentiles {
		p := newPlot(pc.label+" latency — "+scenario, "offered rate (requests/s)", "ms")
		lo, hi := math.Inf(1), math.Inf(-1)
		for _, v := range vs {
			var xys plotter.XYs
			for _, pt := range analysis.LoadPoints(runs, v) {
				s := analysis.Of(pt.Runs, func(r results.Run) float64 { return pc.get(r.Latency) / 1000 })
				if s.N == 0 || s.Median <= 0 {
					continue // a log axis cannot show zero
				}
				xys = append(xys, plotter.XY{X: pt.OfferedRPS, Y: s.Median})
				lo, hi = math.Min(lo, s.Median), math.Max(hi, s.Median)
			}
			if len(xys) == 0 {
				continue
			}
			drawn = true
			l, sc, err := plotter.NewLinePoints(xys)
			if err != nil {
				return nil, fmt.Errorf("latency plot %s: %w", scenario, err)
			}
			styleLine(l, sc, v)
			p.Add(l, sc)
			if i == 0 {
				p.Legend.Add(v, l, sc)
			}
		}
		if hi > 0 {
			p.Y.Scale = plot.LogScale{}
			p.Y.Tick.Marker = logTicks{}
			p.Y.Min, p.Y.Max = lo/1.3, hi*1.3
		}
		p.Legend.Top, p.Legend.Left = true, true
		if i%2 == 0 {
			plots = append(plots, nil)
		}
		plots[len(plots)-1] = append(plots[len(plots)-1], p)
	}
	if !drawn {
		return nil, nil
	}
	tiles := draw.Tiles{Rows: 2, Cols: 2, PadX: vg.Millimeter * 4, PadY: vg.Millimeter * 4,
		PadTop: vg.Millimeter * 2, PadBottom: vg.Millimeter * 2, PadLeft: vg.Millimeter * 2, PadRight: vg.Millimeter * 2}
	name := "latency-" + results.Slug(scenario)
	err := save(dir, name, 10*vg.Inch, 7.5*vg.Inch, func(dc draw.Canvas) {
		cs := plot.Align(plots, tiles, dc)
		for r := range plots {
			for c := range plots[r] {
				plots[r][c].Draw(cs[r][c])
			}
		}
	})
	if err != nil {
		return nil, err
	}
	return []string{name}, nil
}

// CPUShare draws stacked bars of the hot-path CPU buckets per verifier at
// its reference load point (see RefPoint).
func CPUShare(dir string, f *results.File, scenario string) ([]string, error) {
	runs := analysis.ScenarioRuns(f, scenario)
	var names []string
	var buckets [4]plotter.Values
	for _, v := range analysis.Verifiers(runs) {
		pt, ok := analysis.RefPoint(runs, v)
		if !ok {
			continue
		}
		var sampled []results.Run
		for _, r := range pt.Runs {
			if r.CPUShare.Samples > 0 {
				sampled = append(sampled, r)
			}
		}
		if len(sampled) == 0 {
			continue
		}
		med := [4]float64{
			analysis.Of(sampled, func(r results.Run) float64 { return r.CPUShare.Crypt }).Median,
			analysis.Of(sampled, func(r results.Run) float64 { return r.CPUShare.ShadowRead }).Median,
			analysis.Of(sampled, func(r results.Run) float64 { return r.CPUShare.Stat }).Median,
			analysis.Of(sampled, func(r results.Run) float64 { return r.CPUShare.Other }).Median,
		}
		sum := med[0] + med[1] + med[2] + med[3]
		if sum <= 0 {
			continue
		}
		names = append(names, v)
		for i := range med {
			buckets[i] = append(buckets[i], med[i]/sum) // medians need not sum to 1
		}
	}
	if len(names) == 0 {
		return nil, nil
	}
	p := newPlot("Server CPU share by hot-path bucket — "+scenario, "", "share of CPU samples")
	var below *plotter.BarChart
	for i, label := range []string{"crypt", "shadow_read", "stat", "other"} {
		b, err := plotter.NewBarChart(buckets[i], vg.Points(40))
		if err != nil {
			return nil, fmt.Errorf("cpu share plot %s: %w", scenario, err)
		}
		b.Color = bucketColors[i]
		b.LineStyle.Width = 0
		if below != nil {
			b.StackOn(below)
		}
		below = b
		p.Add(b)
		p.Legend.Add(label, b)
	}
	p.Legend.Top = true
	p.NominalX(names...)
	barAxes(p, len(names))
	p.Y.Max = 1.3 // room for the legend above the bars
	return one(dir, "cpushare-"+results.Slug(scenario), p, plotW, plotH)
}

// CPUCost draws server CPU-seconds per 1000 requests per verifier at its
// reference load point, with min–max error bars over repeats.
func CPUCost(dir string, f *results.File, scenario string) ([]string, error) {
	runs := analysis.ScenarioRuns(f, scenario)
	p := newPlot("Server CPU-seconds per 1000 requests — "+scenario, "", "CPU-s / 1000 req")
	var names []string
	for _, v := range analysis.Verifiers(runs) {
		pt, ok := analysis.RefPoint(runs, v)
		if !ok {
			continue
		}
		var cost []float64
		for _, r := range pt.Runs {
			if r.CPUSecondsPer1kReq > 0 {
				cost = append(cost, r.CPUSecondsPer1kReq)
			}
		}
		s := analysis.SpreadOf(cost)
		if s.N == 0 {
			continue
		}
		x := float64(len(names))
		names = append(names, v)
		b, err := plotter.NewBarChart(plotter.Values{s.Median}, vg.Points(40))
		if err != nil {
			return nil, fmt.Errorf("cpu cost plot %s: %w", scenario, err)
		}
		b.XMin = x
		b.Color = VerifierColor(v)
		b.LineStyle.Width = 0
		p.Add(b)
		if err := addErrorBars(p, x, s); err != nil {
			return nil, fmt.Errorf("cpu cost plot %s: %w", scenario, err)
		}
	}
	if len(names) == 0 {
		return nil, nil
	}
	p.NominalX(names...)
	barAxes(p, len(names))
	return one(dir, "cpucost-"+results.Slug(scenario), p, plotW, plotH)
}

// Staleness draws, per revocation event of the scenario, the cumulative
// number of accepted old-secret probes against time since the event, one
// line per verifier (and per repeat of the event).
func Staleness(dir string, f *results.File, scenario string) ([]string, error) {
	var events []string
	byEvent := map[string][]results.Revocation{}
	for _, rv := range f.Revocations {
		if rv.Scenario != scenario || len(rv.Timeline) == 0 {
			continue
		}
		if _, ok := byEvent[rv.Event]; !ok {
			events = append(events, rv.Event)
		}
		byEvent[rv.Event] = append(byEvent[rv.Event], rv)
	}
	var out []string
	for _, ev := range events {
		revs := byEvent[ev]
		sort.SliceStable(revs, func(a, b int) bool { return analysis.VerifierLess(revs[a].Verifier, revs[b].Verifier) })
		p := newPlot("Old secret accepted around "+ev+" — "+scenario,
			"time since event (ms)", "accepted old-secret requests (cumulative)")
		legended := map[string]bool{}
		lo, hi := 0.0, 0.0
		for _, rv := range revs {
			pts := append([]results.ProbePoint(nil), rv.Timeline...)
			sort.SliceStable(pts, func(a, b int) bool { return pts[a].TMS < pts[b].TMS })
			xys := make(plotter.XYs, 0, len(pts)+1)
			xys = append(xys, plotter.XY{X: pts[0].TMS, Y: 0})
			n := 0
			for _, pt := range pts {
				if pt.Accepted {
					n++
				}
				xys = append(xys, plotter.XY{X: pt.TMS, Y: float64(n)})
			}
			lo, hi = math.Min(lo, pts[0].TMS), math.Max(hi, pts[len(pts)-1].TMS)
			l, err := plotter.NewLine(xys)
			if err != nil {
				return nil, fmt.Errorf("staleness plot %s/%s: %w", scenario, ev, err)
			}
			l.StepStyle = plotter.PostStep
			l.Color = VerifierColor(rv.Verifier)
			l.Width = vg.Points(1.5)
			l.Dashes = StyleOf(rv.Verifier).Dashes
			p.Add(l)
			if !legended[rv.Verifier] {
				legended[rv.Verifier] = true
				label := rv.Verifier
				if !rv.Pass {
					label += " (FAIL)"
				}
				p.Legend.Add(label, l)
			}
		}
		// The event itself, as a vertical rule at t = 0.
		ymax := math.Max(p.Y.Max, 1)
		ev0, err := plotter.NewLine(plotter.XYs{{X: 0, Y: 0}, {X: 0, Y: ymax}})
		if err != nil {
			return nil, fmt.Errorf("staleness plot %s/%s: %w", scenario, ev, err)
		}
		ev0.Color = color.Black
		ev0.Dashes = []vg.Length{vg.Points(2), vg.Points(2)}
		p.Add(ev0)
		p.Legend.Add("event", ev0)
		p.Legend.Top, p.Legend.Left = true, true
		p.X.Min, p.X.Max = math.Min(lo, 0), math.Max(hi, 0)
		p.Y.Min = 0
		names, err := one(dir, "staleness-"+results.Slug(scenario)+"-"+results.Slug(ev), p, plotW, plotH)
		if err != nil {
			return nil, err
		}
		out = append(out, names...)
	}
	return out, nil
}

// Tokens draws sustained throughput against the number of tokens in
// token.shadow, one line per verifier; skipped unless the scenario ran at
// least two token counts.
func Tokens(dir string, f *results.File, scenario string) ([]string, error) {
	runs := analysis.ScenarioRuns(f, scenario)
	counts := distinct(runs, func(r results.Run) (float64, bool) { return float64(r.Tokens), r.Tokens > 0 })
	if len(counts) < 2 {
		return nil, nil
	}
	p := newPlot("Throughput against token count — "+scenario, "tokens in token.shadow", "sustained requests/s")
	drawn := false
	for _, v := range analysis.Verifiers(runs) {
		var xys plotter.XYs
		var errs plotter.YErrors
		for _, n := range counts {
			var sel []results.Run
			for _, r := range analysis.ByVerifier(runs, v) {
				if float64(r.Tokens) == n {
					sel = append(sel, r)
				}
			}
			s, _ := analysis.KneeOf(sel)
			if s.N == 0 {
				continue
			}
			xys = append(xys, plotter.XY{X: n, Y: s.Median})
			errs = append(errs, struct{ Low, High float64 }{s.Median - s.Min, s.Max - s.Median})
		}
		if len(xys) == 0 {
			continue
		}
		drawn = true
		if err := addSeries(p, v, xys, errs); err != nil {
			return nil, fmt.Errorf("tokens plot %s: %w", scenario, err)
		}
	}
	if !drawn {
		return nil, nil
	}
	maybeLogX(p, counts)
	p.Y.Min = 0
	return one(dir, "tokens-"+results.Slug(scenario), p, plotW, plotH)
}

// Fallback draws the fallback rate (Fallback / (Fast+Slow)) against client
// concurrency, one line per verifier; skipped unless the scenario ran at
// least two concurrency levels with verifier counters.
func Fallback(dir string, f *results.File, scenario string) ([]string, error) {
	var runs []results.Run
	for _, r := range analysis.ScenarioRuns(f, scenario) {
		if !analysis.IsControl(r.Verifier) && r.Concurrency > 0 && !math.IsNaN(analysis.FallbackRate(r.VerifierStats)) {
			runs = append(runs, r)
		}
	}
	levels := distinct(runs, func(r results.Run) (float64, bool) { return float64(r.Concurrency), true })
	if len(levels) < 2 {
		return nil, nil
	}
	p := newPlot("Fast-path fallback rate against concurrency — "+scenario, "client concurrency", "fallback / (fast + slow)")
	for _, v := range analysis.Verifiers(runs) {
		var xys plotter.XYs
		var errs plotter.YErrors
		for _, c := range levels {
			var rates []float64
			for _, r := range analysis.ByVerifier(runs, v) {
				if float64(r.Concurrency) == c {
					rates = append(rates, analysis.FallbackRate(r.VerifierStats))
				}
			}
			s := analysis.SpreadOf(rates)
			if s.N == 0 {
				continue
			}
			xys = append(xys, plotter.XY{X: c, Y: s.Median})
			errs = append(errs, struct{ Low, High float64 }{s.Median - s.Min, s.Max - s.Median})
		}
		if err := addSeries(p, v, xys, errs); err != nil {
			return nil, fmt.Errorf("fallback plot %s: %w", scenario, err)
		}
	}
	maybeLogX(p, levels)
	p.Y.Min = 0
	return one(dir, "fallback-"+results.Slug(scenario), p, plotW, plotH)
}

// Resets draws cache resets per server process of multi-process runs,
// grouped by process, one bar per verifier (its highest offered rate,
// median over repeats).
func Resets(dir string, f *results.File, scenario string) ([]string, error) {
	var runs []results.Run
	for _, r := range analysis.ScenarioRuns(f, scenario) {
		if len(r.PerProcess) > 1 {
			runs = append(runs, r)
		}
	}
	vs := analysis.Verifiers(runs)
	if len(vs) == 0 {
		return nil, nil
	}
	nproc := 0
	for _, r := range runs {
		nproc = max(nproc, len(r.PerProcess))
	}
	p := newPlot("Cache resets per server process — "+scenario, "server process", "resets")
	width := vg.Points(math.Max(4, math.Min(24, 300/float64(nproc*len(vs)))))
	for i, v := range vs {
		pts := analysis.LoadPoints(runs, v)
		top := pts[len(pts)-1]
		vals := make(plotter.Values, nproc)
		for proc := range nproc {
			var xs []float64
			for _, r := range top.Runs {
				if proc < len(r.PerProcess) {
					xs = append(xs, float64(r.PerProcess[proc].Resets))
				}
			}
			vals[proc] = analysis.SpreadOf(xs).Median
		}
		b, err := plotter.NewBarChart(vals, width)
		if err != nil {
			return nil, fmt.Errorf("resets plot %s: %w", scenario, err)
		}
		b.Color = VerifierColor(v)
		b.LineStyle.Width = 0
		b.Offset = width * vg.Length(float64(i)-float64(len(vs)-1)/2)
		p.Add(b)
		p.Legend.Add(v, b)
	}
	labels := make([]string, nproc)
	for i := range labels {
		labels[i] = strconv.Itoa(i)
	}
	p.NominalX(labels...)
	p.Legend.Top = true
	barAxes(p, nproc)
	return one(dir, "resets-"+results.Slug(scenario), p, plotW, plotH)
}

// barAxes frames n nominal bar positions so edge bars are not clipped and
// leaves headroom above the bars for the legend.
func barAxes(p *plot.Plot, n int) {
	p.X.Min, p.X.Max = -0.6, float64(n)-0.4
	p.Y.Min = 0
	p.Y.Max *= 1.25
	if p.Y.Max <= 0 {
		p.Y.Max = 1
	}
}

func newPlot(title, x, y string) *plot.Plot {
	p := plot.New()
	p.Title.Text = title
	p.X.Label.Text = x
	p.Y.Label.Text = y
	p.Add(plotter.NewGrid())
	return p
}

func styleLine(l *plotter.Line, sc *plotter.Scatter, v string) {
	st := StyleOf(v)
	l.Color = st.Color
	l.Width = vg.Points(1.5)
	l.Dashes = st.Dashes
	sc.Color = st.Color
	sc.Shape = st.Shape
	sc.Radius = vg.Points(2.5)
}

// addSeries adds one verifier's line with points and, when repeats spread,
// error bars.
func addSeries(p *plot.Plot, v string, xys plotter.XYs, errs plotter.YErrors) error {
	if len(xys) == 0 {
		return nil
	}
	l, sc, err := plotter.NewLinePoints(xys)
	if err != nil {
		return err
	}
	styleLine(l, sc, v)
	p.Add(l, sc)
	p.Legend.Add(v, l, sc)
	spread := false
	for _, e := range errs {
		spread = spread || e.Low > 0 || e.High > 0
	}
	if !spread {
		return nil
	}
	eb, err := plotter.NewYErrorBars(errPoints{xys, errs})
	if err != nil {
		return err
	}
	eb.Color = VerifierColor(v)
	p.Add(eb)
	return nil
}

type errPoints struct {
	plotter.XYs
	plotter.YErrors
}

// addErrorBars adds a min–max bar at x when repeats disagree.
func addErrorBars(p *plot.Plot, x float64, s analysis.Spread) error {
	if s.N < 2 || s.Min == s.Max {
		return nil
	}
	eb, err := plotter.NewYErrorBars(errPoints{
		plotter.XYs{{X: x, Y: s.Median}},
		plotter.YErrors{{Low: s.Median - s.Min, High: s.Max - s.Median}},
	})
	if err != nil {
		return err
	}
	eb.Width = vg.Points(1.2)
	p.Add(eb)
	return nil
}

// distinct returns the sorted distinct values of key over runs.
func distinct(runs []results.Run, key func(results.Run) (float64, bool)) []float64 {
	seen := map[float64]bool{}
	var out []float64
	for _, r := range runs {
		if k, ok := key(r); ok && !seen[k] {
			seen[k] = true
			out = append(out, k)
		}
	}
	sort.Float64s(out)
	return out
}

// maybeLogX switches to a log X axis when xs span more than a factor of 20.
func maybeLogX(p *plot.Plot, xs []float64) {
	if len(xs) < 2 || xs[0] <= 0 || xs[len(xs)-1]/xs[0] <= 20 {
		return
	}
	p.X.Scale = plot.LogScale{}
	p.X.Tick.Marker = logTicks{}
	p.X.Min, p.X.Max = xs[0]/1.2, xs[len(xs)-1]*1.2
}

// one saves a single plot and returns its name.
func one(dir, name string, p *plot.Plot, w, h vg.Length) ([]string, error) {
	if err := save(dir, name, w, h, p.Draw); err != nil {
		return nil, err
	}
	return []string{name}, nil
}

// save renders drawFn into dir/name.png and dir/name.svg.
func save(dir, name string, w, h vg.Length, drawFn func(draw.Canvas)) error {
	if err := os.MkdirAll(dir, 0o755); err != nil {
		return fmt.Errorf("plot %s: %w", name, err)
	}
	img := vgimg.NewWith(vgimg.UseWH(w, h), vgimg.UseDPI(pngDPI))
	drawFn(draw.New(img))
	if err := writeTo(filepath.Join(dir, name+".png"), vgimg.PngCanvas{Canvas: img}); err != nil {
		return fmt.Errorf("plot %s: %w", name, err)
	}
	svg := vgsvg.New(w, h)
	drawFn(draw.New(svg))
	if err := writeTo(filepath.Join(dir, name+".svg"), svg); err != nil {
		return fmt.Errorf("plot %s: %w", name, err)
	}
	return nil
}

func writeTo(path string, wt io.WriterTo) error {
	fh, err := os.Create(path)
	if err != nil {
		return err
	}
	bw := bufio.NewWriter(fh)
	if _, err := wt.WriteTo(bw); err != nil {
		fh.Close()
		return err
	}
	if err := bw.Flush(); err != nil {
		fh.Close()
		return err
	}
	return fh.Close()
}
