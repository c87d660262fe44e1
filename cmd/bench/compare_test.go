package main

import (
	"bytes"
	"context"
	"errors"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/authbench/authbench/internal/results"
)

// roundsRun writes a results file with three interleaved rounds of the
// control, its A/A copy, uncached and ttl; ttlCPU scales ttl's cost.
func roundsRun(t *testing.T, id string, ttlCPU float64, rounds bool) string {
	t.Helper()
	f := &results.File{RunID: id}
	drift := []float64{1, 1.2, 0.9}
	noise := []float64{1, 1.04, 0.96, 1.02} // per verifier and round, beside the drift all share
	for i, v := range []struct {
		name string
		cpu  float64
	}{{results.ControlVerifier, 0.05}, {results.ControlCopyVerifier, 0.05}, {"uncached", 2}, {"ttl", 0.06 * ttlCPU}} {
		for r, d := range drift {
			run := results.Run{Scenario: "steady", Verifier: v.name, Phase: results.PhaseConstant, Repeat: r,
				OfferedRPS: 500, AchievedRPS: 500, Requests: 5000, SuccessRatio: 1, CPUSecondsPer1kReq: v.cpu * d * noise[(i+r)%len(noise)]}
			if rounds {
				run.Round = r + 1
			}
			f.Runs = append(f.Runs, run)
		}
	}
	dir := filepath.Join(t.TempDir(), id)
	if err := os.MkdirAll(dir, 0o755); err != nil {
		t.Fatal(err)
	}
	if err := results.Write(dir, f); err != nil {
		t.Fatal(err)
	}
	return dir
}

func TestCompareCommand(t *testing.T) {
	t.Parallel()
	a := roundsRun(t, "a", 1, true)
	tests := []struct {
		name     string
		args     []string
		code     int
		stdout   string
		stderrIn string
	}{
		{"same runs agree", []string{a, roundsRun(t, "b", 1.03, true)}, 0, "all ", ""},
		{"a slower ttl disagrees", []string{a, roundsRun(t, "c", 1.5, true)}, 1, "DISAGREE", ""},
		{"a wider tolerance does not hide non-overlapping intervals", []string{"--tolerance", "0.9", a, roundsRun(t, "d", 1.5, true)}, 1, "intervals do not overlap", ""},
		{"older schema without rounds", []string{a, roundsRun(t, "old", 1, false)}, 2, "", "no interleaved rounds"},
		{"unreadable dir", []string{a, filepath.Join(t.TempDir(), "absent")}, 2, "", "read results"},
		{"one run", []string{a}, 2, "", "two runs"},
		{"bad tolerance", []string{"--tolerance", "2", a, a}, 2, "", "tolerance"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			var out, errOut bytes.Buffer
			err := runCompare(context.Background(), tc.args, nil, &out, &errOut)
			code := 0
			if err != nil {
				code = 2
				var ee *exitError
				if errors.As(err, &ee) {
					code = ee.code
				}
				errOut.WriteString(err.Error())
			}
			if code != tc.code {
				t.Errorf("exit %d, want %d (stdout %q, stderr %q)", code, tc.code, out.String(), errOut.String())
			}
			if !strings.Contains(out.String(), tc.stdout) || !strings.Contains(errOut.String(), tc.stderrIn) {
				t.Errorf("stdout %q (want %q), stderr %q (want %q)", out.String(), tc.stdout, errOut.String(), tc.stderrIn)
			}
		})
	}
}
