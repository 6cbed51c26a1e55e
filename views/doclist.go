package views

import (
	"bytes"
	"context"
	"io"

	"github.com/a-h/templ"
)

// The cached content of a page holds a mark where something of this request alone goes: the flash of a
// list (DocListFlash), the refused upload or link of an item page (FilesError). Nothing a person typed can
// make a mark: templ escapes every "<" of a value.
const (
	flashMark = "<!--portier:flash-->"
	filesMark = "<!--portier:files-error-->"
)

// RenderDocListContent writes DocListContent for the cache of fragments (docsapp.Service.ListHTML):
// nothing of the person or the request, a mark where the flash goes.
func RenderDocListContent(ctx context.Context, w io.Writer, v DocListView) error {
	return DocListContent(v).Render(templ.WithChildren(ctx, rawBytes([]byte(flashMark))), w)
}

// RenderDocDetailContent writes DocDetailContent for the cache of fragments (docsapp.Service.DetailHTML):
// nothing of the person or the request, a mark where a refused upload or link is told.
func RenderDocDetailContent(ctx context.Context, w io.Writer, v DocDetailView) error {
	return DocDetailContent(v).Render(templ.WithChildren(ctx, rawBytes([]byte(filesMark))), w)
}

// markedContent writes content with fill in the place of mark (nothing when the content has none: a
// reader's item page without files has no place for a refused upload).
func markedContent(content []byte, mark string, fill templ.Component) templ.Component {
	return templ.ComponentFunc(func(ctx context.Context, w io.Writer) error {
		head, body, found := bytes.Cut(content, []byte(mark))
		if _, err := w.Write(head); err != nil {
			return err
		}
		if !found {
			return nil
		}
		if err := fill.Render(ctx, w); err != nil {
			return err
		}
		_, err := w.Write(body)
		return err
	})
}

// rawBytes writes b as it is: HTML that a component rendered before.
func rawBytes(b []byte) templ.Component {
	return templ.ComponentFunc(func(_ context.Context, w io.Writer) error {
		_, err := w.Write(b)
		return err
	})
}
