package flame

import "testing"

// TestSampleCount: a Go CPU profile merges identical stacks into one
// sample with a count; the resolution of a share rests on the ticks.
func TestSampleCount(t *testing.T) {
	for _, tc := range []struct {
		name  string
		types []string
		s     []fakeSample
		want  int64
	}{
		{"counts summed", cpuTypes, []fakeSample{cpuSample(50_000_000, "a", "main"), cpuSample(30_000_000, "b", "main")}, 8},
		{"no samples type counts each once", []string{"cpu/nanoseconds"}, []fakeSample{{frames: []string{"a"}, values: []int64{5}}, {frames: []string{"b"}, values: []int64{7}}}, 2},
		{"empty", cpuTypes, nil, 0},
	} {
		t.Run(tc.name, func(t *testing.T) {
			if got := SampleCount(buildProfile(t, tc.types, tc.s...)); got != tc.want {
				t.Errorf("SampleCount = %d, want %d", got, tc.want)
			}
		})
	}
	if SampleCount(nil) != 0 {
		t.Error("nil profile has samples")
	}
}
