package server

import (
	"context"
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/tls"
	"crypto/x509"
	"errors"
	"io"
	"net"
	"net/http"
	"net/http/httptest"
	"runtime"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/authbench/authbench/impl"
)

func TestTLS(t *testing.T) {
	f := newFixture(t, "ttl")
	s := f.server(Options{TLS: true})
	url := serve(t, s)
	if !strings.HasPrefix(url, "https://127.0.0.1:") {
		t.Fatalf("URL %q", url)
	}
	pool := x509.NewCertPool()
	pool.AddCert(s.Certificate())
	clients := map[string]*tls.Config{
		"trusted cert":  {RootCAs: pool},
		"skip verify":   {InsecureSkipVerify: true},
		"localhost SNI": {RootCAs: pool, ServerName: "localhost"},
	}
	for name, cfg := range clients {
		t.Run(name, func(t *testing.T) {
			tr := &http.Transport{TLSClientConfig: cfg, ForceAttemptHTTP2: true}
			defer tr.CloseIdleConnections()
			c := &http.Client{Transport: tr}
			resp, body := get(t, c, url+PathVersion, f.header())
			if resp.StatusCode != http.StatusOK {
				t.Fatalf("status %d: %s", resp.StatusCode, body)
			}
			if resp.TLS == nil || resp.ProtoMajor != 1 {
				t.Errorf("TLS %v proto %s, want HTTP/1.1 over TLS", resp.TLS != nil, resp.Proto)
			}
		})
	}
	cert := s.Certificate()
	if pub, ok := cert.PublicKey.(*ecdsa.PublicKey); !ok || pub.Curve != elliptic.P256() {
		t.Errorf("certificate key %T, want ECDSA P-256", cert.PublicKey)
	}
	// Plain HTTP to the TLS port must not be served.
	resp, err := http.Get("http://" + s.Addr() + PathNoAuthVersion)
	if err == nil {
		resp.Body.Close()
		if resp.StatusCode == http.StatusOK {
			t.Error("plain HTTP served on the TLS port")
		}
	}
}

func TestPortInUse(t *testing.T) {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer ln.Close()
	addr := ln.Addr().String()
	s := newFixture(t, "ttl").server(Options{})
	ctx := t.Context()

	err = s.ListenAndServe(ctx, addr)
	if err == nil || err.Error() != "address "+addr+" already in use" {
		t.Errorf("ListenAndServe: %v, want %q", err, "address "+addr+" already in use")
	}
	var inUse *AddrInUseError
	if !errors.As(err, &inUse) || !errors.Is(err, syscall.EADDRINUSE) {
		t.Errorf("error %v does not unwrap to AddrInUseError and EADDRINUSE", err)
	}
	if err := s.ServePprof(ctx, addr); err == nil || !strings.Contains(err.Error(), "already in use") {
		t.Errorf("ServePprof: %v", err)
	}
}

func TestListenAndServe(t *testing.T) {
	s := newFixture(t, "ttl").server(Options{})
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan error, 1)
	go func() { done <- s.ListenAndServe(ctx, "127.0.0.1:0") }()
	<-s.Ready()
	if resp, _ := get(t, http.DefaultClient, s.URL()+PathNoAuthVersion, ""); resp.StatusCode != http.StatusOK {
		t.Errorf("status %d", resp.StatusCode)
	}
	cancel()
	if err := <-done; err != nil {
		t.Errorf("ListenAndServe after cancel: %v", err)
	}
}

func TestURL(t *testing.T) {
	tests := []struct {
		addr string
		tls  bool
		want string
	}{
		{"", false, ""},
		{"127.0.0.1:8007", false, "http://127.0.0.1:8007"},
		{"127.0.0.1:8007", true, "https://127.0.0.1:8007"},
		{"0.0.0.0:8007", false, "http://127.0.0.1:8007"},
		{"[::]:8007", false, "http://[::1]:8007"},
	}
	f := newFixture(t, "ttl")
	plain, secure := f.server(Options{}), f.server(Options{TLS: true})
	for _, tt := range tests {
		s := plain
		if tt.tls {
			s = secure
		}
		s.mu.Lock()
		s.addr = tt.addr
		s.mu.Unlock()
		if got := s.URL(); got != tt.want {
			t.Errorf("URL(%q, tls=%v) = %q, want %q", tt.addr, tt.tls, got, tt.want)
		}
	}
}

func TestSlowLorisCut(t *testing.T) {
	f := newFixture(t, "ttl")
	url := serve(t, f.server(Options{ReadHeaderTimeout: 100 * time.Millisecond}))
	conn, err := net.Dial("tcp", strings.TrimPrefix(url, "http://"))
	if err != nil {
		t.Fatal(err)
	}
	defer conn.Close()
	if _, err := io.WriteString(conn, "GET "+PathNoAuthVersion+" HTTP/1.1\r\nHost: test\r\nX-Slow: "); err != nil {
		t.Fatal(err)
	}
	// Far longer than ReadHeaderTimeout: only reached if the server never
	// cuts the connection.
	_ = conn.SetReadDeadline(time.Now().Add(20 * time.Second))
	buf := make([]byte, 512)
	n, err := io.ReadFull(conn, buf)
	var ne net.Error
	if errors.As(err, &ne) && ne.Timeout() {
		t.Fatal("server kept a connection with incomplete headers open")
	}
	if strings.Contains(string(buf[:n]), " 200 ") {
		t.Fatalf("incomplete request answered: %q", buf[:n])
	}
}

func TestGracefulShutdown(t *testing.T) {
	entered, release := make(chan struct{}), make(chan struct{})
	s, err := New(Options{Verifier: &fakeVerifier{verify: func(context.Context, string, string) (impl.Outcome, error) {
		close(entered)
		<-release
		return impl.OutcomeSlow, nil
	}}})
	if err != nil {
		t.Fatal(err)
	}
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan error, 1)
	go func() { done <- s.Serve(ctx, ln) }()
	<-s.Ready()
	status := make(chan int, 1)
	go func() {
		req, _ := http.NewRequest(http.MethodGet, s.URL()+PathVersion, nil)
		req.Header.Set("Authorization", "PBSAPIToken="+testID+":x")
		resp, err := http.DefaultClient.Do(req)
		if err != nil {
			status <- -1
			return
		}
		resp.Body.Close()
		status <- resp.StatusCode
	}()
	<-entered
	cancel()
	close(release)
	if got := <-status; got != http.StatusOK {
		t.Errorf("in-flight request during shutdown: status %d, want 200", got)
	}
	if err := <-done; err != nil {
		t.Errorf("Serve: %v", err)
	}
}

func TestNoGoroutineLeak(t *testing.T) {
	f := newFixture(t, "ttl")
	tr := &http.Transport{}
	c := &http.Client{Transport: tr}
	before := runtime.NumGoroutine()

	s := f.server(Options{TLS: true, ReadHeaderTimeout: time.Second, ShutdownTimeout: 300 * time.Millisecond})
	tr.TLSClientConfig = &tls.Config{InsecureSkipVerify: true}
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan error, 1)
	go func() { done <- s.Serve(ctx, ln) }()
	<-s.Ready()
	for _, p := range []string{PathVersion, PathStatus, PathNoAuthVersion, PathStats} {
		get(t, c, s.URL()+p, f.header()) // leaves a keep-alive connection
	}
	half, err := net.Dial("tcp", s.Addr()) // and one that never speaks
	if err != nil {
		t.Fatal(err)
	}
	cancel()
	if err := <-done; err != nil {
		t.Fatalf("Serve: %v", err)
	}
	half.Close()
	tr.CloseIdleConnections()

	deadline := time.Now().Add(10 * time.Second)
	for {
		n := runtime.NumGoroutine()
		if n <= before+1 {
			return
		}
		if time.Now().After(deadline) {
			buf := make([]byte, 1<<16)
			t.Fatalf("%d goroutines after Serve returned, %d before:\n%s", n, before, buf[:runtime.Stack(buf, true)])
		}
		time.Sleep(20 * time.Millisecond)
	}
}

func TestPprof(t *testing.T) {
	ts := httptest.NewServer(PprofHandler())
	defer ts.Close()
	for _, p := range []string{"/debug/pprof/", "/debug/pprof/cmdline", "/debug/pprof/goroutine?debug=1"} {
		resp, err := http.Get(ts.URL + p)
		if err != nil {
			t.Fatal(err)
		}
		resp.Body.Close()
		if resp.StatusCode != http.StatusOK {
			t.Errorf("%s: status %d", p, resp.StatusCode)
		}
	}

	s := newFixture(t, "ttl").server(Options{})
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan error, 1)
	go func() { done <- s.ServePprof(ctx, "127.0.0.1:0") }()
	cancel()
	if err := <-done; err != nil {
		t.Errorf("ServePprof after cancel: %v", err)
	}
}

func TestServeTwice(t *testing.T) {
	s := newFixture(t, "ttl").server(Options{})
	serve(t, s)
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	if err := s.Serve(t.Context(), ln); err == nil {
		t.Error("second concurrent Serve succeeded")
	}
}
