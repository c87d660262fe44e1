package cluster

import (
	"context"
	"fmt"
	"io"
	"net/http"
	"os"
	"sync"
	"time"

	"github.com/authbench/authbench/impl/ticket"
)

// runEvent does the trial's event and then logs in once on every node, so
// the window from t0 on carries only tickets signed after the rotation
// attempts. It returns when the event started (the touch) and false when
// the event failed or ctx ended.
//
// The tickets in use between the event and t0 were signed just before the
// touch. `touch --date yesterday` makes the key expire (mtime + 24 h) at
// the touch itself, and a node that sees the aged mtime computes PVE's age
// range for a key past its lifetime (get_ticket_age_range: min = key age -
// lifetime, strict ">" on whole seconds), which refuses every ticket signed
// in the second of the expiry from the next second on, until the node sees
// the rotation. That is PVE's behaviour, not the harness's (impl/ticket's
// TestAgedKeyRefusesTicketsOfItsExpirySecond pins it); measure.go counts
// that window apart (Trial.BeforeCheck) and by reason (RejectedAge).
func (t *trial) runEvent(ctx context.Context) (time.Time, bool) {
	at := time.Now()
	wait := func() bool { return waitOrDone(ctx, t.checkWait()) }
	var err error
	if t.event == EventSameSecond {
		err = sameSecond(t.gen, t.files, wait)
	} else {
		err = touchAndCheck(ctx, t.hc, t.files, t.nodes, wait, t.logw)
	}
	if err != nil {
		fmt.Fprintf(t.logw, "driver: %s: %v\n", t.event, err)
		return at, false
	}
	for i, c := range t.nodes {
		if tk, err := issue(ctx, t.hc, c.ready.URL); err == nil {
			t.pool.set(i, tk)
		} else {
			fmt.Fprintf(t.logw, "driver: login on node %d after the rotation check: %v\n", i, err)
		}
	}
	return at, true
}

// touchAndCheck is seed 002's reproduction: age the key, wait until every
// mount's cached attributes have expired (the load re-caches the aged
// ones), then every node's rotation attempt at once (tmux synchronized
// panes).
func touchAndCheck(ctx context.Context, hc *http.Client, files ticket.Files, nodes []*child, wait func() bool, logw io.Writer) error {
	y := time.Now().Add(-24 * time.Hour)
	if err := os.Chtimes(files.Path(ticket.Current), y, y); err != nil {
		return fmt.Errorf("touch: %w", err)
	}
	if !wait() {
		return context.Canceled
	}
	var all sync.WaitGroup
	for _, c := range nodes {
		all.Add(1)
		go func() {
			defer all.Done()
			if _, err := post(ctx, hc, c.ready.URL+PathCheck); err != nil {
				fmt.Fprintf(logw, "driver: rotation check on %s: %v\n", c.ready.URL, err)
			}
		}()
	}
	all.Wait()
	return nil
}

// sameSecond rotates, waits for the nodes to load the new key, rotates
// again and stamps the second key set with the first set's mtimes, the
// state seed 002's double rotation leaves behind.
func sameSecond(gen *ticket.Authority, files ticket.Files, wait func() bool) error {
	kinds := []ticket.KeyKind{ticket.Current, ticket.Old, ticket.Private}
	rotate := func() error {
		y := time.Now().Add(-24 * time.Hour)
		if err := os.Chtimes(files.Path(ticket.Current), y, y); err != nil {
			return err
		}
		if ok, err := gen.MaybeRotate(); err != nil || !ok {
			return fmt.Errorf("driver rotation: rotated=%v: %v", ok, err)
		}
		return nil
	}
	if err := rotate(); err != nil {
		return err
	}
	mtimes := map[ticket.KeyKind]time.Time{}
	for _, k := range kinds {
		st, err := os.Stat(files.Path(k))
		if err != nil {
			return err
		}
		mtimes[k] = st.ModTime()
	}
	if !wait() {
		return context.Canceled
	}
	if err := rotate(); err != nil {
		return err
	}
	for _, k := range kinds {
		if err := os.Chtimes(files.Path(k), mtimes[k], mtimes[k]); err != nil {
			return err
		}
	}
	return nil
}
