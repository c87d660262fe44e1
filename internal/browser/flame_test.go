package browser_test

import (
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/authbench/authbench/internal/browser"
	"github.com/authbench/authbench/internal/flame"
)

// Stacks of an uncached-like and a cached-like profile, in nanoseconds.
const (
	baseFolded = "main;serve;auth.Verify;cryptpw.Verify;sha512.block 7000\n" +
		"main;serve;auth.Verify;impl.readShadow;os.ReadFile 1500\n" +
		"main;serve;handler.version 500\n" +
		"runtime.gcBgMarkWorker 1000\n"
	candFolded = "main;serve;auth.Verify;cache.lookup 800\n" +
		"main;serve;auth.Verify;os.Stat 200\n" +
		"main;serve;handler.version 2500\n" +
		"runtime.gcBgMarkWorker 500\n"
)

func stacks(t *testing.T, folded string) []flame.Stack {
	t.Helper()
	s, err := flame.ReadFolded(strings.NewReader(folded))
	if err != nil {
		t.Fatal(err)
	}
	return s
}

// frameJS evaluates to the frame named %q: its rect's box in viewport
// pixels, its width attribute and whether it is displayed.
const frameJS = `(() => {
  for (const g of document.getElementsByTagName("g")) {
    const t = g.getElementsByTagName("title")[0].textContent;
    if (t.slice(0, t.lastIndexOf(" (")) !== %q) { continue; }
    const r = g.getElementsByTagName("rect")[0];
    const b = r.getBoundingClientRect();
    return {x: b.left + b.width / 2, y: b.top + b.height / 2,
      width: parseFloat(r.getAttribute("width")), shown: g.style.display !== "none"};
  }
  return null;
})()`

type frameInfo struct {
	X     float64 `json:"x"`
	Y     float64 `json:"y"`
	Width float64 `json:"width"`
	Shown bool    `json:"shown"`
}

func frame(t *testing.T, p *browser.Page, name string) frameInfo {
	t.Helper()
	f, err := browser.Eval[*frameInfo](p, fmt.Sprintf(frameJS, name))
	if err != nil {
		t.Fatal(err)
	}
	if f == nil {
		t.Fatalf("no frame %q", name)
	}
	return *f
}

func eval[T any](t *testing.T, p *browser.Page, js string) T {
	t.Helper()
	v, err := browser.Eval[T](p, js)
	if err != nil {
		t.Fatal(err)
	}
	return v
}

const (
	matchCount = `document.querySelectorAll("g.match").length`
	matchedJS  = `document.getElementById("matched").textContent`
	detailsJS  = `document.getElementById("details").textContent`
)

// TestFlameGraphInteractive opens rendered flame graphs from disk and
// uses them as a person would: click a frame to zoom, hover, reset,
// search through the Search button and through the URL.
func TestFlameGraphInteractive(t *testing.T) {
	b := testBrowser(t)
	dir := t.TempDir()
	const width = 1200
	const inner = width - 20
	graphs := []struct {
		name   string
		render func(*os.File) error
		zoom   string  // frame to click
		hidden string  // a frame outside the zoomed subtree
		search string  // term typed into Search
		hits   int     // frames it highlights
		share  float64 // their share of the total, in per cent
	}{
		{"flame.svg", func(f *os.File) error {
			return flame.RenderSVG(f, stacks(t, baseFolded), flame.Options{Title: "uncached", Unit: "nanoseconds", Width: width})
		}, "auth.Verify", "handler.version", "Verify", 2, 85},
		{"diff.svg", func(f *os.File) error {
			return flame.RenderDiffSVG(f, stacks(t, baseFolded), stacks(t, candFolded), flame.Options{Unit: "nanoseconds", Width: width})
		}, "auth.Verify", "runtime.gcBgMarkWorker", `^(os|cache)\.`, 2, 25},
	}
	for _, g := range graphs {
		t.Run(g.name, func(t *testing.T) {
			path := filepath.Join(dir, g.name)
			f, err := os.Create(path)
			if err != nil {
				t.Fatal(err)
			}
			if err := g.render(f); err != nil {
				t.Fatal(err)
			}
			if err := f.Close(); err != nil {
				t.Fatal(err)
			}
			p, err := b.Open(path, 0, 0, "")
			if err != nil {
				t.Fatal(err)
			}
			defer p.Close()

			// Zoom: a real click on the frame makes it fill the width and
			// hides frames outside its subtree.
			before := frame(t, p, g.zoom)
			if before.Width >= inner || !frame(t, p, g.hidden).Shown {
				t.Fatalf("unexpected start: %+v", before)
			}
			if err := p.ClickXY(before.X, before.Y); err != nil {
				t.Fatal(err)
			}
			after := frame(t, p, g.zoom)
			if after.Width != inner {
				t.Errorf("zoomed frame width %v, want %v", after.Width, inner)
			}
			if frame(t, p, g.hidden).Shown {
				t.Errorf("%s still shown after zooming into %s", g.hidden, g.zoom)
			}
			if got := eval[string](t, p, `document.documentElement.getAttribute("data-zoomed")`); got != g.zoom {
				t.Errorf("data-zoomed = %q", got)
			}
			if all := frame(t, p, "all"); all.Width != inner {
				t.Errorf("ancestor 'all' width %v, want the full %v", all.Width, inner)
			}

			// Hover shows the frame's share of the total and of the zoom.
			child := frame(t, p, "main")
			if err := p.HoverXY(child.X, child.Y); err != nil {
				t.Fatal(err)
			}
			if d := eval[string](t, p, detailsJS); !strings.HasPrefix(d, "main (") || !strings.Contains(d, "%") {
				t.Errorf("details on hover = %q", d)
			}

			// Reset restores the layout.
			if err := p.Click("#reset"); err != nil {
				t.Fatal(err)
			}
			if got := frame(t, p, g.zoom); got.Width != before.Width || !frame(t, p, g.hidden).Shown {
				t.Errorf("after reset: %+v, want width %v and %s shown", got, before.Width, g.hidden)
			}

			// Search through the button (the prompt answered in advance).
			if _, err := browser.Eval[bool](p, fmt.Sprintf(`(window.prompt = () => %q, true)`, g.search)); err != nil {
				t.Fatal(err)
			}
			if err := p.Click("#search"); err != nil {
				t.Fatal(err)
			}
			if n := eval[int](t, p, matchCount); n != g.hits {
				t.Errorf("search %q highlighted %d frames, want %d", g.search, n, g.hits)
			}
			want := fmt.Sprintf("Matched: %.2f%% (%d frames)", g.share, g.hits)
			if got := eval[string](t, p, matchedJS); got != want {
				t.Errorf("matched = %q, want %q", got, want)
			}
			if err := p.Click("#clear"); err != nil {
				t.Fatal(err)
			}
			if n := eval[int](t, p, matchCount); n != 0 {
				t.Errorf("%d frames still highlighted after Clear", n)
			}
			if errs := p.Errors(); len(errs) > 0 {
				t.Errorf("console errors: %q", errs)
			}
		})
	}

	// A search given in the URL runs on load; a term that is not a valid
	// regexp is matched as a substring; nested matches count once.
	path := filepath.Join(dir, "flame.svg")
	for _, tt := range []struct {
		fragment string
		hits     int
		want     string
	}{
		{"s=cryptpw", 1, "Matched: 70.00% (1 frames)"},
		{"s=" + "%28", 0, "Matched: 0.00% (0 frames)"}, // "(" is no regexp
		{"s=e", 7, "Matched: 100.00% (7 frames)"},      // serve and gc cover it all
	} {
		t.Run(tt.fragment, func(t *testing.T) {
			p, err := b.Open(path, 0, 0, tt.fragment)
			if err != nil {
				t.Fatal(err)
			}
			defer p.Close()
			if n := eval[int](t, p, matchCount); n != tt.hits {
				t.Errorf("%d frames highlighted, want %d", n, tt.hits)
			}
			if got := eval[string](t, p, matchedJS); got != tt.want {
				t.Errorf("matched = %q, want %q", got, tt.want)
			}
		})
	}

	// The checker passes on a flame graph too, and leaves its screenshot.
	f, err := b.Check(path, browser.Checks{})
	if err != nil {
		t.Fatal(err)
	}
	if err := f.Err(); err != nil {
		t.Errorf("flame graph check: %v", err)
	}
	checkPNG(t, f.Screenshot)
}
