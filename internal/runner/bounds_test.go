package runner

import (
	"path/filepath"
	"testing"
	"time"

	"github.com/authbench/authbench/impl"
	"github.com/authbench/authbench/internal/revocation"
	"github.com/authbench/authbench/scenarios"
)

// TestRepoScenarioBoundsObservable checks the shipped event scenarios
// against the bounds the runner will judge them by: for every verifier a
// scenario runs and every event, a bounded staleness must end (with the
// probe's in-flight slack) before the measured window does, in the full
// and the quick suite, or the verdict could only say "run ended before the
// bound". It is what makes a scenario's server.ttl matter to k8s.
func TestRepoScenarioBoundsObservable(t *testing.T) {
	paths, err := filepath.Glob(filepath.Join("..", "..", "scenarios", "*.yaml"))
	if err != nil || len(paths) == 0 {
		t.Fatalf("no scenario files: %v", err)
	}
	ss, err := scenarios.LoadAll(paths, KnownNames())
	if err != nil {
		t.Fatal(err)
	}
	for _, full := range ss {
		if full.Cluster != nil || len(full.Events) == 0 {
			continue
		}
		for _, sc := range []*scenarios.Scenario{full, full.Quick()} {
			for _, name := range sc.Verifiers {
				if _, ok := impl.Lookup(name); !ok {
					continue // ticket strategies: no token events
				}
				b, err := impl.DeclaredBound(name, impl.Config{TTL: verifierTTL(sc)})
				if err != nil {
					t.Fatal(err)
				}
				for _, ev := range sc.Events {
					s := boundFor(b, ev)
					if s.Unbounded {
						continue
					}
					slack := time.Duration(revocation.Slack(ev.ProbeRate) * float64(time.Millisecond))
					if end := ev.At + s.Max + slack; end >= sc.Load.Duration {
						t.Errorf("%s (window %s): %s's %s bound for %s at %s ends at %s, after the window",
							sc.Name, sc.Load.Duration, name, s, ev.Kind, ev.At, end)
					}
				}
			}
		}
	}
}

// TestVerifierTTL: PBS's default TTL is passed as "each verifier's
// default" (so k8s keeps its own 10 s); a scenario's shorter TTL reaches
// every verifier.
func TestVerifierTTL(t *testing.T) {
	for _, tc := range []struct {
		ttl, want, k8s time.Duration
	}{
		{impl.DefaultTTL, 0, impl.K8sDefaultSuccessTTL},
		{1500 * time.Millisecond, 1500 * time.Millisecond, 1500 * time.Millisecond},
	} {
		sc := &scenarios.Scenario{Server: scenarios.Server{TTL: tc.ttl}}
		got := verifierTTL(sc)
		if got != tc.want {
			t.Errorf("verifierTTL(%s) = %s, want %s", tc.ttl, got, tc.want)
		}
		b, err := impl.DeclaredBound("k8s", impl.Config{TTL: got})
		if err != nil {
			t.Fatal(err)
		}
		if b.ManualEdit.Max != tc.k8s {
			t.Errorf("server.ttl %s: k8s bound %s, want %s", tc.ttl, b.ManualEdit, tc.k8s)
		}
	}
}
