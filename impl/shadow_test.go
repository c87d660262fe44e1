package impl

import (
	"context"
	"errors"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

func TestParseShadowErrors(t *testing.T) {
	const hash = "$5$abcdefghijklmnop$0123456789012345678901234567890123456789012"
	cases := []struct {
		name, data string
		wantLine   int
		wantReason string
	}{
		{"truncated", `{"a@pbs!t": "` + hash, 1, "JSON"},
		{"syntax on line 3", "{\n\"a@pbs!t\": \"" + hash + "\",\n oops}", 3, "invalid JSON"},
		{"array", `["a@pbs!t"]`, 1, "expected a JSON object"},
		{"number value", `{"a@pbs!t": 5}`, 1, "expected a JSON object"},
		{"nested object", `{"a@pbs!t": {"x": 1}}`, 1, "expected a JSON object"},
		{"bad token id", `{"not-a-token": "` + hash + `"}`, 0, "bad token id"},
		{"empty hash", `{"a@pbs!t": ""}`, 0, "empty hash"},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			_, err := ParseShadow("/etc/token.shadow", []byte(c.data))
			var se *ShadowError
			if !errors.As(err, &se) {
				t.Fatalf("error %v is not a *ShadowError", err)
			}
			if se.Line != c.wantLine || !strings.Contains(err.Error(), c.wantReason) || !strings.HasPrefix(err.Error(), "/etc/token.shadow") {
				t.Errorf("got %q (line %d), want line %d and %q", err, se.Line, c.wantLine, c.wantReason)
			}
			if strings.Contains(err.Error(), "abcdefghijklmnop") {
				t.Errorf("error echoes file content: %q", err)
			}
		})
	}
}

func TestParseShadowEmptyForms(t *testing.T) {
	for _, data := range []string{"", "  \n", "null", "{}"} {
		m, err := ParseShadow("p", []byte(data))
		if err != nil || len(m) != 0 {
			t.Errorf("%q: %v %v", data, m, err)
		}
	}
}

// TestHugeShadowRefusedWithoutReading: a 100 MB file (sparse, so the test
// writes nothing) is refused from its size alone; verifiers fail closed.
func TestHugeShadowRefusedWithoutReading(t *testing.T) {
	dir := t.TempDir()
	path := filepath.Join(dir, "token.shadow")
	f, err := os.Create(path)
	if err != nil {
		t.Fatal(err)
	}
	if err := f.Truncate(100 << 20); err != nil {
		t.Fatal(err)
	}
	f.Close()
	if _, err := ReadShadow(path); err == nil || !strings.Contains(err.Error(), "larger than") {
		t.Fatalf("100 MB shadow: %v", err)
	}
	s, err := OpenStore(path, StoreOptions{Cost: testCost})
	if err != nil {
		t.Fatal(err)
	}
	defer s.Close()
	for _, name := range Names() {
		v, err := New(name, Config{Store: s})
		if err != nil {
			t.Fatal(err)
		}
		if _, err := v.Verify(context.Background(), tokA, "x"); !errors.Is(err, ErrRejected) {
			t.Errorf("%s: %v, want a rejection", name, err)
		}
		Close(v)
	}
	if _, err := s.Add(context.Background(), tokA); err == nil {
		t.Error("mutation of an unreadable shadow succeeded")
	}
}

// TestUnreadableShadowFailsClosedAndRecovers: verifiers reject while the
// file is broken and accept again once it is fixed, without a restart.
func TestUnreadableShadowFailsClosedAndRecovers(t *testing.T) {
	for _, name := range Names() {
		t.Run(name, func(t *testing.T) {
			f := newFixture(t, name)
			sec := f.add(tokA)
			good, _ := os.ReadFile(f.store.Path())
			f.store.Generation().Bump() // as a detected change would: force the slow path
			os.WriteFile(f.store.Path(), []byte(`{"truncated`), 0o640)
			if f.accepts(tokA, sec) {
				t.Fatal("accepted against a broken file after a reset")
			}
			os.WriteFile(f.store.Path(), good, 0o640)
			f.store.Generation().Bump()
			if !f.accepts(tokA, sec) {
				t.Error("did not recover after the file was fixed")
			}
		})
	}
}
