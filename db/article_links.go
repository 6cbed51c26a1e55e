package db

import (
	"context"
	"database/sql"
	"errors"
	"slices"
	"time"
)

// Links between documents and items (0031_article_links.sql). A link joins two things of one
// organisation: both sides are looked up in the scope's organisation inside the linking transaction, so
// an id of another organisation is as missing as an id that does not exist.

// articleInScope loads the title of a live document of the scope's organisation (staff-only ones only
// for staff) inside a write transaction.
func articleInScope(ctx context.Context, tx *sql.Tx, sc DocScope, id int64) (title string, staffOnly bool, err error) {
	err = tx.QueryRowContext(ctx, `SELECT title, staff_only FROM articles WHERE id = ? AND org_id = ? AND deleted_at IS NULL`,
		id, sc.OrgID).Scan(&title, &staffOnly)
	if errors.Is(err, sql.ErrNoRows) || err == nil && staffOnly && !sc.StaffView {
		return "", false, ErrNotFound
	}
	return title, staffOnly, err
}

// ArticleLinkChange names both sides of a link change (for audit entries); StaffOnly when either is.
type ArticleLinkChange struct {
	ArticleID    int64
	ArticleTitle string
	ItemID       int64
	ItemArea     string
	ItemName     string
	Label        string
	StaffOnly    bool
}

func articleLinkChange(ctx context.Context, tx *sql.Tx, sc DocScope, articleID, itemID int64) (ArticleLinkChange, error) {
	ch := ArticleLinkChange{ArticleID: articleID, ItemID: itemID}
	var aStaff, iStaff bool
	var err error
	if ch.ArticleTitle, aStaff, err = articleInScope(ctx, tx, sc, articleID); err != nil {
		return ch, err
	}
	if ch.ItemArea, ch.ItemName, iStaff, err = liveInScope(ctx, tx, sc, itemID); err != nil {
		return ch, err
	}
	ch.StaffOnly = aStaff || iStaff
	return ch, nil
}

func articleLinkEvent(ctx context.Context, tx *sql.Tx, ch ArticleLinkChange, change string, now int64, by DocActor) error {
	_, err := tx.ExecContext(ctx, `INSERT INTO article_link_events(article_id, item_id, change, article_title, item_name, label, at, by_name)
		VALUES (?, ?, ?, ?, ?, ?, ?, ?)`, ch.ArticleID, ch.ItemID, change, ch.ArticleTitle, ch.ItemName, ch.Label, now, by.Name)
	return err
}

// ArticleLinkAdd links a live document and a live item of the scope's organisation with a label and
// records it in both histories; hook runs in the transaction (audit). ErrNotFound when either is not in
// the scope, ErrConflict when they are linked already.
func (d *DB) ArticleLinkAdd(ctx context.Context, sc DocScope, articleID, itemID int64, label string, by DocActor, hook func(*sql.Tx, ArticleLinkChange) error) error {
	now := d.Now().Unix()
	return d.Tx(ctx, func(tx *sql.Tx) error {
		ch, err := articleLinkChange(ctx, tx, sc, articleID, itemID)
		if err != nil {
			return err
		}
		ch.Label = label
		res, err := tx.ExecContext(ctx, `INSERT INTO article_links(org_id, article_id, item_id, label, created_at, created_by_name)
			VALUES (?, ?, ?, ?, ?, ?) ON CONFLICT(article_id, item_id) DO NOTHING`, sc.OrgID, articleID, itemID, label, now, by.Name)
		if err != nil {
			return err
		}
		if n, _ := res.RowsAffected(); n == 0 {
			return ErrConflict
		}
		if err := articleLinkEvent(ctx, tx, ch, "link", now, by); err != nil {
			return err
		}
		if hook != nil {
			return hook(tx, ch)
		}
		return nil
	})
}

// ArticleLinkRemove removes the link between a live document and a live item of the scope and records it
// in both histories. ErrNotFound when there is no such link for this scope.
func (d *DB) ArticleLinkRemove(ctx context.Context, sc DocScope, articleID, itemID int64, by DocActor, hook func(*sql.Tx, ArticleLinkChange) error) error {
	now := d.Now().Unix()
	return d.Tx(ctx, func(tx *sql.Tx) error {
		ch, err := articleLinkChange(ctx, tx, sc, articleID, itemID)
		if err != nil {
			return err
		}
		err = tx.QueryRowContext(ctx, `DELETE FROM article_links WHERE article_id = ? AND item_id = ? AND org_id = ? RETURNING label`,
			articleID, itemID, sc.OrgID).Scan(&ch.Label)
		if errors.Is(err, sql.ErrNoRows) {
			return ErrNotFound
		}
		if err != nil {
			return err
		}
		if err := articleLinkEvent(ctx, tx, ch, "unlink", now, by); err != nil {
			return err
		}
		if hook != nil {
			return hook(tx, ch)
		}
		return nil
	})
}

// ArticleLinkedItems lists the live items the scope sees that are linked to a live document of the scope,
// by area and name. A customer's list has no trace of a staff-only item; a deleted item's links are
// hidden until it is restored.
func (d *DB) ArticleLinkedItems(ctx context.Context, sc DocScope, articleID int64) ([]DocLink, error) {
	rows, err := d.query(ctx, `SELECT l.id, i.id, i.area, i.name, i.staff_only, l.label
		FROM article_links l JOIN doc_items i ON i.id = l.item_id
		WHERE l.article_id = ?1 AND l.org_id = ?2 AND i.org_id = ?2 AND i.deleted_at IS NULL AND (?3 OR i.staff_only = 0)
		AND EXISTS (SELECT 1 FROM articles a WHERE a.id = ?1 AND a.org_id = ?2 AND a.deleted_at IS NULL AND (?3 OR a.staff_only = 0))
		ORDER BY i.area, i.name COLLATE NOCASE, i.id`, articleID, sc.OrgID, sc.StaffView)
	if err != nil {
		return nil, err
	}
	return scanLinks(rows)
}

// ItemLinkedArticles lists the live documents the scope sees that are linked to a live item of the scope,
// by title (Area is ArticleArea).
func (d *DB) ItemLinkedArticles(ctx context.Context, sc DocScope, itemID int64) ([]DocLink, error) {
	rows, err := d.query(ctx, `SELECT l.id, a.id, '`+ArticleArea+`', a.title, a.staff_only, l.label
		FROM article_links l JOIN articles a ON a.id = l.article_id
		WHERE l.item_id = ?1 AND l.org_id = ?2 AND a.org_id = ?2 AND a.deleted_at IS NULL AND (?3 OR a.staff_only = 0)
		AND EXISTS (SELECT 1 FROM doc_items i WHERE i.id = ?1 AND i.org_id = ?2 AND i.deleted_at IS NULL AND (?3 OR i.staff_only = 0))
		ORDER BY a.title COLLATE NOCASE, a.id`, itemID, sc.OrgID, sc.StaffView)
	if err != nil {
		return nil, err
	}
	return scanLinks(rows)
}

func scanLinks(rows *sql.Rows) ([]DocLink, error) {
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

// ArticleLinkEvents lists the link changes of a document of the scope's organisation, newest first
// (history is for staff: callers check). OtherID is the item.
func (d *DB) ArticleLinkEvents(ctx context.Context, sc DocScope, articleID int64) ([]DocLinkEvent, error) {
	return d.articleLinkEvents(ctx, `SELECT e.change, e.item_id, e.item_name, e.label, e.at, e.by_name FROM article_link_events e
		JOIN articles a ON a.id = e.article_id WHERE e.article_id = ? AND a.org_id = ? ORDER BY e.at DESC, e.id DESC`, articleID, sc.OrgID)
}

// ItemArticleLinkEvents lists the document link changes of an item of the scope's organisation, newest
// first. OtherID is the document.
func (d *DB) ItemArticleLinkEvents(ctx context.Context, sc DocScope, itemID int64) ([]DocLinkEvent, error) {
	return d.articleLinkEvents(ctx, `SELECT e.change, e.article_id, e.article_title, e.label, e.at, e.by_name FROM article_link_events e
		JOIN doc_items i ON i.id = e.item_id WHERE e.item_id = ? AND i.org_id = ? ORDER BY e.at DESC, e.id DESC`, itemID, sc.OrgID)
}

func (d *DB) articleLinkEvents(ctx context.Context, q string, id, org int64) ([]DocLinkEvent, error) {
	rows, err := d.R.QueryContext(ctx, q, id, org)
	if err != nil {
		return nil, err
	}
	defer rows.Close()
	var out []DocLinkEvent
	for rows.Next() {
		var ev DocLinkEvent
		var at int64
		if err := rows.Scan(&ev.Change, &ev.OtherID, &ev.OtherName, &ev.Label, &at, &ev.By); err != nil {
			return nil, err
		}
		ev.At = time.Unix(at, 0)
		out = append(out, ev)
	}
	return out, rows.Err()
}

// ArticleLinkCandidates finds live items of the scope to link to a document by what was typed, without
// those linked to it already.
func (d *DB) ArticleLinkCandidates(ctx context.Context, sc DocScope, articleID int64, text string, limit int) ([]*DocItem, error) {
	found, err := d.DocSearch(ctx, sc, false, text, limit+50)
	if err != nil {
		return nil, err
	}
	linked, err := d.ArticleLinkedItems(ctx, sc, articleID)
	if err != nil {
		return nil, err
	}
	var out []*DocItem
	for _, it := range found {
		if !slices.ContainsFunc(linked, func(l DocLink) bool { return l.OtherID == it.ID }) && len(out) < limit {
			out = append(out, it)
		}
	}
	return out, nil
}

// ItemArticleCandidates finds live documents of the scope to link to an item by what was typed, without
// those linked to it already.
func (d *DB) ItemArticleCandidates(ctx context.Context, sc DocScope, itemID int64, text string, limit int) ([]*ArticleHit, error) {
	found, err := d.ArticleSearch(ctx, sc, false, text, limit+50)
	if err != nil {
		return nil, err
	}
	linked, err := d.ItemLinkedArticles(ctx, sc, itemID)
	if err != nil {
		return nil, err
	}
	var out []*ArticleHit
	for _, a := range found {
		if !slices.ContainsFunc(linked, func(l DocLink) bool { return l.OtherID == a.ID }) && len(out) < limit {
			out = append(out, a)
		}
	}
	return out, nil
}

// ArticleHit is a document found by a search.
type ArticleHit struct {
	ID        int64
	OrgID     int64
	OrgName   string
	OrgSlug   string
	Title     string
	Body      string
	StaffOnly bool
}

// ArticleSearch finds live documents by their title and body: in one organisation (scope; staff-only
// ones for staff only), or in all when allOrgs (staff). Documents whose title matches every typed word
// come first, then the others, each by title (as DocSearch orders items).
func (d *DB) ArticleSearch(ctx context.Context, sc DocScope, allOrgs bool, text string, limit int) ([]*ArticleHit, error) {
	fts := FTSQuery(text)
	if fts == "" {
		return nil, nil
	}
	match := "{title body}: (" + fts + ")"
	q := `SELECT a.id, a.org_id, o.name, o.slug, a.title, a.body, a.staff_only FROM article_fts f
		JOIN articles a ON a.id = f.rowid JOIN orgs o ON o.id = a.org_id WHERE article_fts MATCH ? AND a.deleted_at IS NULL`
	args := []any{match}
	if !allOrgs {
		args[0] = "org:" + ftsOrg(sc.OrgID) + " AND " + match
		q += ` AND a.org_id = ?`
		args = append(args, sc.OrgID)
		if !sc.StaffView {
			q += ` AND a.staff_only = 0`
		}
	}
	if limit <= 0 || limit > 200 {
		limit = 50
	}
	q += ` ORDER BY a.title COLLATE NOCASE, a.id LIMIT ?`
	args = append(args, searchScan)
	rows, err := d.query(ctx, q, args...)
	if err != nil {
		return nil, err
	}
	defer rows.Close()
	var out []*ArticleHit
	for rows.Next() {
		h := &ArticleHit{}
		if err := rows.Scan(&h.ID, &h.OrgID, &h.OrgName, &h.OrgSlug, &h.Title, &h.Body, &h.StaffOnly); err != nil {
			return nil, err
		}
		out = append(out, h)
	}
	if err := rows.Err(); err != nil {
		return nil, err
	}
	out = nameMatchesFirst(out, func(h *ArticleHit) string { return h.Title }, text)
	return out[:min(len(out), limit)], nil
}
