package shards

import (
	"fmt"
	"io"
	"maps"
	"slices"
	"strconv"
	"strings"
	"time"
)

// WriteMarkdown writes s as attack.md holds it; it is golden-tested.
func (s Summary) WriteMarkdown(w io.Writer) error {
	var b strings.Builder
	fmt.Fprintf(&b, "# Merged load: %d of %d shards\n\n", len(s.Merged), s.Shards)
	if len(s.MissingShards) > 0 {
		fmt.Fprintf(&b, "**WARNING: shards %s missing**: the offered rate and the distribution below cover only the shards found.\n\n", joinInts(s.MissingShards))
	}
	fmt.Fprintf(&b, "Offered %.1f req/s (sum of the shards), achieved %.1f req/s over the merged window (%s; the shards' own rates sum to %.1f req/s).\n",
		s.OfferedRPS, s.AchievedRPS, s.End.Sub(s.Start).Round(time.Millisecond), s.ShardRPSSum)
	if s.ShortOfTarget {
		b.WriteString("**Achieved fell short of offered** (by more than 1 %): a generator or the server was saturated, or the shards did not overlap.\n")
	}
	fmt.Fprintf(&b, "%d requests, %.2f %% success, status codes %s. All shards ran together for %.0f %% of the merged window", s.Requests, 100*s.SuccessRatio, codes(s.StatusCodes), 100*s.Overlap)
	if s.Overlap < 0.9 {
		b.WriteString(" — **start the shards together** (`--start-at`), else the combined rate understates the load they offered")
	}
	b.WriteString(".\n\n")
	b.WriteString("Latency of all requests together (from the merged raw results, as `vegeta report merged.bin` computes it):\n\n")
	b.WriteString("| p50 | p90 | p99 | p99.9 | max | mean |\n|---|---|---|---|---|---|\n")
	l := s.Latency
	fmt.Fprintf(&b, "| %s | %s | %s | %s | %s | %s |\n\n", fmtUS(l.P50), fmtUS(l.P90), fmtUS(l.P99), fmtUS(l.P999), fmtUS(l.Max), fmtUS(s.MeanUS))
	b.WriteString("| shard | host | offered req/s | achieved req/s | requests | success | p50 | p99 | first request (UTC) |\n|---|---|---|---|---|---|---|---|---|\n")
	for _, p := range s.PerShard {
		note := ""
		if p.Interrupted {
			note = " (interrupted)"
		}
		fmt.Fprintf(&b, "| %s%s | %s | %.1f | %.1f | %d | %.2f %% | %s | %s | %s |\n", p.Shard, note, orDash(p.Host), p.OfferedRPS, p.AchievedRPS,
			p.Requests, 100*p.SuccessRatio, fmtUS(p.Latency.P50), fmtUS(p.Latency.P99), fmtClock(p.Start))
	}
	fmt.Fprintf(&b, "\nMerged vegeta results: `%s`.\n", s.ResultsFile)
	_, err := io.WriteString(w, b.String())
	return err
}

func fmtClock(t time.Time) string {
	if t.IsZero() {
		return "—"
	}
	return t.UTC().Format("15:04:05.000")
}

func fmtUS(v float64) string {
	return time.Duration(v * float64(time.Microsecond)).Round(time.Microsecond).String()
}

// orDash escapes s for a Markdown table cell, "—" if empty.
func orDash(s string) string {
	if s == "" {
		return "—"
	}
	return strings.NewReplacer("|", `\|`).Replace(s)
}

func joinInts(v []int) string {
	s := make([]string, len(v))
	for i, n := range v {
		s[i] = strconv.Itoa(n)
	}
	return strings.Join(s, ", ")
}

// codes renders a status-code histogram in code order.
func codes(m map[string]int) string {
	keys := slices.Sorted(maps.Keys(m))
	parts := make([]string, len(keys))
	for i, k := range keys {
		parts[i] = fmt.Sprintf("%s×%d", k, m[k])
	}
	if len(parts) == 0 {
		return "none"
	}
	return strings.Join(parts, ", ")
}
