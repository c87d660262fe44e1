package plotting

import (
	"bufio"
	"fmt"
	"io"
	"os"
	"path/filepath"

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

// builders are the per-scenario plots All draws, in order.
var builders = []func(*results.File, string) ([]figure, error){
	kneeFigs, latencyFigs, cpuShareFigs, cpuCostFigs, stalenessFigs, tokensFigs, fallbackFigs, resetsFigs,
}

// All draws every plot for every scenario of f into dir (created if needed),
// the cluster timelines (ClusterPlots) included, and returns the plot names
// per scenario.
func All(dir string, f *results.File) (map[string][]string, error) {
	figs, err := allFigures(f)
	if err != nil {
		return nil, err
	}
	out := map[string][]string{}
	for s, fs := range figs {
		names, err := write(dir, fs)
		if err != nil {
			return nil, err
		}
		out[s] = names
	}
	return out, nil
}

// allFigures builds All's figures per scenario without writing them.
func allFigures(f *results.File) (map[string][]figure, error) {
	out := map[string][]figure{}
	for _, s := range analysis.Scenarios(f) {
		var figs []figure
		for _, build := range builders {
			fs, err := build(f, s)
			if err != nil {
				return nil, err
			}
			figs = append(figs, fs...)
		}
		if len(figs) > 0 {
			out[s] = figs
		}
	}
	// Cluster scenarios have no runs, so the loop above never sees them.
	for _, s := range analysis.ClusterScenarios(f) {
		fs, err := clusterFigs(f, s)
		if err != nil {
			return nil, err
		}
		if len(fs) > 0 {
			out[s] = append(out[s], fs...)
		}
	}
	return out, nil
}

// Knee draws the sustained throughput per verifier of one scenario as bars
// (see kneeFigs).
func Knee(dir string, f *results.File, scenario string) ([]string, error) {
	return build(dir, f, scenario, kneeFigs)
}

// Latency draws the latency percentiles of one scenario (see latencyFigs).
func Latency(dir string, f *results.File, scenario string) ([]string, error) {
	return build(dir, f, scenario, latencyFigs)
}

// CPUShare draws the hot-path CPU buckets per verifier (see cpuShareFigs).
func CPUShare(dir string, f *results.File, scenario string) ([]string, error) {
	return build(dir, f, scenario, cpuShareFigs)
}

// CPUCost draws server CPU per request per verifier (see cpuCostFigs).
func CPUCost(dir string, f *results.File, scenario string) ([]string, error) {
	return build(dir, f, scenario, cpuCostFigs)
}

// Staleness draws the accepted old-secret probes around each revocation
// event (see stalenessFigs).
func Staleness(dir string, f *results.File, scenario string) ([]string, error) {
	return build(dir, f, scenario, stalenessFigs)
}

// Tokens draws throughput against the token count (see tokensFigs).
func Tokens(dir string, f *results.File, scenario string) ([]string, error) {
	return build(dir, f, scenario, tokensFigs)
}

// Fallback draws the fallback rate against concurrency (see fallbackFigs).
func Fallback(dir string, f *results.File, scenario string) ([]string, error) {
	return build(dir, f, scenario, fallbackFigs)
}

// Resets draws cache resets per server process (see resetsFigs).
func Resets(dir string, f *results.File, scenario string) ([]string, error) {
	return build(dir, f, scenario, resetsFigs)
}

func build(dir string, f *results.File, scenario string, fn func(*results.File, string) ([]figure, error)) ([]string, error) {
	figs, err := fn(f, scenario)
	if err != nil {
		return nil, err
	}
	return write(dir, figs)
}

// newPlot is a plot with a grid and the shared tick formatter on both axes.
func newPlot(title, x, y string) *plot.Plot {
	p := plot.New()
	p.Title.Text = title
	p.X.Label.Text = x
	p.Y.Label.Text = y
	p.X.Tick.Marker, p.Y.Tick.Marker = numTicks{}, numTicks{}
	p.Add(plotter.NewGrid())
	return p
}

// write saves every figure into dir and returns their names; none for no
// figures.
func write(dir string, figs []figure) ([]string, error) {
	var names []string
	for _, fg := range figs {
		if err := save(dir, fg.name, fg.w, fg.h, fg.draw); err != nil {
			return nil, err
		}
		names = append(names, fg.name)
	}
	return names, nil
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
