package db

import (
	"context"
	"database/sql"
	"errors"
	"testing"
	"time"
)

func link(d *DB, user, idp int64, subject, email string) error {
	ctx := context.Background()
	return d.Tx(ctx, func(tx *sql.Tx) error { return LinkIdentity(ctx, tx, d.Now(), user, idp, subject, email) })
}

// A provider's client secret is sealed and kept when the form leaves it empty; pointing the provider at
// another directory (kind, tenant or issuer) drops the linked accounts, a new name does not.
func TestIdPSecretSealedAndRepointingUnlinks(t *testing.T) {
	d, s, a, _ := docsFixture(t)
	ctx := context.Background()
	const secret = "Client-Geheimnis-0815"
	p := &IdP{OrgID: a.ID, Kind: "entra", Name: "Contoso", Tenant: "Tenant-A", ClientID: "cid", Domains: "alpha.example"}
	if err := d.SaveIdP(ctx, s, p, secret, AuditEntry{Action: "idp.save"}); err != nil {
		t.Fatal(err)
	}
	notInFiles(t, d, secret)
	kim := newUser(t, d, "kim@alpha.example")
	if err := link(d, kim, p.ID, "sub-kim", "kim@alpha.example"); err != nil {
		t.Fatal(err)
	}
	save := func(ch func(*IdP)) *IdP {
		t.Helper()
		q, _ := d.IdPByOrg(ctx, a.ID)
		ch(q)
		if err := d.SaveIdP(ctx, s, q, "", AuditEntry{Action: "idp.save"}); err != nil {
			t.Fatal(err)
		}
		q, _ = d.IdPByOrg(ctx, a.ID)
		return q
	}
	q := save(func(q *IdP) { q.Name = "Contoso AD"; q.Tenant = "tenant-a" })
	if got, err := q.Secret(s); err != nil || got != secret || q.Name != "Contoso AD" {
		t.Fatalf("secret after an edit without one: %q %v", got, err)
	}
	if ids, _ := d.Identities(ctx, p.ID); len(ids) != 1 {
		t.Fatal("a new name or the tenant's case dropped the linked accounts")
	}
	save(func(q *IdP) { q.Tenant = "Tenant-B" })
	if ids, _ := d.Identities(ctx, p.ID); len(ids) != 0 {
		t.Fatal("accounts of the old directory stay linked")
	}
	var audits int
	d.R.QueryRow(`SELECT count(*) FROM audit WHERE action = 'idp.save'`).Scan(&audits)
	if audits != 3 {
		t.Fatalf("%d audit entries for three saves", audits)
	}
	if err := d.DeleteIdP(ctx, a.ID, AuditEntry{Action: "idp.delete"}); err != nil {
		t.Fatal(err)
	}
	if err := d.DeleteIdP(ctx, a.ID, AuditEntry{Action: "idp.delete"}); !errors.Is(err, ErrNotFound) {
		t.Fatalf("deleted twice: %v", err)
	}
}

// A provider account belongs to one person: of two people linking it at once one wins, the other is
// refused; unlinking works only through its own provider and signs the person out.
func TestIdentityBelongsToOnePerson(t *testing.T) {
	d, s, a, b := docsFixture(t)
	ctx := context.Background()
	pa := &IdP{OrgID: a.ID, Kind: "google", Name: "Google", Tenant: "alpha.example"}
	pb := &IdP{OrgID: b.ID, Kind: "google", Name: "Google", Tenant: "beta.example"}
	d.SaveIdP(ctx, s, pa, "x", AuditEntry{Action: "idp.save"})
	d.SaveIdP(ctx, s, pb, "y", AuditEntry{Action: "idp.save"})
	people := []int64{newUser(t, d, "kim@alpha.example"), newUser(t, d, "lou@alpha.example")}
	won := race(t, 2, func(i int) (bool, error) {
		err := link(d, people[i], pa.ID, "sub-1", "x@alpha.example")
		if errors.Is(err, ErrConflict) {
			return false, nil
		}
		return err == nil, err
	})
	if won != 1 {
		t.Fatalf("subject linked to %d people", won)
	}
	id, _ := d.IdentityBySubject(ctx, "sub-1")
	if err := link(d, id.UserID, pa.ID, "sub-1", "neu@alpha.example"); err != nil {
		t.Fatalf("the owner cannot link again: %v", err)
	}
	if again, _ := d.IdentityBySubject(ctx, "sub-1"); again.Email != "neu@alpha.example" || again.UserID != id.UserID {
		t.Fatalf("relink %+v", again)
	}
	d.InsertSession(ctx, "tok", []byte("x"), time.Now().Add(time.Hour))
	d.AddUserSession(ctx, "tok", id.UserID, 0, "192.0.2.1", "ua")
	audit := func(i *Identity) AuditEntry { return AuditEntry{Action: "idp.unlink", Target: i.Subject} }
	if _, err := d.UnlinkIdentity(ctx, pb.ID, id.ID, audit); !errors.Is(err, ErrNotFound) {
		t.Fatalf("unlinked through another organisation's provider: %v", err)
	}
	gone, err := d.UnlinkIdentity(ctx, pa.ID, id.ID, audit)
	if err != nil || gone.UserID != id.UserID {
		t.Fatalf("unlink %+v %v", gone, err)
	}
	if _, found, _ := d.FindSession(ctx, "tok"); found {
		t.Fatal("an unlinked person stays signed in")
	}
}

// A provider's answer (its state) is taken once.
func TestIdPStateSpentOnce(t *testing.T) {
	d := openTemp(t)
	ctx := context.Background()
	if won := race(t, 8, func(int) (bool, error) { return d.SpendIdPState(ctx, "state-1", time.Now().Add(10*time.Minute)) }); won != 1 {
		t.Fatalf("state spent %d times", won)
	}
}
