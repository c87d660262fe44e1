package server

import (
	"context"
	"errors"
	"net/http"
	"net/url"
	"runtime/pprof"
	"sync"
	"sync/atomic"
	"time"

	"github.com/authbench/authbench/impl/ticket"
)

// PathTicketVersion is the ticket-authenticated route: the version object
// behind a PVEAuthCookie ticket, as a PVE client sends it. It is served
// only when Options.Tickets is set.
const PathTicketVersion = "/pve/api2/json/version"

// TicketCookie is the cookie PVE clients send their login ticket in.
const TicketCookie = "PVEAuthCookie"

// TicketVerifier checks a PVE login ticket (impl/ticket's Authority).
// Errors must not contain the ticket.
type TicketVerifier interface {
	Verify(ticket string) (user string, err error)
}

// TicketStats are the ticket route's counters: accepted tickets and
// rejections by reason (cookie, malformed, signature, age, key, panic).
type TicketStats struct {
	Strategy string            `json:"strategy"`
	Accepted uint64            `json:"accepted"`
	Rejected map[string]uint64 `json:"rejected"`
}

// ticketRoute is the ticket route's state.
type ticketRoute struct {
	v        TicketVerifier
	strategy string
	labels   pprof.LabelSet
	accepted atomic.Uint64

	mu       sync.Mutex
	rejected map[string]uint64
	logged   map[string]time.Time // per reason: when a line was last logged
	dropped  map[string]uint64    // lines suppressed since then
}

// ticketLogEvery bounds rejection logging to one line per reason and
// interval, with the count of suppressed ones: a bad-signature mix at
// thousands of requests/s must not turn the measurement into a log
// benchmark, and every reason still gets its line.
const ticketLogEvery = time.Second

func newTicketRoute(v TicketVerifier, strategy string) *ticketRoute {
	return &ticketRoute{
		v: v, strategy: strategy,
		labels:   pprof.Labels("verifier", "ticket/"+strategy, "outcome", "ticket"),
		rejected: map[string]uint64{}, logged: map[string]time.Time{}, dropped: map[string]uint64{},
	}
}

// ticketReason classes a verification error; never the ticket. Verify
// joins the current and the old key's errors, so a ticket that one key
// signed but whose age is wrong says "age", not the other key's
// "signature".
func ticketReason(err error) string {
	switch {
	case errors.Is(err, ticket.ErrMalformed):
		return "malformed"
	case errors.Is(err, ticket.ErrAge):
		return "age"
	case errors.Is(err, ticket.ErrSignature):
		return "signature"
	case errors.Is(err, ticket.ErrNoKey):
		return "key"
	}
	return "key" // key files unreadable or corrupt: fail closed
}

// serveTicket verifies the PVEAuthCookie ticket and serves the version
// object; every failure, a panic included, is a 401 and a log line.
func (s *Server) serveTicket(w http.ResponseWriter, r *http.Request) {
	t := s.tickets
	pprof.Do(r.Context(), t.labels, func(context.Context) {
		why, err := s.checkTicket(r)
		if why != "" {
			t.reject(s, why, err)
			pprof.Do(r.Context(), s.labelsRejected, func(context.Context) { s.write(w, http.StatusUnauthorized, bodyUnauthorized) })
			return
		}
		t.accepted.Add(1)
		s.handleVersion(w, r)
	})
}

func (s *Server) checkTicket(r *http.Request) (why string, err error) {
	defer func() {
		if p := recover(); p != nil {
			s.notePanic(p)
			why, err = "panic", errors.New("verifier panic")
		}
	}()
	c, err := r.Cookie(TicketCookie)
	if err != nil {
		return "cookie", errors.New("no " + TicketCookie + " cookie")
	}
	raw, err := url.QueryUnescape(c.Value)
	if err != nil {
		return "cookie", errors.New("cookie is not URL-encoded")
	}
	if _, err := s.tickets.v.Verify(raw); err != nil {
		return ticketReason(err), err
	}
	return "", nil
}

func (t *ticketRoute) reject(s *Server, why string, err error) {
	t.mu.Lock()
	t.rejected[why]++
	now := time.Now()
	last, seen := t.logged[why]
	if seen && now.Sub(last) < ticketLogEvery {
		t.dropped[why]++
		t.mu.Unlock()
		return
	}
	dropped := t.dropped[why]
	t.logged[why], t.dropped[why] = now, 0
	t.mu.Unlock()
	s.log.Warn("ticket rejected (401)", "strategy", t.strategy, "reason", why, "error", err.Error(), "suppressed_since_last", dropped)
}

func (t *ticketRoute) stats() *TicketStats {
	st := &TicketStats{Strategy: t.strategy, Accepted: t.accepted.Load(), Rejected: map[string]uint64{}}
	t.mu.Lock()
	defer t.mu.Unlock()
	for k, v := range t.rejected {
		st.Rejected[k] = v
	}
	return st
}
