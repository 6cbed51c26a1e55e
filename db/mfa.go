package db

import (
	"context"
	"crypto/rand"
	"database/sql"
	"errors"
	"strings"
	"time"
)

// Second factors: enrolled methods (authenticator app, e-mail code, passkey), recovery codes, e-mail codes
// (the counts of failed codes are in throttle.go).

// Kinds of second factor.
const (
	MFATOTP    = "totp"
	MFAEmail   = "email"
	MFAPasskey = "passkey"
)

// ErrLastFactor is returned when someone tries to remove their only second factor.
var ErrLastFactor = errors.New("the last second factor cannot be removed")

// MFAMethod is one enrolled second factor of a person.
type MFAMethod struct {
	ID         int64
	UserID     int64
	Kind       string
	Name       string
	CreatedAt  time.Time
	LastUsedAt time.Time

	// totp
	sealedSecret []byte
	LastStep     int64
	// email
	Email string
	// passkey
	CredentialID      []byte
	PublicKey         []byte
	SignCount         uint32
	Flags             byte
	BackupEligible    bool
	BackupState       bool
	Transports        []string
	AAGUID            []byte
	AttestationFormat string
}

const mfaCols = `id, user_id, kind, name, created_at, COALESCE(last_used_at, 0), secret, last_step, COALESCE(email, ''),
	credential_id, public_key, sign_count, flags, backup_eligible, backup_state, transports, aaguid, attestation_format`

func scanMFA(r scanner) (*MFAMethod, error) {
	m := &MFAMethod{}
	var created, used, signCount, flags int64
	var transports string
	err := r.Scan(&m.ID, &m.UserID, &m.Kind, &m.Name, &created, &used, &m.sealedSecret, &m.LastStep, &m.Email,
		&m.CredentialID, &m.PublicKey, &signCount, &flags, &m.BackupEligible, &m.BackupState, &transports, &m.AAGUID,
		&m.AttestationFormat)
	if errors.Is(err, sql.ErrNoRows) {
		return nil, ErrNotFound
	}
	if err != nil {
		return nil, err
	}
	m.CreatedAt, m.LastUsedAt = unix(created), unix(used)
	m.SignCount, m.Flags = uint32(signCount), byte(flags)
	if transports != "" {
		m.Transports = strings.Split(transports, ",")
	}
	return m, nil
}

// MFAMethods lists a person's second factors, oldest first.
func (d *DB) MFAMethods(ctx context.Context, userID int64) ([]MFAMethod, error) {
	rows, err := d.R.QueryContext(ctx, `SELECT `+mfaCols+` FROM mfa_methods WHERE user_id = ? ORDER BY id`, userID)
	if err != nil {
		return nil, err
	}
	defer rows.Close()
	var out []MFAMethod
	for rows.Next() {
		m, err := scanMFA(rows)
		if err != nil {
			return nil, err
		}
		out = append(out, *m)
	}
	return out, rows.Err()
}

// CountMFAMethods returns how many second factors a person has enrolled.
func (d *DB) CountMFAMethods(ctx context.Context, userID int64) (int, error) {
	var n int
	err := d.queryRow(ctx, `SELECT count(*) FROM mfa_methods WHERE user_id = ?`, userID).Scan(&n) // every page asks (stmts.go)
	return n, err
}

// MFAMethodOf loads one method of the person (another person's method is ErrNotFound).
func (d *DB) MFAMethodOf(ctx context.Context, userID, id int64) (*MFAMethod, error) {
	return scanMFA(d.R.QueryRowContext(ctx, `SELECT `+mfaCols+` FROM mfa_methods WHERE id = ? AND user_id = ?`, id, userID))
}

// TOTPSecret opens the sealed secret of an authenticator-app method.
func (m *MFAMethod) TOTPSecret(s *Sealer) ([]byte, error) {
	if m.Kind != MFATOTP {
		return nil, errors.New("not an authenticator app")
	}
	return s.Open("mfa_methods", "secret", m.ID, m.sealedSecret)
}

// AddTOTP enrols an authenticator app inside tx. The secret is sealed to the new row; step is the time
// step of the code that proved the enrolment, so that code cannot be replayed at the next sign-in.
func AddTOTP(ctx context.Context, tx *sql.Tx, s *Sealer, now time.Time, userID int64, name string, secret []byte, step int64) (int64, error) {
	var id int64
	if err := tx.QueryRowContext(ctx, `INSERT INTO mfa_methods(user_id, kind, name, last_step, created_at, last_used_at)
		VALUES (?, 'totp', ?, ?, ?, ?) RETURNING id`, userID, name, step, now.Unix(), now.Unix()).Scan(&id); err != nil {
		return 0, err
	}
	sealed, err := s.Seal("mfa_methods", "secret", id, secret)
	if err != nil {
		return 0, err
	}
	_, err = tx.ExecContext(ctx, `UPDATE mfa_methods SET secret = ? WHERE id = ?`, sealed, id)
	return id, err
}

// ConsumeTOTPStep records that a code of time step step was accepted, unless a code of that step or a
// later one was accepted before (a replay): the conditional UPDATE decides, so two requests racing with
// the same code cannot both pass.
func (d *DB) ConsumeTOTPStep(ctx context.Context, methodID, step int64) (bool, error) {
	res, err := d.W.ExecContext(ctx, `UPDATE mfa_methods SET last_step = ?, last_used_at = ?
		WHERE id = ? AND kind = 'totp' AND last_step < ?`, step, d.Now().Unix(), methodID, step)
	if err != nil {
		return false, err
	}
	n, err := res.RowsAffected()
	return n == 1, err
}

// AddEmailMethod enrols an address for e-mail codes inside tx.
func AddEmailMethod(ctx context.Context, tx *sql.Tx, now time.Time, userID int64, name, email string) (int64, error) {
	var id int64
	err := tx.QueryRowContext(ctx, `INSERT INTO mfa_methods(user_id, kind, name, email, created_at, last_used_at)
		VALUES (?, 'email', ?, ?, ?, ?) RETURNING id`, userID, name, NormalizeEmail(email), now.Unix(), now.Unix()).Scan(&id)
	return id, err
}

// Passkey is what is stored of a registered WebAuthn credential.
type Passkey struct {
	Name              string
	CredentialID      []byte
	PublicKey         []byte
	SignCount         uint32
	Flags             byte
	BackupEligible    bool
	BackupState       bool
	Transports        []string
	AAGUID            []byte
	AttestationFormat string
}

// AddPasskey stores a registered passkey inside tx. A credential id already registered (to anyone) is
// ErrConflict.
func AddPasskey(ctx context.Context, tx *sql.Tx, now time.Time, userID int64, p Passkey) (int64, error) {
	var exists int
	if err := tx.QueryRowContext(ctx, `SELECT count(*) FROM mfa_methods WHERE credential_id = ?`, p.CredentialID).Scan(&exists); err != nil {
		return 0, err
	}
	if exists > 0 {
		return 0, ErrConflict
	}
	var id int64
	err := tx.QueryRowContext(ctx, `INSERT INTO mfa_methods(user_id, kind, name, credential_id, public_key, sign_count,
		flags, backup_eligible, backup_state, transports, aaguid, attestation_format, created_at, last_used_at)
		VALUES (?, 'passkey', ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?) RETURNING id`,
		userID, p.Name, p.CredentialID, p.PublicKey, int64(p.SignCount), int64(p.Flags), p.BackupEligible, p.BackupState,
		strings.Join(p.Transports, ","), p.AAGUID, p.AttestationFormat, now.Unix(), now.Unix()).Scan(&id)
	return id, err
}

// UsePasskey records a successful assertion: the new signature count and flags. The count must grow
// (or stay 0 for authenticators without a counter); a regression means a cloned authenticator and the
// conditional UPDATE refuses it (false).
func (d *DB) UsePasskey(ctx context.Context, methodID int64, signCount uint32, flags byte, backupState bool) (bool, error) {
	res, err := d.W.ExecContext(ctx, `UPDATE mfa_methods SET sign_count = ?, flags = ?, backup_state = ?, last_used_at = ?
		WHERE id = ? AND kind = 'passkey' AND (sign_count < ? OR (sign_count = 0 AND ? = 0))`,
		int64(signCount), int64(flags), backupState, d.Now().Unix(), methodID, int64(signCount), int64(signCount))
	if err != nil {
		return false, err
	}
	n, err := res.RowsAffected()
	return n == 1, err
}

// MarkMFAUsed notes the use of a method (the sign-in page offers the method used last).
func (d *DB) MarkMFAUsed(ctx context.Context, methodID int64) error {
	_, err := d.W.ExecContext(ctx, `UPDATE mfa_methods SET last_used_at = ? WHERE id = ?`, d.Now().Unix(), methodID)
	return err
}

// WebAuthnHandle returns the person's WebAuthn user handle, making one (32 random bytes) the first time.
func (d *DB) WebAuthnHandle(ctx context.Context, userID int64) ([]byte, error) {
	h := make([]byte, 32)
	_, _ = rand.Read(h)
	if _, err := d.W.ExecContext(ctx, `UPDATE users SET webauthn_handle = ? WHERE id = ? AND webauthn_handle IS NULL`, h, userID); err != nil {
		return nil, err
	}
	var out []byte
	err := d.W.QueryRowContext(ctx, `SELECT webauthn_handle FROM users WHERE id = ?`, userID).Scan(&out)
	if errors.Is(err, sql.ErrNoRows) {
		return nil, ErrNotFound
	}
	return out, err
}

// UserIDByWebAuthnHandle finds the person a passkey's user handle belongs to.
func (d *DB) UserIDByWebAuthnHandle(ctx context.Context, handle []byte) (int64, error) {
	var id int64
	err := d.R.QueryRowContext(ctx, `SELECT id FROM users WHERE webauthn_handle = ?`, handle).Scan(&id)
	if errors.Is(err, sql.ErrNoRows) {
		return 0, ErrNotFound
	}
	return id, err
}

// RenameMFAMethod changes the name of one of the person's methods.
func (d *DB) RenameMFAMethod(ctx context.Context, userID, id int64, name string) error {
	res, err := d.W.ExecContext(ctx, `UPDATE mfa_methods SET name = ? WHERE id = ? AND user_id = ?`, name, id, userID)
	if err != nil {
		return err
	}
	if n, _ := res.RowsAffected(); n == 0 {
		return ErrNotFound
	}
	return nil
}

// RemoveMFAMethod deletes one of the person's methods inside tx, unless it is the last one (ErrLastFactor).
// The condition is part of the DELETE, so two removals at the same moment cannot leave the person with
// none.
func RemoveMFAMethod(ctx context.Context, tx *sql.Tx, userID, id int64) error {
	res, err := tx.ExecContext(ctx, `DELETE FROM mfa_methods WHERE id = ? AND user_id = ?
		AND (SELECT count(*) FROM mfa_methods WHERE user_id = ?) > 1`, id, userID, userID)
	if err != nil {
		return err
	}
	if n, _ := res.RowsAffected(); n == 1 {
		return nil
	}
	var exists int
	if err := tx.QueryRowContext(ctx, `SELECT count(*) FROM mfa_methods WHERE id = ? AND user_id = ?`, id, userID).Scan(&exists); err != nil {
		return err
	}
	if exists == 0 {
		return ErrNotFound
	}
	return ErrLastFactor
}

// ResetMFA deletes every second factor, recovery code and e-mail code of the person inside tx and ends
// their sessions: they enrol again at the next sign-in.
func ResetMFA(ctx context.Context, tx *sql.Tx, userID int64) error {
	for _, q := range []string{
		`DELETE FROM mfa_methods WHERE user_id = ?`,
		`DELETE FROM recovery_codes WHERE user_id = ?`,
		`DELETE FROM email_codes WHERE user_id = ?`,
		`DELETE FROM mfa_attempts WHERE user_id = ?`,
		`UPDATE users SET mfa_failures = 0 WHERE id = ?`,
	} {
		if _, err := tx.ExecContext(ctx, q, userID); err != nil {
			return err
		}
	}
	return EndSessions(ctx, tx, userID, "")
}

// ReplaceRecoveryCodes stores a new set of recovery code hashes inside tx; the old set dies.
func ReplaceRecoveryCodes(ctx context.Context, tx *sql.Tx, now time.Time, userID int64, hashes [][]byte) error {
	if _, err := tx.ExecContext(ctx, `DELETE FROM recovery_codes WHERE user_id = ?`, userID); err != nil {
		return err
	}
	for _, h := range hashes {
		if _, err := tx.ExecContext(ctx, `INSERT INTO recovery_codes(user_id, code_hash, created_at) VALUES (?, ?, ?)`,
			userID, h, now.Unix()); err != nil {
			return err
		}
	}
	return nil
}

// UseRecoveryCode spends the code with this hash, once: the conditional UPDATE decides.
func (d *DB) UseRecoveryCode(ctx context.Context, userID int64, hash []byte) (bool, error) {
	res, err := d.W.ExecContext(ctx, `UPDATE recovery_codes SET used_at = ? WHERE id =
		(SELECT id FROM recovery_codes WHERE user_id = ? AND code_hash = ? AND used_at IS NULL LIMIT 1)
		AND used_at IS NULL`, d.Now().Unix(), userID, hash)
	if err != nil {
		return false, err
	}
	n, err := res.RowsAffected()
	return n == 1, err
}

// RecoveryCodesLeft counts the person's unused recovery codes.
func (d *DB) RecoveryCodesLeft(ctx context.Context, userID int64) (int, error) {
	var n int
	err := d.R.QueryRowContext(ctx, `SELECT count(*) FROM recovery_codes WHERE user_id = ? AND used_at IS NULL`, userID).Scan(&n)
	return n, err
}

// E-mail code rules from security.md.
const (
	EmailCodeTTL      = 10 * time.Minute
	EmailCodeMaxTries = 5
)

// CreateEmailCode stores the hash of a new e-mail code for one attempt and purpose; older live codes of
// the same attempt die, so only the newest mail's code works.
func (d *DB) CreateEmailCode(ctx context.Context, userID int64, purpose, attempt, email string, hash []byte) error {
	now := d.Now()
	return d.Tx(ctx, func(tx *sql.Tx) error {
		if _, err := tx.ExecContext(ctx, `UPDATE email_codes SET used_at = ? WHERE user_id = ? AND purpose = ?
			AND attempt = ? AND used_at IS NULL`, now.Unix(), userID, purpose, attempt); err != nil {
			return err
		}
		// Old rows are of no use to anyone: keep the table small.
		if _, err := tx.ExecContext(ctx, `DELETE FROM email_codes WHERE expires_at < ?`, now.Add(-24*time.Hour).Unix()); err != nil {
			return err
		}
		_, err := tx.ExecContext(ctx, `INSERT INTO email_codes(user_id, purpose, attempt, email, code_hash, created_at, expires_at)
			VALUES (?, ?, ?, ?, ?, ?, ?)`, userID, purpose, attempt, NormalizeEmail(email), hash, now.Unix(), now.Add(EmailCodeTTL).Unix())
		return err
	})
}

// EmailCodeResult is the outcome of checking an e-mail code.
type EmailCodeResult int

const (
	EmailCodeOK    EmailCodeResult = iota
	EmailCodeWrong                 // wrong code; the try was counted
	EmailCodeNone                  // no live code: none sent, expired, used, or void after 5 wrong tries
)

// LiveEmailCode reports whether the attempt has a usable code, and the address it went to.
func (d *DB) LiveEmailCode(ctx context.Context, userID int64, purpose, attempt string) (bool, string, error) {
	var email string
	err := d.R.QueryRowContext(ctx, `SELECT email FROM email_codes WHERE user_id = ? AND purpose = ? AND attempt = ?
		AND used_at IS NULL AND tries < ? AND expires_at > ? ORDER BY id DESC LIMIT 1`,
		userID, purpose, attempt, EmailCodeMaxTries, d.Now().Unix()).Scan(&email)
	if errors.Is(err, sql.ErrNoRows) {
		return false, "", nil
	}
	return err == nil, email, err
}

// CheckEmailCode checks a code against the attempt's live code with match (which compares in constant
// time). A right code is spent by a conditional UPDATE; a wrong one counts a try. It returns the address
// the code went to.
func (d *DB) CheckEmailCode(ctx context.Context, userID int64, purpose, attempt string, match func(hash []byte) bool) (EmailCodeResult, string, error) {
	now := d.Now().Unix()
	result, email := EmailCodeNone, ""
	err := d.Tx(ctx, func(tx *sql.Tx) error {
		var id int64
		var hash []byte
		err := tx.QueryRowContext(ctx, `SELECT id, code_hash, email FROM email_codes WHERE user_id = ? AND purpose = ?
			AND attempt = ? AND used_at IS NULL AND tries < ? AND expires_at > ? ORDER BY id DESC LIMIT 1`,
			userID, purpose, attempt, EmailCodeMaxTries, now).Scan(&id, &hash, &email)
		if errors.Is(err, sql.ErrNoRows) {
			return nil
		}
		if err != nil {
			return err
		}
		if !match(hash) {
			result = EmailCodeWrong
			_, err := tx.ExecContext(ctx, `UPDATE email_codes SET tries = tries + 1 WHERE id = ?`, id)
			return err
		}
		res, err := tx.ExecContext(ctx, `UPDATE email_codes SET used_at = ? WHERE id = ? AND used_at IS NULL
			AND tries < ? AND expires_at > ?`, now, id, EmailCodeMaxTries, now)
		if err != nil {
			return err
		}
		if n, _ := res.RowsAffected(); n == 1 {
			result = EmailCodeOK
		}
		return nil
	})
	return result, email, err
}

// SignIn is one successful sign-in of a person, from the audit log.
type SignIn struct {
	At        time.Time
	Method    string // "totp", "email", "passkey", "recovery"
	IP        string
	UserAgent string
}

// RecentSignIns lists the person's last successful sign-ins: passed second factors and password-less
// passkey sign-ins.
func (d *DB) RecentSignIns(ctx context.Context, userID int64, limit int) ([]SignIn, error) {
	rows, err := d.R.QueryContext(ctx, `SELECT at, target, ip, user_agent FROM audit WHERE actor_id = ?
		AND (action = 'mfa.ok' OR (action = 'login.ok' AND target = 'passkey')) ORDER BY id DESC LIMIT ?`, userID, limit)
	if err != nil {
		return nil, err
	}
	defer rows.Close()
	var out []SignIn
	for rows.Next() {
		var s SignIn
		var at int64
		if err := rows.Scan(&at, &s.Method, &s.IP, &s.UserAgent); err != nil {
			return nil, err
		}
		s.At = time.Unix(at, 0)
		out = append(out, s)
	}
	return out, rows.Err()
}

// SpendChallenge marks a WebAuthn challenge (its hash) as answered and reports whether this call did: of
// parallel answers to one challenge exactly one gets true (the insert's row count decides). The mark is
// kept until expires, after which the ceremony is refused anyway.
func (d *DB) SpendChallenge(ctx context.Context, hash []byte, expires time.Time) (bool, error) {
	var spent bool
	err := d.Tx(ctx, func(tx *sql.Tx) error {
		now := d.Now().Unix()
		if _, err := tx.ExecContext(ctx, `DELETE FROM webauthn_challenges WHERE expires_at < ?`, now); err != nil {
			return err
		}
		res, err := tx.ExecContext(ctx, `INSERT INTO webauthn_challenges(hash, expires_at) VALUES (?, ?)
			ON CONFLICT(hash) DO NOTHING`, hash, expires.Unix())
		if err != nil {
			return err
		}
		n, err := res.RowsAffected()
		spent = n == 1
		return err
	})
	return spent, err
}
