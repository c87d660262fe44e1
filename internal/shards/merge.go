package shards

import (
	"bytes"
	"encoding/json"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"time"

	vegeta "github.com/tsenart/vegeta/v12/lib"

	"github.com/authbench/authbench/internal/results"
	"github.com/authbench/authbench/loadgen"
)

// File names Merge writes into its output directory.
const (
	MergedResults   = "merged.bin"  // the merged vegeta results; vegeta report reads it
	SummaryJSON     = "attack.json" // the Summary
	SummaryMarkdown = "attack.md"   // the Summary, for people
)

// Summary is attack.json: the merged load of all shards.
type Summary struct {
	Shards        int             `json:"shards"` // n of i/n
	Merged        []int           `json:"merged"` // shard indices found
	MissingShards []int           `json:"missing_shards,omitempty"`
	OfferedRPS    float64         `json:"offered_rps"`     // sum over the merged shards
	AchievedRPS   float64         `json:"achieved_rps"`    // merged requests / merged send window
	ShardRPSSum   float64         `json:"shard_rps_sum"`   // sum of each shard's own achieved rate
	ShortOfTarget bool            `json:"short_of_target"` // achieved < 99 % of offered
	Requests      uint64          `json:"requests"`        //
	SuccessRatio  float64         `json:"success_ratio"`   // 2xx/3xx over all
	StatusCodes   map[string]int  `json:"status_codes"`    //
	Start         time.Time       `json:"start"`           // first request sent
	End           time.Time       `json:"end"`             // last request sent
	Overlap       float64         `json:"overlap"`         // time all shards ran / merged window
	Latency       results.Latency `json:"latency_us"`      // of all requests together
	MeanUS        float64         `json:"mean_us"`
	ResultsFile   string          `json:"results_file"` // merged vegeta results
	PerShard      []ShardSummary  `json:"per_shard"`
}

// ShardSummary is one shard's own load in the Summary.
type ShardSummary struct {
	Shard        string          `json:"shard"`
	Host         string          `json:"host,omitempty"`
	OfferedRPS   float64         `json:"offered_rps"`
	AchievedRPS  float64         `json:"achieved_rps"`
	Requests     uint64          `json:"requests"`
	SuccessRatio float64         `json:"success_ratio"`
	Latency      results.Latency `json:"latency_us"`
	Start        time.Time       `json:"start"`
	End          time.Time       `json:"end"`
	Interrupted  bool            `json:"interrupted,omitempty"`
	ResultsFile  string          `json:"results_file"` // as given to the merge
}

// ResultsError is a shard whose vegeta results cannot be read: the shards
// given are at fault, not the merge.
type ResultsError struct {
	Shard string // "i/n"
	Err   error
}

func (e *ResultsError) Error() string { return fmt.Sprintf("shard %s: %v", e.Shard, e.Err) }
func (e *ResultsError) Unwrap() error { return e.Err }

// Merge merges the shards' vegeta results into dest/merged.bin and writes
// their Summary as dest/attack.json and dest/attack.md. An error reading a
// shard's results is a *ResultsError.
func Merge(set Set, dest string) (Summary, error) {
	if err := os.MkdirAll(dest, 0o755); err != nil {
		return Summary{}, fmt.Errorf("output directory: %w", err)
	}
	sum := Summary{Shards: set.Count, MissingShards: set.Missing, ResultsFile: MergedResults}
	inputs := make([]string, len(set.Shards))
	var latestStart, earliestEnd time.Time
	idle := false // a shard that sent nothing never ran together with the others
	for i, s := range set.Shards {
		inputs[i] = s.Results
		m, err := loadgen.MetricsFromFile(s.Results)
		if err != nil {
			return Summary{}, &ResultsError{Shard: s.Shard, Err: err}
		}
		sum.Merged = append(sum.Merged, s.Index)
		sum.OfferedRPS += s.OfferedRPS
		sum.ShardRPSSum += m.Rate
		sum.PerShard = append(sum.PerShard, ShardSummary{
			Shard: s.Shard, Host: s.Host, OfferedRPS: s.OfferedRPS, AchievedRPS: m.Rate, Requests: m.Requests,
			SuccessRatio: m.Success, Latency: latencyUS(m), Start: m.Earliest, End: m.Latest,
			Interrupted: s.Interrupted, ResultsFile: s.Results,
		})
		idle = idle || m.Requests == 0
		if i == 0 || m.Earliest.After(latestStart) {
			latestStart = m.Earliest
		}
		if i == 0 || m.Latest.Before(earliestEnd) {
			earliestEnd = m.Latest
		}
	}
	merged := filepath.Join(dest, MergedResults)
	if err := loadgen.MergeResults(merged, inputs...); err != nil {
		return Summary{}, err
	}
	m, err := loadgen.MetricsFromFile(merged)
	if err != nil {
		return Summary{}, err
	}
	sum.AchievedRPS, sum.Requests, sum.SuccessRatio = m.Rate, m.Requests, m.Success
	sum.ShortOfTarget = sum.AchievedRPS < 0.99*sum.OfferedRPS
	sum.StatusCodes, sum.Latency, sum.MeanUS = m.StatusCodes, latencyUS(m), us(m.Latencies.Mean)
	sum.Start, sum.End = m.Earliest, m.Latest
	if window := m.Latest.Sub(m.Earliest); window > 0 && !idle && earliestEnd.After(latestStart) {
		sum.Overlap = float64(earliestEnd.Sub(latestStart)) / float64(window)
	}
	if err := writeFile(filepath.Join(dest, SummaryJSON), sum.WriteJSON); err != nil {
		return Summary{}, err
	}
	if err := writeFile(filepath.Join(dest, SummaryMarkdown), sum.WriteMarkdown); err != nil {
		return Summary{}, err
	}
	return sum, nil
}

func writeFile(path string, write func(io.Writer) error) error {
	var b bytes.Buffer
	if err := write(&b); err != nil {
		return fmt.Errorf("attack summary: %w", err)
	}
	if err := os.WriteFile(path, b.Bytes(), 0o644); err != nil {
		return fmt.Errorf("attack summary: %w", err)
	}
	return nil
}

// WriteJSON writes s as attack.json holds it.
func (s Summary) WriteJSON(w io.Writer) error {
	data, err := json.MarshalIndent(s, "", "  ")
	if err != nil {
		return err
	}
	_, err = w.Write(append(data, '\n'))
	return err
}

func us(d time.Duration) float64 { return float64(d) / float64(time.Microsecond) }

// latencyUS takes the latency distribution of m in results' units.
func latencyUS(m *vegeta.Metrics) results.Latency {
	l := m.Latencies
	return results.Latency{P50: us(l.P50), P90: us(l.P90), P99: us(l.P99), P999: us(l.Quantile(0.999)), Max: us(l.Max)}
}
