package k8s

import (
	"context"
	"sync/atomic"
	"testing"
	"time"
)

// countingChecker accepts one (id, secret) and counts calls.
type countingChecker struct {
	id, secret string
	calls      atomic.Int64
}

func (c *countingChecker) Check(_ context.Context, id, secret string) (bool, error) {
	c.calls.Add(1)
	return id == c.id && secret == c.secret, nil
}

func TestCache(t *testing.T) {
	cases := []struct {
		name      string
		opts      Options
		id, sec   string
		want      bool
		wantCalls int64 // after three identical verifications
	}{
		{"success cached", Options{}, "a@pbs!t", "s", true, 1},
		{"failure not cached by default", Options{}, "a@pbs!t", "wrong", false, 3},
		{"failure cached with a failure TTL", Options{FailureTTL: time.Minute}, "a@pbs!t", "wrong", false, 1},
		{"secret containing the separator", Options{}, "a@pbs!t", "s:x", false, 3},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			chk := &countingChecker{id: "a@pbs!t", secret: "s"}
			cache, err := New(chk, c.opts)
			if err != nil {
				t.Fatal(err)
			}
			for range 3 {
				ok, err := cache.Verify(context.Background(), c.id, c.sec)
				if err != nil || ok != c.want {
					t.Fatalf("Verify = %v, %v; want %v", ok, err, c.want)
				}
			}
			if got := chk.calls.Load(); got != c.wantCalls {
				t.Errorf("%d slow checks, want %d", got, c.wantCalls)
			}
		})
	}
}

func TestCacheRejectsBadInput(t *testing.T) {
	if _, err := New(&countingChecker{}, Options{SuccessTTL: -time.Second}); err == nil {
		t.Error("negative success TTL accepted")
	}
	if _, err := New(&countingChecker{}, Options{FailureTTL: -time.Second}); err == nil {
		t.Error("negative failure TTL accepted")
	}
	cache, err := New(&countingChecker{id: "a:b", secret: "c"}, Options{})
	if err != nil {
		t.Fatal(err)
	}
	if ok, err := cache.Verify(context.Background(), "a:b", "c"); ok || err == nil {
		t.Errorf("id with ':' verified (%v, %v): the joined token would be ambiguous", ok, err)
	}
}
