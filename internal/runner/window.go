package runner

import (
	"context"
	"errors"
	"fmt"
	"path/filepath"
	"sync"
	"time"

	"github.com/google/pprof/profile"

	"github.com/authbench/authbench/impl"
	"github.com/authbench/authbench/impl/cryptpw"
	"github.com/authbench/authbench/internal/outfile"
	"github.com/authbench/authbench/internal/results"
	"github.com/authbench/authbench/internal/server"
	"github.com/authbench/authbench/loadgen"
	"github.com/authbench/authbench/scenarios"
)

// window is one measured window of a cell: warm-up, then one attack per
// stage, bracketed by start (counters, CPU time, profile, events and
// probes) and stop, after which collect turns what was seen into runs and
// revocations.
type window struct {
	r      *runner
	sc     *scenarios.Scenario
	c      *cell
	ts     *tokenSet
	round  int
	repeat int
	stages []scenarios.Stage
	events []scenarios.Event

	// Set by start.
	begin     time.Time
	before    []server.Stats
	clientCPU float64
	probes    []*probe
	cancel    context.CancelFunc
	eventsWG  sync.WaitGroup
	startErr  error

	// Set by run: the stages' attacks.
	attacks []*loadgen.Result
}

// measured is what stop gathered.
type measured struct {
	attacks   []*loadgen.Result
	after     []server.Stats
	prof      *profile.Profile
	clientCPU float64
}

// run executes the window and returns its runs and revocations. A
// cancelled ctx yields ctx.Err(): an incomplete window is not a result.
func (w *window) run(ctx context.Context) ([]results.Run, []results.Revocation, error) {
	w.cancel = func() {}
	var attacks []*loadgen.Result
	for si, st := range w.stages {
		o := w.c.attack
		o.Name = fmt.Sprintf("%s/%s/r%d/s%d", w.sc.Name, w.c.name, w.repeat, si)
		o.Rate, o.Duration = st.Rate, st.Duration
		if si == 0 {
			o.Warmup = w.sc.Load.Warmup
			o.OnMeasureStart = func() { w.start(ctx) }
		}
		o.ResultsPath = w.path(results.Layout{}.VegetaResults(w.sc.Name, w.c.name, w.repeat, si))
		rs, err := loadgen.Attack(ctx, w.c.targeter, o)
		if err != nil {
			w.cancel()
			w.eventsWG.Wait()
			return nil, nil, err
		}
		attacks = append(attacks, rs)
		if rs.Interrupted {
			break
		}
	}
	w.attacks = attacks
	m, err := w.stop(ctx, attacks)
	if err != nil {
		return nil, nil, err
	}
	if ctx.Err() != nil {
		return nil, nil, ctx.Err() // report what finished before
	}
	return w.collect(m)
}

// profiled reports whether the window takes a CPU profile: not for
// parallel turns of in-process servers, which would share this process's
// one profiler.
func (w *window) profiled() bool {
	return !(w.sc.Load.Parallel && w.c.servers.inProcess)
}

func (w *window) path(rel string) string {
	return filepath.Join(w.r.opts.OutDir, filepath.FromSlash(rel))
}

// start opens the measured window: counters and CPU time before, the
// profile, the probes and the event timers.
func (w *window) start(ctx context.Context) {
	w.begin = time.Now()
	w.clientCPU = server.ProcessCPUSeconds()
	var err error
	if w.before, err = w.c.servers.stats(ctx); err != nil {
		w.startErr = err
	}
	if w.profiled() {
		if err := w.c.servers.startProfile(ctx); err != nil && w.startErr == nil {
			w.startErr = err
		}
	}
	pctx, cancel := context.WithCancel(ctx)
	w.cancel = cancel
	actor := &eventActor{servers: w.c.servers, store: w.c.store, scheme: cryptpw.Scheme(w.sc.Hash.Scheme), cost: w.sc.Hash.Cost}
	for _, ev := range w.events {
		old := ""
		if ev.TokenIndex >= 0 && ev.TokenIndex < len(w.ts.tokens) && ev.Kind != scenarios.EventAPIAdd {
			old = w.ts.tokens[ev.TokenIndex].Secret
		}
		rate := ev.ProbeRate
		if rate <= 0 {
			rate = scenarios.DefaultProbeRate
		}
		p := newProbe(ev, old, w.c.servers.urls, w.c.form, rate)
		w.probes = append(w.probes, p)
		go p.run(pctx)
		w.eventsWG.Add(1)
		go func() {
			defer w.eventsWG.Done()
			select {
			case <-pctx.Done():
				return
			case <-time.After(time.Until(w.begin.Add(ev.At))):
			}
			sec, err := actor.do(pctx, ev)
			// Bounds count from the completed change: requests sent
			// while the write was still under way may pass.
			at := time.Now()
			if sec != "" && w.r.opts.OnSecret != nil {
				w.r.opts.OnSecret(sec)
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

// stop closes the window: profile and counters after (even when ctx has
// ended, so the servers are left idle), then probes and events.
func (w *window) stop(ctx context.Context, attacks []*loadgen.Result) (measured, error) {
	m := measured{attacks: attacks, clientCPU: server.ProcessCPUSeconds() - w.clientCPU}
	bg := context.WithoutCancel(ctx)
	var perr, serr error
	if w.begin.IsZero() {
		// Interrupted before the window opened: nothing to stop.
		if err := ctx.Err(); err != nil {
			return m, err
		}
		return m, errors.New("the measured window never started")
	}
	if w.profiled() {
		m.prof, perr = w.c.servers.stopProfile(bg)
	}
	m.after, serr = w.c.servers.stats(bg)
	w.cancel()
	w.eventsWG.Wait()
	for _, err := range []error{w.startErr, perr, serr} {
		if err != nil {
			return m, err
		}
	}
	return m, nil
}

// collect turns the window into runs (one per stage; counters, CPU time
// and profile on the first, as they cover the whole window) and the
// probes' revocations, and saves the raw profile.
func (w *window) collect(m measured) ([]results.Run, []results.Revocation, error) {
	var runs []results.Run
	var total uint64
	for _, rs := range m.attacks {
		total += rs.Metrics.Requests
	}
	for si, rs := range m.attacks {
		run := w.c.base(w.sc, w.round)
		run.Repeat = w.repeat
		run.Phase = results.PhaseConstant
		if len(w.stages) > 1 {
			run.Phase = results.PhaseStage(si + 1)
		}
		fillFromAttack(&run, rs)
		run.ResultsFile = results.Layout{}.VegetaResults(w.sc.Name, w.c.name, w.repeat, si)
		if si == 0 {
			w.counters(&run, m.after)
			if !w.c.servers.inProcess {
				w.serverCPU(&run, m.after, total)
			}
			if m.prof != nil {
				run.Profile = results.Layout{}.Profile(w.sc.Name, w.c.name, w.repeat)
				if err := outfile.Write(w.path(run.Profile), m.prof.Write); err != nil {
					return nil, nil, fmt.Errorf("save profile: %w", err)
				}
			}
			if run.Requests > 0 && !w.sc.Load.Parallel {
				// (Parallel turns share this process's CPU time.)
				run.ClientCPUSecondsPer1kReq = m.clientCPU / float64(run.Requests) * 1000
			}
		}
		runs = append(runs, run)
	}
	var revs []results.Revocation
	for _, p := range w.probes {
		revs = append(revs, p.finish(w.sc.Name, w.c.name, boundFor(w.c.bound, p.ev), w.begin))
	}
	return runs, revs, nil
}

// counters records the verifier counters' change over the window.
func (w *window) counters(run *results.Run, after []server.Stats) {
	var total impl.Stats
	for i := range after {
		d := after[i].Verify.Sub(w.before[i].Verify)
		total = total.Add(d)
		run.PerProcess = append(run.PerProcess, toResultStats(d))
	}
	if len(after) == 1 {
		run.PerProcess = nil
	}
	run.VerifierStats = toResultStats(total)
	if _, ok := results.TicketStrategy(w.c.name); ok {
		run.VerifierStats, run.PerProcess = ticketCounters(w.before, after)
	}
	if n := total.Fast + total.Slow; n > 0 {
		run.SlowFraction = float64(total.Slow) / float64(n)
	}
}

// serverCPU records the server processes' own CPU time over the window
// (summed over processes) and the cost per 1000 requests derived from it.
// Without CPU time (getrusage failed) the profile stage falls back to
// profile samples.
func (w *window) serverCPU(run *results.Run, after []server.Stats, requests uint64) {
	cpu := sumCPU(after) - sumCPU(w.before)
	if cpu <= 0 || requests == 0 {
		return
	}
	run.ServerCPUSeconds = cpu
	run.CPUSecondsPer1kReq = cpu / float64(requests) * 1000
	run.CPUSource = "rusage"
}

// ticketCounters are a ticket cell's counters over the window: accepted
// tickets count as fast, every rejection as rejected (by reason in the
// server's stats).
func ticketCounters(before, after []server.Stats) (results.VerifierStats, []results.VerifierStats) {
	var total results.VerifierStats
	var per []results.VerifierStats
	for i := range after {
		var d results.VerifierStats
		a, b := after[i].Ticket, before[i].Ticket
		if a != nil {
			d.Fast = a.Accepted
			for why, n := range a.Rejected {
				d.Rejected += n
				if b != nil {
					d.Rejected -= b.Rejected[why]
				}
			}
			if b != nil {
				d.Fast -= b.Accepted
			}
		}
		total.Fast += d.Fast
		total.Rejected += d.Rejected
		per = append(per, d)
	}
	if len(after) == 1 {
		per = nil
	}
	return total, per
}

func toResultStats(s impl.Stats) results.VerifierStats {
	return results.VerifierStats{Fast: s.Fast, Slow: s.Slow, Fallback: s.Fallback, Resets: s.Resets, Stats: s.Stat, Rejected: s.Rejected, Negative: s.Negative, Shared: s.Shared}
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

// sumCPU is the servers' CPU time (getrusage) summed over processes.
func sumCPU(st []server.Stats) float64 {
	var cpu float64
	for _, s := range st {
		cpu += s.CPUSeconds
	}
	return cpu
}
