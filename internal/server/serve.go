package server

import (
	"context"
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/tls"
	"crypto/x509"
	"crypto/x509/pkix"
	"errors"
	"fmt"
	"log/slog"
	"math/big"
	"net"
	"net/http"
	"net/http/pprof"
	"syscall"
	"time"
)

// Serve serves on ln until ctx is cancelled, then shuts down gracefully:
// in-flight requests get Options.ShutdownTimeout to finish, after which the
// remaining connections are closed. It returns nil after a shutdown caused
// by ctx, or the error that stopped the listener. Serve closes ln.
func (s *Server) Serve(ctx context.Context, ln net.Listener) error {
	s.mu.Lock()
	if s.busy {
		s.mu.Unlock()
		ln.Close()
		return errors.New("server: already serving")
	}
	s.busy = true
	s.addr = ln.Addr().String()
	close(s.ready)
	s.mu.Unlock()
	defer func() {
		s.mu.Lock()
		s.busy = false
		s.ready = make(chan struct{})
		s.mu.Unlock()
	}()

	if s.tlsConfig != nil {
		ln = tls.NewListener(ln, s.tlsConfig)
	}
	hs := &http.Server{
		Handler:           s,
		ReadHeaderTimeout: s.opts.ReadHeaderTimeout,
		MaxHeaderBytes:    s.opts.MaxHeaderBytes,
		IdleTimeout:       s.opts.IdleTimeout,
		// No HTTP/2, in clear or TLS, so load and profiles are comparable.
		TLSNextProto: map[string]func(*http.Server, *tls.Conn, http.Handler){},
		ErrorLog:     slog.NewLogLogger(s.log.Handler(), slog.LevelWarn),
	}
	return serveUntil(ctx, hs, ln, s.opts.ShutdownTimeout)
}

// serveUntil runs hs on ln until ctx is done and waits until hs.Serve has
// returned, so no server goroutine outlives the call.
func serveUntil(ctx context.Context, hs *http.Server, ln net.Listener, grace time.Duration) error {
	errc := make(chan error, 1)
	go func() { errc <- hs.Serve(ln) }()
	select {
	case err := <-errc:
		return fmt.Errorf("serve %s: %w", ln.Addr(), err)
	case <-ctx.Done():
	}
	sctx, cancel := context.WithTimeout(context.Background(), grace)
	defer cancel()
	err := hs.Shutdown(sctx)
	if err != nil {
		// Grace period over: drop what is left. Not an error of the caller's.
		_ = hs.Close()
	}
	if serr := <-errc; serr != nil && !errors.Is(serr, http.ErrServerClosed) {
		return fmt.Errorf("serve %s: %w", ln.Addr(), serr)
	}
	return nil
}

// ListenAndServe listens on addr (host:port; port 0 picks a free one) and
// calls Serve. A busy port gives "address <addr> already in use".
func (s *Server) ListenAndServe(ctx context.Context, addr string) error {
	ln, err := listen(ctx, addr)
	if err != nil {
		return err
	}
	return s.Serve(ctx, ln)
}

// AddrInUseError reports a listen address that another socket holds.
type AddrInUseError struct {
	Addr string
	Err  error
}

func (e *AddrInUseError) Error() string {
	return fmt.Sprintf("address %s already in use", e.Addr)
}

func (e *AddrInUseError) Unwrap() error { return e.Err }

func listen(ctx context.Context, addr string) (net.Listener, error) {
	var lc net.ListenConfig
	ln, err := lc.Listen(ctx, "tcp", addr)
	if errors.Is(err, syscall.EADDRINUSE) {
		return nil, &AddrInUseError{Addr: addr, Err: err}
	}
	if err != nil {
		return nil, fmt.Errorf("listen on %s: %w", addr, err)
	}
	return ln, nil
}

// Ready is closed once Serve has its listener, so Addr and URL are valid.
func (s *Server) Ready() <-chan struct{} {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.ready
}

// Addr is the address being served (host:port), or "" before Serve.
func (s *Server) Addr() string {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.addr
}

// URL is the base URL of the served address, "http://127.0.0.1:8007" or
// https with TLS. An unspecified listen address (0.0.0.0, ::) maps to the
// loopback address of the same family, which the certificate covers.
func (s *Server) URL() string {
	addr := s.Addr()
	if addr == "" {
		return ""
	}
	if host, port, err := net.SplitHostPort(addr); err == nil {
		if ip := net.ParseIP(host); ip != nil && ip.IsUnspecified() {
			if ip.To4() != nil {
				addr = net.JoinHostPort("127.0.0.1", port)
			} else {
				addr = net.JoinHostPort("::1", port)
			}
		}
	}
	if s.tlsConfig != nil {
		return "https://" + addr
	}
	return "http://" + addr
}

// Certificate is the self-signed certificate served with Options.TLS (nil
// otherwise); clients can trust it instead of skipping verification.
func (s *Server) Certificate() *x509.Certificate {
	if s.cert == nil {
		return nil
	}
	return s.cert.Leaf
}

// selfSignedCert makes an ECDSA P-256 certificate for the loopback names.
func selfSignedCert(now time.Time) (*tls.Certificate, error) {
	key, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if err != nil {
		return nil, fmt.Errorf("generate TLS key: %w", err)
	}
	serial, err := rand.Int(rand.Reader, new(big.Int).Lsh(big.NewInt(1), 127))
	if err != nil {
		return nil, fmt.Errorf("generate TLS serial: %w", err)
	}
	tmpl := &x509.Certificate{
		SerialNumber:          serial,
		Subject:               pkix.Name{CommonName: "authbench localhost", Organization: []string{"authbench"}},
		NotBefore:             now.Add(-time.Hour), // tolerate small clock skew
		NotAfter:              now.Add(30 * 24 * time.Hour),
		KeyUsage:              x509.KeyUsageDigitalSignature,
		ExtKeyUsage:           []x509.ExtKeyUsage{x509.ExtKeyUsageServerAuth},
		BasicConstraintsValid: true,
		DNSNames:              []string{"localhost"},
		IPAddresses:           []net.IP{net.IPv4(127, 0, 0, 1), net.IPv6loopback},
	}
	der, err := x509.CreateCertificate(rand.Reader, tmpl, tmpl, &key.PublicKey, key)
	if err != nil {
		return nil, fmt.Errorf("create TLS certificate: %w", err)
	}
	leaf, err := x509.ParseCertificate(der)
	if err != nil {
		return nil, fmt.Errorf("parse TLS certificate: %w", err)
	}
	return &tls.Certificate{Certificate: [][]byte{der}, PrivateKey: key, Leaf: leaf}, nil
}

// PprofHandler serves the net/http/pprof endpoints under /debug/pprof/.
func PprofHandler() http.Handler {
	mux := http.NewServeMux()
	mux.HandleFunc("/debug/pprof/", pprof.Index)
	mux.HandleFunc("/debug/pprof/cmdline", pprof.Cmdline)
	mux.HandleFunc("/debug/pprof/profile", pprof.Profile)
	mux.HandleFunc("/debug/pprof/symbol", pprof.Symbol)
	mux.HandleFunc("/debug/pprof/trace", pprof.Trace)
	return mux
}

// ServePprof serves PprofHandler on its own listener at addr until ctx is
// cancelled, so profile downloads neither share the load's connections nor
// show up in its counters. It is plain HTTP even when the server uses TLS.
func (s *Server) ServePprof(ctx context.Context, addr string) error {
	ln, err := listen(ctx, addr)
	if err != nil {
		return fmt.Errorf("pprof: %w", err)
	}
	hs := &http.Server{
		Handler:           PprofHandler(),
		ReadHeaderTimeout: s.opts.ReadHeaderTimeout,
		MaxHeaderBytes:    s.opts.MaxHeaderBytes,
		ErrorLog:          slog.NewLogLogger(s.log.Handler(), slog.LevelWarn),
	}
	if err := serveUntil(ctx, hs, ln, s.opts.ShutdownTimeout); err != nil {
		return fmt.Errorf("pprof: %w", err)
	}
	return nil
}
