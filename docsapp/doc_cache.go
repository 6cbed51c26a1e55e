package docsapp

import (
	"cmp"
	"container/list"
	"context"
	"maps"
	"slices"
	"sync"
	"time"

	"portier/db"
)

// The list cache. Documentation is read far more often than it is written, and a list page otherwise reads
// and decodes its rows and counts the menu on every request, so every live item of an organisation's area
// is kept decoded in memory, with the area's menu counts, until the organisation's documentation changes:
// entries are tagged with db.DocsGen, which every documentation write bumps after its commit, and the
// generation is read before loading, so an entry loaded during a write is already outdated when stored.
//
// Rules that keep it safe: entries are keyed by organisation id (never shared across organisations);
// staff-only items are filtered per request by the viewer's scope, exactly as the SQL does; searches
// (full text) always go to the database; callers get clones of cached items and counts, never the
// cache's own values. Nothing in it decides access: the route's membership check runs before every read.
//
// It stays because it earns its place: measured against SQL on every request (the commit that added this
// paragraph has the figures), the list page's rate relative to /healthz is clearly higher with it.
type docCache struct {
	mu      sync.Mutex
	areas   map[areaKey]*list.Element // of *areaEntry, most recently used at the front
	lru     *list.List
	items   int // items held in all areas
	max     int // most items held; the least recently used areas go first
	loading map[areaKey]*areaLoad
	counts  map[countKey]countEntry
	// loadAll reads an area from the database (db.DB.DocAll; a test may slow it down).
	loadAll func(d *db.DB, ctx context.Context, org int64, area string) ([]*db.DocItem, error)
}

type areaKey struct {
	org  int64
	area string
}

type areaEntry struct {
	key   areaKey
	gen   uint64
	items []*db.DocItem // every live item, staff-only included, by name (no case) then id
}

type areaLoad struct {
	done  chan struct{}
	gen   uint64
	items []*db.DocItem
	err   error
}

type countKey struct {
	org   int64
	staff bool
}

type countEntry struct {
	gen    uint64
	counts map[string]int
}

// maxCachedItems bounds the memory of the cache (an item takes about a kilobyte); maxAreaItems keeps a
// single huge area out of it (such lists are read from the database page by page).
const (
	maxCachedItems = 20000
	maxAreaItems   = 5000
)

func newDocCache() *docCache {
	return &docCache{areas: map[areaKey]*list.Element{}, lru: list.New(), max: maxCachedItems,
		loading: map[areaKey]*areaLoad{}, counts: map[countKey]countEntry{}, loadAll: (*db.DB).DocAll}
}

// area returns every live item of the organisation's area, from memory when current. ok is false when
// the area is too large to keep. The items are the cache's own: only list reads them, and it hands out
// clones.
//
// One load per area at a time, the others wait for it rather than all reading the same rows. The load
// runs detached from every request (context.WithoutCancel, bounded by loadTimeout): when the client that
// happened to start it goes away, the others waiting for it still get their page, and each caller stops
// waiting when its own request ends.
func (dc *docCache) area(ctx context.Context, d *db.DB, org int64, area string) ([]*db.DocItem, bool, error) {
	key := areaKey{org, area}
	gen := d.DocsGen(org)
	dc.mu.Lock()
	if el, hit := dc.areas[key]; hit {
		e := el.Value.(*areaEntry)
		if e.gen == gen {
			dc.lru.MoveToFront(el)
			dc.mu.Unlock()
			return e.items, true, nil
		}
		dc.remove(el)
	}
	l, busy := dc.loading[key]
	if !busy || l.gen != gen {
		l = &areaLoad{done: make(chan struct{}), gen: gen}
		dc.loading[key] = l
		go dc.load(context.WithoutCancel(ctx), d, key, l)
	}
	dc.mu.Unlock()
	select {
	case <-l.done:
	case <-ctx.Done():
		return nil, false, ctx.Err()
	}
	return l.items, l.err == nil && len(l.items) <= maxAreaItems, l.err
}

// loadTimeout bounds a load that no request can cancel any more.
const loadTimeout = 30 * time.Second

// load reads an area for everyone waiting on l and keeps it, unless a newer load has replaced it.
func (dc *docCache) load(ctx context.Context, d *db.DB, key areaKey, l *areaLoad) {
	ctx, cancel := context.WithTimeout(ctx, loadTimeout)
	defer cancel()
	defer close(l.done)
	l.items, l.err = dc.loadAll(d, ctx, key.org, key.area)
	dc.mu.Lock()
	defer dc.mu.Unlock()
	if dc.loading[key] != l {
		return
	}
	delete(dc.loading, key)
	if l.err != nil || len(l.items) > maxAreaItems {
		return
	}
	if el, hit := dc.areas[key]; hit {
		dc.remove(el)
	}
	dc.areas[key] = dc.lru.PushFront(&areaEntry{key: key, gen: l.gen, items: l.items})
	dc.items += len(l.items)
	for dc.items > dc.max && dc.lru.Len() > 1 {
		dc.remove(dc.lru.Back())
	}
}

func (dc *docCache) remove(el *list.Element) {
	e := el.Value.(*areaEntry)
	dc.lru.Remove(el)
	delete(dc.areas, e.key)
	dc.items -= len(e.items)
}

// counts is db.DocCounts, kept until the organisation's documentation changes. Callers get their own
// copy of the map.
func (s *Service) counts(ctx context.Context, sc db.DocScope) (map[string]int, error) {
	key := countKey{sc.OrgID, sc.StaffView}
	gen := s.db.DocsGen(sc.OrgID)
	dc := s.cache
	dc.mu.Lock()
	e, hit := dc.counts[key]
	dc.mu.Unlock()
	if hit && e.gen == gen {
		return maps.Clone(e.counts), nil
	}
	counts, err := s.db.DocCounts(ctx, sc)
	if err != nil {
		return nil, err
	}
	dc.mu.Lock()
	if len(dc.counts) > 4*maxCachedItems/10 {
		clear(dc.counts) // a crude bound: 8,000 organisation views
	}
	dc.counts[key] = countEntry{gen: gen, counts: counts}
	dc.mu.Unlock()
	return maps.Clone(counts), nil
}

// list is db.DocList served from the cache when it can be: no full-text search, an area small enough to
// keep. Filtering, order, totals and pages follow the SQL of db.DocList exactly (the test compares them).
func (s *Service) list(ctx context.Context, q db.DocQuery) ([]*db.DocItem, int, error) {
	if q.Search != "" {
		return s.db.DocList(ctx, q)
	}
	all, ok, err := s.cache.area(ctx, s.db, q.OrgID, q.Area)
	if err != nil {
		return nil, 0, err
	}
	if !ok {
		return s.db.DocList(ctx, q)
	}
	items := make([]*db.DocItem, 0, len(all))
	for _, it := range all {
		if (q.StaffView || !it.StaffOnly) && matchFilters(it, q.Filters) && matchRanges(it, q.Ranges) {
			items = append(items, it)
		}
	}
	total := len(items)
	switch {
	case (q.Sort == "" || q.Sort == "name") && !q.Desc:
		// Already in this order.
	case q.Sort == "" || q.Sort == "name":
		slices.SortStableFunc(items, func(a, b *db.DocItem) int {
			return cmp.Or(-nocaseCmp(a.Name, b.Name), cmp.Compare(a.ID, b.ID))
		})
	case q.Sort == "updated":
		dir := dirOf(q.Desc)
		slices.SortStableFunc(items, func(a, b *db.DocItem) int {
			return cmp.Or(dir*cmp.Compare(a.UpdatedAt.Unix(), b.UpdatedAt.Unix()), cmp.Compare(a.ID, b.ID))
		})
	default:
		dir := dirOf(q.Desc)
		f := q.Sort
		slices.SortStableFunc(items, func(a, b *db.DocItem) int {
			av, aok := a.Fields[f]
			bv, bok := b.Fields[f]
			var c int
			switch {
			case !aok && !bok:
			case !aok: // NULL sorts first
				c = -1
			case !bok:
				c = 1
			default:
				c = nocaseCmp(av, bv)
			}
			return cmp.Or(dir*c, cmp.Compare(a.ID, b.ID))
		})
	}
	limit := q.Limit
	if limit <= 0 || limit > 200 {
		limit = 50
	}
	q.Offset = max(q.Offset, 0)
	if q.Offset >= len(items) {
		return nil, total, nil
	}
	page := make([]*db.DocItem, 0, min(len(items), q.Offset+limit)-q.Offset)
	for _, it := range items[q.Offset:min(len(items), q.Offset+limit)] {
		page = append(page, it.Clone())
	}
	return page, total, nil
}

func dirOf(desc bool) int {
	if desc {
		return -1
	}
	return 1
}

// matchFilters is db.DocList's `json_extract(fields, '$.k') = v`, and for an empty v "missing or empty".
func matchFilters(it *db.DocItem, filters map[string]string) bool {
	for k, want := range filters {
		v, ok := it.Fields[k]
		if want == "" {
			if ok && v != "" {
				return false
			}
		} else if !ok || v != want {
			return false
		}
	}
	return true
}

// nocaseCmp is SQLite's NOCASE collation: bytes compared with ASCII letters folded, then the length.
func nocaseCmp(a, b string) int {
	n := min(len(a), len(b))
	for i := 0; i < n; i++ {
		ca, cb := a[i], b[i]
		if 'A' <= ca && ca <= 'Z' {
			ca += 'a' - 'A'
		}
		if 'A' <= cb && cb <= 'Z' {
			cb += 'a' - 'A'
		}
		if ca != cb {
			return int(ca) - int(cb)
		}
	}
	return len(a) - len(b)
}

// matchRanges is db.DocList's range condition (db.FieldRange.In).
func matchRanges(it *db.DocItem, ranges []db.FieldRange) bool {
	for _, r := range ranges {
		if !r.In(it.Fields[r.Field]) {
			return false
		}
	}
	return true
}
