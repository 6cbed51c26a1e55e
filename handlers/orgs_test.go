package handlers

import (
	"net/url"
	"strings"
	"testing"
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
