package impl

import (
	"context"
	"crypto/subtle"
	"errors"
	"fmt"
	"io/fs"
	"log/slog"
	"os"
	"runtime/pprof"
	"sync"
	"sync/atomic"
	"time"
	"unsafe"

	"github.com/authbench/authbench/impl/cryptpw"
)

// snapState is one immutable view of the cache: the generation and file
// metadata it was checked against, when, and the verified secrets. Readers
// load it through one atomic pointer and never lock. Only the secret set
// changes after publication, and only by inserts into recent, which is a
// sync.Map (lock-free reads); everything else is replaced, not mutated.
type snapState struct {
	gen     uint64
	version uint64 // bumped by every reset; keys the negative cache and flights
	tick    uint64 // snapCore.ticks when checked: TTL timer and watch events bump it
	hasMeta bool   // meta was taken after the entries were last vouched for
	meta    FileMeta
	checked time.Time // clock time of the check (compared only with an injected clock)
	// Secrets: frozen is a plain map rebuilt by writers; recent takes
	// inserts between rebuilds so warming n tokens costs O(n) in total,
	// not one map copy per insert. A "" value in recent is a tombstone.
	frozen  map[string]string
	recent  *sync.Map
	recentN *atomic.Int64
}

func (s *snapState) lookup(id string) (string, bool) {
	if s.recentN.Load() > 0 {
		if v, ok := s.recent.Load(id); ok {
			str := v.(string)
			return str, str != ""
		}
	}
	v, ok := s.frozen[id]
	return v, ok
}

func emptySnap(gen, version uint64) *snapState {
	return &snapState{gen: gen, version: version, frozen: map[string]string{}, recent: new(sync.Map), recentN: new(atomic.Int64)}
}

// rebuilt returns a copy of s with recent merged into frozen.
func (s *snapState) rebuilt() *snapState {
	next := *s
	next.frozen = make(map[string]string, len(s.frozen)+int(s.recentN.Load()))
	for k, v := range s.frozen {
		next.frozen[k] = v
	}
	s.recent.Range(func(k, v any) bool {
		if v.(string) == "" {
			delete(next.frozen, k.(string))
		} else {
			next.frozen[k.(string)] = v.(string)
		}
		return true
	})
	next.recent, next.recentN = new(sync.Map), new(atomic.Int64)
	return &next
}

// shardedCounter spreads a hot counter over cache lines so that parallel
// hits do not bounce one line between cores. The shard comes from the
// calling goroutine's stack address: free to compute, stable for a
// goroutine (a server's connection goroutines each keep theirs), and
// different for goroutines running at once (their stacks are distinct
// allocations). Any shard is correct; the choice only spreads the writes.
type shardedCounter struct{ shards [16]paddedCounter }

func (c *shardedCounter) add() {
	var probe byte
	a := uint64(uintptr(unsafe.Pointer(&probe))) >> 12
	c.shards[(a*0x9e3779b97f4a7c15)>>60].Add(1)
}
func (c *shardedCounter) load() uint64 {
	var n uint64
	for i := range c.shards {
		n += c.shards[i].Load()
	}
	return n
}

// snapCore is the lock-free cache the snapshot, notify and fresh verifiers
// share. Change detection is ttl-ctime's: generation on every request,
// (mtime, ctime, inode, length) once per TTL or per watch event, strict
// handling of unseen foreign bumps. The hit path reads no clock and no
// file: a timer (and, for notify, inotify) bumps ticks, and a snapshot
// whose tick is behind is re-checked by the next request.
type snapCore struct {
	base
	_     [64]byte
	cur   atomic.Pointer[snapState]
	ticks paddedCounter
	hits  shardedCounter

	mu    sync.Mutex // writers only: refresh, insert, mutation; never a hit
	timer *time.Timer
	ttl   time.Duration
	clock func() time.Time
	// injected is set when Config.Clock is: tests advance a fake clock, so
	// the hit path compares it too (a real timer would not fire).
	injected bool
	log      *slog.Logger
	broken   atomic.Bool // last check found no regular file; logged once per episode

	digests *keyedDigest // nil: cache plaintext secrets
	neg     *negCache    // nil: no negative cache
	flight  *flightGroup // nil: every slow path hashes
}

func newSnapCore(name string, cfg Config, bound Bound) (*snapCore, error) {
	if cfg.TTL < 0 {
		return nil, errors.New("negative TTL")
	}
	c := &snapCore{
		base:     base{name: name, store: cfg.Store, bound: bound},
		ttl:      cfg.ttl(),
		clock:    cfg.now,
		injected: cfg.Clock != nil,
		log:      cfg.logger().With("verifier", name, "shadow", cfg.Store.Path()),
	}
	c.cur.Store(emptySnap(cfg.Store.gen.Load(), 1))
	c.timer = time.AfterFunc(c.ttl, c.tick)
	return c, nil
}

// tick invalidates the current snapshot's check: the next request stats.
func (c *snapCore) tick() { c.ticks.Add(1) }

func (c *snapCore) Stats() Stats {
	s := c.n.snapshot()
	s.Fast = c.hits.load()
	return s
}

func (c *snapCore) valid(s *snapState) bool {
	return s.hasMeta && s.gen == c.store.gen.Load() && s.tick == c.ticks.Load() &&
		(!c.injected || c.clock().Sub(s.checked) < c.ttl)
}

func (c *snapCore) stored(id, secret string) string {
	if c.digests == nil {
		return secret
	}
	d := c.digests.sumSecret(secret)
	return string(d[:])
}

func (c *snapCore) matches(s *snapState, id, secret string) bool {
	cached, ok := s.lookup(id)
	if !ok {
		return false
	}
	if c.digests != nil {
		d := c.digests.sumSecret(secret)
		return len(cached) == len(d) && subtle.ConstantTimeCompare([]byte(cached), d[:]) == 1
	}
	return len(cached) == len(secret) && subtle.ConstantTimeCompare([]byte(cached), []byte(secret)) == 1
}

func (c *snapCore) Verify(ctx context.Context, id, secret string) (Outcome, error) {
	if s := c.cur.Load(); c.valid(s) && c.matches(s, id, secret) {
		c.hits.add()
		return OutcomeFast, nil
	}
	return c.miss(ctx, id, secret)
}

func (c *snapCore) miss(ctx context.Context, id, secret string) (Outcome, error) {
	s, err := c.refresh()
	if err != nil {
		c.n.rejected.Add(1)
		return OutcomeSlow, fmt.Errorf("%w: %w", ErrRejected, err)
	}
	if c.matches(s, id, secret) { // the refresh found the file unchanged
		c.hits.add()
		return OutcomeFast, nil
	}
	var d digest
	if c.digests != nil {
		d = c.digests.sum(id, secret)
	}
	if c.neg != nil && c.neg.has(s.version, d, c.clock()) {
		c.n.negative.Add(1)
		c.n.rejected.Add(1)
		return OutcomeFast, fmt.Errorf("%w: failed recently", ErrRejected)
	}
	genBefore := c.store.gen.Load()
	hash := func() verdict {
		c.n.slow.Add(1)
		var v verdict
		pprof.Do(ctx, pprof.Labels("outcome", OutcomeSlow.String()), func(context.Context) {
			v = c.check(id, secret)
		})
		return v
	}
	var v verdict
	if c.flight != nil {
		ran := false // singleflight reports shared to the leader too
		v = c.flight.do(flightKey(s.version, genBefore, d), func() verdict { ran = true; return hash() })
		if !ran {
			c.n.shared.Add(1)
		}
	} else {
		v = hash()
	}
	if v.err != nil {
		c.n.rejected.Add(1)
		if c.neg != nil && v.definitive && c.unchangedSince(s, genBefore) {
			c.neg.add(s.version, d, c.clock())
		}
		return OutcomeSlow, v.err
	}
	c.insert(s.version, genBefore, id, c.stored(id, secret))
	return OutcomeSlow, nil
}

// unchangedSince reports whether the file is still the one snapshot s was
// checked against. A negative entry is remembered only then: a read torn
// by an in-place edit (truncate, then write) must not outlive the moment
// the next read would see the whole file, and a change the watch has not
// announced yet must not be frozen into a rejection.
func (c *snapCore) unchangedSince(s *snapState, genBefore uint64) bool {
	if c.store.gen.Load() != genBefore {
		return false
	}
	c.n.stat.Add(1)
	meta, err := c.store.Stat()
	// An empty file is what an in-place rewrite shows between truncate
	// and write; its "unknown token" is not worth remembering.
	return err == nil && s.hasMeta && sameFile(meta, s.meta) && !(meta.Exists && meta.Size == 0)
}

// check is base.slowVerify that also says whether a rejection is about the
// file's content (cacheable by a negative cache) or about reading it.
func (c *snapCore) check(id, secret string) verdict {
	if err := ValidateTokenID(id); err != nil {
		return verdict{fmt.Errorf("%w: %w", ErrRejected, err), true}
	}
	data, err := c.store.Read()
	if err != nil {
		return verdict{fmt.Errorf("%w: %w", ErrRejected, err), false}
	}
	h, ok := data[id]
	if !ok {
		return verdict{fmt.Errorf("%w: unknown token", ErrRejected), true}
	}
	if err := cryptpw.Verify(secret, h); err != nil {
		return verdict{fmt.Errorf("%w: %w", ErrRejected, err), true}
	}
	return verdict{}
}

// insert adds a verified secret unless the view it was verified in is gone
// (PBS's gen_before rule, plus our own resets).
func (c *snapCore) insert(version, genBefore uint64, id, stored string) {
	c.mu.Lock()
	defer c.mu.Unlock()
	s := c.cur.Load()
	if s.version != version || s.gen != genBefore || c.store.gen.Load() != genBefore {
		return
	}
	s.recent.Store(id, stored)
	// Merge once recent outgrows half of frozen: geometric, so O(n) total.
	if n := s.recentN.Add(1); n > int64(len(s.frozen)/2) {
		c.cur.Store(s.rebuilt())
	}
}

// refresh returns a valid snapshot, re-checking generation and file
// metadata under the writer lock if the current one is not.
func (c *snapCore) refresh() (*snapState, error) {
	if s := c.cur.Load(); c.valid(s) {
		return s, nil
	}
	c.mu.Lock()
	defer c.mu.Unlock()
	s := c.cur.Load()
	if c.valid(s) {
		return s, nil
	}
	// Load tick and generation before the stat: an event or bump that
	// lands during it leaves the snapshot behind, so the next request
	// checks again.
	tick := c.ticks.Load()
	gen := c.store.gen.Load()
	meta, err := c.statShadow()
	if err != nil {
		c.reset(s, gen, false)
		return nil, err
	}
	next := s
	if s.gen != gen || !s.hasMeta || !sameFile(s.meta, meta) {
		if s.hasMeta && s.gen == gen {
			// A change nobody announced: drop our cache and bump the
			// generation so other processes drop theirs (PBS's mtime stage).
			gen = c.store.gen.Bump()
		}
		next = c.reset(s, gen, s.hasMeta || s.gen != gen)
	} else if s.recentN.Load() > 0 {
		next = s.rebuilt() // once per TTL: move stragglers into frozen
	}
	return c.publishChecked(next, tick, meta), nil
}

// reset publishes an empty snapshot at gen; caller holds mu.
func (c *snapCore) reset(s *snapState, gen uint64, count bool) *snapState {
	if count {
		c.n.resets.Add(1)
	}
	next := emptySnap(gen, s.version+1)
	c.cur.Store(next)
	return next
}

// publishChecked stamps s (a copy) with a completed metadata check and
// re-arms the TTL timer; caller holds mu.
func (c *snapCore) publishChecked(s *snapState, tick uint64, meta FileMeta) *snapState {
	next := *s
	next.hasMeta, next.meta, next.tick, next.checked = true, meta, tick, c.clock()
	c.cur.Store(&next)
	c.timer.Reset(c.ttl)
	return &next
}

// sameFile is ttl-ctime's change test: (mtime, ctime, inode, length).
func sameFile(a, b FileMeta) bool {
	return sameMtimeLen(a, b) && a.CtimeNS == b.CtimeNS && a.Inode == b.Inode
}

// statShadow is Store.Stat plus a refusal of anything but a regular file
// (a directory or a symlink put in place of token.shadow): the verifier
// fails closed and logs once per episode instead of following it.
func (c *snapCore) statShadow() (FileMeta, error) {
	c.n.stat.Add(1)
	meta, err := c.store.Stat()
	if err != nil {
		c.degrade("cannot stat token.shadow; rejecting every token until it can", err)
		return meta, err
	}
	if meta.Exists {
		fi, lerr := os.Lstat(c.store.Path())
		if lerr == nil && !fi.Mode().IsRegular() {
			err = fmt.Errorf("%s is not a regular file (%s)", c.store.Path(), fi.Mode().Type())
		} else if lerr != nil && !errors.Is(lerr, fs.ErrNotExist) {
			err = fmt.Errorf("lstat %s: %w", c.store.Path(), lerr)
		}
		if err != nil {
			c.degrade("token.shadow is not a regular file; rejecting every token until it is", err)
			return meta, err
		}
	}
	if c.broken.CompareAndSwap(true, false) {
		c.log.Info("token.shadow usable again")
	}
	return meta, nil
}

func (c *snapCore) degrade(msg string, err error) {
	if c.broken.CompareAndSwap(false, true) {
		c.log.Warn(msg, "err", err)
	}
}

// ApplyMutation is apply_api_mutation over snapshots, with ttl-ctime's
// strictness: any sign of a change we did not see (a foreign bump in
// between, metadata that differs from our view before the write, or no
// view at all) drops every cached secret but this mutation's.
func (c *snapCore) ApplyMutation(m Mutation) {
	c.mu.Lock()
	defer c.mu.Unlock()
	s := c.cur.Load()
	tick := c.ticks.Load()
	current := c.store.gen.Load()
	if m.Bumped != current {
		c.reset(s, current, true)
		return
	}
	pre := m.Pre
	if m.PreErr != nil {
		pre = FileMeta{}
	}
	next := s
	if (s.gen != m.Bumped && s.gen+1 != m.Bumped) || !s.hasMeta || !sameFile(s.meta, pre) {
		next = c.reset(s, current, s.hasMeta)
	}
	stored := "" // tombstone
	if m.Secret != nil {
		stored = c.stored(m.ID, *m.Secret)
	}
	next.recent.Store(m.ID, stored)
	next.recentN.Add(1)
	meta, err := c.statShadow()
	if err != nil {
		c.reset(next, current, true)
		return
	}
	next = &snapState{gen: current, version: next.version, frozen: next.frozen, recent: next.recent, recentN: next.recentN}
	c.publishChecked(next, tick, meta)
}

// Close stops the TTL timer.
func (c *snapCore) Close() error {
	c.timer.Stop()
	return nil
}

// newSnapshot is authbench's lock-free ttl-ctime: readers load one atomic
// pointer to an immutable snapshot and compare the generation and a tick
// counter; writers (slow-path inserts, API mutations, the once-per-TTL
// metadata check) serialise on a mutex no reader takes. No try-lock, so no
// fallbacks by construction. Plaintext secrets, like the PBS stages.
//
// Staleness: as ttl-ctime. API mutations at the next request; manual edits
// and mtime-restoring rewrites within the TTL.
func newSnapshot(cfg Config) (Verifier, error) {
	return newSnapCore("snapshot", cfg, snapshotBound(cfg))
}

func snapshotBound(cfg Config) Bound { return ttlCtimeBound(cfg) }
