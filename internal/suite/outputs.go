package suite

import (
	"bytes"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"os"
	"path/filepath"

	"github.com/authbench/authbench/internal/gaterates"
	"github.com/authbench/authbench/internal/outfile"
	"github.com/authbench/authbench/internal/report"
	"github.com/authbench/authbench/internal/results"
)

// WriteOutputs writes results.json, the Go benchmark-format summary and
// the report into dir.
func WriteOutputs(dir string, res *results.File) error {
	if err := results.Write(dir, res); err != nil {
		return err
	}
	if err := outfile.Write(filepath.Join(dir, results.BenchFile), func(w io.Writer) error { return results.WriteBenchFormat(w, res) }); err != nil {
		return err
	}
	// The analysis picks the target scenarios from the runs' Target flag.
	gate, err := gateVerdict(gaterates.Path)
	if err != nil {
		return err
	}
	if err := report.Write(dir, res, report.Options{Gate: gate}); err != nil {
		return fmt.Errorf("report: %w", err)
	}
	return nil
}

// gateVerdict reads the gate's calibrated rates (committed by make
// gate-calibrate, relative to the repository the suite runs in) for the
// report's verdict block; no file states nothing, a broken one is an
// error rather than a silently missing sentence.
func gateVerdict(path string) (*report.GateVerdict, error) {
	f, err := gaterates.Read(path)
	switch {
	case errors.Is(err, fs.ErrNotExist):
		return nil, nil
	case err != nil:
		return nil, fmt.Errorf("gate rates for the report: %w", err)
	}
	return report.GateFromRates(f), nil
}

// maxMicrobench bounds the microbenchmark file: make bench-go's output is
// a few kilobytes.
const maxMicrobench = 16 << 20

// ReadMicrobench reads and validates a microbenchmark file (go test -bench
// 'Verify/' ./impl/ output) before anything runs: a bad file must not cost
// a suite.
func ReadMicrobench(path string) ([]byte, error) {
	f, err := os.Open(path)
	if err != nil {
		return nil, fmt.Errorf("--microbench: %w", err)
	}
	defer f.Close()
	data, err := io.ReadAll(io.LimitReader(f, maxMicrobench+1))
	if err != nil {
		return nil, fmt.Errorf("--microbench: read %s: %w", path, err)
	}
	if len(data) > maxMicrobench {
		return nil, fmt.Errorf("--microbench: %s is larger than %d bytes", path, maxMicrobench)
	}
	if _, err := results.CheckMicrobench(bytes.NewReader(data), path); err != nil {
		return nil, fmt.Errorf("--microbench: %w", err)
	}
	return data, nil
}

// SaveMicrobench writes validated microbenchmarks into a run directory as
// results.MicrobenchFile.
func SaveMicrobench(dir string, data []byte) error {
	return outfile.Write(filepath.Join(dir, results.MicrobenchFile), func(w io.Writer) error { _, err := w.Write(data); return err })
}

// CheckWritable fails early, with the directory named, when dir cannot
// take the run's files.
func CheckWritable(dir string) error {
	f, err := os.CreateTemp(dir, ".write-test-*")
	if err != nil {
		return fmt.Errorf("output directory %s is not writable: %w", dir, err)
	}
	f.Close()
	return os.Remove(f.Name())
}

// CopyTree copies the regular files under src into dst; a missing src
// copies nothing.
func CopyTree(src, dst string) error {
	return filepath.WalkDir(src, func(p string, d fs.DirEntry, err error) error {
		if errors.Is(err, fs.ErrNotExist) && p == src {
			return filepath.SkipDir
		}
		if err != nil {
			return err
		}
		rel, _ := filepath.Rel(src, p)
		target := filepath.Join(dst, rel)
		if d.IsDir() {
			return os.MkdirAll(target, 0o755)
		}
		data, err := os.ReadFile(p)
		if err != nil {
			return err
		}
		return os.WriteFile(target, data, 0o644)
	})
}
