package browser_test

import (
	"context"
	"fmt"
	"os"
	"sync"
	"testing"

	"github.com/authbench/authbench/internal/browser"
)

// The tests share one browser: starting Chromium is most of their time.
// It starts on first use and stops when the test binary ends.
var shared struct {
	once    sync.Once
	b       *browser.Browser
	profile string
	err     error
}

func TestMain(m *testing.M) {
	code := m.Run()
	if shared.b != nil {
		shared.b.Close()
	}
	if shared.profile != "" {
		os.RemoveAll(shared.profile)
	}
	os.Exit(code)
}

// testBrowser is browser.ForTest with one browser for the whole binary:
// a missing browser fails the test with the install hint, unless
// AUTHBENCH_NO_BROWSER=1 skips it.
func testBrowser(t *testing.T) *browser.Browser {
	t.Helper()
	if os.Getenv(browser.SkipEnv) == "1" {
		t.Skipf("%s=1: browser tests skipped", browser.SkipEnv)
	}
	shared.once.Do(func() {
		path, err := browser.FindChromium()
		if err != nil {
			shared.err = fmt.Errorf("%w; or set %s=1 to skip the browser tests", err, browser.SkipEnv)
			return
		}
		if shared.profile, err = os.MkdirTemp("", "authbench-browser-test-"); err != nil {
			shared.err = err
			return
		}
		shared.b, shared.err = browser.Start(context.Background(), browser.Options{ExecPath: path, UserDataDir: shared.profile})
	})
	if shared.err != nil {
		t.Fatalf("browser: %v", shared.err)
	}
	return shared.b
}
