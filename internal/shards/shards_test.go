package shards

import (
	"bytes"
	"encoding/json"
	"errors"
	"flag"
	"fmt"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"
	"time"

	vegeta "github.com/tsenart/vegeta/v12/lib"
)

var update = flag.Bool("update", false, "rewrite the golden files in testdata/")

// writeSynthetic writes a shard's vegeta results (requests from t0, one
// every 10 ms, latency growing with i, every tenth a 401) and its sidecar.
func writeSynthetic(t *testing.T, dir string, index, count int, t0 time.Time, requests int, lat time.Duration) {
	t.Helper()
	var buf bytes.Buffer
	enc := vegeta.NewEncoder(&buf)
	for i := range requests {
		r := vegeta.Result{Attack: "x", Code: 200, Timestamp: t0.Add(time.Duration(i) * 10 * time.Millisecond),
			Latency: lat + time.Duration(i)*time.Microsecond, Method: "GET", URL: "http://pbs.invalid/api2/json/version"}
		if i%10 == 9 {
			r.Code = 401
		}
		if err := enc.Encode(&r); err != nil {
			t.Fatal(err)
		}
	}
	name := fmt.Sprintf("s%d", index)
	if err := os.WriteFile(filepath.Join(dir, name+".bin"), buf.Bytes(), 0o644); err != nil {
		t.Fatal(err)
	}
	sc := Sidecar{Shard: fmt.Sprintf("%d/%d", index, count), Index: index, Count: count, OfferedRPS: 100, TotalOfferedRPS: 100 * float64(count),
		Start: t0, End: t0.Add(time.Duration(requests) * 10 * time.Millisecond), ResultsFile: name + ".bin",
		Requests: uint64(requests), Host: fmt.Sprintf("gen-%d", index), Command: []string{"bench", "attack"}}
	if err := WriteSidecar(filepath.Join(dir, name+SidecarSuffix), sc); err != nil {
		t.Fatal(err)
	}
}

// merge loads and merges the shards named by args into dir/out.
func merge(t *testing.T, dir string, args ...string) (Summary, error) {
	t.Helper()
	set, err := Load(args)
	if err != nil {
		return Summary{}, err
	}
	return Merge(set, filepath.Join(dir, "out"))
}

// TestMergeGolden merges fixed synthetic shards (the second starting
// late, so they overlap only partly) and compares attack.md with
// testdata/attack.md; run with -update after reviewing a change.
func TestMergeGolden(t *testing.T) {
	dir := t.TempDir()
	t0 := time.Date(2026, 5, 1, 10, 0, 0, 0, time.UTC)
	writeSynthetic(t, dir, 1, 2, t0, 100, 2*time.Millisecond)
	writeSynthetic(t, dir, 2, 2, t0.Add(500*time.Millisecond), 100, 5*time.Millisecond)
	if _, err := merge(t, dir, dir); err != nil {
		t.Fatal(err)
	}
	out := filepath.Join(dir, "out")
	got, err := os.ReadFile(filepath.Join(out, SummaryMarkdown))
	if err != nil {
		t.Fatal(err)
	}
	golden := filepath.Join("testdata", "attack.md")
	if *update {
		if err := os.WriteFile(golden, got, 0o644); err != nil {
			t.Fatal(err)
		}
	}
	want, err := os.ReadFile(golden)
	if err != nil {
		t.Fatalf("%v (go test ./internal/shards -run MergeGolden -update)", err)
	}
	if !bytes.Equal(got, want) {
		t.Errorf("attack.md differs from %s:\n%s", golden, got)
	}
	data, err := os.ReadFile(filepath.Join(out, SummaryJSON))
	if err != nil {
		t.Fatal(err)
	}
	var sum Summary
	if err := json.Unmarshal(data, &sum); err != nil {
		t.Fatal(err)
	}
	if sum.Requests != 200 || sum.OfferedRPS != 200 || sum.SuccessRatio != 0.9 || sum.Overlap <= 0 || sum.Overlap >= 1 {
		t.Errorf("summary %+v", sum)
	}
	if _, err := os.Stat(filepath.Join(out, MergedResults)); err != nil {
		t.Error(err)
	}
}

// TestShardErrors: bad shard sets are refused with a clear error rather
// than merged into a wrong total; a missing shard is merged with a
// warning.
func TestShardErrors(t *testing.T) {
	t0 := time.Date(2026, 5, 1, 10, 0, 0, 0, time.UTC)
	tests := []struct {
		name    string
		shards  [][2]int // index, count
		extra   func(t *testing.T, dir string)
		fails   bool
		wantOut string // in the error, or else in attack.md
	}{
		{"duplicate shard", [][2]int{{1, 2}, {1, 2}}, nil, true, "twice"},
		{"mixed counts", [][2]int{{1, 2}, {2, 3}}, nil, true, "not one load"},
		{"missing shard", [][2]int{{1, 3}, {3, 3}}, nil, false, "WARNING: shards 2 missing"},
		{"no sidecars", nil, nil, true, "no shard sidecars"},
		{"a shard that sent nothing", [][2]int{{1, 2}}, func(t *testing.T, dir string) {
			writeSynthetic(t, dir, 2, 2, time.Time{}, 0, 0)
		}, false, "| 2/2 | gen-2 | 100.0 | 0.0 | 0 | 0.00 % | 0s | 0s | — |"},
		{"results outside the directory", nil, func(t *testing.T, dir string) {
			WriteSidecar(filepath.Join(dir, "bad"+SidecarSuffix), Sidecar{Shard: "1/1", Index: 1, Count: 1, ResultsFile: "../x.bin"})
		}, true, "not a bench attack shard"},
		{"index out of range", nil, func(t *testing.T, dir string) {
			WriteSidecar(filepath.Join(dir, "bad"+SidecarSuffix), Sidecar{Shard: "4/3", Index: 4, Count: 3, ResultsFile: "x.bin"})
		}, true, "not a bench attack shard"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			root := t.TempDir()
			var args []string
			for i, s := range tt.shards {
				d := filepath.Join(root, fmt.Sprint("gen", i)) // one directory per generator, as after a download
				os.Mkdir(d, 0o755)
				writeSynthetic(t, d, s[0], s[1], t0, 10, time.Millisecond)
				args = append(args, d)
			}
			if tt.extra != nil {
				tt.extra(t, root)
			}
			if len(args) == 0 || tt.extra != nil {
				args = append(args, root)
			}
			sum, err := merge(t, root, args...)
			if tt.fails {
				if err == nil || !strings.Contains(err.Error(), tt.wantOut) {
					t.Errorf("error %v, want one saying %q", err, tt.wantOut)
				}
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			var md bytes.Buffer
			sum.WriteMarkdown(&md)
			if !strings.Contains(md.String(), tt.wantOut) {
				t.Errorf("attack.md lacks %q:\n%s", tt.wantOut, md.String())
			}
		})
	}
}

// TestUnreadableResults: a sidecar whose results file is gone is a
// *ResultsError, the shards' fault rather than the merge's.
func TestUnreadableResults(t *testing.T) {
	dir := t.TempDir()
	writeSynthetic(t, dir, 1, 1, time.Now(), 10, time.Millisecond)
	if err := os.Remove(filepath.Join(dir, "s1.bin")); err != nil {
		t.Fatal(err)
	}
	_, err := merge(t, dir, dir)
	if e, ok := errors.AsType[*ResultsError](err); !ok || e.Shard != "1/1" || !strings.HasPrefix(err.Error(), "shard 1/1: ") {
		t.Errorf("error %v (%T), want a *ResultsError of shard 1/1", err, err)
	}
}

func TestSidecarPath(t *testing.T) {
	if got := SidecarPath(filepath.Join("d", "shard-1.bin")); got != filepath.Join("d", "shard-1.shard.json") {
		t.Errorf("SidecarPath = %q", got)
	}
}

func TestRedactArgs(t *testing.T) {
	tests := []struct{ in, want []string }{
		{[]string{"--url", "https://root:hunter2@pbs:8007/api2"}, []string{"--url", "https://redacted@pbs:8007/api2"}},
		{[]string{"--url=https://root:hunter2@pbs/"}, []string{"--url=https://redacted@pbs/"}},
		{[]string{"--url", "https://pbs:8007/api2", "--rate", "10"}, []string{"--url", "https://pbs:8007/api2", "--rate", "10"}},
	}
	for _, tt := range tests {
		if got := RedactArgs(tt.in); !slices.Equal(got, tt.want) {
			t.Errorf("RedactArgs(%q) = %q, want %q", tt.in, got, tt.want)
		}
	}
}
