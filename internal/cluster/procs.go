package cluster

import (
	"bufio"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"sync"
	"syscall"
	"time"

	"github.com/authbench/authbench/internal/fusemount"
)

// child is one running node process.
type child struct {
	cmd   *exec.Cmd
	ready NodeReady
	done  chan struct{}
}

func (c *child) stop() {
	c.cmd.Process.Signal(syscall.SIGTERM)
	select {
	case <-c.done:
	case <-time.After(8 * time.Second):
		c.cmd.Process.Kill()
		<-c.done
	}
}

// spawn starts bin with args under a parent-death signal (a parent that
// dies without stopping its child still takes it, and through it any FUSE
// server, which unmounts, down) and delivers the child's first stdout line.
func spawn(bin string, args []string, logw io.Writer) (*child, <-chan string, error) {
	cmd := exec.Command(bin, args...)
	cmd.Stderr = logw
	cmd.SysProcAttr = &syscall.SysProcAttr{Pdeathsig: syscall.SIGTERM}
	out, err := cmd.StdoutPipe()
	if err != nil {
		return nil, nil, err
	}
	if err := cmd.Start(); err != nil {
		return nil, nil, fmt.Errorf("start %s %s: %w", filepath.Base(bin), strings.Join(args[:min(2, len(args))], " "), err)
	}
	c := &child{cmd: cmd, done: make(chan struct{})}
	lines := make(chan string, 1)
	go func() {
		line, _ := bufio.NewReader(out).ReadString('\n')
		lines <- line
		io.Copy(io.Discard, out)
	}()
	go func() { cmd.Wait(); close(c.done) }()
	return c, lines, nil
}

func startNode(ctx context.Context, cfg Config, nc NodeConfig, logw io.Writer) (*child, error) {
	args := []string{"ticket", "node", "--index", strconv.Itoa(nc.Index), "--backing", nc.Backing,
		"--mount", nc.Mount, "--lock", nc.Lock, "--strategy", nc.Strategy,
		"--attr-timeout", nc.AttrTimeout.String(), "--ttl", nc.TTL.String(), "--key-bits", strconv.Itoa(nc.KeyBits)}
	c, lines, err := spawn(cfg.Binary, args, logw)
	if err != nil {
		return nil, err
	}
	select {
	case line := <-lines:
		if err := json.Unmarshal([]byte(line), &c.ready); err == nil && c.ready.URL != "" {
			return c, nil
		}
	case <-time.After(20 * time.Second):
	case <-ctx.Done():
	}
	c.stop()
	if c.cmd.ProcessState != nil && c.cmd.ProcessState.ExitCode() == ExitSkip {
		return nil, &fusemount.SkipError{Reason: fmt.Sprintf("node %d could not mount FUSE (see log)", nc.Index)}
	}
	return nil, fmt.Errorf("node %d did not become ready (see log)", nc.Index)
}

// ExitSkip is the exit code `bench ticket node` uses when FUSE is
// unavailable, so the driver reports a skip rather than a failure.
const ExitSkip = 3

// syncWriter serialises the children's log lines into one file.
type syncWriter struct {
	mu sync.Mutex
	w  io.Writer
}

func (s *syncWriter) Write(p []byte) (int, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.w.Write(p)
}
