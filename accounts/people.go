package accounts

import (
	"context"
	"database/sql"
	"errors"

	"portier/access"
	"portier/db"
)

// Actions on people already in an organisation (orgID) or on the staff (orgID 0). Each asks the policy
// with the facts of both people first; a refusal comes back as the access package's error.

// SetRole changes target's role in orgID to manager or viewer. Nobody changes their own role (access.ErrSelf): a manager who
// made themselves a viewer would lock themselves out of the people page. It returns how many open
// invitations target had sent that went with their manager's role (decided).
func (a *Accounts) SetRole(ctx context.Context, by *db.User, orgID int64, target *db.User, old, role string, actor db.AuditEntry) (int, error) {
	if err := a.Decide(ctx, by, access.ChangeRole, orgID, target); err != nil {
		return 0, err
	}
	if role != access.Manager && role != access.Viewer {
		return 0, Invalid{"role": "people.error.role"}
	}
	if role == old {
		return 0, nil
	}
	// Asked again inside the change's transaction: the actor's own role may have changed since (decided).
	return a.decided(ctx, access.Person{ID: by.ID}, access.ChangeRole, orgID, target, actor, func(tx *sql.Tx, p access.Person, _ bool) error {
		// The entry tells the change this transaction makes: from the role it finds, and none when another
		// press (a colleague's, a second tab) made it already. old, read before this transaction, may be stale.
		if p.Orgs[orgID] == role {
			return nil
		}
		if err := db.SetMemberRole(ctx, tx, target.ID, orgID, role); err != nil {
			return err
		}
		e := actor
		e.OrgID, e.Action, e.Target = orgID, "member.role", target.Email+" ("+p.Orgs[orgID]+" → "+role+")"
		return a.db.Audit(ctx, tx, e)
	})
}

// RemoveMember ends target's membership of orgID, revokes their open invitations to it, withdraws the
// open ones they sent there (decided; it returns how many) and audits it, in one transaction. The
// membership is the organisation's business: its managers may remove a person who also belongs to
// organisations they do not manage, whose account (and sessions) stay for those. Nobody removes themselves
// (access.ErrSelf), and the staff have no membership to remove (access.ErrNotFound): they leave by being
// disabled. db.ErrNotFound when target is no member (any more).
//
// The policy is asked inside the removal's transaction (decided): two managers removing each other at once
// must not both succeed (the second has no authority left).
func (a *Accounts) RemoveMember(ctx context.Context, by *db.User, orgID int64, target *db.User, actor db.AuditEntry) (int, error) {
	return a.decided(ctx, access.Person{ID: by.ID}, access.RemoveMembership, orgID, target, actor, func(tx *sql.Tx, _ access.Person, _ bool) error {
		if err := db.RemoveMember(ctx, tx, a.now(), target.ID, orgID); err != nil {
			return err
		}
		e := actor
		e.OrgID, e.Action, e.Target = orgID, "member.remove", target.Email
		return a.db.Audit(ctx, tx, e)
	})
}

// decided runs change in one write transaction that first asks the policy (decideTx) with what it reads
// there: every action on people goes through it, so a decision is never overtaken by a write committed
// between it and the change; change gets the target as that transaction found them (their facts and
// whether they are disabled). After the change, in the same transaction, the open invitations the target
// sent that their authority no longer carries are withdrawn (withdrawUnbacked); decided returns how many.
// by is the actor as decideTx reads it: their ID, or the operator of the command line.
func (a *Accounts) decided(ctx context.Context, by access.Person, action access.Action, orgID int64, target *db.User,
	actor db.AuditEntry, change func(tx *sql.Tx, was access.Person, wasDisabled bool) error) (int, error) {
	var withdrawn int
	err := a.db.Tx(ctx, func(tx *sql.Tx) (err error) {
		was, wasDisabled, err := a.decideTx(ctx, tx, by, action, orgID, &access.Person{ID: target.ID})
		if err != nil {
			return err
		}
		if err := change(tx, was, wasDisabled); err != nil {
			return err
		}
		withdrawn, err = a.withdrawUnbacked(ctx, tx, target.ID, actor)
		return err
	})
	return withdrawn, err
}

// decideTx is Decide with both people's facts (staff role, memberships) read inside tx, the transaction
// that then acts: nothing committed between the decision and the change can make it stale. Only the IDs
// of actor and target are used (and actor.Operator, the command line, which has no account); target nil is
// an address nobody has yet. An actor whose account was disabled meanwhile (say by the person they act on,
// at the same moment) acts no more. It returns the target's facts as read (and whether they are disabled)
// for the change that follows.
func (a *Accounts) decideTx(ctx context.Context, tx *sql.Tx, actor access.Person, action access.Action, orgID int64,
	target *access.Person) (access.Person, bool, error) {
	if !actor.Operator {
		p, disabled, err := factsTx(ctx, tx, actor.ID)
		if errors.Is(err, db.ErrNotFound) || disabled {
			return access.Person{}, false, access.ErrNotFound
		}
		if err != nil {
			return access.Person{}, false, err
		}
		actor = p
	}
	var targetDisabled bool
	if target != nil {
		p, disabled, err := factsTx(ctx, tx, target.ID)
		if err != nil {
			return access.Person{}, false, err
		}
		target, targetDisabled = &p, disabled
	}
	if err := access.Decide(actor, action, orgID, target); err != nil {
		return access.Person{}, false, err
	}
	if target == nil {
		return access.Person{}, false, nil
	}
	return *target, targetDisabled, nil
}

// factsTx is the person as the policy sees them, read inside tx, and whether their account is disabled.
func factsTx(ctx context.Context, tx *sql.Tx, id int64) (access.Person, bool, error) {
	f, disabled, err := db.PolicyFactsTx(ctx, tx, id)
	return access.Person{ID: id, StaffRole: f.StaffRole, Orgs: f.Orgs}, disabled, err
}

// withdrawUnbacked withdraws, inside tx, every open invitation sender sent (or sent again last) that their
// authority no longer carries: an invitation grants a membership on its sender's word, so it must not
// outlive the sender's right to invite to that place (access.Invite) — a manager about to be removed could
// otherwise invite an address of their own and come back through it. A disabled sender's open invitations
// all go. Each withdrawal is audited in tx, by actor, who made the change that caused it. It returns how
// many it withdrew.
func (a *Accounts) withdrawUnbacked(ctx context.Context, tx *sql.Tx, sender int64, actor db.AuditEntry) (int, error) {
	now := a.now()
	sent, err := db.OpenInvitationsSentBy(ctx, tx, now, sender)
	if err != nil || len(sent) == 0 {
		return 0, err
	}
	p, disabled, err := factsTx(ctx, tx, sender)
	if err != nil {
		return 0, err
	}
	n := 0
	for _, inv := range sent {
		if !disabled && access.Decide(p, access.Invite, inv.OrgID, nil) == nil {
			continue
		}
		if err := db.WithdrawInvitation(ctx, tx, now, inv.ID); err != nil {
			return 0, err
		}
		e := actor
		e.OrgID, e.Action, e.Target = inv.OrgID, "invite.withdraw", inv.Email+" ("+inv.Role+")"
		if err := a.db.Audit(ctx, tx, e); err != nil {
			return 0, err
		}
		n++
	}
	return n, nil
}

// WithdrawUnbackedAll withdraws, in one transaction, every open invitation whose sender may no longer
// back it (withdrawUnbacked), audited as actor, and returns how many. The people actions withdraw as they
// change someone (decided); this catches what none of them saw: invitations sent by people who lost their
// right to invite before the rule existed (an upgrade), or in a database restored from such a time. The
// server runs it at every start.
func (a *Accounts) WithdrawUnbackedAll(ctx context.Context, actor db.AuditEntry) (int, error) {
	total := 0
	err := a.db.Tx(ctx, func(tx *sql.Tx) error {
		senders, err := db.OpenInvitationSenders(ctx, tx, a.now())
		if err != nil {
			return err
		}
		for _, s := range senders {
			n, err := a.withdrawUnbacked(ctx, tx, s, actor)
			if err != nil {
				return err
			}
			total += n
		}
		return nil
	})
	if err != nil {
		return 0, err
	}
	return total, nil
}

// SetDisabled disables (ending every session) or enables target's account. The account is shared by all
// the person's organisations: a manager may do so only when they manage every one of them. The last
// enabled administrator stays (ErrLastAdmin). The policy is asked inside the change's transaction, as for
// a removal: two managers disabling each other at once do not both succeed. Disabling withdraws the open
// invitations target sent (decided); it returns how many. by is the signed-in person (access.Person{ID:
// ...}: the transaction reads the rest) or the command line's operator, who disables at place 0 as an
// administrator would on the staff pages.
func (a *Accounts) SetDisabled(ctx context.Context, by access.Person, orgID int64, target *db.User, disabled bool, actor db.AuditEntry) (int, error) {
	return a.setDisabled(ctx, by, orgID, target, disabled, true, actor)
}

// DisableLastAdmin is the operator's SetDisabled at place 0 without the last-administrator rule: the answer
// to a stolen account of the only administrator, which the rule would otherwise keep enabled until another
// administrator had accepted an invitation. With no enabled administrator left, the console's setup link
// and `portier admin create` (whose link the operator holds) make the next one. Only the command line
// calls it.
func (a *Accounts) DisableLastAdmin(ctx context.Context, target *db.User, actor db.AuditEntry) (int, error) {
	return a.setDisabled(ctx, access.Operator(), 0, target, true, false, actor)
}

func (a *Accounts) setDisabled(ctx context.Context, by access.Person, orgID int64, target *db.User, disabled, keepLastAdmin bool,
	actor db.AuditEntry) (int, error) {
	action := "user.enable"
	if disabled {
		action = "user.disable"
	}
	withdrawn, err := a.decided(ctx, by, access.SetDisabled, orgID, target, actor, func(tx *sql.Tx, _ access.Person, was bool) error {
		// Another press (a colleague's, a second tab) made the change already: nothing to change or log.
		if was == disabled {
			return nil
		}
		var err error
		if disabled && keepLastAdmin {
			err = db.DisableUnlessLastAdmin(ctx, tx, a.now(), target.ID)
		} else {
			err = db.SetDisabled(ctx, tx, a.now(), target.ID, disabled)
		}
		if err != nil {
			return err
		}
		e := actor
		e.OrgID, e.Action, e.Target = orgID, action, target.Email
		return a.db.Audit(ctx, tx, e)
	})
	if errors.Is(err, db.ErrConflict) {
		return 0, ErrLastAdmin
	}
	return withdrawn, err
}

// ResetSecondFactors deletes target's second factors and recovery codes, ends their sessions, mails them
// and audits it, all in one transaction; they enrol again at the next sign-in. The factors belong to the
// account, which every organisation of the person shares: a manager may do it only when they manage all.
func (a *Accounts) ResetSecondFactors(ctx context.Context, by *db.User, orgID int64, target *db.User, actor db.AuditEntry) error {
	if err := a.Decide(ctx, by, access.ResetSecondFactor, orgID, target); err != nil {
		return err
	}
	m, err := a.mails.SecondFactorsReset(ctx, target, by.DisplayName())
	if err != nil {
		return err
	}
	// Asked again with what the transaction reads (decided): the actor's authority may have gone meanwhile.
	_, err = a.decided(ctx, access.Person{ID: by.ID}, access.ResetSecondFactor, orgID, target, actor, func(tx *sql.Tx, _ access.Person, _ bool) error {
		if err := db.ResetMFA(ctx, tx, target.ID); err != nil {
			return err
		}
		if err := a.queue(ctx, tx, m); err != nil {
			return err
		}
		e := actor
		e.OrgID, e.Action, e.Target = orgID, "mfa.reset", target.Email
		return a.db.Audit(ctx, tx, e)
	})
	if err != nil {
		return err
	}
	a.wake()
	return nil
}
