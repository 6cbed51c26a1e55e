package db

import (
	"context"
	"database/sql"
	"errors"
	"strings"
	"time"
)

// ErrSameItem: an item cannot be linked to itself.
var ErrSameItem = errors.New("an item cannot be linked to itself")

// DocLink is the other side of a link, as one item's detail page shows it.
type DocLink struct {
	ID        int64 // the link
	OtherID   int64
	Area      string
	Name      string
	StaffOnly bool
	Label     string
}

// linkPair orders two item ids as doc_links stores them (smaller first).
func linkPair(x, y int64) (int64, int64) {
	if x < y {
		return x, y
	}
	return y, x
}

// liveInScope loads the name of a live item of the scope (any area) inside a write transaction.
func liveInScope(ctx context.Context, tx *sql.Tx, sc DocScope, id int64) (area, name string, staffOnly bool, err error) {
	err = tx.QueryRowContext(ctx, `SELECT i.area, i.name, i.staff_only FROM doc_items i WHERE i.id = ? AND i.deleted_at IS NULL`+sc.where(),
		id, sc.OrgID).Scan(&area, &name, &staffOnly)
	if errors.Is(err, sql.ErrNoRows) {
		err = ErrNotFound
	}
	return area, name, staffOnly, err
}

// DocLinkAdd links two live items of the scope's organisation with a label, and records it in both
// items' history; hook runs in the transaction (audit). ErrNotFound when either item is not in the scope
// (another organisation, deleted, or staff-only for a customer), ErrConflict when they are linked already.
func (d *DB) DocLinkAdd(ctx context.Context, sc DocScope, x, y int64, label string, by DocActor, hook func(*sql.Tx, DocLinkChange) error) error {
	if x == y {
		return ErrSameItem
	}
	a, b := linkPair(x, y)
	now := d.Now().Unix()
	return d.Tx(ctx, func(tx *sql.Tx) error {
		ch, err := linkChange(ctx, tx, sc, a, b)
		if err != nil {
			return err
		}
		ch.Label = label
		res, err := tx.ExecContext(ctx, `INSERT INTO doc_links(org_id, a_id, b_id, label, created_at, created_by_name)
			VALUES (?, ?, ?, ?, ?, ?) ON CONFLICT(a_id, b_id) DO NOTHING`, sc.OrgID, a, b, label, now, by.Name)
		if err != nil {
			return err
		}
		if n, _ := res.RowsAffected(); n == 0 {
			return ErrConflict
		}
		if err := linkEvent(ctx, tx, ch, "link", now, by); err != nil {
			return err
		}
		if hook != nil {
			return hook(tx, ch)
		}
		return nil
	})
}

// DocLinkChange names the two items of a link change (for audit entries); StaffOnly when either is.
type DocLinkChange struct {
	AID, BID     int64
	AArea, BArea string
	AName, BName string
	Label        string
	StaffOnly    bool
}

func linkChange(ctx context.Context, tx *sql.Tx, sc DocScope, a, b int64) (DocLinkChange, error) {
	ch := DocLinkChange{AID: a, BID: b}
	var sa, sb bool
	var err error
	if ch.AArea, ch.AName, sa, err = liveInScope(ctx, tx, sc, a); err != nil {
		return ch, err
	}
	if ch.BArea, ch.BName, sb, err = liveInScope(ctx, tx, sc, b); err != nil {
		return ch, err
	}
	ch.StaffOnly = sa || sb
	return ch, nil
}

func linkEvent(ctx context.Context, tx *sql.Tx, ch DocLinkChange, change string, now int64, by DocActor) error {
	_, err := tx.ExecContext(ctx, `INSERT INTO doc_link_events(a_id, b_id, change, a_name, b_name, label, at, by_name)
		VALUES (?, ?, ?, ?, ?, ?, ?, ?)`, ch.AID, ch.BID, change, ch.AName, ch.BName, ch.Label, now, by.Name)
	return err
}

// DocLinkRemove removes the link between two live items of the scope and records it in both histories.
// ErrNotFound when there is no such link for this scope.
func (d *DB) DocLinkRemove(ctx context.Context, sc DocScope, x, y int64, by DocActor, hook func(*sql.Tx, DocLinkChange) error) error {
	a, b := linkPair(x, y)
	now := d.Now().Unix()
	return d.Tx(ctx, func(tx *sql.Tx) error {
		ch, err := linkChange(ctx, tx, sc, a, b)
		if err != nil {
			return err
		}
		err = tx.QueryRowContext(ctx, `DELETE FROM doc_links WHERE a_id = ? AND b_id = ? AND org_id = ? RETURNING label`,
			a, b, sc.OrgID).Scan(&ch.Label)
		if errors.Is(err, sql.ErrNoRows) {
			return ErrNotFound
		}
		if err != nil {
			return err
		}
		if err := linkEvent(ctx, tx, ch, "unlink", now, by); err != nil {
			return err
		}
		if hook != nil {
			return hook(tx, ch)
		}
		return nil
	})
}

// DocLinks lists the items linked to a live item of the scope, by area and name. Only live items the
// scope sees are listed: a customer's list has no trace of a staff-only item (not even in a count), and a
// deleted item's links are hidden until it is restored.
func (d *DB) DocLinks(ctx context.Context, sc DocScope, itemID int64) ([]DocLink, error) {
	rows, err := d.query(ctx, `SELECT l.id, i.id, i.area, i.name, i.staff_only, l.label
		FROM doc_links l JOIN doc_items i ON i.id = CASE WHEN l.a_id = ?1 THEN l.b_id ELSE l.a_id END
		WHERE (l.a_id = ?1 OR l.b_id = ?1) AND l.org_id = ?2 AND i.deleted_at IS NULL AND i.org_id = ?2
		AND (?3 OR i.staff_only = 0)
		AND EXISTS (SELECT 1 FROM doc_items s WHERE s.id = ?1 AND s.org_id = ?2 AND s.deleted_at IS NULL AND (?3 OR s.staff_only = 0))
		ORDER BY i.area, i.name COLLATE NOCASE, i.id`, itemID, sc.OrgID, sc.StaffView)
	if err != nil {
		return nil, err
	}
	defer rows.Close()
	var out []DocLink
	for rows.Next() {
		var l DocLink
		if err := rows.Scan(&l.ID, &l.OtherID, &l.Area, &l.Name, &l.StaffOnly, &l.Label); err != nil {
			return nil, err
		}
		out = append(out, l)
	}
	return out, rows.Err()
}

// DocLinkEvent is one link change in an item's history.
type DocLinkEvent struct {
	Change    string // "link" or "unlink"
	OtherID   int64
	OtherName string
	Label     string
	At        time.Time
	By        string
}

// DocLinkEvents lists the link changes of an item of the scope, newest first (history is for staff:
// callers check).
func (d *DB) DocLinkEvents(ctx context.Context, sc DocScope, itemID int64) ([]DocLinkEvent, error) {
	rows, err := d.R.QueryContext(ctx, `SELECT e.change, e.a_id, e.b_id, e.a_name, e.b_name, e.label, e.at, e.by_name
		FROM doc_link_events e JOIN doc_items i ON i.id = ?1
		WHERE (e.a_id = ?1 OR e.b_id = ?1)`+strings.Replace(sc.where(), "?", "?2", 1)+` ORDER BY e.at DESC, e.id DESC`, itemID, sc.OrgID)
	if err != nil {
		return nil, err
	}
	defer rows.Close()
	var out []DocLinkEvent
	for rows.Next() {
		var ev DocLinkEvent
		var a, b, at int64
		var an, bn string
		if err := rows.Scan(&ev.Change, &a, &b, &an, &bn, &ev.Label, &at, &ev.By); err != nil {
			return nil, err
		}
		ev.OtherID, ev.OtherName = b, bn
		if b == itemID {
			ev.OtherID, ev.OtherName = a, an
		}
		ev.At = time.Unix(at, 0)
		out = append(out, ev)
	}
	return out, rows.Err()
}

// DocLinkCandidates finds live items of the scope to link to itemID by what was typed: the search's
// matches without the item itself and the items linked to it already.
func (d *DB) DocLinkCandidates(ctx context.Context, sc DocScope, itemID int64, text string, limit int) ([]*DocItem, error) {
	found, err := d.DocSearch(ctx, sc, false, text, limit+50)
	if err != nil {
		return nil, err
	}
	linked, err := d.DocLinks(ctx, sc, itemID)
	if err != nil {
		return nil, err
	}
	skip := map[int64]bool{itemID: true}
	for _, l := range linked {
		skip[l.OtherID] = true
	}
	var out []*DocItem
	for _, it := range found {
		if !skip[it.ID] && len(out) < limit {
			out = append(out, it)
		}
	}
	return out, nil
}
