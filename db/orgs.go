package db

import (
	"context"
	"database/sql"
	"errors"
	"regexp"
	"strings"
	"time"
	"unicode"

	"golang.org/x/text/unicode/norm"
)

// Org is a customer organisation.
type Org struct {
	ID        int64
	Name      string
	Slug      string
	CreatedAt time.Time
}

// Membership is a person's role in an organisation.
type Membership struct {
	Org  Org
	Role string // "manager" or "viewer"
}

var slugRE = regexp.MustCompile(`^[a-z0-9](?:[a-z0-9-]{0,48}[a-z0-9])?$`)

// ValidSlug reports whether s can be an organisation's URL slug.
func ValidSlug(s string) bool { return slugRE.MatchString(s) }

// Slugify derives a URL slug from a name: "Müller & Söhne GmbH" → "mueller-soehne-gmbh".
func Slugify(name string) string {
	r := strings.NewReplacer("ä", "ae", "ö", "oe", "ü", "ue", "ß", "ss", "Ä", "ae", "Ö", "oe", "Ü", "ue")
	s := norm.NFKD.String(r.Replace(name))
	var b strings.Builder
	dash := false
	for _, c := range strings.ToLower(s) {
		switch {
		case c < 128 && (unicode.IsLetter(c) || unicode.IsDigit(c)):
			b.WriteRune(c)
			dash = false
		case unicode.Is(unicode.Mn, c):
		default:
			if !dash && b.Len() > 0 {
				b.WriteByte('-')
				dash = true
			}
		}
	}
	out := strings.Trim(b.String(), "-")
	if len(out) > 50 {
		out = strings.Trim(out[:50], "-")
	}
	return out
}

// CreateOrg makes an organisation; ErrConflict when the slug is taken.
func (d *DB) CreateOrg(ctx context.Context, name, slug string) (*Org, error) {
	o := &Org{Name: strings.TrimSpace(name), Slug: slug, CreatedAt: d.Now()}
	err := d.W.QueryRowContext(ctx, `INSERT INTO orgs(name, slug, created_at) VALUES (?, ?, ?) RETURNING id`,
		o.Name, o.Slug, o.CreatedAt.Unix()).Scan(&o.ID)
	if err != nil && strings.Contains(err.Error(), "UNIQUE") {
		return nil, ErrConflict
	}
	return o, err
}

func scanOrg(r scanner) (*Org, error) {
	o := &Org{}
	var created int64
	err := r.Scan(&o.ID, &o.Name, &o.Slug, &created)
	if errors.Is(err, sql.ErrNoRows) {
		return nil, ErrNotFound
	}
	o.CreatedAt = unix(created)
	return o, err
}

// OrgBySlug loads an organisation.
func (d *DB) OrgBySlug(ctx context.Context, slug string) (*Org, error) {
	return scanOrg(d.queryRow(ctx, `SELECT id, name, slug, created_at FROM orgs WHERE slug = ?`, slug))
}

// OrgByID loads an organisation.
func (d *DB) OrgByID(ctx context.Context, id int64) (*Org, error) {
	return scanOrg(d.R.QueryRowContext(ctx, `SELECT id, name, slug, created_at FROM orgs WHERE id = ?`, id))
}

// OrgSummary is an organisation with its number of people.
type OrgSummary struct {
	Org
	People int
}

// HasOrgs reports whether any organisation exists.
func (d *DB) HasOrgs(ctx context.Context) (bool, error) {
	var exists bool
	err := d.queryRow(ctx, `SELECT EXISTS (SELECT 1 FROM orgs)`).Scan(&exists)
	return exists, err
}

// Orgs lists every organisation with its number of people, by name.
func (d *DB) Orgs(ctx context.Context) ([]OrgSummary, error) {
	rows, err := d.R.QueryContext(ctx, `SELECT o.id, o.name, o.slug, o.created_at,
		(SELECT count(*) FROM memberships m WHERE m.org_id = o.id) FROM orgs o ORDER BY o.name COLLATE NOCASE`)
	if err != nil {
		return nil, err
	}
	defer rows.Close()
	var out []OrgSummary
	for rows.Next() {
		var s OrgSummary
		var created int64
		if err := rows.Scan(&s.ID, &s.Name, &s.Slug, &created, &s.People); err != nil {
			return nil, err
		}
		s.CreatedAt = unix(created)
		out = append(out, s)
	}
	return out, rows.Err()
}

// Memberships lists the organisations a person belongs to, by name.
func (d *DB) Memberships(ctx context.Context, userID int64) ([]Membership, error) {
	rows, err := d.query(ctx, `SELECT o.id, o.name, o.slug, o.created_at, m.role FROM memberships m
		JOIN orgs o ON o.id = m.org_id WHERE m.user_id = +? ORDER BY o.name COLLATE NOCASE`, userID)
	if err != nil {
		return nil, err
	}
	defer rows.Close()
	var out []Membership
	for rows.Next() {
		var m Membership
		var created int64
		if err := rows.Scan(&m.Org.ID, &m.Org.Name, &m.Org.Slug, &created, &m.Role); err != nil {
			return nil, err
		}
		m.Org.CreatedAt = unix(created)
		out = append(out, m)
	}
	return out, rows.Err()
}

// MemberRole returns the person's role in the organisation, ErrNotFound when they are not a member.
func (d *DB) MemberRole(ctx context.Context, userID, orgID int64) (string, error) {
	var role string
	err := d.queryRow(ctx, `SELECT role FROM memberships WHERE user_id = ? AND org_id = ?`, userID, orgID).Scan(&role)
	if errors.Is(err, sql.ErrNoRows) {
		return "", ErrNotFound
	}
	return role, err
}

// MembershipCount counts the organisations a person belongs to (the header offers switching when more
// than one).
func (d *DB) MembershipCount(ctx context.Context, userID int64) (int, error) {
	var n int
	err := d.queryRow(ctx, `SELECT count(*) FROM memberships WHERE user_id = ?`, userID).Scan(&n)
	return n, err
}

// SetMembership adds a person to an organisation or changes their role.
func SetMembership(ctx context.Context, tx *sql.Tx, now time.Time, userID, orgID int64, role string) error {
	_, err := tx.ExecContext(ctx, `INSERT INTO memberships(user_id, org_id, role, created_at) VALUES (?, ?, ?, ?)
		ON CONFLICT(user_id, org_id) DO UPDATE SET role = excluded.role`, userID, orgID, role, now.Unix())
	return err
}

// Person is a member of an organisation as listed for staff and managers.
type Person struct {
	UserID      int64
	Email       string
	Name        string
	Role        string
	Disabled    bool
	Active      bool // has set a password
	LastLoginAt time.Time
}

// OrgPeople lists an organisation's members.
func (d *DB) OrgPeople(ctx context.Context, orgID int64) ([]Person, error) {
	return d.people(ctx, `SELECT u.id, u.email, u.name, m.role, u.disabled_at IS NOT NULL,
		u.password_hash IS NOT NULL, COALESCE(u.last_login_at, 0) FROM memberships m JOIN users u ON u.id = m.user_id
		WHERE m.org_id = ? ORDER BY u.name COLLATE NOCASE, u.email`, orgID)
}

// StaffPeople lists the MSP's staff.
func (d *DB) StaffPeople(ctx context.Context) ([]Person, error) {
	return d.people(ctx, `SELECT id, email, name, staff_role, disabled_at IS NOT NULL,
		password_hash IS NOT NULL, COALESCE(last_login_at, 0) FROM users WHERE staff_role IS NOT NULL
		ORDER BY name COLLATE NOCASE, email`)
}

// people runs a query whose columns are those of Person, in its order.
func (d *DB) people(ctx context.Context, q string, args ...any) ([]Person, error) {
	rows, err := d.R.QueryContext(ctx, q, args...)
	if err != nil {
		return nil, err
	}
	defer rows.Close()
	var out []Person
	for rows.Next() {
		var p Person
		var last int64
		if err := rows.Scan(&p.UserID, &p.Email, &p.Name, &p.Role, &p.Disabled, &p.Active, &last); err != nil {
			return nil, err
		}
		p.LastLoginAt = unix(last)
		out = append(out, p)
	}
	return out, rows.Err()
}
