package suite

import (
	"errors"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"

	"github.com/authbench/authbench/internal/results"
	"github.com/authbench/authbench/scenarios"
)

func TestSelectVerifiers(t *testing.T) {
	known := []string{"uncached", "ttl", "fresh", "ticket/mtime", "ticket/uncached"}
	tok := &scenarios.Scenario{Verifiers: []string{"uncached", "ttl", "fresh"}}
	if err := SelectVerifiers([]*scenarios.Scenario{tok}, []string{"fresh", "uncached"}, known); err != nil {
		t.Fatal(err)
	}
	if !slices.Equal(tok.Verifiers, []string{"uncached", "fresh"}) {
		t.Errorf("verifiers %v, want the scenario's order kept", tok.Verifiers)
	}
	err := SelectVerifiers([]*scenarios.Scenario{tok}, []string{"nope"}, known)
	if err == nil || !strings.Contains(err.Error(), `"nope"`) {
		t.Errorf("unknown verifier: %v", err)
	}
}

func TestFailedRevocations(t *testing.T) {
	res := &results.File{Revocations: []results.Revocation{{Pass: true}, {Pass: false}, {Pass: false}}}
	if got := FailedRevocations(res); got != 2 {
		t.Errorf("%d failed, want 2", got)
	}
}

func TestHashOf(t *testing.T) {
	a := &scenarios.Scenario{Hash: scenarios.Hash{Scheme: "sha256", Cost: 1000}}
	b := &scenarios.Scenario{Hash: scenarios.Hash{Scheme: "sha512", Cost: 1000}}
	if s, c := hashOf([]*scenarios.Scenario{a, a}); s != "sha256" || c != 1000 {
		t.Errorf("one scheme: %s %d", s, c)
	}
	if s, _ := hashOf([]*scenarios.Scenario{a, b}); !strings.Contains(s, "mixed") {
		t.Errorf("two schemes: %s", s)
	}
}

// TestMergeRunsBadInput: an unreadable run directory is a ReadError (the
// caller's exit 2) and creates nothing.
func TestMergeRunsBadInput(t *testing.T) {
	dir := t.TempDir()
	dest := filepath.Join(dir, "merged")
	_, err := MergeRuns([]string{filepath.Join(dir, "missing")}, dest)
	if _, bad := errors.AsType[*ReadError](err); !bad {
		t.Fatalf("MergeRuns = %v, want a ReadError", err)
	}
	if _, err := os.Stat(dest); !os.IsNotExist(err) {
		t.Errorf("refused merge left %s (%v)", dest, err)
	}
}

func TestCopyTree(t *testing.T) {
	dir := t.TempDir()
	src, dst := filepath.Join(dir, "src"), filepath.Join(dir, "dst")
	if err := CopyTree(src, dst); err != nil {
		t.Fatalf("missing source: %v", err)
	}
	if err := os.MkdirAll(filepath.Join(src, "a"), 0o755); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(filepath.Join(src, "a", "f.svg"), []byte("x"), 0o644); err != nil {
		t.Fatal(err)
	}
	if err := CopyTree(src, dst); err != nil {
		t.Fatal(err)
	}
	if got, err := os.ReadFile(filepath.Join(dst, "a", "f.svg")); err != nil || string(got) != "x" {
		t.Errorf("copied %q, %v", got, err)
	}
}

func TestReadMicrobenchRefuses(t *testing.T) {
	dir := t.TempDir()
	garbage := filepath.Join(dir, "g.txt")
	if err := os.WriteFile(garbage, []byte("not benchmark output\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	for _, p := range []string{garbage, filepath.Join(dir, "missing.txt")} {
		if _, err := ReadMicrobench(p); err == nil || !strings.Contains(err.Error(), "--microbench") {
			t.Errorf("%s: %v, want a --microbench error", p, err)
		}
	}
}
