package db

import (
	"context"
	"database/sql"
	"errors"
	"slices"
	"strconv"
	"strings"
	"time"
)

// CustomField is a field an MSP administrator added to an area (see docs/custom.go).
type CustomField struct {
	ID        int64
	Area      string
	Label     string
	Kind      string // one of docs.CustomKinds
	Options   []string
	InList    bool
	Expiry    bool
	Position  int
	Version   int // raised by every change; an update names the version its editor saw
	CreatedAt time.Time
}

// CustomFields lists the live custom fields of every area in their order. It is read on every
// documentation page, hence the prepared statement.
func (d *DB) CustomFields(ctx context.Context) ([]CustomField, error) {
	rows, err := d.query(ctx, `SELECT id, area, label, kind, options, in_list, expiry, position, version, created_at FROM custom_fields
		WHERE deleted_at IS NULL ORDER BY area, position, id`)
	if err != nil {
		return nil, err
	}
	defer rows.Close()
	var out []CustomField
	for rows.Next() {
		var f CustomField
		var opts string
		var created int64
		if err := rows.Scan(&f.ID, &f.Area, &f.Label, &f.Kind, &opts, &f.InList, &f.Expiry, &f.Position, &f.Version, &created); err != nil {
			return nil, err
		}
		if opts != "" {
			f.Options = strings.Split(opts, "\n")
		}
		f.CreatedAt = unix(created)
		out = append(out, f)
	}
	return out, rows.Err()
}

// ErrLabelTaken is a label the area already has.
var ErrLabelTaken = errors.New("label taken")

// CustomFieldCreate adds a field at the end of its area; hook runs in the transaction (audit).
func (d *DB) CustomFieldCreate(ctx context.Context, f CustomField, hook func(*sql.Tx, int64) error) (int64, error) {
	var id int64
	err := d.Tx(ctx, func(tx *sql.Tx) error {
		err := tx.QueryRowContext(ctx, `INSERT INTO custom_fields(area, label, kind, options, in_list, expiry, position, created_at)
			VALUES (?, ?, ?, ?, ?, ?, (SELECT COALESCE(max(position), 0) + 1 FROM custom_fields WHERE area = ?), ?) RETURNING id`,
			f.Area, f.Label, f.Kind, strings.Join(f.Options, "\n"), f.InList, f.Expiry, f.Area, d.Now().Unix()).Scan(&id)
		if err != nil {
			if strings.Contains(err.Error(), "UNIQUE") {
				return ErrLabelTaken
			}
			return err
		}
		if hook != nil {
			return hook(tx, id)
		}
		return nil
	})
	return id, err
}

// ErrOptionInUse: a choice list change would drop a choice that live entries hold. The edit form offers
// only the listed choices, so the next save of each such entry — by anyone, about anything — would erase
// its value without a word.
var ErrOptionInUse = errors.New("choice in use")

// CustomFieldUpdate changes a field's label, options and where it shows; its area and kind stay (stored
// values were validated and sealed as that kind). A choice list keeps every choice a live entry holds
// (ErrOptionInUse), checked in the transaction of the change. f.Version is the version the editor saw:
// ErrConflict when another administrator saved meanwhile.
func (d *DB) CustomFieldUpdate(ctx context.Context, f CustomField, hook func(*sql.Tx) error) error {
	return d.Tx(ctx, func(tx *sql.Tx) error {
		if f.Kind == "choice" {
			if err := optionsCover(ctx, tx, f); err != nil {
				return err
			}
		}
		res, err := tx.ExecContext(ctx, `UPDATE custom_fields SET label = ?, options = ?, in_list = ?, expiry = ?, version = version + 1
			WHERE id = ? AND version = ? AND deleted_at IS NULL`, f.Label, strings.Join(f.Options, "\n"), f.InList, f.Expiry, f.ID, f.Version)
		if err != nil {
			if strings.Contains(err.Error(), "UNIQUE") {
				return ErrLabelTaken
			}
			return err
		}
		if n, _ := res.RowsAffected(); n == 0 {
			var live bool
			if err := tx.QueryRowContext(ctx, `SELECT 1 FROM custom_fields WHERE id = ? AND deleted_at IS NULL`, f.ID).Scan(&live); err == nil {
				return ErrConflict
			}
			return ErrNotFound
		}
		if hook != nil {
			return hook(tx)
		}
		return nil
	})
}

// optionsCover checks that the choices of f include every value its live entries hold.
func optionsCover(ctx context.Context, tx *sql.Tx, f CustomField) error {
	path := "$.cf_" + strconv.FormatInt(f.ID, 10)
	rows, err := tx.QueryContext(ctx, `SELECT DISTINCT json_extract(fields, ?) FROM doc_items
		WHERE area = ? AND deleted_at IS NULL AND COALESCE(json_extract(fields, ?), '') != ''`, path, f.Area, path)
	if err != nil {
		return err
	}
	defer rows.Close()
	for rows.Next() {
		var v string
		if err := rows.Scan(&v); err != nil {
			return err
		}
		if !slices.Contains(f.Options, v) {
			return ErrOptionInUse
		}
	}
	return rows.Err()
}

// CustomFieldDelete hides a field: pages, lists and exports no longer show it. Its values stay in each
// item until the item is next saved (the form no longer carries the field), and in the item's history
// for good.
func (d *DB) CustomFieldDelete(ctx context.Context, id int64, hook func(*sql.Tx) error) error {
	return d.Tx(ctx, func(tx *sql.Tx) error {
		res, err := tx.ExecContext(ctx, `UPDATE custom_fields SET deleted_at = ? WHERE id = ? AND deleted_at IS NULL`, d.Now().Unix(), id)
		if err != nil {
			return err
		}
		if n, _ := res.RowsAffected(); n == 0 {
			return ErrNotFound
		}
		if hook != nil {
			return hook(tx)
		}
		return nil
	})
}
