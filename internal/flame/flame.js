// Interactive flame graph: click to zoom, reset, search, hover details.
// Embedded verbatim into every SVG (see svg.go); the geometry constants
// come from the renderer in the variable fg, set just before this script.
// Frames are the <g> elements with class "f"; each holds a <title>
// ("name (value, share)"), a <rect> and, if it fits, a <text> label.
(function () {
  "use strict";
  var svg = document.documentElement;
  var frames = [];
  var zoomed = null;
  var details, matched, reset, clear;

  function num(el, a) { return parseFloat(el.getAttribute(a)); }

  // name is the title up to its last " (", which starts the value suffix.
  function frameName(title) {
    var i = title.lastIndexOf(" (");
    return i < 0 ? title : title.slice(0, i);
  }

  function init() {
    details = document.getElementById("details");
    matched = document.getElementById("matched");
    reset = document.getElementById("reset");
    clear = document.getElementById("clear");
    var gs = svg.getElementsByTagName("g");
    for (var i = 0; i < gs.length; i++) {
      var g = gs[i];
      var r = g.getElementsByTagName("rect")[0];
      var t = g.getElementsByTagName("title")[0];
      if (!r || !t) { continue; }
      var f = {
        g: g, rect: r, title: t.textContent,
        x: num(r, "x"), w: num(r, "width"), y: num(r, "y"),
        fill: r.getAttribute("fill"),
        label: g.getElementsByTagName("text")[0] || null
      };
      f.name = frameName(f.title);
      frames.push(f);
      g.addEventListener("click", zoomHandler(f));
      g.addEventListener("mouseover", hoverHandler(f));
      g.addEventListener("mouseout", function () { setText(details, " "); });
    }
    reset.addEventListener("click", unzoom);
    clear.addEventListener("click", clearSearch);
    document.getElementById("search").addEventListener("click", askSearch);
    window.addEventListener("keydown", function (e) {
      if ((e.ctrlKey || e.metaKey) && e.key === "f") { e.preventDefault(); askSearch(); }
      if (e.key === "Escape") { unzoom(); clearSearch(); }
    });
    var m = /(?:^#|&)s=([^&]*)/.exec(window.location.hash);
    if (m) { search(decodeURIComponent(m[1])); }
  }

  function setText(el, s) { if (el) { el.textContent = s; } }

  function hoverHandler(f) {
    return function () {
      var s = f.title;
      if (zoomed && zoomed !== f) {
        s += ", " + (100 * f.w / zoomed.w).toFixed(2) + "% of " + zoomed.name;
      }
      setText(details, s);
    };
  }

  function zoomHandler(f) {
    return function (e) { e.stopPropagation(); zoom(f); };
  }

  // place draws f at pixel offset x with width w and fits its label.
  function place(f, x, w) {
    f.rect.setAttribute("x", x.toFixed(2));
    f.rect.setAttribute("width", w.toFixed(2));
    var n = Math.floor((w - 6) / fg.charW);
    var s = "";
    if (n >= 3) { s = f.name.length <= n ? f.name : f.name.slice(0, n - 2) + ".."; }
    if (!f.label && s !== "") {
      f.label = document.createElementNS("http://www.w3.org/2000/svg", "text");
      f.label.setAttribute("y", (f.y + fg.fh - 4.5).toFixed(2));
      f.g.appendChild(f.label);
    }
    if (f.label) {
      f.label.setAttribute("x", (x + 3).toFixed(2));
      f.label.textContent = s;
    }
  }

  // zoom makes f's subtree fill the width; its ancestors span the width,
  // dimmed; everything else is hidden. Geometry decides the relation: a
  // frame's interval nests in its caller's and is disjoint from others'.
  function zoom(f) {
    zoomed = f;
    var c0 = f.x + f.w / 2;
    var scale = fg.inner / f.w;
    for (var i = 0; i < frames.length; i++) {
      var o = frames[i];
      var c = o.x + o.w / 2;
      if (o.y <= f.y && c > f.x && c < f.x + f.w) {
        o.g.style.display = "";
        o.g.style.opacity = "";
        place(o, fg.pad + (o.x - f.x) * scale, o.w * scale);
      } else if (o.y > f.y && c0 > o.x && c0 < o.x + o.w) {
        o.g.style.display = "";
        o.g.style.opacity = "0.5";
        place(o, fg.pad, fg.inner);
      } else {
        o.g.style.display = "none";
      }
    }
    reset.style.opacity = "1";
    svg.setAttribute("data-zoomed", f.name);
  }

  function unzoom() {
    zoomed = null;
    for (var i = 0; i < frames.length; i++) {
      var o = frames[i];
      o.g.style.display = "";
      o.g.style.opacity = "";
      place(o, o.x, o.w);
    }
    reset.style.opacity = "0";
    svg.removeAttribute("data-zoomed");
  }

  function askSearch() {
    var term = window.prompt("Search frames (regular expression, or a substring if it is not one)", "");
    if (term) { search(term); }
  }

  // matcher compiles term as a regular expression, falling back to a
  // plain substring match when it does not compile.
  function matcher(term) {
    try {
      var re = new RegExp(term);
      return function (s) { return re.test(s); };
    } catch (e) {
      return function (s) { return s.indexOf(term) >= 0; };
    }
  }

  // search highlights the frames whose name matches term and shows the
  // share of the total they cover, counting nested matches (a recursive
  // frame, or a match called from a match) once.
  function search(term) {
    clearSearch();
    var match = matcher(term);
    var hits = [];
    for (var i = 0; i < frames.length; i++) {
      var f = frames[i];
      if (!match(f.name)) { continue; }
      f.g.classList.add("match");
      f.rect.setAttribute("fill", "rgb(230,0,230)");
      hits.push(f);
    }
    hits.sort(function (a, b) { return a.x - b.x || b.w - a.w; });
    var covered = 0, end = -Infinity;
    for (var j = 0; j < hits.length; j++) {
      var h = hits[j];
      if (h.x + h.w / 2 < end) { continue; } // inside an earlier match
      covered += h.w;
      end = h.x + h.w;
    }
    var share = (100 * covered / fg.inner).toFixed(2);
    setText(matched, "Matched: " + share + "% (" + hits.length + " frames)");
    svg.setAttribute("data-matched", share);
    clear.style.opacity = "1";
    return hits.length;
  }

  function clearSearch() {
    for (var i = 0; i < frames.length; i++) {
      var f = frames[i];
      f.g.classList.remove("match");
      f.rect.setAttribute("fill", f.fill);
    }
    setText(matched, " ");
    svg.removeAttribute("data-matched");
    clear.style.opacity = "0";
  }

  window.flamegraph = { zoom: function (name) {
    for (var i = 0; i < frames.length; i++) {
      if (frames[i].name === name) { zoom(frames[i]); return true; }
    }
    return false;
  }, unzoom: unzoom, search: search, clearSearch: clearSearch };
  if (document.readyState === "loading") {
    window.addEventListener("load", init);
  } else {
    init();
  }
})();
