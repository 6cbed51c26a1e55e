package handlers

import (
	"context"
	"fmt"
	"net/http"
	"net/url"
	"strings"
	"testing"

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
// m365Page is the docs fixture with addM365's item, seen by the customer's viewer at item's path.
func m365Page(t *testing.T) (f *docsFixture, e *testEnv, id int64, item string) {
	f = newDocsFixture(t)
	id = addM365(t, f)
	f.as(f.viewer)
	return f, f.e, id, fmt.Sprintf("/o/alpha/docs/passwords/%d", id)
}

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

// An empty field shows a dash under its label, a multi-line one (notes) too: before, the notes of an item
// without notes showed nothing at all under "Notes", while every other empty field showed "—".
func TestDocDetailEmptyNotesShowADash(t *testing.T) {
	f := newDocsFixture(t)
	f.as(f.tech)
	for _, lang := range []string{"en", "de"} {
		f.e.lang(lang)
		resp, body := f.e.get(fmt.Sprintf("/o/alpha/docs/configurations/%d", f.items["configurations"]), nil)
		if resp.StatusCode != http.StatusOK {
			t.Fatalf("%s: status %d", lang, resp.StatusCode)
		}
		label := f.e.srv.i18n.For(lang, "").T("docs.configurations.notes")
		i := strings.Index(body, "<dt>"+label+"</dt>")
		if i < 0 {
			t.Fatalf("%s: no %q field on the page", lang, label)
		}
		dd := body[i:]
		dd = dd[:strings.Index(dd, "</dd>")]
		if !strings.Contains(dd, `<span class="muted">—</span>`) {
			t.Errorf("%s: empty notes show %q, want a dash", lang, dd)
		}
	}
}
