// Package neighbour is a built-in, bounded noisy neighbour for calibrating
// the regression gate under load: one thread that is busy for a random
// 0–40 ms, then idle for a random 0–40 ms, over and over — the bursty
// single-threaded load a shared CI runner's neighbour puts on one core at
// a time.
//
// It runs as a child process (Start) so that its CPU time is not the
// measured process's and a crash of either leaves the other alone. The
// child's main is Serve; it stops when its stdin closes, which happens
// when the parent calls Stop, cancels the context (Ctrl-C) or dies.
package neighbour

import (
	"context"
	"errors"
	"fmt"
	"io"
	"math/rand/v2"
	"os"
	"os/exec"
	"runtime"
	"time"
)

// Shape bounds the load: busy for a uniform 0..Busy, idle 0..Idle.
type Shape struct {
	Busy, Idle time.Duration
}

// DefaultShape is the neighbour: busy 0–40 ms, idle 0–40 ms.
var DefaultShape = Shape{Busy: 40 * time.Millisecond, Idle: 40 * time.Millisecond}

// Loop alternates busy and idle phases on one locked OS thread until ctx
// ends, and returns the busy time it spent.
func Loop(ctx context.Context, rng *rand.Rand, sh Shape) time.Duration {
	runtime.LockOSThread()
	defer runtime.UnlockOSThread()
	var spent time.Duration
	var x uint64 = 1
	for ctx.Err() == nil {
		busy := time.Duration(rng.Int64N(int64(sh.Busy) + 1))
		start := time.Now()
		for time.Since(start) < busy {
			for range 1000 {
				x = x*6364136223846793005 + 1442695040888963407
			}
		}
		spent += time.Since(start)
		idle := time.Duration(rng.Int64N(int64(sh.Idle) + 1))
		select {
		case <-ctx.Done():
		case <-time.After(idle):
		}
	}
	if x == 42 {
		spent++ // practically never; keeps the work live
	}
	return spent
}

// Serve is the child process's main: it runs Loop until stdin reaches EOF
// (the parent stopped or died) or ctx ends.
func Serve(ctx context.Context, stdin io.Reader, sh Shape) error {
	if sh.Busy <= 0 || sh.Idle < 0 {
		return fmt.Errorf("neighbour: busy %v, idle %v: want busy > 0 and idle >= 0", sh.Busy, sh.Idle)
	}
	ctx, cancel := context.WithCancel(ctx)
	defer cancel()
	go func() {
		_, _ = io.Copy(io.Discard, stdin)
		cancel()
	}()
	Loop(ctx, rand.New(rand.NewPCG(uint64(time.Now().UnixNano()), uint64(os.Getpid()))), sh)
	return nil
}

// Process is a running neighbour child.
type Process struct {
	cmd     *exec.Cmd
	stdin   io.WriteCloser
	done    chan struct{} // closed when the child has been waited for
	waitErr error         // set before done closes
}

// Start runs argv (a command whose main calls Serve) as the neighbour,
// with GOMAXPROCS=1 so that it stays one busy thread. The child ends with
// ctx, with Stop, or when this process dies (its stdin closes).
func Start(ctx context.Context, argv []string) (*Process, error) {
	if len(argv) == 0 {
		return nil, errors.New("neighbour: no command")
	}
	cmd := exec.CommandContext(ctx, argv[0], argv[1:]...)
	cmd.Env = append(os.Environ(), "GOMAXPROCS=1")
	cmd.Stdout = io.Discard
	cmd.Stderr = os.Stderr
	stdin, err := cmd.StdinPipe()
	if err != nil {
		return nil, fmt.Errorf("neighbour: %w", err)
	}
	if err := cmd.Start(); err != nil {
		return nil, fmt.Errorf("neighbour: start %s: %w", argv[0], err)
	}
	p := &Process{cmd: cmd, stdin: stdin, done: make(chan struct{})}
	go func() {
		p.waitErr = cmd.Wait()
		close(p.done)
	}()
	return p, nil
}

// Stop ends the child and waits for it (at most 5 s, then kills it).
func (p *Process) Stop() error {
	p.stdin.Close()
	select {
	case <-p.done:
	case <-time.After(5 * time.Second):
		_ = p.cmd.Process.Kill()
		<-p.done
	}
	return exitOK(p.waitErr)
}

// Exited reports whether the child has already ended, and how.
func (p *Process) Exited() (bool, error) {
	select {
	case <-p.done:
		return true, p.waitErr
	default:
		return false, nil
	}
}

// exitOK treats a child ended by us (stdin closed, killed) as stopped.
func exitOK(err error) error {
	var ee *exec.ExitError
	if err == nil || errors.As(err, &ee) {
		return nil
	}
	return fmt.Errorf("neighbour: %w", err)
}
