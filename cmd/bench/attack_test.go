package main

import (
	"bytes"
	"encoding/json"
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

	"github.com/authbench/authbench/internal/shards"
	"github.com/authbench/authbench/loadgen"
)

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
	// Time enough for the children to start; a late one starts at once
	// (the merge, not the overlap, is under test).
	startAt := time.Now().Add(time.Second).UTC().Format(time.RFC3339Nano)
	var wg sync.WaitGroup
	outs := make([][]byte, n)
	errs := make([]error, n)
	for i := range n {
		wg.Go(func() {
			cmd := exec.Command(os.Args[0], "attack", "--url", srv.URL+"/api2/json/version", "--tokens", tokens,
				"--rate", fmt.Sprint(rate), "--duration", "1s", "--warmup", "0",
				"--shard", fmt.Sprintf("%d/%d", i+1, n), "--start-at", startAt,
				"--results", filepath.Join(results, fmt.Sprintf("shard-%d.bin", i+1)))
			cmd.Env = childEnv()
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
		sc := readJSON[shards.Sidecar](t, filepath.Join(results, fmt.Sprintf("shard-%d.shard.json", i+1)))
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
	sum := readJSON[shards.Summary](t, filepath.Join(out, shards.SummaryJSON))
	var perShard uint64
	for _, p := range sum.PerShard {
		perShard += p.Requests
	}
	merged, err := loadgen.MetricsFromFile(filepath.Join(out, shards.MergedResults))
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
	data, _ := os.ReadFile(filepath.Join(out, shards.SummaryMarkdown))
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

// TestAttackReportExitCodes: shards that cannot be merged (none there, a
// sidecar that is no shard, results that cannot be read) are exit 2.
func TestAttackReportExitCodes(t *testing.T) {
	tests := []struct {
		name    string
		sidecar *shards.Sidecar // written as root/s.shard.json
		want    string
	}{
		{"no sidecars", nil, "no shard sidecars"},
		{"not a shard", &shards.Sidecar{Shard: "4/3", Index: 4, Count: 3, ResultsFile: "x.bin"}, "not a bench attack shard"},
		{"results missing", &shards.Sidecar{Shard: "1/1", Index: 1, Count: 1, ResultsFile: "x.bin"}, "shard 1/1: "},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			root := t.TempDir()
			if tt.sidecar != nil {
				if err := shards.WriteSidecar(filepath.Join(root, "s"+shards.SidecarSuffix), *tt.sidecar); err != nil {
					t.Fatal(err)
				}
			}
			code, _, stderr := bench(t, "", "report", "--attack", "--out", filepath.Join(root, "out"), root)
			if code != 2 || !strings.Contains(stderr, tt.want) {
				t.Errorf("exit %d, stderr %q; want 2 and %q", code, stderr, tt.want)
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
