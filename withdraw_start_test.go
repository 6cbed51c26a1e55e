package main

import (
	"context"
	"crypto/rand"
	"database/sql"
	"os"
	"path/filepath"
	"testing"
	"time"

	"portier/auth"
	"portier/db"
)

// Invitations sent by people who lost the right to invite before the rule existed — a manager made a
// viewer or disabled before this version, or in a restored database — are withdrawn when the server starts,
// before anyone is let in (accounts.WithdrawUnbackedAll); the others stay.
func TestServeWithdrawsInvitationsWhoseSendersMayNoLongerInvite(t *testing.T) {
	dir := filepath.Join(t.TempDir(), "data")
	if err := os.MkdirAll(dir, 0o700); err != nil {
		t.Fatal(err)
	}
	key := make([]byte, 32)
	rand.Read(key)
	if err := os.WriteFile(filepath.Join(dir, "secret.key"), key, 0o600); err != nil {
		t.Fatal(err)
	}
	ctx := context.Background()
	d, err := db.Open(ctx, filepath.Join(dir, "portier.db"))
	if err != nil {
		t.Fatal(err)
	}
	o, err := d.CreateOrg(ctx, "Alpha GmbH", "alpha")
	if err != nil {
		t.Fatal(err)
	}
	now := time.Now()
	person := func(email, role string, disabled bool) int64 {
		var id int64
		err := d.Tx(ctx, func(tx *sql.Tx) (err error) {
			if id, _, err = db.EnsureUser(ctx, tx, now, email, "", "en"); err != nil {
				return err
			}
			if err := db.SetMembership(ctx, tx, now, id, o.ID, role); err != nil {
				return err
			}
			return db.SetDisabled(ctx, tx, now, id, disabled)
		})
		if err != nil {
			t.Fatal(err)
		}
		return id
	}
	invite := func(email string, by int64) {
		_, hash := auth.NewToken()
		if _, err := d.CreateInvitation(ctx, db.NewInvitation{Email: email, Lang: "en", OrgID: o.ID, Role: "manager",
			InvitedBy: by, TokenHash: hash, TTL: 24 * time.Hour}); err != nil {
			t.Fatal(err)
		}
	}
	invite("from-demoted@private.example", person("mia@alpha.example", "viewer", false))
	invite("from-disabled@private.example", person("dora@alpha.example", "manager", true))
	invite("from-manager@alpha.example", person("mara@alpha.example", "manager", false))
	invite("from-cli@alpha.example", 0)
	d.Close()

	startPortier(t, map[string]string{"PORTIER_DATA": dir})
	d, err = db.Open(ctx, filepath.Join(dir, "portier.db"))
	if err != nil {
		t.Fatal(err)
	}
	defer d.Close()
	for email, open := range map[string]bool{"from-demoted@private.example": false, "from-disabled@private.example": false,
		"from-manager@alpha.example": true, "from-cli@alpha.example": true} {
		var n int
		if err := d.R.QueryRow(`SELECT count(*) FROM invitations i JOIN users u ON u.id = i.user_id WHERE u.email = ?
			AND i.accepted_at IS NULL AND i.revoked_at IS NULL`, email).Scan(&n); err != nil {
			t.Fatal(err)
		}
		if (n == 1) != open {
			t.Errorf("%s: %d open, want open=%v", email, n, open)
		}
	}
	var n int
	if err := d.R.QueryRow(`SELECT count(*) FROM audit WHERE action = 'invite.withdraw' AND org_id = ? AND user_agent = ?`,
		o.ID, serveAgent).Scan(&n); err != nil {
		t.Fatal(err)
	}
	if n != 2 {
		t.Errorf("%d withdrawals audited, want 2", n)
	}
}
