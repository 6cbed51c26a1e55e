package handlers

import (
	"context"
	"fmt"
	"net/url"
	"testing"
)

// The people pages offer "reset second factors" where the viewer may use it, and the form works.
func TestPeoplePagesOfferSecondFactorReset(t *testing.T) {
	e := newTestEnv(t)
	o := e.createOrg("Muster GmbH", "muster")
	mgr := e.createUser("mgr@muster.example", "Mia Manager", "", map[int64]string{o.ID: "manager"})
	vera := e.createUser("vera@muster.example", "Vera Viewer", "", map[int64]string{o.ID: "viewer"})
	admin := e.createUser("admin@msp.example", "Ada Admin", "admin", nil)
	tech := e.createUser("tech@msp.example", "Toni Technik", "technician", nil)

	e.login(mgr.Email, testPassword)
	_, body := e.get("/o/muster/people", nil)
	d := doc(t, body)
	action := fmt.Sprintf("/o/muster/people/%d/mfa-reset", vera.ID)
	if d.Find(`form[action="`+action+`"]`).Length() != 1 {
		t.Fatalf("manager's people page lacks the reset form for a member")
	}
	if d.Find(fmt.Sprintf(`form[action="/o/muster/people/%d/mfa-reset"]`, mgr.ID)).Length() != 0 {
		t.Fatalf("reset offered for oneself")
	}
	resp, _ := e.post(action, url.Values{"next": {"/o/muster/people"}}, nil)
	if resp.StatusCode != 303 {
		t.Fatalf("reset: %d", resp.StatusCode)
	}
	if n, _ := e.db.CountMFAMethods(context.Background(), vera.ID); n != 0 {
		t.Fatalf("methods left after reset: %d", n)
	}

	e.newClient()
	e.login(tech.Email, testPassword)
	_, body = e.get("/staff/people", nil)
	d = doc(t, body)
	if d.Find(fmt.Sprintf(`form[action="/staff/users/%d/mfa-reset"]`, admin.ID)).Length() != 0 {
		t.Fatalf("technician offered to reset an administrator")
	}
	e.newClient()
	e.login(admin.Email, testPassword)
	_, body = e.get("/staff/people", nil)
	if doc(t, body).Find(fmt.Sprintf(`form[action="/staff/users/%d/mfa-reset"]`, tech.ID)).Length() != 1 {
		t.Fatalf("administrator not offered to reset a technician")
	}
}
