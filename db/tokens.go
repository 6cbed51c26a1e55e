package db

import (
	"context"
	"database/sql"
	"errors"
	"time"
)

// Token purposes.
const (
	PurposeReset   = "reset"
	PurposeConfirm = "confirm"
)

// CreateToken stores the hash of a new reset or confirmation link, revoking the account's older live links
// of the same purpose: one live link per account and purpose.
func (d *DB) CreateToken(ctx context.Context, userID int64, purpose string, hash []byte, email string, ttl time.Duration) error {
	now := d.Now()
	return d.Tx(ctx, func(tx *sql.Tx) error {
		if _, err := tx.ExecContext(ctx, `UPDATE tokens SET revoked_at = ? WHERE user_id = ? AND purpose = ?
			AND used_at IS NULL AND revoked_at IS NULL`, now.Unix(), userID, purpose); err != nil {
			return err
		}
		_, err := tx.ExecContext(ctx, `INSERT INTO tokens(user_id, purpose, token_hash, email, created_at, expires_at)
			VALUES (?, ?, ?, ?, ?, ?)`, userID, purpose, hash, email, now.Unix(), now.Add(ttl).Unix())
		return err
	})
}

// TokenState tells why a link does not work.
type TokenState string

const (
	TokenValid   TokenState = "valid"
	TokenUnknown TokenState = "unknown"
	TokenUsed    TokenState = "used"
	TokenExpired TokenState = "expired"
	TokenRevoked TokenState = "revoked"
)

// TokenInfo is a link's state and owner.
type TokenInfo struct {
	UserID        int64
	Email         string
	State         TokenState
	OwnerDisabled bool // the owner's account is switched off (what that means for the link is the caller's)
}

const tokenInfoQuery = `SELECT t.user_id, t.email, t.used_at, t.revoked_at, t.expires_at,
	COALESCE(u.disabled_at IS NOT NULL, 0) FROM tokens t LEFT JOIN users u ON u.id = t.user_id
	WHERE t.token_hash = ? AND t.purpose = ?`

// LookupToken tells the state of a link without using it.
func (d *DB) LookupToken(ctx context.Context, purpose string, hash []byte) (TokenInfo, error) {
	return tokenInfo(d.R.QueryRowContext(ctx, tokenInfoQuery, hash, purpose), d.Now())
}

// LookupTokenTx is LookupToken inside tx at now: the state that the transaction's writes see, so that a
// link that does not work is named by the state it had when it was refused (not by one read before).
func LookupTokenTx(ctx context.Context, tx *sql.Tx, now time.Time, purpose string, hash []byte) (TokenInfo, error) {
	return tokenInfo(tx.QueryRowContext(ctx, tokenInfoQuery, hash, purpose), now)
}

func tokenInfo(row *sql.Row, now time.Time) (TokenInfo, error) {
	var ti TokenInfo
	var used, revoked sql.NullInt64
	var expires int64
	err := row.Scan(&ti.UserID, &ti.Email, &used, &revoked, &expires, &ti.OwnerDisabled)
	if errors.Is(err, sql.ErrNoRows) {
		return TokenInfo{State: TokenUnknown}, nil
	}
	if err != nil {
		return ti, err
	}
	switch {
	case used.Valid:
		ti.State = TokenUsed
	case revoked.Valid:
		ti.State = TokenRevoked
	case !now.Before(time.Unix(expires, 0)):
		ti.State = TokenExpired
	default:
		ti.State = TokenValid
	}
	return ti, nil
}

// UseToken consumes a live link once (a conditional UPDATE decides). ErrNotFound when it is not live.
func UseToken(ctx context.Context, tx *sql.Tx, now time.Time, purpose string, hash []byte) (userID int64, email string, err error) {
	err = tx.QueryRowContext(ctx, `UPDATE tokens SET used_at = ? WHERE token_hash = ? AND purpose = ? AND used_at IS NULL
		AND revoked_at IS NULL AND expires_at > ? RETURNING user_id, email`, now.Unix(), hash, purpose, now.Unix()).Scan(&userID, &email)
	if errors.Is(err, sql.ErrNoRows) {
		return 0, "", ErrNotFound
	}
	return userID, email, err
}
