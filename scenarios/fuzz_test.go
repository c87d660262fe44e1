package scenarios

import (
	"os"
	"path/filepath"
	"strings"
	"testing"
)

// FuzzParse feeds arbitrary bytes to Parse: it must never panic, must
// return either a scenario or an error, every error must name the file,
// and a scenario it accepts must expand and shorten without panicking.
func FuzzParse(f *testing.F) {
	seeds, err := filepath.Glob("*.yaml")
	if err != nil {
		f.Fatal(err)
	}
	broken, err := filepath.Glob(filepath.Join("testdata", "*", "*.yaml"))
	if err != nil {
		f.Fatal(err)
	}
	seeds = append(seeds, filepath.Join("testdata", "example.yaml"))
	for _, p := range append(seeds, broken...) {
		data, err := os.ReadFile(p)
		if err != nil {
			f.Fatal(err)
		}
		f.Add(data)
		// Broken variants of each file: truncated, and with a line
		// dropped, which breaks indentation or removes a required field.
		f.Add(data[:len(data)/2])
		if lines := strings.Split(string(data), "\n"); len(lines) > 3 {
			f.Add([]byte(strings.Join(append(lines[:2:2], lines[3:]...), "\n")))
		}
	}
	f.Add([]byte("a: &a [*a, *a]\n"))
	f.Add([]byte("load: {rate: 1e308, duration: 1h}\nmatrix: {tokens: [1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12, 13, 14, 15, 16]}\n"))
	f.Fuzz(func(t *testing.T, data []byte) {
		s, err := Parse("fuzz.yaml", data, knownWithTickets)
		if (s == nil) == (err == nil) {
			t.Fatalf("Parse returned scenario %v and error %v", s, err)
		}
		if err != nil {
			for _, line := range strings.Split(err.Error(), "\n") {
				if !strings.HasPrefix(line, "fuzz.yaml") {
					t.Fatalf("error line %q does not name the file", line)
				}
			}
			return
		}
		vs := s.Expand()
		if len(vs) == 0 {
			t.Fatal("no variants")
		}
		q := s.Quick()
		if q.Load.Repeats != 1 {
			t.Fatalf("quick repeats %d", q.Load.Repeats)
		}
		_ = s.EstimatedRuntime()
	})
}
