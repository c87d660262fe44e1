package flame

import (
	"encoding/json"
	"fmt"
	"io"
)

// SpeedscopeExt is the file-name suffix speedscope (https://speedscope.app)
// recognises for its own format; name a profile's file
// "<verifier>-r<repeat>"+SpeedscopeExt next to its folded stacks.
const SpeedscopeExt = ".speedscope.json"

// speedscopeUnit maps a pprof unit to one of speedscope's ValueUnit names.
func speedscopeUnit(unit string) string {
	switch unit {
	case "nanoseconds", "microseconds", "milliseconds", "seconds", "bytes":
		return unit
	}
	return "none"
}

// speedscopeFile is the subset of speedscope's file format
// (https://www.speedscope.app/file-format-schema.json) a sampled profile
// needs.
type speedscopeFile struct {
	Schema             string              `json:"$schema"`
	Shared             speedscopeShared    `json:"shared"`
	Profiles           []speedscopeProfile `json:"profiles"`
	Name               string              `json:"name"`
	ActiveProfileIndex int                 `json:"activeProfileIndex"`
	Exporter           string              `json:"exporter"`
}

type speedscopeShared struct {
	Frames []speedscopeFrame `json:"frames"`
}

type speedscopeFrame struct {
	Name string `json:"name"`
}

type speedscopeProfile struct {
	Type       string  `json:"type"`
	Name       string  `json:"name"`
	Unit       string  `json:"unit"`
	StartValue int64   `json:"startValue"`
	EndValue   int64   `json:"endValue"`
	Samples    [][]int `json:"samples"`
	Weights    []int64 `json:"weights"`
}

// WriteSpeedscope writes stacks as one sampled profile in speedscope's
// JSON format. Unlike folded stacks, which speedscope also opens, it keeps
// the unit (pass SampleUnit's answer), so speedscope shows CPU time rather
// than bare counts. Frames are shared by name in first-seen order and
// stacks keep their order, so the output is deterministic. Stacks with
// non-positive values are skipped.
func WriteSpeedscope(w io.Writer, stacks []Stack, name, unit string) error {
	f := speedscopeFile{
		Schema:   "https://www.speedscope.app/file-format-schema.json",
		Name:     name,
		Exporter: "authbench",
	}
	p := speedscopeProfile{Type: "sampled", Name: name, Unit: speedscopeUnit(unit), Samples: [][]int{}, Weights: []int64{}}
	index := map[string]int{}
	f.Shared.Frames = []speedscopeFrame{}
	for _, s := range stacks {
		if s.Value <= 0 {
			continue
		}
		sample := make([]int, len(s.Frames))
		for i, fr := range s.Frames {
			k, ok := index[fr]
			if !ok {
				k = len(f.Shared.Frames)
				index[fr] = k
				f.Shared.Frames = append(f.Shared.Frames, speedscopeFrame{Name: fr})
			}
			sample[i] = k
		}
		p.Samples = append(p.Samples, sample)
		p.Weights = append(p.Weights, s.Value)
		p.EndValue += s.Value
	}
	f.Profiles = []speedscopeProfile{p}
	enc := json.NewEncoder(w)
	if err := enc.Encode(f); err != nil {
		return fmt.Errorf("write speedscope profile: %w", err)
	}
	return nil
}
