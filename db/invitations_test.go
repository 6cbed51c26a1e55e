package db

import (
	"context"
	"database/sql"
	"errors"
	"path/filepath"
	"testing"
	"time"
)

func openTest(t *testing.T) (*DB, string) {
	t.Helper()
	path := filepath.Join(t.TempDir(), "portier.db")
	d, err := Open(context.Background(), path)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { d.Close() })
	return d, path
}

// An invitation grants nothing until it is accepted; revoking takes nothing from anyone.
func TestInvitationGrantsOnlyWhenAccepted(t *testing.T) {
	d, _ := openTest(t)
	ctx := context.Background()
	o, err := d.CreateOrg(ctx, "Alpha GmbH", "alpha")
	if err != nil {
		t.Fatal(err)
	}
	hash := []byte("0123456789abcdef0123456789abcdef")
	inv, err := d.CreateInvitation(ctx, NewInvitation{Email: "neu@alpha.example", Name: "Nina", Lang: "en", OrgID: o.ID,
		Role: "manager", TokenHash: hash, TTL: time.Hour})
	if err != nil {
		t.Fatal(err)
	}
	if _, err := d.MemberRole(ctx, inv.UserID, o.ID); !errors.Is(err, ErrNotFound) {
		t.Fatalf("member before accepting: %v", err)
	}
	staffHash := []byte("fedcba9876543210fedcba9876543210")
	sinv, err := d.CreateInvitation(ctx, NewInvitation{Email: "tech@msp.example", Lang: "en", Role: "technician", TokenHash: staffHash, TTL: time.Hour})
	if err != nil {
		t.Fatal(err)
	}
	if u, _ := d.UserByID(ctx, sinv.UserID); u.StaffRole != "" {
		t.Fatalf("staff before accepting: %q", u.StaffRole)
	}
	err = d.Tx(ctx, func(tx *sql.Tx) error {
		if _, _, err := AcceptInvitation(ctx, tx, d.Now(), hash); err != nil {
			return err
		}
		_, _, err := AcceptInvitation(ctx, tx, d.Now(), staffHash)
		return err
	})
	if err != nil {
		t.Fatal(err)
	}
	if role, err := d.MemberRole(ctx, inv.UserID, o.ID); err != nil || role != "manager" {
		t.Fatalf("accepted: %q %v", role, err)
	}
	if u, _ := d.UserByID(ctx, sinv.UserID); u.StaffRole != "technician" {
		t.Fatalf("accepted staff: %q", u.StaffRole)
	}
	// A second invitation of the member, revoked: the membership stays as accepting made it.
	inv2, err := d.CreateInvitation(ctx, NewInvitation{Email: "neu@alpha.example", OrgID: o.ID, Role: "viewer",
		TokenHash: []byte("another-token-hash-of-32-bytes!!"), TTL: time.Hour})
	if err != nil {
		t.Fatal(err)
	}
	if err := d.RevokeInvitation(ctx, inv2.ID); err != nil {
		t.Fatal(err)
	}
	if role, err := d.MemberRole(ctx, inv.UserID, o.ID); err != nil || role != "manager" {
		t.Fatalf("after revoking another invitation: %q %v", role, err)
	}
}

// Migration 0009 takes back what only an unaccepted invitation gave under the old rule, and keeps what an
// accepted invitation or direct set-up gave.
func TestMigrationTakesBackUnacceptedInvitations(t *testing.T) {
	d, path := openTest(t)
	ctx := context.Background()
	now := time.Now().Unix()
	exec := func(q string, args ...any) int64 {
		t.Helper()
		res, err := d.W.Exec(q, args...)
		if err != nil {
			t.Fatalf("%s: %v", q, err)
		}
		id, _ := res.LastInsertId()
		return id
	}
	exec(`DELETE FROM schema_migrations WHERE version = 9`)
	exec(`ALTER TABLE invitations DROP COLUMN name`)
	a := exec(`INSERT INTO orgs(name, slug, created_at) VALUES ('Alpha', 'alpha', ?)`, now)
	b := exec(`INSERT INTO orgs(name, slug, created_at) VALUES ('Beta', 'beta', ?)`, now)
	user := func(email, staff string) int64 {
		var s any
		if staff != "" {
			s = staff
		}
		return exec(`INSERT INTO users(email, name, password_hash, staff_role, created_at) VALUES (?, 'Real Name', 'x', ?, ?)`, email, s, now)
	}
	invite := func(uid int64, org any, role string, accepted bool) {
		var at any
		if accepted {
			at = now
		}
		exec(`INSERT INTO invitations(user_id, org_id, role, token_hash, created_at, expires_at, accepted_at)
			VALUES (?, ?, ?, randomblob(32), ?, ?, ?)`, uid, org, role, now, now+3600, at)
	}
	member := func(uid, org int64, role string) {
		exec(`INSERT INTO memberships(user_id, org_id, role, created_at) VALUES (?, ?, ?, ?)`, uid, org, role, now)
	}
	// Bea, Beta's manager since setup, was invited into Alpha by Alpha's manager: the old code made her a
	// member at once.
	bea := user("bea@beta.example", "")
	member(bea, b, "manager")
	member(bea, a, "manager")
	invite(bea, a, "manager", false)
	// Ann accepted her invitation into Alpha.
	ann := user("ann@alpha.example", "")
	member(ann, a, "viewer")
	invite(ann, a, "viewer", true)
	// Sam is staff through an accepted invitation; Tim only through an open one.
	sam := user("sam@msp.example", "admin")
	invite(sam, nil, "admin", true)
	tim := user("tim@msp.example", "technician")
	invite(tim, nil, "technician", false)
	d.Close()

	d, err := Open(ctx, path)
	if err != nil {
		t.Fatalf("reopen: %v", err)
	}
	defer d.Close()
	if _, err := d.MemberRole(ctx, bea, a); !errors.Is(err, ErrNotFound) {
		t.Error("Bea still a member of Alpha through an unaccepted invitation")
	}
	if r, _ := d.MemberRole(ctx, bea, b); r != "manager" {
		t.Error("Bea lost Beta")
	}
	if r, _ := d.MemberRole(ctx, ann, a); r != "viewer" {
		t.Error("Ann lost Alpha")
	}
	if u, _ := d.UserByID(ctx, sam); u.StaffRole != "admin" {
		t.Error("Sam lost the staff role")
	}
	if u, _ := d.UserByID(ctx, tim); u.StaffRole != "" {
		t.Error("Tim is staff through an unaccepted invitation")
	}
	invs, err := d.Invitations(ctx, a)
	if err != nil || len(invs) != 2 {
		t.Fatalf("invitations: %v %v", invs, err)
	}
	for _, inv := range invs {
		if inv.Name != "" {
			t.Errorf("an account's own name in the inviter's list: %q", inv.Name)
		}
	}
}

// Migration 0036 gives every invitation written before it the address its person had then, which is the
// one it went to for every invitation that can still be used (an address change revokes them).
func TestMigrationGivesInvitationsTheirAddress(t *testing.T) {
	d, path := openTest(t)
	ctx := context.Background()
	for _, q := range []string{`DELETE FROM schema_migrations WHERE version = 36`, `ALTER TABLE invitations DROP COLUMN email`,
		`INSERT INTO users(id, email, name, created_at) VALUES (7, 'petra@kunde.example', 'Petra', 0)`,
		`INSERT INTO users(id, email, name, created_at) VALUES (8, 'ada@muster-it.example', 'Ada', 0)`,
		// Open, expired, accepted and revoked; sent by someone and by the command line (invited_by NULL).
		`INSERT INTO invitations(user_id, role, token_hash, created_at, expires_at) VALUES (7, 'technician', randomblob(32), 0, 0)`,
		`INSERT INTO invitations(user_id, role, token_hash, created_at, expires_at, invited_by) VALUES (7, 'technician', randomblob(32), 0, 9999999999, 8)`,
		`INSERT INTO invitations(user_id, role, token_hash, created_at, expires_at, accepted_at) VALUES (7, 'admin', randomblob(32), 0, 9999999999, 1)`,
		`INSERT INTO invitations(user_id, role, token_hash, created_at, expires_at, revoked_at, invited_by) VALUES (7, 'admin', randomblob(32), 0, 9999999999, 1, 8)`} {
		if _, err := d.W.Exec(q); err != nil {
			t.Fatalf("%s: %v", q, err)
		}
	}
	d.Close()
	d, err := Open(ctx, path)
	if err != nil {
		t.Fatalf("reopen: %v", err)
	}
	defer d.Close()
	var n int
	if err := d.R.QueryRow(`SELECT count(*) FROM invitations WHERE user_id = 7 AND email = 'petra@kunde.example'`).Scan(&n); err != nil || n != 4 {
		t.Fatalf("invitations with their address after the migration: %d of 4, %v", n, err)
	}
}
