package db

import (
	"context"
	"database/sql"
	"errors"
	"time"
)

// Queries of the people pages (an organisation's members, the MSP's staff) that the other files lack.

// PersonFacts is what the access policy needs to know about a person: staff role and memberships.
type PersonFacts struct {
	StaffRole string
	Orgs      map[int64]string // organisation id → role
}

// OrgPeopleFacts returns the facts of every member of the organisation (all their memberships, not only
// this one), for the people page: one query instead of one per row.
func (d *DB) OrgPeopleFacts(ctx context.Context, orgID int64) (map[int64]PersonFacts, error) {
	rows, err := d.R.QueryContext(ctx, `SELECT u.id, COALESCE(u.staff_role, ''), o.org_id, o.role FROM memberships m
		JOIN users u ON u.id = m.user_id JOIN memberships o ON o.user_id = m.user_id WHERE m.org_id = ?`, orgID)
	if err != nil {
		return nil, err
	}
	defer rows.Close()
	out := map[int64]PersonFacts{}
	for rows.Next() {
		var uid, org int64
		var staff, role string
		if err := rows.Scan(&uid, &staff, &org, &role); err != nil {
			return nil, err
		}
		f, ok := out[uid]
		if !ok {
			f = PersonFacts{StaffRole: staff, Orgs: map[int64]string{}}
			out[uid] = f
		}
		f.Orgs[org] = role
	}
	return out, rows.Err()
}

// SetMemberRole changes a member's role in an organisation, and the role of their invitations there that
// are still open, so that re-sending one does not bring the old role back. ErrNotFound when the person is
// not a member.
func (d *DB) SetMemberRole(ctx context.Context, userID, orgID int64, role string) error {
	return d.Tx(ctx, func(tx *sql.Tx) error { return SetMemberRole(ctx, tx, userID, orgID, role) })
}

// SetMemberRole is DB.SetMemberRole inside tx (accounts decides in the same transaction).
func SetMemberRole(ctx context.Context, tx *sql.Tx, userID, orgID int64, role string) error {
	res, err := tx.ExecContext(ctx, `UPDATE memberships SET role = ? WHERE user_id = ? AND org_id = ?`, role, userID, orgID)
	if err != nil {
		return err
	}
	if n, _ := res.RowsAffected(); n == 0 {
		return ErrNotFound
	}
	_, err = tx.ExecContext(ctx, `UPDATE invitations SET role = ? WHERE user_id = ? AND org_id = ?
		AND accepted_at IS NULL AND revoked_at IS NULL`, role, userID, orgID)
	return err
}

// MemberOrgs returns the organisations a person belongs to, with their role there, read inside tx: a
// decision taken in the transaction that acts on it is not overtaken by a write committed meanwhile.
func MemberOrgs(ctx context.Context, tx *sql.Tx, userID int64) (map[int64]string, error) {
	rows, err := tx.QueryContext(ctx, `SELECT org_id, role FROM memberships WHERE user_id = ?`, userID)
	if err != nil {
		return nil, err
	}
	defer rows.Close()
	out := map[int64]string{}
	for rows.Next() {
		var org int64
		var role string
		if err := rows.Scan(&org, &role); err != nil {
			return nil, err
		}
		out[org] = role
	}
	return out, rows.Err()
}

// RemoveMember ends a person's membership of an organisation and revokes their open invitations to it (an
// older link must not bring them back), inside tx. Their account and sessions stay: other organisations
// share them, and every request reads the membership anew. ErrNotFound when the person is not a member
// (any more): of parallel removals, one succeeds.
func RemoveMember(ctx context.Context, tx *sql.Tx, now time.Time, userID, orgID int64) error {
	res, err := tx.ExecContext(ctx, `DELETE FROM memberships WHERE user_id = ? AND org_id = ?`, userID, orgID)
	if err != nil {
		return err
	}
	if n, err := res.RowsAffected(); err != nil {
		return err
	} else if n == 0 {
		return ErrNotFound
	}
	return revokeOpenInvitationsTo(ctx, tx, now, userID, orgID)
}

// DisableUnlessLastAdmin disables an account and ends its sessions, unless it is the last enabled MSP
// administrator: then ErrConflict. The condition is part of the UPDATE, so two administrators disabling
// each other at the same moment cannot leave the MSP without one.
func (d *DB) DisableUnlessLastAdmin(ctx context.Context, userID int64) error {
	return d.Tx(ctx, func(tx *sql.Tx) error { return DisableUnlessLastAdmin(ctx, tx, d.Now(), userID) })
}

// DisableUnlessLastAdmin is DB.DisableUnlessLastAdmin inside tx.
func DisableUnlessLastAdmin(ctx context.Context, tx *sql.Tx, now time.Time, userID int64) error {
	res, err := tx.ExecContext(ctx, `UPDATE users SET disabled_at = COALESCE(disabled_at, ?) WHERE id = ?
		AND (staff_role IS NOT 'admin' OR disabled_at IS NOT NULL OR EXISTS (SELECT 1 FROM users o
		WHERE o.staff_role = 'admin' AND o.disabled_at IS NULL AND o.id != ?))`, now.Unix(), userID, userID)
	if err != nil {
		return err
	}
	if n, _ := res.RowsAffected(); n == 0 {
		var exists bool
		if err := tx.QueryRowContext(ctx, `SELECT EXISTS (SELECT 1 FROM users WHERE id = ?)`, userID).Scan(&exists); err != nil {
			return err
		}
		if !exists {
			return ErrNotFound
		}
		return ErrConflict
	}
	return EndSessions(ctx, tx, userID, "")
}

// PolicyFactsTx is what the access policy needs to know about a person, read inside tx — the transaction
// that then acts on the decision — with whether the account is disabled. ErrNotFound when there is no such
// person.
func PolicyFactsTx(ctx context.Context, tx *sql.Tx, userID int64) (PersonFacts, bool, error) {
	f := PersonFacts{}
	var disabled bool
	err := tx.QueryRowContext(ctx, `SELECT COALESCE(staff_role, ''), disabled_at IS NOT NULL FROM users WHERE id = ?`,
		userID).Scan(&f.StaffRole, &disabled)
	if errors.Is(err, sql.ErrNoRows) {
		return f, false, ErrNotFound
	}
	if err != nil {
		return f, false, err
	}
	f.Orgs, err = MemberOrgs(ctx, tx, userID)
	return f, disabled, err
}

// OpenInvitation returns the newest invitation of the person to the organisation (orgID 0: to the staff)
// that was neither accepted nor revoked (it may have expired). ErrNotFound when there is none.
func (d *DB) OpenInvitation(ctx context.Context, userID, orgID int64) (*Invitation, error) {
	var org any
	if orgID != 0 {
		org = orgID
	}
	inv, err := d.scanInvite(d.R.QueryRowContext(ctx, `SELECT `+inviteCols+inviteFrom+` WHERE i.user_id = ?
		AND i.org_id IS ? AND i.accepted_at IS NULL AND i.revoked_at IS NULL ORDER BY i.id DESC LIMIT 1`, userID, org))
	if errors.Is(err, sql.ErrNoRows) {
		return nil, ErrNotFound
	}
	return inv, err
}
