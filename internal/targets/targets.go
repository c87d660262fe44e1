// Package targets is the one definition of authbench's targets and sanity
// checks: it parses gate/thresholds.yaml, which both the report
// (internal/analysis, internal/report) and the semantic gate
// (internal/gate) read, so the two can never state different targets.
//
// Each entry names a metric, the verifiers and scenarios it applies to,
// its threshold value, its kind and the resolution a measurement needs to
// decide it:
//
//   - kind "target": a claim about the verifiers (a cache is 5× cheaper
//     than uncached; cached hits do not hash). The report counts these.
//   - kind "sanity": a check of the harness itself (uncached is dominated
//     by crypt, the generator kept up). The report lists them apart and
//     never counts them as results.
//
// resolution is in the metric's own unit (a share, a ratio's relative
// width, a number of events) and says how fine the measurement must be
// before a verdict means anything; a measurement coarser than that is
// "unresolved", never met or missed. checked_by says who judges the entry:
// the gate (worst run against the value, fails CI) and/or the report
// (interval against the value, met/missed/inconclusive/unresolved).
//
// The package is a leaf: it imports only internal/results and the
// embedded files of gate/.
package targets

import (
	"bytes"
	"fmt"
	"os"
	"slices"
	"strings"

	"gopkg.in/yaml.v3"

	gatefiles "github.com/authbench/authbench/gate"
	"github.com/authbench/authbench/internal/results"
)

// Version is the thresholds file format this build writes and reads;
// version 1 files (without kind, resolution and checked_by) are still
// read, every entry as a gate-only target.
const Version = 2

// Metrics an entry can name.
const (
	// HitSpeedup: a cached verifier at least value times cheaper than
	// uncached per request (server CPU; p50 latency without CPU figures).
	HitSpeedup = "hit_speedup_vs_uncached"
	// CryptShareMax: crypt share of server CPU ≤ value.
	CryptShareMax = "crypt_share_max"
	// CryptShareMin: crypt share of server CPU ≥ value.
	CryptShareMin = "crypt_share_min"
	// AchievedRatio: achieved/offered ≥ value below the knee.
	AchievedRatio = "achieved_ratio_min"
	// Revocation: revocation events past their bound ≤ value.
	Revocation = "revocation_bounds_held"
	// KneeRatio: a cached verifier's knee ≥ value × the no-auth control's.
	KneeRatio = "knee_ratio_min"
)

// Kinds of entries.
const (
	KindTarget = "target"
	KindSanity = "sanity"
)

// Checkers an entry can name in checked_by.
const (
	ByGate   = "gate"
	ByReport = "report"
)

// File is a parsed thresholds file.
type File struct {
	Version    int     `yaml:"version"`
	Thresholds []Entry `yaml:"thresholds"`
}

// Entry is one target or sanity check.
type Entry struct {
	Name      string    `yaml:"name"`
	Metric    string    `yaml:"metric"`
	Kind      string    `yaml:"kind,omitempty"`
	Verifiers Selection `yaml:"verifiers"`
	Scenarios []string  `yaml:"scenarios,omitempty"`
	// Target limits the entry to runs of target scenarios (scenario files
	// with `target: true`, results.Run.Target). Results that carry no
	// target flag at all (written before it existed) fall back to
	// Scenarios.
	Target bool    `yaml:"target,omitempty"`
	Value  float64 `yaml:"value"`
	// Resolution is the finest step the measurement must resolve for a
	// verdict, in the metric's unit (see the package doc).
	Resolution float64  `yaml:"resolution,omitempty"`
	CheckedBy  []string `yaml:"checked_by,omitempty"`
	Message    string   `yaml:"message"`
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

// Default returns the built-in file: gate/thresholds.yaml, embedded at
// build time.
func Default() File {
	f, err := Parse([]byte(gatefiles.ThresholdsYAML()))
	if err != nil {
		panic("targets: built-in thresholds: " + err.Error()) // guarded by a test
	}
	return f
}

// Load reads and validates a thresholds file.
func Load(path string) (File, error) {
	data, err := os.ReadFile(path)
	if err != nil {
		return File{}, fmt.Errorf("load thresholds: %w", err)
	}
	f, err := Parse(data)
	if err != nil {
		return File{}, fmt.Errorf("load thresholds %s: %w", path, err)
	}
	return f, nil
}

// Parse parses and validates thresholds YAML; unknown keys are errors so
// that a typo cannot silently disable a check.
func Parse(data []byte) (File, error) {
	var f File
	dec := yaml.NewDecoder(bytes.NewReader(data))
	dec.KnownFields(true)
	if err := dec.Decode(&f); err != nil {
		return f, fmt.Errorf("parse thresholds: %w", err)
	}
	if f.Version != Version && f.Version != 1 {
		return f, fmt.Errorf("thresholds version %d, this build reads 1 and %d", f.Version, Version)
	}
	seen := map[string]bool{}
	for i := range f.Thresholds {
		e := &f.Thresholds[i]
		where := fmt.Sprintf("threshold %d (%s)", i+1, e.Name)
		switch {
		case e.Name == "":
			return f, fmt.Errorf("threshold %d: missing name", i+1)
		case seen[e.Name]:
			return f, fmt.Errorf("%s: duplicate name", where)
		case e.Message == "":
			return f, fmt.Errorf("%s: missing message", where)
		}
		seen[e.Name] = true
		if err := e.normalize(f.Version); err != nil {
			return f, fmt.Errorf("%s: %w", where, err)
		}
	}
	return f, nil
}

// normalize fills version 1 defaults and checks the fields of one entry.
func (e *Entry) normalize(version int) error {
	if version == 1 {
		if e.Kind != "" || e.Resolution != 0 || len(e.CheckedBy) > 0 {
			return fmt.Errorf("kind, resolution and checked_by need version %d", Version)
		}
		e.Kind, e.CheckedBy = KindTarget, []string{ByGate}
	}
	switch e.Kind {
	case KindTarget, KindSanity:
	case "":
		return fmt.Errorf("missing kind (%s or %s)", KindTarget, KindSanity)
	default:
		return fmt.Errorf("unknown kind %q (want %s or %s)", e.Kind, KindTarget, KindSanity)
	}
	if len(e.CheckedBy) == 0 {
		return fmt.Errorf("missing checked_by (%s, %s or both)", ByGate, ByReport)
	}
	for _, c := range e.CheckedBy {
		if c != ByGate && c != ByReport {
			return fmt.Errorf("checked_by: unknown checker %q", c)
		}
	}
	if e.Resolution < 0 {
		return fmt.Errorf("resolution %v is negative", e.Resolution)
	}
	if version > 1 && e.Resolution == 0 && e.ByReport() {
		return fmt.Errorf("missing resolution: the report cannot say whether a measurement decides %s", e.Metric)
	}
	switch e.Metric {
	case CryptShareMax, CryptShareMin, AchievedRatio:
		if e.Value < 0 || e.Value > 1 {
			return fmt.Errorf("%s value %v outside [0, 1]", e.Metric, e.Value)
		}
	case HitSpeedup, Revocation, KneeRatio:
		if e.Value < 0 {
			return fmt.Errorf("%s value %v is negative", e.Metric, e.Value)
		}
	default:
		return fmt.Errorf("unknown metric %q", e.Metric)
	}
	return nil
}

// ByGate reports whether the gate checks e.
func (e Entry) ByGate() bool { return slices.Contains(e.CheckedBy, ByGate) }

// ByReport reports whether the report judges e.
func (e Entry) ByReport() bool { return slices.Contains(e.CheckedBy, ByReport) }

// Sanity reports whether e checks the harness rather than a verifier.
func (e Entry) Sanity() bool { return e.Kind == KindSanity }

// Applies reports whether e covers verifier v in scenario s. targets is the
// set of target scenarios of the results being checked (nil when the
// results carry no target flags; see Entry.Target). "all" verifiers means
// the metric's natural set.
func (e Entry) Applies(s, v string, targets map[string]bool) bool {
	if e.Target && targets != nil {
		if !targets[s] {
			return false
		}
	} else if len(e.Scenarios) > 0 && !slices.ContainsFunc(e.Scenarios, func(name string) bool { return ScenarioMatches(name, s) }) {
		return false
	}
	if len(e.Verifiers) > 0 {
		return slices.Contains(e.Verifiers, v)
	}
	control := v == results.ControlVerifier || v == results.ControlCopyVerifier
	switch e.Metric {
	case HitSpeedup, CryptShareMax, KneeRatio:
		return v != results.BaselineVerifier && !control
	case CryptShareMin:
		return v == results.BaselineVerifier
	case Revocation:
		return !control
	}
	return true
}

// ScenarioMatches reports whether an entry's scenario name covers a run's
// scenario: the same name, or one of its matrix variants ("steady" covers
// "steady/tokens=100").
func ScenarioMatches(name, scenario string) bool {
	return scenario == name || strings.HasPrefix(scenario, name+"/")
}

// TargetScenarios returns the scenarios of f with target runs, nil if none.
func TargetScenarios(f *results.File) map[string]bool {
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

// Find returns the entry called name.
func (f File) Find(name string) (Entry, bool) {
	i := slices.IndexFunc(f.Thresholds, func(e Entry) bool { return e.Name == name })
	if i < 0 {
		return Entry{}, false
	}
	return f.Thresholds[i], true
}
