package runner

import (
	"fmt"
	"io"
	"strings"
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
	width := len("all scenarios")
	var sum, plan float64
	for _, t := range times {
		width = max(width, len(t.Scenario))
		sum += t.WallS
		plan += t.EstimatedS
	}
	row := func(name, wall, plan, turns, share string) {
		line := fmt.Sprintf("  %-*s %8s %8s %6s %6s", width, name, wall, plan, turns, share)
		fmt.Fprintln(w, strings.TrimRight(line, " "))
	}
	row("scenario", "wall", "plan", "turns", "share")
	for _, t := range times {
		share := "-"
		if total > 0 {
			share = fmt.Sprintf("%.0f %%", 100*t.WallS/total.Seconds())
		}
		row(t.Scenario, secs(t.WallS), secs(t.EstimatedS), fmt.Sprint(t.Turns), share)
	}
	row("all scenarios", secs(sum), secs(plan), "", "")
	row("run total", secs(total.Seconds()), "", "", "")
}

func secs(s float64) string {
	return (time.Duration(s * float64(time.Second))).Round(time.Second).String()
}
