package handlers

import (
	"errors"
	"net/http"
	"strconv"

	"github.com/labstack/echo/v5"

	"portier/db"
	"portier/docsapp"
	"portier/markdown"
	"portier/views"
)

// Writing documents and templates: one form, one save path for new and existing ones (docsapp.SaveDocument).

// articleInput reads a document form. The form sends every name once: a repeated one is not ours to guess.
func articleInput(c *echo.Context) (docsapp.DocumentInput, error) {
	form, err := c.FormValues()
	if err != nil {
		var mbe *http.MaxBytesError
		if errors.As(err, &mbe) {
			return docsapp.DocumentInput{}, err
		}
		return docsapp.DocumentInput{}, echo.ErrBadRequest
	}
	for _, vs := range form {
		if len(vs) > 1 {
			return docsapp.DocumentInput{}, echo.ErrBadRequest
		}
	}
	in := docsapp.DocumentInput{Title: form.Get("title"), Folder: form.Get("folder"), Body: form.Get("body"),
		Emergency: form.Get("emergency") != "", StaffOnly: form.Get("staff_only") != ""}
	in.Version, _ = strconv.Atoi(form.Get("version"))
	return in, nil
}

// docForm is what the document form page needs besides the values: where it is (an organisation's
// documents or the staff area's templates) and where it goes.
type docForm struct {
	v          *docsapp.Viewer
	nav        *views.DocsNav // nil: a template, in the staff area
	newAction  string         // POST of a new one
	href       func(id int64) string
	cancelHref string
}

func (s *Server) articleDocForm(c *echo.Context) (*docForm, error) {
	r := s.articleRequest(c)
	nav, err := s.articleNav(c, r)
	if err != nil {
		return nil, err
	}
	return &docForm{v: r.v, nav: &nav, newAction: r.base, href: r.href, cancelHref: r.base}, nil
}

func (s *Server) templateDocForm(c *echo.Context) *docForm {
	return &docForm{v: s.viewer(c), newAction: "/staff/templates", cancelHref: "/staff/templates",
		href: func(id int64) string { return "/staff/templates/" + strconv.FormatInt(id, 10) }}
}

// renderDocumentForm shows the form of a new (a nil) or existing document with the values of ch; preview
// renders the body below.
func (s *Server) renderDocumentForm(c *echo.Context, f *docForm, status int, a *db.Article, ch db.ArticleChange, errs map[string]string, errKey string, preview bool) error {
	ctx := c.Request().Context()
	folders, err := s.docs.DocumentFolders(ctx, f.v)
	if err != nil {
		return err
	}
	l := f.v.L
	v := views.ArticleFormView{Nav: f.nav, Heading: l.T("articles.new_heading"), Action: f.newAction, CancelHref: f.cancelHref,
		Folder: ch.Folder, Title: ch.Title, Body: ch.Body, StaffOnly: ch.StaffOnly, Emergency: ch.Emergency, Version: ch.Version,
		Folders: folders, Errors: errs, ErrorKey: errKey, MaxBody: markdown.MaxLen}
	if f.nav == nil {
		v.StaffNav, v.Heading = staffNav(c, "templates"), l.T("templates.new")
	}
	if a != nil {
		v.Action = f.href(a.ID)
		if f.nav != nil {
			v.CancelHref = f.href(a.ID)
		}
		v.Heading = l.T("docs.edit_heading", "name", a.Title)
	}
	// A template is edited with its preview in view (its readers are staff adapting it later).
	preview = preview || f.nav == nil && a != nil && errs == nil && errKey == ""
	if preview && errs["body"] == "" {
		if v.PreviewHTML, err = markdown.Render(ch.Body); err != nil {
			return err
		}
		v.HasPreview = true
	}
	return s.render(c, status, views.ArticleForm(s.shell(c, v.Heading), v), nil)
}

func docChange(a *db.Article) db.ArticleChange {
	return db.ArticleChange{Folder: a.Folder, Title: a.Title, Body: a.Body, StaffOnly: a.StaffOnly, Emergency: a.Emergency, Version: a.Version}
}

// editDoc shows the form of the route's document (id) or of a new one (no id).
func (s *Server) editDocument(c *echo.Context, f *docForm) error {
	if c.Param("id") == "" {
		return s.renderDocumentForm(c, f, http.StatusOK, nil, db.ArticleChange{}, nil, "", false)
	}
	a, err := s.docs.DocumentForEdit(c.Request().Context(), f.v, routeID(c))
	if err != nil {
		return err
	}
	return s.renderDocumentForm(c, f, http.StatusOK, a, docChange(a), nil, "", false)
}

// saveDoc stores the form of a new document (no id in the route) or of the route's document, shows a
// preview instead when asked, and says where to go next (done) once stored.
func (s *Server) saveDocument(c *echo.Context, f *docForm, done func(id int64) error) error {
	ctx := c.Request().Context()
	var a *db.Article
	if c.Param("id") != "" {
		var err error
		if a, err = s.docs.DocumentForEdit(ctx, f.v, routeID(c)); err != nil {
			return err
		}
	}
	in, err := articleInput(c)
	if err != nil {
		return err
	}
	if c.FormValue("preview") != "" {
		_, err := s.docs.PreviewDocument(f.v, in)
		var invalid *docsapp.DocumentInvalidError
		if errors.As(err, &invalid) {
			return s.renderDocumentForm(c, f, http.StatusUnprocessableEntity, a, invalid.Change, invalid.Fields, "docs.fix_errors", false)
		}
		if err != nil {
			return err
		}
		ch := db.ArticleChange{Folder: in.Folder, Title: in.Title, Body: in.Body, StaffOnly: in.StaffOnly, Emergency: in.Emergency, Version: in.Version}
		return s.renderDocumentForm(c, f, http.StatusOK, a, ch, nil, "", true)
	}
	var id int64
	if a != nil {
		id = a.ID
	}
	id, err = s.docs.SaveDocument(ctx, f.v, id, in)
	var invalid *docsapp.DocumentInvalidError
	var conflict *docsapp.DocumentConflictError
	switch {
	case errors.As(err, &invalid):
		return s.renderDocumentForm(c, f, http.StatusUnprocessableEntity, a, invalid.Change, invalid.Fields, "docs.fix_errors", false)
	case errors.As(err, &conflict):
		// Someone saved meanwhile: keep what this person typed, at the newer version, and say so.
		return s.renderDocumentForm(c, f, http.StatusConflict, conflict.Current, conflict.Change, nil, "docs.conflict", false)
	case err != nil:
		return err
	}
	return done(id)
}

func (s *Server) articleEdit(c *echo.Context) error {
	f, err := s.articleDocForm(c)
	if err != nil {
		return err
	}
	return s.editDocument(c, f)
}

// articleSave is the one save path of the documents' form, new (POST /articles) or existing (POST
// /articles/:id).
func (s *Server) articleSave(c *echo.Context) error {
	f, err := s.articleDocForm(c)
	if err != nil {
		return err
	}
	return s.saveDocument(c, f, func(id int64) error { return s.redirect(c, f.href(id)) })
}

func (s *Server) articleDelete(c *echo.Context) error {
	r := s.articleRequest(c)
	a, err := s.docs.DeleteDocument(c.Request().Context(), r.v, routeID(c))
	if err != nil {
		return err
	}
	ctx := c.Request().Context()
	s.sm.Put(ctx, keyFlash, "articles.deleted")
	s.sm.Put(ctx, "flash_name", a.Title)
	s.sm.Put(ctx, "undo_article", a.ID)
	return s.redirect(c, r.base)
}

func (s *Server) articleRestore(c *echo.Context) error {
	r := s.articleRequest(c)
	a, err := s.docs.RestoreDocument(c.Request().Context(), r.v, routeID(c))
	if err != nil {
		return err
	}
	return s.redirect(c, r.href(a.ID))
}

// articleCopy copies an MSP-wide template into the organisation as a new document.
func (s *Server) articleCopy(c *echo.Context) error {
	r := s.articleRequest(c)
	id, err := strconv.ParseInt(c.FormValue("template"), 10, 64)
	if err != nil {
		return echo.ErrNotFound
	}
	nid, err := s.docs.CopyTemplate(c.Request().Context(), r.v, id)
	if err != nil {
		return err
	}
	return s.redirect(c, r.href(nid)+"/edit")
}
