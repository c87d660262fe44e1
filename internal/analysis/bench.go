package analysis

import (
	"fmt"
	"io"
	"math"
	"strings"

	"golang.org/x/perf/benchfmt"
	"golang.org/x/perf/benchmath"
)

// BenchConfidence is the confidence of a microbenchmark's interval.
const BenchConfidence = 0.95

// MinBenchRuns is the number of runs per benchmark the suite records
// (make bench-go: -count 10); fewer still get a summary, flagged.
const MinBenchRuns = 10

// Bench is a microbenchmark's result as benchstat states it: the median
// of the runs with a distribution-free 95 % interval (benchmath's
// AssumeNothing, the same computation benchstat prints as "± x %"), and
// n. It is the one definition the report and the README quote.
type Bench struct {
	Median, Lo, Hi float64
	N              int
	// Confidence is the interval's actual coverage (≥ 95 % when N allows
	// it; with fewer than 6 runs benchmath gives no interval and Lo, Hi
	// are the min and max, Confidence 0).
	Confidence float64
	// Warning repeats benchmath's warnings (e.g. too few samples).
	Warning string
}

// BenchOf summarises the values of one benchmark.
func BenchOf(xs []float64) Bench {
	v := finite(xs)
	if len(v) == 0 {
		return Bench{}
	}
	s := benchmath.AssumeNothing.Summary(benchmath.NewSample(v, &benchmath.DefaultThresholds), BenchConfidence)
	b := Bench{Median: s.Center, Lo: s.Lo, Hi: s.Hi, N: len(v), Confidence: s.Confidence}
	if math.IsInf(s.Lo, 0) || math.IsInf(s.Hi, 0) || math.IsNaN(s.Lo) || math.IsNaN(s.Hi) {
		sp := SpreadOf(v)
		b.Lo, b.Hi, b.Confidence = sp.Min, sp.Max, 0
	}
	var ws []string
	for _, w := range s.Warnings {
		ws = append(ws, w.Error())
	}
	if len(v) < MinBenchRuns {
		ws = append(ws, fmt.Sprintf("%d runs, the suite records %d", len(v), MinBenchRuns))
	}
	b.Warning = strings.Join(ws, "; ")
	return b
}

// HasInterval reports whether b has a 95 % interval.
func (b Bench) HasInterval() bool { return b.N > 0 && b.Confidence >= BenchConfidence }

// HitPath reads Go benchmark output (make bench-go) and returns the
// hit-path ns/op of each verifier (BenchmarkVerify/<name>/hit), over the
// file's repeated lines.
func HitPath(r io.Reader, fileName string) (map[string]Bench, error) {
	rd := benchfmt.NewReader(r, fileName)
	vals := map[string][]float64{}
	for rd.Scan() {
		res, ok := rd.Result().(*benchfmt.Result)
		if !ok {
			continue
		}
		base, parts := res.Name.Parts()
		if string(base) != "Verify" || len(parts) < 2 || string(parts[1]) != "/hit" {
			continue
		}
		if ns, ok := nsPerOp(res); ok {
			v := strings.TrimPrefix(string(parts[0]), "/")
			vals[v] = append(vals[v], ns)
		}
	}
	if err := rd.Err(); err != nil {
		return nil, fmt.Errorf("read %s: %w", fileName, err)
	}
	out := map[string]Bench{}
	for v, xs := range vals {
		out[v] = BenchOf(xs)
	}
	return out, nil
}

// nsPerOp returns a result's ns/op as written (benchfmt tidies it to
// sec/op; the original value avoids a rounding round trip).
func nsPerOp(res *benchfmt.Result) (float64, bool) {
	for _, v := range res.Values {
		if v.OrigUnit == "ns/op" {
			return v.OrigValue, true
		}
	}
	if sec, ok := res.Value("sec/op"); ok {
		return sec * 1e9, true
	}
	return 0, false
}
