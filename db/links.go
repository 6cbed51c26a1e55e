package db

import (
	"context"
	"database/sql"
	"errors"
	"time"
)

// Links join two things of one organisation: two items (0019_doc_links.sql), or a document and an item
// (0031_article_links.sql, in article_links.go). The two schemas are the same but for their names, so
// one set of functions serves both, each with the constant statements of its kind (linkKind, linkView):
// statements are prepared and cached by their text (stmts.go), so no text here depends on input.

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

// linkSide is what one side of a link is: an item or a document, read under the alias o (the other
// side of a listed link) or s (the side whose links are listed).
type linkSide struct {
	table      string
	area, name string // of o, as DocLink shows them
	order      string // of o
	article    bool
}

var (
	itemSide    = linkSide{table: "doc_items", area: "o.area", name: "o.name", order: "o.area, o.name COLLATE NOCASE, o.id"}
	articleSide = linkSide{table: "articles", area: "'" + ArticleArea + "'", name: "o.title", order: "o.title COLLATE NOCASE, o.id", article: true}
)

// linkKind is one kind of link: its tables, its two sides' columns (a and b) and what each side is, and
// the statements that add and remove a link and record the change.
type linkKind struct {
	links, events string
	a, b          string // the sides' id columns in both tables
	aName, bName  string // the sides' names in the events table
	aSide, bSide  linkSide
	insert        string // (org, a, b, label, at, by); no row when the pair is linked already
	remove        string // (a, b, org) → label
	event         string // (a, b, change, a's name, b's name, label, at, by)
}

func newLinkKind(links, events, a, b, aName, bName string, aSide, bSide linkSide) *linkKind {
	return &linkKind{links: links, events: events, a: a, b: b, aName: aName, bName: bName, aSide: aSide, bSide: bSide,
		insert: `INSERT INTO ` + links + `(org_id, ` + a + `, ` + b + `, label, created_at, created_by_name)
			VALUES (?, ?, ?, ?, ?, ?) ON CONFLICT(` + a + `, ` + b + `) DO NOTHING`,
		remove: `DELETE FROM ` + links + ` WHERE ` + a + ` = ? AND ` + b + ` = ? AND org_id = ? RETURNING label`,
		event: `INSERT INTO ` + events + `(` + a + `, ` + b + `, change, ` + aName + `, ` + bName + `, label, at, by_name)
			VALUES (?, ?, ?, ?, ?, ?, ?, ?)`,
	}
}

// Item links are stored once per pair, the smaller id in a_id (linkPair).
var itemLinks = newLinkKind("doc_links", "doc_link_events", "a_id", "b_id", "a_name", "b_name", itemSide, itemSide)

// linkFrom is the side a linkView lists the links of: either side of an item link is the item itself.
type linkFrom int

const (
	fromA linkFrom = iota
	fromB
	fromEither
)

// linkView is the links of one side of a kind: the other sides the scope sees and the history.
type linkView struct {
	from linkFrom
	// (this side's id, org, staff view) → link id, other id, area, name, staff-only, label; only live
	// things the scope sees, and nothing when this side is not one of them.
	list string
	// (this side's id, org, staff view) → change, a, b, a's name, b's name, label, at, by; newest first,
	// nothing when this side is not of the organisation or the scope does not see it.
	events string
}

func (k *linkKind) view(from linkFrom) *linkView {
	this, other := k.aSide, k.bSide
	match := func(t string) string { return t + "." + k.a + " = +?1" }
	otherID := "l." + k.b
	switch from {
	case fromB:
		this, other = k.bSide, k.aSide
		match = func(t string) string { return t + "." + k.b + " = +?1" }
		otherID = "l." + k.a
	case fromEither:
		match = func(t string) string { return "(" + t + "." + k.a + " = +?1 OR " + t + "." + k.b + " = +?1)" }
		otherID = "CASE WHEN l." + k.a + " = +?1 THEN l." + k.b + " ELSE l." + k.a + " END"
	}
	return &linkView{from: from,
		list: `SELECT l.id, o.id, ` + other.area + `, ` + other.name + `, o.staff_only, l.label
			FROM ` + k.links + ` l JOIN ` + other.table + ` o ON o.id = ` + otherID + `
			WHERE ` + match("l") + ` AND l.org_id = +?2 AND o.org_id = +?2 AND o.deleted_at IS NULL AND (?3 OR o.staff_only = 0)
			AND EXISTS (SELECT 1 FROM ` + this.table + ` s WHERE s.id = +?1 AND s.org_id = +?2 AND s.deleted_at IS NULL AND (?3 OR s.staff_only = 0))
			ORDER BY ` + other.order,
		events: `SELECT e.change, e.` + k.a + `, e.` + k.b + `, e.` + k.aName + `, e.` + k.bName + `, e.label, e.at, e.by_name
			FROM ` + k.events + ` e JOIN ` + this.table + ` s ON s.id = ?1
			WHERE ` + match("e") + ` AND s.org_id = ?2 AND (?3 OR s.staff_only = 0) ORDER BY e.at DESC, e.id DESC`,
	}
}

var itemLinksOfItem = itemLinks.view(fromEither)

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

// linkEnds is a link change as both kinds record it; doc and article give it to a kind's hooks.
type linkEnds struct {
	a, b         int64
	aArea, bArea string // "" for a document
	aName, bName string
	label        string
	staffOnly    bool // either side is
}

// ends looks both sides up in the scope's organisation inside the linking transaction, so an id of
// another organisation, a deleted one, or a staff-only one for a customer is as missing (ErrNotFound)
// as an id that does not exist.
func (k *linkKind) ends(ctx context.Context, tx *sql.Tx, sc DocScope, a, b int64) (linkEnds, error) {
	e := linkEnds{a: a, b: b}
	var sa, sb bool
	var err error
	if k.aSide.article {
		e.aName, sa, err = articleInScope(ctx, tx, sc, a)
	} else {
		e.aArea, e.aName, sa, err = liveInScope(ctx, tx, sc, a)
	}
	if err != nil {
		return e, err
	}
	if e.bArea, e.bName, sb, err = liveInScope(ctx, tx, sc, b); err != nil {
		return e, err
	}
	e.staffOnly = sa || sb
	return e, nil
}

// linkTx runs fn, the link changes of one request, in one write transaction at one time, and moves the
// organisation's generation on once it is over: both sides' pages show their links (docsapp's detail
// fragments).
func (d *DB) linkTx(ctx context.Context, orgID int64, fn func(tx *sql.Tx, now int64) error) error {
	now := d.Now().Unix()
	defer d.bumpDocs(orgID)
	return d.Tx(ctx, func(tx *sql.Tx) error { return fn(tx, now) })
}

// linkWrite adds (change "link") or removes ("unlink", label unused) the link of a and b in the scope's
// organisation, in a transaction of its own (linkChange).
func linkWrite[C any](ctx context.Context, d *DB, k *linkKind, change string, sc DocScope, a, b int64, label string, by DocActor,
	as func(linkEnds) C, hook func(*sql.Tx, C) error) error {
	return d.linkTx(ctx, sc.OrgID, func(tx *sql.Tx, now int64) error {
		return linkChange(ctx, tx, k, change, sc, a, b, label, by, now, as, hook)
	})
}

// linkChange adds or removes the link of a and b inside tx and records the change in the history of both
// sides; hook (audit) runs with the change as the kind gives it (as). ErrNotFound when either side is not
// in the scope or, removing, there is no such link; ErrConflict, with nothing written, when adding a link
// that is there already.
func linkChange[C any](ctx context.Context, tx *sql.Tx, k *linkKind, change string, sc DocScope, a, b int64, label string, by DocActor,
	now int64, as func(linkEnds) C, hook func(*sql.Tx, C) error) error {
	e, err := k.ends(ctx, tx, sc, a, b)
	if err != nil {
		return err
	}
	if change == "unlink" {
		err = tx.QueryRowContext(ctx, k.remove, a, b, sc.OrgID).Scan(&e.label)
		if errors.Is(err, sql.ErrNoRows) {
			return ErrNotFound
		}
		if err != nil {
			return err
		}
	} else {
		e.label = label
		res, err := tx.ExecContext(ctx, k.insert, sc.OrgID, a, b, label, now, by.Name)
		if err != nil {
			return err
		}
		if n, _ := res.RowsAffected(); n == 0 {
			return ErrConflict
		}
	}
	if _, err := tx.ExecContext(ctx, k.event, a, b, change, e.aName, e.bName, e.label, now, by.Name); err != nil {
		return err
	}
	if hook != nil {
		return hook(tx, as(e))
	}
	return nil
}

// DocLinkAdd links two live items of the scope's organisation with a label, and records it in both
// items' history; hook runs in the transaction (audit). ErrNotFound when either item is not in the scope
// (another organisation, deleted, or staff-only for a customer), ErrConflict when they are linked already.
func (d *DB) DocLinkAdd(ctx context.Context, sc DocScope, x, y int64, label string, by DocActor, hook func(*sql.Tx, DocLinkChange) error) error {
	if x == y {
		return ErrSameItem
	}
	return d.linkTx(ctx, sc.OrgID, func(tx *sql.Tx, now int64) error {
		return docLinkAdd(ctx, tx, sc, x, y, label, by, now, hook)
	})
}

// docLinkAdd is the link of two items inside tx, as DocLinkAdd and DocBulkLink make it.
func docLinkAdd(ctx context.Context, tx *sql.Tx, sc DocScope, x, y int64, label string, by DocActor, now int64, hook func(*sql.Tx, DocLinkChange) error) error {
	a, b := linkPair(x, y)
	return linkChange(ctx, tx, itemLinks, "link", sc, a, b, label, by, now, linkEnds.doc, hook)
}

// DocBulkLink links each of ids to other in one transaction, each link as DocLinkAdd makes it (history,
// hook): all or none, so an item deleted or moved meanwhile, or any failure, leaves no link of the request
// (ErrNotFound when an item is not in the scope). Pairs linked already, and other itself, are skipped.
// It returns how many links it made.
func (d *DB) DocBulkLink(ctx context.Context, sc DocScope, ids []int64, other int64, label string, by DocActor, hook func(*sql.Tx, DocLinkChange) error) (int, error) {
	made := 0
	err := d.linkTx(ctx, sc.OrgID, func(tx *sql.Tx, now int64) error {
		made = 0
		for _, id := range ids {
			if id == other {
				continue
			}
			switch err := docLinkAdd(ctx, tx, sc, id, other, label, by, now, hook); {
			case err == nil:
				made++
			case !errors.Is(err, ErrConflict):
				return err
			}
		}
		return nil
	})
	if err != nil {
		return 0, err
	}
	return made, nil
}

// DocLinkChange names the two items of a link change (for audit entries); StaffOnly when either is.
type DocLinkChange struct {
	AID, BID     int64
	AArea, BArea string
	AName, BName string
	Label        string
	StaffOnly    bool
}

func (e linkEnds) doc() DocLinkChange {
	return DocLinkChange{AID: e.a, BID: e.b, AArea: e.aArea, BArea: e.bArea, AName: e.aName, BName: e.bName, Label: e.label, StaffOnly: e.staffOnly}
}

// DocLinkRemove removes the link between two live items of the scope and records it in both histories.
// ErrNotFound when there is no such link for this scope.
func (d *DB) DocLinkRemove(ctx context.Context, sc DocScope, x, y int64, by DocActor, hook func(*sql.Tx, DocLinkChange) error) error {
	a, b := linkPair(x, y)
	return linkWrite(ctx, d, itemLinks, "unlink", sc, a, b, "", by, linkEnds.doc, hook)
}

// DocLinks lists the items linked to a live item of the scope, by area and name. Only live items the
// scope sees are listed: a customer's list has no trace of a staff-only item (not even in a count), and a
// deleted item's links are hidden until it is restored.
func (d *DB) DocLinks(ctx context.Context, sc DocScope, itemID int64) ([]DocLink, error) {
	return d.links(ctx, itemLinksOfItem, sc, itemID)
}

func (d *DB) links(ctx context.Context, v *linkView, sc DocScope, id int64) ([]DocLink, error) {
	rows, err := d.query(ctx, v.list, id, sc.OrgID, sc.StaffView)
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
	return d.linkEvents(ctx, itemLinksOfItem, sc.OrgID, sc.StaffView, itemID)
}

func (d *DB) linkEvents(ctx context.Context, v *linkView, org int64, staffView bool, id int64) ([]DocLinkEvent, error) {
	rows, err := d.R.QueryContext(ctx, v.events, id, org, staffView)
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
		// Only an item link can have this side in either column; a document and an item may share an id.
		ev.OtherID, ev.OtherName = b, bn
		if v.from == fromB || v.from == fromEither && b == id {
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
	return notLinked(found, func(it *DocItem) int64 { return it.ID }, append(linked, DocLink{OtherID: itemID}), limit), nil
}

// notLinked keeps the first limit of found that are not the other side of one of the links.
func notLinked[T any](found []T, id func(T) int64, linked []DocLink, limit int) []T {
	skip := make(map[int64]bool, len(linked))
	for _, l := range linked {
		skip[l.OtherID] = true
	}
	var out []T
	for _, f := range found {
		if len(out) >= limit {
			break
		}
		if !skip[id(f)] {
			out = append(out, f)
		}
	}
	return out
}
