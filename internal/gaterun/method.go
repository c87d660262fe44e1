package gaterun

import (
	"fmt"
	"slices"
	"strings"

	"github.com/authbench/authbench/internal/gate"
)

// Method is one way of measuring a benchmark's cost.
type Method string

// Methods.
const (
	Wall         Method = "wall"         // min-of-k wall time, ns/op (benchfmt: sec/op)
	CPU          Method = "cpu"          // min-of-k process CPU time, cpu-ns/op (getrusage)
	Instructions Method = "instructions" // instructions/op under callgrind, setup excluded
	// AB is wall time measured in-process: both revisions compiled into
	// one driver, their hits timed alternately in short samples, the
	// per-process ratio compared paired (ABBuild, gate.ComparePaired).
	AB Method = "ab"
)

// DefaultMeasure is what `bench gate --base` measures unless --measure
// says otherwise. Instructions met the targets with the noisy neighbour
// running (docs/gate.md, "Measured"); min-of-k wall and CPU time, one
// process per round, did not (6–14 % round-to-round noise). The
// in-process A/B (ab) replaces them as the time method: it sees what
// instructions cannot (kernel time such as mtime's stat, cache misses),
// with the process-to-process spread paired away. Its rates are the
// calibration's (gate/rates.json).
const DefaultMeasure = "instructions,ab"

// AllMethods lists every method, in calibration order.
func AllMethods() []Method { return []Method{Wall, CPU, Instructions, AB} }

// Unit is the benchfmt unit the method's metric is read as.
func (m Method) Unit() string {
	switch m {
	case Wall:
		return "sec/op"
	case CPU:
		return "cpu-sec/op" // cpu-ns/op, tidied by benchfmt
	case Instructions:
		return "instructions/op"
	case AB:
		return "sec/op" // of BenchmarkAB/..., paired A/B within one process
	}
	return ""
}

// timed reports whether the method is measured in time rounds.
func (m Method) timed() bool { return m == Wall || m == CPU }

// DefaultMinEffect is each method's smallest change that counts: 5 % for
// min-of-k time, 0.5 % for the exact instruction count, 2 % for the
// in-process A/B. Set from the quiet calibration of 2026-12-03 (2 cores):
// at 1 %/3 % neither method caught a planted +1 %/+5 % at all (instructions
// 0/200 at +1 %, smallest change at 80 % power +5 %; A/B +10 % in 18/20);
// at 0.5 %/2 % instructions caught +2 % in 270/300 [86–93 %] with 0/300
// A/A alarms [0–1.2 %], the A/B +10 % in 39/40 [87–99.9 %] with 0/40
// (gate/rates.json holds the current figures).
func (m Method) DefaultMinEffect() float64 {
	switch m {
	case Instructions:
		return 0.005
	case AB:
		return 0.02
	}
	return 0.05
}

// ParseMethods reads a comma-separated method list.
func ParseMethods(s string) ([]Method, error) {
	var out []Method
	for _, f := range strings.Split(s, ",") {
		m := Method(strings.TrimSpace(f))
		if !slices.Contains(AllMethods(), m) {
			return nil, fmt.Errorf("--measure %q: unknown method %q (want a list of wall, cpu, instructions, ab)", s, m)
		}
		if !slices.Contains(out, m) {
			out = append(out, m)
		}
	}
	return out, nil
}

// anyTimed reports whether ms needs time rounds.
func anyTimed(ms []Method) bool { return slices.ContainsFunc(ms, Method.timed) }

// keepFor drops from s the time metric of a time method not asked for
// (ns/op when only cpu is measured, and the reverse); other metrics of the
// time rounds (allocations, slow/op, the HTTP probe) stay.
func keepFor(s gate.Samples, ms []Method) gate.Samples {
	out := gate.Samples{}
	for k, v := range s {
		drop := false
		for _, m := range []Method{Wall, CPU} {
			if k.Unit == m.Unit() && !slices.Contains(ms, m) {
				drop = true
			}
		}
		if !drop {
			out[k] = v
		}
	}
	return out
}

// only keeps the metrics of s in unit.
func only(s gate.Samples, unit string) gate.Samples {
	out := gate.Samples{}
	for k, v := range s {
		if k.Unit == unit {
			out[k] = v
		}
	}
	return out
}
