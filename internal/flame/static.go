package flame

import (
	"bytes"
)

// StaticCopy returns svg, a graph written by RenderSVG or RenderDiffSVG,
// without its style, script and controls: what Options{Static: true} would
// have written, for embedding as an image (browsers run no script inside
// <img>, so the script is dead weight there and the controls would mislead).
// The frames, title and header are kept byte for byte. It works line by
// line on writeSVG's output; other SVG passes through unchanged.
func StaticCopy(svg []byte) []byte {
	out := make([]byte, 0, len(svg))
	var until []byte // the end marker of the block being dropped
	for line := range bytes.Lines(svg) {
		if until != nil {
			if bytes.Contains(line, until) {
				until = nil
			}
			continue
		}
		switch {
		case bytes.HasPrefix(line, []byte("<style>")):
			until = []byte("</style>")
		case bytes.HasPrefix(line, []byte("<script")):
			until = []byte("</script>")
		case isControl(line):
			continue
		default:
			out = append(out, line...)
			continue
		}
		if bytes.Contains(line, until) { // one-line block
			until = nil
		}
	}
	return out
}

// controlIDs are the ids of the text elements writeSVG adds for the script.
var controlIDs = [][]byte{[]byte(`<text id="reset"`), []byte(`<text id="clear"`), []byte(`<text id="search"`),
	[]byte(`<text id="details"`), []byte(`<text id="matched"`)}

func isControl(line []byte) bool {
	for _, p := range controlIDs {
		if bytes.HasPrefix(line, p) {
			return true
		}
	}
	return false
}
