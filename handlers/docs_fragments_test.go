package handlers

import (
	"context"
	"fmt"
	"net/url"
	"regexp"
	"strings"
	"testing"
	"time"

	"portier/db"
	"portier/docs"
)

// nonces are the one part of a page that differs between two requests of the same person.
var nonces = regexp.MustCompile(`nonce="[^"]*"`)

// seedParity fills org A with what a list shows in every way: more than two pages of configurations
// with staff-only ones, warranty ends over, soon, later and missing, missing manufacturers (NULL order),
// names that differ only in case (NOCASE), and a custom choice column; contacts with the primary flag;
// passwords with list copy buttons. It returns the custom field's name.
func seedParity(t *testing.T, f *docsFixture) string {
	t.Helper()
	e, ctx := f.e, context.Background()
	cf, err := e.db.CustomFieldCreate(ctx, db.CustomField{Area: "configurations", Label: "Rack", Kind: "choice", Options: []string{"A", "B"}, InList: true}, nil)
	if err != nil {
		t.Fatal(err)
	}
	custom := docs.CustomFieldName(cf)
	now := e.clock.Now()
	kinds := []string{"server", "laptop", "switch", "printer"}
	makers := []string{"Dell", "dell", "HP", ""}
	for i := range 130 {
		fields := map[string]string{"kind": kinds[i%len(kinds)], "location": []string{"Keller", "keller", "Büro", ""}[i%4],
			"ip": fmt.Sprintf("10.0.%d.%d", i%3, i)}
		if m := makers[i%len(makers)]; m != "" {
			fields["manufacturer"] = m
		}
		switch i % 5 {
		case 0:
			fields["warranty_end"] = now.AddDate(0, 0, -10-i).Format(time.DateOnly)
		case 1:
			fields["warranty_end"] = now.AddDate(0, 0, 5+i%20).Format(time.DateOnly)
		case 2:
			fields["warranty_end"] = now.AddDate(2, 0, i).Format(time.DateOnly)
		}
		if i%3 > 0 {
			fields[custom] = []string{"A", "B"}[i%3-1]
		}
		name := []string{"srv", "SRV", "Srv", "Ärger", "zeta"}[i%5] + fmt.Sprintf("-%02d", i%40)
		if _, err := e.db.DocCreate(ctx, e.srv.cfg.Sealer, db.DocChange{OrgID: f.a.ID, Area: "configurations", Name: name, Fields: fields,
			StaffOnly: i%7 == 0}, db.DocActor{Name: "Setup"}, nil); err != nil {
			t.Fatal(err)
		}
		if i%11 == 0 {
			e.clock.Advance(time.Second)
		}
	}
	for i := range 6 {
		fields := map[string]string{"email": fmt.Sprintf("k%d@alpha.example", i), "phone": "+49 30 1234-" + fmt.Sprint(i)}
		if i%2 == 0 {
			fields["primary"] = "1"
		}
		if _, err := e.db.DocCreate(ctx, e.srv.cfg.Sealer, db.DocChange{OrgID: f.a.ID, Area: "contacts", Name: fmt.Sprintf("Kontakt %d", i),
			Fields: fields, StaffOnly: i == 5}, db.DocActor{Name: "Setup"}, nil); err != nil {
			t.Fatal(err)
		}
	}
	return custom
}

// The cached path writes exactly the bytes of the uncached one: for every sort, direction, filter and
// page, for staff, a customer's manager and a customer's reader, in German and English; cold (first
// request), warm (served from the cache) and with the cache turned off.
func TestDocListFragmentParity(t *testing.T) {
	f := newDocsFixture(t)
	e := f.e
	custom := seedParity(t, f)
	var queries []string
	for _, s := range []string{"", "name", "kind", "manufacturer", "ip", "location", "warranty_end", "updated", custom, "password", "bogus"} {
		for _, d := range []string{"", "1"} {
			queries = append(queries, "configurations?"+url.Values{"sort": {s}, "desc": {d}}.Encode())
		}
	}
	for _, flt := range []string{"f.kind=server", "f.kind=*", "f.warranty_end=over", "f.warranty_end=soon", "f.warranty_end=valid",
		"f.warranty_end=bogus", "f." + custom + "=A", "f.kind=server&f." + custom + "=B&sort=manufacturer&desc=1", "f.unknown=1"} {
		for _, p := range []string{"", "&page=2"} {
			queries = append(queries, "configurations?"+flt+p)
		}
	}
	queries = append(queries, "configurations?page=2", "configurations?page=3", "configurations?page=9", "configurations?page=2&sort=updated",
		"configurations?q=srv", "contacts", "contacts?f.primary=1", "contacts?f.primary=", "contacts?sort=email&desc=1",
		"passwords", "passwords?sort=username", "wireless", "vpn")
	eachViewer(t, f, func(u *db.User, lang string) {
		for _, q := range queries {
			path := "/o/alpha/docs/" + q
			status, cold, warm, uncached := threeWays(e, path)
			if status != [3]int{200, 200, 200} || !strings.Contains(uncached, `<html lang="`+lang+`"`) {
				t.Fatalf("%s %s: %v, or not in %s", u.Email, path, status, lang)
			}
			if cold != uncached || warm != uncached {
				t.Fatalf("%s (%s, %s): cached and uncached pages differ\n%s", path, u.Email, lang, firstDiff(uncached, cold, warm))
			}
			if u != f.tech && strings.Contains(uncached, `data-testid="staff-only"`) {
				t.Fatalf("%s: a customer's page shows a staff-only item", path)
			}
		}
	})
}

// eachViewer signs in as staff, a customer's manager and a customer's reader in turn, each in German and
// in English.
func eachViewer(t *testing.T, f *docsFixture, fn func(u *db.User, lang string)) {
	t.Helper()
	t.Cleanup(func() { f.e.srv.docs.SetCacheBytes(32 << 20) })
	for _, u := range []*db.User{f.tech, f.mgr, f.viewer} {
		f.as(u)
		for _, lang := range []string{"de", "en"} {
			if err := f.e.db.SetUserLang(context.Background(), u.ID, lang); err != nil {
				t.Fatal(err)
			}
			fn(u, lang)
		}
	}
}

// threeWays asks for path with an empty cache (cold), again (warm) and with the cache off: the statuses
// and the pages, their nonces blanked (the one part that differs between two requests of a person).
func threeWays(e *testEnv, path string) (status [3]int, cold, warm, uncached string) {
	page := func(i int) string {
		resp, body := e.get(path, nil)
		status[i] = resp.StatusCode
		return nonces.ReplaceAllString(body, `nonce=""`)
	}
	e.srv.docs.SetCacheBytes(32 << 20)
	cold, warm = page(0), page(1)
	e.srv.docs.SetCacheBytes(0)
	uncached = page(2)
	return status, cold, warm, uncached
}

// firstDiff shows where the pages part.
func firstDiff(want string, got ...string) string {
	for _, g := range got {
		if g == want {
			continue
		}
		i := 0
		for i < len(want) && i < len(g) && want[i] == g[i] {
			i++
		}
		lo := max(i-200, 0)
		return fmt.Sprintf("uncached: …%s…\ncached:   …%s…", want[lo:min(len(want), i+200)], g[lo:min(len(g), i+200)])
	}
	return ""
}

// A list comes from the cache until the organisation's documentation changes: a change made behind the
// application's back (no generation bump) is not seen, the next write through it is; a custom field
// added meanwhile shows at once (its definition is part of the key).
func TestDocListServedFromFragmentUntilAWrite(t *testing.T) {
	f := newDocsFixture(t)
	e, ctx := f.e, context.Background()
	f.as(f.viewer)
	if _, body := e.get("/o/alpha/docs/passwords", nil); !strings.Contains(body, "NAS admin") {
		t.Fatal("list lacks its item")
	}
	if _, err := e.db.W.ExecContext(ctx, `UPDATE doc_items SET name = 'Renamed directly' WHERE id = ?`, f.items["passwords"]); err != nil {
		t.Fatal(err)
	}
	resp, body := e.get("/o/alpha/docs/passwords", nil)
	if !strings.Contains(body, "NAS admin") {
		t.Fatal("the second request was not served from the cache")
	}
	// The page served from the cache carries this response's nonce only, not the first one's.
	csp := resp.Header.Get("Content-Security-Policy")
	for _, m := range regexp.MustCompile(`nonce="([^"]*)"`).FindAllStringSubmatch(body, -1) {
		if !strings.Contains(csp, "'nonce-"+m[1]+"'") {
			t.Fatalf("nonce %q is not this response's (%s)", m[1], csp)
		}
	}
	if !strings.Contains(body, `data-testid="doc-list"`) || strings.Count(body, "nonce=") < 2 {
		t.Fatal("the list page lacks its scripts")
	}
	if _, err := e.db.CustomFieldCreate(ctx, db.CustomField{Area: "passwords", Label: "Kostenstelle", Kind: "text", InList: true}, nil); err != nil {
		t.Fatal(err)
	}
	if _, body := e.get("/o/alpha/docs/passwords", nil); !strings.Contains(body, "Kostenstelle") {
		t.Fatal("a new custom column is missing from the cached list")
	}
	f.as(f.tech)
	if resp, body := e.post("/o/alpha/docs/passwords", url.Values{"name": {"Neues Konto"}}, nil); resp.StatusCode != 303 {
		t.Fatalf("create: %d %.300s", resp.StatusCode, body)
	}
	f.as(f.viewer)
	_, body = e.get("/o/alpha/docs/passwords", nil)
	if !strings.Contains(body, "Neues Konto") || !strings.Contains(body, "Renamed directly") {
		t.Fatal("the list after a write is still the old one")
	}
	if c := doc(t, body).Find(`[data-testid="count-passwords"]`).Text(); c != "2" {
		t.Fatalf("menu count %q, want 2", c)
	}
}

// Staff fragments never reach customers and one organisation's never reaches another: staff look first
// (filling the cache), then a customer of the same organisation, area, query and language, then a customer
// of another organisation whose list is the same area and query in the same class.
func TestDocListFragmentsKeepViewersApart(t *testing.T) {
	f := newDocsFixture(t)
	e, ctx := f.e, context.Background()
	// Both organisations at the same generation: only the key may keep their entries apart.
	for i := 0; e.db.DocsGen(f.b.ID) < e.db.DocsGen(f.a.ID); i++ {
		if _, err := e.db.DocCreate(ctx, e.srv.cfg.Sealer, db.DocChange{OrgID: f.b.ID, Area: "contacts", Name: fmt.Sprint("Beta ", i)},
			db.DocActor{Name: "Setup"}, nil); err != nil {
			t.Fatal(err)
		}
	}
	if e.db.DocsGen(f.b.ID) != e.db.DocsGen(f.a.ID) {
		t.Fatal("generations differ")
	}
	for _, q := range []string{"", "?sort=username&desc=1"} {
		f.as(f.tech)
		_, body := e.get("/o/alpha/docs/passwords"+q, nil)
		if !strings.Contains(body, "Domain admin") || doc(t, body).Find(`[data-testid="bulk-form"]`).Length() != 1 {
			t.Fatal("staff list lacks the staff-only item or the bulk bar")
		}
		f.as(f.viewer)
		_, body = e.get("/o/alpha/docs/passwords"+q, nil)
		d := doc(t, body)
		if strings.Contains(body, "Domain admin") || d.Find(`[data-testid="staff-only"]`).Length() != 0 ||
			d.Find(`[data-testid="bulk-form"]`).Length() != 0 || d.Find(`[data-testid="import-csv"]`).Length() != 0 {
			t.Fatalf("customer after staff sees staff's fragment: %.3000s", body)
		}
		if c := d.Find(`[data-testid="count-passwords"]`).Text(); c != "1" {
			t.Fatalf("customer's menu count %q, want 1 (staff-only items not counted)", c)
		}
		f.as(f.stranger)
		_, body = e.get("/o/beta/docs/passwords"+q, nil)
		if strings.Contains(body, "NAS admin") || !strings.Contains(body, "Beta secret") || strings.Contains(body, "/o/alpha/") {
			t.Fatalf("organisation B got A's fragment: %.3000s", body)
		}
	}
}

// A role is read on every request: a manager who becomes a reader gets the reader's list (no "new"
// button) at once, and without a membership no list at all.
func TestDocListFragmentFollowsRoleChanges(t *testing.T) {
	f := newDocsFixture(t)
	e, ctx := f.e, context.Background()
	f.as(f.mgr)
	if _, body := e.get("/o/alpha/docs/contacts", nil); doc(t, body).Find(`[data-testid="doc-new"]`).Length() != 1 {
		t.Fatal("manager's contacts list lacks the new button")
	}
	if err := e.db.SetMemberRole(ctx, f.mgr.ID, f.a.ID, "viewer"); err != nil {
		t.Fatal(err)
	}
	if _, body := e.get("/o/alpha/docs/contacts", nil); doc(t, body).Find(`[data-testid="doc-new"]`).Length() != 0 {
		t.Fatal("a former manager still gets the manager's list")
	}
	if err := e.db.SetMemberRole(ctx, f.mgr.ID, f.a.ID, "manager"); err != nil {
		t.Fatal(err)
	}
	if _, body := e.get("/o/alpha/docs/contacts", nil); doc(t, body).Find(`[data-testid="doc-new"]`).Length() != 1 {
		t.Fatal("a manager again lacks the new button")
	}
	if _, err := e.db.W.ExecContext(ctx, `DELETE FROM memberships WHERE user_id = ? AND org_id = ?`, f.mgr.ID, f.a.ID); err != nil {
		t.Fatal(err)
	}
	if resp, body := e.get("/o/alpha/docs/contacts", nil); resp.StatusCode != 404 || strings.Contains(body, "Anna Kontakt") {
		t.Fatalf("list without a membership: %d", resp.StatusCode)
	}
}

// The flash of a deletion and its undo belong to the person who deleted: not to the cached list, so
// another person's view of the same list, and the deleter's next one, have none.
func TestDocListFlashIsNotCached(t *testing.T) {
	f := newDocsFixture(t)
	e := f.e
	other := e.createUser("tina@msp.example", "Tina Technik", "technician", nil)
	f.as(other)
	e.get("/o/alpha/docs/passwords", nil) // the staff fragment is cached before the deletion
	f.as(f.tech)
	if resp, body := e.post(fmt.Sprintf("/o/alpha/docs/passwords/%d/delete", f.items["passwords"]), nil, nil); resp.StatusCode != 303 {
		t.Fatalf("delete: %d %.300s", resp.StatusCode, body)
	}
	_, body := e.get("/o/alpha/docs/passwords", nil)
	d := doc(t, body)
	if d.Find(`[data-testid="flash"]`).Length() != 1 || d.Find(`[data-testid="undo"]`).Length() != 1 {
		t.Fatalf("the deleter's list lacks the flash with its undo: %.3000s", body)
	}
	if d.Find(`[data-testid="doc-list"] > [data-testid="flash"]`).Length() != 1 {
		t.Fatal("the flash is not in its place in the list's section")
	}
	if _, again := e.get("/o/alpha/docs/passwords", nil); strings.Contains(again, `data-testid="flash"`) {
		t.Fatal("the flash is shown twice")
	}
	f.as(other)
	if _, body := e.get("/o/alpha/docs/passwords", nil); strings.Contains(body, `data-testid="flash"`) || strings.Contains(body, "NAS admin") {
		t.Fatal("another person's list shows the flash or the deleted item")
	}
}

// The menu of the other documentation pages comes from the cache too: its counts follow every write, and
// staff's counts (with staff-only items) never reach a customer.
func TestDocsMenuFragment(t *testing.T) {
	f := newDocsFixture(t)
	e := f.e
	detail := fmt.Sprintf("/o/alpha/docs/passwords/%d", f.items["passwords"])
	count := func(path, want string) {
		t.Helper()
		resp, body := e.get(path, nil)
		d := doc(t, body)
		if c := d.Find(`[data-testid="count-passwords"]`).Text(); resp.StatusCode != 200 || c != want {
			t.Fatalf("%s: %d, count %q, want %q", path, resp.StatusCode, c, want)
		}
		if d.Find(`[data-testid="area-passwords"][aria-current="page"]`).Length() != 1 {
			t.Fatalf("%s: the menu does not mark the area", path)
		}
	}
	f.as(f.tech)
	count(detail, "2")
	count("/o/alpha/docs/passwords", "2")
	f.as(f.viewer)
	count(detail, "1")
	f.as(f.tech)
	if resp, body := e.post("/o/alpha/docs/passwords", url.Values{"name": {"Neues Konto"}}, nil); resp.StatusCode != 303 {
		t.Fatalf("create: %d %.300s", resp.StatusCode, body)
	}
	count(detail, "3")
	f.as(f.viewer)
	count(detail, "2")
}

// The search page's menu comes from the cache of fragments too, but its search box shows the request's
// own words (escaped), never another request's, and its counts follow the viewer.
func TestSearchMenuShowsItsOwnSearch(t *testing.T) {
	f := newDocsFixture(t)
	e := f.e
	for _, who := range []struct {
		as    *db.User
		count string
	}{{f.tech, "2"}, {f.viewer, "1"}, {f.tech, "2"}} {
		f.as(who.as)
		for _, q := range []string{"Router", `"><script>x</script>`, "Konto"} {
			resp, body := e.get("/o/alpha/search?q="+url.QueryEscape(q), nil)
			d := doc(t, body)
			if got := d.Find(`#docs-q`).AttrOr("value", "?"); resp.StatusCode != 200 || got != q {
				t.Fatalf("search %q: %d, the menu's box shows %q", q, resp.StatusCode, got)
			}
			if strings.Contains(body, "<script>x") {
				t.Fatalf("search %q reached the page unescaped", q)
			}
			if c := d.Find(`[data-testid="count-passwords"]`).Text(); c != who.count {
				t.Fatalf("search %q as %s: password count %q, want %q", q, who.as.Email, c, who.count)
			}
		}
	}
}

// seedDetailParity gives the router of org A what an item page shows in every way: a warranty about to
// end, a contact, related items (one staff-only), documents (one staff-only), files (one staff-only).
func seedDetailParity(t *testing.T, f *docsFixture) int64 {
	t.Helper()
	e, ctx := f.e, context.Background()
	s, staff, by := e.srv.cfg.Sealer, db.DocScope{OrgID: f.a.ID, StaffView: true}, db.DocActor{Name: "Setup"}
	router, err := e.db.DocCreate(ctx, s, db.DocChange{OrgID: f.a.ID, Area: "configurations", Name: "RT-01", Fields: map[string]string{
		"kind": "router", "warranty_end": e.clock.Now().AddDate(0, 0, 9).Format(time.DateOnly), "contact": fmt.Sprint(f.items["contacts"]),
		"notes": "Zeile 1\nZeile 2"}}, by, nil)
	if err != nil {
		t.Fatal(err)
	}
	for _, other := range []int64{f.items["passwords"], f.secretID, f.items["wireless"]} {
		if err := e.db.DocLinkAdd(ctx, staff, router, other, "Zugang", by, nil); err != nil {
			t.Fatal(err)
		}
	}
	for _, d := range []struct {
		title     string
		staffOnly bool
	}{{"Internet ist ausgefallen", false}, {"Interne Notiz", true}} {
		art, err := e.db.ArticleCreate(ctx, f.a.ID, db.ArticleChange{Title: d.title, StaffOnly: d.staffOnly}, by, nil)
		if err != nil {
			t.Fatal(err)
		}
		if err := e.db.ArticleLinkAdd(ctx, staff, art, router, "", by, nil); err != nil {
			t.Fatal(err)
		}
	}
	for _, file := range []struct {
		name      string
		staffOnly bool
	}{{"Vertrag.txt", false}, {"Root-Passwoerter.txt", true}} {
		if _, err := e.db.AttachmentCreate(ctx, s, staff, db.AttachmentUpload{ItemID: router, Name: file.name, StaffOnly: file.staffOnly, Max: 1 << 20,
			Check: func([]byte) (string, error) { return "text/plain; charset=utf-8", nil }}, strings.NewReader("inhalt"), by, nil); err != nil {
			t.Fatal(err)
		}
	}
	return router
}

// The cached path of an item's page writes exactly the bytes of the uncached one, for every area, for
// staff, a customer's manager and a customer's reader, in German and English; cold, warm and with the
// cache turned off. A staff-only item is 404 for customers both ways, and never kept for them.
func TestDocDetailFragmentParity(t *testing.T) {
	f := newDocsFixture(t)
	e := f.e
	router := seedDetailParity(t, f)
	paths := []string{fmt.Sprintf("/o/alpha/docs/configurations/%d", router), fmt.Sprintf("/o/alpha/docs/passwords/%d", f.secretID),
		"/o/alpha/docs/configurations/999999", fmt.Sprintf("/o/alpha/docs/passwords/%d", f.items["configurations"])}
	for area, id := range f.items {
		paths = append(paths, fmt.Sprintf("/o/alpha/docs/%s/%d", area, id))
	}
	eachViewer(t, f, func(u *db.User, lang string) {
		for _, path := range paths {
			status, cold, warm, uncached := threeWays(e, path)
			if status[0] != status[2] || status[1] != status[2] || cold != uncached || warm != uncached {
				t.Fatalf("%s (%s, %s): cached and uncached pages differ (%v)\n%s", path, u.Email, lang, status, firstDiff(uncached, cold, warm))
			}
			if u == f.tech {
				continue
			}
			for _, hidden := range []string{"Domain admin", "Interne Notiz", "Root-Passwoerter", `data-testid="staff-only"`} {
				if strings.Contains(uncached, hidden) {
					t.Fatalf("%s: a customer's page shows %q", path, hidden)
				}
			}
		}
	})
	svc := e.srv.docs
	// A refused upload is told once, in its place, on the page from the cache as without it.
	f.as(f.tech)
	item := fmt.Sprintf("/o/alpha/docs/configurations/%d", router)
	refusedPage := func(cache int) string {
		svc.SetCacheBytes(cache)
		if resp, _ := e.upload(item, "leer.txt", nil, false); resp.StatusCode != 303 {
			t.Fatalf("refused upload: %d", resp.StatusCode)
		}
		_, body := e.get(item, nil)
		if !strings.Contains(body, `data-testid="files-error"`) {
			t.Fatalf("cache %d: the refused upload is not told", cache)
		}
		if _, again := e.get(item, nil); strings.Contains(again, `data-testid="files-error"`) {
			t.Fatalf("cache %d: told twice", cache)
		}
		return nonces.ReplaceAllString(body, `nonce=""`)
	}
	if cached, uncached := refusedPage(32<<20), refusedPage(0); cached != uncached {
		t.Fatalf("the page with a refused upload differs\n%s", firstDiff(uncached, cached))
	}
}

// A customer's cached item page follows every write that changes it: a file or document made
// staff-only disappears, a new link appears, a renamed contact is named anew, a deleted item is gone.
func TestDocDetailCacheFollowsWrites(t *testing.T) {
	f := newDocsFixture(t)
	e := f.e
	ctx := context.Background()
	router := seedDetailParity(t, f)
	s, staff, by := e.srv.cfg.Sealer, db.DocScope{OrgID: f.a.ID, StaffView: true}, db.DocActor{Name: "Tech"}
	item := fmt.Sprintf("/o/alpha/docs/configurations/%d", router)
	f.as(f.viewer)
	view := func() string {
		t.Helper()
		resp, body := e.get(item, nil)
		if resp.StatusCode != 200 {
			t.Fatalf("status %d", resp.StatusCode)
		}
		return body
	}
	if body := view(); !strings.Contains(body, "Vertrag.txt") || !strings.Contains(body, "Internet ist ausgefallen") || !strings.Contains(body, "Anna Kontakt") {
		t.Fatal("the page lacks what was seeded")
	}
	files, err := e.db.Files(ctx, staff, db.OnItem(router))
	if err != nil {
		t.Fatal(err)
	}
	steps := []struct {
		name       string
		write      func() error
		has, lacks string
	}{
		{"file made staff-only", func() error {
			for _, fl := range files {
				if fl.Name == "Vertrag.txt" {
					return e.db.FileSetStaffOnly(ctx, staff, db.OnItem(router), fl.ID, true, nil)
				}
			}
			return fmt.Errorf("no file")
		}, "", "Vertrag.txt"},
		{"document made staff-only", func() error {
			docs, err := e.db.ItemLinkedArticles(ctx, staff, router)
			if err != nil {
				return err
			}
			for _, d := range docs {
				if d.Name == "Internet ist ausgefallen" {
					a, err := e.db.Article(ctx, db.ArticleScope{OrgID: f.a.ID, StaffView: true}, d.OtherID)
					if err != nil {
						return err
					}
					return e.db.ArticleUpdate(ctx, db.ArticleScope{OrgID: f.a.ID, StaffView: true}, a.ID,
						db.ArticleChange{Title: a.Title, StaffOnly: true, Version: a.Version}, by, nil)
				}
			}
			return fmt.Errorf("no document")
		}, "", "Internet ist ausgefallen"},
		{"new link", func() error { return e.db.DocLinkAdd(ctx, staff, router, f.items["vpn"], "Tunnel", by, nil) }, "Zentrale", ""},
		{"contact renamed", func() error {
			c, err := e.db.DocGet(ctx, staff, "contacts", f.items["contacts"])
			if err != nil {
				return err
			}
			return e.db.DocUpdate(ctx, s, c.ID, db.DocChange{OrgID: f.a.ID, Area: "contacts", Name: "Anna Neuname", Fields: c.Fields, Version: c.Version}, by, nil)
		}, "Anna Neuname", "Anna Kontakt"},
	}
	for _, st := range steps {
		if err := st.write(); err != nil {
			t.Fatalf("%s: %v", st.name, err)
		}
		body := view()
		if st.has != "" && !strings.Contains(body, st.has) {
			t.Errorf("%s: the page lacks %q", st.name, st.has)
		}
		if st.lacks != "" && strings.Contains(body, st.lacks) {
			t.Errorf("%s: the page still shows %q", st.name, st.lacks)
		}
	}
	if err := e.db.DocSetDeleted(ctx, s, f.a.ID, router, true, by, nil); err != nil {
		t.Fatal(err)
	}
	if resp, _ := e.get(item, nil); resp.StatusCode != 404 {
		t.Fatalf("a deleted item: %d", resp.StatusCode)
	}
}
