package results

import (
	"fmt"
	"io"
	"strings"

	"golang.org/x/perf/benchfmt"
)

// WriteBenchFormat writes the measured runs in Go's benchmark format, one
// line per run (repeats become repeated lines, as -count makes them), so
// benchstat and `bench gate --baseline/--candidate` can compare suites:
//
//	BenchmarkHTTP/scenario=steady_tokens-100/verifier=ttl/phase=constant 4000 812 p50-µs 2100 p99-µs ...
//
// Verifier names keep one name part: ticket/mtime is written
// verifier=ticket:mtime (results.json keeps ticket/mtime).
//
// Knee searches add one BenchmarkKnee line per verifier; knee steps and
// windows without requests are left out. The lines go through x/perf's
// benchfmt.Writer, so what benchstat reads back is what was meant.
func WriteBenchFormat(w io.Writer, f *File) error {
	bw := benchfmt.NewWriter(w)
	config := []benchfmt.Config{
		{Key: "goos", Value: []byte(f.Env.GOOS), File: true},
		{Key: "goarch", Value: []byte(f.Env.GOARCH), File: true},
		{Key: "cpu", Value: []byte(f.Env.CPUModel), File: true},
		{Key: "pkg", Value: []byte("authbench/http"), File: true},
	}
	for _, r := range f.Runs {
		name := fmt.Sprintf("scenario=%s/verifier=%s", Slug(r.Scenario), benchVerifier(r.Verifier))
		res := &benchfmt.Result{Config: config}
		switch r.Phase {
		case PhaseKnee:
			res.Name = benchfmt.Name("Knee/" + name)
			res.Iters = 1
			res.Values = []benchfmt.Value{{Value: r.KneeRPS, Unit: "knee-req/s"}}
		case PhaseKneeStep:
			continue
		default:
			if r.Requests == 0 {
				continue
			}
			res.Name = benchfmt.Name("HTTP/" + name + "/phase=" + Slug(r.Phase))
			res.Iters = int(min(r.Requests, 1<<62))
			res.Values = []benchfmt.Value{
				{Value: r.Latency.P50, Unit: "p50-µs"},
				{Value: r.Latency.P99, Unit: "p99-µs"},
				{Value: r.AchievedRPS, Unit: "achieved-req/s"},
				{Value: r.CPUSecondsPer1kReq, Unit: "cpu-ms/req"}, // CPU-s per 1000 requests = CPU-ms per request
				{Value: r.SlowFraction, Unit: "slow/op"},
				{Value: r.CPUShare.Crypt, Unit: "crypt-share"},
			}
		}
		if err := bw.Write(res); err != nil {
			return fmt.Errorf("write bench format: %w", err)
		}
	}
	return nil
}

// benchVerifier makes a verifier name one benchmark-name part: benchfmt
// splits names at '/' into sub-benchmarks, which would turn
// verifier=ticket/mtime into a part "mtime" with no key.
func benchVerifier(name string) string { return strings.ReplaceAll(name, "/", ":") }

// CheckMicrobench validates verifier microbenchmark output (go test -bench
// of impl) before it is saved with a run: it must parse as Go benchmark
// format and hold at least one BenchmarkVerify result. It returns their
// number; name is used in errors.
func CheckMicrobench(r io.Reader, name string) (int, error) {
	rd := benchfmt.NewReader(r, name)
	n := 0
	for rd.Scan() {
		switch rec := rd.Result().(type) {
		case *benchfmt.SyntaxError:
			return 0, fmt.Errorf("microbenchmarks: %w", rec)
		case *benchfmt.Result:
			if base, _ := rec.Name.Parts(); string(base) == "Verify" {
				n++
			}
		}
	}
	if err := rd.Err(); err != nil {
		return 0, fmt.Errorf("microbenchmarks: read %s: %w", name, err)
	}
	if n == 0 {
		return 0, fmt.Errorf("microbenchmarks: %s holds no BenchmarkVerify results (want go test -bench 'Verify/' ./impl/ output)", name)
	}
	return n, nil
}
