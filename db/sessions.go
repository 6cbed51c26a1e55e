package db

import (
	"context"
	"database/sql"
	"errors"
	"time"
)

// UserSession is one signed-in browser of a person.
type UserSession struct {
	Token     string
	CreatedAt time.Time
	LastSeen  time.Time
	IP        string
	UserAgent string
}

// FindSession is the lookup of scs's SQLite store (same table, same expiry rule) with a prepared
// statement: every request that carries a session cookie makes it.
func (d *DB) FindSession(ctx context.Context, token string) ([]byte, bool, error) {
	var b []byte
	err := d.queryRow(ctx, `SELECT data FROM sessions WHERE token = ? AND julianday('now') < expiry`, token).Scan(&b)
	if err == sql.ErrNoRows {
		return nil, false, nil
	}
	if err != nil {
		return nil, false, err
	}
	return b, true, nil
}

// FindSessionUser is FindSession together with the person the session belongs to (through the list of
// their sessions), in one query: every signed-in request needs both, and they are read from the same
// snapshot. u is nil for a session that belongs to nobody (yet); then data comes from FindSession.
func (d *DB) FindSessionUser(ctx context.Context, token string) (data []byte, found bool, u *User, err error) {
	u, err = scanUser(prefixScanner{d.queryRow(ctx, `SELECT s.data, x.* FROM sessions s JOIN user_sessions us ON us.token = s.token
		JOIN (SELECT `+userCols+` FROM users) x ON x.id = us.user_id WHERE s.token = ? AND julianday('now') < s.expiry`, token), &data})
	if err == nil {
		return data, true, u, nil
	}
	if !errors.Is(err, ErrNotFound) {
		return nil, false, nil, err
	}
	data, found, err = d.FindSession(ctx, token)
	return data, found, nil, err
}

// prefixScanner scans extra columns in front of what its caller asks for.
type prefixScanner struct {
	r      scanner
	before any
}

func (p prefixScanner) Scan(dest ...any) error { return p.r.Scan(append([]any{p.before}, dest...)...) }

// AddUserSession records a new session of a person (after the session token was renewed at sign-in).
func (d *DB) AddUserSession(ctx context.Context, token string, userID int64, ip, ua string) error {
	now := d.Now().Unix()
	if len(ua) > 300 {
		ua = ua[:300]
	}
	_, err := d.W.ExecContext(ctx, `INSERT INTO user_sessions(token, user_id, created_at, last_seen, ip, user_agent)
		VALUES (?, ?, ?, ?, ?, ?) ON CONFLICT(token) DO UPDATE SET user_id = excluded.user_id, last_seen = excluded.last_seen`,
		token, userID, now, now, ip, ua)
	return err
}

// RenameUserSession follows a token renewal.
func (d *DB) RenameUserSession(ctx context.Context, oldToken, newToken string) error {
	_, err := d.W.ExecContext(ctx, `UPDATE user_sessions SET token = ? WHERE token = ?`, newToken, oldToken)
	return err
}

// TouchUserSession notes activity (called at most once a minute per session).
func (d *DB) TouchUserSession(ctx context.Context, token, ip string) error {
	_, err := d.W.ExecContext(ctx, `UPDATE user_sessions SET last_seen = ?, ip = ? WHERE token = ?`, d.Now().Unix(), ip, token)
	return err
}

// RemoveUserSession forgets a session (sign-out).
func (d *DB) RemoveUserSession(ctx context.Context, token string) error {
	_, err := d.W.ExecContext(ctx, `DELETE FROM user_sessions WHERE token = ?`, token)
	return err
}

// UserSessions lists a person's sessions, most recent first.
func (d *DB) UserSessions(ctx context.Context, userID int64) ([]UserSession, error) {
	rows, err := d.R.QueryContext(ctx, `SELECT token, created_at, last_seen, ip, user_agent FROM user_sessions
		WHERE user_id = ? ORDER BY last_seen DESC`, userID)
	if err != nil {
		return nil, err
	}
	defer rows.Close()
	var out []UserSession
	for rows.Next() {
		var s UserSession
		var c, l int64
		if err := rows.Scan(&s.Token, &c, &l, &s.IP, &s.UserAgent); err != nil {
			return nil, err
		}
		s.CreatedAt, s.LastSeen = unix(c), unix(l)
		out = append(out, s)
	}
	return out, rows.Err()
}

// EndOtherSessions ends every session of the person but keep.
func (d *DB) EndOtherSessions(ctx context.Context, userID int64, keep string) error {
	return d.Tx(ctx, func(tx *sql.Tx) error { return EndSessions(ctx, tx, userID, keep) })
}
