package impl

import (
	"context"
	"errors"
	"fmt"
	"sync/atomic"
	"time"

	"github.com/authbench/authbench/impl/k8scache"
)

// K8sDefaultSuccessTTL and K8sDefaultFailureTTL are kube-apiserver's token
// cache defaults (see package k8scache for the source).
const (
	K8sDefaultSuccessTTL = k8scache.DefaultSuccessTTL
	K8sDefaultFailureTTL = k8scache.DefaultFailureTTL
)

// k8sVerifier is the peer: Kubernetes' cached token authenticator around
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
type k8sVerifier struct {
	base
	cache    *k8scache.Cache
	accepted atomic.Uint64
	slowOK   atomic.Uint64
}

func newK8s(cfg Config) (Verifier, error) {
	if cfg.SuccessTTL < 0 {
		// Refused here too: k8sSuccessTTL would otherwise replace it.
		return nil, fmt.Errorf("k8s: negative success TTL %s", cfg.SuccessTTL)
	}
	v := &k8sVerifier{base: base{name: "k8s", store: cfg.Store, bound: k8sBound(cfg)}}
	c, err := k8scache.New(k8sChecker{v}, k8scache.Options{SuccessTTL: k8sSuccessTTL(cfg), FailureTTL: cfg.FailureTTL})
	if err != nil {
		return nil, err
	}
	v.cache = c
	return v, nil
}

// k8sSuccessTTL is the success TTL the peer runs with: SuccessTTL if set,
// else the TTL the ttl family gets (a scenario's server.ttl, so a short
// window applies to the peer too and its probes converge within the
// event's window), else kube-apiserver's 10 s.
func k8sSuccessTTL(cfg Config) time.Duration {
	switch {
	case cfg.SuccessTTL > 0:
		return cfg.SuccessTTL
	case cfg.TTL > 0:
		return cfg.TTL
	}
	return K8sDefaultSuccessTTL
}

func k8sBound(cfg Config) Bound {
	s := Staleness{Max: k8sSuccessTTL(cfg)}
	return Bound{APISameProcess: s, APIOtherProcess: s, ManualEdit: s, SameLenRestore: s}
}

func (v *k8sVerifier) Verify(ctx context.Context, id, secret string) (Outcome, error) {
	if err := ValidateTokenID(id); err != nil {
		v.n.rejected.Add(1)
		return OutcomeFast, fmt.Errorf("%w: %w", ErrRejected, err)
	}
	slowBefore := v.n.slow.Load()
	ok, err := v.cache.Verify(ctx, id, secret)
	outcome := OutcomeFast
	if v.n.slow.Load() != slowBefore { // approximate under concurrency: a hint for labels
		outcome = OutcomeSlow
	}
	if err != nil || !ok {
		v.n.rejected.Add(1)
		if err == nil {
			err = errors.New("not verified")
		}
		return outcome, fmt.Errorf("%w: %w", ErrRejected, err)
	}
	v.accepted.Add(1)
	return outcome, nil
}

func (v *k8sVerifier) Stats() Stats {
	s := v.n.snapshot()
	if a, ok := v.accepted.Load(), v.slowOK.Load(); a > ok {
		s.Fast = a - ok
	}
	return s
}

// k8sChecker adapts the uncached slow path to k8scache.Checker: a
// rejection is ok=false, not an error, so the cache treats it as a failed
// authentication (cached only with a FailureTTL).
type k8sChecker struct{ v *k8sVerifier }

func (c k8sChecker) Check(ctx context.Context, id, secret string) (bool, error) {
	c.v.n.slow.Add(1)
	if err := c.v.slowVerify(id, secret); err != nil {
		return false, nil
	}
	c.v.slowOK.Add(1)
	return true, nil
}
