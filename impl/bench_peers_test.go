package impl

import (
	"context"
	"fmt"
	"path/filepath"
	"runtime"
	"slices"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/authbench/authbench/impl/cryptpw"
)

// peersStore is a store at PBS's default hash cost holding ids, all with
// one secret's hash (the file has the shape of len(ids) tokens).
func peersStore(b *testing.B, ids []string) (*Store, string) {
	b.Helper()
	s, err := OpenStore(filepath.Join(b.TempDir(), "token.shadow"), StoreOptions{Scheme: cryptpw.SHA256})
	if err != nil {
		b.Fatal(err)
	}
	b.Cleanup(func() { s.Close() })
	secret, _ := NewSecret()
	h, err := cryptpw.Hash(cryptpw.SHA256, 0, secret)
	if err != nil {
		b.Fatal(err)
	}
	entries := map[string]string{}
	for _, id := range ids {
		entries[id] = h
	}
	if err := s.Seed(context.Background(), entries); err != nil {
		b.Fatal(err)
	}
	return s, secret
}

func benchVerifier(b *testing.B, name string, s *Store) Verifier {
	b.Helper()
	v, err := New(name, Config{Store: s})
	if err != nil {
		b.Fatal(err)
	}
	b.Cleanup(func() { Close(v) })
	return v
}

// BenchmarkWarm times filling an empty cache with 10,000 distinct
// verified tokens, insert structure only (the hashes are left out: they
// would hide whether inserts are linear or quadratic). ns/op is one whole
// warm-up; linear inserts make tokens=10000 cost about 10x tokens=1000.
func BenchmarkWarm(b *testing.B) {
	const n = 10_000
	ids := make([]string, n)
	for i := range ids {
		ids[i] = fmt.Sprintf("user%d@pbs!t", i)
	}
	secret, _ := NewSecret()
	for _, name := range []string{"ttl", "snapshot", "fresh"} {
		for _, n := range []int{1000, n} {
			ids := ids[:n]
			b.Run(fmt.Sprintf("%s/tokens=%d", name, n), func(b *testing.B) {
				s, _ := peersStore(b, ids[:1])
				b.ReportAllocs()
				for b.Loop() {
					b.StopTimer()
					v := benchVerifier(b, name, s)
					gen := s.gen.Load()
					b.StartTimer()
					switch v := v.(type) {
					case *ttlVerifier:
						for _, id := range ids {
							v.cache.tryInsert(id, secret, gen, gen, &v.n)
						}
					case *snapCore:
						warmCore(b, v, ids, secret)
					case *watchedCore:
						warmCore(b, v.snapCore, ids, secret)
					default:
						b.Fatalf("%s: no insert path", name)
					}
				}
			})
		}
	}
}

func warmCore(b *testing.B, c *snapCore, ids []string, secret string) {
	if _, err := c.refresh(); err != nil {
		b.Fatal(err)
	}
	s := c.cur.Load()
	for _, id := range ids {
		c.insert(s.version, s.gen, id, c.stored(id, secret))
	}
	if !c.matches(c.cur.Load(), ids[len(ids)-1], secret) {
		b.Fatal("last inserted token does not hit")
	}
}

// BenchmarkFlood presents wrong secrets for a real token: the same one
// repeated (a negative cache answers all but the first) or a new one every
// time (nothing to remember; every request hashes). hashes/op is the
// fraction of requests that ran the crypt hash.
func BenchmarkFlood(b *testing.B) {
	for _, name := range []string{"ttl", "ttl-ctime", "snapshot", "fresh", "k8s"} {
		for _, kind := range []string{"same", "unique"} {
			b.Run(name+"/"+kind, func(b *testing.B) {
				s, _ := peersStore(b, []string{tokA})
				v := benchVerifier(b, name, s)
				before := v.Stats()
				i := 0
				b.ReportAllocs()
				for b.Loop() {
					wrong := "00000000-0000-4000-8000-000000000000"
					if kind == "unique" {
						wrong = fmt.Sprintf("00000000-0000-4000-8000-%012d", i)
						i++
					}
					if _, err := v.Verify(context.Background(), tokA, wrong); err == nil {
						b.Fatal("wrong secret accepted")
					}
				}
				b.ReportMetric(float64(v.Stats().Sub(before).Slow)/float64(b.N), "hashes/op")
			})
		}
	}
}

// BenchmarkHerd: after every reset (a foreign generation bump), 16
// goroutines verify 4 tokens at once. hashes/reset is 16 without single
// flight and 4 (one per distinct token) with it, if the requests overlap.
func BenchmarkHerd(b *testing.B) {
	ids := []string{tokA, tokB, "carol@pbs!backup", "dave@pbs!x"}
	for _, name := range []string{"ttl", "snapshot", "fresh"} {
		b.Run(name, func(b *testing.B) {
			s, secret := peersStore(b, ids)
			v := benchVerifier(b, name, s)
			before := v.Stats()
			for b.Loop() {
				s.Generation().Bump()
				start := make(chan struct{})
				var wg sync.WaitGroup
				for g := range 16 {
					wg.Go(func() {
						<-start
						if _, err := v.Verify(context.Background(), ids[g%len(ids)], secret); err != nil {
							b.Error(err)
						}
					})
				}
				close(start)
				wg.Wait()
			}
			b.ReportMetric(float64(v.Stats().Sub(before).Slow)/float64(b.N), "hashes/reset")
		})
	}
}

// BenchmarkNotifyEventLatency measures how long after a manual edit
// completes (in-place rewrite removing the token, no lock, no generation
// bump) the first verification rejects the old secret, while another
// goroutine keeps verifying a second token. p50-ms and p99-ms are the
// measurement the notify and fresh bounds leave open (declared: the TTL).
// load=saturated keeps both the load and the probe goroutine spinning, so
// with GOMAXPROCS=2 the watch goroutine waits for the scheduler to preempt
// one (up to its 10 ms time slice): a server at 100 % CPU. load=yielding
// lets them yield between verifications, as request handlers blocking on
// the network do. Run with -benchtime 200x.
func BenchmarkNotifyEventLatency(b *testing.B) {
	for _, name := range []string{"notify", "fresh"} {
		for _, load := range []string{"yielding", "saturated"} {
			b.Run(name+"/load="+load, func(b *testing.B) {
				notifyLatency(b, name, load == "yielding")
			})
		}
	}
}

func notifyLatency(b *testing.B, name string, yield bool) {
	{
		{
			s, secret := peersStore(b, []string{tokA, tokB})
			v := benchVerifier(b, name, s)
			full, err := ReadShadow(s.Path())
			if err != nil {
				b.Fatal(err)
			}
			stop := make(chan struct{})
			var load sync.WaitGroup
			var loadN atomic.Int64
			load.Go(func() {
				for {
					select {
					case <-stop:
						return
					default:
					}
					v.Verify(context.Background(), tokB, secret)
					loadN.Add(1)
					if yield {
						runtime.Gosched()
					}
				}
			})
			var lat []time.Duration
			for b.Loop() {
				b.StopTimer()
				if err := ManualRewrite(s.Path(), full); err != nil {
					b.Fatal(err)
				}
				deadline := time.Now().Add(5 * time.Second)
				for { // warm again once the restore is seen
					if _, err := v.Verify(context.Background(), tokA, secret); err == nil {
						if _, err := v.Verify(context.Background(), tokA, secret); err == nil {
							break
						}
					}
					if time.Now().After(deadline) {
						b.Fatal("restored token never accepted again")
					}
				}
				b.StartTimer()
				if err := ManualRevoke(s.Path(), tokA); err != nil {
					b.Fatal(err)
				}
				done := time.Now()
				for {
					if _, err := v.Verify(context.Background(), tokA, secret); err != nil {
						break
					}
					if yield {
						runtime.Gosched()
					}
					if time.Since(done) > 5*time.Second {
						b.Fatal("manual revoke not seen within 5 s")
					}
				}
				lat = append(lat, time.Since(done))
			}
			close(stop)
			load.Wait()
			slices.Sort(lat)
			q := func(p float64) float64 { return float64(lat[int(p*float64(len(lat)-1))]) / 1e6 }
			b.ReportMetric(q(0.5), "p50-ms")
			b.ReportMetric(q(0.99), "p99-ms")
		}
	}
}

// BenchmarkDigest compares the keyed digests the fresh verifier can keep
// instead of plaintext, on its hit path (one cached token, one presented
// secret): HMAC-SHA256 (the default) and keyed-prefix SHA-256, beside the
// plaintext compare of the snapshot verifier.
func BenchmarkDigest(b *testing.B) {
	schemes := []struct {
		name   string
		scheme digestScheme
		plain  bool
	}{{"plaintext", 0, true}, {"hmac-sha256", digestHMAC, false}, {"sha256-keyed-prefix", digestPrefix, false}}
	for _, sc := range schemes {
		b.Run(sc.name, func(b *testing.B) {
			s, secret := peersStore(b, []string{tokA})
			v := benchVerifier(b, "fresh", s)
			c := v.(*watchedCore).snapCore
			c.digests = nil
			if !sc.plain {
				kd, err := newKeyedDigest(sc.scheme)
				if err != nil {
					b.Fatal(err)
				}
				c.digests = kd
			}
			for range 3 {
				if _, err := v.Verify(context.Background(), tokA, secret); err != nil {
					b.Fatal(err)
				}
			}
			before := v.Stats()
			b.ReportAllocs()
			for b.Loop() {
				if _, err := v.Verify(context.Background(), tokA, secret); err != nil {
					b.Fatal(err)
				}
			}
			reportSlowPeers(b, v, before)
		})
	}
}

func reportSlowPeers(b *testing.B, v Verifier, before Stats) {
	b.ReportMetric(float64(v.Stats().Sub(before).Slow)/float64(b.N), "slow/op")
}
