package main

import (
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/authbench/authbench/internal/browser"
	"github.com/authbench/authbench/internal/report"
)

// TestReportOlderSchema: a results file from before interleaved rounds and
// microbenchmarks still renders a report, while bench compare refuses it
// with exit 2 and says why.
func TestReportOlderSchema(t *testing.T) {
	t.Parallel()
	old := roundsRun(t, "old", 1, false)
	code, stdout, stderr := bench(t, "", "report", old)
	if code != 0 {
		t.Fatalf("bench report on an older results file: exit %d\n%s", code, stderr)
	}
	if !strings.Contains(stdout, report.MarkdownFile) {
		t.Errorf("stdout %q names no report", stdout)
	}
	for _, name := range []string{report.MarkdownFile, report.HTMLFile} {
		if st, err := os.Stat(filepath.Join(old, name)); err != nil || st.Size() == 0 {
			t.Errorf("%s not written: %v", name, err)
		}
	}
	md, err := os.ReadFile(filepath.Join(old, report.MarkdownFile))
	if err != nil {
		t.Fatal(err)
	}
	if !strings.Contains(string(md), "## Headline") {
		t.Error("the older file's report has no headline")
	}
	code, _, stderr = bench(t, "", "compare", roundsRun(t, "new", 1, true), old)
	if code != 2 || !strings.Contains(stderr, "no interleaved rounds") {
		t.Errorf("compare with an older file: exit %d, stderr %q; want 2 and the reason", code, stderr)
	}
}

// TestReportCheckUsage: --check takes exactly one directory and no other
// option; a directory without index.html cannot be checked (exit 2).
func TestReportCheckUsage(t *testing.T) {
	t.Parallel()
	dir := t.TempDir()
	for _, tc := range []struct {
		name string
		args []string
	}{
		{"two dirs", []string{"report", "--check", dir, dir}},
		{"with --attack", []string{"report", "--check", "--attack", dir}},
		{"with --out", []string{"report", "--check", "--out", dir, dir}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			if code, _, stderr := bench(t, "", tc.args...); code != 2 || !strings.Contains(stderr, "--check takes one report directory") {
				t.Errorf("exit %d, stderr %q", code, stderr)
			}
		})
	}
}

// TestReportCheck runs the browser checks through the command: a missing
// index.html is exit 2; a report without a trade-off chart or flame graph
// (a run without revocations or profiles) is exit 1 with those problems
// listed, and the screenshot is left beside it.
func TestReportCheck(t *testing.T) {
	browser.ForTest(t) // fails with the install hint, or skips under AUTHBENCH_NO_BROWSER=1
	if code, _, stderr := bench(t, "", "report", "--check", t.TempDir()); code != 2 || !strings.Contains(stderr, "index.html") {
		t.Errorf("no index.html: exit %d, stderr %q", code, stderr)
	}
	dir := roundsRun(t, "plain", 1, true)
	if code, _, stderr := bench(t, "", "report", dir); code != 0 {
		t.Fatalf("bench report: exit %d\n%s", code, stderr)
	}
	code, stdout, stderr := bench(t, "", "report", "--check", dir)
	if code != 1 {
		t.Fatalf("exit %d, want 1\nstdout %s\nstderr %s", code, stdout, stderr)
	}
	for _, want := range []string{"img." + report.TradeOffClass, "links no flame graph"} {
		if !strings.Contains(stderr, want) {
			t.Errorf("stderr lacks %q:\n%s", want, stderr)
		}
	}
	if _, err := os.Stat(filepath.Join(dir, "index.screenshot.png")); err != nil || !strings.Contains(stdout, "screenshot: ") {
		t.Errorf("screenshot not saved or not named (%v): %s", err, stdout)
	}
}
