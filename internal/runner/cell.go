package runner

import (
	"context"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"sync/atomic"
	"time"

	vegeta "github.com/tsenart/vegeta/v12/lib"

	"github.com/authbench/authbench/impl"
	"github.com/authbench/authbench/impl/cryptpw"
	"github.com/authbench/authbench/internal/node"
	"github.com/authbench/authbench/internal/results"
	"github.com/authbench/authbench/internal/server"
	"github.com/authbench/authbench/loadgen"
	"github.com/authbench/authbench/scenarios"
)

// cell is one verifier (or control) of a variant with its own servers and
// its own copy of token.shadow, kept across the variant's rounds.
type cell struct {
	name     string // verifier name in results
	dir      string // temp dir holding the shadow copy: never in the report
	store    *impl.Store
	servers  *serverSet
	bound    impl.Bound
	targeter vegeta.Targeter
	rate     float64 // constant-shape rate for this cell
	form     loadgen.Form
	attack   loadgen.Options
	windows  int // measured windows so far (the Run's repeat counter)
	// lastWindow is this round's first constant window's attack, which
	// can count as a sustained rate for the knee search after it.
	lastWindow *loadgen.Result
	// prevKnee is the previous round's knee search: its bracket seeds
	// this round's.
	prevKnee *loadgen.Knee
}

// verifierTTL is the TTL the cell's verifier is built with. A scenario
// that keeps PBS's 60 s passes 0, "each verifier's default", so that the
// k8s peer keeps kube-apiserver's 10 s success TTL; a shorter server.ttl
// applies to the peer as well (impl.Config.TTL), so its probes converge
// inside the window like the ttl family's.
func verifierTTL(sc *scenarios.Scenario) time.Duration {
	if sc.Server.TTL == impl.DefaultTTL {
		return 0
	}
	return sc.Server.TTL
}

func (r *runner) newCell(ctx context.Context, sc *scenarios.Scenario, ts *tokenSet, name string) (c *cell, err error) {
	c = &cell{name: name, rate: sc.Load.Rate}
	defer func() {
		if err != nil {
			c.close()
		}
	}()
	if c.dir, err = os.MkdirTemp("", "authbench-run-*"); err != nil {
		return nil, err
	}
	shadow := filepath.Join(c.dir, "token.shadow")
	if err := os.WriteFile(shadow, ts.data, 0o640); err != nil {
		return nil, err
	}
	// This process's store: "another process" for API events, and the
	// hand for manual edits.
	scheme := cryptpw.Scheme(sc.Hash.Scheme)
	if c.store, err = impl.OpenStore(shadow, impl.StoreOptions{Scheme: scheme, Cost: sc.Hash.Cost}); err != nil {
		return nil, err
	}
	strategy, isTicket := results.TicketStrategy(name)
	serverVerifier, path := name, server.PathVersion
	if isTicket {
		// The token route stays on the baseline; only the ticket route
		// takes load.
		serverVerifier, path = results.BaselineVerifier, server.PathTicketVersion
	} else if isControl(name) {
		// The control route never calls the verifier.
		serverVerifier, path = results.BaselineVerifier, server.PathNoAuthVersion
	} else {
		// Declared data: no verifier is built on the runner's store.
		if c.bound, err = impl.DeclaredBound(name, impl.Config{TTL: verifierTTL(sc)}); err != nil {
			return nil, err
		}
	}
	if sc.Load.CachedRate > 0 {
		if spec, ok := impl.Lookup(name); isControl(name) || ok && spec.Cached || isTicket && name != results.TicketBaselineVerifier {
			c.rate = sc.Load.CachedRate
		}
	}
	cfg := node.Config{
		Shadow: shadow, Verifier: serverVerifier, TTL: verifierTTL(sc), TLS: sc.Server.TLS,
		Scheme: scheme, Cost: sc.Hash.Cost,
	}
	if isTicket {
		cfg.TicketStrategy, cfg.AuthkeyDir = strategy, filepath.Join(c.dir, "pve")
		if err := ts.ticketKeys.Write(cfg.AuthkeyDir); err != nil {
			return nil, err
		}
	}
	c.servers, err = startServers(ctx, serverSpec{
		cfg:        cfg,
		gomaxprocs: sc.Server.GOMAXPROCS, processes: max(1, sc.Server.Processes),
		logPath: filepath.Join(r.opts.OutDir, filepath.FromSlash(results.Layout{}.Log(sc.Name, name))),
		label:   map[bool]string{true: results.ControlVerifier, false: name}[isControl(name)],
	}, r.opts.BenchBinary)
	if err != nil {
		return nil, err
	}
	var fs node.FS
	for _, ev := range sc.Events {
		switch ev.Kind {
		case scenarios.EventCoarseMtime:
			fs.Coarse = ev.Granularity
		case scenarios.EventStaleStat:
			fs.Stale = ev.TTL
		}
	}
	if fs != (node.FS{}) {
		if err := c.servers.setFS(ctx, fs); err != nil {
			return nil, err
		}
	}
	loadTokens := loadTokensFor(ts.tokens, sc.Events)
	if len(loadTokens) == 0 {
		return nil, errors.New("every generated token is an event target: raise tokens")
	}
	if c.form, err = loadgen.ParseForm(string(sc.Load.HeaderForm)); err != nil {
		return nil, err
	}
	mix := loadgen.Mix{Valid: sc.Mix.Valid, WrongSecret: sc.Mix.WrongSecret, Unknown: sc.Mix.Unknown, Malformed: sc.Mix.Malformed}
	if isTicket {
		c.targeter, err = ticketTargeter(c.servers.urls, path, ts.ticketKeys, sc.Tickets.Mix, r.opts.Seed, r.opts.OnSecret)
	} else {
		c.targeter, err = multiTargeter(c.servers.urls, path, loadTokens, mix, c.form, r.opts.Seed)
	}
	if err != nil {
		return nil, err
	}
	conc := uint64(sc.Load.Concurrency)
	c.attack = loadgen.Options{Workers: conc, MaxWorkers: conc, Connections: max(sc.Load.Concurrency, 16)}
	return c, nil
}

// close stops the cell's servers and removes its shadow copy.
func (c *cell) close() error {
	var errs []error
	if c.servers != nil {
		errs = append(errs, c.servers.close())
	}
	if c.store != nil {
		errs = append(errs, c.store.Close())
	}
	if c.dir != "" {
		errs = append(errs, os.RemoveAll(c.dir))
	}
	return errors.Join(errs...)
}

// loadTokensFor leaves out tokens that events change, so the load's valid
// requests stay valid and the probes alone measure the events.
func loadTokensFor(all []loadgen.Token, evs []scenarios.Event) []loadgen.Token {
	skip := map[string]bool{}
	for _, ev := range evs {
		skip[ev.TokenID] = true
	}
	var out []loadgen.Token
	for _, t := range all {
		if !skip[t.ID] {
			out = append(out, t)
		}
	}
	return out
}

// multiTargeter spreads requests round robin over the server processes.
func multiTargeter(urls []string, path string, toks []loadgen.Token, mix loadgen.Mix, form loadgen.Form, seed int64) (vegeta.Targeter, error) {
	return roundRobin(urls, func(i int, u string) (*loadgen.MixTargeter, error) {
		return loadgen.NewMixTargeter(u+path, toks, mix, form, seed+int64(i))
	})
}

// ticketTargeter is multiTargeter for PVEAuthCookie tickets signed now;
// onSecret (if set) is told every ticket, for the secret-hygiene audit.
func ticketTargeter(urls []string, path string, keys loadgen.TicketKeys, mix scenarios.TicketMix, seed int64, onSecret func(string)) (vegeta.Targeter, error) {
	tm := loadgen.TicketMix{Valid: mix.Valid, OldKey: mix.OldKey, Expired: mix.Expired, BadSignature: mix.BadSignature, Garbage: mix.Garbage}
	now := time.Now()
	return roundRobin(urls, func(i int, u string) (*loadgen.MixTargeter, error) {
		m, err := loadgen.NewTicketTargeter(u+path, keys, tm, seed+int64(i), now)
		if err == nil && onSecret != nil {
			for _, t := range m.Tickets() {
				onSecret(t)
			}
		}
		return m, err
	})
}

// roundRobin builds one targeter per server URL and alternates them.
func roundRobin(urls []string, build func(i int, u string) (*loadgen.MixTargeter, error)) (vegeta.Targeter, error) {
	var ts []vegeta.Targeter
	for i, u := range urls {
		m, err := build(i, u)
		if err != nil {
			return nil, err
		}
		ts = append(ts, m.Targeter())
	}
	if len(ts) == 1 {
		return ts[0], nil
	}
	var n atomic.Uint64
	return func(t *vegeta.Target) error { return ts[(n.Add(1)-1)%uint64(len(ts))](t) }, nil
}

// tokenSet is a variant's generated token.shadow and its live secrets,
// and for ticket scenarios the auth keys every cell gets a copy of.
type tokenSet struct {
	data       []byte
	tokens     []loadgen.Token // live tokens, index i has id TokenID(i)
	ticketKeys loadgen.TicketKeys
}

func (r *runner) tokens(ctx context.Context, sc *scenarios.Scenario) (*tokenSet, error) {
	key := fmt.Sprintf("%d/%s/%d/%s/%d", sc.Tokens, sc.Hash.Scheme, sc.Hash.Cost, sc.Auth, sc.Tickets.KeyBits)
	if ts, ok := r.shadows[key]; ok {
		return ts, nil
	}
	live := min(sc.Tokens, r.opts.LiveTokens)
	for _, ev := range sc.Events {
		if ev.TokenIndex >= live {
			live = ev.TokenIndex + 1
		}
	}
	dir, err := os.MkdirTemp("", "authbench-gen-*")
	if err != nil {
		return nil, err
	}
	defer os.RemoveAll(dir)
	st, err := impl.OpenStore(filepath.Join(dir, "token.shadow"), impl.StoreOptions{Scheme: cryptpw.Scheme(sc.Hash.Scheme), Cost: sc.Hash.Cost})
	if err != nil {
		return nil, err
	}
	defer st.Close()
	ids := make([]string, live)
	for i := range ids {
		ids[i] = scenarios.TokenID(i)
	}
	secrets, err := st.AddBatch(ctx, ids)
	if err != nil {
		return nil, fmt.Errorf("generate tokens: %w", err)
	}
	if sc.Tokens > live {
		m, err := st.Read()
		if err != nil {
			return nil, err
		}
		filler := m[ids[0]]
		for i := live; i < sc.Tokens; i++ {
			m[scenarios.TokenID(i)] = filler
		}
		if err := st.Seed(ctx, m); err != nil {
			return nil, err
		}
	}
	data, err := os.ReadFile(st.Path())
	if err != nil {
		return nil, err
	}
	ts := &tokenSet{data: data}
	for i := range ids {
		ts.tokens = append(ts.tokens, loadgen.Token{ID: ids[i], Secret: secrets[i]})
		if r.opts.OnSecret != nil {
			r.opts.OnSecret(secrets[i])
		}
	}
	if sc.IsTicket() {
		// One key pair per variant: generating 2048-bit keys per cell
		// would cost more than a window.
		if ts.ticketKeys, err = loadgen.GenerateTicketKeys(sc.Tickets.KeyBits); err != nil {
			return nil, err
		}
		if r.opts.OnSecret != nil {
			r.opts.OnSecret(loadgen.PrivateKeyMarker(ts.ticketKeys.Current))
			r.opts.OnSecret(loadgen.PrivateKeyMarker(ts.ticketKeys.Old))
		}
	}
	r.shadows = map[string]*tokenSet{key: ts} // keep one: sets can be large
	return ts, nil
}
