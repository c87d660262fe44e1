package neighbour

import (
	"context"
	"math/rand/v2"
	"os"
	"strings"
	"testing"
	"time"
)

// childEnv makes this test binary act as the neighbour child.
const childEnv = "AUTHBENCH_NEIGHBOUR_TEST_CHILD"

func TestMain(m *testing.M) {
	if os.Getenv(childEnv) == "1" {
		if err := Serve(context.Background(), os.Stdin, Shape{Busy: time.Millisecond, Idle: time.Millisecond}); err != nil {
			os.Exit(3)
		}
		os.Exit(0)
	}
	os.Exit(m.Run())
}

func TestLoopStopsWithContext(t *testing.T) {
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan time.Duration)
	go func() {
		done <- Loop(ctx, rand.New(rand.NewPCG(1, 2)), Shape{Busy: time.Millisecond, Idle: time.Millisecond})
	}()
	cancel()
	select {
	case <-done:
	case <-time.After(10 * time.Second):
		t.Fatal("Loop did not stop with its context")
	}
}

func TestServeRejectsBadShape(t *testing.T) {
	for _, sh := range []Shape{{}, {Busy: time.Millisecond, Idle: -1}} {
		if err := Serve(context.Background(), strings.NewReader(""), sh); err == nil {
			t.Errorf("%+v: want an error", sh)
		}
	}
}

func TestServeStopsAtEOF(t *testing.T) {
	done := make(chan error)
	go func() {
		done <- Serve(context.Background(), strings.NewReader(""), Shape{Busy: time.Millisecond, Idle: time.Millisecond})
	}()
	select {
	case err := <-done:
		if err != nil {
			t.Fatal(err)
		}
	case <-time.After(10 * time.Second):
		t.Fatal("Serve kept running after stdin closed")
	}
}

// TestStartStop runs the real child process and stops it both ways.
func TestStartStop(t *testing.T) {
	exe, err := os.Executable()
	if err != nil {
		t.Fatal(err)
	}
	t.Setenv(childEnv, "1")
	t.Run("stop", func(t *testing.T) {
		p, err := Start(context.Background(), []string{exe})
		if err != nil {
			t.Fatal(err)
		}
		if err := p.Stop(); err != nil {
			t.Fatal(err)
		}
		if ok, _ := p.Exited(); !ok {
			t.Error("child still running after Stop")
		}
	})
	t.Run("context", func(t *testing.T) {
		ctx, cancel := context.WithCancel(context.Background())
		p, err := Start(ctx, []string{exe})
		if err != nil {
			t.Fatal(err)
		}
		cancel() // Ctrl-C
		deadline := time.Now().Add(10 * time.Second)
		for {
			if ok, _ := p.Exited(); ok {
				break
			}
			if time.Now().After(deadline) {
				t.Fatal("child still running after cancel")
			}
			time.Sleep(10 * time.Millisecond)
		}
		if err := p.Stop(); err != nil {
			t.Fatal(err)
		}
	})
	if _, err := Start(context.Background(), nil); err == nil {
		t.Error("no command: want an error")
	}
}
