package impl

import "context"

import "time"

// mtimeVerifier is stage 2 (PBS v8 cached_secret_valid): every request
// takes the cache's write lock (try_write), compares the generation, stats
// token.shadow and clears the cache if (mtime, len) changed, bumping the
// generation so other processes clear theirs.
//
// Staleness: API mutations and manual edits are seen by the next request.
// A same-length rewrite that restores the previous mtime (cp -p from a
// backup) is invisible: unbounded. Coarse or cached file-system timestamps
// widen the window accordingly.
//
// Two PBS windows re-open stage 1's hole (see generationVerifier), both
// pinned by tests: a foreign rotation and an own API mutation inside one
// mtime tick (the kernel stamps renames with a coarse clock and rotations
// keep the length), and a revoke after a slow-path insert that followed a
// generation reset (the cache then has no metadata to compare).
type mtimeVerifier struct {
	base
	cache *secretCache
	clock func() time.Time
}

func newMtime(cfg Config) (Verifier, error) {
	return &mtimeVerifier{
		base:  base{name: "mtime", store: cfg.Store, bound: mtimeBound(cfg)},
		cache: newSecretCache(),
		clock: cfg.now,
	}, nil
}

func mtimeBound(Config) Bound { return Bound{SameLenRestore: unbounded, UsesFileMetadata: true} }

func (v *mtimeVerifier) Verify(ctx context.Context, id, secret string) (Outcome, error) {
	matched, contended := v.cache.refreshFromFile(id, secret, v.store, v.clock(), &v.n)
	if matched {
		return v.fast()
	}
	if contended {
		return v.slowPath(ctx, id, secret, OutcomeFallback, v.cache)
	}
	return v.slowPath(ctx, id, secret, OutcomeSlow, v.cache)
}

func (v *mtimeVerifier) ApplyMutation(m Mutation) {
	v.cache.applyMutation(m, v.store, v.clock(), true, &v.n)
}

var timeZero time.Time
