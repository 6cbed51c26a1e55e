package signin

import (
	"context"
	"database/sql"
	"errors"
	"strconv"
	"strings"
	"time"

	"portier/auth"
	"portier/db"
)

// Outcome is how a password step ended.
type Outcome int

const (
	Failed       Outcome = iota // wrong password, unknown address, disabled account: the same answer for all
	Locked                      // the account is locked for a while: nothing was checked
	TooMany                     // this client failed too often: answer 429 after RetryAfter
	PendingEmail                // the password is right for an account that asked to switch to this address
	OK                          // the password is right
)

// PasswordResult is what the password step found.
type PasswordResult struct {
	Outcome    Outcome
	RetryAfter time.Duration // TooMany
	User       *db.User      // OK and PendingEmail: the account
}

// Password checks an e-mail address and password. Every failure looks the same, whatever the reason, and
// unknown addresses cost the same hashing time. The attempt is reserved (counted) before the password is
// checked, so parallel requests cannot all pass a lock or throttle that is checked first and counted
// later. Sign-ins (good and bad) are audited; actor carries IP and user agent.
func (s *Signin) Password(ctx context.Context, email, password string, actor db.AuditEntry) (PasswordResult, error) {
	if len(email) > 254 {
		email = email[:254]
	}
	u, err := s.db.UserByEmail(ctx, email)
	if err != nil && !errors.Is(err, db.ErrNotFound) {
		return PasswordResult{}, err
	}
	// Someone signing in with an address they asked to switch to: the password is checked against that
	// account (and counted there), and the right one is told the new address still waits for confirmation.
	var pending *db.User
	if u == nil && email != "" {
		p, err := s.db.UserByPendingEmail(ctx, email)
		if err != nil && !errors.Is(err, db.ErrNotFound) {
			return PasswordResult{}, err
		}
		if p != nil && p.PasswordHash != "" && !p.Disabled {
			pending = p
		}
	}
	account := u
	if account == nil {
		account = pending
	}
	var uid int64
	if account != nil {
		uid = account.ID
	}
	res, refused, err := s.reservePassword(ctx, uid, actor.IP)
	if err != nil || refused.Outcome == TooMany {
		return refused, err
	}
	switch res.Refused {
	case db.RefusedLocked:
		// Nothing is checked during a lock; the answer still takes a check's time.
		if err := s.hasher.DummyVerify(ctx, password); err != nil && !errors.Is(err, auth.ErrTooLong) {
			return PasswordResult{}, err
		}
		s.auditLogin(ctx, actor, u, "login.locked", email)
		return PasswordResult{Outcome: Locked}, nil
	}

	var ok, rehash bool
	switch {
	case pending != nil:
		ok, _, err = s.hasher.Verify(ctx, pending.PasswordHash, password)
	case u == nil || u.PasswordHash == "" || u.Disabled:
		err = s.hasher.DummyVerify(ctx, password)
	default:
		ok, rehash, err = s.hasher.Verify(ctx, u.PasswordHash, password)
	}
	if err != nil && !errors.Is(err, auth.ErrTooLong) {
		return PasswordResult{}, err
	}
	if !ok {
		s.auditLogin(ctx, actor, u, "login.fail", email)
		return PasswordResult{Outcome: Failed}, nil
	}
	if err := s.db.Succeeded(ctx, res); err != nil {
		return PasswordResult{}, err
	}
	if pending != nil {
		return PasswordResult{Outcome: PendingEmail, User: pending}, nil
	}
	if err := s.db.NoteSignIn(ctx, u.ID); err != nil {
		return PasswordResult{}, err
	}
	if rehash {
		if phc, err := s.hasher.Hash(ctx, password); err == nil {
			_ = s.db.RehashPassword(ctx, u.ID, phc)
		}
	}
	return PasswordResult{Outcome: OK, User: u}, nil
}

// SignedIn audits a sign-in that passed the password step and got its session.
func (s *Signin) SignedIn(ctx context.Context, u *db.User, actor db.AuditEntry) {
	s.auditLogin(ctx, actor, u, "login.ok", "")
}

// auditLogin records a sign-in attempt. Unknown addresses are recorded by their domain only: the log must
// not collect typos of passwords typed into the e-mail field.
func (s *Signin) auditLogin(ctx context.Context, e db.AuditEntry, u *db.User, action, email string) {
	e.Action = action
	if u != nil {
		e.ActorID, e.ActorName = u.ID, u.DisplayName()
	} else if at := strings.LastIndexByte(email, '@'); at >= 0 {
		e.Target = "*" + email[at:]
	}
	s.audits.Record(ctx, e)
}

// ChangePassword sets u's new password (the caller checked the current one and the rules). Every session
// of the person ends and every reset link dies (db.SetPassword); a notice without any secret goes to
// their address. epoch is the person's new session epoch, for the session that carries on.
func (s *Signin) ChangePassword(ctx context.Context, u *db.User, password string, actor db.AuditEntry) (epoch int64, err error) {
	phc, err := s.hasher.Hash(ctx, password)
	if err != nil {
		return 0, err
	}
	now := s.now()
	m, err := s.mails.PasswordChanged(ctx, u, now)
	if err != nil {
		return 0, err
	}
	err = s.db.Tx(ctx, func(tx *sql.Tx) error {
		if err := db.SetPassword(ctx, tx, now, u.ID, phc); err != nil {
			return err
		}
		if epoch, err = db.SessionEpoch(ctx, tx, u.ID); err != nil {
			return err
		}
		if err := db.EnqueueMail(ctx, tx, s.sealer, now, m.To, m.Kind, m.Subject, m.Text, m.HTML); err != nil {
			return err
		}
		e := actor
		e.Action = "password.change"
		return s.db.Audit(ctx, tx, e)
	})
	if err != nil {
		return 0, err
	}
	s.wake()
	return epoch, nil
}

// AcceptTerms records that u accepted the terms' version (person, version, time, IP).
func (s *Signin) AcceptTerms(ctx context.Context, u *db.User, version int, actor db.AuditEntry) error {
	return s.db.Tx(ctx, func(tx *sql.Tx) error {
		if err := db.AcceptTerms(ctx, tx, s.now(), u.ID, version, actor.IP); err != nil {
			return err
		}
		e := actor
		e.Action, e.Target = "terms.accept", strconv.Itoa(version)
		return s.db.Audit(ctx, tx, e)
	})
}

// Reauthenticate checks the current password of a signed-in person before a sensitive change (what names
// it in the audit log). A wrong password counts as a failed sign-in (the account lock and the per-address
// throttle apply), and during a lock even the right one is refused. The outcome is OK, Failed, Locked or
// TooMany.
func (s *Signin) Reauthenticate(ctx context.Context, u *db.User, password, what string, actor db.AuditEntry) (PasswordResult, error) {
	// Counted before the check, like a sign-in: parallel guesses cannot outrun the lock.
	res, refused, err := s.reservePassword(ctx, u.ID, actor.IP)
	if err != nil || refused.Outcome == TooMany {
		return refused, err
	}
	switch res.Refused {
	case db.RefusedLocked:
		actor.Action, actor.Target = "login.locked", what
		s.audits.Record(ctx, actor)
		return PasswordResult{Outcome: Locked}, nil
	}
	ok := false
	if u.PasswordHash == "" {
		err = s.hasher.DummyVerify(ctx, password)
	} else {
		ok, _, err = s.hasher.Verify(ctx, u.PasswordHash, password)
	}
	if err != nil && !errors.Is(err, auth.ErrTooLong) {
		return PasswordResult{}, err
	}
	if !ok {
		actor.Action, actor.Target = "reauth.fail", what
		s.audits.Record(ctx, actor)
		return PasswordResult{Outcome: Failed}, nil
	}
	if err := s.db.Succeeded(ctx, res); err != nil {
		return PasswordResult{}, err
	}
	return PasswordResult{Outcome: OK, User: u}, nil
}

// reservePassword counts a password check before it happens (the account's lock, the client address's
// throttle). refused is a TooMany result when the address is throttled; the caller answers the lock.
func (s *Signin) reservePassword(ctx context.Context, uid int64, ip string) (res db.Reservation, refused PasswordResult, err error) {
	res, err = s.db.ReserveAttempt(ctx, db.Attempt{Kind: db.AttemptPassword, UserID: uid, IP: ip})
	if err == nil && res.Refused == db.RefusedIP {
		refused = PasswordResult{Outcome: TooMany, RetryAfter: res.RetryAfter}
	}
	return res, refused, err
}
