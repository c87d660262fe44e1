package impl

import "context"

// uncachedVerifier is PBS before the series: every request reads and parses
// token.shadow and runs the crypt hash. Nothing is ever stale.
type uncachedVerifier struct{ base }

func newUncached(cfg Config) (Verifier, error) {
	return &uncachedVerifier{base{name: "uncached", store: cfg.Store, bound: uncachedBound(cfg)}}, nil
}

func uncachedBound(Config) Bound { return Bound{} }

func (v *uncachedVerifier) Verify(ctx context.Context, id, secret string) (Outcome, error) {
	return v.slowPath(ctx, id, secret, OutcomeSlow, nil)
}
