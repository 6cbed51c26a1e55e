package db

import (
	"context"
	"database/sql"
	"errors"
	"strings"
	"sync"
	"time"
	"unicode/utf8"
)

// AuditEntry is one line of the append-only audit log.
type AuditEntry struct {
	ID        int64
	At        time.Time
	ActorID   int64
	ActorName string
	OrgID     int64
	OrgName   string
	Action    string // a stable name such as "login.ok"; shown through i18n as "audit.<action>"
	Target    string
	Field     string // the secret field a reveal or copy was about ("" otherwise); not shown, used to de-duplicate
	IP        string
	UserAgent string
	StaffOnly bool // about a staff-only item: not shown in the customer's access log
}

// execer is a *sql.DB or *sql.Tx.
type execer interface {
	ExecContext(ctx context.Context, query string, args ...any) (sql.Result, error)
}

// Audit appends an entry. Pass a transaction to make the entry part of the change it records.
func (d *DB) Audit(ctx context.Context, x execer, e AuditEntry) error {
	if x == nil {
		x = d.W
	}
	if e.At.IsZero() {
		e.At = d.Now()
	}
	var org any
	if e.OrgID != 0 {
		org = e.OrgID
	}
	var actor any
	if e.ActorID != 0 {
		actor = e.ActorID
	}
	e.UserAgent = auditUserAgent(e.UserAgent)
	_, err := x.ExecContext(ctx, `INSERT INTO audit(at, actor_id, actor_name, org_id, action, target, field, ip, user_agent, staff_only)
		VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?)`, e.At.Unix(), actor, e.ActorName, org, e.Action, e.Target, e.Field, e.IP, e.UserAgent, e.StaffOnly)
	return err
}

// maxUserAgent bounds the user agent an entry keeps, in bytes.
const maxUserAgent = 300

// auditUserAgent is what an entry keeps of a client's user agent: valid text (a client may send any
// bytes), cut between characters.
func auditUserAgent(ua string) string {
	ua = strings.ToValidUTF8(ua, "\uFFFD")
	if len(ua) <= maxUserAgent {
		return ua
	}
	i := maxUserAgent
	for i > 0 && !utf8.RuneStart(ua[i]) {
		i--
	}
	return ua[:i]
}

// AuditOnce appends an entry about an item's secret (or, with Field "", a view of the item) unless the
// same person has one of the same action, item and field within the window (one hidden from the customer
// does not count for an entry the customer sees: recentEntry); it reports whether it wrote.
// Check and insert are one statement on the single writer connection, so parallel requests leave one
// entry. e.Target must start with "<item id>:" (see RecentEntry).
//
// It returns once the entry is on disk, like any commit. Entries of requests arriving together are
// committed together (auditBatch): one transaction and one sync for all of them, instead of one each
// queued on the writer, which under load made detail pages and reveals wait for dozens of syncs.
func (d *DB) AuditOnce(ctx context.Context, e AuditEntry, itemID int64, window time.Duration) (bool, error) {
	if e.At.IsZero() {
		e.At = d.Now()
	}
	r := &onceReq{e: e, itemID: itemID, window: window, wake: make(chan struct{})}
	d.auditOnce.mu.Lock()
	d.auditOnce.pending = append(d.auditOnce.pending, r)
	lead := !d.auditOnce.busy
	d.auditOnce.busy = true
	d.auditOnce.mu.Unlock()
	if !lead {
		<-r.wake
		if !r.lead {
			return r.wrote, r.err
		}
	}
	// This request leads: commit what is pending (its own entry among it), then hand the lead to the
	// first request that arrived meanwhile, so no request commits batches for others for long.
	d.auditOnce.mu.Lock()
	batch := d.auditOnce.pending
	d.auditOnce.pending = nil
	d.auditOnce.mu.Unlock()
	// Deferred, so that a panic in the commit (it goes on in this request) still answers the batch, with
	// an error: nothing of it is known to be written, so no reveal of it may go ahead as audited. And the
	// lead still passes on: a group commit left busy would hold every later view and reveal forever.
	committed := false
	defer func() {
		for _, o := range batch {
			if !committed {
				o.wrote, o.err = false, errAuditAborted
			}
			if o != r {
				close(o.wake)
			}
		}
		d.auditOnce.mu.Lock()
		if len(d.auditOnce.pending) > 0 {
			next := d.auditOnce.pending[0]
			next.lead = true
			close(next.wake)
		} else {
			d.auditOnce.busy = false
		}
		d.auditOnce.mu.Unlock()
	}()
	d.commitOnce(context.WithoutCancel(ctx), batch)
	committed = true
	return r.wrote, r.err
}

// errAuditAborted is what the requests of a batch whose commit panicked get.
var errAuditAborted = errors.New("db: audit commit aborted")

// auditBatch is the group commit of AuditOnce: the requests waiting, and whether one of them is leading.
type auditBatch struct {
	mu      sync.Mutex
	pending []*onceReq
	busy    bool
}

type onceReq struct {
	e      AuditEntry
	itemID int64
	window time.Duration
	wake   chan struct{} // closed when the result is in, or when this request is to lead
	lead   bool
	wrote  bool
	err    error
}

// auditOnceInsert writes an entry unless the person has one of the same action, item and field within the
// window (recentEntry); prepared once on the writer (stmts.go).
const auditOnceInsert = `INSERT INTO audit(at, actor_id, actor_name, org_id, action, target, field, ip, user_agent, staff_only)
	SELECT ?, ?, ?, ?, ?, ?, ?, ?, ?, ? WHERE NOT EXISTS (SELECT 1 FROM audit WHERE ` + recentEntry + `)`

// commitOnce writes a batch in one transaction. Within it the entries are checked and inserted in
// arrival order, so two requests of the same person, item and field in one batch still leave one entry.
// If the transaction fails, every request of the batch gets the error (nothing of it was written).
func (d *DB) commitOnce(ctx context.Context, batch []*onceReq) {
	prepared, err := d.writerStmt(auditOnceInsert)
	if err == nil {
		err = d.Tx(ctx, func(tx *sql.Tx) error {
			insert := tx.StmtContext(ctx, prepared)
			for _, o := range batch {
				e := o.e
				e.UserAgent = auditUserAgent(e.UserAgent)
				var org any
				if e.OrgID != 0 {
					org = e.OrgID
				}
				res, err := insert.ExecContext(ctx,
					append([]any{e.At.Unix(), e.ActorID, e.ActorName, org, e.Action, e.Target, e.Field, e.IP, e.UserAgent, e.StaffOnly},
						recentEntryArgs(e.ActorID, e.Action, o.itemID, e.At.Add(-o.window), e.Field, e.StaffOnly)...)...)
				if err != nil {
					return err
				}
				n, err := res.RowsAffected()
				if err != nil {
					return err
				}
				o.wrote = n == 1
			}
			return nil
		})
	}
	for _, o := range batch {
		if err != nil {
			o.wrote, o.err = false, err
		}
	}
}

// AuditFilter narrows the audit list.
type AuditFilter struct {
	OrgID  int64  // 0: all organisations (staff only)
	Action string // prefix, e.g. "login"; the whole name when ActionExact
	// ActionExact matches Action as a whole ("docs.reveal" without "docs.reveal_old").
	ActionExact bool
	Limit       int
	Before      int64 // id for paging: entries older than this
	// CustomerView leaves out entries about staff-only items.
	CustomerView bool
}

// AuditList returns entries, newest first.
func (d *DB) AuditList(ctx context.Context, f AuditFilter) ([]AuditEntry, error) {
	if f.Limit <= 0 || f.Limit > 500 {
		f.Limit = 100
	}
	q := `SELECT a.id, a.at, COALESCE(a.actor_id, 0), a.actor_name, COALESCE(a.org_id, 0), COALESCE(o.name, ''),
		a.action, a.target, a.field, a.ip, a.user_agent, a.staff_only FROM audit a LEFT JOIN orgs o ON o.id = a.org_id WHERE 1=1`
	var args []any
	if f.OrgID != 0 {
		q += ` AND a.org_id = ?`
		args = append(args, f.OrgID)
	}
	if f.Action != "" && f.ActionExact {
		q += ` AND a.action = ?`
		args = append(args, f.Action)
	} else if f.Action != "" {
		q += ` AND a.action LIKE ? ESCAPE '\'`
		args = append(args, escapeLike(f.Action)+"%")
	}
	if f.CustomerView {
		q += ` AND a.staff_only = 0`
	}
	if f.Before > 0 {
		q += ` AND a.id < ?`
		args = append(args, f.Before)
	}
	q += ` ORDER BY a.id DESC LIMIT ?`
	args = append(args, f.Limit)
	rows, err := d.R.QueryContext(ctx, q, args...)
	if err != nil {
		return nil, err
	}
	defer rows.Close()
	var out []AuditEntry
	for rows.Next() {
		var e AuditEntry
		var at int64
		if err := rows.Scan(&e.ID, &at, &e.ActorID, &e.ActorName, &e.OrgID, &e.OrgName, &e.Action, &e.Target, &e.Field, &e.IP, &e.UserAgent, &e.StaffOnly); err != nil {
			return nil, err
		}
		e.At = time.Unix(at, 0)
		out = append(out, e)
	}
	return out, rows.Err()
}

func escapeLike(s string) string {
	r := make([]rune, 0, len(s))
	for _, c := range s {
		if c == '%' || c == '_' || c == '\\' {
			r = append(r, '\\')
		}
		r = append(r, c)
	}
	return string(r)
}
