package handlers

import (
	"slices"
	"strconv"
	"strings"

	"github.com/labstack/echo/v5"

	"portier/db"
	"portier/docs"
	"portier/i18n"
	"portier/views"
)

// What an item's or a document's page shows of its connections: linked items and documents, files, and
// the link changes on the history page. The same component renders both pages (views/links.templ).

// detailConnections is the detail page's hook: the item's related items and documents grouped by area,
// and its files, as the viewer may see them.
func (s *Server) detailConnections(c *echo.Context, it *db.DocItem) (*views.Connections, error) {
	v := s.viewer(c)
	area, ok := docs.ByName(it.Area)
	if !ok {
		return nil, echo.ErrNotFound
	}
	r := &connReq{v: v, u: currentUser(c), org: v.Org, staff: v.Staff, scope: v.Scope(), l: v.L, area: area, it: it,
		base: itemHref(v.Org.Slug, it.Area, it.ID)}
	ctx := c.Request().Context()
	links, err := s.db.DocLinks(ctx, r.scope, it.ID)
	if err != nil {
		return nil, err
	}
	linkedDocs, err := s.docs.ItemDocuments(ctx, v, it.ID)
	if err != nil {
		return nil, err
	}
	return s.connections(c, r, append(links, linkedDocs...))
}

// articleConnections is what a document's page shows of its linked items and files.
func (s *Server) articleConnections(c *echo.Context, r *connReq) (*views.Connections, error) {
	links, err := s.docs.DocumentLinks(c.Request().Context(), r.v, r.doc.ID)
	if err != nil {
		return nil, err
	}
	return s.connections(c, r, links)
}

// filesError is the refused upload or link of the person's previous request, told once on the page it
// went back to (a flash, outside the cached content of an item page).
func (s *Server) filesError(c *echo.Context) string {
	key := s.sm.PopString(c.Request().Context(), "files_error")
	if strings.HasPrefix(key, "files.") || strings.HasPrefix(key, "links.") {
		return key
	}
	return ""
}

// linkRowID is how a page and its forms name the other side of a link: an item by its id, a document by
// "d" and its id (item and document ids are counted apart).
func linkRowID(l db.DocLink) string {
	if l.Area == db.ArticleArea {
		return "d" + strconv.FormatInt(l.OtherID, 10)
	}
	return strconv.FormatInt(l.OtherID, 10)
}

// connections builds the related things, grouped by area with the documents last, and the files of an
// item or document.
func (s *Server) connections(c *echo.Context, r *connReq, links []db.DocLink) (*views.Connections, error) {
	ctx := c.Request().Context()
	files, err := s.db.Files(ctx, r.scope, r.owner())
	if err != nil {
		return nil, err
	}
	l := r.l
	v := &views.Connections{MaxMB: s.attachmentMB()}
	if r.staff {
		v.AddHref = r.base + "/links/new"
		v.UploadAction = r.base + "/attachments"
	}
	groups := make([]views.LinkGroup, 0, len(docs.Areas)+1)
	for _, a := range docs.Areas {
		groups = append(groups, views.LinkGroup{AreaKey: a.TitleKey()})
	}
	groups = append(groups, views.LinkGroup{AreaKey: "articles.title"})
	for _, ln := range links {
		i := len(groups) - 1
		href := articleHref(r.org.Slug, ln.OtherID)
		if ln.Area != db.ArticleArea {
			i = slices.IndexFunc(docs.Areas, func(a *docs.Area) bool { return a.Name == ln.Area })
			if i < 0 {
				continue
			}
			href = itemHref(r.org.Slug, ln.Area, ln.OtherID)
		}
		row := views.LinkRow{ID: linkRowID(ln), Href: href, Name: ln.Name, Label: ln.Label, StaffOnly: ln.StaffOnly}
		if r.staff {
			row.RemoveAction = r.base + "/links/" + row.ID + "/delete"
		}
		groups[i].Links = append(groups[i].Links, row)
	}
	for _, g := range groups {
		if len(g.Links) > 0 {
			v.Groups = append(v.Groups, g)
		}
	}
	for _, f := range files {
		id := strconv.FormatInt(f.ID, 10)
		fr := views.FileRow{ID: id, Name: f.Name, Href: r.base + "/attachments/" + id, Size: fileSize(l.Lang, f.Size), TypeKey: docs.FileTypeKey(f.ContentType),
			StaffOnly: f.StaffOnly, Meta: f.CreatedBy + " · " + l.Date(f.CreatedAt)}
		if docs.InlineType(f.ContentType) {
			fr.ViewHref = fr.Href + "/view"
		}
		if f.HasThumb {
			fr.ThumbHref = fr.Href + "/thumb"
		}
		if r.staff {
			fr.ToggleAction, fr.DeleteAction = fr.Href+"/staff-only", fr.Href+"/delete"
		}
		v.Files = append(v.Files, fr)
	}
	return v, nil
}

// linkHistory is the history page's hook: the item's link changes, to items and to documents, newest first.
func (s *Server) linkHistory(c *echo.Context, it *db.DocItem) ([]views.LinkEvent, error) {
	v := s.viewer(c)
	ctx := c.Request().Context()
	evs, err := s.db.DocLinkEvents(ctx, v.Scope(), it.ID)
	if err != nil {
		return nil, err
	}
	docEvs, err := s.docs.ItemDocumentEvents(ctx, v, it.ID)
	if err != nil {
		return nil, err
	}
	evs = append(evs, docEvs...)
	slices.SortStableFunc(evs, func(a, b db.DocLinkEvent) int { return b.At.Compare(a.At) })
	return linkEvents(v.L, evs), nil
}

func linkEvents(l *i18n.Localizer, evs []db.DocLinkEvent) []views.LinkEvent {
	out := make([]views.LinkEvent, 0, len(evs))
	for _, e := range evs {
		out = append(out, views.LinkEvent{ChangeKey: "links.change." + e.Change, Other: e.OtherName, Label: e.Label, At: l.DateTime(e.At), By: e.By})
	}
	return out
}
