package impl

import (
	"context"
	"errors"
	"time"
)

// ttlVerifier is stage 3: inside the TTL window after the last metadata
// check only the generation is compared, under the read lock; outside it,
// the mtime stage's check runs under try_write, re-checking the TTL once
// the lock is held.
//
// Staleness: API mutations (any process) take effect at the next request;
// manual edits within the TTL (default 60 s, PBS's documented behaviour);
// same-length mtime-restoring rewrites never. The mtime stage's two
// re-stamp windows apply here too.
type ttlVerifier struct {
	base
	cache *secretCache
	ttl   time.Duration
	clock func() time.Time
}

func newTTL(cfg Config) (Verifier, error) {
	if cfg.TTL < 0 {
		return nil, errors.New("negative TTL")
	}
	ttl := cfg.ttl()
	return &ttlVerifier{
		base:  base{name: "ttl", store: cfg.Store, bound: ttlBound(cfg)},
		cache: newSecretCache(),
		ttl:   ttl,
		clock: cfg.now,
	}, nil
}

func (v *ttlVerifier) fresh(now time.Time) bool {
	c := v.cache
	return c.cachedGen == v.store.gen.Load() && c.fileInfo != nil && now.Sub(c.fileInfo.lastChecked) < v.ttl
}

func (v *ttlVerifier) Verify(ctx context.Context, id, secret string) (Outcome, error) {
	c := v.cache
	now := v.clock()
	if !c.mu.TryRLock() {
		return v.slowPath(ctx, id, secret, OutcomeFallback, c)
	}
	if v.fresh(now) {
		hit := c.secretMatches(id, secret)
		c.mu.RUnlock()
		if hit {
			return v.fast()
		}
		return v.slowPath(ctx, id, secret, OutcomeSlow, c)
	}
	c.mu.RUnlock()

	if !c.mu.TryLock() {
		return v.slowPath(ctx, id, secret, OutcomeFallback, c)
	}
	var hit bool
	if v.fresh(now) { // another request refreshed while we waited
		hit = c.secretMatches(id, secret)
	} else {
		hit = c.refreshLocked(id, secret, v.store, now, &v.n)
	}
	c.mu.Unlock()
	if hit {
		return v.fast()
	}
	return v.slowPath(ctx, id, secret, OutcomeSlow, c)
}

func (v *ttlVerifier) ApplyMutation(m Mutation) {
	v.cache.applyMutation(m, v.store, v.clock(), true, &v.n)
}

func ttlBound(cfg Config) Bound {
	return Bound{ManualEdit: Staleness{Max: cfg.ttl()}, SameLenRestore: unbounded, UsesFileMetadata: true}
}
