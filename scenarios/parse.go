package scenarios

import (
	"bytes"
	"errors"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"regexp"
	"sort"
	"strconv"
	"strings"

	"gopkg.in/yaml.v3"
)

// MaxFileSize bounds a scenario file; real ones are about a kilobyte, and
// the bound keeps YAML decoding of a hostile file cheap.
const MaxFileSize = 64 << 10

// Load reads and parses one scenario file.
func Load(path string, known []string) (*Scenario, error) {
	data, err := os.ReadFile(path)
	if err != nil {
		return nil, fmt.Errorf("load scenario: %w", err)
	}
	return Parse(path, data, known)
}

// LoadAll loads every path and checks that scenario names are unique. It
// reports the problems of all files, not just the first bad one.
func LoadAll(paths []string, known []string) ([]*Scenario, error) {
	var (
		out  []*Scenario
		errs []error
	)
	seen := map[string]string{}
	for _, p := range paths {
		s, err := Load(p, known)
		if err != nil {
			errs = append(errs, err)
			continue
		}
		if prev, dup := seen[s.Name]; dup {
			errs = append(errs, fmt.Errorf("%s: scenario name %q already used by %s", p, s.Name, prev))
			continue
		}
		seen[s.Name] = p
		out = append(out, s)
	}
	if len(errs) > 0 {
		return nil, errors.Join(errs...)
	}
	return out, nil
}

// LoadDir loads dir/*.yaml in lexical order.
func LoadDir(dir string, known []string) ([]*Scenario, error) {
	paths, err := filepath.Glob(filepath.Join(dir, "*.yaml"))
	if err != nil {
		return nil, fmt.Errorf("list scenarios in %s: %w", dir, err)
	}
	if len(paths) == 0 {
		return nil, fmt.Errorf("no scenarios (*.yaml) in %s", dir)
	}
	sort.Strings(paths)
	return LoadAll(paths, known)
}

// Parse decodes data strictly (unknown fields are errors), applies the
// defaults documented on the types and validates the result. path is used
// in messages and for the default name. known lists the registered
// verifier names. The returned error is an Errors value whose entries name
// file, line and field.
func Parse(path string, data []byte, known []string) (*Scenario, error) {
	c := &collector{file: path}
	if len(data) > MaxFileSize {
		c.add(0, "", fmt.Sprintf("file is larger than %d bytes", MaxFileSize))
		return nil, c.err()
	}
	var doc yaml.Node
	dec := yaml.NewDecoder(bytes.NewReader(data))
	if err := dec.Decode(&doc); err != nil {
		if errors.Is(err, io.EOF) {
			c.add(0, "", "no scenario in file (empty)")
		} else {
			c.addSyntax(err)
		}
		return nil, c.err()
	}
	var extra yaml.Node
	if err := dec.Decode(&extra); !errors.Is(err, io.EOF) {
		c.add(extra.Line, "", "more than one YAML document; a file holds one scenario")
		return nil, c.err()
	}
	idx := newIndex()
	idx.walk(&doc, "", c)
	if err := c.err(); err != nil {
		return nil, err
	}

	var s Scenario
	strict := yaml.NewDecoder(bytes.NewReader(data))
	strict.KnownFields(true)
	if err := strict.Decode(&s); err != nil {
		c.addDecode(err, idx)
		return nil, c.err()
	}
	s.Path = path
	s.Question = HeaderQuestion(data)
	validate(&s, idx, c, known)
	if err := c.err(); err != nil {
		return nil, err
	}
	return &s, nil
}

// HeaderQuestion returns the question a scenario file asks in its leading
// comment block: the text after "# Question:" and its continuation comment
// lines, joined into one line and cut after the first '?' that ends a
// sentence (what follows is explanation). Without such a comment it
// returns "".
func HeaderQuestion(data []byte) string {
	var parts []string
	for line := range strings.Lines(string(data)) {
		line = strings.TrimRight(line, "\r\n")
		text, ok := strings.CutPrefix(line, "#")
		if !ok {
			break // the header block ends at the first non-comment line
		}
		text = strings.TrimSpace(text)
		if len(parts) == 0 {
			q, ok := strings.CutPrefix(text, "Question:")
			if !ok {
				continue
			}
			text = strings.TrimSpace(q)
		}
		if text == "" {
			break
		}
		parts = append(parts, text)
	}
	q := strings.Join(parts, " ")
	for i := 0; i < len(q); i++ {
		if q[i] == '?' && (i+1 == len(q) || q[i+1] == ' ') {
			return q[:i+1]
		}
	}
	return q
}

// index maps field paths ("load.rate", "events[1].at") to the YAML nodes
// that hold them, so validation can report lines.
type index struct {
	vals    map[string]*yaml.Node // path -> value node
	keys    map[string]*yaml.Node // path -> key node, for mapping fields
	entries []entry
}

type entry struct {
	parent, path string
	key          bool
	node         *yaml.Node
}

func newIndex() *index {
	return &index{vals: map[string]*yaml.Node{}, keys: map[string]*yaml.Node{}}
}

// walk records every node. Anchors and aliases are refused: no scenario
// needs them, they would hide which line a value came from, and aliases
// can expand a small file into a huge one.
func (x *index) walk(n *yaml.Node, path string, c *collector) {
	if n.Anchor != "" || n.Kind == yaml.AliasNode {
		c.add(n.Line, path, "anchors and aliases are not supported")
		return
	}
	switch n.Kind {
	case yaml.DocumentNode:
		for _, ch := range n.Content {
			x.vals[""] = ch
			x.entries = append(x.entries, entry{node: ch})
			x.walk(ch, "", c)
		}
	case yaml.MappingNode:
		for i := 0; i+1 < len(n.Content); i += 2 {
			k, v := n.Content[i], n.Content[i+1]
			p := k.Value
			if path != "" {
				p = path + "." + k.Value
			}
			x.entries = append(x.entries, entry{parent: path, path: p, key: true, node: k}, entry{parent: path, path: p, node: v})
			if _, dup := x.vals[p]; !dup {
				x.vals[p], x.keys[p] = v, k
			}
			x.walk(v, p, c)
		}
	case yaml.SequenceNode:
		for i, ch := range n.Content {
			p := path + "[" + strconv.Itoa(i) + "]"
			x.entries = append(x.entries, entry{parent: path, path: p, node: ch})
			x.vals[p] = ch
			x.walk(ch, p, c)
		}
	}
}

// has reports whether the file sets path.
func (x *index) has(path string) bool {
	_, ok := x.vals[path]
	return ok
}

// line returns the line where path is set (its key's line for a mapping
// field, so "mix:" rather than its first weight), or that of its nearest
// ancestor that is in the file, or 0.
func (x *index) line(path string) int {
	for {
		if n, ok := x.keys[path]; ok {
			return n.Line
		}
		if n, ok := x.vals[path]; ok {
			return n.Line
		}
		if path == "" {
			return 0
		}
		path = parentPath(path)
	}
}

func parentPath(p string) string {
	i := strings.LastIndexAny(p, ".[")
	if i < 0 {
		return ""
	}
	return p[:i]
}

var (
	reSyntax    = regexp.MustCompile(`(?s)^yaml: line (\d+): (.*)$`)
	reNotFound  = regexp.MustCompile(`(?s)^line (\d+): field (.*) not found in type \S+$`)
	reUnmarshal = regexp.MustCompile("(?s)^line (\\d+): cannot unmarshal (!!\\w+|\\S+)(?: `(.*)`)? into (.+)$")
	reDupKey    = regexp.MustCompile(`(?s)^line (\d+): mapping key "(.*)" already defined at line (\d+)$`)
	reLine      = regexp.MustCompile(`(?s)^line (\d+): (.*)$`)
)

// addSyntax reports a YAML syntax error with its line.
func (c *collector) addSyntax(err error) {
	if m := reSyntax.FindStringSubmatch(err.Error()); m != nil {
		n, _ := strconv.Atoi(m[1])
		c.add(n, "", "invalid YAML: "+m[2])
		return
	}
	c.add(0, "", "invalid YAML: "+strings.TrimPrefix(err.Error(), "yaml: "))
}

// addDecode rewrites yaml.v3's strict-decoding errors, which name Go types
// ("field rat not found in type scenarios.Load"), into messages that name
// the scenario's fields and lines.
func (c *collector) addDecode(err error, idx *index) {
	var te *yaml.TypeError
	if !errors.As(err, &te) {
		c.addSyntax(err)
		return
	}
	used := map[*yaml.Node]bool{}
	for _, msg := range te.Errors {
		if len(c.errs) >= maxErrors {
			break
		}
		if m := reNotFound.FindStringSubmatch(msg); m != nil {
			line, _ := strconv.Atoi(m[1])
			parent := idx.keyParent(line, m[2])
			c.add(line, "", fmt.Sprintf("field %s not found in %s", quote(m[2]), describePath(parent)))
			continue
		}
		if m := reDupKey.FindStringSubmatch(msg); m != nil {
			line, _ := strconv.Atoi(m[1])
			c.add(line, "", fmt.Sprintf("duplicate field %s (first set at line %s)", quote(m[2]), m[3]))
			continue
		}
		if m := reUnmarshal.FindStringSubmatch(msg); m != nil {
			line, _ := strconv.Atoi(m[1])
			e := idx.valueAt(line, m[2], m[3], used)
			if e == nil {
				c.add(line, "", fmt.Sprintf("value is not %s", friendlyType(m[4])))
				continue
			}
			used[e.node] = true
			c.add(line, e.path, fmt.Sprintf("%s is not %s", showNode(e.node), friendlyType(m[4])))
			continue
		}
		if m := reLine.FindStringSubmatch(msg); m != nil {
			line, _ := strconv.Atoi(m[1])
			c.add(line, "", m[2])
			continue
		}
		c.add(0, "", msg)
	}
}

// keyParent returns the path of the mapping that holds key name at line.
func (x *index) keyParent(line int, name string) string {
	for _, e := range x.entries {
		if e.key && e.node.Line == line && e.node.Value == name {
			return e.parent
		}
	}
	return ""
}

// valueAt finds the value node a type error refers to: on line, with the
// given tag and (possibly truncated) value, not already reported.
func (x *index) valueAt(line int, tag, value string, used map[*yaml.Node]bool) *entry {
	prefix, truncated := strings.CutSuffix(value, "...")
	var fallback *entry
	for i := range x.entries {
		e := &x.entries[i]
		if e.key || e.node.Line != line || used[e.node] {
			continue
		}
		switch {
		case tag == "!!map" && e.node.Kind == yaml.MappingNode,
			tag == "!!seq" && e.node.Kind == yaml.SequenceNode,
			e.node.Kind == yaml.ScalarNode && (e.node.Value == value || truncated && strings.HasPrefix(e.node.Value, prefix)):
			return e
		}
		if fallback == nil {
			fallback = e
		}
	}
	return fallback
}

func describePath(p string) string {
	if p == "" {
		return "scenario"
	}
	return p
}

func showNode(n *yaml.Node) string {
	if n == nil {
		return "value"
	}
	switch n.Kind {
	case yaml.MappingNode:
		return "a mapping"
	case yaml.SequenceNode:
		return "a list"
	}
	return quote(n.Value)
}

// friendlyType names a Go type from a yaml.v3 message in scenario terms.
func friendlyType(goType string) string {
	switch goType {
	case "int":
		return "an integer"
	case "float64":
		return "a number"
	case "bool":
		return "true or false"
	case "time.Duration":
		return `a duration such as "30s" or "500ms"`
	case "string", "scenarios.Scheme", "scenarios.Shape", "scenarios.HeaderForm", "scenarios.EventKind", "scenarios.Origin":
		return "a string"
	}
	if strings.HasPrefix(goType, "[]") {
		return "a list"
	}
	if strings.HasPrefix(goType, "scenarios.") || strings.HasPrefix(goType, "*scenarios.") {
		return "a mapping of fields"
	}
	return "of type " + goType
}
