package runner

import (
	"context"
	"crypto/tls"
	"fmt"
	"net/http"
	"sync"
	"time"

	"github.com/authbench/authbench/impl"
	"github.com/authbench/authbench/impl/cryptpw"
	"github.com/authbench/authbench/internal/node"
	"github.com/authbench/authbench/internal/results"
	"github.com/authbench/authbench/internal/revocation"
	"github.com/authbench/authbench/internal/server"
	"github.com/authbench/authbench/loadgen"
	"github.com/authbench/authbench/scenarios"
)

// probe keeps presenting one token's old secret (and, once known, its new
// one) at a steady rate through the servers, from the start of the
// measured window, so the time an event takes to bite can be measured.
type probe struct {
	ev       scenarios.Event
	id       string
	old      string
	rate     float64
	urls     []string
	form     loadgen.Form
	client   *http.Client
	eventAt  time.Time // zero until the event happened
	mu       sync.Mutex
	newSec   string
	oldPts   []point
	newPts   []point
	eventErr error
}

func newProbe(ev scenarios.Event, old string, urls []string, form loadgen.Form, rate float64) *probe {
	return &probe{
		ev: ev, id: ev.TokenID, old: old, urls: urls, form: form, rate: rate,
		client: &http.Client{
			Timeout: 5 * time.Second,
			Transport: &http.Transport{
				TLSClientConfig:     &tls.Config{InsecureSkipVerify: true}, // our own self-signed server
				MaxIdleConnsPerHost: 4,
			},
		},
	}
}

// accepted sends one request and reports whether it was let in.
func (p *probe) accepted(ctx context.Context, base, secret string) (bool, error) {
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, base+server.PathVersion, nil)
	if err != nil {
		return false, err
	}
	req.Header.Set("Authorization", loadgen.Header(p.form, loadgen.Token{ID: p.id, Secret: secret}))
	resp, err := p.client.Do(req)
	if err != nil {
		return false, err
	}
	resp.Body.Close()
	return resp.StatusCode == http.StatusOK, nil
}

// run probes until ctx ends.
func (p *probe) run(ctx context.Context) {
	tick := time.NewTicker(time.Duration(float64(time.Second) / p.rate))
	defer tick.Stop()
	defer p.client.CloseIdleConnections()
	for i := 0; ; i++ {
		select {
		case <-ctx.Done():
			return
		case <-tick.C:
		}
		base := p.urls[i%len(p.urls)]
		p.mu.Lock()
		newSec := p.newSec
		p.mu.Unlock()
		if p.old != "" {
			sent := time.Now()
			if ok, err := p.accepted(ctx, base, p.old); err == nil {
				p.record(&p.oldPts, sent, ok)
			}
		}
		if newSec != "" {
			sent := time.Now()
			if ok, err := p.accepted(ctx, base, newSec); err == nil {
				p.record(&p.newPts, sent, ok)
			}
		}
	}
}

type point struct {
	sent time.Time
	ok   bool
}

func (p *probe) record(pts *[]point, sent time.Time, ok bool) {
	p.mu.Lock()
	*pts = append(*pts, point{sent, ok})
	p.mu.Unlock()
}

func (p *probe) markEvent(at time.Time, newSecret string, err error) {
	p.mu.Lock()
	defer p.mu.Unlock()
	p.eventAt, p.newSec, p.eventErr = at, newSecret, err
}

// boundFor maps an event to the verifier's declared staleness, adjusted
// for emulated file systems: a same-tick same-length edit under coarse
// mtimes is as invisible to metadata checks as an mtime-restoring rewrite;
// cached stat answers delay what a stat shows by their TTL.
func boundFor(b impl.Bound, ev scenarios.Event) impl.Staleness {
	switch ev.Kind {
	case scenarios.EventAPIRotate, scenarios.EventAPIRevoke, scenarios.EventAPIAdd:
		if ev.From == scenarios.FromOther {
			return b.APIOtherProcess
		}
		return b.APISameProcess
	case scenarios.EventManualEdit:
		return b.ManualEdit
	case scenarios.EventManualRestore:
		return b.SameLenRestore
	case scenarios.EventCoarseMtime:
		if b.UsesFileMetadata {
			return b.SameLenRestore
		}
		return b.ManualEdit
	case scenarios.EventStaleStat:
		if b.UsesFileMetadata && !b.ManualEdit.Unbounded {
			return impl.Staleness{Max: b.ManualEdit.Max + ev.TTL}
		}
		return b.ManualEdit
	}
	return impl.Staleness{Unbounded: true}
}

// finish turns the probe's points into a Revocation judged against bound
// (see revocation.Judge); the timeline of the old secret is kept.
func (p *probe) finish(scenario, verifier string, bound impl.Staleness, measureStart time.Time) results.Revocation {
	p.mu.Lock()
	defer p.mu.Unlock()
	rev := results.Revocation{Scenario: scenario, Verifier: verifier, Event: string(p.ev.Kind) + ":" + string(p.ev.From) + ":" + p.id}
	if p.ev.From == "" {
		rev.Event = string(p.ev.Kind) + ":" + p.id
	}
	if p.eventAt.IsZero() {
		rev.Expectation = "event did not happen (run interrupted)"
		return rev
	}
	if p.eventErr != nil {
		rev.Expectation = "event failed: " + p.eventErr.Error()
		return rev
	}
	rev.AtMS = float64(p.eventAt.Sub(measureStart).Microseconds()) / 1000
	rel := func(pts []point) []results.ProbePoint {
		out := make([]results.ProbePoint, len(pts))
		for i, pt := range pts {
			out[i] = results.ProbePoint{TMS: float64(pt.sent.Sub(p.eventAt).Microseconds()) / 1000, Accepted: pt.ok}
		}
		return out
	}
	oldPts := rel(p.oldPts)
	revocation.Judge(revocation.Input{
		Old: oldPts, HasOld: p.old != "",
		New: rel(p.newPts), HasNew: p.newSec != "",
		Bound: bound, SlackMS: revocation.Slack(p.rate),
	}).Apply(&rev)
	rev.Timeline = oldPts
	return rev
}

// eventActor performs events against the servers and the files.
type eventActor struct {
	servers *serverSet
	store   *impl.Store // this process: "another process" for API events
	scheme  cryptpw.Scheme
	cost    int
}

// do performs ev and returns the token's new secret, if it has one.
func (a *eventActor) do(ctx context.Context, ev scenarios.Event) (string, error) {
	switch ev.Kind {
	case scenarios.EventAPIRotate, scenarios.EventAPIRevoke, scenarios.EventAPIAdd:
		op := map[scenarios.EventKind]node.Op{scenarios.EventAPIRotate: node.OpRotate, scenarios.EventAPIRevoke: node.OpRevoke, scenarios.EventAPIAdd: node.OpAdd}[ev.Kind]
		if ev.From == scenarios.FromOther {
			switch op {
			case node.OpRotate:
				return a.store.Rotate(ctx, ev.TokenID)
			case node.OpAdd:
				return a.store.Add(ctx, ev.TokenID)
			default:
				return "", a.store.Delete(ctx, ev.TokenID)
			}
		}
		return a.servers.mutate(ctx, op, ev.TokenID)
	case scenarios.EventManualEdit, scenarios.EventStaleStat:
		// An administrator deleting a leaked token by hand. (Replacing its
		// hash instead would let the first request with the new secret
		// evict the cached old one: the cache holds one secret per id.)
		return "", impl.ManualRevoke(a.store.Path(), ev.TokenID)
	case scenarios.EventManualRestore:
		return a.manualReplace(ev.TokenID, true)
	case scenarios.EventCoarseMtime:
		// Land in the same mtime tick as an API write the servers have
		// just observed: wait for a fresh tick, write through the API (a
		// token nobody probes), then edit by hand at once.
		g := ev.Granularity
		time.Sleep(time.Until(time.Now().Truncate(g).Add(g + 10*time.Millisecond)))
		if _, err := a.servers.mutate(ctx, node.OpAdd, "coarse@pbs!tick"+fmt.Sprint(time.Now().UnixNano())); err != nil {
			return "", err
		}
		return a.manualReplace(ev.TokenID, false)
	}
	return "", fmt.Errorf("unknown event kind %q", ev.Kind)
}

// manualReplace gives id a new secret by editing the file by hand (no lock,
// no generation bump); keepMtime also restores the previous mtime, which
// with an equal-length hash leaves (mtime, len) unchanged.
func (a *eventActor) manualReplace(id string, keepMtime bool) (string, error) {
	secret, err := impl.NewSecret()
	if err != nil {
		return "", err
	}
	h, err := cryptpw.Hash(a.scheme, a.cost, secret)
	if err != nil {
		return "", err
	}
	change := func(m map[string]string) error {
		if _, ok := m[id]; !ok {
			return fmt.Errorf("%s: %w", id, impl.ErrNoToken)
		}
		m[id] = h
		return nil
	}
	if keepMtime {
		return secret, impl.ManualRewriteKeepMtime(a.store.Path(), change)
	}
	return secret, impl.ManualEdit(a.store.Path(), change)
}
