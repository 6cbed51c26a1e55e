package signin

import (
	"context"

	"portier/db"
)

// Signing in with a passkey and no password (Passkeys.FinishLogin): the account becomes known only inside
// the ceremony, just before the signature is checked, and the attempt is reserved there with
// ReserveSecondFactor (attempt ""), like a code.

// PasskeyFailed counts and audits a refused passkey sign-in. reserved reports whether the attempt was
// reserved (the account was known); one refused before that is counted against the client address only.
// u is nil when the passkey belongs to nobody.
func (s *Signin) PasskeyFailed(ctx context.Context, u *db.User, res db.Reservation, reserved bool, actor db.AuditEntry) error {
	action := "login.fail"
	switch {
	case res.Refused == db.RefusedLocked:
		action = "login.locked"
	case !reserved:
		if err := s.db.RecordLoginFailure(ctx, db.Attempt{Kind: db.AttemptSecondFactor, IP: actor.IP}); err != nil {
			return err
		}
	}
	s.auditPasskey(ctx, u, action, actor)
	return nil
}

// PasskeyPassed releases the reservation of a passkey sign-in that passed and notes the sign-in.
func (s *Signin) PasskeyPassed(ctx context.Context, u *db.User, res db.Reservation) error {
	if err := s.db.Succeeded(ctx, res); err != nil {
		return err
	}
	return s.db.NoteSignIn(ctx, u.ID)
}

// PasskeySignedIn audits a passkey sign-in that got its session.
func (s *Signin) PasskeySignedIn(ctx context.Context, u *db.User, actor db.AuditEntry) {
	s.auditPasskey(ctx, u, "login.ok", actor)
}

func (s *Signin) auditPasskey(ctx context.Context, u *db.User, action string, e db.AuditEntry) {
	e.Action, e.Target = action, db.MFAPasskey
	if u != nil {
		e.ActorID, e.ActorName = u.ID, u.DisplayName()
	}
	s.audits.Record(ctx, e)
}
