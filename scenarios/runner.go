package scenarios

import (
	"context"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"math"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"sync/atomic"
	"syscall"
	"time"

	"github.com/google/pprof/profile"
	vegeta "github.com/tsenart/vegeta/v12/lib"

	"github.com/authbench/authbench/impl"
	"github.com/authbench/authbench/impl/cryptpw"
	"github.com/authbench/authbench/internal/flame"
	"github.com/authbench/authbench/internal/results"
	"github.com/authbench/authbench/loadgen"
)

// ControlVerifier names the no-auth control in results: the same server
// and handler without the auth middleware.
const ControlVerifier = "noauth"

// RunOptions configure Run.
type RunOptions struct {
	// OutDir is the report directory; profiles/, flamegraphs/, results/
	// and logs/ are created below it.
	OutDir string
	// Quick shortens every scenario (see (*Scenario).Quick).
	Quick bool
	// Progress receives one line per step with elapsed and remaining time.
	Progress io.Writer
	// Shard i of n (1-based) runs every n-th job; 0/0 runs all.
	ShardIndex, ShardCount int
	// BenchBinary is the bench executable started as `bench serve` for
	// each server process; empty runs the servers in this process.
	BenchBinary string
	// LiveTokens is how many tokens get their own secret and hash and
	// take the load (default DefaultLiveTokens); the rest of a larger token set are filler entries
	// sharing one hash, so the file has its real size without hashing
	// 10,000 secrets per run.
	LiveTokens int
	// Seed fixes the request mix sequence.
	Seed int64
	// Logger gets warnings (never secrets); nil discards.
	Logger *slog.Logger
	// OnSecret, if set, is told every plaintext secret the run creates
	// (tokens and event rotations). Only the secret-hygiene audit uses it,
	// to scan everything the run wrote for leaks.
	OnSecret func(secret string)
}

// DefaultLiveTokens is how many tokens carry real secrets and take load.
// PBS deployments authenticate a handful of automation tokens; a larger
// active set would mostly measure cache warm-up in short windows.
const DefaultLiveTokens = 16

// job is one (variant, verifier) cell of the suite.
type job struct {
	variant  Variant
	verifier string
}

// Run executes the scenarios and returns what finished. If ctx is
// cancelled the result holds every finished run with Interrupted set, and
// the error is nil: partial results are results.
func Run(ctx context.Context, scs []*Scenario, opts RunOptions) (*results.File, error) {
	if opts.LiveTokens <= 0 {
		opts.LiveTokens = DefaultLiveTokens
	}
	if opts.Logger == nil {
		opts.Logger = discardLogger()
	}
	if opts.Progress == nil {
		opts.Progress = io.Discard
	}
	for _, d := range []string{"profiles", "flamegraphs", "results", "logs"} {
		if err := os.MkdirAll(filepath.Join(opts.OutDir, d), 0o755); err != nil {
			return nil, fmt.Errorf("output directory: %w", err)
		}
	}
	var jobs []job
	for _, s := range scs {
		if opts.Quick {
			s = s.Quick()
		}
		for _, v := range s.Expand() {
			names := append([]string(nil), v.Scenario.Verifiers...)
			if v.Scenario.Control {
				names = append([]string{ControlVerifier}, names...)
			}
			for _, name := range names {
				jobs = append(jobs, job{v, name})
			}
		}
	}
	if opts.ShardCount > 0 {
		var mine []job
		for i, j := range jobs {
			if i%opts.ShardCount == opts.ShardIndex-1 {
				mine = append(mine, j)
			}
		}
		jobs = mine
	}
	r := &runner{opts: opts, out: &results.File{}, start: time.Now(), shadows: map[string]*tokenSet{}}
	for i := range jobs {
		r.planned += jobs[i].variant.Scenario.EstimatedRuntime() / time.Duration(max(1, jobCount(jobs[i].variant.Scenario)))
	}
	for i, j := range jobs {
		if ctx.Err() != nil {
			r.out.Interrupted = true
			break
		}
		fmt.Fprintf(opts.Progress, "[%d/%d] %s · %s · %s\n", i+1, len(jobs), j.variant.Name, j.verifier, r.eta())
		if err := r.runJob(ctx, j); err != nil {
			if ctx.Err() != nil {
				r.out.Interrupted = true
				break
			}
			return r.out, fmt.Errorf("%s/%s: %w", j.variant.Name, j.verifier, err)
		}
		r.done += j.variant.Scenario.EstimatedRuntime() / time.Duration(max(1, jobCount(j.variant.Scenario)))
		// Diff flame graphs once the variant's last job has run.
		if i+1 == len(jobs) || jobs[i+1].variant.Name != j.variant.Name {
			r.diffFlames(j.variant.Name)
		}
	}
	if r.out.Interrupted {
		r.out.Notes = append(r.out.Notes, "run interrupted: only finished runs are reported")
	}
	return r.out, nil
}

// jobCount is how many jobs a (single-variant) scenario expands to.
func jobCount(s *Scenario) int {
	n := len(s.Verifiers)
	if s.Control {
		n++
	}
	return n
}

type runner struct {
	opts    RunOptions
	out     *results.File
	start   time.Time
	planned time.Duration
	done    time.Duration
	shadows map[string]*tokenSet
	folded  map[string][]flame.Stack // verifier -> first repeat's stacks, per variant
	foldedV string
}

func (r *runner) eta() string {
	el := time.Since(r.start)
	left := r.planned - r.done
	if r.done > 0 {
		// Scale the plan by how the finished part actually went (setup,
		// hashing and process starts are not in the plan).
		left = time.Duration(float64(left) * float64(el) / float64(r.done))
	}
	return fmt.Sprintf("elapsed %s, ~%s left", el.Round(time.Second), left.Round(time.Second))
}

// tokenSet is a variant's generated token.shadow and its live secrets.
type tokenSet struct {
	data   []byte
	tokens []loadgen.Token // live tokens, index i has id TokenID(i)
}

func (r *runner) tokens(ctx context.Context, sc *Scenario) (*tokenSet, error) {
	key := fmt.Sprintf("%d/%s/%d", sc.Tokens, sc.Hash.Scheme, sc.Hash.Cost)
	if ts, ok := r.shadows[key]; ok {
		return ts, nil
	}
	live := min(sc.Tokens, r.opts.LiveTokens)
	for _, ev := range sc.Events {
		if ev.TokenIndex >= live {
			live = ev.TokenIndex + 1
		}
	}
	dir, err := os.MkdirTemp("", "authbench-gen-*")
	if err != nil {
		return nil, err
	}
	defer os.RemoveAll(dir)
	st, err := impl.OpenStore(filepath.Join(dir, "token.shadow"), impl.StoreOptions{Scheme: cryptpw.Scheme(sc.Hash.Scheme), Cost: sc.Hash.Cost})
	if err != nil {
		return nil, err
	}
	defer st.Close()
	ids := make([]string, live)
	for i := range ids {
		ids[i] = TokenID(i)
	}
	secrets, err := st.AddBatch(ctx, ids)
	if err != nil {
		return nil, fmt.Errorf("generate tokens: %w", err)
	}
	if sc.Tokens > live {
		m, err := st.Read()
		if err != nil {
			return nil, err
		}
		filler := m[ids[0]]
		for i := live; i < sc.Tokens; i++ {
			m[TokenID(i)] = filler
		}
		if err := st.Seed(ctx, m); err != nil {
			return nil, err
		}
	}
	data, err := os.ReadFile(st.Path())
	if err != nil {
		return nil, err
	}
	ts := &tokenSet{data: data}
	for i := range ids {
		ts.tokens = append(ts.tokens, loadgen.Token{ID: ids[i], Secret: secrets[i]})
		if r.opts.OnSecret != nil {
			r.opts.OnSecret(secrets[i])
		}
	}
	r.shadows = map[string]*tokenSet{key: ts} // keep one: sets can be large
	return ts, nil
}

func slug(s string) string {
	return strings.NewReplacer("/", "_", ",", "_", "=", "-").Replace(s)
}

func (r *runner) runJob(ctx context.Context, j job) error {
	sc := j.variant.Scenario
	ts, err := r.tokens(ctx, sc)
	if err != nil {
		return err
	}
	dir, err := os.MkdirTemp("", "authbench-run-*")
	if err != nil {
		return err
	}
	defer os.RemoveAll(dir) // holds the shadow: never part of the report
	shadow := filepath.Join(dir, "token.shadow")
	if err := os.WriteFile(shadow, ts.data, 0o640); err != nil {
		return err
	}
	// This process's store: "another process" for API events, and the
	// hand for manual edits.
	actorStore, err := impl.OpenStore(shadow, impl.StoreOptions{Scheme: cryptpw.Scheme(sc.Hash.Scheme), Cost: sc.Hash.Cost})
	if err != nil {
		return err
	}
	defer actorStore.Close()

	serverVerifier := j.verifier
	if j.verifier == ControlVerifier {
		serverVerifier = "uncached" // never called on the control route
	}
	var bound impl.Bound
	if j.verifier != ControlVerifier {
		v, err := impl.New(j.verifier, impl.Config{Store: actorStore, TTL: sc.Server.TTL})
		if err != nil {
			return err
		}
		bound = v.Bound()
	}
	procs := max(1, sc.Server.Processes)
	servers, err := startServers(ctx, serverSpec{
		shadow: shadow, verifier: serverVerifier, ttl: sc.Server.TTL, tls: sc.Server.TLS,
		gomaxprocs: sc.Server.GOMAXPROCS, processes: procs,
		scheme: cryptpw.Scheme(sc.Hash.Scheme), cost: sc.Hash.Cost,
		logPath: filepath.Join(r.opts.OutDir, "logs", slug(sc.Name)+"-"+j.verifier+".log"),
	}, r.opts.BenchBinary)
	if err != nil {
		return err
	}
	defer func() {
		if err := servers.close(); err != nil {
			r.opts.Logger.Warn("server exit", "err", err)
		}
	}()
	var coarse, stale time.Duration
	for _, ev := range sc.Events {
		switch ev.Kind {
		case EventCoarseMtime:
			coarse = ev.Granularity
		case EventStaleStat:
			stale = ev.TTL
		}
	}
	if coarse > 0 || stale > 0 {
		if err := servers.setFS(ctx, coarse, stale); err != nil {
			return err
		}
	}

	path := "/api2/json/version"
	if j.verifier == ControlVerifier {
		path = "/noauth/api2/json/version"
	}
	loadTokens := loadTokensFor(ts.tokens, sc.Events)
	if len(loadTokens) == 0 {
		return errors.New("every generated token is an event target: raise tokens")
	}
	form, err := loadgen.ParseForm(string(sc.Load.HeaderForm))
	if err != nil {
		return err
	}
	mix := loadgen.Mix{Valid: sc.Mix.Valid, WrongSecret: sc.Mix.WrongSecret, Unknown: sc.Mix.Unknown, Malformed: sc.Mix.Malformed}
	targeter, err := multiTargeter(servers.urls, path, loadTokens, mix, form, r.opts.Seed)
	if err != nil {
		return err
	}
	base := results.Run{
		Scenario: sc.Name, Verifier: j.verifier, Tokens: sc.Tokens, Concurrency: sc.Load.Concurrency,
		ServerProcs: sc.Server.GOMAXPROCS, Processes: procs, TLS: sc.Server.TLS,
	}
	attackOpts := loadgen.Options{Workers: uint64(sc.Load.Concurrency), MaxWorkers: uint64(sc.Load.Concurrency), Connections: max(sc.Load.Concurrency, 16)}

	if sc.Load.Shape != ShapeKnee {
		for rep := 1; rep <= sc.Load.Repeats; rep++ {
			stages := sc.Load.Stages
			if sc.Load.Shape == ShapeConstant {
				stages = []Stage{{Rate: sc.Load.Rate, Duration: sc.Load.Duration}}
			}
			var evs []Event
			if rep == 1 && j.verifier != ControlVerifier {
				evs = sc.Events // events mutate state: once, on a fresh server
			}
			if err := r.measure(ctx, j, sc, servers, actorStore, bound, targeter, attackOpts, base, rep, stages, evs, ts, form); err != nil {
				return err
			}
		}
	}
	if sc.Load.Knee != nil {
		return r.knee(ctx, sc, targeter, attackOpts, base)
	}
	return nil
}

// loadTokensFor leaves out tokens that events change, so the load's valid
// requests stay valid and the probes alone measure the events.
func loadTokensFor(all []loadgen.Token, evs []Event) []loadgen.Token {
	skip := map[string]bool{}
	for _, ev := range evs {
		skip[ev.TokenID] = true
	}
	var out []loadgen.Token
	for _, t := range all {
		if !skip[t.ID] {
			out = append(out, t)
		}
	}
	return out
}

// multiTargeter spreads requests round robin over the server processes.
func multiTargeter(urls []string, path string, toks []loadgen.Token, mix loadgen.Mix, form loadgen.Form, seed int64) (vegeta.Targeter, error) {
	var ts []vegeta.Targeter
	for i, u := range urls {
		m, err := loadgen.NewMixTargeter(u+path, toks, mix, form, seed+int64(i))
		if err != nil {
			return nil, err
		}
		ts = append(ts, m.Targeter())
	}
	if len(ts) == 1 {
		return ts[0], nil
	}
	var n atomic.Uint64
	return func(t *vegeta.Target) error { return ts[(n.Add(1)-1)%uint64(len(ts))](t) }, nil
}

// measure runs one repeat: warm-up, then the measured window (one attack
// per stage) with profile, counters, events and probes around it.
func (r *runner) measure(ctx context.Context, j job, sc *Scenario, servers *serverSet, actorStore *impl.Store, bound impl.Bound,
	targeter vegeta.Targeter, attackOpts loadgen.Options, base results.Run, rep int, stages []Stage, evs []Event, ts *tokenSet, form loadgen.Form) error {
	name := slug(sc.Name)
	var (
		before       []impl.Stats
		measureStart time.Time
		probeCancel  context.CancelFunc = func() {}
		probes       []*probe
		eventsWG     sync.WaitGroup
		measureErr   error
		rusageStart  float64
	)
	startWindow := func() {
		measureStart = time.Now()
		rusageStart = selfCPUSeconds()
		var err error
		if before, err = servers.stats(ctx); err != nil {
			measureErr = err
		}
		if err := servers.startProfile(ctx); err != nil {
			measureErr = err
		}
		var pctx context.Context
		pctx, probeCancel = context.WithCancel(ctx)
		actor := &eventActor{servers: servers, store: actorStore, scheme: cryptpw.Scheme(sc.Hash.Scheme), cost: sc.Hash.Cost}
		for _, ev := range evs {
			old := ""
			if ev.TokenIndex >= 0 && ev.TokenIndex < len(ts.tokens) && ev.Kind != EventAPIAdd {
				old = ts.tokens[ev.TokenIndex].Secret
			}
			rate := ev.ProbeRate
			if rate <= 0 {
				rate = DefaultProbeRate
			}
			p := newProbe(ev, old, servers.urls, form, rate)
			probes = append(probes, p)
			go p.run(pctx)
			eventsWG.Add(1)
			go func() {
				defer eventsWG.Done()
				select {
				case <-pctx.Done():
					return
				case <-time.After(time.Until(measureStart.Add(ev.At))):
				}
				sec, err := actor.do(pctx, ev)
				// Bounds count from the completed change: requests sent
				// while the write was still under way may pass.
				at := time.Now()
				if sec != "" && r.opts.OnSecret != nil {
					r.opts.OnSecret(sec)
				}
				if !ev.Kind.IsAPI() {
					// Hand edits probe only the old secret: a request with
					// the new one would replace the cached old secret (one
					// per id) and close the very window being measured.
					sec = ""
				}
				p.markEvent(at, sec, err)
			}()
		}
	}
	var res []*loadgen.Result
	for si, st := range stages {
		o := attackOpts
		o.Name = fmt.Sprintf("%s/%s/r%d/s%d", sc.Name, j.verifier, rep, si)
		o.Rate = st.Rate
		o.Duration = st.Duration
		if si == 0 {
			o.Warmup = sc.Load.Warmup
			o.OnMeasureStart = startWindow
		}
		o.ResultsPath = filepath.Join(r.opts.OutDir, "results", fmt.Sprintf("%s-%s-r%d-s%d.bin", name, j.verifier, rep, si))
		rs, err := loadgen.Attack(ctx, targeter, o)
		if err != nil {
			probeCancel()
			return err
		}
		res = append(res, rs)
		if rs.Interrupted {
			break
		}
	}
	cpuClient := selfCPUSeconds() - rusageStart
	prof, perr := servers.stopProfile(context.WithoutCancel(ctx), j.verifier)
	after, serr := servers.stats(context.WithoutCancel(ctx))
	probeCancel()
	eventsWG.Wait()
	if measureErr != nil {
		return measureErr
	}
	if perr != nil {
		return perr
	}
	if serr != nil {
		return serr
	}
	if ctx.Err() != nil {
		return ctx.Err() // the window is incomplete: report what finished before
	}
	for si, rs := range res {
		run := base
		run.Repeat = rep
		run.Phase = "constant"
		if len(stages) > 1 {
			run.Phase = fmt.Sprintf("stage-%d", si+1)
		}
		fillFromAttack(&run, rs)
		rel := func(p string) string { rp, _ := filepath.Rel(r.opts.OutDir, p); return rp }
		run.ResultsFile = rel(filepath.Join(r.opts.OutDir, "results", fmt.Sprintf("%s-%s-r%d-s%d.bin", name, j.verifier, rep, si)))
		if si == 0 {
			// Counters, profile and client CPU cover the whole window.
			var total impl.Stats
			for i := range after {
				d := after[i].Sub(before[i])
				total = total.Add(d)
				run.PerProcess = append(run.PerProcess, toResultStats(d))
			}
			if len(after) == 1 {
				run.PerProcess = nil
			}
			run.VerifierStats = toResultStats(total)
			if n := total.Fast + total.Slow; n > 0 {
				run.SlowFraction = float64(total.Slow) / float64(n)
			}
			if err := r.saveProfile(&run, prof, name, j.verifier, rep); err != nil {
				return err
			}
			if run.Requests > 0 {
				run.ClientCPUSecondsPer1kReq = cpuClient / float64(run.Requests) * 1000
			}
		}
		r.out.Runs = append(r.out.Runs, run)
	}
	for _, p := range probes {
		rev := p.finish(sc.Name, j.verifier, boundFor(bound, p.ev), measureStart, true)
		r.out.Revocations = append(r.out.Revocations, rev)
	}
	return nil
}

func toResultStats(s impl.Stats) results.VerifierStats {
	return results.VerifierStats{Fast: s.Fast, Slow: s.Slow, Fallback: s.Fallback, Resets: s.Resets, Stats: s.Stat, Rejected: s.Rejected}
}

func fillFromAttack(run *results.Run, rs *loadgen.Result) {
	m := rs.Metrics
	run.OfferedRPS = rs.OfferedRPS
	run.AchievedRPS = rs.AchievedRPS
	run.ShortOfTarget = rs.ShortOfTarget
	run.Requests = m.Requests
	run.SuccessRatio = m.Success
	run.ExpectedRatio = rs.ExpectedRatio
	run.DurationS = m.Duration.Seconds()
	us := func(d time.Duration) float64 { return float64(d) / float64(time.Microsecond) }
	run.Latency = results.Latency{P50: us(m.Latencies.P50), P90: us(m.Latencies.P90), P99: us(m.Latencies.P99), P999: us(m.Latencies.Quantile(0.999)), Max: us(m.Latencies.Max)}
	run.StatusCodes = map[string]int{}
	for code, n := range rs.StatusCodes {
		run.StatusCodes[fmt.Sprint(code)] = int(n)
	}
}

// saveProfile writes the run's profile, folded stacks and flame graph and
// computes the hot-path shares and CPU cost from it.
func (r *runner) saveProfile(run *results.Run, p *profile.Profile, name, verifier string, rep int) error {
	if p == nil {
		return nil
	}
	base := fmt.Sprintf("%s-%s-r%d", name, verifier, rep)
	pp := filepath.Join(r.opts.OutDir, "profiles", base+".pb.gz")
	f, err := os.Create(pp)
	if err != nil {
		return fmt.Errorf("save profile: %w", err)
	}
	if err := p.Write(f); err != nil {
		f.Close()
		return fmt.Errorf("save profile: %w", err)
	}
	if err := f.Close(); err != nil {
		return err
	}
	run.Profile = filepath.Join("profiles", base+".pb.gz")
	if br, err := flame.Shares(p, flame.DefaultClassifier()); err == nil {
		run.CPUShare = results.CPUShare{Crypt: br.Fraction("crypt"), ShadowRead: br.Fraction("shadow_read"), Stat: br.Fraction("stat"), Other: br.Fraction(flame.OtherBucket), Samples: int64(len(p.Sample))}
		if br.Unit == "nanoseconds" && run.Requests > 0 {
			run.CPUSecondsPer1kReq = float64(br.Total) / 1e9 / float64(run.Requests) * 1000
		}
	}
	stacks := flame.Folded(p, -1)
	fdir := filepath.Join(r.opts.OutDir, "flamegraphs", name)
	if err := os.MkdirAll(fdir, 0o755); err != nil {
		return err
	}
	if err := writeFile(filepath.Join(fdir, fmt.Sprintf("%s-r%d.folded", verifier, rep)), func(w io.Writer) error { return flame.WriteFolded(w, stacks) }); err != nil {
		return err
	}
	svg := filepath.Join(fdir, fmt.Sprintf("%s-r%d.svg", verifier, rep))
	title := fmt.Sprintf("%s — %s (repeat %d)", run.Scenario, verifier, rep)
	if err := writeFile(svg, func(w io.Writer) error { return flame.RenderSVG(w, stacks, flame.Options{Title: title}) }); err != nil {
		return err
	}
	run.Folded = filepath.Join("flamegraphs", name, fmt.Sprintf("%s-r%d.folded", verifier, rep))
	run.Flamegraph = filepath.Join("flamegraphs", name, fmt.Sprintf("%s-r%d.svg", verifier, rep))
	if rep == 1 {
		if r.foldedV != run.Scenario {
			r.folded, r.foldedV = map[string][]flame.Stack{}, run.Scenario
		}
		r.folded[verifier] = stacks
	}
	return nil
}

// diffFlames renders each cached verifier against uncached, both ways.
func (r *runner) diffFlames(variant string) {
	basis, ok := r.folded["uncached"]
	if !ok || r.foldedV != variant {
		return
	}
	dir := filepath.Join(r.opts.OutDir, "flamegraphs", slug(variant))
	for v, stacks := range r.folded {
		if v == "uncached" || v == ControlVerifier {
			continue
		}
		for _, d := range []flame.Direction{flame.Grown, flame.Shrunk} {
			p := filepath.Join(dir, fmt.Sprintf("diff-%s-vs-uncached-%s.svg", v, d))
			title := fmt.Sprintf("%s: %s vs uncached (%s)", variant, v, d)
			if err := writeFile(p, func(w io.Writer) error {
				return flame.RenderDiffSVG(w, basis, stacks, flame.Options{Title: title, Direction: d})
			}); err != nil {
				r.opts.Logger.Warn("diff flame graph", "err", err)
			}
		}
	}
}

func writeFile(path string, write func(io.Writer) error) error {
	f, err := os.Create(path)
	if err != nil {
		return err
	}
	if err := write(f); err != nil {
		f.Close()
		return fmt.Errorf("write %s: %w", path, err)
	}
	return f.Close()
}

// knee runs the max-rate search and records each step and the knee.
func (r *runner) knee(ctx context.Context, sc *Scenario, targeter vegeta.Targeter, attackOpts loadgen.Options, base results.Run) error {
	k := sc.Load.Knee
	ko := loadgen.KneeOptions{
		StartRate: k.Start, MaxRate: k.Max, Factor: k.Factor, StepDuration: k.StepDuration,
		StepWarmup: min(sc.Load.Warmup, 250*time.Millisecond), Cooldown: 100 * time.Millisecond,
		MaxSteps: k.MaxSteps, P99Bound: k.P99Bound, Attack: attackOpts,
	}
	if ko.Factor == 0 {
		ko.Factor = DefaultKneeFactor
	}
	kn, err := loadgen.FindKnee(ctx, func() vegeta.Targeter { return targeter }, ko)
	if err != nil {
		return err
	}
	if kn.Interrupted {
		return ctx.Err()
	}
	for i, st := range kn.Steps {
		run := base
		run.Phase = "knee-step"
		run.Repeat = i + 1
		fillFromAttack(&run, st.Result)
		r.out.Runs = append(r.out.Runs, run)
	}
	run := base
	run.Phase = "knee"
	run.KneeRPS = kn.Rate
	run.KneeCapped = kn.FirstBad == 0
	r.out.Runs = append(r.out.Runs, run)
	return nil
}

// selfCPUSeconds is this process's user+system CPU time: the load
// generator's cost when servers run in child processes.
func selfCPUSeconds() float64 {
	var ru syscall.Rusage
	if err := syscall.Getrusage(syscall.RUSAGE_SELF, &ru); err != nil {
		return math.NaN()
	}
	return time.Duration(ru.Utime.Nano() + ru.Stime.Nano()).Seconds()
}

func discardLogger() *slog.Logger { return slog.New(slog.NewTextHandler(io.Discard, nil)) }
