package handlers

import (
	"errors"
	"net/http"
	"strconv"
	"strings"

	"github.com/labstack/echo/v5"

	"portier/db"
	"portier/docs"
	"portier/docsapp"
	"portier/i18n"
	"portier/views"
)

// Related items and attachments hang off an item's detail page. Their handlers resolve the item
// themselves (connItem) from the route and the signed-in person, so they depend on nothing of the
// documentation handlers but the detail and history pages' hooks (detailConnections, linkHistory).

// attachmentRoute is the upload's route: limitBody gives it the attachment size limit.
const attachmentRoute = "/o/:slug/docs/:area/:id/attachments"

// connReq is a request about one live item the signed-in person sees in the route's organisation.
type connReq struct {
	u     *db.User
	org   *db.Org
	staff bool
	scope db.DocScope
	l     *i18n.Localizer
	area  *docs.Area
	it    *db.DocItem
	base  string // /o/<slug>/docs/<area>/<id>
}

func (s *Server) connItem(c *echo.Context) (*connReq, error) {
	u := currentUser(c)
	org, _ := currentOrg(c)
	area, ok := docs.ByName(c.Param("area"))
	if !ok {
		return nil, echo.ErrNotFound
	}
	id, err := strconv.ParseInt(c.Param("id"), 10, 64)
	if err != nil || id <= 0 {
		return nil, echo.ErrNotFound
	}
	r := &connReq{u: u, org: org, staff: u.IsStaff(), scope: db.DocScope{OrgID: org.ID, StaffView: u.IsStaff()},
		l: i18n.From(c.Request().Context()), area: area}
	if r.it, err = s.db.DocGet(c.Request().Context(), r.scope, area.Name, id); err != nil {
		return nil, err
	}
	r.base = itemHref(org.Slug, area.Name, id)
	return r, nil
}

// staffItem is connItem for what only MSP staff do (linking, uploading, changing files): anyone else gets
// the same 404 as for a missing item.
func (s *Server) staffItem(c *echo.Context) (*connReq, error) {
	if !currentUser(c).IsStaff() {
		return nil, echo.ErrNotFound
	}
	return s.connItem(c)
}

func itemHref(slug, area string, id int64) string {
	return "/o/" + slug + "/docs/" + area + "/" + strconv.FormatInt(id, 10)
}

func (r *connReq) actor() db.DocActor { return db.DocActor{ID: r.u.ID, Name: r.u.DisplayName()} }

// itemTarget is an audit target naming an item as the documentation's entries do (docsapp.ItemTarget).
func itemTarget(id int64, area, name string) string {
	return docsapp.ItemTarget(id, area, "", name)
}

// detailConnections is the detail page's hook: the item's related items grouped by area and its files,
// as the viewer may see them.
func (s *Server) detailConnections(c *echo.Context, it *db.DocItem) (*views.Connections, error) {
	u := currentUser(c)
	org, _ := currentOrg(c)
	sc := db.DocScope{OrgID: org.ID, StaffView: u.IsStaff()}
	ctx := c.Request().Context()
	links, err := s.db.DocLinks(ctx, sc, it.ID)
	if err != nil {
		return nil, err
	}
	files, err := s.db.Attachments(ctx, sc, it.ID)
	if err != nil {
		return nil, err
	}
	l := i18n.From(ctx)
	base := itemHref(org.Slug, it.Area, it.ID)
	v := &views.Connections{MaxMB: s.attachmentMax() >> 20}
	if u.IsStaff() {
		v.AddHref = base + "/links/new"
		v.UploadAction = base + "/attachments"
	}
	if key := s.sm.PopString(ctx, "files_error"); strings.HasPrefix(key, "files.") || strings.HasPrefix(key, "links.") {
		v.ErrorKey = key
	}
	for _, a := range docs.Areas {
		g := views.LinkGroup{AreaKey: a.TitleKey()}
		for _, ln := range links {
			if ln.Area != a.Name {
				continue
			}
			row := views.LinkRow{ID: strconv.FormatInt(ln.OtherID, 10), Href: itemHref(org.Slug, ln.Area, ln.OtherID), Name: ln.Name,
				Label: ln.Label, StaffOnly: ln.StaffOnly}
			if u.IsStaff() {
				row.RemoveAction = base + "/links/" + row.ID + "/delete"
			}
			g.Links = append(g.Links, row)
		}
		if len(g.Links) > 0 {
			v.Groups = append(v.Groups, g)
		}
	}
	for _, f := range files {
		id := strconv.FormatInt(f.ID, 10)
		fr := views.FileRow{ID: id, Name: f.Name, Href: base + "/attachments/" + id, Size: fileSize(l.Lang, f.Size), TypeKey: docs.FileTypeKey(f.ContentType),
			StaffOnly: f.StaffOnly, Meta: f.CreatedBy + " · " + l.Date(f.CreatedAt)}
		if docs.InlineType(f.ContentType) {
			fr.ViewHref = fr.Href + "/view"
		}
		if f.HasThumb {
			fr.ThumbHref = fr.Href + "/thumb"
		}
		if u.IsStaff() {
			fr.ToggleAction, fr.DeleteAction = fr.Href+"/staff-only", fr.Href+"/delete"
		}
		v.Files = append(v.Files, fr)
	}
	return v, nil
}

// linkHistory is the history page's hook: the item's link changes.
func (s *Server) linkHistory(c *echo.Context, it *db.DocItem) ([]views.LinkEvent, error) {
	org, _ := currentOrg(c)
	l := i18n.From(c.Request().Context())
	evs, err := s.db.DocLinkEvents(c.Request().Context(), db.DocScope{OrgID: org.ID, StaffView: currentUser(c).IsStaff()}, it.ID)
	if err != nil {
		return nil, err
	}
	out := make([]views.LinkEvent, 0, len(evs))
	for _, e := range evs {
		out = append(out, views.LinkEvent{ChangeKey: "links.change." + e.Change, Other: e.OtherName, Label: e.Label, At: l.DateTime(e.At), By: e.By})
	}
	return out, nil
}

// maxLinkLabel is the longest label a link takes (runes).
const maxLinkLabel = 100

func (s *Server) linkPicker(c *echo.Context) error {
	r, err := s.staffItem(c)
	if err != nil {
		return err
	}
	return s.renderPicker(c, r, nil, http.StatusOK, "")
}

// renderPicker shows the link picker for one item (r) or, with ids, for a bulk link from a list.
func (s *Server) renderPicker(c *echo.Context, r *connReq, bulk *bulkReq, status int, errKey string) error {
	ctx := c.Request().Context()
	q := strings.TrimSpace(c.QueryParam("q"))
	if len(q) > 200 {
		q = q[:200]
	}
	var v views.LinkPickerView
	var sc db.DocScope
	var self int64
	var org *db.Org
	var l *i18n.Localizer
	if bulk != nil {
		sc, org, l = bulk.v.Scope(), bulk.v.Org, bulk.v.L
		list := "/o/" + org.Slug + "/docs/" + bulk.area.Name
		v = views.LinkPickerView{Heading: l.N("links.bulk_heading", len(bulk.ids)), BackHref: list,
			SearchURL: list + "/bulk/link", Action: list + "/bulk/link"}
		for _, id := range bulk.ids {
			v.Keep = append(v.Keep, strconv.FormatInt(id, 10))
		}
	} else {
		sc, org, l, self = r.scope, r.org, r.l, r.it.ID
		v = views.LinkPickerView{Heading: l.T("links.heading", "name", r.it.Name), BackHref: r.base, SearchURL: r.base + "/links/new",
			Action: r.base + "/links"}
	}
	v.Query, v.ErrorKey, v.Label = q, errKey, c.FormValue("label")
	if q != "" {
		found, err := s.db.DocLinkCandidates(ctx, sc, self, q, 30)
		if err != nil {
			return err
		}
		skip := map[int64]bool{}
		if bulk != nil {
			for _, id := range bulk.ids {
				skip[id] = true
			}
		}
		for _, it := range found {
			if skip[it.ID] {
				continue
			}
			a, _ := docs.ByName(it.Area)
			v.Results = append(v.Results, views.PickResult{ID: strconv.FormatInt(it.ID, 10), Name: it.Name, AreaKey: a.TitleKey(), StaffOnly: it.StaffOnly})
		}
	}
	nav, err := s.docsNav(c, org, sc, "", "")
	if err != nil {
		return err
	}
	v.Nav = nav
	return s.render(c, status, views.LinkPicker(s.shell(c, v.Heading), v), views.PickResults(v))
}

// linkForm reads the chosen item and the label of a picker form.
func linkForm(c *echo.Context) (other int64, label string, errKey string) {
	other, err := strconv.ParseInt(c.FormValue("other"), 10, 64)
	if err != nil || other <= 0 {
		return 0, "", "links.err.choose"
	}
	label = strings.TrimSpace(c.FormValue("label"))
	if len([]rune(label)) > maxLinkLabel || strings.ContainsFunc(label, func(r rune) bool { return r < 0x20 }) {
		return 0, "", "links.err.label"
	}
	return other, label, ""
}

func (s *Server) linkAdd(c *echo.Context) error {
	r, err := s.staffItem(c)
	if err != nil {
		return err
	}
	other, label, errKey := linkForm(c)
	if errKey != "" {
		return s.renderPicker(c, r, nil, http.StatusUnprocessableEntity, errKey)
	}
	err = s.docs.Link(c.Request().Context(), s.viewer(c), r.it.ID, other, label)
	switch {
	case errors.Is(err, docsapp.ErrConflict):
		return s.renderPicker(c, r, nil, http.StatusConflict, "links.err.exists")
	case errors.Is(err, docsapp.ErrSameItem):
		return s.renderPicker(c, r, nil, http.StatusUnprocessableEntity, "links.err.self")
	case err != nil:
		return err // another organisation's item or a missing one: 404
	}
	return s.redirect(c, r.base)
}

// addLink links two items with the audit entry in the same transaction: one entry, naming both.
func (s *Server) linkRemove(c *echo.Context) error {
	r, err := s.staffItem(c)
	if err != nil {
		return err
	}
	other, err := strconv.ParseInt(c.Param("other"), 10, 64)
	if err != nil || other <= 0 {
		return echo.ErrNotFound
	}
	if err := s.docs.Unlink(c.Request().Context(), s.viewer(c), r.it.ID, other); err != nil {
		return err
	}
	return s.redirect(c, r.base)
}
