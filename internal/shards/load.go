package shards

import (
	"encoding/json"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"slices"
	"strings"
)

// Shard is a sidecar as Load read it, with the paths of the sidecar and of
// its results file.
type Shard struct {
	Sidecar
	Path    string // the sidecar
	Results string // its vegeta results, beside it
}

// Set is the shards of one load: one shard count, no index twice (that
// would count its load twice).
type Set struct {
	Count   int     // n of i/n
	Shards  []Shard // sorted by index
	Missing []int   // indices of 1..n not found
}

// Load reads the sidecars named by args: directories are searched (not
// recursively) for *.shard.json. It fails unless they are shards of one
// load; missing shards are listed in the Set, not an error.
func Load(args []string) (Set, error) {
	shards, err := readSidecars(args)
	if err != nil {
		return Set{}, err
	}
	missing, err := check(shards)
	if err != nil {
		return Set{}, err
	}
	return Set{Count: shards[0].Count, Shards: shards, Missing: missing}, nil
}

func readSidecars(args []string) ([]Shard, error) {
	var paths []string
	for _, a := range args {
		st, err := os.Stat(a)
		if err != nil {
			return nil, err
		}
		if !st.IsDir() {
			paths = append(paths, a)
			continue
		}
		found, err := filepath.Glob(filepath.Join(escapeGlob(a), "*"+SidecarSuffix))
		if err != nil {
			return nil, fmt.Errorf("%s: %w", a, err)
		}
		if len(found) == 0 {
			return nil, fmt.Errorf("%s: no shard sidecars (*%s); was bench attack run with --shard and --results there?", a, SidecarSuffix)
		}
		paths = append(paths, found...)
	}
	var shards []Shard
	for _, p := range paths {
		data, err := os.ReadFile(p)
		if err != nil {
			return nil, fmt.Errorf("shard sidecar: %w", err)
		}
		var sc Shard
		if err := json.Unmarshal(data, &sc.Sidecar); err != nil {
			return nil, fmt.Errorf("shard sidecar %s: %w", p, err)
		}
		if sc.Count < 1 || sc.Index < 1 || sc.Index > sc.Count || sc.ResultsFile == "" || filepath.Base(sc.ResultsFile) != sc.ResultsFile {
			return nil, fmt.Errorf("shard sidecar %s: shard %d/%d, results %q: not a bench attack shard", p, sc.Index, sc.Count, sc.ResultsFile)
		}
		sc.Path, sc.Results = p, filepath.Join(filepath.Dir(p), sc.ResultsFile)
		shards = append(shards, sc)
	}
	return shards, nil
}

// escapeGlob quotes glob metacharacters in a directory name.
func escapeGlob(s string) string {
	return strings.NewReplacer(`\`, `\\`, "*", `\*`, "?", `\?`, "[", `\[`).Replace(s)
}

// check makes sure the shards are one load: the same shard count, no
// index twice. It sorts the shards by index and returns the indices
// missing from 1..n.
func check(shards []Shard) (missing []int, err error) {
	if len(shards) == 0 {
		return nil, errors.New("no shards to merge")
	}
	slices.SortFunc(shards, func(a, b Shard) int { return a.Index - b.Index })
	n := shards[0].Count
	seen := map[int]string{}
	for _, s := range shards {
		if s.Count != n {
			return nil, fmt.Errorf("%s is shard %s but %s is of %d shards: not one load", s.Path, s.Shard, shards[0].Path, n)
		}
		if prev, dup := seen[s.Index]; dup {
			return nil, fmt.Errorf("shard %d/%d twice: %s and %s", s.Index, n, prev, s.Path)
		}
		seen[s.Index] = s.Path
	}
	for i := 1; i <= n; i++ {
		if _, ok := seen[i]; !ok {
			missing = append(missing, i)
		}
	}
	return missing, nil
}
