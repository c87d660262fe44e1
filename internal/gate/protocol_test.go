package gate

import (
	"fmt"
	"reflect"
	"testing"
)

func TestBestOf(t *testing.T) {
	s := Samples{}
	s.Add("X", "sec/op", 3, 1, 2)
	s.Add("X", "req/s", 10, 30, 20)
	s.Add("X", "cpu-ns/op", 5)
	got := BestOf(s, Options{})
	want := Samples{{"X", "sec/op"}: {1}, {"X", "req/s"}: {30}, {"X", "cpu-ns/op"}: {5}}
	if !reflect.DeepEqual(got, want) {
		t.Errorf("got %v, want %v", got, want)
	}
}

// TestMinOfKProtocol checks the statistics of the new protocol on
// synthetic rounds: heavy bursts on a fifth of the samples, k = 10 samples
// per round, 3 hit-path metrics as in the calibration. A/A must stay at or
// below 1 % false alarms; a 10 % slowdown must be flagged in at least 95 %
// of trials on every metric.
func TestMinOfKProtocol(t *testing.T) {
	cvs := []float64{0.015, 0.02, 0.025}
	const n, trials = 16, 200
	cases := []struct {
		name     string
		k        int
		slowdown float64
		min, max float64 // allowed failure rate
	}{
		{"A/A min of 10", 10, 0, 0, 0.01},
		{"+10% min of 10", 10, 0.10, 0.95, 1},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			gen := Jittered(7, n, c.k, cvs, 0.2, 1.0, c.slowdown)
			cal, err := runTrials(trials, gen, Options{}, uCache{})
			if err != nil {
				t.Fatal(err)
			}
			t.Logf("%s: failed %d/%d", c.name, cal.Failed, cal.Trials)
			if cal.Rate < c.min || cal.Rate > c.max {
				t.Errorf("failure rate %.3f outside [%g, %g]", cal.Rate, c.min, c.max)
			}
		})
	}
	// Every metric, not just any: the calibration counts detection per metric.
	gen := Jittered(8, n, 10, cvs, 0.2, 1.0, 0.10)
	hits := map[Key]int{}
	for tr := range trials {
		b, c := gen(tr)
		r, err := Compare(b, c, Options{})
		if err != nil {
			t.Fatal(err)
		}
		for _, m := range r.Regressions() {
			hits[m.Key]++
		}
	}
	for i := range cvs {
		k := Key{fmt.Sprintf("M%02d", i), "sec/op"}
		if float64(hits[k]) < 0.95*trials {
			t.Errorf("%s flagged in %d/%d trials, want >= 95%%", k, hits[k], trials)
		}
	}
}
