// Package revocation judges a revocation probe: given the timeline of
// requests that presented a token's old (and new) secret around a change,
// the verifier's declared staleness bound and the slack for requests in
// flight, it decides how long the old secret kept working and whether that
// stayed within the bound. It is a pure function of its inputs; the runner
// collects the timeline and calls Judge.
package revocation

import (
	"fmt"
	"sort"

	"github.com/authbench/authbench/impl"
	"github.com/authbench/authbench/internal/results"
)

// Input is one probe's record. Times are milliseconds relative to the
// completed change (negative: sent before it); points are in send order.
type Input struct {
	// Old holds the requests with the old secret; HasOld is false when the
	// change has no old secret (a token added by the event).
	Old    []results.ProbePoint
	HasOld bool
	// New holds the requests with the secret the change brought; HasNew is
	// false when it brings none (revocations, hand edits).
	New    []results.ProbePoint
	HasNew bool
	// Bound is the verifier's declared staleness for this kind of change.
	Bound impl.Staleness
	// SlackMS covers requests already in flight at the change (see Slack).
	SlackMS float64
}

// Verdict is what Judge decides; it fills the matching results.Revocation
// fields.
type Verdict struct {
	// TimeToRejectMS is when the old secret was rejected for good: the
	// first rejection after the last acceptance (nil if never).
	TimeToRejectMS *float64
	// AcceptedAfter counts old-secret acceptances at or after the change.
	AcceptedAfter int
	// TimeToAcceptNewMS is the first acceptance of the new secret.
	TimeToAcceptNewMS *float64
	// BoundMS is the bound in milliseconds (nil if unbounded).
	BoundMS *float64
	// Converged: the old secret is rejected from some point on and, for
	// changes that bring a new secret, the new one is accepted at the end.
	Converged bool
	// Pass: no old-secret acceptance later than bound + slack.
	Pass        bool
	Expectation string
}

// Slack is the in-flight allowance for a probe at rate req/s: two probe
// intervals plus 50 ms.
func Slack(rate float64) float64 { return 2*1000/rate + 50 }

// Judge decides the verdict. A contended cache lock sends single requests
// to the slow path, which rejects them while the cache still holds the old
// secret; such early rejections are not convergence, hence "first
// rejection after the last acceptance".
func Judge(in Input) Verdict {
	var v Verdict
	if !in.Bound.Unbounded {
		b := float64(in.Bound.Max.Milliseconds())
		v.BoundMS = &b
	}
	lastAccepted := -1.0
	after := 0
	for _, pt := range in.Old {
		if pt.TMS < 0 {
			continue
		}
		after++
		if pt.Accepted {
			v.AcceptedAfter++
			lastAccepted = pt.TMS
		}
	}
	for _, pt := range in.Old {
		if pt.TMS >= 0 && pt.TMS > lastAccepted && !pt.Accepted {
			t := pt.TMS
			v.TimeToRejectMS = &t
			break
		}
	}
	v.Converged = !in.HasOld || (after > 0 && !in.Old[len(in.Old)-1].Accepted)
	for _, pt := range in.New {
		if pt.TMS >= 0 && pt.Accepted {
			t := pt.TMS
			v.TimeToAcceptNewMS = &t
			break
		}
	}
	if in.HasNew && (len(in.New) == 0 || !in.New[len(in.New)-1].Accepted) {
		v.Converged = false
	}
	if in.Bound.Unbounded {
		v.Pass = true
		v.Expectation = "declared unbounded: may keep accepting the old secret"
		return v
	}
	limit := *v.BoundMS + in.SlackMS
	v.Pass = lastAccepted < limit
	if in.HasOld && after > 0 && in.Old[len(in.Old)-1].TMS < limit {
		v.Expectation = fmt.Sprintf("run ended %.0f ms after the event, before the %s bound", in.Old[len(in.Old)-1].TMS, in.Bound)
	} else {
		v.Expectation = "old secret rejected within " + in.Bound.String()
	}
	return v
}

// Apply copies v into rev.
func (v Verdict) Apply(rev *results.Revocation) {
	rev.TimeToRejectMS = v.TimeToRejectMS
	rev.AcceptedAfter = v.AcceptedAfter
	rev.TimeToAcceptNewMS = v.TimeToAcceptNewMS
	rev.BoundMS = v.BoundMS
	rev.Converged = v.Converged
	rev.Pass = v.Pass
	rev.Expectation = v.Expectation
}

// Probes describes how finely a probe's timeline resolves staleness: the
// spacing of the old-secret probes (median gap between consecutive sends)
// and when the first probe at or after the completed change was sent. A
// rejection "at 0.0 ms" and one "at 18.6 ms" are the same outcome when
// probes are 20 ms apart: both say the first probe after the change was
// rejected. ok is false when the timeline holds no probe after the change.
func Probes(old []results.ProbePoint) (spacingMS, firstMS float64, ok bool) {
	var gaps []float64
	first := -1.0
	for i, pt := range old {
		if i > 0 {
			if g := pt.TMS - old[i-1].TMS; g > 0 {
				gaps = append(gaps, g)
			}
		}
		if pt.TMS >= 0 && first < 0 {
			first = pt.TMS
		}
	}
	if first < 0 {
		return 0, 0, false
	}
	if len(gaps) > 0 {
		sort.Float64s(gaps)
		spacingMS = (gaps[(len(gaps)-1)/2] + gaps[len(gaps)/2]) / 2
	}
	return spacingMS, first, true
}
