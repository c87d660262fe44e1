package impl

import (
	"context"
	"fmt"
	"runtime/pprof"

	"github.com/authbench/authbench/impl/cryptpw"
)

// base carries what every verifier shares: its name, store, counters and
// the slow path.
type base struct {
	name  string
	store *Store
	bound Bound
	n     counters
}

func (b *base) Name() string { return b.name }
func (b *base) Stats() Stats { return b.n.snapshot() }
func (b *base) Bound() Bound { return b.bound }

// slowVerify is the uncached check PBS does on every request before the
// series (SlowVerify on the verifier's store).
func (b *base) slowVerify(id, secret string) error { return SlowVerify(b.store, id, secret) }

// SlowVerify is the uncached check PBS does on every request before the
// series: read and parse token.shadow, look the id up, run the crypt hash.
// Peers that decorate PBS's slow path (package peers/k8s) call it. Errors
// wrap ErrRejected and name the cause for logs but never carry the secret
// or the hash.
func SlowVerify(store *Store, id, secret string) error {
	if err := ValidateTokenID(id); err != nil {
		return fmt.Errorf("%w: %w", ErrRejected, err)
	}
	data, err := store.Read()
	if err != nil {
		return fmt.Errorf("%w: %w", ErrRejected, err)
	}
	hash, ok := data[id]
	if !ok {
		return fmt.Errorf("%w: unknown token", ErrRejected)
	}
	if err := cryptpw.Verify(secret, hash); err != nil {
		return fmt.Errorf("%w: %w", ErrRejected, err)
	}
	return nil
}

// slowPath runs slowVerify with counting and, when cache is non-nil, the
// gen_before-guarded insert of a verified secret.
func (b *base) slowPath(ctx context.Context, id, secret string, outcome Outcome, cache *secretCache) (Outcome, error) {
	b.n.slow.Add(1)
	if outcome == OutcomeFallback {
		b.n.fallback.Add(1)
	}
	genBefore := b.store.gen.Load()
	var err error
	// Label the expensive part so CPU profiles split by cache outcome
	// (go tool pprof -tagfocus outcome=slow).
	pprof.Do(ctx, pprof.Labels("outcome", outcome.String()), func(context.Context) {
		err = b.slowVerify(id, secret)
	})
	if err != nil {
		b.n.rejected.Add(1)
		return outcome, err
	}
	if cache != nil {
		cache.tryInsert(id, secret, genBefore, b.store.gen.Load(), &b.n)
	}
	return outcome, nil
}

// fast counts a cache hit.
func (b *base) fast() (Outcome, error) {
	b.n.fast.Add(1)
	return OutcomeFast, nil
}
