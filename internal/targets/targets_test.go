package targets

import (
	"os"
	"strings"
	"testing"

	gatefiles "github.com/authbench/authbench/gate"
)

func TestDefault(t *testing.T) {
	repo, err := os.ReadFile("../../gate/thresholds.yaml")
	if err != nil {
		t.Fatal(err)
	}
	if string(repo) != gatefiles.ThresholdsYAML() {
		t.Error("the embedded thresholds differ from gate/thresholds.yaml")
	}
	f := Default()
	if f.Version != Version {
		t.Errorf("version %d, want %d", f.Version, Version)
	}
	for _, e := range f.Thresholds {
		if e.ByReport() && e.Resolution <= 0 {
			t.Errorf("%s: judged by the report without a resolution", e.Name)
		}
	}
	// The uncached crypt share is a harness check (issue 16) and excludes
	// tokens=10000, where parsing the file dominates.
	u, ok := f.Find("uncached-crypt-share")
	if !ok || !u.Sanity() || u.Applies("steady/tokens=10000", "uncached", nil) || !u.Applies("steady/tokens=100", "uncached", nil) {
		t.Errorf("uncached-crypt-share: %+v", u)
	}
}

func TestApplies(t *testing.T) {
	e := Entry{Metric: CryptShareMax, Target: true, Scenarios: []string{"steady"}}
	tests := []struct {
		s, v    string
		targets map[string]bool
		want    bool
	}{
		{"steady/tokens=100", "ttl", nil, true},
		{"steady/tokens=100", "uncached", nil, false},
		{"steady/tokens=100", "noauth", nil, false},
		{"steadyish", "ttl", nil, false},
		{"bulk", "ttl", map[string]bool{"bulk": true}, true},
		{"steady", "ttl", map[string]bool{"bulk": true}, false},
	}
	for _, tt := range tests {
		if got := e.Applies(tt.s, tt.v, tt.targets); got != tt.want {
			t.Errorf("Applies(%q, %q, %v) = %v, want %v", tt.s, tt.v, tt.targets, got, tt.want)
		}
	}
}

func TestParseVersion1(t *testing.T) {
	f, err := Parse([]byte("version: 1\nthresholds:\n  - {name: a, metric: crypt_share_max, verifiers: all, value: 0.1, message: m}\n"))
	if err != nil {
		t.Fatal(err)
	}
	if e := f.Thresholds[0]; e.Kind != KindTarget || !e.ByGate() || e.ByReport() {
		t.Errorf("version 1 entry: %+v, want a gate-only target", e)
	}
	if _, err := Parse([]byte("version: 2\nthresholds:\n  - {name: a, metric: nope, kind: target, checked_by: [gate], value: 1, message: m}\n")); err == nil || !strings.Contains(err.Error(), `unknown metric "nope"`) {
		t.Errorf("unknown metric: %v", err)
	}
}
