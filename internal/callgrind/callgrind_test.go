package callgrind

import (
	"errors"
	"fmt"
	"math"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"strings"
	"testing"
)

const dumpWindow = `# callgrind format
version: 1
creator: callgrind-3.19.0
pid: 17138
cmd:  ./impl.test -test.run ^$
part: 2

desc: I1 cache:
desc: Timerange: Basic block 100 - 200
desc: Trigger: Client Request: authbench-window 3 1000 BenchmarkVerify/ttl/hit

positions: line
events: Ir
summary: 10042

fn=(64) runtime.gcTrigger.test
0 52

totals: 10042
`

const dumpExit = `version: 1
desc: Trigger: Program termination
events: Ir
summary: 18446744073709513816
totals: 0
`

func TestReadDumpFile(t *testing.T) {
	cases := []struct {
		name    string
		in      string
		ok      bool
		want    Dump
		wantErr string
	}{
		{"window", dumpWindow, true, Dump{Name: "BenchmarkVerify/ttl/hit", Rep: 3, Ops: 1000, Instructions: 10042}, ""},
		{"exit dump is skipped", dumpExit, false, Dump{}, ""},
		{"summary only", strings.Replace(dumpWindow, "totals: 10042\n", "", 1), true, Dump{Name: "BenchmarkVerify/ttl/hit", Rep: 3, Ops: 1000, Instructions: 10042}, ""},
		{"label without name", strings.Replace(dumpWindow, " BenchmarkVerify/ttl/hit", "", 1), false, Dump{}, "want"},
		{"bad op count", strings.Replace(dumpWindow, "window 3 1000", "window 3 x", 1), false, Dump{}, "bad operation count"},
		{"bad repetition", strings.Replace(dumpWindow, "window 3 1000", "window x 1000", 1), false, Dump{}, "bad repetition"},
		{"no count", strings.NewReplacer("totals: 10042\n", "", "summary: 10042\n", "").Replace(dumpWindow), false, Dump{}, "no instruction total"},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			d, ok, err := ReadDumpFile(strings.NewReader(c.in))
			if c.wantErr != "" {
				if err == nil || !strings.Contains(err.Error(), c.wantErr) {
					t.Fatalf("err %v, want %q", err, c.wantErr)
				}
				return
			}
			if err != nil || ok != c.ok || d != c.want {
				t.Fatalf("got %+v %v %v, want %+v %v", d, ok, err, c.want, c.ok)
			}
		})
	}
}

func TestReadDumpsAndRounds(t *testing.T) {
	dir := t.TempDir()
	win := func(rep, ops, instr int) string {
		return strings.NewReplacer("window 3 1000", fmt.Sprintf("window %d %d", rep, ops), "10042", fmt.Sprint(instr)).Replace(dumpWindow)
	}
	// Two repetitions: b.N = 1, 1 again (Go may predict 1 after a slow
	// first op), 100, 1000; then 1 and 2000. Written out of string order
	// (cg.out.10 after cg.out.9) on purpose.
	// Repetition 6 stalled after four ops and is dropped.
	bodies := []string{win(4, 1, 50000), win(4, 1, 50000), win(4, 100, 70000), win(4, 10000, 5200000), win(5, 1, 40000), win(5, 20000, 10300000),
		win(6, 1, 21000), win(6, 4, 25000)}
	paths := []string{filepath.Join(dir, "cg.out")}
	if err := os.WriteFile(paths[0], []byte(dumpExit), 0o644); err != nil {
		t.Fatal(err)
	}
	for i, b := range bodies {
		p := filepath.Join(dir, fmt.Sprintf("cg.out.%d", i+7))
		if err := os.WriteFile(p, []byte(b), 0o644); err != nil {
			t.Fatal(err)
		}
		paths = append(paths, p)
	}
	slices.Sort(paths) // cg.out.10 and .11 sort before .7 as strings
	ds, err := ReadDumps(paths...)
	if err != nil {
		t.Fatal(err)
	}
	rounds, dropped, err := Rounds(ds)
	if err != nil {
		t.Fatal(err)
	}
	if got, want := rounds["BenchmarkVerify/ttl/hit"], []float64{520, 515}; !slices.Equal(got, want) || dropped != 1 {
		t.Errorf("rounds %v, dropped %d; want %v, 1", got, dropped, want)
	}
	// An operation longer than the benchtime: one-op repetitions only.
	long, _, err := Rounds([]Dump{{"U", 1, 1, 33e6}, {"U", 2, 1, 34e6}})
	if err != nil || !slices.Equal(long["U"], []float64{33e6, 34e6}) {
		t.Errorf("one-op repetitions: %v %v", long, err)
	}
	if _, err := ReadDumps(paths[0]); !errors.Is(err, ErrNoWindow) {
		t.Errorf("exit dump only: err %v, want ErrNoWindow", err)
	}
	if _, err := ReadDumps(filepath.Join(dir, "missing")); err == nil {
		t.Error("missing file: want an error")
	}
	if _, _, err := Rounds([]Dump{{Name: "X", Ops: 0, Instructions: 9}}); err == nil {
		t.Error("zero operations: want an error")
	}
}

func TestOutsideValgrind(t *testing.T) {
	if Running() {
		t.Skip("running under valgrind")
	}
	w := Begin("X", NextRep()) // must be inert
	w.End(10)
	if w.on {
		t.Error("window active outside valgrind")
	}
}

var sink uint64

// BenchmarkWindowLoop is run under valgrind by TestUnderValgrind: ten
// instructions or so per op, exactly the same every run.
func BenchmarkWindowLoop(b *testing.B) {
	w := Begin(b.Name(), 1)
	for i := 0; i < b.N; i++ {
		sink = sink*31 + uint64(i)
	}
	w.End(b.N)
}

// TestUnderValgrind runs this test binary's BenchmarkWindowLoop under
// callgrind twice and checks that the per-op count is found and repeats.
func TestUnderValgrind(t *testing.T) {
	if testing.Short() || raceEnabled || !Supported() {
		t.Skip("needs valgrind, amd64 and a build without -race")
	}
	vg, err := exec.LookPath("valgrind")
	if err != nil {
		t.Skip("valgrind not installed (scripts/tools.sh valgrind)")
	}
	exe, err := os.Executable()
	if err != nil {
		t.Fatal(err)
	}
	var got []float64
	for i := range 2 {
		dir := t.TempDir()
		cmd := exec.Command(vg, "--tool=callgrind", "--instr-atstart=no", "--callgrind-out-file="+filepath.Join(dir, "cg.out"),
			exe, "-test.run", "^$", "-test.bench", "^BenchmarkWindowLoop$", "-test.benchtime", "200000x")
		cmd.Env = append(os.Environ(), "GOMAXPROCS=1", "GODEBUG=asyncpreemptoff=1")
		if out, err := cmd.CombinedOutput(); err != nil {
			t.Fatalf("valgrind run %d: %v\n%s", i, err, out)
		}
		paths, _ := filepath.Glob(filepath.Join(dir, "cg.out*"))
		ds, err := ReadDumps(paths...)
		if err != nil {
			t.Fatal(err)
		}
		per, _, err := Rounds(ds)
		if err != nil {
			t.Fatal(err)
		}
		v := per["BenchmarkWindowLoop"]
		if len(v) != 1 || v[0] <= 0 || v[0] > 100 {
			t.Fatalf("per op %v (%v)", per, ds)
		}
		got = append(got, v[0])
	}
	// Exact up to the runtime's background work (sysmon, GC) that lands
	// in the window: well below the gate's 1 % minimum effect.
	if d := math.Abs(got[0]-got[1]) / got[0]; d > 0.002 {
		t.Errorf("instruction counts differ between runs by %.3f %%: %v", 100*d, got)
	}
}
