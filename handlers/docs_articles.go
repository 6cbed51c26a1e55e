package handlers

import (
	"context"
	"errors"
	"net/http"
	"strconv"
	"strings"
	"unicode"
	"unicode/utf8"

	"github.com/labstack/echo/v5"

	"portier/db"
	"portier/i18n"
	"portier/markdown"
	"portier/views"
)

// Documents: an organisation's Markdown articles (procedures and notes) in folders, with revisions and a
// diff, staff-only or visible to the customer, printable, and in the emergency handbook when marked so.
// MSP staff write them; MSP-wide templates are written in the staff area and copied into organisations.

// docsNavExtra are the menu entries beside the five areas: the documents and what expires next.
func docsNavExtra(org *db.Org, current string) []views.AreaLink {
	base := "/o/" + org.Slug
	return []views.AreaLink{
		{Name: db.ArticleArea, TitleKey: "articles.title", Href: base + "/articles", Current: current == db.ArticleArea},
		{Name: "expiry", TitleKey: "expiry.title", Href: base + "/expiry", Current: current == "expiry"},
	}
}

// articleReq is an organisation's documents as the person of the request sees them.
type articleReq struct {
	u     *db.User
	org   *db.Org
	scope db.ArticleScope
	l     *i18n.Localizer
	base  string // /o/<slug>/articles
}

func (s *Server) articleRequest(c *echo.Context) *articleReq {
	u := currentUser(c)
	org, _ := currentOrg(c)
	return &articleReq{u: u, org: org, scope: db.ArticleScope{OrgID: org.ID, StaffView: u.IsStaff()},
		l: i18n.From(c.Request().Context()), base: "/o/" + org.Slug + "/articles"}
}

func (r *articleReq) href(id int64) string { return r.base + "/" + strconv.FormatInt(id, 10) }

func (s *Server) articleNav(c *echo.Context, r *articleReq) (views.DocsNav, error) {
	return s.docsMenu(c, r.org, db.DocScope{OrgID: r.org.ID, StaffView: r.u.IsStaff()}, db.ArticleArea, "")
}

// article loads the route's document; a staff-only one answers 404 to customers, like a missing one.
func (s *Server) article(c *echo.Context, sc db.ArticleScope) (*db.Article, error) {
	id, err := strconv.ParseInt(c.Param("id"), 10, 64)
	if err != nil || id <= 0 {
		return nil, echo.ErrNotFound
	}
	return s.db.Article(c.Request().Context(), sc, id)
}

func (s *Server) articleList(c *echo.Context) error {
	r := s.articleRequest(c)
	ctx := c.Request().Context()
	list, err := s.db.Articles(ctx, r.scope, false)
	if err != nil {
		return err
	}
	nav, err := s.articleNav(c, r)
	if err != nil {
		return err
	}
	v := views.ArticleListView{Nav: nav}
	for _, a := range list {
		if len(v.Folders) == 0 || v.Folders[len(v.Folders)-1].Name != a.Folder {
			v.Folders = append(v.Folders, views.ArticleFolder{Name: a.Folder})
		}
		f := &v.Folders[len(v.Folders)-1]
		f.Articles = append(f.Articles, views.ArticleRow{Title: a.Title, Href: r.href(a.ID), StaffOnly: a.StaffOnly, Emergency: a.Emergency,
			Updated: r.l.Date(a.UpdatedAt.In(r.l.TZ))})
	}
	if r.u.IsStaff() {
		v.NewHref, v.CopyAction = r.base+"/new", r.base+"/copy"
		tpls, err := s.db.Articles(ctx, db.ArticleScope{StaffView: true}, false)
		if err != nil {
			return err
		}
		for _, t := range tpls {
			v.Templates = append(v.Templates, views.FilterOption{Value: strconv.FormatInt(t.ID, 10), LabelKey: t.Title})
		}
	}
	if key := s.sm.PopString(ctx, keyFlash); strings.HasPrefix(key, "articles.") {
		v.FlashKey, v.FlashArgs = key, []any{"name", s.sm.PopString(ctx, "flash_name")}
	}
	return s.render(c, http.StatusOK, views.ArticleList(s.shell(c, r.l.T("articles.title")), v), nil)
}

func (s *Server) articleDetail(c *echo.Context) error {
	r := s.articleRequest(c)
	a, err := s.article(c, r.scope)
	if err != nil {
		return err
	}
	html, err := markdown.Render(a.Body)
	if err != nil {
		return err
	}
	nav, err := s.articleNav(c, r)
	if err != nil {
		return err
	}
	v := views.ArticleView{Nav: nav, Title: a.Title, Folder: a.Folder, HTML: html, StaffOnly: a.StaffOnly, Emergency: a.Emergency,
		ListHref: r.base, UpdatedBy: a.UpdatedBy, UpdatedAt: r.l.DateTime(a.UpdatedAt)}
	if v.UpdatedBy == "" {
		v.UpdatedBy = "—"
	}
	if r.u.IsStaff() {
		base := r.href(a.ID)
		v.EditHref, v.HistoryHref, v.DeleteHref = base+"/edit", base+"/history", base+"/delete"
	}
	return s.render(c, http.StatusOK, views.Article(s.shell(c, a.Title), v), nil)
}

// articleForm reads and checks a document form. Titles and folders are one line; the body is Markdown
// of at most markdown.MaxLen bytes.
func articleForm(c *echo.Context, template bool) (db.ArticleChange, map[string]string, error) {
	form, err := c.FormValues()
	if err != nil {
		var mbe *http.MaxBytesError
		if errors.As(err, &mbe) {
			return db.ArticleChange{}, nil, err
		}
		return db.ArticleChange{}, nil, echo.ErrBadRequest
	}
	for _, vs := range form {
		if len(vs) > 1 {
			return db.ArticleChange{}, nil, echo.ErrBadRequest
		}
	}
	ch := db.ArticleChange{Title: strings.TrimSpace(form.Get("title")), Folder: strings.TrimSpace(form.Get("folder")),
		Body: strings.ReplaceAll(form.Get("body"), "\r\n", "\n"), Emergency: form.Get("emergency") != "",
		StaffOnly: !template && form.Get("staff_only") != ""}
	ch.Version, _ = strconv.Atoi(form.Get("version"))
	errs := map[string]string{}
	line := func(name, v string, max int, required bool) {
		switch {
		case v == "" && required:
			errs[name] = "docs.err.required"
		case !utf8.ValidString(v):
			errs[name] = "docs.err.utf8"
		case strings.ContainsFunc(v, unicode.IsControl):
			errs[name] = "docs.err.control"
		case utf8.RuneCountInString(v) > max:
			errs[name] = "docs.err.too_long"
		}
	}
	line("title", ch.Title, 200, true)
	line("folder", ch.Folder, 100, false)
	switch {
	case !utf8.ValidString(ch.Body):
		errs["body"] = "docs.err.utf8"
	case strings.ContainsFunc(ch.Body, func(r rune) bool { return unicode.IsControl(r) && r != '\n' && r != '\t' }):
		errs["body"] = "docs.err.control"
	case len(ch.Body) > markdown.MaxLen:
		errs["body"] = "docs.err.too_long"
	}
	return ch, errs, nil
}

func (s *Server) articleNew(c *echo.Context) error {
	r := s.articleRequest(c)
	return s.renderArticleForm(c, r, http.StatusOK, nil, db.ArticleChange{}, nil, "", false)
}

// renderArticleForm shows the form of a new (a nil) or existing document; preview renders the body below.
func (s *Server) renderArticleForm(c *echo.Context, r *articleReq, status int, a *db.Article, ch db.ArticleChange, errs map[string]string, errKey string, preview bool) error {
	ctx := c.Request().Context()
	nav, err := s.articleNav(c, r)
	if err != nil {
		return err
	}
	folders, err := s.db.ArticleFolders(ctx, r.scope)
	if err != nil {
		return err
	}
	v := views.ArticleFormView{Nav: &nav, Heading: r.l.T("articles.new_heading"), Action: r.base, CancelHref: r.base,
		Folder: ch.Folder, Title: ch.Title, Body: ch.Body, StaffOnly: ch.StaffOnly, Emergency: ch.Emergency, Version: ch.Version,
		Folders: folders, Errors: errs, ErrorKey: errKey, MaxBody: markdown.MaxLen}
	if a != nil {
		v.Action, v.CancelHref = r.href(a.ID), r.href(a.ID)
		v.Heading = r.l.T("docs.edit_heading", "name", a.Title)
	}
	if preview && errs["body"] == "" {
		if v.PreviewHTML, err = markdown.Render(ch.Body); err != nil {
			return err
		}
		v.HasPreview = true
	}
	return s.render(c, status, views.ArticleForm(s.shell(c, v.Heading), v), nil)
}

func articleTarget(id int64, title string) string {
	return strconv.FormatInt(id, 10) + ":" + db.ArticleArea + ":" + title
}

func (s *Server) articleCreate(c *echo.Context) error {
	r := s.articleRequest(c)
	ch, errs, err := articleForm(c, false)
	if err != nil {
		return err
	}
	if len(errs) > 0 {
		return s.renderArticleForm(c, r, http.StatusUnprocessableEntity, nil, ch, errs, "docs.fix_errors", false)
	}
	if c.FormValue("preview") != "" {
		return s.renderArticleForm(c, r, http.StatusOK, nil, ch, nil, "", true)
	}
	ctx := c.Request().Context()
	id, err := s.db.ArticleCreate(ctx, r.org.ID, ch, db.DocActor{ID: r.u.ID, Name: r.u.DisplayName()}, func(tx dbTx, id int64) error {
		e := s.auditEntry(c, r.org.ID, "articles.create", articleTarget(id, ch.Title))
		e.StaffOnly = ch.StaffOnly
		return s.db.Audit(ctx, tx, e)
	})
	if err != nil {
		return err
	}
	return s.redirect(c, r.href(id))
}

func (s *Server) articleEdit(c *echo.Context) error {
	r := s.articleRequest(c)
	a, err := s.article(c, r.scope)
	if err != nil {
		return err
	}
	ch := db.ArticleChange{Folder: a.Folder, Title: a.Title, Body: a.Body, StaffOnly: a.StaffOnly, Emergency: a.Emergency, Version: a.Version}
	return s.renderArticleForm(c, r, http.StatusOK, a, ch, nil, "", false)
}

func (s *Server) articleUpdate(c *echo.Context) error {
	r := s.articleRequest(c)
	a, err := s.article(c, r.scope)
	if err != nil {
		return err
	}
	ch, errs, err := articleForm(c, false)
	if err != nil {
		return err
	}
	if len(errs) > 0 {
		return s.renderArticleForm(c, r, http.StatusUnprocessableEntity, a, ch, errs, "docs.fix_errors", false)
	}
	if c.FormValue("preview") != "" {
		return s.renderArticleForm(c, r, http.StatusOK, a, ch, nil, "", true)
	}
	ctx := c.Request().Context()
	err = s.db.ArticleUpdate(ctx, r.scope, a.ID, ch, db.DocActor{ID: r.u.ID, Name: r.u.DisplayName()}, func(tx dbTx) error {
		e := s.auditEntry(c, r.org.ID, "articles.update", articleTarget(a.ID, ch.Title))
		e.StaffOnly = ch.StaffOnly || a.StaffOnly
		return s.db.Audit(ctx, tx, e)
	})
	if errors.Is(err, db.ErrConflict) {
		// Someone saved meanwhile: keep what this person typed, at the newer version, and say so.
		cur, gerr := s.db.Article(ctx, r.scope, a.ID)
		if gerr != nil {
			return gerr
		}
		ch.Version = cur.Version
		return s.renderArticleForm(c, r, http.StatusConflict, cur, ch, nil, "docs.conflict", false)
	}
	if err != nil {
		return err
	}
	return s.redirect(c, r.href(a.ID))
}

func (s *Server) articleDelete(c *echo.Context) error {
	r := s.articleRequest(c)
	a, err := s.article(c, r.scope)
	if err != nil {
		return err
	}
	ctx := c.Request().Context()
	err = s.db.ArticleDelete(ctx, r.scope, a.ID, func(tx dbTx) error {
		e := s.auditEntry(c, r.org.ID, "articles.delete", articleTarget(a.ID, a.Title))
		e.StaffOnly = a.StaffOnly
		return s.db.Audit(ctx, tx, e)
	})
	if err != nil {
		return err
	}
	s.sm.Put(ctx, keyFlash, "articles.deleted")
	s.sm.Put(ctx, "flash_name", a.Title)
	return s.redirect(c, r.base)
}

// articleCopy copies an MSP-wide template into the organisation as a new document (staff-only until
// staff decide otherwise: a template may name things the customer should not read before it is adapted).
func (s *Server) articleCopy(c *echo.Context) error {
	r := s.articleRequest(c)
	id, err := strconv.ParseInt(c.FormValue("template"), 10, 64)
	if err != nil {
		return echo.ErrNotFound
	}
	ctx := c.Request().Context()
	t, err := s.db.Article(ctx, db.ArticleScope{StaffView: true}, id)
	if err != nil {
		return err
	}
	ch := db.ArticleChange{Folder: t.Folder, Title: t.Title, Body: t.Body, Emergency: t.Emergency, StaffOnly: true}
	nid, err := s.db.ArticleCreate(ctx, r.org.ID, ch, db.DocActor{ID: r.u.ID, Name: r.u.DisplayName()}, func(tx dbTx, nid int64) error {
		e := s.auditEntry(c, r.org.ID, "articles.copy", articleTarget(nid, ch.Title))
		e.StaffOnly = true
		return s.db.Audit(ctx, tx, e)
	})
	if err != nil {
		return err
	}
	return s.redirect(c, r.href(nid)+"/edit")
}

func (s *Server) articleHistory(c *echo.Context) error {
	r := s.articleRequest(c)
	a, err := s.article(c, r.scope)
	if err != nil {
		return err
	}
	revs, err := s.db.ArticleRevisions(c.Request().Context(), r.scope, a.ID)
	if err != nil {
		return err
	}
	nav, err := s.articleNav(c, r)
	if err != nil {
		return err
	}
	v := views.ArticleHistoryView{Nav: nav, Title: a.Title, BackHref: r.href(a.ID)}
	for _, rev := range revs {
		row := views.ArticleRevisionRow{Version: rev.Version, At: r.l.DateTime(rev.At), By: rev.By, Title: rev.Title}
		if rev.Version > 1 {
			row.DiffHref = r.href(a.ID) + "/diff?from=" + strconv.Itoa(rev.Version-1) + "&to=" + strconv.Itoa(rev.Version)
		}
		v.Revisions = append(v.Revisions, row)
	}
	return s.render(c, http.StatusOK, views.ArticleHistory(s.shell(c, r.l.T("docs.history_of", "name", a.Title)), v), nil)
}

// articleDiff compares two revisions (?from=&to=, version numbers) line by line.
func (s *Server) articleDiff(c *echo.Context) error {
	r := s.articleRequest(c)
	a, err := s.article(c, r.scope)
	if err != nil {
		return err
	}
	revs, err := s.db.ArticleRevisions(c.Request().Context(), r.scope, a.ID)
	if err != nil {
		return err
	}
	find := func(q string) (*db.ArticleRevision, error) {
		n, err := strconv.Atoi(q)
		if err != nil {
			return nil, echo.ErrNotFound
		}
		for i := range revs {
			if revs[i].Version == n {
				return &revs[i], nil
			}
		}
		return nil, echo.ErrNotFound
	}
	from, err := find(c.QueryParam("from"))
	if err != nil {
		return err
	}
	to, err := find(c.QueryParam("to"))
	if err != nil {
		return err
	}
	nav, err := s.articleNav(c, r)
	if err != nil {
		return err
	}
	v := views.ArticleDiffView{Nav: nav, Title: a.Title, BackHref: r.href(a.ID) + "/history", From: from.Version, To: to.Version}
	change := func(key, old, new string) {
		if old != new {
			v.Changes = append(v.Changes, views.HistoryChange{LabelKey: key, Old: old, New: new})
		}
	}
	change("articles.field.title", from.Title, to.Title)
	change("articles.field.folder", from.Folder, to.Folder)
	change("docs.staff_only", boolText(r.l, from.StaffOnly), boolText(r.l, to.StaffOnly))
	change("articles.field.emergency", boolText(r.l, from.Emergency), boolText(r.l, to.Emergency))
	for _, l := range markdown.Diff(from.Body, to.Body) {
		v.Lines = append(v.Lines, views.DiffRow{Op: [...]string{"same", "add", "del"}[l.Op], Text: l.Text})
	}
	return s.render(c, http.StatusOK, views.ArticleDiff(s.shell(c, r.l.T("docs.history_of", "name", a.Title)), v), nil)
}

// handbookProcedures renders the organisation's emergency procedures the viewer may see, for the handbook.
func (s *Server) handbookProcedures(ctx context.Context, orgID int64, staff bool) ([]views.HandbookProcedure, error) {
	list, err := s.db.Articles(ctx, db.ArticleScope{OrgID: orgID, StaffView: staff}, true)
	if err != nil {
		return nil, err
	}
	var out []views.HandbookProcedure
	for _, a := range list {
		html, err := markdown.Render(a.Body)
		if err != nil {
			return nil, err
		}
		out = append(out, views.HandbookProcedure{Title: a.Title, HTML: html})
	}
	return out, nil
}

// emergencyLinks are the organisation's emergency procedures the viewer may read (its start page).
func (s *Server) emergencyLinks(ctx context.Context, org *db.Org, staff bool) ([]views.ArticleRow, error) {
	list, err := s.db.Articles(ctx, db.ArticleScope{OrgID: org.ID, StaffView: staff}, true)
	if err != nil {
		return nil, err
	}
	out := make([]views.ArticleRow, 0, len(list))
	for _, a := range list {
		out = append(out, views.ArticleRow{Title: a.Title, Href: "/o/" + org.Slug + "/articles/" + strconv.FormatInt(a.ID, 10), StaffOnly: a.StaffOnly})
	}
	return out, nil
}

// Templates: MSP-wide documents in the staff area.

var templateScope = db.ArticleScope{StaffView: true}

func (s *Server) templateList(c *echo.Context) error {
	ctx := c.Request().Context()
	l := i18n.From(ctx)
	list, err := s.db.Articles(ctx, templateScope, false)
	if err != nil {
		return err
	}
	v := views.TemplatesView{Nav: staffNav(c, "templates"), NewHref: "/staff/templates/new"}
	if key := s.sm.PopString(ctx, keyFlash); strings.HasPrefix(key, "templates.") {
		v.FlashKey = key
	}
	for _, a := range list {
		v.Rows = append(v.Rows, views.ArticleRow{Title: a.Title, Href: "/staff/templates/" + strconv.FormatInt(a.ID, 10), Emergency: a.Emergency,
			Updated: l.Date(a.UpdatedAt.In(l.TZ))})
	}
	return s.render(c, http.StatusOK, views.Templates(s.shell(c, l.T("templates.title")), v), nil)
}

func (s *Server) renderTemplateForm(c *echo.Context, status int, a *db.Article, ch db.ArticleChange, errs map[string]string, errKey string, preview bool) error {
	ctx := c.Request().Context()
	l := i18n.From(ctx)
	folders, err := s.db.ArticleFolders(ctx, templateScope)
	if err != nil {
		return err
	}
	v := views.ArticleFormView{StaffNav: staffNav(c, "templates"), Heading: l.T("templates.new"), Action: "/staff/templates",
		CancelHref: "/staff/templates", Folder: ch.Folder, Title: ch.Title, Body: ch.Body, Emergency: ch.Emergency, Version: ch.Version,
		Folders: folders, Errors: errs, ErrorKey: errKey, MaxBody: markdown.MaxLen}
	if a != nil {
		v.Action = "/staff/templates/" + strconv.FormatInt(a.ID, 10)
		v.Heading = l.T("docs.edit_heading", "name", a.Title)
	}
	if preview || a != nil && errs == nil && errKey == "" {
		if v.PreviewHTML, err = markdown.Render(ch.Body); err != nil {
			return err
		}
		v.HasPreview = true
	}
	return s.render(c, status, views.ArticleForm(s.shell(c, v.Heading), v), nil)
}

func (s *Server) templateNew(c *echo.Context) error {
	return s.renderTemplateForm(c, http.StatusOK, nil, db.ArticleChange{}, nil, "", false)
}

func (s *Server) templateCreate(c *echo.Context) error {
	ch, errs, err := articleForm(c, true)
	if err != nil {
		return err
	}
	if len(errs) > 0 {
		return s.renderTemplateForm(c, http.StatusUnprocessableEntity, nil, ch, errs, "docs.fix_errors", false)
	}
	if c.FormValue("preview") != "" {
		return s.renderTemplateForm(c, http.StatusOK, nil, ch, nil, "", true)
	}
	ctx := c.Request().Context()
	u := currentUser(c)
	_, err = s.db.ArticleCreate(ctx, 0, ch, db.DocActor{ID: u.ID, Name: u.DisplayName()}, func(tx dbTx, id int64) error {
		return s.db.Audit(ctx, tx, s.auditEntry(c, 0, "templates.create", articleTarget(id, ch.Title)))
	})
	if err != nil {
		return err
	}
	s.sm.Put(ctx, keyFlash, "templates.saved")
	return s.redirect(c, "/staff/templates")
}

func (s *Server) templateEdit(c *echo.Context) error {
	a, err := s.article(c, templateScope)
	if err != nil {
		return err
	}
	ch := db.ArticleChange{Folder: a.Folder, Title: a.Title, Body: a.Body, Emergency: a.Emergency, Version: a.Version}
	return s.renderTemplateForm(c, http.StatusOK, a, ch, nil, "", false)
}

func (s *Server) templateUpdate(c *echo.Context) error {
	a, err := s.article(c, templateScope)
	if err != nil {
		return err
	}
	ch, errs, err := articleForm(c, true)
	if err != nil {
		return err
	}
	if len(errs) > 0 {
		return s.renderTemplateForm(c, http.StatusUnprocessableEntity, a, ch, errs, "docs.fix_errors", false)
	}
	if c.FormValue("preview") != "" {
		return s.renderTemplateForm(c, http.StatusOK, a, ch, nil, "", true)
	}
	ctx := c.Request().Context()
	u := currentUser(c)
	err = s.db.ArticleUpdate(ctx, templateScope, a.ID, ch, db.DocActor{ID: u.ID, Name: u.DisplayName()}, func(tx dbTx) error {
		return s.db.Audit(ctx, tx, s.auditEntry(c, 0, "templates.update", articleTarget(a.ID, ch.Title)))
	})
	if errors.Is(err, db.ErrConflict) {
		cur, gerr := s.db.Article(ctx, templateScope, a.ID)
		if gerr != nil {
			return gerr
		}
		ch.Version = cur.Version
		return s.renderTemplateForm(c, http.StatusConflict, cur, ch, nil, "docs.conflict", false)
	}
	if err != nil {
		return err
	}
	s.sm.Put(ctx, keyFlash, "templates.saved")
	return s.redirect(c, "/staff/templates")
}

func (s *Server) templateDelete(c *echo.Context) error {
	a, err := s.article(c, templateScope)
	if err != nil {
		return err
	}
	ctx := c.Request().Context()
	err = s.db.ArticleDelete(ctx, templateScope, a.ID, func(tx dbTx) error {
		return s.db.Audit(ctx, tx, s.auditEntry(c, 0, "templates.delete", articleTarget(a.ID, a.Title)))
	})
	if err != nil {
		return err
	}
	s.sm.Put(ctx, keyFlash, "templates.deleted")
	return s.redirect(c, "/staff/templates")
}
