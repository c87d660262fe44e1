package flame

import (
	"bytes"
	"encoding/json"
	"flag"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"
)

var update = flag.Bool("update", false, "rewrite the golden files in testdata/")

// goldenBase and goldenCand are small fixed stack sets shaped like an
// uncached and a cached verifier's profile, in nanoseconds.
const (
	goldenBase = "main;http.serve;auth.Verify;cryptpw.Verify;sha512.block 7000000000\n" +
		"main;http.serve;auth.Verify;impl.readShadow;os.ReadFile 1500000000\n" +
		"main;http.serve;handler.version 500000000\n" +
		"runtime.gcBgMarkWorker 1000000000\n"
	goldenCand = "main;http.serve;auth.Verify;cache.lookup 800000000\n" +
		"main;http.serve;auth.Verify;os.Stat 200000000\n" +
		"main;http.serve;handler.version 2500000000\n" +
		"runtime.gcBgMarkWorker 500000000\n"
)

// checkGolden compares got with testdata/name, or rewrites it with -update.
func checkGolden(t *testing.T, name string, got []byte) {
	t.Helper()
	path := filepath.Join("testdata", name)
	if *update {
		if err := os.WriteFile(path, got, 0o644); err != nil {
			t.Fatal(err)
		}
		return
	}
	want, err := os.ReadFile(path)
	if err != nil {
		t.Fatalf("%v (run go test ./internal/flame -run Golden -update)", err)
	}
	if !bytes.Equal(got, want) {
		t.Errorf("%s differs from the golden file; review the change, then rerun with -update.\ngot:\n%s", path, got)
	}
}

func TestGoldenSVG(t *testing.T) {
	tests := []struct {
		name   string
		render func(*bytes.Buffer) error
	}{
		{"flame.svg", func(b *bytes.Buffer) error {
			return RenderSVG(b, stacksOf(t, goldenBase), Options{Title: "uncached", Subtitle: "steady", Unit: "nanoseconds", Width: 600})
		}},
		{"diff-grown.svg", func(b *bytes.Buffer) error {
			return RenderDiffSVG(b, stacksOf(t, goldenBase), stacksOf(t, goldenCand), Options{Title: "ttl vs uncached", Unit: "nanoseconds", Width: 600})
		}},
		{"static.svg", func(b *bytes.Buffer) error {
			return RenderSVG(b, stacksOf(t, goldenCand), Options{Title: "ttl", Width: 400, Static: true})
		}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			var b bytes.Buffer
			if err := tt.render(&b); err != nil {
				t.Fatal(err)
			}
			parseSVG(t, b.Bytes()) // well-formed, frames only in <g>
			checkGolden(t, tt.name, b.Bytes())
		})
	}
}

// TestSVGUnits is the mend for titles that said "samples" for a total in
// nanoseconds: values are shown in the profile's unit.
func TestSVGUnits(t *testing.T) {
	tests := []struct {
		unit      string
		total     int64
		wantTotal string
		wantTitle string
	}{
		{"", 4, "Total: 4 samples", "main (3 samples, 75.00%)"},
		{"count", 4, "Total: 4 samples", "main (3 samples, 75.00%)"},
		{"nanoseconds", 4_000_000_000, "Total: 4.00 s", "main (3.00 s, 75.00%)"},
		{"nanoseconds", 4_000_000, "Total: 4.00 ms", "main (3.00 ms, 75.00%)"},
		{"nanoseconds", 4_000, "Total: 4.00 µs", "main (3.00 µs, 75.00%)"},
		{"nanoseconds", 4, "Total: 4 ns", "main (3 ns, 75.00%)"},
		{"bytes", 4, "Total: 4 bytes", "main (3 bytes, 75.00%)"},
	}
	for _, tt := range tests {
		t.Run(tt.unit+"/"+tt.wantTotal, func(t *testing.T) {
			st := []Stack{{Frames: []string{"main"}, Value: tt.total / 4 * 3}, {Frames: []string{"gc"}, Value: tt.total / 4}}
			frames, texts := parseSVG(t, mustRender(t, st, Options{Unit: tt.unit}))
			if !slices.Contains(texts, tt.wantTotal) {
				t.Errorf("texts %q lack %q", texts, tt.wantTotal)
			}
			if !slices.ContainsFunc(frames, func(f svgFrame) bool { return f.title == tt.wantTitle }) {
				t.Errorf("no frame titled %q", tt.wantTitle)
			}
		})
	}
	var b bytes.Buffer
	if err := RenderDiffSVG(&b, stacksOf(t, "a 2000000\n"), stacksOf(t, "a 3000000000\n"), Options{Unit: "nanoseconds"}); err != nil {
		t.Fatal(err)
	}
	if _, texts := parseSVG(t, b.Bytes()); !slices.ContainsFunc(texts, func(s string) bool {
		return strings.Contains(s, "(base 2.00 ms, candidate 3.00 s)")
	}) {
		t.Errorf("diff header lacks units: %q", texts)
	}
}

func TestSampleUnit(t *testing.T) {
	p := buildProfile(t, cpuTypes, cpuSample(10e6, "main"))
	tests := []struct {
		index int
		want  string
	}{{-1, "nanoseconds"}, {0, "count"}, {1, "nanoseconds"}, {2, ""}}
	for _, tt := range tests {
		if got := SampleUnit(p, tt.index); got != tt.want {
			t.Errorf("SampleUnit(p, %d) = %q, want %q", tt.index, got, tt.want)
		}
	}
	if got := SampleUnit(nil, -1); got != "" {
		t.Errorf("SampleUnit(nil) = %q", got)
	}
}

// TestSVGScript checks the interactive parts: the script is present
// exactly once, fits in CDATA, and the controls it looks up exist; Static
// drops them.
func TestSVGScript(t *testing.T) {
	if strings.Contains(script, "]]>") {
		t.Fatal(`flame.js contains "]]>", which would end its CDATA section`)
	}
	st := stacksOf(t, goldenBase)
	for _, static := range []bool{false, true} {
		svg := string(mustRender(t, st, Options{Static: static}))
		for _, id := range []string{`id="reset"`, `id="clear"`, `id="search"`, `id="details"`, `id="matched"`, "<script", "var fg = {"} {
			if got, want := strings.Count(svg, id), map[bool]int{false: 1, true: 0}[static]; got != want {
				t.Errorf("static=%v: %s appears %d times, want %d", static, id, got, want)
			}
		}
	}
}

func TestWriteSpeedscope(t *testing.T) {
	tests := []struct {
		name, folded, unit, wantUnit string
		wantFrames                   []string
		wantSamples                  [][]int
		wantWeights                  []int64
	}{
		{"cpu", "main;a 30\nmain;b;a 20\ngc 5\n", "nanoseconds", "nanoseconds",
			[]string{"gc", "main", "a", "b"}, [][]int{{0}, {1, 2}, {1, 3, 2}}, []int64{5, 30, 20}},
		{"counts", "x 1\n", "count", "none", []string{"x"}, [][]int{{0}}, []int64{1}},
		{"empty", "", "", "none", []string{}, [][]int{}, []int64{}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			var b bytes.Buffer
			if err := WriteSpeedscope(&b, stacksOf(t, tt.folded), "prof "+tt.name, tt.unit); err != nil {
				t.Fatal(err)
			}
			var got speedscopeFile
			if err := json.Unmarshal(b.Bytes(), &got); err != nil {
				t.Fatalf("not JSON: %v\n%s", err, b.Bytes())
			}
			if got.Schema != "https://www.speedscope.app/file-format-schema.json" || len(got.Profiles) != 1 {
				t.Fatalf("schema %q, %d profiles", got.Schema, len(got.Profiles))
			}
			p := got.Profiles[0]
			var names []string
			for _, f := range got.Shared.Frames {
				names = append(names, f.Name)
			}
			var sum int64
			for _, w := range p.Weights {
				sum += w
			}
			switch {
			case p.Type != "sampled" || p.Unit != tt.wantUnit || p.Name != "prof "+tt.name:
				t.Errorf("profile type %q unit %q name %q", p.Type, p.Unit, p.Name)
			case !slices.Equal(names, tt.wantFrames) && len(names)+len(tt.wantFrames) > 0:
				t.Errorf("frames %q, want %q", names, tt.wantFrames)
			case !slices.EqualFunc(p.Samples, tt.wantSamples, slices.Equal[[]int]):
				t.Errorf("samples %v, want %v", p.Samples, tt.wantSamples)
			case !slices.Equal(p.Weights, tt.wantWeights):
				t.Errorf("weights %v, want %v", p.Weights, tt.wantWeights)
			case p.StartValue != 0 || p.EndValue != sum:
				t.Errorf("start %d end %d, want 0 and %d", p.StartValue, p.EndValue, sum)
			}
		})
	}
	var b bytes.Buffer
	if err := WriteSpeedscope(&b, stacksOf(t, goldenBase), "uncached", "nanoseconds"); err != nil {
		t.Fatal(err)
	}
	checkGolden(t, "uncached.speedscope.json", b.Bytes())
}

func TestCompactScript(t *testing.T) {
	tests := []struct{ in, want string }{
		{"  // comment\n  var a = 1; // kept: not a whole-line comment\n\n\tf();\n", "var a = 1; // kept: not a whole-line comment\nf();\n"},
		{"var s = \"  // inside a string\";\n", "var s = \"  // inside a string\";\n"},
		{"", ""},
	}
	for _, tt := range tests {
		if got := compactScript(tt.in); got != tt.want {
			t.Errorf("compactScript(%q) = %q, want %q", tt.in, got, tt.want)
		}
	}
}
