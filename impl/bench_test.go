package impl

import (
	"context"
	"fmt"
	"path/filepath"
	"sync"
	"syscall"
	"testing"
	"time"

	"github.com/authbench/authbench/impl/cryptpw"
	"github.com/authbench/authbench/internal/callgrind"
)

// benchStore makes a store with PBS's default hash (SHA-256-crypt, 5000
// rounds) holding tokA plus filler tokens. Filler entries reuse one real
// hash: the file has the size and shape of n distinct tokens while setup
// stays quick.
func benchStore(b *testing.B, filler int) (*Store, string) {
	b.Helper()
	s, secret, err := seedBenchStore(filepath.Join(b.TempDir(), "token.shadow"), filler)
	if err != nil {
		b.Fatal(err)
	}
	b.Cleanup(func() { s.Close() })
	return s, secret
}

// seedBenchStore is benchStore without a testing.B, for the slowdown
// hook's calibration, which must measure the same hit path.
func seedBenchStore(path string, filler int) (*Store, string, error) {
	s, err := OpenStore(path, StoreOptions{Scheme: cryptpw.SHA256})
	if err != nil {
		return nil, "", err
	}
	secret, err := NewSecret()
	if err != nil {
		s.Close()
		return nil, "", err
	}
	h, err := cryptpw.Hash(cryptpw.SHA256, 0, secret)
	if err != nil {
		s.Close()
		return nil, "", err
	}
	entries := map[string]string{tokA: h}
	for i := range filler {
		entries[fmt.Sprintf("user%d@pbs!token%d", i, i)] = h
	}
	if err := s.Seed(context.Background(), entries); err != nil {
		s.Close()
		return nil, "", err
	}
	return s, secret, nil
}

// processCPU is the process's user+sys CPU time (all threads, getrusage).
func processCPU(b *testing.B) time.Duration {
	var ru syscall.Rusage
	if err := syscall.Getrusage(syscall.RUSAGE_SELF, &ru); err != nil {
		b.Fatalf("getrusage: %v", err)
	}
	return time.Duration(ru.Utime.Nano() + ru.Stime.Nano())
}

// reps numbers benchmark repetitions for callgrind windows. The testing
// package gives each -test.count repetition of a benchmark a fresh *B and
// reuses it for every b.N it tries, so the pointer identifies the
// repetition; holding it here keeps its address from being reused.
var reps struct {
	sync.Mutex
	m map[*testing.B]int64
}

func repOf(b *testing.B) int64 {
	reps.Lock()
	defer reps.Unlock()
	if reps.m == nil {
		reps.m = map[*testing.B]int64{}
	}
	r, ok := reps.m[b]
	if !ok {
		r = callgrind.NextRep()
		reps.m[b] = r
	}
	return r
}

// timedLoop runs loop as b's timed part and reports, beside ns/op, the
// process CPU time per op (cpu-ns/op: unlike wall time it does not grow
// while a noisy neighbour holds the core) and, under valgrind, opens a
// callgrind window so that only the loop's instructions are counted.
func timedLoop(b *testing.B, loop func()) {
	b.ResetTimer()
	cpu0 := processCPU(b)
	w := callgrind.Begin(b.Name(), repOf(b))
	loop()
	w.End(b.N)
	cpu := processCPU(b) - cpu0
	b.StopTimer()
	b.ReportMetric(float64(cpu.Nanoseconds())/float64(b.N), "cpu-ns/op")
}

func reportSlow(b *testing.B, v Verifier, before Stats) {
	d := v.Stats().Sub(before)
	b.ReportMetric(float64(d.Slow)/float64(b.N), "slow/op")
}

// BenchmarkVerify covers every registered verifier against the four
// request kinds; names are stable so benchstat can compare runs. Each
// reports ns/op, cpu-ns/op (process CPU time) and slow/op; the gate
// compares them.
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
					timedLoop(b, func() {
						if c.parallel {
							b.RunParallel(func(pb *testing.PB) {
								for pb.Next() {
									if _, err := v.Verify(context.Background(), c.id, c.sec); (err == nil) != c.wantOK {
										b.Error("unexpected verdict")
										return
									}
								}
							})
							return
						}
						for range b.N {
							if _, err := v.Verify(context.Background(), c.id, c.sec); (err == nil) != c.wantOK {
								b.Fatal("unexpected verdict")
							}
						}
					})
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
