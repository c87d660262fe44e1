package results

import (
	"fmt"
	"path"
	"strings"
)

// The vocabulary of a run: names every stage writes and reads. Spell them
// here and nowhere else.
const (
	// ControlVerifier names the no-auth control in results: the same
	// server and handler without the auth middleware.
	ControlVerifier = "noauth"
	// BaselineVerifier is the verifier that hashes on every request; every
	// cached verifier is compared against it (impl.BaselineVerifier).
	BaselineVerifier = "uncached"
	// ControlCopyVerifier is a second copy of the control measured in the
	// same rounds: its ratio to ControlVerifier is the run's A/A noise floor.
	ControlCopyVerifier = "noauth-aa"
)

// Phases of a Run.
const (
	PhaseConstant = "constant"  // one constant-rate window
	PhaseKneeStep = "knee-step" // one step of a knee search
	PhaseKnee     = "knee"      // the summary of a knee search
)

// PhaseStage names stage i (1-based) of a staged load.
func PhaseStage(i int) string { return fmt.Sprintf("stage-%d", i) }

// Subdirectories of a run directory.
const (
	DirProfiles    = "profiles"
	DirFlamegraphs = "flamegraphs"
	DirResults     = "results"
	DirLogs        = "logs"
	DirPlots       = "plots"
)

// Files at the top of a run directory (besides FileName).
const (
	// BenchFile is the run's HTTP results in Go benchmark format
	// (WriteBenchFormat).
	BenchFile = "bench.txt"
	// MicrobenchFile is the verifier microbenchmarks (make bench-go) when
	// saved beside the run; the report reads the hit-path cost from it.
	MicrobenchFile = "bench-go.txt"
)

// RunDirs are the subdirectories the runner creates and `bench report`
// copies when merging shards.
func RunDirs() []string {
	return []string{DirProfiles, DirFlamegraphs, DirResults, DirLogs}
}

// Slug turns a variant name such as "steady/tokens=100" into one safe path
// element ("steady_tokens-100"). Every stage that names a file after a
// scenario or variant uses it, so writers and readers agree.
//
// Any other character outside [A-Za-z0-9._-] (an event name's ':' or '!')
// becomes '_' too, so a slug is safe as a file name and in a relative URL.
func Slug(s string) string {
	s = strings.NewReplacer("/", "_", ",", "_", "=", "-", " ", "_").Replace(s)
	return strings.Map(func(r rune) rune {
		switch {
		case r >= 'a' && r <= 'z', r >= 'A' && r <= 'Z', r >= '0' && r <= '9', r == '-', r == '_', r == '.':
			return r
		}
		return '_'
	}, s)
}

// Layout builds the relative paths of a run directory's files. All paths
// are slash-separated and relative to the run directory, as stored in
// results.json.
type Layout struct{}

// Profile is a run's CPU profile.
func (Layout) Profile(variant, verifier string, repeat int) string {
	return path.Join(DirProfiles, fmt.Sprintf("%s-%s-r%d.pb.gz", Slug(variant), FileVerifier(verifier), repeat))
}

// KneeProfile is a knee search's pooled CPU profile: its sustained steps'
// profiles merged (Run.KneeProfile on the search's summary run).
func (Layout) KneeProfile(variant, verifier string, round int) string {
	return path.Join(DirProfiles, fmt.Sprintf("%s-%s-knee-r%d.pb.gz", Slug(variant), FileVerifier(verifier), round))
}

// Folded is a run's folded stacks.
func (Layout) Folded(variant, verifier string, repeat int) string {
	return path.Join(DirFlamegraphs, Slug(variant), fmt.Sprintf("%s-r%d.folded", FileVerifier(verifier), repeat))
}

// Flamegraph is a run's SVG flame graph.
func (Layout) Flamegraph(variant, verifier string, repeat int) string {
	return path.Join(DirFlamegraphs, Slug(variant), fmt.Sprintf("%s-r%d.svg", FileVerifier(verifier), repeat))
}

// DiffFlamegraph is the differential flame graph of verifier against the
// baseline; direction is "grown" or "shrunk".
func (Layout) DiffFlamegraph(variant, verifier, direction string) string {
	return path.Join(DirFlamegraphs, Slug(variant), fmt.Sprintf("diff-%s-vs-%s-%s.svg", FileVerifier(verifier), BaselineVerifier, direction))
}

// Speedscope is a run's stacks in speedscope's JSON format, beside its
// folded stacks (the same name with flame.SpeedscopeExt; results cannot
// import flame, so the suffix is spelled once here and checked by a test).
func (Layout) Speedscope(variant, verifier string, repeat int) string {
	return path.Join(DirFlamegraphs, Slug(variant), fmt.Sprintf("%s-r%d%s", FileVerifier(verifier), repeat, SpeedscopeExt))
}

// SpeedscopeExt is flame.SpeedscopeExt (the suffix speedscope recognises).
const SpeedscopeExt = ".speedscope.json"

// TicketPrefix starts the result name of a ticket key-cache strategy
// ("ticket/mtime"), so reports keep ticket runs in their own table.
const TicketPrefix = "ticket/"

// TicketVerifier is the result name of ticket strategy name.
func TicketVerifier(strategy string) string { return TicketPrefix + strategy }

// TicketStrategy returns the strategy of a ticket result name; ok is false
// for token verifiers and controls.
func TicketStrategy(verifier string) (strategy string, ok bool) {
	return strings.CutPrefix(verifier, TicketPrefix)
}

// TicketBaselineVerifier is the ticket strategy every other one is
// compared against: the one that reads and parses the key per request.
const TicketBaselineVerifier = TicketPrefix + "uncached"

// FileVerifier is a verifier name as one path element: ticket names
// carry a '/', which would otherwise open a subdirectory. Token verifier
// names pass unchanged.
func FileVerifier(verifier string) string { return Slug(verifier) }

// DiffFlamegraphVs is the differential flame graph of verifier against
// baseline (DiffFlamegraph is the special case baseline = BaselineVerifier).
func (Layout) DiffFlamegraphVs(variant, verifier, baseline, direction string) string {
	return path.Join(DirFlamegraphs, Slug(variant), fmt.Sprintf("diff-%s-vs-%s-%s.svg", FileVerifier(verifier), FileVerifier(baseline), direction))
}

// VegetaResults is a load window's vegeta results file.
func (Layout) VegetaResults(variant, verifier string, repeat, stage int) string {
	return path.Join(DirResults, fmt.Sprintf("%s-%s-r%d-s%d.bin", Slug(variant), FileVerifier(verifier), repeat, stage))
}

// Log is a server's log file.
func (Layout) Log(scenario, verifier string) string {
	return path.Join(DirLogs, Slug(scenario)+"-"+FileVerifier(verifier)+".log")
}
