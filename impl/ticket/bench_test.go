package ticket

import (
	"path/filepath"
	"testing"
	"time"
)

// BenchmarkTicket measures verify_ticket per strategy on a local key
// directory holding PVE-sized (2048-bit) keys after one rotation. Cases:
// a ticket of the current key, one of the old key within its grace, an
// expired one, a bad signature and garbage (rejected by the parser).
func BenchmarkTicket(b *testing.B) {
	base := b.TempDir()
	files := Files{Dir: filepath.Join(base, "pve")}
	lock := filepath.Join(base, "authkey.lock")
	r, err := NewAuthority(files, lock, "uncached", Options{})
	if err != nil {
		b.Fatal(err)
	}
	if _, err := r.MaybeRotate(); err != nil {
		b.Fatal(err)
	}
	old := sign(b, files)
	ageKey(b, files)
	if ok, err := r.MaybeRotate(); err != nil || !ok {
		b.Fatal(ok, err)
	}
	cur := sign(b, files)
	k, err := r.Cache.Get(Private)
	if err != nil {
		b.Fatal(err)
	}
	expired, err := Assemble(k.Priv, DefaultDigest, Prefix, "root@pam", time.Now().Add(-3*time.Hour))
	if err != nil {
		b.Fatal(err)
	}
	// A well-formed ticket signed by a key that is neither current nor
	// old: both RSA verifications run and fail.
	stranger, err := GenerateKey(DefaultKeyBits)
	if err != nil {
		b.Fatal(err)
	}
	bad, err := Assemble(stranger, DefaultDigest, Prefix, "root@pam", time.Now())
	if err != nil {
		b.Fatal(err)
	}
	cases := []struct {
		name, ticket string
		valid        bool
	}{
		{"current-key", cur, true},
		{"old-key-in-grace", old, true},
		{"expired", expired, false},
		{"bad-signature", bad, false},
		{"garbage", "PVE:not-a-ticket", false},
	}
	for _, spec := range Strategies() {
		a, err := NewAuthority(files, lock, spec.Name, Options{})
		if err != nil {
			b.Fatal(err)
		}
		for _, c := range cases {
			b.Run(spec.Name+"/"+c.name, func(b *testing.B) {
				if _, err := a.Verify(c.ticket); (err == nil) != c.valid {
					b.Fatalf("verify %s: %v, want valid=%v", c.name, err, c.valid)
				}
				b.ReportAllocs()
				for b.Loop() {
					_, _ = a.Verify(c.ticket)
				}
			})
		}
	}
}
