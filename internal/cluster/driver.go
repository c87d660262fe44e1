package cluster

import (
	"bufio"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"syscall"
	"time"

	vegeta "github.com/tsenart/vegeta/v12/lib"

	"github.com/authbench/authbench/impl/ticket"
	"github.com/authbench/authbench/internal/fusemount"
)

// SchemaVersion of Result; fields are only ever added.
const SchemaVersion = 1

// Event kinds: what the driver does to the shared keys in a trial.
const (
	// EventTouch is seed 002's reproduction: `touch --date yesterday` on
	// the current key, then every node's rotation check at once.
	EventTouch = "touch-yesterday"
	// EventSameSecond is the state a double rotation leaves (seed 002:
	// "both have the same mtime"): the driver rotates, lets the nodes load
	// the new key, rotates again and gives the second key set the first
	// one's mtimes. No node rotates; it measures recovery.
	EventSameSecond = "same-second-rotation"
)

// Events lists the event kinds.
func Events() []string { return []string{EventTouch, EventSameSecond} }

// Config is one experiment: every event × strategy × attr_timeout × trial.
// Durations are milliseconds in JSON, like results.json.
type Config struct {
	Nodes          int      `json:"nodes"`
	Events         []string `json:"events"`
	Strategies     []string `json:"strategies"`
	AttrTimeoutsMs []int64  `json:"attr_timeouts_ms"`
	Trials         int      `json:"trials"`
	KeyBits        int      `json:"key_bits"`
	// Rate is ticket verifications per second, spread over the nodes.
	Rate float64 `json:"rate"`
	// LeadMs of load before the key is aged; ObserveMs after the nodes'
	// rotation check, which runs attr_timeout + 200 ms after the touch.
	LeadMs    int64 `json:"lead_ms"`
	ObserveMs int64 `json:"observe_ms"`
	BucketMs  int64 `json:"bucket_ms"`
	// TTLMs is content-ttl's TTL.
	TTLMs int64 `json:"ttl_ms"`
	// Binary is the bench executable for the node children.
	Binary string `json:"-"`
	// WorkDir holds trial directories and logs (kept for inspection).
	WorkDir string `json:"-"`
	// Log receives progress and the children's logs; nil discards.
	Log io.Writer `json:"-"`
}

// DefaultConfig is the matrix of issue 12: attr_timeout 0, 1 s, 5 s.
func DefaultConfig() Config {
	names := []string{}
	for _, s := range ticket.Strategies() {
		names = append(names, s.Name)
	}
	return Config{Nodes: 3, Events: []string{EventTouch}, Strategies: names, AttrTimeoutsMs: []int64{0, 1000, 5000}, Trials: 5,
		KeyBits: ticket.DefaultKeyBits, Rate: 150, LeadMs: 500, ObserveMs: 6000, BucketMs: 250, TTLMs: 1000}
}

// Validate rejects configurations that cannot run.
func (c Config) Validate() error {
	var errs []error
	if c.Nodes < 2 {
		errs = append(errs, fmt.Errorf("nodes %d: need at least 2", c.Nodes))
	}
	if c.Trials < 1 {
		errs = append(errs, fmt.Errorf("trials %d: need at least 1", c.Trials))
	}
	for _, s := range c.Strategies {
		if _, err := ticket.LookupStrategy(s); err != nil {
			errs = append(errs, err)
		}
	}
	if len(c.Strategies) == 0 || len(c.AttrTimeoutsMs) == 0 || len(c.Events) == 0 {
		errs = append(errs, errors.New("need at least one event, strategy and attr_timeout"))
	}
	for _, e := range c.Events {
		if !slices.Contains(Events(), e) {
			errs = append(errs, fmt.Errorf("unknown event %q (have %v)", e, Events()))
		}
	}
	for _, a := range c.AttrTimeoutsMs {
		if a < 0 {
			errs = append(errs, fmt.Errorf("attr_timeout %d ms < 0", a))
		}
	}
	if c.Rate <= 0 || c.ObserveMs <= 0 || c.BucketMs <= 0 || c.LeadMs < 0 {
		errs = append(errs, errors.New("rate, observe_ms and bucket_ms must be > 0, lead_ms >= 0"))
	}
	if c.WorkDir == "" {
		errs = append(errs, errors.New("no work directory"))
	}
	return errors.Join(errs...)
}

// Point is one timeline bucket: valid tickets rejected and requests sent
// in [t_ms, t_ms+bucket). t=0 is when the nodes' synchronized rotation
// checks (attr_timeout + 200 ms after the touch) have returned and every
// node has issued a fresh ticket.
type Point struct {
	TMs           int64 `json:"t_ms"`
	RejectedValid int   `json:"rejected_valid"`
	Total         int   `json:"total"`
}

// Trial is one run of one cell.
type Trial struct {
	Event         string `json:"event"`
	Strategy      string `json:"strategy"`
	AttrTimeoutMs int64  `json:"attr_timeout_ms"`
	Trial         int    `json:"trial"`
	// Rotations performed by all nodes together (1 is correct).
	Rotations int `json:"rotations"`
	// Disagree: after settling, nodes differ about the current or old key,
	// or a node signs with a key no node treats as current.
	Disagree bool        `json:"nodes_disagree"`
	States   []NodeState `json:"states"`
	// RejectedValid of Total requests sent from t=0 on (the timeline also
	// shows the lead-in).
	RejectedValid int            `json:"rejected_valid"`
	Total         int            `json:"total"`
	StatusCodes   map[string]int `json:"status_codes"`
	// ServerCPUSeconds is the node processes' CPU over the trial's load
	// (verification, logins, rotations), CPUPer1kReq per 1000 requests.
	ServerCPUSeconds float64 `json:"server_cpu_s"`
	CPUPer1kReq      float64 `json:"cpu_s_per_1k_req"`
	Timeline         []Point `json:"timeline"`
	Skipped          string  `json:"skipped,omitempty"`
	Error            string  `json:"error,omitempty"`
}

// Summary aggregates the trials of one (strategy, attr_timeout) cell.
type Summary struct {
	Event           string  `json:"event"`
	Strategy        string  `json:"strategy"`
	AttrTimeoutMs   int64   `json:"attr_timeout_ms"`
	Trials          int     `json:"trials"`
	DoubleRotations int     `json:"double_rotation_trials"`
	MaxRotations    int     `json:"max_rotations"`
	DisagreeTrials  int     `json:"disagree_trials"`
	RejectedValid   int     `json:"rejected_valid"`
	Total           int     `json:"total"`
	RejectedRatio   float64 `json:"rejected_valid_ratio"`
	Skipped         int     `json:"skipped_trials"`
	Failed          int     `json:"failed_trials"`
}

// Result is the experiment's JSON output.
type Result struct {
	SchemaVersion int       `json:"schema_version"`
	Config        Config    `json:"config"`
	Started       time.Time `json:"started"`
	Interrupted   bool      `json:"interrupted"`
	Trials        []Trial   `json:"trials"`
	Summary       []Summary `json:"summary"`
	// Skipped is set when FUSE is unavailable: no trial ran.
	Skipped string `json:"skipped,omitempty"`
}

func (c Config) logf(format string, args ...any) {
	if c.Log != nil {
		fmt.Fprintf(c.Log, format+"\n", args...)
	}
}

// Run runs every cell. Ctrl-C (ctx) stops after the current trial and
// returns what finished, with Interrupted set. A trial that fails is kept
// with its error; the others still run.
func Run(ctx context.Context, cfg Config) (*Result, error) {
	if err := cfg.Validate(); err != nil {
		return nil, fmt.Errorf("cluster config: %w", err)
	}
	res := &Result{SchemaVersion: SchemaVersion, Config: cfg, Started: time.Now().UTC()}
	if err := fusemount.Available(); err != nil {
		res.Skipped = err.Error()
		return res, nil
	}
	// Dead mounts of ours anywhere (a SIGKILLed earlier run, whatever its
	// work dir); live ones are left alone.
	if cleaned, err := fusemount.CleanStale(""); err != nil {
		return nil, err
	} else if len(cleaned) > 0 {
		cfg.logf("detached %d stale mounts of an earlier run", len(cleaned))
	}
	for _, event := range cfg.Events {
		for _, strategy := range cfg.Strategies {
			for _, attr := range cfg.AttrTimeoutsMs {
				for i := range cfg.Trials {
					if ctx.Err() != nil {
						res.Interrupted = true
						res.Summary = Summarize(res.Trials)
						return res, nil
					}
					tr := runTrial(ctx, cfg, event, strategy, attr, i)
					cfg.logf("%s %s attr=%dms trial %d: rotations=%d disagree=%v rejected_valid=%d/%d %s%s",
						event, strategy, attr, i, tr.Rotations, tr.Disagree, tr.RejectedValid, tr.Total, tr.Skipped, tr.Error)
					res.Trials = append(res.Trials, tr)
					if tr.Skipped != "" && len(res.Trials) == 1 {
						res.Skipped = tr.Skipped // FUSE does not mount here at all
						res.Summary = Summarize(res.Trials)
						return res, nil
					}
				}
			}
		}
	}
	res.Interrupted = ctx.Err() != nil
	res.Summary = Summarize(res.Trials)
	return res, nil
}

// Summarize aggregates trials per cell in first-seen order.
func Summarize(trials []Trial) []Summary {
	var out []Summary
	idx := map[string]int{}
	for _, t := range trials {
		key := t.Event + "\x00" + t.Strategy + "\x00" + strconv.FormatInt(t.AttrTimeoutMs, 10)
		i, ok := idx[key]
		if !ok {
			i = len(out)
			idx[key] = i
			out = append(out, Summary{Event: t.Event, Strategy: t.Strategy, AttrTimeoutMs: t.AttrTimeoutMs})
		}
		s := &out[i]
		switch {
		case t.Skipped != "":
			s.Skipped++
			continue
		case t.Error != "":
			s.Failed++
			continue
		}
		s.Trials++
		if t.Rotations > 1 {
			s.DoubleRotations++
		}
		s.MaxRotations = max(s.MaxRotations, t.Rotations)
		if t.Disagree {
			s.DisagreeTrials++
		}
		s.RejectedValid += t.RejectedValid
		s.Total += t.Total
	}
	for i := range out {
		if out[i].Total > 0 {
			out[i].RejectedRatio = float64(out[i].RejectedValid) / float64(out[i].Total)
		}
	}
	return out
}

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

// pool holds the newest ticket issued by each node.
type pool struct {
	mu      sync.Mutex
	tickets []string
	seq     []int
}

func (p *pool) set(i int, t string) {
	p.mu.Lock()
	p.tickets[i] = t
	p.seq[i]++
	p.mu.Unlock()
}

func (p *pool) get(i int) (string, int) {
	p.mu.Lock()
	defer p.mu.Unlock()
	return p.tickets[i], p.seq[i]
}

func runTrial(ctx context.Context, cfg Config, event, strategy string, attrMs int64, n int) (tr Trial) {
	tr = Trial{Event: event, Strategy: strategy, AttrTimeoutMs: attrMs, Trial: n, StatusCodes: map[string]int{}}
	dir := filepath.Join(cfg.WorkDir, fmt.Sprintf("%s-%s-attr%d-t%d", event, strategy, attrMs, n))
	backing := filepath.Join(dir, "backing")
	if err := os.MkdirAll(backing, 0o755); err != nil {
		tr.Error = err.Error()
		return tr
	}
	logf, err := os.Create(filepath.Join(dir, "nodes.log"))
	if err != nil {
		tr.Error = err.Error()
		return tr
	}
	defer logf.Close()
	logw := io.Writer(&syncWriter{w: logf})

	lock := filepath.Join(backing, "authkey.lock")
	files := ticket.Files{Dir: backing}
	gen, err := ticket.NewAuthority(files, lock, "uncached", ticket.Options{})
	if err != nil {
		tr.Error = err.Error()
		return tr
	}
	gen.KeyBits = cfg.KeyBits
	if _, err := gen.MaybeRotate(); err != nil {
		tr.Error = fmt.Sprintf("initial key: %v", err)
		return tr
	}

	// The trial's private keys go once its nodes are down (deferred
	// first, so it runs last); nodes.log stays for inspection.
	defer os.RemoveAll(backing)
	attr := time.Duration(attrMs) * time.Millisecond
	var nodes []*child
	defer func() {
		var wg sync.WaitGroup
		for _, c := range nodes {
			wg.Add(1)
			go func() { defer wg.Done(); c.stop() }()
		}
		wg.Wait()
		if cleaned, err := fusemount.CleanStale(dir); err != nil || len(cleaned) > 0 {
			fmt.Fprintf(logw, "driver: detached leftover mounts %v %v\n", cleaned, err)
		}
	}()
	for i := range cfg.Nodes {
		c, err := startNode(ctx, cfg, NodeConfig{Index: i, Backing: backing, Mount: mountDir(dir, i), Lock: lock,
			Strategy: strategy, AttrTimeout: attr, TTL: time.Duration(cfg.TTLMs) * time.Millisecond, KeyBits: cfg.KeyBits}, logw)
		if err != nil {
			if fusemount.IsSkip(err) {
				tr.Skipped = err.Error()
			} else {
				tr.Error = err.Error()
			}
			return tr
		}
		nodes = append(nodes, c)
	}
	hc := &http.Client{Timeout: 30 * time.Second}

	p := &pool{tickets: make([]string, len(nodes)), seq: make([]int, len(nodes))}
	for i, c := range nodes {
		t, err := issue(ctx, hc, c.ready.URL)
		if err != nil {
			tr.Error = fmt.Sprintf("node %d: first ticket: %v", i, err)
			return tr
		}
		p.set(i, t)
	}

	cpu0 := 0.0
	for _, c := range nodes {
		if st, err := state(ctx, hc, c.ready.URL); err == nil {
			cpu0 += st.CPUSeconds
		}
	}

	// Issuers: every node logs a user in every 100 ms, as logins keep
	// coming on a real cluster (each login runs get_privkey's rotation
	// check). Failed issues keep the previous ticket. Logins pause around
	// the reproduction, as the seed stops all services but pve-cluster.
	lctx, stopLoad := context.WithCancel(ctx)
	defer stopLoad()
	var paused atomic.Bool
	var wg sync.WaitGroup
	for i, c := range nodes {
		wg.Add(1)
		go func() {
			defer wg.Done()
			tick := time.NewTicker(100 * time.Millisecond)
			defer tick.Stop()
			for {
				select {
				case <-lctx.Done():
					return
				case <-tick.C:
					if paused.Load() {
						continue
					}
					if t, err := issue(lctx, hc, c.ready.URL); err == nil {
						p.set(i, t)
					}
				}
			}
		}()
	}

	// Load: round-robin over verifying nodes and issuing nodes, so every
	// node checks every node's tickets. The URL's query names the ticket
	// (issuer, sequence); the node ignores it.
	var rr struct {
		sync.Mutex
		n int
	}
	targeter := func(t *vegeta.Target) error {
		rr.Lock()
		k := rr.n
		rr.n++
		rr.Unlock()
		verifier, issuer := k%len(nodes), (k/len(nodes))%len(nodes)
		tk, seq := p.get(issuer)
		t.Method = http.MethodGet
		t.URL = fmt.Sprintf("%s%s?issuer=%d&seq=%d", nodes[verifier].ready.URL, PathVerify, issuer, seq)
		t.Header = http.Header{"Cookie": {CookieName + "=" + url.QueryEscape(tk)}}
		return nil
	}
	// The kernel caches of every mount expire within attr_timeout of the
	// touch; the verification load then re-caches the aged attributes,
	// which is the state seed 002's script sets up with check_authkey(1).
	wait := attr + 200*time.Millisecond
	dur := time.Duration(cfg.LeadMs+cfg.ObserveMs)*time.Millisecond + wait
	atk := vegeta.NewAttacker(vegeta.Timeout(10*time.Second), vegeta.KeepAlive(true))
	start := time.Now()
	results := atk.Attack(targeter, vegeta.Rate{Freq: int(cfg.Rate), Per: time.Second}, dur, "ticket")
	go func() {
		<-lctx.Done() // Ctrl-C: end the attack now, not after dur
		atk.Stop()
	}()

	triggered := make(chan time.Time, 1)
	var checks sync.WaitGroup
	checks.Add(1)
	go func() {
		defer checks.Done()
		sleep := func(d time.Duration) bool {
			select {
			case <-lctx.Done():
				return false
			case <-time.After(d):
				return true
			}
		}
		if !sleep(time.Duration(cfg.LeadMs) * time.Millisecond) {
			return
		}
		paused.Store(true)
		defer paused.Store(false)
		var err error
		if event == EventSameSecond {
			err = sameSecond(gen, files, func() bool { return sleep(wait) })
		} else {
			err = touchAndCheck(lctx, hc, files, nodes, func() bool { return sleep(wait) }, logw)
		}
		if err != nil {
			fmt.Fprintf(logw, "driver: %s: %v\n", event, err)
			return
		}
		// Fresh logins on every node before t=0, so the window after it
		// carries only tickets signed after the rotation attempts. Tickets
		// from before the touch are not counted: once a node sees the aged
		// key, PVE's age range (strict ">" on whole seconds) rejects those
		// issued in the touch's second, an artefact of the reproduction.
		for i, c := range nodes {
			if t, err := issue(lctx, hc, c.ready.URL); err == nil {
				p.set(i, t)
			} else {
				fmt.Fprintf(logw, "driver: login on node %d after the rotation check: %v\n", i, err)
			}
		}
		triggered <- time.Now()
	}()
	var rs []*vegeta.Result
	for r := range results {
		rs = append(rs, r)
	}
	stopLoad()
	wg.Wait()
	checks.Wait()
	t0 := start.Add(time.Duration(cfg.LeadMs)*time.Millisecond + wait)
	select {
	case t0 = <-triggered:
	default:
	}
	tr.Timeline, tr.RejectedValid, tr.Total = timeline(rs, t0, cfg.BucketMs, tr.StatusCodes)
	cpu1 := 0.0
	for _, c := range nodes {
		if st, err := state(ctx, hc, c.ready.URL); err == nil {
			cpu1 += st.CPUSeconds
		}
	}
	if tr.ServerCPUSeconds = cpu1 - cpu0; len(rs) > 0 {
		tr.CPUPer1kReq = 1000 * tr.ServerCPUSeconds / float64(len(rs))
	}

	// Settle: every cache has had its attr_timeout and TTL to catch up, so
	// what remains is lasting disagreement.
	settle := max(attr, time.Duration(cfg.TTLMs)*time.Millisecond) + 1100*time.Millisecond
	select {
	case <-ctx.Done():
	case <-time.After(settle):
	}
	for _, c := range nodes {
		st, err := state(ctx, hc, c.ready.URL)
		if err != nil {
			st.Error = err.Error()
		}
		tr.States = append(tr.States, st)
		tr.Rotations += int(st.Rotations)
	}
	tr.Disagree = disagree(tr.States)
	if ctx.Err() != nil {
		// Kept for inspection, but not counted: the window was cut short.
		tr.Error = "interrupted"
	}
	return tr
}

func issue(ctx context.Context, hc *http.Client, base string) (string, error) {
	body, err := post(ctx, hc, base+PathIssue)
	if err != nil {
		return "", err
	}
	return string(body), nil
}

func post(ctx context.Context, hc *http.Client, u string) ([]byte, error) {
	req, err := http.NewRequestWithContext(ctx, http.MethodPost, u, nil)
	if err != nil {
		return nil, err
	}
	return do(hc, req)
}

func do(hc *http.Client, req *http.Request) ([]byte, error) {
	resp, err := hc.Do(req)
	if err != nil {
		return nil, err
	}
	defer resp.Body.Close()
	body, err := io.ReadAll(io.LimitReader(resp.Body, 1<<20))
	if err != nil {
		return nil, err
	}
	if resp.StatusCode != http.StatusOK {
		return nil, fmt.Errorf("%s %s: %s", req.Method, req.URL.Path, resp.Status)
	}
	return body, nil
}

func state(ctx context.Context, hc *http.Client, base string) (NodeState, error) {
	var st NodeState
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, base+PathState, nil)
	if err != nil {
		return st, err
	}
	body, err := do(hc, req)
	if err != nil {
		return st, err
	}
	if err := json.Unmarshal(body, &st); err != nil {
		return st, fmt.Errorf("node state: %w", err)
	}
	return st, nil
}

// timeline buckets results by send time relative to t0 and counts the
// requests sent from t0 on. Every ticket the load sends was issued by a
// node with the key it holds as current, so any answer but 200 is a valid
// ticket rejected.
func timeline(rs []*vegeta.Result, t0 time.Time, bucketMs int64, codes map[string]int) ([]Point, int, int) {
	buckets := map[int64]*Point{}
	rejected, total := 0, 0
	for _, r := range rs {
		codes[strconv.Itoa(int(r.Code))]++
		off := r.Timestamp.Sub(t0).Milliseconds()
		b := off / bucketMs
		if off < 0 && off%bucketMs != 0 {
			b-- // floor, so bucket -1 is [-bucket, 0)
		}
		pt := buckets[b]
		if pt == nil {
			pt = &Point{TMs: b * bucketMs}
			buckets[b] = pt
		}
		pt.Total++
		if r.Code != http.StatusOK {
			pt.RejectedValid++
		}
		if off >= 0 {
			total++
			if r.Code != http.StatusOK {
				rejected++
			}
		}
	}
	keys := make([]int64, 0, len(buckets))
	for k := range buckets {
		keys = append(keys, k)
	}
	slices.Sort(keys)
	out := make([]Point, 0, len(keys))
	for _, k := range keys {
		out = append(out, *buckets[k])
	}
	return out, rejected, total
}

// disagree reports lasting inconsistency: nodes differ about the current
// or old key, a node signs with a key that is not its current one, or a
// node could not say.
func disagree(states []NodeState) bool {
	for _, st := range states {
		if st.Error != "" || st.Current == "" || st.Signing != st.Current {
			return true
		}
		if st.Current != states[0].Current || st.Old != states[0].Old {
			return true
		}
	}
	return false
}

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

// Describe is a one-line human summary of a cell.
func (s Summary) Describe() string {
	return strings.TrimSpace(fmt.Sprintf("%-20s %-13s attr=%5dms trials=%d double-rotations=%d (max %d) disagree=%d rejected-valid=%d/%d (%.2f%%) skipped=%d failed=%d",
		s.Event, s.Strategy, s.AttrTimeoutMs, s.Trials, s.DoubleRotations, s.MaxRotations, s.DisagreeTrials, s.RejectedValid, s.Total, 100*s.RejectedRatio, s.Skipped, s.Failed))
}

// touchAndCheck is seed 002's reproduction: age the key, wait until every
// mount's cached attributes have expired (the load re-caches the aged
// ones), then every node's rotation attempt at once (tmux synchronized
// panes).
func touchAndCheck(ctx context.Context, hc *http.Client, files ticket.Files, nodes []*child, wait func() bool, logw io.Writer) error {
	y := time.Now().Add(-24 * time.Hour)
	if err := os.Chtimes(files.Path(ticket.Current), y, y); err != nil {
		return fmt.Errorf("touch: %w", err)
	}
	if !wait() {
		return context.Canceled
	}
	var all sync.WaitGroup
	for _, c := range nodes {
		all.Add(1)
		go func() {
			defer all.Done()
			if _, err := post(ctx, hc, c.ready.URL+PathCheck); err != nil {
				fmt.Fprintf(logw, "driver: rotation check on %s: %v\n", c.ready.URL, err)
			}
		}()
	}
	all.Wait()
	return nil
}

// sameSecond rotates, waits for the nodes to load the new key, rotates
// again and stamps the second key set with the first set's mtimes, the
// state seed 002's double rotation leaves behind.
func sameSecond(gen *ticket.Authority, files ticket.Files, wait func() bool) error {
	kinds := []ticket.KeyKind{ticket.Current, ticket.Old, ticket.Private}
	rotate := func() error {
		y := time.Now().Add(-24 * time.Hour)
		if err := os.Chtimes(files.Path(ticket.Current), y, y); err != nil {
			return err
		}
		if ok, err := gen.MaybeRotate(); err != nil || !ok {
			return fmt.Errorf("driver rotation: rotated=%v: %v", ok, err)
		}
		return nil
	}
	if err := rotate(); err != nil {
		return err
	}
	mtimes := map[ticket.KeyKind]time.Time{}
	for _, k := range kinds {
		st, err := os.Stat(files.Path(k))
		if err != nil {
			return err
		}
		mtimes[k] = st.ModTime()
	}
	if !wait() {
		return context.Canceled
	}
	if err := rotate(); err != nil {
		return err
	}
	for _, k := range kinds {
		if err := os.Chtimes(files.Path(k), mtimes[k], mtimes[k]); err != nil {
			return err
		}
	}
	return nil
}
