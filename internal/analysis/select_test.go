package analysis

import (
	"slices"
	"testing"

	"github.com/authbench/authbench/internal/results"
)

func TestSpreadOf(t *testing.T) {
	t.Parallel()
	tests := []struct {
		in   []float64
		want Spread
	}{
		{nil, Spread{}},
		{[]float64{3}, Spread{3, 3, 3, 1}},
		{[]float64{5, 1, 3}, Spread{3, 1, 5, 3}},
		{[]float64{4, 1, 2, 3}, Spread{2.5, 1, 4, 4}},
	}
	for _, tc := range tests {
		if got := SpreadOf(tc.in); got != tc.want {
			t.Errorf("SpreadOf(%v) = %+v, want %+v", tc.in, got, tc.want)
		}
	}
}

// TestSortVerifiers: the controls first, then the registry's order, then
// names the registry does not know.
func TestSortVerifiers(t *testing.T) {
	t.Parallel()
	vs := []string{"zeta", "ttl", "alpha", "ttl-ctime", results.ControlCopyVerifier, "noauth", "generation", "uncached", "mtime"}
	SortVerifiers(vs)
	want := []string{"noauth", "noauth-aa", "uncached", "generation", "mtime", "ttl", "ttl-ctime", "alpha", "zeta"}
	if !slices.Equal(vs, want) {
		t.Errorf("got %v, want %v", vs, want)
	}
}

func TestIsCached(t *testing.T) {
	t.Parallel()
	for v, want := range map[string]bool{
		results.ControlVerifier: false, results.ControlCopyVerifier: false, results.BaselineVerifier: false,
		"generation": true, "ttl-ctime": true, "retired-verifier": true,
	} {
		if got := IsCached(v); got != want {
			t.Errorf("IsCached(%q) = %v, want %v", v, got, want)
		}
	}
}

func TestKneeOf(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name       string
		runs       []results.Run
		want       Spread
		fromSearch bool
	}{
		{"search summaries win", []results.Run{
			{Repeat: 0, KneeRPS: 900, AchievedRPS: 1000, SuccessRatio: 1},
			{Repeat: 1, KneeRPS: 1100},
		}, Spread{1000, 900, 1100, 2}, true},
		{"best sustained rate", []results.Run{
			{AchievedRPS: 500, SuccessRatio: 1},
			{AchievedRPS: 800, SuccessRatio: 0.995},
			{AchievedRPS: 1200, SuccessRatio: 0.5},
		}, Spread{800, 800, 800, 1}, false},
		{"one search per round: median [min–max]", []results.Run{
			{Round: 1, KneeRPS: 900}, {Round: 2, KneeRPS: 1000}, {Round: 3, KneeRPS: 1300},
		}, Spread{1000, 900, 1300, 3}, true},
	}
	for _, tc := range tests {
		s, fs := KneeOf(tc.runs)
		if s != tc.want || fs != tc.fromSearch {
			t.Errorf("%s: got %+v (search %v), want %+v (search %v)", tc.name, s, fs, tc.want, tc.fromSearch)
		}
	}
}

func TestCommonRate(t *testing.T) {
	t.Parallel()
	runs := []results.Run{
		{Verifier: "noauth", OfferedRPS: 5000},
		{Verifier: results.ControlCopyVerifier, OfferedRPS: 5000},
		{Verifier: "uncached", OfferedRPS: 1000},
		{Verifier: "uncached", OfferedRPS: 2000.2},
		{Verifier: "ttl", OfferedRPS: 1999.9},
		{Verifier: "ttl", OfferedRPS: 4000},
	}
	got, ok := CommonRate(runs)
	if !ok || got != 2000 {
		t.Errorf("CommonRate = %v, %v; want 2000, true", got, ok)
	}
	p, ok := RefPoint(runs, "noauth")
	if !ok || p.OfferedRPS != 5000 {
		t.Errorf("RefPoint(noauth) = %v, %v; want its highest rate 5000", p.OfferedRPS, ok)
	}
}
