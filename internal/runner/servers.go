package runner

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"log/slog"
	"os"
	"runtime/pprof"
	"sync"

	"github.com/google/pprof/profile"

	"github.com/authbench/authbench/internal/flame"
	"github.com/authbench/authbench/internal/node"
	"github.com/authbench/authbench/internal/results"
	"github.com/authbench/authbench/internal/server"
)

// serverSet is the one or more server processes of a cell. The runner
// reaches them only through node.Client (admin) and their traffic URLs,
// whether they live in this process (tests) or in child processes.
type serverSet struct {
	urls    []string
	clients []*node.Client
	// inProcess nodes share this process's single CPU profiler and its
	// CPU time, which includes the load generator's.
	inProcess bool
	label     string // pprof "verifier" label of this cell's requests
	stop      func() error
	profBuf   bytes.Buffer
}

// serverSpec is what each node of a cell is started with.
type serverSpec struct {
	cfg        node.Config
	gomaxprocs int
	processes  int
	logPath    string // child i logs to logPath.i
	label      string
}

// startServers starts spec.processes nodes. They run on a context detached
// from ctx, so a Ctrl-C still lets the runner stop the window's profile;
// close stops them.
func startServers(ctx context.Context, spec serverSpec, benchBinary string) (*serverSet, error) {
	set := &serverSet{label: spec.label}
	sctx, cancel := context.WithCancel(context.WithoutCancel(ctx))
	var err error
	if benchBinary == "" {
		err = set.startInProcess(sctx, cancel, spec)
	} else {
		err = set.startChildren(sctx, cancel, spec, benchBinary)
	}
	if err != nil {
		set.close()
		return nil, err
	}
	return set, nil
}

func (s *serverSet) startInProcess(ctx context.Context, cancel context.CancelFunc, spec serverSpec) error {
	s.inProcess = true
	var wg sync.WaitGroup
	var mu sync.Mutex
	var errs []error
	s.stop = func() error { cancel(); wg.Wait(); return errors.Join(errs...) }
	for range spec.processes {
		cfg := spec.cfg
		cfg.Addr, cfg.AdminAddr = "127.0.0.1:0", "127.0.0.1:0"
		cfg.Logger = discardLogger()
		n, err := node.Start(ctx, cfg)
		if err != nil {
			return err
		}
		s.urls = append(s.urls, n.URL())
		s.clients = append(s.clients, node.NewClient(n.AdminURL(), nil))
		wg.Add(1)
		go func() {
			defer wg.Done()
			if err := n.Serve(ctx); err != nil {
				mu.Lock()
				errs = append(errs, err)
				mu.Unlock()
			}
		}()
	}
	return nil
}

func (s *serverSet) startChildren(ctx context.Context, cancel context.CancelFunc, spec serverSpec, bin string) error {
	var procs []*node.Process
	var logs []*os.File
	s.stop = func() error {
		var errs []error
		for _, p := range procs {
			errs = append(errs, p.Stop())
		}
		cancel()
		for _, l := range logs {
			errs = append(errs, l.Close())
		}
		return errors.Join(errs...)
	}
	for i := range spec.processes {
		logPath := fmt.Sprintf("%s.%d", spec.logPath, i)
		logf, err := os.OpenFile(logPath, os.O_CREATE|os.O_WRONLY|os.O_APPEND, 0o644)
		if err != nil {
			return fmt.Errorf("server log: %w", err)
		}
		logs = append(logs, logf)
		p, err := node.Spawn(ctx, bin, spec.cfg, node.SpawnOptions{GOMAXPROCS: spec.gomaxprocs, Log: logf})
		if err != nil {
			return fmt.Errorf("server process %d (log %s): %w", i, logPath, err)
		}
		procs = append(procs, p)
		s.urls = append(s.urls, p.URL)
		s.clients = append(s.clients, node.NewClient(p.Admin, nil))
	}
	return nil
}

func (s *serverSet) close() error {
	if s.stop == nil {
		return nil
	}
	return s.stop()
}

// stats fetches each node's counters.
func (s *serverSet) stats(ctx context.Context) ([]server.Stats, error) {
	out := make([]server.Stats, len(s.clients))
	for i, c := range s.clients {
		st, err := c.Stats(ctx)
		if err != nil {
			return nil, err
		}
		out[i] = st
	}
	return out, nil
}

// mutate makes an API change through node 0 and returns the new secret.
func (s *serverSet) mutate(ctx context.Context, op node.Op, id string) (string, error) {
	return s.clients[0].Mutate(ctx, op, id)
}

// setFS installs the file-system emulation on every node.
func (s *serverSet) setFS(ctx context.Context, fs node.FS) error {
	for _, c := range s.clients {
		if err := c.SetFS(ctx, fs); err != nil {
			return err
		}
	}
	return nil
}

func (s *serverSet) startProfile(ctx context.Context) error {
	if s.inProcess {
		s.profBuf.Reset()
		return node.StartCPUProfile(&s.profBuf)
	}
	for _, c := range s.clients {
		if err := c.StartProfile(ctx); err != nil {
			return err
		}
	}
	return nil
}

// stopProfile returns the merged server profile. In-process, samples are
// restricted to the serving goroutines of this cell (those carrying its
// verifier label), which leaves out the load generator sharing the
// process.
func (s *serverSet) stopProfile(ctx context.Context) (*profile.Profile, error) {
	if s.inProcess {
		pprof.StopCPUProfile()
		p, err := profile.Parse(bytes.NewReader(s.profBuf.Bytes()))
		if err != nil {
			return nil, fmt.Errorf("parse profile: %w", err)
		}
		mine := flame.FilterByLabel(p, "verifier", s.label)
		if _, ok := results.TicketStrategy(s.label); ok {
			// impl/ticket labels its phases on a fresh context, which
			// drops the verifier label: its samples are this cell's too
			// (the load generator never carries a phase label).
			return flame.Merge([]*profile.Profile{mine, flame.FilterByLabel(p, "phase", "verify", "pem", "stat")})
		}
		return mine, nil
	}
	var ps []*profile.Profile
	for _, c := range s.clients {
		p, err := c.StopProfile(ctx)
		if err != nil {
			return nil, err
		}
		ps = append(ps, p)
	}
	if len(ps) == 1 {
		return ps[0], nil
	}
	return flame.Merge(ps)
}

func discardLogger() *slog.Logger { return slog.New(slog.DiscardHandler) }
