package fusemount

import (
	"context"
	"os"
	"path/filepath"
	"strings"
	"syscall"
	"testing"
	"time"
)

// mountOrSkip mounts a fresh backing dir or skips with the reason.
func mountOrSkip(t *testing.T, o Options) (backing, dir string) {
	t.Helper()
	if os.Geteuid() != 0 {
		t.Skip("skipped: FUSE DirectMount needs root")
	}
	base := t.TempDir()
	backing, dir = filepath.Join(base, "backing"), filepath.Join(base, "mnt")
	if err := os.Mkdir(backing, 0o755); err != nil {
		t.Fatal(err)
	}
	m, err := New(context.Background(), backing, dir, o)
	if IsSkip(err) {
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
	return backing, dir
}

// replace writes content to a temp file and renames it over path, then sets
// its mtime, like PVE's file_set_contents followed by touch.
func replace(t *testing.T, path, content string, mtime time.Time) {
	t.Helper()
	tmp := path + ".tmp"
	if err := os.WriteFile(tmp, []byte(content), 0o644); err != nil {
		t.Fatal(err)
	}
	if err := os.Chtimes(tmp, mtime, mtime); err != nil {
		t.Fatal(err)
	}
	if err := os.Rename(tmp, path); err != nil {
		t.Fatal(err)
	}
}

func mtimeOf(t *testing.T, path string) int64 {
	t.Helper()
	var st syscall.Stat_t
	if err := syscall.Stat(path, &st); err != nil {
		t.Fatal(err)
	}
	return st.Mtim.Sec
}

// TestStaleStatThroughMount checks the premise of seed 002 on this kernel:
// after the backing file is replaced, stat through the mount keeps
// answering the old mtime until attr_timeout, and records (without
// asserting, since it is kernel-dependent) whether open/close or a read
// revalidates it.
func TestStaleStatThroughMount(t *testing.T) {
	const timeout = 30 * time.Second // long enough that expiry never interferes
	backing, dir := mountOrSkip(t, Options{AttrTimeout: timeout, EntryTimeout: timeout})
	yesterday := time.Now().Add(-24 * time.Hour).Truncate(time.Second)
	today := time.Now().Truncate(time.Second)
	key := "authkey.pub"
	replace(t, filepath.Join(backing, key), "old", yesterday)
	through := filepath.Join(dir, key)
	if got := mtimeOf(t, through); got != yesterday.Unix() {
		t.Fatalf("first stat through mount: mtime %d, want %d", got, yesterday.Unix())
	}

	replace(t, filepath.Join(backing, key), "new-content", today)
	if got := mtimeOf(t, through); got != yesterday.Unix() {
		t.Fatalf("stat within attr_timeout returned the new mtime %d: the kernel did not cache attributes, seed 002's premise does not hold here", got)
	}
	t.Logf("observed: stat within attr_timeout returns the old mtime (cached attributes)")

	f, err := os.Open(through)
	if err != nil {
		t.Fatal(err)
	}
	f.Close()
	afterOpen := mtimeOf(t, through)
	t.Logf("observed: after open/close, stat returns %s mtime", which(afterOpen, yesterday, today))

	b, err := os.ReadFile(through)
	if err != nil {
		t.Fatal(err)
	}
	afterRead := mtimeOf(t, through)
	t.Logf("observed: read returned %q; after open/read/close, stat returns %s mtime", b, which(afterRead, yesterday, today))
	if string(b) != "new-content" {
		t.Errorf("read through the mount returned %q, want the new content (loopback opens by path)", b)
	}
}

func which(got int64, old, new time.Time) string {
	switch got {
	case old.Unix():
		return "the OLD"
	case new.Unix():
		return "the NEW"
	}
	return "an unexpected"
}

// TestZeroTimeoutIsFresh: with attr_timeout 0 every stat reaches the server.
func TestZeroTimeoutIsFresh(t *testing.T) {
	backing, dir := mountOrSkip(t, Options{})
	yesterday := time.Now().Add(-24 * time.Hour).Truncate(time.Second)
	today := time.Now().Truncate(time.Second)
	replace(t, filepath.Join(backing, "k"), "a", yesterday)
	_ = mtimeOf(t, filepath.Join(dir, "k"))
	replace(t, filepath.Join(backing, "k"), "b", today)
	if got := mtimeOf(t, filepath.Join(dir, "k")); got != today.Unix() {
		t.Fatalf("attr_timeout=0: stat returned %d, want new mtime %d", got, today.Unix())
	}
}

func TestOursParsesMountinfo(t *testing.T) {
	tests := []struct {
		name string
		in   string
		want []string
	}{
		{"ours", "36 35 0:40 / /tmp/x/mnt rw,nosuid - fuse.authbench authbench-fuse rw,user_id=0\n", []string{"/tmp/x/mnt"}},
		{"escaped space", `36 35 0:40 / /tmp/a\040b rw shared:1 - fuse.authbench authbench-fuse rw` + "\n", []string{"/tmp/a b"}},
		{"other fuse", "36 35 0:40 / /mnt/sshfs rw - fuse.sshfs host:/ rw\n", nil},
		{"garbage", "not a mountinfo line\n\n", nil},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			got, err := Ours(strings.NewReader(tc.in))
			if err != nil {
				t.Fatal(err)
			}
			var dirs []string
			for _, m := range got {
				dirs = append(dirs, m.Dir)
			}
			if strings.Join(dirs, ",") != strings.Join(tc.want, ",") {
				t.Fatalf("got %v, want %v", dirs, tc.want)
			}
		})
	}
}

// TestCancelUnmounts: ending the context detaches the mount.
func TestCancelUnmounts(t *testing.T) {
	if os.Geteuid() != 0 {
		t.Skip("skipped: FUSE DirectMount needs root")
	}
	base := t.TempDir()
	backing, dir := filepath.Join(base, "b"), filepath.Join(base, "m")
	os.Mkdir(backing, 0o755)
	ctx, cancel := context.WithCancel(context.Background())
	m, err := New(ctx, backing, dir, Options{})
	if IsSkip(err) {
		t.Skip(err)
	}
	if err != nil {
		t.Fatal(err)
	}
	cancel()
	deadline := time.Now().Add(10 * time.Second)
	for mounted(t, dir) {
		if time.Now().After(deadline) {
			m.Close()
			t.Fatal("mount still attached after cancel")
		}
		time.Sleep(20 * time.Millisecond)
	}
}

func mounted(t *testing.T, dir string) bool {
	f, err := os.Open("/proc/self/mountinfo")
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	ms, err := Ours(f)
	if err != nil {
		t.Fatal(err)
	}
	for _, m := range ms {
		if m.Dir == dir {
			return true
		}
	}
	return false
}
