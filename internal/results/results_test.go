package results

import (
	"bytes"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"golang.org/x/perf/benchfmt"
)

func TestWriteReadRoundTrip(t *testing.T) {
	dir := t.TempDir()
	ms := 12.5
	f := &File{RunID: "r1", Runs: []Run{{Scenario: "s", Verifier: "ttl", Requests: 10}}, Revocations: []Revocation{{Scenario: "s", Verifier: "ttl", TimeToRejectMS: &ms}}}
	if err := Write(dir, f); err != nil {
		t.Fatal(err)
	}
	g, err := Read(dir)
	if err != nil {
		t.Fatal(err)
	}
	if g.SchemaVersion != SchemaVersion || len(g.Runs) != 1 || *g.Revocations[0].TimeToRejectMS != ms {
		t.Errorf("round trip: %+v", g)
	}
}

func TestReadRejectsOtherSchemaAndGarbage(t *testing.T) {
	dir := t.TempDir()
	os.WriteFile(filepath.Join(dir, FileName), []byte(`{"schema_version": 99}`), 0o644)
	if _, err := Read(dir); err == nil || !strings.Contains(err.Error(), "schema_version 99") {
		t.Errorf("other schema: %v", err)
	}
	os.WriteFile(filepath.Join(dir, FileName), []byte(`{"runs": [`), 0o644)
	if _, err := Read(dir); err == nil {
		t.Error("truncated file accepted")
	}
}

func TestMerge(t *testing.T) {
	a := &File{RunID: "a", Runs: []Run{{Scenario: "z", Verifier: "ttl"}}}
	b := &File{RunID: "b", Runs: []Run{{Scenario: "a", Verifier: "mtime"}}, Interrupted: true}
	m, err := Merge([]*File{a, b})
	if err != nil {
		t.Fatal(err)
	}
	if len(m.Runs) != 2 || m.Runs[0].Scenario != "a" || !m.Interrupted || len(m.Shards) != 2 {
		t.Errorf("merge: %+v", m)
	}
	a.ScenarioInfo = []ScenarioInfo{{Name: "steady", Question: "what does each verifier cost?"}}
	b.ScenarioInfo = []ScenarioInfo{{Name: "steady", Question: "what does each verifier cost?"}, {Name: "churn"}}
	m, err = Merge([]*File{a, b})
	if err != nil {
		t.Fatal(err)
	}
	if len(m.ScenarioInfo) != 2 {
		t.Errorf("merged scenario info %+v, want steady and churn once each", m.ScenarioInfo)
	}
	if si, ok := m.Info("steady/tokens=100"); !ok || si.Question == "" {
		t.Errorf("Info of a matrix variant: %+v, %v", si, ok)
	}
	if _, ok := m.Info("absent"); ok {
		t.Error("Info of an absent scenario")
	}
	if _, err := Merge(nil); err == nil {
		t.Error("empty merge accepted")
	}
}

// TestBenchFormatParses: the Go benchmark-format output is readable by
// x/perf's benchfmt, which benchstat and the gate use.
func TestBenchFormatParses(t *testing.T) {
	f := &File{Env: Env{GOOS: "linux", GOARCH: "amd64", CPUModel: "Test CPU"}, Runs: []Run{
		{Scenario: "steady/tokens=100", Verifier: "ttl", Phase: "constant", Requests: 600, Latency: Latency{P50: 800, P99: 2000}, AchievedRPS: 200, CPUSecondsPer1kReq: 0.25},
		{Scenario: "steady/tokens=100", Verifier: "ttl", Phase: "knee", KneeRPS: 4800},
		{Scenario: "steady/tokens=100", Verifier: "ttl", Phase: "knee-step", Requests: 5},
		{Scenario: "steady-ticket", Verifier: "ticket/mtime", Phase: "constant", Requests: 300, AchievedRPS: 100},
		{Scenario: "steady-ticket", Verifier: "ticket/mtime", Phase: "knee", KneeRPS: 900},
	}}
	var buf bytes.Buffer
	if err := WriteBenchFormat(&buf, f); err != nil {
		t.Fatal(err)
	}
	r := benchfmt.NewReader(&buf, "bench.txt")
	n := 0
	got := map[string]float64{}
	for r.Scan() {
		if res, ok := r.Result().(*benchfmt.Result); ok {
			n++
			if len(res.Values) == 0 {
				t.Errorf("no values in %s", res.Name)
			}
			if res.GetConfig("pkg") != "authbench/http" || res.GetConfig("goos") != "linux" {
				t.Errorf("%s: file config pkg=%q goos=%q", res.Name, res.GetConfig("pkg"), res.GetConfig("goos"))
			}
			for _, v := range res.Values {
				got[res.Name.String()+" "+v.OrigUnit] = v.OrigValue
				if v.OrigUnit == "" {
					got[res.Name.String()+" "+v.Unit] = v.Value
				}
			}
			got[res.Name.String()+" iters"] = float64(res.Iters)
			// Every sub-benchmark part is key=value: a '/' inside a
			// value would split it into a part without a key.
			_, parts := res.Name.Parts()
			for _, p := range parts {
				if !bytes.Contains(p, []byte("=")) {
					t.Errorf("%s: name part %q has no key", res.Name, p)
				}
			}
		}
	}
	for k, want := range map[string]float64{
		"HTTP/scenario=steady_tokens-100/verifier=ttl/phase=constant iters":          600,
		"HTTP/scenario=steady_tokens-100/verifier=ttl/phase=constant p50-µs":         800,
		"HTTP/scenario=steady_tokens-100/verifier=ttl/phase=constant p99-µs":         2000,
		"HTTP/scenario=steady_tokens-100/verifier=ttl/phase=constant achieved-req/s": 200,
		"HTTP/scenario=steady_tokens-100/verifier=ttl/phase=constant cpu-ms/req":     0.25,
		"Knee/scenario=steady_tokens-100/verifier=ttl knee-req/s":                    4800,
		"HTTP/scenario=steady-ticket/verifier=ticket:mtime/phase=constant iters":     300,
		"Knee/scenario=steady-ticket/verifier=ticket:mtime knee-req/s":               900,
	} {
		if g, ok := got[k]; !ok || g != want {
			t.Errorf("%s = %v (present %v), want %v", k, g, ok, want)
		}
	}
	if err := r.Err(); err != nil {
		t.Fatal(err)
	}
	if n != 4 {
		t.Errorf("%d benchmark lines, want 4 (knee steps are not results)", n)
	}
}

func TestSlug(t *testing.T) {
	tests := []struct{ in, want string }{
		{"steady/tokens=100", "steady_tokens-100"},
		{"concurrency/concurrency=8,gomaxprocs=2", "concurrency_concurrency-8_gomaxprocs-2"},
		{"churn api-rotate:self:bench@pbs!t0", "churn_api-rotate_self_bench_pbs_t0"},
		{"plain.name_1", "plain.name_1"},
	}
	for _, tc := range tests {
		if got := Slug(tc.in); got != tc.want {
			t.Errorf("Slug(%q) = %q, want %q", tc.in, got, tc.want)
		}
	}
}

func TestCheckMicrobench(t *testing.T) {
	const header = "goos: linux\ngoarch: amd64\npkg: github.com/authbench/authbench/impl\n"
	for _, tc := range []struct {
		name, in string
		n        int
		wantErr  string
	}{
		{"hits", header + "BenchmarkVerify/ttl/hit-2 \t 1000000\t 52.1 ns/op\nBenchmarkVerify/ttl/parallel-hit-2 \t 1000000\t 30.0 ns/op\nPASS\nok  \tgithub.com/authbench/authbench/impl\t1.2s\n", 2, ""},
		{"other benchmarks only", header + "BenchmarkDigest/hmac-2 \t 1000\t 90 ns/op\n", 0, "no BenchmarkVerify"},
		{"empty", "", 0, "no BenchmarkVerify"},
		{"garbage", "\x00\x01 not a benchmark\n", 0, "no BenchmarkVerify"},
		{"broken line", header + "BenchmarkVerify/ttl/hit-2 lots 52.1 ns/op\n", 0, "microbenchmarks"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			n, err := CheckMicrobench(strings.NewReader(tc.in), "bench-go.txt")
			if tc.wantErr == "" {
				if err != nil || n != tc.n {
					t.Errorf("= %d, %v; want %d results", n, err, tc.n)
				}
				return
			}
			if err == nil || !strings.Contains(err.Error(), tc.wantErr) {
				t.Errorf("error %v, want one containing %q", err, tc.wantErr)
			}
		})
	}
}
