package scenarios

import (
	"strconv"
	"strings"
	"time"
)

// Param is one matrix coordinate of a variant.
type Param struct {
	Axis  string // "tokens", "concurrency" or "gomaxprocs"
	Value int
}

func (p Param) String() string { return p.Axis + "=" + strconv.Itoa(p.Value) }

// Variant is one concrete point of a scenario's matrix.
type Variant struct {
	// Name is the scenario name plus the matrix coordinates, e.g.
	// "steady/tokens=100" or "concurrency/concurrency=8,gomaxprocs=2";
	// just the scenario name when there is no matrix.
	Name string
	// Base is the scenario's name.
	Base string
	// Params are the matrix coordinates, in axis order tokens,
	// concurrency, gomaxprocs.
	Params []Param
	// Scenario is a deep copy with the coordinates applied, Matrix empty
	// and Name == the variant's Name.
	Scenario *Scenario
}

// Expand returns the cartesian product of the matrix axes (tokens, then
// concurrency, then gomaxprocs; the last axis varies fastest). Without a
// matrix it returns one variant equal to s.
func (s *Scenario) Expand() []Variant {
	type axis struct {
		name string
		vals []int
		set  func(*Scenario, int)
	}
	var axes []axis
	if len(s.Matrix.Tokens) > 0 {
		axes = append(axes, axis{"tokens", s.Matrix.Tokens, func(c *Scenario, v int) { c.Tokens = v }})
	}
	if len(s.Matrix.Concurrency) > 0 {
		axes = append(axes, axis{"concurrency", s.Matrix.Concurrency, func(c *Scenario, v int) { c.Load.Concurrency = v }})
	}
	if len(s.Matrix.GOMAXPROCS) > 0 {
		axes = append(axes, axis{"gomaxprocs", s.Matrix.GOMAXPROCS, func(c *Scenario, v int) { c.Server.GOMAXPROCS = v }})
	}
	out := []Variant{{Name: s.Name, Base: s.Name}}
	for _, a := range axes {
		next := make([]Variant, 0, len(out)*len(a.vals))
		for _, v := range out {
			for _, val := range a.vals {
				ps := append(append([]Param(nil), v.Params...), Param{a.name, val})
				next = append(next, Variant{Base: s.Name, Params: ps})
			}
		}
		out = next
	}
	for i := range out {
		c := s.clone()
		c.Matrix = Matrix{}
		names := make([]string, len(out[i].Params))
		for j, p := range out[i].Params {
			names[j] = p.String()
			for _, a := range axes {
				if a.name == p.Axis {
					a.set(c, p.Value)
				}
			}
		}
		if len(names) > 0 {
			c.Name = s.Name + "/" + strings.Join(names, ",")
		}
		out[i].Name = c.Name
		out[i].Scenario = c
	}
	return out
}

// clone returns a deep copy.
func (s *Scenario) clone() *Scenario {
	c := *s
	c.Load.Stages = append([]Stage(nil), s.Load.Stages...)
	if s.Load.Knee != nil {
		k := *s.Load.Knee
		c.Load.Knee = &k
	}
	c.Verifiers = append([]string(nil), s.Verifiers...)
	c.Matrix = Matrix{
		Tokens:      append([]int(nil), s.Matrix.Tokens...),
		Concurrency: append([]int(nil), s.Matrix.Concurrency...),
		GOMAXPROCS:  append([]int(nil), s.Matrix.GOMAXPROCS...),
	}
	c.Events = append([]Event(nil), s.Events...)
	c.Strategies = append([]string(nil), s.Strategies...)
	if s.Cluster != nil {
		cl := *s.Cluster
		cl.Events = append([]string(nil), s.Cluster.Events...)
		cl.AttrTimeouts = append([]time.Duration(nil), s.Cluster.AttrTimeouts...)
		c.Cluster = &cl
	}
	return &c
}

// Quick returns a copy with short phases for smoke runs: measured window
// at most QuickDuration (stages and event times scaled by the same
// factor), warm-up at most QuickWarmup, one repeat, at most QuickRounds
// rounds, knee steps at most
// QuickKneeStep long and at most QuickKneeSteps of them. Timers that were
// meant to fire inside the run (server TTL, stale-stat TTL shorter than
// warm-up plus window) are scaled too, so the quick run still shows them.
// Each matrix axis keeps only its first and last value.
//
// A cluster scenario keeps one trial of the smallest non-zero
// attr_timeout with observation capped at QuickClusterObserve.
func (s *Scenario) Quick() *Scenario {
	c := s.clone()
	if c.Cluster != nil {
		c.Cluster = c.Cluster.quick()
		c.Load.Duration = c.Cluster.Observe
		return c
	}
	l := &c.Load
	total := l.Warmup + l.Duration
	f := 1.0
	if l.Shape != ShapeKnee && l.Duration > QuickDuration {
		f = float64(QuickDuration) / float64(l.Duration)
	}
	scale := func(d time.Duration) time.Duration {
		n := time.Duration(float64(d) * f)
		if n < 1 && d > 0 {
			n = 1
		}
		return n
	}
	if l.Shape != ShapeKnee {
		if l.Shape == ShapeStages {
			var sum time.Duration
			for i := range l.Stages {
				l.Stages[i].Duration = scale(l.Stages[i].Duration)
				sum += l.Stages[i].Duration
			}
			l.Duration = sum
		} else {
			l.Duration = min(l.Duration, QuickDuration)
		}
		for i := range c.Events {
			e := &c.Events[i]
			e.At = min(scale(e.At), l.Duration-1)
			if e.Kind == EventStaleStat && e.TTL < total {
				e.TTL = scale(e.TTL)
			}
		}
		if c.Server.TTL < total {
			c.Server.TTL = scale(c.Server.TTL)
		}
	}
	l.Warmup = min(l.Warmup, QuickWarmup)
	if l.Shape != ShapeKnee {
		l.Warmup = min(l.Warmup, l.Duration)
	}
	l.Repeats = 1
	l.Rounds = min(l.Rounds, QuickRounds)
	// Sweeps keep their end points: the quick suite still shows the trend
	// (1 vs 64 clients, 1 vs 10,000 tokens) in far fewer runs.
	ends := func(v []int) []int {
		if len(v) <= 2 {
			return v
		}
		return []int{v[0], v[len(v)-1]}
	}
	c.Matrix.Tokens, c.Matrix.Concurrency, c.Matrix.GOMAXPROCS = ends(c.Matrix.Tokens), ends(c.Matrix.Concurrency), ends(c.Matrix.GOMAXPROCS)
	if l.Knee != nil {
		l.Knee.StepDuration = min(l.Knee.StepDuration, QuickKneeStep)
		l.Knee.MaxSteps = min(l.Knee.StepBudget(1), QuickKneeSteps)
		l.Knee.RefineSteps = min(l.Knee.StepBudget(2), QuickKneeSteps)
	}
	return c
}
