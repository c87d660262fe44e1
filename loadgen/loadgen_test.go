package loadgen

import (
	"errors"
	"fmt"
	"net/http"
	"net/http/httptest"
	"net/url"
	"os"
	"path/filepath"
	"reflect"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	vegeta "github.com/tsenart/vegeta/v12/lib"
)

func testTokens(n int) []Token {
	ts := make([]Token, n)
	for i := range ts {
		ts[i] = Token{
			ID:     fmt.Sprintf("bench@pbs!tok%d", i),
			Secret: fmt.Sprintf("5ec2e7a0-0000-4000-8000-%012d", i),
		}
	}
	return ts
}

// authServer answers 200 only for the exact header of a known token, 401
// otherwise, and 500 if a kind fragment ever reaches it. delay, if set,
// is applied to every request; onHit, if set, sees the running hit count.
func authServer(t testing.TB, f Form, tokens []Token, delay time.Duration, onHit func(int64)) (*httptest.Server, *atomic.Int64) {
	t.Helper()
	valid := map[string]bool{}
	for _, tk := range tokens {
		valid[Header(f, tk)] = true
	}
	var hits atomic.Int64
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		n := hits.Add(1)
		if onHit != nil {
			onHit(n)
		}
		if delay > 0 {
			select {
			case <-time.After(delay):
			case <-r.Context().Done():
				return
			}
		}
		if r.URL.Fragment != "" || strings.Contains(r.RequestURI, "#") {
			http.Error(w, "fragment sent", http.StatusInternalServerError)
			return
		}
		if valid[r.Header.Get("Authorization")] {
			w.WriteHeader(http.StatusOK)
			return
		}
		w.WriteHeader(http.StatusUnauthorized)
	}))
	t.Cleanup(srv.Close)
	return srv, &hits
}

// parseHeader mimics the servers' splitting, to check Header round-trips.
func parseHeader(t *testing.T, f Form, h string) Token {
	t.Helper()
	rest, ok := strings.CutPrefix(h, f.prefix())
	if !ok {
		t.Fatalf("header lacks prefix %q", f.prefix())
	}
	if f == FormPVE {
		i := strings.LastIndexByte(rest, '=')
		return Token{ID: rest[:i], Secret: rest[i+1:]}
	}
	id, enc, _ := strings.Cut(rest, ":")
	secret, err := url.PathUnescape(enc)
	if err != nil {
		t.Fatalf("percent-decode: %v", err)
	}
	return Token{ID: id, Secret: secret}
}

func TestHeader(t *testing.T) {
	uuid := Token{ID: "root@pam!bench", Secret: "0f1e2d3c-4b5a-4978-8695-a4b3c2d1e0f9"}
	odd := Token{ID: "u@pbs!t", Secret: "a b/c%d+é:=?"}
	tests := []struct {
		form Form
		tok  Token
		want string
	}{
		{FormPBS, uuid, "PBSAPIToken=root@pam!bench:0f1e2d3c-4b5a-4978-8695-a4b3c2d1e0f9"},
		{FormPDM, uuid, "PDMAPIToken=root@pam!bench:0f1e2d3c-4b5a-4978-8695-a4b3c2d1e0f9"},
		{FormPVE, uuid, "PVEAPIToken=root@pam!bench=0f1e2d3c-4b5a-4978-8695-a4b3c2d1e0f9"},
		{FormPBS, odd, "PBSAPIToken=u@pbs!t:a%20b%2Fc%25d%2B%C3%A9%3A%3D%3F"},
		{FormPDM, odd, "PDMAPIToken=u@pbs!t:a%20b%2Fc%25d%2B%C3%A9%3A%3D%3F"},
	}
	for _, tt := range tests {
		t.Run(tt.form.String()+"/"+tt.tok.ID, func(t *testing.T) {
			got := Header(tt.form, tt.tok)
			if got != tt.want {
				t.Fatalf("Header = %q, want %q", got, tt.want)
			}
			if back := parseHeader(t, tt.form, got); back != tt.tok {
				t.Fatalf("server would parse %+v, want %+v", back, tt.tok)
			}
		})
	}
}

func TestParseForm(t *testing.T) {
	for _, f := range []Form{FormPBS, FormPDM, FormPVE} {
		got, err := ParseForm(strings.ToUpper(f.String()))
		if err != nil || got != f {
			t.Errorf("ParseForm(%q) = %v, %v", f, got, err)
		}
	}
	if _, err := ParseForm("bearer"); err == nil {
		t.Error("ParseForm(bearer) succeeded")
	}
}

func TestTokensRoundTrip(t *testing.T) {
	dir := t.TempDir()
	path := filepath.Join(dir, "tokens.txt")
	want := testTokens(3)
	if err := WriteTokens(path, want); err != nil {
		t.Fatal(err)
	}
	fi, err := os.Stat(path)
	if err != nil {
		t.Fatal(err)
	}
	if perm := fi.Mode().Perm(); perm != 0o600 {
		t.Errorf("mode %o, want 600", perm)
	}
	got, err := ReadTokens(path)
	if err != nil {
		t.Fatal(err)
	}
	if !reflect.DeepEqual(got, want) {
		t.Errorf("read %+v, want %+v", got, want)
	}
	// Overwrite goes through rename and leaves no temp file behind.
	if err := WriteTokens(path, want[:1]); err != nil {
		t.Fatal(err)
	}
	entries, _ := os.ReadDir(dir)
	if len(entries) != 1 {
		t.Errorf("directory holds %d entries, want only the tokens file", len(entries))
	}
}

func TestReadTokensErrors(t *testing.T) {
	const secret = "d6f3a1b2-7c44-4e0a-9f1e-c0ffee000001"
	tests := []struct {
		name, content, wantLine string
	}{
		{"missing colon", "# c\n\nbench@pbs!a " + secret + "\n", ":3:"},
		{"empty secret", "bench@pbs!a:\n", ":1:"},
		{"not a token id", "x@pbs!a:" + secret + "\nbench:" + secret + "\n", ":2:"},
		{"whitespace in secret", "bench@pbs!a:" + secret + " x\n", ":1:"},
		{"duplicate", "bench@pbs!a:" + secret + "\n#\nbench@pbs!a:" + secret + "\n", ":3:"},
		{"empty id", ":" + secret + "\n", ":1:"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			path := filepath.Join(t.TempDir(), "tokens")
			if err := os.WriteFile(path, []byte(tt.content), 0o600); err != nil {
				t.Fatal(err)
			}
			_, err := ReadTokens(path)
			if err == nil {
				t.Fatal("no error")
			}
			if !errors.Is(err, ErrBadTokensFile) {
				t.Errorf("error %q does not wrap ErrBadTokensFile", err)
			}
			if !strings.Contains(err.Error(), tt.wantLine) {
				t.Errorf("error %q lacks line %s", err, tt.wantLine)
			}
			if strings.Contains(err.Error(), secret[:8]) {
				t.Errorf("error %q leaks the secret", err)
			}
		})
	}
	if _, err := ReadTokens(filepath.Join(t.TempDir(), "missing")); !errors.Is(err, os.ErrNotExist) {
		t.Errorf("missing file: %v, want ErrNotExist", err)
	}
	if err := WriteTokens(filepath.Join(t.TempDir(), "t"), []Token{{ID: "a@b!c", Secret: "has space"}}); err == nil || strings.Contains(err.Error(), "has space") {
		t.Errorf("WriteTokens bad secret: %v", err)
	}
}

func drain(t testing.TB, tr vegeta.Targeter, n int) []vegeta.Target {
	t.Helper()
	out := make([]vegeta.Target, n)
	for i := range out {
		if err := tr(&out[i]); err != nil {
			t.Fatal(err)
		}
	}
	return out
}

func kindOfTarget(t testing.TB, tg vegeta.Target) Kind {
	t.Helper()
	k, ok := KindOf(&vegeta.Result{URL: tg.URL})
	if !ok {
		t.Fatalf("target URL %q carries no kind", tg.URL)
	}
	if h := tg.Header.Get(KindHeader); h != k.String() {
		t.Fatalf("kind header %q, URL kind %q", h, k)
	}
	return k
}

func TestMixProportions(t *testing.T) {
	tokens := testTokens(3)
	known := map[string]bool{}
	validHdr := map[string]bool{}
	for _, tk := range tokens {
		known[tk.ID] = true
		validHdr[Header(FormPBS, tk)] = true
	}
	tests := []struct {
		name string
		mix  Mix
	}{
		{"all valid", Mix{Valid: 1}},
		{"even", Mix{1, 1, 1, 1}},
		{"skewed", Mix{Valid: 0.9, WrongSecret: 0.05, Unknown: 0.03, Malformed: 0.02}},
		{"tiny weight", Mix{Valid: 1, Malformed: 1e-6}},
	}
	const n = 20480
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			m, err := NewMixTargeter("http://127.0.0.1/api2/json/version#frag", tokens, tt.mix, FormPBS, 7)
			if err != nil {
				t.Fatal(err)
			}
			var counts [numKinds]int
			perToken := map[string]int{}
			for _, tg := range drain(t, m.Targeter(), n) {
				k := kindOfTarget(t, tg)
				counts[k]++
				auth := tg.Header.Get("Authorization")
				switch k {
				case KindValid:
					if !validHdr[auth] {
						t.Fatalf("valid target has unknown header")
					}
					perToken[auth]++
				case KindWrongSecret, KindUnknown:
					if validHdr[auth] {
						t.Fatalf("%s target authenticates", k)
					}
					id, _, _ := strings.Cut(strings.TrimPrefix(auth, "PBSAPIToken="), ":")
					if known[id] != (k == KindWrongSecret) {
						t.Fatalf("%s target has id %q (known=%v)", k, id, known[id])
					}
				case KindMalformed:
					if validHdr[auth] {
						t.Fatal("malformed target authenticates")
					}
				}
			}
			for _, k := range AllKinds() {
				want := tt.mix.Fraction(k)
				got := float64(counts[k]) / n
				if d := got - want; d > 0.002 || d < -0.002 {
					t.Errorf("%s: share %.4f, want %.4f", k, got, want)
				}
				if want > 0 && counts[k] == 0 {
					t.Errorf("%s: positive weight but never generated", k)
				}
			}
			// Valid requests rotate evenly over the tokens.
			for h, c := range perToken {
				if exp := counts[KindValid] / len(tokens); c < exp-1 || c > exp+1 {
					t.Errorf("token %q used %d times, want ~%d", h[:20], c, exp)
				}
			}
		})
	}
}

func TestTargeterDeterministic(t *testing.T) {
	tokens := testTokens(2)
	mix := Mix{1, 1, 1, 1}
	a := drain(t, NewTargeter("http://h/x", tokens, mix, FormPDM, 42), 3000)
	b := drain(t, NewTargeter("http://h/x", tokens, mix, FormPDM, 42), 3000)
	c := drain(t, NewTargeter("http://h/x", tokens, mix, FormPDM, 43), 3000)
	if !reflect.DeepEqual(a, b) {
		t.Error("same seed, different sequences")
	}
	if reflect.DeepEqual(a, c) {
		t.Error("different seeds, same sequence")
	}
}

func TestTargeterMalformedVariants(t *testing.T) {
	for _, f := range []Form{FormPBS, FormPDM, FormPVE} {
		m, err := NewMixTargeter("http://h/x", testTokens(1), Mix{Malformed: 1}, f, 1)
		if err != nil {
			t.Fatal(err)
		}
		seen := map[string]bool{}
		noHeader := false
		for _, tg := range drain(t, m.Targeter(), m.Variants(KindMalformed)) {
			if _, ok := tg.Header["Authorization"]; !ok {
				noHeader = true
			}
			seen[tg.Header.Get("Authorization")] = true
		}
		if len(seen) != m.Variants(KindMalformed) || !noHeader {
			t.Errorf("%s: %d distinct malformed headers of %d, missing-header variant %v", f, len(seen), m.Variants(KindMalformed), noHeader)
		}
	}
}

func TestTargeterSecretsOnlyInAuthorization(t *testing.T) {
	tokens := testTokens(4)
	for _, f := range []Form{FormPBS, FormPDM, FormPVE} {
		for _, tg := range drain(t, NewTargeter("http://h/x", tokens, Mix{1, 1, 1, 1}, f, 3), 2048) {
			for _, tk := range tokens {
				if strings.Contains(tg.URL, tk.Secret) {
					t.Fatalf("secret in URL")
				}
				for name, vs := range tg.Header {
					if name != "Authorization" && strings.Contains(strings.Join(vs, ","), tk.Secret) {
						t.Fatalf("secret in header %s", name)
					}
				}
				if k := kindOfTarget(t, tg); k != KindValid && strings.Contains(tg.Header.Get("Authorization"), tk.Secret) {
					t.Fatalf("real secret in a %s request", k)
				}
			}
		}
	}
}

func TestTargeterConcurrent(t *testing.T) {
	m, err := NewMixTargeter("http://h/x", testTokens(5), Mix{0.7, 0.1, 0.1, 0.1}, FormPBS, 9)
	if err != nil {
		t.Fatal(err)
	}
	const goroutines, per = 32, 1024 // 32 full schedule periods
	var wg sync.WaitGroup
	counts := make([][numKinds]int, goroutines)
	for g := range goroutines {
		wg.Go(func() {
			var tg vegeta.Target
			for range per {
				if err := m.Target(&tg); err != nil {
					t.Error(err)
					return
				}
				k, _ := KindOf(&vegeta.Result{URL: tg.URL})
				counts[g][k]++
			}
		})
	}
	wg.Wait()
	// Concurrency must not lose or duplicate counter values: whole periods
	// give exactly the same totals as a sequential run.
	var got, want [numKinds]int
	for _, c := range counts {
		for k := range c {
			got[k] += c[k]
		}
	}
	for _, tg := range drain(t, NewTargeter("http://h/x", testTokens(5), Mix{0.7, 0.1, 0.1, 0.1}, FormPBS, 9), goroutines*per) {
		k, _ := KindOf(&vegeta.Result{URL: tg.URL})
		want[k]++
	}
	if got != want || m.Count() != goroutines*per {
		t.Errorf("concurrent kinds %v (count %d), sequential %v", got, m.Count(), want)
	}
}

func TestNewTargeterErrors(t *testing.T) {
	tests := []struct {
		name   string
		url    string
		tokens []Token
		mix    Mix
		form   Form
	}{
		{"no tokens", "http://h/", nil, Mix{Valid: 1}, FormPBS},
		{"zero mix", "http://h/", testTokens(1), Mix{}, FormPBS},
		{"negative weight", "http://h/", testTokens(1), Mix{Valid: 1, Unknown: -1}, FormPBS},
		{"bad url", "h/x", testTokens(1), Mix{Valid: 1}, FormPBS},
		{"bad token", "http://h/", []Token{{ID: "nobang", Secret: "s"}}, Mix{Valid: 1}, FormPBS},
		{"pve secret with =", "http://h/", []Token{{ID: "a@b!c", Secret: "x=y"}}, Mix{Valid: 1}, FormPVE},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			var tg vegeta.Target
			if err := NewTargeter(tt.url, tt.tokens, tt.mix, tt.form, 1)(&tg); err == nil {
				t.Fatal("targeter returned no error")
			}
		})
	}
}

func TestKindText(t *testing.T) {
	for _, k := range AllKinds() {
		b, err := k.MarshalText()
		if err != nil {
			t.Fatal(err)
		}
		var back Kind
		if err := back.UnmarshalText(b); err != nil || back != k {
			t.Errorf("%s: round trip %v, %v", k, back, err)
		}
	}
	if Expect(KindValid) != 200 || Expect(KindMalformed) != 401 {
		t.Error("Expect")
	}
	if !Expected(&vegeta.Result{Code: 204, URL: "http://h/"}) || Expected(&vegeta.Result{Code: 200, URL: "http://h/#kind=unknown"}) {
		t.Error("Expected")
	}
}

func TestPacerFor(t *testing.T) {
	tests := []struct {
		rate    float64
		want    vegeta.Rate
		wantErr bool
	}{
		{50, vegeta.Rate{Freq: 50, Per: time.Second}, false},
		{0.5, vegeta.Rate{Freq: 500, Per: 1000 * time.Second}, false},
		{1234.5, vegeta.Rate{Freq: 1234500, Per: 1000 * time.Second}, false},
		{0, vegeta.Rate{}, true},
		{-1, vegeta.Rate{}, true},
	}
	for _, tt := range tests {
		got, err := pacerFor(tt.rate)
		if (err != nil) != tt.wantErr || got != tt.want {
			t.Errorf("pacerFor(%v) = %v, %v", tt.rate, got, err)
		}
	}
}
