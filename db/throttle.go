package db

import (
	"context"
	"database/sql"
	"time"
)

// Throttling numbers from security.md. They live in SQLite, so a restart resets nothing.
const (
	LockAfter      = 10               // consecutive failures before the account is locked
	LockFirst      = time.Minute      // first lock
	LockMax        = 15 * time.Minute // the lock doubles up to this
	IPWindow       = 10 * time.Minute
	IPMaxFailures  = 30
	MailCooldown   = time.Minute
	MailPerHourMax = 5
)

// lockFor is the lock after n consecutive failures: none below LockAfter, then 1 minute doubling with
// every further failure, at most LockMax. Never permanent.
func lockFor(n int) time.Duration {
	if n < LockAfter {
		return 0
	}
	d := LockFirst
	for i := LockAfter; i < n && d < LockMax; i++ {
		d *= 2
	}
	return min(d, LockMax)
}

// RecordLoginFailure counts a failed sign-in (password or second factor) for the account (userID 0 for an
// unknown address) and the client address, and locks the account when the count says so.
func (d *DB) RecordLoginFailure(ctx context.Context, userID int64, ip string) error {
	now := d.Now()
	return d.Tx(ctx, func(tx *sql.Tx) error {
		if userID != 0 {
			var n int
			if err := tx.QueryRowContext(ctx, `UPDATE users SET failed_logins = failed_logins + 1 WHERE id = ?
				RETURNING failed_logins`, userID).Scan(&n); err != nil {
				return err
			}
			if l := lockFor(n); l > 0 {
				if _, err := tx.ExecContext(ctx, `UPDATE users SET locked_until = ? WHERE id = ?`, now.Add(l).Unix(), userID); err != nil {
					return err
				}
			}
		}
		if _, err := tx.ExecContext(ctx, `DELETE FROM ip_failures WHERE ip = ? AND at <= ?`, ip, now.Add(-IPWindow).Unix()); err != nil {
			return err
		}
		_, err := tx.ExecContext(ctx, `INSERT INTO ip_failures(ip, at) VALUES (?, ?)`, ip, now.Unix())
		return err
	})
}

// RecordLoginSuccess clears the account's failure count and notes the time.
func (d *DB) RecordLoginSuccess(ctx context.Context, userID int64) error {
	_, err := d.W.ExecContext(ctx, `UPDATE users SET failed_logins = 0, locked_until = 0, last_login_at = ? WHERE id = ?`,
		d.Now().Unix(), userID)
	return err
}

// IPBlocked reports whether the client address has too many recent failures, and for how long.
func (d *DB) IPBlocked(ctx context.Context, ip string) (time.Duration, error) {
	now := d.Now()
	var n int
	var oldest int64
	err := d.R.QueryRowContext(ctx, `SELECT count(*), COALESCE(MIN(at), 0) FROM ip_failures WHERE ip = ? AND at > ?`,
		ip, now.Add(-IPWindow).Unix()).Scan(&n, &oldest)
	if err != nil || n < IPMaxFailures {
		return 0, err
	}
	wait := time.Unix(oldest, 0).Add(IPWindow).Sub(now)
	return max(wait, time.Second), nil
}

// MailAllowed reports whether another mail of this kind may go to the account now (cooldown and hourly
// cap), and if so records it. Callers answer the same either way; only the mail is withheld.
func (d *DB) MailAllowed(ctx context.Context, userID int64, kind string) (bool, error) {
	now := d.Now()
	allowed := false
	err := d.Tx(ctx, func(tx *sql.Tx) error {
		var last int64
		var n int
		if err := tx.QueryRowContext(ctx, `SELECT COALESCE(MAX(at), 0), count(*) FROM mail_sends
			WHERE user_id = ? AND kind = ? AND at > ?`, userID, kind, now.Add(-time.Hour).Unix()).Scan(&last, &n); err != nil {
			return err
		}
		if n >= MailPerHourMax || (last != 0 && now.Sub(time.Unix(last, 0)) < MailCooldown) {
			return nil
		}
		allowed = true
		if _, err := tx.ExecContext(ctx, `DELETE FROM mail_sends WHERE user_id = ? AND at <= ?`, userID, now.Add(-time.Hour).Unix()); err != nil {
			return err
		}
		_, err := tx.ExecContext(ctx, `INSERT INTO mail_sends(user_id, kind, at) VALUES (?, ?, ?)`, userID, kind, now.Unix())
		return err
	})
	return allowed, err
}
