package gaterates

import (
	"errors"
	"os"
	"path/filepath"
	"reflect"
	"testing"
)

func TestRoundTrip(t *testing.T) {
	p := filepath.Join(t.TempDir(), "gate", "rates.json")
	in := &File{Date: "2026-12-03T10:00:00Z", Machine: "linux/amd64, 2 CPUs", Alpha: 0.05, Correction: "benjamini-hochberg",
		Methods: []Method{{Method: "instructions", Unit: "instructions/op", Rounds: 6, MinEffect: 0.01, Trials: "resampled",
			FalseAlarm: Rate{K: 0, N: 100, Lo: 0, Hi: 0.0362},
			Detection:  []Planted{{Slowdown: 0.01, Detected: Rate{K: 90, N: 100, Lo: 0.82, Hi: 0.95}}},
			MDE80:      0.01, MDE80Resolved: true}}}
	if err := Write(p, in); err != nil {
		t.Fatal(err)
	}
	out, err := Read(p)
	if err != nil {
		t.Fatal(err)
	}
	if !reflect.DeepEqual(in, out) {
		t.Errorf("round trip:\n%+v\n%+v", in, out)
	}
}

func TestReadRejects(t *testing.T) {
	dir := t.TempDir()
	for name, body := range map[string]string{
		"version": `{"version": 99}`,
		"rate":    `{"version": 1, "methods": [{"method": "x", "false_alarm": {"k": 5, "n": 3}}]}`,
		"json":    `{`,
	} {
		p := filepath.Join(dir, name)
		if err := os.WriteFile(p, []byte(body), 0o644); err != nil {
			t.Fatal(err)
		}
		_, err := Read(p)
		if err == nil {
			t.Errorf("%s: read without error", name)
		}
		if name == "version" && !errors.Is(err, ErrVersion) {
			t.Errorf("version: err %v", err)
		}
	}
}

func TestVerdicts(t *testing.T) {
	cases := []struct {
		r               Rate
		most, least     string
		target, target2 float64
	}{
		{Rate{K: 0, N: 300, Lo: 0, Hi: 0.0122}, "unresolved", "missed", 0.01, 0.95},
		{Rate{K: 0, N: 400, Lo: 0, Hi: 0.0092}, "met", "missed", 0.01, 0.95},
		{Rate{K: 60, N: 60, Lo: 0.94, Hi: 1}, "missed", "unresolved", 0.01, 0.95},
		{Rate{K: 100, N: 100, Lo: 0.964, Hi: 1}, "missed", "met", 0.01, 0.95},
		{Rate{}, "unresolved", "unresolved", 0.01, 0.95},
	}
	for _, c := range cases {
		if got := c.r.AtMost(c.target); got != c.most {
			t.Errorf("%v AtMost %g = %s, want %s", c.r, c.target, got, c.most)
		}
		if got := c.r.AtLeast(c.target2); got != c.least {
			t.Errorf("%v AtLeast %g = %s, want %s", c.r, c.target2, got, c.least)
		}
	}
	if s := (Rate{K: 1, N: 20, Lo: 0.0013, Hi: 0.249}).String(); s != "1/20 = 5.0 % [0.1, 24.9] %" {
		t.Errorf("String %q", s)
	}
}
