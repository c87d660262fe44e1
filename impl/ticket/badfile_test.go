package ticket

import (
	"errors"
	"os"
	"testing"
	"time"
)

// TestBrokenKeyFilesFailClosed: a missing, corrupt, oversized or
// directory-shaped current key rejects every ticket with an error (never a
// panic or an accept) and the old key still serves its grace tickets.
func TestBrokenKeyFilesFailClosed(t *testing.T) {
	tests := []struct {
		name    string
		breakIt func(t *testing.T, path string)
	}{
		{"missing", func(t *testing.T, p string) { must(t, os.Remove(p)) }},
		{"corrupt", func(t *testing.T, p string) {
			must(t, os.WriteFile(p, []byte("-----BEGIN PUBLIC KEY-----\nnope\n"), 0o644))
		}},
		{"empty", func(t *testing.T, p string) { must(t, os.WriteFile(p, nil, 0o644)) }},
		{"oversized", func(t *testing.T, p string) { must(t, os.WriteFile(p, make([]byte, MaxKeyFile+10), 0o644)) }},
		{"directory", func(t *testing.T, p string) { must(t, os.Remove(p)); must(t, os.Mkdir(p, 0o755)) }},
	}
	for _, spec := range Strategies() {
		for _, tc := range tests {
			t.Run(spec.Name+"/"+tc.name, func(t *testing.T) {
				files, lock := newKeyDir(t)
				t0 := sign(t, files)
				rotateElsewhere(t, files, lock, false)
				t1 := sign(t, files)
				// The break must change the mtime (seconds) for the mtime
				// caches to notice; TestSameSecondRewrite covers when not.
				hourAgo := time.Now().Add(-time.Hour)
				must(t, os.Chtimes(files.Path(Current), hourAgo, hourAgo))
				c := &clock{}
				a, err := NewAuthority(files, lock, spec.Name, Options{Now: c.Now})
				must(t, err)
				if _, err := a.Verify(t1); err != nil {
					t.Fatal(err)
				}
				tc.breakIt(t, files.Path(Current))
				c.Advance(2 * time.Second)
				if _, err := a.Verify(t1); err == nil {
					t.Fatal("ticket of a broken current key accepted")
				} else if err != nil && errors.Is(err, ErrMalformed) {
					t.Fatalf("a key problem reported as a malformed ticket: %v", err)
				}
				if _, err := a.Verify(t0); err != nil {
					t.Fatalf("old key's grace ticket rejected although pub.old is fine: %v", err)
				}
			})
		}
	}
}

func must(t *testing.T, err error) {
	t.Helper()
	if err != nil {
		t.Fatal(err)
	}
}
