package main

import (
	"bytes"
	"encoding/json"
	"flag"
	"fmt"
	"net/http"
	"net/http/httptest"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	vegeta "github.com/tsenart/vegeta/v12/lib"

	"github.com/authbench/authbench/loadgen"
)

var update = flag.Bool("update", false, "rewrite the golden files in testdata/")

// tokenServer answers 200 to the valid token's header and 401 otherwise,
// counting requests.
func tokenServer(t *testing.T, tok loadgen.Token) (*httptest.Server, *atomic.Int64) {
	t.Helper()
	want := loadgen.Header(loadgen.FormPBS, tok)
	var hits atomic.Int64
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		hits.Add(1)
		if r.Header.Get("Authorization") != want {
			w.WriteHeader(http.StatusUnauthorized)
			return
		}
		w.WriteHeader(http.StatusOK)
	}))
	t.Cleanup(srv.Close)
	return srv, &hits
}

// TestAttackShardsMerge runs N `bench attack --shard i/N` processes
// against one server and merges them with `bench report --attack`: the
// offered rates add up, every measured request of every shard is in the
// merged results, and the sidecars record who offered what.
func TestAttackShardsMerge(t *testing.T) {
	dir := t.TempDir()
	tok := loadgen.Token{ID: "load@pbs!shard", Secret: "6d1c1c8e-8a3e-4a43-9d1e-3b1f2f0a9c11"}
	tokens := filepath.Join(dir, "tokens.txt")
	if err := loadgen.WriteTokens(tokens, []loadgen.Token{tok}); err != nil {
		t.Fatal(err)
	}
	srv, hits := tokenServer(t, tok)
	const n, rate = 3, 60.0
	results := filepath.Join(dir, "shards")
	if err := os.Mkdir(results, 0o755); err != nil {
		t.Fatal(err)
	}
	startAt := time.Now().Add(2 * time.Second).UTC().Format(time.RFC3339Nano)
	var wg sync.WaitGroup
	outs := make([][]byte, n)
	errs := make([]error, n)
	for i := range n {
		wg.Go(func() {
			cmd := exec.Command(os.Args[0], "attack", "--url", srv.URL+"/api2/json/version", "--tokens", tokens,
				"--rate", fmt.Sprint(rate), "--duration", "1500ms", "--warmup", "0",
				"--shard", fmt.Sprintf("%d/%d", i+1, n), "--start-at", startAt,
				"--results", filepath.Join(results, fmt.Sprintf("shard-%d.bin", i+1)))
			cmd.Env = append(os.Environ(), "BENCH_TEST_MAIN=1")
			outs[i], errs[i] = cmd.CombinedOutput()
		})
	}
	wg.Wait()
	var sidecarRequests uint64
	for i := range n {
		if errs[i] != nil {
			t.Fatalf("shard %d: %v\n%s", i+1, errs[i], outs[i])
		}
		if bytes.Contains(outs[i], []byte(tok.Secret)) {
			t.Errorf("shard %d printed the secret", i+1)
		}
		sc := readJSON[attackShard](t, filepath.Join(results, fmt.Sprintf("shard-%d.shard.json", i+1)))
		if sc.Shard != fmt.Sprintf("%d/%d", i+1, n) || sc.Index != i+1 || sc.Count != n ||
			sc.OfferedRPS != rate/n || sc.TotalOfferedRPS != rate || sc.ResultsFile != fmt.Sprintf("shard-%d.bin", i+1) {
			t.Errorf("shard %d sidecar %+v", i+1, sc)
		}
		if sc.Start.IsZero() || sc.StartAt == nil || !slices.Contains(sc.Command, "--shard") {
			t.Errorf("shard %d sidecar lacks its start or command: %+v", i+1, sc)
		}
		sidecarRequests += sc.Requests
	}

	out := filepath.Join(dir, "merged")
	code, stdout, stderr := bench(t, "", "report", "--attack", "--out", out, results)
	if code != 0 {
		t.Fatalf("report --attack: exit %d: %s", code, stderr)
	}
	if !strings.Contains(stdout, "Merged load: 3 of 3 shards") {
		t.Errorf("stdout:\n%s", stdout)
	}
	sum := readJSON[attackSummary](t, filepath.Join(out, attackSummaryJSON))
	var perShard uint64
	for _, p := range sum.PerShard {
		perShard += p.Requests
	}
	merged, err := loadgen.MetricsFromFile(filepath.Join(out, attackMergedResults))
	if err != nil {
		t.Fatal(err)
	}
	switch {
	case sum.Shards != n || !slices.Equal(sum.Merged, []int{1, 2, 3}) || len(sum.MissingShards) != 0:
		t.Errorf("shards %d merged %v missing %v", sum.Shards, sum.Merged, sum.MissingShards)
	case sum.OfferedRPS != rate:
		t.Errorf("offered %v, want the sum %v", sum.OfferedRPS, rate)
	case sum.Requests == 0 || sum.Requests != perShard || sum.Requests != sidecarRequests || merged.Requests != sum.Requests:
		t.Errorf("requests: merged summary %d, per shard %d, sidecars %d, merged file %d", sum.Requests, perShard, sidecarRequests, merged.Requests)
	case uint64(hits.Load()) < sum.Requests:
		t.Errorf("server saw %d requests, merge claims %d", hits.Load(), sum.Requests)
	case sum.SuccessRatio != 1 || sum.AchievedRPS <= 0 || sum.Latency.P50 <= 0 || sum.Latency.Max < sum.Latency.P99:
		t.Errorf("summary %+v", sum)
	}
	data, _ := os.ReadFile(filepath.Join(out, attackSummaryMD))
	if bytes.Contains(data, []byte(tok.Secret)) {
		t.Error("attack.md holds the secret")
	}
}

func readJSON[T any](t *testing.T, path string) T {
	t.Helper()
	var v T
	data, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	if err := json.Unmarshal(data, &v); err != nil {
		t.Fatalf("%s: %v", path, err)
	}
	return v
}

// writeSyntheticShard writes a shard's vegeta results (count requests from
// t0, one every 10 ms, latency growing with i) and its sidecar.
func writeSyntheticShard(t *testing.T, dir string, index, count int, t0 time.Time, requests int, lat time.Duration) {
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
	sc := attackShard{Shard: fmt.Sprintf("%d/%d", index, count), Index: index, Count: count, OfferedRPS: 100, TotalOfferedRPS: 100 * float64(count),
		Start: t0, End: t0.Add(time.Duration(requests) * 10 * time.Millisecond), ResultsFile: name + ".bin",
		Requests: uint64(requests), Host: fmt.Sprintf("gen-%d", index), Command: []string{"bench", "attack"}}
	if err := writeShard(filepath.Join(dir, name+shardSuffix), sc); err != nil {
		t.Fatal(err)
	}
}

// TestAttackReportGolden merges fixed synthetic shards (the second
// starting late, so they overlap only partly) and compares attack.md with
// testdata/attack.md; run with -update after reviewing a change.
func TestAttackReportGolden(t *testing.T) {
	dir := t.TempDir()
	t0 := time.Date(2026, 5, 1, 10, 0, 0, 0, time.UTC)
	writeSyntheticShard(t, dir, 1, 2, t0, 100, 2*time.Millisecond)
	writeSyntheticShard(t, dir, 2, 2, t0.Add(500*time.Millisecond), 100, 5*time.Millisecond)
	out := filepath.Join(dir, "out")
	if code, _, stderr := bench(t, "", "report", "--attack", "--out", out, dir); code != 0 {
		t.Fatalf("exit %d: %s", code, stderr)
	}
	got, err := os.ReadFile(filepath.Join(out, attackSummaryMD))
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
		t.Fatalf("%v (go test ./cmd/bench -run AttackReportGolden -update)", err)
	}
	if !bytes.Equal(got, want) {
		t.Errorf("attack.md differs from %s:\n%s", golden, got)
	}
	sum := readJSON[attackSummary](t, filepath.Join(out, attackSummaryJSON))
	if sum.Requests != 200 || sum.OfferedRPS != 200 || sum.SuccessRatio != 0.9 || sum.Overlap <= 0 || sum.Overlap >= 1 {
		t.Errorf("summary %+v", sum)
	}
}

// TestAttackShardErrors: bad shard sets are refused with a clear error
// (exit 2) rather than merged into a wrong total; a missing shard is
// merged with a warning.
func TestAttackShardErrors(t *testing.T) {
	t0 := time.Date(2026, 5, 1, 10, 0, 0, 0, time.UTC)
	tests := []struct {
		name    string
		shards  [][2]int // index, count
		extra   func(t *testing.T, dir string)
		code    int
		wantOut string
	}{
		{"duplicate shard", [][2]int{{1, 2}, {1, 2}}, nil, 2, "twice"},
		{"mixed counts", [][2]int{{1, 2}, {2, 3}}, nil, 2, "not one load"},
		{"missing shard", [][2]int{{1, 3}, {3, 3}}, nil, 0, "WARNING: shards 2 missing"},
		{"no sidecars", nil, nil, 2, "no shard sidecars"},
		{"a shard that sent nothing", [][2]int{{1, 2}}, func(t *testing.T, dir string) {
			writeSyntheticShard(t, dir, 2, 2, time.Time{}, 0, 0)
		}, 0, "| 2/2 | gen-2 | 100.0 | 0.0 | 0 | 0.00 % | 0s | 0s | — |"},
		{"results outside the directory", nil, func(t *testing.T, dir string) {
			writeShard(filepath.Join(dir, "bad"+shardSuffix), attackShard{Shard: "1/1", Index: 1, Count: 1, ResultsFile: "../x.bin"})
		}, 2, "not a bench attack shard"},
		{"index out of range", nil, func(t *testing.T, dir string) {
			writeShard(filepath.Join(dir, "bad"+shardSuffix), attackShard{Shard: "4/3", Index: 4, Count: 3, ResultsFile: "x.bin"})
		}, 2, "not a bench attack shard"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			root := t.TempDir()
			var args []string
			for i, s := range tt.shards {
				d := filepath.Join(root, fmt.Sprint("gen", i)) // one directory per generator, as after a download
				os.Mkdir(d, 0o755)
				writeSyntheticShard(t, d, s[0], s[1], t0, 10, time.Millisecond)
				args = append(args, d)
			}
			if tt.extra != nil {
				tt.extra(t, root)
			}
			if len(args) == 0 || tt.extra != nil {
				args = append(args, root)
			}
			code, stdout, stderr := bench(t, "", append([]string{"report", "--attack", "--out", filepath.Join(root, "out")}, args...)...)
			if code != tt.code || !strings.Contains(stdout+stderr, tt.wantOut) {
				t.Errorf("exit %d, want %d; output lacks %q:\n%s%s", code, tt.code, tt.wantOut, stdout, stderr)
			}
		})
	}
}

func TestAttackFlagErrors(t *testing.T) {
	dir := t.TempDir()
	tests := []struct {
		name string
		args []string
		want string
	}{
		{"shard zero", []string{"--shard", "0/3", "--results", "x.bin"}, "want i/n"},
		{"shard past n", []string{"--shard", "4/3", "--results", "x.bin"}, "want i/n"},
		{"shard without results", []string{"--shard", "1/3"}, "--shard needs --results"},
		{"shard with knee", []string{"--shard", "1/3", "--results", "x.bin", "--knee"}, "--shard needs --results"},
		{"bad start time", []string{"--start-at", "soon"}, "--start-at"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			args := append([]string{"attack", "--url", "http://127.0.0.1:9/", "--tokens", filepath.Join(dir, "none.txt")}, tt.args...)
			code, _, stderr := bench(t, "", args...)
			if code != 2 || !strings.Contains(stderr, tt.want) {
				t.Errorf("exit %d, stderr %q; want 2 and %q", code, stderr, tt.want)
			}
		})
	}
}

func TestRedactArgs(t *testing.T) {
	tests := []struct{ in, want []string }{
		{[]string{"--url", "https://root:hunter2@pbs:8007/api2"}, []string{"--url", "https://redacted@pbs:8007/api2"}},
		{[]string{"--url=https://root:hunter2@pbs/"}, []string{"--url=https://redacted@pbs/"}},
		{[]string{"--url", "https://pbs:8007/api2", "--rate", "10"}, []string{"--url", "https://pbs:8007/api2", "--rate", "10"}},
	}
	for _, tt := range tests {
		if got := redactArgs(tt.in); !slices.Equal(got, tt.want) {
			t.Errorf("redactArgs(%q) = %q, want %q", tt.in, got, tt.want)
		}
	}
}
