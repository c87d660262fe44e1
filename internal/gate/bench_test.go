package gate

import (
	"errors"
	"io/fs"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

const benchOut = `goos: linux
goarch: amd64
pkg: github.com/authbench/authbench/internal/verify
cpu: Test CPU
BenchmarkVerify/uncached-4         	     100	  3000000 ns/op	     512 B/op	       7 allocs/op	         1.000 slow/op
BenchmarkVerify/generation-4       	  500000	      250 ns/op	       0 B/op	       0 allocs/op	         0 slow/op
BenchmarkVerify/uncached-4         	     100	  3100000 ns/op	     512 B/op	       7 allocs/op	         1.000 slow/op
BenchmarkServe-4                   	    1000	    12000 ns/op	      8300 req/s
BenchmarkServe                     	    1000	    12500 ns/op	      8000 req/s
PASS
ok  	github.com/authbench/authbench/internal/verify	3.2s
`

func TestReadBench(t *testing.T) {
	s, err := ReadBench(strings.NewReader(benchOut), "old.txt")
	if err != nil {
		t.Fatal(err)
	}
	tests := []struct {
		name, unit string
		want       []float64
	}{
		{"Verify/uncached-4", "sec/op", []float64{3e-3, 3.1e-3}},
		{"Verify/uncached-4", "B/op", []float64{512, 512}},
		{"Verify/uncached-4", "allocs/op", []float64{7, 7}},
		{"Verify/uncached-4", "slow/op", []float64{1, 1}},
		{"Verify/generation-4", "sec/op", []float64{250e-9}},
		{"Serve-4", "req/s", []float64{8300}},
		{"Serve", "req/s", []float64{8000}}, // GOMAXPROCS 1 stays a separate row, as in benchstat
	}
	for _, tt := range tests {
		got := s[Key{tt.name, tt.unit}]
		if len(got) != len(tt.want) {
			t.Errorf("%s %s: got %v, want %v", tt.name, tt.unit, got, tt.want)
			continue
		}
		for i := range got {
			if d := got[i] - tt.want[i]; d > 1e-12 || d < -1e-12 {
				t.Errorf("%s %s: got %v, want %v", tt.name, tt.unit, got, tt.want)
			}
		}
	}
	if len(s) != 12 {
		t.Errorf("got %d metrics, want 12: %v", len(s), s.Keys())
	}
}

func TestReadBenchErrors(t *testing.T) {
	dir := t.TempDir()
	good := filepath.Join(dir, "good.txt")
	empty := filepath.Join(dir, "empty.txt")
	bad := filepath.Join(dir, "bad.txt")
	for p, content := range map[string]string{good: benchOut, empty: "PASS\nok x 1s\n", bad: "BenchmarkX-4 100 12 ns/op 7\n"} {
		if err := os.WriteFile(p, []byte(content), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	tests := []struct {
		name  string
		paths []string
		is    error
		msg   string
	}{
		{"missing file", []string{filepath.Join(dir, "nope.txt")}, fs.ErrNotExist, "nope.txt"},
		{"no benchmarks", []string{good, empty}, ErrNoBenchmarks, "empty.txt"},
		{"syntax error", []string{bad}, nil, "missing units"},
		{"no files", nil, nil, "no files"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			_, err := ReadBenchFiles(tt.paths...)
			if err == nil || (tt.is != nil && !errors.Is(err, tt.is)) || !strings.Contains(err.Error(), tt.msg) {
				t.Fatalf("got %v, want %v containing %q", err, tt.is, tt.msg)
			}
		})
	}
	s, err := ReadBenchFiles(good, good)
	if err != nil {
		t.Fatal(err)
	}
	if n := len(s[Key{"Verify/uncached-4", "sec/op"}]); n != 4 {
		t.Errorf("pooled %d values, want 4", n)
	}
}
