package callgrind

import (
	"errors"
	"os"
	"os/exec"
	"path/filepath"
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
desc: Trigger: Client Request: authbench-window 1000 BenchmarkVerify/ttl/hit

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
		{"window", dumpWindow, true, Dump{Name: "BenchmarkVerify/ttl/hit", Ops: 1000, Instructions: 10042}, ""},
		{"exit dump is skipped", dumpExit, false, Dump{}, ""},
		{"summary only", strings.Replace(dumpWindow, "totals: 10042\n", "", 1), true, Dump{Name: "BenchmarkVerify/ttl/hit", Ops: 1000, Instructions: 10042}, ""},
		{"label without name", strings.Replace(dumpWindow, " BenchmarkVerify/ttl/hit", "", 1), false, Dump{}, "want"},
		{"bad op count", strings.Replace(dumpWindow, "window 1000", "window x", 1), false, Dump{}, "bad operation count"},
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

func TestReadDumpsAndPerOp(t *testing.T) {
	dir := t.TempDir()
	write := func(name, body string) string {
		p := filepath.Join(dir, name)
		if err := os.WriteFile(p, []byte(body), 0o644); err != nil {
			t.Fatal(err)
		}
		return p
	}
	first := strings.NewReplacer("window 1000", "window 1", "10042", "52").Replace(dumpWindow)
	paths := []string{write("cg.out", dumpExit), write("cg.out.1", first), write("cg.out.2", dumpWindow)}
	ds, err := ReadDumps(paths...)
	if err != nil {
		t.Fatal(err)
	}
	per, err := PerOp(ds)
	if err != nil {
		t.Fatal(err)
	}
	if got, want := per["BenchmarkVerify/ttl/hit"], (52.0+10042)/1001; got != want {
		t.Errorf("per op %v, want %v", got, want)
	}
	if _, err := ReadDumps(paths[0]); !errors.Is(err, ErrNoWindow) {
		t.Errorf("exit dump only: err %v, want ErrNoWindow", err)
	}
	if _, err := ReadDumps(filepath.Join(dir, "missing")); err == nil {
		t.Error("missing file: want an error")
	}
	if _, err := PerOp([]Dump{{Name: "X", Ops: 0, Instructions: 9}}); err == nil {
		t.Error("zero operations: want an error")
	}
}

func TestOutsideValgrind(t *testing.T) {
	if Running() {
		t.Skip("running under valgrind")
	}
	w := Begin("X") // must be inert
	w.End(10)
	if w.on {
		t.Error("window active outside valgrind")
	}
}

var sink uint64

// BenchmarkWindowLoop is run under valgrind by TestUnderValgrind: ten
// instructions or so per op, exactly the same every run.
func BenchmarkWindowLoop(b *testing.B) {
	w := Begin(b.Name())
	for i := 0; i < b.N; i++ {
		sink = sink*31 + uint64(i)
	}
	w.End(b.N)
}

// TestUnderValgrind runs this test binary's BenchmarkWindowLoop under
// callgrind twice and checks that the per-op count is found and exact.
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
			exe, "-test.run", "^$", "-test.bench", "^BenchmarkWindowLoop$", "-test.benchtime", "1000x")
		cmd.Env = append(os.Environ(), "GOMAXPROCS=1", "GODEBUG=asyncpreemptoff=1")
		if out, err := cmd.CombinedOutput(); err != nil {
			t.Fatalf("valgrind run %d: %v\n%s", i, err, out)
		}
		paths, _ := filepath.Glob(filepath.Join(dir, "cg.out*"))
		ds, err := ReadDumps(paths...)
		if err != nil {
			t.Fatal(err)
		}
		per, err := PerOp(ds)
		if err != nil {
			t.Fatal(err)
		}
		v, ok := per["BenchmarkWindowLoop"]
		if !ok || v <= 0 || v > 1000 {
			t.Fatalf("per op %v (%v)", per, ds)
		}
		got = append(got, v)
	}
	if got[0] != got[1] {
		t.Errorf("instruction counts differ between runs: %v", got)
	}
}
