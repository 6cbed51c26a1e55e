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
// made themselves a viewer would lock themselves out of the people page.
func (a *Accounts) SetRole(ctx context.Context, by *db.User, orgID int64, target *db.User, old, role string, actor db.AuditEntry) error {
	if err := a.Decide(ctx, by, access.ChangeRole, orgID, target); err != nil {
		return err
	}
	if role != access.Manager && role != access.Viewer {
		return Invalid{"role": "people.error.role"}
	}
	if role == old {
		return nil
	}
	// Asked again inside the change's transaction: the actor's own role may have changed since (decided).
	err := a.decided(ctx, by, access.ChangeRole, orgID, target, func(tx *sql.Tx) error {
		return db.SetMemberRole(ctx, tx, target.ID, orgID, role)
	})
	if err != nil {
		return err
	}
	actor.OrgID, actor.Action, actor.Target = orgID, "member.role", target.Email+" ("+old+" → "+role+")"
	a.audits.Record(ctx, actor)
	return nil
}

// RemoveMember ends target's membership of orgID, revokes their open invitations to it and audits it, in
// one transaction. The membership is the organisation's business: its managers may remove a person who
// also belongs to organisations they do not manage, whose account (and sessions) stay for those. Nobody
// removes themselves (access.ErrSelf), and the staff have no membership to remove (access.ErrNotFound):
// they leave by being disabled. db.ErrNotFound when target is no member (any more).
//
// The policy is asked inside the removal's transaction (decided): two managers removing each other at once
// must not both succeed (the second has no authority left).
func (a *Accounts) RemoveMember(ctx context.Context, by *db.User, orgID int64, target *db.User, actor db.AuditEntry) error {
	actor.OrgID, actor.Action, actor.Target = orgID, "member.remove", target.Email
	return a.decided(ctx, by, access.RemoveMembership, orgID, target, func(tx *sql.Tx) error {
		if err := db.RemoveMember(ctx, tx, a.now(), target.ID, orgID); err != nil {
			return err
		}
		return a.db.Audit(ctx, tx, actor)
	})
}

// decided runs change in one write transaction that first asks the policy (decideTx) with what it reads
// there: every action on people goes through it, so a decision is never overtaken by a write committed
// between it and the change.
func (a *Accounts) decided(ctx context.Context, by *db.User, action access.Action, orgID int64, target *db.User, change func(*sql.Tx) error) error {
	return a.db.Tx(ctx, func(tx *sql.Tx) error {
		if err := a.decideTx(ctx, tx, by, action, orgID, target); err != nil {
			return err
		}
		return change(tx)
	})
}

// decideTx is Decide with both people's facts (staff role, memberships) read inside tx, the transaction
// that then acts: nothing committed between the decision and the change can make it stale. An actor whose
// account was disabled meanwhile (say by the person they act on, at the same moment) acts no more.
func (a *Accounts) decideTx(ctx context.Context, tx *sql.Tx, actor *db.User, action access.Action, orgID int64, target *db.User) error {
	af, disabled, err := db.PolicyFactsTx(ctx, tx, actor.ID)
	if errors.Is(err, db.ErrNotFound) || disabled {
		return access.ErrNotFound
	}
	if err != nil {
		return err
	}
	tf, _, err := db.PolicyFactsTx(ctx, tx, target.ID)
	if err != nil {
		return err
	}
	return access.Decide(access.Person{ID: actor.ID, StaffRole: af.StaffRole, Orgs: af.Orgs}, action, orgID,
		&access.Person{ID: target.ID, StaffRole: tf.StaffRole, Orgs: tf.Orgs})
}

// SetDisabled disables (ending every session) or enables target's account. The account is shared by all
// the person's organisations: a manager may do so only when they manage every one of them. The last
// enabled administrator stays (ErrLastAdmin). The policy is asked inside the change's transaction, as for
// a removal: two managers disabling each other at once do not both succeed.
func (a *Accounts) SetDisabled(ctx context.Context, by *db.User, orgID int64, target *db.User, disabled bool, actor db.AuditEntry) error {
	action := "user.enable"
	if disabled {
		action = "user.disable"
	}
	err := a.decided(ctx, by, access.SetDisabled, orgID, target, func(tx *sql.Tx) error {
		if !disabled {
			return db.SetDisabled(ctx, tx, a.now(), target.ID, false)
		}
		return db.DisableUnlessLastAdmin(ctx, tx, a.now(), target.ID)
	})
	if errors.Is(err, db.ErrConflict) {
		return ErrLastAdmin
	}
	if err != nil {
		return err
	}
	actor.OrgID, actor.Action, actor.Target = orgID, action, target.Email
	a.audits.Record(ctx, actor)
	return nil
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
	err = a.decided(ctx, by, access.ResetSecondFactor, orgID, target, func(tx *sql.Tx) error {
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
