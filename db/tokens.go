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
	UserID int64
	Email  string
	State  TokenState
}

// LookupToken tells the state of a link without using it.
func (d *DB) LookupToken(ctx context.Context, purpose string, hash []byte) (TokenInfo, error) {
	var ti TokenInfo
	var used, revoked sql.NullInt64
	var expires int64
	err := d.R.QueryRowContext(ctx, `SELECT user_id, email, used_at, revoked_at, expires_at FROM tokens
		WHERE token_hash = ? AND purpose = ?`, hash, purpose).Scan(&ti.UserID, &ti.Email, &used, &revoked, &expires)
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
	case !d.Now().Before(time.Unix(expires, 0)):
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
