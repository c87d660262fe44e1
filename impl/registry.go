package impl

import (
	"fmt"
	"slices"
	"strings"
	"sync"
)

// Family says where a verifier comes from, so reports can group them.
type Family string

const (
	// FamilyPBS marks a stage of the Proxmox Backup Server series.
	FamilyPBS Family = "pbs"
	// FamilyOurs marks authbench's own proposals beyond the PBS stages.
	FamilyOurs Family = "ours"
	// FamilyPeer marks a cache someone else wrote, wrapped for comparison.
	FamilyPeer Family = "peer"
)

// Spec declares a verifier as data: how to build it and what it promises.
// Suites, the scenario runner, the report and the gate read specs instead
// of constructing a verifier to ask it.
type Spec struct {
	Name string
	// New builds the verifier; use impl.New, which also subscribes it to
	// the store's API mutations.
	New Constructor
	// Bound is the declared staleness for a configuration (the ttl family
	// depends on Config.TTL). A built verifier's Bound() returns the same.
	Bound func(Config) Bound
	// Cached is false for verifiers that hash on every request.
	Cached bool
	Family Family
	// Summary is one line for reports: what the hit path does.
	Summary string
	// WallClock is set for verifiers whose TTLs run on the wall clock
	// (Config.Clock does not reach them), so tests wait instead of
	// advancing a fake clock.
	WallClock bool
}

// builtin lists authbench's own verifiers in report order (baseline
// first, then the PBS stages, then ours). Adding one of ours is one file
// with its constructor and bound plus one entry here; a peer registers
// itself from its own package with Register instead, so impl never links
// the peer's dependencies.
var builtin = []Spec{
	{Name: "uncached", New: newUncached, Bound: uncachedBound, Family: FamilyPBS,
		Summary: "read + parse token.shadow + crypt on every request"},
	{Name: "generation", New: newGeneration, Bound: generationBound, Cached: true, Family: FamilyPBS,
		Summary: "read lock, generation compare, constant-time compare"},
	{Name: "mtime", New: newMtime, Bound: mtimeBound, Cached: true, Family: FamilyPBS,
		Summary: "write try-lock, generation, stat on every request"},
	{Name: "ttl", New: newTTL, Bound: ttlBound, Cached: true, Family: FamilyPBS,
		Summary: "read lock, generation; stat once per TTL"},
	{Name: "ttl-ctime", New: newTTLCtime, Bound: ttlCtimeBound, Cached: true, Family: FamilyOurs,
		Summary: "as ttl, plus ctime/inode and an HMAC of the secret"},
	{Name: "snapshot", New: newSnapshot, Bound: snapshotBound, Cached: true, Family: FamilyOurs,
		Summary: "atomic snapshot load, generation and tick compare (ttl-ctime checks, no locks)"},
	{Name: "notify", New: newNotify, Bound: notifyBound, Cached: true, Family: FamilyOurs,
		Summary: "as snapshot; inotify events trigger the check, TTL stat as safety net"},
	{Name: "fresh", New: newFresh, Bound: freshBound, Cached: true, Family: FamilyOurs,
		Summary: "as notify, keyed digests, negative cache, single-flight slow path"},
}

// registry is every verifier in report order. It is the package's only
// mutable state, and it changes only while packages initialise.
var registry = newSpecRegistry()

// specRegistry holds the built-in specs followed by the registered ones,
// kept sorted so the order does not depend on which package's init ran
// first.
type specRegistry struct {
	mu    sync.RWMutex
	specs []Spec
}

func newSpecRegistry() *specRegistry { return &specRegistry{specs: slices.Clone(builtin)} }

// Register adds a verifier defined outside impl (a peer, from its own
// package's init, the way database/sql drivers register). Registered
// verifiers follow the built-in ones, ordered by family (pbs, ours, peer)
// and then by name, whatever the import order. It panics on an empty or
// duplicate name, an unknown family or a spec without New or Bound: those
// are programming errors, found when the binary starts.
func Register(s Spec) { registry.register(s) }

func (r *specRegistry) register(s Spec) {
	switch {
	case s.Name == "":
		panic("impl: Register of a verifier without a name")
	case s.New == nil || s.Bound == nil:
		panic("impl: Register of verifier " + s.Name + " without New or Bound")
	case familyRank(s.Family) < 0:
		panic(fmt.Sprintf("impl: Register of verifier %s with unknown family %q", s.Name, s.Family))
	}
	r.mu.Lock()
	defer r.mu.Unlock()
	if slices.ContainsFunc(r.specs, func(o Spec) bool { return o.Name == s.Name }) {
		panic("impl: Register called twice for verifier " + s.Name)
	}
	added := append(slices.Clone(r.specs[len(builtin):]), s)
	slices.SortFunc(added, func(a, b Spec) int {
		if c := familyRank(a.Family) - familyRank(b.Family); c != 0 {
			return c
		}
		return strings.Compare(a.Name, b.Name)
	})
	r.specs = append(slices.Clone(builtin), added...)
}

func (r *specRegistry) all() []Spec {
	r.mu.RLock()
	defer r.mu.RUnlock()
	return slices.Clone(r.specs)
}

func (r *specRegistry) lookup(name string) (Spec, bool) {
	r.mu.RLock()
	defer r.mu.RUnlock()
	i := slices.IndexFunc(r.specs, func(s Spec) bool { return s.Name == name })
	if i < 0 {
		return Spec{}, false
	}
	return r.specs[i], true
}

func familyRank(f Family) int {
	return slices.Index([]Family{FamilyPBS, FamilyOurs, FamilyPeer}, f)
}

// BaselineVerifier is the verifier every cached one is compared against.
const BaselineVerifier = "uncached"

// Names lists the registered verifiers, sorted.
func Names() []string {
	specs := Specs()
	names := make([]string, 0, len(specs))
	for _, s := range specs {
		names = append(names, s.Name)
	}
	slices.Sort(names)
	return names
}

// Specs returns the registered verifiers in report order.
func Specs() []Spec { return registry.all() }

// Lookup returns the named verifier's spec.
func Lookup(name string) (Spec, bool) {
	return registry.lookup(name)
}

// DeclaredBound returns the named verifier's bound for cfg without building
// it (no store needed).
func DeclaredBound(name string, cfg Config) (Bound, error) {
	s, ok := Lookup(name)
	if !ok {
		return Bound{}, fmt.Errorf("unknown verifier %q (known: %v)", name, Names())
	}
	return s.Bound(cfg), nil
}
