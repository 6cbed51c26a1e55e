package db

import (
	"context"
	"database/sql"
	"errors"
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
	// MFAAttemptMaxFails wrong second-factor codes void a sign-in attempt: the password is asked again.
	MFAAttemptMaxFails = 5
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

// AttemptKind says what an attempt is about to check.
type AttemptKind int

const (
	// AttemptPassword: the password (sign-in, or entered again before a sensitive change).
	AttemptPassword AttemptKind = iota
	// AttemptSecondFactor: a second-factor code, a passkey, or a password-less passkey sign-in. It counts
	// towards the account lock like a password, and towards the sign-in attempt's five wrong codes.
	AttemptSecondFactor
)

// Attempt is a check of a password or code that is about to happen.
type Attempt struct {
	Kind   AttemptKind
	UserID int64  // the account; 0 for an unknown address (only the client address is counted)
	IP     string // the client address
	// MFAAttempt is the sign-in attempt a second-factor code belongs to ("" when there is none, as for a
	// password-less passkey sign-in).
	MFAAttempt string
}

// Refusal says why an attempt was not reserved.
type Refusal int

const (
	NotRefused    Refusal = iota
	RefusedIP             // the client address has too many recent failures: 429 with Retry-After
	RefusedLocked         // the account is locked
	RefusedVoid           // the sign-in attempt used up its wrong codes
)

// Reservation is a reserved attempt: counted as a failure until Succeeded releases it.
type Reservation struct {
	Refused    Refusal
	RetryAfter time.Duration // with RefusedIP
	Fails      int           // wrong codes of the sign-in attempt, this one included (second factor)

	a     Attempt
	ipRow int64
}

// errRefused rolls back a reservation that was refused half-way.
var errRefused = errors.New("attempt refused")

// ReserveAttempt counts an attempt as failed BEFORE its password or code is checked, so that parallel
// requests cannot all pass a check made at the start and be counted at the end. Each limit is one
// conditional write whose row count decides: the client address (30 failures in 10 minutes), the sign-in
// attempt (5 wrong codes) and the account (locked after 10 consecutive failures, 1 minute doubling to 15).
// All are written in one transaction, and a refusal writes nothing: a refused attempt checks nothing, so
// it is not a failure. The caller checks only when Refused is NotRefused, and calls Succeeded when the
// check passed; a failed check needs nothing more, it is already counted.
func (d *DB) ReserveAttempt(ctx context.Context, a Attempt) (Reservation, error) {
	now := d.Now()
	r := Reservation{a: a}
	err := d.Tx(ctx, func(tx *sql.Tx) error {
		if _, err := tx.ExecContext(ctx, `DELETE FROM ip_failures WHERE ip = ? AND at <= ?`, a.IP, now.Add(-IPWindow).Unix()); err != nil {
			return err
		}
		res, err := tx.ExecContext(ctx, `INSERT INTO ip_failures(ip, at) SELECT ?, ?
			WHERE (SELECT count(*) FROM ip_failures WHERE ip = ?) < ?`, a.IP, now.Unix(), a.IP, IPMaxFailures)
		if err != nil {
			return err
		}
		if n, err := res.RowsAffected(); err != nil {
			return err
		} else if n == 0 {
			var oldest int64
			if err := tx.QueryRowContext(ctx, `SELECT COALESCE(MIN(at), 0) FROM ip_failures WHERE ip = ?`, a.IP).Scan(&oldest); err != nil {
				return err
			}
			r.Refused, r.RetryAfter = RefusedIP, max(time.Unix(oldest, 0).Add(IPWindow).Sub(now), time.Second)
			return errRefused
		}
		if r.ipRow, err = res.LastInsertId(); err != nil {
			return err
		}
		if a.Kind == AttemptSecondFactor && a.MFAAttempt != "" {
			if _, err := tx.ExecContext(ctx, `DELETE FROM mfa_attempts WHERE created_at < ?`, now.Add(-24*time.Hour).Unix()); err != nil {
				return err
			}
			err := tx.QueryRowContext(ctx, `INSERT INTO mfa_attempts(id, user_id, fails, created_at) VALUES (?, ?, 1, ?)
				ON CONFLICT(id) DO UPDATE SET fails = fails + 1 WHERE fails < ? AND user_id = excluded.user_id
				RETURNING fails`, a.MFAAttempt, a.UserID, now.Unix(), MFAAttemptMaxFails).Scan(&r.Fails)
			if errors.Is(err, sql.ErrNoRows) {
				r.Refused = RefusedVoid
				return errRefused
			}
			if err != nil {
				return err
			}
		}
		if a.UserID == 0 {
			return nil
		}
		// mfa_failures is not reset by a right password, so password → wrong codes → password … still
		// reaches the lock: the lock follows the larger count.
		mfa := 0
		if a.Kind == AttemptSecondFactor {
			mfa = 1
		}
		var n, m int
		err = tx.QueryRowContext(ctx, `UPDATE users SET failed_logins = failed_logins + 1, mfa_failures = mfa_failures + ?
			WHERE id = ? AND locked_until <= ? RETURNING failed_logins, mfa_failures`, mfa, a.UserID, now.Unix()).Scan(&n, &m)
		if errors.Is(err, sql.ErrNoRows) {
			r.Refused = RefusedLocked
			return errRefused
		}
		if err != nil {
			return err
		}
		if l := lockFor(max(n, m)); l > 0 {
			_, err = tx.ExecContext(ctx, `UPDATE users SET locked_until = ? WHERE id = ?`, now.Add(l).Unix(), a.UserID)
		}
		return err
	})
	if errors.Is(err, errRefused) {
		err = nil
	}
	return r, err
}

// Succeeded releases a reservation whose check passed: the client address's failure goes, and the
// account's consecutive failures start again at zero. A passed second factor also clears the failed codes
// and ends its sign-in attempt.
func (d *DB) Succeeded(ctx context.Context, r Reservation) error {
	if r.Refused != NotRefused {
		return errors.New("db: Succeeded with a refused attempt")
	}
	return d.Tx(ctx, func(tx *sql.Tx) error {
		if _, err := tx.ExecContext(ctx, `DELETE FROM ip_failures WHERE rowid = ?`, r.ipRow); err != nil {
			return err
		}
		if r.a.MFAAttempt != "" {
			if _, err := tx.ExecContext(ctx, `DELETE FROM mfa_attempts WHERE id = ?`, r.a.MFAAttempt); err != nil {
				return err
			}
		}
		if r.a.UserID == 0 {
			return nil
		}
		q := `UPDATE users SET failed_logins = 0, locked_until = 0 WHERE id = ?`
		if r.a.Kind == AttemptSecondFactor {
			q = `UPDATE users SET failed_logins = 0, mfa_failures = 0, locked_until = 0 WHERE id = ?`
		}
		_, err := tx.ExecContext(ctx, q, r.a.UserID)
		return err
	})
}

// RecordLoginFailure counts a failed sign-in that had nothing to reserve beforehand (a passkey whose
// account became known only while it was checked, or a malformed one): a reservation that is kept.
func (d *DB) RecordLoginFailure(ctx context.Context, a Attempt) error {
	_, err := d.ReserveAttempt(ctx, a)
	return err
}

// NoteSignIn records when the person last signed in (shown in people lists).
func (d *DB) NoteSignIn(ctx context.Context, userID int64) error {
	_, err := d.W.ExecContext(ctx, `UPDATE users SET last_login_at = ? WHERE id = ?`, d.Now().Unix(), userID)
	return err
}

// IPBlocked reports whether the client address has too many recent failures, and for how long. Only for
// requests that check no password or code (the reservation decides for those that do).
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
// cap), and if so records it. One conditional INSERT decides, so parallel requests cannot all see room
// for one more. Callers answer the same either way; only the mail is withheld.
func (d *DB) MailAllowed(ctx context.Context, userID int64, kind string) (bool, error) {
	now := d.Now()
	allowed := false
	err := d.Tx(ctx, func(tx *sql.Tx) error {
		if _, err := tx.ExecContext(ctx, `DELETE FROM mail_sends WHERE user_id = ? AND at <= ?`, userID, now.Add(-time.Hour).Unix()); err != nil {
			return err
		}
		res, err := tx.ExecContext(ctx, `INSERT INTO mail_sends(user_id, kind, at) SELECT ?, ?, ?
			WHERE (SELECT count(*) FROM mail_sends WHERE user_id = ? AND kind = ?) < ?
			AND NOT EXISTS (SELECT 1 FROM mail_sends WHERE user_id = ? AND kind = ? AND at > ?)`,
			userID, kind, now.Unix(), userID, kind, MailPerHourMax, userID, kind, now.Add(-MailCooldown).Unix())
		if err != nil {
			return err
		}
		n, err := res.RowsAffected()
		allowed = n == 1
		return err
	})
	return allowed, err
}

// ForgetSignInState clears the last accepted one-time-code steps and every throttling record: only for the
// benchmark's own scratch data, whose next run signs in again with codes of the same steps.
func (d *DB) ForgetSignInState(ctx context.Context) error {
	return d.Tx(ctx, func(tx *sql.Tx) error {
		for _, q := range []string{`UPDATE mfa_methods SET last_step = 0`, `DELETE FROM ip_failures`,
			`UPDATE users SET failed_logins = 0, locked_until = 0`} {
			if _, err := tx.ExecContext(ctx, q); err != nil {
				return err
			}
		}
		return nil
	})
}
