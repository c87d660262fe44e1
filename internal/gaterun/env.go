package gaterun

import (
	"bytes"
	"cmp"
	"context"
	"errors"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"sort"
	"strings"

	"github.com/authbench/authbench/internal/callgrind"
	"github.com/authbench/authbench/internal/neighbour"
	"github.com/authbench/authbench/internal/results"
)

// Environment variables the impl test binary reads (impl/slowdown_test.go).
const (
	SlowdownEnv      = "AUTHBENCH_SLOWDOWN"
	SlowdownItersEnv = "AUTHBENCH_SLOWDOWN_ITERS"
	slowdownMarker   = "authbench: injected slowdown active"
)

// Side is one build under test.
type Side struct {
	Name     string   // label in progress lines and output files
	Src      string   // source root: cwd of the HTTP run
	Bench    string   // bench binary
	ImplTest string   // impl package test binary (go test -c)
	Env      []string // extra environment, e.g. the injected slowdown
	NoHTTP   bool     // skip the HTTP probe (the slowdown hook cannot reach it)
}

// slowed reports whether s carries the injected slowdown.
func (s Side) slowed() bool {
	return slices.ContainsFunc(s.Env, func(e string) bool { return strings.HasPrefix(e, SlowdownEnv+"=") })
}

// Kind is what a round measures.
type Kind int

// Round kinds.
const (
	TimeRound        Kind = iota // k short samples per benchmark, wall and CPU time
	InstructionRound             // one run under callgrind
)

func (k Kind) String() string {
	if k == abKind {
		return "ab"
	}
	return [...]string{"time", "instructions"}[k]
}

// Protocol says what one round measures.
type Protocol struct {
	BenchRE    string // -test.bench of the impl microbenchmarks
	Samples    int    // k: samples per benchmark in a time round (-test.count)
	SampleTime string // -test.benchtime of each sample
	InstrBench string // -test.bench of instruction rounds (empty: BenchRE)
	InstrTime  string // -test.benchtime under callgrind: a fixed count (2000x), so no repetition depends on wall time
	InstrCount int    // instruction rounds in one callgrind run (-test.count); set by Interleave
	Scenario   string // HTTP probe scenario, absolute; empty skips it
	Tmp        string // scratch for HTTP run directories and callgrind output
}

// Env is what the gate needs from the outside world; tests replace it.
type Env struct {
	// Resolve returns the commit a ref names in repo.
	Resolve func(ctx context.Context, repo, ref string) (string, error)
	// Worktree checks commit out into dir and returns its cleanup.
	Worktree func(ctx context.Context, repo, commit, dir string) (func() error, error)
	// Build compiles the bench binary and the impl test binary of src into out.
	Build func(ctx context.Context, src, out, name string) (Side, error)
	// Round measures s once and returns its metrics in Go benchmark format.
	Round func(ctx context.Context, s Side, kind Kind, p Protocol, id string) ([]byte, error)
	// Neighbour starts the noisy neighbour and returns its stop function.
	Neighbour func(ctx context.Context) (stop func() error, err error)
	// LookPath finds a tool (valgrind) before anything is built.
	LookPath func(file string) (string, error)
	// BuildAB builds the in-process A/B driver of two source trees into
	// out and returns its path (ABBuild).
	BuildAB func(ctx context.Context, aSrc, bSrc, out string) (string, error)
	// RunAB runs the driver once and returns its output (benchmark format).
	RunAB func(ctx context.Context, bin string, p ABProtocol) ([]byte, error)
}

// RealEnv is the Env of a real run. neighbourArgv is the command whose
// main serves the neighbour (bench's hidden `gate --neighbour-child`).
func RealEnv(neighbourArgv []string) Env {
	return Env{
		Resolve:  gitResolve,
		Worktree: gitWorktree,
		Build:    goBuild,
		Round:    runRound,
		LookPath: exec.LookPath,
		BuildAB:  ABBuild,
		RunAB:    abRun,
		Neighbour: func(ctx context.Context) (func() error, error) {
			p, err := neighbour.Start(ctx, neighbourArgv)
			if err != nil {
				return nil, err
			}
			return p.Stop, nil
		},
	}
}

// gitResolve returns the commit ref names, or a clear error.
func gitResolve(ctx context.Context, repo, ref string) (string, error) {
	if strings.HasPrefix(ref, "-") {
		return "", fmt.Errorf("unknown ref %q", ref)
	}
	cmd := exec.CommandContext(ctx, "git", "-C", repo, "rev-parse", "--verify", "--quiet", ref+"^{commit}")
	out, err := cmd.Output()
	if err != nil {
		return "", fmt.Errorf("unknown ref %q in %s (for a PR base, fetch with fetch-depth: 0)", ref, repo)
	}
	return strings.TrimSpace(string(out)), nil
}

// gitWorktree checks commit out into dir as a detached worktree.
func gitWorktree(ctx context.Context, repo, commit, dir string) (func() error, error) {
	if out, err := exec.CommandContext(ctx, "git", "-C", repo, "worktree", "add", "--detach", "--quiet", dir, commit).CombinedOutput(); err != nil {
		return nil, fmt.Errorf("git worktree add %s: %w: %s", shortSHA(commit), err, tail(out))
	}
	return func() error {
		// Not ctx: the worktree must go even after Ctrl-C.
		out, err := exec.Command("git", "-C", repo, "worktree", "remove", "--force", dir).CombinedOutput()
		if err != nil {
			return fmt.Errorf("git worktree remove %s: %w: %s", dir, err, tail(out))
		}
		return nil
	}, nil
}

// goBuild compiles src's bench command and its impl test binary, once, so
// that rounds never recompile.
func goBuild(ctx context.Context, src, out, name string) (Side, error) {
	s := Side{Name: name, Src: src, Bench: filepath.Join(out, "bench"), ImplTest: filepath.Join(out, "impl.test")}
	for _, args := range [][]string{
		{"build", "-o", s.Bench, "./cmd/bench"},
		{"test", "-c", "-o", s.ImplTest, "./impl/"},
	} {
		cmd := exec.CommandContext(ctx, "go", args...)
		cmd.Dir = src
		if b, err := cmd.CombinedOutput(); err != nil {
			return s, fmt.Errorf("go %s: %w\n%s", strings.Join(args, " "), err, tail(b))
		}
	}
	return s, nil
}

func runRound(ctx context.Context, s Side, kind Kind, p Protocol, id string) ([]byte, error) {
	if kind == InstructionRound {
		return instructionRound(ctx, s, p, id)
	}
	return timeRound(ctx, s, p, id)
}

// timeRound runs k samples of every microbenchmark and, if configured, the
// HTTP probe of one side once, in Go benchmark format.
func timeRound(ctx context.Context, s Side, p Protocol, id string) ([]byte, error) {
	cmd := exec.CommandContext(ctx, s.ImplTest, "-test.run", "^$", "-test.bench", p.BenchRE,
		"-test.benchtime", p.SampleTime, "-test.count", fmt.Sprint(p.Samples))
	cmd.Dir = filepath.Join(s.Src, "impl")
	cmd.Env = append(os.Environ(), s.Env...)
	var stderr bytes.Buffer
	cmd.Stderr = &stderr
	out, err := cmd.Output()
	if err != nil {
		return nil, fmt.Errorf("microbenchmarks: %w: %s", err, tail(append(out, stderr.Bytes()...)))
	}
	if err := checkMarker(s, stderr.Bytes()); err != nil {
		return nil, err
	}
	if p.Scenario == "" || s.NoHTTP {
		return out, nil
	}
	dir := filepath.Join(p.Tmp, "http")
	run := exec.CommandContext(ctx, s.Bench, "run", "--quick", "--progress=false", "--id", id, "--out", dir, p.Scenario)
	run.Dir = s.Src
	run.Env = append(os.Environ(), s.Env...)
	if b, err := run.CombinedOutput(); err != nil {
		return nil, fmt.Errorf("HTTP probe: %w: %s", err, tail(b))
	}
	defer os.RemoveAll(filepath.Join(dir, id))
	http, err := os.ReadFile(filepath.Join(dir, id, results.BenchFile))
	if err != nil {
		return nil, fmt.Errorf("HTTP probe: %w", err)
	}
	return append(out, http...), nil
}

func checkMarker(s Side, stderr []byte) error {
	if s.slowed() && !bytes.Contains(stderr, []byte(slowdownMarker)) {
		return fmt.Errorf("%s is set but the test binary did not confirm it (no impl/slowdown_test.go in this build?)", SlowdownEnv)
	}
	return nil
}

// ErrNoValgrind is returned when instruction counting is asked for on a
// machine without valgrind.
var ErrNoValgrind = errors.New("valgrind not found: install it: scripts/tools.sh valgrind (Debian package valgrind)")

// valgrindEnv is the setting under which Go runs reproducibly under
// callgrind: one P (idle Ps spin and make counts vary by 100 % and more),
// no async preemption (its signal aborts callgrind) and no GC (a cycle
// landing in a window adds a few percent to allocating paths; a process
// of 2000-op windows stays small).
func valgrindEnv() []string {
	return []string{"GOMAXPROCS=1", "GODEBUG=asyncpreemptoff=1", "GOGC=off"}
}

// instructionRound runs the microbenchmarks of one side under callgrind,
// p.InstrCount repetitions in one process (counts are exact, so rounds need
// no interleaving against drift, and valgrind's start-up is paid once), and
// returns instructions/op per benchmark and repetition in Go benchmark
// format (GOMAXPROCS 1, so no -N suffix).
func instructionRound(ctx context.Context, s Side, p Protocol, id string) ([]byte, error) {
	vg, err := exec.LookPath("valgrind")
	if err != nil {
		return nil, ErrNoValgrind
	}
	dir, err := os.MkdirTemp(p.Tmp, "callgrind-"+id+"-")
	if err != nil {
		return nil, fmt.Errorf("callgrind output dir: %w", err)
	}
	defer os.RemoveAll(dir)
	cmd := exec.CommandContext(ctx, vg, "--tool=callgrind", "--instr-atstart=no",
		"--callgrind-out-file="+filepath.Join(dir, "cg.out"),
		s.ImplTest, "-test.run", "^$", "-test.bench", cmp.Or(p.InstrBench, p.BenchRE), "-test.benchtime", p.InstrTime, "-test.count", fmt.Sprint(withSpares(p.InstrCount)))
	cmd.Dir = filepath.Join(s.Src, "impl")
	cmd.Env = append(append(os.Environ(), s.Env...), valgrindEnv()...)
	var stderr bytes.Buffer
	cmd.Stderr = &stderr
	out, err := cmd.Output()
	if err != nil {
		if ctx.Err() != nil {
			return nil, ctx.Err()
		}
		return nil, fmt.Errorf("valgrind failed: %w: %s", err, tail(append(out, stderr.Bytes()...)))
	}
	if err := checkMarker(s, stderr.Bytes()); err != nil {
		return nil, err
	}
	paths, err := filepath.Glob(filepath.Join(dir, "cg.out*"))
	if err != nil {
		return nil, err
	}
	dumps, err := callgrind.ReadDumps(paths...)
	if err != nil {
		return nil, fmt.Errorf("valgrind ran but %w (a build without internal/callgrind windows?): %s", err, tail(stderr.Bytes()))
	}
	rounds, dropped, err := callgrind.Rounds(dumps)
	if err != nil {
		return nil, err
	}
	want := max(p.InstrCount, 1)
	for _, d := range dumps {
		if _, ok := rounds[d.Name]; !ok {
			rounds[d.Name] = nil // every repetition dropped: reported below
		}
	}
	for name, vs := range rounds {
		// The first repetition warms caches, pools and maps: a few
		// percent more instructions on allocating paths.
		if len(vs) > 0 {
			vs = vs[1:]
		}
		if len(vs) < want {
			return nil, fmt.Errorf("%w: %s: %d of %d callgrind repetitions long enough to count (%d dropped as stalled: is the machine overloaded?)",
				ErrRoundIncomplete, name, len(vs), want, dropped)
		}
		rounds[name] = vs[:want]
	}
	return instructionLines(rounds), nil
}

// withSpares adds the warm-up repetition and spares to replace ones
// callgrind.Rounds drops.
func withSpares(n int) int {
	n = max(n, 1)
	return n + 1 + max(2, n/3)
}

// instructionLines formats per-op counts as Go benchmark lines, one per
// benchmark and repetition (the iteration count is not meaningful here).
func instructionLines(rounds map[string][]float64) []byte {
	names := make([]string, 0, len(rounds))
	for n := range rounds {
		names = append(names, n)
	}
	sort.Strings(names)
	var b bytes.Buffer
	for _, n := range names {
		for _, v := range rounds[n] {
			fmt.Fprintf(&b, "%s 1 %.2f instructions/op\n", n, v)
		}
	}
	return b.Bytes()
}

func shortSHA(s string) string {
	if len(s) > 12 {
		return s[:12]
	}
	return s
}

// tail keeps the end of a command's output for an error message.
func tail(b []byte) string {
	const max = 2000
	s := strings.TrimSpace(string(b))
	if len(s) > max {
		s = "…" + s[len(s)-max:]
	}
	return s
}
