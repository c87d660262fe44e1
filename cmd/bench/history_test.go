package main

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"testing"
)

const sampleRun = "../../reports/samples/20261201T103236Z"

// scaleLines multiplies every value of the benchmark lines whose name
// contains match by f.
func scaleLines(body, match string, f float64) string {
	lines := strings.Split(body, "\n")
	for i, l := range lines {
		fields := strings.Fields(l)
		if len(fields) < 4 || !strings.HasPrefix(fields[0], "Benchmark") || !strings.Contains(fields[0], match) {
			continue
		}
		for j := 2; j+1 < len(fields); j += 2 {
			if v, err := strconv.ParseFloat(fields[j], 64); err == nil {
				fields[j] = strconv.FormatFloat(v*f, 'g', -1, 64)
			}
		}
		lines[i] = strings.Join(fields, " ")
	}
	return strings.Join(lines, "\n")
}

// savedSeries copies the sample run n times into t.TempDir() with its own
// commit and date, a little jitter, and every verifier=ttl metric 20 %
// higher from run `step` on.
func savedSeries(t *testing.T, n, step int) []string {
	t.Helper()
	js, err := os.ReadFile(filepath.Join(sampleRun, "results.json"))
	if err != nil {
		t.Skipf("sample run not present: %v", err)
	}
	bench, err := os.ReadFile(filepath.Join(sampleRun, "bench.txt"))
	if err != nil {
		t.Fatal(err)
	}
	var dirs []string
	for i := range n {
		var f map[string]any
		if err := json.Unmarshal(js, &f); err != nil {
			t.Fatal(err)
		}
		env := f["env"].(map[string]any)
		env["commit"] = fmt.Sprintf("c%06d", i)
		env["date"] = fmt.Sprintf("2026-12-%02dT10:00:00Z", i+1)
		delete(f, "microbench")
		body := scaleLines(string(bench), "Benchmark", 1+0.002*float64(i%3))
		if i >= step {
			body = scaleLines(body, "verifier=ttl/", 1.2)
		}
		// Written in reverse order: history must sort by date.
		dir := filepath.Join(t.TempDir(), fmt.Sprintf("run%02d", n-i))
		out, _ := json.Marshal(f)
		if err := os.MkdirAll(dir, 0o755); err != nil {
			t.Fatal(err)
		}
		writeFile(t, dir, "results.json", string(out))
		writeFile(t, dir, "bench.txt", body)
		dirs = append(dirs, dir)
	}
	return dirs
}

// TestHistorySavedRuns names the planted step's commit, and nothing else,
// in a series built from a real saved run.
func TestHistorySavedRuns(t *testing.T) {
	dirs := savedSeries(t, 8, 5)
	out, err := runGateTestCmd(t, runHistory, dirs)
	if err != nil {
		t.Fatalf("%v\n%s", err, out)
	}
	var steps []string
	for _, l := range strings.Split(out, "\n") {
		if strings.HasPrefix(l, "step at ") {
			steps = append(steps, l)
			if !strings.HasPrefix(l, "step at c000005 ") || !strings.Contains(l, "verifier=ttl/") {
				t.Errorf("unexpected step: %s", l)
			}
		}
	}
	if len(steps) == 0 {
		t.Errorf("no step found:\n%s", out)
	}
}

func TestHistoryErrors(t *testing.T) {
	for _, args := range [][]string{{}, {t.TempDir()}, {"--min-segment", "1", sampleRun}} {
		if _, err := runGateTestCmd(t, runHistory, args); exitOfErr(err) != 2 {
			t.Errorf("%v: err %v, want exit 2", args, err)
		}
	}
	dirs := savedSeries(t, 4, 2)
	out, err := runGateTestCmd(t, runHistory, dirs)
	if err != nil || !strings.Contains(out, "undecidable") {
		t.Errorf("4 runs: %v\n%s", err, out)
	}
}

func runGateTestCmd(t *testing.T, cmd func(ctx context.Context, args []string, stdin io.Reader, stdout, stderr io.Writer) error, args []string) (string, error) {
	t.Helper()
	var out, errb bytes.Buffer
	err := cmd(context.Background(), args, strings.NewReader(""), &out, &errb)
	return out.String() + errb.String(), err
}
