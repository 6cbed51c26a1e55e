package db

import (
	"context"
	"database/sql"
	"slices"
	"testing"
	"time"
)

// Confirming an address another account took meanwhile changes nothing but that the account stops waiting
// for it; otherwise the address becomes the account's, confirmed.
func TestConfirmEmail(t *testing.T) {
	d, _ := openTest(t)
	ctx := context.Background()
	now := time.Now()
	var anna, bert int64
	err := d.Tx(ctx, func(tx *sql.Tx) error {
		var err error
		if anna, _, err = EnsureUser(ctx, tx, now, "anna@kunde.example", "Anna", "de"); err != nil {
			return err
		}
		bert, _, err = EnsureUser(ctx, tx, now, "bert@kunde.example", "Bert", "de")
		return err
	})
	if err != nil {
		t.Fatal(err)
	}
	if err := d.SetPendingEmail(ctx, anna, "bert@kunde.example"); err != nil {
		t.Fatal(err)
	}
	var taken bool
	err = d.Tx(ctx, func(tx *sql.Tx) (err error) {
		taken, _, err = ConfirmEmail(ctx, tx, now, anna, "bert@kunde.example")
		return err
	})
	if u, _ := d.UserByID(ctx, anna); err != nil || !taken || u.Email != "anna@kunde.example" || u.PendingEmail != "" {
		t.Fatalf("taken address: taken=%v email=%q waiting %q %v", taken, u.Email, u.PendingEmail, err)
	}
	err = d.Tx(ctx, func(tx *sql.Tx) (err error) {
		taken, _, err = ConfirmEmail(ctx, tx, now, anna, "anna.neu@kunde.example")
		return err
	})
	u, _ := d.UserByID(ctx, anna)
	if err != nil || taken || u.Email != "anna.neu@kunde.example" || !u.EmailConfirmed || u.PendingEmail != "" {
		t.Fatalf("free address: %+v %v", u, err)
	}
	if _, err := d.UserByID(ctx, bert); err != nil {
		t.Fatal(err)
	}
}

// A confirmed change of address carries over into the expiry digests' lists (RenameDigestRecipient): in
// place of the old address where the digest reaches the person (a member there, or staff anywhere), the
// old one dropped where the new one is listed already; the list of an organisation the person does not
// belong to (it typed the address itself), an address that merely contains the old one, and other lists
// stay as they are.
func TestConfirmEmailRenamesDigestRecipients(t *testing.T) {
	d, _, a, b := docsFixture(t)
	ctx := context.Background()
	now := time.Now()
	c, err := d.CreateOrg(ctx, "Gamma KG", "gamma")
	if err != nil {
		t.Fatal(err)
	}
	var anna, tom int64
	err = d.Tx(ctx, func(tx *sql.Tx) error {
		if anna, _, err = EnsureUser(ctx, tx, now, "anna@kunde.example", "Anna", "de"); err != nil {
			return err
		}
		if err := SetMembership(ctx, tx, now, anna, a.ID, "viewer"); err != nil {
			return err
		}
		if err := SetMembership(ctx, tx, now, anna, c.ID, "viewer"); err != nil {
			return err
		}
		if tom, _, err = EnsureUser(ctx, tx, now, "tom@msp.example", "Tom", "de"); err != nil {
			return err
		}
		return SetStaffRole(ctx, tx, tom, "technician")
	})
	if err != nil {
		t.Fatal(err)
	}
	lists := map[int64][]string{
		a.ID: {"hanna@kunde.example", "Anna@Kunde.example", "tom@msp.example", "buero@kunde.example"},
		b.ID: {"anna@kunde.example", "tom@msp.example", "einkauf@beta.example"},
		c.ID: {"anna.neu@kunde.example", "anna@kunde.example"},
	}
	for org, rcpt := range lists {
		if err := d.SetExpiryDigest(ctx, ExpiryDigest{OrgID: org, Lang: "de", Recipients: rcpt}, nil); err != nil {
			t.Fatal(err)
		}
	}
	confirm := func(id int64, email string) {
		t.Helper()
		if err := d.Tx(ctx, func(tx *sql.Tx) error {
			taken, _, err := ConfirmEmail(ctx, tx, now, id, email)
			if taken {
				t.Errorf("%s taken", email)
			}
			return err
		}); err != nil {
			t.Fatal(err)
		}
	}
	confirm(anna, "anna.neu@kunde.example")
	confirm(tom, "tom.neu@msp.example")
	for org, want := range map[int64][]string{
		a.ID: {"hanna@kunde.example", "anna.neu@kunde.example", "tom.neu@msp.example", "buero@kunde.example"},
		b.ID: {"anna@kunde.example", "tom.neu@msp.example", "einkauf@beta.example"},
		c.ID: {"anna.neu@kunde.example"},
	} {
		dg, err := d.ExpiryDigestOf(ctx, org)
		if err != nil || !slices.Equal(dg.Recipients, want) {
			t.Errorf("org %d: %v (%v), want %v", org, dg.Recipients, err, want)
		}
	}
}

// A rehash replaces the hash and nothing else: the lock and the failure count stay.
func TestRehashPasswordTouchesOnlyTheHash(t *testing.T) {
	d, _ := openTest(t)
	ctx := context.Background()
	var id int64
	err := d.Tx(ctx, func(tx *sql.Tx) (err error) {
		id, _, err = EnsureUser(ctx, tx, time.Now(), "anna@kunde.example", "Anna", "de")
		return err
	})
	if err != nil {
		t.Fatal(err)
	}
	if _, err := d.W.Exec(`UPDATE users SET failed_logins = 3 WHERE id = ?`, id); err != nil {
		t.Fatal(err)
	}
	if err := d.RehashPassword(ctx, id, "$argon2id$new"); err != nil {
		t.Fatal(err)
	}
	u, err := d.UserByID(ctx, id)
	if err != nil || u.PasswordHash != "$argon2id$new" || u.FailedLogins != 3 {
		t.Fatalf("%+v %v", u, err)
	}
}
