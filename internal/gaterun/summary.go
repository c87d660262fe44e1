package gaterun

import (
	"bytes"
	"errors"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"strings"

	"github.com/authbench/authbench/internal/gaterates"
)

// VerdictOf names a gate outcome: PASS, REGRESSION, or ERROR (no verdict).
func VerdictOf(err error) string {
	switch {
	case err == nil:
		return "PASS"
	case errors.Is(err, ErrRegression):
		return "REGRESSION"
	}
	return "ERROR"
}

// RatesMarkdown is the calibrated rates as a short Markdown table: every
// method's false-alarm rate and detection of the planted slowdowns with
// their 95 % intervals and its smallest change detected with 80 % power.
func RatesMarkdown(f *gaterates.File, src string) string {
	var b strings.Builder
	cond := "quiet"
	if f.Neighbour {
		cond = "with the noisy neighbour"
	}
	fmt.Fprintf(&b, "Calibrated rates (`%s`, %s, %s, %s, %s correction; 95 %% Clopper–Pearson intervals):\n\n", src, f.Date, f.Machine, cond, f.Correction)
	b.WriteString("| method | min effect | A/A false alarms | detection per planted slowdown | smallest change at 80 % power |\n|---|---|---|---|---|\n")
	for _, m := range f.Methods {
		var det []string
		for _, p := range m.Detection {
			det = append(det, fmt.Sprintf("+%g %%: %s", 100*p.Slowdown, p.Detected))
		}
		fmt.Fprintf(&b, "| %s | %g %% | %s | %s | %s |\n", m.Method, 100*m.MinEffect, m.FalseAlarm, strings.Join(det, "<br>"), MDEString(m))
	}
	return b.String()
}

// WriteSummary writes the gate's verdict block as Markdown (for a CI job
// summary such as $GITHUB_STEP_SUMMARY, appended to): the verdict, the
// error if any, the comparison tables, and the calibrated rates of repo's
// gaterates.Path when it exists ("not calibrated" otherwise).
func WriteSummary(path, title string, runErr error, tables, repo string) error {
	var b strings.Builder
	fmt.Fprintf(&b, "## bench gate: %s\n\n%s\n\n", VerdictOf(runErr), title)
	if runErr != nil {
		fmt.Fprintf(&b, "> %s\n\n", strings.ReplaceAll(runErr.Error(), "\n", "\n> "))
	}
	if tables != "" {
		fmt.Fprintf(&b, "```text\n%s```\n\n", tables)
	}
	rp := filepath.Join(repo, gaterates.Path)
	if f, err := gaterates.Read(rp); err == nil {
		b.WriteString(RatesMarkdown(f, gaterates.Path))
	} else {
		fmt.Fprintf(&b, "Rates: not calibrated on this machine class (%v); run `make gate-calibrate`.\n", err)
	}
	fh, err := os.OpenFile(path, os.O_CREATE|os.O_APPEND|os.O_WRONLY, 0o644)
	if err != nil {
		return fmt.Errorf("--summary: %w", err)
	}
	if _, err := fh.WriteString(b.String()); err != nil {
		fh.Close()
		return fmt.Errorf("--summary: %w", err)
	}
	return fh.Close()
}

// WithSummary runs fn with its output also captured and, if path is set,
// appends the verdict block of fn's outcome to path.
func WithSummary(path, title, repo string, stdout io.Writer, fn func(io.Writer) error) error {
	if path == "" {
		return fn(stdout)
	}
	var tables bytes.Buffer
	err := fn(io.MultiWriter(stdout, &tables))
	if werr := WriteSummary(path, title, err, tables.String(), repo); werr != nil && err == nil {
		return werr
	}
	return err
}
