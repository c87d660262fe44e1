// Package outfile creates an output file and writes it through a function,
// the one helper the runner, the profile stage and the CLI share for every
// artefact they write (profiles, folded stacks, SVGs, bench.txt).
package outfile

import (
	"fmt"
	"io"
	"os"
	"path/filepath"
)

// Write creates path (and its parent directories) and fills it with write.
// A failed write or close is an error naming the file; a partial file is
// removed so that no truncated artefact is left for a reader to trust.
func Write(path string, write func(io.Writer) error) error {
	if err := os.MkdirAll(filepath.Dir(path), 0o755); err != nil {
		return fmt.Errorf("create %s: %w", path, err)
	}
	f, err := os.Create(path)
	if err != nil {
		return fmt.Errorf("create %s: %w", path, err)
	}
	if err := write(f); err != nil {
		f.Close()
		os.Remove(path)
		return fmt.Errorf("write %s: %w", path, err)
	}
	if err := f.Close(); err != nil {
		os.Remove(path)
		return fmt.Errorf("write %s: %w", path, err)
	}
	return nil
}
