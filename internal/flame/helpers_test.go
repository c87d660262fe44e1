package flame

import (
	"strings"
	"testing"

	"github.com/google/pprof/profile"
)

// fakeSample describes one synthetic sample. Frames are leaf first; an
// entry "a|b" is one location whose lines are a inlined into b.
type fakeSample struct {
	frames []string
	values []int64
	labels map[string][]string
}

// buildProfile builds a valid profile with the given sample types (each
// "type/unit") from synthetic samples, sharing functions and locations by
// name as real profiles do.
func buildProfile(t *testing.T, types []string, samples ...fakeSample) *profile.Profile {
	t.Helper()
	p := &profile.Profile{PeriodType: &profile.ValueType{Type: "cpu", Unit: "nanoseconds"}, Period: 10_000_000}
	for _, ty := range types {
		typ, unit, _ := strings.Cut(ty, "/")
		p.SampleType = append(p.SampleType, &profile.ValueType{Type: typ, Unit: unit})
	}
	funcs := map[string]*profile.Function{}
	locs := map[string]*profile.Location{}
	for _, fs := range samples {
		s := &profile.Sample{Value: fs.values, Label: fs.labels}
		for _, fr := range fs.frames {
			loc := locs[fr]
			if loc == nil {
				loc = &profile.Location{ID: uint64(len(p.Location) + 1), Address: uint64(0x1000 + len(p.Location))}
				for _, name := range strings.Split(fr, "|") {
					if name == "" { // unsymbolized location
						continue
					}
					f := funcs[name]
					if f == nil {
						f = &profile.Function{ID: uint64(len(p.Function) + 1), Name: name, SystemName: name}
						funcs[name] = f
						p.Function = append(p.Function, f)
					}
					loc.Line = append(loc.Line, profile.Line{Function: f})
				}
				locs[fr] = loc
				p.Location = append(p.Location, loc)
			}
			s.Location = append(s.Location, loc)
		}
		p.Sample = append(p.Sample, s)
	}
	if err := p.CheckValid(); err != nil {
		t.Fatalf("synthetic profile invalid: %v", err)
	}
	return p
}

func cpuSample(v int64, frames ...string) fakeSample {
	return fakeSample{frames: frames, values: []int64{v / 10_000_000, v}}
}

var cpuTypes = []string{"samples/count", "cpu/nanoseconds"}

func foldedString(t *testing.T, stacks []Stack) string {
	t.Helper()
	var b strings.Builder
	if err := WriteFolded(&b, stacks); err != nil {
		t.Fatal(err)
	}
	return b.String()
}
