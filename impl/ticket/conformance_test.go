package ticket

import (
	"context"
	"errors"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/authbench/authbench/internal/fusemount"
)

// clock is real time plus an offset tests can advance, so TTL bounds are
// checked without sleeping.
type clock struct{ off atomic.Int64 }

func (c *clock) Now() time.Time          { return time.Now().Add(time.Duration(c.off.Load())) }
func (c *clock) Advance(d time.Duration) { c.off.Add(int64(d)) }

// newKeyDir creates PVE's three key files (first generation) in a temp dir.
func newKeyDir(t *testing.T) (Files, string) {
	t.Helper()
	base := t.TempDir()
	files := Files{Dir: filepath.Join(base, "pve")}
	lock := filepath.Join(base, "authkey.lock")
	r := rotator(t, files, lock)
	if ok, err := r.MaybeRotate(); err != nil || !ok {
		t.Fatalf("initial key generation: %v %v", ok, err)
	}
	return files, lock
}

func rotator(t testing.TB, files Files, lock string) *Authority {
	a, err := NewAuthority(files, lock, "uncached", Options{})
	if err != nil {
		t.Fatal(err)
	}
	a.KeyBits = 1024
	return a
}

// ageKey is the seed's `touch --date yesterday` (an hour more, so the key is
// past its lifetime whatever the clock offset). The old key, if any, is
// aged a day more: real rotations are a day apart, so pub.old's mtime
// always changes at a rotation, which the mtime caches rely on.
func ageKey(t testing.TB, files Files) {
	t.Helper()
	y := time.Now().Add(-25 * time.Hour)
	if err := os.Chtimes(files.Path(Current), y, y); err != nil {
		t.Fatal(err)
	}
	y = y.Add(-24 * time.Hour)
	if err := os.Chtimes(files.Path(Old), y, y); err != nil && !os.IsNotExist(err) {
		t.Fatal(err)
	}
}

// sign makes a ticket with the private key currently on disk.
func sign(t testing.TB, files Files) string {
	t.Helper()
	data, err := os.ReadFile(files.Path(Private))
	if err != nil {
		t.Fatal(err)
	}
	k, err := ParseKey(Private, data)
	if err != nil {
		t.Fatal(err)
	}
	tk, err := Assemble(k.Priv, DefaultDigest, Prefix, "root@pam", time.Now())
	if err != nil {
		t.Fatal(err)
	}
	return tk
}

// TestHelperRotate is not a test: the conformance suite re-executes the
// test binary with TICKET_HELPER_DIR set to rotate from another OS process.
func TestHelperRotate(t *testing.T) {
	dir := os.Getenv("TICKET_HELPER_DIR")
	if dir == "" {
		t.Skip("helper process only")
	}
	a := rotator(t, Files{Dir: dir}, os.Getenv("TICKET_HELPER_LOCK"))
	ok, err := a.MaybeRotate()
	if err != nil || !ok {
		fmt.Printf("ROTATE-FAILED %v %v\n", ok, err)
		os.Exit(3)
	}
	fmt.Println("ROTATED")
}

// noRaceExitSleep is the environment entry that stops a race-enabled
// helper process from sleeping 1 s at exit (the race runtime's default
// atexit_sleep_ms), which was most of the other-process tests' time.
func noRaceExitSleep() string {
	return "GORACE=" + strings.TrimSpace(os.Getenv("GORACE")+" atexit_sleep_ms=0")
}

// rotateElsewhere rotates in another OS process (re-exec) or in-process.
func rotateElsewhere(t *testing.T, files Files, lock string, otherProcess bool) {
	t.Helper()
	ageKey(t, files)
	if !otherProcess {
		if ok, err := rotator(t, files, lock).MaybeRotate(); err != nil || !ok {
			t.Fatalf("rotate: %v %v", ok, err)
		}
		return
	}
	cmd := exec.Command(os.Args[0], "-test.run=^TestHelperRotate$", "-test.count=1")
	cmd.Env = append(os.Environ(), "TICKET_HELPER_DIR="+files.Dir, "TICKET_HELPER_LOCK="+lock, noRaceExitSleep())
	out, err := cmd.CombinedOutput()
	if err != nil || !strings.Contains(string(out), "ROTATED") {
		t.Fatalf("rotation in another process: %v\n%s", err, out)
	}
}

// within checks cond within bound (nil: unbounded, nothing to check),
// advancing the fake clock past the bound first and allowing slack of real
// time for attribute caches, which the fake clock does not move.
func within(t *testing.T, c *clock, b *time.Duration, slack time.Duration, what string, cond func() error) {
	t.Helper()
	if b == nil {
		return
	}
	c.Advance(*b + time.Millisecond)
	deadline := time.Now().Add(slack)
	if slack > 0 {
		deadline = deadline.Add(*b)
	}
	for {
		err := cond()
		if err == nil {
			return
		}
		if time.Now().After(deadline) {
			t.Fatalf("%s: still failing after the declared bound %v: %v", what, *b, err)
		}
		time.Sleep(50 * time.Millisecond)
	}
}

func accepts(a *Authority, tk string) func() error {
	return func() error { _, err := a.Verify(tk); return err }
}

func rejects(a *Authority, tk string) func() error {
	return func() error {
		if _, err := a.Verify(tk); err == nil {
			return errors.New("accepted")
		}
		return nil
	}
}

// conform runs the rotation schedule against one strategy reading through
// view (the key dir itself, or a FUSE mount of it): after a rotation the
// new key's tickets are accepted within the availability bound and the old
// key's within grace; after a second one the first key's tickets are
// rejected within the security bound.
func conform(t *testing.T, spec Spec, backing, view Files, lock string, o Options, otherProcess bool, slack time.Duration) {
	c := &clock{}
	o.Now = c.Now
	a, err := NewAuthority(view, lock, spec.Name, o)
	if err != nil {
		t.Fatal(err)
	}
	b := spec.Bound(o)
	t0 := sign(t, backing)
	if _, err := a.Verify(t0); err != nil {
		t.Fatalf("fresh key's ticket rejected: %v", err)
	}

	// Verifiers keep running through the rotations (for -race and to
	// prove failures are errors, not panics).
	ctx, stop := context.WithCancel(context.Background())
	var wg sync.WaitGroup
	for range 4 {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for ctx.Err() == nil {
				_, _ = a.Verify(t0)
			}
		}()
	}
	defer func() { stop(); wg.Wait() }()

	rotateElsewhere(t, backing, lock, otherProcess)
	t1 := sign(t, backing)
	within(t, c, b.Availability, slack, "new key's ticket after rotation", accepts(a, t1))
	within(t, c, b.Availability, slack, "old key's ticket in grace", accepts(a, t0))

	rotateElsewhere(t, backing, lock, otherProcess)
	t2 := sign(t, backing)
	within(t, c, b.Security, slack, "ticket of a key neither current nor old", rejects(a, t0))
	within(t, c, b.Availability, slack, "newest key's ticket", accepts(a, t2))
	within(t, c, b.Availability, slack, "previous key's ticket in grace", accepts(a, t1))
}

func TestConformanceLocal(t *testing.T) {
	for _, spec := range Strategies() {
		for _, other := range []bool{false, true} {
			name := spec.Name + "/in-process"
			if other {
				name = spec.Name + "/other-process"
			}
			t.Run(name, func(t *testing.T) {
				files, lock := newKeyDir(t)
				conform(t, spec, files, files, lock, Options{}, other, 0)
			})
		}
	}
}

// mountKeys mounts files.Dir through FUSE with attr/entry timeout a.
func mountKeys(t *testing.T, files Files, a time.Duration) Files {
	t.Helper()
	if os.Geteuid() != 0 {
		t.Skip("skipped: FUSE DirectMount needs root")
	}
	m, err := fusemount.New(context.Background(), files.Dir, filepath.Join(t.TempDir(), "mnt"),
		fusemount.Options{AttrTimeout: a, EntryTimeout: a})
	if fusemount.IsSkip(err) {
		t.Skip(err)
	}
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() {
		if err := m.Close(); err != nil {
			t.Error(err)
		}
	})
	return Files{Dir: m.Dir}
}

// TestConformanceFUSE: the same schedule with the process reading through a
// real FUSE mount (attr_timeout 1 s) and another process rotating in the
// backing directory. Bounds are in real time plus 1 s for whole-second
// mtimes.
func TestConformanceFUSE(t *testing.T) {
	const attr = time.Second
	for _, spec := range Strategies() {
		t.Run(spec.Name, func(t *testing.T) {
			files, lock := newKeyDir(t)
			view := mountKeys(t, files, attr)
			o := Options{AttrTimeout: attr}
			if spec.Bound(o).Availability == nil {
				t.Skipf("%s declares no bound with attr_timeout %v (see TestDoubleRotationFUSE)", spec.Name, attr)
			}
			conform(t, spec, files, view, lock, o, true, time.Second)
		})
	}
}

// TestSameSecondRewrite pins the mtime caches' hole that content-ttl
// closes: a new key written within the cached mtime's second (as a double
// rotation does) is invisible to stat-keyed caches.
func TestSameSecondRewrite(t *testing.T) {
	tests := []struct {
		strategy string
		seesNew  bool
	}{
		{"uncached", true},
		{"mtime", false},
		{"mtime-reopen", false},
		{"content-ttl", true},
	}
	for _, tc := range tests {
		t.Run(tc.strategy, func(t *testing.T) {
			files, lock := newKeyDir(t)
			c := &clock{}
			a, err := NewAuthority(files, lock, tc.strategy, Options{Now: c.Now})
			if err != nil {
				t.Fatal(err)
			}
			k1, err := a.Cache.Get(Current)
			if err != nil || k1 == nil {
				t.Fatal(k1, err)
			}
			st, _ := os.Stat(files.Path(Current))
			rotateElsewhere(t, files, lock, false)
			for _, kind := range []KeyKind{Current, Old, Private} {
				if err := os.Chtimes(files.Path(kind), st.ModTime(), st.ModTime()); err != nil {
					t.Fatal(err)
				}
			}
			tk := sign(t, files)
			c.Advance(time.Second + time.Millisecond) // past content-ttl's TTL
			_, err = a.Verify(tk)
			if got := err == nil; got != tc.seesNew {
				t.Fatalf("%s sees the same-second key: %v, want %v (%v)", tc.strategy, got, tc.seesNew, err)
			}
		})
	}
}

// TestDoubleRotationFUSE reproduces seed 002 deterministically: node B
// loads the aged key through its own mount (caching its attributes), node
// A rotates, then B's rotation check runs under the lock. The mtime
// cache's stat is answered from the kernel cache and B rotates a second
// time; seed 002's fix and content-ttl do not.
func TestDoubleRotationFUSE(t *testing.T) {
	const attr = 30 * time.Second // long enough never to expire mid-test
	tests := []struct {
		strategy  string
		rotations int64 // by A and B together
	}{
		{"uncached", 1},
		{"mtime", 2},
		{"mtime-reopen", 1},
		{"content-ttl", 1},
	}
	for _, tc := range tests {
		t.Run(tc.strategy, func(t *testing.T) {
			files, lock := newKeyDir(t)
			viewA, viewB := mountKeys(t, files, attr), mountKeys(t, files, attr)
			ageKey(t, files)
			o := Options{AttrTimeout: attr}
			a, _ := NewAuthority(viewA, lock, tc.strategy, o)
			b, _ := NewAuthority(viewB, lock, tc.strategy, o)
			a.KeyBits, b.KeyBits = 1024, 1024
			for _, n := range []*Authority{a, b} { // check_authkey(1) twice
				for range 2 {
					if ok, _, err := n.CheckAuthkey(); err != nil || ok {
						t.Fatalf("aged key judged fresh (%v) or unreadable: %v", ok, err)
					}
				}
			}
			if ok, err := a.MaybeRotate(); err != nil || !ok {
				t.Fatalf("A did not rotate: %v %v", ok, err)
			}
			if _, err := b.MaybeRotate(); err != nil {
				t.Fatal(err)
			}
			if got := a.Rotations() + b.Rotations(); got != tc.rotations {
				t.Fatalf("%s: %d rotations, want %d", tc.strategy, got, tc.rotations)
			}
		})
	}
}
