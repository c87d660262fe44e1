package flame

import (
	"bytes"
	"encoding/xml"
	"fmt"
	"io"
	"math"
	"regexp"
	"slices"
	"strconv"
	"strings"
	"testing"
)

// svgFrame is a frame as read back from a rendered SVG.
type svgFrame struct {
	title, fill, label string
	x, width           float64
}

// parseSVG checks that data is well-formed XML with an <svg> root and
// returns its frames (the <g> elements) and all other text.
func parseSVG(t *testing.T, data []byte) (frames []svgFrame, texts []string) {
	t.Helper()
	dec := xml.NewDecoder(bytes.NewReader(data))
	var stack []string
	var cur *svgFrame
	for {
		tok, err := dec.Token()
		if err == io.EOF {
			break
		}
		if err != nil {
			t.Fatalf("invalid XML: %v\n%s", err, data)
		}
		switch tok := tok.(type) {
		case xml.StartElement:
			if len(stack) == 0 && tok.Name.Local != "svg" {
				t.Fatalf("root element %q, want svg", tok.Name.Local)
			}
			stack = append(stack, tok.Name.Local)
			switch tok.Name.Local {
			case "g":
				cur = &svgFrame{}
			case "rect":
				if cur != nil {
					for _, a := range tok.Attr {
						switch a.Name.Local {
						case "x":
							cur.x, _ = strconv.ParseFloat(a.Value, 64)
						case "width":
							cur.width, _ = strconv.ParseFloat(a.Value, 64)
						case "fill":
							cur.fill = a.Value
						}
					}
				}
			}
		case xml.EndElement:
			stack = stack[:len(stack)-1]
			if tok.Name.Local == "g" {
				frames = append(frames, *cur)
				cur = nil
			}
		case xml.CharData:
			s := string(tok)
			switch {
			case len(stack) == 0:
			case cur != nil && stack[len(stack)-1] == "title":
				cur.title += s
			case cur != nil && stack[len(stack)-1] == "text":
				cur.label += s
			case stack[len(stack)-1] == "text":
				texts = append(texts, s)
			}
		}
	}
	return frames, texts
}

func mustRender(t *testing.T, stacks []Stack, o Options) []byte {
	t.Helper()
	var b bytes.Buffer
	if err := RenderSVG(&b, stacks, o); err != nil {
		t.Fatal(err)
	}
	return b.Bytes()
}

func stacksOf(t *testing.T, folded string) []Stack {
	t.Helper()
	s, err := ReadFolded(strings.NewReader(folded))
	if err != nil {
		t.Fatal(err)
	}
	return s
}

func TestRenderSVGEscaping(t *testing.T) {
	tests := []struct {
		name, frame, wantTitle string
	}{
		{"generics", "pkg.Map[...].Get", "pkg.Map[...].Get"},
		{"closure", "pkg.(*T).run.func1.2", "pkg.(*T).run.func1.2"},
		{"markup", `a<b>&c"d'e`, `a<b>&c"d'e`},
		{"cdata end", "x]]>y", "x]]>y"},
		{"non-ascii", "Ünïcødé.😀", "Ünïcødé.😀"},
		{"invalid utf8", "bad\xffname", "bad\uFFFDname"},
		{"control char", "ctl\x01x", "ctl\uFFFDx"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			st := []Stack{{Frames: []string{"main", tt.frame}, Value: 3}, {Frames: []string{"main"}, Value: 1}}
			frames, _ := parseSVG(t, mustRender(t, st, Options{Title: "<" + tt.frame + ">"}))
			want := tt.wantTitle + " (3 samples, 75.00%)"
			if !slices.ContainsFunc(frames, func(f svgFrame) bool { return f.title == want }) {
				t.Errorf("no frame titled %q in %+v", want, frames)
			}
		})
	}
}

func TestRenderSVGDeterministic(t *testing.T) {
	st := stacksOf(t, "main;a;b 5\nmain;c 7\nmain;a;d 2\nother 1\n")
	first := mustRender(t, st, Options{Title: "det"})
	reversed := slices.Clone(st)
	slices.Reverse(reversed)
	for i, in := range [][]Stack{st, reversed} {
		if got := mustRender(t, in, Options{Title: "det"}); !bytes.Equal(got, first) {
			t.Errorf("render %d differs from first render", i)
		}
	}
	// Colours depend on the name only.
	frames, _ := parseSVG(t, first)
	fills := map[string]string{}
	for _, f := range frames {
		name := f.title[:strings.LastIndex(f.title, " (")]
		fills[name] = f.fill
	}
	again, _ := parseSVG(t, mustRender(t, stacksOf(t, "x;c;a 9\n"), Options{}))
	for _, f := range again {
		name := f.title[:strings.LastIndex(f.title, " (")]
		if want, ok := fills[name]; ok && f.fill != want {
			t.Errorf("%s: fill %s, want %s", name, f.fill, want)
		}
	}
}

func TestWarmColour(t *testing.T) {
	re := regexp.MustCompile(`^rgb\((\d+),(\d+),(\d+)\)$`)
	for _, name := range []string{"", "main", "runtime.mallocgc", "a<b>", "😀"} {
		m := re.FindStringSubmatch(warmColour(name))
		if m == nil {
			t.Fatalf("%q: bad colour %q", name, warmColour(name))
		}
		r, _ := strconv.Atoi(m[1])
		g, _ := strconv.Atoi(m[2])
		b, _ := strconv.Atoi(m[3])
		if r < 205 || r > 255 || g > 230 || b > 55 {
			t.Errorf("%q: %s not in warm palette", name, m[0])
		}
	}
}

// TestRenderSVGPercentages checks that every frame's tooltip percentage and
// width equal its fraction of the total.
func TestRenderSVGPercentages(t *testing.T) {
	tests := []struct {
		name   string
		folded string
		want   map[string]float64 // frame name → inclusive fraction
	}{
		{"single", "main 7\n", map[string]float64{"all": 1, "main": 1}},
		{"shares", "main;a 1\nmain;b 2\nmain;b;c 3\nz 4\n", map[string]float64{
			"all": 1, "main": 0.6, "a": 0.1, "b": 0.5, "c": 0.3, "z": 0.4}},
		{"thirds", "p;q 1\np;r 1\ns 1\n", map[string]float64{"p": 2.0 / 3, "q": 1.0 / 3, "r": 1.0 / 3, "s": 1.0 / 3}},
	}
	pctRE := regexp.MustCompile(`^(.*) \((\d+) samples, ([0-9.]+)%\)$`)
	const width = 1000
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			frames, _ := parseSVG(t, mustRender(t, stacksOf(t, tt.folded), Options{Width: width}))
			seen := 0
			for _, f := range frames {
				m := pctRE.FindStringSubmatch(f.title)
				if m == nil {
					t.Fatalf("title %q does not match", f.title)
				}
				want, ok := tt.want[m[1]]
				if !ok {
					continue
				}
				seen++
				pct, _ := strconv.ParseFloat(m[3], 64)
				if math.Abs(pct-want*100) > 0.005 {
					t.Errorf("%s: title says %v%%, want %v", m[1], pct, want*100)
				}
				if inner := float64(width - 20); math.Abs(f.width-want*inner) > 0.01 {
					t.Errorf("%s: width %v, want %v", m[1], f.width, want*inner)
				}
			}
			if seen != len(tt.want) {
				t.Errorf("found %d of %d expected frames", seen, len(tt.want))
			}
		})
	}
}

func TestRenderSVGMinFraction(t *testing.T) {
	st := stacksOf(t, "main;big 9995\nmain;tiny;deeper 5\n") // tiny = 0.05 %
	tests := []struct {
		name      string
		min       float64
		wantTiny  bool
		wantTotal string
	}{
		{"default drops under 0.1%", 0, false, "Total: 10000 samples"},
		{"negative keeps all", -1, true, "Total: 10000 samples"},
		{"coarse drops more", 0.5, false, "Total: 10000 samples"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			frames, texts := parseSVG(t, mustRender(t, st, Options{MinFraction: tt.min}))
			has := func(name string) bool {
				return slices.ContainsFunc(frames, func(f svgFrame) bool { return strings.HasPrefix(f.title, name+" (") })
			}
			if has("tiny") != tt.wantTiny || has("deeper") != tt.wantTiny {
				t.Errorf("tiny shown = %v, want %v", has("tiny"), tt.wantTiny)
			}
			if !has("main") || !slices.Contains(texts, tt.wantTotal) {
				t.Errorf("missing main frame or %q in %v", tt.wantTotal, texts)
			}
		})
	}
}

func TestRenderSVGEmpty(t *testing.T) {
	for _, st := range [][]Stack{nil, {{Frames: []string{"a"}, Value: 0}}} {
		frames, texts := parseSVG(t, mustRender(t, st, Options{Title: "empty"}))
		if len(frames) != 0 || !slices.Contains(texts, "No samples") || !slices.Contains(texts, "empty") {
			t.Errorf("frames %v texts %v", frames, texts)
		}
	}
}

func TestRenderSVGLabels(t *testing.T) {
	long := strings.Repeat("x", 300)
	frames, _ := parseSVG(t, mustRender(t, []Stack{{Frames: []string{long}, Value: 1}}, Options{Width: 200}))
	for _, f := range frames {
		if f.label == "" || len(f.label)*7 > int(f.width) {
			t.Errorf("label %q does not fit width %v", f.label, f.width)
		}
	}
	if got := frames[1].label; !strings.HasSuffix(got, "..") {
		t.Errorf("truncated label %q lacks ..", got)
	}
}

func TestTruncate(t *testing.T) {
	tests := []struct {
		s    string
		n    int
		want string
	}{
		{"main", 10, "main"},
		{"main", 4, "main"},
		{"runtime.mallocgc", 6, "runt.."},
		{"üüüüü", 4, "üü.."},
		{"anything", 2, ""},
		{"anything", -5, ""},
	}
	for _, tt := range tests {
		if got := truncate(tt.s, tt.n); got != tt.want {
			t.Errorf("truncate(%q, %d) = %q, want %q", tt.s, tt.n, got, tt.want)
		}
	}
}

func TestRenderDiffSVG(t *testing.T) {
	base := stacksOf(t, "main;a 50\nmain;gone 50\n")            // total 100
	cand := stacksOf(t, "main;a 150\nmain;new 40\nmain;x 10\n") // total 200
	const width = 1020                                          // inner width 1000
	tests := []struct {
		dir  Direction
		want map[string]string // frame → title suffix, fill kind
		gone string
		w    map[string]float64
	}{
		{Grown, map[string]string{
			"all":  "(base 100.00%, candidate 100.00%, delta 0.00 pp) white",
			"a":    "(base 50.00%, candidate 75.00%, delta +25.00 pp) red",
			"new":  "(base 0.00%, candidate 20.00%, delta +20.00 pp) red",
			"x":    "(base 0.00%, candidate 5.00%, delta +5.00 pp) red",
			"main": "(base 100.00%, candidate 100.00%, delta 0.00 pp) white",
		}, "gone", map[string]float64{"a": 750, "new": 200}},
		{Shrunk, map[string]string{
			"a":    "(base 50.00%, candidate 75.00%, delta +25.00 pp) red",
			"gone": "(base 50.00%, candidate 0.00%, delta -50.00 pp) blue",
		}, "new", map[string]float64{"a": 500, "gone": 500}},
	}
	for _, tt := range tests {
		t.Run(fmt.Sprint(tt.dir), func(t *testing.T) {
			var buf bytes.Buffer
			if err := RenderDiffSVG(&buf, base, cand, Options{Width: width, Direction: tt.dir}); err != nil {
				t.Fatal(err)
			}
			var again bytes.Buffer
			RenderDiffSVG(&again, base, cand, Options{Width: width, Direction: tt.dir})
			if !bytes.Equal(buf.Bytes(), again.Bytes()) {
				t.Error("diff rendering not deterministic")
			}
			frames, _ := parseSVG(t, buf.Bytes())
			got := map[string]svgFrame{}
			for _, f := range frames {
				got[f.title[:strings.Index(f.title, " (")]] = f
			}
			if _, ok := got[tt.gone]; ok {
				t.Errorf("frame %q should not be drawn", tt.gone)
			}
			for name, want := range tt.want {
				f, ok := got[name]
				if !ok {
					t.Errorf("frame %q missing", name)
					continue
				}
				if s := f.title[len(name)+1:] + " " + fillKind(f.fill); s != want {
					t.Errorf("%s: %q, want %q", name, s, want)
				}
			}
			for name, w := range tt.w {
				if math.Abs(got[name].width-w) > 0.01 {
					t.Errorf("%s width %v, want %v", name, got[name].width, w)
				}
			}
		})
	}
	// The strongest change is the most saturated.
	var buf bytes.Buffer
	RenderDiffSVG(&buf, base, cand, Options{Direction: Shrunk})
	frames, _ := parseSVG(t, buf.Bytes())
	for _, f := range frames {
		if strings.HasPrefix(f.title, "gone ") && f.fill != "rgb(45,45,255)" {
			t.Errorf("largest shrink fill %s, want rgb(45,45,255)", f.fill)
		}
	}
}

func fillKind(fill string) string {
	var r, g, b int
	fmt.Sscanf(fill, "rgb(%d,%d,%d)", &r, &g, &b)
	switch {
	case r == 255 && g == 255 && b == 255:
		return "white"
	case r == 255 && g < 255:
		return "red"
	case b == 255 && r < 255:
		return "blue"
	}
	return "?" + fill
}

func TestRenderDiffSVGEmptySide(t *testing.T) {
	cand := stacksOf(t, "main 5\n")
	var buf bytes.Buffer
	if err := RenderDiffSVG(&buf, nil, cand, Options{Direction: Shrunk}); err != nil {
		t.Fatal(err)
	}
	frames, texts := parseSVG(t, buf.Bytes())
	if len(frames) != 0 || !slices.Contains(texts, "No samples in base") {
		t.Errorf("frames %v texts %v", frames, texts)
	}
}
