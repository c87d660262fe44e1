package cluster

import (
	"context"
	"fmt"
	"net/http"
	"net/url"
	"sync"
	"sync/atomic"
	"time"

	vegeta "github.com/tsenart/vegeta/v12/lib"
)

// pool holds the newest ticket issued by each node.
type pool struct {
	mu      sync.Mutex
	tickets []string
	seq     []int
}

func (p *pool) set(i int, t string) {
	p.mu.Lock()
	p.tickets[i] = t
	p.seq[i]++
	p.mu.Unlock()
}

func (p *pool) get(i int) (string, int) {
	p.mu.Lock()
	defer p.mu.Unlock()
	return p.tickets[i], p.seq[i]
}

// marks are a trial's two instants: when the driver started the event (the
// touch) and t0, when every node's rotation check had returned and every
// node had issued a fresh ticket. Requests sent in [event, t0) carry
// tickets signed before the event (logins are paused); from t0 on, tickets
// signed after the rotation check.
type marks struct{ event, t0 time.Time }

// checkWait is how long after the event the rotation checks run: the
// kernel caches of every mount expire within attr_timeout of the touch and
// the verification load then re-caches the aged attributes, the state seed
// 002's script sets up with check_authkey(1).
func (t *trial) checkWait() time.Duration { return t.attr + 200*time.Millisecond }

// drive runs the ticket load for the whole trial with the event in its
// middle and returns every result with the trial's marks. When the event
// fails or ctx ends first, both marks fall back to where they were due.
func (t *trial) drive(ctx context.Context) ([]*vegeta.Result, marks) {
	lctx, stopLoad := context.WithCancel(ctx)
	defer stopLoad()
	var paused atomic.Bool
	var issuers sync.WaitGroup
	t.issuers(lctx, &paused, &issuers)

	lead, wait := time.Duration(t.cfg.LeadMs)*time.Millisecond, t.checkWait()
	dur := time.Duration(t.cfg.LeadMs+t.cfg.ObserveMs)*time.Millisecond + wait
	atk := vegeta.NewAttacker(vegeta.Timeout(10*time.Second), vegeta.KeepAlive(true))
	start := time.Now()
	results := atk.Attack(t.targeter(), vegeta.Rate{Freq: int(t.cfg.Rate), Per: time.Second}, dur, "ticket")
	go func() {
		<-lctx.Done() // Ctrl-C: end the attack now, not after dur
		atk.Stop()
	}()

	m := marks{event: start.Add(lead), t0: start.Add(lead + wait)}
	got := make(chan marks, 1)
	var ev sync.WaitGroup
	ev.Add(1)
	go func() {
		defer ev.Done()
		if !waitOrDone(lctx, lead) {
			return
		}
		paused.Store(true)
		defer paused.Store(false)
		if at, ok := t.runEvent(lctx); ok {
			got <- marks{event: at, t0: time.Now()}
		}
	}()
	var rs []*vegeta.Result
	for r := range results {
		rs = append(rs, r)
	}
	stopLoad()
	issuers.Wait()
	ev.Wait()
	select {
	case m = <-got:
	default:
	}
	return rs, m
}

// issuers logs a user in on every node every 100 ms, as logins keep coming
// on a real cluster (each login runs get_privkey's rotation check). Failed
// issues keep the previous ticket. Logins pause around the reproduction
// (paused), as the seed stops all services but pve-cluster.
func (t *trial) issuers(ctx context.Context, paused *atomic.Bool, wg *sync.WaitGroup) {
	for i, c := range t.nodes {
		wg.Add(1)
		go func() {
			defer wg.Done()
			tick := time.NewTicker(100 * time.Millisecond)
			defer tick.Stop()
			for {
				select {
				case <-ctx.Done():
					return
				case <-tick.C:
					if paused.Load() {
						continue
					}
					if tk, err := issue(ctx, t.hc, c.ready.URL); err == nil {
						t.pool.set(i, tk)
					}
				}
			}
		}()
	}
}

// targeter round-robins over verifying nodes and issuing nodes, so every
// node checks every node's tickets. The URL's query names the ticket
// (issuer, sequence); the node ignores it.
func (t *trial) targeter() vegeta.Targeter {
	var mu sync.Mutex
	n := 0
	return func(tg *vegeta.Target) error {
		mu.Lock()
		k := n
		n++
		mu.Unlock()
		verifier, issuer := k%len(t.nodes), (k/len(t.nodes))%len(t.nodes)
		tk, seq := t.pool.get(issuer)
		tg.Method = http.MethodGet
		tg.URL = fmt.Sprintf("%s%s?issuer=%d&seq=%d", t.nodes[verifier].ready.URL, PathVerify, issuer, seq)
		tg.Header = http.Header{"Cookie": {CookieName + "=" + url.QueryEscape(tk)}}
		return nil
	}
}
