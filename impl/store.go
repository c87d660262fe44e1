package impl

import (
	"context"
	"crypto/rand"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"runtime"
	"sort"
	"strings"
	"sync"
	"sync/atomic"
	"syscall"
	"time"

	"golang.org/x/sync/errgroup"
	"golang.org/x/sys/unix"

	"github.com/authbench/authbench/impl/cryptpw"
)

// FileMeta is what the mtime and ttl stages compare: modification time and
// length, or "absent". PBS compares (Option<SystemTime>, Option<u64>).
type FileMeta struct {
	Exists  bool
	MtimeNS int64
	Size    int64
	// CtimeNS and Inode are not compared by the PBS stages; the ttl-ctime
	// verifier uses them because neither can be set back from user space
	// (cp -p and touch restore mtime, never ctime).
	CtimeNS int64
	Inode   uint64
}

// sameMtimeLen is PBS's change test: (mtime, len) equal.
func sameMtimeLen(a, b FileMeta) bool {
	return a.Exists == b.Exists && a.MtimeNS == b.MtimeNS && a.Size == b.Size
}

// StatFilter lets a scenario change what stat(2) reports, to emulate file
// systems with coarse timestamps or cached attributes (FUSE attr_timeout).
type StatFilter func(real FileMeta, err error) (FileMeta, error)

// StoreOptions configure a Store. Zero values are PBS's defaults.
type StoreOptions struct {
	Scheme cryptpw.Scheme // hash scheme for new secrets (default sha256)
	Cost   int            // scheme cost; 0 = scheme default
	// GenerationPath is the shared counter file (default PATH.gen).
	GenerationPath string
	// LockTimeout bounds the wait for token.shadow.lock (default 10 s).
	LockTimeout time.Duration
}

// Store owns one token.shadow: its lock, its shared generation and the API
// mutations. It is safe for concurrent use; mutations from several
// goroutines or processes serialise on the flock.
type Store struct {
	path     string
	lockPath string
	gen      *Generation
	opts     StoreOptions

	statFilter atomic.Pointer[StatFilter]

	obsMu     sync.Mutex
	observers []MutationObserver
}

// OpenStore prepares a store for path. The shadow file itself need not
// exist yet (it reads as empty, as in PBS).
func OpenStore(path string, opts StoreOptions) (*Store, error) {
	if opts.Scheme == "" {
		opts.Scheme = cryptpw.SHA256
	}
	if opts.LockTimeout == 0 {
		opts.LockTimeout = 10 * time.Second
	}
	if opts.GenerationPath == "" {
		opts.GenerationPath = path + ".gen"
	}
	gen, err := OpenGeneration(opts.GenerationPath)
	if err != nil {
		return nil, fmt.Errorf("open store %s: %w", path, err)
	}
	return &Store{path: path, lockPath: path + ".lock", gen: gen, opts: opts}, nil
}

// Close releases the shared generation mapping.
func (s *Store) Close() error { return s.gen.Close() }

// Path is the token.shadow path.
func (s *Store) Path() string { return s.path }

// Generation is the shared counter.
func (s *Store) Generation() *Generation { return s.gen }

// Scheme reports the hash scheme and cost used for new secrets.
func (s *Store) Scheme() (cryptpw.Scheme, int) { return s.opts.Scheme, s.opts.Cost }

// SetStatFilter installs f (nil removes it) for every later Stat.
func (s *Store) SetStatFilter(f StatFilter) {
	if f == nil {
		s.statFilter.Store(nil)
		return
	}
	s.statFilter.Store(&f)
}

// Observe subscribes o to API mutations made through this store.
func (s *Store) Observe(o MutationObserver) {
	s.obsMu.Lock()
	s.observers = append(s.observers, o)
	s.obsMu.Unlock()
}

// Read reads and parses the shadow file (the slow path's first half).
func (s *Store) Read() (map[string]string, error) { return ReadShadow(s.path) }

// Stat returns the file's metadata; a missing file is FileMeta{} with no
// error, like PBS's shadow_mtime_len.
func (s *Store) Stat() (FileMeta, error) {
	var st unix.Stat_t
	err := unix.Stat(s.path, &st)
	var meta FileMeta
	switch {
	case err == nil:
		meta = FileMeta{Exists: true, MtimeNS: st.Mtim.Nano(), Size: st.Size, CtimeNS: st.Ctim.Nano(), Inode: st.Ino}
	case errors.Is(err, syscall.ENOENT):
		err = nil
	default:
		err = fmt.Errorf("stat %s: %w", s.path, err)
	}
	if f := s.statFilter.Load(); f != nil {
		return (*f)(meta, err)
	}
	return meta, err
}

// Mutation is one API change, handed to observers while the lock is held.
type Mutation struct {
	ID     string
	Secret *string  // new secret, nil for a delete
	Pre    FileMeta // file metadata before the write
	PreErr error    // stat failed before the write (PBS then uses (None, None))
	Bumped uint64   // the generation this mutation produced
}

// ErrTokenExists and ErrNoToken report API misuse.
var (
	ErrTokenExists = errors.New("token already exists")
	ErrNoToken     = errors.New("no such token")
)

// Add creates id with a fresh secret and returns the secret (once).
func (s *Store) Add(ctx context.Context, id string) (string, error) {
	return s.setNew(ctx, id, func(exists bool) error {
		if exists {
			return fmt.Errorf("add %s: %w", id, ErrTokenExists)
		}
		return nil
	})
}

// Rotate replaces the secret of an existing id and returns the new one.
func (s *Store) Rotate(ctx context.Context, id string) (string, error) {
	return s.setNew(ctx, id, func(exists bool) error {
		if !exists {
			return fmt.Errorf("rotate %s: %w", id, ErrNoToken)
		}
		return nil
	})
}

func (s *Store) setNew(ctx context.Context, id string, check func(exists bool) error) (string, error) {
	secret, err := NewSecret()
	if err != nil {
		return "", err
	}
	if err := s.mutate(ctx, id, &secret, check); err != nil {
		return "", err
	}
	return secret, nil
}

// Set stores secret for id, creating or replacing it (PBS set_secret).
func (s *Store) Set(ctx context.Context, id, secret string) error {
	return s.mutate(ctx, id, &secret, func(bool) error { return nil })
}

// Delete removes id (PBS delete_secret). Deleting a missing id is an error.
func (s *Store) Delete(ctx context.Context, id string) error {
	return s.mutate(ctx, id, nil, func(exists bool) error {
		if !exists {
			return fmt.Errorf("delete %s: %w", id, ErrNoToken)
		}
		return nil
	})
}

// AddBatch creates every id in ids with a fresh secret in one locked
// write and one generation bump, hashing in parallel before taking the
// lock. It returns the secrets in the order of ids. None of ids may exist.
func (s *Store) AddBatch(ctx context.Context, ids []string) ([]string, error) {
	secrets := make([]string, len(ids))
	hashes := make([]string, len(ids))
	seen := make(map[string]bool, len(ids))
	for i, id := range ids {
		if err := ValidateTokenID(id); err != nil {
			return nil, err
		}
		if seen[id] {
			return nil, fmt.Errorf("add %s: listed twice", id)
		}
		seen[id] = true
		sec, err := NewSecret()
		if err != nil {
			return nil, err
		}
		secrets[i] = sec
	}
	g, gctx := errgroup.WithContext(ctx)
	g.SetLimit(runtime.GOMAXPROCS(0))
	for i := range ids {
		g.Go(func() error {
			if err := gctx.Err(); err != nil {
				return err
			}
			h, err := cryptpw.Hash(s.opts.Scheme, s.opts.Cost, secrets[i])
			hashes[i] = h
			return err
		})
	}
	if err := g.Wait(); err != nil {
		return nil, fmt.Errorf("hash new secrets: %w", err)
	}
	unlock, err := s.lock(ctx)
	if err != nil {
		return nil, err
	}
	defer unlock()
	pre, preErr := s.Stat()
	data, err := s.Read()
	if err != nil {
		return nil, fmt.Errorf("update %s: %w", s.path, err)
	}
	for i, id := range ids {
		if _, ok := data[id]; ok {
			return nil, fmt.Errorf("add %s: %w", id, ErrTokenExists)
		}
		data[id] = hashes[i]
	}
	if err := s.write(data); err != nil {
		return nil, err
	}
	bumped := s.gen.Bump()
	for i, id := range ids {
		// Only the first notification carries the pre-write metadata: the
		// later ones follow our own write.
		m := Mutation{ID: id, Secret: &secrets[i], Pre: pre, PreErr: preErr, Bumped: bumped}
		s.notify(m)
		if i == 0 {
			pre, preErr = s.Stat()
		}
	}
	return secrets, nil
}

func (s *Store) write(data map[string]string) error {
	enc, err := EncodeShadow(data)
	if err != nil {
		return err
	}
	return replaceFile(s.path, enc, 0o640)
}

func (s *Store) notify(m Mutation) {
	s.obsMu.Lock()
	obs := append([]MutationObserver(nil), s.observers...)
	s.obsMu.Unlock()
	for _, o := range obs {
		o.ApplyMutation(m)
	}
}

// Seed replaces the whole file with entries (id -> crypt hash) under the
// lock and bumps the generation: a bulk write for setting up large token
// sets, where one mutation per token would rewrite the file n times.
func (s *Store) Seed(ctx context.Context, entries map[string]string) error {
	for id, h := range entries {
		if err := ValidateTokenID(id); err != nil {
			return err
		}
		if _, err := cryptpw.Parse(h); err != nil {
			return fmt.Errorf("seed %s: %w", id, err)
		}
	}
	unlock, err := s.lock(ctx)
	if err != nil {
		return err
	}
	defer unlock()
	if err := s.write(entries); err != nil {
		return err
	}
	s.gen.Bump()
	return nil
}

// List returns the token ids in the file, sorted.
func (s *Store) List() ([]string, error) {
	m, err := s.Read()
	if err != nil {
		return nil, err
	}
	ids := make([]string, 0, len(m))
	for id := range m {
		ids = append(ids, id)
	}
	sort.Strings(ids)
	return ids, nil
}

// mutate is PBS's set_secret/delete_secret: lock, snapshot metadata, read,
// change, write atomically, bump the generation, update local caches.
func (s *Store) mutate(ctx context.Context, id string, secret *string, check func(exists bool) error) error {
	if err := ValidateTokenID(id); err != nil {
		return err
	}
	var hash string
	if secret != nil {
		if *secret == "" {
			return errors.New("empty secret")
		}
		// Hash before taking the lock: it is the slow part and needs no lock.
		h, err := cryptpw.Hash(s.opts.Scheme, s.opts.Cost, *secret)
		if err != nil {
			return fmt.Errorf("hash secret for %s: %w", id, err)
		}
		hash = h
	}
	unlock, err := s.lock(ctx)
	if err != nil {
		return err
	}
	defer unlock()

	pre, preErr := s.Stat()
	data, err := s.Read()
	if err != nil {
		return fmt.Errorf("update %s: %w", s.path, err)
	}
	_, exists := data[id]
	if err := check(exists); err != nil {
		return err
	}
	if secret != nil {
		data[id] = hash
	} else {
		delete(data, id)
	}
	if err := s.write(data); err != nil {
		return err
	}
	s.notify(Mutation{ID: id, Secret: secret, Pre: pre, PreErr: preErr, Bumped: s.gen.Bump()})
	return nil
}

// lock takes the exclusive flock on token.shadow.lock, polling so that the
// wait honours ctx and the timeout. flock is released by the kernel when its
// holder dies, so a crashed writer never blocks the next one.
func (s *Store) lock(ctx context.Context) (func(), error) {
	f, err := os.OpenFile(s.lockPath, os.O_RDWR|os.O_CREATE, 0o600)
	if err != nil {
		return nil, fmt.Errorf("open lock %s: %w", s.lockPath, err)
	}
	deadline := time.Now().Add(s.opts.LockTimeout)
	wait := 100 * time.Microsecond
	for {
		err := unix.Flock(int(f.Fd()), unix.LOCK_EX|unix.LOCK_NB)
		if err == nil {
			break
		}
		if !errors.Is(err, unix.EWOULDBLOCK) && !errors.Is(err, unix.EINTR) {
			f.Close()
			return nil, fmt.Errorf("lock %s: %w", s.lockPath, err)
		}
		if time.Now().After(deadline) {
			f.Close()
			return nil, fmt.Errorf("lock %s: timed out after %s", s.lockPath, s.opts.LockTimeout)
		}
		select {
		case <-ctx.Done():
			f.Close()
			return nil, fmt.Errorf("lock %s: %w", s.lockPath, ctx.Err())
		case <-time.After(wait):
		}
		if wait < 10*time.Millisecond {
			wait *= 2
		}
	}
	s.removeStaleTemps()
	return func() { f.Close() }, nil // closing the last fd drops the flock
}

// removeStaleTemps deletes temp files of writers that died mid-write. Only
// lock holders create them, so under the lock none is in use; left alone
// they pile up, each holding every hash.
func (s *Store) removeStaleTemps() {
	// A directory scan, not filepath.Glob: the path may contain glob
	// metacharacters.
	dir, prefix := filepath.Dir(s.path), filepath.Base(s.path)+".tmp_"
	entries, _ := os.ReadDir(dir)
	for _, e := range entries {
		if strings.HasPrefix(e.Name(), prefix) {
			os.Remove(filepath.Join(dir, e.Name()))
		}
	}
}

// NewSecret returns a random lowercase hyphenated UUID (v4), the form PBS
// uses for token secrets.
func NewSecret() (string, error) {
	var b [16]byte
	if _, err := rand.Read(b[:]); err != nil {
		return "", fmt.Errorf("random secret: %w", err)
	}
	b[6] = b[6]&0x0f | 0x40
	b[8] = b[8]&0x3f | 0x80
	const hexdig = "0123456789abcdef"
	out := make([]byte, 0, 36)
	for i, c := range b {
		if i == 4 || i == 6 || i == 8 || i == 10 {
			out = append(out, '-')
		}
		out = append(out, hexdig[c>>4], hexdig[c&0xf])
	}
	return string(out), nil
}
