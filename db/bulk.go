package db

import (
	"context"
	"database/sql"
	"errors"
)

// BulkItem is an item a bulk action changed (for its audit entry and the undo).
type BulkItem struct {
	ID        int64
	Area      string
	Name      string
	StaffOnly bool
}

// DocBulkDelete deletes (soft) or restores the given items of an organisation in one transaction: all or
// none (ErrNotFound when any is not a live — or, to restore, deleted — item of the organisation). Each
// item gets its history version as a single delete would; hook runs in the transaction (audit).
func (d *DB) DocBulkDelete(ctx context.Context, s *Sealer, orgID int64, ids []int64, deleted bool, by DocActor, hook func(*sql.Tx, []BulkItem) error) ([]BulkItem, error) {
	defer d.bumpDocs(orgID)
	var done []BulkItem
	err := d.Tx(ctx, func(tx *sql.Tx) error {
		done = done[:0]
		for _, id := range ids {
			var it BulkItem
			if err := tx.QueryRowContext(ctx, `SELECT id, area, name, staff_only FROM doc_items WHERE id = ? AND org_id = ?`, id, orgID).
				Scan(&it.ID, &it.Area, &it.Name, &it.StaffOnly); err != nil {
				if errors.Is(err, sql.ErrNoRows) {
					return ErrNotFound
				}
				return err
			}
			if err := d.docSetDeletedTx(ctx, tx, s, orgID, id, deleted, by); err != nil {
				return err
			}
			done = append(done, it)
		}
		if hook != nil {
			return hook(tx, done)
		}
		return nil
	})
	return done, err
}

// DocBulkStaffOnly marks the given live items of an organisation staff-only or visible to the customer, in
// one transaction; items already so are left as they are (no new version). Returns the items changed.
func (d *DB) DocBulkStaffOnly(ctx context.Context, s *Sealer, orgID int64, ids []int64, staffOnly bool, by DocActor, hook func(*sql.Tx, []BulkItem) error) ([]BulkItem, error) {
	defer d.bumpDocs(orgID)
	now := d.Now().Unix()
	var done []BulkItem
	err := d.Tx(ctx, func(tx *sql.Tx) error {
		done = done[:0]
		for _, id := range ids {
			var exists bool
			if err := tx.QueryRowContext(ctx, `SELECT 1 FROM doc_items WHERE id = ? AND org_id = ? AND deleted_at IS NULL`, id, orgID).Scan(&exists); err != nil {
				if errors.Is(err, sql.ErrNoRows) {
					return ErrNotFound
				}
				return err
			}
			it := BulkItem{ID: id, StaffOnly: staffOnly}
			var v int
			err := tx.QueryRowContext(ctx, `UPDATE doc_items SET staff_only = ?, version = version + 1, updated_at = ?, updated_by_name = ?
				WHERE id = ? AND org_id = ? AND deleted_at IS NULL AND staff_only != ? RETURNING version, area, name`,
				staffOnly, now, by.Name, id, orgID, staffOnly).Scan(&v, &it.Area, &it.Name)
			if errors.Is(err, sql.ErrNoRows) {
				continue
			}
			if err != nil {
				return err
			}
			if err := d.snapshot(ctx, tx, s, id, v, "update", nil, now, by); err != nil {
				return err
			}
			done = append(done, it)
		}
		if hook != nil {
			return hook(tx, done)
		}
		return nil
	})
	return done, err
}
