package loadgen

import (
	"bufio"
	"context"
	"crypto/tls"
	"errors"
	"fmt"
	"math"
	"net"
	"net/http"
	"os"
	"path/filepath"
	"sync"
	"time"

	vegeta "github.com/tsenart/vegeta/v12/lib"
)

// Options configures one Attack. The zero value of every field is a usable
// default except Rate and Duration.
type Options struct {
	// Name labels the results (vegeta's Result.Attack).
	Name string
	// Rate is the offered rate in requests per second; it may be fractional.
	Rate float64
	// Duration is the measured window.
	Duration time.Duration
	// Warmup precedes the measured window at the same rate; its results are
	// discarded. See Attack for how the windows are separated.
	Warmup time.Duration
	// Workers is vegeta's initial worker count (0: vegeta's default, 10).
	Workers uint64
	// MaxWorkers caps the workers (0: unbounded, vegeta's open model). A
	// cap makes vegeta send fewer requests than offered when the server is
	// slow; Result.ShortOfTarget reports it.
	MaxWorkers uint64
	// Timeout bounds each request (0: vegeta's default, 30 s).
	Timeout time.Duration
	// Connections is the number of idle connections kept per host
	// (0: vegeta's default, 10000).
	Connections int
	// MaxConnections caps connections per host (0: unlimited).
	MaxConnections int
	// HTTP2 enables HTTP/2 over TLS; off by default because PBS clients
	// (and the hot path being measured) use HTTP/1.1.
	HTTP2 bool
	// DisableKeepAlive opens a new connection per request.
	DisableKeepAlive bool
	// VerifyTLS verifies the server certificate. Off by default: benchmark
	// servers use self-signed certificates.
	VerifyTLS bool
	// ResultsPath, if set, receives the measured (post-warm-up) results in
	// vegeta's gob encoding, readable by `vegeta report`. Response bodies
	// and headers are not stored.
	ResultsPath string
	// OnMeasureStart and OnMeasureEnd, if set, are called once each, in
	// that order, from a separate goroutine at the start and end of the
	// measured window (e.g. to start and stop a server CPU profile). If
	// the attack is interrupted before the window starts neither is called.
	// Attack returns only after both have returned.
	OnMeasureStart func()
	OnMeasureEnd   func()
}

// KindCount counts the measured results of one request kind.
type KindCount struct {
	Requests uint64 `json:"requests"`
	Expected uint64 `json:"expected"` // answered with Expect(kind)
}

// Result summarises the measured window of an attack.
type Result struct {
	Name string `json:"name"`
	// Metrics are vegeta's metrics over the measured results only.
	Metrics vegeta.Metrics `json:"metrics"`
	// OfferedRPS is Options.Rate.
	OfferedRPS float64 `json:"offered_rps"`
	// AchievedRPS is vegeta's Metrics.Rate: measured requests divided by
	// the span of their send times.
	AchievedRPS float64 `json:"achieved_rps"`
	// ShortOfTarget is set when AchievedRPS < 0.99 × OfferedRPS. On windows
	// of only a few dozen requests one late send moves the rate by a few
	// per cent, so measure for seconds, not milliseconds.
	ShortOfTarget bool `json:"short_of_target"`
	// Expected counts results whose status matches their kind (see
	// Expected); ExpectedRatio is Expected / Metrics.Requests.
	Expected      uint64  `json:"expected"`
	ExpectedRatio float64 `json:"expected_ratio"`
	// StatusCodes is the histogram of status codes (0: transport error).
	StatusCodes map[int]uint64 `json:"status_codes"`
	// Kinds breaks the results down by request kind (only kinds seen).
	Kinds map[Kind]KindCount `json:"kinds"`
	// Start and End are the wall-clock bounds of the measured window:
	// results sent from Start on are measured; End is Start+Duration, or
	// the moment the attack ended early. Both are zero if the window never
	// opened. The measure callbacks run as close to them as scheduling
	// allows.
	Start time.Time `json:"start"`
	End   time.Time `json:"end"`
	// Discarded counts results sent outside the window: the warm-up, and
	// the odd request stamped just after End (vegeta's clock starts a
	// moment after ours).
	Discarded uint64 `json:"discarded"`
	// Aborted counts requests cut off by cancellation; they are not in
	// Metrics.
	Aborted uint64 `json:"aborted"`
	// Interrupted is set when ctx ended the attack early.
	Interrupted bool `json:"interrupted"`
}

// shortFactor is the achieved/offered ratio below which an attack did not
// deliver its offered load.
const shortFactor = 0.99

// Attack runs tr at opts.Rate for opts.Warmup + opts.Duration as a single
// continuous vegeta attack and measures only the results whose send time
// falls in the window [Start, End] after the warm-up. One attack, rather than a warm-up attack followed
// by a measured one, keeps the load free of the gap and worker ramp-up a
// second attack would introduce.
//
// Cancelling ctx stops the attack promptly: no new requests are sent and
// in-flight ones are cut off by closing their connections. The partial
// result is returned with Interrupted set and a nil error; the cut-off
// requests are counted in Aborted, not in Metrics.
func Attack(ctx context.Context, tr vegeta.Targeter, opts Options) (*Result, error) {
	tp, err := newTransport(opts)
	if err != nil {
		return nil, err
	}
	defer tp.close()
	return attack(ctx, tr, opts, tp)
}

func attack(ctx context.Context, tr vegeta.Targeter, opts Options, tp *transport) (*Result, error) {
	if tr == nil {
		return nil, errors.New("attack: nil targeter")
	}
	pacer, err := pacerFor(opts.Rate)
	if err != nil {
		return nil, fmt.Errorf("attack: %w", err)
	}
	if opts.Duration <= 0 {
		return nil, fmt.Errorf("attack: duration %v, want > 0", opts.Duration)
	}
	if opts.Warmup < 0 {
		return nil, fmt.Errorf("attack: warm-up %v, want >= 0", opts.Warmup)
	}
	res := &Result{
		Name:        opts.Name,
		OfferedRPS:  opts.Rate,
		StatusCodes: map[int]uint64{},
		Kinds:       map[Kind]KindCount{},
	}
	if ctx.Err() != nil {
		res.Interrupted, res.ShortOfTarget = true, true
		return res, nil
	}

	var sink *resultSink
	if opts.ResultsPath != "" {
		if sink, err = newResultSink(opts.ResultsPath); err != nil {
			return nil, fmt.Errorf("attack: %w", err)
		}
		defer sink.abort()
	}

	vopts := []func(*vegeta.Attacker){
		vegeta.Client(&http.Client{Transport: tp.rt}),
		vegeta.Timeout(opts.Timeout),
		vegeta.MaxBody(0), // bodies are not looked at; skip buffering them
		vegeta.Redirects(vegeta.NoFollow),
	}
	if opts.Timeout <= 0 {
		vopts[1] = vegeta.Timeout(vegeta.DefaultTimeout)
	}
	if opts.Workers > 0 {
		vopts = append(vopts, vegeta.Workers(opts.Workers))
	}
	if opts.MaxWorkers > 0 {
		vopts = append(vopts, vegeta.MaxWorkers(opts.MaxWorkers))
	}
	atk := vegeta.NewAttacker(vopts...)

	// The measured window is timed independently of result arrival so the
	// callbacks bracket the load itself, not the drain of slow responses.
	win := newWindow(opts)
	began := time.Now()
	measureFrom := began.Add(opts.Warmup)
	measureTo := measureFrom.Add(opts.Duration)
	if opts.Warmup == 0 {
		win.begin(measureFrom) // before the first request, so a profile sees all of it
	}
	results := atk.Attack(tr, pacer, opts.Warmup+opts.Duration, opts.Name)
	attackDone := make(chan struct{})
	winDone := make(chan struct{})
	go func() {
		defer close(winDone)
		win.run(ctx, attackDone, measureFrom, opts.Duration)
	}()
	stopWatch := context.AfterFunc(ctx, func() {
		atk.Stop()
		tp.abort() // cut in-flight requests instead of waiting out Timeout
	})

	for r := range results {
		if ctx.Err() != nil && r.Code == 0 && r.Error != "" {
			res.Aborted++
			continue
		}
		if r.Timestamp.Before(measureFrom) || r.Timestamp.After(measureTo) {
			res.Discarded++
			continue
		}
		res.Metrics.Add(r)
		res.StatusCodes[int(r.Code)]++
		if k, ok := KindOf(r); ok {
			kc := res.Kinds[k]
			kc.Requests++
			if int(r.Code) == Expect(k) {
				kc.Expected++
			}
			res.Kinds[k] = kc
		}
		if Expected(r) {
			res.Expected++
		}
		if sink != nil {
			r.Body, r.Headers = nil, nil
			if err := sink.enc.Encode(r); err != nil && sink.err == nil {
				sink.err = err
				atk.Stop()
			}
		}
	}
	close(attackDone)
	stopWatch()
	<-winDone

	res.Metrics.Close()
	res.Start, res.End = win.start, win.end
	res.Interrupted = ctx.Err() != nil
	res.AchievedRPS = res.Metrics.Rate
	res.ShortOfTarget = res.AchievedRPS < shortFactor*res.OfferedRPS
	if n := res.Metrics.Requests; n > 0 {
		res.ExpectedRatio = float64(res.Expected) / float64(n)
	}
	if sink != nil {
		if err := sink.commit(); err != nil {
			return res, fmt.Errorf("attack: %w", err)
		}
	}
	return res, nil
}

// pacerFor converts a float rate into vegeta's integer Freq per Per.
// Fractional rates are expressed per 1000 s, which keeps 0.001 req/s
// resolution; vegeta then paces by interval alone.
func pacerFor(rate float64) (vegeta.Rate, error) {
	if !(rate > 0) || math.IsInf(rate, 0) {
		return vegeta.Rate{}, fmt.Errorf("rate %v req/s, want a finite value > 0", rate)
	}
	if rate == math.Trunc(rate) && rate <= math.MaxInt32 {
		return vegeta.Rate{Freq: int(rate), Per: time.Second}, nil
	}
	freq := math.Round(rate * 1000)
	if freq < 1 || freq > math.MaxInt32 {
		return vegeta.Rate{}, fmt.Errorf("rate %v req/s out of range", rate)
	}
	return vegeta.Rate{Freq: int(freq), Per: 1000 * time.Second}, nil
}

// window calls the measure callbacks at the window edges.
type window struct {
	onStart, onEnd func()
	started        bool
	start, end     time.Time
}

func newWindow(opts Options) *window {
	return &window{onStart: opts.OnMeasureStart, onEnd: opts.OnMeasureEnd}
}

func (w *window) begin(from time.Time) {
	w.started = true
	w.start = from
	if w.onStart != nil {
		w.onStart()
	}
}

// run waits for the window to open and close; an early end of the attack
// or of ctx closes it early.
func (w *window) run(ctx context.Context, attackDone <-chan struct{}, from time.Time, d time.Duration) {
	if !w.started {
		t := time.NewTimer(time.Until(from))
		select {
		case <-t.C:
			w.begin(from)
		case <-attackDone:
			t.Stop()
			return
		case <-ctx.Done():
			t.Stop()
			return
		}
	}
	end := from.Add(d)
	t := time.NewTimer(time.Until(end))
	select {
	case <-t.C:
	case <-attackDone:
		t.Stop()
		end = time.Now()
	case <-ctx.Done():
		t.Stop()
		end = time.Now()
	}
	w.end = end
	if w.onEnd != nil {
		w.onEnd()
	}
}

// resultSink writes results atomically: a temp file renamed on success.
type resultSink struct {
	path string
	f    *os.File
	bw   *bufio.Writer
	enc  vegeta.Encoder
	err  error
	done bool
}

func newResultSink(path string) (*resultSink, error) {
	dir, base := filepath.Split(path)
	if dir == "" {
		dir = "."
	}
	f, err := os.CreateTemp(dir, "."+base+".tmp-*")
	if err != nil {
		return nil, fmt.Errorf("results file: %w", err)
	}
	bw := bufio.NewWriterSize(f, 64<<10)
	return &resultSink{path: path, f: f, bw: bw, enc: vegeta.NewEncoder(bw)}, nil
}

func (s *resultSink) commit() error {
	s.done = true
	err := s.err
	if err == nil {
		err = s.bw.Flush()
	}
	if err == nil {
		err = s.f.Chmod(0o644)
	}
	if cerr := s.f.Close(); err == nil {
		err = cerr
	}
	if err == nil {
		err = os.Rename(s.f.Name(), s.path)
	}
	if err != nil {
		os.Remove(s.f.Name())
		return fmt.Errorf("results file %s: %w", s.path, err)
	}
	return nil
}

// abort discards the temp file unless commit ran.
func (s *resultSink) abort() {
	if !s.done {
		s.f.Close()
		os.Remove(s.f.Name())
	}
}

// transport is the HTTP transport of one or more attacks plus a registry
// of its connections, so cancellation can cut in-flight requests: vegeta
// builds requests without a context, so closing the sockets is the only
// prompt way to stop them.
type transport struct {
	rt *http.Transport

	mu      sync.Mutex
	conns   map[*trackedConn]struct{}
	aborted bool
}

var errAborted = errors.New("attack cancelled")

func newTransport(opts Options) (*transport, error) {
	if opts.Connections < 0 || opts.MaxConnections < 0 {
		return nil, errors.New("attack: negative connection count")
	}
	tp := &transport{conns: map[*trackedConn]struct{}{}}
	dialer := &net.Dialer{KeepAlive: 30 * time.Second}
	if opts.DisableKeepAlive {
		dialer.KeepAlive = 0
	}
	idle := opts.Connections
	if idle == 0 {
		idle = vegeta.DefaultConnections
	}
	tp.rt = &http.Transport{
		Proxy:               http.ProxyFromEnvironment,
		DialContext:         tp.dial(dialer),
		TLSClientConfig:     &tls.Config{InsecureSkipVerify: !opts.VerifyTLS}, //nolint:gosec // self-signed benchmark servers
		MaxIdleConns:        idle,
		MaxIdleConnsPerHost: idle,
		MaxConnsPerHost:     opts.MaxConnections,
		DisableKeepAlives:   opts.DisableKeepAlive,
		ForceAttemptHTTP2:   opts.HTTP2,
	}
	if !opts.HTTP2 {
		// A non-nil empty map is how net/http is told never to negotiate h2.
		tp.rt.TLSNextProto = map[string]func(string, *tls.Conn) http.RoundTripper{}
	}
	return tp, nil
}

func (tp *transport) dial(d *net.Dialer) func(context.Context, string, string) (net.Conn, error) {
	return func(ctx context.Context, network, addr string) (net.Conn, error) {
		c, err := d.DialContext(ctx, network, addr)
		if err != nil {
			return nil, err
		}
		tc := &trackedConn{Conn: c, tp: tp}
		tp.mu.Lock()
		defer tp.mu.Unlock()
		if tp.aborted {
			c.Close()
			return nil, errAborted
		}
		tp.conns[tc] = struct{}{}
		return tc, nil
	}
}

// abort closes every connection and refuses new ones.
func (tp *transport) abort() {
	tp.mu.Lock()
	tp.aborted = true
	conns := tp.conns
	tp.conns = map[*trackedConn]struct{}{}
	tp.mu.Unlock()
	for c := range conns {
		c.Conn.Close()
	}
}

func (tp *transport) close() { tp.rt.CloseIdleConnections() }

type trackedConn struct {
	net.Conn
	tp   *transport
	once sync.Once
}

func (c *trackedConn) Close() error {
	c.once.Do(func() {
		c.tp.mu.Lock()
		delete(c.tp.conns, c)
		c.tp.mu.Unlock()
	})
	return c.Conn.Close()
}
