package ticket

import (
	"context"
	"crypto/sha256"
	"fmt"
	"os"
	"runtime/pprof"
	"slices"
	"sync"
	"syscall"
	"time"
)

// KeyCache is how a process obtains its keys: one small interface behind
// which the strategies differ. Implementations are safe for concurrent use.
type KeyCache interface {
	// Get returns the key of kind as this process sees it now; (nil, nil)
	// if the file does not exist, an error if it exists but is unusable.
	Get(kind KeyKind) (*Key, error)
	// Revalidate is what the strategy does under the cluster lock before
	// re-checking whether to rotate (rotate_authkey's preamble).
	Revalidate()
}

// Options configure a strategy and describe its environment.
type Options struct {
	// AttrTimeout is the FUSE attr_timeout of the mount the key files are
	// read through (0 on a local file system). It enters the bounds.
	AttrTimeout time.Duration
	// TTL is how long content-ttl trusts its copy (default 1 s).
	TTL time.Duration
	// Now is the clock (default time.Now).
	Now func() time.Time
}

func (o Options) ttl() time.Duration {
	if o.TTL <= 0 {
		return time.Second
	}
	return o.TTL
}

func (o Options) now() time.Time {
	if o.Now == nil {
		return time.Now()
	}
	return o.Now()
}

// Bound is a strategy's declared staleness after one completed rotation,
// for a process reading the keys through a mount with Options.AttrTimeout.
// Nil means unbounded.
type Bound struct {
	// Availability: how long the process may still reject tickets signed
	// with the new current key.
	Availability *time.Duration
	// Security: how long it may still accept tickets signed by a key that
	// is neither current nor old any more.
	Security *time.Duration
	// Assumes states the condition the numbers need.
	Assumes string
}

func dur(d time.Duration) *time.Duration { return &d }

// Spec declares a strategy as data, like impl.Spec for token verifiers.
type Spec struct {
	Name    string
	New     func(Files, Options) KeyCache
	Bound   func(Options) Bound
	Ours    bool
	Summary string
	// ContentRecheck: the rotation re-check under the lock compares the
	// current key's content with the one the decision was based on.
	ContentRecheck bool
}

// strategies lists the key caches in report order; their bounds are
// checked by the conformance suite.
var strategies = []Spec{
	{Name: "uncached", New: newUncached, Summary: "open, fstat, read, parse PEM on every request",
		Bound: func(o Options) Bound {
			// Content is fresh; only the fstat before the read can be
			// cached, which narrows the age range until attr_timeout.
			return Bound{Availability: dur(o.AttrTimeout), Security: dur(0), Assumes: "reads reach the file server (no FUSE keep_cache)"}
		}},
	{Name: "mtime", New: newMtime, Summary: "stat the path; re-read when the mtime (seconds) differs (seed 003)",
		Bound: func(o Options) Bound {
			if o.AttrTimeout > 0 {
				return Bound{Assumes: "stale stat under the lock can double-rotate; same-second keys then never reload (seed 002)"}
			}
			return Bound{Availability: dur(0), Security: dur(0), Assumes: "rotations of one file at least 1 s apart"}
		}},
	{Name: "mtime-reopen", New: newMtimeReopen, Summary: "mtime, plus seed 002's fix: drop the cache and re-read under the lock",
		Bound: func(o Options) Bound {
			return Bound{Availability: dur(o.AttrTimeout), Security: dur(o.AttrTimeout), Assumes: "rotations of one file at least 1 s apart; reads revalidate FUSE attributes"}
		}},
	{Name: "content-ttl", New: newContentTTL, Ours: true, ContentRecheck: true,
		Summary: "re-read at most once per TTL, keyed on SHA-256 of the content; rotation re-check compares content",
		Bound: func(o Options) Bound {
			return Bound{Availability: dur(o.ttl()), Security: dur(o.ttl()), Assumes: "none on mtimes or attribute caches"}
		}},
}

// Strategies returns the strategies in report order.
func Strategies() []Spec { return slices.Clone(strategies) }

// LookupStrategy returns the named strategy.
func LookupStrategy(name string) (Spec, error) {
	for _, s := range strategies {
		if s.Name == name {
			return s, nil
		}
	}
	names := make([]string, len(strategies))
	for i, s := range strategies {
		names[i] = s.Name
	}
	return Spec{}, fmt.Errorf("unknown key-cache strategy %q (have %v)", name, names)
}

// load reads and parses one key file under the pprof label phase=pem so
// profiles split PEM parsing from signature checks and stats.
func load(path string, kind KeyKind, statAfterRead bool) (*Key, error) {
	var (
		k   *Key
		err error
	)
	pprof.Do(context.Background(), pprof.Labels("phase", "pem"), func(context.Context) {
		var data []byte
		var mtime int64
		data, mtime, err = readOpen(path, statAfterRead)
		if err != nil {
			return
		}
		k, err = ParseKey(kind, data)
		if k != nil {
			k.Mtime = mtime
		}
	})
	if os.IsNotExist(err) {
		return nil, nil
	}
	return k, err
}

// statMtime stats path (phase=stat). Missing file: ok false, no error.
func statMtime(path string) (mtime int64, exists bool, err error) {
	pprof.Do(context.Background(), pprof.Labels("phase", "stat"), func(context.Context) {
		var st syscall.Stat_t
		err = syscall.Stat(path, &st)
		if err == nil {
			mtime, exists = st.Mtim.Sec, true
		}
	})
	if err == syscall.ENOENT {
		return 0, false, nil
	}
	if err != nil {
		return 0, false, fmt.Errorf("stat %s: %w", path, err)
	}
	return mtime, exists, nil
}

type uncached struct{ f Files }

func newUncached(f Files, _ Options) KeyCache { return uncached{f} }

func (u uncached) Get(kind KeyKind) (*Key, error) { return load(u.f.Path(kind), kind, false) }
func (u uncached) Revalidate()                    {}

// mtimeCache is $cache_read_key: first use opens, fstats the handle, reads
// and parses; later uses stat the path and re-read on an mtime change.
type mtimeCache struct {
	f Files
	// reopen: under the rotation lock drop the cache and read once (seed
	// 002's fix); without it the re-check trusts stat (seed 003 as merged).
	reopen bool
	mu     sync.Mutex
	keys   map[KeyKind]*Key
}

func newMtime(f Files, _ Options) KeyCache { return &mtimeCache{f: f, keys: map[KeyKind]*Key{}} }
func newMtimeReopen(f Files, _ Options) KeyCache {
	return &mtimeCache{f: f, reopen: true, keys: map[KeyKind]*Key{}}
}

func (c *mtimeCache) Get(kind KeyKind) (*Key, error) {
	path := c.f.Path(kind)
	c.mu.Lock()
	cached := c.keys[kind]
	c.mu.Unlock()
	if cached != nil {
		mtime, exists, err := statMtime(path)
		if err != nil {
			return nil, err
		}
		if exists && mtime == cached.Mtime {
			return cached, nil
		}
	}
	k, err := load(path, kind, false)
	if err != nil {
		// PVE caches a failed parse as an undefined key; failing closed
		// and retrying next time is the same to callers.
		return nil, err
	}
	c.mu.Lock()
	if k == nil {
		delete(c.keys, kind)
	} else {
		c.keys[kind] = k
	}
	c.mu.Unlock()
	return k, nil
}

func (c *mtimeCache) Revalidate() {
	if !c.reopen {
		return
	}
	c.mu.Lock()
	clear(c.keys)
	c.mu.Unlock()
	// get_pubkey(): open, fstat, read, close. The read is what makes FUSE
	// drop the cached attributes here (open/close alone does not, see
	// internal/fusemount's TestStaleStatThroughMount).
	_, _ = c.Get(Current)
}

// contentTTL is ours: keys are re-read (open, read, then fstat the handle,
// which the read has revalidated) at most once per TTL and re-parsed only
// when their SHA-256 changes. Nothing depends on stat answers between
// reads, so neither attribute caches nor whole-second mtimes can hide a
// change for longer than the TTL; the hot path is a clock compare.
type contentTTL struct {
	f   Files
	o   Options
	mu  sync.Mutex
	ent map[KeyKind]*ttlEntry
}

type ttlEntry struct {
	key     *Key
	fetched time.Time
}

func newContentTTL(f Files, o Options) KeyCache {
	return &contentTTL{f: f, o: o, ent: map[KeyKind]*ttlEntry{}}
}

func (c *contentTTL) Get(kind KeyKind) (*Key, error) {
	now := c.o.now()
	c.mu.Lock()
	e := c.ent[kind]
	c.mu.Unlock()
	if e != nil && now.Sub(e.fetched) < c.o.ttl() && now.Sub(e.fetched) >= 0 {
		return e.key, nil
	}
	path := c.f.Path(kind)
	var (
		data  []byte
		mtime int64
		err   error
	)
	pprof.Do(context.Background(), pprof.Labels("phase", "pem"), func(context.Context) {
		data, mtime, err = readOpen(path, true)
	})
	if os.IsNotExist(err) {
		c.mu.Lock()
		c.ent[kind] = &ttlEntry{fetched: now}
		c.mu.Unlock()
		return nil, nil
	}
	if err != nil {
		c.mu.Lock()
		delete(c.ent, kind)
		c.mu.Unlock()
		return nil, err
	}
	sum := sha256.Sum256(data)
	var k *Key
	if e != nil && e.key != nil && e.key.Sum == sum {
		cp := *e.key // same content: keep the parsed key, take the new mtime
		cp.Mtime = mtime
		k = &cp
	} else {
		pprof.Do(context.Background(), pprof.Labels("phase", "pem"), func(context.Context) {
			k, err = ParseKey(kind, data)
		})
		if err != nil {
			c.mu.Lock()
			delete(c.ent, kind)
			c.mu.Unlock()
			return nil, err
		}
		k.Mtime = mtime
	}
	c.mu.Lock()
	c.ent[kind] = &ttlEntry{key: k, fetched: now}
	c.mu.Unlock()
	return k, nil
}

func (c *contentTTL) Revalidate() {
	c.mu.Lock()
	clear(c.ent)
	c.mu.Unlock()
}
