package handlers

import (
	"context"
	"net/http"
	"strconv"
	"strings"

	"github.com/labstack/echo/v5"

	"portier/db"
	"portier/docsapp"
	"portier/i18n"
	"portier/markdown"
	"portier/views"
)

// Documents: an organisation's Markdown articles (procedures and notes) in folders, with revisions and a
// diff, staff-only or visible to the customer, printable, in the emergency handbook when marked so, linked
// to items and carrying files. The rules live in docsapp (documents.go); these handlers parse, call one
// method and render. Reading is here; writing in docs_articles_edit.go, templates in docs_templates.go,
// links and files in docs_links.go, docs_connections.go and docs_attachments.go (shared with items).

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
	v    *docsapp.Viewer
	org  *db.Org
	l    *i18n.Localizer
	base string // /o/<slug>/articles
}

func (s *Server) articleRequest(c *echo.Context) *articleReq {
	v := s.viewer(c)
	return &articleReq{v: v, org: v.Org, l: v.L, base: "/o/" + v.Org.Slug + "/articles"}
}

func (r *articleReq) href(id int64) string { return articleHref(r.org.Slug, id) }

func articleHref(slug string, id int64) string {
	return "/o/" + slug + "/articles/" + strconv.FormatInt(id, 10)
}

// routeID is the route's :id; 0 (found nowhere) when it is not a number.
func routeID(c *echo.Context) int64 {
	id, _ := strconv.ParseInt(c.Param("id"), 10, 64)
	return id
}

func (s *Server) articleNav(c *echo.Context, r *articleReq) (views.DocsNav, error) {
	return s.docsMenu(c, r.org, r.v.Scope(), db.ArticleArea, "")
}

func (s *Server) articleList(c *echo.Context) error {
	r := s.articleRequest(c)
	ctx := c.Request().Context()
	list, err := s.docs.Documents(ctx, r.v, false)
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
	if r.v.Staff {
		v.NewHref, v.CopyAction = r.base+"/new", r.base+"/copy"
		tpls, err := s.docs.Templates(ctx, r.v)
		if err != nil {
			return err
		}
		for _, t := range tpls {
			v.Templates = append(v.Templates, views.FilterOption{Value: strconv.FormatInt(t.ID, 10), LabelKey: t.Title})
		}
	}
	if key := s.sm.PopString(ctx, keyFlash); strings.HasPrefix(key, "articles.") {
		v.FlashKey, v.FlashArgs = key, []any{"name", s.sm.PopString(ctx, "flash_name")}
		if undo := s.sm.GetInt64(ctx, "undo_article"); key == "articles.deleted" && undo > 0 && r.v.Staff {
			v.UndoAction = r.href(undo) + "/restore"
		}
		s.sm.Remove(ctx, "undo_article")
	}
	return s.render(c, http.StatusOK, views.ArticleList(s.shell(c, r.l.T("articles.title")), v), nil)
}

func (s *Server) articleDetail(c *echo.Context) error {
	r := s.articleRequest(c)
	ctx := c.Request().Context()
	a, err := s.docs.Document(ctx, r.v, routeID(c))
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
	if r.v.Staff {
		base := r.href(a.ID)
		v.EditHref, v.HistoryHref, v.DeleteHref = base+"/edit", base+"/history", base+"/delete"
	}
	if v.Connections, err = s.articleConnections(c, &connReq{v: r.v, org: r.org, staff: r.v.Staff, scope: r.v.Scope(), l: r.l,
		doc: a, base: r.href(a.ID)}); err != nil {
		return err
	}
	v.Connections.ErrorKey = s.filesError(c)
	return s.render(c, http.StatusOK, views.Article(s.shell(c, a.Title), v), nil)
}

func (s *Server) articleHistory(c *echo.Context) error {
	r := s.articleRequest(c)
	h, err := s.docs.DocumentHistory(c.Request().Context(), r.v, routeID(c))
	if err != nil {
		return err
	}
	a := h.Document
	nav, err := s.articleNav(c, r)
	if err != nil {
		return err
	}
	v := views.ArticleHistoryView{Nav: nav, Title: a.Title, BackHref: r.href(a.ID), Links: linkEvents(r.l, h.Links)}
	for _, rev := range h.Revisions {
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
	h, err := s.docs.DocumentHistory(c.Request().Context(), r.v, routeID(c))
	if err != nil {
		return err
	}
	a := h.Document
	find := func(q string) (*db.ArticleRevision, error) {
		n, err := strconv.Atoi(q)
		if err != nil {
			return nil, echo.ErrNotFound
		}
		for i := range h.Revisions {
			if h.Revisions[i].Version == n {
				return &h.Revisions[i], nil
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
func (s *Server) handbookProcedures(ctx context.Context, v *docsapp.Viewer) ([]views.HandbookProcedure, error) {
	list, err := s.docs.Documents(ctx, v, true)
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
func (s *Server) emergencyLinks(ctx context.Context, v *docsapp.Viewer) ([]views.ArticleRow, error) {
	list, err := s.docs.Documents(ctx, v, true)
	if err != nil {
		return nil, err
	}
	out := make([]views.ArticleRow, 0, len(list))
	for _, a := range list {
		out = append(out, views.ArticleRow{Title: a.Title, Href: articleHref(v.Org.Slug, a.ID), StaffOnly: a.StaffOnly})
	}
	return out, nil
}
