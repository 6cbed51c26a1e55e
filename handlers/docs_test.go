package handlers

import (
	"bytes"
	"context"
	"fmt"
	"net/http"
	"net/url"
	"os"
	"strconv"
	"strings"
	"testing"
	"time"

	"portier/db"
)

// docsFixture: two organisations, a technician, a manager and a viewer of org A, a viewer of org B, and one
// item of each area in org A (a password marked staff-only).
type docsFixture struct {
	e                 *testEnv
	a, b              *db.Org
	tech, mgr, viewer *db.User
	stranger          *db.User
	items             map[string]int64 // area → id in org A
	bItem             int64            // an item of org B
	secretID          int64            // staff-only password
}

const marker = "MARKER-geheim-7391"

func newDocsFixture(t *testing.T) *docsFixture {
	e := newTestEnv(t)
	f := &docsFixture{e: e, items: map[string]int64{}}
	f.a = e.createOrg("Alpha GmbH", "alpha")
	f.b = e.createOrg("Beta AG", "beta")
	f.tech = e.createUser("tech@msp.example", "Toni Technik", "technician", nil)
	f.mgr = e.createUser("mgr@alpha.example", "Mia Manager", "", map[int64]string{f.a.ID: "manager"})
	f.viewer = e.createUser("viewer@alpha.example", "Vera Viewer", "", map[int64]string{f.a.ID: "viewer"})
	f.stranger = e.createUser("s@beta.example", "Stefan Fremd", "", map[int64]string{f.b.ID: "viewer"})
	ctx := context.Background()
	mk := func(org int64, area, name string, fields, secrets map[string]string, staffOnly bool) int64 {
		id, err := e.db.DocCreate(ctx, e.srv.cfg.Sealer, db.DocChange{OrgID: org, Area: area, Name: name, Fields: fields,
			Secrets: secrets, StaffOnly: staffOnly}, db.DocActor{Name: "Setup"}, nil)
		if err != nil {
			t.Fatal(err)
		}
		return id
	}
	f.items["configurations"] = mk(f.a.ID, "configurations", "FW-01", map[string]string{"kind": "firewall"}, nil, false)
	f.items["contacts"] = mk(f.a.ID, "contacts", "Anna Kontakt", map[string]string{"email": "anna@alpha.example"}, nil, false)
	f.items["passwords"] = mk(f.a.ID, "passwords", "NAS admin", map[string]string{"username": "admin"}, map[string]string{"password": marker}, false)
	f.items["wireless"] = mk(f.a.ID, "wireless", "Alpha-WLAN", map[string]string{"security": "wpa2"}, map[string]string{"key": "wlan-" + marker}, false)
	f.items["vpn"] = mk(f.a.ID, "vpn", "Zentrale", map[string]string{"kind": "wireguard"}, map[string]string{"config": "[Interface]\nPrivateKey = " + marker}, false)
	f.secretID = mk(f.a.ID, "passwords", "Domain admin", nil, map[string]string{"password": "staff-" + marker}, true)
	f.bItem = mk(f.b.ID, "passwords", "Beta secret", nil, map[string]string{"password": "beta-" + marker}, false)
	return f
}

func (f *docsFixture) as(u *db.User) {
	f.e.newClient()
	f.e.login(u.Email, testPassword)
}

func TestDocsTenantIsolation(t *testing.T) {
	f := newDocsFixture(t)
	e := f.e
	f.as(f.stranger) // a customer of org B
	for area, id := range f.items {
		base := fmt.Sprintf("/o/alpha/docs/%s", area)
		item := fmt.Sprintf("%s/%d", base, id)
		secretField := map[string]string{"passwords": "password", "wireless": "key", "vpn": "config", "contacts": "x", "configurations": "x"}[area]
		for _, rt := range []struct{ method, path string }{
			{"GET", base}, {"GET", base + "/new"}, {"POST", base}, {"GET", item}, {"GET", item + "/edit"},
			{"POST", item}, {"POST", item + "/delete"}, {"POST", item + "/restore"}, {"GET", item + "/history"},
			{"POST", item + "/secret/" + secretField}, {"POST", item + "/copy/" + secretField}, {"POST", item + "/qr"},
			{"POST", item + "/versions/1/secret/" + secretField}, {"GET", "/o/alpha/search?q=admin"},
			{"GET", "/o/alpha/export/" + area}, {"GET", "/o/alpha/handbook"}, {"POST", "/o/alpha/import/" + area},
		} {
			for _, hx := range []bool{false, true} {
				hdr := map[string]string{}
				if hx {
					hdr["HX-Request"] = "true"
				}
				resp, body := e.do(rt.method, rt.path, strings.NewReader("name=x&version=1"), hdr)
				if resp.StatusCode != http.StatusNotFound {
					t.Errorf("%s %s (htmx=%v): %d, want 404", rt.method, rt.path, hx, resp.StatusCode)
				}
				for _, leak := range []string{"FW-01", "Anna Kontakt", "NAS admin", "Alpha-WLAN", "Zentrale", marker, "Alpha GmbH"} {
					if strings.Contains(body, leak) {
						t.Errorf("%s %s leaks %q", rt.method, rt.path, leak)
					}
				}
			}
		}
	}
	// Nothing changed.
	for area, id := range f.items {
		if _, err := e.db.DocGet(context.Background(), db.DocScope{OrgID: f.a.ID, StaffView: true}, area, id); err != nil {
			t.Errorf("%s item changed: %v", area, err)
		}
	}
	// Their own organisation's search does not find org A's items either.
	_, body := e.get("/o/beta/search?q=admin", nil)
	if strings.Contains(body, "NAS admin") || strings.Contains(body, "Domain admin") {
		t.Fatal("search crosses organisations")
	}
}

func TestDocsStaffOnlyInvisibleToCustomers(t *testing.T) {
	f := newDocsFixture(t)
	e := f.e
	f.as(f.viewer)
	_, body := e.get("/o/alpha/docs/passwords", nil)
	if strings.Contains(body, "Domain admin") || !strings.Contains(body, "NAS admin") {
		t.Fatal("staff-only item listed for customer (or visible item missing)")
	}
	if got := doc(t, body).Find(`[data-testid="count-passwords"]`).Text(); got != "1" {
		t.Fatalf("customer count %q, want 1", got)
	}
	resp, _ := e.get(fmt.Sprintf("/o/alpha/docs/passwords/%d", f.secretID), nil)
	if resp.StatusCode != 404 {
		t.Fatalf("staff-only detail: %d", resp.StatusCode)
	}
	resp, _ = e.post(fmt.Sprintf("/o/alpha/docs/passwords/%d/secret/password", f.secretID), nil, nil)
	if resp.StatusCode != 404 {
		t.Fatalf("staff-only reveal: %d", resp.StatusCode)
	}
	_, body = e.get("/o/alpha/search?q=domain", nil)
	if strings.Contains(body, "Domain admin") {
		t.Fatal("staff-only item found by customer search")
	}
	// Viewers cannot edit; managers edit contacts only.
	resp, _ = e.get("/o/alpha/docs/contacts/new", nil)
	if resp.StatusCode != 404 {
		t.Fatalf("viewer new contact: %d", resp.StatusCode)
	}
	f.as(f.mgr)
	resp, _ = e.post("/o/alpha/docs/contacts", url.Values{"name": {"Neu Kontakt"}, "staff_only": {"1"}}, nil)
	if resp.StatusCode != 303 {
		t.Fatalf("manager creates contact: %d", resp.StatusCode)
	}
	items, _, _ := e.db.DocList(context.Background(), db.DocQuery{DocScope: db.DocScope{OrgID: f.a.ID}, Area: "contacts"})
	found := false
	for _, it := range items {
		found = found || (it.Name == "Neu Kontakt" && !it.StaffOnly)
	}
	if !found {
		t.Fatal("manager's contact missing or marked staff-only from the body")
	}
	resp, _ = e.post("/o/alpha/docs/passwords", url.Values{"name": {"Nope"}}, nil)
	if resp.StatusCode != 404 {
		t.Fatalf("manager creates password: %d", resp.StatusCode)
	}
	// Staff see it, and their use of it stays out of the customer's access log.
	f.as(f.tech)
	_, body = e.get("/o/alpha/docs/passwords", nil)
	if !strings.Contains(body, "Domain admin") {
		t.Fatal("staff do not see staff-only item")
	}
	e.post(fmt.Sprintf("/o/alpha/docs/passwords/%d/secret/password", f.secretID), nil, nil)
	e.post(fmt.Sprintf("/o/alpha/docs/passwords/%d/secret/password", f.items["passwords"]), nil, nil)
	f.as(f.mgr)
	_, body = e.get("/o/alpha/audit", map[string]string{"Accept-Language": "en"})
	if strings.Contains(body, "Domain admin") || !strings.Contains(body, "NAS admin") {
		t.Fatal("customer's access log shows the staff-only item (or misses the visible one)")
	}
}

func TestDocsRevealIsExplicitNoStoreAndAudited(t *testing.T) {
	f := newDocsFixture(t)
	e := f.e
	f.as(f.viewer)
	detail := fmt.Sprintf("/o/alpha/docs/passwords/%d", f.items["passwords"])
	_, body := e.get(detail, nil)
	if strings.Contains(body, marker) {
		t.Fatal("detail page contains the secret")
	}
	_, body = e.get("/o/alpha/docs/passwords", nil)
	if strings.Contains(body, marker) {
		t.Fatal("list contains the secret")
	}
	resp, body := e.post(detail+"/secret/password", nil, map[string]string{"HX-Request": "true"})
	if resp.StatusCode != 200 || !strings.Contains(body, marker) || strings.Contains(body, "<html") {
		t.Fatalf("reveal: %d %.200s", resp.StatusCode, body)
	}
	if resp.Header.Get("Cache-Control") != "no-store" {
		t.Fatalf("reveal cacheable: %q", resp.Header.Get("Cache-Control"))
	}
	// Without JavaScript: a full page that goes back after 30 seconds.
	resp, body = e.post(detail+"/secret/password", nil, nil)
	if resp.StatusCode != 200 || !strings.Contains(body, marker) || !strings.Contains(body, `http-equiv="refresh"`) {
		t.Fatalf("no-JS reveal: %d", resp.StatusCode)
	}
	resp, body = e.post(detail+"/copy/password", nil, nil)
	if resp.StatusCode != 200 || body != marker {
		t.Fatalf("copy: %d %q", resp.StatusCode, body)
	}
	if resp, _ = e.post(detail+"/copied/password", nil, nil); resp.StatusCode != http.StatusNoContent {
		t.Fatalf("copy confirmation: %d", resp.StatusCode)
	}
	entries, _ := e.db.AuditList(context.Background(), db.AuditFilter{OrgID: f.a.ID})
	count := map[string]int{}
	for _, en := range entries {
		if en.ActorID == f.viewer.ID {
			count[en.Action]++
		}
		if strings.Contains(en.Target, marker) {
			t.Fatal("secret in audit target")
		}
	}
	if count["docs.reveal"] != 1 || count["docs.copy"] != 1 || count["docs.view"] != 1 {
		t.Fatalf("audit counts %v (one per person, item and 5 minutes)", count)
	}
	e.clock.Advance(6 * time.Minute)
	e.post(detail+"/secret/password", nil, nil)
	entries, _ = e.db.AuditList(context.Background(), db.AuditFilter{OrgID: f.a.ID, Action: "docs.reveal"})
	if len(entries) != 2 {
		t.Fatalf("second reveal after 6 minutes not audited: %d", len(entries))
	}
	if strings.Contains(e.logBuf.String(), marker) {
		t.Fatal("secret in the log")
	}
	// Wi-Fi join QR is a data: image, audited as a reveal of the key.
	resp, body = e.post(fmt.Sprintf("/o/alpha/docs/wireless/%d/qr", f.items["wireless"]), nil, map[string]string{"HX-Request": "true"})
	if resp.StatusCode != 200 || !strings.Contains(body, `src="data:image/png;base64,`) {
		t.Fatalf("wifi qr: %d", resp.StatusCode)
	}
}

func TestDocsValidationStoresNothing(t *testing.T) {
	f := newDocsFixture(t)
	e := f.e
	f.as(f.tech)
	before, _ := e.db.DocCounts(context.Background(), db.DocScope{OrgID: f.a.ID, StaffView: true})
	cases := []url.Values{
		{"name": {""}, "kind": {"server"}},
		{"name": {strings.Repeat("x", 201)}, "kind": {"server"}},
		{"name": {"ok"}, "kind": {"toaster"}},
		{"name": {"ok"}, "kind": {"server"}, "ip": {"999.1.1.1"}},
		{"name": {"bad\xff"}, "kind": {"server"}},
		{"name": {"ok"}, "kind": {"server"}, "warranty_end": {"31.02.2027"}},
		{"name": {"ok"}, "kind": {"server"}, "contact": {strconv.FormatInt(f.bItem, 10)}},
	}
	for _, form := range cases {
		resp, body := e.post("/o/alpha/docs/configurations", form, map[string]string{"Accept-Language": "de"})
		if resp.StatusCode != http.StatusUnprocessableEntity || !strings.Contains(body, "field-error") {
			t.Errorf("%v: %d", form, resp.StatusCode)
		}
	}
	resp, _ := e.post("/o/alpha/docs/configurations", url.Values{"name": {"a", "b"}, "kind": {"server"}}, nil)
	if resp.StatusCode != 400 {
		t.Errorf("duplicated parameter: %d", resp.StatusCode)
	}
	after, _ := e.db.DocCounts(context.Background(), db.DocScope{OrgID: f.a.ID, StaffView: true})
	if after["configurations"] != before["configurations"] {
		t.Fatal("invalid input stored something")
	}
	// HTML is stored as text and shown escaped.
	resp, _ = e.post("/o/alpha/docs/configurations", url.Values{"name": {"<script>alert(1)</script>"}, "kind": {"server"}}, nil)
	if resp.StatusCode != 303 {
		t.Fatalf("create: %d", resp.StatusCode)
	}
	_, body := e.get(resp.Header.Get("Location"), nil)
	if strings.Contains(body, "<script>alert(1)") || !strings.Contains(body, "&lt;script&gt;") {
		t.Fatal("stored HTML not escaped")
	}
}

func TestDocsConcurrentEditIsRefused(t *testing.T) {
	f := newDocsFixture(t)
	e := f.e
	f.as(f.tech)
	path := fmt.Sprintf("/o/alpha/docs/configurations/%d", f.items["configurations"])
	first := url.Values{"name": {"FW-01"}, "kind": {"firewall"}, "notes": {"erste"}, "version": {"1"}}
	second := url.Values{"name": {"FW-01"}, "kind": {"firewall"}, "notes": {"zweite"}, "version": {"1"}}
	if resp, _ := e.post(path, first, nil); resp.StatusCode != 303 {
		t.Fatalf("first save: %d", resp.StatusCode)
	}
	resp, body := e.post(path, second, map[string]string{"Accept-Language": "en"})
	if resp.StatusCode != http.StatusConflict || !strings.Contains(body, "Someone else saved") || !strings.Contains(body, "zweite") {
		t.Fatalf("second save: %d", resp.StatusCode)
	}
	it, _ := e.db.DocGet(context.Background(), db.DocScope{OrgID: f.a.ID, StaffView: true}, "configurations", f.items["configurations"])
	if it.Fields["notes"] != "erste" {
		t.Fatalf("overwritten: %q", it.Fields["notes"])
	}
}

func TestDocsDeleteUndoAndHistory(t *testing.T) {
	f := newDocsFixture(t)
	e := f.e
	f.as(f.tech)
	item := fmt.Sprintf("/o/alpha/docs/passwords/%d", f.items["passwords"])
	resp, _ := e.post(item, url.Values{"name": {"NAS admin"}, "password": {"neu-" + marker}, "version": {"1"}}, nil)
	if resp.StatusCode != 303 {
		t.Fatalf("update: %d", resp.StatusCode)
	}
	_, body := e.get(item+"/history", nil)
	d := doc(t, body)
	if d.Find(`[data-testid^="version-"]`).Length() != 2 {
		t.Fatalf("history entries: %d", d.Find(`[data-testid^="version-"]`).Length())
	}
	if strings.Contains(body, marker) {
		t.Fatal("history page shows a secret without a request")
	}
	href, _ := d.Find(`form[action*="/versions/"]`).Last().Attr("action")
	_, body = e.post(href, nil, map[string]string{"HX-Request": "true"})
	if !strings.Contains(body, marker) || strings.Contains(body, "neu-"+marker) {
		t.Fatalf("old secret: %.200s", body)
	}
	resp, _ = e.post(item+"/delete", nil, nil)
	if resp.StatusCode != 303 {
		t.Fatalf("delete: %d", resp.StatusCode)
	}
	_, body = e.get("/o/alpha/docs/passwords", nil)
	undo, ok := doc(t, body).Find(`[data-testid="flash"] form`).Attr("action")
	if !ok || strings.Contains(body, ">NAS admin<") {
		t.Fatal("no undo offered, or deleted item still listed")
	}
	resp, _ = e.post(undo, nil, nil)
	if resp.StatusCode != 303 {
		t.Fatalf("undo: %d", resp.StatusCode)
	}
	if resp, _ := e.get(item, nil); resp.StatusCode != 200 {
		t.Fatalf("restored item: %d", resp.StatusCode)
	}
	// Undo is only for a while.
	e.post(item+"/delete", nil, nil)
	e.clock.Advance(11 * time.Minute)
	if resp, _ := e.post(item+"/restore", nil, nil); resp.StatusCode != 404 {
		t.Fatalf("late undo: %d", resp.StatusCode)
	}
	// Customers have no history.
	f.as(f.viewer)
	if resp, _ := e.get(fmt.Sprintf("/o/alpha/docs/wireless/%d/history", f.items["wireless"]), nil); resp.StatusCode != 404 {
		t.Fatalf("customer history: %d", resp.StatusCode)
	}
}

func TestDocsMarkerSecretOnlySealedAndTamperGivesCleanError(t *testing.T) {
	f := newDocsFixture(t)
	e := f.e
	f.as(f.tech)
	mark := "UI-MARKER-Kennwort-5521"
	resp, _ := e.post("/o/alpha/docs/passwords", url.Values{"name": {"Marker"}, "password": {mark}}, nil)
	if resp.StatusCode != 303 {
		t.Fatalf("create: %d", resp.StatusCode)
	}
	_, body := e.post(resp.Header.Get("Location")+"/secret/password", nil, map[string]string{"HX-Request": "true"})
	if !strings.Contains(body, mark) {
		t.Fatal("reveal failed")
	}
	for _, p := range []string{e.db.Path, e.db.Path + "-wal"} {
		raw, _ := os.ReadFile(p)
		if bytes.Contains(raw, []byte(mark)) {
			t.Fatalf("%s holds the secret in the clear", p)
		}
	}
	if strings.Contains(e.logBuf.String(), mark) {
		t.Fatal("log holds the secret")
	}
	id := strings.TrimPrefix(resp.Header.Get("Location"), "/o/alpha/docs/passwords/")
	e.db.W.Exec(`UPDATE doc_secrets SET sealed = CAST(substr(sealed, 1, 20) || X'00' || substr(sealed, 22) AS BLOB) WHERE item_id = ?`, id)
	resp, body = e.post(resp.Header.Get("Location")+"/secret/password", nil, map[string]string{"Accept-Language": "en"})
	if resp.StatusCode != 500 || !strings.Contains(body, "Something went wrong") || strings.Contains(body, "sealed") || strings.Contains(body, mark) {
		t.Fatalf("tampered: %d %.300s", resp.StatusCode, body)
	}
	if !strings.Contains(e.logBuf.String(), "does not open") {
		t.Fatal("tampering not logged")
	}
}
