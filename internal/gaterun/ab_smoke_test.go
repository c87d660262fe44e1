package gaterun

import (
	"context"
	"os"
	"testing"
)

// TestABSmoke builds the real driver from this checkout against itself and
// prints one process's output (AB_SMOKE=1; it compiles impl twice).
func TestABSmoke(t *testing.T) {
	if os.Getenv("AB_SMOKE") == "" {
		t.Skip("AB_SMOKE unset")
	}
	bin, err := ABBuild(context.Background(), "../..", "../..", t.TempDir())
	if err != nil {
		t.Fatal(err)
	}
	out, err := abRun(context.Background(), bin, ABProtocol{Verifiers: []string{"generation", "mtime", "ttl"}, Rounds: 60, Sample: "250us", Planted: []float64{0.01, 0.02, 0.05, 0.1}})
	t.Logf("%s %v", out, err)
}
