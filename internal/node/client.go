package node

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"time"

	"github.com/google/pprof/profile"

	"github.com/authbench/authbench/internal/server"
)

// Client talks to one node's admin listener.
type Client struct {
	admin string
	http  *http.Client
}

// NewClient returns a client for the admin base URL (Ready.Admin or
// Node.AdminURL). A nil hc uses a client with a 30 s timeout.
func NewClient(admin string, hc *http.Client) *Client {
	if hc == nil {
		hc = &http.Client{Timeout: 30 * time.Second}
	}
	return &Client{admin: admin, http: hc}
}

// Stats returns the node's counters and its process CPU time.
func (c *Client) Stats(ctx context.Context) (server.Stats, error) {
	var st server.Stats
	body, err := c.do(ctx, http.MethodGet, PathStats, nil)
	if err != nil {
		return st, fmt.Errorf("server stats: %w", err)
	}
	if err := json.Unmarshal(body, &st); err != nil {
		return st, fmt.Errorf("server stats: %w", err)
	}
	return st, nil
}

// Mutate makes an API change through the node's own store and returns the
// token's new secret (empty for OpRevoke).
func (c *Client) Mutate(ctx context.Context, op Op, tokenID string) (string, error) {
	body, err := c.do(ctx, http.MethodPost, PathMutate, url.Values{"op": {string(op)}, "token": {tokenID}})
	if err != nil {
		return "", fmt.Errorf("mutate %s: %w", op, err)
	}
	var r mutateBody
	if err := json.Unmarshal(body, &r); err != nil {
		return "", fmt.Errorf("mutate %s: %w", op, err)
	}
	return r.Secret, nil
}

// FS is the file-system emulation of a node's stat calls (see
// StatFilterFor); the zero value removes it.
type FS struct {
	Coarse time.Duration // mtime granularity
	Stale  time.Duration // how long stat answers are cached
}

// SetFS installs the file-system emulation.
func (c *Client) SetFS(ctx context.Context, fs FS) error {
	q := url.Values{}
	if fs.Coarse > 0 {
		q.Set("coarse", fs.Coarse.String())
	}
	if fs.Stale > 0 {
		q.Set("stale", fs.Stale.String())
	}
	if _, err := c.do(ctx, http.MethodPost, PathFS, q); err != nil {
		return fmt.Errorf("file-system emulation: %w", err)
	}
	return nil
}

// StartProfile starts the node's CPU profile at ProfileHz.
func (c *Client) StartProfile(ctx context.Context) error {
	if _, err := c.do(ctx, http.MethodPost, PathProfileStart, nil); err != nil {
		return fmt.Errorf("start profile: %w", err)
	}
	return nil
}

// StopProfile stops the CPU profile and returns it.
func (c *Client) StopProfile(ctx context.Context) (*profile.Profile, error) {
	body, err := c.do(ctx, http.MethodPost, PathProfileStop, nil)
	if err != nil {
		return nil, fmt.Errorf("stop profile: %w", err)
	}
	p, err := profile.Parse(bytes.NewReader(body))
	if err != nil {
		return nil, fmt.Errorf("parse profile: %w", err)
	}
	return p, nil
}

// do sends one admin request and returns the body of a 200 response. Error
// bodies are the node's own messages; they never carry a secret.
func (c *Client) do(ctx context.Context, method, path string, q url.Values) ([]byte, error) {
	u := c.admin + path
	if len(q) > 0 {
		u += "?" + q.Encode()
	}
	req, err := http.NewRequestWithContext(ctx, method, u, nil)
	if err != nil {
		return nil, err
	}
	resp, err := c.http.Do(req)
	if err != nil {
		return nil, err
	}
	defer resp.Body.Close()
	body, err := io.ReadAll(resp.Body)
	if err != nil {
		return nil, err
	}
	if resp.StatusCode != http.StatusOK {
		return nil, fmt.Errorf("%s %s: %s: %s", method, path, resp.Status, bytes.TrimSpace(body))
	}
	return body, nil
}
