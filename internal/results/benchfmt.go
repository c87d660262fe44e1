package results

import (
	"fmt"
	"io"
	"strings"
)

// WriteBenchFormat writes the measured runs in Go's benchmark format, one
// line per run (repeats become repeated lines, as -count makes them), so
// benchstat and `bench gate --baseline/--candidate` can compare suites:
//
//	BenchmarkHTTP/scenario=steady_tokens-100/verifier=ttl 4000 812 p50-µs 2100 p99-µs ...
//
// Knee searches add one BenchmarkKnee line per verifier.
func WriteBenchFormat(w io.Writer, f *File) error {
	clean := func(s string) string {
		return strings.NewReplacer("/", "_", " ", "_", "=", "-", ",", "_").Replace(s)
	}
	fmt.Fprintf(w, "goos: %s\ngoarch: %s\ncpu: %s\npkg: authbench/http\n", f.Env.GOOS, f.Env.GOARCH, f.Env.CPUModel)
	for _, r := range f.Runs {
		name := fmt.Sprintf("scenario=%s/verifier=%s", clean(r.Scenario), r.Verifier)
		switch r.Phase {
		case "knee":
			if _, err := fmt.Fprintf(w, "BenchmarkKnee/%s 1 %.1f knee-req/s\n", name, r.KneeRPS); err != nil {
				return err
			}
		case "knee-step":
		default:
			if r.Requests == 0 {
				continue
			}
			_, err := fmt.Fprintf(w, "BenchmarkHTTP/%s/phase=%s %d %.1f p50-µs %.1f p99-µs %.1f achieved-req/s %.3f cpu-ms/req %.4f slow/op %.4f crypt-share\n",
				name, clean(r.Phase), r.Requests, r.Latency.P50, r.Latency.P99, r.AchievedRPS,
				r.CPUSecondsPer1kReq, r.SlowFraction, r.CPUShare.Crypt)
			if err != nil {
				return err
			}
		}
	}
	return nil
}
