package cluster

import (
	"context"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
)

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
