package impl

import (
	"crypto/hmac"
	"crypto/rand"
	"crypto/sha256"
	"encoding/binary"
	"fmt"
	"hash"
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

// digest is a keyed digest of a presented (id, secret) or of a secret
// alone. Caches key and store digests, never the plaintext; a
// non-cryptographic hash would let a collision pass.
type digest [sha256.Size]byte

// digestScheme picks the keyed construction.
type digestScheme uint8

const (
	// digestHMAC is HMAC-SHA256 under a per-process random key (as
	// Kubernetes' token cache): two SHA-256 compressions per digest.
	digestHMAC digestScheme = iota
	// digestPrefix is SHA-256(key || input) with a 16-byte random key: one
	// compression for a 36-byte secret. Length extension, the reason HMAC
	// exists, needs the digest, which never leaves the process, and
	// inputs are fixed-length or length-prefixed; it is measured beside
	// HMAC (BenchmarkDigest) as the cheaper keyed alternative while no
	// keyed BLAKE2s is available in go.mod.
	digestPrefix
)

// keyedDigest computes digests; safe for concurrent use.
type keyedDigest struct {
	scheme digestScheme
	key    [16]byte
	pool   sync.Pool // *digestScratch: hmac.New allocates 8 times
}

type digestScratch struct {
	h   hash.Hash
	buf []byte
	out digest
}

func newKeyedDigest(scheme digestScheme) (*keyedDigest, error) {
	k := &keyedDigest{scheme: scheme}
	hkey := make([]byte, 32)
	if _, err := rand.Read(hkey); err != nil {
		return nil, fmt.Errorf("digest key: %w", err)
	}
	copy(k.key[:], hkey)
	k.pool.New = func() any { return &digestScratch{h: hmac.New(sha256.New, hkey), buf: make([]byte, 0, 128)} }
	return k, nil
}

// sum digests (id, secret) with id length-prefixed, so no two pairs share
// an input (negative cache and single-flight keys).
func (k *keyedDigest) sum(id, secret string) digest {
	st := k.pool.Get().(*digestScratch)
	st.buf = binary.BigEndian.AppendUint32(k.start(st.buf), uint32(len(id)))
	st.buf = append(append(st.buf, id...), secret...)
	d := k.finish(st)
	k.pool.Put(st)
	return d
}

// sumSecret digests a secret alone: the cached value of a verified token
// (the id is the map key), computed on every hit.
func (k *keyedDigest) sumSecret(secret string) digest {
	st := k.pool.Get().(*digestScratch)
	st.buf = append(k.start(st.buf), secret...)
	d := k.finish(st)
	k.pool.Put(st)
	return d
}

// start empties buf and, for the prefix scheme, puts the key first.
func (k *keyedDigest) start(buf []byte) []byte {
	if k.scheme == digestPrefix {
		return append(buf[:0], k.key[:]...)
	}
	return buf[:0]
}

func (k *keyedDigest) finish(st *digestScratch) digest {
	if k.scheme == digestPrefix {
		return sha256.Sum256(st.buf)
	}
	st.h.Reset()
	st.h.Write(st.buf)
	st.h.Sum(st.out[:0])
	return st.out
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
