package accounts

import (
	"context"
	"database/sql"
	"errors"
	"strings"
	"time"

	"portier/access"
	"portier/auth"
	"portier/db"
	"portier/mail"
)

// The one-time links sent to a person's address: invitations, password resets and address confirmations.
// Opening a link changes nothing (mail scanners open links); using it happens once, in one transaction,
// whose conditional update decides.

// ErrLinkUsed: the link was used or revoked between opening it and using it.
var ErrLinkUsed = errors.New("accounts: the link was used meanwhile")

// InviteLink is an invitation link as opened: its state and, unless it is unknown, the invitation and
// its person.
type InviteLink struct {
	State db.TokenState
	Inv   *db.Invitation
	User  *db.User
	hash  []byte
}

// Hash is the stored hash of the link's token: it names the invitation without the token (the provider
// sign-in carries it through the round trip, oidc.go).
func (l *InviteLink) Hash() []byte { return l.hash }

// OpenInvite looks at the invitation link with token without using it.
func (a *Accounts) OpenInvite(ctx context.Context, token string) (*InviteLink, error) {
	hash, err := auth.HashToken(token)
	if err != nil {
		return &InviteLink{State: db.TokenUnknown}, nil
	}
	inv, err := a.db.InvitationByToken(ctx, hash)
	if errors.Is(err, db.ErrNotFound) {
		return &InviteLink{State: db.TokenUnknown}, nil
	}
	if err != nil {
		return nil, err
	}
	u, err := a.db.UserByID(ctx, inv.UserID)
	if err != nil {
		return nil, err
	}
	p, err := a.Person(ctx, u)
	if err != nil {
		return nil, err
	}
	return &InviteLink{State: inviteState(inv, p, u.Disabled), Inv: inv, User: u, hash: hash}, nil
}

// inviteState is an invitation link's state as its page and its form's POST both name it (linkState for
// a disabled account). Staff never become customer members, customers never staff, whoever invited them:
// such a link works no more than a revoked one.
func inviteState(inv *db.Invitation, p access.Person, disabled bool) db.TokenState {
	ti := db.TokenInfo{State: db.TokenValid, OwnerDisabled: disabled}
	switch inv.Status {
	case db.InviteAccepted:
		ti.State = db.TokenUsed
	case db.InviteExpired:
		ti.State = db.TokenExpired
	case db.InviteRevoked:
		ti.State = db.TokenRevoked
	}
	st := linkState(ti)
	if st == db.TokenValid && access.Decide(p, access.AcceptInvitation, inv.OrgID, &p) != nil {
		return db.TokenRevoked
	}
	return st
}

// inviteStateTx is the invitation link's state inside tx at now, read with what that transaction sees: a
// link revoked, withdrawn (withdrawUnbacked), used or expired, or its account disabled or its person's
// standing changed, after its page was opened, even while the form's request was on its way, is refused
// and named as its page would name it now; nothing is accepted. u is the person the page was for.
func inviteStateTx(ctx context.Context, tx *sql.Tx, now time.Time, hash []byte, u *db.User) (db.TokenState, error) {
	inv, err := db.InvitationByTokenTx(ctx, tx, now, hash)
	if errors.Is(err, db.ErrNotFound) {
		return db.TokenUnknown, nil
	}
	if err != nil {
		return "", err
	}
	if inv.UserID != u.ID {
		return db.TokenUnknown, nil
	}
	p, disabled, err := factsTx(ctx, tx, inv.UserID)
	if err != nil {
		return "", err
	}
	return inviteState(inv, p, disabled), nil
}

// FirstPassword is what someone new enters on an invitation's or a reset's page.
type FirstPassword struct {
	Password string
	Name     string
	Lang     string        // invitations only: the language the page was read in becomes the person's
	Terms    int           // the version of the terms they accepted on the page; 0: none
	IP       string        // for the terms' acceptance record
	Actor    db.AuditEntry // IP and user agent for the audit log
}

// AcceptInvite sets the first password, name, language and terms acceptance, uses the link up and accepts
// the person's other open invitations, all in one transaction. Accepting may give a member a lesser role
// than they had (db.SetMembership takes the invitation's), so every acceptance withdraws, in its
// transaction, the invitations the person sent that their role no longer carries (withdrawUnbacked). The
// link proves the address, the password was just chosen. state is the link's state when it did not work,
// decided inside that transaction (inviteStateTx); then nothing changed.
func (a *Accounts) AcceptInvite(ctx context.Context, l *InviteLink, in FirstPassword) (state db.TokenState, err error) {
	phc, err := a.hasher.Hash(ctx, in.Password)
	if err != nil {
		return "", err
	}
	u := l.User
	err = a.db.Tx(ctx, func(tx *sql.Tx) error {
		// The time the link is used is when the transaction holds the writer, not when the request came.
		now := a.now()
		if state, err = inviteStateTx(ctx, tx, now, l.hash, u); err != nil || state != db.TokenValid {
			return err
		}
		if _, _, err := db.AcceptInvitation(ctx, tx, now, l.hash); err != nil {
			return err
		}
		if err := db.SetPassword(ctx, tx, now, u.ID, phc); err != nil {
			return err
		}
		if err := db.SetNameLang(ctx, tx, u.ID, in.Name, in.Lang); err != nil {
			return err
		}
		if in.Terms != 0 {
			if err := db.AcceptTerms(ctx, tx, now, u.ID, in.Terms, in.IP); err != nil {
				return err
			}
		}
		if err := a.acceptPending(ctx, tx, now, u, l.Inv); err != nil {
			return err
		}
		e := in.Actor
		e.OrgID, e.Action, e.Target = l.Inv.OrgID, "invite.accept", u.Email+" ("+l.Inv.Role+")"
		e.ActorID, e.ActorName = u.ID, in.Name
		if err := a.db.Audit(ctx, tx, e); err != nil {
			return err
		}
		if _, err := a.withdrawUnbacked(ctx, tx, u.ID, e); err != nil {
			return err
		}
		e = in.Actor
		e.Action, e.Target = "password.set", u.Email
		e.ActorID, e.ActorName = u.ID, in.Name
		return a.db.Audit(ctx, tx, e)
	})
	return linkUsedMeanwhile(state, err)
}

// linkUsedMeanwhile is the answer of a transaction that found its link live and then could not use it:
// not expected while it holds the one writer, but never a server error for the person.
func linkUsedMeanwhile(state db.TokenState, err error) (db.TokenState, error) {
	if errors.Is(err, db.ErrNotFound) {
		return db.TokenUsed, nil
	}
	return state, err
}

// ProviderAcceptance is an invitation used through the organisation's identity provider: the provider
// account (IdPID, Subject, Email, as the provider vouched for them) signs in instead of a password.
type ProviderAcceptance struct {
	User    *db.User
	Inv     *db.Invitation
	Hash    []byte // the invitation's token hash
	IdPID   int64
	IdPName string
	Subject string // the provider account's key
	Email   string
	Link    bool   // the provider account is new: link it to the person
	Name    string // the name the provider reports; "" when it is not fit to show
	Lang    string
	Terms   int // the terms version accepted on the invitation page; 0 for none
	IP      string
	Actor   db.AuditEntry
}

// AcceptWithProvider uses the invitation (once: the conditional UPDATE decides), links the provider
// account when it is new, records the terms accepted on the invitation page and completes the account.
// ErrLinkUsed when the link does not work, decided inside that transaction as the invitation page decides
// (inviteStateTx: used, expired, revoked or withdrawn, the account disabled; and whoever invited them,
// staff never become customer members). db.ErrConflict when the provider account is someone else's.
func (a *Accounts) AcceptWithProvider(ctx context.Context, in ProviderAcceptance) error {
	u, inv := in.User, in.Inv
	name := in.Name
	if NameProblem(name) != "" {
		name = ""
	}
	err := a.db.Tx(ctx, func(tx *sql.Tx) error {
		now := a.now()
		// A provider sign-in that is on its way while the account is disabled or the invitation withdrawn
		// accepts nothing either (the sign-in page says only that the invitation is gone).
		if st, err := inviteStateTx(ctx, tx, now, in.Hash, u); err != nil {
			return err
		} else if st != db.TokenValid {
			return db.ErrNotFound
		}
		if _, _, err := db.AcceptInvitation(ctx, tx, now, in.Hash); err != nil {
			return err
		}
		if in.Link {
			if err := db.LinkIdentity(ctx, tx, now, u.ID, in.IdPID, in.Subject, in.Email); err != nil {
				return err
			}
		}
		if u.PasswordHash == "" {
			if err := db.FinishProviderSignup(ctx, tx, now, u.ID, name, in.Lang); err != nil {
				return err
			}
		}
		if in.Terms != 0 {
			if err := db.AcceptTerms(ctx, tx, now, u.ID, in.Terms, in.IP); err != nil {
				return err
			}
		}
		actor := u.DisplayName()
		if actor == u.Email && name != "" {
			actor = name
		}
		e := in.Actor
		e.OrgID, e.Action, e.Target = inv.OrgID, "invite.accept", u.Email+" ("+inv.Role+")"
		e.ActorID, e.ActorName = u.ID, actor
		if err := a.db.Audit(ctx, tx, e); err != nil {
			return err
		}
		if _, err := a.withdrawUnbacked(ctx, tx, u.ID, e); err != nil {
			return err
		}
		if !in.Link {
			return nil
		}
		e = in.Actor
		e.OrgID, e.Action, e.Target = inv.OrgID, "idp.link", in.IdPName+": "+in.Subject
		e.ActorID, e.ActorName = u.ID, actor
		return a.db.Audit(ctx, tx, e)
	})
	if errors.Is(err, db.ErrNotFound) {
		return ErrLinkUsed
	}
	return err
}

// AcceptExisting accepts an invitation of someone who already has a password: accepting is what makes
// them a member (or staff). state is the link's state when it did not work, decided inside the
// transaction (inviteStateTx); then nothing changed.
func (a *Accounts) AcceptExisting(ctx context.Context, l *InviteLink, actor db.AuditEntry) (state db.TokenState, err error) {
	err = a.db.Tx(ctx, func(tx *sql.Tx) error {
		now := a.now()
		if state, err = inviteStateTx(ctx, tx, now, l.hash, l.User); err != nil || state != db.TokenValid {
			return err
		}
		if _, _, err := db.AcceptInvitation(ctx, tx, now, l.hash); err != nil {
			return err
		}
		e := actor
		e.OrgID, e.Action, e.Target = l.Inv.OrgID, "invite.accept", l.User.Email+" ("+l.Inv.Role+")"
		e.ActorID, e.ActorName = l.User.ID, l.User.DisplayName()
		if err := a.db.Audit(ctx, tx, e); err != nil {
			return err
		}
		_, err := a.withdrawUnbacked(ctx, tx, l.User.ID, e)
		return err
	})
	return linkUsedMeanwhile(state, err)
}

// acceptPending accepts, inside tx, the person's other open invitations that the policy lets them accept.
// It is for someone who sets their first password through a link sent to their address (an invitation or
// a reset after losing the invitation mail): those invitations were for them. Someone who has a password
// accepts each invitation through its own link.
//
// accepted is the invitation accepted just before in the same transaction (nil: none), which the
// person's facts as read outside the transaction do not show yet.
func (a *Accounts) acceptPending(ctx context.Context, tx *sql.Tx, now time.Time, u *db.User, accepted *db.Invitation) error {
	p, err := a.Person(ctx, u)
	if err != nil {
		return err
	}
	if accepted != nil {
		if accepted.OrgID != 0 {
			p.Orgs[accepted.OrgID] = accepted.Role
		} else {
			p.StaffRole = accepted.Role
		}
	}
	invs, err := db.PendingInvitations(ctx, tx, now, u.ID)
	if err != nil {
		return err
	}
	for _, inv := range invs {
		if access.Decide(p, access.AcceptInvitation, inv.OrgID, &p) != nil {
			continue
		}
		if err := db.AcceptInvitationID(ctx, tx, now, inv.ID); err != nil {
			return err
		}
		if inv.OrgID != 0 {
			p.Orgs[inv.OrgID] = inv.Role
		} else {
			p.StaffRole = inv.Role
		}
	}
	return nil
}

// ResetLink is a password-reset link as opened: its state and, unless it is unknown, its person.
type ResetLink struct {
	State db.TokenState
	User  *db.User
	hash  []byte
}

// OpenReset looks at the reset link with token without using it.
func (a *Accounts) OpenReset(ctx context.Context, token string) (*ResetLink, error) {
	hash, err := auth.HashToken(token)
	if err != nil {
		return &ResetLink{State: db.TokenUnknown}, nil
	}
	ti, err := a.db.LookupToken(ctx, db.PurposeReset, hash)
	if err != nil {
		return nil, err
	}
	if ti.State == db.TokenUnknown {
		return &ResetLink{State: ti.State}, nil
	}
	u, err := a.db.UserByID(ctx, ti.UserID)
	if err != nil {
		return nil, err
	}
	return &ResetLink{State: resetState(ti), User: u, hash: hash}, nil
}

// resetState is a reset link's state as its page and its form's POST both name it: linkState, and a link
// sent to an address the account no longer has proves nothing any more.
func resetState(ti db.TokenInfo) db.TokenState {
	st := linkState(ti)
	if st == db.TokenValid && !strings.EqualFold(ti.Email, ti.OwnerEmail) {
		return db.TokenRevoked
	}
	return st
}

// ResetPassword sets the new password in one transaction that uses the link once, ends every session and
// every other reset link of the account (db.SetPassword), confirms the address and, for someone who never
// had a password, accepts their pending invitations. Someone who had a password gets a mail saying it
// changed. in.Name is stored when not empty (people without a password choose one here); in.Lang is not
// used. state is the link's state when it did not work, decided inside the transaction that would have
// used it (resetState): a link revoked by a newer one, used, expired, or its account disabled or its
// address changed after the form was opened, even while the form's request was on its way, sets nothing
// and is named as its page would name it now.
func (a *Accounts) ResetPassword(ctx context.Context, l *ResetLink, in FirstPassword) (state db.TokenState, err error) {
	phc, err := a.hasher.Hash(ctx, in.Password)
	if err != nil {
		return "", err
	}
	u := l.User
	// Someone setting their first password gets no notice: nothing changed for them.
	var notice *mail.Message
	if u.PasswordHash != "" {
		m, err := a.mails.PasswordReset(ctx, u, a.now())
		if err != nil {
			return "", err
		}
		notice = &m
	}
	err = a.db.Tx(ctx, func(tx *sql.Tx) error {
		// The time the link is used is when the transaction holds the writer, not when the request came.
		now := a.now()
		ti, err := db.LookupTokenTx(ctx, tx, now, db.PurposeReset, l.hash)
		if err != nil {
			return err
		}
		if state = resetState(ti); state != db.TokenValid {
			return nil // nothing written; the page names the state
		}
		if _, _, err := db.UseToken(ctx, tx, now, db.PurposeReset, l.hash); err != nil {
			return err
		}
		if err := db.SetPassword(ctx, tx, now, u.ID, phc); err != nil {
			return err
		}
		if in.Name != "" {
			if err := db.SetName(ctx, tx, u.ID, in.Name); err != nil {
				return err
			}
		}
		if u.PasswordHash == "" {
			if err := a.acceptPending(ctx, tx, now, u, nil); err != nil {
				return err
			}
			e := in.Actor
			e.ActorID, e.ActorName = u.ID, u.DisplayName()
			if _, err := a.withdrawUnbacked(ctx, tx, u.ID, e); err != nil {
				return err
			}
		}
		if in.Terms != 0 {
			if err := db.AcceptTerms(ctx, tx, now, u.ID, in.Terms, in.IP); err != nil {
				return err
			}
		}
		e := in.Actor
		e.Action, e.Target = "password.reset", u.Email
		e.ActorID, e.ActorName = u.ID, u.DisplayName()
		if err := a.db.Audit(ctx, tx, e); err != nil {
			return err
		}
		if notice != nil {
			return a.queue(ctx, tx, *notice)
		}
		return nil
	})
	if state, err = linkUsedMeanwhile(state, err); err == nil && state == db.TokenValid && notice != nil {
		a.wake()
	}
	return state, err
}

// ConfirmLinkAddress is the address a confirmation link would confirm and the link's state, looked at
// without using it: opening the link shows the address and a button (mail scanners and link checkers
// open links without anyone reading the mail); only ConfirmEmail, the button's POST, uses it.
func (a *Accounts) ConfirmLinkAddress(ctx context.Context, token string) (string, db.TokenState, error) {
	_, ti, _, err := a.confirmLink(ctx, token)
	return ti.Email, ti.State, err
}

// confirmLink looks a confirmation link up: the hash it is stored under, its address and state
// (linkState), and its owner.
func (a *Accounts) confirmLink(ctx context.Context, token string) ([]byte, db.TokenInfo, *db.User, error) {
	hash, err := auth.HashToken(token)
	if err != nil {
		return nil, db.TokenInfo{State: db.TokenUnknown}, nil, nil
	}
	ti, err := a.db.LookupToken(ctx, db.PurposeConfirm, hash)
	if err != nil || ti.State == db.TokenUnknown {
		return nil, ti, nil, err
	}
	owner, err := a.db.UserByID(ctx, ti.UserID)
	if err != nil {
		return nil, db.TokenInfo{}, nil, err
	}
	ti.State = linkState(ti)
	return hash, ti, owner, nil
}

// linkState is a one-time link's state as its page and its button both name it, for confirmation links
// and, under their own rules, reset links (resetState) and invitations (inviteState). A disabled account's
// link works no more than a revoked one: the account must not change while it is switched off.
func linkState(ti db.TokenInfo) db.TokenState {
	if ti.State == db.TokenValid && ti.OwnerDisabled {
		return db.TokenRevoked
	}
	return ti.State
}

// ConfirmEmail uses a confirmation link: the new address replaces the old one (or an unconfirmed address
// becomes confirmed). state is the link's state when it did not work, named as its page names it, from
// inside the transaction that would have used it: a link revoked, used or expired (or its account disabled)
// after its page was opened, even while the button's request was on its way, answers as it would when
// opened now. taken reports that another account has the address meanwhile.
func (a *Accounts) ConfirmEmail(ctx context.Context, token string, actor db.AuditEntry) (state db.TokenState, taken bool, err error) {
	hash, ti, owner, err := a.confirmLink(ctx, token)
	if err != nil || ti.State == db.TokenUnknown {
		return ti.State, false, err
	}
	// The link is its owner's authority, whoever's browser sends the button (someone else may be signed
	// in there, or nobody): the entry names the owner, not the request's person.
	err = a.db.Tx(ctx, func(tx *sql.Tx) error {
		now := a.now()
		ti, err := db.LookupTokenTx(ctx, tx, now, db.PurposeConfirm, hash)
		if err != nil {
			return err
		}
		if state = linkState(ti); state != db.TokenValid {
			return nil // nothing written; the page names the state
		}
		uid, email, err := db.UseToken(ctx, tx, now, db.PurposeConfirm, hash)
		if err != nil {
			return err
		}
		var digests []db.DigestRecipientChange
		if taken, digests, err = db.ConfirmEmail(ctx, tx, now, uid, email); err != nil {
			return err
		}
		for _, d := range digests {
			if err := a.db.Audit(ctx, tx, digestRecipientEntry(actor, uid, owner.DisplayName(), d)); err != nil {
				return err
			}
		}
		// An address another account took meanwhile can never be this account's, so the link has done
		// what it can and is used up (kept alive, it would switch the address later, after its owner was
		// told that it did not; and every press would ask again). Its owner's log says why their address
		// stayed as it was.
		e := actor
		e.Action, e.Target = "email.confirmed", email
		if taken {
			e.Action = "email.confirm_taken"
		}
		e.ActorID, e.ActorName = uid, owner.DisplayName()
		return a.db.Audit(ctx, tx, e)
	})
	state, err = linkUsedMeanwhile(state, err)
	return state, taken, err
}

// digestRecipientEntry is the entry in an organisation's log for its expiry digest list following the
// confirmed change of address (db.RenameDigestRecipient, which changes only the lists of organisations the
// digest reaches the person in): the target is "old → new" where the new address took the old one's
// place, else the old address alone.
func digestRecipientEntry(actor db.AuditEntry, uid int64, name string, d db.DigestRecipientChange) db.AuditEntry {
	e := db.AuditEntry{OrgID: d.OrgID, Action: "expiry.digest_recipient", Target: d.From,
		ActorID: uid, ActorName: name, IP: actor.IP, UserAgent: actor.UserAgent}
	if d.To != "" {
		e.Target = d.From + DigestRecipientSep + d.To
	}
	return e
}

// DigestRecipientSep joins the old and the new address in an expiry.digest_recipient entry's target.
const DigestRecipientSep = " → "
