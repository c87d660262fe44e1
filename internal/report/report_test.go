package report

import (
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"testing"

	"github.com/authbench/authbench/internal/results"
)

func ptr(v float64) *float64 { return &v }

// synthetic builds a run with one of everything the report must surface:
// an interrupted flag, a failed revocation, a run short of its target, a
// missed knee target and a missed crypt-share target.
func synthetic() *results.File {
	f := &results.File{
		RunID:       "2026-05-01T10-00-00Z-abc123",
		Interrupted: true,
		Notes:       []string{"generator shared 2 CPUs with the server <script>alert(1)</script>"},
		Env: results.Env{GoVersion: "go1.26.0", GOOS: "linux", GOARCH: "amd64", CPUModel: "Test CPU 9000",
			NumCPU: 4, GOMAXPROCS: 2, Commit: "abc123", HashScheme: "sha256-crypt", HashCost: 5000,
			Date: "2026-05-01T10:00:00Z", LoadSetup: "generator pinned to CPU 0-1"},
	}
	type spec struct {
		v     string
		knee  float64
		crypt float64
	}
	for _, s := range []spec{{"noauth", 20000, 0}, {"uncached", 900, 0.9}, {"generation", 19600, 0.004}, {"mtime", 19500, 0.05}, {"ttl", 18000, 0.002}} {
		for rep := range 2 {
			for _, rate := range []float64{500, 1000} {
				r := results.Run{Scenario: "steady", Verifier: s.v, Phase: "constant", Repeat: rep, Tokens: 10,
					OfferedRPS: rate, AchievedRPS: rate, SuccessRatio: 1, ExpectedRatio: 1,
					Latency:            results.Latency{P50: 120, P90: 300, P99: 800 + float64(rep), P999: 2500, Max: 9000},
					CPUShare:           results.CPUShare{Crypt: s.crypt, ShadowRead: 0.02, Stat: 0.01, Other: 0.97 - s.crypt, Samples: 500},
					CPUSecondsPer1kReq: 0.2,
					VerifierStats:      results.VerifierStats{Fast: 990, Slow: 10, Fallback: 1},
					SlowFraction:       0.01,
				}
				if s.v == "uncached" && rate == 1000 {
					r.AchievedRPS, r.ShortOfTarget, r.SuccessRatio = 880, true, 0.97
				}
				if rate == 1000 && rep == 0 {
					r.Flamegraph = "flamegraphs/steady/" + s.v + ".svg"
					r.Profile = "profiles/steady/" + s.v + ".pb.gz"
					r.ResultsFile = "https://evil.example/results.bin"
				}
				f.Runs = append(f.Runs, r)
			}
			f.Runs = append(f.Runs, results.Run{Scenario: "steady", Verifier: s.v, Repeat: rep, Tokens: 10,
				OfferedRPS: 1000, AchievedRPS: 1000, SuccessRatio: 1, KneeRPS: s.knee})
		}
		if s.v == "noauth" {
			continue
		}
		f.Revocations = append(f.Revocations, results.Revocation{
			Scenario: "steady", Verifier: s.v, Event: "revoke-api", TimeToRejectMS: ptr(3), BoundMS: ptr(60000),
			Converged: true, Pass: s.v != "ttl", AcceptedAfter: map[bool]int{true: 0, false: 17}[s.v != "ttl"],
			Timeline: []results.ProbePoint{{TMS: -10, Accepted: true}, {TMS: 5, Accepted: s.v == "ttl"}},
		})
	}
	return f
}

// reportDir lays out what a run leaves behind: flame graphs (one too large
// to embed), a differential flame graph, no profiles.
func reportDir(t *testing.T) string {
	t.Helper()
	dir := t.TempDir()
	fg := filepath.Join(dir, "flamegraphs", "steady")
	if err := os.MkdirAll(fg, 0o755); err != nil {
		t.Fatal(err)
	}
	small := `<svg xmlns="http://www.w3.org/2000/svg" width="10" height="10"><rect width="10" height="10"/></svg>`
	for _, v := range []string{"noauth", "uncached", "generation", "mtime"} {
		if err := os.WriteFile(filepath.Join(fg, v+".svg"), []byte(small), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	large := small + "<!--" + strings.Repeat("x", 4096) + "-->"
	if err := os.WriteFile(filepath.Join(fg, "ttl.svg"), []byte(large), 0o644); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(filepath.Join(fg, "diff-generation-vs-uncached-grown.svg"), []byte(small), 0o644); err != nil {
		t.Fatal(err)
	}
	return dir
}

func TestWrite(t *testing.T) {
	t.Parallel()
	dir := reportDir(t)
	if err := Write(dir, synthetic(), Options{MaxEmbedBytes: 1024}); err != nil {
		t.Fatal(err)
	}
	md := read(t, filepath.Join(dir, MarkdownFile))
	html := read(t, filepath.Join(dir, HTMLFile))

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
		{"headline", "× no-auth"},
		{"security fail", "❌ FAIL"},
		{"target missed", "❌ MISSED"},
		{"target pass", "✅ pass"},
		{"short of target", "⚠️ short"},
		{"short list", "offered 1000 req/s, achieved 880 req/s"},
		{"flame graph link", "flamegraphs/steady/generation.svg"},
		{"diff link", "flamegraphs/steady/diff-generation-vs-uncached-grown.svg"},
		{"missing profile", "(missing)"},
		{"plot", "plots/knee-steady.png"},
		{"staleness plot", "plots/staleness-steady-revoke-api.png"},
		{"latency", "800 µs"},
	} {
		if !strings.Contains(md, tc.want) {
			t.Errorf("report.md: no %s (%q)", tc.name, tc.want)
		}
	}
	// The headline precedes the targets, which precede the scenarios.
	if h, tg, sc := strings.Index(md, "## Headline"), strings.Index(md, "## Targets"), strings.Index(md, "## Scenario: steady"); !(h >= 0 && h < tg && tg < sc) {
		t.Errorf("section order headline %d, targets %d, scenario %d", h, tg, sc)
	}
	if i, e := strings.Index(md, "Interrupted run"), strings.Index(md, "## Environment"); i > e {
		t.Error("interrupted warning is not at the top")
	}
	if strings.Contains(md, "evil.example](") {
		t.Error("report.md links an external results file")
	}

	for _, tc := range []struct{ name, want string }{
		{"fail in red", `class="fail"`},
		{"security fail", "❌ FAIL"},
		{"embedded png", `src="data:image/png;base64,`},
		{"embedded flame graph", `src="data:image/svg`}, // "+" is written as &#43;
		{"large flame graph linked", "too large to embed"},
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
	if err := Write(t.TempDir(), synthetic(), Options{PlotsDir: "../elsewhere"}); err == nil {
		t.Error("plots dir outside the report dir accepted")
	}
}

func TestSummarizeTargets(t *testing.T) {
	t.Parallel()
	s := Summarize(synthetic(), Options{})
	want := map[string]bool{ // name|verifier -> pass
		"knee ≥ 0.95 × no-auth|generation":         true,  // 0.98
		"knee ≥ 0.95 × no-auth|mtime":              true,  // 0.975
		"knee ≥ 0.95 × no-auth|ttl":                false, // 0.90
		"crypt share ≥ 80.0 % (uncached)|uncached": true,
		"crypt share ≤ 1.00 % (cached)|generation": true,
		"crypt share ≤ 1.00 % (cached)|mtime":      false,
		"crypt share ≤ 1.00 % (cached)|ttl":        true,
	}
	got := map[string]bool{}
	for _, tg := range s.Targets {
		got[tg.Name+"|"+tg.Verifier] = tg.Pass
	}
	if len(got) != len(want) {
		t.Errorf("targets %v, want %v", got, want)
	}
	for k, pass := range want {
		if g, ok := got[k]; !ok || g != pass {
			t.Errorf("target %s: pass=%v (present %v), want %v", k, g, ok, pass)
		}
	}
	if len(s.Short) != 2 {
		t.Errorf("%d short runs, want 2", len(s.Short))
	}
	if len(s.Failed) != 1 || s.Failed[0].Verifier != "ttl" {
		t.Errorf("failed revocations %v, want ttl only", s.Failed)
	}
	for _, r := range s.Headline {
		if r.Verifier == "generation" && (r.CommonRPS != 1000 || r.P99.Median != 800.5) {
			t.Errorf("generation headline: common %v p99 %v, want 1000 and 800.5", r.CommonRPS, r.P99.Median)
		}
	}
	if only := Summarize(synthetic(), Options{TargetScenarios: []string{"other"}}); len(only.Targets) != 0 {
		t.Errorf("targets outside TargetScenarios: %v", only.Targets)
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
		{txt("a|b_c").markdown(), `a\|b\_c`},
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
	got := cell{{Text: "Interrupted: ", Strong: true}, {Text: "partial"}}.markdown()
	if want := "**Interrupted:** partial"; got != want {
		t.Errorf("got %q, want %q", got, want)
	}
}
