package accounts

import (
	"context"
	"database/sql"
	"errors"
	"time"

	"portier/access"
	"portier/auth"
	"portier/db"
)

// InviteRequest asks to invite a person to an organisation (OrgID != 0, Role manager/viewer) or to the
// MSP's staff (OrgID 0, Role admin/technician).
type InviteRequest struct {
	Email, Name, Lang string
	OrgID             int64
	Role              string
	By                access.Person // who invites, as the policy sees them (access.Operator() for the command line)
	Actor             db.AuditEntry // who invites, for the audit log (ActorID 0: the command line), with IP and user agent
	// NoMail creates the invitation without a mail: for the first administrator, whose browser goes on to
	// the invitation page at once (a mail inviting them to their own portal would only confuse).
	NoMail bool
}

// InviteResult says what Invite did.
type InviteResult int

const (
	Invited       InviteResult = iota // a new invitation (it replaces an open one of another role)
	Resent                            // the open invitation of the same role, with a new link
	AlreadyMember                     // an active member (or staff member) already: nothing was sent
)

// Sent is an invitation just created or re-sent, with its link, which exists nowhere else (only its hash
// is stored).
type Sent struct {
	Link   string
	Inv    *db.Invitation
	Result InviteResult
}

// InviteTTL is the invitation lifetime: the administrators' setting, else the configured default.
func (a *Accounts) InviteTTL(ctx context.Context) time.Duration {
	if v, err := a.db.Setting(ctx, "invite.ttl_days", ""); err == nil && v != "" {
		if d, err := time.ParseDuration(v + "h"); err == nil && d > 0 {
			return d * 24
		}
	}
	return a.ttl
}

// Invite asks the policy (access.Invite), then invites, or re-sends the person's open invitation of the
// same role (a second invitation never piles up, and the older link dies either way), or does nothing for
// someone who already has what is offered. It queues the mail in the invitee's language and audits it.
// The web pages, the console's setup link and the command line all come here.
//
// A customer's manager gets the same result for an address of MSP staff or of another organisation as for
// an unknown one (access.Decide allows it; accepting is what the policy refuses), so the answer tells them
// nothing about who the address belongs to.
func (a *Accounts) Invite(ctx context.Context, req InviteRequest) (Sent, error) {
	existing, err := a.db.UserByEmail(ctx, req.Email)
	if errors.Is(err, db.ErrNotFound) {
		existing, err = nil, nil
	}
	if err != nil {
		return Sent{}, err
	}
	// Checked before the policy, as the staff's page always did; only administrators invite staff, and
	// they know the staff's roles anyway.
	if req.OrgID == 0 && existing != nil && existing.ID != req.By.ID && existing.StaffRole != "" &&
		existing.StaffRole != req.Role && existing.PasswordHash != "" {
		return Sent{}, ErrRoleDiffers
	}
	var target *access.Person
	if existing != nil {
		p, err := a.Person(ctx, existing)
		if err != nil {
			return Sent{}, err
		}
		target = &p
	}
	if err := access.Decide(req.By, access.Invite, req.OrgID, target); err != nil {
		return Sent{}, err
	}
	if existing != nil {
		// A member is a member whether they sign in with a password or only through their organisation's
		// provider (no password): an invitation would offer them nothing but, accepted, their role
		// replaced by the one it names, outside the role control and its rules.
		has := existing.StaffRole != ""
		if req.OrgID != 0 {
			has = target.Orgs[req.OrgID] != ""
		}
		if has {
			return Sent{Result: AlreadyMember}, nil
		}
		if existing.Disabled && req.By.ForMSP() {
			return Sent{}, ErrAccountDisabled
		}
		inv, err := a.db.OpenInvitation(ctx, existing.ID, req.OrgID)
		switch {
		case err == nil && inv.Role == req.Role:
			sent, err := a.Reissue(ctx, inv.ID, req.By, req.Actor)
			sent.Result = Resent
			return sent, err
		case err == nil:
			// Another role: a new invitation replaces the open one (CreateInvitation revokes it).
		case !errors.Is(err, db.ErrNotFound):
			return Sent{}, err
		}
	}
	raw, hash := auth.NewToken()
	var id int64
	err = a.db.Tx(ctx, func(tx *sql.Tx) (err error) {
		// Asked again with what the transaction reads: the invitation stands on the inviter's authority
		// (withdrawUnbacked), so it must not be created after a removal or demotion that took it.
		if _, _, err := a.decideTx(ctx, tx, req.By, access.Invite, req.OrgID, target); err != nil {
			return err
		}
		id, err = db.CreateInvitation(ctx, tx, a.now(), db.NewInvitation{
			Email: req.Email, Name: req.Name, Lang: req.Lang, OrgID: req.OrgID, Role: req.Role,
			InvitedBy: req.By.ID, TokenHash: hash, TTL: a.InviteTTL(ctx),
		})
		return err
	})
	if err != nil {
		return Sent{}, err
	}
	inv, err := a.db.InvitationByID(ctx, id)
	if err != nil {
		return Sent{}, err
	}
	if req.NoMail {
		e := req.Actor
		e.OrgID, e.Action, e.Target = inv.OrgID, "invite.create", inv.Email+" ("+inv.Role+")"
		return Sent{Link: a.mails.Link("/invite/" + raw), Inv: inv, Result: Invited}, a.db.Audit(ctx, nil, e)
	}
	link, err := a.send(ctx, inv, raw, req.Actor, "invite.create")
	return Sent{Link: link, Inv: inv, Result: Invited}, err
}

// Reissue re-sends an invitation with a new link; the old link dies, and by becomes its sender, on whose
// authority it stands from then on. The caller asked the policy (access.ResendInvitation) with the
// invitation's place; it is asked again inside the transaction that replaces the link.
func (a *Accounts) Reissue(ctx context.Context, id int64, by access.Person, actor db.AuditEntry) (Sent, error) {
	old, err := a.db.InvitationByID(ctx, id)
	if err != nil {
		return Sent{}, err
	}
	raw, hash := auth.NewToken()
	var newID int64
	err = a.db.Tx(ctx, func(tx *sql.Tx) (err error) {
		_, disabled, err := a.decideTx(ctx, tx, by, access.ResendInvitation, old.OrgID, &access.Person{ID: old.UserID})
		if err != nil {
			return err
		}
		if disabled && by.ForMSP() { // as Invite tells them; a customer's manager is answered as for anyone (send)
			return ErrAccountDisabled
		}
		newID, err = db.ReissueInvitation(ctx, tx, a.now(), id, by.ID, hash, a.InviteTTL(ctx))
		return err
	})
	if err != nil {
		return Sent{}, err
	}
	inv, err := a.db.InvitationByID(ctx, newID)
	if err != nil {
		return Sent{}, err
	}
	link, err := a.send(ctx, inv, raw, actor, "invite.resend")
	return Sent{Link: link, Inv: inv, Result: Resent}, err
}

// Revoke withdraws an open invitation; the person keeps everything else, since the invitation gave them
// nothing. db.ErrConflict when it was accepted or revoked meanwhile. The caller asked the policy
// (access.RevokeInvitation).
func (a *Accounts) Revoke(ctx context.Context, inv *db.Invitation, actor db.AuditEntry) error {
	if err := a.db.RevokeInvitation(ctx, inv.ID); errors.Is(err, db.ErrNotFound) {
		return db.ErrConflict
	} else if err != nil {
		return err
	}
	actor.OrgID, actor.Action, actor.Target = inv.OrgID, "invite.revoke", inv.Email+" ("+inv.Role+")"
	a.audits.Record(ctx, actor)
	return nil
}

// send queues the invitation mail and its audit entry in one transaction. A disabled account gets no mail
// (its link would say "revoked", and a person locked out has no use for invitations); the inviter's answer
// and the audit entry stay as for anyone, so a customer's manager learns nothing of the account.
func (a *Accounts) send(ctx context.Context, inv *db.Invitation, raw string, actor db.AuditEntry, action string) (string, error) {
	link := a.mails.Link("/invite/" + raw)
	m, err := a.mails.Invitation(ctx, inv, link, actor.ActorName)
	if err != nil {
		return "", err
	}
	err = a.db.Tx(ctx, func(tx *sql.Tx) error {
		if _, disabled, err := factsTx(ctx, tx, inv.UserID); err != nil {
			return err
		} else if !disabled {
			if err := a.queue(ctx, tx, m); err != nil {
				return err
			}
		}
		e := actor
		e.OrgID, e.Action, e.Target = inv.OrgID, action, inv.Email+" ("+inv.Role+")"
		return a.db.Audit(ctx, tx, e)
	})
	if err != nil {
		return "", err
	}
	a.wake()
	return link, nil
}
