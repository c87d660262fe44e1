package loadgen

import (
	"errors"
	"net/url"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	vegeta "github.com/tsenart/vegeta/v12/lib"

	"github.com/authbench/authbench/impl/ticket"
)

// TestTicketTargeter: each sort of ticket fails (or passes) verification
// against the written keys the way its Kind says, and bad options are
// refused.
func TestTicketTargeter(t *testing.T) {
	dir := t.TempDir()
	keys, err := WriteTicketKeys(dir, 1024)
	if err != nil {
		t.Fatal(err)
	}
	if st, err := os.Stat(filepath.Join(dir, "priv", "authkey.key")); err != nil || st.Mode().Perm() != 0o600 {
		t.Fatalf("private key file: %v %v", st, err)
	}
	auth, err := ticket.NewAuthority(ticket.Files{Dir: dir}, filepath.Join(dir, "lock"), "uncached", ticket.Options{})
	if err != nil {
		t.Fatal(err)
	}
	auth.KeyLifetime = 0
	m, err := NewTicketTargeter("http://127.0.0.1:1/pve", keys, TicketMix{Valid: 1, OldKey: 1, Expired: 1, BadSignature: 1, Garbage: 1}, 7, time.Now())
	if err != nil {
		t.Fatal(err)
	}
	want := map[Kind]func(error) bool{
		KindValid:       func(err error) bool { return err == nil },
		KindWrongSecret: func(err error) bool { return errors.Is(err, ticket.ErrSignature) || errors.Is(err, ticket.ErrAge) },
		KindMalformed:   func(err error) bool { return errors.Is(err, ticket.ErrMalformed) },
	}
	for k, ok := range want {
		if len(m.targets[k]) == 0 {
			t.Errorf("no %s targets", k)
		}
		for _, tg := range m.targets[k] {
			c := tg.Header.Get("Cookie")
			v, _ := url.QueryUnescape(strings.TrimPrefix(c, TicketCookie+"="))
			if _, err := auth.Verify(v); !ok(err) {
				t.Errorf("%s ticket: verify error %v", k, err)
			}
			if r := (&vegeta.Result{URL: tg.URL}); !strings.Contains(r.URL, "#kind="+k.String()) {
				t.Errorf("target %s not tagged %s", tg.URL, k)
			}
		}
	}
	if n := len(m.Tickets()); n < 10 {
		t.Errorf("Tickets() = %d, want every distinct ticket", n)
	}
	for _, tc := range []struct {
		name string
		keys TicketKeys
		mix  TicketMix
	}{
		{"no key", TicketKeys{}, TicketMix{Valid: 1}},
		{"old key missing", TicketKeys{Current: keys.Current}, TicketMix{OldKey: 1}},
		{"all zero", keys, TicketMix{}},
		{"negative", keys, TicketMix{Valid: 1, Garbage: -1}},
	} {
		if _, err := NewTicketTargeter("http://127.0.0.1:1/pve", tc.keys, tc.mix, 1, time.Now()); err == nil {
			t.Errorf("%s: accepted", tc.name)
		}
	}
}
