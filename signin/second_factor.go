package signin

import (
	"context"

	"portier/db"
)

// A check of a second-factor code (or passkey) at sign-in is counted before it happens, like a password:
// as a failed sign-in of the account (lock) and of the client address (throttle), and as a wrong code of
// this sign-in attempt (attempt: the id the session keeps for one sign-in). A check that passes releases
// the reservation.

// ReserveSecondFactor counts the check about to happen. The caller checks only when res.Refused is
// db.NotRefused, answers 429 for db.RefusedIP, and ends with SecondFactorPassed or SecondFactorFailed.
func (s *Signin) ReserveSecondFactor(ctx context.Context, u *db.User, attempt, ip string) (db.Reservation, error) {
	return s.db.ReserveAttempt(ctx, db.Attempt{Kind: db.AttemptSecondFactor, UserID: u.ID, IP: ip, MFAAttempt: attempt})
}

// SecondFactorPassed releases the reservation of a check that passed (the failure counts start again)
// and audits the sign-in with its method.
func (s *Signin) SecondFactorPassed(ctx context.Context, u *db.User, method string, res db.Reservation, actor db.AuditEntry) error {
	if err := s.db.Succeeded(ctx, res); err != nil {
		return err
	}
	actor.Action, actor.Target = "mfa.ok", method
	s.audits.Record(ctx, actor)
	return nil
}

// SecondFactorFailed audits a code that was refused (account locked, attempt void) or checked and wrong
// (already counted by its reservation), and reports whether the attempt is void: the fifth wrong code
// voids it, and the person starts again with the password (the caller ends the session).
func (s *Signin) SecondFactorFailed(ctx context.Context, method string, res db.Reservation, actor db.AuditEntry) (voided bool) {
	e := actor
	e.Target = method
	switch res.Refused {
	case db.RefusedLocked:
		e.Action = "login.locked"
		s.audits.Record(ctx, e)
		return false
	case db.NotRefused:
		e.Action = "mfa.fail"
		s.audits.Record(ctx, e)
		if res.Fails < db.MFAAttemptMaxFails {
			return false
		}
	}
	e.Action = "mfa.voided"
	s.audits.Record(ctx, e)
	return true
}
