package runner

import (
	"bytes"
	"context"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/authbench/authbench/internal/results"
	"github.com/authbench/authbench/loadgen"
	"github.com/authbench/authbench/scenarios"
)

const kneeScenario = `# Question: knee bookkeeping
control: true
tokens: 2
hash: {cost: 1000}
load:
  rate: 20
  duration: 200ms
  warmup: 100ms
  rounds: 2
  knee: {start: 20, max: 80, factor: 2, max_steps: 3, refine_steps: 2, step_duration: 100ms, p99_bound: 1s}
verifiers: [ttl]
`

// TestKneeOptions: round 1 starts above a sustained window, later rounds
// verify the previous bracket.
func TestKneeOptions(t *testing.T) {
	sc := parse(t, "knee.yaml", kneeScenario)
	good := &loadgen.Result{OfferedRPS: 20, AchievedRPS: 20, ExpectedRatio: 1}
	good.Metrics.Requests = 100
	good.Metrics.Latencies.P99 = time.Millisecond
	short := *good
	short.AchievedRPS, short.ShortOfTarget = 10, true
	spike := *good
	spike.Metrics.Latencies.P99 = 2 * time.Second
	for _, tc := range []struct {
		name    string
		c       *cell
		round   int
		known   float64
		bracket [2]float64
		steps   int
		start   float64
	}{
		{"first round, no window", &cell{}, 1, 0, [2]float64{}, 3, 0},
		{"first round above a sustained window", &cell{lastWindow: good}, 1, 20, [2]float64{}, 3, 0},
		{"a window that fell short is a known failure", &cell{lastWindow: &short}, 1, 0, [2]float64{}, 3, 0},
		{"a window that missed only the p99 bound is tested again", &cell{lastWindow: &spike}, 1, 0, [2]float64{}, 3, 20},
		{"later round verifies the bracket", &cell{lastWindow: good, prevKnee: &loadgen.Knee{Rate: 40, FirstBad: 42}}, 2, 0, [2]float64{40, 42}, 2, 0},
		{"later round after a search capped by max ramps", &cell{lastWindow: good, prevKnee: &loadgen.Knee{Rate: 80, CappedByMax: true}}, 2, 20, [2]float64{}, 2, 0},
		{"later round after a search that ran out of steps going up", &cell{lastWindow: good, prevKnee: &loadgen.Knee{Rate: 30}}, 2, 0, [2]float64{30, 60}, 2, 0},
		{"the guessed end stays within max", &cell{lastWindow: good, prevKnee: &loadgen.Knee{Rate: 50}}, 2, 0, [2]float64{50, 80}, 2, 0},
		{"later round after a search that found nothing sustained", &cell{lastWindow: good, prevKnee: &loadgen.Knee{FirstBad: 30}}, 2, 0, [2]float64{15, 30}, 2, 0},
		{"later round after a search without a verdict ramps", &cell{lastWindow: good, prevKnee: &loadgen.Knee{}}, 2, 20, [2]float64{}, 2, 0},
	} {
		t.Run(tc.name, func(t *testing.T) {
			ko := kneeOptions(sc, tc.c, tc.round)
			if wantBad := tc.c.lastWindow == &short; (ko.KnownBad == 20) != wantBad {
				t.Errorf("known bad %v", ko.KnownBad)
			}
			wantStart := tc.start
			if wantStart == 0 {
				wantStart = sc.Load.Knee.Start
			}
			if ko.StartRate != wantStart {
				t.Errorf("start rate %v, want %v", ko.StartRate, wantStart)
			}
			if ko.Known != tc.known || ko.Bracket != tc.bracket || ko.MaxSteps != tc.steps || ko.Resolution != scenarios.KneeResolution {
				t.Errorf("known %v bracket %v steps %d resolution %v; want %v %v %d", ko.Known, ko.Bracket, ko.MaxSteps, ko.Resolution, tc.known, tc.bracket, tc.steps)
			}
		})
	}
}

// TestApplyCeiling: the control knees' median is the variant's ceiling;
// knees at or above 95 % of it are capped by the generator, a knee capped
// by the search's max stays so, other variants' runs are left alone.
func TestApplyCeiling(t *testing.T) {
	knee := func(sc, v string, rate float64, by string) results.Run {
		return results.Run{Scenario: sc, Verifier: v, Phase: results.PhaseKnee, KneeRPS: rate, KneeCappedBy: by}
	}
	c, aa := results.ControlVerifier, results.ControlCopyVerifier
	r := &runner{out: &results.File{Runs: []results.Run{
		knee("other", "ttl", 9000, ""),
		knee("s", c, 9000, ""), knee("s", aa, 10000, ""), knee("s", c, 11000, ""),
		knee("s", "ttl", 9600, ""), knee("s", "uncached", 400, ""), knee("s", "snapshot", 19200, results.KneeCappedByMax),
		{Scenario: "s", Verifier: "ttl", Phase: results.PhaseConstant},
	}}}
	r.applyCeiling("s", 1)
	want := map[string]string{c: "generator", aa: "generator", "ttl": "generator", "uncached": "", "snapshot": "max"}
	for _, run := range r.out.Runs[1:] {
		if run.Phase != results.PhaseKnee {
			if run.GeneratorCeilingRPS != 0 || run.KneeCappedBy != "" {
				t.Errorf("constant run touched: %+v", run)
			}
			continue
		}
		if run.GeneratorCeilingRPS != 10000 {
			t.Errorf("%s: ceiling %v, want 10000", run.Verifier, run.GeneratorCeilingRPS)
		}
		if run.Verifier == c && run.KneeRPS == 9000 {
			// 9000 < 0.95 × 10000: the first control search is below it.
			if run.KneeCappedBy != "" {
				t.Errorf("control at 9000 capped by %q", run.KneeCappedBy)
			}
			continue
		}
		if run.KneeCappedBy != want[run.Verifier] {
			t.Errorf("%s at %v: capped by %q, want %q", run.Verifier, run.KneeRPS, run.KneeCappedBy, want[run.Verifier])
		}
	}
	if r.out.Runs[0].GeneratorCeilingRPS != 0 {
		t.Error("another variant's knee was judged against this ceiling")
	}
	g := r.out.GeneratorCeilings
	if len(g) != 1 || g[0] != (results.GeneratorCeiling{Scenario: "s", RPS: 10000, N: 3, MinRPS: 9000, MaxRPS: 11000, CeilingFraction: loadgen.CeilingFraction}) {
		t.Errorf("ceilings %+v", g)
	}
}

// TestRunKnee runs real (in-process) knee searches over two rounds and
// checks the bookkeeping the analysis needs, not the verdicts (they
// depend on how loaded the machine is).
func TestRunKnee(t *testing.T) {
	if testing.Short() {
		t.Skip("runs real load")
	}
	sc := parse(t, "knee.yaml", kneeScenario)
	var progress bytes.Buffer
	out := t.TempDir()
	res, err := Run(context.Background(), []*scenarios.Scenario{sc}, Options{OutDir: out, Progress: &progress})
	if err != nil {
		t.Fatal(err)
	}
	steps := map[[2]any]int{}
	sustained := map[[2]any]int{}
	knees := 0
	for _, r := range res.Runs {
		key := [2]any{r.Verifier, r.Round}
		switch r.Phase {
		case results.PhaseKneeStep:
			steps[key]++
			if r.KneeStepSustained {
				sustained[key]++
			}
			if r.KneePhase == "" {
				t.Errorf("%s round %d step %d: no phase", r.Verifier, r.Round, r.Repeat)
			}
		case results.PhaseKnee:
			knees++
			if r.KneeSteps != steps[key] || r.KneeSteps == 0 || r.KneeSteps > 3 || r.Round == 2 && r.KneeSteps > 2 {
				t.Errorf("%s round %d: %d steps recorded, %d step runs", r.Verifier, r.Round, r.KneeSteps, steps[key])
			}
			// The sustained steps' profiles are pooled and saved.
			if (sustained[key] > 0) != (r.KneeProfile != "") {
				t.Errorf("%s round %d: %d sustained steps, pooled profile %q", r.Verifier, r.Round, sustained[key], r.KneeProfile)
			} else if r.KneeProfile != "" {
				if _, err := os.Stat(filepath.Join(out, r.KneeProfile)); err != nil {
					t.Error(err)
				}
			}
			if r.KneeFirstFailedRPS > 0 && r.KneeFirstFailedRPS <= r.KneeRPS {
				t.Errorf("%s round %d: bracket [%v, %v]", r.Verifier, r.Round, r.KneeRPS, r.KneeFirstFailedRPS)
			}
			if r.KneeResolved != (r.KneeRPS > 0 && r.KneeFirstFailedRPS > 0 && r.KneeFirstFailedRPS/r.KneeRPS <= 1.05) {
				t.Errorf("%s round %d: resolved %v for [%v, %v]", r.Verifier, r.Round, r.KneeResolved, r.KneeRPS, r.KneeFirstFailedRPS)
			}
		}
	}
	if knees != 6 {
		t.Errorf("%d knee summaries, want 3 cells × 2 rounds", knees)
	}
	if len(res.ScenarioTimes) != 1 || res.ScenarioTimes[0].Scenario != "knee" || res.ScenarioTimes[0].WallS <= 0 || res.ScenarioTimes[0].Turns != 6 {
		t.Errorf("scenario times %+v", res.ScenarioTimes)
	}
	if !strings.Contains(progress.String(), "time per scenario") {
		t.Errorf("progress has no timing table:\n%s", progress.String())
	}
}
