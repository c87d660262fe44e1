package flame

import (
	"bufio"
	_ "embed"
	"encoding/xml"
	"fmt"
	"hash/fnv"
	"io"
	"math"
	"slices"
	"strconv"
	"strings"
	"unicode/utf8"

	"github.com/google/pprof/profile"
)

// Options controls SVG rendering; the zero value gives sensible defaults.
type Options struct {
	Title       string  // header text; defaults to "Flame Graph" or "Differential Flame Graph"
	Subtitle    string  // optional extra header line
	Width       int     // image width in pixels; default 1200
	FrameHeight int     // pixel height of one frame row; default 16
	FontSize    float64 // label font size in pixels; default 12
	// MinFraction drops frames narrower than this fraction of the total
	// (and their callees), which keeps files small and unreadable slivers
	// out. Zero means the default 0.001 (0.1 %); negative keeps all frames.
	MinFraction float64
	// Unit is the pprof unit of the stack values (SampleUnit gives it for
	// a profile): "nanoseconds" is shown as a duration, "count" or ""
	// as samples, anything else verbatim after the number.
	Unit      string
	Direction Direction // which profile sets widths in RenderDiffSVG
	// Static omits the script (zoom, search, hover details) and its
	// controls, for a graph that is only ever shown as an image.
	Static bool
}

// Direction selects which side of a differential flame graph sets the frame
// widths.
type Direction int

const (
	// Grown draws candidate widths, so frames new in the candidate are
	// visible; frames that vanished are absent.
	Grown Direction = iota
	// Shrunk draws base widths, so frames that vanished in the candidate are
	// visible; frames new in the candidate are absent.
	Shrunk
)

// String returns "grown" or "shrunk".
func (d Direction) String() string {
	if d == Shrunk {
		return "shrunk"
	}
	return "grown"
}

func (o Options) withDefaults(title string) Options {
	if o.Title == "" {
		o.Title = title
	}
	if o.Width <= 0 {
		o.Width = 1200
	}
	if o.FrameHeight <= 0 {
		o.FrameHeight = 16
	}
	if o.FontSize <= 0 {
		o.FontSize = 12
	}
	if o.MinFraction == 0 {
		o.MinFraction = 0.001
	}
	return o
}

// SampleUnit returns the unit of p's sample value at sampleIndex (a
// negative index means DefaultSampleIndex(p)), or "" if there is none.
// Go CPU profiles fold to "nanoseconds" by default.
func SampleUnit(p *profile.Profile, sampleIndex int) string {
	if p == nil {
		return ""
	}
	if sampleIndex < 0 {
		sampleIndex = DefaultSampleIndex(p)
	}
	if sampleIndex < 0 || sampleIndex >= len(p.SampleType) {
		return ""
	}
	return p.SampleType[sampleIndex].Unit
}

// formatValue renders a stack value in its unit: CPU time as a duration,
// counts as samples.
func formatValue(v int64, unit string) string {
	switch unit {
	case "", "count", "samples":
		return strconv.FormatInt(v, 10) + " samples"
	case "nanoseconds":
		f := float64(v)
		switch a := math.Abs(f); {
		case a >= 1e9:
			return fmtFloat(f/1e9) + " s"
		case a >= 1e6:
			return fmtFloat(f/1e6) + " ms"
		case a >= 1e3:
			return fmtFloat(f/1e3) + " µs"
		}
		return strconv.FormatInt(v, 10) + " ns"
	}
	return strconv.FormatInt(v, 10) + " " + unit
}

// node is a frame in the merged call tree; val[i] is the inclusive value of
// the i-th stack set (base and candidate for diffs).
type node struct {
	name string
	val  [2]int64
	kids map[string]*node
}

// buildTree merges up to two stack sets into one call tree under a synthetic
// "all" root. Stacks with non-positive values are ignored.
func buildTree(sets ...[]Stack) *node {
	root := &node{name: "all"}
	for i, stacks := range sets {
		for _, s := range stacks {
			if s.Value <= 0 {
				continue
			}
			n := root
			n.val[i] += s.Value
			for _, f := range s.Frames {
				k := n.kids[f]
				if k == nil {
					if n.kids == nil {
						n.kids = make(map[string]*node)
					}
					k = &node{name: f}
					n.kids[f] = k
				}
				k.val[i] += s.Value
				n = k
			}
		}
	}
	return root
}

// sortedKids orders callees by name, as flamegraph.pl does, so the layout is
// deterministic and comparable between graphs.
func (n *node) sortedKids() []*node {
	kids := make([]*node, 0, len(n.kids))
	for _, k := range n.kids {
		kids = append(kids, k)
	}
	slices.SortFunc(kids, func(a, b *node) int { return strings.Compare(a.name, b.name) })
	return kids
}

// placed is a frame to draw; x and w are fractions of the image width.
type placed struct {
	n     *node
	x, w  float64
	depth int
}

// layout places the tree's frames, widths given by frac. Callees start at
// their caller's left edge in name order; a dropped frame still takes its
// room so the remaining frames keep their true position.
func layout(root *node, frac func(*node) float64, minFrac float64) []placed {
	var out []placed
	var walk func(n *node, depth int, x float64)
	walk = func(n *node, depth int, x float64) {
		w := frac(n)
		if w <= 0 || (depth > 0 && w < minFrac) {
			return
		}
		out = append(out, placed{n: n, x: x, w: w, depth: depth})
		for _, k := range n.sortedKids() {
			walk(k, depth+1, x)
			x += frac(k)
		}
	}
	walk(root, 0, 0)
	return out
}

// RenderSVG writes a flame graph of stacks: the root at the bottom, one
// rectangle per frame with width proportional to its inclusive value, a
// tooltip "name (value, pct%)" with the value in opts.Unit, a truncated
// label and a colour derived deterministically from the function name.
// Unless opts.Static, the inline script adds zoom, search and hover
// details (see the package doc). Identical input yields identical bytes.
func RenderSVG(w io.Writer, stacks []Stack, opts Options) error {
	o := opts.withDefaults("Flame Graph")
	root := buildTree(stacks)
	total := root.val[0]
	header := []string{"Total: " + formatValue(total, o.Unit)}
	var frames []placed
	if total > 0 {
		frames = layout(root, func(n *node) float64 { return float64(n.val[0]) / float64(total) }, o.MinFraction)
	} else {
		header[0] = "No samples"
	}
	style := func(p placed) (string, string) {
		title := fmt.Sprintf("%s (%s, %s%%)", p.n.name, formatValue(p.n.val[0], o.Unit), fmtFloat(p.w*100))
		return title, warmColour(p.n.name)
	}
	return writeSVG(w, o, header, frames, style)
}

// RenderDiffSVG writes a differential flame graph comparing cand with base,
// in the style of Brendan Gregg's difffolded. Both profiles are normalised
// to fractions of their own totals, so runs of different lengths compare.
// opts.Direction selects the widths: Grown uses the candidate's, Shrunk the
// base's. Frames are coloured by the change of their inclusive fraction:
// red where it grew, blue where it shrank, white where unchanged, with
// intensity relative to the largest change shown. Tooltips show both
// percentages and the delta in percentage points.
func RenderDiffSVG(w io.Writer, base, cand []Stack, opts Options) error {
	o := opts.withDefaults("Differential Flame Graph")
	root := buildTree(base, cand)
	bt, ct := root.val[0], root.val[1]
	fr := func(n *node, i int) float64 {
		t := root.val[i]
		if t == 0 {
			return 0
		}
		return float64(n.val[i]) / float64(t)
	}
	side, widthFrom := 1, "candidate"
	if o.Direction == Shrunk {
		side, widthFrom = 0, "base"
	}
	header := []string{fmt.Sprintf("Widths: %s. Red: grew, blue: shrank (base %s, candidate %s)",
		widthFrom, formatValue(bt, o.Unit), formatValue(ct, o.Unit))}
	var frames []placed
	if root.val[side] > 0 {
		frames = layout(root, func(n *node) float64 { return fr(n, side) }, o.MinFraction)
	} else {
		header = append(header, "No samples in "+widthFrom)
	}
	maxDelta := 0.0
	for _, p := range frames {
		maxDelta = max(maxDelta, math.Abs(fr(p.n, 1)-fr(p.n, 0)))
	}
	style := func(p placed) (string, string) {
		b, c := fr(p.n, 0), fr(p.n, 1)
		d := c - b
		title := fmt.Sprintf("%s (base %s%%, candidate %s%%, delta %s pp)",
			p.n.name, fmtFloat(b*100), fmtFloat(c*100), fmtDelta(d*100))
		return title, diffColour(d, maxDelta)
	}
	return writeSVG(w, o, header, frames, style)
}

// script is the interactive part of every non-static graph: zoom, reset,
// search and hover details (flamegraph.pl's feature set).
//
//go:embed flame.js
var scriptSource string

// script is flame.js without its comment lines and indentation: every
// graph carries it, and reports hold many graphs.
var script = compactScript(scriptSource)

// compactScript drops whole-line // comments, blank lines and leading
// whitespace; it never touches the inside of a line, so strings and
// regular expressions stay intact.
func compactScript(src string) string {
	var b strings.Builder
	for line := range strings.Lines(src) {
		line = strings.TrimLeft(line, " \t")
		if t := strings.TrimSpace(line); t == "" || strings.HasPrefix(t, "//") {
			continue
		}
		b.WriteString(line)
	}
	return b.String()
}

// style makes frames look clickable and marks the hovered one.
const style = `g{cursor:pointer}g:hover rect{stroke:#000;stroke-width:0.5}.btn{cursor:pointer;fill:#333}`

// pad is the margin around the frames, in pixels.
const pad = 10.0

// writeSVG emits the document. style returns a frame's tooltip and fill.
// Frames are the document's only <g> elements; the script relies on it.
func writeSVG(w io.Writer, o Options, header []string, frames []placed, style func(placed) (title, fill string)) error {
	if o.Subtitle != "" {
		header = append([]string{o.Subtitle}, header...)
	}
	maxDepth := -1
	for _, p := range frames {
		maxDepth = max(maxDepth, p.depth)
	}
	fh := float64(o.FrameHeight)
	top := 34 + 18*float64(len(header))
	height := top + fh*float64(maxDepth+1) + pad
	if !o.Static {
		height += 18 // the details line
	}
	width := float64(o.Width)
	inner := width - 2*pad
	charW := o.FontSize * 0.6 // rough average glyph width of Verdana-like fonts

	bw := bufio.NewWriter(w)
	fmt.Fprintf(bw, `<?xml version="1.0" encoding="UTF-8" standalone="no"?>`+"\n")
	fmt.Fprintf(bw, `<svg xmlns="http://www.w3.org/2000/svg" version="1.1" width="%d" height="%s" viewBox="0 0 %d %s" font-family="Verdana, sans-serif" font-size="%s">`+"\n",
		o.Width, fmtFloat(height), o.Width, fmtFloat(height), fmtFloat(o.FontSize))
	if !o.Static {
		writeScript(bw, inner, fh, charW)
	}
	fmt.Fprintf(bw, `<rect x="0" y="0" width="%d" height="%s" fill="#eeeeee"/>`+"\n", o.Width, fmtFloat(height))
	fmt.Fprintf(bw, `<text x="%s" y="24" text-anchor="middle" font-size="17">%s</text>`+"\n", fmtFloat(width/2), escape(o.Title))
	for i, h := range header {
		fmt.Fprintf(bw, `<text x="%s" y="%s" text-anchor="middle" fill="#555555">%s</text>`+"\n",
			fmtFloat(width/2), fmtFloat(44+18*float64(i)), escape(h))
	}
	if !o.Static {
		// Reset and Clear stay invisible until there is a zoom or search
		// to undo.
		fmt.Fprintf(bw, `<text id="reset" class="btn" x="%s" y="24" opacity="0">Reset Zoom</text>`+"\n", fmtFloat(pad))
		fmt.Fprintf(bw, `<text id="clear" class="btn" x="%s" y="24" text-anchor="end" opacity="0">Clear</text>`+"\n", fmtFloat(width-pad-60))
		fmt.Fprintf(bw, `<text id="search" class="btn" x="%s" y="24" text-anchor="end">Search</text>`+"\n", fmtFloat(width-pad))
		fmt.Fprintf(bw, `<text id="details" x="%s" y="%s"> </text>`+"\n", fmtFloat(pad), fmtFloat(height-8))
		fmt.Fprintf(bw, `<text id="matched" x="%s" y="%s" text-anchor="end"> </text>`+"\n", fmtFloat(width-pad), fmtFloat(height-8))
	}
	for _, p := range frames {
		title, fill := style(p)
		x := pad + p.x*inner
		wpx := p.w * inner
		y := top + fh*float64(maxDepth-p.depth)
		fmt.Fprintf(bw, `<g><title>%s</title><rect x="%s" y="%s" width="%s" height="%s" fill="%s" rx="2"/>`,
			escape(title), fmtFloat(x), fmtFloat(y), fmtFloat(wpx), fmtFloat(fh-1), fill)
		if label := truncate(p.n.name, int((wpx-6)/charW)); label != "" {
			fmt.Fprintf(bw, `<text x="%s" y="%s">%s</text>`, fmtFloat(x+3), fmtFloat(y+fh-4.5), escape(label))
		}
		bw.WriteString("</g>\n")
	}
	bw.WriteString("</svg>\n")
	if err := bw.Flush(); err != nil {
		return fmt.Errorf("write flame graph svg: %w", err)
	}
	return nil
}

// writeScript emits the style and the script with the geometry it needs.
// The script text never contains "]]>" (a test checks), so CDATA holds it.
func writeScript(bw *bufio.Writer, inner, fh, charW float64) {
	fmt.Fprintf(bw, "<style>%s</style>\n", style)
	fmt.Fprintf(bw, "<script type=\"text/ecmascript\"><![CDATA[\nvar fg = {pad: %s, inner: %s, fh: %s, charW: %s};\n%s]]></script>\n",
		fmtFloat(pad), fmtFloat(inner), fmtFloat(fh), fmtFloat(charW), script)
}

// truncate shortens s to at most n runes, marking the cut with "..", and
// returns "" when fewer than three characters would fit.
func truncate(s string, n int) string {
	if n < 3 {
		return ""
	}
	if utf8.RuneCountInString(s) <= n {
		return s
	}
	r := []rune(s)
	return string(r[:n-2]) + ".."
}

// escape makes s safe as XML text or attribute content; invalid UTF-8 and
// characters XML forbids become U+FFFD.
func escape(s string) string {
	var b strings.Builder
	_ = xml.EscapeText(&b, []byte(s)) // strings.Builder never fails
	return b.String()
}

func fmtFloat(v float64) string { return strconv.FormatFloat(v, 'f', 2, 64) }

// fmtDelta formats a signed percentage-point change, avoiding "-0.00".
func fmtDelta(v float64) string {
	if math.Abs(v) < 0.005 {
		return "0.00"
	}
	return fmt.Sprintf("%+.2f", v)
}

// warmColour maps a name to a stable colour of flamegraph.pl's "hot"
// palette (reds, oranges, yellows).
func warmColour(name string) string {
	h := fnv.New32a()
	h.Write([]byte(name))
	v := h.Sum32()
	c1, c2, c3 := float64(v&0xff)/255, float64(v>>8&0xff)/255, float64(v>>16&0xff)/255
	return fmt.Sprintf("rgb(%d,%d,%d)", 205+int(50*c3), int(230*c1), int(55*c2))
}

// diffColour shades red for growth and blue for shrinkage, scaled by the
// largest absolute change so the strongest change is the most saturated.
func diffColour(delta, maxDelta float64) string {
	k := 0
	if maxDelta > 0 {
		k = int(math.Round(210 * math.Abs(delta) / maxDelta))
	}
	if delta > 0 {
		return fmt.Sprintf("rgb(255,%d,%d)", 255-k, 255-k)
	}
	return fmt.Sprintf("rgb(%d,%d,255)", 255-k, 255-k)
}
