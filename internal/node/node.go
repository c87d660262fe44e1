// Package node is the `bench serve` protocol in one place: one benchmark
// server process (a token store, a verifier, the token-authenticated HTTP
// server, and a loopback admin listener with pprof, counters, API
// mutations, file-system emulation and window-exact CPU profiles), how a
// parent spawns one as a child process (argv, the ready line), and Client,
// the typed admin client the scenario runner uses. The runner starts one or
// several nodes, in this process or as child processes, and talks to them
// only over HTTP.
package node

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net"
	"net/http"
	"os"
	"path/filepath"
	"runtime"
	rpprof "runtime/pprof"
	"sync"
	"syscall"
	"time"

	"github.com/authbench/authbench/impl"
	"github.com/authbench/authbench/impl/cryptpw"
	"github.com/authbench/authbench/impl/ticket"
	"github.com/authbench/authbench/internal/server"
)

// Config describes a node.
type Config struct {
	Shadow    string        // token.shadow path
	Verifier  string        // registered verifier name
	TTL       time.Duration // ttl verifier window (0 = default)
	Addr      string        // traffic listener, e.g. 127.0.0.1:0
	AdminAddr string        // admin/pprof listener; "" = none
	TLS       bool
	Scheme    cryptpw.Scheme // for secrets made through the admin API
	Cost      int
	Logger    *slog.Logger
	// TicketStrategy, if set, also serves server.PathTicketVersion behind
	// PVE login tickets verified with this impl/ticket key-cache strategy
	// over the auth keys in AuthkeyDir (PVE's /etc/pve layout).
	TicketStrategy string
	AuthkeyDir     string
}

// Node is a running server process's state.
type Node struct {
	cfg      Config
	store    *impl.Store
	verifier impl.Verifier
	srv      *server.Server
	ln, adm  net.Listener
	started  time.Time

	profMu sync.Mutex
	prof   bytes.Buffer

	closeOnce sync.Once
	closeErr  error
}

// Start opens the store, builds the verifier and binds both listeners; the
// kernel queues connections from then on. Serve then serves them until its
// context ends and releases the node; a node that is never served must be
// released with Close.
func Start(ctx context.Context, cfg Config) (_ *Node, err error) {
	if cfg.Logger == nil {
		cfg.Logger = slog.New(slog.NewTextHandler(os.Stderr, nil))
	}
	store, err := impl.OpenStore(cfg.Shadow, impl.StoreOptions{Scheme: cfg.Scheme, Cost: cfg.Cost})
	if err != nil {
		return nil, err
	}
	v, err := impl.New(cfg.Verifier, impl.Config{Store: store, TTL: cfg.TTL, Logger: cfg.Logger})
	if err != nil {
		store.Close()
		return nil, err
	}
	n := &Node{cfg: cfg, store: store, verifier: v, started: time.Now()}
	// From here every failure releases what is held: the notify and fresh
	// verifiers own an inotify instance, and a leaked one per failed start
	// exhausts fs.inotify.max_user_instances in long test runs.
	defer func() {
		if err != nil {
			n.Close()
		}
	}()
	so := server.Options{Verifier: v, Store: store, Logger: cfg.Logger, TLS: cfg.TLS}
	if cfg.TicketStrategy != "" {
		auth, err := newTicketAuthority(cfg)
		if err != nil {
			return nil, err
		}
		so.Tickets, so.TicketStrategy = auth, cfg.TicketStrategy
	}
	if n.srv, err = server.New(so); err != nil {
		return nil, err
	}
	if n.ln, err = listen(cfg.Addr); err != nil {
		return nil, err
	}
	if cfg.AdminAddr != "" {
		if n.adm, err = listen(cfg.AdminAddr); err != nil {
			return nil, err
		}
	}
	return n, nil
}

// Close releases the listeners, the verifier and the store. Serve calls it
// on return; it is safe to call more than once.
func (n *Node) Close() error {
	n.closeOnce.Do(func() {
		var errs []error
		for _, ln := range []net.Listener{n.ln, n.adm} {
			if ln != nil {
				// Serve has closed them already; only a never-served
				// node still holds them open.
				if err := ln.Close(); err != nil && !errors.Is(err, net.ErrClosed) {
					errs = append(errs, err)
				}
			}
		}
		if err := impl.Close(n.verifier); err != nil {
			errs = append(errs, fmt.Errorf("close verifier %s: %w", n.cfg.Verifier, err))
		}
		if err := n.store.Close(); err != nil {
			errs = append(errs, fmt.Errorf("close store: %w", err))
		}
		n.closeErr = errors.Join(errs...)
	})
	return n.closeErr
}

// newTicketAuthority is the ticket route's verifier. The node only
// verifies: it never rotates (the key lifetime check is the cluster
// experiment's business), so a long run cannot change the keys under the
// load.
func newTicketAuthority(cfg Config) (*ticket.Authority, error) {
	if cfg.AuthkeyDir == "" {
		return nil, errors.New("ticket strategy without an auth key directory")
	}
	st, err := os.Stat(cfg.AuthkeyDir)
	if err != nil {
		return nil, fmt.Errorf("auth key directory: %w", err)
	}
	if !st.IsDir() {
		return nil, fmt.Errorf("auth key directory %s: not a directory", cfg.AuthkeyDir)
	}
	files := ticket.Files{Dir: cfg.AuthkeyDir}
	a, err := ticket.NewAuthority(files, filepath.Join(cfg.AuthkeyDir, "authkey.lock"), cfg.TicketStrategy, ticket.Options{})
	if err != nil {
		return nil, err
	}
	a.KeyLifetime = 0
	log := cfg.Logger
	a.Logf = func(format string, args ...any) { log.Warn(fmt.Sprintf(format, args...)) }
	return a, nil
}

func listen(addr string) (net.Listener, error) {
	ln, err := net.Listen("tcp", addr)
	if err != nil {
		if errors.Is(err, syscall.EADDRINUSE) {
			return nil, fmt.Errorf("address %s already in use", addr)
		}
		return nil, fmt.Errorf("listen on %s: %w", addr, err)
	}
	return ln, nil
}

// URL is the traffic base URL.
func (n *Node) URL() string {
	scheme := "http"
	if n.cfg.TLS {
		scheme = "https"
	}
	return scheme + "://" + n.ln.Addr().String()
}

// AdminURL is the admin base URL ("" without an admin listener).
func (n *Node) AdminURL() string {
	if n.adm == nil {
		return ""
	}
	return "http://" + n.adm.Addr().String()
}

// Verifier is the node's verifier (for in-process callers and tests).
func (n *Node) Verifier() impl.Verifier { return n.verifier }

// Serve runs until ctx is cancelled, then shuts both listeners down and
// closes the node.
func (n *Node) Serve(ctx context.Context) (err error) {
	defer func() { err = errors.Join(err, n.Close()) }()
	var wg sync.WaitGroup
	errc := make(chan error, 2)
	wg.Add(1)
	go func() { defer wg.Done(); errc <- n.srv.Serve(ctx, n.ln) }()
	if n.adm != nil {
		admin := &http.Server{Handler: n.adminMux(), ReadHeaderTimeout: 5 * time.Second}
		wg.Add(1)
		go func() {
			defer wg.Done()
			if err := admin.Serve(n.adm); err != nil && !errors.Is(err, http.ErrServerClosed) {
				errc <- fmt.Errorf("admin listener: %w", err)
			}
		}()
		go func() {
			<-ctx.Done()
			sctx, cancel := context.WithTimeout(context.Background(), 2*time.Second)
			defer cancel()
			admin.Shutdown(sctx)
		}()
	}
	wg.Wait()
	close(errc)
	for err := range errc {
		if err != nil {
			return err
		}
	}
	return nil
}

// Admin routes (on the admin listener only). PathStats serves the same
// server.Stats payload as the traffic listener's stats route.
const (
	PathStats        = server.PathStats
	PathMutate       = "/authbench/admin/mutate"
	PathFS           = "/authbench/admin/fs"
	PathProfileStart = "/authbench/profile/start"
	PathProfileStop  = "/authbench/profile/stop"
)

// Op is an API mutation made through a node's own store.
type Op string

// The API mutations of PathMutate.
const (
	OpRotate Op = "rotate"
	OpAdd    Op = "add"
	OpRevoke Op = "revoke"
)

func (n *Node) adminMux() *http.ServeMux {
	mux := http.NewServeMux()
	mux.Handle("/debug/pprof/", server.PprofHandler())
	mux.Handle("GET "+PathStats, n.srv.StatsHandler())
	// API mutations through this process, as the PBS API would make them:
	// the response carries a new secret back to the runner over loopback.
	mux.HandleFunc("POST "+PathMutate, func(w http.ResponseWriter, r *http.Request) {
		op, id := Op(r.URL.Query().Get("op")), r.URL.Query().Get("token")
		var secret string
		var err error
		switch op {
		case OpRotate:
			secret, err = n.store.Rotate(r.Context(), id)
		case OpAdd:
			secret, err = n.store.Add(r.Context(), id)
		case OpRevoke:
			err = n.store.Delete(r.Context(), id)
		default:
			err = fmt.Errorf("unknown op %q", op)
		}
		if err != nil {
			writeJSON(w, http.StatusBadRequest, errorBody{err.Error()})
			return
		}
		writeJSON(w, http.StatusOK, mutateBody{Secret: secret})
	})
	// CPU profiles bracket exactly the measured window (the stock
	// /debug/pprof/profile only takes whole seconds).
	mux.HandleFunc("POST "+PathProfileStart, func(w http.ResponseWriter, r *http.Request) {
		n.profMu.Lock()
		defer n.profMu.Unlock()
		n.prof.Reset()
		if err := StartCPUProfile(&n.prof); err != nil {
			writeJSON(w, http.StatusConflict, errorBody{err.Error()})
			return
		}
		writeJSON(w, http.StatusOK, struct{}{})
	})
	mux.HandleFunc("POST "+PathProfileStop, func(w http.ResponseWriter, r *http.Request) {
		n.profMu.Lock()
		defer n.profMu.Unlock()
		rpprof.StopCPUProfile()
		w.Header().Set("Content-Type", "application/octet-stream")
		w.Write(n.prof.Bytes())
	})
	mux.HandleFunc("POST "+PathFS, func(w http.ResponseWriter, r *http.Request) {
		q := r.URL.Query()
		f, err := StatFilterFor(q.Get("coarse"), q.Get("stale"))
		if err != nil {
			writeJSON(w, http.StatusBadRequest, errorBody{err.Error()})
			return
		}
		n.store.SetStatFilter(f)
		writeJSON(w, http.StatusOK, struct{}{})
	})
	return mux
}

type errorBody struct {
	Error string `json:"error"`
}

type mutateBody struct {
	Secret string `json:"secret"`
}

func writeJSON(w http.ResponseWriter, code int, v any) {
	w.Header().Set("Content-Type", "application/json")
	w.WriteHeader(code)
	json.NewEncoder(w).Encode(v)
}

// StatFilterFor builds the file-system emulation: coarse truncates mtimes
// to a granularity (file systems with 1 s or 2 s timestamps), stale answers
// stat from a cache for a duration (a FUSE attr_timeout, seed 002's root
// cause). Both empty removes any filter.
func StatFilterFor(coarse, stale string) (impl.StatFilter, error) {
	var g, ttl time.Duration
	var err error
	if coarse != "" {
		if g, err = time.ParseDuration(coarse); err != nil || g <= 0 {
			return nil, fmt.Errorf("coarse granularity %q: want a positive duration", coarse)
		}
	}
	if stale != "" {
		if ttl, err = time.ParseDuration(stale); err != nil || ttl <= 0 {
			return nil, fmt.Errorf("stale-stat ttl %q: want a positive duration", stale)
		}
	}
	if g == 0 && ttl == 0 {
		return nil, nil
	}
	var mu sync.Mutex
	var cached impl.FileMeta
	var cachedErr error
	var cachedAt time.Time
	return func(m impl.FileMeta, err error) (impl.FileMeta, error) {
		if g > 0 && m.Exists {
			m.MtimeNS -= m.MtimeNS % int64(g)
		}
		if ttl == 0 {
			return m, err
		}
		mu.Lock()
		defer mu.Unlock()
		now := time.Now()
		if cachedAt.IsZero() || now.Sub(cachedAt) >= ttl {
			cached, cachedErr, cachedAt = m, err, now
		}
		return cached, cachedErr
	}, nil
}

// ProfileHz is the CPU sampling rate requested. pprof's fixed 100 Hz
// gives too few samples in a short window for stable shares, but a higher
// request does not buy more: Linux checks a thread's CPU-time timers on
// the scheduler tick (CONFIG_HZ, 250 on this project's VMs), so a profile
// records at most that many samples per CPU-second whatever is asked, and
// asking for more only makes the profile claim a shorter period (each
// sample's nanoseconds too small by the ratio). So the request matches
// the tick; the profile stage records the rate really recorded (samples
// per second of the server's own CPU time, results.CPUShare.ProfileHz)
// and the sample count each share rests on. More samples come from more
// server CPU time: the runner pools the knee searches' sustained steps.
const ProfileHz = 250

// StartCPUProfile starts a CPU profile at ProfileHz. Setting the rate first
// makes pprof's own (fixed) request a no-op; the runtime records the real
// rate in the profile, so sample values stay correct nanoseconds. The
// runtime prints one harmless "cannot set cpu profile rate" line.
func StartCPUProfile(w io.Writer) error {
	runtime.SetCPUProfileRate(ProfileHz)
	if err := rpprof.StartCPUProfile(w); err != nil {
		runtime.SetCPUProfileRate(0)
		return err
	}
	return nil
}
