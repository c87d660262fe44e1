package cluster

import (
	"fmt"
	"strconv"
	"strings"
	"time"
)

// Point is one timeline bucket: valid tickets rejected and requests sent
// in [t_ms, t_ms+bucket). t=0 is when the nodes' synchronized rotation
// checks (attr_timeout + 200 ms after the touch) have returned and every
// node has issued a fresh ticket; Trial.EventMs marks the touch.
type Point struct {
	TMs           int64 `json:"t_ms"`
	RejectedValid int   `json:"rejected_valid"`
	Total         int   `json:"total"`
	// RejectedAge of RejectedValid were refused by the ticket-age range of
	// a key whose signature matched (PVE's get_ticket_age_range); the
	// others matched no key the node holds.
	RejectedAge int `json:"rejected_age,omitempty"`
}

// Window counts one phase of a trial's load: valid tickets rejected of
// requests sent, and how many of the rejections the age range made.
type Window struct {
	RejectedValid int `json:"rejected_valid"`
	RejectedAge   int `json:"rejected_age"`
	Total         int `json:"total"`
}

// Trial is one run of one cell.
type Trial struct {
	Event         string `json:"event"`
	Strategy      string `json:"strategy"`
	AttrTimeoutMs int64  `json:"attr_timeout_ms"`
	Trial         int    `json:"trial"`
	// Rotations performed by all nodes together (1 is correct).
	Rotations int `json:"rotations"`
	// Disagree: after settling, nodes differ about the current or old key,
	// or a node signs with a key no node treats as current.
	Disagree bool        `json:"nodes_disagree"`
	States   []NodeState `json:"states"`
	// RejectedValid of Total requests sent from t=0 on, tickets signed
	// after the rotation check (the same counts as AfterCheck).
	RejectedValid int `json:"rejected_valid"`
	Total         int `json:"total"`
	// EventMs is when the driver aged the key, relative to t=0 (<= 0).
	EventMs int64 `json:"event_ms"`
	// BeforeCheck counts requests sent from the event to t=0: tickets
	// signed before the touch, answered before the nodes' rotation check
	// (a node seeing the aged key refuses those of the touch's second,
	// by age: PVE's behaviour, see runEvent). AfterCheck from t=0 on.
	BeforeCheck Window         `json:"before_check"`
	AfterCheck  Window         `json:"after_check"`
	StatusCodes map[string]int `json:"status_codes"`
	// ServerCPUSeconds is the node processes' CPU over the trial's load
	// (verification, logins, rotations), CPUPer1kReq per 1000 requests.
	ServerCPUSeconds float64 `json:"server_cpu_s"`
	CPUPer1kReq      float64 `json:"cpu_s_per_1k_req"`
	Timeline         []Point `json:"timeline"`
	Skipped          string  `json:"skipped,omitempty"`
	Error            string  `json:"error,omitempty"`
}

// Summary aggregates the trials of one (strategy, attr_timeout) cell.
type Summary struct {
	Event           string `json:"event"`
	Strategy        string `json:"strategy"`
	AttrTimeoutMs   int64  `json:"attr_timeout_ms"`
	Trials          int    `json:"trials"`
	DoubleRotations int    `json:"double_rotation_trials"`
	MaxRotations    int    `json:"max_rotations"`
	DisagreeTrials  int    `json:"disagree_trials"`
	// RejectedValid of Total after the rotation check, summed over trials;
	// BeforeCheck the same for the window between the touch and the check.
	RejectedValid int     `json:"rejected_valid"`
	Total         int     `json:"total"`
	RejectedRatio float64 `json:"rejected_valid_ratio"`
	BeforeCheck   Window  `json:"before_check"`
	Skipped       int     `json:"skipped_trials"`
	Failed        int     `json:"failed_trials"`
}

// Result is the experiment's JSON output.
type Result struct {
	SchemaVersion int       `json:"schema_version"`
	Config        Config    `json:"config"`
	Started       time.Time `json:"started"`
	Interrupted   bool      `json:"interrupted"`
	Trials        []Trial   `json:"trials"`
	Summary       []Summary `json:"summary"`
	// Skipped is set when FUSE is unavailable: no trial ran.
	Skipped string `json:"skipped,omitempty"`
}

// Summarize aggregates trials per cell in first-seen order.
func Summarize(trials []Trial) []Summary {
	var out []Summary
	idx := map[string]int{}
	for _, t := range trials {
		key := t.Event + "\x00" + t.Strategy + "\x00" + strconv.FormatInt(t.AttrTimeoutMs, 10)
		i, ok := idx[key]
		if !ok {
			i = len(out)
			idx[key] = i
			out = append(out, Summary{Event: t.Event, Strategy: t.Strategy, AttrTimeoutMs: t.AttrTimeoutMs})
		}
		s := &out[i]
		switch {
		case t.Skipped != "":
			s.Skipped++
			continue
		case t.Error != "":
			s.Failed++
			continue
		}
		s.Trials++
		if t.Rotations > 1 {
			s.DoubleRotations++
		}
		s.MaxRotations = max(s.MaxRotations, t.Rotations)
		if t.Disagree {
			s.DisagreeTrials++
		}
		s.RejectedValid += t.RejectedValid
		s.Total += t.Total
		s.BeforeCheck.RejectedValid += t.BeforeCheck.RejectedValid
		s.BeforeCheck.RejectedAge += t.BeforeCheck.RejectedAge
		s.BeforeCheck.Total += t.BeforeCheck.Total
	}
	for i := range out {
		if out[i].Total > 0 {
			out[i].RejectedRatio = float64(out[i].RejectedValid) / float64(out[i].Total)
		}
	}
	return out
}

// disagree reports lasting inconsistency: nodes differ about the current
// or old key, a node signs with a key that is not its current one, or a
// node could not say.
func disagree(states []NodeState) bool {
	for _, st := range states {
		if st.Error != "" || st.Current == "" || st.Signing != st.Current {
			return true
		}
		if st.Current != states[0].Current || st.Old != states[0].Old {
			return true
		}
	}
	return false
}

// Describe is a one-line human summary of a cell.
func (s Summary) Describe() string {
	return strings.TrimSpace(fmt.Sprintf("%-20s %-13s attr=%5dms trials=%d double-rotations=%d (max %d) disagree=%d rejected-valid after the check %d/%d (%.2f%%), between touch and check %d/%d (%d by age range) skipped=%d failed=%d",
		s.Event, s.Strategy, s.AttrTimeoutMs, s.Trials, s.DoubleRotations, s.MaxRotations, s.DisagreeTrials, s.RejectedValid, s.Total, 100*s.RejectedRatio,
		s.BeforeCheck.RejectedValid, s.BeforeCheck.Total, s.BeforeCheck.RejectedAge, s.Skipped, s.Failed))
}
