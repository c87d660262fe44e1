package impl

import (
	"encoding/binary"

	"golang.org/x/sync/singleflight"
)

// flightGroup makes concurrent slow paths for the same presented token
// share one hash, as Kubernetes' token cache does. The key is the keyed
// digest of (id, secret), never the plaintext, prefixed with the epoch and
// generation the request started in: a request that starts after a change
// completed is never handed a verdict computed before it.
type flightGroup struct {
	g singleflight.Group
}

func flightKey(epoch, gen uint64, d digest) string {
	var b [16 + len(digest{})]byte
	binary.BigEndian.PutUint64(b[0:], epoch)
	binary.BigEndian.PutUint64(b[8:], gen)
	copy(b[16:], d[:])
	return string(b[:])
}

// do runs fn once per key among concurrent callers, who all get its result.
func (f *flightGroup) do(key string, fn func() verdict) verdict {
	v, _, _ := f.g.Do(key, func() (any, error) { return fn(), nil })
	return v.(verdict)
}

// verdict is a slow path's answer: err nil means verified; definitive says
// the rejection came from the file's content (wrong secret, unknown token),
// not from a read error, so a negative cache may remember it.
type verdict struct {
	err        error
	definitive bool
}
