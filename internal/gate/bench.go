package gate

import (
	"errors"
	"fmt"
	"io"
	"os"
	"sort"

	"golang.org/x/perf/benchfmt"
)

// Key identifies one metric: a benchmark and a unit.
//
// Name is benchfmt's full name without the "Benchmark" prefix, including
// the sub-benchmark path and the "-N" GOMAXPROCS suffix, which is how
// benchstat's default rows (.fullname) keep runs at different GOMAXPROCS
// apart. Unit is benchfmt's tidied unit: "ns/op" is read as "sec/op" and
// "MB/s" as "B/s", with values scaled to match.
type Key struct {
	Name, Unit string
}

func (k Key) String() string { return k.Name + " " + k.Unit }

// Samples holds the measured values of each metric.
type Samples map[Key][]float64

// Add appends values for the metric (name, unit).
func (s Samples) Add(name, unit string, v ...float64) {
	k := Key{name, unit}
	s[k] = append(s[k], v...)
}

// Merge appends all values of o to s, e.g. to pool interleaved rounds.
func (s Samples) Merge(o Samples) {
	for k, v := range o {
		s[k] = append(s[k], v...)
	}
}

// Keys returns the metrics sorted by name, then unit.
func (s Samples) Keys() []Key {
	keys := make([]Key, 0, len(s))
	for k := range s {
		keys = append(keys, k)
	}
	sortKeys(keys)
	return keys
}

func sortKeys(keys []Key) {
	sort.Slice(keys, func(i, j int) bool {
		if keys[i].Name != keys[j].Name {
			return keys[i].Name < keys[j].Name
		}
		return keys[i].Unit < keys[j].Unit
	})
}

// ErrNoBenchmarks is returned when an input holds no benchmark result.
var ErrNoBenchmarks = errors.New("no benchmark results found")

// ReadBench reads Go benchmark format from r; name labels errors. A
// malformed benchmark line is an error rather than a warning: a gate must
// not silently compare fewer samples than were run.
func ReadBench(r io.Reader, name string) (Samples, error) {
	s := Samples{}
	n, err := readInto(s, r, name)
	if err != nil {
		return nil, err
	}
	if n == 0 {
		return nil, fmt.Errorf("%s: %w", name, ErrNoBenchmarks)
	}
	return s, nil
}

// ReadBenchFiles reads and pools the benchmark results of all paths.
func ReadBenchFiles(paths ...string) (Samples, error) {
	if len(paths) == 0 {
		return nil, errors.New("read bench: no files given")
	}
	s := Samples{}
	for _, p := range paths {
		f, err := os.Open(p)
		if err != nil {
			return nil, fmt.Errorf("read bench: %w", err)
		}
		n, err := readInto(s, f, p)
		f.Close()
		if err != nil {
			return nil, err
		}
		if n == 0 {
			return nil, fmt.Errorf("%s: %w", p, ErrNoBenchmarks)
		}
	}
	return s, nil
}

// readInto adds every result of r to s and returns how many lines it read.
func readInto(s Samples, r io.Reader, name string) (int, error) {
	n := 0
	br := benchfmt.NewReader(r, name)
	for br.Scan() {
		switch rec := br.Result().(type) {
		case *benchfmt.SyntaxError:
			return n, fmt.Errorf("read bench: %w", rec)
		case *benchfmt.Result:
			n++
			for _, v := range rec.Values {
				s.Add(rec.Name.String(), v.Unit, v.Value)
			}
		}
	}
	if err := br.Err(); err != nil {
		return n, fmt.Errorf("read bench %s: %w", name, err)
	}
	return n, nil
}
