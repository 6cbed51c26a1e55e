// Package signin is the application layer of signing in: the password step with its throttling, the
// terms, the second factors (enrolling, removing, e-mail codes, recovery codes) and the password change.
// Sessions themselves are the web's (scs); what this package decides is written to the database so that
// every session of the person sees it. Methods own their transactions and return typed results and a few
// error kinds.
package signin

import (
	"context"
	"database/sql"
	"errors"
	"log/slog"
	"time"

	"portier/audit"
	"portier/auth"
	"portier/db"
	"portier/mail"
)

// Mails writes the mails signing in sends (mailtext.Composer).
type Mails interface {
	EmailCode(ctx context.Context, u *db.User, addr, code, purpose string, ttl time.Duration) (mail.Message, error)
	PasswordChanged(ctx context.Context, u *db.User, at time.Time) (mail.Message, error)
	FactorRemoved(ctx context.Context, u *db.User, kind, name, device string, at time.Time) (mail.Message, error)
}

// Config holds what the deployment decides.
type Config struct {
	Now    func() time.Time
	Wake   func() // nudges the mail worker after a transaction that queued mail committed; may be nil
	Logger *slog.Logger
}

// Signin is safe for concurrent use.
type Signin struct {
	db     *db.DB
	sealer *db.Sealer
	hasher *auth.Hasher
	mails  Mails
	now    func() time.Time
	wake   func()
	audits *audit.Log
}

// New returns the sign-in service.
func New(d *db.DB, sealer *db.Sealer, hasher *auth.Hasher, mails Mails, cfg Config) *Signin {
	if cfg.Now == nil {
		cfg.Now = time.Now
	}
	if cfg.Wake == nil {
		cfg.Wake = func() {}
	}
	if cfg.Logger == nil {
		cfg.Logger = slog.Default()
	}
	return &Signin{db: d, sealer: sealer, hasher: hasher, mails: mails, now: cfg.Now, wake: cfg.Wake, audits: audit.New(d, cfg.Logger)}
}

// Errors.
var (
	ErrLastFactor    = db.ErrLastFactor // nobody removes their last second factor
	ErrPasskeyExists = errors.New("signin: the passkey is registered already")
)

// enrol adds a second factor with add inside one transaction that first checks that the person's
// sessions were not ended meanwhile (a factor added from an ended session would outlive its end), and
// audits it.
func (s *Signin) enrol(ctx context.Context, u *db.User, e db.AuditEntry, add func(tx *sql.Tx) error) error {
	return s.db.Tx(ctx, func(tx *sql.Tx) error {
		if err := db.SessionsStillValid(ctx, tx, u.ID, u.SessionEpoch); err != nil {
			return err
		}
		if err := add(tx); err != nil {
			return err
		}
		return s.db.Audit(ctx, tx, e)
	})
}
