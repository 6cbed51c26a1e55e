package db

import (
	"context"
	"database/sql"
	"testing"
	"time"
)

// A save of a session that is gone (ended while its request ran) creates nothing; the cleanup removes
// expired sessions and listings without a session, but not a listing whose session is still being saved.
func TestSessionSaveNeverRecreatesAndCleanup(t *testing.T) {
	d := openTemp(t)
	ctx := context.Background()
	var uid int64
	err := d.Tx(ctx, func(tx *sql.Tx) error {
		var err error
		uid, _, err = EnsureUser(ctx, tx, d.Now(), "anna@muster.example", "Anna", "en")
		return err
	})
	if err != nil {
		t.Fatal(err)
	}
	later := time.Now().Add(time.Hour)
	if ok, err := d.UpdateSession(ctx, "gone", []byte("x"), later); err != nil || ok {
		t.Fatalf("update of a missing session: %v, %v", ok, err)
	}
	if _, found, _ := d.FindSession(ctx, "gone"); found {
		t.Fatal("an update created a session")
	}
	if err := d.InsertSession(ctx, "live", []byte("a"), later); err != nil {
		t.Fatal(err)
	}
	if err := d.InsertSession(ctx, "live", []byte("b"), later); err == nil {
		t.Fatal("a second insert of a token replaced the first")
	}
	if ok, err := d.UpdateSession(ctx, "live", []byte("c"), later); err != nil || !ok {
		t.Fatalf("update: %v, %v", ok, err)
	}
	if b, found, _ := d.FindSession(ctx, "live"); !found || string(b) != "c" {
		t.Fatalf("live session: %q %v", b, found)
	}
	if err := d.InsertSession(ctx, "expired", []byte("e"), time.Now().Add(-time.Minute)); err != nil {
		t.Fatal(err)
	}
	if _, found, _ := d.FindSession(ctx, "expired"); found {
		t.Fatal("an expired session was found")
	}
	// Listings: one with its session, one being issued (no data yet), one whose session is long gone.
	for _, tok := range []string{"live", "issuing", "stale"} {
		if err := d.AddUserSession(ctx, tok, uid, 0, "127.0.0.1", "test"); err != nil {
			t.Fatal(err)
		}
	}
	if _, err := d.W.Exec(`UPDATE user_sessions SET last_seen = ? WHERE hash = ?`, d.Now().Add(-2*staleListing).Unix(), SessionHash("stale")); err != nil {
		t.Fatal(err)
	}
	if err := d.DeleteExpiredSessions(ctx); err != nil {
		t.Fatal(err)
	}
	var n int
	d.R.QueryRow(`SELECT count(*) FROM sessions`).Scan(&n)
	if n != 1 {
		t.Fatalf("%d sessions after cleanup, want the live one", n)
	}
	ss, err := d.UserSessions(ctx, uid)
	if err != nil || len(ss) != 2 {
		t.Fatalf("%d listings after cleanup, want live and issuing: %v", len(ss), err)
	}
	for _, s := range ss {
		if string(s.Hash) == string(SessionHash("stale")) {
			t.Fatal("the stale listing survived")
		}
	}
}
