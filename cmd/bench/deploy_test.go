package main

import (
	"errors"
	"io"
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"testing"

	"gopkg.in/yaml.v3"
)

// commandFlags returns the flag names `bench <sub> -h` lists.
func commandFlags(t *testing.T, sub string) map[string]bool {
	t.Helper()
	_, _, usage := bench(t, "", sub, "-h")
	flags := map[string]bool{}
	for _, m := range regexp.MustCompile(`(?m)^  -([a-z][a-z0-9-]*)`).FindAllStringSubmatch(usage, -1) {
		flags[m[1]] = true
	}
	if len(flags) == 0 {
		t.Fatalf("no flags in `bench %s -h`:\n%s", sub, usage)
	}
	return flags
}

// TestDeployManifestsUseRealFlags keeps the distributed-load manifests and
// their doc in step with the CLI: every flag they pass to bench attack or
// bench report exists, the files are valid YAML, and the Kubernetes Job is
// Indexed and derives its shard from JOB_COMPLETION_INDEX.
func TestDeployManifestsUseRealFlags(t *testing.T) {
	known := map[string]map[string]bool{"attack": commandFlags(t, "attack"), "report": commandFlags(t, "report")}
	files := []string{"deploy/k8s/attack-job.yaml", "deploy/k8s/merge-job.yaml", "deploy/github/attack-matrix.yml", "docs/distributed-load.md"}
	cmdRE := regexp.MustCompile(`bench (attack|report)\b`)
	flagRE := regexp.MustCompile(`(?:^|\s)--([a-z][a-z0-9-]*)`)
	for _, f := range files {
		data, err := os.ReadFile(filepath.Join("..", "..", f))
		if err != nil {
			t.Fatal(err)
		}
		text := strings.ReplaceAll(string(data), "\\\n", " ") // join continued shell lines
		used := 0
		for _, line := range strings.Split(text, "\n") {
			loc := cmdRE.FindStringSubmatchIndex(line)
			if loc == nil {
				continue
			}
			sub := line[loc[2]:loc[3]]
			for _, m := range flagRE.FindAllStringSubmatch(line[loc[1]:], -1) {
				used++
				if !known[sub][m[1]] {
					t.Errorf("%s: bench %s --%s is not a flag of bench %s", f, sub, m[1], sub)
				}
			}
		}
		if used == 0 {
			t.Errorf("%s: no bench attack/report flags found; did the command move?", f)
		}
		if strings.HasSuffix(f, ".md") {
			continue
		}
		dec := yaml.NewDecoder(strings.NewReader(string(data)))
		for {
			var doc map[string]any
			if err := dec.Decode(&doc); err != nil {
				if !errors.Is(err, io.EOF) {
					t.Errorf("%s: %v", f, err)
				}
				break
			}
			if doc["kind"] == "Job" && strings.Contains(f, "attack-job") {
				spec, _ := doc["spec"].(map[string]any)
				if spec["completionMode"] != "Indexed" || spec["completions"] != spec["parallelism"] {
					t.Errorf("%s: want an Indexed Job with completions = parallelism, got %v", f, spec)
				}
				if !strings.Contains(string(data), "JOB_COMPLETION_INDEX + 1") {
					t.Errorf("%s: shard not derived from JOB_COMPLETION_INDEX", f)
				}
			}
		}
	}
}
