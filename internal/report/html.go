package report

import (
	"bytes"
	"encoding/base64"
	"fmt"
	"html/template"
	"os"
	"path"
	"path/filepath"
	"strings"

	"github.com/authbench/authbench/internal/flame"
)

// ---- HTML ----

const htmlTemplate = `<!DOCTYPE html>
<html lang="en">
<head>
<meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<title>{{.Title}}</title>
<style>
body { font-family: system-ui, -apple-system, "Segoe UI", Roboto, sans-serif; margin: .8em auto; max-width: 1400px; padding: 0 1em; color: #1f2328; line-height: 1.45; }
h1 { border-bottom: 1px solid #d0d7de; padding-bottom: .1em; font-size: 1.5em; margin: 0 0 .3em; }
h2 { border-bottom: 1px solid #d0d7de; padding-bottom: .1em; margin: .6em 0 .3em; font-size: 1.2em; line-height: 1.3; }
table { border-collapse: collapse; margin: .5em 0 1.2em; font-size: 13px; display: block; overflow-x: auto; }
th, td { border: 1px solid #d0d7de; padding: 3px 7px; text-align: left; white-space: nowrap; }
th { background: #f6f8fa; }
tr:nth-child(even) td { background: #fbfcfd; }
code { background: #eff1f3; padding: 0 .3em; border-radius: 3px; }
.callout { border-left: 4px solid #bf8700; background: #fff8c5; padding: .4em 1em; margin: .5em 0; font-size: 14px; }
ul.compact { font-size: 13px; margin: .2em 0; line-height: 1.3; }
p.note { font-size: 12px; color: #57606a; }
img.plot.tradeoff { width: 600px; max-width: none; margin: 0; }
table#headline td, table#headline th { padding: 2px 5px; }
.callout.fail { border-color: #cf222e; background: #ffebe9; }
.fail { color: #cf222e; font-weight: bold; }
.pass { color: #1a7f37; }
.warn { color: #9a6700; font-weight: bold; }
img.plot { max-width: 100%; border: 1px solid #d0d7de; margin: .3em 0 1em; }
img.flame { max-width: 100%; }
details { margin: .4em 0; }
details > summary { cursor: pointer; font-weight: 600; padding: .2em 0; }
table#headline { font-size: 12px; }
table#headline td { white-space: normal; }
table#headline { line-height: 1.2; }
ul.verdict { font-size: 12px; margin: 0; padding-left: 1.2em; line-height: 1.18; }
ul.verdict li { margin: 0 0 .1em; }
div.row { display: flex; gap: 1em; align-items: flex-start; flex-wrap: wrap; }
div.row > table { margin-top: 0; }
div.row > ul.verdict { flex: 1 1 0; min-width: 24em; margin-top: 0; }
div.row > div { flex: 0 0 auto; }
</style>
</head>
<body>
<h1>{{.Title}}</h1>
{{range .Blocks}}{{template "block" .}}
{{end}}</body>
</html>
{{define "span"}}{{if .Strong}}<strong{{with .Class}} class="{{.}}"{{end}}>{{.Text}}</strong>{{else if .Code}}<code>{{.Text}}</code>{{else if .Class}}<span class="{{.Class}}">{{.Text}}</span>{{else}}{{.Text}}{{end}}{{end}}
{{define "cell"}}{{range .}}{{if .Href}}<a href="{{.Href}}">{{template "span" .}}</a>{{else}}{{template "span" .}}{{end}}{{end}}{{end}}
{{define "block"}}{{if eq .Kind "h"}}{{if eq .Level 2}}<h2>{{template "cell" .Text}}</h2>{{else if eq .Level 3}}<h3>{{template "cell" .Text}}</h3>{{else}}<h4>{{template "cell" .Text}}</h4>{{end}}
{{- else if eq .Kind "p"}}<p{{with .Class}} class="{{.}}"{{end}}>{{template "cell" .Text}}</p>
{{- else if eq .Kind "callout"}}<div class="callout {{.Class}}">{{template "cell" .Text}}</div>
{{- else if eq .Kind "details"}}<details><summary>{{template "cell" .Text}}</summary>
{{- else if eq .Kind "endDetails"}}</details>
{{- else if eq .Kind "row"}}<div class="row">
{{- else if eq .Kind "endRow"}}</div>
{{- else if eq .Kind "table"}}<table{{with .ID}} id="{{.}}"{{end}}><thead><tr>{{range .Head}}<th>{{.}}</th>{{end}}</tr></thead><tbody>
{{range .Rows}}<tr>{{range .}}<td>{{template "cell" .}}</td>{{end}}</tr>
{{end}}</tbody></table>
{{- else if eq .Kind "list"}}<ul{{with .ID}} id="{{.}}"{{end}}{{with .Class}} class="{{.}}"{{end}}>{{range .Items}}<li>{{template "cell" .}}</li>{{end}}</ul>
{{- else if eq .Kind "img"}}{{if .Src}}<div><a href="{{.Link}}"><img class="plot{{with .Class}} {{.}}{{end}}" alt="{{.Alt}}" src="{{.Src}}"></a></div>{{end}}
{{- else if eq .Kind "embed"}}{{if .Src}}<details><summary>{{.Alt}}</summary><a href="{{.Path}}" title="open the interactive graph (zoom, search)"><img class="flame" alt="flame graph" src="{{.Src}}"></a></details>{{else if .TooLarge}}<p>{{.Alt}}: <a href="{{.Path}}">{{.Path}}</a> (too large to embed)</p>{{end}}
{{- end}}{{end}}
`

var htmlTmpl = template.Must(template.New("report").Parse(htmlTemplate))

// html renders d with every image read from dir and embedded as a data: URI
// (a plot as its smaller file, SVG or PNG). Flame graphs above maxEmbed
// bytes, or beyond a total of budget bytes, are linked instead.
func (d *document) html(dir string, maxEmbed, budget int64) ([]byte, error) {
	view := document{Title: d.Title, Blocks: make([]block, len(d.Blocks))}
	copy(view.Blocks, d.Blocks)
	for i := range view.Blocks {
		bl := &view.Blocks[i]
		switch bl.Kind {
		case kImage:
			src, err := dataURI(dir, smaller(dir, bl.Path, bl.Link), -1, nil)
			if err != nil {
				return nil, err
			}
			bl.Src = src
		case kEmbed:
			if maxEmbed < 0 || budget <= 0 {
				bl.TooLarge = true
				continue
			}
			// Browsers run no script inside <img>: the embedded copy is
			// static, the link on it opens the interactive file.
			src, err := dataURI(dir, bl.Path, min(maxEmbed, budget), flame.StaticCopy)
			if err != nil {
				return nil, err
			}
			bl.Src, bl.TooLarge = src, src == ""
			budget -= int64(len(src))
		}
	}
	var b bytes.Buffer
	if err := htmlTmpl.Execute(&b, view); err != nil {
		return nil, fmt.Errorf("render index.html: %w", err)
	}
	return b.Bytes(), nil
}

// smaller returns whichever of two files of dir is smaller (a missing one
// loses).
func smaller(dir, a, b string) string {
	sa, errA := os.Stat(filepath.Join(dir, filepath.FromSlash(a)))
	sb, errB := os.Stat(filepath.Join(dir, filepath.FromSlash(b)))
	if errA != nil || (errB == nil && sb.Size() < sa.Size()) {
		return b
	}
	return a
}

// dataURI reads dir/rel, passes it through transform when not nil, and
// returns it as a base64 data: URI, or "" when the (transformed) data is
// larger than limit (limit < 0: no limit).
func dataURI(dir, rel string, limit int64, transform func([]byte) []byte) (template.URL, error) {
	data, err := os.ReadFile(filepath.Join(dir, filepath.FromSlash(rel)))
	if err != nil {
		return "", fmt.Errorf("embed %s: %w", rel, err)
	}
	if transform != nil {
		data = transform(data)
	}
	if limit >= 0 && int64(len(data)) > limit {
		return "", nil
	}
	mime := "image/png"
	if strings.EqualFold(path.Ext(rel), ".svg") {
		mime = "image/svg+xml"
	}
	// The data is our own image file, base64-encoded: safe as a URL.
	return template.URL("data:" + mime + ";base64," + base64.StdEncoding.EncodeToString(data)), nil
}

// exists reports whether rel names a file inside dir.
func exists(dir, rel string) bool {
	ok, there := local(dir, rel)
	return ok && there
}
