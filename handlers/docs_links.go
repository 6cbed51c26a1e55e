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

// attachmentRoute and articleAttachmentRoute are the uploads' routes: limitBody gives them the attachment
// size limit.
const (
	attachmentRoute        = "/o/:slug/docs/:area/:id/attachments"
	articleAttachmentRoute = "/o/:slug/articles/:id/attachments"
)

// connReq is a request about one live item or document (doc) the signed-in person sees in the route's
// organisation.
type connReq struct {
	v     *docsapp.Viewer
	u     *db.User
	org   *db.Org
	staff bool
	scope db.DocScope
	l     *i18n.Localizer
	area  *docs.Area  // an item's area; nil for a document
	it    *db.DocItem // the item, or
	doc   *db.Article // the document
	base  string      // /o/<slug>/docs/<area>/<id> or /o/<slug>/articles/<id>
}

// connItem resolves the route's item (/docs/:area/:id/…) or, on a document's route (/articles/:id/…), its
// document.
func (s *Server) connItem(c *echo.Context) (*connReq, error) {
	v := s.viewer(c)
	id, err := strconv.ParseInt(c.Param("id"), 10, 64)
	if err != nil || id <= 0 {
		return nil, echo.ErrNotFound
	}
	r := &connReq{v: v, u: currentUser(c), org: v.Org, staff: v.Staff, scope: v.Scope(), l: v.L}
	ctx := c.Request().Context()
	if c.Param("area") == "" {
		if r.doc, err = s.docs.Document(ctx, v, id); err != nil {
			return nil, err
		}
		r.base = articleHref(r.org.Slug, id)
		return r, nil
	}
	area, ok := docs.ByName(c.Param("area"))
	if !ok {
		return nil, echo.ErrNotFound
	}
	r.area = area
	if r.it, err = s.db.DocGet(ctx, r.scope, area.Name, id); err != nil {
		return nil, err
	}
	r.base = itemHref(r.org.Slug, area.Name, id)
	return r, nil
}

// owner is what the request's files hang on.
func (r *connReq) owner() db.FileOwner {
	if r.doc != nil {
		return db.OnArticle(r.doc.ID)
	}
	return db.OnItem(r.it.ID)
}

// target names the item or document in audit entries.
func (r *connReq) target() string {
	if r.doc != nil {
		return docsapp.DocumentTarget(r.doc.ID, r.doc.Title)
	}
	return itemTarget(r.it.ID, r.area.Name, r.it.Name)
}

func (r *connReq) ownerName() string {
	if r.doc != nil {
		return r.doc.Title
	}
	return r.it.Name
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
		sc, org, l = r.scope, r.org, r.l
		if r.it != nil {
			self = r.it.ID
		}
		v = views.LinkPickerView{Heading: l.T("links.heading", "name", r.ownerName()), BackHref: r.base, SearchURL: r.base + "/links/new",
			Action: r.base + "/links"}
	}
	v.Query, v.ErrorKey, v.Label = q, errKey, c.FormValue("label")
	if q != "" {
		var found []*db.DocItem
		var err error
		if r != nil && r.doc != nil {
			found, err = s.docs.DocumentLinkCandidates(ctx, r.v, r.doc.ID, q)
		} else {
			found, err = s.db.DocLinkCandidates(ctx, sc, self, q, 30)
		}
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
		if r != nil && r.it != nil {
			// An item also links to the organisation's documents (ids "d…", see linkRowID).
			found, err := s.docs.ItemDocumentCandidates(ctx, r.v, r.it.ID, q)
			if err != nil {
				return err
			}
			for _, a := range found {
				v.Results = append(v.Results, views.PickResult{ID: "d" + strconv.FormatInt(a.ID, 10), Name: a.Title, AreaKey: "articles.title",
					StaffOnly: a.StaffOnly})
			}
		}
	}
	nav, err := s.docsMenu(c, org, sc, "", "")
	if err != nil {
		return err
	}
	v.Nav = nav
	return s.render(c, status, views.LinkPicker(s.shell(c, v.Heading), v), views.PickResults(v))
}

// pickForm reads the chosen item or document ("d<id>", see linkRowID) and the label of a picker form.
func pickForm(c *echo.Context) (doc bool, other int64, label string, errKey string) {
	raw := c.FormValue("other")
	doc = strings.HasPrefix(raw, "d")
	other, err := strconv.ParseInt(strings.TrimPrefix(raw, "d"), 10, 64)
	if err != nil || other <= 0 {
		return false, 0, "", "links.err.choose"
	}
	label = strings.TrimSpace(c.FormValue("label"))
	if k := docsapp.CheckLinkLabel(label); k != "" {
		return false, 0, "", k
	}
	return doc, other, label, ""
}

// linkForm reads a picker form that links items only (the bulk link from a list).
func linkForm(c *echo.Context) (other int64, label string, errKey string) {
	doc, other, label, errKey := pickForm(c)
	if doc {
		return 0, "", "links.err.choose"
	}
	return other, label, errKey
}

func (s *Server) linkAdd(c *echo.Context) error {
	r, err := s.staffItem(c)
	if err != nil {
		return err
	}
	doc, other, label, errKey := pickForm(c)
	if errKey == "" && doc && r.doc != nil {
		errKey = "links.err.choose" // documents link to items, not to each other
	}
	if errKey != "" {
		return s.renderPicker(c, r, nil, http.StatusUnprocessableEntity, errKey)
	}
	ctx := c.Request().Context()
	switch {
	case r.doc != nil:
		err = s.docs.LinkDocument(ctx, r.v, r.doc.ID, other, label)
	case doc:
		err = s.docs.LinkDocument(ctx, r.v, other, r.it.ID, label)
	default:
		err = s.docs.Link(ctx, r.v, r.it.ID, other, label)
	}
	switch {
	case errors.Is(err, docsapp.ErrConflict):
		return s.renderPicker(c, r, nil, http.StatusConflict, "links.err.exists")
	case errors.Is(err, docsapp.ErrSameItem):
		return s.renderPicker(c, r, nil, http.StatusUnprocessableEntity, "links.err.self")
	case err != nil:
		return err // another organisation's item or document, or a missing one: 404
	}
	return s.redirect(c, r.base)
}

func (s *Server) linkRemove(c *echo.Context) error {
	r, err := s.staffItem(c)
	if err != nil {
		return err
	}
	raw := c.Param("other")
	doc := strings.HasPrefix(raw, "d")
	other, err := strconv.ParseInt(strings.TrimPrefix(raw, "d"), 10, 64)
	if err != nil || other <= 0 || doc && r.doc != nil {
		return echo.ErrNotFound
	}
	ctx := c.Request().Context()
	switch {
	case r.doc != nil:
		err = s.docs.UnlinkDocument(ctx, r.v, r.doc.ID, other)
	case doc:
		err = s.docs.UnlinkDocument(ctx, r.v, other, r.it.ID)
	default:
		err = s.docs.Unlink(ctx, r.v, r.it.ID, other)
	}
	if err != nil {
		return err
	}
	return s.redirect(c, r.base)
}
