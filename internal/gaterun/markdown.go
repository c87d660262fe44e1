package gaterun

import (
	"fmt"
	"io"
	"math"
	"slices"
	"strings"
)

// WriteMarkdown writes the calibration table: one row per method, then
// each method's per-metric noise and measured slowdown.
func WriteMarkdown(w io.Writer, cal *Calibration) error {
	var b strings.Builder
	cond := "quiet (as the machine was)"
	if cal.Neighbour {
		cond = "noisy neighbour running (one thread, busy 0–40 ms, idle 0–40 ms)"
	}
	fmt.Fprintf(&b, "## Gate calibration, %s\n\n", cal.Date)
	fmt.Fprintf(&b, "%s/%s, %d CPUs; %s. Benchmarks `%s`; time rounds take the best of %d samples of %s, instruction rounds count under callgrind with -benchtime %s; alpha %g; injected slowdown +%g %%; %.0f s in all.\n\n",
		cal.GOOS, cal.GOARCH, cal.NumCPU, cond, cal.Bench, cal.Samples, cal.SampleTime, cal.InstrTime, cal.Alpha, 100*cal.Slowdown, cal.Seconds)
	fmt.Fprintf(&b, "| method | unit | rounds | trials | min effect | A/A false alarms | +%g %% detected (every metric) | at least one | noise CV | recommended N | s per round | gate est. | meets targets |\n", 100*cal.Slowdown)
	b.WriteString("|---|---|---|---|---|---|---|---|---|---|---|---|---|\n")
	for _, r := range cal.Methods {
		rec := "none"
		if r.RecommendedN > 0 {
			rec = fmt.Sprint(r.RecommendedN)
		}
		meets := verdictOf(r)
		if meets == "met" {
			meets = "**met**"
		}
		fmt.Fprintf(&b, "| %s | %s | %d | %d | %g %% | %s | %s | %s | %s | %s | %.2f | %.0f s | %s |\n",
			r.Method, r.Unit, r.Rounds, r.Trials, 100*r.MinEffect,
			rate(r.FalseAlarms, r.Trials), rate(r.DetectedAll, r.Trials), rate(r.DetectedAny, r.Trials),
			cvRange(r.CV), rec, r.RoundSeconds, r.GateSeconds, meets)
	}
	fmt.Fprintf(&b, "\nTargets with the neighbour running: ≤ %g %% false alarms, ≥ %g %% detection, gate ≤ %.0f min, judged on the 95 %% intervals (Clopper–Pearson). \"gate est.\" is both sides' rounds of these benchmarks at max(rounds, recommended N), builds and the HTTP probe excluded.\n",
		100*TargetFalseAlarm, 100*TargetDetection, TargetGate.Minutes())
	writeRates(&b, cal)
	for _, r := range cal.Methods {
		fmt.Fprintf(&b, "\n### %s\n\n| metric | noise CV | A'/A median ratio |\n|---|---|---|\n", r.Method)
		names := make([]string, 0, len(r.CV))
		for n := range r.CV {
			names = append(names, n)
		}
		for n := range r.MedianRatio {
			if !slices.Contains(names, n) {
				names = append(names, n)
			}
		}
		slices.Sort(names)
		for _, n := range names {
			fmt.Fprintf(&b, "| %s | %s | %.3f |\n", n, pct(r.CV[n]), r.MedianRatio[n])
		}
		rec := "none"
		if r.RecommendedN > 0 {
			rec = fmt.Sprint(r.RecommendedN)
		}
		if r.RecommendNote != "" {
			rec += " (" + r.RecommendNote + ")"
		}
		fmt.Fprintf(&b, "\nrecommended N for +%g %% at 95 %% power and ≤ 1 %% false alarms (lognormal simulation at the measured CVs): %s\n", 100*cal.Slowdown, rec)
		if len(r.SlowdownIters) > 0 {
			fmt.Fprintf(&b, "slowdown work (spin iterations per accepted call, from exact counts): %s\n", formatIters(r.SlowdownIters))
		}
	}
	_, err := io.WriteString(w, b.String())
	if err != nil {
		return fmt.Errorf("write calibration: %w", err)
	}
	return nil
}

func rate(n, of int) string {
	if of == 0 {
		return "-"
	}
	return fmt.Sprintf("%d/%d = %.0f %%", n, of, 100*float64(n)/float64(of))
}

func pct(cv float64) string {
	if math.IsNaN(cv) {
		return "- (zeros)"
	}
	return fmt.Sprintf("%.2f %%", 100*cv)
}

func cvRange(cvs map[string]float64) string {
	lo, hi := math.Inf(1), math.Inf(-1)
	for _, cv := range cvs {
		if !math.IsNaN(cv) {
			lo, hi = math.Min(lo, cv), math.Max(hi, cv)
		}
	}
	if math.IsInf(lo, 1) {
		return "-"
	}
	if lo == hi {
		return pct(lo)
	}
	return fmt.Sprintf("%.2f–%.2f %%", 100*lo, 100*hi)
}
