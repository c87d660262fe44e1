package impl

import (
	"crypto/rand"
	"fmt"
)

// newTTLCtime is authbench's proposal beyond the PBS stages: the ttl
// verifier with three changes, each closing a gap the others measure.
//   - Change detection compares (mtime, ctime, inode, length). ctime
//     cannot be set back from user space, so a same-length rewrite that
//     restores the mtime (cp -p, touch -r) is seen within the TTL.
//   - An own API mutation that finds an unseen foreign generation bump
//     resets the cache (PBS's stage-1 hole).
//   - The cache keeps HMAC-SHA256 of secrets under a per-process random
//     key, never the plaintext.
//
// Staleness: API mutations take effect at the next request; manual edits
// and mtime-restoring rewrites within the TTL.
func newTTLCtime(cfg Config) (Verifier, error) {
	v, err := newTTL(cfg)
	if err != nil {
		return nil, err
	}
	t := v.(*ttlVerifier)
	t.name = "ttl-ctime"
	t.bound = ttlCtimeBound(cfg)
	key := make([]byte, 32)
	if _, err := rand.Read(key); err != nil {
		return nil, fmt.Errorf("cache key: %w", err)
	}
	t.cache.key = key
	t.cache.strictGen = true
	t.cache.same = func(a, b FileMeta) bool {
		return sameMtimeLen(a, b) && a.CtimeNS == b.CtimeNS && a.Inode == b.Inode
	}
	return t, nil
}

func ttlCtimeBound(cfg Config) Bound {
	b := ttlBound(cfg)
	b.SameLenRestore = b.ManualEdit
	return b
}
