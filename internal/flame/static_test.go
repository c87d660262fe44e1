package flame

import (
	"bytes"
	"slices"
	"testing"
)

// TestStaticCopy: stripping an interactive graph leaves what a Static
// render has (same frames and texts, no script, style or controls), for
// plain and differential graphs; other SVG passes through unchanged.
func TestStaticCopy(t *testing.T) {
	for _, tc := range []struct {
		name   string
		render func(*bytes.Buffer, Options) error
	}{
		{"flame", func(b *bytes.Buffer, o Options) error { return RenderSVG(b, stacksOf(t, goldenBase), o) }},
		{"diff", func(b *bytes.Buffer, o Options) error {
			return RenderDiffSVG(b, stacksOf(t, goldenBase), stacksOf(t, goldenCand), o)
		}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			var live, static bytes.Buffer
			o := Options{Title: "t", Unit: "nanoseconds", Width: 600}
			if err := tc.render(&live, o); err != nil {
				t.Fatal(err)
			}
			o.Static = true
			if err := tc.render(&static, o); err != nil {
				t.Fatal(err)
			}
			got := StaticCopy(live.Bytes())
			for _, bad := range []string{"<script", "<style", `id="search"`, `id="reset"`, `id="details"`, "CDATA"} {
				if bytes.Contains(got, []byte(bad)) {
					t.Errorf("static copy still holds %q", bad)
				}
			}
			gf, gt := parseSVG(t, got)
			wf, wt := parseSVG(t, static.Bytes())
			if !slices.Equal(gf, wf) || !slices.Equal(gt, wt) {
				t.Errorf("static copy differs from a Static render:\nframes %v\nwant   %v\ntexts %q\nwant  %q", gf, wf, gt, wt)
			}
			if len(got) >= live.Len() {
				t.Errorf("static copy %d bytes, interactive %d", len(got), live.Len())
			}
		})
	}
	other := []byte(`<svg xmlns="http://www.w3.org/2000/svg"><rect width="1" height="1"/></svg>`)
	if got := StaticCopy(other); !bytes.Equal(got, other) {
		t.Errorf("foreign SVG changed: %s", got)
	}
}
