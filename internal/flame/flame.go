// Package flame analyses Go CPU profiles for authbench reports: it loads,
// merges and label-filters pprof profiles, folds them into Brendan Gregg's
// folded-stack format, attributes CPU time to hot-path buckets (crypt,
// shadow read, stat), renders SVG flame graphs, including differential
// ones, and writes profiles in speedscope's format.
//
// No Go library renders flame-graph SVGs, so a small self-contained
// renderer lives here. Its graphs carry an inline script, as
// flamegraph.pl's do: click a frame to zoom, Reset Zoom, Search (a regular
// expression or substring; Ctrl-F, or "#s=TERM" in the URL) highlights
// matches and shows their share of the total, hovering shows a frame's
// share. Without script (an <img>) they are plain static pictures. The
// output is deterministic, so reports can be diffed and golden-tested.
package flame

import (
	"bufio"
	"fmt"
	"io"
	"os"
	"slices"
	"strconv"
	"strings"

	"github.com/google/pprof/profile"
)

// LoadProfile reads a pprof profile (gzipped or not) from path.
func LoadProfile(path string) (*profile.Profile, error) {
	f, err := os.Open(path)
	if err != nil {
		return nil, fmt.Errorf("open profile: %w", err)
	}
	defer f.Close()
	p, err := profile.Parse(f)
	if err != nil {
		return nil, fmt.Errorf("parse profile %s: %w", path, err)
	}
	return p, nil
}

// Merge combines profiles of identical sample and period types (for
// example the CPU profiles of several runs) into a new profile. The inputs
// are not modified.
func Merge(ps []*profile.Profile) (*profile.Profile, error) {
	m, err := profile.Merge(ps)
	if err != nil {
		return nil, fmt.Errorf("merge %d profiles: %w", len(ps), err)
	}
	return m, nil
}

// FilterByLabel returns a compacted copy of p holding only the samples whose
// string label key has one of values (a sample matches if any of its values
// for key does). With no values nothing matches. p is not modified.
func FilterByLabel(p *profile.Profile, key string, values ...string) *profile.Profile {
	if p == nil {
		return nil
	}
	q := p.Copy()
	kept := q.Sample[:0]
	for _, s := range q.Sample {
		if slices.ContainsFunc(s.Label[key], func(v string) bool { return slices.Contains(values, v) }) {
			kept = append(kept, s)
		}
	}
	clear(q.Sample[len(kept):])
	q.Sample = kept
	// Compact drops locations and functions no longer referenced, so the
	// result is a self-contained smaller profile.
	return q.Compact()
}

// DefaultSampleIndex picks the sample value to analyse: the "cpu" sample
// type if present, else the profile's declared default type, else the last
// type (pprof's own convention). It returns -1 for a profile without sample
// types.
func DefaultSampleIndex(p *profile.Profile) int {
	if p == nil || len(p.SampleType) == 0 {
		return -1
	}
	if i := slices.IndexFunc(p.SampleType, func(vt *profile.ValueType) bool { return vt.Type == "cpu" }); i >= 0 {
		return i
	}
	if p.DefaultSampleType != "" {
		if i := slices.IndexFunc(p.SampleType, func(vt *profile.ValueType) bool { return vt.Type == p.DefaultSampleType }); i >= 0 {
			return i
		}
	}
	return len(p.SampleType) - 1
}

// SampleCount is the number of samples (profiler ticks) a profile rests
// on: the sum of its "samples" count values. A Go CPU profile merges
// identical stacks (and labels) into one Sample with a count, so
// len(p.Sample) undercounts. Without a "samples" type each Sample counts
// once.
func SampleCount(p *profile.Profile) int64 {
	if p == nil {
		return 0
	}
	i := slices.IndexFunc(p.SampleType, func(vt *profile.ValueType) bool { return vt.Type == "samples" })
	var n int64
	for _, s := range p.Sample {
		if i >= 0 && i < len(s.Value) {
			n += s.Value[i]
		} else {
			n++
		}
	}
	return n
}

// Stack is one line of a folded profile: the call stack, root first, and the
// summed sample value of all samples with exactly that stack.
type Stack struct {
	Frames []string
	Value  int64
}

// key is the folded representation of the frames (without the count).
func (s Stack) key() string { return strings.Join(s.Frames, ";") }

// Folded folds p into one Stack per unique call stack, sorted by stack,
// using function names with inlined frames expanded as pprof does. Frames
// without symbol information are named by address. sampleIndex selects the
// sample value; a negative index means DefaultSampleIndex(p), and an index
// out of range yields nil. Stacks whose value sums to zero are omitted.
func Folded(p *profile.Profile, sampleIndex int) []Stack {
	if p == nil {
		return nil
	}
	if sampleIndex < 0 {
		sampleIndex = DefaultSampleIndex(p)
	}
	if sampleIndex < 0 || sampleIndex >= len(p.SampleType) {
		return nil
	}
	sums := make(map[string]*Stack)
	var frames []string
	for _, s := range p.Sample {
		if sampleIndex >= len(s.Value) {
			continue
		}
		frames = sampleFrames(s, frames[:0])
		slices.Reverse(frames) // leaf-first → root-first
		for i, f := range frames {
			frames[i] = sanitizeFrame(f)
		}
		k := strings.Join(frames, ";")
		st, ok := sums[k]
		if !ok {
			st = &Stack{Frames: slices.Clone(frames)}
			sums[k] = st
		}
		st.Value += s.Value[sampleIndex]
	}
	return sortedStacks(sums)
}

// sampleFrames appends the function names of s, leaf first, to dst. A
// location's Line slice lists inlined callees before their callers, so the
// order is leaf first throughout.
func sampleFrames(s *profile.Sample, dst []string) []string {
	for _, loc := range s.Location {
		dst = appendLocationNames(dst, loc)
	}
	return dst
}

func appendLocationNames(dst []string, loc *profile.Location) []string {
	named := false
	for _, ln := range loc.Line {
		if ln.Function != nil && ln.Function.Name != "" {
			dst = append(dst, ln.Function.Name)
			named = true
		}
	}
	if !named {
		dst = append(dst, "0x"+strconv.FormatUint(loc.Address, 16))
	}
	return dst
}

// sanitizeFrame keeps a name from breaking the folded format, whose only
// separators are ';' between frames and a newline between stacks.
var frameReplacer = strings.NewReplacer(";", ":", "\n", " ", "\r", " ")

func sanitizeFrame(name string) string {
	if name == "" {
		return "?"
	}
	return frameReplacer.Replace(name)
}

func sortedStacks(sums map[string]*Stack) []Stack {
	keys := make([]string, 0, len(sums))
	for k, s := range sums {
		if s.Value != 0 {
			keys = append(keys, k)
		}
	}
	slices.Sort(keys)
	out := make([]Stack, len(keys))
	for i, k := range keys {
		out[i] = *sums[k]
	}
	return out
}

// WriteFolded writes stacks in folded format, one "root;child;leaf count"
// line each, in the given order.
func WriteFolded(w io.Writer, stacks []Stack) error {
	bw := bufio.NewWriter(w)
	for _, s := range stacks {
		bw.WriteString(s.key())
		bw.WriteByte(' ')
		bw.WriteString(strconv.FormatInt(s.Value, 10))
		bw.WriteByte('\n')
	}
	if err := bw.Flush(); err != nil {
		return fmt.Errorf("write folded stacks: %w", err)
	}
	return nil
}

// ReadFolded parses folded stacks. The count is the last space-separated
// field, so frames may contain spaces. Blank lines and zero counts are
// skipped, duplicate stacks are summed and the result is sorted like
// Folded's. Malformed lines yield an error naming the line number.
func ReadFolded(r io.Reader) ([]Stack, error) {
	sc := bufio.NewScanner(r)
	sc.Buffer(make([]byte, 64*1024), 64<<20) // deep stacks make long lines
	sums := make(map[string]*Stack)
	for n := 1; sc.Scan(); n++ {
		line := strings.TrimRight(sc.Text(), " \t\r")
		if line == "" {
			continue
		}
		i := strings.LastIndexAny(line, " \t")
		if i < 0 {
			return nil, fmt.Errorf("folded line %d: missing count", n)
		}
		v, err := strconv.ParseInt(line[i+1:], 10, 64)
		if err != nil {
			return nil, fmt.Errorf("folded line %d: bad count: %w", n, err)
		}
		if v < 0 {
			return nil, fmt.Errorf("folded line %d: negative count %d", n, v)
		}
		k := strings.TrimRight(line[:i], " \t")
		if k == "" {
			return nil, fmt.Errorf("folded line %d: empty stack", n)
		}
		frames := strings.Split(k, ";")
		if slices.Contains(frames, "") {
			return nil, fmt.Errorf("folded line %d: empty frame name", n)
		}
		st, ok := sums[k]
		if !ok {
			st = &Stack{Frames: frames}
			sums[k] = st
		}
		st.Value += v
	}
	if err := sc.Err(); err != nil {
		return nil, fmt.Errorf("read folded stacks: %w", err)
	}
	return sortedStacks(sums), nil
}
