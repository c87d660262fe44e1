package e2e

import (
	"bufio"
	"bytes"
	"compress/gzip"
	"context"
	"encoding/base64"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"net/url"
	"os"
	"os/exec"
	"path/filepath"
	"sort"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/authbench/authbench/impl"
	"github.com/authbench/authbench/internal/profiles"
	"github.com/authbench/authbench/internal/report"
	"github.com/authbench/authbench/internal/results"
	"github.com/authbench/authbench/internal/runner"
	"github.com/authbench/authbench/scenarios"
)

const scenarioFile = "testdata/hygiene.yaml"

// runStages is what `bench run` does in process: measure, post-process the
// profiles, write results.json and the report.
func runStages(t *testing.T, ctx context.Context, out string, scs []*scenarios.Scenario, opts runner.Options) *results.File {
	t.Helper()
	opts.OutDir = out
	res, err := runner.Run(ctx, scs, opts)
	if err != nil {
		t.Fatalf("run: %v", err)
	}
	if err := profiles.Process(out, res); err != nil {
		t.Fatalf("profiles: %v", err)
	}
	res.RunID = "e2e"
	if err := results.Write(out, res); err != nil {
		t.Fatal(err)
	}
	if err := report.Write(out, res, report.Options{}); err != nil {
		t.Fatal(err)
	}
	return res
}

// needle is one searchable form of a secret.
type needle struct {
	form    string // how it is encoded, for the failure message
	secret  int    // index of the secret (never printed)
	pattern []byte
}

// secretNeedles returns the forms in which a secret could leak: raw,
// percent-encoded (query and path escaping) and base64 (standard and URL
// alphabets, padded or not) at each of the three byte alignments the
// secret can have inside a longer encoded value such as a whole
// Authorization header. For base64 only the characters that depend on the
// secret's bytes alone are kept.
func secretNeedles(i int, secret string) []needle {
	out := []needle{{"raw", i, []byte(secret)}}
	for form, enc := range map[string]string{"query-escaped": url.QueryEscape(secret), "path-escaped": url.PathEscape(secret)} {
		if enc != secret {
			out = append(out, needle{form, i, []byte(enc)})
		}
	}
	for k := range 3 {
		buf := append(make([]byte, k), secret...)
		start := 0
		if k > 0 {
			start = 4 // the first group mixes in bytes before the secret
		}
		end := 4 * (len(buf) / 3) // the last partial group mixes in what follows
		for form, e := range map[string]*base64.Encoding{"base64": base64.StdEncoding, "base64url": base64.URLEncoding} {
			s := e.EncodeToString(buf)[start:end]
			out = append(out, needle{fmt.Sprintf("%s@%d", form, k), i, []byte(s)})
		}
	}
	return out
}

// leak is one secret found in one file.
type leak struct{ path, form string }

// scanTree reads every regular file under root, gunzips gzip streams
// (profiles) and looks for every needle. It returns the leaks, and the
// relative paths scanned so callers can check the scan covered the run.
func scanTree(t *testing.T, root string, secrets []string) ([]leak, []string) {
	t.Helper()
	var needles []needle
	for i, s := range secrets {
		needles = append(needles, secretNeedles(i, s)...)
	}
	var leaks []leak
	var scanned []string
	err := filepath.WalkDir(root, func(path string, d fs.DirEntry, err error) error {
		if err != nil {
			return err
		}
		if !d.Type().IsRegular() {
			return nil
		}
		data, err := os.ReadFile(path)
		if err != nil {
			return err
		}
		rel, _ := filepath.Rel(root, path)
		scanned = append(scanned, rel)
		views := [][]byte{data}
		if len(data) > 2 && data[0] == 0x1f && data[1] == 0x8b {
			zr, err := gzip.NewReader(bytes.NewReader(data))
			if err != nil {
				return fmt.Errorf("%s: %w", rel, err)
			}
			plain, err := io.ReadAll(zr)
			if err != nil {
				return fmt.Errorf("gunzip %s: %w", rel, err)
			}
			views = append(views, plain)
		}
		for _, v := range views {
			for _, n := range needles {
				if bytes.Contains(v, n.pattern) {
					leaks = append(leaks, leak{rel, n.form})
				}
			}
		}
		return nil
	})
	if err != nil {
		t.Fatalf("scan %s: %v", root, err)
	}
	sort.Strings(scanned)
	return leaks, scanned
}

// requireCoverage fails if the run did not write the kinds of files the
// audit is meant to cover: an empty scan proves nothing.
// Server logs exist only when servers run as child processes.
func requireCoverage(t *testing.T, scanned []string, logs bool) {
	t.Helper()
	want := map[string]func(string) bool{
		"results.json":      func(p string) bool { return filepath.Base(p) == results.FileName },
		"report.md":         func(p string) bool { return filepath.Base(p) == report.MarkdownFile },
		"index.html":        func(p string) bool { return strings.HasSuffix(p, ".html") },
		"vegeta results":    func(p string) bool { return strings.HasSuffix(p, ".bin") },
		"pprof profiles":    func(p string) bool { return strings.HasSuffix(p, ".pb.gz") },
		"folded stacks":     func(p string) bool { return strings.HasSuffix(p, ".folded") },
		"flame graph / SVG": func(p string) bool { return strings.HasSuffix(p, ".svg") },
	}
	if logs {
		want["server logs"] = func(p string) bool { return strings.Contains(filepath.ToSlash(p), "logs/") }
	}
	for kind, match := range want {
		found := false
		for _, p := range scanned {
			if match(p) {
				found = true
				break
			}
		}
		if !found {
			t.Errorf("the run wrote no %s; the audit would not cover them (files: %v)", kind, scanned)
		}
	}
}

func reportLeaks(t *testing.T, leaks []leak, nSecrets, nFiles int) {
	t.Helper()
	for _, l := range leaks {
		t.Errorf("secret (%s form) found in %s", l.form, l.path)
	}
	t.Logf("scanned %d files (gzip streams decompressed) for %d secrets, each raw, percent-encoded and base64 at 3 alignments: %d leaks", nFiles, nSecrets, len(leaks))
}

func loadScenario(t *testing.T) []*scenarios.Scenario {
	t.Helper()
	sc, err := scenarios.Load(scenarioFile, impl.Names())
	if err != nil {
		t.Fatal(err)
	}
	return []*scenarios.Scenario{sc}
}

// TestScannerFindsPlantedSecret keeps the audit honest: a secret hidden
// raw, inside a base64-encoded header at each alignment and inside a
// gzip stream must be found.
func TestScannerFindsPlantedSecret(t *testing.T) {
	secret, err := impl.NewSecret()
	if err != nil {
		t.Fatal(err)
	}
	dir := t.TempDir()
	files := map[string][]byte{"raw.log": []byte("x " + secret + " y")}
	for k, prefix := range []string{"", "a", "ab"} {
		hdr := prefix + "PBSAPIToken=root@pam!t:" + secret + "\n"
		files[fmt.Sprintf("b64-%d.txt", k)] = []byte(base64.StdEncoding.EncodeToString([]byte(hdr)))
		files[fmt.Sprintf("b64url-%d.txt", k)] = []byte(base64.RawURLEncoding.EncodeToString([]byte(hdr)))
	}
	var gz bytes.Buffer
	zw := gzip.NewWriter(&gz)
	zw.Write([]byte("profile string table " + secret))
	zw.Close()
	files["p.pb.gz"] = gz.Bytes()
	for name, data := range files {
		if err := os.WriteFile(filepath.Join(dir, name), data, 0o600); err != nil {
			t.Fatal(err)
		}
	}
	if err := os.WriteFile(filepath.Join(dir, "clean.txt"), []byte("nothing here"), 0o600); err != nil {
		t.Fatal(err)
	}
	leaks, _ := scanTree(t, dir, []string{secret})
	found := map[string]bool{}
	for _, l := range leaks {
		found[l.path] = true
	}
	for name := range files {
		if !found[name] {
			t.Errorf("planted secret in %s not found", name)
		}
	}
	if found["clean.txt"] {
		t.Error("false positive in clean.txt")
	}
}

// TestNoSecretsInOutputsInProcess runs the scenario with servers in this
// process, writes results.json and the report, and scans every file. It
// is the -short stand-in for TestNoSecretsInOutputsBenchBinary, whose run
// of the same scenario writes everything this one does plus the child
// servers' logs and the --flamegraphs copy: without -short it would only
// repeat that audit.
func TestNoSecretsInOutputsInProcess(t *testing.T) {
	if !testing.Short() {
		t.Skip("covered by TestNoSecretsInOutputsBenchBinary (same scenario, a superset of the files); runs in -short")
	}
	out := t.TempDir()
	var mu sync.Mutex
	var secrets []string
	opts := runner.Options{
		Quick: true, BenchBinary: "",
		OnSecret: func(s string) { mu.Lock(); secrets = append(secrets, s); mu.Unlock() },
	}
	ctx, cancel := context.WithTimeout(context.Background(), 90*time.Second)
	defer cancel()
	runStages(t, ctx, out, loadScenario(t), opts)
	mu.Lock()
	defer mu.Unlock()
	// Six generated tokens plus the secrets the events create.
	if len(secrets) < 6 {
		t.Fatalf("only %d secrets reported through OnSecret", len(secrets))
	}
	leaks, scanned := scanTree(t, out, secrets)
	requireCoverage(t, scanned, false)
	reportLeaks(t, leaks, len(secrets), len(scanned))
}

// goTool finds the go command that runs this test.
func goTool(t *testing.T) string {
	t.Helper()
	if p, err := exec.LookPath("go"); err == nil {
		return p
	}
	p := filepath.Join(os.Getenv("GOROOT"), "bin", "go")
	if _, err := os.Stat(p); err != nil {
		t.Skip("go command not found: cannot build the bench binary")
	}
	return p
}

// benchBinary is the bench binary the tests that run it share: built once
// per test binary (the first test that needs it pays), removed by
// TestMain.
var benchBinary struct {
	once      sync.Once
	dir, path string
	err       error
}

func TestMain(m *testing.M) {
	code := m.Run()
	if benchBinary.dir != "" {
		os.RemoveAll(benchBinary.dir)
	}
	os.Exit(code)
}

// buildBench returns the shared bench binary, building it on first use.
// It lives outside every test's scanned tree.
func buildBench(t *testing.T) string {
	t.Helper()
	goCmd := goTool(t)
	benchBinary.once.Do(func() {
		if benchBinary.dir, benchBinary.err = os.MkdirTemp("", "authbench-e2e-"); benchBinary.err != nil {
			return
		}
		benchBinary.path = filepath.Join(benchBinary.dir, "bench")
		build := exec.Command(goCmd, "build", "-o", benchBinary.path, "github.com/authbench/authbench/cmd/bench")
		if out, err := build.CombinedOutput(); err != nil {
			benchBinary.err = fmt.Errorf("build bench: %v\n%s", err, out)
		}
	})
	if benchBinary.err != nil {
		t.Fatal(benchBinary.err)
	}
	return benchBinary.path
}

// serversOf lists the live processes running bin as `bench serve`.
func serversOf(t *testing.T, bin string) []string { return processesOf(t, bin, "serve") }

// processesOf lists the live processes running bin with subcommand sub
// (any, if sub is empty).
func processesOf(t *testing.T, bin, sub string) []string {
	t.Helper()
	ents, err := os.ReadDir("/proc")
	if err != nil {
		t.Skip("no /proc: cannot look for leftover processes")
	}
	var out []string
	for _, e := range ents {
		cmdline, err := os.ReadFile(filepath.Join("/proc", e.Name(), "cmdline"))
		if err != nil {
			continue
		}
		args := strings.Split(string(cmdline), "\x00")
		if len(args) > 1 && args[0] == bin && (sub == "" || args[1] == sub) {
			out = append(out, e.Name())
		}
	}
	return out
}

// TestInterruptKeepsFinishedRunsAndStopsServers sends `bench run` an
// interrupt in its third turn, as Ctrl-C would (to the runner alone, so
// the runner itself must stop its child servers): it exits 130, writes
// results.json with the finished runs marked interrupted, and leaves no
// `bench serve` process behind.
func TestInterruptKeepsFinishedRunsAndStopsServers(t *testing.T) {
	if testing.Short() {
		t.Skip("builds the bench binary and runs child servers")
	}
	tmp, work := t.TempDir(), t.TempDir()
	bin := buildBench(t)
	scenario := filepath.Join(tmp, "int.yaml")
	src := "# Question: interrupt\ntokens: 2\nhash: {cost: 1000}\nload: {rate: 20, duration: 1s, warmup: 100ms, rounds: 3}\nverifiers: [uncached, ttl]\n"
	if err := os.WriteFile(scenario, []byte(src), 0o644); err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithTimeout(context.Background(), 60*time.Second)
	defer cancel()
	outRoot := filepath.Join(work, "reports")
	cmd := exec.CommandContext(ctx, bin, "run", "--id", "int", "--out", outRoot, "--flamegraphs", "", scenario)
	cmd.Dir = work
	stderr, err := cmd.StderrPipe()
	if err != nil {
		t.Fatal(err)
	}
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	sc := bufio.NewScanner(stderr)
	var log []string
	for sc.Scan() {
		log = append(log, sc.Text())
		if strings.HasPrefix(sc.Text(), "[3/6]") {
			if len(serversOf(t, bin)) == 0 {
				t.Error("no server processes found while running: the leftover check below would prove nothing")
			}
			cmd.Process.Signal(os.Interrupt)
			break
		}
	}
	go io.Copy(io.Discard, stderr)
	err = cmd.Wait()
	var ee *exec.ExitError
	if !errors.As(err, &ee) || ee.ExitCode() != 130 {
		t.Fatalf("bench run after interrupt: %v, want exit 130\n%s", err, strings.Join(log, "\n"))
	}
	res, err := results.Read(filepath.Join(outRoot, "int"))
	if err != nil {
		t.Fatal(err)
	}
	if !res.Interrupted || len(res.Runs) < 2 {
		t.Errorf("interrupted=%v with %d runs, want true and the 2 finished turns", res.Interrupted, len(res.Runs))
	}
	if left := serversOf(t, bin); len(left) > 0 {
		t.Errorf("server processes left behind: pids %v", left)
	}
}

// TestNoSecretsInOutputsBenchBinary builds the bench binary and runs the
// scenario through `bench run` with each server as a child `bench serve`
// process, then scans every file the run wrote, wherever it landed (the
// report directory, the --flamegraphs copy, anything relative to its
// working directory), for every secret it appended to its --audit-secrets
// file. The binary and the audit file live outside the scanned tree.
func TestNoSecretsInOutputsBenchBinary(t *testing.T) {
	if testing.Short() {
		t.Skip("builds the bench binary and runs a child-process suite (~15 s); skipped in -short")
	}
	tmp := t.TempDir()  // binary and audit file: not scanned
	work := t.TempDir() // the run's cwd and every output: scanned whole
	scenario, err := filepath.Abs(scenarioFile)
	if err != nil {
		t.Fatal(err)
	}
	bin := buildBench(t)
	audit := filepath.Join(tmp, "secrets.txt") // outside the scanned tree
	outRoot := filepath.Join(work, "reports")
	flames := filepath.Join(work, "flame-copy")
	ctx, cancel := context.WithTimeout(context.Background(), 120*time.Second)
	defer cancel()
	cmd := exec.CommandContext(ctx, bin, "run", "--quick", "--progress=false", "--id", "e2e",
		"--audit-secrets", audit, "--out", outRoot, "--flamegraphs", flames, scenario)
	cmd.Dir = work
	var stderr bytes.Buffer
	cmd.Stderr = &stderr
	cmd.Stdout = io.Discard
	err = cmd.Run()
	var ee *exec.ExitError
	switch {
	case err == nil:
	case errors.As(err, &ee) && ee.ExitCode() == 1:
		// Revocation checks over their bound are the report's business;
		// the outputs are complete and still get scanned.
		t.Logf("bench run exited 1: %s", strings.TrimSpace(stderr.String()))
	default:
		t.Fatalf("bench run: %v\n%s", err, stderr.String())
	}
	f, err := os.Open(audit)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	if st, err := f.Stat(); err != nil || st.Mode().Perm() != 0o600 {
		t.Errorf("audit file mode %v (err %v), want 0600", st.Mode().Perm(), err)
	}
	var secrets []string
	sc := bufio.NewScanner(f)
	for sc.Scan() {
		if s := strings.TrimSpace(sc.Text()); s != "" {
			secrets = append(secrets, s)
		}
	}
	if err := sc.Err(); err != nil {
		t.Fatal(err)
	}
	if len(secrets) < 6 {
		t.Fatalf("only %d secrets in the audit file", len(secrets))
	}
	leaks, scanned := scanTree(t, work, secrets)
	requireCoverage(t, scanned, true)
	copied := false
	for _, p := range scanned {
		if strings.HasPrefix(filepath.ToSlash(p), "flame-copy/e2e/") && strings.HasSuffix(p, ".svg") {
			copied = true
		}
	}
	if !copied {
		t.Errorf("the --flamegraphs copy is missing from the scan: %v", scanned)
	}
	reportLeaks(t, leaks, len(secrets), len(scanned))
	if strings.Contains(stderr.String(), secrets[0]) {
		t.Error("bench run printed a secret on stderr")
	}
}

// TestDiffFlamegraphsOfMatrixVariants: a matrix variant's name holds '/'
// and '=' ("diffs/tokens=100"); the diff flame graphs the profile stage
// records in results.json must exist under exactly those paths (they were
// once written under a slug and linked under the raw name).
func TestDiffFlamegraphsOfMatrixVariants(t *testing.T) {
	if testing.Short() {
		t.Skip("runs real load")
	}
	sc, err := scenarios.Parse("diffs.yaml", []byte(`# Question: are diff graphs of matrix variants where results.json says?
hash: {cost: 1000}
load: {rate: 40, duration: 400ms, warmup: 100ms, rounds: 1}
verifiers: [uncached, ttl]
matrix:
  tokens: [1, 100]
`), impl.Names())
	if err != nil {
		t.Fatal(err)
	}
	out := t.TempDir()
	ctx, cancel := context.WithTimeout(context.Background(), 60*time.Second)
	defer cancel()
	res := runStages(t, ctx, out, []*scenarios.Scenario{sc}, runner.Options{})
	reread, err := results.Read(out)
	if err != nil {
		t.Fatal(err)
	}
	found := map[string]bool{}
	for _, r := range reread.Runs {
		if r.DiffFlamegraphs == nil {
			continue
		}
		if r.Verifier != "ttl" {
			t.Errorf("%s/%s carries diff graphs", r.Scenario, r.Verifier)
		}
		found[r.Scenario] = true
		// A cached verifier's few samples may fold to nothing; the file
		// must still be where results.json says.
		for _, p := range []string{r.DiffFlamegraphs.Grown, r.DiffFlamegraphs.Shrunk, r.Flamegraph, r.Folded} {
			if _, err := os.Stat(filepath.Join(out, filepath.FromSlash(p))); err != nil || p == "" {
				t.Errorf("%s: recorded %q: %v", r.Scenario, p, err)
			}
		}
	}
	for _, v := range []string{"diffs/tokens=1", "diffs/tokens=100"} {
		if !found[v] {
			t.Errorf("%s: no diff flame graphs recorded (runs: %d)", v, len(res.Runs))
		}
	}
}
