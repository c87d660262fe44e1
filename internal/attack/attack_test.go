package attack

import (
	"context"
	"errors"
	"net"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"
)

// TestRunRefusesBadConfig: every configuration the attack cannot run is a
// UsageError (exit 2) before any load, naming the problem.
func TestRunRefusesBadConfig(t *testing.T) {
	dir := t.TempDir()
	tokens := filepath.Join(dir, "tokens")
	if err := os.WriteFile(tokens, []byte("a@pbs!t:00000000-0000-4000-8000-000000000000\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	// A port nothing listens on: bind one, then close it.
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	dead := "http://" + l.Addr().String() + "/api2/json/version"
	l.Close()
	ok := Config{URL: dead, TokensPath: tokens, Rate: 10, Duration: time.Second, Form: "pbs"}
	cases := []struct {
		name string
		edit func(*Config)
		want string
	}{
		{"no url", func(c *Config) { c.URL = "" }, "--url and --tokens"},
		{"no tokens", func(c *Config) { c.TokensPath = "" }, "--url and --tokens"},
		{"shard without results", func(c *Config) { c.Index, c.Count = 1, 2 }, "--shard needs --results"},
		{"shard with knee", func(c *Config) { c.Index, c.Count, c.Results, c.Knee = 1, 2, "r.bin", true }, "cannot search a knee"},
		{"missing tokens file", func(c *Config) { c.TokensPath = filepath.Join(dir, "missing") }, "missing"},
		{"bad form", func(c *Config) { c.Form = "basic" }, "basic"},
		{"nothing listening", func(*Config) {}, "cannot reach"},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			cfg := ok
			c.edit(&cfg)
			var out strings.Builder
			err := Run(context.Background(), cfg, &out)
			if _, usage := errors.AsType[*UsageError](err); !usage || !strings.Contains(err.Error(), c.want) {
				t.Fatalf("Run = %v, want a UsageError containing %q", err, c.want)
			}
			if out.Len() > 0 {
				t.Errorf("printed %q before refusing", out.String())
			}
		})
	}
}

func TestSleepUntil(t *testing.T) {
	if err := sleepUntil(context.Background(), time.Time{}); err != nil {
		t.Error(err)
	}
	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	if err := sleepUntil(ctx, time.Now().Add(time.Hour)); !errors.Is(err, context.Canceled) {
		t.Errorf("cancelled wait = %v, want context.Canceled", err)
	}
}
