package cluster

import (
	"errors"
	"fmt"
	"io"
	"slices"

	"github.com/authbench/authbench/impl/ticket"
)

// SchemaVersion of Result; fields are only ever added.
const SchemaVersion = 1

// Event kinds: what the driver does to the shared keys in a trial.
const (
	// EventTouch is seed 002's reproduction: `touch --date yesterday` on
	// the current key, then every node's rotation check at once.
	EventTouch = "touch-yesterday"
	// EventSameSecond is the state a double rotation leaves (seed 002:
	// "both have the same mtime"): the driver rotates, lets the nodes load
	// the new key, rotates again and gives the second key set the first
	// one's mtimes. No node rotates; it measures recovery.
	EventSameSecond = "same-second-rotation"
)

// Events lists the event kinds.
func Events() []string { return []string{EventTouch, EventSameSecond} }

// Config is one experiment: every event × strategy × attr_timeout × trial.
// Durations are milliseconds in JSON, like results.json.
type Config struct {
	Nodes          int      `json:"nodes"`
	Events         []string `json:"events"`
	Strategies     []string `json:"strategies"`
	AttrTimeoutsMs []int64  `json:"attr_timeouts_ms"`
	Trials         int      `json:"trials"`
	KeyBits        int      `json:"key_bits"`
	// Rate is ticket verifications per second, spread over the nodes.
	Rate float64 `json:"rate"`
	// LeadMs of load before the key is aged; ObserveMs after the nodes'
	// rotation check, which runs attr_timeout + 200 ms after the touch.
	LeadMs    int64 `json:"lead_ms"`
	ObserveMs int64 `json:"observe_ms"`
	BucketMs  int64 `json:"bucket_ms"`
	// TTLMs is content-ttl's TTL.
	TTLMs int64 `json:"ttl_ms"`
	// Binary is the bench executable for the node children.
	Binary string `json:"-"`
	// WorkDir holds trial directories and logs (kept for inspection).
	WorkDir string `json:"-"`
	// Log receives progress and the children's logs; nil discards.
	Log io.Writer `json:"-"`
}

// DefaultConfig is the matrix of issue 12: attr_timeout 0, 1 s, 5 s.
func DefaultConfig() Config {
	names := []string{}
	for _, s := range ticket.Strategies() {
		names = append(names, s.Name)
	}
	return Config{Nodes: 3, Events: []string{EventTouch}, Strategies: names, AttrTimeoutsMs: []int64{0, 1000, 5000}, Trials: 5,
		KeyBits: ticket.DefaultKeyBits, Rate: 150, LeadMs: 500, ObserveMs: 6000, BucketMs: 250, TTLMs: 1000}
}

// Validate rejects configurations that cannot run.
func (c Config) Validate() error {
	var errs []error
	if c.Nodes < 2 {
		errs = append(errs, fmt.Errorf("nodes %d: need at least 2", c.Nodes))
	}
	if c.Trials < 1 {
		errs = append(errs, fmt.Errorf("trials %d: need at least 1", c.Trials))
	}
	for _, s := range c.Strategies {
		if _, err := ticket.LookupStrategy(s); err != nil {
			errs = append(errs, err)
		}
	}
	if len(c.Strategies) == 0 || len(c.AttrTimeoutsMs) == 0 || len(c.Events) == 0 {
		errs = append(errs, errors.New("need at least one event, strategy and attr_timeout"))
	}
	for _, e := range c.Events {
		if !slices.Contains(Events(), e) {
			errs = append(errs, fmt.Errorf("unknown event %q (have %v)", e, Events()))
		}
	}
	for _, a := range c.AttrTimeoutsMs {
		if a < 0 {
			errs = append(errs, fmt.Errorf("attr_timeout %d ms < 0", a))
		}
	}
	if c.Rate <= 0 || c.ObserveMs <= 0 || c.BucketMs <= 0 || c.LeadMs < 0 {
		errs = append(errs, errors.New("rate, observe_ms and bucket_ms must be > 0, lead_ms >= 0"))
	}
	if c.WorkDir == "" {
		errs = append(errs, errors.New("no work directory"))
	}
	return errors.Join(errs...)
}

func (c Config) logf(format string, args ...any) {
	if c.Log != nil {
		fmt.Fprintf(c.Log, format+"\n", args...)
	}
}
