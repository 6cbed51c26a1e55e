package handlers

import (
	"context"
	"errors"
	"fmt"
	"net/http"
	"net/url"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/pquerna/otp/totp"

	"portier/db"
)

// totpSeed is a 160-bit base32 seed, as a stored password's one-time codes use.
const totpSeed = "JBSWY3DPEHPK3PXPKRUGS4ZAMJSWC5LU"

// addM365 stores a password with a TOTP seed in organisation Alpha.
func addM365(t *testing.T, f *docsFixture) int64 {
	t.Helper()
	id, err := f.e.db.DocCreate(context.Background(), f.e.srv.cfg.Sealer, db.DocChange{OrgID: f.a.ID, Area: "passwords", Name: "M365",
		Fields: map[string]string{"username": "admin@alpha.example"}, Secrets: map[string]string{"password": "m365-" + marker, "totp": totpSeed}},
		db.DocActor{Name: "Setup"}, nil)
	if err != nil {
		t.Fatal(err)
	}
	return id
}

// auditOf lists the entries of one action by one person, oldest first.
func auditOf(t *testing.T, e *testEnv, org int64, actor int64, action string) []db.AuditEntry {
	t.Helper()
	all, err := e.db.AuditList(context.Background(), db.AuditFilter{OrgID: org, Action: action, Limit: 500})
	if err != nil {
		t.Fatal(err)
	}
	var out []db.AuditEntry
	for i := len(all) - 1; i >= 0; i-- {
		if all[i].ActorID == actor && all[i].Action == action {
			out = append(out, all[i])
		}
	}
	return out
}

// The printable handbook with secrets prints a stored TOTP seed as its current code, never the seed, and
// each secret it printed is an audit entry of its own (item and field).
func TestHandbookPrintsTheCurrentCodeNotTheSeedAndAuditsEachSecret(t *testing.T) {
	f := newDocsFixture(t)
	e := f.e
	addM365(t, f)
	f.as(f.viewer)
	resp, body := e.post("/o/alpha/handbook", url.Values{"secrets": {"1"}}, map[string]string{"Accept-Language": "en"})
	if resp.StatusCode != http.StatusOK {
		t.Fatalf("handbook: %d", resp.StatusCode)
	}
	flat := strings.ToUpper(strings.Join(strings.Fields(body), ""))
	if strings.Contains(flat, totpSeed) {
		t.Fatal("the handbook prints the TOTP seed")
	}
	for i := 0; i+4 <= len(totpSeed); i += 4 {
		if g := totpSeed[i : i+4]; strings.Contains(strings.ToUpper(body), g) {
			t.Fatalf("the handbook prints the seed's group %q", g)
		}
	}
	code, _ := totp.GenerateCode(totpSeed, e.clock.Now())
	if !strings.Contains(body, code) || !strings.Contains(body, "m365-"+marker) {
		t.Fatalf("the handbook lacks the current code %s (or the password)", code)
	}
	// Viewer's secrets: NAS admin's password, the Wi-Fi key, the VPN configuration, M365's password and
	// its one-time code; not the staff-only password.
	want := map[string]bool{"passwords.password:NAS admin": true, "wireless.key:Alpha-WLAN": true,
		"passwords.password:M365": true, "passwords.totp:M365": true}
	got := auditOf(t, e, f.a.ID, f.viewer.ID, "docs.handbook_reveal")
	if len(got) != 5 {
		t.Fatalf("handbook with secrets: %d entries, want one per printed secret (5): %+v", len(got), got)
	}
	seen := map[string]bool{}
	for _, en := range got {
		_, rest, _ := strings.Cut(en.Target, ":") // id:area.field:name
		if seen[rest] {
			t.Errorf("secret %q audited twice for one print", rest)
		}
		seen[rest] = true
		if strings.Contains(en.Target, marker) || strings.Contains(en.Target, totpSeed) {
			t.Fatal("a secret in the audit target")
		}
	}
	for w := range want {
		if !seen[w] {
			t.Errorf("no entry for %q; got %v", w, seen)
		}
	}
	if n := len(auditOf(t, e, f.a.ID, f.viewer.ID, "docs.handbook_secrets")); n != 1 {
		t.Fatalf("print itself audited %d times", n)
	}
}

// Reveals are de-duplicated per person, item AND field: the one-time code shown after the password of the
// same item is its own entry; the same field again within five minutes is not, also under parallel
// requests.
func TestRevealAuditIsPerField(t *testing.T) {
	f := newDocsFixture(t)
	e := f.e
	id := addM365(t, f)
	f.as(f.viewer)
	item := fmt.Sprintf("/o/alpha/docs/passwords/%d", id)
	hx := map[string]string{"HX-Request": "true"}
	if resp, _ := e.post(item+"/secret/password", nil, hx); resp.StatusCode != 200 {
		t.Fatalf("reveal password: %d", resp.StatusCode)
	}
	if resp, _ := e.post(item+"/secret/totp", nil, hx); resp.StatusCode != 200 {
		t.Fatalf("reveal code: %d", resp.StatusCode)
	}
	var wg sync.WaitGroup
	for i := range 20 {
		wg.Go(func() {
			field := "password"
			if i%2 == 0 {
				field = "totp"
			}
			e.post(item+"/secret/"+field, nil, hx)
			e.post(item+"/secret/password", nil, hx)
		})
	}
	wg.Wait()
	got := auditOf(t, e, f.a.ID, f.viewer.ID, "docs.reveal")
	if len(got) != 2 || got[0].Field != "password" || got[1].Field != "totp" {
		t.Fatalf("reveals audited: %+v, want password then totp once each", got)
	}
}

// A copy is logged only when the browser reports that the clipboard took it. The fetch that hands the
// secret to the browser is a reveal (so a fetch that is never confirmed still leaves a trace); a
// confirmation without a fetch is refused.
func TestCopyIsLoggedOnlyWhenConfirmed(t *testing.T) {
	f := newDocsFixture(t)
	e := f.e
	id := addM365(t, f)
	f.as(f.viewer)
	item := fmt.Sprintf("/o/alpha/docs/passwords/%d", id)
	// A confirmation of a secret never fetched.
	if resp, _ := e.post(item+"/copied/password", nil, nil); resp.StatusCode != http.StatusConflict {
		t.Fatalf("confirmation without fetch: %d", resp.StatusCode)
	}
	resp, body := e.post(item+"/copy/password", nil, nil)
	if resp.StatusCode != 200 || body != "m365-"+marker || resp.Header.Get("Cache-Control") != "no-store" {
		t.Fatalf("copy fetch: %d %q %q", resp.StatusCode, body, resp.Header.Get("Cache-Control"))
	}
	if n := len(auditOf(t, e, f.a.ID, f.viewer.ID, "docs.copy")); n != 0 {
		t.Fatalf("copy logged before the browser confirmed it: %d", n)
	}
	if got := auditOf(t, e, f.a.ID, f.viewer.ID, "docs.reveal"); len(got) != 1 || got[0].Field != "password" {
		t.Fatalf("an unconfirmed copy fetch is not audited as a reveal: %+v", got)
	}
	var wg sync.WaitGroup
	for range 10 {
		wg.Go(func() {
			if resp, _ := e.post(item+"/copied/password", nil, nil); resp.StatusCode != http.StatusNoContent {
				t.Errorf("confirmation: %d", resp.StatusCode)
			}
		})
	}
	wg.Wait()
	if got := auditOf(t, e, f.a.ID, f.viewer.ID, "docs.copy"); len(got) != 1 || got[0].Field != "password" {
		t.Fatalf("confirmed copy: %+v, want one entry", got)
	}
	// The one-time code copies as the current code, never the seed, and is its own entry.
	resp, body = e.post(item+"/copy/totp", nil, nil)
	code, _ := totp.GenerateCode(totpSeed, e.clock.Now())
	if resp.StatusCode != 200 || body != code {
		t.Fatalf("copy code: %d %q, want %s", resp.StatusCode, body, code)
	}
	e.post(item+"/copied/totp", nil, nil)
	if got := auditOf(t, e, f.a.ID, f.viewer.ID, "docs.copy"); len(got) != 2 || got[1].Field != "totp" {
		t.Fatalf("copy of the code after the password: %+v", got)
	}
	// Another organisation's item: 404, as everywhere.
	if resp, _ := e.post(fmt.Sprintf("/o/alpha/docs/passwords/%d/copied/password", f.bItem), nil, nil); resp.StatusCode != 404 {
		t.Fatalf("confirmation for another organisation's item: %d", resp.StatusCode)
	}
	if strings.Contains(e.logBuf.String(), marker) || strings.Contains(e.logBuf.String(), totpSeed) {
		t.Fatal("secret in the log")
	}
}

// A request waiting for an area that another request is loading still gets it when that other request's
// client goes away, and only one load runs.
func TestDocCacheWaiterSurvivesTheLeadersCancellation(t *testing.T) {
	f := newDocsFixture(t)
	e := f.e
	dc := e.srv.docs
	entered, release := make(chan struct{}), make(chan struct{})
	var mu sync.Mutex
	loads := 0
	dc.loadAll = func(d *db.DB, ctx context.Context, org int64, area string) ([]*db.DocItem, error) {
		mu.Lock()
		loads++
		first := loads == 1
		mu.Unlock()
		if first {
			close(entered)
			<-release
		}
		return d.DocAll(ctx, org, area)
	}
	type result struct {
		items []*db.DocItem
		err   error
	}
	leaderCtx, cancel := context.WithCancel(context.Background())
	leader, waiter := make(chan result, 1), make(chan result, 1)
	go func() {
		items, _, err := dc.area(leaderCtx, e.db, f.a.ID, "passwords")
		leader <- result{items, err}
	}()
	<-entered
	go func() {
		items, _, err := dc.area(context.Background(), e.db, f.a.ID, "passwords")
		waiter <- result{items, err}
	}()
	time.Sleep(50 * time.Millisecond) // the waiter joins the load under way
	cancel()                          // the leader's client goes away
	close(release)
	if r := <-leader; r.err != nil && !errors.Is(r.err, context.Canceled) {
		t.Fatalf("leader: %v", r.err) // its own request ended: it may stop waiting, nothing else
	}
	r := <-waiter
	if r.err != nil || len(r.items) != 2 {
		t.Fatalf("waiter: %d items, %v", len(r.items), r.err)
	}
	count := func() int { mu.Lock(); defer mu.Unlock(); return loads }
	if n := count(); n != 1 {
		t.Fatalf("%d loads, want one shared load", n)
	}
	// Through the router too: the list page works and came from that load.
	f.as(f.viewer)
	if resp, body := e.get("/o/alpha/docs/passwords", nil); resp.StatusCode != 200 || !strings.Contains(body, "NAS admin") {
		t.Fatalf("list after the cancelled load: %d", resp.StatusCode)
	}
	if n := count(); n != 1 {
		t.Fatalf("%d loads after the list page", n)
	}
}

// What the cache hands out is the handler's own: changing it changes nothing for the next request.
func TestDocCacheValuesAreCopies(t *testing.T) {
	f := newDocsFixture(t)
	e := f.e
	ctx := context.Background()
	q := db.DocQuery{DocScope: db.DocScope{OrgID: f.a.ID}, Area: "passwords", Limit: 50}
	items, _, err := e.srv.docList(ctx, q)
	if err != nil || len(items) != 1 {
		t.Fatalf("list: %d %v", len(items), err)
	}
	items[0].Name = "changed"
	items[0].Fields["username"] = "changed"
	items[0].Secrets["password"] = false
	again, _, err := e.srv.docList(ctx, q)
	if err != nil || again[0].Name != "NAS admin" || again[0].Fields["username"] != "admin" || !again[0].Secrets["password"] {
		t.Fatalf("a handler's change reached the cache: %+v %v", again[0], err)
	}
	sc := db.DocScope{OrgID: f.a.ID}
	counts, err := e.srv.docCounts(ctx, sc)
	if err != nil {
		t.Fatal(err)
	}
	counts["passwords"] = 99
	if counts, _ = e.srv.docCounts(ctx, sc); counts["passwords"] != 1 {
		t.Fatalf("a handler's change reached the cached counts: %v", counts)
	}
}

// Copy buttons stand beside every copyable value (user name, secret, current one-time code, SSID) and in
// the password list, outside the part that "show" replaces, so they stay after a reveal. A secret's button
// names the fetch and the confirmation; a plain value is copied from the page without the server.
func TestCopyButtonsBesideEveryCopyableValue(t *testing.T) {
	f := newDocsFixture(t)
	e := f.e
	id := addM365(t, f)
	f.as(f.viewer)
	item := fmt.Sprintf("/o/alpha/docs/passwords/%d", id)
	_, body := e.get(item, map[string]string{"Accept-Language": "en"})
	d := doc(t, body)
	for field, url := range map[string]string{"password": item + "/copy/password", "totp": item + "/copy/totp"} {
		b := d.Find(`[data-testid="copy-` + field + `"]`)
		if b.Length() != 1 || b.AttrOr("data-copy-url", "") != url || b.AttrOr("data-copy-confirm", "") != item+"/copied/"+field {
			t.Fatalf("copy button of %s: %d %q", field, b.Length(), b.AttrOr("data-copy-url", ""))
		}
		if d.Find(`#secret-`+field+` [data-testid="copy-`+field+`"]`).Length() != 0 {
			t.Fatalf("copy button of %s inside the part a reveal replaces", field)
		}
		if d.Find(`[data-testid="copy-status-`+field+`"][role="status"]`).Length() != 1 {
			t.Fatalf("no status for the copy of %s", field)
		}
	}
	if b := d.Find(`[data-testid="copy-username"]`); b.AttrOr("data-copy-text", "") != "admin@alpha.example" || b.AttrOr("aria-label", "") != "Copy User name" {
		t.Fatalf("user name copy: %q %q", b.AttrOr("data-copy-text", ""), b.AttrOr("aria-label", ""))
	}
	if strings.Contains(body, marker) || strings.Contains(body, totpSeed) {
		t.Fatal("a secret on the detail page")
	}
	_, body = e.get(fmt.Sprintf("/o/alpha/docs/wireless/%d", f.items["wireless"]), nil)
	if b := doc(t, body).Find(`[data-testid="copy-name"]`); b.AttrOr("data-copy-text", "") != "Alpha-WLAN" {
		t.Fatal("no copy of the SSID")
	}
	_, body = e.get("/o/alpha/docs/passwords", map[string]string{"Accept-Language": "en"})
	d = doc(t, body)
	row := fmt.Sprintf("%d", id)
	if b := d.Find(`[data-testid="copy-password-` + row + `"]`); b.AttrOr("data-copy-url", "") != item+"/copy/password" ||
		b.AttrOr("aria-label", "") != "Copy Password of M365" {
		t.Fatalf("list copy of the password: %q %q", b.AttrOr("data-copy-url", ""), b.AttrOr("aria-label", ""))
	}
	if d.Find(`[data-testid="copy-username-`+row+`"]`).AttrOr("data-copy-text", "") != "admin@alpha.example" {
		t.Fatal("list copy of the user name")
	}
	if n, m := d.Find("thead th").Length(), d.Find(`tr[data-testid="row-`+row+`"] td`).Length(); n != m {
		t.Fatalf("list has %d headers but %d cells", n, m)
	}
	if strings.Contains(body, marker) {
		t.Fatal("a secret in the list")
	}
}
