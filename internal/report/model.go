package report

import (
	"bytes"
	"fmt"
	"html/template"
	"net/url"
	"path"
	"path/filepath"
	"strings"
)

// The report is built once as a small document model and rendered twice,
// as GitHub markdown and as self-contained HTML, so both always agree.

// span is a piece of inline text.
type span struct {
	Text   string
	Href   string // relative link inside the report dir
	Strong bool
	Code   bool
	Class  string // "pass", "fail", "warn": colour in HTML only
}

type cell []span

func txt(s string) cell { return cell{{Text: s}} }

// block kinds
const (
	kHeading = "h"
	kPara    = "p"
	kCallout = "callout"
	kTable   = "table"
	kList    = "list"
	kImage   = "img"
	kEmbed   = "embed"      // flame graph: embedded in HTML when small enough, omitted in markdown
	kDetails = "details"    // opens a collapsible section; Text is its summary
	kEndDet  = "endDetails" // closes it
	kRow     = "row"        // HTML only: lays the blocks up to kEndRow side by side
	kEndRow  = "endRow"
)

type block struct {
	Kind  string
	Level int    // heading level
	Class string // callout, paragraph, list or image class (HTML only)
	Text  cell   // heading, paragraph, callout
	Head  []string
	Rows  []cell2
	Items []cell
	ID    string // table id (HTML only)
	Alt   string // image alt text / embed label
	Path  string // image PNG / embed SVG, relative to the report dir
	Link  string // image click-through (SVG), relative

	// filled in for HTML rendering
	Src      template.URL
	TooLarge bool
}

// cell2 is one table row.
type cell2 []cell

type document struct {
	Title  string
	Blocks []block
}

func (d *document) h(level int, s string) {
	d.Blocks = append(d.Blocks, block{Kind: kHeading, Level: level, Text: txt(s)})
}
func (d *document) p(c cell) { d.Blocks = append(d.Blocks, block{Kind: kPara, Text: c}) }
func (d *document) pClass(class string, c cell) {
	d.Blocks = append(d.Blocks, block{Kind: kPara, Class: class, Text: c})
}
func (d *document) listClass(class string, items []cell) {
	d.Blocks = append(d.Blocks, block{Kind: kList, Class: class, Items: items})
}
func (d *document) callout(class string, c cell) {
	d.Blocks = append(d.Blocks, block{Kind: kCallout, Class: class, Text: c})
}
func (d *document) table(head []string, rows []cell2) {
	d.Blocks = append(d.Blocks, block{Kind: kTable, Head: head, Rows: rows})
}
func (d *document) tableID(id string, head []string, rows []cell2) {
	d.Blocks = append(d.Blocks, block{Kind: kTable, ID: id, Head: head, Rows: rows})
}
func (d *document) details(summary string) {
	d.Blocks = append(d.Blocks, block{Kind: kDetails, Text: txt(summary)})
}
func (d *document) endDetails() { d.Blocks = append(d.Blocks, block{Kind: kEndDet}) }
func (d *document) row()        { d.Blocks = append(d.Blocks, block{Kind: kRow}) }
func (d *document) endRow()     { d.Blocks = append(d.Blocks, block{Kind: kEndRow}) }

// image shows plot name of plotsDir: PNG in markdown, linking the SVG;
// index.html embeds whichever of the two files is smaller.
func (d *document) image(plotsDir, name, alt string) {
	base := path.Join(filepath.ToSlash(plotsDir), name)
	d.Blocks = append(d.Blocks, block{Kind: kImage, Alt: alt, Path: base + ".png", Link: base + ".svg"})
}
func (d *document) imageClass(plotsDir, name, alt, class string) {
	d.image(plotsDir, name, alt)
	d.Blocks[len(d.Blocks)-1].Class = class
}
func (d *document) list(items []cell) { d.Blocks = append(d.Blocks, block{Kind: kList, Items: items}) }

// ---- markdown ----

var mdEscaper = strings.NewReplacer(
	`\`, `\\`, "|", `\|`, "*", `\*`, "_", `\_`, "`", "\\`", "[", `\[`, "]", `\]`,
	"<", "&lt;", ">", "&gt;", "\n", " ", "\r", " ",
)

// mdURL percent-encodes each path segment so spaces and parentheses in file
// names do not break markdown links.
func mdURL(p string) string {
	p, frag, hasFrag := strings.Cut(p, "#") // a fragment (flame.svg#s=cryptpw) is not a path
	if hasFrag {
		return mdURL(p) + "#" + url.PathEscape(frag)
	}
	segs := strings.Split(p, "/")
	for i, s := range segs {
		segs[i] = url.PathEscape(s)
	}
	return strings.Join(segs, "/")
}

// linkTo resolves a report-dir relative link for a file prefix levels
// below the report dir ("../" for a scenario file).
func linkTo(prefix, rel string) string {
	if strings.HasPrefix(rel, "#") || strings.Contains(rel, ":") {
		return rel
	}
	return prefix + rel
}

func (c cell) markdown(prefix string) string {
	var b strings.Builder
	for _, s := range c {
		t := mdEscaper.Replace(s.Text)
		switch {
		case s.Code:
			t = "`" + strings.NewReplacer("`", "'", "|", `\|`, "\n", " ").Replace(s.Text) + "`"
		case s.Strong:
			// GitHub only renders emphasis whose markers touch the text.
			inner := strings.TrimSpace(t)
			if inner != "" {
				i := strings.Index(t, inner)
				t = t[:i] + "**" + inner + "**" + t[i+len(inner):]
			}
		}
		if s.Href != "" {
			t = "[" + t + "](" + mdURL(linkTo(prefix, s.Href)) + ")"
		}
		b.WriteString(t)
	}
	return b.String()
}

// markdown renders d for a file prefix levels below the report dir dir
// ("" for report.md); images link only files that exist.
func (d *document) markdown(dir, prefix string) []byte {
	var b bytes.Buffer
	fmt.Fprintf(&b, "# %s\n\n", mdEscaper.Replace(d.Title))
	for _, bl := range d.Blocks {
		switch bl.Kind {
		case kHeading:
			fmt.Fprintf(&b, "%s %s\n\n", strings.Repeat("#", bl.Level), bl.Text.markdown(prefix))
		case kPara:
			fmt.Fprintf(&b, "%s\n\n", bl.Text.markdown(prefix))
		case kCallout:
			fmt.Fprintf(&b, "> %s\n\n", bl.Text.markdown(prefix))
		case kTable:
			b.WriteString("|")
			for _, h := range bl.Head {
				fmt.Fprintf(&b, " %s |", mdEscaper.Replace(h))
			}
			b.WriteString("\n|")
			for range bl.Head {
				b.WriteString("---|")
			}
			b.WriteString("\n")
			for _, row := range bl.Rows {
				b.WriteString("|")
				for _, c := range row {
					fmt.Fprintf(&b, " %s |", c.markdown(prefix))
				}
				b.WriteString("\n")
			}
			b.WriteString("\n")
		case kList:
			for _, it := range bl.Items {
				fmt.Fprintf(&b, "- %s\n", it.markdown(prefix))
			}
			b.WriteString("\n")
		case kImage:
			png, svg := exists(dir, bl.Path), exists(dir, bl.Link)
			switch {
			case png && svg:
				fmt.Fprintf(&b, "[![%s](%s)](%s)\n\n", mdEscaper.Replace(bl.Alt), mdURL(linkTo(prefix, bl.Path)), mdURL(linkTo(prefix, bl.Link)))
			case png:
				fmt.Fprintf(&b, "![%s](%s)\n\n", mdEscaper.Replace(bl.Alt), mdURL(linkTo(prefix, bl.Path)))
			case svg:
				fmt.Fprintf(&b, "[%s](%s)\n\n", mdEscaper.Replace(bl.Alt), mdURL(linkTo(prefix, bl.Link)))
			}
		case kEmbed:
			// markdown links the flame graphs in the table already
		case kDetails:
			// GitHub renders raw <details>; the blank line lets markdown resume inside.
			fmt.Fprintf(&b, "<details><summary>%s</summary>\n\n", htmlEscaper.Replace(plain(bl.Text)))
		case kEndDet:
			b.WriteString("</details>\n\n")
		}
	}
	return b.Bytes()
}

var htmlEscaper = strings.NewReplacer("&", "&amp;", "<", "&lt;", ">", "&gt;", `"`, "&quot;")

func plain(c cell) string {
	var b strings.Builder
	for _, s := range c {
		b.WriteString(s.Text)
	}
	return b.String()
}
