package handlers

import (
	"crypto/rand"
	"errors"
	"math/big"
	"net/http"
	"net/url"
	"strconv"
	"strings"
	"time"

	"github.com/labstack/echo/v5"

	"portier/db"
	"portier/docs"
	"portier/i18n"
	"portier/views"
)

// docsRoutes registers the documentation pages of an organisation, and staff search across all.
func (s *Server) docsRoutes() {
	g := s.e.Group("/o/:slug", s.complete, s.orgAccess)
	g.GET("/search", s.docsSearch)
	g.GET("/docs/:area", s.docsList)
	g.GET("/docs/:area/new", s.docsNew)
	g.POST("/docs/:area", s.docsCreate)
	g.GET("/docs/:area/:id", s.docsDetail)
	g.GET("/docs/:area/:id/edit", s.docsEdit)
	g.POST("/docs/:area/:id", s.docsUpdate)
	g.POST("/docs/:area/:id/delete", s.docsDelete)
	g.POST("/docs/:area/:id/restore", s.docsRestore)
	g.GET("/docs/:area/:id/history", s.docsHistory)
	g.POST("/docs/:area/:id/secret/:field", s.docsReveal)
	g.POST("/docs/:area/:id/copy/:field", s.docsCopy)
	g.POST("/docs/:area/:id/copied/:field", s.docsCopied)
	g.POST("/docs/:area/:id/qr", s.docsQR)
	g.POST("/docs/:area/:id/versions/:vid/secret/:field", s.docsRevealVersion)
	s.e.GET("/staff/search", s.staffSearch, s.complete, s.staffOnly)
}

// docReq is what every documentation handler needs to know about its request.
type docReq struct {
	u     *db.User
	org   *db.Org
	role  string
	area  *docs.Area
	scope db.DocScope
	l     *i18n.Localizer
	base  string // /o/<slug>/docs/<area>
}

func (s *Server) docRequest(c *echo.Context) (*docReq, error) {
	u := currentUser(c)
	org, role := currentOrg(c)
	area, ok, err := s.areaFor(c.Request().Context(), c.Param("area"))
	if err != nil {
		return nil, err
	}
	if !ok {
		return nil, echo.ErrNotFound
	}
	return &docReq{
		u: u, org: org, role: role, area: area,
		scope: db.DocScope{OrgID: org.ID, StaffView: u.IsStaff()},
		l:     i18n.From(c.Request().Context()),
		base:  "/o/" + org.Slug + "/docs/" + area.Name,
	}, nil
}

// docItem resolves a request for one live item of the route's organisation and area (404 otherwise).
// edit demands that the viewer may change it.
func (s *Server) docItem(c *echo.Context, edit bool) (*docReq, *db.DocItem, error) {
	r, err := s.docRequest(c)
	if err != nil {
		return nil, nil, err
	}
	if edit && !r.canEdit() {
		return nil, nil, echo.ErrNotFound
	}
	id, err := r.itemID(c)
	if err != nil {
		return nil, nil, err
	}
	it, err := s.db.DocGet(c.Request().Context(), r.scope, r.area.Name, id)
	return r, it, err
}

// canEdit: MSP staff edit everything; a customer's manager edits the contacts.
func (r *docReq) canEdit() bool {
	return r.u.IsStaff() || (r.role == "manager" && r.area.Name == docs.Contacts.Name)
}

func (r *docReq) itemID(c *echo.Context) (int64, error) {
	id, err := strconv.ParseInt(c.Param("id"), 10, 64)
	if err != nil || id <= 0 {
		return 0, echo.ErrNotFound
	}
	return id, nil
}

// docsNav builds the menu with the count of each area for this viewer.
func (s *Server) docsNav(c *echo.Context, org *db.Org, scope db.DocScope, current, search string) (views.DocsNav, error) {
	counts, err := s.docCounts(c.Request().Context(), scope)
	if err != nil {
		return views.DocsNav{}, err
	}
	n := views.DocsNav{OrgName: org.Name, SearchHref: "/o/" + org.Slug + "/search", Search: search}
	for _, a := range docs.Areas {
		n.Areas = append(n.Areas, views.AreaLink{Name: a.Name, TitleKey: a.TitleKey(), Href: "/o/" + org.Slug + "/docs/" + a.Name,
			Count: counts[a.Name], Current: a.Name == current})
	}
	n.Extra = docsNavExtra(org, current)
	return n, nil
}

const (
	pageSize = 50
	maxPage  = 1_000_000
)

func (s *Server) docsList(c *echo.Context) error {
	r, err := s.docRequest(c)
	if err != nil {
		return err
	}
	ctx := c.Request().Context()
	qp := c.QueryParams()
	q := db.DocQuery{DocScope: r.scope, Area: r.area.Name, Search: strings.TrimSpace(qp.Get("q")), Limit: pageSize,
		Filters: map[string]string{}}
	if len(q.Search) > 200 {
		q.Search = q.Search[:200]
	}
	if sortField := qp.Get("sort"); sortField == "updated" {
		q.Sort = sortField
	} else if f, ok := r.area.Field(sortField); ok && !f.IsSecret() && f.InList {
		q.Sort = sortField
	}
	q.Desc = qp.Get("desc") == "1"
	for _, vs := range qp {
		if len(vs) > 1 {
			return echo.ErrBadRequest // the list's links and form send each parameter once
		}
	}
	page := 1
	if vs, ok := qp["page"]; ok {
		// A page number that is not one (or absurdly large, where the offset would overflow) is refused
		// rather than quietly shown as page 1.
		if page, err = strconv.Atoi(vs[0]); err != nil || page < 1 || page > maxPage {
			return echo.ErrBadRequest
		}
	}
	q.Offset = (page - 1) * pageSize
	for _, f := range r.area.Fields {
		if !f.Filter {
			continue
		}
		v, present := qp["f."+f.Name]
		if !present || v[0] == "*" || v[0] == "" && f.Kind != docs.Bool {
			continue
		}
		if clean, e := f.Clean(v[0]); e == "" {
			q.Filters[f.Name] = clean
		}
	}
	warranty := warrantyFilter(r, qp, s.now(), &q)
	items, total, err := s.docList(ctx, q)
	if err != nil {
		return err
	}
	nav, err := s.docsNav(c, r.org, r.scope, r.area.Name, "")
	if err != nil {
		return err
	}
	contacts, err := s.contactsShown(c, r, items, true)
	if err != nil {
		return err
	}
	v := views.DocListView{Nav: nav, Area: r.area.Name, TitleKey: r.area.TitleKey(), ListHref: r.base, Search: q.Search,
		Sort: q.Sort, Desc: q.Desc, Total: total, Page: page, Pages: (total + pageSize - 1) / pageSize}
	if r.canEdit() {
		v.NewHref = r.base + "/new"
	}
	v.ExportHref = "/o/" + r.org.Slug + "/export/" + r.area.Name
	if r.u.IsStaff() {
		v.ImportHref = "/o/" + r.org.Slug + "/import/" + r.area.Name
	}
	var listCopy docs.Field
	for _, f := range r.area.Fields {
		if f.ListCopy && listCopy.Name == "" {
			listCopy = f
			v.CopyKey = f.LabelKey(r.area.Name)
		}
	}
	link := func(mod func(url.Values)) string {
		vals := url.Values{}
		for k, vs := range qp {
			if k == "q" || k == "sort" || k == "desc" || strings.HasPrefix(k, "f.") {
				vals[k] = vs
			}
		}
		mod(vals)
		if enc := vals.Encode(); enc != "" {
			return r.base + "?" + enc
		}
		return r.base
	}
	for _, f := range r.area.Fields {
		if !f.InList {
			continue
		}
		col := views.Column{LabelKey: f.LabelKey(r.area.Name)}
		desc := q.Sort == f.Name && !q.Desc || (q.Sort == "" && f.Name == "name" && !q.Desc)
		col.SortHref = link(func(v url.Values) {
			v.Set("sort", f.Name)
			if desc {
				v.Set("desc", "1")
			} else {
				v.Del("desc")
			}
			v.Del("page")
		})
		if q.Sort == f.Name || (q.Sort == "" && f.Name == "name") {
			col.Sorted = "ascending"
			if q.Desc {
				col.Sorted = "descending"
			}
		}
		v.Columns = append(v.Columns, col)
		if f.Filter {
			flt := views.Filter{Name: f.Name, LabelKey: f.LabelKey(r.area.Name)}
			opts := f.Options
			if f.Kind == docs.Bool {
				opts = []string{"1", ""}
			}
			for _, o := range opts {
				key := f.OptionKey(o)
				if f.Kind == docs.Bool {
					key = boolKey(o)
				}
				cur, set := q.Filters[f.Name]
				flt.Options = append(flt.Options, views.FilterOption{Value: o, LabelKey: key, Selected: set && cur == o})
			}
			v.Filters = append(v.Filters, flt)
		}
	}
	if warranty != nil {
		v.Filters = append(v.Filters, *warranty)
	}
	now := s.now()
	// One allocation for all cells of the page (growing each row's slice was a measurable part of a list).
	cells := make([]views.Cell, 0, len(items)*len(v.Columns))
	v.Rows = make([]views.Row, 0, len(items))
	for _, it := range items {
		id := strconv.FormatInt(it.ID, 10)
		row := views.Row{ID: id, Href: r.base + "/" + id, StaffOnly: it.StaffOnly}
		start := len(cells)
		for _, f := range r.area.Fields {
			if f.InList {
				cell := s.cell(r, f, it, contacts, now)
				if f.Copy {
					cell.Copy = &views.CopyButton{ID: f.Name + "-" + id, LabelKey: f.LabelKey(r.area.Name), ItemName: it.Name, Text: cell.Text}
				}
				cells = append(cells, cell)
			}
		}
		row.Cells = cells[start:len(cells):len(cells)]
		if listCopy.Name != "" && it.Secrets[listCopy.Name] {
			row.Copy = secretCopy(r.base+"/"+id, listCopy.Name+"-"+id, listCopy.LabelKey(r.area.Name), listCopy.Name)
			row.Copy.ItemName = it.Name
		}
		v.Rows = append(v.Rows, row)
	}
	if page > 1 {
		v.PrevHref = link(func(v url.Values) { v.Set("page", strconv.Itoa(page-1)) })
	}
	if page < v.Pages {
		v.NextHref = link(func(v url.Values) { v.Set("page", strconv.Itoa(page+1)) })
	}
	sctx := c.Request().Context()
	if key := s.sm.PopString(sctx, keyFlash); strings.HasPrefix(key, "docs.") {
		v.FlashKey = key
		v.FlashArgs = []any{"name", s.sm.PopString(sctx, "flash_name")}
		if undo := s.sm.GetInt64(sctx, "undo_item"); undo != 0 && key == "docs.deleted" {
			v.UndoHref = r.base + "/" + strconv.FormatInt(undo, 10) + "/restore"
		}
		if key == "docs.bulk.deleted" {
			v.UndoHref = r.base + "/bulk/restore"
		}
	}
	v.Bulk = bulkBar(c, r.base)
	return s.render(c, http.StatusOK, views.DocList(s.shell(c, r.l.T(r.area.TitleKey())), v), nil)
}

func boolKey(v string) string {
	if v == "1" {
		return "docs.yes"
	}
	return "docs.no"
}

// cell formats one list cell: links for e-mail, phone and web addresses, translated options, highlighted
// warranty ends.
func (s *Server) cell(r *docReq, f docs.Field, it *db.DocItem, contacts map[string]string, now time.Time) views.Cell {
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
			c.Href = "tel:" + telDigits(v)
		}
	case docs.URL:
		if strings.HasPrefix(v, "https://") || strings.HasPrefix(v, "http://") {
			c.Href = v
		}
	case docs.Enum:
		if v != "" {
			c.Text = r.l.T(f.OptionKey(v))
		}
	case docs.Bool:
		c.Text = ""
		if v == "1" {
			c.Text = r.l.T("docs.yes")
		}
	case docs.Date:
		if d, err := time.ParseInLocation("2006-01-02", v, r.l.TZ); err == nil {
			c.Text = r.l.Date(d)
			if f.Name == "warranty_end" {
				c.State, c.Highlight = warrantyHighlight(docs.WarrantyState(v, now, r.l.TZ))
			}
		}
	case docs.Contact:
		c.Text = contacts[v]
	}
	return c
}

func telDigits(p string) string {
	var b strings.Builder
	for i, r := range p {
		if r >= '0' && r <= '9' || r == '+' && i == 0 {
			b.WriteRune(r)
		}
	}
	return b.String()
}

// contactNames maps contact ids to names for areas that refer to contacts.
func (s *Server) contactNames(c *echo.Context, r *docReq) (map[string]string, error) {
	need := false
	for _, f := range r.area.Fields {
		need = need || f.Kind == docs.Contact
	}
	if !need {
		return nil, nil
	}
	items, _, err := s.db.DocList(c.Request().Context(), db.DocQuery{DocScope: r.scope, Area: docs.Contacts.Name, Limit: 200})
	if err != nil {
		return nil, err
	}
	m := make(map[string]string, len(items))
	for _, it := range items {
		m[strconv.FormatInt(it.ID, 10)] = it.Name
	}
	return m, nil
}

// contactsShown maps to names only the contacts that the shown items refer to (in list columns, for a
// list), with one small query: loading every contact of the organisation for each page was the larger
// part of a list page's time.
func (s *Server) contactsShown(c *echo.Context, r *docReq, items []*db.DocItem, listOnly bool) (map[string]string, error) {
	var ids []int64
	for _, f := range r.area.Fields {
		if f.Kind != docs.Contact || listOnly && !f.InList {
			continue
		}
		for _, it := range items {
			if id, err := strconv.ParseInt(it.Fields[f.Name], 10, 64); err == nil && id > 0 {
				ids = append(ids, id)
			}
		}
	}
	if len(ids) == 0 {
		return nil, nil
	}
	names, err := s.db.DocNames(c.Request().Context(), r.scope, docs.Contacts.Name, ids)
	if err != nil {
		return nil, err
	}
	m := make(map[string]string, len(names))
	for id, n := range names {
		m[strconv.FormatInt(id, 10)] = n
	}
	return m, nil
}

func (s *Server) docsDetail(c *echo.Context) error {
	r, it, err := s.docItem(c, false)
	if err != nil {
		return err
	}
	id := it.ID
	nav, err := s.docsNav(c, r.org, r.scope, r.area.Name, "")
	if err != nil {
		return err
	}
	contacts, err := s.contactsShown(c, r, []*db.DocItem{it}, false)
	if err != nil {
		return err
	}
	itemBase := r.base + "/" + strconv.FormatInt(id, 10)
	v := views.DocDetailView{Nav: nav, Area: r.area.Name, TitleKey: r.area.TitleKey(), Name: it.Name, StaffOnly: it.StaffOnly,
		UpdatedBy: it.UpdatedBy, UpdatedAt: r.l.DateTime(it.UpdatedAt), ListHref: r.base}
	if v.UpdatedBy == "" {
		v.UpdatedBy = "—"
	}
	now := s.now()
	for _, f := range r.area.Fields {
		if f.Name == "name" {
			if f.Copy {
				v.NameCopy = &views.CopyButton{ID: "name", LabelKey: f.LabelKey(r.area.Name), Text: it.Name}
			}
			continue
		}
		if !r.area.Shown(f.Name, it.Fields["kind"], it.Fields[f.Name] != "" || it.Secrets[f.Name]) {
			continue
		}
		df := views.DetailField{Name: f.Name, LabelKey: f.LabelKey(r.area.Name)}
		if f.IsSecret() {
			df.Secret, df.HasValue, df.TOTP = true, it.Secrets[f.Name], f.Kind == docs.TOTPSeed
			df.RevealURL = itemBase + "/secret/" + f.Name
			df.Copy = secretCopy(itemBase, f.Name, df.LabelKey, f.Name)
			if f.Name == "config" && confDownloadable(r.area, it.Fields["kind"], it.Secrets[f.Name]) {
				df.DownloadURL = itemBase + "/conf"
			}
		} else {
			cell := s.cell(r, f, it, contacts, now)
			df.Text, df.Href, df.Highlight, df.State = cell.Text, cell.Href, cell.Highlight, cell.State
			df.Multiline = f.Kind == docs.LongText
			if f.Kind == docs.Contact && it.Fields[f.Name] != "" && cell.Text != "" {
				df.Href = "/o/" + r.org.Slug + "/docs/contacts/" + it.Fields[f.Name]
			}
			if f.Copy && cell.Text != "" {
				df.Copy = &views.CopyButton{ID: f.Name, LabelKey: df.LabelKey, Text: cell.Text}
			}
		}
		v.Fields = append(v.Fields, df)
	}
	switch {
	case r.area.Name == docs.Wireless.Name && (it.Secrets["key"] || it.Fields["security"] == "open"):
		v.QRURL, v.QRLabelKey = itemBase+"/qr", "docs.qr.wifi"
	case r.area.Name == docs.VPN.Name && it.Fields["kind"] == "wireguard" && it.Secrets["config"]:
		v.QRURL, v.QRLabelKey = itemBase+"/qr", "docs.qr.wireguard"
	}
	if r.canEdit() {
		v.EditHref, v.DeleteHref = itemBase+"/edit", itemBase+"/delete"
	}
	if r.u.IsStaff() {
		v.HistoryHref = itemBase + "/history"
	}
	if v.Connections, err = s.detailConnections(c, it); err != nil {
		return err
	}
	if err := s.auditItemView(c, r, it); err != nil {
		// Looking at an item (no secret) stays possible while the disk is full or read-only; only the
		// access-log line is missing then. Reveals and copies still refuse without their audit entry.
		if !db.StorageTrouble(err) {
			return err
		}
		s.log.Warn("item view not audited: storage", "err", err)
	}
	return s.render(c, http.StatusOK, views.DocDetail(s.shell(c, it.Name), v), nil)
}

// secretCopy is the copy button of a secret field of the item at itemBase: the script fetches the value
// (audited as a reveal) and confirms a successful copy (audited as a copy).
func secretCopy(itemBase, id, labelKey, field string) *views.CopyButton {
	return &views.CopyButton{ID: id, LabelKey: labelKey, URL: itemBase + "/copy/" + field, ConfirmURL: itemBase + "/copied/" + field}
}

// auditItemView records that someone looked at an item, once per person and item per window, so the customer's
// access log says who viewed what without a line per click.
func (s *Server) auditItemView(c *echo.Context, r *docReq, it *db.DocItem) error {
	return s.auditSecretUse(c, r, it, "docs.view", "")
}

// auditSecretUse writes one audit entry per person, item, field and action per five minutes (field "" for
// a view). The field counts: a stored password's one-time code shown after its password is a second
// secret and gets its own entry.
func (s *Server) auditSecretUse(c *echo.Context, r *docReq, it *db.DocItem, action, field string) error {
	_, err := s.db.AuditOnce(c.Request().Context(), s.secretAuditEntry(c, r, it, action, field), it.ID, auditWindow)
	return err
}

// auditWindow is how long one entry covers further reveals (or copies) of the same secret by the same person.
const auditWindow = 5 * time.Minute

// secretAuditEntry names the item and the field by their codes (the log shows them in the reader's
// language); the field is also kept on its own for de-duplication. Never the value.
func (s *Server) secretAuditEntry(c *echo.Context, r *docReq, it *db.DocItem, action, field string) db.AuditEntry {
	target := docItemTarget(it.ID, r.area.Name, field, it.Name)
	if f, ok := r.area.Field(field); ok && f.Custom {
		// A custom field has no translation to look up when the log is read: its label, as the
		// administrator typed it, goes into the entry (the field's name stays in e.Field for de-duplication).
		target = docItemTarget(it.ID, r.area.Name, "", it.Name+" ("+f.Label+")")
	}
	e := s.auditEntry(c, r.org.ID, action, target)
	e.Field = field
	e.StaffOnly = it.StaffOnly
	return e
}

// generatePassword makes a 20-character password from an alphabet without look-alikes, with at least one
// character of every class so that any composition rule on the target system is met.
func generatePassword() (string, error) {
	const (
		lower   = "abcdefghijkmnopqrstuvwxyz"
		upper   = "ABCDEFGHJKLMNPQRSTUVWXYZ"
		digits  = "23456789"
		symbols = "!#%+-=?@_"
	)
	all := lower + upper + digits + symbols
	for {
		b := make([]byte, 20)
		for i := range b {
			n, err := rand.Int(rand.Reader, big.NewInt(int64(len(all))))
			if err != nil {
				return "", err
			}
			b[i] = all[n.Int64()]
		}
		p := string(b)
		if strings.ContainsAny(p, lower) && strings.ContainsAny(p, upper) && strings.ContainsAny(p, digits) && strings.ContainsAny(p, symbols) {
			return p, nil
		}
	}
}

// formFields builds the inputs of an item form from the area's definition, the values to show and the
// problems found.
func (s *Server) formFields(c *echo.Context, r *docReq, values map[string]string, errs map[string]string, it *db.DocItem) ([]views.FormField, error) {
	var contacts []*db.DocItem
	var out []views.FormField
	for _, f := range r.area.Fields {
		ff := views.FormField{Name: f.Name, LabelKey: f.LabelKey(r.area.Name), Value: values[f.Name], ErrorKey: errs[f.Name],
			Required: f.Required, MaxLength: f.MaxLen()}
		switch f.Kind {
		case docs.LongText:
			ff.Type = "textarea"
		case docs.Email:
			ff.Type = "email"
		case docs.Phone:
			ff.Type = "tel"
		case docs.URL:
			ff.Type = "url"
		case docs.Date:
			ff.Type = "date"
		case docs.Port, docs.Int:
			ff.Type = "number"
		case docs.Bool:
			ff.Type = "checkbox"
		case docs.Enum:
			ff.Type = "select"
			for _, o := range f.Options {
				ff.Options = append(ff.Options, views.FilterOption{Value: o, LabelKey: f.OptionKey(o), Selected: values[f.Name] == o})
			}
		case docs.Secret, docs.TOTPSeed:
			ff.Type, ff.Value = "secret", ""
			ff.HasValue = it != nil && it.Secrets[f.Name]
			ff.Generate = f.Kind == docs.Secret && r.area.Name == docs.Passwords.Name
		case docs.SecretText:
			ff.Type, ff.Value = "secrettext", ""
			ff.HasValue = it != nil && it.Secrets[f.Name]
		case docs.Contact:
			ff.Type = "contact"
			if contacts == nil {
				var err error
				if contacts, _, err = s.db.DocList(c.Request().Context(), db.DocQuery{DocScope: r.scope, Area: docs.Contacts.Name, Limit: 200}); err != nil {
					return nil, err
				}
			}
			for _, ct := range contacts {
				id := strconv.FormatInt(ct.ID, 10)
				ff.Options = append(ff.Options, views.FilterOption{Value: id, LabelKey: ct.Name, Selected: values[f.Name] == id})
			}
		default:
			ff.Type = "text"
		}
		out = append(out, ff)
	}
	return out, nil
}

func (s *Server) docsNew(c *echo.Context) error {
	r, err := s.docRequest(c)
	if err != nil {
		return err
	}
	if !r.canEdit() {
		return echo.ErrNotFound
	}
	return s.renderDocForm(c, r, http.StatusOK, nil, map[string]string{}, nil, false, "")
}

func (s *Server) docsEdit(c *echo.Context) error {
	r, it, err := s.docItem(c, true)
	if err != nil {
		return err
	}
	vals := map[string]string{"name": it.Name}
	for k, v := range it.Fields {
		vals[k] = v
	}
	return s.renderDocForm(c, r, http.StatusOK, it, vals, nil, it.StaffOnly, "")
}

func (s *Server) renderDocForm(c *echo.Context, r *docReq, status int, it *db.DocItem, vals, errs map[string]string, staffOnly bool, errKey string) error {
	fields, err := s.formFields(c, r, vals, errs, it)
	if err != nil {
		return err
	}
	nav, err := s.docsNav(c, r.org, r.scope, r.area.Name, "")
	if err != nil {
		return err
	}
	v := views.DocFormView{Nav: nav, Area: r.area.Name, TitleKey: r.area.TitleKey(), Fields: fields, StaffOnly: staffOnly,
		CanStaffOnly: r.u.IsStaff(), ErrorKey: errKey, Action: r.base, CancelHref: r.base,
		Heading: r.l.T("docs.new_heading." + r.area.Name)}
	if it != nil {
		itemBase := r.base + "/" + strconv.FormatInt(it.ID, 10)
		v.Action, v.CancelHref, v.Version = itemBase, itemBase, it.Version
		v.Heading = r.l.T("docs.edit_heading", "name", it.Name)
	}
	return s.render(c, status, views.DocForm(s.shell(c, v.Heading), v), views.DocFormFragment(v))
}

// parseDocForm reads and validates an item form. It returns the change, the values to show again and the
// problems per field (translation keys).
func (s *Server) parseDocForm(c *echo.Context, r *docReq) (db.DocChange, map[string]string, map[string]string, error) {
	form, err := c.FormValues()
	if err != nil {
		var mbe *http.MaxBytesError
		if errors.As(err, &mbe) {
			return db.DocChange{}, nil, nil, err
		}
		return db.DocChange{}, nil, nil, echo.ErrBadRequest
	}
	// The forms send every name once: a repeated one (a field, the version) is not ours to guess at.
	for _, vs := range form {
		if len(vs) > 1 {
			return db.DocChange{}, nil, nil, echo.ErrBadRequest
		}
	}
	raw := map[string]string{}
	for _, f := range r.area.Fields {
		v := form.Get(f.Name)
		if f.Kind == docs.Bool {
			if v != "" {
				v = "1"
			}
		}
		raw[f.Name] = v
	}
	ch := db.DocChange{OrgID: r.org.ID, Area: r.area.Name, Fields: map[string]string{}, Secrets: map[string]string{}}
	errs := map[string]string{}
	for _, f := range r.area.Fields {
		v := raw[f.Name]
		if f.IsSecret() {
			if form.Get("generate."+f.Name) != "" && f.Kind == docs.Secret {
				if v, err = generatePassword(); err != nil {
					return ch, nil, nil, err
				}
			}
			if form.Get("clear."+f.Name) != "" {
				ch.Clear = append(ch.Clear, f.Name)
				continue
			}
			if v == "" {
				continue
			}
			clean, e := f.Clean(v)
			if e != "" {
				errs[f.Name] = e
				continue
			}
			ch.Secrets[f.Name] = clean
			continue
		}
		clean, e := f.Clean(v)
		if e != "" {
			errs[f.Name] = e
			continue
		}
		if f.Kind == docs.Contact && clean != "" {
			cid, _ := strconv.ParseInt(clean, 10, 64)
			if _, err := s.db.DocGet(c.Request().Context(), r.scope, docs.Contacts.Name, cid); err != nil {
				errs[f.Name] = "docs.err.contact"
				continue
			}
		}
		if f.Name == "name" {
			ch.Name = clean
		} else if clean != "" {
			ch.Fields[f.Name] = clean
		}
	}
	ch.StaffOnly = r.u.IsStaff() && form.Get("staff_only") != ""
	ch.Version, _ = strconv.Atoi(form.Get("version"))
	return ch, raw, errs, nil
}

func (s *Server) docActor(r *docReq) db.DocActor {
	return db.DocActor{ID: r.u.ID, Name: r.u.DisplayName()}
}

func (s *Server) docsCreate(c *echo.Context) error {
	r, err := s.docRequest(c)
	if err != nil {
		return err
	}
	if !r.canEdit() {
		return echo.ErrNotFound
	}
	ch, raw, errs, err := s.parseDocForm(c, r)
	if err != nil {
		return err
	}
	if len(errs) > 0 {
		return s.renderDocForm(c, r, http.StatusUnprocessableEntity, nil, raw, errs, ch.StaffOnly, "docs.fix_errors")
	}
	ctx := c.Request().Context()
	id, err := s.db.DocCreate(ctx, s.cfg.Sealer, ch, s.docActor(r), func(tx dbTx, id int64) error {
		e := s.auditEntry(c, r.org.ID, "docs.create", docItemTarget(id, r.area.Name, "", ch.Name))
		e.StaffOnly = ch.StaffOnly
		return s.db.Audit(ctx, tx, e)
	})
	if err != nil {
		return err
	}
	return s.redirect(c, r.base+"/"+strconv.FormatInt(id, 10))
}

func (s *Server) docsUpdate(c *echo.Context) error {
	r, it, err := s.docItem(c, true)
	if err != nil {
		return err
	}
	id, ctx := it.ID, c.Request().Context()
	ch, raw, errs, err := s.parseDocForm(c, r)
	if err != nil {
		return err
	}
	if !r.u.IsStaff() {
		ch.StaffOnly = it.StaffOnly
	}
	if len(errs) > 0 {
		it.Version = ch.Version
		return s.renderDocForm(c, r, http.StatusUnprocessableEntity, it, raw, errs, ch.StaffOnly, "docs.fix_errors")
	}
	err = s.db.DocUpdate(ctx, s.cfg.Sealer, id, ch, s.docActor(r), func(tx dbTx) error {
		e := s.auditEntry(c, r.org.ID, "docs.update", docItemTarget(id, r.area.Name, "", ch.Name))
		e.StaffOnly = ch.StaffOnly
		return s.db.Audit(ctx, tx, e)
	})
	if errors.Is(err, db.ErrConflict) {
		// Someone saved meanwhile: keep what this person typed, show the newer version's number, and say so.
		cur, gerr := s.db.DocGet(ctx, r.scope, r.area.Name, id)
		if gerr != nil {
			return gerr
		}
		return s.renderDocForm(c, r, http.StatusConflict, cur, raw, nil, ch.StaffOnly, "docs.conflict")
	}
	if err != nil {
		return err
	}
	return s.redirect(c, r.base+"/"+strconv.FormatInt(id, 10))
}

// undoWindow is how long a deletion can be undone from the list.
const undoWindow = 10 * time.Minute

func (s *Server) docsDelete(c *echo.Context) error {
	r, it, err := s.docItem(c, true)
	if err != nil {
		return err
	}
	id, ctx := it.ID, c.Request().Context()
	err = s.db.DocSetDeleted(ctx, s.cfg.Sealer, r.org.ID, id, true, s.docActor(r), func(tx dbTx) error {
		e := s.auditEntry(c, r.org.ID, "docs.delete", docItemTarget(id, r.area.Name, "", it.Name))
		e.StaffOnly = it.StaffOnly
		return s.db.Audit(ctx, tx, e)
	})
	if err != nil {
		return err
	}
	s.sm.Put(ctx, keyFlash, "docs.deleted")
	s.sm.Put(ctx, "flash_name", it.Name)
	s.sm.Put(ctx, "undo_item", id)
	return s.redirect(c, r.base)
}

func (s *Server) docsRestore(c *echo.Context) error {
	r, err := s.docRequest(c)
	if err != nil {
		return err
	}
	if !r.canEdit() {
		return echo.ErrNotFound
	}
	id, err := r.itemID(c)
	if err != nil {
		return err
	}
	ctx := c.Request().Context()
	it, err := s.db.DocGetDeleted(ctx, r.scope, id)
	if err != nil {
		return err
	}
	if it.Area != r.area.Name || s.now().Sub(it.DeletedAt) > undoWindow {
		return echo.ErrNotFound
	}
	err = s.db.DocSetDeleted(ctx, s.cfg.Sealer, r.org.ID, id, false, s.docActor(r), func(tx dbTx) error {
		e := s.auditEntry(c, r.org.ID, "docs.restore", docItemTarget(id, r.area.Name, "", it.Name))
		e.StaffOnly = it.StaffOnly
		return s.db.Audit(ctx, tx, e)
	})
	if err != nil {
		return err
	}
	s.sm.Remove(ctx, "undo_item")
	s.sm.Put(ctx, keyFlash, "docs.restored")
	s.sm.Put(ctx, "flash_name", it.Name)
	return s.redirect(c, r.base+"/"+strconv.FormatInt(id, 10))
}

func (s *Server) docsHistory(c *echo.Context) error {
	r, err := s.docRequest(c)
	if err != nil {
		return err
	}
	if !r.u.IsStaff() {
		return echo.ErrNotFound
	}
	id, err := r.itemID(c)
	if err != nil {
		return err
	}
	ctx := c.Request().Context()
	it, err := s.db.DocGet(ctx, r.scope, r.area.Name, id)
	if err != nil {
		return err
	}
	versions, err := s.db.DocHistory(ctx, r.scope, id)
	if err != nil {
		return err
	}
	nav, err := s.docsNav(c, r.org, r.scope, r.area.Name, "")
	if err != nil {
		return err
	}
	contacts, err := s.contactNames(c, r)
	if err != nil {
		return err
	}
	itemBase := r.base + "/" + strconv.FormatInt(id, 10)
	v := views.DocHistoryView{Nav: nav, Name: it.Name, BackHref: itemBase}
	for i := range versions {
		ver := &versions[i]
		e := views.HistoryEntry{Version: ver.Version, ChangeKey: "docs.change." + ver.Change, At: r.l.DateTime(ver.At), By: ver.By}
		var prev *db.DocVersion
		if i+1 < len(versions) {
			prev = &versions[i+1]
		}
		e.Changes, e.Secrets = s.historyDiff(r, prev, ver, itemBase, contacts, s.now())
		v.Entries = append(v.Entries, e)
	}
	if v.LinkEvents, err = s.linkHistory(c, it); err != nil {
		return err
	}
	return s.render(c, http.StatusOK, views.DocHistory(s.shell(c, r.l.T("docs.history_of", "name", it.Name)), v), nil)
}

func boolText(l *i18n.Localizer, b bool) string {
	if b {
		return l.T("docs.yes")
	}
	return l.T("docs.no")
}

// docsSearch searches the organisation's documentation.
func (s *Server) docsSearch(c *echo.Context) error {
	u := currentUser(c)
	org, _ := currentOrg(c)
	scope := db.DocScope{OrgID: org.ID, StaffView: u.IsStaff()}
	q := strings.TrimSpace(c.QueryParam("q"))
	if len(q) > 200 {
		q = q[:200]
	}
	items, err := s.db.DocSearch(c.Request().Context(), scope, false, q, 100)
	if err != nil {
		return err
	}
	nav, err := s.docsNav(c, org, scope, "", q)
	if err != nil {
		return err
	}
	l := i18n.From(c.Request().Context())
	v := views.SearchView{Nav: &nav, Query: q, Action: "/o/" + org.Slug + "/search"}
	for _, a := range docs.AreasFor(q) {
		for _, link := range nav.Areas {
			if link.Name == a.Name {
				v.Areas = append(v.Areas, link)
			}
		}
	}
	for _, it := range items {
		r := searchResult(it)
		r.Matches = searchMatches(it, q)
		v.Results = append(v.Results, r)
	}
	return s.render(c, http.StatusOK, views.Search(s.shell(c, l.T("docs.search.title")), v), nil)
}

// staffSearch searches every organisation (staff only).
func (s *Server) staffSearch(c *echo.Context) error {
	q := strings.TrimSpace(c.QueryParam("q"))
	if len(q) > 200 {
		q = q[:200]
	}
	items, err := s.db.DocSearch(c.Request().Context(), db.DocScope{StaffView: true}, true, q, 100)
	if err != nil {
		return err
	}
	l := i18n.From(c.Request().Context())
	v := views.SearchView{Query: q, Action: "/staff/search", ShowOrg: true}
	for _, it := range items {
		r := searchResult(it)
		r.Matches = searchMatches(it, q)
		v.Results = append(v.Results, r)
	}
	return s.render(c, http.StatusOK, views.Search(s.shell(c, l.T("docs.search.title")), v), nil)
}

func searchResult(it *db.DocItem) views.SearchResult {
	a, _ := docs.ByName(it.Area)
	return views.SearchResult{Href: "/o/" + it.OrgSlug + "/docs/" + it.Area + "/" + strconv.FormatInt(it.ID, 10),
		Name: it.Name, AreaKey: a.TitleKey(), OrgName: it.OrgName}
}
