package impl

import (
	"crypto/hmac"
	"crypto/rand"
	"crypto/sha256"
	"encoding/binary"
	"fmt"
	"hash"
	"io"
	"sync"
	"time"
)

// DefaultNegativeTTL is how long a failed (id, secret) pair is remembered.
// Short on purpose: the entry only saves a hash, and a shorter TTL bounds
// how long a pair that a change made valid could be answered from it if the
// change went unseen (every detected change clears the cache anyway).
const DefaultNegativeTTL = 5 * time.Second

// DefaultNegativeSize bounds the negative cache: 4,096 entries of a 32-byte
// digest and an expiry, about 300 KB with map overhead, whatever the flood.
const DefaultNegativeSize = 4096

// digest is a keyed digest of a presented (id, secret): HMAC-SHA256 under a
// per-process random key, over length-prefixed fields so that no two
// (id, secret) pairs share an input. Caches key and store digests, never
// the plaintext; a non-cryptographic hash would let a collision pass.
type digest [sha256.Size]byte

// keyedDigest computes digests; safe for concurrent use.
type keyedDigest struct {
	pool sync.Pool // hash.Hash under the key: hmac.New allocates 8 times
}

func newKeyedDigest() (*keyedDigest, error) {
	key := make([]byte, 32)
	if _, err := rand.Read(key); err != nil {
		return nil, fmt.Errorf("digest key: %w", err)
	}
	return &keyedDigest{pool: sync.Pool{New: func() any { return hmac.New(sha256.New, key) }}}, nil
}

func (k *keyedDigest) sum(id, secret string) digest {
	h := k.pool.Get().(hash.Hash)
	h.Reset()
	var n [4]byte
	binary.BigEndian.PutUint32(n[:], uint32(len(id)))
	h.Write(n[:])
	io.WriteString(h, id)
	io.WriteString(h, secret)
	var d digest
	h.Sum(d[:0])
	k.pool.Put(h)
	return d
}

// negCache remembers recently failed (id, secret) digests so a repeated
// wrong secret is rejected without a hash. It can only turn a slow reject
// into a fast one: entries belong to one epoch (the owning verifier's view
// of the generation and file; any change starts a new epoch and clears the
// cache), expire after ttl, and a verifier consults it only after its
// positive cache missed. Size is bounded: when full, an arbitrary entry is
// evicted (map iteration order is random), so a flood of distinct wrong
// secrets costs a fixed amount of memory and gains nothing.
type negCache struct {
	mu      sync.Mutex
	epoch   uint64
	entries map[digest]int64 // digest -> expiry (clock ns)
	ttl     time.Duration
	max     int
}

func newNegCache(ttl time.Duration, max int) *negCache {
	if ttl <= 0 {
		ttl = DefaultNegativeTTL
	}
	if max <= 0 {
		max = DefaultNegativeSize
	}
	return &negCache{entries: make(map[digest]int64), ttl: ttl, max: max}
}

// syncEpoch clears the cache when epoch is newer; it reports whether the
// caller's epoch is current (older callers must not read or write).
func (n *negCache) syncEpoch(epoch uint64) bool {
	if epoch > n.epoch {
		clear(n.entries)
		n.epoch = epoch
	}
	return epoch == n.epoch
}

// has reports whether d failed within the TTL in this epoch.
func (n *negCache) has(epoch uint64, d digest, now time.Time) bool {
	n.mu.Lock()
	defer n.mu.Unlock()
	if !n.syncEpoch(epoch) {
		return false
	}
	exp, ok := n.entries[d]
	if !ok {
		return false
	}
	if now.UnixNano() >= exp {
		delete(n.entries, d)
		return false
	}
	return true
}

// add records a failure observed in epoch.
func (n *negCache) add(epoch uint64, d digest, now time.Time) {
	n.mu.Lock()
	defer n.mu.Unlock()
	if !n.syncEpoch(epoch) {
		return
	}
	if _, ok := n.entries[d]; !ok && len(n.entries) >= n.max {
		for k := range n.entries {
			delete(n.entries, k)
			break
		}
	}
	n.entries[d] = now.Add(n.ttl).UnixNano()
}

// len is the number of entries (tests check the bound).
func (n *negCache) len() int {
	n.mu.Lock()
	defer n.mu.Unlock()
	return len(n.entries)
}
