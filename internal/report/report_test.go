package report

import (
	"bytes"
	"encoding/base64"
	"flag"
	"fmt"
	"net/url"
	"os"
	"path"
	"path/filepath"
	"regexp"
	"strings"
	"testing"

	"github.com/authbench/authbench/internal/flame"
	"github.com/authbench/authbench/internal/results"
)

var update = flag.Bool("update", false, "rewrite testdata/report.md.golden from the current output")

func ptr(v float64) *float64 { return &v }

// fixture is the checked-in results file (testdata/results.json): an
// interrupted run with three interleaved rounds of a matrix variant
// (steady/tokens=100) with the no-auth control and its A/A copy, an
// invalid flood measured in repeats, revocations of every event class
// (one failed), a run short of its rate, knee steps above the knee, a
// missed knee target and an external results "file".
func fixture(t *testing.T) *results.File {
	t.Helper()
	f, err := results.Read(filepath.Join("testdata", results.FileName))
	if err != nil {
		t.Fatal(err)
	}
	return f
}

// reportDir lays out the files results.json names (small SVGs, a flame
// graph too large to embed for ttl, one profile left missing for mtime)
// and the microbenchmarks of testdata/bench-go.txt.
func reportDir(t *testing.T, f *results.File) string {
	t.Helper()
	dir := t.TempDir()
	small := `<svg xmlns="http://www.w3.org/2000/svg" width="10" height="10"><rect width="10" height="10"/></svg>`
	write := func(rel, content string) {
		p := filepath.Join(dir, filepath.FromSlash(rel))
		if err := os.MkdirAll(filepath.Dir(p), 0o755); err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(p, []byte(content), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	bench, err := os.ReadFile(filepath.Join("testdata", results.MicrobenchFile))
	if err != nil {
		t.Fatal(err)
	}
	write(results.MicrobenchFile, string(bench))
	for _, r := range f.Runs {
		paths := []string{r.Profile, r.Folded, r.Flamegraph, r.ResultsFile, r.Speedscope}
		if r.DiffFlamegraphs != nil {
			paths = append(paths, r.DiffFlamegraphs.Grown, r.DiffFlamegraphs.Shrunk)
		}
		for _, p := range paths {
			switch {
			case p == "" || strings.Contains(p, ":"):
			case r.Verifier == "mtime" && p == r.Profile:
			case r.Verifier == "ttl" && p == r.Flamegraph:
				write(p, small+"<!--"+strings.Repeat("x", 4096)+"-->")
			default:
				write(p, small)
			}
		}
	}
	return dir
}

func TestWrite(t *testing.T) {
	t.Parallel()
	f := fixture(t)
	dir := reportDir(t, f)
	if err := Write(dir, f, Options{MaxEmbedBytes: 1024}); err != nil {
		t.Fatal(err)
	}
	top := read(t, filepath.Join(dir, MarkdownFile))
	md := allMarkdown(t, dir)
	html := read(t, filepath.Join(dir, HTMLFile))

	golden := filepath.Join("testdata", "report.md.golden")
	if *update {
		if err := os.WriteFile(golden, []byte(md), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	if want := read(t, golden); md != want {
		t.Errorf("report.md and its scenario files differ from %s (run go test ./internal/report -run TestWrite -update and review the diff)", golden)
	}
	if dead, err := CheckLinks(dir); err != nil || len(dead) > 0 {
		t.Errorf("dead links (%v):\n%s", err, strings.Join(dead, "\n"))
	}
	if n := strings.Count(top, "\n"); n > MaxTopLines {
		t.Errorf("report.md's top level has %d lines, budget %d", n, MaxTopLines)
	}

	for _, tc := range []struct {
		name, want string
	}{
		{"run id", "2026-05-01T10-00-00Z-abc123"},
		{"interrupted", "Interrupted run"},
		{"go version", "go1.26.0"},
		{"cpu model", "Test CPU 9000"},
		{"cores", "4 / 2"},
		{"hash", "sha256-crypt / 5000"},
		{"load setup", "generator pinned to CPU 0-1"},
		{"headline ratio", "CPU × no-auth"},
		{"noise floor", "A/A noise floor"},
		{"indistinguishable", "indistinguishable (± "},
		{"interval", "× \\["},
		{"staleness never", "never / ∞"},
		{"security fail", "❌ FAIL"},
		{"target missed", "❌ MISSED"},
		{"target inconclusive", "❔ inconclusive"},
		{"passes collapsed", "targets met</summary>"},
		{"scenario question", "[Scenario: steady/tokens=100 — at a constant rate of valid requests"},
		{"scenario file", "(scenarios/steady_tokens-100.md)"},
		{"verdict budget", "**Budget 0 for hand edits of token.shadow:** `mtime`"},
		{"one event", "¹"},
		{"first probe", "first probe (≤ 30 ms)"},
		{"sanity apart", "### Sanity checks of the harness (not results)"},
		{"resolution", "resolution needed 0.25 % (≥ 400 samples per window), achieved 0.25 %"},
		{"short of target", "⚠️ short"},
		{"short list", "offered 500 req/s, achieved 470 req/s"},
		{"flame graph link", "(../flamegraphs/steady_tokens-100/generation-r0.svg)"},
		{"crypt highlighted", "(../flamegraphs/steady_tokens-100/uncached-r0.svg#s=cryptpw)"},
		{"speedscope link", "[speedscope](../flamegraphs/steady_tokens-100/ttl-r0.speedscope.json)"},
		{"diff link", "flamegraphs/steady_tokens-100/diff-generation-vs-uncached-grown.svg"},
		{"missing profile", "(missing)"},
		{"plot", "plots/knee-steady_tokens-100.png"},
		{"trade-off plot", "plots/tradeoff.png"},
		{"staleness plot", "plots/staleness-manual-edit-manual-edit_bench_pbs_t0.png"},
		{"bound zero", "next probe / 0"},
		{"latency", "900 µs"},
		{"hit path from bench-go.txt", "| **ttl** | 509 ns (498–520 ns, n=2) |"},
	} {
		if !strings.Contains(md, tc.want) {
			t.Errorf("report.md: no %s (%q)", tc.name, tc.want)
		}
	}
	// The verdict, the warnings, then the headline, then the targets, then the scenarios.
	if v, i, h, tg, e, sc := strings.Index(top, "## Verdict"), strings.Index(top, "Interrupted run"), strings.Index(top, "## Headline"),
		strings.Index(top, "## Targets"), strings.Index(top, "## Environment"), strings.Index(top, "## Scenarios"); !(v >= 0 && v < i && i < h && h < tg && tg < e && e < sc) {
		t.Errorf("section order verdict %d, interrupted %d, headline %d, targets %d, environment %d, scenarios %d", v, i, h, tg, e, sc)
	}
	if !strings.HasPrefix(strings.SplitN(top, "\n\n", 2)[1], "## Verdict") {
		t.Error("report.md does not open on the verdict block")
	}
	if m, h, tg := strings.Index(top, "targets MISSED"), strings.Index(top, "## Headline"), strings.Index(top, "## Targets"); m < h || m > tg {
		t.Error("the missed-targets banner is not between the headline and the targets")
	}
	if strings.Contains(md, "evil.example](") {
		t.Error("report.md links an external results file")
	}
	// Knee steps above the knee are not "runs that fell short".
	if strings.Contains(md, "(knee-step), round") {
		t.Error("a knee step above the knee is listed as short")
	}

	for _, tc := range []struct{ name, want string }{
		{"fail in red", `class="fail"`},
		{"security fail", "❌ FAIL"},
		{"headline id", `<table id="headline">`},
		{"collapsible scenario", "<details><summary>Scenario: steady/tokens=100"},
		{"embedded png or svg plot", `<img class="plot" alt="`},
		{"embedded flame graph", `src="data:image/svg`}, // "+" is written as &#43;
		{"large flame graph linked", "too large to embed"},
		{"embedded copy opens the file", `title="open the interactive graph (zoom, search)"><img class="flame"`},
		{"crypt link", `href="flamegraphs/steady_tokens-100/uncached-r0.svg#s=cryptpw"`},
		{"note escaped", "&lt;script&gt;"},
	} {
		if !strings.Contains(html, tc.want) {
			t.Errorf("index.html: no %s (%q)", tc.name, tc.want)
		}
	}
	if strings.Contains(html, "<script") {
		t.Error("index.html contains a script element")
	}
	ext := regexp.MustCompile(`(?i)(src|href)\s*=\s*["']?\s*(https?:|//)`)
	if m := ext.FindString(html); m != "" {
		t.Errorf("index.html references an external resource: %s", m)
	}
	img := regexp.MustCompile(`(?i)<img[^>]*\ssrc="([^"]*)"`)
	imgs := img.FindAllStringSubmatch(html, -1)
	if len(imgs) == 0 {
		t.Fatal("index.html has no images")
	}
	for _, m := range imgs {
		if !strings.HasPrefix(m[1], "data:image/") {
			t.Errorf("image not embedded: %.60s", m[1])
		}
	}
	if strings.Contains(md, "noauth-r0.svg#s=") {
		t.Error("the control's flame graph is linked with a crypt search")
	}

	// The matrix variant's slugged diff flame graphs are linked (and
	// resolve: CheckLinks above).
	if diffs := regexp.MustCompile(`\]\([^)]*diff-[^)]*\)`).FindAllString(md, -1); len(diffs) < 8 { // grown and shrunk of four cached verifiers
		t.Errorf("report.md links %d diff flame graphs, want 8", len(diffs))
	}
}

// allMarkdown is report.md followed by every scenario file it links, in
// link order.
func allMarkdown(t *testing.T, dir string) string {
	t.Helper()
	top := read(t, filepath.Join(dir, MarkdownFile))
	var b strings.Builder
	b.WriteString(top)
	for _, m := range regexp.MustCompile(`\]\((`+ScenarioDir+`/[^)]+\.md)\)`).FindAllStringSubmatch(top, -1) {
		rel, err := unescapePath(m[1])
		if err != nil {
			t.Fatal(err)
		}
		b.WriteString("\n<!-- " + rel + " -->\n")
		b.WriteString(read(t, filepath.Join(dir, filepath.FromSlash(rel))))
	}
	return b.String()
}

// unescapePath undoes mdURL's per-segment escaping.
func unescapePath(p string) (string, error) {
	segs := strings.Split(p, "/")
	for i, s := range segs {
		u, err := url.PathUnescape(s)
		if err != nil {
			return "", err
		}
		segs[i] = u
	}
	return path.Join(segs...), nil
}

// TestOldResults: a file from before interleaved rounds (one repeat, no
// A/A copy) still makes a report, its ratios marked as having no interval.
func TestOldResults(t *testing.T) {
	t.Parallel()
	f := &results.File{RunID: "old"}
	for _, v := range []string{"noauth", "uncached", "ttl"} {
		f.Runs = append(f.Runs, results.Run{Scenario: "steady", Verifier: v, Phase: results.PhaseConstant, Tokens: 10,
			OfferedRPS: 500, AchievedRPS: 500, Requests: 5000, SuccessRatio: 1, CPUSecondsPer1kReq: map[string]float64{"noauth": 0.05, "uncached": 2, "ttl": 0.06}[v],
			CPUShare: results.CPUShare{Crypt: map[string]float64{"uncached": 0.9}[v], Other: 1, Samples: 100}})
	}
	dir := t.TempDir()
	if err := Write(dir, f, Options{NoPlots: true}); err != nil {
		t.Fatal(err)
	}
	md := read(t, filepath.Join(dir, MarkdownFile))
	md = allMarkdown(t, dir)
	for _, want := range []string{`\[n/a (1 round)\]`, "No A/A row", "unresolved", "no interval"} {
		if !strings.Contains(md, want) {
			t.Errorf("report.md of an old file: no %q", want)
		}
	}
	if strings.Contains(md, "MISSED") {
		t.Error("a single value was judged MISSED")
	}
}

func TestWriteNoPlotsEmptyFile(t *testing.T) {
	t.Parallel()
	dir := t.TempDir()
	if err := Write(dir, &results.File{RunID: "empty"}, Options{NoPlots: true}); err != nil {
		t.Fatal(err)
	}
	md := read(t, filepath.Join(dir, MarkdownFile))
	for _, want := range []string{"empty", "No load runs were recorded", "No target could be checked", "Revocation checks: none were run"} {
		if !strings.Contains(md, want) {
			t.Errorf("report.md: no %q", want)
		}
	}
	if strings.Contains(md, "Interrupted") {
		t.Error("report.md claims an interruption")
	}
}

func TestWriteRejectsOutsidePlotsDir(t *testing.T) {
	t.Parallel()
	if err := Write(t.TempDir(), fixture(t), Options{PlotsDir: "../elsewhere"}); err == nil {
		t.Error("plots dir outside the report dir accepted")
	}
}

func TestFormat(t *testing.T) {
	t.Parallel()
	tests := []struct{ got, want string }{
		{fmtLat(412), "412 µs"},
		{fmtLat(1234), "1.23 ms"},
		{fmtLat(0), "—"},
		{fmtPct(0.004), "0.40 %"},
		{fmtPct(0.9), "90.0 %"},
		{fmtNum(20000.4), "20000"},
		{fmtNum(12.345), "12.3"},
		{fmtMSPtr(nil, "never"), "never"},
		{fmtMSPtr(ptr(2500), ""), "2.50 s"},
		{fmtCPU(0.05), "50.0 µs"},
		{fmtNS(612), "612 ns"},
		{fmtNSRange(490, 520), "490–520 ns"},
		{fmtNSRange(990, 1200), "990 ns–1.20 µs"},
		{fmtMSRound(18.2), "19 ms"},
		{txt("a|b_c").markdown(""), `a\|b\_c`},
		{cell{{Text: "x", Href: "plots/a.png"}}.markdown("../"), "[x](../plots/a.png)"},
	}
	for i, tc := range tests {
		if tc.got != tc.want {
			t.Errorf("case %d: got %q, want %q", i, tc.got, tc.want)
		}
	}
}

func read(t *testing.T, p string) string {
	t.Helper()
	b, err := os.ReadFile(p)
	if err != nil {
		t.Fatal(err)
	}
	return string(b)
}

func TestMarkdownStrongTrimmed(t *testing.T) {
	t.Parallel()
	got := cell{{Text: "Interrupted: ", Strong: true}, {Text: "partial"}}.markdown("")
	if want := "**Interrupted:** partial"; got != want {
		t.Errorf("got %q, want %q", got, want)
	}
}

// TestEmbedBudget: flame graphs are embedded until the page's budget is
// spent; the rest are linked, so index.html of a full run stays small.
func TestEmbedBudget(t *testing.T) {
	t.Parallel()
	dir := t.TempDir()
	d := &document{Title: "budget"}
	svg := `<svg xmlns="http://www.w3.org/2000/svg">` + strings.Repeat(" ", 260) + `</svg>`
	for i := range 5 {
		name := fmt.Sprintf("f%d.svg", i)
		if err := os.WriteFile(filepath.Join(dir, name), []byte(svg), 0o644); err != nil {
			t.Fatal(err)
		}
		d.Blocks = append(d.Blocks, block{Kind: kEmbed, Path: name, Alt: name})
	}
	html, err := d.html(dir, 1000, 700)
	if err != nil {
		t.Fatal(err)
	}
	if n := strings.Count(string(html), `src="data:image/svg`); n != 1 {
		t.Errorf("%d flame graphs embedded, want 1 within a 700-byte budget", n)
	}
	if n := strings.Count(string(html), "too large to embed"); n != 4 {
		t.Errorf("%d flame graphs linked, want 4", n)
	}
}

// TestEmbedStatic: an embedded flame graph is the static copy (browsers
// run no script inside <img>); the file it links keeps its script.
func TestEmbedStatic(t *testing.T) {
	t.Parallel()
	dir := t.TempDir()
	stacks, err := flame.ReadFolded(strings.NewReader("main;impl/cryptpw.Verify 700\nmain;net/http.serve 300\n"))
	if err != nil {
		t.Fatal(err)
	}
	var b bytes.Buffer
	if err := flame.RenderSVG(&b, stacks, flame.Options{Title: "uncached", Unit: "nanoseconds"}); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(filepath.Join(dir, "f.svg"), b.Bytes(), 0o644); err != nil {
		t.Fatal(err)
	}
	d := &document{Blocks: []block{{Kind: kEmbed, Path: "f.svg", Alt: "f"}}}
	html, err := d.html(dir, DefaultMaxEmbedBytes, DefaultEmbedBudget)
	if err != nil {
		t.Fatal(err)
	}
	m := regexp.MustCompile(`src="data:image/svg\+xml;base64,([^"]+)"`).FindSubmatch(bytes.ReplaceAll(html, []byte("&#43;"), []byte("+")))
	if m == nil {
		t.Fatalf("no embedded flame graph in %s", html)
	}
	svg, err := base64.StdEncoding.DecodeString(string(m[1]))
	if err != nil {
		t.Fatal(err)
	}
	if bytes.Contains(svg, []byte("<script")) || !bytes.Contains(svg, []byte("cryptpw.Verify")) {
		t.Errorf("embedded copy is not the static graph:\n%s", svg)
	}
	if !bytes.Contains(html, []byte(`<a href="f.svg"`)) {
		t.Error("the embedded copy does not link the interactive file")
	}
}
