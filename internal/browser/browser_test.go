package browser_test

import (
	"bytes"
	"errors"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/authbench/authbench/internal/browser"
)

// png1x1 is a valid one-pixel PNG.
const png1x1 = "data:image/png;base64,iVBORw0KGgoAAAANSUhEUgAAAAEAAAABCAQAAAC1HAwCAAAAC0lEQVR42mNkYAAAAAYAAjCB0C8AAAAASUVORK5CYII="

func writeFile(t *testing.T, path, content string) {
	t.Helper()
	if err := os.WriteFile(path, []byte(content), 0o644); err != nil {
		t.Fatal(err)
	}
}

func page(body string) string {
	return "<!DOCTYPE html><html><head><meta charset=\"utf-8\"><title>t</title></head><body style=\"margin:0\">" + body + "</body></html>"
}

// TestCheck runs the checker on small pages with one fault each: every
// fault is reported, and a clean page has none.
func TestCheck(t *testing.T) {
	b := testBrowser(t)
	dir := t.TempDir()
	writeFile(t, filepath.Join(dir, "other.html"), page("other"))
	headline := `<table id="h"><tr><td>headline</td></tr></table>`
	tests := []struct {
		name  string
		body  string
		want  []string // substrings of the problems, in any order
		links int
		// minWidth is Checks.MinWidth.
		minWidth map[string]float64
	}{
		{"clean", headline + `<img alt="dot" src="` + png1x1 + `"><a href="other.html">o</a> <a href="other.html#x">o</a>` +
			`<a href="#sec">s</a> <a href="https://example.org/">web links are fine</a><h2 id="sec">s</h2>`, nil, 5, nil},
		{"console error", headline + `<script>console.error("boom")</script>`, []string{"console: error: boom"}, 0, nil},
		{"exception", headline + `<script>throw new Error("kaput")</script>`, []string{"kaput"}, 0, nil},
		{"image not decoded", headline + `<img alt="gone" src="missing.png">`, []string{`image not decoded: "gone" missing.png`, "broken local link: missing.png: no such file"}, 1, nil},
		{"broken image data", headline + `<img alt="junk" src="data:image/png;base64,AAAA">`, []string{`image not decoded: "junk"`}, 1, nil},
		{"lazy image below the fold", headline + `<div style="height:3000px"></div><img loading="lazy" alt="lazy" src="` + png1x1 + `">`, nil, 1, nil},
		{"missing file link", headline + `<a href="nope.html">n</a>`, []string{"broken local link: nope.html: no such file"}, 1, nil},
		{"missing anchor", headline + `<a href="#nowhere">n</a>`, []string{"broken local link: #nowhere: no element with id nowhere"}, 1, nil},
		{"external resource", headline + `<script src="http://127.0.0.1:9/x.js"></script>`, []string{"external resource (report is not self-contained): http://127.0.0.1:9/x.js"}, 1, nil},
		{"headline below the first screen", `<div style="height:900px"></div>` + headline, []string{"headline not inside the first screen"}, 0, nil},
		{"headline too wide", `<table id="h" style="width:2000px"><tr><td>x</td></tr></table>`, []string{"headline not inside the first screen"}, 0, nil},
		{"headline missing", `<p>no table</p>`, []string{"headline element not found"}, 0, nil},
		// A table with display: block and overflow-x: auto (as the report's
		// tables) keeps its box inside the viewport and scrolls inside.
		{"headline scrolls inside itself", `<table id="h" style="display:block;overflow-x:auto;max-width:100%"><tr><td><div style="width:1500px">wide</div></td></tr></table>`,
			[]string{"headline scrolls sideways: table#h content is"}, 0, nil},
		{"headline in a scrolling box", `<div class="wrap" style="overflow-x:auto;width:800px"><table id="h"><tr><td><div style="width:1200px">wide</div></td></tr></table></div>`,
			[]string{"headline scrolls sideways: div.wrap content is"}, 0, nil},
		{"page scrolls sideways", headline + `<div style="width:1500px">wide</div>`, []string{"headline scrolls sideways: the page is"}, 0, nil},
		{"headline fits 1366 px", `<table id="h" style="display:block;overflow-x:auto;max-width:100%"><tr><td><div style="width:1300px">fits</div></td></tr></table>`, nil, 0, nil},
		{"chart wide enough", headline + `<img class="chart" alt="c" src="` + png1x1 + `" style="width:640px">`, nil, 1, map[string]float64{"img.chart": 600}},
		{"chart too narrow", headline + `<img class="chart" alt="c" src="` + png1x1 + `" style="width:310px">`,
			[]string{"displayed too narrow: img.chart: 310 px wide, want at least 600"}, 1, map[string]float64{"img.chart": 600}},
		{"chart missing", headline, []string{"displayed too narrow: img.chart: no such element"}, 0, map[string]float64{"img.chart": 600}},
	}
	for i, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			path := filepath.Join(dir, strings.ReplaceAll(tt.name, " ", "-")+".html")
			writeFile(t, path, page(tt.body))
			f, err := b.Check(path, browser.Checks{Headline: "#h", MinWidth: tt.minWidth})
			if err != nil {
				t.Fatal(err)
			}
			problems := f.Problems()
			t.Logf("problems: %q", problems)
			for _, w := range tt.want {
				if !containsSub(problems, w) {
					t.Errorf("problems lack %q:\n%s", w, strings.Join(problems, "\n"))
				}
			}
			if tt.want == nil && len(problems) > 0 {
				t.Errorf("clean page has problems:\n%s", strings.Join(problems, "\n"))
			}
			if (f.Err() == nil) != (len(problems) == 0) {
				t.Errorf("Err() = %v with %d problems", f.Err(), len(problems))
			}
			if f.Links != tt.links {
				t.Errorf("checked %d links and resources, want %d", f.Links, tt.links)
			}
			if i == 0 {
				checkPNG(t, browser.DefaultScreenshotPath(path))
			}
		})
	}
	if _, err := b.Check(filepath.Join(dir, "absent.html"), browser.Checks{}); err == nil {
		t.Error("checking a missing file succeeded")
	}
}

func containsSub(list []string, sub string) bool {
	for _, s := range list {
		if strings.Contains(s, sub) {
			return true
		}
	}
	return false
}

func checkPNG(t *testing.T, path string) {
	t.Helper()
	data, err := os.ReadFile(path)
	if err != nil {
		t.Fatalf("screenshot: %v", err)
	}
	if !bytes.HasPrefix(data, []byte("\x89PNG\r\n\x1a\n")) {
		t.Errorf("screenshot %s is not a PNG", path)
	}
}

// TestFindChromium: a missing browser is an error that says how to
// install one, never a silent pass.
func TestFindChromium(t *testing.T) {
	t.Setenv(browser.ExecEnv, "")
	t.Setenv("PATH", t.TempDir())
	_, err := browser.FindChromium()
	if !errors.Is(err, browser.ErrNotFound) || !strings.Contains(err.Error(), "scripts/tools.sh chromium") {
		t.Errorf("err = %v, want the install hint", err)
	}
	t.Setenv(browser.ExecEnv, filepath.Join(t.TempDir(), "no-such-chromium"))
	if _, err := browser.FindChromium(); err == nil || !strings.Contains(err.Error(), browser.ExecEnv) {
		t.Errorf("err = %v, want one naming %s", err, browser.ExecEnv)
	}
}
