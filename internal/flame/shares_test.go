package flame

import (
	"bytes"
	"context"
	"math"
	"os"
	"path/filepath"
	"regexp"
	"runtime/pprof"
	"slices"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/google/pprof/profile"
)

func TestSharesSynthetic(t *testing.T) {
	c := Classifier{
		{Name: "hash", Patterns: []*regexp.Regexp{regexp.MustCompile(`^hash\.`)}},
		{Name: "io", Patterns: []*regexp.Regexp{regexp.MustCompile(`^io\.Read$`), regexp.MustCompile(`^os\.`)}},
	}
	tests := []struct {
		name    string
		types   []string
		samples []fakeSample
		total   int64
		want    map[string]float64
	}{
		{
			name:  "priority and other",
			types: cpuTypes,
			samples: []fakeSample{
				cpuSample(50e6, "hash.Sum", "os.Open", "main"), // both match: hash wins
				cpuSample(30e6, "os.Open", "main"),
				cpuSample(20e6, "main"),
			},
			total: 100e6,
			want:  map[string]float64{"hash": 0.5, "io": 0.3, OtherBucket: 0.2},
		},
		{
			name:  "inlined frame counts",
			types: cpuTypes,
			samples: []fakeSample{
				cpuSample(10e6, "hash.block|crypto.Verify", "main"),
				cpuSample(30e6, "io.ReadAll", "main"), // ^io\.Read$ does not match
			},
			total: 40e6,
			want:  map[string]float64{"hash": 0.25, "io": 0, OtherBucket: 0.75},
		},
		{
			name:    "no samples",
			types:   cpuTypes,
			samples: nil,
			want:    map[string]float64{"hash": 0, "io": 0, OtherBucket: 0},
		},
		{
			name:  "no cpu type uses last",
			types: []string{"alloc_space/bytes", "inuse_space/bytes"},
			samples: []fakeSample{
				{frames: []string{"hash.x"}, values: []int64{100, 1}},
				{frames: []string{"os.x"}, values: []int64{1, 3}},
			},
			total: 4,
			want:  map[string]float64{"hash": 0.25, "io": 0.75, OtherBucket: 0},
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			b, err := Shares(buildProfile(t, tt.types, tt.samples...), c)
			if err != nil {
				t.Fatal(err)
			}
			if b.Total != tt.total {
				t.Errorf("total = %d, want %d", b.Total, tt.total)
			}
			if len(b.Buckets) != 3 || b.Buckets[0].Name != "hash" || b.Buckets[2].Name != OtherBucket {
				t.Errorf("bucket order = %+v", b.Buckets)
			}
			for name, want := range tt.want {
				if got := b.Fraction(name); math.Abs(got-want) > 1e-12 {
					t.Errorf("%s = %v, want %v", name, got, want)
				}
			}
		})
	}
}

func TestSharesErrors(t *testing.T) {
	p := buildProfile(t, cpuTypes, cpuSample(1e7, "main"))
	if _, err := Shares(p, Classifier{{Name: OtherBucket}}); err == nil {
		t.Error("reserved bucket name accepted")
	}
	if _, err := Shares(&profile.Profile{}, nil); err == nil {
		t.Error("profile without sample types accepted")
	}
	if _, err := Shares(nil, nil); err == nil {
		t.Error("nil profile accepted")
	}
}

func TestDefaultClassifier(t *testing.T) {
	const (
		cryptpw = "github.com/authbench/authbench/impl/cryptpw.Verify"
		sha     = "github.com/GehirnInc/crypt/sha512_crypt.(*crypter).Generate"
		yes     = "github.com/go-crypt/x/yescrypt.Key"
		read    = "github.com/authbench/authbench/impl.readShadow"
		json    = "encoding/json.(*decodeState).object"
		stat    = "os.Stat"
		fstat   = "golang.org/x/sys/unix.Fstat"
		handler = "github.com/authbench/authbench/impl.(*Server).ServeHTTP"
	)
	tests := []struct {
		frames []string
		want   string
	}{
		{[]string{cryptpw, handler}, "crypt"},
		{[]string{sha, read, handler}, "crypt"}, // crypt outranks shadow_read
		{[]string{yes, handler}, "crypt"},
		{[]string{json, read, handler}, "shadow_read"},
		{[]string{"os.ReadFile", handler}, "shadow_read"},
		{[]string{"syscall.fstatat", stat, read}, "shadow_read"},
		{[]string{"syscall.fstatat", stat, handler}, "stat"},
		{[]string{fstat, handler}, "stat"},
		{[]string{"runtime.mallocgc", handler}, OtherBucket},
		{[]string{"internal/poll.(*FD).Fstat", "os.(*File).Stat", handler}, "stat"},
		{[]string{"internal/poll.(*FD).Fstat", "os.(*File).Stat", "os.ReadFile", read}, "shadow_read"},
		{[]string{"os.Lstat", handler}, OtherBucket},
	}
	for _, tt := range tests {
		t.Run(tt.frames[0], func(t *testing.T) {
			b, err := Shares(buildProfile(t, cpuTypes, cpuSample(1e7, tt.frames...)), DefaultClassifier())
			if err != nil {
				t.Fatal(err)
			}
			if got := b.Fraction(tt.want); got != 1 {
				t.Errorf("frames %v: %s share = %v, want 1 (buckets %+v)", tt.frames, tt.want, got, b.Buckets)
			}
		})
	}
}

//go:noinline
func cryptpwLikeSpin(n int) uint64 {
	x := uint64(1)
	for i := 0; i < n; i++ {
		x = x*6364136223846793005 + 1442695040888963407
	}
	return x
}

// cpuTime returns the process's user+system CPU time.
func cpuTime(t *testing.T) time.Duration {
	var ru syscall.Rusage
	if err := syscall.Getrusage(syscall.RUSAGE_SELF, &ru); err != nil {
		t.Fatal(err)
	}
	return time.Duration(ru.Utime.Nano() + ru.Stime.Nano())
}

// TestSharesRealProfile captures a real CPU profile of a labelled busy loop
// and checks that the pipeline (load, filter, shares, fold, render) finds it.
func TestSharesRealProfile(t *testing.T) {
	var buf bytes.Buffer
	if err := pprof.StartCPUProfile(&buf); err != nil {
		t.Skipf("CPU profiling unavailable: %v", err)
	}
	// Spin for a CPU-time budget rather than wall time so a loaded machine
	// still yields enough samples (100 Hz: ~25 samples).
	start, deadline := cpuTime(t), time.Now().Add(10*time.Second)
	var sink uint64
	pprof.Do(context.Background(), pprof.Labels("verifier", "spin", "outcome", "slow"), func(context.Context) {
		for cpuTime(t)-start < 250*time.Millisecond && time.Now().Before(deadline) {
			sink += cryptpwLikeSpin(1 << 20)
		}
	})
	pprof.StopCPUProfile()
	_ = sink

	path := filepath.Join(t.TempDir(), "cpu.pprof")
	if err := os.WriteFile(path, buf.Bytes(), 0o600); err != nil {
		t.Fatal(err)
	}
	p, err := LoadProfile(path)
	if err != nil {
		t.Fatal(err)
	}
	c := Classifier{{Name: "crypt", Patterns: []*regexp.Regexp{regexp.MustCompile(`flame\.cryptpwLike`)}}}
	b, err := Shares(p, c)
	if err != nil {
		t.Fatal(err)
	}
	if b.SampleType != "cpu" || b.Unit != "nanoseconds" {
		t.Errorf("sample type %s/%s, want cpu/nanoseconds", b.SampleType, b.Unit)
	}
	if b.Total == 0 {
		t.Skip("no CPU samples recorded")
	}
	if f := b.Fraction("crypt"); f < 0.5 {
		t.Errorf("crypt share = %.2f, want the busy loop to dominate (buckets %+v)", f, b.Buckets)
	}

	spin := FilterByLabel(p, "verifier", "spin")
	sb, err := Shares(spin, c)
	if err != nil {
		t.Fatal(err)
	}
	if sb.Total == 0 || sb.Fraction("crypt") < 0.9 {
		t.Errorf("labelled samples: total %d crypt %.2f, want nearly all crypt", sb.Total, sb.Fraction("crypt"))
	}
	if n := len(FilterByLabel(p, "verifier", "other").Sample); n != 0 {
		t.Errorf("filter by absent label value kept %d samples", n)
	}

	stacks := Folded(spin, -1)
	found := false
	for _, s := range stacks {
		found = found || strings.HasSuffix(s.Frames[len(s.Frames)-1], "flame.cryptpwLikeSpin")
	}
	if !found {
		t.Errorf("no folded stack ends in cryptpwLikeSpin:\n%s", foldedString(t, stacks))
	}
	var svg bytes.Buffer
	if err := RenderSVG(&svg, stacks, Options{Title: "spin"}); err != nil {
		t.Fatal(err)
	}
	frames, _ := parseSVG(t, svg.Bytes())
	if !slices.ContainsFunc(frames, func(f svgFrame) bool { return strings.Contains(f.title, "flame.cryptpwLikeSpin (") }) {
		t.Error("svg lacks the hot function")
	}
}
