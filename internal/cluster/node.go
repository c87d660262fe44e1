package cluster

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"log"
	"net"
	"net/http"
	"net/http/pprof"
	"net/url"
	"os"
	"path/filepath"
	rpprof "runtime/pprof"
	"strconv"
	"strings"
	"sync"
	"syscall"
	"time"

	"github.com/authbench/authbench/impl/ticket"
	"github.com/authbench/authbench/internal/fusemount"
)

// HTTP paths of a node.
const (
	PathVerify = "/api2/json/version" // the ticket-authenticated route
	PathIssue  = "/ticket/issue"      // POST: assemble_ticket (login)
	PathCheck  = "/ticket/check"      // POST: check_authkey twice, then rotate_authkey
	PathState  = "/ticket/state"      // GET: this node's view of the keys
	CookieName = "PVEAuthCookie"
	// HeaderReject on a 401 names the rejection's class (reasonClass), so
	// the driver can tell the age range's refusals (RejectAge) from
	// tickets no key verified. It never carries the ticket.
	HeaderReject = "X-Authbench-Reject"
	RejectAge    = "age"
)

// NodeConfig is one node process's settings (`bench ticket node` flags).
type NodeConfig struct {
	Index       int
	Backing     string // shared key directory (PVE's /etc/pve as pmxcfs stores it)
	Mount       string // this node's FUSE mountpoint of Backing
	Lock        string // cluster lock file (flock), in the shared directory
	Strategy    string
	AttrTimeout time.Duration
	TTL         time.Duration // content-ttl's TTL
	KeyBits     int
	// CheckInterval runs PVE's periodic rotation check; 0 disables it.
	CheckInterval time.Duration
	Addr          string
	// Binary is the bench executable that serves the FUSE mount as a
	// separate process (default: this executable).
	Binary string
}

// NodeReady is the JSON line a node prints once it serves.
type NodeReady struct {
	URL     string `json:"url"`
	PID     int    `json:"pid"`
	FusePID int    `json:"fuse_pid"`
}

// NodeState is a node's view of the keys, by public-key fingerprint.
type NodeState struct {
	Index        int    `json:"index"`
	Current      string `json:"current"`
	Old          string `json:"old"`
	Signing      string `json:"signing"` // the key its private key belongs to
	CurrentMtime int64  `json:"current_mtime"`
	Rotations    int64  `json:"rotations"`
	// CPUSeconds is the node process's user+system CPU time so far (not
	// its FUSE server's, a separate process).
	CPUSeconds float64 `json:"cpu_s"`
	Error      string  `json:"error,omitempty"`
}

func processCPU() float64 {
	var ru syscall.Rusage
	if err := syscall.Getrusage(syscall.RUSAGE_SELF, &ru); err != nil {
		return 0
	}
	return float64(ru.Utime.Nano()+ru.Stime.Nano()) / 1e9
}

// RunFUSE serves backing at mount until ctx ends (`bench ticket fuse`); it
// prints "ready" on out once mounted. A stale mount of ours at mount (a
// crashed run) is detached first.
func RunFUSE(ctx context.Context, backing, mount string, attr time.Duration, out io.Writer) error {
	if _, err := fusemount.CleanStale(mount); err != nil {
		return err
	}
	m, err := fusemount.New(ctx, backing, mount, fusemount.Options{AttrTimeout: attr, EntryTimeout: attr})
	if err != nil {
		return err
	}
	fmt.Fprintln(out, "ready")
	<-ctx.Done()
	return m.Close()
}

// fuseChild starts `bench ticket fuse` and waits for its mount.
func fuseChild(ctx context.Context, cfg NodeConfig, logw io.Writer) (*child, error) {
	bin := cfg.Binary
	if bin == "" {
		var err error
		if bin, err = os.Executable(); err != nil {
			return nil, fmt.Errorf("fuse child: %w", err)
		}
	}
	c, lines, err := spawn(bin, []string{"ticket", "fuse", "--backing", cfg.Backing, "--mount", cfg.Mount,
		"--attr-timeout", cfg.AttrTimeout.String()}, logw)
	if err != nil {
		return nil, err
	}
	select {
	case l := <-lines:
		if strings.TrimSpace(l) == "ready" {
			return c, nil
		}
	case <-time.After(15 * time.Second):
	case <-ctx.Done():
	}
	c.stop()
	return nil, &fusemount.SkipError{Reason: fmt.Sprintf("FUSE server for %s did not mount (exit %v); see its log", cfg.Mount, c.cmd.ProcessState)}
}

// Node is a running node: its authority over its own mount.
type Node struct {
	cfg  NodeConfig
	auth *ticket.Authority
	log  *log.Logger
	lim  *logLimiter
}

// RunNode mounts, serves until ctx ends, then stops the FUSE child and
// unmounts. The ready line goes to out, logs to logw.
func RunNode(ctx context.Context, cfg NodeConfig, out, logw io.Writer) error {
	lg := log.New(logw, fmt.Sprintf("node%d: ", cfg.Index), log.LstdFlags|log.Lmicroseconds)
	if _, err := fusemount.CleanStale(cfg.Mount); err != nil {
		lg.Printf("stale mount cleanup: %v", err)
	}
	fuse, err := fuseChild(ctx, cfg, logw)
	if err != nil {
		return err
	}
	defer func() {
		// SIGTERM lets the FUSE child unmount; a child already gone
		// leaves a dead mount, which we detach.
		fuse.stop()
		if cleaned, err := fusemount.CleanStale(cfg.Mount); err != nil || len(cleaned) > 0 {
			lg.Printf("detached dead mount %v %v", cleaned, err)
		}
	}()
	auth, err := ticket.NewAuthority(ticket.Files{Dir: cfg.Mount}, cfg.Lock, cfg.Strategy,
		ticket.Options{AttrTimeout: cfg.AttrTimeout, TTL: cfg.TTL})
	if err != nil {
		return err
	}
	if cfg.KeyBits > 0 {
		auth.KeyBits = cfg.KeyBits
	}
	auth.Logf = func(f string, a ...any) { lg.Printf(f, a...) }
	n := &Node{cfg: cfg, auth: auth, log: lg, lim: &logLimiter{last: map[string]time.Time{}}}

	addr := cfg.Addr
	if addr == "" {
		addr = "127.0.0.1:0"
	}
	ln, err := net.Listen("tcp", addr)
	if err != nil {
		return fmt.Errorf("node %d: listen: %w", cfg.Index, err)
	}
	srv := &http.Server{Handler: n.Handler(), ReadHeaderTimeout: 10 * time.Second, ErrorLog: lg}
	go func() {
		<-ctx.Done()
		sctx, cancel := context.WithTimeout(context.Background(), 3*time.Second)
		defer cancel()
		srv.Shutdown(sctx)
	}()
	if cfg.CheckInterval > 0 {
		go n.periodicCheck(ctx)
	}
	if err := json.NewEncoder(out).Encode(NodeReady{URL: "http://" + ln.Addr().String(), PID: os.Getpid(), FusePID: fuse.cmd.Process.Pid}); err != nil {
		return err
	}
	if err := srv.Serve(ln); err != nil && !errors.Is(err, http.ErrServerClosed) {
		return err
	}
	return nil
}

func (n *Node) periodicCheck(ctx context.Context) {
	t := time.NewTicker(n.cfg.CheckInterval)
	defer t.Stop()
	for {
		select {
		case <-ctx.Done():
			return
		case <-t.C:
			if _, err := n.auth.MaybeRotate(); err != nil {
				n.lim.printf(n.log, "rotate", "rotation check failed: %v", err)
			}
		}
	}
}

// Handler is the node's mux: the verify route, the admin routes and pprof.
func (n *Node) Handler() http.Handler {
	mux := http.NewServeMux()
	mux.HandleFunc("GET "+PathVerify, n.verify)
	mux.HandleFunc("POST "+PathIssue, n.issue)
	mux.HandleFunc("POST "+PathCheck, n.check)
	mux.HandleFunc("GET "+PathState, n.state)
	mux.HandleFunc("/debug/pprof/", pprof.Index)
	mux.HandleFunc("/debug/pprof/profile", pprof.Profile)
	return mux
}

// verify answers 200 for a valid PVEAuthCookie ticket and 401 for anything
// else, logging why (never the ticket). A panic below is a 401 too.
func (n *Node) verify(w http.ResponseWriter, r *http.Request) {
	defer func() {
		if p := recover(); p != nil {
			n.lim.printf(n.log, "panic", "ticket rejected: verifier panic: %v", p)
			http.Error(w, "authentication failure", http.StatusUnauthorized)
		}
	}()
	c, err := r.Cookie(CookieName)
	if err != nil {
		n.reject(w, "no "+CookieName+" cookie", "cookie")
		return
	}
	t, err := url.QueryUnescape(c.Value)
	if err != nil {
		n.reject(w, "cookie not URL-encoded", "cookie")
		return
	}
	var user string
	rpprof.Do(r.Context(), rpprof.Labels("strategy", n.cfg.Strategy), func(context.Context) {
		user, err = n.auth.Verify(t)
	})
	if err != nil {
		n.reject(w, err.Error(), reasonClass(err))
		return
	}
	w.Header().Set("Content-Type", "application/json")
	fmt.Fprintf(w, `{"data":{"version":"authbench","user":%q}}`+"\n", user)
}

func (n *Node) reject(w http.ResponseWriter, why, class string) {
	n.lim.printf(n.log, class, "ticket rejected: %s", why)
	w.Header().Set(HeaderReject, class)
	http.Error(w, "authentication failure", http.StatusUnauthorized)
}

func (n *Node) issue(w http.ResponseWriter, r *http.Request) {
	t, err := n.auth.Assemble("root@pam")
	if err != nil {
		n.lim.printf(n.log, "issue", "ticket issue failed: %v", err)
		http.Error(w, "cannot issue ticket", http.StatusServiceUnavailable)
		return
	}
	io.WriteString(w, t)
}

// check is the seed's reproduction script on this node: check_authkey(1)
// twice (to fill the caches), then rotate_authkey.
func (n *Node) check(w http.ResponseWriter, r *http.Request) {
	n.auth.CheckAuthkey()
	n.auth.CheckAuthkey()
	rotated, err := n.auth.MaybeRotateForce()
	res := map[string]any{"rotated": rotated}
	if err != nil {
		res["error"] = err.Error()
		n.log.Printf("rotation failed: %v", err)
	} else if rotated {
		n.log.Printf("rotated the auth key")
	}
	json.NewEncoder(w).Encode(res)
}

func (n *Node) state(w http.ResponseWriter, r *http.Request) {
	json.NewEncoder(w).Encode(n.State())
}

// State reads this node's current view through its cache.
func (n *Node) State() NodeState {
	st := NodeState{Index: n.cfg.Index, Rotations: n.auth.Rotations(), CPUSeconds: processCPU()}
	var errs []string
	if k, err := n.auth.Cache.Get(ticket.Current); err != nil {
		errs = append(errs, err.Error())
	} else if k != nil {
		st.Current, st.CurrentMtime = k.Fingerprint(), k.Mtime
	}
	if k, err := n.auth.Cache.Get(ticket.Old); err != nil {
		errs = append(errs, err.Error())
	} else if k != nil {
		st.Old = k.Fingerprint()
	}
	if k, err := n.auth.Cache.Get(ticket.Private); err != nil {
		errs = append(errs, err.Error())
	} else if k != nil {
		st.Signing = pubFingerprint(k)
	}
	st.Error = strings.Join(errs, "; ")
	return st
}

// pubFingerprint is the fingerprint the public file of k's key would have.
func pubFingerprint(k *ticket.Key) string {
	pem, err := ticket.PublicPEM(k.Pub)
	if err != nil {
		return ""
	}
	pk, err := ticket.ParseKey(ticket.Current, pem)
	if err != nil {
		return ""
	}
	return pk.Fingerprint()
}

// reasonClass groups rejections for the log limiter and HeaderReject.
// Verify joins one error per key tried; age comes before signature because
// an age error means a key's signature matched and its range refused the
// ticket, whatever the other key said.
func reasonClass(err error) string {
	for _, c := range []struct {
		err  error
		name string
	}{{ticket.ErrMalformed, "malformed"}, {ticket.ErrAge, RejectAge}, {ticket.ErrSignature, "signature"}, {ticket.ErrNoKey, "no-key"}} {
		if errors.Is(err, c.err) {
			return c.name
		}
	}
	return "key-file"
}

// logLimiter prints each distinct reason at most once per second, so a
// failing node under load logs clearly without flooding.
type logLimiter struct {
	mu   sync.Mutex
	last map[string]time.Time
	n    map[string]int
}

func (l *logLimiter) printf(lg *log.Logger, key, format string, args ...any) {
	l.mu.Lock()
	if l.n == nil {
		l.n = map[string]int{}
	}
	l.n[key]++
	now := time.Now()
	if t, ok := l.last[key]; ok && now.Sub(t) < time.Second {
		l.mu.Unlock()
		return
	}
	count := l.n[key]
	l.n[key] = 0
	l.last[key] = now
	if len(l.last) > 1000 {
		clear(l.last) // reasons carry ages; keep the map bounded
	}
	l.mu.Unlock()
	if count > 1 {
		format += " (" + strconv.Itoa(count) + " times since last line)"
	}
	lg.Printf(format, args...)
}

// mountDir is the mountpoint of node i under a trial directory.
func mountDir(trial string, i int) string {
	return filepath.Join(trial, fmt.Sprintf("node%d", i), "mnt")
}
