package handlers

import (
	"io"
	"maps"
	"net/http"
	"net/url"
	"strconv"
	"strings"

	"github.com/labstack/echo/v5"

	"portier/docs"
	"portier/docsapp"
	"portier/views"
)

// maxPage bounds the page number: beyond it the offset would overflow.
const maxPage = 1_000_000

func (s *Server) docsList(c *echo.Context) error {
	r, err := s.docRequest(c)
	if err != nil {
		return err
	}
	qp := c.QueryParams()
	for _, vs := range qp {
		if len(vs) > 1 {
			return echo.ErrBadRequest // the list's links and form send each parameter once
		}
	}
	lq := docsapp.ListQuery{Search: qp.Get("q"), Sort: qp.Get("sort"), Desc: qp.Get("desc") == "1", Page: 1, Filters: map[string]string{}}
	if vs, ok := qp["page"]; ok {
		// A page number that is not one (or absurdly large) is refused rather than quietly shown as page 1.
		if lq.Page, err = strconv.Atoi(vs[0]); err != nil || lq.Page < 1 || lq.Page > maxPage {
			return echo.ErrBadRequest
		}
	}
	for k, vs := range qp {
		if name, ok := strings.CutPrefix(k, "f."); ok {
			lq.Filters[name] = vs[0]
		}
	}
	ctx := c.Request().Context()
	shell := s.shell(c, r.l.T(r.area.TitleKey()))
	if !s.docs.Caching() {
		// The uncached path: the page read and rendered in one go, as the cached path must write it too
		// (TestDocListFragmentParity compares them byte for byte).
		p, err := s.docs.List(ctx, r.v, r.area, lq)
		if err != nil {
			return err
		}
		nav, err := s.nav(c, r, "")
		if err != nil {
			return err
		}
		v := docListView(r, p)
		v.Nav = nav
		flash := s.listFlash(c, r)
		v.FlashKey, v.FlashArgs, v.UndoHref = flash.FlashKey, flash.FlashArgs, flash.UndoHref
		return s.render(c, http.StatusOK, views.DocList(shell, v), nil)
	}
	content, err := s.docs.ListHTML(ctx, r.v, r.area, lq, func(p *docsapp.Page, w io.Writer) error {
		nav, err := s.nav(c, r, "")
		if err != nil {
			return err
		}
		v := docListView(r, p)
		v.Nav = nav
		return views.RenderDocListContent(ctx, w, v)
	})
	if err != nil {
		return err
	}
	return s.render(c, http.StatusOK, views.DocListCached(shell, content, s.listFlash(c, r)), nil)
}

// docListView builds the cached part of the list page from the page alone (see docsapp.Service.ListHTML:
// nothing of the person or the request): columns with their sort links, filters, rows with their copy
// buttons, paging links that keep the query as applied, and the bar of bulk actions for staff.
func docListView(r *docReq, p *docsapp.Page) views.DocListView {
	area := r.area
	v := views.DocListView{Area: area.Name, TitleKey: area.TitleKey(), ListHref: r.base, Search: p.Search,
		Sort: p.Sort, Desc: p.Desc, Total: p.Total, Page: p.Page, Pages: p.Pages}
	if r.v.CanEdit(area) {
		v.NewHref = r.base + "/new"
	}
	v.ExportHref = "/o/" + r.org.Slug + "/export/" + area.Name
	if r.v.CanImport() {
		v.ImportHref = "/o/" + r.org.Slug + "/import/" + area.Name
	}
	var listCopy docs.Field
	for _, f := range area.Fields {
		if f.ListCopy && listCopy.Name == "" {
			listCopy = f
			v.CopyKey = f.LabelKey(area.Name)
		}
	}
	// Links keep the query as applied, not as sent: what was ignored (an unknown sort, a filter that is
	// none) stays out, so that queries alike render alike.
	applied := url.Values{}
	if p.Search != "" {
		applied.Set("q", p.Search)
	}
	if p.Sort != "" {
		applied.Set("sort", p.Sort)
	}
	if p.Desc {
		applied.Set("desc", "1")
	}
	for k, val := range p.Filters {
		applied.Set("f."+k, val)
	}
	if p.Warranty != "" {
		applied.Set("f.warranty_end", p.Warranty)
	}
	link := func(mod func(url.Values)) string {
		vals := maps.Clone(applied)
		mod(vals)
		if enc := vals.Encode(); enc != "" {
			return r.base + "?" + enc
		}
		return r.base
	}
	for _, f := range area.Fields {
		if !f.InList {
			continue
		}
		col := views.Column{LabelKey: f.LabelKey(area.Name)}
		desc := p.Sort == f.Name && !p.Desc || (p.Sort == "" && f.Name == "name" && !p.Desc)
		col.SortHref = link(func(v url.Values) {
			v.Set("sort", f.Name)
			if desc {
				v.Set("desc", "1")
			} else {
				v.Del("desc")
			}
			v.Del("page")
		})
		if p.Sort == f.Name || (p.Sort == "" && f.Name == "name") {
			col.Sorted = "ascending"
			if p.Desc {
				col.Sorted = "descending"
			}
		}
		v.Columns = append(v.Columns, col)
		if f.Filter {
			flt := views.Filter{Name: f.Name, LabelKey: f.LabelKey(area.Name)}
			opts := f.Options
			if f.Kind == docs.Bool {
				opts = []string{"1", ""}
			}
			for _, o := range opts {
				key := f.OptionKey(o)
				if f.Kind == docs.Bool {
					key = boolKey(o)
				}
				cur, set := p.Filters[f.Name]
				flt.Options = append(flt.Options, views.FilterOption{Value: o, LabelKey: key, Selected: set && cur == o})
			}
			v.Filters = append(v.Filters, flt)
		}
	}
	if w := warrantyFilter(r, p.Warranty); w != nil {
		v.Filters = append(v.Filters, *w)
	}
	now := p.Now
	// One allocation for all cells of the page.
	cells := make([]views.Cell, 0, len(p.Items)*len(v.Columns))
	v.Rows = make([]views.Row, 0, len(p.Items))
	for _, it := range p.Items {
		id := strconv.FormatInt(it.ID, 10)
		row := views.Row{ID: id, Href: r.base + "/" + id, StaffOnly: it.StaffOnly}
		start := len(cells)
		for _, f := range area.Fields {
			if f.InList {
				cell := cell(r.l, area, f, it, p.Contacts, now)
				if f.Copy {
					cell.Copy = &views.CopyButton{ID: f.Name + "-" + id, LabelKey: f.LabelKey(area.Name), ItemName: it.Name, Text: cell.Text}
				}
				cells = append(cells, cell)
			}
		}
		row.Cells = cells[start:len(cells):len(cells)]
		if listCopy.Name != "" && it.Secrets[listCopy.Name] {
			row.Copy = secretCopy(r.base+"/"+id, listCopy.Name+"-"+id, listCopy.LabelKey(area.Name), listCopy.Name)
			row.Copy.ItemName = it.Name
		}
		v.Rows = append(v.Rows, row)
	}
	if p.Page > 1 {
		v.PrevHref = link(func(v url.Values) { v.Set("page", strconv.Itoa(p.Page-1)) })
	}
	if p.Page < v.Pages {
		v.NextHref = link(func(v url.Values) { v.Set("page", strconv.Itoa(p.Page+1)) })
	}
	if r.v.Staff {
		v.Bulk = &views.BulkBar{Action: r.base + "/bulk"}
	}
	return v
}

// listFlash is the flash of a deletion (one item or a bulk one) with its undo: of this person's session.
func (s *Server) listFlash(c *echo.Context, r *docReq) views.DocListView {
	var v views.DocListView
	ctx := c.Request().Context()
	if key := s.sm.PopString(ctx, keyFlash); strings.HasPrefix(key, "docs.") {
		v.FlashKey = key
		v.FlashArgs = []any{"name", s.sm.PopString(ctx, "flash_name")}
		if undo := s.sm.GetInt64(ctx, "undo_item"); undo != 0 && key == "docs.deleted" {
			v.UndoHref = r.itemHref(undo) + "/restore"
		}
		if key == "docs.bulk.deleted" {
			v.UndoHref = r.base + "/bulk/restore"
		}
	}
	return v
}
