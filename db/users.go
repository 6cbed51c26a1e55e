package db

import (
	"context"
	"database/sql"
	"errors"
	"strings"
	"time"
)

// User is a person with one account. Staff have a StaffRole; customers have memberships.
type User struct {
	ID                int64
	Email             string
	Name              string
	Lang              string
	TimeZone          string
	Theme             string
	HasAvatar         bool
	PasswordHash      string // empty until set
	PasswordChangedAt time.Time
	EmailConfirmed    bool
	PendingEmail      string
	StaffRole         string // "admin", "technician" or ""
	Disabled          bool
	TermsVersion      int
	SetupShown        bool
	FailedLogins      int
	LockedUntil       time.Time
	LastLoginAt       time.Time
	CreatedAt         time.Time
	SessionEpoch      int64 // raised whenever the person's sessions are ended (sessions.go)
}

// IsStaff reports whether the person works for the MSP.
func (u *User) IsStaff() bool { return u.StaffRole != "" }

// IsAdmin reports whether the person is an MSP administrator.
func (u *User) IsAdmin() bool { return u.StaffRole == "admin" }

// DisplayName is the name, or the e-mail address for people without one.
func (u *User) DisplayName() string {
	if strings.TrimSpace(u.Name) != "" {
		return u.Name
	}
	return u.Email
}

const userCols = `id, email, name, lang, time_zone, theme, avatar IS NOT NULL, COALESCE(password_hash, ''),
	COALESCE(password_changed_at, 0), email_confirmed_at IS NOT NULL, COALESCE(pending_email, ''),
	COALESCE(staff_role, ''), disabled_at IS NOT NULL, terms_version, setup_shown, failed_logins, locked_until,
	COALESCE(last_login_at, 0), created_at, session_epoch`

type scanner interface{ Scan(...any) error }

func scanUser(r scanner) (*User, error) {
	u := &User{}
	var pwChanged, locked, lastLogin, created int64
	err := r.Scan(&u.ID, &u.Email, &u.Name, &u.Lang, &u.TimeZone, &u.Theme, &u.HasAvatar, &u.PasswordHash,
		&pwChanged, &u.EmailConfirmed, &u.PendingEmail, &u.StaffRole, &u.Disabled, &u.TermsVersion, &u.SetupShown,
		&u.FailedLogins, &locked, &lastLogin, &created, &u.SessionEpoch)
	if errors.Is(err, sql.ErrNoRows) {
		return nil, ErrNotFound
	}
	if err != nil {
		return nil, err
	}
	u.PasswordChangedAt, u.LockedUntil, u.LastLoginAt, u.CreatedAt = unix(pwChanged), unix(locked), unix(lastLogin), unix(created)
	return u, nil
}

// unix turns stored seconds into a time; 0 is the zero time.
func unix(s int64) time.Time {
	if s == 0 {
		return time.Time{}
	}
	return time.Unix(s, 0)
}

// NormalizeEmail trims and lower-cases an address for storage and lookup.
func NormalizeEmail(e string) string { return strings.ToLower(strings.TrimSpace(e)) }

// UserByID loads one person.
func (d *DB) UserByID(ctx context.Context, id int64) (*User, error) {
	return scanUser(d.queryRow(ctx, `SELECT `+userCols+` FROM users WHERE id = ?`, id))
}

// UserByEmail loads the person with this (confirmed, current) address.
func (d *DB) UserByEmail(ctx context.Context, email string) (*User, error) {
	return scanUser(d.queryRow(ctx, `SELECT `+userCols+` FROM users WHERE email = ?`, NormalizeEmail(email)))
}

// UserByPendingEmail loads the person who asked to change their address to email.
func (d *DB) UserByPendingEmail(ctx context.Context, email string) (*User, error) {
	return scanUser(d.R.QueryRowContext(ctx, `SELECT `+userCols+` FROM users WHERE pending_email = ?`, NormalizeEmail(email)))
}

// EnsureUser returns the person with this address, creating them (without a password) if needed.
// created reports whether a new account was made.
func EnsureUser(ctx context.Context, tx *sql.Tx, now time.Time, email, name, lang string) (id int64, created bool, err error) {
	email = NormalizeEmail(email)
	err = tx.QueryRowContext(ctx, `SELECT id FROM users WHERE email = ?`, email).Scan(&id)
	if err == nil {
		// An inviter may name someone who never set a password, not an existing account: that one is
		// not theirs to change (it may belong to MSP staff or to another organisation).
		if name != "" {
			_, err = tx.ExecContext(ctx, `UPDATE users SET name = ? WHERE id = ? AND name = '' AND password_hash IS NULL`, name, id)
		}
		return id, false, err
	}
	if !errors.Is(err, sql.ErrNoRows) {
		return 0, false, err
	}
	if lang != "de" && lang != "en" {
		lang = "de"
	}
	err = tx.QueryRowContext(ctx, `INSERT INTO users(email, name, lang, created_at) VALUES (?, ?, ?, ?) RETURNING id`,
		email, strings.TrimSpace(name), lang, now.Unix()).Scan(&id)
	return id, true, err
}

// SetStaffRole makes a person MSP staff ("admin", "technician") or a customer ("").
func SetStaffRole(ctx context.Context, tx *sql.Tx, userID int64, role string) error {
	var v any
	if role != "" {
		v = role
	}
	_, err := tx.ExecContext(ctx, `UPDATE users SET staff_role = ? WHERE id = ?`, v, userID)
	return err
}

// CountAdmins returns how many enabled MSP administrators exist.
func (d *DB) CountAdmins(ctx context.Context) (int, error) {
	var n int
	err := d.R.QueryRowContext(ctx, `SELECT count(*) FROM users WHERE staff_role = 'admin' AND disabled_at IS NULL`).Scan(&n)
	return n, err
}

// AdminsOrInvited counts the enabled MSP administrators and the administrator invitations that can still be
// accepted: the console's first-administrator link is offered only while both are zero.
func (d *DB) AdminsOrInvited(ctx context.Context) (int, error) {
	var n int
	err := d.R.QueryRowContext(ctx, `SELECT (SELECT count(*) FROM users WHERE staff_role = 'admin' AND disabled_at IS NULL)
		+ (SELECT count(*) FROM invitations WHERE org_id IS NULL AND role = 'admin' AND accepted_at IS NULL
		AND revoked_at IS NULL AND expires_at > ?)`, d.Now().Unix()).Scan(&n)
	return n, err
}

// SetPassword stores a new password hash, confirms the address (the person proved it by using a link sent
// there), clears the lock, and ends every session and every outstanding reset link of the account.
func SetPassword(ctx context.Context, tx *sql.Tx, now time.Time, userID int64, phc string) error {
	if _, err := tx.ExecContext(ctx, `UPDATE users SET password_hash = ?, password_changed_at = ?,
		email_confirmed_at = COALESCE(email_confirmed_at, ?), failed_logins = 0, locked_until = 0 WHERE id = ?`,
		phc, now.Unix(), now.Unix(), userID); err != nil {
		return err
	}
	if _, err := tx.ExecContext(ctx, `UPDATE tokens SET revoked_at = ? WHERE user_id = ? AND purpose = 'reset'
		AND used_at IS NULL AND revoked_at IS NULL`, now.Unix(), userID); err != nil {
		return err
	}
	return EndSessions(ctx, tx, userID, "")
}

// SetNameLang stores the name and language someone chose while setting their first password.
func SetNameLang(ctx context.Context, tx *sql.Tx, userID int64, name, lang string) error {
	_, err := tx.ExecContext(ctx, `UPDATE users SET name = ?, lang = ? WHERE id = ?`, name, lang, userID)
	return err
}

// SetName stores the name someone chose while setting their first password through a reset link.
func SetName(ctx context.Context, tx *sql.Tx, userID int64, name string) error {
	_, err := tx.ExecContext(ctx, `UPDATE users SET name = ? WHERE id = ?`, name, userID)
	return err
}

// RehashPassword replaces a password hash made with older parameters by one made with the current ones
// (the same password); nothing else about the account changes.
func (d *DB) RehashPassword(ctx context.Context, userID int64, phc string) error {
	_, err := d.W.ExecContext(ctx, `UPDATE users SET password_hash = ? WHERE id = ?`, phc, userID)
	return err
}

// ConfirmEmail makes email the confirmed address of userID inside tx, and the expiry digests that named
// the previous address name this one (RenameDigestRecipient; digests lists the ones it changed). The
// person's open invitations are revoked when the address changes: their links went to the previous
// address, which proves nothing about the person any more (like a reset link sent there, whose page
// refuses it), and whoever reads that mailbox now would see the new address on the invitation's page and
// could accept it for them; the inviter can send it again, to the new address. taken:
// another account has the address meanwhile; then the account keeps its address, and stops waiting for
// this one, which cannot become its own (the profile would otherwise show it as waiting, with a "send
// again" that never sends).
func ConfirmEmail(ctx context.Context, tx *sql.Tx, now time.Time, userID int64, email string) (taken bool, digests []DigestRecipientChange, err error) {
	var other int64
	if err := tx.QueryRowContext(ctx, `SELECT id FROM users WHERE email = ? AND id != ?`, email, userID).Scan(&other); err == nil {
		_, err = tx.ExecContext(ctx, `UPDATE users SET pending_email = NULL WHERE id = ? AND pending_email = ?`, userID, email)
		return true, nil, err
	} else if !errors.Is(err, sql.ErrNoRows) {
		return false, nil, err
	}
	var old string
	if err := tx.QueryRowContext(ctx, `SELECT email FROM users WHERE id = ?`, userID).Scan(&old); err != nil {
		return false, nil, err
	}
	if _, err = tx.ExecContext(ctx, `UPDATE users SET email = ?, pending_email = NULL, email_confirmed_at = ? WHERE id = ?`,
		email, now.Unix(), userID); err != nil {
		return false, nil, err
	}
	if NormalizeEmail(old) != NormalizeEmail(email) {
		if _, err := tx.ExecContext(ctx, `UPDATE invitations SET revoked_at = ? WHERE user_id = ? AND accepted_at IS NULL
			AND revoked_at IS NULL`, now.Unix(), userID); err != nil {
			return false, nil, err
		}
	}
	digests, err = RenameDigestRecipient(ctx, tx, userID, old, email)
	return false, digests, err
}

// UpdateProfile stores the person's own settings.
func (d *DB) UpdateProfile(ctx context.Context, userID int64, name, lang, tz, theme string) error {
	_, err := d.W.ExecContext(ctx, `UPDATE users SET name = ?, lang = ?, time_zone = ?, theme = ? WHERE id = ?`,
		name, lang, tz, theme, userID)
	return err
}

// SetAvatar stores (or with nil removes) the person's avatar PNG.
func (d *DB) SetAvatar(ctx context.Context, userID int64, png []byte) error {
	_, err := d.W.ExecContext(ctx, `UPDATE users SET avatar = ? WHERE id = ?`, png, userID)
	return err
}

// Avatar returns the avatar PNG of a person.
func (d *DB) Avatar(ctx context.Context, userID int64) ([]byte, error) {
	var b []byte
	err := d.R.QueryRowContext(ctx, `SELECT avatar FROM users WHERE id = ? AND avatar IS NOT NULL`, userID).Scan(&b)
	if errors.Is(err, sql.ErrNoRows) {
		return nil, ErrNotFound
	}
	return b, err
}

// SetDisabled disables (ending every session) or enables an account.
func (d *DB) SetDisabled(ctx context.Context, userID int64, disabled bool) error {
	return d.Tx(ctx, func(tx *sql.Tx) error { return SetDisabled(ctx, tx, d.Now(), userID, disabled) })
}

// SetDisabled is DB.SetDisabled inside tx. Disabling the last administrator is DisableUnlessLastAdmin's
// to refuse.
func SetDisabled(ctx context.Context, tx *sql.Tx, now time.Time, userID int64, disabled bool) error {
	var v any
	if disabled {
		v = now.Unix()
	}
	if _, err := tx.ExecContext(ctx, `UPDATE users SET disabled_at = ? WHERE id = ?`, v, userID); err != nil {
		return err
	}
	if disabled {
		return EndSessions(ctx, tx, userID, "")
	}
	return nil
}

// MarkSetupShown records that "your account is set up" was shown.
func (d *DB) MarkSetupShown(ctx context.Context, userID int64) error {
	_, err := d.W.ExecContext(ctx, `UPDATE users SET setup_shown = 1 WHERE id = ?`, userID)
	return err
}

// SetUserLang stores the person's language (chosen with the language switch).
func (d *DB) SetUserLang(ctx context.Context, userID int64, lang string) error {
	_, err := d.W.ExecContext(ctx, `UPDATE users SET lang = ? WHERE id = ?`, lang, userID)
	return err
}
