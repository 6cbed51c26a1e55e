package db

import (
	"context"
	"database/sql"
	"errors"
)

// Links between documents and items (0031_article_links.sql): side a is the document, side b the item.
// The functions and rules are those of item links (links.go).
var (
	articleLinks          = newLinkKind("article_links", "article_link_events", "article_id", "item_id", "article_title", "item_name", articleSide, itemSide)
	articleLinksOfArticle = articleLinks.view(fromA)
	articleLinksOfItem    = articleLinks.view(fromB)
)

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

func (e linkEnds) article() ArticleLinkChange {
	return ArticleLinkChange{ArticleID: e.a, ArticleTitle: e.aName, ItemID: e.b, ItemArea: e.bArea, ItemName: e.bName, Label: e.label, StaffOnly: e.staffOnly}
}

// ArticleLinkAdd links a live document and a live item of the scope's organisation with a label and
// records it in both histories; hook runs in the transaction (audit). ErrNotFound when either is not in
// the scope, ErrConflict when they are linked already.
func (d *DB) ArticleLinkAdd(ctx context.Context, sc DocScope, articleID, itemID int64, label string, by DocActor, hook func(*sql.Tx, ArticleLinkChange) error) error {
	return linkWrite(ctx, d, articleLinks, "link", sc, articleID, itemID, label, by, linkEnds.article, hook)
}

// ArticleLinkRemove removes the link between a live document and a live item of the scope and records it
// in both histories. ErrNotFound when there is no such link for this scope.
func (d *DB) ArticleLinkRemove(ctx context.Context, sc DocScope, articleID, itemID int64, by DocActor, hook func(*sql.Tx, ArticleLinkChange) error) error {
	return linkWrite(ctx, d, articleLinks, "unlink", sc, articleID, itemID, "", by, linkEnds.article, hook)
}

// ArticleLinkedItems lists the live items the scope sees that are linked to a live document of the scope,
// by area and name. A customer's list has no trace of a staff-only item; a deleted item's links are
// hidden until it is restored.
func (d *DB) ArticleLinkedItems(ctx context.Context, sc DocScope, articleID int64) ([]DocLink, error) {
	return d.links(ctx, articleLinksOfArticle, sc, articleID)
}

// ItemLinkedArticles lists the live documents the scope sees that are linked to a live item of the scope,
// by title (Area is ArticleArea).
func (d *DB) ItemLinkedArticles(ctx context.Context, sc DocScope, itemID int64) ([]DocLink, error) {
	return d.links(ctx, articleLinksOfItem, sc, itemID)
}

// ArticleLinkEvents lists the link changes of a document of the scope's organisation, newest first
// (history is for staff: callers check; unlike DocLinkEvents, a customer scope is not narrowed to what
// it sees). OtherID is the item.
func (d *DB) ArticleLinkEvents(ctx context.Context, sc DocScope, articleID int64) ([]DocLinkEvent, error) {
	return d.linkEvents(ctx, articleLinksOfArticle, sc.OrgID, true, articleID)
}

// ItemArticleLinkEvents lists the document link changes of an item of the scope's organisation, newest
// first (as ArticleLinkEvents). OtherID is the document.
func (d *DB) ItemArticleLinkEvents(ctx context.Context, sc DocScope, itemID int64) ([]DocLinkEvent, error) {
	return d.linkEvents(ctx, articleLinksOfItem, sc.OrgID, true, itemID)
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
	return notLinked(found, func(it *DocItem) int64 { return it.ID }, linked, limit), nil
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
	return notLinked(found, func(a *ArticleHit) int64 { return a.ID }, linked, limit), nil
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
	q := `SELECT a.id, a.org_id, o.name, o.slug, a.title, a.body, a.staff_only FROM article_fts f
		JOIN articles a ON a.id = f.rowid JOIN orgs o ON o.id = a.org_id WHERE article_fts MATCH ?`
	args := []any{ftsMatch("title body", 0, fts)}
	if allOrgs {
		q += ` AND a.deleted_at IS NULL`
	} else {
		args[0] = ftsMatch("title body", sc.OrgID, fts)
		w, wargs := ArticleScope{OrgID: sc.OrgID, StaffView: sc.StaffView}.where()
		q += w
		args = append(args, wargs...)
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
