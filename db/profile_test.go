package db

import (
	"context"
	"database/sql"
	"errors"
	"testing"
	"time"
)

// A new pending address, and cancelling it, kill the confirmation links already sent (not a reset link).
func TestPendingEmailRevokesConfirmationLinks(t *testing.T) {
	d := openTemp(t)
	ctx := context.Background()
	u := newUser(t, d, "kim@alpha.example")
	confirm, reset := []byte("confirm-confirm-confirm-confirm-"), []byte("reset-reset-reset-reset-reset-re")
	d.CreateToken(ctx, u, PurposeReset, reset, "kim@alpha.example", time.Hour)
	for _, change := range []func() error{
		func() error { return d.SetPendingEmail(ctx, u, "Neu@Alpha.example") },
		func() error { return d.CancelPendingEmail(ctx, u) },
	} {
		if err := d.CreateToken(ctx, u, PurposeConfirm, confirm, "neu@alpha.example", time.Hour); err != nil {
			t.Fatal(err)
		}
		if err := change(); err != nil {
			t.Fatal(err)
		}
		if ti, _ := d.LookupToken(ctx, PurposeConfirm, confirm); ti.State != TokenRevoked {
			t.Fatalf("confirmation link after a change of the pending address: %s", ti.State)
		}
		d.W.Exec(`DELETE FROM tokens WHERE token_hash = ?`, confirm)
	}
	if ti, _ := d.LookupToken(ctx, PurposeReset, reset); ti.State != TokenValid {
		t.Fatalf("reset link: %s", ti.State)
	}
	if usr, _ := d.UserByID(ctx, u); usr.PendingEmail != "" {
		t.Fatalf("pending %q after cancelling", usr.PendingEmail)
	}
	d.SetPendingEmail(ctx, u, " Neu@Alpha.example ")
	if usr, _ := d.UserByPendingEmail(ctx, "neu@alpha.example"); usr == nil || usr.ID != u {
		t.Fatal("pending address not stored normalised")
	}
}

// Whether an address is taken ignores case and the person themselves; sharing an organisation needs a
// common one.
func TestEmailTakenAndSharedOrgs(t *testing.T) {
	d := openTemp(t)
	ctx := context.Background()
	kim, lou, max := newUser(t, d, "kim@alpha.example"), newUser(t, d, "lou@alpha.example"), newUser(t, d, "max@beta.example")
	if taken, _ := d.EmailTaken(ctx, "KIM@alpha.example ", lou); !taken {
		t.Fatal("an address differing in case is free")
	}
	if taken, _ := d.EmailTaken(ctx, "kim@alpha.example", kim); taken {
		t.Fatal("one's own address is taken")
	}
	a, _ := d.CreateOrg(ctx, "Alpha GmbH", "alpha")
	b, _ := d.CreateOrg(ctx, "Beta AG", "beta")
	d.Tx(ctx, func(tx *sql.Tx) error {
		SetMembership(ctx, tx, d.Now(), kim, a.ID, "manager")
		SetMembership(ctx, tx, d.Now(), lou, a.ID, "viewer")
		return SetMembership(ctx, tx, d.Now(), max, b.ID, "viewer")
	})
	if shared, _ := d.SharesOrg(ctx, kim, lou); !shared {
		t.Fatal("members of one organisation share none")
	}
	if shared, _ := d.SharesOrg(ctx, kim, max); shared {
		t.Fatal("members of different organisations share one")
	}
}

// A person ends only their own sessions: another person's hash is not found and that session lives on.
func TestEndUserSessionOnlyOwn(t *testing.T) {
	d := openTemp(t)
	ctx := context.Background()
	kim, lou := newUser(t, d, "kim@alpha.example"), newUser(t, d, "lou@alpha.example")
	exp := time.Now().Add(time.Hour)
	for tok, u := range map[string]int64{"kim-token": kim, "lou-token": lou} {
		if err := d.InsertSession(ctx, tok, []byte("data"), exp); err != nil {
			t.Fatal(err)
		}
		if err := d.AddUserSession(ctx, tok, u, 0, "192.0.2.1", "ua"); err != nil {
			t.Fatal(err)
		}
	}
	if err := d.EndUserSession(ctx, kim, SessionHash("lou-token")); !errors.Is(err, ErrNotFound) {
		t.Fatalf("ended another person's session: %v", err)
	}
	if _, found, _ := d.FindSession(ctx, "lou-token"); !found {
		t.Fatal("another person's session is gone")
	}
	if err := d.EndUserSession(ctx, kim, SessionHash("kim-token")); err != nil {
		t.Fatal(err)
	}
	if _, found, _ := d.FindSession(ctx, "kim-token"); found {
		t.Fatal("the ended session still signs in")
	}
	if l, _ := d.UserSessions(ctx, kim); len(l) != 0 {
		t.Fatal("the ended session is still listed")
	}
}
