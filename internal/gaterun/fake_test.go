package gaterun

import (
	"context"
	"fmt"
	"os"
	"strings"
	"sync"
)

// fake is an Env that builds and measures nothing: each round returns
// synthetic benchmark lines, slower by factor for the candidate and for
// any arm carrying the injected slowdown.
type fake struct {
	mu          sync.Mutex
	resolveErr  error
	buildErr    map[string]error // by side name
	factor      float64          // candidate / base
	rounds      map[string]int   // rounds run per side and kind
	order       []string
	cleaned     bool
	noValgrind  bool
	neighbourOn bool
	neighbourN  int
	lines       func(s Side, kind Kind, round int) string
}

func (f *fake) env() Env {
	f.rounds = map[string]int{}
	return Env{
		Resolve: func(_ context.Context, _, ref string) (string, error) {
			if f.resolveErr != nil {
				return "", f.resolveErr
			}
			return "0123456789abcdef0123456789abcdef01234567", nil
		},
		Worktree: func(_ context.Context, _, _, dir string) (func() error, error) {
			return func() error { f.cleaned = true; return nil }, os.MkdirAll(dir, 0o755)
		},
		Build: func(_ context.Context, src, _, name string) (Side, error) {
			if err := f.buildErr[name]; err != nil {
				return Side{}, err
			}
			return Side{Name: name, Src: src}, nil
		},
		Round: func(_ context.Context, s Side, kind Kind, p Protocol, _ string) ([]byte, error) {
			f.mu.Lock()
			key := s.Name + "/" + kind.String()
			f.rounds[key]++
			n := f.rounds[key]
			f.order = append(f.order, s.Name)
			f.mu.Unlock()
			if f.lines != nil {
				return []byte(f.lines(s, kind, n)), nil
			}
			return []byte(defaultLines(s, kind, n, f.factor, p)), nil
		},
		BuildAB: func(_ context.Context, _, _, out string) (string, error) { return out + "/abdriver", nil },
		RunAB: func(_ context.Context, _ string, p ABProtocol) ([]byte, error) {
			f.mu.Lock()
			f.rounds["ab"]++
			n := f.rounds["ab"]
			f.mu.Unlock()
			return []byte(abLines(n, f.factor, p)), nil
		},
		Neighbour: func(context.Context) (func() error, error) {
			f.neighbourOn = true
			f.neighbourN++
			return func() error { f.neighbourOn = false; return nil }, nil
		},
		LookPath: func(file string) (string, error) {
			if f.noValgrind {
				return "", fmt.Errorf("%s: not found", file)
			}
			return "/usr/bin/" + file, nil
		},
	}
}

// defaultLines: two hit benchmarks, k samples per time round with one
// burst, exact counts per instruction round; the candidate (or a slowed
// arm) costs factor (1.5 when slowed) times more.
func defaultLines(s Side, kind Kind, round int, factor float64, p Protocol) string {
	f := 1.0
	if s.Name == "cand" && factor != 0 {
		f = factor
	}
	if s.slowed() {
		f = 1.5
	}
	var b strings.Builder
	for _, v := range []string{"generation", "ttl"} {
		if kind == InstructionRound {
			for range max(p.InstrCount, 1) {
				fmt.Fprintf(&b, "BenchmarkVerify/%s/hit 1 %.2f instructions/op\n", v, instructions(s, v, f))
			}
			continue
		}
		for i := range max(p.Samples, 1) {
			ns := (100 + float64(round%5)) * f
			if i == 0 {
				ns *= 3 // a burst the minimum ignores
			}
			fmt.Fprintf(&b, "BenchmarkVerify/%s/hit-2 1000 %.2f ns/op %.2f cpu-ns/op 0 B/op\n", v, ns, ns*0.98)
		}
	}
	return b.String()
}

// instructions models exact counts: 600 bare; with the slowdown hook the
// wrapper adds 15 and each spin iteration 4, so the calibrated arm lands
// at +10 %.
func instructions(s Side, v string, f float64) float64 {
	for _, e := range s.Env {
		if its, ok := strings.CutPrefix(e, SlowdownItersEnv+"="); ok {
			for _, kv := range strings.Split(its, ",") {
				var name string
				var n int
				if _, err := fmt.Sscanf(strings.Replace(kv, "=", " ", 1), "%s %d", &name, &n); err == nil && name == v {
					return 615 + 4*float64(n)
				}
			}
		}
	}
	if s.slowed() {
		return 660
	}
	return 600 * f
}

// abLines is one fake driver process: B is A times factor (the
// candidate's), each planted arm A times 1+f, with a little pair noise.
func abLines(n int, factor float64, p ABProtocol) string {
	if factor == 0 {
		factor = 1
	}
	a := 100.0 + float64(n%7)
	noise := 1 + 0.001*float64(n%3-1)
	var b strings.Builder
	fmt.Fprintf(&b, "BenchmarkAB/ttl/hit/arm=A 1000 %.4f ns/op\n", a)
	fmt.Fprintf(&b, "BenchmarkAB/ttl/hit/arm=B 1000 %.4f ns/op\n", a*factor*noise)
	for _, f := range p.Planted {
		fmt.Fprintf(&b, "BenchmarkAB/ttl/hit/arm=B+%g 1000 %.4f ns/op\n", f, a*(1+f)*noise)
	}
	return b.String()
}
