package handlers

import (
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
	"portier/docsapp"
)

// DefaultAttachmentMax is the size limit of one file unless the configuration says otherwise.
const DefaultAttachmentMax = 25 << 20

func (s *Server) attachmentMax() int64 {
	if s.cfg.AttachmentMax > 0 {
		return s.cfg.AttachmentMax
	}
	return DefaultAttachmentMax
}

// attachmentMB is the limit as pages state it.
func (s *Server) attachmentMB() int64 { return s.attachmentMax() >> 20 }

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

// holder is what the request's files hang on, for docsapp.
func (r *connReq) holder() docsapp.FileHolder {
	if r.doc != nil {
		return docsapp.OnDocument(r.doc)
	}
	return docsapp.OnItem(r.area.Name, r.it)
}

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
	var up *docsapp.Upload
	defer func() { up.Abandon() }()
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
			if up != nil {
				return echo.ErrBadRequest
			}
			req := docsapp.UploadRequest{Name: cleanFileName(p.FileName()), Max: s.attachmentMax(), Pictures: s.avatars}
			up, err = s.docs.StartUpload(ctx, r.v, r.holder(), req, p)
			var mbe *http.MaxBytesError
			switch {
			case errors.Is(err, docsapp.ErrFileType):
				return s.uploadRefused(c, r, "files.err.type")
			case errors.Is(err, docsapp.ErrTooLarge), errors.As(err, &mbe):
				return s.uploadRefused(c, r, "files.err.too_large")
			case err != nil:
				return err
			}
		}
		p.Close()
	}
	if up == nil {
		return s.uploadRefused(c, r, "files.err.none")
	}
	if _, err := up.Finish(ctx, staffOnly); err != nil {
		return err
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

// attachmentID is the route's file id; 0 (found nowhere) when it is not a number.
func attachmentID(c *echo.Context) (int64, error) {
	aid, err := strconv.ParseInt(c.Param("aid"), 10, 64)
	if err != nil || aid <= 0 {
		return 0, echo.ErrNotFound
	}
	return aid, nil
}

// attachment resolves the route's file on the route's item as the viewer sees it.
func (s *Server) attachment(c *echo.Context) (*connReq, *db.Attachment, error) {
	r, err := s.connItem(c)
	if err != nil {
		return nil, nil, err
	}
	aid, err := attachmentID(c)
	if err != nil {
		return nil, nil, err
	}
	a, err := s.docs.Attachment(c.Request().Context(), r.v, r.holder(), aid)
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

// sendAttachment streams a file once docsapp wrote its audit entry. The response can run no script: a
// download's and a picture's CSP allow nothing, a PDF's sandbox gives it an opaque origin.
func (s *Server) sendAttachment(c *echo.Context, r *connReq, a *db.Attachment, disposition string) error {
	started, err := s.docs.Download(c.Request().Context(), r.v, r.holder(), a, func() (io.Writer, error) {
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
			return nil, err
		}
		_ = http.NewResponseController(c.Response()).SetWriteDeadline(time.Now().Add(10 * time.Minute))
		c.Response().WriteHeader(http.StatusOK)
		return c.Response(), nil
	})
	if err != nil && started {
		// The status is sent; the short body (against Content-Length) tells the client the file is broken.
		s.log.Error("attachment download cut short", "attachment", a.ID, "err", err)
		panic(http.ErrAbortHandler)
	}
	return err
}

// attachmentThumb sends a picture's re-encoded preview (never the uploaded bytes).
func (s *Server) attachmentThumb(c *echo.Context) error {
	r, err := s.connItem(c)
	if err != nil {
		return err
	}
	aid, err := attachmentID(c)
	if err != nil {
		return err
	}
	png, err := s.docs.Thumb(c.Request().Context(), r.v, r.holder(), aid)
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
	aid, err := attachmentID(c)
	if err != nil {
		return err
	}
	if err := s.docs.SetFileStaffOnly(c.Request().Context(), r.v, r.holder(), aid, c.FormValue("staff_only") != ""); err != nil {
		return err
	}
	return s.redirect(c, r.base)
}

func (s *Server) attachmentDelete(c *echo.Context) error {
	r, err := s.staffItem(c)
	if err != nil {
		return err
	}
	aid, err := attachmentID(c)
	if err != nil {
		return err
	}
	if err := s.docs.DeleteFile(c.Request().Context(), r.v, r.holder(), aid); err != nil {
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
