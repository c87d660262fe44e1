package shards

import (
	"encoding/json"
	"fmt"
	"net/url"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"time"
)

// Sidecar is the sidecar of one shard's vegeta results: who offered what,
// when, and how, so a merge can check the shards belong together and sum
// their offered rates.
type Sidecar struct {
	Shard           string     `json:"shard"` // "i/n"
	Index           int        `json:"index"` // 1-based
	Count           int        `json:"count"`
	OfferedRPS      float64    `json:"offered_rps"`       // this shard's: total / count
	TotalOfferedRPS float64    `json:"total_offered_rps"` // --rate
	StartAt         *time.Time `json:"start_at,omitempty"`
	Start           time.Time  `json:"start"` // the measured window
	End             time.Time  `json:"end"`
	DurationS       float64    `json:"duration_s"`
	WarmupS         float64    `json:"warmup_s"`
	ResultsFile     string     `json:"results_file"` // vegeta results, beside this file
	Requests        uint64     `json:"requests"`
	AchievedRPS     float64    `json:"achieved_rps"`
	Interrupted     bool       `json:"interrupted,omitempty"`
	Host            string     `json:"host,omitempty"`
	// Command is the argv, with credentials in URLs redacted (RedactArgs);
	// secrets are only ever in the --tokens file, never on the command line.
	Command []string `json:"command"`
}

// SidecarSuffix names a shard sidecar: results "x.bin" → "x.shard.json".
const SidecarSuffix = ".shard.json"

// SidecarPath is the path of the sidecar of the results file results.
func SidecarPath(results string) string {
	return strings.TrimSuffix(results, filepath.Ext(results)) + SidecarSuffix
}

// WriteSidecar writes sc as JSON to path.
func WriteSidecar(path string, sc Sidecar) error {
	data, err := json.MarshalIndent(sc, "", "  ")
	if err != nil {
		return fmt.Errorf("shard sidecar: %w", err)
	}
	if err := os.WriteFile(path, append(data, '\n'), 0o644); err != nil {
		return fmt.Errorf("shard sidecar: %w", err)
	}
	return nil
}

// RedactArgs hides URL credentials (https://user:pass@host) in argv.
func RedactArgs(args []string) []string {
	out := make([]string, len(args))
	for i, a := range args {
		out[i] = a
		k, v, isFlag := strings.Cut(a, "=")
		if !isFlag {
			k, v = "", a
		}
		if u, err := url.Parse(v); err == nil && u.User != nil && u.Host != "" {
			u.User = url.User("redacted")
			if k != "" {
				out[i] = k + "=" + u.String()
			} else {
				out[i] = u.String()
			}
		}
	}
	return out
}

// Parse reads a shard "i/n" (1-based: 1 <= i <= n); the empty string is
// no sharding (0, 0).
func Parse(s string) (i, n int, err error) {
	if s == "" {
		return 0, 0, nil
	}
	a, b, ok := strings.Cut(s, "/")
	i, err1 := strconv.Atoi(a)
	n, err2 := strconv.Atoi(b)
	if !ok || err1 != nil || err2 != nil || n < 1 || i < 1 || i > n {
		return 0, 0, fmt.Errorf("--shard %q: want i/n with 1 <= i <= n", s)
	}
	return i, n, nil
}
