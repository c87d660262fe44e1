package node

import (
	"bytes"
	"log/slog"
	"net/http"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	vegeta "github.com/tsenart/vegeta/v12/lib"

	"github.com/authbench/authbench/impl"
	"github.com/authbench/authbench/impl/ticket"
	"github.com/authbench/authbench/internal/server"
	"github.com/authbench/authbench/loadgen"
)

// testKeyBits keeps key generation cheap under -race.
const testKeyBits = 1024

// startTicketNode runs an in-process node serving tickets with strategy
// over a fresh auth key directory; it returns the node, the keys and the
// directory and the log.
func startTicketNode(t *testing.T, strategy string) (*Node, loadgen.TicketKeys, string, *syncBuf) {
	t.Helper()
	dir := t.TempDir()
	shadow := filepath.Join(dir, "token.shadow")
	st, err := impl.OpenStore(shadow, impl.StoreOptions{Cost: 1000})
	if err != nil {
		t.Fatal(err)
	}
	st.Close()
	keyDir := filepath.Join(dir, "pve")
	keys, err := loadgen.WriteTicketKeys(keyDir, testKeyBits)
	if err != nil {
		t.Fatal(err)
	}
	logBuf := &syncBuf{}
	n := serveNode(t, Config{Shadow: shadow, Verifier: impl.BaselineVerifier, Cost: 1000,
		Logger: slog.New(slog.NewTextHandler(logBuf, nil)), TicketStrategy: strategy, AuthkeyDir: keyDir})
	return n, keys, keyDir, logBuf
}

// syncBuf is a log sink the server writes while the test reads it.
type syncBuf struct {
	mu sync.Mutex
	b  bytes.Buffer
}

func (s *syncBuf) Write(p []byte) (int, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.b.Write(p)
}

func (s *syncBuf) String() string {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.b.String()
}

// TestTicketRoute: every sort of ticket the load generator makes gets the
// status its Kind expects from every strategy, and each rejection reason
// is logged without the ticket.
func TestTicketRoute(t *testing.T) {
	for _, spec := range ticket.Strategies() {
		t.Run(spec.Name, func(t *testing.T) {
			n, keys, _, logBuf := startTicketNode(t, spec.Name)
			mix := loadgen.TicketMix{Valid: 1, OldKey: 1, Expired: 1, BadSignature: 1, Garbage: 1}
			m, err := loadgen.NewTicketTargeter(n.URL()+server.PathTicketVersion, keys, mix, 1, time.Now())
			if err != nil {
				t.Fatal(err)
			}
			seen := map[loadgen.Kind]int{}
			var sent []string
			for range 200 {
				var tg vegeta.Target
				if err := m.Target(&tg); err != nil {
					t.Fatal(err)
				}
				req, _ := http.NewRequest(tg.Method, strings.Split(tg.URL, "#")[0], nil)
				req.Header = tg.Header.Clone()
				sent = append(sent, req.Header.Get("Cookie"))
				resp, err := http.DefaultClient.Do(req)
				if err != nil {
					t.Fatal(err)
				}
				resp.Body.Close()
				k, _ := loadgen.KindOf(&vegeta.Result{URL: tg.URL})
				if resp.StatusCode != loadgen.Expect(k) {
					t.Fatalf("%s ticket: status %d, want %d", k, resp.StatusCode, loadgen.Expect(k))
				}
				seen[k]++
			}
			for _, k := range []loadgen.Kind{loadgen.KindValid, loadgen.KindWrongSecret, loadgen.KindMalformed} {
				if seen[k] == 0 {
					t.Errorf("no %s tickets sent", k)
				}
			}
			st := n.srv.Stats().Ticket
			if st == nil || st.Accepted == 0 || st.Rejected["signature"] == 0 || st.Rejected["age"] == 0 || st.Rejected["malformed"] == 0 {
				t.Errorf("ticket stats %+v: want accepted and signature, age, malformed rejections", st)
			}
			log := logBuf.String()
			for _, reason := range []string{"reason=signature", "reason=age", "reason=malformed"} {
				if !strings.Contains(log, reason) {
					t.Errorf("log has no %s line:\n%s", reason, log)
				}
			}
			for _, c := range sent {
				if _, v, _ := strings.Cut(c, "="); len(v) > 20 && strings.Contains(log, v[len(v)-20:]) {
					t.Fatal("a ticket appears in the log")
				}
			}
		})
	}
}

// TestTicketBadKeys: missing, corrupt or directory-replaced key files
// make every ticket a 401 with a log line, never a 500 or an accept.
func TestTicketBadKeys(t *testing.T) {
	for _, tc := range []struct {
		name      string
		breakKeys func(t *testing.T, dir string)
	}{
		{"missing", func(t *testing.T, dir string) {
			os.Remove(ticket.Files{Dir: dir}.Path(ticket.Current))
			os.Remove(ticket.Files{Dir: dir}.Path(ticket.Old))
		}},
		{"corrupt", func(t *testing.T, dir string) {
			for _, k := range []ticket.KeyKind{ticket.Current, ticket.Old} {
				os.WriteFile(ticket.Files{Dir: dir}.Path(k), []byte("-----BEGIN PUBLIC KEY-----\nnot a key\n"), 0o644)
			}
		}},
		{"directory", func(t *testing.T, dir string) {
			for _, k := range []ticket.KeyKind{ticket.Current, ticket.Old} {
				p := ticket.Files{Dir: dir}.Path(k)
				os.Remove(p)
				os.Mkdir(p, 0o755)
			}
		}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			// uncached reads per request, so the broken files are seen at once.
			n, keys, dir, logBuf := startTicketNode(t, "uncached")
			tc.breakKeys(t, dir)
			tk, err := ticket.Assemble(keys.Current, ticket.DefaultDigest, ticket.Prefix, "root@pam", time.Now())
			if err != nil {
				t.Fatal(err)
			}
			req, _ := http.NewRequest(http.MethodGet, n.URL()+server.PathTicketVersion, nil)
			req.AddCookie(&http.Cookie{Name: loadgen.TicketCookie, Value: tk})
			resp, err := http.DefaultClient.Do(req)
			if err != nil {
				t.Fatal(err)
			}
			resp.Body.Close()
			if resp.StatusCode != http.StatusUnauthorized {
				t.Errorf("status %d, want 401", resp.StatusCode)
			}
			if !strings.Contains(logBuf.String(), "ticket rejected") {
				t.Errorf("no log line:\n%s", logBuf.String())
			}
		})
	}
}

// TestTicketConfig: a strategy without a key directory, or with a file
// for one, or an unknown strategy, is refused at start.
func TestTicketConfig(t *testing.T) {
	f := filepath.Join(t.TempDir(), "file")
	os.WriteFile(f, nil, 0o644)
	for _, cfg := range []Config{
		{TicketStrategy: "mtime"},
		{TicketStrategy: "mtime", AuthkeyDir: f},
		{TicketStrategy: "nope", AuthkeyDir: t.TempDir()},
	} {
		if _, err := newTicketAuthority(cfg); err == nil {
			t.Errorf("%+v accepted", cfg)
		}
	}
}
