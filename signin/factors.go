package signin

import (
	"context"
	"database/sql"
	"errors"
	"strconv"
	"strings"

	"portier/auth"
	"portier/db"
)

// EnrolTOTP adds an authenticator app whose first valid code was for time step step (so that code cannot
// be used again), sealing its secret.
func (s *Signin) EnrolTOTP(ctx context.Context, u *db.User, name string, secret []byte, step int64, actor db.AuditEntry) error {
	actor.Action, actor.Target = "mfa.enrol.totp", name
	return s.enrol(ctx, u, actor, func(tx *sql.Tx) error {
		_, err := db.AddTOTP(ctx, tx, s.sealer, s.now(), u.ID, name, secret, step)
		return err
	})
}

// EnrolEmail adds addr, confirmed by a code sent to it, as a second factor.
func (s *Signin) EnrolEmail(ctx context.Context, u *db.User, addr string, actor db.AuditEntry) error {
	return s.db.Tx(ctx, func(tx *sql.Tx) error {
		if err := db.SessionsStillValid(ctx, tx, u.ID, u.SessionEpoch); err != nil {
			return err
		}
		id, err := db.AddEmailMethod(ctx, tx, s.now(), u.ID, addr, addr)
		if err != nil {
			return err
		}
		e := actor
		e.Action, e.Target = "mfa.enrol.email", MaskEmail(addr)+" #"+strconv.FormatInt(id, 10)
		return s.db.Audit(ctx, tx, e)
	})
}

// EnrolPasskey stores a passkey the browser just registered. ErrPasskeyExists when the same credential is
// registered already.
func (s *Signin) EnrolPasskey(ctx context.Context, u *db.User, p db.Passkey, actor db.AuditEntry) error {
	actor.Action, actor.Target = "mfa.enrol.passkey", p.Name
	err := s.enrol(ctx, u, actor, func(tx *sql.Tx) error {
		_, err := db.AddPasskey(ctx, tx, s.now(), u.ID, p)
		return err
	})
	if errors.Is(err, db.ErrConflict) {
		return ErrPasskeyExists
	}
	return err
}

// RemoveFactor removes one of u's second factors, never the last one (ErrLastFactor). The caller checked
// that the password was entered recently. The person gets a mail in the same transaction, so a factor
// removed by someone else at their desk does not go unseen; device names the browser that removed it.
func (s *Signin) RemoveFactor(ctx context.Context, u *db.User, m *db.MFAMethod, device string, actor db.AuditEntry) error {
	mail, err := s.mails.FactorRemoved(ctx, u, m.Kind, m.Name, device, s.now())
	if err != nil {
		return err
	}
	err = s.db.Tx(ctx, func(tx *sql.Tx) error {
		if err := db.RemoveMFAMethod(ctx, tx, u.ID, m.ID); err != nil {
			return err
		}
		if err := db.EnqueueMail(ctx, tx, s.sealer, s.now(), mail.To, mail.Kind, mail.Subject, mail.Text, mail.HTML); err != nil {
			return err
		}
		e := actor
		e.Action, e.Target = "mfa.remove", m.Kind+" "+m.Name
		return s.db.Audit(ctx, tx, e)
	})
	if err == nil {
		s.wake()
	}
	return err
}

// MaskEmail shows enough of an address to recognise it: the first character of the local part and the
// domain.
func MaskEmail(e string) string {
	at := strings.LastIndexByte(e, '@')
	if at <= 0 {
		return e
	}
	r := []rune(e[:at])
	return string(r[0]) + "•••" + e[at:]
}

// Mail kinds of the e-mail codes, for the mail throttle.
const (
	mailKindCode  = "mfa_code"
	mailKindEnrol = "mfa_enrol"
)

func (s *Signin) emailCodeKey() []byte { return s.sealer.PurposeKey("email code") }

// SendEmailCode mails a new code to addr for this sign-in attempt (purpose "login") or enrolment
// ("enrol"), unless the mail throttle holds it back (sent=false). The code itself exists only in the
// mail; the database keeps its HMAC.
func (s *Signin) SendEmailCode(ctx context.Context, u *db.User, addr, purpose, attempt string, actor db.AuditEntry) (sent bool, err error) {
	kind := mailKindCode
	if purpose == "enrol" {
		kind = mailKindEnrol
	}
	ok, err := s.db.MailAllowed(ctx, u.ID, kind)
	if err != nil || !ok {
		return false, err
	}
	code := auth.NewCode6()
	if err := s.db.CreateEmailCode(ctx, u.ID, purpose, attempt, addr, auth.HashCode(code, s.emailCodeKey())); err != nil {
		return false, err
	}
	m, err := s.mails.EmailCode(ctx, u, addr, code, purpose, db.EmailCodeTTL)
	if err != nil {
		return false, err
	}
	err = s.db.Tx(ctx, func(tx *sql.Tx) error {
		if err := db.EnqueueMail(ctx, tx, s.sealer, s.now(), m.To, m.Kind, m.Subject, m.Text, m.HTML); err != nil {
			return err
		}
		e := actor
		e.Action, e.Target = "mfa.email.sent", MaskEmail(addr)
		return s.db.Audit(ctx, tx, e)
	})
	if err != nil {
		return false, err
	}
	s.wake()
	return true, nil
}

// CheckEmailCode checks code against the live code of this attempt and purpose (wrong tries are counted;
// too many void it). sentTo is the address the code went to.
func (s *Signin) CheckEmailCode(ctx context.Context, u *db.User, purpose, attempt, code string) (db.EmailCodeResult, string, error) {
	key := s.emailCodeKey()
	return s.db.CheckEmailCode(ctx, u.ID, purpose, attempt, func(h []byte) bool {
		return auth.VerifyCode(code, key, h)
	})
}

// CheckTOTP checks a code against each of u's authenticator apps and spends its time step: the
// conditional UPDATE decides, so a parallel request with the same code loses.
func (s *Signin) CheckTOTP(ctx context.Context, u *db.User, code string) (bool, error) {
	methods, err := s.db.MFAMethods(ctx, u.ID)
	if err != nil {
		return false, err
	}
	for i := range methods {
		m := &methods[i]
		if m.Kind != db.MFATOTP {
			continue
		}
		secret, err := m.TOTPSecret(s.sealer)
		if err != nil {
			return false, err
		}
		st, ok := auth.MatchTOTP(secret, code, s.now(), m.LastStep)
		if !ok {
			continue
		}
		return s.db.ConsumeTOTPStep(ctx, m.ID, st)
	}
	return false, nil
}
