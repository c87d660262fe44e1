package gate

import (
	"bytes"
	"fmt"
	"io"
	"os"
	"slices"
	"sort"
	"strings"
	"text/tabwriter"

	"gopkg.in/yaml.v3"

	gatefiles "github.com/authbench/authbench/gate"
	"github.com/authbench/authbench/internal/analysis"
	"github.com/authbench/authbench/internal/results"
)

// ThresholdsVersion is the thresholds file format this build reads.
const ThresholdsVersion = 1

// Semantic metrics a threshold can name.
const (
	MetricHitSpeedup    = "hit_speedup_vs_uncached"
	MetricCryptShareMax = "crypt_share_max"
	MetricCryptShareMin = "crypt_share_min"
	MetricAchievedRatio = "achieved_ratio_min"
	MetricRevocation    = "revocation_bounds_held"
)

// Thresholds is a parsed thresholds file.
type Thresholds struct {
	Version    int         `yaml:"version"`
	Thresholds []Threshold `yaml:"thresholds"`
}

// Threshold is one semantic gate.
type Threshold struct {
	Name      string    `yaml:"name"`
	Metric    string    `yaml:"metric"`
	Verifiers Selection `yaml:"verifiers"`
	Scenarios []string  `yaml:"scenarios,omitempty"`
	// Target limits the threshold to runs of target scenarios (scenario
	// files with `target: true`, results.Run.Target). Results that carry
	// no target flag at all (written before it existed) fall back to
	// Scenarios.
	Target  bool    `yaml:"target,omitempty"`
	Value   float64 `yaml:"value"`
	Message string  `yaml:"message"`

	// targets is the set of target scenarios of the results being
	// checked, filled in by CheckSemantic when Target applies.
	targets map[string]bool
}

// Selection is a list of verifier names; empty means "all", the metric's
// natural set. In YAML it is either the word all or a list.
type Selection []string

// UnmarshalYAML accepts "all" or a sequence of names.
func (s *Selection) UnmarshalYAML(n *yaml.Node) error {
	if n.Kind == yaml.ScalarNode {
		if n.Value != "all" && n.Value != "" {
			return fmt.Errorf("line %d: verifiers: want \"all\" or a list, got %q", n.Line, n.Value)
		}
		*s = nil
		return nil
	}
	var names []string
	if err := n.Decode(&names); err != nil {
		return fmt.Errorf("verifiers: %w", err)
	}
	if slices.Contains(names, "all") {
		names = nil
	}
	*s = names
	return nil
}

// DefaultThresholds returns the built-in thresholds: gate/thresholds.yaml,
// embedded at build time.
func DefaultThresholds() Thresholds {
	th, err := ParseThresholds([]byte(gatefiles.ThresholdsYAML()))
	if err != nil {
		panic("gate: built-in thresholds: " + err.Error()) // guarded by a test
	}
	return th
}

// LoadThresholds reads and validates a thresholds file.
func LoadThresholds(path string) (Thresholds, error) {
	data, err := os.ReadFile(path)
	if err != nil {
		return Thresholds{}, fmt.Errorf("load thresholds: %w", err)
	}
	th, err := ParseThresholds(data)
	if err != nil {
		return Thresholds{}, fmt.Errorf("load thresholds %s: %w", path, err)
	}
	return th, nil
}

// ParseThresholds parses and validates thresholds YAML; unknown keys are
// errors so that a typo cannot silently disable a gate.
func ParseThresholds(data []byte) (Thresholds, error) {
	var th Thresholds
	dec := yaml.NewDecoder(bytes.NewReader(data))
	dec.KnownFields(true)
	if err := dec.Decode(&th); err != nil {
		return th, fmt.Errorf("parse thresholds: %w", err)
	}
	if th.Version != ThresholdsVersion {
		return th, fmt.Errorf("thresholds version %d, this build reads %d", th.Version, ThresholdsVersion)
	}
	seen := map[string]bool{}
	for i, t := range th.Thresholds {
		where := fmt.Sprintf("threshold %d (%s)", i+1, t.Name)
		switch {
		case t.Name == "":
			return th, fmt.Errorf("threshold %d: missing name", i+1)
		case seen[t.Name]:
			return th, fmt.Errorf("%s: duplicate name", where)
		case t.Message == "":
			return th, fmt.Errorf("%s: missing message", where)
		}
		seen[t.Name] = true
		switch t.Metric {
		case MetricCryptShareMax, MetricCryptShareMin, MetricAchievedRatio:
			if t.Value < 0 || t.Value > 1 {
				return th, fmt.Errorf("%s: %s value %v outside [0, 1]", where, t.Metric, t.Value)
			}
		case MetricHitSpeedup, MetricRevocation:
			if t.Value < 0 {
				return th, fmt.Errorf("%s: %s value %v is negative", where, t.Metric, t.Value)
			}
		default:
			return th, fmt.Errorf("%s: unknown metric %q", where, t.Metric)
		}
	}
	return th, nil
}

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
	targets := targetScenarios(f)
	for _, t := range th.Thresholds {
		if t.Target && len(targets) > 0 {
			t.targets = targets
		}
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

// applies reports whether t covers verifier v in scenario s; "all" means
// the metric's natural set.
func (t Threshold) applies(s, v string) bool {
	if t.targets != nil {
		if !t.targets[s] {
			return false
		}
	} else if len(t.Scenarios) > 0 && !slices.ContainsFunc(t.Scenarios, func(name string) bool { return scenarioMatches(name, s) }) {
		return false
	}
	if len(t.Verifiers) > 0 {
		return slices.Contains(t.Verifiers, v)
	}
	switch t.Metric {
	case MetricHitSpeedup, MetricCryptShareMax:
		return v != results.BaselineVerifier && !isControl(v)
	case MetricCryptShareMin:
		return v == results.BaselineVerifier
	case MetricRevocation:
		return !isControl(v)
	}
	return true
}

// isControl reports whether v is the no-auth control or its A/A copy.
func isControl(v string) bool {
	return v == results.ControlVerifier || v == results.ControlCopyVerifier
}

// isKnee reports whether a run belongs to a knee search, which overloads
// the server on purpose.
func isKnee(phase string) bool {
	return phase == results.PhaseKneeStep || phase == results.PhaseKnee
}

// targetScenarios returns the scenarios with target runs, nil if none.
func targetScenarios(f *results.File) map[string]bool {
	var out map[string]bool
	for _, r := range f.Runs {
		if r.Target {
			if out == nil {
				out = map[string]bool{}
			}
			out[r.Scenario] = true
		}
	}
	return out
}

// scenarioMatches reports whether a threshold's scenario name covers the
// run's scenario: the same name, or one of its matrix variants
// ("steady" covers "steady/tokens=100").
func scenarioMatches(name, scenario string) bool {
	return scenario == name || strings.HasPrefix(scenario, name+"/")
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
func checkHitSpeedup(f *results.File, t Threshold) []Finding {
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

func checkCryptShare(f *results.File, t Threshold) []Finding {
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
func checkAchieved(f *results.File, t Threshold) []Finding {
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
func checkRevocations(f *results.File, t Threshold) []Finding {
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
