package suite

import (
	"os"
	"path/filepath"
	"testing"

	"github.com/authbench/authbench/internal/gaterates"
)

// TestGateVerdict: no rates file states nothing, a broken one is an
// error, a valid one becomes the report's gate sentence.
func TestGateVerdict(t *testing.T) {
	dir := t.TempDir()
	if g, err := gateVerdict(filepath.Join(dir, "missing.json")); g != nil || err != nil {
		t.Errorf("missing file: %v, %v", g, err)
	}
	bad := filepath.Join(dir, "bad.json")
	if err := os.WriteFile(bad, []byte("{"), 0o644); err != nil {
		t.Fatal(err)
	}
	if _, err := gateVerdict(bad); err == nil {
		t.Error("a broken rates file was accepted")
	}
	good := filepath.Join(dir, "rates.json")
	f := &gaterates.File{Version: gaterates.Version, Date: "2026-12-03T10:15:05Z", Machine: "m", Methods: []gaterates.Method{
		{Method: "instructions", Unit: "instructions/op", Rounds: 6, FalseAlarm: gaterates.Rate{N: 200, Hi: 0.0183}}}}
	if err := gaterates.Write(good, f); err != nil {
		t.Fatal(err)
	}
	if g, err := gateVerdict(good); err != nil || g == nil || !g.Pass {
		t.Errorf("valid file: %+v, %v", g, err)
	}
}
