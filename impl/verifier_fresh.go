package impl

// newFresh builds the composition the measurements favour: the snapshot
// verifier's lock-free hit path, notify's inotify-driven change detection
// (TTL stat as safety net), a negative cache for repeated wrong secrets,
// single-flight slow paths, and a cache holding keyed digests
// (HMAC-SHA256 under a per-process key) instead of plaintext secrets.
//
// Staleness: as notify. API mutations at the next request; manual edits
// and mtime-restoring rewrites within the TTL everywhere, within the
// event latency on local file systems.
func newFresh(cfg Config) (Verifier, error) {
	w, err := newWatchedCore("fresh", cfg, freshBound(cfg))
	if err != nil {
		return nil, err
	}
	if w.digests, err = newKeyedDigest(digestHMAC); err != nil {
		w.Close()
		return nil, err
	}
	w.neg = newNegCache(cfg.NegativeTTL, cfg.NegativeSize)
	w.flight = &flightGroup{}
	return w, nil
}

func freshBound(cfg Config) Bound { return ttlCtimeBound(cfg) }
