// Package browser drives headless Chromium (through chromedp) to check
// what authbench writes for people to open: that a report's index.html or
// a flame graph loads from disk without console errors, that its images
// decode and its local links and resources resolve to existing files, that
// the headline sits in the first screen and does not scroll sideways at
// 1366 px, and that interactive parts (flame-graph zoom and search) work.
// It saves a full-page screenshot beside the checked file.
//
// Chromium comes from the Debian package chromium (scripts/tools.sh
// chromium installs it). Tests that need it call ForTest, which fails with
// that instruction when the browser is missing, and skips only when the
// environment sets AUTHBENCH_NO_BROWSER=1.
package browser

import (
	"context"
	"errors"
	"fmt"
	"net/url"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"strings"
	"sync"

	"github.com/chromedp/chromedp"
)

// SkipEnv names the environment variable that, set to "1", makes ForTest
// skip instead of fail when no browser is found (for machines that cannot
// install one; CI and `make test` install it).
const SkipEnv = "AUTHBENCH_NO_BROWSER"

// ExecEnv names an optional environment variable holding the browser
// binary to use instead of searching PATH.
const ExecEnv = "AUTHBENCH_CHROMIUM"

// ErrNotFound is returned by FindChromium when no browser is installed.
var ErrNotFound = errors.New("chromium not found: run scripts/tools.sh chromium (Debian package chromium)")

// candidates are the binary names tried in order; Debian's package
// installs /usr/bin/chromium.
var candidates = []string{"chromium", "chromium-browser", "google-chrome", "google-chrome-stable"}

// FindChromium returns the browser binary: $AUTHBENCH_CHROMIUM if set,
// else the first of chromium, chromium-browser, google-chrome on PATH.
func FindChromium() (string, error) {
	if p := os.Getenv(ExecEnv); p != "" {
		found, err := exec.LookPath(p)
		if err != nil {
			return "", fmt.Errorf("%s=%s: %w", ExecEnv, p, err)
		}
		return found, nil
	}
	for _, name := range candidates {
		if found, err := exec.LookPath(name); err == nil {
			return found, nil
		}
	}
	return "", ErrNotFound
}

// Options configures Start.
type Options struct {
	// ExecPath is the browser binary; empty means FindChromium.
	ExecPath string
	// UserDataDir is a fresh, writable profile directory (required: a
	// shared profile would leak state between runs). Tests pass
	// t.TempDir().
	UserDataDir string
}

// flags are the switches that work headless, as root, in a container, and
// keep the browser from talking to the network on its own.
var flags = []string{
	"headless", "no-sandbox", "disable-gpu", "disable-quic", "no-first-run",
	"disable-background-networking", "disable-component-update", "disable-sync",
}

// Browser is one running headless browser; open pages with Open.
type Browser struct {
	ctx         context.Context // chromedp's browser context
	cancel      context.CancelFunc
	allocCancel context.CancelFunc
}

// Start launches the browser; it stops when ctx ends or Close is called.
func Start(ctx context.Context, o Options) (*Browser, error) {
	if o.UserDataDir == "" {
		return nil, errors.New("browser: Options.UserDataDir is required")
	}
	if o.ExecPath == "" {
		p, err := FindChromium()
		if err != nil {
			return nil, err
		}
		o.ExecPath = p
	}
	opts := slices.Clone(chromedp.DefaultExecAllocatorOptions[:])
	for _, f := range flags {
		opts = append(opts, chromedp.Flag(f, true))
	}
	opts = append(opts, chromedp.ExecPath(o.ExecPath), chromedp.UserDataDir(o.UserDataDir))
	actx, acancel := chromedp.NewExecAllocator(ctx, opts...)
	bctx, bcancel := chromedp.NewContext(actx)
	if err := chromedp.Do(bctx); err != nil { // starts the browser
		bcancel()
		acancel()
		return nil, fmt.Errorf("start %s: %w", o.ExecPath, err)
	}
	return &Browser{ctx: bctx, cancel: bcancel, allocCancel: acancel}, nil
}

// Close stops the browser and waits for its process to exit, so its
// profile directory can be removed afterwards.
func (b *Browser) Close() {
	_ = chromedp.Cancel(b.ctx) // best effort: the process is killed below anyway
	b.cancel()
	b.allocCancel()
}

// Viewport is the default window: a common laptop screen, the "first
// screen" of the checks.
const (
	ViewportWidth  = 1366
	ViewportHeight = 768
)

// Page is one tab showing a local file, recording console output from
// before the page loaded until Close.
type Page struct {
	ctx    context.Context
	cancel context.CancelFunc
	path   string // absolute path of the file shown
	url    string

	mu       sync.Mutex
	messages []chromedp.ConsoleMessage
	done     chan struct{}
	stop     context.CancelFunc
}

// FileURL returns the file:// URL of path (made absolute).
func FileURL(path string) (string, error) {
	abs, err := filepath.Abs(path)
	if err != nil {
		return "", fmt.Errorf("file url: %w", err)
	}
	return (&url.URL{Scheme: "file", Path: filepath.ToSlash(abs)}).String(), nil
}

// Open shows the local file at path in a new tab with a viewport of
// width × height CSS pixels (0 means ViewportWidth × ViewportHeight) and
// waits for it to load. Fragment is appended to the URL (e.g. "s=crypt"
// for a flame graph's search), or nothing when empty.
func (b *Browser) Open(path string, width, height int, fragment string) (*Page, error) {
	if _, err := os.Stat(path); err != nil {
		return nil, fmt.Errorf("open page: %w", err)
	}
	u, err := FileURL(path)
	if err != nil {
		return nil, err
	}
	abs, _ := filepath.Abs(path) // FileURL succeeded, so Abs does
	if fragment != "" {
		u += "#" + fragment
	}
	if width <= 0 || height <= 0 {
		width, height = ViewportWidth, ViewportHeight
	}
	tctx, tcancel := chromedp.NewContext(b.ctx)
	p := &Page{ctx: tctx, cancel: tcancel, path: abs, url: u, done: make(chan struct{})}
	// Subscribe before navigating, so messages of the load are kept; a
	// child context ends the subscription without closing the tab.
	sctx, stop := context.WithCancel(tctx)
	p.stop = stop
	msgs := chromedp.Console(sctx)
	go func() {
		defer close(p.done)
		for m, err := range msgs {
			if err != nil {
				return
			}
			p.mu.Lock()
			p.messages = append(p.messages, m)
			p.mu.Unlock()
		}
	}()
	if err := chromedp.Do(tctx,
		chromedp.EmulateViewport(int64(width), int64(height)),
		chromedp.Navigate(u),
	); err != nil {
		p.Close()
		return nil, fmt.Errorf("open %s: %w", u, err)
	}
	return p, nil
}

// Close closes the tab.
func (p *Page) Close() {
	p.stop()
	<-p.done
	p.cancel()
}

// Path is the absolute path of the file the page shows.
func (p *Page) Path() string { return p.path }

// Errors returns the console errors and uncaught exceptions so far, each
// as "type: text (url:line)".
func (p *Page) Errors() []string {
	// A round trip first: events the page sent before it are then queued.
	_, _ = Eval[int](p, "0")
	p.mu.Lock()
	defer p.mu.Unlock()
	var out []string
	for _, m := range p.messages {
		if m.Type != chromedp.ConsoleError && !m.IsException() {
			continue
		}
		s := m.String()
		if m.URL != "" {
			s += fmt.Sprintf(" (%s:%d)", m.URL, m.Line+1)
		}
		out = append(out, s)
	}
	return out
}

// Eval evaluates a JavaScript expression in the page, awaiting a promise
// result, and decodes the result into T.
func Eval[T any](p *Page, expr string) (T, error) {
	v, err := chromedp.Run(p.ctx, chromedp.Evaluate[T](expr, chromedp.EvalAwaitPromise))
	if err != nil {
		return v, fmt.Errorf("evaluate %.60q: %w", expr, err)
	}
	return v, nil
}

// ClickXY sends a real left click at viewport coordinates x, y.
func (p *Page) ClickXY(x, y float64) error {
	if err := chromedp.Do(p.ctx, chromedp.MouseClickXY(x, y)); err != nil {
		return fmt.Errorf("click at %.0f,%.0f: %w", x, y, err)
	}
	return nil
}

// Click clicks the first element matching the CSS selector.
func (p *Page) Click(selector string) error {
	if err := chromedp.Do(p.ctx, chromedp.Click(chromedp.CSS(selector))); err != nil {
		return fmt.Errorf("click %s: %w", selector, err)
	}
	return nil
}

// HoverXY moves the mouse to viewport coordinates x, y.
func (p *Page) HoverXY(x, y float64) error {
	if err := chromedp.Do(p.ctx, chromedp.MouseEvent("mouseMoved", x, y)); err != nil {
		return fmt.Errorf("hover at %.0f,%.0f: %w", x, y, err)
	}
	return nil
}

// Screenshot saves a PNG of the whole page (beyond the viewport) at path.
func (p *Page) Screenshot(path string) error {
	png, err := chromedp.Run(p.ctx, chromedp.FullScreenshot(100))
	if err != nil {
		return fmt.Errorf("screenshot: %w", err)
	}
	if err := os.WriteFile(path, png, 0o644); err != nil {
		return fmt.Errorf("screenshot: %w", err)
	}
	return nil
}

// DefaultScreenshotPath is where Check saves the screenshot of path:
// beside it, "index.html" → "index.screenshot.png".
func DefaultScreenshotPath(path string) string {
	return strings.TrimSuffix(path, filepath.Ext(path)) + ".screenshot.png"
}
