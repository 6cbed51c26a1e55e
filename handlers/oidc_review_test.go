package handlers

import (
	"context"
	"database/sql"
	"net/http"
	"testing"

	"portier/db"
)

// A review of the provider sign-in from an attacker's side: authority across organisations, the second
// factor of a person in several organisations, who may configure a provider, and where the secret goes.

// linkDirect links a provider subject to a person as a finished sign-in would have.
func (e *idpEnv) linkDirect(uid, orgID int64, key, email string) {
	e.t.Helper()
	ctx := context.Background()
	p, err := e.db.IdPByOrg(ctx, orgID)
	if err != nil {
		e.t.Fatal(err)
	}
	if err := e.db.Tx(ctx, func(tx *sql.Tx) error {
		return db.LinkIdentity(ctx, tx, e.clock.Now(), uid, p.ID, key, email)
	}); err != nil {
		e.t.Fatal(err)
	}
}

// The provider of organisation A speaks for A: its second factor does not open the documentation of
// organisation B, which never agreed to trust it. A person in both passes Portier's own factor (or enrols
// one); so does a person who joins B while signed in through A's provider.
func TestIdPProviderMFAStaysWithItsOrganisation(t *testing.T) {
	e := newIdPEnv(t)
	other := e.createOrg("Andere AG", "andere")

	// Without any Portier factor: enrol one first.
	max := e.createUserNoMFA("max@kunde.example", "Max", "", map[int64]string{e.org.ID: "viewer", other.ID: "viewer"})
	e.linkDirect(max.ID, e.org.ID, "entra "+tenantA+" m1", max.Email)
	resp, body, _ := e.signInByProvider("Microsoft", "", realmA, entraUser(tenantA, "m1", max.Email, true))
	if resp.StatusCode != http.StatusSeeOther || resp.Header.Get("Location") != "/mfa/setup" {
		t.Fatalf("member of two organisations, provider MFA: %d %s\n%.800s", resp.StatusCode, resp.Header.Get("Location"), body)
	}
	if resp, _ := e.get("/o/andere", nil); resp.StatusCode != http.StatusSeeOther || resp.Header.Get("Location") != "/mfa/setup" {
		t.Fatalf("the other organisation's documentation: %d %s", resp.StatusCode, resp.Header.Get("Location"))
	}

	// With a Portier factor: that one is asked for.
	mia := e.createUser("mia@kunde.example", "Mia", "", map[int64]string{e.org.ID: "viewer", other.ID: "manager"})
	e.linkDirect(mia.ID, e.org.ID, "entra "+tenantA+" m2", mia.Email)
	resp, body, _ = e.signInByProvider("Microsoft", "", realmA, entraUser(tenantA, "m2", mia.Email, true))
	if resp.StatusCode != http.StatusSeeOther || resp.Header.Get("Location") != "/mfa" {
		t.Fatalf("member of two organisations with a Portier factor: %d %s\n%.800s", resp.StatusCode, resp.Header.Get("Location"), body)
	}
	e.passSecondFactor()
	if resp, _ := e.get("/o/andere", nil); resp.StatusCode != http.StatusOK {
		t.Fatalf("after Portier's factor: %d %s", resp.StatusCode, resp.Header.Get("Location"))
	}

	// Joining another organisation during a session that passed the provider's factor: Portier's factor
	// is asked for before the next page.
	ute := e.createUser("ute@kunde.example", "Ute", "", map[int64]string{e.org.ID: "viewer"})
	e.linkDirect(ute.ID, e.org.ID, "entra "+tenantA+" m3", ute.Email)
	resp, body, _ = e.signInByProvider("Microsoft", "", realmA, entraUser(tenantA, "m3", ute.Email, true))
	if resp.StatusCode != http.StatusSeeOther || resp.Header.Get("Location") != "/o/kunde" {
		t.Fatalf("member of the provider's organisation only: %d %s\n%.800s", resp.StatusCode, resp.Header.Get("Location"), body)
	}
	if err := e.db.Tx(context.Background(), func(tx *sql.Tx) error {
		return db.SetMembership(context.Background(), tx, e.clock.Now(), ute.ID, other.ID, "viewer")
	}); err != nil {
		t.Fatal(err)
	}
	if resp, _ := e.get("/o/andere", nil); resp.StatusCode != http.StatusSeeOther || resp.Header.Get("Location") != "/mfa" {
		t.Fatalf("after joining another organisation: %d %s", resp.StatusCode, resp.Header.Get("Location"))
	}
	if resp, _ := e.get("/o/kunde", nil); resp.StatusCode != http.StatusSeeOther || resp.Header.Get("Location") != "/mfa" {
		t.Fatalf("the provider's own organisation, same session: %d %s", resp.StatusCode, resp.Header.Get("Location"))
	}
}
