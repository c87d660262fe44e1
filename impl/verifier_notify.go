package impl

import (
	"errors"
	"fmt"
	"log/slog"
	"path/filepath"
	"sync"
	"sync/atomic"

	"github.com/fsnotify/fsnotify"
)

// shadowWatch watches token.shadow's directory with inotify and calls
// onChange for every event on the file. The directory, not the file, is
// watched because writers replace the file by rename (a watch on the old
// inode would go quiet). Events do not arrive on every file system (FUSE,
// NFS, pmxcfs for another node's writes), so the watch only speeds up
// what the TTL check guarantees; when it degrades (queue overflow, the
// directory removed, no watch possible) it says so once and the TTL
// remains.
type shadowWatch struct {
	w        *fsnotify.Watcher
	dir      string
	name     string
	onChange func()
	log      *slog.Logger
	degraded atomic.Bool
	events   atomic.Uint64 // events on the shadow, for tests and benchmarks
	done     chan struct{}
	close    sync.Once
}

// startWatch never fails the verifier: without a watch it logs why and
// returns a degraded watch (nil watcher) so the TTL check carries on.
func startWatch(path string, onChange func(), log *slog.Logger) *shadowWatch {
	sw := &shadowWatch{dir: filepath.Dir(path), name: filepath.Base(path), onChange: onChange, log: log, done: make(chan struct{})}
	w, err := fsnotify.NewWatcher()
	if err == nil {
		if err = w.Add(sw.dir); err != nil {
			w.Close()
		}
	}
	if err != nil {
		// EMFILE / ENOSPC here mean the inotify instance or watch limits
		// (fs.inotify.max_user_instances, max_user_watches) are exhausted.
		sw.degrade("inotify watch unavailable", err)
		close(sw.done)
		return sw
	}
	sw.w = w
	go sw.run()
	return sw
}

func (sw *shadowWatch) degrade(why string, err error) {
	if sw.degraded.CompareAndSwap(false, true) {
		sw.log.Warn(why+"; falling back to the TTL stat alone", "dir", sw.dir, "err", err)
	}
}

func (sw *shadowWatch) run() {
	defer close(sw.done)
	for {
		select {
		case ev, ok := <-sw.w.Events:
			if !ok {
				return
			}
			switch {
			case filepath.Base(ev.Name) == sw.name && filepath.Dir(ev.Name) == sw.dir:
				sw.events.Add(1)
				sw.onChange()
			case ev.Name == sw.dir && ev.Has(fsnotify.Remove|fsnotify.Rename):
				// The watch died with the directory; a recreated one
				// is not watched.
				sw.onChange()
				sw.degrade("watched directory removed or renamed", fmt.Errorf("%s: %s", ev.Name, ev.Op))
			}
		case err, ok := <-sw.w.Errors:
			if !ok {
				return
			}
			// Events were lost: whatever they were, check the file.
			sw.onChange()
			if errors.Is(err, fsnotify.ErrEventOverflow) {
				sw.degrade("inotify event queue overflowed", err)
			} else {
				sw.degrade("inotify watch error", err)
			}
		}
	}
}

// Close stops the watch and waits for its goroutine.
func (sw *shadowWatch) Close() error {
	var err error
	sw.close.Do(func() {
		if sw.w != nil {
			err = sw.w.Close()
		}
		<-sw.done
	})
	return err
}

// watchedCore is a snapCore whose ticks are also bumped by a watch.
type watchedCore struct {
	*snapCore
	watch *shadowWatch
}

func newWatchedCore(name string, cfg Config, bound Bound) (*watchedCore, error) {
	c, err := newSnapCore(name, cfg, bound)
	if err != nil {
		return nil, err
	}
	return &watchedCore{snapCore: c, watch: startWatch(cfg.Store.Path(), c.tick, c.log)}, nil
}

// Close stops the watch and the TTL timer.
func (w *watchedCore) Close() error {
	return errors.Join(w.watch.Close(), w.snapCore.Close())
}

// newNotify builds the snapshot verifier with change detection by inotify
// events: an event on token.shadow bumps the tick counter the hit path
// already compares, so the next request re-checks the file's metadata (a
// flag check on the hit path, never a stat). The TTL check stays as the
// safety net where events do not arrive.
//
// Staleness: API mutations at the next request. Manual edits and
// mtime-restoring rewrites: declared TTL (the guarantee that holds on
// every file system); on a local file system the event latency, which is
// a measurement (BenchmarkNotifyEventLatency), not a bound.
func newNotify(cfg Config) (Verifier, error) {
	return newWatchedCore("notify", cfg, notifyBound(cfg))
}

func notifyBound(cfg Config) Bound { return ttlCtimeBound(cfg) }
