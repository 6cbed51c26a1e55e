package db

import (
	"cmp"
	"context"
	"database/sql"
	"errors"
	"slices"
	"strings"
	"time"
)

// ExpiryKinds are the kinds of things kept in the expiries table, besides the dates of items.
var ExpiryKinds = []string{"licence", "certificate", "domain", "contract"}

// Expiry is a licence, certificate, domain or contract of an organisation with the day it ends.
type Expiry struct {
	ID        int64
	OrgID     int64
	Kind      string
	Name      string
	ExpiresOn string // YYYY-MM-DD
	Notes     string
	StaffOnly bool
}

// ExpiryCreate stores one; hook runs in the transaction (audit).
func (d *DB) ExpiryCreate(ctx context.Context, e Expiry, hook func(*sql.Tx, int64) error) (int64, error) {
	var id int64
	err := d.Tx(ctx, func(tx *sql.Tx) error {
		now := d.Now().Unix()
		if err := tx.QueryRowContext(ctx, `INSERT INTO expiries(org_id, kind, name, expires_on, notes, staff_only, created_at, updated_at)
			VALUES (?, ?, ?, ?, ?, ?, ?, ?) RETURNING id`, e.OrgID, e.Kind, e.Name, e.ExpiresOn, e.Notes, e.StaffOnly, now, now).Scan(&id); err != nil {
			return err
		}
		if hook != nil {
			return hook(tx, id)
		}
		return nil
	})
	return id, err
}

// ExpiryDelete removes one of the organisation's; ErrNotFound for any other id.
func (d *DB) ExpiryDelete(ctx context.Context, orgID, id int64, hook func(*sql.Tx, Expiry) error) error {
	return d.Tx(ctx, func(tx *sql.Tx) error {
		var e Expiry
		err := tx.QueryRowContext(ctx, `DELETE FROM expiries WHERE id = ? AND org_id = ? RETURNING id, org_id, kind, name, expires_on, staff_only`,
			id, orgID).Scan(&e.ID, &e.OrgID, &e.Kind, &e.Name, &e.ExpiresOn, &e.StaffOnly)
		if errors.Is(err, sql.ErrNoRows) {
			return ErrNotFound
		}
		if err != nil {
			return err
		}
		if hook != nil {
			return hook(tx, e)
		}
		return nil
	})
}

// ExpiryDate is a date field that counts as an expiry: warranty ends, custom fields marked so.
type ExpiryDate struct {
	Area, Field string
}

// ExpiryEntry is one line of the overview: something of an organisation that ends on Date.
type ExpiryEntry struct {
	OrgID     int64
	OrgName   string
	OrgSlug   string
	Source    string // "licence", "certificate", "domain", "contract", "password", or the date field's name
	Area      string // the item's area ("" for the expiries table)
	ItemID    int64  // the item's or the expiry's id
	Name      string
	Date      time.Time // the day it ends (for a password: when it reaches the maximum age)
	Changed   time.Time // for a password: when it was last set
	StaffOnly bool
}

// ExpiryScope is whose overview: one organisation, or all (OrgID 0, staff only); and as whom.
type ExpiryScope struct {
	OrgID     int64
	StaffView bool
}

func (sc ExpiryScope) where(alias string) (string, []any) {
	q := ""
	var args []any
	if sc.OrgID != 0 {
		q += ` AND ` + alias + `.org_id = ?`
		args = append(args, sc.OrgID)
	}
	if !sc.StaffView {
		q += ` AND ` + alias + `.staff_only = 0`
	}
	return q, args
}

// ExpiryOverview gathers every dated thing of the scope: the given date fields of items, the expiries
// table, and each stored password with the day it reaches maxAge (counted from when its value was last
// set: its creation or the newest version that changed it). Callers filter and sort.
func (d *DB) ExpiryOverview(ctx context.Context, sc ExpiryScope, dates []ExpiryDate, maxAge time.Duration, loc *time.Location) ([]ExpiryEntry, error) {
	var out []ExpiryEntry
	day := func(s string) (time.Time, bool) {
		t, err := time.ParseInLocation("2006-01-02", s, loc)
		return t, err == nil
	}
	w, wargs := sc.where("i")
	for _, df := range dates {
		path := "$." + df.Field
		rows, err := d.R.QueryContext(ctx, `SELECT i.id, i.org_id, o.name, o.slug, i.name, i.staff_only, json_extract(i.fields, ?)
			FROM doc_items i JOIN orgs o ON o.id = i.org_id WHERE i.area = ? AND i.deleted_at IS NULL
			AND COALESCE(json_extract(i.fields, ?), '') != ''`+w, append([]any{path, df.Area, path}, wargs...)...)
		if err != nil {
			return nil, err
		}
		for rows.Next() {
			e := ExpiryEntry{Source: df.Field, Area: df.Area}
			var v string
			if err := rows.Scan(&e.ItemID, &e.OrgID, &e.OrgName, &e.OrgSlug, &e.Name, &e.StaffOnly, &v); err != nil {
				rows.Close()
				return nil, err
			}
			if t, ok := day(v); ok {
				e.Date = t
				out = append(out, e)
			}
		}
		rows.Close()
		if err := rows.Err(); err != nil {
			return nil, err
		}
	}
	w, wargs = sc.where("x")
	rows, err := d.R.QueryContext(ctx, `SELECT x.id, x.org_id, o.name, o.slug, x.kind, x.name, x.staff_only, x.expires_on
		FROM expiries x JOIN orgs o ON o.id = x.org_id WHERE 1`+w, wargs...)
	if err != nil {
		return nil, err
	}
	for rows.Next() {
		var e ExpiryEntry
		var v string
		if err := rows.Scan(&e.ItemID, &e.OrgID, &e.OrgName, &e.OrgSlug, &e.Source, &e.Name, &e.StaffOnly, &v); err != nil {
			rows.Close()
			return nil, err
		}
		if t, ok := day(v); ok {
			e.Date = t
			out = append(out, e)
		}
	}
	rows.Close()
	if err := rows.Err(); err != nil {
		return nil, err
	}
	if maxAge <= 0 {
		return out, nil
	}
	w, wargs = sc.where("i")
	rows, err = d.R.QueryContext(ctx, `SELECT i.id, i.org_id, o.name, o.slug, i.name, i.staff_only,
		(SELECT max(v.changed_at) FROM doc_versions v WHERE v.item_id = i.id
			AND (v.change = 'create' OR ',' || v.secret_fields || ',' LIKE '%,password,%'))
		FROM doc_items i JOIN orgs o ON o.id = i.org_id JOIN doc_secrets s ON s.item_id = i.id AND s.field = 'password'
		WHERE i.area = 'passwords' AND i.deleted_at IS NULL`+w, wargs...)
	if err != nil {
		return nil, err
	}
	defer rows.Close()
	for rows.Next() {
		e := ExpiryEntry{Source: "password", Area: "passwords"}
		var changed sql.NullInt64
		if err := rows.Scan(&e.ItemID, &e.OrgID, &e.OrgName, &e.OrgSlug, &e.Name, &e.StaffOnly, &changed); err != nil {
			return nil, err
		}
		if !changed.Valid {
			continue
		}
		e.Changed = time.Unix(changed.Int64, 0).In(loc)
		e.Date = e.Changed.Add(maxAge)
		out = append(out, e)
	}
	return out, rows.Err()
}

// ExpiryDigest is an organisation's choice of who gets the weekly digest, and in which language.
type ExpiryDigest struct {
	OrgID      int64
	Recipients []string
	Lang       string
	LastSent   time.Time
}

// ExpiryDigestOf returns the organisation's digest settings (no recipients: no digest).
func (d *DB) ExpiryDigestOf(ctx context.Context, orgID int64) (ExpiryDigest, error) {
	dg := ExpiryDigest{OrgID: orgID, Lang: "de"}
	var rcpt string
	var last int64
	err := d.R.QueryRowContext(ctx, `SELECT recipients, lang, last_sent_at FROM expiry_digests WHERE org_id = ?`, orgID).Scan(&rcpt, &dg.Lang, &last)
	if errors.Is(err, sql.ErrNoRows) {
		return dg, nil
	}
	if err != nil {
		return dg, err
	}
	dg.Recipients = splitLines(rcpt)
	dg.LastSent = unix(last)
	return dg, nil
}

func splitLines(s string) []string {
	var out []string
	for _, l := range strings.Split(s, "\n") {
		if l = strings.TrimSpace(l); l != "" {
			out = append(out, l)
		}
	}
	return out
}

// SetExpiryDigest stores who gets the digest and in which language; hook runs in the transaction (audit).
func (d *DB) SetExpiryDigest(ctx context.Context, dg ExpiryDigest, hook func(*sql.Tx) error) error {
	return d.Tx(ctx, func(tx *sql.Tx) error {
		if _, err := tx.ExecContext(ctx, `INSERT INTO expiry_digests(org_id, recipients, lang) VALUES (?, ?, ?)
			ON CONFLICT(org_id) DO UPDATE SET recipients = excluded.recipients, lang = excluded.lang`,
			dg.OrgID, strings.Join(dg.Recipients, "\n"), dg.Lang); err != nil {
			return err
		}
		if hook != nil {
			return hook(tx)
		}
		return nil
	})
}

// DueExpiryDigests lists the digests with recipients that were last sent at or before since.
func (d *DB) DueExpiryDigests(ctx context.Context, since time.Time) ([]ExpiryDigest, error) {
	rows, err := d.R.QueryContext(ctx, `SELECT org_id, recipients, lang, last_sent_at FROM expiry_digests
		WHERE recipients != '' AND last_sent_at <= ? ORDER BY org_id`, since.Unix())
	if err != nil {
		return nil, err
	}
	defer rows.Close()
	var out []ExpiryDigest
	for rows.Next() {
		var dg ExpiryDigest
		var rcpt string
		var last int64
		if err := rows.Scan(&dg.OrgID, &rcpt, &dg.Lang, &last); err != nil {
			return nil, err
		}
		dg.Recipients = splitLines(rcpt)
		dg.LastSent = unix(last)
		out = append(out, dg)
	}
	return out, rows.Err()
}

// ExpiryDigestReach keeps the recipients the organisation's digest may still reach, in order: an address
// that belongs to no account (a shared office mailbox the organisation named), or to an enabled account of
// MSP staff or of a member of the organisation. A person who was disabled, or whose account belongs to
// another organisation only, gets nothing — whoever typed their address, and however long ago. Asked in
// the transaction that claims the digest, so the answer is the one at sending time.
func ExpiryDigestReach(ctx context.Context, tx *sql.Tx, orgID int64, addrs []string) ([]string, error) {
	var out []string
	for _, a := range addrs {
		var ok bool
		err := tx.QueryRowContext(ctx, `SELECT u.disabled_at IS NULL AND `+digestForPerson("?")+` FROM users u WHERE u.email = ?`,
			orgID, NormalizeEmail(a)).Scan(&ok)
		if errors.Is(err, sql.ErrNoRows) {
			ok, err = true, nil
		}
		if err != nil {
			return nil, err
		}
		if ok {
			out = append(out, a)
		}
	}
	return out, nil
}

// digestForPerson is the SQL condition that the expiry digest of the organisation org (a column or a
// parameter) is for the person u: MSP staff, or a member of it. ExpiryDigestReach and RenameDigestRecipient
// both ask it.
func digestForPerson(org string) string {
	return `(u.staff_role IS NOT NULL AND u.staff_role != '' OR EXISTS (SELECT 1 FROM memberships m
		WHERE m.user_id = u.id AND m.org_id = ` + org + `))`
}

// RenameDigestRecipient follows a person's change of address (ConfirmEmail, in its transaction) in the
// expiry digests' lists. Once it is no account's, the old address would pass ExpiryDigestReach as a mailbox
// the organisation named, and the digests would go on to a mailbox that may now be someone else's (a
// former employer's). Where the digest reaches the person (ExpiryDigestReach: MSP staff everywhere,
// customers in their organisations), the list names the new address in the old one's place, or just
// drops the old one when it names the new one already. Any other organisation's list stays as it is:
// that organisation typed the address itself, and a change there (and the entry in its log that explains
// it) would tell its managers that the address is another organisation's customer's, and when it
// changed; a person's address is not another organisation's setting to change. From now on the address
// is a mailbox like any other the organisation named. It returns the lists it changed, for their
// organisations' logs.
func RenameDigestRecipient(ctx context.Context, tx *sql.Tx, userID int64, from, to string) ([]DigestRecipientChange, error) {
	from, to = NormalizeEmail(from), NormalizeEmail(to)
	if from == to {
		return nil, nil
	}
	rows, err := tx.QueryContext(ctx, `SELECT d.org_id, d.recipients FROM expiry_digests d, users u
		WHERE u.id = ? AND instr(lower(d.recipients), ?) > 0 AND `+digestForPerson("d.org_id"), userID, from)
	if err != nil {
		return nil, err
	}
	lists := map[int64][]string{}
	for rows.Next() {
		var org int64
		var rcpt string
		if err := rows.Scan(&org, &rcpt); err != nil {
			rows.Close()
			return nil, err
		}
		lists[org] = splitLines(rcpt)
	}
	rows.Close()
	if err := rows.Err(); err != nil {
		return nil, err
	}
	var changed []DigestRecipientChange
	for org, addrs := range lists {
		add := !slices.ContainsFunc(addrs, func(a string) bool { return NormalizeEmail(a) == to })
		named := false
		c := DigestRecipientChange{OrgID: org, From: from}
		var out []string
		for _, a := range addrs {
			if NormalizeEmail(a) != from {
				out = append(out, a)
				continue
			}
			if add && !named {
				out = append(out, to) // in the old address's place, so the list reads as it did
				c.To = to
			}
			named = true
		}
		if !named {
			continue // the old address only inside a longer one
		}
		if _, err := tx.ExecContext(ctx, `UPDATE expiry_digests SET recipients = ? WHERE org_id = ?`,
			strings.Join(out, "\n"), org); err != nil {
			return nil, err
		}
		changed = append(changed, c)
	}
	slices.SortFunc(changed, func(a, b DigestRecipientChange) int { return cmp.Compare(a.OrgID, b.OrgID) })
	return changed, nil
}

// DigestRecipientChange is one organisation's digest list that RenameDigestRecipient changed: From was
// dropped, and To ("" when the list named it already) put in its place.
type DigestRecipientChange struct {
	OrgID    int64
	From, To string
}

// ClaimExpiryDigest marks the organisation's digest as sent now, if it was still last sent at
// dg.LastSent, and runs send (which queues the mails) in the same transaction. The conditional UPDATE's
// row count decides: two schedulers (or a restart mid-run) send one digest, not two. It reports whether
// this call sent it.
func (d *DB) ClaimExpiryDigest(ctx context.Context, dg ExpiryDigest, send func(*sql.Tx) error) (bool, error) {
	sent := false
	var last int64 // the zero time is stored as 0, not as its (negative) Unix seconds
	if !dg.LastSent.IsZero() {
		last = dg.LastSent.Unix()
	}
	err := d.Tx(ctx, func(tx *sql.Tx) error {
		res, err := tx.ExecContext(ctx, `UPDATE expiry_digests SET last_sent_at = ? WHERE org_id = ? AND last_sent_at = ? AND recipients != ''`,
			d.Now().Unix(), dg.OrgID, last)
		if err != nil {
			return err
		}
		if n, _ := res.RowsAffected(); n == 0 {
			return nil
		}
		sent = true
		return send(tx)
	})
	return sent, err
}
