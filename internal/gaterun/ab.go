package gaterun

import (
	"bufio"
	"bytes"
	"context"
	_ "embed"
	"fmt"
	"io/fs"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"text/template"

	"github.com/authbench/authbench/internal/gate"
)

// The in-process A/B driver (method "ab"): both revisions' impl compiled
// into one program under two import paths, their hit paths timed
// alternately in many short samples in one process. abdriver.go.txt is
// its source; ABBuild writes it into a temporary module that only the
// gate owns.
//
//go:embed abdriver.go.txt
var abDriver string

// abPrefix is where the A side's copy of the module's packages goes in
// the temporary module, under a different import path.
const abPrefix = "abside"

// ABBuild builds the driver with aSrc's impl (and every package of the
// module it imports) as side A and bSrc's as side B, in a module under
// out that takes bSrc's go.mod: a dependency only A needs fails the build
// with go's own message.
func ABBuild(ctx context.Context, aSrc, bSrc, out string) (string, error) {
	mod := filepath.Join(out, "ab-module")
	gomod, err := os.ReadFile(filepath.Join(bSrc, "go.mod"))
	if err != nil {
		return "", fmt.Errorf("in-process A/B: %w", err)
	}
	modPath := modulePath(gomod)
	if modPath == "" {
		return "", fmt.Errorf("in-process A/B: no module line in %s/go.mod", bSrc)
	}
	if err := os.MkdirAll(mod, 0o755); err != nil {
		return "", fmt.Errorf("in-process A/B: %w", err)
	}
	for _, f := range []string{"go.mod", "go.sum"} {
		if b, err := os.ReadFile(filepath.Join(bSrc, f)); err == nil {
			if err := os.WriteFile(filepath.Join(mod, f), b, 0o644); err != nil {
				return "", fmt.Errorf("in-process A/B: %w", err)
			}
		}
	}
	for _, side := range []struct{ src, prefix string }{{aSrc, abPrefix}, {bSrc, ""}} {
		if err := copyPackages(ctx, side.src, modPath, mod, side.prefix); err != nil {
			return "", err
		}
	}
	var src bytes.Buffer
	t := template.Must(template.New("ab").Delims("{{", "}}").Parse(abDriver))
	if err := t.Execute(&src, map[string]string{"A": modPath + "/" + abPrefix + "/impl", "B": modPath + "/impl"}); err != nil {
		return "", fmt.Errorf("in-process A/B: %w", err)
	}
	if err := os.MkdirAll(filepath.Join(mod, "abdriver"), 0o755); err != nil {
		return "", fmt.Errorf("in-process A/B: %w", err)
	}
	if err := os.WriteFile(filepath.Join(mod, "abdriver", "main.go"), src.Bytes(), 0o644); err != nil {
		return "", fmt.Errorf("in-process A/B: %w", err)
	}
	bin := filepath.Join(out, "abdriver")
	cmd := exec.CommandContext(ctx, "go", "build", "-o", bin, "./abdriver")
	cmd.Dir = mod
	if b, err := cmd.CombinedOutput(); err != nil {
		return "", fmt.Errorf("in-process A/B driver does not build (both sides need the same impl API: New, Config, OpenStore, Seed, NewSecret, cryptpw.Hash): %w\n%s", err, tail(b))
	}
	return bin, nil
}

func modulePath(gomod []byte) string {
	sc := bufio.NewScanner(bytes.NewReader(gomod))
	for sc.Scan() {
		if rest, ok := strings.CutPrefix(strings.TrimSpace(sc.Text()), "module "); ok {
			return strings.Trim(strings.TrimSpace(rest), `"`)
		}
	}
	return ""
}

// copyPackages copies the non-test files of ./impl and of every package
// of module modPath it imports from src to mod/prefix/..., rewriting
// imports of the module to the prefixed path.
func copyPackages(ctx context.Context, src, modPath, mod, prefix string) error {
	cmd := exec.CommandContext(ctx, "go", "list", "-deps", "-f", "{{if not .Standard}}{{.ImportPath}}\t{{.Dir}}{{end}}", "./impl")
	cmd.Dir = src
	out, err := cmd.Output()
	if err != nil {
		return fmt.Errorf("in-process A/B: go list in %s: %w", src, err)
	}
	for _, line := range strings.Split(strings.TrimSpace(string(out)), "\n") {
		path, dir, ok := strings.Cut(line, "\t")
		rel, inMod := strings.CutPrefix(path, modPath+"/")
		if !ok || !inMod {
			continue
		}
		dst := filepath.Join(mod, prefix, filepath.FromSlash(rel))
		if err := copyDir(dir, dst, modPath, prefix); err != nil {
			return fmt.Errorf("in-process A/B: copy %s: %w", path, err)
		}
	}
	return nil
}

func copyDir(dir, dst, modPath, prefix string) error {
	if err := os.MkdirAll(dst, 0o755); err != nil {
		return err
	}
	es, err := os.ReadDir(dir)
	if err != nil {
		return err
	}
	for _, e := range es {
		if !e.Type().IsRegular() || strings.HasSuffix(e.Name(), "_test.go") {
			continue
		}
		b, err := fs.ReadFile(os.DirFS(dir), e.Name())
		if err != nil {
			return err
		}
		if prefix != "" && strings.HasSuffix(e.Name(), ".go") {
			b = bytes.ReplaceAll(b, []byte(`"`+modPath+`/`), []byte(`"`+modPath+`/`+prefix+`/`))
		}
		if err := os.WriteFile(filepath.Join(dst, e.Name()), b, 0o644); err != nil {
			return err
		}
	}
	return nil
}

// ABProtocol is what one driver process measures.
type ABProtocol struct {
	Verifiers []string  // hit paths timed
	Rounds    int       // interleaved rounds per verifier in one process
	Sample    string    // length of one sample (a duration)
	Planted   []float64 // calibration: slowdowns planted in copies of B
	// MinEffect is the smallest change that counts for the paired
	// comparison (not a driver argument).
	MinEffect float64
}

func (p ABProtocol) args() []string {
	args := []string{"-verifiers", strings.Join(p.Verifiers, ","), "-rounds", fmt.Sprint(p.Rounds), "-sample", p.Sample}
	if len(p.Planted) > 0 {
		fs := make([]string, len(p.Planted))
		for i, f := range p.Planted {
			fs[i] = fmt.Sprintf("%g", f)
		}
		args = append(args, "-planted", strings.Join(fs, ","))
	}
	return args
}

// abRun runs the driver once, on one P.
func abRun(ctx context.Context, bin string, p ABProtocol) ([]byte, error) {
	cmd := exec.CommandContext(ctx, bin, p.args()...)
	cmd.Env = append(os.Environ(), "GOMAXPROCS=1")
	var stderr bytes.Buffer
	cmd.Stderr = &stderr
	out, err := cmd.Output()
	if err != nil {
		if ctx.Err() != nil {
			return nil, ctx.Err()
		}
		return nil, fmt.Errorf("in-process A/B driver: %w: %s", err, tail(stderr.Bytes()))
	}
	return out, nil
}

// ABArms splits one driver process's output into its arms ("A", "B",
// "B+0.1", ...), each keyed by the benchmark without the arm.
func ABArms(raw []byte, label string) (map[string]gate.Samples, error) {
	for _, line := range strings.Split(string(raw), "\n") {
		var name string
		var inA, inB bool
		if n, _ := fmt.Sscanf(line, "# missing %s in A %t, in B %t", &name, &inA, &inB); n == 3 && inA && !inB {
			return nil, fmt.Errorf("%s: %w: verifier %s (restrict the verifiers or fix the rename)", label, ErrMissing, strings.TrimSuffix(name, ":"))
		}
	}
	s, err := gate.ReadBench(bytes.NewReader(raw), label)
	if err != nil {
		return nil, fmt.Errorf("%s: %w", label, err)
	}
	out := map[string]gate.Samples{}
	for k, vs := range s {
		name, arm, ok := strings.Cut(k.Name, "/arm=")
		if !ok {
			continue
		}
		if out[arm] == nil {
			out[arm] = gate.Samples{}
		}
		out[arm].Add(name, k.Unit, vs...)
	}
	if out["A"] == nil || out["B"] == nil {
		return nil, fmt.Errorf("%s: %w: no A and B arms in the driver's output", label, ErrRoundIncomplete)
	}
	return out, nil
}
