package impl

import (
	"context"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"sync/atomic"
	"time"
)

// ErrRejected is returned (wrapped) for every failed verification: unknown
// token, wrong secret, unreadable shadow. Callers map it to 401 and must not
// distinguish the causes to clients.
var ErrRejected = errors.New("token rejected")

// Outcome says which path a verification took; the server uses it for pprof
// labels and the reports for slow-path fractions.
type Outcome uint8

const (
	// OutcomeFast means the cached secret answered.
	OutcomeFast Outcome = iota
	// OutcomeSlow means the file was read and the hash computed.
	OutcomeSlow
	// OutcomeFallback means a contended cache lock forced the slow path.
	OutcomeFallback
)

func (o Outcome) String() string {
	switch o {
	case OutcomeFast:
		return "fast"
	case OutcomeSlow:
		return "slow"
	case OutcomeFallback:
		return "fallback"
	}
	return "unknown"
}

// Verifier checks an API token secret. Implementations must be safe for
// concurrent use and must fail closed: any error means "reject".
type Verifier interface {
	// Name is the registry name.
	Name() string
	// Verify returns nil if secret is the current secret of id. The Outcome
	// is meaningful whether or not the secret was accepted.
	Verify(ctx context.Context, id, secret string) (Outcome, error)
	// Stats returns a snapshot of the counters since creation.
	Stats() Stats
	// Bound declares how long a changed secret may keep being accepted.
	Bound() Bound
}

// MutationObserver is implemented by verifiers that keep a per-process
// cache: the Store calls ApplyMutation while still holding the file lock,
// right after the new file is in place and the shared generation was
// bumped (PBS's apply_api_mutation).
type MutationObserver interface {
	ApplyMutation(m Mutation)
}

// Stats are cumulative counters. They are updated with atomics on the hot
// path, so reading them costs the verifiers nothing.
type Stats struct {
	Fast     uint64 `json:"fast"`     // accepted from the cache
	Slow     uint64 `json:"slow"`     // file read + hash computed
	Fallback uint64 `json:"fallback"` // slow path forced by a contended lock
	Resets   uint64 `json:"resets"`   // cache cleared (generation or metadata change)
	Stat     uint64 `json:"stats"`    // stat(2) calls on the shadow file
	Rejected uint64 `json:"rejected"` // verifications that failed
	// Negative counts rejections answered by a negative cache (no hash);
	// they are included in Rejected.
	Negative uint64 `json:"negative"`
	// Shared counts slow paths that waited for another request's identical
	// hash (single flight) instead of computing their own; not in Slow.
	Shared uint64 `json:"shared"`
}

// Sub returns s - o, for counters over a window.
func (s Stats) Sub(o Stats) Stats {
	return Stats{s.Fast - o.Fast, s.Slow - o.Slow, s.Fallback - o.Fallback, s.Resets - o.Resets, s.Stat - o.Stat, s.Rejected - o.Rejected, s.Negative - o.Negative, s.Shared - o.Shared}
}

// Add returns s + o.
func (s Stats) Add(o Stats) Stats {
	return Stats{s.Fast + o.Fast, s.Slow + o.Slow, s.Fallback + o.Fallback, s.Resets + o.Resets, s.Stat + o.Stat, s.Rejected + o.Rejected, s.Negative + o.Negative, s.Shared + o.Shared}
}

// counters is embedded by verifiers. Each field sits on its own cache line
// so that parallel fast-path hits do not false-share with slow-path counts.
type counters struct {
	fast     paddedCounter
	slow     paddedCounter
	fallback paddedCounter
	resets   paddedCounter
	stat     paddedCounter
	rejected paddedCounter
	negative paddedCounter
	shared   paddedCounter
}

type paddedCounter struct {
	atomic.Uint64
	_ [56]byte
}

func (c *counters) snapshot() Stats {
	return Stats{c.fast.Load(), c.slow.Load(), c.fallback.Load(), c.resets.Load(), c.stat.Load(), c.rejected.Load(), c.negative.Load(), c.shared.Load()}
}

// Bound is a verifier's declared staleness: how long after a change an old
// secret may still be accepted. Unbounded means "until something else
// invalidates the cache" (for example the next API mutation).
type Bound struct {
	APISameProcess  Staleness // revoke/rotate through the API in the serving process
	APIOtherProcess Staleness // the same, from another process sharing the generation
	ManualEdit      Staleness // file rewritten without lock or generation bump
	SameLenRestore  Staleness // same-length rewrite restoring the earlier mtime (cp -p)
	// UsesFileMetadata is set when change detection relies on stat(2), so
	// coarse or cached file-system timestamps widen the bounds above.
	UsesFileMetadata bool
}

// Staleness is a duration, or Unbounded.
type Staleness struct {
	Unbounded bool
	Max       time.Duration
}

func (s Staleness) String() string {
	if s.Unbounded {
		return "unbounded"
	}
	if s.Max == 0 {
		return "0 (next request)"
	}
	return s.Max.String()
}

// Config is what a verifier constructor gets.
type Config struct {
	Store *Store
	// TTL for the ttl verifier's metadata window; 0 means DefaultTTL.
	TTL time.Duration
	// Clock returns the current time; nil means time.Now. Tests inject it.
	// Verifiers whose hit path must not read a clock (snapshot, notify,
	// fresh) arm a real timer for the TTL and, only when Clock is set, also
	// compare its time on every request.
	Clock func() time.Time
	// NegativeTTL is how long a negative cache remembers a failed
	// (id, secret digest) pair; 0 means DefaultNegativeTTL.
	NegativeTTL time.Duration
	// NegativeSize bounds the negative cache's entries; 0 means
	// DefaultNegativeSize.
	NegativeSize int
	// SuccessTTL and FailureTTL configure a peer's answer cache (the k8s
	// peer's token cache, package peers/k8s); 0 means the peer's defaults
	// (kube-apiserver's: 10 s, failures not cached). Built-in verifiers
	// ignore them.
	SuccessTTL, FailureTTL time.Duration
	// Logger receives one line whenever a verifier degrades (a watch that
	// cannot be set up or was lost, a shadow that is no regular file);
	// nil discards.
	Logger *slog.Logger
}

// logger is the configured logger or one that discards.
func (c Config) logger() *slog.Logger {
	if c.Logger == nil {
		return slog.New(slog.DiscardHandler)
	}
	return c.Logger
}

// Close releases what v holds beyond memory (the notify and fresh
// verifiers' inotify watch). Callers that build verifiers must call it when
// done; it is a no-op for verifiers without resources.
func Close(v Verifier) error {
	if c, ok := v.(io.Closer); ok {
		return c.Close()
	}
	return nil
}

// DefaultTTL is PBS's TOKEN_SECRET_CACHE_TTL_SECS.
const DefaultTTL = 60 * time.Second

// K8sDefaultSuccessTTL and K8sDefaultFailureTTL are kube-apiserver's token
// cache defaults.
//
// Deprecated: use k8s.DefaultSuccessTTL and k8s.DefaultFailureTTL (package
// peers/k8s, which a test keeps equal to these); kept so callers can move
// to the peer package one at a time.
const (
	K8sDefaultSuccessTTL = 10 * time.Second
	K8sDefaultFailureTTL = 0
)

// ttl is the effective TTL (DefaultTTL when unset).
func (c Config) ttl() time.Duration {
	if c.TTL == 0 {
		return DefaultTTL
	}
	return c.TTL
}

func (c Config) now() time.Time {
	if c.Clock != nil {
		return c.Clock()
	}
	return time.Now()
}

// Constructor builds a verifier over a store.
type Constructor func(Config) (Verifier, error)

// New builds the named verifier and, if it caches, subscribes it to the
// store's API mutations.
func New(name string, cfg Config) (Verifier, error) {
	spec, ok := Lookup(name)
	if !ok {
		return nil, fmt.Errorf("unknown verifier %q (known: %v)", name, Names())
	}
	if cfg.Store == nil {
		return nil, errors.New("verifier " + name + ": no store")
	}
	v, err := spec.New(cfg)
	if err != nil {
		return nil, fmt.Errorf("verifier %s: %w", name, err)
	}
	if o, ok := v.(MutationObserver); ok {
		cfg.Store.Observe(o)
	}
	return v, nil
}
