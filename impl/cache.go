package impl

import (
	"crypto/hmac"
	"crypto/sha256"
	"crypto/subtle"
	"hash"
	"io"
	"sync"
	"time"
)

// secretCache is PBS's ApiTokenSecretCache: verified plaintext secrets, the
// generation they belong to and, for the mtime and ttl stages, the shadow
// file's metadata when last checked. Only valid secrets are ever inserted.
type secretCache struct {
	mu        sync.RWMutex // TryLock/TryRLock stand in for parking_lot's try_write/try_read
	secrets   map[string]string
	cachedGen uint64
	fileInfo  *shadowFileInfo

	// same decides whether the file is unchanged (PBS: mtime and length).
	same func(a, b FileMeta) bool
	// key, when set, makes the cache hold HMAC-SHA256(key, secret) instead
	// of the plaintext, as Kubernetes' token cache does.
	key   []byte
	hmacs sync.Pool // keyed hash.Hash values: hmac.New costs 8 allocations
	// strictGen resets the cache when an own API mutation finds that
	// another process bumped the generation since the cache last synced,
	// closing PBS's stage-1 hole.
	strictGen bool
}

type shadowFileInfo struct {
	meta        FileMeta
	lastChecked time.Time
}

func newSecretCache() *secretCache {
	return &secretCache{secrets: map[string]string{}, same: sameMtimeLen}
}

// stored is what the cache keeps for secret.
func (c *secretCache) stored(secret string) string {
	if c.key == nil {
		return secret
	}
	m := c.mac(secret)
	return string(m[:])
}

// mac returns HMAC-SHA256(key, secret) in a fresh array.
func (c *secretCache) mac(secret string) [sha256.Size]byte {
	h, _ := c.hmacs.Get().(hash.Hash)
	if h == nil {
		h = hmac.New(sha256.New, c.key)
	}
	h.Reset()
	io.WriteString(h, secret)
	var out [sha256.Size]byte
	h.Sum(out[:0])
	c.hmacs.Put(h)
	return out
}

// resetAndSetGen: caller holds mu for writing.
func (c *secretCache) resetAndSetGen(gen uint64, n *counters) {
	clear(c.secrets)
	c.cachedGen = gen
	c.fileInfo = nil
	n.resets.Add(1)
}

// secretMatches compares in constant time; caller holds mu (either mode).
func (c *secretCache) secretMatches(id, secret string) bool {
	cached, ok := c.secrets[id]
	if !ok {
		return false
	}
	if c.key != nil {
		m := c.mac(secret)
		return len(cached) == len(m) && subtle.ConstantTimeCompare([]byte(cached), m[:]) == 1
	}
	return len(cached) == len(secret) && subtle.ConstantTimeCompare([]byte(cached), []byte(secret)) == 1
}

// tryInsert is cache_try_insert_secret: best effort (a contended lock skips
// the insert), never inserts if the generation moved since genBefore.
func (c *secretCache) tryInsert(id, secret string, genBefore, genNow uint64, n *counters) {
	if !c.mu.TryLock() {
		return
	}
	defer c.mu.Unlock()
	if c.cachedGen != genNow {
		c.resetAndSetGen(genNow, n)
	}
	if genNow == genBefore {
		c.secrets[id] = c.stored(secret)
		c.cachedGen = genNow
	}
}

// applyMutation is apply_api_mutation's cache half (the store already
// bumped the generation). withFileInfo enables the mtime stage's checks.
func (c *secretCache) applyMutation(m Mutation, s *Store, now time.Time, withFileInfo bool, n *counters) {
	c.mu.Lock()
	defer c.mu.Unlock()
	current := s.gen.Load()
	// Another mutation slipped in between our bump and this lock: we cannot
	// tell what changed.
	if m.Bumped != current {
		c.resetAndSetGen(current, n)
		return
	}
	if c.strictGen && c.cachedGen != m.Bumped && c.cachedGen+1 != m.Bumped {
		// Someone else's bump went unseen: nothing cached is trusted, but
		// this mutation's own secret is current.
		c.resetAndSetGen(current, n)
	}
	pre := m.Pre
	if m.PreErr != nil {
		pre = FileMeta{}
	}
	// Our view of the file disagrees with the file before our write: we
	// missed an external edit, so nothing cached can be trusted.
	if withFileInfo && c.fileInfo != nil && !c.same(c.fileInfo.meta, pre) {
		clear(c.secrets)
		n.resets.Add(1)
	}
	// PBS skips the check above when it has no file metadata, which is the
	// state a slow-path insert leaves after a generation reset: a revoke
	// in that window followed by this mutation re-stamps stale secrets.
	// The strict cache cannot vouch for secrets it never matched to a file.
	if c.strictGen && withFileInfo && c.fileInfo == nil && len(c.secrets) > 0 {
		clear(c.secrets)
		n.resets.Add(1)
	}
	if m.Secret != nil {
		c.secrets[m.ID] = c.stored(*m.Secret)
	} else {
		delete(c.secrets, m.ID)
	}
	c.cachedGen = current
	if !withFileInfo {
		return
	}
	n.stat.Add(1)
	meta, err := s.Stat()
	if err != nil {
		c.resetAndSetGen(current, n)
		return
	}
	c.fileInfo = &shadowFileInfo{meta: meta, lastChecked: now}
}

// refreshFromFile is the mtime stage's cached_secret_valid (PBS v8): under
// try_write, reset on a generation change, stat the file, and either answer
// from the cache (file unchanged) or clear it, bump the generation so other
// processes drop theirs too, and send the caller to the slow path.
// It returns (matched, contended).
func (c *secretCache) refreshFromFile(id, secret string, s *Store, now time.Time, n *counters) (bool, bool) {
	if !c.mu.TryLock() {
		return false, true
	}
	defer c.mu.Unlock()
	return c.refreshLocked(id, secret, s, now, n), false
}

func (c *secretCache) refreshLocked(id, secret string, s *Store, now time.Time, n *counters) bool {
	current := s.gen.Load()
	if c.cachedGen != current {
		c.resetAndSetGen(current, n)
	}
	n.stat.Add(1)
	meta, err := s.Stat()
	if err != nil {
		return false
	}
	if c.fileInfo != nil && c.same(c.fileInfo.meta, meta) {
		c.fileInfo.lastChecked = now
		return c.secretMatches(id, secret)
	}
	clear(c.secrets)
	prev := c.fileInfo
	c.fileInfo = &shadowFileInfo{meta: meta, lastChecked: now}
	if prev != nil {
		n.resets.Add(1)
		c.cachedGen = s.gen.Bump()
	}
	return false
}
