package node

import (
	"bufio"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"os"
	"os/exec"
	"strconv"
	"time"
)

// Ready is the line `bench serve --ready` prints on stdout once it
// listens, so the parent learns the ports it was given.
type Ready struct {
	URL   string `json:"url"`
	Admin string `json:"admin"`
	PID   int    `json:"pid"`
}

// WriteReady prints n's ready line.
func WriteReady(w io.Writer, n *Node) error {
	return json.NewEncoder(w).Encode(Ready{URL: n.URL(), Admin: n.AdminURL(), PID: os.Getpid()})
}

// ReadReady reads one ready line, waiting at most timeout.
func ReadReady(r io.Reader, timeout time.Duration) (Ready, error) {
	type res struct {
		ready Ready
		err   error
	}
	ch := make(chan res, 1)
	go func() {
		line, err := bufio.NewReader(r).ReadString('\n')
		if err != nil {
			ch <- res{err: fmt.Errorf("no ready line: %w", err)}
			return
		}
		var rd Ready
		if err := json.Unmarshal([]byte(line), &rd); err != nil || rd.URL == "" || rd.Admin == "" {
			ch <- res{err: errors.New("bad ready line (want JSON with url and admin)")}
			return
		}
		ch <- res{ready: rd}
	}()
	select {
	case r := <-ch:
		return r.ready, r.err
	case <-time.After(timeout):
		return Ready{}, fmt.Errorf("not ready after %s", timeout)
	}
}

// Args is the `bench serve` argv (after the binary) for a child node with
// ephemeral loopback ports and a ready line. cfg.Addr, cfg.AdminAddr and
// cfg.Logger are not used: the child picks its ports and logs to stderr.
func Args(cfg Config) []string {
	args := []string{"serve", "--ready", "--verifier", cfg.Verifier, "--shadow", cfg.Shadow,
		"--addr", "127.0.0.1:0", "--admin-addr", "127.0.0.1:0",
		"--ttl", cfg.TTL.String(), "--scheme", string(cfg.Scheme), "--cost", strconv.Itoa(cfg.Cost)}
	if cfg.TLS {
		args = append(args, "--tls")
	}
	if cfg.TicketStrategy != "" {
		args = append(args, "--ticket-strategy", cfg.TicketStrategy, "--authkey-dir", cfg.AuthkeyDir)
	}
	return args
}

// SpawnOptions are the process-level settings of a child node.
type SpawnOptions struct {
	// GOMAXPROCS of the child; 0 leaves Go's default.
	GOMAXPROCS int
	// Log receives the child's stderr; nil discards it.
	Log io.Writer
	// ReadyTimeout bounds the wait for the ready line (default 15 s).
	ReadyTimeout time.Duration
}

// Process is a child `bench serve` process.
type Process struct {
	Ready
	cmd  *exec.Cmd
	done chan error
}

// Spawn starts bin as a child node and waits for its ready line. The child
// is interrupted when ctx ends or Stop is called.
func Spawn(ctx context.Context, bin string, cfg Config, opts SpawnOptions) (*Process, error) {
	cmd := exec.CommandContext(ctx, bin, Args(cfg)...)
	cmd.Cancel = func() error { return cmd.Process.Signal(os.Interrupt) }
	cmd.WaitDelay = 5 * time.Second
	cmd.Env = os.Environ()
	if opts.GOMAXPROCS > 0 {
		cmd.Env = append(cmd.Env, "GOMAXPROCS="+strconv.Itoa(opts.GOMAXPROCS))
	}
	cmd.Stderr = opts.Log
	out, err := cmd.StdoutPipe()
	if err != nil {
		return nil, fmt.Errorf("server process: %w", err)
	}
	if err := cmd.Start(); err != nil {
		return nil, fmt.Errorf("start server process: %w", err)
	}
	p := &Process{cmd: cmd, done: make(chan error, 1)}
	timeout := opts.ReadyTimeout
	if timeout <= 0 {
		timeout = 15 * time.Second
	}
	ready, err := ReadReady(out, timeout)
	if err != nil {
		_ = cmd.Process.Kill()
		_ = cmd.Wait()
		return nil, fmt.Errorf("server process: %w", err)
	}
	p.Ready = ready
	// Keep draining stdout so the child never blocks on a full pipe; Wait
	// (which closes the pipe) runs only after the copy has ended.
	go func() {
		_, _ = io.Copy(io.Discard, out)
		p.done <- cmd.Wait()
	}()
	return p, nil
}

// Stop interrupts the child (a graceful shutdown) and waits for it; after
// cmd.WaitDelay it is killed. A child stopped this way is not an error.
func (p *Process) Stop() error {
	if err := p.cmd.Process.Signal(os.Interrupt); err != nil && !errors.Is(err, os.ErrProcessDone) {
		_ = p.cmd.Process.Kill()
	}
	select {
	case err := <-p.done:
		return exitErr(err)
	case <-time.After(p.cmd.WaitDelay + time.Second):
		_ = p.cmd.Process.Kill()
		return exitErr(<-p.done)
	}
}

// exitErr drops the exit status of a child that ended on our interrupt.
func exitErr(err error) error {
	var ee *exec.ExitError
	if errors.As(err, &ee) && !ee.Exited() {
		return nil // killed by a signal we sent
	}
	return err
}
