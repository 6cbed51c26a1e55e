package handlers

import (
	"database/sql"
	"io"
	"strconv"
	"strings"
	"time"

	"github.com/labstack/echo/v5"

	"portier/db"
	"portier/docs"
	"portier/docsapp"
	"portier/i18n"
	"portier/views"
)

// dbTx is the transaction that db's write functions hand to the audit callback of a handler.
type dbTx = *sql.Tx

// docReq is what every documentation handler needs to know about its request.
type docReq struct {
	v    *docsapp.Viewer
	org  *db.Org
	area *docs.Area // nil on pages of every area (search, handbook)
	l    *i18n.Localizer
	base string // /o/<slug>/docs/<area>
}

// viewer is the person of the request as the documentation sees them, in the route's organisation (nil
// on staff pages outside any organisation).
func (s *Server) viewer(c *echo.Context) *docsapp.Viewer {
	u := currentUser(c)
	org, role := currentOrg(c)
	return &docsapp.Viewer{ID: u.ID, Name: u.DisplayName(), Staff: u.IsStaff(), Admin: u.IsAdmin(), Org: org, Role: role,
		L: i18n.From(c.Request().Context()), IP: c.RealIP(), UserAgent: c.Request().UserAgent()}
}

// docRequest reads the route's organisation and, where the route names one, its area (404 when unknown).
func (s *Server) docRequest(c *echo.Context) (*docReq, error) {
	v := s.viewer(c)
	r := &docReq{v: v, org: v.Org, l: v.L}
	if c.Param("area") == "" {
		return r, nil
	}
	// With the MSP's custom fields: such an area is a copy of the one in package docs (compare by name).
	area, ok, err := s.areaFor(c.Request().Context(), c.Param("area"))
	if err != nil {
		return nil, err
	}
	if !ok {
		return nil, echo.ErrNotFound
	}
	r.area, r.base = area, "/o/"+v.Org.Slug+"/docs/"+area.Name
	return r, nil
}

// itemID is the route's item id; 0 (found nowhere) when it is not a number.
func itemID(c *echo.Context) int64 {
	id, _ := strconv.ParseInt(c.Param("id"), 10, 64)
	return id
}

func (r *docReq) itemHref(id int64) string { return r.base + "/" + strconv.FormatInt(id, 10) }

// docsNav builds the menu with the count of each area in the scope (the organisation as the viewer sees
// it); current is the area shown, search what was searched for. The organisation's home page shows the
// counts as tiles too; other pages take docsMenu.
func (s *Server) docsNav(c *echo.Context, org *db.Org, scope db.DocScope, current, search string) (views.DocsNav, error) {
	counts, err := s.docs.Counts(c.Request().Context(), scope)
	if err != nil {
		return views.DocsNav{}, err
	}
	return menuNav(org, counts, current, search), nil
}

func menuNav(org *db.Org, counts map[string]int, current, search string) views.DocsNav {
	n := navHead(org, search)
	for _, a := range docs.Areas {
		n.Areas = append(n.Areas, views.AreaLink{Name: a.Name, TitleKey: a.TitleKey(), Href: "/o/" + org.Slug + "/docs/" + a.Name,
			Count: counts[a.Name], Current: a.Name == current})
	}
	n.Extra = docsNavExtra(org, current)
	return n
}

// navHead is the part of the menu that is not in the cached list: the organisation and the search form.
func navHead(org *db.Org, search string) views.DocsNav {
	return views.DocsNav{OrgName: org.Name, SearchHref: "/o/" + org.Slug + "/search", Search: search}
}

// docsMenu is the menu of a documentation page: its list of areas with their counts from the cache of
// fragments (the counts are read only when it is rendered), and the search form with the request's search.
func (s *Server) docsMenu(c *echo.Context, org *db.Org, scope db.DocScope, current, search string) (views.DocsNav, error) {
	ctx := c.Request().Context()
	// The list depends on the scope alone (staff see staff-only items counted): a viewer of it.
	v := &docsapp.Viewer{Staff: scope.StaffView, Org: org, L: i18n.From(ctx)}
	html, err := s.docs.MenuHTML(ctx, v, current, func(counts map[string]int, w io.Writer) error {
		return views.DocsMenuList(menuNav(org, counts, current, "")).Render(ctx, w)
	})
	n := navHead(org, search)
	n.HTML = html
	return n, err
}

// nav is the menu of a documentation page.
func (s *Server) nav(c *echo.Context, r *docReq, search string) (views.DocsNav, error) {
	current := ""
	if r.area != nil {
		current = r.area.Name
	}
	return s.docsMenu(c, r.org, r.v.Scope(), current, search)
}

// cell formats one value of an item: links for e-mail, phone and web addresses, translated options,
// highlighted warranty ends, contact names.
func cell(l *i18n.Localizer, area *docs.Area, f docs.Field, it *db.DocItem, contacts map[string]string, now time.Time) views.Cell {
	v := it.Fields[f.Name]
	if f.Name == "name" {
		return views.Cell{Text: it.Name}
	}
	c := views.Cell{Text: v}
	switch f.Kind {
	case docs.Email:
		if v != "" {
			c.Href = "mailto:" + v
		}
	case docs.Phone:
		if v != "" {
			c.Href = "tel:" + views.TelHref(v)
		}
	case docs.URL:
		if strings.HasPrefix(v, "https://") || strings.HasPrefix(v, "http://") {
			c.Href = v
		}
	case docs.Enum:
		if v != "" {
			c.Text = l.T(f.OptionKey(v))
		}
	case docs.Bool:
		c.Text = ""
		if v == "1" {
			c.Text = l.T("docs.yes")
		}
	case docs.Date:
		if d, err := time.ParseInLocation("2006-01-02", v, l.TZ); err == nil {
			c.Text = l.Date(d)
			if f.Name == "warranty_end" {
				c.State, c.Highlight = warrantyHighlight(docs.WarrantyState(v, now, l.TZ))
			}
		}
	case docs.Contact:
		c.Text = contacts[v]
	}
	return c
}

// boolKey is the translation key of a Bool value.
func boolKey(v string) string {
	if v == "1" {
		return "docs.yes"
	}
	return "docs.no"
}

// secretCopy is the copy button of a secret field of the item at itemBase: the script fetches the value
// (audited as a reveal) and confirms a successful copy (audited as a copy).
func secretCopy(itemBase, id, labelKey, field string) *views.CopyButton {
	return &views.CopyButton{ID: id, LabelKey: labelKey, URL: itemBase + "/copy/" + field, ConfirmURL: itemBase + "/copied/" + field}
}

// noStore keeps a response with a secret out of every cache and out of htmx's history.
func noStore(c *echo.Context) {
	h := c.Response().Header()
	h.Set("Cache-Control", "no-store")
	h.Set("Pragma", "no-cache")
	h.Set("HX-Push-Url", "false")
}
