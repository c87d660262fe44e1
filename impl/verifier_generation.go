package impl

import "context"

// generationVerifier is stage 1 of the PBS series: verified secrets cached
// in memory, valid while the shared generation is unchanged.
//
// Staleness: API mutations in this process update the cache under its write
// lock; those from other processes bump the shared generation, which every
// request compares, so both take effect for the next request. Manual edits
// neither take the lock nor bump the generation: an old secret stays
// accepted until something else bumps it (unbounded).
//
// Known hole, kept because it is PBS's behaviour: if another process
// mutates and this process then makes its own API mutation before serving
// any request, apply_api_mutation sees bumped == current and re-stamps the
// whole cache with the new generation, so entries the other process revoked
// survive. TestGenerationOtherProcessThenOwnMutation pins it down.
type generationVerifier struct {
	base
	cache *secretCache
}

func newGeneration(cfg Config) (Verifier, error) {
	return &generationVerifier{
		base:  base{name: "generation", store: cfg.Store, bound: generationBound(cfg)},
		cache: newSecretCache(),
	}, nil
}

var unbounded = Staleness{Unbounded: true}

func generationBound(Config) Bound {
	return Bound{ManualEdit: unbounded, SameLenRestore: unbounded}
}

func (v *generationVerifier) Verify(ctx context.Context, id, secret string) (Outcome, error) {
	c := v.cache
	if !c.mu.TryRLock() {
		return v.slowPath(ctx, id, secret, OutcomeFallback, c)
	}
	hit := c.cachedGen == v.store.gen.Load() && c.secretMatches(id, secret)
	c.mu.RUnlock()
	if hit {
		return v.fast()
	}
	return v.slowPath(ctx, id, secret, OutcomeSlow, c)
}

func (v *generationVerifier) ApplyMutation(m Mutation) {
	v.cache.applyMutation(m, v.store, timeZero, false, &v.n)
}
