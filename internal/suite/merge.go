package suite

import (
	"fmt"
	"os"
	"path/filepath"

	"github.com/authbench/authbench/internal/results"
)

// MergeRuns merges the run directories of a sharded suite (bench run
// --shard) into dest: their artefacts side by side, one results.json, the
// microbenchmarks of the first shard that has them, and the outputs. It
// returns the merged file.
func MergeRuns(dirs []string, dest string) (*results.File, error) {
	files, err := ReadAll(dirs)
	if err != nil {
		return nil, err
	}
	if err := os.MkdirAll(dest, 0o755); err != nil {
		return nil, fmt.Errorf("output directory: %w", err)
	}
	// Shards write disjoint file names, so their artefacts are copied side
	// by side and the runs' relative paths stay valid.
	for _, d := range dirs {
		for _, sub := range results.RunDirs() {
			if err := CopyTree(filepath.Join(d, sub), filepath.Join(dest, sub)); err != nil {
				return nil, err
			}
		}
	}
	merged, err := results.Merge(files)
	if err != nil {
		return nil, err
	}
	merged.RunID = filepath.Base(dest)
	// Shards of one suite ran the same microbenchmarks: keep the first
	// shard's copy so the merged headline keeps its hit-path column.
	for i, f := range files {
		if f.Microbench == "" {
			continue
		}
		data, err := os.ReadFile(filepath.Join(dirs[i], f.Microbench))
		if err != nil {
			return nil, fmt.Errorf("shard %s: microbenchmarks: %w", dirs[i], err)
		}
		if err := os.WriteFile(filepath.Join(dest, results.MicrobenchFile), data, 0o644); err != nil {
			return nil, err
		}
		merged.Microbench = results.MicrobenchFile
		break
	}
	return merged, WriteOutputs(dest, merged)
}

// ReadError is a results file that could not be read: bad input, not a
// failure of the merge.
type ReadError struct{ Err error }

func (e *ReadError) Error() string { return e.Err.Error() }
func (e *ReadError) Unwrap() error { return e.Err }

// ReadAll reads the results of each directory; a failure is a *ReadError.
func ReadAll(dirs []string) ([]*results.File, error) {
	var files []*results.File
	for _, d := range dirs {
		f, err := results.Read(d)
		if err != nil {
			return nil, &ReadError{err}
		}
		files = append(files, f)
	}
	return files, nil
}
