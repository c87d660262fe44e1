package cluster

import (
	"context"
	"fmt"
	"time"

	"github.com/authbench/authbench/internal/fusemount"
)

// A trial runs in phases, one file each: setup (setup.go: keys, node
// processes, first logins), load and event (load.go, events.go: ticket
// load with the key aged in its middle and every node's rotation check),
// measure (measure.go: the timeline split at the event and the check,
// then the settle step and the nodes' final views).

// Run runs every cell. Ctrl-C (ctx) stops after the current trial and
// returns what finished, with Interrupted set. A trial that fails is kept
// with its error; the others still run.
func Run(ctx context.Context, cfg Config) (*Result, error) {
	if err := cfg.Validate(); err != nil {
		return nil, fmt.Errorf("cluster config: %w", err)
	}
	res := &Result{SchemaVersion: SchemaVersion, Config: cfg, Started: time.Now().UTC()}
	if err := fusemount.Available(); err != nil {
		res.Skipped = err.Error()
		return res, nil
	}
	// Dead mounts of ours anywhere (a SIGKILLed earlier run, whatever its
	// work dir); live ones are left alone.
	if cleaned, err := fusemount.CleanStale(""); err != nil {
		return nil, err
	} else if len(cleaned) > 0 {
		cfg.logf("detached %d stale mounts of an earlier run", len(cleaned))
	}
	for _, event := range cfg.Events {
		for _, strategy := range cfg.Strategies {
			for _, attr := range cfg.AttrTimeoutsMs {
				for i := range cfg.Trials {
					if ctx.Err() != nil {
						res.Interrupted = true
						res.Summary = Summarize(res.Trials)
						return res, nil
					}
					tr := runTrial(ctx, cfg, event, strategy, attr, i)
					cfg.logf("%s %s attr=%dms trial %d: rotations=%d disagree=%v rejected_valid before the check %d/%d, after it %d/%d %s%s",
						event, strategy, attr, i, tr.Rotations, tr.Disagree, tr.BeforeCheck.RejectedValid, tr.BeforeCheck.Total,
						tr.RejectedValid, tr.Total, tr.Skipped, tr.Error)
					res.Trials = append(res.Trials, tr)
					if tr.Skipped != "" && len(res.Trials) == 1 {
						res.Skipped = tr.Skipped // FUSE does not mount here at all
						res.Summary = Summarize(res.Trials)
						return res, nil
					}
				}
			}
		}
	}
	res.Interrupted = ctx.Err() != nil
	res.Summary = Summarize(res.Trials)
	return res, nil
}

// runTrial runs one trial of one cell through its phases.
func runTrial(ctx context.Context, cfg Config, event, strategy string, attrMs int64, n int) (tr Trial) {
	tr = Trial{Event: event, Strategy: strategy, AttrTimeoutMs: attrMs, Trial: n, StatusCodes: map[string]int{}}
	t, err := setupTrial(ctx, cfg, event, strategy, attrMs, n)
	defer t.close()
	if err != nil {
		if fusemount.IsSkip(err) {
			tr.Skipped = err.Error()
		} else {
			tr.Error = err.Error()
		}
		return tr
	}
	cpu0 := t.cpuSeconds(ctx)
	rs, m := t.drive(ctx)
	tr.EventMs = m.event.Sub(m.t0).Milliseconds()
	tr.Timeline, tr.BeforeCheck, tr.AfterCheck = timeline(rs, m, cfg.BucketMs, tr.StatusCodes)
	tr.RejectedValid, tr.Total = tr.AfterCheck.RejectedValid, tr.AfterCheck.Total
	if tr.ServerCPUSeconds = t.cpuSeconds(ctx) - cpu0; len(rs) > 0 {
		tr.CPUPer1kReq = 1000 * tr.ServerCPUSeconds / float64(len(rs))
	}
	tr.States = t.settle(ctx)
	for _, st := range tr.States {
		tr.Rotations += int(st.Rotations)
	}
	tr.Disagree = disagree(tr.States)
	if ctx.Err() != nil {
		// Kept for inspection, but not counted: the window was cut short.
		tr.Error = "interrupted"
	}
	return tr
}

// waitOrDone sleeps d unless ctx ends first; false means it ended.
func waitOrDone(ctx context.Context, d time.Duration) bool {
	select {
	case <-ctx.Done():
		return false
	case <-time.After(d):
		return true
	}
}
