package impl

import (
	"context"
	"fmt"
	"path/filepath"
	"testing"

	"github.com/authbench/authbench/impl/cryptpw"
)

// benchStore makes a store with PBS's default hash (SHA-256-crypt, 5000
// rounds) holding tokA plus filler tokens. Filler entries reuse one real
// hash: the file has the size and shape of n distinct tokens while setup
// stays quick.
func benchStore(b *testing.B, filler int) (*Store, string) {
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
	entries := map[string]string{tokA: h}
	for i := range filler {
		entries[fmt.Sprintf("user%d@pbs!token%d", i, i)] = h
	}
	if err := s.Seed(context.Background(), entries); err != nil {
		b.Fatal(err)
	}
	return s, secret
}

func reportSlow(b *testing.B, v Verifier, before Stats) {
	d := v.Stats().Sub(before)
	b.ReportMetric(float64(d.Slow)/float64(b.N), "slow/op")
}

// BenchmarkVerify covers every registered verifier against the four
// request kinds; names are stable so benchstat can compare runs.
func BenchmarkVerify(b *testing.B) {
	for _, name := range Names() {
		b.Run(name, func(b *testing.B) {
			s, secret := benchStore(b, 9)
			v, err := New(name, Config{Store: s})
			if err != nil {
				b.Fatal(err)
			}
			for range 3 { // warm the cache and the file metadata
				if _, err := v.Verify(context.Background(), tokA, secret); err != nil {
					b.Fatal(err)
				}
			}
			cases := []struct {
				name     string
				id, sec  string
				wantOK   bool
				parallel bool
			}{
				{"hit", tokA, secret, true, false},
				{"wrong-secret", tokA, "00000000-0000-4000-8000-000000000000", false, false},
				{"unknown-token", "nobody@pbs!none", secret, false, false},
				{"parallel-hit", tokA, secret, true, true},
			}
			for _, c := range cases {
				b.Run(c.name, func(b *testing.B) {
					before := v.Stats()
					b.ReportAllocs()
					b.ResetTimer()
					if c.parallel {
						b.RunParallel(func(pb *testing.PB) {
							for pb.Next() {
								if _, err := v.Verify(context.Background(), c.id, c.sec); (err == nil) != c.wantOK {
									b.Error("unexpected verdict")
									return
								}
							}
						})
					} else {
						for range b.N {
							if _, err := v.Verify(context.Background(), c.id, c.sec); (err == nil) != c.wantOK {
								b.Fatal("unexpected verdict")
							}
						}
					}
					b.StopTimer()
					reportSlow(b, v, before)
				})
			}
		})
	}
}

// BenchmarkUncachedShadowSize shows the read+parse share of the uncached
// path growing with the file.
func BenchmarkUncachedShadowSize(b *testing.B) {
	for _, n := range []int{10, 1000, 10000} {
		b.Run(fmt.Sprintf("tokens=%d", n), func(b *testing.B) {
			s, secret := benchStore(b, n-1)
			v, _ := New("uncached", Config{Store: s})
			b.ReportAllocs()
			for range b.N {
				if _, err := v.Verify(context.Background(), tokA, secret); err != nil {
					b.Fatal(err)
				}
			}
		})
	}
}

// BenchmarkSlowPathParts splits the uncached cost into its two halves so
// that "uncached ≈ hash + parse" can be checked from one run.
func BenchmarkSlowPathParts(b *testing.B) {
	s, secret := benchStore(b, 9)
	m, err := s.Read()
	if err != nil {
		b.Fatal(err)
	}
	h := m[tokA]
	b.Run("read-parse", func(b *testing.B) {
		for range b.N {
			if _, err := s.Read(); err != nil {
				b.Fatal(err)
			}
		}
	})
	b.Run("hash", func(b *testing.B) {
		for range b.N {
			if err := cryptpw.Verify(secret, h); err != nil {
				b.Fatal(err)
			}
		}
	})
	b.Run("stat", func(b *testing.B) {
		for range b.N {
			if _, err := s.Stat(); err != nil {
				b.Fatal(err)
			}
		}
	})
}
