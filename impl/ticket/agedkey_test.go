package ticket

import (
	"errors"
	"os"
	"testing"
	"time"
)

// TestAgedKeyRefusesTicketsOfItsExpirySecond pins the rejections the
// cluster timelines show between `touch --date yesterday` and the rotation
// check, with an injected clock: the touch puts the key's expiry (mtime +
// 24 h) at the touch, and get_ticket_age_range for a key past its lifetime
// (min = key age - lifetime, compared with a strict ">" on whole seconds)
// accepts only tickets signed in an earlier second than the expiry. So a
// ticket signed just before the touch, in the same second, passes until
// the next second starts and is then refused, by age, until the process
// sees the rotation, after which authkey.pub.old accepts it again. This is
// PVE's arithmetic, not a harness artefact.
func TestAgedKeyRefusesTicketsOfItsExpirySecond(t *testing.T) {
	files, lock := newKeyDir(t)
	sec := time.Now().Unix()
	touch := time.Unix(sec, 500_000_000)
	y := touch.Add(-KeyLifetime)
	if err := os.Chtimes(files.Path(Current), y, y); err != nil {
		t.Fatal(err)
	}
	data, err := os.ReadFile(files.Path(Private))
	if err != nil {
		t.Fatal(err)
	}
	priv, err := ParseKey(Private, data)
	if err != nil {
		t.Fatal(err)
	}
	signed := func(at time.Time) string {
		tk, err := Assemble(priv.Priv, DefaultDigest, Prefix, "root@pam", at)
		if err != nil {
			t.Fatal(err)
		}
		return tk
	}
	sameSecond := signed(touch.Add(-100 * time.Millisecond))
	earlier := signed(touch.Add(-600 * time.Millisecond)) // the second before

	var now time.Time
	a, err := NewAuthority(files, lock, "uncached", Options{Now: func() time.Time { return now }})
	if err != nil {
		t.Fatal(err)
	}
	check := func(what, tk string, wantAge bool) {
		t.Helper()
		_, err := a.Verify(tk)
		if got := errors.Is(err, ErrAge); got != wantAge || (!wantAge && err != nil) {
			t.Errorf("%s at %v: %v, want refused by age: %v", what, now.Sub(touch), err, wantAge)
		}
	}
	now = touch.Add(300 * time.Millisecond) // still the touch's second
	check("ticket of the expiry second", sameSecond, false)
	check("ticket of the second before", earlier, false)
	now = touch.Add(700 * time.Millisecond) // the next second
	check("ticket of the expiry second", sameSecond, true)
	check("ticket of the second before", earlier, false)

	if ok, err := rotator(t, files, lock).MaybeRotate(); err != nil || !ok {
		t.Fatalf("rotation: %v %v", ok, err)
	}
	check("ticket of the expiry second, after the rotation (old key)", sameSecond, false)
}
