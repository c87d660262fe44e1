package browser

import (
	"errors"
	"fmt"
	"maps"
	"net/url"
	"os"
	"slices"
	"strings"
)

// Checks selects what Check asserts beyond the always-on ones (no console
// errors or exceptions, every <img> decoded, every local link and resource
// resolving to an existing file, no external resource requests).
type Checks struct {
	// Headline is a CSS selector for the element that must lie entirely
	// inside the first screen (the viewport, scrolled to the top) and
	// must not scroll sideways (neither it, a clipping or scrolling
	// ancestor, nor the page wider than its box); empty skips the check.
	// Its first match counts.
	Headline string
	// FirstScreen are more selectors whose first match must lie entirely
	// inside the first screen too (e.g. the report's trade-off chart).
	FirstScreen []string
	// MinWidth maps selectors to the width (CSS px) their first match
	// must be displayed at, at least (e.g. a chart a person can read);
	// a selector matching nothing fails too.
	MinWidth map[string]float64
	// Width and Height are the viewport; 0 means 1366 × 768.
	Width, Height int
	// Screenshot is where the full-page PNG goes; empty means
	// DefaultScreenshotPath(path), "-" takes none.
	Screenshot string
	// AllowExternal accepts resources (images, scripts, styles, frames)
	// loaded from the network; a report must be self-contained, so it is
	// off by default. Links (<a href>) to the web are always fine.
	AllowExternal bool
}

// Rect is an element's box in viewport CSS pixels.
type Rect struct {
	Top    float64 `json:"top"`
	Left   float64 `json:"left"`
	Bottom float64 `json:"bottom"`
	Right  float64 `json:"right"`
}

// Findings is what Check saw. Problems are the failed assertions; Err
// joins them.
type Findings struct {
	ConsoleErrors []string
	BrokenImages  []string // alt and the start of src of images that did not decode
	BrokenLinks   []string // links or resources whose local file is missing
	External      []string // resources requested from the network
	Images, Links int      // how many were checked
	// Headline is the headline's box, nil when not found or not checked.
	Headline        *Rect
	HeadlineMissing bool
	HeadlineOutside bool
	// HeadlineScroll says why the headline scrolls sideways (an
	// element or the page wider than its box), one entry per scroller;
	// empty when it fits.
	HeadlineScroll []string
	// NotInFirstScreen lists Checks.FirstScreen selectors that matched
	// nothing or lie (partly) outside the first screen, with why.
	NotInFirstScreen []string
	// TooNarrow lists Checks.MinWidth selectors that matched nothing or
	// are displayed narrower than asked, with why.
	TooNarrow  []string
	Screenshot string // path written, "" if none
}

// Problems lists every failed assertion, one line each.
func (f *Findings) Problems() []string {
	var out []string
	for _, s := range f.ConsoleErrors {
		out = append(out, "console: "+s)
	}
	for _, s := range f.BrokenImages {
		out = append(out, "image not decoded: "+s)
	}
	for _, s := range f.BrokenLinks {
		out = append(out, "broken local link: "+s)
	}
	for _, s := range f.External {
		out = append(out, "external resource (report is not self-contained): "+s)
	}
	if f.HeadlineMissing {
		out = append(out, "headline element not found")
	}
	if f.HeadlineOutside {
		r := f.Headline
		out = append(out, fmt.Sprintf("headline not inside the first screen: box top %.0f left %.0f bottom %.0f right %.0f", r.Top, r.Left, r.Bottom, r.Right))
	}
	for _, s := range f.HeadlineScroll {
		out = append(out, "headline scrolls sideways: "+s)
	}
	for _, s := range f.NotInFirstScreen {
		out = append(out, "not inside the first screen: "+s)
	}
	for _, s := range f.TooNarrow {
		out = append(out, "displayed too narrow: "+s)
	}
	return out
}

// Err returns nil if nothing failed, else one error listing the problems.
func (f *Findings) Err() error {
	p := f.Problems()
	if len(p) == 0 {
		return nil
	}
	return errors.New(strings.Join(p, "\n"))
}

// imagesJS makes every image load now (lazy ones too, and those inside
// closed <details>), waits for them to decode and returns the ones with
// no natural width.
const imagesJS = `(async () => {
  const imgs = Array.from(document.querySelectorAll("img"));
  for (const i of imgs) { i.loading = "eager"; }
  await Promise.all(imgs.map(i => i.decode().catch(() => {})));
  const bad = imgs.filter(i => !(i.naturalWidth > 0))
    .map(i => JSON.stringify(i.getAttribute("alt") || "") + " " + (i.getAttribute("src") || "").slice(0, 80));
  return {count: imgs.length, bad: bad};
})()`

// linksJS lists every URL-bearing attribute, resolved against the page,
// and for same-page fragments whether the target element exists.
const linksJS = `(() => {
  const kinds = [["a","href","link"],["area","href","link"],["link","href","resource"],
    ["img","src","resource"],["script","src","resource"],["iframe","src","resource"],
    ["object","data","resource"],["embed","src","resource"],["source","src","resource"],
    ["video","src","resource"],["audio","src","resource"]];
  const here = location.href.split("#")[0];
  const out = [];
  for (const [tag, attr, kind] of kinds) {
    for (const el of document.querySelectorAll(tag + "[" + attr + "]")) {
      const raw = el.getAttribute(attr);
      let abs = "";
      try { abs = new URL(raw, document.baseURI).href; } catch (e) {}
      let anchor = true;
      const hash = abs.indexOf("#");
      if (hash >= 0 && abs.slice(0, hash) === here && abs.length > hash + 1) {
        const id = decodeURIComponent(abs.slice(hash + 1));
        anchor = document.getElementById(id) !== null || document.getElementsByName(id).length > 0;
      }
      out.push({kind: kind, raw: raw.slice(0, 120), abs: abs, anchor: anchor});
    }
  }
  return out;
})()`

type linkInfo struct {
	Kind   string `json:"kind"`
	Raw    string `json:"raw"`
	Abs    string `json:"abs"`
	Anchor bool   `json:"anchor"`
}

type imageInfo struct {
	Count int      `json:"count"`
	Bad   []string `json:"bad"`
}

// Check opens the local file at path and runs the checks. The error is
// for failures to check at all (no browser, file missing); failed
// assertions are in Findings (see Findings.Err).
func (b *Browser) Check(path string, c Checks) (*Findings, error) {
	p, err := b.Open(path, c.Width, c.Height, "")
	if err != nil {
		return nil, err
	}
	defer p.Close()
	return p.Check(c)
}

// Check runs the checks on an open page.
func (p *Page) Check(c Checks) (*Findings, error) {
	w, h := float64(c.Width), float64(c.Height)
	if c.Width <= 0 || c.Height <= 0 {
		w, h = ViewportWidth, ViewportHeight
	}
	f := &Findings{}

	imgs, err := Eval[imageInfo](p, imagesJS)
	if err != nil {
		return nil, fmt.Errorf("check images: %w", err)
	}
	f.Images, f.BrokenImages = imgs.Count, imgs.Bad

	links, err := Eval[[]linkInfo](p, linksJS)
	if err != nil {
		return nil, fmt.Errorf("check links: %w", err)
	}
	f.Links = len(links)
	for _, l := range links {
		if msg := checkLink(l, c.AllowExternal); msg != "" {
			if strings.HasPrefix(msg, "external") {
				f.External = append(f.External, l.Raw)
			} else {
				f.BrokenLinks = append(f.BrokenLinks, l.Raw+": "+msg)
			}
		}
	}

	if c.Headline != "" {
		r, err := box(p, c.Headline)
		if err != nil {
			return nil, err
		}
		f.Headline = r
		switch {
		case r == nil:
			f.HeadlineMissing = true
		case !inside(*r, w, h):
			f.HeadlineOutside = true
		}
		if r != nil {
			if f.HeadlineScroll, err = sideways(p, c.Headline); err != nil {
				return nil, err
			}
		}
	}
	for _, sel := range c.FirstScreen {
		r, err := box(p, sel)
		if err != nil {
			return nil, err
		}
		switch {
		case r == nil:
			f.NotInFirstScreen = append(f.NotInFirstScreen, sel+": no such element")
		case !inside(*r, w, h):
			f.NotInFirstScreen = append(f.NotInFirstScreen, fmt.Sprintf("%s: box top %.0f left %.0f bottom %.0f right %.0f", sel, r.Top, r.Left, r.Bottom, r.Right))
		}
	}

	for _, sel := range slices.Sorted(maps.Keys(c.MinWidth)) {
		r, err := box(p, sel)
		if err != nil {
			return nil, err
		}
		switch min := c.MinWidth[sel]; {
		case r == nil:
			f.TooNarrow = append(f.TooNarrow, sel+": no such element")
		case r.Right-r.Left < min:
			f.TooNarrow = append(f.TooNarrow, fmt.Sprintf("%s: %.0f px wide, want at least %.0f", sel, r.Right-r.Left, min))
		}
	}

	if c.Screenshot != "-" {
		shot := c.Screenshot
		if shot == "" {
			shot = DefaultScreenshotPath(p.path)
		}
		if err := p.Screenshot(shot); err != nil {
			return nil, err
		}
		f.Screenshot = shot
	}
	// Last, so errors raised by anything above are seen too.
	f.ConsoleErrors = p.Errors()
	return f, nil
}

// checkLink returns "" if l is fine, else what is wrong with it.
func checkLink(l linkInfo, allowExternal bool) string {
	if l.Abs == "" {
		return "not a valid URL"
	}
	u, err := url.Parse(l.Abs)
	if err != nil {
		return "not a valid URL"
	}
	switch u.Scheme {
	case "data", "mailto", "javascript", "about", "blob":
		return ""
	case "file":
		if !l.Anchor {
			return "no element with id " + u.Fragment
		}
		if _, err := os.Stat(u.Path); err != nil {
			return "no such file " + u.Path
		}
		return ""
	}
	if l.Kind == "resource" && !allowExternal {
		return "external"
	}
	return ""
}
