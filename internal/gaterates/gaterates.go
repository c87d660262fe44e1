// Package gaterates is the gate's calibrated error rates as a file: the
// false-alarm and detection rates of each measuring method with their
// exact 95 % intervals, and the smallest change each method detects with
// 80 % power on the machine that was calibrated. `make gate-calibrate`
// writes it (Path), the report and README quote it.
//
// It is a leaf: it imports nothing of authbench, so the report, which
// comes before the gate in the data flow, can read it without importing
// the gate.
package gaterates

import (
	"encoding/json"
	"errors"
	"fmt"
	"math"
	"os"
	"path/filepath"
)

// Version of the file format; Read refuses others.
const Version = 1

// Path is where the calibration commits the file, relative to the repo.
const Path = "gate/rates.json"

// File is the whole rates file.
type File struct {
	Version    int      `json:"version"`
	Date       string   `json:"date"`      // RFC 3339, UTC
	Machine    string   `json:"machine"`   // goos/goarch, CPUs
	Neighbour  bool     `json:"neighbour"` // a noisy neighbour ran beside the trials
	Alpha      float64  `json:"alpha"`
	Correction string   `json:"correction"` // multiple-comparison correction over one gate run's metrics
	Seconds    float64  `json:"seconds"`    // wall time of the calibration
	Methods    []Method `json:"methods"`
}

// Method is one measuring method's calibrated rates.
type Method struct {
	Method    string  `json:"method"`
	Unit      string  `json:"unit"`
	Rounds    int     `json:"rounds"` // per side, as the gate runs it
	MinEffect float64 `json:"min_effect"`
	// Trials says how the trials were formed (independent runs, or
	// disjoint resampled splits of a pool of repetitions).
	Trials     string    `json:"trials"`
	FalseAlarm Rate      `json:"false_alarm"` // A/A trials with any metric flagged
	Detection  []Planted `json:"detection"`   // one per planted slowdown, ascending
	// MDE80 is the smallest planted slowdown detected in ≥ 80 % of its
	// trials (point estimate); 0 when none was. MDE80Resolved says the
	// interval decides it: that level's lower bound ≥ 80 % and every
	// smaller level's upper bound < 80 %.
	MDE80         float64            `json:"mde_80"`
	MDE80Resolved bool               `json:"mde_80_resolved"`
	CV            map[string]float64 `json:"cv,omitempty"` // per-metric noise of the A/A arms
	Targets       []Target           `json:"targets,omitempty"`
}

// Planted is the detection of one planted slowdown.
type Planted struct {
	Slowdown    float64 `json:"slowdown"`               // fraction planted, 0.10 = +10 %
	Detected    Rate    `json:"detected"`               // trials with every slowed metric flagged
	MedianRatio float64 `json:"median_ratio,omitempty"` // measured A'/A, median over metrics and trials
	Note        string  `json:"note,omitempty"`         // e.g. a metric the slowdown could not reach
}

// Target is one target of the issue, judged on the interval.
type Target struct {
	Name    string `json:"name"`    // "false alarms ≤ 1 %"
	Verdict string `json:"verdict"` // met, missed or unresolved
}

// Rate is k of n with its exact (Clopper–Pearson) two-sided 95 % interval.
type Rate struct {
	K  int     `json:"k"`
	N  int     `json:"n"`
	Lo float64 `json:"lo"`
	Hi float64 `json:"hi"`
}

// Est is k/n (NaN for n = 0).
func (r Rate) Est() float64 {
	if r.N == 0 {
		return math.NaN()
	}
	return float64(r.K) / float64(r.N)
}

// String is "k/n = e % [lo, hi] %".
func (r Rate) String() string {
	if r.N == 0 {
		return "no trials"
	}
	return fmt.Sprintf("%d/%d = %.1f %% [%.1f, %.1f] %%", r.K, r.N, 100*r.Est(), 100*r.Lo, 100*r.Hi)
}

// AtMost judges "rate ≤ target" on the interval.
func (r Rate) AtMost(target float64) string {
	switch {
	case r.N == 0:
		return "unresolved"
	case r.Hi <= target:
		return "met"
	case r.Lo > target:
		return "missed"
	}
	return "unresolved"
}

// AtLeast judges "rate ≥ target" on the interval.
func (r Rate) AtLeast(target float64) string {
	switch {
	case r.N == 0:
		return "unresolved"
	case r.Lo >= target:
		return "met"
	case r.Hi < target:
		return "missed"
	}
	return "unresolved"
}

// Write writes f as indented JSON, creating the directory.
func Write(path string, f *File) error {
	if f.Version == 0 {
		f.Version = Version
	}
	js, err := json.MarshalIndent(f, "", "  ")
	if err != nil {
		return fmt.Errorf("rates: %w", err)
	}
	if err := os.MkdirAll(filepath.Dir(path), 0o755); err != nil {
		return fmt.Errorf("rates: %w", err)
	}
	if err := os.WriteFile(path, append(js, '\n'), 0o644); err != nil {
		return fmt.Errorf("rates: %w", err)
	}
	return nil
}

// ErrVersion is wrapped by Read's error for a file of another version.
var ErrVersion = errors.New("rates file version")

// Read reads a rates file and checks its version and intervals.
func Read(path string) (*File, error) {
	data, err := os.ReadFile(path)
	if err != nil {
		return nil, fmt.Errorf("rates: %w", err)
	}
	var f File
	if err := json.Unmarshal(data, &f); err != nil {
		return nil, fmt.Errorf("rates %s: %w", path, err)
	}
	if f.Version != Version {
		return nil, fmt.Errorf("%s: %w %d, this build reads %d: rerun make gate-calibrate", path, ErrVersion, f.Version, Version)
	}
	for _, m := range f.Methods {
		rs := []Rate{m.FalseAlarm}
		for _, p := range m.Detection {
			rs = append(rs, p.Detected)
		}
		for _, r := range rs {
			if r.K < 0 || r.K > r.N || !(r.Lo <= r.Hi) || r.Lo < 0 || r.Hi > 1 {
				return nil, fmt.Errorf("rates %s: method %s: bad rate %+v", path, m.Method, r)
			}
		}
	}
	return &f, nil
}

// MDEText is the smallest detectable change as printed: the planted
// level, "unresolved" when the interval does not decide it, or none of
// the planted levels. The gate's tables and the report share it.
func (m Method) MDEText() string {
	switch {
	case m.MDE80 == 0 && len(m.Detection) > 0:
		return fmt.Sprintf("> +%g %% (none of the planted)", 100*m.Detection[len(m.Detection)-1].Slowdown)
	case m.MDE80 == 0:
		return "not measured"
	case !m.MDE80Resolved:
		return fmt.Sprintf("+%g %% (unresolved by the interval)", 100*m.MDE80)
	}
	return fmt.Sprintf("+%g %%", 100*m.MDE80)
}
