package db

import (
	"context"
	"database/sql"
	"encoding/json"
	"errors"
	"time"
)

// Mail is one message in the outbox.
type Mail struct {
	ID      int64
	To      string
	Kind    string // what the mail is about (its message key); not secret, unlike the sealed rest
	Subject string
	Text    string
	HTML    string
	Attempt int
}

type sealedMail struct {
	Subject string `json:"s"`
	Text    string `json:"t"`
	HTML    string `json:"h"`
}

// EnqueueMail adds a message to the outbox inside tx, sealed to its row (it may hold a one-time link).
// kind names what the mail is about (e.g. "mail.invite") and is stored in the clear.
func EnqueueMail(ctx context.Context, tx *sql.Tx, s *Sealer, now time.Time, to, kind, subject, text, html string) error {
	var id int64
	if err := tx.QueryRowContext(ctx, `INSERT INTO outbox(to_addr, kind, created_at, next_attempt_at) VALUES (?, ?, ?, ?) RETURNING id`,
		to, kind, now.Unix(), now.Unix()).Scan(&id); err != nil {
		return err
	}
	b, err := json.Marshal(sealedMail{subject, text, html})
	if err != nil {
		return err
	}
	sealed, err := s.Seal("outbox", "sealed", id, b)
	if err != nil {
		return err
	}
	_, err = tx.ExecContext(ctx, `UPDATE outbox SET sealed = ? WHERE id = ?`, sealed, id)
	return err
}

// DueMails returns up to n messages whose next attempt is due.
func (d *DB) DueMails(ctx context.Context, s *Sealer, n int) ([]Mail, error) {
	rows, err := d.R.QueryContext(ctx, `SELECT id, to_addr, kind, sealed, attempts FROM outbox WHERE sent_at IS NULL AND failed_at IS NULL
		AND next_attempt_at <= ? ORDER BY id LIMIT ?`, d.Now().Unix(), n)
	if err != nil {
		return nil, err
	}
	defer rows.Close()
	var out []Mail
	for rows.Next() {
		var m Mail
		var sealed []byte
		if err := rows.Scan(&m.ID, &m.To, &m.Kind, &sealed, &m.Attempt); err != nil {
			return nil, err
		}
		pt, err := s.Open("outbox", "sealed", m.ID, sealed)
		if err != nil {
			return nil, errors.Join(err, d.MailFailed(ctx, m.ID, "cannot open sealed message"))
		}
		var sm sealedMail
		if err := json.Unmarshal(pt, &sm); err != nil {
			return nil, err
		}
		m.Subject, m.Text, m.HTML = sm.Subject, sm.Text, sm.HTML
		out = append(out, m)
	}
	return out, rows.Err()
}

// MailSent marks a message sent and drops its content.
func (d *DB) MailSent(ctx context.Context, id int64) error {
	_, err := d.W.ExecContext(ctx, `UPDATE outbox SET sent_at = ?, sealed = NULL, attempts = attempts + 1, last_error = '' WHERE id = ?`,
		d.Now().Unix(), id)
	return err
}

// MailRetry schedules another attempt after a failure.
func (d *DB) MailRetry(ctx context.Context, id int64, after time.Duration, msg string) error {
	_, err := d.W.ExecContext(ctx, `UPDATE outbox SET attempts = attempts + 1, next_attempt_at = ?, last_error = ? WHERE id = ?`,
		d.Now().Add(after).Unix(), msg, id)
	return err
}

// MailFailed gives up on a message and drops its content.
func (d *DB) MailFailed(ctx context.Context, id int64, msg string) error {
	_, err := d.W.ExecContext(ctx, `UPDATE outbox SET failed_at = ?, sealed = NULL, attempts = attempts + 1, last_error = ? WHERE id = ?`,
		d.Now().Unix(), msg, id)
	return err
}

// OutboxStats counts queued, sent and failed messages, and the age of the oldest queued one.
func (d *DB) OutboxStats(ctx context.Context) (queued, sent, failed int, oldest time.Duration, err error) {
	var oldestAt int64
	err = d.R.QueryRowContext(ctx, `SELECT
		COALESCE(SUM(sent_at IS NULL AND failed_at IS NULL), 0), COALESCE(SUM(sent_at IS NOT NULL), 0),
		COALESCE(SUM(failed_at IS NOT NULL), 0),
		COALESCE(MIN(CASE WHEN sent_at IS NULL AND failed_at IS NULL THEN created_at END), 0) FROM outbox`).Scan(&queued, &sent, &failed, &oldestAt)
	if oldestAt != 0 {
		oldest = d.Now().Sub(time.Unix(oldestAt, 0))
	}
	return
}
