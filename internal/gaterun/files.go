package gaterun

import (
	"fmt"
	"io"
	"os"
	"path/filepath"
	"regexp"
	"strconv"
	"strings"

	"github.com/authbench/authbench/impl"
	"github.com/authbench/authbench/internal/gate"
)

// Files runs the statistical gate on two sets of Go benchmark files: nil
// on a pass, an error wrapping ErrRegression on a regression, any other
// error when no verdict is possible.
func Files(basePaths, candPaths []string, opts gate.Options, stdout io.Writer) error {
	base, err := gate.ReadBenchFiles(basePaths...)
	if err != nil {
		return fmt.Errorf("baseline: %w", err)
	}
	cand, err := gate.ReadBenchFiles(candPaths...)
	if err != nil {
		return fmt.Errorf("candidate: %w", err)
	}
	rep, err := Judge(base, cand, opts)
	if rep != nil {
		if werr := rep.WriteTable(stdout); werr != nil {
			return werr
		}
	}
	if err != nil {
		return err
	}
	if rep.Failed() {
		var names []string
		for _, m := range rep.Regressions() {
			names = append(names, m.Key.String())
		}
		return fmt.Errorf("%w in %d metric(s): %s", ErrRegression, len(names), strings.Join(names, ", "))
	}
	fmt.Fprintln(stdout, "gate: pass")
	return nil
}

// CachedHits is the default of instruction rounds: the hit of every cached
// verifier. The uncached hit is a full crypt (about 34 M instructions)
// that would take minutes under callgrind at a fixed count; time rounds
// cover it.
func CachedHits() string {
	var names []string
	for _, s := range impl.Specs() {
		if s.Cached {
			names = append(names, regexp.QuoteMeta(s.Name))
		}
	}
	return "BenchmarkVerify/^(" + strings.Join(names, "|") + ")$/^hit$"
}

// CachedVerifiers names the cached verifiers, whose hits the in-process
// A/B times by default.
func CachedVerifiers() []string {
	var names []string
	for _, s := range impl.Specs() {
		if s.Cached {
			names = append(names, s.Name)
		}
	}
	return names
}

// CalibrationVerifiers are CalibrationBench's verifiers, for the
// in-process A/B.
func CalibrationVerifiers() []string { return []string{"generation", "mtime", "ttl"} }

// ParseFractions reads a comma-separated list of slowdowns in (0, 10].
func ParseFractions(s string) ([]float64, error) {
	var out []float64
	for _, f := range strings.Split(s, ",") {
		if f = strings.TrimSpace(f); f == "" {
			continue
		}
		v, err := strconv.ParseFloat(f, 64)
		if err != nil || !(v > 0 && v <= 10) {
			return nil, fmt.Errorf("--planted %q: want fractions in (0, 10], comma-separated", s)
		}
		out = append(out, v)
	}
	return out, nil
}

// ProbeScenario resolves the HTTP probe scenario against the candidate
// checkout; empty skips the probe.
func ProbeScenario(p, repo string) (string, error) {
	if p == "" {
		return "", nil
	}
	if !filepath.IsAbs(p) {
		p = filepath.Join(repo, p)
	}
	if _, err := os.Stat(p); err != nil {
		return "", fmt.Errorf("gate scenario: %w", err)
	}
	return p, nil
}
