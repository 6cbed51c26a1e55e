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
	"github.com/yuin/goldmark/text"
	"github.com/yuin/goldmark/util"
)

// MaxLen is the longest document accepted, in bytes: a long procedure is a few thousand; this leaves room
// and keeps a render (and a diff) cheap.
const MaxLen = 100_000

var md = goldmark.New(
	goldmark.WithExtensions(extension.Table, extension.Strikethrough, extension.TaskList, extension.Linkify),
	goldmark.WithParserOptions(parser.WithASTTransformers(util.Prioritized(linkHardener{}, 100))),
	// No html.WithUnsafe(): raw HTML blocks and inline tags are omitted, and links or images whose URL is
	// dangerous (javascript:, vbscript:, file:, data: other than images) get an empty address.
)

// Render turns Markdown into HTML.
func Render(src string) (string, error) {
	var b bytes.Buffer
	if err := md.Convert([]byte(src), &b); err != nil {
		return "", err
	}
	return b.String(), nil
}

// linkHardener gives every link rel="noopener noreferrer" (the page it opens learns neither who sent
// it nor gets a handle on this window) and keeps only addresses whose scheme is a plain web, mail or
// phone link, beyond goldmark's own list of dangerous ones: an unknown scheme may start an application.
// A link with any other address becomes its text (an empty href would only reload the page); an image
// with one loses its address.
type linkHardener struct{}

func (linkHardener) Transform(doc *ast.Document, reader text.Reader, _ parser.Context) {
	var unwrap []ast.Node
	_ = ast.Walk(doc, func(n ast.Node, entering bool) (ast.WalkStatus, error) {
		if !entering {
			return ast.WalkContinue, nil
		}
		switch l := n.(type) {
		case *ast.Link:
			if safeDest(l.Destination, false) == nil {
				unwrap = append(unwrap, l)
				return ast.WalkContinue, nil
			}
			l.SetAttributeString("rel", []byte("noopener noreferrer"))
		case *ast.AutoLink:
			if safeDest(l.URL(reader.Source()), false) == nil {
				unwrap = append(unwrap, l)
				return ast.WalkSkipChildren, nil
			}
			l.SetAttributeString("rel", []byte("noopener noreferrer"))
		case *ast.Image:
			l.Destination = safeDest(l.Destination, true)
		}
		return ast.WalkContinue, nil
	})
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
func safeDest(dest []byte, image bool) []byte {
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
	case "http", "https":
		return dest
	case "mailto", "tel":
		if !image {
			return dest
		}
	}
	return nil
}
