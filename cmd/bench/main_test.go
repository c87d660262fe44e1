package main

import (
	"bytes"
	"context"
	"fmt"
	"net"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"sync"
	"testing"

	"github.com/authbench/authbench/internal/results"
)

// TestMain lets the test binary act as the bench command, so tests can
// start real separate processes of it.
func TestMain(m *testing.M) {
	if os.Getenv("BENCH_TEST_MAIN") == "1" {
		os.Exit(run(context.Background(), os.Args[1:], os.Stdin, os.Stdout, os.Stderr))
	}
	os.Exit(m.Run())
}

// childEnv is the environment of a child process of the test binary
// acting as the bench command: BENCH_TEST_MAIN, and no 1 s sleep at exit
// when the binary is race-enabled (the race runtime's default
// atexit_sleep_ms, most of each child's time).
func childEnv() []string {
	return append(os.Environ(), "BENCH_TEST_MAIN=1", "GORACE="+strings.TrimSpace(os.Getenv("GORACE")+" atexit_sleep_ms=0"))
}

func bench(t *testing.T, stdin string, args ...string) (code int, stdout, stderr string) {
	t.Helper()
	var out, errb bytes.Buffer
	code = run(context.Background(), args, strings.NewReader(stdin), &out, &errb)
	return code, out.String(), errb.String()
}

func TestTokenLifecycle(t *testing.T) {
	shadow := filepath.Join(t.TempDir(), "token.shadow")
	code, secret, errs := bench(t, "", "token", "add", "--shadow", shadow, "--cost", "1000", "ci@pbs!deploy")
	if code != 0 {
		t.Fatalf("add: %d %s", code, errs)
	}
	secret = strings.TrimSpace(secret)
	if len(secret) != 36 {
		t.Fatalf("secret %q is not a UUID", secret)
	}
	data, _ := os.ReadFile(shadow)
	if strings.Contains(string(data), secret) {
		t.Fatal("plaintext secret written to token.shadow")
	}
	cases := []struct {
		name  string
		stdin string
		args  []string
		code  int
	}{
		{"verify ok", secret + "\n", []string{"token", "verify", "--shadow", shadow, "ci@pbs!deploy"}, 0},
		{"verify wrong", "nope\n", []string{"token", "verify", "--shadow", shadow, "ci@pbs!deploy"}, 1},
		{"verify unknown", secret, []string{"token", "verify", "--shadow", shadow, "ci@pbs!other"}, 1},
		{"verify bad id", secret, []string{"token", "verify", "--shadow", shadow, "ci@pbs"}, 2},
		{"add twice", "", []string{"token", "add", "--shadow", shadow, "ci@pbs!deploy"}, 2},
		{"rotate missing", "", []string{"token", "rotate", "--shadow", shadow, "ci@pbs!none"}, 2},
		{"no shadow flag", "", []string{"token", "list"}, 2},
		{"unknown sub", "", []string{"token", "frobnicate", "--shadow", shadow}, 2},
		{"unknown scheme", "", []string{"token", "add", "--shadow", shadow, "--scheme", "md5", "x@pbs!y"}, 2},
	}
	for _, c := range cases {
		code, _, errs := bench(t, c.stdin, c.args...)
		if code != c.code {
			t.Errorf("%s: exit %d, want %d (%s)", c.name, code, c.code, errs)
		}
		if strings.Contains(errs, secret) {
			t.Errorf("%s: secret in error output", c.name)
		}
	}
	if code, _, _ := bench(t, "", "token", "rotate", "--shadow", shadow, "ci@pbs!deploy"); code != 0 {
		t.Fatal("rotate failed")
	}
	if code, _, _ := bench(t, secret, "token", "verify", "--shadow", shadow, "ci@pbs!deploy"); code != 1 {
		t.Error("rotated-out secret still verifies")
	}
	if code, _, _ := bench(t, "", "token", "delete", "--shadow", shadow, "ci@pbs!deploy"); code != 0 {
		t.Fatal("delete failed")
	}
	if _, out, _ := bench(t, "", "token", "list", "--shadow", shadow); strings.TrimSpace(out) != "" {
		t.Errorf("list after delete: %q", out)
	}
}

func TestVerifyBrokenShadowIsExit2(t *testing.T) {
	shadow := filepath.Join(t.TempDir(), "token.shadow")
	os.WriteFile(shadow, []byte(`{"a@pbs!t": "$5$trunc`), 0o600)
	code, _, errs := bench(t, "x\n", "token", "verify", "--shadow", shadow, "a@pbs!t")
	if code != 2 || !strings.Contains(errs, shadow) {
		t.Errorf("exit %d, stderr %q: want 2 naming the file", code, errs)
	}
}

func TestTokenGenWritesPrivateSecretsFile(t *testing.T) {
	dir := t.TempDir()
	out := filepath.Join(dir, "secrets")
	if code, _, errs := bench(t, "", "token", "gen", "--shadow", filepath.Join(dir, "s"), "--cost", "1000", "--count", "5", "--out", out); code != 0 {
		t.Fatal(errs)
	}
	st, err := os.Stat(out)
	if err != nil || st.Mode().Perm() != 0o600 {
		t.Fatalf("secrets file: %v %v", st, err)
	}
	_, list, _ := bench(t, "", "token", "list", "--shadow", filepath.Join(dir, "s"))
	if n := len(strings.Fields(list)); n != 5 {
		t.Errorf("%d tokens listed, want 5", n)
	}
}

// TestConcurrentAddFromProcesses: several `bench token add` processes at
// once lose no update, so the command goes through the store's flock and
// read-modify-write (impl's TestStressConcurrentWriters loads that path
// itself; this catches a command that bypasses it).
func TestConcurrentAddFromProcesses(t *testing.T) {
	shadow := filepath.Join(t.TempDir(), "token.shadow")
	const procs, each = 4, 3
	var wg sync.WaitGroup
	errs := make(chan error, procs*each)
	for p := range procs {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for i := range each {
				cmd := exec.Command(os.Args[0], "token", "add", "--shadow", shadow, "--cost", "1000", fmt.Sprintf("p%d@pbs!t%d", p, i))
				cmd.Env = childEnv()
				if out, err := cmd.CombinedOutput(); err != nil {
					errs <- fmt.Errorf("%v: %s", err, out)
				}
			}
		}()
	}
	wg.Wait()
	close(errs)
	for err := range errs {
		t.Error(err)
	}
	_, list, _ := bench(t, "", "token", "list", "--shadow", shadow)
	if n := len(strings.Fields(list)); n != procs*each {
		t.Errorf("%d tokens after concurrent adds, want %d", n, procs*each)
	}
}

// TestUsage names the flags the subcommands grew.
func TestUsage(t *testing.T) {
	_, _, errs := bench(t, "", "help")
	for _, want := range []string{"--shard i/n", "--start-at T", "--attack DIR", "--ticket-strategy"} {
		if !strings.Contains(errs, want) {
			t.Errorf("usage lacks %q:\n%s", want, errs)
		}
	}
}

func TestBadInputExitCodes(t *testing.T) {
	dir := t.TempDir()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer ln.Close()
	file := filepath.Join(dir, "plainfile")
	os.WriteFile(file, nil, 0o644)
	badScenario := filepath.Join(dir, "bad.yaml")
	os.WriteFile(badScenario, []byte("# q\nload: {rat: 5}\n"), 0o644)
	cases := []struct {
		name, want string
		args       []string
	}{
		{"unknown verifier", "unknown verifier", []string{"serve", "--verifier", "nope", "--shadow", filepath.Join(dir, "s")}},
		{"port in use", "already in use", []string{"serve", "--shadow", filepath.Join(dir, "s"), "--addr", ln.Addr().String()}},
		{"unreachable url", "cannot reach", []string{"attack", "--url", "http://127.0.0.1:1/api2/json/version", "--tokens", writeTokens(t, dir), "--duration", "1s"}},
		{"unwritable output", "output directory", []string{"run", "--out", file, "../../scenarios/steady.yaml"}},
		{"bad scenario", `field "rat" not found`, []string{"run", "--out", dir, badScenario}},
		{"unknown verifier in run", "unknown verifier", []string{"run", "--verifiers", "nope", "--out", dir, "../../scenarios/steady.yaml"}},
		{"bad shard", "--shard", []string{"run", "--shard", "3/2", "--out", dir, "../../scenarios/steady.yaml"}},
		{"report of nothing", "results", []string{"report", filepath.Join(dir, "missing")}},
		{"ticket strategy alone", "go together", []string{"serve", "--shadow", filepath.Join(dir, "s"), "--ticket-strategy", "mtime"}},
		{"unknown ticket strategy", "unknown key-cache strategy", []string{"serve", "--shadow", filepath.Join(dir, "s"), "--ticket-strategy", "lru", "--authkey-dir", dir}},
		{"authkey dir is a file", "not a directory", []string{"serve", "--shadow", filepath.Join(dir, "s"), "--addr", "127.0.0.1:0", "--ticket-strategy", "mtime", "--authkey-dir", file}},
		{"unknown strategy in run", "unknown verifier", []string{"run", "--verifiers", "ticket/lru", "--out", dir, "../../scenarios/steady-ticket.yaml"}},
		{"unknown command", "unknown command", []string{"frob"}},
	}
	for _, c := range cases {
		code, _, errs := bench(t, "", c.args...)
		if code == 0 || !strings.Contains(errs, c.want) {
			t.Errorf("%s: exit %d, stderr %q; want non-zero and %q", c.name, code, errs, c.want)
		}
	}
}

// TestTokenUnknownSubcommandCreatesNothing: a typo must not leave a
// generation file (or a shadow) behind.
func TestTokenUnknownSubcommandCreatesNothing(t *testing.T) {
	dir := t.TempDir()
	shadow := filepath.Join(dir, "token.shadow")
	code, _, errs := bench(t, "", "token", "frob", "--shadow", shadow)
	if code != 2 || !strings.Contains(errs, "unknown token subcommand") {
		t.Errorf("exit %d, stderr %q", code, errs)
	}
	if ents, _ := os.ReadDir(dir); len(ents) != 0 {
		t.Errorf("unknown subcommand created %v", ents)
	}
}

func writeTokens(t *testing.T, dir string) string {
	p := filepath.Join(dir, "tokens")
	os.WriteFile(p, []byte("a@pbs!t:00000000-0000-4000-8000-000000000000\n"), 0o600)
	return p
}

func TestReportMergesShards(t *testing.T) {
	dir := t.TempDir()
	var dirs []string
	for i, v := range []string{"ttl", "uncached"} {
		d := filepath.Join(dir, fmt.Sprint("shard", i))
		os.MkdirAll(filepath.Join(d, "profiles"), 0o755)
		os.WriteFile(filepath.Join(d, "profiles", v+".pb.gz"), []byte("x"), 0o644)
		f := &results.File{RunID: fmt.Sprint("s", i), Runs: []results.Run{{Scenario: "steady", Verifier: v, Phase: "constant", OfferedRPS: 10, AchievedRPS: 10, Requests: 10, SuccessRatio: 1, Profile: "profiles/" + v + ".pb.gz"}}}
		if err := results.Write(d, f); err != nil {
			t.Fatal(err)
		}
		dirs = append(dirs, d)
	}
	out := filepath.Join(dir, "merged")
	code, _, errs := bench(t, "", append([]string{"report", "--out", out}, dirs...)...)
	if code != 0 {
		t.Fatal(errs)
	}
	m, err := results.Read(out)
	if err != nil {
		t.Fatal(err)
	}
	if len(m.Runs) != 2 || len(m.Shards) != 2 {
		t.Errorf("merged %d runs from %d shards", len(m.Runs), len(m.Shards))
	}
	for _, f := range []string{"report.md", "index.html", "profiles/ttl.pb.gz", "profiles/uncached.pb.gz"} {
		if _, err := os.Stat(filepath.Join(out, f)); err != nil {
			t.Error(err)
		}
	}
}

// TestRunMicrobench: bench run --microbench saves a valid microbenchmark
// file with the run and records it in results.json; a garbage or missing
// file is exit 2 before anything runs.
func TestRunMicrobench(t *testing.T) {
	dir := t.TempDir()
	scenario := filepath.Join(dir, "tiny.yaml")
	os.WriteFile(scenario, []byte(`# Question: does --microbench land in the run?
tokens: 1
hash: {scheme: sha256, cost: 1000}
load: {rate: 20, duration: 300ms, warmup: 0s, rounds: 1}
# One verifier: the flag, not the measurement, is under test.
verifiers: [uncached]
`), 0o644)
	good := filepath.Join(dir, "good.txt")
	goodData := "goos: linux\ngoarch: amd64\npkg: github.com/authbench/authbench/impl\nBenchmarkVerify/ttl/hit-2 \t 1000000\t 52.1 ns/op\nPASS\n"
	os.WriteFile(good, []byte(goodData), 0o644)
	garbage := filepath.Join(dir, "garbage.txt")
	os.WriteFile(garbage, []byte("this is not benchmark output\n"), 0o644)
	for _, tc := range []struct {
		name, file string
		code       int
		want       string
	}{
		{"good file", good, 0, ""},
		{"garbage file", garbage, 2, "no BenchmarkVerify results"},
		{"missing file", filepath.Join(dir, "missing.txt"), 2, "--microbench"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			out := filepath.Join(dir, "out-"+strings.ReplaceAll(tc.name, " ", "-"))
			code, _, errs := bench(t, "", "run", "--in-process", "--progress=false", "--flamegraphs", "", "--id", "r",
				"--out", out, "--microbench", tc.file, scenario)
			if code != tc.code || !strings.Contains(errs, tc.want) {
				t.Fatalf("exit %d, stderr %q; want %d and %q", code, errs, tc.code, tc.want)
			}
			if tc.code != 0 {
				if _, err := os.Stat(out); !os.IsNotExist(err) {
					t.Errorf("a refused --microbench left %s behind (%v)", out, err)
				}
				return
			}
			res, err := results.Read(filepath.Join(out, "r"))
			if err != nil {
				t.Fatal(err)
			}
			if res.Microbench != results.MicrobenchFile {
				t.Errorf("results.json microbench = %q, want %q", res.Microbench, results.MicrobenchFile)
			}
			if got, err := os.ReadFile(filepath.Join(out, "r", filepath.FromSlash(res.Microbench))); err != nil || string(got) != goodData {
				t.Errorf("saved microbenchmarks %q (%v), want the file as given", got, err)
			}
		})
	}
}
