package db

import (
	"context"
	"database/sql"
	"errors"
	"time"
)

// ArticleArea is the name documents go by next to the five item areas: in audit targets
// ("<id>:documents:<title>") and for anything that refers to a document from elsewhere (links between
// items use the pair area "documents" and the article id).
const ArticleArea = "documents"

// Article is one document: a Markdown text of an organisation, or an MSP-wide template (OrgID 0).
type Article struct {
	ID        int64
	OrgID     int64
	Folder    string
	Title     string
	Body      string
	StaffOnly bool
	Emergency bool
	Version   int
	CreatedAt time.Time
	UpdatedAt time.Time
	UpdatedBy string
}

// ArticleChange is a create or an update; Version is the version the editor saw (updates only).
type ArticleChange struct {
	Folder    string
	Title     string
	Body      string
	StaffOnly bool
	Emergency bool
	Version   int
}

// ArticleScope is whose documents and as whom: an organisation (OrgID) or the templates (OrgID 0), and
// whether staff-only documents exist for the viewer.
type ArticleScope struct {
	OrgID     int64
	StaffView bool
}

func (sc ArticleScope) where() (string, []any) {
	q := ` AND a.deleted_at IS NULL`
	if sc.OrgID == 0 {
		q += ` AND a.org_id IS NULL`
	} else {
		q += ` AND a.org_id = +?`
	}
	if !sc.StaffView {
		q += ` AND a.staff_only = 0`
	}
	if sc.OrgID == 0 {
		return q, nil
	}
	return q, []any{sc.OrgID}
}

const articleCols = `a.id, COALESCE(a.org_id, 0), a.folder, a.title, a.body, a.staff_only, a.emergency, a.version,
	a.created_at, a.updated_at, a.updated_by_name`

func scanArticle(r scanner) (*Article, error) {
	a := &Article{}
	var created, updated int64
	if err := r.Scan(&a.ID, &a.OrgID, &a.Folder, &a.Title, &a.Body, &a.StaffOnly, &a.Emergency, &a.Version, &created, &updated, &a.UpdatedBy); err != nil {
		if errors.Is(err, sql.ErrNoRows) {
			return nil, ErrNotFound
		}
		return nil, err
	}
	a.CreatedAt, a.UpdatedAt = unix(created), unix(updated)
	return a, nil
}

// Articles lists the scope's documents by folder, then title. withBody false leaves Body empty (lists).
func (d *DB) Articles(ctx context.Context, sc ArticleScope, emergencyOnly bool) ([]*Article, error) {
	w, args := sc.where()
	if emergencyOnly {
		w += ` AND a.emergency = 1`
	}
	// A few fixed texts (the scope's and emergencyOnly's variants): prepared, as the organisation's home
	// page asks for its emergency procedures on every view.
	rows, err := d.query(ctx, `SELECT `+articleCols+` FROM articles a WHERE 1`+w+
		` ORDER BY a.folder COLLATE NOCASE, a.title COLLATE NOCASE, a.id`, args...)
	if err != nil {
		return nil, err
	}
	defer rows.Close()
	var out []*Article
	for rows.Next() {
		a, err := scanArticle(rows)
		if err != nil {
			return nil, err
		}
		out = append(out, a)
	}
	return out, rows.Err()
}

// Article loads one live document of the scope; a staff-only one does not exist for customers.
func (d *DB) Article(ctx context.Context, sc ArticleScope, id int64) (*Article, error) {
	w, args := sc.where()
	return scanArticle(d.R.QueryRowContext(ctx, `SELECT `+articleCols+` FROM articles a WHERE a.id = ?`+w, append([]any{id}, args...)...))
}

// ArticleFolders lists the folder names in use in the scope (for the form's suggestions).
func (d *DB) ArticleFolders(ctx context.Context, sc ArticleScope) ([]string, error) {
	w, args := sc.where()
	rows, err := d.R.QueryContext(ctx, `SELECT DISTINCT a.folder FROM articles a WHERE a.folder != ''`+w+` ORDER BY a.folder COLLATE NOCASE`, args...)
	if err != nil {
		return nil, err
	}
	defer rows.Close()
	var out []string
	for rows.Next() {
		var f string
		if err := rows.Scan(&f); err != nil {
			return nil, err
		}
		out = append(out, f)
	}
	return out, rows.Err()
}

// ArticleCreate stores a document (orgID 0: a template) with its first revision; hook runs in the
// transaction (audit).
func (d *DB) ArticleCreate(ctx context.Context, orgID int64, ch ArticleChange, by DocActor, hook func(*sql.Tx, int64) error) (int64, error) {
	var id int64
	err := d.Tx(ctx, func(tx *sql.Tx) error {
		now := d.Now().Unix()
		var org any
		if orgID != 0 {
			org = orgID
		}
		if err := tx.QueryRowContext(ctx, `INSERT INTO articles(org_id, folder, title, body, staff_only, emergency, created_at, updated_at, updated_by_name)
			VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?) RETURNING id`, org, ch.Folder, ch.Title, ch.Body, ch.StaffOnly, ch.Emergency, now, now, by.Name).Scan(&id); err != nil {
			return err
		}
		if err := articleRevision(ctx, tx, id, now, by); err != nil {
			return err
		}
		if orgID != 0 {
			if _, err := tx.ExecContext(ctx, `INSERT INTO article_fts(rowid, title, body, org) VALUES (?, ?, ?, ?)`, id, ch.Title, ch.Body, ftsOrg(orgID)); err != nil {
				return err
			}
		}
		if hook != nil {
			return hook(tx, id)
		}
		return nil
	})
	return id, err
}

func articleRevision(ctx context.Context, tx *sql.Tx, id, now int64, by DocActor) error {
	var actor any
	if by.ID != 0 {
		actor = by.ID
	}
	_, err := tx.ExecContext(ctx, `INSERT INTO article_revisions(article_id, version, folder, title, body, staff_only, emergency, changed_at, changed_by, changed_by_name)
		SELECT id, version, folder, title, body, staff_only, emergency, ?, ?, ? FROM articles WHERE id = ?`, now, actor, by.Name, id)
	return err
}

// ArticleUpdate saves a new revision if the document is still at ch.Version: ErrConflict when someone
// saved meanwhile, ErrNotFound when it is gone or not in the scope's organisation.
func (d *DB) ArticleUpdate(ctx context.Context, sc ArticleScope, id int64, ch ArticleChange, by DocActor, hook func(*sql.Tx) error) error {
	defer d.bumpDocs(sc.OrgID) // linked items' pages show the document's title and whether it is staff-only
	return d.Tx(ctx, func(tx *sql.Tx) error {
		now := d.Now().Unix()
		w, args := ArticleScope{OrgID: sc.OrgID, StaffView: true}.where()
		res, err := tx.ExecContext(ctx, `UPDATE articles AS a SET folder = ?, title = ?, body = ?, staff_only = ?, emergency = ?,
			version = version + 1, updated_at = ?, updated_by_name = ? WHERE a.id = ? AND a.version = ?`+w,
			append([]any{ch.Folder, ch.Title, ch.Body, ch.StaffOnly, ch.Emergency, now, by.Name, id, ch.Version}, args...)...)
		if err != nil {
			return err
		}
		if n, _ := res.RowsAffected(); n == 0 {
			var one int
			if err := tx.QueryRowContext(ctx, `SELECT 1 FROM articles a WHERE a.id = ?`+w, append([]any{id}, args...)...).Scan(&one); err == nil {
				return ErrConflict
			}
			return ErrNotFound
		}
		if err := articleRevision(ctx, tx, id, now, by); err != nil {
			return err
		}
		// Templates have no row in the index: this changes nothing for them.
		if _, err := tx.ExecContext(ctx, `UPDATE article_fts SET title = ?, body = ? WHERE rowid = ?`, ch.Title, ch.Body, id); err != nil {
			return err
		}
		if hook != nil {
			return hook(tx)
		}
		return nil
	})
}

// ArticleDelete removes a document of the scope's organisation (its revisions stay until the row goes).
func (d *DB) ArticleDelete(ctx context.Context, sc ArticleScope, id int64, hook func(*sql.Tx) error) error {
	defer d.bumpDocs(sc.OrgID)
	return d.Tx(ctx, func(tx *sql.Tx) error {
		w, args := ArticleScope{OrgID: sc.OrgID, StaffView: true}.where()
		res, err := tx.ExecContext(ctx, `UPDATE articles AS a SET deleted_at = ? WHERE a.id = ?`+w, append([]any{d.Now().Unix(), id}, args...)...)
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

// ArticleRestore brings back a document of the scope's organisation deleted at or after notBefore (the
// undo window); its links and files come back with it. hook runs in the transaction (audit).
func (d *DB) ArticleRestore(ctx context.Context, sc ArticleScope, id int64, notBefore time.Time, hook func(*sql.Tx, *Article) error) (*Article, error) {
	var a *Article
	defer d.bumpDocs(sc.OrgID)
	err := d.Tx(ctx, func(tx *sql.Tx) error {
		org := any(sc.OrgID)
		if sc.OrgID == 0 {
			org = nil
		}
		res, err := tx.ExecContext(ctx, `UPDATE articles SET deleted_at = NULL WHERE id = ? AND deleted_at >= ? AND org_id IS ?`,
			id, notBefore.Unix(), org)
		if err != nil {
			return err
		}
		if n, _ := res.RowsAffected(); n == 0 {
			return ErrNotFound
		}
		if a, err = scanArticle(tx.QueryRowContext(ctx, `SELECT `+articleCols+` FROM articles a WHERE a.id = ?`, id)); err != nil {
			return err
		}
		if hook != nil {
			return hook(tx, a)
		}
		return nil
	})
	return a, err
}

// ArticleRevision is one saved state of a document.
type ArticleRevision struct {
	ID        int64
	Version   int
	Folder    string
	Title     string
	Body      string
	StaffOnly bool
	Emergency bool
	At        time.Time
	By        string
}

// ArticleRevisions lists a document's revisions, newest first. The document must be in the scope.
func (d *DB) ArticleRevisions(ctx context.Context, sc ArticleScope, id int64) ([]ArticleRevision, error) {
	if _, err := d.Article(ctx, sc, id); err != nil {
		return nil, err
	}
	rows, err := d.R.QueryContext(ctx, `SELECT id, version, folder, title, body, staff_only, emergency, changed_at, changed_by_name
		FROM article_revisions WHERE article_id = ? ORDER BY version DESC`, id)
	if err != nil {
		return nil, err
	}
	defer rows.Close()
	var out []ArticleRevision
	for rows.Next() {
		var r ArticleRevision
		var at int64
		if err := rows.Scan(&r.ID, &r.Version, &r.Folder, &r.Title, &r.Body, &r.StaffOnly, &r.Emergency, &at, &r.By); err != nil {
			return nil, err
		}
		r.At = unix(at)
		out = append(out, r)
	}
	return out, rows.Err()
}
