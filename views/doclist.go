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

// cachedContent writes content with this request's flash in the place its mark holds.
func cachedContent(content []byte, v DocListView) templ.Component {
	return templ.ComponentFunc(func(ctx context.Context, w io.Writer) error {
		head, body, _ := bytes.Cut(content, []byte(flashMark))
		if _, err := w.Write(head); err != nil {
			return err
		}
		if err := DocListFlash(v).Render(ctx, w); err != nil {
			return err
		}
		_, err := w.Write(body)
		return err
	})
}

// filesMark is where an item page's cached content tells of a refused upload or link (FilesError).
const filesMark = "<!--portier:files-error-->"

// RenderDocDetailContent writes DocDetailContent for the cache of fragments (docsapp.Service.DetailHTML):
// nothing of the person or the request, a mark where a refused upload or link is told.
func RenderDocDetailContent(ctx context.Context, w io.Writer, v DocDetailView) error {
	return DocDetailContent(v).Render(templ.WithChildren(ctx, rawBytes([]byte(filesMark))), w)
}

// markedContent writes content with fill in the place of the content's filesMark (nothing when the
// content has none: a reader's page without files has no place for it).
func markedContent(content []byte, fill templ.Component) templ.Component {
	return templ.ComponentFunc(func(ctx context.Context, w io.Writer) error {
		head, body, found := bytes.Cut(content, []byte(filesMark))
		if _, err := w.Write(head); err != nil {
			return err
		}
		if found {
			if err := fill.Render(ctx, w); err != nil {
				return err
			}
			_, err := w.Write(body)
			return err
		}
		return nil
	})
}

// rawBytes writes b as it is: HTML that a component rendered before.
func rawBytes(b []byte) templ.Component {
	return templ.ComponentFunc(func(_ context.Context, w io.Writer) error {
		_, err := w.Write(b)
		return err
	})
}
