package accounts_test

import (
	"context"
	"errors"
	"strings"
	"testing"

	"portier/access"
	"portier/accounts"
	"portier/auth"
	"portier/db"
)

// The provider's acceptance of an invitation decides in its own transaction, as the password's does: an
// account disabled, an invitation withdrawn or a person made staff while the provider sign-in was on its
// way (the caller read the person and the invitation before) accepts nothing, links no provider account
// and finishes no sign-up. Without that decision a disabled account still became a member (the
// conditional update refuses only a link that is used, revoked or expired).
func TestProviderAcceptanceDecidesInItsTransaction(t *testing.T) {
	for _, c := range []struct {
		name      string
		meanwhile func(e *env, u *db.User, inv *db.Invitation) error
	}{
		{"account disabled", func(e *env, u *db.User, _ *db.Invitation) error {
			return e.d.SetDisabled(context.Background(), u.ID, true)
		}},
		{"invitation withdrawn", func(e *env, _ *db.User, inv *db.Invitation) error {
			return e.d.RevokeInvitation(context.Background(), inv.ID)
		}},
		{"made staff", func(e *env, u *db.User, _ *db.Invitation) error {
			_, err := e.d.W.Exec(`UPDATE users SET staff_role = 'technician' WHERE id = ?`, u.ID)
			return err
		}},
	} {
		t.Run(c.name, func(t *testing.T) {
			e := newEnv(t)
			ctx := context.Background()
			o, err := e.d.CreateOrg(ctx, "Kunde GmbH", "kunde")
			if err != nil {
				t.Fatal(err)
			}
			sealer, _ := db.NewSealer(make([]byte, 32))
			p := &db.IdP{OrgID: o.ID, Kind: "oidc", Name: "Kunde SSO", Issuer: "https://sso.kunde.example", ClientID: "portier"}
			if err := e.d.SaveIdP(ctx, sealer, p, "secret", db.AuditEntry{}); err != nil {
				t.Fatal(err)
			}
			if p, err = e.d.IdPByOrg(ctx, o.ID); err != nil {
				t.Fatal(err)
			}
			sent, err := e.acc.Invite(ctx, accounts.InviteRequest{Email: "anna@kunde.example", Lang: "en", OrgID: o.ID, Role: "viewer", By: access.Operator()})
			if err != nil {
				t.Fatal(err)
			}
			hash, _ := auth.HashToken(sent.Link[strings.LastIndex(sent.Link, "/")+1:])
			// What the callback read before the provider answered.
			u, err := e.d.UserByEmail(ctx, "anna@kunde.example")
			if err != nil {
				t.Fatal(err)
			}
			inv, err := e.d.InvitationByToken(ctx, hash)
			if err != nil {
				t.Fatal(err)
			}
			if err := c.meanwhile(e, u, inv); err != nil {
				t.Fatal(err)
			}
			err = e.acc.AcceptWithProvider(ctx, accounts.ProviderAcceptance{User: u, Inv: inv, Hash: hash, IdPID: p.ID, IdPName: p.Name,
				Subject: "oidc sub-1", Email: u.Email, Link: true, Name: "Anna", Lang: "en", Terms: 0})
			if !errors.Is(err, accounts.ErrLinkUsed) {
				t.Fatalf("accepted: %v", err)
			}
			if _, err := e.d.MemberRole(ctx, u.ID, o.ID); err == nil {
				t.Error("made a member")
			}
			if _, err := e.d.IdentityBySubject(ctx, "oidc sub-1"); err == nil {
				t.Error("the provider account was linked")
			}
			if after, _ := e.d.UserByID(ctx, u.ID); after.Name != u.Name || after.EmailConfirmed != u.EmailConfirmed {
				t.Error("the sign-up was finished")
			}
		})
	}
}
