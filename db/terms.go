package db

import (
	"context"
	"database/sql"
	"time"
)

// Terms is one published version of the terms of use.
type Terms struct {
	Version     int
	TextDE      string
	TextEN      string
	PublishedAt time.Time
}

// Text returns the terms in a language.
func (t *Terms) Text(lang string) string {
	if lang == "en" {
		return t.TextEN
	}
	return t.TextDE
}

// CurrentTerms returns the newest version. Every page a signed-in person opens asks whether they accepted
// it, so it is kept in memory until PublishTerms stores a newer one.
func (d *DB) CurrentTerms(ctx context.Context) (*Terms, error) {
	gen := d.gens.terms.Load()
	if c := d.terms.Load(); c != nil && c.gen == gen {
		t := c.t
		return &t, nil
	}
	t, err := d.loadTerms(ctx)
	if err == nil {
		d.terms.Store(&termsCache{gen: gen, t: *t})
	}
	return t, err
}

func (d *DB) loadTerms(ctx context.Context) (*Terms, error) {
	t := &Terms{}
	var at int64
	err := d.queryRow(ctx, `SELECT version, text_de, text_en, published_at FROM terms ORDER BY version DESC LIMIT 1`).
		Scan(&t.Version, &t.TextDE, &t.TextEN, &at)
	if err == sql.ErrNoRows {
		return nil, ErrNotFound
	}
	t.PublishedAt = unix(at)
	return t, err
}

// PublishTerms stores a new version; everyone is asked to accept it at their next sign-in.
func (d *DB) PublishTerms(ctx context.Context, textDE, textEN string, by int64) (int, error) {
	var v int
	var publisher any
	if by != 0 {
		publisher = by
	}
	err := d.W.QueryRowContext(ctx, `INSERT INTO terms(version, text_de, text_en, published_at, published_by)
		SELECT COALESCE(MAX(version), 0) + 1, ?, ?, ?, ? FROM terms RETURNING version`, textDE, textEN, d.Now().Unix(), publisher).Scan(&v)
	d.gens.terms.Add(1)
	return v, err
}

// AcceptTerms records that the person accepted a version.
func AcceptTerms(ctx context.Context, tx *sql.Tx, now time.Time, userID int64, version int, ip string) error {
	if _, err := tx.ExecContext(ctx, `INSERT OR IGNORE INTO terms_acceptances(user_id, version, accepted_at, ip) VALUES (?, ?, ?, ?)`,
		userID, version, now.Unix(), ip); err != nil {
		return err
	}
	_, err := tx.ExecContext(ctx, `UPDATE users SET terms_version = MAX(terms_version, ?) WHERE id = ?`, version, userID)
	return err
}
