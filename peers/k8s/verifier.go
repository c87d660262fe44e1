package k8s

import (
	"context"
	"errors"
	"fmt"
	"sync/atomic"
	"time"

	"github.com/authbench/authbench/impl"
)

// Name is the peer's registry name.
const Name = "k8s"

func init() { impl.Register(Spec()) }

// Spec declares the peer for impl's registry.
func Spec() impl.Spec {
	return impl.Spec{Name: Name, New: newVerifier, Bound: bound, Cached: true, Family: impl.FamilyPeer,
		WallClock: true,
		Summary:   "Kubernetes' cached token authenticator around uncached (success TTL)"}
}

// verifier is the peer: Kubernetes' cached token authenticator around
// the uncached slow path, unchanged. It sees neither the generation nor
// the file, so every change, API or manual, is seen when the cached
// success expires: its declared bound is the success TTL for everything.
// The success TTL is Config.SuccessTTL, else Config.TTL, else
// kube-apiserver's default.
// Its TTLs run on the wall clock (Config.Clock does not reach it). One
// caveat the bound does not show: a slow path that read the file before a
// change and finishes after it caches its answer then, so a stale secret
// can pass for up to the success TTL plus one slow-path duration.
//
// Counters: Slow counts hashes (calls into the slow path); Fast counts
// accepted verifications that did not hash (cache hits and requests that
// shared another's in-flight hash).
type verifier struct {
	store    *impl.Store
	bound    impl.Bound
	cache    *Cache
	slow     atomic.Uint64
	rejected atomic.Uint64
	accepted atomic.Uint64
	slowOK   atomic.Uint64
}

func newVerifier(cfg impl.Config) (impl.Verifier, error) {
	if cfg.SuccessTTL < 0 {
		// Refused here too: successTTL would otherwise replace it.
		return nil, fmt.Errorf("k8s: negative success TTL %s", cfg.SuccessTTL)
	}
	v := &verifier{store: cfg.Store, bound: bound(cfg)}
	c, err := New(checker{v}, Options{SuccessTTL: successTTL(cfg), FailureTTL: cfg.FailureTTL})
	if err != nil {
		return nil, err
	}
	v.cache = c
	return v, nil
}

// successTTL is the success TTL the peer runs with: SuccessTTL if set,
// else the TTL the ttl family gets (a scenario's server.ttl, so a short
// window applies to the peer too and its probes converge within the
// event's window), else kube-apiserver's 10 s.
func successTTL(cfg impl.Config) time.Duration {
	switch {
	case cfg.SuccessTTL > 0:
		return cfg.SuccessTTL
	case cfg.TTL > 0:
		return cfg.TTL
	}
	return DefaultSuccessTTL
}

func bound(cfg impl.Config) impl.Bound {
	s := impl.Staleness{Max: successTTL(cfg)}
	return impl.Bound{APISameProcess: s, APIOtherProcess: s, ManualEdit: s, SameLenRestore: s}
}

func (v *verifier) Name() string      { return Name }
func (v *verifier) Bound() impl.Bound { return v.bound }

func (v *verifier) Verify(ctx context.Context, id, secret string) (impl.Outcome, error) {
	if err := impl.ValidateTokenID(id); err != nil {
		v.rejected.Add(1)
		return impl.OutcomeFast, fmt.Errorf("%w: %w", impl.ErrRejected, err)
	}
	slowBefore := v.slow.Load()
	ok, err := v.cache.Verify(ctx, id, secret)
	outcome := impl.OutcomeFast
	if v.slow.Load() != slowBefore { // approximate under concurrency: a hint for labels
		outcome = impl.OutcomeSlow
	}
	if err != nil || !ok {
		v.rejected.Add(1)
		if err == nil {
			err = errors.New("not verified")
		}
		return outcome, fmt.Errorf("%w: %w", impl.ErrRejected, err)
	}
	v.accepted.Add(1)
	return outcome, nil
}

func (v *verifier) Stats() impl.Stats {
	s := impl.Stats{Slow: v.slow.Load(), Rejected: v.rejected.Load()}
	if a, ok := v.accepted.Load(), v.slowOK.Load(); a > ok {
		s.Fast = a - ok
	}
	return s
}

// checker adapts the uncached slow path to Checker: a rejection is
// ok=false, not an error, so the cache treats it as a failed
// authentication (cached only with a FailureTTL).
type checker struct{ v *verifier }

func (c checker) Check(_ context.Context, id, secret string) (bool, error) {
	c.v.slow.Add(1)
	if err := impl.SlowVerify(c.v.store, id, secret); err != nil {
		return false, nil
	}
	c.v.slowOK.Add(1)
	return true, nil
}
