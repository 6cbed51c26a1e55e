package docsapp

import (
	"context"
	"errors"
	"fmt"
	"io"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"portier/admit"
	"portier/docs"
)

// names renders a page as its items' names, one per line, with the total: enough to see what the
// cache hands out.
func names(p *Page, w io.Writer) error {
	fmt.Fprintf(w, "total %d\n", p.Total)
	for _, it := range p.Items {
		fmt.Fprintln(w, it.Name)
	}
	return nil
}

// The key keeps apart what renders differently and shares what renders alike: never a person's id.
func TestFragmentKeyParts(t *testing.T) {
	f := newFixture(t)
	bundle := f.svc.labels
	now := f.clock.Now()
	key := func(v *Viewer, area *docs.Area, lq ListQuery, now time.Time) string {
		q, page, w := f.svc.listQuery(v, area, lq, now)
		return listKey(v, area, q, page, w, now)
	}
	plain := ListQuery{Page: 1}
	reader, reader2 := f.customer(f.a, "viewer"), f.customer(f.a, "viewer")
	reader2.ID, reader2.Name = 99, "Someone Else"
	manager, staff := f.customer(f.a, "manager"), f.staff(f.a)
	same := func(what string, a, b string) {
		t.Helper()
		if a != b {
			t.Errorf("%s: keys differ\n%q\n%q", what, a, b)
		}
	}
	differ := func(what string, a, b string) {
		t.Helper()
		if a == b {
			t.Errorf("%s: same key %q", what, a)
		}
	}
	same("two readers", key(reader, docs.Passwords, plain, now), key(reader2, docs.Passwords, plain, now))
	same("manager and reader where neither edits", key(manager, docs.Passwords, plain, now), key(reader, docs.Passwords, plain, now))
	differ("manager and reader of contacts", key(manager, docs.Contacts, plain, now), key(reader, docs.Contacts, plain, now))
	differ("staff and customer", key(staff, docs.Passwords, plain, now), key(reader, docs.Passwords, plain, now))
	differ("two organisations", key(f.customer(f.b, "viewer"), docs.Passwords, plain, now), key(reader, docs.Passwords, plain, now))
	differ("two areas", key(reader, docs.Wireless, plain, now), key(reader, docs.Passwords, plain, now))
	de := f.customer(f.a, "viewer")
	de.L = bundle.For("de", "")
	differ("two languages", key(de, docs.Passwords, plain, now), key(reader, docs.Passwords, plain, now))
	ny := f.customer(f.a, "viewer")
	ny.L = bundle.For("en", "America/New_York")
	differ("two time zones", key(ny, docs.Passwords, plain, now), key(reader, docs.Passwords, plain, now))
	// Calendar days in the viewer's zone, not 24 hours: the night the clocks go back has 25, so 24 hours
	// after 00:30 it is still the same day (a key for "now + 24h" would have been the same key — the test
	// failed when run in that hour), and the next day is the next date.
	goesBack := time.Date(2026, 10, 25, 0, 30, 0, 0, reader.tz())
	same("one day of 25 hours", key(reader, docs.Configurations, plain, goesBack.Add(24*time.Hour)), key(reader, docs.Configurations, plain, goesBack))
	for _, at := range []time.Time{now, goesBack} {
		differ("two days", key(reader, docs.Configurations, plain, at.AddDate(0, 0, 1)), key(reader, docs.Configurations, plain, at))
	}
	differ("two pages", key(reader, docs.Passwords, ListQuery{Page: 2}, now), key(reader, docs.Passwords, plain, now))
	differ("sorts", key(reader, docs.Passwords, ListQuery{Sort: "username"}, now), key(reader, docs.Passwords, plain, now))
	differ("directions", key(reader, docs.Passwords, ListQuery{Desc: true}, now), key(reader, docs.Passwords, plain, now))
	differ("filters", key(reader, docs.Passwords, ListQuery{Filters: map[string]string{"category": "admin"}}, now), key(reader, docs.Passwords, plain, now))
	differ("warranty filters", key(reader, docs.Configurations, ListQuery{Filters: map[string]string{"warranty_end": docs.WarrantyOver}}, now),
		key(reader, docs.Configurations, plain, now))
	// What the list ignores renders alike, so it keys alike.
	same("an unknown sort", key(reader, docs.Passwords, ListQuery{Sort: "password"}, now), key(reader, docs.Passwords, plain, now))
	same("page 0", key(reader, docs.Passwords, ListQuery{Page: 0}, now), key(reader, docs.Passwords, plain, now))
	same("filter any", key(reader, docs.Passwords, ListQuery{Filters: map[string]string{"category": "*", "nofield": "x"}}, now), key(reader, docs.Passwords, plain, now))
	custom := docs.Configurations.WithCustom([]docs.Field{{Name: "c1", Kind: docs.Enum, Custom: true, Label: "Rack", Options: []string{"A", "B"}, InList: true, Filter: true}})
	differ("custom fields", key(reader, custom, plain, now), key(reader, docs.Configurations, plain, now))
	renamed := docs.Configurations.WithCustom([]docs.Field{{Name: "c1", Kind: docs.Enum, Custom: true, Label: "Schrank", Options: []string{"A", "B"}, InList: true, Filter: true}})
	differ("a custom field's label", key(reader, custom, plain, now), key(reader, renamed, plain, now))
}

// Parallel requests for one page render it once; a write makes the next request render again and show it;
// staff-only items reach staff fragments only; another organisation never gets this one's entry.
func TestFragmentsRenderOncePerGeneration(t *testing.T) {
	f := newFixture(t)
	ctx := context.Background()
	f.add(t, f.a.ID, "passwords", "Alpha visible", nil, nil, false)
	f.add(t, f.a.ID, "passwords", "Alpha staff only", nil, nil, true)
	f.add(t, f.b.ID, "passwords", "Beta visible", nil, nil, false)
	var renders atomic.Int32
	slow := func(p *Page, w io.Writer) error {
		renders.Add(1)
		time.Sleep(20 * time.Millisecond)
		return names(p, w)
	}
	get := func(v *Viewer) string {
		t.Helper()
		b, err := f.svc.ListHTML(ctx, v, docs.Passwords, ListQuery{Page: 1}, slow)
		if err != nil {
			t.Fatal(err)
		}
		return string(b)
	}
	var wg sync.WaitGroup
	pages := make([]string, 16)
	for i := range pages {
		wg.Go(func() { pages[i] = get(f.staff(f.a)) })
	}
	wg.Wait()
	if n := renders.Load(); n != 1 {
		t.Fatalf("16 parallel requests rendered %d times, want 1", n)
	}
	for _, p := range pages {
		if p != pages[0] || !strings.Contains(p, "Alpha staff only") {
			t.Fatalf("staff pages differ or lack the staff-only item: %q", p)
		}
	}
	if p := get(f.customer(f.a, "viewer")); strings.Contains(p, "staff only") || !strings.Contains(p, "Alpha visible") {
		t.Fatalf("customer after staff: %q", p)
	}
	if p := get(f.customer(f.b, "viewer")); strings.Contains(p, "Alpha") || !strings.Contains(p, "Beta visible") {
		t.Fatalf("organisation B after A: %q", p)
	}
	if n := renders.Load(); n != 3 {
		t.Fatalf("rendered %d times, want 3 (staff, customer of A, customer of B)", n)
	}
	get(f.customer(f.a, "viewer"))
	if n := renders.Load(); n != 3 {
		t.Fatalf("a second customer request rendered again (%d)", n)
	}
	f.add(t, f.a.ID, "passwords", "Alpha new", nil, nil, false)
	if p := get(f.customer(f.a, "viewer")); !strings.Contains(p, "Alpha new") || !strings.Contains(p, "total 2") {
		t.Fatalf("after a write: %q", p)
	}
	// Organisation B's entry stays: only A's documentation changed.
	get(f.customer(f.b, "viewer"))
	if n := renders.Load(); n != 4 {
		t.Fatalf("rendered %d times, want 4", n)
	}
}

// A write that commits while a page is being read and rendered leaves that page outdated: the next
// request renders again instead of keeping the page without the write.
func TestFragmentWriteDuringRenderIsNotKept(t *testing.T) {
	f := newFixture(t)
	ctx := context.Background()
	v := f.customer(f.a, "viewer")
	first := true
	render := func(p *Page, w io.Writer) error {
		if first {
			first = false
			f.add(t, f.a.ID, "passwords", "Written meanwhile", nil, nil, false)
		}
		return names(p, w)
	}
	if _, err := f.svc.ListHTML(ctx, v, docs.Passwords, ListQuery{}, render); err != nil {
		t.Fatal(err)
	}
	b, err := f.svc.ListHTML(ctx, v, docs.Passwords, ListQuery{}, render)
	if err != nil {
		t.Fatal(err)
	}
	if !strings.Contains(string(b), "Written meanwhile") {
		t.Fatalf("the page rendered during a write was kept: %q", b)
	}
}

// Searches are read and rendered for their request: they would push the plain lists out.
func TestFragmentSearchesAreNotKept(t *testing.T) {
	f := newFixture(t)
	f.add(t, f.a.ID, "passwords", "Router admin", nil, nil, false)
	var renders int
	render := func(p *Page, w io.Writer) error { renders++; return names(p, w) }
	for range 2 {
		b, err := f.svc.ListHTML(context.Background(), f.customer(f.a, "viewer"), docs.Passwords, ListQuery{Search: "router"}, render)
		if err != nil || !strings.Contains(string(b), "Router admin") {
			t.Fatalf("%q %v", b, err)
		}
	}
	if n, _ := f.svc.frags.stats(); renders != 2 || n != 0 {
		t.Fatalf("searches: %d renders, %d entries; want 2 and 0", renders, n)
	}
}

// The cache holds at most its bound in bytes, dropping the least recently used pages first.
func TestFragmentCacheIsBounded(t *testing.T) {
	f := newFixture(t)
	f.svc.SetCacheBytes(10 << 10)
	big := func(p *Page, w io.Writer) error { _, err := w.Write(make([]byte, 3000)); return err }
	v := f.customer(f.a, "viewer")
	lists := 0
	for _, area := range docs.Areas { // first pages of every area, both ways: keys enough to overflow it
		for _, desc := range []bool{false, true} {
			if _, err := f.svc.ListHTML(context.Background(), v, area, ListQuery{Desc: desc}, big); err != nil {
				t.Fatal(err)
			}
			lists++
			if n, size := f.svc.frags.stats(); size > 10<<10 || n == 0 {
				t.Fatalf("after %s: %d entries of %d bytes, bound %d", area.Name, n, size, 10<<10)
			}
			// The bound is on memory: what the entries hold, not only the length of their pages (a
			// render's buffer grows ahead of it).
			mem := 0
			f.svc.frags.mu.Lock()
			for _, el := range f.svc.frags.entries {
				mem += cap(el.Value.(*fragEntry).html)
			}
			f.svc.frags.mu.Unlock()
			if mem > 10<<10 {
				t.Fatalf("after %s: the entries hold %d bytes, bound %d", area.Name, mem, 10<<10)
			}
		}
	}
	if n, _ := f.svc.frags.stats(); lists*3000 <= 10<<10 || n >= lists {
		t.Fatalf("%d of %d lists kept: the bound was never reached", n, lists)
	}
	// Too large for the bound's share: rendered, not kept.
	huge := func(p *Page, w io.Writer) error { _, err := w.Write(make([]byte, 1<<20)); return err }
	f.svc.SetCacheBytes(maxFragmentBytes)
	if b, err := f.svc.ListHTML(context.Background(), v, docs.Passwords, ListQuery{}, huge); err != nil || len(b) != 1<<20 {
		t.Fatal(len(b), err)
	}
	if n, _ := f.svc.frags.stats(); n != 0 {
		t.Fatalf("a page over maxFragment was kept")
	}
}

// Those who waited for a render that failed (its request went away) render for themselves.
func TestFragmentWaiterSurvivesTheLeadersFailure(t *testing.T) {
	f := newFixture(t)
	f.add(t, f.a.ID, "passwords", "Alpha visible", nil, nil, false)
	v := f.customer(f.a, "viewer")
	started, release := make(chan struct{}), make(chan struct{})
	leaderErr := errors.New("client went away")
	var wg sync.WaitGroup
	wg.Go(func() {
		_, err := f.svc.ListHTML(context.Background(), v, docs.Passwords, ListQuery{}, func(p *Page, w io.Writer) error {
			close(started)
			<-release
			return leaderErr
		})
		if !errors.Is(err, leaderErr) {
			t.Errorf("leader: %v", err)
		}
	})
	<-started
	var got []byte
	var err error
	wg.Go(func() { got, err = f.svc.ListHTML(context.Background(), v, docs.Passwords, ListQuery{}, names) })
	time.Sleep(20 * time.Millisecond) // the second request waits for the first (or, late, renders itself)
	close(release)
	wg.Wait()
	if err != nil || !strings.Contains(string(got), "Alpha visible") {
		t.Fatalf("waiter: %q %v", got, err)
	}
}

// A render that panics still releases those waiting for it.
func TestFragmentWaitersSurviveAPanickingRender(t *testing.T) {
	f := newFixture(t)
	v := f.customer(f.a, "viewer")
	started, release := make(chan struct{}), make(chan struct{})
	var wg sync.WaitGroup
	wg.Go(func() {
		defer func() { _ = recover() }()
		f.svc.ListHTML(context.Background(), v, docs.Passwords, ListQuery{}, func(p *Page, w io.Writer) error {
			close(started)
			<-release
			panic("render failed")
		})
	})
	<-started
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	var err error
	wg.Go(func() { _, err = f.svc.ListHTML(ctx, v, docs.Passwords, ListQuery{}, names) })
	time.Sleep(20 * time.Millisecond)
	close(release)
	wg.Wait()
	if err != nil {
		t.Fatalf("waiter after a panic: %v", err)
	}
}

// Pages past the last are read and rendered for their request, never kept: any reader may ask for pages
// up to a million, each a key of its own, and keeping them would let one customer of a small organisation
// push every other organisation's lists out of the cache. The last page, and page 1 of an empty list,
// are kept.
func TestFragmentPagesPastTheLastAreNotKept(t *testing.T) {
	f := newFixture(t)
	f.add(t, f.a.ID, "passwords", "Router admin", nil, nil, false)
	v := f.customer(f.a, "viewer")
	for page := 2; page <= 200; page++ {
		b, err := f.svc.ListHTML(context.Background(), v, docs.Passwords, ListQuery{Page: page}, names)
		if err != nil || strings.Contains(string(b), "Router admin") {
			t.Fatalf("page %d: %q %v", page, b, err)
		}
	}
	if n, _ := f.svc.frags.stats(); n != 0 {
		t.Fatalf("%d pages past the last were kept", n)
	}
	for _, v := range []*Viewer{v, f.customer(f.b, "viewer")} { // the last page; an empty list's only page
		if _, err := f.svc.ListHTML(context.Background(), v, docs.Passwords, ListQuery{Page: 1}, names); err != nil {
			t.Fatal(err)
		}
	}
	if n, _ := f.svc.frags.stats(); n != 2 {
		t.Fatalf("%d entries, want the two first pages", n)
	}
}

// A request waiting for another's render of the same page waits outside the page gate (package admit):
// it does nothing meanwhile, and holding a place would keep other pages out for as long as the render
// takes, or for good if the render ever had to step outside itself and come back.
func TestFragmentWaitersHoldNoPlaceAtTheGate(t *testing.T) {
	f := newFixture(t)
	f.add(t, f.a.ID, "passwords", "Alpha visible", nil, nil, false)
	v := f.customer(f.a, "viewer")
	g := admit.New(2, 0)
	enter := func() (context.Context, func()) {
		t.Helper()
		ctx, cancel := context.WithTimeout(context.Background(), 2*time.Second)
		defer cancel()
		in, leave, err := g.Enter(ctx)
		if err != nil {
			t.Fatalf("no place at the gate: %v", err)
		}
		return context.WithoutCancel(in), leave
	}
	started, release := make(chan struct{}), make(chan struct{})
	var wg sync.WaitGroup
	leaderCtx, leaveLeader := enter()
	wg.Go(func() {
		defer leaveLeader()
		_, err := f.svc.ListHTML(leaderCtx, v, docs.Passwords, ListQuery{}, func(p *Page, w io.Writer) error {
			close(started)
			<-release
			return names(p, w)
		})
		if err != nil {
			t.Error(err)
		}
	})
	<-started
	waiterCtx, leaveWaiter := enter()
	wg.Go(func() {
		defer leaveWaiter()
		if b, err := f.svc.ListHTML(waiterCtx, v, docs.Passwords, ListQuery{}, names); err != nil || !strings.Contains(string(b), "Alpha visible") {
			t.Errorf("waiter: %q %v", b, err)
		}
	})
	time.Sleep(50 * time.Millisecond) // the waiter waits for the leader's render
	_, leave := enter()               // another page gets the waiter's place
	leave()
	close(release)
	wg.Wait()
}
