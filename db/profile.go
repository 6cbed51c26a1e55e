package db

import (
	"context"
	"database/sql"
)

// Queries of the profile page: the person's own settings, their pending address and their sessions.

// SetUserTheme stores the person's theme ("", "light" or "dark"; "" follows the system).
func (d *DB) SetUserTheme(ctx context.Context, userID int64, theme string) error {
	_, err := d.W.ExecContext(ctx, `UPDATE users SET theme = ? WHERE id = ?`, theme, userID)
	return err
}

// SetPendingEmail records a new address that waits for confirmation; the current address stays valid
// until the confirmation link is used. Links sent for an earlier pending address die, so only the address
// shown on the profile can be confirmed.
func (d *DB) SetPendingEmail(ctx context.Context, userID int64, email string) error {
	return d.setPending(ctx, userID, NormalizeEmail(email))
}

// CancelPendingEmail forgets the address waiting for confirmation and revokes its live confirmation links,
// so a link already in a mailbox no longer switches the address.
func (d *DB) CancelPendingEmail(ctx context.Context, userID int64) error {
	return d.setPending(ctx, userID, nil)
}

func (d *DB) setPending(ctx context.Context, userID int64, email any) error {
	now := d.Now().Unix()
	return d.Tx(ctx, func(tx *sql.Tx) error {
		if _, err := tx.ExecContext(ctx, `UPDATE users SET pending_email = ? WHERE id = ?`, email, userID); err != nil {
			return err
		}
		_, err := tx.ExecContext(ctx, `UPDATE tokens SET revoked_at = ? WHERE user_id = ? AND purpose = 'confirm'
			AND used_at IS NULL AND revoked_at IS NULL`, now, userID)
		return err
	})
}

// EmailTaken reports whether another account signs in with email.
func (d *DB) EmailTaken(ctx context.Context, email string, exceptUserID int64) (bool, error) {
	var taken bool
	err := d.R.QueryRowContext(ctx, `SELECT EXISTS(SELECT 1 FROM users WHERE email = ? AND id != ?)`,
		NormalizeEmail(email), exceptUserID).Scan(&taken)
	return taken, err
}

// SharesOrg reports whether two people are members of at least one common organisation.
func (d *DB) SharesOrg(ctx context.Context, a, b int64) (bool, error) {
	var shared bool
	err := d.R.QueryRowContext(ctx, `SELECT EXISTS(SELECT 1 FROM memberships x JOIN memberships y
		ON x.org_id = y.org_id WHERE x.user_id = ? AND y.user_id = ?)`, a, b).Scan(&shared)
	return shared, err
}

// EndUserSession ends one session of the person, named by its hash from UserSessions (it must be
// theirs). ErrNotFound when it is not.
func (d *DB) EndUserSession(ctx context.Context, userID int64, hash []byte) error {
	return d.Tx(ctx, func(tx *sql.Tx) error {
		res, err := tx.ExecContext(ctx, `DELETE FROM user_sessions WHERE user_id = ? AND hash = ?`, userID, hash)
		if err != nil {
			return err
		}
		if n, err := res.RowsAffected(); err != nil {
			return err
		} else if n == 0 {
			return ErrNotFound
		}
		_, err = tx.ExecContext(ctx, `DELETE FROM sessions WHERE hash = ?`, hash)
		return err
	})
}
