package db

import (
	"context"
	"crypto/sha256"
	"database/sql"
	"errors"
	"time"
)

// SessionHash is what the database keeps of a session token: its SHA-256. The token itself (32 random
// bytes from scs) is a bearer credential and never reaches the database file, its WAL or a backup; the
// hash of a high-entropy token needs no salt or slow hashing to be useless to whoever reads it.
func SessionHash(token string) []byte {
	h := sha256.Sum256([]byte(token))
	return h[:]
}

// UserSession is one signed-in browser of a person. Hash is SessionHash of its token.
type UserSession struct {
	Hash      []byte
	CreatedAt time.Time
	LastSeen  time.Time
	IP        string
	UserAgent string
}

// julianDay is t as the Julian day number scs's SQLite store used for expiry (so SQLite's julianday('now')
// compares with it).
func julianDay(t time.Time) float64 { return float64(t.UnixNano())/(24*float64(time.Hour)) + 2440587.5 }

// FindSession reads the data of an unexpired session: every request that carries a session cookie makes
// this lookup (or FindSessionUser).
func (d *DB) FindSession(ctx context.Context, token string) ([]byte, bool, error) {
	var b []byte
	err := d.queryRow(ctx, `SELECT data FROM sessions WHERE hash = ? AND julianday('now') < expiry`, SessionHash(token)).Scan(&b)
	if err == sql.ErrNoRows {
		return nil, false, nil
	}
	if err != nil {
		return nil, false, err
	}
	return b, true, nil
}

// SessionRead is what a request with a signed-in session reads before its handler runs, in one query and
// so from one snapshot: the session's data, the person it is listed for, what every page asks of them, and
// the organisation of the route with their role in it.
type SessionRead struct {
	Data []byte
	// User is the person whose list holds the session at their current epoch; nil for a session that
	// belongs to nobody (an anonymous one, or one whose person ended it: not signed in).
	User        *User
	Factors     int // the person's second factors (the enrolment gate asks on every page)
	Memberships int // how many organisations the person belongs to (the header offers switching)
	// Org is the organisation asked for by slug, nil when none has that slug or none was asked for; Role is
	// the person's role in it, "" when they are not a member. Whether they may see it is not decided here
	// (handlers' orgAccess).
	Org  *Org
	Role string
}

// FindSessionUser is FindSession together with the person the session belongs to and, for an
// organisation's page, that organisation by its slug (orgSlug, "" for none) and the person's role there:
// every signed-in request needs the first, every organisation page the second, and one query instead of two
// is a tenth of such a page's time (`portier bench`, docs/architecture.md). The person comes only through
// their list of sessions, and only while the listed epoch is the person's current one.
func (d *DB) FindSessionUser(ctx context.Context, token, orgSlug string) (r SessionRead, found bool, err error) {
	h := SessionHash(token)
	var (
		orgID, orgCreated sql.NullInt64
		orgName, orgSlugS sql.NullString
		role              string
	)
	r.User, err = scanUser(prefixScanner{d.queryRow(ctx, `SELECT s.data, (SELECT count(*) FROM mfa_methods m WHERE m.user_id = x.id),
		(SELECT count(*) FROM memberships WHERE user_id = x.id), o.id, o.name, o.slug, o.created_at, COALESCE(mo.role, ''), x.*
		FROM sessions s JOIN user_sessions us ON us.hash = s.hash
		JOIN (SELECT `+userCols+` FROM users) x ON x.id = us.user_id AND x.session_epoch = us.epoch
		LEFT JOIN orgs o ON o.slug = +?
		LEFT JOIN memberships mo ON mo.org_id = o.id AND mo.user_id = x.id
		WHERE s.hash = ? AND julianday('now') < s.expiry`, orgSlug, h),
		[]any{&r.Data, &r.Factors, &r.Memberships, &orgID, &orgName, &orgSlugS, &orgCreated, &role}})
	if err == nil {
		if orgID.Valid {
			r.Org = &Org{ID: orgID.Int64, Name: orgName.String, Slug: orgSlugS.String, CreatedAt: unix(orgCreated.Int64)}
			r.Role = role
		}
		return r, true, nil
	}
	if !errors.Is(err, ErrNotFound) {
		return SessionRead{}, false, err
	}
	r = SessionRead{}
	r.Data, found, err = d.FindSession(ctx, token)
	return r, found, err
}

// prefixScanner scans extra columns in front of what its caller asks for.
type prefixScanner struct {
	r      scanner
	before []any
}

func (p prefixScanner) Scan(dest ...any) error { return p.r.Scan(append(p.before, dest...)...) }

// InsertSession stores the data of a session whose token was issued in this request. A plain INSERT: a
// token is never stored twice, and an existing row is never replaced.
func (d *DB) InsertSession(ctx context.Context, token string, data []byte, expiry time.Time) error {
	_, err := d.W.ExecContext(ctx, `INSERT INTO sessions(hash, data, expiry) VALUES (?, ?, ?)`,
		SessionHash(token), data, julianDay(expiry))
	return err
}

// UpdateSession rewrites the data of an existing, unexpired session. It never creates a row: a session
// ended while one of its requests was running stays ended when that request saves it. It reports whether
// the session still existed.
func (d *DB) UpdateSession(ctx context.Context, token string, data []byte, expiry time.Time) (bool, error) {
	res, err := d.W.ExecContext(ctx, `UPDATE sessions SET data = ?, expiry = ? WHERE hash = ? AND julianday('now') < expiry`,
		data, julianDay(expiry), SessionHash(token))
	if err != nil {
		return false, err
	}
	n, err := res.RowsAffected()
	return n > 0, err
}

// DeleteSession removes a session's data (scs's Destroy and RenewToken); its listing goes separately.
func (d *DB) DeleteSession(ctx context.Context, token string) error {
	_, err := d.W.ExecContext(ctx, `DELETE FROM sessions WHERE hash = ?`, SessionHash(token))
	return err
}

// staleListing is how long a listed session may lack its data before the cleanup forgets it. A listing is
// written during the request that issues the token and the data when that request ends, so a listing
// without data younger than this may belong to a request still running.
const staleListing = time.Hour

// DeleteExpiredSessions removes expired sessions, and listings whose session is gone.
func (d *DB) DeleteExpiredSessions(ctx context.Context) error {
	return d.Tx(ctx, func(tx *sql.Tx) error {
		if _, err := tx.ExecContext(ctx, `DELETE FROM sessions WHERE expiry < julianday('now')`); err != nil {
			return err
		}
		_, err := tx.ExecContext(ctx, `DELETE FROM user_sessions WHERE last_seen < ?
			AND NOT EXISTS (SELECT 1 FROM sessions s WHERE s.hash = user_sessions.hash)`, d.Now().Add(-staleListing).Unix())
		return err
	})
}

// AddUserSession lists a new session of a person (after the session token was renewed at sign-in). epoch
// is the person's session epoch as read when their credentials were checked: if their sessions were ended
// since, the new session is listed under the old epoch and is not accepted.
func (d *DB) AddUserSession(ctx context.Context, token string, userID, epoch int64, ip, ua string) error {
	now := d.Now().Unix()
	if len(ua) > 300 {
		ua = ua[:300]
	}
	_, err := d.W.ExecContext(ctx, `INSERT INTO user_sessions(hash, user_id, epoch, created_at, last_seen, ip, user_agent)
		VALUES (?, ?, ?, ?, ?, ?, ?)`, SessionHash(token), userID, epoch, now, now, ip, ua)
	return err
}

// RenameUserSession follows a token renewal. A session that was ended meanwhile has no listing to follow,
// and the renewed token stays unlisted (not signed in).
func (d *DB) RenameUserSession(ctx context.Context, oldToken, newToken string) error {
	_, err := d.W.ExecContext(ctx, `UPDATE user_sessions SET hash = ?, last_seen = ? WHERE hash = ?`,
		SessionHash(newToken), d.Now().Unix(), SessionHash(oldToken))
	return err
}

// TouchUserSession notes activity (called at most once a minute per session).
func (d *DB) TouchUserSession(ctx context.Context, token, ip string) error {
	_, err := d.W.ExecContext(ctx, `UPDATE user_sessions SET last_seen = ?, ip = ? WHERE hash = ?`, d.Now().Unix(), ip, SessionHash(token))
	return err
}

// RemoveUserSession forgets a session (sign-out).
func (d *DB) RemoveUserSession(ctx context.Context, token string) error {
	_, err := d.W.ExecContext(ctx, `DELETE FROM user_sessions WHERE hash = ?`, SessionHash(token))
	return err
}

// UserSessions lists a person's sessions, most recent first.
func (d *DB) UserSessions(ctx context.Context, userID int64) ([]UserSession, error) {
	rows, err := d.R.QueryContext(ctx, `SELECT hash, created_at, last_seen, ip, user_agent FROM user_sessions
		WHERE user_id = ? ORDER BY last_seen DESC`, userID)
	if err != nil {
		return nil, err
	}
	defer rows.Close()
	var out []UserSession
	for rows.Next() {
		var s UserSession
		var c, l int64
		if err := rows.Scan(&s.Hash, &c, &l, &s.IP, &s.UserAgent); err != nil {
			return nil, err
		}
		s.CreatedAt, s.LastSeen = unix(c), unix(l)
		out = append(out, s)
	}
	return out, rows.Err()
}

// SessionEpoch returns the person's current session epoch inside tx (for a session listed in the same
// transaction that ended the others).
func SessionEpoch(ctx context.Context, tx *sql.Tx, userID int64) (int64, error) {
	var e int64
	err := tx.QueryRowContext(ctx, `SELECT session_epoch FROM users WHERE id = ?`, userID).Scan(&e)
	if errors.Is(err, sql.ErrNoRows) {
		return 0, ErrNotFound
	}
	return e, err
}

// SessionsStillValid fails with ErrConflict inside tx when the person's sessions were ended after epoch
// was read (the epoch of the request's session, at its start). A request that adds a second factor runs
// it in the same transaction: one that was in flight when staff reset the person's factors must not add
// a factor after the reset.
func SessionsStillValid(ctx context.Context, tx *sql.Tx, userID, epoch int64) error {
	cur, err := SessionEpoch(ctx, tx, userID)
	if err != nil {
		return err
	}
	if cur != epoch {
		return ErrConflict
	}
	return nil
}

// EndOtherSessions ends every session of the person but the one with token keep.
func (d *DB) EndOtherSessions(ctx context.Context, userID int64, keep string) error {
	return d.Tx(ctx, func(tx *sql.Tx) error { return EndSessions(ctx, tx, userID, keep) })
}

// EndSessions ends every session of the person except the one with token keep ("" ends all): their data
// and listings are deleted and the person's session epoch goes up, so that a sign-in which checked the
// password before this moment lists its session under a dead epoch. The kept session moves to the new
// epoch.
func EndSessions(ctx context.Context, tx *sql.Tx, userID int64, keep string) error {
	var kh []byte // NULL: "hash IS NOT NULL" is true for every row
	if keep != "" {
		kh = SessionHash(keep)
	}
	for _, q := range []string{
		`UPDATE users SET session_epoch = session_epoch + 1 WHERE id = ?1`,
		`DELETE FROM sessions WHERE hash IN (SELECT hash FROM user_sessions WHERE user_id = ?1 AND hash IS NOT ?2)`,
		`DELETE FROM user_sessions WHERE user_id = ?1 AND hash IS NOT ?2`,
		`UPDATE user_sessions SET epoch = (SELECT session_epoch FROM users WHERE id = ?1) WHERE user_id = ?1 AND hash IS ?2`,
	} {
		if _, err := tx.ExecContext(ctx, q, userID, kh); err != nil {
			return err
		}
	}
	return nil
}
