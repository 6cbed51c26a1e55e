package handlers

import (
	"context"
	"database/sql"
	"net/url"
	"strings"
	"testing"

	"portier/db"
)

func TestPersonInTwoOrganisationsSwitches(t *testing.T) {
	e := newTestEnv(t)
	a := e.createOrg("Alpha GmbH", "alpha")
	b := e.createOrg("Beta KG", "beta")
	e.createOrg("Gamma AG", "gamma")
	e.createUser("steuer@kanzlei.example", "Stefan Steuer", "", map[int64]string{a.ID: "viewer", b.ID: "manager"})
	peopleSignIn(e, "steuer@kanzlei.example")
	resp, body := e.get("/orgs", nil)
	if resp.StatusCode != 200 || doc(t, body).Find(`[data-testid=org-alpha]`).Length() != 1 || doc(t, body).Find(`[data-testid=org-gamma]`).Length() != 0 {
		t.Fatalf("organisation choice: %d", resp.StatusCode)
	}

	resp, body = e.get("/o/alpha", nil)
	d := doc(t, body)
	if resp.StatusCode != 200 || d.Find(`[data-testid=switch-beta]`).Length() != 1 || d.Find(`[data-testid=nav-orgs]`).Length() != 1 {
		t.Fatalf("alpha: %d, switch offered: %d", resp.StatusCode, d.Find(`[data-testid=switch-beta]`).Length())
	}
	if d.Find(`[data-testid=switch-gamma]`).Length() != 0 {
		t.Fatalf("a foreign organisation is offered")
	}
	resp, _ = e.post("/orgs/switch", url.Values{"org": {"beta"}}, nil)
	if resp.StatusCode != 303 || resp.Header.Get("Location") != "/o/beta" {
		t.Fatalf("switch: %d → %q", resp.StatusCode, resp.Header.Get("Location"))
	}
	resp, body = e.get("/o/beta", nil)
	d = doc(t, body)
	if resp.StatusCode != 200 || d.Find(`[data-testid=org-name]`).Text() != "Beta KG" ||
		!strings.Contains(d.Find(`[data-testid=org-role]`).Text(), "Manager") {
		t.Fatalf("beta: %d %q", resp.StatusCode, d.Find(`[data-testid=org-name]`).Text())
	}
	// The header names the organisation being looked at.
	if d.Find(`[data-testid=nav-org]`).Text() != "Beta KG" {
		t.Errorf("header organisation: %q", d.Find(`[data-testid=nav-org]`).Text())
	}
	// As manager of beta, but viewer of alpha: beta's people page opens, alpha's does not.
	if resp, _ := e.get("/o/beta/people", nil); resp.StatusCode != 200 {
		t.Errorf("beta people: %d", resp.StatusCode)
	}
	if resp, _ := e.get("/o/alpha/people", nil); resp.StatusCode != 404 {
		t.Errorf("alpha people as viewer: %d", resp.StatusCode)
	}

	resp, _ = e.post("/orgs/switch", url.Values{"org": {"gamma"}}, nil)
	if resp.StatusCode != 404 {
		t.Fatalf("switch to a foreign organisation: %d", resp.StatusCode)
	}
	if resp, _ := e.get("/o/gamma", nil); resp.StatusCode != 404 {
		t.Fatalf("foreign organisation's home: %d", resp.StatusCode)
	}
}

// The header offers switching organisations to a customer of more than one (counted with the session, on
// every page: an organisation's, one outside any, an error page), never to staff, whatever memberships
// they were given by mistake; a membership added between two requests shows on the next. Staff with such
// a membership are still staff in that organisation: they write and manage there.
func TestOrganisationCountInTheHeader(t *testing.T) {
	e := newTestEnv(t)
	a := e.createOrg("Alpha GmbH", "alpha")
	b := e.createOrg("Beta KG", "beta")
	c := e.createOrg("Gamma AG", "gamma")
	people := []struct {
		email string
		staff string
		ms    map[int64]string
		multi bool
	}{
		{"one@alpha.example", "", map[int64]string{a.ID: "manager"}, false},
		{"two@alpha.example", "", map[int64]string{a.ID: "viewer", b.ID: "manager"}, true},
		{"three@alpha.example", "", map[int64]string{a.ID: "viewer", b.ID: "viewer", c.ID: "manager"}, true},
		{"admin@msp.example", "admin", map[int64]string{a.ID: "viewer", b.ID: "viewer"}, false},
		{"tech@msp.example", "technician", map[int64]string{a.ID: "viewer"}, false},
	}
	for _, p := range people {
		e.createUser(p.email, "P", p.staff, p.ms)
	}
	pages := []string{"/o/alpha", "/o/alpha/docs/passwords", "/o/alpha/no-such-page", "/profile", "/security"}
	for _, p := range people {
		e.newClient()
		peopleSignIn(e, p.email)
		for _, page := range pages {
			resp, body := e.get(page, nil)
			if resp.StatusCode >= 500 || resp.StatusCode == 303 {
				t.Errorf("%s %s: %d", p.email, page, resp.StatusCode)
				continue
			}
			d := doc(t, body)
			if got := d.Find(`[data-testid=nav-orgs]`).Length() == 1; got != p.multi {
				t.Errorf("%s %s: switching offered %v, want %v", p.email, page, got, p.multi)
			}
			if d.Find(`[data-testid=nav-profile]`).Length() != 1 {
				t.Errorf("%s %s: no menu", p.email, page)
			}
		}
		if p.staff != "" {
			// A staff member's mistaken viewer membership does not make them a viewer there.
			for _, page := range []string{"/o/alpha/articles/new", "/o/alpha/people", "/o/alpha/audit", "/o/gamma/people"} {
				if resp, _ := e.get(page, nil); resp.StatusCode != 200 {
					t.Errorf("%s %s: %d, want 200", p.email, page, resp.StatusCode)
				}
			}
		}
	}
	// one@ is given a second organisation while signed in: the next page offers switching.
	e.newClient()
	peopleSignIn(e, "one@alpha.example")
	if _, body := e.get("/o/alpha", nil); doc(t, body).Find(`[data-testid=nav-orgs]`).Length() != 0 {
		t.Fatal("switching offered with one organisation")
	}
	var uid int64
	e.db.R.QueryRow(`SELECT id FROM users WHERE email = 'one@alpha.example'`).Scan(&uid)
	if err := e.db.Tx(context.Background(), func(tx *sql.Tx) error {
		return db.SetMembership(context.Background(), tx, e.clock.Now(), uid, c.ID, "viewer")
	}); err != nil {
		t.Fatal(err)
	}
	for _, page := range []string{"/o/alpha", "/profile", "/o/gamma"} {
		if resp, body := e.get(page, nil); resp.StatusCode != 200 || doc(t, body).Find(`[data-testid=nav-orgs]`).Length() != 1 {
			t.Errorf("after a second membership, %s: %d, switching offered %d", page, resp.StatusCode, doc(t, body).Find(`[data-testid=nav-orgs]`).Length())
		}
	}
}
