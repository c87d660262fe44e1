package plotting

import (
	"bytes"
	"encoding/xml"
	"errors"
	"image/color"
	"image/png"
	"io"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"

	"gonum.org/v1/plot/vg/draw"

	"github.com/authbench/authbench/impl"
	"github.com/authbench/authbench/internal/results"
)

// synthetic builds a results file that exercises every plot: a knee search
// with repeats, a token sweep, a concurrency sweep, a multi-process run and
// revocation timelines.
func synthetic() *results.File {
	f := &results.File{RunID: "test-run"}
	verifiers := []string{results.ControlVerifier, results.BaselineVerifier, "generation", "mtime", "ttl"}
	for i, v := range verifiers {
		knee := 20000.0
		crypt := 0.01
		if v == results.BaselineVerifier {
			knee, crypt = 800, 0.9
		}
		if v == results.ControlVerifier {
			knee, crypt = 21000, 0
		}
		for rep := range 3 {
			for _, rate := range []float64{500, 1000, 2000} {
				f.Runs = append(f.Runs, results.Run{
					Scenario: "steady", Verifier: v, Phase: results.PhaseKneeStep, Repeat: rep, Tokens: 10,
					OfferedRPS: rate, AchievedRPS: min(rate, knee) * (1 - 0.01*float64(rep)), SuccessRatio: 1,
					Latency:            results.Latency{P50: 100 + float64(i*10), P90: 200, P99: 400 + rate/10, P999: 900, Max: 2000},
					CPUShare:           results.CPUShare{Crypt: crypt, ShadowRead: 0.05, Stat: 0.01, Other: 0.94 - crypt, Samples: 100},
					CPUSecondsPer1kReq: 0.1 + crypt*float64(rep+1),
					VerifierStats:      results.VerifierStats{Fast: 900, Slow: 100, Fallback: 5},
				})
			}
			f.Runs = append(f.Runs, results.Run{Scenario: "steady", Verifier: v, Repeat: rep, Tokens: 10,
				OfferedRPS: 2000, AchievedRPS: 2000, SuccessRatio: 1, KneeRPS: knee + float64(rep*100)})
		}
		if v == results.ControlVerifier {
			continue
		}
		for _, n := range []int{10, 100, 1000} {
			f.Runs = append(f.Runs, results.Run{Scenario: "tokens", Verifier: v, Tokens: n,
				OfferedRPS: 1000, AchievedRPS: 1000 - float64(n)/10, SuccessRatio: 1})
		}
		for _, c := range []int{1, 8, 64} {
			f.Runs = append(f.Runs, results.Run{Scenario: "contention", Verifier: v, Concurrency: c,
				OfferedRPS: 1000, AchievedRPS: 1000, SuccessRatio: 1,
				VerifierStats: results.VerifierStats{Fast: 1000, Slow: 10, Fallback: uint64(c)}})
		}
		f.Runs = append(f.Runs, results.Run{Scenario: "multiproc", Verifier: v, Processes: 3,
			OfferedRPS: 1000, AchievedRPS: 1000, SuccessRatio: 1,
			PerProcess: []results.VerifierStats{{Resets: 1}, {Resets: 2}, {Resets: uint64(i)}}})
		f.Revocations = append(f.Revocations, results.Revocation{
			Scenario: "steady", Verifier: v, Event: "revoke-api", Pass: v != "ttl",
			Timeline: []results.ProbePoint{{TMS: -100, Accepted: true}, {TMS: -50, Accepted: true}, {TMS: 10, Accepted: v == "ttl"}, {TMS: 50, Accepted: false}},
		})
	}
	return f
}

// TestPlotsWritten draws everything once through All (rendering is the slow
// part under -race) and checks each plot function's files.
func TestPlotsWritten(t *testing.T) {
	t.Parallel()
	dir := t.TempDir()
	got, err := All(dir, synthetic())
	if err != nil {
		t.Fatal(err)
	}
	want := map[string][]string{
		"steady":     {"knee-steady", "latency-steady", "cpushare-steady", "cpucost-steady", "staleness-steady-revoke-api"},
		"tokens":     {"tokens-tokens"}, // fixed rates: no knee; no latencies, CPU or revocations there
		"contention": {"fallback-contention"},
		"multiproc":  {"resets-multiproc"},
	}
	if len(got) != len(want) {
		t.Errorf("scenarios %v, want %d", got, len(want))
	}
	for sc, names := range want {
		if !slices.Equal(got[sc], names) {
			t.Errorf("scenario %s: plots %v, want %v", sc, got[sc], names)
		}
		for _, name := range got[sc] {
			t.Run(name, func(t *testing.T) {
				checkPNG(t, filepath.Join(dir, name+".png"))
				checkSVG(t, filepath.Join(dir, name+".svg"))
			})
		}
	}
}

// TestPlotsSkipped checks that a plot without data writes nothing and
// returns no error.
func TestPlotsSkipped(t *testing.T) {
	t.Parallel()
	f := synthetic()
	tests := []struct {
		name     string
		fn       func(string, *results.File, string) ([]string, error)
		scenario string
	}{
		{"knee unknown scenario", Knee, "absent"},
		{"knee fixed-rate scenario", Knee, "tokens"},
		{"latency unknown scenario", Latency, "absent"},
		{"cpushare no samples", CPUShare, "tokens"},
		{"cpucost no cost", CPUCost, "tokens"},
		{"staleness no revocations", Staleness, "tokens"},
		{"tokens single count", Tokens, "steady"},
		{"fallback single concurrency", Fallback, "steady"},
		{"resets single process", Resets, "steady"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			dir := t.TempDir()
			got, err := tc.fn(dir, f, tc.scenario)
			if err != nil {
				t.Fatal(err)
			}
			if len(got) != 0 {
				t.Errorf("names = %v, want none", got)
			}
			entries, err := os.ReadDir(dir)
			if err != nil {
				t.Fatal(err)
			}
			if len(entries) != 0 {
				t.Errorf("%d files written, want none", len(entries))
			}
		})
	}
}

func TestVerifierColorDeterministic(t *testing.T) {
	t.Parallel()
	if VerifierColor("generation") == VerifierColor("uncached") {
		t.Error("known verifiers share a colour")
	}
	if VerifierColor("some-new-cache") != VerifierColor("some-new-cache") {
		t.Error("colour of an unknown verifier is not stable")
	}
}

// TestStyleOf: styles come from the registry, so every registered verifier
// gets its own colour and its family's marker without a list to edit.
func TestStyleOf(t *testing.T) {
	t.Parallel()
	seen := map[color.RGBA]string{}
	for _, s := range impl.Specs() {
		st := StyleOf(s.Name)
		if other, dup := seen[st.Color]; dup {
			t.Errorf("%s and %s share a colour", s.Name, other)
		}
		seen[st.Color] = s.Name
		if st.Shape != familyShape(s.Family) {
			t.Errorf("%s: shape %T, want its family's", s.Name, st.Shape)
		}
	}
	for _, v := range []string{results.ControlVerifier, results.ControlCopyVerifier} {
		if st := StyleOf(v); len(st.Dashes) == 0 {
			t.Errorf("%s is not dashed", v)
		} else if other, dup := seen[st.Color]; dup {
			t.Errorf("%s shares a colour with %s", v, other)
		}
	}
	if StyleOf("ttl-ctime").Shape != (draw.BoxGlyph{}) {
		t.Error("authbench's own verifier is not drawn as a square")
	}
}

func checkPNG(t *testing.T, path string) {
	t.Helper()
	fh, err := os.Open(path)
	if err != nil {
		t.Fatal(err)
	}
	defer fh.Close()
	img, err := png.Decode(fh)
	if err != nil {
		t.Fatalf("%s: %v", path, err)
	}
	if b := img.Bounds(); b.Dx() < 100 || b.Dy() < 100 {
		t.Errorf("%s: image %v too small", path, b)
	}
}

func checkSVG(t *testing.T, path string) {
	t.Helper()
	data, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	dec := xml.NewDecoder(bytes.NewReader(data))
	sawSVG := false
	for {
		tok, err := dec.Token()
		if errors.Is(err, io.EOF) {
			break
		}
		if err != nil {
			t.Fatalf("%s: invalid XML: %v", path, err)
		}
		if se, ok := tok.(xml.StartElement); ok && se.Name.Local == "svg" {
			sawSVG = true
		}
	}
	if !sawSVG {
		t.Errorf("%s: no <svg> element", path)
	}
}

func TestParetoFront(t *testing.T) {
	t.Parallel()
	pts := []TradePoint{
		{Verifier: "uncached", StaleMS: 2, CostUS: 2000},
		{Verifier: "mtime", StaleMS: 3, CostUS: 70},
		{Verifier: "slow-and-stale", StaleMS: 5000, CostUS: 900},
		{Verifier: "ttl-ctime", StaleMS: 2500, CostUS: 52},
		{Verifier: "generation", Never: true, CostUS: 50},
		{Verifier: "ttl", Never: true, CostUS: 60},
	}
	var got []string
	for _, p := range ParetoFront(pts) {
		got = append(got, p.Verifier)
	}
	if want := []string{"uncached", "mtime", "ttl-ctime", "generation"}; !slices.Equal(got, want) {
		t.Errorf("front %v, want %v", got, want)
	}
}

func TestLabelGroups(t *testing.T) {
	t.Parallel()
	pts := []TradePoint{
		{Verifier: "uncached", StaleMS: 2, CostUS: 2000},
		{Verifier: "generation", Never: true, CostUS: 100},
		{Verifier: "mtime", Never: true, CostUS: 102},
		{Verifier: "ttl", Never: true, CostUS: 50},
	}
	x := func(p TradePoint) float64 {
		if p.Never {
			return 1e5
		}
		return p.StaleMS
	}
	var got []string
	for _, g := range labelGroups(pts, x) {
		got = append(got, g.text)
	}
	if want := []string{"uncached", "mtime, generation", "ttl"}; !slices.Equal(got, want) {
		t.Errorf("labels %v, want %v", got, want)
	}
}

// TestKneeOnlySearched: in a scenario where only some verifiers ran a knee
// search, the knee plot has bars for those alone (a fixed-rate verifier's
// best rate is its offered rate, not a knee).
func TestKneeOnlySearched(t *testing.T) {
	t.Parallel()
	f := &results.File{Runs: []results.Run{
		{Scenario: "mixed", Verifier: results.ControlVerifier, Phase: results.PhaseKnee, OfferedRPS: 4000, AchievedRPS: 4000, SuccessRatio: 1, KneeRPS: 3900},
		{Scenario: "mixed", Verifier: "generation", Phase: results.PhaseKnee, OfferedRPS: 4000, AchievedRPS: 3800, SuccessRatio: 1, KneeRPS: 3700},
		{Scenario: "mixed", Verifier: "mtime-fixedrate", Phase: results.PhaseConstant, OfferedRPS: 500, AchievedRPS: 500, SuccessRatio: 1},
	}}
	dir := t.TempDir()
	got, err := Knee(dir, f, "mixed")
	if err != nil {
		t.Fatal(err)
	}
	if !slices.Equal(got, []string{"knee-mixed"}) {
		t.Fatalf("plots %v", got)
	}
	svg, err := os.ReadFile(filepath.Join(dir, "knee-mixed.svg"))
	if err != nil {
		t.Fatal(err)
	}
	if !strings.Contains(string(svg), "generation") || strings.Contains(string(svg), "mtime-fixedrate") {
		t.Error("knee plot bars: want generation's search, not the fixed-rate verifier")
	}
}
