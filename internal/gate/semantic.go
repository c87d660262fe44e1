package gate

import (
	"fmt"
	"io"
	"slices"
	"sort"
	"strings"
	"text/tabwriter"

	"github.com/authbench/authbench/internal/analysis"
	"github.com/authbench/authbench/internal/results"
	"github.com/authbench/authbench/internal/targets"
)

// ThresholdsVersion is the thresholds file format this build writes
// (version 1 files are still read).
const ThresholdsVersion = targets.Version

// Semantic metrics a threshold can name (internal/targets defines them;
// knee_ratio_min is judged by the report only).
const (
	MetricHitSpeedup    = targets.HitSpeedup
	MetricCryptShareMax = targets.CryptShareMax
	MetricCryptShareMin = targets.CryptShareMin
	MetricAchievedRatio = targets.AchievedRatio
	MetricRevocation    = targets.Revocation
)

// Thresholds is a parsed thresholds file: the targets the report states
// too (internal/targets), so gate and report cannot disagree.
type Thresholds = targets.File

// Threshold is one entry; the gate checks those with checked_by: gate.
type Threshold = targets.Entry

// Selection is a list of verifier names; empty means "all".
type Selection = targets.Selection

// DefaultThresholds returns the built-in thresholds: gate/thresholds.yaml,
// embedded at build time.
func DefaultThresholds() Thresholds { return targets.Default() }

// LoadThresholds reads and validates a thresholds file.
func LoadThresholds(path string) (Thresholds, error) {
	th, err := targets.Load(path)
	if err != nil {
		return th, err
	}
	return th, gateable(th)
}

// ParseThresholds parses and validates thresholds YAML; unknown keys are
// errors so that a typo cannot silently disable a gate.
func ParseThresholds(data []byte) (Thresholds, error) {
	th, err := targets.Parse(data)
	if err != nil {
		return th, err
	}
	return th, gateable(th)
}

// gateable refuses entries the gate is asked to check but has no check
// for, so that such an entry fails loudly instead of never failing.
func gateable(th Thresholds) error {
	for _, t := range th.Thresholds {
		if t.ByGate() && t.Metric == targets.KneeRatio {
			return fmt.Errorf("threshold %s: the gate has no check for %s (checked_by: [report])", t.Name, t.Metric)
		}
	}
	return nil
}

// check is a threshold bound to the target scenarios of the results
// being checked.
type check struct {
	Threshold
	// targets is the set of target scenarios (nil: the results carry no
	// target flags, or the threshold does not ask for them).
	targets map[string]bool
}

// applies reports whether t covers verifier v in scenario s.
func (t check) applies(s, v string) bool { return t.Threshold.Applies(s, v, t.targets) }

// Status is the outcome of one semantic check.
type Status int

// Statuses.
const (
	Pass   Status = iota
	Fail          // the threshold is violated
	NoData        // the results hold nothing the threshold applies to
)

func (s Status) String() string { return [...]string{"ok", "FAIL", "no data"}[s] }

// Finding is the outcome of one threshold for one scenario and verifier.
type Finding struct {
	Threshold string  // Threshold.Name
	Metric    string  // Threshold.Metric
	Scenario  string  // empty for NoData findings
	Verifier  string  // empty for NoData findings
	Where     string  // the worst run or event, for humans
	Measured  float64 // the worst value over the scenario's runs
	Limit     float64 // Threshold.Value
	Status    Status
	Message   string // Threshold.Message
}

// Passed reports whether the finding holds (NoData counts as holding).
func (f Finding) Passed() bool { return f.Status != Fail }

// AnyFailed reports whether any finding failed.
func AnyFailed(fs []Finding) bool {
	return slices.ContainsFunc(fs, func(f Finding) bool { return f.Status == Fail })
}

// CheckSemantic evaluates every threshold on f. Each threshold yields one
// finding per (scenario, verifier) it applies to, carrying the worst value
// over that pair's runs, or a single NoData finding when nothing applies.
func CheckSemantic(f *results.File, th Thresholds) []Finding {
	var out []Finding
	scen := targets.TargetScenarios(f)
	for _, e := range th.Thresholds {
		if !e.ByGate() {
			continue
		}
		t := check{Threshold: e, targets: scen}
		var fs []Finding
		switch t.Metric {
		case MetricHitSpeedup:
			fs = checkHitSpeedup(f, t)
		case MetricCryptShareMax, MetricCryptShareMin:
			fs = checkCryptShare(f, t)
		case MetricAchievedRatio:
			fs = checkAchieved(f, t)
		case MetricRevocation:
			fs = checkRevocations(f, t)
		}
		if len(fs) == 0 {
			fs = []Finding{{Where: "no matching runs", Status: NoData}}
		}
		for i := range fs {
			fs[i].Threshold, fs[i].Metric, fs[i].Limit, fs[i].Message = t.Name, t.Metric, t.Value, t.Message
		}
		out = append(out, fs...)
	}
	return out
}

// isKnee reports whether a run belongs to a knee search, which overloads
// the server on purpose.
func isKnee(phase string) bool {
	return phase == results.PhaseKneeStep || phase == results.PhaseKnee
}

// worst keeps, per (scenario, verifier), the worst value seen.
type worst struct {
	higherIsWorse bool
	order         [][2]string
	m             map[[2]string]*Finding
}

func newWorst(higherIsWorse bool) *worst {
	return &worst{higherIsWorse: higherIsWorse, m: map[[2]string]*Finding{}}
}

func (w *worst) add(s, v string, val float64, where string) {
	k := [2]string{s, v}
	f := w.m[k]
	if f == nil {
		w.order = append(w.order, k)
		w.m[k] = &Finding{Scenario: s, Verifier: v, Measured: val, Where: where}
		return
	}
	if (w.higherIsWorse && val > f.Measured) || (!w.higherIsWorse && val < f.Measured) {
		f.Measured, f.Where = val, where
	}
}

// findings judges each pair with bad(measured) and returns them sorted.
func (w *worst) findings(bad func(float64) bool) []Finding {
	var out []Finding
	for _, k := range w.order {
		f := *w.m[k]
		if bad(f.Measured) {
			f.Status = Fail
		}
		out = append(out, f)
	}
	sort.SliceStable(out, func(i, j int) bool {
		if out[i].Scenario != out[j].Scenario {
			return out[i].Scenario < out[j].Scenario
		}
		return out[i].Verifier < out[j].Verifier
	})
	return out
}

func runWhere(r results.Run) string {
	s := fmt.Sprintf("repeat %d, %g rps offered", r.Repeat, r.OfferedRPS)
	if r.Phase != "" {
		s = r.Phase + ", " + s
	}
	return s
}

// checkHitSpeedup compares, within one scenario and load point (phase and
// offered rate), the uncached verifier's median server CPU-seconds per 1k
// requests with the cached verifier's; when either side has no CPU figure
// the ratio of median p50 latencies is used instead. A cached verifier
// whose scenario has no uncached run at its load point is compared with the
// scenario-wide medians. The finding carries the worst (lowest) load point.
func checkHitSpeedup(f *results.File, t check) []Finding {
	type cell struct {
		scenario, phase string
		rps             float64
	}
	type agg struct{ cpu, p50 []float64 }
	cells := map[cell]map[string]*agg{}
	scen := map[string]map[string]*agg{}
	add := func(m map[string]*agg, v string, r results.Run) {
		a := m[v]
		if a == nil {
			a = &agg{}
			m[v] = a
		}
		if r.CPUSecondsPer1kReq > 0 {
			a.cpu = append(a.cpu, r.CPUSecondsPer1kReq)
		}
		if r.Latency.P50 > 0 {
			a.p50 = append(a.p50, r.Latency.P50)
		}
	}
	for _, r := range f.Runs {
		if isKnee(r.Phase) {
			// Knee steps overload the server on purpose: queueing, not
			// the cache, sets their latency.
			continue
		}
		c := cell{r.Scenario, r.Phase, r.OfferedRPS}
		if cells[c] == nil {
			cells[c] = map[string]*agg{}
		}
		if scen[r.Scenario] == nil {
			scen[r.Scenario] = map[string]*agg{}
		}
		add(cells[c], r.Verifier, r)
		add(scen[r.Scenario], r.Verifier, r)
	}
	ratio := func(u, c *agg) (float64, string, bool) {
		if len(u.cpu) > 0 && len(c.cpu) > 0 {
			return analysis.Median(u.cpu) / analysis.Median(c.cpu), "cpu", true
		}
		if len(u.p50) > 0 && len(c.p50) > 0 {
			return analysis.Median(u.p50) / analysis.Median(c.p50), "p50", true
		}
		return 0, "", false
	}
	w := newWorst(false)
	matched := map[[2]string]bool{}
	keys := make([]cell, 0, len(cells))
	for c := range cells {
		keys = append(keys, c)
	}
	sort.Slice(keys, func(i, j int) bool {
		a, b := keys[i], keys[j]
		if a.scenario != b.scenario {
			return a.scenario < b.scenario
		}
		if a.phase != b.phase {
			return a.phase < b.phase
		}
		return a.rps < b.rps
	})
	for _, c := range keys {
		u := cells[c][results.BaselineVerifier]
		for _, v := range sortedNames(cells[c]) {
			if u == nil || !t.applies(c.scenario, v) {
				continue
			}
			if x, by, ok := ratio(u, cells[c][v]); ok {
				matched[[2]string{c.scenario, v}] = true
				w.add(c.scenario, v, x, fmt.Sprintf("%s %g rps, by %s", c.phase, c.rps, by))
			}
		}
	}
	for _, s := range sortedNames(scen) {
		u := scen[s][results.BaselineVerifier]
		for _, v := range sortedNames(scen[s]) {
			if u == nil || matched[[2]string{s, v}] || !t.applies(s, v) {
				continue
			}
			if x, by, ok := ratio(u, scen[s][v]); ok {
				w.add(s, v, x, "scenario-wide medians, by "+by)
			}
		}
	}
	return w.findings(func(x float64) bool { return x < t.Value })
}

func checkCryptShare(f *results.File, t check) []Finding {
	isMax := t.Metric == MetricCryptShareMax
	w := newWorst(isMax)
	for _, r := range f.Runs {
		if r.CPUShare.Samples > 0 && t.applies(r.Scenario, r.Verifier) {
			w.add(r.Scenario, r.Verifier, r.CPUShare.Crypt, runWhere(r))
		}
	}
	return w.findings(func(x float64) bool {
		if isMax {
			return x > t.Value
		}
		return x < t.Value
	})
}

// checkAchieved looks at runs with an offered rate below the knee found
// for the same scenario and verifier; without a knee it takes every run
// except knee-search steps, which overshoot on purpose.
func checkAchieved(f *results.File, t check) []Finding {
	knee := map[[2]string]float64{}
	for _, r := range f.Runs {
		if r.KneeRPS > 0 {
			knee[[2]string{r.Scenario, r.Verifier}] = r.KneeRPS
		}
	}
	w := newWorst(false)
	for _, r := range f.Runs {
		// Closed-model runs (fixed concurrency) treat the rate as a cap,
		// not a promise, so achieved/offered says nothing there.
		if r.OfferedRPS <= 0 || r.KneeRPS > 0 || r.Concurrency > 0 || !t.applies(r.Scenario, r.Verifier) {
			continue
		}
		k, ok := knee[[2]string{r.Scenario, r.Verifier}]
		if (ok && r.OfferedRPS >= k) || (!ok && isKnee(r.Phase)) {
			continue
		}
		w.add(r.Scenario, r.Verifier, r.AchievedRPS/r.OfferedRPS, runWhere(r))
	}
	return w.findings(func(x float64) bool { return x < t.Value })
}

// checkRevocations counts, per scenario and verifier, events that failed:
// marked not passing by the runner, or never rejected despite a bound.
func checkRevocations(f *results.File, t check) []Finding {
	type acc struct {
		bad   int
		where []string
	}
	accs := map[[2]string]*acc{}
	var order [][2]string
	for _, ev := range f.Revocations {
		if !t.applies(ev.Scenario, ev.Verifier) {
			continue
		}
		k := [2]string{ev.Scenario, ev.Verifier}
		a := accs[k]
		if a == nil {
			a = &acc{}
			accs[k] = a
			order = append(order, k)
		}
		// The runner judges time to reject against the bound knowing the
		// probe interval (the first rejected probe comes up to one
		// interval after the change), so its verdict is kept; a bound
		// event never rejected fails regardless.
		never := ev.BoundMS != nil && ev.TimeToRejectMS == nil
		if !ev.Pass || never {
			a.bad++
			a.where = append(a.where, fmt.Sprintf("%s at %gms: time to reject %s, bound %s", ev.Event, ev.AtMS, fmtMS(ev.TimeToRejectMS), fmtMS(ev.BoundMS)))
		}
	}
	w := newWorst(true)
	for _, k := range order {
		w.add(k[0], k[1], float64(accs[k].bad), strings.Join(accs[k].where, "; "))
	}
	return w.findings(func(x float64) bool { return x > t.Value })
}

func fmtMS(p *float64) string {
	if p == nil {
		return "never"
	}
	return fmt.Sprintf("%gms", *p)
}

func sortedNames[V any](m map[string]V) []string {
	names := make([]string, 0, len(m))
	for k := range m {
		names = append(names, k)
	}
	sort.Strings(names)
	return names
}

// WriteFindings prints findings as an aligned table, failures' messages
// below it.
func WriteFindings(w io.Writer, fs []Finding) error {
	tw := tabwriter.NewWriter(w, 0, 0, 2, ' ', 0)
	fmt.Fprintf(tw, "status\tthreshold\tscenario\tverifier\tmeasured\tlimit\twhere\n")
	for _, f := range fs {
		fmt.Fprintf(tw, "%s\t%s\t%s\t%s\t%.4g\t%.4g\t%s\n", f.Status, f.Threshold, f.Scenario, f.Verifier, f.Measured, f.Limit, f.Where)
	}
	if err := tw.Flush(); err != nil {
		return fmt.Errorf("write findings: %w", err)
	}
	done := map[string]bool{}
	for _, f := range fs {
		if f.Status == Fail && !done[f.Threshold] {
			done[f.Threshold] = true
			if _, err := fmt.Fprintf(w, "FAIL %s: %s\n", f.Threshold, f.Message); err != nil {
				return fmt.Errorf("write findings: %w", err)
			}
		}
	}
	return nil
}
