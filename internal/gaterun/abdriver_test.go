package gaterun

import (
	"bytes"
	"go/ast"
	"go/format"
	"go/parser"
	"go/token"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"text/template"
)

// driverDecls returns the source of the named top-level declarations
// (functions, methods by receiver type and name "T.m", types, consts,
// vars) of the driver template, executed as ABBuild executes it, so that
// tests run the driver's own code rather than a copy.
func driverDecls(t *testing.T, names ...string) string {
	t.Helper()
	var src bytes.Buffer
	tm := template.Must(template.New("ab").Delims("{{", "}}").Parse(abDriver))
	if err := tm.Execute(&src, map[string]string{"A": "example.com/m/abside/impl", "B": "example.com/m/impl"}); err != nil {
		t.Fatal(err)
	}
	fset := token.NewFileSet()
	f, err := parser.ParseFile(fset, "abdriver.go", src.Bytes(), parser.ParseComments)
	if err != nil {
		t.Fatalf("the driver template does not parse: %v", err)
	}
	want := map[string]bool{}
	for _, n := range names {
		want[n] = true
	}
	var out bytes.Buffer
	emit := func(n ast.Node, name string) {
		if err := format.Node(&out, fset, n); err != nil {
			t.Fatal(err)
		}
		out.WriteString("\n\n")
		delete(want, name)
	}
	for _, d := range f.Decls {
		switch d := d.(type) {
		case *ast.FuncDecl:
			name := d.Name.Name
			if d.Recv != nil && len(d.Recv.List) == 1 {
				if id, ok := d.Recv.List[0].Type.(*ast.Ident); ok {
					name = id.Name + "." + name
				}
			}
			if want[name] {
				emit(d, name)
			}
		case *ast.GenDecl:
			for _, s := range d.Specs {
				var ids []*ast.Ident
				switch s := s.(type) {
				case *ast.TypeSpec:
					ids = []*ast.Ident{s.Name}
				case *ast.ValueSpec:
					ids = s.Names
				}
				for _, id := range ids {
					if want[id.Name] {
						emit(d, id.Name)
						for _, id := range ids {
							delete(want, id.Name)
						}
						break
					}
				}
			}
		}
	}
	if len(want) > 0 {
		t.Fatalf("not in the driver template: %v", want)
	}
	return out.String()
}

// TestDriverPlantedFeedback runs the driver's feedback on the planted work
// (tune, nextIters, withinTarget) against modelled end-to-end effects, and
// checks that plantedLine reads the comment lines the driver prints.
func TestDriverPlantedFeedback(t *testing.T) {
	if testing.Short() {
		t.Skip("compiles a program")
	}
	decls := driverDecls(t, "tunePairs", "planting", "planting.comment", "tune", "nextIters", "withinTarget")
	main := `package main

import (
	"fmt"
	"math"
)

var _ = math.Abs

func main() {
	for _, c := range []struct {
		iters     int64
		f, ratio float64
	}{{10, 0.1, 1.05}, {10, 0.1, 1.1}, {10, 0.1, 1.0}, {10, 0.1, 0.97}, {10, 0.1, 1.5}, {1, 0.1, 1.5}, {7, 0.05, 1.0125}} {
		fmt.Println("next", c.iters, c.f, c.ratio, nextIters(c.iters, c.f, c.ratio))
	}
	for _, c := range [][2]float64{{0.1, 1.095}, {0.1, 1.089}, {0.1, 1.111}, {0.05, 1.05}} {
		fmt.Println("within", c[0], c[1], withinTarget(c[0], c[1]))
	}
	// End-to-end effect of n iterations on a 100 ns hit with 1 ns
	// iterations: the spin adds half, all of, twice its standalone time,
	// nothing, a tenth; then measurements that swing with the noise.
	for _, c := range []struct {
		name string
		eff  func(int64) float64
	}{{"half", func(n int64) float64 { return 0.5 * float64(n) / 100 }}, {"full", func(n int64) float64 { return float64(n) / 100 }},
		{"double", func(n int64) float64 { return 2 * float64(n) / 100 }}, {"none", func(int64) float64 { return 0 }},
		{"tenth", func(n int64) float64 { return 0.1 * float64(n) / 100 }}} {
		iters, ratio, n := tune(10, 0.1, func(n int64) float64 { return 1 + c.eff(n) })
		fmt.Printf("tune %s %d %.4f %d\n", c.name, iters, ratio, n)
	}
	swing := 0
	iters, ratio, n := tune(10, 0.1, func(int64) float64 { swing++; return []float64{1.3, 1.0}[(swing-1)%2] })
	fmt.Printf("tune swing %d %.4f %d\n", iters, ratio, n)
	fmt.Println(planting{verifier: "mtime", arm: "B+0.05", f: 0.05, bare: 412.5, perIter: 1.3, start: 16, iters: 31, ratio: 1.0493, n: 3, chunk: 1800, ms: 7.9}.comment())
	fmt.Println(planting{verifier: "ttl", arm: "B+0.01", f: 0.01, bare: 25, perIter: 1.3}.comment())
	fmt.Println(planting{verifier: "ttl", arm: "B+0.02", f: 0.02, bare: 25, perIter: 1.3, start: 1, iters: 1, ratio: 0.9987, n: 2, chunk: 2500, ms: 3}.comment())
}

` + decls
	dir := t.TempDir()
	if err := os.WriteFile(filepath.Join(dir, "main.go"), []byte(main), 0o644); err != nil {
		t.Fatal(err)
	}
	cmd := exec.Command("go", "run", "main.go")
	cmd.Dir = dir
	cmd.Env = append(os.Environ(), "GOFLAGS=")
	out, err := cmd.CombinedOutput()
	if err != nil {
		t.Fatalf("go run: %v\n%s", err, out)
	}
	lines := strings.Split(strings.TrimSpace(string(out)), "\n")
	want := []string{
		"next 10 0.1 1.05 20",   // half the effect: twice the iterations
		"next 10 0.1 1.1 10",    // on target
		"next 10 0.1 1 40",      // lost in the noise: ×4
		"next 10 0.1 0.97 40",   // below B: ×4
		"next 10 0.1 1.5 5",     // clamped to ×0.5
		"next 1 0.1 1.5 1",      // never below one iteration
		"next 7 0.05 1.0125 28", // ×4 exactly
		"within 0.1 1.095 true",
		"within 0.1 1.089 false",
		"within 0.1 1.111 false",
		"within 0.05 1.05 true",
		"tune half 20 1.1000 2",
		"tune full 10 1.1000 1",
		"tune double 5 1.1000 2",
		"tune none 80 1.0000 3",  // capped at 8× the standalone estimate, then no change
		"tune tenth 80 1.0800 3", // the cap again, with the last ratio measured at it
		"tune swing 40 1.3000 5", // at most 4 rescales, the last one measured
	}
	if len(lines) != len(want)+3 {
		t.Fatalf("driver program printed\n%s", out)
	}
	for i, w := range want {
		if lines[i] != w {
			t.Errorf("line %d: %q, want %q", i, lines[i], w)
		}
	}
	comments := lines[len(want):]
	for i, c := range []struct {
		verifier, arm string
		iters         int64
		slowdown      float64
		measured      bool
	}{{"mtime", "B+0.05", 31, 0.0493, true}, {"ttl", "B+0.01", 0, 0, false}, {"ttl", "B+0.02", 1, -0.0013, true}} {
		v, arm, iters, f, measured, ok := plantedLine(comments[i])
		if !ok || v != c.verifier || arm != c.arm || iters != c.iters || measured != c.measured || (measured && abs(f-c.slowdown) > 1e-9) {
			t.Errorf("plantedLine(%q) = %q %q %d %g %v %v, want %+v", comments[i], v, arm, iters, f, measured, ok, c)
		}
	}
	if t.Failed() {
		t.Logf("driver program printed\n%s", out)
	}
}

func abs(x float64) float64 {
	if x < 0 {
		return -x
	}
	return x
}

func TestPlantedLine(t *testing.T) {
	for _, c := range []struct {
		line         string
		arm          string
		iters        int64
		slowdown     float64
		measured, ok bool
	}{
		{"# ttl B+0.1: 12 spin iterations = +9.87 % measured end-to-end against B (median of 21 pairs of 2000 calls, 2 measurements, 6 ms; standalone estimate 5 iterations = +10.00 % of the 25.0 ns hit)", "B+0.1", 12, 0.0987, true, true},
		{"# ttl B+0.1: 1 spin iterations = +9.00 % of the 25.0 ns hit", "B+0.1", 1, 0.09, false, true}, // before the end-to-end tuning
		{"# ttl B+0.01: 0 spin iterations = +0.00 % of the 25.0 ns hit (+1 % is less than one standalone iteration of 1.30 ns, none planted)", "B+0.01", 0, 0, false, true},
		{"# missing k8s: in A true, in B false", "", 0, 0, false, false},
		{"BenchmarkAB/ttl/hit/arm=A 10 100 ns/op", "", 0, 0, false, false},
	} {
		_, arm, iters, f, measured, ok := plantedLine(c.line)
		if ok != c.ok || arm != c.arm || iters != c.iters || measured != c.measured || (measured && abs(f-c.slowdown) > 1e-9) {
			t.Errorf("plantedLine(%q) = %q %d %g %v %v", c.line, arm, iters, f, measured, ok)
		}
	}
}
