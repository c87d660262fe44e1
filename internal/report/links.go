package report

import (
	"fmt"
	"net/url"
	"os"
	"path"
	"path/filepath"
	"regexp"
	"strings"
)

var (
	mdLink   = regexp.MustCompile(`\]\(([^)\s]+)\)`)
	htmlLink = regexp.MustCompile(`(?i)\s(?:href|src)\s*=\s*"([^"]*)"`)
)

// CheckLinks checks every local link of a report directory: those of
// report.md, of the markdown files it links (the scenario files) and of
// index.html. It returns one line per link whose target is not a file
// inside dir ("report.md: flamegraphs/x.svg: no such file"); links to the
// web, data: URIs and in-page anchors are not local and not checked. An
// error means the report itself could not be read.
func CheckLinks(dir string) ([]string, error) {
	var dead []string
	seen := map[string]bool{}
	queue := []string{MarkdownFile}
	for len(queue) > 0 {
		rel := queue[0]
		queue = queue[1:]
		if seen[rel] {
			continue
		}
		seen[rel] = true
		data, err := os.ReadFile(filepath.Join(dir, filepath.FromSlash(rel)))
		if err != nil {
			return dead, fmt.Errorf("check links: %w", err)
		}
		for _, m := range mdLink.FindAllStringSubmatch(string(data), -1) {
			target, ok, msg := resolve(dir, rel, m[1])
			switch {
			case msg != "":
				dead = append(dead, rel+": "+m[1]+": "+msg)
			case ok && strings.HasSuffix(target, ".md"):
				queue = append(queue, target)
			}
		}
	}
	data, err := os.ReadFile(filepath.Join(dir, HTMLFile))
	if err != nil {
		return dead, fmt.Errorf("check links: %w", err)
	}
	for _, m := range htmlLink.FindAllStringSubmatch(string(data), -1) {
		if _, _, msg := resolve(dir, HTMLFile, htmlUnescape(m[1])); msg != "" {
			dead = append(dead, HTMLFile+": "+m[1]+": "+msg)
		}
	}
	return dead, nil
}

var htmlUnescaper = strings.NewReplacer("&amp;", "&", "&#43;", "+", "&#34;", `"`, "&#39;", "'", "&lt;", "<", "&gt;", ">")

func htmlUnescape(s string) string { return htmlUnescaper.Replace(s) }

// resolve turns link of the file from (relative to dir) into a path
// relative to dir. ok is false for links that are not local files; msg
// says why a local link is dead.
func resolve(dir, from, link string) (target string, ok bool, msg string) {
	if link == "" || strings.HasPrefix(link, "#") || strings.HasPrefix(link, "//") || strings.Contains(strings.SplitN(link, "/", 2)[0], ":") {
		return "", false, "" // in-page anchor, another site or a data:/http: URI
	}
	p, _, _ := strings.Cut(link, "#")
	p, _, _ = strings.Cut(p, "?")
	u, err := url.PathUnescape(p)
	if err != nil {
		return "", true, "bad escape"
	}
	target = path.Clean(path.Join(path.Dir(from), u))
	if !filepath.IsLocal(filepath.FromSlash(target)) {
		return target, true, "outside the report dir"
	}
	st, err := os.Stat(filepath.Join(dir, filepath.FromSlash(target)))
	switch {
	case err != nil:
		return target, true, "no such file"
	case st.IsDir():
		return target, true, "a directory"
	}
	return target, true, ""
}
