package browser

import (
	"context"
	"errors"
	"fmt"
	"net/url"
	"os"
	"path/filepath"
	"strings"

	"github.com/authbench/authbench/internal/report"
)

// ReportFindings is what CheckReport saw: the page checks of index.html
// and the interactive check of one flame graph it links.
type ReportFindings struct {
	Page *Findings
	// Flame is the flame graph file opened (absolute path), "" if the
	// report links none.
	Flame string
	// FlameProblems are the failed assertions on that graph.
	FlameProblems []string
}

// Problems lists every failed assertion, one line each.
func (r *ReportFindings) Problems() []string {
	var out []string
	if r.Page != nil {
		out = append(out, r.Page.Problems()...)
	}
	if r.Flame == "" {
		out = append(out, "the report links no flame graph, so zoom and search were not checked")
	}
	for _, p := range r.FlameProblems {
		out = append(out, "flame graph "+filepath.Base(r.Flame)+": "+p)
	}
	return out
}

// Err returns nil if nothing failed, else one error listing the problems.
func (r *ReportFindings) Err() error {
	if p := r.Problems(); len(p) > 0 {
		return errors.New(strings.Join(p, "\n"))
	}
	return nil
}

// ReportChecks are the page checks CheckReport runs on index.html: the
// headline table and the trade-off chart both inside the first screen at
// 1366×768, the chart at least report.TradeOffMinWidth wide, the headline table not scrolling sideways (the report's
// tables scroll inside themselves, so their box alone would not show it),
// the screenshot beside the report.
func ReportChecks() Checks {
	return Checks{
		Headline:    "#" + report.HeadlineID,
		FirstScreen: []string{"img." + report.TradeOffClass},
		MinWidth:    map[string]float64{"img." + report.TradeOffClass: report.TradeOffMinWidth},
	}
}

// CheckReport starts a browser and runs (*Browser).CheckReport on the
// report directory dir. The error is for failures to check at all (no
// browser, no index.html); failed assertions are in the findings.
func CheckReport(ctx context.Context, dir string) (*ReportFindings, error) {
	exe, err := FindChromium()
	if err != nil {
		return nil, err
	}
	profile, err := os.MkdirTemp("", "authbench-chromium-")
	if err != nil {
		return nil, fmt.Errorf("browser profile dir: %w", err)
	}
	defer os.RemoveAll(profile)
	b, err := Start(ctx, Options{ExecPath: exe, UserDataDir: profile})
	if err != nil {
		return nil, err
	}
	defer b.Close()
	return b.CheckReport(dir)
}

// CheckReport opens dir/index.html from disk and runs ReportChecks (console
// errors, images decoded, local links resolving, nothing from the
// network, headline and trade-off chart in the first screen, a full-page
// screenshot saved as index.screenshot.png beside it), then opens the
// first flame graph the report links and uses it: a click on a frame must
// zoom into it, a search through the Search button must highlight
// matching frames and show their share.
func (b *Browser) CheckReport(dir string) (*ReportFindings, error) {
	index := filepath.Join(dir, report.HTMLFile)
	p, err := b.Open(index, 0, 0, "")
	if err != nil {
		return nil, err
	}
	defer p.Close()
	page, err := p.Check(ReportChecks())
	if err != nil {
		return nil, err
	}
	out := &ReportFindings{Page: page}
	href, err := Eval[string](p, firstFlameJS)
	if err != nil {
		return nil, fmt.Errorf("find a flame graph link: %w", err)
	}
	if href == "" {
		return out, nil
	}
	u, err := url.Parse(href)
	if err != nil || u.Scheme != "file" {
		out.Flame = href
		out.FlameProblems = append(out.FlameProblems, "link is not a local file")
		return out, nil
	}
	out.Flame = u.Path
	probs, err := b.CheckFlame(u.Path)
	if err != nil {
		return nil, err
	}
	out.FlameProblems = probs
	return out, nil
}

// firstFlameJS returns the resolved URL of the first link to a flame graph
// file (an .svg under flamegraphs/, without a fragment), or "".
const firstFlameJS = `(() => {
  for (const a of document.querySelectorAll("a[href]")) {
    const raw = a.getAttribute("href");
    if (raw.includes("flamegraphs/") && raw.endsWith(".svg")) { return new URL(raw, document.baseURI).href; }
  }
  return "";
})()`

// pickFrameJS scrolls to a visible frame that can be zoomed (narrower than
// the graph, wide enough to click) and returns its index among the <g>
// elements, name, centre and width.
const pickFrameJS = `(() => {
  if (typeof fg === "undefined") { return null; }
  const gs = Array.from(document.getElementsByTagName("g"));
  let best = -1, bw = 0;
  for (let i = 0; i < gs.length; i++) {
    const r = gs[i].getElementsByTagName("rect")[0];
    if (!r || gs[i].style.display === "none") { continue; }
    const w = r.getBoundingClientRect().width;
    if (w >= 12 && w < 0.9 * fg.inner && w > bw) { best = i; bw = w; }
  }
  if (best < 0) { return null; }
  const g = gs[best], r = g.getElementsByTagName("rect")[0];
  r.scrollIntoView({block: "center", inline: "center"});
  const b = r.getBoundingClientRect();
  const t = g.getElementsByTagName("title")[0].textContent;
  return {index: best, name: t.slice(0, t.lastIndexOf(" (")), x: b.left + b.width / 2, y: b.top + b.height / 2,
    width: parseFloat(r.getAttribute("width"))};
})()`

type pickedFrame struct {
	Index int     `json:"index"`
	Name  string  `json:"name"`
	X     float64 `json:"x"`
	Y     float64 `json:"y"`
	Width float64 `json:"width"`
}

// zoomStateJS reports the width of frame %d and the zoomed frame's name.
const zoomStateJS = `(() => {
  const r = document.getElementsByTagName("g")[%d].getElementsByTagName("rect")[0];
  return {width: parseFloat(r.getAttribute("width")), zoomed: document.documentElement.getAttribute("data-zoomed") || ""};
})()`

type zoomState struct {
	Width  float64 `json:"width"`
	Zoomed string  `json:"zoomed"`
}

// searchStateJS counts highlighted frames and reads the share line.
const searchStateJS = `({matches: document.querySelectorAll("g.match").length,
  matched: (document.getElementById("matched") || {}).textContent || ""})`

type searchState struct {
	Matches int    `json:"matches"`
	Matched string `json:"matched"`
}

// CheckFlame opens the flame graph at path and uses it as a person would:
// click a frame (it must then fill more of the width and be the zoomed
// one), then search for that frame's name through the Search button
// (it must highlight at least one frame and show a "Matched:" share), and
// no console errors. It returns the failed assertions.
func (b *Browser) CheckFlame(path string) ([]string, error) {
	p, err := b.Open(path, 0, 0, "")
	if err != nil {
		return nil, err
	}
	defer p.Close()
	var probs []string
	f, err := Eval[*pickedFrame](p, pickFrameJS)
	if err != nil {
		return nil, fmt.Errorf("flame graph %s: %w", path, err)
	}
	if f == nil {
		return []string{"no frame narrow enough to zoom into (or no script)"}, nil
	}
	if err := p.ClickXY(f.X, f.Y); err != nil {
		return nil, err
	}
	z, err := Eval[zoomState](p, fmt.Sprintf(zoomStateJS, f.Index))
	if err != nil {
		return nil, err
	}
	if z.Width <= f.Width || z.Zoomed != f.Name {
		probs = append(probs, fmt.Sprintf("click on %q did not zoom (width %.1f → %.1f, zoomed %q)", f.Name, f.Width, z.Width, z.Zoomed))
	}
	// Answer the search prompt in advance; %q yields a valid JS string.
	// The name is escaped: Search reads a regular expression.
	if _, err := Eval[bool](p, fmt.Sprintf(`(window.prompt = () => %q.replace(/[.*+?^${}()|[\]\\]/g, "\\$&"), true)`, f.Name)); err != nil {
		return nil, err
	}
	if err := p.Click("#search"); err != nil {
		return nil, err
	}
	s, err := Eval[searchState](p, searchStateJS)
	if err != nil {
		return nil, err
	}
	if s.Matches == 0 || len(s.Matched) < len("Matched:") || s.Matched[:len("Matched:")] != "Matched:" {
		probs = append(probs, fmt.Sprintf("search for %q highlighted %d frames, share line %q", f.Name, s.Matches, s.Matched))
	}
	for _, e := range p.Errors() {
		probs = append(probs, "console: "+e)
	}
	return probs, nil
}
