// Package server is the HTTP server authbench puts under load: a PBS-like
// JSON API whose routes sit behind API-token authentication, next to a
// no-auth control route that does the same work without the auth, so the
// difference between the two is the cost of authentication.
//
// Routes:
//
//	GET /api2/json/version         token auth, PBS-style version object
//	GET /api2/json/status          token auth, a few cheap process numbers
//	GET /noauth/api2/json/version  the control: same handler, no auth
//	GET /pve/api2/json/version     PVE ticket auth (PVEAuthCookie), with Options.Tickets
//	GET /authbench/stats           bench plumbing: verifier, server and process counters
//	                               (the same payload node serves on its admin listener)
//
// Every request runs under pprof labels (verifier, outcome) so CPU profiles
// can be split by verifier and cache outcome. Nothing the server logs or
// returns contains a secret, an Authorization header or a hash.
package server

import (
	"context"
	"crypto/tls"
	"encoding/json"
	"errors"
	"fmt"
	"log/slog"
	"net/http"
	"os"
	"runtime"
	"runtime/pprof"
	"strconv"
	"sync"
	"sync/atomic"
	"syscall"
	"time"

	"github.com/authbench/authbench/impl"
	"github.com/authbench/authbench/internal/authheader"
)

// Route paths.
const (
	PathVersion       = "/api2/json/version"
	PathStatus        = "/api2/json/status"
	PathNoAuthVersion = "/noauth/api2/json/version"
	PathStats         = "/authbench/stats"
)

// Version data reported by the version routes, shaped like PBS's.
const (
	Version = "3.4"
	Release = "1"
	RepoID  = "authbench"
)

// Defaults for zero Options fields.
const (
	DefaultReadHeaderTimeout = 5 * time.Second
	DefaultMaxHeaderBytes    = 16 << 10
	DefaultIdleTimeout       = 60 * time.Second
	DefaultShutdownTimeout   = 2 * time.Second
)

// Options configure a Server. Only Verifier is required.
type Options struct {
	// Verifier checks the token secrets of the authenticated routes.
	Verifier impl.Verifier
	// Store is the verifier's store; used to name the file in health logs.
	Store *impl.Store
	// Logger receives health transitions and server errors; nil discards.
	Logger *slog.Logger
	// TLS serves HTTPS (HTTP/1.1 only) with a self-signed certificate for
	// 127.0.0.1, ::1 and localhost generated in memory by New.
	TLS bool
	// ReadHeaderTimeout bounds reading a request's headers (slow-loris
	// clients); 0 means DefaultReadHeaderTimeout.
	ReadHeaderTimeout time.Duration
	// MaxHeaderBytes bounds request headers; 0 means DefaultMaxHeaderBytes.
	MaxHeaderBytes int
	// IdleTimeout bounds idle keep-alive connections; 0 means
	// DefaultIdleTimeout.
	IdleTimeout time.Duration
	// ShutdownTimeout bounds the graceful shutdown when Serve's context is
	// cancelled; remaining connections are then closed. 0 means
	// DefaultShutdownTimeout.
	ShutdownTimeout time.Duration
	// Forms lists the accepted Authorization header forms; empty accepts
	// all three (PBS, PDM, PVE).
	Forms []authheader.Form
	// Tickets, if set, serves PathTicketVersion behind PVE login tickets
	// verified by it; TicketStrategy names its key-cache strategy in
	// labels, logs and stats.
	Tickets        TicketVerifier
	TicketStrategy string
}

// Server is the benchmarked HTTP server. It is an http.Handler; Serve and
// ListenAndServe run it on a listener. A Server serves at most one listener
// at a time.
type Server struct {
	opts     Options
	verifier impl.Verifier
	log      *slog.Logger
	accepted authheader.Accepted
	start    time.Time
	pid      int

	// Precomputed per-request values, so the hot path does not rebuild them.
	labelsAuth     pprof.LabelSet
	labelsNoAuth   pprof.LabelSet
	labelsOutcome  [3]pprof.LabelSet // indexed by impl.Outcome
	labelsRejected pprof.LabelSet
	challenge      []string

	tlsConfig *tls.Config
	cert      *tls.Certificate
	tickets   *ticketRoute // nil without Options.Tickets

	byStatus  [600]atomic.Uint64
	panics    atomic.Uint64
	unhealthy atomic.Bool

	mu    sync.Mutex
	addr  string
	ready chan struct{}
	busy  bool
}

// New builds a Server. With Options.TLS it also generates the certificate.
func New(opts Options) (*Server, error) {
	if opts.Verifier == nil {
		return nil, errors.New("server: no verifier")
	}
	if opts.ReadHeaderTimeout == 0 {
		opts.ReadHeaderTimeout = DefaultReadHeaderTimeout
	}
	if opts.MaxHeaderBytes == 0 {
		opts.MaxHeaderBytes = DefaultMaxHeaderBytes
	}
	if opts.IdleTimeout == 0 {
		opts.IdleTimeout = DefaultIdleTimeout
	}
	if opts.ShutdownTimeout == 0 {
		opts.ShutdownTimeout = DefaultShutdownTimeout
	}
	if opts.ReadHeaderTimeout < 0 || opts.MaxHeaderBytes < 0 || opts.IdleTimeout < 0 || opts.ShutdownTimeout < 0 {
		return nil, errors.New("server: negative timeout or header limit")
	}
	forms := opts.Forms
	if len(forms) == 0 {
		forms = []authheader.Form{authheader.FormPBS, authheader.FormPDM, authheader.FormPVE}
	}
	for _, f := range forms {
		switch f {
		case authheader.FormPBS, authheader.FormPDM, authheader.FormPVE:
		default:
			return nil, fmt.Errorf("server: unknown Authorization form %q", f)
		}
	}
	log := opts.Logger
	if log == nil {
		log = slog.New(slog.DiscardHandler)
	}
	name := opts.Verifier.Name()
	s := &Server{
		opts:           opts,
		verifier:       opts.Verifier,
		log:            log,
		accepted:       authheader.Accepted(forms),
		start:          time.Now(),
		pid:            os.Getpid(),
		labelsAuth:     pprof.Labels("verifier", name, "outcome", impl.OutcomeFast.String()),
		labelsNoAuth:   pprof.Labels("verifier", "noauth", "outcome", "none"),
		labelsRejected: pprof.Labels("outcome", "rejected"),
		ready:          make(chan struct{}),
	}
	for _, o := range []impl.Outcome{impl.OutcomeFast, impl.OutcomeSlow, impl.OutcomeFallback} {
		s.labelsOutcome[o] = pprof.Labels("outcome", o.String())
	}
	for _, f := range forms {
		s.challenge = append(s.challenge, string(f)+` realm="authbench"`)
	}
	if opts.Tickets != nil {
		s.tickets = newTicketRoute(opts.Tickets, opts.TicketStrategy)
	}
	if opts.TLS {
		cert, err := selfSignedCert(s.start)
		if err != nil {
			return nil, fmt.Errorf("server: %w", err)
		}
		s.cert = cert
		s.tlsConfig = &tls.Config{
			Certificates: []tls.Certificate{*cert},
			MinVersion:   tls.VersionTLS12,
			NextProtos:   []string{"http/1.1"},
		}
	}
	return s, nil
}

// Name is the verifier's name.
func (s *Server) Name() string { return s.verifier.Name() }

var (
	ctJSON  = []string{"application/json;charset=UTF-8"}
	allowed = []string{"GET, HEAD"}

	bodyUnauthorized = []byte(`{"errors":"authentication failed"}` + "\n")
	bodyNotFound     = []byte(`{"errors":"not found"}` + "\n")
	bodyBadMethod    = []byte(`{"errors":"method not allowed"}` + "\n")
)

// ServeHTTP routes the request. Routing is a switch on the exact path, not
// a ServeMux, so every response (404 and 405 included) is counted without
// wrapping the ResponseWriter.
func (s *Server) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	var h func(http.ResponseWriter, *http.Request)
	auth := true
	switch r.URL.Path {
	case PathVersion:
		h = s.handleVersion
	case PathStatus:
		h = s.handleStatus
	case PathNoAuthVersion:
		h, auth = s.handleVersion, false
	case PathTicketVersion:
		if s.tickets == nil {
			s.write(w, http.StatusNotFound, bodyNotFound)
			return
		}
		if s.methodOK(w, r) {
			s.serveTicket(w, r)
		}
		return
	case PathStats:
		if !s.methodOK(w, r) {
			return
		}
		s.handleStats(w, r)
		return
	default:
		s.write(w, http.StatusNotFound, bodyNotFound)
		return
	}
	if !s.methodOK(w, r) {
		return
	}
	if auth {
		s.serveAuthenticated(w, r, h)
		return
	}
	pprof.Do(r.Context(), s.labelsNoAuth, func(context.Context) { h(w, r) })
}

func (s *Server) methodOK(w http.ResponseWriter, r *http.Request) bool {
	if r.Method == http.MethodGet || r.Method == http.MethodHead {
		return true
	}
	w.Header()["Allow"] = allowed
	s.write(w, http.StatusMethodNotAllowed, bodyBadMethod)
	return false
}

// write sends a JSON body and counts the status.
func (s *Server) write(w http.ResponseWriter, status int, body []byte) {
	w.Header()["Content-Type"] = ctJSON
	w.WriteHeader(status)
	_, _ = w.Write(body)
	s.count(status)
}

func (s *Server) count(status int) {
	if status >= 0 && status < len(s.byStatus) {
		s.byStatus[status].Add(1)
	}
}

type versionInfo struct {
	Version string `json:"version"`
	Release string `json:"release"`
	RepoID  string `json:"repoid"`
}

// handleVersion serves both the authenticated route and the control, so
// the two do identical work apart from authentication. It encodes per
// request, as the real server does.
func (s *Server) handleVersion(w http.ResponseWriter, _ *http.Request) {
	body, err := json.Marshal(struct {
		Data versionInfo `json:"data"`
	}{versionInfo{Version, Release, RepoID}})
	if err != nil { // cannot happen for this fixed struct
		s.write(w, http.StatusInternalServerError, []byte(`{"errors":"encoding failed"}`))
		return
	}
	s.write(w, http.StatusOK, body)
}

type statusInfo struct {
	PID        int     `json:"pid"`
	Uptime     float64 `json:"uptime"` // seconds
	Goroutines int     `json:"goroutines"`
	GOMAXPROCS int     `json:"gomaxprocs"`
	NumCPU     int     `json:"cpus"`
}

// handleStatus reports numbers that cost no stop-the-world (unlike
// runtime.ReadMemStats), so it stays a cheap authenticated route.
func (s *Server) handleStatus(w http.ResponseWriter, _ *http.Request) {
	body, err := json.Marshal(struct {
		Data statusInfo `json:"data"`
	}{statusInfo{
		PID:        s.pid,
		Uptime:     time.Since(s.start).Seconds(),
		Goroutines: runtime.NumGoroutine(),
		GOMAXPROCS: runtime.GOMAXPROCS(0),
		NumCPU:     runtime.NumCPU(),
	}})
	if err != nil {
		s.write(w, http.StatusInternalServerError, []byte(`{"errors":"encoding failed"}`))
		return
	}
	s.write(w, http.StatusOK, body)
}

// Stats is what GET /authbench/stats returns.
type Stats struct {
	Verifier string     `json:"verifier"`
	Verify   impl.Stats `json:"verify"`
	// Requests counts responses by status code, excluding the stats route
	// itself so that polling it does not skew the numbers. Responses that
	// net/http sends on its own (431, 400 for unparsable requests) are not
	// seen by the handler and not counted.
	Requests map[string]uint64 `json:"requests"`
	// Panics counts panics recovered in the auth path.
	Panics uint64 `json:"panics"`
	// ShadowHealthy is false while the last verification that needed the
	// shadow file could not read or parse it.
	ShadowHealthy bool `json:"shadow_healthy"`
	// PID and UptimeS identify the serving process.
	PID     int     `json:"pid"`
	UptimeS float64 `json:"uptime_s"`
	// Generation is the store's shared generation counter (0 without a
	// Store in Options).
	Generation uint64 `json:"generation"`
	// CPUSeconds is the whole process's user+system CPU time (getrusage):
	// the runner differences two snapshots to get the server's own cost of
	// a measured window, independent of profile sampling.
	CPUSeconds float64 `json:"cpu_s"`
	// Ticket holds the ticket route's counters (nil without one).
	Ticket *TicketStats `json:"ticket,omitempty"`
}

// Stats returns a snapshot of the verifier's and the server's counters.
func (s *Server) Stats() Stats {
	st := Stats{
		Verifier:      s.verifier.Name(),
		Verify:        s.verifier.Stats(),
		Requests:      map[string]uint64{},
		Panics:        s.panics.Load(),
		ShadowHealthy: !s.unhealthy.Load(),
		PID:           s.pid,
		UptimeS:       time.Since(s.start).Seconds(),
		CPUSeconds:    ProcessCPUSeconds(),
	}
	if s.opts.Store != nil {
		st.Generation = s.opts.Store.Generation().Load()
	}
	if s.tickets != nil {
		st.Ticket = s.tickets.stats()
	}
	for code := range s.byStatus {
		if n := s.byStatus[code].Load(); n > 0 {
			st.Requests[strconv.Itoa(code)] = n
		}
	}
	return st
}

// ProcessCPUSeconds is this process's user+system CPU time so far, or 0
// if getrusage fails (a window without CPU time falls back to profile
// samples; JSON cannot carry NaN).
func ProcessCPUSeconds() float64 {
	var ru syscall.Rusage
	if err := syscall.Getrusage(syscall.RUSAGE_SELF, &ru); err != nil {
		return 0
	}
	return time.Duration(ru.Utime.Nano() + ru.Stime.Nano()).Seconds()
}

// StatsHandler serves Stats as JSON. The traffic listener routes PathStats
// to it; node mounts the same handler on its admin listener, so there is
// one stats payload wherever it is read.
func (s *Server) StatsHandler() http.Handler { return http.HandlerFunc(s.handleStats) }

func (s *Server) handleStats(w http.ResponseWriter, _ *http.Request) {
	body, err := json.Marshal(s.Stats())
	if err != nil {
		w.Header()["Content-Type"] = ctJSON
		w.WriteHeader(http.StatusInternalServerError)
		return
	}
	w.Header()["Content-Type"] = ctJSON
	w.WriteHeader(http.StatusOK)
	_, _ = w.Write(body)
}
