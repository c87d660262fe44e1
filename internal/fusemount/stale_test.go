package fusemount

import (
	"bufio"
	"context"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"testing"
	"time"
)

// TestHelperMountAndHang is not a test: the re-exec'd child of
// TestCleanStaleAfterKill mounts, says so, and waits to be SIGKILLed.
func TestHelperMountAndHang(t *testing.T) {
	if os.Getenv("FUSEMOUNT_HELPER_DIR") == "" {
		t.Skip("helper process only")
	}
	base := os.Getenv("FUSEMOUNT_HELPER_DIR")
	m, err := New(context.Background(), filepath.Join(base, "b"), filepath.Join(base, "m"), Options{})
	if err != nil {
		os.Stdout.WriteString("ERR " + err.Error() + "\n")
		os.Exit(3)
	}
	_ = m
	os.Stdout.WriteString("MOUNTED\n")
	time.Sleep(time.Minute)
}

// TestCleanStaleAfterKill: a SIGKILLed server leaves its mount attached
// (answering ENOTCONN); CleanStale finds it by FsName under a relative
// prefix and detaches it, and leaves live mounts alone.
func TestCleanStaleAfterKill(t *testing.T) {
	if os.Geteuid() != 0 {
		t.Skip("skipped: FUSE DirectMount needs root")
	}
	if err := Available(); err != nil {
		t.Skip(err)
	}
	base := t.TempDir()
	os.Mkdir(filepath.Join(base, "b"), 0o755)
	_, liveDir := mountOrSkip(t, Options{})

	cmd := exec.Command(os.Args[0], "-test.run=^TestHelperMountAndHang$", "-test.count=1")
	cmd.Env = append(os.Environ(), "FUSEMOUNT_HELPER_DIR="+base)
	out, err := cmd.StdoutPipe()
	if err != nil {
		t.Fatal(err)
	}
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	line, _ := bufio.NewReader(out).ReadString('\n')
	if line != "MOUNTED\n" {
		cmd.Process.Kill()
		cmd.Wait()
		t.Skipf("child could not mount: %q", line)
	}
	cmd.Process.Kill()
	cmd.Wait()
	dead := filepath.Join(base, "m")
	if !mounted(t, dead) {
		t.Fatal("expected the killed server's mount to stay attached")
	}
	// A sibling that shares the prefix's characters is not under it.
	if cleaned, err := CleanStale(base + "-other"); err != nil || len(cleaned) > 0 {
		t.Fatalf("CleanStale(%s-other) cleaned %v, %v", base, cleaned, err)
	}
	// The runner passes relative work directories; mountinfo is absolute.
	t.Chdir(filepath.Dir(base))
	cleaned, err := CleanStale(filepath.Base(base))
	if err != nil {
		t.Fatal(err)
	}
	if !slices.Contains(cleaned, dead) || mounted(t, dead) {
		t.Fatalf("CleanStale cleaned %v; %s still mounted: %v", cleaned, dead, mounted(t, dead))
	}
	// The live mount (another prefix) is untouched even with no prefix filter.
	if _, err := CleanStale(""); err != nil {
		t.Fatal(err)
	}
	if !mounted(t, liveDir) {
		t.Fatal("CleanStale detached a live mount")
	}
}
