package server

import (
	"context"
	"encoding/json"
	"errors"
	"net/http"
	"net/http/httptest"
	"os"
	"runtime/pprof"
	"strings"
	"sync"
	"testing"

	"github.com/authbench/authbench/impl"
	"github.com/authbench/authbench/internal/authheader"
)

type fakeVerifier struct {
	verify func(ctx context.Context, id, secret string) (impl.Outcome, error)
}

func (f *fakeVerifier) Name() string      { return "fake" }
func (f *fakeVerifier) Stats() impl.Stats { return impl.Stats{} }
func (f *fakeVerifier) Bound() impl.Bound { return impl.Bound{} }
func (f *fakeVerifier) Verify(ctx context.Context, id, secret string) (impl.Outcome, error) {
	return f.verify(ctx, id, secret)
}

func TestNewOptions(t *testing.T) {
	f := newFixture(t, "ttl")
	tests := []struct {
		name string
		opts Options
		ok   bool
	}{
		{"no verifier", Options{}, false},
		{"defaults", Options{Verifier: f.v}, true},
		{"one form", Options{Verifier: f.v, Forms: []authheader.Form{authheader.FormPVE}}, true},
		{"unknown form", Options{Verifier: f.v, Forms: []authheader.Form{"Basic"}}, false},
		{"negative timeout", Options{Verifier: f.v, ReadHeaderTimeout: -1}, false},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			s, err := New(tt.opts)
			if (err == nil) != tt.ok {
				t.Fatalf("New: err = %v, want ok = %v", err, tt.ok)
			}
			if err == nil && (s.opts.ReadHeaderTimeout != DefaultReadHeaderTimeout || s.opts.MaxHeaderBytes != DefaultMaxHeaderBytes) {
				t.Errorf("defaults not applied: %+v", s.opts)
			}
		})
	}
}

func TestValidTokenAllForms(t *testing.T) {
	f := newFixture(t, "ttl")
	url := serve(t, f.server(Options{}))
	forms := map[string]string{
		"PBS":       "PBSAPIToken=" + testID + ":" + f.secret,
		"PBS space": "PBSAPIToken " + testID + ":" + f.secret,
		"PDM":       "PDMAPIToken=" + testID + ":" + f.secret,
		"PVE":       "PVEAPIToken=" + testID + "=" + f.secret,
	}
	for name, h := range forms {
		for _, path := range []string{PathVersion, PathStatus} {
			t.Run(name+path, func(t *testing.T) {
				resp, body := get(t, http.DefaultClient, url+path, h)
				if resp.StatusCode != http.StatusOK {
					t.Fatalf("status %d, body %s", resp.StatusCode, body)
				}
				var v struct {
					Data map[string]any `json:"data"`
				}
				if err := json.Unmarshal(body, &v); err != nil || len(v.Data) == 0 {
					t.Fatalf("body %s: %v", body, err)
				}
				if path == PathVersion && v.Data["version"] != Version {
					t.Errorf("version = %v", v.Data["version"])
				}
				if ct := resp.Header.Get("Content-Type"); !strings.HasPrefix(ct, "application/json") {
					t.Errorf("Content-Type %q", ct)
				}
			})
		}
	}
}

func TestFormsRestricted(t *testing.T) {
	f := newFixture(t, "ttl")
	url := serve(t, f.server(Options{Forms: []authheader.Form{authheader.FormPBS}}))
	if resp, _ := get(t, http.DefaultClient, url+PathVersion, f.header()); resp.StatusCode != http.StatusOK {
		t.Errorf("PBS form: status %d", resp.StatusCode)
	}
	resp, _ := get(t, http.DefaultClient, url+PathVersion, "PVEAPIToken="+testID+"="+f.secret)
	if resp.StatusCode != http.StatusUnauthorized {
		t.Errorf("PVE form not accepted: status %d, want 401", resp.StatusCode)
	}
	if got := resp.Header.Values("WWW-Authenticate"); len(got) != 1 || !strings.HasPrefix(got[0], "PBSAPIToken") {
		t.Errorf("WWW-Authenticate = %q", got)
	}
}

func TestRejected(t *testing.T) {
	f := newFixture(t, "ttl")
	url := serve(t, f.server(Options{}))
	// Warm the cache so rejections also run against a populated one.
	if resp, _ := get(t, http.DefaultClient, url+PathVersion, f.header()); resp.StatusCode != 200 {
		t.Fatalf("warm-up status %d", resp.StatusCode)
	}
	const none = "\x00" // marker: send no Authorization header at all
	tests := []struct {
		name   string
		header string
		also   int // another acceptable status, sent by net/http itself
	}{
		{"missing", none, 0},
		{"empty", "", 0},
		{"basic", "Basic dXNlcjpwYXNz", 0},
		{"bearer", "Bearer " + f.secret, 0},
		{"lowercase scheme", "pbsapitoken=" + testID + ":" + f.secret, 0},
		{"scheme only", "PBSAPIToken", 0},
		{"scheme and equals", "PBSAPIToken=", 0},
		{"no colon", "PBSAPIToken=" + testID, 0},
		{"empty secret", "PBSAPIToken=" + testID + ":", 0},
		{"empty id", "PBSAPIToken=:" + f.secret, 0},
		{"bad percent", "PBSAPIToken=" + testID + ":%zz" + f.secret, 0},
		{"percent not utf8", "PBSAPIToken=" + testID + ":%ff%fe", 0},
		{"not a token id", "PBSAPIToken=root@pam:" + f.secret, 0},
		{"pve with colon", "PVEAPIToken=" + testID + ":" + f.secret, 0},
		{"space in secret", "PBSAPIToken=" + testID + ":" + f.secret[:4] + " " + f.secret[4:], 0},
		{"control byte", "PBSAPIToken=" + testID + ":" + f.secret + "\x01", http.StatusBadRequest},
		{"tab in id", "PBSAPIToken=bench@pbs!\tload:" + f.secret, 0},
		{"wrong secret", "PBSAPIToken=" + testID + ":" + f.secret + "x", 0},
		{"unknown token", "PBSAPIToken=other@pbs!load:" + f.secret, 0},
		{"8 KiB", "PBSAPIToken=" + testID + ":" + strings.Repeat("a", 8<<10), 0},
		{"64 KiB", "PBSAPIToken=" + testID + ":" + strings.Repeat("a", 64<<10), http.StatusRequestHeaderFieldsTooLarge},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			req := "GET " + PathVersion + " HTTP/1.1\r\nHost: test\r\nConnection: close\r\n"
			if tt.header != none {
				req += "Authorization: " + tt.header + "\r\n"
			}
			resp, body := rawRequest(t, url, req+"\r\n")
			if resp.StatusCode >= 500 {
				t.Fatalf("status %d: a 5xx for a client problem", resp.StatusCode)
			}
			if tt.also != 0 && resp.StatusCode == tt.also {
				return
			}
			if resp.StatusCode != http.StatusUnauthorized {
				t.Fatalf("status %d, want 401", resp.StatusCode)
			}
			var e struct{ Errors string }
			if err := json.Unmarshal(body, &e); err != nil || e.Errors != "authentication failed" {
				t.Errorf("body %q (%v)", body, err)
			}
			if len(resp.Header.Values("WWW-Authenticate")) != 3 {
				t.Errorf("WWW-Authenticate = %q", resp.Header.Values("WWW-Authenticate"))
			}
		})
	}
}

func TestMethodAndPath(t *testing.T) {
	f := newFixture(t, "ttl")
	s := f.server(Options{})
	tests := []struct {
		method, path string
		auth         bool
		want         int
	}{
		{http.MethodPost, PathVersion, true, http.StatusMethodNotAllowed},
		{http.MethodPost, PathVersion, false, http.StatusMethodNotAllowed},
		{http.MethodDelete, PathNoAuthVersion, false, http.StatusMethodNotAllowed},
		{http.MethodPut, PathStats, false, http.StatusMethodNotAllowed},
		{http.MethodHead, PathVersion, true, http.StatusOK},
		{http.MethodGet, "/api2/json/nope", true, http.StatusNotFound},
		{http.MethodGet, PathVersion + "/", true, http.StatusNotFound},
	}
	for _, tt := range tests {
		t.Run(tt.method+tt.path, func(t *testing.T) {
			req := httptest.NewRequest(tt.method, tt.path, nil)
			if tt.auth {
				req.Header.Set("Authorization", f.header())
			}
			rec := httptest.NewRecorder()
			s.ServeHTTP(rec, req)
			if rec.Code != tt.want {
				t.Fatalf("status %d, want %d", rec.Code, tt.want)
			}
			if tt.want == http.StatusMethodNotAllowed && rec.Header().Get("Allow") == "" {
				t.Error("405 without Allow")
			}
		})
	}
}

func TestNoAuthControl(t *testing.T) {
	f := newFixture(t, "ttl")
	url := serve(t, f.server(Options{}))
	resp, body := get(t, http.DefaultClient, url+PathNoAuthVersion, "")
	if resp.StatusCode != http.StatusOK {
		t.Fatalf("status %d", resp.StatusCode)
	}
	_, authBody := get(t, http.DefaultClient, url+PathVersion, f.header())
	if string(body) != string(authBody) {
		t.Errorf("control body %s differs from authenticated body %s", body, authBody)
	}
	// A bad header does not matter on the control route.
	if resp, _ := get(t, http.DefaultClient, url+PathNoAuthVersion, "Basic x"); resp.StatusCode != http.StatusOK {
		t.Errorf("control with junk header: status %d", resp.StatusCode)
	}
}

func TestStatsEndpoint(t *testing.T) {
	f := newFixture(t, "ttl")
	url := serve(t, f.server(Options{}))
	for range 3 {
		get(t, http.DefaultClient, url+PathVersion, f.header())
	}
	get(t, http.DefaultClient, url+PathVersion, f.header()+"x")
	get(t, http.DefaultClient, url+PathNoAuthVersion, "")
	get(t, http.DefaultClient, url+PathStats, "") // not counted
	resp, body := get(t, http.DefaultClient, url+PathStats, "")
	if resp.StatusCode != http.StatusOK {
		t.Fatalf("status %d", resp.StatusCode)
	}
	var st Stats
	if err := json.Unmarshal(body, &st); err != nil {
		t.Fatalf("%s: %v", body, err)
	}
	if st.PID != os.Getpid() || st.CPUSeconds <= 0 || st.UptimeS <= 0 {
		t.Errorf("process fields %+v: want this pid, CPU time and uptime > 0", st)
	}
	if st.Verifier != "ttl" || !st.ShadowHealthy || st.Panics != 0 {
		t.Errorf("stats %+v", st)
	}
	if st.Requests["200"] != 4 || st.Requests["401"] != 1 || len(st.Requests) != 2 {
		t.Errorf("requests %v, want 200:4 401:1", st.Requests)
	}
	if st.Verify.Fast+st.Verify.Slow != 4 || st.Verify.Rejected != 1 {
		t.Errorf("verifier stats %+v", st.Verify)
	}
}

func TestHealthLogTransitions(t *testing.T) {
	f := newFixture(t, "uncached")
	var logs syncBuffer
	s := f.server(Options{Logger: newLogger(&logs)})
	url := serve(t, s)
	good, err := os.ReadFile(f.store.Path())
	if err != nil {
		t.Fatal(err)
	}
	expect := func(header string, want int) {
		t.Helper()
		if resp, _ := get(t, http.DefaultClient, url+PathVersion, header); resp.StatusCode != want {
			t.Fatalf("status %d, want %d", resp.StatusCode, want)
		}
	}
	expect(f.header(), 200)
	expect(f.header()+"x", 401) // a wrong secret is not a health event
	if err := os.WriteFile(f.store.Path(), []byte(`{"`+testID+`": garbage`), 0o640); err != nil {
		t.Fatal(err)
	}
	var wg sync.WaitGroup
	for range 5 {
		wg.Go(func() {
			for range 10 {
				req, _ := http.NewRequest(http.MethodGet, url+PathVersion, nil)
				req.Header.Set("Authorization", f.header())
				resp, err := http.DefaultClient.Do(req)
				if err != nil {
					t.Error(err)
					return
				}
				resp.Body.Close()
				if resp.StatusCode != http.StatusUnauthorized {
					t.Errorf("broken file: status %d, want 401", resp.StatusCode)
				}
			}
		})
	}
	wg.Wait()
	if s.Stats().ShadowHealthy {
		t.Error("stats say healthy while the file is garbage")
	}
	if err := os.WriteFile(f.store.Path(), good, 0o640); err != nil {
		t.Fatal(err)
	}
	expect(f.header(), 200)
	expect(f.header(), 200)
	expect(f.header()+"x", 401)

	out := logs.String()
	lines := strings.Split(strings.TrimSpace(out), "\n")
	if len(lines) != 2 || !strings.Contains(lines[0], "token.shadow unreadable") || !strings.Contains(lines[1], "token.shadow readable again") {
		t.Fatalf("want exactly one unreadable and one recovered line, got:\n%s", out)
	}
	if !strings.Contains(lines[0], f.store.Path()) {
		t.Errorf("unreadable line does not name the file: %s", lines[0])
	}
	for _, leak := range []string{f.secret, "APIToken", "$5$", "garbage"} {
		if strings.Contains(out, leak) {
			t.Errorf("log contains %q:\n%s", leak, out)
		}
	}
}

func TestPanicInVerifierIs401(t *testing.T) {
	const secret = "s3cr3t-value"
	var logs syncBuffer
	s, err := New(Options{
		Logger: newLogger(&logs),
		Verifier: &fakeVerifier{verify: func(_ context.Context, id, secret string) (impl.Outcome, error) {
			panic("verifier exploded on " + id + ":" + secret)
		}},
	})
	if err != nil {
		t.Fatal(err)
	}
	for range 3 {
		req := httptest.NewRequest(http.MethodGet, PathVersion, nil)
		req.Header.Set("Authorization", "PBSAPIToken="+testID+":"+secret)
		rec := httptest.NewRecorder()
		s.ServeHTTP(rec, req)
		if rec.Code != http.StatusUnauthorized || !strings.Contains(rec.Body.String(), "authentication failed") {
			t.Fatalf("status %d body %q, want 401", rec.Code, rec.Body)
		}
	}
	if got := s.Stats().Panics; got != 3 {
		t.Errorf("panics = %d, want 3", got)
	}
	out := logs.String()
	if n := strings.Count(out, "panic in auth path"); n != 1 {
		t.Errorf("%d panic log lines, want 1:\n%s", n, out)
	}
	if strings.Contains(out, secret) || strings.Contains(out, "exploded") {
		t.Errorf("log repeats the panic value:\n%s", out)
	}
}

func TestOddOutcomeAndErrors(t *testing.T) {
	tests := []struct {
		name    string
		outcome impl.Outcome
		err     error
		want    int
	}{
		{"out-of-range outcome accepted", impl.Outcome(42), nil, http.StatusOK},
		{"plain error", impl.OutcomeSlow, errors.New("boom"), http.StatusUnauthorized},
		{"os error", impl.OutcomeSlow, &os.PathError{Op: "open", Path: "/x", Err: os.ErrPermission}, http.StatusUnauthorized},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			s, err := New(Options{Verifier: &fakeVerifier{verify: func(context.Context, string, string) (impl.Outcome, error) {
				return tt.outcome, tt.err
			}}})
			if err != nil {
				t.Fatal(err)
			}
			req := httptest.NewRequest(http.MethodGet, PathStatus, nil)
			req.Header.Set("Authorization", "PBSAPIToken="+testID+":x")
			rec := httptest.NewRecorder()
			s.ServeHTTP(rec, req)
			if rec.Code != tt.want {
				t.Errorf("status %d, want %d", rec.Code, tt.want)
			}
		})
	}
}

func TestPprofLabelsSeenByVerifier(t *testing.T) {
	var verifierLabel, outcomeLabel string
	s, err := New(Options{Verifier: &fakeVerifier{verify: func(ctx context.Context, _, _ string) (impl.Outcome, error) {
		verifierLabel, _ = pprof.Label(ctx, "verifier")
		outcomeLabel, _ = pprof.Label(ctx, "outcome")
		return impl.OutcomeFast, nil
	}}})
	if err != nil {
		t.Fatal(err)
	}
	req := httptest.NewRequest(http.MethodGet, PathVersion, nil)
	req.Header.Set("Authorization", "PBSAPIToken="+testID+":x")
	s.ServeHTTP(httptest.NewRecorder(), req)
	if verifierLabel != "fake" || outcomeLabel != "fast" {
		t.Errorf("labels verifier=%q outcome=%q, want fake, fast", verifierLabel, outcomeLabel)
	}
}
