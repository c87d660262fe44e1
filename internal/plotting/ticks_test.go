package plotting

import (
	"slices"
	"strings"
	"testing"

	"gonum.org/v1/plot"
	"gonum.org/v1/plot/font"
	"gonum.org/v1/plot/text"
	"gonum.org/v1/plot/vg"
)

func TestFmtTicks(t *testing.T) {
	t.Parallel()
	tests := []struct {
		in   []float64
		want []string
	}{
		{[]float64{0.1, 0.2, 0.30000000000000004}, []string{"0.1", "0.2", "0.3"}},
		{[]float64{0, 0.5, 1, 1.5}, []string{"0", "0.5", "1.0", "1.5"}},
		{[]float64{0.7000000000000001, 0.6000000000000001}, []string{"0.7", "0.6"}},
		{[]float64{99, 100, 101}, []string{"99", "100", "101"}},
		{[]float64{0, 4000, 8000}, []string{"0", "4000", "8000"}},
		{[]float64{0, 5000, 10000, 15000}, []string{"0", "5k", "10k", "15k"}},
		{[]float64{10000, 12500}, []string{"10.0k", "12.5k"}},
		{[]float64{2e6, 1.2e7}, []string{"2M", "12M"}},
		{[]float64{-1000, 0, 1000}, []string{"−1000", "0", "1000"}},
		{[]float64{0.00025, 0.0005}, []string{"0.00025", "0.00050"}},
	}
	for _, tc := range tests {
		if got := fmtTicks(tc.in); !slices.Equal(got, tc.want) {
			t.Errorf("fmtTicks(%v) = %q, want %q", tc.in, got, tc.want)
		}
	}
}

// TestTickLabelsClean: no axis, linear or log, over ranges that produced
// float noise before, labels a tick with more than a few characters.
func TestTickLabelsClean(t *testing.T) {
	t.Parallel()
	for _, tc := range []struct {
		m      plot.Ticker
		lo, hi float64
	}{
		{numTicks{}, 0, 1.05}, {numTicks{}, 0.25, 0.75}, {numTicks{}, 99, 101}, {numTicks{}, -1800, 1200},
		{numTicks{}, 0, 21000}, {numTicks{}, 0, 3.3e-5},
		{logTicks{}, 0.23, 2.6}, {logTicks{}, 0.05, 97771}, {logTicks{}, 34, 3268}, {logTicks{}, 0.3, 0.7},
	} {
		var labels []string
		for _, tk := range tc.m.Ticks(tc.lo, tc.hi) {
			if tk.Label != "" {
				labels = append(labels, tk.Label)
			}
			if len(tk.Label) > 8 {
				t.Errorf("%T [%v, %v]: label %q", tc.m, tc.lo, tc.hi, tk.Label)
			}
		}
		if len(labels) < 2 {
			t.Errorf("%T [%v, %v]: labels %q, want at least two", tc.m, tc.lo, tc.hi, labels)
		}
	}
	var got []string
	for _, tk := range (logTicks{}).Ticks(0.05, 97771) {
		if tk.Label != "" {
			got = append(got, tk.Label)
		}
	}
	if want := []string{"0.1", "1", "10", "100", "1000", "10k"}; !slices.Equal(got, want) {
		t.Errorf("log ticks over six decades %q, want %q", got, want)
	}
}

func TestSpansDecades(t *testing.T) {
	t.Parallel()
	for _, tc := range []struct {
		vs   []float64
		want bool
	}{
		{[]float64{0.4, 2.4}, false},
		{[]float64{80, 1543}, false}, // 19×
		{[]float64{0.08, 3.2}, true}, // 40×
		{[]float64{0, 0.5, 100}, true},
		{nil, false},
	} {
		if got := spansDecades(tc.vs); got != tc.want {
			t.Errorf("spansDecades(%v) = %v", tc.vs, got)
		}
	}
}

func TestWrap(t *testing.T) {
	t.Parallel()
	st := text.Style{Font: font.From(plot.DefaultFont, 12), Handler: plot.DefaultTextHandler}
	w := vg.Points(300)
	for _, s := range []string{
		"Valid tickets rejected after key-touch-yesterday, attr_timeout 1 s — cluster",
		"Server CPU-seconds per 1000 requests — a-scenario-with-a-long-name/tokens=10000,gomaxprocs=2",
		"short",
	} {
		got := wrap(st, s, w)
		for _, line := range strings.Split(got, "\n") {
			if st.Width(line) > w {
				t.Errorf("wrap(%q): line %q wider than %v", s, line, w)
			}
		}
		if strings.Join(strings.Fields(got), " ") != s {
			t.Errorf("wrap(%q) = %q lost words", s, got)
		}
	}
	if got := wrap(st, "Server CPU share by hot-path bucket — steady/tokens=100", vg.Points(250)); !strings.HasPrefix(got, "Server CPU share by hot-path bucket\n— ") {
		t.Errorf("title not broken at its dash: %q", got)
	}
}

// TestPlaceLabels: labels of points that nearly coincide end up apart,
// off every marker and inside the area.
func TestPlaceLabels(t *testing.T) {
	t.Parallel()
	bounds := vg.Rectangle{Max: vg.Point{X: 400, Y: 300}}
	anchors := []vg.Point{{X: 200, Y: 150}, {X: 202, Y: 152}, {X: 204, Y: 149}, {X: 198, Y: 151}, {X: 395, Y: 295}, {X: 5, Y: 5}}
	sizes := make([]vg.Point, len(anchors))
	var markers []vg.Rectangle
	for i, a := range anchors {
		sizes[i] = vg.Point{X: 60, Y: 12}
		markers = append(markers, around(a, 4))
	}
	boxes, _ := placeLabels(anchors, sizes, markers, bounds, 4)
	for i, b := range boxes {
		if !within(b, bounds) {
			t.Errorf("label %d at %v leaves %v", i, b, bounds)
		}
		for _, m := range markers {
			if overlaps(b, m) {
				t.Errorf("label %d at %v covers the marker %v", i, b, m)
			}
		}
		for j := range i {
			if overlaps(b, boxes[j]) {
				t.Errorf("labels %d and %d overlap: %v, %v", i, j, b, boxes[j])
			}
		}
	}
}

func TestNotes(t *testing.T) {
	t.Parallel()
	if got := nOf([]int{3, 3}, "repeat"); got != "n = 3 repeats" {
		t.Errorf("nOf = %q", got)
	}
	if got := nOf([]int{1, 1}, "event"); got != "n = 1 event" {
		t.Errorf("nOf = %q", got)
	}
	if got := nOf([]int{2, 4}, "event"); got != "n = 2–4 events" {
		t.Errorf("nOf = %q", got)
	}
	if got := plural(1, "trial") + ", " + plural(0, "double rotation"); got != "1 trial, 0 double rotations" {
		t.Errorf("plural = %q", got)
	}
}
