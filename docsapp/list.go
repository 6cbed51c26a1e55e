package docsapp

import (
	"context"
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
	Contacts map[string]string // names of the contacts the list's columns refer to, by id
}

// List is a page of one area for the viewer.
func (s *Service) List(ctx context.Context, v *Viewer, area *docs.Area, lq ListQuery) (*Page, error) {
	q := db.DocQuery{DocScope: v.Scope(), Area: area.Name, Search: trimSearch(lq.Search), Limit: PageSize, Filters: map[string]string{}}
	if lq.Sort == "updated" {
		q.Sort = lq.Sort
	} else if f, ok := area.Field(lq.Sort); ok && !f.IsSecret() && f.InList {
		q.Sort = lq.Sort
	}
	q.Desc = lq.Desc
	page := max(lq.Page, 1)
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
		loc := time.Local
		if v.L != nil {
			loc = v.L.TZ
		}
		if from, to, ok := docs.WarrantyRange(lq.Filters[f.Name], s.now(), loc); ok {
			q.Ranges = append(q.Ranges, db.FieldRange{Field: f.Name, From: from, To: to})
		}
	}
	items, total, err := s.list(ctx, q)
	if err != nil {
		return nil, err
	}
	contacts, err := s.contactsShown(ctx, v, area, items, true)
	if err != nil {
		return nil, err
	}
	return &Page{Items: items, Total: total, Page: page, Pages: (total + PageSize - 1) / PageSize, Search: q.Search,
		Sort: q.Sort, Desc: q.Desc, Filters: q.Filters, Contacts: contacts}, nil
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
