package runner

import (
	"context"
	"fmt"
	"os"
	"path/filepath"

	"github.com/authbench/authbench/internal/cluster"
	"github.com/authbench/authbench/internal/results"
	"github.com/authbench/authbench/scenarios"
)

// clusterConfig maps a cluster scenario onto internal/cluster's Config.
func clusterConfig(sc *scenarios.Scenario, bin, workDir string) cluster.Config {
	c := sc.Cluster
	cfg := cluster.Config{
		Nodes: c.Nodes, Strategies: append([]string(nil), sc.Strategies...), Trials: c.Trials, KeyBits: c.KeyBits,
		Rate: c.Rate, LeadMs: c.Lead.Milliseconds(), ObserveMs: c.Observe.Milliseconds(), BucketMs: c.Bucket.Milliseconds(),
		TTLMs: c.TTL.Milliseconds(), Binary: bin, WorkDir: workDir,
	}
	for _, e := range c.Events {
		cfg.Events = append(cfg.Events, clusterEvent(e))
	}
	for _, a := range c.AttrTimeouts {
		cfg.AttrTimeoutsMs = append(cfg.AttrTimeoutsMs, a.Milliseconds())
	}
	return cfg
}

// clusterEvent names a scenario's cluster event as internal/cluster does.
func clusterEvent(kind string) string {
	if kind == scenarios.ClusterKeyTouchYesterday {
		return cluster.EventTouch
	}
	return kind
}

// scenarioEvent is clusterEvent's inverse, for results.
func scenarioEvent(kind string) string {
	if kind == cluster.EventTouch {
		return scenarios.ClusterKeyTouchYesterday
	}
	return kind
}

// cluster runs a cluster scenario through internal/cluster and records
// one ClusterRun per cell. Without FUSE every cell is recorded as skipped
// with the reason: never emulated. ctx reaches the experiment, which
// stops after the current trial and unmounts.
func (r *runner) cluster(ctx context.Context, sc *scenarios.Scenario) error {
	if r.opts.BenchBinary == "" {
		r.skipCluster(sc, "the cluster experiment needs the bench binary for its node and FUSE processes (in-process runs cannot mount)")
		return nil
	}
	work := filepath.Join(r.opts.OutDir, results.DirLogs, "cluster-"+results.Slug(sc.Name))
	if err := os.MkdirAll(work, 0o755); err != nil {
		return fmt.Errorf("cluster work dir: %w", err)
	}
	logf, err := os.Create(filepath.Join(work, "driver.log"))
	if err != nil {
		return fmt.Errorf("cluster log: %w", err)
	}
	defer logf.Close()
	cfg := clusterConfig(sc, r.opts.BenchBinary, work)
	cfg.Log = logf
	r.turn++
	fmt.Fprintf(r.opts.Progress, "[%d/%d] %s · cluster experiment (%d strategies × %d attr_timeouts × %d trials) · %s\n",
		r.turn, r.turns, sc.Name, len(cfg.Strategies), len(cfg.AttrTimeoutsMs), cfg.Trials, r.eta())
	res, err := cluster.Run(ctx, cfg)
	if err != nil {
		return err
	}
	r.done += sc.EstimatedRuntime()
	if res.Skipped != "" {
		r.skipCluster(sc, res.Skipped)
		return nil
	}
	r.out.Clusters = append(r.out.Clusters, clusterRuns(sc, res.Trials)...)
	if res.Interrupted || ctx.Err() != nil {
		return ctx.Err()
	}
	return nil
}

func (r *runner) skipCluster(sc *scenarios.Scenario, why string) {
	r.out.Notes = append(r.out.Notes, fmt.Sprintf("%s skipped: %s", sc.Name, why))
	for _, e := range sc.Cluster.Events {
		for _, st := range sc.Strategies {
			for _, a := range sc.Cluster.AttrTimeouts {
				r.out.Clusters = append(r.out.Clusters, results.ClusterRun{
					Scenario: sc.Name, Event: e, Verifier: results.TicketVerifier(st), AttrTimeoutMs: a.Milliseconds(),
					Nodes: sc.Cluster.Nodes, Skipped: why,
				})
			}
		}
	}
}

// clusterRuns aggregates trials per (event, strategy, attr_timeout) in
// first-seen order, summing the timelines bucket by bucket and the
// before-check and after-check windows (the table's and the timeline's
// counts, t < 0 and t >= 0 from the touch on).
func clusterRuns(sc *scenarios.Scenario, trials []cluster.Trial) []results.ClusterRun {
	var out []results.ClusterRun
	idx := map[string]int{}
	for _, t := range trials {
		key := fmt.Sprintf("%s\x00%s\x00%d", t.Event, t.Strategy, t.AttrTimeoutMs)
		i, ok := idx[key]
		if !ok {
			i = len(out)
			idx[key] = i
			out = append(out, results.ClusterRun{Scenario: sc.Name, Event: scenarioEvent(t.Event), Verifier: results.TicketVerifier(t.Strategy),
				AttrTimeoutMs: t.AttrTimeoutMs, Nodes: sc.Cluster.Nodes, RotationsPerTrial: []int{}})
		}
		c := &out[i]
		switch {
		case t.Skipped != "":
			c.Skipped = t.Skipped
			continue
		case t.Error != "":
			c.FailedTrials++
			c.Errors = append(c.Errors, fmt.Sprintf("trial %d: %s", t.Trial, t.Error))
			continue
		}
		c.Trials++
		c.RotationsPerTrial = append(c.RotationsPerTrial, t.Rotations)
		if t.Rotations > 1 {
			c.DoubleRotationTrials++
		}
		if t.Disagree {
			c.DisagreeTrials++
		}
		c.RejectedValid += t.RejectedValid
		c.Total += t.Total
		c.RejectedAge += t.AfterCheck.RejectedAge
		if t.BeforeCheck.Total > 0 { // a trial that measured the window
			if c.BeforeCheck == nil {
				c.BeforeCheck = &results.ClusterWindow{}
			}
			c.BeforeCheck.RejectedValid += t.BeforeCheck.RejectedValid
			c.BeforeCheck.RejectedAge += t.BeforeCheck.RejectedAge
			c.BeforeCheck.Total += t.BeforeCheck.Total
			c.EventMsPerTrial = append(c.EventMsPerTrial, t.EventMs)
		}
		c.Timeline = addTimeline(c.Timeline, t.Timeline)
		c.CPUSecondsPer1kReq += t.CPUPer1kReq // summed here, averaged below
	}
	for i := range out {
		c := &out[i]
		if c.Trials > 0 {
			c.Skipped = "" // some trials ran: the cell is measured
			c.CPUSecondsPer1kReq /= float64(c.Trials)
		}
		if c.Total > 0 {
			c.RejectedValidRatio = float64(c.RejectedValid) / float64(c.Total)
		}
		for _, p := range c.Timeline {
			if p.Total > 0 && p.TMs >= 0 {
				c.PeakRejectedValidRatio = max(c.PeakRejectedValidRatio, float64(p.RejectedValid)/float64(p.Total))
			}
		}
	}
	return out
}

// addTimeline adds a trial's buckets to the sum, matching by t_ms.
func addTimeline(sum []results.ClusterPoint, tl []cluster.Point) []results.ClusterPoint {
	at := map[int64]int{}
	for i, p := range sum {
		at[p.TMs] = i
	}
	for _, p := range tl {
		i, ok := at[p.TMs]
		if !ok {
			i = len(sum)
			at[p.TMs] = i
			sum = append(sum, results.ClusterPoint{TMs: p.TMs})
		}
		sum[i].RejectedValid += p.RejectedValid
		sum[i].RejectedAge += p.RejectedAge
		sum[i].Total += p.Total
	}
	return sum
}
