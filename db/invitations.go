package db

import (
	"context"
	"database/sql"
	"errors"
	"time"
)

// Invitation states, derived from the row and the clock.
const (
	InvitePending  = "pending"
	InviteAccepted = "accepted"
	InviteExpired  = "expired"
	InviteRevoked  = "revoked"
)

// Invitation is one invitation link sent to a person.
type Invitation struct {
	ID         int64
	UserID     int64
	Email      string // the address the invitation went to (the person's address then; an address change revokes open ones)
	Name       string // the name the inviter typed: what the inviter's list shows
	PersonName string // the account's own name, for the mail to the person ("" for a new account without one)
	Lang       string
	OrgID      int64 // 0 for a staff invitation
	OrgName    string
	OrgSlug    string
	Role       string
	InvitedBy  string // name of the inviter ("" for the command line)
	CreatedAt  time.Time
	ExpiresAt  time.Time
	AcceptedAt time.Time
	RevokedAt  time.Time
	Status     string
}

const inviteCols = `i.id, i.user_id, COALESCE(NULLIF(i.email, ''), u.email), i.name, u.name, u.lang, COALESCE(i.org_id, 0), COALESCE(o.name, ''),
	COALESCE(o.slug, ''), i.role, COALESCE(b.name, b.email, ''), i.created_at, i.expires_at,
	COALESCE(i.accepted_at, 0), COALESCE(i.revoked_at, 0)`

const inviteFrom = ` FROM invitations i JOIN users u ON u.id = i.user_id LEFT JOIN orgs o ON o.id = i.org_id
	LEFT JOIN users b ON b.id = i.invited_by`

func (d *DB) scanInvite(r scanner) (*Invitation, error) { return scanInviteAt(r, d.Now()) }

// scanInviteAt scans an invitation whose Status is the one it has at now.
func scanInviteAt(r scanner, now time.Time) (*Invitation, error) {
	inv := &Invitation{}
	var created, expires, accepted, revoked int64
	err := r.Scan(&inv.ID, &inv.UserID, &inv.Email, &inv.Name, &inv.PersonName, &inv.Lang, &inv.OrgID, &inv.OrgName, &inv.OrgSlug,
		&inv.Role, &inv.InvitedBy, &created, &expires, &accepted, &revoked)
	if errors.Is(err, sql.ErrNoRows) {
		return nil, ErrNotFound
	}
	if err != nil {
		return nil, err
	}
	inv.CreatedAt, inv.ExpiresAt, inv.AcceptedAt, inv.RevokedAt = unix(created), unix(expires), unix(accepted), unix(revoked)
	switch {
	case accepted != 0:
		inv.Status = InviteAccepted
	case revoked != 0:
		inv.Status = InviteRevoked
	case !now.Before(inv.ExpiresAt):
		inv.Status = InviteExpired
	default:
		inv.Status = InvitePending
	}
	return inv, nil
}

// NewInvitation is what CreateInvitation needs.
type NewInvitation struct {
	Email, Name, Lang string
	OrgID             int64  // 0: staff invitation
	Role              string // manager/viewer for organisations, admin/technician for staff
	InvitedBy         int64  // 0: command line
	TokenHash         []byte
	TTL               time.Duration
}

// CreateInvitation creates the person if needed, revokes their older open invitations to the same place
// and stores the new link's hash. It grants nothing: the membership (or staff role) comes with accepting
// (AcceptInvitation), so an invitation of someone else's account gives the inviter no hold on it.
func CreateInvitation(ctx context.Context, tx *sql.Tx, now time.Time, n NewInvitation) (int64, error) {
	uid, _, err := EnsureUser(ctx, tx, now, n.Email, n.Name, n.Lang)
	if err != nil {
		return 0, err
	}
	if err := revokeOpenInvitationsTo(ctx, tx, now, uid, n.OrgID); err != nil {
		return 0, err
	}
	org := nullID(n.OrgID)
	var id int64
	err = tx.QueryRowContext(ctx, `INSERT INTO invitations(user_id, org_id, role, name, invited_by, token_hash, created_at, expires_at, email)
		SELECT ?, ?, ?, ?, ?, ?, ?, ?, email FROM users WHERE id = ? RETURNING id`, uid, org, n.Role, n.Name, nullID(n.InvitedBy),
		n.TokenHash, now.Unix(), now.Add(n.TTL).Unix(), uid).Scan(&id)
	return id, err
}

// CreateInvitation is CreateInvitation in a transaction of its own, returning the new invitation.
func (d *DB) CreateInvitation(ctx context.Context, n NewInvitation) (*Invitation, error) {
	var id int64
	err := d.Tx(ctx, func(tx *sql.Tx) (err error) {
		id, err = CreateInvitation(ctx, tx, d.Now(), n)
		return err
	})
	if err != nil {
		return nil, err
	}
	return d.InvitationByID(ctx, id)
}

// revokeOpenInvitationsTo revokes, inside tx, the person's open invitations to orgID (0: to the staff).
func revokeOpenInvitationsTo(ctx context.Context, tx *sql.Tx, now time.Time, userID, orgID int64) error {
	_, err := tx.ExecContext(ctx, `UPDATE invitations SET revoked_at = ? WHERE user_id = ? AND org_id IS ?
		AND accepted_at IS NULL AND revoked_at IS NULL`, now.Unix(), userID, nullID(orgID))
	return err
}

// nullID stores the id 0 (none: the command line as sender, the staff as place) as NULL.
func nullID(id int64) any {
	if id == 0 {
		return nil
	}
	return id
}

// InvitationByID loads one invitation.
func (d *DB) InvitationByID(ctx context.Context, id int64) (*Invitation, error) {
	return d.scanInvite(d.R.QueryRowContext(ctx, `SELECT `+inviteCols+inviteFrom+` WHERE i.id = ?`, id))
}

// InvitationByToken finds the invitation of a link by its token hash, whatever its state.
func (d *DB) InvitationByToken(ctx context.Context, hash []byte) (*Invitation, error) {
	return d.scanInvite(d.R.QueryRowContext(ctx, `SELECT `+inviteCols+inviteFrom+` WHERE i.token_hash = ?`, hash))
}

// InvitationByTokenTx is InvitationByToken inside tx at now: the invitation as the transaction that would
// accept it sees it, so that a link that does not work is named by the state it had when it was refused.
func InvitationByTokenTx(ctx context.Context, tx *sql.Tx, now time.Time, hash []byte) (*Invitation, error) {
	return scanInviteAt(tx.QueryRowContext(ctx, `SELECT `+inviteCols+inviteFrom+` WHERE i.token_hash = ?`, hash), now)
}

// Invitations lists an organisation's invitations (orgID 0: staff invitations), newest first.
func (d *DB) Invitations(ctx context.Context, orgID int64) ([]*Invitation, error) {
	rows, err := d.R.QueryContext(ctx, `SELECT `+inviteCols+inviteFrom+` WHERE i.org_id IS ? ORDER BY i.id DESC LIMIT 200`, nullID(orgID))
	if err != nil {
		return nil, err
	}
	defer rows.Close()
	var out []*Invitation
	for rows.Next() {
		inv, err := d.scanInvite(rows)
		if err != nil {
			return nil, err
		}
		out = append(out, inv)
	}
	return out, rows.Err()
}

// OpenInvite is an invitation that can still be accepted.
type OpenInvite struct {
	ID    int64
	OrgID int64 // 0: to the staff
	Role  string
}

// AcceptInvitation uses the link once and gives the membership (or staff role) it offers: a conditional
// UPDATE decides, so two concurrent uses cannot both succeed. It returns ErrNotFound for a link that is
// unknown, used, revoked or expired. Whether the person may accept it at all (access.AcceptInvitation) the
// caller asks first.
func AcceptInvitation(ctx context.Context, tx *sql.Tx, now time.Time, hash []byte) (inviteID, userID int64, err error) {
	var org sql.NullInt64
	var role string
	err = tx.QueryRowContext(ctx, `UPDATE invitations SET accepted_at = ? WHERE token_hash = ? AND accepted_at IS NULL
		AND revoked_at IS NULL AND expires_at > ? RETURNING id, user_id, org_id, role`, now.Unix(), hash, now.Unix()).Scan(&inviteID, &userID, &org, &role)
	if errors.Is(err, sql.ErrNoRows) {
		return 0, 0, ErrNotFound
	}
	if err != nil {
		return 0, 0, err
	}
	return inviteID, userID, grant(ctx, tx, now, userID, org.Int64, role)
}

// PendingInvitations lists the person's invitations that can still be accepted, oldest first.
func PendingInvitations(ctx context.Context, tx *sql.Tx, now time.Time, userID int64) ([]OpenInvite, error) {
	rows, err := tx.QueryContext(ctx, `SELECT id, COALESCE(org_id, 0), role FROM invitations WHERE user_id = ?
		AND accepted_at IS NULL AND revoked_at IS NULL AND expires_at > ? ORDER BY id`, userID, now.Unix())
	if err != nil {
		return nil, err
	}
	defer rows.Close()
	var out []OpenInvite
	for rows.Next() {
		var o OpenInvite
		if err := rows.Scan(&o.ID, &o.OrgID, &o.Role); err != nil {
			return nil, err
		}
		out = append(out, o)
	}
	return out, rows.Err()
}

// AcceptInvitationID accepts one of PendingInvitations (the person proved their address through another
// link, e.g. the password reset of someone who lost the invitation mail) and gives what it offers.
// ErrNotFound when it is no longer open.
func AcceptInvitationID(ctx context.Context, tx *sql.Tx, now time.Time, id int64) error {
	var uid int64
	var org sql.NullInt64
	var role string
	err := tx.QueryRowContext(ctx, `UPDATE invitations SET accepted_at = ? WHERE id = ? AND accepted_at IS NULL
		AND revoked_at IS NULL AND expires_at > ? RETURNING user_id, org_id, role`, now.Unix(), id, now.Unix()).Scan(&uid, &org, &role)
	if errors.Is(err, sql.ErrNoRows) {
		return ErrNotFound
	}
	if err != nil {
		return err
	}
	return grant(ctx, tx, now, uid, org.Int64, role)
}

// grant gives what an accepted invitation offers.
func grant(ctx context.Context, tx *sql.Tx, now time.Time, userID, orgID int64, role string) error {
	if orgID != 0 {
		return SetMembership(ctx, tx, now, userID, orgID, role)
	}
	return SetStaffRole(ctx, tx, userID, role)
}

// HasOpenInvitation reports whether the person has an invitation that can still be accepted.
func (d *DB) HasOpenInvitation(ctx context.Context, userID int64) (bool, error) {
	var ok bool
	err := d.R.QueryRowContext(ctx, `SELECT EXISTS (SELECT 1 FROM invitations WHERE user_id = ? AND accepted_at IS NULL
		AND revoked_at IS NULL AND expires_at > ?)`, userID, d.Now().Unix()).Scan(&ok)
	return ok, err
}

// RevokeInvitation revokes a pending invitation. Nothing else changes: the invitation granted nothing.
// ErrNotFound when it is not pending.
func (d *DB) RevokeInvitation(ctx context.Context, id int64) error {
	return d.Tx(ctx, func(tx *sql.Tx) error { return WithdrawInvitation(ctx, tx, d.Now(), id) })
}

// ReissueInvitation replaces the link of an open invitation (the old link dies), extends it by ttl and
// makes by (0: the command line) its sender: whoever sends it again vouches for it from then on, so it
// stands on their authority (WithdrawInvitation). It returns the new invitation's id; ErrConflict when it
// was accepted, revoked or replaced meanwhile.
func ReissueInvitation(ctx context.Context, tx *sql.Tx, now time.Time, id, by int64, hash []byte, ttl time.Duration) (int64, error) {
	// Only an open invitation is replaced, and only once: the conditional UPDATE decides between parallel
	// re-sends (and a revocation or acceptance meanwhile), so one live link remains.
	if err := WithdrawInvitation(ctx, tx, now, id); errors.Is(err, ErrNotFound) {
		return 0, ErrConflict
	} else if err != nil {
		return 0, err
	}
	var newID int64
	err := tx.QueryRowContext(ctx, `INSERT INTO invitations(user_id, org_id, role, name, invited_by, token_hash, created_at, expires_at, email)
		SELECT user_id, org_id, role, name, ?, ?, ?, ?, email FROM invitations WHERE id = ? RETURNING id`,
		nullID(by), hash, now.Unix(), now.Add(ttl).Unix(), id).Scan(&newID)
	return newID, err
}

// SentInvite is an open invitation as its sender's authority is checked against it.
type SentInvite struct {
	ID    int64
	OrgID int64 // 0: to the staff
	Role  string
	Email string
}

// OpenInvitationsSentBy lists the invitations userID sent (or sent again last) that can still be accepted.
func OpenInvitationsSentBy(ctx context.Context, tx *sql.Tx, now time.Time, userID int64) ([]SentInvite, error) {
	rows, err := tx.QueryContext(ctx, `SELECT i.id, COALESCE(i.org_id, 0), i.role, i.email FROM invitations i
		WHERE i.invited_by = ? AND i.accepted_at IS NULL AND i.revoked_at IS NULL
		AND i.expires_at > ? ORDER BY i.id`, userID, now.Unix())
	if err != nil {
		return nil, err
	}
	defer rows.Close()
	var out []SentInvite
	for rows.Next() {
		var s SentInvite
		if err := rows.Scan(&s.ID, &s.OrgID, &s.Role, &s.Email); err != nil {
			return nil, err
		}
		out = append(out, s)
	}
	return out, rows.Err()
}

// OpenInvitationSenders lists everyone who sent (or sent again last) an invitation that can still be
// accepted; the command line's (no sender) are not among them.
func OpenInvitationSenders(ctx context.Context, tx *sql.Tx, now time.Time) ([]int64, error) {
	rows, err := tx.QueryContext(ctx, `SELECT DISTINCT invited_by FROM invitations WHERE invited_by IS NOT NULL
		AND accepted_at IS NULL AND revoked_at IS NULL AND expires_at > ? ORDER BY invited_by`, now.Unix())
	if err != nil {
		return nil, err
	}
	defer rows.Close()
	var out []int64
	for rows.Next() {
		var id int64
		if err := rows.Scan(&id); err != nil {
			return nil, err
		}
		out = append(out, id)
	}
	return out, rows.Err()
}

// WithdrawInvitation revokes an open invitation inside tx. ErrNotFound when it is not open any more.
func WithdrawInvitation(ctx context.Context, tx *sql.Tx, now time.Time, id int64) error {
	res, err := tx.ExecContext(ctx, `UPDATE invitations SET revoked_at = ? WHERE id = ? AND accepted_at IS NULL
		AND revoked_at IS NULL`, now.Unix(), id)
	if err != nil {
		return err
	}
	if n, _ := res.RowsAffected(); n == 0 {
		return ErrNotFound
	}
	return nil
}
