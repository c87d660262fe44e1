package report

import (
	"fmt"
	"os"
	"path/filepath"
	"regexp"
	"strings"

	"github.com/authbench/authbench/internal/analysis"
	"github.com/authbench/authbench/internal/plotting"
	"github.com/authbench/authbench/internal/results"
	"github.com/authbench/authbench/internal/targets"
)

// File names written into the report directory.
const (
	MarkdownFile = "report.md"
	HTMLFile     = "index.html"
	// ScenarioDir holds report.md's per-scenario detail files
	// (ScenarioDir/<slug>.md), linked from report.md; index.html keeps the
	// same detail in collapsed sections.
	ScenarioDir = "scenarios"
)

// HeadlineID is the HTML id of the headline table (the browser test checks
// it is inside the first screen).
const HeadlineID = "headline"

// VerdictID is the HTML id of the verdict block that opens the report.
const VerdictID = "verdict"

// TradeOffClass is the HTML class of the trade-off chart's image (the
// browser test checks it is inside the first screen too).
const TradeOffClass = "tradeoff"

// TradeOffMinWidth is the trade-off chart's displayed width in CSS px
// (html.go's style sets it; the browser check asserts it): narrower, its
// verifier labels and interval bars ran together.
const TradeOffMinWidth = 600

// MaxTopLines is the most lines report.md's top level may have; the
// detail lives in ScenarioDir.
const MaxTopLines = 300

// DefaultMaxEmbedBytes caps the size of one flame graph embedded in
// index.html; DefaultEmbedBudget caps all of them together, so that the
// page of a full run stays well under 3 MB (TestFullRunSize: a full-size
// run's plots and tables take about 1.8 MB, so 1 MiB of flame graphs left
// too little headroom). Larger ones are linked.
const (
	DefaultMaxEmbedBytes = 256 << 10
	DefaultEmbedBudget   = 512 << 10
)

// GateVerdict is the regression gate's answer for the verdict block.
type GateVerdict struct {
	Pass bool
	// Text is the sentence, with its numbers (rates, n, intervals).
	Text string
}

// Options tune Write. The zero value is ready to use.
type Options struct {
	// PlotsDir is the directory, relative to the report dir, for the plots
	// (results.DirPlots when empty).
	PlotsDir string
	// NoPlots skips drawing plots.
	NoPlots bool
	// MaxEmbedBytes caps flame graphs embedded in index.html; larger ones
	// are linked. 0 means DefaultMaxEmbedBytes, negative never embeds.
	MaxEmbedBytes int64
	// TargetScenarios restricts the target checks to these scenarios
	// (e.g. the steady-state one); empty uses the runs' Target marks.
	TargetScenarios []string
	// Targets are the targets to judge; the zero value reads the built-in
	// gate/thresholds.yaml, the file the gate reads.
	Targets targets.File
	// Gate, when set, is the regression gate's verdict, stated in the
	// verdict block; nil states nothing.
	Gate *GateVerdict
}

// Write renders f into dir/report.md (with its per-scenario files in
// dir/scenarios) and dir/index.html, drawing the plots into
// dir/<PlotsDir> first. dir is the run's report directory; paths inside f
// are relative to it.
func Write(dir string, f *results.File, opts Options) error {
	if opts.PlotsDir == "" {
		opts.PlotsDir = results.DirPlots
	}
	if opts.MaxEmbedBytes == 0 {
		opts.MaxEmbedBytes = DefaultMaxEmbedBytes
	}
	if !filepath.IsLocal(opts.PlotsDir) {
		return fmt.Errorf("report: plots dir %q is not inside the report dir", opts.PlotsDir)
	}
	sum := analysis.Summarize(f, analysis.Options{TargetScenarios: opts.TargetScenarios, Targets: opts.Targets})
	hit, err := hitPath(dir)
	if err != nil {
		return fmt.Errorf("report: %w", err)
	}
	ovs := analysis.Overviews(f, sum, hit)
	plots := map[string][]string{}
	var tradeoff []string
	if !opts.NoPlots {
		plotDir := filepath.Join(dir, opts.PlotsDir)
		if plots, err = plotting.All(plotDir, f); err != nil {
			return fmt.Errorf("report: %w", err)
		}
		if tradeoff, err = plotting.TradeOff(plotDir, ovs[0]); err != nil {
			return fmt.Errorf("report: %w", err)
		}
	}
	p := build(dir, f, sum, ovs, opts, plots, tradeoff)
	if err := p.writeMarkdown(dir); err != nil {
		return fmt.Errorf("report: %w", err)
	}
	html, err := p.html().html(dir, opts.MaxEmbedBytes, DefaultEmbedBudget)
	if err != nil {
		return fmt.Errorf("report: %w", err)
	}
	if err := os.WriteFile(filepath.Join(dir, HTMLFile), html, 0o644); err != nil {
		return fmt.Errorf("report: %w", err)
	}
	return nil
}

// hitPath reads the verifier microbenchmarks of the run dir when present.
func hitPath(dir string) (map[string]analysis.Bench, error) {
	for _, name := range []string{results.MicrobenchFile, results.BenchFile} {
		fh, err := os.Open(filepath.Join(dir, name))
		if os.IsNotExist(err) {
			continue
		}
		if err != nil {
			return nil, err
		}
		hit, err := analysis.HitPath(fh, name)
		fh.Close()
		if err != nil {
			return nil, err
		}
		if len(hit) > 0 {
			return hit, nil
		}
	}
	return nil, nil
}

// section is one per-scenario detail: its own file under ScenarioDir in
// markdown, a collapsed section in index.html.
type section struct {
	Slug, Title string
	Blocks      []block
}

// page is the report: the top level and its detail sections.
type page struct {
	top      *document
	sections []section
}

// html is the page as one document: the sections collapsed at the end.
func (p *page) html() *document {
	d := &document{Title: p.top.Title, Blocks: append([]block(nil), p.top.Blocks...)}
	for _, s := range p.sections {
		d.details(s.Title)
		d.Blocks = append(d.Blocks, s.Blocks...)
		d.endDetails()
	}
	return d
}

// writeMarkdown writes report.md, which links each section's file, and
// the section files.
func (p *page) writeMarkdown(dir string) error {
	top := &document{Title: p.top.Title, Blocks: append([]block(nil), p.top.Blocks...)}
	var items []cell
	for _, s := range p.sections {
		items = append(items, cell{{Text: s.Title, Href: ScenarioDir + "/" + s.Slug + ".md"}})
	}
	if len(items) > 0 {
		top.list(items)
	}
	if err := os.WriteFile(filepath.Join(dir, MarkdownFile), top.markdown(dir, ""), 0o644); err != nil {
		return err
	}
	if len(p.sections) == 0 {
		return nil
	}
	sdir := filepath.Join(dir, ScenarioDir)
	if err := os.MkdirAll(sdir, 0o755); err != nil {
		return err
	}
	for _, s := range p.sections {
		d := &document{Title: s.Title}
		d.p(cell{{Text: "← the report", Href: MarkdownFile}})
		d.Blocks = append(d.Blocks, s.Blocks...)
		// Section blocks link relative to the report dir: one level up.
		md := d.markdown(dir, "../")
		if err := os.WriteFile(filepath.Join(sdir, s.Slug+".md"), md, 0o644); err != nil {
			return err
		}
	}
	return nil
}

var slugUnsafe = regexp.MustCompile(`[^A-Za-z0-9._-]+`)

// slug names a section's file: the scenario name with '/' and other
// unsafe characters replaced, unique within the page.
func slug(name string, used map[string]bool) string {
	s := strings.Trim(slugUnsafe.ReplaceAllString(strings.ReplaceAll(name, "=", "-"), "_"), "_.")
	if s == "" {
		s = "scenario"
	}
	base := s
	for i := 2; used[s]; i++ {
		s = fmt.Sprintf("%s-%d", base, i)
	}
	used[s] = true
	return s
}

func build(dir string, f *results.File, sum analysis.Summary, ovs []analysis.Overview, opts Options, plots map[string][]string, tradeoff []string) *page {
	d := &document{Title: "authbench report — " + f.RunID}

	// The answers first, then what must not be missed.
	verdictBlock(d, f, ovs[0], opts.Gate, opts.PlotsDir, tradeoff)
	if f.Interrupted {
		d.callout("fail", cell{{Text: "⚠️ Interrupted run: ", Strong: true, Class: "fail"},
			{Text: "the suite was stopped before it finished; the results below are partial."}})
	}
	if len(sum.Failed) > 0 {
		d.callout("fail", cell{{Text: fmt.Sprintf("❌ %d of %d revocation checks FAILED", len(sum.Failed), sum.Revocations), Strong: true, Class: "fail"},
			{Text: " — see the security tables of the scenarios."}})
	}
	// The headline comes before the target banner: the browser check
	// wants the table and the chart in the first screen.
	headlineSection(d, ovs[0])
	openTargets(d, sum)
	for _, ov := range ovs[1:] {
		d.h(3, "Headline: "+ov.Group+" strategies")
		overviewTable(d, ov, "")
		d.pClass("note", txt(fmt.Sprintf("Costs and ratios from %s; ratios to uncached are to %s.", orDash(ov.Scenario), ov.Group+"/"+results.BaselineVerifier)))
	}
	targetSection(d, sum)
	shortSection(d, sum)
	envSection(d, f)
	notesSection(d, f)
	d.h(2, "Scenarios")

	p := &page{top: d}
	used := map[string]bool{}
	for _, ss := range sum.Scenarios {
		s := scenarioSection(dir, f, ss, opts.PlotsDir, plots[ss.Name])
		s.Slug = slug(ss.Name, used)
		p.sections = append(p.sections, s)
	}
	if s, ok := ticketSections(f, opts.PlotsDir, plots); ok {
		s.Slug = slug("ticket-key-caches", used)
		p.sections = append(p.sections, s)
	}
	return p
}

func envSection(d *document, f *results.File) {
	e := f.Env
	d.h(2, "Environment")
	rows := []cell2{
		{txt("Go"), txt(strings.TrimSpace(e.GoVersion + " " + osArch(e)))},
		{txt("CPU"), txt(orDash(e.CPUModel))},
		{txt("Cores / GOMAXPROCS"), txt(fmt.Sprintf("%d / %d", e.NumCPU, e.GOMAXPROCS))},
		{txt("Commit"), cell{{Text: orDash(e.Commit), Code: e.Commit != ""}}},
		{txt("Hash scheme / cost"), txt(fmt.Sprintf("%s / %d", orDash(e.HashScheme), e.HashCost))},
		{txt("Date"), txt(orDash(e.Date))},
		{txt("Load setup"), txt(orDash(e.LoadSetup))},
	}
	if e.Suite != "" {
		rows = append(rows, cell2{txt("Suite"), txt(e.Suite)})
	}
	if e.Hostname != "" {
		rows = append(rows, cell2{txt("Host"), txt(e.Hostname)})
	}
	if len(f.Shards) > 0 {
		rows = append(rows, cell2{txt("Merged shards"), txt(strings.Join(f.Shards, ", "))})
	}
	d.table([]string{"", "value"}, rows)
}

func osArch(e results.Env) string {
	if e.GOOS == "" && e.GOARCH == "" {
		return ""
	}
	return "(" + e.GOOS + "/" + e.GOARCH + ")"
}

// notesSection states the run's notes and how the report estimates what
// it states, so that each figure has one definition.
func notesSection(d *document, f *results.File) {
	d.h(2, "Notes")
	items := []cell{
		txt("Crypt share, everywhere in this report: the Hodges–Lehmann estimate of the per-round medians of the profile's crypt fraction, with its signed-rank interval; one profile sample stands for 1/samples of the CPU, so a share target needs enough samples per window (its resolution)."),
		txt(fmt.Sprintf("Hit path: BenchmarkVerify/<verifier>/hit, the median of the runs with benchstat's distribution-free %.0f %% interval (golang.org/x/perf/benchmath) and n; make bench-go records %d runs.", 100*analysis.BenchConfidence, analysis.MinBenchRuns)),
		txt("Knee targets: resolved as finely as the coarser of the A/A noise floor (the interval without an A/A copy) and the searches' bracket (first failed / last sustained rate, when recorded); a search capped by its maximum or the load generator's ceiling is undecidable."),
		txt("Crypt-share sources: the knee searches' pooled profile of their sustained steps when results.json records it (knee_cpu_share, many more samples), else the constant windows at the reference rate; each target line says which."),
	}
	for _, n := range f.Notes {
		items = append(items, txt(n))
	}
	d.listClass("compact", items)
}

// shortSection lists runs short of their target rate, collapsed.
func shortSection(d *document, sum analysis.Summary) {
	if len(sum.Short) == 0 {
		return
	}
	var items []cell
	for _, r := range sum.Short {
		items = append(items, cell{{Text: "⚠️ ", Class: "warn"}, {Text: fmt.Sprintf("%s / %s%s, %s: offered %s req/s, achieved %s req/s (%s)",
			r.Scenario, r.Verifier, phaseSuffix(r), unitName(r), fmtNum(r.OfferedRPS), fmtNum(r.AchievedRPS), fmtPct(ratio(r.AchievedRPS, r.OfferedRPS)))}})
	}
	d.details(fmt.Sprintf("%d runs fell short of their target rate", len(items)))
	d.listClass("compact", items)
	d.endDetails()
}
