package impl

import (
	"context"
	"errors"
	"fmt"
	"math/rand/v2"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"syscall"
	"testing"
	"time"
)

// Environment of the stress helper process (a re-exec of this test binary).
const (
	stressHelperEnv = "AUTHBENCH_STRESS_HELPER" // "add" or "churn"
	stressShadowEnv = "AUTHBENCH_STRESS_SHADOW"
	stressWriterEnv = "AUTHBENCH_STRESS_WRITER" // writer number, for distinct ids
	stressCountEnv  = "AUTHBENCH_STRESS_COUNT"  // tokens to add ("add")
)

// stressChurnIDs are the tokens churn writers rotate, add and delete.
var stressChurnIDs = []string{"c0@pbs!a", "c1@pbs!b", "c2@pbs!c", "c3@pam!d", "c4@pam!e", "c5@pbs!f"}

func stressAddID(writer, i int) string { return fmt.Sprintf("w%d-%d@pbs!t%d", writer, i, i) }

// TestStressHelperProcess is not a test: it is a writer process for the
// stress tests. "add" adds AUTHBENCH_STRESS_COUNT distinct tokens and
// exits; "churn" rotates, adds and deletes tokens until it is killed.
func TestStressHelperProcess(t *testing.T) {
	mode := os.Getenv(stressHelperEnv)
	if mode == "" {
		t.Skip("stress helper process only")
	}
	fail := func(err error) {
		fmt.Fprintln(os.Stderr, err)
		os.Exit(3)
	}
	s, err := OpenStore(os.Getenv(stressShadowEnv), StoreOptions{Cost: testCost})
	if err != nil {
		fail(err)
	}
	defer s.Close()
	writer, _ := strconv.Atoi(os.Getenv(stressWriterEnv))
	ctx := context.Background()
	switch mode {
	case "add":
		n, _ := strconv.Atoi(os.Getenv(stressCountEnv))
		for i := range n {
			if _, err := s.Add(ctx, stressAddID(writer, i)); err != nil {
				fail(err)
			}
		}
	case "churn":
		r := rand.New(rand.NewPCG(uint64(os.Getpid()), uint64(writer)))
		for {
			id := stressChurnIDs[r.IntN(len(stressChurnIDs))]
			var err error
			if r.IntN(4) == 0 {
				err = s.Delete(ctx, id)
			} else if _, err = s.Rotate(ctx, id); errors.Is(err, ErrNoToken) {
				_, err = s.Add(ctx, id)
			}
			if err != nil && !errors.Is(err, ErrNoToken) && !errors.Is(err, ErrTokenExists) {
				fail(err)
			}
		}
	default:
		fail(fmt.Errorf("unknown helper mode %q", mode))
	}
}

// noRaceExitSleep is the environment entry that stops a race-enabled
// helper process from sleeping 1 s at exit (the race runtime's default
// atexit_sleep_ms), which was most of the other-process tests' time.
func noRaceExitSleep() string {
	return "GORACE=" + strings.TrimSpace(os.Getenv("GORACE")+" atexit_sleep_ms=0")
}

func stressHelper(t *testing.T, mode, shadow string, writer int, extra ...string) *exec.Cmd {
	t.Helper()
	cmd := exec.Command(os.Args[0], "-test.run=^TestStressHelperProcess$")
	cmd.Env = append(os.Environ(), noRaceExitSleep(), stressHelperEnv+"="+mode, stressShadowEnv+"="+shadow, stressWriterEnv+"="+strconv.Itoa(writer))
	cmd.Env = append(cmd.Env, extra...)
	return cmd
}

// tempLeftovers lists the atomic-replace temp files in dir.
func tempLeftovers(t *testing.T, dir string) []string {
	t.Helper()
	m, err := filepath.Glob(filepath.Join(dir, "token.shadow.tmp_*"))
	if err != nil {
		t.Fatal(err)
	}
	return m
}

// TestStressConcurrentWriters: several OS processes add distinct tokens at
// once through Store.Add. Every token must be in the file afterwards (no
// lost update under the flock) and the shared generation must have moved
// at least once per mutation.
func TestStressConcurrentWriters(t *testing.T) {
	const writers, perWriter = 4, 8
	dir := t.TempDir()
	shadow := filepath.Join(dir, "token.shadow")
	s, err := OpenStore(shadow, StoreOptions{Cost: testCost})
	if err != nil {
		t.Fatal(err)
	}
	defer s.Close()
	gen0 := s.Generation().Load()
	cmds := make([]*exec.Cmd, writers)
	outs := make([]*strings.Builder, writers)
	for w := range cmds {
		cmds[w] = stressHelper(t, "add", shadow, w, stressCountEnv+"="+strconv.Itoa(perWriter))
		outs[w] = &strings.Builder{}
		cmds[w].Stdout, cmds[w].Stderr = outs[w], outs[w]
		if err := cmds[w].Start(); err != nil {
			t.Fatal(err)
		}
	}
	for w, cmd := range cmds {
		if err := cmd.Wait(); err != nil {
			t.Fatalf("writer %d: %v\n%s", w, err, outs[w])
		}
	}
	m, err := ReadShadow(shadow)
	if err != nil {
		t.Fatal(err)
	}
	var missing []string
	for w := range writers {
		for i := range perWriter {
			if _, ok := m[stressAddID(w, i)]; !ok {
				missing = append(missing, stressAddID(w, i))
			}
		}
	}
	if len(missing) > 0 {
		t.Errorf("%d of %d tokens lost: %v", len(missing), writers*perWriter, missing)
	}
	if len(m) != writers*perWriter {
		t.Errorf("file holds %d tokens, want %d", len(m), writers*perWriter)
	}
	if d := s.Generation().Load() - gen0; d < writers*perWriter {
		t.Errorf("generation moved by %d for %d mutations", d, writers*perWriter)
	}
	if left := tempLeftovers(t, dir); len(left) > 0 {
		t.Errorf("clean writers left temp files: %v", left)
	}
}

// TestStressKilledWriters kills churning writer processes with SIGKILL at
// random moments. After every kill token.shadow must parse, and a writer
// in this process must get the lock (the kernel drops a dead holder's
// flock) and write despite any temp files the dead one left behind.
// Rounds: 15 (5 with -short), 300 with -long, or AUTHBENCH_STRESS_ROUNDS.
func TestStressKilledWriters(t *testing.T) {
	rounds := 15
	if testing.Short() {
		rounds = 5
	}
	if *longRun {
		rounds = 300
	}
	if n, ok := envInt(t, "AUTHBENCH_STRESS_ROUNDS"); ok {
		rounds = n
	}
	dir := t.TempDir()
	shadow := filepath.Join(dir, "token.shadow")
	// A short lock timeout turns "blocked by a dead writer" into an error.
	s, err := OpenStore(shadow, StoreOptions{Cost: testCost, LockTimeout: 5 * time.Second})
	if err != nil {
		t.Fatal(err)
	}
	defer s.Close()
	ctx := context.Background()
	r := rand.New(rand.NewPCG(20260101, 9))
	survived := 0
	for round := range rounds {
		gen := s.Generation().Load()
		n := 1 + r.IntN(2)
		cmds := make([]*exec.Cmd, n)
		outs := make([]*strings.Builder, n)
		for w := range cmds {
			cmds[w] = stressHelper(t, "churn", shadow, w)
			outs[w] = &strings.Builder{}
			cmds[w].Stdout, cmds[w].Stderr = outs[w], outs[w]
			if err := cmds[w].Start(); err != nil {
				t.Fatal(err)
			}
		}
		// Wait until the writers are mutating, then kill each at a random
		// moment of its loop (hashing, waiting for the lock, writing the
		// temp file, renaming, bumping).
		deadline := time.Now().Add(30 * time.Second)
		for s.Generation().Load() == gen && time.Now().Before(deadline) {
			time.Sleep(time.Millisecond)
		}
		for w, cmd := range cmds {
			time.Sleep(time.Duration(r.IntN(20_000)) * time.Microsecond)
			if err := cmd.Process.Signal(syscall.SIGKILL); err != nil {
				t.Fatalf("round %d: kill writer %d: %v", round, w, err)
			}
			err := cmd.Wait()
			var ee *exec.ExitError
			if !errors.As(err, &ee) || ee.Sys().(syscall.WaitStatus).Signal() != syscall.SIGKILL {
				t.Fatalf("round %d: writer %d ended by itself (%v) instead of being killed:\n%s", round, w, err, outs[w])
			}
		}
		if s.Generation().Load() == gen {
			t.Fatalf("round %d: writers made no mutation in 30 s", round)
		}
		if _, err := ReadShadow(shadow); err != nil {
			t.Fatalf("round %d: token.shadow does not parse after a SIGKILL: %v", round, err)
		}
		id := fmt.Sprintf("survivor%d@pbs!t", round)
		sec, err := s.Add(ctx, id)
		if err != nil {
			t.Fatalf("round %d: write after the kill failed: %v", round, err)
		}
		m, err := ReadShadow(shadow)
		if err != nil {
			t.Fatalf("round %d: token.shadow does not parse after our write: %v", round, err)
		}
		if _, ok := m[id]; !ok || sec == "" {
			t.Fatalf("round %d: our write is missing", round)
		}
		survived++
	}
	left := tempLeftovers(t, dir)
	t.Logf("%d kill -9 rounds survived; %d temp files left behind by killed writers (harmless: never read, unique names)", survived, len(left))
}
