package gaterun

import (
	"encoding/json"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"slices"

	gatefiles "github.com/authbench/authbench/gate"
	"github.com/authbench/authbench/internal/gate"
	"github.com/authbench/authbench/internal/results"
)

// ErrNothingChecked is returned when no threshold applies to any run: an
// empty or foreign results file is not a pass.
var ErrNothingChecked = fmt.Errorf("nothing was checked")

// Semantic checks a results directory (or results.json) against the
// thresholds file: flagPath, else gate/thresholds.yaml under repo, else the
// copy embedded at build time. It returns nil on a pass, an error wrapping
// ErrRegression when a check failed, and any other error when no verdict
// is possible.
func Semantic(dir, flagPath, repo string, stdout io.Writer) error {
	th, src, err := loadThresholds(flagPath, repo)
	if err != nil {
		return err
	}
	if err := checkSchema(dir); err != nil {
		return err
	}
	res, err := results.Read(dir)
	if err != nil {
		return err
	}
	fs := gate.CheckSemantic(res, th)
	fmt.Fprintf(stdout, "semantic gate: %s against %s\n", dir, src)
	if err := gate.WriteFindings(stdout, fs); err != nil {
		return err
	}
	if !slices.ContainsFunc(fs, func(f gate.Finding) bool { return f.Status != gate.NoData }) {
		return fmt.Errorf("no threshold applies to any run in %s: %w", dir, ErrNothingChecked)
	}
	n := 0
	for _, f := range fs {
		if f.Status == gate.Fail {
			n++
		}
	}
	if n > 0 {
		return fmt.Errorf("%w: %d semantic check(s) failed", ErrRegression, n)
	}
	fmt.Fprintln(stdout, "gate: pass")
	return nil
}

// checkSchema names the problem when a results directory was written by
// another schema, before results.Read's generic error.
func checkSchema(dir string) error {
	p := dir
	if st, err := os.Stat(p); err == nil && st.IsDir() {
		p = filepath.Join(p, results.FileName)
	}
	data, err := os.ReadFile(p)
	if err != nil {
		return fmt.Errorf("read results: %w", err)
	}
	var head struct {
		SchemaVersion *int `json:"schema_version"`
	}
	if err := json.Unmarshal(data, &head); err != nil {
		return fmt.Errorf("parse %s: %w", p, err)
	}
	switch {
	case head.SchemaVersion == nil:
		return fmt.Errorf("%s has no schema_version: not a results.json of bench run (or from before schema 1); rerun `bench run`", p)
	case *head.SchemaVersion != results.SchemaVersion:
		return fmt.Errorf("%s is results schema %d, this build reads schema %d: regenerate it with this build's `bench run`", p, *head.SchemaVersion, results.SchemaVersion)
	}
	return nil
}

func loadThresholds(flagPath, repo string) (gate.Thresholds, string, error) {
	if flagPath != "" {
		th, err := gate.LoadThresholds(flagPath)
		return th, flagPath, err
	}
	p := filepath.Join(repo, "gate", "thresholds.yaml")
	if _, err := os.Stat(p); err == nil {
		th, err := gate.LoadThresholds(p)
		return th, p, err
	}
	th, err := gate.ParseThresholds([]byte(gatefiles.ThresholdsYAML()))
	return th, "built-in thresholds (gate/thresholds.yaml)", err
}
