package scenarios

import (
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"reflect"
	"strconv"
	"strings"
	"testing"
	"time"
)

// parseErr parses src as file "x.yaml" and returns the problems found.
func parseErr(t *testing.T, src string) Errors {
	t.Helper()
	_, err := Parse("x.yaml", []byte(src), knownVerifiers)
	if err == nil {
		return nil
	}
	var es Errors
	if !errors.As(err, &es) {
		t.Fatalf("error %v (%T) is not Errors", err, err)
	}
	for _, e := range es {
		if e.File != "x.yaml" {
			t.Errorf("error %q does not name the file", e)
		}
		if !strings.HasPrefix(e.Error(), "x.yaml:") {
			t.Errorf("error %q does not start with the file", e)
		}
	}
	return es
}

func mustParse(t *testing.T, src string) *Scenario {
	t.Helper()
	s, err := Parse("dir/x.yaml", []byte(src), knownVerifiers)
	if err != nil {
		t.Fatalf("parse: %v", err)
	}
	return s
}

// TestValidationErrors has one case per rule: the first error must sit on
// the given line, name the given field and say why.
func TestValidationErrors(t *testing.T) {
	const okLoad = "load:\n  rate: 10\n  duration: 4s\n"
	tests := []struct {
		name  string
		src   string
		line  int
		field string
		want  string // substring of the message
	}{
		{"rate zero", "load:\n  rate: 0\n", 2, "load.rate", "must be > 0 unless shape is knee"},
		{"rate absent", "tokens: 3\nload:\n  duration: 2s\n", 2, "load.rate", "must be > 0 unless shape is knee"},
		{"rate negative", "load:\n  rate: -5\n", 2, "load.rate", "must be > 0"},
		{"rate nan", "load:\n  rate: .nan\n", 2, "load.rate", "finite"},
		{"rate inf", "load:\n  rate: .inf\n", 2, "load.rate", "finite"},
		{"rate with knee shape", "load:\n  shape: knee\n  rate: 5\n  knee: {start: 10, max: 40}\n", 3, "load.rate", "not used with shape knee"},
		{"rate with stages", "load:\n  shape: stages\n  rate: 5\n  stages: [{rate: 1, duration: 1s}]\n", 3, "load.rate", "not used with shape stages"},
		{"duration zero", "load:\n  rate: 1\n  duration: 0s\n", 3, "load.duration", "must be > 0"},
		{"duration negative", "load:\n  rate: 1\n  duration: -3s\n", 3, "load.duration", "must be > 0"},
		{"duration too long", "load:\n  rate: 1\n  duration: 2h\n", 3, "load.duration", "at most 1h"},
		{"duration not a string", "load:\n  rate: 1\n  duration: 30\n", 3, "load.duration", `"30" is not a duration`},
		{"duration garbage", "load:\n  rate: 1\n  duration: soon\n", 3, "load.duration", `"soon" is not a duration`},
		{"warmup negative", "load:\n  rate: 1\n  warmup: -1s\n", 3, "load.warmup", "must be >= 0"},
		{"warmup longer", "load:\n  rate: 1\n  duration: 2s\n  warmup: 3s\n", 4, "load.warmup", "longer than the measured duration"},
		{"repeats zero", "load:\n  rate: 1\n  repeats: 0\n", 3, "load.repeats", "must be 1..100"},
		{"rounds zero", "load:\n  rate: 1\n  rounds: 0\n", 3, "load.rounds", "must be 1..100"},
		{"rounds too many", "load:\n  rate: 1\n  rounds: 101\n", 3, "load.rounds", "must be 1..100"},
		{"cached rate zero", "load:\n  rate: 1\n  cached_rate: 0\n", 3, "load.cached_rate", "must be > 0"},
		{"cached rate with stages", "load:\n  shape: stages\n  cached_rate: 5\n  stages: [{rate: 1, duration: 1s}]\n", 3, "load.cached_rate", "only used with shape constant"},
		{"target with wrong secrets", "target: true\nmix: {valid: 1, wrong_secret: 1}\n" + okLoad, 1, "target", "needs a valid-only mix"},
		{"target not a bool", "target: yes please\n" + okLoad, 1, "target", ""},
		{"concurrency negative", "load:\n  rate: 1\n  concurrency: -1\n", 3, "load.concurrency", "must be 0..10000"},
		{"shape unknown", "load:\n  shape: ramp\n  rate: 1\n", 2, "load.shape", `unknown shape "ramp"`},
		{"header form", "load:\n  rate: 1\n  header_form: basic\n", 3, "load.header_form", `unknown header form "basic"`},
		{"stages empty", "load:\n  shape: stages\n  stages: []\n", 3, "load.stages", "at least one stage"},
		{"stages without shape", "load:\n  rate: 1\n  stages: [{rate: 1, duration: 1s}]\n", 3, "load.stages", "only used with shape stages"},
		{"stage zero duration", "load:\n  shape: stages\n  stages:\n    - rate: 1\n      duration: 1s\n    - rate: 2\n      duration: 0s\n", 7, "load.stages[1].duration", "must be > 0"},
		{"stage zero rate", "load:\n  shape: stages\n  stages:\n    - rate: 0\n      duration: 1s\n", 4, "load.stages[0].rate", "must be > 0"},
		{"stages duration mismatch", "load:\n  shape: stages\n  duration: 5s\n  stages: [{rate: 1, duration: 1s}]\n", 3, "load.duration", "stages add up to 1s"},
		{"knee missing", "load:\n  shape: knee\n", 1, "load.knee", "required for shape knee"},
		{"knee null", "load:\n  shape: knee\n  knee:\n", 3, "load.knee", "must set start and max"},
		{"knee max below start", "load:\n  shape: knee\n  knee:\n    start: 100\n    max: 50\n", 5, "load.knee.max", "must be > start"},
		{"knee start zero", "load:\n  shape: knee\n  knee:\n    max: 50\n", 3, "load.knee.start", "must be > 0"},
		{"knee factor", "load:\n  shape: knee\n  knee: {start: 1, max: 50, factor: 1}\n", 3, "load.knee.factor", "must be > 1"},
		{"knee too many steps", "load:\n  shape: knee\n  knee: {start: 1, max: 100000, factor: 1.1}\n", 3, "load.knee", "more than 50 steps"},
		{"knee step zero", "load:\n  shape: knee\n  knee: {start: 1, max: 5, step_duration: 0s}\n", 3, "load.knee.step_duration", "must be > 0"},
		{"knee p99 negative", "load:\n  shape: knee\n  knee: {start: 1, max: 5, p99_bound: -1ms}\n", 3, "load.knee.p99_bound", "must be > 0"},
		{"knee duration", "load:\n  shape: knee\n  duration: 3s\n  knee: {start: 1, max: 5}\n", 3, "load.duration", "not used with shape knee"},
		{"tokens zero", "tokens: 0\n" + okLoad, 1, "tokens", "must be 1..1000000"},
		{"tokens string", "tokens: many\n" + okLoad, 1, "tokens", `"many" is not an integer`},
		{"scheme unknown", "hash:\n  scheme: md5\n" + okLoad, 2, "hash.scheme", `unknown scheme "md5"`},
		{"cost negative", "hash:\n  cost: -1\n" + okLoad, 2, "hash.cost", "must be"},
		{"sha cost too low", "hash:\n  scheme: sha512\n  cost: 10\n" + okLoad, 3, "hash.cost", "must be 1000..999999999"},
		{"yescrypt cost", "hash:\n  scheme: yescrypt\n  cost: 12\n" + okLoad, 3, "hash.cost", "must be 1..11"},
		{"mix all zero", "mix:\n  valid: 0\n" + okLoad, 1, "mix", "must not all be 0"},
		{"mix negative", "mix:\n  valid: 1\n  unknown: -1\n" + okLoad, 3, "mix.unknown", "must be a finite number >= 0"},
		{"processes zero", "server:\n  processes: 0\n" + okLoad, 2, "server.processes", "must be 1..4"},
		{"processes five", "server:\n  processes: 5\n" + okLoad, 2, "server.processes", "must be 1..4"},
		{"gomaxprocs negative", "server:\n  gomaxprocs: -2\n" + okLoad, 2, "server.gomaxprocs", "must be 0..1024"},
		{"server ttl zero", "server:\n  ttl: 0s\n" + okLoad, 2, "server.ttl", "must be > 0"},
		{"tls not bool", "server:\n  tls: maybe\n" + okLoad, 2, "server.tls", `"maybe" is not true or false`},
		{"verifier unknown", "verifiers: [ttl, lru]\n" + okLoad, 1, "verifiers[1]", `unknown verifier "lru" (known: uncached, generation, mtime, ttl)`},
		{"verifier twice", "verifiers:\n  - ttl\n  - ttl\n" + okLoad, 3, "verifiers[1]", "listed twice"},
		{"verifiers empty", "verifiers: []\n" + okLoad, 1, "verifiers", "at least one"},
		{"name invalid", "name: a/b\n" + okLoad, 1, "name", "not a valid scenario name"},
		{"matrix empty", "matrix: {}\n" + okLoad, 1, "matrix", "at least one of"},
		{"matrix tokens zero", "matrix:\n  tokens: [1, 0]\n" + okLoad, 2, "matrix.tokens[1]", "must be 1..1000000"},
		{"matrix duplicate", "matrix:\n  concurrency: [1, 8, 8]\n" + okLoad, 2, "matrix.concurrency[2]", "duplicate value 8"},
		{"matrix and scalar", "tokens: 5\nmatrix:\n  tokens: [1, 2]\n" + okLoad, 1, "tokens", "set both here and in matrix.tokens"},
		{"matrix axis empty", "matrix:\n  gomaxprocs: []\n" + okLoad, 2, "matrix.gomaxprocs", "must list 1..16 values"},
		{"event kind unknown", okLoad + "events:\n  - at: 1s\n    kind: api-delete\n    token: 0\n", 6, "events[0].kind", `unknown event kind "api-delete"`},
		{"event kind missing", okLoad + "events:\n  - at: 1s\n    token: 0\n", 5, "events[0].kind", "required"},
		{"event token out of range", "tokens: 10\n" + okLoad + "events:\n  - at: 1s\n    kind: api-rotate\n    token: 10\n", 8, "events[0].token", "token \"10\" does not exist: the scenario has 10 tokens (indices 0..9)"},
		{"event token beyond matrix min", "matrix:\n  tokens: [5, 100]\n" + okLoad + "events:\n  - at: 1s\n    kind: manual-edit\n    token: 7\n", 9, "events[0].token", "has 5 tokens"},
		{"event token id out of range", okLoad + "events:\n  - at: 1s\n    kind: api-revoke\n    token: bench@pbs!t3\n", 7, "events[0].token", "does not exist"},
		{"event token missing", okLoad + "events:\n  - at: 1s\n    kind: api-revoke\n", 5, "events[0].token", "required"},
		{"event token bad form", okLoad + "events:\n  - at: 1s\n    kind: api-revoke\n    token: root\n", 7, "events[0].token", "user@realm!tokenname"},
		{"event unknown id", okLoad + "events:\n  - at: 1s\n    kind: api-rotate\n    token: a@pam!x\n", 7, "events[0].token", "not generated and not added"},
		{"api-add index", okLoad + "events:\n  - at: 1s\n    kind: api-add\n    token: 0\n", 7, "events[0].token", "api-add must name a new token id"},
		{"api-add generated id", okLoad + "events:\n  - at: 1s\n    kind: api-add\n    token: bench@pbs!t0\n", 7, "events[0].token", "reserved for generated tokens"},
		{"api-add twice", okLoad + "events:\n  - {at: 1s, kind: api-add, token: a@pam!x}\n  - {at: 2s, kind: api-add, token: a@pam!x}\n", 6, "events[1].token", "already added"},
		{"event after revoke", okLoad + "events:\n  - {at: 2s, kind: api-rotate, token: 0}\n  - {at: 1s, kind: api-revoke, token: 0}\n", 5, "events[0].token", "was revoked by events[1]"},
		{"event at beyond duration", okLoad + "events:\n  - at: 4s\n    kind: api-rotate\n    token: 0\n", 5, "events[0].at", "beyond the measured window (4s)"},
		{"event at zero", okLoad + "events:\n  - at: 0s\n    kind: api-rotate\n    token: 0\n", 5, "events[0].at", "must be > 0"},
		{"event at missing", okLoad + "events:\n  - kind: api-rotate\n    token: 0\n", 5, "events[0].at", "required"},
		{"event from unknown", okLoad + "events:\n  - {at: 1s, kind: api-rotate, token: 0, from: cluster}\n", 5, "events[0].from", "must be self or other"},
		{"event from on manual", okLoad + "events:\n  - {at: 1s, kind: manual-edit, token: 0, from: self}\n", 5, "events[0].from", "only for api-* events"},
		{"granularity missing", okLoad + "events:\n  - {at: 1s, kind: coarse-mtime, token: 0}\n", 5, "events[0].granularity", "required for coarse-mtime"},
		{"granularity bad", okLoad + "events:\n  - {at: 1s, kind: coarse-mtime, token: 0, granularity: 3s}\n", 5, "events[0].granularity", "must be 1s or 2s"},
		{"granularity elsewhere", okLoad + "events:\n  - {at: 1s, kind: manual-edit, token: 0, granularity: 1s}\n", 5, "events[0].granularity", "only for coarse-mtime"},
		{"stale ttl missing", okLoad + "events:\n  - {at: 1s, kind: stale-stat, token: 0}\n", 5, "events[0].ttl", "required for stale-stat"},
		{"stale ttl zero", okLoad + "events:\n  - {at: 1s, kind: stale-stat, token: 0, ttl: 0s}\n", 5, "events[0].ttl", "must be > 0"},
		{"ttl elsewhere", okLoad + "events:\n  - {at: 1s, kind: api-revoke, token: 0, ttl: 1s}\n", 5, "events[0].ttl", "only for stale-stat"},
		{"probe rate zero", okLoad + "events:\n  - {at: 1s, kind: api-revoke, token: 0, probe_rate: 0}\n", 5, "events[0].probe_rate", "must be > 0"},
		{"events with knee", "load:\n  shape: knee\n  knee: {start: 1, max: 5}\nevents:\n  - {at: 1s, kind: api-revoke, token: 0}\n", 4, "events", "constant or stages load"},
		{"events not a list", okLoad + "events: 3\n", 4, "events", `"3" is not a list`},
		{"load not a mapping", "load: fast\n", 1, "load", `"fast" is not a mapping of fields`},
		{"document not a mapping", "- a\n- b\n", 1, "", "a list is not a mapping of fields"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			es := parseErr(t, tc.src)
			if len(es) == 0 {
				t.Fatalf("no error for:\n%s", tc.src)
			}
			e := es[0]
			if e.Line != tc.line || e.Field != tc.field || !strings.Contains(e.Msg, tc.want) {
				t.Errorf("got %q (line %d, field %q)\nwant line %d, field %q, message containing %q", es.Error(), e.Line, e.Field, tc.line, tc.field, tc.want)
			}
			if tc.line > 0 && !strings.HasPrefix(e.Error(), "x.yaml:"+strconv.Itoa(tc.line)+": "+prefixField(tc.field)) {
				t.Errorf("message %q does not start with file:line: field", e.Error())
			}
		})
	}
}

func prefixField(f string) string {
	if f == "" {
		return ""
	}
	return f + ": "
}

// TestUnknownFields checks strict decoding: an unknown field at any depth
// is an error naming file, line, the field and where it was found.
func TestUnknownFields(t *testing.T) {
	tests := []struct {
		name, src, want string
	}{
		{"top", "load: {rate: 1}\nspeed: 3\n", `x.yaml:2: field "speed" not found in scenario`},
		{"load", "tokens: 2\nload:\n  rat: 10\n", `x.yaml:3: field "rat" not found in load`},
		{"knee", "load:\n  shape: knee\n  knee:\n    start: 1\n    maximum: 5\n", `x.yaml:5: field "maximum" not found in load.knee`},
		{"stage", "load:\n  shape: stages\n  stages:\n    - rate: 1\n      duration: 1s\n      ramp: true\n", `x.yaml:6: field "ramp" not found in load.stages[0]`},
		{"event", "load: {rate: 1}\nevents:\n  - at: 1s\n    kind: api-revoke\n    token: 0\n    who: admin\n", `x.yaml:6: field "who" not found in events[0]`},
		{"matrix", "load: {rate: 1}\nmatrix:\n  procs: [1]\n", `x.yaml:3: field "procs" not found in matrix`},
		{"mix", "load: {rate: 1}\nmix: {valid: 1, expired: 2}\n", `x.yaml:2: field "expired" not found in mix`},
		{"duplicate", "load:\n  rate: 1\n  rate: 2\n", `x.yaml:3: duplicate field "rate" (first set at line 2)`},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			es := parseErr(t, tc.src)
			if len(es) == 0 {
				t.Fatal("no error")
			}
			if got := es[0].Error(); got != tc.want {
				t.Errorf("got  %q\nwant %q", got, tc.want)
			}
		})
	}
}

// TestSyntaxErrors covers input that is not one YAML mapping document.
func TestSyntaxErrors(t *testing.T) {
	tests := []struct {
		name, src, want string
	}{
		{"empty", "", "x.yaml: no scenario in file"},
		{"comment only", "# nothing\n", "x.yaml: no scenario in file"},
		{"bad indent", "load:\n  rate: 1\n bad: 2\n", "x.yaml:2: invalid YAML: did not find expected key"},
		{"two documents", "load: {rate: 1}\n---\nload: {rate: 2}\n", "x.yaml:2: more than one YAML document"},
		{"alias", "a: &r 1\nload: {rate: *r}\n", "x.yaml:1: a: anchors and aliases are not supported"},
		{"tab", "load:\n\trate: 1\n", "x.yaml:2: invalid YAML"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			es := parseErr(t, tc.src)
			if len(es) == 0 || !strings.HasPrefix(es[0].Error(), tc.want) {
				t.Errorf("got %v, want prefix %q", es, tc.want)
			}
		})
	}
}

// TestDefaults checks every documented default on a minimal file.
func TestDefaults(t *testing.T) {
	s := mustParse(t, "load:\n  rate: 25\n")
	want := &Scenario{
		Name:   "x",
		Tokens: DefaultTokens,
		Hash:   Hash{Scheme: SchemeSHA256},
		Mix:    Mix{Valid: 1},
		Load: LoadConfig{
			Shape:      ShapeConstant,
			Rate:       25,
			Duration:   DefaultDuration,
			Warmup:     DefaultWarmup,
			Repeats:    DefaultRepeats,
			Rounds:     DefaultRounds,
			HeaderForm: HeaderPBS,
		},
		Server:    Server{Processes: DefaultProcesses, TTL: DefaultServerTTL},
		Verifiers: knownVerifiers,
		Auth:      AuthToken,
		Path:      "dir/x.yaml",
	}
	if !reflect.DeepEqual(s, want) {
		t.Errorf("defaults:\n got %+v\nwant %+v", s, want)
	}
	if s.Target {
		t.Error("target defaults to true")
	}
	if got := s.Hash.EffectiveCost(); got != DefaultSHARounds {
		t.Errorf("sha256 effective cost %d", got)
	}
	if got := (Hash{Scheme: SchemeYescrypt}).EffectiveCost(); got != DefaultYescryptCost {
		t.Errorf("yescrypt effective cost %d", got)
	}

	// Verifiers default to a copy: changing one scenario's list must not
	// change the caller's.
	s.Verifiers[0] = "changed"
	if knownVerifiers[0] == "changed" {
		t.Fatal("default verifiers alias the known slice")
	}
	knownVerifiers[0] = "uncached"
}

func TestDefaultsNested(t *testing.T) {
	tests := []struct {
		name  string
		src   string
		check func(*Scenario) string
	}{
		{"short window shortens default warm-up", "load: {rate: 1, duration: 500ms}\n", func(s *Scenario) string {
			if s.Load.Warmup != 500*time.Millisecond {
				return "warmup " + s.Load.Warmup.String()
			}
			return ""
		}},
		{"knee defaults", "load:\n  shape: knee\n  knee: {start: 10, max: 100}\n", func(s *Scenario) string {
			k := s.Load.Knee
			if k.StepDuration != DefaultKneeStep || k.P99Bound != DefaultKneeP99Bound || k.Factor != DefaultKneeFactor || k.MaxSteps != 0 {
				return "knee " + fmtAny(k)
			}
			if got := k.Steps(); !reflect.DeepEqual(got, []float64{10, 20, 40, 80, 100}) {
				return "steps " + fmtAny(got)
			}
			// ln 2 / ln 1.05 = 14.2 ≤ 2⁴: four bisections after the ramp.
			if k.BisectSteps() != 4 || k.RefineSteps != DefaultKneeRefineSteps || k.StepBudget(2) != DefaultKneeRefineSteps {
				return "bisect " + fmtAny(k)
			}
			if s.Load.Measured() != 9*DefaultKneeStep {
				return "measured " + s.Load.Measured().String()
			}
			return ""
		}},
		{"stages duration is their sum", "load:\n  shape: stages\n  stages: [{rate: 1, duration: 1s}, {rate: 2, duration: 1500ms}]\n", func(s *Scenario) string {
			if s.Load.Duration != 2500*time.Millisecond {
				return "duration " + s.Load.Duration.String()
			}
			return ""
		}},
		{"event defaults and order", "tokens: 3\nload: {rate: 1}\nevents:\n  - {at: 2s, kind: manual-edit, token: 2}\n  - {at: 1s, kind: api-revoke, token: bench@pbs!t1}\n", func(s *Scenario) string {
			e0, e1 := s.Events[0], s.Events[1]
			if e0.Kind != EventAPIRevoke || e0.From != FromSelf || e0.ProbeRate != DefaultProbeRate || e0.TokenIndex != 1 || e0.TokenID != "bench@pbs!t1" {
				return "first " + fmtAny(e0)
			}
			if e1.Kind != EventManualEdit || e1.From != "" || e1.TokenIndex != 2 || e1.TokenID != "bench@pbs!t2" {
				return "second " + fmtAny(e1)
			}
			return ""
		}},
		{"added token can be revoked later", "load: {rate: 1}\nevents:\n  - {at: 1s, kind: api-add, token: new@pbs!n, from: other}\n  - {at: 2s, kind: api-revoke, token: new@pbs!n}\n", func(s *Scenario) string {
			for _, e := range s.Events {
				if e.TokenIndex != -1 || e.TokenID != "new@pbs!n" {
					return fmtAny(e)
				}
			}
			if s.Events[0].From != FromOther {
				return "from " + string(s.Events[0].From)
			}
			return ""
		}},
		{"explicit verifiers keep order", "verifiers: [ttl, uncached]\nload: {rate: 1}\n", func(s *Scenario) string {
			if !reflect.DeepEqual(s.Verifiers, []string{"ttl", "uncached"}) {
				return fmtAny(s.Verifiers)
			}
			return ""
		}},
		{"explicit name", "name: other\nload: {rate: 1}\n", func(s *Scenario) string {
			if s.Name != "other" {
				return s.Name
			}
			return ""
		}},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			if msg := tc.check(mustParse(t, tc.src)); msg != "" {
				t.Error(msg)
			}
		})
	}
}

func fmtAny(v any) string { return strings.TrimSpace(strings.ReplaceAll(fmtV(v), "\n", " ")) }

func fmtV(v any) string { return fmt.Sprintf("%+v", v) }

// TestExpand checks matrix expansion: names, order, applied values and
// that variants are independent copies.
func TestExpand(t *testing.T) {
	tests := []struct {
		name  string
		src   string
		names []string
		check func(t *testing.T, vs []Variant)
	}{
		{"no matrix", "load: {rate: 1}\n", []string{"x"}, nil},
		{"tokens", "load: {rate: 1}\nmatrix:\n  tokens: [1, 100, 10000]\n", []string{"x/tokens=1", "x/tokens=100", "x/tokens=10000"}, func(t *testing.T, vs []Variant) {
			for i, want := range []int{1, 100, 10000} {
				if vs[i].Scenario.Tokens != want || vs[i].Params[0] != (Param{"tokens", want}) {
					t.Errorf("variant %d: tokens %d params %v", i, vs[i].Scenario.Tokens, vs[i].Params)
				}
			}
		}},
		{"two axes", "load: {rate: 1}\nmatrix:\n  gomaxprocs: [1, 2]\n  concurrency: [1, 8, 64]\n", []string{
			"x/concurrency=1,gomaxprocs=1", "x/concurrency=1,gomaxprocs=2",
			"x/concurrency=8,gomaxprocs=1", "x/concurrency=8,gomaxprocs=2",
			"x/concurrency=64,gomaxprocs=1", "x/concurrency=64,gomaxprocs=2",
		}, func(t *testing.T, vs []Variant) {
			v := vs[3]
			if v.Scenario.Load.Concurrency != 8 || v.Scenario.Server.GOMAXPROCS != 2 {
				t.Errorf("variant 3: %+v %+v", v.Scenario.Load, v.Scenario.Server)
			}
		}},
		{"three axes", "load: {rate: 1}\nmatrix: {tokens: [1, 2], concurrency: [0, 4], gomaxprocs: [1, 2]}\n", []string{
			"x/tokens=1,concurrency=0,gomaxprocs=1", "x/tokens=1,concurrency=0,gomaxprocs=2",
			"x/tokens=1,concurrency=4,gomaxprocs=1", "x/tokens=1,concurrency=4,gomaxprocs=2",
			"x/tokens=2,concurrency=0,gomaxprocs=1", "x/tokens=2,concurrency=0,gomaxprocs=2",
			"x/tokens=2,concurrency=4,gomaxprocs=1", "x/tokens=2,concurrency=4,gomaxprocs=2",
		}, nil},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			s := mustParse(t, tc.src)
			vs := s.Expand()
			var names []string
			for _, v := range vs {
				names = append(names, v.Name)
				if v.Scenario.Name != v.Name || v.Base != "x" || !v.Scenario.Matrix.Empty() {
					t.Errorf("variant %s: scenario name %q base %q matrix %+v", v.Name, v.Scenario.Name, v.Base, v.Scenario.Matrix)
				}
			}
			if !reflect.DeepEqual(names, tc.names) {
				t.Errorf("names %v, want %v", names, tc.names)
			}
			if tc.check != nil {
				tc.check(t, vs)
			}
			vs[0].Scenario.Verifiers[0] = "changed"
			if s.Verifiers[0] == "changed" {
				t.Error("variant shares the verifier list with the scenario")
			}
		})
	}
}

func TestQuick(t *testing.T) {
	src := `load:
  shape: stages
  stages:
    - {rate: 10, duration: 2s}
    - {rate: 20, duration: 6s}
  warmup: 2s
  repeats: 3
  knee: {start: 10, max: 1000, step_duration: 2s}
server:
  ttl: 4s
events:
  - {at: 4s, kind: stale-stat, token: 0, ttl: 2s}
  - {at: 6s, kind: coarse-mtime, token: 0, granularity: 2s}
`
	s := mustParse(t, src)
	q := s.Quick()
	checkQuick(t, q)
	// Everything timed inside the 8 s window scales by QuickDuration / 8 s.
	f := func(d time.Duration) time.Duration { return d * QuickDuration / (8 * time.Second) }
	if got := []time.Duration{q.Load.Stages[0].Duration, q.Load.Stages[1].Duration}; got[0] != f(2*time.Second) || got[1] != f(6*time.Second) {
		t.Errorf("stages scaled to %v", got)
	}
	if q.Events[0].At != f(4*time.Second) || q.Events[1].At != f(6*time.Second) {
		t.Errorf("events at %s, %s", q.Events[0].At, q.Events[1].At)
	}
	if q.Events[0].TTL != f(2*time.Second) || q.Events[1].Granularity != 2*time.Second {
		t.Errorf("event timers %s, %s", q.Events[0].TTL, q.Events[1].Granularity)
	}
	if q.Server.TTL != f(4*time.Second) {
		t.Errorf("server ttl %s", q.Server.TTL)
	}
	if got := q.Load.Knee.Steps(); !reflect.DeepEqual(got, []float64{10, 20, 40, 80}[:QuickKneeSteps]) {
		t.Errorf("quick knee steps %v", got)
	}
	// The original is untouched.
	if s.Load.Repeats != 3 || s.Load.Stages[1].Duration != 6*time.Second || s.Events[0].At != 4*time.Second || s.Load.Knee.MaxSteps != 0 {
		t.Errorf("Quick modified the original: %+v", s.Load)
	}

	// A default 60 s server TTL is not meant to fire in the run: kept.
	d := mustParse(t, "load: {rate: 1, duration: 10s}\n").Quick()
	if d.Server.TTL != DefaultServerTTL || d.Load.Duration != QuickDuration || d.Load.Warmup != QuickWarmup {
		t.Errorf("quick default: %+v %+v", d.Load, d.Server)
	}
}

func TestEstimatedRuntime(t *testing.T) {
	s := mustParse(t, "control: true\nverifiers: [ttl, mtime]\nload:\n  rate: 1\n  duration: 3s\n  warmup: 1s\n  repeats: 2\n  knee: {start: 1, max: 4, step_duration: 500ms}\nmatrix:\n  tokens: [1, 2]\n")
	// 2 variants x (2 verifiers + control + its A/A copy) x (3 rounds x
	// 2 x 4s + knee steps x (500ms + warm-up + cooldown)): round 1 ramps
	// (1, 2, 4) and bisects 4 times, rounds 2 and 3 refine in 4 steps.
	step := 500*time.Millisecond + MaxKneeStepWarmup + KneeCooldown
	if got, want := s.EstimatedRuntime(), 2*4*(3*8*time.Second+(7+4+4)*step); got != want {
		t.Errorf("estimate %s, want %s", got, want)
	}
}

func TestLoadAll(t *testing.T) {
	dir := t.TempDir()
	write := func(name, src string) string {
		p := filepath.Join(dir, name)
		if err := os.WriteFile(p, []byte(src), 0o644); err != nil {
			t.Fatal(err)
		}
		return p
	}
	a := write("a.yaml", "# a\nload: {rate: 1}\n")
	b := write("b.yaml", "# b\nname: a\nload: {rate: 1}\n")
	c := write("c.yaml", "# c\nload: {rate: 0}\n")
	if _, err := LoadAll([]string{a, b, c}, knownVerifiers); err == nil ||
		!strings.Contains(err.Error(), `scenario name "a" already used by `+a) ||
		!strings.Contains(err.Error(), c+":2: load.rate: must be > 0") {
		t.Errorf("LoadAll error %v", err)
	}
	if _, err := Load(filepath.Join(dir, "missing.yaml"), knownVerifiers); err == nil || !errors.Is(err, os.ErrNotExist) {
		t.Errorf("Load of a missing file: %v", err)
	}
	if err := os.Remove(b); err != nil {
		t.Fatal(err)
	}
	if err := os.Remove(c); err != nil {
		t.Fatal(err)
	}
	ss, err := LoadDir(dir, knownVerifiers)
	if err != nil || len(ss) != 1 || ss[0].Name != "a" {
		t.Errorf("LoadDir: %v %v", ss, err)
	}
	if _, err := LoadDir(t.TempDir(), knownVerifiers); err == nil {
		t.Error("LoadDir of an empty dir succeeded")
	}
}

// TestQuickKeepsSweepEnds: quick mode keeps each matrix axis's first and
// last value, so the quick suite still shows the trend in fewer runs.
func TestQuickKeepsSweepEnds(t *testing.T) {
	s := mustParse(t, "# q\nload: {rate: 10}\nmatrix: {tokens: [1, 100, 10000], concurrency: [1, 8]}\n")
	q := s.Quick()
	if !reflect.DeepEqual(q.Matrix.Tokens, []int{1, 10000}) || !reflect.DeepEqual(q.Matrix.Concurrency, []int{1, 8}) {
		t.Errorf("quick matrix %+v", q.Matrix)
	}
	if len(s.Matrix.Tokens) != 3 {
		t.Error("Quick modified the original matrix")
	}
	if got := len(q.Expand()); got != 4 {
		t.Errorf("%d quick variants, want 4", got)
	}
}

func TestHeaderQuestion(t *testing.T) {
	for _, tc := range []struct{ name, in, want string }{
		{"one line", "# Question: does it work?\ntokens: 1\n", "does it work?"},
		{"joined and cut after the question", "# Question: how long does\n# it take? The TTL is short\n# here.\ntokens: 1\n",
			"how long does it take?"},
		{"question mark inside a word is not the end", "# Question: is a?b cached, and how fast?\n", "is a?b cached, and how fast?"},
		{"comments before the question", "# scenario for CI\n# Question: why?\n", "why?"},
		{"blank comment line ends it", "# Question: what\n#\n# notes?\n", "what"},
		{"no question", "# just a comment\ntokens: 1\n", ""},
		{"question after the header block", "tokens: 1\n# Question: late?\n", ""},
		{"CRLF", "# Question: windows\r\n# line ends?\r\ntokens: 1\r\n", "windows line ends?"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			if got := HeaderQuestion([]byte(tc.in)); got != tc.want {
				t.Errorf("HeaderQuestion = %q, want %q", got, tc.want)
			}
		})
	}
}
