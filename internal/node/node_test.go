package node

import (
	"context"
	"log/slog"
	"net/http"
	"os"
	"strings"
	"testing"
	"time"

	"github.com/authbench/authbench/impl"
	"github.com/authbench/authbench/internal/server"
)

func TestStatFilterFor(t *testing.T) {
	if f, err := StatFilterFor("", ""); err != nil || f != nil {
		t.Fatalf("no emulation: %v %v", f, err)
	}
	for _, bad := range [][2]string{{"-1s", ""}, {"", "0s"}, {"soon", ""}} {
		if _, err := StatFilterFor(bad[0], bad[1]); err == nil {
			t.Errorf("%q accepted", bad)
		}
	}
	coarse, _ := StatFilterFor("2s", "")
	m, _ := coarse(impl.FileMeta{Exists: true, MtimeNS: int64(5*time.Second + 300*time.Millisecond), Size: 9}, nil)
	if m.MtimeNS != int64(4*time.Second) || m.Size != 9 {
		t.Errorf("coarse 2s: %+v", m)
	}
	stale, _ := StatFilterFor("", "1h")
	first, _ := stale(impl.FileMeta{Exists: true, MtimeNS: 1, Size: 1}, nil)
	second, _ := stale(impl.FileMeta{Exists: true, MtimeNS: 2, Size: 2}, nil)
	if second != first {
		t.Errorf("stale stat changed inside its ttl: %+v then %+v", first, second)
	}
}

// startNode runs an in-process node with one token and returns its client,
// the token id and its secret.
func startNode(t *testing.T, verifier string) (*Node, *Client, string, string) {
	t.Helper()
	return startNodeTTL(t, verifier, 0)
}

// startNodeTTL is startNode with a verifier TTL (0 = default).
func startNodeTTL(t *testing.T, verifier string, ttl time.Duration) (*Node, *Client, string, string) {
	t.Helper()
	shadow, id, secret := newShadow(t)
	n := serveNode(t, Config{Shadow: shadow, Verifier: verifier, TTL: ttl, Cost: 1000, Logger: slog.New(slog.DiscardHandler)})
	return n, NewClient(n.AdminURL(), nil), id, secret
}

// serveNode starts cfg on loopback ports and serves it until the test
// ends.
func serveNode(t *testing.T, cfg Config) *Node {
	t.Helper()
	cfg.Addr, cfg.AdminAddr = "127.0.0.1:0", "127.0.0.1:0"
	ctx, cancel := context.WithCancel(context.Background())
	n, err := Start(ctx, cfg)
	if err != nil {
		cancel()
		t.Fatal(err)
	}
	done := make(chan error, 1)
	go func() { done <- n.Serve(ctx) }()
	t.Cleanup(func() {
		cancel()
		if err := <-done; err != nil {
			t.Errorf("serve: %v", err)
		}
	})
	return n
}

func TestClientRoundTrip(t *testing.T) {
	n, c, id, secret := startNode(t, "ttl")
	ctx := context.Background()
	req, _ := http.NewRequest(http.MethodGet, n.URL()+server.PathVersion, nil)
	req.Header.Set("Authorization", "PBSAPIToken="+id+":"+secret)
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	st, err := c.Stats(ctx)
	if err != nil {
		t.Fatal(err)
	}
	if st.Verifier != "ttl" || st.PID != os.Getpid() || st.Verify.Slow+st.Verify.Fast != 1 || st.CPUSeconds <= 0 {
		t.Errorf("stats %+v", st)
	}
	for _, tc := range []struct {
		op        Op
		id        string
		newSecret bool
		wantErr   bool
	}{
		{OpRotate, id, true, false},
		{OpAdd, "bench@pbs!t1", true, false},
		{OpRevoke, "bench@pbs!t1", false, false},
		{OpRevoke, "bench@pbs!nope", false, true},
		{"explode", id, false, true},
	} {
		sec, err := c.Mutate(ctx, tc.op, tc.id)
		if (err != nil) != tc.wantErr || (sec != "") != tc.newSecret {
			t.Errorf("Mutate(%s, %s) = secret %v, err %v", tc.op, tc.id, sec != "", err)
		}
		if err != nil && (strings.Contains(err.Error(), secret) || sec != "" && strings.Contains(err.Error(), sec)) {
			t.Errorf("error carries a secret")
		}
	}
	if after, err := c.Stats(ctx); err != nil || after.Generation <= st.Generation {
		t.Errorf("generation %d -> %d (err %v), want a bump per mutation", st.Generation, after.Generation, err)
	}
	if err := c.SetFS(ctx, FS{Coarse: time.Second}); err != nil {
		t.Error(err)
	}
	if err := c.SetFS(ctx, FS{}); err != nil {
		t.Error(err)
	}
	if err := c.StartProfile(ctx); err != nil {
		t.Fatal(err)
	}
	if _, err := c.StopProfile(ctx); err != nil {
		t.Error(err)
	}
}

func TestReadReady(t *testing.T) {
	for _, tc := range []struct {
		in   string
		want Ready
		ok   bool
	}{
		{`{"url":"http://127.0.0.1:1","admin":"http://127.0.0.1:2","pid":7}` + "\n", Ready{"http://127.0.0.1:1", "http://127.0.0.1:2", 7}, true},
		{`{"url":"http://127.0.0.1:1"}` + "\n", Ready{}, false},
		{"serving on :8007\n", Ready{}, false},
		{"", Ready{}, false},
	} {
		got, err := ReadReady(strings.NewReader(tc.in), time.Second)
		if (err == nil) != tc.ok || got != tc.want {
			t.Errorf("ReadReady(%q) = %+v, %v", tc.in, got, err)
		}
	}
}

func TestArgs(t *testing.T) {
	got := strings.Join(Args(Config{Verifier: "mtime", Shadow: "/x/token.shadow", TTL: 2 * time.Second, Scheme: "sha256", Cost: 1000, TLS: true}), " ")
	want := "serve --ready --verifier mtime --shadow /x/token.shadow --addr 127.0.0.1:0 --admin-addr 127.0.0.1:0 --ttl 2s --scheme sha256 --cost 1000 --tls"
	if got != want {
		t.Errorf("Args =\n %s\nwant\n %s", got, want)
	}
}
