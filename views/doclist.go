package views

import (
	"bytes"
	"context"
	"io"

	"github.com/a-h/templ"
)

// flashMark is where the flash goes in DocListContent's cached bytes. Nothing a person typed can make it:
// templ escapes every "<" of a value.
const flashMark = "<!--portier:flash-->"

var flashMarkComponent = templ.ComponentFunc(func(_ context.Context, w io.Writer) error {
	_, err := io.WriteString(w, flashMark)
	return err
})

// RenderDocListContent writes DocListContent for the cache of fragments (docsapp.Service.ListHTML):
// nothing of the person or the request, a mark where the flash goes.
func RenderDocListContent(ctx context.Context, w io.Writer, v DocListView) error {
	return DocListContent(v).Render(templ.WithChildren(ctx, flashMarkComponent), w)
}

func headOf(content []byte) []byte {
	head, _, _ := bytes.Cut(content, []byte(flashMark))
	return head
}

func bodyOf(content []byte) []byte {
	_, body, _ := bytes.Cut(content, []byte(flashMark))
	return body
}

// rawBytes writes b as it is: HTML that a component rendered before.
func rawBytes(b []byte) templ.Component {
	return templ.ComponentFunc(func(_ context.Context, w io.Writer) error {
		_, err := w.Write(b)
		return err
	})
}
