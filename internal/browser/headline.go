package browser

import (
	"encoding/json"
	"fmt"
)

// headlineJS returns the box of the first match of a selector after
// scrolling to the top, or null.
const headlineJS = `((sel) => {
  window.scrollTo(0, 0);
  const el = document.querySelector(sel);
  if (!el) { return null; }
  const r = el.getBoundingClientRect();
  return {top: r.top, left: r.left, bottom: r.bottom, right: r.right};
})(%s)`

// sidewaysJS lists why the first match of a selector scrolls sideways:
// the element's own content wider than its box (a table with
// display: block and overflow-x: auto scrolls inside itself, its box
// still inside the viewport), an ancestor that clips or scrolls (overflow-x
// not visible) with content wider than its box, or the whole page wider
// than the viewport. A pixel of slack absorbs sub-pixel rounding.
const sidewaysJS = `((sel) => {
  const el = document.querySelector(sel);
  if (!el) { return []; }
  const name = (e) => e.tagName.toLowerCase() + (e.id ? "#" + e.id : "") +
    (e.classList.length ? "." + Array.from(e.classList).join(".") : "");
  const out = [];
  const root = document.documentElement;
  for (let e = el; e && e !== root && e !== document.body; e = e.parentElement) {
    if (e.clientWidth === 0) { continue; } // inline boxes have no scroll width
    const clips = getComputedStyle(e).overflowX !== "visible";
    if ((e === el || clips) && e.scrollWidth > e.clientWidth + 1) {
      out.push(name(e) + " content is " + e.scrollWidth + " px wide in a " + e.clientWidth + " px box");
    }
  }
  const page = Math.max(root.scrollWidth, document.body ? document.body.scrollWidth : 0);
  if (page > root.clientWidth + 1) {
    out.push("the page is " + page + " px wide in a " + root.clientWidth + " px viewport");
  }
  return out;
})(%s)`

// box returns the box of the first match of sel with the page scrolled to
// the top, or nil when nothing matches.
func box(p *Page, sel string) (*Rect, error) {
	lit, _ := json.Marshal(sel) // a string always marshals; JSON is a JS literal
	r, err := Eval[*Rect](p, fmt.Sprintf(headlineJS, lit))
	if err != nil {
		return nil, fmt.Errorf("check %s: %w", sel, err)
	}
	return r, nil
}

// sideways returns why the first match of sel scrolls sideways, nothing
// when it fits.
func sideways(p *Page, sel string) ([]string, error) {
	lit, _ := json.Marshal(sel)
	why, err := Eval[[]string](p, fmt.Sprintf(sidewaysJS, lit))
	if err != nil {
		return nil, fmt.Errorf("check %s scrolls sideways: %w", sel, err)
	}
	return why, nil
}

// inside reports whether r lies within a w × h first screen and is not empty.
func inside(r Rect, w, h float64) bool {
	return r.Top >= 0 && r.Left >= 0 && r.Bottom <= h && r.Right <= w && r.Bottom > r.Top
}
