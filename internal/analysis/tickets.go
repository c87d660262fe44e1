package analysis

import (
	"math"
	"slices"
	"sort"

	"github.com/authbench/authbench/impl/ticket"
	"github.com/authbench/authbench/internal/results"
)

// TicketRow is one ticket strategy of a scenario: its server CPU per
// request and knee, each against the no-auth control measured in the same
// rounds.
type TicketRow struct {
	Verifier string // ticket/<strategy>
	// CPUPer1k is server CPU-seconds per 1000 requests over the constant
	// windows of the primary configuration (one value per round).
	CPUPer1k Spread
	// CPUvsControl is CPU per request divided by the control's, paired
	// by round (Hodges–Lehmann with its exact interval).
	CPUvsControl Interval
	// Knee is the sustained rate over the rounds' searches; KneeCapped
	// when a search ended at its maximum.
	Knee       Spread
	KneeCapped bool
	// KneeVsControl is the knee divided by the control's, per round.
	KneeVsControl Interval
	// Share is the mean of the runs' CPU split by impl/ticket phase
	// (signature verify, PEM parse, stat); nil without profiles.
	Share *results.TicketCPUShare
}

// IsTicket reports whether v names a ticket strategy ("ticket/mtime").
func IsTicket(v string) bool {
	_, ok := results.TicketStrategy(v)
	return ok
}

// TicketScenarios lists the scenarios that measured ticket strategies.
func TicketScenarios(f *results.File) []string {
	var out []string
	for _, s := range Scenarios(f) {
		if slices.ContainsFunc(ScenarioRuns(f, s), func(r results.Run) bool { return IsTicket(r.Verifier) }) {
			out = append(out, s)
		}
	}
	return out
}

// TicketTable returns one row per ticket strategy of scenario, in
// impl/ticket's order (unknown names last, by name).
func TicketTable(f *results.File, scenario string) []TicketRow {
	runs := ScenarioRuns(f, scenario)
	runs = WithConfig(runs, Primary(runs))
	ctlCPU, ctlKnee := perRound(runs, results.ControlVerifier)
	var out []TicketRow
	for _, v := range ticketVerifiers(runs) {
		cpu, knee := perRound(runs, v)
		row := TicketRow{Verifier: v, CPUPer1k: SpreadOf(values(cpu)), Knee: SpreadOf(values(knee)),
			CPUvsControl: PairedRatio(cpu, ctlCPU), KneeVsControl: PairedRatio(knee, ctlKnee)}
		var share results.TicketCPUShare
		n := 0
		for _, r := range ByVerifier(runs, v) {
			row.KneeCapped = row.KneeCapped || (r.Phase == results.PhaseKnee && r.KneeCapped)
			if s := r.TicketCPUShare; s != nil {
				share.Verify, share.PEM, share.Stat, share.Other = share.Verify+s.Verify, share.PEM+s.PEM, share.Stat+s.Stat, share.Other+s.Other
				n++
			}
		}
		if n > 0 {
			k := float64(n)
			row.Share = &results.TicketCPUShare{Verify: share.Verify / k, PEM: share.PEM / k, Stat: share.Stat / k, Other: share.Other / k}
		}
		out = append(out, row)
	}
	return out
}

// perRound returns v's CPU per 1000 requests (first constant window of
// each round) and knee per round.
func perRound(runs []results.Run, v string) (cpu, knee map[int]float64) {
	cpu, knee = map[int]float64{}, map[int]float64{}
	for _, r := range ByVerifier(runs, v) {
		round := max(r.Round, 1)
		switch r.Phase {
		case results.PhaseConstant:
			if _, ok := cpu[round]; !ok && r.CPUSecondsPer1kReq > 0 {
				cpu[round] = r.CPUSecondsPer1kReq
			}
		case results.PhaseKnee:
			if r.KneeRPS > 0 {
				knee[round] = r.KneeRPS
			}
		}
	}
	return cpu, knee
}

// ticketVerifiers lists the ticket strategies in runs in impl/ticket's
// order.
func ticketVerifiers(runs []results.Run) []string {
	var vs []string
	for _, r := range runs {
		if IsTicket(r.Verifier) && !slices.Contains(vs, r.Verifier) {
			vs = append(vs, r.Verifier)
		}
	}
	sort.SliceStable(vs, func(a, b int) bool { return ticketLess(vs[a], vs[b]) })
	return vs
}

// ticketLess orders ticket result names by impl/ticket's strategy order.
func ticketLess(a, b string) bool {
	ra, rb := ticketRank(a), ticketRank(b)
	if ra != rb {
		return ra < rb
	}
	return a < b
}

func ticketRank(v string) int {
	name, _ := results.TicketStrategy(v)
	for i, s := range ticket.Strategies() {
		if s.Name == name {
			return i
		}
	}
	return math.MaxInt
}

// ClusterRow is one (event, strategy, attr_timeout) cell of a cluster
// scenario.
type ClusterRow struct {
	results.ClusterRun
	// DoubleRotationRate is DoubleRotationTrials/Trials with its exact
	// (Clopper–Pearson) 95 % interval: with few trials the interval,
	// not the rate, says how often a strategy double-rotates.
	DoubleRotationRate Proportion
	// RejectedBeforeCheckRatio is BeforeCheck.RejectedValid/Total: the
	// share of requests sent between the touch and the rotation check
	// (tickets signed before the touch) that were refused, the timeline's
	// negative t from the touch on; RejectedValidRatio is the same after
	// the check. BeforeCheckAgeShare is the share of those refusals the
	// age range made (a key past its lifetime: PVE's behaviour, not a
	// fault). NaN when not measured (older files, or no requests). Both
	// are per request; requests in one trial are not independent, so no
	// interval is given: read them with the trial count.
	RejectedBeforeCheckRatio float64
	BeforeCheckAgeShare      float64
}

// beforeCheck derives the before-check shares of c.
func beforeCheck(c results.ClusterRun) (ratio, ageShare float64) {
	ratio, ageShare = math.NaN(), math.NaN()
	if b := c.BeforeCheck; b != nil && b.Total > 0 {
		ratio = float64(b.RejectedValid) / float64(b.Total)
		if b.RejectedValid > 0 {
			ageShare = float64(b.RejectedAge) / float64(b.RejectedValid)
		}
	}
	return ratio, ageShare
}

// Proportion is k of n with an exact two-sided 95 % interval.
type Proportion struct {
	K, N        int
	Est, Lo, Hi float64
}

// ClusterTable returns the cluster cells of scenario ordered by event,
// strategy (impl/ticket's order) and attr_timeout.
func ClusterTable(f *results.File, scenario string) []ClusterRow {
	var out []ClusterRow
	for _, c := range f.Clusters {
		if c.Scenario == scenario {
			r := ClusterRow{ClusterRun: c, DoubleRotationRate: ClopperPearson(c.DoubleRotationTrials, c.Trials)}
			r.RejectedBeforeCheckRatio, r.BeforeCheckAgeShare = beforeCheck(c)
			out = append(out, r)
		}
	}
	sort.SliceStable(out, func(a, b int) bool {
		x, y := out[a], out[b]
		switch {
		case x.Event != y.Event:
			return x.Event < y.Event
		case x.Verifier != y.Verifier:
			return ticketLess(x.Verifier, y.Verifier)
		}
		return x.AttrTimeoutMs < y.AttrTimeoutMs
	})
	return out
}

// ClusterScenarios lists the scenarios with cluster cells, in file order.
func ClusterScenarios(f *results.File) []string {
	var out []string
	for _, c := range f.Clusters {
		if !slices.Contains(out, c.Scenario) {
			out = append(out, c.Scenario)
		}
	}
	return out
}

// ClopperPearson is the exact binomial 95 % interval of k successes in n
// trials (N = 0: no estimate, NaNs).
func ClopperPearson(k, n int) Proportion {
	p := Proportion{K: k, N: n, Est: math.NaN(), Lo: math.NaN(), Hi: math.NaN()}
	if n <= 0 || k < 0 || k > n {
		return p
	}
	const alpha = 0.05
	p.Est = float64(k) / float64(n)
	p.Lo, p.Hi = 0, 1
	if k > 0 {
		// Lo: P(X >= k | lo) = alpha/2, increasing in lo.
		p.Lo = bisect(func(q float64) float64 { return 1 - binomCDF(k-1, n, q) - alpha/2 })
	}
	if k < n {
		// Hi: P(X <= k | hi) = alpha/2, decreasing in hi.
		p.Hi = bisect(func(q float64) float64 { return alpha/2 - binomCDF(k, n, q) })
	}
	return p
}

// binomCDF is P(X <= k) for X ~ Binomial(n, q).
func binomCDF(k, n int, q float64) float64 {
	var sum float64
	for i := 0; i <= k; i++ {
		lg, _ := math.Lgamma(float64(n + 1))
		li, _ := math.Lgamma(float64(i + 1))
		lr, _ := math.Lgamma(float64(n - i + 1))
		sum += math.Exp(lg - li - lr + float64(i)*math.Log(q) + float64(n-i)*math.Log1p(-q))
	}
	return min(sum, 1)
}

// bisect finds the root of an increasing f on (0, 1).
func bisect(f func(float64) float64) float64 {
	lo, hi := 0.0, 1.0
	for range 100 {
		mid := (lo + hi) / 2
		if f(mid) < 0 {
			lo = mid
		} else {
			hi = mid
		}
	}
	return (lo + hi) / 2
}
