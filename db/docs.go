package db

import (
	"context"
	"database/sql"
	"encoding/json"
	"errors"
	"fmt"
	"maps"
	"slices"
	"sort"
	"strconv"
	"strings"
	"time"
	"unicode"
	"unicode/utf8"

	"golang.org/x/text/unicode/norm"
)

// DocItem is one documentation item.
type DocItem struct {
	ID        int64
	OrgID     int64
	OrgName   string // filled by searches across organisations
	OrgSlug   string
	Area      string
	Name      string
	Fields    map[string]string // non-secret fields
	Secrets   map[string]bool   // which secret fields hold a value
	StaffOnly bool
	Version   int
	CreatedAt time.Time
	UpdatedAt time.Time
	UpdatedBy string
	DeletedAt time.Time
}

// Clone returns a copy that shares nothing with it: cached items are handed out as clones, so a handler
// that changes what it got cannot change what the next request sees.
func (it *DocItem) Clone() *DocItem {
	c := *it
	c.Fields = maps.Clone(it.Fields)
	c.Secrets = maps.Clone(it.Secrets)
	return &c
}

// DocActor is who changes documentation.
type DocActor struct {
	ID   int64
	Name string
}

// DocChange is a create or an update. Secrets maps field names to new plaintext values; Clear lists secret
// fields to empty. Secret fields in neither are kept.
type DocChange struct {
	OrgID     int64
	Area      string
	Name      string
	Fields    map[string]string
	StaffOnly bool
	Secrets   map[string]string
	Clear     []string
	Version   int // for updates: the version the editor saw (optimistic check)
}

func ftsBody(fields map[string]string) string {
	keys := make([]string, 0, len(fields))
	for k := range fields {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	var b strings.Builder
	for _, k := range keys {
		if v := fields[k]; v != "" {
			b.WriteString(v)
			b.WriteByte('\n')
		}
	}
	return b.String()
}

// DocCreate stores a new item with its first version; hook runs inside the transaction (for audit).
func (d *DB) DocCreate(ctx context.Context, s *Sealer, ch DocChange, by DocActor, hook func(*sql.Tx, int64) error) (int64, error) {
	var id int64
	defer d.bumpDocs(ch.OrgID)
	err := d.Tx(ctx, func(tx *sql.Tx) error {
		var err error
		if id, err = d.docCreateTx(ctx, tx, s, ch, by); err != nil {
			return err
		}
		if hook != nil {
			return hook(tx, id)
		}
		return nil
	})
	return id, err
}

// DocCreateMany stores several items in one transaction: all or nothing (CSV import).
func (d *DB) DocCreateMany(ctx context.Context, s *Sealer, chs []DocChange, by DocActor, hook func(*sql.Tx) error) error {
	defer func() {
		for _, ch := range chs {
			d.bumpDocs(ch.OrgID)
		}
	}()
	return d.Tx(ctx, func(tx *sql.Tx) error {
		for _, ch := range chs {
			if _, err := d.docCreateTx(ctx, tx, s, ch, by); err != nil {
				return err
			}
		}
		if hook != nil {
			return hook(tx)
		}
		return nil
	})
}

func (d *DB) docCreateTx(ctx context.Context, tx *sql.Tx, s *Sealer, ch DocChange, by DocActor) (int64, error) {
	now := d.Now().Unix()
	fj, err := json.Marshal(ch.Fields)
	if err != nil {
		return 0, err
	}
	var id int64
	if err := tx.QueryRowContext(ctx, `INSERT INTO doc_items(org_id, area, name, fields, staff_only, created_at, updated_at, updated_by_name)
		VALUES (?, ?, ?, ?, ?, ?, ?, ?) RETURNING id`, ch.OrgID, ch.Area, ch.Name, string(fj), ch.StaffOnly, now, now, by.Name).Scan(&id); err != nil {
		return 0, err
	}
	if err := d.writeSecrets(ctx, tx, s, id, ch); err != nil {
		return 0, err
	}
	if _, err := tx.ExecContext(ctx, `INSERT INTO doc_fts(rowid, name, body, org) VALUES (?, ?, ?, ?)`, id, ch.Name, ftsBody(ch.Fields), ftsOrg(ch.OrgID)); err != nil {
		return 0, err
	}
	return id, d.snapshot(ctx, tx, s, id, 1, "create", changedSecrets(ch), now, by)
}

func changedSecrets(ch DocChange) []string {
	var out []string
	for k := range ch.Secrets {
		out = append(out, k)
	}
	out = append(out, ch.Clear...)
	sort.Strings(out)
	return out
}

func (d *DB) writeSecrets(ctx context.Context, tx *sql.Tx, s *Sealer, id int64, ch DocChange) error {
	for field, v := range ch.Secrets {
		sealed, err := s.Seal("doc_secrets", field, id, []byte(v))
		if err != nil {
			return err
		}
		if _, err := tx.ExecContext(ctx, `INSERT INTO doc_secrets(item_id, field, sealed) VALUES (?, ?, ?)
			ON CONFLICT(item_id, field) DO UPDATE SET sealed = excluded.sealed`, id, field, sealed); err != nil {
			return err
		}
	}
	for _, field := range ch.Clear {
		if _, err := tx.ExecContext(ctx, `DELETE FROM doc_secrets WHERE item_id = ? AND field = ?`, id, field); err != nil {
			return err
		}
	}
	return nil
}

// snapshot records the item's current state as version v, with its secrets re-sealed to the version row.
func (d *DB) snapshot(ctx context.Context, tx *sql.Tx, s *Sealer, id int64, v int, change string, changed []string, now int64, by DocActor) error {
	var actor any
	if by.ID != 0 {
		actor = by.ID
	}
	var vid int64
	if err := tx.QueryRowContext(ctx, `INSERT INTO doc_versions(item_id, version, change, name, fields, staff_only, secret_fields, changed_at, changed_by, changed_by_name)
		SELECT id, ?, ?, name, fields, staff_only, ?, ?, ?, ? FROM doc_items WHERE id = ? RETURNING id`,
		v, change, strings.Join(changed, ","), now, actor, by.Name, id).Scan(&vid); err != nil {
		return err
	}
	rows, err := tx.QueryContext(ctx, `SELECT field, sealed FROM doc_secrets WHERE item_id = ?`, id)
	if err != nil {
		return err
	}
	type sec struct {
		field  string
		sealed []byte
	}
	var secs []sec
	for rows.Next() {
		var x sec
		if err := rows.Scan(&x.field, &x.sealed); err != nil {
			rows.Close()
			return err
		}
		secs = append(secs, x)
	}
	rows.Close()
	for _, x := range secs {
		pt, err := s.Open("doc_secrets", x.field, id, x.sealed)
		if err != nil {
			return err
		}
		resealed, err := s.Seal("doc_secret_versions", x.field, vid, pt)
		if err != nil {
			return err
		}
		if _, err := tx.ExecContext(ctx, `INSERT INTO doc_secret_versions(version_id, field, sealed) VALUES (?, ?, ?)`, vid, x.field, resealed); err != nil {
			return err
		}
	}
	return nil
}

// DocUpdate changes an item if it is still at ch.Version; ErrConflict when someone saved meanwhile,
// ErrNotFound when it is gone (or belongs to another organisation).
func (d *DB) DocUpdate(ctx context.Context, s *Sealer, id int64, ch DocChange, by DocActor, hook func(*sql.Tx) error) error {
	now := d.Now().Unix()
	fj, err := json.Marshal(ch.Fields)
	if err != nil {
		return err
	}
	defer d.bumpDocs(ch.OrgID)
	return d.Tx(ctx, func(tx *sql.Tx) error {
		var v int
		err := tx.QueryRowContext(ctx, `UPDATE doc_items SET name = ?, fields = ?, staff_only = ?, version = version + 1,
			updated_at = ?, updated_by_name = ? WHERE id = ? AND org_id = ? AND version = ? AND deleted_at IS NULL RETURNING version`,
			ch.Name, string(fj), ch.StaffOnly, now, by.Name, id, ch.OrgID, ch.Version).Scan(&v)
		if errors.Is(err, sql.ErrNoRows) {
			var exists bool
			if err := tx.QueryRowContext(ctx, `SELECT 1 FROM doc_items WHERE id = ? AND org_id = ? AND deleted_at IS NULL`, id, ch.OrgID).Scan(&exists); err == nil {
				return ErrConflict
			}
			return ErrNotFound
		}
		if err != nil {
			return err
		}
		if err := d.writeSecrets(ctx, tx, s, id, ch); err != nil {
			return err
		}
		if _, err := tx.ExecContext(ctx, `UPDATE doc_fts SET name = ?, body = ? WHERE rowid = ?`, ch.Name, ftsBody(ch.Fields), id); err != nil {
			return err
		}
		if err := d.snapshot(ctx, tx, s, id, v, "update", changedSecrets(ch), now, by); err != nil {
			return err
		}
		if hook != nil {
			return hook(tx)
		}
		return nil
	})
}

// DocSetDeleted deletes (soft, so it can be undone for a while) or restores an item.
func (d *DB) DocSetDeleted(ctx context.Context, s *Sealer, orgID, id int64, deleted bool, by DocActor, hook func(*sql.Tx) error) error {
	defer d.bumpDocs(orgID)
	return d.Tx(ctx, func(tx *sql.Tx) error {
		if err := d.docSetDeletedTx(ctx, tx, s, orgID, id, deleted, by); err != nil {
			return err
		}
		if hook != nil {
			return hook(tx)
		}
		return nil
	})
}

func (d *DB) docSetDeletedTx(ctx context.Context, tx *sql.Tx, s *Sealer, orgID, id int64, deleted bool, by DocActor) error {
	now := d.Now().Unix()
	q := `UPDATE doc_items SET deleted_at = ?, version = version + 1, updated_at = ?, updated_by_name = ?
		WHERE id = ? AND org_id = ? AND deleted_at IS NULL RETURNING version, name, fields`
	var at any = now
	change := "delete"
	if !deleted {
		q = strings.Replace(q, "deleted_at IS NULL", "deleted_at IS NOT NULL", 1)
		at, change = nil, "restore"
	}
	var v int
	var name, fields string
	err := tx.QueryRowContext(ctx, q, at, now, by.Name, id, orgID).Scan(&v, &name, &fields)
	if errors.Is(err, sql.ErrNoRows) {
		return ErrNotFound
	}
	if err != nil {
		return err
	}
	if deleted {
		_, err = tx.ExecContext(ctx, `DELETE FROM doc_fts WHERE rowid = ?`, id)
	} else {
		var f map[string]string
		if err := json.Unmarshal([]byte(fields), &f); err != nil {
			return err
		}
		_, err = tx.ExecContext(ctx, `INSERT INTO doc_fts(rowid, name, body, org) VALUES (?, ?, ?, ?)`, id, name, ftsBody(f), ftsOrg(orgID))
	}
	if err != nil {
		return err
	}
	return d.snapshot(ctx, tx, s, id, v, change, nil, now, by)
}

const docCols = `i.id, i.org_id, i.area, i.name, i.fields, i.staff_only, i.version, i.created_at, i.updated_at,
	i.updated_by_name, COALESCE(i.deleted_at, 0),
	COALESCE((SELECT group_concat(field) FROM doc_secrets s WHERE s.item_id = i.id), '')`

func scanDoc(r scanner, extra ...any) (*DocItem, error) {
	it := &DocItem{}
	var fields, secrets string
	var created, updated, deleted int64
	dst := append([]any{&it.ID, &it.OrgID, &it.Area, &it.Name, &fields, &it.StaffOnly, &it.Version, &created, &updated,
		&it.UpdatedBy, &deleted, &secrets}, extra...)
	if err := r.Scan(dst...); err != nil {
		if errors.Is(err, sql.ErrNoRows) {
			return nil, ErrNotFound
		}
		return nil, err
	}
	var err error
	if it.Fields, err = decodeFields(fields); err != nil {
		return nil, fmt.Errorf("item %d fields: %w", it.ID, err)
	}
	it.Secrets = map[string]bool{}
	for _, f := range strings.Split(secrets, ",") {
		if f != "" {
			it.Secrets[f] = true
		}
	}
	it.CreatedAt, it.UpdatedAt, it.DeletedAt = unix(created), unix(updated), unix(deleted)
	return it, nil
}

// decodeFields reads the fields column: a flat JSON object of strings as json.Marshal wrote it. Every row
// of a list is decoded, so escape-free objects are read directly, without encoding/json's reflection;
// anything else goes through encoding/json (a test compares the two).
func decodeFields(s string) (map[string]string, error) {
	if len(s) < 2 || s[0] != '{' || s[len(s)-1] != '}' || strings.IndexByte(s, '\\') >= 0 || !utf8.ValidString(s) ||
		strings.ContainsFunc(s, func(r rune) bool { return r < 0x20 }) {
		return slowFields(s)
	}
	m := make(map[string]string, strings.Count(s, `":"`))
	i := 1
	str := func() (string, bool) {
		if i >= len(s) || s[i] != '"' {
			return "", false
		}
		j := strings.IndexByte(s[i+1:], '"')
		if j < 0 {
			return "", false
		}
		v := s[i+1 : i+1+j]
		i += j + 2
		return v, true
	}
	if s == "{}" {
		return m, nil
	}
	for {
		k, ok := str()
		if !ok || i >= len(s) || s[i] != ':' {
			return slowFields(s)
		}
		i++
		v, ok := str()
		if !ok || i >= len(s) {
			return slowFields(s)
		}
		m[k] = v
		if s[i] == '}' && i == len(s)-1 {
			return m, nil
		}
		if s[i] != ',' {
			return slowFields(s)
		}
		i++
	}
}

func slowFields(s string) (map[string]string, error) {
	var m map[string]string
	if err := json.Unmarshal([]byte(s), &m); err != nil {
		return nil, err
	}
	if m == nil {
		m = map[string]string{}
	}
	return m, nil
}

// DocNames returns the names of the given live items of the scope in one area (the contacts a page
// refers to), by id; ids of other organisations or staff-only items for customers are simply missing.
func (d *DB) DocNames(ctx context.Context, sc DocScope, area string, ids []int64) (map[int64]string, error) {
	out := make(map[int64]string, len(ids))
	if len(ids) == 0 {
		return out, nil
	}
	// The ids travel as one JSON array, so that the text is the same for any number of them and stays
	// prepared (stmts.go): a detail page names its contacts on every view.
	list := make([]byte, 0, 2+8*len(ids))
	list = append(list, '[')
	for i, id := range ids {
		if i > 0 {
			list = append(list, ',')
		}
		list = strconv.AppendInt(list, id, 10)
	}
	list = append(list, ']')
	rows, err := d.query(ctx, `SELECT i.id, i.name FROM doc_items i WHERE i.area = +? AND i.deleted_at IS NULL`+
		sc.where()+` AND i.id IN (SELECT value FROM json_each(?))`, area, sc.OrgID, string(list))
	if err != nil {
		return nil, err
	}
	defer rows.Close()
	for rows.Next() {
		var id int64
		var name string
		if err := rows.Scan(&id, &name); err != nil {
			return nil, err
		}
		out[id] = name
	}
	return out, rows.Err()
}

// DocScope is who is looking: always one organisation, and whether staff-only items exist for them.
type DocScope struct {
	OrgID     int64
	StaffView bool
}

func (sc DocScope) where() string {
	if sc.StaffView {
		return ` AND i.org_id = +?`
	}
	return ` AND i.org_id = +? AND i.staff_only = 0`
}

// DocGet loads one live item of the scope's organisation and area; staff-only items do not exist for
// customers (ErrNotFound, the same as a missing item).
func (d *DB) DocGet(ctx context.Context, sc DocScope, area string, id int64) (*DocItem, error) {
	return scanDoc(d.queryRow(ctx, `SELECT `+docCols+` FROM doc_items i WHERE i.id = ? AND i.area = ?
		AND i.deleted_at IS NULL`+sc.where(), id, area, sc.OrgID))
}

// DocGetDeleted loads a deleted item (for undo).
func (d *DB) DocGetDeleted(ctx context.Context, sc DocScope, id int64) (*DocItem, error) {
	return scanDoc(d.R.QueryRowContext(ctx, `SELECT `+docCols+` FROM doc_items i WHERE i.id = ?
		AND i.deleted_at IS NOT NULL`+sc.where(), id, sc.OrgID))
}

// DocQuery selects a page of a list.
type DocQuery struct {
	DocScope
	Area    string
	Search  string            // full-text words
	Filters map[string]string // field → exact value (Enum and Bool fields)
	Ranges  []FieldRange      // fields (dates as YYYY-MM-DD) within a range
	Sort    string            // "name", "updated" or a field name
	Desc    bool
	Offset  int
	Limit   int
}

// FieldRange keeps items whose field is filled and From <= value < To ("" leaves a side open). Values
// compare as text, which orders YYYY-MM-DD dates by time.
type FieldRange struct {
	Field, From, To string
}

// In reports whether a value lies in the range, as DocList's SQL decides it.
func (r FieldRange) In(v string) bool {
	return v != "" && (r.From == "" || v >= r.From) && (r.To == "" || v < r.To)
}

// DocList returns a page of items and the total number matching.
func (d *DB) DocList(ctx context.Context, q DocQuery) ([]*DocItem, int, error) {
	where := ` FROM doc_items i WHERE i.area = ? AND i.deleted_at IS NULL` + q.where()
	args := []any{q.Area, q.OrgID}
	if fts := FTSQuery(q.Search); fts != "" {
		where += ` AND i.id IN (SELECT rowid FROM doc_fts WHERE doc_fts MATCH ?)`
		args = append(args, ftsMatch("name body", q.OrgID, fts))
	}
	keys := make([]string, 0, len(q.Filters))
	for k := range q.Filters {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	for _, k := range keys {
		if q.Filters[k] == "" {
			where += ` AND COALESCE(json_extract(i.fields, ?), '') = ''`
			args = append(args, "$."+k)
			continue
		}
		where += ` AND json_extract(i.fields, ?) = ?`
		args = append(args, "$."+k, q.Filters[k])
	}
	for _, r := range q.Ranges {
		where += ` AND COALESCE(json_extract(i.fields, ?), '') != ''`
		args = append(args, "$."+r.Field)
		if r.From != "" {
			where += ` AND json_extract(i.fields, ?) >= ?`
			args = append(args, "$."+r.Field, r.From)
		}
		if r.To != "" {
			where += ` AND json_extract(i.fields, ?) < ?`
			args = append(args, "$."+r.Field, r.To)
		}
	}
	var total int
	if err := d.R.QueryRowContext(ctx, `SELECT count(*)`+where, args...).Scan(&total); err != nil {
		return nil, 0, err
	}
	order := `i.name COLLATE NOCASE`
	switch q.Sort {
	case "", "name":
	case "updated":
		order = `i.updated_at`
	default:
		order = `json_extract(i.fields, ?) COLLATE NOCASE`
		args = append(args, "$."+q.Sort)
	}
	dir := " ASC"
	if q.Desc {
		dir = " DESC"
	}
	if q.Limit <= 0 || q.Limit > 200 {
		q.Limit = 50
	}
	args = append(args, q.Limit, q.Offset)
	rows, err := d.R.QueryContext(ctx, `SELECT `+docCols+where+` ORDER BY `+order+dir+`, i.id LIMIT ? OFFSET ?`, args...)
	if err != nil {
		return nil, 0, err
	}
	defer rows.Close()
	var out []*DocItem
	for rows.Next() {
		it, err := scanDoc(rows)
		if err != nil {
			return nil, 0, err
		}
		out = append(out, it)
	}
	return out, total, rows.Err()
}

// DocAll returns every live item of an organisation's area, staff-only ones included, in the list's
// default order (name without regard to case, then id). For tools that see everything (the demo's links).
func (d *DB) DocAll(ctx context.Context, orgID int64, area string) ([]*DocItem, error) {
	rows, err := d.query(ctx, `SELECT `+docCols+` FROM doc_items i WHERE i.area = ? AND i.deleted_at IS NULL
		AND i.org_id = ? ORDER BY i.name COLLATE NOCASE, i.id`, area, orgID)
	if err != nil {
		return nil, err
	}
	defer rows.Close()
	var out []*DocItem
	for rows.Next() {
		it, err := scanDoc(rows)
		if err != nil {
			return nil, err
		}
		out = append(out, it)
	}
	return out, rows.Err()
}

// DocCounts counts the live items per area of the scope.
func (d *DB) DocCounts(ctx context.Context, sc DocScope) (map[string]int, error) {
	rows, err := d.query(ctx, `SELECT i.area, count(*) FROM doc_items i WHERE i.deleted_at IS NULL`+sc.where()+
		` GROUP BY i.area`, sc.OrgID)
	if err != nil {
		return nil, err
	}
	defer rows.Close()
	out := map[string]int{}
	for rows.Next() {
		var a string
		var n int
		if err := rows.Scan(&a, &n); err != nil {
			return nil, err
		}
		out[a] = n
	}
	return out, rows.Err()
}

// FTSQuery turns what a person typed into an FTS5 query of prefix terms that all must match; characters
// with a meaning in FTS5 syntax are dropped, so no input can produce a syntax error.
func FTSQuery(s string) string {
	var terms []string
	for _, w := range strings.FieldsFunc(s, func(r rune) bool {
		return !(r == '-' || r == '_' || r == '.' || r == '@' || r >= '0' && r <= '9' || r >= 'a' && r <= 'z' || r >= 'A' && r <= 'Z' || r > 127)
	}) {
		w = strings.Trim(w, "-_.@")
		if w == "" || len(terms) >= 10 {
			continue
		}
		terms = append(terms, `"`+strings.ReplaceAll(w, `"`, "")+`"*`)
	}
	return strings.Join(terms, " ")
}

// ftsOrg is the token of an organisation in the full-text index's org column.
func ftsOrg(orgID int64) string { return "o" + strconv.FormatInt(orgID, 10) }

// ftsMatch restricts the typed terms (from FTSQuery) to the columns searched ("name body" of items,
// "title body" of documents) and, for orgID != 0, to that organisation's rows: the index then only
// visits the organisation's matches.
func ftsMatch(columns string, orgID int64, fts string) string {
	q := "{" + columns + "}: (" + fts + ")"
	if orgID != 0 {
		q = "org:" + ftsOrg(orgID) + " AND " + q
	}
	return q
}

// searchScan bounds how many matches a search reads to put the best ones first.
const searchScan = 1000

// DocSearch finds live items by full text: in one organisation (scope), or in all when allOrgs (staff).
// Items whose name matches every typed word come first, then the others, each by name — not FTS5's bm25
// rank, which counts every phrase over the whole index, the organisation's token included, on every
// query. The items carry what a result list shows: id, organisation, area, name and
// whether they are staff-only; not their fields.
func (d *DB) DocSearch(ctx context.Context, sc DocScope, allOrgs bool, text string, limit int) ([]*DocItem, error) {
	fts := FTSQuery(text)
	if fts == "" {
		return nil, nil
	}
	q := `SELECT i.id, i.org_id, i.area, i.name, i.staff_only, o.name, o.slug, i.fields FROM doc_fts f
		JOIN doc_items i ON i.id = f.rowid JOIN orgs o ON o.id = i.org_id WHERE doc_fts MATCH ? AND i.deleted_at IS NULL`
	args := []any{ftsMatch("name body", 0, fts)}
	if !allOrgs {
		args[0] = ftsMatch("name body", sc.OrgID, fts)
		q += sc.where()
		args = append(args, sc.OrgID)
	}
	if limit <= 0 || limit > 200 {
		limit = 50
	}
	q += ` ORDER BY i.name COLLATE NOCASE, i.id LIMIT ?`
	args = append(args, searchScan)
	rows, err := d.query(ctx, q, args...)
	if err != nil {
		return nil, err
	}
	defer rows.Close()
	var out []*DocItem
	for rows.Next() {
		it := &DocItem{}
		var fields string
		if err := rows.Scan(&it.ID, &it.OrgID, &it.Area, &it.Name, &it.StaffOnly, &it.OrgName, &it.OrgSlug, &fields); err != nil {
			return nil, err
		}
		// The fields let the results say why an item matched.
		if it.Fields, err = decodeFields(fields); err != nil {
			return nil, err
		}
		out = append(out, it)
	}
	if err := rows.Err(); err != nil {
		return nil, err
	}
	out = nameMatchesFirst(out, func(it *DocItem) string { return it.Name }, text)
	return out[:min(len(out), limit)], nil
}

// nameMatchesFirst puts the results whose name matches every typed word first, each group in the order
// it came (by name): each name is folded once, not once per comparison of a sort.
func nameMatchesFirst[T any](out []T, name func(T) string, text string) []T {
	words := searchWords(text)
	first := make([]T, 0, len(out))
	var rest []T
	for _, x := range out {
		if nameMatches(name(x), words) {
			first = append(first, x)
		} else {
			rest = append(rest, x)
		}
	}
	return append(first, rest...)
}

// searchWords splits typed text into lower-case words without accents, as the index's tokenizer does.
func searchWords(s string) []string {
	return strings.FieldsFunc(foldText(s), func(r rune) bool { return !unicode.IsLetter(r) && !unicode.IsDigit(r) })
}

func foldText(s string) string {
	ascii := true
	for i := 0; i < len(s); i++ {
		if s[i] >= utf8.RuneSelf {
			ascii = false
			break
		}
	}
	if ascii { // nothing to decompose: most values are plain ASCII
		return strings.ToLower(s)
	}
	var b strings.Builder
	for _, r := range norm.NFD.String(strings.ToLower(s)) {
		if !unicode.Is(unicode.Mn, r) {
			b.WriteRune(r)
		}
	}
	return b.String()
}

// SearchTerms are the typed words of a search as the index matched them: lower case, without accents.
// A results page splits the typed text once and asks each shown value whether it was hit.
type SearchTerms []string

// NewSearchTerms splits typed text into the words the search looked for.
func NewSearchTerms(text string) SearchTerms { return searchWords(text) }

// Hits reports whether any typed word begins a word of value, the way the full-text search matched it:
// which of an item's fields made it a result.
func (t SearchTerms) Hits(value string) bool {
	if len(t) == 0 {
		return false
	}
	// The words of value as searchWords splits them, without building the list: a results page asks
	// this of every shown field, line by line.
	v := foldText(value)
	start := -1
	for i, r := range v {
		if unicode.IsLetter(r) || unicode.IsDigit(r) {
			if start < 0 {
				start = i
			}
			continue
		}
		if start >= 0 && t.begin(v[start:i]) {
			return true
		}
		start = -1
	}
	return start >= 0 && t.begin(v[start:])
}

// begin reports whether a typed word begins word.
func (t SearchTerms) begin(word string) bool {
	return slices.ContainsFunc(t, func(w string) bool { return strings.HasPrefix(word, w) })
}

// nameMatches reports whether every word begins a word of the name (the search's prefix rule).
func nameMatches(name string, words []string) bool {
	if len(words) == 0 {
		return false
	}
	nw := searchWords(name)
	for _, w := range words {
		if !slices.ContainsFunc(nw, func(n string) bool { return strings.HasPrefix(n, w) }) {
			return false
		}
	}
	return true
}

// DocSecret opens one secret of a live item in the scope. ErrSealBroken when the stored value was altered.
func (d *DB) DocSecret(ctx context.Context, s *Sealer, sc DocScope, area string, id int64, field string) (string, error) {
	var sealed []byte
	err := d.queryRow(ctx, `SELECT s.sealed FROM doc_secrets s JOIN doc_items i ON i.id = s.item_id
		WHERE s.item_id = +? AND s.field = +? AND i.area = +? AND i.deleted_at IS NULL`+sc.where(), id, field, area, sc.OrgID).Scan(&sealed)
	if errors.Is(err, sql.ErrNoRows) {
		return "", ErrNotFound
	}
	if err != nil {
		return "", err
	}
	pt, err := s.Open("doc_secrets", field, id, sealed)
	return string(pt), err
}

// DocVersion is one entry of an item's history.
type DocVersion struct {
	ID        int64
	Version   int
	Change    string
	Name      string
	Fields    map[string]string
	StaffOnly bool
	Secrets   []string // secret fields that changed in this version
	HasSecret map[string]bool
	At        time.Time
	By        string
}

// DocHistory lists an item's versions, newest first (staff only: callers check).
func (d *DB) DocHistory(ctx context.Context, sc DocScope, id int64) ([]DocVersion, error) {
	rows, err := d.R.QueryContext(ctx, `SELECT v.id, v.version, v.change, v.name, v.fields, v.staff_only, v.secret_fields, v.changed_at,
		v.changed_by_name, COALESCE((SELECT group_concat(field) FROM doc_secret_versions sv WHERE sv.version_id = v.id), '')
		FROM doc_versions v JOIN doc_items i ON i.id = v.item_id WHERE v.item_id = ?`+sc.where()+` ORDER BY v.version DESC`, id, sc.OrgID)
	if err != nil {
		return nil, err
	}
	defer rows.Close()
	var out []DocVersion
	for rows.Next() {
		var v DocVersion
		var fields, changed, has string
		var at int64
		if err := rows.Scan(&v.ID, &v.Version, &v.Change, &v.Name, &fields, &v.StaffOnly, &changed, &at, &v.By, &has); err != nil {
			return nil, err
		}
		if err := json.Unmarshal([]byte(fields), &v.Fields); err != nil {
			return nil, err
		}
		if changed != "" {
			v.Secrets = strings.Split(changed, ",")
		}
		v.HasSecret = map[string]bool{}
		for _, f := range strings.Split(has, ",") {
			if f != "" {
				v.HasSecret[f] = true
			}
		}
		v.At = time.Unix(at, 0)
		out = append(out, v)
	}
	return out, rows.Err()
}

// DocVersionSecret opens a secret as it was in one version of an item in the scope.
func (d *DB) DocVersionSecret(ctx context.Context, s *Sealer, sc DocScope, itemID, versionID int64, field string) (string, error) {
	var sealed []byte
	err := d.R.QueryRowContext(ctx, `SELECT sv.sealed FROM doc_secret_versions sv JOIN doc_versions v ON v.id = sv.version_id
		JOIN doc_items i ON i.id = v.item_id WHERE sv.version_id = ? AND sv.field = ? AND v.item_id = ?`+sc.where(),
		versionID, field, itemID, sc.OrgID).Scan(&sealed)
	if errors.Is(err, sql.ErrNoRows) {
		return "", ErrNotFound
	}
	if err != nil {
		return "", err
	}
	pt, err := s.Open("doc_secret_versions", field, versionID, sealed)
	return string(pt), err
}

// RecentEntry reports whether the person has a committed entry of this action about this field of this
// item (for field "", about the item) within the window: a reveal, a copy, a look. The audit log gets one
// entry per person, item and field per window rather than one per click, while a different secret of the
// same item is always its own entry. With staffOnly false an entry hidden from the customer's access log
// (written while the item was staff-only) does not count: see recentEntry.
// The target starts with "<item id>:"; as a range ("N:" up to "N;", the next byte) it is read from the
// index audit_actor_target, where LIKE would visit every entry of the person in the window (each item
// view adds one).
func (d *DB) RecentEntry(ctx context.Context, userID, itemID int64, action, field string, staffOnly bool, window time.Duration) (bool, error) {
	var n int
	err := d.queryRow(ctx, `SELECT count(*) FROM (SELECT 1 FROM audit WHERE `+recentEntry+` LIMIT 1)`,
		recentEntryArgs(userID, action, itemID, d.Now().Add(-window), field, staffOnly)...).Scan(&n)
	return n > 0, err
}

// recentEntry matches the entries of one person, action, item and field after a time (recentEntryArgs):
// RecentEntry asks with it, and AuditOnce inserts only where it matches nothing. An entry about a
// staff-only item covers only entries about a staff-only item: once the item is visible to the customer,
// the next look or reveal is one the customer's access log must show, and the hidden entry is not in it.
const recentEntry = `actor_id = ? AND action = ? AND target >= ? AND target < ? AND at > ? AND field = ? AND staff_only <= +?`

func recentEntryArgs(actorID int64, action string, itemID int64, after time.Time, field string, staffOnly bool) []any {
	prefix := strconv.FormatInt(itemID, 10)
	return []any{actorID, action, prefix + ":", prefix + ";", after.Unix(), field, staffOnly}
}
