// Package results defines results.json, the contract between a benchmark run,
// the report generator, the regression gate and CI. Fields are only ever
// added; a breaking change bumps SchemaVersion.
package results

import (
	"encoding/json"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"sort"
	"strings"
)

// SchemaVersion is written into every results.json.
const SchemaVersion = 1

// FileName is the name of the results file inside a report directory.
const FileName = "results.json"

// File is the whole of results.json.
type File struct {
	SchemaVersion int          `json:"schema_version"`
	RunID         string       `json:"run_id"`
	Env           Env          `json:"env"`
	Runs          []Run        `json:"runs"`
	Revocations   []Revocation `json:"revocations"`
	Interrupted   bool         `json:"interrupted,omitempty"`
	Notes         []string     `json:"notes,omitempty"`
	Shards        []string     `json:"shards,omitempty"` // run ids merged into this file
	// ScenarioInfo describes each scenario file the run loaded (by file
	// name, without matrix variant), so a report regenerated from saved
	// results can head each scenario with its question.
	ScenarioInfo []ScenarioInfo `json:"scenario_info,omitempty"`
	// Microbench is the relative path of the verifier microbenchmarks
	// (Go benchmark format, MicrobenchFile) saved with the run, empty
	// without them; the report takes the hit-path cost from it.
	Microbench string `json:"microbench,omitempty"`
	// Clusters are the cluster scenarios' outcomes (seed 002's FUSE
	// double-rotation experiment), one per (scenario, event, strategy,
	// attr_timeout).
	Clusters []ClusterRun `json:"clusters,omitempty"`
	// ScenarioTimes is each variant's wall time in the run (setup,
	// server starts, windows, knee searches, events), in run order, so
	// a user sees where the suite's time goes.
	ScenarioTimes []ScenarioTime `json:"scenario_times,omitempty"`
	// GeneratorCeilings are the load generator's ceilings, one per variant
	// with knee searches and controls (loadgen.GeneratorCeiling).
	GeneratorCeilings []GeneratorCeiling `json:"generator_ceilings,omitempty"`
}

// ScenarioTime is one variant's wall time against its plan.
type ScenarioTime struct {
	Scenario string  `json:"scenario"`
	WallS    float64 `json:"wall_s"`
	// EstimatedS is the scenario's planned phases
	// (scenarios.EstimatedRuntime plus setup estimate) for this variant.
	EstimatedS float64 `json:"estimated_s,omitempty"`
	// Turns is the number of (cell, round) turns measured.
	Turns int `json:"turns,omitempty"`
}

// GeneratorCeiling is the highest rate the load generator sustained
// against the no-auth control in one variant: the median of N control
// knee searches' last sustained rates (the control and its A/A copy,
// every round), between MinRPS and MaxRPS. A knee at or above
// CeilingFraction of it is capped by the generator (Run.KneeCappedBy).
type GeneratorCeiling struct {
	Scenario        string  `json:"scenario"`
	RPS             float64 `json:"rps"`
	N               int     `json:"n"`
	MinRPS          float64 `json:"min_rps"`
	MaxRPS          float64 `json:"max_rps"`
	CeilingFraction float64 `json:"ceiling_fraction"`
}

// Knee search limits (Run.KneeCappedBy).
const (
	KneeCappedByMax       = "max"       // every step up to the search's max rate was sustained
	KneeCappedByGenerator = "generator" // the knee reached the generator's ceiling
)

// ClusterRun aggregates the trials of one cluster cell: N node processes,
// each with its own real FUSE mount (attr_timeout AttrTimeoutMs) of one
// shared key directory, the key aged on all nodes at once while ticket
// load runs, then every node's rotation check.
type ClusterRun struct {
	Scenario string `json:"scenario"`
	Event    string `json:"event"`    // e.g. key-touch-yesterday
	Verifier string `json:"verifier"` // ticket/<strategy>
	// AttrTimeoutMs is the FUSE attr_timeout of every node's mount.
	AttrTimeoutMs int64 `json:"attr_timeout_ms"`
	Nodes         int   `json:"nodes"`
	// Trials that ran to the end (failed and skipped ones not counted).
	Trials int `json:"trials"`
	// RotationsPerTrial by all nodes together, per finished trial; 1 is
	// correct.
	RotationsPerTrial []int `json:"rotations_per_trial"`
	// DoubleRotationTrials: trials with more than one rotation.
	DoubleRotationTrials int `json:"double_rotation_trials"`
	// DisagreeTrials: trials after which the nodes differed about the
	// current or old key (or one signed with a key no node held current).
	DisagreeTrials int `json:"disagree_trials"`
	// RejectedValid of Total valid tickets sent from the rotation check
	// on (tickets signed after it), over all trials, and their ratio.
	RejectedValid      int     `json:"rejected_valid"`
	Total              int     `json:"total"`
	RejectedValidRatio float64 `json:"rejected_valid_ratio"`
	// RejectedAge of RejectedValid were refused by the ticket-age range
	// of a key whose signature matched; the rest matched no key.
	RejectedAge int `json:"rejected_age,omitempty"`
	// BeforeCheck counts the window from the touch to the rotation check
	// over all trials: tickets signed just before the touch, which a node
	// that sees the aged key refuses by age when they were signed in the
	// touch's second (PVE's get_ticket_age_range for a key past its
	// lifetime). The timeline's negative t shows the same requests.
	BeforeCheck *ClusterWindow `json:"before_check,omitempty"`
	// EventMsPerTrial is when the key was aged (the touch), relative to
	// each finished trial's t=0 (<= 0), for marking it on the timeline.
	EventMsPerTrial []int64 `json:"event_ms_per_trial,omitempty"`
	// PeakRejectedValidRatio is the worst timeline bucket's ratio.
	PeakRejectedValidRatio float64 `json:"peak_rejected_valid_ratio"`
	// CPUSecondsPer1kReq is the node processes' CPU (getrusage) per 1000
	// requests, the mean over finished trials (logins and rotations
	// included, so it is the cluster's cost, not the hit path's).
	CPUSecondsPer1kReq float64 `json:"cpu_s_per_1k_req,omitempty"`
	// Timeline sums the trials' buckets (t_ms from the rotation check;
	// negative t is the lead-in).
	Timeline []ClusterPoint `json:"timeline,omitempty"`
	// FailedTrials ended with an error (kept in Errors, one line each).
	FailedTrials int      `json:"failed_trials,omitempty"`
	Errors       []string `json:"errors,omitempty"`
	// Skipped says why the cell did not run (no /dev/fuse, mount failed).
	Skipped string `json:"skipped,omitempty"`
}

// ClusterPoint is one timeline bucket [t_ms, t_ms+bucket): valid tickets
// rejected of those sent.
type ClusterPoint struct {
	TMs           int64 `json:"t_ms"`
	RejectedValid int   `json:"rejected_valid"`
	Total         int   `json:"total"`
	// RejectedAge of RejectedValid were refused by the age range.
	RejectedAge int `json:"rejected_age,omitempty"`
}

// ClusterWindow counts one phase of the cluster trials' load: valid
// tickets rejected of requests sent, RejectedAge of them by the ticket-age
// range of a key whose signature matched.
type ClusterWindow struct {
	RejectedValid int `json:"rejected_valid"`
	RejectedAge   int `json:"rejected_age"`
	Total         int `json:"total"`
}

// ScenarioInfo is what a scenario file says about itself.
type ScenarioInfo struct {
	Name string `json:"name"`
	// Question is the scenario's "# Question:" header comment, joined
	// into one line.
	Question    string `json:"question,omitempty"`
	Description string `json:"description,omitempty"`
}

// Info returns the ScenarioInfo of a scenario or one of its matrix
// variants ("steady/tokens=100" finds "steady").
func (f *File) Info(scenario string) (ScenarioInfo, bool) {
	name, _, _ := strings.Cut(scenario, "/")
	for _, si := range f.ScenarioInfo {
		if si.Name == name || si.Name == scenario {
			return si, true
		}
	}
	return ScenarioInfo{}, false
}

// Env describes where and how the numbers were measured.
type Env struct {
	GoVersion  string `json:"go_version"`
	GOOS       string `json:"goos"`
	GOARCH     string `json:"goarch"`
	CPUModel   string `json:"cpu_model"`
	NumCPU     int    `json:"num_cpu"`
	GOMAXPROCS int    `json:"gomaxprocs"`
	Commit     string `json:"commit"`
	HashScheme string `json:"hash_scheme"`
	HashCost   int    `json:"hash_cost"`
	Date       string `json:"date"` // RFC 3339, UTC
	Hostname   string `json:"hostname,omitempty"`
	LoadSetup  string `json:"load_setup,omitempty"` // how generator and server share the CPUs
	Suite      string `json:"suite,omitempty"`
}

// Latency percentiles in microseconds.
type Latency struct {
	P50  float64 `json:"p50"`
	P90  float64 `json:"p90"`
	P99  float64 `json:"p99"`
	P999 float64 `json:"p999"`
	Max  float64 `json:"max"`
}

// CPUShare splits server CPU samples of the steady-state window into the
// hot-path buckets. Each is a fraction 0..1; they sum to 1 when samples > 0.
type CPUShare struct {
	Crypt      float64 `json:"crypt"`
	ShadowRead float64 `json:"shadow_read"`
	Stat       float64 `json:"stat"`
	Other      float64 `json:"other"`
	// Samples is the number of profile samples (ticks, the sum of the
	// profile's sample counts) the fractions rest on: a share's
	// resolution is about 1/Samples, its standard error
	// sqrt(p(1-p)/Samples).
	Samples int64 `json:"samples"`
	// ProfileHz is the sampling rate the profile actually recorded
	// (1 s / its period), which may differ from the rate requested.
	ProfileHz float64 `json:"profile_hz,omitempty"`
}

// VerifierStats are the verifier's own counters over the measured window.
type VerifierStats struct {
	Fast     uint64 `json:"fast"`
	Slow     uint64 `json:"slow"`
	Fallback uint64 `json:"fallback"`
	Resets   uint64 `json:"resets"`
	Stats    uint64 `json:"stats"`
	Rejected uint64 `json:"rejected"`
	// Negative counts rejections a negative cache answered without a
	// hash (included in Rejected).
	Negative uint64 `json:"negative"`
	// Shared counts slow paths that took another request's in-flight
	// result (single flight) instead of hashing (not in Slow).
	Shared uint64 `json:"shared"`
}

// Run is one (scenario, verifier, load point) measurement.
type Run struct {
	Scenario           string         `json:"scenario"`
	Verifier           string         `json:"verifier"`        // a registered verifier or "noauth" for the control
	Phase              string         `json:"phase,omitempty"` // e.g. "constant", "knee-step", "stage-2"
	Repeat             int            `json:"repeat"`
	Tokens             int            `json:"tokens"`
	Concurrency        int            `json:"concurrency,omitempty"`
	ServerProcs        int            `json:"server_gomaxprocs,omitempty"`
	Processes          int            `json:"processes,omitempty"`
	TLS                bool           `json:"tls,omitempty"`
	OfferedRPS         float64        `json:"offered_rps"`
	AchievedRPS        float64        `json:"achieved_rps"`
	ShortOfTarget      bool           `json:"short_of_target"` // achieved < 99 % of offered
	Requests           uint64         `json:"requests"`
	SuccessRatio       float64        `json:"success_ratio"`  // 2xx / all
	ExpectedRatio      float64        `json:"expected_ratio"` // responses matching the mix's expectation / all
	StatusCodes        map[string]int `json:"status_codes,omitempty"`
	DurationS          float64        `json:"duration_s"`
	Latency            Latency        `json:"latency_us"`
	CPUShare           CPUShare       `json:"cpu_share"`
	CPUSecondsPer1kReq float64        `json:"cpu_s_per_1k_req"`
	VerifierStats      VerifierStats  `json:"verifier_stats"`
	SlowFraction       float64        `json:"slow_fraction"`      // slow / (fast+slow)
	KneeRPS            float64        `json:"knee_rps,omitempty"` // set on the run that summarises a knee search
	// KneeCapped: the search reached its max rate without a bad step, so
	// the real knee is higher than KneeRPS.
	KneeCapped bool `json:"knee_capped,omitempty"`
	// KneeFirstFailedRPS is the knee bracket's upper end, the lowest
	// failed step's rate (0: none failed); KneeRPS is its lower end, the
	// last sustained rate. KneeResolved says the bracket is within the
	// search's resolution (first failed / last sustained ≤ 1.05);
	// KneeSteps counts the steps the search ran.
	KneeFirstFailedRPS float64 `json:"knee_first_failed_rps,omitempty"`
	KneeResolved       bool    `json:"knee_resolved,omitempty"`
	KneeSteps          int     `json:"knee_steps,omitempty"`
	// KneeCappedBy says what limited the knee instead of the server:
	// KneeCappedByMax or KneeCappedByGenerator; empty when the server did.
	KneeCappedBy string `json:"knee_capped_by,omitempty"`
	// GeneratorCeilingRPS is the variant's generator ceiling the knee was
	// judged against (0: none measured).
	GeneratorCeilingRPS float64 `json:"generator_ceiling_rps,omitempty"`
	// KneePhase is a knee step's phase: ramp, verify or bisect.
	KneePhase string `json:"knee_phase,omitempty"`
	// KneeStepSustained is a knee step's verdict: the server sustained
	// the offered rate (achieved ≥ 99 % of offered, p99 within bound,
	// expected statuses).
	KneeStepSustained bool `json:"knee_step_sustained,omitempty"`
	// KneeProfile, on a knee search's summary run, is the merged CPU
	// profile of its sustained steps (valid-only load below the knee, as
	// the constant window but at higher rates), and KneeCPUShare its
	// buckets with their sample count (set by the profile stage): more
	// samples for the crypt share than the short constant windows hold.
	KneeProfile  string    `json:"knee_profile,omitempty"`
	KneeCPUShare *CPUShare `json:"knee_cpu_share,omitempty"`
	// ClientCPUSecondsPer1kReq is the load generator's own CPU cost, to
	// show whether it (and not the server) was the limit.
	ClientCPUSecondsPer1kReq float64         `json:"client_cpu_s_per_1k_req,omitempty"`
	PerProcess               []VerifierStats `json:"per_process,omitempty"`
	Profile                  string          `json:"profile,omitempty"`    // relative to the report dir
	Flamegraph               string          `json:"flamegraph,omitempty"` // relative to the report dir
	Folded                   string          `json:"folded,omitempty"`
	ResultsFile              string          `json:"results_file,omitempty"` // vegeta binary results
	// Round is the interleaved round (1-based) the run was measured in:
	// every verifier of a variant and the control run once per round, in
	// rotated order, so machine drift falls on all alike.
	Round int `json:"round,omitempty"`
	// ServerCPUSeconds is the server processes' own user+system CPU time
	// (getrusage) over the measured window; CPUSecondsPer1kReq derives from
	// it when CPUSource is "rusage", from profile samples when "profile".
	ServerCPUSeconds float64 `json:"server_cpu_s,omitempty"`
	CPUSource        string  `json:"cpu_source,omitempty"`
	// Target marks runs of scenarios whose file sets `target: true`: where
	// the speed targets apply (steady valid-only load).
	Target bool `json:"target,omitempty"`
	// DiffFlamegraphs are the differential flame graphs of this run's
	// stacks against the baseline verifier's in the same variant and round
	// (set by the profile stage on the cached verifiers' first-round runs).
	DiffFlamegraphs *DiffFlamegraphs `json:"diff_flamegraphs,omitempty"`
	// Speedscope is the run's stacks in speedscope's JSON format (keeps
	// the unit, unlike folded stacks), beside Folded.
	Speedscope string `json:"speedscope,omitempty"`
	// TicketCPUShare splits a ticket strategy's server CPU samples by the
	// impl/ticket pprof label phase: signature verify, PEM parse (read
	// and parse of a key file), stat, and the rest.
	TicketCPUShare *TicketCPUShare `json:"ticket_cpu_share,omitempty"`
}

// TicketCPUShare holds fractions 0..1 of a ticket run's CPU samples.
type TicketCPUShare struct {
	Verify float64 `json:"verify"`
	PEM    float64 `json:"pem"`
	Stat   float64 `json:"stat"`
	Other  float64 `json:"other"`
}

// DiffFlamegraphs are the relative paths of a run's two differential flame
// graphs against the baseline: Grown colours what this run spends more on,
// Shrunk what it spends less on.
type DiffFlamegraphs struct {
	Grown  string `json:"grown"`
	Shrunk string `json:"shrunk"`
}

// Revocation is the measured staleness of one event for one verifier.
type Revocation struct {
	Scenario          string       `json:"scenario"`
	Verifier          string       `json:"verifier"`
	Event             string       `json:"event"`
	AtMS              float64      `json:"at_ms"`
	TimeToRejectMS    *float64     `json:"time_to_reject_ms"`
	AcceptedAfter     int          `json:"accepted_after"`
	TimeToAcceptNewMS *float64     `json:"time_to_accept_new_ms,omitempty"`
	BoundMS           *float64     `json:"bound_ms"`
	Converged         bool         `json:"converged"`
	Pass              bool         `json:"pass"`
	Expectation       string       `json:"expectation,omitempty"`
	Timeline          []ProbePoint `json:"timeline,omitempty"`
}

// ProbePoint is one probe request with the old secret, relative to the event.
type ProbePoint struct {
	TMS      float64 `json:"t_ms"`
	Accepted bool    `json:"accepted"`
}

// Write stores f as dir/results.json (pretty, stable order).
func Write(dir string, f *File) error {
	f.SchemaVersion = SchemaVersion
	data, err := json.MarshalIndent(f, "", "  ")
	if err != nil {
		return fmt.Errorf("encode results: %w", err)
	}
	p := filepath.Join(dir, FileName)
	tmp := p + ".tmp"
	if err := os.WriteFile(tmp, append(data, '\n'), 0o644); err != nil {
		return fmt.Errorf("write results: %w", err)
	}
	if err := os.Rename(tmp, p); err != nil {
		return fmt.Errorf("write results: %w", err)
	}
	return nil
}

// Read loads dir/results.json (or a path to the file itself).
func Read(path string) (*File, error) {
	if st, err := os.Stat(path); err == nil && st.IsDir() {
		path = filepath.Join(path, FileName)
	}
	data, err := os.ReadFile(path)
	if err != nil {
		return nil, fmt.Errorf("read results: %w", err)
	}
	var f File
	if err := json.Unmarshal(data, &f); err != nil {
		return nil, fmt.Errorf("parse %s: %w", path, err)
	}
	if f.SchemaVersion != SchemaVersion {
		return nil, fmt.Errorf("%s: schema_version %d, this build reads %d", path, f.SchemaVersion, SchemaVersion)
	}
	return &f, nil
}

// Merge combines shards of one suite. Shards write disjoint artefact names,
// so run paths stay valid once the shards' files sit in one directory.
func Merge(files []*File) (*File, error) {
	if len(files) == 0 {
		return nil, errors.New("merge: no results")
	}
	out := &File{SchemaVersion: SchemaVersion, Env: files[0].Env}
	for _, f := range files {
		out.Shards = append(out.Shards, f.RunID)
		out.Interrupted = out.Interrupted || f.Interrupted
		out.Notes = append(out.Notes, f.Notes...)
		out.Runs = append(out.Runs, f.Runs...)
		out.Revocations = append(out.Revocations, f.Revocations...)
		out.Clusters = append(out.Clusters, f.Clusters...)
		out.ScenarioTimes = append(out.ScenarioTimes, f.ScenarioTimes...)
		out.GeneratorCeilings = append(out.GeneratorCeilings, f.GeneratorCeilings...)
		for _, si := range f.ScenarioInfo {
			if _, ok := out.Info(si.Name); !ok {
				out.ScenarioInfo = append(out.ScenarioInfo, si)
			}
		}
	}
	sort.SliceStable(out.Runs, func(a, b int) bool {
		if out.Runs[a].Scenario != out.Runs[b].Scenario {
			return out.Runs[a].Scenario < out.Runs[b].Scenario
		}
		return out.Runs[a].Verifier < out.Runs[b].Verifier
	})
	return out, nil
}
