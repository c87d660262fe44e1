package scenarios

import (
	"errors"
	"reflect"
	"strings"
	"testing"
	"time"
)

// knownWithTickets adds two ticket strategies to the unit tests' names.
var knownWithTickets = append(append([]string(nil), knownVerifiers...), "ticket/uncached", "ticket/mtime")

func parseTicket(src string) (*Scenario, Errors) {
	s, err := Parse("t.yaml", []byte(src), knownWithTickets)
	var es Errors
	if err != nil && !errors.As(err, &es) {
		es = Errors{{Msg: err.Error()}}
	}
	return s, es
}

const okTicketLoad = "auth: ticket\nload:\n  rate: 10\n"

// TestTicketScenario: strategies become ticket/<name> verifiers, token
// defaults stay harmless, the mix defaults to valid only.
func TestTicketScenario(t *testing.T) {
	s, es := parseTicket(okTicketLoad + "strategies: [mtime]\ntickets:\n  key_bits: 1024\n  mix: {valid: 3, expired: 1}\n")
	if es != nil {
		t.Fatal(es)
	}
	if !s.IsTicket() || !reflect.DeepEqual(s.Verifiers, []string{"ticket/mtime"}) || !reflect.DeepEqual(s.Strategies, []string{"mtime"}) {
		t.Errorf("auth %s, verifiers %v, strategies %v", s.Auth, s.Verifiers, s.Strategies)
	}
	if s.Tickets.KeyBits != 1024 || s.Tickets.Mix != (TicketMix{Valid: 3, Expired: 1}) {
		t.Errorf("tickets %+v", s.Tickets)
	}
	all, es := parseTicket(okTicketLoad)
	if es != nil {
		t.Fatal(es)
	}
	if !reflect.DeepEqual(all.Verifiers, []string{"ticket/uncached", "ticket/mtime"}) || all.Tickets.KeyBits != DefaultTicketKeyBits || all.Tickets.Mix != (TicketMix{Valid: 1}) {
		t.Errorf("defaults: verifiers %v, tickets %+v", all.Verifiers, all.Tickets)
	}
	// A token scenario never picks up ticket strategies by default.
	tok := mustParse(t, "load:\n  rate: 1\n")
	for _, v := range tok.Verifiers {
		if strings.HasPrefix(v, "ticket/") {
			t.Errorf("token scenario measures %s", v)
		}
	}
	if tok := mustParseKnown(t, "load:\n  rate: 1\n", knownWithTickets); !reflect.DeepEqual(tok.Verifiers, knownVerifiers) {
		t.Errorf("token default verifiers %v", tok.Verifiers)
	}
}

func mustParseKnown(t *testing.T, src string, known []string) *Scenario {
	t.Helper()
	s, err := Parse("x.yaml", []byte(src), known)
	if err != nil {
		t.Fatal(err)
	}
	return s
}

// TestClusterScenario: defaults of the cluster block, the experiment's
// runtime and its quick form.
func TestClusterScenario(t *testing.T) {
	s, es := parseTicket("auth: ticket\nstrategies: [mtime]\ncluster:\n  trials: 2\n")
	if es != nil {
		t.Fatal(es)
	}
	c := s.Cluster
	want := Cluster{Nodes: 3, Events: []string{ClusterKeyTouchYesterday}, AttrTimeouts: []time.Duration{0, time.Second, 5 * time.Second},
		Trials: 2, Rate: 150, Lead: 500 * time.Millisecond, Observe: 3 * time.Second, Bucket: 250 * time.Millisecond, TTL: time.Second, KeyBits: DefaultTicketKeyBits}
	if !reflect.DeepEqual(*c, want) {
		t.Errorf("cluster\n got %+v\nwant %+v", *c, want)
	}
	// 2 trials x (3 x (lead + check delay + observe + setup) + 0 + 1 + 5 s).
	per := 3*(500*time.Millisecond+ClusterCheckDelay+3*time.Second+ClusterTrialSetup) + 6*time.Second
	if got := s.EstimatedRuntime(); got != 2*per {
		t.Errorf("runtime %s, want %s", got, 2*per)
	}
	q := s.Quick()
	if q.Cluster.Trials != 1 || !reflect.DeepEqual(q.Cluster.AttrTimeouts, []time.Duration{time.Second}) || q.Cluster.Observe != QuickClusterObserve {
		t.Errorf("quick %+v", q.Cluster)
	}
	if s.Cluster.Trials != 2 || len(s.Cluster.AttrTimeouts) != 3 {
		t.Error("Quick changed the original")
	}
	if v := s.Expand(); len(v) != 1 || v[0].Scenario.Cluster == nil {
		t.Errorf("expand %+v", v)
	}
}

// TestTicketValidationErrors: one case per rule, first error's line,
// field and reason.
func TestTicketValidationErrors(t *testing.T) {
	for _, tc := range []struct {
		name, src   string
		line        int
		field, want string
	}{
		{"auth unknown", "auth: kerberos\n", 1, "auth", `unknown auth "kerberos"`},
		{"strategies without ticket", "strategies: [mtime]\nload:\n  rate: 1\n", 1, "strategies", "only with auth: ticket"},
		{"cluster without ticket", "cluster: {}\nload:\n  rate: 1\n", 1, "cluster", "only with auth: ticket"},
		{"tickets without ticket", "tickets: {key_bits: 1024}\nload:\n  rate: 1\n", 1, "tickets", "only with auth: ticket"},
		{"verifiers with ticket", okTicketLoad + "verifiers: [ttl]\n", 4, "verifiers", "not with auth: ticket"},
		{"events with ticket", okTicketLoad + "events:\n  - {at: 1s, kind: api-revoke, token: 0}\n", 4, "events", "not with auth: ticket"},
		{"mix with ticket", okTicketLoad + "mix: {valid: 1}\n", 4, "mix", "not with auth: ticket"},
		{"tokens with ticket", okTicketLoad + "tokens: 3\n", 4, "tokens", "not with auth: ticket"},
		{"strategy unknown", okTicketLoad + "strategies: [mtime, lru]\n", 4, "strategies[1]", `unknown ticket strategy "lru" (known: uncached, mtime)`},
		{"strategy twice", okTicketLoad + "strategies: [mtime, mtime]\n", 4, "strategies[1]", "listed twice"},
		{"strategies empty", okTicketLoad + "strategies: []\n", 4, "strategies", "at least one"},
		{"key bits", okTicketLoad + "tickets:\n  key_bits: 512\n", 5, "tickets.key_bits", "must be 1024..4096"},
		{"key bits odd", okTicketLoad + "tickets:\n  key_bits: 1100\n", 5, "tickets.key_bits", "multiple of 256"},
		{"ticket mix negative", okTicketLoad + "tickets:\n  mix: {valid: 1, expired: -1}\n", 5, "tickets.mix.expired", "finite number >= 0"},
		{"ticket mix zero", okTicketLoad + "tickets:\n  mix: {valid: 0}\n", 5, "tickets.mix", "must not all be 0"},
		{"ticket mix unknown field", okTicketLoad + "tickets:\n  mix: {valid: 1, forged: 1}\n", 5, "", `"forged" not found in tickets.mix`},
		{"cluster with load", okTicketLoad + "cluster: {trials: 1}\n", 2, "load", "not with cluster"},
		{"cluster nodes", "auth: ticket\ncluster:\n  nodes: 1\n", 3, "cluster.nodes", "must be 2..8"},
		{"cluster trials", "auth: ticket\ncluster:\n  trials: 0\n", 3, "cluster.trials", "must be 1..1000"},
		{"cluster event unknown", "auth: ticket\ncluster:\n  events: [touch]\n", 3, "cluster.events[0]", `unknown cluster event "touch"`},
		{"cluster event twice", "auth: ticket\ncluster:\n  events: [key-touch-yesterday, key-touch-yesterday]\n", 3, "cluster.events[1]", "listed twice"},
		{"cluster attr negative", "auth: ticket\ncluster:\n  attr_timeouts: [0s, -1s]\n", 3, "cluster.attr_timeouts[1]", "must be >= 0"},
		{"cluster attr sub-ms", "auth: ticket\ncluster:\n  attr_timeouts: [1500us]\n", 3, "cluster.attr_timeouts[0]", "whole milliseconds"},
		{"cluster attr duplicate", "auth: ticket\ncluster:\n  attr_timeouts: [1s, 1000ms]\n", 3, "cluster.attr_timeouts[1]", "duplicate"},
		{"cluster attr empty", "auth: ticket\ncluster:\n  attr_timeouts: []\n", 3, "cluster.attr_timeouts", "must list 1..16"},
		{"cluster observe zero", "auth: ticket\ncluster:\n  observe: 0s\n", 3, "cluster.observe", "must be > 0"},
		{"cluster bucket long", "auth: ticket\ncluster:\n  observe: 1s\n  bucket: 2s\n", 4, "cluster.bucket", "longer than cluster.observe"},
		{"cluster rate", "auth: ticket\ncluster:\n  rate: 0\n", 3, "cluster.rate", "must be > 0"},
		{"cluster unknown field", "auth: ticket\ncluster:\n  node: 3\n", 3, "", `"node" not found in cluster`},
	} {
		t.Run(tc.name, func(t *testing.T) {
			_, es := parseTicket(tc.src)
			if len(es) == 0 {
				t.Fatalf("no error for:\n%s", tc.src)
			}
			e := es[0]
			if e.Line != tc.line || e.Field != tc.field || !strings.Contains(e.Msg, tc.want) {
				t.Errorf("got %q (line %d, field %q)\nwant line %d, field %q, message containing %q", es.Error(), e.Line, e.Field, tc.line, tc.field, tc.want)
			}
		})
	}
}
