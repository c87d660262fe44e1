package scenarios

import (
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/authbench/authbench/internal/results"
)

// AuthKind is what the load authenticates with.
type AuthKind string

// Auth kinds.
const (
	// AuthToken: API tokens against token.shadow (the default).
	AuthToken AuthKind = "token"
	// AuthTicket: PVE login tickets in the PVEAuthCookie cookie, verified
	// with the key-cache strategies of impl/ticket (issue 12).
	AuthTicket AuthKind = "ticket"
)

// Ticket defaults and limits.
const (
	// DefaultTicketKeyBits is PVE's generate_key(2048).
	DefaultTicketKeyBits = 2048
	MinTicketKeyBits     = 1024
	MaxTicketKeyBits     = 4096
	MaxClusterNodes      = 8
	MaxClusterTrials     = 1000
	// ClusterTrialSetup is what one cluster trial costs besides its load
	// phases: key generation, node and FUSE processes, logins, the
	// synchronized rotation check. EstimatedRuntime counts it because it
	// is a large part of a trial, unlike a token window's setup.
	ClusterTrialSetup = 2 * time.Second
	// ClusterCheckDelay is how long after the touch the driver triggers
	// every node's rotation check, beyond the attr_timeout
	// (internal/cluster waits attr_timeout + 200 ms).
	ClusterCheckDelay = 200 * time.Millisecond
	// QuickClusterObserve caps a quick cluster trial's observation.
	QuickClusterObserve = time.Second
)

// Cluster event kinds (cluster.events), named as internal/cluster names
// them except where the scenario vocabulary is more explicit.
const (
	// ClusterKeyTouchYesterday is seed 002's reproduction: `touch --date
	// yesterday` on the current key, seen by all nodes at once, then
	// every node's rotation check.
	ClusterKeyTouchYesterday = "key-touch-yesterday"
	// ClusterSameSecondRotation is the state a double rotation leaves (two
	// keys with one mtime): measures how each strategy recovers.
	ClusterSameSecondRotation = "same-second-rotation"
)

// ClusterEventKinds lists the cluster event kinds in documentation order.
func ClusterEventKinds() []string {
	return []string{ClusterKeyTouchYesterday, ClusterSameSecondRotation}
}

// TicketMix weights the kinds of tickets a ticket load sends. Weights are
// >= 0 and not all 0. Default: valid only.
type TicketMix struct {
	Valid        float64 `yaml:"valid"`         // signed with the current key, fresh
	OldKey       float64 `yaml:"old_key"`       // signed with the previous key (authkey.pub.old), within its grace
	Expired      float64 `yaml:"expired"`       // signed with the current key, older than the 2 h lifetime
	BadSignature float64 `yaml:"bad_signature"` // well-formed, signature does not verify
	Garbage      float64 `yaml:"garbage"`       // does not parse as a ticket
}

// Tickets configures a ticket load (auth: ticket).
type Tickets struct {
	// KeyBits of the generated RSA auth keys, 1024..4096, default
	// DefaultTicketKeyBits (signature verify cost grows with it).
	KeyBits int `yaml:"key_bits"`
	// Mix of tickets sent.
	Mix TicketMix `yaml:"mix"`
}

// Cluster is seed 002's multi-node experiment (internal/cluster): every
// event × strategy × attr_timeout × trial, each trial with Nodes fresh node
// processes, each with its own real FUSE mount of one shared key
// directory. A scenario with a cluster block has no load, server, matrix
// or control: the experiment drives its own load.
type Cluster struct {
	// Nodes: node processes, 2..MaxClusterNodes, default 3.
	Nodes int `yaml:"nodes"`
	// Events: cluster event kinds, default [key-touch-yesterday].
	Events []string `yaml:"events"`
	// AttrTimeouts: the FUSE attr_timeout matrix dimension, each >= 0 and
	// a whole number of milliseconds, distinct; default [0s, 1s, 5s].
	AttrTimeouts []time.Duration `yaml:"attr_timeouts"`
	// Trials per (event, strategy, attr_timeout), 1..MaxClusterTrials,
	// default 3.
	Trials int `yaml:"trials"`
	// Rate: ticket verifications per second over all nodes, default 150.
	Rate float64 `yaml:"rate"`
	// Lead: load before the key is aged, >= 0, default 500ms.
	Lead time.Duration `yaml:"lead"`
	// Observe: load after the rotation check, > 0, default 3s.
	Observe time.Duration `yaml:"observe"`
	// Bucket: the rejected-valid timeline's bucket, > 0, default 250ms.
	Bucket time.Duration `yaml:"bucket"`
	// TTL of content-ttl, > 0, default 1s.
	TTL time.Duration `yaml:"ttl"`
	// KeyBits of the auth keys, default DefaultTicketKeyBits.
	KeyBits int `yaml:"key_bits"`
}

// IsTicket reports whether the scenario's load uses tickets.
func (s *Scenario) IsTicket() bool { return s.Auth == AuthTicket }

// TicketNames returns the ticket strategies among known result names
// ("ticket/mtime"), in order.
func TicketNames(known []string) []string {
	var out []string
	for _, n := range known {
		if _, ok := results.TicketStrategy(n); ok {
			out = append(out, n)
		}
	}
	return out
}

// tokenNames returns the token verifiers among known.
func tokenNames(known []string) []string {
	var out []string
	for _, n := range known {
		if _, ok := results.TicketStrategy(n); !ok {
			out = append(out, n)
		}
	}
	return out
}

// auth validates the auth kind and, for ticket scenarios, everything
// else; it reports whether it did (token scenarios continue with the
// token rules).
func (k *checker) auth(known []string) bool {
	s := k.s
	if !k.has("auth") {
		s.Auth = AuthToken
	}
	switch s.Auth {
	case AuthToken:
		for _, f := range []string{"strategies", "tickets", "cluster"} {
			if k.has(f) {
				k.errf(f, "only with auth: ticket")
			}
		}
		return false
	case AuthTicket:
	default:
		k.errf("auth", "unknown auth %s (known: token, ticket)", quote(string(s.Auth)))
		return true
	}
	// Token-only fields: a ticket scenario has no token.shadow to shape.
	for _, f := range []string{"tokens", "hash", "mix", "verifiers", "events", "target", "matrix.tokens", "load.header_form", "server.ttl"} {
		if k.has(f) {
			k.errf(f, "not with auth: ticket (token load only)")
		}
	}
	s.Tokens, s.Hash, s.Mix = DefaultTokens, Hash{Scheme: SchemeSHA256}, Mix{Valid: 1}
	k.strategies(known)
	if k.has("cluster") {
		for _, f := range []string{"load", "server", "matrix", "control", "tickets"} {
			if k.has(f) {
				k.errf(f, "not with cluster (the experiment drives its own load and nodes)")
			}
		}
		k.cluster()
		return true
	}
	k.tickets()
	k.matrix()
	k.load()
	k.server()
	return true
}

// strategies resolves the strategy list into Verifiers ("ticket/<name>").
func (k *checker) strategies(known []string) {
	s := k.s
	all := TicketNames(known)
	if !k.has("strategies") {
		s.Verifiers = all
		s.Strategies = nil
		for _, n := range all {
			st, _ := results.TicketStrategy(n)
			s.Strategies = append(s.Strategies, st)
		}
		if len(all) == 0 {
			k.errf("auth", "no ticket strategies are known to this build")
		}
		return
	}
	if len(s.Strategies) == 0 {
		k.errf("strategies", "must name at least one strategy (leave it out for all)")
	}
	s.Verifiers = nil
	seen := map[string]bool{}
	for i, st := range s.Strategies {
		p := "strategies[" + strconv.Itoa(i) + "]"
		name := results.TicketVerifier(st)
		switch {
		case !slices.Contains(all, name):
			var have []string
			for _, n := range all {
				h, _ := results.TicketStrategy(n)
				have = append(have, h)
			}
			k.errf(p, "unknown ticket strategy %s (known: %s)", quote(st), strings.Join(have, ", "))
		case seen[st]:
			k.errf(p, "strategy %s listed twice", quote(st))
		}
		seen[st] = true
		s.Verifiers = append(s.Verifiers, name)
	}
}

func (k *checker) tickets() {
	t := &k.s.Tickets
	k.keyBits("tickets.key_bits", &t.KeyBits)
	m := &t.Mix
	if !k.has("tickets.mix") {
		*m = TicketMix{Valid: 1}
		return
	}
	if k.weights("tickets.mix", []weight{{"valid", m.Valid}, {"old_key", m.OldKey}, {"expired", m.Expired}, {"bad_signature", m.BadSignature}, {"garbage", m.Garbage}}) &&
		m.Valid+m.OldKey+m.Expired+m.BadSignature+m.Garbage <= 0 {
		k.errf("tickets.mix", "weights must not all be 0")
	}
}

func (k *checker) keyBits(path string, bits *int) {
	if !k.has(path) {
		*bits = DefaultTicketKeyBits
		return
	}
	if k.intRange(path, *bits, MinTicketKeyBits, MaxTicketKeyBits) && *bits%256 != 0 {
		k.errf(path, "must be a multiple of 256, got %d", *bits)
	}
}

func (k *checker) cluster() {
	c := k.s.Cluster
	if c == nil {
		k.errf("cluster", "must be a mapping")
		return
	}
	if !k.has("cluster.nodes") {
		c.Nodes = 3
	} else {
		k.intRange("cluster.nodes", c.Nodes, 2, MaxClusterNodes)
	}
	if !k.has("cluster.trials") {
		c.Trials = 3
	} else {
		k.intRange("cluster.trials", c.Trials, 1, MaxClusterTrials)
	}
	if !k.has("cluster.events") {
		c.Events = []string{ClusterKeyTouchYesterday}
	} else if len(c.Events) == 0 {
		k.errf("cluster.events", "must list at least one event (leave it out for %s)", ClusterKeyTouchYesterday)
	}
	seenEv := map[string]bool{}
	for i, e := range c.Events {
		p := "cluster.events[" + strconv.Itoa(i) + "]"
		switch {
		case !slices.Contains(ClusterEventKinds(), e):
			k.errf(p, "unknown cluster event %s (known: %s)", quote(e), strings.Join(ClusterEventKinds(), ", "))
		case seenEv[e]:
			k.errf(p, "event %s listed twice", quote(e))
		}
		seenEv[e] = true
	}
	if !k.has("cluster.attr_timeouts") {
		c.AttrTimeouts = []time.Duration{0, time.Second, 5 * time.Second}
	} else if len(c.AttrTimeouts) == 0 || len(c.AttrTimeouts) > MaxMatrixAxis {
		k.errf("cluster.attr_timeouts", "must list 1..%d values, got %d", MaxMatrixAxis, len(c.AttrTimeouts))
	}
	seenAt := map[time.Duration]bool{}
	for i, a := range c.AttrTimeouts {
		p := "cluster.attr_timeouts[" + strconv.Itoa(i) + "]"
		switch {
		case !k.duration(p, a, true):
		case a%time.Millisecond != 0:
			k.errf(p, "must be whole milliseconds, got %s", a)
		case seenAt[a]:
			k.errf(p, "duplicate value %s", a)
		}
		seenAt[a] = true
	}
	if !k.has("cluster.rate") {
		c.Rate = 150
	} else {
		k.rate("cluster.rate", c.Rate, MaxRate)
	}
	for _, d := range []struct {
		path   string
		v      *time.Duration
		def    time.Duration
		zeroOK bool
	}{{"cluster.lead", &c.Lead, 500 * time.Millisecond, true}, {"cluster.observe", &c.Observe, 3 * time.Second, false},
		{"cluster.bucket", &c.Bucket, 250 * time.Millisecond, false}, {"cluster.ttl", &c.TTL, time.Second, false}} {
		if !k.has(d.path) {
			*d.v = d.def
			continue
		}
		if k.duration(d.path, *d.v, d.zeroOK) && *d.v%time.Millisecond != 0 {
			k.errf(d.path, "must be whole milliseconds, got %s", *d.v)
		}
	}
	if c.Bucket > c.Observe && k.has("cluster.bucket") {
		k.errf("cluster.bucket", "%s is longer than cluster.observe (%s)", c.Bucket, c.Observe)
	}
	k.keyBits("cluster.key_bits", &c.KeyBits)
	k.s.Load = LoadConfig{Shape: ShapeConstant, Rate: c.Rate, Duration: c.Observe, Repeats: 1, Rounds: 1}
}

// clusterRuntime is the cluster experiment's wall time: every trial's
// lead, check delay, attr_timeout and observation, plus its setup.
func (c *Cluster) runtime(strategies int) time.Duration {
	var perStrategy time.Duration
	for _, a := range c.AttrTimeouts {
		perStrategy += c.Lead + a + ClusterCheckDelay + c.Observe + ClusterTrialSetup
	}
	return time.Duration(len(c.Events)*strategies*c.Trials) * perStrategy
}

// quick shortens the experiment: one trial, observation capped at
// QuickClusterObserve, and only the smallest non-zero attr_timeout (where
// the race shows at all; 0 is the control, larger ones only add waiting).
func (c *Cluster) quick() *Cluster {
	q := *c
	q.Events = append([]string(nil), c.Events...)
	q.AttrTimeouts = []time.Duration{slices.Min(c.AttrTimeouts)}
	for _, a := range c.AttrTimeouts {
		if a > 0 && (q.AttrTimeouts[0] == 0 || a < q.AttrTimeouts[0]) {
			q.AttrTimeouts[0] = a
		}
	}
	q.Trials = 1
	q.Observe = min(q.Observe, QuickClusterObserve)
	q.Bucket = min(q.Bucket, q.Observe)
	return &q
}
