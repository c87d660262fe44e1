package callgrind

import (
	"bufio"
	"cmp"
	"errors"
	"fmt"
	"io"
	"os"
	"runtime"
	"slices"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"unsafe"
)

// Request codes from valgrind.h and callgrind.h.
const (
	reqRunningOnValgrind = 0x1001
	reqToolBase          = 'C'<<24 | 'T'<<16 // VG_USERREQ_TOOL_BASE('C','T')
	reqZeroStats         = reqToolBase + 1
	reqDumpStatsAt       = reqToolBase + 3
	reqStartInstr        = reqToolBase + 4
	reqStopInstr         = reqToolBase + 5
)

func request(code uintptr, arg uintptr) uintptr {
	args := [6]uintptr{code, arg}
	return clientRequest(&args, 0)
}

// running is a fact of the process, asked once.
var running = sync.OnceValue(func() bool { return request(reqRunningOnValgrind, 0) != 0 })

// Running reports whether the program runs under valgrind (any tool).
func Running() bool { return supported && running() }

// Supported reports whether this architecture can issue client requests.
func Supported() bool { return supported }

// labelPrefix marks the dumps of a Window among callgrind's own (the one
// at exit, for instance).
const labelPrefix = "authbench-window"

// Window is one measured stretch of a benchmark. The zero Window, and any
// Window outside valgrind, does nothing.
type Window struct {
	name string
	rep  int64
	on   bool
}

// reps numbers repetitions process-wide, like a process id: a fact of the
// run, not configuration.
var reps atomic.Int64

// NextRep returns a new repetition number. A Go benchmark function runs
// several times per repetition (b.N = 1, then the b.N it predicts) with
// the same *testing.B, and each -test.count repetition gets a new one:
// take one number per *testing.B so that Rounds can tell repetitions
// apart.
func NextRep() int64 { return reps.Add(1) }

// Begin starts counting instructions for repetition rep of name. Call End
// when the measured loop is done, before any teardown.
func Begin(name string, rep int64) Window {
	if !Running() {
		return Window{}
	}
	w := Window{name: name, rep: rep, on: true}
	request(reqStartInstr, 0)
	request(reqZeroStats, 0)
	return w
}

// End stops counting and dumps the counts since Begin under the window's
// name and the number of operations it ran. Instrumentation stops first, so
// formatting the label is not counted.
func (w Window) End(ops int) {
	if !w.on {
		return
	}
	request(reqStopInstr, 0)
	label := append([]byte(Label(w.name, w.rep, ops)), 0)
	request(reqDumpStatsAt, uintptr(unsafe.Pointer(&label[0])))
	runtime.KeepAlive(label)
}

// Label is the dump label of a window: prefix, repetition, operation
// count, name (last, so it may hold spaces).
func Label(name string, rep int64, ops int) string {
	return fmt.Sprintf("%s %d %d %s", labelPrefix, rep, ops, name)
}

// Dump is one window as callgrind wrote it.
type Dump struct {
	Name         string // the window's name (a benchmark's b.Name())
	Rep          int64  // repetition (NextRep)
	Ops          int64  // operations the window ran
	Instructions uint64 // instructions executed in the window (event Ir)
}

// ErrNoWindow is returned when callgrind's output holds no Window dump.
var ErrNoWindow = errors.New("no measured window in callgrind output")

// ReadDumpFile parses one callgrind output file. It returns ok=false for a
// dump that is not a Window's (callgrind's final dump at exit).
func ReadDumpFile(r io.Reader) (d Dump, ok bool, err error) {
	sc := bufio.NewScanner(r)
	sc.Buffer(make([]byte, 64*1024), 1<<20)
	var trigger, totals, summary string
	for sc.Scan() {
		line := sc.Text()
		switch {
		case strings.HasPrefix(line, "desc: Trigger:"):
			trigger = strings.TrimSpace(strings.TrimPrefix(line, "desc: Trigger:"))
		case strings.HasPrefix(line, "totals:"):
			totals = strings.TrimSpace(strings.TrimPrefix(line, "totals:"))
		case strings.HasPrefix(line, "summary:"):
			summary = strings.TrimSpace(strings.TrimPrefix(line, "summary:"))
		}
	}
	if err := sc.Err(); err != nil {
		return d, false, fmt.Errorf("read callgrind output: %w", err)
	}
	// The trigger of a client dump is "Client Request: <label>".
	label := strings.TrimSpace(strings.TrimPrefix(trigger, "Client Request:"))
	rest, found := strings.CutPrefix(label, labelPrefix+" ")
	if !found {
		return d, false, nil
	}
	f := strings.SplitN(rest, " ", 3)
	if len(f) != 3 || f[2] == "" {
		return d, false, fmt.Errorf("callgrind dump label %q: want %q", label, labelPrefix+" REP OPS NAME")
	}
	name := f[2]
	if d.Rep, err = strconv.ParseInt(f[0], 10, 64); err != nil {
		return d, false, fmt.Errorf("callgrind dump label %q: bad repetition", label)
	}
	if d.Ops, err = strconv.ParseInt(f[1], 10, 64); err != nil || d.Ops < 0 {
		return d, false, fmt.Errorf("callgrind dump label %q: bad operation count", label)
	}
	d.Name = name
	count := totals
	if count == "" {
		count = summary
	}
	// Only Ir is collected (no cache simulation): the first event.
	if f := strings.Fields(count); len(f) > 0 {
		count = f[0]
	}
	if d.Instructions, err = strconv.ParseUint(count, 10, 64); err != nil {
		return d, false, fmt.Errorf("callgrind dump %q: no instruction total (totals %q)", name, totals)
	}
	return d, true, nil
}

// ReadDumps parses every file in paths and returns the Window dumps in
// dump order: callgrind numbers them base.1, base.2, …, base.10, so the
// paths are sorted by that number, not as strings.
func ReadDumps(paths ...string) ([]Dump, error) {
	paths = slices.Clone(paths)
	slices.SortStableFunc(paths, func(a, b string) int { return dumpNumber(a) - dumpNumber(b) })
	var out []Dump
	for _, p := range paths {
		f, err := os.Open(p)
		if err != nil {
			return nil, fmt.Errorf("callgrind output: %w", err)
		}
		d, ok, err := ReadDumpFile(f)
		f.Close()
		if err != nil {
			return nil, fmt.Errorf("%s: %w", p, err)
		}
		if ok {
			out = append(out, d)
		}
	}
	if len(out) == 0 {
		return nil, ErrNoWindow
	}
	return out, nil
}

// dumpNumber is the numeric suffix callgrind gives the n-th dump (0 for the
// file written at exit, which has none).
func dumpNumber(p string) int {
	i := strings.LastIndexByte(p, '.')
	n, err := strconv.Atoi(p[i+1:])
	if i < 0 || err != nil {
		return 0
	}
	return n
}

// Rounds returns, per window name, one instructions-per-op value for each
// repetition of the benchmark (each -test.count run), in repetition order.
// A Go benchmark opens a window for its first single-op run and for each
// larger b.N it tries; a repetition's value is its largest window, where
// the window's fixed cost (tens of thousands of instructions of runtime
// work) weighs least. An operation longer than the benchtime leaves one
// single-op window, which then counts.
//
// A repetition whose largest window ran fewer than MinWindow instructions
// is left out and counted in dropped: Go picks b.N from wall time, and a
// stall (a loaded machine, valgrind translating code) can end a repetition
// after a handful of ops, where first-run costs are most of the count.
func Rounds(dumps []Dump) (rounds map[string][]float64, dropped int, err error) {
	type key struct {
		name string
		rep  int64
	}
	best := map[key]Dump{}
	var order []key
	for _, d := range dumps {
		if d.Ops == 0 {
			return nil, 0, fmt.Errorf("callgrind window %s: ran no operations", d.Name)
		}
		k := key{d.Name, d.Rep}
		b, seen := best[k]
		if !seen {
			order = append(order, k)
		}
		if !seen || d.Ops > b.Ops {
			best[k] = d
		}
	}
	slices.SortStableFunc(order, func(a, b key) int { return cmp.Compare(a.rep, b.rep) })
	out := map[string][]float64{}
	for _, k := range order {
		d := best[k]
		if d.Instructions < MinWindow {
			dropped++
			continue
		}
		out[k.name] = append(out[k.name], float64(d.Instructions)/float64(d.Ops))
	}
	return out, dropped, nil
}

// MinWindow is the fewest instructions a repetition's largest window must
// hold to count: a single-op window costs about 20,000 instructions of
// first-run work, which is below 0.1 % of a million.
const MinWindow = 1_000_000
