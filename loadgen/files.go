package loadgen

import (
	"bufio"
	"errors"
	"fmt"
	"io"
	"os"

	vegeta "github.com/tsenart/vegeta/v12/lib"
)

// openDecoder opens a vegeta results file in any encoding vegeta knows
// (gob, JSON, CSV). An empty file yields a nil decoder: an attack with no
// measured requests writes one.
func openDecoder(path string) (vegeta.Decoder, io.Closer, error) {
	f, err := os.Open(path)
	if err != nil {
		return nil, nil, err
	}
	br := bufio.NewReaderSize(f, 64<<10)
	if _, err := br.Peek(1); errors.Is(err, io.EOF) {
		return nil, f, nil
	}
	dec := vegeta.DecoderFor(br)
	if dec == nil {
		f.Close()
		return nil, nil, fmt.Errorf("%s: not a vegeta results file (gob, JSON or CSV)", path)
	}
	return dec, f, nil
}

// MergeResults merges vegeta result files into one gob-encoded file at out,
// interleaving them with vegeta's round-robin decoder. The output is written
// to a temporary file and renamed, so out is either complete or untouched.
func MergeResults(out string, inputs ...string) (err error) {
	if len(inputs) == 0 {
		return errors.New("merge results: no input files")
	}
	var decs []vegeta.Decoder
	for _, in := range inputs {
		dec, c, err := openDecoder(in)
		if err != nil {
			return fmt.Errorf("merge results: %w", err)
		}
		defer c.Close()
		if dec != nil {
			decs = append(decs, dec)
		}
	}

	sink, err := newResultSink(out)
	if err != nil {
		return fmt.Errorf("merge results: %w", err)
	}
	defer sink.abort()
	if len(decs) > 0 {
		dec := vegeta.NewRoundRobinDecoder(decs...)
		for {
			var r vegeta.Result
			if err := dec.Decode(&r); err != nil {
				if errors.Is(err, io.EOF) {
					break
				}
				return fmt.Errorf("merge results: decode: %w", err)
			}
			if err := sink.enc.Encode(&r); err != nil {
				return fmt.Errorf("merge results: encode: %w", err)
			}
		}
	}
	if err := sink.commit(); err != nil {
		return fmt.Errorf("merge results: %w", err)
	}
	return nil
}

// MetricsFromFile computes vegeta's metrics over a results file.
func MetricsFromFile(path string) (*vegeta.Metrics, error) {
	var m vegeta.Metrics
	err := eachResult(path, func(r *vegeta.Result) { m.Add(r) })
	if err != nil {
		return nil, fmt.Errorf("metrics: %w", err)
	}
	m.Close()
	return &m, nil
}

// eachResult calls fn for every result in the file at path.
func eachResult(path string, fn func(*vegeta.Result)) error {
	dec, c, err := openDecoder(path)
	if err != nil {
		return err
	}
	defer c.Close()
	if dec == nil {
		return nil
	}
	for {
		var r vegeta.Result
		if err := dec.Decode(&r); err != nil {
			if errors.Is(err, io.EOF) {
				return nil
			}
			return fmt.Errorf("%s: decode: %w", path, err)
		}
		fn(&r)
	}
}
