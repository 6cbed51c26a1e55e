package docsapp

import (
	"context"
	"io"
	"maps"
	"slices"
	"strconv"
	"strings"
	"time"

	"portier/db"
	"portier/docs"
)

// PageSize is the number of items on a page of a list.
const PageSize = 50

// maxSearch bounds what is searched for, in bytes.
const maxSearch = 200

// ListQuery is what a list page asks for, as the person sent it; List decides what of it applies.
type ListQuery struct {
	Search  string
	Sort    string            // "updated" or a field shown in the list; anything else sorts by name
	Desc    bool              // descending
	Filters map[string]string // field name → value as sent; "*" (or "" for a non-Bool field) means any
	Page    int               // from 1
}

// Page is one page of a list.
type Page struct {
	Items    []*db.DocItem
	Total    int // items matching, on every page
	Page     int
	Pages    int
	Search   string
	Sort     string            // the sort applied ("" for the default, by name)
	Desc     bool              // descending
	Filters  map[string]string // the filters applied, cleaned
	Warranty string            // the warranty filter applied (docs.WarrantyOver, …), "" for none
	Contacts map[string]string // names of the contacts the list's columns refer to, by id
	Now      time.Time         // the time the page is as of (warranty highlights); its day is in the cache key
}

// listQuery is what of lq applies to the area, as the query db.DocList runs, with the page number and
// the warranty filter applied.
func (s *Service) listQuery(v *Viewer, area *docs.Area, lq ListQuery, now time.Time) (q db.DocQuery, page int, warranty string) {
	q = db.DocQuery{DocScope: v.Scope(), Area: area.Name, Search: trimSearch(lq.Search), Limit: PageSize, Filters: map[string]string{}}
	if lq.Sort == "updated" {
		q.Sort = lq.Sort
	} else if f, ok := area.Field(lq.Sort); ok && !f.IsSecret() && f.InList {
		q.Sort = lq.Sort
	}
	q.Desc = lq.Desc
	page = max(lq.Page, 1)
	q.Offset = (page - 1) * PageSize
	for _, f := range area.Fields {
		if !f.Filter {
			continue
		}
		val, present := lq.Filters[f.Name]
		if !present || val == "*" || val == "" && f.Kind != docs.Bool {
			continue
		}
		if clean, e := f.Clean(val); e == "" {
			q.Filters[f.Name] = clean
		}
	}
	// The warranty filter (over, soon, valid) is a range of end dates as of today in the viewer's zone.
	if f, ok := area.Field("warranty_end"); ok {
		if from, to, ok := docs.WarrantyRange(lq.Filters[f.Name], now, v.tz()); ok {
			q.Ranges = append(q.Ranges, db.FieldRange{Field: f.Name, From: from, To: to})
			warranty = lq.Filters[f.Name]
		}
	}
	return q, page, warranty
}

// List is a page of one area for the viewer, read with SQL.
func (s *Service) List(ctx context.Context, v *Viewer, area *docs.Area, lq ListQuery) (*Page, error) {
	now := s.now()
	q, page, warranty := s.listQuery(v, area, lq, now)
	return s.list(ctx, v, area, q, page, warranty, now)
}

func (s *Service) list(ctx context.Context, v *Viewer, area *docs.Area, q db.DocQuery, page int, warranty string, now time.Time) (*Page, error) {
	items, total, err := s.db.DocList(ctx, q)
	if err != nil {
		return nil, err
	}
	contacts, err := s.contactsShown(ctx, v, area, items, true)
	if err != nil {
		return nil, err
	}
	return &Page{Items: items, Total: total, Page: page, Pages: (total + PageSize - 1) / PageSize, Search: q.Search,
		Sort: q.Sort, Desc: q.Desc, Filters: q.Filters, Warranty: warranty, Contacts: contacts, Now: now}, nil
}

// ListHTML is a page of one area for the viewer as render writes it, from the cache of fragments when
// the same page was rendered for the same class of viewer since the organisation's documentation last
// changed. render must write only what the key below covers (nothing of the person or the request: no
// name, no CSRF token, no CSP nonce, no flash). The bytes returned are shared and must not be changed.
//
// A list with a search term is read and rendered for the request alone: such pages are rarely asked for
// twice, and keeping them would push the plain lists, which are, out of the cache. So is a page past the
// last: anybody may ask for a million of them, and keeping them would let one reader of a small
// organisation push every organisation's lists out.
func (s *Service) ListHTML(ctx context.Context, v *Viewer, area *docs.Area, lq ListQuery, render func(p *Page, w io.Writer) error) ([]byte, error) {
	now := s.now()
	q, page, warranty := s.listQuery(v, area, lq, now)
	renderPage := func(w io.Writer) (keep bool, err error) {
		p, err := s.list(ctx, v, area, q, page, warranty, now)
		if err != nil {
			return false, err
		}
		return p.Page <= max(p.Pages, 1), render(p, w)
	}
	if q.Search != "" {
		return renderBytes(func(w io.Writer) error { _, err := renderPage(w); return err })
	}
	return s.frags.get(ctx, s.db, v.Org.ID, listKey(v, area, q, page, warranty, now), renderPage)
}

// listKey is everything a list fragment depends on besides the organisation's generation: what every
// page of the area depends on (pageKey), and the list query as applied (sort, direction, filters, page;
// never a search, see ListHTML).
func listKey(v *Viewer, area *docs.Area, q db.DocQuery, page int, warranty string, now time.Time) string {
	b := pageKey(v, area, now)
	b.WriteString(q.Sort)
	if q.Desc {
		b.WriteString("\x00desc")
	}
	b.WriteByte(0)
	for _, k := range slices.Sorted(maps.Keys(q.Filters)) {
		b.WriteString(k + "=" + q.Filters[k] + "\x01")
	}
	b.WriteByte(0)
	b.WriteString(warranty)
	b.WriteByte(0)
	b.WriteString(strconv.Itoa(page))
	return b.String()
}

// pageKey starts the key of a fragment of one of the area's pages with what all of them depend on: the
// organisation (id and slug: links carry the slug), the area and its custom fields (columns, filters,
// fields shown), the class of viewer, the language and time zone (words, dates), and the day (warranty
// and expiry highlights).
func pageKey(v *Viewer, area *docs.Area, now time.Time) *strings.Builder {
	var b strings.Builder
	b.Grow(128)
	b.WriteString(strconv.FormatInt(v.Org.ID, 10))
	b.WriteByte(0)
	b.WriteString(v.Org.Slug)
	b.WriteByte(0)
	b.WriteString(area.Name)
	b.WriteByte(0)
	for _, f := range area.Fields {
		if f.Custom {
			// Everything of a custom field a page shows; the built-in fields are part of the binary.
			b.WriteString(f.Name + "\x01" + strconv.Itoa(int(f.Kind)) + "\x01" + f.Label + "\x01" + strings.Join(f.Options, "\x02") +
				"\x01" + strconv.FormatBool(f.InList) + strconv.FormatBool(f.Filter) + strconv.FormatBool(f.Copy) + strconv.FormatBool(f.ListCopy) + "\x03")
		}
	}
	b.WriteByte(0)
	b.WriteString(v.fragClass(area))
	b.WriteByte(0)
	tz := v.tz()
	lang := ""
	if v.L != nil {
		lang = v.L.Lang
	}
	b.WriteString(lang)
	b.WriteByte(0)
	b.WriteString(tz.String())
	b.WriteByte(0)
	b.WriteString(now.In(tz).Format(time.DateOnly))
	b.WriteByte(0)
	return &b
}

func trimSearch(q string) string {
	q = strings.TrimSpace(q)
	if len(q) > maxSearch {
		q = q[:maxSearch]
	}
	return q
}

// contactsShown maps to names only the contacts that the items refer to (in list columns, for a list),
// with one small query rather than every contact of the organisation.
func (s *Service) contactsShown(ctx context.Context, v *Viewer, area *docs.Area, items []*db.DocItem, listOnly bool) (map[string]string, error) {
	var ids []int64
	for _, f := range area.Fields {
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
	names, err := s.db.DocNames(ctx, v.Scope(), docs.Contacts.Name, ids)
	if err != nil {
		return nil, err
	}
	m := make(map[string]string, len(names))
	for id, n := range names {
		m[strconv.FormatInt(id, 10)] = n
	}
	return m, nil
}

// maxContacts is how many contacts a form offers and an export or handbook names.
const maxContacts = 200

// Contacts lists the organisation's contacts the viewer sees, by name (the choices of a contact field).
func (s *Service) Contacts(ctx context.Context, v *Viewer) ([]*db.DocItem, error) {
	items, _, err := s.db.DocList(ctx, db.DocQuery{DocScope: v.Scope(), Area: docs.Contacts.Name, Limit: maxContacts})
	return items, err
}

// contactNames maps contact ids to names for areas that refer to contacts.
func (s *Service) contactNames(ctx context.Context, v *Viewer, area *docs.Area) (map[string]string, error) {
	need := false
	for _, f := range area.Fields {
		need = need || f.Kind == docs.Contact
	}
	if !need {
		return nil, nil
	}
	items, err := s.Contacts(ctx, v)
	if err != nil {
		return nil, err
	}
	m := make(map[string]string, len(items))
	for _, it := range items {
		m[strconv.FormatInt(it.ID, 10)] = it.Name
	}
	return m, nil
}

// eachItem calls fn with every live item of the area the viewer sees, page by page, by name.
func (s *Service) eachItem(ctx context.Context, v *Viewer, area *docs.Area, fn func(*db.DocItem) error) error {
	const batch = 200
	for offset := 0; ; offset += batch {
		items, _, err := s.db.DocList(ctx, db.DocQuery{DocScope: v.Scope(), Area: area.Name, Limit: batch, Offset: offset})
		if err != nil {
			return err
		}
		for _, it := range items {
			if err := fn(it); err != nil {
				return err
			}
		}
		if len(items) < batch {
			return nil
		}
	}
}

// searchLimit is how many results a search shows.
const searchLimit = 100

// Search finds the viewer's items of the organisation by full text. It returns the query as searched.
func (s *Service) Search(ctx context.Context, v *Viewer, text string) (string, []*db.DocItem, error) {
	text = trimSearch(text)
	items, err := s.db.DocSearch(ctx, v.Scope(), false, text, searchLimit)
	return text, items, err
}

// SearchAll finds items in every organisation (MSP staff only). v.Org may be nil.
func (s *Service) SearchAll(ctx context.Context, v *Viewer, text string) (string, []*db.DocItem, error) {
	if !v.Staff {
		return "", nil, ErrForbidden
	}
	text = trimSearch(text)
	items, err := s.db.DocSearch(ctx, db.DocScope{StaffView: true}, true, text, searchLimit)
	return text, items, err
}
