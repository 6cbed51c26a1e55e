// Package markdown renders the documents people write (procedures, notes) to HTML that is safe to put
// into a page: goldmark (CommonMark plus tables, strikethrough, task lists and autolinks) with raw HTML
// left out — goldmark's default, which writes a comment in its place — and links hardened.
package markdown

import (
	"bytes"
	"html"
	"strings"

	"github.com/yuin/goldmark"
	"github.com/yuin/goldmark/ast"
	"github.com/yuin/goldmark/extension"
	"github.com/yuin/goldmark/parser"
	"github.com/yuin/goldmark/renderer"
	"github.com/yuin/goldmark/text"
	"github.com/yuin/goldmark/util"
)

// MaxLen is the longest document accepted, in bytes: a long procedure is a few thousand; this leaves room
// and keeps a render (and a diff) cheap.
const MaxLen = 100_000

var md = goldmark.New(
	goldmark.WithExtensions(boundedTable{}, extension.Strikethrough, extension.TaskList, extension.Linkify),
	goldmark.WithParserOptions(parser.WithASTTransformers(util.Prioritized(linkHardener{}, 100))),
	// No html.WithUnsafe(): raw HTML blocks and inline tags are omitted, and links or images whose URL is
	// dangerous (javascript:, vbscript:, file:, data: other than images) get an empty address.
)

// Render turns Markdown into HTML. A document built to make the renderer work hard (containers nested
// hundreds deep on one line, thousands of unclosed links: goldmark is quadratic in both, seconds of CPU
// per page view) is shown as its plain text instead.
func Render(src string) (string, error) {
	if tooComplex(src) {
		return "<pre>" + html.EscapeString(src) + "</pre>", nil
	}
	var b bytes.Buffer
	if err := md.Convert([]byte(src), &b); err != nil {
		return "", err
	}
	return b.String(), nil
}

// linkHardener gives every link rel="noopener noreferrer" (the page it opens learns neither who sent
// it nor gets a handle on this window) and keeps only addresses whose scheme is a plain web, mail or
// phone link, beyond goldmark's own list of dangerous ones: an unknown scheme may start an application.
// A link with any other address becomes its text (an empty href would only reload the page).
//
// A picture becomes a link to its address, with its description as the text: the page's policy only loads
// pictures from the portal itself, and a picture loaded from there is a request in the reader's name,
// sent without the reader's doing (a document's "picture" of /o/…/export/passwords would have written an
// export into every reader's access log). Following a link is the reader's own choice. Files belong in the
// document's attachments, whose previews are re-encoded thumbnails.
type linkHardener struct{}

func (linkHardener) Transform(doc *ast.Document, reader text.Reader, _ parser.Context) {
	var unwrap []ast.Node
	var pictures []*ast.Image
	_ = ast.Walk(doc, func(n ast.Node, entering bool) (ast.WalkStatus, error) {
		if !entering {
			return ast.WalkContinue, nil
		}
		switch l := n.(type) {
		case *ast.Link:
			if safeDest(l.Destination) == nil {
				unwrap = append(unwrap, l)
				return ast.WalkContinue, nil
			}
			l.SetAttributeString("rel", []byte("noopener noreferrer"))
		case *ast.AutoLink:
			if safeDest(l.URL(reader.Source())) == nil {
				unwrap = append(unwrap, l)
				return ast.WalkSkipChildren, nil
			}
			l.SetAttributeString("rel", []byte("noopener noreferrer"))
		case *ast.Image:
			pictures = append(pictures, l)
			return ast.WalkSkipChildren, nil
		}
		return ast.WalkContinue, nil
	})
	// Pictures are replaced after the walk (replacing a node while walking would end the walk of its
	// siblings). One inside a link becomes its text: a link cannot hold another.
	for _, img := range pictures {
		dest := safeDest(img.Destination)
		if dest == nil || insideLink(img) {
			unwrap = append(unwrap, img)
			continue
		}
		link := ast.NewLink()
		link.Destination, link.Title = dest, img.Title
		link.SetAttributeString("rel", []byte("noopener noreferrer"))
		for c := img.FirstChild(); c != nil; {
			next := c.NextSibling()
			link.AppendChild(link, c)
			c = next
		}
		img.Parent().ReplaceChild(img.Parent(), img, link)
	}
	for _, n := range unwrap {
		parent := n.Parent()
		if al, ok := n.(*ast.AutoLink); ok {
			parent.InsertBefore(parent, n, ast.NewString(al.Label(reader.Source())))
		} else {
			for c := n.FirstChild(); c != nil; {
				next := c.NextSibling()
				parent.InsertBefore(parent, n, c)
				c = next
			}
		}
		parent.RemoveChild(parent, n)
	}
}

// safeDest keeps relative addresses, fragments and the schemes people link to from a procedure.
func safeDest(dest []byte) []byte {
	// As a browser would read it: character references decoded (goldmark decodes them when it writes the
	// address), tabs, newlines and other control characters dropped (browsers skip them inside a scheme).
	d := strings.ToLower(strings.Map(func(r rune) rune {
		if r <= ' ' || r == 0x7f {
			return -1
		}
		return r
	}, html.UnescapeString(string(dest))))
	// A scheme ends at the first ':' before any '/', '?' or '#'.
	i := strings.IndexAny(d, ":/?#")
	if i < 0 || d[i] != ':' {
		return dest
	}
	switch d[:i] {
	case "http", "https", "mailto", "tel":
		return dest
	}
	return nil
}

// maxTableCells bounds the cells of all tables of one document. A table row may name fewer cells than
// its header and goldmark fills in the rest, so a header of 3,000 columns over 30,000 rows of "|x" — a
// 100 KB document — would become 90 million cells (gigabytes of memory and HTML, on every view). A real
// procedure's tables hold a few hundred cells.
const maxTableCells = 20_000

// boundedTable is goldmark's table extension with maxTableCells: a paragraph whose table would exceed
// what is left of the document's allowance stays a paragraph (its text, as typed).
type boundedTable struct{}

func (boundedTable) Extend(m goldmark.Markdown) {
	m.Parser().AddOptions(
		parser.WithParagraphTransformers(util.Prioritized(tableBudget{extension.NewTableParagraphTransformer()}, 200)),
		parser.WithASTTransformers(util.Prioritized(extension.NewTableASTTransformer(), 0)),
	)
	m.Renderer().AddOptions(renderer.WithNodeRenderers(util.Prioritized(extension.NewTableHTMLRenderer(), 500)))
}

var tableCellsKey = parser.NewContextKey()

type tableBudget struct{ inner parser.ParagraphTransformer }

func (t tableBudget) Transform(node *ast.Paragraph, reader text.Reader, pc parser.Context) {
	lines := node.Lines()
	if lines.Len() < 2 {
		return
	}
	// Rows × the most columns any line could declare: an upper bound of the cells the table would get.
	cols := 0
	for i := 0; i < lines.Len(); i++ {
		seg := lines.At(i)
		cols = max(cols, bytes.Count(seg.Value(reader.Source()), []byte("|"))+1)
	}
	used, _ := pc.Get(tableCellsKey).(int)
	cells := lines.Len() * cols
	if used+cells > maxTableCells {
		return
	}
	pc.Set(tableCellsKey, used+cells)
	t.inner.Transform(node, reader, pc)
}

// Limits of tooComplex: a procedure nests a list in a quote in a list, not 33 containers on one line, and
// links a few hundred times, not thousands of times.
const (
	maxLineNesting = 32
	maxLinkOpeners = 2_000
)

// tooComplex reports a document that would cost goldmark seconds to render: block containers (quotes,
// list items) opened many times on one line, or a great many link openings "](" (each unclosed one is
// scanned to the end of its paragraph).
func tooComplex(src string) bool {
	if strings.Count(src, "](") > maxLinkOpeners {
		return true
	}
	for line := range strings.SplitSeq(src, "\n") {
		if lineNesting(line) > maxLineNesting {
			return true
		}
	}
	return false
}

// lineNesting counts the container markers a line starts with: ">", "-", "+", "*" and "1." or "1)",
// each followed by a space or another marker.
func lineNesting(line string) int {
	n := 0
	for {
		line = strings.TrimLeft(line, " \t")
		switch {
		case strings.HasPrefix(line, ">"):
			line = line[1:]
		case len(line) >= 2 && strings.ContainsRune("-+*", rune(line[0])) && (line[1] == ' ' || line[1] == '\t'):
			line = line[2:]
		default:
			i := 0
			for i < len(line) && i < 9 && line[i] >= '0' && line[i] <= '9' {
				i++
			}
			if i == 0 || i+1 >= len(line) || (line[i] != '.' && line[i] != ')') || (line[i+1] != ' ' && line[i+1] != '\t') {
				return n
			}
			line = line[i+2:]
		}
		n++
	}
}

func insideLink(n ast.Node) bool {
	for p := n.Parent(); p != nil; p = p.Parent() {
		if _, ok := p.(*ast.Link); ok {
			return true
		}
	}
	return false
}
