package docsapp

import (
	"bytes"
	"context"
	"database/sql"
	"io"
	"strings"

	"portier/db"
	"portier/docs"
)

// Files on items and documents: MSP staff upload, hide, show and delete them; whoever sees the item sees
// its files that are not staff-only, and every download is audited. The bytes are streamed through in
// sealed chunks (db/attachments.go): memory per upload or download is a few chunks, whatever the size.

// ErrFileType: the file's content is of a kind that is not taken (docs.FileType).
var ErrFileType = docs.ErrFileType

// ErrTooLarge: the file is larger than the limit it was uploaded under.
var ErrTooLarge = db.ErrTooLarge

// FileHolder is the item or document files hang on, as the viewer was allowed to load it (Item,
// Document): an item with its area's name, or a document.
type FileHolder struct {
	Item *db.DocItem
	Area string
	Doc  *db.Article
}

// OnItem is an item of the area as the holder of its files.
func OnItem(area string, it *db.DocItem) FileHolder { return FileHolder{Item: it, Area: area} }

// OnDocument is a document as the holder of its files.
func OnDocument(d *db.Article) FileHolder { return FileHolder{Doc: d} }

func (h FileHolder) owner() db.FileOwner {
	if h.Doc != nil {
		return db.OnArticle(h.Doc.ID)
	}
	return db.OnItem(h.Item.ID)
}

// target names the holder in audit entries.
func (h FileHolder) target() string {
	if h.Doc != nil {
		return DocumentTarget(h.Doc.ID, h.Doc.Title)
	}
	return ItemTarget(h.Item.ID, h.Area, "", h.Item.Name)
}

func (h FileHolder) staffOnly() bool {
	if h.Doc != nil {
		return h.Doc.StaffOnly
	}
	return h.Item.StaffOnly
}

// fileEntry is an audit entry about a file of the holder; staff-only when hidden is.
func (v *Viewer) fileEntry(action string, h FileHolder, a *db.Attachment, hidden bool) db.AuditEntry {
	e := v.entry(action, h.target()+" ("+a.Name+")")
	e.StaffOnly = hidden
	return e
}

// Pictures makes the re-encoded preview of a picture (avatar.Processor: bounded decoding, a few at a time).
type Pictures interface {
	Process(ctx context.Context, data []byte) ([]byte, error)
}

// thumbMax is the largest picture a preview is made of (the avatar package bounds its decoding anyway).
const thumbMax = 8 << 20

// thumbSource keeps up to max bytes of what passes through it when it is a picture (judged by its first
// 512 bytes, as the upload's check does): a picture's bytes for its preview, so the upload itself still
// streams. Other files and larger pictures are not kept.
type thumbSource struct {
	buf  bytes.Buffer
	max  int
	over bool
}

func (t *thumbSource) Write(p []byte) (int, error) {
	if t.over {
		return len(p), nil
	}
	if t.buf.Len()+len(p) > t.max {
		t.over, t.buf = true, bytes.Buffer{}
		return len(p), nil
	}
	before := t.buf.Len()
	t.buf.Write(p)
	if before < 512 && t.buf.Len() >= 512 && !docs.IsPicture(t.buf.Bytes()) {
		t.over, t.buf = true, bytes.Buffer{}
	}
	return len(p), nil
}

// Upload is a file stored but not yet visible (StartUpload): Finish makes it visible with its audit entry,
// Abandon removes it. One of the two must be called.
type Upload struct {
	s        *Service
	v        *Viewer
	h        *FileHolder
	att      *db.Attachment
	thumb    *thumbSource
	pictures Pictures
	done     bool
}

// UploadRequest is a file arriving for a holder: its name (already cleaned of what a browser may put in
// one), its size limit in bytes, and what makes a picture's preview (nil: none).
type UploadRequest struct {
	Name     string
	Max      int64
	Pictures Pictures
}

// StartUpload streams body into sealed chunks of a new, still invisible file of the holder. Staff only
// (ErrForbidden). ErrFileType when its first bytes are of a kind not taken, ErrTooLarge beyond req.Max;
// an error of the body (a request's *http.MaxBytesError) is returned as it came. Nothing is left behind
// on an error.
func (s *Service) StartUpload(ctx context.Context, v *Viewer, h FileHolder, req UploadRequest, body io.Reader) (*Upload, error) {
	if !v.Staff {
		return nil, ErrForbidden
	}
	o := h.owner()
	up := db.AttachmentUpload{ItemID: o.ID, OnArticle: o.OnArticle, Name: req.Name, Max: req.Max, Check: docs.FileType}
	thumb := &thumbSource{max: thumbMax}
	att, err := s.db.AttachmentStore(ctx, s.sealer, v.Scope(), up, io.TeeReader(body, thumb), v.actor())
	if err != nil {
		return nil, err
	}
	return &Upload{s: s, v: v, h: &h, att: att, thumb: thumb, pictures: req.Pictures}, nil
}

// Finish makes the file visible, staff-only or not, with its audit entry in the same transaction (staff-only
// when the holder was staff-only as the file became visible, or the file is). A picture then gets its
// preview; one that cannot be made (too many pixels, a format the decoder refuses, too many decodes at
// once) is simply shown without.
func (u *Upload) Finish(ctx context.Context, staffOnly bool) (*db.Attachment, error) {
	s, v := u.s, u.v
	err := s.db.AttachmentFinish(ctx, u.att, staffOnly, func(tx *sql.Tx, a *db.Attachment) error {
		return s.db.Audit(ctx, tx, v.fileEntry("docs.attach", *u.h, a, u.h.staffOnly() || a.OwnerStaffOnly || a.StaffOnly))
	})
	if err != nil {
		return nil, err
	}
	u.done = true
	if strings.HasPrefix(u.att.ContentType, "image/") && u.pictures != nil && !u.thumb.over && u.thumb.buf.Len() > 0 {
		if png, err := u.pictures.Process(ctx, u.thumb.buf.Bytes()); err == nil {
			if err := s.db.FileSetThumb(ctx, s.sealer, u.att, png); err != nil {
				s.log.Warn("attachment preview not stored", "err", err)
			}
		}
	}
	return u.att, nil
}

// Abandon removes the file unless Finish made it visible (also when the request's context is gone).
func (u *Upload) Abandon() {
	if u != nil && !u.done {
		u.s.db.AttachmentAbandon(u.att)
	}
}

// Attachment is one file of the holder as the viewer sees it (ErrNotFound for a staff-only file and a
// customer, or a file of something else).
func (s *Service) Attachment(ctx context.Context, v *Viewer, h FileHolder, aid int64) (*db.Attachment, error) {
	if aid <= 0 {
		return nil, ErrNotFound
	}
	return s.db.FileGet(ctx, v.Scope(), h.owner(), aid)
}

// Download writes the download's audit entry (every download, also by staff: the customer's access log
// lists who fetched their files), then calls start, and streams the file into what start returns. No
// download without its entry: when the entry cannot be written, start is not called. An error after start
// means the body was cut short (started tells which).
func (s *Service) Download(ctx context.Context, v *Viewer, h FileHolder, a *db.Attachment, start func() (io.Writer, error)) (started bool, err error) {
	if err := s.db.Audit(ctx, nil, v.fileEntry("docs.download", h, a, h.staffOnly() || a.StaffOnly)); err != nil {
		return false, err
	}
	w, err := start()
	if err != nil {
		return false, err
	}
	return true, s.db.AttachmentWrite(ctx, s.sealer, a, w)
}

// Thumb is a picture's re-encoded preview (never the uploaded bytes), for a file the viewer sees.
func (s *Service) Thumb(ctx context.Context, v *Viewer, h FileHolder, aid int64) ([]byte, error) {
	if aid <= 0 {
		return nil, ErrNotFound
	}
	return s.db.FileThumb(ctx, s.sealer, v.Scope(), h.owner(), aid)
}

// SetFileStaffOnly hides a file from customers (on) or shows it again, audited in the same transaction
// (the entry is staff-only while the file or its holder is). Staff only.
func (s *Service) SetFileStaffOnly(ctx context.Context, v *Viewer, h FileHolder, aid int64, on bool) error {
	if !v.Staff {
		return ErrForbidden
	}
	action := "docs.attachment_shown"
	if on {
		action = "docs.attachment_hidden"
	}
	return s.db.FileSetStaffOnly(ctx, v.Scope(), h.owner(), aid, on, func(tx *sql.Tx, a *db.Attachment) error {
		return s.db.Audit(ctx, tx, v.fileEntry(action, h, a, h.staffOnly() || on))
	})
}

// DeleteFile removes a file with its chunks for good, audited in the same transaction. Staff only.
func (s *Service) DeleteFile(ctx context.Context, v *Viewer, h FileHolder, aid int64) error {
	if !v.Staff {
		return ErrForbidden
	}
	return s.db.FileDelete(ctx, v.Scope(), h.owner(), aid, func(tx *sql.Tx, a *db.Attachment) error {
		return s.db.Audit(ctx, tx, v.fileEntry("docs.attachment_delete", h, a, h.staffOnly() || a.StaffOnly))
	})
}
