package cluster

import (
	"context"
	"fmt"
	"io"
	"net/http"
	"os"
	"path/filepath"
	"sync"
	"time"

	"github.com/authbench/authbench/impl/ticket"
	"github.com/authbench/authbench/internal/fusemount"
)

// InitialKeyAge is how old the driver makes a trial's first key set look.
// PVE's keys are rotated a day apart, so a rotation never rewrites a key
// file within the second it was last written. A trial creates its keys
// well under a second before the rotation check when attr_timeout is 0;
// left at their real mtime, the mtime cache could not tell the rotated
// private key from the first one (whole-second mtimes, seed 002's "both
// have the same mtime") and every node kept signing with the old key: the
// lone disagreement of mtime at attr_timeout 0 after one rotation. Half
// the key lifetime keeps the key valid and past the ticket lifetime, as
// on a cluster that has run for a while.
const InitialKeyAge = ticket.KeyLifetime / 2

// trial is one trial's environment: its directory, keys and nodes.
type trial struct {
	cfg             Config
	event, strategy string
	attr            time.Duration
	dir             string
	files           ticket.Files
	lock            string
	gen             *ticket.Authority // the driver's own key writer
	logw            io.Writer
	nodes           []*child
	hc              *http.Client
	pool            *pool
	closers         []func() // run in reverse order by close
}

// setupTrial creates the trial directory and its aged first key set,
// starts the node processes (each with its FUSE mount) and takes a first
// ticket from each. close must be called even when it fails.
func setupTrial(ctx context.Context, cfg Config, event, strategy string, attrMs int64, n int) (*trial, error) {
	t := &trial{cfg: cfg, event: event, strategy: strategy, attr: time.Duration(attrMs) * time.Millisecond,
		dir: filepath.Join(cfg.WorkDir, fmt.Sprintf("%s-%s-attr%d-t%d", event, strategy, attrMs, n)),
		hc:  &http.Client{Timeout: 30 * time.Second}}
	backing := filepath.Join(t.dir, "backing")
	if err := os.MkdirAll(backing, 0o755); err != nil {
		return t, err
	}
	logf, err := os.Create(filepath.Join(t.dir, "nodes.log"))
	if err != nil {
		return t, err
	}
	t.closers = append(t.closers, func() { logf.Close() })
	t.logw = &syncWriter{w: logf}

	t.lock = filepath.Join(backing, "authkey.lock")
	t.files = ticket.Files{Dir: backing}
	if t.gen, err = ticket.NewAuthority(t.files, t.lock, "uncached", ticket.Options{}); err != nil {
		return t, err
	}
	t.gen.KeyBits = cfg.KeyBits
	// The trial's private keys go once its nodes are down (registered
	// first, so it runs last); nodes.log stays for inspection.
	t.closers = append(t.closers, func() { os.RemoveAll(backing) })
	if err := initialKeys(t.gen, t.files, time.Now()); err != nil {
		return t, err
	}
	t.closers = append(t.closers, t.stopNodes)
	for i := range cfg.Nodes {
		c, err := startNode(ctx, cfg, NodeConfig{Index: i, Backing: backing, Mount: mountDir(t.dir, i), Lock: t.lock,
			Strategy: strategy, AttrTimeout: t.attr, TTL: time.Duration(cfg.TTLMs) * time.Millisecond, KeyBits: cfg.KeyBits}, t.logw)
		if err != nil {
			return t, err
		}
		t.nodes = append(t.nodes, c)
	}
	t.pool = &pool{tickets: make([]string, len(t.nodes)), seq: make([]int, len(t.nodes))}
	for i, c := range t.nodes {
		tk, err := issue(ctx, t.hc, c.ready.URL)
		if err != nil {
			return t, fmt.Errorf("node %d: first ticket: %w", i, err)
		}
		t.pool.set(i, tk)
	}
	return t, nil
}

// initialKeys writes the first key set and dates it InitialKeyAge before
// now (see InitialKeyAge for why).
func initialKeys(gen *ticket.Authority, files ticket.Files, now time.Time) error {
	if _, err := gen.MaybeRotate(); err != nil {
		return fmt.Errorf("initial key: %w", err)
	}
	at := now.Add(-InitialKeyAge)
	for _, k := range []ticket.KeyKind{ticket.Current, ticket.Private} {
		if err := os.Chtimes(files.Path(k), at, at); err != nil {
			return fmt.Errorf("initial key: date %s: %w", k, err)
		}
	}
	return nil
}

// stopNodes stops every node at once and detaches any mount they left.
func (t *trial) stopNodes() {
	var wg sync.WaitGroup
	for _, c := range t.nodes {
		wg.Add(1)
		go func() { defer wg.Done(); c.stop() }()
	}
	wg.Wait()
	if cleaned, err := fusemount.CleanStale(t.dir); err != nil || len(cleaned) > 0 {
		fmt.Fprintf(t.logw, "driver: detached leftover mounts %v %v\n", cleaned, err)
	}
}

// close undoes setup in reverse order: nodes, private keys, log.
func (t *trial) close() {
	for i := len(t.closers) - 1; i >= 0; i-- {
		t.closers[i]()
	}
}

// cpuSeconds sums the nodes' CPU time so far (nodes that do not answer
// count 0).
func (t *trial) cpuSeconds(ctx context.Context) float64 {
	sum := 0.0
	for _, c := range t.nodes {
		if st, err := state(ctx, t.hc, c.ready.URL); err == nil {
			sum += st.CPUSeconds
		}
	}
	return sum
}
