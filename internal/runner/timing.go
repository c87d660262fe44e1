package runner

import (
	"fmt"
	"io"
	"text/tabwriter"
	"time"

	"github.com/authbench/authbench/internal/results"
	"github.com/authbench/authbench/scenarios"
)

// recordTime adds a variant's wall time (from began to now) to the
// results, with its plan: the phases (EstimatedRuntime) plus the setup
// estimate (EstimatedSetup).
func (r *runner) recordTime(sc *scenarios.Scenario, began time.Time) {
	turns := 0
	if sc.Cluster == nil {
		turns = len(cellNames(sc)) * max(1, sc.Load.Rounds) * max(1, sc.Load.Repeats)
	}
	r.out.ScenarioTimes = append(r.out.ScenarioTimes, results.ScenarioTime{
		Scenario:   sc.Name,
		WallS:      time.Since(began).Seconds(),
		EstimatedS: (sc.EstimatedRuntime() + sc.EstimatedSetup()).Seconds(),
		Turns:      turns,
	})
}

// WriteTimes prints the time per scenario variant (wall clock of this run,
// 1 s resolution, one measurement each) against its plan, in the order
// run, and the run's total including what lies outside the
// variants (writing results is the caller's).
func WriteTimes(w io.Writer, times []results.ScenarioTime, total time.Duration) {
	if len(times) == 0 {
		return
	}
	fmt.Fprintln(w, "time per scenario (wall clock of this run, one measurement each, 1 s resolution; plan = phases + setup estimate):")
	tw := tabwriter.NewWriter(w, 0, 0, 2, ' ', tabwriter.AlignRight)
	fmt.Fprintln(tw, "scenario\twall\tplan\tturns\tshare\t")
	var sum, plan float64
	for _, t := range times {
		sum += t.WallS
		plan += t.EstimatedS
	}
	for _, t := range times {
		share := 0.0
		if total > 0 {
			share = t.WallS / total.Seconds()
		}
		fmt.Fprintf(tw, "%s\t%s\t%s\t%d\t%.0f %%\t\n", t.Scenario, secs(t.WallS), secs(t.EstimatedS), t.Turns, 100*share)
	}
	fmt.Fprintf(tw, "all scenarios\t%s\t%s\t\t\t\n", secs(sum), secs(plan))
	fmt.Fprintf(tw, "run total\t%s\t\t\t\t\n", secs(total.Seconds()))
	tw.Flush()
}

func secs(s float64) string {
	return (time.Duration(s * float64(time.Second))).Round(time.Second).String()
}
