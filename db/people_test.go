package db

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"testing"
	"time"
)

func staff(t *testing.T, d *DB, email, role string) int64 {
	t.Helper()
	id := newUser(t, d, email)
	if err := d.Tx(context.Background(), func(tx *sql.Tx) error { return SetStaffRole(context.Background(), tx, id, role) }); err != nil {
		t.Fatal(err)
	}
	return id
}

// Two administrators disabling each other at the same moment leave one enabled; a technician is disabled
// regardless, and disabling ends the person's sessions.
func TestLastAdminSurvivesParallelDisabling(t *testing.T) {
	d := openTemp(t)
	ctx := context.Background()
	admins := []int64{staff(t, d, "a1@muster-it.example", "admin"), staff(t, d, "a2@muster-it.example", "admin")}
	refused := make(chan int64, 2)
	won := race(t, 2, func(i int) (bool, error) {
		err := d.DisableUnlessLastAdmin(ctx, admins[i])
		if errors.Is(err, ErrConflict) {
			refused <- admins[i]
			return false, nil
		}
		return err == nil, err
	})
	close(refused)
	if n, _ := d.CountAdmins(ctx); won != 1 || len(refused) != 1 || n != 1 {
		t.Fatalf("disabled %d, refused %d, enabled admins %d", won, len(refused), n)
	}
	tech := staff(t, d, "t@muster-it.example", "technician")
	d.InsertSession(ctx, "tech-token", []byte("x"), time.Now().Add(time.Hour))
	d.AddUserSession(ctx, "tech-token", tech, 0, "192.0.2.1", "ua")
	if err := d.DisableUnlessLastAdmin(ctx, tech); err != nil {
		t.Fatal(err)
	}
	if u, _ := d.UserByID(ctx, tech); !u.Disabled {
		t.Fatal("technician not disabled")
	}
	if _, found, _ := d.FindSession(ctx, "tech-token"); found {
		t.Fatal("a disabled person keeps their session")
	}
	if err := d.DisableUnlessLastAdmin(ctx, 99999); !errors.Is(err, ErrNotFound) {
		t.Fatalf("unknown person: %v", err)
	}
}

// A new role reaches the member's open invitation in that organisation only, so re-sending it does not
// bring the old role back; a non-member has no role to change.
func TestSetMemberRoleFollowsOpenInvitation(t *testing.T) {
	d := openTemp(t)
	ctx := context.Background()
	a, _ := d.CreateOrg(ctx, "Alpha GmbH", "alpha")
	b, _ := d.CreateOrg(ctx, "Beta AG", "beta")
	var invited int64
	for i, o := range []*Org{a, b} {
		inv, err := d.CreateInvitation(ctx, NewInvitation{Email: "neu@alpha.example", Lang: "de", OrgID: o.ID, Role: "viewer",
			TokenHash: []byte(fmt.Sprintf("%032d", i)), TTL: time.Hour})
		if err != nil {
			t.Fatal(err)
		}
		invited = inv.UserID
	}
	d.Tx(ctx, func(tx *sql.Tx) error { return SetMembership(ctx, tx, d.Now(), invited, a.ID, "viewer") })
	if err := d.SetMemberRole(ctx, invited, a.ID, "manager"); err != nil {
		t.Fatal(err)
	}
	ia, _ := d.OpenInvitation(ctx, invited, a.ID)
	ib, _ := d.OpenInvitation(ctx, invited, b.ID)
	if ia.Role != "manager" || ib.Role != "viewer" {
		t.Fatalf("invitation roles %q (alpha) %q (beta)", ia.Role, ib.Role)
	}
	if err := d.SetMemberRole(ctx, invited, b.ID, "manager"); !errors.Is(err, ErrNotFound) {
		t.Fatalf("role of a non-member changed: %v", err)
	}
	facts, _ := d.OrgPeopleFacts(ctx, a.ID)
	if f := facts[invited]; len(facts) != 1 || f.Orgs[a.ID] != "manager" {
		t.Fatalf("facts %+v", facts)
	}
}
