// Package fusemount serves a directory through a real FUSE loopback file
// system (github.com/hanwen/go-fuse/v2) with chosen attribute and entry
// timeouts, so that stat() is answered from the kernel's attribute cache the
// way pmxcfs answers it on a Proxmox VE node (seed 002). It is not an
// emulation: when /dev/fuse is missing or mount(2) fails, Mount returns a
// *SkipError and callers report the experiment as skipped.
//
// Every mount carries the file-system name FsName ("authbench-fuse") so
// CleanStale can find mounts a crashed run left behind in
// /proc/self/mountinfo and detach them.
package fusemount

import (
	"bufio"
	"context"
	"errors"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"strings"
	"syscall"
	"time"

	"github.com/hanwen/go-fuse/v2/fs"
	"github.com/hanwen/go-fuse/v2/fuse"
)

// FsName marks our mounts (the "source" column of mountinfo); Name is the
// subtype, shown as the file-system type "fuse.authbench".
const (
	FsName = "authbench-fuse"
	Name   = "authbench"
)

// SkipError says why a real FUSE mount is not possible here. Callers report
// "skipped: <Reason>" instead of substituting anything else.
type SkipError struct{ Reason string }

func (e *SkipError) Error() string { return "skipped: " + e.Reason }

// IsSkip reports whether err means FUSE is unavailable (as opposed to a bug).
func IsSkip(err error) bool {
	var s *SkipError
	return errors.As(err, &s)
}

// Options are the kernel cache timeouts of one mount; zero means the kernel
// revalidates on every call, as with attr_timeout=0.
type Options struct {
	AttrTimeout  time.Duration
	EntryTimeout time.Duration
	// Debug logs every FUSE request to stderr.
	Debug bool
}

// Mount is one live loopback mount of Backing at Dir.
type Mount struct {
	Backing string
	Dir     string
	server  *fuse.Server
	done    chan struct{}
}

// Available returns nil when FUSE can be tried, or a *SkipError.
func Available() error {
	f, err := os.OpenFile("/dev/fuse", os.O_RDWR, 0)
	if err != nil {
		return &SkipError{Reason: fmt.Sprintf("/dev/fuse not usable: %v", err)}
	}
	f.Close()
	return nil
}

// New mounts backing at dir (created if missing). The mount is detached
// when ctx ends, on Close, and — because the kernel aborts a FUSE
// connection whose server process exits — when this process dies.
func New(ctx context.Context, backing, dir string, o Options) (*Mount, error) {
	if err := Available(); err != nil {
		return nil, err
	}
	backing, err := filepath.Abs(backing)
	if err != nil {
		return nil, fmt.Errorf("fusemount: backing path: %w", err)
	}
	if st, err := os.Stat(backing); err != nil || !st.IsDir() {
		return nil, fmt.Errorf("fusemount: backing %q is not a directory (%v)", backing, err)
	}
	if err := os.MkdirAll(dir, 0o755); err != nil {
		return nil, fmt.Errorf("fusemount: mountpoint: %w", err)
	}
	root, err := fs.NewLoopbackRoot(backing)
	if err != nil {
		return nil, fmt.Errorf("fusemount: loopback root: %w", err)
	}
	attr, entry := o.AttrTimeout, o.EntryTimeout
	srv, err := fs.Mount(dir, root, &fs.Options{
		AttrTimeout:  &attr,
		EntryTimeout: &entry,
		MountOptions: fuse.MountOptions{
			DirectMount: true,
			FsName:      FsName,
			Name:        Name,
			// Every node process reads its own mount only; allow_other is
			// not needed and needs user_allow_other for non-root.
			Debug: o.Debug,
		},
	})
	if err != nil {
		return nil, &SkipError{Reason: fmt.Sprintf("mount %s: %v", dir, err)}
	}
	m := &Mount{Backing: backing, Dir: dir, server: srv, done: make(chan struct{})}
	go func() {
		select {
		case <-ctx.Done():
			_ = m.Close()
		case <-m.done:
		}
	}()
	return m, nil
}

// Close unmounts (lazily if busy) and waits for the server loop to end.
// It is safe to call more than once.
func (m *Mount) Close() error {
	select {
	case <-m.done:
		return nil
	default:
	}
	close(m.done)
	err := m.server.Unmount()
	if err != nil {
		// A busy mount (an open file in a dying request) is detached lazily
		// so no exit path leaves it attached.
		if lerr := syscall.Unmount(m.Dir, syscall.MNT_DETACH); lerr == nil {
			err = nil
		} else {
			err = fmt.Errorf("fusemount: unmount %s: %v (lazy: %v)", m.Dir, err, lerr)
		}
	}
	m.server.Wait()
	return err
}

// MountInfo is one of our mounts found in /proc/self/mountinfo.
type MountInfo struct {
	Dir    string
	FsType string
	Source string
}

// Ours lists the mounts carrying FsName in the given mountinfo text.
func Ours(r io.Reader) ([]MountInfo, error) {
	var out []MountInfo
	sc := bufio.NewScanner(r)
	sc.Buffer(make([]byte, 64*1024), 1<<20)
	for sc.Scan() {
		// Fields: id parent maj:min root mountpoint opts [optional...] - fstype source superopts
		line := sc.Text()
		pre, post, ok := strings.Cut(line, " - ")
		if !ok {
			continue
		}
		pf, sf := strings.Fields(pre), strings.Fields(post)
		if len(pf) < 5 || len(sf) < 2 {
			continue
		}
		if sf[1] != FsName {
			continue
		}
		out = append(out, MountInfo{Dir: unescapeMountinfo(pf[4]), FsType: sf[0], Source: sf[1]})
	}
	if err := sc.Err(); err != nil {
		return nil, fmt.Errorf("fusemount: read mountinfo: %w", err)
	}
	return out, nil
}

// unescapeMountinfo undoes the kernel's octal escapes (\040 for space...).
func unescapeMountinfo(s string) string {
	if !strings.Contains(s, `\`) {
		return s
	}
	var b strings.Builder
	for i := 0; i < len(s); i++ {
		if s[i] == '\\' && i+4 <= len(s) {
			var v int
			if _, err := fmt.Sscanf(s[i+1:i+4], "%3o", &v); err == nil {
				b.WriteByte(byte(v))
				i += 3
				continue
			}
		}
		b.WriteByte(s[i])
	}
	return b.String()
}

// CleanStale detaches our mounts under prefix (all of ours if prefix is
// empty) that no live server answers — left by a crashed or SIGKILLed run —
// and returns the directories it detached. A mount whose server is alive
// answers stat; a dead one fails with ENOTCONN.
func CleanStale(prefix string) ([]string, error) {
	f, err := os.Open("/proc/self/mountinfo")
	if err != nil {
		return nil, fmt.Errorf("fusemount: %w", err)
	}
	defer f.Close()
	mounts, err := Ours(f)
	if err != nil {
		return nil, err
	}
	if prefix != "" {
		// mountinfo holds absolute paths; the runner passes its work
		// directory as given (reports/<run>/logs/...), and a relative
		// prefix matched nothing, leaving dead mounts behind.
		abs, err := filepath.Abs(prefix)
		if err != nil {
			return nil, fmt.Errorf("fusemount: %w", err)
		}
		prefix = filepath.Clean(abs)
	}
	var cleaned []string
	var errs []error
	for _, mi := range mounts {
		if prefix != "" && mi.Dir != prefix && !strings.HasPrefix(mi.Dir, prefix+"/") {
			continue
		}
		var st syscall.Stat_t
		if err := syscall.Stat(mi.Dir, &st); err == nil {
			continue // served by a live process (maybe another run's)
		}
		if err := syscall.Unmount(mi.Dir, syscall.MNT_DETACH); err != nil {
			errs = append(errs, fmt.Errorf("fusemount: detach stale %s: %w", mi.Dir, err))
			continue
		}
		cleaned = append(cleaned, mi.Dir)
	}
	return cleaned, errors.Join(errs...)
}
