package flame

import (
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"

	"github.com/google/pprof/profile"
)

func TestFolded(t *testing.T) {
	p := buildProfile(t, cpuTypes,
		cpuSample(30e6, "leaf", "mid", "main"),
		cpuSample(20e6, "leaf", "mid", "main"), // same stack: summed
		cpuSample(10e6, "inl|outer", "main"),   // inlined frame expanded
		cpuSample(40e6, "a;b", "main"),         // separator in a name
		cpuSample(50e6, "|", "main"),           // unsymbolized location
		fakeSample{frames: []string{"zero", "main"}, values: []int64{0, 0}},
	)
	tests := []struct {
		name  string
		index int
		want  string
	}{
		{"default picks cpu", -1, "main;0x1005 50000000\nmain;a:b 40000000\nmain;mid;leaf 50000000\nmain;outer;inl 10000000\n"},
		{"explicit count", 0, "main;0x1005 5\nmain;a:b 4\nmain;mid;leaf 5\nmain;outer;inl 1\n"},
		{"out of range", 2, ""},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if got := foldedString(t, Folded(p, tt.index)); got != tt.want {
				t.Errorf("folded:\n%s\nwant:\n%s", got, tt.want)
			}
		})
	}
}

func TestReadFoldedRoundTrip(t *testing.T) {
	in := "main;f(x y) 3\n\nmain;g[...] 2\r\nmain;f(x y) 4\n"
	stacks, err := ReadFolded(strings.NewReader(in))
	if err != nil {
		t.Fatal(err)
	}
	want := []Stack{{Frames: []string{"main", "f(x y)"}, Value: 7}, {Frames: []string{"main", "g[...]"}, Value: 2}}
	if !slices.EqualFunc(stacks, want, func(a, b Stack) bool { return a.Value == b.Value && slices.Equal(a.Frames, b.Frames) }) {
		t.Fatalf("got %+v, want %+v", stacks, want)
	}
	again, err := ReadFolded(strings.NewReader(foldedString(t, stacks)))
	if err != nil {
		t.Fatal(err)
	}
	if a, b := foldedString(t, again), foldedString(t, stacks); a != b {
		t.Errorf("round trip changed output:\n%s\nvs\n%s", a, b)
	}
}

func TestReadFoldedErrors(t *testing.T) {
	tests := []struct {
		name, in, wantErr string
	}{
		{"no count", "a;b 1\na;b\n", "line 2: missing count"},
		{"bad count", "a;b x1\n", "line 1: bad count"},
		{"negative", "\n\na -1\n", "line 3: negative count"},
		{"empty stack", " 5\n", "line 1: empty stack"},
		{"empty frame", "a;;b 5\n", "line 1: empty frame"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			_, err := ReadFolded(strings.NewReader(tt.in))
			if err == nil || !strings.Contains(err.Error(), tt.wantErr) {
				t.Errorf("err = %v, want containing %q", err, tt.wantErr)
			}
		})
	}
}

func TestFilterByLabel(t *testing.T) {
	lab := func(v int64, verifier, outcome string, frame string) fakeSample {
		s := cpuSample(v, frame, "main")
		s.labels = map[string][]string{"verifier": {verifier}, "outcome": {outcome}}
		return s
	}
	p := buildProfile(t, cpuTypes,
		lab(10e6, "mtime", "fast", "a"),
		lab(20e6, "mtime", "slow", "b"),
		lab(30e6, "ttl", "fallback", "c"),
		cpuSample(40e6, "d", "main"), // unlabelled
	)
	tests := []struct {
		key    string
		values []string
		want   string
	}{
		{"verifier", []string{"mtime"}, "main;a 10000000\nmain;b 20000000\n"},
		{"outcome", []string{"slow", "fallback"}, "main;b 20000000\nmain;c 30000000\n"},
		{"outcome", []string{"none"}, ""},
		{"outcome", nil, ""},
		{"nosuchkey", []string{"fast"}, ""},
	}
	for _, tt := range tests {
		t.Run(tt.key+"="+strings.Join(tt.values, ","), func(t *testing.T) {
			q := FilterByLabel(p, tt.key, tt.values...)
			if got := foldedString(t, Folded(q, -1)); got != tt.want {
				t.Errorf("got:\n%s\nwant:\n%s", got, tt.want)
			}
			if err := q.CheckValid(); err != nil {
				t.Errorf("filtered profile invalid: %v", err)
			}
		})
	}
	if len(p.Sample) != 4 {
		t.Errorf("input modified: %d samples", len(p.Sample))
	}
}

func TestLoadAndMerge(t *testing.T) {
	dir := t.TempDir()
	var paths []string
	for i, frame := range []string{"a", "b"} {
		p := buildProfile(t, cpuTypes, cpuSample(int64(i+1)*10e6, frame, "main"), cpuSample(10e6, "c", "main"))
		path := filepath.Join(dir, frame+".pprof")
		f, err := os.Create(path)
		if err != nil {
			t.Fatal(err)
		}
		if err := p.Write(f); err != nil { // gzipped, like runtime/pprof output
			t.Fatal(err)
		}
		f.Close()
		paths = append(paths, path)
	}
	a, err := LoadProfile(paths[0])
	if err != nil {
		t.Fatal(err)
	}
	b, err := LoadProfile(paths[1])
	if err != nil {
		t.Fatal(err)
	}
	m, err := Merge([]*profile.Profile{a, b})
	if err != nil {
		t.Fatal(err)
	}
	if got, want := foldedString(t, Folded(m, -1)), "main;a 10000000\nmain;b 20000000\nmain;c 20000000\n"; got != want {
		t.Errorf("merged:\n%s\nwant:\n%s", got, want)
	}

	if _, err := LoadProfile(filepath.Join(dir, "missing")); err == nil {
		t.Error("LoadProfile of missing file: no error")
	}
	junk := filepath.Join(dir, "junk")
	os.WriteFile(junk, []byte("not a profile"), 0o600)
	if _, err := LoadProfile(junk); err == nil {
		t.Error("LoadProfile of junk: no error")
	}
	if _, err := Merge(nil); err == nil {
		t.Error("Merge of nothing: no error")
	}
}
