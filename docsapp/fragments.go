package docsapp

import (
	"bytes"
	"container/list"
	"context"
	"errors"
	"io"
	"strconv"
	"sync"

	"portier/admit"
	"portier/db"
)

// The one cache: rendered HTML fragments of list pages (see docs/architecture.md, "The one cache").
//
// A list page is read far more often than an organisation's documentation changes, and most of its cost
// is turning rows into HTML. So the part of the page that depends only on the organisation, the area, the
// class of viewer, the locale, the list query and the day is kept as the bytes the handler rendered, and
// the next request for the same key writes those bytes again. What it holds is opaque to this package:
// the handler passes a callback that renders a Page (read with SQL, never filtered or sorted here) into a
// writer; this package owns the key, the generation, the bound, eviction and single-flight.
//
// Entries are tagged with db.DocsGen of the organisation read before the page is read from the database,
// and every documentation write bumps it after its commit, so an entry rendered while a write was under
// way is already outdated when stored and is never served. Nothing in it decides access: the route's
// membership and role check runs before every read, and the viewer's class (fragClass) keeps staff and
// customer fragments apart.
type fragCache struct {
	mu      sync.Mutex
	entries map[string]*list.Element // of *fragEntry, most recently used at the front
	lru     *list.List
	size    int // bytes held: the fragments plus their keys
	max     int // at most this many bytes; the least recently used fragments go first. 0 turns it off.
	loading map[string]*fragLoad
}

type fragEntry struct {
	key  string
	gen  uint64
	html []byte
}

// fragLoad is one render in progress that others with the same key and generation wait for.
type fragLoad struct {
	done chan struct{}
	gen  uint64
	html []byte
	err  error
}

// maxFragmentBytes bounds the cache's memory: 32 MB, about 500 list pages of 50 rows (a page of the
// bench's configurations is ~60 KB), more than the pages a 2-core server renders in a few seconds.
const maxFragmentBytes = 32 << 20

// maxFragment keeps a single huge page (200 long rows of custom fields) from pushing out many others.
const maxFragment = maxFragmentBytes / 64

func newFragCache(max int) *fragCache {
	return &fragCache{entries: map[string]*list.Element{}, lru: list.New(), max: max, loading: map[string]*fragLoad{}}
}

// get returns the fragment under key at the organisation's current generation, rendering it with render
// when there is none. The bytes returned are shared: callers write them and never change them. render
// reports whether what it wrote is worth keeping (a page past the last is not, see ListHTML).
//
// One render per key at a time: the others wait for it rather than all reading and rendering the same
// rows. A waiter whose leader failed (its client went away, say) renders for itself, without the cache.
func (fc *fragCache) get(ctx context.Context, d *db.DB, org int64, key string, render func(w io.Writer) (keep bool, err error)) ([]byte, error) {
	once := func(w io.Writer) error { _, err := render(w); return err }
	if fc.max <= 0 {
		return renderBytes(once)
	}
	gen := d.DocsGen(org) // before reading: a write during the render leaves this entry outdated
	fc.mu.Lock()
	if el, hit := fc.entries[key]; hit {
		e := el.Value.(*fragEntry)
		if e.gen == gen {
			fc.lru.MoveToFront(el)
			fc.mu.Unlock()
			return e.html, nil
		}
	}
	if l, busy := fc.loading[key]; busy && l.gen == gen {
		fc.mu.Unlock()
		// Outside the page gate: this request does nothing until the render is done, and holding a place
		// meanwhile would keep another page out (or, were the render ever to step outside the gate and
		// come back, keep the render itself out).
		var err error
		admit.Outside(ctx, func() {
			select {
			case <-l.done:
			case <-ctx.Done():
				err = ctx.Err()
			}
		})
		if err != nil {
			return nil, err
		}
		if l.err == nil {
			return l.html, nil
		}
		return renderBytes(once)
	}
	l := &fragLoad{done: make(chan struct{}), gen: gen, err: errRenderFailed}
	fc.loading[key] = l
	fc.mu.Unlock()
	keep := false
	// Deferred, so that those waiting are released even if render panics (they then render for themselves).
	defer func() {
		fc.mu.Lock()
		if fc.loading[key] == l {
			delete(fc.loading, key)
		}
		if l.err == nil && keep {
			fc.store(key, gen, l.html)
		}
		fc.mu.Unlock()
		close(l.done)
	}()
	l.html, l.err = renderBytes(func(w io.Writer) (err error) {
		keep, err = render(w)
		return err
	})
	return l.html, l.err
}

// errRenderFailed is what waiters see of a render that did not return.
var errRenderFailed = errors.New("docsapp: render did not finish")

// store keeps html under key unless an entry of a newer generation is there already. fc.mu is held.
func (fc *fragCache) store(key string, gen uint64, html []byte) {
	if len(html)+len(key) > maxFragment {
		return
	}
	if el, hit := fc.entries[key]; hit {
		if el.Value.(*fragEntry).gen > gen {
			return
		}
		fc.remove(el)
	}
	if cap(html)-len(html) > len(html)/8 {
		// A render writes into a buffer that grows ahead of it (16 KB to start): kept as it is, an entry
		// would hold up to twice its length, and the cache's bound would not bound its memory.
		html = bytes.Clone(html)
	}
	fc.entries[key] = fc.lru.PushFront(&fragEntry{key: key, gen: gen, html: html})
	fc.size += cap(html) + len(key)
	for fc.size > fc.max && fc.lru.Len() > 1 {
		fc.remove(fc.lru.Back())
	}
}

func (fc *fragCache) remove(el *list.Element) {
	e := el.Value.(*fragEntry)
	fc.lru.Remove(el)
	delete(fc.entries, e.key)
	fc.size -= cap(e.html) + len(e.key)
}

// MenuHTML is the documentation menu of the viewer's organisation as render writes it, with the number of
// live items per area the viewer sees, from the cache of fragments when it is current. The counts are read
// (with SQL: a covering index answers them) only to render. current is the page's entry of the menu.
func (s *Service) MenuHTML(ctx context.Context, v *Viewer, current string, render func(counts map[string]int, w io.Writer) error) ([]byte, error) {
	lang := ""
	if v.L != nil {
		lang = v.L.Lang
	}
	// The organisation (links carry its slug), the class of viewer (counts with or without staff-only
	// items), the language and the page's entry. No dates, so no time zone or day.
	key := "menu\x00" + strconv.FormatInt(v.Org.ID, 10) + "\x00" + v.Org.Slug + "\x00" + v.fragClass(nil) + "\x00" + lang + "\x00" + current
	return s.frags.get(ctx, s.db, v.Org.ID, key, func(w io.Writer) (bool, error) {
		counts, err := s.db.DocCounts(ctx, v.Scope())
		if err != nil {
			return false, err
		}
		return true, render(counts, w)
	})
}

// SetCacheBytes replaces the cache of fragments by an empty one of at most n bytes; 0 turns it off, so
// that every list is read and rendered for its request (the parity tests compare both ways). Call it
// before the service serves requests.
func (s *Service) SetCacheBytes(n int) { s.frags = newFragCache(n) }

// Caching reports whether list pages go through the cache of fragments.
func (s *Service) Caching() bool { return s.frags.max > 0 }

// stats is what the cache holds, for tests.
func (fc *fragCache) stats() (entries, size int) {
	fc.mu.Lock()
	defer fc.mu.Unlock()
	return len(fc.entries), fc.size
}

// sliceWriter collects a render into a byte slice of its own (the cache keeps it; no pool may reuse it).
type sliceWriter struct{ b []byte }

func (w *sliceWriter) Write(p []byte) (int, error) { w.b = append(w.b, p...); return len(p), nil }

func renderBytes(render func(w io.Writer) error) ([]byte, error) {
	w := &sliceWriter{b: make([]byte, 0, 16<<10)}
	if err := render(w); err != nil {
		return nil, err
	}
	return w.b, nil
}
