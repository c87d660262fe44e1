package scenarios

import (
	"bufio"
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"os"
	"os/exec"
	"runtime/pprof"
	"strconv"
	"strings"
	"sync"
	"time"

	"github.com/google/pprof/profile"

	"github.com/authbench/authbench/impl"
	"github.com/authbench/authbench/impl/cryptpw"
	"github.com/authbench/authbench/internal/flame"
	"github.com/authbench/authbench/internal/node"
)

// serverSet is the one or more server processes of a run. The runner
// reaches them only over HTTP (traffic and admin), whether they live in
// this process (tests) or in child processes (benchmarks).
type serverSet struct {
	urls   []string
	admins []string
	pids   []int
	// inProcess nodes share this process's single CPU profiler.
	inProcess bool
	cancel    context.CancelFunc
	wait      func() error
	profBuf   bytes.Buffer
	client    *http.Client
}

// serverSpec is what each node of a run is started with.
type serverSpec struct {
	shadow     string
	verifier   string
	ttl        time.Duration
	tls        bool
	gomaxprocs int
	processes  int
	scheme     cryptpw.Scheme
	cost       int
	logPath    string
}

// ServeReady is the line `bench serve --ready` prints on stdout once it
// listens, so the parent learns the ports it was given.
type ServeReady struct {
	URL   string `json:"url"`
	Admin string `json:"admin"`
	PID   int    `json:"pid"`
}

func startServers(ctx context.Context, spec serverSpec, benchBinary string) (*serverSet, error) {
	set := &serverSet{client: &http.Client{Timeout: 30 * time.Second}}
	sctx, cancel := context.WithCancel(context.WithoutCancel(ctx))
	set.cancel = cancel
	if benchBinary == "" {
		return set, set.startInProcess(sctx, spec)
	}
	return set, set.startChildren(sctx, spec, benchBinary)
}

func (s *serverSet) startInProcess(ctx context.Context, spec serverSpec) error {
	s.inProcess = true
	var wg sync.WaitGroup
	var mu sync.Mutex
	var errs []error
	for range spec.processes {
		n, err := node.Start(ctx, node.Config{
			Shadow: spec.shadow, Verifier: spec.verifier, TTL: spec.ttl,
			Addr: "127.0.0.1:0", AdminAddr: "127.0.0.1:0", TLS: spec.tls,
			Scheme: spec.scheme, Cost: spec.cost, Logger: discardLogger(),
		})
		if err != nil {
			s.cancel()
			wg.Wait()
			return err
		}
		s.urls = append(s.urls, n.URL())
		s.admins = append(s.admins, n.AdminURL())
		s.pids = append(s.pids, os.Getpid())
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
	s.wait = func() error { wg.Wait(); return errors.Join(errs...) }
	return nil
}

func (s *serverSet) startChildren(ctx context.Context, spec serverSpec, bin string) error {
	var cmds []*exec.Cmd
	var logs []*os.File
	s.wait = func() error {
		var errs []error
		for _, c := range cmds {
			if err := c.Wait(); err != nil && ctx.Err() == nil {
				errs = append(errs, err)
			}
		}
		for _, l := range logs {
			l.Close()
		}
		return errors.Join(errs...)
	}
	for i := range spec.processes {
		args := []string{"serve", "--ready", "--verifier", spec.verifier, "--shadow", spec.shadow,
			"--addr", "127.0.0.1:0", "--admin-addr", "127.0.0.1:0",
			"--ttl", spec.ttl.String(), "--scheme", string(spec.scheme), "--cost", strconv.Itoa(spec.cost)}
		if spec.tls {
			args = append(args, "--tls")
		}
		cmd := exec.CommandContext(ctx, bin, args...)
		cmd.Cancel = func() error { return cmd.Process.Signal(os.Interrupt) }
		cmd.WaitDelay = 5 * time.Second
		cmd.Env = os.Environ()
		if spec.gomaxprocs > 0 {
			cmd.Env = append(cmd.Env, "GOMAXPROCS="+strconv.Itoa(spec.gomaxprocs))
		}
		logf, err := os.OpenFile(fmt.Sprintf("%s.%d", spec.logPath, i), os.O_CREATE|os.O_WRONLY|os.O_APPEND, 0o644)
		if err != nil {
			s.cancel()
			return fmt.Errorf("server log: %w", err)
		}
		logs = append(logs, logf)
		cmd.Stderr = logf
		out, err := cmd.StdoutPipe()
		if err != nil {
			s.cancel()
			return err
		}
		if err := cmd.Start(); err != nil {
			s.cancel()
			return fmt.Errorf("start server process: %w", err)
		}
		cmds = append(cmds, cmd)
		ready, err := readReady(out, 15*time.Second)
		if err != nil {
			s.cancel()
			s.wait()
			return fmt.Errorf("server process %d (log %s.%d): %w", i, spec.logPath, i, err)
		}
		go io.Copy(io.Discard, out)
		s.urls = append(s.urls, ready.URL)
		s.admins = append(s.admins, ready.Admin)
		s.pids = append(s.pids, ready.PID)
	}
	return nil
}

func readReady(r io.Reader, timeout time.Duration) (ServeReady, error) {
	type res struct {
		ready ServeReady
		err   error
	}
	ch := make(chan res, 1)
	go func() {
		line, err := bufio.NewReader(r).ReadString('\n')
		if err != nil {
			ch <- res{err: fmt.Errorf("no ready line: %w", err)}
			return
		}
		var rd ServeReady
		if err := json.Unmarshal([]byte(line), &rd); err != nil || rd.URL == "" {
			ch <- res{err: fmt.Errorf("bad ready line")}
			return
		}
		ch <- res{ready: rd}
	}()
	select {
	case r := <-ch:
		return r.ready, r.err
	case <-time.After(timeout):
		return ServeReady{}, fmt.Errorf("not ready after %s", timeout)
	}
}

func (s *serverSet) close() error {
	s.cancel()
	return s.wait()
}

func (s *serverSet) post(ctx context.Context, url string) ([]byte, error) {
	req, err := http.NewRequestWithContext(ctx, http.MethodPost, url, nil)
	if err != nil {
		return nil, err
	}
	resp, err := s.client.Do(req)
	if err != nil {
		return nil, err
	}
	defer resp.Body.Close()
	body, err := io.ReadAll(resp.Body)
	if err != nil {
		return nil, err
	}
	if resp.StatusCode != http.StatusOK {
		return nil, fmt.Errorf("%s: %s: %s", strings.SplitN(url, "?", 2)[0], resp.Status, bytes.TrimSpace(body))
	}
	return body, nil
}

// stats fetches each node's counters.
func (s *serverSet) stats(ctx context.Context) ([]impl.Stats, error) {
	out := make([]impl.Stats, len(s.admins))
	for i, a := range s.admins {
		req, _ := http.NewRequestWithContext(ctx, http.MethodGet, a+"/authbench/stats", nil)
		resp, err := s.client.Do(req)
		if err != nil {
			return nil, fmt.Errorf("server stats: %w", err)
		}
		var snap node.Snapshot
		err = json.NewDecoder(resp.Body).Decode(&snap)
		resp.Body.Close()
		if err != nil {
			return nil, fmt.Errorf("server stats: %w", err)
		}
		out[i] = snap.Stats
	}
	return out, nil
}

// mutate makes an API change through node 0 and returns the new secret.
func (s *serverSet) mutate(ctx context.Context, op, id string) (string, error) {
	body, err := s.post(ctx, s.admins[0]+"/authbench/admin/mutate?op="+op+"&token="+url.QueryEscape(id))
	if err != nil {
		return "", err
	}
	var r struct{ Secret string }
	if err := json.Unmarshal(body, &r); err != nil {
		return "", err
	}
	return r.Secret, nil
}

// setFS installs the file-system emulation on every node.
func (s *serverSet) setFS(ctx context.Context, coarse, stale time.Duration) error {
	q := ""
	if coarse > 0 {
		q += "coarse=" + coarse.String() + "&"
	}
	if stale > 0 {
		q += "stale=" + stale.String()
	}
	for _, a := range s.admins {
		if _, err := s.post(ctx, a+"/authbench/admin/fs?"+q); err != nil {
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
	for _, a := range s.admins {
		if _, err := s.post(ctx, a+"/authbench/profile/start"); err != nil {
			return err
		}
	}
	return nil
}

// stopProfile returns the merged server profile. In-process, samples are
// restricted to the serving goroutines (those carrying a verifier label),
// which leaves out the load generator sharing the process.
func (s *serverSet) stopProfile(ctx context.Context, label string) (*profile.Profile, error) {
	if s.inProcess {
		pprof.StopCPUProfile()
		p, err := profile.Parse(bytes.NewReader(s.profBuf.Bytes()))
		if err != nil {
			return nil, fmt.Errorf("parse profile: %w", err)
		}
		return flame.FilterByLabel(p, "verifier", label), nil
	}
	var ps []*profile.Profile
	for _, a := range s.admins {
		body, err := s.post(ctx, a+"/authbench/profile/stop")
		if err != nil {
			return nil, err
		}
		p, err := profile.Parse(bytes.NewReader(body))
		if err != nil {
			return nil, fmt.Errorf("parse profile: %w", err)
		}
		ps = append(ps, p)
	}
	if len(ps) == 1 {
		return ps[0], nil
	}
	return flame.Merge(ps)
}
