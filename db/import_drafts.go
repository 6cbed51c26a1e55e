package db

import (
	"context"
	"database/sql"
	"errors"
	"time"
)

// ImportDraftLifetime is how long a previewed import can be confirmed.
const ImportDraftLifetime = time.Hour

// ImportDraft is a previewed CSV import waiting for its confirmation.
type ImportDraft struct {
	ID     int64
	UserID int64
	OrgID  int64
	Area   string
	Data   []byte // the uploaded file, opened
}

// ImportDraftSave keeps an uploaded file, sealed, for the person's confirmation, and drops drafts that
// can no longer be confirmed.
func (d *DB) ImportDraftSave(ctx context.Context, s *Sealer, userID, orgID int64, area string, data []byte) (int64, error) {
	now := d.Now()
	var id int64
	err := d.Tx(ctx, func(tx *sql.Tx) error {
		if _, err := tx.ExecContext(ctx, `DELETE FROM import_drafts WHERE created_at <= ?`, now.Add(-ImportDraftLifetime).Unix()); err != nil {
			return err
		}
		if err := tx.QueryRowContext(ctx, `INSERT INTO import_drafts(user_id, org_id, area, data, created_at) VALUES (?, ?, ?, x'', ?) RETURNING id`,
			userID, orgID, area, now.Unix()).Scan(&id); err != nil {
			return err
		}
		sealed, err := s.Seal("import_drafts", "data", id, data)
		if err != nil {
			return err
		}
		_, err = tx.ExecContext(ctx, `UPDATE import_drafts SET data = ? WHERE id = ?`, sealed, id)
		return err
	})
	return id, err
}

// ImportDraftGet reads a draft of this person, organisation and area that can still be confirmed
// (ErrNotFound otherwise: someone else's draft is as absent as a missing one).
func (d *DB) ImportDraftGet(ctx context.Context, s *Sealer, id, userID, orgID int64, area string) (*ImportDraft, error) {
	var sealed []byte
	err := d.R.QueryRowContext(ctx, `SELECT data FROM import_drafts WHERE id = ? AND user_id = ? AND org_id = ? AND area = ? AND created_at > ?`,
		id, userID, orgID, area, d.Now().Add(-ImportDraftLifetime).Unix()).Scan(&sealed)
	if errors.Is(err, sql.ErrNoRows) {
		return nil, ErrNotFound
	}
	if err != nil {
		return nil, err
	}
	data, err := s.Open("import_drafts", "data", id, sealed)
	if err != nil {
		return nil, err
	}
	return &ImportDraft{ID: id, UserID: userID, OrgID: orgID, Area: area, Data: data}, nil
}

// ImportDraftConsume deletes the draft inside tx; ErrConflict when it is already gone (confirmed by a
// parallel request), which rolls back everything the import wrote in tx.
func ImportDraftConsume(ctx context.Context, tx *sql.Tx, id, userID int64) error {
	res, err := tx.ExecContext(ctx, `DELETE FROM import_drafts WHERE id = ? AND user_id = ?`, id, userID)
	if err != nil {
		return err
	}
	if n, err := res.RowsAffected(); err != nil {
		return err
	} else if n != 1 {
		return ErrConflict
	}
	return nil
}
