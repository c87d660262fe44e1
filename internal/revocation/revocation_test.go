package revocation

import (
	"testing"
	"time"

	"github.com/authbench/authbench/impl"
	"github.com/authbench/authbench/internal/results"
)

// tl builds a timeline from (t_ms, accepted) pairs.
func tl(pts ...any) []results.ProbePoint {
	var out []results.ProbePoint
	for i := 0; i < len(pts); i += 2 {
		out = append(out, results.ProbePoint{TMS: float64(pts[i].(int)), Accepted: pts[i+1].(bool)})
	}
	return out
}

func ms(f float64) *float64 { return &f }

func TestJudge(t *testing.T) {
	zero := impl.Staleness{}
	ttl := impl.Staleness{Max: 2 * time.Second}
	never := impl.Staleness{Unbounded: true}
	slack := Slack(50) // 90 ms
	for _, tc := range []struct {
		name                   string
		in                     Input
		reject, acceptNew      *float64
		acceptedAfter          int
		converged, pass        bool
		expectation            string
		wantBoundMS, noBoundMS bool
	}{
		{
			name:   "rejected at once",
			in:     Input{Old: tl(-40, true, -20, true, 0, false, 20, false, 200, false), HasOld: true, Bound: zero, SlackMS: slack},
			reject: ms(0), converged: true, pass: true, expectation: "old secret rejected within 0 (next request)", wantBoundMS: true,
		},
		{
			name:   "in flight within slack passes",
			in:     Input{Old: tl(-20, true, 10, true, 30, false, 50, false, 200, false), HasOld: true, Bound: zero, SlackMS: slack},
			reject: ms(30), acceptedAfter: 1, converged: true, pass: true, expectation: "old secret rejected within 0 (next request)", wantBoundMS: true,
		},
		{
			name:   "accepted beyond bound plus slack fails",
			in:     Input{Old: tl(0, true, 100, true, 120, false), HasOld: true, Bound: zero, SlackMS: slack},
			reject: ms(120), acceptedAfter: 2, converged: true, pass: false, expectation: "old secret rejected within 0 (next request)", wantBoundMS: true,
		},
		{
			// A slow-path rejection while the cache still holds the old
			// secret is not convergence: time to reject is after the last
			// acceptance.
			name:   "early fallback rejection ignored",
			in:     Input{Old: tl(0, true, 20, false, 40, true, 1900, true, 2000, false, 2100, false), HasOld: true, Bound: ttl, SlackMS: slack},
			reject: ms(2000), acceptedAfter: 3, converged: true, pass: true, expectation: "old secret rejected within 2s", wantBoundMS: true,
		},
		{
			name:          "never rejected, unbounded",
			in:            Input{Old: tl(0, true, 500, true), HasOld: true, Bound: never, SlackMS: slack},
			acceptedAfter: 2, converged: false, pass: true, expectation: "declared unbounded: may keep accepting the old secret", noBoundMS: true,
		},
		{
			name:          "run ended before the bound",
			in:            Input{Old: tl(0, true, 400, true), HasOld: true, Bound: ttl, SlackMS: slack},
			acceptedAfter: 2, converged: false, pass: true, expectation: "run ended 400 ms after the event, before the 2s bound", wantBoundMS: true,
		},
		{
			name:   "rotation: new secret accepted",
			in:     Input{Old: tl(0, false, 20, false, 200, false), HasOld: true, New: tl(5, false, 25, true), HasNew: true, Bound: zero, SlackMS: slack},
			reject: ms(0), acceptNew: ms(25), converged: true, pass: true, expectation: "old secret rejected within 0 (next request)", wantBoundMS: true,
		},
		{
			name:   "rotation: new secret never seen",
			in:     Input{Old: tl(0, false), HasOld: true, HasNew: true, Bound: zero, SlackMS: slack},
			reject: ms(0), converged: false, pass: true, expectation: "run ended 0 ms after the event, before the 0 (next request) bound", wantBoundMS: true,
		},
		{
			name:      "added token: no old secret",
			in:        Input{New: tl(3, true), HasNew: true, Bound: zero, SlackMS: slack},
			acceptNew: ms(3), converged: true, pass: true, expectation: "old secret rejected within 0 (next request)", wantBoundMS: true,
		},
		{
			name:      "no probe after the change",
			in:        Input{Old: tl(-30, true), HasOld: true, Bound: zero, SlackMS: slack},
			converged: false, pass: true, expectation: "old secret rejected within 0 (next request)", wantBoundMS: true,
		},
	} {
		t.Run(tc.name, func(t *testing.T) {
			v := Judge(tc.in)
			eqp := func(what string, got, want *float64) {
				if (got == nil) != (want == nil) || got != nil && *got != *want {
					t.Errorf("%s = %v, want %v", what, deref(got), deref(want))
				}
			}
			eqp("time to reject", v.TimeToRejectMS, tc.reject)
			eqp("time to accept new", v.TimeToAcceptNewMS, tc.acceptNew)
			if v.AcceptedAfter != tc.acceptedAfter || v.Converged != tc.converged || v.Pass != tc.pass {
				t.Errorf("accepted after %d converged %v pass %v, want %d %v %v", v.AcceptedAfter, v.Converged, v.Pass, tc.acceptedAfter, tc.converged, tc.pass)
			}
			if v.Expectation != tc.expectation {
				t.Errorf("expectation %q, want %q", v.Expectation, tc.expectation)
			}
			if tc.noBoundMS && v.BoundMS != nil || tc.wantBoundMS && (v.BoundMS == nil || *v.BoundMS != float64(tc.in.Bound.Max.Milliseconds())) {
				t.Errorf("bound_ms %v for %s", deref(v.BoundMS), tc.in.Bound)
			}
			var rev results.Revocation
			v.Apply(&rev)
			if rev.Pass != v.Pass || rev.Expectation != v.Expectation || rev.AcceptedAfter != v.AcceptedAfter {
				t.Errorf("Apply lost fields: %+v", rev)
			}
		})
	}
}

func deref(p *float64) any {
	if p == nil {
		return nil
	}
	return *p
}

func TestSlack(t *testing.T) {
	if got := Slack(50); got != 90 {
		t.Errorf("Slack(50) = %v, want 90 (two 20 ms intervals + 50 ms)", got)
	}
}

func TestProbes(t *testing.T) {
	pts := func(ts ...float64) []results.ProbePoint {
		var out []results.ProbePoint
		for _, x := range ts {
			out = append(out, results.ProbePoint{TMS: x})
		}
		return out
	}
	tests := []struct {
		name           string
		old            []results.ProbePoint
		spacing, first float64
		ok             bool
	}{
		{"regular", pts(-40, -20, 0.5, 20.5, 40.5), 20, 0.5, true},
		{"late first", pts(-1.4, 18.6, 38.6), 20, 18.6, true},
		{"none after", pts(-40, -20), 0, 0, false},
		{"one probe", pts(3), 0, 3, true},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			s, f, ok := Probes(tt.old)
			if ok != tt.ok || s != tt.spacing || f != tt.first {
				t.Errorf("Probes = %v, %v, %v, want %v, %v, %v", s, f, ok, tt.spacing, tt.first, tt.ok)
			}
		})
	}
}
