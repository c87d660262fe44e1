package impl

import (
	"fmt"
	"slices"
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
}

// registry lists the verifiers in report order (baseline first, then the
// PBS stages, then ours and peers). Adding a verifier is one file with its
// constructor and bound plus one entry here.
var registry = []Spec{
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
	{Name: "k8s", New: newK8s, Bound: k8sBound, Cached: true, Family: FamilyPeer,
		Summary: "Kubernetes' cached token authenticator around uncached (success TTL)"},
}

// BaselineVerifier is the verifier every cached one is compared against.
const BaselineVerifier = "uncached"

// Names lists the registered verifiers, sorted.
func Names() []string {
	names := make([]string, 0, len(registry))
	for _, s := range registry {
		names = append(names, s.Name)
	}
	slices.Sort(names)
	return names
}

// Specs returns the registered verifiers in report order.
func Specs() []Spec { return slices.Clone(registry) }

// Lookup returns the named verifier's spec.
func Lookup(name string) (Spec, bool) {
	i := slices.IndexFunc(registry, func(s Spec) bool { return s.Name == name })
	if i < 0 {
		return Spec{}, false
	}
	return registry[i], true
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
