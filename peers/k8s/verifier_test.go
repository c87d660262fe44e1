package k8s

import (
	"context"
	"errors"
	"path/filepath"
	"testing"
	"time"

	"github.com/authbench/authbench/impl"
	"github.com/authbench/authbench/impl/cryptpw"
)

// TestDefaults pins kube-apiserver's token cache defaults, and impl's
// deprecated copies of them.
func TestDefaults(t *testing.T) {
	if DefaultSuccessTTL != 10*time.Second || DefaultFailureTTL != 0 {
		t.Errorf("defaults %s/%s, want kube-apiserver's 10s/0s", DefaultSuccessTTL, time.Duration(DefaultFailureTTL))
	}
	if impl.K8sDefaultSuccessTTL != DefaultSuccessTTL || impl.K8sDefaultFailureTTL != DefaultFailureTTL {
		t.Error("impl's deprecated K8sDefault* constants differ from the peer's")
	}
}

// TestBound: the success TTL is SuccessTTL, else TTL, else the default,
// for every kind of change; the registry answers the same without
// building the verifier.
func TestBound(t *testing.T) {
	cases := []struct {
		cfg  impl.Config
		want time.Duration
	}{
		{impl.Config{}, DefaultSuccessTTL},
		{impl.Config{TTL: 1500 * time.Millisecond}, 1500 * time.Millisecond},
		{impl.Config{TTL: time.Second, SuccessTTL: 3 * time.Second}, 3 * time.Second},
	}
	for _, c := range cases {
		b, err := impl.DeclaredBound(Name, c.cfg)
		if err != nil {
			t.Fatal(err)
		}
		want := impl.Staleness{Max: c.want}
		if b.APISameProcess != want || b.APIOtherProcess != want || b.ManualEdit != want || b.SameLenRestore != want {
			t.Errorf("%+v: bound %+v, want %s for every change", c.cfg, b, c.want)
		}
	}
}

func TestRegistered(t *testing.T) {
	s, ok := impl.Lookup(Name)
	if !ok || s.Family != impl.FamilyPeer || !s.Cached || !s.WallClock {
		t.Fatalf("registry entry %+v, %v", s, ok)
	}
}

// TestVerifier: the peer accepts the current secret from its cache,
// refuses a wrong one and bad ids, and counts hashes as Slow and cache
// answers as Fast. (impl's conformance, model and benchmark suites cover
// its staleness against the declared bound.)
func TestVerifier(t *testing.T) {
	ctx := context.Background()
	st, err := impl.OpenStore(filepath.Join(t.TempDir(), "token.shadow"), impl.StoreOptions{Scheme: cryptpw.SHA256, Cost: 1000})
	if err != nil {
		t.Fatal(err)
	}
	defer st.Close()
	if _, err := impl.New(Name, impl.Config{Store: st, SuccessTTL: -time.Second}); err == nil {
		t.Error("negative success TTL accepted")
	}
	const id = "alice@pbs!ci"
	sec, err := st.Add(ctx, id)
	if err != nil {
		t.Fatal(err)
	}
	v, err := impl.New(Name, impl.Config{Store: st})
	if err != nil {
		t.Fatal(err)
	}
	defer impl.Close(v)
	for range 3 {
		if _, err := v.Verify(ctx, id, sec); err != nil {
			t.Fatalf("current secret rejected: %v", err)
		}
	}
	for _, bad := range []struct{ id, secret string }{{id, "wrong"}, {"no-realm", sec}, {"x:y@pbs!t", sec}} {
		if _, err := v.Verify(ctx, bad.id, bad.secret); !errors.Is(err, impl.ErrRejected) {
			t.Errorf("Verify(%q) = %v, want a rejection", bad.id, err)
		}
	}
	got := v.Stats()
	if got.Slow != 2 || got.Fast != 2 || got.Rejected != 3 {
		t.Errorf("stats %+v, want 2 hashes (first hit, wrong secret), 2 cached answers, 3 rejections", got)
	}
}
