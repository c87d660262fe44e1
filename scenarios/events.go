package scenarios

import (
	"strconv"
	"strings"
	"time"
)

// EventKind names what happens at an event.
type EventKind string

// Event kinds. Every kind names the token whose old secret the revocation
// probe keeps sending, so the staleness of each event is measured.
const (
	// EventAPIRotate replaces the token's secret through the API (file
	// lock, atomic rewrite, generation bump).
	EventAPIRotate EventKind = "api-rotate"
	// EventAPIRevoke deletes the token through the API.
	EventAPIRevoke EventKind = "api-revoke"
	// EventAPIAdd adds a new token through the API; Token must be a new id.
	EventAPIAdd EventKind = "api-add"
	// EventManualEdit deletes the token from token.shadow by hand: no
	// lock, no generation bump (an admin revoking a leaked token).
	EventManualEdit EventKind = "manual-edit"
	// EventManualRestore gives the token a new hash of the same length by
	// hand and sets the earlier mtime back (as cp -p of a backup or
	// touch -r would), so (mtime, len) look unchanged.
	EventManualRestore EventKind = "manual-restore"
	// EventCoarseMtime is a manual edit on a filesystem whose mtime has
	// the given Granularity, within the same mtime tick as the last write.
	EventCoarseMtime EventKind = "coarse-mtime"
	// EventStaleStat is a manual delete of the token while stat(2)
	// answers are cached for TTL (a FUSE filesystem such as pmxcfs).
	EventStaleStat EventKind = "stale-stat"
)

// EventKinds lists the known event kinds in documentation order.
func EventKinds() []EventKind {
	return []EventKind{EventAPIRotate, EventAPIRevoke, EventAPIAdd, EventManualEdit, EventManualRestore, EventCoarseMtime, EventStaleStat}
}

// IsAPI reports whether the event goes through the API (and so has From).
func (k EventKind) IsAPI() bool {
	return k == EventAPIRotate || k == EventAPIRevoke || k == EventAPIAdd
}

// Origin says which process performs an API event.
type Origin string

// Origins.
const (
	// FromSelf: through the API of the (first) serving process.
	FromSelf Origin = "self"
	// FromOther: from another OS process that shares the file lock and the
	// generation counter but not the serving process's cache.
	FromOther Origin = "other"
)

// Event is one timeline entry.
type Event struct {
	// At is the time from the start of the measured window, > 0 and
	// shorter than the measured duration.
	At time.Duration `yaml:"at"`
	// Kind of event.
	Kind EventKind `yaml:"kind"`
	// Token as written: an index into the generated tokens ("0") or an id.
	// It must exist when the event happens (generated, or added by an
	// earlier api-add); api-add must name a new id instead.
	Token string `yaml:"token"`
	// From: self (default) or other; only for api-* kinds.
	From Origin `yaml:"from"`
	// Granularity of mtime for coarse-mtime: 1s or 2s; only there.
	Granularity time.Duration `yaml:"granularity"`
	// TTL for stale-stat: how long stat answers are cached, > 0; only
	// there.
	TTL time.Duration `yaml:"ttl"`
	// ProbeRate in requests/s of the revocation probe, > 0, default
	// DefaultProbeRate.
	ProbeRate float64 `yaml:"probe_rate"`

	// TokenIndex is the resolved generated-token index, or -1 when Token
	// names an id that is not generated (api-add, or one it added).
	TokenIndex int `yaml:"-"`
	// TokenID is the resolved token id.
	TokenID string `yaml:"-"`
}

// TokenID returns the id of generated token i. The generator and the
// parser agree on it so events can name tokens by index or by id.
func TokenID(i int) string {
	return "bench@pbs!t" + strconv.Itoa(i)
}

// tokenIndex inverts TokenID; ok is false for any other string.
func tokenIndex(id string) (int, bool) {
	rest, ok := strings.CutPrefix(id, "bench@pbs!t")
	if !ok || rest == "" || (len(rest) > 1 && rest[0] == '0') {
		return 0, false
	}
	for _, c := range rest {
		if c < '0' || c > '9' {
			return 0, false
		}
	}
	i, err := strconv.Atoi(rest)
	return i, err == nil
}
