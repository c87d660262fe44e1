package browser

import (
	"os"
	"testing"
)

// ForTest starts a browser for the test and stops it in its cleanup. A
// missing browser fails the test with the install instruction (the suite
// must not pass silently without its browser checks) unless
// AUTHBENCH_NO_BROWSER=1 is set, which skips it.
func ForTest(t testing.TB) *Browser {
	t.Helper()
	if os.Getenv(SkipEnv) == "1" {
		t.Skipf("%s=1: browser tests skipped", SkipEnv)
	}
	path, err := FindChromium()
	if err != nil {
		t.Fatalf("%v; or set %s=1 to skip the browser tests", err, SkipEnv)
	}
	b, err := Start(t.Context(), Options{ExecPath: path, UserDataDir: t.TempDir()})
	if err != nil {
		t.Fatalf("browser: %v", err)
	}
	t.Cleanup(b.Close) // runs before TempDir's removal: cleanups are LIFO
	return b
}
