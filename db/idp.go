package db

import (
	"context"
	"crypto/sha256"
	"database/sql"
	"errors"
	"strings"
	"time"
)

// IdP is an organisation's OpenID Connect identity provider, as MSP administrators configured it. The
// client secret stays sealed until Secret opens it.
type IdP struct {
	ID                int64
	OrgID             int64
	OrgName           string
	OrgSlug           string
	Kind              string // "entra", "google" or "oidc"
	Name              string
	Tenant            string // Entra: tenant id or "organizations"; Google: hosted domain
	Issuer            string // kind "oidc": the issuer URL
	ClientID          string
	Domains           string // one per line; see idp.ParseDomains
	MFAACR            string // space-separated acr values accepted as a second factor
	RequirePortierMFA bool
	HasSecret         bool
	UpdatedAt         time.Time
	sealed            []byte
}

const idpCols = `p.id, p.org_id, o.name, o.slug, p.kind, p.name, p.tenant, p.issuer, p.client_id, p.client_secret,
	p.domains, p.mfa_acr, p.require_portier_mfa, p.updated_at`

const idpFrom = ` FROM idps p JOIN orgs o ON o.id = p.org_id`

func scanIdP(r scanner) (*IdP, error) {
	p := &IdP{}
	var updated int64
	err := r.Scan(&p.ID, &p.OrgID, &p.OrgName, &p.OrgSlug, &p.Kind, &p.Name, &p.Tenant, &p.Issuer, &p.ClientID,
		&p.sealed, &p.Domains, &p.MFAACR, &p.RequirePortierMFA, &updated)
	if errors.Is(err, sql.ErrNoRows) {
		return nil, ErrNotFound
	}
	if err != nil {
		return nil, err
	}
	p.HasSecret = len(p.sealed) > 0
	p.UpdatedAt = unix(updated)
	return p, nil
}

// IdPByOrg returns the organisation's provider; ErrNotFound when it has none.
func (d *DB) IdPByOrg(ctx context.Context, orgID int64) (*IdP, error) {
	return scanIdP(d.R.QueryRowContext(ctx, `SELECT `+idpCols+idpFrom+` WHERE p.org_id = ?`, orgID))
}

// IdPByID returns a provider by its id.
func (d *DB) IdPByID(ctx context.Context, id int64) (*IdP, error) {
	return scanIdP(d.R.QueryRowContext(ctx, `SELECT `+idpCols+idpFrom+` WHERE p.id = ?`, id))
}

// IdPs lists every configured provider, by organisation name.
func (d *DB) IdPs(ctx context.Context) ([]*IdP, error) {
	rows, err := d.R.QueryContext(ctx, `SELECT `+idpCols+idpFrom+` ORDER BY o.name, p.id`)
	if err != nil {
		return nil, err
	}
	defer rows.Close()
	var out []*IdP
	for rows.Next() {
		p, err := scanIdP(rows)
		if err != nil {
			return nil, err
		}
		out = append(out, p)
	}
	return out, rows.Err()
}

// Secret opens the sealed client secret ("" when none is stored).
func (p *IdP) Secret(s *Sealer) (string, error) {
	if len(p.sealed) == 0 {
		return "", nil
	}
	b, err := s.Open("idps", "client_secret", p.ID, p.sealed)
	return string(b), err
}

// SaveIdP creates or replaces the organisation's provider. An empty secret keeps the stored one (the form
// never shows it again). A change of provider kind, tenant or issuer unlinks every account linked through
// the old one: a subject is only meaningful to the provider that issued it.
func (d *DB) SaveIdP(ctx context.Context, s *Sealer, p *IdP, secret string, audit AuditEntry) error {
	now := d.Now()
	return d.Tx(ctx, func(tx *sql.Tx) error {
		var id int64
		var kind, tenant, issuer string
		err := tx.QueryRowContext(ctx, `SELECT id, kind, tenant, issuer FROM idps WHERE org_id = ?`, p.OrgID).Scan(&id, &kind, &tenant, &issuer)
		switch {
		case errors.Is(err, sql.ErrNoRows):
			err = tx.QueryRowContext(ctx, `INSERT INTO idps(org_id, kind, name, tenant, issuer, client_id, domains, mfa_acr,
				require_portier_mfa, created_at, updated_at) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?) RETURNING id`,
				p.OrgID, p.Kind, p.Name, p.Tenant, p.Issuer, p.ClientID, p.Domains, p.MFAACR, p.RequirePortierMFA,
				now.Unix(), now.Unix()).Scan(&id)
			if err != nil {
				return err
			}
		case err != nil:
			return err
		default:
			if kind != p.Kind || !strings.EqualFold(tenant, p.Tenant) || issuer != p.Issuer {
				if _, err := tx.ExecContext(ctx, `DELETE FROM user_identities WHERE idp_id = ?`, id); err != nil {
					return err
				}
			}
			if _, err := tx.ExecContext(ctx, `UPDATE idps SET kind = ?, name = ?, tenant = ?, issuer = ?, client_id = ?,
				domains = ?, mfa_acr = ?, require_portier_mfa = ?, updated_at = ? WHERE id = ?`, p.Kind, p.Name, p.Tenant,
				p.Issuer, p.ClientID, p.Domains, p.MFAACR, p.RequirePortierMFA, now.Unix(), id); err != nil {
				return err
			}
		}
		p.ID, p.UpdatedAt = id, now
		if secret != "" {
			sealed, err := s.Seal("idps", "client_secret", id, []byte(secret))
			if err != nil {
				return err
			}
			if _, err := tx.ExecContext(ctx, `UPDATE idps SET client_secret = ? WHERE id = ?`, sealed, id); err != nil {
				return err
			}
			p.sealed, p.HasSecret = sealed, true
		}
		return d.Audit(ctx, tx, audit)
	})
}

// DeleteIdP removes the organisation's provider and, with it, every account linked through it.
func (d *DB) DeleteIdP(ctx context.Context, orgID int64, audit AuditEntry) error {
	return d.Tx(ctx, func(tx *sql.Tx) error {
		res, err := tx.ExecContext(ctx, `DELETE FROM idps WHERE org_id = ?`, orgID)
		if err != nil {
			return err
		}
		if n, _ := res.RowsAffected(); n == 0 {
			return ErrNotFound
		}
		return d.Audit(ctx, tx, audit)
	})
}

// Identity is a provider account linked to a person.
type Identity struct {
	ID         int64
	UserID     int64
	UserEmail  string
	UserName   string
	IdPID      int64
	Subject    string
	Email      string
	CreatedAt  time.Time
	LastUsedAt time.Time
}

// IdentityBySubject returns the link of a provider's subject; ErrNotFound when it opens no account.
func (d *DB) IdentityBySubject(ctx context.Context, subject string) (*Identity, error) {
	i := &Identity{Subject: subject}
	var created, used int64
	err := d.R.QueryRowContext(ctx, `SELECT i.id, i.user_id, u.email, u.name, i.idp_id, i.email, i.created_at,
		COALESCE(i.last_used_at, 0) FROM user_identities i JOIN users u ON u.id = i.user_id WHERE i.subject = ?`, subject).
		Scan(&i.ID, &i.UserID, &i.UserEmail, &i.UserName, &i.IdPID, &i.Email, &created, &used)
	if errors.Is(err, sql.ErrNoRows) {
		return nil, ErrNotFound
	}
	i.CreatedAt, i.LastUsedAt = unix(created), unix(used)
	return i, err
}

// Identities lists the accounts linked through a provider, by the person's address.
func (d *DB) Identities(ctx context.Context, idpID int64) ([]Identity, error) {
	rows, err := d.R.QueryContext(ctx, `SELECT i.id, i.user_id, u.email, u.name, i.idp_id, i.subject, i.email,
		i.created_at, COALESCE(i.last_used_at, 0) FROM user_identities i JOIN users u ON u.id = i.user_id
		WHERE i.idp_id = ? ORDER BY u.email, i.id`, idpID)
	if err != nil {
		return nil, err
	}
	defer rows.Close()
	var out []Identity
	for rows.Next() {
		var i Identity
		var created, used int64
		if err := rows.Scan(&i.ID, &i.UserID, &i.UserEmail, &i.UserName, &i.IdPID, &i.Subject, &i.Email, &created, &used); err != nil {
			return nil, err
		}
		i.CreatedAt, i.LastUsedAt = unix(created), unix(used)
		out = append(out, i)
	}
	return out, rows.Err()
}

// IdentitiesOfUser lists the provider accounts linked to a person.
func (d *DB) IdentitiesOfUser(ctx context.Context, userID int64) ([]Identity, error) {
	rows, err := d.R.QueryContext(ctx, `SELECT id, idp_id, subject, email, created_at, COALESCE(last_used_at, 0)
		FROM user_identities WHERE user_id = ? ORDER BY id`, userID)
	if err != nil {
		return nil, err
	}
	defer rows.Close()
	var out []Identity
	for rows.Next() {
		i := Identity{UserID: userID}
		var created, used int64
		if err := rows.Scan(&i.ID, &i.IdPID, &i.Subject, &i.Email, &created, &used); err != nil {
			return nil, err
		}
		i.CreatedAt, i.LastUsedAt = unix(created), unix(used)
		out = append(out, i)
	}
	return out, rows.Err()
}

// LinkIdentity links a provider subject to a person. A subject already linked to the same person is
// kept (its address refreshed); one linked to someone else is ErrConflict: the UNIQUE constraint decides,
// so two concurrent links of one subject cannot both succeed.
func LinkIdentity(ctx context.Context, tx *sql.Tx, now time.Time, userID, idpID int64, subject, email string) error {
	var owner int64
	err := tx.QueryRowContext(ctx, `INSERT INTO user_identities(user_id, idp_id, subject, email, created_at, last_used_at)
		VALUES (?, ?, ?, ?, ?, ?) ON CONFLICT(subject) DO UPDATE SET email = excluded.email, last_used_at = excluded.last_used_at
		WHERE user_identities.user_id = excluded.user_id RETURNING user_id`, userID, idpID, subject, email, now.Unix(), now.Unix()).Scan(&owner)
	if errors.Is(err, sql.ErrNoRows) {
		return ErrConflict // the conflict's WHERE did not match: another person's subject
	}
	return err
}

// TouchIdentity records a sign-in through a linked subject.
func (d *DB) TouchIdentity(ctx context.Context, id int64) error {
	_, err := d.W.ExecContext(ctx, `UPDATE user_identities SET last_used_at = ? WHERE id = ?`, d.Now().Unix(), id)
	return err
}

// UnlinkIdentity removes a link made through the provider idpID and ends the person's sessions: whoever
// signed in with that provider account is out. It returns the removed link.
func (d *DB) UnlinkIdentity(ctx context.Context, idpID, id int64, audit func(*Identity) AuditEntry) (*Identity, error) {
	i := &Identity{ID: id, IdPID: idpID}
	err := d.Tx(ctx, func(tx *sql.Tx) error {
		err := tx.QueryRowContext(ctx, `DELETE FROM user_identities WHERE id = ? AND idp_id = ? RETURNING user_id, subject, email`,
			id, idpID).Scan(&i.UserID, &i.Subject, &i.Email)
		if errors.Is(err, sql.ErrNoRows) {
			return ErrNotFound
		}
		if err != nil {
			return err
		}
		if err := EndSessions(ctx, tx, i.UserID, ""); err != nil {
			return err
		}
		return d.Audit(ctx, tx, audit(i))
	})
	if err != nil {
		return nil, err
	}
	return i, nil
}

// PendingInvitationFor finds the live invitation to an organisation of the person with this address
// (the provider vouched for the address; the invitation decides that the person may come in). It returns
// the invitation's token hash, or ErrNotFound.
func (d *DB) PendingInvitationFor(ctx context.Context, orgID int64, email string) ([]byte, error) {
	now := d.Now().Unix()
	var hash []byte
	err := d.R.QueryRowContext(ctx, `SELECT i.token_hash FROM invitations i JOIN users u ON u.id = i.user_id
		WHERE i.org_id = ? AND u.email = ? AND i.accepted_at IS NULL AND i.revoked_at IS NULL AND i.expires_at > ?
		AND u.disabled_at IS NULL ORDER BY i.id DESC LIMIT 1`, orgID, NormalizeEmail(email), now).Scan(&hash)
	if errors.Is(err, sql.ErrNoRows) {
		return nil, ErrNotFound
	}
	return hash, err
}

// FinishProviderSignup completes the account of an invited person who came in through a provider: the
// provider vouched for the address, the name is kept (staff's, else the provider's), and "your account is
// set up" is not needed (there are no recovery codes to show).
func FinishProviderSignup(ctx context.Context, tx *sql.Tx, now time.Time, userID int64, name, lang string) error {
	_, err := tx.ExecContext(ctx, `UPDATE users SET email_confirmed_at = COALESCE(email_confirmed_at, ?),
		name = CASE WHEN trim(name) = '' THEN ? ELSE name END, lang = ?, setup_shown = 1 WHERE id = ?`,
		now.Unix(), name, lang, userID)
	return err
}

// SpendIdPState records that the answer to the round trip with this state came back, and reports whether
// this call was the first: one conditional INSERT decides between parallel requests. Records older than
// until's round trips are dropped on the way.
func (d *DB) SpendIdPState(ctx context.Context, state string, until time.Time) (bool, error) {
	h := sha256.Sum256([]byte(state))
	now := d.Now().Unix()
	first := false
	// One transaction: one wait for the writer and one commit, not one for the clean-up and one for the insert.
	err := d.Tx(ctx, func(tx *sql.Tx) error {
		if _, err := tx.ExecContext(ctx, `DELETE FROM idp_spent_states WHERE expires_at < ?`, now); err != nil {
			return err
		}
		res, err := tx.ExecContext(ctx, `INSERT INTO idp_spent_states(state_hash, expires_at) VALUES (?, ?)
			ON CONFLICT(state_hash) DO NOTHING`, h[:], until.Unix())
		if err != nil {
			return err
		}
		n, err := res.RowsAffected()
		first = n == 1
		return err
	})
	return first, err
}
