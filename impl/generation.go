package impl

import (
	"fmt"
	"os"
	"sync/atomic"
	"unsafe"

	"golang.org/x/sys/unix"
)

// genFileSize is one page: the counter lives at offset 0, the rest is spare.
const genFileSize = 4096

// Generation is the token.shadow generation counter shared by every process
// that maps the same file, standing in for PBS's shared-memory
// ConfigVersionCache. Loads are atomic (acquire or stronger) and bumps are
// atomic adds, so processes agree without any lock.
type Generation struct {
	mem     []byte
	counter *atomic.Uint64
}

// OpenGeneration maps path (created with one zeroed page if missing).
func OpenGeneration(path string) (*Generation, error) {
	f, err := os.OpenFile(path, os.O_RDWR|os.O_CREATE, 0o600)
	if err != nil {
		return nil, fmt.Errorf("open generation file: %w", err)
	}
	defer f.Close()
	st, err := f.Stat()
	if err != nil {
		return nil, fmt.Errorf("stat generation file %s: %w", path, err)
	}
	// Growing is safe against a concurrent creator: both only ever extend
	// with zeros, never shrink.
	if st.Size() < genFileSize {
		if err := f.Truncate(genFileSize); err != nil {
			return nil, fmt.Errorf("size generation file %s: %w", path, err)
		}
	}
	mem, err := unix.Mmap(int(f.Fd()), 0, genFileSize, unix.PROT_READ|unix.PROT_WRITE, unix.MAP_SHARED)
	if err != nil {
		return nil, fmt.Errorf("mmap generation file %s: %w", path, err)
	}
	// The mapping is page aligned, so the first 8 bytes are aligned for
	// 64-bit atomics on every platform.
	return &Generation{mem: mem, counter: (*atomic.Uint64)(unsafe.Pointer(&mem[0]))}, nil
}

// Load returns the current generation.
func (g *Generation) Load() uint64 { return g.counter.Load() }

// Bump increments the generation and returns the new value.
func (g *Generation) Bump() uint64 { return g.counter.Add(1) }

// Close unmaps the counter. The Generation must not be used afterwards.
func (g *Generation) Close() error {
	if g.mem == nil {
		return nil
	}
	err := unix.Munmap(g.mem)
	g.mem, g.counter = nil, nil
	return err
}
