package analysis

import (
	"math"
	"strings"

	"github.com/authbench/authbench/internal/results"
	"github.com/authbench/authbench/internal/revocation"
)

// EventClass groups revocation events by what changed the token file.
type EventClass string

// Event classes, in headline order.
const (
	ClassAPISelf    EventClass = "API, same process"
	ClassAPIOther   EventClass = "API, other process"
	ClassManualEdit EventClass = "manual edit"
	ClassRestore    EventClass = "mtime-preserving restore"
)

// EventClasses lists the classes in headline order.
var EventClasses = []EventClass{ClassAPISelf, ClassAPIOther, ClassManualEdit, ClassRestore}

// IsFileEdit reports whether c changes the file by hand (the trade-off
// chart's x axis).
func (c EventClass) IsFileEdit() bool { return c == ClassManualEdit || c == ClassRestore }

// ClassOf maps a revocation event name ("api-rotate:other:id",
// "manual-edit:id", ...) to its class; api-add is not a revocation.
func ClassOf(event string) (EventClass, bool) {
	kind, rest, _ := strings.Cut(event, ":")
	switch kind {
	case "api-rotate", "api-revoke":
		if strings.HasPrefix(rest, "other:") {
			return ClassAPIOther, true
		}
		return ClassAPISelf, true
	case "manual-edit", "coarse-mtime", "stale-stat":
		return ClassManualEdit, true
	case "manual-restore":
		return ClassRestore, true
	}
	return "", false
}

// Staleness is what the events of one class showed for one verifier:
// how many requests with the old secret were accepted after the change
// completed, when the old secret was rejected for good, and how finely the
// probes resolved it.
type Staleness struct {
	N int // events measured
	// WorstMS is the longest time to the lasting rejection (ms); Never is
	// set when some event's old secret was never rejected within the probe.
	WorstMS float64
	Never   bool
	// AcceptedAfter is the most old-secret requests any event accepted
	// after the change completed.
	AcceptedAfter int
	// FirstProbe is set when every event rejected the old secret at the
	// first probe after the change: WorstMS then only says where that
	// probe fell, and SpacingMS bounds the staleness.
	FirstProbe bool
	// SpacingMS is the largest probe spacing of the events (0: unknown,
	// no timeline recorded).
	SpacingMS float64
	// BoundMS is the largest declared bound; Unbounded when any is.
	BoundMS   float64
	Unbounded bool
	Failed    int // events whose check failed
}

// EventStaleness is one revocation event as users read it.
type EventStaleness struct {
	results.Revocation
	Class EventClass
	// SpacingMS and FirstProbeMS come from the timeline (revocation.Probes);
	// HasProbes is false without one.
	SpacingMS, FirstProbeMS float64
	HasProbes               bool
	// FirstProbe: rejected at the first probe after the change, nothing
	// accepted.
	FirstProbe bool
}

// EventOf describes one revocation event.
func EventOf(rv results.Revocation) EventStaleness {
	e := EventStaleness{Revocation: rv}
	e.Class, _ = ClassOf(rv.Event)
	e.SpacingMS, e.FirstProbeMS, e.HasProbes = revocation.Probes(rv.Timeline) // the old secret's probes
	e.FirstProbe = rv.TimeToRejectMS != nil && rv.AcceptedAfter == 0 &&
		(!e.HasProbes || *rv.TimeToRejectMS <= e.FirstProbeMS)
	return e
}

// StalenessOf collects the measured staleness per verifier and class.
func StalenessOf(f *results.File) map[string]map[EventClass]Staleness {
	out := map[string]map[EventClass]Staleness{}
	for _, rv := range f.Revocations {
		c, ok := ClassOf(rv.Event)
		if !ok {
			continue
		}
		if out[rv.Verifier] == nil {
			out[rv.Verifier] = map[EventClass]Staleness{}
		}
		e := EventOf(rv)
		s := out[rv.Verifier][c]
		if s.N == 0 {
			s.FirstProbe = true
		}
		s.N++
		s.FirstProbe = s.FirstProbe && e.FirstProbe
		s.AcceptedAfter = max(s.AcceptedAfter, rv.AcceptedAfter)
		s.SpacingMS = math.Max(s.SpacingMS, e.SpacingMS)
		if rv.TimeToRejectMS == nil {
			s.Never = true
		} else {
			s.WorstMS = math.Max(s.WorstMS, *rv.TimeToRejectMS)
		}
		if rv.BoundMS == nil {
			s.Unbounded = true
		} else {
			s.BoundMS = math.Max(s.BoundMS, *rv.BoundMS)
		}
		if !rv.Pass {
			s.Failed++
		}
		out[rv.Verifier][c] = s
	}
	return out
}

// WorstFileEdit returns the worst staleness over the file-edit classes:
// ok is false when none was measured.
func WorstFileEdit(m map[EventClass]Staleness) (ms float64, never, ok bool) {
	for c, s := range m {
		if c.IsFileEdit() && s.N > 0 {
			ok = true
			never = never || s.Never
			ms = math.Max(ms, s.WorstMS)
		}
	}
	return ms, never, ok
}
