package db

import (
	"context"
	"database/sql"
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
		taken, err = ConfirmEmail(ctx, tx, now, anna, "bert@kunde.example")
		return err
	})
	if u, _ := d.UserByID(ctx, anna); err != nil || !taken || u.Email != "anna@kunde.example" || u.PendingEmail != "" {
		t.Fatalf("taken address: taken=%v email=%q waiting %q %v", taken, u.Email, u.PendingEmail, err)
	}
	err = d.Tx(ctx, func(tx *sql.Tx) (err error) {
		taken, err = ConfirmEmail(ctx, tx, now, anna, "anna.neu@kunde.example")
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
