package handlers

import (
	"bytes"
	"errors"
	"io"
	"mime"
	"net/http"
	"path"
	"strconv"
	"strings"
	"time"
	"unicode"
	"unicode/utf8"

	"github.com/labstack/echo/v5"

	"portier/db"
	"portier/docs"
)

// DefaultAttachmentMax is the size limit of one file unless the configuration says otherwise.
const DefaultAttachmentMax = 25 << 20

func (s *Server) attachmentMax() int64 {
	if s.cfg.AttachmentMax > 0 {
		return s.cfg.AttachmentMax
	}
	return DefaultAttachmentMax
}

// uploadOverhead is what a multipart request carries besides the file (boundaries, headers, the
// staff-only field): the upload route's body limit is the file limit plus this.
const uploadOverhead = 64 << 10

// cleanFileName keeps the last element of what the browser sent as the file's name, without control
// characters, at most 200 characters. Format characters go too: a right-to-left override makes
// "Rechnung<RLO>fdp.zip" read "Rechnungpiz.pdf" in the list and in the browser's download bar.
func cleanFileName(name string) string {
	name = strings.ReplaceAll(name, "\\", "/")
	name = path.Base(name)
	name = strings.Map(func(r rune) rune {
		if unicode.IsControl(r) || unicode.Is(unicode.Cf, r) || r == '/' || r == utf8.RuneError {
			return -1
		}
		return r
	}, name)
	name = strings.TrimSpace(name)
	if r := []rune(name); len(r) > 200 {
		name = string(r[len(r)-200:])
	}
	if name == "" || name == "." || name == ".." {
		name = "file"
	}
	return name
}

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
	if before < 512 && t.buf.Len() >= 512 && !strings.HasPrefix(http.DetectContentType(t.buf.Bytes()), "image/") {
		t.over, t.buf = true, bytes.Buffer{}
	}
	return len(p), nil
}

// thumbMax is the largest picture a preview is made of (the avatar package bounds its decoding anyway).
const thumbMax = 8 << 20

func (s *Server) attachmentUpload(c *echo.Context) error {
	r, err := s.staffItem(c)
	if err != nil {
		return err
	}
	ctx := c.Request().Context()
	// A large file over a slow line takes longer than the server's read timeout for forms.
	_ = http.NewResponseController(c.Response()).SetReadDeadline(time.Now().Add(10 * time.Minute))
	mr, err := c.Request().MultipartReader()
	if err != nil {
		return echo.ErrBadRequest
	}
	// The file part is streamed into the database as it arrives (never parsed into memory or a temporary
	// file); it becomes visible only after the whole form was read, with the staff-only choice wherever
	// in the form it came.
	staffOnly := false
	var att *db.Attachment
	finished := false
	defer func() {
		if att != nil && !finished {
			s.db.AttachmentAbandon(att)
		}
	}()
	thumb := &thumbSource{max: thumbMax}
	for {
		p, err := mr.NextPart()
		if errors.Is(err, io.EOF) {
			break
		}
		if err != nil {
			var mbe *http.MaxBytesError
			if errors.As(err, &mbe) {
				return s.uploadRefused(c, r, "files.err.too_large")
			}
			return echo.ErrBadRequest
		}
		switch p.FormName() {
		case "staff_only":
			b, _ := io.ReadAll(io.LimitReader(p, 10))
			staffOnly = len(b) > 0
		case "file":
			if att != nil {
				return echo.ErrBadRequest
			}
			up := db.AttachmentUpload{ItemID: r.owner().ID, OnArticle: r.doc != nil, Name: cleanFileName(p.FileName()), Max: s.attachmentMax(), Check: docs.FileType}
			att, err = s.db.AttachmentStore(ctx, s.cfg.Sealer, r.scope, up, io.TeeReader(p, thumb), r.actor())
			var mbe *http.MaxBytesError
			switch {
			case errors.Is(err, docs.ErrFileType):
				return s.uploadRefused(c, r, "files.err.type")
			case errors.Is(err, db.ErrTooLarge), errors.As(err, &mbe):
				return s.uploadRefused(c, r, "files.err.too_large")
			case err != nil:
				return err
			}
		}
		p.Close()
	}
	if att == nil {
		return s.uploadRefused(c, r, "files.err.none")
	}
	err = s.db.AttachmentFinish(ctx, att, staffOnly, func(tx dbTx, a *db.Attachment) error {
		e := s.auditEntry(c, r.org.ID, "docs.attach", r.target()+" ("+a.Name+")")
		e.StaffOnly = r.ownerStaffOnly() || a.OwnerStaffOnly || a.StaffOnly
		return s.db.Audit(ctx, tx, e)
	})
	if err != nil {
		return err
	}
	finished = true
	if strings.HasPrefix(att.ContentType, "image/") && !thumb.over && thumb.buf.Len() > 0 {
		// A preview is a re-encoded picture; a picture that cannot be made into one (too many pixels, a
		// format the decoder refuses, too many decodes at once) is simply shown without.
		if png, err := s.avatars.Process(ctx, thumb.buf.Bytes()); err == nil {
			if err := s.db.FileSetThumb(ctx, s.cfg.Sealer, att, png); err != nil {
				s.log.Warn("attachment preview not stored", "err", err)
			}
		}
	}
	return s.redirect(c, r.base)
}

// uploadRefused shows the item or document again with why the file was not taken.
func (s *Server) uploadRefused(c *echo.Context, r *connReq, key string) error {
	s.sm.Put(c.Request().Context(), "files_error", key)
	// The rest of a refused body is not read: the connection is closed after the answer.
	c.Response().Header().Set("Connection", "close")
	return s.redirect(c, r.base)
}

// attachment resolves the route's file on the route's item as the viewer sees it.
func (s *Server) attachment(c *echo.Context) (*connReq, *db.Attachment, error) {
	r, err := s.connItem(c)
	if err != nil {
		return nil, nil, err
	}
	aid, err := strconv.ParseInt(c.Param("aid"), 10, 64)
	if err != nil || aid <= 0 {
		return nil, nil, echo.ErrNotFound
	}
	a, err := s.db.FileGet(c.Request().Context(), r.scope, r.owner(), aid)
	return r, a, err
}

func (s *Server) attachmentDownload(c *echo.Context) error {
	r, a, err := s.attachment(c)
	if err != nil {
		return err
	}
	return s.sendAttachment(c, r, a, "attachment")
}

// attachmentView shows a picture or PDF in the browser; other files are only downloaded.
func (s *Server) attachmentView(c *echo.Context) error {
	r, a, err := s.attachment(c)
	if err != nil {
		return err
	}
	if !docs.InlineType(a.ContentType) {
		return echo.ErrNotFound
	}
	return s.sendAttachment(c, r, a, "inline")
}

// sendAttachment streams a file after writing its audit entry (every download, also by staff: the
// customer's access log lists who fetched their files). The response can run no script: a download's
// and a picture's CSP allow nothing, a PDF's sandbox gives it an opaque origin.
func (s *Server) sendAttachment(c *echo.Context, r *connReq, a *db.Attachment, disposition string) error {
	ctx := c.Request().Context()
	e := s.auditEntry(c, r.org.ID, "docs.download", r.target()+" ("+a.Name+")")
	e.StaffOnly = r.ownerStaffOnly() || a.StaffOnly
	if err := s.db.Audit(ctx, nil, e); err != nil {
		return err // no download without its audit entry
	}
	h := c.Response().Header()
	csp := "default-src 'none'; sandbox"
	if disposition == "inline" {
		if a.ContentType == "application/pdf" {
			csp = "sandbox; default-src 'none'; object-src 'self'; style-src 'unsafe-inline'"
		} else {
			csp = "sandbox; default-src 'none'; img-src 'self'; style-src 'unsafe-inline'"
		}
	}
	h.Set("Content-Security-Policy", csp)
	h.Set("Content-Type", docs.ServedType(a.ContentType))
	cd := mime.FormatMediaType(disposition, map[string]string{"filename": a.Name})
	if cd == "" {
		cd = disposition + `; filename="file"` // a name FormatMediaType cannot encode; never no header (that would be inline)
	}
	h.Set("Content-Disposition", cd)
	h.Set("Content-Length", strconv.FormatInt(a.Size, 10))
	if err := s.saveSession(c); err != nil {
		return err
	}
	_ = http.NewResponseController(c.Response()).SetWriteDeadline(time.Now().Add(10 * time.Minute))
	c.Response().WriteHeader(http.StatusOK)
	if err := s.db.AttachmentWrite(ctx, s.cfg.Sealer, a, c.Response()); err != nil {
		// The status is sent; the short body (against Content-Length) tells the client the file is broken.
		s.log.Error("attachment download cut short", "attachment", a.ID, "err", err)
		panic(http.ErrAbortHandler)
	}
	return nil
}

// attachmentThumb sends a picture's re-encoded preview (never the uploaded bytes).
func (s *Server) attachmentThumb(c *echo.Context) error {
	r, err := s.connItem(c)
	if err != nil {
		return err
	}
	aid, err := strconv.ParseInt(c.Param("aid"), 10, 64)
	if err != nil || aid <= 0 {
		return echo.ErrNotFound
	}
	png, err := s.db.FileThumb(c.Request().Context(), s.cfg.Sealer, r.scope, r.owner(), aid)
	if err != nil {
		return err
	}
	c.Response().Header().Set("Content-Security-Policy", "default-src 'none'; sandbox")
	return c.Blob(http.StatusOK, "image/png", png)
}

func (s *Server) attachmentStaffOnly(c *echo.Context) error {
	r, err := s.staffItem(c)
	if err != nil {
		return err
	}
	aid, err := strconv.ParseInt(c.Param("aid"), 10, 64)
	if err != nil || aid <= 0 {
		return echo.ErrNotFound
	}
	ctx := c.Request().Context()
	on := c.FormValue("staff_only") != ""
	err = s.db.FileSetStaffOnly(ctx, r.scope, r.owner(), aid, on, func(tx dbTx, a *db.Attachment) error {
		action := "docs.attachment_shown"
		if on {
			action = "docs.attachment_hidden"
		}
		e := s.auditEntry(c, r.org.ID, action, r.target()+" ("+a.Name+")")
		e.StaffOnly = r.ownerStaffOnly() || on
		return s.db.Audit(ctx, tx, e)
	})
	if err != nil {
		return err
	}
	return s.redirect(c, r.base)
}

func (s *Server) attachmentDelete(c *echo.Context) error {
	r, err := s.staffItem(c)
	if err != nil {
		return err
	}
	aid, err := strconv.ParseInt(c.Param("aid"), 10, 64)
	if err != nil || aid <= 0 {
		return echo.ErrNotFound
	}
	ctx := c.Request().Context()
	err = s.db.FileDelete(ctx, r.scope, r.owner(), aid, func(tx dbTx, a *db.Attachment) error {
		e := s.auditEntry(c, r.org.ID, "docs.attachment_delete", r.target()+" ("+a.Name+")")
		e.StaffOnly = r.ownerStaffOnly() || a.StaffOnly
		return s.db.Audit(ctx, tx, e)
	})
	if err != nil {
		return err
	}
	return s.redirect(c, r.base)
}

// fileSize is a size as people read it: "820 KB", "2.4 MB" ("2,4 MB" in German).
func fileSize(lang string, n int64) string {
	var s string
	switch {
	case n < 1000:
		return strconv.FormatInt(n, 10) + " B"
	case n < 1000*1000:
		s = strconv.FormatInt((n+999)/1000, 10) + " KB"
	default:
		s = strconv.FormatFloat(float64(n)/1e6, 'f', 1, 64) + " MB"
		if lang == "de" {
			s = strings.Replace(s, ".", ",", 1)
		}
	}
	return s
}
